/* mtime.c -- clocks, RFC 3339 instants and civil dates (see mtime.h).
 *
 * Dates are converted with Howard Hinnant's days_from_civil /
 * civil_from_days algorithms ("chrono-Compatible Low-Level Date
 * Algorithms"): exact for the proleptic Gregorian calendar, no tables, no
 * libc time zone state. Nothing here reads or sets TZ: gmtime/mktime and
 * friends depend on process-global state that a daemon must not touch, and
 * local-time arithmetic belongs to PostgreSQL (AT TIME ZONE).
 *
 * Valid dates are years 1..9999 (what "YYYY-MM-DD" can spell); conversions
 * of day numbers work for any int32 value. Arithmetic inside is int64 so
 * that no intermediate step can overflow. */
#include "meso/mtime.h"

#include <assert.h>
#include <stdio.h>
#include <time.h>

#define US_PER_SEC INT64_C(1000000)
#define US_PER_DAY (INT64_C(86400) * US_PER_SEC)

int64_t
meso_time_now_us (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    return (int64_t) ts.tv_sec * US_PER_SEC + ts.tv_nsec / 1000;
}

int64_t
meso_time_mono_us (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * US_PER_SEC + ts.tv_nsec / 1000;
}

int64_t
meso_time_mono_ms (void)
{
    return meso_time_mono_us () / 1000;
}

/* ------------------------------------------------------------ civil dates */

static int64_t
s_days_from_civil (int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;                                    /* [0, 399] */
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;   /* [0, 365] */
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;            /* [0, 146096] */
    return era * 146097 + doe - 719468;
}

static void
s_civil_from_days (int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;                                       /* [0, 146096] */
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;  /* [0, 399] */
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);                /* [0, 365] */
    int64_t mp = (5 * doy + 2) / 153;                                     /* [0, 11] */
    *d = (int) (doy - (153 * mp + 2) / 5 + 1);
    *m = (int) (mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static bool
s_leap (int64_t y)
{
    return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
}

static int
s_month_days (int64_t y, int m)
{
    static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    return m == 2 && s_leap (y) ? 29 : days[m - 1];
}

bool
meso_date_valid (int year, int month, int day)
{
    return year >= 1 && year <= 9999 && month >= 1 && month <= 12
        && day >= 1 && day <= s_month_days (year, month);
}

int32_t
meso_date_from_ymd (int year, int month, int day)
{
    if (!meso_date_valid (year, month, day))
        return -1;
    return (int32_t) s_days_from_civil (year, month, day);
}

void
meso_date_to_ymd (int32_t days, int *year, int *month, int *day)
{
    assert (year && month && day);
    int64_t y;
    s_civil_from_days (days, &y, month, day);
    *year = (int) y;
}

/* Reads exactly n decimal digits. */
static int
s_digits (const char *p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        v = v * 10 + (p[i] - '0');
    }
    *out = v;
    return 0;
}

/* "YYYY-MM-DD" at p, not looking past it. */
static int
s_parse_ymd (const char *p, int *y, int *m, int *d)
{
    if (s_digits (p, 4, y) || p[4] != '-' || s_digits (p + 5, 2, m) || p[7] != '-'
        || s_digits (p + 8, 2, d))
        return -1;
    return meso_date_valid (*y, *m, *d) ? 0 : -1;
}

int
meso_date_parse (const char *text, int32_t *out_days)
{
    assert (out_days);
    int y, m, d;
    if (!text || s_parse_ymd (text, &y, &m, &d) || text[10] != '\0')
        return -1;
    *out_days = (int32_t) s_days_from_civil (y, m, d);
    return 0;
}

int
meso_date_format (int32_t days, char *buf, size_t size)
{
    int64_t y;
    int m, d;
    s_civil_from_days (days, &y, &m, &d);
    return snprintf (buf, size, "%04lld-%02d-%02d", (long long) y, m, d);
}

int
meso_date_weekday (int32_t days)
{
    /* 1970-01-01 was a Thursday (3 when Monday is 0). */
    int64_t r = ((int64_t) days + 3) % 7;
    return (int) (r < 0 ? r + 7 : r);
}

int
meso_date_age_years (int32_t birth, int32_t on)
{
    int by, bm, bd, oy, om, od;
    meso_date_to_ymd (birth, &by, &bm, &bd);
    meso_date_to_ymd (on, &oy, &om, &od);
    int age = oy - by;
    /* Not yet had this year's birthday. Comparing (month, day) makes a
     * Feb 29 birthday fall on Mar 1 in common years: Feb 28 < Feb 29. */
    if (om < bm || (om == bm && od < bd))
        age--;
    return age;
}

/* ------------------------------------------------------------- instants */

int
meso_time_format_utc (int64_t us, char *buf, size_t size)
{
    /* Floor division so instants before 1970 format correctly. */
    int64_t days = us / US_PER_DAY;
    int64_t rem = us % US_PER_DAY;
    if (rem < 0) {
        rem += US_PER_DAY;
        days--;
    }
    int64_t y;
    int m, d;
    s_civil_from_days (days, &y, &m, &d);
    int64_t secs = rem / US_PER_SEC;
    int ms = (int) (rem % US_PER_SEC / 1000);
    return snprintf (buf, size, "%04lld-%02d-%02dT%02d:%02d:%02d.%03dZ", (long long) y, m, d,
                     (int) (secs / 3600), (int) (secs / 60 % 60), (int) (secs % 60), ms);
}

int
meso_time_parse_rfc3339 (const char *text, int64_t *out_us)
{
    assert (out_us);
    if (!text)
        return -1;
    int y, mo, d, h, mi, s;
    const char *p = text;
    if (s_parse_ymd (p, &y, &mo, &d))
        return -1;
    p += 10;
    if (*p != 'T' && *p != 't')
        return -1;
    p++;
    if (s_digits (p, 2, &h) || p[2] != ':' || s_digits (p + 3, 2, &mi) || p[5] != ':'
        || s_digits (p + 6, 2, &s))
        return -1;
    /* A leap second (:60) is refused: the epoch scale has no room for it
     * and nothing in meso produces one. */
    if (h > 23 || mi > 59 || s > 59)
        return -1;
    p += 8;
    int64_t frac_us = 0;
    if (*p == '.') {
        p++;
        int n = 0;
        int64_t scale = 100000;
        while (*p >= '0' && *p <= '9') {
            /* Digits beyond microseconds are accepted and truncated. */
            if (n < 6) {
                frac_us += (*p - '0') * scale;
                scale /= 10;
            }
            n++;
            p++;
        }
        if (n == 0)
            return -1;
    }
    int64_t offset_s = 0;
    if (*p == 'Z' || *p == 'z')
        p++;
    else if (*p == '+' || *p == '-') {
        int oh, om;
        if (s_digits (p + 1, 2, &oh) || p[3] != ':' || s_digits (p + 4, 2, &om) || oh > 23
            || om > 59)
            return -1;
        offset_s = (oh * 3600 + om * 60) * (*p == '-' ? -1 : 1);
        p += 6;
    }
    else
        return -1;
    if (*p != '\0')
        return -1;
    int64_t secs = s_days_from_civil (y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
    /* Local time = UTC + offset, so UTC = local - offset. */
    *out_us = (secs - offset_s) * US_PER_SEC + frac_us;
    return 0;
}
