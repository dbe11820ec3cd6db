/* test_vault.c -- personal and health data sealed under per-patient keys,
 * and erasure by destroying the key, with the real daemons (screening,
 * scheduling, inventory, billing, events) over real sockets.
 *
 * One patient goes through everything that stores something about them
 * (registration with contact details, a screening with a declared
 * medication, a reported change with a note, a completed session with
 * clinical notes and its invoice, a cancelled session with a reason),
 * then is erased:
 * - before: erasure is refused while a session is booked, without a
 *   reason, and for a principal without the operator role;
 * - after: reads answer placeholders with `erased`; none of the unique
 *   strings appears in the raw bytes of any table of the database (read
 *   as the superuser, bytea included), events tables too; every balance
 *   and stock total is what it was; billing and inventory consume a later
 *   session of another patient; RecordScreening and BookSession refuse
 *   the erased id ("patient erased: register again") and a new
 *   registration of the same person screens and books;
 * - the health split of the event log: the inventory and billing roles
 *   cannot select events.log_health or vault.patient_keys; a principal
 *   with health access replays screening reasons, a front-desk one gets
 *   them stripped; the erased patient's reasons are gone for both. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "scheduling_fixture.h"
#include "events.pb-c.h"
#include "billing.pb-c.h"

#define S_CLINIC "par"
#define S_GIVEN "Zephyrine"
#define S_FAMILY "Quorvath"
#define S_PHONE "+33699887766"
#define S_EMAIL "zq.unique@example.org"
#define S_MEDICATION "Xylofenac-secret"
#define S_NOTE "note-Brachylith"
#define S_NOTES "clinical-Vexorin"
#define S_CANCEL "cancel-Quorvane"

static const char *const s_practs[] = { "dr-a" };
static const char *const s_rooms[] = { "room-1" };

typedef struct {
    fx_t *fx;
    char billing_ep[256];
    pid_t billing_pid;
    meso_bus_client_t *bil;
} s_env_t;

static s_env_t *
s_setup (const char *name)
{
    s_env_t *e = calloc (1, sizeof *e);
    assert_non_null (e);
    e->fx = fx_setup_events (name, 1);
    fx_t *fx = e->fx;
    char role[512], db[600], bind[300], ev[300], evp[300];
    mt_ipc_endpoint ("bil", e->billing_ep, sizeof e->billing_ep);
    mt_role_conninfo (fx->dbname, "meso_billing", role, sizeof role);
    snprintf (db, sizeof db, "--db=%s", role);
    snprintf (bind, sizeof bind, "--bind=%s", e->billing_ep);
    snprintf (ev, sizeof ev, "--events=%s", fx->events_router);
    snprintf (evp, sizeof evp, "--events-pub=%s", fx->events_pub);
    const char *argv[] = { "meso-billing", db, bind, ev, evp, "--scheduling=", NULL };
    e->billing_pid = mt_spawn ("bin/meso-billing", argv, NULL);
    assert_true (e->billing_pid > 0);
    assert_int_equal (mt_wait_healthy (e->billing_ep, 10000), 0);
    e->bil = mt_client (e->billing_ep);
    assert_non_null (e->bil);
    fx_clinic (fx, S_CLINIC, "UTC", s_practs, 1, s_rooms, 1, true);
    /* A price for one area from yesterday on. */
    Meso__V1__PriceEntry pe = MESO__V1__PRICE_ENTRY__INIT, *pep[] = { &pe };
    pe.areas = 1;
    pe.price_cents = 35000;
    char from[16];
    fx_day (-1, from);
    Meso__V1__PriceList pl = MESO__V1__PRICE_LIST__INIT;
    pl.clinic_id = S_CLINIC;
    pl.effective_from = from;
    pl.prices = pep;
    pl.n_prices = 1;
    Meso__V1__SetPriceListRequest rq = MESO__V1__SET_PRICE_LIST_REQUEST__INIT;
    rq.price_list = &pl;
    meso_result_t r = { 0 };
    assert_int_equal (fx_call (fx, e->bil, "billing.SetPriceList", &rq.base, NULL, &r), MESO_OK);
    meso_result_reset (&r);
    return e;
}

static void
s_teardown (s_env_t *e)
{
    meso_bus_client_destroy (&e->bil);
    mt_stop (e->billing_pid, SIGTERM);
    fx_teardown (e->fx);
    free (e);
}

/* Registers the patient of the unique strings; id into id (>= 40). */
static void
s_register (fx_t *fx, char *id)
{
    meso_result_t r = { 0 };
    Meso__V1__Patient p = MESO__V1__PATIENT__INIT;
    p.given_name = S_GIVEN;
    p.family_name = S_FAMILY;
    p.birth_date = "1988-02-29";
    p.sex = MESO__V1__SEX__SEX_FEMALE;
    p.phone = S_PHONE;
    p.email = S_EMAIL;
    p.home_clinic_id = S_CLINIC;
    Meso__V1__RegisterPatientRequest rq = MESO__V1__REGISTER_PATIENT_REQUEST__INIT;
    rq.patient = &p;
    assert_int_equal (fx_call (fx, fx->scr, "screening.RegisterPatient", &rq.base, NULL, &r), MESO_OK);
    size_t len;
    const uint8_t *body = meso_result_body (&r, &len);
    Meso__V1__RegisterPatientReply *rep = meso__v1__register_patient_reply__unpack (NULL, len, body);
    assert_non_null (rep);
    assert_string_equal (rep->patient->given_name, S_GIVEN);
    assert_false (rep->patient->erased);
    snprintf (id, 40, "%s", rep->patient->id);
    meso__v1__register_patient_reply__free_unpacked (rep, NULL);
    meso_result_reset (&r);
}

/* Screens patient id (eligible, one declared medication); the status. */
static int
s_screen (fx_t *fx, const char *id, meso_result_t *r)
{
    Meso__V1__Questionnaire q = MESO__V1__QUESTIONNAIRE__INIT;
    Meso__V1__Answer no = MESO__V1__ANSWER__ANSWER_NO;
    q.pregnancy = q.breastfeeding = q.diabetes = q.active_infection = no;
    q.septicaemia = q.immunocompromised = q.liver_failure = q.kidney_failure = no;
    q.coagulation_disorder = q.menstrual_disorder = q.cancer = no;
    q.heart_arrhythmia = q.blood_clots = no;
    q.height_mm = 1680;
    q.weight_g = 61000;
    char *meds[] = { S_MEDICATION };
    q.medications = meds;
    q.n_medications = 1;
    Meso__V1__AreaGrade ag = MESO__V1__AREA_GRADE__INIT, *ags[] = { &ag };
    ag.area = "thighs";
    ag.grade = 2;
    q.areas = ags;
    q.n_areas = 1;
    Meso__V1__RecordScreeningRequest sr = MESO__V1__RECORD_SCREENING_REQUEST__INIT;
    sr.patient_id = (char *) id;
    sr.clinic_id = S_CLINIC;
    sr.answers = &q;
    return fx_call (fx, fx->scr, "screening.RecordScreening", &sr.base, NULL, r);
}

static Meso__V1__GetScreeningReply *
s_get (fx_t *fx, const char *id)
{
    meso_result_t r = { 0 };
    Meso__V1__GetScreeningRequest rq = MESO__V1__GET_SCREENING_REQUEST__INIT;
    rq.patient_id = (char *) id;
    assert_int_equal (fx_call (fx, fx->scr, "screening.GetScreening", &rq.base, NULL, &r), MESO_OK);
    size_t len;
    const uint8_t *body = meso_result_body (&r, &len);
    Meso__V1__GetScreeningReply *out = meso__v1__get_screening_reply__unpack (NULL, len, body);
    assert_non_null (out);
    meso_result_reset (&r);
    return out;
}

static int
s_erase (fx_t *fx, meso_bus_client_t *c, const char *id, const char *reason, meso_result_t *r)
{
    Meso__V1__ErasePatientRequest rq = MESO__V1__ERASE_PATIENT_REQUEST__INIT;
    rq.patient_id = (char *) id;
    rq.reason = (char *) reason;
    return fx_call (fx, c, "screening.ErasePatient", &rq.base, NULL, r);
}

static int
s_session (fx_t *fx, const char *method, const char *appt)
{
    meso_result_t r = { 0 };
    Meso__V1__SessionRef ref = MESO__V1__SESSION_REF__INIT;
    ref.appointment_id = (char *) appt;
    int st = fx_call (fx, fx->sch, method, &ref.base, NULL, &r);
    meso_result_reset (&r);
    return st;
}

static void
s_complete (fx_t *fx, const char *appt, const char *notes)
{
    assert_int_equal (s_session (fx, "scheduling.StartSession", appt), MESO_OK);
    meso_result_t r = { 0 };
    Meso__V1__CompleteSessionRequest cq = MESO__V1__COMPLETE_SESSION_REQUEST__INIT;
    cq.appointment_id = (char *) appt;
    cq.outcome_case = MESO__V1__COMPLETE_SESSION_REQUEST__OUTCOME_IMPROVEMENT_SCORE;
    cq.improvement_score = 2;
    cq.notes = (char *) notes;
    assert_int_equal (fx_call (fx, fx->sch, "scheduling.CompleteSession", &cq.base, NULL, &r), MESO_OK);
    meso_result_reset (&r);
}

static void
s_wait (fx_t *fx, const char *sql, const char *p1, int64_t want)
{
    for (int i = 0; i < 300; i++) {
        if (fx_sql (fx, sql, p1) == want)
            return;
        usleep (50 * 1000);
    }
    fprintf (stderr, "s_wait: %s (%s) never reached %lld (is %lld)\n", sql, p1 ? p1 : "",
             (long long) want, (long long) fx_sql (fx, sql, p1));
    fail ();
}

/* How many rows of every table of meso's schemas hold needle, as text or
 * as bytes (bytea and packed protobuf show as hex in a row's text). */
static int64_t
s_anywhere (fx_t *fx, const char *needle)
{
    char hex[256] = "";
    for (size_t i = 0; needle[i] && 2 * i + 2 < sizeof hex; i++)
        snprintf (hex + 2 * i, 3, "%02x", (unsigned char) needle[i]);
    PGresult *tabs = meso_db_query (fx->db,
        "SELECT format ('%I.%I', table_schema, table_name) FROM information_schema.tables"
        " WHERE table_type = 'BASE TABLE' AND table_schema IN"
        " ('screening', 'scheduling', 'inventory', 'billing', 'events', 'vault', 'access', 'public')",
        0, NULL);
    assert_non_null (tabs);
    assert_true (PQntuples (tabs) > 20);
    int64_t found = 0;
    for (int t = 0; t < PQntuples (tabs); t++) {
        char sql[512];
        snprintf (sql, sizeof sql, "SELECT count (*) FROM %s t WHERE strpos (t::text, $1) > 0"
                  " OR strpos (lower (t::text), $2) > 0", PQgetvalue (tabs, t, 0));
        const char *p[] = { needle, hex };
        PGresult *res = meso_db_query (fx->db, sql, 2, p);
        assert_non_null (res);
        int64_t n = strtoll (PQgetvalue (res, 0, 0), NULL, 10);
        if (n > 0)
            fprintf (stderr, "s_anywhere: \"%s\" in %lld row(s) of %s\n", needle, (long long) n,
                     PQgetvalue (tabs, t, 0));
        found += n;
        PQclear (res);
    }
    PQclear (tabs);
    return found;
}

static const char *const s_secrets[] = { S_GIVEN, S_FAMILY, S_PHONE, S_EMAIL, S_MEDICATION,
                                         S_NOTE, S_NOTES, S_CANCEL };
#define S_NSECRETS (sizeof s_secrets / sizeof s_secrets[0])

/* The money and stock totals erasure must not change. */
typedef struct {
    int64_t ledger_rows, ledger_sum, invoices, on_hand, reserved, consumed, moves;
} s_totals_t;

static void
s_totals (fx_t *fx, s_totals_t *t)
{
    t->ledger_rows = fx_sql (fx, "SELECT count (*) FROM billing.ledger", NULL);
    t->ledger_sum = fx_sql (fx, "SELECT coalesce (sum (amount_cents), 0) FROM billing.ledger", NULL);
    t->invoices = fx_sql (fx, "SELECT count (*) FROM billing.invoice", NULL);
    t->on_hand = fx_sql (fx, "SELECT coalesce (sum (on_hand_milli), 0) FROM inventory.lot", NULL);
    t->reserved = fx_sql (fx, "SELECT coalesce (sum (reserved_milli), 0) FROM inventory.lot", NULL);
    t->consumed = fx_sql (fx, "SELECT coalesce (sum (amount_milli), 0) FROM inventory.consumption", NULL);
    t->moves = fx_sql (fx, "SELECT count (*) FROM inventory.reservation", NULL);
}

/* The screening.completed events of patient a principal replays:
 * count, and how many carry reasons. */
static void
s_replay_reasons (const char *router, zcert_t *who, const char *patient, int *events, int *with_reasons)
{
    meso_bus_client_t *c = mt_client_as (router, who);
    assert_non_null (c);
    Meso__V1__ReplayRequest rq = MESO__V1__REPLAY_REQUEST__INIT;
    rq.stream = "screening";
    meso_result_t r = { 0 };
    assert_int_equal (meso_bus_client_call (c, "events.Replay", &rq.base, NULL, 10000, &r), 0);
    size_t len;
    const uint8_t *body = meso_result_body (&r, &len);
    Meso__V1__ReplayReply *out = meso__v1__replay_reply__unpack (NULL, len, body);
    assert_non_null (out);
    *events = *with_reasons = 0;
    for (size_t i = 0; i < out->n_events; i++) {
        Meso__V1__Event *ev = out->events[i];
        if (ev->payload_case != MESO__V1__EVENT__PAYLOAD_SCREENING_COMPLETED
            || strcmp (ev->screening_completed->patient_id, patient) != 0)
            continue;
        (*events)++;
        if (ev->screening_completed->n_reasons > 0)
            (*with_reasons)++;
    }
    meso__v1__replay_reply__free_unpacked (out, NULL);
    meso_result_reset (&r);
    meso_bus_client_destroy (&c);
}

static void
test_erase (void **state)
{
    (void) state;
    s_env_t *e = s_setup ("vault_it_erase");
    fx_t *fx = e->fx;
    meso_result_t r = { 0 };
    char pat[40], d1[16], d2[16], t1[32], t2[32], a1[40], a2[40];

    /* Everything meso stores about a patient. */
    s_register (fx, pat);
    assert_int_equal (s_screen (fx, pat, &r), MESO_OK);
    Meso__V1__ReportChangeRequest ch = MESO__V1__REPORT_CHANGE_REQUEST__INIT;
    char *changes[] = { "medication" };
    ch.patient_id = pat;
    ch.changes = changes;
    ch.n_changes = 1;
    ch.note = S_NOTE;
    assert_int_equal (fx_call (fx, fx->scr, "screening.ReportChange", &ch.base, NULL, &r), MESO_OK);
    assert_int_equal (s_screen (fx, pat, &r), MESO_OK);
    fx_sign_consent (fx, pat, S_CLINIC, 1);
    fx_day (3, d1);
    fx_day (10, d2);
    snprintf (t1, sizeof t1, "%sT10:00", d1);
    snprintf (t2, sizeof t2, "%sT10:00", d2);
    assert_int_equal (fx_book_session (fx, fx->sch, S_CLINIC, pat, "dr-a", "room-1", t1, 60, a1, &r), MESO_OK);
    assert_int_equal (fx_book_session (fx, fx->sch, S_CLINIC, pat, "dr-a", "room-1", t2, 60, a2, &r), MESO_OK);
    s_complete (fx, a1, S_NOTES);
    s_wait (fx, "SELECT count (*) FROM billing.ledger WHERE appointment_id = $1", a1, 1);
    s_wait (fx, "SELECT count (*) FROM inventory.reservation WHERE appointment_id = $1 AND status = 'consumed'",
            a1, 1);
    /* Stored sealed from the start: no plaintext even before erasure. */
    assert_int_equal (fx_sql (fx, "SELECT count (*) FROM screening.patients WHERE id = $1::uuid"
                                  " AND personal IS NOT NULL AND given_name IS NULL", pat), 1);
    assert_int_equal (fx_sql (fx, "SELECT count (*) FROM screening.screenings WHERE patient_id = $1::uuid"
                                  " AND sealed AND pregnancy IS NULL", pat), 2);
    assert_int_equal (fx_sql (fx, "SELECT count (*) FROM scheduling.appointment WHERE appointment_id = $1"
                                  " AND notes IS NULL AND notes_sealed IS NOT NULL", a1), 1);
    /* Reads open them. */
    Meso__V1__GetScreeningReply *g = s_get (fx, pat);
    assert_string_equal (g->patient->given_name, S_GIVEN);
    assert_string_equal (g->patient->email, S_EMAIL);
    assert_int_equal (g->n_history, 2);
    assert_string_equal (g->history[1]->answers->medications[0], S_MEDICATION);
    meso__v1__get_screening_reply__free_unpacked (g, NULL);

    /* Refused while a session is booked, without a reason, and for a
     * principal without the operator role. */
    assert_int_equal (s_erase (fx, fx->scr, pat, "GDPR request 7", &r), MESO_FAILED_PRECONDITION);
    assert_true (fx_has_reason (&r, "sessions_booked"));
    assert_int_equal (s_erase (fx, fx->scr, pat, "", &r), MESO_INVALID_ARGUMENT);
    assert_true (fx_has_reason (&r, "missing_field"));
    zcert_t *desk = mt_principal_add (fx->admin, "desk", "person", "{front_desk,clinic_manager}",
                                      "{" S_CLINIC "}", "{screening}", false);
    zcert_t *nurse = mt_principal_add (fx->admin, "nurse", "person", "{clinician}", "{" S_CLINIC "}",
                                       "{screening}", true);
    assert_true (desk && nurse);
    meso_bus_client_t *desk_scr = mt_client_as (fx->screening_ep, desk);
    assert_int_equal (s_erase (fx, desk_scr, pat, "GDPR request 7", &r), MESO_PERMISSION_DENIED);
    meso_bus_client_destroy (&desk_scr);

    Meso__V1__CancelRequest cr = MESO__V1__CANCEL_REQUEST__INIT;
    cr.appointment_id = a2;
    cr.by = MESO__V1__CANCELLED_BY__CANCELLED_BY_PATIENT;
    cr.reason = S_CANCEL;
    assert_int_equal (fx_call (fx, fx->sch, "scheduling.Cancel", &cr.base, NULL, &r), MESO_OK);
    s_wait (fx, "SELECT count (*) FROM inventory.reservation WHERE appointment_id = $1 AND status = 'released'",
            a2, 1);
    s_wait (fx, "SELECT count (*) FROM events.outbox", NULL, 0);

    /* Before: the health principal replays the reasons (current
     * medication), the front desk gets them stripped. */
    int n = 0, with = 0;
    s_replay_reasons (fx->events_router, nurse, pat, &n, &with);
    assert_int_equal (n, 2);
    assert_int_equal (with, 2);
    s_replay_reasons (fx->events_router, desk, pat, &n, &with);
    assert_int_equal (n, 2);
    assert_int_equal (with, 0);
    /* The log itself holds them redacted; the full ones are apart (two
     * screenings, the change, the completion, the cancellation). */
    assert_int_equal (fx_sql (fx, "SELECT count (*) FROM events.log_health WHERE patient_id = $1", pat), 5);

    s_totals_t before, after;
    s_totals (fx, &before);
    assert_true (before.ledger_rows >= 1 && before.consumed > 0);

    /* Erase. */
    assert_int_equal (s_erase (fx, fx->scr, pat, "GDPR request 7", &r), MESO_OK);
    size_t len;
    const uint8_t *body = meso_result_body (&r, &len);
    Meso__V1__ErasePatientReply *er = meso__v1__erase_patient_reply__unpack (NULL, len, body);
    assert_non_null (er);
    assert_false (er->already_erased);
    assert_true (er->replies_deleted >= 4);     /* register, 2 screenings, change */
    assert_true (er->erased_at_us > 0);
    meso__v1__erase_patient_reply__free_unpacked (er, NULL);
    assert_int_equal (s_erase (fx, fx->scr, pat, "GDPR request 7 (again)", &r), MESO_OK);
    body = meso_result_body (&r, &len);
    er = meso__v1__erase_patient_reply__unpack (NULL, len, body);
    assert_true (er->already_erased);
    meso__v1__erase_patient_reply__free_unpacked (er, NULL);
    assert_int_equal (fx_sql (fx, "SELECT count (*) FROM vault.patient_keys WHERE patient_id = $1::uuid"
                                  " AND wrapped IS NULL AND erase_reason = 'GDPR request 7'"
                                  " AND erased_by <> ''", pat), 1);
    s_wait (fx, "SELECT count (*) FROM events.log WHERE type = 'screening.patient_erased'", NULL, 1);
    s_wait (fx, "SELECT count (*) FROM events.log_health WHERE patient_id = $1", pat, 0);

    /* Reads answer placeholders. */
    g = s_get (fx, pat);
    assert_true (g->patient->erased);
    assert_string_equal (g->patient->given_name, "[erased]");
    assert_string_equal (g->patient->family_name, "[erased]");
    assert_string_equal (g->patient->birth_date, "");
    assert_string_equal (g->patient->phone, "");
    assert_string_equal (g->patient->email, "");
    assert_int_equal (g->n_history, 2);
    assert_true (g->history[0]->erased);
    assert_null (g->history[0]->answers);
    assert_int_equal (g->history[0]->verdict, MESO__V1__VERDICT__VERDICT_ELIGIBLE_WITH_PRECAUTIONS);
    meso__v1__get_screening_reply__free_unpacked (g, NULL);

    /* No plaintext anywhere, raw bytes included. */
    for (size_t i = 0; i < S_NSECRETS; i++)
        assert_int_equal (s_anywhere (fx, s_secrets[i]), 0);
    /* The key cannot be brought back or deleted, even by the superuser. */
    assert_int_not_equal (meso_db_exec (fx->db, "DELETE FROM vault.patient_keys", 0, NULL), 0);

    /* Totals unchanged. */
    s_totals (fx, &after);
    assert_memory_equal (&before, &after, sizeof before);

    /* The erased id is refused; a new registration screens and books. */
    assert_int_equal (s_screen (fx, pat, &r), MESO_FAILED_PRECONDITION);
    assert_string_equal (r.reply->message, "patient erased: register again");
    assert_true (fx_has_reason (&r, "patient_erased"));
    char d3[16], t3[32], a3[40];
    fx_day (17, d3);
    snprintf (t3, sizeof t3, "%sT10:00", d3);
    assert_int_equal (fx_book_session (fx, fx->sch, S_CLINIC, pat, "dr-a", "room-1", t3, 60, a3, &r),
                      MESO_FAILED_PRECONDITION);
    assert_string_equal (r.reply->message, "screening refused the booking: patient erased: register again");
    char pat2[40];
    s_register (fx, pat2);
    assert_string_not_equal (pat, pat2);
    assert_int_equal (s_screen (fx, pat2, &r), MESO_OK);
    fx_sign_consent (fx, pat2, S_CLINIC, 1);
    assert_int_equal (fx_book_session (fx, fx->sch, S_CLINIC, pat2, "dr-a", "room-1", t3, 60, a3, &r), MESO_OK);

    /* Billing and inventory still consume later events. */
    s_complete (fx, a3, "");
    s_wait (fx, "SELECT count (*) FROM billing.ledger WHERE appointment_id = $1", a3, 1);
    s_wait (fx, "SELECT count (*) FROM inventory.reservation WHERE appointment_id = $1 AND status = 'consumed'",
            a3, 1);
    s_totals (fx, &after);
    assert_int_equal (after.ledger_sum, before.ledger_sum + 35000);
    assert_int_equal (after.consumed, before.consumed + 150000);

    /* Replays: the erased patient's reasons are gone for everyone; the
     * new registration's are there for the health principal only. */
    s_wait (fx, "SELECT count (*) FROM events.outbox", NULL, 0);
    s_replay_reasons (fx->events_router, nurse, pat, &n, &with);
    assert_int_equal (n, 2);
    assert_int_equal (with, 0);
    s_replay_reasons (fx->events_router, nurse, pat2, &n, &with);
    assert_int_equal (n, 1);
    assert_int_equal (with, 1);
    s_replay_reasons (fx->events_router, desk, pat2, &n, &with);
    assert_int_equal (n, 1);
    assert_int_equal (with, 0);

    zcert_destroy (&desk);
    zcert_destroy (&nurse);
    meso_result_reset (&r);
    s_teardown (e);
}

/* As each service role but events', the health table and the keys are
 * refused; screening reads keys, scheduling too, events reads the table. */
static void
test_grants (void **state)
{
    (void) state;
    char admin[512];
    assert_int_equal (mt_db_create ("vault_it_grants", admin, sizeof admin), 0);
    meso_db_t *db = meso_db_new (admin);
    assert_true (meso_db_ok (db));
    const struct { const char *role, *sql; bool ok; } cases[] = {
        { "meso_inventory", "SELECT count (*) FROM events.log_health", false },
        { "meso_billing", "SELECT count (*) FROM events.log_health", false },
        { "meso_scheduling", "SELECT count (*) FROM events.log_health", false },
        { "meso_screening", "SELECT count (*) FROM events.log_health", false },
        { "meso_events", "SELECT count (*) FROM events.log_health", true },
        { "meso_inventory", "SELECT count (*) FROM vault.patient_keys", false },
        { "meso_billing", "SELECT count (*) FROM vault.patient_keys", false },
        { "meso_events", "SELECT count (*) FROM vault.patient_keys", false },
        { "meso_scheduling", "SELECT count (*) FROM vault.patient_keys", true },
        { "meso_screening", "SELECT count (*) FROM vault.patient_keys", true },
        { "meso_scheduling", "DELETE FROM vault.patient_keys", false },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char set[80];
        snprintf (set, sizeof set, "SET ROLE %s", cases[i].role);
        assert_int_equal (meso_db_exec (db, set, 0, NULL), 0);
        int rc = meso_db_exec (db, cases[i].sql, 0, NULL);
        if (cases[i].ok != (rc == 0))
            fprintf (stderr, "test_grants: %s as %s: %s\n", cases[i].sql, cases[i].role,
                     rc == 0 ? "allowed" : meso_db_error (db)->message);
        assert_int_equal (rc == 0, cases[i].ok);
        if (!cases[i].ok)
            assert_string_equal (meso_db_error (db)->sqlstate, "42501");
        assert_int_equal (meso_db_exec (db, "RESET ROLE", 0, NULL), 0);
    }
    meso_db_destroy (&db);
}

/* Rows written before migration 023 (plaintext, as the superuser) are
 * sealed when meso-screening starts, and read back the same. */
static void
test_legacy_sealed_at_start (void **state)
{
    (void) state;
    char admin[512];
    assert_int_equal (mt_db_create ("vault_it_legacy", admin, sizeof admin), 0);
    meso_db_t *db = meso_db_new (admin);
    assert_true (meso_db_ok (db));
    const char *pid = "6f1d2c3b-4a59-4e6f-8a7b-9c0d1e2f3a4b";
    const char *sid = "7a2b3c4d-5e6f-4a1b-8c2d-3e4f5a6b7c8d";
    const char *pp[] = { pid };
    assert_int_equal (meso_db_exec (db,
        "INSERT INTO screening.patients (id, given_name, family_name, birth_date, sex, phone, email,"
        " home_clinic_id) VALUES ($1::uuid, 'Oldrow', 'Plaintextova', '1975-06-01', 1, '+3311',"
        " 'old@example.org', 'par')", 1, pp), 0);
    Meso__V1__Questionnaire q = MESO__V1__QUESTIONNAIRE__INIT;
    char *meds[] = { "Legacymedol" };
    q.medications = meds;
    q.n_medications = 1;
    q.height_mm = 1650;
    Meso__V1__Screening sc = MESO__V1__SCREENING__INIT;
    sc.id = (char *) sid;
    sc.patient_id = (char *) pid;
    sc.clinic_id = "par";
    sc.answers = &q;
    sc.verdict = MESO__V1__VERDICT__VERDICT_ELIGIBLE;
    uint8_t rec[512];
    size_t rlen = meso__v1__screening__pack (&sc, rec);
    const char *sv[] = { sid, pid, (const char *) rec };
    int sl[] = { 0, 0, (int) rlen }, sf[] = { 0, 0, 1 };
    PGresult *res = meso_db_query_bin (db,
        "INSERT INTO screening.screenings (id, patient_id, clinic_id, screened_on, pregnancy, breastfeeding,"
        " diabetes, active_infection, septicaemia, immunocompromised, liver_failure, kidney_failure,"
        " coagulation_disorder, menstrual_disorder, cancer, heart_arrhythmia, blood_clots, height_mm,"
        " weight_g, medication_count, verdict, valid_until, max_age, bmi_obesity_x10, validity_days, record)"
        " VALUES ($1::uuid, $2::uuid, 'par', current_date, false, false, false, false, false, false,"
        " false, false, false, false, false, false, false, 1650, 60000, 1, 'eligible',"
        " current_date + 180, 70, 300, 180, $3)", 3, sv, sl, sf);
    assert_non_null (res);
    PQclear (res);
    const char *ap[] = { sid };
    assert_int_equal (meso_db_exec (db, "INSERT INTO screening.screening_areas (screening_id, area, grade)"
                                        " VALUES ($1::uuid, 'thighs', 2)", 1, ap), 0);
    assert_int_equal (meso_db_exec (db, "INSERT INTO screening.patient_changes (patient_id, changes, note,"
                                        " ineligible) VALUES ($1::uuid, '{weight}', 'Oldnote', false)",
                                    1, pp), 0);

    char ep[256], role[512], dbarg[600], bind[300];
    mt_ipc_endpoint ("scr", ep, sizeof ep);
    mt_role_conninfo ("vault_it_legacy", "meso_screening", role, sizeof role);
    snprintf (dbarg, sizeof dbarg, "--db=%s", role);
    snprintf (bind, sizeof bind, "--bind=%s", ep);
    const char *argv[] = { "meso-screening", dbarg, bind, "--scheduling=", "--inventory=", NULL };
    pid_t daemon = mt_spawn ("bin/meso-screening", argv, NULL);
    assert_true (daemon > 0);
    assert_int_equal (mt_wait_healthy (ep, 10000), 0);

    /* Sealed: no plaintext column left, areas gone, a key made. */
    PGresult *chk = meso_db_query (db,
        "SELECT (SELECT count (*) FROM screening.patients WHERE personal IS NOT NULL AND given_name IS NULL"
        "        AND email IS NULL),"
        " (SELECT count (*) FROM screening.screenings WHERE sealed AND pregnancy IS NULL AND height_mm IS NULL),"
        " (SELECT count (*) FROM screening.screening_areas),"
        " (SELECT count (*) FROM screening.patient_changes WHERE sealed IS NOT NULL AND note IS NULL),"
        " (SELECT count (*) FROM vault.patient_keys WHERE wrapped IS NOT NULL),"
        " (SELECT count (*) FROM screening.screenings s WHERE strpos (encode (s.record, 'escape'), 'Legacymedol') > 0)",
        0, NULL);
    assert_non_null (chk);
    for (int c = 0; c < 6; c++)
        assert_int_equal (atoi (PQgetvalue (chk, 0, c)), c == 2 || c == 5 ? 0 : 1);
    PQclear (chk);

    /* Read back the same. */
    meso_bus_client_t *c = mt_client (ep);
    Meso__V1__GetScreeningRequest rq = MESO__V1__GET_SCREENING_REQUEST__INIT;
    rq.patient_id = (char *) pid;
    meso_result_t r = { 0 };
    assert_int_equal (meso_bus_client_call (c, "screening.GetScreening", &rq.base, NULL, 10000, &r), 0);
    size_t len;
    const uint8_t *body = meso_result_body (&r, &len);
    Meso__V1__GetScreeningReply *g = meso__v1__get_screening_reply__unpack (NULL, len, body);
    assert_non_null (g);
    assert_string_equal (g->patient->given_name, "Oldrow");
    assert_string_equal (g->patient->email, "old@example.org");
    assert_string_equal (g->patient->birth_date, "1975-06-01");
    assert_int_equal (g->n_history, 1);
    assert_string_equal (g->history[0]->answers->medications[0], "Legacymedol");
    assert_int_equal (g->n_changes, 1);         /* reported after the screening */
    assert_string_equal (g->changes[0]->note, "Oldnote");
    assert_string_equal (g->changes[0]->changes[0], "weight");
    meso__v1__get_screening_reply__free_unpacked (g, NULL);
    meso_result_reset (&r);
    meso_bus_client_destroy (&c);
    mt_stop (daemon, SIGTERM);
    meso_db_destroy (&db);
}

int
main (void)
{
    (void) fx_patient;              /* the fixture's; this test registers its own */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_grants),
        cmocka_unit_test (test_erase),
        cmocka_unit_test (test_legacy_sealed_at_start),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
