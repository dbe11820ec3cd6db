/* frame.c -- what the webhooks methods share: a subscription row as a
 * message, loading one within the caller's scope, the idempotent run, and
 * the sealing of secrets.
 *
 * These sit under subscriptions.c and deliveries.c and call only the store
 * and libmeso (handlers.c holds the method table alone, as in every
 * service, so that no two files call each other).
 *
 * Secrets: 32 random bytes per subscription, the HMAC key of its
 * signatures. The database holds them sealed with crypto_secretbox
 * (XSalsa20-Poly1305, a fresh random nonce each) under the key in
 * <MESO_KEYS>/webhooks.seal (made by "mesoctl keys init" next to
 * vault.master), so a copy of the database (a backup, a replica) does not
 * let anyone sign deliveries. */
#include "webhooks.h"

#include <ctype.h>
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meso/access.h"
#include "meso/handler.h"

/* ------------------------------------------------------------- rows */

size_t
frame_split_array (const char *literal, char *buf, size_t bufsize, char **out, size_t max)
{
    snprintf (buf, bufsize, "%s", literal ? literal : "");
    char *p = buf;
    if (*p == '{')
        p++;
    size_t len = strlen (p);
    if (len && p[len - 1] == '}')
        p[--len] = '\0';
    size_t n = 0;
    while (*p && n < max) {
        out[n++] = p;
        char *comma = strchr (p, ',');
        if (!comma)
            break;
        *comma = '\0';
        p = comma + 1;
    }
    return n;
}

void
frame_array_literal (char *out, size_t size, char *const *items, size_t n)
{
    size_t len = (size_t) snprintf (out, size, "{");
    for (size_t i = 0; i < n && len < size; i++)
        len += (size_t) snprintf (out + len, size - len, "%s%s", i ? "," : "", items[i]);
    if (len < size)
        snprintf (out + len, size - len, "}");
}

static Meso__V1__SubscriptionState
s_state (const char *s)
{
    if (strcmp (s, "active") == 0)
        return MESO__V1__SUBSCRIPTION_STATE__SUBSCRIPTION_STATE_ACTIVE;
    if (strcmp (s, "paused") == 0)
        return MESO__V1__SUBSCRIPTION_STATE__SUBSCRIPTION_STATE_PAUSED;
    if (strcmp (s, "parked") == 0)
        return MESO__V1__SUBSCRIPTION_STATE__SUBSCRIPTION_STATE_PARKED;
    return MESO__V1__SUBSCRIPTION_STATE__SUBSCRIPTION_STATE_UNSPECIFIED;
}

void
frame_sub_from_row (PGresult *res, int row, frame_sub_t *out)
{
    memset (out, 0, sizeof *out);
    Meso__V1__Subscription *s = &out->sub;
    meso__v1__subscription__init (s);
    s->subscription_id = PQgetvalue (res, row, SUB_ID);
    s->clinic_id = PQgetvalue (res, row, SUB_CLINIC);
    s->url = PQgetvalue (res, row, SUB_URL);
    s->n_streams = frame_split_array (PQgetvalue (res, row, SUB_STREAMS), out->streams_buf,
                                      sizeof out->streams_buf, out->streams, WH_NSTREAMS);
    s->streams = out->streams;
    s->n_event_types = frame_split_array (PQgetvalue (res, row, SUB_TYPES), out->types_buf,
                                          sizeof out->types_buf, out->types, WH_TYPES_MAX);
    s->event_types = out->types;
    s->include_health = PQgetvalue (res, row, SUB_HEALTH)[0] == 't';
    s->state = s_state (PQgetvalue (res, row, SUB_STATE));
    s->description = PQgetvalue (res, row, SUB_DESCRIPTION);
    s->created_at_us = strtoll (PQgetvalue (res, row, SUB_CREATED), NULL, 10);
    s->created_by = PQgetvalue (res, row, SUB_CREATED_BY);
    s->parked_reason = PQgetvalue (res, row, SUB_PARKED_REASON);
    s->failures = (uint32_t) strtoul (PQgetvalue (res, row, SUB_FAILURES), NULL, 10);
    s->insecure_tls = PQgetvalue (res, row, SUB_INSECURE)[0] == 't';
    /* "billing:3,session:12" */
    const char *c = PQgetvalue (res, row, SUB_CURSORS);
    size_t n = 0;
    while (*c && n < WH_NSTREAMS) {
        const char *colon = strchr (c, ':');
        if (!colon)
            break;
        size_t len = (size_t) (colon - c);
        snprintf (out->cursor_names[n], sizeof out->cursor_names[n], "%.*s", (int) len, c);
        meso__v1__stream_cursor__init (&out->cursors[n]);
        out->cursors[n].stream = out->cursor_names[n];
        out->cursors[n].seq = strtoull (colon + 1, NULL, 10);
        out->cursor_ptrs[n] = &out->cursors[n];
        n++;
        const char *comma = strchr (colon, ',');
        if (!comma)
            break;
        c = comma + 1;
    }
    s->cursors = out->cursor_ptrs;
    s->n_cursors = n;
}

/* ------------------------------------------------------ validation */

static bool
s_uuid_ok (const char *s)
{
    if (!s || strlen (s) != 36)
        return false;
    for (int i = 0; i < 36; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : !isxdigit ((unsigned char) s[i]))
            return false;
    }
    return true;
}

void
frame_need_sub_id (meso_reply_t *reply, int *bad, const char *v)
{
    if (!v || !*v) {
        meso_reply_reason (reply, "missing_field", "subscription_id", "subscription_id is required");
        (*bad)++;
    }
    else if (!s_uuid_ok (v)) {
        meso_reply_reason (reply, "invalid_id", "subscription_id",
                           "subscription_id must be a subscription's id (a UUID)");
        (*bad)++;
    }
}

PGresult *
frame_sub_load (meso_db_t *db, meso_reply_t *reply, const char *id)
{
    PGresult *res = store_sub_get (db, id, true);
    if (!res) {
        meso_reply_db_error (reply, db, "load subscription");
        return NULL;
    }
    if (PQntuples (res) != 1) {
        PQclear (res);
        meso_reply_error (reply, MESO_NOT_FOUND, "no subscription %s", id);
        meso_reply_reason (reply, "not_found", "subscription_id", "no such subscription");
        return NULL;
    }
    /* A subscription of every clinic ("") is in the scope of principals
     * of every clinic only. */
    if (meso_call_need_clinic (reply, PQgetvalue (res, 0, SUB_CLINIC), "subscription_id") != 0) {
        PQclear (res);
        return NULL;
    }
    return res;
}

void
frame_run (webhooks_t *self, const Meso__V1__Request *req, meso_reply_t *reply, void *in,
           meso_idem_effect_fn *effect)
{
    meso_idem_run (self->db, WEBHOOKS_SCHEMA, req, reply, in, effect, self);
}

/* ---------------------------------------------------------- secrets */

void
frame_seal (const uint8_t *key, const uint8_t *secret, uint8_t *out)
{
    randombytes_buf (out, crypto_secretbox_NONCEBYTES);
    crypto_secretbox_easy (out + crypto_secretbox_NONCEBYTES, secret, WH_SECRET_BYTES, out, key);
}

int
frame_unseal (const uint8_t *key, const uint8_t *sealed, size_t len, uint8_t *secret)
{
    if (len != WH_SECRET_BYTES + WH_SEAL_OVERHEAD)
        return -1;
    return crypto_secretbox_open_easy (secret, sealed + crypto_secretbox_NONCEBYTES,
                                       len - crypto_secretbox_NONCEBYTES, sealed, key);
}

int
frame_seal_load (const char *dir, uint8_t *key, char *err, size_t errsize)
{
    char path[4096];
    snprintf (path, sizeof path, "%s/%s", dir && *dir ? dir : ".", WEBHOOKS_SEAL_FILE);
    FILE *f = fopen (path, "re");
    if (!f) {
        snprintf (err, errsize, "cannot read the sealing key %s: %s (hint: mesoctl keys init --dir %s)",
                  path, strerror (errno), dir && *dir ? dir : ".");
        return -1;
    }
    char text[160] = "";
    size_t n = fread (text, 1, sizeof text - 1, f);
    fclose (f);
    while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r'))
        n--;
    size_t bin = 0;
    int rc = n == 2 * WH_SEAL_KEY_BYTES
             ? sodium_hex2bin (key, WH_SEAL_KEY_BYTES, text, n, NULL, &bin, NULL) : -1;
    sodium_memzero (text, sizeof text);
    if (rc != 0 || bin != WH_SEAL_KEY_BYTES) {
        snprintf (err, errsize, "%s is not a sealing key (64 hex digits expected)", path);
        return -1;
    }
    return 0;
}
