/* handlers.c -- the scheduling daemon's methods ("scheduling.*"): decode,
 * validate, run one transaction, reply.
 *
 * Mutating methods other than the bookings claim their idempotency key in
 * the transaction of the effect and its event (meso/idem.h,
 * meso/outbox.h): a retry replays the reply, and an effect, its event and
 * its key commit together or not at all. A refusal rolls everything back,
 * so bad input changes nothing. BookCourse and BookSession span services
 * and run the saga of saga.c instead.
 *
 * Planning (PlanCourse, and BookCourse before it books) walks the course
 * session by session: the pure rules of planner.c say which day to aim at
 * after the previous session; the free slots of that day come from the
 * clinic's calendar, loaded in a few statements (store_calendar_*: the
 * hours, days off, rooms, each day's midnight as an instant -- PostgreSQL
 * does the zone arithmetic -- and the active appointments of the days
 * looked at) and searched in memory (planner_free_slots), instead of a
 * query per candidate day; the slot nearest the preferred time wins,
 * else the next days are tried.
 * The plan is a preview: two bookings may plan the same slot, and the
 * exclusion constraints let exactly one of them insert it. */
#include "scheduling.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events.pb-c.h"
#include "screening.pb-c.h"
#include "meso/idem.h"
#include "meso/log.h"
#include "meso/mtime.h"
#include "meso/outbox.h"

#define TEXT_MAX 200

/* ---------------------------------------------------------- validation */

static bool
s_code_ok (const char *s)
{
    size_t n = s ? strlen (s) : 0;
    if (n == 0 || n > SCHED_ID_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return false;
    }
    return true;
}

static void
s_bad (meso_reply_t *reply, int *bad, const char *code, const char *field, const char *msg)
{
    if (*bad == 0)
        meso_reply_error (reply, MESO_INVALID_ARGUMENT, "%s: %s", field, msg);
    meso_reply_reason (reply, code, field, "%s", msg);
    (*bad)++;
}

static void
s_need_id (meso_reply_t *reply, int *bad, const char *field, const char *value)
{
    if (!value || !value[0])
        s_bad (reply, bad, "missing_field", field, "required");
    else if (!s_code_ok (value))
        s_bad (reply, bad, "invalid_id", field, "must be 1..64 characters of a-z, 0-9, '_' or '-'");
}

static void
s_need_text (meso_reply_t *reply, int *bad, const char *field, const char *value)
{
    if (!value || !value[0])
        s_bad (reply, bad, "missing_field", field, "required");
    else if (strlen (value) > TEXT_MAX * 4)
        s_bad (reply, bad, "too_long", field, "at most 200 characters");
}

static void
s_check_hours (meso_reply_t *reply, int *bad, const char *prefix, Meso__V1__DayHours **hours,
               size_t n)
{
    bool seen[8] = { false };
    char field[96];
    for (size_t i = 0; i < n; i++) {
        int o, c;
        snprintf (field, sizeof field, "%s[%zu]", prefix, i);
        if (hours[i]->weekday < 1 || hours[i]->weekday > 7)
            s_bad (reply, bad, "out_of_range", field, "weekday must be 1 (Monday) .. 7 (Sunday)");
        else if (seen[hours[i]->weekday])
            s_bad (reply, bad, "duplicate", field, "one entry per weekday");
        else
            seen[hours[i]->weekday] = true;
        if (planner_parse_hhmm (hours[i]->opens, false, &o) != 0
            || planner_parse_hhmm (hours[i]->closes, true, &c) != 0)
            s_bad (reply, bad, "invalid_time", field, "opens and closes must be \"HH:MM\"");
        else if (c <= o)
            s_bad (reply, bad, "end_before_start", field, "closes must be after opens");
    }
}

/* ------------------------------------------------- the mutating frame */

/* Every mutating method runs through meso_idem_run (idem.h). */
typedef meso_idem_job_t s_job_t;

static void
s_run (scheduling_t *self, const Meso__V1__Request *req, meso_reply_t *reply, void *in,
       meso_idem_effect_fn *effect)
{
    meso_idem_run (self->db, SCHED_SCHEMA, req, reply, in, effect, self);
}

/* ----------------------------------------------------- session rows */

size_t
handlers_split (char *text, char **out, size_t max)
{
    size_t n = 0;
    if (!text || !text[0])
        return 0;
    char *save = NULL;
    for (char *t = strtok_r (text, ",", &save); t && n < max; t = strtok_r (NULL, ",", &save))
        out[n++] = t;
    return n;
}

void
handlers_session_from_row (const PGresult *res, int i, Meso__V1__Session *s, char **areas)
{
    meso__v1__session__init (s);
    s->appointment_id = PQgetvalue (res, i, SC_APPT);
    s->course_id = PQgetvalue (res, i, SC_COURSE);
    s->patient_id = PQgetvalue (res, i, SC_PATIENT);
    s->clinic_id = PQgetvalue (res, i, SC_CLINIC);
    s->practitioner_id = PQgetvalue (res, i, SC_PRACT);
    s->room_id = PQgetvalue (res, i, SC_ROOM);
    s->starts_at_us = strtoll (PQgetvalue (res, i, SC_START), NULL, 10);
    s->ends_at_us = strtoll (PQgetvalue (res, i, SC_END), NULL, 10);
    s->local_start = PQgetvalue (res, i, SC_LOCAL);
    s->time_zone = PQgetvalue (res, i, SC_TZ);
    s->session_number = (uint32_t) atoi (PQgetvalue (res, i, SC_NUMBER));
    s->maintenance = strcmp (PQgetvalue (res, i, SC_MAINT), "t") == 0;
    s->status = PQgetvalue (res, i, SC_STATUS);
    s->improvement_score = atoi (PQgetvalue (res, i, SC_SCORE));
    /* PQgetvalue's storage is the result's own: splitting it in place is
     * how the areas become strings without a copy. */
    s->n_areas = handlers_split (PQgetvalue (res, i, SC_AREAS), areas, SCHED_MAX_AREAS);
    s->areas = areas;
}

void
handlers_info_from_row (const PGresult *res, int i, Meso__V1__SessionInfo *s, char **areas)
{
    meso__v1__session_info__init (s);
    s->appointment_id = PQgetvalue (res, i, SC_APPT);
    s->course_id = PQgetvalue (res, i, SC_COURSE);
    s->patient_id = PQgetvalue (res, i, SC_PATIENT);
    s->clinic_id = PQgetvalue (res, i, SC_CLINIC);
    s->practitioner_id = PQgetvalue (res, i, SC_PRACT);
    s->room_id = PQgetvalue (res, i, SC_ROOM);
    s->starts_at_us = strtoll (PQgetvalue (res, i, SC_START), NULL, 10);
    s->ends_at_us = strtoll (PQgetvalue (res, i, SC_END), NULL, 10);
    s->local_start = PQgetvalue (res, i, SC_LOCAL);
    s->time_zone = PQgetvalue (res, i, SC_TZ);
    s->session_number = (uint32_t) atoi (PQgetvalue (res, i, SC_NUMBER));
    s->course_sessions = (uint32_t) atoi (PQgetvalue (res, i, SC_COURSE_SESSIONS));
    s->recipe_id = PQgetvalue (res, i, SC_RECIPE);
    s->recipe_version = (uint32_t) atoi (PQgetvalue (res, i, SC_RECIPE_VERSION));
    s->maintenance = strcmp (PQgetvalue (res, i, SC_MAINT), "t") == 0;
    char *text = PQgetvalue (res, i, SC_AREAS);
    /* The same row may be read twice (Session and SessionInfo): split a
     * copy kept in areas[SCHED_MAX_AREAS - 1]'s place is not possible, so
     * callers use a fresh result per use. */
    s->n_areas = handlers_split (text, areas, SCHED_MAX_AREAS);
    s->areas = areas;
}

/* Fills one BookedCourse (course columns + its session rows) and packs the
 * reply. */
int
handlers_reply_course (meso_db_t *db, const char *course_id, meso_reply_t *reply)
{
    const char *p[] = { course_id };
    PGresult *c = meso_db_query (db, "SELECT course_id, clinic_id, patient_id, grade,"
                                 " array_to_string(areas, ','), recipe_id, recipe_version, status,"
                                 " non_responder FROM scheduling.course WHERE course_id = $1", 1, p);
    if (!c) {
        meso_reply_db_error (reply, db, "course");
        return -1;
    }
    if (PQntuples (c) != 1) {
        PQclear (c);
        meso_reply_error (reply, MESO_NOT_FOUND, "no course %s", course_id);
        return -1;
    }
    PGresult *s = store_course_sessions (db, course_id);
    if (!s) {
        PQclear (c);
        meso_reply_db_error (reply, db, "course sessions");
        return -1;
    }
    int n = PQntuples (s);
    Meso__V1__Session *sessions = calloc ((size_t) n + 1, sizeof *sessions);
    Meso__V1__Session **ptrs = calloc ((size_t) n + 1, sizeof *ptrs);
    char **areas = calloc ((size_t) (n + 1) * SCHED_MAX_AREAS, sizeof *areas);
    char *careas[SCHED_MAX_AREAS];
    int rc = -1;
    if (sessions && ptrs && areas) {
        Meso__V1__BookedCourse bc = MESO__V1__BOOKED_COURSE__INIT;
        bc.course_id = PQgetvalue (c, 0, 0);
        bc.clinic_id = PQgetvalue (c, 0, 1);
        bc.patient_id = PQgetvalue (c, 0, 2);
        bc.grade = atoi (PQgetvalue (c, 0, 3));
        bc.n_areas = handlers_split (PQgetvalue (c, 0, 4), careas, SCHED_MAX_AREAS);
        bc.areas = careas;
        bc.recipe_id = PQgetvalue (c, 0, 5);
        bc.recipe_version = (uint32_t) atoi (PQgetvalue (c, 0, 6));
        bc.status = PQgetvalue (c, 0, 7);
        bc.non_responder = strcmp (PQgetvalue (c, 0, 8), "t") == 0;
        for (int i = 0; i < n; i++) {
            handlers_session_from_row (s, i, &sessions[i], areas + (size_t) i * SCHED_MAX_AREAS);
            ptrs[i] = &sessions[i];
        }
        bc.sessions = ptrs;
        bc.n_sessions = (size_t) n;
        Meso__V1__BookCourseReply out = MESO__V1__BOOK_COURSE_REPLY__INIT;
        out.course = &bc;
        meso_reply_ok (reply, &out.base);
        rc = 0;
    }
    else
        meso_reply_error (reply, MESO_RESOURCE_EXHAUSTED, "out of memory");
    free (sessions);
    free (ptrs);
    free (areas);
    PQclear (s);
    PQclear (c);
    return rc;
}

/* ------------------------------------------------------- reference data */

static int
s_clinic_effect (meso_db_t *db, s_job_t *job)
{
    Meso__V1__Clinic *c = job->in;
    int known = store_zone_known (db, c->time_zone);
    if (known < 0)
        return -1;
    if (!known) {
        meso_reply_error (job->reply, MESO_INVALID_ARGUMENT, "unknown time zone \"%s\"", c->time_zone);
        meso_reply_reason (job->reply, "unknown_time_zone", "clinic.time_zone",
                           "use an IANA zone name such as Europe/Paris");
        return -1;
    }
    int created = store_clinic_upsert (db, c);
    if (created < 0)
        return -1;
    Meso__V1__CourseSettings cs = MESO__V1__COURSE_SETTINGS__INIT;
    store_clinic_t st;
    if (store_clinic_get (db, c->clinic_id, &st) != 1)
        return -1;
    cs.spacing_min_days = (uint32_t) st.course.spacing_min_days;
    cs.taper_max_days = (uint32_t) st.course.taper_max_days;
    cs.maintenance_sessions = (uint32_t) st.course.maintenance_sessions;
    cs.cancel_notice_hours = (uint32_t) st.cancel_notice_hours;
    Meso__V1__Clinic out = *c;
    out.slot_minutes = (uint32_t) st.slot_minutes;
    out.course = &cs;
    Meso__V1__UpsertClinicReply rep = MESO__V1__UPSERT_CLINIC_REPLY__INIT;
    rep.clinic = &out;
    rep.created = created == 1;
    meso_reply_ok (job->reply, &rep.base);
    return 0;
}

static void
s_upsert_clinic (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    Meso__V1__UpsertClinicRequest *in = body;
    int bad = 0;
    Meso__V1__Clinic *c = in->clinic;
    if (!c)
        s_bad (reply, &bad, "missing_field", "clinic", "required");
    else {
        s_need_id (reply, &bad, "clinic.clinic_id", c->clinic_id);
        s_need_text (reply, &bad, "clinic.name", c->name);
        s_need_text (reply, &bad, "clinic.time_zone", c->time_zone);
        if (c->slot_minutes && (c->slot_minutes < 15 || c->slot_minutes > 240))
            s_bad (reply, &bad, "out_of_range", "clinic.slot_minutes", "15..240 minutes (0 = 60)");
        s_check_hours (reply, &bad, "clinic.hours", c->hours, c->n_hours);
        if (c->course) {
            if (c->course->spacing_min_days && (c->course->spacing_min_days < 7 || c->course->spacing_min_days > 60))
                s_bad (reply, &bad, "out_of_range", "clinic.course.spacing_min_days",
                       "at least 7 days (bruising lasts 7-10 days), at most 60");
            if (c->course->taper_max_days && (c->course->taper_max_days < 14 || c->course->taper_max_days > 31))
                s_bad (reply, &bad, "out_of_range", "clinic.course.taper_max_days", "14..31 days");
            if (c->course->maintenance_sessions > PLANNER_MAX_MAINTENANCE)
                s_bad (reply, &bad, "out_of_range", "clinic.course.maintenance_sessions", "0..24");
            if (c->course->cancel_notice_hours > 168)
                s_bad (reply, &bad, "out_of_range", "clinic.course.cancel_notice_hours", "0..168");
        }
    }
    if (!bad)
        s_run (arg, req, reply, c, s_clinic_effect);
}

static int
s_practitioner_effect (meso_db_t *db, s_job_t *job)
{
    Meso__V1__Practitioner *p = job->in;
    for (size_t i = 0; i < p->n_clinics; i++) {
        store_clinic_t c;
        int found = store_clinic_get (db, p->clinics[i]->clinic_id, &c);
        if (found < 0)
            return -1;
        if (!found) {
            meso_reply_error (job->reply, MESO_NOT_FOUND, "no clinic %s", p->clinics[i]->clinic_id);
            meso_reply_reason (job->reply, "unknown_clinic", "practitioner.clinics", "create the clinic first");
            return -1;
        }
    }
    int created = store_practitioner_upsert (db, p);
    if (created < 0)
        return -1;
    Meso__V1__UpsertPractitionerReply rep = MESO__V1__UPSERT_PRACTITIONER_REPLY__INIT;
    rep.practitioner = p;
    rep.created = created == 1;
    meso_reply_ok (job->reply, &rep.base);
    return 0;
}

static void
s_upsert_practitioner (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    Meso__V1__UpsertPractitionerRequest *in = body;
    int bad = 0;
    Meso__V1__Practitioner *p = in->practitioner;
    if (!p)
        s_bad (reply, &bad, "missing_field", "practitioner", "required");
    else {
        s_need_id (reply, &bad, "practitioner.practitioner_id", p->practitioner_id);
        s_need_text (reply, &bad, "practitioner.name", p->name);
        if (p->n_clinics == 0)
            s_bad (reply, &bad, "missing_field", "practitioner.clinics", "at least one clinic");
        for (size_t i = 0; i < p->n_clinics; i++) {
            char f[64];
            snprintf (f, sizeof f, "practitioner.clinics[%zu].clinic_id", i);
            s_need_id (reply, &bad, f, p->clinics[i]->clinic_id);
            snprintf (f, sizeof f, "practitioner.clinics[%zu].hours", i);
            s_check_hours (reply, &bad, f, p->clinics[i]->hours, p->clinics[i]->n_hours);
        }
        for (size_t i = 0; i < p->n_days_off; i++) {
            int32_t d;
            if (meso_date_parse (p->days_off[i], &d) != 0)
                s_bad (reply, &bad, "invalid_date", "practitioner.days_off", "dates are \"YYYY-MM-DD\"");
        }
    }
    if (!bad)
        s_run (arg, req, reply, p, s_practitioner_effect);
}

static int
s_room_effect (meso_db_t *db, s_job_t *job)
{
    Meso__V1__Room *r = job->in;
    store_clinic_t c;
    int found = store_clinic_get (db, r->clinic_id, &c);
    if (found <= 0) {
        if (found == 0) {
            meso_reply_error (job->reply, MESO_NOT_FOUND, "no clinic %s", r->clinic_id);
            meso_reply_reason (job->reply, "unknown_clinic", "room.clinic_id", "create the clinic first");
        }
        return -1;
    }
    int created = store_room_upsert (db, r);
    if (created < 0)
        return -1;
    Meso__V1__UpsertRoomReply rep = MESO__V1__UPSERT_ROOM_REPLY__INIT;
    rep.room = r;
    rep.created = created == 1;
    meso_reply_ok (job->reply, &rep.base);
    return 0;
}

static void
s_upsert_room (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    Meso__V1__UpsertRoomRequest *in = body;
    int bad = 0;
    if (!in->room)
        s_bad (reply, &bad, "missing_field", "room", "required");
    else {
        s_need_id (reply, &bad, "room.clinic_id", in->room->clinic_id);
        s_need_id (reply, &bad, "room.room_id", in->room->room_id);
    }
    if (!bad)
        s_run (arg, req, reply, in->room, s_room_effect);
}

/* ------------------------------------------------------------ planning */

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
        s_bad (reply, &bad, "missing_field", "spec", "required");
        return -1;
    }
    s_need_id (reply, &bad, "spec.clinic_id", sp->clinic_id);
    if (!sp->patient_id || !sp->patient_id[0] || strlen (sp->patient_id) > SCHED_ID_MAX)
        s_bad (reply, &bad, "missing_field", "spec.patient_id", "required (at most 64 bytes)");
    if (sp->grade < 1 || sp->grade > 3)
        s_bad (reply, &bad, "out_of_range", "spec.grade", "cellulite grade must be 1, 2 or 3");
    if (sp->n_areas == 0)
        s_bad (reply, &bad, "missing_field", "spec.areas", "at least one treatment area");
    if (sp->n_areas > SCHED_MAX_AREAS)
        s_bad (reply, &bad, "out_of_range", "spec.areas", "at most 16 areas");
    for (size_t i = 0; i < sp->n_areas; i++)
        if (!s_code_ok (sp->areas[i]))
            s_bad (reply, &bad, "invalid_area", "spec.areas", "area codes are a-z and '_'");
    int32_t first;
    if (meso_date_parse (sp->first_date, &first) != 0)
        s_bad (reply, &bad, "invalid_date", "spec.first_date", "required, \"YYYY-MM-DD\"");
    int pref;
    if (sp->preferred_time && sp->preferred_time[0]
        && planner_parse_hhmm (sp->preferred_time, false, &pref) != 0)
        s_bad (reply, &bad, "invalid_time", "spec.preferred_time", "\"HH:MM\"");
    if (sp->sessions > PLANNER_MAX_COURSE)
        s_bad (reply, &bad, "out_of_range", "spec.sessions", "at most 40 sessions (0 = from the grade)");
    if (sp->maintenance_sessions > PLANNER_MAX_MAINTENANCE)
        s_bad (reply, &bad, "out_of_range", "spec.maintenance_sessions", "at most 24");
    if (sp->practitioner_id && sp->practitioner_id[0] && !s_code_ok (sp->practitioner_id))
        s_bad (reply, &bad, "invalid_id", "spec.practitioner_id", "a practitioner id");
    if (booking)
        s_need_id (reply, &bad, "spec.recipe_id", sp->recipe_id);
    if (bad)
        return -1;
    int found = store_clinic_get (self->db, sp->clinic_id, clinic);
    if (found < 0) {
        meso_reply_db_error (reply, self->db, "clinic");
        return -1;
    }
    if (!found) {
        meso_reply_error (reply, MESO_NOT_FOUND, "no clinic %s", sp->clinic_id);
        meso_reply_reason (reply, "unknown_clinic", "spec.clinic_id", "no clinic has this id");
        return -1;
    }
    if (first < clinic->today) {
        meso_reply_error (reply, MESO_INVALID_ARGUMENT, "spec.first_date %s is in the past", sp->first_date);
        meso_reply_reason (reply, "in_the_past", "spec.first_date", "plan from today on (clinic local date)");
        return -1;
    }
    return 0;
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
        s_planned_t *out, meso_reply_t *reply)
{
    int ncourse = planner_course_sessions (sp->grade, sp->mild, sp->sessions);
    int nmaint = (int) (sp->maintenance_sessions ? sp->maintenance_sessions
                                                 : (uint32_t) clinic->course.maintenance_sessions);
    if (sp->grade == 1)
        nmaint = (int) sp->maintenance_sessions;   /* grade 1 is one yearly treatment */
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
    int32_t prev = 0, first;
    meso_date_parse (sp->first_date, &first);
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
            int best = -1, bestdist = 0;
            for (int k = 0; k < nfree; k++) {
                int dist = abs (fr[k].minute - preferred);
                if (best < 0 || dist < bestdist) {
                    best = k;
                    bestdist = dist;
                }
            }
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

static void
s_plan_course (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    scheduling_t *self = arg;
    Meso__V1__PlanCourseRequest *in = body;
    store_clinic_t clinic;
    s_planned_t *plan = calloc (PLANNER_MAX_SESSIONS, sizeof *plan);
    Meso__V1__PlannedSession *ps = calloc (PLANNER_MAX_SESSIONS, sizeof *ps);
    Meso__V1__PlannedSession **pp = calloc (PLANNER_MAX_SESSIONS, sizeof *pp);
    char **conf = calloc (PLANNER_MAX_SESSIONS * 2, sizeof *conf);
    if (!plan || !ps || !pp || !conf)
        meso_reply_error (reply, MESO_RESOURCE_EXHAUSTED, "out of memory");
    else if (s_spec_check (self, in->spec, false, &clinic, reply) == 0) {
        int n = s_plan (self, &clinic, in->spec, plan, reply);
        if (n >= 0) {
            Meso__V1__PlanCourseReply out = MESO__V1__PLAN_COURSE_REPLY__INIT;
            out.clinic_id = clinic.clinic_id;
            out.time_zone = clinic.time_zone;
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
}

/* ------------------------------------------------------------- booking */

static void
s_book_course (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    scheduling_t *self = arg;
    Meso__V1__BookCourseRequest *in = body;
    sched_booking_t b;
    memset (&b, 0, sizeof b);
    s_planned_t *plan = calloc (PLANNER_MAX_SESSIONS, sizeof *plan);
    sched_slot_t *slots = calloc (PLANNER_MAX_SESSIONS, sizeof *slots);
    if (!plan || !slots)
        meso_reply_error (reply, MESO_RESOURCE_EXHAUSTED, "out of memory");
    else if (s_spec_check (self, in->spec, true, &b.clinic, reply) == 0) {
        int n = s_plan (self, &b.clinic, in->spec, plan, reply);
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
        if (n > 0 && !unplaced) {
            for (int i = 0; i < n; i++)
                slots[i] = plan[i].slot;
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
}

static void
s_book_session (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    scheduling_t *self = arg;
    Meso__V1__BookSessionRequest *in = body;
    int bad = 0;
    s_need_id (reply, &bad, "clinic_id", in->clinic_id);
    if (!in->patient_id || !in->patient_id[0] || strlen (in->patient_id) > SCHED_ID_MAX)
        s_bad (reply, &bad, "missing_field", "patient_id", "required (at most 64 bytes)");
    s_need_id (reply, &bad, "practitioner_id", in->practitioner_id);
    s_need_id (reply, &bad, "room_id", in->room_id);
    s_need_id (reply, &bad, "recipe_id", in->recipe_id);
    int32_t day;
    int minute;
    if (planner_parse_local (in->local_start, &day, &minute) != 0)
        s_bad (reply, &bad, "invalid_time", "local_start", "required, \"YYYY-MM-DDTHH:MM\" (clinic local time)");
    if (in->duration_minutes > 480)
        s_bad (reply, &bad, "out_of_range", "duration_minutes", "at most 480 (0 = the clinic's slot)");
    if (in->n_areas == 0 || in->n_areas > SCHED_MAX_AREAS)
        s_bad (reply, &bad, "missing_field", "areas", "1..16 treatment areas");
    for (size_t i = 0; i < in->n_areas; i++)
        if (!s_code_ok (in->areas[i]))
            s_bad (reply, &bad, "invalid_area", "areas", "area codes are a-z and '_'");
    sched_booking_t b;
    memset (&b, 0, sizeof b);
    sched_slot_t slot;
    memset (&slot, 0, sizeof slot);
    if (bad)
        goto done;
    int found = store_clinic_get (self->db, in->clinic_id, &b.clinic);
    if (found <= 0) {
        if (found < 0)
            meso_reply_db_error (reply, self->db, "clinic");
        else {
            meso_reply_error (reply, MESO_NOT_FOUND, "no clinic %s", in->clinic_id);
            meso_reply_reason (reply, "unknown_clinic", "clinic_id", "no clinic has this id");
        }
        goto done;
    }
    if (day < b.clinic.today) {
        meso_reply_error (reply, MESO_INVALID_ARGUMENT, "local_start %s is in the past", in->local_start);
        meso_reply_reason (reply, "in_the_past", "local_start", "book from today on");
        goto done;
    }
    int minutes = in->duration_minutes ? (int) in->duration_minutes : b.clinic.slot_minutes;
    char why[256];
    int rc = store_slot_check (self->db, &b.clinic, in->practitioner_id, in->room_id, in->local_start,
                               minutes, &slot.starts_us, &slot.ends_us, why, sizeof why);
    if (rc < 0) {
        meso_reply_db_error (reply, self->db, "slot");
        goto done;
    }
    if (rc > 0) {
        bool hours = strstr (why, "opening hours") || strstr (why, "does not work") || strstr (why, "is off");
        meso_reply_error (reply, hours ? MESO_INVALID_ARGUMENT : MESO_NOT_FOUND, "%s", why);
        meso_reply_reason (reply, hours ? "outside_hours" : "not_found",
                           hours ? "local_start" : (strstr (why, "room") ? "room_id" : "practitioner_id"),
                           "%s", why);
        goto done;
    }
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

/* ---------------------------------------------------- session changes */

/* Loads and locks the session of job->in's appointment into *res;
 * checks its status is one of allowed ("booked", ...). 0 or -1 (reply
 * set). */
static int
s_session_load (meso_db_t *db, meso_reply_t *reply, const char *appointment_id,
                const char *const *allowed, PGresult **res)
{
    *res = store_session_get (db, appointment_id, true);
    if (!*res) {
        meso_reply_db_error (reply, db, "session");
        return -1;
    }
    if (PQntuples (*res) != 1) {
        meso_reply_error (reply, MESO_NOT_FOUND, "no appointment %s", appointment_id);
        meso_reply_reason (reply, "unknown_appointment", "appointment_id", "no session has this id");
        PQclear (*res);
        *res = NULL;
        return -1;
    }
    const char *st = PQgetvalue (*res, 0, SC_STATUS);
    for (const char *const *a = allowed; *a; a++)
        if (strcmp (st, *a) == 0)
            return 0;
    meso_reply_error (reply, MESO_FAILED_PRECONDITION, "appointment %s is %s", appointment_id, st);
    meso_reply_reason (reply, "wrong_status", "appointment_id", "this change needs a session that is %s",
                       allowed[0]);
    PQclear (*res);
    *res = NULL;
    return -1;
}

/* Sets the status (and extra columns by a fixed statement) of an
 * appointment. */
static int
s_set (meso_db_t *db, const char *sql, int n, const char *const *params)
{
    return meso_db_exec (db, sql, n, params);
}

/* Appends one session event built by fill from the fresh row. */
typedef void (s_fill_fn) (Meso__V1__Event *ev, Meso__V1__SessionInfo *info, void *ctx);

static int
s_emit (meso_db_t *db, const char *appointment_id, s_fill_fn *fill, void *ctx)
{
    PGresult *res = store_session_get (db, appointment_id, false);
    if (!res)
        return -1;
    Meso__V1__SessionInfo info;
    char *areas[SCHED_MAX_AREAS];
    handlers_info_from_row (res, 0, &info, areas);
    Meso__V1__Event ev = MESO__V1__EVENT__INIT;
    ev.clinic_id = info.clinic_id;
    fill (&ev, &info, ctx);
    int rc = meso_outbox_append (db, &ev);
    PQclear (res);
    return rc;
}

/* Replies with the session as it is now. */
static int
s_reply_session (meso_db_t *db, meso_reply_t *reply, const char *appointment_id, bool non_responder,
                 int64_t notice, bool late)
{
    PGresult *res = store_session_get (db, appointment_id, false);
    if (!res)
        return -1;
    Meso__V1__Session s;
    char *areas[SCHED_MAX_AREAS];
    handlers_session_from_row (res, 0, &s, areas);
    Meso__V1__SessionReply out = MESO__V1__SESSION_REPLY__INIT;
    out.session = &s;
    out.non_responder = non_responder;
    out.notice_hours = notice;
    out.late = late;
    meso_reply_ok (reply, &out.base);
    PQclear (res);
    return 0;
}

/* -- Reschedule */

typedef struct {
    Meso__V1__RescheduleRequest *in;
    int64_t prev_start, prev_end;
    char prev_pract[SCHED_ID_MAX + 1], prev_room[SCHED_ID_MAX + 1];
    char clinic_id[SCHED_ID_MAX + 1];
    char prev_date[11];                 /* the session's local date before */
    bool redate_sent;                   /* inventory may have moved the reservation */
} s_resched_t;

static void
s_fill_rescheduled (Meso__V1__Event *ev, Meso__V1__SessionInfo *info, void *ctx)
{
    s_resched_t *r = ctx;
    static Meso__V1__SessionRescheduled x;
    meso__v1__session_rescheduled__init (&x);
    x.session = info;
    x.previous_starts_at_us = r->prev_start;
    x.previous_ends_at_us = r->prev_end;
    x.previous_practitioner_id = r->prev_pract;
    x.previous_room_id = r->prev_room;
    ev->type = "session.rescheduled";
    ev->payload_case = MESO__V1__EVENT__PAYLOAD_SESSION_RESCHEDULED;
    ev->session_rescheduled = &x;
}

static int
s_reschedule_effect (meso_db_t *db, s_job_t *job)
{
    s_resched_t *r = job->in;
    Meso__V1__RescheduleRequest *in = r->in;
    static const char *const allowed[] = { "booked", NULL };
    PGresult *res;
    if (s_session_load (db, job->reply, in->appointment_id, allowed, &res) != 0)
        return -1;
    store_clinic_t clinic;
    int rc = -1;
    if (store_clinic_get (db, PQgetvalue (res, 0, SC_CLINIC), &clinic) != 1)
        goto done;
    r->prev_start = strtoll (PQgetvalue (res, 0, SC_START), NULL, 10);
    r->prev_end = strtoll (PQgetvalue (res, 0, SC_END), NULL, 10);
    snprintf (r->prev_pract, sizeof r->prev_pract, "%s", PQgetvalue (res, 0, SC_PRACT));
    snprintf (r->prev_room, sizeof r->prev_room, "%s", PQgetvalue (res, 0, SC_ROOM));
    const char *pract = in->practitioner_id && in->practitioner_id[0] ? in->practitioner_id : r->prev_pract;
    const char *room = in->room_id && in->room_id[0] ? in->room_id : r->prev_room;
    int minutes = (int) ((r->prev_end - r->prev_start) / 60000000);
    int64_t st, en;
    char why[256];
    int chk = store_slot_check (db, &clinic, pract, room, in->local_start, minutes, &st, &en, why, sizeof why);
    if (chk != 0) {
        if (chk > 0) {
            meso_reply_error (job->reply, MESO_INVALID_ARGUMENT, "%s", why);
            meso_reply_reason (job->reply, "slot_invalid", "local_start", "%s", why);
        }
        goto done;
    }
    /* The neighbours of the same course keep the minimum spacing. */
    const char *np[] = { PQgetvalue (res, 0, SC_COURSE), PQgetvalue (res, 0, SC_NUMBER), clinic.time_zone };
    PGresult *nb = meso_db_query (db,
        "SELECT to_char(max(lower(during) AT TIME ZONE $3) FILTER (WHERE session_number < $2::int), 'YYYY-MM-DD'),"
        "       to_char(min(lower(during) AT TIME ZONE $3) FILTER (WHERE session_number > $2::int), 'YYYY-MM-DD')"
        " FROM scheduling.appointment WHERE course_id = $1"
        "  AND status IN ('booked', 'started', 'completed')", 3, np);
    if (!nb)
        goto done;
    int32_t prev = INT32_MIN, next = INT32_MAX, day;
    int minute;
    if (!PQgetisnull (nb, 0, 0))
        meso_date_parse (PQgetvalue (nb, 0, 0), &prev);
    if (!PQgetisnull (nb, 0, 1))
        meso_date_parse (PQgetvalue (nb, 0, 1), &next);
    PQclear (nb);
    planner_parse_local (in->local_start, &day, &minute);
    if (!planner_spacing_ok (prev, day, next, clinic.course.spacing_min_days)) {
        char pd[11] = "-", nd[11] = "-";
        if (prev != INT32_MIN)
            meso_date_format (prev, pd, sizeof pd);
        if (next != INT32_MAX)
            meso_date_format (next, nd, sizeof nd);
        meso_reply_error (job->reply, MESO_FAILED_PRECONDITION,
                          "%s is less than %d days from a neighbouring session", in->local_start,
                          clinic.course.spacing_min_days);
        meso_reply_detail (job->reply, "previous session %s, next session %s", pd, nd);
        meso_reply_reason (job->reply, "spacing", "local_start", "sessions of a course are at least %d days apart",
                           clinic.course.spacing_min_days);
        goto done;
    }
    char sts[32], ens[32];
    snprintf (sts, sizeof sts, "%" PRId64, st);
    snprintf (ens, sizeof ens, "%" PRId64, en);
    const char *up[] = { in->appointment_id, pract, room, sts, ens };
    if (s_set (db, "UPDATE scheduling.appointment SET practitioner_id = $2, room_id = $3,"
               " during = tstzrange('epoch'::timestamptz + $4::bigint * interval '1 microsecond',"
               "   'epoch'::timestamptz + $5::bigint * interval '1 microsecond', '[)'), updated_at = now()"
               " WHERE appointment_id = $1", 5, up) != 0) {
        if (strcmp (meso_db_error (db)->sqlstate, "23P01") == 0) {
            meso_reply_error (job->reply, MESO_ALREADY_EXISTS, "%s is already taken", in->local_start);
            meso_reply_detail (job->reply, "%s", meso_db_error (db)->detail);
            meso_reply_reason (job->reply, "slot_taken", "local_start",
                               "the practitioner, the room or the patient is booked then");
        }
        goto done;
    }
    /* The stock follows the session: inventory moves the reservation to
     * the new date, swapping lots that would have expired by then, or
     * refuses (not enough stock usable on that day) and this transaction
     * rolls the move back. It is asked while the appointment row is
     * locked and before anything commits; s_reschedule puts the
     * reservation back if this transaction then fails. A move within the
     * same local day leaves the reservation as it is. */
    char new_date[11];
    meso_date_format (day, new_date, sizeof new_date);
    snprintf (r->clinic_id, sizeof r->clinic_id, "%s", clinic.clinic_id);
    snprintf (r->prev_date, sizeof r->prev_date, "%s", PQgetvalue (res, 0, SC_LOCAL_DATE));
    if (strcmp (new_date, r->prev_date) != 0) {
        int moved = saga_redate (job->arg, clinic.clinic_id, in->appointment_id, new_date,
                                 "session rescheduled", job->reply);
        if (moved <= 0)
            r->redate_sent = true;
        if (moved != 0)
            goto done;
    }
    if (s_emit (db, in->appointment_id, s_fill_rescheduled, r) != 0)
        goto done;
    rc = s_reply_session (db, job->reply, in->appointment_id, false, 0, false);
done:
    PQclear (res);
    return rc;
}

static void
s_reschedule (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    Meso__V1__RescheduleRequest *in = body;
    int bad = 0;
    int32_t d;
    int m;
    if (!in->appointment_id || !in->appointment_id[0])
        s_bad (reply, &bad, "missing_field", "appointment_id", "required");
    if (planner_parse_local (in->local_start, &d, &m) != 0)
        s_bad (reply, &bad, "invalid_time", "local_start", "required, \"YYYY-MM-DDTHH:MM\"");
    if (in->practitioner_id && in->practitioner_id[0] && !s_code_ok (in->practitioner_id))
        s_bad (reply, &bad, "invalid_id", "practitioner_id", "a practitioner id");
    if (in->room_id && in->room_id[0] && !s_code_ok (in->room_id))
        s_bad (reply, &bad, "invalid_id", "room_id", "a room id");
    s_resched_t r = { in, 0, 0, "", "", "", "", false };
    if (!bad)
        s_run (arg, req, reply, &r, s_reschedule_effect);
    if (r.redate_sent && meso_reply_status (reply) != MESO_OK) {
        /* The move did not commit, but inventory may have moved the
         * reservation: put it back on the session's date. Going back
         * never needs other lots (a lot usable on the later of two days
         * is usable on the earlier one, and a move to an earlier day
         * swaps nothing), so only an unreachable inventory can fail it. */
        meso_reply_t *undo = meso_reply_new ();
        if (!undo || saga_redate (arg, r.clinic_id, in->appointment_id, r.prev_date,
                                  "reschedule undone", undo) != 0)
            meso_error ("reservation of appointment %s may be left dated away from %s",
                        in->appointment_id, r.prev_date);
        meso_reply_destroy (&undo);
    }
}

/* -- Cancel */

typedef struct {
    Meso__V1__CancelRequest *in;
    int64_t notice;
    bool late;
} s_cancel_t;

static void
s_fill_cancelled (Meso__V1__Event *ev, Meso__V1__SessionInfo *info, void *ctx)
{
    s_cancel_t *c = ctx;
    static Meso__V1__SessionCancelled x;
    meso__v1__session_cancelled__init (&x);
    x.session = info;
    x.by = c->in->by;
    x.reason = c->in->reason ? c->in->reason : "";
    x.notice_hours = c->notice;
    x.late = c->late;
    ev->type = "session.cancelled";
    ev->payload_case = MESO__V1__EVENT__PAYLOAD_SESSION_CANCELLED;
    ev->session_cancelled = &x;
}

static int
s_cancel_effect (meso_db_t *db, s_job_t *job)
{
    s_cancel_t *c = job->in;
    static const char *const allowed[] = { "booked", NULL };
    PGresult *res;
    if (s_session_load (db, job->reply, c->in->appointment_id, allowed, &res) != 0)
        return -1;
    c->notice = strtoll (PQgetvalue (res, 0, SC_NOTICE_H), NULL, 10);
    c->late = planner_cancel_late (c->notice, atoi (PQgetvalue (res, 0, SC_POLICY_H)));
    PQclear (res);
    const char *p[] = { c->in->appointment_id,
                        c->in->by == MESO__V1__SESSION_CANCELLED__BY__BY_PATIENT ? "patient" : "clinic",
                        c->in->reason ? c->in->reason : "" };
    if (s_set (db, "UPDATE scheduling.appointment SET status = 'cancelled', cancelled_at = now(),"
               " cancelled_by = $2, cancel_reason = $3, updated_at = now() WHERE appointment_id = $1", 3, p) != 0
        || s_emit (db, c->in->appointment_id, s_fill_cancelled, c) != 0)
        return -1;
    return s_reply_session (db, job->reply, c->in->appointment_id, false, c->notice, c->late);
}

static void
s_cancel (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    Meso__V1__CancelRequest *in = body;
    int bad = 0;
    if (!in->appointment_id || !in->appointment_id[0])
        s_bad (reply, &bad, "missing_field", "appointment_id", "required");
    if (in->by != MESO__V1__SESSION_CANCELLED__BY__BY_PATIENT && in->by != MESO__V1__SESSION_CANCELLED__BY__BY_CLINIC)
        s_bad (reply, &bad, "out_of_range", "by", "BY_PATIENT or BY_CLINIC");
    if (in->reason && strlen (in->reason) > 1000)
        s_bad (reply, &bad, "too_long", "reason", "at most 1000 bytes");
    s_cancel_t c = { in, 0, false };
    if (!bad)
        s_run (arg, req, reply, &c, s_cancel_effect);
}

/* -- MarkNoShow */

static void
s_fill_no_show (Meso__V1__Event *ev, Meso__V1__SessionInfo *info, void *ctx)
{
    static Meso__V1__SessionNoShow x;
    meso__v1__session_no_show__init (&x);
    x.session = info;
    ev->type = "session.no_show";
    ev->payload_case = MESO__V1__EVENT__PAYLOAD_SESSION_NO_SHOW;
    ev->session_no_show = &x;
}

/* A booked session moves to another status with one UPDATE and one event:
 * MarkNoShow and StartSession differ only in the statement and the event. */
static int
s_from_booked (meso_db_t *db, s_job_t *job, const char *update_sql,
               s_fill_fn *fill)
{
    Meso__V1__SessionRef *in = job->in;
    static const char *const allowed[] = { "booked", NULL };
    PGresult *res;
    if (s_session_load (db, job->reply, in->appointment_id, allowed, &res) != 0)
        return -1;
    PQclear (res);
    const char *p[] = { in->appointment_id };
    if (s_set (db, update_sql, 1, p) != 0
        || s_emit (db, in->appointment_id, fill, NULL) != 0)
        return -1;
    return s_reply_session (db, job->reply, in->appointment_id, false, 0, false);
}

static int
s_no_show_effect (meso_db_t *db, s_job_t *job)
{
    return s_from_booked (db, job,
        "UPDATE scheduling.appointment SET status = 'no_show', updated_at = now()"
        " WHERE appointment_id = $1", s_fill_no_show);
}

/* -- StartSession */

static void
s_fill_started (Meso__V1__Event *ev, Meso__V1__SessionInfo *info, void *ctx)
{
    static Meso__V1__SessionStarted x;
    meso__v1__session_started__init (&x);
    x.session = info;
    x.started_at_us = meso_time_now_us ();
    ev->type = "session.started";
    ev->payload_case = MESO__V1__EVENT__PAYLOAD_SESSION_STARTED;
    ev->session_started = &x;
}

static int
s_start_effect (meso_db_t *db, s_job_t *job)
{
    return s_from_booked (db, job,
        "UPDATE scheduling.appointment SET status = 'started', started_at = now(),"
        " updated_at = now() WHERE appointment_id = $1", s_fill_started);
}

/* Screening again before a session starts: a patient who reported a
 * change or whose screening expired is stopped here. 0 allowed, -1
 * refused (reply set). */
static int
s_start_screen (scheduling_t *self, const char *appointment_id, meso_reply_t *reply)
{
    PGresult *res = store_session_get (self->db, appointment_id, false);
    if (!res) {
        meso_reply_db_error (reply, self->db, "session");
        return -1;
    }
    if (PQntuples (res) != 1) {
        PQclear (res);
        meso_reply_error (reply, MESO_NOT_FOUND, "no appointment %s", appointment_id);
        meso_reply_reason (reply, "unknown_appointment", "appointment_id", "no session has this id");
        return -1;
    }
    /* The ingredients of the recipe version the session was booked with. */
    char areas_text[SCHED_MAX_AREAS * (SCHED_ID_MAX + 1) + 4], *areas[SCHED_MAX_AREAS];
    snprintf (areas_text, sizeof areas_text, "%s", PQgetvalue (res, 0, SC_AREAS));
    size_t na = handlers_split (areas_text, areas, SCHED_MAX_AREAS);
    uint32_t version = (uint32_t) strtoul (PQgetvalue (res, 0, SC_RECIPE_VERSION), NULL, 10);
    sched_recipe_t *recipe = malloc (sizeof *recipe);
    int rc = 0;
    if (!recipe) {
        meso_reply_error (reply, MESO_RESOURCE_EXHAUSTED, "out of memory");
        rc = -1;
    }
    else if (saga_recipe (self, PQgetvalue (res, 0, SC_RECIPE), version, areas, na, recipe, reply) != 0)
        rc = -1;
    else {
        Meso__V1__CheckRequest ck = MESO__V1__CHECK_REQUEST__INIT;
        ck.patient_id = PQgetvalue (res, 0, SC_PATIENT);
        ck.ingredients = recipe->ingredients;
        ck.n_ingredients = (size_t) recipe->n;
        ck.date = PQgetvalue (res, 0, SC_LOCAL_DATE);
        ck.clinic_id = PQgetvalue (res, 0, SC_CLINIC);
        meso_result_t r = { 0 };
        if (meso_bus_client_call (self->screening, "screening.Check", &ck.base, NULL,
                                  self->call_deadline_ms, &r) != 0) {
            meso_reply_error (reply, r.reply ? r.status : MESO_UNAVAILABLE,
                              "the patient may not be treated: %s", r.message);
            if (r.reply)
                for (size_t i = 0; i < r.reply->n_reasons; i++)
                    meso_reply_reason (reply, r.reply->reasons[i]->code,
                                       r.reply->reasons[i]->field[0] ? r.reply->reasons[i]->field : NULL,
                                       "%s", r.reply->reasons[i]->message);
            rc = -1;
        }
        meso_result_reset (&r);
    }
    free (recipe);
    PQclear (res);
    return rc;
}

/* -- CompleteSession */

typedef struct {
    Meso__V1__CompleteSessionRequest *in;
    bool non_responder;
} s_complete_t;

static void
s_fill_completed (Meso__V1__Event *ev, Meso__V1__SessionInfo *info, void *ctx)
{
    s_complete_t *c = ctx;
    static Meso__V1__SessionCompleted x;
    meso__v1__session_completed__init (&x);
    x.session = info;
    x.completed_at_us = meso_time_now_us ();
    x.improvement_score = c->in->improvement_score;
    x.non_responder = c->non_responder;
    x.notes = c->in->notes ? c->in->notes : "";
    ev->type = "session.completed";
    ev->payload_case = MESO__V1__EVENT__PAYLOAD_SESSION_COMPLETED;
    ev->session_completed = &x;
}

static int
s_complete_effect (meso_db_t *db, s_job_t *job)
{
    s_complete_t *c = job->in;
    static const char *const allowed[] = { "started", NULL };
    PGresult *res;
    if (s_session_load (db, job->reply, c->in->appointment_id, allowed, &res) != 0)
        return -1;
    char course[64];
    snprintf (course, sizeof course, "%s", PQgetvalue (res, 0, SC_COURSE));
    PQclear (res);
    char score[8];
    snprintf (score, sizeof score, "%d", c->in->improvement_score);
    const char *p[] = { c->in->appointment_id, score, c->in->notes ? c->in->notes : "" };
    if (s_set (db, "UPDATE scheduling.appointment SET status = 'completed', completed_at = now(),"
               " improvement_score = $2, notes = $3, updated_at = now() WHERE appointment_id = $1", 3, p) != 0)
        return -1;
    /* Lock the course row: two sessions of one course completed at once
     * must not both miss the flag. */
    const char *cp[] = { course };
    PGresult *lk = meso_db_query (db, "SELECT 1 FROM scheduling.course WHERE course_id = $1 FOR UPDATE", 1, cp);
    if (!lk)
        return -1;
    PQclear (lk);
    PGresult *sc = meso_db_query (db, "SELECT improvement_score FROM scheduling.appointment"
                                  " WHERE course_id = $1 AND status = 'completed' ORDER BY session_number", 1, cp);
    if (!sc)
        return -1;
    int n = PQntuples (sc);
    int scores[PLANNER_MAX_SESSIONS];
    if (n > PLANNER_MAX_SESSIONS)
        n = PLANNER_MAX_SESSIONS;
    for (int i = 0; i < n; i++)
        scores[i] = atoi (PQgetvalue (sc, i, 0));
    PQclear (sc);
    c->non_responder = planner_non_responder (scores, n);
    if (c->non_responder
        && meso_db_exec (db, "UPDATE scheduling.course SET non_responder = true, updated_at = now()"
                         " WHERE course_id = $1", 1, cp) != 0)
        return -1;
    if (s_emit (db, c->in->appointment_id, s_fill_completed, c) != 0)
        return -1;
    return s_reply_session (db, job->reply, c->in->appointment_id, c->non_responder, 0, false);
}

static void
s_complete (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    Meso__V1__CompleteSessionRequest *in = body;
    int bad = 0;
    if (!in->appointment_id || !in->appointment_id[0])
        s_bad (reply, &bad, "missing_field", "appointment_id", "required");
    if (in->improvement_score < 0 || in->improvement_score > 3)
        s_bad (reply, &bad, "out_of_range", "improvement_score", "0 (none) .. 3 (clear)");
    if (in->notes && strlen (in->notes) > 4000)
        s_bad (reply, &bad, "too_long", "notes", "at most 4000 bytes");
    s_complete_t c = { in, false };
    if (!bad)
        s_run (arg, req, reply, &c, s_complete_effect);
}

static void
s_session_ref (const Meso__V1__Request *req, Meso__V1__SessionRef *in, meso_reply_t *reply, void *arg,
               meso_idem_effect_fn *effect, bool screen)
{
    if (!in->appointment_id || !in->appointment_id[0]) {
        int bad = 0;
        s_bad (reply, &bad, "missing_field", "appointment_id", "required");
    }
    else if (!screen || s_start_screen (arg, in->appointment_id, reply) == 0)
        s_run (arg, req, reply, in, effect);
}

static void
s_no_show (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    s_session_ref (req, body, reply, arg, s_no_show_effect, false);
}

static void
s_start (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    s_session_ref (req, body, reply, arg, s_start_effect, true);
}

/* --------------------------------------------------------------- reads */

static void
s_get_availability (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    scheduling_t *self = arg;
    Meso__V1__GetAvailabilityRequest *in = body;
    int bad = 0;
    int32_t d;
    s_need_id (reply, &bad, "clinic_id", in->clinic_id);
    if (meso_date_parse (in->date, &d) != 0)
        s_bad (reply, &bad, "invalid_date", "date", "required, \"YYYY-MM-DD\"");
    if (in->practitioner_id && in->practitioner_id[0] && !s_code_ok (in->practitioner_id))
        s_bad (reply, &bad, "invalid_id", "practitioner_id", "a practitioner id");
    store_clinic_t clinic;
    if (!bad) {
        int found = store_clinic_get (self->db, in->clinic_id, &clinic);
        if (found < 0)
            meso_reply_db_error (reply, self->db, "clinic");
        else if (!found) {
            meso_reply_error (reply, MESO_NOT_FOUND, "no clinic %s", in->clinic_id);
            meso_reply_reason (reply, "unknown_clinic", "clinic_id", "no clinic has this id");
        }
        else {
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
                    for (int i = 0; i < n; i++) {
                        meso__v1__free_slot__init (&fs[i]);
                        fs[i].local_start = PQgetvalue (res, i, 5);
                        fs[i].starts_at_us = strtoll (PQgetvalue (res, i, 1), NULL, 10);
                        fs[i].ends_at_us = strtoll (PQgetvalue (res, i, 2), NULL, 10);
                        fs[i].practitioner_id = PQgetvalue (res, i, 3);
                        fs[i].room_id = PQgetvalue (res, i, 4);
                        fp[i] = &fs[i];
                    }
                    Meso__V1__GetAvailabilityReply out = MESO__V1__GET_AVAILABILITY_REPLY__INIT;
                    out.slots = fp;
                    out.n_slots = (size_t) n;
                    meso_reply_ok (reply, &out.base);
                }
                else
                    meso_reply_error (reply, MESO_RESOURCE_EXHAUSTED, "out of memory");
                free (fs);
                free (fp);
                PQclear (res);
            }
        }
    }
}

static void
s_get_course (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    scheduling_t *self = arg;
    Meso__V1__GetCourseRequest *in = body;
    bool by_course = in->course_id && in->course_id[0];
    bool by_patient = in->patient_id && in->patient_id[0];
    if (by_course == by_patient) {
        int bad = 0;
        s_bad (reply, &bad, "missing_field", "course_id", "give either course_id or patient_id");
        goto done;
    }
    const char *p[] = { by_course ? in->course_id : in->patient_id };
    PGresult *ids = meso_db_query (self->db, by_course
        ? "SELECT course_id FROM scheduling.course WHERE course_id = $1"
        : "SELECT course_id FROM scheduling.course WHERE patient_id = $1 AND status <> 'failed'"
          " ORDER BY created_at", 1, p);
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
    /* Each course through handlers_reply_course, then merged: simple, and
     * a patient has a handful of courses. */
    Meso__V1__GetCourseReply out = MESO__V1__GET_COURSE_REPLY__INIT;
    Meso__V1__BookCourseReply **parts = calloc ((size_t) n + 1, sizeof *parts);
    Meso__V1__BookedCourse **courses = calloc ((size_t) n + 1, sizeof *courses);
    meso_reply_t *tmp = meso_reply_new ();
    int ok = parts && courses && tmp;
    for (int i = 0; ok && i < n; i++) {
        meso_reply_reset (tmp);
        if (handlers_reply_course (self->db, PQgetvalue (ids, i, 0), tmp) != 0) {
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
        courses[out.n_courses++] = parts[i]->course;
    }
    if (ok) {
        out.courses = courses;
        meso_reply_ok (reply, &out.base);
    }
    else
        meso_reply_error (reply, MESO_INTERNAL, "could not read the courses");
    for (int i = 0; parts && i < n; i++)
        if (parts[i])
            meso__v1__book_course_reply__free_unpacked (parts[i], NULL);
    free (parts);
    free (courses);
    meso_reply_destroy (&tmp);
    PQclear (ids);
done:
}

const meso_method_t scheduling_methods[] = {
    { "scheduling.UpsertClinic", s_upsert_clinic, MESO_METHOD_MUTATING, &meso__v1__upsert_clinic_request__descriptor },
    { "scheduling.UpsertPractitioner", s_upsert_practitioner, MESO_METHOD_MUTATING, &meso__v1__upsert_practitioner_request__descriptor },
    { "scheduling.UpsertRoom", s_upsert_room, MESO_METHOD_MUTATING, &meso__v1__upsert_room_request__descriptor },
    { "scheduling.PlanCourse", s_plan_course, MESO_METHOD_READ, &meso__v1__plan_course_request__descriptor },
    { "scheduling.BookCourse", s_book_course, MESO_METHOD_MUTATING, &meso__v1__book_course_request__descriptor },
    { "scheduling.BookSession", s_book_session, MESO_METHOD_MUTATING, &meso__v1__book_session_request__descriptor },
    { "scheduling.Reschedule", s_reschedule, MESO_METHOD_MUTATING, &meso__v1__reschedule_request__descriptor },
    { "scheduling.Cancel", s_cancel, MESO_METHOD_MUTATING, &meso__v1__cancel_request__descriptor },
    { "scheduling.MarkNoShow", s_no_show, MESO_METHOD_MUTATING, &meso__v1__session_ref__descriptor },
    { "scheduling.StartSession", s_start, MESO_METHOD_MUTATING, &meso__v1__session_ref__descriptor },
    { "scheduling.CompleteSession", s_complete, MESO_METHOD_MUTATING, &meso__v1__complete_session_request__descriptor },
    { "scheduling.GetAvailability", s_get_availability, MESO_METHOD_READ, &meso__v1__get_availability_request__descriptor },
    { "scheduling.GetCourse", s_get_course, MESO_METHOD_READ, &meso__v1__get_course_request__descriptor },
    { NULL, NULL, 0, NULL }
};
