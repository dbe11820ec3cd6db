/* test_stock.c -- the stock decisions of Reserve, Redate and Consume
 * (services/inventory/stock.c): every shortage is named, holds are
 * first-expiring-first within one ingredient of a mixed set, a redate
 * moves only the lines whose lot expires before the new date, and a
 * consumption draws the named lot, then the reservation's lots, then the
 * clinic's other usable lots, never a recalled one; a recall holds the
 * sessions it reaches again, earliest first, all or nothing; a hold check
 * names every problem. stock.c is pure: the test links
 * meso_inventory_logic. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <string.h>

#include "inventory/stock.h"

#include "meso/mtime.h"

#define D(y, m, d) meso_date_from_ymd (y, m, d)

typedef struct {
    const char *ingredient;
    int32_t expiry;
    int64_t on_hand, reserved;
    bool recalled;
} lot_row_t;

/* A set as lotset.c loads it: received in row order. */
static stock_set_t *
s_set (const lot_row_t *rows, size_t n)
{
    stock_set_t *s = stock_set_new (n);
    assert_non_null (s);
    for (size_t i = 0; i < n; i++) {
        s->ingredient[i] = rows[i].ingredient;
        s->on_hand[i] = rows[i].on_hand;
        s->reserved[i] = rows[i].reserved;
        s->fl[i].expiry = rows[i].expiry;
        s->fl[i].received_us = (int64_t) i;
        s->fl[i].recalled = rows[i].recalled;
        s->fl[i].available = rows[i].on_hand - rows[i].reserved;
    }
    return s;
}

static void
test_shortages_name_every_short_ingredient (void **state)
{
    (void) state;
    lot_row_t rows[] = {
        { "ha", D (2027, 1, 1), 1000, 200, false },     /* 800 usable */
        { "ha", D (2026, 11, 1), 5000, 0, false },      /* expires before the session */
        { "botox", D (2027, 1, 1), 100, 0, true },      /* recalled */
        { "botox", D (2027, 2, 1), 50, 0, false },
        { "lido", D (2027, 1, 1), 300, 0, false },
    };
    stock_set_t *s = s_set (rows, 5);
    stock_need_t needs[] = { { "botox", 60, -1 }, { "ha", 800, -1 }, { "lido", 301, -1 },
                             { "none", 1, -1 } };
    assert_int_equal (stock_shortages (s, needs, 4, D (2026, 12, 1)), 3);
    assert_int_equal (needs[0].usable, 50);
    assert_int_equal (needs[1].usable, 800);      /* exactly enough is enough */
    assert_int_equal (needs[2].usable, 300);
    assert_int_equal (needs[3].usable, 0);
    stock_set_destroy (&s);
    assert_null (s);
}

static void
test_hold_picks_fefo_within_one_ingredient (void **state)
{
    (void) state;
    lot_row_t rows[] = {
        { "ha", D (2027, 6, 1), 1000, 0, false },
        { "lido", D (2026, 12, 5), 1000, 0, false },    /* other ingredient, earliest */
        { "ha", D (2027, 1, 1), 300, 100, false },      /* 200 available */
        { "ha", D (2027, 3, 1), 1000, 0, false },
    };
    stock_set_t *s = s_set (rows, 4);
    fefo_pick_t picks[4];
    int64_t usable = 0;
    int n = stock_hold (s, "ha", D (2026, 12, 1), 700, picks, &usable);
    assert_int_equal (usable, 2200);
    assert_int_equal (n, 2);
    assert_int_equal (picks[0].lot, 2);              /* indices into the set */
    assert_int_equal (picks[0].amount, 200);
    assert_int_equal (picks[1].lot, 3);
    assert_int_equal (picks[1].amount, 500);
    assert_int_equal (s->d_reserved[2], 200);
    assert_int_equal (s->reserved[2], 300);
    assert_int_equal (s->fl[2].available, 0);
    assert_int_equal (s->d_reserved[3], 500);
    assert_int_equal (s->fl[3].available, 500);
    assert_int_equal (s->d_reserved[0], 0);
    assert_int_equal (s->d_reserved[1], 0);
    assert_int_equal (s->d_on_hand[3], 0);
    stock_set_destroy (&s);
}

static void
test_hold_all_or_nothing (void **state)
{
    (void) state;
    lot_row_t rows[] = { { "ha", D (2027, 1, 1), 100, 0, false } };
    stock_set_t *s = s_set (rows, 1);
    fefo_pick_t picks[1];
    int64_t usable = 0;
    assert_int_equal (stock_hold (s, "ha", D (2026, 12, 1), 101, picks, &usable), -1);
    assert_int_equal (usable, 100);
    assert_int_equal (s->d_reserved[0], 0);
    assert_int_equal (s->fl[0].available, 100);
    assert_int_equal (stock_hold (s, "ha", D (2026, 12, 1), 0, picks, NULL), -2);
    stock_give_back (s, 0, 40);
    assert_int_equal (s->d_reserved[0], -40);
    assert_int_equal (s->reserved[0], -40);
    assert_int_equal (s->fl[0].available, 140);
    stock_set_destroy (&s);
}

static void
test_redate_moves_only_lines_in_lots_expiring_before (void **state)
{
    (void) state;
    lot_row_t rows[] = {
        { "ha", D (2027, 1, 10), 500, 300, false },     /* 0: held 300, expires before */
        { "ha", D (2027, 3, 1), 1000, 100, false },     /* 1: held 100, stays */
        { "ha", D (2027, 2, 1), 200, 0, false },        /* 2: free, usable */
        { "lido", D (2027, 6, 1), 100, 50, false },     /* 3: held 50, stays */
    };
    stock_set_t *s = s_set (rows, 4);
    stock_line_t lines[] = {
        { "ha", 0, 300 }, { "ha", 1, 100 }, { "ha", -1, 7 }, { "lido", 3, 50 },
    };
    stock_moved_t released[4], held[4];
    stock_short_t shorts[4];
    stock_redate_t plan = { released, 0, held, 0, shorts, 0, 0 };
    assert_int_equal (stock_redate (s, lines, 4, D (2027, 1, 20), &plan), 0);
    assert_int_equal (plan.n_shorts, 0);
    assert_int_equal (plan.n_released, 1);
    assert_int_equal (released[0].line, 0);
    assert_int_equal (released[0].lot, 0);
    assert_int_equal (released[0].amount, 300);
    /* 300 again: lot 2 expires first (200), then lot 1 (100). */
    assert_int_equal (plan.n_held, 2);
    assert_int_equal (held[0].line, 0);
    assert_int_equal (held[0].lot, 2);
    assert_int_equal (held[0].amount, 200);
    assert_int_equal (held[1].lot, 1);
    assert_int_equal (held[1].amount, 100);
    assert_int_equal (s->d_reserved[0], -300);
    assert_int_equal (s->d_reserved[1], 100);
    assert_int_equal (s->d_reserved[2], 200);
    assert_int_equal (s->d_reserved[3], 0);
    stock_set_destroy (&s);
}

static void
test_redate_lists_each_short_ingredient (void **state)
{
    (void) state;
    lot_row_t rows[] = {
        { "botox", D (2027, 1, 10), 100, 100, false },  /* 0: held, expires before */
        { "botox", D (2027, 5, 1), 60, 0, false },      /* 1: too little */
        { "ha", D (2027, 1, 10), 100, 100, false },     /* 2: held, expires before */
        { "ha", D (2027, 5, 1), 100, 0, true },         /* 3: recalled */
        { "lido", D (2027, 1, 10), 10, 10, false },     /* 4: held, expires before */
        { "lido", D (2027, 5, 1), 10, 0, false },       /* 5: enough */
    };
    stock_set_t *s = s_set (rows, 6);
    stock_line_t lines[] = { { "botox", 0, 100 }, { "ha", 2, 100 }, { "lido", 4, 10 } };
    stock_moved_t released[3], held[6];
    stock_short_t shorts[3];
    stock_redate_t plan = { released, 0, held, 0, shorts, 0, 0 };
    assert_int_equal (stock_redate (s, lines, 3, D (2027, 2, 1), &plan), 0);
    assert_int_equal (plan.n_released, 3);
    assert_int_equal (plan.n_shorts, 2);
    assert_int_equal (shorts[0].line, 0);
    assert_int_equal (shorts[0].moved, 100);
    assert_int_equal (shorts[0].usable, 60);
    assert_int_equal (shorts[1].line, 1);
    assert_int_equal (shorts[1].usable, 0);
    assert_int_equal (plan.n_held, 1);
    assert_int_equal (held[0].line, 2);
    assert_int_equal (held[0].lot, 5);
    stock_set_destroy (&s);
}

static void
test_redate_to_an_earlier_date_moves_nothing (void **state)
{
    (void) state;
    lot_row_t rows[] = { { "ha", D (2027, 1, 10), 500, 300, false } };
    stock_set_t *s = s_set (rows, 1);
    stock_line_t lines[] = { { "ha", 0, 300 } };
    stock_moved_t released[1], held[1];
    stock_short_t shorts[1];
    stock_redate_t plan = { released, 0, held, 0, shorts, 0, 0 };
    assert_int_equal (stock_redate (s, lines, 1, D (2027, 1, 10), &plan), 0);
    assert_int_equal (plan.n_released + plan.n_held + plan.n_shorts, 0);
    assert_int_equal (s->d_reserved[0], 0);
    stock_set_destroy (&s);
}

static void
test_draw_reservation_lots_first_never_recalled (void **state)
{
    (void) state;
    lot_row_t rows[] = {
        { "ha", D (2027, 1, 1), 100, 0, false },        /* 0: other, earliest */
        { "ha", D (2027, 6, 1), 100, 0, true },         /* 1: mine, recalled since: never */
        { "ha", D (2027, 2, 1), 100, 0, true },         /* 2: other, recalled: never */
        { "ha", D (2026, 11, 1), 100, 0, false },       /* 3: other, expired: never */
        { "ha", D (2027, 3, 1), 100, 40, false },       /* 4: other, 60 free */
        { "ha", D (2027, 4, 1), 100, 0, false },        /* 5: mine */
    };
    stock_set_t *s = s_set (rows, 6);
    s->mine[1] = s->mine[5] = true;
    assert_int_equal (stock_draw (s, "ha", D (2026, 12, 1), 250), 0);
    assert_int_equal (s->d_on_hand[5], -100);
    assert_int_equal (s->d_on_hand[0], -100);
    assert_int_equal (s->d_on_hand[4], -50);
    assert_int_equal (s->on_hand[4], 50);
    assert_int_equal (s->d_on_hand[1], 0);
    assert_int_equal (s->d_on_hand[2], 0);
    assert_int_equal (s->d_on_hand[3], 0);
    /* What is left: 10 in lot 4; the rest cannot be drawn. */
    assert_int_equal (stock_draw (s, "ha", D (2026, 12, 1), 25), 15);
    assert_int_equal (s->on_hand[4], 40);
    assert_int_equal (stock_draw (s, "lido", D (2026, 12, 1), 5), 5);
    stock_set_destroy (&s);
}

/* A hold in a lot recalled since is consumed from the other usable lots;
 * an actual amount naming a recalled lot is drawn elsewhere too. */
static void
test_consume_never_from_a_recalled_lot (void **state)
{
    (void) state;
    lot_row_t rows[] = {
        { "ha", D (2027, 1, 1), 500, 300, true },       /* 0: held, recalled since */
        { "ha", D (2027, 2, 1), 400, 0, false },        /* 1: usable */
    };
    stock_set_t *s = s_set (rows, 2);
    stock_line_t held[] = { { "ha", 0, 300 } };
    assert_int_equal (stock_consume (s, held, 1, NULL, 0, D (2026, 12, 1), NULL), 0);
    assert_int_equal (s->d_on_hand[0], 0);
    assert_int_equal (s->d_reserved[0], -300);
    assert_int_equal (s->d_on_hand[1], -300);
    stock_set_destroy (&s);

    s = s_set (rows, 2);
    stock_line_t actual[] = { { "ha", 0, 450 } };
    int64_t left[1];
    /* 400 usable in lot 1: 50 cannot be drawn, nothing from lot 0. */
    assert_int_equal (stock_consume (s, held, 1, actual, 1, D (2026, 12, 1), left), 50);
    assert_int_equal (left[0], 50);
    assert_int_equal (s->d_on_hand[0], 0);
    assert_int_equal (s->d_on_hand[1], -400);
    stock_set_destroy (&s);
}

/* A recall gives back every line in the recalled lot, then holds each
 * session again, earliest first, FEFO among the lots usable on its date,
 * all or nothing. */
static void
test_recover_earliest_session_first_all_or_nothing (void **state)
{
    (void) state;
    lot_row_t rows[] = {
        { "ha", D (2027, 6, 1), 400, 350, true },       /* 0: the recalled lot */
        { "ha", D (2027, 1, 1), 120, 0, false },        /* 1 */
        { "ha", D (2026, 12, 15), 100, 0, false },      /* 2: expires first */
        { "lido", D (2027, 1, 1), 900, 0, false },      /* 3: another ingredient */
    };
    stock_set_t *s = s_set (rows, 4);
    stock_gap_t gaps[] = {
        { "ha", 0, D (2026, 12, 10), 100, false, 0, 0, 0 },
        { "ha", 0, D (2026, 12, 12), 150, false, 0, 0, 0 },
        { "ha", 0, D (2026, 12, 20), 100, false, 0, 0, 0 },
    };
    fefo_pick_t picks[3 * 4];
    assert_int_equal (stock_recover (s, gaps, 3, picks), 2);
    /* Everything left the recalled lot. */
    assert_int_equal (s->reserved[0], 0);
    assert_int_equal (s->d_reserved[0], -350);
    /* First session: lot 2, which expires first. */
    assert_true (gaps[0].covered);
    assert_int_equal (gaps[0].n_picks, 1);
    assert_int_equal (picks[gaps[0].first_pick].lot, 2);
    assert_int_equal (picks[gaps[0].first_pick].amount, 100);
    /* Second: 120 usable (lot 1), 150 needed: nothing held, at risk. */
    assert_false (gaps[1].covered);
    assert_int_equal (gaps[1].usable, 120);
    assert_int_equal (gaps[1].n_picks, 0);
    /* Third: lot 2 expired by then; lot 1 covers it. */
    assert_true (gaps[2].covered);
    assert_int_equal (picks[gaps[2].first_pick].lot, 1);
    assert_int_equal (s->d_reserved[1], 100);
    assert_int_equal (s->d_reserved[2], 100);
    assert_int_equal (s->d_reserved[3], 0);
    /* A non-positive amount is a caller's error. */
    stock_gap_t bad[] = { { "ha", 0, D (2026, 12, 10), 0, false, 0, 0, 0 } };
    assert_int_equal (stock_recover (s, bad, 1, picks), -1);
    stock_set_destroy (&s);
}

/* A hold is good only with every line in a usable lot and every need in
 * full; a recall's shortage is at risk rather than short. */
static void
test_check_hold_names_every_problem (void **state)
{
    (void) state;
    int32_t day = D (2026, 12, 10);
    stock_need_t needs[] = { { "caffeine", 100, 0 }, { "lcarnitine", 50, 0 } };
    stock_held_t good[] = {
        { "caffeine", D (2027, 1, 1), false, 60 },
        { "caffeine", day, false, 40 },                 /* last day = session day: fine */
        { "lcarnitine", D (2027, 1, 1), false, 50 },
    };
    stock_problem_t out[5];
    assert_int_equal (stock_check_hold (needs, 2, NULL, good, 3, day, out), 0);

    stock_held_t badl[] = {
        { "caffeine", D (2027, 1, 1), false, 60 },
        { "caffeine", D (2027, 1, 1), true, 40 },       /* recalled */
        { "lcarnitine", day - 1, false, 50 },           /* expires the day before */
    };
    assert_int_equal (stock_check_hold (needs, 2, NULL, badl, 3, day, out), 4);
    assert_int_equal (out[0].kind, STOCK_HOLD_RECALLED);
    assert_int_equal (out[0].line, 1);
    assert_int_equal (out[1].kind, STOCK_HOLD_EXPIRED);
    assert_int_equal (out[1].line, 2);
    assert_int_equal (out[2].kind, STOCK_HOLD_SHORT);
    assert_int_equal (out[2].need, 0);
    assert_int_equal (out[2].held, 60);
    assert_int_equal (out[2].needed, 100);
    assert_int_equal (out[3].kind, STOCK_HOLD_SHORT);
    assert_int_equal (out[3].need, 1);
    assert_int_equal (out[3].held, 0);

    /* After a recall took caffeine's lot and nothing covered it. */
    bool at_risk[] = { true, false };
    stock_held_t after[] = { { "lcarnitine", D (2027, 1, 1), false, 50 } };
    assert_int_equal (stock_check_hold (needs, 2, at_risk, after, 1, day, out), 1);
    assert_int_equal (out[0].kind, STOCK_HOLD_AT_RISK);
    assert_int_equal (out[0].need, 0);
    assert_int_equal (out[0].held, 0);
    /* No lines at all: every need short. */
    assert_int_equal (stock_check_hold (needs, 2, NULL, NULL, 0, day, out), 2);
}

static void
test_consume_as_held (void **state)
{
    (void) state;
    lot_row_t rows[] = {
        { "ha", D (2027, 1, 1), 500, 300, false },
        { "ha", D (2026, 12, 20), 100, 0, false },
    };
    stock_set_t *s = s_set (rows, 2);
    stock_line_t held[] = { { "ha", 0, 300 }, { "ha", -1, 99 } };
    int64_t left[1] = { -1 };
    assert_int_equal (stock_consume (s, held, 2, NULL, 0, D (2026, 12, 1), left), 0);
    assert_int_equal (s->d_reserved[0], -300);
    assert_int_equal (s->d_on_hand[0], -300);
    assert_true (s->mine[0]);
    assert_int_equal (s->d_on_hand[1], 0);
    assert_int_equal (left[0], -1);
    stock_set_destroy (&s);
}

static void
test_consume_actual_named_lot_then_draw (void **state)
{
    (void) state;
    lot_row_t rows[] = {
        { "ha", D (2027, 1, 1), 500, 300, false },      /* 0: the reservation's */
        { "ha", D (2026, 12, 20), 100, 0, false },      /* 1: named by the session */
        { "lido", D (2027, 1, 1), 50, 0, false },       /* 2 */
    };
    stock_set_t *s = s_set (rows, 3);
    stock_line_t held[] = { { "ha", 0, 300 } };
    stock_line_t actual[] = {
        { "ha", 1, 350 },           /* 100 from lot 1, then 250 from lot 0 (mine) */
        { "lido", 0, 80 },          /* names a lot of another ingredient: ignored */
    };
    int64_t left[2] = { -1, -1 };
    assert_int_equal (stock_consume (s, held, 1, actual, 2, D (2026, 12, 1), left), 30);
    assert_int_equal (left[0], 0);
    assert_int_equal (left[1], 30);
    assert_int_equal (s->d_on_hand[1], -100);
    assert_int_equal (s->d_on_hand[0], -250);
    assert_int_equal (s->d_reserved[0], -300);
    assert_int_equal (s->d_on_hand[2], -50);
    stock_set_destroy (&s);
}

static void
test_consume_no_usable_actual_gives_back_only (void **state)
{
    (void) state;
    lot_row_t rows[] = { { "ha", D (2027, 1, 1), 500, 300, false } };
    stock_set_t *s = s_set (rows, 1);
    stock_line_t held[] = { { "ha", 0, 300 } };
    stock_line_t none[1];
    int64_t left[1];
    /* Every actual amount was skipped (an event's bad lines): the hold
     * ends, nothing is drawn. */
    assert_int_equal (stock_consume (s, held, 1, none, 0, D (2026, 12, 1), left), 0);
    assert_int_equal (s->d_reserved[0], -300);
    assert_int_equal (s->d_on_hand[0], 0);
    stock_set_destroy (&s);
}

/* DiscardExpired takes lots that expired before as_of: up to the
 * clinic's today it takes only expired stock; a day later it would take
 * stock still good today. */
static void
test_discard_as_of_up_to_today (void **state)
{
    (void) state;
    int32_t today = meso_date_from_ymd (2026, 11, 29);
    assert_true (stock_discard_as_of_ok (today, today));
    assert_true (stock_discard_as_of_ok (today - 1, today));
    assert_true (stock_discard_as_of_ok (meso_date_from_ymd (1970, 1, 1), today));
    assert_false (stock_discard_as_of_ok (today + 1, today));
    assert_false (stock_discard_as_of_ok (meso_date_from_ymd (9999, 12, 31), today));
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_shortages_name_every_short_ingredient),
        cmocka_unit_test (test_hold_picks_fefo_within_one_ingredient),
        cmocka_unit_test (test_hold_all_or_nothing),
        cmocka_unit_test (test_redate_moves_only_lines_in_lots_expiring_before),
        cmocka_unit_test (test_redate_lists_each_short_ingredient),
        cmocka_unit_test (test_redate_to_an_earlier_date_moves_nothing),
        cmocka_unit_test (test_draw_reservation_lots_first_never_recalled),
        cmocka_unit_test (test_consume_never_from_a_recalled_lot),
        cmocka_unit_test (test_recover_earliest_session_first_all_or_nothing),
        cmocka_unit_test (test_check_hold_names_every_problem),
        cmocka_unit_test (test_consume_as_held),
        cmocka_unit_test (test_consume_actual_named_lot_then_draw),
        cmocka_unit_test (test_consume_no_usable_actual_gives_back_only),
        cmocka_unit_test (test_discard_as_of_up_to_today),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
