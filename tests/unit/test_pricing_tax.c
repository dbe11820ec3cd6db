/* test_pricing_tax.c -- billing's pure decisions about taxes and packages
 * (services/billing/pricing.c): the tax a tax-inclusive amount includes,
 * rounded half to even per line, at the boundaries (ties either way, the
 * 0% and 100% rates, three lines whose per-line rounding differs from the
 * total's); which rate is in effect for a category on a date; a package's
 * share per session with the leftover cents on the last one; what a
 * refund of unused sessions gives back (pro rata of what was paid, never
 * more); and a refund spread over payments, newest first.
 * pricing.c is pure: the test links meso_billing_pricing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <string.h>

#include "billing/pricing.h"

#include "meso/mtime.h"

#define D(y, m, d) meso_date_from_ymd (y, m, d)

static void
test_half_even_division (void **state)
{
    (void) state;
    assert_int_equal (pricing_div_half_even (7, 2), 4);     /* 3.5 -> 4 (even) */
    assert_int_equal (pricing_div_half_even (5, 2), 2);     /* 2.5 -> 2 (even) */
    assert_int_equal (pricing_div_half_even (1, 2), 0);     /* 0.5 -> 0 */
    assert_int_equal (pricing_div_half_even (3, 2), 2);     /* 1.5 -> 2 */
    assert_int_equal (pricing_div_half_even (1, 3), 0);     /* 0.33 -> 0 */
    assert_int_equal (pricing_div_half_even (2, 3), 1);     /* 0.67 -> 1 */
    assert_int_equal (pricing_div_half_even (0, 7), 0);
    assert_int_equal (pricing_div_half_even (14, 7), 2);
}

static void
test_tax_included_boundaries (void **state)
{
    (void) state;
    /* No rate, no tax; nothing of nothing. */
    assert_int_equal (pricing_tax_included (35000, 0), 0);
    assert_int_equal (pricing_tax_included (0, 200000), 0);
    /* 20% included: gross / 6. */
    assert_int_equal (pricing_tax_included (36000, 200000), 6000);
    assert_int_equal (pricing_tax_included (30000, 200000), 5000);
    assert_int_equal (pricing_tax_included (50000, 200000), 8333);      /* 8333.33 */
    assert_int_equal (pricing_tax_included (50004, 200000), 8334);
    /* Ties at 20%: x.5 goes to the even cent. */
    assert_int_equal (pricing_tax_included (30003, 200000), 5000);      /* 5000.5 -> 5000 */
    assert_int_equal (pricing_tax_included (30009, 200000), 5002);      /* 5001.5 -> 5002 */
    assert_int_equal (pricing_tax_included (3, 200000), 0);             /* 0.5 -> 0 */
    assert_int_equal (pricing_tax_included (9, 200000), 2);             /* 1.5 -> 2 */
    /* Just off a tie rounds to the nearer cent. */
    assert_int_equal (pricing_tax_included (30002, 200000), 5000);      /* 5000.33 */
    assert_int_equal (pricing_tax_included (30004, 200000), 5001);      /* 5000.67 */
    /* 100%, the largest rate: half the gross, ties to even. */
    assert_int_equal (pricing_tax_included (30001, 1000000), 15000);    /* 15000.5 -> 15000 */
    assert_int_equal (pricing_tax_included (30003, 1000000), 15002);    /* 15001.5 -> 15002 */
    /* 8.875% (New York City sales tax): 40000 * 88750 / 1088750. */
    assert_int_equal (pricing_tax_included (40000, 88750), 3261);       /* 3260.62 */
    /* A rate beyond 100% is taken as 100%. */
    assert_int_equal (pricing_tax_included (30001, 2000000), 15000);
    /* The largest invoice (50 lines of a million dollars) does not overflow. */
    assert_int_equal (pricing_tax_included (INT64_C (5000000000), 1000000), INT64_C (2500000000));
}

static void
test_tax_per_line_on_three_lines (void **state)
{
    (void) state;
    /* Three lines of 300.03 at 20%: each includes 50.005, rounded half to
     * even to 50.00, so the invoice's tax is 150.00 -- not the 150.02 that
     * rounding the 900.09 total would give. The invoice shows and sums
     * the lines' rounded tax. */
    int64_t lines[3] = { 30003, 30003, 30003 }, tax = 0, gross = 0;
    for (int i = 0; i < 3; i++) {
        tax += pricing_tax_included (lines[i], 200000);
        gross += lines[i];
    }
    assert_int_equal (tax, 15000);
    assert_int_equal (pricing_tax_included (gross, 200000), 15002);
    /* The other way: each 300.09 includes 50.015 -> 50.02, the lines
     * 150.06, the total alone 150.045 -> 150.04. */
    int64_t up[3] = { 30009, 30009, 30009 };
    tax = gross = 0;
    for (int i = 0; i < 3; i++) {
        tax += pricing_tax_included (up[i], 200000);
        gross += up[i];
    }
    assert_int_equal (tax, 15006);
    assert_int_equal (pricing_tax_included (gross, 200000), 15004);
    /* Mixed categories on three lines: 20%, 5.5% and none. */
    assert_int_equal (pricing_tax_included (35000, 200000) + pricing_tax_included (2110, 55000)
                      + pricing_tax_included (1000, 0), 5833 + 110 + 0);
}

static void
test_tax_rate_in_effect (void **state)
{
    (void) state;
    pricing_tax_t rows[] = {
        { D (2026, 1, 1), "standard", 200000 },
        { D (2026, 1, 1), "reduced", 55000 },
        { D (2026, 7, 1), "standard", 210000 },
    };
    uint32_t rate = 99;
    /* Before any set: no tax for the standard category; another is unknown. */
    assert_int_equal (pricing_tax_rate (rows, 3, D (2025, 12, 31), "", &rate), 0);
    assert_int_equal (rate, 0);
    assert_int_equal (pricing_tax_rate (rows, 3, D (2025, 12, 31), "reduced", &rate), -1);
    /* The first set, on its first day and its last. */
    assert_int_equal (pricing_tax_rate (rows, 3, D (2026, 1, 1), NULL, &rate), 0);
    assert_int_equal (rate, 200000);
    assert_int_equal (pricing_tax_rate (rows, 3, D (2026, 6, 30), "reduced", &rate), 0);
    assert_int_equal (rate, 55000);
    /* The second set replaces the first whole: "reduced" is gone. */
    assert_int_equal (pricing_tax_rate (rows, 3, D (2026, 7, 1), "standard", &rate), 0);
    assert_int_equal (rate, 210000);
    assert_int_equal (pricing_tax_rate (rows, 3, D (2026, 7, 1), "reduced", &rate), -1);
    /* No rows at all: the clinic charges no tax. */
    assert_int_equal (pricing_tax_rate (NULL, 0, D (2026, 7, 1), "standard", &rate), 0);
    assert_int_equal (rate, 0);
    assert_true (pricing_tax_category_ok ("standard"));
    assert_true (pricing_tax_category_ok ("food_5"));
    assert_false (pricing_tax_category_ok (""));
    assert_false (pricing_tax_category_ok ("5food"));
    assert_false (pricing_tax_category_ok ("Food"));
    assert_false (pricing_tax_category_ok ("abcdefghijklmnopqrstuvwxyz0123456"));  /* 33 bytes */
    assert_true (pricing_tax_category_ok ("abcdefghijklmnopqrstuvwxyz012345"));    /* 32 */
}

static void
test_package_shares_add_up (void **state)
{
    (void) state;
    /* 1000.01 for 3 sessions: 333.33, 333.33 and the last 333.35. */
    assert_int_equal (pricing_package_share (100001, 3, 1), 33333);
    assert_int_equal (pricing_package_share (100001, 3, 2), 33333);
    assert_int_equal (pricing_package_share (100001, 3, 3), 33335);
    assert_int_equal (pricing_package_share (100001, 3, 0), 0);
    assert_int_equal (pricing_package_share (100001, 3, 4), 0);
    assert_int_equal (pricing_package_recognised (100001, 3, 0), 0);
    assert_int_equal (pricing_package_recognised (100001, 3, 2), 66666);
    assert_int_equal (pricing_package_recognised (100001, 3, 3), 100001);
    /* No cent lost, whatever the price and the number of sessions. */
    for (uint32_t n = 1; n <= 100; n++)
        for (int64_t price = 30000 * (int64_t) n; price <= 30000 * (int64_t) n + 250; price += 7) {
            int64_t sum = 0;
            for (uint32_t u = 1; u <= n; u++) {
                sum += pricing_package_share (price, n, u);
                assert_int_equal (pricing_package_recognised (price, n, u), sum);
            }
            assert_int_equal (sum, price);
        }
    /* The session charge from a package follows the same shares. */
    pricing_package_t pkg = { 3, 100001, 2 };
    int64_t amount = 0;
    assert_int_equal (pricing_session_charge (&pkg, NULL, 0, D (2026, 1, 1), 1, &amount),
                      PRICING_CHARGE_PACKAGE);
    assert_int_equal (amount, 33335);
}

static void
test_package_refund_never_more_than_paid (void **state)
{
    (void) state;
    /* Paid in full: the whole unused value comes back. */
    assert_int_equal (pricing_package_refund (100001, 66668, 100001), 66668);
    /* Half paid: half of the unused value, rounded down. */
    assert_int_equal (pricing_package_refund (100000, 60000, 50000), 30000);
    assert_int_equal (pricing_package_refund (100001, 66668, 50000), 33333);
    /* Little paid: never more than that. */
    assert_int_equal (pricing_package_refund (100000, 90000, 10), 9);
    assert_int_equal (pricing_package_refund (100000, 100000, 10), 10);
    /* Nothing paid, nothing unused: nothing. */
    assert_int_equal (pricing_package_refund (100000, 60000, 0), 0);
    assert_int_equal (pricing_package_refund (100000, 0, 100000), 0);
    /* Overpaid (not possible on an invoice) still gives at most unused. */
    assert_int_equal (pricing_package_refund (100000, 60000, 120000), 60000);
    /* An unused value above the price is taken as the price. */
    assert_int_equal (pricing_package_refund (100000, 150000, 100000), 100000);
    for (int64_t paid = 0; paid <= 100000; paid += 997)
        for (int64_t unused = 0; unused <= 100000; unused += 4999) {
            int64_t back = pricing_package_refund (100000, unused, paid);
            assert_true (back >= 0 && back <= paid && back <= unused);
        }
}

static void
test_refund_spread_newest_first (void **state)
{
    (void) state;
    /* Payments newest first: 50.00 left on the newest, 100.00 on the older. */
    int64_t left[2] = { 5000, 10000 }, take[2] = { -1, -1 };
    assert_int_equal (pricing_spread_refund (left, 2, 7000, take), 2);
    assert_int_equal (take[0], 5000);
    assert_int_equal (take[1], 2000);
    assert_int_equal (pricing_spread_refund (left, 2, 5000, take), 1);
    assert_int_equal (take[0], 5000);
    assert_int_equal (take[1], 0);
    assert_int_equal (pricing_spread_refund (left, 2, 15000, take), 2);
    /* Beyond what the payments hold, or nothing: refused. */
    assert_int_equal (pricing_spread_refund (left, 2, 15001, take), -1);
    assert_int_equal (pricing_spread_refund (left, 2, 0, take), -1);
    /* A fully refunded newest payment is skipped. */
    int64_t skip[3] = { 0, 300, 400 }, t3[3];
    assert_int_equal (pricing_spread_refund (skip, 3, 500, t3), 2);
    assert_int_equal (t3[0], 0);
    assert_int_equal (t3[1], 300);
    assert_int_equal (t3[2], 200);
}

static void
test_statement_credits (void **state)
{
    (void) state;
    pricing_statement_t st = { 0, 0, 0, 0, 0 };
    pricing_statement_add (&st, "charge", 40000);
    pricing_statement_add (&st, "payment", -40000);
    pricing_statement_add (&st, "credit", -40000);
    pricing_statement_add (&st, "refund", 40000);
    assert_int_equal (st.charged_cents, 40000);
    assert_int_equal (st.credited_cents, 40000);
    assert_int_equal (st.paid_cents, 40000);
    assert_int_equal (st.refunded_cents, 40000);
    assert_int_equal (st.due_cents, 0);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_half_even_division),
        cmocka_unit_test (test_tax_included_boundaries),
        cmocka_unit_test (test_tax_per_line_on_three_lines),
        cmocka_unit_test (test_tax_rate_in_effect),
        cmocka_unit_test (test_package_shares_add_up),
        cmocka_unit_test (test_package_refund_never_more_than_paid),
        cmocka_unit_test (test_refund_spread_newest_first),
        cmocka_unit_test (test_statement_credits),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
