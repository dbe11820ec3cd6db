/* handlers.c -- the events daemon's RPC methods: events.Replay, events.Head.
 *
 * Both are reads, served by the active writer and by a standby alike (a
 * standby answers from the same log). Replay builds its reply from the
 * stored packed events without unpacking them (seqwire.h), and caps the
 * page at SEQWIRE_PAGE_BYTES: a subscriber asks again from the last
 * sequence it got. A page always holds the event at the cursor, even one
 * larger than a page; one too large for any reply (stored before the
 * outbox capped events) is refused with its position, never silently
 * turned into an error about the reply's size. */
#include "meso/access.h"
#include "events.h"
#include "seqwire.h"
#include "events.pb-c.h"
#include "meso/metrics.h"
#include "meso/mtime.h"
#include "meso/outbox.h"

#include <stdio.h>
#include <stdlib.h>

#define REPLAY_DEFAULT_LIMIT 1000
#define REPLAY_MAX_LIMIT 10000
/* The most event bytes a reply can carry under MESO_BUS_MAX_FRAME (the
 * envelope, request id and head take far less than the margin). */
#define REPLAY_REPLY_EVENTS_MAX (MESO_BUS_MAX_FRAME - 4096)

static void
s_replay (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    events_t *self = arg;
    Meso__V1__ReplayRequest *rq = body;
    int bad = 0;
    if (events_stream_index (rq->stream) < 0) {
        meso_reply_reason (reply, "invalid_stream", "stream",
                           "stream must be one of session, screening, stock, billing (got \"%.64s\")",
                           rq->stream);
        bad = 1;
    }
    if (rq->limit > REPLAY_MAX_LIMIT) {
        meso_reply_reason (reply, "out_of_range", "limit",
                           "limit must be at most %d (got %u)", REPLAY_MAX_LIMIT, rq->limit);
        bad = 1;
    }
    if (bad) {
        /* meso_reply_error keeps the reasons added above. */
        meso_reply_error (reply, MESO_INVALID_ARGUMENT, "invalid events.Replay request");
        return;
    }
    int limit = rq->limit ? (int) rq->limit : REPLAY_DEFAULT_LIMIT;

    uint64_t heads[EVENTS_NSTREAMS] = { 0 }, first[EVENTS_NSTREAMS] = { 0 }, global = 0;
    if (store_heads (self->db, heads, &global, first) != 0) {
        meso_reply_db_error (reply, self->db, "cannot read the stream heads");
        return;
    }
    int si = events_stream_index (rq->stream);
    uint64_t head = heads[si];
    if (rq->after_seq > head) {
        meso_reply_error (reply, MESO_FAILED_PRECONDITION,
                          "after_seq %llu is beyond the head %llu of stream %s",
                          (unsigned long long) rq->after_seq, (unsigned long long) head, rq->stream);
        meso_reply_detail (reply, "a cursor ahead of the log means the database was restored from an older backup or belongs to another deployment");
        return;
    }
    if (rq->after_seq < head && first[si] > rq->after_seq + 1) {
        meso_reply_error (reply, MESO_FAILED_PRECONDITION,
                          "events %llu..%llu of stream %s were pruned; the oldest retained is %llu",
                          (unsigned long long) rq->after_seq + 1, (unsigned long long) first[si] - 1,
                          rq->stream, (unsigned long long) first[si]);
        meso_reply_detail (reply, "the events daemon keeps the log for its retention period (MESO_EVENTS_RETENTION_S)");
        return;
    }

    PGresult *res = store_replay (self->db, rq->stream, rq->after_seq, limit);
    if (!res) {
        meso_reply_db_error (reply, self->db, "cannot read the event log");
        return;
    }
    int n = PQntuples (res);
    size_t cap = 16;
    for (int r = 0; r < n; r++)
        cap += (size_t) PQgetlength (res, r, 2) + SEQWIRE_ITEM_OVERHEAD;
    uint8_t *buf = malloc (cap);
    if (!buf) {
        PQclear (res);
        meso_reply_error (reply, MESO_RESOURCE_EXHAUSTED, "out of memory building a replay");
        return;
    }
    size_t len = 0;
    for (int r = 0; r < n; r++) {
        size_t plen = (size_t) PQgetlength (res, r, 2);
        if (!seqwire_page_takes (len, r, plen, SEQWIRE_PAGE_BYTES))
            break;                      /* the caller asks again from here */
        if (plen + SEQWIRE_ITEM_OVERHEAD > REPLAY_REPLY_EVENTS_MAX) {
            meso_reply_error (reply, MESO_RESOURCE_EXHAUSTED,
                              "event %s #%llu is %zu bytes, too large for any events.Replay reply",
                              rq->stream, (unsigned long long) store_get_u64 (res, r, 0), plen);
            meso_reply_detail (reply, "it was stored before events were capped at %d bytes; "
                               "every subscriber of %s stops here (hint: an operator replaces its "
                               "payload in events.log with a smaller event of the same type)",
                               MESO_OUTBOX_EVENT_MAX, rq->stream);
            PQclear (res);
            free (buf);
            return;
        }
        len += seqwire_replay_item (buf + len, (const uint8_t *) PQgetvalue (res, r, 2), plen,
                                    store_get_u64 (res, r, 0), store_get_u64 (res, r, 1));
    }
    len += seqwire_replay_head (buf + len, head);
    PQclear (res);
    meso_reply_ok_bytes (reply, buf, len);
    free (buf);
}

static void
s_head (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    (void) body;
    events_t *self = arg;
    uint64_t heads[EVENTS_NSTREAMS] = { 0 }, first[EVENTS_NSTREAMS] = { 0 }, global = 0;
    if (store_heads (self->db, heads, &global, first) != 0) {
        meso_reply_db_error (reply, self->db, "cannot read the stream heads");
        return;
    }
    Meso__V1__StreamHead sh[EVENTS_NSTREAMS];
    Meso__V1__StreamHead *shp[EVENTS_NSTREAMS];
    for (int i = 0; i < EVENTS_NSTREAMS; i++) {
        meso__v1__stream_head__init (&sh[i]);
        sh[i].stream = (char *) events_streams[i];
        sh[i].head = heads[i];
        sh[i].first_retained = first[i];
        shp[i] = &sh[i];
    }
    Meso__V1__Heartbeat hb = MESO__V1__HEARTBEAT__INIT;
    hb.at_us = meso_time_now_us ();
    hb.n_heads = EVENTS_NSTREAMS;
    hb.heads = shp;
    hb.global_head = global;
    hb.active = self->active;
    meso_reply_ok (reply, &hb.base);
}

const meso_method_t events_methods[] = {
    { "events.Replay", s_replay, MESO_METHOD_READ, &meso__v1__replay_request__descriptor,
      MESO_ROLE_ALL, NULL, 0 },
    { "events.Head", s_head, MESO_METHOD_READ, NULL,
      MESO_ROLE_ALL, NULL, 0 },
    { NULL, NULL, 0, NULL, 0, NULL, 0 }
};

void
events_health (Meso__V1__HealthReply *health, void *arg)
{
    events_t *self = arg;
    static char notes[3][320];
    static char *note_ptrs[3] = { notes[0], notes[1], notes[2] };
    snprintf (notes[0], sizeof notes[0], "role=%s", self->active ? "active" : "standby");
    snprintf (notes[1], sizeof notes[1], "global_head=%llu published=%llu",
              (unsigned long long) self->global_head, (unsigned long long) self->published);
    health->n_notes = 2;
    health->notes = note_ptrs;
    if (health->db_ok) {
        int64_t lag = store_outbox_lag_ms (self->db);
        health->lag_ms = lag < 0 ? 0 : lag;
        /* Rows waiting more than 10 s mean relaying is stuck (or a long
         * transaction holds the horizon back). */
        if (self->active && lag > 10000)
            health->state = "degraded";
        /* The gapless rule makes every event wait for the oldest running
         * write transaction: say which one, and for how long (measured by
         * events_watch_horizon, once a second). */
        const store_horizon_t *h = &self->horizon;
        if (self->active && h->pid && h->age_ms > self->held_warn_ms) {
            health->state = "degraded";
            snprintf (notes[2], sizeof notes[2],
                      "relay held back %lld ms by pid %d (role %s, database %s, %s) "
                      "over MESO_EVENTS_HELD_WARN_MS=%lld", (long long) h->age_ms, h->pid,
                      h->role, h->database, h->state, (long long) self->held_warn_ms);
            health->n_notes = 3;
        }
    }
}

void
events_watch_horizon (events_t *self)
{
    if (!self->active || store_horizon (self->db, &self->horizon) != 0) {
        memset (&self->horizon, 0, sizeof self->horizon);
        return;
    }
    meso_metrics_set ("meso_events_held_back_seconds",
                      "Age of the oldest running transaction the relay must wait for.",
                      NULL, NULL, (double) self->horizon.age_ms / 1000.0);
}
