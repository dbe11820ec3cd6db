/* webhooks.h -- the webhooks daemon's state and the interfaces between
 * its files.
 *
 * The rooms, top to bottom; a file calls only files below it:
 *
 *   main.c           configuration, sockets, the loop
 *   handlers.c       the method table and health
 *   subscriptions.c  AddSubscription, ListSubscriptions, Pause, Resume,
 *                    Remove
 *   deliveries.c     ReplayDeliveries, ListDeliveries
 *   frame.c          what the methods share: the subscription as a reply,
 *                    the scope check, the idempotent run, the sealed secret
 *   engine.c         the deliveries themselves: each subscription's next
 *                    event, its attempt, the outcome, the cursor
 *   feed.c           the events: meso_subscriber for the live feed, a ring
 *                    of recent events per stream, events.Replay for the rest
 *   http.c           libcurl's multi interface inside the daemon's poll loop
 *   store.c          the SQL of the webhooks schema, and only there
 *   sign.c, retry.c, rules.c, body.c   pure decisions (logic.h)
 *
 * One thread: the ROUTER, the feed's SUB socket and curl's sockets are
 * polled together, and nothing blocks on a receiver (a hung one holds a
 * transfer slot until MESO_WEBHOOKS_TIMEOUT_MS, never the loop). */
#ifndef WEBHOOKS_WEBHOOKS_H
#define WEBHOOKS_WEBHOOKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <czmq.h>

#include "logic.h"
#include "meso/bus.h"
#include "meso/db.h"
#include "meso/idem.h"
#include "webhooks.pb-c.h"

#define WEBHOOKS_SCHEMA "webhooks"
#define WEBHOOKS_SEAL_FILE "webhooks.seal"
#define WH_SEAL_KEY_BYTES 32
#define WH_DESCRIPTION_MAX 200

typedef struct wh_engine_t wh_engine_t;
typedef struct wh_feed_t wh_feed_t;
typedef struct wh_http_t wh_http_t;

typedef struct {
    meso_db_t *db;                  /* requests */
    meso_bus_server_t *server;
    wh_engine_t *engine;            /* told of changes made here */
    uint8_t seal[WH_SEAL_KEY_BYTES];/* <keys>/webhooks.seal */
    bool allow_insecure;            /* MESO_WEBHOOKS_ALLOW_INSECURE_TLS */
} webhooks_t;

/* ---- handlers.c ---- */
extern const meso_method_t webhooks_methods[];
void webhooks_health (Meso__V1__HealthReply *health, void *arg);

/* ---- subscriptions.c ---- */
meso_handler_fn webhooks_add_subscription;
meso_handler_fn webhooks_list_subscriptions;
meso_handler_fn webhooks_pause_subscription;
meso_handler_fn webhooks_resume_subscription;
meso_handler_fn webhooks_remove_subscription;

/* ---- deliveries.c ---- */
meso_handler_fn webhooks_replay_deliveries;
meso_handler_fn webhooks_list_deliveries;

/* ---- frame.c ---- */

/* A subscription row (store.c's SUB_COLUMNS) as a message, with the
 * storage its pointers use. */
typedef struct {
    Meso__V1__Subscription sub;
    Meso__V1__StreamCursor cursors[WH_NSTREAMS];
    Meso__V1__StreamCursor *cursor_ptrs[WH_NSTREAMS];
    char *streams[WH_NSTREAMS];
    char *types[WH_TYPES_MAX];
    char streams_buf[64];
    char types_buf[WH_TYPES_MAX * (WH_TYPE_MAX + 1) + 8];
    char cursor_names[WH_NSTREAMS][12];
} frame_sub_t;

void frame_sub_from_row (PGresult *res, int row, frame_sub_t *out);
/* Splits a PostgreSQL text[] literal of simple words ("{a,b}") into
 * out[0..max), in buf (its own copy). Returns the count. */
size_t frame_split_array (const char *literal, char *buf, size_t bufsize, char **out, size_t max);
/* Writes "{a,b}" of items[0..n) into out. */
void frame_array_literal (char *out, size_t size, char *const *items, size_t n);
/* Loads subscription id (a UUID), checks the caller may act in its clinic
 * (PERMISSION_DENIED otherwise; NOT_FOUND when absent). Returns the row's
 * result (PQclear it) or NULL with reply set. */
PGresult *frame_sub_load (meso_db_t *db, meso_reply_t *reply, const char *id);
/* Required subscription id (a UUID). */
void frame_need_sub_id (meso_reply_t *reply, int *bad, const char *v);
/* One idempotent transaction around effect (meso_idem_run). */
void frame_run (webhooks_t *self, const Meso__V1__Request *req, meso_reply_t *reply, void *in,
                meso_idem_effect_fn *effect);
/* Sealed secret (nonce || box) of secret under key, in out (room for
 * WH_SECRET_BYTES + WH_SEAL_OVERHEAD). */
#define WH_SEAL_OVERHEAD (24 + 16)
void frame_seal (const uint8_t *key, const uint8_t *secret, uint8_t *out);
/* The secret of sealed[0..len) into secret (WH_SECRET_BYTES). 0, or -1
 * when it does not open (another key, altered bytes). */
int frame_unseal (const uint8_t *key, const uint8_t *sealed, size_t len, uint8_t *secret);
/* Loads <dir>/webhooks.seal (64 hex digits) into key. 0, or -1 with err. */
int frame_seal_load (const char *dir, uint8_t *key, char *err, size_t errsize);

/* ---- engine.c ---- */
typedef struct {
    const char *conninfo;
    const char *events_router, *events_pub;
    long timeout_ms;
    long backoff_base_ms, backoff_cap_ms;
    long max_refused, park_after;
    long max_in_flight;
    long retention_days;            /* delivery records kept */
    const uint8_t *seal;
} wh_engine_config_t;

wh_engine_t *wh_engine_new (const wh_engine_config_t *config);
void wh_engine_destroy (wh_engine_t **self_p);
/* Reload the subscriptions at the next turn (a method changed them). */
void wh_engine_poke (wh_engine_t *self);
/* The sockets to poll (the feed's SUB, curl's), into items[0..max);
 * returns how many, and lowers *timeout_ms to when the engine wants a
 * turn. */
int wh_engine_items (wh_engine_t *self, zmq_pollitem_t *items, int max, long *timeout_ms);
/* One turn after the poll: items as filled by wh_engine_items. */
void wh_engine_turn (wh_engine_t *self, zmq_pollitem_t *items, int n);
/* Where stream (index) ends, as the feed last heard: 0 with *seq, or -1
 * when the events daemon has not answered yet. */
int wh_engine_head (wh_engine_t *self, int stream, uint64_t *seq);
/* Health notes. */
void wh_engine_describe (wh_engine_t *self, char *out, size_t size, int64_t *lag_ms);

/* ---- feed.c ---- */
wh_feed_t *wh_feed_new (const char *router, const char *pub);
void wh_feed_destroy (wh_feed_t **self_p);
/* Starts the live feed once events.Head answers, then drives it (no
 * waiting). Returns events seen, or -1. */
int wh_feed_poll (wh_feed_t *self);
/* The live feed's SUB socket, NULL before it starts. */
zsock_t *wh_feed_socket (wh_feed_t *self);
/* The packed event seq of stream (index): 1 with *raw and *len (valid until
 * the next call) and its global sequence, 0 when it is not in the log yet
 * (beyond the head), -1 when the events daemon did not answer. */
int wh_feed_get (wh_feed_t *self, int stream, uint64_t seq, const uint8_t **raw, size_t *len,
                 uint64_t *global);
/* The head of stream: 0, or -1 while unknown. */
int wh_feed_head (wh_feed_t *self, int stream, uint64_t *seq);
/* events.Replay requests made. */
uint64_t wh_feed_replays (wh_feed_t *self);

/* ---- http.c ---- */
/* A finished transfer: the HTTP status (0: none) and curl's error ("" when
 * an answer came). */
typedef void (wh_http_done_fn) (void *tag, int http_status, const char *error, int64_t duration_ms,
                                void *arg);
wh_http_t *wh_http_new (long timeout_ms, wh_http_done_fn *fn, void *arg);
void wh_http_destroy (wh_http_t **self_p);
/* POSTs body (taken: free()d when done) to url with headers (taken:
 * curl_slist_free_all). tag names the transfer in the callback and in
 * wh_http_cancel. 0, or -1 (nothing taken is leaked). */
int wh_http_post (wh_http_t *self, void *tag, const char *url, bool insecure, void *headers,
                  char *body, size_t len);
/* Drops the transfer of tag, without a callback. */
void wh_http_cancel (wh_http_t *self, void *tag);
/* curl's sockets into items[0..max) (returns how many) and *timeout_ms
 * lowered to curl's own timer. */
int wh_http_items (wh_http_t *self, zmq_pollitem_t *items, int max, long *timeout_ms);
/* After the poll: act on the ready sockets and the timer, then report
 * every finished transfer. */
void wh_http_turn (wh_http_t *self, zmq_pollitem_t *items, int n);
int wh_http_running (wh_http_t *self);

/* ---- store.c ---- */
#define SUB_COLUMNS \
    "s.subscription_id, s.clinic_id, s.url, s.streams::text, s.event_types::text, s.include_health, " \
    "s.state, s.description, (extract(epoch FROM s.created_at) * 1000000)::bigint, s.created_by, " \
    "s.parked_reason, s.failures, s.insecure_tls, s.version, s.secret_sealed, " \
    "(SELECT coalesce(string_agg(c.stream || ':' || c.seq, ',' ORDER BY c.stream), '') " \
    " FROM webhooks.cursor c WHERE c.subscription_id = s.subscription_id)"
enum {
    SUB_ID, SUB_CLINIC, SUB_URL, SUB_STREAMS, SUB_TYPES, SUB_HEALTH, SUB_STATE, SUB_DESCRIPTION,
    SUB_CREATED, SUB_CREATED_BY, SUB_PARKED_REASON, SUB_FAILURES, SUB_INSECURE, SUB_VERSION,
    SUB_SECRET, SUB_CURSORS
};

typedef struct {
    const char *id, *clinic, *url, *streams, *types, *description, *created_by;
    bool include_health, insecure;
    const uint8_t *sealed;
    size_t sealed_len;
} store_sub_new_t;

int store_sub_insert (meso_db_t *db, const store_sub_new_t *s);
/* Sets the cursor of stream to seq, or to the stream's head as far as the
 * subscription may know it (from_head: seq given by the caller). */
int store_cursor_set (meso_db_t *db, const char *id, const char *stream, uint64_t seq);
PGresult *store_sub_get (meso_db_t *db, const char *id, bool for_update);
PGresult *store_sub_page (meso_db_t *db, const char *clinic, const char *after_created,
                          const char *after_id, int limit);
PGresult *store_sub_all (meso_db_t *db);
/* state = new_state, version + 1, and failures/parked_reason cleared when
 * clear. Returns 0 or -1. */
int store_sub_set_state (meso_db_t *db, const char *id, const char *state, bool clear);
int store_sub_delete (meso_db_t *db, const char *id);
typedef struct {
    const char *sub, *event_id, *event_type, *stream;
    uint64_t seq;
    uint32_t attempt;
    const char *outcome;
    int http_status;
    const char *error;
    int64_t duration_ms;
} store_delivery_t;
int store_delivery_insert (meso_db_t *db, const store_delivery_t *d);
/* The engine's move of a cursor, only while the subscription is at
 * version (an operator's replay may have set it since). */
int store_cursor_advance (meso_db_t *db, const char *id, const char *stream, uint64_t seq,
                          int64_t version);
/* The engine's record of a failed attempt: failures, and on park the
 * state and its reason (state NULL: unchanged), while at version. Does
 * not move version. */
int store_sub_failed (meso_db_t *db, const char *id, uint32_t failures, const char *state,
                      const char *reason, int64_t version);
PGresult *store_delivery_page (meso_db_t *db, const char *sub, bool parked, const char *before_id,
                               int limit);
/* Deletes at most batch delivery records older than days, except those
 * that parked a subscription still parked (what an operator looks at
 * before replaying). Returns how many, or -1. */
int store_delivery_purge (meso_db_t *db, long days, int batch);

#endif
