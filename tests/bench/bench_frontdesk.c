/* bench_frontdesk.c -- the front desk's reads on a generated chain (100
 * clinics, 20 practitioners and 8 rooms each, two years of sessions and
 * their patients: tests/bench/frontdesk_data.sql), through the daemons
 * beside the same SQL run directly.
 *
 * Needs a PostgreSQL cluster: run it through tests/bench/run.sh frontdesk,
 * which starts a throwaway cluster and sets MESO_TEST_PGHOST/PGPORT.
 * Measures and prints; never passes or fails on time.
 *
 * The agenda: MESO_BENCH_N (default 200) requests, one after the other,
 * each the whole day (one page) of a busy clinic (c001..c005, about 86
 * sessions a day) on a working day drawn at random over the two years,
 * through scheduling (which asks screening for the page's patients and
 * inventory for the sessions at risk, one call each); then the same days
 * directly: the very store functions the three daemons call (compiled in:
 * scheduling's store_agenda, screening's store_patients_get_many and
 * store_patients_state, inventory's store_at_risk), on each service's own
 * role, then the audit rows screening and scheduling append for the
 * page's patients (audit.append_rows, as common/src/audit.c sends it).
 * The patient search: as many searches in the busy clinics, by the
 * start of a given and a family name ("luc gar"), by phone and by birth
 * date, through screening, then the same (hashing, store_search_find,
 * the read of the patients found and their audit rows) directly. One
 * table prints p50 and p99 of both and the ratio of the p99s, and under
 * each row the direct figures without the audit rows; the targets are a ratio within 1.5
 * and a p99 under 20 ms. */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_frontdesk_sql.h"
#include "harness.h"
#include "inventory.h"
#include "search_norm.h"
#include "meso/bus.h"
#include "meso/db.h"
#include "meso/mtime.h"
#include "meso/vault.h"
#include "store.h"
#include "scheduling.pb-c.h"
#include "screening.pb-c.h"

/* store_holds.c (compiled in for store_at_risk) uses this one helper of
 * inventory's store.c, which is not compiled in. */
void
store_i64text (char *buf, size_t size, int64_t v)
{
    snprintf (buf, size, "%" PRId64, v);
}

static char s_admin[512];
/* The zones frontdesk_data.sql gives clinic i: its list's (i % 4)th, from 0. */
static const char *s_zones[] = { "Europe/Madrid", "America/New_York", "Australia/Sydney", "Europe/London" };
static char s_dbname[] = "bench_frontdesk";

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

static void
s_row (const char *name, double rows, int64_t *bus, int64_t *dir, int n)
{
    double b50 = s_pct (bus, n, 0.5), b99 = s_pct (bus, n, 0.99);
    double d50 = s_pct (dir, n, 0.5), d99 = s_pct (dir, n, 0.99);
    double ratio = d99 > 0 ? b99 / d99 : 0.0;
    printf ("%-24s %7.1f | %10.2f %10.2f | %10.2f %10.2f | %5.2f %-9s %s\n", name, rows, b50, b99, d50, d99,
            ratio, ratio <= 1.5 ? "<=1.5 ok" : ">1.5", b99 < 20.0 ? "p99<20 ok" : "p99>=20");
}

/* Below a row: the direct figures without the audit rows (the reads
 * alone), so what the trail costs is visible. */
static void
s_reads_only (int64_t *reads, int n)
{
    printf ("%-24s %7s | %10s %10s | %10.2f %10.2f |   (the same reads without the audit rows)\n", "", "", "",
            "", s_pct (reads, n, 0.5), s_pct (reads, n, 0.99));
}

/* The ids of a GetAgendaReply's patients as "{a,b}" (distinct), the count. */
static size_t
s_ids (PGresult *res, char *lit, size_t size)
{
    size_t used = 0, n = 0;
    lit[used++] = '{';
    for (int i = 0; i < PQntuples (res); i++) {
        const char *id = PQgetvalue (res, i, AG_PATIENT);
        if (strstr (lit, id))
            continue;
        used += (size_t) snprintf (lit + used, size - used, "%s%s", n ? "," : "", id);
        n++;
    }
    snprintf (lit + used, size - used, "}");
    return n;
}

/* A working day (Monday to Saturday) of the generated two years. */
static int32_t
s_day (int32_t today)
{
    for (;;) {
        int32_t d = today - 590 + rand () % 700;
        if (meso_date_weekday (d) != 6)
            return d;
    }
}

int
main (void)
{
    int n = getenv ("MESO_BENCH_N") ? atoi (getenv ("MESO_BENCH_N")) : 200;
    if (n < 10)
        n = 10;
    /* MESO_BENCH_KEEP=1: time again on the chain a previous run loaded
     * (same cluster, same keys folder), without generating it. */
    bool keep = getenv ("MESO_BENCH_KEEP") && strcmp (getenv ("MESO_BENCH_KEEP"), "1") == 0;
    if (!mt_keys ())
        return 1;
    if (keep)
        mt_admin_conninfo (s_dbname, s_admin, sizeof s_admin);
    else if (mt_db_create (s_dbname, s_admin, sizeof s_admin) != 0)
        return 1;
    int64_t t0 = meso_time_mono_ms ();
    /* MESO_BENCH_WEEKS: weeks of sessions generated (104: two years; a
     * few check the script quickly). */
    int weeks = getenv ("MESO_BENCH_WEEKS") ? atoi (getenv ("MESO_BENCH_WEEKS")) : 104;
    if (weeks < 1 || weeks > 104)
        weeks = 104;
    if (!keep && mt_sh ("psql '%s' -q -v ON_ERROR_STOP=1 -v weeks=%d -f '%s/tests/bench/frontdesk_data.sql'"
                        " >/dev/null", s_admin, weeks, mt_source_dir ()) != 0) {
        fprintf (stderr, "bench_frontdesk: loading the generated chain failed\n");
        return 1;
    }
    /* The vault's master key, as the daemons load it: the direct reads
     * open the patients' sealed fields too, as screening does. */
    char verr[256];
    if (meso_vault_master_load (mt_keys (), verr, sizeof verr) != 0) {
        fprintf (stderr, "bench_frontdesk: %s\n", verr);
        return 1;
    }
    /* The search key the daemon reads (the harness's keys folder). */
    char path[600], hex[100] = "";
    snprintf (path, sizeof path, "%s/search.key", mt_keys ());
    FILE *kf = fopen (path, "r");
    if (!kf || !fgets (hex, sizeof hex, kf)) {
        fprintf (stderr, "bench_frontdesk: no search key in %s\n", path);
        return 1;
    }
    fclose (kf);
    uint8_t key[32];
    if (search_key_parse (hex, key) != 0)
        return 1;
    meso_db_t *admin = meso_db_new (s_admin);
    int64_t indexed = 0;
    if (keep)
        mt_sql_int (admin, "SELECT count(*) FROM screening.patient_search", NULL, &indexed);
    else {
        indexed = bench_fd_index (admin, key);
        if (indexed < 0)
            return 1;
        mt_sh ("psql '%s' -q -c 'ANALYZE screening.patient_search' >/dev/null", s_admin);
    }
    int64_t appts = 0, patients = 0;
    mt_sql_int (admin, "SELECT count(*) FROM scheduling.appointment", NULL, &appts);
    mt_sql_int (admin, "SELECT count(*) FROM screening.patients", NULL, &patients);
    printf ("generated chain: 100 clinics, 2000 practitioners, 800 rooms, %" PRId64 " sessions, %" PRId64
            " patients, %" PRId64 " search index rows (%.1f s to load and index%s)\n", appts, patients, indexed,
            (double) (meso_time_mono_ms () - t0) / 1000.0, keep ? ", kept from a previous run" : "");

    char r_sch[512], r_scr[512], r_inv[512], db1[600], db2[600], db3[600], b1[300], b2[300], b3[300];
    char a_sch[300], a_scr[300], a_inv[300], ep1[256], ep2[256], ep3[256];
    mt_role_conninfo (s_dbname, "meso_scheduling", r_sch, sizeof r_sch);
    mt_role_conninfo (s_dbname, "meso_screening", r_scr, sizeof r_scr);
    mt_role_conninfo (s_dbname, "meso_inventory", r_inv, sizeof r_inv);
    mt_ipc_endpoint ("fsch", ep1, sizeof ep1);
    mt_ipc_endpoint ("fscr", ep2, sizeof ep2);
    mt_ipc_endpoint ("finv", ep3, sizeof ep3);
    snprintf (db1, sizeof db1, "--db=%s", r_sch);
    snprintf (db2, sizeof db2, "--db=%s", r_scr);
    snprintf (db3, sizeof db3, "--db=%s", r_inv);
    snprintf (b1, sizeof b1, "--bind=%s", ep1);
    snprintf (b2, sizeof b2, "--bind=%s", ep2);
    snprintf (b3, sizeof b3, "--bind=%s", ep3);
    snprintf (a_sch, sizeof a_sch, "--scheduling=%s", ep1);
    snprintf (a_scr, sizeof a_scr, "--screening=%s", ep2);
    snprintf (a_inv, sizeof a_inv, "--inventory=%s", ep3);
    const char *x1[] = { "meso-scheduling", db1, b1, a_scr, a_inv, "--gauges-ms=0", "--events=", NULL };
    const char *x2[] = { "meso-screening", db2, b2, a_sch, a_inv, NULL };
    const char *x3[] = { "meso-inventory", db3, b3, a_sch, "--events=", NULL };
    pid_t p3 = mt_spawn ("bin/meso-inventory", x3, NULL);
    pid_t p2 = mt_spawn ("bin/meso-screening", x2, NULL);
    pid_t p1 = mt_spawn ("bin/meso-scheduling", x1, NULL);
    /* A first start on the generated chain is long: screening and
     * scheduling seal the names and notes the generator wrote in clear
     * (vault.h) before they serve. */
    if (p1 < 0 || p2 < 0 || p3 < 0 || mt_wait_healthy (ep2, 900000) != 0 || mt_wait_healthy (ep1, 900000) != 0
        || mt_wait_healthy (ep3, 60000) != 0) {
        fprintf (stderr, "bench_frontdesk: the daemons did not start\n");
        return 1;
    }
    meso_bus_client_t *csch = mt_client (ep1), *cscr = mt_client (ep2);
    meso_db_t *dsch = meso_db_new (r_sch), *dscr = meso_db_new (r_scr), *dinv = meso_db_new (r_inv);
    int64_t *bus = calloc ((size_t) n, sizeof *bus), *dir = calloc ((size_t) n, sizeof *dir);
    int64_t *reads = calloc ((size_t) n, sizeof *reads);
    int32_t *days = calloc ((size_t) n, sizeof *days);
    int *clinic = calloc ((size_t) n, sizeof *clinic);
    srand (16);
    int32_t today = (int32_t) (meso_time_now_us () / INT64_C (86400000000));
    for (int i = 0; i < n; i++) {
        days[i] = s_day (today);
        clinic[i] = 1 + rand () % 5;
    }
    printf ("\n%-24s %7s | %-21s | %-21s | %s\n", "query", "rows", "through the daemons", "same SQL directly",
            "daemon p99 / direct p99, targets");
    printf ("%-24s %7s | %10s %10s | %10s %10s |\n", "", "", "p50 ms", "p99 ms", "p50 ms", "p99 ms");

    /* ---- the agenda of a busy clinic's day ---- */
    int64_t rows = 0;
    int failed = 0, warned = 0;
    for (int i = -5; i < n; i++) {         /* 5 to warm up: one per busy clinic */
        int k = i < 0 ? 0 : i;
        char id[8], date[16];
        snprintf (id, sizeof id, "c%03d", i < 0 ? 6 + i : clinic[k]);
        meso_date_format (days[k], date, sizeof date);
        Meso__V1__GetAgendaRequest rq = MESO__V1__GET_AGENDA_REQUEST__INIT;
        rq.clinic_id = id;
        rq.date = date;
        rq.page_size = 500;
        meso_result_t res = { 0 };
        int64_t s = meso_time_mono_us ();
        meso_bus_client_call (csch, "scheduling.GetAgenda", &rq.base, NULL, 30000, &res);
        int64_t us = meso_time_mono_us () - s;
        if (res.status != MESO_OK) {
            if (!failed++)
                fprintf (stderr, "bench_frontdesk: GetAgenda: %s\n",
                         res.reply && res.reply->message ? res.reply->message : "no reply");
        }
        else if (i >= 0) {
            size_t len;
            const uint8_t *b = meso_result_body (&res, &len);
            Meso__V1__GetAgendaReply *a = meso__v1__get_agenda_reply__unpack (NULL, len, b);
            rows += a ? (int64_t) a->n_entries : 0;
            if (a && (a->n_warnings || (a->n_entries && !*a->entries[0]->patient_family_name)) && !warned++)
                fprintf (stderr, "bench_frontdesk: agenda incomplete: %s\n",
                         a->n_warnings ? a->warnings[0] : "no patient name");
            if (a)
                meso__v1__get_agenda_reply__free_unpacked (a, NULL);
        }
        meso_result_reset (&res);
        if (i >= 0)
            bus[i] = us;
    }
    char *lit = malloc (64 * 1024);
    for (int i = -5; i < n; i++) {
        int k = i < 0 ? 0 : i;
        char id[8], date[16];
        snprintf (id, sizeof id, "c%03d", clinic[k]);
        meso_date_format (days[k], date, sizeof date);
        int64_t s = meso_time_mono_us ();
        store_agenda_query_t q = { id, date, date, NULL, NULL, false, NULL, NULL, 501, s_zones[clinic[k] % 4] };
        PGresult *res = store_agenda (dsch, &q);
        if (!res) {
            fprintf (stderr, "bench_frontdesk: agenda directly: %s\n", meso_db_error (dsch)->message);
            return 1;
        }
        size_t np = s_ids (res, lit, 64 * 1024);
        if (np && bench_fd_patients (dscr, lit, np, id, date) < 0) {
            fprintf (stderr, "bench_frontdesk: patients directly: %s\n", meso_db_error (dscr)->message);
            return 1;
        }
        PGresult *risk = store_at_risk (dinv, id, date, NULL, 1001);
        int64_t reads_us = meso_time_mono_us () - s;
        /* The audit rows the daemons append for the page: screening's for
         * GetPatients, scheduling's for GetAgenda (inventory's ListAtRisk
         * names no patient here: the generated chain has no recall). */
        if (np && (bench_fd_audit (dscr, id, lit, "screening.GetPatients") != 0
                   || bench_fd_audit (dsch, id, lit, "scheduling.GetAgenda") != 0)) {
            fprintf (stderr, "bench_frontdesk: audit rows directly: %s\n", meso_db_error (dsch)->message);
            return 1;
        }
        int64_t us = meso_time_mono_us () - s;
        PQclear (risk);
        PQclear (res);
        if (i >= 0) {
            dir[i] = us;
            reads[i] = reads_us;
        }
    }
    s_row ("agenda, busy clinic day", (double) rows / n, bus, dir, n);
    s_reads_only (reads, n);
    if (failed)
        printf ("  (%d agenda requests refused)\n", failed);

    /* ---- the patient search ---- */
    const char *kinds[] = { "name", "phone", "birth date" };
    for (int kind = 0; kind < 3; kind++) {
        /* n patients of the busy clinics, drawn at random, and what the
         * front desk would type to find each. */
        char nbuf[16];
        snprintf (nbuf, sizeof nbuf, "%d", n);
        const char *pp[] = { kinds[kind], nbuf };
        PGresult *pick = meso_db_query (admin,
            "SELECT home_clinic_id, left (given_name, 3) || ' ' || left (family_name, 3), phone, birth_date::text"
            " FROM public.bench_patient_card WHERE home_clinic_id <= 'c005' ORDER BY md5 (id::text || $1) LIMIT $2::int",
            2, pp);
        if (!pick || PQntuples (pick) < n) {
            fprintf (stderr, "bench_frontdesk: cannot pick patients\n");
            return 1;
        }
        rows = 0;
        failed = 0;
        for (int i = -5; i < n; i++) {
            int k = i < 0 ? 0 : i;
            Meso__V1__SearchPatientsRequest rq = MESO__V1__SEARCH_PATIENTS_REQUEST__INIT;
            rq.clinic_id = PQgetvalue (pick, k, 0);
            if (kind == 0)
                rq.name = PQgetvalue (pick, k, 1);
            else if (kind == 1)
                rq.phone = PQgetvalue (pick, k, 2);
            else
                rq.birth_date = PQgetvalue (pick, k, 3);
            meso_result_t res = { 0 };
            int64_t s = meso_time_mono_us ();
            meso_bus_client_call (cscr, "screening.SearchPatients", &rq.base, NULL, 30000, &res);
            int64_t us = meso_time_mono_us () - s;
            if (res.status != MESO_OK && !failed++)
                fprintf (stderr, "bench_frontdesk: SearchPatients: %s\n",
                         res.reply && res.reply->message ? res.reply->message : "no reply");
            if (res.status == MESO_OK && i >= 0) {
                size_t len;
                const uint8_t *b = meso_result_body (&res, &len);
                Meso__V1__SearchPatientsReply *sp = meso__v1__search_patients_reply__unpack (NULL, len, b);
                rows += sp ? (int64_t) sp->n_patients : 0;
                if (sp)
                    meso__v1__search_patients_reply__free_unpacked (sp, NULL);
            }
            meso_result_reset (&res);
            if (i >= 0)
                bus[i] = us;
        }
        for (int i = -5; i < n; i++) {
            int k = i < 0 ? 0 : i;
            int64_t s = meso_time_mono_us (), audit_us = 0;
            int got = bench_fd_search_audited (dscr, key, PQgetvalue (pick, k, 0),
                                               kind == 0 ? PQgetvalue (pick, k, 1) : NULL,
                                               kind == 2 ? PQgetvalue (pick, k, 3) : NULL,
                                               kind == 1 ? PQgetvalue (pick, k, 2) : NULL, NULL, &audit_us);
            int64_t us = meso_time_mono_us () - s;
            if (got < 0) {
                fprintf (stderr, "bench_frontdesk: search directly: %s\n", meso_db_error (dscr)->message);
                return 1;
            }
            if (i >= 0) {
                dir[i] = us;
                reads[i] = us - audit_us;
            }
        }
        char name[40];
        snprintf (name, sizeof name, "search by %s", kinds[kind]);
        s_row (name, (double) rows / n, bus, dir, n);
        s_reads_only (reads, n);
        if (failed)
            printf ("  (%d searches refused)\n", failed);
        PQclear (pick);
    }
    printf ("(%d requests per row, one at a time; rows = average rows per answer; busy clinics c001..c005)\n", n);
    free (lit);
    meso_bus_client_destroy (&csch);
    meso_bus_client_destroy (&cscr);
    meso_db_destroy (&dsch);
    meso_db_destroy (&dscr);
    meso_db_destroy (&dinv);
    meso_db_destroy (&admin);
    mt_stop (p1, SIGTERM);
    mt_stop (p2, SIGTERM);
    mt_stop (p3, SIGTERM);
    free (bus);
    free (dir);
    free (reads);
    free (days);
    free (clinic);
    return 0;
}
