/* bus_watch.c -- what a bus client learns about its CURVE handshakes.
 *
 * Why it exists: a server that refuses the client's key never completes
 * the handshake, so with ZMQ_IMMEDIATE nothing can be sent and, left
 * alone, a call would wait out its deadline as if the daemon were down.
 * A socket monitor reports the refusals (ZMQ_EVENT_HANDSHAKE_FAILED_AUTH
 * and _PROTOCOL, and ZMQ_EVENT_HANDSHAKE_SUCCEEDED when one gets through);
 * the client reads it only while no peer is connected, so it costs nothing
 * per request. And libzmq ends a session whose handshake failed without
 * reconnecting it, so an endpoint that refused once -- a key registered a
 * moment after the first attempt, a server still loading its principals --
 * would stay dead for the socket: while refused, every endpoint is
 * connected again (at most every RECONNECT_MS). A call gives up with
 * UNAUTHENTICATED once every endpoint has refused for REFUSED_FINAL_MS.
 * ZAP status 300 (temporary: the server has not loaded its principals
 * yet) is not a refusal. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus_private.h"

#define REFUSED_MAX 8
#define REFUSED_FINAL_MS 1500   /* refused this long by every endpoint: give up */
#define RECONNECT_MS 200

struct meso_bus_watch_t {
    zsock_t *monitor;               /* PAIR on the socket's monitor */
    void *handle;                   /* the watched libzmq socket */
    char *endpoints;                /* as connected, comma-separated */
    char *refused [REFUSED_MAX];    /* endpoints whose last handshake failed */
    char why [160];                 /* "<endpoint>: <reason>" of the latest */
    int64_t refused_since;          /* ms since every endpoint refuses, 0: not */
    int64_t reconnected_at;
};

meso_bus_watch_t *
meso_bus_watch_new (void *handle, const char *endpoints)
{
    meso_bus_watch_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->handle = handle;
    self->endpoints = strdup (endpoints);
    char endpoint [64];
    snprintf (endpoint, sizeof endpoint, "inproc://meso-client-monitor-%p", (void *) self);
    if (self->endpoints
        && zmq_socket_monitor (handle, endpoint,
                               ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL
                               | ZMQ_EVENT_HANDSHAKE_SUCCEEDED) == 0)
        self->monitor = zsock_new_pair (endpoint);
    if (!self->monitor) {
        free (self->endpoints);
        free (self);
        return NULL;
    }
    zsock_set_rcvtimeo (self->monitor, 0);
    return self;
}

void
meso_bus_watch_destroy (meso_bus_watch_t **self_p, void *handle)
{
    meso_bus_watch_t *self = *self_p;
    if (!self)
        return;
    zmq_socket_monitor (handle, NULL, 0);
    zsock_destroy (&self->monitor);
    for (int i = 0; i < REFUSED_MAX; i++)
        free (self->refused [i]);
    free (self->endpoints);
    free (self);
    *self_p = NULL;
}

static void
s_refused_set (meso_bus_watch_t *self, const char *endpoint, bool refused)
{
    int free_slot = -1;
    for (int i = 0; i < REFUSED_MAX; i++) {
        if (self->refused [i] && strcmp (self->refused [i], endpoint) == 0) {
            if (!refused) {
                free (self->refused [i]);
                self->refused [i] = NULL;
            }
            return;
        }
        if (!self->refused [i] && free_slot < 0)
            free_slot = i;
    }
    if (refused && free_slot >= 0)
        self->refused [free_slot] = strdup (endpoint);
}

int
meso_bus_watch_refusing (meso_bus_watch_t *self)
{
    while (true) {
        zmsg_t *msg = zmsg_recv (self->monitor);
        if (!msg)
            break;
        zframe_t *head = zmsg_first (msg);
        zframe_t *addr = zmsg_next (msg);
        if (head && zframe_size (head) >= 6 && addr) {
            uint16_t event;
            uint32_t value;
            memcpy (&event, zframe_data (head), 2);
            memcpy (&value, zframe_data (head) + 2, 4);
            char *endpoint = zframe_strdup (addr);
            bool ok = event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED;
            bool refused = !ok && !(event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH && value == 300);
            if (endpoint && (refused || ok))
                s_refused_set (self, endpoint, refused);
            if (endpoint && event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH && refused)
                snprintf (self->why, sizeof self->why,
                          "%s: the server refused this process's key (ZAP %u)", endpoint, value);
            else
            if (endpoint && event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL)
                snprintf (self->why, sizeof self->why,
                          "%s: the CURVE handshake failed (wrong server key, or the server is "
                          "not CURVE)", endpoint);
            free (endpoint);
        }
        zmsg_destroy (&msg);
    }
    int n = 0;
    for (int i = 0; i < REFUSED_MAX; i++)
        n += self->refused [i] != NULL;
    return n;
}

/* Connects every endpoint again (see the top comment). */
static void
s_reconnect (meso_bus_watch_t *self)
{
    int64_t now = zclock_mono ();
    if (now - self->reconnected_at < RECONNECT_MS)
        return;
    self->reconnected_at = now;
    char *list = strdup (self->endpoints);
    char *save = NULL;
    for (char *ep = list ? strtok_r (list, ",", &save) : NULL; ep;
         ep = strtok_r (NULL, ",", &save)) {
        while (*ep == ' ')
            ep++;
        if (!*ep)
            continue;
        zmq_disconnect (self->handle, ep);
        zmq_connect (self->handle, ep);
    }
    free (list);
}

bool
meso_bus_watch_refused (meso_bus_watch_t *self, int n_endpoints)
{
    int refusing = meso_bus_watch_refusing (self);
    if (refusing > 0)
        s_reconnect (self);
    if (refusing < n_endpoints) {
        self->refused_since = 0;
        return false;
    }
    if (self->refused_since == 0)
        self->refused_since = zclock_mono ();
    return zclock_mono () - self->refused_since >= REFUSED_FINAL_MS;
}

const char *
meso_bus_watch_why (meso_bus_watch_t *self)
{
    return *self->why ? self->why : self->endpoints;
}
