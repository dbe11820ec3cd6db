/* test_mtime.c -- civil dates, ages and RFC 3339 instants. Ages decide
 * who may be treated (an 18th birthday, a Feb 29 birth), so the edges are
 * checked day by day. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>
#include <stdint.h>

#include "meso/mtime.h"

static int32_t
s_date (const char *text)
{
    int32_t d = 0;
    assert_int_equal (meso_date_parse (text, &d), 0);
    return d;
}

static int64_t
s_instant (const char *text)
{
    int64_t us = 0;
    assert_int_equal (meso_time_parse_rfc3339 (text, &us), 0);
    return us;
}

static void
test_known_days (void **state)
{
    assert_int_equal (meso_date_from_ymd (1970, 1, 1), 0);
    assert_int_equal (meso_date_from_ymd (1970, 1, 2), 1);
    assert_int_equal (meso_date_from_ymd (1969, 12, 31), -1);
    assert_int_equal (meso_date_from_ymd (2000, 3, 1), 11017);
    assert_int_equal (meso_date_from_ymd (2026, 11, 21), 20778);
    assert_int_equal (meso_date_from_ymd (1900, 1, 1), -25567);
    assert_int_equal (meso_date_from_ymd (1, 1, 1), -719162);
    assert_int_equal (meso_date_from_ymd (9999, 12, 31), 2932896);
}

static void
test_round_trip_every_day (void **state)
{
    /* Every day from 1600 to 2400 goes out and back unchanged, and
     * consecutive day numbers are consecutive dates. */
    int32_t first = meso_date_from_ymd (1600, 1, 1);
    int32_t last = meso_date_from_ymd (2400, 12, 31);
    int py = 1599, pm = 12, pd = 31;
    for (int32_t d = first; d <= last; d++) {
        int y, m, dd;
        meso_date_to_ymd (d, &y, &m, &dd);
        assert_true (meso_date_valid (y, m, dd));
        assert_int_equal (meso_date_from_ymd (y, m, dd), d);
        bool next_day = y == py && m == pm && dd == pd + 1;
        bool next_month = y == py && m == pm + 1 && dd == 1;
        bool next_year = y == py + 1 && m == 1 && dd == 1 && pm == 12 && pd == 31;
        assert_true (next_day || next_month || next_year);
        py = y, pm = m, pd = dd;
    }
}

static void
test_validity (void **state)
{
    assert_true (meso_date_valid (2024, 2, 29));
    assert_false (meso_date_valid (2023, 2, 29));
    assert_true (meso_date_valid (2000, 2, 29));    /* divisible by 400 */
    assert_false (meso_date_valid (1900, 2, 29));   /* divisible by 100 */
    assert_false (meso_date_valid (2026, 4, 31));
    assert_true (meso_date_valid (2026, 12, 31));
    assert_false (meso_date_valid (2026, 13, 1));
    assert_false (meso_date_valid (2026, 0, 1));
    assert_false (meso_date_valid (2026, 1, 0));
    assert_false (meso_date_valid (0, 1, 1));
    assert_false (meso_date_valid (10000, 1, 1));
    assert_int_equal (meso_date_from_ymd (2023, 2, 29), -1);
}

static void
test_parse_format (void **state)
{
    char buf[32];
    int32_t d = s_date ("2024-02-29");
    assert_int_equal (meso_date_format (d, buf, sizeof buf), 10);
    assert_string_equal (buf, "2024-02-29");
    meso_date_format (s_date ("0001-01-01"), buf, sizeof buf);
    assert_string_equal (buf, "0001-01-01");

    const char *bad[] = { "2023-02-29", "1900-02-29", "2026-1-01", "2026-01-1", "2026/01/01",
                          "2026-01-01T", "2026-01-01 ", " 2026-01-01", "20260101", "",
                          "2026-13-01", "0000-01-01", "2026-0a-01" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int32_t out = 99;
        assert_int_equal (meso_date_parse (bad[i], &out), -1);
        assert_int_equal (out, 99);
    }
}

static void
test_weekday (void **state)
{
    assert_int_equal (meso_date_weekday (0), 3);                       /* Thu 1970-01-01 */
    assert_int_equal (meso_date_weekday (s_date ("2026-11-21")), 5);   /* Saturday */
    assert_int_equal (meso_date_weekday (s_date ("2024-02-26")), 0);   /* Monday */
    assert_int_equal (meso_date_weekday (s_date ("1969-12-28")), 6);   /* Sunday */
    assert_int_equal (meso_date_weekday (s_date ("1900-01-01")), 0);   /* Monday */
}

static void
test_age (void **state)
{
    int32_t birth = s_date ("2008-11-21");
    assert_int_equal (meso_date_age_years (birth, s_date ("2026-11-20")), 17);
    assert_int_equal (meso_date_age_years (birth, s_date ("2026-11-21")), 18);
    assert_int_equal (meso_date_age_years (birth, s_date ("2026-11-22")), 18);
    assert_int_equal (meso_date_age_years (birth, birth), 0);
    assert_int_equal (meso_date_age_years (birth, s_date ("2009-11-20")), 0);
    assert_int_equal (meso_date_age_years (birth, s_date ("2009-11-21")), 1);

    /* Feb 29: a year older on Mar 1 in common years, on Feb 29 in leap years. */
    int32_t leap = s_date ("2008-02-29");
    assert_int_equal (meso_date_age_years (leap, s_date ("2026-02-28")), 17);
    assert_int_equal (meso_date_age_years (leap, s_date ("2026-03-01")), 18);
    assert_int_equal (meso_date_age_years (leap, s_date ("2028-02-28")), 19);
    assert_int_equal (meso_date_age_years (leap, s_date ("2028-02-29")), 20);

    /* Across the 1900 (common) and 2000 (leap) centuries. */
    assert_int_equal (meso_date_age_years (s_date ("1896-02-29"), s_date ("1900-02-28")), 3);
    assert_int_equal (meso_date_age_years (s_date ("1896-02-29"), s_date ("1900-03-01")), 4);
    assert_int_equal (meso_date_age_years (s_date ("1900-03-01"), s_date ("2000-02-29")), 99);
    assert_int_equal (meso_date_age_years (s_date ("1900-03-01"), s_date ("2000-03-01")), 100);
    assert_int_equal (meso_date_age_years (s_date ("1999-12-31"), s_date ("2000-01-01")), 0);
}

static void
test_rfc3339 (void **state)
{
    assert_true (s_instant ("1970-01-01T00:00:00Z") == 0);
    assert_true (s_instant ("2026-11-21T12:00:00Z") == INT64_C (1795262400000000));
    assert_true (s_instant ("2026-11-21T12:00:00.123Z") == INT64_C (1795262400123000));
    assert_true (s_instant ("2026-11-21T12:00:00.123456789Z") == INT64_C (1795262400123456));
    assert_true (s_instant ("2026-11-21t12:00:00.5z") == INT64_C (1795262400500000));
    /* Offsets: local = UTC + offset. */
    assert_true (s_instant ("2026-11-21T13:00:00+01:00") == s_instant ("2026-11-21T12:00:00Z"));
    assert_true (s_instant ("2026-11-21T07:00:00-05:00") == s_instant ("2026-11-21T12:00:00Z"));
    assert_true (s_instant ("2026-11-22T05:30:00+05:30") == s_instant ("2026-11-22T00:00:00Z"));
    assert_true (s_instant ("2026-11-21T23:00:00-01:00") == s_instant ("2026-11-22T00:00:00Z"));
    assert_true (s_instant ("2026-11-21T12:00:00+00:00") == s_instant ("2026-11-21T12:00:00Z"));
    assert_true (s_instant ("1969-12-31T23:59:59.999Z") == -1000);
    assert_true (s_instant ("2024-02-29T00:00:00Z") == INT64_C (1709164800000000));

    const char *bad[] = { "2026-11-21 12:00:00Z", "2026-11-21T12:00:00", "2026-11-21T24:00:00Z",
                          "2026-11-21T12:60:00Z", "2026-11-21T12:00:60Z", "2026-02-30T00:00:00Z",
                          "2026-11-21T12:00:00.Z", "2026-11-21T12:00:00+0100",
                          "2026-11-21T12:00:00+24:00", "2026-11-21T12:00:00Zjunk",
                          "2026-11-21T12:00Z", "2026-11-21", "", "2026-11-21T12:00:00+01:00x" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t out = 99;
        assert_int_equal (meso_time_parse_rfc3339 (bad[i], &out), -1);
        assert_true (out == 99);
    }
}

static void
test_format_utc (void **state)
{
    char buf[64];
    assert_int_equal (meso_time_format_utc (INT64_C (1795262400123456), buf, sizeof buf), 24);
    assert_string_equal (buf, "2026-11-21T12:00:00.123Z");
    meso_time_format_utc (0, buf, sizeof buf);
    assert_string_equal (buf, "1970-01-01T00:00:00.000Z");
    meso_time_format_utc (-1000, buf, sizeof buf);
    assert_string_equal (buf, "1969-12-31T23:59:59.999Z");
    meso_time_format_utc (-1, buf, sizeof buf);
    assert_string_equal (buf, "1969-12-31T23:59:59.999Z");   /* floor, not truncation */

    /* Formatting then parsing gives back the instant, to the millisecond. */
    int64_t now = meso_time_now_us ();
    meso_time_format_utc (now, buf, sizeof buf);
    int64_t back;
    assert_int_equal (meso_time_parse_rfc3339 (buf, &back), 0);
    assert_true (back == now - now % 1000);
}

static void
test_clocks (void **state)
{
    int64_t a = meso_time_mono_us ();
    int64_t b = meso_time_mono_us ();
    assert_true (b >= a);
    /* The wall clock is after 2020 on any machine that runs this. */
    assert_true (meso_time_now_us () > s_instant ("2020-01-01T00:00:00Z"));
    assert_true (meso_time_mono_ms () >= a / 1000);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_known_days),
        cmocka_unit_test (test_round_trip_every_day),
        cmocka_unit_test (test_validity),
        cmocka_unit_test (test_parse_format),
        cmocka_unit_test (test_weekday),
        cmocka_unit_test (test_age),
        cmocka_unit_test (test_rfc3339),
        cmocka_unit_test (test_format_utc),
        cmocka_unit_test (test_clocks),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
