/* subscriber.c -- receiving events once each, in order, from a cursor (see
 * subscriber.h).
 *
 * Why it is built this way:
 * - The cursor is the whole truth. Every event, live or replayed, goes
 *   through one gate (s_offer): stream_seq <= cursor is a duplicate and is
 *   dropped, cursor + 1 is handed to the handler, anything higher is a gap
 *   and only marks the stream "behind". So live and replayed events can
 *   arrive in any interleaving and the handler still sees 1, 2, 3... once.
 * - A gap never buffers the live event that revealed it: that event is in
 *   the log already (the daemon publishes only after commit), so the replay
 *   brings it back in its place. Same after a handler refusal: the stream
 *   is marked behind and the next poll replays from the unchanged cursor.
 * - The heartbeat is what finds a lost tail: PUB drops silently (high-water
 *   mark, slow joiner, our own restart), and when the lost events were the
 *   last of a burst no later event shows the gap. Messages from one PUB
 *   arrive in order, so by the time a heartbeat is read every event
 *   published before it has been read too: a head above the cursor means a
 *   real loss, not a race.
 * - Replays are synchronous calls with a short deadline. With ZMQ_IMMEDIATE
 *   (bus client) a daemon that is down costs at most the deadline, after
 *   which the stream waits RETRY_MS before the next attempt; live events
 *   keep flowing meanwhile when they are contiguous. A daemon that answers
 *   but too slowly gets a doubled deadline next time (up to a cap), so a
 *   loaded daemon is not asked forever with a deadline it cannot meet.
 * - A replay page is walked on the wire (field 1 entries, field 2 head)
 *   rather than unpacked whole, so the handler gets each event's bytes
 *   exactly as the daemon sent them, as it does for live events.
 * - A replay refused with FAILED_PRECONDITION (the events were pruned, or
 *   the cursor is ahead of the log: a restored database) is not something a
 *   retry fixes, and skipping would lose events silently: it is logged as an
 *   error and poll returns -1, on every poll, until it stops being true.
 * - One poll does a bounded amount of work (PAGES_PER_POLL replay pages,
 *   LIVE_BATCH live messages), so a caller far behind still gets control
 *   back regularly.
 */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meso/curve.h"
#include "meso/bus.h"
#include "meso/log.h"
#include "meso/mtime.h"
#include "meso/status.h"
#include "meso/subscriber.h"
#include "subscriber_private.h"

#define MAX_STREAMS 4
#define REPLAY_PAGE 5000        /* events asked per events.Replay (the daemon caps the bytes) */
#define PAGES_PER_POLL 20       /* replay pages per stream per poll at most */
#define LIVE_BATCH 1000         /* live messages read per pass at most */
#define RETRY_MS 500            /* pause after a failed replay */
#define DEADLINE_MIN_MS 200     /* replay deadline floor, doubled on timeouts */
#define DEADLINE_MAX_MS 4000
#define DEADLINE_BASE_MS 1000   /* deadline when the poll has more time left */
#define SUB_HWM 100000

static const char *const s_known_streams[] = { "session", "screening", "stock", "billing" };

typedef struct {
    char name[16];
    uint64_t cursor;            /* last sequence handled */
    uint64_t head;              /* highest sequence known to exist */
    bool behind;                /* a replay is due */
    bool refused;               /* the last replay was refused (FAILED_PRECONDITION) */
    int64_t retry_at;           /* monotonic ms: no replay before this */
    int deadline_floor;         /* replay deadline floor in ms */
} s_stream_t;

struct meso_subscriber_t {
    zsock_t *sub;
    void *sub_handle;
    meso_bus_client_t *client;
    char *name;
    meso_event_fn *fn;
    void *arg;
    s_stream_t streams[MAX_STREAMS];
    int nstreams;
    uint64_t replayed;
    uint64_t live;
    uint64_t dropped;
};

/* What s_offer did with an event. */
typedef enum { OFFER_HANDLED, OFFER_DUPLICATE, OFFER_GAP, OFFER_STOP } s_offer_t;

/* ------------------------------------------------------------ lifecycle */

static int
s_connect_all (zsock_t *sock, const char *endpoints)
{
    char *list = strdup (endpoints);
    if (!list)
        return 0;
    int connected = 0;
    char *save = NULL;
    for (char *ep = strtok_r (list, ",", &save); ep; ep = strtok_r (NULL, ",", &save)) {
        while (*ep == ' ')
            ep++;
        if (!*ep)
            continue;
        if (zsock_connect (sock, "%s", ep) < 0)
            meso_warn ("cannot connect SUB to %s: %s", ep, zmq_strerror (zmq_errno ()));
        else
            connected++;
    }
    free (list);
    return connected;
}

meso_subscriber_t *
meso_subscriber_new (const char *router, const char *pub, const char *name,
                     meso_event_fn *fn, void *arg)
{
    assert (router && *router);
    assert (pub && *pub);
    assert (fn);
    meso_subscriber_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->fn = fn;
    self->arg = arg;
    self->name = strdup (name && *name ? name : "subscriber");
    self->sub = zsock_new (ZMQ_SUB);
    if (!self->name || !self->sub) {
        meso_subscriber_destroy (&self);
        return NULL;
    }
    self->sub_handle = zsock_resolve (self->sub);
    /* Dropping at the high-water mark is survivable (the heartbeat finds
     * it) but costs a replay: keep a generous queue. */
    zsock_set_rcvhwm (self->sub, SUB_HWM);
    zsock_set_linger (self->sub, 0);
    zsock_set_maxmsgsize (self->sub, 4 * MESO_BUS_MAX_FRAME);
    zsock_set_reconnect_ivl (self->sub, 100);
    zsock_set_reconnect_ivl_max (self->sub, 1000);
    zsock_set_subscribe (self->sub, "_heartbeat");
    /* The PUB only admits known keys (CURVE, like the ROUTER). */
    char err [256];
    if (!meso_bus_plaintext_endpoint (pub)
        && meso_curve_client (self->sub, "events", NULL, err, sizeof err) != 0) {
        meso_error ("subscriber %s: %s", self->name, err);
        meso_subscriber_destroy (&self);
        return NULL;
    }
    /* SUB first, replay second (subscriber.h): the socket exists and
     * connects now, the replay happens at the first poll. */
    if (s_connect_all (self->sub, pub) == 0) {
        meso_error ("subscriber %s: no usable PUB endpoint in \"%s\"", self->name, pub);
        meso_subscriber_destroy (&self);
        return NULL;
    }
    self->client = meso_bus_client_new ("events", router);
    if (!self->client) {
        meso_error ("subscriber %s: cannot make a client for \"%s\"", self->name, router);
        meso_subscriber_destroy (&self);
        return NULL;
    }
    return self;
}

void
meso_subscriber_destroy (meso_subscriber_t **self_p)
{
    assert (self_p);
    meso_subscriber_t *self = *self_p;
    if (!self)
        return;
    zsock_destroy (&self->sub);
    meso_bus_client_destroy (&self->client);
    free (self->name);
    free (self);
    *self_p = NULL;
}

static s_stream_t *
s_stream (meso_subscriber_t *self, const char *name, size_t len)
{
    for (int i = 0; i < self->nstreams; i++)
        if (strlen (self->streams[i].name) == len && memcmp (self->streams[i].name, name, len) == 0)
            return &self->streams[i];
    return NULL;
}

int
meso_subscriber_follow (meso_subscriber_t *self, const char *stream, uint64_t cursor)
{
    assert (self);
    assert (stream);
    bool known = false;
    for (size_t i = 0; i < sizeof s_known_streams / sizeof s_known_streams[0]; i++)
        if (strcmp (stream, s_known_streams[i]) == 0)
            known = true;
    if (!known) {
        meso_error ("subscriber %s: unknown stream \"%s\" (session, screening, stock, billing)",
                    self->name, stream);
        return -1;
    }
    s_stream_t *st = s_stream (self, stream, strlen (stream));
    if (!st) {
        assert (self->nstreams < MAX_STREAMS);
        st = &self->streams[self->nstreams++];
        memset (st, 0, sizeof *st);
        snprintf (st->name, sizeof st->name, "%s", stream);
        st->deadline_floor = DEADLINE_MIN_MS;
        char prefix[24];
        snprintf (prefix, sizeof prefix, "%s.", stream);
        zsock_set_subscribe (self->sub, prefix);
    }
    st->cursor = cursor;
    st->head = cursor;
    st->behind = true;          /* the first poll replays from the cursor */
    st->refused = false;
    st->retry_at = 0;
    return 0;
}

int
meso_subscriber_set_cursor (meso_subscriber_t *self, const char *stream, uint64_t cursor)
{
    assert (self);
    assert (stream);
    s_stream_t *st = s_stream (self, stream, strlen (stream));
    if (!st)
        return -1;
    st->cursor = cursor;
    st->behind = true;
    st->retry_at = 0;
    return 0;
}

uint64_t
meso_subscriber_cursor (meso_subscriber_t *self, const char *stream)
{
    assert (self);
    assert (stream);
    s_stream_t *st = s_stream (self, stream, strlen (stream));
    return st ? st->cursor : 0;
}

uint64_t
meso_subscriber_head (meso_subscriber_t *self, const char *stream)
{
    assert (self && stream);
    s_stream_t *st = s_stream (self, stream, strlen (stream));
    return st ? st->head : 0;
}

zsock_t *
meso_subscriber_socket (meso_subscriber_t *self)
{
    assert (self);
    return self->sub;
}

uint64_t
meso_subscriber_replayed (meso_subscriber_t *self)
{
    assert (self);
    return self->replayed;
}

uint64_t
meso_subscriber_live (meso_subscriber_t *self)
{
    assert (self);
    return self->live;
}

uint64_t
meso_subscriber_dropped (meso_subscriber_t *self)
{
    assert (self);
    return self->dropped;
}

/* ------------------------------------------------------------ the gate */

static s_offer_t
s_offer (meso_subscriber_t *self, s_stream_t *st, const Meso__V1__Event *ev,
         const uint8_t *raw, size_t len, bool replayed)
{
    uint64_t seq = ev->stream_seq;
    if (seq <= st->cursor) {
        self->dropped++;
        return OFFER_DUPLICATE;
    }
    if (seq > st->head)
        st->head = seq;
    if (seq != st->cursor + 1) {
        st->behind = true;
        return OFFER_GAP;
    }
    if (self->fn (ev, raw, len, self->arg) != 0) {
        /* Same event again on the next poll, from the log. The handler may
         * have moved the cursor (consumer): replay from wherever it is. */
        st->behind = true;
        st->retry_at = 0;
        return OFFER_STOP;
    }
    st->cursor = seq;
    if (replayed)
        self->replayed++;
    else
        self->live++;
    return OFFER_HANDLED;
}

/* --------------------------------------------------------------- replay */

/* Reads a varint at *pos; 0 or -1 when truncated or too long. */
static int
s_varint (const uint8_t *p, size_t len, size_t *pos, uint64_t *out)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (*pos >= len)
            return -1;
        uint8_t b = p[(*pos)++];
        v |= (uint64_t) (b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = v;
            return 0;
        }
    }
    return -1;
}

/* Outcome of one replay page. */
typedef struct {
    uint64_t head;              /* ReplayReply.head */
    int events;                 /* entries in the page */
    int handled;                /* handed to the handler */
    bool stop;                  /* the handler refused one */
    bool bad;                   /* the page does not decode or is not contiguous */
} s_page_t;

/* Walks a packed ReplayReply, offering each event in turn. */
static void
s_page (meso_subscriber_t *self, s_stream_t *st, const uint8_t *p, size_t len, s_page_t *out)
{
    size_t pos = 0;
    while (pos < len && !out->stop && !out->bad) {
        uint64_t key, n;
        if (s_varint (p, len, &pos, &key) != 0) {
            out->bad = true;
            break;
        }
        uint32_t field = (uint32_t) (key >> 3), wire = (uint32_t) (key & 7);
        if (field == 1 && wire == 2) {
            if (s_varint (p, len, &pos, &n) != 0 || n > len - pos) {
                out->bad = true;
                break;
            }
            const uint8_t *raw = p + pos;
            pos += (size_t) n;
            out->events++;
            Meso__V1__Event *ev = meso__v1__event__unpack (NULL, (size_t) n, raw);
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
            else {
                switch (s_offer (self, st, ev, raw, (size_t) n, true)) {
                case OFFER_HANDLED:
                    out->handled++;
                    break;
                case OFFER_DUPLICATE:
                    break;
                case OFFER_GAP:
                    meso_error ("subscriber %s: replay of %s is not contiguous: got %" PRIu64
                                " after %" PRIu64, self->name, st->name, ev->stream_seq, st->cursor);
                    out->bad = true;
                    break;
                case OFFER_STOP:
                    out->stop = true;
                    break;
                }
            }
            meso__v1__event__free_unpacked (ev, NULL);
        }
        else if (field == 2 && wire == 0) {
            if (s_varint (p, len, &pos, &out->head) != 0)
                out->bad = true;
        }
        else if (wire == 0) {
            if (s_varint (p, len, &pos, &n) != 0)
                out->bad = true;
        }
        else if (wire == 1 || wire == 5) {
            size_t skip = wire == 1 ? 8 : 4;
            if (skip > len - pos)
                out->bad = true;
            else
                pos += skip;
        }
        else if (wire == 2) {
            if (s_varint (p, len, &pos, &n) != 0 || n > len - pos)
                out->bad = true;
            else
                pos += (size_t) n;
        }
        else
            out->bad = true;
    }
}

/* Replays stream st from its cursor, page after page, until its head or
 * the page budget. Returns the events handled, or -1 when delivery must
 * stop (the handler refused an event, or the replay was refused). */
static int
s_catch_up (meso_subscriber_t *self, s_stream_t *st, int64_t poll_end)
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
            if (r.status == MESO_FAILED_PRECONDITION) {
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
        s_page (self, st, body, len, &pg);
        meso_result_reset (&r);
        handled += pg.handled;
        if (pg.stop)
            return -1;
        if (pg.bad) {
            st->retry_at = meso_time_mono_ms () + RETRY_MS;
            return handled;
        }
        if (pg.head > st->head)
            st->head = pg.head;
        if (st->cursor >= pg.head) {
            /* Caught up with the log as it was when the page was made;
             * anything later comes live, or the heartbeat says so. */
            st->behind = false;
            return handled;
        }
        if (pg.events == 0) {
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
        s_stream_t *st = s_stream (self, h->stream, strlen (h->stream));
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

/* Reads one live message if one is waiting. Returns -2 when none was, -1
 * when the handler refused an event, else the events handled (0 or 1). */
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
    int rc = 0;
    if (n != 3)
        meso_warn ("subscriber %s: dropped a live message of %d frames (3 expected)", self->name, n);
    else {
        const char *topic = zmq_msg_data (&frames[0]);
        size_t tlen = zmq_msg_size (&frames[0]);
        const uint8_t *data = zmq_msg_data (&frames[2]);
        size_t len = zmq_msg_size (&frames[2]);
        if (tlen == 10 && memcmp (topic, "_heartbeat", 10) == 0)
            s_heartbeat (self, data, len);
        else {
            Meso__V1__Event *ev = meso__v1__event__unpack (NULL, len, data);
            const char *dot = memchr (topic, '.', tlen);
            s_stream_t *st = ev ? s_stream (self, ev->stream, strlen (ev->stream))
                               : dot ? s_stream (self, topic, (size_t) (dot - topic)) : NULL;
            if (!ev) {
                /* Whatever it was, the log has it right: replay. */
                meso_warn ("subscriber %s: live event on topic %.*s does not decode; replaying",
                           self->name, (int) (tlen > 64 ? 64 : tlen), topic);
                if (st)
                    st->behind = true;
            }
            else {
                if (st) {
                    s_offer_t o = s_offer (self, st, ev, data, len, false);
                    rc = o == OFFER_HANDLED ? 1 : o == OFFER_STOP ? -1 : 0;
                }
                meso__v1__event__free_unpacked (ev, NULL);
            }
        }
    }
    for (int i = 0; i < n; i++)
        zmq_msg_close (&frames[i]);
    return rc;
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
            s_stream_t *st = &self->streams[i];
            if (st->behind && now >= st->retry_at) {
                int rc = s_catch_up (self, st, end);
                if (rc < 0)
                    return -1;
                handled += rc;
            }
            if (st->refused)
                refused = true;
        }
        for (int i = 0; i < LIVE_BATCH; i++) {
            int rc = s_take_live (self);
            if (rc == -2)
                break;
            if (rc == -1)
                return -1;
            handled += rc;
        }
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
            s_stream_t *st = &self->streams[i];
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
