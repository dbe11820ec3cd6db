/* courses.c -- the courses aggregate's methods: PlanCourse, BookCourse,
 * BookSession, GetCourse, GetAvailability.
 *
 * Planning (PlanCourse, and BookCourse before it books) walks the course
 * session by session: the pure rules of planner.c say which day to aim at
 * after the previous session; the free slots of that day come from the
 * clinic's calendar, loaded in a few statements (store_calendar_*: the
 * hours, days off, rooms, each day's midnight as an instant -- PostgreSQL
 * does the zone arithmetic -- and the active appointments of the days
 * looked at) and searched in memory (planner_free_slots), instead of a
 * query per candidate day; the slot nearest the preferred time wins
 * (planner_nearest_free), else the next days are tried.
 * The plan is a preview: two bookings may plan the same slot, and the
 * exclusion constraints let exactly one of them insert it.
 *
 * BookCourse and BookSession span services: they validate and plan here,
 * then hand the booking to the saga (saga.c), which replies. GetCourse
 * and GetAvailability are reads of this aggregate; a session once booked
 * changes through sessions.c. GetCourse names a course or a patient, not
 * a clinic: it refuses a course outside the caller's clinics and lists
 * only the patient's courses inside them. */
#include "scheduling.h"

#include "meso/audit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meso/access.h"
#include "meso/handler.h"
#include "meso/mtime.h"

typedef struct {
    sched_slot_t slot;
    char target[11];
    int gap;
    bool unplaced;
    char conflicts[2][160];
    int nconf;
} s_planned_t;

/* Validates a course spec; loads its clinic. 0 or -1 (reply set). */
static int
s_spec_check (scheduling_t *self, const Meso__V1__CourseSpec *sp, bool booking, store_clinic_t *clinic,
              meso_reply_t *reply)
{
    int bad = 0;
    if (!sp) {
        sched_bad (reply, &bad, "missing_field", "spec", "required");
        return -1;
    }
    sched_need_id (reply, &bad, "spec.clinic_id", sp->clinic_id);
    sched_need_ref (reply, &bad, "spec.patient_id", sp->patient_id);
    if (sp->grade < 1 || sp->grade > 3)
        sched_bad (reply, &bad, "out_of_range", "spec.grade", "cellulite grade must be 1, 2 or 3");
    if (sp->n_areas == 0)
        sched_bad (reply, &bad, "missing_field", "spec.areas", "at least one treatment area");
    if (sp->n_areas > SCHED_MAX_AREAS)
        sched_bad (reply, &bad, "out_of_range", "spec.areas", "at most 16 areas");
    sched_check_areas (reply, &bad, "spec.areas", sp->areas, sp->n_areas);
    int32_t first;
    if (meso_date_parse (sp->first_date, &first) != 0)
        sched_bad (reply, &bad, "invalid_date", "spec.first_date", "required, \"YYYY-MM-DD\"");
    int pref;
    if (sp->preferred_time && sp->preferred_time[0]
        && planner_parse_hhmm (sp->preferred_time, false, &pref) != 0)
        sched_bad (reply, &bad, "invalid_time", "spec.preferred_time", "\"HH:MM\"");
    if (sp->sessions > PLANNER_MAX_COURSE)
        sched_bad (reply, &bad, "out_of_range", "spec.sessions", "at most 40 sessions (0 = from the grade)");
    if (sp->maintenance_sessions > PLANNER_MAX_MAINTENANCE)
        sched_bad (reply, &bad, "out_of_range", "spec.maintenance_sessions", "at most 24");
    if (sp->practitioner_id && sp->practitioner_id[0] && !sched_code_ok (sp->practitioner_id))
        sched_bad (reply, &bad, "invalid_id", "spec.practitioner_id", "a practitioner id");
    if (booking || (sp->recipe_id && sp->recipe_id[0]))
        sched_need_id (reply, &bad, "spec.recipe_id", sp->recipe_id);
    if (bad)
        return -1;
    if (sched_clinic_load (self, sp->clinic_id, "spec.clinic_id", clinic, reply) != 0)
        return -1;
    /* The sessions after the first follow from the spacing rules: the
     * first date is the one a caller gives. */
    when_facts_t when = { .day = first };
    return sched_check_when (reply, clinic, "spec.first_date", sp->first_date, &when);
}

static void
s_conflict (s_planned_t *p, const char *fmt, const char *a, const char *b)
{
    if (p->nconf < 2)
        snprintf (p->conflicts[p->nconf++], sizeof p->conflicts[0], fmt, a, b);
}

/* Plans the course of sp; out must hold PLANNER_MAX_SESSIONS. Returns the
 * number of sessions, -1 (reply set). */
static int
s_plan (scheduling_t *self, const store_clinic_t *clinic, const Meso__V1__CourseSpec *sp,
        const sched_course_facts_t *facts, s_planned_t *out, meso_reply_t *reply)
{
    int ncourse = planner_course_sessions (sp->grade, sp->mild, sp->sessions);
    bool given = sp->maintenance_case == MESO__V1__COURSE_SPEC__MAINTENANCE_MAINTENANCE_SESSIONS;
    int nmaint = planner_maintenance_sessions (sp->grade, given, sp->maintenance_sessions,
                                               clinic->course.maintenance_sessions);
    int total = ncourse + nmaint;
    if (total > PLANNER_MAX_SESSIONS)
        total = PLANNER_MAX_SESSIONS;
    int gaps[PLANNER_MAX_SESSIONS];
    if (planner_gaps (ncourse, &clinic->course, gaps) != 0) {
        meso_reply_error (reply, MESO_INTERNAL, "cannot compute the spacing of %d sessions", ncourse);
        return -1;
    }
    int preferred = 0;
    if (sp->preferred_time && sp->preferred_time[0])
        planner_parse_hhmm (sp->preferred_time, false, &preferred);
    /* From the first allowed day (the washout applied: course_rules.c). */
    int32_t prev = 0, first = facts->first;
    /* The days the search can reach: each session at most its gap (a
     * month for maintenance) plus the days tried after a full one. */
    int horizon = PLANNER_SEARCH_DAYS + 1;
    for (int i = 1; i < total; i++)
        horizon += (i < ncourse ? gaps[i] : 31) + PLANNER_SEARCH_DAYS;
    /* The calendar comes with the days the sessions aim at if each lands
     * on its target: a plan without conflicts is one statement. */
    int32_t aims[PLANNER_MAX_SESSIONS];
    aims[0] = first;
    for (int j = 1; j < total; j++)
        aims[j] = j < ncourse ? aims[j - 1] + gaps[j] : planner_add_months (aims[j - 1], 1);
    store_calendar_t *cal = store_calendar_new (self->db, clinic, sp->patient_id, preferred, first, horizon, aims,
                                                total);
    if (!cal) {
        meso_reply_db_error (reply, self->db, "free slots");
        return -1;
    }
    int prefer = store_calendar_practitioner (cal, sp->practitioner_id);
    planner_free_t *fr = calloc (PLANNER_MAX_SLOTS, sizeof *fr);
    if (!fr) {
        store_calendar_destroy (&cal);
        meso_reply_error (reply, MESO_RESOURCE_EXHAUSTED, "out of memory");
        return -1;
    }
    int rc = total;
    for (int i = 0; i < total && rc >= 0; i++) {
        s_planned_t *p = &out[i];
        memset (p, 0, sizeof *p);
        p->slot.session_number = i + 1;
        p->slot.maintenance = i >= ncourse;
        int32_t target = i == 0 ? first
                       : i < ncourse ? prev + gaps[i] : planner_add_months (prev, 1);
        p->gap = i == 0 ? 0 : (int) (target - prev);
        meso_date_format (target, p->target, sizeof p->target);
        int32_t placed = INT32_MIN;
        for (int d = 0; d < PLANNER_SEARCH_DAYS && placed == INT32_MIN; d++) {
            int32_t day = target + d;
            /* a week from every other session of the patient, any course */
            if (!planner_apart_from (day, facts->taken, facts->ntaken, SCHED_PATIENT_GAP_DAYS))
                continue;
            if (!store_calendar_loaded (cal, day)) {
                /* One statement for this day and the days the later
                 * sessions aim at if each lands on its target; a session
                 * that moves costs one more. */
                int32_t batch[PLANNER_MAX_SESSIONS + 1];
                int nb = 0;
                batch[nb++] = day;
                for (int j = i + 1; j < total; j++, nb++)
                    batch[nb] = j < ncourse ? batch[nb - 1] + gaps[j] : planner_add_months (batch[nb - 1], 1);
                if (store_calendar_load (cal, batch, nb) != 0) {
                    meso_reply_db_error (reply, self->db, "free slots");
                    rc = -1;
                    break;
                }
            }
            char date[11];
            meso_date_format (day, date, sizeof date);
            int nfree = store_calendar_free_slots (cal, day, prefer, fr, PLANNER_MAX_SLOTS);
            if (nfree < 0) {
                meso_reply_db_error (reply, self->db, "free slots");
                rc = -1;
                break;
            }
            int bestdist;
            int best = planner_nearest_free (fr, nfree, preferred, &bestdist);
            if (best >= 0) {
                placed = day;
                sched_slot_t *s = &p->slot;
                s->starts_us = fr[best].start_us;
                s->ends_us = fr[best].end_us;
                snprintf (s->practitioner_id, sizeof s->practitioner_id, "%s",
                          store_calendar_practitioner_id (cal, fr[best].practitioner));
                snprintf (s->room_id, sizeof s->room_id, "%s", store_calendar_room_id (cal, fr[best].room));
                int hh = (fr[best].minute / 60) % 100, mm = fr[best].minute % 60;
                snprintf (s->local_start, sizeof s->local_start, "%.10sT%02d:%02d", date, hh, mm);
                snprintf (s->local_date, sizeof s->local_date, "%s", date);
                if (d > 0)
                    s_conflict (p, "%s has no free slot; moved to %s", p->target, date);
                if (bestdist > 0 && sp->preferred_time && sp->preferred_time[0])
                    s_conflict (p, "%s taken; nearest free slot %s", sp->preferred_time, s->local_start + 11);
                if (sp->practitioner_id && sp->practitioner_id[0]
                    && strcmp (sp->practitioner_id, s->practitioner_id) != 0)
                    s_conflict (p, "practitioner %s busy; %s instead", sp->practitioner_id, s->practitioner_id);
                if (prefer < 0 && !(sp->practitioner_id && sp->practitioner_id[0]))
                    prefer = fr[best].practitioner;
            }
        }
        if (rc < 0)
            break;
        if (placed == INT32_MIN) {
            p->unplaced = true;
            s_conflict (p, "no free slot from %s for %s days", p->target, "7");
            placed = target;
        }
        else
            p->gap = i == 0 ? 0 : (int) (placed - prev);
        prev = placed;
    }
    free (fr);
    store_calendar_destroy (&cal);
    return rc;
}

void
courses_plan (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    scheduling_t *self = arg;
    Meso__V1__PlanCourseRequest *in = body;
    store_clinic_t clinic;
    s_planned_t *plan = calloc (PLANNER_MAX_SESSIONS, sizeof *plan);
    Meso__V1__PlannedSession *ps = calloc (PLANNER_MAX_SESSIONS, sizeof *ps);
    Meso__V1__PlannedSession **pp = calloc (PLANNER_MAX_SESSIONS, sizeof *pp);
    char **conf = calloc (PLANNER_MAX_SESSIONS * 2, sizeof *conf);
    sched_course_facts_t *facts = calloc (1, sizeof *facts);
    if (!plan || !ps || !pp || !conf || !facts)
        meso_reply_error (reply, MESO_RESOURCE_EXHAUSTED, "out of memory");
    else if (s_spec_check (self, in->spec, false, &clinic, reply) == 0
             && course_rules_facts (self, &clinic, in->spec, facts, reply) == 0) {
        int n = s_plan (self, &clinic, in->spec, facts, plan, reply);
        if (n >= 0) {
            Meso__V1__PlanCourseReply out = MESO__V1__PLAN_COURSE_REPLY__INIT;
            out.clinic_id = clinic.clinic_id;
            out.time_zone = clinic.time_zone;
            out.first_date_note = facts->note;
            out.complete = true;
            for (int i = 0; i < n; i++) {
                Meso__V1__PlannedSession *x = &ps[i];
                meso__v1__planned_session__init (x);
                x->session_number = (uint32_t) plan[i].slot.session_number;
                x->maintenance = plan[i].slot.maintenance;
                x->target_date = plan[i].target;
                x->gap_days = (uint32_t) plan[i].gap;
                x->unplaced = plan[i].unplaced;
                if (!plan[i].unplaced) {
                    x->local_start = plan[i].slot.local_start;
                    x->starts_at_us = plan[i].slot.starts_us;
                    x->ends_at_us = plan[i].slot.ends_us;
                    x->practitioner_id = plan[i].slot.practitioner_id;
                    x->room_id = plan[i].slot.room_id;
                }
                else
                    out.complete = false;
                for (int k = 0; k < plan[i].nconf; k++)
                    conf[i * 2 + k] = plan[i].conflicts[k];
                x->conflicts = conf + i * 2;
                x->n_conflicts = (size_t) plan[i].nconf;
                pp[i] = x;
            }
            out.sessions = pp;
            out.n_sessions = (size_t) n;
            meso_reply_ok (reply, &out.base);
        }
    }
    free (plan);
    free (ps);
    free (pp);
    free (conf);
    free (facts);
}

/* ------------------------------------------------------------- booking */

void
courses_book (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    scheduling_t *self = arg;
    Meso__V1__BookCourseRequest *in = body;
    sched_booking_t b;
    memset (&b, 0, sizeof b);
    s_planned_t *plan = calloc (PLANNER_MAX_SESSIONS, sizeof *plan);
    sched_slot_t *slots = calloc (PLANNER_MAX_SESSIONS, sizeof *slots);
    sched_course_facts_t *facts = calloc (1, sizeof *facts);
    int32_t days[PLANNER_MAX_SESSIONS];
    if (!plan || !slots || !facts)
        meso_reply_error (reply, MESO_RESOURCE_EXHAUSTED, "out of memory");
    else if (saga_replayed (self, req, reply))
        ;                               /* answered from the key */
    else if (s_spec_check (self, in->spec, true, &b.clinic, reply) == 0
             && course_rules_facts (self, &b.clinic, in->spec, facts, reply) == 0) {
        int n = s_plan (self, &b.clinic, in->spec, facts, plan, reply);
        int unplaced = 0;
        for (int i = 0; i < n; i++)
            if (plan[i].unplaced) {
                if (!unplaced)
                    meso_reply_error (reply, MESO_FAILED_PRECONDITION,
                                      "session %d has no free slot (aimed at %s)", i + 1, plan[i].target);
                meso_reply_reason (reply, "no_free_slot", "spec.first_date",
                                   "session %d: no practitioner and room free from %s for 7 days",
                                   i + 1, plan[i].target);
                unplaced++;
            }
        for (int i = 0; i < n && !unplaced; i++)
            meso_date_parse (plan[i].slot.local_date, &days[i]);
        if (n > 0 && !unplaced
            && course_rules_booking (self, &b.clinic, in->spec, facts, days, n, reply) == 0) {
            for (int i = 0; i < n; i++)
                slots[i] = plan[i].slot;
            b.requested_first = in->spec->first_date;
            b.first_note = facts->note;
            b.req = req;
            b.patient_id = in->spec->patient_id;
            b.grade = in->spec->grade;
            b.mild = in->spec->mild;
            b.areas = in->spec->areas;
            b.n_areas = in->spec->n_areas;
            b.recipe_id = in->spec->recipe_id;
            b.slots = slots;
            b.n = n;
            saga_book (self, &b, reply);
        }
    }
    free (plan);
    free (slots);
    free (facts);
}

void
courses_book_session (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    scheduling_t *self = arg;
    Meso__V1__BookSessionRequest *in = body;
    int bad = 0;
    sched_need_id (reply, &bad, "clinic_id", in->clinic_id);
    sched_need_ref (reply, &bad, "patient_id", in->patient_id);
    sched_need_id (reply, &bad, "practitioner_id", in->practitioner_id);
    sched_need_id (reply, &bad, "room_id", in->room_id);
    sched_need_id (reply, &bad, "recipe_id", in->recipe_id);
    int32_t day;
    int minute;
    if (planner_parse_local (in->local_start, &day, &minute) != 0)
        sched_bad (reply, &bad, "invalid_time", "local_start", "required, \"YYYY-MM-DDTHH:MM\" (clinic local time)");
    if (in->duration_minutes > 480)
        sched_bad (reply, &bad, "out_of_range", "duration_minutes", "at most 480 (0 = the clinic's slot)");
    if (in->n_areas == 0 || in->n_areas > SCHED_MAX_AREAS)
        sched_bad (reply, &bad, "missing_field", "areas", "1..16 treatment areas");
    sched_check_areas (reply, &bad, "areas", in->areas, in->n_areas);
    sched_booking_t b;
    memset (&b, 0, sizeof b);
    sched_slot_t slot;
    memset (&slot, 0, sizeof slot);
    if (bad)
        goto done;
    if (sched_clinic_load (self, in->clinic_id, "clinic_id", &b.clinic, reply) != 0)
        goto done;
    /* The date first (no database work for an absurd one), then the
     * local time as PostgreSQL reads it in the clinic's zone. */
    when_facts_t when = { .day = day };
    if (sched_check_when (reply, &b.clinic, "local_start", in->local_start, &when) != 0)
        goto done;
    int minutes = in->duration_minutes ? (int) in->duration_minutes : b.clinic.slot_minutes;
    planner_slot_facts_t facts;
    if (store_slot_facts (self->db, &b.clinic, in->practitioner_id, in->room_id, in->local_start, minutes,
                          &slot.starts_us, &slot.ends_us, &facts, &when) != 0) {
        meso_reply_db_error (reply, self->db, "slot");
        goto done;
    }
    when.timed = true;
    if (sched_check_when (reply, &b.clinic, "local_start", in->local_start, &when) != 0)
        goto done;
    planner_slot_t verdict = planner_slot_verdict (&facts);
    if (verdict != PLANNER_SLOT_OK) {
        char why[256];
        planner_slot_why (verdict, in->local_start, b.clinic.clinic_id, in->practitioner_id, in->room_id,
                          why, sizeof why);
        bool hours = planner_slot_about_time (verdict);
        /* The field is picked from the text, as clients have always seen
         * it: "room" anywhere in it names room_id. */
        meso_reply_error (reply, hours ? MESO_INVALID_ARGUMENT : MESO_NOT_FOUND, "%s", why);
        meso_reply_reason (reply, hours ? "outside_hours" : "not_found",
                           hours ? "local_start" : (strstr (why, "room") ? "room_id" : "practitioner_id"),
                           "%s", why);
        goto done;
    }
    if (saga_replayed (self, req, reply)
        || course_rules_apart (self->db, in->patient_id, NULL, day, "local_start", reply) != 0)
        goto done;
    snprintf (slot.practitioner_id, sizeof slot.practitioner_id, "%s", in->practitioner_id);
    snprintf (slot.room_id, sizeof slot.room_id, "%s", in->room_id);
    snprintf (slot.local_start, sizeof slot.local_start, "%s", in->local_start);
    snprintf (slot.local_date, sizeof slot.local_date, "%.10s", in->local_start);
    slot.session_number = 1;
    slot.maintenance = in->maintenance;
    b.req = req;
    b.patient_id = in->patient_id;
    b.grade = 1;
    b.areas = in->areas;
    b.n_areas = in->n_areas;
    b.recipe_id = in->recipe_id;
    b.slots = &slot;
    b.n = 1;
    saga_book (self, &b, reply);
done:
}

/* --------------------------------------------------------------- reads */

void
courses_availability (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    scheduling_t *self = arg;
    Meso__V1__GetAvailabilityRequest *in = body;
    int bad = 0;
    int32_t d;
    sched_need_id (reply, &bad, "clinic_id", in->clinic_id);
    if (meso_date_parse (in->date, &d) != 0)
        sched_bad (reply, &bad, "invalid_date", "date", "required, \"YYYY-MM-DD\"");
    if (in->practitioner_id && in->practitioner_id[0] && !sched_code_ok (in->practitioner_id))
        sched_bad (reply, &bad, "invalid_id", "practitioner_id", "a practitioner id");
    store_clinic_t clinic;
    if (bad || sched_clinic_load (self, in->clinic_id, "clinic_id", &clinic, reply) != 0)
        return;
    bool only = in->practitioner_id && in->practitioner_id[0];
    PGresult *res = store_free_slots (self->db, in->clinic_id, in->date,
                                      only ? in->practitioner_id : "", only, "");
    if (!res)
        meso_reply_db_error (reply, self->db, "free slots");
    else {
        int n = PQntuples (res);
        Meso__V1__FreeSlot *fs = calloc ((size_t) n + 1, sizeof *fs);
        Meso__V1__FreeSlot **fp = calloc ((size_t) n + 1, sizeof *fp);
        if (fs && fp) {
            int kept = 0;
            for (int i = 0; i < n; i++) {
                /* a slot start inside a daylight-saving gap does not exist */
                if (strcmp (PQgetvalue (res, i, 6), "t") != 0)
                    continue;
                meso__v1__free_slot__init (&fs[i]);
                fs[i].local_start = PQgetvalue (res, i, 5);
                fs[i].starts_at_us = strtoll (PQgetvalue (res, i, 1), NULL, 10);
                fs[i].ends_at_us = strtoll (PQgetvalue (res, i, 2), NULL, 10);
                fs[i].practitioner_id = PQgetvalue (res, i, 3);
                fs[i].room_id = PQgetvalue (res, i, 4);
                fp[kept++] = &fs[i];
            }
            Meso__V1__GetAvailabilityReply out = MESO__V1__GET_AVAILABILITY_REPLY__INIT;
            out.slots = fp;
            out.n_slots = (size_t) kept;
            meso_reply_ok (reply, &out.base);
        }
        else
            meso_reply_error (reply, MESO_RESOURCE_EXHAUSTED, "out of memory");
        free (fs);
        free (fp);
        PQclear (res);
    }
}

#define S_COURSES "scheduling.GetCourse"

void
courses_get (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    scheduling_t *self = arg;
    Meso__V1__GetCourseRequest *in = body;
    /* A oneof: the members share storage, so each is read only when set. */
    bool by_course = in->key_case == MESO__V1__GET_COURSE_REQUEST__KEY_COURSE_ID && in->course_id[0];
    bool by_patient = in->key_case == MESO__V1__GET_COURSE_REQUEST__KEY_PATIENT_ID && in->patient_id[0];
    int bad = 0;
    if (!by_course && !by_patient)
        sched_bad (reply, &bad, "missing_field", "course_id", "give either course_id or patient_id");
    if (by_course)
        sched_text_max (reply, &bad, "course_id", in->course_id, SCHED_ID_MAX);
    if (by_patient)
        sched_text_max (reply, &bad, "patient_id", in->patient_id, SCHED_ID_MAX);
    meso_page_pos_t pos;
    if (!meso_handler_page_ok (S_COURSES, in->page_token, "is", &pos))
        sched_bad (reply, &bad, "invalid_page_token", "page_token",
                   "not a token of " S_COURSES ": send the next_page_token of a previous reply,"
                   " or none for the first page");
    if (bad)
        goto done;
    uint32_t size = meso_page_size (in->page_size, 100, 500);
    PGresult *ids = store_course_ids (self->db, by_course, by_course ? in->course_id : in->patient_id,
                                      pos.n ? pos.key[0] : NULL, pos.n ? pos.key[1] : NULL);
    if (!ids) {
        meso_reply_db_error (reply, self->db, "course");
        goto done;
    }
    int n = PQntuples (ids);
    if (n == 0 && by_course) {
        meso_reply_error (reply, MESO_NOT_FOUND, "no course %s", in->course_id);
        PQclear (ids);
        goto done;
    }
    /* The clinic scope: a course of another clinic is refused; a
     * patient's courses are the ones in the caller's clinics only. */
    if (by_course && meso_call_need_clinic (reply, PQgetvalue (ids, 0, 1), "course_id") != 0) {
        PQclear (ids);
        goto done;
    }
    if (!by_course)
        meso_call_scope_filtered ();
    /* Each course through rows_reply_course, then merged: simple, and
     * a patient has a handful of courses. */
    Meso__V1__GetCourseReply out = MESO__V1__GET_COURSE_REPLY__INIT;
    Meso__V1__BookCourseReply **parts = calloc ((size_t) n + 1, sizeof *parts);
    Meso__V1__BookedCourse **courses = calloc ((size_t) n + 1, sizeof *courses);
    meso_reply_t *tmp = meso_reply_new ();
    int ok = parts && courses && tmp;
    /* The rows are only ids (a patient has a handful of courses): the
     * scope is applied here, then the page is cut, so a page holds
     * page_size courses of the caller's clinics when there are as many. */
    int *row = calloc ((size_t) n + 1, sizeof *row);
    size_t in_scope = 0;
    ok = ok && row;
    for (int i = 0; ok && i < n; i++) {
        if (!meso_call_in_clinic (PQgetvalue (ids, i, 1)))
            continue;
        if (in_scope++ >= size)
            break;
        meso_reply_reset (tmp);
        if (rows_reply_course (self->db, PQgetvalue (ids, i, 0), tmp) != 0) {
            ok = 0;
            break;
        }
        size_t len;
        uint8_t *packed = meso_reply_pack (tmp, &len);
        Meso__V1__Reply *env = packed ? meso__v1__reply__unpack (NULL, len, packed) : NULL;
        free (packed);
        if (env) {
            parts[i] = meso__v1__book_course_reply__unpack (NULL, env->body.len, env->body.data);
            meso__v1__reply__free_unpacked (env, NULL);
        }
        if (!parts[i]) {
            ok = 0;
            break;
        }
        row[out.n_courses] = i;
        if (parts[i]->course)
            meso_call_patient (parts[i]->course->patient_id, PQgetvalue (ids, i, 1));
        courses[out.n_courses++] = parts[i]->course;
    }
    char next[MESO_PAGE_TOKEN_MAX] = "";
    if (ok) {
        out.courses = courses;
        out.next_page_token = next;
        int more = by_course ? 0 : meso_handler_page_fit (reply, &out.base, &out.n_courses,
                                                           in_scope, size);
        if (more > 0) {
            int last = row[out.n_courses - 1];
            const char *k[] = { PQgetvalue (ids, last, 2), PQgetvalue (ids, last, 0) };
            if (meso_handler_page_next (reply, S_COURSES, k, 2, next) != 0)
                more = -1;
        }
        if (more >= 0)
            meso_reply_ok (reply, &out.base);
    }
    else
        meso_reply_error (reply, MESO_INTERNAL, "could not read the courses");
    free (row);
    for (int i = 0; parts && i < n; i++)
        if (parts[i])
            meso__v1__book_course_reply__free_unpacked (parts[i], NULL);
    free (parts);
    free (courses);
    meso_reply_destroy (&tmp);
    PQclear (ids);
done:
}
