/* bench_sched_pgbench.c -- pgbench for bench_scheduling: one runner for
 * both scripts (booking.pgbench, the daemons' own SQL; essential.pgbench,
 * the essential work of a booking in one transaction), read from
 * tests/bench/ at run time, and the essential schema they need.
 *
 * pgbench -n -M prepared, the bench database as user meso; the rate is
 * pgbench's "tps ... without initial connection time", p50/p99 come from
 * its per-transaction log (-l), so they are measured the way the daemon
 * clients' are: one booking's latency from send to reply. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_scheduling.h"
#include "harness.h"

static const char *
s_pgbench_bin (void)
{
    static const char *const cand[] = { "/usr/lib/postgresql/15/bin/pgbench", "/usr/lib/postgresql/16/bin/pgbench",
                                        "/usr/lib/postgresql/17/bin/pgbench", "/usr/bin/pgbench", NULL };
    for (int i = 0; cand[i]; i++)
        if (access (cand[i], X_OK) == 0)
            return cand[i];
    return NULL;
}

int
bs_pgbench (const char *script, int clients, int seconds, bs_pgbench_t *out)
{
    memset (out, 0, sizeof *out);
    const char *bin = s_pgbench_bin ();
    if (!bin) {
        fprintf (stderr, "bench_scheduling: pgbench not found (apt-get install postgresql-contrib)\n");
        return -1;
    }
    char dir[] = "/tmp/meso-pgbench-XXXXXX";
    if (!mkdtemp (dir))
        return -1;
    char cmd[2048];
    snprintf (cmd, sizeof cmd,
              "cd %s && %s -n -M prepared -c %d -j 2 -T %d -l --log-prefix=%s/pgb -f %s/tests/bench/%s"
              " -h %s -p %s -U meso bench_scheduling > %s/out.txt 2>&1",
              dir, bin, clients, seconds, dir, mt_source_dir (), script, getenv ("MESO_TEST_PGHOST"),
              getenv ("MESO_TEST_PGPORT"), dir);
    int rc = system (cmd);
    char path[512], line[512];
    snprintf (path, sizeof path, "%s/out.txt", dir);
    FILE *f = fopen (path, "r");
    while (f && fgets (line, sizeof line, f)) {
        double v;
        long n;
        if (sscanf (line, "tps = %lf (without initial connection time)", &v) == 1)
            out->tps = v;
        if (sscanf (line, "number of failed transactions: %ld", &n) == 1)
            out->failed = n;
        if (rc != 0 || strstr (line, "ERROR") || strstr (line, "error"))
            fprintf (stderr, "pgbench %s: %s", script, line);
    }
    if (f)
        fclose (f);
    /* Per-transaction logs: "client_id transaction_no time_us script_no epoch epoch_us". */
    size_t cap = (size_t) MAXLAT * 8;
    int64_t *lat = malloc (sizeof (int64_t) * cap);
    snprintf (cmd, sizeof cmd, "cat %s/pgb.* 2>/dev/null", dir);
    FILE *p = lat ? popen (cmd, "r") : NULL;
    while (p && fgets (line, sizeof line, p) && out->n < cap) {
        long cl, tx, us;
        if (sscanf (line, "%ld %ld %ld", &cl, &tx, &us) == 3)
            lat[out->n++] = us;
    }
    if (p)
        pclose (p);
    if (out->n) {
        qsort (lat, out->n, sizeof *lat, bs_cmp_i64);
        out->p50 = lat[out->n / 2];
        out->p99 = lat[out->n * 99 / 100];
    }
    free (lat);
    snprintf (cmd, sizeof cmd, "rm -rf %s", dir);
    if (system (cmd) != 0)
        fprintf (stderr, "bench_scheduling: could not remove %s\n", dir);
    return rc == 0 && out->tps > 0 ? 0 : -1;
}

int
bs_essential_schema (int clients)
{
    if (mt_sh ("psql '%s' -q -v ON_ERROR_STOP=1 -v clients=%d -f '%s/tests/bench/essential_schema.sql' >/dev/null",
               bs_admin, clients, mt_source_dir ()) != 0) {
        fprintf (stderr, "bench_scheduling: tests/bench/essential_schema.sql did not load\n");
        return -1;
    }
    return 0;
}

void
bs_essential_report (meso_db_t *db)
{
    PGresult *res = meso_db_query (db,
        "SELECT (SELECT count(*) FROM essential.appointment), (SELECT count(*) FROM essential.hold),"
        " (SELECT count(*) FROM essential.hold WHERE lot_id LIKE '%-2'),"
        " (SELECT coalesce(sum(reserved_milli), 0) FROM essential.lot)"
        "   = (SELECT coalesce(sum(amount_milli), 0) FROM essential.hold),"
        " (SELECT count(*) FROM essential.outbox)", 0, NULL);
    if (!res) {
        fprintf (stderr, "bench_scheduling: essential: %s\n", meso_db_error (db)->message);
        return;
    }
    printf ("  essential: %s appointments, %s holds (%s on the lot FEFO must pick), reserved = held: %s,"
            " %s outbox rows\n", PQgetvalue (res, 0, 0), PQgetvalue (res, 0, 1), PQgetvalue (res, 0, 2),
            strcmp (PQgetvalue (res, 0, 3), "t") == 0 ? "yes" : "NO", PQgetvalue (res, 0, 4));
    PQclear (res);
}
