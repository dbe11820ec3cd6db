/* outbox.h -- recording an event in the caller's own transaction.
 *
 * A service calls meso_outbox_append inside the transaction that makes the
 * change (see db.h, meso_db_txn): the event row and the change commit or
 * roll back together, so an event is published if and only if its change
 * happened. The events daemon, woken by the NOTIFY this sends at commit,
 * numbers and publishes it (services/events).
 *
 * The event's type must be "<stream>.<kind>" of a known kind, and its
 * payload must be the one that type names (session.booked carries
 * session_booked): a mismatch is refused, so subscribers can rely on it. */
#ifndef MESO_OUTBOX_H
#define MESO_OUTBOX_H

#include "meso/db.h"
#include "events.pb-c.h"

/* Name of the channel the events daemon LISTENs on. */
#define MESO_OUTBOX_CHANNEL "meso_events"

/* Largest packed event the outbox accepts, in bytes. 64 KiB: an event
 * always fits in one events.Replay reply (the daemon's page is 256 KiB,
 * the bus frame 1 MiB) with room to spare, while the largest legitimate
 * event (a screening with every answer and a full actor) is a few KiB. */
#define MESO_OUTBOX_EVENT_MAX (64 * 1024)

/* Appends ev to events.outbox and notifies. Fields the caller left empty are
 * filled for the stored copy: id (a new UUID), occurred_at_us (now), stream
 * (from the type). ev itself is not changed. Sequence fields are ignored.
 * Returns 0, or -1 with the db error set (a refused event: sqlstate
 * "22023" with a message naming what is wrong; "54000" when the packed
 * event is over MESO_OUTBOX_EVENT_MAX, with its type and size). */
int meso_outbox_append (meso_db_t *db, const Meso__V1__Event *ev);

/* The payload case a type must carry, or
 * MESO__V1__EVENT__PAYLOAD__NOT_SET for an unknown type. */
Meso__V1__Event__PayloadCase meso_event_payload_case (const char *type);

/* The stream of a type ("session" for "session.booked") copied into out
 * (at least 16 bytes); -1 for an unknown stream. */
int meso_event_stream (const char *type, char *out, size_t size);

/* The i-th known type ("session.booked"...), NULL past the last: for
 * tables that must cover every type (the events daemon's health
 * redaction, and its unit test). */
const char *meso_event_type_at (size_t i);

#endif
