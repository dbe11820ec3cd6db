/* test_export.c -- `mesoctl patient export` gives a patient's whole record
 * across the services (GDPR article 15; <service>.ExportPatient).
 *
 * A patient with a full history, made through the real daemons (screening,
 * scheduling, inventory, billing and events, consuming each other's
 * events): registered, screened, consent signed, a change reported, a
 * booked course of three sessions with one completed (stock consumed,
 * charged to a package) and one cancelled, a package sold and paid, part
 * of the payment refunded, a manual invoice cancelled by a credit note.
 * Another patient of the same clinic has a screening, a session and an
 * invoice. The export, read back as JSON by Python's json module, holds as
 * many records of each kind as the database holds for the patient, and
 * nothing of the other patient. A clinic manager of another clinic is
 * refused (an export is whole or refused), and so is the front desk. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "export_fixture.h"
#include "billing.pb-c.h"

/* An invoice of one line for patient at par; its id into id (40 bytes). */
static void
s_invoice (fx_t *fx, meso_bus_client_t *bil, const char *patient, char *id)
{
    Meso__V1__InvoiceLine l = MESO__V1__INVOICE_LINE__INIT;
    l.description = "aftercare cream";
    l.amount_cents = 4500;
    Meso__V1__InvoiceLine *lp[] = { &l };
    Meso__V1__IssueInvoiceRequest rq = MESO__V1__ISSUE_INVOICE_REQUEST__INIT;
    rq.clinic_id = "par";
    rq.patient_id = (char *) patient;
    rq.lines = lp;
    rq.n_lines = 1;
    Meso__V1__IssueInvoiceReply *out = (Meso__V1__IssueInvoiceReply *) s_ok (
        fx, bil, "billing.IssueInvoice", &rq.base, &meso__v1__issue_invoice_reply__descriptor);
    snprintf (id, 40, "%s", out->invoice->invoice_id);
    meso__v1__issue_invoice_reply__free_unpacked (out, NULL);
}

/* Runs `mesoctl patient export` for patient into a fresh file under the
 * build folder (path). Returns mesoctl's exit status. */
static int
s_export (fx_t *fx, const char *patient, char *path, size_t size)
{
    snprintf (path, size, "%s/test-logs/export-%d.json", mt_build_dir (), (int) getpid ());
    unlink (path);
    return mt_sh ("MESO_KEY=%s/tester.key_secret %s/bin/mesoctl patient export %s --out %s"
                  " --endpoint %s --scheduling-endpoint %s --inventory-endpoint %s"
                  " --billing-endpoint %s --db '%s'", mt_keys (), mt_build_dir (), patient, path,
                  fx->screening_ep, fx->sched_ep[0], fx->inventory_ep, s_billing_ep, fx->admin);
}

/* A Python expression over the document d at path (json.load: the file
 * must be valid JSON), as an integer; -1 when it fails. */
static long
s_count (const char *path, const char *expr)
{
    setenv ("EXPORT_FILE", path, 1);
    setenv ("EXPORT_EXPR", expr, 1);
    FILE *p = popen ("python3 -c 'import json, os; d = json.load (open (os.environ[\"EXPORT_FILE\"]));"
                     " print (int (eval (os.environ[\"EXPORT_EXPR\"])))'", "r");
    assert_non_null (p);
    long v = -1;
    if (fscanf (p, "%ld", &v) != 1)
        v = -1;
    pclose (p);
    return v;
}

static void
test_export_holds_every_record_of_the_patient (void **state)
{
    (void) state;
    fx_t *fx = fx_setup_events ("export_full", 1);
    const char *practs[] = { "dr-a" }, *rooms[] = { "r1" };
    fx_clinic (fx, "par", "Europe/Paris", practs, 1, rooms, 1, true);
    fx_clinic (fx, "lyo", "Europe/Paris", practs, 0, rooms, 0, false);
    s_spawn_billing (fx);
    meso_bus_client_t *bil = mt_client (s_billing_ep);
    char ana[40], bea[40];
    fx_patient (fx, "par", NULL, false, ana);
    fx_patient (fx, "par", NULL, false, bea);
    /* Billing learns both from screening.completed. */
    s_wait (fx, "SELECT count (*) FROM billing.patient", NULL, 2);

    /* Prices, and a 2-session package for Ana, paid, part refunded. */
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
    Meso__V1__SellPackageRequest sp = MESO__V1__SELL_PACKAGE_REQUEST__INIT;
    sp.clinic_id = "par";
    sp.patient_id = ana;
    sp.sessions = 2;
    sp.price_cents = 80000;
    Meso__V1__SellPackageReply *sold = (Meso__V1__SellPackageReply *) s_ok (
        fx, bil, "billing.SellPackage", &sp.base, &meso__v1__sell_package_reply__descriptor);
    Meso__V1__RecordPaymentRequest pay = MESO__V1__RECORD_PAYMENT_REQUEST__INIT;
    pay.clinic_id = "par";
    pay.patient_id = ana;
    pay.target_case = MESO__V1__RECORD_PAYMENT_REQUEST__TARGET_INVOICE_ID;
    pay.invoice_id = sold->package->invoice_id;
    pay.amount_cents = 80000;
    pay.method = MESO__V1__PAYMENT_METHOD__PAYMENT_METHOD_CARD;
    Meso__V1__RecordPaymentReply *paid = (Meso__V1__RecordPaymentReply *) s_ok (
        fx, bil, "billing.RecordPayment", &pay.base, &meso__v1__record_payment_reply__descriptor);
    Meso__V1__RecordRefundRequest rf = MESO__V1__RECORD_REFUND_REQUEST__INIT;
    rf.clinic_id = "par";
    rf.payment_id = paid->payment->payment_id;
    rf.amount_cents = 10000;
    rf.reason = "goodwill";
    protobuf_c_message_free_unpacked (s_ok (fx, bil, "billing.RecordRefund", &rf.base,
                                            &meso__v1__record_refund_reply__descriptor), NULL);
    meso__v1__record_payment_reply__free_unpacked (paid, NULL);
    meso__v1__sell_package_reply__free_unpacked (sold, NULL);
    /* A manual invoice, cancelled: a credit note. */
    char inv[40];
    s_invoice (fx, bil, ana, inv);
    Meso__V1__CancelInvoiceRequest ci = MESO__V1__CANCEL_INVOICE_REQUEST__INIT;
    ci.clinic_id = "par";
    ci.invoice_id = inv;
    ci.reason = "issued twice";
    protobuf_c_message_free_unpacked (s_ok (fx, bil, "billing.CancelInvoice", &ci.base,
                                            &meso__v1__cancel_invoice_reply__descriptor), NULL);

    /* A course of three sessions: the first completed, the third
     * cancelled. */
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
    Meso__V1__SessionRef ref = MESO__V1__SESSION_REF__INIT;
    ref.appointment_id = course->course->sessions[0]->appointment_id;
    protobuf_c_message_free_unpacked (s_ok (fx, fx->sch, "scheduling.StartSession", &ref.base,
                                            &meso__v1__session_reply__descriptor), NULL);
    Meso__V1__CompleteSessionRequest done = MESO__V1__COMPLETE_SESSION_REQUEST__INIT;
    done.appointment_id = ref.appointment_id;
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
    /* Inventory consumed the completed session, billing charged it. */
    s_wait (fx, "SELECT count (*) FROM inventory.reservation WHERE patient_id = $1 AND status = 'consumed'",
            ana, 1);
    s_wait (fx, "SELECT count (*) FROM billing.session_charge WHERE patient_id = $1", ana, 1);
    meso__v1__book_course_reply__free_unpacked (course, NULL);

    /* A reported change (after the course: nothing to put on hold). */
    Meso__V1__ReportChangeRequest rc = MESO__V1__REPORT_CHANGE_REQUEST__INIT;
    char *changes[] = { "medication" };
    rc.patient_id = ana;
    rc.changes = changes;
    rc.n_changes = 1;
    rc.note = "started an antihistamine";
    protobuf_c_message_free_unpacked (s_ok (fx, fx->scr, "screening.ReportChange", &rc.base,
                                            &meso__v1__report_change_reply__descriptor), NULL);

    /* Bea: a session and an invoice of her own. */
    char day[11], at[17], appt[40];
    meso_result_t r = { 0 };
    fx_day (3, day);
    snprintf (at, sizeof at, "%sT15:00", day);
    assert_int_equal (fx_book_session (fx, fx->sch, "par", bea, "dr-a", "r1", at, 60, appt, &r), MESO_OK);
    meso_result_reset (&r);
    char binv[40];
    s_invoice (fx, bil, bea, binv);

    /* The export. */
    char path[600];
    assert_int_equal (s_export (fx, ana, path, sizeof path), 0);
    struct { const char *expr, *sql; } kinds[] = {
        { "1 if d['screening']['patient']['id'] == d['export']['patient_id'] else 0",
          "SELECT count (*) FROM screening.patients WHERE id = $1::uuid" },
        { "len(d['screening']['screenings'])",
          "SELECT count (*) FROM screening.screenings WHERE patient_id = $1::uuid" },
        { "sum(1 for s in d['screening']['screenings'] if s['answers'] and s['verdict'])",
          "SELECT count (*) FROM screening.screenings WHERE patient_id = $1::uuid" },
        { "len(d['screening']['changes'])",
          "SELECT count (*) FROM screening.patient_changes WHERE patient_id = $1::uuid" },
        { "len(d['screening']['consents'])",
          "SELECT count (*) FROM screening.consent_signatures WHERE patient_id = $1::uuid" },
        { "len(d['scheduling']['courses'])",
          "SELECT count (*) FROM scheduling.course WHERE patient_id = $1" },
        { "sum(len(c['sessions']) for c in d['scheduling']['courses'])",
          "SELECT count (*) FROM scheduling.appointment WHERE patient_id = $1" },
        { "sum(1 for c in d['scheduling']['courses'] for s in c['sessions'] if s['status'] == 'SESSION_STATUS_COMPLETED')",
          "SELECT count (*) FROM scheduling.appointment WHERE patient_id = $1 AND status = 'completed'" },
        { "sum(1 for c in d['scheduling']['courses'] for s in c['sessions'] if s['status'] == 'SESSION_STATUS_CANCELLED')",
          "SELECT count (*) FROM scheduling.appointment WHERE patient_id = $1 AND status = 'cancelled'" },
        { "len(d['inventory']['reservations'])",
          "SELECT count (*) FROM inventory.reservation WHERE patient_id = $1" },
        { "sum(len(x['consumed']) for x in d['inventory']['reservations'])",
          "SELECT count (*) FROM inventory.consumption c JOIN inventory.reservation r"
          " USING (clinic_id, appointment_id) WHERE r.patient_id = $1" },
        { "sum(1 for x in d['inventory']['reservations'] for l in x['consumed'] if l['lot_number'])",
          "SELECT count (*) FROM inventory.consumption c JOIN inventory.reservation r"
          " USING (clinic_id, appointment_id) WHERE r.patient_id = $1" },
        { "len(d['billing']['invoices'])", "SELECT count (*) FROM billing.invoice WHERE patient_id = $1" },
        { "len(d['billing']['payments'])", "SELECT count (*) FROM billing.payment WHERE patient_id = $1" },
        { "len(d['billing']['refunds'])", "SELECT count (*) FROM billing.refund WHERE patient_id = $1" },
        { "len(d['billing']['credit_notes'])",
          "SELECT count (*) FROM billing.credit_note WHERE patient_id = $1" },
        { "len(d['billing']['packages'])", "SELECT count (*) FROM billing.package WHERE patient_id = $1" },
        { "sum(p['sessions_used'] for p in d['billing']['packages'])",
          "SELECT count (*) FROM billing.package_use WHERE patient_id = $1" },
    };
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        long got = s_count (path, kinds[i].expr);
        int64_t want = fx_sql (fx, kinds[i].sql, ana);
        if (got != want || want == 0)
            fail_msg ("%s: %ld in the export, %lld in the database", kinds[i].expr, got, (long long) want);
    }
    /* The history is the one made above. */
    assert_int_equal (s_count (path, "sum(len(c['sessions']) for c in d['scheduling']['courses'])"), 3);
    assert_int_equal (s_count (path, "len(d['billing']['invoices'])"), 2);
    assert_int_equal (s_count (path, "len(d['screening']['consents'])"), 2);
    /* The header: all four answered, who asked, and the audit place. */
    assert_int_equal (s_count (path, "1 if d['export']['complete'] and len(d['export']['services']) == 4"
                                     " and all(s['status'] == 'OK' for s in d['export']['services'])"
                                     " and d['export']['generated_by']['public_key'] and d['export']['audit_included']"
                                     " else 0"), 1);
    /* Every audit entry of Ana, the export's own four reads included. */
    long audited = s_count (path, "len(d['audit'])");
    assert_true (audited > 4);
    assert_int_equal (audited, fx_sql (fx, "SELECT count (*) FROM audit.entry WHERE patient_id = $1", ana));
    assert_int_equal (s_count (path, "sum(1 for a in d['audit'] if a['method'].endswith('.ExportPatient'))"), 4);
    /* Nothing of Bea. */
    char cmd[1024];
    snprintf (cmd, sizeof cmd, "! grep -q -e %s -e %s -e %s %s", bea, appt, binv, path);
    assert_int_equal (mt_sh ("%s", cmd), 0);
    /* Bea's own export has her session and invoice, and nothing of Ana. */
    char path2[600];
    assert_int_equal (s_export (fx, bea, path2, sizeof path2), 0);
    assert_int_equal (s_count (path2, "len(d['billing']['invoices'])"), 1);
    assert_int_equal (s_count (path2, "len(d['inventory']['reservations'])"), 1);
    snprintf (cmd, sizeof cmd, "! grep -q -e %s -e %s %s", ana, inv, path2);
    assert_int_equal (mt_sh ("%s", cmd), 0);

    /* Refused: a clinic manager of lyo only (Ana's records are at par), the
     * front desk of par. An unknown patient is NOT_FOUND at screening. */
    zcert_t *mgr = mt_principal_add (fx->admin, "lyo-manager", "person", "{clinic_manager}", "{lyo}",
                                     NULL, true);
    zcert_t *desk = mt_principal_add (fx->admin, "par-desk", "person", "{front_desk}", "{par}", NULL, false);
    assert_non_null (mgr);
    assert_non_null (desk);
    Meso__V1__ExportPatientRequest ex = MESO__V1__EXPORT_PATIENT_REQUEST__INIT;
    ex.patient_id = ana;
    const char *eps[] = { fx->screening_ep, fx->sched_ep[0], fx->inventory_ep, s_billing_ep };
    const char *methods[] = { "screening.ExportPatient", "scheduling.ExportPatient",
                              "inventory.ExportPatient", "billing.ExportPatient" };
    for (int i = 0; i < 4; i++) {
        meso_bus_client_t *m = mt_client_as (eps[i], mgr), *d = mt_client_as (eps[i], desk);
        int st = -1;
        for (int t = 0; t < 100 && st != MESO_PERMISSION_DENIED; t++) {
            st = fx_call (fx, m, methods[i], &ex.base, NULL, &r);
            if (st != MESO_PERMISSION_DENIED)
                mt_sleep_ms (50);   /* the daemons reload principals on NOTIFY */
        }
        assert_int_equal (st, MESO_PERMISSION_DENIED);
        assert_true (fx_has_reason (&r, "out_of_scope"));
        assert_int_equal (fx_call (fx, d, methods[i], &ex.base, NULL, &r), MESO_PERMISSION_DENIED);
        meso_bus_client_destroy (&m);
        meso_bus_client_destroy (&d);
    }
    ex.patient_id = "6f1c0a7e-2b1d-4c3e-9f00-0a1b2c3d4e5f";
    assert_int_equal (fx_call (fx, fx->scr, "screening.ExportPatient", &ex.base, NULL, &r), MESO_NOT_FOUND);
    assert_int_equal (fx_call (fx, bil, "billing.ExportPatient", &ex.base, NULL, &r), MESO_OK);
    ex.patient_id = "";
    assert_int_equal (fx_call (fx, bil, "billing.ExportPatient", &ex.base, NULL, &r), MESO_INVALID_ARGUMENT);
    meso_result_reset (&r);
    zcert_destroy (&mgr);
    zcert_destroy (&desk);
    unlink (path);
    unlink (path2);
    meso_bus_client_destroy (&bil);
    mt_stop (s_billing_pid, SIGTERM);
    fx_teardown (fx);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_export_holds_every_record_of_the_patient),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
