/* planner.c -- the pure rules of course planning (see planner.h).
 *
 * The numbers come from DOMAIN.md ("Course planning"): at least 7 days
 * between sessions (bruising lasts 7-10 days), the gap widening to two
 * weeks to a month at the end of a course, then monthly maintenance; a
 * course flagged as non-responding after 5 recorded outcomes without
 * improvement (an unrecorded one is not "no improvement"). The course
 * rules of "Safety rules that hold across services" decide here too:
 * grade 3's 21 sessions, the washout start, a week from any other
 * session of the patient, the screening's validity on every day,
 * overlapping spans, grade 1's yearly retreatment. Kept free of I/O so every boundary is unit tested
 * (tests/unit/test_planner.c): the methods and the calendar load rows,
 * then ask here which slot is free and nearest, and whether a slot is
 * valid; none of those decisions is taken next to the SQL. */
#include "planner.h"

#include <assert.h>
#include <stdio.h>
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
    return 21;                          /* "more than 20" (DOMAIN.md) */
}

int
planner_maintenance_sessions (int grade, bool given, unsigned requested, int clinic_setting)
{
    if (given)
        return (int) requested;
    return grade == 1 ? 0 : clinic_setting;
}

int32_t
planner_first_day (int32_t asked, int32_t earliest)
{
    return earliest != INT32_MIN && earliest > asked ? earliest : asked;
}

bool
planner_apart_from (int32_t day, const int32_t *taken, int n, int min_days)
{
    assert (n == 0 || taken);
    for (int i = 0; i < n; i++) {
        int64_t d = (int64_t) day - taken[i];
        if (d < min_days && d > -min_days)
            return false;
    }
    return true;
}

int
planner_beyond_validity (const int32_t *days, int n, int32_t valid_until)
{
    assert (n == 0 || days);
    for (int i = 0; i < n; i++)
        if (days[i] > valid_until)
            return i;
    return -1;
}

bool
planner_spans_overlap (int32_t a0, int32_t a1, int32_t b0, int32_t b1)
{
    return a0 <= b1 && b0 <= a1;
}

int32_t
planner_retreatment_due (int32_t last_session)
{
    return planner_add_months (last_session, 12);
}

bool
planner_retreatment_announce (int32_t last_session, int32_t today, int notice_days)
{
    return (int64_t) today + notice_days >= planner_retreatment_due (last_session);
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

static __thread int s_preferred;   /* qsort has no argument: per thread */

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
    int recorded = 0;
    for (int i = 0; i < n; i++) {
        if (scores[i] < 0)
            continue;                   /* not recorded: not "no improvement" */
        if (scores[i] > 0)
            return false;
        recorded++;
    }
    return recorded >= 5;
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

/* ------------------------------------------------ the slot search of a day */

int
planner_isodow (int32_t day)
{
    /* 1970-01-01 was a Thursday (4). */
    int r = (int) (((int64_t) day + 3) % 7);
    if (r < 0)
        r += 7;
    return r + 1;
}

static bool
s_day_off (const planner_practitioner_t *p, int32_t day)
{
    int lo = 0, hi = p->n_days_off - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        if (p->days_off[mid] == day)
            return true;
        if (p->days_off[mid] < day)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return false;
}

/* The instant of minute on day; false when the day has a clock change and
 * PostgreSQL gave no instant for that minute, or said the minute does not
 * exist (a slot is never proposed inside a daylight-saving gap). */
static bool
s_instant (const planner_day_t *day, int minute, int64_t *us)
{
    if (!day->exact) {
        *us = day->midnight_us + (int64_t) minute * 60000000;
        return true;
    }
    for (int i = 0; i < day->n_exact; i++)
        if (day->exact_min[i] == minute) {
            *us = day->exact_us[i];
            return !day->exact_gap[i];
        }
    return false;
}

int
planner_free_slots (const planner_day_t *day, const planner_week_t *clinic, int slot_min,
                    const planner_practitioner_t *pract, int n_pract, int prefer, int n_rooms,
                    planner_free_t *out, int max)
{
    assert (day);
    assert (clinic);
    assert (n_pract == 0 || pract);
    assert (out);
    int dow = planner_isodow (day->day);
    if (clinic->from[dow] < 0 || slot_min <= 0 || n_pract <= 0 || n_rooms <= 0)
        return 0;
    int starts[PLANNER_MAX_SLOTS];
    int ns = planner_slot_starts (clinic->from[dow], clinic->to[dow], slot_min, starts, PLANNER_MAX_SLOTS);
    /* Who is busy during the slot being looked at (reset per slot). */
    bool *pbusy = calloc ((size_t) n_pract + (size_t) n_rooms, sizeof *pbusy);
    if (!pbusy)
        return 0;
    bool *rbusy = pbusy + n_pract;
    int n = 0;
    for (int k = 0; k < ns && n < max; k++) {
        int m = starts[k];
        int64_t st;
        if (!s_instant (day, m, &st))
            continue;
        int64_t en = st + (int64_t) slot_min * 60000000;
        memset (pbusy, 0, ((size_t) n_pract + (size_t) n_rooms) * sizeof *pbusy);
        bool patient_busy = false;
        for (int b = 0; b < day->n_busy; b++) {
            const planner_busy_t *x = &day->busy[b];
            if (!(x->start_us < en && st < x->end_us))
                continue;
            if (x->patient)
                patient_busy = true;
            if (x->practitioner >= 0 && x->practitioner < n_pract)
                pbusy[x->practitioner] = true;
            if (x->room >= 0 && x->room < n_rooms)
                rbusy[x->room] = true;
        }
        if (patient_busy)
            continue;
        int who = -1;
        for (int i = -1; i < n_pract && who < 0; i++) {
            int p = i < 0 ? prefer : i;
            if (p < 0 || p >= n_pract || (i >= 0 && p == prefer))
                continue;
            const planner_week_t *h = &pract[p].hours;
            if (h->from[dow] < 0 || h->from[dow] > m || m + slot_min > h->to[dow])
                continue;
            if (pbusy[p] || s_day_off (&pract[p], day->day))
                continue;
            who = p;
        }
        if (who < 0)
            continue;
        int room = -1;
        for (int r = 0; r < n_rooms && room < 0; r++)
            if (!rbusy[r])
                room = r;
        if (room < 0)
            continue;
        out[n].minute = m;
        out[n].start_us = st;
        out[n].end_us = en;
        out[n].practitioner = who;
        out[n].room = room;
        n++;
    }
    free (pbusy);
    return n;
}

/* -------------------------------------- choosing and judging a slot */

int
planner_nearest_free (const planner_free_t *out, int n, int preferred, int *dist)
{
    assert (n == 0 || out);
    int best = -1, bestdist = 0;
    for (int k = 0; k < n; k++) {
        int d = abs (out[k].minute - preferred);
        if (best < 0 || d < bestdist || (d == bestdist && out[k].minute < out[best].minute)) {
            best = k;
            bestdist = d;
        }
    }
    if (dist)
        *dist = bestdist;
    return best;
}

bool
planner_window_decides (const planner_week_t *clinic, int slot_min, int preferred, int32_t day,
                        int lo, int hi, const planner_free_t *out, int n)
{
    assert (clinic);
    int bestdist = 0;
    int best = planner_nearest_free (out, n, preferred, &bestdist);
    int dow = planner_isodow (day);
    if (clinic->from[dow] < 0)
        return true;                    /* closed: no slot anywhere */
    int starts[PLANNER_MAX_SLOTS];
    int ns = planner_slot_starts (clinic->from[dow], clinic->to[dow], slot_min, starts, PLANNER_MAX_SLOTS);
    for (int k = 0; k < ns; k++) {
        int m = starts[k];
        if (m >= lo && m <= hi)
            continue;
        if (best < 0)
            return false;
        int d = abs (m - preferred);
        if (d < bestdist || (d == bestdist && m < out[best].minute))
            return false;
    }
    return true;
}

planner_slot_t
planner_slot_verdict (const planner_slot_facts_t *f)
{
    assert (f);
    if (!f->in_hours)
        return PLANNER_SLOT_OUTSIDE_HOURS;
    if (!f->practitioner_known)
        return PLANNER_SLOT_NO_PRACTITIONER;
    if (!f->practitioner_works)
        return PLANNER_SLOT_NOT_WORKING;
    if (f->day_off)
        return PLANNER_SLOT_DAY_OFF;
    if (!f->room_active)
        return PLANNER_SLOT_NO_ROOM;
    return PLANNER_SLOT_OK;
}

bool
planner_slot_about_time (planner_slot_t v)
{
    return v == PLANNER_SLOT_OUTSIDE_HOURS || v == PLANNER_SLOT_NOT_WORKING || v == PLANNER_SLOT_DAY_OFF;
}

void
planner_slot_why (planner_slot_t v, const char *local_start, const char *clinic, const char *practitioner,
                  const char *room, char *why, size_t size)
{
    assert (why && size > 0);
    switch (v) {
    case PLANNER_SLOT_OUTSIDE_HOURS:
        snprintf (why, size, "%s is outside the opening hours of clinic %s", local_start, clinic);
        break;
    case PLANNER_SLOT_NO_PRACTITIONER:
        snprintf (why, size, "no practitioner %s", practitioner);
        break;
    case PLANNER_SLOT_NOT_WORKING:
        snprintf (why, size, "practitioner %s does not work in clinic %s at %s", practitioner, clinic,
                  local_start);
        break;
    case PLANNER_SLOT_DAY_OFF:
        snprintf (why, size, "practitioner %s is off on that day", practitioner);
        break;
    case PLANNER_SLOT_NO_ROOM:
        snprintf (why, size, "no active room %s in clinic %s", room, clinic);
        break;
    default:
        why[0] = '\0';
    }
}
