/* wirecheck.c -- string checks on packed protobuf bytes, guided by the
 * message descriptor, and stripping unknown fields (see wirecheck.h).
 *
 * Why on the wire bytes: protobuf-c's unpack hands strings over as C
 * strings, so "Ann\0Evil" arrives as "Ann" and the NUL is gone; only the
 * field's length on the wire tells. One walk over the bytes, with the
 * descriptor saying which fields are strings and which are messages to
 * walk into, checks every string of every request in one place, so no
 * handler has to remember to.
 *
 * The walk reads keys and lengths the way protobuf-c does (at most 5 bytes
 * each, field 0 refused), so that both agree on which bytes are which
 * field. It is defensive, not a second decoder: anything malformed stops
 * it with MESO_WIRECHECK_MALFORMED, and the unpack that follows refuses
 * the same bytes. A field whose wire type does not fit its descriptor is
 * left alone for the same reason. */
#include "meso/wirecheck.h"

#include <assert.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus_private.h"

/* Fields of one message whose repeated occurrences get an index in the
 * path; fields beyond that (no message of ours has so many) get none. */
#define COUNTED_FIELDS 64

static int
s_varint32 (const uint8_t *data, size_t len, size_t *pos, uint32_t *out)
{
    uint32_t value = 0;
    for (int i = 0; i < 5; i++) {
        if (*pos >= len)
            return -1;
        uint8_t b = data [(*pos)++];
        value |= (uint32_t) (i < 4 ? (b & 0x7F) : b) << (7 * i);
        if (!(b & 0x80)) {
            *out = value;
            return 0;
        }
    }
    return -1;
}

static int
s_skip_varint (const uint8_t *data, size_t len, size_t *pos)
{
    for (int i = 0; i < 10; i++) {
        if (*pos >= len)
            return -1;
        if (!(data [(*pos)++] & 0x80))
            return 0;
    }
    return -1;
}

/* Appends "name" or "name[index]" (index < 0: none) to path at *at. */
static void
s_path_push (char *path, size_t size, size_t *at, const char *name, long index)
{
    if (*at >= size)
        return;
    int n = index >= 0
          ? snprintf (path + *at, size - *at, "%s%s[%ld]", *at ? "." : "", name, index)
          : snprintf (path + *at, size - *at, "%s%s", *at ? "." : "", name);
    if (n > 0)
        *at = (size_t) n < size - *at ? *at + (size_t) n : size - 1;
}

static meso_wirecheck_t
s_walk (const ProtobufCMessageDescriptor *desc, const uint8_t *data, size_t len,
        char *path, size_t size, size_t at, int depth)
{
    if (depth > MESO_WIRECHECK_DEPTH)
        return MESO_WIRECHECK_DEPTH_EXCEEDED;
    unsigned counts [COUNTED_FIELDS] = { 0 };
    size_t pos = 0;
    while (pos < len) {
        if ((data [pos] & 0xF8) == 0)
            return MESO_WIRECHECK_MALFORMED;        /* field number 0 */
        uint32_t key;
        if (s_varint32 (data, len, &pos, &key) != 0)
            return MESO_WIRECHECK_MALFORMED;
        unsigned type = key & 7;
        switch (type) {
            case 0:
                if (s_skip_varint (data, len, &pos) != 0)
                    return MESO_WIRECHECK_MALFORMED;
                continue;
            case 1:
                if (len - pos < 8)
                    return MESO_WIRECHECK_MALFORMED;
                pos += 8;
                continue;
            case 5:
                if (len - pos < 4)
                    return MESO_WIRECHECK_MALFORMED;
                pos += 4;
                continue;
            case 2:
                break;
            default:
                return MESO_WIRECHECK_MALFORMED;    /* groups: not in proto3 */
        }
        uint32_t n;
        if (s_varint32 (data, len, &pos, &n) != 0 || n > len - pos)
            return MESO_WIRECHECK_MALFORMED;
        const uint8_t *value = data + pos;
        pos += n;
        const ProtobufCFieldDescriptor *field =
            protobuf_c_message_descriptor_get_field (desc, key >> 3);
        if (!field)
            continue;                                /* unknown field */
        if (field->type != PROTOBUF_C_TYPE_STRING && field->type != PROTOBUF_C_TYPE_MESSAGE)
            continue;                                /* bytes, packed numbers */
        long index = -1;
        if (field->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t i = (size_t) (field - desc->fields);
            if (i < COUNTED_FIELDS)
                index = (long) counts [i]++;
        }
        if (field->type == PROTOBUF_C_TYPE_STRING) {
            meso_wirecheck_t bad = MESO_WIRECHECK_OK;
            if (memchr (value, 0, n))
                bad = MESO_WIRECHECK_NUL;
            else if (!meso_utf8_valid ((const char *) value, n))
                bad = MESO_WIRECHECK_UTF8;
            if (bad != MESO_WIRECHECK_OK) {
                if (path && size > 0) {
                    size_t end = at;
                    s_path_push (path, size, &end, field->name, index);
                }
                return bad;
            }
            continue;
        }
        size_t end = at;
        if (path && size > 0)
            s_path_push (path, size, &end, field->name, index);
        meso_wirecheck_t rc = s_walk (field->descriptor, value, n, path, size, end, depth + 1);
        if (rc != MESO_WIRECHECK_OK)
            return rc;
        if (path && size > 0)
            path [at] = '\0';
    }
    return MESO_WIRECHECK_OK;
}

meso_wirecheck_t
meso_wirecheck (const ProtobufCMessageDescriptor *desc, const uint8_t *data, size_t len,
                char *path, size_t size)
{
    assert (desc);
    if (path && size > 0)
        path [0] = '\0';
    if (len == 0)
        return MESO_WIRECHECK_OK;
    if (!data)
        return MESO_WIRECHECK_MALFORMED;
    return s_walk (desc, data, len, path, size, 0, 0);
}

const char *
meso_wirecheck_text (meso_wirecheck_t result)
{
    switch (result) {
        case MESO_WIRECHECK_OK: return "is well formed";
        case MESO_WIRECHECK_NUL: return "contains a NUL byte";
        case MESO_WIRECHECK_UTF8: return "is not valid UTF-8";
        case MESO_WIRECHECK_DEPTH_EXCEEDED: return "nests messages too deeply";
        case MESO_WIRECHECK_MALFORMED: return "is not a well-formed protobuf encoding";
    }
    return "is invalid";
}

/* ------------------------------------------------------- unknown fields */

static void
s_free (ProtobufCAllocator *allocator, void *p)
{
    if (!p)
        return;
    if (allocator)
        allocator->free (allocator->allocator_data, p);
    else
        free (p);
}

void
meso_pb_strip_unknown (ProtobufCMessage *msg, ProtobufCAllocator *allocator)
{
    if (!msg)
        return;
    for (unsigned f = 0; f < msg->n_unknown_fields; f++)
        s_free (allocator, msg->unknown_fields [f].data);
    s_free (allocator, msg->unknown_fields);
    msg->unknown_fields = NULL;
    msg->n_unknown_fields = 0;

    const ProtobufCMessageDescriptor *desc = msg->descriptor;
    for (unsigned i = 0; i < desc->n_fields; i++) {
        const ProtobufCFieldDescriptor *field = &desc->fields [i];
        if (field->type != PROTOBUF_C_TYPE_MESSAGE)
            continue;
        char *base = (char *) msg;
        if (field->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t count = *(size_t *) (base + field->quantifier_offset);
            ProtobufCMessage **items = *(ProtobufCMessage ***) (base + field->offset);
            for (size_t k = 0; items && k < count; k++)
                meso_pb_strip_unknown (items [k], allocator);
            continue;
        }
        if ((field->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
            && *(uint32_t *) (base + field->quantifier_offset) != field->id)
            continue;                               /* another member is set */
        meso_pb_strip_unknown (*(ProtobufCMessage **) (base + field->offset), allocator);
    }
}
