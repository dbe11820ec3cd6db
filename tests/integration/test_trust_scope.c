/* test_trust_scope.c -- clinic scopes and roles end to end: real
 * meso-screening, meso-inventory, meso-scheduling, meso-billing and
 * meso-events over CURVE, principals registered in access.principal.
 *
 * The tester (every role, every clinic) sets up two clinics with stock,
 * consent texts and prices, a patient screened in each, a session and a
 * payment in clinic B. Then people of clinic A, each with one role and
 * the scope {clinic-a}, try what their job allows and what it does not:
 *   - the front desk books a course in A (the saga calls screening and
 *     inventory for it), and is refused, with PERMISSION_DENIED
 *     "out_of_scope", B's patient, B's appointment, B's stock;
 *   - a clinician reads A's patient and not B's (until B's patient is
 *     screened in A);
 *   - a stock keeper adjusts A's lots, not B's (naming clinic A and a lot
 *     of B is NOT_FOUND: lots are looked up in the clinic named);
 *   - a billing clerk refunds in A, not a payment of B;
 *   - the front desk may not call Adjust, RecordRefund or Reserve at all
 *     ("role_missing"), and a request without its clinic is refused.
 * Every refusal leaves every schema as it was (mt_fingerprint before and
 * after, once the background consumers are quiet). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <czmq.h>

#include "scheduling_fixture.h"
#include "billing.pb-c.h"

#define S_SCHEMAS "screening,scheduling,inventory,billing,events,access"

static const char *s_practs_a[] = { "pract-a" }, *s_rooms_a[] = { "room-a" };
static const char *s_practs_b[] = { "pract-b" }, *s_rooms_b[] = { "room-b" };

typedef struct {
    fx_t *fx;
    pid_t billing_pid;
    char billing_ep[256];
    meso_bus_client_t *bil;             /* billing as the tester */
    char pat_a[40], pat_b[40];          /* home clinic A, home clinic B */
    char appt_b[40], course_b[40];      /* booked by the tester in B */
    char lot_a[80], lot_b[80];
    char pay_a[40], pay_b[40];
    zcert_t *desk_cert, *clin_cert, *stock_cert, *clerk_cert;
    /* desk-a at each daemon; the others where their job is */
    meso_bus_client_t *desk_scr, *desk_sch, *desk_inv, *desk_bil;
    meso_bus_client_t *clin_scr, *clin_sch, *stock_inv, *clerk_bil;
} s_world_t;

static s_world_t *s_w;

/* ------------------------------------------------------------- helpers */

/* One text value from SQL (superuser) into out. */
static void
s_text (fx_t *fx, const char *sql, const char *p1, char *out, size_t size)
{
    const char *params[] = { p1 };
    PGresult *res = meso_db_query (fx->db, sql, p1 ? 1 : 0, p1 ? params : NULL);
    assert_non_null (res);
    assert_int_equal (PQntuples (res), 1);
    snprintf (out, size, "%s", PQgetvalue (res, 0, 0));
    PQclear (res);
}

/* The fingerprint of every schema once nothing changes it any more (the
 * consumers of the setup's events are done). */
static void
s_quiet_fingerprint (fx_t *fx, char *out)
{
    char again[40];
    assert_int_equal (mt_fingerprint (fx->db, S_SCHEMAS, out, 40), 0);
    for (int i = 0; i < 50; i++) {
        mt_sleep_ms (200);
        assert_int_equal (mt_fingerprint (fx->db, S_SCHEMAS, again, sizeof again), 0);
        if (strcmp (out, again) == 0)
            return;
        snprintf (out, 40, "%s", again);
    }
    fail_msg ("the database never became quiet");
}

/* Calls method as client c with a fresh key and asserts the refusal:
 * status, and reason code on field (field NULL: any field). Asserts the
 * database did not change. */
static void
s_refused (meso_bus_client_t *c, const char *method, const ProtobufCMessage *body, int status,
           const char *code, const char *field)
{
    fx_t *fx = s_w->fx;
    char before[40], after[40];
    s_quiet_fingerprint (fx, before);
    meso_result_t r = { 0 };
    int got = fx_call (fx, c, method, body, NULL, &r);
    if (got != status)
        fail_msg ("%s: status %d (%s), expected %d", method, got,
                  r.reply && r.reply->message ? r.reply->message : "", status);
    if (code) {
        bool found = false;
        for (size_t i = 0; r.reply && i < r.reply->n_reasons; i++)
            if (strcmp (r.reply->reasons[i]->code, code) == 0
                && (!field || strcmp (r.reply->reasons[i]->field, field) == 0))
                found = true;
        if (!found)
            fail_msg ("%s: no reason %s on %s in \"%s\"", method, code, field ? field : "*",
                      r.reply && r.reply->message ? r.reply->message : "");
    }
    meso_result_reset (&r);
    assert_int_equal (mt_fingerprint (fx->db, S_SCHEMAS, after, sizeof after), 0);
    if (strcmp (before, after) != 0)
        fail_msg ("%s was refused but the database changed", method);
}

static pid_t
s_spawn_billing (s_world_t *w)
{
    fx_t *fx = w->fx;
    char role[512], db[600], bind[300], ev[300], evp[300];
    mt_role_conninfo (fx->dbname, "meso_billing", role, sizeof role);
    snprintf (db, sizeof db, "--db=%s", role);
    mt_ipc_endpoint ("bil", w->billing_ep, sizeof w->billing_ep);
    snprintf (bind, sizeof bind, "--bind=%s", w->billing_ep);
    snprintf (ev, sizeof ev, "--events=%s", fx->events_router);
    snprintf (evp, sizeof evp, "--events-pub=%s", fx->events_pub);
    const char *argv[] = { "meso-billing", db, bind, ev, evp, "--scheduling=", NULL };
    pid_t pid = mt_spawn ("bin/meso-billing", argv, NULL);
    assert_true (pid > 0);
    assert_int_equal (mt_wait_healthy (w->billing_ep, 10000), 0);
    return pid;
}

/* Waits until billing's consumer has seen patient (screening events). */
static void
s_billing_knows (fx_t *fx, const char *patient)
{
    for (int i = 0; i < 100; i++) {
        if (fx_sql (fx, "SELECT count (*) FROM billing.patient WHERE patient_id = $1", patient) == 1)
            return;
        mt_sleep_ms (100);
    }
    fail_msg ("billing never learnt of patient %s", patient);
}

static void
s_price_list (s_world_t *w, const char *clinic)
{
    char from[16];
    fx_day (-1, from);
    Meso__V1__PriceEntry e = MESO__V1__PRICE_ENTRY__INIT, *ep[] = { &e };
    e.areas = 1;
    e.price_cents = 30000;
    Meso__V1__PriceList pl = MESO__V1__PRICE_LIST__INIT;
    pl.clinic_id = (char *) clinic;
    pl.effective_from = from;
    pl.currency = "EUR";
    pl.prices = ep;
    pl.n_prices = 1;
    Meso__V1__SetPriceListRequest rq = MESO__V1__SET_PRICE_LIST_REQUEST__INIT;
    rq.price_list = &pl;
    meso_result_t r = { 0 };
    assert_int_equal (fx_call (w->fx, w->bil, "billing.SetPriceList", &rq.base, NULL, &r), MESO_OK);
    meso_result_reset (&r);
}

/* An invoice of 300.00 in clinic for patient, paid in full; the payment's
 * id into pay. */
static void
s_paid_invoice (s_world_t *w, const char *clinic, const char *patient, char *pay)
{
    meso_result_t r = { 0 };
    Meso__V1__InvoiceLine l = MESO__V1__INVOICE_LINE__INIT, *lp[] = { &l };
    l.amount_cents = 30000;
    l.areas = 1;
    Meso__V1__IssueInvoiceRequest iv = MESO__V1__ISSUE_INVOICE_REQUEST__INIT;
    iv.clinic_id = (char *) clinic;
    iv.patient_id = (char *) patient;
    iv.lines = lp;
    iv.n_lines = 1;
    assert_int_equal (fx_call (w->fx, w->bil, "billing.IssueInvoice", &iv.base, NULL, &r), MESO_OK);
    size_t len;
    const uint8_t *b = meso_result_body (&r, &len);
    Meso__V1__IssueInvoiceReply *io = meso__v1__issue_invoice_reply__unpack (NULL, len, b);
    assert_non_null (io);
    Meso__V1__RecordPaymentRequest rp = MESO__V1__RECORD_PAYMENT_REQUEST__INIT;
    rp.clinic_id = (char *) clinic;
    rp.target_case = MESO__V1__RECORD_PAYMENT_REQUEST__TARGET_INVOICE_ID;
    rp.invoice_id = io->invoice->invoice_id;
    rp.amount_cents = 30000;
    rp.method = MESO__V1__PAYMENT_METHOD__PAYMENT_METHOD_CARD;
    meso_result_t pr = { 0 };
    assert_int_equal (fx_call (w->fx, w->bil, "billing.RecordPayment", &rp.base, NULL, &pr), MESO_OK);
    meso__v1__issue_invoice_reply__free_unpacked (io, NULL);
    b = meso_result_body (&pr, &len);
    Meso__V1__RecordPaymentReply *po = meso__v1__record_payment_reply__unpack (NULL, len, b);
    assert_non_null (po);
    snprintf (pay, 40, "%s", po->payment->payment_id);
    meso__v1__record_payment_reply__free_unpacked (po, NULL);
    meso_result_reset (&r);
    meso_result_reset (&pr);
}

static zcert_t *
s_person (fx_t *fx, const char *name, const char *roles, bool health)
{
    zcert_t *cert = mt_principal_add (fx->admin, name, "person", roles, "{clinic-a}", NULL, health);
    assert_non_null (cert);
    return cert;
}

/* A client of endpoint as cert, once the daemon knows the key: a key
 * registered a moment ago may still be unknown to a daemon that has not
 * reloaded its principals yet, and a connection refused once is not
 * retried (libzmq does not reconnect after a failed CURVE handshake), so
 * the client asks Health and is made again until it is answered. */
static meso_bus_client_t *
s_as (const char *endpoint, zcert_t *cert)
{
    for (int attempt = 0; attempt < 20; attempt++) {
        meso_bus_client_t *c = mt_client_as (endpoint, cert);
        assert_non_null (c);
        meso_result_t r = { 0 };
        meso_bus_client_call (c, "Health", NULL, NULL, 3000, &r);
        int status = r.status;
        meso_result_reset (&r);
        if (status == MESO_OK)
            return c;
        fprintf (stderr, "client of %s as %s: attempt %d answered %d\n", endpoint,
                 zcert_public_txt (cert), attempt + 1, status);
        meso_bus_client_destroy (&c);
        mt_sleep_ms (100);
    }
    fail_msg ("%s never accepted the key", endpoint);
    return NULL;
}

/* --------------------------------------------------------------- setup */

static int
s_setup (void **state)
{
    (void) state;
    s_world_t *w = calloc (1, sizeof *w);
    assert_non_null (w);
    s_w = w;
    fx_t *fx = w->fx = fx_setup_events ("trust_scope", 1);
    w->billing_pid = s_spawn_billing (w);
    w->bil = mt_client (w->billing_ep);
    assert_non_null (w->bil);
    fx_clinic (fx, "clinic-a", "UTC", s_practs_a, 1, s_rooms_a, 1, true);
    fx_clinic (fx, "clinic-b", "UTC", s_practs_b, 1, s_rooms_b, 1, true);
    fx_patient (fx, "clinic-a", NULL, false, w->pat_a);
    fx_patient (fx, "clinic-b", NULL, false, w->pat_b);
    s_text (fx, "SELECT lot_id FROM inventory.lot WHERE clinic_id = $1 ORDER BY lot_id LIMIT 1",
            "clinic-a", w->lot_a, sizeof w->lot_a);
    s_text (fx, "SELECT lot_id FROM inventory.lot WHERE clinic_id = $1 ORDER BY lot_id LIMIT 1",
            "clinic-b", w->lot_b, sizeof w->lot_b);

    /* A session of B's patient in B, booked by the tester. */
    char day[11], start[17];
    fx_day (9, day);
    snprintf (start, sizeof start, "%sT10:00", day);
    meso_result_t r = { 0 };
    assert_int_equal (fx_book_session (fx, fx->sch, "clinic-b", w->pat_b, "pract-b", "room-b", start, 60,
                                       w->appt_b, &r), MESO_OK);
    meso_result_reset (&r);
    s_text (fx, "SELECT course_id FROM scheduling.appointment WHERE appointment_id = $1", w->appt_b,
            w->course_b, sizeof w->course_b);

    /* A payment in each clinic. */
    s_price_list (w, "clinic-a");
    s_price_list (w, "clinic-b");
    s_billing_knows (fx, w->pat_a);
    s_billing_knows (fx, w->pat_b);
    s_paid_invoice (w, "clinic-a", w->pat_a, w->pay_a);
    s_paid_invoice (w, "clinic-b", w->pat_b, w->pay_b);

    /* The people of clinic A. */
    w->desk_cert = s_person (fx, "desk-a", "{front_desk}", false);
    w->clin_cert = s_person (fx, "clinician-a", "{clinician}", true);
    w->stock_cert = s_person (fx, "stock-a", "{stock_keeper}", false);
    w->clerk_cert = s_person (fx, "clerk-a", "{billing_clerk}", false);
    w->desk_scr = s_as (fx->screening_ep, w->desk_cert);
    w->desk_sch = s_as (fx->sched_ep[0], w->desk_cert);
    w->desk_inv = s_as (fx->inventory_ep, w->desk_cert);
    w->desk_bil = s_as (w->billing_ep, w->desk_cert);
    w->clin_scr = s_as (fx->screening_ep, w->clin_cert);
    w->clin_sch = s_as (fx->sched_ep[0], w->clin_cert);
    w->stock_inv = s_as (fx->inventory_ep, w->stock_cert);
    w->clerk_bil = s_as (w->billing_ep, w->clerk_cert);
    return 0;
}

static int
s_teardown (void **state)
{
    (void) state;
    s_world_t *w = s_w;
    meso_bus_client_t **clients[] = { &w->desk_scr, &w->desk_sch, &w->desk_inv, &w->desk_bil,
                                      &w->clin_scr, &w->clin_sch, &w->stock_inv, &w->clerk_bil,
                                      &w->bil };
    for (size_t i = 0; i < sizeof clients / sizeof clients[0]; i++)
        meso_bus_client_destroy (clients[i]);
    zcert_destroy (&w->desk_cert);
    zcert_destroy (&w->clin_cert);
    zcert_destroy (&w->stock_cert);
    zcert_destroy (&w->clerk_cert);
    assert_int_equal (mt_stop (w->billing_pid, SIGTERM), 0);
    fx_teardown (w->fx);
    free (w);
    s_w = NULL;
    return 0;
}

/* ------------------------------------------------------------- bookings */

/* desk-a books a two-session course for A's patient in A: the saga runs
 * on its behalf (screening.Check, inventory.Reserve as the scheduling
 * service), and the course is there with its stock held. */
static void
test_front_desk_books_in_own_clinic (void **state)
{
    (void) state;
    fx_t *fx = s_w->fx;
    char first[16];
    fx_day (8, first);
    char *areas[] = { "thighs" };
    Meso__V1__CourseSpec sp = MESO__V1__COURSE_SPEC__INIT;
    sp.clinic_id = "clinic-a";
    sp.patient_id = s_w->pat_a;
    sp.grade = 2;
    sp.areas = areas;
    sp.n_areas = 1;
    sp.first_date = first;
    sp.preferred_time = "10:00";
    sp.sessions = 2;
    sp.recipe_id = "lipo";
    Meso__V1__BookCourseRequest rq = MESO__V1__BOOK_COURSE_REQUEST__INIT;
    rq.spec = &sp;
    meso_result_t r = { 0 };
    int st = fx_call (fx, s_w->desk_sch, "scheduling.BookCourse", &rq.base, NULL, &r);
    if (st != MESO_OK)
        fail_msg ("BookCourse as desk-a: %d %s", st, r.reply ? r.reply->message : "");
    meso_result_reset (&r);
    assert_int_equal (fx_sql (fx, "SELECT count (*) FROM scheduling.appointment WHERE clinic_id = 'clinic-a'"
                              " AND status = 'booked' AND patient_id::text = $1", s_w->pat_a), 2);
    assert_int_equal (fx_sql (fx, "SELECT count (*) FROM inventory.reservation WHERE clinic_id = 'clinic-a'"
                              " AND status = 'held'", NULL), 2);

    /* GetCourse by patient lists only the courses of the caller's clinics. */
    Meso__V1__GetCourseRequest gc = MESO__V1__GET_COURSE_REQUEST__INIT;
    gc.patient_id = s_w->pat_a;
    gc.key_case = MESO__V1__GET_COURSE_REQUEST__KEY_PATIENT_ID;
    assert_int_equal (fx_call (fx, s_w->desk_sch, "scheduling.GetCourse", &gc.base, NULL, &r), MESO_OK);
    size_t len;
    const uint8_t *b = meso_result_body (&r, &len);
    Meso__V1__GetCourseReply *out = meso__v1__get_course_reply__unpack (NULL, len, b);
    assert_non_null (out);
    assert_int_equal (out->n_courses, 1);
    assert_string_equal (out->courses[0]->clinic_id, "clinic-a");
    meso__v1__get_course_reply__free_unpacked (out, NULL);
    gc.patient_id = s_w->pat_b;                 /* B's patient: none of A's */
    gc.key_case = MESO__V1__GET_COURSE_REQUEST__KEY_PATIENT_ID;
    assert_int_equal (fx_call (fx, s_w->desk_sch, "scheduling.GetCourse", &gc.base, NULL, &r), MESO_OK);
    b = meso_result_body (&r, &len);
    out = meso__v1__get_course_reply__unpack (NULL, len, b);
    assert_non_null (out);
    assert_int_equal (out->n_courses, 0);
    meso__v1__get_course_reply__free_unpacked (out, NULL);
    meso_result_reset (&r);
}

/* B's appointment and course: every method naming them refuses desk-a
 * (and clinician-a), before any effect. */
static void
test_appointment_of_other_clinic (void **state)
{
    (void) state;
    char day[11], start[17];
    fx_day (10, day);
    snprintf (start, sizeof start, "%sT11:00", day);
    Meso__V1__RescheduleRequest rs = MESO__V1__RESCHEDULE_REQUEST__INIT;
    rs.appointment_id = s_w->appt_b;
    rs.local_start = start;
    s_refused (s_w->desk_sch, "scheduling.Reschedule", &rs.base, MESO_PERMISSION_DENIED,
               "out_of_scope", "appointment_id");
    Meso__V1__CancelRequest cn = MESO__V1__CANCEL_REQUEST__INIT;
    cn.appointment_id = s_w->appt_b;
    cn.by = MESO__V1__CANCELLED_BY__CANCELLED_BY_PATIENT;
    s_refused (s_w->desk_sch, "scheduling.Cancel", &cn.base, MESO_PERMISSION_DENIED, "out_of_scope",
               "appointment_id");
    Meso__V1__SessionRef ref = MESO__V1__SESSION_REF__INIT;
    ref.appointment_id = s_w->appt_b;
    s_refused (s_w->desk_sch, "scheduling.MarkNoShow", &ref.base, MESO_PERMISSION_DENIED,
               "out_of_scope", "appointment_id");
    s_refused (s_w->clin_sch, "scheduling.StartSession", &ref.base, MESO_PERMISSION_DENIED,
               "out_of_scope", "appointment_id");
    Meso__V1__CompleteSessionRequest cs = MESO__V1__COMPLETE_SESSION_REQUEST__INIT;
    cs.appointment_id = s_w->appt_b;
    s_refused (s_w->clin_sch, "scheduling.CompleteSession", &cs.base, MESO_PERMISSION_DENIED,
               "out_of_scope", "appointment_id");
    Meso__V1__GetCourseRequest gc = MESO__V1__GET_COURSE_REQUEST__INIT;
    gc.course_id = s_w->course_b;
    gc.key_case = MESO__V1__GET_COURSE_REQUEST__KEY_COURSE_ID;
    s_refused (s_w->desk_sch, "scheduling.GetCourse", &gc.base, MESO_PERMISSION_DENIED, "out_of_scope",
               "course_id");
    /* An id that does not exist is just not found. */
    ref.appointment_id = "no-such-appointment";
    s_refused (s_w->desk_sch, "scheduling.MarkNoShow", &ref.base, MESO_NOT_FOUND, NULL, NULL);

    /* The tester cancels B's session; desk-a sending the same request
     * under the same key gets a refusal, not the stored reply. */
    meso_result_t r = { 0 };
    assert_int_equal (fx_call (s_w->fx, s_w->fx->sch, "scheduling.Cancel", &cn.base, "cancel-b", &r), MESO_OK);
    meso_result_reset (&r);
    assert_int_equal (fx_call (s_w->fx, s_w->desk_sch, "scheduling.Cancel", &cn.base, "cancel-b", &r),
                      MESO_PERMISSION_DENIED);
    assert_false (r.reply->replayed);
    assert_true (fx_has_reason (&r, "out_of_scope"));
    meso_result_reset (&r);
}

/* A practitioner working in B may not be changed by a manager of A. */
static void
test_practitioner_of_other_clinic (void **state)
{
    (void) state;
    fx_t *fx = s_w->fx;
    zcert_t *cert = s_person (fx, "manager-a", "{clinic_manager}", false);
    meso_bus_client_t *mgr = s_as (fx->sched_ep[0], cert);
    Meso__V1__DayHours h = MESO__V1__DAY_HOURS__INIT, *hp[] = { &h };
    h.weekday = 1;
    h.opens = "09:00";
    h.closes = "17:00";
    Meso__V1__PractitionerClinic pc = MESO__V1__PRACTITIONER_CLINIC__INIT, *pcp[] = { &pc };
    pc.clinic_id = "clinic-a";
    pc.hours = hp;
    pc.n_hours = 1;
    Meso__V1__Practitioner p = MESO__V1__PRACTITIONER__INIT;
    p.practitioner_id = "pract-b";              /* works in B: taking it to A would drop B's hours */
    p.name = "Taken";
    p.clinics = pcp;
    p.n_clinics = 1;
    Meso__V1__UpsertPractitionerRequest rq = MESO__V1__UPSERT_PRACTITIONER_REQUEST__INIT;
    rq.practitioner = &p;
    s_refused (mgr, "scheduling.UpsertPractitioner", &rq.base, MESO_PERMISSION_DENIED, "out_of_scope",
               "practitioner.practitioner_id");
    pc.clinic_id = "clinic-b";                  /* a new practitioner in B */
    p.practitioner_id = "pract-new";
    s_refused (mgr, "scheduling.UpsertPractitioner", &rq.base, MESO_PERMISSION_DENIED, "out_of_scope",
               "practitioner.clinics[0].clinic_id");
    pc.clinic_id = "clinic-a";                  /* a new practitioner in A */
    meso_result_t r = { 0 };
    assert_int_equal (fx_call (fx, mgr, "scheduling.UpsertPractitioner", &rq.base, NULL, &r), MESO_OK);
    meso_result_reset (&r);
    assert_int_equal (fx_sql (fx, "SELECT count (*) FROM scheduling.practitioner_hours"
                              " WHERE practitioner_id = 'pract-new' AND clinic_id = 'clinic-a'", NULL), 1);
    meso_bus_client_destroy (&mgr);
    zcert_destroy (&cert);
}

/* ------------------------------------------------------------- patients */

static void
test_patient_of_other_clinic (void **state)
{
    (void) state;
    fx_t *fx = s_w->fx;
    meso_result_t r = { 0 };
    Meso__V1__GetScreeningRequest gs = MESO__V1__GET_SCREENING_REQUEST__INIT;
    gs.patient_id = s_w->pat_a;
    assert_int_equal (fx_call (fx, s_w->clin_scr, "screening.GetScreening", &gs.base, NULL, &r), MESO_OK);
    meso_result_reset (&r);
    gs.patient_id = s_w->pat_b;
    s_refused (s_w->clin_scr, "screening.GetScreening", &gs.base, MESO_PERMISSION_DENIED, "out_of_scope",
               "patient_id");
    /* The front desk reads no health record at all. */
    gs.patient_id = s_w->pat_a;
    s_refused (s_w->desk_scr, "screening.GetScreening", &gs.base, MESO_PERMISSION_DENIED, "role_missing",
               NULL);

    char *changes[] = { "pregnancy" };
    Meso__V1__ReportChangeRequest rc = MESO__V1__REPORT_CHANGE_REQUEST__INIT;
    rc.patient_id = s_w->pat_b;
    rc.changes = changes;
    rc.n_changes = 1;
    s_refused (s_w->desk_scr, "screening.ReportChange", &rc.base, MESO_PERMISSION_DENIED, "out_of_scope",
               "patient_id");

    Meso__V1__Patient p = MESO__V1__PATIENT__INIT;
    p.id = s_w->pat_b;
    p.phone = "+34 600 000 001";
    Meso__V1__UpdatePatientRequest up = MESO__V1__UPDATE_PATIENT_REQUEST__INIT;
    up.patient = &p;
    s_refused (s_w->desk_scr, "screening.UpdatePatient", &up.base, MESO_PERMISSION_DENIED, "out_of_scope",
               "patient.id");
    p.id = s_w->pat_a;                          /* A's patient moved to B: B is not desk-a's */
    p.phone = "";
    p.home_clinic_id = "clinic-b";
    s_refused (s_w->desk_scr, "screening.UpdatePatient", &up.base, MESO_PERMISSION_DENIED, "out_of_scope",
               "patient.home_clinic_id");
    p.home_clinic_id = "";                      /* A's patient, A's data: fine */
    p.phone = "+34 600 000 002";
    assert_int_equal (fx_call (fx, s_w->desk_scr, "screening.UpdatePatient", &up.base, NULL, &r), MESO_OK);
    size_t uplen;
    const uint8_t *upbody = meso_result_body (&r, &uplen);
    Meso__V1__UpdatePatientReply *upr = meso__v1__update_patient_reply__unpack (NULL, uplen, upbody);
    assert_non_null (upr);
    assert_string_equal (upr->patient->phone, "+34 600 000 002");
    meso__v1__update_patient_reply__free_unpacked (upr, NULL);
    meso_result_reset (&r);
    /* Stored sealed (migration 023): the phone is in `personal`. */
    assert_int_equal (fx_sql (fx, "SELECT count (*) FROM screening.patients WHERE id = $1::uuid"
                              " AND phone IS NULL AND personal IS NOT NULL AND home_clinic_id = 'clinic-a'",
                              s_w->pat_a), 1);

    /* Once B's patient is screened in A, A's clinician may read its
     * record and A's front desk report its changes. */
    Meso__V1__Questionnaire q = MESO__V1__QUESTIONNAIRE__INIT;
    Meso__V1__Answer no = MESO__V1__ANSWER__ANSWER_NO;
    q.pregnancy = q.breastfeeding = q.diabetes = q.active_infection = no;
    q.septicaemia = q.immunocompromised = q.liver_failure = q.kidney_failure = no;
    q.coagulation_disorder = q.menstrual_disorder = q.cancer = no;
    q.heart_arrhythmia = q.blood_clots = no;
    q.height_mm = 1700;
    q.weight_g = 65000;
    Meso__V1__AreaGrade ag = MESO__V1__AREA_GRADE__INIT, *ags[] = { &ag };
    ag.area = "thighs";
    ag.grade = 2;
    q.areas = ags;
    q.n_areas = 1;
    Meso__V1__RecordScreeningRequest sr = MESO__V1__RECORD_SCREENING_REQUEST__INIT;
    sr.patient_id = s_w->pat_b;
    sr.clinic_id = "clinic-a";
    sr.answers = &q;
    assert_int_equal (fx_call (fx, s_w->clin_scr, "screening.RecordScreening", &sr.base, NULL, &r), MESO_OK);
    meso_result_reset (&r);
    gs.patient_id = s_w->pat_b;
    assert_int_equal (fx_call (fx, s_w->clin_scr, "screening.GetScreening", &gs.base, NULL, &r), MESO_OK);
    meso_result_reset (&r);
    rc.changes[0] = "allergy";
    assert_int_equal (fx_call (fx, s_w->desk_scr, "screening.ReportChange", &rc.base, NULL, &r), MESO_OK);
    meso_result_reset (&r);
    /* Its personal data stay its home clinic's. */
    p.id = s_w->pat_b;
    s_refused (s_w->desk_scr, "screening.UpdatePatient", &up.base, MESO_PERMISSION_DENIED, "out_of_scope",
               "patient.id");
}

/* ---------------------------------------------------------------- stock */

static void
test_lot_of_other_clinic (void **state)
{
    (void) state;
    fx_t *fx = s_w->fx;
    Meso__V1__GetStockRequest gs = MESO__V1__GET_STOCK_REQUEST__INIT;
    gs.clinic_id = "clinic-b";
    s_refused (s_w->desk_inv, "inventory.GetStock", &gs.base, MESO_PERMISSION_DENIED, "out_of_scope",
               "clinic_id");
    Meso__V1__AdjustRequest ad = MESO__V1__ADJUST_REQUEST__INIT;
    ad.clinic_id = "clinic-b";
    ad.lot_id = s_w->lot_b;
    ad.delta_milli = -1000;
    ad.reason = "spilt";
    s_refused (s_w->stock_inv, "inventory.Adjust", &ad.base, MESO_PERMISSION_DENIED, "out_of_scope",
               "clinic_id");
    ad.clinic_id = "clinic-a";                  /* A named, B's lot: not in A */
    s_refused (s_w->stock_inv, "inventory.Adjust", &ad.base, MESO_NOT_FOUND, NULL, NULL);
    Meso__V1__TransferRequest tr = MESO__V1__TRANSFER_REQUEST__INIT;
    tr.from_clinic_id = "clinic-b";
    tr.to_clinic_id = "clinic-a";
    tr.lot_id = s_w->lot_b;
    tr.quantity_milli = 1000;
    tr.reason = "borrowed";
    s_refused (s_w->stock_inv, "inventory.Transfer", &tr.base, MESO_PERMISSION_DENIED, "out_of_scope",
               "from_clinic_id");

    /* A's own lot: adjusted, and a transfer out of A goes through. */
    int64_t before = fx_sql (fx, "SELECT on_hand_milli FROM inventory.lot WHERE lot_id = $1", s_w->lot_a);
    meso_result_t r = { 0 };
    ad.lot_id = s_w->lot_a;
    assert_int_equal (fx_call (fx, s_w->stock_inv, "inventory.Adjust", &ad.base, NULL, &r), MESO_OK);
    meso_result_reset (&r);
    assert_int_equal (fx_sql (fx, "SELECT on_hand_milli FROM inventory.lot WHERE lot_id = $1", s_w->lot_a),
                      before - 1000);
    tr.from_clinic_id = "clinic-a";
    tr.to_clinic_id = "clinic-b";
    tr.lot_id = s_w->lot_a;
    assert_int_equal (fx_call (fx, s_w->stock_inv, "inventory.Transfer", &tr.base, NULL, &r), MESO_OK);
    meso_result_reset (&r);
    assert_int_equal (fx_sql (fx, "SELECT on_hand_milli FROM inventory.lot WHERE lot_id = $1", s_w->lot_a),
                      before - 2000);
}

/* -------------------------------------------------------------- billing */

static void
test_payment_of_other_clinic (void **state)
{
    (void) state;
    fx_t *fx = s_w->fx;
    Meso__V1__RecordRefundRequest rf = MESO__V1__RECORD_REFUND_REQUEST__INIT;
    rf.clinic_id = "clinic-b";
    rf.payment_id = s_w->pay_b;
    rf.amount_cents = 1000;
    rf.reason = "goodwill";
    s_refused (s_w->clerk_bil, "billing.RecordRefund", &rf.base, MESO_PERMISSION_DENIED, "out_of_scope",
               "clinic_id");
    rf.clinic_id = "clinic-a";                  /* A named, B's payment: not in A */
    s_refused (s_w->clerk_bil, "billing.RecordRefund", &rf.base, MESO_NOT_FOUND, NULL, NULL);
    rf.payment_id = s_w->pay_a;                 /* A's payment: refunded */
    meso_result_t r = { 0 };
    assert_int_equal (fx_call (fx, s_w->clerk_bil, "billing.RecordRefund", &rf.base, NULL, &r), MESO_OK);
    meso_result_reset (&r);
    assert_int_equal (fx_sql (fx, "SELECT coalesce (sum (amount_cents), 0) FROM billing.refund", NULL), 1000);
}

/* ---------------------------------------------------------------- roles */

static void
test_roles_and_missing_clinic (void **state)
{
    (void) state;
    Meso__V1__AdjustRequest ad = MESO__V1__ADJUST_REQUEST__INIT;
    ad.clinic_id = "clinic-a";
    ad.lot_id = s_w->lot_a;
    ad.delta_milli = -1000;
    ad.reason = "spilt";
    s_refused (s_w->desk_inv, "inventory.Adjust", &ad.base, MESO_PERMISSION_DENIED, "role_missing", NULL);
    Meso__V1__RecordRefundRequest rf = MESO__V1__RECORD_REFUND_REQUEST__INIT;
    rf.clinic_id = "clinic-a";
    rf.payment_id = s_w->pay_a;
    rf.amount_cents = 1000;
    rf.reason = "goodwill";
    s_refused (s_w->desk_bil, "billing.RecordRefund", &rf.base, MESO_PERMISSION_DENIED, "role_missing",
               NULL);
    char day[16];
    fx_day (20, day);
    char *areas[] = { "thighs" };
    Meso__V1__ReserveRequest rs = MESO__V1__RESERVE_REQUEST__INIT;
    rs.appointment_id = "desk-made";
    rs.patient_id = s_w->pat_a;
    rs.clinic_id = "clinic-a";
    rs.session_date = day;
    rs.areas = areas;
    rs.n_areas = 1;
    rs.recipe_id = "lipo";
    s_refused (s_w->desk_inv, "inventory.Reserve", &rs.base, MESO_PERMISSION_DENIED, "role_missing", NULL);
    s_refused (s_w->stock_inv, "inventory.Reserve", &rs.base, MESO_PERMISSION_DENIED, "role_missing", NULL);

    /* A scoped principal must name its clinic: "every clinic" is not in
     * its scope. */
    Meso__V1__GetStockRequest gs = MESO__V1__GET_STOCK_REQUEST__INIT;
    gs.clinic_id = "";
    s_refused (s_w->desk_inv, "inventory.GetStock", &gs.base, MESO_PERMISSION_DENIED, "out_of_scope",
               "clinic_id");
    Meso__V1__GetPackageRequest gp = MESO__V1__GET_PACKAGE_REQUEST__INIT;
    gp.package_id = "any";
    s_refused (s_w->desk_bil, "billing.GetPackage", &gp.base, MESO_PERMISSION_DENIED, "out_of_scope",
               "clinic_id");
    Meso__V1__Patient p = MESO__V1__PATIENT__INIT;
    p.given_name = "No";
    p.family_name = "Clinic";
    p.birth_date = "1990-01-01";
    Meso__V1__RegisterPatientRequest rp = MESO__V1__REGISTER_PATIENT_REQUEST__INIT;
    rp.patient = &p;
    s_refused (s_w->desk_scr, "screening.RegisterPatient", &rp.base, MESO_PERMISSION_DENIED,
               "out_of_scope", "patient.home_clinic_id");
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_front_desk_books_in_own_clinic),
        cmocka_unit_test (test_appointment_of_other_clinic),
        cmocka_unit_test (test_practitioner_of_other_clinic),
        cmocka_unit_test (test_patient_of_other_clinic),
        cmocka_unit_test (test_lot_of_other_clinic),
        cmocka_unit_test (test_payment_of_other_clinic),
        cmocka_unit_test (test_roles_and_missing_clinic),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
