/* progress.h -- is an event consumer moving, or stuck at one position?
 *
 * A consumer whose effect fails for one event gets that event again and
 * again (its cursor only moves with a committed effect), and one that
 * cannot replay (the daemon refuses the page) sees no event at all: either
 * way it still serves requests and its lag metric alone says nothing
 * alarming. This tracker, fed with each stream's outcomes, says when the
 * stream is stuck and where. Pure logic, no I/O, no clock of its own: the
 * caller passes the time. */
#ifndef MESO_PROGRESS_H
#define MESO_PROGRESS_H

#include <stddef.h>
#include <stdint.h>

/* Stuck: the same event failed this many times in a row... */
#define MESO_PROGRESS_STUCK_FAILURES 3
/* ... or the cursor stayed behind a known head this long without moving. */
#define MESO_PROGRESS_STALL_MS 30000

typedef struct {
    uint64_t cursor;            /* last sequence whose effect is committed */
    uint64_t failing_seq;       /* the event failing now, 0 when none */
    unsigned failures;          /* consecutive failures of failing_seq */
    int64_t moved_ms;           /* when the cursor last moved (or tracking began) */
    char error[160];            /* the latest failure, "" when none */
} meso_progress_t;

/* Starts tracking at cursor. */
void meso_progress_init (meso_progress_t *p, uint64_t cursor, int64_t now_ms);
/* The cursor is now cursor: when it moved, failures are forgotten. */
void meso_progress_moved (meso_progress_t *p, uint64_t cursor, int64_t now_ms);
/* The effect of event seq failed with error (may be NULL). */
void meso_progress_failed (meso_progress_t *p, uint64_t seq, const char *error);

/* The position the stream is stuck at (the event it cannot get past), or
 * 0 when it is not stuck: failing_seq after max_failures failures in a
 * row, or cursor + 1 when head is beyond the cursor and it has not moved
 * for stall_ms. */
uint64_t meso_progress_stuck (const meso_progress_t *p, uint64_t head, int64_t now_ms,
                              unsigned max_failures, int64_t stall_ms);

/* A one-line note for Health about a stuck stream ("consumer billing
 * stuck at session #12: failed 5 times: <error>"), written to out. */
void meso_progress_note (const meso_progress_t *p, const char *name, const char *stream,
                         uint64_t stuck_at, uint64_t head, int64_t now_ms, char *out,
                         size_t size);

#endif
