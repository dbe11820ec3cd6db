/* test_course_rules.c -- the course rules of DOMAIN.md ("Safety rules that
 * hold across services") as pure functions of scheduling's planner.c, and
 * the agreement between the planner's session counts and screening's
 * recommended course (screening/rules.c) for every grade and mild flag. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "planner.h"
#include "screening/rules.h"
#include "meso/mtime.h"

static int32_t
s_day (const char *text)
{
    int32_t d = 0;
    assert_int_equal (meso_date_parse (text, &d), 0);
    return d;
}

/* For every grade and mild flag, the planner's count lies within the
 * range screening recommends; grade 3 is more than 20. */
static void
test_planner_agrees_with_screening (void **state)
{
    for (int grade = 1; grade <= 3; grade++)
        for (int mild = 0; mild <= 1; mild++) {
            rules_area_t area = { .area = "thighs", .grade = grade, .mild = mild };
            rules_course_t rec;
            rules_course (&area, 1, &rec);
            int n = planner_course_sessions (grade, mild && grade == 2, 0);
            assert_true (n >= rec.min_sessions);
            if (rec.max_sessions > 0)
                assert_true (n <= rec.max_sessions);
        }
    assert_int_equal (planner_course_sessions (3, false, 0), 21);
    assert_true (planner_course_sessions (3, false, 0) > 20);
}

static void
test_maintenance_explicit_zero (void **state)
{
    assert_int_equal (planner_maintenance_sessions (2, true, 0, 3), 0);
    assert_int_equal (planner_maintenance_sessions (2, false, 0, 3), 3);
    assert_int_equal (planner_maintenance_sessions (2, true, 5, 3), 5);
    assert_int_equal (planner_maintenance_sessions (1, false, 0, 3), 0);
    assert_int_equal (planner_maintenance_sessions (1, true, 2, 3), 2);
}

static void
test_washout_first_day (void **state)
{
    int32_t dose = s_day ("2027-01-01");
    int32_t earliest = dose + 7;
    assert_int_equal (planner_first_day (dose + 6, earliest), earliest);   /* day 6: moved */
    assert_int_equal (planner_first_day (dose + 7, earliest), dose + 7);   /* day 7: kept */
    assert_int_equal (planner_first_day (dose + 9, earliest), dose + 9);
    assert_int_equal (planner_first_day (dose + 2, INT32_MIN), dose + 2);
}

static void
test_apart_from_other_sessions (void **state)
{
    int32_t taken[] = { 100, 130 };
    assert_true (planner_apart_from (93, taken, 2, 7));
    assert_false (planner_apart_from (94, taken, 2, 7));   /* 6 days before */
    assert_false (planner_apart_from (100, taken, 2, 7));
    assert_false (planner_apart_from (106, taken, 2, 7));  /* 6 days after */
    assert_true (planner_apart_from (107, taken, 2, 7));   /* 7 days after */
    assert_false (planner_apart_from (124, taken, 2, 7));
    assert_true (planner_apart_from (123, taken, 2, 7));
    assert_true (planner_apart_from (5, NULL, 0, 7));
}

static void
test_validity_and_overlap (void **state)
{
    int32_t days[] = { 10, 17, 24, 31 };
    assert_int_equal (planner_beyond_validity (days, 4, 31), -1);
    assert_int_equal (planner_beyond_validity (days, 4, 30), 3);
    assert_int_equal (planner_beyond_validity (days, 4, 9), 0);
    assert_true (planner_spans_overlap (10, 20, 20, 30));
    assert_false (planner_spans_overlap (10, 20, 21, 30));
    assert_true (planner_spans_overlap (10, 40, 20, 30));
    assert_false (planner_spans_overlap (31, 40, 10, 30));
}

static void
test_non_responder_counts_recorded_only (void **state)
{
    int four_and_gaps[7] = { 0, -1, 0, -1, 0, 0, -1 };
    assert_false (planner_non_responder (four_and_gaps, 7));   /* 4 recorded */
    int five[6] = { 0, -1, 0, 0, 0, 0 };
    assert_true (planner_non_responder (five, 6));
    int better[6] = { 0, -1, 0, 2, 0, 0 };
    assert_false (planner_non_responder (better, 6));
    int none[5] = { -1, -1, -1, -1, -1 };
    assert_false (planner_non_responder (none, 5));
}

static void
test_retreatment (void **state)
{
    int32_t last = s_day ("2026-03-10");
    assert_int_equal (planner_retreatment_due (last), s_day ("2027-03-10"));
    assert_int_equal (planner_retreatment_due (s_day ("2028-02-29")), s_day ("2029-02-28"));
    assert_false (planner_retreatment_announce (last, s_day ("2027-03-09"), 0));
    assert_true (planner_retreatment_announce (last, s_day ("2027-03-10"), 0));
    assert_true (planner_retreatment_announce (last, s_day ("2027-02-08"), 30));
    assert_false (planner_retreatment_announce (last, s_day ("2027-02-07"), 30));
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_planner_agrees_with_screening),
        cmocka_unit_test (test_maintenance_explicit_zero),
        cmocka_unit_test (test_washout_first_day),
        cmocka_unit_test (test_apart_from_other_sessions),
        cmocka_unit_test (test_validity_and_overlap),
        cmocka_unit_test (test_non_responder_counts_recorded_only),
        cmocka_unit_test (test_retreatment),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
