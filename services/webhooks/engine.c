/* engine.c -- the deliveries: for each active subscription, its next
 * event, one attempt at a time, the outcome, the cursor.
 *
 * Each subscription is a small state machine: idle (looking for its next
 * event), in flight (one transfer, never two: order per subscription),
 * waiting (a back-off after a failure), parked or paused (nothing moves).
 * Many subscriptions are in flight at once (at most --max-in-flight
 * transfers), each on its own curl handle, so a slow or hung receiver
 * holds only its own subscription.
 *
 * Order: within a stream by sequence; across the streams of one
 * subscription by the global sequence of the next event of each (the
 * events daemon numbers both in one statement, so what is visible of one
 * stream is never overtaken by a later event of another).
 *
 * At least once: the cursor of a stream moves in PostgreSQL only after
 * the receiver answered 2xx, in the transaction that records the
 * attempt; a daemon killed at any point starts again from the stored
 * cursor, so the event in flight is sent again, never skipped (receivers
 * deduplicate by Meso-Event-Id). Events the subscription does not want
 * (another clinic, another type) move the cursor in memory and are saved
 * within a second; after a crash they are only examined again.
 *
 * One deliverer: the engine works only while it holds a PostgreSQL
 * advisory lock (session level, on its own connection), so a second
 * instance of the daemon serves the methods and stands by; it takes over
 * when the first one's connection dies. A subscription changed by an
 * operator moves its version; the engine drops its copy (and a transfer
 * in flight) and reloads it with the stored cursors, and its own writes
 * are conditional on the version it read, so a replay is never undone by
 * an attempt that finished after it.
 *
 * This file: the subscriptions as loaded, the lock, the turn, metrics and
 * health; deliver.c: each subscription's attempts (engine_private.h). */
#include "engine_private.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meso/log.h"
#include "meso/metrics.h"
#include "meso/mtime.h"

#define LOCK_KEY "7107007"          /* pg_try_advisory_lock key of the deliverer */
#define RELOAD_MS 1000
#define SAVE_MS 1000
#define METRICS_MS 1000
#define PURGE_MS 60000
#define PURGE_BATCH 1000

/* ------------------------------------------------------ subscriptions */

static void
s_sub_free (wh_engine_t *self, wh_sub_t *s)
{
    if (s->busy)
        wh_http_cancel (self->http, s);
    sodium_memzero (s->secret, sizeof s->secret);
    free (s->url);
    free (s);
}

static void
s_sub_load (wh_engine_t *self, wh_sub_t *s, PGresult *res, int row)
{
    if (s->busy)
        wh_http_cancel (self->http, s);
    free (s->url);
    memset (s, 0, sizeof *s);
    snprintf (s->id, sizeof s->id, "%s", PQgetvalue (res, row, SUB_ID));
    s->version = strtoll (PQgetvalue (res, row, SUB_VERSION), NULL, 10);
    snprintf (s->clinic, sizeof s->clinic, "%s", PQgetvalue (res, row, SUB_CLINIC));
    s->url = strdup (PQgetvalue (res, row, SUB_URL));
    char buf[64], *streams[WH_NSTREAMS];
    size_t n = frame_split_array (PQgetvalue (res, row, SUB_STREAMS), buf, sizeof buf, streams, WH_NSTREAMS);
    for (size_t i = 0; i < n; i++)
        if (wh_stream_index (streams[i]) >= 0)
            s->follows[wh_stream_index (streams[i])] = true;
    s->ntypes = frame_split_array (PQgetvalue (res, row, SUB_TYPES), s->types_buf, sizeof s->types_buf,
                                   s->types, WH_TYPES_MAX);
    s->include_health = PQgetvalue (res, row, SUB_HEALTH)[0] == 't';
    s->insecure = PQgetvalue (res, row, SUB_INSECURE)[0] == 't';
    const char *state = PQgetvalue (res, row, SUB_STATE);
    s->state = strcmp (state, "active") == 0 ? WH_SUB_ACTIVE : strcmp (state, "paused") == 0 ? WH_SUB_PAUSED : WH_SUB_PARKED;
    s->attempt = (uint32_t) strtoul (PQgetvalue (res, row, SUB_FAILURES), NULL, 10);
    size_t len = 0;
    unsigned char *sealed = PQunescapeBytea ((const unsigned char *) PQgetvalue (res, row, SUB_SECRET), &len);
    s->secret_ok = sealed && frame_unseal (self->cfg.seal, sealed, len, s->secret) == 0;
    PQfreemem (sealed);
    if (!s->secret_ok)
        meso_error ("subscription %s: its secret does not open with this daemon's sealing key; "
                    "nothing is sent to it", s->id);
    const char *c = PQgetvalue (res, row, SUB_CURSORS);
    while (*c) {
        const char *colon = strchr (c, ':');
        if (!colon)
            break;
        char name[16];
        snprintf (name, sizeof name, "%.*s", (int) (colon - c), c);
        int st = wh_stream_index (name);
        if (st >= 0)
            s->cursor[st] = s->saved[st] = strtoull (colon + 1, NULL, 10);
        const char *comma = strchr (colon, ',');
        if (!comma)
            break;
        c = comma + 1;
    }
}

static wh_sub_t *
s_find (wh_engine_t *self, const char *id)
{
    for (size_t i = 0; i < self->n; i++)
        if (strcmp (self->subs[i]->id, id) == 0)
            return self->subs[i];
    return NULL;
}

static void
s_reload (wh_engine_t *self)
{
    PGresult *res = store_sub_all (self->db);
    if (!res) {
        meso_warn ("cannot read the subscriptions: %s", meso_db_error (self->db)->message);
        return;
    }
    for (size_t i = 0; i < self->n; i++)
        self->subs[i]->seen = false;
    for (int r = 0; r < PQntuples (res); r++) {
        wh_sub_t *s = s_find (self, PQgetvalue (res, r, SUB_ID));
        int64_t version = strtoll (PQgetvalue (res, r, SUB_VERSION), NULL, 10);
        if (!s) {
            if (self->n == self->cap) {
                size_t cap = self->cap ? self->cap * 2 : 64;
                wh_sub_t **n = realloc (self->subs, cap * sizeof *n);
                if (!n)
                    break;
                self->subs = n;
                self->cap = cap;
            }
            s = calloc (1, sizeof *s);
            if (!s)
                break;
            self->subs[self->n++] = s;
            s_sub_load (self, s, res, r);
        }
        else if (s->version != version)
            s_sub_load (self, s, res, r);
        s->seen = true;
    }
    PQclear (res);
    for (size_t i = 0; i < self->n;) {
        if (!self->subs[i]->seen) {
            /* Its series stay in the registry: zero them, so that a
             * removed subscription does not keep an alert firing. */
            meso_metrics_set ("meso_webhook_parked", "Parked deliveries of a subscription (1 while it is parked).",
                              "subscription", self->subs[i]->id, 0);
            meso_metrics_set ("meso_webhook_lag_events", "Events of a subscription's streams not yet delivered or passed over.",
                              "subscription", self->subs[i]->id, 0);
            meso_metrics_set ("meso_webhook_lag_seconds", "Age of the event a subscription is delivering (0: at the head).",
                              "subscription", self->subs[i]->id, 0);
            s_sub_free (self, self->subs[i]);
            self->subs[i] = self->subs[--self->n];
        }
        else
            i++;
    }
}

static void
s_metrics (wh_engine_t *self, int64_t *max_lag_ms)
{
    int64_t now_s = meso_time_now_us () / 1000000, worst = 0;
    double parked = 0;
    for (size_t i = 0; i < self->n; i++) {
        wh_sub_t *s = self->subs[i];
        double behind = 0;
        for (int st = 0; st < WH_NSTREAMS; st++) {
            uint64_t head;
            if (s->follows[st] && wh_feed_head (self->feed, st, &head) == 0 && head > s->cursor[st])
                behind += (double) (head - s->cursor[st]);
        }
        int64_t lag = s->pending && now_s > s->p_occurred_s ? now_s - s->p_occurred_s : 0;
        if (lag * 1000 > worst)
            worst = lag * 1000;
        parked += s->state == WH_SUB_PARKED;
        if (!max_lag_ms) {
            meso_metrics_set ("meso_webhook_lag_events", "Events of a subscription's streams not yet delivered or passed over.",
                              "subscription", s->id, behind);
            meso_metrics_set ("meso_webhook_lag_seconds", "Age of the event a subscription is delivering (0: at the head).",
                              "subscription", s->id, (double) lag);
            meso_metrics_set ("meso_webhook_parked", "Parked deliveries of a subscription (1 while it is parked).",
                              "subscription", s->id, s->state == WH_SUB_PARKED ? 1 : 0);
        }
    }
    if (max_lag_ms)
        *max_lag_ms = worst;
    else
        meso_metrics_set ("meso_webhook_parked_subscriptions", "Subscriptions parked now.", NULL, NULL, parked);
}

/* ------------------------------------------------------------- engine */

wh_engine_t *
wh_engine_new (const wh_engine_config_t *config)
{
    wh_engine_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->cfg = *config;
    self->db = meso_db_new (config->conninfo);
    self->feed = wh_feed_new (config->events_router, config->events_pub);
    self->http = wh_http_new (config->timeout_ms, deliver_done, self);
    if (!self->db || !self->feed || !self->http) {
        wh_engine_destroy (&self);
        return NULL;
    }
    self->poked = true;
    return self;
}

void
wh_engine_destroy (wh_engine_t **self_p)
{
    wh_engine_t *self = *self_p;
    if (!self)
        return;
    for (size_t i = 0; i < self->n; i++)
        s_sub_free (self, self->subs[i]);
    free (self->subs);
    free (self->done);
    wh_http_destroy (&self->http);
    wh_feed_destroy (&self->feed);
    meso_db_destroy (&self->db);
    free (self);
    *self_p = NULL;
}

void
wh_engine_poke (wh_engine_t *self)
{
    self->poked = true;
}

int
wh_engine_head (wh_engine_t *self, int stream, uint64_t *seq)
{
    return wh_feed_head (self->feed, stream, seq);
}

int
wh_engine_items (wh_engine_t *self, zmq_pollitem_t *items, int max, long *timeout_ms)
{
    int n = 0;
    zsock_t *sub = wh_feed_socket (self->feed);
    self->feed_item = sub != NULL;
    if (sub && max > 0)
        items[n++] = (zmq_pollitem_t) { zsock_resolve (sub), 0, ZMQ_POLLIN, 0 };
    n += wh_http_items (self->http, items + n, max - n, timeout_ms);
    int64_t now = meso_time_mono_ms ();
    for (size_t i = 0; i < self->n; i++) {
        wh_sub_t *s = self->subs[i];
        if (s->state == WH_SUB_ACTIVE && s->pending && !s->busy && s->next_ms > now
            && s->next_ms - now < *timeout_ms)
            *timeout_ms = (long) (s->next_ms - now);
    }
    return n;
}

/* Whether this instance delivers: it holds the advisory lock. */
static void
s_check_lock (wh_engine_t *self, int64_t now)
{
    if (now < self->next_lock_ms)
        return;
    self->next_lock_ms = now + 1000;
    bool was = self->active;
    if (self->active && meso_db_ping (self->db) != 0)
        self->active = false;          /* the connection, and the lock with it, is gone */
    if (!self->active && meso_db_ensure (self->db) == 0) {
        PGresult *res = meso_db_query (self->db, "SELECT pg_try_advisory_lock(" LOCK_KEY ")", 0, NULL);
        self->active = res && PQgetvalue (res, 0, 0)[0] == 't';
        PQclear (res);
    }
    if (was != self->active) {
        meso_info ("%s", self->active ? "delivering (holding the deliverer lock)"
                                      : "standing by (another instance delivers)");
        for (size_t i = 0; !self->active && i < self->n; i++)
            if (self->subs[i]->busy) {
                wh_http_cancel (self->http, self->subs[i]);
                self->subs[i]->busy = false;
            }
        self->poked = true;
    }
}

void
wh_engine_turn (wh_engine_t *self, zmq_pollitem_t *items, int n)
{
    int64_t now = meso_time_mono_ms ();
    s_check_lock (self, now);
    int first = self->feed_item ? 1 : 0;
    wh_http_turn (self->http, items + first, n - first);
    deliver_flush (self);
    wh_feed_poll (self->feed);
    if (self->poked || now >= self->next_reload_ms) {
        self->poked = false;
        self->next_reload_ms = now + RELOAD_MS;
        if (meso_db_ensure (self->db) == 0)
            s_reload (self);
    }
    if (self->active)
        deliver_dispatch (self);
    if (self->active && now >= self->next_save_ms) {
        self->next_save_ms = now + SAVE_MS;
        deliver_save (self);
    }
    /* Delivery records past the retention, a batch a minute (more when a
     * batch was full), by the deliverer only. */
    if (self->active && now >= self->next_purge_ms) {
        int purged = store_delivery_purge (self->db, self->cfg.retention_days, PURGE_BATCH);
        self->next_purge_ms = now + (purged == PURGE_BATCH ? 1000 : PURGE_MS);
        if (purged > 0)
            meso_info ("purged %d delivery records older than %ld days", purged, self->cfg.retention_days);
    }
    if (now >= self->next_metrics_ms) {
        self->next_metrics_ms = now + METRICS_MS;
        s_metrics (self, NULL);
    }
}

void
wh_engine_describe (wh_engine_t *self, char *out, size_t size, int64_t *lag_ms)
{
    size_t active = 0, paused = 0, parked = 0;
    for (size_t i = 0; i < self->n; i++) {
        int st = self->subs[i]->state;
        active += st == WH_SUB_ACTIVE;
        paused += st == WH_SUB_PAUSED;
        parked += st == WH_SUB_PARKED;
    }
    s_metrics (self, lag_ms);
    uint64_t head;
    snprintf (out, size,
              "role=%s subscriptions=%zu active=%zu paused=%zu parked=%zu in_flight=%d "
              "delivered=%" PRIu64 " failed=%" PRIu64 " parked_attempts=%" PRIu64 " feed=%s replays=%" PRIu64,
              self->active ? "active" : "standby", self->n, active, paused, parked,
              wh_http_running (self->http), self->delivered, self->failed, self->parked,
              wh_feed_head (self->feed, 0, &head) == 0 ? "on" : "waiting", wh_feed_replays (self->feed));
}
