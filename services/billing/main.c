/* main.c -- the billing daemon: configuration, sockets, the loop.
 *
 * Requests are served by MESO_WORKERS worker threads, each with its own
 * database connection and clinic cache (meso_bus_server_start); the main
 * thread has two more connections, for the ticks and for the event
 * consumer (a consumer transaction -- cursor plus effect -- must never
 * interleave with a request's on one PGconn), and waits on the consumer's
 * SUB socket. Health reads the consumer's cursors and the counters from
 * atomics the main thread writes. Everything the
 * daemon knows is in PostgreSQL, so several instances may run against one
 * database, and a daemon killed at any point loses nothing: a request's
 * effect and its idempotency record commit together, and an event's charge
 * and the consumer cursor commit together.
 *
 * The consumer follows the "session" stream (charges and fees) and the
 * "screening" stream (the patients billing may bill). A timer expires the
 * packages whose last day has passed (--expiry-check-ms), and another
 * refreshes the per-clinic gauge of today (gauges.c, --gauges-ms), both
 * on the request connection between requests. */
#include <czmq.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "billing.h"
#include "meso/access.h"
#include "meso/curve.h"
#include "meso/clinics.h"
#include "meso/config.h"
#include "meso/idem.h"
#include "meso/log.h"
#include "meso/metrics.h"
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
    billing_t *w = malloc (sizeof *w);
    if (!w)
        return -1;
    *w = *(billing_t *) arg;
    w->consumer = NULL;
    w->db = meso_db_new (meso_config_get (s_opts, "db"));
    w->clinics = meso_clinics_new (meso_config_get (s_opts, "scheduling"), "billing");
    *worker_arg = w;
    *db = w->db;
    return w->db && w->clinics ? 0 : -1;
}

static void
s_worker_fini (void *arg, void *worker_arg)
{
    (void) arg;
    billing_t *w = worker_arg;
    if (!w)
        return;
    meso_db_destroy (&w->db);
    meso_clinics_destroy (&w->clinics);
    free (w);
}

/* Health (served by a worker) reads the consumer's cursors from here. */
static void
s_publish_cursors (billing_t *self)
{
    static const char *const streams[] = { "session", "screening" };
    for (size_t i = 0; i < sizeof streams / sizeof streams[0]; i++)
        atomic_store (&self->cursors[i], meso_consumer_cursor (self->consumer, streams[i]));
}

int
main (int argc, char **argv)
{
    meso_opt_t opts[] = {
        { "db", "MESO_DB", "host=/var/run/postgresql dbname=meso user=meso_billing",
          "libpq conninfo of the meso database", NULL },
        { "bind", "MESO_BIND", "tcp://127.0.0.1:7104", "ROUTER endpoint for billing.* and Health", NULL },
        { "events", "MESO_EVENTS_ENDPOINT", "tcp://127.0.0.1:7105",
          "events daemon ROUTER endpoint(s) for replay; empty: do not consume events", NULL },
        { "events-pub", "MESO_EVENTS_PUB_ENDPOINT", "tcp://127.0.0.1:7106",
          "events daemon PUB endpoint(s)", NULL },
        { "scheduling", "MESO_SCHEDULING_ENDPOINT", "tcp://127.0.0.1:7102",
          "scheduling ROUTER endpoint(s), asked whether a clinic exists (scheduling.GetClinic); "
          "empty (--scheduling=): clinic ids are checked for syntax only", NULL },
        { "metrics", "MESO_METRICS_BIND", "",
          "host:port serving Prometheus metrics at /metrics (e.g. 127.0.0.1:9101); empty: none", NULL },
        { "expiry-check-ms", "MESO_BILLING_EXPIRY_CHECK_MS", "60000",
          "how often packages past their last day are expired (billing.package_expired), ms", NULL },
        { "gauges-ms", "MESO_BILLING_GAUGES_MS", "30000",
          "how often the per-clinic gauge of today (meso_clinic_revenue_today_cents) is refreshed "
          "(ms, 1000..3600000; 0: never)", NULL },
        { "log-level", "MESO_LOG_LEVEL", "info", "debug, info, warn or error", NULL },
        MESO_IDEM_OPTS,
        MESO_WORKERS_OPT,
        { NULL, NULL, NULL, NULL, NULL }
    };
    int rc = meso_config_parse (opts, argc, argv, "meso-billing",
        "Keeps price lists, packages, invoices, payments and refunds; charges performed "
        "sessions (from session events) exactly once on an append-only ledger.", NULL, NULL);
    if (rc != 0)
        return rc > 0 ? 0 : 2;
    meso_log_init ("billing", meso_config_get (opts, "log-level"));
    s_opts = opts;
    long workers;
    if (meso_config_int (opts, "workers", 0, MESO_BUS_WORKERS_MAX, &workers) != 0)
        return 2;
    if (meso_idem_purger_init (&s_purger, opts, BILLING_SCHEMA) != 0)
        return 2;
    long gauges_every;
    if (meso_config_int (opts, "gauges-ms", 0, 3600000L, &gauges_every) != 0)
        return 2;
    if (gauges_every > 0 && gauges_every < 1000) {
        meso_error ("--gauges-ms: 0 or 1000..3600000, not %ld", gauges_every);
        return 2;
    }
    if (meso_metrics_start ("billing", meso_config_get (opts, "metrics")) != 0)
        return 1;
    zsys_init ();
    zsys_set_logstream (NULL);

    billing_t self;
    memset (&self, 0, sizeof self);
    self.main = &self;
    self.provider = &pricing_provider_record_only;
    const char *pause = getenv ("MESO_BILLING_TEST_PAUSE_MS");
    if (pause && *pause) {
        self.test_pause_ms = atoi (pause);
        meso_warn ("MESO_BILLING_TEST_PAUSE_MS=%d: pausing inside event transactions (tests only)",
                   self.test_pause_ms);
    }
    if (meso_trust_start ("billing", meso_config_get (opts, "db")) != 0)
        return 1;
    self.db = meso_db_new (meso_config_get (opts, "db"));
    if (!self.db) {
        meso_error ("out of memory");
        return 1;
    }
    if (!meso_db_ok (self.db))
        meso_warn ("database not reachable yet: %s (will retry)", meso_db_error (self.db)->message);
    self.clinics = meso_clinics_new (meso_config_get (opts, "scheduling"), "billing");
    if (!self.clinics) {
        meso_error ("cannot use the scheduling endpoint \"%s\"", meso_config_get (opts, "scheduling"));
        meso_db_destroy (&self.db);
        return 1;
    }
    if (!meso_clinics_checking (self.clinics))
        meso_warn ("no scheduling endpoint: clinic ids are checked for syntax only");

    self.server = meso_bus_server_new ("billing", meso_config_get (opts, "bind"),
                                       billing_methods, &self, self.db);
    if (!self.server) {
        meso_db_destroy (&self.db);
        meso_clinics_destroy (&self.clinics);
        return 1;
    }
    meso_bus_server_set_health (self.server, billing_health, &self);

    meso_db_t *consumer_db = NULL;
    const char *events = meso_config_get (opts, "events");
    if (events && *events) {
        consumer_db = meso_db_new (meso_config_get (opts, "db"));
        if (consumer_db)
            self.consumer = meso_consumer_new (consumer_db, BILLING_SCHEMA, "session,screening", events,
                                               meso_config_get (opts, "events-pub"), "billing",
                                               billing_on_event, &self);
        if (!self.consumer) {
            meso_error ("cannot start the event consumer (events %s)", events);
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
               self.consumer ? ", consuming session and screening events from " : "",
               self.consumer ? events : "");

    int64_t expiry_every = atoll (meso_config_get (opts, "expiry-check-ms"));
    if (expiry_every < 10)
        expiry_every = 10;
    int64_t expiry_next = zclock_mono () + expiry_every / 10;   /* soon after start */
    int64_t gauges_next = zclock_mono ();
    while (!zsys_interrupted) {
        meso_idem_purge_tick (&s_purger, self.db);
        if (gauges_every > 0 && zclock_mono () >= gauges_next) {
            billing_gauges (&self);
            gauges_next = zclock_mono () + gauges_every;
        }
        if (zclock_mono () >= expiry_next) {
            int n = 0;
            if (billing_packages_expire_due (self.db, &n) != 0)
                meso_warn ("expiring packages failed: %s", meso_db_error (self.db)->message);
            else if (n > 0) {
                self.packages_expired += (uint64_t) n;
                meso_info ("%d package%s expired", n, n > 1 ? "s" : "");
            }
            expiry_next = zclock_mono () + expiry_every;
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
