/* subscriber_feed.c -- delivering events once each, in order, from a
 * cursor (see subscriber.h); the lifecycle is in subscriber.c.
 *
 * Why it is built this way:
 * - The PUB carries doorbells, not events (topic, stream sequence, an
 *   empty frame): every event is fetched with events.Replay, which the
 *   daemon scopes to this subscriber's principal (its streams and
 *   clinics; health fields removed without health access). A PUB cannot
 *   filter per subscriber; one PUB per visibility class would multiply
 *   sockets and keys by the combinations of streams, clinics and health
 *   access, and a payload published on a socket is readable by every key
 *   it admits. A doorbell tells any authenticated subscriber only that a
 *   stream moved (services/events/main.c). The price is one Replay round
 *   trip per batch of doorbells: every doorbell waiting is read first, then
 *   one replay fetches them all.
 * - The cursor is the whole truth: the last sequence handled or known not
 *   to be for us. A replayed event at or below it is a duplicate and is
 *   dropped; above it, it is handed to the handler in page order. A reply
 *   leaves out events outside our scope, so sequences may skip inside a
 *   page, and the reply's last_seq (the last sequence the daemon examined)
 *   moves the cursor past them: a page of events we may not see is never
 *   asked for twice.
 * - A doorbell only marks its stream "behind" (a replay is due). One for
 *   the next sequence (or the one after the last rung) counts as live
 *   delivery; one further ahead means doorbells were lost, and what it
 *   brings counts as replayed. Same after a handler refusal: the stream is
 *   marked behind and the next poll replays from the unchanged cursor.
 * - The heartbeat is what finds a lost tail: PUB drops silently (high-water
 *   mark, slow joiner, our own restart), and when the lost doorbells were
 *   the last of a burst no later one shows the gap. Messages from one PUB
 *   arrive in order, so by the time a heartbeat is read every doorbell
 *   published before it has been read too: a head above the cursor means a
 *   real loss, not a race.
 * - Replays are synchronous calls with a short deadline. With ZMQ_IMMEDIATE
 *   (bus client) a daemon that is down costs at most the deadline, after
 *   which the stream waits RETRY_MS before the next attempt. A daemon that
 *   answers but too slowly gets a doubled deadline next time (up to a cap),
 *   so a loaded daemon is not asked forever with a deadline it cannot meet.
 * - A replay page is walked on the wire (subscriber_wire.c) rather than
 *   unpacked whole, so the handler gets each event's bytes exactly as the
 *   daemon sent them.
 * - A replay refused with FAILED_PRECONDITION (the events were pruned, or
 *   the cursor is ahead of the log: a restored database) or
 *   PERMISSION_DENIED (a stream outside our scope) is not something a
 *   retry fixes, and skipping would lose events silently: it is logged as
 *   an error and poll returns -1, on every poll, until it stops being true.
 * - One poll does a bounded amount of work (PAGES_PER_POLL replay pages,
 *   LIVE_BATCH doorbells), so a caller far behind still gets control back
 *   regularly.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meso/bus.h"
#include "meso/log.h"
#include "meso/mtime.h"
#include "meso/status.h"
#include "subscriber_private.h"

#define REPLAY_PAGE 5000        /* events asked per events.Replay (the daemon caps the bytes) */
#define PAGES_PER_POLL 20       /* replay pages per stream per poll at most */
#define LIVE_BATCH 1000         /* live messages read per pass at most */
#define RETRY_MS 500            /* pause after a failed replay */
#define DEADLINE_MAX_MS 4000
#define DEADLINE_BASE_MS 1000   /* deadline when the poll has more time left */

/* What s_offer did with an event. */
typedef enum { OFFER_HANDLED, OFFER_DUPLICATE, OFFER_STOP } s_offer_t;

/* ------------------------------------------------------------ the gate */

/* Offers a replayed event (pages come in stream order, from the scoped
 * log: an event above the cursor is the next one this subscriber may
 * see). */
static s_offer_t
s_offer (meso_subscriber_t *self, meso_sub_stream_t *st, const Meso__V1__Event *ev,
         const uint8_t *raw, size_t len)
{
    uint64_t seq = ev->stream_seq;
    if (seq <= st->cursor) {
        self->dropped++;
        return OFFER_DUPLICATE;
    }
    if (seq > st->head)
        st->head = seq;
    if (self->fn (ev, raw, len, self->arg) != 0) {
        /* Same event again on the next poll, from the log. The handler may
         * have moved the cursor (consumer): replay from wherever it is. */
        st->behind = true;
        st->retry_at = 0;
        return OFFER_STOP;
    }
    st->cursor = seq;
    /* Announced in order by doorbells: what the live feed brought. */
    if (seq <= st->rung)
        self->live++;
    else
        self->replayed++;
    return OFFER_HANDLED;
}

/* --------------------------------------------------------------- replay */

/* Outcome of one replay page. */
typedef struct {
    uint64_t head;              /* ReplayReply.head */
    uint64_t last;              /* ReplayReply.last_seq (0 from a daemon without it) */
    int events;                 /* entries in the page */
    int handled;                /* handed to the handler */
    bool stop;                  /* the handler refused one */
    bool bad;                   /* the page does not decode or is out of order */
} s_page_t;

/* Walks a packed ReplayReply, offering each event in turn. */
static void
s_page (meso_subscriber_t *self, meso_sub_stream_t *st, const uint8_t *p, size_t len, s_page_t *out)
{
    size_t pos = 0;
    uint64_t prev = 0;
    meso_page_item_t it;
    while (!out->stop && !out->bad) {
        meso_page_field_t f = meso_page_next (p, len, &pos, &it);
        if (f == MESO_PAGE_END)
            break;
        if (f == MESO_PAGE_BAD) {
            out->bad = true;
            break;
        }
        if (f == MESO_PAGE_HEAD) {
            out->head = it.value;
            continue;
        }
        if (f == MESO_PAGE_LAST) {
            out->last = it.value;
            continue;
        }
        out->events++;
        Meso__V1__Event *ev = meso__v1__event__unpack (NULL, it.len, it.raw);
        if (!ev) {
            meso_error ("subscriber %s: replayed event after %" PRIu64 " of %s does not decode",
                        self->name, st->cursor, st->name);
            out->bad = true;
            break;
        }
        if (strcmp (ev->stream, st->name) != 0) {
            meso_error ("subscriber %s: replay of %s returned an event of stream \"%s\"",
                        self->name, st->name, ev->stream);
            out->bad = true;
        }
        else if (ev->stream_seq <= prev) {
            meso_error ("subscriber %s: replay of %s is out of order: %" PRIu64 " after %" PRIu64,
                        self->name, st->name, ev->stream_seq, prev);
            out->bad = true;
        }
        else {
            prev = ev->stream_seq;
            s_offer_t o = s_offer (self, st, ev, it.raw, it.len);
            if (o == OFFER_HANDLED)
                out->handled++;
            else if (o == OFFER_STOP)
                out->stop = true;
        }
        meso__v1__event__free_unpacked (ev, NULL);
    }
}

/* Replays stream st from its cursor, page after page, until its head or
 * the page budget. Returns the events handled, or -1 when delivery must
 * stop (the handler refused an event, or the replay was refused). */
static int
s_catch_up (meso_subscriber_t *self, meso_sub_stream_t *st, int64_t poll_end)
{
    int handled = 0;
    for (int page = 0; page < PAGES_PER_POLL; page++) {
        if (zsys_interrupted)
            return -1;
        /* Short: a daemon that is down must not hold the caller much past
         * its own timeout. */
        int64_t left = poll_end - meso_time_mono_ms ();
        int deadline = left < DEADLINE_BASE_MS ? (int) (left > 0 ? left : 0) : DEADLINE_BASE_MS;
        if (deadline < st->deadline_floor)
            deadline = st->deadline_floor;

        Meso__V1__ReplayRequest rq = MESO__V1__REPLAY_REQUEST__INIT;
        rq.stream = st->name;
        rq.after_seq = st->cursor;
        rq.limit = REPLAY_PAGE;
        meso_result_t r = { 0 };
        if (meso_bus_client_call (self->client, "events.Replay", &rq.base, NULL, deadline, &r) != 0) {
            /* A daemon that got the request but answered too late is busy,
             * not gone: ask again at the next poll, with the longer
             * deadline below. Pause only when it could not be reached. */
            st->retry_at = meso_time_mono_ms ()
                         + (r.status == MESO_DEADLINE_EXCEEDED ? 0 : RETRY_MS);
            if (r.status == MESO_FAILED_PRECONDITION || r.status == MESO_PERMISSION_DENIED) {
                /* Retrying will not help and skipping would lose events. */
                st->refused = true;
                meso_error ("subscriber %s: replay of %s after %" PRIu64 " refused: %s (%s)",
                            self->name, st->name, st->cursor, r.message,
                            r.reply && r.reply->detail ? r.reply->detail : "");
                meso_result_reset (&r);
                return -1;
            }
            if (r.status == MESO_DEADLINE_EXCEEDED && st->deadline_floor < DEADLINE_MAX_MS)
                st->deadline_floor = st->deadline_floor * 2 > DEADLINE_MAX_MS
                                   ? DEADLINE_MAX_MS : st->deadline_floor * 2;
            meso_warn ("subscriber %s: cannot replay %s after %" PRIu64 ": %s: %s (retrying)",
                       self->name, st->name, st->cursor, meso_status_name (r.status), r.message);
            meso_result_reset (&r);
            return handled;
        }
        st->refused = false;
        size_t len;
        const uint8_t *body = meso_result_body (&r, &len);
        s_page_t pg = { 0 };
        uint64_t before = st->cursor;
        s_page (self, st, body, len, &pg);
        meso_result_reset (&r);
        handled += pg.handled;
        if (pg.stop)
            return -1;
        if (pg.bad) {
            st->retry_at = meso_time_mono_ms () + RETRY_MS;
            return handled;
        }
        /* Past the events of the page we may not see (none when we see
         * every clinic). */
        if (pg.last > st->cursor && pg.last <= pg.head)
            st->cursor = pg.last;
        if (st->cursor > st->rung)
            st->rung = st->cursor;
        if (pg.head > st->head)
            st->head = pg.head;
        if (st->cursor >= pg.head) {
            /* Caught up with the log as it was when the page was made;
             * anything later is announced, or the heartbeat says so. */
            st->behind = false;
            return handled;
        }
        if (st->cursor == before) {
            meso_error ("subscriber %s: replay of %s after %" PRIu64 " returned nothing below "
                        "head %" PRIu64, self->name, st->name, st->cursor, pg.head);
            st->retry_at = meso_time_mono_ms () + RETRY_MS;
            return handled;
        }
    }
    return handled;             /* still behind: the next poll goes on */
}

/* ----------------------------------------------------------------- live */

static void
s_heartbeat (meso_subscriber_t *self, const uint8_t *data, size_t len)
{
    Meso__V1__Heartbeat *hb = meso__v1__heartbeat__unpack (NULL, len, data);
    if (!hb) {
        meso_warn ("subscriber %s: dropped a heartbeat of %zu bytes that does not decode",
                   self->name, len);
        return;
    }
    for (size_t i = 0; i < hb->n_heads; i++) {
        const Meso__V1__StreamHead *h = hb->heads[i];
        if (!h->stream)
            continue;
        meso_sub_stream_t *st = meso_subscriber_stream (self, h->stream, strlen (h->stream));
        if (!st)
            continue;
        if (h->head > st->head)
            st->head = h->head;
        /* Everything published before this heartbeat was read before it:
         * a head above the cursor is a real loss (see the top). */
        if (h->head > st->cursor && !st->behind)
            st->behind = true;
    }
    meso__v1__heartbeat__free_unpacked (hb, NULL);
}

/* A doorbell: stream of topic reached seq (decimal text). */
static void
s_doorbell (meso_subscriber_t *self, const char *topic, size_t tlen, const char *seqtext,
            size_t slen)
{
    const char *dot = memchr (topic, '.', tlen);
    meso_sub_stream_t *st = dot ? meso_subscriber_stream (self, topic, (size_t) (dot - topic)) : NULL;
    char digits[24];
    uint64_t seq = 0;
    if (st && slen > 0 && slen < sizeof digits) {
        memcpy (digits, seqtext, slen);
        digits[slen] = '\0';
        char *end;
        seq = strtoull (digits, &end, 10);
        if (*end)
            seq = 0;
    }
    if (!st)
        return;
    if (seq == 0) {
        /* Whatever it was, the log has it right: replay. */
        meso_warn ("subscriber %s: doorbell on topic %.*s without a sequence; replaying",
                   self->name, (int) (tlen > 64 ? 64 : tlen), topic);
        st->behind = true;
        return;
    }
    if (seq <= st->cursor) {
        self->dropped++;
        return;
    }
    if (seq > st->head)
        st->head = seq;
    uint64_t from = st->rung > st->cursor ? st->rung : st->cursor;
    if (seq == from + 1)
        st->rung = seq;             /* in order: live */
    st->behind = true;
}

/* Reads one live message if one is waiting. Returns -2 when none was,
 * else 0 (doorbells and heartbeats only mark streams behind). */
static int
s_take_live (meso_subscriber_t *self)
{
    zmq_msg_t frames[3];
    int n = 0, more = 1;
    while (more) {
        zmq_msg_t scratch;
        zmq_msg_t *frame = n < 3 ? &frames[n] : &scratch;
        zmq_msg_init (frame);
        if (zmq_msg_recv (frame, self->sub_handle, n == 0 ? ZMQ_DONTWAIT : 0) < 0) {
            int err = zmq_errno ();
            zmq_msg_close (frame);
            if (n == 0)
                return -2;
            if (err == EINTR && !zsys_interrupted)
                continue;
            break;
        }
        more = zmq_msg_more (frame);
        if (frame == &scratch)
            zmq_msg_close (frame);
        else
            n++;
    }
    if (n != 3)
        meso_warn ("subscriber %s: dropped a live message of %d frames (3 expected)", self->name, n);
    else {
        const char *topic = zmq_msg_data (&frames[0]);
        size_t tlen = zmq_msg_size (&frames[0]);
        if (tlen == 10 && memcmp (topic, "_heartbeat", 10) == 0)
            s_heartbeat (self, zmq_msg_data (&frames[2]), zmq_msg_size (&frames[2]));
        else
            /* A third frame with bytes (a publisher from before doorbells)
             * is ignored: only a scoped replay is trusted with events. */
            s_doorbell (self, topic, tlen, zmq_msg_data (&frames[1]), zmq_msg_size (&frames[1]));
    }
    for (int i = 0; i < n; i++)
        zmq_msg_close (&frames[i]);
    return 0;
}

/* ----------------------------------------------------------------- poll */

int
meso_subscriber_poll (meso_subscriber_t *self, int timeout_ms)
{
    assert (self);
    int64_t end = meso_time_mono_ms () + (timeout_ms > 0 ? timeout_ms : 0);
    int handled = 0;
    while (true) {
        if (zsys_interrupted)
            return -1;
        int64_t now = meso_time_mono_ms ();
        bool refused = false;
        for (int i = 0; i < self->nstreams; i++) {
            meso_sub_stream_t *st = &self->streams[i];
            if (st->behind && now >= st->retry_at) {
                int rc = s_catch_up (self, st, end);
                if (rc < 0)
                    return -1;
                handled += rc;
            }
            if (st->refused)
                refused = true;
        }
        for (int i = 0; i < LIVE_BATCH; i++)
            if (s_take_live (self) == -2)
                break;
        if (handled > 0)
            return handled;
        if (refused) {
            /* Still refused (waiting for the next attempt): keep saying so. */
            int64_t left = end - meso_time_mono_ms ();
            if (left > 0)
                zclock_sleep ((int) left);
            return -1;
        }

        /* Nothing handled yet. A gap found just now is replayed at once;
         * else wait for live input, or for the next replay attempt. */
        now = meso_time_mono_ms ();
        int64_t wait = end - now;
        bool due = false;
        for (int i = 0; i < self->nstreams; i++) {
            meso_sub_stream_t *st = &self->streams[i];
            if (st->behind) {
                if (st->retry_at <= now)
                    due = true;
                else if (st->retry_at - now < wait)
                    wait = st->retry_at - now;
            }
        }
        if (due && now < end)
            continue;
        if (wait <= 0)
            return 0;
        zmq_pollitem_t item = { self->sub_handle, 0, ZMQ_POLLIN, 0 };
        if (zmq_poll (&item, 1, (long) wait) < 0) {
            if (zmq_errno () == EINTR)
                continue;
            return -1;
        }
    }
}

int
meso_subscriber_run (meso_subscriber_t *self)
{
    assert (self);
    while (!zsys_interrupted)
        if (meso_subscriber_poll (self, 1000) < 0)
            break;
    return 0;
}
