/* test_billing_reports.c -- billing's revenue and prepaid-liability
 * reports against a hand-computed expectation, on real PostgreSQL, a real
 * meso-billing and a real meso-events. Two clinics: A charges 20% tax, B
 * none and accepts A's packages. What happens today, and what each report
 * must say (cents):
 *
 *   A  session, 1 area                 gross 36000  tax 6000
 *   A  manual invoice, then cancelled  gross 12000 - 12000, tax 2000 - 2000
 *   A  package 3 x 1000.01 sold        (liability, not revenue; tax 16667)
 *   A  one session drawn from it       gross 33333  tax 5555  (16667 / 3)
 *   B  one session drawn from it       gross 33333  tax 5555  (B's revenue)
 *   A  package 2 x 700.00, last day tomorrow; a session the day after
 *      expires it (70000, tax 11667 recognised) and is invoiced 36000/6000
 *   A  a package 2 x 600.00 refunded   (no revenue; out of the liability)
 *   A  payment 360.00, 10.00 refunded  refunds 1000
 *   B  session, 1 area                 gross 35000  tax 0
 *   B  package 2 x 700.00 sold         (liability 70000)
 *
 * Revenue today: A gross 175333, tax 29222, net 146111, refunds 1000;
 * B gross 68333, tax 5555, net 62778, refunds 0; the same by month; none
 * on days before. Liability: A one package, 1 session, 33335 (tax 5557);
 * B one package, 2 sessions, 70000. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "billing_calls.h"

static Meso__V1__RevenueReportReply *
s_revenue (fx_t *fx, int from, int to, const char *by)
{
    const char *ids[] = { "clinic-a", "clinic-b" };
    char f[16], t[16];
    fx_date (from, f);
    fx_date (to, t);
    Meso__V1__RevenueReportRequest rq = MESO__V1__REVENUE_REPORT_REQUEST__INIT;
    rq.clinic_ids = (char **) ids;
    rq.n_clinic_ids = 2;
    rq.from = f;
    rq.to = t;
    rq.by = (char *) by;
    Meso__V1__RevenueReportReply *out = NULL;
    assert_int_equal (bc_call (fx, "billing.RevenueReport", &rq.base,
                               &meso__v1__revenue_report_reply__descriptor, &out), MESO_OK);
    return out;
}

static void
s_row (const Meso__V1__RevenueRow *r, const char *clinic, const char *period, int64_t gross,
       int64_t tax, int64_t refunds)
{
    assert_string_equal (r->clinic_id, clinic);
    assert_string_equal (r->period, period);
    assert_string_equal (r->currency, "USD");
    assert_int_equal (r->gross_cents, gross);
    assert_int_equal (r->tax_cents, tax);
    assert_int_equal (r->net_cents, gross - tax);
    assert_int_equal (r->refunds_cents, refunds);
}

static void
test_revenue_and_liability (void **state)
{
    (void) state;
    fx_t *fx = fx_setup ("bil_reports");
    int64_t pa[] = { 36000, 42000 }, pb[] = { 35000 };
    assert_int_equal (fx_prices (fx, "clinic-a", -1, pa, 2, NULL), MESO_OK);
    assert_int_equal (fx_prices (fx, "clinic-b", -1, pb, 1, NULL), MESO_OK);
    const char *cats[] = { "standard" };
    const uint32_t ppm[] = { 200000 };
    assert_int_equal (bc_tax (fx, "clinic-a", -1, 1, cats, ppm), MESO_OK);
    const char *acc[] = { "clinic-a" };
    assert_int_equal (bc_policy (fx, "clinic-b", 0, 1, acc), MESO_OK);
    fx_screened (fx, "pat-1");
    fx_screened (fx, "pat-2");
    fx_screened (fx, "pat-3");

    /* A: a session invoiced, paid, 10.00 refunded. */
    fx_session (fx, "session.completed", "clinic-a", "a-1", "pat-1", 1, 0, false, 0);
    fx_wait_cursor (fx, "session", fx->session_seq);
    char inv[40], pay[40];
    int64_t one = fx_sql (fx, "SELECT count (*) FROM billing.invoice WHERE clinic_id = 'clinic-a'", NULL);
    assert_int_equal (one, 1);
    PGresult *res = meso_db_query (fx->db, "SELECT invoice_id FROM billing.invoice WHERE clinic_id = 'clinic-a'", 0, NULL);
    assert_non_null (res);
    snprintf (inv, sizeof inv, "%s", PQgetvalue (res, 0, 0));
    PQclear (res);
    assert_int_equal (fx_pay (fx, "clinic-a", NULL, inv, 36000, NULL, NULL, pay), MESO_OK);
    assert_int_equal (bc_refund (fx, "clinic-a", pay, NULL, 1000, NULL), MESO_OK);
    /* A: a manual invoice, cancelled. */
    int64_t m[] = { 12000 };
    Meso__V1__IssueInvoiceReply *ir = NULL;
    assert_int_equal (bc_invoice (fx, "clinic-a", "pat-1", 1, m, NULL, &ir), MESO_OK);
    assert_int_equal (bc_cancel (fx, "clinic-a", ir->invoice->invoice_id, NULL), MESO_OK);
    bc_free (ir);
    /* A: a package of 3, one session at A, one at B. */
    Meso__V1__SellPackageReply *sp = NULL;
    assert_int_equal (bc_sell (fx, "clinic-a", "pat-1", 3, 100001, NULL, &sp), MESO_OK);
    assert_int_equal (sp->package->tax_cents, 16667);
    bc_free (sp);
    fx_session (fx, "session.completed", "clinic-a", "a-2", "pat-1", 1, 1, false, 0);
    fx_session (fx, "session.completed", "clinic-b", "b-1", "pat-1", 1, 2, false, 0);
    /* A: a package whose last day is tomorrow, expired by a session the
     * day after. */
    char last[16];
    fx_date (1, last);
    assert_int_equal (bc_sell (fx, "clinic-a", "pat-3", 2, 70000, last, NULL), MESO_OK);
    fx_session (fx, "session.completed", "clinic-a", "a-3", "pat-3", 1, 2, false, 0);
    fx_wait_cursor (fx, "session", fx->session_seq);     /* before pat-3's next package */
    /* A: a package refunded whole. */
    assert_int_equal (bc_sell (fx, "clinic-a", "pat-3", 2, 60000, NULL, &sp), MESO_OK);
    assert_int_equal (bc_refund_package (fx, "clinic-a", sp->package->package_id, NULL), MESO_OK);
    bc_free (sp);
    /* B: a session, and a package sold. */
    fx_session (fx, "session.completed", "clinic-b", "b-2", "pat-2", 1, 0, false, 0);
    fx_wait_cursor (fx, "session", fx->session_seq);     /* invoiced, before her package */
    assert_int_equal (bc_sell (fx, "clinic-b", "pat-2", 2, 70000, NULL, NULL), MESO_OK);
    /* Every charge above is B's or A's as the header says: B's session
     * was invoiced, not drawn from the package sold after it. */
    assert_int_equal (fx_sql (fx, "SELECT count (*) FROM billing.session_charge WHERE how = 'invoiced'"
                                  " AND appointment_id IN ('a-1', 'a-3', 'b-2')", NULL), 3);

    char today[16], month[8];
    fx_date (0, today);
    snprintf (month, sizeof month, "%.7s", today);
    Meso__V1__RevenueReportReply *rr = s_revenue (fx, -31, 0, "day");
    assert_int_equal (rr->n_rows, 2);
    s_row (rr->rows[0], "clinic-a", today, 175333, 29222, 1000);
    s_row (rr->rows[1], "clinic-b", today, 68333, 5555, 0);
    assert_int_equal (rr->n_totals, 2);
    s_row (rr->totals[0], "clinic-a", rr->totals[0]->period, 175333, 29222, 1000);
    s_row (rr->totals[1], "clinic-b", rr->totals[1]->period, 68333, 5555, 0);
    bc_free (rr);
    rr = s_revenue (fx, 0, 0, "month");
    assert_int_equal (rr->n_rows, 2);
    s_row (rr->rows[0], "clinic-a", month, 175333, 29222, 1000);
    s_row (rr->rows[1], "clinic-b", month, 68333, 5555, 0);
    bc_free (rr);
    /* Days before today: nothing. */
    rr = s_revenue (fx, -40, -1, "day");
    assert_int_equal (rr->n_rows, 0);
    assert_int_equal (rr->totals[0]->gross_cents, 0);
    bc_free (rr);

    const char *ids[] = { "clinic-a", "clinic-b" };
    Meso__V1__LiabilityReportRequest lq = MESO__V1__LIABILITY_REPORT_REQUEST__INIT;
    lq.clinic_ids = (char **) ids;
    lq.n_clinic_ids = 2;
    Meso__V1__LiabilityReportReply *lr = NULL;
    assert_int_equal (bc_call (fx, "billing.LiabilityReport", &lq.base,
                               &meso__v1__liability_report_reply__descriptor, &lr), MESO_OK);
    assert_int_equal (lr->n_rows, 2);
    assert_string_equal (lr->rows[0]->clinic_id, "clinic-a");
    assert_int_equal (lr->rows[0]->packages, 1);
    assert_int_equal (lr->rows[0]->sessions_left, 1);
    assert_int_equal (lr->rows[0]->liability_cents, 33335);
    assert_int_equal (lr->rows[0]->tax_cents, 5557);
    assert_string_equal (lr->rows[1]->clinic_id, "clinic-b");
    assert_int_equal (lr->rows[1]->packages, 1);
    assert_int_equal (lr->rows[1]->sessions_left, 2);
    assert_int_equal (lr->rows[1]->liability_cents, 70000);
    assert_int_equal (lr->rows[1]->tax_cents, 0);
    bc_free (lr);

    /* Bad requests name the field. */
    Meso__V1__RevenueReportRequest bad = MESO__V1__REVENUE_REPORT_REQUEST__INIT;
    bad.clinic_ids = (char **) ids;
    bad.n_clinic_ids = 1;
    bad.from = today;
    bad.to = "2000-01-01";
    bad.by = "week";
    meso_result_t r = { 0 };
    assert_int_equal (fx_call (fx, "billing.RevenueReport", &bad.base, NULL, &r), MESO_INVALID_ARGUMENT);
    assert_int_equal (r.reply->n_reasons, 2);
    assert_string_equal (r.reply->reasons[0]->field, "to");
    assert_string_equal (r.reply->reasons[1]->field, "by");
    meso_result_reset (&r);
    Meso__V1__LiabilityReportRequest none = MESO__V1__LIABILITY_REPORT_REQUEST__INIT;
    assert_int_equal (fx_call (fx, "billing.LiabilityReport", &none.base, NULL, &r), MESO_INVALID_ARGUMENT);
    assert_string_equal (r.reply->reasons[0]->field, "clinic_ids");
    meso_result_reset (&r);
    fx_teardown (fx);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_revenue_and_liability),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
