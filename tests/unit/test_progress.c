/* test_progress.c -- when an event consumer counts as stuck (progress.c),
 * and the per-peer reply budget of the bus (meso_bus_peer_hwm): pure
 * arithmetic that decides what Health says and what a daemon may hold. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <string.h>

#include "meso/bus.h"
#include "meso/progress.h"

#define F MESO_PROGRESS_STUCK_FAILURES
#define STALL MESO_PROGRESS_STALL_MS

static void
test_a_moving_consumer_is_not_stuck (void **state)
{
    (void) state;
    meso_progress_t p;
    meso_progress_init (&p, 10, 0);
    assert_int_equal (meso_progress_stuck (&p, 10, 1000000, F, STALL), 0);   /* caught up */
    meso_progress_moved (&p, 20, 1000);
    assert_int_equal (meso_progress_stuck (&p, 50, 1000 + STALL - 1, F, STALL), 0);
}

static void
test_the_same_event_failing_again_and_again_is_stuck_there (void **state)
{
    (void) state;
    meso_progress_t p;
    meso_progress_init (&p, 4, 0);
    for (int i = 0; i < F - 1; i++)
        meso_progress_failed (&p, 5, "deadlock");
    assert_int_equal (meso_progress_stuck (&p, 9, 10, F, STALL), 0);   /* transient so far */
    meso_progress_failed (&p, 5, "check constraint \"x\" violated");
    assert_int_equal (meso_progress_stuck (&p, 9, 10, F, STALL), 5);
    char note[256];
    meso_progress_note (&p, "billing", "session", 5, 9, 10, note, sizeof note);
    assert_non_null (strstr (note, "consumer billing stuck at session #5"));
    assert_non_null (strstr (note, "failed 3 times"));
    assert_non_null (strstr (note, "check constraint"));
    /* Getting past it clears the state; a failure of another event starts
     * a new count. */
    meso_progress_moved (&p, 5, 20);
    assert_int_equal (meso_progress_stuck (&p, 9, 20, F, STALL), 0);
    meso_progress_failed (&p, 6, "x");
    assert_int_equal (meso_progress_stuck (&p, 9, 20, F, STALL), 0);
}

static void
test_no_progress_behind_the_head_is_stuck_after_the_stall_time (void **state)
{
    (void) state;
    meso_progress_t p;
    meso_progress_init (&p, 7, 1000);
    meso_progress_moved (&p, 7, 5000);          /* not a move: the clock keeps running */
    assert_int_equal (meso_progress_stuck (&p, 8, 1000 + STALL - 1, F, STALL), 0);
    assert_int_equal (meso_progress_stuck (&p, 8, 1000 + STALL, F, STALL), 8);
    char note[256];
    meso_progress_note (&p, "inventory", "session", 8, 8, 1000 + STALL, note, sizeof note);
    assert_non_null (strstr (note, "stuck at session #8: no progress for 30 s"));
}

static void
test_the_peer_budget_bounds_bytes_not_messages (void **state)
{
    (void) state;
    /* Whatever the budget, HWM x largest reply stays within it. */
    long long budgets[] = { MESO_BUS_MAX_FRAME, 8LL << 20, 64LL << 20, 3LL << 30 };
    for (size_t i = 0; i < sizeof budgets / sizeof budgets[0]; i++) {
        int hwm = meso_bus_peer_hwm (budgets[i]);
        assert_true (hwm >= 1);
        assert_true ((long long) hwm * MESO_BUS_MAX_FRAME <= budgets[i]);
    }
    assert_int_equal (meso_bus_peer_hwm (64LL << 20), 64);
    assert_int_equal (meso_bus_peer_hwm (0), 1);        /* never zero: replies still flow */
    assert_int_equal (meso_bus_peer_hwm (1LL << 40), 10000);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_a_moving_consumer_is_not_stuck),
        cmocka_unit_test (test_the_same_event_failing_again_and_again_is_stuck_there),
        cmocka_unit_test (test_no_progress_behind_the_head_is_stuck_after_the_stall_time),
        cmocka_unit_test (test_the_peer_budget_bounds_bytes_not_messages),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
