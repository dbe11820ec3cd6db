/* bench_reports.c -- the reports on a generated chain (100 clinics, two
 * years: tests/bench/reports_data.sql), through the daemons beside the
 * same SQL run directly.
 *
 * Needs a PostgreSQL cluster: run it through tests/bench/run.sh reports,
 * which starts a throwaway cluster and sets MESO_TEST_PGHOST/PGPORT.
 * Measures and prints; never passes or fails on time.
 *
 * For each report, MESO_BENCH_N (default 200) requests, one after the
 * other, each for a clinic drawn at random, over the period a manager
 * asks for most (utilisation: 4 weeks; no-shows: a month; outcomes: a
 * quarter; valuation and revenue, by day and by month: a month;
 * liability: no period, the packages unused today), then again over the longest period a
 * report takes (two years); the same clinics and periods then run
 * directly: the very store function the daemon calls (compiled into this
 * program from services/<service>/store_reports.c, so the SQL is the same text,
 * prepared the same way; billing's through bench_billing_sql.c), on a connection of the service's own role, in
 * the same run on the same cluster. One table prints p50 and p99 of both
 * and the daemon's p99 over the direct one: what the bus, the decoding,
 * the validation and the reply add. The gauges' statements (every clinic's
 * today, refreshed by scheduling's and billing's timers) are timed
 * directly too.
 *
 * Why it is built this way: on a shared 2-core machine an absolute figure
 * says little; the direct run of the same statements beside it is the
 * reference that moves with the machine. */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_billing_sql.h"
#include "harness.h"
#include "inventory.h"
#include "meso/bus.h"
#include "meso/db.h"
#include "meso/mtime.h"
#include "store.h"
#include "billing.pb-c.h"
#include "inventory.pb-c.h"
#include "scheduling.pb-c.h"

static char s_admin[512];
static char s_dbname[] = "bench_reports";

typedef struct {
    const char *name;           /* "utilisation" */
    const char *method;         /* "scheduling.UtilisationReport" */
    int days;                   /* the period, ending yesterday (0: none, the liability) */
    const char *by;             /* revenue: "day" or "month" */
} s_report_t;

static int
s_cmp (const void *a, const void *b)
{
    int64_t x = *(const int64_t *) a, y = *(const int64_t *) b;
    return x < y ? -1 : x > y;
}

static double
s_pct (int64_t *us, int n, double p)
{
    qsort (us, (size_t) n, sizeof *us, s_cmp);
    int i = (int) (p * (n - 1) + 0.5);
    return (double) us[i] / 1000.0;
}

/* The request body of report r for clinic c over [from, to]. */
static size_t
s_pack (const s_report_t *r, const char *c, const char *from, const char *to, uint8_t *buf,
        ProtobufCMessage **msg)
{
    static Meso__V1__UtilisationReportRequest u;
    static Meso__V1__AttendanceReportRequest a;
    static Meso__V1__OutcomesReportRequest o;
    static Meso__V1__ValuationRequest v;
    static Meso__V1__RevenueReportRequest rv;
    static Meso__V1__LiabilityReportRequest li;
    static char *ids[1];
    ids[0] = (char *) c;
    if (strcmp (r->name, "revenue") == 0) {
        meso__v1__revenue_report_request__init (&rv);
        rv.clinic_ids = ids, rv.n_clinic_ids = 1, rv.from = (char *) from, rv.to = (char *) to;
        rv.by = (char *) r->by;
        *msg = &rv.base;
    }
    else if (strcmp (r->name, "liability") == 0) {
        meso__v1__liability_report_request__init (&li);
        li.clinic_ids = ids, li.n_clinic_ids = 1;
        *msg = &li.base;
    }
    else if (strcmp (r->name, "utilisation") == 0) {
        meso__v1__utilisation_report_request__init (&u);
        u.clinic_id = (char *) c, u.from = (char *) from, u.to = (char *) to;
        *msg = &u.base;
    }
    else if (strcmp (r->name, "no-shows") == 0) {
        meso__v1__attendance_report_request__init (&a);
        a.clinic_id = (char *) c, a.from = (char *) from, a.to = (char *) to;
        *msg = &a.base;
    }
    else if (strcmp (r->name, "outcomes") == 0) {
        meso__v1__outcomes_report_request__init (&o);
        o.clinic_id = (char *) c, o.from = (char *) from, o.to = (char *) to;
        *msg = &o.base;
    }
    else {
        meso__v1__valuation_request__init (&v);
        v.clinic_id = (char *) c, v.from = (char *) from, v.to = (char *) to;
        *msg = &v.base;
    }
    return buf ? protobuf_c_message_pack (*msg, buf) : 0;
}

/* The same statement, straight through the store function. */
static PGresult *
s_direct (const s_report_t *r, meso_db_t *sched, meso_db_t *inv, meso_db_t *bil, const char *c, const char *tz,
          const char *from, const char *to)
{
    if (strcmp (r->name, "revenue") == 0)
        return bench_billing_revenue (bil, c, tz, from, to, r->by);
    if (strcmp (r->name, "liability") == 0)
        return bench_billing_liability (bil, c);
    if (strcmp (r->name, "utilisation") == 0)
        return store_report_utilisation (sched, c, from, to, "");
    if (strcmp (r->name, "no-shows") == 0)
        return store_report_attendance (sched, c, from, to);
    if (strcmp (r->name, "outcomes") == 0)
        return store_report_outcomes (sched, c, from, to);
    return store_valuation (inv, c, tz, from, to, "");
}

/* The zones reports_data.sql gives clinic i: (1 + i % 4)th of its list. */
static const char *s_zones[] = { "Europe/Paris", "America/New_York", "Australia/Sydney", "Europe/London" };

static const char *
s_zone_of (int i)
{
    return s_zones[i % 4];
}

int
main (void)
{
    int n = getenv ("MESO_BENCH_N") ? atoi (getenv ("MESO_BENCH_N")) : 200;
    if (n < 10)
        n = 10;
    if (mt_db_create (s_dbname, s_admin, sizeof s_admin) != 0)
        return 1;
    int64_t t0 = meso_time_mono_ms ();
    if (mt_sh ("psql '%s' -q -v ON_ERROR_STOP=1 -f '%s/tests/bench/reports_data.sql' >/dev/null", s_admin,
               mt_source_dir ()) != 0) {
        fprintf (stderr, "bench_reports: loading the generated chain failed\n");
        return 1;
    }
    meso_db_t *admin = meso_db_new (s_admin);
    int64_t appts = 0, lots = 0, moves = 0, invoices = 0, packages = 0, ledger = 0;
    mt_sql_int (admin, "SELECT count(*) FROM scheduling.appointment", NULL, &appts);
    mt_sql_int (admin, "SELECT count(*) FROM inventory.lot", NULL, &lots);
    mt_sql_int (admin, "SELECT count(*) FROM inventory.movement", NULL, &moves);
    mt_sql_int (admin, "SELECT count(*) FROM billing.invoice", NULL, &invoices);
    mt_sql_int (admin, "SELECT count(*) FROM billing.package", NULL, &packages);
    mt_sql_int (admin, "SELECT count(*) FROM billing.ledger", NULL, &ledger);
    printf ("generated chain: 100 clinics, %" PRId64 " sessions, %" PRId64 " lots, %" PRId64
            " movements, %" PRId64 " invoices, %" PRId64 " packages, %" PRId64
            " ledger entries (%.1f s to load)\n", appts, lots, moves, invoices, packages, ledger,
            (double) (meso_time_mono_ms () - t0) / 1000.0);

    char sched_role[512], inv_role[512], bil_role[512], db1[600], db2[600], db3[600], b1[300], b2[300],
         b3[300], sch[300], ep1[256], ep2[256], ep3[256];
    mt_role_conninfo (s_dbname, "meso_scheduling", sched_role, sizeof sched_role);
    mt_role_conninfo (s_dbname, "meso_inventory", inv_role, sizeof inv_role);
    mt_ipc_endpoint ("bsch", ep1, sizeof ep1);
    mt_ipc_endpoint ("binv", ep2, sizeof ep2);
    mt_role_conninfo (s_dbname, "meso_billing", bil_role, sizeof bil_role);
    mt_ipc_endpoint ("bbil", ep3, sizeof ep3);
    snprintf (db3, sizeof db3, "--db=%s", bil_role);
    snprintf (b3, sizeof b3, "--bind=%s", ep3);
    snprintf (db1, sizeof db1, "--db=%s", sched_role);
    snprintf (db2, sizeof db2, "--db=%s", inv_role);
    snprintf (b1, sizeof b1, "--bind=%s", ep1);
    snprintf (b2, sizeof b2, "--bind=%s", ep2);
    snprintf (sch, sizeof sch, "--scheduling=%s", ep1);
    const char *a1[] = { "meso-scheduling", db1, b1, "--gauges-ms=0", NULL };
    const char *a2[] = { "meso-inventory", db2, b2, sch, "--events=", NULL };
    pid_t p1 = mt_spawn ("bin/meso-scheduling", a1, NULL);
    pid_t p2 = mt_spawn ("bin/meso-inventory", a2, NULL);
    const char *a3[] = { "meso-billing", db3, b3, sch, "--events=", "--gauges-ms=0", NULL };
    pid_t p3 = mt_spawn ("bin/meso-billing", a3, NULL);
    if (p1 < 0 || p2 < 0 || p3 < 0 || mt_wait_healthy (ep1, 10000) != 0 || mt_wait_healthy (ep2, 10000) != 0
        || mt_wait_healthy (ep3, 10000) != 0) {
        fprintf (stderr, "bench_reports: the daemons did not start\n");
        return 1;
    }
    meso_bus_client_t *cs = mt_client (ep1);
    meso_bus_client_t *ci = mt_client (ep2);
    meso_bus_client_t *cb = mt_client (ep3);
    meso_db_t *dsched = meso_db_new (sched_role), *dinv = meso_db_new (inv_role), *dbil = meso_db_new (bil_role);

    const s_report_t reports[] = {
        { "utilisation", "scheduling.UtilisationReport", 28, NULL },
        { "no-shows", "scheduling.AttendanceReport", 31, NULL },
        { "outcomes", "scheduling.OutcomesReport", 91, NULL },
        { "valuation", "inventory.Valuation", 31, NULL },
        { "revenue", "billing.RevenueReport", 31, "day" },
        { "revenue", "billing.RevenueReport", 31, "month" },
        { "liability", "billing.LiabilityReport", 0, NULL },
        { "utilisation", "scheduling.UtilisationReport", 731, NULL },
        { "no-shows", "scheduling.AttendanceReport", 731, NULL },
        { "outcomes", "scheduling.OutcomesReport", 731, NULL },
        { "valuation", "inventory.Valuation", 731, NULL },
        { "revenue", "billing.RevenueReport", 731, "day" },
        { "revenue", "billing.RevenueReport", 731, "month" },
    };
    int64_t *bus = calloc ((size_t) n, sizeof *bus), *dir = calloc ((size_t) n, sizeof *dir);
    int *clinic = calloc ((size_t) n, sizeof *clinic);
    srand (42);
    int32_t today = (int32_t) (meso_time_now_us () / INT64_C (86400000000));
    printf ("\n%-16s %6s %6s | %-26s | %-26s | %s\n", "report", "days", "rows", "through the daemon",
            "same SQL directly", "daemon p99 / direct p99");
    printf ("%-16s %6s %6s | %12s %12s | %12s %12s |\n", "", "", "", "p50 ms", "p99 ms", "p50 ms", "p99 ms");
    for (size_t k = 0; k < sizeof reports / sizeof reports[0]; k++) {
        const s_report_t *r = &reports[k];
        /* A period ending yesterday (the valuation takes no future day;
         * a clinic east of UTC is already on today). */
        char from[16], to[16];
        meso_date_format (today - 1, to, sizeof to);
        meso_date_format (today - 1 - (r->days > 0 ? r->days - 1 : 0), from, sizeof from);
        for (int i = 0; i < n; i++)
            clinic[i] = 1 + rand () % 100;
        meso_bus_client_t *c = strncmp (r->method, "inventory.", 10) == 0 ? ci
                               : strncmp (r->method, "billing.", 8) == 0 ? cb : cs;
        int64_t rows = 0;
        int failed = 0;
        for (int i = -5; i < n; i++) {         /* 5 to warm up */
            char id[8];
            snprintf (id, sizeof id, "c%03d", clinic[i < 0 ? 0 : i]);
            ProtobufCMessage *msg;
            s_pack (r, id, from, to, NULL, &msg);
            meso_result_t res = { 0 };
            int64_t s = meso_time_mono_us ();
            meso_bus_client_call (c, r->method, msg, NULL, 30000, &res);
            int64_t us = meso_time_mono_us () - s;
            if (res.status != MESO_OK) {
                if (!failed++)
                    fprintf (stderr, "bench_reports: %s: %s\n", r->method,
                             res.reply && res.reply->message ? res.reply->message : "no reply");
            }
            meso_result_reset (&res);
            if (i >= 0)
                bus[i] = us;
        }
        for (int i = -5; i < n; i++) {
            int ci_ = clinic[i < 0 ? 0 : i];
            char id[8];
            snprintf (id, sizeof id, "c%03d", ci_);
            int64_t s = meso_time_mono_us ();
            PGresult *res = s_direct (r, dsched, dinv, dbil, id, s_zones[ci_ % 4], from, to);
            int64_t us = meso_time_mono_us () - s;
            if (!res) {
                fprintf (stderr, "bench_reports: %s directly: %s\n", r->name, meso_db_error (dsched)->message);
                return 1;
            }
            if (i >= 0) {
                dir[i] = us;
                rows += PQntuples (res);
            }
            PQclear (res);
        }
        double b50 = s_pct (bus, n, 0.5), b99 = s_pct (bus, n, 0.99);
        double d50 = s_pct (dir, n, 0.5), d99 = s_pct (dir, n, 0.99);
        char name[32];
        snprintf (name, sizeof name, "%s%s%s", r->name, r->by ? " by " : "", r->by ? r->by : "");
        printf ("%-16s %6d %6" PRId64 " | %12.2f %12.2f | %12.2f %12.2f | %.2f%s\n", name, r->days,
                rows / n, b50, b99, d50, d99, d99 > 0 ? b99 / d99 : 0.0, failed ? "  (some refused!)" : "");
    }
    /* The gauges' statement, all clinics at once. */
    for (int i = -5; i < n; i++) {
        int64_t s = meso_time_mono_us ();
        PGresult *res = store_report_today (dsched, 500);
        int64_t us = meso_time_mono_us () - s;
        PQclear (res);
        if (i >= 0)
            dir[i] = us;
    }
    printf ("\ngauges refresh (today at every clinic, one statement): p50 %.2f ms, p99 %.2f ms directly\n",
            s_pct (dir, n, 0.5), s_pct (dir, n, 0.99));
    /* Billing's: the clinic list, then revenue today at every clinic. */
    for (int i = -5; i < n; i++) {
        int64_t s = meso_time_mono_us ();
        PGresult *res = bench_billing_today (dbil, s_zone_of);
        int64_t us = meso_time_mono_us () - s;
        if (!res) {
            fprintf (stderr, "bench_reports: revenue today: %s\n", meso_db_error (dbil)->message);
            return 1;
        }
        PQclear (res);
        if (i >= 0)
            dir[i] = us;
    }
    printf ("billing gauge refresh (clinic list + revenue today at every clinic): p50 %.2f ms, p99 %.2f ms "
            "directly\n", s_pct (dir, n, 0.5), s_pct (dir, n, 0.99));
    printf ("(%d requests per row, one at a time, random clinics; rows = average rows per answer)\n", n);
    meso_bus_client_destroy (&cs);
    meso_bus_client_destroy (&ci);
    meso_bus_client_destroy (&cb);
    meso_db_destroy (&dbil);
    meso_db_destroy (&dsched);
    meso_db_destroy (&dinv);
    meso_db_destroy (&admin);
    mt_stop (p1, SIGTERM);
    mt_stop (p2, SIGTERM);
    mt_stop (p3, SIGTERM);
    free (bus);
    free (dir);
    free (clinic);
    return 0;
}
