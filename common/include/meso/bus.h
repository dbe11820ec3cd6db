/* bus.h -- the request/reply bus: a ROUTER server and a DEALER client.
 *
 * Wire format (see proto/meso/v1/rpc.proto): a client sends two frames,
 * an empty delimiter and one packed meso.v1.Request; the server answers on
 * the same route with an empty delimiter and one packed meso.v1.Reply. (A
 * REQ socket in any language speaks this too.) Every request gets exactly
 * one reply: an undecodable frame, an unknown method, a frame over the size
 * cap, a missing request id or method each get an error reply with the
 * right status and a message a person can act on.
 *
 * Ownership: the server owns its sockets; handlers borrow the request and
 * fill a reply the server owns. The client owns its socket; results own
 * their unpacked reply until meso_result_reset(). */
#ifndef MESO_BUS_H
#define MESO_BUS_H

#include <czmq.h>
#include <protobuf-c/protobuf-c.h>
#include <stdint.h>
#include <stdbool.h>
#include "meso/status.h"
#include "rpc.pb-c.h"

/* Largest request or reply the bus accepts, in bytes. Frames up to 4x this
 * are read and refused with RESOURCE_EXHAUSTED; larger ones make libzmq drop
 * the connection (ZMQ_MAXMSGSIZE). */
#define MESO_BUS_MAX_FRAME (1024 * 1024)

/* Longest Request.actor.id the server accepts, in bytes: the actor is
 * copied into every event a request causes, so it is bounded (and
 * stripped of unknown fields) when the envelope is decoded. */
#define MESO_ACTOR_ID_MAX 128

/* ---------------------------------------------------------------- reply */

/* What a handler fills. Starts as OK with no body. */
typedef struct meso_reply_t meso_reply_t;

/* A standalone reply (the server makes its own; tests and tools use these).
 * Returns NULL on out-of-memory. */
meso_reply_t *meso_reply_new (void);
void meso_reply_destroy (meso_reply_t **self_p);

/* Sets status OK and packs body (may be NULL for an empty body). */
void meso_reply_ok (meso_reply_t *reply, const ProtobufCMessage *body);
/* Sets status OK with an already packed body (copied). */
void meso_reply_ok_bytes (meso_reply_t *reply, const uint8_t *data, size_t len);
/* The message type of the body the last meso_reply_ok packed; NULL after
 * meso_reply_ok_bytes (bytes packed elsewhere: a stored reply), an empty
 * body, an error or a reset. The bus server compares it with the rpc's
 * output type (meso/contract.h). */
const ProtobufCMessageDescriptor *meso_reply_body_type (const meso_reply_t *reply);
/* Sets an error status and its one-line message. */
void meso_reply_error (meso_reply_t *reply, meso_status_t status, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));
/* Sets the detail line. */
void meso_reply_detail (meso_reply_t *reply, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));
/* Adds a reason (code, field may be NULL). */
void meso_reply_reason (meso_reply_t *reply, const char *code, const char *field,
                        const char *fmt, ...)
    __attribute__ ((format (printf, 4, 5)));
/* The reason code of an ABORTED reply saying that a request with the same
 * idempotency key is being served right now (a booking saga running): a
 * client that resent its request after an attempt timeout meets its own
 * first attempt. meso_bus_client_call keeps waiting (and resending) for
 * that attempt's reply until its deadline instead of returning it. */
#define MESO_REASON_IN_PROGRESS "in_progress"
/* Back to OK with no body, message, detail or reasons (a transaction
 * callback calls this at its start, since it may run more than once). */
void meso_reply_reset (meso_reply_t *reply);
/* Current status. */
int meso_reply_status (const meso_reply_t *reply);
/* Sets the error from the database handle's last error: status from
 * meso_db_status, message = what + database message, detail = SQLSTATE and
 * the database detail. */
struct meso_db_t;
void meso_reply_db_error (meso_reply_t *reply, struct meso_db_t *db, const char *what);

/* The packed reply envelope without request_id (for the idempotency store)
 * and its inverse. meso_reply_pack returns a malloc'd buffer (NULL on
 * out-of-memory). meso_reply_unpack_into replaces everything in reply and
 * marks it replayed (Reply.replayed = true: a stored reply read back is a
 * replay); it returns -1, leaving reply unchanged, when data does not
 * decode. */
uint8_t *meso_reply_pack (const meso_reply_t *reply, size_t *len);
int meso_reply_unpack_into (meso_reply_t *reply, const uint8_t *data, size_t len);

/* --------------------------------------------------------------- server */

typedef struct meso_bus_server_t meso_bus_server_t;

/* A handler: validate, do the work, fill reply. body is req->body decoded
 * by the server as the method's input type (meso_method_t.input), owned by
 * the server and freed after the handler returns; NULL when the method
 * declares no input type (the handler then reads req->body itself). With
 * workers (meso_bus_server_start) several handlers run at once, each in
 * its worker's thread with that worker's arg; without, one at a time in
 * the thread that calls meso_bus_server_handle. */
typedef void (meso_handler_fn) (const Meso__V1__Request *req, void *body, meso_reply_t *reply,
                                void *arg);

typedef enum {
    MESO_METHOD_READ = 0,       /* no effect; idempotency key optional */
    MESO_METHOD_MUTATING = 1    /* idempotency key required */
} meso_method_kind_t;

/* Where a method's request names its clinic (meso_method_t.scope), when
 * it is not a field path such as "clinic_id" or "spec.clinic_id". */
#define MESO_SCOPE_HANDLER "@handler"   /* the handler finds the clinic (from the
                                           appointment, patient...) and calls
                                           meso_call_need_clinic before any effect */
#define MESO_SCOPE_CHAIN "@chain"       /* chain-wide data: only principals of
                                           every clinic */

/* meso_method_t.flags */
#define MESO_METHOD_HEALTH_DATA 1u      /* the reply carries health data: the
                                           principal must be allowed to see it */
/* Every method says whether it reads or changes a patient's data: exactly
 * one of these two (unit_test_audit_classified walks every table). A
 * patient method gets one audit row per patient it touches (meso/audit.h);
 * its patient is at meso_method_t.patient. */
#define MESO_METHOD_PATIENT (1u << 1)
#define MESO_METHOD_NO_PATIENT (1u << 2)

/* meso_method_t.patient when the handler learns the patient itself (from
 * the appointment, invoice...) and reports it with meso_call_patient. */
#define MESO_PATIENT_HANDLER "@handler"

/* A role bit outside access.h's eight: callers of a plaintext endpoint
 * (no key, no principal) may call methods that carry it. */
#define MESO_ROLE_ANONYMOUS (1u << 8)

typedef struct {
    const char *name;           /* full method name, "scheduling.BookCourse" */
    meso_handler_fn *fn;
    meso_method_kind_t kind;
    /* The request message. The server decodes the body with it before the
     * handler runs, so no handler repeats the unpack: a body that does not
     * decode is answered INVALID_ARGUMENT (meso_handler_undecodable) and the
     * handler is not called. */
    const ProtobufCMessageDescriptor *input;
    /* The roles that may call it (MESO_ROLE_* of access.h); 0: nobody. */
    unsigned roles;
    /* Where the request names its clinic: a path of string fields in the
     * input ("clinic_id", "spec.clinic_id"), MESO_SCOPE_HANDLER,
     * MESO_SCOPE_CHAIN, or NULL (not about one clinic: any principal with
     * the role). The server refuses a clinic outside the caller's scope
     * before the handler runs. */
    const char *scope;
    unsigned flags;             /* MESO_METHOD_HEALTH_DATA, MESO_METHOD_PATIENT or
                                   MESO_METHOD_NO_PATIENT */
    /* For a MESO_METHOD_PATIENT method: the path of the string field naming
     * the patient ("patient_id", "spec.patient_id"), or MESO_PATIENT_HANDLER.
     * Patients the handler reports (meso_call_patient) are used instead of
     * the field's when there are any. Optional: entries that end before it
     * leave it NULL. */
    const char *patient;
} meso_method_t;

/* Health hook: fills the service-specific parts (lag_ms, state, notes) of
 * a health reply; db_ok/db_error are filled by the server from the db handle
 * given to meso_bus_server_new, before the hook runs. */
typedef void (meso_health_fn) (Meso__V1__HealthReply *health, void *arg);

/* Creates a server named service (e.g. "events") bound to endpoint (e.g.
 * "tcp://0.0.0.0:7105"). methods is a table ending with a {NULL} entry; it must
 * outlive the server. arg is passed to every handler. db (may be NULL) is
 * pinged by the built-in Health method. Returns NULL (and logs why) when
 * the endpoint cannot be bound. */
meso_bus_server_t *meso_bus_server_new (const char *service, const char *endpoint,
                                        const meso_method_t *methods, void *arg,
                                        struct meso_db_t *db);
void meso_bus_server_destroy (meso_bus_server_t **self_p);

void meso_bus_server_set_health (meso_bus_server_t *self, meso_health_fn *fn, void *arg);

/* The ROUTER socket, to put in a caller's own zmq_poll / zpoller. */
zsock_t *meso_bus_server_socket (meso_bus_server_t *self);

/* Reads and answers every request that is ready without blocking. Returns
 * the number served, or -1 when interrupted. */
int meso_bus_server_handle (meso_bus_server_t *self);

/* Serves until SIGINT/SIGTERM (zsys_interrupted) or meso_bus_server_stop.
 * When tick is non-NULL it is called at least every tick_ms milliseconds.
 * Returns 0. */
typedef void (meso_tick_fn) (void *arg);
int meso_bus_server_run (meso_bus_server_t *self, meso_tick_fn *tick, void *tick_arg, int tick_ms);
void meso_bus_server_stop (meso_bus_server_t *self);

/* Requests answered so far (all statuses). */
uint64_t meso_bus_server_served (meso_bus_server_t *self);

/* ------------------------------------------------------------- workers
 *
 * A server with workers (DESIGN, "Inside a daemon: concurrency"): a
 * routing thread owns the ROUTER and only routes; each worker thread
 * serves one request at a time with state of its own (its connection, its
 * bus clients, its prepared statements), made by init in the worker's
 * thread. The routing thread puts requests on one queue that every
 * worker takes from (no request waits behind a slow one while another
 * worker is free), at most MESO_WORKER_QUEUE per worker; the rest wait in
 * the ROUTER's queue. Replies leave in the order they are ready; clients
 * match them by request id. */

/* Makes worker index's handler arg (*worker_arg) and its connection (*db,
 * pinged by Health and used for audit rows) from arg. Runs in the
 * worker's thread; returns 0, or -1 (logged) when the worker cannot
 * start. */
typedef int (meso_worker_init_fn) (void *arg, int index, void **worker_arg,
                                   struct meso_db_t **db);
/* Frees what init made; runs in the worker's thread. */
typedef void (meso_worker_fini_fn) (void *arg, void *worker_arg);

/* Starts workers threads (1..MESO_BUS_WORKERS_MAX) that serve the
 * server's requests from now on; the caller's thread must no longer use
 * meso_bus_server_socket or meso_bus_server_handle (handle returns 0).
 * The health hook's arg, when it is the server's handler arg, becomes the
 * serving worker's. Returns 0, or -1 when a worker could not start (none
 * runs then). */
#define MESO_BUS_WORKERS_MAX 64
int meso_bus_server_start (meso_bus_server_t *self, int workers, meso_worker_init_fn *init,
                           meso_worker_fini_fn *fini, void *arg);
/* Graceful stop: takes no new request, waits for the requests in flight
 * to be answered and their replies sent, then stops the workers.
 * meso_bus_server_run does it when it returns; destroy does it too. */
void meso_bus_server_drain (meso_bus_server_t *self);
/* Number of workers of a server (0: none started). */
int meso_bus_server_workers (meso_bus_server_t *self);

/* MESO_WORKERS: a daemon's worker count; 0 means one per online core. */
#define MESO_WORKERS_OPT \
    { "workers", "MESO_WORKERS", "0", \
      "request worker threads, each with its own database connection (1..64; " \
      "0: one per online core)", NULL }
/* The count for a configured value: value itself when 1..MAX, else the
 * online cores (at most MAX). */
int meso_bus_workers_resolve (long value);

/* MESO_WORKER_QUEUE: requests a server's pool takes from the ROUTER per
 * worker (being served or waiting for the next free worker); the rest
 * wait in the ROUTER. The count for a configured value: the value when
 * 1..MESO_BUS_QUEUE_MAX, else MESO_BUS_QUEUE_DEFAULT (NULL or "" too). */
#define MESO_BUS_QUEUE_DEFAULT 4
#define MESO_BUS_QUEUE_MAX 64
int meso_bus_queue_resolve (const char *value);

/* The send high-water mark a server gives each peer for a per-peer byte
 * budget: budget / MESO_BUS_MAX_FRAME replies, at least 1, at most 10000.
 * Servers read the budget from MESO_BUS_PEER_BUDGET (bytes, default 64
 * MiB); replies beyond it to a peer that does not read are dropped and
 * counted (meso_bus_replies_dropped_total). */
int meso_bus_peer_hwm (long long budget);

/* --------------------------------------------------------------- client */

typedef struct meso_bus_client_t meso_bus_client_t;

/* The outcome of a call. */
typedef struct {
    int status;                 /* meso_status_t, or MESO_DEADLINE_EXCEEDED /
                                   MESO_UNAVAILABLE when no reply came, or
                                   MESO_UNAUTHENTICATED when every endpoint
                                   refused the handshake ("not authorised
                                   by <endpoint>") */
    Meso__V1__Reply *reply;     /* NULL when no reply came; owned here */
    char message[256];          /* reply message, or why there is no reply */
} meso_result_t;

/* The reply body of a result, NULL-safe: data and len of reply->body. */
const uint8_t *meso_result_body (const meso_result_t *r, size_t *len);
/* Frees the unpacked reply; the result can be reused. */
void meso_result_reset (meso_result_t *r);

/* Creates a client of service ("scheduling") connected to one or more of
 * its endpoints, comma-separated ("tcp://10.0.0.1:7101,tcp://10.0.0.2:7101").
 * Requests are spread over the connected endpoints (ZMQ_IMMEDIATE, so
 * nothing queues to a peer that is down). The connection is CURVE with the
 * process's key pair and service's server key (curve.h), except to an
 * endpoint listed in MESO_PLAINTEXT_ENDPOINTS. A request made while the
 * thread serves a request of its own carries that request's principal as
 * the person it is made for (Actor.id: "on behalf of"). Returns NULL (and
 * logs why) when no endpoint or key is usable. */
meso_bus_client_t *meso_bus_client_new (const char *service, const char *endpoints);
/* The same with another key pair than the process's (tests, tools acting
 * for a principal whose key they hold). identity is copied. */
meso_bus_client_t *meso_bus_client_new_as (const char *service, const char *endpoints,
                                           zcert_t *identity);
void meso_bus_client_destroy (meso_bus_client_t **self_p);

/* How long to wait for one attempt before sending the same request again
 * (default 1000 ms). The total for a call is its deadline. */
void meso_bus_client_set_attempt_timeout (meso_bus_client_t *self, int ms);

/* Calls method with body (NULL: empty) and waits up to deadline_ms in
 * total. On an attempt timeout the same request (same request id, same
 * idempotency key) is sent again, so the server's idempotency store makes
 * the effect happen once. idempotency_key may be NULL for read methods.
 * Returns 0 when a reply with status OK arrived, -1 otherwise; result is
 * always filled (reset it before reuse). */
int meso_bus_client_call (meso_bus_client_t *self, const char *method,
                          const ProtobufCMessage *body, const char *idempotency_key,
                          int deadline_ms, meso_result_t *result);

/* Low-level pipelining, for several requests in flight (benchmarks, fan
 * out): send one request without waiting; the request id is written to
 * request_id (at least 40 bytes). recv waits up to timeout_ms for the next
 * reply, whatever request it answers. Both return 0 or -1. */
int meso_bus_client_send (meso_bus_client_t *self, const char *method,
                          const ProtobufCMessage *body, const char *idempotency_key,
                          int deadline_ms, char *request_id);
int meso_bus_client_recv (meso_bus_client_t *self, int timeout_ms, meso_result_t *result);

/* Decodes and validates one request frame: a meso.v1.Request with a
 * non-empty request_id (at most 64 bytes), a non-empty method (at most 128
 * bytes) and an idempotency_key of at most 128 bytes. This is the whole
 * decoding path of the server (and what tests/fuzz drives). Returns 0 with
 * *out set (free with meso__v1__request__free_unpacked (*out, NULL)), or
 * -1 with *out NULL and a message for the reply in err; *field names the
 * offending field ("" when the frame itself is broken). */
int meso_wire_decode_request (const uint8_t *data, size_t len, Meso__V1__Request **out,
                              char *err, size_t errsize, const char **field);

/* Reads the request_id (field 1) of a packed Request without unpacking the
 * rest; for answering frames that do not decode or are too large. Returns
 * 0 and copies at most size-1 bytes, or -1. */
int meso_wire_peek_request_id (const uint8_t *data, size_t len, char *out, size_t size);

#endif
