/* bus_pool.c -- a server's worker threads (DESIGN, "Inside a daemon:
 * concurrency"; the zguide's multithreaded server, with a shared queue
 * in place of the load-balancing pattern).
 *
 * Why it is built this way:
 * - One routing thread owns the ROUTER socket (a ZeroMQ socket belongs to
 *   one thread) and only moves frames: it reads requests into free jobs,
 *   appends them to one queue that every worker takes from, and sends the
 *   packed replies the workers leave on the done list. The pool holds
 *   workers x MESO_WORKER_QUEUE jobs (default 4 per worker), made at
 *   start. A request's frames are not copied; a reply is packed into the
 *   worker's buffer and copied once into a message of its own
 *   (job->reply), which zmq_msg_send hands to libzmq: the worker may be
 *   serving its next request, in the same buffer, before the routing
 *   thread sends the reply. The frames keep
 *   their metadata (the CURVE User-Id the caller is known by) because the
 *   worker reads the same zmq_msg_t.
 * - One queue for all workers, not one per worker: a worker that finishes
 *   takes the next request at once (it never idles waiting for the
 *   routing thread to notice), and a request never waits behind a slow
 *   one while another worker is free (no request is bound to a worker
 *   before that worker takes it). When every job is taken the routing
 *   thread stops reading, and requests wait in the ROUTER's queue (bounded
 *   by its receive HWM): that is the backpressure.
 * - Moves are batched: the routing thread reads every request waiting (up
 *   to the free jobs) before taking the lock once, and sends every reply
 *   on the done list after taking it once. Workers wait on a condition
 *   variable; the routing thread waits in zmq_poll on the ROUTER, its
 *   control pipe and an eventfd that a worker writes only when the done
 *   list goes from empty to not empty. The mutex orders the two threads'
 *   writes to a job (and ThreadSanitizer sees it).
 * - A worker writes the log lines of requests served back to back in one
 *   write(2) (meso_log_batch_begin/end), flushed as soon as the queue is
 *   empty or every LOG_BATCH requests.
 * - A resent copy of a request still queued or being served is dropped
 *   (see s_duplicate): the original's reply answers it.
 * - Each worker's state is made by the daemon's init in the worker's own
 *   thread, so a PGconn, its prepared statements and a worker's bus
 *   clients are only ever used by the thread that made them.
 * - Graceful stop (meso_bus_server_drain): the routing thread stops
 *   reading the ROUTER, waits for every request taken (queued or being
 *   served) to come back, sends the replies, stops the workers and says
 *   DRAINED. The caller waits for that word itself, retrying on EINTR,
 *   rather than through zactor_destroy alone, whose wait gives up on a
 *   signal.
 * - SIGINT and SIGTERM are blocked in the routing and worker threads (they
 *   inherit the mask they are created with): the main thread alone sees
 *   them and decides when to drain. */
#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "meso/bus.h"
#include "meso/db.h"
#include "meso/log.h"
#include "meso/metrics.h"
#include "bus_private.h"

#define LOG_BATCH 16            /* log lines a worker holds at most */

typedef struct {
    meso_bus_job_t job;
    bool taken;                 /* the routing thread's: queued or being served */
    char rid [MESO_BUS_REQUEST_ID_PEEK];    /* job's request id ("" unknown) */
} s_slot_t;

typedef struct {
    meso_bus_pool_t *pool;
    int index;
    pthread_t thread;
    bool started;
    int status;                 /* under lock: 0 starting, 1 serving, -1 failed */
} s_worker_t;

struct meso_bus_pool_t {
    meso_bus_server_t *server;
    meso_worker_init_fn *init;
    meso_worker_fini_fn *fini;
    void *arg;
    zactor_t *router;           /* the routing thread */
    int n;
    s_worker_t *workers;
    int cap;                    /* jobs: n x MESO_WORKER_QUEUE */
    s_slot_t *slots;
    int wake;                   /* eventfd: the done list is no longer empty */

    /* Under lock: */
    pthread_mutex_t lock;
    pthread_cond_t work;        /* queue not empty, or stop */
    pthread_cond_t started;     /* a worker's status changed */
    int *queue;                 /* ring of slot indices waiting for a worker */
    int head, count;
    int *done;                  /* slot indices served, reply not sent yet */
    int ndone;
    bool stop;
};

/* ------------------------------------------------------------- a worker */

static void *
s_worker_main (void *args)
{
    s_worker_t *w = args;
    meso_bus_pool_t *pool = w->pool;
    meso_bus_server_t *srv = pool->server;
    void *warg = NULL;
    meso_db_t *db = NULL;
    meso_bus_slot_t slot;
    bool ok = pool->init (pool->arg, w->index, &warg, &db) == 0;
    if (ok && meso_bus_slot_init (&slot, warg, db) != 0) {
        meso_bus_slot_fini (&slot);
        pool->fini (pool->arg, warg);
        ok = false;
    }
    atomic_store (&srv->worker_db_ok [w->index], ok && (!db || meso_db_ok (db)));
    pthread_mutex_lock (&pool->lock);
    w->status = ok ? 1 : -1;
    pthread_cond_broadcast (&pool->started);
    pthread_mutex_unlock (&pool->lock);
    if (!ok)
        return NULL;

    int logged = 0;             /* lines held in this thread's log batch */
    pthread_mutex_lock (&pool->lock);
    while (true) {
        if (pool->count == 0 && logged > 0) {
            pthread_mutex_unlock (&pool->lock);
            meso_log_batch_end ();
            logged = 0;
            pthread_mutex_lock (&pool->lock);
            continue;           /* look again: the queue may have filled */
        }
        while (pool->count == 0 && !pool->stop)
            pthread_cond_wait (&pool->work, &pool->lock);
        if (pool->count == 0)
            break;              /* stop, and nothing left */
        int at = pool->queue [pool->head];
        pool->head = (pool->head + 1) % pool->cap;
        pool->count--;
        pthread_mutex_unlock (&pool->lock);

        if (logged == 0)
            meso_log_batch_begin ();
        meso_bus_serve (srv, &slot, &pool->slots [at].job);
        atomic_store (&srv->worker_db_ok [w->index], !db || meso_db_ok (db));
        if (++logged >= LOG_BATCH) {
            meso_log_batch_end ();
            logged = 0;
        }

        pthread_mutex_lock (&pool->lock);
        pool->done [pool->ndone++] = at;
        if (pool->ndone == 1) {
            uint64_t one = 1;
            ssize_t rc = write (pool->wake, &one, sizeof one);
            (void) rc;          /* EAGAIN: the counter is already set */
        }
    }
    pthread_mutex_unlock (&pool->lock);
    meso_bus_slot_fini (&slot);
    pool->fini (pool->arg, warg);
    return NULL;
}

/* ---------------------------------------------------- the routing thread */

/* A client resends a request that took longer than its attempt timeout,
 * with the same request id. With one thread the copy waited behind the
 * original and got its stored reply; with workers it would run beside it
 * and answer "in progress" (ABORTED) before the original's reply. So a
 * copy of a request the pool holds (queued or being served) for the same
 * peer is dropped here: the original's reply, matched by request id,
 * answers both. Returns true when job is such a copy (its request id is
 * written to rid either way, "" when it has none). */
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
    for (int i = 0; i < pool->cap; i++) {
        s_slot_t *s = &pool->slots [i];
        if (s->taken && strcmp (s->rid, rid) == 0
            && zmq_msg_size (&s->job.identity) == idlen
            && memcmp (zmq_msg_data (&s->job.identity), zmq_msg_data (&job->identity), idlen) == 0)
            return true;
    }
    return false;
}

/* Sends the replies the workers left; returns how many. */
static int
s_send_done (meso_bus_pool_t *pool, int *freed, int *nfree, int *batch)
{
    uint64_t counter;
    ssize_t rc = read (pool->wake, &counter, sizeof counter);
    (void) rc;                  /* EAGAIN: nothing was signalled */
    pthread_mutex_lock (&pool->lock);
    int n = pool->ndone;
    memcpy (batch, pool->done, (size_t) n * sizeof *batch);
    pool->ndone = 0;
    pthread_mutex_unlock (&pool->lock);
    for (int i = 0; i < n; i++) {
        s_slot_t *s = &pool->slots [batch [i]];
        meso_bus_send (pool->server, &s->job);
        meso_bus_job_close (&s->job);
        s->taken = false;
        freed [(*nfree)++] = batch [i];
    }
    return n;
}

/* Reads the requests waiting, as many as there are free jobs, and queues
 * them for the workers; returns how many were queued. */
static int
s_take_requests (meso_bus_pool_t *pool, int *freed, int *nfree, int *batch)
{
    int n = 0;
    while (*nfree > 0) {
        int at = freed [*nfree - 1];
        s_slot_t *s = &pool->slots [at];
        if (meso_bus_recv (pool->server, &s->job) <= 0)
            break;
        if (s_duplicate (pool, &s->job, s->rid, sizeof s->rid)) {
            meso_metrics_add ("meso_bus_duplicates_dropped_total",
                              "Resent copies of a request still being served, dropped "
                              "(the original's reply answers them).", NULL, NULL, 1);
            meso_bus_job_close (&s->job);
            zmq_msg_close (&s->job.identity);
            continue;
        }
        s->taken = true;
        (*nfree)--;
        batch [n++] = at;
    }
    if (n == 0)
        return 0;
    pthread_mutex_lock (&pool->lock);
    for (int i = 0; i < n; i++)
        pool->queue [(pool->head + pool->count++) % pool->cap] = batch [i];
    if (n == 1)
        pthread_cond_signal (&pool->work);
    else
        pthread_cond_broadcast (&pool->work);
    pthread_mutex_unlock (&pool->lock);
    return n;
}

static void
s_router_actor (zsock_t *pipe, void *args)
{
    meso_bus_pool_t *pool = args;
    meso_bus_server_t *srv = pool->server;
    int *freed = calloc ((size_t) pool->cap, sizeof *freed);
    int *batch = calloc ((size_t) pool->cap, sizeof *batch);
    zsock_signal (pipe, 0);
    int nfree = 0;
    if (!freed || !batch)
        meso_error ("out of memory starting the routing thread: serving nothing");
    else
        for (int i = pool->cap - 1; i >= 0; i--)
            freed [nfree++] = i;
    int taken = 0;
    bool draining = false, term = false;
    void *control = zsock_resolve (pipe);
    while (!(draining && taken == 0)) {
        zmq_pollitem_t items [3] = {
            { control, 0, ZMQ_POLLIN, 0 },
            { NULL, pool->wake, ZMQ_POLLIN, 0 },
            { srv->handle, 0, ZMQ_POLLIN, 0 },
        };
        int nitems = nfree > 0 && !draining ? 3 : 2;
        if (zmq_poll (items, nitems, -1) < 0) {
            if (zmq_errno () == EINTR)
                continue;
            break;
        }
        /* Replies first: they free jobs for the requests below. */
        if (items [1].revents & ZMQ_POLLIN)
            taken -= s_send_done (pool, freed, &nfree, batch);
        if (items [0].revents & ZMQ_POLLIN) {
            char *cmd = zstr_recv (control);
            if (cmd && strcmp (cmd, "$TERM") == 0)
                term = true;
            draining = true;    /* DRAIN or $TERM */
            zstr_free (&cmd);
        }
        if (!draining)
            taken += s_take_requests (pool, freed, &nfree, batch);
    }
    pthread_mutex_lock (&pool->lock);
    pool->stop = true;
    pthread_cond_broadcast (&pool->work);
    pthread_mutex_unlock (&pool->lock);
    for (int i = 0; i < pool->n; i++)
        if (pool->workers [i].started)
            pthread_join (pool->workers [i].thread, NULL);
    free (freed);
    free (batch);
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

static void
s_pool_free (meso_bus_pool_t *pool)
{
    if (pool->wake >= 0)
        close (pool->wake);
    pthread_mutex_destroy (&pool->lock);
    pthread_cond_destroy (&pool->work);
    pthread_cond_destroy (&pool->started);
    free (pool->queue);
    free (pool->done);
    free (pool->slots);
    free (pool->workers);
    free (pool);
}

/* Stops the workers started so far (before the routing thread runs). */
static void
s_workers_stop (meso_bus_pool_t *pool)
{
    pthread_mutex_lock (&pool->lock);
    pool->stop = true;
    pthread_cond_broadcast (&pool->work);
    pthread_mutex_unlock (&pool->lock);
    for (int i = 0; i < pool->n; i++)
        if (pool->workers [i].started)
            pthread_join (pool->workers [i].thread, NULL);
}

int
meso_bus_pool_start (meso_bus_server_t *self, int workers, meso_worker_init_fn *init,
                     meso_worker_fini_fn *fini, void *arg, meso_bus_pool_t **pool_p)
{
    assert (workers >= 1 && workers <= MESO_BUS_WORKERS_MAX);
    meso_bus_pool_t *pool = calloc (1, sizeof *pool);
    if (!pool)
        return -1;
    pool->server = self;
    pool->init = init;
    pool->fini = fini;
    pool->arg = arg;
    pool->cap = workers * meso_bus_queue_resolve (getenv ("MESO_WORKER_QUEUE"));
    pool->wake = eventfd (0, EFD_NONBLOCK | EFD_CLOEXEC);
    pthread_mutex_init (&pool->lock, NULL);
    pthread_cond_init (&pool->work, NULL);
    pthread_cond_init (&pool->started, NULL);
    pool->workers = calloc ((size_t) workers, sizeof *pool->workers);
    pool->slots = calloc ((size_t) pool->cap, sizeof *pool->slots);
    pool->queue = calloc ((size_t) pool->cap, sizeof *pool->queue);
    pool->done = calloc ((size_t) pool->cap, sizeof *pool->done);
    if (pool->wake < 0 || !pool->workers || !pool->slots || !pool->queue || !pool->done) {
        meso_error ("cannot set up %d workers: %s", workers, strerror (errno));
        s_pool_free (pool);
        return -1;
    }
    /* The threads inherit the mask: signals are the main thread's. */
    sigset_t block, saved;
    sigemptyset (&block);
    sigaddset (&block, SIGINT);
    sigaddset (&block, SIGTERM);
    pthread_sigmask (SIG_BLOCK, &block, &saved);
    int rc = 0;
    for (int i = 0; i < workers && rc == 0; i++) {
        s_worker_t *w = &pool->workers [i];
        *w = (s_worker_t) { .pool = pool, .index = i };
        pool->n = i + 1;
        w->started = pthread_create (&w->thread, NULL, s_worker_main, w) == 0;
        int status = -1;
        if (w->started) {
            pthread_mutex_lock (&pool->lock);
            while (w->status == 0)
                pthread_cond_wait (&pool->started, &pool->lock);
            status = w->status;
            pthread_mutex_unlock (&pool->lock);
        }
        if (status != 1) {
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
        s_workers_stop (pool);
        s_pool_free (pool);
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
    s_pool_free (pool);
    *pool_p = NULL;
}
