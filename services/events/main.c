/* main.c -- the events daemon: configuration, sockets, the loop.
 *
 * The main thread relays with one connection (the single writer); Replay,
 * Head and Health are served by MESO_WORKERS workers, each with its own
 * connection (meso_bus_server_start). Several instances may
 * run: the one that holds the writer lock (a session advisory lock, released
 * by PostgreSQL the moment its connection dies) relays and publishes; the
 * others answer Replay and Head from the log and try for the lock twice a
 * second, so a standby takes over within about a second of the writer's
 * death.
 *
 * The loop waits on the ROUTER, the database socket (NOTIFY from a commit
 * that wrote to the outbox) and a timer. Relaying runs when notified and
 * every RELAY_POLL_MS anyway: a notification is only a hint (it is lost
 * while the connection is down, and a row whose transaction is finished but
 * is still held back by an older running transaction needs a later look).
 * After each relay statement commits, its events are announced; an event
 * committed but not announced (crash in between) is found by subscribers
 * through the heartbeat and replayed from the log.
 *
 * The PUB carries doorbells, not events: topic "<stream>.<kind>", the
 * stream sequence, an empty third frame. Subscribers fetch the events with
 * events.Replay, which is scoped to the caller (replay.c). Why: a PUB
 * cannot filter per subscriber, and what a subscriber may see depends on
 * three things (streams, clinics, health access) whose combinations are as
 * many as the principals, with clinics added at run time; one PUB per
 * visibility class would mean sockets, ports and keys per class, and a
 * published payload is readable by every key admitted to its socket. With
 * doorbells there is one visibility rule, in one place, shared by replay
 * and live delivery, and the publisher stays as cheap as before (no
 * decoding). What every authenticated subscriber learns from a doorbell is
 * that stream S reached sequence N with an event of kind K: never the
 * clinic, the patient or any field. The price is one events.Replay round
 * trip per batch of doorbells (subscriber.c), measured by
 * tests/bench/bench_events.c. */
#include <czmq.h>
#include <stdio.h>
#include <stdlib.h>

#include "events.h"
#include "events.pb-c.h"
#include "meso/access.h"
#include "meso/curve.h"
#include "meso/config.h"
#include "meso/log.h"
#include "meso/metrics.h"
#include "meso/mtime.h"
#include "meso/version.h"

#define RELAY_POLL_MS 100
#define LOCK_RETRY_MS 500
#define HEARTBEAT_MS 1000
#define PRUNE_EVERY_MS 60000
/* Events pruned in one statement. A first prune of months (a retention
 * shortened, a long stop) deletes millions: in one statement it held the
 * relay, on this same thread, for its whole length; in batches the relay
 * takes its turn between them. */
#define PRUNE_BATCH 10000
#define LOG_SIZE_EVERY_MS 30000

static void
s_publish_heartbeat (events_t *self)
{
    Meso__V1__StreamHead sh[EVENTS_NSTREAMS];
    Meso__V1__StreamHead *shp[EVENTS_NSTREAMS];
    for (int i = 0; i < EVENTS_NSTREAMS; i++) {
        meso__v1__stream_head__init (&sh[i]);
        sh[i].stream = (char *) events_streams[i];
        sh[i].head = self->heads[i];
        shp[i] = &sh[i];
    }
    Meso__V1__Heartbeat hb = MESO__V1__HEARTBEAT__INIT;
    hb.at_us = meso_time_now_us ();
    hb.n_heads = EVENTS_NSTREAMS;
    hb.heads = shp;
    hb.global_head = self->global_head;
    for (int i = 0; i < EVENTS_NSTREAMS; i++)
        meso_metrics_set ("meso_events_stream_head", "Last stream sequence published, by stream.",
                          "stream", events_streams[i], (double) self->heads[i]);
    hb.active = true;
    uint8_t buf[512];
    size_t len = meso__v1__heartbeat__pack (&hb, buf);
    zmq_send (zsock_resolve (self->pub), "_heartbeat", 10, ZMQ_SNDMORE);
    zmq_send (zsock_resolve (self->pub), "0", 1, ZMQ_SNDMORE);
    zmq_send (zsock_resolve (self->pub), buf, len, 0);
}

/* Announces the rows a relay statement moved (already committed): one
 * doorbell per event (see the top). */
static void
s_publish (events_t *self, PGresult *res)
{
    void *pub = zsock_resolve (self->pub);
    for (int r = 0; r < PQntuples (res); r++) {
        uint64_t global = store_get_u64 (res, r, 0);
        const char *stream = PQgetvalue (res, r, 1);
        uint64_t seq = store_get_u64 (res, r, 2);
        const char *type = PQgetvalue (res, r, 3);
        char seqtext[24];
        int seqlen = snprintf (seqtext, sizeof seqtext, "%llu", (unsigned long long) seq);
        zmq_send (pub, type, strlen (type), ZMQ_SNDMORE);
        zmq_send (pub, seqtext, (size_t) seqlen, ZMQ_SNDMORE);
        zmq_send (pub, "", 0, 0);
        int i = events_stream_index (stream);
        pthread_mutex_lock (&self->lock);
        if (i >= 0 && self->tail) {
            tail_event_t ev = { seq, global, type, PQgetvalue (res, r, 5),
                                (const uint8_t *) PQgetvalue (res, r, 4),
                                (size_t) PQgetlength (res, r, 4) };
            tail_push (self->tail, i, &ev);     /* out of memory: replays read the log */
        }
        if (i >= 0 && seq > self->heads[i])
            self->heads[i] = seq;
        if (global > self->global_head)
            self->global_head = global;
        self->published++;
        pthread_mutex_unlock (&self->lock);
    }
    int n = PQntuples (res);
    if (n > 0) {
        /* The lag of the newest event of the batch: from its commit
         * (occurred_at, stamped in the writer's transaction) to its send. */
        Meso__V1__Event *ev = meso__v1__event__unpack (NULL, (size_t) PQgetlength (res, n - 1, 4),
                                                      (const uint8_t *) PQgetvalue (res, n - 1, 4));
        if (ev) {
            int64_t lag = meso_time_now_us () - ev->occurred_at_us;
            meso_metrics_set ("meso_events_publish_lag_seconds",
                              "Time from an event's occurrence to its publication (newest published).",
                              NULL, NULL, lag > 0 ? (double) lag / 1e6 : 0);
            meso__v1__event__free_unpacked (ev, NULL);
        }
        meso_metrics_add ("meso_events_published_total", "Events published on the PUB socket.",
                          NULL, NULL, n);
    }
}

/* One relay batch in one transaction: the move (store_relay) and the
 * health split of what it moved (health.c), so no event is ever in the
 * log whole. Runs again from the start when meso_db_txn retries. */
typedef struct {
    events_t *self;
    PGresult *res;
    bool erased;                    /* the batch held a screening.patient_erased */
} s_batch_t;

static int
s_relay_txn (meso_db_t *db, void *arg)
{
    s_batch_t *b = arg;
    if (b->res)
        PQclear (b->res);
    b->res = store_relay (db, b->self->batch);
    if (!b->res)
        return -1;
    return health_split (db, b->res, &b->erased);
}

/* Relays until the outbox has nothing ready or a batch limit of work was
 * done (so requests are not starved). Returns rows moved, -1 on error. */
static int
s_relay (events_t *self)
{
    int total = 0;
    for (int round = 0; round < 10; round++) {
        PGconn *conn = meso_db_conn (self->db);
        if (PQstatus (conn) != CONNECTION_OK || PQbackendPID (conn) != self->lock_pid) {
            meso_warn ("database session changed: writer lock lost");
            pthread_mutex_lock (&self->lock);
            self->active = false;
            pthread_mutex_unlock (&self->lock);
            return -1;
        }
        s_batch_t b = { self, NULL, false };
        if (meso_db_txn (self->db, MESO_DB_READ_COMMITTED, s_relay_txn, &b) != 0) {
            const meso_db_error_t *e = meso_db_error (self->db);
            meso_error ("relay failed: %s (SQLSTATE %s)", e->message, e->sqlstate);
            if (b.res)
                PQclear (b.res);
            return -1;
        }
        PGresult *res = b.res;
        int n = PQntuples (res);
        /* An erased patient's health events may be in the tail, whole:
         * replays read the log (where they are gone) until it refills. */
        if (b.erased && self->tail) {
            pthread_mutex_lock (&self->lock);
            tail_clear (self->tail);
            pthread_mutex_unlock (&self->lock);
        }
        s_publish (self, res);
        PQclear (res);
        total += n;
        if (n < self->batch)
            break;
    }
    return total;
}

/* Drains notifications; returns true when any arrived. */
static bool
s_drain_notifies (events_t *self)
{
    PGconn *conn = meso_db_conn (self->db);
    if (!conn || PQconsumeInput (conn) == 0)
        return false;
    bool any = false;
    PGnotify *n;
    while ((n = PQnotifies (conn)) != NULL) {
        any = true;
        PQfreemem (n);
    }
    return any;
}

static void
s_become_active (events_t *self)
{
    uint64_t heads[EVENTS_NSTREAMS] = { 0 }, global = 0;
    if (store_listen (self->db) != 0 || store_heads (self->db, heads, &global, NULL) != 0) {
        meso_error ("cannot start as the writer: %s", meso_db_error (self->db)->message);
        /* Give the lock back (a dead connection has released it already). */
        meso_db_exec (self->db, "SELECT pg_advisory_unlock_all ()", 0, NULL);
        return;
    }
    pthread_mutex_lock (&self->lock);
    memcpy (self->heads, heads, sizeof heads);
    self->global_head = global;
    tail_clear (self->tail);            /* what another writer did is in the log only */
    self->active = true;
    pthread_mutex_unlock (&self->lock);
    self->lock_pid = PQbackendPID (meso_db_conn (self->db));
    self->relay_due = true;
    meso_info ("writer lock taken: relaying and publishing (global head %llu)",
               (unsigned long long) self->global_head);
}

/* The options, for the workers' own connections. */
static const meso_opt_t *s_opts;

/* A worker's state (meso_bus_server_start): a copy with a connection of
 * its own; the relay state stays the main thread's (self->main). */
static int
s_worker_init (void *arg, int index, void **worker_arg, meso_db_t **db)
{
    (void) index;
    events_t *w = calloc (1, sizeof *w);
    if (!w)
        return -1;
    events_t *m = arg;
    w->main = m;
    w->batch = m->batch;
    w->retention_s = m->retention_s;
    w->held_warn_ms = m->held_warn_ms;
    w->db = meso_db_new (meso_config_get (s_opts, "db"));
    *worker_arg = w;
    *db = w->db;
    return w->db ? 0 : -1;
}

static void
s_worker_fini (void *arg, void *worker_arg)
{
    (void) arg;
    events_t *w = worker_arg;
    if (!w)
        return;
    meso_db_destroy (&w->db);
    free (w);
}

int
main (int argc, char **argv)
{
    meso_opt_t opts[] = {
        { "db", "MESO_DB", "host=/var/run/postgresql dbname=meso user=meso_events",
          "libpq conninfo of the meso database", NULL },
        { "bind", "MESO_BIND", "tcp://127.0.0.1:7105", "ROUTER endpoint for Replay, Head and Health", NULL },
        { "pub", "MESO_EVENTS_PUB_BIND", "tcp://127.0.0.1:7106", "PUB endpoint events are published on", NULL },
        { "batch", "MESO_EVENTS_BATCH", "1000", "outbox rows relayed per statement (1..10000)", NULL },
        { "retention-s", "MESO_EVENTS_RETENTION_S", "2592000",
          "seconds the event log is kept before pruning (default 30 days)", NULL },
        { "held-warn-ms", "MESO_EVENTS_HELD_WARN_MS", "5000",
          "Health is degraded when a running transaction has held the relay back this long", NULL },
        { "metrics", "MESO_METRICS_BIND", "",
          "host:port serving Prometheus metrics at /metrics (e.g. 127.0.0.1:9101); empty: none", NULL },
        { "log-level", "MESO_LOG_LEVEL", "info", "debug, info, warn or error", NULL },
        MESO_WORKERS_OPT,
        { NULL, NULL, NULL, NULL, NULL }
    };
    int rc = meso_config_parse (opts, argc, argv, "meso-events",
        "Relays committed outbox events into the replayable event log, publishes them, "
        "and answers events.Replay / events.Head.", NULL, NULL);
    if (rc != 0)
        return rc > 0 ? 0 : 2;
    long batch, retention, held_warn;
    if (meso_config_int (opts, "batch", 1, 10000, &batch) != 0
        || meso_config_int (opts, "retention-s", 1, 100L * 365 * 86400, &retention) != 0
        || meso_config_int (opts, "held-warn-ms", 1, 86400000L, &held_warn) != 0)
        return 2;
    meso_log_init ("events", meso_config_get (opts, "log-level"));
    s_opts = opts;
    long workers;
    if (meso_config_int (opts, "workers", 0, MESO_BUS_WORKERS_MAX, &workers) != 0)
        return 2;
    if (meso_metrics_start ("events", meso_config_get (opts, "metrics")) != 0)
        return 1;
    zsys_init ();
    zsys_set_logstream (NULL);

    events_t self;
    memset (&self, 0, sizeof self);
    self.main = &self;
    pthread_mutex_init (&self.lock, NULL);
    /* 4096 events or 16 MiB per stream: seconds of a busy chain. */
    self.tail = tail_new (EVENTS_NSTREAMS, 4096, 16u << 20);
    if (!self.tail) {
        meso_error ("out of memory");
        return 1;
    }
    self.batch = (int) batch;
    self.retention_s = retention;
    self.held_warn_ms = held_warn;
    if (meso_trust_start ("events", meso_config_get (opts, "db")) != 0)
        return 1;
    self.db = meso_db_new (meso_config_get (opts, "db"));
    if (!self.db) {
        meso_error ("out of memory");
        return 1;
    }
    /* The writer's statements are planned at each call, not prepared: the
     * outbox swings from empty to a backlog of thousands (after an outage,
     * a burst), and a plan kept from when it was empty reads the backlog
     * as one row, so the relay's delete joined batch and backlog row by
     * row: 8.5 s per batch of 1,000 from a backlog of 20,000. Planned now,
     * the planner sees the outbox's current size (its pages). */
    meso_db_set_prepare (self.db, false);
    if (!meso_db_ok (self.db))
        meso_warn ("database not reachable yet: %s (will retry)", meso_db_error (self.db)->message);

    self.pub = zsock_new (ZMQ_PUB);
    zsock_set_sndhwm (self.pub, 100000);
    zsock_set_linger (self.pub, 1000);
    /* The PUB is a CURVE server like the ROUTER: only known principals
     * may subscribe (to doorbells: see the top). */
    if (self.pub && !meso_bus_plaintext_endpoint (meso_config_get (opts, "pub"))
        && meso_curve_server (self.pub, "events") != 0)
        return 1;
    if (!self.pub || zsock_bind (self.pub, "%s", meso_config_get (opts, "pub")) < 0) {
        meso_error ("cannot bind PUB %s: %s", meso_config_get (opts, "pub"), zmq_strerror (zmq_errno ()));
        return 1;
    }
    self.server = meso_bus_server_new ("events", meso_config_get (opts, "bind"),
                                       events_methods, &self, self.db);
    if (!self.server)
        return 1;
    meso_bus_server_set_health (self.server, events_health, &self);
    if (meso_bus_server_start (self.server, meso_bus_workers_resolve (workers), s_worker_init,
                               s_worker_fini, &self) != 0) {
        meso_error ("cannot start the workers");
        return 1;
    }
    meso_info ("serving on %s, publishing on %s", meso_config_get (opts, "bind"),
               meso_config_get (opts, "pub"));

    int64_t next_lock = 0, next_heartbeat = 0, next_relay = 0, next_prune = 0, next_size = 0;
    while (!zsys_interrupted) {
        int64_t now = meso_time_mono_ms ();
        /* The lock lives and dies with the connection: a handle that
         * reconnected behind our back is a new session without it. */
        if (self.active && (!meso_db_ok (self.db)
                            || PQbackendPID (meso_db_conn (self.db)) != self.lock_pid)) {
            meso_warn ("database connection lost: writer lock released");
            pthread_mutex_lock (&self.lock);
            self.active = false;
            tail_clear (self.tail);
            pthread_mutex_unlock (&self.lock);
        }
        if (!self.active && now >= next_lock) {
            next_lock = now + LOCK_RETRY_MS;
            if (meso_db_ensure (self.db) == 0 && store_try_lock (self.db) == 1)
                s_become_active (&self);
        }
        if (self.active && (self.relay_due || now >= next_relay)) {
            self.relay_due = false;
            int moved = s_relay (&self);
            next_relay = now + RELAY_POLL_MS;
            if (moved >= self.batch * 10)
                self.relay_due = true;   /* more waiting: come back at once */
        }
        if (self.active && now >= next_heartbeat) {
            s_publish_heartbeat (&self);
            events_watch_horizon (&self);
            next_heartbeat = now + HEARTBEAT_MS;
        }
        if (self.active && now >= next_prune) {
            long pruned = store_prune (self.db, self.retention_s, PRUNE_BATCH);
            if (pruned > 0) {
                meso_info ("pruned %ld events older than %lld s", pruned, (long long) self.retention_s);
                /* A replay from a pruned position must be refused, not
                 * answered from memory. */
                pthread_mutex_lock (&self.lock);
                tail_clear (self.tail);
                pthread_mutex_unlock (&self.lock);
            }
            /* A full batch: more to prune, after the relay's next turn.
             * Otherwise at least once per retention period, at most once
             * a minute. */
            if (pruned == PRUNE_BATCH)
                next_prune = now;
            else
                next_prune = now + (self.retention_s * 1000 < PRUNE_EVERY_MS
                                    ? self.retention_s * 1000 : PRUNE_EVERY_MS);
        }

        /* The disk the log takes, for the alert before the database's disk
         * fills (every instance reports it; a standby too). */
        if (now >= next_size && meso_db_ok (self.db)) {
            next_size = now + LOG_SIZE_EVERY_MS;
            int64_t bytes = store_log_bytes (self.db);
            if (bytes >= 0)
                meso_metrics_set ("meso_events_log_bytes",
                                  "Bytes events.log takes on disk (table, indexes, TOAST).",
                                  NULL, NULL, (double) bytes);
        }
        meso_metrics_set ("meso_events_writer_active",
                          "1 when this instance holds the writer lock (relays and publishes), 0 on standby.",
                          NULL, NULL, self.active ? 1 : 0);
        int64_t wake = self.active ? next_relay : next_lock;
        if (self.active && next_heartbeat < wake)
            wake = next_heartbeat;
        int timeout = self.relay_due ? 0 : (int) (wake - meso_time_mono_ms ());
        if (timeout < 0)
            timeout = 0;
        /* The workers serve Replay and Head; this thread relays. */
        zmq_pollitem_t items[1] = {
            { NULL, -1, ZMQ_POLLIN, 0 }
        };
        int nitems = 0;
        PGconn *conn = meso_db_conn (self.db);
        if (self.active && conn && PQsocket (conn) >= 0) {
            items[0].fd = PQsocket (conn);
            nitems = 1;
        }
        if (zmq_poll (items, nitems, timeout) < 0) {
            if (zmq_errno () == EINTR)
                continue;
            break;
        }
        if (nitems == 1 && (items[0].revents & ZMQ_POLLIN) && s_drain_notifies (&self))
            self.relay_due = true;
    }
    meso_info ("stopping");
    meso_bus_server_drain (self.server);    /* the requests in flight are answered */
    meso_bus_server_destroy (&self.server);
    zsock_destroy (&self.pub);
    meso_db_destroy (&self.db);
    tail_destroy (&self.tail);
    meso_metrics_stop ();
    meso_curve_shutdown ();
    meso_access_stop ();
    return 0;
}
