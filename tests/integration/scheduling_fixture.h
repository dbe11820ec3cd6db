/* scheduling_fixture.h -- what the scheduling tests share (included by
 * tests/integration/test_scheduling.c and tests/fault/test_scheduling_faults.c;
 * static functions, one copy per test program): a fresh database, real
 * meso-screening, meso-inventory and meso-scheduling daemons over ipc://
 * sockets, and helpers that set up a clinic (with its consent text),
 * its stock and screened patients who signed every fixture clinic's
 * consent, through the daemons' own methods. fx_setup_events also starts
 * meso-events, and inventory and scheduling consume from it (session
 * events at inventory, screening events at scheduling). */
#ifndef SCHEDULING_FIXTURE_H
#define SCHEDULING_FIXTURE_H

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "meso/bus.h"
#include "meso/db.h"
#include "meso/mtime.h"
#include "inventory.pb-c.h"
#include "scheduling.pb-c.h"
#include "screening.pb-c.h"

#define FX_MAX_SCHED 2
#define FX_MAX_CLINICS 8
#define FX_CONSENT_TEXT "I consent to mesotherapy injections of the body (fixture text)."

typedef struct {
    char dbname[64];
    char admin[512];
    char screening_ep[256];
    char inventory_ep[256];
    char sched_ep[FX_MAX_SCHED][256];
    pid_t screening_pid, inventory_pid, sched_pid[FX_MAX_SCHED];
    pid_t events_pid;                   /* fx_setup_events only, else 0 */
    char events_router[256], events_pub[256];
    meso_bus_client_t *scr, *inv, *sch;
    meso_db_t *db;
    int key;
    /* The clinics fx_clinic set up, whose consent fx_patient signs. */
    char clinics[FX_MAX_CLINICS][64];
    int nclinics;
} fx_t;

static pid_t
fx_spawn_scheduling (fx_t *fx, int i, const char *const *env)
{
    char role[512], db[600], bind[300], scr[300], inv[300], ev[300], evp[300];
    mt_role_conninfo (fx->dbname, "meso_scheduling", role, sizeof role);
    snprintf (db, sizeof db, "--db=%s", role);
    snprintf (bind, sizeof bind, "--bind=%s", fx->sched_ep[i]);
    snprintf (scr, sizeof scr, "--screening=%s", fx->screening_ep);
    snprintf (inv, sizeof inv, "--inventory=%s", fx->inventory_ep);
    snprintf (ev, sizeof ev, "--events=%s", fx->events_router);
    snprintf (evp, sizeof evp, "--events-pub=%s", fx->events_pub[0] ? fx->events_pub : "tcp://127.0.0.1:7106");
    const char *argv[] = { "meso-scheduling", db, bind, scr, inv, ev, evp, NULL };
    pid_t pid = mt_spawn ("bin/meso-scheduling", argv, env);
    assert_true (pid > 0);
    return pid;
}

static fx_t *
fx_setup_opt (const char *name, int nsched, bool events)
{
    fx_t *fx = calloc (1, sizeof *fx);
    assert_non_null (fx);
    snprintf (fx->dbname, sizeof fx->dbname, "%s", name);
    assert_int_equal (mt_db_create (name, fx->admin, sizeof fx->admin), 0);
    char inv_ev[300] = "--events=", inv_evp[300] = "--events-pub=tcp://127.0.0.1:7106";
    if (events) {
        fx->events_pid = mt_spawn_events (name, fx->events_router, sizeof fx->events_router,
                                          fx->events_pub, sizeof fx->events_pub);
        assert_true (fx->events_pid > 0);
        snprintf (inv_ev, sizeof inv_ev, "--events=%s", fx->events_router);
        snprintf (inv_evp, sizeof inv_evp, "--events-pub=%s", fx->events_pub);
    }
    char role[512], db[600], bind[300], sch[FX_MAX_SCHED * 260 + 16];
    /* Scheduling's endpoints first: screening and inventory ask it whether
     * a clinic exists (scheduling.GetClinic). */
    char all[FX_MAX_SCHED * 260] = "";
    for (int i = 0; i < nsched; i++) {
        mt_ipc_endpoint ("sch", fx->sched_ep[i], sizeof fx->sched_ep[i]);
        snprintf (all + strlen (all), sizeof all - strlen (all), "%s%s", i ? "," : "", fx->sched_ep[i]);
    }
    snprintf (sch, sizeof sch, "--scheduling=%s", all);
    mt_ipc_endpoint ("scr", fx->screening_ep, sizeof fx->screening_ep);
    /* Inventory's endpoint before screening starts: screening asks it
     * about ingredient codes it has not seen (the one catalogue). */
    mt_ipc_endpoint ("inv", fx->inventory_ep, sizeof fx->inventory_ep);
    char inv[300];
    snprintf (inv, sizeof inv, "--inventory=%s", fx->inventory_ep);
    mt_role_conninfo (name, "meso_screening", role, sizeof role);
    snprintf (db, sizeof db, "--db=%s", role);
    snprintf (bind, sizeof bind, "--bind=%s", fx->screening_ep);
    const char *a1[] = { "meso-screening", db, bind, sch, inv, NULL };
    fx->screening_pid = mt_spawn ("bin/meso-screening", a1, NULL);
    mt_role_conninfo (name, "meso_inventory", role, sizeof role);
    snprintf (db, sizeof db, "--db=%s", role);
    snprintf (bind, sizeof bind, "--bind=%s", fx->inventory_ep);
    const char *a2[] = { "meso-inventory", db, bind, inv_ev, inv_evp, sch, NULL };
    fx->inventory_pid = mt_spawn ("bin/meso-inventory", a2, NULL);
    assert_true (fx->screening_pid > 0 && fx->inventory_pid > 0);
    for (int i = 0; i < nsched; i++)
        fx->sched_pid[i] = fx_spawn_scheduling (fx, i, NULL);
    assert_int_equal (mt_wait_healthy (fx->screening_ep, 10000), 0);
    assert_int_equal (mt_wait_healthy (fx->inventory_ep, 10000), 0);
    for (int i = 0; i < nsched; i++)
        assert_int_equal (mt_wait_healthy (fx->sched_ep[i], 10000), 0);
    fx->scr = mt_client (fx->screening_ep);
    fx->inv = mt_client (fx->inventory_ep);
    fx->sch = mt_client (all);
    fx->db = meso_db_new (fx->admin);
    assert_true (fx->scr && fx->inv && fx->sch && meso_db_ok (fx->db));
    return fx;
}

__attribute__ ((unused)) static fx_t *
fx_setup (const char *name, int nsched)
{
    return fx_setup_opt (name, nsched, false);
}

__attribute__ ((unused)) static fx_t *
fx_setup_events (const char *name, int nsched)
{
    return fx_setup_opt (name, nsched, true);
}

static void
fx_teardown (fx_t *fx)
{
    meso_bus_client_destroy (&fx->scr);
    meso_bus_client_destroy (&fx->inv);
    meso_bus_client_destroy (&fx->sch);
    meso_db_destroy (&fx->db);
    for (int i = 0; i < FX_MAX_SCHED; i++)
        if (fx->sched_pid[i] > 0)
            mt_stop (fx->sched_pid[i], SIGTERM);
    mt_stop (fx->inventory_pid, SIGTERM);
    mt_stop (fx->screening_pid, SIGTERM);
    if (fx->events_pid > 0)
        mt_stop (fx->events_pid, SIGTERM);
    free (fx);
}

/* Calls method on client c with a fresh key (key NULL) and waits. */
static int
fx_call (fx_t *fx, meso_bus_client_t *c, const char *method, const ProtobufCMessage *body,
         const char *key, meso_result_t *r)
{
    char k[64];
    if (!key) {
        snprintf (k, sizeof k, "fx-%d-%d", (int) getpid (), ++fx->key);
        key = k;
    }
    meso_result_reset (r);
    meso_bus_client_call (c, method, body, key, 15000, r);
    return r->status;
}

static int64_t
fx_sql (fx_t *fx, const char *sql, const char *p1)
{
    const char *params[] = { p1 };
    PGresult *res = meso_db_query (fx->db, sql, p1 ? 1 : 0, p1 ? params : NULL);
    if (!res)
        fail_msg ("SQL failed: %s: %s", sql, meso_db_error (fx->db)->message);
    int64_t v = PQntuples (res) && !PQgetisnull (res, 0, 0) ? strtoll (PQgetvalue (res, 0, 0), NULL, 10) : 0;
    PQclear (res);
    return v;
}

__attribute__ ((unused)) static bool
fx_has_reason (const meso_result_t *r, const char *code)
{
    if (!r->reply)
        return false;
    for (size_t i = 0; i < r->reply->n_reasons; i++)
        if (strcmp (r->reply->reasons[i]->code, code) == 0)
            return true;
    return false;
}

/* A clinic open every day 08:00-20:00 with one practitioner and one room
 * per id given, a recipe "lipo" (thighs: caffeine 100 mg, l_carnitine 50
 * mg) and, when stock is true, plenty of both. */
static void
fx_clinic (fx_t *fx, const char *clinic, const char *zone, const char *const *practs, int npract,
           const char *const *rooms, int nrooms, bool stock)
{
    meso_result_t r = { 0 };
    Meso__V1__DayHours h[7], *hp[7];
    for (int d = 0; d < 7; d++) {
        meso__v1__day_hours__init (&h[d]);
        h[d].weekday = d + 1;
        h[d].opens = "08:00";
        h[d].closes = "20:00";
        hp[d] = &h[d];
    }
    Meso__V1__Clinic c = MESO__V1__CLINIC__INIT;
    c.clinic_id = (char *) clinic;
    c.name = (char *) clinic;
    c.time_zone = (char *) zone;
    c.hours = hp;
    c.n_hours = 7;
    Meso__V1__UpsertClinicRequest cr = MESO__V1__UPSERT_CLINIC_REQUEST__INIT;
    cr.clinic = &c;
    assert_int_equal (fx_call (fx, fx->sch, "scheduling.UpsertClinic", &cr.base, NULL, &r), MESO_OK);
    for (int i = 0; i < npract; i++) {
        Meso__V1__PractitionerClinic pc = MESO__V1__PRACTITIONER_CLINIC__INIT;
        pc.clinic_id = (char *) clinic;
        pc.hours = hp;
        pc.n_hours = 7;
        Meso__V1__PractitionerClinic *pcp[] = { &pc };
        Meso__V1__Practitioner p = MESO__V1__PRACTITIONER__INIT;
        p.practitioner_id = (char *) practs[i];
        p.name = (char *) practs[i];
        p.clinics = pcp;
        p.n_clinics = 1;
        Meso__V1__UpsertPractitionerRequest pr = MESO__V1__UPSERT_PRACTITIONER_REQUEST__INIT;
        pr.practitioner = &p;
        assert_int_equal (fx_call (fx, fx->sch, "scheduling.UpsertPractitioner", &pr.base, NULL, &r), MESO_OK);
    }
    for (int i = 0; i < nrooms; i++) {
        Meso__V1__Room rm = MESO__V1__ROOM__INIT;
        rm.clinic_id = (char *) clinic;
        rm.room_id = (char *) rooms[i];
        rm.name = (char *) rooms[i];
        rm.active = true;
        Meso__V1__UpsertRoomRequest rr = MESO__V1__UPSERT_ROOM_REQUEST__INIT;
        rr.room = &rm;
        assert_int_equal (fx_call (fx, fx->sch, "scheduling.UpsertRoom", &rr.base, NULL, &r), MESO_OK);
    }
    /* Its consent text for the treatment scheduling books (version 1). */
    Meso__V1__SetConsentTextRequest ct = MESO__V1__SET_CONSENT_TEXT_REQUEST__INIT;
    ct.clinic_id = (char *) clinic;
    ct.treatment = "body_mesotherapy";
    ct.text = FX_CONSENT_TEXT;
    assert_int_equal (fx_call (fx, fx->scr, "screening.SetConsentText", &ct.base, NULL, &r), MESO_OK);
    if (fx->nclinics < FX_MAX_CLINICS)
        snprintf (fx->clinics[fx->nclinics++], sizeof fx->clinics[0], "%s", clinic);
    const char *ings[][2] = { { "caffeine", "mg" }, { "l_carnitine", "mg" } };
    for (int i = 0; i < 2; i++) {
        Meso__V1__Ingredient ing = MESO__V1__INGREDIENT__INIT;
        ing.code = (char *) ings[i][0];
        ing.name = (char *) ings[i][0];
        ing.unit = (Meso__V1__Unit) meso_enum_from_text (&meso__v1__unit__descriptor, ings[i][1]);
        Meso__V1__UpsertIngredientRequest ir = MESO__V1__UPSERT_INGREDIENT_REQUEST__INIT;
        ir.ingredient = &ing;
        assert_int_equal (fx_call (fx, fx->inv, "inventory.UpsertIngredient", &ir.base, NULL, &r), MESO_OK);
    }
    Meso__V1__RecipeLine l1 = MESO__V1__RECIPE_LINE__INIT, l2 = MESO__V1__RECIPE_LINE__INIT;
    l1.area = "thighs"; l1.ingredient_code = "caffeine"; l1.amount_milli = 100000;
    l2.area = "thighs"; l2.ingredient_code = "l_carnitine"; l2.amount_milli = 50000;
    Meso__V1__RecipeLine *lines[] = { &l1, &l2 };
    Meso__V1__UpsertRecipeRequest rq = MESO__V1__UPSERT_RECIPE_REQUEST__INIT;
    rq.recipe_id = "lipo";
    rq.name = "Lipolytic";
    rq.lines = lines;
    rq.n_lines = 2;
    assert_int_equal (fx_call (fx, fx->inv, "inventory.UpsertRecipe", &rq.base, NULL, &r), MESO_OK);
    if (stock) {
        char expiry[16];
        int32_t today = (int32_t) (meso_time_now_us () / INT64_C (86400000000));
        meso_date_format (today + 700, expiry, sizeof expiry);
        for (int i = 0; i < 2; i++) {
            Meso__V1__ReceiveRequest rv = MESO__V1__RECEIVE_REQUEST__INIT;
            rv.clinic_id = (char *) clinic;
            rv.ingredient_code = (char *) ings[i][0];
            rv.lot_number = i ? "LC-1" : "CAF-1";
            rv.expiry_date = expiry;
            rv.quantity_milli = INT64_C (100000000);     /* 100 g */
            assert_int_equal (fx_call (fx, fx->inv, "inventory.Receive", &rv.base, NULL, &r), MESO_OK);
        }
    }
    meso_result_reset (&r);
}

/* Signs version of clinic's body_mesotherapy consent for patient;
 * returns the status (r's reply is dropped). */
static int
fx_sign_consent (fx_t *fx, const char *patient, const char *clinic, uint32_t version)
{
    meso_result_t r = { 0 };
    Meso__V1__SignConsentRequest sc = MESO__V1__SIGN_CONSENT_REQUEST__INIT;
    sc.patient_id = (char *) patient;
    sc.clinic_id = (char *) clinic;
    sc.treatment = "body_mesotherapy";
    sc.version = version;
    sc.witness = "Nurse Fixture";
    int status = fx_call (fx, fx->scr, "screening.SignConsent", &sc.base, NULL, &r);
    meso_result_reset (&r);
    return status;
}

/* Registers and screens a patient, who signs the consent of every clinic
 * fx_clinic set up so far (clean answers; allergy and pregnancy
 * optional); writes the id (>= 40 bytes). */
static void
fx_patient (fx_t *fx, const char *clinic, const char *allergy, bool pregnant, char *id)
{
    meso_result_t r = { 0 };
    Meso__V1__Patient p = MESO__V1__PATIENT__INIT;
    p.given_name = "Ana";
    p.family_name = "Lopez";
    p.birth_date = "1990-05-04";
    p.sex = MESO__V1__SEX__SEX_FEMALE;
    p.home_clinic_id = (char *) clinic;
    Meso__V1__RegisterPatientRequest rq = MESO__V1__REGISTER_PATIENT_REQUEST__INIT;
    rq.patient = &p;
    assert_int_equal (fx_call (fx, fx->scr, "screening.RegisterPatient", &rq.base, NULL, &r), MESO_OK);
    size_t len;
    const uint8_t *body = meso_result_body (&r, &len);
    Meso__V1__RegisterPatientReply *rep = meso__v1__register_patient_reply__unpack (NULL, len, body);
    assert_non_null (rep);
    snprintf (id, 40, "%s", rep->patient->id);
    meso__v1__register_patient_reply__free_unpacked (rep, NULL);

    Meso__V1__Questionnaire q = MESO__V1__QUESTIONNAIRE__INIT;
    Meso__V1__Answer no = MESO__V1__ANSWER__ANSWER_NO;
    q.pregnancy = pregnant ? MESO__V1__ANSWER__ANSWER_YES : no;
    q.breastfeeding = q.diabetes = q.active_infection = no;
    q.septicaemia = q.immunocompromised = q.liver_failure = q.kidney_failure = no;
    q.coagulation_disorder = q.menstrual_disorder = q.cancer = no;
    q.heart_arrhythmia = q.blood_clots = no;
    q.height_mm = 1700;
    q.weight_g = 65000;
    Meso__V1__AreaGrade ag = MESO__V1__AREA_GRADE__INIT;
    ag.area = "thighs";
    ag.grade = 2;
    Meso__V1__AreaGrade *ags[] = { &ag };
    q.areas = ags;
    q.n_areas = 1;
    char *allergies[] = { (char *) allergy };
    if (allergy) {
        q.allergies = allergies;
        q.n_allergies = 1;
    }
    Meso__V1__RecordScreeningRequest sr = MESO__V1__RECORD_SCREENING_REQUEST__INIT;
    sr.patient_id = id;
    sr.clinic_id = (char *) clinic;
    sr.answers = &q;
    assert_int_equal (fx_call (fx, fx->scr, "screening.RecordScreening", &sr.base, NULL, &r), MESO_OK);
    meso_result_reset (&r);
    for (int i = 0; i < fx->nclinics; i++)
        fx_sign_consent (fx, id, fx->clinics[i], 1);
}

/* A day from today, "YYYY-MM-DD". */
__attribute__ ((unused)) static void
fx_day (int offset, char *out)
{
    int32_t today = (int32_t) (meso_time_now_us () / INT64_C (86400000000));
    meso_date_format (today + offset, out, 11);
}

/* Books one session; returns the status, writes the appointment id when
 * OK (appt may be NULL). */
__attribute__ ((unused)) static int
fx_book_session (fx_t *fx, meso_bus_client_t *c, const char *clinic, const char *patient,
                 const char *pract, const char *room, const char *local_start, int minutes,
                 char *appt, meso_result_t *r)
{
    Meso__V1__BookSessionRequest rq = MESO__V1__BOOK_SESSION_REQUEST__INIT;
    rq.clinic_id = (char *) clinic;
    rq.patient_id = (char *) patient;
    rq.practitioner_id = (char *) pract;
    rq.room_id = (char *) room;
    rq.local_start = (char *) local_start;
    rq.duration_minutes = (uint32_t) minutes;
    char *areas[] = { "thighs" };
    rq.areas = areas;
    rq.n_areas = 1;
    rq.recipe_id = "lipo";
    char key[80];
    snprintf (key, sizeof key, "book-%s-%s-%s", patient, local_start, pract);
    meso_result_reset (r);
    meso_bus_client_call (c, "scheduling.BookSession", &rq.base, key, 20000, r);
    if (r->status == MESO_OK && appt) {
        size_t len;
        const uint8_t *body = meso_result_body (r, &len);
        Meso__V1__BookCourseReply *out = meso__v1__book_course_reply__unpack (NULL, len, body);
        assert_non_null (out);
        assert_int_equal (out->course->n_sessions, 1);
        snprintf (appt, 40, "%s", out->course->sessions[0]->appointment_id);
        meso__v1__book_course_reply__free_unpacked (out, NULL);
    }
    return r->status;
}

/* No two active appointments overlap, by practitioner, room or patient. */
__attribute__ ((unused)) static int64_t
fx_overlaps (fx_t *fx)
{
    return fx_sql (fx,
        "SELECT count(*) FROM scheduling.appointment a JOIN scheduling.appointment b"
        " ON a.appointment_id < b.appointment_id AND a.during && b.during"
        " AND (a.practitioner_id = b.practitioner_id OR (a.clinic_id = b.clinic_id AND a.room_id = b.room_id)"
        "      OR a.patient_id = b.patient_id)"
        " WHERE a.status IN ('pending','booked','started','completed')"
        "   AND b.status IN ('pending','booked','started','completed')", NULL);
}

/* Every booking complete or absent: no pending course; every booked
 * appointment holds stock; no stock held for an appointment that is not
 * booked. */
__attribute__ ((unused)) static void
fx_check_complete_or_absent (fx_t *fx)
{
    assert_int_equal (fx_sql (fx, "SELECT count(*) FROM scheduling.course WHERE status = 'pending'", NULL), 0);
    assert_int_equal (fx_sql (fx, "SELECT count(*) FROM scheduling.appointment WHERE status = 'pending'", NULL), 0);
    assert_int_equal (fx_sql (fx,
        "SELECT count(*) FROM scheduling.appointment a WHERE a.status = 'booked' AND NOT EXISTS"
        " (SELECT 1 FROM inventory.reservation r WHERE r.clinic_id = a.clinic_id"
        "  AND r.appointment_id = a.appointment_id AND r.status = 'held')", NULL), 0);
    assert_int_equal (fx_sql (fx,
        "SELECT count(*) FROM inventory.reservation r WHERE r.status = 'held' AND NOT EXISTS"
        " (SELECT 1 FROM scheduling.appointment a WHERE a.clinic_id = r.clinic_id"
        "  AND a.appointment_id = r.appointment_id AND a.status = 'booked')", NULL), 0);
    /* a booked course has all its sessions booked */
    assert_int_equal (fx_sql (fx,
        "SELECT count(*) FROM scheduling.course c WHERE c.status = 'booked' AND c.sessions <>"
        " (SELECT count(*) FROM scheduling.appointment a WHERE a.course_id = c.course_id"
        "  AND a.status = 'booked')", NULL), 0);
    assert_int_equal (fx_overlaps (fx), 0);
}

#endif
