/* frame.c -- what every scheduling method shares: the validation helpers,
 * the clinic lookup of the methods that read one, and the run of a
 * mutating method under its idempotency key.
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

#include <string.h>

#include "meso/handler.h"

#define TEXT_MAX 200

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
sched_need_text (meso_reply_t *reply, int *bad, const char *field, const char *value)
{
    if (!value || !value[0])
        sched_bad (reply, bad, "missing_field", field, "required");
    else if (strlen (value) > TEXT_MAX * 4)
        sched_bad (reply, bad, "too_long", field, "at most 200 characters");
}

void
sched_need_patient (meso_reply_t *reply, int *bad, const char *field, const char *value)
{
    if (!value || !value[0] || strlen (value) > SCHED_ID_MAX)
        sched_bad (reply, bad, "missing_field", field, "required (at most 64 bytes)");
}

void
sched_check_areas (meso_reply_t *reply, int *bad, const char *field, char **areas, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!sched_code_ok (areas[i]))
            sched_bad (reply, bad, "invalid_area", field, "area codes are a-z and '_'");
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

void
sched_run (scheduling_t *self, const Meso__V1__Request *req, meso_reply_t *reply, void *in,
           meso_idem_effect_fn *effect)
{
    meso_idem_run (self->db, SCHED_SCHEMA, req, reply, in, effect, self);
}
