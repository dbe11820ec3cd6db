/* subscriber_private.h -- what subscriber_feed.c and consumer.c need from
 * subscriber.c beyond the public interface, and the page walker of
 * subscriber_wire.c. Not installed, not for services. */
#ifndef MESO_SUBSCRIBER_PRIVATE_H
#define MESO_SUBSCRIBER_PRIVATE_H

#include "meso/subscriber.h"

#include <stdbool.h>
#include "meso/bus.h"

#define MESO_SUB_MAX_STREAMS 4
#define MESO_SUB_DEADLINE_MIN_MS 200    /* replay deadline floor, doubled on timeouts */

/* One followed stream. */
typedef struct {
    char name[16];
    uint64_t cursor;            /* last sequence handled or passed over (not ours) */
    uint64_t head;              /* highest sequence known to exist */
    uint64_t rung;              /* highest sequence announced by doorbells in a row */
    bool behind;                /* a replay is due */
    bool refused;               /* the last replay was refused (not retryable) */
    int64_t retry_at;           /* monotonic ms: no replay before this */
    int deadline_floor;         /* replay deadline floor in ms */
} meso_sub_stream_t;

/* subscriber.c owns it; subscriber_feed.c delivers through it. */
struct meso_subscriber_t {
    zsock_t *sub;
    void *sub_handle;
    meso_bus_client_t *client;
    char *name;
    meso_event_fn *fn;
    void *arg;
    meso_sub_stream_t streams[MESO_SUB_MAX_STREAMS];
    int nstreams;
    uint64_t replayed;
    uint64_t live;
    uint64_t dropped;
};

/* The followed stream called name (len bytes), or NULL. */
meso_sub_stream_t *meso_subscriber_stream (meso_subscriber_t *self, const char *name,
                                           size_t len);

/* Moves the cursor of a followed stream (forward or back) and marks it for
 * a replay from there. Used by the consumer when the cursor stored in its
 * schema disagrees with the one in memory (another instance moved it, or
 * an operator reset it): the database is the truth. Returns 0, or -1 when
 * stream is not followed. */
int meso_subscriber_set_cursor (meso_subscriber_t *self, const char *stream, uint64_t cursor);

/* The highest sequence of stream known to exist (from replays and
 * heartbeats), 0 when not followed. */
uint64_t meso_subscriber_head (meso_subscriber_t *self, const char *stream);

/* ---- subscriber_wire.c: walking a packed ReplayReply (pure) ---- */

typedef enum {
    MESO_PAGE_END,              /* no more fields */
    MESO_PAGE_EVENT,            /* ReplayReply.events entry: raw, len */
    MESO_PAGE_HEAD,             /* ReplayReply.head: value */
    MESO_PAGE_LAST,             /* ReplayReply.last_seq: value */
    MESO_PAGE_BAD               /* truncated or malformed: stop */
} meso_page_field_t;

typedef struct {
    const uint8_t *raw;         /* the packed event (inside the page) */
    size_t len;
    uint64_t value;             /* head or last_seq */
} meso_page_item_t;

/* The next field of interest of the packed ReplayReply p/len from *pos
 * (start at 0), skipping others; fills item and moves *pos past it. */
meso_page_field_t meso_page_next (const uint8_t *p, size_t len, size_t *pos,
                                  meso_page_item_t *item);

#endif
