/* patients.c -- the patient aggregate: RegisterPatient, UpdatePatient and
 * ReportChange.
 *
 * ReportChange lives here and not with the screenings, although what it
 * records outdates the newest screening: it is a fact about the patient,
 * it locks the patient's row like UpdatePatient and it is announced by
 * the same event, screening.patient_changed, which this file alone
 * builds. The screening methods only read the reported changes back
 * (store_changes_since). Which change codes exist and which of them make
 * the patient ineligible are rules (rules_change_known,
 * rules_change_ineligible).
 *
 * UpdatePatient and ReportChange name a patient, not a clinic
 * (MESO_SCOPE_HANDLER): UpdatePatient needs the caller in the patient's
 * home clinic (and in the new one when it moves); ReportChange in the home
 * clinic or a clinic where the patient was screened, the clinics that
 * treat it. Both are checked before the frame (a replay too) and again
 * under the patient's row lock, before any write. */
#include "screening.h"

#include "meso/audit.h"

#include <stdio.h>
#include <string.h>

#include "events.pb-c.h"
#include "meso/access.h"
#include "meso/handler.h"
#include "meso/mtime.h"

static int32_t
s_today (void)
{
    return rules_day_of (meso_time_now_us ());
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
        if (texts[i].value == p->home_clinic_id) {
            /* The chain's one clinic id syntax, not a free text. */
            screening_need_clinic (bad, texts[i].name, texts[i].value, required);
            continue;
        }
        size_t n = screening_chars (texts[i].value);
        if (n == 0 && required)
            rules_reason_add (bad, true, "missing_field", texts[i].name, "%s is required.",
                              texts[i].name);
        else if (n > texts[i].max)
            rules_reason_add (bad, true, "too_long", texts[i].name,
                              "%s is longer than %zu characters.", texts[i].name, texts[i].max);
    }
    if (p->email && *p->email && !strchr (p->email, '@'))
        rules_reason_add (bad, true, "invalid_email", "patient.email",
                          "patient.email is not an e-mail address.");
    if (p->birth_date && *p->birth_date) {
        int32_t d;
        if (meso_date_parse (p->birth_date, &d) != 0)
            rules_reason_add (bad, true, "invalid_date", "patient.birth_date",
                              "patient.birth_date must be a date YYYY-MM-DD.");
        else if (d > today)
            rules_reason_add (bad, true, "out_of_range", "patient.birth_date",
                              "patient.birth_date %s is in the future.", p->birth_date);
        else if (d < meso_date_from_ymd (1900, 1, 1))
            rules_reason_add (bad, true, "out_of_range", "patient.birth_date",
                              "patient.birth_date %s is before 1900.", p->birth_date);
    }
    else if (full)
        rules_reason_add (bad, true, "missing_field", "patient.birth_date",
                          "patient.birth_date is required.");
    if ((int) p->sex < 0 || (int) p->sex > 3)
        rules_reason_add (bad, true, "out_of_range", "patient.sex", "patient.sex must be 0..3.");
}

/* Records screening.patient_changed for p. outdated: the change outdates
 * the screening (ReportChange), which holds the patient's upcoming
 * sessions at scheduling. 0, or -1 with the reply set. */
static int
s_patient_changed (screening_call_t *c, meso_db_t *db, const store_patient_t *p, char **changed,
                   size_t nchanged, bool ineligible, bool outdated, int64_t effective_at_us)
{
    Meso__V1__Event ev = MESO__V1__EVENT__INIT;
    Meso__V1__PatientChanged pc = MESO__V1__PATIENT_CHANGED__INIT;
    pc.patient_id = (char *) p->id;
    pc.n_changed = nchanged;
    pc.changed = changed;
    pc.ineligible = ineligible;
    pc.effective_at_us = effective_at_us;
    pc.screening_outdated = outdated;
    ev.payload_case = MESO__V1__EVENT__PAYLOAD_PATIENT_CHANGED;
    ev.patient_changed = &pc;
    if (meso_handler_emit (db, &ev, "screening.patient_changed", p->home_clinic_id, c->req->actor,
                           NULL) != 0) {
        meso_reply_db_error (c->reply, db, "cannot record the patient_changed event");
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------ RegisterPatient */

static int
s_register_txn (meso_db_t *db, screening_call_t *c)
{
    Meso__V1__RegisterPatientRequest *rq = c->body;
    store_patient_t p;
    if (store_patient_insert (db, rq->patient, &p) != 0) {
        meso_reply_db_error (c->reply, db, "cannot register the patient");
        return -1;
    }
    snprintf (c->patient_id, sizeof c->patient_id, "%s", p.id);
    meso_call_patient (p.id, p.home_clinic_id);
    if (screening_search_index (c->self, db, &p) != 0) {
        meso_reply_db_error (c->reply, db, "cannot index the patient for search");
        return -1;
    }
    Meso__V1__Patient pb;
    screening_patient_proto (&p, &pb);
    Meso__V1__RegisterPatientReply out = MESO__V1__REGISTER_PATIENT_REPLY__INIT;
    out.patient = &pb;
    meso_reply_ok (c->reply, &out.base);
    return 0;
}

void
screening_register_patient (const Meso__V1__Request *req, void *body, meso_reply_t *reply,
                            void *arg)
{
    screening_call_t call = { arg, req, body, reply, NULL, NULL, NULL, "" };
    Meso__V1__RegisterPatientRequest *rq = body;
    rules_reasons_t bad = { .n = 0 };
    if (!rq->patient)
        rules_reason_add (&bad, true, "missing_field", "patient", "patient is required.");
    else {
        s_validate_patient (rq->patient, true, s_today (), &bad);
        call.clinic_id = rq->patient->home_clinic_id;
        call.clinic_field = "patient.home_clinic_id";
    }
    screening_run (&call, &bad, s_register_txn, "cannot register the patient");
}

/* -------------------------------------------------------- UpdatePatient */

/* Copies into now the fields of in that are set and differ; names each in
 * changed (room for 8). Returns the count. */
static size_t
s_merge (const Meso__V1__Patient *in, store_patient_t *now, char **changed)
{
    size_t nchanged = 0;
#define S_MERGE(field)                                                        \
    if (in->field && *in->field && strcmp (in->field, now->field) != 0) {    \
        snprintf (now->field, sizeof now->field, "%s", in->field);            \
        changed[nchanged++] = #field;                                         \
    }
    S_MERGE (given_name)
    S_MERGE (family_name)
    S_MERGE (birth_date)
    S_MERGE (phone)
    S_MERGE (email)
    S_MERGE (home_clinic_id)
#undef S_MERGE
    if (in->sex != MESO__V1__SEX__SEX_UNSPECIFIED && (int) in->sex != now->sex) {
        now->sex = (int) in->sex;
        changed[nchanged++] = "sex";
    }
    return nchanged;
}

static int
s_update_txn (meso_db_t *db, screening_call_t *c)
{
    Meso__V1__Patient *in = ((Meso__V1__UpdatePatientRequest *) c->body)->patient;
    store_patient_t old, now, stored;
    if (screening_patient_live (c->reply, db, in->id, true, &old, "patient.id") != 0
        || screening_scope_patient (c->reply, db, &old, false, "patient.id") != 0)
        return -1;
    snprintf (c->patient_id, sizeof c->patient_id, "%s", old.id);
    now = old;
    char *changed[8];
    size_t nchanged = s_merge (in, &now, changed);
    stored = old;
    if (nchanged > 0) {
        if (store_patient_update (db, &now, &stored) != 0) {
            meso_reply_db_error (c->reply, db, "cannot update the patient");
            return -1;
        }
        if (screening_search_index (c->self, db, &stored) != 0) {
            meso_reply_db_error (c->reply, db, "cannot index the patient for search");
            return -1;
        }
        if (s_patient_changed (c, db, &stored, changed, nchanged, false, false, stored.updated_at_us) != 0)
            return -1;
    }
    Meso__V1__Patient pb;
    screening_patient_proto (&stored, &pb);
    Meso__V1__UpdatePatientReply out = MESO__V1__UPDATE_PATIENT_REPLY__INIT;
    out.patient = &pb;
    out.n_changed = nchanged;
    out.changed = changed;
    meso_reply_ok (c->reply, &out.base);
    return 0;
}

void
screening_update_patient (const Meso__V1__Request *req, void *body, meso_reply_t *reply,
                          void *arg)
{
    screening_call_t call = { arg, req, body, reply, NULL, NULL, NULL, "" };
    Meso__V1__UpdatePatientRequest *rq = body;
    int32_t today = s_today ();
    rules_reasons_t bad = { .n = 0 };
    if (!rq->patient)
        rules_reason_add (&bad, true, "missing_field", "patient", "patient is required.");
    else {
        screening_need_patient_id (&bad, "patient.id", rq->patient->id);
        s_validate_patient (rq->patient, false, today, &bad);
        call.clinic_id = rq->patient->home_clinic_id;
        call.clinic_field = "patient.home_clinic_id";
    }
    /* The patient's home clinic now (checked again under the row's lock)
     * and the one it moves to must both be the caller's. */
    if (bad.n == 0
        && ((rq->patient->home_clinic_id && *rq->patient->home_clinic_id
             && meso_call_need_clinic (reply, rq->patient->home_clinic_id, "patient.home_clinic_id") != 0)
            || screening_scope_patient_id (call.self, reply, rq->patient->id, false, "patient.id") != 0))
        return;
    screening_run (&call, &bad, s_update_txn, "cannot update the patient");
}

/* --------------------------------------------------------- ReportChange */

static int
s_change_txn (meso_db_t *db, screening_call_t *c)
{
    Meso__V1__ReportChangeRequest *rq = c->body;
    store_patient_t p;
    if (screening_patient_live (c->reply, db, rq->patient_id, true, &p, "patient_id") != 0
        || screening_scope_patient (c->reply, db, &p, true, "patient_id") != 0)
        return -1;
    snprintf (c->patient_id, sizeof c->patient_id, "%s", p.id);
    bool ineligible = rules_change_ineligible ((const char *const *) rq->changes, rq->n_changes);
    int64_t at;
    if (store_change_insert (db, &p, (const char *const *) rq->changes, rq->n_changes,
                             rq->note, ineligible, &at) != 0) {
        meso_reply_db_error (c->reply, db, "cannot record the change");
        return -1;
    }
    if (s_patient_changed (c, db, &p, rq->changes, rq->n_changes, ineligible, true, at) != 0)
        return -1;
    Meso__V1__PatientChange change = MESO__V1__PATIENT_CHANGE__INIT;
    change.n_changes = rq->n_changes;
    change.changes = rq->changes;
    change.note = rq->note;
    change.reported_at_us = at;
    change.ineligible = ineligible;
    Meso__V1__ReportChangeReply out = MESO__V1__REPORT_CHANGE_REPLY__INIT;
    out.change = &change;
    meso_reply_ok (c->reply, &out.base);
    return 0;
}

void
screening_report_change (const Meso__V1__Request *req, void *body, meso_reply_t *reply,
                         void *arg)
{
    screening_call_t call = { arg, req, body, reply, NULL, NULL, NULL, "" };
    Meso__V1__ReportChangeRequest *rq = body;
    rules_reasons_t bad = { .n = 0 };
    screening_need_patient_id (&bad, "patient_id", rq->patient_id);
    if (rq->n_changes == 0 || rq->n_changes > 16)
        rules_reason_add (&bad, true, rq->n_changes ? "too_many" : "missing_field", "changes",
                          "changes must list 1 to 16 change codes.");
    for (size_t i = 0; i < rq->n_changes && i < 16; i++)
        if (!rules_code_valid (rq->changes[i]) || !rules_change_known (rq->changes[i])) {
            char f[32];
            snprintf (f, sizeof f, "changes[%zu]", i);
            rules_reason_add (&bad, true, "unknown_change", f,
                              "%s: \"%.64s\" is not a change code (a contraindication such as "
                              "pregnancy, or allergy, medication, weight, other).", f,
                              rq->changes[i]);
        }
    if (screening_chars (rq->note) > 1000)
        rules_reason_add (&bad, true, "too_long", "note", "note is longer than 1000 characters.");
    if (bad.n == 0 && screening_scope_patient_id (call.self, reply, rq->patient_id, true, "patient_id") != 0)
        return;
    screening_run (&call, &bad, s_change_txn, "cannot record the change");
}
