/* subscriber.h -- receiving events once each, in order, from a cursor.
 *
 * The events daemon publishes doorbells on PUB (stream, sequence, no
 * payload) and serves the events themselves by "events.Replay", scoped to
 * the caller's principal: its streams, its clinics, and without health
 * access the events with their health fields removed. The live feed alone
 * loses doorbells (slow joiners, high-water-mark drops, restarts of either
 * side). A subscriber therefore:
 *   1. opens its SUB socket first (topics "<stream>." and "_heartbeat"),
 *   2. replays from its cursor through the events daemon's ROUTER
 *      ("events.Replay", pages of up to 5000) until it reaches the head,
 *   3. then reads doorbells, dropping what it has already seen
 *      (sequence <= cursor) and replaying from its cursor for the others
 *      (one replay for every doorbell waiting), and replays as well when a
 *      heartbeat shows a head beyond its cursor (the tail of a burst whose
 *      doorbells it missed),
 * and calls the handler exactly once per event it may see, in stream
 * order (sequences skip over events outside its clinics). The
 * handler returning -1 stops delivery without advancing the cursor: the
 * same event comes again on the next poll (at-least-once to the handler,
 * exactly-once when the handler records the cursor with its effect, which
 * is what meso_consumer below does).
 *
 * One subscriber follows one or more streams, each with its own cursor.
 * Single-threaded: the caller drives it with meso_subscriber_poll from its
 * own loop (or meso_subscriber_run). Ownership: the subscriber owns its
 * sockets; the event passed to a handler is valid only during the call. */
#ifndef MESO_SUBSCRIBER_H
#define MESO_SUBSCRIBER_H

#include <czmq.h>
#include <stdint.h>
#include "events.pb-c.h"
#include "meso/db.h"

typedef struct meso_subscriber_t meso_subscriber_t;

/* Called once per event in order. raw/len is the packed event as received
 * (sequence fields included). Return 0 to advance, -1 to stop and get the
 * same event again later. */
typedef int (meso_event_fn) (const Meso__V1__Event *event, const uint8_t *raw, size_t len,
                             void *arg);

/* router: the events daemon ROUTER endpoint(s), comma-separated; pub: its
 * PUB endpoint(s), comma-separated (connect to every instance: only the
 * active one publishes). name identifies the subscriber in requests and
 * logs. */
meso_subscriber_t *meso_subscriber_new (const char *router, const char *pub, const char *name,
                                        meso_event_fn *fn, void *arg);
/* The same, calling as the principal of identity rather than the
 * process's own key pair (a tool or test acting for an integration whose
 * key it holds). identity is applied at construction, not kept. */
meso_subscriber_t *meso_subscriber_new_as (const char *router, const char *pub, const char *name,
                                           zcert_t *identity, meso_event_fn *fn, void *arg);
void meso_subscriber_destroy (meso_subscriber_t **self_p);

/* Follows stream ("session", "screening", "stock", "billing") from after
 * cursor (0: from the first event). Call before the first poll. Returns 0,
 * or -1 for an unknown stream. */
int meso_subscriber_follow (meso_subscriber_t *self, const char *stream, uint64_t cursor);

/* The cursor of a stream (the last sequence handled, or passed over as
 * outside the subscriber's clinics), 0 when not followed. */
uint64_t meso_subscriber_cursor (meso_subscriber_t *self, const char *stream);

/* The SUB socket, to put in the caller's own poll set. */
zsock_t *meso_subscriber_socket (meso_subscriber_t *self);

/* Does whatever is due -- catch-up replays, live messages waiting, a
 * heartbeat-driven check -- waiting up to timeout_ms for live input when
 * there is nothing else to do. Returns the number of events handled, or -1
 * when the handler stopped delivery or interrupted (zsys_interrupted).
 * Errors talking to the events daemon are logged and retried on later
 * polls (the daemon may be restarting). */
int meso_subscriber_poll (meso_subscriber_t *self, int timeout_ms);

/* Polls until interrupted or the handler returns -1. Returns 0. */
int meso_subscriber_run (meso_subscriber_t *self);

/* Counters for health and metrics. */
uint64_t meso_subscriber_replayed (meso_subscriber_t *self);   /* events got by replay */
uint64_t meso_subscriber_live (meso_subscriber_t *self);       /* events announced in order */
uint64_t meso_subscriber_dropped (meso_subscriber_t *self);    /* duplicates dropped */

/* ------------------------------------------------------------------------
 * meso_consumer: the internal-consumer variant. The cursor of each stream
 * lives in the consumer's own schema, in <schema>.event_cursor (stream text
 * PRIMARY KEY, seq bigint NOT NULL) (the service's migration creates it),
 * and is advanced in the same transaction as the handler's effect:
 *
 *     BEGIN; SELECT seq ... FOR UPDATE; (skip if seq >= event) ;
 *     handler (db, event); UPDATE cursor; COMMIT
 *
 * so each event has its effect exactly once, whatever is redelivered and
 * whenever the process dies. Its principal must see every clinic of its
 * streams (the daemons' service principals do): the stored cursor moves
 * only with handled events, so events left out of a narrower scope would
 * look like a rewound cursor and be asked for again and again. */
typedef struct meso_consumer_t meso_consumer_t;

/* The effect of one event, inside the consumer's transaction. Return 0 to
 * commit it with the cursor, -1 to roll back (the event comes again; the db
 * error says why and is logged). May run more than once for one event when
 * the transaction is retried (serialization failure): keep no state across
 * calls. */
typedef int (meso_consumer_fn) (meso_db_t *db, const Meso__V1__Event *event, void *arg);

/* streams: comma-separated ("session" or "session,stock"). Reads each
 * stream's cursor from <schema>.event_cursor (a missing row is created at
 * 0). db must stay valid; it is used from the caller's thread. Returns NULL
 * and logs why on failure. */
meso_consumer_t *meso_consumer_new (meso_db_t *db, const char *schema, const char *streams,
                                    const char *router, const char *pub, const char *name,
                                    meso_consumer_fn *fn, void *arg);
void meso_consumer_destroy (meso_consumer_t **self_p);

/* As meso_subscriber_poll / _socket / _cursor. */
int meso_consumer_poll (meso_consumer_t *self, int timeout_ms);
zsock_t *meso_consumer_socket (meso_consumer_t *self);
uint64_t meso_consumer_cursor (meso_consumer_t *self, const char *stream);

#endif
