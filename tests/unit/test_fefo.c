/* test_fefo.c -- lot picking: first-expiring-first, never a lot that
 * expires before the session, never a recalled one, splits across lots,
 * all or nothing. fefo.c is pure: the test links meso_inventory_logic. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "inventory/fefo.h"

#include "meso/mtime.h"

#define D(y, m, d) meso_date_from_ymd (y, m, d)

static void
test_earliest_expiry_first (void **state)
{
    fefo_lot_t lots[] = {
        { D (2027, 6, 1), 1, 1000, false },
        { D (2027, 1, 1), 2, 1000, false },
        { D (2027, 3, 1), 3, 1000, false },
    };
    fefo_pick_t picks[3];
    int n = fefo_pick (lots, 3, D (2026, 12, 1), 500, picks, NULL);
    assert_int_equal (n, 1);
    assert_int_equal (picks[0].lot, 1);
    assert_int_equal (picks[0].amount, 500);
}

static void
test_order_holds_across_several_lots (void **state)
{
    fefo_lot_t lots[] = {
        { D (2027, 6, 1), 1, 100, false },
        { D (2027, 1, 1), 2, 100, false },
        { D (2027, 3, 1), 3, 100, false },
        { D (2027, 1, 1), 1, 100, false },   /* same expiry, received earlier */
    };
    fefo_pick_t picks[4];
    int64_t usable = 0;
    int n = fefo_pick (lots, 4, D (2026, 12, 1), 350, picks, &usable);
    assert_int_equal (usable, 400);
    assert_int_equal (n, 4);
    assert_int_equal (picks[0].lot, 3);
    assert_int_equal (picks[1].lot, 1);
    assert_int_equal (picks[2].lot, 2);
    assert_int_equal (picks[3].lot, 0);
    assert_int_equal (picks[3].amount, 50);
}

static void
test_split_over_two_lots (void **state)
{
    fefo_lot_t lots[] = {
        { D (2027, 2, 1), 1, 700, false },
        { D (2027, 1, 1), 2, 300, false },
    };
    fefo_pick_t picks[2];
    int n = fefo_pick (lots, 2, D (2026, 12, 1), 800, picks, NULL);
    assert_int_equal (n, 2);
    assert_int_equal (picks[0].lot, 1);
    assert_int_equal (picks[0].amount, 300);
    assert_int_equal (picks[1].lot, 0);
    assert_int_equal (picks[1].amount, 500);
    assert_int_equal (picks[0].amount + picks[1].amount, 800);
}

static void
test_lot_expiring_before_session_never_picked (void **state)
{
    fefo_lot_t lots[] = {
        { D (2026, 11, 30), 1, 10000, false },  /* expires the day before */
        { D (2026, 12, 1), 2, 200, false },     /* last day is the session day: usable */
    };
    fefo_pick_t picks[2];
    int64_t usable = 0;
    assert_int_equal (fefo_pick (lots, 2, D (2026, 12, 1), 300, picks, &usable), -1);
    assert_int_equal (usable, 200);
    int n = fefo_pick (lots, 2, D (2026, 12, 1), 200, picks, NULL);
    assert_int_equal (n, 1);
    assert_int_equal (picks[0].lot, 1);
    assert_false (fefo_usable (&lots[0], D (2026, 12, 1)));
    assert_true (fefo_usable (&lots[0], D (2026, 11, 30)));
}

static void
test_recalled_and_empty_lots_skipped (void **state)
{
    fefo_lot_t lots[] = {
        { D (2027, 1, 1), 1, 500, true },
        { D (2027, 1, 2), 2, 0, false },
        { D (2027, 1, 3), 3, -5, false },
        { D (2027, 1, 4), 4, 500, false },
    };
    fefo_pick_t picks[4];
    int n = fefo_pick (lots, 4, D (2026, 12, 1), 500, picks, NULL);
    assert_int_equal (n, 1);
    assert_int_equal (picks[0].lot, 3);
    assert_int_equal (fefo_usable_total (lots, 4, D (2026, 12, 1)), 500);
}

static void
test_all_or_nothing_and_bad_amounts (void **state)
{
    fefo_lot_t lots[] = { { D (2027, 1, 1), 1, 100, false } };
    fefo_pick_t picks[1] = { { 99, 99 } };
    assert_int_equal (fefo_pick (lots, 1, D (2026, 12, 1), 101, picks, NULL), -1);
    assert_int_equal (picks[0].lot, 99);        /* untouched */
    assert_int_equal (fefo_pick (lots, 1, D (2026, 12, 1), 0, picks, NULL), -2);
    assert_int_equal (fefo_pick (lots, 1, D (2026, 12, 1), -5, picks, NULL), -2);
    assert_int_equal (fefo_pick (NULL, 0, D (2026, 12, 1), 1, picks, NULL), -1);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_earliest_expiry_first),
        cmocka_unit_test (test_order_holds_across_several_lots),
        cmocka_unit_test (test_split_over_two_lots),
        cmocka_unit_test (test_lot_expiring_before_session_never_picked),
        cmocka_unit_test (test_recalled_and_empty_lots_skipped),
        cmocka_unit_test (test_all_or_nothing_and_bad_amounts),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
