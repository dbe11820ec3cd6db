/* bus_private.h -- what reply.c, wire.c, bus_server.c and bus_client.c
 * share but the rest of libmeso does not need: building the wire envelope
 * from a meso_reply_t without copying, and the UTF-8 check that keeps
 * strings we echo back valid for strict proto3 decoders. */
#ifndef MESO_BUS_PRIVATE_H
#define MESO_BUS_PRIVATE_H

#include "meso/bus.h"
#include "meso/access.h"
#include <stdatomic.h>

/* Points env (already initialised with MESO__V1__REPLY__INIT) at the
 * reply's fields: no copy, valid until the reply is changed. request_id is
 * borrowed too (may be NULL). */
void meso_reply_envelope (meso_reply_t *reply, Meso__V1__Reply *env, const char *request_id);

/* The reply's one-line message ("" when none). */
const char *meso_reply_message (const meso_reply_t *reply);

/* True when the len bytes at s are valid UTF-8 (what proto3 requires of a
 * string field) and contain no NUL. */
bool meso_utf8_valid (const char *s, size_t len);

/* meso_wire_decode_request with the allocator protobuf-c unpacks with
 * (NULL: malloc); *out is then freed with
 * meso__v1__request__free_unpacked (*out, allocator). The server passes
 * an arena it reuses for every request. */
int meso_wire_decode_request_with (const uint8_t *data, size_t len,
                                   ProtobufCAllocator *allocator, Meso__V1__Request **out,
                                   char *err, size_t errsize, const char **field);

/* The per-peer byte budget from MESO_BUS_PEER_BUDGET, or the default
 * (bus_budget.c); a malformed value is logged and ignored. */
long long meso_bus_peer_budget (void);

/* Answers Health into reply (bus_health.c): version and uptime since
 * started_ms, db pinged (may be NULL), the note pool (NULL: none; the
 * workers' connections), the service's hook fn (may be NULL) with arg,
 * then the checks registered in meso/health.h. */
void meso_bus_health (const char *service, int64_t started_ms, struct meso_db_t *db,
                      const char *pool, meso_health_fn *fn, void *arg, meso_reply_t *reply);

/* Decodes a method's body (req->body) as input, after checking every
 * string in it on the wire bytes (meso_wirecheck), and drops the unknown
 * fields of what it decoded. Returns 0 with *out (free it with
 * protobuf_c_message_free_unpacked (*out, NULL)), or -1 with reply set to
 * INVALID_ARGUMENT: the path of a string that is not valid UTF-8 or has a
 * NUL byte, or "body is not a packed <type>". */
int meso_wire_decode_body (const char *method, const ProtobufCMessageDescriptor *input,
                           const ProtobufCBinaryData *body, ProtobufCMessage **out,
                           meso_reply_t *reply);

/* bus_monitor.c: raises the soft RLIMIT_NOFILE to the hard limit
 * (logged); watches a ROUTER (its libzmq socket) for accept failures
 * (counted in meso_bus_accept_failed_total, logged at most every 10 s) and
 * records meso_process_open_fds / meso_process_max_fds every second, from
 * a thread of its own. Destroy the monitor before the socket. */
typedef struct meso_bus_monitor_t meso_bus_monitor_t;
void meso_fd_limit_raise (void);
meso_bus_monitor_t *meso_bus_monitor_new (void *router);
void meso_bus_monitor_destroy (meso_bus_monitor_t **self_p);

/* bus_authz.c: whether endpoint is listed in MESO_PLAINTEXT_ENDPOINTS
 * (no CURVE there, an operator's explicit choice). */
bool meso_bus_plaintext (const char *endpoint);
/* Whether principal p (NULL: a plaintext caller) may call m with body:
 * roles, health data, clinic scope. Returns 0, or -1 with reply set to
 * UNAUTHENTICATED or PERMISSION_DENIED naming what is missing. */
int meso_bus_authorize (const meso_method_t *m, const meso_principal_t *p,
                        const ProtobufCMessage *body, meso_reply_t *reply);

/* The string at path ("spec.clinic_id") in msg; "" when a message on the
 * way is absent, or when the field or a message on the way is a member
 * of a oneof other than the one set; NULL when the path does not name a
 * string field. */
const char *meso_bus_string_at (const ProtobufCMessage *msg, const char *path);

/* The authenticated caller of one request: its principal (a reference)
 * and the actor the handler sees in place of the one the client wrote. */
typedef struct {
    meso_principal_t *principal;    /* NULL on a plaintext endpoint */
    Meso__V1__Actor actor;          /* id = principal name, on_behalf_of */
    Meso__V1__Actor *saved;         /* the client's actor, put back at the end */
    bool refused;
} meso_bus_caller_t;
/* Looks up user_id (the ZAP User-Id of the connection: the Z85 key),
 * replaces req->actor with the principal's, and publishes the call to the
 * thread (meso_call_*). Returns 0, or -1 with reply UNAUTHENTICATED when
 * the key is unknown or revoked (the handshake was accepted before the
 * change). meso_bus_caller_end undoes it (always call it). */
int meso_bus_caller_begin (meso_bus_caller_t *c, const char *user_id, bool plaintext,
                           Meso__V1__Request *req, meso_reply_t *reply);
void meso_bus_caller_end (meso_bus_caller_t *c, Meso__V1__Request *req);

/* bus_watch.c: a bus client's watch on its CURVE handshakes (see its top
 * comment). new returns NULL when the socket cannot be monitored. */
typedef struct meso_bus_watch_t meso_bus_watch_t;
meso_bus_watch_t *meso_bus_watch_new (void *handle, const char *endpoints);
void meso_bus_watch_destroy (meso_bus_watch_t **self_p, void *handle);
/* How many endpoints refuse the key now (reads the events that came). */
int meso_bus_watch_refusing (meso_bus_watch_t *self);
/* Reads the events, connects refusing endpoints again, and says whether
 * all n_endpoints have refused long enough to give up. */
bool meso_bus_watch_refused (meso_bus_watch_t *self, int n_endpoints);
/* "<endpoint>: <why>" of the latest refusal. */
const char *meso_bus_watch_why (meso_bus_watch_t *self);

/* bus_arena.c: the server's request arena (a protobuf-c allocator over
 * MESO_BUS_ARENA_SIZE bytes; set used = 0 after each request; free buf at
 * the end). buf is NULL when out of memory: everything then goes to
 * malloc. */
#define MESO_BUS_ARENA_SIZE 8192   /* a typical request unpacks into a few hundred bytes */
typedef struct {
    ProtobufCAllocator base;    /* alloc, free, allocator_data = this */
    uint8_t *buf;
    size_t used;
} meso_bus_arena_t;
void meso_bus_arena_init (meso_bus_arena_t *arena);

/* ------------------------------------------------- serving (bus_server.c,
 * bus_route.c, bus_pool.c) */

#define MESO_BUS_FRAMES_KEPT 3      /* identity excluded: delimiter, payload, one extra */
#define MESO_BUS_REQUEST_ID_PEEK 65 /* the 64-byte limit, plus the NUL */

/* What one thread needs to serve requests: the handler's arg and the
 * connection it pings and audits with (a worker's own, see meso_worker_init_fn),
 * the reply, the packed reply and the request arena. Owned by one thread. */
typedef struct {
    void *arg;
    struct meso_db_t *db;
    meso_reply_t *reply;
    uint8_t *out;
    size_t out_cap;
    meso_bus_arena_t arena;
} meso_bus_slot_t;

/* One request on its way: read by the routing thread (bus_route.c),
 * served by a worker (meso_bus_serve), its reply sent by the routing
 * thread. The pool's mutex orders the two threads' writes (bus_pool.c). */
typedef struct {
    zmq_msg_t identity;
    zmq_msg_t frames [MESO_BUS_FRAMES_KEPT];
    int kept;                   /* frames kept (the rest were dropped) */
    int count;                  /* frames after the identity */
    int64_t received_us;        /* monotonic, when read */
    /* Filled by meso_bus_serve: */
    bool delimited;             /* answer with an empty delimiter first */
    zmq_msg_t reply;            /* the packed reply; meso_bus_send sends or closes it */
    char request_id [MESO_BUS_REQUEST_ID_PEEK];
} meso_bus_job_t;

typedef struct meso_bus_pool_t meso_bus_pool_t;

struct meso_bus_server_t {
    char *service;
    char *health_method;        /* "<service>.Health" */
    char *endpoint;
    zsock_t *router;
    void *handle;               /* the libzmq socket inside router */
    const meso_method_t *methods;
    char *method_list;          /* "demo.Echo, demo.Get, ..." for NOT_FOUND */
    meso_health_fn *health_fn;
    void *health_arg;
    meso_bus_slot_t slot;       /* serving in the caller's thread (no pool) */
    meso_bus_pool_t *pool;      /* worker threads; NULL: none started */
    int workers;                /* how many (set before they start) */
    /* Per worker: 1 when its connection was up after its last request
     * (bus_pool.c writes, Health reads: a worker never touches another's
     * connection). */
    atomic_int worker_db_ok [MESO_BUS_WORKERS_MAX];
    meso_bus_monitor_t *monitor;    /* accept failures, descriptors */
    atomic_uint_fast64_t served;
    uint64_t drops_unlogged;    /* replies dropped since the last log line
                                   (the routing thread's) */
    int64_t drop_log_at;        /* monotonic ms: no drop line before this */
    int sndhwm;
    bool plaintext;             /* MESO_PLAINTEXT_ENDPOINTS names this endpoint */
    int64_t started_ms;
    atomic_int stopped;
};

int64_t meso_bus_now_us (void);

/* Sets up and frees a slot (0, or -1 on out-of-memory). */
int meso_bus_slot_init (meso_bus_slot_t *slot, void *arg, struct meso_db_t *db);
void meso_bus_slot_fini (meso_bus_slot_t *slot);

/* Serves job with slot: decode, authorise, dispatch, pack, log, count.
 * Leaves the reply in job->reply; the caller sends it
 * (meso_bus_send) and closes the frames (meso_bus_job_close). */
void meso_bus_serve (meso_bus_server_t *self, meso_bus_slot_t *slot, meso_bus_job_t *job);

/* bus_route.c: reads one whole message into job (0: nothing waiting, 1:
 * read, -1: EINTR or a socket error); sends job's reply (counting and
 * logging a drop); closes job's frames. */
int meso_bus_recv (meso_bus_server_t *self, meso_bus_job_t *job);
void meso_bus_send (meso_bus_server_t *self, meso_bus_job_t *job);
void meso_bus_job_close (meso_bus_job_t *job);

/* bus_pool.c: the worker threads (see bus.h, meso_bus_server_start). */
int meso_bus_pool_start (meso_bus_server_t *self, int workers, meso_worker_init_fn *init,
                         meso_worker_fini_fn *fini, void *arg, meso_bus_pool_t **pool_p);
void meso_bus_pool_drain (meso_bus_pool_t **pool_p);

#endif
