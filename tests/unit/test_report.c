/* test_report.c -- the arithmetic every report shares (meso/report.h):
 * half-to-even division at ties and off them, rates with nothing to
 * divide by, ISO weeks at the turns of the year, and the ranges of days
 * a report refuses. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdint.h>
#include <string.h>

#include "meso/mtime.h"
#include "meso/report.h"

static int32_t
s_day (const char *text)
{
    int32_t d;
    assert_int_equal (meso_date_parse (text, &d), 0);
    return d;
}

static void
test_half_even (void **state)
{
    (void) state;
    assert_int_equal (meso_report_div_half_even (5, 2), 2);     /* 2.5 -> 2 */
    assert_int_equal (meso_report_div_half_even (7, 2), 4);     /* 3.5 -> 4 */
    assert_int_equal (meso_report_div_half_even (-5, 2), -2);
    assert_int_equal (meso_report_div_half_even (-7, 2), -4);
    assert_int_equal (meso_report_div_half_even (2501, 1000), 3);
    assert_int_equal (meso_report_div_half_even (2499, 1000), 2);
    assert_int_equal (meso_report_div_half_even (2500, 1000), 2);
    assert_int_equal (meso_report_div_half_even (3500, 1000), 4);
    assert_int_equal (meso_report_div_half_even (-2501, 1000), -3);
    assert_int_equal (meso_report_div_half_even (0, 7), 0);
    assert_int_equal (meso_report_div_half_even (14, 7), 2);
}

static void
test_rate (void **state)
{
    (void) state;
    assert_int_equal (meso_report_rate_bp (0, 0), -1);          /* no data, not 0% */
    assert_int_equal (meso_report_rate_bp (3, 0), -1);
    assert_int_equal (meso_report_rate_bp (0, 5), 0);
    assert_int_equal (meso_report_rate_bp (1, 3), 3333);
    assert_int_equal (meso_report_rate_bp (2, 3), 6667);
    assert_int_equal (meso_report_rate_bp (1, 8), 1250);
    assert_int_equal (meso_report_rate_bp (1, 80000), 0);       /* 0.125 bp -> 0 */
    assert_int_equal (meso_report_rate_bp (3, 80000), 0);       /* 0.375 bp -> 0 */
    assert_int_equal (meso_report_rate_bp (5, 40000), 1);       /* 1.25 bp -> 1 */
    assert_int_equal (meso_report_rate_bp (3, 20000), 2);       /* 1.5 bp -> 2 (even) */
    assert_int_equal (meso_report_rate_bp (5, 20000), 2);       /* 2.5 bp -> 2 (even) */
    assert_int_equal (meso_report_rate_bp (600, 480), 12500);   /* overbooked: 125% */
    char t[16];
    assert_string_equal (meso_report_rate_text (1250, t, sizeof t), "12.50%");
    assert_string_equal (meso_report_rate_text (7, t, sizeof t), "0.07%");
    assert_string_equal (meso_report_rate_text (-1, t, sizeof t), "-");
}

static void
test_iso_week (void **state)
{
    (void) state;
    int y, w;
    char t[16];
    meso_report_iso_week (s_day ("2027-01-01"), &y, &w);       /* a Friday */
    assert_int_equal (y, 2026);
    assert_int_equal (w, 53);
    meso_report_iso_week (s_day ("2024-12-30"), &y, &w);       /* a Monday */
    assert_int_equal (y, 2025);
    assert_int_equal (w, 1);
    meso_report_iso_week (s_day ("2027-01-04"), &y, &w);
    assert_int_equal (y, 2027);
    assert_int_equal (w, 1);
    meso_report_iso_week (s_day ("2026-12-31"), &y, &w);
    assert_int_equal (y, 2026);
    assert_int_equal (w, 53);
    meso_report_week_text (s_day ("2027-02-03"), t, sizeof t);
    assert_string_equal (t, "2027-W05");
    /* Every day of a week has the week's Monday, Sunday included. */
    assert_int_equal (meso_report_week_monday (s_day ("2027-02-07")), s_day ("2027-02-01"));
    assert_int_equal (meso_report_week_monday (s_day ("2027-02-01")), s_day ("2027-02-01"));
    assert_int_equal (meso_report_week_monday (s_day ("1970-01-01")), s_day ("1969-12-29"));
    /* Week numbers agree with the Monday's over ten years. */
    for (int32_t d = s_day ("2020-01-01"); d < s_day ("2030-01-01"); d++) {
        int y1, w1, y2, w2;
        meso_report_iso_week (d, &y1, &w1);
        meso_report_iso_week (meso_report_week_monday (d), &y2, &w2);
        assert_int_equal (y1, y2);
        assert_int_equal (w1, w2);
        assert_true (w1 >= 1 && w1 <= 53);
    }
}

static void
test_range (void **state)
{
    (void) state;
    int32_t a = s_day ("2027-01-01");
    assert_int_equal (meso_report_range (a, a, 731, INT32_MAX), MESO_RANGE_OK);
    assert_int_equal (meso_report_range (a, a - 1, 731, INT32_MAX), MESO_RANGE_REVERSED);
    assert_int_equal (meso_report_range (a, a + 730, 731, INT32_MAX), MESO_RANGE_OK);
    assert_int_equal (meso_report_range (a, a + 731, 731, INT32_MAX), MESO_RANGE_TOO_LONG);
    assert_int_equal (meso_report_range (a, a + 3, 731, a + 2), MESO_RANGE_FUTURE);
    assert_int_equal (meso_report_range (a, a + 2, 731, a + 2), MESO_RANGE_OK);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_half_even),
        cmocka_unit_test (test_rate),
        cmocka_unit_test (test_iso_week),
        cmocka_unit_test (test_range),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
