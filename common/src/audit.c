/* audit.c -- writing the audit trail of patient data (see meso/audit.h,
 * deploy/sql/021_audit.sql).
 *
 * The call being served is thread-local, like access.c's: the bus server
 * begins it before the role check (so refusals are recorded too), the
 * handler adds the patients it learns, the run frame writes the rows in
 * its transaction, and the server finishes it before the reply is sent.
 *
 * Why it is built this way:
 * - The rows go through audit.append (SECURITY DEFINER): the service
 *   roles cannot touch the tables, and the hash chain is extended under
 *   the chain's head row lock by the one function that knows it.
 * - Rows of one request are appended in clinic order, so two requests
 *   touching the same clinics lock their heads in the same order (no
 *   deadlock), and in one statement (a page of a list names a hundred
 *   patients: one round trip, not a hundred).
 * - "Appended in the transaction" is a flag, not proof of a commit: when
 *   the COMMIT fails the frame turns the reply into an error, and finish
 *   then records that error in a statement of its own. A successful
 *   reply is therefore always backed by a committed row. */
#include "meso/audit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meso/access.h"
#include "meso/log.h"
#include "bus_private.h"

#define TEXT_MAX 129            /* ids of the wire: at most 128 bytes */

typedef struct {
    char *patient;
    char *clinic;               /* "" when the handler did not say */
} s_touch_t;

typedef struct {
    const char *patient;
    const char *clinic;
} s_row_t;

typedef struct {
    bool active;
    const meso_method_t *m;
    char request_id[TEXT_MAX];
    char scope_clinic[TEXT_MAX];    /* from the scope path, when it is one */
    char field_patient[TEXT_MAX];   /* from the patient path */
    s_touch_t *list;
    size_t n, cap;
    bool none;                  /* the handler said: no patient */
    bool replay;                /* a stored reply: the handler did not run */
    bool appended;              /* rows written in a transaction */
} s_call_t;

static __thread s_call_t s_call;

static void
s_copy (char *out, const char *in)
{
    snprintf (out, TEXT_MAX, "%s", in ? in : "");
}

void
meso_audit_begin (const meso_method_t *m, const Meso__V1__Request *req,
                  const ProtobufCMessage *body)
{
    meso_audit_end ();
    if (!m || !(m->flags & MESO_METHOD_PATIENT))
        return;
    s_call.active = true;
    s_call.m = m;
    s_copy (s_call.request_id, req ? req->request_id : "");
    if (body && m->scope && m->scope[0] != '@')
        s_copy (s_call.scope_clinic, meso_bus_string_at (body, m->scope));
    if (body && m->patient && strcmp (m->patient, MESO_PATIENT_HANDLER) != 0)
        s_copy (s_call.field_patient, meso_bus_string_at (body, m->patient));
}

void
meso_audit_end (void)
{
    for (size_t i = 0; i < s_call.n; i++) {
        free (s_call.list[i].patient);
        free (s_call.list[i].clinic);
    }
    free (s_call.list);
    memset (&s_call, 0, sizeof s_call);
}

void
meso_call_patient (const char *patient_id, const char *clinic_id)
{
    if (!s_call.active)
        return;
    if (!patient_id) {
        s_call.none = true;
        return;
    }
    const char *clinic = clinic_id ? clinic_id : "";
    for (size_t i = 0; i < s_call.n; i++)
        if (strcmp (s_call.list[i].patient, patient_id) == 0
            && (!*clinic || strcmp (s_call.list[i].clinic, clinic) == 0))
            return;
    if (s_call.n == s_call.cap) {
        size_t cap = s_call.cap ? s_call.cap * 2 : 4;
        s_touch_t *list = realloc (s_call.list, cap * sizeof *list);
        if (!list)
            return;             /* append refuses: n > list */
        s_call.list = list;
        s_call.cap = cap;
    }
    s_touch_t *t = &s_call.list[s_call.n];
    t->patient = strndup (patient_id, TEXT_MAX - 1);
    t->clinic = strndup (clinic, TEXT_MAX - 1);
    if (!t->patient || !t->clinic) {
        free (t->patient);
        free (t->clinic);
        return;
    }
    s_call.n++;
}

/* The clinic of a row whose handler did not name one. */
static const char *
s_default_clinic (void)
{
    if (s_call.scope_clinic[0])
        return s_call.scope_clinic;
    return meso_call_clinic ();
}

static int
s_by_clinic (const void *a, const void *b)
{
    const s_row_t *x = a, *y = b;
    return strcmp (x->clinic, y->clinic);
}

/* Writes one row per patient (or one row without a patient when none is
 * known) with status, in clinic order: one statement however many rows
 * (audit.append for one, audit.append_rows for a page). Returns 0 or -1
 * (db error set). */
static int
s_write (meso_db_t *db, int status)
{
    const meso_principal_t *p = meso_call_principal ();
    char st[16];
    snprintf (st, sizeof st, "%d", status);
    const char *access = s_call.m->kind == MESO_METHOD_READ ? "read" : "write";
    size_t n = s_call.n ? s_call.n : 1;
    if (n > MESO_AUDIT_PATIENTS_MAX) {
        meso_db_set_error (db, "54000", "%s touched %zu patients; the audit trail takes at most %d "
                           "per request", s_call.m->name, n, MESO_AUDIT_PATIENTS_MAX);
        return -1;
    }
    s_row_t *rows = calloc (n, sizeof *rows);
    if (!rows) {
        meso_db_set_error (db, "53200", "out of memory");
        return -1;
    }
    if (s_call.n == 0)
        rows[0].patient = s_call.field_patient;
    for (size_t i = 0; i < s_call.n; i++)
        rows[i].patient = s_call.list[i].patient;
    for (size_t i = 0; i < n; i++)
        rows[i].clinic = s_call.n && s_call.list[i].clinic[0] ? s_call.list[i].clinic
                                                              : s_default_clinic ();
    if (n > 1)
        qsort (rows, n, sizeof *rows, s_by_clinic);
    int rc = 0;
    if (n == 1) {
        const char *params[] = {
            rows[0].clinic, p ? p->name : "", p ? p->key : "", meso_call_on_behalf_of (),
            s_call.m->name, rows[0].patient, s_call.request_id, st, access
        };
        PGresult *res = meso_db_query (db, "SELECT audit.append ($1, $2, $3, $4, $5, $6, $7, "
                                       "$8::integer, $9)", 9, params);
        rc = res ? 0 : -1;
        PQclear (res);
    } else {
        /* A page of patients: every row in one statement (035). */
        const char **clinics = calloc (n, sizeof *clinics), **patients = calloc (n, sizeof *patients);
        char *lc = NULL, *lp = NULL;
        if (clinics && patients) {
            for (size_t i = 0; i < n; i++) {
                clinics[i] = rows[i].clinic;
                patients[i] = rows[i].patient;
            }
            lc = meso_db_text_array (clinics, n);
            lp = meso_db_text_array (patients, n);
        }
        if (!lc || !lp) {
            meso_db_set_error (db, "53200", "out of memory");
            rc = -1;
        } else {
            const char *params[] = {
                lc, lp, p ? p->name : "", p ? p->key : "", meso_call_on_behalf_of (),
                s_call.m->name, s_call.request_id, st, access
            };
            PGresult *res = meso_db_query (db, "SELECT audit.append_rows ($1::text[], $2::text[], $3, "
                                           "$4, $5, $6, $7, $8::integer, $9)", 9, params);
            rc = res ? 0 : -1;
            PQclear (res);
        }
        free (lc);
        free (lp);
        free (clinics);
        free (patients);
    }
    free (rows);
    return rc;
}

/* Whether the call knows whom it touched. */
static bool
s_named (void)
{
    return s_call.n > 0 || s_call.field_patient[0] || s_call.none || s_call.replay;
}

void
meso_audit_replay (void)
{
    s_call.replay = true;
}

int
meso_audit_append (meso_db_t *db, const meso_reply_t *reply)
{
    if (!s_call.active)
        return 0;
    if (!s_named ()) {
        meso_error ("%s did not name the patient it touched (meso_call_patient)", s_call.m->name);
        meso_db_set_error (db, "XX000", "%s did not name its patient for the audit trail",
                           s_call.m->name);
        return -1;
    }
    if (s_call.n == 0 && s_call.none && !s_call.replay && !s_call.field_patient[0]) {
        s_call.appended = true;         /* no patient touched: nothing to record */
        return 0;
    }
    if (s_write (db, meso_reply_status (reply)) != 0)
        return -1;
    s_call.appended = true;
    return 0;
}

void
meso_audit_finish (meso_db_t *db, meso_reply_t *reply)
{
    if (!s_call.active || !db)
        return;
    int status = meso_reply_status (reply);
    if (status == MESO_OK && s_call.appended)
        return;
    /* The service could not reach its database: nothing was read or
     * changed, the row would need the very connection that failed (and
     * would reconnect at once behind the operator's back), and the
     * client's retry is what gets recorded. */
    if (status == MESO_UNAVAILABLE)
        return;
    if (status == MESO_OK && !s_named ()) {
        meso_error ("%s answered without naming the patient it touched (meso_call_patient)",
                    s_call.m->name);
        meso_reply_reset (reply);
        meso_reply_error (reply, MESO_INTERNAL, "%s did not name its patient for the audit trail",
                          s_call.m->name);
        status = MESO_INTERNAL;
    }
    if (status == MESO_OK && s_call.n == 0 && s_call.none && !s_call.replay
        && !s_call.field_patient[0])
        return;
    int rc = s_write (db, status);
    if (rc == 0)
        return;
    const meso_db_error_t *e = meso_db_error (db);
    if (status != MESO_OK) {
        meso_error ("%s refused (%d) and its audit row could not be written: %s", s_call.m->name,
                    status, e->message);
        return;
    }
    meso_error ("%s: the audit row could not be written, the reply is withheld: %s",
                s_call.m->name, e->message);
    meso_reply_reset (reply);
    meso_reply_error (reply, MESO_UNAVAILABLE,
                      "%s could not be recorded in the audit trail; the reply is withheld",
                      s_call.m->name);
    meso_reply_detail (reply, "SQLSTATE %s: %s. Hint: retry later; nothing is answered about a "
                       "patient without an audit row", e->sqlstate, e->message);
}
