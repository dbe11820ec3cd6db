/* pbjson.h -- any protobuf-c message as one line of JSON, driven by its
 * descriptor.
 *
 * For tools and logs (mesoctl events tail --json), not a wire format: the
 * output follows the proto3 JSON mapping with these choices, which make it
 * easy to read and to feed to jq:
 *   - field names are the .proto names (snake_case), as
 *     "preserving_proto_field_name" does;
 *   - 64-bit integers are JSON numbers, not strings (exact in jq and Python;
 *     JavaScript loses precision above 2^53);
 *   - enums are their value names ("CANCELLED_BY_PATIENT"), or the number when the
 *     value is not in the descriptor;
 *   - bytes are standard base64 with padding;
 *   - a oneof shows only its member that is set;
 *   - floats: NaN and infinities as the strings "NaN", "Infinity",
 *     "-Infinity";
 *   - strings are escaped for JSON; bytes that are not valid UTF-8 become
 *     U+FFFD, so the output is always valid JSON;
 *   - maps (repeated entry messages in protobuf-c) are shown as arrays of
 *     {"key":..,"value":..} objects.
 * Unknown fields are ignored. Nesting deeper than 64 levels is refused
 * (meso's messages are not recursive). */
#ifndef MESO_PBJSON_H
#define MESO_PBJSON_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>

/* Also emit fields at their default value (0, "", false, empty lists, an
 * unset message as null): every field of the message appears. Without it,
 * defaults are left out as in the proto3 mapping. */
#define MESO_PBJSON_DEFAULTS 1u

/* Returns the JSON text of msg (NUL-terminated, no newline, malloc'd: the
 * caller frees it) and its length in *len when len is non-NULL; NULL on
 * out-of-memory or nesting deeper than 64. */
char *meso_pbjson_encode (const ProtobufCMessage *msg, unsigned flags, size_t *len);

#endif
