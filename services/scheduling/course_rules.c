/* course_rules.c -- the course rules of DOMAIN.md ("Safety rules that
 * hold across services") that need more than the calendar: the patient's
 * current screening (screening.GetScreening) and the patient's other
 * sessions, whatever their course.
 *
 *   - the washout is respected, not only enforced: a first date before
 *     the earliest allowed first session becomes that date, and the plan
 *     or booking says so (f->note);
 *   - a course's grade is the grade of the screening it is booked under;
 *   - the screening must be valid on every session's day, not only the
 *     first. A session after valid_until is refused with its number and
 *     date (rather than booked "pending screening"): nothing is booked on
 *     a screening that will have lapsed, the front desk books the course
 *     up to the validity and the rest after a new screening;
 *   - at least 7 days between any two sessions of a patient, across
 *     courses and single sessions (the planner skips closer days: see
 *     courses.c; BookSession and Reschedule are refused);
 *   - a course overlapping another active course of the patient is
 *     refused unless the clinic allows it (CourseSettings
 *     .allow_overlapping_courses). A single session (a course of one) is
 *     not a course for this rule: the 7-day rule covers it.
 *
 * The decisions are planner.c's (planner_first_day, planner_apart_from,
 * planner_beyond_validity, planner_spans_overlap); this file gathers
 * their inputs and words the refusals. The checks read, then the saga
 * inserts: two bookings racing for one patient may both pass them (the
 * exclusion constraints still refuse overlapping instants). */
#include "scheduling.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meso/mtime.h"

int
course_rules_facts (scheduling_t *self, const store_clinic_t *clinic, const Meso__V1__CourseSpec *sp,
                    sched_course_facts_t *f, meso_reply_t *reply)
{
    (void) clinic;
    memset (f, 0, sizeof *f);
    if (meso_date_parse (sp->first_date, &f->asked) != 0) {
        meso_reply_error (reply, MESO_INVALID_ARGUMENT, "spec.first_date: required, \"YYYY-MM-DD\"");
        return -1;
    }
    if (peers_screening (self, sp->patient_id, &f->screening, reply) != 0)
        return -1;
    f->first = planner_first_day (f->asked, f->screening.known ? f->screening.earliest : INT32_MIN);
    if (f->first != f->asked) {
        char from[11], to[11];
        meso_date_format (f->asked, from, sizeof from);
        meso_date_format (f->first, to, sizeof to);
        snprintf (f->note, sizeof f->note,
                  "first session moved from %s to %s: the earliest allowed date after the"
                  " anti-inflammatory washout", from, to);
    }
    int n = store_patient_days (self->db, sp->patient_id, NULL, f->taken, SCHED_MAX_TAKEN);
    if (n < 0) {
        meso_reply_db_error (reply, self->db, "the patient's sessions");
        return -1;
    }
    f->ntaken = n;
    return 0;
}

int
course_rules_booking (scheduling_t *self, const store_clinic_t *clinic, const Meso__V1__CourseSpec *sp,
                      const sched_course_facts_t *f, const int32_t *days, int n, meso_reply_t *reply)
{
    const sched_screening_t *s = &f->screening;
    if (s->known && s->grade >= 1 && sp->grade != s->grade) {
        meso_reply_error (reply, MESO_FAILED_PRECONDITION,
                          "grade %d does not match the grade %d of the patient's screening", sp->grade, s->grade);
        meso_reply_detail (reply, "screening %s; a course's grade is the grade of the screening it is booked under",
                           s->screening_id);
        meso_reply_reason (reply, "grade_mismatch", "spec.grade", "the screening graded the cellulite %d",
                           s->grade);
        return -1;
    }
    if (s->known) {
        int beyond = planner_beyond_validity (days, n, s->valid_until);
        if (beyond >= 0) {
            char day[11], until[11];
            meso_date_format (days[beyond], day, sizeof day);
            meso_date_format (s->valid_until, until, sizeof until);
            meso_reply_error (reply, MESO_FAILED_PRECONDITION,
                              "session %d on %s is after the screening's validity (valid until %s)",
                              beyond + 1, day, until);
            meso_reply_detail (reply, "book the sessions up to %s, or screen the patient again first", until);
            meso_reply_reason (reply, "screening_expires", "spec.first_date",
                               "session %d on %s: screening %s is valid until %s", beyond + 1, day,
                               s->screening_id, until);
            return -1;
        }
    }
    if (clinic->allow_overlapping_courses || n < 1)
        return 0;
    PGresult *res = store_patient_courses (self->db, sp->patient_id);
    if (!res) {
        meso_reply_db_error (reply, self->db, "the patient's courses");
        return -1;
    }
    int rc = 0;
    for (int i = 0; i < PQntuples (res) && rc == 0; i++) {
        int32_t a0 = (int32_t) atoi (PQgetvalue (res, i, 1)), a1 = (int32_t) atoi (PQgetvalue (res, i, 2));
        if (!planner_spans_overlap (days[0], days[n - 1], a0, a1))
            continue;
        char from[11], to[11];
        meso_date_format (a0, from, sizeof from);
        meso_date_format (a1, to, sizeof to);
        meso_reply_error (reply, MESO_FAILED_PRECONDITION,
                          "the course overlaps the patient's active course %s (%s to %s)",
                          PQgetvalue (res, i, 0), from, to);
        meso_reply_detail (reply, "clinic %s does not allow overlapping courses"
                           " (CourseSettings.allow_overlapping_courses)", clinic->clinic_id);
        meso_reply_reason (reply, "course_overlap", "spec.first_date", "course %s runs from %s to %s",
                           PQgetvalue (res, i, 0), from, to);
        rc = -1;
    }
    PQclear (res);
    return rc;
}

int
course_rules_apart (meso_db_t *db, const char *patient_id, const char *except_appointment,
                    int32_t local_day, const char *field, meso_reply_t *reply)
{
    int32_t taken[SCHED_MAX_TAKEN];
    int n = store_patient_days (db, patient_id, except_appointment, taken, SCHED_MAX_TAKEN);
    if (n < 0) {
        meso_reply_db_error (reply, db, "the patient's sessions");
        return -1;
    }
    if (planner_apart_from (local_day, taken, n, SCHED_PATIENT_GAP_DAYS))
        return 0;
    char day[11], other[11] = "";
    meso_date_format (local_day, day, sizeof day);
    for (int i = 0; i < n; i++)
        if (!planner_apart_from (local_day, &taken[i], 1, SCHED_PATIENT_GAP_DAYS)) {
            meso_date_format (taken[i], other, sizeof other);
            break;
        }
    meso_reply_error (reply, MESO_FAILED_PRECONDITION,
                      "%s is less than %d days from the patient's session on %s", day, SCHED_PATIENT_GAP_DAYS,
                      other);
    meso_reply_detail (reply, "two sessions of one patient are at least %d days apart, whatever their course",
                       SCHED_PATIENT_GAP_DAYS);
    meso_reply_reason (reply, "too_close", field, "the patient has a session on %s", other);
    return 1;
}
