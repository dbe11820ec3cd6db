/* deliver.c -- one subscription at a time: its next event, the attempt,
 * what the attempt came to (engine_private.h; the reasons for the order,
 * the at-least-once rule and the version checks are at the top of
 * engine.c).
 *
 * An attempt: the event from the feed, its JSON (body.c, health fields
 * removed unless the subscription keeps them), signed (sign.c) with a
 * fresh timestamp, POSTed (http.c). Its outcome (retry.c) is recorded in
 * one transaction with, on a 2xx, the cursor's move; a failure waits a
 * back-off with jitter, or parks the subscription. */
#include "engine_private.h"

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

#define SKIP_PER_TURN 2048

static const char *const s_outcome_names[] = { "delivered", "failed", "parked" };

/* ---------------------------------------------------------- recording */

/* The attempts finished in this turn are recorded together, in one
 * transaction (each with its cursor move or failure count), then applied
 * in memory: one commit per turn rather than one per delivery, which is
 * what bounds the deliveries per second of one daemon. A subscription
 * whose attempt waits here is "settling" and sends nothing. */

static int
s_record_one (meso_db_t *db, const wh_done_t *r)
{
    wh_sub_t *s = r->s;
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

static int
s_record_txn (meso_db_t *db, void *arg)
{
    wh_engine_t *self = arg;
    for (size_t i = 0; i < self->ndone; i++)
        if (s_record_one (db, &self->done[i]) != 0)
            return -1;
    return 0;
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

/* What an attempt came to, in memory, once recorded (recorded: the
 * transaction committed). */
static void
s_apply (wh_engine_t *self, const wh_done_t *r, bool recorded)
{
    wh_sub_t *s = r->s;
    s->settling = false;
    if (recorded && r->outcome == WH_DELIVERED)
        for (int st = 0; st < WH_NSTREAMS; st++)
            s->saved[st] = st == s->p_stream ? s->p_seq : s->cursor[st];
    s_count (self, r->outcome);
    if (r->outcome == WH_DELIVERED) {
        s->cursor[s->p_stream] = s->p_seq;
        s->pending = false;
        s->attempt = 0;
        s->next_ms = 0;
    }
    else if (r->outcome == WH_RETRY) {
        double draw = (double) randombytes_uniform (1000000) / 1000000.0;
        s->next_ms = meso_time_mono_ms ()
                     + wh_backoff_ms (s->attempt, self->cfg.backoff_base_ms, self->cfg.backoff_cap_ms, draw);
    }
    else {
        s->state = WH_SUB_PARKED;
        meso_warn ("subscription %s parked on %s %s %" PRIu64 " after %" PRIu32 " attempts: %s", s->id,
                   s->p_type, wh_stream_name (s->p_stream), s->p_seq, s->attempt, r->error);
    }
}

void
deliver_flush (wh_engine_t *self)
{
    if (self->ndone == 0)
        return;
    bool recorded = meso_db_txn (self->db, MESO_DB_READ_COMMITTED, s_record_txn, self) == 0;
    if (!recorded)
        meso_warn ("cannot record %zu delivery attempts: %s (a delivered event is sent again after a "
                   "restart)", self->ndone, meso_db_error (self->db)->message);
    for (size_t i = 0; i < self->ndone; i++)
        s_apply (self, &self->done[i], recorded);
    self->ndone = 0;
}

/* Queues the outcome of s's pending event for deliver_flush. */
static void
s_settle (wh_engine_t *self, wh_sub_t *s, wh_outcome_t outcome, int http_status, const char *error,
          int64_t duration_ms)
{
    if (self->ndone == self->done_cap) {
        size_t cap = self->done_cap ? self->done_cap * 2 : 64;
        wh_done_t *n = realloc (self->done, cap * sizeof *n);
        if (!n)
            deliver_flush (self);       /* no room: record what is queued first */
        else {
            self->done = n;
            self->done_cap = cap;
        }
    }
    if (self->ndone == self->done_cap) {
        /* still no room: this attempt is lost, as if it had not been made */
        s->attempt--;
        s->next_ms = meso_time_mono_ms () + 1000;
        return;
    }
    wh_done_t *r = &self->done[self->ndone++];
    r->s = s;
    r->outcome = outcome;
    r->http_status = http_status;
    snprintf (r->error, sizeof r->error, "%s", error);
    r->duration_ms = duration_ms;
    s->settling = true;
}

void
deliver_done (void *tag, int http_status, const char *error, int64_t duration_ms, void *arg)
{
    wh_engine_t *self = arg;
    wh_sub_t *s = tag;
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
s_send (wh_engine_t *self, wh_sub_t *s)
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
s_next (wh_engine_t *self, wh_sub_t *s)
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

void
deliver_dispatch (wh_engine_t *self)
{
    int64_t now = meso_time_mono_ms ();
    for (size_t i = 0; i < self->n; i++) {
        wh_sub_t *s = self->subs[i];
        if (s->state != WH_SUB_ACTIVE || s->busy || s->settling || !s->secret_ok || now < s->next_ms)
            continue;
        if (wh_http_running (self->http) >= self->cfg.max_in_flight)
            break;
        if (!s->pending && s_next (self, s) <= 0)
            continue;
        s_send (self, s);
    }
    deliver_flush (self);       /* events parked because they cannot be rendered */
}

void
deliver_save (wh_engine_t *self)
{
    for (size_t i = 0; i < self->n; i++) {
        wh_sub_t *s = self->subs[i];
        for (int st = 0; st < WH_NSTREAMS; st++) {
            if (!s->follows[st] || s->cursor[st] == s->saved[st])
                continue;
            if (store_cursor_advance (self->db, s->id, wh_stream_name (st), s->cursor[st], s->version) != 0)
                return;
            s->saved[st] = s->cursor[st];
        }
    }
}
