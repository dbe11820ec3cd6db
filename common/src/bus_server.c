/* bus_server.c -- the ROUTER side of the bus: the server's lifecycle, its
 * loop without workers, and starting and draining its workers.
 *
 * The work is in three files: bus_serve.c serves one request (decode,
 * authorise, dispatch, pack, log), bus_route.c moves frames in and out of
 * the ROUTER, bus_pool.c runs the worker threads (DESIGN, "Inside a
 * daemon: concurrency"). A server without workers (tests, tools, the
 * benchmark's reference) serves in the thread that calls
 * meso_bus_server_handle; a daemon starts workers and its main thread
 * only ticks.
 *
 * Why it is built this way:
 * - ZMQ_ROUTER_MANDATORY and a send HWM from a per-peer byte budget
 *   (MESO_BUS_PEER_BUDGET, 64 MiB, divided by the largest reply): a client
 *   sending requests it never reads holds at most the budget in the
 *   daemon; replies past it are dropped and counted (bus_route.c).
 * - Frames are capped (ZMQ_MAXMSGSIZE at 4x MESO_BUS_MAX_FRAME: larger
 *   ones drop the connection; those between are answered
 *   RESOURCE_EXHAUSTED).
 * - Without workers, the lines of one burst (what meso_bus_server_handle
 *   serves in one call) are written together through
 *   meso_log_batch_begin/end: one write(2) per ~15 lines. */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meso/bus.h"
#include "meso/contract.h"
#include "meso/curve.h"
#include "meso/db.h"
#include "meso/log.h"
#include "meso/metrics.h"
#include "bus_private.h"

#define HWM 10000               /* receive side; the send side is from the budget */
#define LINGER_MS 200
#define BATCH_MAX 256           /* requests per meso_bus_server_handle call */

#define DROPPED_HELP "Replies dropped: the peer was gone or not reading (its queue was full)."

/* ------------------------------------------------------------ lifecycle */

meso_bus_server_t *
meso_bus_server_new (const char *service, const char *endpoint,
                     const meso_method_t *methods, void *arg, struct meso_db_t *db)
{
    assert (service && *service);
    assert (endpoint && *endpoint);
    assert (methods);

    meso_fd_limit_raise ();     /* every daemon serves through one of these */
    meso_bus_server_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->service = strdup (service);
    self->endpoint = strdup (endpoint);
    self->methods = methods;
    int slot_rc = meso_bus_slot_init (&self->slot, arg, db);
    self->started_ms = zclock_mono ();
    if (asprintf (&self->health_method, "%s.Health", service) < 0)
        self->health_method = NULL;

    /* The list of methods quoted by NOT_FOUND, built once. */
    size_t size = strlen (self->health_method ? self->health_method : "") + 1;
    for (const meso_method_t *m = methods; m->name; m++)
        size += strlen (m->name) + 2;
    self->method_list = malloc (size);
    if (!self->service || !self->endpoint || slot_rc != 0 || !self->health_method
        || !self->method_list) {
        meso_bus_server_destroy (&self);
        return NULL;
    }
    char *p = self->method_list;
    for (const meso_method_t *m = methods; m->name; m++) {
        assert (m->fn);
        p += sprintf (p, "%s, ", m->name);
    }
    strcpy (p, self->health_method);
    if (meso_contract_verify (service, methods) != 0) {
        meso_bus_server_destroy (&self);
        return NULL;
    }
    /* Both series exist from the start at 0, so that rate() and the
     * alerts see the first drop (a counter born at 1 is invisible to
     * rate()). */
    meso_metrics_add ("meso_bus_replies_dropped_total", DROPPED_HELP, "reason", "gone", 0);
    meso_metrics_add ("meso_bus_replies_dropped_total", DROPPED_HELP, "reason", "not_reading", 0);

    self->router = zsock_new (ZMQ_ROUTER);
    if (!self->router) {
        meso_error ("cannot create the ROUTER socket: %s", zmq_strerror (zmq_errno ()));
        meso_bus_server_destroy (&self);
        return NULL;
    }
    self->handle = zsock_resolve (self->router);
    zsock_set_router_mandatory (self->router, 1);
    zsock_set_maxmsgsize (self->router, 4 * MESO_BUS_MAX_FRAME);
    zsock_set_linger (self->router, LINGER_MS);
    self->sndhwm = meso_bus_peer_hwm (meso_bus_peer_budget ());
    /* The HWM counts frames, and a reply is two in the peer's pipe (the
     * empty delimiter and the body; the identity frame only routes). At
     * an HWM of sndhwm a peer held sndhwm / 2 replies, and less: libzmq
     * learns what the reader took only every HWM / 2 frames. So 16
     * requests in flight met the HWM of 64 under load and lost replies
     * (integration_test_workers). Twice sndhwm keeps the byte bound (at
     * most sndhwm bodies) and lets sndhwm / 2 replies wait whatever the
     * lag. */
    zsock_set_sndhwm (self->router, 2 * self->sndhwm);
    zsock_set_rcvhwm (self->router, HWM);
    self->plaintext = meso_bus_plaintext (endpoint);
    if (self->plaintext)
        meso_warn ("%s on %s is PLAINTEXT (MESO_PLAINTEXT_ENDPOINTS): no encryption, no "
                   "authentication; only methods open to anyone answer there", service, endpoint);
    else
    if (meso_curve_server (self->router, service) != 0) {
        meso_bus_server_destroy (&self);
        return NULL;
    }
    if (zsock_bind (self->router, "%s", endpoint) < 0) {
        meso_error ("cannot bind %s on %s: %s", service, endpoint,
                    zmq_strerror (zmq_errno ()));
        meso_bus_server_destroy (&self);
        return NULL;
    }
    self->monitor = meso_bus_monitor_new (self->handle);
    meso_info ("%s serving on %s", service, endpoint);
    return self;
}

void
meso_bus_server_destroy (meso_bus_server_t **self_p)
{
    assert (self_p);
    meso_bus_server_t *self = *self_p;
    if (!self)
        return;
    meso_bus_pool_drain (&self->pool);
    meso_bus_monitor_destroy (&self->monitor);
    zsock_destroy (&self->router);
    meso_bus_slot_fini (&self->slot);
    free (self->method_list);
    free (self->health_method);
    free (self->endpoint);
    free (self->service);
    free (self);
    *self_p = NULL;
}

void
meso_bus_server_set_health (meso_bus_server_t *self, meso_health_fn *fn, void *arg)
{
    assert (self);
    self->health_fn = fn;
    self->health_arg = arg;
}

zsock_t *
meso_bus_server_socket (meso_bus_server_t *self)
{
    assert (self);
    return self->router;
}

uint64_t
meso_bus_server_served (meso_bus_server_t *self)
{
    assert (self);
    return atomic_load (&self->served);
}

void
meso_bus_server_stop (meso_bus_server_t *self)
{
    assert (self);
    atomic_store (&self->stopped, 1);
}
/* Reads and answers one message in this thread. Returns 1 when one was
 * served, 0 when nothing was waiting, -1 on error. */
static int
s_serve_one (meso_bus_server_t *self)
{
    meso_bus_job_t job;
    int rc = meso_bus_recv (self, &job);
    if (rc <= 0)
        return rc;
    meso_bus_serve (self, &self->slot, &job);
    meso_bus_send (self, &job);
    meso_bus_job_close (&job);
    return 1;
}

int
meso_bus_server_handle (meso_bus_server_t *self)
{
    assert (self);
    if (self->pool)
        return 0;               /* the workers serve */
    int served = 0;
    meso_log_batch_begin ();
    while (served < BATCH_MAX) {
        int rc = s_serve_one (self);
        if (rc == 0)
            break;
        if (rc < 0) {
            if (zmq_errno () == EINTR && !zsys_interrupted)
                continue;
            meso_log_batch_end ();
            return zsys_interrupted || zmq_errno () == ETERM ? -1 : served;
        }
        served++;
    }
    meso_log_batch_end ();
    return served;
}

int
meso_bus_server_run (meso_bus_server_t *self, meso_tick_fn *tick, void *tick_arg, int tick_ms)
{
    assert (self);
    assert (!tick || tick_ms > 0);
    /* Without a tick, wake now and then to notice meso_bus_server_stop
     * called from another thread. */
    const int idle_ms = 200;
    int64_t next_tick = tick ? zclock_mono () + tick_ms : 0;
    while (!atomic_load (&self->stopped) && !zsys_interrupted) {
        long timeout = idle_ms;
        if (tick) {
            int64_t left = next_tick - zclock_mono ();
            timeout = left < 0 ? 0 : left < idle_ms ? left : idle_ms;
        }
        /* With workers this thread only ticks: it waits on nothing. */
        zmq_pollitem_t item = { self->handle, 0, ZMQ_POLLIN, 0 };
        int rc = zmq_poll (self->pool ? NULL : &item, self->pool ? 0 : 1, timeout);
        if (rc < 0) {
            if (zmq_errno () == EINTR)
                continue;       /* the loop condition sees zsys_interrupted */
            meso_error ("zmq_poll: %s", zmq_strerror (zmq_errno ()));
            break;
        }
        if (rc > 0 && meso_bus_server_handle (self) < 0)
            break;
        if (tick && zclock_mono () >= next_tick) {
            tick (tick_arg);
            next_tick = zclock_mono () + tick_ms;
        }
    }
    meso_bus_server_drain (self);
    return 0;
}

/* --------------------------------------------------------------- server */

int
meso_bus_server_start (meso_bus_server_t *self, int workers, meso_worker_init_fn *init,
                       meso_worker_fini_fn *fini, void *arg)
{
    assert (self);
    assert (init && fini);
    assert (!self->pool);
    /* Set before the threads start: the workers read it (Health). */
    self->workers = workers;
    if (meso_bus_pool_start (self, workers, init, fini, arg, &self->pool) != 0) {
        self->workers = 0;
        return -1;
    }
    meso_metrics_set ("meso_bus_workers", "Request worker threads of this daemon (MESO_WORKERS).",
                      NULL, NULL, workers);
    meso_info ("%s: %d worker%s", self->service, workers, workers > 1 ? "s" : "");
    return 0;
}

void
meso_bus_server_drain (meso_bus_server_t *self)
{
    assert (self);
    meso_bus_pool_drain (&self->pool);
}

int
meso_bus_server_workers (meso_bus_server_t *self)
{
    assert (self);
    return self->pool ? self->workers : 0;
}

int
meso_bus_workers_resolve (long value)
{
    if (value >= 1 && value <= MESO_BUS_WORKERS_MAX)
        return (int) value;
    long cores = sysconf (_SC_NPROCESSORS_ONLN);
    return cores < 1 ? 1 : cores > MESO_BUS_WORKERS_MAX ? MESO_BUS_WORKERS_MAX : (int) cores;
}
