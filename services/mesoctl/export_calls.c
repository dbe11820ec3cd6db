/* export_calls.c -- the four "<service>.ExportPatient" calls (screening,
 * scheduling, inventory, billing; see meso/export.h), shared by `mesoctl
 * patient export` (cmd_export.c: the replies side by side as JSON) and
 * `mesoctl fhir export` (cmd_fhir.c: the replies as a FHIR Bundle).
 *
 * The calls go one after the other (a person's export is rare; each reply
 * is one frame under the cap). A service that refuses, does not answer or
 * answers what does not decode leaves its reply NULL, its result holding
 * why, and one line on stderr: "mesoctl: <method>: <STATUS>: <message>". */
#include <stdio.h>
#include <string.h>

#include "meso/bus.h"
#include "mesoctl.h"
#include "billing.pb-c.h"
#include "inventory.pb-c.h"
#include "scheduling.pb-c.h"
#include "screening.pb-c.h"

const char *const mesoctl_export_services[MESOCTL_EXPORT_PARTS] = { "screening", "scheduling", "inventory",
                                                                    "billing" };

/* Each service's endpoint option (MESOCTL_EXPORT_OPTS) and reply. */
static const char *const s_options[MESOCTL_EXPORT_PARTS] = { "endpoint", "scheduling-endpoint",
                                                             "inventory-endpoint", "billing-endpoint" };
static const ProtobufCMessageDescriptor *const s_replies[MESOCTL_EXPORT_PARTS] = {
    &meso__v1__screening_export_patient_reply__descriptor,
    &meso__v1__scheduling_export_patient_reply__descriptor,
    &meso__v1__inventory_export_patient_reply__descriptor,
    &meso__v1__billing_export_patient_reply__descriptor,
};

int
mesoctl_export_collect (const meso_opt_t *opts, const char *patient, int timeout_ms, mesoctl_export_t *x)
{
    memset (x, 0, sizeof *x);
    Meso__V1__ExportPatientRequest rq = MESO__V1__EXPORT_PATIENT_REQUEST__INIT;
    rq.patient_id = (char *) patient;
    bool complete = true;
    for (size_t i = 0; i < MESOCTL_EXPORT_PARTS; i++) {
        char method[64];
        snprintf (method, sizeof method, "%s.ExportPatient", mesoctl_export_services[i]);
        const char *endpoint = mesoctl_opt (opts, s_options[i]);
        meso_bus_client_t *c = meso_bus_client_new (mesoctl_export_services[i], endpoint);
        if (!c) {
            fprintf (stderr, "mesoctl: cannot use endpoint \"%s\"\n", endpoint);
            mesoctl_export_reset (x);
            return MESOCTL_USAGE;
        }
        if (meso_bus_client_call (c, method, &rq.base, NULL, timeout_ms, &x->res[i]) == 0) {
            size_t len;
            const uint8_t *body = meso_result_body (&x->res[i], &len);
            x->got[i] = protobuf_c_message_unpack (s_replies[i], NULL, len, body);
            if (!x->got[i])
                snprintf (x->res[i].message, sizeof x->res[i].message, "the reply does not decode");
        }
        meso_bus_client_destroy (&c);
        if (!x->got[i]) {
            complete = false;
            fprintf (stderr, "mesoctl: %s: %s: %s\n", method,
                     x->res[i].status == MESO_OK ? "INTERNAL" : meso_status_name (x->res[i].status),
                     x->res[i].message);
        }
    }
    return complete ? MESOCTL_OK : MESOCTL_FAILED;
}

void
mesoctl_export_reset (mesoctl_export_t *x)
{
    for (size_t i = 0; i < MESOCTL_EXPORT_PARTS; i++) {
        meso_result_reset (&x->res[i]);
        if (x->got[i])
            protobuf_c_message_free_unpacked (x->got[i], NULL);
        x->got[i] = NULL;
    }
}
