/* sessions.c -- the methods that change a booked session: Reschedule,
 * Cancel, MarkNoShow, StartSession, CompleteSession.
 *
 * Each is one transaction under the request's idempotency key
 * (sched_run): lock the session's row, ask lifecycle.c whether its status
 * allows the change, write it (store_sessions.c), append its event from
 * the fresh row, reply with the session as it is now. A refusal rolls
 * everything back. The decisions are pure and live elsewhere: the status
 * rules in lifecycle.c, a slot's validity, the spacing of a course, late
 * cancellation and the non-responder flag in planner.c.
 *
 * A slot freed by Reschedule or Cancel is offered to the clinic's
 * waitlist in the same transaction (waitlist.c).
 *
 * Two of them talk to other services (peers.c): Reschedule moves the
 * session's stock reservation at inventory inside its transaction, and
 * StartSession asks screening again before it starts.
 *
 * Each names an appointment, not a clinic (MESO_SCOPE_HANDLER): before
 * anything else, even the idempotency claim, sched_scope_appointment
 * refuses a caller outside the appointment's clinic, so another clinic's
 * appointment is neither changed nor its stored reply replayed. */
#include "scheduling.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events.pb-c.h"
#include "meso/audit.h"
#include "meso/log.h"
#include "meso/mtime.h"
#include "meso/outbox.h"

/* Loads and locks the session of the appointment into *res; checks its
 * status allows change. 0 or -1 (reply set). */
static int
s_session_load (meso_db_t *db, meso_reply_t *reply, const char *appointment_id,
                lifecycle_change_t change, PGresult **res)
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
    meso_call_patient (PQgetvalue (*res, 0, SC_PATIENT), PQgetvalue (*res, 0, SC_CLINIC));
    const char *st = PQgetvalue (*res, 0, SC_STATUS);
    if (lifecycle_allows (change, st))
        return 0;
    char why[256];
    lifecycle_why (change, st, why, sizeof why);
    meso_reply_error (reply, MESO_FAILED_PRECONDITION, "appointment %s is %s", appointment_id, st);
    meso_reply_reason (reply, strcmp (st, "on_hold") == 0 ? "on_hold" : "wrong_status", "appointment_id",
                       "%s", why);
    PQclear (*res);
    *res = NULL;
    return -1;
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
    rows_info (res, 0, &info, areas);
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
    rows_session (res, 0, &s, areas);
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
    static __thread Meso__V1__SessionRescheduled x;    /* outlives the call: the event points at it */
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
s_reschedule_effect (meso_db_t *db, sched_job_t *job)
{
    s_resched_t *r = job->in;
    Meso__V1__RescheduleRequest *in = r->in;
    PGresult *res;
    if (s_session_load (db, job->reply, in->appointment_id, LIFECYCLE_RESCHEDULE, &res) != 0)
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
    int32_t prev, next, day;
    int minute;
    planner_parse_local (in->local_start, &day, &minute);
    /* The same rule as every booking's: not in the past, not beyond the
     * horizon, not inside a daylight-saving gap. */
    when_facts_t when = { .day = day };
    if (sched_check_when (job->reply, &clinic, "local_start", in->local_start, &when) != 0)
        goto done;
    int64_t st, en;
    planner_slot_facts_t facts;
    if (store_slot_facts (db, &clinic, pract, room, in->local_start, minutes, &st, &en, &facts, &when) != 0)
        goto done;
    when.timed = true;
    if (sched_check_when (job->reply, &clinic, "local_start", in->local_start, &when) != 0)
        goto done;
    planner_slot_t verdict = planner_slot_verdict (&facts);
    if (verdict != PLANNER_SLOT_OK) {
        char why[256];
        planner_slot_why (verdict, in->local_start, clinic.clinic_id, pract, room, why, sizeof why);
        meso_reply_error (job->reply, MESO_INVALID_ARGUMENT, "%s", why);
        meso_reply_reason (job->reply, "slot_invalid", "local_start", "%s", why);
        goto done;
    }
    /* The neighbours of the same course keep the minimum spacing. */
    if (store_course_neighbours (db, PQgetvalue (res, 0, SC_COURSE), PQgetvalue (res, 0, SC_NUMBER),
                                 clinic.time_zone, &prev, &next) != 0)
        goto done;
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
    /* ... and every other session of the patient, any course, a week. */
    if (course_rules_apart (db, PQgetvalue (res, 0, SC_PATIENT), in->appointment_id, day, "local_start",
                            job->reply) != 0)
        goto done;
    if (store_session_move (db, in->appointment_id, pract, room, st, en) != 0) {
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
     * locked and before anything commits; sessions_reschedule puts the
     * reservation back if this transaction then fails. A move within the
     * same local day leaves the reservation as it is. */
    char new_date[11];
    meso_date_format (day, new_date, sizeof new_date);
    snprintf (r->clinic_id, sizeof r->clinic_id, "%s", clinic.clinic_id);
    snprintf (r->prev_date, sizeof r->prev_date, "%s", PQgetvalue (res, 0, SC_LOCAL_DATE));
    if (strcmp (new_date, r->prev_date) != 0) {
        int moved = peers_redate (job->arg, clinic.clinic_id, in->appointment_id, new_date,
                                  "session rescheduled", job->reply);
        if (moved <= 0)
            r->redate_sent = true;
        if (moved != 0)
            goto done;
    }
    /* The slot left behind may go to the waitlist (waitlist.c). */
    sched_slot_t left = { .starts_us = r->prev_start, .ends_us = r->prev_end };
    snprintf (left.practitioner_id, sizeof left.practitioner_id, "%s", r->prev_pract);
    snprintf (left.room_id, sizeof left.room_id, "%s", r->prev_room);
    if (waitlist_offer_freed (job->arg, db, in->appointment_id, &left) != 0)
        goto done;
    if (s_emit (db, in->appointment_id, s_fill_rescheduled, r) != 0)
        goto done;
    rc = s_reply_session (db, job->reply, in->appointment_id, false, 0, false);
done:
    PQclear (res);
    return rc;
}

void
sessions_reschedule (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    Meso__V1__RescheduleRequest *in = body;
    int bad = 0;
    int32_t d;
    int m;
    sched_need_ref (reply, &bad, "appointment_id", in->appointment_id);
    if (planner_parse_local (in->local_start, &d, &m) != 0)
        sched_bad (reply, &bad, "invalid_time", "local_start", "required, \"YYYY-MM-DDTHH:MM\"");
    if (in->practitioner_id && in->practitioner_id[0] && !sched_code_ok (in->practitioner_id))
        sched_bad (reply, &bad, "invalid_id", "practitioner_id", "a practitioner id");
    if (in->room_id && in->room_id[0] && !sched_code_ok (in->room_id))
        sched_bad (reply, &bad, "invalid_id", "room_id", "a room id");
    s_resched_t r = { in, 0, 0, "", "", "", "", false };
    if (!bad && sched_scope_appointment (arg, in->appointment_id, "appointment_id", reply) == 0)
        sched_run (arg, req, reply, &r, s_reschedule_effect);
    if (r.redate_sent && meso_reply_status (reply) != MESO_OK) {
        /* The move did not commit, but inventory may have moved the
         * reservation: put it back on the session's date. Going back
         * never needs other lots (a lot usable on the later of two days
         * is usable on the earlier one, and a move to an earlier day
         * swaps nothing), so only an unreachable inventory can fail it. */
        meso_reply_t *undo = meso_reply_new ();
        if (!undo || peers_redate (arg, r.clinic_id, in->appointment_id, r.prev_date,
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
    static __thread Meso__V1__SessionCancelled x;    /* outlives the call: the event points at it */
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
s_cancel_effect (meso_db_t *db, sched_job_t *job)
{
    s_cancel_t *c = job->in;
    PGresult *res;
    if (s_session_load (db, job->reply, c->in->appointment_id, LIFECYCLE_CANCEL, &res) != 0)
        return -1;
    c->notice = strtoll (PQgetvalue (res, 0, SC_NOTICE_H), NULL, 10);
    /* A session on hold waits for the clinic's decision: calling it off
     * then is never late. */
    c->late = strcmp (PQgetvalue (res, 0, SC_STATUS), "on_hold") != 0
              && planner_cancel_late (c->notice, atoi (PQgetvalue (res, 0, SC_POLICY_H)));
    PQclear (res);
    const char *by = c->in->by == MESO__V1__CANCELLED_BY__CANCELLED_BY_PATIENT ? "patient" : "clinic";
    if (store_session_cancel (db, c->in->appointment_id, by, c->in->reason ? c->in->reason : "", c->late) != 0
        || s_emit (db, c->in->appointment_id, s_fill_cancelled, c) != 0
        || waitlist_offer_freed (job->arg, db, c->in->appointment_id, NULL) != 0)
        return -1;
    return s_reply_session (db, job->reply, c->in->appointment_id, false, c->notice, c->late);
}

void
sessions_cancel (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    Meso__V1__CancelRequest *in = body;
    int bad = 0;
    sched_need_ref (reply, &bad, "appointment_id", in->appointment_id);
    if (in->by != MESO__V1__CANCELLED_BY__CANCELLED_BY_PATIENT && in->by != MESO__V1__CANCELLED_BY__CANCELLED_BY_CLINIC)
        sched_bad (reply, &bad, "out_of_range", "by", "CANCELLED_BY_PATIENT or CANCELLED_BY_CLINIC");
    sched_text_max (reply, &bad, "reason", in->reason, 1000);
    s_cancel_t c = { in, 0, false };
    if (!bad && sched_scope_appointment (arg, in->appointment_id, "appointment_id", reply) == 0)
        sched_run (arg, req, reply, &c, s_cancel_effect);
}

/* -- MarkNoShow */

static void
s_fill_no_show (Meso__V1__Event *ev, Meso__V1__SessionInfo *info, void *ctx)
{
    static __thread Meso__V1__SessionNoShow x;    /* outlives the call: the event points at it */
    meso__v1__session_no_show__init (&x);
    x.session = info;
    ev->type = "session.no_show";
    ev->payload_case = MESO__V1__EVENT__PAYLOAD_SESSION_NO_SHOW;
    ev->session_no_show = &x;
}

/* A booked session moves to another status with one UPDATE and one event:
 * MarkNoShow and StartSession differ only in the statement and the event. */
static int
s_from_booked (meso_db_t *db, sched_job_t *job, lifecycle_change_t change,
               int (*set) (meso_db_t *db, const char *appointment_id), s_fill_fn *fill)
{
    Meso__V1__SessionRef *in = job->in;
    PGresult *res;
    if (s_session_load (db, job->reply, in->appointment_id, change, &res) != 0)
        return -1;
    PQclear (res);
    if (set (db, in->appointment_id) != 0
        || s_emit (db, in->appointment_id, fill, NULL) != 0)
        return -1;
    return s_reply_session (db, job->reply, in->appointment_id, false, 0, false);
}

static int
s_no_show_effect (meso_db_t *db, sched_job_t *job)
{
    return s_from_booked (db, job, LIFECYCLE_NO_SHOW, store_session_no_show, s_fill_no_show);
}

/* -- StartSession */

static void
s_fill_started (Meso__V1__Event *ev, Meso__V1__SessionInfo *info, void *ctx)
{
    static __thread Meso__V1__SessionStarted x;    /* outlives the call: the event points at it */
    meso__v1__session_started__init (&x);
    x.session = info;
    x.started_at_us = meso_time_now_us ();
    ev->type = "session.started";
    ev->payload_case = MESO__V1__EVENT__PAYLOAD_SESSION_STARTED;
    ev->session_started = &x;
}

static int
s_start_effect (meso_db_t *db, sched_job_t *job)
{
    return s_from_booked (db, job, LIFECYCLE_START, store_session_start, s_fill_started);
}

/* Screening again before a session starts: a patient who reported a
 * change or whose screening expired is stopped here, and so is a session
 * whose stock hold is not complete and valid (inventory.CheckHold). 0
 * allowed, -1 refused (reply set). */
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
    meso_call_patient (PQgetvalue (res, 0, SC_PATIENT), PQgetvalue (res, 0, SC_CLINIC));
    if (strcmp (PQgetvalue (res, 0, SC_STATUS), "on_hold") == 0) {
        /* Refused before screening is asked, so the reason is the hold
         * itself rather than the outdated screening behind it. Only this
         * status: a retry of a StartSession that succeeded finds the
         * session started and must reach its stored reply. */
        char why[256];
        lifecycle_why (LIFECYCLE_START, "on_hold", why, sizeof why);
        meso_reply_error (reply, MESO_FAILED_PRECONDITION, "appointment %s is on_hold", appointment_id);
        meso_reply_reason (reply, "on_hold", "appointment_id", "%s", why);
        PQclear (res);
        return -1;
    }
    /* The ingredients of the recipe version the session was booked with. */
    char areas_text[SCHED_MAX_AREAS * (SCHED_ID_MAX + 1) + 4], *areas[SCHED_MAX_AREAS];
    snprintf (areas_text, sizeof areas_text, "%s", PQgetvalue (res, 0, SC_AREAS));
    size_t na = rows_split (areas_text, areas, SCHED_MAX_AREAS);
    uint32_t version = (uint32_t) strtoul (PQgetvalue (res, 0, SC_RECIPE_VERSION), NULL, 10);
    sched_recipe_t *recipe = malloc (sizeof *recipe);
    int rc = 0;
    if (!recipe) {
        meso_reply_error (reply, MESO_RESOURCE_EXHAUSTED, "out of memory");
        rc = -1;
    }
    else if (peers_recipe (self, PQgetvalue (res, 0, SC_RECIPE), version, areas, na, recipe, reply) != 0)
        rc = -1;
    else {
        meso_result_t r = { 0 };
        if (peers_check (self, PQgetvalue (res, 0, SC_PATIENT), recipe, PQgetvalue (res, 0, SC_LOCAL_DATE),
                         PQgetvalue (res, 0, SC_CLINIC), false, &r) != 0) {
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
    /* The stock held for it must be complete and valid (no recalled or
     * expired lot, nothing a recall left short): inventory says which.
     * Only a booked session is about to start; for any other the run
     * replays a retry's stored reply or refuses the transition. */
    if (rc == 0 && strcmp (PQgetvalue (res, 0, SC_STATUS), "booked") == 0
        && peers_check_hold (self, PQgetvalue (res, 0, SC_CLINIC), appointment_id, reply) != 0)
        rc = -1;
    free (recipe);
    PQclear (res);
    return rc;
}

/* -- CompleteSession */

typedef struct {
    Meso__V1__CompleteSessionRequest *in;
    bool non_responder;
} s_complete_t;

/* The score given, or -1 when none was: "not recorded", not 0. */
static int
s_score (const Meso__V1__CompleteSessionRequest *in)
{
    return in->outcome_case == MESO__V1__COMPLETE_SESSION_REQUEST__OUTCOME_IMPROVEMENT_SCORE ? in->improvement_score
                                                                                           : -1;
}

static void
s_fill_completed (Meso__V1__Event *ev, Meso__V1__SessionInfo *info, void *ctx)
{
    s_complete_t *c = ctx;
    static __thread Meso__V1__SessionCompleted x;    /* outlives the call: the event points at it */
    meso__v1__session_completed__init (&x);
    x.session = info;
    x.completed_at_us = meso_time_now_us ();
    if (s_score (c->in) >= 0) {
        x.outcome_case = MESO__V1__SESSION_COMPLETED__OUTCOME_IMPROVEMENT_SCORE;
        x.improvement_score = s_score (c->in);
    }
    x.non_responder = c->non_responder;
    x.notes = c->in->notes ? c->in->notes : "";
    ev->type = "session.completed";
    ev->payload_case = MESO__V1__EVENT__PAYLOAD_SESSION_COMPLETED;
    ev->session_completed = &x;
}

static int
s_complete_effect (meso_db_t *db, sched_job_t *job)
{
    s_complete_t *c = job->in;
    PGresult *res;
    if (s_session_load (db, job->reply, c->in->appointment_id, LIFECYCLE_COMPLETE, &res) != 0)
        return -1;
    char course[64];
    snprintf (course, sizeof course, "%s", PQgetvalue (res, 0, SC_COURSE));
    PQclear (res);
    if (store_session_complete (db, c->in->appointment_id, s_score (c->in),
                                c->in->notes ? c->in->notes : "") != 0)
        return -1;
    /* Lock the course row: two sessions of one course completed at once
     * must not both miss the flag. */
    if (store_course_lock (db, course) != 0)
        return -1;
    int scores[PLANNER_MAX_SESSIONS];
    int n = store_course_scores (db, course, scores, PLANNER_MAX_SESSIONS);
    if (n < 0)
        return -1;
    c->non_responder = planner_non_responder (scores, n);
    if (c->non_responder && store_course_flag_non_responder (db, course) != 0)
        return -1;
    if (s_emit (db, c->in->appointment_id, s_fill_completed, c) != 0)
        return -1;
    return s_reply_session (db, job->reply, c->in->appointment_id, c->non_responder, 0, false);
}

void
sessions_complete (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    Meso__V1__CompleteSessionRequest *in = body;
    int bad = 0;
    sched_need_ref (reply, &bad, "appointment_id", in->appointment_id);
    if (in->outcome_case == MESO__V1__COMPLETE_SESSION_REQUEST__OUTCOME_IMPROVEMENT_SCORE
        && (in->improvement_score < 0 || in->improvement_score > 3))
        sched_bad (reply, &bad, "out_of_range", "improvement_score", "0 (none) .. 3 (clear)");
    sched_text_max (reply, &bad, "notes", in->notes, 4000);
    s_complete_t c = { in, false };
    if (!bad && sched_scope_appointment (arg, in->appointment_id, "appointment_id", reply) == 0)
        sched_run (arg, req, reply, &c, s_complete_effect);
}

static void
s_session_ref (const Meso__V1__Request *req, Meso__V1__SessionRef *in, meso_reply_t *reply, void *arg,
               meso_idem_effect_fn *effect, bool screen)
{
    int bad = 0;
    sched_need_ref (reply, &bad, "appointment_id", in->appointment_id);
    if (!bad && sched_scope_appointment (arg, in->appointment_id, "appointment_id", reply) == 0
        && (!screen || s_start_screen (arg, in->appointment_id, reply) == 0))
        sched_run (arg, req, reply, in, effect);
}

void
sessions_no_show (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    s_session_ref (req, body, reply, arg, s_no_show_effect, false);
}

void
sessions_start (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    s_session_ref (req, body, reply, arg, s_start_effect, true);
}
