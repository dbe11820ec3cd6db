/* main.c -- the screening daemon: configuration, the socket, the loop.
 *
 * Requests are served by MESO_WORKERS worker threads, each with its own
 * database connection, clinic cache and peer clients; the main thread
 * keeps one connection for the ticks (idempotency purge, search
 * backfill). No state outside
 * PostgreSQL, so several instances can serve the same database behind one
 * client (requests for one patient serialise on the patient's row lock).
 * Everything a request does starts at the method table in handlers.c.
 * Two peers are asked on a miss, with short deadlines: scheduling (does a
 * clinic exist; before an erasure, has the patient sessions booked) and
 * inventory (is an ingredient code in the catalogue). The vault's master
 * key is read from the keys folder at start: without it nothing personal
 * can be stored or read, so the daemon does not start. The patient search
 * key is read at start too (search.c: no key, no start), and the first
 * ticks index the patients registered before the search existed. */
#include <czmq.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "screening.h"
#include "meso/access.h"
#include "meso/curve.h"
#include "meso/clinics.h"
#include "meso/config.h"
#include "meso/idem.h"
#include "meso/log.h"
#include "meso/metrics.h"

/* Keys past their retention go in small batches between requests. */
static meso_idem_purger_t s_purger;
/* Indexes, once, the patients registered before the search existed
 * (search.c); retried every second until the database answers. */
static bool s_backfilled;

/* The options, for the workers' own connections and clients. */
static const meso_opt_t *s_opts;

/* A worker's state (meso_bus_server_start): the daemon's settings, with a
 * connection and bus clients of its own. */
static int
s_worker_init (void *arg, int index, void **worker_arg, meso_db_t **db)
{
    (void) index;
    screening_t *w = malloc (sizeof *w);
    if (!w)
        return -1;
    *w = *(screening_t *) arg;
    w->db = meso_db_new (meso_config_get (s_opts, "db"));
    w->clinics = meso_clinics_new (meso_config_get (s_opts, "scheduling"), "screening");
    w->inventory = w->inventory ? meso_bus_client_new ("inventory", meso_config_get (s_opts, "inventory")) : NULL;
    w->scheduling = w->scheduling ? meso_bus_client_new ("scheduling", meso_config_get (s_opts, "scheduling")) : NULL;
    if (w->inventory)
        meso_bus_client_set_attempt_timeout (w->inventory, SCREENING_CATALOGUE_DEADLINE_MS / 2);
    *worker_arg = w;
    *db = w->db;
    return w->db && w->clinics ? 0 : -1;
}

static void
s_worker_fini (void *arg, void *worker_arg)
{
    (void) arg;
    screening_t *w = worker_arg;
    if (!w)
        return;
    meso_db_destroy (&w->db);
    meso_clinics_destroy (&w->clinics);
    meso_bus_client_destroy (&w->inventory);
    meso_bus_client_destroy (&w->scheduling);
    free (w);
}

static void
s_tick (void *arg)
{
    screening_t *self = arg;
    meso_idem_purge_tick (&s_purger, self->db);
    if (!s_backfilled && screening_search_backfill (self) >= 0)
        s_backfilled = true;
}

int
main (int argc, char **argv)
{
    meso_opt_t opts[] = {
        { "db", "MESO_DB", "host=/var/run/postgresql dbname=meso user=meso_screening",
          "libpq conninfo of the meso database", NULL },
        { "bind", "MESO_BIND", "tcp://127.0.0.1:7101", "ROUTER endpoint for screening.* and Health", NULL },
        { "scheduling", "MESO_SCHEDULING_ENDPOINT", "tcp://127.0.0.1:7102",
          "scheduling ROUTER endpoint(s), asked whether a clinic exists (scheduling.GetClinic); "
          "empty (--scheduling=): clinic ids are checked for syntax only", NULL },
        { "inventory", "MESO_INVENTORY_ENDPOINT", "tcp://127.0.0.1:7103",
          "inventory ROUTER endpoint(s), asked for ingredient codes not seen before "
          "(inventory.GetIngredients, the chain's one catalogue); empty (--inventory=): only "
          "codes already confirmed are known", NULL },
        { "metrics", "MESO_METRICS_BIND", "",
          "host:port serving Prometheus metrics at /metrics (e.g. 127.0.0.1:9101); empty: none", NULL },
        { "log-level", "MESO_LOG_LEVEL", "info", "debug, info, warn or error", NULL },
        MESO_IDEM_OPTS,
        MESO_WORKERS_OPT,
        { "search-key", "MESO_SEARCH_KEY", "",
          "file of the patient search key (64 hex digits); empty: search.key in the keys folder "
          "(MESO_KEYS), made by mesoctl keys init", NULL },
        { NULL, NULL, NULL, NULL, NULL }
    };
    int rc = meso_config_parse (opts, argc, argv, "meso-screening",
        "Keeps patients and their screenings and decides, with every reason, whether a "
        "patient may receive a cocktail on a date (screening.*).", NULL, NULL);
    if (rc != 0)
        return rc > 0 ? 0 : 2;
    meso_log_init ("screening", meso_config_get (opts, "log-level"));
    s_opts = opts;
    long workers;
    if (meso_config_int (opts, "workers", 0, MESO_BUS_WORKERS_MAX, &workers) != 0)
        return 2;
    if (meso_idem_purger_init (&s_purger, opts, "screening") != 0)
        return 2;
    if (meso_metrics_start ("screening", meso_config_get (opts, "metrics")) != 0)
        return 1;
    zsys_init ();
    zsys_set_logstream (NULL);

    screening_t self;
    memset (&self, 0, sizeof self);
    if (meso_trust_start ("screening", meso_config_get (opts, "db")) != 0)
        return 1;
    /* The master key that wraps every patient's data key (meso/vault.h):
     * beside the CURVE keys, never in the database. */
    char err[512];
    if (meso_vault_master_load (meso_curve_keys_dir (), err, sizeof err) != 0) {
        meso_error ("%s", err);
        return 1;
    }
    if (screening_search_key_load (&self, meso_config_get (opts, "search-key"), meso_curve_keys_dir ()) != 0)
        return 1;
    self.db = meso_db_new (meso_config_get (opts, "db"));
    if (!self.db) {
        meso_error ("out of memory");
        return 1;
    }
    if (!meso_db_ok (self.db))
        meso_warn ("database not reachable yet: %s (will retry)", meso_db_error (self.db)->message);
    self.clinics = meso_clinics_new (meso_config_get (opts, "scheduling"), "screening");
    if (!self.clinics) {
        meso_error ("cannot use the scheduling endpoint \"%s\"", meso_config_get (opts, "scheduling"));
        meso_db_destroy (&self.db);
        return 1;
    }
    if (!meso_clinics_checking (self.clinics))
        meso_warn ("no scheduling endpoint: clinic ids are checked for syntax only");
    const char *inventory = meso_config_get (opts, "inventory");
    if (inventory && *inventory) {
        self.inventory = meso_bus_client_new ("inventory", inventory);
        if (!self.inventory) {
            meso_error ("cannot use the inventory endpoint \"%s\"", inventory);
            meso_clinics_destroy (&self.clinics);
            meso_db_destroy (&self.db);
            return 1;
        }
        meso_bus_client_set_attempt_timeout (self.inventory, SCREENING_CATALOGUE_DEADLINE_MS / 2);
    }
    else
        meso_warn ("no inventory endpoint: only ingredient codes already confirmed are known");
    const char *scheduling = meso_config_get (opts, "scheduling");
    if (scheduling && *scheduling && !(self.scheduling = meso_bus_client_new ("scheduling", scheduling))) {
        meso_error ("cannot use the scheduling endpoint \"%s\"", scheduling);
        meso_clinics_destroy (&self.clinics);
        meso_bus_client_destroy (&self.inventory);
        meso_db_destroy (&self.db);
        return 1;
    }
    /* Rows of before migration 023 are sealed before anything is served. */
    if (meso_db_ok (self.db))
        screening_seal_legacy (&self);
    self.server = meso_bus_server_new ("screening", meso_config_get (opts, "bind"),
                                       screening_methods, &self, self.db);
    if (!self.server) {
        meso_db_destroy (&self.db);
        meso_clinics_destroy (&self.clinics);
        meso_bus_client_destroy (&self.inventory);
        meso_bus_client_destroy (&self.scheduling);
        return 1;
    }
    if (meso_bus_server_start (self.server, meso_bus_workers_resolve (workers), s_worker_init,
                               s_worker_fini, &self) != 0) {
        meso_bus_server_destroy (&self.server);
        return 1;
    }
    meso_info ("serving on %s", meso_config_get (opts, "bind"));
    meso_bus_server_run (self.server, s_tick, &self, 1000);
    meso_info ("stopping");
    meso_bus_server_destroy (&self.server);
    meso_db_destroy (&self.db);
    meso_clinics_destroy (&self.clinics);
    meso_bus_client_destroy (&self.inventory);
    meso_bus_client_destroy (&self.scheduling);
    meso_metrics_stop ();
    meso_curve_shutdown ();
    meso_access_stop ();
    return 0;
}
