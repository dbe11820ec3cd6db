/* seqwire.h -- building packed events and replies without unpacking them.
 *
 * The log stores each event packed exactly as its service wrote it, with
 * the sequence fields unset. Protobuf merges fields appended to a message,
 * so the daemon completes an event by appending stream_seq (field 6) and
 * global_seq (field 7), and builds a ReplayReply by framing the completed
 * events as its repeated field 1. Replay therefore costs a copy per event,
 * not an unpack and a pack. Pure functions, no I/O. */
#ifndef EVENTS_SEQWIRE_H
#define EVENTS_SEQWIRE_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

/* Most bytes seqwire_event adds to a payload. */
#define SEQWIRE_EVENT_OVERHEAD 22
/* Most bytes seqwire_replay_item adds around a completed event. */
#define SEQWIRE_ITEM_OVERHEAD (1 + 10 + SEQWIRE_EVENT_OVERHEAD)

/* Bytes of events one Replay page holds (a page ends before the event
 * that would pass this). 256 KiB: hundreds of events per page, a quarter of
 * the bus frame, and small enough that a peer's queue of unread replies
 * stays within its byte budget (see common/src/bus_budget.c). Every event
 * the outbox accepts (MESO_OUTBOX_EVENT_MAX, 64 KiB) fits in it. */
#define SEQWIRE_PAGE_BYTES (256 * 1024)

/* Whether the next event (len payload bytes) joins a page that holds used
 * bytes in count events: always when the page is empty (a page shrinks to
 * one event, never to none, whatever that event's size), otherwise only
 * when the page stays within budget. */
bool seqwire_page_takes (size_t used, int count, size_t len, size_t budget);

/* Encodes v as a protobuf varint into out (at least 10 bytes); returns
 * the length. */
size_t seqwire_varint (uint8_t *out, uint64_t v);

/* Writes payload followed by fields 6 and 7 into out (at least len +
 * SEQWIRE_EVENT_OVERHEAD bytes). Returns the length written. */
size_t seqwire_event (uint8_t *out, const uint8_t *payload, size_t len,
                      uint64_t stream_seq, uint64_t global_seq);

/* Writes one ReplayReply.events entry (tag, length, completed event) into
 * out (at least len + SEQWIRE_ITEM_OVERHEAD bytes). Returns the length. */
size_t seqwire_replay_item (uint8_t *out, const uint8_t *payload, size_t len,
                            uint64_t stream_seq, uint64_t global_seq);

/* Writes ReplayReply.head (field 2) into out (at least 11 bytes). */
size_t seqwire_replay_head (uint8_t *out, uint64_t head);

/* Writes ReplayReply.last_seq (field 23) into out (at least 12 bytes). */
size_t seqwire_replay_last (uint8_t *out, uint64_t last_seq);

#endif
