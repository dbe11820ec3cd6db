/* outbox.c -- appending an event to events.outbox in the caller's
 * transaction (see outbox.h).
 *
 * The row's xid column defaults to pg_current_xact_id(): the events daemon
 * moves a row only once every transaction older than the oldest running one
 * has finished, so a transaction that inserted early and commits late is
 * never skipped. pg_notify inside the transaction is delivered at commit and
 * not at all on rollback, which is exactly when the daemon should wake.
 *
 * The size cap (MESO_OUTBOX_EVENT_MAX) is checked here, on the packed bytes
 * that would be stored, because this is the one door every event passes:
 * an event the log stores must always fit in an events.Replay reply, or
 * every subscriber stops at it for good. The refusal is SQLSTATE 54000
 * (program_limit_exceeded), which meso_db_status maps to
 * RESOURCE_EXHAUSTED, so every service's meso_reply_db_error answers it
 * without code of its own, and the caller's transaction rolls back. */
#include "meso/access.h"
#include "meso/outbox.h"
#include "meso/mtime.h"
#include "meso/uuid.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
meso_outbox_append (meso_db_t *db, const Meso__V1__Event *ev)
{
    if (!db || !ev) {
        if (db)
            meso_db_set_error (db, "22023", "event missing");
        return -1;
    }
    char stream[16];
    if (meso_event_stream (ev->type, stream, sizeof stream) != 0) {
        meso_db_set_error (db, "22023", "event type \"%s\" is not <stream>.<kind> of a known stream",
                           ev->type ? ev->type : "");
        return -1;
    }
    Meso__V1__Event__PayloadCase want = meso_event_payload_case (ev->type);
    if (want == MESO__V1__EVENT__PAYLOAD__NOT_SET) {
        meso_db_set_error (db, "22023", "unknown event type \"%s\"", ev->type);
        return -1;
    }
    if (ev->payload_case != want) {
        meso_db_set_error (db, "22023", "event \"%s\" carries payload %d, expected %d",
                           ev->type, (int) ev->payload_case, (int) want);
        return -1;
    }

    /* The stored copy: fill what the caller left empty, clear sequences. */
    Meso__V1__Event copy = *ev;
    char id[MESO_UUID_LEN + 1];
    if (!copy.id || !*copy.id) {
        if (meso_uuid_v4 (id) != 0) {
            meso_db_set_error (db, "58000", "no randomness for an event id");
            return -1;
        }
        copy.id = id;
    }
    if (copy.occurred_at_us == 0)
        copy.occurred_at_us = meso_time_now_us ();
    copy.stream = stream;
    copy.stream_seq = 0;
    copy.global_seq = 0;
    /* An event caused by a request names who made it: the authenticated
     * principal (and the person a service acted for), when the emitter did
     * not name an actor itself. */
    Meso__V1__Actor caller = MESO__V1__ACTOR__INIT;
    const meso_principal_t *principal = meso_call_principal ();
    if (!copy.actor && principal) {
        caller.kind = (Meso__V1__Actor__Kind) meso_principal_actor_kind (principal->kind);
        caller.id = (char *) principal->name;
        caller.on_behalf_of = (char *) meso_call_on_behalf_of ();
        copy.actor = &caller;
    }

    size_t len = meso__v1__event__get_packed_size (&copy);
    uint8_t *buf = malloc (len ? len : 1);
    if (!buf) {
        meso_db_set_error (db, "53200", "out of memory packing an event");
        return -1;
    }
    meso__v1__event__pack (&copy, buf);
    if (len > MESO_OUTBOX_EVENT_MAX) {
        free (buf);
        meso_db_set_error (db, "54000", "event %s of %zu bytes exceeds the %d-byte limit",
                           copy.type, len, MESO_OUTBOX_EVENT_MAX);
        meso_db_set_error_detail (db,
            "events are copied into the replayable log and must fit in one events.Replay reply",
            "send a smaller request: an event carries the request's actor and free-text fields");
        return -1;
    }
    /* Events carry messages a client sent (the request's actor), unknown
     * fields included, and protobuf-c 1.4 accepts a field number 0 written
     * as an overlong varint (80 00) that it packs back as 00 and then
     * refuses: such an event would sit in the log undecodable by every
     * subscriber. Found by tests/fuzz/fuzz_messages.c. */
    Meso__V1__Event *again = meso__v1__event__unpack (NULL, len, buf);
    if (!again) {
        free (buf);
        meso_db_set_error (db, "22P03", "event %s does not decode once packed "
                           "(a field number 0 in the request?)", copy.type ? copy.type : "");
        return -1;
    }
    meso__v1__event__free_unpacked (again, NULL);

    char occurred[32];
    snprintf (occurred, sizeof occurred, "%lld", (long long) copy.occurred_at_us);
    const char *values[5] = { stream, copy.type,
                              copy.clinic_id && *copy.clinic_id ? copy.clinic_id : NULL,
                              occurred, (const char *) buf };
    int lengths[5] = { 0, 0, 0, 0, (int) len };
    int formats[5] = { 0, 0, 0, 0, 1 };
    PGresult *res = meso_db_query_bin (db,
        "WITH ins AS (INSERT INTO events.outbox (stream, type, clinic_id, occurred_at, payload)"
        " VALUES ($1, $2, $3, 'epoch'::timestamptz + $4::bigint * interval '1 microsecond', $5))"
        " SELECT pg_notify ('" MESO_OUTBOX_CHANNEL "', '')",
        5, values, lengths, formats);
    free (buf);
    if (!res)
        return -1;
    PQclear (res);
    return 0;
}
