/* main.c -- the inventory daemon: configuration, sockets, the loop.
 *
 * Requests are served by MESO_WORKERS worker threads, each with its own
 * database connection and clinic cache (a PGconn belongs to one thread);
 * the main thread keeps its own for the ticks and, when an events endpoint
 * is configured, waits on the session-event consumer's SUB socket; a timer announces
 * lots about to expire (each once; every minute by default,
 * --expiring-check-ms, which the tests shorten). Everything the daemon
 * knows is in PostgreSQL, so several instances may run against one
 * database, and a daemon killed at
 * any point loses nothing: a request's effect and its idempotency record
 * commit together, and a session event's effect and the consumer cursor
 * commit together. */
#include <czmq.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inventory.h"
#include "meso/access.h"
#include "meso/curve.h"
#include "meso/clinics.h"
#include "meso/config.h"
#include "meso/idem.h"
#include "meso/log.h"
#include "meso/metrics.h"
#include "meso/mtime.h"
#include "meso/version.h"

#define POLL_MS 200

/* Keys past their retention go in small batches between requests. */
static meso_idem_purger_t s_purger;

/* The options, for the workers' own connections and clients. */
static const meso_opt_t *s_opts;

/* A worker's state (meso_bus_server_start): the daemon's settings, with a
 * connection and a clinics cache (its own scheduling client) of its own.
 * The consumer and the ticks stay with the main thread. */
static int
s_worker_init (void *arg, int index, void **worker_arg, meso_db_t **db)
{
    (void) index;
    inventory_t *w = malloc (sizeof *w);
    if (!w)
        return -1;
    *w = *(inventory_t *) arg;
    w->consumer = NULL;
    w->db = meso_db_new (meso_config_get (s_opts, "db"));
    w->clinics = meso_clinics_new (meso_config_get (s_opts, "scheduling"), "inventory");
    *worker_arg = w;
    *db = w->db;
    return w->db && w->clinics ? 0 : -1;
}

static void
s_worker_fini (void *arg, void *worker_arg)
{
    (void) arg;
    inventory_t *w = worker_arg;
    if (!w)
        return;
    meso_db_destroy (&w->db);
    meso_clinics_destroy (&w->clinics);
    free (w);
}

/* Health (served by a worker) reads the consumer's cursors from here. */
static void
s_publish_cursors (inventory_t *self)
{
    static const char *const streams[] = { "session" };
    for (size_t i = 0; i < sizeof streams / sizeof streams[0]; i++)
        atomic_store (&self->cursors[i], meso_consumer_cursor (self->consumer, streams[i]));
}

int
main (int argc, char **argv)
{
    meso_opt_t opts[] = {
        { "db", "MESO_DB", "host=/var/run/postgresql dbname=meso user=meso_inventory",
          "libpq conninfo of the meso database", NULL },
        { "bind", "MESO_BIND", "tcp://127.0.0.1:7103", "ROUTER endpoint for inventory.* and Health", NULL },
        { "events", "MESO_EVENTS_ENDPOINT", "",
          "events daemon ROUTER endpoint(s) for replay; empty: do not consume session events", NULL },
        { "events-pub", "MESO_EVENTS_PUB_ENDPOINT", "tcp://127.0.0.1:7106",
          "events daemon PUB endpoint(s)", NULL },
        { "scheduling", "MESO_SCHEDULING_ENDPOINT", "tcp://127.0.0.1:7102",
          "scheduling ROUTER endpoint(s), asked whether a clinic exists (scheduling.GetClinic); "
          "empty (--scheduling=): clinic ids are checked for syntax only", NULL },
        { "metrics", "MESO_METRICS_BIND", "",
          "host:port serving Prometheus metrics at /metrics (e.g. 127.0.0.1:9101); empty: none", NULL },
        { "log-level", "MESO_LOG_LEVEL", "info", "debug, info, warn or error", NULL },
        MESO_IDEM_OPTS,
        MESO_WORKERS_OPT,
        { "expiring-check-ms", "MESO_INVENTORY_EXPIRING_CHECK_MS", "60000",
          "how often to look for lots to announce as stock.expiring (ms, 50..86400000)", NULL },
        { NULL, NULL, NULL, NULL, NULL }
    };
    int rc = meso_config_parse (opts, argc, argv, "meso-inventory",
        "Keeps the ingredient catalogue, cocktail recipes and each clinic's stock; reserves, "
        "releases and consumes stock for sessions (also from session events).", NULL, NULL);
    if (rc != 0)
        return rc > 0 ? 0 : 2;
    meso_log_init ("inventory", meso_config_get (opts, "log-level"));
    s_opts = opts;
    long workers;
    if (meso_config_int (opts, "workers", 0, MESO_BUS_WORKERS_MAX, &workers) != 0)
        return 2;
    if (meso_idem_purger_init (&s_purger, opts, INVENTORY_SCHEMA) != 0)
        return 2;
    long expiring_every_ms = 0;
    if (meso_config_int (opts, "expiring-check-ms", 50, 86400000L, &expiring_every_ms) != 0)
        return 2;
    if (meso_metrics_start ("inventory", meso_config_get (opts, "metrics")) != 0)
        return 1;
    zsys_init ();
    zsys_set_logstream (NULL);

    inventory_t self;
    memset (&self, 0, sizeof self);
    self.main = &self;
    if (meso_trust_start ("inventory", meso_config_get (opts, "db")) != 0)
        return 1;
    self.db = meso_db_new (meso_config_get (opts, "db"));
    if (!self.db) {
        meso_error ("out of memory");
        return 1;
    }
    if (!meso_db_ok (self.db))
        meso_warn ("database not reachable yet: %s (will retry)", meso_db_error (self.db)->message);
    self.clinics = meso_clinics_new (meso_config_get (opts, "scheduling"), "inventory");
    if (!self.clinics) {
        meso_error ("cannot use the scheduling endpoint \"%s\"", meso_config_get (opts, "scheduling"));
        meso_db_destroy (&self.db);
        return 1;
    }
    if (!meso_clinics_checking (self.clinics))
        meso_warn ("no scheduling endpoint: clinic ids are checked for syntax only");

    self.server = meso_bus_server_new ("inventory", meso_config_get (opts, "bind"),
                                       inventory_methods, &self, self.db);
    if (!self.server) {
        meso_db_destroy (&self.db);
        meso_clinics_destroy (&self.clinics);
        return 1;
    }
    meso_bus_server_set_health (self.server, inventory_health, &self);

    /* The consumer has its own connection: its transactions (cursor and
     * effect) must never interleave with a request's on one PGconn. */
    meso_db_t *consumer_db = NULL;
    const char *events = meso_config_get (opts, "events");
    if (events && *events) {
        consumer_db = meso_db_new (meso_config_get (opts, "db"));
        if (consumer_db)
            self.consumer = meso_consumer_new (consumer_db, INVENTORY_SCHEMA, "session", events,
                                               meso_config_get (opts, "events-pub"), "inventory",
                                               inventory_on_event, &self);
        if (!self.consumer) {
            meso_error ("cannot start the session-event consumer (events %s)", events);
            meso_bus_server_destroy (&self.server);
            meso_db_destroy (&consumer_db);
            meso_db_destroy (&self.db);
            meso_clinics_destroy (&self.clinics);
            return 1;
        }
    }
    if (meso_bus_server_start (self.server, meso_bus_workers_resolve (workers), s_worker_init,
                               s_worker_fini, &self) != 0) {
        meso_error ("cannot start the workers");
        return 1;
    }
    meso_info ("serving on %s%s%s", meso_config_get (opts, "bind"),
               self.consumer ? ", consuming session events from " : "", self.consumer ? events : "");

    int64_t next_expiring = 0;
    while (!zsys_interrupted) {
        meso_idem_purge_tick (&s_purger, self.db);
        int64_t now = meso_time_mono_ms ();
        if (now >= next_expiring) {
            next_expiring = now + expiring_every_ms;
            if (meso_db_ensure (self.db) == 0) {
                int n = inventory_announce_expiring (&self, 200);
                if (n < 0)
                    meso_warn ("cannot announce expiring lots: %s", meso_db_error (self.db)->message);
                else if (n == 200)
                    next_expiring = now;   /* more waiting */
            }
        }
        zmq_pollitem_t items[1] = {
            { NULL, 0, ZMQ_POLLIN, 0 }
        };
        /* The workers serve requests; this thread consumes and ticks. */
        int nitems = 0;
        if (self.consumer) {
            items[0].socket = zsock_resolve (meso_consumer_socket (self.consumer));
            nitems = 1;
        }
        if (zmq_poll (items, nitems, self.consumer ? POLL_MS / 4 : POLL_MS) < 0) {
            if (zmq_errno () == EINTR)
                continue;
            break;
        }
        /* Every turn, not only on live input: catch-up replays and
         * heartbeat checks are the consumer's own business. */
        if (self.consumer && meso_consumer_poll (self.consumer, 0) < 0 && !zsys_interrupted)
            zclock_sleep (50);         /* a failed effect: it comes again */
        if (self.consumer)
            s_publish_cursors (&self);
    }
    meso_info ("stopping");
    meso_bus_server_drain (self.server);    /* the requests in flight are answered */
    meso_consumer_destroy (&self.consumer);
    meso_bus_server_destroy (&self.server);
    meso_db_destroy (&consumer_db);
    meso_db_destroy (&self.db);
    meso_clinics_destroy (&self.clinics);
    meso_metrics_stop ();
    meso_curve_shutdown ();
    meso_access_stop ();
    return 0;
}
