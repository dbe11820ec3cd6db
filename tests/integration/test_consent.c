/* test_consent.c -- treatment consent, against real PostgreSQL and real
 * meso-screening, meso-inventory and meso-scheduling over real sockets:
 *   - a session does not start without a signed consent for its treatment
 *     at its clinic (the refusal names the treatment, the clinic and what
 *     is missing), and starts once the patient signed;
 *   - a booking without a signature is refused and leaves nothing;
 *   - a new version of the text applies to new courses: the running
 *     course goes on under the old signature, a new course is refused
 *     until the current version is signed, and an old version can no
 *     longer be signed;
 *   - the stored SHA-256 is the exact text's, republishing the same text
 *     publishes nothing, a signature given on another text is refused;
 *   - signing emits screening.consent_signed with the fact and no more;
 *   - signatures and texts cannot be updated or deleted by the service's
 *     role (grants), nor by anyone (trigger). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "events.pb-c.h"
#include "scheduling_fixture.h"

static const char *const s_practs[] = { "dr-a" };
static const char *const s_rooms[] = { "room-1" };

/* A patient registered and screened but who signed nothing. */
static void
s_unsigned_patient (fx_t *fx, const char *clinic, char *id)
{
    int saved = fx->nclinics;
    fx->nclinics = 0;
    fx_patient (fx, clinic, NULL, false, id);
    fx->nclinics = saved;
}

static int
s_start (fx_t *fx, const char *appt, meso_result_t *r)
{
    Meso__V1__SessionRef ref = MESO__V1__SESSION_REF__INIT;
    ref.appointment_id = (char *) appt;
    return fx_call (fx, fx->sch, "scheduling.StartSession", &ref.base, NULL, r);
}

/* The message of the reason with code, or NULL. */
static const char *
s_reason (const meso_result_t *r, const char *code, const char *field)
{
    for (size_t i = 0; r->reply && i < r->reply->n_reasons; i++)
        if (strcmp (r->reply->reasons[i]->code, code) == 0
            && (!field || strcmp (r->reply->reasons[i]->field, field) == 0))
            return r->reply->reasons[i]->message;
    return NULL;
}

/* Publishes text; returns its version (created tells whether it is new). */
static uint32_t
s_set_text (fx_t *fx, const char *clinic, const char *text, bool *created, char *sha)
{
    meso_result_t r = { 0 };
    Meso__V1__SetConsentTextRequest rq = MESO__V1__SET_CONSENT_TEXT_REQUEST__INIT;
    rq.clinic_id = (char *) clinic;
    rq.treatment = "body_mesotherapy";
    rq.text = (char *) text;
    assert_int_equal (fx_call (fx, fx->scr, "screening.SetConsentText", &rq.base, NULL, &r), MESO_OK);
    size_t len;
    const uint8_t *body = meso_result_body (&r, &len);
    Meso__V1__SetConsentTextReply *out = meso__v1__set_consent_text_reply__unpack (NULL, len, body);
    assert_non_null (out);
    assert_string_equal (out->consent->text, text);
    assert_true (out->consent->current);
    uint32_t v = out->consent->version;
    if (created)
        *created = out->created;
    if (sha)
        snprintf (sha, 65, "%s", out->consent->sha256);
    meso__v1__set_consent_text_reply__free_unpacked (out, NULL);
    meso_result_reset (&r);
    return v;
}

static Meso__V1__GetConsentsReply *
s_consents (fx_t *fx, const char *patient)
{
    meso_result_t r = { 0 };
    Meso__V1__GetConsentsRequest rq = MESO__V1__GET_CONSENTS_REQUEST__INIT;
    rq.patient_id = (char *) patient;
    assert_int_equal (fx_call (fx, fx->scr, "screening.GetConsents", &rq.base, NULL, &r), MESO_OK);
    size_t len;
    const uint8_t *body = meso_result_body (&r, &len);
    Meso__V1__GetConsentsReply *out = meso__v1__get_consents_reply__unpack (NULL, len, body);
    assert_non_null (out);
    meso_result_reset (&r);
    return out;
}

static void
test_start_needs_signed_consent (void **state)
{
    fx_t *fx = fx_setup ("consent_it_start", 1);
    fx_clinic (fx, "paris", "Europe/Paris", s_practs, 1, s_rooms, 1, true);
    char pat[40], day[11], ls[20], appt[40];
    s_unsigned_patient (fx, "paris", pat);
    fx_day (7, day);
    snprintf (ls, sizeof ls, "%sT10:00", day);
    meso_result_t r = { 0 };

    /* Booking without a signature: refused, naming it; nothing booked. */
    assert_int_equal (fx_book_session (fx, fx->sch, "paris", pat, "dr-a", "room-1", ls, 60, NULL, &r),
                      MESO_FAILED_PRECONDITION);
    const char *why = s_reason (&r, "consent_missing", "treatment");
    assert_non_null (why);
    assert_non_null (strstr (why, "body_mesotherapy"));
    assert_non_null (strstr (why, "paris"));
    assert_int_equal (fx_sql (fx, "SELECT count(*) FROM scheduling.appointment", NULL), 0);
    assert_int_equal (fx_sql (fx, "SELECT count(*) FROM inventory.reservation", NULL), 0);

    /* Signed: booked. */
    assert_int_equal (fx_sign_consent (fx, pat, "paris", 1), MESO_OK);
    assert_int_equal (fx_book_session (fx, fx->sch, "paris", pat, "dr-a", "room-1", ls, 60, appt, &r),
                      MESO_OK);

    /* A session booked before consent was recorded (rows of an
     * installation older than migration 012, made here by removing the
     * signature behind the triggers' back): it does not start, and the
     * refusal names the treatment, the clinic and what is missing. */
    fx_sql (fx, "SET session_replication_role = replica", NULL);
    fx_sql (fx, "DELETE FROM screening.consent_signatures WHERE patient_id = $1::uuid", pat);
    fx_sql (fx, "SET session_replication_role = origin", NULL);
    assert_int_equal (s_start (fx, appt, &r), MESO_FAILED_PRECONDITION);
    why = s_reason (&r, "consent_missing", "treatment");
    assert_non_null (why);
    assert_non_null (strstr (why, "body_mesotherapy"));
    assert_non_null (strstr (why, "clinic paris"));
    assert_int_equal (fx_sql (fx, "SELECT count(*) FROM scheduling.appointment WHERE status = 'booked'", NULL), 1);
    assert_int_equal (fx_sql (fx, "SELECT count(*) FROM events.outbox WHERE type = 'session.started'", NULL), 0);

    /* Signed again: the session starts. */
    assert_int_equal (fx_sign_consent (fx, pat, "paris", 1), MESO_OK);
    assert_int_equal (s_start (fx, appt, &r), MESO_OK);
    assert_int_equal (fx_sql (fx, "SELECT count(*) FROM scheduling.appointment WHERE status = 'started'", NULL), 1);
    assert_int_equal (fx_sql (fx, "SELECT count(*) FROM events.outbox WHERE type = 'session.started'", NULL), 1);

    /* A clinic with no consent text: the booking says so. */
    meso_result_reset (&r);
    Meso__V1__CheckRequest ck = MESO__V1__CHECK_REQUEST__INIT;
    char *ings[] = { "caffeine" };
    ck.patient_id = pat;
    ck.ingredients = ings;
    ck.n_ingredients = 1;
    ck.date = day;
    ck.clinic_id = "lyon";
    ck.treatment = "face_mesotherapy";
    assert_int_equal (fx_call (fx, fx->scr, "screening.Check", &ck.base, NULL, &r), MESO_FAILED_PRECONDITION);
    assert_non_null (s_reason (&r, "consent_text_missing", "treatment"));
    /* A treatment without a clinic is a bad request. */
    ck.clinic_id = "";
    assert_int_equal (fx_call (fx, fx->scr, "screening.Check", &ck.base, NULL, &r), MESO_INVALID_ARGUMENT);
    assert_non_null (s_reason (&r, "missing_field", "clinic_id"));
    /* Without a treatment, Check screens only (as before consent). */
    ck.treatment = "";
    assert_int_equal (fx_call (fx, fx->scr, "screening.Check", &ck.base, NULL, &r), MESO_OK);
    meso_result_reset (&r);
    fx_teardown (fx);
}

static void
test_new_version_applies_to_new_courses (void **state)
{
    fx_t *fx = fx_setup ("consent_it_version", 1);
    fx_clinic (fx, "paris", "Europe/Paris", s_practs, 1, s_rooms, 1, true);
    char pat[40], d1[11], d2[11], ls[20], a1[40], a2[40];
    fx_patient (fx, "paris", NULL, false, pat);      /* signed version 1 */
    fx_day (7, d1);
    fx_day (21, d2);
    meso_result_t r = { 0 };
    snprintf (ls, sizeof ls, "%sT10:00", d1);
    assert_int_equal (fx_book_session (fx, fx->sch, "paris", pat, "dr-a", "room-1", ls, 60, a1, &r), MESO_OK);

    /* The clinic publishes version 2. */
    bool created = false;
    assert_int_equal (s_set_text (fx, "paris", "Body mesotherapy consent, second edition.", &created, NULL), 2);
    assert_true (created);

    /* A new course needs version 2: refused, naming both versions. */
    snprintf (ls, sizeof ls, "%sT10:00", d2);
    assert_int_equal (fx_book_session (fx, fx->sch, "paris", pat, "dr-a", "room-1", ls, 60, NULL, &r),
                      MESO_FAILED_PRECONDITION);
    const char *why = s_reason (&r, "consent_outdated", "treatment");
    assert_non_null (why);
    assert_non_null (strstr (why, "version 1"));
    assert_non_null (strstr (why, "current version 2"));
    assert_int_equal (fx_sql (fx, "SELECT count(*) FROM scheduling.appointment", NULL), 1);

    /* The course booked under version 1 goes on. */
    assert_int_equal (s_start (fx, a1, &r), MESO_OK);

    /* Version 1 can no longer be signed; version 2 can. */
    assert_int_equal (fx_sign_consent (fx, pat, "paris", 1), MESO_FAILED_PRECONDITION);
    assert_int_equal (fx_sign_consent (fx, pat, "paris", 2), MESO_OK);
    snprintf (ls, sizeof ls, "%sT11:00", d2);
    assert_int_equal (fx_book_session (fx, fx->sch, "paris", pat, "dr-a", "room-1", ls, 60, a2, &r), MESO_OK);
    assert_int_equal (s_start (fx, a2, &r), MESO_OK);

    /* The patient's signatures, newest first, the current one marked. */
    Meso__V1__GetConsentsReply *cs = s_consents (fx, pat);
    assert_int_equal (cs->n_signatures, 2);
    assert_int_equal (cs->signatures[0]->version, 2);
    assert_true (cs->signatures[0]->current);
    assert_int_equal (cs->signatures[1]->version, 1);
    assert_false (cs->signatures[1]->current);
    assert_string_equal (cs->signatures[1]->witness, "Nurse Fixture");
    assert_string_equal (cs->signatures[0]->clinic_id, "paris");
    meso__v1__get_consents_reply__free_unpacked (cs, NULL);

    /* Version 1 is still there to read, as signed. */
    Meso__V1__GetConsentTextRequest gq = MESO__V1__GET_CONSENT_TEXT_REQUEST__INIT;
    gq.clinic_id = "paris";
    gq.treatment = "body_mesotherapy";
    gq.version = 1;
    assert_int_equal (fx_call (fx, fx->scr, "screening.GetConsentText", &gq.base, NULL, &r), MESO_OK);
    size_t len;
    const uint8_t *body = meso_result_body (&r, &len);
    Meso__V1__GetConsentTextReply *gt = meso__v1__get_consent_text_reply__unpack (NULL, len, body);
    assert_non_null (gt);
    assert_string_equal (gt->consent->text, FX_CONSENT_TEXT);
    assert_false (gt->consent->current);
    meso__v1__get_consent_text_reply__free_unpacked (gt, NULL);
    gq.version = 3;
    assert_int_equal (fx_call (fx, fx->scr, "screening.GetConsentText", &gq.base, NULL, &r), MESO_NOT_FOUND);
    meso_result_reset (&r);
    fx_teardown (fx);
}

/* The text the hash test signs, and its SHA-256 (sha256sum of the same
 * bytes). */
#define S_TEXT "Je consens / I consent:\nm\xc3\xa9soth\xc3\xa9rapie du corps, v1.\n"
#define S_TEXT_SHA "716a9851a8ce748d81a04b4646a1a30aa49954aa6ab6542c5b619c8fda3bdb3c"

static void
test_hash_signature_and_event (void **state)
{
    fx_t *fx = fx_setup ("consent_it_hash", 1);
    fx_clinic (fx, "nice", "Europe/Paris", s_practs, 1, s_rooms, 1, false);
    char pat[40], sha[65];
    s_unsigned_patient (fx, "nice", pat);
    bool created = false;
    assert_int_equal (s_set_text (fx, "nice", S_TEXT, &created, sha), 2);
    assert_true (created);
    assert_string_equal (sha, S_TEXT_SHA);
    /* The same text again publishes nothing. */
    assert_int_equal (s_set_text (fx, "nice", S_TEXT, &created, NULL), 2);
    assert_false (created);
    assert_int_equal (fx_sql (fx, "SELECT count(*) FROM screening.consent_texts WHERE clinic_id = 'nice'", NULL), 2);

    meso_result_t r = { 0 };
    Meso__V1__SignConsentRequest sc = MESO__V1__SIGN_CONSENT_REQUEST__INIT;
    sc.patient_id = pat;
    sc.clinic_id = "nice";
    sc.treatment = "body_mesotherapy";
    sc.version = 2;
    /* Bad requests name their fields. */
    assert_int_equal (fx_call (fx, fx->scr, "screening.SignConsent", &sc.base, NULL, &r), MESO_INVALID_ARGUMENT);
    assert_non_null (s_reason (&r, "missing_field", "witness"));
    sc.witness = "Dr Martin";
    sc.treatment = "Body Meso";
    assert_int_equal (fx_call (fx, fx->scr, "screening.SignConsent", &sc.base, NULL, &r), MESO_INVALID_ARGUMENT);
    assert_non_null (s_reason (&r, "invalid_code", "treatment"));
    sc.treatment = "body_mesotherapy";
    sc.clinic_id = "atlantis";
    assert_int_not_equal (fx_call (fx, fx->scr, "screening.SignConsent", &sc.base, NULL, &r), MESO_OK);
    sc.clinic_id = "nice";
    /* Shown another text: refused. */
    sc.text_sha256 = "0000000000000000000000000000000000000000000000000000000000000000";
    assert_int_equal (fx_call (fx, fx->scr, "screening.SignConsent", &sc.base, NULL, &r),
                      MESO_FAILED_PRECONDITION);
    assert_non_null (s_reason (&r, "text_mismatch", "text_sha256"));
    assert_int_equal (fx_sql (fx, "SELECT count(*) FROM screening.consent_signatures", NULL), 0);

    /* Signed on the exact text: the signature carries its hash. */
    sc.text_sha256 = S_TEXT_SHA;
    assert_int_equal (fx_call (fx, fx->scr, "screening.SignConsent", &sc.base, "sign-1", &r), MESO_OK);
    size_t len;
    const uint8_t *body = meso_result_body (&r, &len);
    Meso__V1__SignConsentReply *sr = meso__v1__sign_consent_reply__unpack (NULL, len, body);
    assert_non_null (sr);
    assert_string_equal (sr->signature->text_sha256, S_TEXT_SHA);
    assert_int_equal (sr->signature->version, 2);
    assert_true (sr->signature->signed_at_us > 0);
    char sig[40];
    snprintf (sig, sizeof sig, "%s", sr->signature->signature_id);
    meso__v1__sign_consent_reply__free_unpacked (sr, NULL);
    /* A retry is the same signature, not a second one. */
    assert_int_equal (fx_call (fx, fx->scr, "screening.SignConsent", &sc.base, "sign-1", &r), MESO_OK);
    assert_true (r.reply->replayed);
    assert_int_equal (fx_sql (fx, "SELECT count(*) FROM screening.consent_signatures", NULL), 1);
    assert_int_equal (fx_sql (fx, "SELECT count(*) FROM screening.consent_signatures s"
                              " JOIN screening.consent_texts t USING (clinic_id, treatment, version)"
                              " WHERE s.text_sha256 = encode (sha256 (convert_to (t.body, 'UTF8')), 'hex')",
                              NULL), 1);

    /* The event: the fact, in the signing clinic. */
    assert_int_equal (fx_sql (fx, "SELECT count(*) FROM events.outbox WHERE type = 'screening.consent_signed'",
                              NULL), 1);
    PGresult *res = meso_db_query (fx->db, "SELECT payload FROM events.outbox"
                                           " WHERE type = 'screening.consent_signed'", 0, NULL);
    assert_non_null (res);
    size_t plen;
    uint8_t *raw = PQunescapeBytea ((const unsigned char *) PQgetvalue (res, 0, 0), &plen);
    Meso__V1__Event *ev = meso__v1__event__unpack (NULL, plen, raw);
    PQfreemem (raw);
    PQclear (res);
    assert_non_null (ev);
    assert_int_equal (ev->payload_case, MESO__V1__EVENT__PAYLOAD_CONSENT_SIGNED);
    assert_string_equal (ev->clinic_id, "nice");
    assert_string_equal (ev->consent_signed->patient_id, pat);
    assert_string_equal (ev->consent_signed->signature_id, sig);
    assert_string_equal (ev->consent_signed->treatment, "body_mesotherapy");
    assert_int_equal (ev->consent_signed->version, 2);
    assert_string_equal (ev->consent_signed->text_sha256, S_TEXT_SHA);
    assert_string_equal (ev->consent_signed->witness, "Dr Martin");
    meso__v1__event__free_unpacked (ev, NULL);
    meso_result_reset (&r);
    fx_teardown (fx);
}

/* Runs sql as the screening service's role; true when it was refused. */
static bool
s_refused_as_service (fx_t *fx, const char *sql)
{
    char conninfo[512];
    mt_role_conninfo (fx->dbname, "meso_screening", conninfo, sizeof conninfo);
    meso_db_t *db = meso_db_new (conninfo);
    assert_true (db && meso_db_ok (db));
    int rc = meso_db_exec (db, sql, 0, NULL);
    bool denied = rc != 0 && strcmp (meso_db_error (db)->sqlstate, "42501") == 0;
    meso_db_destroy (&db);
    return denied;
}

static void
test_signatures_are_append_only (void **state)
{
    fx_t *fx = fx_setup ("consent_it_append", 1);
    fx_clinic (fx, "paris", "Europe/Paris", s_practs, 1, s_rooms, 1, false);
    char pat[40];
    fx_patient (fx, "paris", NULL, false, pat);
    assert_int_equal (fx_sql (fx, "SELECT count(*) FROM screening.consent_signatures", NULL), 1);

    /* The service's role may not rewrite or remove a signature or a text. */
    assert_true (s_refused_as_service (fx, "UPDATE screening.consent_signatures SET witness = 'someone else'"));
    assert_true (s_refused_as_service (fx, "DELETE FROM screening.consent_signatures"));
    assert_true (s_refused_as_service (fx, "TRUNCATE screening.consent_signatures"));
    assert_true (s_refused_as_service (fx, "UPDATE screening.consent_texts SET body = 'other'"));
    assert_true (s_refused_as_service (fx, "DELETE FROM screening.consent_texts"));
    /* Nor may anyone else: the trigger refuses the owner too. */
    assert_int_not_equal (meso_db_exec (fx->db, "UPDATE screening.consent_signatures SET witness = 'x'", 0, NULL), 0);
    assert_int_not_equal (meso_db_exec (fx->db, "DELETE FROM screening.consent_signatures", 0, NULL), 0);
    /* And a hash that is not the text's cannot be stored. */
    assert_int_not_equal (meso_db_exec (fx->db,
        "INSERT INTO screening.consent_texts (clinic_id, treatment, version, body, sha256)"
        " VALUES ('paris', 'body_mesotherapy', 9, 'text', repeat ('0', 64))", 0, NULL), 0);
    assert_int_equal (fx_sql (fx, "SELECT count(*) FROM screening.consent_signatures"
                              " WHERE witness = 'Nurse Fixture'", NULL), 1);
    assert_int_equal (fx_sql (fx, "SELECT count(*) FROM screening.consent_texts", NULL), 1);
    fx_teardown (fx);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_start_needs_signed_consent),
        cmocka_unit_test (test_new_version_applies_to_new_courses),
        cmocka_unit_test (test_hash_signature_and_event),
        cmocka_unit_test (test_signatures_are_append_only),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
