/* enumtext.c -- enum values <-> lowercase text, from the generated
 * descriptors (see meso/enumtext.h). The prefix of an enum's values is
 * the name of its zero value less "UNSPECIFIED" ("UNIT_UNSPECIFIED" ->
 * "UNIT_"); a value's text is the rest of its name in lower case. */
#include <ctype.h>
#include <string.h>

#include "meso/enumtext.h"
#include "meso/log.h"

#define UNSPEC "UNSPECIFIED"

/* The length of the prefix of d's value names, 0 when d has no
 * <PREFIX>UNSPECIFIED zero value. */
static size_t
s_prefix_len (const ProtobufCEnumDescriptor *d)
{
    if (!d)
        return 0;
    for (unsigned i = 0; i < d->n_values; i++) {
        if (d->values[i].value != 0)
            continue;
        const char *n = d->values[i].name;
        size_t len = strlen (n), u = strlen (UNSPEC);
        if (len > u && strcmp (n + len - u, UNSPEC) == 0)
            return len - u;
        return 0;
    }
    return 0;
}

int
meso_enum_from_text (const ProtobufCEnumDescriptor *d, const char *text)
{
    size_t pre = s_prefix_len (d);
    if (!pre || !text || !*text)
        return 0;
    size_t tlen = strlen (text);
    for (unsigned i = 0; i < d->n_values; i++) {
        const ProtobufCEnumValue *v = &d->values[i];
        if (v->value == 0 || strlen (v->name) != pre + tlen)
            continue;
        bool same = true;
        for (size_t k = 0; k < tlen && same; k++) {
            unsigned char c = (unsigned char) text[k];
            /* The text is the lowercase form: upper case in it is not a
             * value's text. */
            same = !isupper (c) && toupper (c) == (unsigned char) v->name[pre + k];
        }
        if (same)
            return v->value;
    }
    return 0;
}

const char *
meso_enum_text (const ProtobufCEnumDescriptor *d, int v, char *buf, size_t cap)
{
    if (cap)
        buf[0] = '\0';
    size_t pre = s_prefix_len (d);
    if (!pre || v == 0 || !cap)
        return NULL;
    const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value (d, v);
    if (!ev)
        return NULL;
    size_t len = strlen (ev->name) - pre;
    if (len + 1 > cap)
        return NULL;
    for (size_t k = 0; k < len; k++)
        buf[k] = (char) tolower ((unsigned char) ev->name[pre + k]);
    buf[len] = '\0';
    return buf;
}

const char *
meso_enum_str (const ProtobufCEnumDescriptor *d, int v)
{
    static _Thread_local char ring[8][MESO_ENUM_TEXT_MAX];
    static _Thread_local unsigned next;
    char *buf = ring[next++ % 8];
    return meso_enum_text (d, v, buf, MESO_ENUM_TEXT_MAX) ? buf : "unspecified";
}

int
meso_enum_from_db (const ProtobufCEnumDescriptor *d, const char *text, const char *what)
{
    int v = meso_enum_from_text (d, text);
    if (v == 0 && text && *text)
        meso_warn ("unknown %s \"%s\" (%s): shown as UNSPECIFIED", what ? what : "value", text,
                   d ? d->name : "?");
    return v;
}

bool
meso_enum_valid (const ProtobufCEnumDescriptor *d, int v)
{
    return v != 0 && s_prefix_len (d) && protobuf_c_enum_descriptor_get_value (d, v) != NULL;
}
