/* frontdesk.c -- the pure decisions of the front desk (frontdesk.h):
 * reminders due in the clinic's wall-clock time, and a freed slot against
 * a waitlist entry. No I/O, no clock: the callers pass "now". */
#include "frontdesk.h"

#include <stdio.h>
#include <string.h>

#include "meso/mtime.h"
#include "planner.h"

int
frontdesk_due_local (const char *local_start, int lead_minutes, char *out, size_t size)
{
    int32_t day;
    int minute;
    if (lead_minutes < 1 || lead_minutes > FRONTDESK_LEAD_MAX_MIN
        || planner_parse_local (local_start, &day, &minute) != 0)
        return -1;
    /* Wall-clock minutes since the epoch's local midnight: the zone's
     * offsets never enter, so a clock change between the two changes
     * nothing. */
    int64_t at = (int64_t) day * 1440 + minute - lead_minutes;
    int32_t d = (int32_t) (at >= 0 ? at / 1440 : (at - 1439) / 1440);
    int m = (int) (at - (int64_t) d * 1440);
    char date[16];
    meso_date_format (d, date, sizeof date);
    int n = snprintf (out, size, "%sT%02d:%02d", date, m / 60, m % 60);
    return n > 0 && (size_t) n < size ? 0 : -1;
}

bool
frontdesk_leads_ok (const uint32_t *leads, size_t n, size_t *bad)
{
    if (n > FRONTDESK_MAX_LEADS) {
        *bad = FRONTDESK_MAX_LEADS;
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        bool dup = false;
        for (size_t k = 0; k < i; k++)
            dup = dup || leads[k] == leads[i];
        if (leads[i] < 1 || leads[i] > FRONTDESK_LEAD_MAX_MIN || dup) {
            *bad = i;
            return false;
        }
    }
    return true;
}

int
frontdesk_reminders (const int *leads, int n, const bool *decided, const char *local_start,
                     const char *now_local, frontdesk_action_t *act)
{
    int32_t d;
    int m;
    if (n < 0 || n > FRONTDESK_MAX_LEADS || !local_start || !now_local
        || planner_parse_local (now_local, &d, &m) != 0)
        return -1;
    bool due[FRONTDESK_MAX_LEADS];
    int nearest = -1;                   /* the smallest due lead */
    for (int i = 0; i < n; i++) {
        char at[32];
        act[i] = FRONTDESK_WAIT;
        if (frontdesk_due_local (local_start, leads[i], at, sizeof at) != 0)
            return -1;
        /* ISO local instants compare as text; a session that started
         * gets no reminder. */
        due[i] = strcmp (at, now_local) <= 0 && strcmp (local_start, now_local) > 0;
        if (due[i] && (nearest < 0 || leads[i] < leads[nearest]))
            nearest = i;
    }
    int send = 0;
    for (int i = 0; i < n; i++) {
        if (!due[i] || decided[i])
            continue;
        if (i == nearest) {
            act[i] = FRONTDESK_SEND;
            send++;
        }
        else
            act[i] = FRONTDESK_SUPERSEDED;
    }
    return send;
}

bool
frontdesk_matches (const frontdesk_entry_t *e, const frontdesk_slot_t *s)
{
    if (s->day < e->from_day || s->day > e->to_day || s->start_us <= s->now_us)
        return false;
    if (e->practitioner && e->practitioner[0] && (!s->practitioner || strcmp (e->practitioner, s->practitioner) != 0))
        return false;
    if (e->moves && s->start_us >= e->current_start_us)
        return false;
    return planner_apart_from (s->day, e->taken, e->ntaken, 7);
}
