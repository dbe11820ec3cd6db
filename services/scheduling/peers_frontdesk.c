/* peers_frontdesk.c -- the calls the agenda makes to the other services,
 * one of each per page: screening.GetPatients (names, screening and
 * consent state of the page's patients) and inventory.ListAtRisk (which
 * of the clinic's held reservations a recall left short).
 *
 * Apart from peers.c, which holds the booking's calls, so the agenda's
 * reads and the saga's steps do not share a file. Each returns the
 * unpacked reply for the caller to free, or NULL with why in `why` (the
 * agenda then answers without that part and says so). */
#include "scheduling.h"

#include <stdio.h>

#include "inventory.pb-c.h"
#include "screening.pb-c.h"

Meso__V1__GetPatientsReply *
peers_patients (scheduling_t *self, const char *clinic_id, const char *date, char **ids, size_t n,
                char *why, size_t why_size)
{
    if (!self->screening) {
        snprintf (why, why_size, "no screening endpoint");
        return NULL;
    }
    Meso__V1__GetPatientsRequest rq = MESO__V1__GET_PATIENTS_REQUEST__INIT;
    rq.clinic_id = (char *) clinic_id;
    rq.date = (char *) date;
    rq.patient_ids = ids;
    rq.n_patient_ids = n;
    meso_result_t r = { 0 };
    Meso__V1__GetPatientsReply *rep = NULL;
    if (meso_bus_client_call (self->screening, "screening.GetPatients", &rq.base, NULL,
                              self->call_deadline_ms, &r) != 0)
        snprintf (why, why_size, "%s", r.reply && r.reply->message ? r.reply->message : "no answer");
    else {
        size_t len;
        const uint8_t *body = meso_result_body (&r, &len);
        rep = meso__v1__get_patients_reply__unpack (NULL, len, body);
        if (!rep)
            snprintf (why, why_size, "an undecodable GetPatientsReply");
    }
    meso_result_reset (&r);
    return rep;
}

Meso__V1__ListAtRiskReply *
peers_at_risk (scheduling_t *self, const char *clinic_id, const char *from_date, char *why, size_t why_size)
{
    if (!self->inventory) {
        snprintf (why, why_size, "no inventory endpoint");
        return NULL;
    }
    Meso__V1__ListAtRiskRequest rq = MESO__V1__LIST_AT_RISK_REQUEST__INIT;
    rq.clinic_id = (char *) clinic_id;
    rq.from_date = (char *) from_date;
    meso_result_t r = { 0 };
    Meso__V1__ListAtRiskReply *rep = NULL;
    if (meso_bus_client_call (self->inventory, "inventory.ListAtRisk", &rq.base, NULL,
                              self->call_deadline_ms, &r) != 0)
        snprintf (why, why_size, "%s", r.reply && r.reply->message ? r.reply->message : "no answer");
    else {
        size_t len;
        const uint8_t *body = meso_result_body (&r, &len);
        rep = meso__v1__list_at_risk_reply__unpack (NULL, len, body);
        if (!rep)
            snprintf (why, why_size, "an undecodable ListAtRiskReply");
    }
    meso_result_reset (&r);
    return rep;
}
