/* when.c -- the pure rule of when a session may be (see when.h).
 *
 * Kept apart from planner.c: the planner decides which slot a course
 * takes; this decides whether a time may be given to a session at all,
 * and every method that gives one calls it (frame.c sched_check_when),
 * so the rule cannot drift between them. Unit tested in
 * tests/unit/test_when.c. */
#include "when.h"

#include <assert.h>
#include <stdio.h>

#include "meso/mtime.h"
#include "planner.h"

int32_t
when_horizon (int32_t today)
{
    return planner_add_months (today, 12 * WHEN_HORIZON_YEARS);
}

when_verdict_t
when_verdict (const when_facts_t *f)
{
    assert (f);
    if (f->day < f->today)
        return WHEN_PAST;
    if (f->day > when_horizon (f->today))
        return WHEN_BEYOND;
    if (!f->timed)
        return WHEN_OK;
    /* A time that does not exist has no true instant: name the gap
     * rather than judge the instant PostgreSQL made of it. */
    if (!f->exists)
        return WHEN_GAP;
    if (f->start_us < f->now_us)
        return WHEN_PAST;
    return WHEN_OK;
}

const char *
when_code (when_verdict_t v)
{
    switch (v) {
    case WHEN_PAST:
        return "in_the_past";
    case WHEN_BEYOND:
        return "beyond_horizon";
    case WHEN_GAP:
        return "dst_gap";
    default:
        return "";
    }
}

void
when_why (when_verdict_t v, const when_facts_t *f, const char *field, const char *value, const char *zone,
          char *why, size_t why_size, char *hint, size_t hint_size)
{
    assert (f && why && why_size > 0 && hint && hint_size > 0);
    char today[16], horizon[16];
    meso_date_format (f->today, today, sizeof today);
    meso_date_format (when_horizon (f->today), horizon, sizeof horizon);
    switch (v) {
    case WHEN_PAST:
        snprintf (why, why_size, "%s %s is in the past", field, value);
        snprintf (hint, hint_size, "book from now on (the clinic's local date is %s)", today);
        break;
    case WHEN_BEYOND:
        snprintf (why, why_size, "%s %s is beyond the horizon of %d years (%s)", field, value,
                  WHEN_HORIZON_YEARS, horizon);
        snprintf (hint, hint_size, "book from %s to %s (clinic local dates)", today, horizon);
        break;
    case WHEN_GAP:
        snprintf (why, why_size, "%s does not exist in %s: clocks go from %s to %s", value, zone,
                  f->gap_from, f->gap_to);
        snprintf (hint, hint_size, "pick a time before %s or from %s", f->gap_from, f->gap_to);
        break;
    default:
        why[0] = '\0';
        hint[0] = '\0';
    }
}
