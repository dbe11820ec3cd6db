/* when.h -- the pure rule of when a session may be: one check for every
 * way a session gets a time (BookSession and Reschedule at a local time,
 * PlanCourse and BookCourse from a first date), so that none of them can
 * accept what another refuses.
 *
 * A session is not in the past (before the clinic's local today; for a
 * local time, an instant before now), not beyond the horizon (more than
 * WHEN_HORIZON_YEARS after the clinic's local today: a date further out
 * is a typing error, and calendars far away overflow), and not at a local
 * time that does not exist (the spring-forward gap of a daylight-saving
 * change). An ambiguous local time (the autumn hour that happens twice)
 * is not refused: it is its first occurrence, the earlier UTC instant, as
 * RFC 5545 reads it (scheduling.local_instant in PostgreSQL).
 *
 * No I/O and no clock: the clinic's today and now, and whether a local
 * time exists (PostgreSQL converts local -> UTC -> local and compares:
 * store_slot_facts), are facts given to it. */
#ifndef SCHEDULING_WHEN_H
#define SCHEDULING_WHEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WHEN_HORIZON_YEARS 5

typedef enum {
    WHEN_OK,
    WHEN_PAST,                          /* before today, or before now */
    WHEN_BEYOND,                        /* after the horizon */
    WHEN_GAP                            /* a local time that does not exist */
} when_verdict_t;

/* What is known of the time asked for. */
typedef struct {
    int32_t day;                        /* the local date asked (civil day) */
    int32_t today;                      /* the clinic's local date now */
    bool timed;                         /* a local time was asked: the rest is known */
    int64_t start_us;                   /* its instant */
    int64_t now_us;                     /* now */
    bool exists;                        /* it reads back as itself in the zone */
    char gap_from[6], gap_to[6];        /* when not: the local "HH:MM" clocks jump from, to */
} when_facts_t;

/* The last day of the horizon: today plus WHEN_HORIZON_YEARS years (Feb
 * 29 becomes Feb 28). */
int32_t when_horizon (int32_t today);

/* The first rule the time breaks, in the order above, or WHEN_OK. A date
 * alone (timed false) is judged on its day only. */
when_verdict_t when_verdict (const when_facts_t *f);

/* The reason code of a refusal ("in_the_past", "beyond_horizon",
 * "dst_gap"; "" for WHEN_OK). */
const char *when_code (when_verdict_t v);

/* The refusal as clients read it: why (the error line, e.g.
 * "2027-03-28T02:30 does not exist in Europe/Paris: clocks go from 02:00
 * to 03:00", or "spec.first_date 9999-12-31 is beyond the horizon of 5
 * years (2031-11-29)") and hint (what to do instead). field and value
 * name what was asked, zone the clinic's. "" for WHEN_OK. */
void when_why (when_verdict_t v, const when_facts_t *f, const char *field, const char *value,
               const char *zone, char *why, size_t why_size, char *hint, size_t hint_size);

#endif
