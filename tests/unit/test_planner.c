/* test_planner.c -- the pure planning rules: course lengths per grade,
 * spacing that never falls under 7 days and widens at the end, calendar
 * months for maintenance, slots of a day, the non-responder rule, late
 * cancellation and the parsers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdint.h>

#include "scheduling/planner.h"
#include "meso/mtime.h"

static void
test_course_sessions (void **state)
{
    assert_int_equal (planner_course_sessions (1, false, 0), 1);
    assert_int_equal (planner_course_sessions (2, true, 0), 4);
    assert_int_equal (planner_course_sessions (2, false, 0), 10);
    assert_int_equal (planner_course_sessions (3, false, 0), 20);
    assert_int_equal (planner_course_sessions (2, false, 12), 12);
    assert_int_equal (planner_course_sessions (0, false, 0), -1);
    assert_int_equal (planner_course_sessions (4, false, 0), -1);
    assert_int_equal (planner_course_sessions (2, false, 41), -1);
}

static void
test_gaps_widen_at_the_end (void **state)
{
    planner_settings_t s = { 7, 28, 0 };
    int g[64];
    assert_int_equal (planner_gaps (10, &s, g), 0);
    int want[10] = { 0, 7, 7, 7, 7, 7, 7, 14, 21, 28 };
    for (int i = 0; i < 10; i++)
        assert_int_equal (g[i], want[i]);
    /* short courses: at most half the gaps widen */
    assert_int_equal (planner_gaps (4, &s, g), 0);
    assert_int_equal (g[1], 7);
    assert_int_equal (g[2], 7);
    assert_int_equal (g[3], 14);
    assert_int_equal (planner_gaps (2, &s, g), 0);
    assert_int_equal (g[1], 7);
    /* the cap, and a clinic spacing of 10 days is never undercut */
    planner_settings_t t = { 10, 14, 0 };
    assert_int_equal (planner_gaps (10, &t, g), 0);
    for (int i = 1; i < 10; i++) {
        assert_true (g[i] >= 10);
        assert_true (g[i] <= 14);
    }
    assert_int_equal (g[9], 14);
    planner_settings_t bad = { 6, 28, 0 };
    assert_int_equal (planner_gaps (10, &bad, g), -1);
    assert_int_equal (planner_gaps (0, &s, g), -1);
}

static void
test_add_months_clamps (void **state)
{
    int32_t jan31 = meso_date_from_ymd (2027, 1, 31);
    int y, m, d;
    meso_date_to_ymd (planner_add_months (jan31, 1), &y, &m, &d);
    assert_true (y == 2027 && m == 2 && d == 28);
    meso_date_to_ymd (planner_add_months (meso_date_from_ymd (2028, 1, 31), 1), &y, &m, &d);
    assert_true (y == 2028 && m == 2 && d == 29);
    meso_date_to_ymd (planner_add_months (meso_date_from_ymd (2026, 12, 15), 1), &y, &m, &d);
    assert_true (y == 2027 && m == 1 && d == 15);
}

static void
test_slots_and_preference (void **state)
{
    int s[96];
    int n = planner_slot_starts (9 * 60, 18 * 60, 60, s, 96);
    assert_int_equal (n, 9);
    assert_int_equal (s[0], 540);
    assert_int_equal (s[8], 17 * 60);       /* 17:00-18:00 is the last */
    assert_int_equal (planner_slot_starts (9 * 60, 9 * 60 + 59, 60, s, 96), 0);
    n = planner_slot_starts (9 * 60, 13 * 60, 60, s, 96);
    planner_order_by_preference (s, n, 11 * 60 + 30);
    assert_int_equal (s[0], 11 * 60);       /* tie: earlier first */
    assert_int_equal (s[1], 12 * 60);
    assert_int_equal (s[3], 9 * 60);
}

static void
test_spacing_non_responder_late (void **state)
{
    assert_true (planner_spacing_ok (100, 107, 114, 7));
    assert_false (planner_spacing_ok (100, 106, 114, 7));
    assert_false (planner_spacing_ok (100, 108, 114, 7));
    assert_true (planner_spacing_ok (INT32_MIN, 5, INT32_MAX, 7));
    int none[6] = { 0, 0, 0, 0, 0, 0 };
    assert_false (planner_non_responder (none, 4));
    assert_true (planner_non_responder (none, 5));
    int some[5] = { 0, 0, 1, 0, 0 };
    assert_false (planner_non_responder (some, 5));
    assert_true (planner_cancel_late (23, 24));
    assert_false (planner_cancel_late (24, 24));
    assert_true (planner_cancel_late (-2, 24));
}

static void
test_parsers (void **state)
{
    int m;
    int32_t d;
    assert_int_equal (planner_parse_hhmm ("10:30", false, &m), 0);
    assert_int_equal (m, 630);
    assert_int_equal (planner_parse_hhmm ("24:00", false, &m), -1);
    assert_int_equal (planner_parse_hhmm ("24:00", true, &m), 0);
    assert_int_equal (m, 1440);
    assert_int_equal (planner_parse_hhmm ("9:30", false, &m), -1);
    assert_int_equal (planner_parse_hhmm ("10:60", false, &m), -1);
    assert_int_equal (planner_parse_local ("2026-03-29T10:00", &d, &m), 0);
    assert_int_equal (d, meso_date_from_ymd (2026, 3, 29));
    assert_int_equal (m, 600);
    assert_int_equal (planner_parse_local ("2026-02-30T10:00", &d, &m), -1);
    assert_int_equal (planner_parse_local ("2026-03-29 10:00", &d, &m), -1);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_course_sessions),
        cmocka_unit_test (test_gaps_widen_at_the_end),
        cmocka_unit_test (test_add_months_clamps),
        cmocka_unit_test (test_slots_and_preference),
        cmocka_unit_test (test_spacing_non_responder_late),
        cmocka_unit_test (test_parsers),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
