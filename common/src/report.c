/* report.c -- rounding, rates, ISO weeks and date ranges for the reports
 * (report.h). Pure: no I/O, no clock, no allocation. */
#include "meso/report.h"

#include <stdio.h>

#include "meso/mtime.h"

int64_t
meso_report_div_half_even (int64_t num, int64_t den)
{
    /* Truncate towards zero, then look at twice the remainder against
     * the divisor: above goes away from zero, a tie to the even one. */
    int64_t q = num / den, r = num % den;
    if (r == 0)
        return q;
    int64_t twice = r < 0 ? -r : r;
    twice = twice > INT64_MAX / 2 ? INT64_MAX : twice * 2;
    int away = twice > den || (twice == den && (q % 2 != 0));
    if (!away)
        return q;
    return (num < 0) ? q - 1 : q + 1;
}

int32_t
meso_report_rate_bp (int64_t num, int64_t den)
{
    if (den <= 0 || num < 0)
        return -1;
    /* num * 10000 overflows only for counts no report reaches; keep the
     * answer right anyway by dividing first when it would. */
    int64_t bp;
    if (num <= INT64_MAX / 10000)
        bp = meso_report_div_half_even (num * 10000, den);
    else
        bp = meso_report_div_half_even (num, den / 10000 > 0 ? den / 10000 : 1);
    return bp > INT32_MAX ? INT32_MAX : (int32_t) bp;
}

char *
meso_report_rate_text (int32_t bp, char *out, size_t size)
{
    if (bp < 0)
        snprintf (out, size, "-");
    else
        snprintf (out, size, "%d.%02d%%", bp / 100, bp % 100);
    return out;
}

int32_t
meso_report_week_monday (int32_t day)
{
    return day - meso_date_weekday (day);
}

void
meso_report_iso_week (int32_t day, int *year, int *week)
{
    /* The week belongs to the year of its Thursday. */
    int32_t thursday = meso_report_week_monday (day) + 3;
    int y, m, d;
    meso_date_to_ymd (thursday, &y, &m, &d);
    int32_t jan1 = meso_date_from_ymd (y, 1, 1);
    *year = y;
    *week = (thursday - jan1) / 7 + 1;
}

int
meso_report_week_text (int32_t day, char *out, size_t size)
{
    int y, w;
    meso_report_iso_week (day, &y, &w);
    return snprintf (out, size, "%04d-W%02d", y, w);
}

meso_range_verdict_t
meso_report_range (int32_t from, int32_t to, int max_days, int32_t last)
{
    if (to < from)
        return MESO_RANGE_REVERSED;
    if ((int64_t) to - from + 1 > max_days)
        return MESO_RANGE_TOO_LONG;
    if (to > last)
        return MESO_RANGE_FUTURE;
    return MESO_RANGE_OK;
}
