/* frame.c -- what every scheduling method shares: the validation helpers,
 * the clinic lookup of the methods that read one, the clinic scope of
 * the methods about one appointment, and the run of a mutating method
 * under its idempotency key.
 *
 * This is the "what all methods share" part of a handlers.c, in a file of
 * its own: handlers.c holds the method table, which names every method,
 * so anything the methods call must live below it or the method files
 * and handlers.c would call each other in a circle.
 *
 * The validation texts are scheduling's own (clients see them; the
 * libmeso helpers of meso/handler.h word them differently), so they stay
 * here rather than move to common/. */
#include "scheduling.h"

#include <stdio.h>
#include <string.h>

#include "meso/access.h"
#include "meso/audit.h"
#include "meso/handler.h"
#include "meso/mtime.h"


/* The one id syntax of the chain: the other services check clinic ids
 * with the same function (meso_handler_clinic_ok). */
bool
sched_code_ok (const char *s)
{
    return meso_handler_clinic_ok (s);
}

void
sched_bad (meso_reply_t *reply, int *bad, const char *code, const char *field, const char *msg)
{
    if (*bad == 0)
        meso_reply_error (reply, MESO_INVALID_ARGUMENT, "%s: %s", field, msg);
    meso_reply_reason (reply, code, field, "%s", msg);
    (*bad)++;
}

void
sched_need (meso_reply_t *reply, int *bad, const char *field, const char *value)
{
    if (!value || !value[0])
        sched_bad (reply, bad, "missing_field", field, "required");
}

void
sched_need_id (meso_reply_t *reply, int *bad, const char *field, const char *value)
{
    if (!value || !value[0])
        sched_bad (reply, bad, "missing_field", field, "required");
    else if (!sched_code_ok (value))
        sched_bad (reply, bad, "invalid_id", field, "must be 1..64 characters of a-z, 0-9, '_' or '-'");
}

void
sched_text_max (meso_reply_t *reply, int *bad, const char *field, const char *value, size_t max)
{
    /* Bytes, not characters: the limit is what the wire and the frame
     * carry, and never more than the schema's CHECK (characters) takes. */
    if (value && strlen (value) > max) {
        char msg[64];
        snprintf (msg, sizeof msg, "at most %zu bytes", max);
        sched_bad (reply, bad, "too_long", field, msg);
    }
}

void
sched_need_text (meso_reply_t *reply, int *bad, const char *field, const char *value, size_t max)
{
    if (!value || !value[0])
        sched_bad (reply, bad, "missing_field", field, "required");
    else
        sched_text_max (reply, bad, field, value, max);
}

void
sched_need_ref (meso_reply_t *reply, int *bad, const char *field, const char *value)
{
    sched_need_text (reply, bad, field, value, SCHED_ID_MAX);
}

void
sched_check_areas (meso_reply_t *reply, int *bad, const char *field, char **areas, size_t n)
{
    char f[64];
    for (size_t i = 0; i < n; i++) {
        snprintf (f, sizeof f, "%s[%zu]", field, i);
        if (!sched_code_ok (areas[i]))
            sched_bad (reply, bad, "invalid_area", f, "area codes are a-z and '_'");
        else if (sched_listed_before (areas, i))
            sched_bad (reply, bad, "duplicate", f, "listed twice");
    }
}

bool
sched_listed_before (char *const *items, size_t i)
{
    for (size_t k = 0; k < i; k++)
        if (items[k] && items[i] && strcmp (items[k], items[i]) == 0)
            return true;
    return false;
}

int
sched_clinic_load (scheduling_t *self, const char *clinic_id, const char *field, store_clinic_t *out,
                   meso_reply_t *reply)
{
    int found = store_clinic_get (self->db, clinic_id, out);
    if (found < 0) {
        meso_reply_db_error (reply, self->db, "clinic");
        return -1;
    }
    if (!found) {
        meso_reply_error (reply, MESO_NOT_FOUND, "no clinic %s", clinic_id);
        meso_reply_reason (reply, "unknown_clinic", field, "no clinic has this id");
        return -1;
    }
    return 0;
}

int
sched_check_when (meso_reply_t *reply, const store_clinic_t *c, const char *field, const char *value,
                  when_facts_t *f)
{
    f->today = c->today;
    f->now_us = c->now_us;
    when_verdict_t v = when_verdict (f);
    if (v == WHEN_OK)
        return 0;
    char why[256], hint[160], today[16];
    when_why (v, f, field, value, c->time_zone, why, sizeof why, hint, sizeof hint);
    meso_date_format (c->today, today, sizeof today);
    meso_reply_error (reply, MESO_INVALID_ARGUMENT, "%s", why);
    meso_reply_detail (reply, "clinic %s keeps local time in %s; its local date is %s", c->clinic_id,
                       c->time_zone, today);
    meso_reply_reason (reply, when_code (v), field, "%s", hint);
    return -1;
}

int
sched_scope_appointment (scheduling_t *self, const char *appointment_id, const char *field,
                         meso_reply_t *reply)
{
    if (!meso_call_scoped ())
        return 0;                       /* every clinic: no lookup needed */
    PGresult *res = store_session_get (self->db, appointment_id, false);
    if (!res) {
        meso_reply_db_error (reply, self->db, "session");
        return -1;
    }
    if (PQntuples (res) == 1)
        meso_call_patient (PQgetvalue (res, 0, SC_PATIENT), PQgetvalue (res, 0, SC_CLINIC));
    int rc = PQntuples (res) == 1
        ? meso_call_need_clinic (reply, PQgetvalue (res, 0, SC_CLINIC), field) : 0;
    PQclear (res);
    return rc;
}

void
sched_run (scheduling_t *self, const Meso__V1__Request *req, meso_reply_t *reply, void *in,
           meso_idem_effect_fn *effect)
{
    meso_idem_run (self->db, SCHED_SCHEMA, req, reply, in, effect, self);
}
