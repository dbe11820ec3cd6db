/* offers.c -- AcceptOffer: the patient of an open waitlist offer takes the
 * held slot.
 *
 * Accepting is booking into the slot, by the method that fits the entry:
 * Reschedule of the session it would move (sessions.c: the session's
 * rules, spacing, stock re-dated) or BookSession of a new session with
 * the entry's areas and recipe (courses.c: the booking saga). The request
 * envelope is passed through, so the idempotency key of AcceptOffer is
 * the one those methods claim: a retry replays the stored reply. The hold
 * lets this patient (and only this one) into the slot, and the booking
 * marks the offer accepted and the entry served (migration 032's
 * trigger). The reply is a SessionReply either way.
 *
 * Apart from waitlist.c because it calls the methods of sessions.c and
 * courses.c, which call waitlist.c when they free a slot. */
#include "meso/audit.h"
#include "scheduling.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A BookCourseReply in reply (a new session) as the SessionReply of its
 * one session. */
static void
s_as_session_reply (meso_reply_t *reply)
{
    size_t len;
    uint8_t *packed = meso_reply_pack (reply, &len);
    Meso__V1__Reply *env = packed ? meso__v1__reply__unpack (NULL, len, packed) : NULL;
    free (packed);
    Meso__V1__BookCourseReply *bc = env ? meso__v1__book_course_reply__unpack (NULL, env->body.len, env->body.data)
                                        : NULL;
    if (bc && bc->course && bc->course->n_sessions == 1) {
        Meso__V1__SessionReply out = MESO__V1__SESSION_REPLY__INIT;
        out.session = bc->course->sessions[0];
        meso_reply_reset (reply);
        meso_reply_ok (reply, &out.base);
    }
    else {
        meso_reply_reset (reply);
        meso_reply_error (reply, MESO_INTERNAL, "the booking's reply does not decode");
    }
    if (bc)
        meso__v1__book_course_reply__free_unpacked (bc, NULL);
    if (env)
        meso__v1__reply__free_unpacked (env, NULL);
}

void
offers_accept (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    scheduling_t *self = arg;
    Meso__V1__AcceptOfferRequest *in = body;
    int bad = 0;
    sched_need_id (reply, &bad, "clinic_id", in->clinic_id);
    sched_need_ref (reply, &bad, "offer_id", in->offer_id);
    if (bad)
        return;
    PGresult *o = store_offer_get (self->db, in->clinic_id, in->offer_id, false);
    if (!o) {
        meso_reply_db_error (reply, self->db, "offer");
        return;
    }
    if (PQntuples (o) != 1) {
        meso_reply_error (reply, MESO_NOT_FOUND, "no offer %s at clinic %s", in->offer_id, in->clinic_id);
        meso_reply_reason (reply, "unknown_offer", "offer_id", "no offer of this clinic has this id");
        PQclear (o);
        return;
    }
    bool moves = PQgetvalue (o, 0, O_APPT)[0] != '\0';
    bool open = strcmp (PQgetvalue (o, 0, O_STATUS), "open") == 0 && strcmp (PQgetvalue (o, 0, O_EXPIRED), "f") == 0;
    /* A retry of an accept that went through finds the offer accepted:
     * its stored reply answers it. */
    if (!open && saga_replayed (self, req, reply)) {
        if (!moves && meso_reply_status (reply) == MESO_OK)
            s_as_session_reply (reply);
        PQclear (o);
        return;
    }
    if (!open) {
        meso_reply_error (reply, MESO_FAILED_PRECONDITION, "offer %s is %s", in->offer_id,
                          strcmp (PQgetvalue (o, 0, O_STATUS), "open") == 0 ? "expired" : PQgetvalue (o, 0, O_STATUS));
        meso_reply_reason (reply, "offer_not_open", "offer_id", "only an open offer, before its hold ends, can be taken");
        PQclear (o);
        return;
    }
    meso_call_patient (PQgetvalue (o, 0, O_PATIENT), in->clinic_id);    /* the audit trail */
    if (moves) {
        Meso__V1__RescheduleRequest rr = MESO__V1__RESCHEDULE_REQUEST__INIT;
        rr.appointment_id = PQgetvalue (o, 0, O_APPT);
        rr.local_start = PQgetvalue (o, 0, O_LOCAL);
        rr.practitioner_id = PQgetvalue (o, 0, O_PRACT);
        rr.room_id = PQgetvalue (o, 0, O_ROOM);
        sessions_reschedule (req, &rr, reply, self);
    }
    else {
        char areas_text[SCHED_MAX_AREAS * (SCHED_ID_MAX + 1) + 4], *areas[SCHED_MAX_AREAS];
        snprintf (areas_text, sizeof areas_text, "%s", PQgetvalue (o, 0, O_AREAS));
        Meso__V1__BookSessionRequest bs = MESO__V1__BOOK_SESSION_REQUEST__INIT;
        bs.clinic_id = in->clinic_id;
        bs.patient_id = PQgetvalue (o, 0, O_PATIENT);
        bs.practitioner_id = PQgetvalue (o, 0, O_PRACT);
        bs.room_id = PQgetvalue (o, 0, O_ROOM);
        bs.local_start = PQgetvalue (o, 0, O_LOCAL);
        bs.duration_minutes = (uint32_t) ((strtoll (PQgetvalue (o, 0, O_END), NULL, 10)
                                           - strtoll (PQgetvalue (o, 0, O_START), NULL, 10)) / 60000000);
        bs.areas = areas;
        bs.n_areas = rows_split (areas_text, areas, SCHED_MAX_AREAS);
        bs.recipe_id = PQgetvalue (o, 0, O_RECIPE);
        courses_book_session (req, &bs, reply, self);
        if (meso_reply_status (reply) == MESO_OK)
            s_as_session_reply (reply);
    }
    PQclear (o);
}
