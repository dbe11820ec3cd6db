/* erasure.c -- screening.ErasePatient: a patient's personal and health
 * data made unreadable for good, every record kept (GDPR article 17,
 * crypto-shredding; meso/vault.h).
 *
 * One transaction, under the patient's row lock: the data key is
 * destroyed (vault.patient_keys.wrapped set to NULL, with when, who and
 * why), the plaintext columns of a row written before migration 023 are
 * emptied, the stored replies of earlier requests that repeated the
 * patient's data are deleted, and screening.patient_erased is emitted
 * (without the reason, which may itself be personal). Screenings, changes,
 * consents, scheduling's sessions and billing's ledger stay as they are:
 * their ids, dates, amounts and verdicts still add up; what was sealed
 * under the key no longer opens. The events daemon deletes the patient's
 * full health payloads from the event log when it relays the event.
 *
 * Future sessions: erasure is refused while scheduling holds a session of
 * the patient that is pending, booked, on hold or started (asked with
 * scheduling.GetCourse before the transaction), naming them: the clinic
 * cancels them first (releasing their stock, with whatever fee its policy
 * says), then erases. Erasing under a booked session would leave a slot
 * held for nobody and a session that can never start (its screening no
 * longer opens). When scheduling does not answer the erasure is refused
 * UNAVAILABLE; without a scheduling endpoint (--scheduling=) nothing is
 * asked, as for clinic ids. */
#include "screening.h"

#include <stdio.h>
#include <string.h>

#include "events.pb-c.h"
#include "meso/access.h"
#include "meso/enumtext.h"
#include "meso/handler.h"
#include "scheduling.pb-c.h"

#define ERASE_SCHEDULING_DEADLINE_MS 2000
#define ERASE_REASON_MAX 1000

static bool
s_session_live (Meso__V1__SessionStatus status)
{
    return status == MESO__V1__SESSION_STATUS__SESSION_STATUS_PENDING
           || status == MESO__V1__SESSION_STATUS__SESSION_STATUS_BOOKED
           || status == MESO__V1__SESSION_STATUS__SESSION_STATUS_ON_HOLD
           || status == MESO__V1__SESSION_STATUS__SESSION_STATUS_STARTED;
}

/* 0 when scheduling holds no live session of the patient; else -1 with
 * the reply set (FAILED_PRECONDITION naming them, or UNAVAILABLE). */
static int
s_no_sessions (screening_t *self, meso_reply_t *reply, const char *patient_id)
{
    if (!self->scheduling)
        return 0;
    Meso__V1__GetCourseRequest rq = MESO__V1__GET_COURSE_REQUEST__INIT;
    rq.patient_id = (char *) patient_id;
    rq.key_case = MESO__V1__GET_COURSE_REQUEST__KEY_PATIENT_ID;
    meso_result_t r = { 0 };
    int rc = meso_bus_client_call (self->scheduling, "scheduling.GetCourse", &rq.base, NULL,
                                   ERASE_SCHEDULING_DEADLINE_MS, &r);
    Meso__V1__GetCourseReply *out = NULL;
    if (rc == 0) {
        size_t len;
        const uint8_t *body = meso_result_body (&r, &len);
        out = meso__v1__get_course_reply__unpack (NULL, len, body);
    }
    bool none = r.reply && r.reply->status == MESO__V1__STATUS__STATUS_NOT_FOUND;
    if (!out && !none) {
        meso_reply_error (reply, MESO_UNAVAILABLE,
                          "cannot erase patient %s: scheduling did not say whether it has sessions booked",
                          patient_id);
        meso_reply_detail (reply, "%s", r.message);
        meso_result_reset (&r);
        return -1;
    }
    meso_result_reset (&r);
    size_t live = 0;
    for (size_t c = 0; out && c < out->n_courses; c++)
        for (size_t s = 0; s < out->courses[c]->n_sessions; s++) {
            const Meso__V1__Session *ss = out->courses[c]->sessions[s];
            if (!s_session_live (ss->status))
                continue;
            char status[MESO_ENUM_TEXT_MAX];
            if (live < 5)
                meso_reply_reason (reply, "sessions_booked", "patient_id",
                                   "session %s at %s on %s is %s", ss->appointment_id,
                                   ss->clinic_id, ss->local_start,
                                   meso_enum_text (&meso__v1__session_status__descriptor, (int) ss->status,
                                                   status, sizeof status) ? status : "live");
            live++;
        }
    if (out)
        meso__v1__get_course_reply__free_unpacked (out, NULL);
    if (live == 0)
        return 0;
    meso_reply_error (reply, MESO_FAILED_PRECONDITION,
                      "patient %s has %zu session(s) booked: cancel them before erasing", patient_id,
                      live);
    meso_reply_detail (reply, "scheduling.Cancel each session (mesoctl scheduling cancel), then erase");
    return -1;
}

static int
s_erase_txn (meso_db_t *db, screening_call_t *c)
{
    Meso__V1__ErasePatientRequest *rq = c->body;
    store_patient_t p;
    if (screening_patient (c->reply, db, rq->patient_id, true, &p) != 0
        || screening_scope_patient (c->reply, db, &p, false, "patient_id") != 0)
        return -1;
    const meso_principal_t *who = meso_call_principal ();
    int64_t at = 0;
    int rc = meso_vault_key_erase (db, p.id, p.home_clinic_id, who ? who->name : "", rq->reason, &at);
    long replies = 0;
    if (rc < 0 || (rc == 1 && store_patient_erase (db, p.id, &replies) != 0)) {
        meso_reply_db_error (c->reply, db, "cannot erase the patient");
        return -1;
    }
    if (rc == 1) {
        Meso__V1__Event ev = MESO__V1__EVENT__INIT;
        Meso__V1__PatientErased pe = MESO__V1__PATIENT_ERASED__INIT;
        pe.patient_id = p.id;
        pe.erased_at_us = at;
        ev.payload_case = MESO__V1__EVENT__PAYLOAD_PATIENT_ERASED;
        ev.patient_erased = &pe;
        if (meso_handler_emit (db, &ev, "screening.patient_erased", p.home_clinic_id, c->req->actor,
                               NULL) != 0) {
            meso_reply_db_error (c->reply, db, "cannot record the patient_erased event");
            return -1;
        }
    }
    Meso__V1__ErasePatientReply out = MESO__V1__ERASE_PATIENT_REPLY__INIT;
    out.patient_id = p.id;
    out.erased_at_us = at;
    out.already_erased = rc == 0;
    out.replies_deleted = (uint32_t) replies;
    meso_reply_ok (c->reply, &out.base);
    return 0;
}

void
screening_erase_patient (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    screening_call_t call = { arg, req, body, reply, NULL, NULL, NULL, "" };
    Meso__V1__ErasePatientRequest *rq = body;
    rules_reasons_t bad = { .n = 0 };
    screening_need_patient_id (&bad, "patient_id", rq->patient_id);
    size_t n = screening_chars (rq->reason);
    if (n == 0)
        rules_reason_add (&bad, true, "missing_field", "reason",
                          "reason is required: why the patient is erased (e.g. the request's reference).");
    else if (n > ERASE_REASON_MAX)
        rules_reason_add (&bad, true, "too_long", "reason", "reason is longer than %d characters.",
                          ERASE_REASON_MAX);
    if (screening_invalid (reply, &bad, req->method))
        return;
    if (screening_scope_patient_id (call.self, reply, rq->patient_id, false, "patient_id") != 0
        || s_no_sessions (call.self, reply, rq->patient_id) != 0)
        return;
    screening_run (&call, &bad, s_erase_txn, "cannot erase the patient");
}
