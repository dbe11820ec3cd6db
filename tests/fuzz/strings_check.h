/* strings_check.h -- what the fuzzers check of meso_wirecheck (the
 * descriptor-driven string check on packed bytes the bus server runs on
 * every request): it never crashes, its path is a terminated string, and
 * it agrees with a second, independent check made the other way round:
 * unpack with protobuf-c, then validate every decoded string as UTF-8
 * with the small validator below (not the one wirecheck uses). When the
 * wire check passes, every decoded string is valid UTF-8 without NUL; when
 * the bytes hold no 0x00 at all, it never reports a NUL. (The converse is
 * not required: a singular field sent twice keeps only its last value once
 * decoded, while the wire check refuses a bad earlier one too.)
 *
 * Static functions, included by fuzz_envelope.c and fuzz_messages.c. */
#ifndef FUZZ_STRINGS_CHECK_H
#define FUZZ_STRINGS_CHECK_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "meso/wirecheck.h"

/* Strict UTF-8 (RFC 3629): no overlongs, no surrogates, at most U+10FFFF. */
static bool
fz_utf8 (const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned c = s [i];
        size_t k;
        unsigned min;
        if (c < 0x80) {
            i++;
            continue;
        }
        else if ((c & 0xE0) == 0xC0) { k = 1; min = 0x80; c &= 0x1F; }
        else if ((c & 0xF0) == 0xE0) { k = 2; min = 0x800; c &= 0x0F; }
        else if ((c & 0xF8) == 0xF0) { k = 3; min = 0x10000; c &= 0x07; }
        else
            return false;
        if (n - i <= k)
            return false;
        for (size_t j = 1; j <= k; j++) {
            if ((s [i + j] & 0xC0) != 0x80)
                return false;
            c = (c << 6) | (s [i + j] & 0x3F);
        }
        if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
            return false;
        i += k + 1;
    }
    return true;
}

/* Every string of a decoded message (at any depth) is valid UTF-8. */
static bool
fz_strings_valid (const ProtobufCMessage *msg)
{
    if (!msg)
        return true;
    const ProtobufCMessageDescriptor *desc = msg->descriptor;
    const char *base = (const char *) msg;
    for (unsigned i = 0; i < desc->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &desc->fields [i];
        if (f->type != PROTOBUF_C_TYPE_STRING && f->type != PROTOBUF_C_TYPE_MESSAGE)
            continue;
        if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
            && *(const uint32_t *) (base + f->quantifier_offset) != f->id)
            continue;
        size_t count = 1;
        void *const *items = (void *const *) (base + f->offset);
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            count = *(const size_t *) (base + f->quantifier_offset);
            items = *(void *const *const *) (base + f->offset);
        }
        for (size_t k = 0; items && k < count; k++) {
            if (f->type == PROTOBUF_C_TYPE_STRING) {
                const char *s = items [k];
                if (s && !fz_utf8 ((const unsigned char *) s, strlen (s)))
                    return false;
            }
            else if (!fz_strings_valid (items [k]))
                return false;
        }
    }
    return true;
}

/* Runs meso_wirecheck on the bytes and checks it against msg (the same
 * bytes unpacked as desc, or NULL when they did not unpack). */
static void
fz_wirecheck (const ProtobufCMessageDescriptor *desc, const uint8_t *data, size_t len,
              const ProtobufCMessage *msg)
{
    char path [48];
    meso_wirecheck_t rc = meso_wirecheck (desc, data, len, path, sizeof path);
    if (rc > MESO_WIRECHECK_MALFORMED || strlen (path) >= sizeof path
        || !*meso_wirecheck_text (rc))
        abort ();
    if ((rc == MESO_WIRECHECK_NUL || rc == MESO_WIRECHECK_UTF8) && !path [0])
        abort ();
    if (rc == MESO_WIRECHECK_NUL && !memchr (data, 0, len))
        abort ();
    if (msg && rc == MESO_WIRECHECK_OK && !fz_strings_valid (msg))
        abort ();
}

#endif
