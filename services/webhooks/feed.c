/* feed.c -- the events every subscription reads: a ring of recent events
 * per stream, filled by the live feed and by events.Replay.
 *
 * The daemon's principal ("webhooks": a service of every clinic, with
 * health access) sees every event whole and without gaps, so one copy
 * serves all subscriptions: the live feed (meso/subscriber.h, following
 * every stream from where it ended when the daemon started) puts each new
 * event in the ring, and a subscription at the head finds its next event
 * there without a request. A subscription behind the ring (parked for a
 * day, added with from_start, rewound by a replay) asks events.Replay for
 * a page after its cursor, which fills the ring too, so the others behind
 * at the same place find it. The ring is bounded (RING events and
 * RING_BYTES per stream); what does not fit is asked for again.
 *
 * Until events.Head has answered once, nothing is known of the heads and
 * nothing is delivered; a failed request to the events daemon waits a
 * second before the next, so a stopped events daemon costs one attempt
 * per second, not one per subscription. */
#include "webhooks.h"

#include <stdlib.h>
#include <string.h>

#include "events.pb-c.h"
#include "meso/log.h"
#include "meso/mtime.h"
#include "meso/subscriber.h"

#define RING 4096
#define RING_BYTES (16 * 1024 * 1024)
#define REPLAY_PAGE 256
#define RETRY_MS 1000
#define CALL_MS 2000

typedef struct {
    uint64_t seq;               /* 0: empty */
    uint64_t global;
    uint8_t *data;
    size_t len;
} s_slot_t;

struct wh_feed_t {
    char *router, *pub;
    meso_bus_client_t *client;
    meso_subscriber_t *live;        /* NULL until the heads are known */
    s_slot_t *ring[WH_NSTREAMS];
    size_t bytes[WH_NSTREAMS];
    uint64_t head[WH_NSTREAMS];
    bool known;
    int64_t next_try_ms;
    s_slot_t spill;                 /* the last event asked for that the ring could not keep */
    int spill_stream;
    uint64_t replays;
};

static void
s_put (wh_feed_t *self, int st, uint64_t seq, uint64_t global, const uint8_t *raw, size_t len)
{
    s_slot_t *slot = &self->ring[st][seq % RING];
    if (slot->seq == seq)
        return;
    if (slot->data) {
        self->bytes[st] -= slot->len;
        free (slot->data);
    }
    memset (slot, 0, sizeof *slot);
    if (self->bytes[st] + len > RING_BYTES)
        return;
    slot->data = malloc (len ? len : 1);
    if (!slot->data)
        return;
    memcpy (slot->data, raw, len);
    slot->len = len;
    slot->seq = seq;
    slot->global = global;
    self->bytes[st] += len;
}

static int
s_on_event (const Meso__V1__Event *ev, const uint8_t *raw, size_t len, void *arg)
{
    wh_feed_t *self = arg;
    int st = wh_stream_index (ev->stream);
    if (st < 0)
        return 0;
    s_put (self, st, ev->stream_seq, ev->global_seq, raw, len);
    if (ev->stream_seq > self->head[st])
        self->head[st] = ev->stream_seq;
    return 0;
}

wh_feed_t *
wh_feed_new (const char *router, const char *pub)
{
    wh_feed_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->router = strdup (router);
    self->pub = strdup (pub);
    self->client = meso_bus_client_new ("events", router);
    for (int i = 0; i < WH_NSTREAMS; i++)
        self->ring[i] = calloc (RING, sizeof (s_slot_t));
    bool ok = self->router && self->pub && self->client;
    for (int i = 0; i < WH_NSTREAMS; i++)
        ok = ok && self->ring[i];
    if (!ok)
        wh_feed_destroy (&self);
    else
        meso_bus_client_set_attempt_timeout (self->client, 500);
    return self;
}

void
wh_feed_destroy (wh_feed_t **self_p)
{
    wh_feed_t *self = *self_p;
    if (!self)
        return;
    meso_subscriber_destroy (&self->live);
    meso_bus_client_destroy (&self->client);
    for (int i = 0; i < WH_NSTREAMS; i++) {
        for (int j = 0; self->ring[i] && j < RING; j++)
            free (self->ring[i][j].data);
        free (self->ring[i]);
    }
    free (self->spill.data);
    free (self->router);
    free (self->pub);
    free (self);
    *self_p = NULL;
}

/* events.Head, then the live feed from there. */
static void
s_start_live (wh_feed_t *self)
{
    Meso__V1__HeadRequest rq = MESO__V1__HEAD_REQUEST__INIT;
    meso_result_t r = { 0 };
    if (meso_bus_client_call (self->client, "events.Head", &rq.base, NULL, CALL_MS, &r) != 0) {
        if (!self->next_try_ms)
            meso_warn ("events.Head on %s: %s (retrying every second)", self->router, r.message);
        self->next_try_ms = meso_time_mono_ms () + RETRY_MS;
        meso_result_reset (&r);
        return;
    }
    size_t len;
    const uint8_t *body = meso_result_body (&r, &len);
    Meso__V1__Heartbeat *hb = meso__v1__heartbeat__unpack (NULL, len, body);
    meso_result_reset (&r);
    if (!hb) {
        self->next_try_ms = meso_time_mono_ms () + RETRY_MS;
        return;
    }
    for (size_t i = 0; i < hb->n_heads; i++) {
        int st = wh_stream_index (hb->heads[i]->stream);
        if (st >= 0 && hb->heads[i]->head > self->head[st])
            self->head[st] = hb->heads[i]->head;
    }
    meso__v1__heartbeat__free_unpacked (hb, NULL);
    self->live = meso_subscriber_new (self->router, self->pub, "webhooks", s_on_event, self);
    for (int i = 0; self->live && i < WH_NSTREAMS; i++)
        meso_subscriber_follow (self->live, wh_stream_name (i), self->head[i]);
    if (!self->live) {
        self->next_try_ms = meso_time_mono_ms () + RETRY_MS;
        return;
    }
    self->known = true;
    self->next_try_ms = 0;
    meso_info ("following the events from session %llu, screening %llu, stock %llu, billing %llu",
               (unsigned long long) self->head[0], (unsigned long long) self->head[1],
               (unsigned long long) self->head[2], (unsigned long long) self->head[3]);
}

int
wh_feed_poll (wh_feed_t *self)
{
    if (!self->live) {
        if (meso_time_mono_ms () >= self->next_try_ms)
            s_start_live (self);
        return 0;
    }
    return meso_subscriber_poll (self->live, 0);
}

zsock_t *
wh_feed_socket (wh_feed_t *self)
{
    return self->live ? meso_subscriber_socket (self->live) : NULL;
}

int
wh_feed_head (wh_feed_t *self, int stream, uint64_t *seq)
{
    if (!self->known || stream < 0 || stream >= WH_NSTREAMS)
        return -1;
    *seq = self->head[stream];
    return 0;
}

uint64_t
wh_feed_replays (wh_feed_t *self)
{
    return self->replays;
}

/* A page after seq - 1 from events.Replay into the ring. 0 or -1. */
static int
s_replay (wh_feed_t *self, int st, uint64_t seq)
{
    Meso__V1__ReplayRequest rq = MESO__V1__REPLAY_REQUEST__INIT;
    rq.stream = (char *) wh_stream_name (st);
    rq.after_seq = seq - 1;
    rq.limit = REPLAY_PAGE;
    meso_result_t r = { 0 };
    self->replays++;
    if (meso_bus_client_call (self->client, "events.Replay", &rq.base, NULL, CALL_MS, &r) != 0) {
        meso_warn ("events.Replay %s after %llu: %s", rq.stream, (unsigned long long) rq.after_seq,
                   r.message);
        meso_result_reset (&r);
        self->next_try_ms = meso_time_mono_ms () + RETRY_MS;
        return -1;
    }
    size_t len;
    const uint8_t *body = meso_result_body (&r, &len);
    Meso__V1__ReplayReply *rep = meso__v1__replay_reply__unpack (NULL, len, body);
    meso_result_reset (&r);
    if (!rep) {
        self->next_try_ms = meso_time_mono_ms () + RETRY_MS;
        return -1;
    }
    if (rep->head > self->head[st])
        self->head[st] = rep->head;
    for (size_t i = 0; i < rep->n_events; i++) {
        Meso__V1__Event *ev = rep->events[i];
        size_t n = meso__v1__event__get_packed_size (ev);
        uint8_t *buf = malloc (n ? n : 1);
        if (!buf)
            break;
        meso__v1__event__pack (ev, buf);
        s_put (self, st, ev->stream_seq, ev->global_seq, buf, n);
        if (ev->stream_seq == seq && self->ring[st][seq % RING].seq != seq) {
            free (self->spill.data);
            self->spill = (s_slot_t) { seq, ev->global_seq, buf, n };
            self->spill_stream = st;
        }
        else
            free (buf);
    }
    meso__v1__replay_reply__free_unpacked (rep, NULL);
    return 0;
}

int
wh_feed_get (wh_feed_t *self, int stream, uint64_t seq, const uint8_t **raw, size_t *len,
             uint64_t *global)
{
    for (int pass = 0; pass < 2; pass++) {
        s_slot_t *slot = &self->ring[stream][seq % RING];
        if (slot->seq != seq && self->spill.seq == seq && self->spill_stream == stream)
            slot = &self->spill;
        if (slot->seq == seq) {
            *raw = slot->data;
            *len = slot->len;
            *global = slot->global;
            return 1;
        }
        if (pass == 1 || !self->known || seq > self->head[stream])
            return 0;
        if (meso_time_mono_ms () < self->next_try_ms)
            return -1;
        if (s_replay (self, stream, seq) != 0)
            return -1;
    }
    return 0;
}
