/* replay.c -- events.Replay: the events of one stream that the caller may
 * see, from a cursor.
 *
 * Served by the active writer and by a standby alike (a standby answers
 * from the same log). The reply is built from the stored packed events
 * without unpacking them (seqwire.h), and capped at SEQWIRE_PAGE_BYTES: a
 * subscriber asks again from the reply's last_seq. A page always holds the
 * event at the cursor, even one larger than a page; one too large for any
 * reply (stored before the outbox capped events) is refused with its
 * position, never silently turned into an error about the reply's size.
 *
 * Scope (DESIGN.md "Trust"), from the principal the bus server
 * authenticated for this call:
 * - a stream outside the principal's streams is refused (PERMISSION_DENIED,
 *   reason out_of_scope, field stream) rather than answered empty, so a
 *   misconfigured integration says so instead of waiting forever;
 * - events of a clinic outside its clinics are left out of the page. A
 *   chain-wide event (no clinic) goes only to principals of every clinic:
 *   it may concern any clinic (meso_principal_in_clinic's rule);
 * - without health access, an event whose type carries health fields is
 *   decoded, stripped and re-encoded (redact.h); one that cannot be
 *   (undecodable, unclassified) is refused rather than passed through.
 *   Since migration 023 the log itself holds such events redacted and the
 *   full payloads are in events.log_health (health.c): a principal with
 *   health access reads them from there, the others from the log, still
 *   stripped on the way out (rows relayed before 023 are whole in the
 *   log, and the tail holds what was published, whole).
 * Leaving events out makes sequences skip within a page, and a page may
 * hold no event at all; last_seq (the last sequence examined) is what lets
 * the subscriber advance past events it may not see. A principal of every
 * clinic with health access (the daemons' consumers) takes the old path:
 * bytes copied, nothing decoded.
 *
 * The active writer answers a replay within its tail (tail.h: the newest
 * events of each stream, kept as they are published) from memory, with its
 * own heads; any other replay, and every replay on a standby, reads the
 * log. Both paths go through s_add, so what a caller may see is decided in
 * one place. */
#include "meso/access.h"
#include "events.h"
#include "redact.h"
#include "seqwire.h"
#include "tail.h"
#include "events.pb-c.h"
#include "meso/outbox.h"

#include <stdio.h>
#include <stdlib.h>

#define REPLAY_DEFAULT_LIMIT 1000
#define REPLAY_MAX_LIMIT 10000
/* The most event bytes a reply can carry under MESO_BUS_MAX_FRAME (the
 * envelope, request id, head and last_seq take far less than the
 * margin). */
#define REPLAY_REPLY_EVENTS_MAX (MESO_BUS_MAX_FRAME - 4096)
/* Bytes after the events: head and last_seq. */
#define REPLAY_TRAILER 32

/* Validates the request; 0, or -1 with the reply set. */
static int
s_check (const Meso__V1__ReplayRequest *rq, meso_reply_t *reply)
{
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
        return -1;
    }
    const meso_principal_t *p = meso_call_principal ();
    if (p && !meso_principal_in_stream (p, rq->stream)) {
        meso_reply_reason (reply, "out_of_scope", "stream",
                           "principal %s may not read stream %s", p->name, rq->stream);
        meso_reply_error (reply, MESO_PERMISSION_DENIED, "stream %s is outside your scope",
                          rq->stream);
        meso_reply_detail (reply, "an operator grants streams to a principal (access.principal.streams)");
        return -1;
    }
    return 0;
}

/* Checks the cursor against the stream's head and retention; 0, or -1
 * with the reply set. */
static int
s_check_cursor (const Meso__V1__ReplayRequest *rq, uint64_t head, uint64_t first,
                meso_reply_t *reply)
{
    if (rq->after_seq > head) {
        meso_reply_error (reply, MESO_FAILED_PRECONDITION,
                          "after_seq %llu is beyond the head %llu of stream %s",
                          (unsigned long long) rq->after_seq, (unsigned long long) head, rq->stream);
        meso_reply_detail (reply, "a cursor ahead of the log means the database was restored from an older backup or belongs to another deployment");
        return -1;
    }
    if (rq->after_seq < head && first > rq->after_seq + 1) {
        meso_reply_error (reply, MESO_FAILED_PRECONDITION,
                          "events %llu..%llu of stream %s were pruned; the oldest retained is %llu",
                          (unsigned long long) rq->after_seq + 1, (unsigned long long) first - 1,
                          rq->stream, (unsigned long long) first);
        meso_reply_detail (reply, "the events daemon keeps the log for its retention period (MESO_EVENTS_RETENTION_S)");
        return -1;
    }
    return 0;
}

/* A growing reply buffer. */
typedef struct {
    uint8_t *buf;
    size_t len, cap;
} s_out_t;

static int
s_reserve (s_out_t *o, size_t more)
{
    if (o->len + more <= o->cap)
        return 0;
    size_t cap = o->cap ? o->cap : 4096;
    while (cap < o->len + more)
        cap *= 2;
    uint8_t *b = realloc (o->buf, cap);
    if (!b)
        return -1;
    o->buf = b;
    o->cap = cap;
    return 0;
}

/* One reply being built. */
typedef struct {
    const Meso__V1__ReplayRequest *rq;
    meso_reply_t *reply;
    bool every_clinic;
    bool health;
    s_out_t o;
    uint64_t last;                  /* last sequence examined */
    int count;                      /* events in the page */
} s_page_t;

/* Examines one event of the log; false when the page is full or the reply
 * became an error (stop). */
static bool
s_add (s_page_t *pg, uint64_t seq, uint64_t global, const char *type, const char *clinic,
       const uint8_t *payload, size_t plen)
{
    const Meso__V1__ReplayRequest *rq = pg->rq;
    if (!pg->every_clinic && !meso_call_in_clinic (clinic)) {
        pg->last = seq;                 /* examined, not for this caller */
        return true;
    }
    uint8_t *stripped = NULL;
    if (!pg->health && redact_needed (type)) {
        stripped = redact_packed (payload, plen, &plen);
        if (!stripped) {
            meso_reply_error (pg->reply, MESO_INTERNAL,
                              "event %s #%llu (%s) cannot be cleared of its health fields",
                              rq->stream, (unsigned long long) seq, type);
            meso_reply_detail (pg->reply, "it does not decode, or its type is not classified in "
                               "services/events/redact.c; a principal with health access "
                               "still receives it");
            return false;
        }
        payload = stripped;
    }
    bool go_on = false;
    if (!seqwire_page_takes (pg->o.len, pg->count, plen, SEQWIRE_PAGE_BYTES))
        ;                               /* the caller asks again from last */
    else if (plen + SEQWIRE_ITEM_OVERHEAD > REPLAY_REPLY_EVENTS_MAX) {
        meso_reply_error (pg->reply, MESO_RESOURCE_EXHAUSTED,
                          "event %s #%llu is %zu bytes, too large for any events.Replay reply",
                          rq->stream, (unsigned long long) seq, plen);
        meso_reply_detail (pg->reply, "it was stored before events were capped at %d bytes; "
                           "every subscriber of %s stops here (hint: an operator replaces its "
                           "payload in events.log with a smaller event of the same type)",
                           MESO_OUTBOX_EVENT_MAX, rq->stream);
    }
    else if (s_reserve (&pg->o, plen + SEQWIRE_ITEM_OVERHEAD) != 0)
        meso_reply_error (pg->reply, MESO_RESOURCE_EXHAUSTED, "out of memory building a replay");
    else {
        pg->o.len += seqwire_replay_item (pg->o.buf + pg->o.len, payload, plen, seq, global);
        pg->count++;
        pg->last = seq;
        go_on = true;
    }
    free (stripped);
    return go_on;
}

/* The page from the writer's tail (tail.h): no query. */
static void
s_from_tail (s_page_t *pg, const tail_t *tail, int si, uint64_t head, int limit)
{
    uint64_t end = pg->rq->after_seq + (uint64_t) limit;
    for (uint64_t seq = pg->rq->after_seq + 1; seq <= head && seq <= end; seq++) {
        const tail_event_t *ev = tail_get (tail, si, seq);
        if (!ev || !s_add (pg, seq, ev->global, ev->type, ev->clinic, ev->payload, ev->len))
            break;
    }
}

/* The page from events.log. 0, or -1 with the reply set. */
static int
s_from_log (s_page_t *pg, events_t *self, int limit)
{
    PGresult *res = store_replay (self->db, pg->rq->stream, pg->rq->after_seq, limit, pg->health);
    if (!res) {
        meso_reply_db_error (pg->reply, self->db, "cannot read the event log");
        return -1;
    }
    int n = PQntuples (res);
    for (int r = 0; r < n; r++)
        if (!s_add (pg, store_get_u64 (res, r, 0), store_get_u64 (res, r, 1), PQgetvalue (res, r, 3),
                    PQgetvalue (res, r, 4), (const uint8_t *) PQgetvalue (res, r, 2),
                    (size_t) PQgetlength (res, r, 2)))
            break;
    PQclear (res);
    return 0;
}

void
events_replay (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    (void) req;
    events_t *self = arg;
    Meso__V1__ReplayRequest *rq = body;
    if (s_check (rq, reply) != 0)
        return;
    int limit = rq->limit ? (int) rq->limit : REPLAY_DEFAULT_LIMIT;
    int si = events_stream_index (rq->stream);
    const meso_principal_t *p = meso_call_principal ();
    s_page_t pg = { .rq = rq, .reply = reply, .every_clinic = !p || p->all_clinics,
                    .health = meso_call_health (), .last = rq->after_seq };

    /* The active writer's heads are exact, and its tail holds the newest
     * events: the replays doorbells cause are answered from memory. */
    uint64_t head = 0;
    events_t *m = self->main;       /* the relay's state, under its lock */
    pthread_mutex_lock (&m->lock);
    bool tailed = m->active && m->tail && tail_covers (m->tail, si, rq->after_seq, m->heads[si]);
    if (tailed) {
        head = m->heads[si];
        s_from_tail (&pg, m->tail, si, head, limit);     /* copies */
    }
    pthread_mutex_unlock (&m->lock);
    if (!tailed) {
        uint64_t heads[EVENTS_NSTREAMS] = { 0 }, first[EVENTS_NSTREAMS] = { 0 }, global = 0;
        if (store_heads (self->db, heads, &global, first) != 0) {
            meso_reply_db_error (reply, self->db, "cannot read the stream heads");
            return;
        }
        head = heads[si];
        if (s_check_cursor (rq, head, first[si], reply) != 0 || s_from_log (&pg, self, limit) != 0) {
            free (pg.o.buf);
            return;
        }
    }
    if (meso_reply_status (reply) == MESO_OK) {
        if (s_reserve (&pg.o, REPLAY_TRAILER) != 0)
            meso_reply_error (reply, MESO_RESOURCE_EXHAUSTED, "out of memory building a replay");
        else {
            pg.o.len += seqwire_replay_head (pg.o.buf + pg.o.len, head);
            pg.o.len += seqwire_replay_last (pg.o.buf + pg.o.len, pg.last);
            meso_reply_ok_bytes (reply, pg.o.buf, pg.o.len);
        }
    }
    free (pg.o.buf);
}
