/* replan.c -- new slots for sessions of a course that already has a plan:
 * one session of a BookCourse whose planned slot another booking took
 * between the plan and the insert (saga.c), and the remaining sessions of
 * a booked course moved from a date (course_changes.c).
 *
 * The rules are the planner's, as courses.c applies them when it plans a
 * course: the day a session aims at follows from the course's gaps
 * (planner_gaps of its position in the course, widening at the end;
 * maintenance sessions a month apart), each day tried at most
 * PLANNER_SEARCH_DAYS further, a week from every other session of the
 * patient (planner_apart_from), the clinic's calendar (opening and working
 * hours, days off, rooms, appointments: store_calendar_*) searched in
 * memory, and the free slot nearest the preferred time wins, with the
 * preferred practitioner tried first. Only the calls differ, so this file
 * calls the same functions rather than sharing courses.c's loop, which
 * reads a CourseSpec and words PlanCourse's conflicts.
 *
 * It calls only down: the calendar (store_calendar.c, store_courses.c)
 * and planner.c. */
#include "scheduling.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meso/mtime.h"

/* Places one session on the first day of [target, target +
 * PLANNER_SEARCH_DAYS) that keeps spacing to prev and next (INT32_MIN /
 * INT32_MAX none) and a week from taken, at the free slot nearest
 * preferred. 1 placed (out set), 0 none, -1 error. */
static int
s_place (store_calendar_t *cal, int32_t target, int32_t prev, int32_t next, int spacing, const int32_t *taken,
         int ntaken, int prefer, int preferred, planner_free_t *fr, sched_slot_t *out)
{
    for (int d = 0; d < PLANNER_SEARCH_DAYS; d++) {
        int32_t day = target + d;
        if (!planner_spacing_ok (prev, day, next, spacing)
            || !planner_apart_from (day, taken, ntaken, SCHED_PATIENT_GAP_DAYS))
            continue;
        if (!store_calendar_loaded (cal, day) && store_calendar_load (cal, &day, 1) != 0)
            return -1;
        int nfree = store_calendar_free_slots (cal, day, prefer, fr, PLANNER_MAX_SLOTS);
        if (nfree < 0)
            return -1;
        int best = planner_nearest_free (fr, nfree, preferred, NULL);
        if (best < 0)
            continue;
        char date[11];
        meso_date_format (day, date, sizeof date);
        out->starts_us = fr[best].start_us;
        out->ends_us = fr[best].end_us;
        snprintf (out->practitioner_id, sizeof out->practitioner_id, "%s",
                  store_calendar_practitioner_id (cal, fr[best].practitioner));
        snprintf (out->room_id, sizeof out->room_id, "%s", store_calendar_room_id (cal, fr[best].room));
        snprintf (out->local_start, sizeof out->local_start, "%sT%02d:%02d", date, (fr[best].minute / 60) % 100,
                  fr[best].minute % 60);
        snprintf (out->local_date, sizeof out->local_date, "%s", date);
        return 1;
    }
    return 0;
}

int
replan_session (scheduling_t *self, sched_booking_t *b, int i)
{
    sched_slot_t *s = &b->slots[i];
    int32_t day, prev = INT32_MIN, next = INT32_MAX;
    int minute;
    if (planner_parse_local (s->local_start, &day, &minute) != 0)
        return -1;
    if (i > 0)
        meso_date_parse (b->slots[i - 1].local_date, &prev);
    if (i + 1 < b->n)
        meso_date_parse (b->slots[i + 1].local_date, &next);
    int32_t taken[SCHED_MAX_TAKEN];
    int ntaken = store_patient_days (self->db, b->patient_id, NULL, taken, SCHED_MAX_TAKEN);
    if (ntaken < 0)
        return -1;
    store_calendar_t *cal = store_calendar_new (self->db, &b->clinic, b->patient_id, minute, day,
                                                PLANNER_SEARCH_DAYS + 1, &day, 1);
    planner_free_t *fr = calloc (PLANNER_MAX_SLOTS, sizeof *fr);
    int rc = -1;
    if (cal && fr) {
        sched_slot_t moved = *s;
        rc = s_place (cal, day, prev, next, b->clinic.course.spacing_min_days, taken, ntaken,
                      store_calendar_practitioner (cal, s->practitioner_id), minute, fr, &moved);
        if (rc == 1)
            *s = moved;         /* the same appointment id, number and kind */
    }
    free (fr);
    store_calendar_destroy (&cal);
    return rc < 0 ? -1 : rc == 1 ? 0 : 1;
}

int
replan_course (scheduling_t *self, const store_clinic_t *clinic, const char *patient_id, const char *practitioner_id,
               int preferred, int32_t from, int32_t prev_done, int ncourse, const int32_t *taken, int ntaken,
               sched_slot_t *slots, int n, int *unplaced)
{
    int gaps[PLANNER_MAX_SESSIONS];
    if (ncourse < 1 || ncourse > PLANNER_MAX_SESSIONS || planner_gaps (ncourse, &clinic->course, gaps) != 0)
        return -1;
    int spacing = clinic->course.spacing_min_days;
    int32_t first = from;
    if (prev_done != INT32_MIN && first < prev_done + spacing)
        first = prev_done + spacing;
    /* The days each session aims at if each lands on its target: the
     * calendar comes with them, so a move without conflicts is a few
     * statements. */
    int32_t aims[PLANNER_MAX_SESSIONS];
    int horizon = PLANNER_SEARCH_DAYS + 1;
    for (int k = 0; k < n; k++) {
        int pos = slots[k].session_number - 1;
        if (k == 0)
            aims[k] = first;
        else if (slots[k].maintenance || pos >= ncourse)
            aims[k] = planner_add_months (aims[k - 1], 1);
        else
            aims[k] = aims[k - 1] + gaps[pos];
        horizon += (k ? aims[k] - aims[k - 1] : 0) + PLANNER_SEARCH_DAYS;
    }
    store_calendar_t *cal = store_calendar_new (self->db, clinic, patient_id, preferred, first, horizon, aims, n);
    planner_free_t *fr = calloc (PLANNER_MAX_SLOTS, sizeof *fr);
    int rc = 0;
    if (!cal || !fr)
        rc = -1;
    int prefer = cal ? store_calendar_practitioner (cal, practitioner_id) : -1;
    int32_t prev = prev_done;
    for (int k = 0; k < n && rc == 0; k++) {
        int pos = slots[k].session_number - 1;
        int32_t target = k == 0 ? first
                       : slots[k].maintenance || pos >= ncourse ? planner_add_months (prev, 1)
                       : prev + gaps[pos];
        int got = s_place (cal, target, prev, INT32_MAX, spacing, taken, ntaken, prefer, preferred, fr, &slots[k]);
        if (got < 0)
            rc = -1;
        else if (got == 0) {
            *unplaced = k;
            rc = 1;
        }
        else {
            meso_date_parse (slots[k].local_date, &prev);
            if (prefer < 0)
                prefer = store_calendar_practitioner (cal, slots[k].practitioner_id);
        }
    }
    free (fr);
    store_calendar_destroy (&cal);
    return rc;
}
