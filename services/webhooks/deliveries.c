/* deliveries.c -- webhooks.ReplayDeliveries and webhooks.ListDeliveries:
 * what an operator does about a parked subscription.
 *
 * A subscription parks on one event (the one after its cursor in one
 * stream), with the record of every failed attempt; nothing moves until
 * an operator, having fixed the receiver, replays: the subscription is
 * active again with its failures cleared, and that event is the first
 * sent. With a stream and from_seq the cursor is set back (or forward)
 * first, for a receiver that lost what it had acknowledged. The version
 * moves, so the delivering instance drops its copy and starts again from
 * the stored cursor. */
#include "webhooks.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meso/access.h"
#include "meso/handler.h"
#include "meso/page.h"

#define DELIVERIES_LIST "webhooks.deliveries"
#define DELIVERIES_PAGE_DEFAULT 100
#define DELIVERIES_PAGE_MAX 500

/* --------------------------------------------------- ReplayDeliveries */

static int
s_replay_effect (meso_db_t *db, meso_idem_job_t *job)
{
    Meso__V1__ReplayDeliveriesRequest *in = job->in;
    PGresult *res = frame_sub_load (db, job->reply, in->subscription_id);
    if (!res)
        return -1;
    bool follows = !(in->stream && *in->stream);
    if (!follows) {
        char buf[64], *streams[WH_NSTREAMS];
        size_t n = frame_split_array (PQgetvalue (res, 0, SUB_STREAMS), buf, sizeof buf, streams,
                                      WH_NSTREAMS);
        for (size_t i = 0; i < n; i++)
            follows = follows || strcmp (streams[i], in->stream) == 0;
    }
    PQclear (res);
    if (!follows) {
        meso_reply_error (job->reply, MESO_FAILED_PRECONDITION,
                          "subscription %s does not follow the %s stream", in->subscription_id, in->stream);
        meso_reply_reason (job->reply, "not_followed", "stream", "name a stream of the subscription");
        return -1;
    }
    if (in->stream && *in->stream
        && store_cursor_set (db, in->subscription_id, in->stream, in->from_seq - 1) != 0)
        return -1;
    if (store_sub_set_state (db, in->subscription_id, "active", true) != 0)
        return -1;
    res = store_sub_get (db, in->subscription_id, false);
    if (!res)
        return -1;
    frame_sub_t f;
    frame_sub_from_row (res, 0, &f);
    Meso__V1__ReplayDeliveriesReply out = MESO__V1__REPLAY_DELIVERIES_REPLY__INIT;
    out.subscription = &f.sub;
    meso_reply_ok (job->reply, &out.base);
    PQclear (res);
    return 0;
}

void
webhooks_replay_deliveries (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    webhooks_t *self = arg;
    Meso__V1__ReplayDeliveriesRequest *in = body;
    int bad = 0;
    frame_need_sub_id (reply, &bad, in->subscription_id);
    bool has_stream = in->stream && *in->stream;
    if (has_stream && wh_stream_index (in->stream) < 0) {
        meso_reply_reason (reply, "invalid_stream", "stream",
                           "stream must be one of session, screening, stock, billing");
        bad++;
    }
    if (has_stream != (in->from_seq > 0)) {
        meso_reply_reason (reply, "missing_field", has_stream ? "from_seq" : "stream",
                           "stream and from_seq (1 or more) go together");
        bad++;
    }
    if (meso_handler_invalid (reply, bad, req->method))
        return;
    frame_run (self, req, reply, in, s_replay_effect);
    if (meso_reply_status (reply) == MESO_OK)
        wh_engine_poke (self->engine);
}

/* ----------------------------------------------------- ListDeliveries */

static Meso__V1__DeliveryOutcome
s_outcome (const char *s)
{
    if (strcmp (s, "delivered") == 0)
        return MESO__V1__DELIVERY_OUTCOME__DELIVERY_OUTCOME_DELIVERED;
    if (strcmp (s, "failed") == 0)
        return MESO__V1__DELIVERY_OUTCOME__DELIVERY_OUTCOME_FAILED;
    if (strcmp (s, "parked") == 0)
        return MESO__V1__DELIVERY_OUTCOME__DELIVERY_OUTCOME_PARKED;
    return MESO__V1__DELIVERY_OUTCOME__DELIVERY_OUTCOME_UNSPECIFIED;
}

void
webhooks_list_deliveries (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    webhooks_t *self = arg;
    Meso__V1__ListDeliveriesRequest *in = body;
    int bad = 0;
    bool one = in->subscription_id && *in->subscription_id;
    if (one)
        frame_need_sub_id (reply, &bad, in->subscription_id);
    meso_page_pos_t pos;
    meso_handler_need_page (reply, &bad, DELIVERIES_LIST, in->page_token, "i", &pos);
    if (meso_handler_invalid (reply, bad, req->method))
        return;
    if (one) {
        PGresult *sub = store_sub_get (self->db, in->subscription_id, false);
        if (!sub) {
            meso_reply_db_error (reply, self->db, req->method);
            return;
        }
        int found = PQntuples (sub);
        int rc = found ? meso_call_need_clinic (reply, PQgetvalue (sub, 0, SUB_CLINIC), "subscription_id") : 0;
        PQclear (sub);
        if (!found) {
            meso_reply_error (reply, MESO_NOT_FOUND, "no subscription %s", in->subscription_id);
            return;
        }
        if (rc != 0)
            return;
    }
    else
        meso_call_scope_filtered ();
    uint32_t size = meso_page_size (in->page_size, DELIVERIES_PAGE_DEFAULT, DELIVERIES_PAGE_MAX);
    PGresult *res = store_delivery_page (self->db, one ? in->subscription_id : NULL, in->parked,
                                         pos.n ? pos.key[0] : NULL, (int) size + 1);
    if (!res) {
        meso_reply_db_error (reply, self->db, req->method);
        return;
    }
    size_t fetched = (size_t) PQntuples (res);
    size_t rows = fetched > size ? size : fetched;
    Meso__V1__Delivery *d = calloc (rows + 1, sizeof *d);
    Meso__V1__Delivery **ptrs = calloc (rows + 1, sizeof *ptrs);
    int *row_of = calloc (rows + 1, sizeof *row_of);
    if (!d || !ptrs || !row_of) {
        meso_reply_error (reply, MESO_RESOURCE_EXHAUSTED, "out of memory");
        goto done;
    }
    size_t n = 0;
    for (size_t r = 0; r < rows; r++) {
        int i = (int) r;
        if (!meso_call_in_clinic (PQgetvalue (res, i, 12)))
            continue;
        Meso__V1__Delivery *m = &d[n];
        meso__v1__delivery__init (m);
        m->delivery_id = strtoull (PQgetvalue (res, i, 0), NULL, 10);
        m->subscription_id = PQgetvalue (res, i, 1);
        m->event_id = PQgetvalue (res, i, 2);
        m->event_type = PQgetvalue (res, i, 3);
        m->stream = PQgetvalue (res, i, 4);
        m->stream_seq = strtoull (PQgetvalue (res, i, 5), NULL, 10);
        m->attempt = (uint32_t) strtoul (PQgetvalue (res, i, 6), NULL, 10);
        m->outcome = s_outcome (PQgetvalue (res, i, 7));
        m->http_status = (uint32_t) strtoul (PQgetvalue (res, i, 8), NULL, 10);
        m->error = PQgetvalue (res, i, 9);
        m->at_us = strtoll (PQgetvalue (res, i, 10), NULL, 10);
        m->duration_ms = (uint32_t) strtoul (PQgetvalue (res, i, 11), NULL, 10);
        ptrs[n] = m;
        row_of[n] = i;
        n++;
    }
    Meso__V1__ListDeliveriesReply out = MESO__V1__LIST_DELIVERIES_REPLY__INIT;
    out.deliveries = ptrs;
    out.n_deliveries = n;
    int more = meso_handler_page_fit (reply, &out.base, &out.n_deliveries, fetched, size);
    if (more < 0)
        goto done;
    char token[MESO_PAGE_TOKEN_MAX] = "";
    if (more || out.n_deliveries < n) {
        int last = out.n_deliveries < n ? row_of[out.n_deliveries - 1] : (int) rows - 1;
        const char *keys[] = { PQgetvalue (res, last, 0) };
        if (meso_handler_page_next (reply, DELIVERIES_LIST, keys, 1, token) != 0)
            goto done;
    }
    out.next_page_token = token;
    meso_reply_ok (reply, &out.base);
done:
    free (d);
    free (ptrs);
    free (row_of);
    PQclear (res);
}
