/* pages.c -- a list subcommand's pages: --page-size, --page-token, --all.
 *
 * Every paged method of meso has the same three fields (page_size and
 * page_token in the request, next_page_token in the reply; the README's
 * paging convention), so one loop serves every list subcommand: it finds
 * the fields by name in the messages' descriptors, sends a page, hands the
 * reply to the subcommand's printer, and with --all asks again with the
 * token until the last page. Without --all, when more pages follow, the
 * token is printed on stderr (so a table on stdout stays a table).
 * With --json each page is printed as it comes: one JSON object per line.
 *
 * A mutating list (inventory recall) sends every page with the same
 * idempotency key: --key, or one new UUID for the whole walk, since its
 * later pages are read from the reply stored under that key. */
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "meso/page.h"
#include "meso/uuid.h"
#include "mesoctl.h"

static void
s_set_opt (meso_opt_t *opts, const char *name, const char *value)
{
    for (meso_opt_t *o = opts; o->name; o++)
        if (strcmp (o->name, name) == 0)
            o->value = value;
}

int
mesoctl_call_pages (const mesoctl_service_t *svc, meso_opt_t *opts, const char *method,
                    ProtobufCMessage *body, bool mutating, const ProtobufCMessageDescriptor *desc,
                    mesoctl_page_fn *show, void *arg)
{
    const ProtobufCFieldDescriptor *fsize
        = protobuf_c_message_descriptor_get_field_by_name (body->descriptor, "page_size");
    const ProtobufCFieldDescriptor *ftoken
        = protobuf_c_message_descriptor_get_field_by_name (body->descriptor, "page_token");
    const ProtobufCFieldDescriptor *fnext
        = protobuf_c_message_descriptor_get_field_by_name (desc, "next_page_token");
    assert (fsize && ftoken && fnext);
    long size = 0;
    if (meso_config_int (opts, "page-size", 0, 1000000, &size) != 0)
        return MESOCTL_USAGE;
    bool all = meso_config_bool (opts, "all");
    bool json = meso_config_bool (opts, "json");
    static char uuid[MESO_UUID_LEN + 1];
    if (mutating && !*mesoctl_opt (opts, "key")) {
        if (meso_uuid_v4 (uuid) != 0) {
            fprintf (stderr, "mesoctl: no randomness for an idempotency key\n");
            return MESOCTL_FAILED;
        }
        s_set_opt (opts, "key", uuid);
    }
    char token[MESO_PAGE_TOKEN_MAX];
    snprintf (token, sizeof token, "%s", mesoctl_opt (opts, "page-token"));
    *(uint32_t *) (void *) ((char *) body + fsize->offset) = (uint32_t) size;
    for (int page = 0;; page++) {
        *(const char **) (void *) ((char *) body + ftoken->offset) = token;
        ProtobufCMessage *out = NULL;
        int rc = mesoctl_call (svc, opts, method, body, mutating, desc, &out);
        if (rc != 0)
            return rc;
        if (!json && show)
            show (out, page, arg);
        const char *next = *(const char **) (void *) ((char *) out + fnext->offset);
        snprintf (token, sizeof token, "%s", next ? next : "");
        protobuf_c_message_free_unpacked (out, NULL);
        if (!*token)
            break;
        if (!all) {
            fprintf (stderr, "mesoctl: more follow: --page-token %s (or --all)%s%s\n", token,
                     mutating ? " --key " : "", mutating ? mesoctl_opt (opts, "key") : "");
            break;
        }
    }
    return MESOCTL_OK;
}
