/* wire.c -- decoding the request envelope, and reading a request id out of
 * frames that do not decode.
 *
 * This is the whole path from untrusted bytes to a Meso__V1__Request, kept
 * apart from the socket code (hiredis style: the parser knows no I/O) so
 * that tests/fuzz can drive exactly what the server runs.
 *
 * protobuf-c checks the structure of the message but not what proto3
 * promises about strings: it accepts invalid UTF-8, and a NUL inside a
 * string silently cuts the C string short. Both would make us log, look up
 * or echo something other than what the client sent, so the string fields
 * are checked here against the raw field lengths found by the same small
 * scanner that peeks request ids, and every other string of the envelope
 * (actor.id) and of the method's body by the descriptor-driven walk of
 * wirecheck.c, before unpack.
 *
 * The actor travels into every event the request causes, so it is bounded
 * (actor.id at most ACTOR_ID_MAX bytes, actor.kind one of the enum's
 * values) and everything protobuf-c kept as unknown fields, in the
 * envelope, the actor and the body, is dropped once decoded: only known,
 * checked fields can be copied on. (A 1 MiB actor padded with unknown
 * fields once became a 1 MB event that wedged every consumer.) */
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "meso/bus.h"
#include "meso/handler.h"
#include "meso/wirecheck.h"
#include "bus_private.h"

#define REQUEST_ID_MAX 64
#define METHOD_MAX 128
#define IDEMPOTENCY_KEY_MAX 128
#define ACTOR_ID_MAX MESO_ACTOR_ID_MAX

/* Reads a base-128 varint at *pos, at most 10 bytes, never past len.
 * Returns 0 or -1 (truncated or too long). */
static int
s_varint (const uint8_t *data, size_t len, size_t *pos, uint64_t *out)
{
    uint64_t value = 0;
    for (int shift = 0, i = 0; i < 10; i++, shift += 7) {
        if (*pos >= len)
            return -1;
        uint8_t b = data [(*pos)++];
        value |= (uint64_t) (b & 0x7F) << shift;
        if (!(b & 0x80)) {
            *out = value;
            return 0;
        }
    }
    return -1;
}

/* Reads a key or a length the way protobuf-c does (so that both agree on
 * which bytes are field 1): at most 5 bytes, bits beyond 32 dropped.
 * Returns 0 or -1 (truncated, or a 6th byte would be needed). */
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

/* Walks the top-level fields of a packed message and reports the last
 * length-delimited occurrence of each field numbered lo..hi (the last one
 * wins in protobuf) in value[field - lo], value_len[field - lo], setting
 * bit (field - lo) of the result. Stops at the first malformed byte; the
 * fields seen before that point count (even if the rest is broken), and
 * *clean tells whether the whole buffer was well formed. One pass for
 * several fields: the decoder checks three strings per request. */
static unsigned
s_scan_fields (const uint8_t *data, size_t len, uint32_t lo, uint32_t hi,
               const uint8_t **value, size_t *value_len, bool *clean)
{
    size_t pos = 0;
    unsigned found = 0;
    *clean = false;
    while (pos < len) {
        /* A first byte that says field 0 is refused (by protobuf-c too). */
        if ((data [pos] & 0xF8) == 0)
            return found;
        uint32_t key;
        if (s_varint32 (data, len, &pos, &key) != 0)
            return found;
        uint32_t field = key >> 3;
        unsigned type = key & 7;
        switch (type) {
            case 0: {       /* varint */
                uint64_t ignored;
                if (s_varint (data, len, &pos, &ignored) != 0)
                    return found;
                break;
            }
            case 1:         /* fixed64 */
                if (len - pos < 8)
                    return found;
                pos += 8;
                break;
            case 2: {       /* length-delimited */
                uint32_t n;
                if (s_varint32 (data, len, &pos, &n) != 0)
                    return found;
                /* Compare against what is left, never compute pos + n
                 * first (it could wrap on a 32-bit size_t). */
                if (n > len - pos)
                    return found;
                if (field >= lo && field <= hi) {
                    value [field - lo] = data + pos;
                    value_len [field - lo] = (size_t) n;
                    found |= 1u << (field - lo);
                }
                pos += (size_t) n;
                break;
            }
            case 5:         /* fixed32 */
                if (len - pos < 4)
                    return found;
                pos += 4;
                break;
            default:        /* groups (3, 4) and 6, 7: not in our messages */
                return found;
        }
    }
    *clean = true;
    return found;
}

/* The last occurrence of field want alone: 1 when seen, else 0. */
static int
s_scan_field (const uint8_t *data, size_t len, uint32_t want,
              const uint8_t **value, size_t *value_len, bool *clean)
{
    return s_scan_fields (data, len, want, want, value, value_len, clean) ? 1 : 0;
}

int
meso_wire_peek_request_id (const uint8_t *data, size_t len, char *out, size_t size)
{
    if (!out || size == 0)
        return -1;
    out [0] = '\0';
    if (!data || len == 0)
        return -1;
    const uint8_t *value = NULL;
    size_t value_len = 0;
    bool clean;
    if (s_scan_field (data, len, 1, &value, &value_len, &clean) != 1)
        return -1;
    size_t n = value_len < size - 1 ? value_len : size - 1;
    memcpy (out, value, n);
    out [n] = '\0';
    return 0;
}

/* Checks one string field of the unpacked request against its raw bytes
 * (seen tells whether the scan found the field, raw_len its length). */
static int
s_check_string (bool seen, size_t raw_len, const char *name,
                const char *value, size_t max, bool required,
                char *err, size_t errsize, const char **field)
{
    size_t n = value ? strlen (value) : 0;
    if (required && n == 0) {
        snprintf (err, errsize, "%s is required", name);
        *field = name;
        return -1;
    }
    if (n > max) {
        snprintf (err, errsize, "%s is %zu bytes long; the limit is %zu", name, n, max);
        *field = name;
        return -1;
    }
    if (n > 0 && seen && raw_len != n) {
        snprintf (err, errsize, "%s contains a NUL byte", name);
        *field = name;
        return -1;
    }
    if (!meso_utf8_valid (value ? value : "", n)) {
        snprintf (err, errsize, "%s is not valid UTF-8", name);
        *field = name;
        return -1;
    }
    return 0;
}

int
meso_wire_decode_request (const uint8_t *data, size_t len, Meso__V1__Request **out,
                          char *err, size_t errsize, const char **field)
{
    return meso_wire_decode_request_with (data, len, NULL, out, err, errsize, field);
}

int
meso_wire_decode_request_with (const uint8_t *data, size_t len, ProtobufCAllocator *allocator,
                               Meso__V1__Request **out, char *err, size_t errsize,
                               const char **field)
{
    assert (out);
    assert (err && errsize > 0);
    assert (field);
    *out = NULL;
    *field = "";
    err [0] = '\0';
    if (!data || len == 0) {
        snprintf (err, errsize, "empty frame: expected one packed meso.v1.Request");
        return -1;
    }
    if (len > MESO_BUS_MAX_FRAME) {
        snprintf (err, errsize, "request of %zu bytes exceeds the %d-byte limit",
                  len, MESO_BUS_MAX_FRAME);
        return -1;
    }
    Meso__V1__Request *req = meso__v1__request__unpack (allocator, len, data);
    if (!req) {
        snprintf (err, errsize,
                  "frame of %zu bytes is not a packed meso.v1.Request (protobuf decoding failed)",
                  len);
        return -1;
    }
    /* The raw lengths of fields 1 (request_id), 2 (method) and 3
     * (idempotency_key), in one pass. */
    const uint8_t *raw [3] = { NULL, NULL, NULL };
    size_t raw_len [3] = { 0, 0, 0 };
    bool clean;
    unsigned seen = s_scan_fields (data, len, 1, 3, raw, raw_len, &clean);
    if (s_check_string (seen & 1u, raw_len [0], "request_id", req->request_id,
                        REQUEST_ID_MAX, true, err, errsize, field)
    ||  s_check_string (seen & 2u, raw_len [1], "method", req->method, METHOD_MAX,
                        true, err, errsize, field)
    ||  s_check_string (seen & 4u, raw_len [2], "idempotency_key", req->idempotency_key,
                        IDEMPOTENCY_KEY_MAX, false, err, errsize, field)) {
        meso__v1__request__free_unpacked (req, allocator);
        return -1;
    }
    /* Every string on the wire bytes, NULs included: actor.id, and a NUL
     * at the start of request_id, method or idempotency_key (which the
     * length comparison above cannot see: the C string is then empty). */
    char path [64];
    meso_wirecheck_t bad = meso_wirecheck (&meso__v1__request__descriptor, data, len,
                                           path, sizeof path);
    if (bad == MESO_WIRECHECK_NUL || bad == MESO_WIRECHECK_UTF8) {
        snprintf (err, errsize, "%s %s", path, meso_wirecheck_text (bad));
        /* *field must outlive this call: one of the envelope's strings. */
        static const char *const names [] = {
            "request_id", "method", "idempotency_key", "actor.id"
        };
        *field = "request";
        for (size_t i = 0; i < sizeof names / sizeof names [0]; i++)
            if (strcmp (path, names [i]) == 0)
                *field = names [i];
        meso__v1__request__free_unpacked (req, allocator);
        return -1;
    }
    if (req->actor) {
        const Meso__V1__Actor *actor = req->actor;
        size_t n = actor->id ? strlen (actor->id) : 0;
        if (n > ACTOR_ID_MAX) {
            snprintf (err, errsize, "actor.id is %zu bytes long; the limit is %d", n,
                      ACTOR_ID_MAX);
            *field = "actor.id";
        }
        else if (!protobuf_c_enum_descriptor_get_value (&meso__v1__actor__kind__descriptor,
                                                         (int) actor->kind)) {
            snprintf (err, errsize, "actor.kind %d is not a known Actor.Kind", (int) actor->kind);
            *field = "actor.kind";
        }
        if (**field) {
            meso__v1__request__free_unpacked (req, allocator);
            return -1;
        }
    }
    meso_pb_strip_unknown (&req->base, allocator);
    *out = req;
    return 0;
}

int
meso_wire_decode_body (const char *method, const ProtobufCMessageDescriptor *input,
                       const ProtobufCBinaryData *body, ProtobufCMessage **out,
                       meso_reply_t *reply)
{
    assert (method && input && body && out && reply);
    *out = NULL;
    char path [256];
    meso_wirecheck_t bad = meso_wirecheck (input, body->data, body->len, path, sizeof path);
    if (bad == MESO_WIRECHECK_NUL || bad == MESO_WIRECHECK_UTF8) {
        meso_reply_error (reply, MESO_INVALID_ARGUMENT, "%s: %s %s", method, path,
                          meso_wirecheck_text (bad));
        meso_reply_detail (reply, "every string of a %s must be valid UTF-8 without NUL "
                           "bytes (proto3); nothing was changed. Hint: send %s as "
                           "UTF-8 text, without NUL bytes", input->name, path);
        meso_reply_reason (reply, bad == MESO_WIRECHECK_NUL ? "nul_byte" : "invalid_utf8",
                           path, "%s %s", path, meso_wirecheck_text (bad));
        return -1;
    }
    if (bad == MESO_WIRECHECK_OK)
        *out = protobuf_c_message_unpack (input, NULL, body->len, body->data);
    if (!*out) {
        meso_handler_undecodable (reply, method, input->name);
        return -1;
    }
    meso_pb_strip_unknown (*out, NULL);
    return 0;
}
