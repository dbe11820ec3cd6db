/* handler.c -- the validation, refusal and event helpers the services'
 * handlers share (see handler.h).
 *
 * They were copied from service to service (screening, inventory, billing
 * each had their own); one copy keeps the texts a client sees the same
 * everywhere and a fix in one place. They only fill a reply or append to
 * the outbox: deciding what a request needs stays in each service. */
#include "meso/handler.h"

#include <assert.h>
#include <string.h>

#include "meso/outbox.h"

void
meso_handler_undecodable (meso_reply_t *reply, const char *method, const char *type)
{
    assert (reply && method && type);
    meso_reply_error (reply, MESO_INVALID_ARGUMENT, "%s body is not a packed %s", method, type);
    meso_reply_reason (reply, "undecodable", "body", "send a packed %s", type);
}

bool
meso_handler_invalid (meso_reply_t *reply, int bad, const char *method)
{
    assert (reply && method);
    if (bad)
        meso_reply_error (reply, MESO_INVALID_ARGUMENT, "invalid %s request", method);
    return bad != 0;
}

bool
meso_handler_code_ok (const char *s, bool allow_dash)
{
    size_t n = s ? strlen (s) : 0;
    if (n == 0 || n > MESO_HANDLER_ID_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'
              || (allow_dash && c == '-')))
            return false;
    }
    return true;
}

bool
meso_handler_clinic_ok (const char *s)
{
    return meso_handler_code_ok (s, true);
}

bool
meso_handler_ingredient_ok (const char *s)
{
    return meso_handler_code_ok (s, true);
}

void
meso_handler_need_clinic (meso_reply_t *reply, int *bad, const char *field, const char *v)
{
    assert (reply && bad && field);
    if (!v || !*v) {
        meso_reply_reason (reply, "missing_field", field, "%s is required", field);
        (*bad)++;
    }
    else if (!meso_handler_clinic_ok (v)) {
        /* The value is not echoed: it may hold anything, a newline included,
         * and the reason is one line. */
        meso_reply_reason (reply, "invalid_id", field,
                           "%s must be a clinic id: 1 to %d characters of a-z, 0-9, _ or -",
                           field, MESO_HANDLER_ID_MAX);
        (*bad)++;
    }
}

void
meso_handler_need_text (meso_reply_t *reply, int *bad, const char *field, const char *v,
                        size_t max)
{
    assert (reply && bad && field);
    size_t n = v ? strlen (v) : 0;
    if (n == 0) {
        meso_reply_reason (reply, "missing_field", field, "%s is required", field);
        (*bad)++;
    }
    else if (n > max) {
        meso_reply_reason (reply, "out_of_range", field, "%s must be at most %zu bytes", field, max);
        (*bad)++;
    }
}

void
meso_handler_need_id (meso_reply_t *reply, int *bad, const char *field, const char *v)
{
    meso_handler_need_text (reply, bad, field, v, MESO_HANDLER_ID_MAX);
}

void
meso_handler_need_code (meso_reply_t *reply, int *bad, const char *field, const char *v)
{
    assert (reply && bad && field);
    if (!v || !*v) {
        meso_reply_reason (reply, "missing_field", field, "%s is required", field);
        (*bad)++;
    }
    else if (!meso_handler_code_ok (v, true)) {
        meso_reply_reason (reply, "invalid_code", field,
                           "%s must be 1 to %d characters of a-z, 0-9, _ or - (got \"%.64s\")",
                           field, MESO_HANDLER_ID_MAX, v);
        (*bad)++;
    }
}

void
meso_handler_need_ingredient (meso_reply_t *reply, int *bad, const char *field, const char *v)
{
    /* The same texts as any code: clients already read them. */
    meso_handler_need_code (reply, bad, field, v);
}

int
meso_handler_emit (meso_db_t *db, Meso__V1__Event *ev, const char *type, const char *clinic,
                   const Meso__V1__Actor *actor, const Meso__V1__Actor *fallback)
{
    assert (db && ev && type);
    ev->type = (char *) type;
    ev->clinic_id = (char *) (clinic ? clinic : "");
    ev->actor = (Meso__V1__Actor *) (actor ? actor : fallback);
    return meso_outbox_append (db, ev);
}

/* ------------------------------------------------------------- paging */

static bool
s_key_ok (char type, const char *v)
{
    size_t len = strlen (v);
    switch (type) {
    case 'i': {
        const char *p = v + (*v == '-');
        if (!*p || strlen (p) > 19)
            return false;
        for (; *p; p++)
            if (*p < '0' || *p > '9')
                return false;
        return true;
    }
    case 'u':
        if (len != 36)
            return false;
        for (size_t i = 0; i < len; i++) {
            bool dash = i == 8 || i == 13 || i == 18 || i == 23;
            if (dash ? v[i] != '-' : !strchr ("0123456789abcdefABCDEF", v[i]))
                return false;
        }
        return true;
    case 'c':
        return meso_handler_code_ok (v, true);
    case 'd':
        if (len != 10 || v[4] != '-' || v[7] != '-')
            return false;
        for (size_t i = 0; i < len; i++)
            if (i != 4 && i != 7 && (v[i] < '0' || v[i] > '9'))
                return false;
        return true;
    default:
        return true;
    }
}

bool
meso_handler_page_ok (const char *list, const char *token, const char *keys, meso_page_pos_t *pos)
{
    assert (list && keys && pos);
    size_t n = strlen (keys);
    bool ok = meso_page_token_decode (list, token, n, pos) == 0;
    for (size_t i = 0; ok && i < pos->n; i++)
        ok = s_key_ok (keys[i], pos->key[i]);
    if (!ok)
        memset (pos, 0, sizeof *pos);
    return ok;
}

void
meso_handler_need_page (meso_reply_t *reply, int *bad, const char *list, const char *token,
                        const char *keys, meso_page_pos_t *pos)
{
    assert (reply && bad && list && keys && pos);
    if (!meso_handler_page_ok (list, token, keys, pos)) {
        meso_reply_reason (reply, "invalid_page_token", "page_token",
                           "page_token is not a token of %s: send the next_page_token of a "
                           "previous %s reply, or none for the first page", list, list);
        (*bad)++;
    }
}

int
meso_handler_page_fit (meso_reply_t *reply, ProtobufCMessage *msg, size_t *count,
                       size_t fetched, size_t size)
{
    assert (reply && msg && count);
    size_t had = *count;
    bool more = fetched > size;
    if (meso_page_fit (msg, count, MESO_PAGE_REPLY_LIMIT) < had)
        more = true;
    if (had > 0 && *count == 0) {
        meso_reply_error (reply, MESO_RESOURCE_EXHAUSTED,
                          "one item of this list is larger than a reply may be (%zu bytes)",
                          (size_t) MESO_PAGE_REPLY_LIMIT);
        return -1;
    }
    return more ? 1 : 0;
}

int
meso_handler_page_next (meso_reply_t *reply, const char *list, const char *const *keys,
                        size_t n, char *out)
{
    if (meso_page_token_encode (list, keys, n, out, MESO_PAGE_TOKEN_MAX) != 0) {
        meso_reply_error (reply, MESO_INTERNAL, "cannot make the next page token of %s", list);
        return -1;
    }
    return 0;
}
