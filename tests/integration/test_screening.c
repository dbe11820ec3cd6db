/* test_screening.c -- the screening daemon end to end: real PostgreSQL
 * (migrated with deploy/sql), a real meso-screening connected as its own
 * role meso_screening, real sockets.
 *
 * A screening recorded through the daemon comes back with the same
 * verdict; Check refuses an expired screening and, after a reported
 * pregnancy, a patient who was cleared before; bad input gets
 * INVALID_ARGUMENT naming the field and stores nothing; a retried
 * RegisterPatient creates one patient; the events are in the outbox.
 * A real meso-inventory runs beside it: allergies and cocktails are
 * checked against its ingredient catalogue, the one of the chain. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture_patient.h"
#include "harness.h"
#include "meso/bus.h"
#include "meso/db.h"
#include "meso/mtime.h"
#include "events.pb-c.h"
#include "inventory.pb-c.h"
#include "screening.pb-c.h"

static char s_admin[512];
static char s_endpoint[256];
static pid_t s_pid, s_inv_pid;
static meso_bus_client_t *s_client;
static meso_db_t *s_db;
static int32_t s_today;

static int
s_setup (void **state)
{
    if (mt_db_create ("screening_it", s_admin, sizeof s_admin) != 0)
        return -1;
    char role[512], dbarg[600], bind[300];
    mt_role_conninfo ("screening_it", "meso_screening", role, sizeof role);
    mt_ipc_endpoint ("screening", s_endpoint, sizeof s_endpoint);
    snprintf (dbarg, sizeof dbarg, "--db=%s", role);
    snprintf (bind, sizeof bind, "--bind=%s", s_endpoint);
    /* The ingredient catalogue's owner, which screening asks about codes
     * it has not seen. */
    char inv_role[512], inv_db[600], inv_ep[256], inv_bind[300], inv_arg[300];
    mt_role_conninfo ("screening_it", "meso_inventory", inv_role, sizeof inv_role);
    mt_ipc_endpoint ("inventory", inv_ep, sizeof inv_ep);
    snprintf (inv_db, sizeof inv_db, "--db=%s", inv_role);
    snprintf (inv_bind, sizeof inv_bind, "--bind=%s", inv_ep);
    snprintf (inv_arg, sizeof inv_arg, "--inventory=%s", inv_ep);
    const char *iargv[] = { "meso-inventory", inv_db, inv_bind, "--scheduling=", "--events=", NULL };
    s_inv_pid = mt_spawn ("bin/meso-inventory", iargv, NULL);
    if (s_inv_pid <= 0 || mt_wait_healthy (inv_ep, 10000) != 0)
        return -1;
    /* No scheduling here: clinic ids are checked for syntax only. */
    const char *argv[] = { "meso-screening", dbarg, bind, "--scheduling=", inv_arg, NULL };
    s_pid = mt_spawn ("bin/meso-screening", argv, NULL);
    if (s_pid <= 0 || mt_wait_healthy (s_endpoint, 10000) != 0)
        return -1;
    /* The ingredients the tests name, in the catalogue. */
    meso_bus_client_t *inv = mt_client (inv_ep);
    const char *codes[] = { "caffeine", "l_carnitine", "artichoke_extract", "glycolic_acid", "lidocaine" };
    for (size_t i = 0; inv && i < sizeof codes / sizeof codes[0]; i++) {
        Meso__V1__Ingredient ing = MESO__V1__INGREDIENT__INIT;
        ing.code = ing.name = (char *) codes[i];
        ing.unit = MESO__V1__UNIT__UNIT_MG;
        Meso__V1__UpsertIngredientRequest ir = MESO__V1__UPSERT_INGREDIENT_REQUEST__INIT;
        ir.ingredient = &ing;
        char key[64];
        snprintf (key, sizeof key, "ingredient-%s", codes[i]);
        meso_result_t r = { 0 };
        int rc = meso_bus_client_call (inv, "inventory.UpsertIngredient", &ir.base, key, 5000, &r);
        meso_result_reset (&r);
        if (rc != 0)
            return -1;
    }
    meso_bus_client_destroy (&inv);
    s_client = mt_client (s_endpoint);
    s_db = meso_db_new (s_admin);
    int64_t us = meso_time_now_us ();
    s_today = (int32_t) (us / 86400000000LL);
    return s_client && s_db ? 0 : -1;
}

static int
s_teardown (void **state)
{
    meso_bus_client_destroy (&s_client);
    meso_db_destroy (&s_db);
    if (s_pid > 0)
        assert_int_equal (mt_stop (s_pid, SIGTERM), 0);
    if (s_inv_pid > 0)
        assert_int_equal (mt_stop (s_inv_pid, SIGTERM), 0);
    return 0;
}

/* ---------------------------------------------------------------- helpers */

static long
s_count (const char *sql)
{
    PGresult *res = meso_db_query (s_db, sql, 0, NULL);
    assert_non_null (res);
    long n = atol (PQgetvalue (res, 0, 0));
    PQclear (res);
    return n;
}

static void
s_date (int32_t days, char *buf)
{
    meso_date_format (days, buf, 16);
}

static int
s_call (const char *method, const ProtobufCMessage *body, const char *key, meso_result_t *r)
{
    meso_result_reset (r);
    return meso_bus_client_call (s_client, method, body, key, 5000, r);
}

static bool
s_has_reason (const meso_result_t *r, const char *code, const char *field)
{
    if (!r->reply)
        return false;
    for (size_t i = 0; i < r->reply->n_reasons; i++)
        if (strcmp (r->reply->reasons[i]->code, code) == 0
            && (!field || strcmp (r->reply->reasons[i]->field, field) == 0))
            return true;
    return false;
}

static int s_keyseq;

static const char *
s_key (char *buf)
{
    snprintf (buf, 64, "test-key-%d-%d", (int) getpid (), ++s_keyseq);
    return buf;
}

/* Registers a patient; writes its id. */
static void
s_register (const char *birth, const char *clinic, char *id_out)
{
    Meso__V1__Patient p = MESO__V1__PATIENT__INIT;
    p.given_name = "Ana";
    p.family_name = "Lopez";
    p.birth_date = (char *) birth;
    p.sex = MESO__V1__SEX__SEX_FEMALE;
    p.email = "ana@example.org";
    p.home_clinic_id = (char *) clinic;
    Meso__V1__RegisterPatientRequest rq = MESO__V1__REGISTER_PATIENT_REQUEST__INIT;
    rq.patient = &p;
    meso_result_t r = { 0 };
    char key[64];
    assert_int_equal (s_call ("screening.RegisterPatient", &rq.base, s_key (key), &r), 0);
    size_t len;
    const uint8_t *body = meso_result_body (&r, &len);
    Meso__V1__RegisterPatientReply *rep = meso__v1__register_patient_reply__unpack (NULL, len, body);
    assert_non_null (rep);
    assert_int_equal (strlen (rep->patient->id), 36);
    assert_string_equal (rep->patient->birth_date, birth);
    strcpy (id_out, rep->patient->id);
    meso__v1__register_patient_reply__free_unpacked (rep, NULL);
    meso_result_reset (&r);
}

/* A clean questionnaire: mt_answers_eligible (everything answered no,
 * 1.70 m, 65 kg, grade 2 thighs), with diet and exercise answered yes. */
typedef struct {
    mt_answers_t e;
    char *allergies[4];
    char *meds[2];
} s_answers_t;

static void
s_answers (s_answers_t *a)
{
    mt_answers_eligible (&a->e, 2);
    a->e.q.diet = MESO__V1__ANSWER__ANSWER_YES;
    a->e.q.exercise = MESO__V1__ANSWER__ANSWER_YES;
}

/* Records a screening; returns the unpacked reply (caller frees) or NULL
 * with r holding the error. */
static Meso__V1__RecordScreeningReply *
s_record (const char *patient, s_answers_t *a, meso_result_t *r)
{
    Meso__V1__RecordScreeningRequest rq = MESO__V1__RECORD_SCREENING_REQUEST__INIT;
    rq.patient_id = (char *) patient;
    rq.answers = &a->e.q;
    char key[64];
    if (s_call ("screening.RecordScreening", &rq.base, s_key (key), r) != 0)
        return NULL;
    size_t len;
    const uint8_t *body = meso_result_body (r, &len);
    return meso__v1__record_screening_reply__unpack (NULL, len, body);
}

static int
s_check (const char *patient, const char *const *ingredients, size_t n, int32_t day,
         meso_result_t *r)
{
    char date[16];
    s_date (day, date);
    Meso__V1__CheckRequest rq = MESO__V1__CHECK_REQUEST__INIT;
    rq.patient_id = (char *) patient;
    rq.n_ingredients = n;
    rq.ingredients = (char **) ingredients;
    rq.date = date;
    return s_call ("screening.Check", &rq.base, NULL, r);
}

static Meso__V1__GetScreeningReply *
s_get (const char *patient)
{
    Meso__V1__GetScreeningRequest rq = MESO__V1__GET_SCREENING_REQUEST__INIT;
    rq.patient_id = (char *) patient;
    meso_result_t r = { 0 };
    assert_int_equal (s_call ("screening.GetScreening", &rq.base, NULL, &r), 0);
    size_t len;
    const uint8_t *body = meso_result_body (&r, &len);
    Meso__V1__GetScreeningReply *g = meso__v1__get_screening_reply__unpack (NULL, len, body);
    meso_result_reset (&r);
    assert_non_null (g);
    return g;
}

static const char *const s_cocktail[] = { "caffeine", "l_carnitine", "artichoke_extract" };

/* ------------------------------------------------------------------ tests */

static void
test_screening_round_trip (void **state)
{
    char id[64];
    s_register ("1990-05-10", "clinic-a", id);
    s_answers_t a;
    s_answers (&a);
    a.allergies[0] = "glycolic_acid";
    a.allergies[1] = "lidocaine";
    a.e.q.n_allergies = 2;
    a.e.q.allergies = a.allergies;
    a.meds[0] = "levothyroxine 50ug";
    a.e.q.n_medications = 1;
    a.e.q.medications = a.meds;
    meso_result_t r = { 0 };
    Meso__V1__RecordScreeningReply *rec = s_record (id, &a, &r);
    assert_non_null (rec);
    Meso__V1__Screening *sc = rec->screening;
    assert_int_equal (sc->verdict, MESO__V1__VERDICT__VERDICT_ELIGIBLE_WITH_PRECAUTIONS);
    assert_int_equal (sc->n_reasons, 2);                 /* medication, allergies */
    assert_int_equal (sc->course->min_sessions, 10);
    assert_int_equal (sc->course->max_sessions, 15);
    assert_true (sc->n_instructions >= 4);
    char until[16];
    s_date (s_today + 180, until);
    assert_string_equal (sc->valid_until, until);

    Meso__V1__GetScreeningReply *g = s_get (id);
    assert_non_null (g->current);
    assert_string_equal (g->current->id, sc->id);
    assert_int_equal (g->current->verdict, sc->verdict);
    assert_int_equal (g->current->n_reasons, sc->n_reasons);
    for (size_t i = 0; i < sc->n_reasons; i++) {
        assert_string_equal (g->current->reasons[i]->code, sc->reasons[i]->code);
        assert_string_equal (g->current->reasons[i]->message, sc->reasons[i]->message);
    }
    assert_int_equal (g->current->answers->n_allergies, 2);
    assert_string_equal (g->current->answers->medications[0], "levothyroxine 50ug");
    assert_int_equal (g->n_history, 1);
    assert_false (g->outdated);
    assert_string_equal (g->patient->home_clinic_id, "clinic-a");

    /* The allergy is checked against the recipe. */
    assert_int_equal (s_check (id, s_cocktail, 3, s_today + 10, &r), 0);
    size_t len;
    const uint8_t *body = meso_result_body (&r, &len);
    Meso__V1__CheckReply *ok = meso__v1__check_reply__unpack (NULL, len, body);
    assert_non_null (ok);
    assert_true (ok->allowed);
    assert_string_equal (ok->screening_id, sc->id);
    assert_true (ok->n_instructions >= 4);
    meso__v1__check_reply__free_unpacked (ok, NULL);
    const char *with_lidocaine[] = { "caffeine", "lidocaine" };
    assert_int_equal (s_check (id, with_lidocaine, 2, s_today + 10, &r), -1);
    assert_int_equal (r.status, MESO_FAILED_PRECONDITION);
    assert_true (s_has_reason (&r, "allergy", "ingredients[1]"));
    assert_int_equal (r.reply->n_reasons, 1);
    /* a clinic id past its limit is refused before anything is read */
    {
        char date[16], longid[70];
        s_date (s_today + 10, date);
        memset (longid, 'c', 65);
        longid[65] = '\0';
        Meso__V1__CheckRequest ck = MESO__V1__CHECK_REQUEST__INIT;
        ck.patient_id = id;
        ck.n_ingredients = 3;
        ck.ingredients = (char **) s_cocktail;
        ck.date = date;
        ck.clinic_id = longid;
        s_call ("screening.Check", &ck.base, NULL, &r);
        assert_int_equal (r.status, MESO_INVALID_ARGUMENT);
        assert_true (s_has_reason (&r, "too_long", "clinic_id"));
    }

    /* The events carry the verdict. */
    char sql[256];
    snprintf (sql, sizeof sql, "SELECT count(*) FROM events.outbox WHERE type = 'screening.completed'");
    assert_true (s_count (sql) >= 1);
    PGresult *res = meso_db_query (s_db, "SELECT payload FROM events.outbox"
                                         " WHERE type = 'screening.completed' ORDER BY id", 0, NULL);
    assert_non_null (res);
    bool seen = false;
    for (int i = 0; i < PQntuples (res); i++) {
        size_t plen;
        uint8_t *raw = PQunescapeBytea ((const unsigned char *) PQgetvalue (res, i, 0), &plen);
        Meso__V1__Event *ev = meso__v1__event__unpack (NULL, plen, raw);
        PQfreemem (raw);
        assert_non_null (ev);
        assert_int_equal (ev->payload_case, MESO__V1__EVENT__PAYLOAD_SCREENING_COMPLETED);
        if (strcmp (ev->screening_completed->screening_id, sc->id) == 0) {
            seen = true;
            assert_string_equal (ev->screening_completed->patient_id, id);
            assert_int_equal (ev->screening_completed->verdict, sc->verdict);
            assert_int_equal (ev->screening_completed->n_reasons, 2);
            assert_string_equal (ev->clinic_id, "clinic-a");
        }
        meso__v1__event__free_unpacked (ev, NULL);
    }
    PQclear (res);
    assert_true (seen);

    meso__v1__get_screening_reply__free_unpacked (g, NULL);
    meso__v1__record_screening_reply__free_unpacked (rec, NULL);
    meso_result_reset (&r);
}

static void
test_expired_screening_is_refused (void **state)
{
    /* A clinic whose screenings are valid for 1 day. */
    Meso__V1__ClinicSettings cs = MESO__V1__CLINIC_SETTINGS__INIT;
    cs.clinic_id = "clinic-short";
    cs.validity_days = 1;
    Meso__V1__SetClinicSettingsRequest sr = MESO__V1__SET_CLINIC_SETTINGS_REQUEST__INIT;
    sr.settings = &cs;
    meso_result_t r = { 0 };
    char key[64];
    assert_int_equal (s_call ("screening.SetClinicSettings", &sr.base, s_key (key), &r), 0);

    char id[64];
    s_register ("1985-01-15", "clinic-short", id);
    s_answers_t a;
    s_answers (&a);
    Meso__V1__RecordScreeningReply *rec = s_record (id, &a, &r);
    assert_non_null (rec);
    assert_int_equal (rec->screening->verdict, MESO__V1__VERDICT__VERDICT_ELIGIBLE);
    assert_int_equal (rec->screening->settings->validity_days, 1);
    assert_int_equal (rec->screening->settings->max_age, 70);
    meso__v1__record_screening_reply__free_unpacked (rec, NULL);

    assert_int_equal (s_check (id, s_cocktail, 3, s_today + 1, &r), 0);
    assert_int_equal (s_check (id, s_cocktail, 3, s_today + 2, &r), -1);
    assert_int_equal (r.status, MESO_FAILED_PRECONDITION);
    assert_true (s_has_reason (&r, "screening_expired", "date"));

    /* A patient never screened. */
    char other[64];
    s_register ("1985-01-15", "clinic-a", other);
    assert_int_equal (s_check (other, s_cocktail, 3, s_today, &r), -1);
    assert_true (s_has_reason (&r, "no_screening", NULL));
    meso_result_reset (&r);
}

static void
test_reported_pregnancy_makes_check_refuse (void **state)
{
    char id[64];
    s_register ("1992-07-01", "clinic-a", id);
    s_answers_t a;
    s_answers (&a);
    meso_result_t r = { 0 };
    Meso__V1__RecordScreeningReply *rec = s_record (id, &a, &r);
    assert_non_null (rec);
    meso__v1__record_screening_reply__free_unpacked (rec, NULL);
    /* Cleared for a session in two weeks (as when the course was booked). */
    assert_int_equal (s_check (id, s_cocktail, 3, s_today + 14, &r), 0);

    long events_before = s_count ("SELECT count(*) FROM events.outbox WHERE type = 'screening.patient_changed'");
    char *changes[] = { "pregnancy" };
    Meso__V1__ReportChangeRequest cr = MESO__V1__REPORT_CHANGE_REQUEST__INIT;
    cr.patient_id = id;
    cr.n_changes = 1;
    cr.changes = changes;
    cr.note = "reported by phone";
    char key[64];
    assert_int_equal (s_call ("screening.ReportChange", &cr.base, s_key (key), &r), 0);
    assert_int_equal (s_count ("SELECT count(*) FROM events.outbox WHERE type = 'screening.patient_changed'"),
                      events_before + 1);
    PGresult *res = meso_db_query (s_db, "SELECT payload FROM events.outbox"
                                         " WHERE type = 'screening.patient_changed' ORDER BY id DESC LIMIT 1",
                                   0, NULL);
    size_t plen;
    uint8_t *raw = PQunescapeBytea ((const unsigned char *) PQgetvalue (res, 0, 0), &plen);
    Meso__V1__Event *ev = meso__v1__event__unpack (NULL, plen, raw);
    PQfreemem (raw);
    PQclear (res);
    assert_non_null (ev);
    assert_string_equal (ev->patient_changed->patient_id, id);
    assert_true (ev->patient_changed->ineligible);
    assert_string_equal (ev->patient_changed->changed[0], "pregnancy");
    meso__v1__event__free_unpacked (ev, NULL);

    /* The same session is now refused, with the reason. */
    assert_int_equal (s_check (id, s_cocktail, 3, s_today + 14, &r), -1);
    assert_int_equal (r.status, MESO_FAILED_PRECONDITION);
    assert_true (s_has_reason (&r, "pregnancy", NULL));
    assert_true (s_has_reason (&r, "change_reported", NULL));
    Meso__V1__GetScreeningReply *g = s_get (id);
    assert_true (g->outdated);
    assert_int_equal (g->n_changes, 1);
    assert_string_equal (g->changes[0]->changes[0], "pregnancy");
    meso__v1__get_screening_reply__free_unpacked (g, NULL);

    /* A new screening answering the pregnancy: a new dated record,
     * ineligible; the old one stays in the history. */
    a.e.q.pregnancy = MESO__V1__ANSWER__ANSWER_YES;
    rec = s_record (id, &a, &r);
    assert_non_null (rec);
    assert_int_equal (rec->screening->verdict, MESO__V1__VERDICT__VERDICT_INELIGIBLE);
    meso__v1__record_screening_reply__free_unpacked (rec, NULL);
    g = s_get (id);
    assert_int_equal (g->n_history, 2);
    assert_false (g->outdated);
    assert_int_equal (g->history[0]->verdict, MESO__V1__VERDICT__VERDICT_INELIGIBLE);
    assert_int_equal (g->history[1]->verdict, MESO__V1__VERDICT__VERDICT_ELIGIBLE);
    meso__v1__get_screening_reply__free_unpacked (g, NULL);
    assert_int_equal (s_check (id, s_cocktail, 3, s_today + 14, &r), -1);
    assert_true (s_has_reason (&r, "pregnancy", "answers.pregnancy"));
    assert_false (s_has_reason (&r, "change_reported", NULL));
    meso_result_reset (&r);
}

static long
s_rows (void)
{
    return s_count ("SELECT (SELECT count(*) FROM screening.patients)"
                    " + (SELECT count(*) FROM screening.screenings)"
                    " + (SELECT count(*) FROM screening.screening_areas)"
                    " + (SELECT count(*) FROM screening.screening_allergies)"
                    " + (SELECT count(*) FROM screening.idempotency)"
                    " + (SELECT count(*) FROM events.outbox)");
}

static void
test_bad_input_is_named_and_stores_nothing (void **state)
{
    char id[64];
    s_register ("1980-02-02", "clinic-a", id);
    long before = s_rows ();
    meso_result_t r = { 0 };
    char key[64];

    /* A birth date in the future. */
    char future[16];
    s_date (s_today + 30, future);
    Meso__V1__Patient p = MESO__V1__PATIENT__INIT;
    p.given_name = "Future";
    p.family_name = "Baby";
    p.birth_date = future;
    p.home_clinic_id = "clinic-a";
    Meso__V1__RegisterPatientRequest rp = MESO__V1__REGISTER_PATIENT_REQUEST__INIT;
    rp.patient = &p;
    assert_int_equal (s_call ("screening.RegisterPatient", &rp.base, s_key (key), &r), -1);
    assert_int_equal (r.status, MESO_INVALID_ARGUMENT);
    assert_true (s_has_reason (&r, "out_of_range", "patient.birth_date"));

    s_answers_t a;
    /* An unknown ingredient code among known ones. */
    s_answers (&a);
    a.allergies[0] = "caffeine";
    a.allergies[1] = "unicorn_dust";
    a.e.q.n_allergies = 2;
    a.e.q.allergies = a.allergies;
    assert_null (s_record (id, &a, &r));
    assert_int_equal (r.status, MESO_INVALID_ARGUMENT);
    assert_true (s_has_reason (&r, "unknown_ingredient", "answers.allergies[1]"));
    assert_int_equal (r.reply->n_reasons, 1);
    /* Grade 4. */
    s_answers (&a);
    a.e.area.grade = 4;
    assert_null (s_record (id, &a, &r));
    assert_int_equal (r.status, MESO_INVALID_ARGUMENT);
    assert_true (s_has_reason (&r, "out_of_range", "answers.areas[0].grade"));
    /* A negative weight. */
    s_answers (&a);
    a.e.q.weight_g = -65000;
    assert_null (s_record (id, &a, &r));
    assert_int_equal (r.status, MESO_INVALID_ARGUMENT);
    assert_true (s_has_reason (&r, "out_of_range", "answers.weight_g"));
    /* Missing answers: pregnancy and height; everything wrong at once. */
    s_answers (&a);
    a.e.q.pregnancy = MESO__V1__ANSWER__ANSWER_UNSPECIFIED;
    a.e.q.height_mm = 0;
    a.e.q.weight_g = -1;
    assert_null (s_record (id, &a, &r));
    assert_int_equal (r.status, MESO_INVALID_ARGUMENT);
    assert_true (s_has_reason (&r, "missing_answer", "answers.pregnancy"));
    assert_true (s_has_reason (&r, "missing_answer", "answers.height_mm"));
    assert_true (s_has_reason (&r, "out_of_range", "answers.weight_g"));
    /* No questionnaire at all; a patient id that is not a UUID. */
    Meso__V1__RecordScreeningRequest rq = MESO__V1__RECORD_SCREENING_REQUEST__INIT;
    rq.patient_id = "42";
    assert_int_equal (s_call ("screening.RecordScreening", &rq.base, s_key (key), &r), -1);
    assert_int_equal (r.status, MESO_INVALID_ARGUMENT);
    assert_true (s_has_reason (&r, "missing_field", "answers"));
    assert_true (s_has_reason (&r, "invalid_id", "patient_id"));
    /* Check with an unknown ingredient and a bad date. */
    const char *bad[] = { "caffeine", "snake_oil" };
    Meso__V1__CheckRequest ck = MESO__V1__CHECK_REQUEST__INIT;
    ck.patient_id = id;
    ck.n_ingredients = 2;
    ck.ingredients = (char **) bad;
    ck.date = "2026-13-01";
    assert_int_equal (s_call ("screening.Check", &ck.base, NULL, &r), -1);
    assert_int_equal (r.status, MESO_INVALID_ARGUMENT);
    assert_true (s_has_reason (&r, "unknown_ingredient", "ingredients[1]"));
    assert_true (s_has_reason (&r, "invalid_date", "date"));
    /* An unknown patient. */
    s_answers (&a);
    assert_null (s_record ("00000000-0000-4000-8000-000000000000", &a, &r));
    assert_int_equal (r.status, MESO_NOT_FOUND);
    /* A mutating call without an idempotency key. */
    rq.patient_id = id;
    rq.answers = &a.e.q;
    assert_int_equal (s_call ("screening.RecordScreening", &rq.base, NULL, &r), -1);
    assert_int_equal (r.status, MESO_INVALID_ARGUMENT);

    assert_int_equal (s_rows (), before);
    meso_result_reset (&r);
}

static void
test_register_twice_with_one_key_creates_one_patient (void **state)
{
    long before = s_count ("SELECT count(*) FROM screening.patients");
    Meso__V1__Patient p = MESO__V1__PATIENT__INIT;
    p.given_name = "Retry";
    p.family_name = "Twice";
    p.birth_date = "1975-12-31";
    p.home_clinic_id = "clinic-b";
    Meso__V1__RegisterPatientRequest rq = MESO__V1__REGISTER_PATIENT_REQUEST__INIT;
    rq.patient = &p;
    meso_result_t r1 = { 0 }, r2 = { 0 };
    assert_int_equal (s_call ("screening.RegisterPatient", &rq.base, "register-once-1", &r1), 0);
    assert_int_equal (s_call ("screening.RegisterPatient", &rq.base, "register-once-1", &r2), 0);
    assert_false (r1.reply->replayed);
    assert_true (r2.reply->replayed);
    size_t l1, l2;
    const uint8_t *b1 = meso_result_body (&r1, &l1), *b2 = meso_result_body (&r2, &l2);
    Meso__V1__RegisterPatientReply *p1 = meso__v1__register_patient_reply__unpack (NULL, l1, b1);
    Meso__V1__RegisterPatientReply *p2 = meso__v1__register_patient_reply__unpack (NULL, l2, b2);
    assert_string_equal (p1->patient->id, p2->patient->id);
    assert_int_equal (s_count ("SELECT count(*) FROM screening.patients"), before + 1);

    /* The same key with another request is refused. */
    p.given_name = "Other";
    assert_int_equal (s_call ("screening.RegisterPatient", &rq.base, "register-once-1", &r2), -1);
    assert_int_equal (r2.status, MESO_FAILED_PRECONDITION);
    assert_int_equal (s_count ("SELECT count(*) FROM screening.patients"), before + 1);

    /* An update emits patient_changed naming the fields. */
    Meso__V1__Patient up = MESO__V1__PATIENT__INIT;
    up.id = p1->patient->id;
    up.phone = "+1 555 0100";
    up.home_clinic_id = "clinic-c";
    Meso__V1__UpdatePatientRequest ur = MESO__V1__UPDATE_PATIENT_REQUEST__INIT;
    ur.patient = &up;
    char key[64];
    assert_int_equal (s_call ("screening.UpdatePatient", &ur.base, s_key (key), &r2), 0);
    size_t len;
    const uint8_t *body = meso_result_body (&r2, &len);
    Meso__V1__UpdatePatientReply *u = meso__v1__update_patient_reply__unpack (NULL, len, body);
    assert_non_null (u);
    assert_int_equal (u->n_changed, 2);
    assert_string_equal (u->patient->home_clinic_id, "clinic-c");
    assert_string_equal (u->patient->given_name, "Retry");
    meso__v1__update_patient_reply__free_unpacked (u, NULL);
    assert_int_equal (s_count ("SELECT count(*) FROM events.outbox WHERE type = 'screening.patient_changed'"
                               " AND clinic_id = 'clinic-c'"), 1);

    meso__v1__register_patient_reply__free_unpacked (p1, NULL);
    meso__v1__register_patient_reply__free_unpacked (p2, NULL);
    meso_result_reset (&r1);
    meso_result_reset (&r2);
}

static void
test_screenings_cannot_be_rewritten (void **state)
{
    /* Even the service's own role cannot overwrite a screening. */
    char role[512];
    mt_role_conninfo ("screening_it", "meso_screening", role, sizeof role);
    meso_db_t *db = meso_db_new (role);
    assert_true (meso_db_ok (db));
    assert_int_not_equal (meso_db_exec (db, "UPDATE screening.screenings SET verdict = 'eligible'", 0, NULL), 0);
    assert_int_not_equal (meso_db_exec (db, "DELETE FROM screening.screenings", 0, NULL), 0);
    meso_db_destroy (&db);
    assert_int_not_equal (meso_db_exec (s_db, "UPDATE screening.screenings SET verdict = 'eligible'", 0, NULL), 0);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_screening_round_trip),
        cmocka_unit_test (test_expired_screening_is_refused),
        cmocka_unit_test (test_reported_pregnancy_makes_check_refuse),
        cmocka_unit_test (test_bad_input_is_named_and_stores_nothing),
        cmocka_unit_test (test_register_twice_with_one_key_creates_one_patient),
        cmocka_unit_test (test_screenings_cannot_be_rewritten),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
