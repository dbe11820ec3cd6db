/* subscriber.c -- the subscriber's lifecycle, streams and cursors (see
 * subscriber.h). Delivery -- doorbells, replays, the heartbeat, the poll
 * loop -- is in subscriber_feed.c, with the reasons it is built that way.
 *
 * SUB first, replay second: the constructor connects the SUB socket (a
 * CURVE client of the events PUB, which admits only known principals) and
 * the bus client; the first poll replays. */
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

#define SUB_HWM 100000

static const char *const s_known_streams[] = { "session", "screening", "stock", "billing" };

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
    return meso_subscriber_new_as (router, pub, name, NULL, fn, arg);
}

meso_subscriber_t *
meso_subscriber_new_as (const char *router, const char *pub, const char *name,
                        zcert_t *identity, meso_event_fn *fn, void *arg)
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
        && meso_curve_client (self->sub, "events", identity, err, sizeof err) != 0) {
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
    self->client = identity ? meso_bus_client_new_as ("events", router, identity)
                            : meso_bus_client_new ("events", router);
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

meso_sub_stream_t *
meso_subscriber_stream (meso_subscriber_t *self, const char *name, size_t len)
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
    meso_sub_stream_t *st = meso_subscriber_stream (self, stream, strlen (stream));
    if (!st) {
        assert (self->nstreams < MESO_SUB_MAX_STREAMS);
        st = &self->streams[self->nstreams++];
        memset (st, 0, sizeof *st);
        snprintf (st->name, sizeof st->name, "%s", stream);
        st->deadline_floor = MESO_SUB_DEADLINE_MIN_MS;
        char prefix[24];
        snprintf (prefix, sizeof prefix, "%s.", stream);
        zsock_set_subscribe (self->sub, prefix);
    }
    st->cursor = cursor;
    st->head = cursor;
    st->rung = cursor;
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
    meso_sub_stream_t *st = meso_subscriber_stream (self, stream, strlen (stream));
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
    meso_sub_stream_t *st = meso_subscriber_stream (self, stream, strlen (stream));
    return st ? st->cursor : 0;
}

uint64_t
meso_subscriber_head (meso_subscriber_t *self, const char *stream)
{
    assert (self && stream);
    meso_sub_stream_t *st = meso_subscriber_stream (self, stream, strlen (stream));
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

