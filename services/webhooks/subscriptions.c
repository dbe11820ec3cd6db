/* subscriptions.c -- webhooks.AddSubscription, ListSubscriptions,
 * PauseSubscription, ResumeSubscription, RemoveSubscription.
 *
 * Scope: a subscription is about one clinic, or every clinic ("") which
 * only a principal of every clinic may add, see or change; the method
 * table says MESO_SCOPE_HANDLER and the handlers check the clinic of the
 * request or of the stored row (frame_sub_load) before any effect.
 * include_health needs a caller who may see health data itself: a
 * manager without it cannot open a channel that would show it.
 *
 * The secret: Add makes 32 random bytes and stores them sealed
 * (frame.c). The reply the idempotency store keeps holds no secret: the
 * handler adds it to the reply after the transaction, from the sealed
 * copy, so a retried Add shows the same secret and no plaintext secret is
 * ever written to the database. For that the id is derived from the
 * idempotency key (a retry names the same subscription). */
#include "webhooks.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meso/access.h"
#include "meso/handler.h"
#include "meso/page.h"

#define SUBS_LIST "webhooks.subs"
#define SUBS_PAGE_DEFAULT 100
#define SUBS_PAGE_MAX 500

/* ----------------------------------------------------------- helpers */

/* A UUID from the idempotency key: a retried Add names the same
 * subscription, which lets the handler find its secret again. */
static void
s_id_from_key (const char *key, char *out)
{
    uint8_t h[16];
    crypto_generichash (h, sizeof h, (const unsigned char *) key, strlen (key),
                        (const unsigned char *) "meso-webhooks-id", 16);
    h[6] = (uint8_t) ((h[6] & 0x0f) | 0x40);
    h[8] = (uint8_t) ((h[8] & 0x3f) | 0x80);
    char hex[33];
    sodium_bin2hex (hex, sizeof hex, h, sizeof h);
    snprintf (out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16, hex + 20);
}

/* ---------------------------------------------------- AddSubscription */

/* What the effect needs beyond the request: the derived id and where
 * each stream ends now (job->in points here). */
typedef struct {
    Meso__V1__AddSubscriptionRequest *in;
    char id[37];
    uint64_t heads[WH_NSTREAMS];
} s_add_t;

static int
s_add_effect (meso_db_t *db, meso_idem_job_t *job)
{
    webhooks_t *self = job->arg;
    const s_add_t *a = job->in;
    Meso__V1__AddSubscriptionRequest *in = a->in;
    char streams[64], types[WH_TYPES_MAX * (WH_TYPE_MAX + 1) + 8];
    frame_array_literal (streams, sizeof streams, in->streams, in->n_streams);
    frame_array_literal (types, sizeof types, in->event_types, in->n_event_types);
    uint8_t secret[WH_SECRET_BYTES], sealed[WH_SECRET_BYTES + WH_SEAL_OVERHEAD];
    randombytes_buf (secret, sizeof secret);
    frame_seal (self->seal, secret, sealed);
    sodium_memzero (secret, sizeof secret);
    const meso_principal_t *p = meso_call_principal ();
    store_sub_new_t s = { a->id, in->clinic_id ? in->clinic_id : "", in->url, streams, types,
                          in->description ? in->description : "", p ? p->name : "",
                          in->include_health, in->insecure_tls, sealed, sizeof sealed };
    if (store_sub_insert (db, &s) != 0)
        return -1;
    for (size_t i = 0; i < in->n_streams; i++) {
        int k = wh_stream_index (in->streams[i]);
        if (store_cursor_set (db, a->id, in->streams[i], in->from_start ? 0 : a->heads[k]) != 0)
            return -1;
    }
    PGresult *res = store_sub_get (db, a->id, false);
    if (!res)
        return -1;
    frame_sub_t f;
    frame_sub_from_row (res, 0, &f);
    Meso__V1__AddSubscriptionReply out = MESO__V1__ADD_SUBSCRIPTION_REPLY__INIT;
    out.subscription = &f.sub;
    meso_reply_ok (job->reply, &out.base);     /* stored without the secret */
    PQclear (res);
    return 0;
}

void
webhooks_add_subscription (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    webhooks_t *self = arg;
    Meso__V1__AddSubscriptionRequest *in = body;
    int bad = 0;
    const char *clinic = in->clinic_id ? in->clinic_id : "";
    if (*clinic)
        meso_handler_need_clinic (reply, &bad, "clinic_id", clinic);
    const char *why = wh_url_problem (in->url);
    if (why) {
        meso_reply_reason (reply, in->url && *in->url ? "invalid_url" : "missing_field", "url", "%s", why);
        bad++;
    }
    if (in->n_streams == 0 || in->n_streams > WH_NSTREAMS) {
        meso_reply_reason (reply, in->n_streams ? "out_of_range" : "missing_field", "streams",
                           "give 1 to 4 streams (session, screening, stock, billing)");
        bad++;
    }
    for (size_t i = 0; i < in->n_streams && i < WH_NSTREAMS; i++) {
        if (wh_stream_index (in->streams[i]) < 0) {
            meso_reply_reason (reply, "invalid_stream", "streams",
                               "stream \"%.32s\" is not one of session, screening, stock, billing",
                               in->streams[i]);
            bad++;
        }
        for (size_t j = 0; j < i; j++)
            if (strcmp (in->streams[i], in->streams[j]) == 0) {
                meso_reply_reason (reply, "duplicate_stream", "streams", "stream %s is listed twice",
                                   in->streams[i]);
                bad++;
            }
    }
    if (in->n_event_types > WH_TYPES_MAX) {
        meso_reply_reason (reply, "out_of_range", "event_types", "give at most 64 event types");
        bad++;
    }
    for (size_t i = 0; !bad && i < in->n_event_types; i++) {
        const char *t = wh_type_problem (in->event_types[i], in->streams, in->n_streams);
        if (t) {
            meso_reply_reason (reply, "invalid_event_type", "event_types", "%s (got \"%.64s\")", t,
                               in->event_types[i]);
            bad++;
        }
    }
    if (in->description && strlen (in->description) > WH_DESCRIPTION_MAX) {
        meso_reply_reason (reply, "out_of_range", "description", "description must be at most 200 bytes");
        bad++;
    }
    if (in->insecure_tls && !self->allow_insecure) {
        meso_reply_reason (reply, "not_allowed", "insecure_tls",
                           "insecure_tls needs the daemon started with MESO_WEBHOOKS_ALLOW_INSECURE_TLS=true "
                           "(test receivers only)");
        bad++;
    }
    if (meso_handler_invalid (reply, bad, req->method))
        return;
    if (meso_call_need_clinic (reply, clinic, "clinic_id") != 0)
        return;
    if (in->include_health && !meso_call_health ()) {
        meso_reply_error (reply, MESO_PERMISSION_DENIED,
                          "include_health needs a caller allowed to see health data");
        meso_reply_reason (reply, "no_health_access", "include_health",
                           "your principal may not see health data, so it cannot subscribe to it");
        return;
    }
    s_add_t a;
    memset (&a, 0, sizeof a);
    s_id_from_key (req->idempotency_key, a.id);
    for (size_t i = 0; !in->from_start && i < in->n_streams; i++)
        if (wh_engine_head (self->engine, wh_stream_index (in->streams[i]),
                            &a.heads[wh_stream_index (in->streams[i])]) != 0) {
            meso_reply_error (reply, MESO_UNAVAILABLE,
                              "the events daemon has not told where the %s stream ends yet",
                              in->streams[i]);
            meso_reply_detail (reply, "a subscription starts at the head of its streams; retry in a "
                                      "moment, or set from_start to deliver the retained log");
            return;
        }
    a.in = in;
    frame_run (self, req, reply, &a, s_add_effect);
    if (meso_reply_status (reply) != MESO_OK)
        return;
    wh_engine_poke (self->engine);
    /* The secret, from the sealed copy (a replayed Add included). */
    PGresult *res = store_sub_get (self->db, a.id, false);
    if (!res || PQntuples (res) != 1) {
        meso_reply_error (reply, MESO_UNAVAILABLE, "the subscription was added; reading it back failed");
        PQclear (res);
        return;
    }
    size_t len = 0;
    unsigned char *sealed = PQunescapeBytea ((const unsigned char *) PQgetvalue (res, 0, SUB_SECRET), &len);
    uint8_t secret[WH_SECRET_BYTES];
    char hex[2 * WH_SECRET_BYTES + 1];
    if (!sealed || frame_unseal (self->seal, sealed, len, secret) != 0) {
        meso_reply_error (reply, MESO_INTERNAL, "the subscription's secret does not open with this "
                                                "daemon's sealing key");
    }
    else {
        sodium_bin2hex (hex, sizeof hex, secret, sizeof secret);
        frame_sub_t f;
        frame_sub_from_row (res, 0, &f);
        Meso__V1__AddSubscriptionReply out = MESO__V1__ADD_SUBSCRIPTION_REPLY__INIT;
        out.subscription = &f.sub;
        out.secret = hex;
        meso_reply_ok (reply, &out.base);
        sodium_memzero (hex, sizeof hex);
        sodium_memzero (secret, sizeof secret);
    }
    PQfreemem (sealed);
    PQclear (res);
}

/* -------------------------------------------------- ListSubscriptions */

void
webhooks_list_subscriptions (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    webhooks_t *self = arg;
    Meso__V1__ListSubscriptionsRequest *in = body;
    int bad = 0;
    const char *clinic = in->clinic_id ? in->clinic_id : "";
    if (*clinic)
        meso_handler_need_clinic (reply, &bad, "clinic_id", clinic);
    meso_page_pos_t pos;
    meso_handler_need_page (reply, &bad, SUBS_LIST, in->page_token, "iu", &pos);
    if (meso_handler_invalid (reply, bad, req->method))
        return;
    if (*clinic) {
        if (meso_call_need_clinic (reply, clinic, "clinic_id") != 0)
            return;
    }
    else
        meso_call_scope_filtered ();
    uint32_t size = meso_page_size (in->page_size, SUBS_PAGE_DEFAULT, SUBS_PAGE_MAX);
    PGresult *res = store_sub_page (self->db, clinic, pos.n ? pos.key[0] : NULL,
                                    pos.n ? pos.key[1] : NULL, (int) size + 1);
    if (!res) {
        meso_reply_db_error (reply, self->db, req->method);
        return;
    }
    size_t fetched = (size_t) PQntuples (res);
    size_t rows = fetched > size ? size : fetched;
    frame_sub_t *f = calloc (rows + 1, sizeof *f);
    Meso__V1__Subscription **ptrs = calloc (rows + 1, sizeof *ptrs);
    int *row_of = calloc (rows + 1, sizeof *row_of);
    if (!f || !ptrs || !row_of) {
        meso_reply_error (reply, MESO_RESOURCE_EXHAUSTED, "out of memory");
        goto done;
    }
    size_t n = 0;
    for (size_t r = 0; r < rows; r++) {
        if (!meso_call_in_clinic (PQgetvalue (res, (int) r, SUB_CLINIC)))
            continue;           /* outside the caller's clinics */
        frame_sub_from_row (res, (int) r, &f[n]);
        ptrs[n] = &f[n].sub;
        row_of[n] = (int) r;
        n++;
    }
    Meso__V1__ListSubscriptionsReply out = MESO__V1__LIST_SUBSCRIPTIONS_REPLY__INIT;
    out.subscriptions = ptrs;
    out.n_subscriptions = n;
    int more = meso_handler_page_fit (reply, &out.base, &out.n_subscriptions, fetched, size);
    if (more < 0)
        goto done;
    char token[MESO_PAGE_TOKEN_MAX] = "";
    /* The token follows the last row examined, shown or not. */
    if (more || out.n_subscriptions < n) {
        int last = out.n_subscriptions < n ? row_of[out.n_subscriptions - 1] : (int) rows - 1;
        const char *keys[] = { PQgetvalue (res, last, SUB_CREATED), PQgetvalue (res, last, SUB_ID) };
        if (meso_handler_page_next (reply, SUBS_LIST, keys, 2, token) != 0)
            goto done;
    }
    out.next_page_token = token;
    meso_reply_ok (reply, &out.base);
done:
    free (f);
    free (ptrs);
    free (row_of);
    PQclear (res);
}

/* -------------------------------------------- Pause, Resume, Remove */

typedef struct {
    const char *id;
    const char *to;             /* the new state */
} s_state_t;

static int
s_state_effect (meso_db_t *db, meso_idem_job_t *job)
{
    const s_state_t *st = job->in;
    PGresult *res = frame_sub_load (db, job->reply, st->id);
    if (!res)
        return -1;
    const char *now = PQgetvalue (res, 0, SUB_STATE);
    int rc = 0;
    if (strcmp (st->to, "active") == 0 && strcmp (now, "parked") == 0) {
        meso_reply_error (job->reply, MESO_FAILED_PRECONDITION, "subscription %s is parked", st->id);
        meso_reply_detail (job->reply, "why: %s", PQgetvalue (res, 0, SUB_PARKED_REASON));
        meso_reply_reason (job->reply, "parked", "subscription_id",
                           "a parked subscription is resumed by replaying its deliveries "
                           "(mesoctl webhooks replay)");
        rc = -1;
    }
    else if (strcmp (now, st->to) != 0)
        rc = store_sub_set_state (db, st->id, st->to, false);
    PQclear (res);
    if (rc != 0)
        return -1;
    res = store_sub_get (db, st->id, false);
    if (!res)
        return -1;
    frame_sub_t f;
    frame_sub_from_row (res, 0, &f);
    Meso__V1__PauseSubscriptionReply out = MESO__V1__PAUSE_SUBSCRIPTION_REPLY__INIT;
    out.subscription = &f.sub;   /* the same shape as ResumeSubscriptionReply */
    meso_reply_ok (job->reply, &out.base);
    PQclear (res);
    return 0;
}

static void
s_set_state (const Meso__V1__Request *req, const char *id, meso_reply_t *reply, webhooks_t *self,
             const char *to)
{
    int bad = 0;
    frame_need_sub_id (reply, &bad, id);
    if (meso_handler_invalid (reply, bad, req->method))
        return;
    s_state_t st = { id, to };
    frame_run (self, req, reply, &st, s_state_effect);
    if (meso_reply_status (reply) == MESO_OK)
        wh_engine_poke (self->engine);
}

void
webhooks_pause_subscription (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    Meso__V1__PauseSubscriptionRequest *in = body;
    s_set_state (req, in->subscription_id, reply, arg, "paused");
}

void
webhooks_resume_subscription (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    Meso__V1__ResumeSubscriptionRequest *in = body;
    s_set_state (req, in->subscription_id, reply, arg, "active");
}

static int
s_remove_effect (meso_db_t *db, meso_idem_job_t *job)
{
    const char *id = job->in;
    PGresult *res = frame_sub_load (db, job->reply, id);
    if (!res)
        return -1;
    PQclear (res);
    if (store_sub_delete (db, id) != 0)
        return -1;
    Meso__V1__RemoveSubscriptionReply out = MESO__V1__REMOVE_SUBSCRIPTION_REPLY__INIT;
    out.subscription_id = (char *) id;
    meso_reply_ok (job->reply, &out.base);
    return 0;
}

void
webhooks_remove_subscription (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    webhooks_t *self = arg;
    Meso__V1__RemoveSubscriptionRequest *in = body;
    int bad = 0;
    frame_need_sub_id (reply, &bad, in->subscription_id);
    if (meso_handler_invalid (reply, bad, req->method))
        return;
    frame_run (self, req, reply, in->subscription_id, s_remove_effect);
    if (meso_reply_status (reply) == MESO_OK)
        wh_engine_poke (self->engine);
}
