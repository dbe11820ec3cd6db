/* test_billing_packages.c -- billing's taxes, packages, refunds and credit
 * notes, against real PostgreSQL, a real meso-billing and a real
 * meso-events over real sockets:
 *   - taxes: invoices carry net, tax and gross per line and in total, the
 *     tax rounded per line (three lines of 300.03 at 20% include 150.00,
 *     not 150.02), a category the clinic lacks is refused naming the line,
 *     a new rate set applies from its date, and the statement sums the
 *     tax;
 *   - a package sold in clinic A is used in clinic B once B accepts A's
 *     packages (not before), stays A's, and its uses add up to its price
 *     to the cent; a session after its last day expires it mid-course and
 *     is invoiced at the list price;
 *   - refunding a package's unused sessions credits their value and gives
 *     back the share that was paid, newest payment first, never more;
 *   - a refund against an invoice spreads over its two payments newest
 *     first and never beyond what was paid; a cancelled invoice gets a
 *     credit note for all of it (tax included) and cannot be cancelled or
 *     paid again. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "billing_calls.h"

static void
test_taxes (void **state)
{
    (void) state;
    fx_t *fx = fx_setup ("bil_tax");
    int64_t prices[] = { 35000, 42000 };
    assert_int_equal (fx_prices (fx, "clinic-a", -1, prices, 2, NULL), MESO_OK);
    const char *cats[] = { "standard", "reduced" };
    const uint32_t ppm[] = { 200000, 55000 };
    assert_int_equal (bc_tax (fx, "clinic-a", -1, 2, cats, ppm), MESO_OK);
    fx_screened (fx, "pat-t");

    /* Three lines of 300.03 at 20%: 50.005 each, half-even to 50.00. */
    int64_t three[] = { 30003, 30003, 30003 };
    Meso__V1__IssueInvoiceReply *ir = NULL;
    assert_int_equal (bc_invoice (fx, "clinic-a", "pat-t", 3, three, NULL, &ir), MESO_OK);
    assert_int_equal (ir->invoice->total_cents, 90009);
    assert_int_equal (ir->invoice->tax_cents, 15000);
    assert_int_equal (ir->invoice->net_cents, 75009);
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal (ir->invoice->lines[i]->tax_cents, 5000);
        assert_int_equal (ir->invoice->lines[i]->net_cents, 25003);
        assert_int_equal (ir->invoice->lines[i]->tax_rate_ppm, 200000);
        assert_string_equal (ir->invoice->lines[i]->tax_category, "standard");
    }
    bc_free (ir);
    /* Per-line categories: 350.00 standard (58.33), 21.10 reduced (1.10). */
    int64_t mixed[] = { 35000, 2110 };
    const char *mcats[] = { "", "reduced" };
    assert_int_equal (bc_invoice (fx, "clinic-a", "pat-t", 2, mixed, mcats, &ir), MESO_OK);
    assert_int_equal (ir->invoice->tax_cents, 5833 + 110);
    assert_int_equal (ir->invoice->lines[1]->tax_rate_ppm, 55000);
    bc_free (ir);
    /* A category the clinic does not have: refused, naming the line. */
    int64_t one[] = { 35000, 1000 };
    const char *bad[] = { "", "luxury" };
    int64_t invoices = fx_sql (fx, "SELECT count (*) FROM billing.invoice", NULL);
    meso_result_t r = { 0 };
    Meso__V1__InvoiceLine l0 = MESO__V1__INVOICE_LINE__INIT, l1 = MESO__V1__INVOICE_LINE__INIT;
    l0.amount_cents = one[0];
    l1.amount_cents = one[1];
    l1.tax_category = (char *) bad[1];
    Meso__V1__InvoiceLine *lp[] = { &l0, &l1 };
    Meso__V1__IssueInvoiceRequest rq = MESO__V1__ISSUE_INVOICE_REQUEST__INIT;
    rq.clinic_id = "clinic-a";
    rq.patient_id = "pat-t";
    rq.lines = lp;
    rq.n_lines = 2;
    assert_int_equal (fx_call (fx, "billing.IssueInvoice", &rq.base, NULL, &r), MESO_INVALID_ARGUMENT);
    assert_non_null (r.reply);
    assert_true (r.reply->n_reasons >= 1);
    assert_string_equal (r.reply->reasons[0]->field, "lines[1].tax_category");
    meso_result_reset (&r);
    assert_int_equal (fx_sql (fx, "SELECT count (*) FROM billing.invoice", NULL), invoices);

    /* A session today at 2 areas: 420.00 including 70.00. From day +5 the
     * rate is 10%: a session on day +6 includes 42000 / 11 = 38.18. */
    fx_session (fx, "session.completed", "clinic-a", "t-1", "pat-t", 2, 0, false, 0);
    const char *c10[] = { "standard" };
    const uint32_t p10[] = { 100000 };
    assert_int_equal (bc_tax (fx, "clinic-a", 5, 1, c10, p10), MESO_OK);
    fx_session (fx, "session.completed", "clinic-a", "t-2", "pat-t", 2, 6, false, 0);
    fx_wait_cursor (fx, "session", fx->session_seq);
    assert_int_equal (fx_sql (fx, "SELECT tax_cents FROM billing.invoice_line WHERE appointment_id = $1", "t-1"), 7000);
    assert_int_equal (fx_sql (fx, "SELECT tax_cents FROM billing.invoice_line WHERE appointment_id = $1", "t-2"), 3818);
    Meso__V1__GetStatementReply *st = bc_statement (fx, "clinic-a", "pat-t");
    assert_int_equal (st->tax_cents, 15000 + 5943 + 7000 + 3818);
    assert_int_equal (st->charged_cents, 90009 + 37110 + 42000 + 42000);
    bc_free (st);
    /* The invoices' tax equals the sum of their lines'; every billing
     * change so far has its event. */
    assert_int_equal (fx_sql (fx, "SELECT count (*) FROM billing.invoice i WHERE tax_cents <>"
                                  " (SELECT sum (tax_cents) FROM billing.invoice_line l"
                                  "  WHERE l.clinic_id = i.clinic_id AND l.invoice_id = i.invoice_id)", NULL), 0);
    assert_int_equal (bc_events (fx, "billing.tax_rates_set"), 2);
    assert_int_equal (bc_events (fx, "billing.price_list_set"), 1);
    assert_int_equal (bc_events (fx, "billing.invoice_issued"), 4);
    fx_teardown (fx);
}

static void
test_package_across_clinics_and_expiry (void **state)
{
    (void) state;
    fx_t *fx = fx_setup ("bil_pkg_chain");
    int64_t pa[] = { 35000 }, pb[] = { 38000 };
    assert_int_equal (fx_prices (fx, "clinic-a", -1, pa, 1, NULL), MESO_OK);
    assert_int_equal (fx_prices (fx, "clinic-b", -1, pb, 1, NULL), MESO_OK);
    const char *cats[] = { "standard" };
    const uint32_t ppm[] = { 200000 };
    assert_int_equal (bc_tax (fx, "clinic-a", -1, 1, cats, ppm), MESO_OK);
    fx_screened (fx, "pat-p");
    /* 1000.01 for 3 sessions, last day in 10 days; 20% tax: 166.67. */
    char last[16];
    fx_date (10, last);
    Meso__V1__SellPackageReply *sp = NULL;
    assert_int_equal (bc_sell (fx, "clinic-a", "pat-p", 3, 100001, last, &sp), MESO_OK);
    assert_string_equal (sp->package->expiry_date, last);
    assert_string_equal (meso_enum_str (&meso__v1__package_state__descriptor, (int) sp->package->state), "active");
    assert_int_equal (sp->package->tax_cents, 16667);
    assert_int_equal (sp->invoice->tax_cents, 16667);
    char pkg[40];
    snprintf (pkg, sizeof pkg, "%s", sp->package->package_id);
    bc_free (sp);

    /* Clinic B does not accept A's packages yet: invoiced at B's price. */
    fx_session (fx, "session.completed", "clinic-b", "b-1", "pat-p", 1, 0, false, 0);
    fx_wait_cursor (fx, "session", fx->session_seq);
    assert_int_equal (fx_sql (fx, "SELECT amount_cents FROM billing.session_charge WHERE how = 'invoiced'"
                                  " AND appointment_id = $1", "b-1"), 38000);
    /* Now it does (a chain setting of clinic B): drawn from A's package. */
    const char *acc[] = { "clinic-a" };
    assert_int_equal (bc_policy (fx, "clinic-b", 0, 1, acc), MESO_OK);
    fx_session (fx, "session.completed", "clinic-b", "b-2", "pat-p", 1, 1, false, 0);
    fx_session (fx, "session.completed", "clinic-a", "a-1", "pat-p", 1, 2, false, 0);
    fx_wait_cursor (fx, "session", fx->session_seq);
    Meso__V1__GetPackageReply *gp = NULL;
    assert_int_equal (bc_package (fx, "clinic-a", pkg, &gp), MESO_OK);
    assert_int_equal (gp->package->sessions_used, 2);
    assert_int_equal (gp->package->sessions_left, 1);
    assert_int_equal (gp->package->recognised_cents, 66666);
    assert_int_equal (gp->package->unused_value_cents, 33335);
    assert_int_equal (gp->n_appointment_ids, 2);
    assert_string_equal (gp->appointment_ids[0], "b-2");
    assert_string_equal (gp->appointment_ids[1], "a-1");
    bc_free (gp);
    /* B's session is B's revenue (recorded at B), from A's package. */
    assert_int_equal (fx_sql (fx, "SELECT count (*) FROM billing.package_use WHERE clinic_id = 'clinic-b'"
                                  " AND package_clinic_id = 'clinic-a' AND appointment_id = $1", "b-2"), 1);
    assert_int_equal (fx_sql (fx, "SELECT count (*) FROM billing.invoice WHERE clinic_id = 'clinic-b'", NULL), 1);
    assert_int_equal (bc_events (fx, "billing.package_session_used"), 2);

    /* Expiry mid-course: a session on day 11, after the last day, expires
     * the package there and then and is invoiced at A's list price. */
    fx_session (fx, "session.completed", "clinic-a", "a-2", "pat-p", 1, 11, false, 0);
    fx_wait_cursor (fx, "session", fx->session_seq);
    assert_int_equal (bc_package (fx, "clinic-a", pkg, &gp), MESO_OK);
    assert_string_equal (meso_enum_str (&meso__v1__package_state__descriptor, (int) gp->package->state), "expired");
    assert_int_equal (gp->package->sessions_used, 2);
    assert_int_equal (gp->package->sessions_left, 0);
    assert_int_equal (gp->package->unused_value_cents, 0);
    bc_free (gp);
    assert_int_equal (fx_sql (fx, "SELECT amount_cents FROM billing.session_charge WHERE how = 'invoiced'"
                                  " AND appointment_id = $1", "a-2"), 35000);
    assert_int_equal (bc_events (fx, "billing.package_expired"), 1);
    /* A refund of an expired package: nothing unused to refund. */
    assert_int_equal (bc_refund_package (fx, "clinic-a", pkg, NULL), MESO_FAILED_PRECONDITION);

    /* The timer expires a package whose last day passed without any
     * session (its date moved back by hand, as time would). */
    assert_int_equal (bc_sell (fx, "clinic-a", "pat-p", 2, 70000, NULL, &sp), MESO_OK);
    assert_string_equal (sp->package->expiry_date, "");
    snprintf (pkg, sizeof pkg, "%s", sp->package->package_id);
    bc_free (sp);
    assert_int_equal (fx_sql (fx, "WITH u AS (UPDATE billing.package SET expires_on = current_date - 2"
                                  " WHERE package_id = $1 RETURNING 1) SELECT count (*) FROM u", pkg), 1);
    assert_int_equal (mt_stop (fx->pid, SIGTERM), 0);
    fx->pid = fx_spawn_billing (fx, NULL);     /* expires soon after start */
    int64_t t0 = meso_time_mono_ms ();
    while (bc_events (fx, "billing.package_expired") < 2 && meso_time_mono_ms () - t0 < 15000)
        mt_sleep_ms (50);
    assert_int_equal (bc_events (fx, "billing.package_expired"), 2);
    assert_int_equal (fx_sql (fx, "SELECT count (*) FROM billing.package WHERE state = 'expired'", NULL), 2);
    fx_teardown (fx);
}

static void
test_refund_unused_sessions (void **state)
{
    (void) state;
    fx_t *fx = fx_setup ("bil_pkg_refund");
    fx_screened (fx, "pat-r");
    /* 4 sessions for 1400.00, 1000.00 paid in two payments. */
    Meso__V1__SellPackageReply *sp = NULL;
    assert_int_equal (bc_sell (fx, "clinic-a", "pat-r", 4, 140000, NULL, &sp), MESO_OK);
    char pkg[40], inv[40], p1[40], p2[40];
    snprintf (pkg, sizeof pkg, "%s", sp->package->package_id);
    snprintf (inv, sizeof inv, "%s", sp->invoice->invoice_id);
    bc_free (sp);
    assert_int_equal (fx_pay (fx, "clinic-a", NULL, inv, 60000, NULL, NULL, p1), MESO_OK);
    mt_sleep_ms (5);
    assert_int_equal (fx_pay (fx, "clinic-a", NULL, inv, 40000, NULL, NULL, p2), MESO_OK);
    fx_session (fx, "session.completed", "clinic-a", "r-1", "pat-r", 1, 0, false, 0);
    fx_wait_cursor (fx, "session", fx->session_seq);
    /* Unused: 3 x 350.00. Paid 1000.00 of 1400.00: 1050.00 x 10/14 =
     * 750.00 back, newest payment first (400.00, then 350.00). */
    Meso__V1__RefundPackageReply *rp = NULL;
    assert_int_equal (bc_refund_package (fx, "clinic-a", pkg, &rp), MESO_OK);
    assert_int_equal (rp->refunded_cents, 75000);
    assert_int_equal (rp->credit_note->gross_cents, 105000);
    assert_string_equal (meso_enum_str (&meso__v1__credit_note_kind__descriptor, (int) rp->credit_note->kind), "package_refund");
    assert_int_equal (rp->n_refunds, 2);
    assert_string_equal (rp->refunds[0]->payment_id, p2);
    assert_int_equal (rp->refunds[0]->amount_cents, 40000);
    assert_string_equal (rp->refunds[1]->payment_id, p1);
    assert_int_equal (rp->refunds[1]->amount_cents, 35000);
    assert_string_equal (meso_enum_str (&meso__v1__package_state__descriptor, (int) rp->package->state), "refunded");
    assert_int_equal (rp->package->sessions_left, 0);
    bc_free (rp);
    /* The patient owes the unpaid share of the session used: 350.00 x 4/14. */
    Meso__V1__GetStatementReply *st = bc_statement (fx, "clinic-a", "pat-r");
    assert_int_equal (st->charged_cents, 140000);
    assert_int_equal (st->credited_cents, 105000);
    assert_int_equal (st->paid_cents, 100000);
    assert_int_equal (st->refunded_cents, 75000);
    assert_int_equal (st->amount_due_cents, 10000);
    bc_free (st);
    /* Once only; and a further session is invoiced, not drawn. */
    assert_int_equal (bc_refund_package (fx, "clinic-a", pkg, NULL), MESO_FAILED_PRECONDITION);
    /* Unpaid package: its value credited, nothing given back. */
    assert_int_equal (bc_sell (fx, "clinic-a", "pat-r", 2, 70000, NULL, &sp), MESO_OK);
    snprintf (pkg, sizeof pkg, "%s", sp->package->package_id);
    bc_free (sp);
    assert_int_equal (bc_refund_package (fx, "clinic-a", pkg, &rp), MESO_OK);
    assert_int_equal (rp->refunded_cents, 0);
    assert_int_equal (rp->n_refunds, 0);
    assert_int_equal (rp->credit_note->gross_cents, 70000);
    bc_free (rp);
    assert_int_equal (bc_due (fx, "clinic-a", "pat-r"), 10000);
    /* Never more refunded than paid, on any payment. */
    assert_int_equal (fx_sql (fx, "SELECT count (*) FROM billing.payment p WHERE amount_cents <"
                                  " (SELECT coalesce (sum (amount_cents), 0) FROM billing.refund r"
                                  "  WHERE r.clinic_id = p.clinic_id AND r.payment_id = p.payment_id)", NULL), 0);
    assert_int_equal (bc_events (fx, "billing.package_refunded"), 2);
    assert_int_equal (bc_events (fx, "billing.credit_note_issued"), 2);
    fx_teardown (fx);
}

static void
test_invoice_refund_and_credit_note (void **state)
{
    (void) state;
    fx_t *fx = fx_setup ("bil_credit");
    int64_t prices[] = { 35000, 42000 };
    assert_int_equal (fx_prices (fx, "clinic-a", -1, prices, 2, NULL), MESO_OK);
    const char *cats[] = { "standard" };
    const uint32_t ppm[] = { 200000 };
    assert_int_equal (bc_tax (fx, "clinic-a", -1, 1, cats, ppm), MESO_OK);
    fx_screened (fx, "pat-c");
    /* 420.00 paid in two payments: 200.00, then 220.00. */
    int64_t amt[] = { 42000 };
    Meso__V1__IssueInvoiceReply *ir = NULL;
    assert_int_equal (bc_invoice (fx, "clinic-a", "pat-c", 1, amt, NULL, &ir), MESO_OK);
    char inv[40], p1[40], p2[40];
    snprintf (inv, sizeof inv, "%s", ir->invoice->invoice_id);
    bc_free (ir);
    assert_int_equal (fx_pay (fx, "clinic-a", NULL, inv, 20000, NULL, NULL, p1), MESO_OK);
    mt_sleep_ms (5);
    assert_int_equal (fx_pay (fx, "clinic-a", NULL, inv, 22000, NULL, NULL, p2), MESO_OK);
    /* 300.00 back against the invoice: all of the newest, 80.00 of the older. */
    Meso__V1__RecordRefundReply *rr = NULL;
    assert_int_equal (bc_refund (fx, "clinic-a", NULL, inv, 30000, &rr), MESO_OK);
    assert_int_equal (rr->n_refunds, 2);
    assert_string_equal (rr->refunds[0]->payment_id, p2);
    assert_int_equal (rr->refunds[0]->amount_cents, 22000);
    assert_string_equal (rr->refunds[1]->payment_id, p1);
    assert_int_equal (rr->refunds[1]->amount_cents, 8000);
    assert_int_equal (rr->refundable_left_cents, 12000);
    assert_int_equal (rr->balance_due_cents, 30000);
    bc_free (rr);
    /* Never beyond what was paid. */
    assert_int_equal (bc_refund (fx, "clinic-a", NULL, inv, 12001, NULL), MESO_FAILED_PRECONDITION);
    assert_int_equal (bc_refund (fx, "clinic-a", p1, inv, 100, NULL), MESO_INVALID_ARGUMENT);
    assert_int_equal (bc_refund (fx, "clinic-a", NULL, inv, 12000, &rr), MESO_OK);
    assert_int_equal (rr->n_refunds, 1);
    assert_string_equal (rr->refunds[0]->payment_id, p1);
    bc_free (rr);
    assert_int_equal (fx_sql (fx, "SELECT count (*) FROM billing.refund", NULL), 3);
    assert_int_equal (bc_due (fx, "clinic-a", "pat-c"), 42000);

    /* Cancel it: a credit note for all of it, tax included. */
    Meso__V1__CancelInvoiceReply *cr = NULL;
    assert_int_equal (bc_cancel (fx, "clinic-a", inv, &cr), MESO_OK);
    assert_int_equal (cr->credit_note->gross_cents, 42000);
    assert_int_equal (cr->credit_note->tax_cents, 7000);
    assert_int_equal (cr->credit_note->net_cents, 35000);
    assert_string_equal (meso_enum_str (&meso__v1__credit_note_kind__descriptor, (int) cr->credit_note->kind), "cancellation");
    assert_int_equal (cr->invoice->credited_cents, 42000);
    assert_int_equal (cr->invoice->due_cents, 0);
    bc_free (cr);
    Meso__V1__GetStatementReply *st = bc_statement (fx, "clinic-a", "pat-c");
    assert_int_equal (st->amount_due_cents, 0);
    assert_int_equal (st->credited_cents, 42000);
    assert_int_equal (st->tax_cents, 0);
    bc_free (st);
    /* Once only, and nothing more may be paid on it. */
    assert_int_equal (bc_cancel (fx, "clinic-a", inv, NULL), MESO_FAILED_PRECONDITION);
    assert_int_equal (fx_pay (fx, "clinic-a", NULL, inv, 100, NULL, NULL, NULL), MESO_FAILED_PRECONDITION);
    /* A paid invoice cancelled leaves the payment as credit. */
    assert_int_equal (bc_invoice (fx, "clinic-a", "pat-c", 1, amt, NULL, &ir), MESO_OK);
    snprintf (inv, sizeof inv, "%s", ir->invoice->invoice_id);
    bc_free (ir);
    assert_int_equal (fx_pay (fx, "clinic-a", NULL, inv, 42000, NULL, NULL, NULL), MESO_OK);
    assert_int_equal (bc_cancel (fx, "clinic-a", inv, &cr), MESO_OK);
    assert_int_equal (cr->invoice->due_cents, -42000);
    bc_free (cr);
    assert_int_equal (bc_due (fx, "clinic-a", "pat-c"), -42000);
    assert_int_equal (bc_refund (fx, "clinic-a", NULL, inv, 42000, NULL), MESO_OK);
    assert_int_equal (bc_due (fx, "clinic-a", "pat-c"), 0);
    /* A package's invoice is not cancelled but refunded. */
    Meso__V1__SellPackageReply *sp = NULL;
    assert_int_equal (bc_sell (fx, "clinic-a", "pat-c", 2, 70000, NULL, &sp), MESO_OK);
    assert_int_equal (bc_cancel (fx, "clinic-a", sp->invoice->invoice_id, NULL), MESO_FAILED_PRECONDITION);
    bc_free (sp);
    /* Unknown invoice. */
    assert_int_equal (bc_cancel (fx, "clinic-a", "no-such-invoice", NULL), MESO_NOT_FOUND);
    fx_teardown (fx);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_taxes),
        cmocka_unit_test (test_package_across_clinics_and_expiry),
        cmocka_unit_test (test_refund_unused_sessions),
        cmocka_unit_test (test_invoice_refund_and_credit_note),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
