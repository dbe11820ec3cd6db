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
 * an attempt that finished after it. */
#include "webhooks.h"

#include <curl/curl.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events.pb-c.h"
#include "meso/log.h"
#include "meso/metrics.h"
#include "meso/mtime.h"

#define LOCK_KEY "7107007"          /* pg_try_advisory_lock key of the deliverer */
#define RELOAD_MS 1000
#define SAVE_MS 1000
#define METRICS_MS 1000
#define SKIP_PER_TURN 2048

enum { S_ACTIVE = 0, S_PAUSED = 1, S_PARKED = 2 };

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
    uint32_t attempt;               /* attempts made on the pending event */
    int64_t next_ms;                /* not before (back-off) */
    bool seen;
} s_sub_t;

struct wh_engine_t {
    wh_engine_config_t cfg;
    meso_db_t *db;
    wh_feed_t *feed;
    wh_http_t *http;
    s_sub_t **subs;
    size_t n, cap;
    bool active, poked, feed_item;
    int64_t next_lock_ms, next_reload_ms, next_save_ms, next_metrics_ms;
    uint64_t delivered, failed, parked;
};

static const char *const s_outcome_names[] = { "delivered", "failed", "parked" };

static void s_done (void *tag, int http_status, const char *error, int64_t duration_ms, void *arg);

/* ------------------------------------------------------ subscriptions */

static void
s_sub_free (wh_engine_t *self, s_sub_t *s)
{
    if (s->busy)
        wh_http_cancel (self->http, s);
    sodium_memzero (s->secret, sizeof s->secret);
    free (s->url);
    free (s);
}

static void
s_sub_load (wh_engine_t *self, s_sub_t *s, PGresult *res, int row)
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
    s->state = strcmp (state, "active") == 0 ? S_ACTIVE : strcmp (state, "paused") == 0 ? S_PAUSED : S_PARKED;
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

static s_sub_t *
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
        s_sub_t *s = s_find (self, PQgetvalue (res, r, SUB_ID));
        int64_t version = strtoll (PQgetvalue (res, r, SUB_VERSION), NULL, 10);
        if (!s) {
            if (self->n == self->cap) {
                size_t cap = self->cap ? self->cap * 2 : 64;
                s_sub_t **n = realloc (self->subs, cap * sizeof *n);
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
            s_sub_free (self, self->subs[i]);
            self->subs[i] = self->subs[--self->n];
        }
        else
            i++;
    }
}

/* ---------------------------------------------------------- recording */

typedef struct {
    wh_engine_t *self;
    s_sub_t *s;
    wh_outcome_t outcome;
    int http_status;
    const char *error;
    int64_t duration_ms;
} s_record_t;

static int
s_record_txn (meso_db_t *db, void *arg)
{
    s_record_t *r = arg;
    s_sub_t *s = r->s;
    store_delivery_t d = { s->id, s->p_id, s->p_type, wh_stream_name (s->p_stream), s->p_seq,
                           s->attempt, s_outcome_names[r->outcome], r->http_status, r->error,
                           r->duration_ms };
    if (store_delivery_insert (db, &d) != 0)
        return -1;
    if (r->outcome == WH_DELIVERED) {
        for (int st = 0; st < WH_NSTREAMS; st++) {
            uint64_t seq = st == s->p_stream ? s->p_seq : s->cursor[st];
            if (s->follows[st] && seq != s->saved[st]
                && store_cursor_advance (db, s->id, wh_stream_name (st), seq, s->version) != 0)
                return -1;
        }
        return s->attempt > 1 ? store_sub_failed (db, s->id, 0, NULL, NULL, s->version) : 0;
    }
    char reason[600];
    snprintf (reason, sizeof reason, "%s %s (stream %s, sequence %" PRIu64 ", attempt %" PRIu32 ")",
              s->p_type, r->error, wh_stream_name (s->p_stream), s->p_seq, s->attempt);
    return store_sub_failed (db, s->id, s->attempt, r->outcome == WH_PARK ? "parked" : NULL, reason,
                             s->version);
}

static void
s_count (wh_engine_t *self, wh_outcome_t outcome)
{
    if (outcome == WH_DELIVERED)
        self->delivered++;
    else if (outcome == WH_RETRY)
        self->failed++;
    else
        self->parked++;
    meso_metrics_add ("meso_webhook_deliveries_total", "Delivery attempts by outcome (delivered, failed, parked).",
                      "outcome", s_outcome_names[outcome], 1);
}

/* The outcome of the pending event's attempt: recorded, then in memory. */
static void
s_settle (wh_engine_t *self, s_sub_t *s, wh_outcome_t outcome, int http_status, const char *error,
          int64_t duration_ms)
{
    s_record_t r = { self, s, outcome, http_status, error, duration_ms };
    if (meso_db_txn (self->db, MESO_DB_READ_COMMITTED, s_record_txn, &r) != 0)
        meso_warn ("subscription %s: cannot record the attempt on %s %" PRIu64 ": %s", s->id,
                   wh_stream_name (s->p_stream), s->p_seq, meso_db_error (self->db)->message);
    else if (outcome == WH_DELIVERED) {
        for (int st = 0; st < WH_NSTREAMS; st++)
            s->saved[st] = st == s->p_stream ? s->p_seq : s->cursor[st];
    }
    s_count (self, outcome);
    if (outcome == WH_DELIVERED) {
        s->cursor[s->p_stream] = s->p_seq;
        s->pending = false;
        s->attempt = 0;
        s->next_ms = 0;
    }
    else if (outcome == WH_RETRY) {
        double draw = (double) randombytes_uniform (1000000) / 1000000.0;
        s->next_ms = meso_time_mono_ms ()
                     + wh_backoff_ms (s->attempt, self->cfg.backoff_base_ms, self->cfg.backoff_cap_ms, draw);
    }
    else {
        s->state = S_PARKED;
        meso_warn ("subscription %s parked on %s %s %" PRIu64 " after %" PRIu32 " attempts: %s", s->id,
                   s->p_type, wh_stream_name (s->p_stream), s->p_seq, s->attempt, error);
    }
}

static void
s_done (void *tag, int http_status, const char *error, int64_t duration_ms, void *arg)
{
    wh_engine_t *self = arg;
    s_sub_t *s = tag;
    s->busy = false;
    s->attempt++;
    char why[CURL_ERROR_SIZE + 32];
    if (http_status >= 200 && http_status <= 299)
        why[0] = '\0';
    else if (http_status)
        snprintf (why, sizeof why, "HTTP %d", http_status);
    else
        snprintf (why, sizeof why, "%s", *error ? error : "no answer");
    wh_outcome_t outcome = wh_decide (http_status, s->attempt, (uint32_t) self->cfg.max_refused,
                                      (uint32_t) self->cfg.park_after);
    s_settle (self, s, outcome, http_status, why, duration_ms);
}

/* ----------------------------------------------------------- dispatch */

/* Sends the pending event (one attempt). 0 sent, -1 not now. */
static int
s_send (wh_engine_t *self, s_sub_t *s)
{
    const uint8_t *raw;
    size_t len;
    uint64_t global;
    if (wh_feed_get (self->feed, s->p_stream, s->p_seq, &raw, &len, &global) != 1)
        return -1;
    size_t body_len = 0;
    char id[65], type[65];
    int64_t occurred;
    char *body = wh_body (raw, len, s->include_health, &body_len, id, type, &occurred);
    if (!body) {
        /* Not decodable, or a type the redaction table does not know for
         * a subscription without health access: never sent whole. */
        s->attempt = (uint32_t) self->cfg.park_after;
        s_settle (self, s, WH_PARK, 0, "the event cannot be rendered without its health fields", 0);
        return -1;
    }
    char ts[24], sig[WH_SIGNATURE_MAX], h[7][200];
    snprintf (ts, sizeof ts, "%" PRId64, meso_time_now_us () / 1000000);
    wh_sign (s->secret, sizeof s->secret, ts, body, body_len, sig);
    snprintf (h[0], sizeof h[0], "Meso-Event-Id: %s", id);
    snprintf (h[1], sizeof h[1], "Meso-Event-Type: %s", type);
    snprintf (h[2], sizeof h[2], "Meso-Timestamp: %s", ts);
    snprintf (h[3], sizeof h[3], "Meso-Signature: %s", sig);
    snprintf (h[4], sizeof h[4], "Meso-Subscription-Id: %s", s->id);
    snprintf (h[5], sizeof h[5], "Meso-Delivery-Attempt: %" PRIu32, s->attempt + 1);
    snprintf (h[6], sizeof h[6], "Meso-Stream-Seq: %s %" PRIu64, wh_stream_name (s->p_stream), s->p_seq);
    struct curl_slist *headers = curl_slist_append (NULL, "Content-Type: application/json");
    headers = curl_slist_append (headers, "Expect:");     /* no 100-continue round trip */
    for (int i = 0; i < 7 && headers; i++)
        headers = curl_slist_append (headers, h[i]);
    if (!headers || wh_http_post (self->http, s, s->url, s->insecure, headers, body, body_len) != 0) {
        s->next_ms = meso_time_mono_ms () + 1000;
        return -1;
    }
    s->busy = true;
    return 0;
}

/* Finds the subscription's next wanted event, passing over the others.
 * 1 when one is pending, 0 when it is at the head, -1 when the events
 * daemon did not answer. */
static int
s_next (wh_engine_t *self, s_sub_t *s)
{
    for (int skipped = 0; skipped < SKIP_PER_TURN; skipped++) {
        int best = -1;
        uint64_t best_global = 0;
        for (int st = 0; st < WH_NSTREAMS; st++) {
            if (!s->follows[st])
                continue;
            const uint8_t *raw;
            size_t len;
            uint64_t global;
            int rc = wh_feed_get (self->feed, st, s->cursor[st] + 1, &raw, &len, &global);
            if (rc < 0)
                return -1;
            if (rc == 1 && (best < 0 || global < best_global)) {
                best = st;
                best_global = global;
            }
        }
        if (best < 0)
            return 0;
        const uint8_t *raw;
        size_t len;
        uint64_t global;
        if (wh_feed_get (self->feed, best, s->cursor[best] + 1, &raw, &len, &global) != 1)
            return -1;
        Meso__V1__Event *ev = meso__v1__event__unpack (NULL, len, raw);
        if (!ev)
            return -1;
        bool wanted = wh_wants (s->clinic, s->types, s->ntypes, ev->type, ev->clinic_id ? ev->clinic_id : "");
        if (wanted) {
            s->pending = true;
            s->p_stream = best;
            s->p_seq = s->cursor[best] + 1;
            snprintf (s->p_id, sizeof s->p_id, "%s", ev->id ? ev->id : "");
            snprintf (s->p_type, sizeof s->p_type, "%s", ev->type ? ev->type : "");
            s->p_occurred_s = ev->occurred_at_us / 1000000;
        }
        else
            s->cursor[best]++;
        meso__v1__event__free_unpacked (ev, NULL);
        if (wanted)
            return 1;
    }
    return 0;
}

static void
s_dispatch (wh_engine_t *self)
{
    int64_t now = meso_time_mono_ms ();
    for (size_t i = 0; i < self->n; i++) {
        s_sub_t *s = self->subs[i];
        if (s->state != S_ACTIVE || s->busy || !s->secret_ok || now < s->next_ms)
            continue;
        if (wh_http_running (self->http) >= self->cfg.max_in_flight)
            return;
        if (!s->pending && s_next (self, s) <= 0)
            continue;
        s_send (self, s);
    }
}

/* Saves cursors moved over events the subscriptions did not want. */
static void
s_save (wh_engine_t *self)
{
    for (size_t i = 0; i < self->n; i++) {
        s_sub_t *s = self->subs[i];
        for (int st = 0; st < WH_NSTREAMS; st++) {
            if (!s->follows[st] || s->cursor[st] == s->saved[st])
                continue;
            if (store_cursor_advance (self->db, s->id, wh_stream_name (st), s->cursor[st], s->version) != 0)
                return;
            s->saved[st] = s->cursor[st];
        }
    }
}

static void
s_metrics (wh_engine_t *self, int64_t *max_lag_ms)
{
    int64_t now_s = meso_time_now_us () / 1000000, worst = 0;
    double parked = 0;
    for (size_t i = 0; i < self->n; i++) {
        s_sub_t *s = self->subs[i];
        double behind = 0;
        for (int st = 0; st < WH_NSTREAMS; st++) {
            uint64_t head;
            if (s->follows[st] && wh_feed_head (self->feed, st, &head) == 0 && head > s->cursor[st])
                behind += (double) (head - s->cursor[st]);
        }
        int64_t lag = s->pending && now_s > s->p_occurred_s ? now_s - s->p_occurred_s : 0;
        if (lag * 1000 > worst)
            worst = lag * 1000;
        parked += s->state == S_PARKED;
        if (!max_lag_ms) {
            meso_metrics_set ("meso_webhook_lag_events", "Events of a subscription's streams not yet delivered or passed over.",
                              "subscription", s->id, behind);
            meso_metrics_set ("meso_webhook_lag_seconds", "Age of the event a subscription is delivering (0: at the head).",
                              "subscription", s->id, (double) lag);
            meso_metrics_set ("meso_webhook_parked", "Parked deliveries of a subscription (1 while it is parked).",
                              "subscription", s->id, s->state == S_PARKED ? 1 : 0);
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
    self->http = wh_http_new (config->timeout_ms, s_done, self);
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
        s_sub_t *s = self->subs[i];
        if (s->state == S_ACTIVE && s->pending && !s->busy && s->next_ms > now
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
    wh_feed_poll (self->feed);
    if (self->poked || now >= self->next_reload_ms) {
        self->poked = false;
        self->next_reload_ms = now + RELOAD_MS;
        if (meso_db_ensure (self->db) == 0)
            s_reload (self);
    }
    if (self->active)
        s_dispatch (self);
    if (self->active && now >= self->next_save_ms) {
        self->next_save_ms = now + SAVE_MS;
        s_save (self);
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
        active += st == S_ACTIVE;
        paused += st == S_PAUSED;
        parked += st == S_PARKED;
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
