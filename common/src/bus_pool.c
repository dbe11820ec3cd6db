/* bus_pool.c -- a server's worker threads (DESIGN, "Inside a daemon:
 * concurrency"; the zguide's load-balancing broker with CZMQ actors).
 *
 * Why it is built this way:
 * - One routing thread owns the ROUTER socket (a ZeroMQ socket belongs to
 *   one thread) and only moves frames: it reads a request into an idle
 *   worker's job and tells the worker over the actor's pipe (one byte);
 *   the worker serves it with its own slot (its handler arg, connection,
 *   reply and arena) and answers with one byte; the routing thread sends
 *   the packed reply from the worker's buffer and marks the worker idle.
 *   No request is copied between threads and nothing is allocated per
 *   request. The frames keep their metadata (the CURVE User-Id the
 *   caller is known by) because the worker reads the same zmq_msg_t.
 * - A resent copy of a request still being served is dropped (see
 *   s_duplicate): the original's reply answers it.
 * - Requests go only to idle workers: with a plain DEALER spreading them
 *   round-robin, a request would wait behind a slow one while another
 *   worker is idle. When every worker is busy the routing thread stops
 *   reading, and requests wait in the ROUTER's queue (bounded by its
 *   receive HWM): that is the backpressure.
 * - Each worker's state is made by the daemon's init in the worker's own
 *   thread, so a PGconn, its prepared statements and a worker's bus
 *   clients are only ever used by the thread that made them.
 * - Graceful stop (meso_bus_server_drain): the routing thread stops
 *   reading the ROUTER, waits for every request in flight to come back,
 *   sends the replies, stops the workers and says DRAINED. The caller
 *   waits for that word itself, retrying on EINTR, rather than through
 *   zactor_destroy alone, whose wait gives up on a signal.
 * - SIGINT and SIGTERM are blocked in the routing and worker threads (they
 *   inherit the mask they are created with): the main thread alone sees
 *   them and decides when to drain. */
#include <assert.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "meso/bus.h"
#include "meso/db.h"
#include "meso/log.h"
#include "meso/metrics.h"
#include "bus_private.h"

typedef struct {
    meso_bus_server_t *server;
    int index;
    meso_worker_init_fn *init;
    meso_worker_fini_fn *fini;
    void *arg;
    atomic_int status;          /* 0 starting, 1 serving, -1 failed to start */
    zactor_t *actor;
    meso_bus_job_t job;         /* the request it serves (one at a time) */
    bool busy;                  /* the routing thread's: job is being served */
    char rid [MESO_BUS_REQUEST_ID_PEEK];    /* job's request id ("" unknown) */
} s_worker_t;

struct meso_bus_pool_t {
    meso_bus_server_t *server;
    zactor_t *router;           /* the routing thread */
    int n;
    s_worker_t *workers;
};

/* ------------------------------------------------------------- a worker */

static void
s_worker_actor (zsock_t *pipe, void *args)
{
    s_worker_t *w = args;
    void *warg = NULL;
    meso_db_t *db = NULL;
    meso_bus_slot_t slot;
    bool ok = w->init (w->arg, w->index, &warg, &db) == 0;
    if (ok && meso_bus_slot_init (&slot, warg, db) != 0) {
        meso_bus_slot_fini (&slot);
        w->fini (w->arg, warg);
        ok = false;
    }
    atomic_store (&w->server->worker_db_ok [w->index], ok && (!db || meso_db_ok (db)));
    atomic_store (&w->status, ok ? 1 : -1);
    zsock_signal (pipe, 0);
    if (!ok)
        return;
    void *handle = zsock_resolve (pipe);
    while (true) {
        char cmd [8];
        int n = zmq_recv (handle, cmd, sizeof cmd, 0);
        if (n < 0) {
            if (zmq_errno () == EINTR)
                continue;
            break;
        }
        if (n != 1)
            break;              /* $TERM */
        (void) atomic_load_explicit (&w->job.handoff, memory_order_acquire);
        meso_bus_serve (w->server, &slot, &w->job);
        atomic_store (&w->server->worker_db_ok [w->index], !db || meso_db_ok (db));
        atomic_store_explicit (&w->job.handoff, 2, memory_order_release);
        zmq_send (handle, "D", 1, 0);
    }
    meso_bus_slot_fini (&slot);
    w->fini (w->arg, warg);
}

/* ---------------------------------------------------- the routing thread */

/* A client resends a request that took longer than its attempt timeout,
 * with the same request id. With one thread the copy waited behind the
 * original and got its stored reply; with workers it would run beside it
 * and answer "in progress" (ABORTED) before the original's reply. So a
 * copy of a request a worker is serving for the same peer is dropped
 * here: the original's reply, matched by request id, answers both.
 * Returns true when job is such a copy (its request id is written to rid
 * either way, "" when it has none). */
static bool
s_duplicate (meso_bus_pool_t *pool, meso_bus_job_t *job, char *rid, size_t size)
{
    *rid = '\0';
    bool delimited = job->kept >= 1 && zmq_msg_size (&job->frames [0]) == 0 && job->count >= 2;
    int at = delimited ? 1 : 0;
    if (job->kept <= at || job->count != at + 1)
        return false;
    zmq_msg_t *payload = &job->frames [at];
    if (meso_wire_peek_request_id (zmq_msg_data (payload), zmq_msg_size (payload), rid, size) != 0
        || !*rid)
        return false;
    size_t idlen = zmq_msg_size (&job->identity);
    for (int i = 0; i < pool->n; i++) {
        s_worker_t *w = &pool->workers [i];
        if (w->busy && strcmp (w->rid, rid) == 0
            && zmq_msg_size (&w->job.identity) == idlen
            && memcmp (zmq_msg_data (&w->job.identity), zmq_msg_data (&job->identity), idlen) == 0)
            return true;
    }
    return false;
}

static void
s_router_actor (zsock_t *pipe, void *args)
{
    meso_bus_pool_t *pool = args;
    meso_bus_server_t *srv = pool->server;
    int n = pool->n;
    zmq_pollitem_t *items = calloc ((size_t) n + 2, sizeof *items);
    int *idle = calloc ((size_t) n, sizeof *idle);
    zsock_signal (pipe, 0);
    if (!items || !idle) {
        meso_error ("out of memory starting the routing thread: serving nothing");
        n = 0;
    }
    int nidle = n, inflight = 0;
    for (int i = 0; i < n; i++)
        idle [i] = n - 1 - i;   /* worker 0 first */
    bool draining = false, term = false;
    void *control = zsock_resolve (pipe);
    while (!(draining && inflight == 0)) {
        items [0] = (zmq_pollitem_t) { control, 0, ZMQ_POLLIN, 0 };
        for (int i = 0; i < n; i++)
            items [1 + i] = (zmq_pollitem_t) { zsock_resolve (pool->workers [i].actor), 0,
                                               ZMQ_POLLIN, 0 };
        int nitems = 1 + n;
        if (nidle > 0 && !draining)
            items [nitems++] = (zmq_pollitem_t) { srv->handle, 0, ZMQ_POLLIN, 0 };
        if (zmq_poll (items ? items : &(zmq_pollitem_t) { control, 0, ZMQ_POLLIN, 0 },
                      items ? nitems : 1, -1) < 0) {
            if (zmq_errno () == EINTR)
                continue;
            break;
        }
        /* Replies first: they free workers for the requests below. */
        for (int i = 0; i < n; i++) {
            if (!(items [1 + i].revents & ZMQ_POLLIN))
                continue;
            s_worker_t *w = &pool->workers [i];
            char done;
            if (zmq_recv (zsock_resolve (w->actor), &done, 1, 0) < 0)
                continue;
            (void) atomic_load_explicit (&w->job.handoff, memory_order_acquire);
            meso_bus_send (srv, &w->job);
            meso_bus_job_close (&w->job);
            w->busy = false;
            idle [nidle++] = i;
            inflight--;
        }
        if (items && (items [0].revents & ZMQ_POLLIN)) {
            char *cmd = zstr_recv (control);
            if (cmd && strcmp (cmd, "$TERM") == 0)
                term = true;
            draining = true;    /* DRAIN or $TERM */
            zstr_free (&cmd);
        }
        while (nidle > 0 && !draining) {
            s_worker_t *w = &pool->workers [idle [nidle - 1]];
            int rc = meso_bus_recv (srv, &w->job);
            if (rc <= 0)
                break;
            if (s_duplicate (pool, &w->job, w->rid, sizeof w->rid)) {
                meso_metrics_add ("meso_bus_duplicates_dropped_total",
                                  "Resent copies of a request still being served, dropped "
                                  "(the original's reply answers them).", NULL, NULL, 1);
                meso_bus_job_close (&w->job);
                zmq_msg_close (&w->job.identity);
                continue;
            }
            w->busy = true;
            nidle--;
            atomic_store_explicit (&w->job.handoff, 1, memory_order_release);
            zmq_send (zsock_resolve (w->actor), "J", 1, 0);
            inflight++;
        }
    }
    for (int i = 0; i < pool->n; i++)
        zactor_destroy (&pool->workers [i].actor);
    free (items);
    free (idle);
    zstr_send (control, "DRAINED");
    while (!term) {
        char *cmd = zstr_recv (control);
        if (!cmd && zmq_errno () != EINTR)
            break;
        term = cmd && strcmp (cmd, "$TERM") == 0;
        zstr_free (&cmd);
    }
}

/* ------------------------------------------------------------ lifecycle */

int
meso_bus_pool_start (meso_bus_server_t *self, int workers, meso_worker_init_fn *init,
                     meso_worker_fini_fn *fini, void *arg, meso_bus_pool_t **pool_p)
{
    assert (workers >= 1 && workers <= MESO_BUS_WORKERS_MAX);
    meso_bus_pool_t *pool = calloc (1, sizeof *pool);
    if (!pool || !(pool->workers = calloc ((size_t) workers, sizeof *pool->workers))) {
        free (pool);
        return -1;
    }
    pool->server = self;
    /* The threads inherit the mask: signals are the main thread's. */
    sigset_t block, saved;
    sigemptyset (&block);
    sigaddset (&block, SIGINT);
    sigaddset (&block, SIGTERM);
    pthread_sigmask (SIG_BLOCK, &block, &saved);
    int rc = 0;
    for (int i = 0; i < workers && rc == 0; i++) {
        s_worker_t *w = &pool->workers [i];
        *w = (s_worker_t) { .server = self, .index = i, .init = init, .fini = fini, .arg = arg };
        w->actor = zactor_new (s_worker_actor, w);
        pool->n = i + 1;
        if (!w->actor || atomic_load (&w->status) != 1) {
            meso_error ("worker %d of %d could not start", i + 1, workers);
            rc = -1;
        }
    }
    if (rc == 0) {
        pool->router = zactor_new (s_router_actor, pool);
        if (!pool->router)
            rc = -1;
    }
    pthread_sigmask (SIG_SETMASK, &saved, NULL);
    if (rc != 0) {
        for (int i = 0; i < pool->n; i++)
            zactor_destroy (&pool->workers [i].actor);
        free (pool->workers);
        free (pool);
        return -1;
    }
    *pool_p = pool;
    return 0;
}

void
meso_bus_pool_drain (meso_bus_pool_t **pool_p)
{
    meso_bus_pool_t *pool = *pool_p;
    if (!pool)
        return;
    void *control = zsock_resolve (pool->router);
    while (zmq_send (control, "DRAIN", 5, 0) < 0 && zmq_errno () == EINTR)
        ;
    char word [16];
    while (true) {
        int n = zmq_recv (control, word, sizeof word, 0);
        if (n < 0 && zmq_errno () == EINTR)
            continue;
        if (n < 0 || (n == 7 && memcmp (word, "DRAINED", 7) == 0))
            break;
    }
    zactor_destroy (&pool->router);
    free (pool->workers);
    free (pool);
    *pool_p = NULL;
}
