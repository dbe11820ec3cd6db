/* handlers.c -- the screening daemon's RPC methods: decode, validate, run
 * one transaction, reply.
 *
 * Mutating methods claim their idempotency key first in the same
 * transaction as the effect and the event (meso/idem.h, meso/outbox.h):
 * a retry replays the reply, and an effect, its event and its key commit
 * together or not at all. Validation that needs the database (does the
 * patient exist, is an allergy code in the ingredient list) runs inside
 * that transaction; a refusal rolls everything back, the key included, so
 * bad input stores nothing.
 *
 * The rules themselves are in rules.c; this file only translates between
 * the wire (screening.proto) and rules.h. A screening is stored with its
 * packed meso.v1.Screening, which GetScreening returns as it was and Check
 * re-reads to evaluate the answers on the session's date. */
#include "screening.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events.pb-c.h"
#include "meso/handler.h"
#include "meso/idem.h"
#include "meso/log.h"
#include "meso/mtime.h"
#include "meso/outbox.h"
#include "meso/uuid.h"

#define SCHEMA "screening"
#define HISTORY_DEFAULT 20
#define HISTORY_MAX 200

/* Codes a reported change may carry besides the contraindications. */
static const char *const s_other_changes[] = { "allergy", "medication", "weight", "other", NULL };

/* The contraindication answers of a Questionnaire, in rules_condition_t
 * order. */
static const size_t s_condition_offsets[RULES_NCONDITIONS] = {
    [RULES_C_PREGNANCY] = offsetof (Meso__V1__Questionnaire, pregnancy),
    [RULES_C_BREASTFEEDING] = offsetof (Meso__V1__Questionnaire, breastfeeding),
    [RULES_C_DIABETES] = offsetof (Meso__V1__Questionnaire, diabetes),
    [RULES_C_ACTIVE_INFECTION] = offsetof (Meso__V1__Questionnaire, active_infection),
    [RULES_C_SEPTICAEMIA] = offsetof (Meso__V1__Questionnaire, septicaemia),
    [RULES_C_IMMUNOCOMPROMISED] = offsetof (Meso__V1__Questionnaire, immunocompromised),
    [RULES_C_LIVER_FAILURE] = offsetof (Meso__V1__Questionnaire, liver_failure),
    [RULES_C_KIDNEY_FAILURE] = offsetof (Meso__V1__Questionnaire, kidney_failure),
    [RULES_C_COAGULATION_DISORDER] = offsetof (Meso__V1__Questionnaire, coagulation_disorder),
    [RULES_C_MENSTRUAL_DISORDER] = offsetof (Meso__V1__Questionnaire, menstrual_disorder),
    [RULES_C_CANCER] = offsetof (Meso__V1__Questionnaire, cancer),
    [RULES_C_HEART_ARRHYTHMIA] = offsetof (Meso__V1__Questionnaire, heart_arrhythmia),
    [RULES_C_BLOOD_CLOTS] = offsetof (Meso__V1__Questionnaire, blood_clots),
};

/* ------------------------------------------------------------- helpers */

static int32_t
s_day_of (int64_t us)
{
    int64_t d = us / 86400000000LL;
    if (us < 0 && us % 86400000000LL != 0)
        d--;
    return (int32_t) d;
}

static bool
s_uuid_valid (const char *s)
{
    if (!s || strlen (s) != 36)
        return false;
    for (int i = 0; i < 36; i++) {
        char c = s[i];
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-')
                return false;
        }
        else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
            return false;
    }
    return true;
}

/* Characters (not bytes) of a UTF-8 string. */
static size_t
s_chars (const char *s)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *) s; p && *p; p++)
        if ((*p & 0xC0) != 0x80)
            n++;
    return n;
}

static void
s_reason (rules_reasons_t *r, const char *code, const char *field, const char *fmt, ...)
    __attribute__ ((format (printf, 4, 5)));

static void
s_reason (rules_reasons_t *r, const char *code, const char *field, const char *fmt, ...)
{
    if (r->n == RULES_MAX_REASONS)
        return;
    rules_reason_t *it = &r->items[r->n++];
    snprintf (it->code, sizeof it->code, "%s", code);
    snprintf (it->field, sizeof it->field, "%s", field);
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (it->message, sizeof it->message, fmt, ap);
    va_end (ap);
    it->refusal = true;
}

/* Puts every reason into the reply and sets status with message. */
static void
s_refuse (meso_reply_t *reply, meso_status_t status, const rules_reasons_t *r,
          const char *fmt, const char *what)
{
    for (size_t i = 0; i < r->n; i++)
        meso_reply_reason (reply, r->items[i].code, r->items[i].field[0] ? r->items[i].field : NULL,
                           "%s", r->items[i].message);
    meso_reply_error (reply, status, fmt, what, r->n);
}

static void
s_invalid (meso_reply_t *reply, const rules_reasons_t *r, const char *method)
{
    s_refuse (reply, MESO_INVALID_ARGUMENT, r, "invalid %s request: %zu problem(s), see reasons",
              method);
}

typedef struct {
    Meso__V1__Reason items[RULES_MAX_REASONS];
    Meso__V1__Reason *ptrs[RULES_MAX_REASONS];
    size_t n;
} s_pbreasons_t;

/* which: 0 all, 1 refusals, 2 precautions. */
static void
s_pbreasons (rules_reasons_t *r, int which, s_pbreasons_t *out)
{
    out->n = 0;
    for (size_t i = 0; i < r->n; i++) {
        if ((which == 1 && !r->items[i].refusal) || (which == 2 && r->items[i].refusal))
            continue;
        Meso__V1__Reason *pr = &out->items[out->n];
        meso__v1__reason__init (pr);
        pr->code = r->items[i].code;
        pr->field = r->items[i].field;
        pr->message = r->items[i].message;
        out->ptrs[out->n++] = pr;
    }
}

typedef struct {
    char *ptrs[RULES_MAX_TEXTS];
    size_t n;
} s_pbtexts_t;

static void
s_pbtexts (rules_texts_t *t, s_pbtexts_t *out)
{
    out->n = t->n;
    for (size_t i = 0; i < t->n; i++)
        out->ptrs[i] = t->items[i];
}

static void
s_patient_proto (store_patient_t *p, Meso__V1__Patient *out)
{
    meso__v1__patient__init (out);
    out->id = p->id;
    out->given_name = p->given_name;
    out->family_name = p->family_name;
    out->birth_date = p->birth_date;
    out->sex = (Meso__V1__Sex) p->sex;
    out->phone = p->phone;
    out->email = p->email;
    out->home_clinic_id = p->home_clinic_id;
    out->created_at_us = p->created_at_us;
    out->updated_at_us = p->updated_at_us;
}

/* Checks the patient fields that are set (all required ones when full). */
static void
s_validate_patient (const Meso__V1__Patient *p, bool full, int32_t today, rules_reasons_t *bad)
{
    const struct { const char *name; const char *value; size_t max; } texts[] = {
        { "patient.given_name", p->given_name, 200 },
        { "patient.family_name", p->family_name, 200 },
        { "patient.home_clinic_id", p->home_clinic_id, 64 },
        { "patient.phone", p->phone, 64 },
        { "patient.email", p->email, 254 },
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        bool required = full && i < 3;
        size_t n = s_chars (texts[i].value);
        if (n == 0 && required)
            s_reason (bad, "missing_field", texts[i].name, "%s is required.", texts[i].name);
        else if (n > texts[i].max)
            s_reason (bad, "too_long", texts[i].name, "%s is longer than %zu characters.",
                      texts[i].name, texts[i].max);
    }
    if (p->email && *p->email && !strchr (p->email, '@'))
        s_reason (bad, "invalid_email", "patient.email", "patient.email is not an e-mail address.");
    if (p->birth_date && *p->birth_date) {
        int32_t d;
        if (meso_date_parse (p->birth_date, &d) != 0)
            s_reason (bad, "invalid_date", "patient.birth_date",
                      "patient.birth_date must be a date YYYY-MM-DD.");
        else if (d > today)
            s_reason (bad, "out_of_range", "patient.birth_date",
                      "patient.birth_date %s is in the future.", p->birth_date);
        else if (d < meso_date_from_ymd (1900, 1, 1))
            s_reason (bad, "out_of_range", "patient.birth_date",
                      "patient.birth_date %s is before 1900.", p->birth_date);
    }
    else if (full)
        s_reason (bad, "missing_field", "patient.birth_date", "patient.birth_date is required.");
    if ((int) p->sex < 0 || (int) p->sex > 3)
        s_reason (bad, "out_of_range", "patient.sex", "patient.sex must be 0..3.");
}

/* Fills a from a questionnaire (strings borrowed from q). Shape problems
 * that rules_validate cannot see (date syntax, list lengths) go to bad. */
static void
s_answers (const Meso__V1__Questionnaire *q, int32_t birth, rules_answers_t *a, rules_reasons_t *bad)
{
    rules_answers_init (a);
    a->birth_date = birth;
    for (int c = 0; c < RULES_NCONDITIONS; c++) {
        int v = *(const int *) ((const char *) q + s_condition_offsets[c]);
        a->conditions[c] = (v == RULES_NO || v == RULES_YES) ? (rules_answer_t) v : RULES_UNANSWERED;
    }
    a->height_mm = q->height_mm;
    a->weight_g = q->weight_g;
    if (q->n_allergies > RULES_MAX_ALLERGIES)
        s_reason (bad, "too_many", "answers.allergies", "answers.allergies holds more than %d codes.",
                  RULES_MAX_ALLERGIES);
    for (size_t i = 0; i < q->n_allergies && i < RULES_MAX_ALLERGIES; i++)
        a->allergies[a->nallergies++] = q->allergies[i];
    if (q->n_medications > RULES_MAX_MEDICATIONS)
        s_reason (bad, "too_many", "answers.medications",
                  "answers.medications holds more than %d entries.", RULES_MAX_MEDICATIONS);
    for (size_t i = 0; i < q->n_medications && i < RULES_MAX_MEDICATIONS; i++) {
        if (s_chars (q->medications[i]) == 0 || s_chars (q->medications[i]) > 200) {
            char f[48];
            snprintf (f, sizeof f, "answers.medications[%zu]", i);
            s_reason (bad, "out_of_range", f, "%s must be 1 to 200 characters.", f);
        }
        a->medications[a->nmedications++] = q->medications[i];
    }
    if (q->last_anti_inflammatory_dose && *q->last_anti_inflammatory_dose
        && meso_date_parse (q->last_anti_inflammatory_dose, &a->last_nsaid_dose) != 0) {
        a->last_nsaid_dose = RULES_NO_DATE;
        s_reason (bad, "invalid_date", "answers.last_anti_inflammatory_dose",
                  "answers.last_anti_inflammatory_dose must be a date YYYY-MM-DD.");
    }
    if (q->n_areas > RULES_MAX_AREAS)
        s_reason (bad, "too_many", "answers.areas", "answers.areas holds more than %d areas.",
                  RULES_MAX_AREAS);
    for (size_t i = 0; i < q->n_areas && i < RULES_MAX_AREAS; i++) {
        a->areas[a->nareas].area = q->areas[i]->area;
        a->areas[a->nareas].grade = q->areas[i]->grade;
        a->areas[a->nareas].mild = q->areas[i]->mild;
        a->nareas++;
    }
    a->diet = (rules_answer_t) q->diet;
    a->exercise = (rules_answer_t) q->exercise;
    a->localised_fat = (rules_answer_t) q->localised_fat_deposits;
    a->early_stage = (rules_answer_t) q->early_stage_cellulite;
}

static bool
s_change_known (const char *code)
{
    if (rules_condition_of (code) >= 0)
        return true;
    for (int i = 0; s_other_changes[i]; i++)
        if (strcmp (code, s_other_changes[i]) == 0)
            return true;
    return false;
}

/* After a transaction: a failure the callback did not explain (e.g. the
 * COMMIT itself) becomes the database's error. */
static void
s_after_txn (screening_t *self, meso_reply_t *reply, int rc, const char *what)
{
    if (rc != 0 && meso_reply_status (reply) == MESO_OK)
        meso_reply_db_error (reply, self->db, what);
}

typedef struct {
    screening_t *self;
    const Meso__V1__Request *req;
    meso_reply_t *reply;
    void *body;                         /* the unpacked request body */
    int32_t today;
} s_ctx_t;

/* Claims the key; returns 0 to go on, else the callback's return value
 * (replayed: 0, refused: -1) in *done. */
static bool
s_claim (s_ctx_t *c, meso_db_t *db, int *done)
{
    meso_reply_reset (c->reply);
    int rc = meso_idem_claim (db, SCHEMA, c->req, c->reply);
    if (rc == 0)
        return true;
    *done = rc > 0 ? 0 : -1;
    return false;
}

/* Reads and locks a patient, NOT_FOUND when missing. 0 or -1 (reply set). */
static int
s_patient_locked (s_ctx_t *c, meso_db_t *db, const char *id, store_patient_t *p)
{
    int rc = store_patient_get (db, id, true, p);
    if (rc < 0) {
        meso_reply_db_error (c->reply, db, "cannot read the patient");
        return -1;
    }
    if (rc == 0) {
        meso_reply_reason (c->reply, "not_found", "patient_id", "no patient has id %s", id);
        meso_reply_error (c->reply, MESO_NOT_FOUND, "patient %s not found", id);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------ RegisterPatient */

static int
s_register_txn (meso_db_t *db, void *arg)
{
    s_ctx_t *c = arg;
    int done;
    if (!s_claim (c, db, &done))
        return done;
    Meso__V1__RegisterPatientRequest *rq = c->body;
    store_patient_t p;
    if (store_patient_insert (db, rq->patient, &p) != 0) {
        meso_reply_db_error (c->reply, db, "cannot register the patient");
        return -1;
    }
    Meso__V1__Patient pb;
    s_patient_proto (&p, &pb);
    Meso__V1__RegisterPatientReply out = MESO__V1__REGISTER_PATIENT_REPLY__INIT;
    out.patient = &pb;
    meso_reply_ok (c->reply, &out.base);
    return meso_idem_store (db, SCHEMA, c->req, c->reply);
}

static void
s_register (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    screening_t *self = arg;
    Meso__V1__RegisterPatientRequest *rq = body;
    int32_t today = s_day_of (meso_time_now_us ());
    rules_reasons_t bad = { .n = 0 };
    if (!rq->patient)
        s_reason (&bad, "missing_field", "patient", "patient is required.");
    else
        s_validate_patient (rq->patient, true, today, &bad);
    if (bad.n) {
        s_invalid (reply, &bad, "screening.RegisterPatient");
        return;
    }
    s_ctx_t c = { self, req, reply, rq, today };
    int rc = meso_db_txn (self->db, MESO_DB_READ_COMMITTED, s_register_txn, &c);
    s_after_txn (self, reply, rc, "cannot register the patient");
}

/* -------------------------------------------------------- UpdatePatient */

static int
s_update_txn (meso_db_t *db, void *arg)
{
    s_ctx_t *c = arg;
    int done;
    if (!s_claim (c, db, &done))
        return done;
    Meso__V1__Patient *in = ((Meso__V1__UpdatePatientRequest *) c->body)->patient;
    store_patient_t old, now, stored;
    if (s_patient_locked (c, db, in->id, &old) != 0)
        return -1;
    now = old;
    char *changed[8];
    size_t nchanged = 0;
#define S_MERGE(field)                                                        \
    if (in->field && *in->field && strcmp (in->field, now.field) != 0) {     \
        snprintf (now.field, sizeof now.field, "%s", in->field);              \
        changed[nchanged++] = #field;                                         \
    }
    S_MERGE (given_name)
    S_MERGE (family_name)
    S_MERGE (birth_date)
    S_MERGE (phone)
    S_MERGE (email)
    S_MERGE (home_clinic_id)
#undef S_MERGE
    if (in->sex != MESO__V1__SEX__SEX_UNSPECIFIED && (int) in->sex != now.sex) {
        now.sex = (int) in->sex;
        changed[nchanged++] = "sex";
    }
    stored = old;
    if (nchanged > 0) {
        if (store_patient_update (db, &now, &stored) != 0) {
            meso_reply_db_error (c->reply, db, "cannot update the patient");
            return -1;
        }
        Meso__V1__Event ev = MESO__V1__EVENT__INIT;
        Meso__V1__PatientChanged pc = MESO__V1__PATIENT_CHANGED__INIT;
        pc.patient_id = stored.id;
        pc.n_changed = nchanged;
        pc.changed = changed;
        pc.ineligible = false;
        pc.effective_at_us = stored.updated_at_us;
        ev.payload_case = MESO__V1__EVENT__PAYLOAD_PATIENT_CHANGED;
        ev.patient_changed = &pc;
        if (meso_handler_emit (db, &ev, "screening.patient_changed", stored.home_clinic_id,
                               c->req->actor, NULL) != 0) {
            meso_reply_db_error (c->reply, db, "cannot record the patient_changed event");
            return -1;
        }
    }
    Meso__V1__Patient pb;
    s_patient_proto (&stored, &pb);
    Meso__V1__UpdatePatientReply out = MESO__V1__UPDATE_PATIENT_REPLY__INIT;
    out.patient = &pb;
    out.n_changed = nchanged;
    out.changed = changed;
    meso_reply_ok (c->reply, &out.base);
    return meso_idem_store (db, SCHEMA, c->req, c->reply);
}

static void
s_update (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    screening_t *self = arg;
    Meso__V1__UpdatePatientRequest *rq = body;
    int32_t today = s_day_of (meso_time_now_us ());
    rules_reasons_t bad = { .n = 0 };
    if (!rq->patient)
        s_reason (&bad, "missing_field", "patient", "patient is required.");
    else {
        if (!s_uuid_valid (rq->patient->id))
            s_reason (&bad, "invalid_id", "patient.id", "patient.id must be a patient UUID.");
        s_validate_patient (rq->patient, false, today, &bad);
    }
    if (bad.n) {
        s_invalid (reply, &bad, "screening.UpdatePatient");
        return;
    }
    s_ctx_t c = { self, req, reply, rq, today };
    int rc = meso_db_txn (self->db, MESO_DB_READ_COMMITTED, s_update_txn, &c);
    s_after_txn (self, reply, rc, "cannot update the patient");
}

/* ------------------------------------------------------ RecordScreening */

static int
s_record_txn (meso_db_t *db, void *arg)
{
    s_ctx_t *c = arg;
    int done;
    if (!s_claim (c, db, &done))
        return done;
    Meso__V1__RecordScreeningRequest *rq = c->body;
    store_patient_t p;
    if (s_patient_locked (c, db, rq->patient_id, &p) != 0)
        return -1;
    int64_t now_us;
    if (store_now (db, &now_us) != 0) {
        meso_reply_db_error (c->reply, db, "cannot read the clock");
        return -1;
    }
    int32_t today = s_day_of (now_us);
    int32_t birth = 0;
    meso_date_parse (p.birth_date, &birth);

    rules_answers_t a;
    rules_reasons_t bad = { .n = 0 };
    s_answers (rq->answers, birth, &a, &bad);
    rules_validate (&a, today, "answers", &bad);
    for (size_t i = 0; i < a.nallergies; i++) {
        if (!rules_code_valid (a.allergies[i]))
            continue;                   /* already reported */
        int known = store_ingredient_known (db, a.allergies[i]);
        if (known < 0) {
            meso_reply_db_error (c->reply, db, "cannot read the ingredient list");
            return -1;
        }
        if (!known) {
            char f[48];
            snprintf (f, sizeof f, "answers.allergies[%zu]", i);
            s_reason (&bad, "unknown_ingredient", f, "%s: \"%s\" is not in the ingredient catalogue.",
                      f, a.allergies[i]);
        }
    }
    if (bad.n) {
        s_invalid (c->reply, &bad, "screening.RecordScreening");
        return -1;
    }

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

    s_pbreasons_t reasons;
    s_pbreasons (&v.reasons, 0, &reasons);
    s_pbtexts_t ins, adv;
    s_pbtexts (&instructions, &ins);
    s_pbtexts (&advice, &adv);
    Meso__V1__Course pc = MESO__V1__COURSE__INIT;
    pc.grade = course.grade;
    pc.min_sessions = (uint32_t) course.min_sessions;
    pc.max_sessions = (uint32_t) course.max_sessions;
    pc.spacing_min_days = (uint32_t) course.spacing_min_days;
    pc.spacing_max_days = (uint32_t) course.spacing_max_days;
    pc.summary = course.summary;
    Meso__V1__ClinicSettings ps = MESO__V1__CLINIC_SETTINGS__INIT;
    ps.clinic_id = (char *) clinic;
    ps.max_age = (uint32_t) settings.max_age;
    ps.bmi_obesity_x10 = (uint32_t) settings.bmi_obesity_x10;
    ps.validity_days = (uint32_t) settings.validity_days;

    Meso__V1__Screening sc = MESO__V1__SCREENING__INIT;
    sc.id = id;
    sc.patient_id = p.id;
    sc.clinic_id = (char *) clinic;
    sc.screened_at_us = now_us;
    sc.screened_on = on;
    sc.answers = rq->answers;
    sc.verdict = (Meso__V1__ScreeningCompleted__Verdict) v.verdict;
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

    size_t len = protobuf_c_message_get_packed_size (&sc.base);
    uint8_t *record = malloc (len ? len : 1);
    if (!record) {
        meso_reply_error (c->reply, MESO_RESOURCE_EXHAUSTED, "out of memory packing a screening");
        return -1;
    }
    protobuf_c_message_pack (&sc.base, record);
    /* The answers keep the client's unknown fields, and protobuf-c 1.4
     * accepts a field number 0 written as an overlong varint (80 00) that
     * it packs back as 00 and then refuses: such a record would never
     * decode again (DATA_LOSS on every Get and Check of the patient). */
    ProtobufCMessage *again = protobuf_c_message_unpack (&meso__v1__screening__descriptor, NULL,
                                                         len, record);
    if (!again) {
        free (record);
        meso_reply_error (c->reply, MESO_INVALID_ARGUMENT,
                          "answers hold a field with number 0; the screening cannot be stored");
        return -1;
    }
    protobuf_c_message_free_unpacked (again, NULL);
    store_screening_t row = { p.id, clinic, now_us, today, &a, &v, &settings, record, len };
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
    return meso_idem_store (db, SCHEMA, c->req, c->reply);
}

static void
s_record (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    screening_t *self = arg;
    Meso__V1__RecordScreeningRequest *rq = body;
    rules_reasons_t bad = { .n = 0 };
    if (!s_uuid_valid (rq->patient_id))
        s_reason (&bad, "invalid_id", "patient_id", "patient_id must be a patient UUID.");
    if (!rq->answers)
        s_reason (&bad, "missing_field", "answers", "answers (the questionnaire) is required.");
    if (rq->clinic_id && s_chars (rq->clinic_id) > 64)
        s_reason (&bad, "too_long", "clinic_id", "clinic_id is longer than 64 characters.");
    if (bad.n) {
        s_invalid (reply, &bad, "screening.RecordScreening");
        return;
    }
    s_ctx_t c = { self, req, reply, rq, 0 };
    int rc = meso_db_txn (self->db, MESO_DB_READ_COMMITTED, s_record_txn, &c);
    s_after_txn (self, reply, rc, "cannot record the screening");
}

/* --------------------------------------------------------- GetScreening */

/* Changes of a patient as protobuf, from a store_changes_since result. */
typedef struct {
    Meso__V1__PatientChange *items;
    Meso__V1__PatientChange **ptrs;
    char **codes;                       /* per row: pointer array into bufs */
    char (*bufs)[16 * (RULES_CODE_MAX + 1) + 4];
    size_t n;
} s_pbchanges_t;

static int
s_pbchanges (PGresult *res, s_pbchanges_t *out)
{
    size_t n = (size_t) PQntuples (res);
    memset (out, 0, sizeof *out);
    out->items = calloc (n + 1, sizeof *out->items);
    out->ptrs = calloc (n + 1, sizeof *out->ptrs);
    out->codes = calloc ((n + 1) * 16, sizeof *out->codes);
    out->bufs = calloc (n + 1, sizeof *out->bufs);
    if (!out->items || !out->ptrs || !out->codes || !out->bufs)
        return -1;
    for (size_t r = 0; r < n; r++) {
        Meso__V1__PatientChange *pc = &out->items[r];
        meso__v1__patient_change__init (pc);
        const char **codes = (const char **) &out->codes[r * 16];
        pc->n_changes = store_split_codes (PQgetvalue (res, (int) r, 0), out->bufs[r],
                                           sizeof out->bufs[r], codes, 16);
        pc->changes = &out->codes[r * 16];
        pc->note = PQgetvalue (res, (int) r, 1);
        pc->reported_at_us = strtoll (PQgetvalue (res, (int) r, 2), NULL, 10);
        pc->ineligible = PQgetvalue (res, (int) r, 3)[0] == 't';
        out->ptrs[r] = pc;
    }
    out->n = n;
    return 0;
}

static void
s_pbchanges_free (s_pbchanges_t *c)
{
    free (c->items);
    free (c->ptrs);
    free (c->codes);
    free (c->bufs);
    memset (c, 0, sizeof *c);
}

static void
s_get (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    screening_t *self = arg;
    Meso__V1__GetScreeningRequest *rq = body;
    rules_reasons_t bad = { .n = 0 };
    if (!s_uuid_valid (rq->patient_id))
        s_reason (&bad, "invalid_id", "patient_id", "patient_id must be a patient UUID.");
    if (rq->history_limit > HISTORY_MAX)
        s_reason (&bad, "out_of_range", "history_limit", "history_limit must be at most %d.",
                  HISTORY_MAX);
    if (bad.n) {
        s_invalid (reply, &bad, "screening.GetScreening");
        return;
    }
    int limit = rq->history_limit ? (int) rq->history_limit : HISTORY_DEFAULT;
    store_patient_t p;
    PGresult *res = NULL, *ch = NULL;
    Meso__V1__Screening **history = NULL;
    size_t nhistory = 0;
    s_pbchanges_t changes = { 0 };

    int found = store_patient_get (self->db, rq->patient_id, false, &p);
    if (found <= 0) {
        if (found < 0)
            meso_reply_db_error (reply, self->db, "cannot read the patient");
        else {
            meso_reply_reason (reply, "not_found", "patient_id", "no patient has id %s", rq->patient_id);
            meso_reply_error (reply, MESO_NOT_FOUND, "patient %s not found", rq->patient_id);
        }
        goto done;
    }
    res = store_screenings (self->db, p.id, limit);
    if (!res) {
        meso_reply_db_error (reply, self->db, "cannot read the screenings");
        goto done;
    }
    history = calloc ((size_t) PQntuples (res) + 1, sizeof *history);
    if (!history) {
        meso_reply_error (reply, MESO_RESOURCE_EXHAUSTED, "out of memory");
        goto done;
    }
    for (int r = 0; r < PQntuples (res); r++) {
        size_t len;
        uint8_t *raw = store_bytea (res, r, 2, &len);
        Meso__V1__Screening *sc = raw ? meso__v1__screening__unpack (NULL, len, raw) : NULL;
        PQfreemem (raw);
        if (!sc) {
            meso_reply_error (reply, MESO_DATA_LOSS, "screening %s does not decode",
                              PQgetvalue (res, r, 0));
            goto done;
        }
        history[nhistory++] = sc;
    }
    int64_t since = nhistory ? history[0]->screened_at_us : INT64_MIN;
    ch = store_changes_since (self->db, p.id, since);
    if (!ch || s_pbchanges (ch, &changes) != 0) {
        if (!ch)
            meso_reply_db_error (reply, self->db, "cannot read the reported changes");
        else
            meso_reply_error (reply, MESO_RESOURCE_EXHAUSTED, "out of memory");
        goto done;
    }
    Meso__V1__Patient pb;
    s_patient_proto (&p, &pb);
    Meso__V1__GetScreeningReply out = MESO__V1__GET_SCREENING_REPLY__INIT;
    out.patient = &pb;
    out.current = nhistory ? history[0] : NULL;
    out.n_history = nhistory;
    out.history = history;
    out.outdated = nhistory > 0 && changes.n > 0;
    out.n_changes = changes.n;
    out.changes = changes.ptrs;
    meso_reply_ok (reply, &out.base);
done:
    for (size_t i = 0; i < nhistory; i++)
        meso__v1__screening__free_unpacked (history[i], NULL);
    free (history);
    s_pbchanges_free (&changes);
    if (res)
        PQclear (res);
    if (ch)
        PQclear (ch);
}

/* ---------------------------------------------------------------- Check */

static void
s_check (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    screening_t *self = arg;
    Meso__V1__CheckRequest *rq = body;
    PGresult *res = NULL, *ch = NULL;
    Meso__V1__Screening *sc = NULL;
    rules_reasons_t bad = { .n = 0 };
    int32_t date = 0;
    if (!s_uuid_valid (rq->patient_id))
        s_reason (&bad, "invalid_id", "patient_id", "patient_id must be a patient UUID.");
    if (!rq->date || meso_date_parse (rq->date, &date) != 0)
        s_reason (&bad, "invalid_date", "date", "date must be the session day YYYY-MM-DD.");
    if (rq->n_ingredients == 0)
        s_reason (&bad, "missing_field", "ingredients", "ingredients must list the cocktail's ingredient codes.");
    if (rq->n_ingredients > RULES_MAX_INGREDIENTS)
        s_reason (&bad, "too_many", "ingredients", "ingredients holds more than %d codes.",
                  RULES_MAX_INGREDIENTS);
    for (size_t i = 0; i < rq->n_ingredients && i < RULES_MAX_INGREDIENTS; i++) {
        char f[32];
        snprintf (f, sizeof f, "ingredients[%zu]", i);
        int known = rules_code_valid (rq->ingredients[i])
                  ? store_ingredient_known (self->db, rq->ingredients[i]) : 0;
        if (known < 0) {
            meso_reply_db_error (reply, self->db, "cannot read the ingredient list");
            goto done;
        }
        if (!known)
            s_reason (&bad, "unknown_ingredient", f, "%s: \"%.64s\" is not in the ingredient catalogue.",
                      f, rq->ingredients[i]);
    }
    if (bad.n) {
        s_invalid (reply, &bad, "screening.Check");
        goto done;
    }
    store_patient_t p;
    int found = store_patient_get (self->db, rq->patient_id, false, &p);
    if (found <= 0) {
        if (found < 0)
            meso_reply_db_error (reply, self->db, "cannot read the patient");
        else {
            meso_reply_reason (reply, "not_found", "patient_id", "no patient has id %s", rq->patient_id);
            meso_reply_error (reply, MESO_NOT_FOUND, "patient %s not found", rq->patient_id);
        }
        goto done;
    }
    res = store_screenings (self->db, p.id, 1);
    if (!res) {
        meso_reply_db_error (reply, self->db, "cannot read the screenings");
        goto done;
    }
    if (PQntuples (res) == 1) {
        size_t len;
        uint8_t *raw = store_bytea (res, 0, 2, &len);
        sc = raw ? meso__v1__screening__unpack (NULL, len, raw) : NULL;
        PQfreemem (raw);
        if (!sc || !sc->answers) {
            meso_reply_error (reply, MESO_DATA_LOSS, "screening %s does not decode",
                              PQgetvalue (res, 0, 0));
            goto done;
        }
    }
    rules_check_input_t in;
    memset (&in, 0, sizeof in);
    rules_answers_t a;
    rules_answers_init (&a);
    char codebuf[16][16 * (RULES_CODE_MAX + 1) + 4];
    rules_settings_t settings;
    rules_settings_default (&settings);
    if (sc) {
        int32_t birth = 0;
        meso_date_parse (p.birth_date, &birth);
        rules_reasons_t ignore = { .n = 0 };
        s_answers (sc->answers, birth, &a, &ignore);
        in.answers = &a;
        meso_date_parse (sc->valid_until, &in.valid_until);
        ch = store_changes_since (self->db, p.id, sc->screened_at_us);
        if (!ch) {
            meso_reply_db_error (reply, self->db, "cannot read the reported changes");
            goto done;
        }
        for (int r = 0; r < PQntuples (ch) && r < 16 && in.nchanges < 16; r++) {
            const char *codes[16];
            size_t n = store_split_codes (PQgetvalue (ch, r, 0), codebuf[r], sizeof codebuf[r],
                                          codes, 16);
            for (size_t k = 0; k < n && in.nchanges < 16; k++)
                in.changes[in.nchanges++] = codes[k];
        }
        const char *clinic = rq->clinic_id && *rq->clinic_id ? rq->clinic_id : sc->clinic_id;
        if (store_settings_get (self->db, clinic, &settings) != 0) {
            meso_reply_db_error (reply, self->db, "cannot read the clinic settings");
            goto done;
        }
    }
    rules_check_t out;
    rules_check (&in, (const char *const *) rq->ingredients, rq->n_ingredients, &settings, date, &out);
    char earliest[16] = "";
    if (out.earliest_allowed != RULES_NO_DATE)
        meso_date_format (out.earliest_allowed, earliest, sizeof earliest);
    if (!out.allowed) {
        s_refuse (reply, MESO_FAILED_PRECONDITION, &out.reasons,
                  "patient may not be treated on %s: %zu reason(s)", rq->date);
        if (*earliest)
            meso_reply_detail (reply, "earliest_allowed_date=%s", earliest);
        goto done;
    }
    rules_texts_t instructions;
    rules_instructions (&a, &instructions);
    s_pbtexts_t ins;
    s_pbtexts (&instructions, &ins);
    s_pbreasons_t pre;
    s_pbreasons (&out.reasons, 2, &pre);
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
    meso_reply_ok (reply, &cr.base);
done:
    if (sc)
        meso__v1__screening__free_unpacked (sc, NULL);
    if (res)
        PQclear (res);
    if (ch)
        PQclear (ch);
}

/* --------------------------------------------------------- ReportChange */

static int
s_change_txn (meso_db_t *db, void *arg)
{
    s_ctx_t *c = arg;
    int done;
    if (!s_claim (c, db, &done))
        return done;
    Meso__V1__ReportChangeRequest *rq = c->body;
    store_patient_t p;
    if (s_patient_locked (c, db, rq->patient_id, &p) != 0)
        return -1;
    bool ineligible = false;
    for (size_t i = 0; i < rq->n_changes; i++)
        if (rules_condition_of (rq->changes[i]) >= 0)
            ineligible = true;
    int64_t at;
    if (store_change_insert (db, p.id, (const char *const *) rq->changes, rq->n_changes,
                             rq->note, ineligible, &at) != 0) {
        meso_reply_db_error (c->reply, db, "cannot record the change");
        return -1;
    }
    Meso__V1__Event ev = MESO__V1__EVENT__INIT;
    Meso__V1__PatientChanged pc = MESO__V1__PATIENT_CHANGED__INIT;
    pc.patient_id = p.id;
    pc.n_changed = rq->n_changes;
    pc.changed = rq->changes;
    pc.ineligible = ineligible;
    pc.effective_at_us = at;
    ev.payload_case = MESO__V1__EVENT__PAYLOAD_PATIENT_CHANGED;
    ev.patient_changed = &pc;
    if (meso_handler_emit (db, &ev, "screening.patient_changed", p.home_clinic_id, c->req->actor,
                           NULL) != 0) {
        meso_reply_db_error (c->reply, db, "cannot record the patient_changed event");
        return -1;
    }
    Meso__V1__PatientChange change = MESO__V1__PATIENT_CHANGE__INIT;
    change.n_changes = rq->n_changes;
    change.changes = rq->changes;
    change.note = rq->note;
    change.reported_at_us = at;
    change.ineligible = ineligible;
    Meso__V1__ReportChangeReply out = MESO__V1__REPORT_CHANGE_REPLY__INIT;
    out.change = &change;
    meso_reply_ok (c->reply, &out.base);
    return meso_idem_store (db, SCHEMA, c->req, c->reply);
}

static void
s_report_change (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    screening_t *self = arg;
    Meso__V1__ReportChangeRequest *rq = body;
    rules_reasons_t bad = { .n = 0 };
    if (!s_uuid_valid (rq->patient_id))
        s_reason (&bad, "invalid_id", "patient_id", "patient_id must be a patient UUID.");
    if (rq->n_changes == 0 || rq->n_changes > 16)
        s_reason (&bad, rq->n_changes ? "too_many" : "missing_field", "changes",
                  "changes must list 1 to 16 change codes.");
    for (size_t i = 0; i < rq->n_changes && i < 16; i++)
        if (!rules_code_valid (rq->changes[i]) || !s_change_known (rq->changes[i])) {
            char f[32];
            snprintf (f, sizeof f, "changes[%zu]", i);
            s_reason (&bad, "unknown_change", f,
                      "%s: \"%.64s\" is not a change code (a contraindication such as pregnancy, "
                      "or allergy, medication, weight, other).", f, rq->changes[i]);
        }
    if (s_chars (rq->note) > 1000)
        s_reason (&bad, "too_long", "note", "note is longer than 1000 characters.");
    if (bad.n) {
        s_invalid (reply, &bad, "screening.ReportChange");
        return;
    }
    s_ctx_t c = { self, req, reply, rq, 0 };
    int rc = meso_db_txn (self->db, MESO_DB_READ_COMMITTED, s_change_txn, &c);
    s_after_txn (self, reply, rc, "cannot record the change");
}

/* ---------------------------------------------------- SetClinicSettings */

typedef struct {
    s_ctx_t c;
    const char *clinic_id;
    rules_settings_t settings;
} s_settings_ctx_t;

static int
s_settings_txn (meso_db_t *db, void *arg)
{
    s_settings_ctx_t *sc = arg;
    int done;
    if (!s_claim (&sc->c, db, &done))
        return done;
    if (store_settings_set (db, sc->clinic_id, &sc->settings) != 0) {
        meso_reply_db_error (sc->c.reply, db, "cannot store the clinic settings");
        return -1;
    }
    Meso__V1__ClinicSettings ps = MESO__V1__CLINIC_SETTINGS__INIT;
    ps.clinic_id = (char *) sc->clinic_id;
    ps.max_age = (uint32_t) sc->settings.max_age;
    ps.bmi_obesity_x10 = (uint32_t) sc->settings.bmi_obesity_x10;
    ps.validity_days = (uint32_t) sc->settings.validity_days;
    Meso__V1__SetClinicSettingsReply out = MESO__V1__SET_CLINIC_SETTINGS_REPLY__INIT;
    out.settings = &ps;
    meso_reply_ok (sc->c.reply, &out.base);
    return meso_idem_store (db, SCHEMA, sc->c.req, sc->c.reply);
}

static void
s_set_settings (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    screening_t *self = arg;
    Meso__V1__SetClinicSettingsRequest *rq = body;
    rules_reasons_t bad = { .n = 0 };
    s_settings_ctx_t sc = { { self, req, reply, rq, 0 }, NULL, { 0, 0, 0 } };
    rules_settings_default (&sc.settings);
    Meso__V1__ClinicSettings *in = rq->settings;
    if (!in || !in->clinic_id || !*in->clinic_id || s_chars (in->clinic_id) > 64)
        s_reason (&bad, "missing_field", "settings.clinic_id",
                  "settings.clinic_id is required (at most 64 characters).");
    else {
        sc.clinic_id = in->clinic_id;
        /* Values beyond int range are out of range anyway. */
        if (in->max_age)
            sc.settings.max_age = in->max_age > 1000 ? 1000 : (int) in->max_age;
        if (in->bmi_obesity_x10)
            sc.settings.bmi_obesity_x10 = in->bmi_obesity_x10 > 10000 ? 10000 : (int) in->bmi_obesity_x10;
        if (in->validity_days)
            sc.settings.validity_days = in->validity_days > 100000 ? 100000 : (int) in->validity_days;
        const char *field;
        if (rules_settings_valid (&sc.settings, &field) != 0) {
            char f[48];
            snprintf (f, sizeof f, "settings.%s", field);
            s_reason (&bad, "out_of_range", f,
                      "%s is out of range (max_age 18..120, bmi_obesity_x10 150..600, "
                      "validity_days 1..3650).", f);
        }
    }
    if (bad.n) {
        s_invalid (reply, &bad, "screening.SetClinicSettings");
        return;
    }
    int rc = meso_db_txn (self->db, MESO_DB_READ_COMMITTED, s_settings_txn, &sc);
    s_after_txn (self, reply, rc, "cannot store the clinic settings");
}

const meso_method_t screening_methods[] = {
    { "screening.RegisterPatient", s_register, MESO_METHOD_MUTATING, &meso__v1__register_patient_request__descriptor },
    { "screening.UpdatePatient", s_update, MESO_METHOD_MUTATING, &meso__v1__update_patient_request__descriptor },
    { "screening.RecordScreening", s_record, MESO_METHOD_MUTATING, &meso__v1__record_screening_request__descriptor },
    { "screening.GetScreening", s_get, MESO_METHOD_READ, &meso__v1__get_screening_request__descriptor },
    { "screening.Check", s_check, MESO_METHOD_READ, &meso__v1__check_request__descriptor },
    { "screening.ReportChange", s_report_change, MESO_METHOD_MUTATING, &meso__v1__report_change_request__descriptor },
    { "screening.SetClinicSettings", s_set_settings, MESO_METHOD_MUTATING, &meso__v1__set_clinic_settings_request__descriptor },
    { NULL, NULL, 0, NULL }
};
