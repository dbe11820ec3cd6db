/* bus_serve.c -- serving one request: decode, authorise, dispatch to the
 * handler, normalise and pack the reply, count and log it. Runs in the
 * thread that serves (a worker, or the caller's without workers), with
 * that thread's slot (bus_private.h): its handler arg, connection, reply,
 * arena and reply buffer; nothing here is shared between threads but the
 * server's read-only method table and the atomic served counter.
 *
 * Why it is built this way:
 * - Every message gets one reply, whatever its shape: the normal
 *   [identity][empty][Request] (DEALER/REQ clients), [identity][Request]
 *   (a DEALER that skips the delimiter), and anything else (too many
 *   frames, an empty frame, a frame over the cap, bytes that do not
 *   decode). The reply uses the same shape as the request, so the client
 *   can route it.
 * - The handler's reply is normalised before it is packed (status out of
 *   range, error without message, reply over the frame cap), so a buggy
 *   handler produces a wrong answer, not a crash or a silent client.
 * - One JSON log line per request (meso_log_request).
 * - Requests are unpacked into the slot's arena (bus_arena.c), emptied
 *   after each request.
 * - Who calls is decided before the handler (bus_authz.c): the principal
 *   of the connection's key, the method's roles and the clinic scope.
 * - The method is looked up once per request: the label for the metrics
 *   comes from the same lookup as the handler.
 * - Patient data is audited around the handler (audit.c): refusals,
 *   reads and replays get their rows before the reply is packed.
 * - Health is built in: "Health" and "<service>.Health" need no entry in
 *   the method table (bus_health.c). */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "meso/access.h"
#include "meso/audit.h"
#include "meso/bus.h"
#include "meso/contract.h"
#include "meso/handler.h"
#include "meso/db.h"
#include "meso/log.h"
#include "meso/metrics.h"
#include "bus_private.h"

int64_t
meso_bus_now_us (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}


int
meso_bus_slot_init (meso_bus_slot_t *slot, void *arg, struct meso_db_t *db)
{
    memset (slot, 0, sizeof *slot);
    slot->arg = arg;
    slot->db = db;
    slot->reply = meso_reply_new ();
    meso_bus_arena_init (&slot->arena);
    return slot->reply && slot->arena.buf ? 0 : -1;
}

void
meso_bus_slot_fini (meso_bus_slot_t *slot)
{
    meso_reply_destroy (&slot->reply);
    free (slot->arena.buf);
    free (slot->out);
    slot->arena.buf = NULL;
    slot->out = NULL;
}

/* ------------------------------------------------------------- serving */

static const meso_method_t *
s_lookup (meso_bus_server_t *self, const char *name)
{
    for (const meso_method_t *m = self->methods; m->name; m++)
        if (strcmp (m->name, name) == 0)
            return m;
    return NULL;
}

/* Makes whatever a handler left in reply sendable. */
static void
s_normalise (meso_bus_server_t *self, meso_reply_t *reply, const char *method)
{
    int status = meso_reply_status (reply);
    if (status < MESO_OK || status > MESO_UNAUTHENTICATED) {
        meso_reply_error (reply, MESO_INTERNAL,
                          "%s returned an invalid status %d", method, status);
        return;
    }
    if (status != MESO_OK && !*meso_reply_message (reply))
        meso_reply_error (reply, (meso_status_t) status, "%s failed with %s",
                          method, meso_status_name (status));
}

/* A handler that finds its clinic itself (MESO_SCOPE_HANDLER) must have
 * checked it for a scoped principal before answering OK: if not, the
 * answer is withheld and the omission logged as the bug it is. */
static void
s_check_scoped (const meso_method_t *m, const meso_principal_t *p, meso_reply_t *reply)
{
    if (!p || p->all_clinics || !m->scope || strcmp (m->scope, MESO_SCOPE_HANDLER) != 0
        || meso_call_scope_checked () || meso_reply_status (reply) != MESO_OK)
        return;
    meso_error ("%s answered %s without checking the clinic scope", m->name, p->name);
    meso_reply_reset (reply);
    meso_reply_error (reply, MESO_INTERNAL, "%s did not check the caller's clinic scope",
                      m->name);
}

/* Runs one decoded request through its handler (or answers it directly).
 * Returns req->method when this server has that method (the label for the
 * metrics), NULL when not. */
static const char *
s_dispatch (meso_bus_server_t *self, meso_bus_slot_t *slot, const Meso__V1__Request *req,
            meso_reply_t *reply, const meso_principal_t *principal)
{
    if (strcmp (req->method, "Health") == 0
        || strcmp (req->method, self->health_method) == 0) {
        /* Any authenticated caller may ask (an anonymous one only on a
         * plaintext endpoint). */
        /* A worker's hook reads through the worker's own arg (its
         * connection); see meso_bus_server_start. */
        void *harg = self->health_arg == self->slot.arg ? slot->arg : self->health_arg;
        char pool [96] = "";
        if (self->workers > 0) {
            int up = 0;
            for (int i = 0; i < self->workers; i++)
                up += atomic_load (&self->worker_db_ok [i]);
            snprintf (pool, sizeof pool, "workers=%d connected=%d", self->workers, up);
        }
        meso_bus_health (self->service, self->started_ms, slot->db, *pool ? pool : NULL,
                         self->health_fn, harg, reply);
        return req->method;
    }
    const meso_method_t *m = s_lookup (self, req->method);
    if (!m) {
        meso_reply_error (reply, MESO_NOT_FOUND, "unknown method \"%s\"; %s serves: %s",
                          req->method, self->service, self->method_list);
        meso_reply_reason (reply, "unknown_method", "method",
                           "%s does not serve \"%s\"", self->service, req->method);
        return NULL;
    }
    if (m->kind == MESO_METHOD_MUTATING && !*req->idempotency_key) {
        meso_reply_error (reply, MESO_INVALID_ARGUMENT,
                          "%s changes data and needs an idempotency_key", m->name);
        meso_reply_reason (reply, "missing_field", "idempotency_key",
                           "set idempotency_key to a value unique to this change "
                           "and reuse it when retrying");
        return req->method;
    }
    ProtobufCMessage *body = NULL;
    if (m->input && meso_wire_decode_body (m->name, m->input, &req->body, &body, reply) != 0)
        return req->method;
    meso_audit_begin (m, req, body);
    if (meso_bus_authorize (m, principal, body, reply) == 0) {
        m->fn (req, body, reply, slot->arg);
        s_check_scoped (m, principal, reply);
        meso_contract_check_reply (self->service, m, reply);
    }
    if (body)
        protobuf_c_message_free_unpacked (body, NULL);
    s_normalise (self, reply, m->name);
    /* Patient data: the rows not written in the effect's transaction, and
     * a read that cannot be recorded is not answered. */
    meso_audit_finish (slot->db, reply);
    meso_audit_end ();
    return req->method;
}

/* Packs reply into self->out; replaces a reply over the cap by an error. */
static size_t
s_pack (meso_bus_slot_t *self, meso_reply_t *reply, const char *request_id)
{
    Meso__V1__Reply env = MESO__V1__REPLY__INIT;
    meso_reply_envelope (reply, &env, request_id);
    /* Without reasons (the usual case) an upper bound is enough to size
     * the buffer, and cheaper than walking the envelope: the strings and
     * the body plus at most 37 bytes of keys, lengths and varints (four
     * length-delimited fields of 1 + 5, status 1 + 10, replayed 1 + 1).
     * pack returns the exact size. Only a bound over the cap takes the
     * exact path, which decides whether the reply is too large. */
    size_t size = 0;
    if (env.n_reasons == 0)
        size = strlen (env.request_id) + strlen (env.message) + strlen (env.detail)
               + env.body.len + 64;
    if (size == 0 || size > MESO_BUS_MAX_FRAME)
        size = meso__v1__reply__get_packed_size (&env);
    if (size > MESO_BUS_MAX_FRAME) {
        meso_reply_error (reply, MESO_RESOURCE_EXHAUSTED,
                          "reply of %zu bytes exceeds the %d-byte limit", size,
                          MESO_BUS_MAX_FRAME);
        meso_reply_detail (reply, "ask for less (paging) or report this as a bug");
        meso__v1__reply__init (&env);
        meso_reply_envelope (reply, &env, request_id);
        size = meso__v1__reply__get_packed_size (&env);
        if (size > MESO_BUS_MAX_FRAME) {
            /* Reasons alone cannot get here (they are capped), but be sure. */
            meso_reply_reset (reply);
            meso_reply_error (reply, MESO_INTERNAL, "reply too large");
            meso__v1__reply__init (&env);
            meso_reply_envelope (reply, &env, request_id);
            size = meso__v1__reply__get_packed_size (&env);
        }
    }
    if (self->out_cap < size) {
        uint8_t *out = realloc (self->out, size);
        if (!out)
            return 0;
        self->out = out;
        self->out_cap = size;
    }
    return meso__v1__reply__pack (&env, self->out);
}

void
meso_bus_serve (meso_bus_server_t *self, meso_bus_slot_t *slot, meso_bus_job_t *job)
{
    zmq_msg_t *frames = job->frames;
    int kept = job->kept;
    int count = job->count;
    int64_t start = job->received_us;

    meso_reply_t *reply = slot->reply;
    meso_reply_reset (reply);
    char peeked [MESO_BUS_REQUEST_ID_PEEK] = "";
    const char *request_id = "";
    const char *method = "";
    const char *label = NULL;   /* method, when this server has it */
    Meso__V1__Request *req = NULL;
    meso_bus_caller_t caller;
    char who [MESO_PRINCIPAL_NAME_MAX + 1] = "";
    char behalf [MESO_ACTOR_ID_MAX + 1] = "";

    /* The shape: [empty][payload], or [payload] alone. */
    bool delimited = kept >= 1 && zmq_msg_size (&frames [0]) == 0 && count >= 2;
    zmq_msg_t *payload = NULL;
    if (kept == 0)
        meso_reply_error (reply, MESO_INVALID_ARGUMENT,
                          "message has no frame after the routing identity");
    else
    if (delimited ? count == 2 : count == 1)
        payload = &frames [delimited ? 1 : 0];
    else {
        /* Too many frames: still answer, with the request id if the first
         * frame after the delimiter carries one. */
        zmq_msg_t *first = &frames [delimited ? 1 : 0];
        if (meso_wire_peek_request_id (zmq_msg_data (first), zmq_msg_size (first),
                                       peeked, sizeof peeked) == 0
            && meso_utf8_valid (peeked, strlen (peeked)))
            request_id = peeked;
        meso_reply_error (reply, MESO_INVALID_ARGUMENT,
                          "expected one packed meso.v1.Request frame%s, got %d frames",
                          delimited ? " after the empty delimiter" : "",
                          delimited ? count - 1 : count);
        meso_reply_detail (reply, "send one protobuf message per ZeroMQ frame");
    }

    if (payload) {
        const uint8_t *data = zmq_msg_data (payload);
        size_t size = zmq_msg_size (payload);
        if (size > MESO_BUS_MAX_FRAME) {
            if (meso_wire_peek_request_id (data, size, peeked, sizeof peeked) == 0
                && meso_utf8_valid (peeked, strlen (peeked)))
                request_id = peeked;
            meso_reply_error (reply, MESO_RESOURCE_EXHAUSTED,
                              "request of %zu bytes exceeds the %d-byte limit",
                              size, MESO_BUS_MAX_FRAME);
        }
        else {
            char err [256];
            const char *field = "";
            if (meso_wire_decode_request_with (data, size, &slot->arena.base, &req,
                                               err, sizeof err, &field) == 0) {
                request_id = req->request_id;
                method = req->method;
                if (meso_bus_caller_begin (&caller, zmq_msg_gets (payload, "User-Id"),
                                           self->plaintext, req, reply) == 0)
                    label = s_dispatch (self, slot, req, reply, caller.principal);
                if (caller.principal) {
                    snprintf (who, sizeof who, "%s", caller.principal->name);
                    snprintf (behalf, sizeof behalf, "%s", caller.actor.on_behalf_of);
                }
                meso_bus_caller_end (&caller, req);
            }
            else {
                if (meso_wire_peek_request_id (data, size, peeked, sizeof peeked) == 0
                    && meso_utf8_valid (peeked, strlen (peeked)))
                    request_id = peeked;
                meso_reply_error (reply, MESO_INVALID_ARGUMENT, "%s", err);
                meso_reply_detail (reply, "the request envelope was refused before any method "
                                   "ran; nothing was changed. Hint: correct it and send again");
                if (*field)
                    meso_reply_reason (reply, "invalid_field", field, "%s", err);
            }
        }
    }

    /* s_pack only returns 0 for an empty OK envelope or when out of
     * memory; either way an (empty) frame still tells the client. */
    size_t size = s_pack (slot, reply, request_id);
    /* The reply leaves in a message of its own: the thread that sends it
     * may do so after this slot has served the next request. */
    if (zmq_msg_init_size (&job->reply, size) == 0)
        memcpy (zmq_msg_data (&job->reply), slot->out, size);
    else
        zmq_msg_init (&job->reply);
    job->delimited = delimited;
    snprintf (job->request_id, sizeof job->request_id, "%s", request_id);
    atomic_fetch_add (&self->served, 1);
    int64_t took = meso_bus_now_us () - start;
    /* The method label only names methods this server has: a client's
     * made-up names must not grow the metrics without bound. */
    meso_metrics_request (label ? label : "unknown", meso_reply_status (reply), took);
    meso_log_request_by (request_id, method, meso_reply_status (reply), took,
                         meso_reply_status (reply) == MESO_OK ? NULL : meso_reply_message (reply),
                         who, behalf);

    if (req)
        meso__v1__request__free_unpacked (req, &slot->arena.base);
    slot->arena.used = 0;
}
