/* bench_scale_run.c -- what bench_scale times on one database: the five
 * daemons started on it, the requests one at a time, the outbox relay
 * under a burst (bench_scale.c says which requests and why). */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_scale_run.h"
#include "fixture_bench.h"
#include "harness.h"
#include "meso/bus.h"
#include "meso/db.h"
#include "meso/mtime.h"
#include "meso/outbox.h"
#include "meso/status.h"
#include "billing.pb-c.h"
#include "events.pb-c.h"
#include "inventory.pb-c.h"
#include "scheduling.pb-c.h"

#define NPATIENTS 48            /* 6 hours x 8 rooms of one day, a week apart */
#define WARMUP 5
#define BURST 20000
#define BURSTS 3

static int s_key;

static int
s_cmp (const void *a, const void *b)
{
    int64_t x = *(const int64_t *) a, y = *(const int64_t *) b;
    return x < y ? -1 : x > y;
}

static void
s_fig (int64_t *us, int n, int failed, scale_fig_t *out)
{
    out->failed = failed;
    if (n <= 0)
        return;
    qsort (us, (size_t) n, sizeof *us, s_cmp);
    out->p50 = (double) us[(int) (0.5 * (n - 1) + 0.5)] / 1000.0;
    out->p99 = (double) us[(int) (0.99 * (n - 1) + 0.5)] / 1000.0;
}

/* A setup call with a fresh key (the same key again when it is retried:
 * a daemon that has just started on a large database may answer
 * UNAVAILABLE while its caches are cold); the status. */
static int
s_call (meso_bus_client_t *c, const char *method, const ProtobufCMessage *body, meso_result_t *r)
{
    char key[64];
    snprintf (key, sizeof key, "scale-setup-%d-%d", (int) getpid (), ++s_key);
    for (int attempt = 0; attempt < 5; attempt++) {
        meso_result_reset (r);
        meso_bus_client_call (c, method, body, key, 20000, r);
        if (r->status != MESO_UNAVAILABLE && r->status != MESO_DEADLINE_EXCEEDED)
            break;
        mt_sleep_ms (1000);
    }
    if (r->status != MESO_OK)
        fprintf (stderr, "bench_scale: %s: %s: %s\n", method, meso_status_name (r->status), r->message);
    return r->status;
}

/* A timed call: microseconds, status in r. */
static int64_t
s_timed (meso_bus_client_t *c, const char *method, const ProtobufCMessage *body, const char *key,
         meso_result_t *r)
{
    meso_result_reset (r);
    int64_t t0 = meso_time_mono_us ();
    meso_bus_client_call (c, method, body, key, 30000, r);
    return meso_time_mono_us () - t0;
}

static int32_t
s_today (void)
{
    return (int32_t) (meso_time_now_us () / INT64_C (86400000000));
}


/* A patient of c001 registered, screened and consented (the generated
 * consent text, version 1); id (>= 40 bytes). */
static int
s_patient (meso_bus_client_t *scr, int i, char *id)
{
    char family[32];
    snprintf (family, sizeof family, "Scale %d", i);
    return mt_patient_eligible (s_call, scr, "c001", "Bench", family, 2, "Bench", id, 40);
}

typedef struct {
    meso_bus_client_t *sch, *scr, *inv, *bil, *ev;
    meso_db_t *admin;
    const char *dbname;
    char patients[NPATIENTS][40];
    int n;
    int64_t *us;
} run_t;

static void
s_plan (run_t *x, scale_fig_t *out)
{
    char first[16];
    meso_date_format (s_today () + 1, first, sizeof first);
    char *areas[] = { "thighs" };
    Meso__V1__CourseSpec sp = MESO__V1__COURSE_SPEC__INIT;
    sp.clinic_id = "c001";
    sp.patient_id = x->patients[0];
    sp.grade = 2;
    sp.areas = areas;
    sp.n_areas = 1;
    sp.first_date = first;
    sp.preferred_time = "10:00";
    sp.sessions = 10;
    sp.recipe_id = "bench";
    Meso__V1__PlanCourseRequest pq = MESO__V1__PLAN_COURSE_REQUEST__INIT;
    pq.spec = &sp;
    meso_result_t r = { 0 };
    int n = 0, failed = 0;
    for (int i = -WARMUP; i < x->n; i++) {
        int64_t us = s_timed (x->sch, "scheduling.PlanCourse", &pq.base, NULL, &r);
        if (r.status != MESO_OK) {
            if (!failed++)
                fprintf (stderr, "bench_scale: PlanCourse: %s\n", r.message);
        }
        else if (i >= 0)
            x->us[n++] = us;
    }
    meso_result_reset (&r);
    s_fig (x->us, n, failed, out);
}

static void
s_book (run_t *x, scale_fig_t *out)
{
    char *areas[] = { "thighs" };
    meso_result_t r = { 0 };
    int n = 0, failed = 0;
    /* A run on a kept database first cancels, through scheduling, what
     * earlier runs booked (c001's sessions past the generated 130 days),
     * untimed: their slots are free again and their patients' spacing
     * does not count, so every run books the same days, within the
     * screenings' validity. (Booking after the earlier runs instead, the
     * sixth run's days were past the validity: 157 of 205 refused.) */
    PGresult *old = meso_db_query (x->admin, "SELECT appointment_id FROM scheduling.appointment"
                                   " WHERE clinic_id = 'c001' AND lower (during) > now () + interval '131 days'"
                                   " AND status IN ('pending', 'booked', 'on_hold')", 0, NULL);
    for (int i = 0; old && i < PQntuples (old); i++) {
        Meso__V1__CancelRequest cq = MESO__V1__CANCEL_REQUEST__INIT;
        cq.appointment_id = PQgetvalue (old, i, 0);
        cq.by = MESO__V1__CANCELLED_BY__CANCELLED_BY_CLINIC;
        cq.reason = "bench_scale: a new run";
        s_timed (x->sch, "scheduling.Cancel", &cq.base, cq.appointment_id, &r);
        if (r.status != MESO_OK && !failed++)
            fprintf (stderr, "bench_scale: cancelling an earlier run's session: %s\n", r.message);
        meso_result_reset (&r);
    }
    if (old && PQntuples (old))
        printf ("  %s: %d sessions of earlier runs cancelled\n", x->dbname, PQntuples (old));
    PQclear (old);
    failed = 0;
    int64_t offset = 132;
    int32_t base = s_today () + (int32_t) offset;
    if (meso_date_weekday (base) == 6)
        base++;
    for (int k = 0; k < x->n + WARMUP; k++) {
        int j = k % NPATIENTS, room = j % 8 + 1, hour = 8 + j / 8;
        char day[16], start[32], pract[32], rid[8], key[64];
        meso_date_format (base + 7 * (k / NPATIENTS), day, sizeof day);
        snprintf (start, sizeof start, "%sT%02d:00", day, hour);
        snprintf (pract, sizeof pract, "c001-p%d", ((room - 1) + 8 * (hour % 2)) % 20 + 1);
        snprintf (rid, sizeof rid, "r%d", room);
        snprintf (key, sizeof key, "scale-book-%d-%d", (int) getpid (), k);
        Meso__V1__BookSessionRequest rq = MESO__V1__BOOK_SESSION_REQUEST__INIT;
        rq.clinic_id = "c001";
        rq.patient_id = x->patients[j];
        rq.practitioner_id = pract;
        rq.room_id = rid;
        rq.local_start = start;
        rq.areas = areas;
        rq.n_areas = 1;
        rq.recipe_id = "bench";
        int64_t us = s_timed (x->sch, "scheduling.BookSession", &rq.base, key, &r);
        if (r.status != MESO_OK) {
            if (!failed++)
                fprintf (stderr, "bench_scale: BookSession %s: %s\n", start, r.message);
        }
        else if (k >= WARMUP)
            x->us[n++] = us;
    }
    meso_result_reset (&r);
    s_fig (x->us, n, failed, out);
}

static void
s_agenda (run_t *x, scale_fig_t *out)
{
    meso_result_t r = { 0 };
    int n = 0, failed = 0;
    long rows = 0;
    srand (20);
    for (int i = -WARMUP; i < x->n; i++) {
        int32_t d;
        do
            d = s_today () - 10 + rand () % 131;
        while (meso_date_weekday (d) == 6);
        char date[16];
        meso_date_format (d, date, sizeof date);
        Meso__V1__GetAgendaRequest rq = MESO__V1__GET_AGENDA_REQUEST__INIT;
        rq.clinic_id = "c001";
        rq.date = date;
        rq.page_size = 500;
        int64_t us = s_timed (x->sch, "scheduling.GetAgenda", &rq.base, NULL, &r);
        if (r.status != MESO_OK) {
            if (!failed++)
                fprintf (stderr, "bench_scale: GetAgenda: %s\n", r.message);
            continue;
        }
        if (i < 0)
            continue;
        size_t len;
        const uint8_t *b = meso_result_body (&r, &len);
        Meso__V1__GetAgendaReply *a = meso__v1__get_agenda_reply__unpack (NULL, len, b);
        rows += a ? (long) a->n_entries : 0;
        if (a)
            meso__v1__get_agenda_reply__free_unpacked (a, NULL);
        x->us[n++] = us;
    }
    meso_result_reset (&r);
    printf ("  agenda: %.1f sessions a day on average\n", n ? (double) rows / n : 0.0);
    s_fig (x->us, n, failed, out);
}

static void
s_statement (run_t *x, scale_fig_t *out)
{
    PGresult *pick = meso_db_query (x->admin,
        "SELECT DISTINCT patient_id FROM billing.invoice WHERE clinic_id = 'c001' ORDER BY 1 LIMIT 96", 0, NULL);
    int np = pick ? PQntuples (pick) : 0;
    if (np == 0) {
        fprintf (stderr, "bench_scale: no invoiced patient in c001\n");
        out->failed = x->n;
        PQclear (pick);
        return;
    }
    meso_result_t r = { 0 };
    int n = 0, failed = 0;
    for (int i = -WARMUP; i < x->n; i++) {
        Meso__V1__GetStatementRequest rq = MESO__V1__GET_STATEMENT_REQUEST__INIT;
        rq.clinic_id = "c001";
        rq.patient_id = PQgetvalue (pick, (i + WARMUP) % np, 0);
        rq.page_size = 20;
        int64_t us = s_timed (x->bil, "billing.GetStatement", &rq.base, NULL, &r);
        if (r.status != MESO_OK) {
            if (!failed++)
                fprintf (stderr, "bench_scale: GetStatement: %s\n", r.message);
        }
        else if (i >= 0)
            x->us[n++] = us;
    }
    meso_result_reset (&r);
    PQclear (pick);
    s_fig (x->us, n, failed, out);
}

static void
s_replay (run_t *x, scale_fig_t *out)
{
    int64_t first = 0, head = 0;
    mt_sql_int (x->admin, "SELECT coalesce (min (stream_seq), 1) FROM events.log WHERE stream = 'session'"
                " AND recorded_at >= now () - interval '1 day'", NULL, &first);
    mt_sql_int (x->admin, "SELECT seq FROM events.stream_head WHERE stream = 'session'", NULL, &head);
    int64_t span = head - first - 100 > 1 ? head - first - 100 : 1;
    meso_result_t r = { 0 };
    int n = 0, failed = 0;
    long events = 0;
    srand (21);
    for (int i = -WARMUP; i < x->n; i++) {
        Meso__V1__ReplayRequest rq = MESO__V1__REPLAY_REQUEST__INIT;
        rq.stream = "session";
        rq.after_seq = (uint64_t) (first - 1 + rand () % span);
        rq.limit = 100;
        int64_t us = s_timed (x->ev, "events.Replay", &rq.base, NULL, &r);
        if (r.status != MESO_OK) {
            if (!failed++)
                fprintf (stderr, "bench_scale: Replay: %s\n", r.message);
            continue;
        }
        size_t len;
        const uint8_t *b = meso_result_body (&r, &len);
        Meso__V1__ReplayReply *rp = meso__v1__replay_reply__unpack (NULL, len, b);
        if (!rp) {
            if (!failed++)
                fprintf (stderr, "bench_scale: Replay: a reply that does not decode\n");
            continue;
        }
        if (i >= 0) {
            events += (long) rp->n_events;
            x->us[n++] = us;
        }
        meso__v1__replay_reply__free_unpacked (rp, NULL);
    }
    /* The whole last day, as a subscriber catching up: pages of 1000. */
    uint64_t after = (uint64_t) first - 1;
    long total = 0;
    int64_t t0 = meso_time_mono_us ();
    while (after < (uint64_t) head) {
        Meso__V1__ReplayRequest rq = MESO__V1__REPLAY_REQUEST__INIT;
        rq.stream = "session";
        rq.after_seq = after;
        rq.limit = 1000;
        s_timed (x->ev, "events.Replay", &rq.base, NULL, &r);
        size_t len;
        const uint8_t *b = r.status == MESO_OK ? meso_result_body (&r, &len) : NULL;
        Meso__V1__ReplayReply *rp = b ? meso__v1__replay_reply__unpack (NULL, len, b) : NULL;
        if (!rp || rp->last_seq <= after) {
            if (rp)
                meso__v1__replay_reply__free_unpacked (rp, NULL);
            failed++;
            break;
        }
        total += (long) rp->n_events;
        after = rp->last_seq;
        meso__v1__replay_reply__free_unpacked (rp, NULL);
    }
    double secs = (double) (meso_time_mono_us () - t0) / 1e6;
    meso_result_reset (&r);
    printf ("  replay: session events %" PRId64 "..%" PRId64 " in the last day, %.1f a page of 100 on average;"
            " the whole day %ld events in %.2f s (%.0f events/s)\n", first, head, n ? (double) events / n : 0.0,
            total, secs, secs > 0 ? total / secs : 0.0);
    s_fig (x->us, n, failed, out);
}

static int
s_burst (meso_db_t *db, void *arg)
{
    (void) arg;
    for (int i = 0; i < BURST; i++) {
        char id[48];
        snprintf (id, sizeof id, "scale-%d-%d", ++s_key, i);
        if (mt_outbox_stock_low (db, id, "c001", "America/New_York") != 0)
            return -1;
    }
    return 0;
}

/* BURSTS bursts of BURST events in one transaction each, written as
 * inventory; events/s from the commit until the outbox is empty. */
static void
s_relay (run_t *x, const char *dbname, scale_fig_t *out)
{
    char role[512];
    mt_role_conninfo (dbname, "meso_inventory", role, sizeof role);
    meso_db_t *w = meso_db_new (role);
    int64_t rates[BURSTS];
    int n = 0, failed = 0;
    for (int b = 0; b < BURSTS; b++) {
        if (meso_db_txn (w, MESO_DB_READ_COMMITTED, s_burst, NULL) != 0) {
            fprintf (stderr, "bench_scale: outbox burst: %s\n", meso_db_error (w)->message);
            failed++;
            continue;
        }
        int64_t t0 = meso_time_mono_us (), left = 1;
        while (left > 0 && meso_time_mono_us () - t0 < INT64_C (120000000)) {
            mt_sql_int (x->admin, "SELECT count(*) FROM events.outbox", NULL, &left);
            if (left > 0)
                mt_sleep_ms (2);
        }
        int64_t us = meso_time_mono_us () - t0;
        if (left > 0)
            failed++;
        else
            rates[n++] = (int64_t) ((double) BURST * 1e6 / (double) us);
    }
    meso_db_destroy (&w);
    qsort (rates, (size_t) n, sizeof *rates, s_cmp);
    out->failed = failed;
    out->p50 = n ? (double) rates[n / 2] : 0;
    out->p99 = n ? (double) rates[0] : 0;
}

static pid_t
s_spawn (const char *dbname, const char *name, const char *role, const char *ep, const char *a1,
         const char *a2, const char *a3)
{
    char conn[512], db[600], bind[300], path[64];
    mt_role_conninfo (dbname, role, conn, sizeof conn);
    snprintf (db, sizeof db, "--db=%s", conn);
    snprintf (bind, sizeof bind, "--bind=%s", ep);
    snprintf (path, sizeof path, "bin/%s", name);
    const char *argv[] = { name, db, bind, "--log-level=warn", a1, a2, a3, NULL };
    return mt_spawn (path, argv, NULL);
}

int
scale_measure (const char *dbname, const char *admin, int n, scale_figs_t *out)
{
    memset (out, 0, sizeof *out);
    char esch[256], escr[256], einv[256], ebil[256], erouter[256], epub[256];
    char a_sch[300], a_scr[300], a_inv[300];
    mt_ipc_endpoint ("ssch", esch, sizeof esch);
    mt_ipc_endpoint ("sscr", escr, sizeof escr);
    mt_ipc_endpoint ("sinv", einv, sizeof einv);
    mt_ipc_endpoint ("sbil", ebil, sizeof ebil);
    snprintf (a_sch, sizeof a_sch, "--scheduling=%s", esch);
    snprintf (a_scr, sizeof a_scr, "--screening=%s", escr);
    snprintf (a_inv, sizeof a_inv, "--inventory=%s", einv);
    run_t x = { 0 };
    int64_t t0 = meso_time_mono_ms ();
    pid_t pev = mt_spawn_events (dbname, erouter, sizeof erouter, epub, sizeof epub);
    pid_t pinv = s_spawn (dbname, "meso-inventory", "meso_inventory", einv, a_sch, "--events=", NULL);
    pid_t pscr = s_spawn (dbname, "meso-screening", "meso_screening", escr, a_sch, a_inv, NULL);
    pid_t psch = s_spawn (dbname, "meso-scheduling", "meso_scheduling", esch, a_scr, a_inv, "--events=");
    pid_t pbil = s_spawn (dbname, "meso-billing", "meso_billing", ebil, "--events=", "--events-pub=",
                          "--scheduling=");
    /* A first start on a generated chain seals the patients' names
     * (screening) before serving: allow it time. */
    int rc = -1;
    if (pev < 0 || pinv < 0 || pscr < 0 || psch < 0 || pbil < 0 || mt_wait_healthy (escr, 1800000) != 0
        || mt_wait_healthy (esch, 600000) != 0 || mt_wait_healthy (einv, 60000) != 0
        || mt_wait_healthy (ebil, 60000) != 0) {
        fprintf (stderr, "bench_scale: the daemons did not start on %s\n", dbname);
        goto stop;
    }
    printf ("  %s: daemons serving %.1f s after start\n", dbname, (double) (meso_time_mono_ms () - t0) / 1000.0);
    x.sch = mt_client (esch);
    x.scr = mt_client (escr);
    x.inv = mt_client (einv);
    x.bil = mt_client (ebil);
    x.ev = mt_client (erouter);
    x.admin = meso_db_new (admin);
    x.dbname = dbname;
    x.n = n;
    x.us = calloc ((size_t) n + WARMUP, sizeof *x.us);
    rc = mt_bench_recipe (s_call, x.inv);     /* the generated lots are caffeine */
    for (int i = 0; rc == 0 && i < NPATIENTS; i++)
        rc = s_patient (x.scr, i, x.patients[i]);
    if (rc == 0) {
        s_plan (&x, &out->plan);
        s_book (&x, &out->book);
        s_agenda (&x, &out->agenda);
        s_statement (&x, &out->statement);
        s_replay (&x, &out->replay);
        s_relay (&x, dbname, &out->relay);
    }
    free (x.us);
    meso_db_destroy (&x.admin);
    meso_bus_client_destroy (&x.sch);
    meso_bus_client_destroy (&x.scr);
    meso_bus_client_destroy (&x.inv);
    meso_bus_client_destroy (&x.bil);
    meso_bus_client_destroy (&x.ev);
stop:
    mt_stop (psch, SIGTERM);
    mt_stop (pscr, SIGTERM);
    mt_stop (pinv, SIGTERM);
    mt_stop (pbil, SIGTERM);
    mt_stop (pev, SIGTERM);
    return rc;
}
