/* bench_scheduling.c -- booking through the daemons against the database's
 * own limit for the same work and against the essential work of a booking,
 * and course planning in a busy clinic (issue 20's targets).
 *
 * Needs a PostgreSQL cluster and pgbench: run it through tests/bench/run.sh,
 * which starts a throwaway cluster and sets MESO_TEST_PGHOST/PGPORT.
 * Measures and prints; never passes or fails on time.
 *
 *   1. daemons: 8 client threads call scheduling.BookSession through real
 *      meso-screening, meso-inventory and meso-scheduling daemons for 10 s,
 *      each in its own clinic (own practitioner, room, patients and stock
 *      lot: the bookings do not conflict), one session after the other.
 *      Every daemon runs its worker pool (MESO_WORKERS from the
 *      environment, default one worker per core, each with its own
 *      connection); scheduling runs as deployed, with
 *      MESO_SCHEDULING_WORKERS (4) workers, since its workers wait on
 *      screening and inventory for most of a booking. This runs once
 *      per configuration of
 *      MESO_BENCH_INSTANCES (default "1,4"): n scheduling instances with
 *      max(1, n/2) screening and as many inventory instances, each on its
 *      own endpoint; every scheduling instance is given the lists of
 *      screening and inventory endpoints, and client i calls scheduling
 *      instance i mod n (as a pool of connections would). Every instance
 *      answers Health before the clients start; all are stopped after.
 *   2. own SQL: pgbench -M prepared with 8 clients runs
 *      tests/bench/booking.pgbench -- every statement a booking sends, in
 *      the same transactions, across scheduling, screening and inventory --
 *      for 10 s in 8 other clinics.
 *   3. essential: pgbench -M prepared with 8 clients runs
 *      tests/bench/essential.pgbench on essential_schema.sql (a schema of
 *      its own) for 10 s: the clearance read, the appointment under two
 *      exclusion constraints, two FEFO lot holds and the outbox insert, as
 *      ONE transaction -- the floor a booking cannot go below.
 *   One table prints the three: bookings/s, p50, p99, and for each daemon
 *   configuration both ratios with issue 20's targets and whether each is
 *   met: daemons / own SQL >= 0.9 with p99 <= 1.5 x own SQL's p99, and
 *   daemons / essential >= 0.25. The targets are for one instance of each
 *   daemon; the other configurations show what more instances buy.
 *   4. PlanCourse in a busy clinic (bench_sched_plan.c).
 *
 * MESO_BENCH_ONLY=compare runs none of these but compares two builds'
 * PlanCourse (bench_sched_compare.c, tests/bench/plan_compare.sh).
 *
 * Why it is built this way: the daemons' figure alone says little on a
 * shared 2-core machine; pgbench in the same run, on the same cluster, is
 * the reference that moves with the machine: booking.pgbench for what the
 * daemons' own statements cost, essential.pgbench for what the work of a
 * booking costs at the least. Both scripts are read from their files at
 * run time, so a change to the daemons' SQL is followed by editing
 * booking.pgbench alone. */
#include <assert.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_scheduling.h"
#include "harness.h"
#include "meso/mtime.h"
#include "meso/status.h"
#include "scheduling.pb-c.h"

static int s_nclients = NCLIENTS;

/* ------------------------------------------------ 1. through the daemons */

/* Two sessions of one patient are at least 7 days apart (any course), so
 * each client books a pool of patients in turn: slot k (16 a day) goes to
 * patient k mod a week of slots, whose previous session is then exactly
 * a week earlier. */
#define WEEK_SLOTS (16 * 7)

typedef struct {
    int index;
    char patients[WEEK_SLOTS][40];
    const char *endpoint;       /* the scheduling instance it calls */
    int next_slot;              /* slots already used by earlier runs */
    int64_t *lat;
    int n, failed;
    int64_t deadline_us;
} client_t;

static void *
s_client (void *arg)
{
    client_t *c = arg;
    meso_bus_client_t *bus = mt_client (c->endpoint);
    char clinic[32], pract[48], room[48], start[32], day[16], key[96];
    snprintf (clinic, sizeof clinic, "bc%d", c->index);
    snprintf (pract, sizeof pract, "%s-p0", clinic);
    snprintf (room, sizeof room, "%s-r0", clinic);
    char *areas[] = { "thighs" };
    meso_result_t r = { 0 };
    int k = c->next_slot;
    for (; meso_time_mono_us () < c->deadline_us && c->n < MAXLAT; k++) {
        /* 16 one-hour slots a day, 06:00..21:00 UTC, from tomorrow on. */
        bs_day (1 + k / 16, day);
        snprintf (start, sizeof start, "%sT%02d:00", day, 6 + k % 16);
        Meso__V1__BookSessionRequest rq = MESO__V1__BOOK_SESSION_REQUEST__INIT;
        rq.clinic_id = clinic;
        rq.patient_id = c->patients[k % WEEK_SLOTS];
        rq.practitioner_id = pract;
        rq.room_id = room;
        rq.local_start = start;
        rq.areas = areas;
        rq.n_areas = 1;
        rq.recipe_id = "bench";
        snprintf (key, sizeof key, "bench-%d-%d-%d", (int) getpid (), c->index, k);
        int64_t t0 = meso_time_mono_us ();
        meso_result_reset (&r);
        meso_bus_client_call (bus, "scheduling.BookSession", &rq.base, key, 20000, &r);
        int64_t t1 = meso_time_mono_us ();
        if (r.status != MESO_OK) {
            if (c->failed++ < 3)
                fprintf (stderr, "bench_scheduling: client %d: BookSession %s: %s: %s\n", c->index, start,
                         meso_status_name (r.status), r.message);
            continue;
        }
        c->lat[c->n++] = t1 - t0;
    }
    c->next_slot = k;           /* the next configuration books later slots */
    meso_result_reset (&r);
    meso_bus_client_destroy (&bus);
    return NULL;
}

/* Connections the daemons hold to the bench database, as PostgreSQL counts
 * them (-1 if it cannot tell). */
static int
s_daemon_connections (meso_db_t *db)
{
    PGresult *res = meso_db_query (db,
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
        " AND usename IN ('meso_scheduling', 'meso_screening', 'meso_inventory')", 0, NULL);
    int n = res ? atoi (PQgetvalue (res, 0, 0)) : -1;
    PQclear (res);
    return n;
}

/* One configuration's figures. */
typedef struct {
    int nsch, nscr, ninv, connections;
    double rate;
    int64_t p50, p99;
    size_t n;
    int failed;
    int64_t booked, held;       /* appointments booked, reservations held (this run) */
} booking_t;

/* Counts of booked appointments and held reservations in the bc clinics. */
static void
s_booked_counts (meso_db_t *db, int64_t *booked, int64_t *held)
{
    *booked = *held = -1;
    PGresult *res = meso_db_query (db,
        "SELECT (SELECT count(*) FROM scheduling.appointment WHERE status = 'booked' AND clinic_id LIKE 'bc%'),"
        " (SELECT count(*) FROM inventory.reservation WHERE status = 'held' AND clinic_id LIKE 'bc%')", 0, NULL);
    if (res) {
        *booked = strtoll (PQgetvalue (res, 0, 0), NULL, 10);
        *held = strtoll (PQgetvalue (res, 0, 1), NULL, 10);
        PQclear (res);
    }
}

/* RUN_S seconds of bookings by the clients through fleet f. */
static void
s_booking_run (const fleet_t *f, meso_db_t *db, client_t *cl, booking_t *out)
{
    memset (out, 0, sizeof *out);
    out->nsch = f->nsch;
    out->nscr = f->nscr;
    out->ninv = f->ninv;
    out->connections = s_daemon_connections (db);
    int64_t booked0, held0;
    s_booked_counts (db, &booked0, &held0);
    pthread_t th[NCLIENTS];
    int64_t t0 = meso_time_mono_us ();
    for (int i = 0; i < s_nclients; i++) {
        cl[i].index = i;
        cl[i].endpoint = f->sch[i % f->nsch];
        cl[i].lat = malloc (sizeof (int64_t) * MAXLAT);
        assert (cl[i].lat);
        cl[i].n = cl[i].failed = 0;
        cl[i].deadline_us = t0 + RUN_S * INT64_C (1000000);
        pthread_create (&th[i], NULL, s_client, &cl[i]);
    }
    for (int i = 0; i < s_nclients; i++)
        pthread_join (th[i], NULL);
    double elapsed = (double) (meso_time_mono_us () - t0) / 1e6;
    size_t n = 0;
    for (int i = 0; i < s_nclients; i++)
        n += (size_t) cl[i].n, out->failed += cl[i].failed;
    int64_t *lat = malloc (sizeof (int64_t) * (n ? n : 1));
    assert (lat);
    size_t k = 0;
    for (int i = 0; i < s_nclients; i++) {
        memcpy (lat + k, cl[i].lat, sizeof (int64_t) * (size_t) cl[i].n);
        k += (size_t) cl[i].n;
        free (cl[i].lat);
        cl[i].lat = NULL;
    }
    qsort (lat, n, sizeof *lat, bs_cmp_i64);
    out->n = n;
    out->rate = (double) n / elapsed;
    if (n) {
        out->p50 = lat[n / 2];
        out->p99 = lat[n * 99 / 100];
    }
    free (lat);
    int64_t booked1, held1;
    s_booked_counts (db, &booked1, &held1);
    out->booked = booked0 >= 0 && booked1 >= 0 ? booked1 - booked0 : -1;
    out->held = held0 >= 0 && held1 >= 0 ? held1 - held0 : -1;
}

/* Parses "1,4" into counts of scheduling instances (1..MAXINST). */
static int
s_parse_instances (const char *text, int *counts)
{
    int n = 0;
    char *copy = strdup (text), *save = NULL;
    assert (copy);
    for (char *tok = strtok_r (copy, ", ", &save); tok && n < MAXCONF; tok = strtok_r (NULL, ", ", &save)) {
        int v = atoi (tok);
        if (v < 1 || v > MAXINST) {
            fprintf (stderr, "bench_scheduling: MESO_BENCH_INSTANCES: %s is not 1..%d\n", tok, MAXINST);
            n = -1;
            break;
        }
        counts[n++] = v;
    }
    free (copy);
    return n;
}

/* ------------------------------------------------------------ the table */

/* The load averages (1, 5, 15 min) from /proc/loadavg, "?" if unknown. */
static void
s_loadavg (char *out, size_t size)
{
    snprintf (out, size, "?");
    FILE *f = fopen ("/proc/loadavg", "r");
    double a, b, c;
    if (f && fscanf (f, "%lf %lf %lf", &a, &b, &c) == 3)
        snprintf (out, size, "%.2f %.2f %.2f", a, b, c);
    if (f)
        fclose (f);
}

static void
s_row (const char *name, int connections, double rate, int64_t p50, int64_t p99)
{
    printf ("  %-32s %5d %10.1f %7.2f ms %7.2f ms", name, connections, rate, p50 / 1000.0, p99 / 1000.0);
}

/* One target: its value beside the bound, met or not. */
static void
s_target (const char *what, const char *cmp, double bound, double value, bool ok)
{
    printf ("    %-34s %s %4.2f   %6.2f   %s\n", what, cmp, bound, value, ok ? "met" : "not met");
}

/* The daemons' rows, own SQL and essential (NULL: did not run), the
 * ratios, and issue 20's targets for one instance of each daemon (the
 * first configuration when none has one). */
static void
s_table (const booking_t *runs, int nconf, const bs_pgbench_t *own, const bs_pgbench_t *ess, const char *load)
{
    printf ("scheduling: BookSession, %d concurrent client%s, %d s per row, distinct clinics"
            " (load average %s at the start)\n", s_nclients, s_nclients > 1 ? "s" : "", RUN_S, load);
    const char *w = getenv ("MESO_WORKERS");
    printf ("  workers: scheduling %d (MESO_SCHEDULING_WORKERS, as deployed), screening and inventory %s"
            " (MESO_WORKERS)\n", bs_sched_workers (), w && *w && strcmp (w, "0") != 0 ? w : "one per core");
    printf ("  %-32s %5s %10s %10s %10s %9s %9s %9s\n", "row", "conns", "bookings/s", "p50", "p99", "/own SQL",
            "p99/own", "/essent.");
    for (int c = 0; c < nconf; c++) {
        const booking_t *b = &runs[c];
        char name[64];
        snprintf (name, sizeof name, "daemons: %d sch + %d scr + %d inv", b->nsch, b->nscr, b->ninv);
        if (!b->n) {
            printf ("  %-32s %5d no booking succeeded\n", name, b->connections);
            continue;
        }
        s_row (name, b->connections, b->rate, b->p50, b->p99);
        if (own && own->tps > 0 && own->p99 > 0)
            printf (" %9.2f %9.2f", b->rate / own->tps, (double) b->p99 / (double) own->p99);
        else
            printf (" %9s %9s", "-", "-");
        if (ess && ess->tps > 0)
            printf (" %9.2f", b->rate / ess->tps);
        printf ("\n");
    }
    if (own) {
        s_row ("own SQL: booking.pgbench", s_nclients, own->tps, own->p50, own->p99);
        printf ("\n");
    }
    else
        printf ("  %-32s did not run (see above)\n", "own SQL: booking.pgbench");
    if (ess) {
        s_row ("essential: essential.pgbench", s_nclients, ess->tps, ess->p50, ess->p99);
        printf ("\n");
    }
    else
        printf ("  %-32s did not run (see above)\n", "essential: essential.pgbench");
    int t = 0;
    while (t < nconf && !(runs[t].nsch == 1 && runs[t].nscr == 1 && runs[t].ninv == 1))
        t++;
    if (t == nconf)
        t = 0;
    const booking_t *b = &runs[t];
    printf ("  targets (issue 20) for daemons: %d sch + %d scr + %d inv:\n", b->nsch, b->nscr, b->ninv);
    if (own && own->tps > 0 && own->p99 > 0 && b->n) {
        double r = b->rate / own->tps, p = (double) b->p99 / (double) own->p99;
        s_target ("bookings/s, daemons / own SQL", ">=", 0.9, r, r >= 0.9);
        s_target ("p99, daemons / own SQL", "<=", 1.5, p, p <= 1.5);
    }
    else
        printf ("    daemons / own SQL: not measured\n");
    if (ess && ess->tps > 0 && b->n) {
        double r = b->rate / ess->tps;
        s_target ("bookings/s, daemons / essential", ">=", 0.25, r, r >= 0.25);
    }
    else
        printf ("    daemons / essential: not measured\n");
    if (own)
        printf ("  own SQL: %zu transactions, %ld failed\n", own->n, own->failed);
    if (ess)
        printf ("  essential: %zu transactions, %ld failed\n", ess->n, ess->failed);
    for (int c = 0; c < nconf; c++)
        printf ("  %d sch + %d scr + %d inv: %zu booked, %d failed; %" PRId64 " appointments booked,"
                " %" PRId64 " reservations held\n", runs[c].nsch, runs[c].nscr, runs[c].ninv, runs[c].n,
                runs[c].failed, runs[c].booked, runs[c].held);
}

/* ------------------------------------------------------------- main */

int
main (void)
{
    if (!getenv ("MESO_TEST_PGHOST")) {
        fprintf (stderr, "bench_scheduling: run it through tests/bench/run.sh (needs PostgreSQL)\n");
        return 2;
    }
    /* Knobs for looking closer (not for the figures of record): fewer
     * clients (1: one booking at a time, its own latency), the daemons'
     * log level (debug: a line per request with duration_us, in
     * <build>/test-logs), which parts run, and the configurations of the
     * booking run (MESO_BENCH_INSTANCES, below). */
    const char *env = getenv ("MESO_BENCH_CLIENTS");
    if (env && atoi (env) >= 1 && atoi (env) <= NCLIENTS)
        s_nclients = atoi (env);
    static char level[64];
    env = getenv ("MESO_BENCH_LOG_LEVEL");
    if (env && env[0]) {
        snprintf (level, sizeof level, "--log-level=%s", env);
        bs_log_level = level;
    }
    const char *only = getenv ("MESO_BENCH_ONLY");      /* "booking", "plan", "compare" or unset */
    bool do_booking = !only || strcmp (only, "plan") != 0;
    bool do_plan = !only || strcmp (only, "booking") != 0;
    /* Scheduling instances per booking configuration; screening and
     * inventory get half as many (at least 1). */
    int counts[MAXCONF], nconf = 0;
    env = getenv ("MESO_BENCH_INSTANCES");
    nconf = s_parse_instances (env && env[0] ? env : "1,4", counts);
    if (nconf <= 0)
        return 2;
    if (mt_db_create ("bench_scheduling", bs_admin, sizeof bs_admin) != 0)
        return 1;
    fleet_t *fleet = bs_fleet_start (1, 1, 1);
    if (!fleet)
        return 1;
    bs_setup_clients (fleet);
    meso_db_t *db = meso_db_new (bs_admin);
    if (!meso_db_ok (db) || bs_catalogue () != 0)
        return 1;
    if (only && strcmp (only, "compare") == 0) {
        const char *other = getenv ("MESO_BENCH_COMPARE");
        if (!other || !other[0]) {
            fprintf (stderr, "bench_scheduling: compare needs MESO_BENCH_COMPARE=<another build folder>\n");
            return 2;
        }
        int rc = bs_compare (db, fleet, other);
        bs_setup_clients (NULL);
        meso_db_destroy (&db);
        bs_fleet_stop (&fleet);
        return rc;
    }

    /* Clinics bc<i> for the daemon clients, gc<i> for pgbench. */
    client_t cl[NCLIENTS];
    memset (cl, 0, sizeof cl);
    if (meso_db_exec (db, "CREATE SCHEMA bench", 0, NULL) || meso_db_exec (db, "CREATE SEQUENCE bench.seq", 0, NULL)
        || meso_db_exec (db, "CREATE TABLE bench.client (c int, k int, patient_id text, lot_id text,"
                         " PRIMARY KEY (c, k))", 0, NULL)) {
        fprintf (stderr, "bench_scheduling: %s\n", meso_db_error (db)->message);
        return 1;
    }
    for (int i = 0; i < NCLIENTS; i++) {
        char bc[16], gc[16], gp[40], gpid[40], gr[40], ci[8];
        snprintf (bc, sizeof bc, "bc%d", i);
        snprintf (gc, sizeof gc, "gc%d", i);
        if (bs_clinic (bc, "UTC", "06:00", "22:00", 7, 1, 1) != 0 || bs_stock (bc) != 0
            || bs_clinic (gc, "UTC", "06:00", "22:00", 7, 0, 0) != 0
            || bs_stock (gc) != 0)
            return 1;
        for (int k = 0; k < WEEK_SLOTS; k++)
            if (bs_patient (bc, cl[i].patients[k]) != 0)
                return 1;
        /* pgbench's practitioner gp<i> and room gr<i> (the script's names). */
        snprintf (gp, sizeof gp, "gp%d", i);
        snprintf (gr, sizeof gr, "gr%d", i);
        snprintf (ci, sizeof ci, "%d", i);
        const char *p1[] = { gp }, *p2[] = { gc, gr };
        if (meso_db_exec (db, "INSERT INTO scheduling.practitioner (practitioner_id, name) VALUES ($1, $1)", 1, p1)
            || meso_db_exec (db, "INSERT INTO scheduling.room (clinic_id, room_id, name, active)"
                             " VALUES ($1, $2, $2, true)", 2, p2)) {
            fprintf (stderr, "bench_scheduling: pgbench setup: %s\n", meso_db_error (db)->message);
            return 1;
        }
        /* pgbench's clients book a pool of patients as large as the daemon
         * clients' (booking n goes to patient n mod WEEK_SLOTS), so that
         * the reads of a patient's sessions see as many rows on both. */
        for (int k = 0; k < WEEK_SLOTS; k++) {
            char kk[8];
            snprintf (kk, sizeof kk, "%d", k);
            const char *p3[] = { gc, ci, gpid, kk };
            if (bs_patient (gc, gpid) != 0
                || meso_db_exec (db, "INSERT INTO bench.client SELECT $2::int, $4::int, $3, lot_id"
                                 " FROM inventory.lot WHERE clinic_id = $1", 4, p3)) {
                fprintf (stderr, "bench_scheduling: pgbench setup: %s\n", meso_db_error (db)->message);
                return 1;
            }
        }
    }

    if (do_booking) {
        /* ---- 1. through the daemons, one run per configuration ---- */
        char load[64];
        s_loadavg (load, sizeof load);
        booking_t runs[MAXCONF];
        for (int c = 0; c < nconf; c++) {
            int nsch = counts[c], nside = counts[c] / 2 > 1 ? counts[c] / 2 : 1;
            if (fleet->nsch != nsch || fleet->nscr != nside || fleet->ninv != nside) {
                bs_setup_clients (NULL);
                bs_fleet_stop (&fleet);
                fleet = bs_fleet_start (nsch, nside, nside);
                if (!fleet)
                    return 1;
                bs_setup_clients (fleet);
            }
            s_booking_run (fleet, db, cl, &runs[c]);
        }

        /* ---- 2. the daemons' own SQL, 3. the essential work ---- */
        bs_pgbench_t own, ess;
        int own_rc = bs_pgbench ("booking.pgbench", s_nclients, RUN_S, &own);
        int ess_rc = bs_essential_schema (s_nclients);
        if (ess_rc == 0)
            ess_rc = bs_pgbench ("essential.pgbench", s_nclients, RUN_S, &ess);
        s_table (runs, nconf, own_rc == 0 ? &own : NULL, ess_rc == 0 ? &ess : NULL, load);
        if (ess_rc == 0)
            bs_essential_report (db);
    }

    if (do_plan) {
        /* ---- 4. PlanCourse in a busy clinic, one instance of each ---- */
        if (fleet->nsch != 1 || fleet->nscr != 1 || fleet->ninv != 1) {
            bs_setup_clients (NULL);
            bs_fleet_stop (&fleet);
            fleet = bs_fleet_start (1, 1, 1);
            if (!fleet)
                return 1;
            bs_setup_clients (fleet);
        }
        if (bs_plan (db, fleet) != 0)
            return 1;
    }

    bs_setup_clients (NULL);
    meso_db_destroy (&db);
    bs_fleet_stop (&fleet);
    return 0;
}
