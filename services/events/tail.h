/* tail.h -- the newest events of each stream, kept in memory by the active
 * writer, so that the replays the doorbells cause are answered without a
 * query.
 *
 * With doorbells on the PUB (main.c) every subscriber fetches every event
 * by events.Replay, almost always the few just announced: at 1,000 events
 * a second and ten subscribers that is thousands of replays a second, each
 * two queries, on the daemon's one thread and connection. The writer has
 * those events in hand when it publishes them, so it keeps a window of the
 * last ones per stream and answers a replay that falls inside it from
 * memory. Only the active writer fills it (its heads are exact); it is
 * emptied when the writer loses the lock and after a prune (a replay from a
 * pruned position must still be refused). A window holds contiguous
 * sequences: an event that does not follow the last restarts it. Pure data
 * structure, no I/O; tests/unit/test_tail.c. */
#ifndef EVENTS_TAIL_H
#define EVENTS_TAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct tail_t tail_t;

typedef struct {
    uint64_t seq;                   /* stream sequence */
    uint64_t global;                /* global sequence */
    const char *type;               /* "session.booked" */
    const char *clinic;             /* "" for a chain-wide event */
    const uint8_t *payload;         /* packed Event as stored (no sequences) */
    size_t len;
} tail_event_t;

/* A tail of nstreams windows of at most max_events events and max_bytes
 * payload bytes each. NULL on out-of-memory. */
tail_t *tail_new (int nstreams, size_t max_events, size_t max_bytes);
void tail_destroy (tail_t **self_p);

/* Copies ev into stream si's window, dropping the oldest events beyond the
 * limits; an ev->seq that does not follow the window's last restarts the
 * window at it. Returns 0, or -1 on out-of-memory (the window is emptied). */
int tail_push (tail_t *self, int si, const tail_event_t *ev);

/* Empties every window. */
void tail_clear (tail_t *self);

/* Whether stream si's window holds every event after after_seq up to head
 * (true when after_seq == head). */
bool tail_covers (const tail_t *self, int si, uint64_t after_seq, uint64_t head);

/* Event seq of stream si, NULL when outside the window. Valid until the
 * next push or clear. */
const tail_event_t *tail_get (const tail_t *self, int si, uint64_t seq);

#endif
