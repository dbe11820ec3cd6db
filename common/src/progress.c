/* progress.c -- whether a consumer's stream is moving (see progress.h).
 *
 * Two ways to be stuck, because a consumer can fail in two places: its own
 * effect failing for one event (counted failures at one sequence: a
 * transient error such as a deadlock passes on the next attempt, so a
 * few in a row are needed), or nothing reaching it at all while the head
 * is known to be further (no failure to count, only time passing). */
#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "meso/progress.h"

void
meso_progress_init (meso_progress_t *p, uint64_t cursor, int64_t now_ms)
{
    assert (p);
    memset (p, 0, sizeof *p);
    p->cursor = cursor;
    p->moved_ms = now_ms;
}

void
meso_progress_moved (meso_progress_t *p, uint64_t cursor, int64_t now_ms)
{
    assert (p);
    if (cursor == p->cursor)
        return;
    p->cursor = cursor;
    p->moved_ms = now_ms;
    if (p->failing_seq <= cursor) {
        p->failing_seq = 0;
        p->failures = 0;
        p->error[0] = '\0';
    }
}

void
meso_progress_failed (meso_progress_t *p, uint64_t seq, const char *error)
{
    assert (p);
    if (seq != p->failing_seq) {
        p->failing_seq = seq;
        p->failures = 0;
    }
    if (p->failures < UINT32_MAX)
        p->failures++;
    snprintf (p->error, sizeof p->error, "%s", error ? error : "");
}

uint64_t
meso_progress_stuck (const meso_progress_t *p, uint64_t head, int64_t now_ms,
                     unsigned max_failures, int64_t stall_ms)
{
    assert (p);
    if (p->failing_seq > p->cursor && p->failures >= max_failures)
        return p->failing_seq;
    if (head > p->cursor && now_ms - p->moved_ms >= stall_ms)
        return p->cursor + 1;
    return 0;
}

void
meso_progress_note (const meso_progress_t *p, const char *name, const char *stream,
                    uint64_t stuck_at, uint64_t head, int64_t now_ms, char *out, size_t size)
{
    assert (p && name && stream && out);
    long long idle_s = (long long) ((now_ms - p->moved_ms) / 1000);
    if (stuck_at == p->failing_seq && p->failures > 0)
        snprintf (out, size, "consumer %s stuck at %s #%" PRIu64 ": failed %u times, "
                  "cursor still %" PRIu64 " after %lld s: %s", name, stream, stuck_at,
                  p->failures, p->cursor, idle_s, p->error[0] ? p->error : "no error text");
    else
        snprintf (out, size, "consumer %s stuck at %s #%" PRIu64 ": no progress for %lld s "
                  "with head %" PRIu64 " (replay failing? see the log)", name, stream, stuck_at,
                  idle_s, head);
}
