/* test_audit.c -- the audit trail of patient data, through the real
 * daemons (screening, scheduling, inventory, billing, events) and the real
 * database:
 *
 *   - every patient read and write of the four services leaves exactly one
 *     row per patient, with the authenticated principal, and the person a
 *     daemon acts for when it calls another (a booking's screening check
 *     and stock reservation), refusals included with their status;
 *   - a read whose row cannot be written (the insert privilege revoked)
 *     is answered UNAVAILABLE without its body, and a write fails whole;
 *   - mesoctl audit verify recomputes the chains: an UPDATE or DELETE
 *     made as the superuser with the trigger disabled is named (clinic,
 *     seq, what), pruning keeps the chains verifiable, and a plain DELETE
 *     is refused by the trigger;
 *   - mesoctl audit patient lists who touched a patient. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "scheduling_fixture.h"
#include "billing.pb-c.h"

static const char *const s_practs[] = { "dr-a" };
static const char *const s_rooms[] = { "room-1" };

/* The principal's client of endpoint, once the daemon knows its key (a
 * refused handshake is not retried by libzmq, so ask Health until it is
 * answered). */
static meso_bus_client_t *
s_as (const char *endpoint, zcert_t *cert)
{
    for (int attempt = 0; attempt < 30; attempt++) {
        meso_bus_client_t *c = mt_client_as (endpoint, cert);
        assert_non_null (c);
        meso_result_t r = { 0 };
        meso_bus_client_call (c, "Health", NULL, NULL, 3000, &r);
        int status = r.status;
        meso_result_reset (&r);
        if (status == MESO_OK)
            return c;
        meso_bus_client_destroy (&c);
        mt_sleep_ms (100);
    }
    fail_msg ("%s never accepted the key", endpoint);
    return NULL;
}

static pid_t
s_spawn_billing (fx_t *fx, char *endpoint, size_t size)
{
    char role[512], db[600], bind[300], ev[300], evp[300];
    mt_ipc_endpoint ("bil", endpoint, size);
    mt_role_conninfo (fx->dbname, "meso_billing", role, sizeof role);
    snprintf (db, sizeof db, "--db=%s", role);
    snprintf (bind, sizeof bind, "--bind=%s", endpoint);
    snprintf (ev, sizeof ev, "--events=%s", fx->events_router);
    snprintf (evp, sizeof evp, "--events-pub=%s", fx->events_pub);
    const char *argv[] = { "meso-billing", db, bind, ev, evp, "--scheduling=", NULL };
    pid_t pid = mt_spawn ("bin/meso-billing", argv, NULL);
    assert_true (pid > 0);
    assert_int_equal (mt_wait_healthy (endpoint, 10000), 0);
    return pid;
}

/* The patient's audit rows as "method principal behalf access status"
 * lines, in time order, one per row. */
static void
s_rows_of (fx_t *fx, const char *patient, char *out, size_t size)
{
    const char *p[] = { patient };
    PGresult *r = meso_db_query (fx->db,
        "SELECT method || ' ' || principal || ' ' || coalesce (nullif (on_behalf_of, ''), '-')"
        " || ' ' || access || ' ' || status FROM audit.entry WHERE patient_id = $1"
        " ORDER BY at, clinic_id, seq", 1, p);
    assert_non_null (r);
    out[0] = '\0';
    for (int i = 0; i < PQntuples (r); i++)
        snprintf (out + strlen (out), size - strlen (out), "%s\n", PQgetvalue (r, i, 0));
    PQclear (r);
}

/* Runs mesoctl with args as the migration role; its output into out. */
static int
s_mesoctl (fx_t *fx, const char *args, char *out, size_t size)
{
    char path[600];
    snprintf (path, sizeof path, "%s/audit-mesoctl-%d.out", mt_build_dir (), (int) getpid ());
    int rc = mt_sh ("%s/bin/mesoctl audit %s --db='%s' >%s 2>&1", mt_build_dir (), args, fx->admin,
                    path);
    FILE *f = fopen (path, "r");
    assert_non_null (f);
    size_t n = fread (out, 1, size - 1, f);
    out[n] = '\0';
    fclose (f);
    unlink (path);
    return rc;
}

static void
s_exec (fx_t *fx, const char *sql)
{
    if (meso_db_exec (fx->db, sql, 0, NULL) != 0)
        fail_msg ("%s: %s", sql, meso_db_error (fx->db)->message);
}

/* ------------------------------------------------------------- the test */

static void
test_every_patient_call_is_audited_once (void **state)
{
    (void) state;
    fx_t *fx = fx_setup_events ("audit_it_calls", 1);
    char billing_ep[256];
    pid_t billing = s_spawn_billing (fx, billing_ep, sizeof billing_ep);
    fx_clinic (fx, "paris", "Europe/Paris", s_practs, 1, s_rooms, 1, true);
    char pat[40];
    fx_patient (fx, "paris", NULL, false, pat);

    zcert_t *ana = mt_principal_add (fx->admin, "ana-frontdesk", "person", "{front_desk}", "{paris}",
                                     NULL, false);
    zcert_t *cleo = mt_principal_add (fx->admin, "cleo-clinician", "person", "{clinician}", "{paris}",
                                      NULL, true);
    zcert_t *bea = mt_principal_add (fx->admin, "bea-billing", "person", "{billing_clerk}", "{paris}",
                                     NULL, false);
    assert_true (ana && cleo && bea);
    meso_bus_client_t *ana_sch = s_as (fx->sched_ep[0], ana);
    meso_bus_client_t *ana_scr = s_as (fx->screening_ep, ana);
    meso_bus_client_t *cleo_sch = s_as (fx->sched_ep[0], cleo);
    meso_bus_client_t *cleo_scr = s_as (fx->screening_ep, cleo);
    meso_bus_client_t *bea_bil = s_as (billing_ep, bea);

    /* A booking by the front desk: scheduling asks screening and inventory
     * for her. */
    meso_result_t r = { 0 };
    char day[11], start[20], appt[40];
    fx_day (3, day);
    snprintf (start, sizeof start, "%sT10:00", day);
    if (fx_book_session (fx, ana_sch, "paris", pat, "dr-a", "room-1", start, 60, appt, &r) != MESO_OK)
        fail_msg ("BookSession: %s", r.message);
    /* Her read of the patient's courses, and a read she may not make (the
     * health record): refused, and recorded with its status. */
    Meso__V1__GetCourseRequest gc = MESO__V1__GET_COURSE_REQUEST__INIT;
    gc.patient_id = pat;
    gc.key_case = MESO__V1__GET_COURSE_REQUEST__KEY_PATIENT_ID;
    assert_int_equal (fx_call (fx, ana_sch, "scheduling.GetCourse", &gc.base, NULL, &r), MESO_OK);
    Meso__V1__GetScreeningRequest gs = MESO__V1__GET_SCREENING_REQUEST__INIT;
    gs.patient_id = pat;
    assert_int_equal (fx_call (fx, ana_scr, "screening.GetScreening", &gs.base, NULL, &r),
                      MESO_PERMISSION_DENIED);
    /* The clinician reads the record, starts and completes the session
     * (both by appointment id: the handler finds the patient). */
    assert_int_equal (fx_call (fx, cleo_scr, "screening.GetScreening", &gs.base, NULL, &r), MESO_OK);
    Meso__V1__SessionRef ref = MESO__V1__SESSION_REF__INIT;
    ref.appointment_id = appt;
    assert_int_equal (fx_call (fx, cleo_sch, "scheduling.StartSession", &ref.base, NULL, &r), MESO_OK);
    Meso__V1__CompleteSessionRequest cs = MESO__V1__COMPLETE_SESSION_REQUEST__INIT;
    cs.appointment_id = appt;
    cs.outcome_case = MESO__V1__COMPLETE_SESSION_REQUEST__OUTCOME_IMPROVEMENT_SCORE;
    cs.improvement_score = 2;
    assert_int_equal (fx_call (fx, cleo_sch, "scheduling.CompleteSession", &cs.base, "complete-1", &r),
                      MESO_OK);
    /* A retry of the completion replays: one more row, same principal. */
    assert_int_equal (fx_call (fx, cleo_sch, "scheduling.CompleteSession", &cs.base, "complete-1", &r),
                      MESO_OK);
    assert_true (r.reply->replayed);

    /* A sale by the billing clerk, once billing knows the patient. */
    for (int i = 0; i < 100 && fx_sql (fx, "SELECT count(*) FROM billing.patient WHERE patient_id = $1",
                                       pat) == 0; i++)
        mt_sleep_ms (100);
    Meso__V1__SellPackageRequest sp = MESO__V1__SELL_PACKAGE_REQUEST__INIT;
    sp.clinic_id = "paris";
    sp.patient_id = pat;
    sp.sessions = 5;
    sp.price_cents = 150000;
    if (fx_call (fx, bea_bil, "billing.SellPackage", &sp.base, NULL, &r) != MESO_OK)
        fail_msg ("SellPackage: %s %s", r.message, r.reply && r.reply->n_reasons ? r.reply->reasons[0]->message : "");
    Meso__V1__GetStatementRequest st = MESO__V1__GET_STATEMENT_REQUEST__INIT;
    st.clinic_id = "paris";
    st.patient_id = pat;
    assert_int_equal (fx_call (fx, bea_bil, "billing.GetStatement", &st.base, NULL, &r), MESO_OK);
    meso_result_reset (&r);

    /* Exactly these rows, in time order: the fixture's registration,
     * screening and consent (as the tester), then every call above; the
     * starting of the session asks screening for the clinician too. The
     * stock consumed on completion is inventory's reaction to the
     * session.completed event, not a request: no row of its own. */
    char rows[8192];
    s_rows_of (fx, pat, rows, sizeof rows);
    assert_string_equal (rows,
        "screening.RegisterPatient tester - write 0\n"
        "screening.RecordScreening tester - write 0\n"
        "screening.SignConsent tester - write 0\n"
        "screening.Check scheduling ana-frontdesk read 0\n"
        "inventory.Reserve scheduling ana-frontdesk write 0\n"
        "scheduling.BookSession ana-frontdesk - write 0\n"
        "scheduling.GetCourse ana-frontdesk - read 0\n"
        "screening.GetScreening ana-frontdesk - read 7\n"
        "screening.GetScreening cleo-clinician - read 0\n"
        "screening.Check scheduling cleo-clinician read 0\n"
        "scheduling.StartSession cleo-clinician - write 0\n"
        "scheduling.CompleteSession cleo-clinician - write 0\n"
        "scheduling.CompleteSession cleo-clinician - write 0\n"
        "billing.SellPackage bea-billing - write 0\n"
        "billing.GetStatement bea-billing - read 0\n");
    /* The refusal came before the handler could look the patient's clinic
     * up: it is in the chain of no clinic; the rest are in paris's. */
    assert_int_equal (fx_sql (fx, "SELECT count(*) FROM audit.entry WHERE clinic_id = '' AND status = 7"
                                  " AND patient_id = $1", pat), 1);
    assert_int_equal (fx_sql (fx, "SELECT count(*) FROM audit.entry WHERE clinic_id = 'paris'"
                                  " AND patient_id = $1", pat), 14);
    /* One row per request and patient, never two. */
    assert_int_equal (fx_sql (fx, "SELECT count(*) FROM (SELECT request_id, patient_id FROM audit.entry"
                                  " GROUP BY 1, 2 HAVING count(*) > 1) d", NULL), 0);
    /* The key recorded is the principal's own. */
    assert_int_equal (fx_sql (fx, "SELECT count(*) FROM audit.entry e JOIN access.principal p"
                                  " ON p.name = e.principal AND p.public_key = e.principal_key"
                                  " WHERE e.patient_id = $1", pat), 15);
    /* Methods that touch no patient leave no row. */
    assert_int_equal (fx_sql (fx, "SELECT count(*) FROM audit.entry WHERE method IN"
                                  " ('scheduling.UpsertClinic', 'inventory.Receive', 'scheduling.GetClinic')",
                              NULL), 0);

    /* mesoctl audit patient lists them; verify finds every chain intact. */
    char out[16384], args[128];
    snprintf (args, sizeof args, "patient %s", pat);
    assert_int_equal (s_mesoctl (fx, args, out, sizeof out), 0);
    assert_non_null (strstr (out, "cleo-clinician"));
    assert_non_null (strstr (out, "scheduling.CompleteSession"));
    assert_non_null (strstr (out, "PERMISSION_DENIED"));
    snprintf (args, sizeof args, "patient %s --json", pat);
    assert_int_equal (s_mesoctl (fx, args, out, sizeof out), 0);
    assert_non_null (strstr (out, "\"on_behalf_of\":\"ana-frontdesk\""));
    assert_int_equal (s_mesoctl (fx, "verify", out, sizeof out), 0);
    assert_non_null (strstr (out, "clinic paris: ok"));

    meso_bus_client_destroy (&ana_sch);
    meso_bus_client_destroy (&ana_scr);
    meso_bus_client_destroy (&cleo_sch);
    meso_bus_client_destroy (&cleo_scr);
    meso_bus_client_destroy (&bea_bil);
    zcert_destroy (&ana);
    zcert_destroy (&cleo);
    zcert_destroy (&bea);
    mt_stop (billing, SIGTERM);
    fx_teardown (fx);
}

static void
test_unrecorded_read_is_not_answered (void **state)
{
    (void) state;
    fx_t *fx = fx_setup ("audit_it_unavailable", 1);
    fx_clinic (fx, "paris", "Europe/Paris", s_practs, 1, s_rooms, 1, true);
    char pat[40];
    fx_patient (fx, "paris", NULL, false, pat);
    int64_t rows = fx_sql (fx, "SELECT count(*) FROM audit.entry", NULL);
    int64_t screenings = fx_sql (fx, "SELECT count(*) FROM screening.screenings", NULL);

    /* Screening's role loses the right to append: its reads are withheld,
     * its writes fail whole. */
    s_exec (fx, "REVOKE EXECUTE ON FUNCTION audit.append (text, text, text, text, text, text, text,"
                " integer, text) FROM meso_screening");
    s_exec (fx, "REVOKE EXECUTE ON FUNCTION audit.append_rows (text[], text[], text, text, text, text,"
                " text, integer, text) FROM meso_screening");
    meso_result_t r = { 0 };
    Meso__V1__GetScreeningRequest gs = MESO__V1__GET_SCREENING_REQUEST__INIT;
    gs.patient_id = pat;
    assert_int_equal (fx_call (fx, fx->scr, "screening.GetScreening", &gs.base, NULL, &r), MESO_UNAVAILABLE);
    assert_non_null (r.reply);
    assert_int_equal (r.reply->body.len, 0);
    assert_non_null (strstr (r.reply->message, "audit trail"));
    Meso__V1__ReportChangeRequest rc = MESO__V1__REPORT_CHANGE_REQUEST__INIT;
    rc.patient_id = pat;
    char *changes[] = { "weight" };
    rc.changes = changes;
    rc.n_changes = 1;
    assert_int_not_equal (fx_call (fx, fx->scr, "screening.ReportChange", &rc.base, NULL, &r), MESO_OK);
    assert_int_equal (fx_sql (fx, "SELECT count(*) FROM audit.entry", NULL), rows);
    assert_int_equal (fx_sql (fx, "SELECT count(*) FROM screening.screenings", NULL), screenings);
    assert_int_equal (fx_sql (fx, "SELECT count(*) FROM events.outbox WHERE type = 'screening.patient_changed'",
                              NULL), 0);
    assert_int_equal (fx_sql (fx, "SELECT count(*) FROM screening.patient_changes", NULL), 0);

    /* Given back: answered, and recorded. */
    s_exec (fx, "GRANT EXECUTE ON FUNCTION audit.append (text, text, text, text, text, text, text,"
                " integer, text) TO meso_screening");
    s_exec (fx, "GRANT EXECUTE ON FUNCTION audit.append_rows (text[], text[], text, text, text, text,"
                " text, integer, text) TO meso_screening");
    assert_int_equal (fx_call (fx, fx->scr, "screening.GetScreening", &gs.base, NULL, &r), MESO_OK);
    assert_true (r.reply->body.len > 0);
    meso_result_reset (&r);
    assert_int_equal (fx_sql (fx, "SELECT count(*) FROM audit.entry", NULL), rows + 1);
    fx_teardown (fx);
}

static void
test_tampering_is_detected_and_pruning_is_not (void **state)
{
    (void) state;
    fx_t *fx = fx_setup ("audit_it_tamper", 1);
    fx_clinic (fx, "paris", "Europe/Paris", s_practs, 1, s_rooms, 1, true);
    char pat[40], pat2[40];
    fx_patient (fx, "paris", NULL, false, pat);
    fx_patient (fx, "paris", NULL, false, pat2);
    assert_int_equal (fx_sql (fx, "SELECT count(*) FROM audit.entry WHERE clinic_id = 'paris'", NULL), 6);
    char out[8192];
    assert_int_equal (s_mesoctl (fx, "verify --clinic paris", out, sizeof out), 0);
    assert_non_null (strstr (out, "clinic paris: ok, 6 rows, seq 1..6"));

    /* The trigger refuses changes, even from the superuser. */
    assert_int_not_equal (meso_db_exec (fx->db, "DELETE FROM audit.entry WHERE seq = 1", 0, NULL), 0);
    assert_int_not_equal (meso_db_exec (fx->db, "UPDATE audit.entry SET status = 7 WHERE seq = 1", 0, NULL), 0);

    /* An edit made with the trigger off is named. */
    s_exec (fx, "ALTER TABLE audit.entry DISABLE TRIGGER entry_append_only");
    s_exec (fx, "UPDATE audit.entry SET principal = 'someone-else' WHERE clinic_id = 'paris' AND seq = 3");
    assert_int_equal (s_mesoctl (fx, "verify", out, sizeof out), 1);
    assert_non_null (strstr (out, "clinic paris: BROKEN (edited): seq 3:"));
    s_exec (fx, "UPDATE audit.entry SET principal = 'tester' WHERE clinic_id = 'paris' AND seq = 3");
    assert_int_equal (s_mesoctl (fx, "verify", out, sizeof out), 0);

    /* A deleted row: the gap is named. */
    s_exec (fx, "CREATE TABLE saved AS SELECT * FROM audit.entry WHERE clinic_id = 'paris' AND seq = 4");
    s_exec (fx, "DELETE FROM audit.entry WHERE clinic_id = 'paris' AND seq = 4");
    assert_int_equal (s_mesoctl (fx, "verify", out, sizeof out), 1);
    assert_non_null (strstr (out, "clinic paris: BROKEN (missing): seq 5 follows seq 3"));
    s_exec (fx, "INSERT INTO audit.entry SELECT * FROM saved");

    /* Two rows swapped (everything but seq exchanged). */
    const char *swap[] = {
        "UPDATE audit.entry SET seq = CASE seq WHEN 2 THEN 1000003 ELSE 1000002 END"
        " WHERE clinic_id = 'paris' AND seq IN (2, 3)",
        "UPDATE audit.entry SET seq = seq - 1000000 WHERE clinic_id = 'paris' AND seq > 1000000"
    };
    s_exec (fx, swap[0]);
    s_exec (fx, swap[1]);
    assert_int_equal (s_mesoctl (fx, "verify", out, sizeof out), 1);
    assert_non_null (strstr (out, "clinic paris: BROKEN (reordered): seq 2:"));
    s_exec (fx, swap[0]);
    s_exec (fx, swap[1]);

    /* The last row deleted: the head is ahead of the rows. */
    s_exec (fx, "DELETE FROM saved");
    s_exec (fx, "INSERT INTO saved SELECT * FROM audit.entry WHERE clinic_id = 'paris' AND seq = 6");
    s_exec (fx, "DELETE FROM audit.entry WHERE clinic_id = 'paris' AND seq = 6");
    assert_int_equal (s_mesoctl (fx, "verify", out, sizeof out), 1);
    assert_non_null (strstr (out, "clinic paris: BROKEN (truncated)"));
    s_exec (fx, "INSERT INTO audit.entry SELECT * FROM saved");
    s_exec (fx, "ALTER TABLE audit.entry ENABLE TRIGGER entry_append_only");
    assert_int_equal (s_mesoctl (fx, "verify", out, sizeof out), 0);

    /* Pruning everything so far keeps the anchor; the chain goes on from
     * it, and verify still passes. */
    char tomorrow[11], args[64];
    fx_day (1, tomorrow);
    snprintf (args, sizeof args, "prune --before %s", tomorrow);
    assert_int_equal (s_mesoctl (fx, args, out, sizeof out), 0);
    assert_non_null (strstr (out, "pruned 6 audit row(s)"));
    assert_int_equal (fx_sql (fx, "SELECT count(*) FROM audit.entry WHERE clinic_id = 'paris'", NULL), 0);
    assert_int_equal (fx_sql (fx, "SELECT seq FROM audit.anchor WHERE clinic_id = 'paris'", NULL), 6);
    meso_result_t r = { 0 };
    Meso__V1__GetConsentsRequest gc = MESO__V1__GET_CONSENTS_REQUEST__INIT;
    gc.clinic_id = "paris";
    gc.patient_id = pat;
    assert_int_equal (fx_call (fx, fx->scr, "screening.GetConsents", &gc.base, NULL, &r), MESO_OK);
    gc.patient_id = pat2;
    assert_int_equal (fx_call (fx, fx->scr, "screening.GetConsents", &gc.base, NULL, &r), MESO_OK);
    meso_result_reset (&r);
    assert_int_equal (s_mesoctl (fx, "verify", out, sizeof out), 0);
    assert_non_null (strstr (out, "clinic paris: ok, 2 rows, seq 7..8, from the anchor at seq 6"));
    /* A list read names its patients in one statement (audit.append_rows):
     * one row each, chained like the others, one request id. */
    Meso__V1__GetPatientsRequest gp = MESO__V1__GET_PATIENTS_REQUEST__INIT;
    gp.clinic_id = "paris";
    char *both[] = { pat, pat2, pat };
    gp.patient_ids = both;
    gp.n_patient_ids = 3;
    assert_int_equal (fx_call (fx, fx->scr, "screening.GetPatients", &gp.base, NULL, &r), MESO_OK);
    meso_result_reset (&r);
    assert_int_equal (fx_sql (fx, "SELECT count(*) FROM audit.entry WHERE clinic_id = 'paris'"
                                  " AND method = 'screening.GetPatients'", NULL), 2);
    assert_int_equal (fx_sql (fx, "SELECT count(DISTINCT request_id) FROM audit.entry"
                                  " WHERE method = 'screening.GetPatients'", NULL), 1);
    assert_int_equal (s_mesoctl (fx, "verify", out, sizeof out), 0);
    assert_non_null (strstr (out, "clinic paris: ok, 4 rows, seq 7..10, from the anchor at seq 6"));
    /* The retention's default cut (six years ago) prunes nothing now. */
    assert_int_equal (s_mesoctl (fx, "prune", out, sizeof out), 0);
    assert_non_null (strstr (out, "pruned 0 audit row(s)"));
    assert_int_equal (s_mesoctl (fx, "prune --retention-days 3", out, sizeof out), 2);

    /* A row deleted outside pruning, after the anchor, is still found. */
    s_exec (fx, "ALTER TABLE audit.entry DISABLE TRIGGER entry_append_only");
    s_exec (fx, "DELETE FROM audit.entry WHERE clinic_id = 'paris' AND seq = 7");
    s_exec (fx, "ALTER TABLE audit.entry ENABLE TRIGGER entry_append_only");
    assert_int_equal (s_mesoctl (fx, "verify", out, sizeof out), 1);
    assert_non_null (strstr (out, "clinic paris: BROKEN (missing): seq 8 follows seq 6"));
    fx_teardown (fx);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_every_patient_call_is_audited_once),
        cmocka_unit_test (test_unrecorded_read_is_not_answered),
        cmocka_unit_test (test_tampering_is_detected_and_pruning_is_not),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
