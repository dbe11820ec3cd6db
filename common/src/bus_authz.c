/* bus_authz.c -- may this principal call this method about this clinic?
 * Decided by the bus server after the body is decoded and before the
 * handler runs, from the method table (meso_method_t.roles, .scope,
 * .flags) and the caller's principal (access.h).
 *
 * Why it is built this way:
 * - One place decides for every method of every daemon, so a new method
 *   cannot forget the roles check: a table entry without roles is callable
 *   by nobody.
 * - Most requests name their clinic in a field; the table gives its path
 *   ("clinic_id", "spec.clinic_id") and the check walks the decoded body by
 *   its descriptor, so no handler repeats it. Requests that name an
 *   appointment, a patient or a course leave the clinic to the handler
 *   (MESO_SCOPE_HANDLER), which looks it up and calls meso_call_need_clinic
 *   before any effect; the server verifies afterwards that it did.
 * - A request of a scoped principal that names no clinic at all is
 *   refused too: "every clinic" is not in a scoped principal's scope.
 * - Plaintext endpoints (MESO_PLAINTEXT_ENDPOINTS, an operator's explicit
 *   choice per endpoint) have no principal: only methods open to
 *   MESO_ROLE_ANONYMOUS answer there. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meso/access.h"
#include "meso/bus.h"
#include "meso/curve.h"
#include "bus_private.h"

bool
meso_bus_plaintext (const char *endpoint)
{
    const char *list = getenv ("MESO_PLAINTEXT_ENDPOINTS");
    if (!list || !*list || !endpoint)
        return false;
    size_t len = strlen (endpoint);
    for (const char *p = list; *p;) {
        while (*p == ',' || *p == ' ')
            p++;
        const char *end = p;
        while (*end && *end != ',' && *end != ' ')
            end++;
        if ((size_t) (end - p) == len && strncmp (p, endpoint, len) == 0)
            return true;
        p = end;
    }
    return false;
}

bool
meso_bus_plaintext_endpoint (const char *endpoints)
{
    if (!endpoints)
        return false;
    char first [512];
    size_t len = strcspn (endpoints, ",");
    if (len >= sizeof first)
        return false;
    memcpy (first, endpoints, len);
    first [len] = '\0';
    return meso_bus_plaintext (first);
}

const char *
meso_bus_string_at (const ProtobufCMessage *msg, const char *path)
{
    char part [64];
    while (msg) {
        const char *dot = strchr (path, '.');
        size_t n = dot ? (size_t) (dot - path) : strlen (path);
        if (n >= sizeof part)
            return NULL;
        memcpy (part, path, n);
        part [n] = '\0';
        const ProtobufCFieldDescriptor *f =
            protobuf_c_message_descriptor_get_field_by_name (msg->descriptor, part);
        if (!f || f->label == PROTOBUF_C_LABEL_REPEATED)
            return NULL;
        /* A member of a oneof other than the one set is unset: its storage
         * is shared with the member that is. */
        if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
            && *(const uint32_t *) (const void *) ((const char *) msg + f->quantifier_offset) != f->id)
            return "";
        const void *at = (const char *) msg + f->offset;
        if (!dot) {
            if (f->type != PROTOBUF_C_TYPE_STRING)
                return NULL;
            const char *s = *(char *const *) at;
            return s ? s : "";
        }
        if (f->type != PROTOBUF_C_TYPE_MESSAGE)
            return NULL;
        msg = *(ProtobufCMessage *const *) at;
        path = dot + 1;
    }
    return "";
}

int
meso_bus_authorize (const meso_method_t *m, const meso_principal_t *p,
                    const ProtobufCMessage *body, meso_reply_t *reply)
{
    if (!p) {
        if (m->roles & MESO_ROLE_ANONYMOUS)
            return 0;
        meso_reply_error (reply, MESO_UNAUTHENTICATED,
                          "%s needs an authenticated caller; this endpoint is plaintext",
                          m->name);
        return -1;
    }
    if (!(m->roles & p->roles)) {
        char have [160], need [160];
        meso_roles_format (p->roles, have, sizeof have);
        meso_roles_format (m->roles & MESO_ROLE_ALL, need, sizeof need);
        meso_reply_error (reply, MESO_PERMISSION_DENIED, "%s may not call %s", p->name, m->name);
        meso_reply_detail (reply, "%s has the roles: %s; %s needs one of: %s. Nothing was changed",
                           p->name, have, m->name, need);
        meso_reply_reason (reply, "role_missing", NULL, "%s needs one of: %s", m->name, need);
        return -1;
    }
    if ((m->flags & MESO_METHOD_HEALTH_DATA) && !p->health) {
        meso_reply_error (reply, MESO_PERMISSION_DENIED,
                          "%s may not see health data, which %s returns", p->name, m->name);
        meso_reply_reason (reply, "health_data", NULL,
                           "the principal is not allowed health data");
        return -1;
    }
    if (p->all_clinics || !m->scope || strcmp (m->scope, MESO_SCOPE_HANDLER) == 0)
        return 0;
    if (strcmp (m->scope, MESO_SCOPE_CHAIN) == 0) {
        meso_reply_error (reply, MESO_PERMISSION_DENIED,
                          "%s changes data of the whole chain; %s may only act in some clinics",
                          m->name, p->name);
        meso_reply_reason (reply, "out_of_scope", NULL,
                           "only a principal of every clinic may call %s", m->name);
        return -1;
    }
    const char *clinic = body ? meso_bus_string_at (body, m->scope) : "";
    if (!clinic) {
        /* A table naming a field the message does not have: a bug of ours,
         * refused rather than let through. */
        meso_reply_error (reply, MESO_INTERNAL, "%s: scope field \"%s\" is not a string field",
                          m->name, m->scope);
        return -1;
    }
    if (!*clinic) {
        meso_reply_error (reply, MESO_PERMISSION_DENIED,
                          "%s must name a clinic in the scope of %s (%s)", m->name, p->name,
                          m->scope);
        meso_reply_reason (reply, "out_of_scope", m->scope,
                           "a principal limited to some clinics must name one of them");
        return -1;
    }
    return meso_principal_need_clinic (p, reply, clinic, m->scope);
}

/* ------------------------------------------------------------ the caller */

int
meso_bus_caller_begin (meso_bus_caller_t *c, const char *user_id, bool plaintext,
                       Meso__V1__Request *req, meso_reply_t *reply)
{
    memset (c, 0, sizeof *c);
    c->saved = req->actor;
    meso__v1__actor__init (&c->actor);
    c->actor.on_behalf_of = "";
    if (plaintext) {
        c->actor.id = "";
        req->actor = &c->actor;
        meso_call_begin (NULL, NULL);
        return 0;
    }
    c->principal = user_id ? meso_access_acquire (user_id) : NULL;
    if (!c->principal || c->principal->revoked) {
        meso_reply_error (reply, MESO_UNAUTHENTICATED, "%s",
                          c->principal ? "this key has been revoked"
                                       : "this key is not a known principal");
        meso_reply_detail (reply, "the connection's key was accepted once but is no longer "
                           "allowed; ask an operator (mesoctl access)");
        meso_principal_release (c->principal);
        c->principal = NULL;
        c->refused = true;
        return -1;
    }
    const meso_principal_t *p = c->principal;
    c->actor.kind = (Meso__V1__Actor__Kind) meso_principal_actor_kind (p->kind);
    c->actor.id = (char *) p->name;
    if (p->kind == MESO_PRINCIPAL_SERVICE && c->saved && c->saved->id && *c->saved->id)
        c->actor.on_behalf_of = c->saved->id;
    req->actor = &c->actor;
    meso_call_begin (p, c->actor.on_behalf_of);
    return 0;
}

void
meso_bus_caller_end (meso_bus_caller_t *c, Meso__V1__Request *req)
{
    if (req && !c->refused)
        req->actor = c->saved;
    meso_call_end ();
    meso_principal_release (c->principal);
    c->principal = NULL;
}
