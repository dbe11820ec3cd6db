/* bus_client.c -- the DEALER side of the bus: send a request, wait for its
 * reply, resend it until the deadline.
 *
 * Why it is built this way:
 * - DEALER, not REQ: a REQ socket locks up after one lost reply. With a
 *   DEALER we match replies to requests by request_id ourselves and simply
 *   drop replies to earlier attempts or earlier calls that arrive late.
 * - ZMQ_IMMEDIATE=1: messages are only queued to peers whose connection
 *   is up. Sends use ZMQ_DONTWAIT; with no connected peer they fail with
 *   EAGAIN and we retry a little later, up to the deadline, instead of
 *   blocking forever or queueing for a daemon that is down.
 * - A resend is the very same bytes (same request_id, same idempotency
 *   key): the server's idempotency store turns "maybe twice" into "once".
 *   With several endpoints the DEALER round-robins, so the resend goes to
 *   another instance when one died.
 * - A resend may reach another instance (or worker) while the first
 *   attempt is still running there; a service whose work spans several
 *   transactions (scheduling's booking saga) then answers ABORTED with the
 *   reason MESO_REASON_IN_PROGRESS. That is not the answer: the running
 *   attempt's reply carries the same request id. So such a reply is kept
 *   and the call goes on waiting and resending (a later resend gets the
 *   stored reply); only at the deadline is it returned, as the last word.
 *   The server does not wait instead: a worker blocked on another
 *   instance's booking could wait on one blocked the same way there.
 * - Request ids are "<pid>-<random>-<counter>": unique across the clients
 *   of one process (one counter per process) and, thanks to the random
 *   part, across processes that reuse a pid.
 * - CURVE (curve.h): the client proves its key pair and checks the
 *   server's. A refused key is noticed and reported as UNAUTHENTICATED
 *   "not authorised by <endpoint>" instead of a wait for the deadline
 *   (bus_watch.c).
 * - The actor written in a request is "on behalf of": a daemon serving a
 *   request of a person passes that person along (the thread's current
 *   call, access.h); the server only honours it from a service principal.
 */
#include <assert.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "meso/access.h"
#include "meso/bus.h"
#include "meso/curve.h"
#include "meso/log.h"
#include "bus_private.h"

#define DEFAULT_ATTEMPT_MS 1000
#define SEND_RETRY_MS 20        /* pause between sends while no peer is connected */
#define RECV_SLICE_MS 20        /* longest single wait for a reply (ZMQ_RCVTIMEO) */

static atomic_ulong s_counter;

struct meso_bus_client_t {
    zsock_t *dealer;
    void *handle;
    char *endpoints;
    char *service;
    meso_bus_watch_t *watch;    /* handshake refusals (CURVE only) */
    int n_endpoints;
    int attempt_ms;
    char id_prefix [24];        /* "<pid>-<random>-" */
    uint8_t *buf;               /* packed request, reused */
    size_t buf_cap;
    uint8_t *body_buf;          /* packed body, reused */
    size_t body_cap;
};

/* ------------------------------------------------------------- results */

const uint8_t *
meso_result_body (const meso_result_t *r, size_t *len)
{
    assert (len);
    if (!r || !r->reply || r->reply->body.len == 0) {
        *len = 0;
        return NULL;
    }
    *len = r->reply->body.len;
    return r->reply->body.data;
}

void
meso_result_reset (meso_result_t *r)
{
    assert (r);
    if (r->reply)
        meso__v1__reply__free_unpacked (r->reply, NULL);
    r->reply = NULL;
    r->status = MESO_OK;
    r->message [0] = '\0';
}

/* ------------------------------------------------------------ lifecycle */

meso_bus_client_t *
meso_bus_client_new_as (const char *service, const char *endpoints, zcert_t *identity)
{
    assert (service && *service);
    assert (endpoints && *endpoints);
    meso_bus_client_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->endpoints = strdup (endpoints);
    self->service = strdup (service);
    self->attempt_ms = DEFAULT_ATTEMPT_MS;
    uint32_t rnd = 0;
    if (getrandom (&rnd, sizeof rnd, GRND_NONBLOCK) != (ssize_t) sizeof rnd)
        rnd = (uint32_t) zclock_usecs () ^ (uint32_t) (uintptr_t) self;
    snprintf (self->id_prefix, sizeof self->id_prefix, "%u-%08x-", (unsigned) getpid (), rnd);
    self->dealer = zsock_new (ZMQ_DEALER);
    if (!self->endpoints || !self->service || !self->dealer) {
        meso_bus_client_destroy (&self);
        return NULL;
    }
    self->handle = zsock_resolve (self->dealer);
    zsock_set_immediate (self->dealer, 1);
    zsock_set_linger (self->dealer, 0);
    zsock_set_maxmsgsize (self->dealer, 4 * MESO_BUS_MAX_FRAME);
    /* Reconnect quickly after a daemon restart. */
    zsock_set_reconnect_ivl (self->dealer, 100);
    zsock_set_reconnect_ivl_max (self->dealer, 1000);
    zsock_set_rcvtimeo (self->dealer, RECV_SLICE_MS);

    /* One mechanism per socket: every endpoint plaintext, or none. */
    char *list = strdup (endpoints);
    char *save = NULL;
    int plain = 0, total = 0;
    for (char *ep = list ? strtok_r (list, ",", &save) : NULL; ep;
         ep = strtok_r (NULL, ",", &save)) {
        while (*ep == ' ')
            ep++;
        if (*ep) {
            total++;
            plain += meso_bus_plaintext (ep);
        }
    }
    free (list);
    if (plain > 0 && plain < total) {
        meso_error ("\"%s\" mixes plaintext and CURVE endpoints (MESO_PLAINTEXT_ENDPOINTS); "
                    "one client speaks one of them", endpoints);
        meso_bus_client_destroy (&self);
        return NULL;
    }
    if (plain == 0) {
        char err [256];
        if (meso_curve_client (self->dealer, service, identity, err, sizeof err) != 0) {
            meso_error ("cannot call %s at %s: %s", service, endpoints, err);
            meso_bus_client_destroy (&self);
            return NULL;
        }
        self->watch = meso_bus_watch_new (self->handle, self->endpoints);
    }

    list = strdup (endpoints);
    save = NULL;
    int connected = 0;
    for (char *ep = list ? strtok_r (list, ",", &save) : NULL; ep;
         ep = strtok_r (NULL, ",", &save)) {
        while (*ep == ' ')
            ep++;
        if (!*ep)
            continue;
        if (zsock_connect (self->dealer, "%s", ep) < 0)
            meso_warn ("cannot connect to %s: %s", ep, zmq_strerror (zmq_errno ()));
        else
            connected++;
    }
    free (list);
    self->n_endpoints = connected;
    if (connected == 0) {
        meso_error ("no usable endpoint in \"%s\"", endpoints);
        meso_bus_client_destroy (&self);
        return NULL;
    }
    return self;
}

meso_bus_client_t *
meso_bus_client_new (const char *service, const char *endpoints)
{
    return meso_bus_client_new_as (service, endpoints, NULL);
}

void
meso_bus_client_destroy (meso_bus_client_t **self_p)
{
    assert (self_p);
    meso_bus_client_t *self = *self_p;
    if (!self)
        return;
    meso_bus_watch_destroy (&self->watch, self->handle);
    zsock_destroy (&self->dealer);
    free (self->buf);
    free (self->body_buf);
    free (self->service);
    free (self->endpoints);
    free (self);
    *self_p = NULL;
}

void
meso_bus_client_set_attempt_timeout (meso_bus_client_t *self, int ms)
{
    assert (self);
    assert (ms > 0);
    self->attempt_ms = ms;
}

/* ------------------------------------------------------------- requests */

/* Packs a request into self->buf; writes its id to request_id (>= 40
 * bytes). Returns the packed size (never 0: request_id and method are
 * set), or 0 when out of memory. */
static size_t
s_pack_request (meso_bus_client_t *self, const char *method, const ProtobufCMessage *body,
                const char *idempotency_key, int deadline_ms, char *request_id)
{
    /* At most 7 + 1 + 8 + 1 + 20 characters: fits the documented 40. */
    /* "<prefix><counter>", formatted by hand (snprintf was a fifth of
     * the cost of a request here). */
    size_t id_len = strlen (self->id_prefix);
    memcpy (request_id, self->id_prefix, id_len);
    unsigned long counter = (unsigned long) atomic_fetch_add (&s_counter, 1) + 1;
    char digits [24];
    size_t nd = 0;
    do {
        digits [nd++] = (char) ('0' + counter % 10);
        counter /= 10;
    } while (counter > 0);
    while (nd > 0 && id_len < 39)
        request_id [id_len++] = digits [--nd];
    request_id [id_len] = '\0';
    /* On behalf of: the person whose request this thread is serving. */
    Meso__V1__Actor actor = MESO__V1__ACTOR__INIT;
    const meso_principal_t *caller = meso_call_principal ();
    const char *behalf = meso_call_on_behalf_of ();
    actor.id = (char *) (caller ? (*behalf ? behalf : caller->name) : "");
    if (caller && !*behalf)
        actor.kind = (Meso__V1__Actor__Kind) meso_principal_actor_kind (caller->kind);
    Meso__V1__Request req = MESO__V1__REQUEST__INIT;
    req.request_id = request_id;
    req.method = (char *) method;
    req.idempotency_key = (char *) (idempotency_key ? idempotency_key : "");
    req.deadline_ms = deadline_ms > 0 ? (uint32_t) deadline_ms : 0;
    req.actor = &actor;

    /* Both buffers are kept across calls: no allocation per request in
     * steady state. */
    size_t body_len = body ? protobuf_c_message_get_packed_size (body) : 0;
    if (self->body_cap < body_len) {
        uint8_t *buf = realloc (self->body_buf, body_len);
        if (!buf)
            return 0;
        self->body_buf = buf;
        self->body_cap = body_len;
    }
    if (body) {
        req.body.data = self->body_buf;
        req.body.len = protobuf_c_message_pack (body, self->body_buf);
    }
    /* An upper bound instead of meso__v1__request__get_packed_size (a
     * walk over every field, per request): the strings and the body, plus
     * at most 53 bytes of keys, lengths and varints (six fields of one-byte
     * keys and lengths of at most 5 bytes, deadline_ms at most 5 bytes,
     * actor.kind at most 10, actor.id's key and length 6). */
    size_t need = strlen (req.request_id) + strlen (req.method) + strlen (req.idempotency_key)
                  + strlen (actor.id) + req.body.len + 64;
    if (self->buf_cap < need) {
        uint8_t *buf = realloc (self->buf, need);
        if (!buf)
            return 0;
        self->buf = buf;
        self->buf_cap = need;
    }
    return meso__v1__request__pack (&req, self->buf);
}

/* Sends the packed request once. Returns 0, or -1 with EAGAIN when no peer
 * is connected (or its queue is full). */
static int
s_send (meso_bus_client_t *self, size_t size)
{
    /* One frame, without the empty delimiter a REQ socket would add: the
     * server answers a request in the shape it came (bus.h), and over
     * CURVE every frame is encrypted on its own, so the delimiter doubled
     * the crypto work per request at both ends. */
    return zmq_send (self->handle, self->buf, size, ZMQ_DONTWAIT) < 0 ? -1 : 0;
}

/* Takes one message and unpacks its reply: what is already there, else
 * (when wait) whatever comes within one RECV_SLICE_MS. Callers loop until
 * their own deadline. A blocking receive bounded by a constant ZMQ_RCVTIMEO
 * (set once: zmq_setsockopt is not free) costs less than zmq_poll and a
 * second receive, and this runs for every reply. Returns 1 with *out set,
 * 0 when nothing (usable) came or a signal interrupted the wait, -1 on a
 * socket error. */
/* True when reply says the request's key is being served by another
 * attempt right now (see the top). */
static bool
s_in_progress (const Meso__V1__Reply *reply)
{
    if (reply->status != MESO__V1__STATUS__STATUS_ABORTED)
        return false;
    for (size_t i = 0; i < reply->n_reasons; i++)
        if (reply->reasons [i]->code && strcmp (reply->reasons [i]->code, MESO_REASON_IN_PROGRESS) == 0)
            return true;
    return false;
}

static int
s_recv_reply (meso_bus_client_t *self, bool wait, Meso__V1__Reply **out)
{
    *out = NULL;
    zmq_msg_t frames [2];
    int n = 0;
    int more = 1;
    while (more) {
        zmq_msg_t scratch;
        zmq_msg_t *frame = n < 2 ? &frames [n] : &scratch;
        zmq_msg_init (frame);
        /* Later parts of a message are always there. The first one is
         * taken with one blocking receive when we may wait: it returns at
         * once when a message is queued, and a ZMQ_DONTWAIT attempt first
         * would only add a poll(2) on libzmq's mailbox each time the
         * queue runs dry. */
        int flags = n > 0 || !wait ? ZMQ_DONTWAIT : 0;
        if (zmq_msg_recv (frame, self->handle, flags) < 0) {
            int err = zmq_errno ();
            zmq_msg_close (frame);
            if (n == 0)
                return err == EAGAIN || err == EINTR ? 0 : -1;
            if (err == EINTR)
                continue;
            break;
        }
        more = zmq_msg_more (frame);
        if (frame == &scratch)
            zmq_msg_close (frame);
        else
            n++;
    }
    /* [empty][Reply] from a meso server; tolerate [Reply] alone. */
    zmq_msg_t *payload = NULL;
    if (n == 2 && zmq_msg_size (&frames [0]) == 0)
        payload = &frames [1];
    else
    if (n == 1)
        payload = &frames [0];
    if (payload)
        *out = meso__v1__reply__unpack (NULL, zmq_msg_size (payload), zmq_msg_data (payload));
    if (payload && !*out)
        meso_warn ("dropped a reply frame of %zu bytes that does not decode",
                   zmq_msg_size (payload));
    for (int i = 0; i < n; i++)
        zmq_msg_close (&frames [i]);
    return *out ? 1 : 0;
}

static void
s_result_fill (meso_result_t *result, Meso__V1__Reply *reply)
{
    result->reply = reply;
    result->status = (int) reply->status;
    /* What snprintf ("%s") would do, without it: this runs per reply. */
    const char *message = reply->message ? reply->message : "";
    size_t len = strnlen (message, sizeof result->message - 1);
    memcpy (result->message, message, len);
    result->message [len] = '\0';
}

int
meso_bus_client_call (meso_bus_client_t *self, const char *method,
                      const ProtobufCMessage *body, const char *idempotency_key,
                      int deadline_ms, meso_result_t *result)
{
    assert (self);
    assert (method && *method);
    assert (result);
    result->reply = NULL;
    result->status = MESO_OK;
    result->message [0] = '\0';
    if (deadline_ms <= 0)
        deadline_ms = self->attempt_ms;

    char request_id [40];
    size_t size = s_pack_request (self, method, body, idempotency_key, deadline_ms,
                                  request_id);
    if (size == 0) {
        result->status = MESO_INTERNAL;
        snprintf (result->message, sizeof result->message, "out of memory");
        return -1;
    }
    int64_t deadline = zclock_mono () + deadline_ms;
    int attempts = 0;
    bool sent_ok = false;
    Meso__V1__Reply *in_progress = NULL;       /* kept, the answer if nothing better comes */
    while (zclock_mono () < deadline) {
        if (s_send (self, size) < 0) {
            if (zmq_errno () == ETERM)
                break;
            /* Every endpoint has refused our key for a while (not only
             * once, which a server still starting may do): no point
             * waiting for the deadline. */
            if (self->watch && meso_bus_watch_refused (self->watch, self->n_endpoints)) {
                if (in_progress)
                    meso__v1__reply__free_unpacked (in_progress, NULL);
                result->status = MESO_UNAUTHENTICATED;
                snprintf (result->message, sizeof result->message,
                          "%s: not authorised by %s", method, meso_bus_watch_why (self->watch));
                return -1;
            }
            /* No connected peer yet (or it is full): wait a little and
             * try again, without running past the deadline. */
            int64_t left = deadline - zclock_mono ();
            zclock_sleep ((int) (left < SEND_RETRY_MS ? (left > 0 ? left : 0) : SEND_RETRY_MS));
            continue;
        }
        attempts++;
        sent_ok = true;
        int64_t attempt_end = zclock_mono () + self->attempt_ms;
        if (attempt_end > deadline)
            attempt_end = deadline;
        while (true) {
            int64_t left = attempt_end - zclock_mono ();
            if (left <= 0)
                break;
            Meso__V1__Reply *reply;
            int rc = s_recv_reply (self, true, &reply);
            if (rc < 0)
                break;
            if (rc == 0) {
                if (zsys_interrupted) {
                    if (in_progress)
                        meso__v1__reply__free_unpacked (in_progress, NULL);
                    result->status = MESO_CANCELLED;
                    snprintf (result->message, sizeof result->message,
                              "%s to %s interrupted", method, self->endpoints);
                    return -1;
                }
                continue;       /* timed out (left <= 0 next) or a stray frame */
            }
            if (strcmp (reply->request_id, request_id) == 0) {
                if (s_in_progress (reply)) {
                    if (in_progress)
                        meso__v1__reply__free_unpacked (in_progress, NULL);
                    in_progress = reply;
                    continue;
                }
                if (in_progress)
                    meso__v1__reply__free_unpacked (in_progress, NULL);
                s_result_fill (result, reply);
                return result->status == MESO_OK ? 0 : -1;
            }
            /* A late reply to an earlier attempt or call: not ours. */
            meso__v1__reply__free_unpacked (reply, NULL);
        }
    }
    if (in_progress) {
        s_result_fill (result, in_progress);
        return -1;
    }
    if (sent_ok) {
        result->status = MESO_DEADLINE_EXCEEDED;
        snprintf (result->message, sizeof result->message,
                  "no reply to %s from %s within %d ms (%d attempt%s); "
                  "the effect may or may not have happened",
                  method, self->endpoints, deadline_ms, attempts, attempts == 1 ? "" : "s");
    }
    else
    if (self->watch && meso_bus_watch_refusing (self->watch) > 0) {
        result->status = MESO_UNAUTHENTICATED;
        snprintf (result->message, sizeof result->message,
                  "%s: not authorised by %s", method, meso_bus_watch_why (self->watch));
    }
    else {
        result->status = MESO_UNAVAILABLE;
        snprintf (result->message, sizeof result->message,
                  "could not send %s: no connection to %s within %d ms",
                  method, self->endpoints, deadline_ms);
    }
    return -1;
}

int
meso_bus_client_send (meso_bus_client_t *self, const char *method,
                      const ProtobufCMessage *body, const char *idempotency_key,
                      int deadline_ms, char *request_id)
{
    assert (self);
    assert (method && *method);
    assert (request_id);
    size_t size = s_pack_request (self, method, body, idempotency_key, deadline_ms,
                                  request_id);
    if (size == 0)
        return -1;
    /* Waits for a connected peer up to the deadline (or the attempt
     * timeout when there is none). */
    int64_t deadline = zclock_mono () + (deadline_ms > 0 ? deadline_ms : self->attempt_ms);
    while (s_send (self, size) < 0) {
        if (zmq_errno () != EAGAIN || zclock_mono () >= deadline)
            return -1;
        zmq_pollitem_t item = { self->handle, 0, ZMQ_POLLOUT, 0 };
        zmq_poll (&item, 1, SEND_RETRY_MS);
    }
    return 0;
}

int
meso_bus_client_recv (meso_bus_client_t *self, int timeout_ms, meso_result_t *result)
{
    assert (self);
    assert (result);
    result->reply = NULL;
    result->status = MESO_OK;
    result->message [0] = '\0';
    int64_t end = zclock_mono () + (timeout_ms > 0 ? timeout_ms : 0);
    while (true) {
        int64_t left = end - zclock_mono ();
        Meso__V1__Reply *reply;
        int rc = s_recv_reply (self, left > 0, &reply);
        if (rc == 1) {
            s_result_fill (result, reply);
            return 0;
        }
        if (rc < 0 || left <= 0 || zsys_interrupted)
            break;
    }
    result->status = MESO_DEADLINE_EXCEEDED;
    snprintf (result->message, sizeof result->message,
              "no reply from %s within %d ms", self->endpoints, timeout_ms);
    return -1;
}
