/* bench_scale.c -- the same requests on a small database and on a chain's
 * two years of data, side by side (issue 20 part 4).
 *
 * Needs a PostgreSQL cluster (and psql): run it through tests/bench/run.sh
 * scale, which starts a throwaway cluster and sets MESO_TEST_PGHOST/PGPORT.
 * Measures and prints; never passes or fails on time.
 *
 * Both databases are made by tests/bench/scale_data.sql, only the sizes
 * differ: "small" is 2 clinics from 14 days ago to 130 days ahead (about
 * 12,000 sessions, 20,000 idempotency keys); "large" is 100 clinics
 * (times MESO_BENCH_SCALE, default 1) from 600 days ago to 130 ahead:
 * about 3 million sessions, 20 million events, 10 million idempotency
 * keys. The future (where bookings and plans go) is the same in both, so
 * what differs is what the database holds. MESO_BENCH_KEEP=1 times again
 * on the databases a previous run generated (the same cluster).
 *
 * On each, the five daemons start (events keeping its log: retention 3
 * years; the others keeping keys 30 days), then, one request at a time,
 * MESO_BENCH_N (200) of each after 5 to warm up:
 *   - PlanCourse: 10 weekly sessions from tomorrow at 10:00 in c001 (half
 *     of its room-hours taken for the next 130 days);
 *   - BookSession: one session each, in c001, 132 to 160 days ahead, for
 *     48 patients registered, screened and consented through screening
 *     (a run on kept databases first cancels, untimed, what earlier runs
 *     booked there);
 *   - GetAgenda: the whole day (one page) of c001 on a day drawn between 10
 *     days ago and 120 ahead (about 48 sessions);
 *   - GetStatement: the first page (20 entries) of a c001 patient's
 *     account (its sums are of the whole account, every page);
 *   - Replay: a page of 100 session events from a point drawn in the last
 *     day (events.Replay, after the first stream sequence of the last day);
 *   - relay: 3 bursts of 20,000 stock events written to the outbox (100
 *     per transaction), events/s from the first write until the outbox is
 *     empty (the table's "p50" column is the median burst, "p99" the
 *     slowest).
 * One table prints both databases' p50/p99, the ratio large/small of the
 * p99s (for the relay, of the slowest rate small/large) and the 1.5
 * target. */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_scale_run.h"
#include "harness.h"
#include "meso/db.h"
#include "meso/migrate.h"
#include "meso/mtime.h"
#include "meso/outbox.h"
#include "events.pb-c.h"

typedef struct {
    const char *name, *label;
    int clinics, past, future;
    long idem;
} scale_size_t;

static int
s_generate (const scale_size_t *sz, bool keep, char *admin, size_t size)
{
    if (keep) {
        /* The kept database gets the migrations added since it was made,
         * as a live one would, timed. */
        mt_admin_conninfo (sz->name, admin, size);
        meso_db_t *db = meso_db_new (admin);
        char dir[600];
        snprintf (dir, sizeof dir, "%s/deploy/sql", mt_source_dir ());
        int applied = 0;
        int64_t t0 = meso_time_mono_ms ();
        int rc = db ? meso_migrate (db, dir, &applied) : -1;
        if (rc != 0)
            fprintf (stderr, "bench_scale: migrating %s: %s\n", sz->name, db ? meso_db_error (db)->message : "");
        else if (applied)
            printf ("%s: %d new migration%s applied in %.1f s\n", sz->label, applied, applied == 1 ? "" : "s",
                    (double) (meso_time_mono_ms () - t0) / 1000.0);
        meso_db_destroy (&db);
        return rc;
    }
    if (mt_db_create (sz->name, admin, size) != 0)
        return -1;
    int64_t t0 = meso_time_mono_ms ();
    /* Each statement's time goes to <build>/bench_scale_<name>.log. */
    if (mt_sh ("psql '%s' -q -v ON_ERROR_STOP=1 -v clinics=%d -v past=%d -v future=%d -v idem=%ld"
               " -f '%s/tests/bench/scale_data.sql' >'%s/bench_scale_%s.log'",
               admin, sz->clinics, sz->past, sz->future, sz->idem, mt_source_dir (), mt_build_dir (),
               sz->name) != 0) {
        fprintf (stderr, "bench_scale: generating %s failed (%s/bench_scale_%s.log)\n", sz->name,
                 mt_build_dir (), sz->name);
        return -1;
    }
    printf ("%s: generated in %.1f s\n", sz->label, (double) (meso_time_mono_ms () - t0) / 1000.0);
    return 0;
}

/* Row counts and size on disk. */
static void
s_describe (const scale_size_t *sz, const char *admin)
{
    meso_db_t *db = meso_db_new (admin);
    const char *what[][2] = {
        { "sessions", "SELECT count(*) FROM scheduling.appointment" },
        { "courses", "SELECT count(*) FROM scheduling.course" },
        { "patients", "SELECT count(*) FROM screening.patients" },
        { "reservations", "SELECT count(*) FROM inventory.reservation" },
        { "invoices", "SELECT count(*) FROM billing.invoice" },
        { "ledger entries", "SELECT count(*) FROM billing.ledger" },
        { "events", "SELECT seq FROM events.stream_head WHERE stream = '*'" },
        { "idempotency keys", "SELECT (SELECT count(*) FROM scheduling.idempotency)"
                              " + (SELECT count(*) FROM inventory.idempotency)"
                              " + (SELECT count(*) FROM billing.idempotency)"
                              " + (SELECT count(*) FROM screening.idempotency)" },
        { "MB on disk", "SELECT pg_database_size (current_database ()) / 1048576" },
    };
    printf ("%s (%s):", sz->label, sz->name);
    for (size_t i = 0; i < sizeof what / sizeof what[0]; i++) {
        int64_t v = 0;
        mt_sql_int (db, what[i][1], NULL, &v);
        printf ("%s %" PRId64 " %s", i ? "," : "", v, what[i][0]);
    }
    printf ("\n");
    meso_db_destroy (&db);
}

/* One stored event of each type unpacked as a meso.v1.Event: the payload
 * the type names, the ids set. The count of types that do not. */
static int
s_check_events (const char *admin)
{
    meso_db_t *db = meso_db_new (admin);
    PGresult *res = meso_db_query (db,
        "SELECT DISTINCT ON (type) type, encode (payload, 'hex') FROM events.log ORDER BY type, global_seq",
        0, NULL);
    int bad = 0, n = res ? PQntuples (res) : 0;
    for (int i = 0; i < n; i++) {
        const char *type = PQgetvalue (res, i, 0), *hex = PQgetvalue (res, i, 1);
        size_t len = strlen (hex) / 2;
        uint8_t *buf = malloc (len + 1);
        for (size_t k = 0; k < len; k++)
            sscanf (hex + 2 * k, "%2hhx", &buf[k]);
        Meso__V1__Event *ev = meso__v1__event__unpack (NULL, len, buf);
        if (!ev || ev->payload_case != meso_event_payload_case (type) || strcmp (ev->type, type) != 0
            || !*ev->id || ev->occurred_at_us <= 0) {
            fprintf (stderr, "bench_scale: a generated %s event does not decode as one\n", type);
            bad++;
        }
        if (ev)
            meso__v1__event__free_unpacked (ev, NULL);
        free (buf);
    }
    printf ("  events: one of each of the %d types unpacked, %d wrong\n", n, bad);
    PQclear (res);
    meso_db_destroy (&db);
    return n > 0 ? bad : 1;
}

static void
s_print (const char *name, const scale_fig_t *a, const scale_fig_t *b, bool rate)
{
    double ratio = rate ? (b->p99 > 0 ? a->p99 / b->p99 : 0) : (a->p99 > 0 ? b->p99 / a->p99 : 0);
    printf ("%-30s | %9.2f %9.2f | %9.2f %9.2f | %6.2f  %s\n", name, a->p50, a->p99, b->p50, b->p99, ratio,
            ratio <= 1.5 ? "<=1.5 met" : ">1.5 not met");
    if (a->failed || b->failed)
        printf ("%-30s   (%d refused on small, %d on large)\n", "", a->failed, b->failed);
}

int
main (void)
{
    if (!getenv ("MESO_TEST_PGHOST")) {
        fprintf (stderr, "bench_scale: run it through tests/bench/run.sh scale (needs PostgreSQL)\n");
        return 2;
    }
    int n = getenv ("MESO_BENCH_N") ? atoi (getenv ("MESO_BENCH_N")) : 200;
    if (n < 10)
        n = 10;
    double scale = getenv ("MESO_BENCH_SCALE") ? atof (getenv ("MESO_BENCH_SCALE")) : 1.0;
    if (scale <= 0 || scale > 1)
        scale = 1.0;
    bool keep = getenv ("MESO_BENCH_KEEP") && strcmp (getenv ("MESO_BENCH_KEEP"), "1") == 0;
    int clinics = (int) (100 * scale + 0.5);
    scale_size_t sizes[2] = {
        { "bench_scale_small", "small", 2, 14, 130, 20000 },
        { "bench_scale", "large", clinics < 2 ? 2 : clinics, 600, 130, (long) (10000000 * scale) },
    };
    if (!mt_keys ())
        return 1;
    /* Events kept three years (the generated log is two); idempotency keys
     * the longest the daemons allow (the generated ones are younger). */
    setenv ("MESO_EVENTS_RETENTION_S", "94608000", 1);
    setenv ("MESO_IDEMPOTENCY_TTL_S", "2592000", 1);
    scale_figs_t figs[2];
    for (int i = 0; i < 2; i++) {
        char admin[512];
        if (s_generate (&sizes[i], keep, admin, sizeof admin) != 0)
            return 1;
        s_describe (&sizes[i], admin);
        if (scale_measure (sizes[i].name, admin, n, &figs[i]) != 0)
            return 1;
        /* The generated events are checked once, when generated, and
         * after the measurement: the check sorts the whole log (a minute
         * and 4 GB of temporary files on the large chain), which before
         * it left the chain's pages cold and doubled BookSession's p99. */
        if (!keep && s_check_events (admin) != 0)
            return 1;
    }
    char load[64] = "";
    FILE *f = fopen ("/proc/loadavg", "r");
    if (f) {
        if (!fgets (load, sizeof load, f))
            load[0] = '\0';
        fclose (f);
    }
    printf ("\n%-30s | %-19s | %-19s | %s\n", "figure", "small", "large", "large/small p99, target");
    printf ("%-30s | %9s %9s | %9s %9s |\n", "", "p50 ms", "p99 ms", "p50 ms", "p99 ms");
    s_print ("PlanCourse (10 sessions)", &figs[0].plan, &figs[1].plan, false);
    s_print ("BookSession", &figs[0].book, &figs[1].book, false);
    s_print ("GetAgenda (a day of c001)", &figs[0].agenda, &figs[1].agenda, false);
    s_print ("GetStatement (first page)", &figs[0].statement, &figs[1].statement, false);
    s_print ("Replay (100 of the last day)", &figs[0].replay, &figs[1].replay, false);
    printf ("%-30s | %9.0f %9.0f | %9.0f %9.0f | %6.2f  %s\n", "outbox relay (events/s)", figs[0].relay.p50,
            figs[0].relay.p99, figs[1].relay.p50, figs[1].relay.p99,
            figs[1].relay.p99 > 0 ? figs[0].relay.p99 / figs[1].relay.p99 : 0,
            figs[1].relay.p99 > 0 && figs[0].relay.p99 / figs[1].relay.p99 <= 1.5 ? "<=1.5 met" : ">1.5 not met");
    printf ("(%d requests per row, one at a time; relay: median and slowest of 3 bursts, ratio small/large;"
            " load average %.*s)\n", n, (int) strcspn (load, "\n"), load);
    return 0;
}
