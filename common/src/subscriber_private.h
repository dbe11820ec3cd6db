/* subscriber_private.h -- what consumer.c needs from subscriber.c beyond
 * the public interface. Not installed, not for services. */
#ifndef MESO_SUBSCRIBER_PRIVATE_H
#define MESO_SUBSCRIBER_PRIVATE_H

#include "meso/subscriber.h"

/* Moves the cursor of a followed stream (forward or back) and marks it for
 * a replay from there. Used by the consumer when the cursor stored in its
 * schema disagrees with the one in memory (another instance moved it, or
 * an operator reset it): the database is the truth. Returns 0, or -1 when
 * stream is not followed. */
int meso_subscriber_set_cursor (meso_subscriber_t *self, const char *stream, uint64_t cursor);

/* The highest sequence of stream known to exist (from replays and
 * heartbeats), 0 when not followed. */
uint64_t meso_subscriber_head (meso_subscriber_t *self, const char *stream);

#endif
