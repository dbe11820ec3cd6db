/* consents.c -- the treatment consent aggregate: SetConsentText,
 * GetConsentText, SignConsent, GetConsents, and the consent part of
 * Check.
 *
 * A clinic publishes a consent text per treatment (e.g.
 * "body_mesotherapy"); each publication is a new version, numbered 1, 2,
 * 3... and never changed. The service computes the SHA-256 of the exact
 * text (consent_rules.c, OpenSSL) and the schema checks that the stored
 * hash is the stored text's. A patient signs one version in front of a
 * witness; the signature copies the text's hash and is append-only
 * (deploy/sql/012_consent.sql: trigger and grants), and emits
 * "screening.consent_signed" with the fact only, no health data.
 *
 * Decisions:
 *   - a new signature is always of the clinic's current version: the
 *     patient signs what the clinic presents now. An older version is
 *     refused ("consent_outdated", naming the current one), so a
 *     signature of an old text can only be one made while it was current;
 *   - republishing the current text unchanged publishes nothing (the
 *     reply says created = false), so a retried or repeated set does not
 *     make every signature outdated;
 *   - Check takes the treatment (and whether a new course is booked) from
 *     scheduling in the request it already makes, so consent costs no
 *     second round trip. Any signed version lets a session start; a new
 *     course needs the current one ("new versions apply to new courses").
 *
 * Calls go down only: this file -> frame.c, store_consent.c,
 * consent_rules.c; screenings.c calls the two Check helpers here. */
#include "screening.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "consent_rules.h"
#include "events.pb-c.h"
#include "meso/handler.h"
#include "meso/uuid.h"

/* ------------------------------------------------------------- helpers */

static void
s_need_treatment (rules_reasons_t *bad, const char *field, const char *value, bool required)
{
    if (!value || !*value) {
        if (required)
            rules_reason_add (bad, true, "missing_field", field,
                              "%s is required (a treatment code, e.g. body_mesotherapy).", field);
    }
    else if (!consent_treatment_valid (value))
        rules_reason_add (bad, true, "invalid_code", field,
                          "%s must be a treatment code: 1 to %d characters of a-z, 0-9 or _, "
                          "starting with a letter.", field, CONSENT_TREATMENT_MAX);
}

/* The wire form of row r of a store_consent_text result (strings
 * borrowed from res). */
static void
s_text_proto (PGresult *res, int r, Meso__V1__ConsentText *out)
{
    meso__v1__consent_text__init (out);
    out->clinic_id = PQgetvalue (res, r, 0);
    out->treatment = PQgetvalue (res, r, 1);
    out->version = (uint32_t) strtoul (PQgetvalue (res, r, 2), NULL, 10);
    out->text = PQgetvalue (res, r, 3);
    out->sha256 = PQgetvalue (res, r, 4);
    out->created_at_us = strtoll (PQgetvalue (res, r, 5), NULL, 10);
    out->current = PQgetvalue (res, r, 6)[0] == 't';
}

/* The wire form of row r of a signature result (store_consent_sign,
 * store_consents). */
void
screening_sig_proto (PGresult *res, int r, Meso__V1__ConsentSignature *out)
{
    meso__v1__consent_signature__init (out);
    out->signature_id = PQgetvalue (res, r, 0);
    out->patient_id = PQgetvalue (res, r, 1);
    out->clinic_id = PQgetvalue (res, r, 2);
    out->treatment = PQgetvalue (res, r, 3);
    out->version = (uint32_t) strtoul (PQgetvalue (res, r, 4), NULL, 10);
    out->text_sha256 = PQgetvalue (res, r, 5);
    out->witness = PQgetvalue (res, r, 6);
    out->signed_at_us = strtoll (PQgetvalue (res, r, 7), NULL, 10);
    out->current = PQgetvalue (res, r, 8)[0] == 't';
}

static void
s_no_text (meso_reply_t *reply, const char *clinic, const char *treatment, uint32_t version)
{
    if (version)
        meso_reply_reason (reply, "not_found", "version",
                           "clinic %s has no version %u of the %s consent text", clinic, version,
                           treatment);
    else
        meso_reply_reason (reply, "consent_text_missing", "treatment",
                           "clinic %s has no %s consent text (screening.SetConsentText)", clinic,
                           treatment);
    meso_reply_error (reply, MESO_NOT_FOUND, "no %s consent text at clinic %s", treatment, clinic);
}

/* ------------------------------------------------------- SetConsentText */

static int
s_set_txn (meso_db_t *db, screening_call_t *c)
{
    Meso__V1__SetConsentTextRequest *rq = c->body;
    if (store_consent_lock (db, rq->clinic_id, rq->treatment) != 0) {
        meso_reply_db_error (c->reply, db, "cannot lock the consent texts");
        return -1;
    }
    PGresult *res = store_consent_text (db, rq->clinic_id, rq->treatment, 0);
    if (!res) {
        meso_reply_db_error (c->reply, db, "cannot read the consent text");
        return -1;
    }
    bool created = false;
    if (PQntuples (res) == 0 || strcmp (PQgetvalue (res, 0, 3), rq->text) != 0) {
        char sha[CONSENT_SHA256_HEX + 1];
        PQclear (res);
        if (consent_sha256_hex (rq->text, strlen (rq->text), sha) != 0) {
            meso_reply_error (c->reply, MESO_INTERNAL, "cannot compute the SHA-256 of the text");
            return -1;
        }
        res = store_consent_text_insert (db, rq->clinic_id, rq->treatment, rq->text, sha);
        if (!res) {
            meso_reply_db_error (c->reply, db, "cannot store the consent text");
            return -1;
        }
        created = true;
    }
    Meso__V1__ConsentText t;
    s_text_proto (res, 0, &t);
    Meso__V1__SetConsentTextReply out = MESO__V1__SET_CONSENT_TEXT_REPLY__INIT;
    out.consent = &t;
    out.created = created;
    meso_reply_ok (c->reply, &out.base);
    PQclear (res);
    return 0;
}

void
screening_set_consent_text (const Meso__V1__Request *req, void *body, meso_reply_t *reply,
                            void *arg)
{
    screening_call_t call = { arg, req, body, reply, NULL, NULL, NULL, "" };
    Meso__V1__SetConsentTextRequest *rq = body;
    rules_reasons_t bad = { .n = 0 };
    screening_need_clinic (&bad, "clinic_id", rq->clinic_id, true);
    s_need_treatment (&bad, "treatment", rq->treatment, true);
    size_t n = screening_chars (rq->text);
    if (n == 0 || n > CONSENT_TEXT_MAX)
        rules_reason_add (&bad, true, n ? "too_long" : "missing_field", "text",
                          "text (the exact consent text) is required, 1 to %d characters.",
                          CONSENT_TEXT_MAX);
    call.clinic_id = rq->clinic_id;
    call.clinic_field = "clinic_id";
    screening_run (&call, &bad, s_set_txn, "cannot store the consent text");
}

/* ------------------------------------------------------- GetConsentText */

void
screening_get_consent_text (const Meso__V1__Request *req, void *body, meso_reply_t *reply,
                            void *arg)
{
    screening_t *self = arg;
    Meso__V1__GetConsentTextRequest *rq = body;
    rules_reasons_t bad = { .n = 0 };
    screening_need_clinic (&bad, "clinic_id", rq->clinic_id, true);
    s_need_treatment (&bad, "treatment", rq->treatment, true);
    if (rq->version > INT32_MAX)
        rules_reason_add (&bad, true, "out_of_range", "version", "version is out of range.");
    if (screening_invalid (reply, &bad, req->method))
        return;
    PGresult *res = store_consent_text (self->db, rq->clinic_id, rq->treatment, (int) rq->version);
    if (!res) {
        meso_reply_db_error (reply, self->db, "cannot read the consent text");
        return;
    }
    if (PQntuples (res) == 0)
        s_no_text (reply, rq->clinic_id, rq->treatment, rq->version);
    else {
        Meso__V1__ConsentText t;
        s_text_proto (res, 0, &t);
        Meso__V1__GetConsentTextReply out = MESO__V1__GET_CONSENT_TEXT_REPLY__INIT;
        out.consent = &t;
        meso_reply_ok (reply, &out.base);
    }
    PQclear (res);
}

/* ---------------------------------------------------------- SignConsent */

static int
s_sign_txn (meso_db_t *db, screening_call_t *c)
{
    Meso__V1__SignConsentRequest *rq = c->body;
    store_patient_t p;
    if (screening_patient_live (c->reply, db, rq->patient_id, false, &p, "patient_id") != 0)
        return -1;
    /* Under the lock SetConsentText takes: the version checked current
     * here is still current when the signature commits. */
    if (store_consent_lock (db, rq->clinic_id, rq->treatment) != 0) {
        meso_reply_db_error (c->reply, db, "cannot lock the consent texts");
        return -1;
    }
    PGresult *res = store_consent_text (db, rq->clinic_id, rq->treatment, 0);
    if (!res) {
        meso_reply_db_error (c->reply, db, "cannot read the consent text");
        return -1;
    }
    if (PQntuples (res) == 0) {
        PQclear (res);
        s_no_text (c->reply, rq->clinic_id, rq->treatment, 0);
        return -1;
    }
    Meso__V1__ConsentText t;
    s_text_proto (res, 0, &t);
    if (t.version != rq->version) {
        meso_reply_reason (c->reply, "consent_outdated", "version",
                           "version %u is not the current %s consent text of clinic %s (version %u)"
                           ": read the current text to the patient and sign that",
                           rq->version, rq->treatment, rq->clinic_id, t.version);
        meso_reply_error (c->reply, MESO_FAILED_PRECONDITION,
                          "only the current version (%u) of a consent text can be signed", t.version);
        PQclear (res);
        return -1;
    }
    if (rq->text_sha256 && *rq->text_sha256 && strcmp (rq->text_sha256, t.sha256) != 0) {
        meso_reply_reason (c->reply, "text_mismatch", "text_sha256",
                           "the text shown is not version %u of the %s consent (sha256 %s)",
                           t.version, rq->treatment, t.sha256);
        meso_reply_error (c->reply, MESO_FAILED_PRECONDITION,
                          "the text the patient was shown is not the one to be signed");
        PQclear (res);
        return -1;
    }
    char sha[CONSENT_SHA256_HEX + 1], id[MESO_UUID_LEN + 1];
    snprintf (sha, sizeof sha, "%s", t.sha256);
    PQclear (res);
    if (meso_uuid_v4 (id) != 0) {
        meso_reply_error (c->reply, MESO_INTERNAL, "no randomness for a signature id");
        return -1;
    }
    res = store_consent_sign (db, id, p.id, rq->clinic_id, rq->treatment, (int) rq->version, sha,
                              rq->witness);
    if (!res) {
        meso_reply_db_error (c->reply, db, "cannot store the signature");
        return -1;
    }
    Meso__V1__ConsentSignature sig;
    screening_sig_proto (res, 0, &sig);

    Meso__V1__ConsentSigned cs = MESO__V1__CONSENT_SIGNED__INIT;
    cs.patient_id = sig.patient_id;
    cs.signature_id = sig.signature_id;
    cs.treatment = sig.treatment;
    cs.version = sig.version;
    cs.text_sha256 = sig.text_sha256;
    cs.witness = sig.witness;
    cs.signed_at_us = sig.signed_at_us;
    Meso__V1__Event ev = MESO__V1__EVENT__INIT;
    ev.payload_case = MESO__V1__EVENT__PAYLOAD_CONSENT_SIGNED;
    ev.consent_signed = &cs;
    if (meso_handler_emit (db, &ev, "screening.consent_signed", rq->clinic_id, c->req->actor,
                           NULL) != 0) {
        meso_reply_db_error (c->reply, db, "cannot record the consent_signed event");
        PQclear (res);
        return -1;
    }
    Meso__V1__SignConsentReply out = MESO__V1__SIGN_CONSENT_REPLY__INIT;
    out.signature = &sig;
    meso_reply_ok (c->reply, &out.base);
    PQclear (res);
    return 0;
}

void
screening_sign_consent (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    screening_call_t call = { arg, req, body, reply, NULL, NULL, NULL, "" };
    Meso__V1__SignConsentRequest *rq = body;
    rules_reasons_t bad = { .n = 0 };
    screening_need_patient_id (&bad, "patient_id", rq->patient_id);
    screening_need_clinic (&bad, "clinic_id", rq->clinic_id, true);
    s_need_treatment (&bad, "treatment", rq->treatment, true);
    if (rq->version == 0 || rq->version > INT32_MAX)
        rules_reason_add (&bad, true, rq->version ? "out_of_range" : "missing_field", "version",
                          "version (of the text read to the patient) is required.");
    size_t n = screening_chars (rq->witness);
    if (n == 0 || n > CONSENT_WITNESS_MAX)
        rules_reason_add (&bad, true, n ? "too_long" : "missing_field", "witness",
                          "witness (who saw the patient sign) is required, 1 to %d characters.",
                          CONSENT_WITNESS_MAX);
    if (rq->text_sha256 && *rq->text_sha256 && !consent_sha256_valid (rq->text_sha256))
        rules_reason_add (&bad, true, "invalid_hash", "text_sha256",
                          "text_sha256 must be 64 lowercase hex digits.");
    call.clinic_id = rq->clinic_id;
    call.clinic_field = "clinic_id";
    screening_run (&call, &bad, s_sign_txn, "cannot store the signature");
}

/* ---------------------------------------------------------- GetConsents */

#define S_CONSENTS "screening.GetConsents"

void
screening_get_consents (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    screening_t *self = arg;
    Meso__V1__GetConsentsRequest *rq = body;
    rules_reasons_t bad = { .n = 0 };
    screening_need_patient_id (&bad, "patient_id", rq->patient_id);
    screening_need_clinic (&bad, "clinic_id", rq->clinic_id, false);
    s_need_treatment (&bad, "treatment", rq->treatment, false);
    meso_page_pos_t pos;
    if (!meso_handler_page_ok (S_CONSENTS, rq->page_token, "iu", &pos))
        rules_reason_add (&bad, true, "invalid_page_token", "page_token",
                          "page_token is not a token of %s: send the next_page_token of a "
                          "previous reply, or none for the first page.", S_CONSENTS);
    if (screening_invalid (reply, &bad, req->method))
        return;
    store_patient_t p;
    if (screening_patient (reply, self->db, rq->patient_id, false, &p) != 0)
        return;
    uint32_t size = meso_page_size (rq->page_size, 1000, 1000);
    PGresult *res = store_consents (self->db, p.id, rq->clinic_id, rq->treatment,
                                    pos.n ? pos.key[0] : NULL, pos.n ? pos.key[1] : NULL,
                                    (int) size + 1);
    if (!res) {
        meso_reply_db_error (reply, self->db, "cannot read the signatures");
        return;
    }
    size_t fetched = (size_t) PQntuples (res);
    size_t n = fetched > size ? size : fetched;
    Meso__V1__ConsentSignature *items = calloc (n + 1, sizeof *items);
    Meso__V1__ConsentSignature **ptrs = calloc (n + 1, sizeof *ptrs);
    if (!items || !ptrs)
        meso_reply_error (reply, MESO_RESOURCE_EXHAUSTED, "out of memory");
    else {
        for (size_t i = 0; i < n; i++) {
            screening_sig_proto (res, (int) i, &items[i]);
            ptrs[i] = &items[i];
        }
        Meso__V1__GetConsentsReply out = MESO__V1__GET_CONSENTS_REPLY__INIT;
        char next[MESO_PAGE_TOKEN_MAX] = "";
        out.n_signatures = n;
        out.signatures = ptrs;
        out.next_page_token = next;
        int more = meso_handler_page_fit (reply, &out.base, &out.n_signatures, fetched, size);
        if (more > 0) {
            int last = (int) out.n_signatures - 1;
            const char *k[] = { PQgetvalue (res, last, 7), PQgetvalue (res, last, 0) };
            if (meso_handler_page_next (reply, S_CONSENTS, k, 2, next) != 0)
                more = -1;
        }
        if (more >= 0)
            meso_reply_ok (reply, &out.base);
    }
    free (items);
    free (ptrs);
    PQclear (res);
}

/* ------------------------------------------------------ Check's part */

void
screening_consent_need (rules_reasons_t *bad, const Meso__V1__CheckRequest *rq)
{
    s_need_treatment (bad, "treatment", rq->treatment, false);
    if (rq->treatment && *rq->treatment && !(rq->clinic_id && *rq->clinic_id))
        rules_reason_add (bad, true, "missing_field", "clinic_id",
                          "clinic_id is required with treatment (consent is the clinic's).");
}

int
screening_consent_check (meso_db_t *db, meso_reply_t *reply, const Meso__V1__CheckRequest *rq,
                         const char *patient_id, rules_check_t *out, uint32_t *version)
{
    *version = 0;
    if (!rq->treatment || !*rq->treatment)
        return 0;
    consent_state_t st = { rq->clinic_id, rq->treatment, 0, 0, false, rq->require_current_consent };
    if (store_consent_state (db, patient_id, rq->clinic_id, rq->treatment, &st.current_version,
                             &st.newest_signed, &st.current_signed) != 0) {
        meso_reply_db_error (reply, db, "cannot read the patient's consents");
        return -1;
    }
    /* A refusal of an otherwise allowed session replaces the precautions
     * (an allowed check's reasons) and is not cleared by waiting. */
    rules_reasons_t refusal = { .n = 0 };
    if (!consent_decide (&st, &refusal)) {
        if (out->allowed)
            out->reasons.n = 0;
        for (size_t i = 0; i < refusal.n && out->reasons.n < RULES_MAX_REASONS; i++)
            out->reasons.items[out->reasons.n++] = refusal.items[i];
        out->allowed = false;
        out->earliest_allowed = RULES_NO_DATE;
        return 0;
    }
    *version = (uint32_t) (st.current_signed && rq->require_current_consent ? st.current_version
                                                                            : st.newest_signed);
    return 0;
}
