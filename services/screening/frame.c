/* frame.c -- what every screening method shares: the run frame of a
 * mutating method, the refusal of a request with every reason, reading a
 * patient, the few request checks several methods repeat, and the wire
 * form of the rows more than one aggregate returns.
 *
 * The run frame is the one place that claims an idempotency key, runs the
 * method's work and stores the reply under the key, all in one transaction
 * (meso/idem.h, meso/outbox.h): a retry replays the reply, and an effect,
 * its event and its key commit together or not at all. A refusal inside
 * the work rolls everything back, the key included, so bad input stores
 * nothing.
 *
 * This is not handlers.c, as the project's layout would have it, because
 * handlers.c holds the method table: the table names a method of every
 * aggregate file and every aggregate file calls these helpers, so keeping
 * both in one file would make each aggregate file and handlers.c call
 * each other. Here the calls go one way: handlers.c -> aggregate files ->
 * frame.c -> store.c and rules.c.
 *
 * The clinic scope of the methods that name a patient rather than a
 * clinic (UpdatePatient, GetScreening, ReportChange) is checked here too
 * (screening_scope_patient): the patient's clinics are its home clinic
 * and, for the health record, every clinic where it was screened. */
#include "screening.h"

#include <string.h>

#include "meso/access.h"
#include "meso/audit.h"
#include "meso/handler.h"
#include "meso/idem.h"

#define SCHEMA "screening"

/* ------------------------------------------------------------- replies */

void
screening_refuse (meso_reply_t *reply, meso_status_t status, const rules_reasons_t *r,
                  const char *fmt, const char *what)
{
    for (size_t i = 0; i < r->n; i++)
        meso_reply_reason (reply, r->items[i].code, r->items[i].field[0] ? r->items[i].field : NULL,
                           "%s", r->items[i].message);
    meso_reply_error (reply, status, fmt, what, r->n);
}

bool
screening_invalid (meso_reply_t *reply, const rules_reasons_t *bad, const char *method)
{
    if (bad->n == 0)
        return false;
    screening_refuse (reply, MESO_INVALID_ARGUMENT, bad,
                      "invalid %s request: %zu problem(s), see reasons", method);
    return true;
}

/* ----------------------------------------------------------- the frame */

typedef struct {
    screening_call_t *call;
    screening_txn_fn *fn;
} s_frame_t;

/* Runs again from the start when meso_db_txn retries, so the reply is
 * reset by the claim each time. */
static int
s_frame_txn (meso_db_t *db, void *arg)
{
    s_frame_t *f = arg;
    screening_call_t *c = f->call;
    meso_reply_reset (c->reply);
    int rc = meso_idem_claim (db, SCHEMA, c->req, c->reply);
    if (rc < 0)
        return -1;                      /* refused */
    if (rc == 0) {
        c->patient_id[0] = '\0';
        if (f->fn (db, c) != 0 || meso_idem_store (db, SCHEMA, c->req, c->reply) != 0)
            return -1;
        /* A reply repeating a patient's data is deleted with its key. */
        if (c->patient_id[0] && store_idem_patient (db, c->req->idempotency_key, c->patient_id) != 0) {
            meso_reply_db_error (c->reply, db, "cannot record whom the reply is about");
            return -1;
        }
    }
    else
        meso_audit_replay ();
    /* The audit row of the patient touched (a replay too), last. */
    if (meso_audit_append (db, c->reply) != 0) {
        meso_reply_db_error (c->reply, db, "audit trail");
        return -1;
    }
    return 0;
}

void
screening_run (screening_call_t *call, const rules_reasons_t *bad, screening_txn_fn *fn,
               const char *what)
{
    if (screening_invalid (call->reply, bad, call->req->method))
        return;
    if (call->clinic_id && *call->clinic_id
        && meso_clinics_check (call->self->clinics, call->clinic_id, call->clinic_field,
                               call->reply, NULL) != 0)
        return;
    s_frame_t f = { call, fn };
    int rc = meso_db_txn (call->self->db, MESO_DB_READ_COMMITTED, s_frame_txn, &f);
    /* A failure the work did not explain (e.g. the COMMIT itself) becomes
     * the database's error. */
    if (rc != 0 && meso_reply_status (call->reply) == MESO_OK)
        meso_reply_db_error (call->reply, call->self->db, what);
}

/* ------------------------------------------------------ request checks */

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

void
screening_need_clinic (rules_reasons_t *bad, const char *field, const char *id, bool required)
{
    if (!id || !*id) {
        if (required)
            rules_reason_add (bad, true, "missing_field", field, "%s is required.", field);
    }
    else if (!meso_handler_clinic_ok (id))
        /* The value is not echoed: it may hold anything, a newline too. */
        rules_reason_add (bad, true, "invalid_id", field,
                          "%s must be a clinic id: 1 to %d characters of a-z, 0-9, _ or -.", field,
                          MESO_HANDLER_ID_MAX);
}

void
screening_need_patient_id (rules_reasons_t *bad, const char *field, const char *id)
{
    if (!s_uuid_valid (id))
        rules_reason_add (bad, true, "invalid_id", field, "%s must be a patient UUID.", field);
}

size_t
screening_chars (const char *s)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *) s; p && *p; p++)
        if ((*p & 0xC0) != 0x80)
            n++;
    return n;
}

/* ------------------------------------------------------------- patient */

static int
s_patient_found (meso_reply_t *reply, meso_db_t *db, int rc, const char *id)
{
    if (rc < 0) {
        meso_reply_db_error (reply, db, "cannot read the patient");
        return -1;
    }
    if (rc == 0) {
        meso_reply_reason (reply, "not_found", "patient_id", "no patient has id %s", id);
        meso_reply_error (reply, MESO_NOT_FOUND, "patient %s not found", id);
        return -1;
    }
    return 0;
}

int
screening_patient (meso_reply_t *reply, meso_db_t *db, const char *id, bool lock,
                   store_patient_t *p)
{
    return s_patient_found (reply, db, store_patient_get (db, id, lock, p), id);
}

int
screening_patient_live (meso_reply_t *reply, meso_db_t *db, const char *id, bool lock,
                        store_patient_t *p, const char *field)
{
    return screening_patient_live_row (reply, db, store_patient_get (db, id, lock, p), id, p, field);
}

int
screening_patient_live_row (meso_reply_t *reply, meso_db_t *db, int rc, const char *id,
                            const store_patient_t *p, const char *field)
{
    if (s_patient_found (reply, db, rc, id) != 0)
        return -1;
    if (!p->erased)
        return 0;
    meso_reply_reason (reply, "patient_erased", field,
                       "patient %s was erased; a new screening needs a new registration", id);
    meso_reply_error (reply, MESO_FAILED_PRECONDITION, "patient erased: register again");
    meso_reply_detail (reply, "screening.ErasePatient destroyed the patient's data key");
    return -1;
}

int
screening_scope_patient (meso_reply_t *reply, meso_db_t *db, const store_patient_t *p,
                         bool screened_too, const char *field)
{
    if (!meso_call_scoped () || meso_call_in_clinic (p->home_clinic_id))
        return meso_call_need_clinic (reply, p->home_clinic_id, field);
    if (screened_too) {
        PGresult *res = store_patient_screened_at (db, p->id);
        if (!res) {
            meso_reply_db_error (reply, db, "cannot read the patient's clinics");
            return -1;
        }
        int at = -1;
        for (int r = 0; at < 0 && r < PQntuples (res); r++)
            if (meso_call_in_clinic (PQgetvalue (res, r, 0)))
                at = r;
        int rc = at >= 0 ? meso_call_need_clinic (reply, PQgetvalue (res, at, 0), field) : 1;
        PQclear (res);
        if (rc <= 0)
            return rc;
    }
    /* Refused, naming the home clinic: the one the patient belongs to. */
    return meso_call_need_clinic (reply, p->home_clinic_id, field);
}

int
screening_scope_patient_id (screening_t *self, meso_reply_t *reply, const char *id,
                            bool screened_too, const char *field)
{
    if (!meso_call_scoped ())
        return 0;
    store_patient_t p;
    int rc = store_patient_get (self->db, id, false, &p);
    if (rc < 0) {
        meso_reply_db_error (reply, self->db, "cannot read the patient");
        return -1;
    }
    return rc == 0 ? 0 : screening_scope_patient (reply, self->db, &p, screened_too, field);
}

/* ----------------------------------------------------------- wire form */

void
screening_patient_proto (store_patient_t *p, Meso__V1__Patient *out)
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
    out->erased = p->erased;
}

void
screening_settings_proto (const char *clinic_id, const rules_settings_t *s,
                          Meso__V1__ClinicSettings *out)
{
    meso__v1__clinic_settings__init (out);
    out->clinic_id = (char *) clinic_id;
    out->max_age = (uint32_t) s->max_age;
    out->bmi_obesity_x10 = (uint32_t) s->bmi_obesity_x10;
    out->validity_days = (uint32_t) s->validity_days;
}
