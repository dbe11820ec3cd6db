/* test_when.c -- the one rule of when a session may be (when.c): the
 * past, the horizon of 5 years after the clinic's local today, and a
 * local time inside a daylight-saving gap; every method that gives a
 * session a time asks it, so its boundaries are tested here once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "scheduling/when.h"
#include "meso/mtime.h"

static int32_t
s_day (const char *text)
{
    int32_t d;
    assert_int_equal (meso_date_parse (text, &d), 0);
    return d;
}

static when_facts_t
s_facts (const char *day, const char *today)
{
    when_facts_t f;
    memset (&f, 0, sizeof f);
    f.day = s_day (day);
    f.today = s_day (today);
    return f;
}

static void
test_horizon (void **state)
{
    (void) state;
    assert_int_equal (when_horizon (s_day ("2026-11-29")), s_day ("2031-11-29"));
    /* Feb 29 plus five years is Feb 28 */
    assert_int_equal (when_horizon (s_day ("2028-02-29")), s_day ("2033-02-28"));
}

static void
test_dates (void **state)
{
    (void) state;
    when_facts_t f = s_facts ("2026-11-29", "2026-11-29");
    assert_int_equal (when_verdict (&f), WHEN_OK);            /* today */
    f = s_facts ("2026-11-28", "2026-11-29");
    assert_int_equal (when_verdict (&f), WHEN_PAST);
    f = s_facts ("0001-01-01", "2026-11-29");
    assert_int_equal (when_verdict (&f), WHEN_PAST);
    f = s_facts ("2031-11-29", "2026-11-29");
    assert_int_equal (when_verdict (&f), WHEN_OK);            /* the horizon's last day */
    f = s_facts ("2031-11-30", "2026-11-29");
    assert_int_equal (when_verdict (&f), WHEN_BEYOND);
    f = s_facts ("9999-12-31", "2026-11-29");
    assert_int_equal (when_verdict (&f), WHEN_BEYOND);
    assert_string_equal (when_code (WHEN_PAST), "in_the_past");
    assert_string_equal (when_code (WHEN_BEYOND), "beyond_horizon");
    assert_string_equal (when_code (WHEN_GAP), "dst_gap");
    assert_string_equal (when_code (WHEN_OK), "");
}

static void
test_instants (void **state)
{
    (void) state;
    /* today, a local time that exists: judged on its instant */
    when_facts_t f = s_facts ("2026-11-29", "2026-11-29");
    f.timed = true;
    f.exists = true;
    f.now_us = 1000;
    f.start_us = 999;
    assert_int_equal (when_verdict (&f), WHEN_PAST);
    f.start_us = 1000;
    assert_int_equal (when_verdict (&f), WHEN_OK);
    /* a time that does not exist is the gap, whatever instant it got */
    f.exists = false;
    assert_int_equal (when_verdict (&f), WHEN_GAP);
    f.start_us = 0;
    assert_int_equal (when_verdict (&f), WHEN_GAP);
    /* the date rules come first */
    f = s_facts ("2040-03-25", "2026-11-29");
    f.timed = true;
    assert_int_equal (when_verdict (&f), WHEN_BEYOND);
}

static void
test_why (void **state)
{
    (void) state;
    char why[200], hint[200];
    when_facts_t f = s_facts ("2027-03-28", "2026-11-29");
    f.timed = true;
    snprintf (f.gap_from, sizeof f.gap_from, "02:00");
    snprintf (f.gap_to, sizeof f.gap_to, "03:00");
    when_why (WHEN_GAP, &f, "local_start", "2027-03-28T02:30", "Europe/Paris", why, sizeof why, hint, sizeof hint);
    assert_string_equal (why, "2027-03-28T02:30 does not exist in Europe/Paris: clocks go from 02:00 to 03:00");
    assert_string_equal (hint, "pick a time before 02:00 or from 03:00");
    f = s_facts ("9999-12-31", "2026-11-29");
    when_why (WHEN_BEYOND, &f, "spec.first_date", "9999-12-31", "Europe/Paris", why, sizeof why, hint,
              sizeof hint);
    assert_string_equal (why, "spec.first_date 9999-12-31 is beyond the horizon of 5 years (2031-11-29)");
    assert_string_equal (hint, "book from 2026-11-29 to 2031-11-29 (clinic local dates)");
    f = s_facts ("2026-11-01", "2026-11-29");
    when_why (WHEN_PAST, &f, "local_start", "2026-11-01T10:00", "Europe/Paris", why, sizeof why, hint, sizeof hint);
    assert_string_equal (why, "local_start 2026-11-01T10:00 is in the past");
    when_why (WHEN_OK, &f, "local_start", "x", "Europe/Paris", why, sizeof why, hint, sizeof hint);
    assert_string_equal (why, "");
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_horizon),
        cmocka_unit_test (test_dates),
        cmocka_unit_test (test_instants),
        cmocka_unit_test (test_why),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
