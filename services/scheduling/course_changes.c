/* course_changes.c -- changes of a whole booked course: RescheduleCourse
 * (the remaining sessions re-planned from a date) and CancelCourse (the
 * remaining sessions cancelled). Recovery of a RescheduleCourse whose
 * process died half-way is course_recovery.c's.
 *
 * "Remaining" is every session of the course that is booked (or, for a
 * cancel, on hold) and starts after now; sessions done or under way stay.
 *
 * RescheduleCourse spans inventory (each session's stock is re-dated), so
 * it runs in steps, like the booking saga:
 *
 *   1. plan: the new slots of the remaining sessions (replan.c, the rules
 *      of BookCourse), in a transaction that first frees the course's own
 *      remaining sessions and is then rolled back, so their current slots
 *      do not block the new ones (a course moved by a week lands where its
 *      next session was);
 *   2. one transaction writes the change as 'pending' with each session's
 *      old and new date (scheduling.course_change, migration 031), while
 *      this process holds a session advisory lock on it;
 *   3. inventory.Redate per session whose date changes (idempotent by its
 *      target date);
 *   4. one transaction claims the idempotency key, frees the remaining
 *      sessions and books each at its new slot (the exclusion constraints
 *      decide: one slot taken since step 1 refuses the whole change),
 *      appends one session.rescheduled per session, marks the change done
 *      and stores the reply.
 *
 * A refusal at step 3 or 4 undoes: every session re-dated goes back to its
 * old date and the change is marked undone; nothing moved, since the moves
 * are step 4's one transaction. A process that dies between 2 and 4 leaves
 * a pending change whose lock is free: recovery (course_recovery.c, on
 * main.c's tick) re-dates its sessions back and marks it undone -- the sessions never moved, so
 * undoing is the one way to finish it. The old dates are safe to go back
 * to: the sessions still hold their old slots, and a reservation moved to
 * a later day holds lots usable on the earlier one.
 *
 * CancelCourse touches scheduling's tables only: one transaction cancels
 * each remaining session as Cancel does (its notice and lateness under the
 * clinic's policy; a session on hold is never late) and appends one
 * session.cancelled each; inventory releases the stock and billing charges
 * the late-cancellation fees from those events, exactly as for a single
 * Cancel.
 *
 * The slots either leaves behind are offered to the clinic's waitlist in
 * the transaction of the change (waitlist.c).
 *
 * Both name a course, not a clinic (MESO_SCOPE_HANDLER): the course's
 * clinic is checked before anything else, the idempotency claim included. */
#include "meso/audit.h"
#include "scheduling.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events.pb-c.h"
#include "meso/access.h"
#include "meso/log.h"
#include "meso/mtime.h"
#include "meso/outbox.h"
#include "meso/uuid.h"

/* One remaining session: where it is and where it goes. */
typedef struct {
    sched_slot_t now;                   /* its current slot */
    sched_slot_t to;                    /* the new one (RescheduleCourse) */
    bool redated;                       /* inventory was asked to move its stock */
} s_item_t;

typedef struct {
    scheduling_t *self;
    char course_id[SCHED_ID_MAX + 1];
    char patient_id[SCHED_ID_MAX + 1];
    store_clinic_t clinic;
    s_item_t *items;
    int n;
    int ncourse;                        /* course sessions (not maintenance) */
    int32_t prev_done;                  /* the last day of the course that stays, INT32_MIN none */
    bool on_hold;                       /* a remaining session is on hold */
    char change_id[40];
    /* RescheduleCourse's plan inputs */
    int32_t from;
    int preferred;
    char practitioner[SCHED_ID_MAX + 1];
    const Meso__V1__CancelCourseRequest *cancel;
    int64_t notice[PLANNER_MAX_SESSIONS];
    bool late[PLANNER_MAX_SESSIONS];
} s_change_t;

/* Finds the course and checks the caller's scope on its clinic. 0, or -1
 * (reply set: NOT_FOUND, out_of_scope, the database error). */
static int
s_course_scope (scheduling_t *self, const char *course_id, s_change_t *c, meso_reply_t *reply)
{
    PGresult *res = store_course_get (self->db, course_id);
    if (!res) {
        meso_reply_db_error (reply, self->db, "course");
        return -1;
    }
    int rc = -1;
    if (PQntuples (res) != 1 || strcmp (PQgetvalue (res, 0, 7), "booked") != 0) {
        meso_reply_error (reply, MESO_NOT_FOUND, "no booked course %s", course_id);
        meso_reply_reason (reply, "unknown_course", "course_id", "no booked course has this id");
    }
    else if (meso_call_need_clinic (reply, PQgetvalue (res, 0, 1), "course_id") == 0) {
        snprintf (c->course_id, sizeof c->course_id, "%s", course_id);
        snprintf (c->patient_id, sizeof c->patient_id, "%s", PQgetvalue (res, 0, 2));
        meso_call_patient (c->patient_id, PQgetvalue (res, 0, 1));     /* the audit trail */
        rc = sched_clinic_load (self, PQgetvalue (res, 0, 1), "course_id", &c->clinic, reply);
    }
    PQclear (res);
    return rc;
}

/* Reads the course's sessions: the remaining ones into c->items, the
 * count of course sessions and the last day that stays. 0 or -1. */
static int
s_remaining (meso_db_t *db, s_change_t *c, bool with_held)
{
    PGresult *res = store_course_sessions (db, c->course_id);
    if (!res)
        return -1;
    int rows = PQntuples (res);
    free (c->items);
    c->items = calloc ((size_t) rows + 1, sizeof *c->items);
    if (!c->items) {
        PQclear (res);
        return -1;
    }
    c->n = 0;
    c->ncourse = 0;
    c->on_hold = false;
    c->prev_done = INT32_MIN;
    for (int i = 0; i < rows; i++) {
        const char *st = PQgetvalue (res, i, SC_STATUS);
        int64_t start = strtoll (PQgetvalue (res, i, SC_START), NULL, 10);
        if (strcmp (PQgetvalue (res, i, SC_MAINT), "t") != 0)
            c->ncourse++;
        bool held = strcmp (st, "on_hold") == 0;
        bool remaining = (strcmp (st, "booked") == 0 || held) && start > c->clinic.now_us;
        if (!remaining) {
            int32_t day;
            if (strcmp (st, "cancelled") != 0 && strcmp (st, "no_show") != 0
                && meso_date_parse (PQgetvalue (res, i, SC_LOCAL_DATE), &day) == 0 && day > c->prev_done)
                c->prev_done = day;
            continue;
        }
        if (held)
            c->on_hold = true;
        if (held && !with_held)
            continue;
        sched_slot_t *s = &c->items[c->n++].now;
        snprintf (s->appointment_id, sizeof s->appointment_id, "%s", PQgetvalue (res, i, SC_APPT));
        snprintf (s->practitioner_id, sizeof s->practitioner_id, "%s", PQgetvalue (res, i, SC_PRACT));
        snprintf (s->room_id, sizeof s->room_id, "%s", PQgetvalue (res, i, SC_ROOM));
        s->starts_us = start;
        s->ends_us = strtoll (PQgetvalue (res, i, SC_END), NULL, 10);
        snprintf (s->local_start, sizeof s->local_start, "%s", PQgetvalue (res, i, SC_LOCAL));
        snprintf (s->local_date, sizeof s->local_date, "%s", PQgetvalue (res, i, SC_LOCAL_DATE));
        s->session_number = atoi (PQgetvalue (res, i, SC_NUMBER));
        s->maintenance = strcmp (PQgetvalue (res, i, SC_MAINT), "t") == 0;
        c->notice[c->n - 1] = strtoll (PQgetvalue (res, i, SC_NOTICE_H), NULL, 10);
        c->late[c->n - 1] = !held && planner_cancel_late (c->notice[c->n - 1], atoi (PQgetvalue (res, i, SC_POLICY_H)));
    }
    PQclear (res);
    return 0;
}

/* Replies with the course as it is now and what changed. 0 or -1. */
static int
s_reply (meso_db_t *db, s_change_t *c, bool moved, meso_reply_t *reply)
{
    meso_reply_t *tmp = meso_reply_new ();
    if (!tmp || rows_reply_course (db, c->course_id, tmp) != 0) {
        if (tmp)
            meso_reply_error (reply, meso_reply_status (tmp), "could not read course %s", c->course_id);
        meso_reply_destroy (&tmp);
        return -1;
    }
    size_t len;
    uint8_t *packed = meso_reply_pack (tmp, &len);
    Meso__V1__Reply *env = packed ? meso__v1__reply__unpack (NULL, len, packed) : NULL;
    free (packed);
    Meso__V1__BookCourseReply *bc = env ? meso__v1__book_course_reply__unpack (NULL, env->body.len, env->body.data)
                                        : NULL;
    Meso__V1__MovedSession *ms = calloc ((size_t) c->n + 1, sizeof *ms);
    Meso__V1__MovedSession **mp = calloc ((size_t) c->n + 1, sizeof *mp);
    Meso__V1__CancelledSession *cs = calloc ((size_t) c->n + 1, sizeof *cs);
    Meso__V1__CancelledSession **cp = calloc ((size_t) c->n + 1, sizeof *cp);
    int rc = -1;
    if (bc && ms && mp && cs && cp) {
        Meso__V1__CourseChangeReply out = MESO__V1__COURSE_CHANGE_REPLY__INIT;
        out.course = bc->course;
        for (int i = 0; i < c->n; i++) {
            const sched_slot_t *a = &c->items[i].now, *b = &c->items[i].to;
            if (moved) {
                meso__v1__moved_session__init (&ms[i]);
                ms[i].session_number = (uint32_t) a->session_number;
                ms[i].appointment_id = (char *) a->appointment_id;
                ms[i].original_local_start = (char *) a->local_start;
                ms[i].original_starts_at_us = a->starts_us;
                ms[i].new_local_start = (char *) b->local_start;
                ms[i].new_starts_at_us = b->starts_us;
                ms[i].practitioner_id = (char *) b->practitioner_id;
                ms[i].room_id = (char *) b->room_id;
                mp[i] = &ms[i];
            }
            else {
                meso__v1__cancelled_session__init (&cs[i]);
                cs[i].appointment_id = (char *) a->appointment_id;
                cs[i].session_number = (uint32_t) a->session_number;
                cs[i].local_start = (char *) a->local_start;
                cs[i].notice_hours = c->notice[i];
                cs[i].late = c->late[i];
                cp[i] = &cs[i];
            }
        }
        if (moved) {
            out.moved = mp;
            out.n_moved = (size_t) c->n;
        }
        else {
            out.cancelled = cp;
            out.n_cancelled = (size_t) c->n;
        }
        meso_reply_ok (reply, &out.base);
        rc = 0;
    }
    else
        meso_reply_error (reply, MESO_INTERNAL, "could not read course %s", c->course_id);
    free (ms);
    free (mp);
    free (cs);
    free (cp);
    if (bc)
        meso__v1__book_course_reply__free_unpacked (bc, NULL);
    if (env)
        meso__v1__reply__free_unpacked (env, NULL);
    meso_reply_destroy (&tmp);
    return rc;
}

/* Appends the session event of appointment_id from its fresh row. */
static int
s_emit (meso_db_t *db, const char *appointment_id, const s_item_t *it, const s_change_t *c, int i)
{
    PGresult *res = store_session_get (db, appointment_id, false);
    if (!res)
        return -1;
    Meso__V1__SessionInfo info;
    char *areas[SCHED_MAX_AREAS];
    rows_info (res, 0, &info, areas);
    Meso__V1__Event ev = MESO__V1__EVENT__INIT;
    ev.clinic_id = info.clinic_id;
    Meso__V1__SessionRescheduled rs = MESO__V1__SESSION_RESCHEDULED__INIT;
    Meso__V1__SessionCancelled sc = MESO__V1__SESSION_CANCELLED__INIT;
    if (!c->cancel) {
        rs.session = &info;
        rs.previous_starts_at_us = it->now.starts_us;
        rs.previous_ends_at_us = it->now.ends_us;
        rs.previous_practitioner_id = (char *) it->now.practitioner_id;
        rs.previous_room_id = (char *) it->now.room_id;
        ev.type = "session.rescheduled";
        ev.payload_case = MESO__V1__EVENT__PAYLOAD_SESSION_RESCHEDULED;
        ev.session_rescheduled = &rs;
    }
    else {
        sc.session = &info;
        sc.by = c->cancel->by;
        sc.reason = c->cancel->reason ? c->cancel->reason : "";
        sc.notice_hours = c->notice[i];
        sc.late = c->late[i];
        ev.type = "session.cancelled";
        ev.payload_case = MESO__V1__EVENT__PAYLOAD_SESSION_CANCELLED;
        ev.session_cancelled = &sc;
    }
    int rc = meso_outbox_append (db, &ev);
    PQclear (res);
    return rc;
}

/* ------------------------------------------------------ RescheduleCourse */

/* Step 1, in a transaction rolled back: free the course's remaining
 * sessions, then plan their new slots. Returns -1 always (rollback);
 * c->planned says how it went: 0 placed, 1 one unplaced (c->unplaced), -1
 * error. */
typedef struct {
    s_change_t *c;
    int planned;
    int unplaced;
} s_plan_t;

static int
s_plan_txn (meso_db_t *db, void *arg)
{
    s_plan_t *p = arg;
    s_change_t *c = p->c;
    p->planned = -1;
    int32_t *taken = calloc (SCHED_MAX_TAKEN, sizeof *taken);
    int ntaken = taken ? store_patient_days_except_course (db, c->patient_id, c->course_id, taken, SCHED_MAX_TAKEN)
                       : -1;
    if (ntaken >= 0 && store_course_free_remaining (db, c->course_id) >= 0) {
        sched_slot_t slots[PLANNER_MAX_SESSIONS];
        for (int i = 0; i < c->n; i++)
            slots[i] = c->items[i].now;
        p->planned = replan_course (c->self, &c->clinic, c->patient_id, c->practitioner, c->preferred, c->from,
                                    c->prev_done, c->ncourse, taken, ntaken, slots, c->n, &p->unplaced);
        for (int i = 0; p->planned == 0 && i < c->n; i++)
            c->items[i].to = slots[i];
    }
    free (taken);
    return -1;
}

/* Step 2: the pending change and its items. */
static int
s_pending_txn (meso_db_t *db, void *arg)
{
    s_change_t *c = arg;
    if (store_change_insert (db, c->clinic.clinic_id, c->change_id, c->course_id) != 0)
        return -1;
    for (int i = 0; i < c->n; i++)
        if (store_change_item (db, c->clinic.clinic_id, c->change_id, c->items[i].now.appointment_id,
                               c->items[i].now.local_date, c->items[i].to.local_date) != 0)
            return -1;
    return 0;
}

/* Step 4: the moves, their events, the change done, the reply. */
typedef struct {
    s_change_t *c;
    const Meso__V1__Request *req;
    meso_reply_t *reply;
    bool replayed;
} s_move_t;

static int
s_move_txn (meso_db_t *db, void *arg)
{
    s_move_t *m = arg;
    s_change_t *c = m->c;
    meso_reply_reset (m->reply);
    m->replayed = false;
    int claim = meso_idem_claim (db, SCHED_SCHEMA, m->req, m->reply);
    if (claim != 0) {
        m->replayed = claim == 1;
        return claim == 1 ? 0 : -1;
    }
    if (store_course_lock_remaining (db, c->course_id) != 0)
        goto db_error;
    /* Nothing else moved them since step 1. */
    int freed = store_course_free_remaining (db, c->course_id);
    if (freed < 0)
        goto db_error;
    if (freed != c->n) {
        meso_reply_error (m->reply, MESO_ABORTED, "course %s changed during the reschedule; nothing moved",
                          c->course_id);
        return -1;
    }
    for (int i = 0; i < c->n; i++) {
        const sched_slot_t *to = &c->items[i].to;
        if (store_session_place (db, to->appointment_id, to->practitioner_id, to->room_id, to->starts_us,
                                 to->ends_us) != 0) {
            if (strcmp (meso_db_error (db)->sqlstate, "23P01") != 0)
                goto db_error;
            meso_reply_error (m->reply, MESO_ALREADY_EXISTS, "session %d at %s: the slot was taken; nothing moved",
                              to->session_number, to->local_start);
            meso_reply_detail (m->reply, "%s", meso_db_error (db)->detail);
            meso_reply_reason (m->reply, "slot_taken", "from_date",
                               "session %d (%s, practitioner %s, room %s) overlaps an active booking",
                               to->session_number, to->local_start, to->practitioner_id, to->room_id);
            return -1;
        }
    }
    for (int i = 0; i < c->n; i++)
        if (s_emit (db, c->items[i].now.appointment_id, &c->items[i], c, i) != 0
            || waitlist_offer_freed (c->self, db, c->items[i].now.appointment_id, &c->items[i].now) != 0)
            goto db_error;
    if (store_change_finish (db, c->change_id, true) != 1)
        goto db_error;
    if (s_reply (db, c, true, m->reply) != 0 || meso_idem_store (db, SCHED_SCHEMA, m->req, m->reply) != 0)
        return -1;
    return 0;
db_error:
    meso_reply_db_error (m->reply, db, "course reschedule");
    return -1;
}

typedef struct {
    const char *change_id;
} s_undo_t;

static int
s_undone_txn (meso_db_t *db, void *arg)
{
    s_undo_t *u = arg;
    return store_change_finish (db, u->change_id, false) < 0 ? -1 : 0;
}

/* Puts back the stock of every session whose date moved and marks the
 * change undone. 0, or -1 (inventory unreachable: left pending for
 * recovery). redate false: the change ends without touching the stock. */
static int
s_undo (scheduling_t *self, s_change_t *c, bool redate)
{
    int failed = 0;
    for (int i = 0; i < c->n; i++) {
        if (!redate || !c->items[i].redated)
            continue;
        meso_reply_t *r = meso_reply_new ();
        if (!r || peers_redate (self, c->clinic.clinic_id, c->items[i].now.appointment_id,
                                c->items[i].now.local_date, "course reschedule undone", r) != 0)
            failed++;
        meso_reply_destroy (&r);
    }
    if (failed) {
        meso_warn ("course change %s left pending for recovery (%d re-dates not undone)", c->change_id, failed);
        return -1;
    }
    s_undo_t u = { c->change_id };
    return meso_db_txn (self->db, MESO_DB_READ_COMMITTED, s_undone_txn, &u);
}

static void
s_reschedule (scheduling_t *self, const Meso__V1__Request *req, s_change_t *c, meso_reply_t *reply)
{
    if (s_remaining (self->db, c, true) != 0) {
        meso_reply_db_error (reply, self->db, "course");
        return;
    }
    if (c->on_hold) {
        meso_reply_error (reply, MESO_FAILED_PRECONDITION, "course %s has a session on hold", c->course_id);
        meso_reply_reason (reply, "on_hold", "course_id", "a new eligible screening releases it first");
        return;
    }
    if (c->n == 0) {
        meso_reply_error (reply, MESO_FAILED_PRECONDITION, "course %s has no remaining session", c->course_id);
        meso_reply_reason (reply, "no_remaining_session", "course_id", "every session is done or cancelled");
        return;
    }
    if (c->preferred < 0) {
        int32_t d;
        planner_parse_local (c->items[0].now.local_start, &d, &c->preferred);
    }
    if (!c->practitioner[0])
        snprintf (c->practitioner, sizeof c->practitioner, "%s", c->items[0].now.practitioner_id);
    s_plan_t p = { c, -1, 0 };
    meso_db_txn (self->db, MESO_DB_READ_COMMITTED, s_plan_txn, &p);
    if (p.planned < 0) {
        meso_reply_db_error (reply, self->db, "free slots");
        return;
    }
    if (p.planned == 1) {
        const sched_slot_t *s = &c->items[p.unplaced].now;
        meso_reply_error (reply, MESO_FAILED_PRECONDITION, "session %d has no free slot; nothing moved",
                          s->session_number);
        meso_reply_reason (reply, "no_free_slot", "from_date",
                           "session %d: no practitioner and room free for %d days from its day",
                           s->session_number, PLANNER_SEARCH_DAYS);
        return;
    }
    /* The screening must cover every new day, as for a booking. */
    sched_screening_t scr;
    if (peers_screening (self, c->patient_id, &scr, reply) != 0)
        return;
    int32_t days[PLANNER_MAX_SESSIONS];
    for (int i = 0; i < c->n; i++)
        meso_date_parse (c->items[i].to.local_date, &days[i]);
    int beyond = scr.known ? planner_beyond_validity (days, c->n, scr.valid_until) : -1;
    if (beyond >= 0) {
        char vu[11];
        meso_date_format (scr.valid_until, vu, sizeof vu);
        meso_reply_error (reply, MESO_FAILED_PRECONDITION, "session %d on %s is after the screening expires (%s)",
                          c->items[beyond].to.session_number, c->items[beyond].to.local_date, vu);
        meso_reply_reason (reply, "screening_expires", "from_date", "a new screening is needed first");
        return;
    }
    /* Step 2. */
    if (meso_uuid_v4 (c->change_id) != 0) {
        meso_reply_error (reply, MESO_INTERNAL, "no randomness for ids");
        return;
    }
    if (store_saga_lock (self->db, c->change_id, false) != 1) {
        meso_reply_db_error (reply, self->db, "course change lock");
        return;
    }
    if (meso_db_txn (self->db, MESO_DB_READ_COMMITTED, s_pending_txn, c) != 0) {
        meso_reply_db_error (reply, self->db, "course reschedule");
        store_saga_unlock (self->db, c->change_id);
        return;
    }
    saga_pause_point (self, 11);
    /* Step 3. */
    int refused = 0;
    for (int i = 0; i < c->n && !refused; i++) {
        if (strcmp (c->items[i].now.local_date, c->items[i].to.local_date) == 0)
            continue;
        int rc = peers_redate (self, c->clinic.clinic_id, c->items[i].now.appointment_id,
                               c->items[i].to.local_date, "course rescheduled", reply);
        c->items[i].redated = true;
        if (rc != 0)
            refused = 1;
        else if (i == 0)
            saga_pause_point (self, 12);
    }
    if (!refused)
        saga_wait_point ();
    /* Step 4. */
    s_move_t m = { c, req, reply, false };
    if (refused || meso_db_txn (self->db, MESO_DB_READ_COMMITTED, s_move_txn, &m) != 0) {
        if (meso_reply_status (reply) == MESO_OK)
            meso_reply_db_error (reply, self->db, "course reschedule");
        s_undo (self, c, true);
    }
    else if (m.replayed)
        /* A concurrent request with the same key moved the course first,
         * from the same sessions: its dates are the ones now held, so this
         * change only ends. */
        s_undo (self, c, false);
    store_saga_unlock (self->db, c->change_id);
}

void
course_changes_reschedule (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    scheduling_t *self = arg;
    Meso__V1__RescheduleCourseRequest *in = body;
    int bad = 0;
    s_change_t *c = calloc (1, sizeof *c);
    if (!c) {
        meso_reply_error (reply, MESO_RESOURCE_EXHAUSTED, "out of memory");
        return;
    }
    c->self = self;
    c->preferred = -1;
    sched_need_ref (reply, &bad, "course_id", in->course_id);
    if (meso_date_parse (in->from_date, &c->from) != 0)
        sched_bad (reply, &bad, "invalid_date", "from_date", "required, \"YYYY-MM-DD\"");
    if (in->preferred_time && in->preferred_time[0]
        && planner_parse_hhmm (in->preferred_time, false, &c->preferred) != 0)
        sched_bad (reply, &bad, "invalid_time", "preferred_time", "\"HH:MM\"");
    if (in->practitioner_id && in->practitioner_id[0] && !sched_code_ok (in->practitioner_id))
        sched_bad (reply, &bad, "invalid_id", "practitioner_id", "a practitioner id");
    if (!bad && s_course_scope (self, in->course_id, c, reply) == 0 && !saga_replayed (self, req, reply)) {
        when_facts_t when = { .day = c->from };
        if (sched_check_when (reply, &c->clinic, "from_date", in->from_date, &when) == 0) {
            if (in->practitioner_id)
                snprintf (c->practitioner, sizeof c->practitioner, "%s", in->practitioner_id);
            s_reschedule (self, req, c, reply);
        }
    }
    free (c->items);
    free (c);
}

/* ---------------------------------------------------------- CancelCourse */

static int
s_cancel_effect (meso_db_t *db, sched_job_t *job)
{
    s_change_t *c = job->in;
    if (store_course_lock_remaining (db, c->course_id) != 0 || s_remaining (db, c, true) != 0)
        return -1;
    if (c->n == 0) {
        meso_reply_error (job->reply, MESO_FAILED_PRECONDITION, "course %s has no remaining session",
                          c->course_id);
        meso_reply_reason (job->reply, "no_remaining_session", "course_id", "every session is done or cancelled");
        return -1;
    }
    const char *by = c->cancel->by == MESO__V1__CANCELLED_BY__CANCELLED_BY_PATIENT ? "patient" : "clinic";
    for (int i = 0; i < c->n; i++)
        if (store_session_cancel (db, c->items[i].now.appointment_id, by,
                                  c->cancel->reason ? c->cancel->reason : "", c->late[i]) != 0
            || s_emit (db, c->items[i].now.appointment_id, &c->items[i], c, i) != 0
            || waitlist_offer_freed (c->self, db, c->items[i].now.appointment_id, NULL) != 0)
            return -1;
    return s_reply (db, c, false, job->reply);
}

void
course_changes_cancel (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    scheduling_t *self = arg;
    Meso__V1__CancelCourseRequest *in = body;
    int bad = 0;
    sched_need_ref (reply, &bad, "course_id", in->course_id);
    if (in->by != MESO__V1__CANCELLED_BY__CANCELLED_BY_PATIENT && in->by != MESO__V1__CANCELLED_BY__CANCELLED_BY_CLINIC)
        sched_bad (reply, &bad, "out_of_range", "by", "CANCELLED_BY_PATIENT or CANCELLED_BY_CLINIC");
    sched_text_max (reply, &bad, "reason", in->reason, 1000);
    s_change_t *c = calloc (1, sizeof *c);
    if (!c) {
        meso_reply_error (reply, MESO_RESOURCE_EXHAUSTED, "out of memory");
        return;
    }
    c->self = self;
    c->cancel = in;
    if (!bad && s_course_scope (self, in->course_id, c, reply) == 0)
        sched_run (self, req, reply, c, s_cancel_effect);
    free (c->items);
    free (c);
}
