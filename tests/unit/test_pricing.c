/* test_pricing.c -- billing's pure decisions: the price in effect on a
 * date for a number of areas, the $300..$500 range at its edges, package
 * prices per session, how a performed session is charged (package draw,
 * invoice or unpriced), what may be refunded, what an invoice payment
 * leaves due, which events incur a fee, how a statement adds up, and the
 * record-only payment provider.
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
test_price_range_edges (void **state)
{
    assert_false (pricing_price_ok (29999));
    assert_true (pricing_price_ok (30000));
    assert_true (pricing_price_ok (42500));
    assert_true (pricing_price_ok (50000));
    assert_false (pricing_price_ok (50001));
    assert_false (pricing_price_ok (0));
    assert_false (pricing_price_ok (-35000));
}

/* Two lists: from 2026-01-01 (1 area 30000, 2 areas 40000, 4 areas
 * 50000) and from 2026-06-01 (1 area 35000, 2 areas 45000). */
static const pricing_entry_t s_rows[] = {
    { 0, 2, 45000 }, { 0, 1, 35000 },                      /* dates set below */
    { 0, 1, 30000 }, { 0, 2, 40000 }, { 0, 4, 50000 },
};

static void
s_rows_init (pricing_entry_t *rows)
{
    memcpy (rows, s_rows, sizeof s_rows);
    rows[0].effective_from = rows[1].effective_from = D (2026, 6, 1);
    rows[2].effective_from = rows[3].effective_from = rows[4].effective_from = D (2026, 1, 1);
}

static void
test_pick_by_date_and_areas (void **state)
{
    pricing_entry_t rows[5];
    s_rows_init (rows);
    int64_t p = 0;
    int32_t from = 0;
    /* Before any list: none in effect. */
    assert_int_equal (pricing_pick (rows, 5, D (2025, 12, 31), 1, &p, NULL), -1);
    /* The first day of a list is covered by it. */
    assert_int_equal (pricing_pick (rows, 5, D (2026, 1, 1), 1, &p, &from), 0);
    assert_int_equal (p, 30000);
    assert_int_equal (from, D (2026, 1, 1));
    assert_int_equal (pricing_pick (rows, 5, D (2026, 5, 31), 2, &p, NULL), 0);
    assert_int_equal (p, 40000);
    /* 3 areas: the largest entry below (2 areas). 7 areas: 4 areas. */
    assert_int_equal (pricing_pick (rows, 5, D (2026, 5, 31), 3, &p, NULL), 0);
    assert_int_equal (p, 40000);
    assert_int_equal (pricing_pick (rows, 5, D (2026, 5, 31), 7, &p, NULL), 0);
    assert_int_equal (p, 50000);
    /* The new list replaces the old one entirely from its date: 4 areas
     * is now the 2-area price of the new list, not the old 4-area one. */
    assert_int_equal (pricing_pick (rows, 5, D (2026, 6, 1), 1, &p, &from), 0);
    assert_int_equal (p, 35000);
    assert_int_equal (from, D (2026, 6, 1));
    assert_int_equal (pricing_pick (rows, 5, D (2027, 1, 1), 4, &p, NULL), 0);
    assert_int_equal (p, 45000);
    /* 0 areas counts as 1. */
    assert_int_equal (pricing_pick (rows, 5, D (2027, 1, 1), 0, &p, NULL), 0);
    assert_int_equal (p, 35000);
    /* Nothing at all. */
    assert_int_equal (pricing_pick (rows, 0, D (2027, 1, 1), 1, &p, NULL), -1);
}

static void
test_pick_only_larger_entries (void **state)
{
    pricing_entry_t rows[] = { { D (2026, 1, 1), 3, 48000 }, { D (2026, 1, 1), 5, 50000 } };
    int64_t p = 0;
    assert_int_equal (pricing_pick (rows, 2, D (2026, 2, 1), 1, &p, NULL), 0);
    assert_int_equal (p, 48000);
}

static void
test_package_per_session_range (void **state)
{
    int64_t per = 0;
    /* 10 sessions: 300000..500000 cents. */
    assert_int_equal (pricing_package_check (10, 300000, &per), 0);
    assert_int_equal (per, 30000);
    assert_int_equal (pricing_package_check (10, 500000, &per), 0);
    assert_int_equal (per, 50000);
    assert_int_equal (pricing_package_check (10, 299999, &per), -2);
    assert_int_equal (pricing_package_check (10, 500001, &per), -2);
    /* Rounding cannot sneak a price past the edge: 3 sessions at 100000
     * is 33333.33 per session, fine; 3 at 89999 is 29999.67, refused. */
    assert_int_equal (pricing_package_check (3, 100000, &per), 0);
    assert_int_equal (per, 33333);
    assert_int_equal (pricing_package_check (3, 89999, &per), -2);
    assert_int_equal (pricing_package_check (0, 0, &per), -1);
    assert_int_equal (pricing_package_check (101, 101 * 40000, &per), -1);
    assert_int_equal (pricing_package_check (1, -40000, &per), -2);
}

static void
test_list_in_effect (void **state)
{
    pricing_entry_t rows[5];
    s_rows_init (rows);
    int32_t from = -1;
    assert_int_equal (pricing_list_in_effect (rows, 5, D (2025, 12, 31), &from), -1);
    assert_int_equal (from, -1);
    assert_int_equal (pricing_list_in_effect (rows, 5, D (2026, 1, 1), &from), 0);
    assert_int_equal (from, D (2026, 1, 1));
    assert_int_equal (pricing_list_in_effect (rows, 5, D (2026, 5, 31), &from), 0);
    assert_int_equal (from, D (2026, 1, 1));
    assert_int_equal (pricing_list_in_effect (rows, 5, D (2026, 6, 1), &from), 0);
    assert_int_equal (from, D (2026, 6, 1));
    assert_int_equal (pricing_list_in_effect (rows, 5, D (2030, 1, 1), &from), 0);
    assert_int_equal (from, D (2026, 6, 1));
    assert_int_equal (pricing_list_in_effect (rows, 0, D (2030, 1, 1), &from), -1);
}

static void
test_per_session (void **state)
{
    assert_int_equal (pricing_per_session (400000, 10), 40000);
    assert_int_equal (pricing_per_session (100000, 3), 33333);
    assert_int_equal (pricing_per_session (40000, 1), 40000);
    assert_int_equal (pricing_per_session (40000, 0), 0);
}

static void
test_session_charge (void **state)
{
    pricing_entry_t rows[5];
    s_rows_init (rows);
    int64_t amount = -1;
    /* A package wins over the list, at its price per session rounded
     * down, and the rows are not even looked at. */
    pricing_package_t pkg = { 3, 100000, 0 };
    assert_int_equal (pricing_session_charge (&pkg, rows, 5, D (2026, 2, 1), 2, &amount),
                      PRICING_CHARGE_PACKAGE);
    assert_int_equal (amount, 33333);
    assert_int_equal (pricing_session_charge (&pkg, NULL, 0, D (2025, 1, 1), 1, &amount),
                      PRICING_CHARGE_PACKAGE);
    assert_int_equal (amount, 33333);
    /* A package of no sessions (the schema refuses one) draws its price. */
    pricing_package_t empty = { 0, 40000, 0 };
    assert_int_equal (pricing_session_charge (&empty, NULL, 0, D (2026, 2, 1), 1, &amount),
                      PRICING_CHARGE_PACKAGE);
    assert_int_equal (amount, 40000);
    /* No package: the list price in effect on the session's date. */
    assert_int_equal (pricing_session_charge (NULL, rows, 5, D (2026, 2, 1), 3, &amount),
                      PRICING_CHARGE_INVOICE);
    assert_int_equal (amount, 40000);
    assert_int_equal (pricing_session_charge (NULL, rows, 5, D (2026, 6, 1), 0, &amount),
                      PRICING_CHARGE_INVOICE);
    assert_int_equal (amount, 35000);
    /* No list in effect: unpriced, at 0. */
    amount = -1;
    assert_int_equal (pricing_session_charge (NULL, rows, 5, D (2025, 12, 31), 1, &amount),
                      PRICING_CHARGE_UNPRICED);
    assert_int_equal (amount, 0);
    amount = -1;
    assert_int_equal (pricing_session_charge (NULL, NULL, 0, D (2026, 2, 1), 1, &amount),
                      PRICING_CHARGE_UNPRICED);
    assert_int_equal (amount, 0);
}

static void
test_refunds_up_to_what_was_paid (void **state)
{
    assert_int_equal (pricing_refundable (40000, 0), 40000);
    assert_int_equal (pricing_refundable (40000, 15000), 25000);
    assert_int_equal (pricing_refundable (40000, 40000), 0);
    assert_int_equal (pricing_refundable (40000, 50000), 0);
    assert_true (pricing_refund_ok (40000, 15000, 25000));
    assert_false (pricing_refund_ok (40000, 15000, 25001));
    assert_false (pricing_refund_ok (40000, 0, 0));
    assert_false (pricing_refund_ok (40000, 0, -1));
    assert_false (pricing_refund_ok (40000, 40000, 1));
}

static void
test_invoice_payments (void **state)
{
    assert_int_equal (pricing_invoice_due (40000, 0), 40000);
    assert_int_equal (pricing_invoice_due (40000, 15000), 25000);
    assert_int_equal (pricing_invoice_due (40000, 40000), 0);
    /* Partial payments, then the rest; never more than due. */
    assert_int_equal (pricing_invoice_after_payment (40000, 0, 10000), 30000);
    assert_int_equal (pricing_invoice_after_payment (40000, 10000, 30000), 0);
    assert_int_equal (pricing_invoice_after_payment (40000, 10000, 30001), -1);
    assert_int_equal (pricing_invoice_after_payment (40000, 40000, 1), -1);
    assert_int_equal (pricing_invoice_after_payment (40000, 0, 0), -1);
    assert_int_equal (pricing_invoice_after_payment (40000, 0, -5), -1);
}

static void
test_fees (void **state)
{
    pricing_fees_t none = { 0, 0 };
    pricing_fees_t set = { 10000, 5000 };
    /* Default: no fee for anything. */
    assert_int_equal (pricing_fee (&none, PRICING_EVENT_NO_SHOW, false, 0), 0);
    assert_int_equal (pricing_fee (&none, PRICING_EVENT_CANCELLED, true, PRICING_BY_PATIENT), 0);
    assert_int_equal (pricing_fee (&set, PRICING_EVENT_NO_SHOW, false, 0), 10000);
    assert_int_equal (pricing_fee (&set, PRICING_EVENT_CANCELLED, true, PRICING_BY_PATIENT), 5000);
    assert_int_equal (pricing_fee (&set, PRICING_EVENT_CANCELLED, true, PRICING_BY_UNSPECIFIED), 5000);
    /* On time, or by the clinic or the system: never a fee. */
    assert_int_equal (pricing_fee (&set, PRICING_EVENT_CANCELLED, false, PRICING_BY_PATIENT), 0);
    assert_int_equal (pricing_fee (&set, PRICING_EVENT_CANCELLED, true, PRICING_BY_CLINIC), 0);
    assert_int_equal (pricing_fee (&set, PRICING_EVENT_CANCELLED, true, PRICING_BY_SYSTEM), 0);
}

static void
test_statement_sums (void **state)
{
    pricing_statement_t st = { 0, 0, 0, 0, 0 };
    /* Two charges, a payment of one and a half, a partial refund. */
    pricing_statement_add (&st, "charge", 40000);
    pricing_statement_add (&st, "charge", 10000);
    pricing_statement_add (&st, "payment", -45000);
    pricing_statement_add (&st, "refund", 5000);
    assert_int_equal (st.charged_cents, 50000);
    assert_int_equal (st.paid_cents, 45000);
    assert_int_equal (st.refunded_cents, 5000);
    assert_int_equal (st.due_cents, 10000);
    /* A deposit before any charge: a credit (negative due). */
    pricing_statement_t dep = { 0, 0, 0, 0, 0 };
    pricing_statement_add (&dep, "payment", -30000);
    assert_int_equal (dep.paid_cents, 30000);
    assert_int_equal (dep.due_cents, -30000);
    /* Any other kind counts as a refund. */
    pricing_statement_add (&dep, "adjustment", 1000);
    assert_int_equal (dep.refunded_cents, 1000);
    assert_int_equal (dep.due_cents, -29000);
    assert_int_equal (dep.charged_cents, 0);
}

static void
test_record_only_provider (void **state)
{
    const pricing_provider_t *p = &pricing_provider_record_only;
    char ref[64], err[128];
    assert_string_equal (p->name, "record-only");
    assert_int_equal (p->record (p->ctx, "card", 40000, "USD", "k1", ref, sizeof ref, err, sizeof err), 0);
    assert_string_equal (ref, "card:k1");
    assert_int_equal (p->record (p->ctx, "bank_transfer", 1, "USD", "k2", ref, sizeof ref, err, sizeof err), 0);
    assert_string_equal (ref, "bank_transfer:k2");
    assert_int_equal (p->record (p->ctx, "cheque", 40000, "USD", "k3", ref, sizeof ref, err, sizeof err), -1);
    assert_non_null (strstr (err, "cheque"));
    assert_int_equal (p->record (p->ctx, "cash", 0, "USD", "k4", ref, sizeof ref, err, sizeof err), -1);
    assert_true (pricing_method_ok ("cash"));
    assert_false (pricing_method_ok ("Cash"));
    assert_false (pricing_method_ok (NULL));
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_price_range_edges),
        cmocka_unit_test (test_pick_by_date_and_areas),
        cmocka_unit_test (test_pick_only_larger_entries),
        cmocka_unit_test (test_list_in_effect),
        cmocka_unit_test (test_package_per_session_range),
        cmocka_unit_test (test_per_session),
        cmocka_unit_test (test_session_charge),
        cmocka_unit_test (test_refunds_up_to_what_was_paid),
        cmocka_unit_test (test_invoice_payments),
        cmocka_unit_test (test_fees),
        cmocka_unit_test (test_statement_sums),
        cmocka_unit_test (test_record_only_provider),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
