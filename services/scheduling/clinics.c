/* clinics.c -- the clinics aggregate's methods: UpsertClinic,
 * UpsertPractitioner, UpsertRoom, GetClinic. The reference data every plan and
 * booking reads: a clinic with its zone, hours and course settings, the
 * practitioners with their hours per clinic and days off, the rooms.
 *
 * Each is a mutating method run under its idempotency key (sched_run):
 * the row, its key and the stored reply commit together. A practitioner
 * or room names clinics that must exist; a clinic's zone must be one
 * PostgreSQL knows, since every local time becomes an instant there.
 * UpsertPractitioner names several clinics (MESO_SCOPE_HANDLER): the
 * caller must be allowed in every clinic the practitioner works in, before
 * and after the change. */
#include "scheduling.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meso/access.h"
#include "meso/mtime.h"

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
            sched_bad (reply, bad, "out_of_range", field, "weekday must be 1 (Monday) .. 7 (Sunday)");
        else if (seen[hours[i]->weekday])
            sched_bad (reply, bad, "duplicate", field, "one entry per weekday");
        else
            seen[hours[i]->weekday] = true;
        if (planner_parse_hhmm (hours[i]->opens, false, &o) != 0
            || planner_parse_hhmm (hours[i]->closes, true, &c) != 0)
            sched_bad (reply, bad, "invalid_time", field, "opens and closes must be \"HH:MM\"");
        else if (c <= o)
            sched_bad (reply, bad, "end_before_start", field, "closes must be after opens");
    }
}


static int
s_clinic_effect (meso_db_t *db, sched_job_t *job)
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
    cs.allow_overlapping_courses = st.allow_overlapping_courses;
    Meso__V1__Clinic out = *c;
    out.slot_minutes = (uint32_t) st.slot_minutes;
    out.course = &cs;
    Meso__V1__UpsertClinicReply rep = MESO__V1__UPSERT_CLINIC_REPLY__INIT;
    rep.clinic = &out;
    rep.created = created == 1;
    meso_reply_ok (job->reply, &rep.base);
    return 0;
}

void
clinics_upsert_clinic (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    Meso__V1__UpsertClinicRequest *in = body;
    int bad = 0;
    Meso__V1__Clinic *c = in->clinic;
    if (!c)
        sched_bad (reply, &bad, "missing_field", "clinic", "required");
    else {
        sched_need_id (reply, &bad, "clinic.clinic_id", c->clinic_id);
        sched_need_text (reply, &bad, "clinic.name", c->name, SCHED_NAME_MAX);
        sched_need_text (reply, &bad, "clinic.time_zone", c->time_zone, SCHED_ID_MAX);
        if (c->slot_minutes && (c->slot_minutes < 15 || c->slot_minutes > 240))
            sched_bad (reply, &bad, "out_of_range", "clinic.slot_minutes", "15..240 minutes (0 = 60)");
        s_check_hours (reply, &bad, "clinic.hours", c->hours, c->n_hours);
        if (c->course) {
            if (c->course->spacing_min_days && (c->course->spacing_min_days < 7 || c->course->spacing_min_days > 60))
                sched_bad (reply, &bad, "out_of_range", "clinic.course.spacing_min_days",
                           "at least 7 days (bruising lasts 7-10 days), at most 60");
            if (c->course->taper_max_days && (c->course->taper_max_days < 14 || c->course->taper_max_days > 31))
                sched_bad (reply, &bad, "out_of_range", "clinic.course.taper_max_days", "14..31 days");
            if (c->course->maintenance_sessions > PLANNER_MAX_MAINTENANCE)
                sched_bad (reply, &bad, "out_of_range", "clinic.course.maintenance_sessions", "0..24");
            if (c->course->cancel_notice_hours > 168)
                sched_bad (reply, &bad, "out_of_range", "clinic.course.cancel_notice_hours", "0..168");
        }
    }
    if (!bad)
        sched_run (arg, req, reply, c, s_clinic_effect);
}

static int
s_practitioner_effect (meso_db_t *db, sched_job_t *job)
{
    Meso__V1__UpsertPractitionerRequest *in = job->in;
    Meso__V1__Practitioner *p = in->practitioner;
    if (meso_call_scoped () && !(in->keep_other_clinics && in->keep_days_off)) {
        /* The upsert replaces every clinic's hours (or the days off, which
         * hold in every clinic): the caller must be allowed in each
         * clinic the practitioner works in now. */
        PGresult *now = store_practitioner_clinics (db, p->practitioner_id);
        if (!now)
            return -1;
        int rc = 0;
        for (int i = 0; rc == 0 && i < PQntuples (now); i++)
            rc = meso_call_need_clinic (job->reply, PQgetvalue (now, i, 0), "practitioner.practitioner_id");
        PQclear (now);
        if (rc != 0)
            return -1;
    }
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
    int created = store_practitioner_upsert (db, p, in->keep_other_clinics, in->keep_days_off);
    if (created < 0)
        return -1;
    Meso__V1__UpsertPractitionerReply rep = MESO__V1__UPSERT_PRACTITIONER_REPLY__INIT;
    rep.practitioner = p;
    rep.created = created == 1;
    meso_reply_ok (job->reply, &rep.base);
    return 0;
}

void
clinics_upsert_practitioner (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    Meso__V1__UpsertPractitionerRequest *in = body;
    int bad = 0;
    Meso__V1__Practitioner *p = in->practitioner;
    if (!p)
        sched_bad (reply, &bad, "missing_field", "practitioner", "required");
    else {
        sched_need_id (reply, &bad, "practitioner.practitioner_id", p->practitioner_id);
        sched_need_text (reply, &bad, "practitioner.name", p->name, SCHED_NAME_MAX);
        if (p->n_clinics == 0)
            sched_bad (reply, &bad, "missing_field", "practitioner.clinics", "at least one clinic");
        for (size_t i = 0; i < p->n_clinics; i++) {
            char f[64];
            snprintf (f, sizeof f, "practitioner.clinics[%zu].clinic_id", i);
            sched_need_id (reply, &bad, f, p->clinics[i]->clinic_id);
            /* one entry per clinic: a second would collide in the
             * schema's key, and which hours win would be an accident */
            for (size_t k = 0; k < i; k++)
                if (p->clinics[i]->clinic_id && p->clinics[k]->clinic_id
                    && strcmp (p->clinics[i]->clinic_id, p->clinics[k]->clinic_id) == 0) {
                    sched_bad (reply, &bad, "duplicate", f, "listed twice");
                    break;
                }
            snprintf (f, sizeof f, "practitioner.clinics[%zu].hours", i);
            s_check_hours (reply, &bad, f, p->clinics[i]->hours, p->clinics[i]->n_hours);
        }
        for (size_t i = 0; i < p->n_days_off; i++) {
            int32_t d;
            if (meso_date_parse (p->days_off[i], &d) != 0)
                sched_bad (reply, &bad, "invalid_date", "practitioner.days_off", "dates are \"YYYY-MM-DD\"");
        }
    }
    /* Every clinic the practitioner will work in must be the caller's
     * (checked before the transaction, so a replay is checked too); the
     * ones it works in now are checked in it, under the row's lock. */
    for (size_t i = 0; !bad && i < p->n_clinics; i++) {
        char f[64];
        snprintf (f, sizeof f, "practitioner.clinics[%zu].clinic_id", i);
        if (meso_call_need_clinic (reply, p->clinics[i]->clinic_id, f) != 0)
            return;
    }
    if (!bad)
        sched_run (arg, req, reply, in, s_practitioner_effect);
}

static int
s_room_effect (meso_db_t *db, sched_job_t *job)
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
    bool active = true;
    int created = store_room_upsert (db, r, &active);
    if (created < 0)
        return -1;
    Meso__V1__Room stored = *r;
    stored.state_case = MESO__V1__ROOM__STATE_ACTIVE;
    stored.active = active;
    Meso__V1__UpsertRoomReply rep = MESO__V1__UPSERT_ROOM_REPLY__INIT;
    rep.room = &stored;
    rep.created = created == 1;
    meso_reply_ok (job->reply, &rep.base);
    return 0;
}

void
clinics_upsert_room (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    Meso__V1__UpsertRoomRequest *in = body;
    int bad = 0;
    if (!in->room)
        sched_bad (reply, &bad, "missing_field", "room", "required");
    else {
        sched_need_id (reply, &bad, "room.clinic_id", in->room->clinic_id);
        sched_need_id (reply, &bad, "room.room_id", in->room->room_id);
        sched_text_max (reply, &bad, "room.name", in->room->name, SCHED_NAME_MAX);
    }
    if (!bad)
        sched_run (arg, req, reply, in->room, s_room_effect);
}

/* GetClinic: the clinic as stored, for the services that ask scheduling
 * whether a clinic exists and where it lives (meso/clinics.h). A read:
 * no key, no transaction. */
void
clinics_get_clinic (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    scheduling_t *self = arg;
    Meso__V1__GetClinicRequest *in = body;
    int bad = 0;
    sched_need_id (reply, &bad, "clinic_id", in->clinic_id);
    store_clinic_t st;
    if (bad || sched_clinic_load (self, in->clinic_id, "clinic_id", &st, reply) != 0)
        return;
    PGresult *res = store_clinic_hours (self->db, in->clinic_id);
    if (!res) {
        meso_reply_db_error (reply, self->db, "clinic hours");
        return;
    }
    Meso__V1__DayHours h[7], *hp[7];
    size_t n = 0;
    for (int i = 0; i < PQntuples (res) && n < 7; i++, n++) {
        meso__v1__day_hours__init (&h[n]);
        h[n].weekday = atoi (PQgetvalue (res, i, 0));
        h[n].opens = PQgetvalue (res, i, 1);
        h[n].closes = PQgetvalue (res, i, 2);
        hp[n] = &h[n];
    }
    Meso__V1__CourseSettings cs = MESO__V1__COURSE_SETTINGS__INIT;
    cs.spacing_min_days = (uint32_t) st.course.spacing_min_days;
    cs.taper_max_days = (uint32_t) st.course.taper_max_days;
    cs.maintenance_sessions = (uint32_t) st.course.maintenance_sessions;
    cs.cancel_notice_hours = (uint32_t) st.cancel_notice_hours;
    cs.allow_overlapping_courses = st.allow_overlapping_courses;
    Meso__V1__Clinic c = MESO__V1__CLINIC__INIT;
    c.clinic_id = st.clinic_id;
    c.name = st.name;
    c.time_zone = st.time_zone;
    c.hours = hp;
    c.n_hours = n;
    c.slot_minutes = (uint32_t) st.slot_minutes;
    c.course = &cs;
    Meso__V1__GetClinicReply rep = MESO__V1__GET_CLINIC_REPLY__INIT;
    rep.clinic = &c;
    meso_reply_ok (reply, &rep.base);
    PQclear (res);
}
