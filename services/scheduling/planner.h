/* planner.h -- the pure rules of course planning: how many sessions, how
 * far apart, which slots of a day, in which order to try them, which free
 * slot a plan takes, whether a slot asked for by hand can be taken, and
 * the non-responder and late-cancellation rules.
 *
 * No I/O and no clock: dates are civil days (days since 1970-01-01, see
 * meso/mtime.h) in the clinic's local calendar, times of day are minutes
 * since local midnight. Turning a local date and time into an instant is
 * PostgreSQL's job (AT TIME ZONE), so that "10:00" stays 10:00 local across
 * daylight-saving changes; this file never needs to know the zone. */
#ifndef SCHEDULING_PLANNER_H
#define SCHEDULING_PLANNER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PLANNER_MAX_SESSIONS 64         /* course + maintenance */
#define PLANNER_MAX_COURSE 40
#define PLANNER_MAX_MAINTENANCE 24
#define PLANNER_MAX_SLOTS 96            /* a day in 15-minute slots */
#define PLANNER_SEARCH_DAYS 7           /* days tried after a full target day */

typedef struct {
    int spacing_min_days;               /* >= 7 */
    int taper_max_days;                 /* 14..31 */
    int maintenance_sessions;           /* 0..24 */
} planner_settings_t;

/* Sessions of a course for a grade (1..3) when none is requested:
 * grade 1: 1 (the yearly preventive treatment, a course of one), grade 2
 * mild: 4, grade 2: 10, grade 3: 21 ("more than 20"). Each lies inside
 * screening's recommendation for the grade (rules_course; the unit test
 * runs both for every grade). requested (1..PLANNER_MAX_COURSE)
 * overrides. Returns the count, or -1 for a grade out of range or
 * requested too large. */
int planner_course_sessions (int grade, bool mild, unsigned requested);

/* Maintenance sessions of a course: the explicit count when the spec
 * gave one (0 included), else the clinic's setting; grade 1 (one yearly
 * session) takes none unless given explicitly. */
int planner_maintenance_sessions (int grade, bool given, unsigned requested, int clinic_setting);

/* The first day of a course asked from asked when screening allows no
 * first session before earliest (INT32_MIN: no constraint): the later of
 * the two. */
int32_t planner_first_day (int32_t asked, int32_t earliest);

/* Whether day is at least min_days from every day of taken[0..n) (the
 * patient's other active sessions, any course): no two sessions of one
 * patient closer than a week. */
bool planner_apart_from (int32_t day, const int32_t *taken, int n, int min_days);

/* The first of days[0..n) after valid_until (the last day the screening
 * is valid): its index, or -1 when every day is covered. */
int planner_beyond_validity (const int32_t *days, int n, int32_t valid_until);

/* Whether the closed spans [a0, a1] and [b0, b1] of civil days share a day. */
bool planner_spans_overlap (int32_t a0, int32_t a1, int32_t b0, int32_t b1);

/* The day the next yearly preventive session of a grade 1 course falls
 * due after its last session (a year later, Feb 29 -> Feb 28), and
 * whether it is to be announced on today, notice_days ahead of it. */
int32_t planner_retreatment_due (int32_t last_session);
bool planner_retreatment_announce (int32_t last_session, int32_t today, int notice_days);

/* The spacing of a course of n sessions: gap before session i (0-based; 0
 * for the first). At least spacing_min_days; the last gaps widen towards
 * the end of the course (two weeks, three, four, capped at taper_max_days)
 * for courses of 4 or more sessions (the last gap only for 3). Fills
 * gaps[0..n-1]; returns 0 or -1 (bad arguments). */
int planner_gaps (int n, const planner_settings_t *s, int *gaps);

/* Adds months to a civil day, clamping the day of month (Jan 31 + 1 month
 * = Feb 28/29). */
int32_t planner_add_months (int32_t day, int months);

/* Slot starts of a day: every slot_min from opens while start + slot_min
 * <= closes (minutes since midnight). Returns the count written (at most
 * max). */
int planner_slot_starts (int opens, int closes, int slot_min, int *out, int max);

/* Orders minute-of-day values by closeness to preferred (earlier first on
 * a tie), in place. */
void planner_order_by_preference (int *minutes, int n, int preferred);

/* Whether a session on day may sit between prev and next (either may be
 * INT32_MIN / INT32_MAX for none) with at least min_days on both sides. */
bool planner_spacing_ok (int32_t prev, int32_t day, int32_t next, int min_days);

/* The non-responder rule: once 5 completed sessions have a recorded
 * outcome, a course in which none scored an improvement (score > 0) is
 * flagged. scores are the completed sessions' scores in order, < 0 for
 * an outcome not recorded: those are not "no improvement" and do not
 * count. */
bool planner_non_responder (const int *scores, int n);

/* Late cancellation: less notice than the clinic's policy (notice may be
 * negative: cancelled after the start). */
bool planner_cancel_late (int64_t notice_hours, int policy_hours);

/* Parses "HH:MM" (00:00..23:59; "24:00" too when allow_24) into minutes.
 * Returns 0 or -1. */
int planner_parse_hhmm (const char *text, bool allow_24, int *minutes);

/* Parses a local instant "YYYY-MM-DDTHH:MM" into a day and minutes.
 * Returns 0 or -1. */
int planner_parse_local (const char *text, int32_t *day, int *minutes);

/* ---- the slot search of one day, in memory ----
 *
 * PlanCourse loads a clinic's calendar in a few queries (store_calendar.c:
 * store_calendar_*) and searches it here instead of asking PostgreSQL per
 * candidate day. The zone stays PostgreSQL's business: it gives each day's
 * local midnight as an instant, and on a day with a clock change the
 * instant of every slot start, saying which do not exist (the gap of a
 * spring-forward change: never offered); this file only adds minutes. */

/* Working hours on a weekday (minutes since local midnight; to may be
 * 1440). from < 0: closed / not working that day. */
typedef struct {
    int from[8];                        /* [1..7] by isodow */
    int to[8];
} planner_week_t;

typedef struct {
    planner_week_t hours;               /* in this clinic */
    const int32_t *days_off;            /* sorted civil days */
    int n_days_off;
} planner_practitioner_t;

/* An active appointment that blocks: its practitioner (index among the
 * clinic's practitioners, -1 none of them), its room (index among the
 * clinic's active rooms, -1 none) and whether it is the patient's own. */
typedef struct {
    int64_t start_us, end_us;           /* [start, end) */
    int practitioner;
    int room;
    bool patient;
} planner_busy_t;

/* One local day of the clinic as loaded. */
typedef struct {
    int32_t day;                        /* civil day */
    int64_t midnight_us;                /* local midnight as an instant */
    bool exact;                         /* a clock change: use exact_* */
    int n_exact;
    int exact_min[PLANNER_MAX_SLOTS];   /* slot start (minutes) ... */
    int64_t exact_us[PLANNER_MAX_SLOTS];/* ... and its instant ... */
    bool exact_gap[PLANNER_MAX_SLOTS];  /* ... or none: it is in the gap of the change */
    const planner_busy_t *busy;         /* appointments overlapping the day */
    int n_busy;
} planner_day_t;

/* A free slot: minute of day, instants, and who takes it. */
typedef struct {
    int minute;
    int64_t start_us, end_us;
    int practitioner;
    int room;
} planner_free_t;

/* ISO weekday (1 Monday .. 7 Sunday) of a civil day. */
int planner_isodow (int32_t day);

/* The free slots of a day, in order of time: each slot start of the
 * clinic's hours that day (every slot_min from opening while the slot
 * ends by closing) at which the patient has no appointment and a
 * practitioner (prefer first when >= 0, then by index) works the whole
 * slot, is not off, and has no appointment, and a room (by index) is
 * free. Writes at most max; returns the count. */
int planner_free_slots (const planner_day_t *day, const planner_week_t *clinic, int slot_min,
                        const planner_practitioner_t *pract, int n_pract, int prefer, int n_rooms,
                        planner_free_t *out, int max);

/* ---- choosing a slot, and judging one asked for by hand ---- */

/* The free slot of out[0..n) nearest to preferred (minutes), the earlier
 * on a tie: its index, -1 when n is 0. *dist (may be NULL) gets its
 * distance in minutes. */
int planner_nearest_free (const planner_free_t *out, int n, int preferred, int *dist);

/* Whether the nearest of the free slots out[0..n), found on a day loaded
 * only in the window [lo, hi] of slot starts (minutes), is the nearest of
 * the whole day: every slot start of the clinic's hours outside the
 * window is farther from preferred, or as far and later. A closed day
 * decides (no slot anywhere); an empty window with slots outside does
 * not. */
bool planner_window_decides (const planner_week_t *clinic, int slot_min, int preferred, int32_t day,
                             int lo, int hi, const planner_free_t *out, int n);

/* What the schema says about a slot asked for by hand (BookSession,
 * Reschedule): store_slot_facts reads it. */
typedef struct {
    bool in_hours;                      /* within the clinic's hours that day */
    bool practitioner_known;
    bool practitioner_works;            /* in this clinic, the whole slot */
    bool day_off;                       /* the practitioner's */
    bool room_active;                   /* an active room of the clinic */
} planner_slot_facts_t;

typedef enum {
    PLANNER_SLOT_OK,
    PLANNER_SLOT_OUTSIDE_HOURS,
    PLANNER_SLOT_NO_PRACTITIONER,
    PLANNER_SLOT_NOT_WORKING,
    PLANNER_SLOT_DAY_OFF,
    PLANNER_SLOT_NO_ROOM
} planner_slot_t;

/* The first reason, in that order, the slot cannot be taken, or
 * PLANNER_SLOT_OK. Whether another booking holds it is not a fact here:
 * the exclusion constraints decide that when it is written. */
planner_slot_t planner_slot_verdict (const planner_slot_facts_t *facts);
/* Whether a refusal is about time (the clinic's or the practitioner's
 * hours, a day off) rather than a practitioner or room that is not
 * there. */
bool planner_slot_about_time (planner_slot_t verdict);
/* The refusal as clients read it, e.g. "2027-03-01T08:00 is outside the
 * opening hours of clinic paris" ("" for PLANNER_SLOT_OK). */
void planner_slot_why (planner_slot_t verdict, const char *local_start, const char *clinic,
                       const char *practitioner, const char *room, char *why, size_t size);

#endif
