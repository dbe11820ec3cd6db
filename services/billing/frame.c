/* frame.c -- what every billing method shares: the validation of fields
 * several methods carry (currency, amount), the patient and currency checks
 * their effects make, the run frame of mutating methods, and the emission
 * of billing's events.
 *
 * The design puts these in handlers.c, next to the method table. Here they
 * cannot be: the table names every method of every aggregate file, and
 * every aggregate file calls these helpers, so one file holding both would
 * call and be called by each aggregate file, a circle. The helpers sit at
 * the bottom (they call only store.c and libmeso), the table at the top.
 *
 * The run frame: a mutating method validates, then hands its effect to
 * billing_run. The idempotency claim, the effect and the stored reply share
 * one transaction, so a retried request replays its reply and an error
 * changes nothing (the whole transaction rolls back, claim included). */
#include "billing.h"

#include <inttypes.h>
#include <string.h>

#include "meso/clinics.h"
#include "meso/handler.h"
#include "meso/money.h"
#include "meso/mtime.h"

static Meso__V1__Actor s_service_actor = {
    PROTOBUF_C_MESSAGE_INIT (&meso__v1__actor__descriptor),
    MESO__V1__ACTOR__KIND__KIND_SERVICE, "billing", (char *) ""
};

/* ---------------------------------------------------------- validation */

void
billing_need_currency (meso_reply_t *reply, int *bad, const char *field, const char *v)
{
    if (v && *v && !meso_currency_valid (v)) {
        meso_reply_reason (reply, "invalid_currency", field,
                           "%s must be a three-letter code such as USD (got \"%.16s\")", field, v);
        (*bad)++;
    }
}

void
billing_need_amount (meso_reply_t *reply, int *bad, const char *field, int64_t v, int64_t max)
{
    if (v <= 0 || v > max) {
        meso_reply_reason (reply, "out_of_range", field,
                           "%s must be a positive amount of cents, at most %" PRId64 " (got %" PRId64 ")",
                           field, max, v);
        (*bad)++;
    }
}

int32_t
billing_today (void)
{
    return (int32_t) (meso_time_now_us () / INT64_C (86400000000));
}

/* ------------------------------------------------- checks of an effect */

int
billing_currency_match (meso_reply_t *reply, const char *field, const char *given,
                        const char *expected, const char *whose)
{
    if (given && *given && strcmp (given, expected) != 0) {
        meso_reply_error (reply, MESO_INVALID_ARGUMENT, "currency mismatch: %s is in %s, not %.8s",
                          whose, expected, given);
        meso_reply_reason (reply, "currency_mismatch", field, "use %s (or leave %s empty)",
                           expected, field);
        return -1;
    }
    return 0;
}

int
billing_patient_known (meso_db_t *db, meso_reply_t *reply, const char *patient)
{
    int known = store_patient_known (db, patient);
    if (known < 0)
        return -1;
    if (known == 0) {
        meso_reply_error (reply, MESO_NOT_FOUND, "unknown patient %.64s", patient);
        meso_reply_detail (reply, "billing knows a patient once screening or a session event names "
                                  "them, or once they have a billing record");
        meso_reply_reason (reply, "unknown_patient", "patient_id", "screen the patient first");
        return -1;
    }
    return 0;
}

/* ----------------------------------------------------------- run frame */

int
billing_clinic (billing_t *self, meso_reply_t *reply, const char *field, const char *clinic)
{
    const char *tz = NULL;
    int rc = meso_clinics_check (self->clinics, clinic, field, reply, &tz);
    self->tz = tz && *tz ? tz : "UTC";
    return rc;
}

void
billing_run (billing_t *self, const Meso__V1__Request *req, meso_reply_t *reply, int bad,
             const char *clinic_field, const char *clinic, void *in,
             meso_idem_effect_fn *effect)
{
    if (meso_handler_invalid (reply, bad, req->method)
        || billing_clinic (self, reply, clinic_field, clinic) != 0)
        return;
    meso_idem_run (self->db, BILLING_SCHEMA, req, reply, in, effect, self);
}

/* -------------------------------------------------------------- events */

int
billing_emit (meso_db_t *db, Meso__V1__Event *ev, const char *type, const char *clinic,
              const Meso__V1__Actor *actor)
{
    return meso_handler_emit (db, ev, type, clinic, actor && actor->id && *actor->id ? actor : NULL,
                              &s_service_actor);
}
