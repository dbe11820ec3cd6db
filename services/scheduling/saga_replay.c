/* saga_replay.c -- step 0 of the booking saga (saga.c): a request whose
 * idempotency key already booked gets the stored reply; a key used for
 * another request is refused; a key whose booking is still running is
 * answered ABORTED with the reason "in_progress" (the client library
 * waits for the running attempt's reply, see bus_client.c). Both callers
 * (BookCourse, BookSession) ask saga_replayed before they plan. */
#include "scheduling.h"

#include <stdlib.h>
#include <string.h>

#include "meso/audit.h"
#include "meso/log.h"

/* One statement, no transaction: the key's stored reply (replayed), the
 * key used for another request (refused), or a booking with the key still
 * pending (refused: ABORTED, retry later). Not a claim: two requests with
 * one key that both pass here still book once, since the course's unique
 * idempotency index lets one insert its course and the other gets
 * ABORTED, and the final step claims the key in its transaction. The
 * request hash is meso_idem_claim's: sha256(method || '\0' || body).
 * Returns 1 answered (reply set), 0 new, -1 error (reply set). */
static int
s_replay (meso_db_t *db, const Meso__V1__Request *req, meso_reply_t *reply)
{
    const char *method = req->method ? req->method : "";
    size_t mlen = strlen (method);
    size_t hlen = mlen + 1 + req->body.len;
    char *hin = malloc (hlen);
    if (!hin) {
        meso_reply_error (reply, MESO_RESOURCE_EXHAUSTED, "out of memory");
        return -1;
    }
    memcpy (hin, method, mlen + 1);
    if (req->body.len)
        memcpy (hin + mlen + 1, req->body.data, req->body.len);
    PGresult *res = store_saga_replay (db, req->idempotency_key, hin, hlen);
    free (hin);
    if (!res) {
        meso_reply_db_error (reply, db, "idempotency lookup");
        return -1;
    }
    int rc = 1;
    if (!PQgetisnull (res, 0, 0)) {
        if (strcmp (PQgetvalue (res, 0, 0), method) != 0 || strcmp (PQgetvalue (res, 0, 1), "t") != 0) {
            meso_reply_error (reply, MESO_FAILED_PRECONDITION,
                              "idempotency key %s was already used for a different request",
                              req->idempotency_key);
            meso_reply_detail (reply, "the key was first used with method %s; "
                               "use a new key for a new request", PQgetvalue (res, 0, 0));
            meso_reply_reason (reply, "idempotency_key_reused", "idempotency_key",
                               "this key belongs to another request");
        }
        else if (strcmp (PQgetvalue (res, 0, 2), "t") == 0)
            meso_reply_error (reply, MESO_INTERNAL,
                              "request with idempotency key %s completed without a stored reply",
                              req->idempotency_key);
        else {
            size_t len = 0;
            unsigned char *data = PQunescapeBytea ((const unsigned char *) PQgetvalue (res, 0, 3), &len);
            if (!data || meso_reply_unpack_into (reply, data, len) != 0)
                meso_reply_error (reply, MESO_INTERNAL,
                                  "stored reply for idempotency key %s does not decode", req->idempotency_key);
            else
                meso_audit_replay ();
            PQfreemem (data);
        }
    }
    else if (!PQgetisnull (res, 0, 4)) {
        meso_reply_error (reply, MESO_ABORTED, "the booking with this idempotency key is still in progress");
        meso_reply_detail (reply, "course %s; retry in a few seconds", PQgetvalue (res, 0, 4));
        meso_reply_reason (reply, MESO_REASON_IN_PROGRESS, "idempotency_key",
                           "a booking with this key is running; its reply answers this request");
    }
    else
        rc = 0;
    PQclear (res);
    return rc;
}

bool
saga_replayed (scheduling_t *self, const Meso__V1__Request *req, meso_reply_t *reply)
{
    if (!req->idempotency_key || !req->idempotency_key[0])
        return false;
    return s_replay (self->db, req, reply) != 0;
}

