/* engine_private.h -- the engine's state, shared by engine.c (the
 * subscriptions as loaded, the deliverer lock, the turn, metrics and
 * health) and deliver.c (each subscription's next event, its attempt and
 * what the attempt came to). engine.c calls deliver.c, never the other
 * way. */
#ifndef WEBHOOKS_ENGINE_PRIVATE_H
#define WEBHOOKS_ENGINE_PRIVATE_H

#include <curl/curl.h>

#include "webhooks.h"

/* wh_sub_t.state */
enum { WH_SUB_ACTIVE = 0, WH_SUB_PAUSED = 1, WH_SUB_PARKED = 2 };

/* One subscription as the engine holds it: its row (reloaded when its
 * version moves), its cursors in memory and as stored, and the event it
 * is delivering. */
typedef struct {
    char id[37];
    int64_t version;
    char clinic[65];
    char *url;
    bool follows[WH_NSTREAMS];
    char types_buf[WH_TYPES_MAX * (WH_TYPE_MAX + 1) + 8];
    char *types[WH_TYPES_MAX];
    size_t ntypes;
    bool include_health, insecure;
    int state;
    uint8_t secret[WH_SECRET_BYTES];
    bool secret_ok;
    uint64_t cursor[WH_NSTREAMS];   /* delivered or passed over */
    uint64_t saved[WH_NSTREAMS];    /* as stored */
    /* the event at the head of the queue, once wanted */
    bool pending;
    int p_stream;
    uint64_t p_seq;
    char p_id[65], p_type[65];
    int64_t p_occurred_s;
    bool busy;                      /* a transfer in flight */
    bool settling;                  /* its finished attempt waits to be recorded */
    uint32_t attempt;               /* attempts made on the pending event */
    int64_t next_ms;                /* not before (back-off) */
    bool seen;
} wh_sub_t;

/* A finished attempt waiting for deliver_flush. */
typedef struct {
    wh_sub_t *s;
    wh_outcome_t outcome;
    int http_status;
    char error[CURL_ERROR_SIZE + 32];
    int64_t duration_ms;
} wh_done_t;

struct wh_engine_t {
    wh_engine_config_t cfg;
    meso_db_t *db;
    wh_feed_t *feed;
    wh_http_t *http;
    wh_sub_t **subs;
    size_t n, cap;
    bool active, poked, feed_item;
    int64_t next_lock_ms, next_reload_ms, next_save_ms, next_metrics_ms, next_purge_ms;
    uint64_t delivered, failed, parked;
    wh_done_t *done;                /* finished attempts of this turn */
    size_t ndone, done_cap;
};

/* ---- deliver.c ---- */
/* Starts an attempt for every active subscription that is free to send. */
void deliver_dispatch (wh_engine_t *self);
/* A finished transfer (wh_http_done_fn): its outcome, recorded. */
void deliver_done (void *tag, int http_status, const char *error, int64_t duration_ms, void *arg);
/* Saves cursors moved over events the subscriptions did not want. */
void deliver_save (wh_engine_t *self);
/* Records the attempts finished since the last call, in one transaction,
 * and applies their outcomes. */
void deliver_flush (wh_engine_t *self);

#endif
