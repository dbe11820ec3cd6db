/* bench_sched_setup.c -- bench_scheduling's daemons and data: a fleet of
 * scheduling, screening and inventory instances started and stopped
 * together, and the clinics, stock and patients the benchmarks book in,
 * set up through the daemons (so they are what a clinic would have).
 * Calls nothing of the other bench_scheduling files. */
#include <assert.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_scheduling.h"
#include "fixture_bench.h"
#include "harness.h"
#include "meso/mtime.h"
#include "meso/status.h"
#include "inventory.pb-c.h"
#include "scheduling.pb-c.h"
#include "screening.pb-c.h"

char bs_admin[512];
meso_bus_client_t *bs_scr, *bs_inv, *bs_sch;
const char *bs_log_level = "--log-level=warn";
static int s_key;

int
bs_cmp_i64 (const void *a, const void *b)
{
    int64_t x = *(const int64_t *) a, y = *(const int64_t *) b;
    return x < y ? -1 : x > y;
}

/* Calls method with a fresh key; on failure prints why. Returns the status. */
int
bs_call (meso_bus_client_t *c, const char *method, const ProtobufCMessage *body, meso_result_t *r)
{
    char key[64];
    snprintf (key, sizeof key, "bench-setup-%d-%d", (int) getpid (), ++s_key);
    meso_result_reset (r);
    meso_bus_client_call (c, method, body, key, 20000, r);
    if (r->status != MESO_OK)
        fprintf (stderr, "bench_scheduling: %s: %s: %s\n", method, meso_status_name (r->status), r->message);
    return r->status;
}

void
bs_day (int offset, char *out)
{
    int32_t today = (int32_t) (meso_time_now_us () / INT64_C (86400000000));
    meso_date_format (today + offset, out, 11);
}

/* A clinic open every day (days 1..ndays) opens-closes, npract
 * practitioners "<id>-p<k>" and nrooms rooms "<id>-r<k>". */
int
bs_clinic (const char *id, const char *zone, const char *opens, const char *closes, int ndays, int npract,
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
    int rc = bs_call (bs_sch, "scheduling.UpsertClinic", &cr.base, &r);
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
        rc = bs_call (bs_sch, "scheduling.UpsertPractitioner", &pr.base, &r);
    }
    /* Its consent text: booking needs the patient's signature of it. */
    Meso__V1__SetConsentTextRequest ct = MESO__V1__SET_CONSENT_TEXT_REQUEST__INIT;
    ct.clinic_id = (char *) id;
    ct.treatment = "body_mesotherapy";
    ct.text = "I consent to body mesotherapy (benchmark).";
    if (rc == MESO_OK)
        rc = bs_call (bs_scr, "screening.SetConsentText", &ct.base, &r);
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
        rc = bs_call (bs_sch, "scheduling.UpsertRoom", &rr.base, &r);
    }
    meso_result_reset (&r);
    return rc == MESO_OK ? 0 : -1;
}

/* Plenty of caffeine in the clinic. */
int
bs_stock (const char *clinic)
{
    meso_result_t r = { 0 };
    char expiry[16];
    bs_day (700, expiry);
    Meso__V1__ReceiveRequest rv = MESO__V1__RECEIVE_REQUEST__INIT;
    rv.clinic_id = (char *) clinic;
    rv.ingredient_code = "caffeine";
    rv.lot_number = "BENCH-1";
    rv.expiry_date = expiry;
    rv.quantity_milli = INT64_C (1000000000);          /* 1 kg: a million bookings */
    int rc = bs_call (bs_inv, "inventory.Receive", &rv.base, &r);
    meso_result_reset (&r);
    return rc == MESO_OK ? 0 : -1;
}

/* A registered, eligible patient of the clinic who signed its consent
 * (version 1); id (>= 40 bytes). */
int
bs_patient (const char *clinic, char *id)
{
    return mt_patient_eligible (bs_call, bs_scr, clinic, "Bench", clinic, 3, "Bench", id, 40);
}

int
bs_catalogue (void)
{
    return mt_bench_recipe (bs_call, bs_inv);
}

/* ---------------------------------------------------------- the fleet */

static pid_t
s_spawn (const char *name, const char *role, const char *ep, const char *extra1, const char *extra2)
{
    char conn[512], db[600], bind[2100], path[64];     /* bind: an endpoint list may be long */
    mt_role_conninfo ("bench_scheduling", role, conn, sizeof conn);
    snprintf (db, sizeof db, "--db=%s", conn);
    snprintf (bind, sizeof bind, "--bind=%s", ep);
    snprintf (path, sizeof path, "bin/%s", name);
    const char *argv[] = { name, db, bind, bs_log_level, extra1, extra2, NULL };
    return mt_spawn (path, argv, NULL);
}

/* Scheduling's worker count as deployed (deploy/local/up.sh and
 * docker-compose.yml give it MESO_SCHEDULING_WORKERS, default 4: its
 * workers wait on screening and inventory for most of a booking). */
int
bs_sched_workers (void)
{
    const char *v = getenv ("MESO_SCHEDULING_WORKERS");
    int n = v && *v ? atoi (v) : 4;
    return n >= 1 && n <= 64 ? n : 4;
}

static pid_t
s_spawn_workers (const char *name, const char *role, const char *ep, const char *extra1, const char *extra2,
                 int workers)
{
    char conn[512], db[600], bind[2100], path[64], w[32];
    mt_role_conninfo ("bench_scheduling", role, conn, sizeof conn);
    snprintf (db, sizeof db, "--db=%s", conn);
    snprintf (bind, sizeof bind, "--bind=%s", ep);
    snprintf (path, sizeof path, "bin/%s", name);
    snprintf (w, sizeof w, "--workers=%d", workers);
    const char *argv[] = { name, db, bind, bs_log_level, extra1, extra2, w, NULL };
    return mt_spawn (path, argv, NULL);
}

/* Stops every instance (scheduling first, so no booking is left half-way
 * by a missing screening or inventory) and frees the fleet. */
void
bs_fleet_stop (fleet_t **self_p)
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
fleet_t *
bs_fleet_start (int nsch, int nscr, int ninv)
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
        self->pid[self->npid++] = s_spawn_workers ("meso-scheduling", "meso_scheduling", self->sch[i], scr, inv,
                                                   bs_sched_workers ());
        if (self->pid[self->npid - 1] < 0 || mt_wait_healthy (self->sch[i], 10000) != 0)
            goto fail;
    }
    return self;
fail:
    fprintf (stderr, "bench_scheduling: the daemons did not start (%d scheduling, %d screening, %d inventory)\n",
             nsch, nscr, ninv);
    if (self->pid[self->npid - 1] < 0)
        self->npid--;
    bs_fleet_stop (&self);
    return NULL;
}

/* The setup clients (catalogue, clinics, PlanCourse) on the fleet's lists. */
void
bs_setup_clients (const fleet_t *f)
{
    meso_bus_client_destroy (&bs_scr);
    meso_bus_client_destroy (&bs_inv);
    meso_bus_client_destroy (&bs_sch);
    if (!f)
        return;
    bs_scr = mt_client (f->scr_list);
    bs_inv = mt_client (f->inv_list);
    bs_sch = mt_client (f->sch_list);
    assert (bs_scr && bs_inv && bs_sch);
}

/* The meso-scheduling of another build folder, on the fleet's screening
 * and inventory; *pid its process. Returns a client to it, or NULL (not
 * started, or stopped). */
meso_bus_client_t *
bs_other_start (const fleet_t *f, const char *other, pid_t *pid)
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
    const char *argv[] = { "meso-scheduling", dbarg, bind, bs_log_level, scr, inv, NULL };
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
