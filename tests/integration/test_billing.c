/* test_billing.c -- the billing daemon's promises, against real
 * PostgreSQL, a real meso-billing and a real meso-events over real
 * sockets:
 *   - price lists by number of areas with effective dates: a session is
 *     charged at the price in effect on its date, and a later price change
 *     rewrites no invoice;
 *   - session.completed charges once: from a package while it has sessions
 *     left, else on an invoice; the same appointment completed twice and a
 *     rewound cursor (every event delivered again) charge nothing more;
 *   - fees: none by default; no-show and late cancellation by the patient
 *     once the clinic sets them; never for a cancellation by the clinic;
 *   - refunds never exceed what was paid; overpaying an invoice is refused;
 *   - after a randomised run of charges, payments and refunds the ledger
 *     sums to every patient's statement and to invoices - payments +
 *     refunds;
 *   - bad input gets a clear error and changes nothing;
 *   - the ledger is append-only, for the service role and for anyone. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "billing_fixture.h"

/* GetStatement; returns the unpacked reply (caller frees) or NULL with
 * *status set. */
static Meso__V1__GetStatementReply *
s_statement (fx_t *fx, const char *clinic, const char *patient, int *status)
{
    Meso__V1__GetStatementRequest rq = MESO__V1__GET_STATEMENT_REQUEST__INIT;
    rq.clinic_id = (char *) clinic;
    rq.patient_id = (char *) patient;
    meso_result_t r = { 0 };
    *status = fx_call (fx, "billing.GetStatement", &rq.base, NULL, &r);
    Meso__V1__GetStatementReply *out = NULL;
    if (*status == MESO_OK) {
        size_t len;
        const uint8_t *b = meso_result_body (&r, &len);
        out = meso__v1__get_statement_reply__unpack (NULL, len, b);
        assert_non_null (out);
    }
    meso_result_reset (&r);
    return out;
}

static int64_t
s_due (fx_t *fx, const char *clinic, const char *patient)
{
    int st;
    Meso__V1__GetStatementReply *s = s_statement (fx, clinic, patient, &st);
    assert_int_equal (st, MESO_OK);
    int64_t due = s->amount_due_cents;
    /* The statement's own figures add up. */
    assert_int_equal (due, s->charged_cents - s->paid_cents + s->refunded_cents);
    meso__v1__get_statement_reply__free_unpacked (s, NULL);
    return due;
}

/* Issues an invoice of one line; id into iid (>= 40 bytes). */
static int
s_invoice (fx_t *fx, const char *clinic, const char *patient, int64_t cents, uint32_t areas,
           const char *currency, char *iid, int64_t *total)
{
    Meso__V1__InvoiceLine l = MESO__V1__INVOICE_LINE__INIT;
    l.amount_cents = cents;
    l.areas = areas;
    Meso__V1__InvoiceLine *lp[] = { &l };
    Meso__V1__IssueInvoiceRequest rq = MESO__V1__ISSUE_INVOICE_REQUEST__INIT;
    rq.clinic_id = (char *) clinic;
    rq.patient_id = (char *) patient;
    rq.currency = (char *) (currency ? currency : "");
    rq.lines = lp;
    rq.n_lines = 1;
    meso_result_t r = { 0 };
    int st = fx_call (fx, "billing.IssueInvoice", &rq.base, NULL, &r);
    if (st == MESO_OK) {
        size_t len;
        const uint8_t *b = meso_result_body (&r, &len);
        Meso__V1__IssueInvoiceReply *out = meso__v1__issue_invoice_reply__unpack (NULL, len, b);
        assert_non_null (out);
        if (iid)
            snprintf (iid, 40, "%s", out->invoice->invoice_id);
        if (total)
            *total = out->invoice->total_cents;
        meso__v1__issue_invoice_reply__free_unpacked (out, NULL);
    }
    meso_result_reset (&r);
    return st;
}

static int
s_refund (fx_t *fx, const char *clinic, const char *payment, int64_t cents, const char *reason)
{
    Meso__V1__RecordRefundRequest rq = MESO__V1__RECORD_REFUND_REQUEST__INIT;
    rq.clinic_id = (char *) clinic;
    rq.payment_id = (char *) payment;
    rq.amount_cents = cents;
    rq.reason = (char *) reason;
    meso_result_t r = { 0 };
    int st = fx_call (fx, "billing.RecordRefund", &rq.base, NULL, &r);
    meso_result_reset (&r);
    return st;
}

/* Sells a package; id into pkg (>= 40 bytes). */
static int
s_package (fx_t *fx, const char *clinic, const char *patient, uint32_t sessions, int64_t price,
           char *pkg)
{
    Meso__V1__SellPackageRequest rq = MESO__V1__SELL_PACKAGE_REQUEST__INIT;
    rq.clinic_id = (char *) clinic;
    rq.patient_id = (char *) patient;
    rq.sessions = sessions;
    rq.price_cents = price;
    meso_result_t r = { 0 };
    int st = fx_call (fx, "billing.SellPackage", &rq.base, NULL, &r);
    if (st == MESO_OK && pkg) {
        size_t len;
        const uint8_t *b = meso_result_body (&r, &len);
        Meso__V1__SellPackageReply *out = meso__v1__sell_package_reply__unpack (NULL, len, b);
        assert_non_null (out);
        assert_int_equal (out->package->sessions_left, sessions);
        assert_int_equal (out->invoice->total_cents, price);
        assert_string_equal (meso_enum_str (&meso__v1__invoice_kind__descriptor, (int) out->invoice->kind), "package");
        snprintf (pkg, 40, "%s", out->package->package_id);
        meso__v1__sell_package_reply__free_unpacked (out, NULL);
    }
    meso_result_reset (&r);
    return st;
}

/* The books add up: for every (clinic, patient), the ledger sum equals
 * invoices - payments + refunds from their own tables, and every ledger
 * row points at the record it mirrors with the same amount. */
static void
s_check_books (fx_t *fx)
{
    assert_int_equal (fx_sql (fx,
        "SELECT count (*) FROM ("
        " SELECT clinic_id, patient_id, sum (amount_cents) AS l FROM billing.ledger GROUP BY 1, 2) led"
        " FULL JOIN ("
        " SELECT clinic_id, patient_id, sum (a) AS t FROM ("
        "   SELECT clinic_id, patient_id, total_cents AS a FROM billing.invoice"
        "   UNION ALL SELECT clinic_id, patient_id, -amount_cents FROM billing.payment"
        "   UNION ALL SELECT clinic_id, patient_id, amount_cents FROM billing.refund) x GROUP BY 1, 2) tab"
        " USING (clinic_id, patient_id) WHERE led.l IS DISTINCT FROM tab.t", NULL), 0);
    /* The totals statements read (migration 043) are the ledger's, kind by kind. */
    assert_int_equal (fx_sql (fx,
        "SELECT count (*) FROM ("
        " SELECT clinic_id, patient_id, kind, sum (amount_cents) AS a, sum (tax_cents) AS x, count (*) AS n"
        " FROM billing.ledger GROUP BY 1, 2, 3) led"
        " FULL JOIN billing.account_total t USING (clinic_id, patient_id, kind)"
        " WHERE (led.a, led.x, led.n) IS DISTINCT FROM (t.amount_cents, t.tax_cents, t.entries)", NULL), 0);
    assert_int_equal (fx_sql (fx,
        "SELECT count (*) FROM billing.ledger l LEFT JOIN billing.invoice i USING (clinic_id, invoice_id)"
        " WHERE l.kind = 'charge' AND l.amount_cents IS DISTINCT FROM i.total_cents", NULL), 0);
}

/* ---------------------------------------------------------------- tests */

static void
test_session_charging_prices_and_packages (void **state)
{
    fx_t *fx = fx_setup ("bil_charging");
    /* 1 area 35000, 2 areas 42000 from 30 days ago; from 10 days ago the
     * 1-area price is 38000 (2 areas 45000). */
    int64_t old_prices[] = { 35000, 42000 }, new_prices[] = { 38000, 45000 };
    assert_int_equal (fx_prices (fx, "clinic-a", -30, old_prices, 2, NULL), MESO_OK);
    fx_screened (fx, "pat-1");
    fx_screened (fx, "pat-2");
    /* A session 20 days ago at the old price, before the change exists. */
    fx_session (fx, "session.completed", "clinic-a", "a-old", "pat-1", 1, -20, false, 0);
    fx_wait_cursor (fx, "session", fx->session_seq);
    assert_int_equal (fx_sql (fx, "SELECT amount_cents FROM billing.session_charge WHERE appointment_id = 'a-old'", NULL), 35000);
    assert_int_equal (fx_prices (fx, "clinic-a", -10, new_prices, 2, NULL), MESO_OK);
    /* The change rewrites no invoice. */
    assert_int_equal (fx_sql (fx, "SELECT total_cents FROM billing.invoice i JOIN billing.session_charge c"
                                 " USING (clinic_id, invoice_id) WHERE c.appointment_id = 'a-old'", NULL), 35000);

    /* pat-1 buys a 2-session package (2 x 40000); pat-2 has none. */
    char pkg[40];
    assert_int_equal (s_package (fx, "clinic-a", "pat-1", 2, 80000, pkg), MESO_OK);
    fx_session (fx, "session.completed", "clinic-a", "a1", "pat-1", 2, 0, false, 0);
    fx_session (fx, "session.completed", "clinic-a", "a2", "pat-1", 1, 0, false, 0);
    fx_session (fx, "session.completed", "clinic-a", "a3", "pat-1", 1, 0, false, 0);   /* package used up */
    fx_session (fx, "session.completed", "clinic-a", "b1", "pat-2", 2, 0, false, 0);
    /* A session dated before the change, reported late, gets the old price. */
    fx_session (fx, "session.completed", "clinic-a", "b0", "pat-2", 2, -15, false, 0);
    fx_wait_cursor (fx, "session", fx->session_seq);
    assert_int_equal (fx_sql (fx, "SELECT count (*) FROM billing.session_charge WHERE how = 'package'", NULL), 2);
    assert_int_equal (fx_sql (fx, "SELECT sessions_used FROM billing.package", NULL), 2);
    assert_int_equal (fx_sql (fx, "SELECT amount_cents FROM billing.session_charge WHERE appointment_id = 'a3' AND how = 'invoiced'", NULL), 38000);
    assert_int_equal (fx_sql (fx, "SELECT amount_cents FROM billing.session_charge WHERE appointment_id = 'b1' AND how = 'invoiced'", NULL), 45000);
    assert_int_equal (fx_sql (fx, "SELECT amount_cents FROM billing.session_charge WHERE appointment_id = 'b0' AND how = 'invoiced'", NULL), 42000);

    /* pat-1 owes: old session 35000 + package 80000 + a3 38000. */
    assert_int_equal (s_due (fx, "clinic-a", "pat-1"), 35000 + 80000 + 38000);
    assert_int_equal (s_due (fx, "clinic-a", "pat-2"), 45000 + 42000);
    int st;
    Meso__V1__GetStatementReply *stm = s_statement (fx, "clinic-a", "pat-1", &st);
    assert_int_equal (stm->n_packages, 1);
    assert_int_equal (stm->package_sessions_left, 0);
    assert_int_equal (stm->n_entries, 3);
    assert_string_equal (stm->currency, "USD");
    meso__v1__get_statement_reply__free_unpacked (stm, NULL);

    /* GetPackage lists the two sessions drawn. */
    Meso__V1__GetPackageRequest gp = MESO__V1__GET_PACKAGE_REQUEST__INIT;
    gp.clinic_id = "clinic-a";
    gp.package_id = pkg;
    meso_result_t r = { 0 };
    assert_int_equal (fx_call (fx, "billing.GetPackage", &gp.base, NULL, &r), MESO_OK);
    size_t len;
    const uint8_t *b = meso_result_body (&r, &len);
    Meso__V1__GetPackageReply *gpr = meso__v1__get_package_reply__unpack (NULL, len, b);
    assert_non_null (gpr);
    assert_int_equal (gpr->n_appointment_ids, 2);
    assert_int_equal (gpr->package->sessions_left, 0);
    meso__v1__get_package_reply__free_unpacked (gpr, NULL);
    meso_result_reset (&r);

    /* The producer sends a1 and b1 completed again (new events): nothing
     * more. Then the daemon is killed, its cursor rewound so that every
     * event is delivered again: still nothing more. */
    int64_t charges = fx_sql (fx, "SELECT count (*) FROM billing.ledger WHERE kind = 'charge'", NULL);
    fx_session (fx, "session.completed", "clinic-a", "a1", "pat-1", 2, 0, false, 0);
    fx_session (fx, "session.completed", "clinic-a", "b1", "pat-2", 2, 0, false, 0);
    fx_wait_cursor (fx, "session", fx->session_seq);
    assert_int_equal (mt_stop (fx->pid, SIGKILL) != -1, 1);
    assert_int_equal (meso_db_exec (fx->db, "UPDATE billing.event_cursor SET seq = 0", 0, NULL), 0);
    fx->pid = fx_spawn_billing (fx, NULL);
    fx_wait_cursor (fx, "session", fx->session_seq);
    fx_wait_cursor (fx, "screening", fx->screening_seq);
    assert_int_equal (fx_sql (fx, "SELECT count (*) FROM billing.ledger WHERE kind = 'charge'", NULL), charges);
    assert_int_equal (fx_sql (fx, "SELECT count (*) FROM billing.session_charge", NULL), 6);
    assert_int_equal (fx_sql (fx, "SELECT sessions_used FROM billing.package", NULL), 2);
    assert_int_equal (s_due (fx, "clinic-a", "pat-1"), 35000 + 80000 + 38000);
    /* invoice_issued announced once per invoice. */
    assert_int_equal (fx_sql (fx, "SELECT (SELECT count (*) FROM events.outbox WHERE type = 'billing.invoice_issued')"
                                 " + (SELECT count (*) FROM events.log WHERE type = 'billing.invoice_issued')", NULL),
                      fx_sql (fx, "SELECT count (*) FROM billing.invoice", NULL));

    /* A clinic without a price list: the session is recorded unpriced and
     * shown on the statement, the stream goes on. */
    fx_session (fx, "session.completed", "clinic-z", "z1", "pat-2", 1, 0, false, 0);
    fx_wait_cursor (fx, "session", fx->session_seq);
    stm = s_statement (fx, "clinic-z", "pat-2", &st);
    assert_int_equal (stm->n_unpriced_appointments, 1);
    assert_string_equal (stm->unpriced_appointments[0], "z1");
    assert_int_equal (stm->amount_due_cents, 0);
    meso__v1__get_statement_reply__free_unpacked (stm, NULL);
    s_check_books (fx);
    fx_teardown (fx);
}

static void
test_fees (void **state)
{
    fx_t *fx = fx_setup ("bil_fees");
    /* Default: no fee. */
    fx_session (fx, "session.no_show", "clinic-a", "n0", "pat-1", 1, 0, false, 0);
    fx_session (fx, "session.cancelled", "clinic-a", "c0", "pat-1", 1, 0, true, 1);
    fx_wait_cursor (fx, "session", fx->session_seq);
    assert_int_equal (fx_sql (fx, "SELECT count (*) FROM billing.invoice", NULL), 0);
    /* The patient is known from the events alone. */
    assert_int_equal (s_due (fx, "clinic-a", "pat-1"), 0);

    Meso__V1__FeePolicy fp = MESO__V1__FEE_POLICY__INIT;
    fp.clinic_id = "clinic-a";
    fp.no_show_fee_cents = 10000;
    fp.late_cancel_fee_cents = 5000;
    Meso__V1__SetFeePolicyRequest rq = MESO__V1__SET_FEE_POLICY_REQUEST__INIT;
    rq.policy = &fp;
    meso_result_t r = { 0 };
    assert_int_equal (fx_call (fx, "billing.SetFeePolicy", &rq.base, NULL, &r), MESO_OK);
    meso_result_reset (&r);
    fx_session (fx, "session.no_show", "clinic-a", "n1", "pat-1", 1, 0, false, 0);
    fx_session (fx, "session.cancelled", "clinic-a", "c1", "pat-1", 1, 0, true, 1);    /* late, patient */
    fx_session (fx, "session.cancelled", "clinic-a", "c2", "pat-1", 1, 0, false, 1);   /* on time */
    fx_session (fx, "session.cancelled", "clinic-a", "c3", "pat-1", 1, 0, true, 2);    /* by the clinic */
    fx_session (fx, "session.no_show", "clinic-a", "n1", "pat-1", 1, 0, false, 0);     /* again */
    fx_wait_cursor (fx, "session", fx->session_seq);
    assert_int_equal (s_due (fx, "clinic-a", "pat-1"), 15000);
    assert_int_equal (fx_sql (fx, "SELECT count (*) FROM billing.invoice WHERE kind = 'fee'", NULL), 2);
    assert_int_equal (fx_sql (fx, "SELECT amount_cents FROM billing.session_charge WHERE appointment_id = 'n1' AND kind = 'no_show'", NULL), 10000);
    assert_int_equal (fx_sql (fx, "SELECT amount_cents FROM billing.session_charge WHERE appointment_id = 'c1' AND kind = 'late_cancel'", NULL), 5000);
    s_check_books (fx);
    fx_teardown (fx);
}

static void
test_payments_refunds_and_random_books (void **state)
{
    fx_t *fx = fx_setup ("bil_random");
    int64_t prices[] = { 35000, 42000, 48000 };
    assert_int_equal (fx_prices (fx, "clinic-a", -1, prices, 3, NULL), MESO_OK);
    assert_int_equal (fx_prices (fx, "clinic-b", -1, prices, 3, NULL), MESO_OK);
    fx_screened (fx, "pat-1");

    /* Partial payments, overpaying refused, refunds up to what was paid. */
    char inv[40], p1[40], p2[40];
    int64_t total = 0;
    assert_int_equal (s_invoice (fx, "clinic-a", "pat-1", 0, 2, NULL, inv, &total), MESO_OK);
    assert_int_equal (total, 42000);
    assert_int_equal (fx_pay (fx, "clinic-a", NULL, inv, 10000, NULL, NULL, p1), MESO_OK);
    assert_int_equal (fx_pay (fx, "clinic-a", NULL, inv, 32001, NULL, NULL, NULL), MESO_FAILED_PRECONDITION);
    assert_int_equal (fx_pay (fx, "clinic-a", "pat-1", inv, 32000, "USD", NULL, p2), MESO_OK);
    assert_int_equal (s_due (fx, "clinic-a", "pat-1"), 0);
    assert_int_equal (s_refund (fx, "clinic-a", p1, 10001, "too much"), MESO_FAILED_PRECONDITION);
    assert_int_equal (s_refund (fx, "clinic-a", p1, 6000, "goodwill"), MESO_OK);
    assert_int_equal (s_refund (fx, "clinic-a", p1, 4001, "again"), MESO_FAILED_PRECONDITION);
    assert_int_equal (s_refund (fx, "clinic-a", p1, 4000, "rest"), MESO_OK);
    assert_int_equal (s_refund (fx, "clinic-a", p1, 1, "nothing left"), MESO_FAILED_PRECONDITION);
    assert_int_equal (s_due (fx, "clinic-a", "pat-1"), 10000);
    /* A deposit on account gives credit. */
    assert_int_equal (fx_pay (fx, "clinic-a", "pat-1", NULL, 25000, NULL, NULL, NULL), MESO_OK);
    assert_int_equal (s_due (fx, "clinic-a", "pat-1"), -15000);

    /* Randomised run over 6 patients and 2 clinics. */
    unsigned seed = (unsigned) meso_time_now_us ();
    srand (seed);
    printf ("random seed %u\n", seed);
    enum { NPAT = 6, NOPS = 150 };
    char pats[NPAT][16];
    for (int i = 0; i < NPAT; i++) {
        snprintf (pats[i], sizeof pats[i], "rp-%d", i);
        fx_screened (fx, pats[i]);
    }
    char invs[NOPS][40], pays[NOPS][40];
    const char *inv_clinic[NOPS], *pay_clinic[NOPS];
    int ninv = 0, npay = 0, ok = 0, refused = 0, nsess = 0;
    for (int op = 0; op < NOPS; op++) {
        int p = rand () % NPAT;
        const char *clinic = rand () % 2 ? "clinic-a" : "clinic-b";
        int what = rand () % 5;
        int st;
        if (what == 0) {
            char appt[32];
            snprintf (appt, sizeof appt, "r-%d", nsess++);
            fx_session (fx, "session.completed", clinic, appt, pats[p], (size_t) (1 + rand () % 3), 0, false, 0);
            continue;
        }
        else if (what == 1) {
            st = s_invoice (fx, clinic, pats[p], 1000 + rand () % 60000, 0, NULL, invs[ninv], NULL);
            if (st == MESO_OK)
                inv_clinic[ninv++] = clinic;
        }
        else if (what == 2 && ninv > 0) {
            int i = rand () % ninv;
            st = fx_pay (fx, inv_clinic[i], NULL, invs[i], 1 + rand () % 30000, NULL, NULL, pays[npay]);
            if (st == MESO_OK)
                pay_clinic[npay++] = inv_clinic[i];
        }
        else if (what == 3) {
            st = fx_pay (fx, clinic, pats[p], NULL, 1 + rand () % 20000, NULL, NULL, pays[npay]);
            if (st == MESO_OK)
                pay_clinic[npay++] = clinic;
        }
        else if (npay > 0) {
            int i = rand () % npay;
            st = s_refund (fx, pay_clinic[i], pays[i], 1 + rand () % 15000, "random");
        }
        else
            continue;
        assert_true (st == MESO_OK || st == MESO_FAILED_PRECONDITION);
        if (st == MESO_OK)
            ok++;
        else
            refused++;
    }
    fx_wait_cursor (fx, "session", fx->session_seq);
    printf ("random run: %d accepted, %d refused (overpayment/over-refund), %d sessions\n", ok, refused, nsess);
    s_check_books (fx);
    /* No payment ever refunded beyond itself; no invoice paid beyond it. */
    assert_int_equal (fx_sql (fx, "SELECT count (*) FROM billing.payment p WHERE amount_cents <"
                                 " (SELECT coalesce (sum (amount_cents), 0) FROM billing.refund r"
                                 "  WHERE r.clinic_id = p.clinic_id AND r.payment_id = p.payment_id)", NULL), 0);
    assert_int_equal (fx_sql (fx, "SELECT count (*) FROM billing.invoice i WHERE total_cents <"
                                 " (SELECT coalesce (sum (amount_cents), 0) FROM billing.payment p"
                                 "  WHERE p.clinic_id = i.clinic_id AND p.invoice_id = i.invoice_id)"
                                 " - (SELECT coalesce (sum (r.amount_cents), 0) FROM billing.refund r"
                                 "  JOIN billing.payment p USING (clinic_id, payment_id)"
                                 "  WHERE p.clinic_id = i.clinic_id AND p.invoice_id = i.invoice_id)", NULL), 0);
    /* Every statement equals its ledger sum. */
    const char *clinics[] = { "clinic-a", "clinic-b" };
    for (int c = 0; c < 2; c++)
        for (int i = 0; i < NPAT; i++) {
            const char *params[] = { clinics[c], pats[i] };
            PGresult *res = meso_db_query (fx->db, "SELECT coalesce (sum (amount_cents), 0) FROM billing.ledger"
                                                   " WHERE clinic_id = $1 AND patient_id = $2", 2, params);
            assert_non_null (res);
            assert_int_equal (s_due (fx, clinics[c], pats[i]), strtoll (PQgetvalue (res, 0, 0), NULL, 10));
            PQclear (res);
        }
    fx_teardown (fx);
}

/* A fingerprint of every billing row: equal before and after means
 * nothing changed. */
static void
s_fingerprint (fx_t *fx, char *out, size_t size)
{
    PGresult *res = meso_db_query (fx->db,
        "SELECT concat_ws ('|', (SELECT count (*) FROM billing.price),"
        " (SELECT string_agg (concat_ws (',', clinic_id, currency, no_show_fee_cents, late_cancel_fee_cents), ';') FROM billing.clinic_settings),"
        " (SELECT count (*) FROM billing.invoice), (SELECT count (*) FROM billing.invoice_line),"
        " (SELECT count (*) FROM billing.payment), (SELECT count (*) FROM billing.refund),"
        " (SELECT count (*) FROM billing.package), (SELECT count (*) FROM billing.ledger),"
        " (SELECT count (*) FROM billing.patient), (SELECT count (*) FROM billing.idempotency),"
        " (SELECT count (*) FROM events.outbox) + (SELECT count (*) FROM events.log))", 0, NULL);
    assert_non_null (res);
    snprintf (out, size, "%s", PQgetvalue (res, 0, 0));
    PQclear (res);
}

static void
test_bad_input_changes_nothing (void **state)
{
    fx_t *fx = fx_setup ("bil_bad");
    int64_t ok_prices[] = { 35000 };
    assert_int_equal (fx_prices (fx, "clinic-a", -1, ok_prices, 1, NULL), MESO_OK);
    fx_screened (fx, "pat-1");
    char inv[40], pay[40];
    assert_int_equal (s_invoice (fx, "clinic-a", "pat-1", 0, 1, NULL, inv, NULL), MESO_OK);
    assert_int_equal (fx_pay (fx, "clinic-a", NULL, inv, 20000, NULL, NULL, pay), MESO_OK);
    char before[512], after[512];
    s_fingerprint (fx, before, sizeof before);
    printf ("rows before: %s\n", before);

    int64_t low[] = { 29999 }, high[] = { 35000, 50001 };
    assert_int_equal (fx_prices (fx, "clinic-a", 0, low, 1, NULL), MESO_INVALID_ARGUMENT);
    assert_int_equal (fx_prices (fx, "clinic-a", 0, high, 2, NULL), MESO_INVALID_ARGUMENT);
    /* Switching currency once the clinic has invoices. */
    assert_int_equal (fx_prices (fx, "clinic-a", 0, ok_prices, 1, "EUR"), MESO_FAILED_PRECONDITION);
    /* Negative amounts. */
    assert_int_equal (fx_pay (fx, "clinic-a", NULL, inv, -100, NULL, NULL, NULL), MESO_INVALID_ARGUMENT);
    assert_int_equal (fx_pay (fx, "clinic-a", "pat-1", NULL, 0, NULL, NULL, NULL), MESO_INVALID_ARGUMENT);
    assert_int_equal (s_invoice (fx, "clinic-a", "pat-1", -35000, 0, NULL, NULL, NULL), MESO_INVALID_ARGUMENT);
    assert_int_equal (s_refund (fx, "clinic-a", pay, -5, "negative"), MESO_INVALID_ARGUMENT);
    assert_int_equal (s_refund (fx, "clinic-a", pay, 5, ""), MESO_INVALID_ARGUMENT);
    /* Unknown patient, invoice, payment. */
    assert_int_equal (s_invoice (fx, "clinic-a", "pat-nobody", 35000, 0, NULL, NULL, NULL), MESO_NOT_FOUND);
    assert_int_equal (fx_pay (fx, "clinic-a", "pat-nobody", NULL, 1000, NULL, NULL, NULL), MESO_NOT_FOUND);
    assert_int_equal (s_package (fx, "clinic-a", "pat-nobody", 5, 200000, NULL), MESO_NOT_FOUND);
    int st;
    assert_null (s_statement (fx, "clinic-a", "pat-nobody", &st));
    assert_int_equal (st, MESO_NOT_FOUND);
    assert_int_equal (fx_pay (fx, "clinic-a", NULL, "no-such-invoice", 1000, NULL, NULL, NULL), MESO_NOT_FOUND);
    assert_int_equal (fx_pay (fx, "clinic-b", NULL, inv, 1000, NULL, NULL, NULL), MESO_NOT_FOUND);   /* other clinic */
    assert_int_equal (s_refund (fx, "clinic-a", "no-such-payment", 100, "x"), MESO_NOT_FOUND);
    /* Currency mismatch. */
    assert_int_equal (fx_pay (fx, "clinic-a", NULL, inv, 1000, "EUR", NULL, NULL), MESO_INVALID_ARGUMENT);
    assert_int_equal (fx_pay (fx, "clinic-a", "pat-1", NULL, 1000, "EUR", NULL, NULL), MESO_INVALID_ARGUMENT);
    assert_int_equal (s_invoice (fx, "clinic-a", "pat-1", 35000, 0, "GBP", NULL, NULL), MESO_INVALID_ARGUMENT);
    assert_int_equal (fx_pay (fx, "clinic-a", "pat-1", NULL, 1000, "usd", NULL, NULL), MESO_INVALID_ARGUMENT);
    /* Packages whose price per session is out of range. */
    assert_int_equal (s_package (fx, "clinic-a", "pat-1", 10, 299999, NULL), MESO_INVALID_ARGUMENT);
    assert_int_equal (s_package (fx, "clinic-a", "pat-1", 10, 500001, NULL), MESO_INVALID_ARGUMENT);
    /* An undecodable body. */
    meso_result_t r = { 0 };
    Meso__V1__HealthRequest junk = MESO__V1__HEALTH_REQUEST__INIT;
    (void) junk;
    assert_int_equal (meso_bus_client_call (fx->c, "billing.RecordPayment", NULL, "k-empty", 5000, &r), -1);
    assert_int_equal (r.status, MESO_INVALID_ARGUMENT);
    meso_result_reset (&r);
    /* A payment method left unset, or one billing does not know: refused
     * naming "method" (the enum replaced a free string). */
    Meso__V1__RecordPaymentRequest pq = MESO__V1__RECORD_PAYMENT_REQUEST__INIT;
    pq.clinic_id = "clinic-a";
    pq.target_case = MESO__V1__RECORD_PAYMENT_REQUEST__TARGET_INVOICE_ID;
    pq.invoice_id = inv;
    pq.amount_cents = 1000;
    for (int m = 0; m < 2; m++) {
        pq.method = m == 0 ? MESO__V1__PAYMENT_METHOD__PAYMENT_METHOD_UNSPECIFIED : (Meso__V1__PaymentMethod) 77;
        assert_int_equal (fx_call (fx, "billing.RecordPayment", &pq.base, NULL, &r), MESO_INVALID_ARGUMENT);
        assert_int_equal (r.reply->n_reasons, 1);
        assert_string_equal (r.reply->reasons[0]->field, "method");
        meso_result_reset (&r);
    }
    /* Neither an invoice nor a deposit (the oneof target left unset, or
     * deposit false): refused naming invoice_id, never a silent deposit. */
    pq.method = MESO__V1__PAYMENT_METHOD__PAYMENT_METHOD_CARD;
    pq.patient_id = "pat-1";
    for (int t = 0; t < 2; t++) {
        pq.target_case = t == 0 ? MESO__V1__RECORD_PAYMENT_REQUEST__TARGET__NOT_SET
                                : MESO__V1__RECORD_PAYMENT_REQUEST__TARGET_DEPOSIT;
        pq.deposit = false;
        assert_int_equal (fx_call (fx, "billing.RecordPayment", &pq.base, NULL, &r), MESO_INVALID_ARGUMENT);
        assert_int_equal (r.reply->n_reasons, 1);
        assert_string_equal (r.reply->reasons[0]->field, "invoice_id");
        meso_result_reset (&r);
    }
    /* The message names the problem. */
    Meso__V1__PriceEntry e = MESO__V1__PRICE_ENTRY__INIT;
    e.areas = 1;
    e.price_cents = 29999;
    Meso__V1__PriceEntry *ep[] = { &e };
    Meso__V1__PriceList pl = MESO__V1__PRICE_LIST__INIT;
    pl.clinic_id = "clinic-a";
    pl.effective_from = "2030-01-01";
    pl.prices = ep;
    pl.n_prices = 1;
    Meso__V1__SetPriceListRequest rq = MESO__V1__SET_PRICE_LIST_REQUEST__INIT;
    rq.price_list = &pl;
    assert_int_equal (fx_call (fx, "billing.SetPriceList", &rq.base, NULL, &r), MESO_INVALID_ARGUMENT);
    assert_int_equal (r.reply->n_reasons, 1);
    assert_string_equal (r.reply->reasons[0]->field, "price_list.prices[0].price_cents");
    assert_non_null (strstr (r.reply->reasons[0]->message, "29999"));
    meso_result_reset (&r);

    s_fingerprint (fx, after, sizeof after);
    assert_string_equal (before, after);

    /* The schema stands behind the C: an out-of-range price and an edit of
     * the ledger are refused even for the superuser. */
    assert_int_equal (meso_db_exec (fx->db, "INSERT INTO billing.price (clinic_id, effective_from, areas, price_cents)"
                                            " VALUES ('clinic-a', '2031-01-01', 1, 50001)", 0, NULL), -1);
    assert_string_equal (meso_db_error (fx->db)->sqlstate, "23514");
    assert_int_equal (meso_db_exec (fx->db, "UPDATE billing.ledger SET amount_cents = 1", 0, NULL), -1);
    assert_int_equal (meso_db_exec (fx->db, "DELETE FROM billing.ledger", 0, NULL), -1);
    assert_int_equal (meso_db_exec (fx->db, "UPDATE billing.payment SET amount_cents = 1", 0, NULL), -1);
    /* And the service role may not even try. */
    char role[512];
    mt_role_conninfo (fx->dbname, "meso_billing", role, sizeof role);
    meso_db_t *rdb = meso_db_new (role);
    assert_int_equal (meso_db_exec (rdb, "DELETE FROM billing.ledger", 0, NULL), -1);
    assert_string_equal (meso_db_error (rdb)->sqlstate, "42501");
    /* Nor move an account's totals but by a ledger entry (migration 043). */
    assert_int_equal (meso_db_exec (rdb, "UPDATE billing.account_total SET amount_cents = 0", 0, NULL), -1);
    assert_string_equal (meso_db_error (rdb)->sqlstate, "42501");
    assert_int_equal (meso_db_exec (rdb, "INSERT INTO billing.account_total VALUES"
                                         " ('clinic-a', 'p', 'charge', 1, 0, 1)", 0, NULL), -1);
    assert_string_equal (meso_db_error (rdb)->sqlstate, "42501");
    meso_db_destroy (&rdb);
    s_fingerprint (fx, after, sizeof after);
    assert_string_equal (before, after);
    fx_teardown (fx);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_session_charging_prices_and_packages),
        cmocka_unit_test (test_fees),
        cmocka_unit_test (test_payments_refunds_and_random_books),
        cmocka_unit_test (test_bad_input_changes_nothing),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
