/* reply.c -- what a handler fills: status, message, detail, reasons, body.
 *
 * A server owns one meso_reply_t and reuses it for every request, so every
 * buffer here keeps its capacity across meso_reply_reset(): in steady state
 * serving a request allocates nothing for the reply. The envelope handed to
 * protobuf-c (meso_reply_envelope) points into these buffers instead of
 * copying them.
 *
 * Strings that end up in the envelope are proto3 `string` fields, which
 * strict decoders (Go, Python, Java) refuse unless they are valid UTF-8.
 * Messages often quote what the client sent (an unknown method name), so
 * every formatted string is scrubbed: invalid bytes become '?'. Lengths are
 * capped so that a handler quoting a huge input cannot make the reply
 * exceed the frame limit. */
#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meso/bus.h"
#include "meso/db.h"
#include "bus_private.h"

#define MESSAGE_MAX 1024        /* one line */
#define DETAIL_MAX 8192
#define REASON_TEXT_MAX 512
#define REASONS_MAX 256         /* further reasons are dropped (counted in detail) */

typedef struct {
    char *data;                 /* always NUL-terminated once allocated */
    size_t len;
    size_t cap;
} s_str_t;

typedef struct {
    s_str_t code;
    s_str_t field;
    s_str_t message;
} s_reason_t;

struct meso_reply_t {
    int status;
    s_str_t message;
    s_str_t detail;
    s_reason_t *reasons;        /* nreasons used, reasons_cap allocated */
    size_t nreasons;
    size_t reasons_cap;
    size_t reasons_dropped;
    uint8_t *body;
    size_t body_len;
    size_t body_cap;
    bool replayed;
    const ProtobufCMessageDescriptor *body_type;    /* meso_reply_body_type */
    /* Envelope scratch, rebuilt by meso_reply_envelope. */
    Meso__V1__Reason *env_reasons;
    Meso__V1__Reason **env_reason_ptrs;
    size_t env_cap;
};

/* ------------------------------------------------------------- helpers */

static void *
s_xrealloc (void *p, size_t size)
{
    void *q = realloc (p, size ? size : 1);
    if (!q) {
        /* Out of memory while building a reply: nothing sensible is left
         * to do in a daemon that cannot allocate a few bytes. */
        fprintf (stderr, "meso: out of memory (%zu bytes)\n", size);
        abort ();
    }
    return q;
}

/* Length of the valid UTF-8 sequence at p[0..avail), or 0 when the bytes
 * there are not one (overlong forms, surrogates, > U+10FFFF, truncated). */
static size_t
s_utf8_seq (const unsigned char *p, size_t avail)
{
    unsigned char c = p [0];
    if (c < 0x80)
        return 1;
    size_t n;
    unsigned cp;
    if (c >= 0xC2 && c <= 0xDF) { n = 1; cp = c & 0x1F; }
    else if (c >= 0xE0 && c <= 0xEF) { n = 2; cp = c & 0x0F; }
    else if (c >= 0xF0 && c <= 0xF4) { n = 3; cp = c & 0x07; }
    else
        return 0;
    if (n >= avail)
        return 0;
    for (size_t k = 1; k <= n; k++) {
        if ((p [k] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (p [k] & 0x3F);
    }
    if (n == 2 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF)))
        return 0;
    if (n == 3 && (cp < 0x10000 || cp > 0x10FFFF))
        return 0;
    return n + 1;
}

/* Replaces every byte that is not part of a valid UTF-8 sequence, and NULs
 * (and line breaks in one-line fields), so the text is a valid proto3
 * string. */
static void
s_scrub (char *s, size_t len, bool one_line)
{
    unsigned char *p = (unsigned char *) s;
    size_t i = 0;
    while (i < len) {
        if (p [i] == 0)
            p [i++] = '?';
        else
        if (one_line && (p [i] == '\n' || p [i] == '\r'))
            p [i++] = ' ';
        else {
            size_t n = s_utf8_seq (p + i, len - i);
            if (n == 0)
                p [i++] = '?';
            else
                i += n;
        }
    }
}

bool
meso_utf8_valid (const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *) s;
    size_t i = 0;
    while (i < len) {
        /* ASCII (ids, method names) without a call per byte. */
        if (p [i] > 0 && p [i] < 0x80) {
            i++;
            continue;
        }
        if (p [i] == 0)
            return false;
        size_t n = s_utf8_seq (p + i, len - i);
        if (n == 0)
            return false;
        i += n;
    }
    return true;
}

static void
s_str_clear (s_str_t *str)
{
    str->len = 0;
    if (str->data)
        str->data [0] = '\0';
}

static void
s_str_free (s_str_t *str)
{
    free (str->data);
    str->data = NULL;
    str->len = str->cap = 0;
}

/* Formats into str, truncated to max bytes (on a UTF-8 boundary after
 * scrubbing, since a cut sequence becomes '?'). */
static void
s_str_vset (s_str_t *str, size_t max, bool one_line, const char *fmt, va_list ap)
{
    char stack [512];
    va_list ap2;
    va_copy (ap2, ap);
    int n = vsnprintf (stack, sizeof stack, fmt, ap2);
    va_end (ap2);
    if (n < 0)
        n = 0;
    size_t len = (size_t) n < max ? (size_t) n : max;
    if (str->cap < len + 1) {
        str->data = s_xrealloc (str->data, len + 1);
        str->cap = len + 1;
    }
    if ((size_t) n < sizeof stack)
        memcpy (str->data, stack, len);
    else {
        /* Too long for the stack buffer: format again at full size, then
         * keep the first len bytes. */
        char *full = s_xrealloc (NULL, (size_t) n + 1);
        vsnprintf (full, (size_t) n + 1, fmt, ap);
        memcpy (str->data, full, len);
        free (full);
    }
    str->data [len] = '\0';
    str->len = len;
    s_scrub (str->data, len, one_line);
}

static void
s_str_set (s_str_t *str, size_t max, bool one_line, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    s_str_vset (str, max, one_line, fmt, ap);
    va_end (ap);
}

static void
s_body_set (meso_reply_t *self, const uint8_t *data, size_t len)
{
    if (self->body_cap < len) {
        self->body = s_xrealloc (self->body, len);
        self->body_cap = len;
    }
    if (len)
        memcpy (self->body, data, len);
    self->body_len = len;
}

/* ------------------------------------------------------------- life */

meso_reply_t *
meso_reply_new (void)
{
    meso_reply_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->status = MESO_OK;
    return self;
}

void
meso_reply_destroy (meso_reply_t **self_p)
{
    assert (self_p);
    meso_reply_t *self = *self_p;
    if (!self)
        return;
    s_str_free (&self->message);
    s_str_free (&self->detail);
    for (size_t i = 0; i < self->reasons_cap; i++) {
        s_str_free (&self->reasons [i].code);
        s_str_free (&self->reasons [i].field);
        s_str_free (&self->reasons [i].message);
    }
    free (self->reasons);
    free (self->body);
    free (self->env_reasons);
    free (self->env_reason_ptrs);
    free (self);
    *self_p = NULL;
}

void
meso_reply_reset (meso_reply_t *self)
{
    assert (self);
    self->status = MESO_OK;
    self->body_type = NULL;
    s_str_clear (&self->message);
    s_str_clear (&self->detail);
    /* Reasons keep their buffers for the next request. */
    for (size_t i = 0; i < self->nreasons; i++) {
        s_str_clear (&self->reasons [i].code);
        s_str_clear (&self->reasons [i].field);
        s_str_clear (&self->reasons [i].message);
    }
    self->nreasons = 0;
    self->reasons_dropped = 0;
    self->body_len = 0;
    self->replayed = false;
}

/* ------------------------------------------------------------- setters */

void
meso_reply_ok (meso_reply_t *self, const ProtobufCMessage *body)
{
    assert (self);
    self->status = MESO_OK;
    s_str_clear (&self->message);
    self->body_type = body ? body->descriptor : NULL;
    if (!body) {
        self->body_len = 0;
        return;
    }
    size_t len = protobuf_c_message_get_packed_size (body);
    if (self->body_cap < len) {
        self->body = s_xrealloc (self->body, len);
        self->body_cap = len;
    }
    self->body_len = protobuf_c_message_pack (body, self->body);
}

void
meso_reply_ok_bytes (meso_reply_t *self, const uint8_t *data, size_t len)
{
    assert (self);
    assert (data || len == 0);
    self->status = MESO_OK;
    s_str_clear (&self->message);
    self->body_type = NULL;
    s_body_set (self, data, len);
}

const ProtobufCMessageDescriptor *
meso_reply_body_type (const meso_reply_t *self)
{
    assert (self);
    return self->status == MESO_OK ? self->body_type : NULL;
}

void
meso_reply_error (meso_reply_t *self, meso_status_t status, const char *fmt, ...)
{
    assert (self);
    assert (fmt);
    /* An error with status OK is a bug in the caller; make it visible on
     * the wire rather than answering OK with a message. */
    self->status = status == MESO_OK ? MESO_INTERNAL : (int) status;
    va_list ap;
    va_start (ap, fmt);
    s_str_vset (&self->message, MESSAGE_MAX, true, fmt, ap);
    va_end (ap);
    /* A body is only sent with OK. */
    self->body_len = 0;
}

void
meso_reply_detail (meso_reply_t *self, const char *fmt, ...)
{
    assert (self);
    assert (fmt);
    va_list ap;
    va_start (ap, fmt);
    s_str_vset (&self->detail, DETAIL_MAX, false, fmt, ap);
    va_end (ap);
}

void
meso_reply_reason (meso_reply_t *self, const char *code, const char *field,
                   const char *fmt, ...)
{
    assert (self);
    assert (code);
    assert (fmt);
    if (self->nreasons == REASONS_MAX) {
        self->reasons_dropped++;
        return;
    }
    if (self->nreasons == self->reasons_cap) {
        size_t cap = self->reasons_cap ? self->reasons_cap * 2 : 4;
        if (cap > REASONS_MAX)
            cap = REASONS_MAX;
        self->reasons = s_xrealloc (self->reasons, cap * sizeof *self->reasons);
        memset (self->reasons + self->reasons_cap, 0,
                (cap - self->reasons_cap) * sizeof *self->reasons);
        self->reasons_cap = cap;
    }
    s_reason_t *r = &self->reasons [self->nreasons++];
    s_str_set (&r->code, REASON_TEXT_MAX, true, "%s", code);
    s_str_set (&r->field, REASON_TEXT_MAX, true, "%s", field ? field : "");
    va_list ap;
    va_start (ap, fmt);
    s_str_vset (&r->message, REASON_TEXT_MAX, true, fmt, ap);
    va_end (ap);
}

int
meso_reply_status (const meso_reply_t *self)
{
    assert (self);
    return self->status;
}

const char *
meso_reply_message (const meso_reply_t *self)
{
    assert (self);
    return self->message.data ? self->message.data : "";
}

void
meso_reply_db_error (meso_reply_t *self, struct meso_db_t *db, const char *what)
{
    assert (self);
    assert (db);
    const meso_db_error_t *err = meso_db_error (db);
    int status = meso_db_status (db);
    if (status == MESO_OK)
        status = MESO_INTERNAL;
    const char *msg = err && err->message [0] ? err->message : "unknown database error";
    if (what && *what)
        meso_reply_error (self, (meso_status_t) status, "%s: %s", what, msg);
    else
        meso_reply_error (self, (meso_status_t) status, "%s", msg);
    if (err && err->sqlstate [0]) {
        if (err->detail [0] && err->hint [0])
            meso_reply_detail (self, "SQLSTATE %s: %s (hint: %s)",
                               err->sqlstate, err->detail, err->hint);
        else if (err->detail [0] || err->hint [0])
            meso_reply_detail (self, "SQLSTATE %s: %s", err->sqlstate,
                               err->detail [0] ? err->detail : err->hint);
        else
            meso_reply_detail (self, "SQLSTATE %s", err->sqlstate);
    }
}

/* ------------------------------------------------------------- envelope */

void
meso_reply_envelope (meso_reply_t *self, Meso__V1__Reply *env, const char *request_id)
{
    assert (self);
    assert (env);
    if (self->env_cap < self->nreasons) {
        self->env_reasons = s_xrealloc (self->env_reasons,
                                        self->nreasons * sizeof *self->env_reasons);
        self->env_reason_ptrs = s_xrealloc (self->env_reason_ptrs,
                                            self->nreasons * sizeof *self->env_reason_ptrs);
        self->env_cap = self->nreasons;
    }
    /* protobuf-c takes char * for strings even when packing; it does not
     * write through them. */
    static char empty [] = "";
    for (size_t i = 0; i < self->nreasons; i++) {
        Meso__V1__Reason *r = &self->env_reasons [i];
        meso__v1__reason__init (r);
        r->code = self->reasons [i].code.data ? self->reasons [i].code.data : empty;
        r->field = self->reasons [i].field.data ? self->reasons [i].field.data : empty;
        r->message = self->reasons [i].message.data ? self->reasons [i].message.data : empty;
        self->env_reason_ptrs [i] = r;
    }
    env->request_id = request_id ? (char *) request_id : empty;
    env->status = (Meso__V1__Status) self->status;
    env->message = self->message.data ? self->message.data : empty;
    env->detail = self->detail.data ? self->detail.data : empty;
    env->n_reasons = self->nreasons;
    env->reasons = self->nreasons ? self->env_reason_ptrs : NULL;
    if (self->status == MESO_OK && self->body_len) {
        env->body.data = self->body;
        env->body.len = self->body_len;
    }
    else {
        env->body.data = NULL;
        env->body.len = 0;
    }
    env->replayed = self->replayed;
}

uint8_t *
meso_reply_pack (const meso_reply_t *reply, size_t *len)
{
    assert (reply);
    assert (len);
    /* The envelope scratch lives in the reply; packing does not change
     * what the reply says, so casting away const is safe here. */
    meso_reply_t *self = (meso_reply_t *) reply;
    Meso__V1__Reply env = MESO__V1__REPLY__INIT;
    meso_reply_envelope (self, &env, NULL);
    /* The stored form is the reply as first sent; "replayed" is added when
     * it is read back. */
    env.replayed = false;
    size_t size = meso__v1__reply__get_packed_size (&env);
    uint8_t *buf = malloc (size ? size : 1);
    if (!buf)
        return NULL;
    *len = meso__v1__reply__pack (&env, buf);
    return buf;
}

int
meso_reply_unpack_into (meso_reply_t *self, const uint8_t *data, size_t len)
{
    assert (self);
    assert (data || len == 0);
    Meso__V1__Reply *env = meso__v1__reply__unpack (NULL, len, data);
    if (!env)
        return -1;
    meso_reply_reset (self);
    self->status = (int) env->status;
    if (env->message && *env->message)
        s_str_set (&self->message, MESSAGE_MAX, true, "%s", env->message);
    if (env->detail && *env->detail)
        s_str_set (&self->detail, DETAIL_MAX, false, "%s", env->detail);
    for (size_t i = 0; i < env->n_reasons; i++) {
        const Meso__V1__Reason *r = env->reasons [i];
        meso_reply_reason (self, r->code ? r->code : "",
                           r->field && *r->field ? r->field : NULL,
                           "%s", r->message ? r->message : "");
    }
    if (env->body.len)
        s_body_set (self, env->body.data, env->body.len);
    /* What comes back from the store is, by definition, a replay. */
    self->replayed = true;
    meso__v1__reply__free_unpacked (env, NULL);
    return 0;
}
