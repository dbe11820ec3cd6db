/* main.c -- meso-webhooks: configuration, sockets, the loop.
 *
 * One process, one thread. The loop polls the ROUTER (subscriptions are
 * managed over the bus like everything else), the live event feed's SUB
 * socket and every socket libcurl has open, and gives the engine a turn
 * after each poll: finished transfers are recorded, new ones started.
 * Nothing in the loop waits on a receiver. Two connections to
 * PostgreSQL: one for requests, one for the engine (its deliverer lock and
 * its records), so a request's transaction never interleaves with a
 * delivery's record. Everything the daemon knows is in PostgreSQL (the
 * secrets sealed under <MESO_KEYS>/webhooks.seal); killed at any point it
 * starts again from the stored cursors. */
#include <czmq.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meso/access.h"
#include "meso/config.h"
#include "meso/curve.h"
#include "meso/idem.h"
#include "meso/log.h"
#include "meso/metrics.h"
#include "webhooks.h"

#define POLL_MS 100
#define MAX_ITEMS 4200

static meso_idem_purger_t s_purger;

int
main (int argc, char **argv)
{
    meso_opt_t opts[] = {
        { "db", "MESO_DB", "host=/var/run/postgresql dbname=meso user=meso_webhooks",
          "libpq conninfo of the meso database", NULL },
        { "bind", "MESO_BIND", "tcp://127.0.0.1:7107", "ROUTER endpoint for webhooks.* and Health", NULL },
        { "events", "MESO_EVENTS_ENDPOINT", "tcp://127.0.0.1:7105",
          "events daemon ROUTER endpoint(s) (events.Head, events.Replay)", NULL },
        { "events-pub", "MESO_EVENTS_PUB_ENDPOINT", "tcp://127.0.0.1:7106",
          "events daemon PUB endpoint(s)", NULL },
        { "metrics", "MESO_METRICS_BIND", "",
          "host:port serving Prometheus metrics at /metrics (e.g. 127.0.0.1:9107); empty: none", NULL },
        { "log-level", "MESO_LOG_LEVEL", "info", "debug, info, warn or error", NULL },
        MESO_IDEM_OPTS,
        { "timeout-ms", "MESO_WEBHOOKS_TIMEOUT_MS", "10000",
          "how long one delivery may take, connection included, in ms (100..300000)", NULL },
        { "backoff-base-ms", "MESO_WEBHOOKS_BACKOFF_BASE_MS", "1000",
          "back-off after a first failure, in ms; doubles per attempt, with jitter (1..3600000)", NULL },
        { "backoff-cap-ms", "MESO_WEBHOOKS_BACKOFF_CAP_MS", "300000",
          "longest back-off, in ms (1..86400000)", NULL },
        { "max-attempts", "MESO_WEBHOOKS_MAX_ATTEMPTS", "3",
          "attempts of one event answered 4xx (not 408/429) or 3xx before the subscription parks (1..100)", NULL },
        { "park-after", "MESO_WEBHOOKS_PARK_AFTER", "15",
          "attempts of one event after which any failure parks the subscription (1..1000)", NULL },
        { "max-in-flight", "MESO_WEBHOOKS_MAX_IN_FLIGHT", "256",
          "transfers in flight at once, over every subscription (1..4000)", NULL },
        { "retention-days", "MESO_WEBHOOKS_RETENTION_DAYS", "30",
          "days delivery records are kept (those of a parked subscription until it is replayed) (1..3650)", NULL },
        { "allow-insecure-tls", "MESO_WEBHOOKS_ALLOW_INSECURE_TLS", "false",
          "let subscriptions set insecure_tls (no TLS certificate check): test receivers only", NULL },
        { NULL, NULL, NULL, NULL, NULL }
    };
    int rc = meso_config_parse (opts, argc, argv, "meso-webhooks",
        "Delivers events to HTTP receivers: signed JSON, in order per subscription, at least once, "
        "with retries, parking and operator replay.", NULL, NULL);
    if (rc != 0)
        return rc > 0 ? 0 : 2;
    meso_log_init ("webhooks", meso_config_get (opts, "log-level"));
    if (meso_idem_purger_init (&s_purger, opts, WEBHOOKS_SCHEMA) != 0)
        return 2;
    long timeout_ms, base_ms, cap_ms, max_attempts, park_after, in_flight, retention_days;
    if (meso_config_int (opts, "timeout-ms", 100, 300000, &timeout_ms) != 0
        || meso_config_int (opts, "backoff-base-ms", 1, 3600000, &base_ms) != 0
        || meso_config_int (opts, "backoff-cap-ms", 1, 86400000, &cap_ms) != 0
        || meso_config_int (opts, "max-attempts", 1, 100, &max_attempts) != 0
        || meso_config_int (opts, "park-after", 1, 1000, &park_after) != 0
        || meso_config_int (opts, "max-in-flight", 1, 4000, &in_flight) != 0
        || meso_config_int (opts, "retention-days", 1, 3650, &retention_days) != 0)
        return 2;
    if (sodium_init () < 0) {
        meso_error ("libsodium cannot start");
        return 1;
    }
    if (meso_metrics_start ("webhooks", meso_config_get (opts, "metrics")) != 0)
        return 1;
    zsys_init ();
    zsys_set_logstream (NULL);

    webhooks_t self;
    memset (&self, 0, sizeof self);
    self.allow_insecure = meso_config_bool (opts, "allow-insecure-tls");
    if (self.allow_insecure)
        meso_warn ("subscriptions may turn TLS verification off (MESO_WEBHOOKS_ALLOW_INSECURE_TLS): "
                   "for test receivers only");
    if (meso_trust_start ("webhooks", meso_config_get (opts, "db")) != 0)
        return 1;
    char err[512];
    if (frame_seal_load (meso_curve_keys_dir (), self.seal, err, sizeof err) != 0) {
        meso_error ("%s", err);
        return 1;
    }
    self.db = meso_db_new (meso_config_get (opts, "db"));
    if (!self.db) {
        meso_error ("out of memory");
        return 1;
    }
    if (!meso_db_ok (self.db))
        meso_warn ("database not reachable yet: %s (will retry)", meso_db_error (self.db)->message);
    wh_engine_config_t cfg = { meso_config_get (opts, "db"), meso_config_get (opts, "events"),
                               meso_config_get (opts, "events-pub"), timeout_ms, base_ms, cap_ms,
                               max_attempts, park_after, in_flight, retention_days, self.seal };
    self.engine = wh_engine_new (&cfg);
    self.server = self.engine ? meso_bus_server_new ("webhooks", meso_config_get (opts, "bind"),
                                                     webhooks_methods, &self, self.db) : NULL;
    zmq_pollitem_t *items = calloc (MAX_ITEMS, sizeof *items);
    if (!self.server || !items) {
        meso_error ("cannot start (events %s, bind %s)", meso_config_get (opts, "events"),
                    meso_config_get (opts, "bind"));
        free (items);
        wh_engine_destroy (&self.engine);
        meso_db_destroy (&self.db);
        return 1;
    }
    meso_bus_server_set_health (self.server, webhooks_health, &self);
    meso_info ("serving on %s, events from %s", meso_config_get (opts, "bind"),
               meso_config_get (opts, "events"));

    while (!zsys_interrupted) {
        meso_idem_purge_tick (&s_purger, self.db);
        long timeout = POLL_MS;
        items[0] = (zmq_pollitem_t) { zsock_resolve (meso_bus_server_socket (self.server)), 0, ZMQ_POLLIN, 0 };
        int n = wh_engine_items (self.engine, items + 1, MAX_ITEMS - 1, &timeout);
        if (zmq_poll (items, n + 1, timeout) < 0) {
            if (zmq_errno () == EINTR)
                continue;
            break;
        }
        if (items[0].revents & ZMQ_POLLIN)
            meso_bus_server_handle (self.server);
        wh_engine_turn (self.engine, items + 1, n);
    }
    meso_info ("stopping");
    free (items);
    meso_bus_server_destroy (&self.server);
    wh_engine_destroy (&self.engine);
    meso_db_destroy (&self.db);
    sodium_memzero (self.seal, sizeof self.seal);
    meso_metrics_stop ();
    meso_curve_shutdown ();
    meso_access_stop ();
    return 0;
}
