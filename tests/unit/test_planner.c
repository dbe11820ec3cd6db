/* test_planner.c -- the pure planning rules: course lengths per grade,
 * spacing that never falls under 7 days and widens at the end, calendar
 * months for maintenance, slots of a day, the non-responder rule, late
 * cancellation and the parsers; choosing the nearest free slot, whether a
 * window of a day decides it, and the verdict on a slot asked for by
 * hand. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdint.h>
#include <string.h>

#include "scheduling/planner.h"
#include "meso/mtime.h"

static void
test_course_sessions (void **state)
{
    assert_int_equal (planner_course_sessions (1, false, 0), 1);
    assert_int_equal (planner_course_sessions (2, true, 0), 4);
    assert_int_equal (planner_course_sessions (2, false, 0), 10);
    assert_int_equal (planner_course_sessions (3, false, 0), 21);
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


/* ---- the slot search of one day (planner_free_slots) ---- */

#define H(x) ((int64_t) (x) * 3600000000)
#define MIN(x) ((int64_t) (x) * 60000000)

static void
s_week (planner_week_t *w, int from, int to)
{
    for (int d = 0; d < 8; d++) {
        w->from[d] = d >= 1 ? from : -1;
        w->to[d] = d >= 1 ? to : -1;
    }
}

static void
test_isodow (void **state)
{
    (void) state;
    assert_int_equal (planner_isodow (0), 4);                     /* 1970-01-01, a Thursday */
    int32_t d;
    assert_int_equal (meso_date_parse ("2024-03-31", &d), 0);
    assert_int_equal (planner_isodow (d), 7);
    assert_int_equal (planner_isodow (d + 1), 1);
    assert_int_equal (planner_isodow (-1), 3);                    /* 1969-12-31, a Wednesday */
}

static void
test_free_slots_who_takes_the_slot (void **state)
{
    (void) state;
    int32_t day;
    assert_int_equal (meso_date_parse ("2030-01-07", &day), 0);  /* a Monday */
    int64_t mid = (int64_t) day * 86400000000 - H (1);            /* midnight at UTC+1 */
    planner_week_t clinic;
    s_week (&clinic, 9 * 60, 13 * 60);                            /* 09:00-13:00: 4 hour slots */
    planner_practitioner_t pr[2];
    memset (pr, 0, sizeof pr);
    s_week (&pr[0].hours, 9 * 60, 13 * 60);
    s_week (&pr[1].hours, 10 * 60, 12 * 60);                      /* only 10:00 and 11:00 */
    /* p0 busy 10:00-10:30, room 0 busy 12:00-13:00 (room 1 free), the
     * patient busy 11:30-12:30 (11:00 and 12:00 are out for her). */
    planner_busy_t busy[] = {
        { mid + H (10), mid + H (10) + MIN (30), 0, -1, false },
        { mid + H (12), mid + H (13), -1, 0, false },
        { mid + H (11) + MIN (30), mid + H (12) + MIN (30), -1, -1, true },
        { mid + H (9) - MIN (5), mid + H (9), 0, 0, false },     /* touching [08:55,09:00): no overlap */
    };
    planner_day_t d;
    memset (&d, 0, sizeof d);
    d.day = day;
    d.midnight_us = mid;
    d.busy = busy;
    d.n_busy = 4;
    planner_free_t out[PLANNER_MAX_SLOTS];
    int n = planner_free_slots (&d, &clinic, 60, pr, 2, -1, 2, out, PLANNER_MAX_SLOTS);
    assert_int_equal (n, 2);
    assert_int_equal (out[0].minute, 9 * 60);
    assert_int_equal (out[0].practitioner, 0);
    assert_int_equal (out[0].room, 0);
    assert_true (out[0].start_us == mid + H (9) && out[0].end_us == mid + H (10));
    assert_int_equal (out[1].minute, 10 * 60);                   /* p0 busy: p1 takes it */
    assert_int_equal (out[1].practitioner, 1);
    /* prefer p1: it takes 10:00, and 09:00 still goes to p0 (p1 is not working). */
    n = planner_free_slots (&d, &clinic, 60, pr, 2, 1, 2, out, PLANNER_MAX_SLOTS);
    assert_int_equal (n, 2);
    assert_int_equal (out[0].practitioner, 0);
    assert_int_equal (out[1].practitioner, 1);
    /* Without the patient's appointment, 11:00 (p0) and 12:00 (p0, room 1). */
    d.n_busy = 2;
    n = planner_free_slots (&d, &clinic, 60, pr, 2, -1, 2, out, PLANNER_MAX_SLOTS);
    assert_int_equal (n, 4);
    assert_int_equal (out[3].minute, 12 * 60);
    assert_int_equal (out[3].room, 1);
    /* One room only: 12:00 is gone. */
    n = planner_free_slots (&d, &clinic, 60, pr, 2, -1, 1, out, PLANNER_MAX_SLOTS);
    assert_int_equal (n, 3);
    /* p0 off that day: only p1's 10:00 and 11:00. */
    int32_t off[] = { day - 3, day, day + 9 };
    pr[0].days_off = off;
    pr[0].n_days_off = 3;
    n = planner_free_slots (&d, &clinic, 60, pr, 2, -1, 2, out, PLANNER_MAX_SLOTS);
    assert_int_equal (n, 2);
    assert_int_equal (out[0].minute, 10 * 60);
    assert_int_equal (out[0].practitioner, 1);
    assert_int_equal (out[1].minute, 11 * 60);
    /* Closed on Sundays. */
    clinic.from[7] = clinic.to[7] = -1;
    d.day = day + 6;
    assert_int_equal (planner_free_slots (&d, &clinic, 60, pr, 2, -1, 2, out, PLANNER_MAX_SLOTS), 0);
}

static void
test_free_slots_clock_change (void **state)
{
    (void) state;
    /* A day with a clock change: the instants are the ones PostgreSQL
     * gave per slot start, never midnight + minutes; a start it gave no
     * instant for is not offered. */
    int32_t day;
    assert_int_equal (meso_date_parse ("2030-03-31", &day), 0);
    planner_week_t clinic;
    s_week (&clinic, 8 * 60, 11 * 60);
    planner_practitioner_t pr;
    memset (&pr, 0, sizeof pr);
    s_week (&pr.hours, 0, 1440);
    planner_day_t d;
    memset (&d, 0, sizeof d);
    d.day = day;
    d.midnight_us = 1000;
    d.exact = true;
    d.n_exact = 2;
    d.exact_min[0] = 8 * 60;
    d.exact_us[0] = 5000000;
    d.exact_min[1] = 10 * 60;
    d.exact_us[1] = 7000000;
    planner_free_t out[PLANNER_MAX_SLOTS];
    int n = planner_free_slots (&d, &clinic, 60, &pr, 1, 0, 1, out, PLANNER_MAX_SLOTS);
    assert_int_equal (n, 2);
    assert_true (out[0].start_us == 5000000 && out[0].end_us == 5000000 + H (1));
    assert_int_equal (out[1].minute, 10 * 60);
    assert_true (out[1].start_us == 7000000);
    /* a slot start inside the gap of a spring-forward change is never
     * offered, even with an instant: the local time does not exist */
    d.exact_gap[0] = true;
    n = planner_free_slots (&d, &clinic, 60, &pr, 1, 0, 1, out, PLANNER_MAX_SLOTS);
    assert_int_equal (n, 1);
    assert_int_equal (out[0].minute, 10 * 60);
    int best = planner_nearest_free (out, n, 8 * 60, NULL);
    assert_int_equal (out[best].minute, 10 * 60);
}

static planner_free_t
s_free (int minute)
{
    planner_free_t f;
    memset (&f, 0, sizeof f);
    f.minute = minute;
    return f;
}

static void
test_nearest_free (void **state)
{
    (void) state;
    int dist = -1;
    assert_int_equal (planner_nearest_free (NULL, 0, 600, &dist), -1);
    /* 10:00 preferred: 09:00 and 11:00 are as near; the earlier wins. */
    planner_free_t f[] = { s_free (8 * 60), s_free (9 * 60), s_free (11 * 60), s_free (14 * 60) };
    assert_int_equal (planner_nearest_free (f, 4, 10 * 60, &dist), 1);
    assert_int_equal (dist, 60);
    /* on the preferred time exactly */
    assert_int_equal (planner_nearest_free (f, 4, 11 * 60, &dist), 2);
    assert_int_equal (dist, 0);
    /* before opening: the first; after closing: the last */
    assert_int_equal (planner_nearest_free (f, 4, 0, NULL), 0);
    assert_int_equal (planner_nearest_free (f, 4, 23 * 60, NULL), 3);
    /* out of time order, the tie still goes to the earlier slot */
    planner_free_t g[] = { s_free (11 * 60), s_free (9 * 60) };
    assert_int_equal (planner_nearest_free (g, 2, 10 * 60, NULL), 1);
}

static void
test_window_decides (void **state)
{
    (void) state;
    int32_t monday;
    assert_int_equal (meso_date_parse ("2030-01-07", &monday), 0);
    planner_week_t clinic;
    s_week (&clinic, 9 * 60, 17 * 60);                            /* 09:00..16:00 starts */
    /* Window 10:00..12:00 around 11:00, 11:00 free: nothing outside is
     * as near. */
    planner_free_t in[] = { s_free (10 * 60), s_free (11 * 60) };
    assert_true (planner_window_decides (&clinic, 60, 11 * 60, monday, 10 * 60, 12 * 60, in, 2));
    /* Only 10:00 free in the window: 12:00 is in the window (taken), but
     * nothing outside it is nearer than an hour. */
    assert_true (planner_window_decides (&clinic, 60, 11 * 60, monday, 10 * 60, 12 * 60, in, 1));
    /* Window 11:00..12:00, only 12:00 free, 11:30 preferred: 11:00 is
     * inside; 10:00 outside is farther. But 13:00 preferred with only
     * 11:00 free in 11:00..12:00: 13:00 and 14:00 outside are nearer. */
    planner_free_t twelve = s_free (12 * 60), eleven = s_free (11 * 60);
    assert_true (planner_window_decides (&clinic, 60, 11 * 60 + 30, monday, 11 * 60, 12 * 60, &twelve, 1));
    assert_false (planner_window_decides (&clinic, 60, 13 * 60, monday, 11 * 60, 12 * 60, &eleven, 1));
    /* A tie with a slot outside that is earlier: not decided. */
    planner_free_t thirteen = s_free (13 * 60);
    assert_false (planner_window_decides (&clinic, 60, 12 * 60, monday, 12 * 60, 13 * 60, &thirteen, 1));
    /* Nothing free in the window, slots outside: not decided. */
    assert_false (planner_window_decides (&clinic, 60, 11 * 60, monday, 10 * 60, 12 * 60, NULL, 0));
    /* The window is the whole day: decided even with nothing free. */
    assert_true (planner_window_decides (&clinic, 60, 11 * 60, monday, 0, 1440, NULL, 0));
    /* Closed that day: decided. */
    clinic.from[1] = clinic.to[1] = -1;
    assert_true (planner_window_decides (&clinic, 60, 11 * 60, monday, 10 * 60, 12 * 60, NULL, 0));
}

static void
test_slot_verdict (void **state)
{
    (void) state;
    planner_slot_facts_t ok = { true, true, true, false, true };
    assert_int_equal (planner_slot_verdict (&ok), PLANNER_SLOT_OK);
    planner_slot_facts_t f = ok;
    f.in_hours = false;
    f.room_active = false;                                          /* the hours come first */
    assert_int_equal (planner_slot_verdict (&f), PLANNER_SLOT_OUTSIDE_HOURS);
    f = ok;
    f.practitioner_known = false;
    f.practitioner_works = false;                                   /* unknown before not working */
    assert_int_equal (planner_slot_verdict (&f), PLANNER_SLOT_NO_PRACTITIONER);
    f = ok;
    f.practitioner_works = false;
    f.day_off = true;
    assert_int_equal (planner_slot_verdict (&f), PLANNER_SLOT_NOT_WORKING);
    f = ok;
    f.day_off = true;
    f.room_active = false;
    assert_int_equal (planner_slot_verdict (&f), PLANNER_SLOT_DAY_OFF);
    f = ok;
    f.room_active = false;
    assert_int_equal (planner_slot_verdict (&f), PLANNER_SLOT_NO_ROOM);

    assert_true (planner_slot_about_time (PLANNER_SLOT_OUTSIDE_HOURS));
    assert_true (planner_slot_about_time (PLANNER_SLOT_NOT_WORKING));
    assert_true (planner_slot_about_time (PLANNER_SLOT_DAY_OFF));
    assert_false (planner_slot_about_time (PLANNER_SLOT_NO_PRACTITIONER));
    assert_false (planner_slot_about_time (PLANNER_SLOT_NO_ROOM));
    assert_false (planner_slot_about_time (PLANNER_SLOT_OK));

    /* The texts clients read. */
    char why[256];
    planner_slot_why (PLANNER_SLOT_OUTSIDE_HOURS, "2030-01-07T08:00", "paris", "anna", "r1", why, sizeof why);
    assert_string_equal (why, "2030-01-07T08:00 is outside the opening hours of clinic paris");
    planner_slot_why (PLANNER_SLOT_NO_PRACTITIONER, "2030-01-07T08:00", "paris", "anna", "r1", why, sizeof why);
    assert_string_equal (why, "no practitioner anna");
    planner_slot_why (PLANNER_SLOT_NOT_WORKING, "2030-01-07T08:00", "paris", "anna", "r1", why, sizeof why);
    assert_string_equal (why, "practitioner anna does not work in clinic paris at 2030-01-07T08:00");
    planner_slot_why (PLANNER_SLOT_DAY_OFF, "2030-01-07T08:00", "paris", "anna", "r1", why, sizeof why);
    assert_string_equal (why, "practitioner anna is off on that day");
    planner_slot_why (PLANNER_SLOT_NO_ROOM, "2030-01-07T08:00", "paris", "anna", "r1", why, sizeof why);
    assert_string_equal (why, "no active room r1 in clinic paris");
    planner_slot_why (PLANNER_SLOT_OK, "2030-01-07T08:00", "paris", "anna", "r1", why, sizeof why);
    assert_string_equal (why, "");
    /* cut to the buffer, still a string */
    char small[8];
    planner_slot_why (PLANNER_SLOT_NO_PRACTITIONER, "x", "c", "anna", "r", small, sizeof small);
    assert_string_equal (small, "no prac");
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
        cmocka_unit_test (test_isodow),
        cmocka_unit_test (test_free_slots_who_takes_the_slot),
        cmocka_unit_test (test_free_slots_clock_change),
        cmocka_unit_test (test_nearest_free),
        cmocka_unit_test (test_window_decides),
        cmocka_unit_test (test_slot_verdict),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
