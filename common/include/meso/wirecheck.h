/* wirecheck.h -- what proto3 promises about strings, checked on the packed
 * bytes of any message, guided by its descriptor; and dropping the unknown
 * fields of a decoded message.
 *
 * protobuf-c's unpack accepts invalid UTF-8 in a string field, and turns a
 * string with a NUL inside ("Ann\0Evil") into the C string "Ann": after
 * unpack the NUL can no longer be seen. So the check walks the wire bytes
 * before unpack: every length-delimited field whose descriptor type is
 * STRING must be valid UTF-8 without NUL over its exact length; MESSAGE
 * fields (singular, repeated, oneof members, map entries) are walked in
 * turn; unknown fields are skipped. Pure: no I/O, no allocation. */
#ifndef MESO_WIRECHECK_H
#define MESO_WIRECHECK_H

#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

/* Deepest nesting walked. Our messages nest a few levels; deeper input
 * is refused (protobuf-c's own unpack has no limit). */
#define MESO_WIRECHECK_DEPTH 32

typedef enum {
    MESO_WIRECHECK_OK = 0,
    MESO_WIRECHECK_NUL = 1,         /* a string field contains a NUL byte */
    MESO_WIRECHECK_UTF8 = 2,        /* a string field is not valid UTF-8 */
    MESO_WIRECHECK_DEPTH_EXCEEDED = 3,
    MESO_WIRECHECK_MALFORMED = 4    /* not a well-formed protobuf encoding */
} meso_wirecheck_t;

/* Walks the len bytes at data as a packed message of type desc. Returns
 * MESO_WIRECHECK_OK, or the first problem found; for NUL and UTF8 the
 * field's path is written to path (size bytes, truncated if need be):
 * "first_name", "patient.first_name", "lines[2].ingredient_code" (indexes
 * count the occurrences of a repeated field from 0). A malformed encoding
 * is reported as such, without a path: protobuf-c's unpack refuses it too,
 * and the caller answers that. */
meso_wirecheck_t meso_wirecheck (const ProtobufCMessageDescriptor *desc, const uint8_t *data,
                                 size_t len, char *path, size_t size);

/* A sentence for a result: "contains a NUL byte", "is not valid UTF-8"... */
const char *meso_wirecheck_text (meso_wirecheck_t result);

/* Drops the unknown fields of msg and of every message inside it, freeing
 * them with allocator (NULL: the system allocator, as for unpack), so that
 * nothing but known fields travels on when msg is copied or packed again
 * (into an event, for instance). */
void meso_pb_strip_unknown (ProtobufCMessage *msg, ProtobufCAllocator *allocator);

#endif
