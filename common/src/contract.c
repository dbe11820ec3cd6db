/* contract.c -- the service blocks of proto/meso/v1 (meso/contract.h).
 *
 * The daemons name themselves in lower case ("scheduling") and the
 * contract names their services SchedulingService: the one is the other
 * with its first letter raised and "Service" appended, which is how the
 * generated Python client (clients/python/meso_client.py) finds the wire
 * name of a service too. */
#include <assert.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "meso/contract.h"
#include "meso/log.h"
#include "billing.pb-c.h"
#include "events.pb-c.h"
#include "inventory.pb-c.h"
#include "scheduling.pb-c.h"
#include "screening.pb-c.h"
#include "webhooks.pb-c.h"

/* One per daemon; a new daemon appends its service here. */
static const ProtobufCServiceDescriptor *const s_services[] = {
    &meso__v1__screening_service__descriptor,
    &meso__v1__scheduling_service__descriptor,
    &meso__v1__inventory_service__descriptor,
    &meso__v1__billing_service__descriptor,
    &meso__v1__events_service__descriptor,
    &meso__v1__webhooks_service__descriptor,
    NULL
};

#define SERVICE_SUFFIX "Service"

const ProtobufCServiceDescriptor *
meso_contract_service (const char *service)
{
    assert (service);
    size_t len = strlen (service);
    for (size_t i = 0; s_services [i]; i++) {
        const char *name = s_services [i]->short_name;
        if (strncasecmp (name, service, len) == 0 && strcmp (name + len, SERVICE_SUFFIX) == 0)
            return s_services [i];
    }
    return NULL;
}

const ProtobufCMethodDescriptor *
meso_contract_method (const char *service, const char *method)
{
    assert (service && method);
    const ProtobufCServiceDescriptor *sd = meso_contract_service (service);
    if (!sd)
        return NULL;
    size_t len = strlen (service);
    if (strncmp (method, service, len) == 0 && method [len] == '.')
        method += len + 1;
    return protobuf_c_service_descriptor_get_method_by_name (sd, method);
}

/* Records one disagreement: the first goes to err, every one counts. */
static void
s_disagree (int *count, char *err, size_t size, const char *fmt, const char *a,
            const char *b, const char *c)
{
    if ((*count)++ == 0 && err && size)
        snprintf (err, size, fmt, a, b, c);
}

int
meso_contract_check (const ProtobufCServiceDescriptor *service, const char *prefix,
                     const meso_method_t *methods, char *err, size_t size)
{
    assert (service && prefix && methods);
    size_t len = strlen (prefix);
    int count = 0;
    if (err && size)
        *err = '\0';
    for (const meso_method_t *m = methods; m->name; m++) {
        if (strncmp (m->name, prefix, len) != 0 || m->name [len] != '.') {
            s_disagree (&count, err, size, "method %s is not named %s.<Method> (%s)", m->name,
                        prefix, service->name);
            continue;
        }
        const ProtobufCMethodDescriptor *rpc =
            protobuf_c_service_descriptor_get_method_by_name (service, m->name + len + 1);
        if (!rpc)
            s_disagree (&count, err, size, "method %s has no rpc in %s%s", m->name,
                        service->name, "");
        else if (rpc->input != m->input)
            s_disagree (&count, err, size, "method %s takes %s but its rpc takes %s", m->name,
                        m->input ? m->input->name : "no decoded input", rpc->input->name);
    }
    for (unsigned i = 0; i < service->n_methods; i++) {
        const char *rpc = service->methods [i].name;
        if (strcmp (rpc, "Health") == 0)
            continue;           /* the bus's own (bus_health.c) */
        bool found = false;
        for (const meso_method_t *m = methods; m->name && !found; m++)
            found = strncmp (m->name, prefix, len) == 0 && m->name [len] == '.'
                    && strcmp (m->name + len + 1, rpc) == 0;
        if (!found)
            s_disagree (&count, err, size, "rpc %s.%s has no entry in the %s method table",
                        service->name, rpc, prefix);
    }
    return count;
}

int
meso_contract_verify (const char *service, const meso_method_t *methods)
{
    const ProtobufCServiceDescriptor *contract = meso_contract_service (service);
    char why [256];
    int disagree = contract ? meso_contract_check (contract, service, methods, why, sizeof why) : 0;
    if (disagree == 0)
        return 0;
    meso_error ("the method table disagrees with %s in %d place(s), first: %s",
                contract->name, disagree, why);
    return -1;
}

/* A reply whose body is not the rpc's output type would be misread by
 * every generated client: it is withheld and logged as the bug it is. */
void
meso_contract_check_reply (const char *service, const meso_method_t *m, meso_reply_t *reply)
{
    const ProtobufCMessageDescriptor *type = meso_reply_body_type (reply);
    if (!type)
        return;
    const ProtobufCMethodDescriptor *rpc = meso_contract_method (service, m->name);
    if (!rpc || rpc->output == type)
        return;
    meso_error ("%s answered a %s, its rpc returns %s", m->name, type->name, rpc->output->name);
    meso_reply_reset (reply);
    meso_reply_error (reply, MESO_INTERNAL, "%s answered a %s instead of its contract's %s",
                      m->name, type->name, rpc->output->name);
}
