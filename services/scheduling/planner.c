/* planner.c -- the pure rules of course planning (see planner.h).
 *
 * The numbers come from DOMAIN.md ("Course planning"): at least 7 days
 * between sessions (bruising lasts 7-10 days), the gap widening to two
 * weeks to a month at the end of a course, then monthly maintenance; a
 * course flagged as non-responding after the 5th session without
 * improvement. Kept free of I/O so every boundary is unit tested
 * (tests/unit/test_planner.c). */
#include "planner.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "meso/mtime.h"

int
planner_course_sessions (int grade, bool mild, unsigned requested)
{
    if (grade < 1 || grade > 3)
        return -1;
    if (requested > PLANNER_MAX_COURSE)
        return -1;
    if (requested > 0)
        return (int) requested;
    if (grade == 1)
        return 1;
    if (grade == 2)
        return mild ? 4 : 10;
    return 20;
}

int
planner_gaps (int n, const planner_settings_t *s, int *gaps)
{
    assert (s);
    assert (gaps);
    if (n < 1 || n > PLANNER_MAX_SESSIONS || s->spacing_min_days < 7 || s->taper_max_days < 14)
        return -1;
    int base = s->spacing_min_days;
    /* How many of the last gaps widen: three for a course of 4 or more
     * sessions (but never more than half the gaps), one for 3. */
    int ngaps = n - 1;
    int taper = n >= 4 ? 3 : (n == 3 ? 1 : 0);
    if (taper > ngaps / 2 && n >= 4)
        taper = ngaps / 2 > 0 ? ngaps / 2 : 1;
    gaps[0] = 0;
    for (int i = 1; i < n; i++) {
        int from_end = n - i;            /* 1 for the last gap */
        int g = base;
        if (from_end <= taper) {
            /* widening: 14, 21, 28 ... counted from the first tapered gap */
            int k = taper - from_end + 1;
            g = 7 * (k + 1);
            if (g > s->taper_max_days)
                g = s->taper_max_days;
        }
        if (g < base)
            g = base;
        gaps[i] = g;
    }
    return 0;
}

int32_t
planner_add_months (int32_t day, int months)
{
    int y, m, d;
    meso_date_to_ymd (day, &y, &m, &d);
    int total = (y * 12 + (m - 1)) + months;
    y = total / 12;
    m = total % 12 + 1;
    while (d > 28 && !meso_date_valid (y, m, d))
        d--;
    return meso_date_from_ymd (y, m, d);
}

int
planner_slot_starts (int opens, int closes, int slot_min, int *out, int max)
{
    assert (out);
    if (slot_min <= 0)
        return 0;
    int n = 0;
    for (int t = opens; t + slot_min <= closes && n < max; t += slot_min)
        out[n++] = t;
    return n;
}

static int s_preferred;

static int
s_cmp_pref (const void *a, const void *b)
{
    int x = *(const int *) a, y = *(const int *) b;
    int dx = abs (x - s_preferred), dy = abs (y - s_preferred);
    if (dx != dy)
        return dx < dy ? -1 : 1;
    return x < y ? -1 : (x > y);
}

void
planner_order_by_preference (int *minutes, int n, int preferred)
{
    /* insertion sort: n is at most a day of slots, and no global state
     * outlives the call */
    s_preferred = preferred;
    for (int i = 1; i < n; i++) {
        int v = minutes[i], j = i;
        while (j > 0 && s_cmp_pref (&minutes[j - 1], &v) > 0) {
            minutes[j] = minutes[j - 1];
            j--;
        }
        minutes[j] = v;
    }
}

bool
planner_spacing_ok (int32_t prev, int32_t day, int32_t next, int min_days)
{
    if (prev != INT32_MIN && (int64_t) day - prev < min_days)
        return false;
    if (next != INT32_MAX && (int64_t) next - day < min_days)
        return false;
    return true;
}

bool
planner_non_responder (const int *scores, int n)
{
    if (n < 5)
        return false;
    for (int i = 0; i < n; i++)
        if (scores[i] > 0)
            return false;
    return true;
}

bool
planner_cancel_late (int64_t notice_hours, int policy_hours)
{
    return notice_hours < policy_hours;
}

static int
s_digits (const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

int
planner_parse_hhmm (const char *text, bool allow_24, int *minutes)
{
    if (!text || strlen (text) != 5 || text[2] != ':')
        return -1;
    int h = s_digits (text, 2), m = s_digits (text + 3, 2);
    if (h < 0 || m < 0 || m > 59)
        return -1;
    if (h > 23 && !(allow_24 && h == 24 && m == 0))
        return -1;
    *minutes = h * 60 + m;
    return 0;
}

int
planner_parse_local (const char *text, int32_t *day, int *minutes)
{
    if (!text || strlen (text) != 16 || text[10] != 'T')
        return -1;
    char date[11];
    memcpy (date, text, 10);
    date[10] = '\0';
    if (meso_date_parse (date, day) != 0)
        return -1;
    return planner_parse_hhmm (text + 11, false, minutes);
}
