/* waitlist.c -- the waitlist aggregate: JoinWaitlist, LeaveWaitlist,
 * ListWaitlist, and the slot offers a freed slot makes.
 *
 * A patient waits for an earlier slot of a clinic (a window of local
 * days, a practitioner or any, the areas and recipe of a new session or
 * the booked session it would move). When a session is cancelled or
 * rescheduled away (sessions.c, course_changes.c call
 * waitlist_offer_freed in the transaction of that change), the freed slot
 * goes to the first waiting entry, first come first served, that it suits
 * (frontdesk_matches: the window, the practitioner, a week from the
 * patient's other sessions, earlier than the session it would move): one
 * open offer, held until the clinic's hold ends (FrontDeskPolicy, else
 * --offer-hold-s), announced by session.slot_offered in the same
 * transaction. The hold is the schema's (migration 032's trigger): while
 * the offer is open nobody else can book that practitioner or room then,
 * whatever the method, and the patient booking it (AcceptOffer, offers.c,
 * or any booking of that slot) accepts the offer and serves the entry.
 *
 * main.c's timer (waitlist_expire) closes the offers whose hold ended and
 * offers the slot to the next entry it suits, never twice to one entry;
 * an entry that leaves withdraws its open offer the same way. A slot that
 * is no longer free (booked meanwhile) is offered to nobody. */
#include "meso/audit.h"
#include "scheduling.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events.pb-c.h"
#include "frontdesk.h"
#include "meso/log.h"
#include "meso/mtime.h"
#include "meso/outbox.h"
#include "meso/page.h"
#include "meso/uuid.h"

#define S_LIST "scheduling.ListWaitlist"

/* ----------------------------------------------------------- offering */

int
waitlist_offer_slot (scheduling_t *self, meso_db_t *db, const char *clinic_id, const char *practitioner,
                     const char *room, int64_t start_us, int64_t end_us, const char *freed_appointment,
                     const char *freed_patient)
{
    store_clinic_t clinic;
    if (store_clinic_get (db, clinic_id, &clinic) != 1 || start_us <= clinic.now_us)
        return 0;
    int free_ = store_slot_free (db, clinic_id, practitioner, room, start_us, end_us);
    if (free_ <= 0)
        return free_;
    PGresult *res = store_waitlist_candidates (db, clinic_id, practitioner, room, start_us, end_us, freed_patient);
    if (!res)
        return -1;
    int rc = 0;
    int32_t *taken = calloc (SCHED_MAX_TAKEN, sizeof *taken);
    for (int i = 0; taken && i < PQntuples (res) && rc == 0; i++) {
        const char *appt = PQgetvalue (res, i, 5);
        int ntaken = store_patient_days (db, PQgetvalue (res, i, 1), *appt ? appt : NULL, taken, SCHED_MAX_TAKEN);
        if (ntaken < 0) {
            rc = -1;
            break;
        }
        int64_t current = strtoll (PQgetvalue (res, i, 6), NULL, 10);
        frontdesk_entry_t e = { atoi (PQgetvalue (res, i, 3)), atoi (PQgetvalue (res, i, 4)), PQgetvalue (res, i, 2),
                                *appt != '\0', current, taken, ntaken };
        frontdesk_slot_t s = { atoi (PQgetvalue (res, i, 7)), start_us, clinic.now_us, practitioner };
        if (e.moves && current < 0)
            continue;           /* the session it would move is no longer booked */
        if (!frontdesk_matches (&e, &s))
            continue;
        char leads[256];
        int hold_min = 0;
        if (store_frontdesk_policy_get (db, clinic_id, leads, sizeof leads, &hold_min) < 0) {
            rc = -1;
            break;
        }
        char offer_id[40];
        if (meso_uuid_v4 (offer_id) != 0) {
            rc = -1;
            break;
        }
        PGresult *ins = store_offer_insert (db, clinic_id, offer_id, PQgetvalue (res, i, 0), PQgetvalue (res, i, 1),
                                            practitioner, room, start_us, end_us,
                                            hold_min > 0 ? hold_min * 60 : self->offer_hold_s, freed_appointment);
        if (!ins) {
            rc = -1;
            break;
        }
        Meso__V1__SessionSlotOffered so = MESO__V1__SESSION_SLOT_OFFERED__INIT;
        so.offer_id = offer_id;
        so.entry_id = PQgetvalue (res, i, 0);
        so.patient_id = PQgetvalue (res, i, 1);
        so.clinic_id = (char *) clinic_id;
        so.practitioner_id = (char *) practitioner;
        so.room_id = (char *) room;
        so.starts_at_us = start_us;
        so.ends_at_us = end_us;
        so.local_start = PQgetvalue (res, i, 8);
        so.time_zone = clinic.time_zone;
        so.expires_at_us = strtoll (PQgetvalue (ins, 0, 0), NULL, 10);
        so.appointment_id = (char *) appt;
        so.freed_appointment_id = (char *) freed_appointment;
        Meso__V1__Event ev = MESO__V1__EVENT__INIT;
        ev.type = "session.slot_offered";
        ev.clinic_id = (char *) clinic_id;
        ev.payload_case = MESO__V1__EVENT__PAYLOAD_SESSION_SLOT_OFFERED;
        ev.session_slot_offered = &so;
        rc = meso_outbox_append (db, &ev) == 0 ? 1 : -1;
        PQclear (ins);
    }
    if (!taken)
        rc = -1;
    free (taken);
    PQclear (res);
    return rc;
}

int
waitlist_offer_freed (scheduling_t *self, meso_db_t *db, const char *appointment_id, const sched_slot_t *prev)
{
    PGresult *res = store_session_get (db, appointment_id, false);
    if (!res)
        return -1;
    int rc = 0;
    if (PQntuples (res) == 1) {
        const char *pract = prev ? prev->practitioner_id : PQgetvalue (res, 0, SC_PRACT);
        const char *room = prev ? prev->room_id : PQgetvalue (res, 0, SC_ROOM);
        int64_t st = prev ? prev->starts_us : strtoll (PQgetvalue (res, 0, SC_START), NULL, 10);
        int64_t en = prev ? prev->ends_us : strtoll (PQgetvalue (res, 0, SC_END), NULL, 10);
        rc = waitlist_offer_slot (self, db, PQgetvalue (res, 0, SC_CLINIC), pract, room, st, en, appointment_id,
                                  PQgetvalue (res, 0, SC_PATIENT));
    }
    PQclear (res);
    return rc < 0 ? -1 : 0;
}

/* Closes an open offer (status "expired" or "withdrawn") and offers its
 * slot to the next entry. 0 or -1. */
static int
s_close_and_pass (scheduling_t *self, meso_db_t *db, const char *clinic_id, const char *offer_id, const char *status)
{
    PGresult *o = store_offer_get (db, clinic_id, offer_id, true);
    if (!o)
        return -1;
    int rc = 0;
    if (PQntuples (o) == 1 && store_offer_close (db, clinic_id, offer_id, status) == 1) {
        PGresult *freed = store_session_get (db, PQgetvalue (o, 0, O_FREED), false);
        if (!freed)
            rc = -1;
        else {
            rc = waitlist_offer_slot (self, db, clinic_id, PQgetvalue (o, 0, O_PRACT), PQgetvalue (o, 0, O_ROOM),
                                      strtoll (PQgetvalue (o, 0, O_START), NULL, 10),
                                      strtoll (PQgetvalue (o, 0, O_END), NULL, 10), PQgetvalue (o, 0, O_FREED),
                                      PQntuples (freed) ? PQgetvalue (freed, 0, SC_PATIENT) : "");
            PQclear (freed);
        }
    }
    PQclear (o);
    return rc < 0 ? -1 : 0;
}

typedef struct {
    scheduling_t *self;
    const char *clinic_id, *offer_id;
} s_expire_t;

static int
s_expire_txn (meso_db_t *db, void *arg)
{
    s_expire_t *x = arg;
    return s_close_and_pass (x->self, db, x->clinic_id, x->offer_id, "expired");
}

int
waitlist_expire (scheduling_t *self, int limit)
{
    PGresult *res = store_offers_expired (self->db, limit);
    if (!res)
        return -1;
    int n = 0;
    for (int i = 0; i < PQntuples (res); i++) {
        s_expire_t x = { self, PQgetvalue (res, i, 0), PQgetvalue (res, i, 1) };
        if (meso_db_txn (self->db, MESO_DB_READ_COMMITTED, s_expire_txn, &x) == 0)
            n++;
        else
            meso_warn ("offer %s not expired: %s", x.offer_id, meso_db_error (self->db)->message);
    }
    PQclear (res);
    return n;
}

/* ------------------------------------------------------------ replies */

typedef struct {
    Meso__V1__WaitlistEntry e;
    Meso__V1__SlotOffer o;
    char *areas[SCHED_MAX_AREAS];
} s_entry_t;

static void
s_entry (PGresult *res, int i, s_entry_t *x)
{
    meso__v1__waitlist_entry__init (&x->e);
    x->e.entry_id = PQgetvalue (res, i, W_ENTRY);
    x->e.clinic_id = PQgetvalue (res, i, W_CLINIC);
    x->e.patient_id = PQgetvalue (res, i, W_PATIENT);
    x->e.practitioner_id = PQgetvalue (res, i, W_PRACT);
    x->e.from_date = PQgetvalue (res, i, W_FROM);
    x->e.to_date = PQgetvalue (res, i, W_TO);
    x->e.n_areas = rows_split (PQgetvalue (res, i, W_AREAS), x->areas, SCHED_MAX_AREAS);
    x->e.areas = x->areas;
    x->e.recipe_id = PQgetvalue (res, i, W_RECIPE);
    x->e.appointment_id = PQgetvalue (res, i, W_APPT);
    x->e.status = meso_enum_from_db (&meso__v1__waitlist_status__descriptor, PQgetvalue (res, i, W_STATUS),
                                     "waitlist status");
    x->e.created_at_us = strtoll (PQgetvalue (res, i, W_CREATED), NULL, 10);
    if (PQgetvalue (res, i, W_OFFER)[0]) {
        meso__v1__slot_offer__init (&x->o);
        x->o.offer_id = PQgetvalue (res, i, W_OFFER);
        x->o.practitioner_id = PQgetvalue (res, i, W_O_PRACT);
        x->o.room_id = PQgetvalue (res, i, W_O_ROOM);
        x->o.local_start = PQgetvalue (res, i, W_O_LOCAL);
        x->o.starts_at_us = strtoll (PQgetvalue (res, i, W_O_START), NULL, 10);
        x->o.ends_at_us = strtoll (PQgetvalue (res, i, W_O_END), NULL, 10);
        x->o.expires_at_us = strtoll (PQgetvalue (res, i, W_O_EXPIRES), NULL, 10);
        x->o.status = meso_enum_from_db (&meso__v1__slot_offer_status__descriptor,
                                         PQgetvalue (res, i, W_O_STATUS), "offer status");
        x->e.offer = &x->o;
    }
}

static int
s_reply_entry (meso_db_t *db, const char *clinic_id, const char *entry_id, meso_reply_t *reply)
{
    PGresult *res = store_waitlist_get (db, clinic_id, entry_id, false);
    if (!res)
        return -1;
    if (PQntuples (res) != 1) {
        PQclear (res);
        meso_reply_error (reply, MESO_NOT_FOUND, "no waitlist entry %s at clinic %s", entry_id, clinic_id);
        meso_reply_reason (reply, "unknown_entry", "entry_id", "no entry of this clinic has this id");
        return -1;
    }
    s_entry_t x;
    s_entry (res, 0, &x);
    Meso__V1__WaitlistEntryReply out = MESO__V1__WAITLIST_ENTRY_REPLY__INIT;
    out.entry = &x.e;
    meso_reply_ok (reply, &out.base);
    PQclear (res);
    return 0;
}

/* --------------------------------------------------------- JoinWaitlist */

typedef struct {
    Meso__V1__JoinWaitlistRequest *in;
    char entry_id[40];
    char appointment_id[SCHED_ID_MAX + 1];
    char areas[SCHED_MAX_AREAS * (SCHED_ID_MAX + 1) + 4];       /* "{a,b}" */
    char recipe_id[SCHED_ID_MAX + 1];
} s_join_t;

static int
s_join_effect (meso_db_t *db, sched_job_t *job)
{
    s_join_t *j = job->in;
    Meso__V1__JoinWaitlistRequest *in = j->in;
    if (store_waitlist_insert (db, in->clinic_id, j->entry_id, in->patient_id, in->practitioner_id, in->from_date,
                               in->to_date, j->areas, j->recipe_id, j->appointment_id) != 0)
        return -1;
    return s_reply_entry (db, in->clinic_id, j->entry_id, job->reply);
}

/* The session the entry would move (by appointment or the course's next
 * booked one): the patient's, booked, at this clinic; its areas and
 * recipe become the entry's. 0 or -1 (reply set). */
static int
s_join_session (scheduling_t *self, s_join_t *j, const store_clinic_t *clinic, meso_reply_t *reply)
{
    Meso__V1__JoinWaitlistRequest *in = j->in;
    if (in->course_id && in->course_id[0]) {
        PGresult *res = store_course_sessions (self->db, in->course_id);
        if (!res) {
            meso_reply_db_error (reply, self->db, "course");
            return -1;
        }
        for (int i = 0; i < PQntuples (res) && !j->appointment_id[0]; i++)
            if (strcmp (PQgetvalue (res, i, SC_STATUS), "booked") == 0
                && strtoll (PQgetvalue (res, i, SC_START), NULL, 10) > clinic->now_us)
                snprintf (j->appointment_id, sizeof j->appointment_id, "%s", PQgetvalue (res, i, SC_APPT));
        PQclear (res);
        if (!j->appointment_id[0]) {
            meso_reply_error (reply, MESO_FAILED_PRECONDITION, "course %s has no booked session to move", in->course_id);
            meso_reply_reason (reply, "no_remaining_session", "course_id", "no booked session ahead");
            return -1;
        }
    }
    else
        snprintf (j->appointment_id, sizeof j->appointment_id, "%s", in->appointment_id);
    PGresult *a = store_appointment_start (self->db, in->clinic_id, j->appointment_id);
    if (!a) {
        meso_reply_db_error (reply, self->db, "session");
        return -1;
    }
    int rc = -1;
    const char *field = in->course_id && in->course_id[0] ? "course_id" : "appointment_id";
    if (PQntuples (a) != 1 || strcmp (PQgetvalue (a, 0, 0), in->patient_id) != 0) {
        meso_reply_error (reply, MESO_NOT_FOUND, "no session %s of patient %s at clinic %s", j->appointment_id,
                          in->patient_id, in->clinic_id);
        meso_reply_reason (reply, "unknown_appointment", field, "not a session of this patient at this clinic");
    }
    else if (strcmp (PQgetvalue (a, 0, 1), "booked") != 0) {
        meso_reply_error (reply, MESO_FAILED_PRECONDITION, "session %s is %s", j->appointment_id, PQgetvalue (a, 0, 1));
        meso_reply_reason (reply, "wrong_status", field, "only a booked session can be moved earlier");
    }
    else {
        snprintf (j->areas, sizeof j->areas, "{%s}", PQgetvalue (a, 0, 2));
        snprintf (j->recipe_id, sizeof j->recipe_id, "%s", PQgetvalue (a, 0, 3));
        rc = 0;
    }
    PQclear (a);
    return rc;
}

void
waitlist_join (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    scheduling_t *self = arg;
    Meso__V1__JoinWaitlistRequest *in = body;
    int bad = 0;
    int32_t from = 0, to = 0;
    sched_need_id (reply, &bad, "clinic_id", in->clinic_id);
    sched_need_ref (reply, &bad, "patient_id", in->patient_id);
    if (in->practitioner_id && in->practitioner_id[0] && !sched_code_ok (in->practitioner_id))
        sched_bad (reply, &bad, "invalid_id", "practitioner_id", "a practitioner id");
    if (meso_date_parse (in->from_date, &from) != 0)
        sched_bad (reply, &bad, "invalid_date", "from_date", "required, \"YYYY-MM-DD\"");
    if (meso_date_parse (in->to_date, &to) != 0)
        sched_bad (reply, &bad, "invalid_date", "to_date", "required, \"YYYY-MM-DD\"");
    else if (from && to < from)
        sched_bad (reply, &bad, "out_of_range", "to_date", "on or after from_date");
    else if (from && to - from > 366)
        sched_bad (reply, &bad, "out_of_range", "to_date", "a window of at most 366 days");
    bool moves = (in->appointment_id && in->appointment_id[0]) || (in->course_id && in->course_id[0]);
    sched_text_max (reply, &bad, "appointment_id", in->appointment_id, SCHED_ID_MAX);
    sched_text_max (reply, &bad, "course_id", in->course_id, SCHED_ID_MAX);
    if (in->appointment_id && in->appointment_id[0] && in->course_id && in->course_id[0])
        sched_bad (reply, &bad, "conflict", "course_id", "give appointment_id or course_id, not both");
    if (!moves) {
        if (in->n_areas == 0 || in->n_areas > SCHED_MAX_AREAS)
            sched_bad (reply, &bad, "missing_field", "areas", "1..16 treatment areas for a new session");
        sched_check_areas (reply, &bad, "areas", in->areas, in->n_areas);
        sched_need_id (reply, &bad, "recipe_id", in->recipe_id);
    }
    store_clinic_t clinic;
    if (bad || sched_clinic_load (self, in->clinic_id, "clinic_id", &clinic, reply) != 0)
        return;
    if (to < clinic.today) {
        meso_reply_error (reply, MESO_INVALID_ARGUMENT, "to_date: the window has passed");
        meso_reply_reason (reply, "in_the_past", "to_date", "the clinic's local date is later");
        return;
    }
    s_join_t j;
    memset (&j, 0, sizeof j);
    j.in = in;
    if (meso_uuid_v4 (j.entry_id) != 0) {
        meso_reply_error (reply, MESO_INTERNAL, "no randomness for ids");
        return;
    }
    if (moves) {
        if (s_join_session (self, &j, &clinic, reply) != 0)
            return;
    }
    else {
        store_array_literal (j.areas, sizeof j.areas, in->areas, in->n_areas);
        snprintf (j.recipe_id, sizeof j.recipe_id, "%s", in->recipe_id);
    }
    sched_run (self, req, reply, &j, s_join_effect);
}

/* -------------------------------------------------------- LeaveWaitlist */

static int
s_leave_effect (meso_db_t *db, sched_job_t *job)
{
    Meso__V1__LeaveWaitlistRequest *in = job->in;
    PGresult *res = store_waitlist_get (db, in->clinic_id, in->entry_id, true);
    if (!res)
        return -1;
    int n = PQntuples (res);
    if (n == 1)
        meso_call_patient (PQgetvalue (res, 0, W_PATIENT), in->clinic_id);     /* the audit trail */
    PQclear (res);
    if (n != 1)
        return s_reply_entry (db, in->clinic_id, in->entry_id, job->reply);     /* NOT_FOUND */
    if (store_waitlist_leave (db, in->clinic_id, in->entry_id) < 0)
        return -1;
    PGresult *o = store_offer_open_of (db, in->clinic_id, in->entry_id);
    if (!o)
        return -1;
    int rc = PQntuples (o) == 1
        ? s_close_and_pass (job->arg, db, in->clinic_id, PQgetvalue (o, 0, O_OFFER), "withdrawn") : 0;
    PQclear (o);
    if (rc != 0)
        return -1;
    return s_reply_entry (db, in->clinic_id, in->entry_id, job->reply);
}

void
waitlist_leave (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    Meso__V1__LeaveWaitlistRequest *in = body;
    int bad = 0;
    sched_need_id (reply, &bad, "clinic_id", in->clinic_id);
    sched_need_ref (reply, &bad, "entry_id", in->entry_id);
    if (!bad)
        sched_run (arg, req, reply, in, s_leave_effect);
}

/* --------------------------------------------------------- ListWaitlist */

void
waitlist_list (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    scheduling_t *self = arg;
    Meso__V1__ListWaitlistRequest *in = body;
    int bad = 0;
    sched_need_id (reply, &bad, "clinic_id", in->clinic_id);
    char status[MESO_ENUM_TEXT_MAX] = "waiting";
    if (in->status != MESO__V1__WAITLIST_FILTER__WAITLIST_FILTER_UNSPECIFIED
        && !meso_enum_text (&meso__v1__waitlist_filter__descriptor, (int) in->status, status, sizeof status))
        sched_bad (reply, &bad, "out_of_range", "status", "WAITLIST_FILTER_WAITING, _SERVED, _LEFT or _ALL");
    if (in->page_size > 500)
        sched_bad (reply, &bad, "out_of_range", "page_size", "at most 500 (0: 100)");
    meso_page_pos_t pos;
    char *end = NULL;
    if (meso_page_token_decode (S_LIST, in->page_token, 1, &pos) != 0
        || (pos.n == 1 && (strtoll (pos.key[0], &end, 10) < 0 || !end || *end)))
        sched_bad (reply, &bad, "invalid_token", "page_token", "not a page token of this list");
    if (bad)
        return;
    uint32_t size = meso_page_size (in->page_size, 100, 500);
    PGresult *res = store_waitlist_list (self->db, in->clinic_id, status, pos.n ? pos.key[0] : NULL, (int) size + 1);
    if (!res) {
        meso_reply_db_error (reply, self->db, "waitlist");
        return;
    }
    int n = PQntuples (res);
    s_entry_t *x = calloc ((size_t) n + 1, sizeof *x);
    Meso__V1__WaitlistEntry **ep = calloc ((size_t) n + 1, sizeof *ep);
    if (x && ep) {
        Meso__V1__ListWaitlistReply out = MESO__V1__LIST_WAITLIST_REPLY__INIT;
        size_t kept = (size_t) n > size ? size : (size_t) n;
        for (size_t i = 0; i < kept; i++) {
            s_entry (res, (int) i, &x[i]);
            ep[i] = &x[i].e;
        }
        out.entries = ep;
        out.n_entries = kept;
        meso_page_fit (&out.base, &out.n_entries, MESO_PAGE_REPLY_LIMIT - 1024);
        /* The audit trail: one row per patient on the page (none: none). */
        for (size_t i = 0; i < out.n_entries; i++)
            meso_call_patient (ep[i]->patient_id, in->clinic_id);
        if (out.n_entries == 0)
            meso_call_patient (NULL, NULL);
        char token[MESO_PAGE_TOKEN_MAX] = "";
        if (out.n_entries > 0 && (out.n_entries < kept || (size_t) n > size)) {
            const char *key[] = { PQgetvalue (res, (int) out.n_entries - 1, W_SEQ) };
            meso_page_token_encode (S_LIST, key, 1, token, sizeof token);
        }
        out.next_page_token = token;
        meso_reply_ok (reply, &out.base);
    }
    else
        meso_reply_error (reply, MESO_RESOURCE_EXHAUSTED, "out of memory");
    free (x);
    free (ep);
    PQclear (res);
}
