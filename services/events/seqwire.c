/* seqwire.c -- see seqwire.h. */
#include "seqwire.h"

#include <string.h>

size_t
seqwire_varint (uint8_t *out, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        out[n++] = (uint8_t) (v | 0x80);
        v >>= 7;
    }
    out[n++] = (uint8_t) v;
    return n;
}

static size_t
s_seqs (uint8_t *out, uint64_t stream_seq, uint64_t global_seq)
{
    size_t n = 0;
    out[n++] = (6 << 3) | 0;            /* Event.stream_seq, varint */
    n += seqwire_varint (out + n, stream_seq);
    out[n++] = (7 << 3) | 0;            /* Event.global_seq, varint */
    n += seqwire_varint (out + n, global_seq);
    return n;
}

size_t
seqwire_event (uint8_t *out, const uint8_t *payload, size_t len,
               uint64_t stream_seq, uint64_t global_seq)
{
    if (len)
        memmove (out, payload, len);
    return len + s_seqs (out + len, stream_seq, global_seq);
}

size_t
seqwire_replay_item (uint8_t *out, const uint8_t *payload, size_t len,
                     uint64_t stream_seq, uint64_t global_seq)
{
    uint8_t seqs[SEQWIRE_EVENT_OVERHEAD];
    size_t nseqs = s_seqs (seqs, stream_seq, global_seq);
    size_t n = 0;
    out[n++] = (1 << 3) | 2;            /* ReplayReply.events, length-delimited */
    n += seqwire_varint (out + n, (uint64_t) (len + nseqs));
    if (len)
        memcpy (out + n, payload, len);
    n += len;
    memcpy (out + n, seqs, nseqs);
    return n + nseqs;
}

size_t
seqwire_replay_head (uint8_t *out, uint64_t head)
{
    out[0] = (2 << 3) | 0;              /* ReplayReply.head, varint */
    return 1 + seqwire_varint (out + 1, head);
}

size_t
seqwire_replay_last (uint8_t *out, uint64_t last_seq)
{
    /* ReplayReply.last_seq, varint: the key 23 << 3 is two varint bytes. */
    size_t n = seqwire_varint (out, (23 << 3) | 0);
    return n + seqwire_varint (out + n, last_seq);
}

bool
seqwire_page_takes (size_t used, int count, size_t len, size_t budget)
{
    return count == 0 || used + len + SEQWIRE_ITEM_OVERHEAD <= budget;
}
