/* call.c -- one request from mesoctl to a daemon, and its answer shown.
 *
 * Every subcommand that asks a daemon goes through mesoctl_call: a fresh
 * bus client (mesoctl makes one request and exits, so nothing is kept),
 * the idempotency key of a mutating call (--key, else a new UUID, so the
 * client's own retries after a timeout take effect once), the deadline,
 * and the answer: the reply body decoded with the method's reply type, or
 * the refusal printed with every reason. How a refusal and --json look
 * differs between services (mesoctl_service_t.quirks): each kept what its
 * scripts parse.
 *
 * The JSON printer here walks a message's descriptor and prints every
 * field, defaults included, enums by name; it is the one the screening and
 * inventory subcommands always used (the others use meso_pbjson). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meso/bus.h"
#include "meso/log.h"
#include "meso/pbjson.h"
#include "meso/status.h"
#include "meso/uuid.h"
#include "mesoctl.h"

/* ------------------------------------------------------ JSON printing */

static void
s_json_str (const char *s)
{
    char buf[4096];
    meso_json_escape (buf, sizeof buf, s ? s : "");
    printf ("\"%s\"", buf);
}

static void
s_json_value (const ProtobufCFieldDescriptor *f, const void *p)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32: case PROTOBUF_C_TYPE_SINT32: case PROTOBUF_C_TYPE_SFIXED32:
        printf ("%d", *(const int32_t *) p);
        break;
    case PROTOBUF_C_TYPE_UINT32: case PROTOBUF_C_TYPE_FIXED32:
        printf ("%u", *(const uint32_t *) p);
        break;
    case PROTOBUF_C_TYPE_INT64: case PROTOBUF_C_TYPE_SINT64: case PROTOBUF_C_TYPE_SFIXED64:
        printf ("%lld", (long long) *(const int64_t *) p);
        break;
    case PROTOBUF_C_TYPE_UINT64: case PROTOBUF_C_TYPE_FIXED64:
        printf ("%llu", (unsigned long long) *(const uint64_t *) p);
        break;
    case PROTOBUF_C_TYPE_BOOL:
        printf ("%s", *(const protobuf_c_boolean *) p ? "true" : "false");
        break;
    case PROTOBUF_C_TYPE_FLOAT:
        printf ("%g", (double) *(const float *) p);
        break;
    case PROTOBUF_C_TYPE_DOUBLE:
        printf ("%g", *(const double *) p);
        break;
    case PROTOBUF_C_TYPE_ENUM: {
        const ProtobufCEnumValue *v =
            protobuf_c_enum_descriptor_get_value (f->descriptor, *(const int *) p);
        if (v)
            s_json_str (v->name);
        else
            printf ("%d", *(const int *) p);
        break;
    }
    case PROTOBUF_C_TYPE_STRING:
        s_json_str (*(char *const *) p);
        break;
    case PROTOBUF_C_TYPE_BYTES:
        printf ("%zu", ((const ProtobufCBinaryData *) p)->len);
        break;
    case PROTOBUF_C_TYPE_MESSAGE:
        if (*(ProtobufCMessage *const *) p)
            mesoctl_json_print (*(ProtobufCMessage *const *) p);
        else
            printf ("null");
        break;
    }
}

static size_t
s_field_size (const ProtobufCFieldDescriptor *f)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT64: case PROTOBUF_C_TYPE_SINT64: case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64: case PROTOBUF_C_TYPE_FIXED64: case PROTOBUF_C_TYPE_DOUBLE:
        return 8;
    case PROTOBUF_C_TYPE_BOOL:
        return sizeof (protobuf_c_boolean);
    case PROTOBUF_C_TYPE_STRING: case PROTOBUF_C_TYPE_MESSAGE:
        return sizeof (void *);
    case PROTOBUF_C_TYPE_BYTES:
        return sizeof (ProtobufCBinaryData);
    default:
        return 4;
    }
}

void
mesoctl_json_print (const ProtobufCMessage *m)
{
    const ProtobufCMessageDescriptor *d = m->descriptor;
    printf ("{");
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        const char *base = (const char *) m;
        printf ("%s\"%s\":", i ? "," : "", f->name);
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n = *(const size_t *) (base + f->quantifier_offset);
            const char *arr = *(const char *const *) (base + f->offset);
            printf ("[");
            for (size_t k = 0; k < n; k++) {
                if (k)
                    printf (",");
                s_json_value (f, arr + k * s_field_size (f));
            }
            printf ("]");
        }
        else
            s_json_value (f, base + f->offset);
    }
    printf ("}");
}

static void
s_pbjson_line (const ProtobufCMessage *m)
{
    char *text = meso_pbjson_encode (m, 0, NULL);
    printf ("%s\n", text ? text : "null");
    free (text);
}

/* ---------------------------------------------------------- refusals */

static void
s_refusal (const mesoctl_service_t *svc, const char *method, bool json, const meso_result_t *r)
{
    const Meso__V1__Reply *rep = r->reply;
    if (json && svc->quirks & MESOCTL_Q_JSON_REFUSAL) {
        printf ("{\"status\":\"%s\",\"message\":", meso_status_name (r->status));
        s_json_str (r->message);
        printf (",\"detail\":");
        s_json_str (rep ? rep->detail : "");
        printf (",\"reasons\":[");
        for (size_t i = 0; rep && i < rep->n_reasons; i++) {
            if (i)
                printf (",");
            mesoctl_json_print (&rep->reasons[i]->base);
        }
        printf ("]}\n");
        return;
    }
    if (json && svc->quirks & MESOCTL_Q_JSON_REPLY) {
        if (rep) {
            Meso__V1__Reply copy = *rep;
            copy.body.len = 0;
            s_pbjson_line (&copy.base);
        }
        else
            printf ("{\"status\":\"%s\"}\n", meso_status_name (r->status));
    }
    if (svc->quirks & MESOCTL_Q_METHOD_ERRORS) {
        fprintf (stderr, "%s: %s: %s\n", method, meso_status_name (r->status), r->message);
        if (rep && rep->detail && *rep->detail)
            fprintf (stderr, "  detail: %s\n", rep->detail);
        for (size_t i = 0; rep && i < rep->n_reasons; i++)
            fprintf (stderr, "  - %s%s%s: %s\n", rep->reasons[i]->code, *rep->reasons[i]->field ? " " : "",
                     rep->reasons[i]->field, rep->reasons[i]->message);
        return;
    }
    fprintf (stderr, "%s: %s\n", meso_status_name (r->status), r->message);
    for (size_t i = 0; rep && i < rep->n_reasons; i++) {
        const Meso__V1__Reason *re = rep->reasons[i];
        fprintf (stderr, "  - %s%s%s: %s\n", re->code, *re->field ? " @ " : "", re->field, re->message);
    }
    if (rep && *rep->detail)
        fprintf (stderr, "  %s\n", rep->detail);
}

/* -------------------------------------------------------------- calls */

int
mesoctl_call (const mesoctl_service_t *svc, const meso_opt_t *opts, const char *method,
              const ProtobufCMessage *body, bool mutating,
              const ProtobufCMessageDescriptor *desc, ProtobufCMessage **out)
{
    *out = NULL;
    long timeout = svc->timeout_ms;
    if (timeout == 0 && meso_config_int (opts, "timeout", 100, 600000, &timeout) != 0)
        return MESOCTL_USAGE;
    bool json = meso_config_bool (opts, "json");
    const char *endpoint = mesoctl_opt (opts, "endpoint");
    /* The daemon's server key is found by its name: the method's prefix
     * ("inventory.Valuation"), which a command group calling two daemons
     * (mesoctl reports) cannot get wrong. */
    char daemon[64];
    const char *dot = strchr (method, '.');
    snprintf (daemon, sizeof daemon, "%.*s", dot ? (int) (dot - method) : 63,
              dot ? method : (svc->daemon ? svc->daemon : svc->name));
    meso_bus_client_t *client = mesoctl_keys () == 0 ? meso_bus_client_new (daemon, endpoint) : NULL;
    if (!client) {
        if (!(svc->quirks & MESOCTL_Q_SILENT_CLIENT))
            fprintf (stderr, "mesoctl: cannot use endpoint \"%s\"\n", endpoint);
        return MESOCTL_USAGE;
    }
    char uuid[MESO_UUID_LEN + 1] = "", cut[129];
    const char *key = NULL;
    if (mutating) {
        key = mesoctl_opt (opts, "key");
        if (!*key) {
            if (meso_uuid_v4 (uuid) != 0) {
                meso_bus_client_destroy (&client);
                fprintf (stderr, "mesoctl: no randomness for an idempotency key\n");
                return MESOCTL_FAILED;
            }
            key = uuid;
        }
        else if (svc->key_max && strlen (key) > svc->key_max && svc->key_max < sizeof cut) {
            snprintf (cut, sizeof cut, "%.*s", (int) svc->key_max, key);
            key = cut;
        }
    }
    meso_result_t r = { 0 };
    int rc = meso_bus_client_call (client, method, body, key, (int) timeout, &r);
    meso_bus_client_destroy (&client);
    if (rc != 0) {
        s_refusal (svc, method, json, &r);
        meso_result_reset (&r);
        return MESOCTL_FAILED;
    }
    size_t len;
    const uint8_t *data = meso_result_body (&r, &len);
    *out = protobuf_c_message_unpack (desc, NULL, len, data);
    meso_result_reset (&r);
    if (!*out) {
        if (!(svc->quirks & MESOCTL_Q_SILENT_DECODE))
            fprintf (stderr, "mesoctl: the reply of %s does not decode\n", method);
        return MESOCTL_FAILED;
    }
    if (json && svc->quirks & MESOCTL_Q_PBJSON)
        s_pbjson_line (*out);
    else if (json) {
        mesoctl_json_print (*out);
        printf ("\n");
    }
    return MESOCTL_OK;
}
