/* bench_scheduling.c -- booking through the daemons against the database's
 * own limit for the same work, and course planning in a busy clinic.
 *
 * Needs a PostgreSQL cluster and pgbench: run it through tests/bench/run.sh,
 * which starts a throwaway cluster and sets MESO_TEST_PGHOST/PGPORT.
 * Measures and prints; never passes or fails on time.
 *
 *   1. booking: 8 client threads call scheduling.BookSession through real
 *      meso-screening, meso-inventory and meso-scheduling daemons for 10 s,
 *      each in its own clinic (own practitioner, room, patients and stock
 *      lot: the bookings do not conflict), one session after the other.
 *      This runs once per configuration of MESO_BENCH_INSTANCES (default
 *      "1,4"): n scheduling instances with max(1, n/2) screening and as
 *      many inventory instances, each on its own endpoint and its own
 *      database connection; every scheduling instance is given the lists of
 *      screening and inventory endpoints, and client i calls scheduling
 *      instance i mod n (as a pool of connections would). Every instance
 *      answers Health before the clients start; all are stopped after.
 *   2. the same SQL directly: pgbench -M prepared with 8 clients (8
 *      connections) runs tests/bench/booking.pgbench -- every statement a
 *      booking sends, in the same transactions, across scheduling,
 *      screening and inventory -- for 10 s in 8 other clinics. One table
 *      prints every configuration of 1 beside it: connections, bookings/s,
 *      p50, p99 and the ratio to pgbench (target >= 0.6; p99 target
 *      < 15 ms).
 *   3. PlanCourse of 20 sessions in a clinic with 20 practitioners, 10 rooms
 *      and a year of bookings (about 70% of the room-hours taken), 200
 *      calls through one scheduling instance (or as many as fit in 20 s):
 *      p50/p99 against the 5 ms target.
 *
 * MESO_BENCH_ONLY=compare MESO_BENCH_COMPARE=<another build folder> runs
 * none of these: it starts this build's meso-scheduling and that build's
 * on the same database (tests/bench/plan_compare.sh builds a git revision
 * for it), fills clinics in Europe/Paris and America/New_York with random
 * bookings, days off, a practitioner shared between clinics and patients
 * booked elsewhere, sends both the same few hundred varied PlanCourse
 * requests and compares the replies byte for byte (exit 1 on a
 * difference): a change to how the calendar is loaded must not change a
 * plan.
 *
 * Why it is built this way: the daemons' figure alone says little on a
 * shared 2-core machine; pgbench in the same run, on the same cluster and
 * the same statements, is the reference that moves with the machine. A
 * daemon is one thread with one connection, serving one request at a time,
 * and meso scales a service by running several instances of it; pgbench's
 * 8 clients hold 8 connections, so the configuration to hold against it
 * is the one with as many connections (4 + 2 + 2), printed beside the
 * single-instance one to show what the instances buy. */
#include <assert.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "meso/bus.h"
#include "meso/db.h"
#include "meso/mtime.h"
#include "meso/status.h"
#include "inventory.pb-c.h"
#include "scheduling.pb-c.h"
#include "screening.pb-c.h"

#define NCLIENTS 8              /* MESO_BENCH_CLIENTS overrides (1..NCLIENTS) */
#define RUN_S 10
#define MAXLAT 200000
#define PLAN_CALLS 200
#define MAXINST 16              /* instances of one service */
#define MAXCONF 8               /* configurations in MESO_BENCH_INSTANCES */
#define EPLEN 128

static char s_admin[512];
static meso_bus_client_t *s_scr, *s_inv, *s_sch;
static int s_key;
static int s_nclients = NCLIENTS;
static const char *s_log_level = "--log-level=warn";

static int
s_cmp (const void *a, const void *b)
{
    int64_t x = *(const int64_t *) a, y = *(const int64_t *) b;
    return x < y ? -1 : x > y;
}

/* Calls method with a fresh key; on failure prints why. Returns the status. */
static int
s_call (meso_bus_client_t *c, const char *method, const ProtobufCMessage *body, meso_result_t *r)
{
    char key[64];
    snprintf (key, sizeof key, "bench-setup-%d-%d", (int) getpid (), ++s_key);
    meso_result_reset (r);
    meso_bus_client_call (c, method, body, key, 20000, r);
    if (r->status != MESO_OK)
        fprintf (stderr, "bench_scheduling: %s: %s: %s\n", method, meso_status_name (r->status), r->message);
    return r->status;
}

static void
s_day (int offset, char *out)
{
    int32_t today = (int32_t) (meso_time_now_us () / INT64_C (86400000000));
    meso_date_format (today + offset, out, 11);
}

/* A clinic open every day (days 1..ndays) opens-closes, npract
 * practitioners "<id>-p<k>" and nrooms rooms "<id>-r<k>". */
static int
s_clinic (const char *id, const char *zone, const char *opens, const char *closes, int ndays, int npract,
          int nrooms)
{
    meso_result_t r = { 0 };
    Meso__V1__DayHours h[7], *hp[7];
    for (int d = 0; d < ndays; d++) {
        meso__v1__day_hours__init (&h[d]);
        h[d].weekday = d + 1;
        h[d].opens = (char *) opens;
        h[d].closes = (char *) closes;
        hp[d] = &h[d];
    }
    Meso__V1__Clinic c = MESO__V1__CLINIC__INIT;
    c.clinic_id = (char *) id;
    c.name = (char *) id;
    c.time_zone = (char *) zone;
    c.hours = hp;
    c.n_hours = (size_t) ndays;
    Meso__V1__UpsertClinicRequest cr = MESO__V1__UPSERT_CLINIC_REQUEST__INIT;
    cr.clinic = &c;
    int rc = s_call (s_sch, "scheduling.UpsertClinic", &cr.base, &r);
    for (int i = 0; rc == MESO_OK && i < npract; i++) {
        char pid[64];
        snprintf (pid, sizeof pid, "%s-p%d", id, i);
        Meso__V1__PractitionerClinic pc = MESO__V1__PRACTITIONER_CLINIC__INIT;
        pc.clinic_id = (char *) id;
        pc.hours = hp;
        pc.n_hours = (size_t) ndays;
        Meso__V1__PractitionerClinic *pcp[] = { &pc };
        Meso__V1__Practitioner p = MESO__V1__PRACTITIONER__INIT;
        p.practitioner_id = pid;
        p.name = pid;
        p.clinics = pcp;
        p.n_clinics = 1;
        Meso__V1__UpsertPractitionerRequest pr = MESO__V1__UPSERT_PRACTITIONER_REQUEST__INIT;
        pr.practitioner = &p;
        rc = s_call (s_sch, "scheduling.UpsertPractitioner", &pr.base, &r);
    }
    /* Its consent text: booking needs the patient's signature of it. */
    Meso__V1__SetConsentTextRequest ct = MESO__V1__SET_CONSENT_TEXT_REQUEST__INIT;
    ct.clinic_id = (char *) id;
    ct.treatment = "body_mesotherapy";
    ct.text = "I consent to body mesotherapy (benchmark).";
    if (rc == MESO_OK)
        rc = s_call (s_scr, "screening.SetConsentText", &ct.base, &r);
    for (int i = 0; rc == MESO_OK && i < nrooms; i++) {
        char rid[64];
        snprintf (rid, sizeof rid, "%s-r%d", id, i);
        Meso__V1__Room rm = MESO__V1__ROOM__INIT;
        rm.clinic_id = (char *) id;
        rm.room_id = rid;
        rm.name = rid;
        rm.active = true;
        Meso__V1__UpsertRoomRequest rr = MESO__V1__UPSERT_ROOM_REQUEST__INIT;
        rr.room = &rm;
        rc = s_call (s_sch, "scheduling.UpsertRoom", &rr.base, &r);
    }
    meso_result_reset (&r);
    return rc == MESO_OK ? 0 : -1;
}

/* Plenty of caffeine in the clinic. */
static int
s_stock (const char *clinic)
{
    meso_result_t r = { 0 };
    char expiry[16];
    s_day (700, expiry);
    Meso__V1__ReceiveRequest rv = MESO__V1__RECEIVE_REQUEST__INIT;
    rv.clinic_id = (char *) clinic;
    rv.ingredient_code = "caffeine";
    rv.lot_number = "BENCH-1";
    rv.expiry_date = expiry;
    rv.quantity_milli = INT64_C (1000000000);          /* 1 kg: a million bookings */
    int rc = s_call (s_inv, "inventory.Receive", &rv.base, &r);
    meso_result_reset (&r);
    return rc == MESO_OK ? 0 : -1;
}

/* A registered, eligible patient of the clinic; id (>= 40 bytes). */
static int
s_patient (const char *clinic, char *id)
{
    meso_result_t r = { 0 };
    Meso__V1__Patient p = MESO__V1__PATIENT__INIT;
    p.given_name = "Bench";
    p.family_name = (char *) clinic;
    p.birth_date = "1990-05-04";
    p.sex = MESO__V1__SEX__SEX_FEMALE;
    p.home_clinic_id = (char *) clinic;
    Meso__V1__RegisterPatientRequest rq = MESO__V1__REGISTER_PATIENT_REQUEST__INIT;
    rq.patient = &p;
    if (s_call (s_scr, "screening.RegisterPatient", &rq.base, &r) != MESO_OK)
        return -1;
    size_t len;
    const uint8_t *body = meso_result_body (&r, &len);
    Meso__V1__RegisterPatientReply *rep = meso__v1__register_patient_reply__unpack (NULL, len, body);
    if (!rep)
        return -1;
    snprintf (id, 40, "%s", rep->patient->id);
    meso__v1__register_patient_reply__free_unpacked (rep, NULL);
    Meso__V1__Questionnaire q = MESO__V1__QUESTIONNAIRE__INIT;
    Meso__V1__Answer no = MESO__V1__ANSWER__ANSWER_NO;
    q.pregnancy = q.breastfeeding = q.diabetes = q.active_infection = no;
    q.septicaemia = q.immunocompromised = q.liver_failure = q.kidney_failure = no;
    q.coagulation_disorder = q.menstrual_disorder = q.cancer = no;
    q.heart_arrhythmia = q.blood_clots = no;
    q.height_mm = 1700;
    q.weight_g = 65000;
    Meso__V1__AreaGrade ag = MESO__V1__AREA_GRADE__INIT;
    ag.area = "thighs";
    ag.grade = 3;
    Meso__V1__AreaGrade *ags[] = { &ag };
    q.areas = ags;
    q.n_areas = 1;
    Meso__V1__RecordScreeningRequest sr = MESO__V1__RECORD_SCREENING_REQUEST__INIT;
    sr.patient_id = id;
    sr.clinic_id = (char *) clinic;
    sr.answers = &q;
    int rc = s_call (s_scr, "screening.RecordScreening", &sr.base, &r);
    /* The clinic's consent, signed (version 1). */
    Meso__V1__SignConsentRequest sc = MESO__V1__SIGN_CONSENT_REQUEST__INIT;
    sc.patient_id = id;
    sc.clinic_id = (char *) clinic;
    sc.treatment = "body_mesotherapy";
    sc.version = 1;
    sc.witness = "Bench";
    if (rc == MESO_OK)
        rc = s_call (s_scr, "screening.SignConsent", &sc.base, &r);
    meso_result_reset (&r);
    return rc == MESO_OK ? 0 : -1;
}

static int
s_catalogue (void)
{
    meso_result_t r = { 0 };
    Meso__V1__Ingredient ing = MESO__V1__INGREDIENT__INIT;
    ing.code = "caffeine";
    ing.name = "Caffeine";
    ing.unit = MESO__V1__UNIT__UNIT_MG;
    Meso__V1__UpsertIngredientRequest ir = MESO__V1__UPSERT_INGREDIENT_REQUEST__INIT;
    ir.ingredient = &ing;
    if (s_call (s_inv, "inventory.UpsertIngredient", &ir.base, &r) != MESO_OK)
        return -1;
    Meso__V1__RecipeLine l = MESO__V1__RECIPE_LINE__INIT;
    l.area = "thighs";
    l.ingredient_code = "caffeine";
    l.amount_milli = 1000;
    Meso__V1__RecipeLine *lines[] = { &l };
    Meso__V1__UpsertRecipeRequest rq = MESO__V1__UPSERT_RECIPE_REQUEST__INIT;
    rq.recipe_id = "bench";
    rq.name = "Bench";
    rq.lines = lines;
    rq.n_lines = 1;
    int rc = s_call (s_inv, "inventory.UpsertRecipe", &rq.base, &r);
    meso_result_reset (&r);
    return rc == MESO_OK ? 0 : -1;
}

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
        s_day (1 + k / 16, day);
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

/* ------------------------------------------------------ 2. pgbench */

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

/* Runs pgbench; fills tps and the sorted latencies (µs) from its logs. */
static int
s_pgbench (double *tps, int64_t **lat, size_t *nlat, long *failed)
{
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
              "cd %s && %s -n -M prepared -c %d -j 2 -T %d -l --log-prefix=%s/pgb -f %s/tests/bench/booking.pgbench"
              " -h %s -p %s -U meso bench_scheduling > %s/out.txt 2>&1",
              dir, bin, s_nclients, RUN_S, dir, mt_source_dir (), getenv ("MESO_TEST_PGHOST"),
              getenv ("MESO_TEST_PGPORT"), dir);
    int rc = system (cmd);
    char path[512], line[512];
    snprintf (path, sizeof path, "%s/out.txt", dir);
    FILE *f = fopen (path, "r");
    *tps = 0;
    *failed = 0;
    while (f && fgets (line, sizeof line, f)) {
        double v;
        long n;
        if (sscanf (line, "tps = %lf (without initial connection time)", &v) == 1)
            *tps = v;
        if (sscanf (line, "number of failed transactions: %ld", &n) == 1)
            *failed = n;
        if (rc != 0 || strstr (line, "ERROR") || strstr (line, "error"))
            fprintf (stderr, "pgbench: %s", line);
    }
    if (f)
        fclose (f);
    /* Per-transaction logs: "client_id transaction_no time_us script_no epoch epoch_us". */
    *lat = malloc (sizeof (int64_t) * MAXLAT * 2);
    *nlat = 0;
    snprintf (cmd, sizeof cmd, "cat %s/pgb.* 2>/dev/null", dir);
    FILE *p = popen (cmd, "r");
    while (p && fgets (line, sizeof line, p) && *nlat < MAXLAT * 2) {
        long cl, tx, us;
        if (sscanf (line, "%ld %ld %ld", &cl, &tx, &us) == 3)
            (*lat)[(*nlat)++] = us;
    }
    if (p)
        pclose (p);
    qsort (*lat, *nlat, sizeof **lat, s_cmp);
    snprintf (cmd, sizeof cmd, "rm -rf %s", dir);
    if (system (cmd) != 0)
        fprintf (stderr, "bench_scheduling: could not remove %s\n", dir);
    return rc == 0 && *tps > 0 ? 0 : -1;
}

/* ------------------------------------------------------------- main */

static pid_t
s_spawn (const char *name, const char *role, const char *ep, const char *extra1, const char *extra2)
{
    char conn[512], db[600], bind[2100], path[64];     /* bind: an endpoint list may be long */
    mt_role_conninfo ("bench_scheduling", role, conn, sizeof conn);
    snprintf (db, sizeof db, "--db=%s", conn);
    snprintf (bind, sizeof bind, "--bind=%s", ep);
    snprintf (path, sizeof path, "bin/%s", name);
    const char *argv[] = { name, db, bind, s_log_level, extra1, extra2, NULL };
    return mt_spawn (path, argv, NULL);
}

/* One configuration's daemons: nsch scheduling instances, nscr screening
 * and ninv inventory, each on its own endpoint. */
typedef struct {
    int nsch, nscr, ninv;
    pid_t pid[3 * MAXINST];
    int npid;
    char sch[MAXINST][EPLEN];
    char sch_list[MAXINST * EPLEN], scr_list[MAXINST * EPLEN], inv_list[MAXINST * EPLEN];
} fleet_t;

/* Stops every instance (scheduling first, so no booking is left half-way
 * by a missing screening or inventory) and frees the fleet. */
static void
s_fleet_stop (fleet_t **self_p)
{
    fleet_t *self = *self_p;
    if (!self)
        return;
    for (int i = self->npid - 1; i >= 0; i--) {
        int status = mt_stop (self->pid[i], SIGTERM);
        if (status != 0)
            fprintf (stderr, "bench_scheduling: instance %d did not exit cleanly (status %d)\n",
                     (int) self->pid[i], status);
    }
    free (self);
    *self_p = NULL;
}

static void
s_list_add (char *list, size_t size, const char *ep)
{
    size_t len = strlen (list);
    snprintf (list + len, size - len, "%s%s", len ? "," : "", ep);
}

/* Starts the instances and waits until every one answers Health. Returns
 * the fleet, or NULL (all stopped) if one did not start. */
static fleet_t *
s_fleet_start (int nsch, int nscr, int ninv)
{
    assert (nsch >= 1 && nsch <= MAXINST && nscr >= 1 && nscr <= MAXINST && ninv >= 1 && ninv <= MAXINST);
    fleet_t *self = calloc (1, sizeof *self);
    assert (self);
    self->nsch = nsch;
    self->nscr = nscr;
    self->ninv = ninv;
    char ep[EPLEN];
    /* Scheduling's endpoints first: screening and inventory ask it whether
     * a clinic exists (scheduling.GetClinic). */
    for (int i = 0; i < nsch; i++) {
        mt_ipc_endpoint ("sch", self->sch[i], EPLEN);
        s_list_add (self->sch_list, sizeof self->sch_list, self->sch[i]);
    }
    static char sch[MAXINST * EPLEN + 16];
    snprintf (sch, sizeof sch, "--scheduling=%s", self->sch_list);
    /* Inventory's endpoints before screening starts: screening asks them
     * about ingredient codes it has not seen. */
    char inv_ep[MAXINST][EPLEN];
    for (int i = 0; i < ninv; i++) {
        mt_ipc_endpoint ("inv", inv_ep[i], EPLEN);
        s_list_add (self->inv_list, sizeof self->inv_list, inv_ep[i]);
    }
    static char inv[MAXINST * EPLEN + 16];
    snprintf (inv, sizeof inv, "--inventory=%s", self->inv_list);
    for (int i = 0; i < nscr; i++) {
        mt_ipc_endpoint ("scr", ep, sizeof ep);
        s_list_add (self->scr_list, sizeof self->scr_list, ep);
        self->pid[self->npid++] = s_spawn ("meso-screening", "meso_screening", ep, sch, inv);
        if (self->pid[self->npid - 1] < 0 || mt_wait_healthy (ep, 10000) != 0)
            goto fail;
    }
    for (int i = 0; i < ninv; i++) {
        self->pid[self->npid++] = s_spawn ("meso-inventory", "meso_inventory", inv_ep[i], "--events=", sch);
        if (self->pid[self->npid - 1] < 0 || mt_wait_healthy (inv_ep[i], 10000) != 0)
            goto fail;
    }
    static char scr[MAXINST * EPLEN + 16];
    snprintf (scr, sizeof scr, "--screening=%s", self->scr_list);
    for (int i = 0; i < nsch; i++) {
        self->pid[self->npid++] = s_spawn ("meso-scheduling", "meso_scheduling", self->sch[i], scr, inv);
        if (self->pid[self->npid - 1] < 0 || mt_wait_healthy (self->sch[i], 10000) != 0)
            goto fail;
    }
    return self;
fail:
    fprintf (stderr, "bench_scheduling: the daemons did not start (%d scheduling, %d screening, %d inventory)\n",
             nsch, nscr, ninv);
    if (self->pid[self->npid - 1] < 0)
        self->npid--;
    s_fleet_stop (&self);
    return NULL;
}

/* The setup clients (catalogue, clinics, PlanCourse) on the fleet's lists. */
static void
s_setup_clients (const fleet_t *f)
{
    meso_bus_client_destroy (&s_scr);
    meso_bus_client_destroy (&s_inv);
    meso_bus_client_destroy (&s_sch);
    if (!f)
        return;
    s_scr = mt_client (f->scr_list);
    s_inv = mt_client (f->inv_list);
    s_sch = mt_client (f->sch_list);
    assert (s_scr && s_inv && s_sch);
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
    qsort (lat, n, sizeof *lat, s_cmp);
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

/* ------------------------------------------------ compare two daemons */

#define CMP_CALLS 400

static int
s_cmp_sql (meso_db_t *db, const char *sql)
{
    if (meso_db_exec (db, sql, 0, NULL) == 0)
        return 0;
    fprintf (stderr, "bench_scheduling: compare: %s\n%s\n", meso_db_error (db)->message, sql);
    return -1;
}

/* Random bookings (some cancelled), of the clinic's own patients and of
 * patient, over 400 days in the clinic's zone; slots of 15 minutes to 2
 * hours at quarter hours; the exclusion constraints drop the overlaps. */
static int
s_cmp_fill (meso_db_t *db, const char *clinic, const char *zone, int npract, int nrooms, int tries,
            const char *patient)
{
    char sql[2048];
    snprintf (sql, sizeof sql,
        "INSERT INTO scheduling.course (clinic_id, course_id, patient_id, grade, areas, recipe_id, sessions, status)"
        " VALUES ('%s', 'cmp-%s', 'someone', 2, '{thighs}', 'bench', 64, 'booked')", clinic, clinic);
    if (s_cmp_sql (db, sql) != 0)
        return -1;
    snprintf (sql, sizeof sql,
        "INSERT INTO scheduling.appointment (clinic_id, appointment_id, course_id, patient_id,"
        " practitioner_id, room_id, during, status, session_number, areas, recipe_id, recipe_version)"
        " SELECT '%s', 'cmp-%s-' || g, 'cmp-%s',"
        "  CASE WHEN g %% 97 = 0 THEN '%s' ELSE 'cmp-pat-' || g END,"
        "  '%s-p' || floor(random() * %d)::int, '%s-r' || floor(random() * %d)::int,"
        "  tstzrange(t, t + make_interval(mins => 15 * (1 + floor(random() * 8)::int)), '[)'),"
        "  CASE WHEN random() < 0.1 THEN 'cancelled' ELSE 'booked' END, 1, '{thighs}', 'bench', 1"
        " FROM (SELECT g, ((current_date + floor(random() * 400)::int)"
        "        + make_interval(mins => 15 * floor(random() * 96)::int)) AT TIME ZONE '%s' AS t"
        "       FROM generate_series(1, %d) g) s"
        " ON CONFLICT DO NOTHING",
        clinic, clinic, clinic, patient, clinic, npract, clinic, nrooms, zone, tries);
    if (s_cmp_sql (db, sql) != 0)
        return -1;
    snprintf (sql, sizeof sql,
        "INSERT INTO scheduling.practitioner_day_off (practitioner_id, day)"
        " SELECT '%s-p' || floor(random() * %d)::int, current_date + floor(random() * 400)::int"
        " FROM generate_series(1, %d) ON CONFLICT DO NOTHING", clinic, npract, 20 * npract);
    return s_cmp_sql (db, sql);
}

/* The whole reply (status, message, detail, reasons, body) packed, but
 * for its request id; malloc'ed, *len its size; NULL when none came. */
static uint8_t *
s_cmp_reply (const meso_result_t *r, size_t *len)
{
    *len = 0;
    if (!r->reply)
        return NULL;
    char *id = r->reply->request_id;
    r->reply->request_id = "";
    *len = meso__v1__reply__get_packed_size (r->reply);
    uint8_t *out = malloc (*len + 1);
    assert (out);
    meso__v1__reply__pack (r->reply, out);
    r->reply->request_id = id;
    return out;
}

/* The meso-scheduling of another build folder, on the fleet's screening
 * and inventory; *pid its process. Returns a client to it, or NULL (not
 * started, or stopped). */
static meso_bus_client_t *
s_other_start (const fleet_t *f, const char *other, pid_t *pid)
{
    char ep[EPLEN], scr[MAXINST * EPLEN + 16], inv[MAXINST * EPLEN + 16], path[4096];
    char conn[512], dbarg[600], bind[300];
    snprintf (scr, sizeof scr, "--screening=%s", f->scr_list);
    snprintf (inv, sizeof inv, "--inventory=%s", f->inv_list);
    snprintf (path, sizeof path, "%s/bin/meso-scheduling", other);
    mt_ipc_endpoint ("sch-other", ep, sizeof ep);
    mt_role_conninfo ("bench_scheduling", "meso_scheduling", conn, sizeof conn);
    snprintf (dbarg, sizeof dbarg, "--db=%s", conn);
    snprintf (bind, sizeof bind, "--bind=%s", ep);
    const char *argv[] = { "meso-scheduling", dbarg, bind, s_log_level, scr, inv, NULL };
    *pid = mt_spawn (path, argv, NULL);
    if (*pid < 0 || mt_wait_healthy (ep, 10000) != 0) {
        fprintf (stderr, "bench_scheduling: compare: %s did not start\n", path);
        if (*pid > 0)
            mt_stop (*pid, SIGKILL);
        return NULL;
    }
    meso_bus_client_t *c = mt_client (ep);
    assert (c);
    return c;
}

/* The comparison (see the top of the file). Returns 0 when every reply is
 * the same, 1 otherwise. */
static int
s_compare (meso_db_t *db, const fleet_t *f, const char *other)
{
    pid_t pid;
    meso_bus_client_t *old = s_other_start (f, other, &pid);
    if (!old)
        return 1;

    /* Clinics: Paris open every day, Paris with 30-minute slots and late
     * hours, New York open Monday to Saturday with 45-minute slots. */
    static const struct {
        const char *id, *zone, *opens, *closes;
        int ndays, npract, nrooms, slot, tries;
    } cl[] = {
        { "cmpa", "Europe/Paris", "08:00", "20:00", 7, 5, 3, 0, 20000 },
        { "cmpb", "Europe/Paris", "10:00", "23:30", 7, 3, 2, 30, 9000 },
        { "cmpc", "America/New_York", "07:00", "19:00", 6, 4, 4, 45, 14000 },
    };
    enum { NCL = 3, NPAT = 3 };
    char pat[NCL][NPAT][40];
    int rc = 0;
    for (int c = 0; c < NCL && rc == 0; c++) {
        rc = s_clinic (cl[c].id, cl[c].zone, cl[c].opens, cl[c].closes, cl[c].ndays, cl[c].npract, cl[c].nrooms);
        for (int k = 0; k < NPAT && rc == 0; k++)
            rc = s_patient (cl[c].id, pat[c][k]);
        char sql[512];
        if (rc == 0 && cl[c].slot) {
            snprintf (sql, sizeof sql, "UPDATE scheduling.clinic SET slot_minutes = %d WHERE clinic_id = '%s'",
                      cl[c].slot, cl[c].id);
            rc = s_cmp_sql (db, sql);
        }
        /* Practitioner 1 works afternoons only, 2 not on Mondays. */
        if (rc == 0) {
            snprintf (sql, sizeof sql,
                      "UPDATE scheduling.practitioner_hours SET starts = '13:00' WHERE practitioner_id = '%s-p1'",
                      cl[c].id);
            rc = s_cmp_sql (db, sql);
        }
        if (rc == 0) {
            snprintf (sql, sizeof sql,
                      "DELETE FROM scheduling.practitioner_hours WHERE practitioner_id = '%s-p2' AND isodow = 1",
                      cl[c].id);
            rc = s_cmp_sql (db, sql);
        }
        if (rc == 0)
            rc = s_cmp_fill (db, cl[c].id, cl[c].zone, cl[c].npract, cl[c].nrooms, cl[c].tries, pat[c][0]);
    }
    /* cmpa-p0 works in cmpb too (booked there), and cmpa's first patient
     * has sessions in cmpc. */
    if (rc == 0)
        rc = s_cmp_sql (db,
            "INSERT INTO scheduling.practitioner_hours (clinic_id, practitioner_id, isodow, starts, ends)"
            " SELECT 'cmpb', 'cmpa-p0', d, '10:00', '23:30' FROM generate_series(1, 7) d");
    if (rc == 0) {
        char sql[1024];
        snprintf (sql, sizeof sql,
            "INSERT INTO scheduling.appointment (clinic_id, appointment_id, course_id, patient_id,"
            " practitioner_id, room_id, during, status, session_number, areas, recipe_id, recipe_version)"
            " SELECT clinic, 'cmpx-' || clinic || g, 'cmp-' || clinic, CASE WHEN clinic = 'cmpc' THEN '%s'"
            "  ELSE 'cmpx-pat-' || g END, CASE WHEN clinic = 'cmpc' THEN 'cmpc-p3' ELSE 'cmpa-p0' END,"
            "  clinic || '-r1', tstzrange(t, t + interval '90 minutes'), 'booked', 1, '{thighs}', 'bench', 1"
            " FROM (SELECT g, c AS clinic, ((current_date + floor(random() * 400)::int)"
            "        + make_interval(mins => 15 * floor(random() * 96)::int)) AT TIME ZONE"
            "        (SELECT time_zone FROM scheduling.clinic WHERE clinic_id = c) AS t"
            "       FROM generate_series(1, 1500) g, unnest('{cmpb,cmpc}'::text[]) c) s ON CONFLICT DO NOTHING",
            pat[0][0]);
        rc = s_cmp_sql (db, sql);
    }
    if (rc == 0)
        rc = s_cmp_sql (db, "ANALYZE scheduling.appointment");
    if (rc != 0) {
        meso_bus_client_destroy (&old);
        mt_stop (pid, SIGTERM);
        return 1;
    }

    static const char *times[] = { "", "00:00", "07:00", "08:00", "09:45", "10:00", "12:30", "13:15",
                                   "16:00", "18:45", "19:30", "22:00", "23:59" };
    char *areas[] = { "thighs" };
    srand (20261121);
    int same = 0, differ = 0, errors = 0, sessions = 0, moved = 0;
    meso_result_t a = { 0 }, b = { 0 };
    for (int i = 0; i < CMP_CALLS; i++) {
        int c = rand () % NCL;
        char first[16], hhmm[8], pract[64];
        /* Mostly the coming year; a quarter around the clock changes
         * (the last Sundays of March and October, the second Sunday of
         * March and the first of November) by way of dense offsets. */
        s_day (i % 4 == 0 ? rand () % 15 : rand () % 330, first);
        if (i % 4 == 0) {
            int32_t today = (int32_t) (meso_time_now_us () / INT64_C (86400000000)), d;
            static const char *changes[] = { "03-08", "03-25", "10-25", "11-01" };
            char txt[16];
            meso_date_format (today, txt, sizeof txt);
            int year = atoi (txt);
            for (int y = year; y <= year + 1; y++) {
                snprintf (txt, sizeof txt, "%d-%s", y, changes[rand () % 4]);
                if (meso_date_parse (txt, &d) == 0 && d > today + 1) {
                    meso_date_format (d + rand () % 10 - 3, first, sizeof first);
                    break;
                }
            }
        }
        const char *pt = times[rand () % 13];
        if (rand () % 3 == 0) {
            snprintf (hhmm, sizeof hhmm, "%02d:%02d", 6 + rand () % 17, (rand () % 12) * 5);
            pt = hhmm;
        }
        int pk = rand () % 8;
        if (pk < cl[c].npract)
            snprintf (pract, sizeof pract, "%s-p%d", cl[c].id, pk);
        else
            pract[0] = 0;
        Meso__V1__CourseSpec sp = MESO__V1__COURSE_SPEC__INIT;
        sp.clinic_id = (char *) cl[c].id;
        sp.patient_id = pat[c][rand () % NPAT];
        if (rand () % 10 == 0)
            sp.patient_id = pat[0][0];                  /* booked in cmpc and elsewhere */
        sp.grade = 1 + rand () % 3;
        sp.mild = rand () % 4 == 0;
        sp.areas = areas;
        sp.n_areas = 1;
        sp.first_date = first;
        sp.preferred_time = (char *) pt;
        sp.sessions = rand () % 3 == 0 ? 0 : (unsigned) (1 + rand () % 25);
        sp.maintenance_case = MESO__V1__COURSE_SPEC__MAINTENANCE_MAINTENANCE_SESSIONS;
        sp.maintenance_sessions = (unsigned) (rand () % 4);
        sp.practitioner_id = pract;
        sp.recipe_id = "bench";
        Meso__V1__PlanCourseRequest pq = MESO__V1__PLAN_COURSE_REQUEST__INIT;
        pq.spec = &sp;
        meso_result_reset (&a);
        meso_result_reset (&b);
        meso_bus_client_call (s_sch, "scheduling.PlanCourse", &pq.base, NULL, 20000, &a);
        meso_bus_client_call (old, "scheduling.PlanCourse", &pq.base, NULL, 20000, &b);
        size_t la, pa, pb;
        const uint8_t *ba = meso_result_body (&a, &la);
        uint8_t *ra = s_cmp_reply (&a, &pa), *rb = s_cmp_reply (&b, &pb);
        bool eq = a.status == b.status && strcmp (a.message, b.message) == 0 && ra && rb && pa == pb
               && memcmp (ra, rb, pa) == 0;
        free (ra);
        free (rb);
        if (eq)
            same++;
        else {
            differ++;
            fprintf (stderr, "bench_scheduling: compare: call %d differs (%s %s %s grade %d sessions %u"
                     " practitioner '%s' patient %s): %s/%zu bytes vs %s/%zu bytes\n", i, cl[c].id, first, pt,
                     sp.grade, sp.sessions, pract, sp.patient_id, meso_status_name (a.status), pa,
                     meso_status_name (b.status), pb);
        }
        if (a.status != MESO_OK)
            errors++;
        else {
            Meso__V1__PlanCourseReply *out = meso__v1__plan_course_reply__unpack (NULL, la, ba);
            for (size_t k = 0; out && k < out->n_sessions; k++) {
                sessions++;
                moved += out->sessions[k]->n_conflicts > 0;
            }
            if (out)
                meso__v1__plan_course_reply__free_unpacked (out, NULL);
        }
    }
    meso_result_reset (&a);
    meso_result_reset (&b);
    printf ("scheduling: PlanCourse compared with %s: %d calls, %d identical, %d different"
            " (%d refused by both or either, %d sessions planned, %d with a conflict worked around)\n",
            other, CMP_CALLS, same, differ, errors, sessions, moved);
    meso_bus_client_destroy (&old);
    mt_stop (pid, SIGTERM);
    return differ == 0 && same == CMP_CALLS ? 0 : 1;
}

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
        s_log_level = level;
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
    if (mt_db_create ("bench_scheduling", s_admin, sizeof s_admin) != 0)
        return 1;
    fleet_t *fleet = s_fleet_start (1, 1, 1);
    if (!fleet)
        return 1;
    s_setup_clients (fleet);
    meso_db_t *db = meso_db_new (s_admin);
    if (!meso_db_ok (db) || s_catalogue () != 0)
        return 1;
    if (only && strcmp (only, "compare") == 0) {
        const char *other = getenv ("MESO_BENCH_COMPARE");
        if (!other || !other[0]) {
            fprintf (stderr, "bench_scheduling: compare needs MESO_BENCH_COMPARE=<another build folder>\n");
            return 2;
        }
        int rc = s_compare (db, fleet, other);
        s_setup_clients (NULL);
        meso_db_destroy (&db);
        s_fleet_stop (&fleet);
        return rc;
    }

    /* Clinics bc<i> for the daemon clients, gc<i> for pgbench. */
    client_t cl[NCLIENTS];
    memset (cl, 0, sizeof cl);
    if (meso_db_exec (db, "CREATE SCHEMA bench", 0, NULL) || meso_db_exec (db, "CREATE SEQUENCE bench.seq", 0, NULL)
        || meso_db_exec (db, "CREATE TABLE bench.client (c int PRIMARY KEY, patient_id text, lot_id text)", 0, NULL)) {
        fprintf (stderr, "bench_scheduling: %s\n", meso_db_error (db)->message);
        return 1;
    }
    for (int i = 0; i < NCLIENTS; i++) {
        char bc[16], gc[16], gp[40], gpid[40], gr[40], ci[8];
        snprintf (bc, sizeof bc, "bc%d", i);
        snprintf (gc, sizeof gc, "gc%d", i);
        if (s_clinic (bc, "UTC", "06:00", "22:00", 7, 1, 1) != 0 || s_stock (bc) != 0
            || s_clinic (gc, "UTC", "06:00", "22:00", 7, 0, 0) != 0
            || s_stock (gc) != 0 || s_patient (gc, gpid) != 0)
            return 1;
        for (int k = 0; k < WEEK_SLOTS; k++)
            if (s_patient (bc, cl[i].patients[k]) != 0)
                return 1;
        /* pgbench's practitioner gp<i> and room gr<i> (the script's names). */
        snprintf (gp, sizeof gp, "gp%d", i);
        snprintf (gr, sizeof gr, "gr%d", i);
        snprintf (ci, sizeof ci, "%d", i);
        const char *p1[] = { gp }, *p2[] = { gc, gr }, *p3[] = { gc, ci, gpid };
        if (meso_db_exec (db, "INSERT INTO scheduling.practitioner (practitioner_id, name) VALUES ($1, $1)", 1, p1)
            || meso_db_exec (db, "INSERT INTO scheduling.room (clinic_id, room_id, name, active)"
                             " VALUES ($1, $2, $2, true)", 2, p2)
            || meso_db_exec (db, "INSERT INTO bench.client SELECT $2::int, $3, lot_id FROM inventory.lot"
                             " WHERE clinic_id = $1", 3, p3)) {
            fprintf (stderr, "bench_scheduling: pgbench setup: %s\n", meso_db_error (db)->message);
            return 1;
        }
    }

    if (do_booking) {
        /* ---- 1. through the daemons, one run per configuration ---- */
        booking_t runs[MAXCONF];
        for (int c = 0; c < nconf; c++) {
            int nsch = counts[c], nside = counts[c] / 2 > 1 ? counts[c] / 2 : 1;
            if (fleet->nsch != nsch || fleet->nscr != nside || fleet->ninv != nside) {
                s_setup_clients (NULL);
                s_fleet_stop (&fleet);
                fleet = s_fleet_start (nsch, nside, nside);
                if (!fleet)
                    return 1;
                s_setup_clients (fleet);
            }
            s_booking_run (fleet, db, cl, &runs[c]);
        }

        /* ---- 2. pgbench, same statements ---- */
        double tps = 0;
        int64_t *plat = NULL;
        size_t pn = 0;
        long pfailed = 0;
        int prc = s_pgbench (&tps, &plat, &pn, &pfailed);

        printf ("scheduling: BookSession, %d concurrent client%s, %d s per configuration, distinct clinics\n",
                s_nclients, s_nclients > 1 ? "s" : "", RUN_S);
        printf ("  %-34s %11s %10s %9s %9s %8s\n", "configuration", "connections", "bookings/s", "p50", "p99",
                "ratio");
        if (prc == 0 && pn)
            printf ("  %-34s %11d %10.1f %6.2f ms %6.2f ms %8s\n", "pgbench, same SQL", s_nclients, tps,
                    plat[pn / 2] / 1000.0, plat[pn * 99 / 100] / 1000.0, "1.00");
        else
            printf ("  %-34s did not run (see above)\n", "pgbench, same SQL");
        for (int c = 0; c < nconf; c++) {
            booking_t *b = &runs[c];
            char name[64], ratio[16] = "-";
            snprintf (name, sizeof name, "daemons: %d sch + %d scr + %d inv", b->nsch, b->nscr, b->ninv);
            if (prc == 0 && tps > 0)
                snprintf (ratio, sizeof ratio, "%.2f", b->rate / tps);
            if (b->n)
                printf ("  %-34s %11d %10.1f %6.2f ms %6.2f ms %8s\n", name, b->connections, b->rate,
                        b->p50 / 1000.0, b->p99 / 1000.0, ratio);
            else
                printf ("  %-34s %11d no booking succeeded\n", name, b->connections);
        }
        printf ("  targets: ratio >= 0.60, p99 < 15 ms\n");
        if (prc == 0 && pn)
            printf ("  pgbench: %zu transactions, %ld failed\n", pn, pfailed);
        for (int c = 0; c < nconf; c++)
            printf ("  %d sch + %d scr + %d inv: %zu booked, %d failed; %" PRId64 " appointments booked,"
                    " %" PRId64 " reservations held\n", runs[c].nsch, runs[c].nscr, runs[c].ninv, runs[c].n,
                    runs[c].failed, runs[c].booked, runs[c].held);
        free (plat);
    }

    if (do_plan) {
        /* ---- 3. PlanCourse in a busy clinic, one instance of each ---- */
        if (fleet->nsch != 1 || fleet->nscr != 1 || fleet->ninv != 1) {
            s_setup_clients (NULL);
            s_fleet_stop (&fleet);
            fleet = s_fleet_start (1, 1, 1);
            if (!fleet)
                return 1;
            s_setup_clients (fleet);
        }
        if (s_clinic ("busy", "Europe/Paris", "08:00", "20:00", 6, 20, 10) != 0 || s_stock ("busy") != 0)
            return 1;
        char patient[40];
        if (s_patient ("busy", patient) != 0)
            return 1;
        /* A year of bookings from tomorrow: every room-hour of the opening
         * hours, 70% of them taken, room r by practitioner 2r or 2r+1 on
         * alternate days (so no practitioner is in two rooms at once). */
        if (meso_db_exec (db,
                "INSERT INTO scheduling.course (clinic_id, course_id, patient_id, grade, areas, recipe_id,"
                " sessions, status) VALUES ('busy', 'busy-year', 'someone', 2, '{thighs}', 'bench', 64, 'booked')",
                0, NULL)
            || meso_db_exec (db,
                "INSERT INTO scheduling.appointment (clinic_id, appointment_id, course_id, patient_id,"
                " practitioner_id, room_id, during, status, session_number, areas, recipe_id, recipe_version)"
                " SELECT 'busy', 'busy-' || d || '-' || h || '-' || r, 'busy-year', 'busy-patient-' || d || '-' || h || '-' || r,"
                "  'busy-p' || (2 * r + d % 2), 'busy-r' || r,"
                "  tstzrange(((current_date + d) + make_interval(hours => h)) AT TIME ZONE 'Europe/Paris',"
                "            ((current_date + d) + make_interval(hours => h + 1)) AT TIME ZONE 'Europe/Paris', '[)'),"
                "  'booked', 1, '{thighs}', 'bench', 1"
                " FROM generate_series(1, 365) d, generate_series(8, 19) h, generate_series(0, 9) r"
                " WHERE extract(isodow FROM current_date + d) < 7 AND random() < 0.7", 0, NULL)
            || meso_db_exec (db, "ANALYZE scheduling.appointment", 0, NULL)) {
            fprintf (stderr, "bench_scheduling: busy clinic: %s\n", meso_db_error (db)->message);
            return 1;
        }
        PGresult *res = meso_db_query (db, "SELECT count(*) FROM scheduling.appointment WHERE clinic_id = 'busy'", 0, NULL);
        long busy = res ? strtol (PQgetvalue (res, 0, 0), NULL, 10) : 0;
        PQclear (res);
        char first[16];
        s_day (2, first);
        char *areas[] = { "thighs" };
        Meso__V1__CourseSpec sp = MESO__V1__COURSE_SPEC__INIT;
        sp.clinic_id = "busy";
        sp.patient_id = patient;
        sp.grade = 3;
        sp.areas = areas;
        sp.n_areas = 1;
        sp.first_date = first;
        sp.preferred_time = "10:00";
        sp.sessions = 20;
        sp.recipe_id = "bench";
        Meso__V1__PlanCourseRequest pq = MESO__V1__PLAN_COURSE_REQUEST__INIT;
        pq.spec = &sp;
        /* MESO_BENCH_COMPARE=<another build folder>: that build's daemon
         * too, called alternately on the same data (the order swapped on
         * every call), for a before/after in the same machine state. */
        const char *other = getenv ("MESO_BENCH_COMPARE");
        pid_t opid = -1;
        meso_bus_client_t *oc = other && other[0] ? s_other_start (fleet, other, &opid) : NULL;
        int64_t *oplan = malloc (sizeof (int64_t) * PLAN_CALLS);
        int onp = 0;
        int64_t *plan = malloc (sizeof (int64_t) * PLAN_CALLS);
        int np = 0, placed = -1, conflicts = 0;
        meso_result_t r = { 0 };
        int64_t plan_deadline = meso_time_mono_us () + 20 * INT64_C (1000000);   /* at most 20 s */
        for (int i = 0; i < PLAN_CALLS + 10 && meso_time_mono_us () < plan_deadline; i++) {
            if (oc && i % 2 == 1) {
                int64_t oa = meso_time_mono_us ();
                meso_result_reset (&r);
                meso_bus_client_call (oc, "scheduling.PlanCourse", &pq.base, NULL, 20000, &r);
                if (i >= 10 && r.status == MESO_OK)
                    oplan[onp++] = meso_time_mono_us () - oa;
            }
            int64_t a = meso_time_mono_us ();
            meso_result_reset (&r);
            meso_bus_client_call (s_sch, "scheduling.PlanCourse", &pq.base, NULL, 20000, &r);
            int64_t b = meso_time_mono_us ();
            if (oc && i % 2 == 0) {
                meso_result_t o = { 0 };
                int64_t oa = meso_time_mono_us ();
                meso_bus_client_call (oc, "scheduling.PlanCourse", &pq.base, NULL, 20000, &o);
                if (i >= 10 && o.status == MESO_OK)
                    oplan[onp++] = meso_time_mono_us () - oa;
                meso_result_reset (&o);
            }
            if (r.status != MESO_OK) {
                fprintf (stderr, "bench_scheduling: PlanCourse: %s: %s\n", meso_status_name (r.status), r.message);
                break;
            }
            if (i == 0) {
                size_t len;
                const uint8_t *body = meso_result_body (&r, &len);
                Meso__V1__PlanCourseReply *out = meso__v1__plan_course_reply__unpack (NULL, len, body);
                if (out) {
                    placed = 0;
                    for (size_t s = 0; s < out->n_sessions; s++) {
                        placed += !out->sessions[s]->unplaced;
                        conflicts += (int) out->sessions[s]->n_conflicts;
                    }
                    meso__v1__plan_course_reply__free_unpacked (out, NULL);
                }
            }
            if (i >= 10)                    /* the first calls warm the caches */
                plan[np++] = b - a;
        }
        meso_result_reset (&r);
        if (np) {
            qsort (plan, (size_t) np, sizeof *plan, s_cmp);
            printf ("scheduling: PlanCourse, 20 sessions, 20 practitioners, 10 rooms, %ld bookings over a year"
                    " (%d placed, %d conflicts worked around)\n", busy, placed, conflicts);
            printf ("  p50 %.2f ms, p99 %.2f ms (target p99 < 5 ms), %d calls\n", plan[np / 2] / 1000.0,
                    plan[np * 99 / 100] / 1000.0, np);
        }
        if (onp) {
            qsort (oplan, (size_t) onp, sizeof *oplan, s_cmp);
            printf ("  p50 %.2f ms, p99 %.2f ms, %d calls by %s's daemon, alternately\n", oplan[onp / 2] / 1000.0,
                    oplan[onp * 99 / 100] / 1000.0, onp, other);
        }
        meso_bus_client_destroy (&oc);
        if (opid > 0)
            mt_stop (opid, SIGTERM);
        free (oplan);
        free (plan);
    }

    s_setup_clients (NULL);
    meso_db_destroy (&db);
    s_fleet_stop (&fleet);
    return 0;
}
