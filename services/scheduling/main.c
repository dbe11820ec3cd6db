/* main.c -- the scheduling daemon: configuration, the sockets, the loop.
 *
 * Requests are served by MESO_WORKERS worker threads (meso_bus_server_start),
 * each with its own database connection and DEALER clients for screening
 * and inventory (the booking saga calls them); the main thread keeps one
 * connection for the ticks and the consumer. No
 * state outside PostgreSQL: several instances may serve one database; the
 * exclusion constraints keep their bookings apart, and the saga's advisory
 * locks tell each instance which pending bookings belong to a dead one.
 * Recovery of those runs at start-up and then every few seconds (tick);
 * the tick also announces grade 1 courses whose yearly session falls due
 * (retreatment.c, every --retreatment-check-ms) and refreshes the
 * per-clinic gauges of today (reports.c, every --gauges-ms).
 *
 * When an events endpoint is configured, the loop also waits on the
 * screening-event consumer's SUB socket (holds.c: a reported change holds
 * the patient's sessions). The consumer has its own connection, so its
 * transactions (effect and cursor) never interleave with a request's. */
#include <czmq.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scheduling.h"
#include "meso/access.h"
#include "meso/curve.h"
#include "meso/vault.h"
#include "meso/config.h"
#include "meso/idem.h"
#include "meso/log.h"
#include "meso/metrics.h"
#include "meso/mtime.h"

#define RECOVERY_EVERY_MS 5000
#define CONSUMER_POLL_MS 50

/* Keys past their retention go in small batches between requests. */
static meso_idem_purger_t s_purger;

/* The options, for the workers' own connections and clients. */
static const meso_opt_t *s_opts;

/* A worker's state (meso_bus_server_start): the daemon's settings, with a
 * connection and bus clients of its own. The consumer and the ticks stay
 * with the main thread (one recovery loop per instance). */
static int
s_worker_init (void *arg, int index, void **worker_arg, meso_db_t **db)
{
    (void) index;
    scheduling_t *w = malloc (sizeof *w);
    if (!w)
        return -1;
    *w = *(scheduling_t *) arg;
    w->consumer = NULL;
    w->db = meso_db_new (meso_config_get (s_opts, "db"));
    w->screening = meso_bus_client_new ("screening", meso_config_get (s_opts, "screening"));
    w->inventory = meso_bus_client_new ("inventory", meso_config_get (s_opts, "inventory"));
    *worker_arg = w;
    *db = w->db;
    return w->db && w->screening && w->inventory ? 0 : -1;
}

static void
s_worker_fini (void *arg, void *worker_arg)
{
    (void) arg;
    scheduling_t *w = worker_arg;
    if (!w)
        return;
    meso_db_destroy (&w->db);
    meso_bus_client_destroy (&w->screening);
    meso_bus_client_destroy (&w->inventory);
    free (w);
}

static void
s_tick (void *arg)
{
    scheduling_t *self = arg;
    meso_idem_purge_tick (&s_purger, self->db);
    int64_t now = meso_time_mono_ms ();
    if (self->gauges_every_ms > 0 && now >= self->next_gauges_ms) {
        self->next_gauges_ms = now + self->gauges_every_ms;
        if (meso_db_ensure (self->db) == 0)
            reports_gauges (self);
    }
    if (self->frontdesk_every_ms > 0 && now >= self->next_frontdesk_ms) {
        self->next_frontdesk_ms = now + self->frontdesk_every_ms;
        if (meso_db_ensure (self->db) == 0)
            reminders_tick (self, 200);
        if (meso_db_ensure (self->db) == 0)
            waitlist_expire (self, 100);
    }
    if (now < self->next_recovery_ms)
        return;
    self->next_recovery_ms = now + RECOVERY_EVERY_MS;
    if (meso_db_ensure (self->db) != 0)
        return;
    int n = saga_recover (self);
    if (n > 0)
        meso_info ("recovered %d pending booking%s", n, n > 1 ? "s" : "");
    course_changes_recover (self);
    if (now >= self->next_retreatment_ms) {
        self->next_retreatment_ms = now + self->retreatment_every_ms;
        int due = retreatment_announce (self, 200);
        if (due > 0)
            meso_info ("announced %d yearly session%s due", due, due > 1 ? "s" : "");
    }
}

int
main (int argc, char **argv)
{
    meso_opt_t opts[] = {
        { "db", "MESO_DB", "host=/var/run/postgresql dbname=meso user=meso_scheduling",
          "libpq conninfo of the meso database", NULL },
        { "bind", "MESO_BIND", "tcp://127.0.0.1:7102", "ROUTER endpoint for scheduling.* and Health", NULL },
        { "screening", "MESO_SCREENING_ENDPOINT", "tcp://127.0.0.1:7101",
          "screening daemon endpoint(s), comma-separated", NULL },
        { "inventory", "MESO_INVENTORY_ENDPOINT", "tcp://127.0.0.1:7103",
          "inventory daemon endpoint(s), comma-separated", NULL },
        { "events", "MESO_EVENTS_ENDPOINT", "",
          "events daemon ROUTER endpoint(s) for replay; empty: do not consume screening events "
          "(reported changes then hold no sessions)", NULL },
        { "events-pub", "MESO_EVENTS_PUB_ENDPOINT", "tcp://127.0.0.1:7106",
          "events daemon PUB endpoint(s)", NULL },
        { "call-deadline-ms", "MESO_CALL_DEADLINE_MS", "5000",
          "deadline of one call to screening or inventory", NULL },
        { "retreatment-check-ms", "MESO_SCHEDULING_RETREATMENT_CHECK_MS", "60000",
          "how often to look for grade 1 courses whose yearly session falls due (ms, 1000..86400000)", NULL },
        { "retreatment-notice-days", "MESO_SCHEDULING_RETREATMENT_NOTICE_DAYS", "0",
          "announce session.retreatment_due this many days before the yearly session falls due (0..731)", NULL },
        { "gauges-ms", "MESO_SCHEDULING_GAUGES_MS", "30000",
          "how often the per-clinic gauges of today are refreshed (ms, 1000..3600000; 0: never)", NULL },
        { "frontdesk-ms", "MESO_SCHEDULING_FRONTDESK_MS", "15000",
          "how often due reminders and expired waitlist offers are looked at (ms, 100..3600000; 0: never)", NULL },
        { "offer-hold-s", "MESO_SCHEDULING_OFFER_HOLD_S", "900",
          "how long a slot offered from the waitlist is held when the clinic set no hold (s, 1..86400)", NULL },
        { "metrics", "MESO_METRICS_BIND", "",
          "host:port serving Prometheus metrics at /metrics (e.g. 127.0.0.1:9101); empty: none", NULL },
        { "log-level", "MESO_LOG_LEVEL", "info", "debug, info, warn or error", NULL },
        MESO_IDEM_OPTS,
        MESO_WORKERS_OPT,
        { NULL, NULL, NULL, NULL, NULL }
    };
    int rc = meso_config_parse (opts, argc, argv, "meso-scheduling",
        "Plans and books courses of sessions across practitioners and rooms, checked against "
        "screening and stock, never double-booked (scheduling.*).", NULL, NULL);
    if (rc != 0)
        return rc > 0 ? 0 : 2;
    meso_log_init ("scheduling", meso_config_get (opts, "log-level"));
    s_opts = opts;
    long workers;
    if (meso_config_int (opts, "workers", 0, MESO_BUS_WORKERS_MAX, &workers) != 0)
        return 2;
    if (meso_idem_purger_init (&s_purger, opts, SCHED_SCHEMA) != 0)
        return 2;
    if (meso_metrics_start ("scheduling", meso_config_get (opts, "metrics")) != 0)
        return 1;
    zsys_init ();
    zsys_set_logstream (NULL);

    scheduling_t self;
    memset (&self, 0, sizeof self);
    long deadline;
    if (meso_config_int (opts, "call-deadline-ms", 100, 600000, &deadline) != 0)
        return 2;
    self.call_deadline_ms = (int) deadline;
    long every, notice;
    if (meso_config_int (opts, "retreatment-check-ms", 1000, 86400000L, &every) != 0
        || meso_config_int (opts, "retreatment-notice-days", 0, 731, &notice) != 0)
        return 2;
    self.retreatment_every_ms = (int) every;
    self.retreatment_notice_days = (int) notice;
    long gauges;
    if (meso_config_int (opts, "gauges-ms", 0, 3600000L, &gauges) != 0)
        return 2;
    if (gauges > 0 && gauges < 1000) {
        meso_error ("--gauges-ms: 0 or 1000..3600000, not %ld", gauges);
        return 2;
    }
    self.gauges_every_ms = (int) gauges;
    long frontdesk, hold;
    if (meso_config_int (opts, "frontdesk-ms", 0, 3600000L, &frontdesk) != 0
        || meso_config_int (opts, "offer-hold-s", 1, 86400L, &hold) != 0)
        return 2;
    if (frontdesk > 0 && frontdesk < 100) {
        meso_error ("--frontdesk-ms: 0 or 100..3600000, not %ld", frontdesk);
        return 2;
    }
    self.frontdesk_every_ms = (int) frontdesk;
    self.offer_hold_s = (int) hold;
    /* Tests only: stop for good at a step of the saga (see saga.c). */
    const char *pause_at = getenv ("MESO_SCHEDULING_TEST_PAUSE_AT");
    if (pause_at && pause_at[0]) {
        self.pause_at = atoi (pause_at);
        const char *pf = getenv ("MESO_SCHEDULING_TEST_PAUSE_FILE");
        snprintf (self.pause_file, sizeof self.pause_file, "%s", pf ? pf : "");
    }
    if (meso_trust_start ("scheduling", meso_config_get (opts, "db")) != 0)
        return 1;
    /* The vault's master key: session notes and cancellation reasons are
     * sealed under the patient's data key (sealed.c). */
    char vault_err[512];
    if (meso_vault_master_load (meso_curve_keys_dir (), vault_err, sizeof vault_err) != 0) {
        meso_error ("%s", vault_err);
        return 1;
    }
    self.db = meso_db_new (meso_config_get (opts, "db"));
    if (!self.db) {
        meso_error ("out of memory");
        return 1;
    }
    if (!meso_db_ok (self.db))
        meso_warn ("database not reachable yet: %s (will retry)", meso_db_error (self.db)->message);
    else
        sched_seal_legacy (self.db);
    self.screening = meso_bus_client_new ("screening", meso_config_get (opts, "screening"));
    self.inventory = meso_bus_client_new ("inventory", meso_config_get (opts, "inventory"));
    if (!self.screening || !self.inventory) {
        meso_error ("cannot create the screening or inventory client");
        return 1;
    }
    self.server = meso_bus_server_new ("scheduling", meso_config_get (opts, "bind"),
                                       scheduling_methods, &self, self.db);
    if (!self.server) {
        meso_bus_client_destroy (&self.screening);
        meso_bus_client_destroy (&self.inventory);
        meso_db_destroy (&self.db);
        return 1;
    }
    meso_db_t *consumer_db = NULL;
    const char *events = meso_config_get (opts, "events");
    if (events && *events) {
        consumer_db = meso_db_new (meso_config_get (opts, "db"));
        if (consumer_db)
            self.consumer = meso_consumer_new (consumer_db, SCHED_SCHEMA, "screening", events,
                                               meso_config_get (opts, "events-pub"), "scheduling",
                                               holds_on_event, &self);
        if (!self.consumer) {
            meso_error ("cannot start the screening-event consumer (events %s)", events);
            meso_bus_server_destroy (&self.server);
            meso_db_destroy (&consumer_db);
            meso_bus_client_destroy (&self.screening);
            meso_bus_client_destroy (&self.inventory);
            meso_db_destroy (&self.db);
            return 1;
        }
    }
    meso_info ("serving on %s%s%s", meso_config_get (opts, "bind"),
               self.consumer ? ", consuming screening events from " : "", self.consumer ? events : "");
    /* Recovery before serving: bookings a previous life left pending. */
    s_tick (&self);
    if (meso_bus_server_start (self.server, meso_bus_workers_resolve (workers), s_worker_init,
                               s_worker_fini, &self) != 0) {
        meso_error ("cannot start the workers");
        return 1;
    }
    if (!self.consumer)
        meso_bus_server_run (self.server, s_tick, &self, 1000);
    /* The workers serve requests; this thread consumes and ticks. */
    while (self.consumer && !zsys_interrupted) {
        zmq_pollitem_t items[1] = {
            { zsock_resolve (meso_consumer_socket (self.consumer)), 0, ZMQ_POLLIN, 0 }
        };
        if (zmq_poll (items, 1, CONSUMER_POLL_MS) < 0) {
            if (zmq_errno () == EINTR)
                continue;
            break;
        }
        /* Every turn, not only on live input: catch-up replays and
         * heartbeat checks are the consumer's own business. */
        if (meso_consumer_poll (self.consumer, 0) < 0 && !zsys_interrupted)
            zclock_sleep (50);          /* a failed effect: it comes again */
        s_tick (&self);
    }
    meso_info ("stopping");
    meso_bus_server_drain (self.server);    /* the requests in flight are answered */
    meso_consumer_destroy (&self.consumer);
    meso_db_destroy (&consumer_db);
    meso_bus_server_destroy (&self.server);
    meso_bus_client_destroy (&self.screening);
    meso_bus_client_destroy (&self.inventory);
    meso_db_destroy (&self.db);
    meso_metrics_stop ();
    meso_curve_shutdown ();
    meso_access_stop ();
    return 0;
}
