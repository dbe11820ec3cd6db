/* subscriber_wire.c -- walking a packed events.Replay reply field by field
 * (see subscriber_private.h).
 *
 * The subscriber hands each event's bytes to its handler exactly as the
 * daemon sent them, so it walks the reply on the wire instead of
 * unpacking it whole: field 1 (an event), 2 (head), 23 (last_seq), and
 * anything else skipped by its wire type, as protobuf readers must. Pure
 * logic, no I/O; tests/unit/test_subscriber_wire.c. */
#include "subscriber_private.h"

/* Reads a varint at *pos; 0 or -1 when truncated or too long. */
static int
s_varint (const uint8_t *p, size_t len, size_t *pos, uint64_t *out)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (*pos >= len)
            return -1;
        uint8_t b = p[(*pos)++];
        v |= (uint64_t) (b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = v;
            return 0;
        }
    }
    return -1;
}

meso_page_field_t
meso_page_next (const uint8_t *p, size_t len, size_t *pos, meso_page_item_t *item)
{
    while (*pos < len) {
        uint64_t key, n;
        if (s_varint (p, len, pos, &key) != 0)
            return MESO_PAGE_BAD;
        uint32_t field = (uint32_t) (key >> 3), wire = (uint32_t) (key & 7);
        if (wire == 2) {
            if (s_varint (p, len, pos, &n) != 0 || n > len - *pos)
                return MESO_PAGE_BAD;
            const uint8_t *at = p + *pos;
            *pos += (size_t) n;
            if (field == 1) {
                item->raw = at;
                item->len = (size_t) n;
                return MESO_PAGE_EVENT;
            }
        }
        else if (wire == 0) {
            if (s_varint (p, len, pos, &n) != 0)
                return MESO_PAGE_BAD;
            if (field == 2 || field == 23) {
                item->value = n;
                return field == 2 ? MESO_PAGE_HEAD : MESO_PAGE_LAST;
            }
        }
        else if (wire == 1 || wire == 5) {
            size_t skip = wire == 1 ? 8 : 4;
            if (skip > len - *pos)
                return MESO_PAGE_BAD;
            *pos += skip;
        }
        else
            return MESO_PAGE_BAD;
    }
    return MESO_PAGE_END;
}
