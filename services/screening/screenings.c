/* screenings.c -- the screening aggregate: RecordScreening, GetScreening
 * and Check.
 *
 * A screening is stored with its packed meso.v1.Screening, which
 * GetScreening returns as it was and Check re-reads to evaluate the
 * answers on the session's date: the three are one aggregate, so one
 * file. The translations they share (a questionnaire into
 * rules_answers_t, a stored record decoded, reasons onto the wire) are in
 * answers.c; the rules themselves in rules.c. This file loads the rows,
 * calls rules.h and puts the answer on the wire. GetScreening names a
 * patient, not a clinic: it answers only a caller of the patient's home
 * clinic or of a clinic where it was screened (screening_scope_patient). */
#include "screening.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events.pb-c.h"
#include "meso/handler.h"
#include "meso/mtime.h"
#include "meso/uuid.h"

#define HISTORY_DEFAULT 20
#define HISTORY_MAX 200
#define S_LIST "screening.GetScreening"

/* ------------------------------------------------------ RecordScreening */

/* Packs sc into a new buffer (caller frees) and makes sure it decodes
 * again. NULL with the reply set when it cannot be stored. */
static uint8_t *
s_pack (Meso__V1__Screening *sc, meso_reply_t *reply, size_t *len)
{
    *len = protobuf_c_message_get_packed_size (&sc->base);
    uint8_t *record = malloc (*len ? *len : 1);
    if (!record) {
        meso_reply_error (reply, MESO_RESOURCE_EXHAUSTED, "out of memory packing a screening");
        return NULL;
    }
    protobuf_c_message_pack (&sc->base, record);
    /* The answers keep the client's unknown fields, and protobuf-c 1.4
     * accepts a field number 0 written as an overlong varint (80 00) that
     * it packs back as 00 and then refuses: such a record would never
     * decode again (DATA_LOSS on every Get and Check of the patient). */
    ProtobufCMessage *again = protobuf_c_message_unpack (&meso__v1__screening__descriptor, NULL,
                                                         *len, record);
    if (!again) {
        free (record);
        meso_reply_error (reply, MESO_INVALID_ARGUMENT,
                          "answers hold a field with number 0; the screening cannot be stored");
        return NULL;
    }
    protobuf_c_message_free_unpacked (again, NULL);
    return record;
}

static int
s_record_txn (meso_db_t *db, screening_call_t *c)
{
    Meso__V1__RecordScreeningRequest *rq = c->body;
    store_patient_t p;
    if (screening_patient_live (c->reply, db, rq->patient_id, true, &p, "patient_id") != 0)
        return -1;
    snprintf (c->patient_id, sizeof c->patient_id, "%s", p.id);
    int64_t now_us;
    if (store_now (db, &now_us) != 0) {
        meso_reply_db_error (c->reply, db, "cannot read the clock");
        return -1;
    }
    int32_t today = rules_day_of (now_us);
    int32_t birth = 0;
    meso_date_parse (p.birth_date, &birth);

    rules_answers_t a;
    rules_reasons_t bad = { .n = 0 };
    screening_answers_from (rq->answers, birth, &a, &bad);
    rules_validate (&a, today, "answers", &bad);
    if (screening_catalogue_check (db, c->reply, a.allergies, a.nallergies, "answers.allergies", true, &bad) != 0)
        return -1;
    if (screening_invalid (c->reply, &bad, c->req->method))
        return -1;

    const char *clinic = rq->clinic_id && *rq->clinic_id ? rq->clinic_id : p.home_clinic_id;
    rules_settings_t settings;
    if (store_settings_get (db, clinic, &settings) != 0) {
        meso_reply_db_error (c->reply, db, "cannot read the clinic settings");
        return -1;
    }
    rules_verdict_t v;
    rules_evaluate (&a, &settings, today, &v);
    rules_course_t course;
    rules_course (a.areas, a.nareas, &course);
    rules_texts_t instructions, advice;
    rules_instructions (&a, &instructions);
    rules_advice (&a, &advice);

    char id[MESO_UUID_LEN + 1], on[16], until[16], earliest[16] = "";
    if (meso_uuid_v4 (id) != 0) {
        meso_reply_error (c->reply, MESO_INTERNAL, "no randomness for a screening id");
        return -1;
    }
    meso_date_format (today, on, sizeof on);
    meso_date_format (v.valid_until, until, sizeof until);
    if (v.earliest_first_session != RULES_NO_DATE)
        meso_date_format (v.earliest_first_session, earliest, sizeof earliest);

    screening_pbreasons_t reasons;
    screening_pbreasons (&v.reasons, 0, &reasons);
    screening_pbtexts_t ins, adv;
    screening_pbtexts (&instructions, &ins);
    screening_pbtexts (&advice, &adv);
    Meso__V1__Course pc = MESO__V1__COURSE__INIT;
    pc.grade = course.grade;
    pc.min_sessions = (uint32_t) course.min_sessions;
    pc.max_sessions = (uint32_t) course.max_sessions;
    pc.spacing_min_days = (uint32_t) course.spacing_min_days;
    pc.spacing_max_days = (uint32_t) course.spacing_max_days;
    pc.summary = course.summary;
    Meso__V1__ClinicSettings ps;
    screening_settings_proto (clinic, &settings, &ps);

    Meso__V1__Screening sc = MESO__V1__SCREENING__INIT;
    sc.id = id;
    sc.patient_id = p.id;
    sc.clinic_id = (char *) clinic;
    sc.screened_at_us = now_us;
    sc.screened_on = on;
    sc.answers = rq->answers;
    sc.verdict = (Meso__V1__Verdict) v.verdict;
    sc.n_reasons = reasons.n;
    sc.reasons = reasons.ptrs;
    sc.valid_until = until;
    sc.earliest_first_session = earliest;
    sc.course = &pc;
    sc.n_instructions = ins.n;
    sc.instructions = ins.ptrs;
    sc.n_advice = adv.n;
    sc.advice = adv.ptrs;
    sc.settings = &ps;

    size_t len;
    uint8_t *record = s_pack (&sc, c->reply, &len);
    if (!record)
        return -1;
    store_screening_t row = { p.id, clinic, now_us, today, &a, &v, &settings, record, len, &p };
    int rc = store_screening_insert (db, id, &row);
    free (record);
    if (rc != 0) {
        meso_reply_db_error (c->reply, db, "cannot store the screening");
        return -1;
    }

    Meso__V1__Event ev = MESO__V1__EVENT__INIT;
    Meso__V1__ScreeningCompleted done_ev = MESO__V1__SCREENING_COMPLETED__INIT;
    done_ev.patient_id = p.id;
    done_ev.screening_id = id;
    done_ev.verdict = sc.verdict;
    done_ev.n_reasons = reasons.n;
    done_ev.reasons = reasons.ptrs;
    done_ev.screened_at_us = now_us;
    done_ev.valid_until = until;
    done_ev.earliest_first_session = earliest;
    ev.payload_case = MESO__V1__EVENT__PAYLOAD_SCREENING_COMPLETED;
    ev.screening_completed = &done_ev;
    if (meso_handler_emit (db, &ev, "screening.completed", clinic, c->req->actor, NULL) != 0) {
        meso_reply_db_error (c->reply, db, "cannot record the screening.completed event");
        return -1;
    }

    Meso__V1__RecordScreeningReply out = MESO__V1__RECORD_SCREENING_REPLY__INIT;
    out.screening = &sc;
    meso_reply_ok (c->reply, &out.base);
    return 0;
}

void
screening_record_screening (const Meso__V1__Request *req, void *body, meso_reply_t *reply,
                            void *arg)
{
    screening_call_t call = { arg, req, body, reply, NULL, NULL, NULL, "" };
    Meso__V1__RecordScreeningRequest *rq = body;
    rules_reasons_t bad = { .n = 0 };
    screening_need_patient_id (&bad, "patient_id", rq->patient_id);
    if (!rq->answers)
        rules_reason_add (&bad, true, "missing_field", "answers",
                          "answers (the questionnaire) is required.");
    screening_need_clinic (&bad, "clinic_id", rq->clinic_id, false);
    call.clinic_id = rq->clinic_id;
    call.clinic_field = "clinic_id";
    /* Learn the allergy codes before the transaction, so no transaction
     * stays open while inventory is asked; s_record_txn then finds them. */
    if (bad.n == 0 && rq->answers
        && screening_catalogue_learn (arg, reply, (const char *const *) rq->answers->allergies,
                                      rq->answers->n_allergies < RULES_MAX_ALLERGIES
                                          ? rq->answers->n_allergies : RULES_MAX_ALLERGIES,
                                      "answers.allergies") < 0)
        return;
    screening_run (&call, &bad, s_record_txn, "cannot record the screening");
}

/* --------------------------------------------------------- GetScreening */

/* Changes of a patient as protobuf (screening.h). */

int
screening_changes_proto (PGresult *res, const store_patient_t *p, screening_changes_t *out)
{
    size_t n = (size_t) PQntuples (res);
    memset (out, 0, sizeof *out);
    out->items = calloc (n + 1, sizeof *out->items);
    out->ptrs = calloc (n + 1, sizeof *out->ptrs);
    out->codes = calloc ((n + 1) * 16, sizeof *out->codes);
    out->bufs = calloc (n + 1, sizeof *out->bufs);
    out->notes = calloc (n + 1, sizeof *out->notes);
    if (!out->items || !out->ptrs || !out->codes || !out->bufs || !out->notes)
        return -1;
    for (size_t r = 0; r < n; r++) {
        Meso__V1__PatientChange *pc = &out->items[r];
        meso__v1__patient_change__init (pc);
        const char **codes = (const char **) &out->codes[r * 16];
        char text[sizeof out->bufs[r]];
        if (personal_change_open (p, res, (int) r, text, sizeof text, &out->notes[r]) != 0)
            return -1;
        out->n = r + 1;                 /* the notes to free */
        pc->n_changes = store_split_codes (text, out->bufs[r], sizeof out->bufs[r], codes, 16);
        pc->changes = &out->codes[r * 16];
        pc->note = out->notes[r];
        pc->reported_at_us = strtoll (PQgetvalue (res, (int) r, 2), NULL, 10);
        pc->ineligible = PQgetvalue (res, (int) r, 3)[0] == 't';
        out->ptrs[r] = pc;
    }
    out->n = n;
    return 0;
}

void
screening_changes_free (screening_changes_t *c)
{
    for (size_t i = 0; c->notes && i < c->n; i++)
        free (c->notes[i]);
    free (c->notes);
    free (c->items);
    free (c->ptrs);
    free (c->codes);
    free (c->bufs);
    memset (c, 0, sizeof *c);
}

void
screening_get_screening (const Meso__V1__Request *req, void *body, meso_reply_t *reply,
                         void *arg)
{
    screening_t *self = arg;
    Meso__V1__GetScreeningRequest *rq = body;
    rules_reasons_t bad = { .n = 0 };
    screening_need_patient_id (&bad, "patient_id", rq->patient_id);
    if (rq->history_limit > HISTORY_MAX)
        rules_reason_add (&bad, true, "out_of_range", "history_limit",
                          "history_limit must be at most %d.", HISTORY_MAX);
    meso_page_pos_t pos;
    if (!meso_handler_page_ok (S_LIST, rq->page_token, "iu", &pos))
        rules_reason_add (&bad, true, "invalid_page_token", "page_token",
                          "page_token is not a token of %s: send the next_page_token of a "
                          "previous reply, or none for the first page.", S_LIST);
    if (screening_invalid (reply, &bad, req->method))
        return;
    uint32_t size = meso_page_size (rq->page_size, rq->history_limit ? rq->history_limit
                                                                    : HISTORY_DEFAULT, HISTORY_MAX);
    char next[MESO_PAGE_TOKEN_MAX] = "";
    PGresult *cur = NULL;
    Meso__V1__Screening *current = NULL;
    store_patient_t p;
    PGresult *res = NULL, *ch = NULL;
    Meso__V1__Screening **history = NULL;
    size_t nhistory = 0;
    screening_changes_t changes = { 0 };

    if (screening_patient (reply, self->db, rq->patient_id, false, &p) != 0
        || screening_scope_patient (reply, self->db, &p, true, "patient_id") != 0)
        goto done;
    res = store_screenings (self->db, p.id, (int) size + 1, pos.n ? pos.key[0] : NULL,
                            pos.n ? pos.key[1] : NULL);
    /* Past the first page the current screening is not on the page. */
    if (res && pos.n)
        cur = store_screenings (self->db, p.id, 1, NULL, NULL);
    if (!res || (pos.n && !cur)) {
        meso_reply_db_error (reply, self->db, "cannot read the screenings");
        goto done;
    }
    history = calloc ((size_t) PQntuples (res) + 1, sizeof *history);
    if (!history) {
        meso_reply_error (reply, MESO_RESOURCE_EXHAUSTED, "out of memory");
        goto done;
    }
    int fetched = PQntuples (res);
    for (int r = 0; r < fetched && r < (int) size; r++) {
        Meso__V1__Screening *sc = screening_stored (res, r, false, &p, reply);
        if (!sc)
            goto done;
        history[nhistory++] = sc;
    }
    if (cur && PQntuples (cur) > 0 && !(current = screening_stored (cur, 0, false, &p, reply)))
        goto done;
    if (!pos.n)
        current = nhistory ? history[0] : NULL;
    int64_t since = current ? current->screened_at_us : INT64_MIN;
    ch = store_changes_since (self->db, p.id, since);
    if (!ch || screening_changes_proto (ch, &p, &changes) != 0) {
        if (!ch)
            meso_reply_db_error (reply, self->db, "cannot read the reported changes");
        else
            meso_reply_error (reply, MESO_DATA_LOSS, "the reported changes of patient %s do not open",
                              p.id);
        goto done;
    }
    Meso__V1__Patient pb;
    screening_patient_proto (&p, &pb);
    Meso__V1__GetScreeningReply out = MESO__V1__GET_SCREENING_REPLY__INIT;
    out.patient = &pb;
    out.current = current;
    out.n_history = nhistory;
    out.history = history;
    out.outdated = rules_screening_outdated (current != NULL, changes.n);
    out.n_changes = changes.n;
    out.changes = changes.ptrs;
    out.next_page_token = next;
    int more = meso_handler_page_fit (reply, &out.base, &out.n_history, (size_t) fetched, size);
    if (more > 0) {
        char at[24];
        snprintf (at, sizeof at, "%" PRId64, history[out.n_history - 1]->screened_at_us);
        const char *k[] = { at, history[out.n_history - 1]->id };
        if (meso_handler_page_next (reply, S_LIST, k, 2, next) != 0)
            more = -1;
    }
    if (more >= 0)
        meso_reply_ok (reply, &out.base);
done:
    if (cur && current)
        meso__v1__screening__free_unpacked (current, NULL);
    for (size_t i = 0; i < nhistory; i++)
        meso__v1__screening__free_unpacked (history[i], NULL);
    free (history);
    screening_changes_free (&changes);
    if (res)
        PQclear (res);
    if (ch)
        PQclear (ch);
    if (cur)
        PQclear (cur);
}

/* ---------------------------------------------------------------- Check */

/* The changes reported after a screening, as codes for rules_check (at
 * most 16, borrowed from buf). */
typedef struct {
    char buf[16][16 * (RULES_CODE_MAX + 1) + 4];
} s_codebuf_t;

static int
s_check_changes (PGresult *ch, const store_patient_t *p, s_codebuf_t *cb, rules_check_input_t *in)
{
    for (int r = 0; r < PQntuples (ch) && r < 16 && in->nchanges < 16; r++) {
        const char *codes[16];
        char text[sizeof cb->buf[r]], *note = NULL;
        if (personal_change_open (p, ch, r, text, sizeof text, &note) != 0)
            return -1;
        free (note);
        size_t n = store_split_codes (text, cb->buf[r], sizeof cb->buf[r], codes, 16);
        for (size_t k = 0; k < n && in->nchanges < 16; k++)
            in->changes[in->nchanges++] = codes[k];
    }
    return 0;
}

/* The allowed answer: precautions, instructions, the screening's verdict. */
static void
s_check_allowed (meso_reply_t *reply, const Meso__V1__Screening *sc, const rules_answers_t *a,
                 rules_check_t *out, char *earliest, uint32_t consent_version)
{
    rules_texts_t instructions;
    rules_instructions (a, &instructions);
    screening_pbtexts_t ins;
    screening_pbtexts (&instructions, &ins);
    screening_pbreasons_t pre;
    screening_pbreasons (&out->reasons, 2, &pre);
    Meso__V1__CheckReply cr = MESO__V1__CHECK_REPLY__INIT;
    cr.allowed = true;
    cr.screening_id = sc->id;
    cr.verdict = sc->verdict;
    cr.n_precautions = pre.n;
    cr.precautions = pre.ptrs;
    cr.valid_until = sc->valid_until;
    cr.earliest_allowed_date = earliest;
    cr.n_instructions = ins.n;
    cr.instructions = ins.ptrs;
    cr.consent_version = consent_version;
    meso_reply_ok (reply, &cr.base);
}

void
screening_check (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    screening_t *self = arg;
    Meso__V1__CheckRequest *rq = body;
    PGresult *res = NULL, *ch = NULL, *pat = NULL, *set = NULL;
    Meso__V1__Screening *sc = NULL;
    rules_reasons_t bad = { .n = 0 };
    int32_t date = 0;
    screening_need_patient_id (&bad, "patient_id", rq->patient_id);
    if (!rq->date || meso_date_parse (rq->date, &date) != 0)
        rules_reason_add (&bad, true, "invalid_date", "date",
                          "date must be the session day YYYY-MM-DD.");
    if (rq->n_ingredients == 0)
        rules_reason_add (&bad, true, "missing_field", "ingredients",
                          "ingredients must list the cocktail's ingredient codes.");
    if (rq->n_ingredients > RULES_MAX_INGREDIENTS)
        rules_reason_add (&bad, true, "too_many", "ingredients",
                          "ingredients holds more than %d codes.", RULES_MAX_INGREDIENTS);
    if (rq->clinic_id && screening_chars (rq->clinic_id) > 64)
        rules_reason_add (&bad, true, "too_long", "clinic_id",
                          "clinic_id is longer than 64 characters.");
    size_t ningredients = rq->n_ingredients < RULES_MAX_INGREDIENTS ? rq->n_ingredients
                                                                    : RULES_MAX_INGREDIENTS;
    /* All known at the first look (the usual case): not looked up twice. */
    int learnt = screening_catalogue_learn (self, reply, (const char *const *) rq->ingredients, ningredients,
                                            "ingredients");
    if (learnt < 0
        || (learnt == 0 && screening_catalogue_check (self->db, reply, (const char *const *) rq->ingredients,
                                                      ningredients, "ingredients", false, &bad) != 0))
        goto done;
    screening_need_clinic (&bad, "clinic_id", rq->clinic_id, false);
    screening_consent_need (&bad, rq);
    if (screening_invalid (reply, &bad, req->method))
        goto done;
    /* Syntax only, never scheduling.GetClinic: scheduling calls Check
     * while it waits for the answer (booking, starting a session), and
     * each daemon serves one request at a time, so asking it back would
     * hold both until the deadline. Scheduling names only clinics it
     * holds, so the id is known from here on. */
    if (rq->clinic_id && *rq->clinic_id)
        meso_clinics_learn (self->clinics, rq->clinic_id);
    /* The patient, the latest screening, the changes reported since and
     * the clinic's settings: one round trip (store_check_reads). */
    PGresult *rd[4];
    if (store_check_reads (self->db, rq->patient_id, rq->clinic_id, rd) != 0) {
        meso_reply_db_error (reply, self->db, "cannot read the patient's screening");
        goto done;
    }
    pat = rd[0];
    res = rd[1];
    ch = rd[2];
    set = rd[3];
    store_patient_t p;
    if (screening_patient_live_row (reply, self->db, store_patient_row (self->db, pat, &p), rq->patient_id,
                                    &p, "patient_id") != 0)
        goto done;
    if (PQntuples (res) == 1 && !(sc = screening_stored (res, 0, true, &p, reply)))
        goto done;
    rules_check_input_t in;
    memset (&in, 0, sizeof in);
    rules_answers_t a;
    rules_answers_init (&a);
    s_codebuf_t codebuf;
    rules_settings_t settings;
    rules_settings_default (&settings);
    if (sc) {
        int32_t birth = 0;
        meso_date_parse (p.birth_date, &birth);
        rules_reasons_t ignore = { .n = 0 };
        screening_answers_from (sc->answers, birth, &a, &ignore);
        in.answers = &a;
        meso_date_parse (sc->valid_until, &in.valid_until);
        if (s_check_changes (ch, &p, &codebuf, &in) != 0) {
            meso_reply_error (reply, MESO_DATA_LOSS, "the reported changes of patient %s do not open",
                              p.id);
            goto done;
        }
        store_settings_row (set, &settings);    /* rq's clinic, else the screening's */
    }
    rules_check_t out;
    rules_check (&in, (const char *const *) rq->ingredients, rq->n_ingredients, &settings, date, &out);
    uint32_t consent_version;
    if (screening_consent_check (self->db, reply, rq, p.id, &out, &consent_version) != 0)
        goto done;
    char earliest[16] = "";
    if (out.earliest_allowed != RULES_NO_DATE)
        meso_date_format (out.earliest_allowed, earliest, sizeof earliest);
    if (out.allowed)
        s_check_allowed (reply, sc, &a, &out, earliest, consent_version);
    else {
        screening_refuse (reply, MESO_FAILED_PRECONDITION, &out.reasons,
                          "patient may not be treated on %s: %zu reason(s)", rq->date);
        if (*earliest)
            meso_reply_detail (reply, "earliest_allowed_date=%s", earliest);
    }
done:
    if (sc)
        meso__v1__screening__free_unpacked (sc, NULL);
    PQclear (res);
    PQclear (ch);
    PQclear (pat);
    PQclear (set);
}
