/* clinics.c -- the clinic lookup with a cache (see clinics.h).
 *
 * Why a cache of positive answers only: clinics are created (UpsertClinic)
 * but never deleted, so "exists" stays true for the daemon's life and a
 * hit costs no round trip; "does not exist" may become false any moment,
 * so a miss always asks. A client cannot fill the cache with junk: only
 * ids scheduling confirmed (or named itself) are kept.
 *
 * Why a short deadline and no retry beyond it: the caller is serving a
 * request; when scheduling is down, refusing it with UNAVAILABLE (the
 * client retries) is better than holding every other request behind it.
 * The bus client still resends once inside the deadline, so one lost
 * frame does not refuse a request. */
#include "meso/clinics.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meso/log.h"
#include "meso/metrics.h"
#include "scheduling.pb-c.h"

struct meso_clinics_t {
    meso_bus_client_t *client;  /* NULL: the existence check is off */
    zhashx_t *known;            /* clinic id -> time zone ("" when learned) */
};

static void
s_free_zone (void **item)
{
    free (*item);
    *item = NULL;
}

meso_clinics_t *
meso_clinics_new (const char *endpoint, const char *service)
{
    assert (service);
    meso_clinics_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->known = zhashx_new ();
    if (!self->known) {
        free (self);
        return NULL;
    }
    zhashx_set_destructor (self->known, s_free_zone);
    if (endpoint && *endpoint) {
        self->client = meso_bus_client_new ("scheduling", endpoint);
        if (!self->client) {
            meso_clinics_destroy (&self);
            return NULL;
        }
        meso_bus_client_set_attempt_timeout (self->client, MESO_CLINICS_DEADLINE_MS / 2);
    }
    return self;
}

void
meso_clinics_destroy (meso_clinics_t **self_p)
{
    assert (self_p);
    meso_clinics_t *self = *self_p;
    if (!self)
        return;
    meso_bus_client_destroy (&self->client);
    zhashx_destroy (&self->known);
    free (self);
    *self_p = NULL;
}

bool
meso_clinics_checking (const meso_clinics_t *self)
{
    return self && self->client;
}

static void
s_remember (meso_clinics_t *self, const char *clinic_id, const char *tz)
{
    char *copy = strdup (tz ? tz : "");
    if (!copy)
        return;                 /* out of memory: simply not cached */
    /* zhashx_update replaces (and frees) an entry learned without zone. */
    zhashx_update (self->known, clinic_id, copy);
}

void
meso_clinics_learn (meso_clinics_t *self, const char *clinic_id)
{
    if (!self || !clinic_id || !*clinic_id || zhashx_lookup (self->known, clinic_id))
        return;
    s_remember (self, clinic_id, "");
}

static void
s_count (const char *outcome)
{
    meso_metrics_add ("meso_clinic_lookups_total",
                      "Clinic lookups sent to scheduling (cache misses), by outcome.", "outcome",
                      outcome, 1);
}

/* Asks scheduling. 0 found (cached), -1 with reply set. */
static int
s_ask (meso_clinics_t *self, const char *clinic_id, const char *field, meso_reply_t *reply)
{
    Meso__V1__GetClinicRequest rq = MESO__V1__GET_CLINIC_REQUEST__INIT;
    rq.clinic_id = (char *) clinic_id;
    meso_result_t r = { 0 };
    int rc = meso_bus_client_call (self->client, "scheduling.GetClinic", &rq.base, NULL,
                                   MESO_CLINICS_DEADLINE_MS, &r);
    if (rc == 0) {
        size_t len;
        const uint8_t *body = meso_result_body (&r, &len);
        Meso__V1__GetClinicReply *out = meso__v1__get_clinic_reply__unpack (NULL, len, body);
        if (out && out->clinic && out->clinic->time_zone && *out->clinic->time_zone) {
            s_remember (self, clinic_id, out->clinic->time_zone);
            s_count ("found");
            meso__v1__get_clinic_reply__free_unpacked (out, NULL);
            meso_result_reset (&r);
            return 0;
        }
        if (out)
            meso__v1__get_clinic_reply__free_unpacked (out, NULL);
        meso_reply_error (reply, MESO_UNAVAILABLE, "cannot check clinic %s: scheduling sent an "
                          "unreadable GetClinicReply", clinic_id);
        meso_reply_detail (reply, "the versions of scheduling and this service may differ");
        s_count ("unavailable");
    }
    else if (r.reply && r.status == MESO_NOT_FOUND) {
        s_count ("not_found");
        meso_reply_error (reply, MESO_NOT_FOUND, "no clinic %s in the chain", clinic_id);
        meso_reply_detail (reply, "scheduling has no clinic with this id");
        meso_reply_reason (reply, "unknown_clinic", field,
                           "create the clinic first (scheduling.UpsertClinic)");
    }
    else {
        /* No answer, or a refusal that says nothing about the clinic:
         * the outcome is unknown, so the client may retry. */
        meso_reply_error (reply, MESO_UNAVAILABLE, "cannot check clinic %s: scheduling did not answer",
                          clinic_id);
        meso_reply_detail (reply, "%s", r.message);
        meso_reply_reason (reply, "clinic_unchecked", field,
                           "retry the request; scheduling must be running to check a clinic");
        meso_warn ("cannot check clinic %s: %s", clinic_id, r.message);
        s_count ("unavailable");
    }
    meso_result_reset (&r);
    return -1;
}

int
meso_clinics_check (meso_clinics_t *self, const char *clinic_id, const char *field,
                    meso_reply_t *reply, const char **tz_out)
{
    assert (clinic_id && field && reply);
    if (!meso_clinics_checking (self)) {
        if (tz_out)
            *tz_out = "UTC";
        return 0;
    }
    const char *tz = zhashx_lookup (self->known, clinic_id);
    if (!tz || (tz_out && !*tz)) {
        if (s_ask (self, clinic_id, field, reply) != 0)
            return -1;
        tz = zhashx_lookup (self->known, clinic_id);
        if (!tz) {
            meso_reply_error (reply, MESO_INTERNAL, "out of memory");
            return -1;
        }
    }
    if (tz_out)
        *tz_out = tz;
    return 0;
}
