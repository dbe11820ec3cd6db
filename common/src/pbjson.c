/* pbjson.c -- any protobuf-c message as JSON, walking its descriptor (see
 * pbjson.h for the mapping).
 *
 * Why it is built this way: protobuf-c generates no JSON code, and a
 * printer per message would have to follow every change of the .proto
 * files. The descriptors say everything needed: each field's name, type,
 * label, where it lives in the C struct (offset) and where its count, has_
 * flag or oneof case lives (quantifier_offset). So one walker serves every
 * message, now and later. Output goes to a growable buffer; the first
 * allocation failure latches and the result is NULL. */
#include <assert.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meso/pbjson.h"

#define MAX_DEPTH 64

typedef struct {
    char *data;
    size_t len;
    size_t cap;
    bool failed;
    unsigned flags;
} s_buf_t;

static void
s_put (s_buf_t *b, const char *s, size_t n)
{
    if (b->failed)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *data = realloc (b->data, cap);
        if (!data) {
            b->failed = true;
            return;
        }
        b->data = data;
        b->cap = cap;
    }
    memcpy (b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

static void
s_puts (s_buf_t *b, const char *s)
{
    s_put (b, s, strlen (s));
}

static void
s_printf (s_buf_t *b, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));
static void
s_printf (s_buf_t *b, const char *fmt, ...)
{
    char tmp[64];
    va_list ap;
    va_start (ap, fmt);
    int n = vsnprintf (tmp, sizeof tmp, fmt, ap);
    va_end (ap);
    if (n > 0)
        s_put (b, tmp, (size_t) n < sizeof tmp ? (size_t) n : sizeof tmp - 1);
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0. */
static size_t
s_utf8_len (const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t len;
    uint32_t cp;
    if (c < 0x80)
        return 1;
    else if ((c & 0xe0) == 0xc0) {
        len = 2;
        cp = c & 0x1f;
    }
    else if ((c & 0xf0) == 0xe0) {
        len = 3;
        cp = c & 0x0f;
    }
    else if ((c & 0xf8) == 0xf0) {
        len = 4;
        cp = c & 0x07;
    }
    else
        return 0;
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    /* Overlong forms, surrogates and values beyond U+10FFFF are invalid. */
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000)
        || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
        return 0;
    return len;
}

static void
s_string (s_buf_t *b, const char *str)
{
    const unsigned char *s = (const unsigned char *) (str ? str : "");
    size_t n = strlen ((const char *) s);
    s_put (b, "\"", 1);
    size_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        /* Copy a run of plain characters at once. */
        size_t run = 0;
        while (i + run < n && s[i + run] >= 0x20 && s[i + run] < 0x80
               && s[i + run] != '"' && s[i + run] != '\\')
            run++;
        if (run) {
            s_put (b, (const char *) s + i, run);
            i += run;
            continue;
        }
        if (c >= 0x80) {
            size_t len = s_utf8_len (s + i, n - i);
            if (len) {
                s_put (b, (const char *) s + i, len);
                i += len;
            }
            else {
                s_puts (b, "\\ufffd");
                i++;
            }
            continue;
        }
        switch (c) {
        case '"':  s_puts (b, "\\\""); break;
        case '\\': s_puts (b, "\\\\"); break;
        case '\n': s_puts (b, "\\n"); break;
        case '\r': s_puts (b, "\\r"); break;
        case '\t': s_puts (b, "\\t"); break;
        case '\b': s_puts (b, "\\b"); break;
        case '\f': s_puts (b, "\\f"); break;
        default:   s_printf (b, "\\u%04x", c); break;
        }
        i++;
    }
    s_put (b, "\"", 1);
}

static void
s_base64 (s_buf_t *b, const uint8_t *data, size_t len)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    s_put (b, "\"", 1);
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t) data[i] << 16;
        if (i + 1 < len)
            v |= (uint32_t) data[i + 1] << 8;
        if (i + 2 < len)
            v |= data[i + 2];
        char out[4] = {
            alphabet[(v >> 18) & 63], alphabet[(v >> 12) & 63],
            i + 1 < len ? alphabet[(v >> 6) & 63] : '=',
            i + 2 < len ? alphabet[v & 63] : '='
        };
        s_put (b, out, 4);
    }
    s_put (b, "\"", 1);
}

static void
s_double (s_buf_t *b, double v, bool is_float)
{
    if (isnan (v))
        s_puts (b, "\"NaN\"");
    else if (isinf (v))
        s_puts (b, v > 0 ? "\"Infinity\"" : "\"-Infinity\"");
    else
        s_printf (b, is_float ? "%.9g" : "%.17g", v);
}

static void s_message (s_buf_t *b, const ProtobufCMessage *msg, int depth);

/* Writes one value of field f stored at p. */
static void
s_value (s_buf_t *b, const ProtobufCFieldDescriptor *f, const void *p, int depth)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        s_printf (b, "%" PRId32, *(const int32_t *) p);
        break;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        s_printf (b, "%" PRIu32, *(const uint32_t *) p);
        break;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        s_printf (b, "%" PRId64, *(const int64_t *) p);
        break;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        s_printf (b, "%" PRIu64, *(const uint64_t *) p);
        break;
    case PROTOBUF_C_TYPE_FLOAT:
        s_double (b, *(const float *) p, true);
        break;
    case PROTOBUF_C_TYPE_DOUBLE:
        s_double (b, *(const double *) p, false);
        break;
    case PROTOBUF_C_TYPE_BOOL:
        s_puts (b, *(const protobuf_c_boolean *) p ? "true" : "false");
        break;
    case PROTOBUF_C_TYPE_ENUM: {
        int v = *(const int *) p;
        const ProtobufCEnumValue *ev = f->descriptor
            ? protobuf_c_enum_descriptor_get_value (f->descriptor, v) : NULL;
        if (ev)
            s_string (b, ev->name);
        else
            s_printf (b, "%d", v);
        break;
    }
    case PROTOBUF_C_TYPE_STRING:
        s_string (b, *(char *const *) p);
        break;
    case PROTOBUF_C_TYPE_BYTES: {
        const ProtobufCBinaryData *bd = p;
        s_base64 (b, bd->data, bd->data ? bd->len : 0);
        break;
    }
    case PROTOBUF_C_TYPE_MESSAGE: {
        const ProtobufCMessage *m = *(const ProtobufCMessage *const *) p;
        if (m)
            s_message (b, m, depth + 1);
        else
            s_puts (b, "null");
        break;
    }
    }
}

static size_t
s_elem_size (ProtobufCType type)
{
    switch (type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        return 4;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return 8;
    case PROTOBUF_C_TYPE_FLOAT:
        return sizeof (float);
    case PROTOBUF_C_TYPE_DOUBLE:
        return sizeof (double);
    case PROTOBUF_C_TYPE_BOOL:
        return sizeof (protobuf_c_boolean);
    case PROTOBUF_C_TYPE_ENUM:
        return sizeof (int);
    case PROTOBUF_C_TYPE_STRING:
        return sizeof (char *);
    case PROTOBUF_C_TYPE_BYTES:
        return sizeof (ProtobufCBinaryData);
    case PROTOBUF_C_TYPE_MESSAGE:
        return sizeof (ProtobufCMessage *);
    }
    return 0;
}

/* True when a singular value is its type's default (zero, "", empty). */
static bool
s_is_default (const ProtobufCFieldDescriptor *f, const void *p)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_STRING: {
        const char *s = *(char *const *) p;
        return !s || !*s;
    }
    case PROTOBUF_C_TYPE_BYTES:
        return ((const ProtobufCBinaryData *) p)->len == 0;
    case PROTOBUF_C_TYPE_MESSAGE:
        return *(const ProtobufCMessage *const *) p == NULL;
    case PROTOBUF_C_TYPE_FLOAT:
        return *(const float *) p == 0 && !signbit (*(const float *) p);
    case PROTOBUF_C_TYPE_DOUBLE:
        return *(const double *) p == 0 && !signbit (*(const double *) p);
    default: {
        static const uint8_t zero[8];
        return memcmp (p, zero, s_elem_size (f->type)) == 0;
    }
    }
}

static void
s_message (s_buf_t *b, const ProtobufCMessage *msg, int depth)
{
    if (depth > MAX_DEPTH) {
        b->failed = true;
        return;
    }
    const ProtobufCMessageDescriptor *d = msg->descriptor;
    const char *base = (const char *) msg;
    bool defaults = b->flags & MESO_PBJSON_DEFAULTS;
    bool first = true;
    s_put (b, "{", 1);
    for (unsigned i = 0; i < d->n_fields && !b->failed; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        const void *p = base + f->offset;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n = *(const size_t *) (base + f->quantifier_offset);
            if (n == 0 && !defaults)
                continue;
            s_puts (b, first ? "\"" : ",\"");
            s_puts (b, f->name);
            s_puts (b, "\":[");
            const char *arr = *(const char *const *) p;
            size_t size = s_elem_size (f->type);
            for (size_t k = 0; k < n && arr; k++) {
                if (k)
                    s_put (b, ",", 1);
                s_value (b, f, arr + k * size, depth);
            }
            s_put (b, "]", 1);
            first = false;
            continue;
        }
        if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
            /* Only the member the case names, whatever its value. */
            if (*(const uint32_t *) (base + f->quantifier_offset) != f->id)
                continue;
        }
        else if (f->label == PROTOBUF_C_LABEL_OPTIONAL) {
            bool present;
            if (f->type == PROTOBUF_C_TYPE_STRING || f->type == PROTOBUF_C_TYPE_MESSAGE)
                present = *(const void *const *) p != NULL;
            else
                present = *(const protobuf_c_boolean *) (base + f->quantifier_offset);
            if (!present) {
                if (!defaults)
                    continue;
                s_puts (b, first ? "\"" : ",\"");
                s_puts (b, f->name);
                s_puts (b, "\":null");
                first = false;
                continue;
            }
        }
        else if (f->label == PROTOBUF_C_LABEL_NONE && !defaults && s_is_default (f, p))
            continue;
        else if (f->label == PROTOBUF_C_LABEL_REQUIRED && !defaults && f->type == PROTOBUF_C_TYPE_MESSAGE
                 && *(const void *const *) p == NULL)
            continue;
        s_puts (b, first ? "\"" : ",\"");
        s_puts (b, f->name);
        s_puts (b, "\":");
        s_value (b, f, p, depth);
        first = false;
    }
    s_put (b, "}", 1);
}

char *
meso_pbjson_encode (const ProtobufCMessage *msg, unsigned flags, size_t *len)
{
    assert (msg);
    assert (msg->descriptor);
    s_buf_t b = { .flags = flags };
    s_message (&b, msg, 0);
    if (b.failed || !b.data) {
        free (b.data);
        return NULL;
    }
    if (len)
        *len = b.len;
    return b.data;
}
