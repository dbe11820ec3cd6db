/* lots.c -- changes to the lots of a clinic one lot at a time:
 * deliveries ("inventory.Receive"), counted corrections ("inventory.Adjust"),
 * the discard of expired stock ("inventory.DiscardExpired"), moves between
 * clinics ("inventory.Transfer"), and the reorder point that says when an
 * ingredient runs low ("inventory.SetReorderPoint").
 *
 * What these share, and what sets them apart from holds.c: they change
 * what is on hand, never what is reserved, and each refuses to take away
 * stock a reservation holds (the locked lot's on hand - reserved). Every
 * one of them ends with the stock.low check of what it touched; that is why
 * SetReorderPoint, which moves the threshold, is here too. Every change is
 * a row of the movement ledger. */
#include "inventory.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meso/handler.h"
#include "meso/mtime.h"

/* -------------------------------------------------------------- Receive */

static int
s_reply_lot (meso_db_t *db, meso_reply_t *reply, const char *clinic, const char *lot_id,
             const char *method)
{
    PGresult *res = store_lot_get (db, clinic, lot_id, false);
    if (!res)
        return -1;
    if (PQntuples (res) != 1) {
        PQclear (res);
        meso_reply_error (reply, MESO_INTERNAL, "lot %s vanished", lot_id);
        return -1;
    }
    Meso__V1__Lot lot;
    store_lot_fill (res, 0, &lot);
    if (strcmp (method, "inventory.Receive") == 0) {
        Meso__V1__ReceiveReply out = MESO__V1__RECEIVE_REPLY__INIT;
        out.lot = &lot;
        meso_reply_ok (reply, &out.base);
    }
    else {
        Meso__V1__AdjustReply out = MESO__V1__ADJUST_REPLY__INIT;
        out.lot = &lot;
        meso_reply_ok (reply, &out.base);
    }
    PQclear (res);
    return 0;
}

static int
s_receive_effect (meso_db_t *db, frame_job_t *job)
{
    Meso__V1__ReceiveRequest *in = job->in;
    PGresult *res = store_ingredient_get (db, in->ingredient_code);
    if (!res)
        return -1;
    if (PQntuples (res) == 0) {
        PQclear (res);
        meso_reply_error (job->reply, MESO_NOT_FOUND, "unknown ingredient \"%s\"", in->ingredient_code);
        meso_reply_reason (job->reply, "unknown_ingredient", "ingredient_code",
                           "add \"%s\" to the catalogue with UpsertIngredient first", in->ingredient_code);
        return -1;
    }
    Meso__V1__Unit unit = INVENTORY_UNIT (PQgetvalue (res, 0, 2));
    PQclear (res);
    char lot_id[40];
    int64_t cost = in->cost_case == MESO__V1__RECEIVE_REQUEST__COST_UNIT_COST_CENTS ? in->unit_cost_cents : -1;
    int rc = store_lot_receive (db, in->clinic_id, in->ingredient_code, in->lot_number,
                                in->supplier, in->expiry_date, in->quantity_milli, cost, lot_id);
    if (rc < 0)
        return -1;
    if (rc == 2) {
        meso_reply_error (job->reply, MESO_FAILED_PRECONDITION,
                          "lot %s of %s is already in clinic %s with another unit cost",
                          in->lot_number, in->ingredient_code, in->clinic_id);
        meso_reply_reason (job->reply, "cost_mismatch", "unit_cost_cents",
                           "a lot has one cost: leave it out to add to the lot at its cost");
        return -1;
    }
    if (rc == 0) {
        meso_reply_error (job->reply, MESO_FAILED_PRECONDITION,
                          "lot %s of %s is already in clinic %s with another expiry date",
                          in->lot_number, in->ingredient_code, in->clinic_id);
        meso_reply_reason (job->reply, "expiry_mismatch", "expiry_date",
                           "check the lot number and expiry date on the delivery");
        return -1;
    }
    if (store_movement (db, in->clinic_id, lot_id, "receive", in->quantity_milli, NULL,
                        in->supplier) != 0)
        return -1;
    Meso__V1__StockReceived ev_in = MESO__V1__STOCK_RECEIVED__INIT;
    ev_in.lot_id = lot_id;
    ev_in.ingredient_code = in->ingredient_code;
    ev_in.lot_number = in->lot_number;
    ev_in.supplier = in->supplier;
    ev_in.expiry_date = in->expiry_date;
    ev_in.unit = unit;
    ev_in.quantity_milli = in->quantity_milli;
    Meso__V1__Event ev = MESO__V1__EVENT__INIT;
    ev.payload_case = MESO__V1__EVENT__PAYLOAD_STOCK_RECEIVED;
    ev.stock_received = &ev_in;
    if (meso_handler_emit (db, &ev, "stock.received", in->clinic_id,
                           job->req->actor, &frame_service_actor) != 0
        || frame_low_check (db, in->clinic_id, in->ingredient_code, unit) < 0)
        return -1;
    return s_reply_lot (db, job->reply, in->clinic_id, lot_id, job->req->method);
}

void
inventory_receive (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    Meso__V1__ReceiveRequest *in = body;
    int bad = 0;
    int32_t expiry;
    meso_handler_need_clinic (reply, &bad, "clinic_id", in->clinic_id);
    meso_handler_need_ingredient (reply, &bad, "ingredient_code", in->ingredient_code);
    meso_handler_need_text (reply, &bad, "lot_number", in->lot_number, 128);
    frame_may_text (reply, &bad, "supplier", in->supplier, TEXT_MAX);
    if (frame_need_date (reply, &bad, "expiry_date", in->expiry_date, &expiry) && expiry < frame_today ()) {
        meso_reply_reason (reply, "expired", "expiry_date",
                           "the lot expired on %s: an expired delivery cannot be received",
                           in->expiry_date);
        bad++;
    }
    frame_need_qty (reply, &bad, "quantity_milli", in->quantity_milli);
    if (in->cost_case == MESO__V1__RECEIVE_REQUEST__COST_UNIT_COST_CENTS
        && (in->unit_cost_cents < 0 || in->unit_cost_cents > VALUATION_COST_MAX)) {
        meso_reply_reason (reply, "out_of_range", "unit_cost_cents",
                           "cents per unit, 0..%d (leave it out when unknown)", VALUATION_COST_MAX);
        bad++;
    }
    if (!meso_handler_invalid (reply, bad, req->method)
        && frame_clinic (arg, reply, "clinic_id", in->clinic_id, NULL) == 0)
        frame_run (arg, req, reply, in, s_receive_effect);
}

/* --------------------------------------------------------------- Adjust */

static int
s_adjust_effect (meso_db_t *db, frame_job_t *job)
{
    Meso__V1__AdjustRequest *in = job->in;
    PGresult *res = store_lot_get (db, in->clinic_id, in->lot_id, true);
    if (!res)
        return -1;
    if (PQntuples (res) == 0) {
        PQclear (res);
        meso_reply_error (job->reply, MESO_NOT_FOUND, "no lot %s in clinic %s", in->lot_id,
                          in->clinic_id);
        return -1;
    }
    int64_t on_hand = store_i64 (res, 0, LOT_ON_HAND), reserved = store_i64 (res, 0, LOT_RESERVED);
    char ingredient[ID_MAX + 1];
    snprintf (ingredient, sizeof ingredient, "%s", PQgetvalue (res, 0, LOT_INGREDIENT));
    Meso__V1__Unit unit = INVENTORY_UNIT (PQgetvalue (res, 0, LOT_UNIT));
    PQclear (res);
    if (on_hand + in->delta_milli < reserved) {
        meso_reply_error (job->reply, MESO_FAILED_PRECONDITION,
                          "adjusting lot %s by %" PRId64 " would leave %" PRId64
                          " on hand, below the %" PRId64 " reserved",
                          in->lot_id, in->delta_milli, on_hand + in->delta_milli, reserved);
        meso_reply_detail (job->reply, "release or move the reservations first");
        return -1;
    }
    if (store_lot_change (db, in->clinic_id, in->lot_id, in->delta_milli, 0) != 0
        || store_movement (db, in->clinic_id, in->lot_id, "adjust", in->delta_milli, NULL,
                           in->reason) != 0
        || frame_low_check (db, in->clinic_id, ingredient, unit) < 0)
        return -1;
    return s_reply_lot (db, job->reply, in->clinic_id, in->lot_id, job->req->method);
}

void
inventory_adjust (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    Meso__V1__AdjustRequest *in = body;
    int bad = 0;
    meso_handler_need_clinic (reply, &bad, "clinic_id", in->clinic_id);
    meso_handler_need_text (reply, &bad, "lot_id", in->lot_id, ID_MAX);
    meso_handler_need_text (reply, &bad, "reason", in->reason, TEXT_MAX);
    if (in->delta_milli == 0 || in->delta_milli > QTY_MAX || in->delta_milli < -QTY_MAX) {
        meso_reply_reason (reply, "out_of_range", "delta_milli",
                           "delta_milli must be non-zero and at most %" PRId64 " in size", QTY_MAX);
        bad++;
    }
    if (!meso_handler_invalid (reply, bad, req->method)
        && frame_clinic (arg, reply, "clinic_id", in->clinic_id, NULL) == 0)
        frame_run (arg, req, reply, in, s_adjust_effect);
}

/* ------------------------------------------------------- DiscardExpired */

typedef struct {
    Meso__V1__DiscardExpiredRequest *in;
    bool given;                 /* as_of was given (else: the clinic's today) */
    int32_t as_of_day;
    char as_of[16];
    const char *tz;             /* the clinic's time zone */
} s_discard_t;

/* The clinic's local today decides, not the daemon's clock: in a clinic
 * east of UTC tomorrow (UTC) may already be today, and a date past the
 * clinic's today would discard lots still good to use. */
static int
s_discard_as_of (meso_db_t *db, s_discard_t *d, meso_reply_t *reply)
{
    int32_t today;
    if (store_local_today (db, d->tz, &today) != 0)
        return -1;
    if (!d->given)
        d->as_of_day = today;
    char today_s[16];
    meso_date_format (today, today_s, sizeof today_s);
    meso_date_format (d->as_of_day, d->as_of, sizeof d->as_of);
    if (stock_discard_as_of_ok (d->as_of_day, today))
        return 0;
    meso_reply_error (reply, MESO_INVALID_ARGUMENT,
                      "as_of %s is after today (%s) in clinic %s", d->as_of, today_s,
                      d->in->clinic_id);
    meso_reply_detail (reply, "DiscardExpired takes the lots that expired before as_of; a later "
                              "date would discard stock still good on %s (time zone %s)",
                       today_s, d->tz);
    meso_reply_reason (reply, "in_the_future", "as_of",
                       "give a date up to %s, or leave as_of empty for the clinic's today", today_s);
    return -1;
}

static int
s_discard_effect (meso_db_t *db, frame_job_t *job)
{
    s_discard_t *d = job->in;
    if (s_discard_as_of (db, d, job->reply) != 0)
        return -1;
    PGresult *res = store_lots_expired_lock (db, d->in->clinic_id, d->as_of);
    if (!res)
        return -1;
    int n = PQntuples (res);
    Meso__V1__Lot *lots = calloc ((size_t) n + 1, sizeof *lots);
    Meso__V1__Lot **lp = calloc ((size_t) n + 1, sizeof *lp);
    Meso__V1__IngredientAmount *am = calloc ((size_t) n + 1, sizeof *am);
    Meso__V1__IngredientAmount **ap = calloc ((size_t) n + 1, sizeof *ap);
    int rc = lots && lp && am && ap ? 0 : -1;
    for (int i = 0; rc == 0 && i < n; i++) {
        store_lot_fill (res, i, &lots[i]);
        int64_t gone = lots[i].on_hand_milli - lots[i].reserved_milli;
        if (store_lot_change (db, d->in->clinic_id, lots[i].lot_id, -gone, 0) != 0
            || store_movement (db, d->in->clinic_id, lots[i].lot_id, "discard", -gone, NULL,
                               "expired") != 0) {
            rc = -1;
            break;
        }
        lots[i].on_hand_milli -= gone;
        lots[i].available_milli = 0;
        meso__v1__ingredient_amount__init (&am[i]);
        am[i].ingredient_code = lots[i].ingredient_code;
        am[i].unit = lots[i].unit;
        am[i].amount_milli = gone;
        am[i].lot_id = lots[i].lot_id;
        am[i].lot_number = lots[i].lot_number;
        lp[i] = &lots[i];
        ap[i] = &am[i];
    }
    /* What is usable falls, as with any other removal: check the reorder
     * points after every lot, so the event carries the final figure. */
    for (int i = 0; rc == 0 && i < n; i++)
        if (frame_low_check (db, d->in->clinic_id, lots[i].ingredient_code, lots[i].unit) < 0)
            rc = -1;
    if (rc == 0) {
        Meso__V1__DiscardExpiredReply out = MESO__V1__DISCARD_EXPIRED_REPLY__INIT;
        out.n_lots = (size_t) n;
        out.lots = lp;
        out.n_discarded = (size_t) n;
        out.discarded = ap;
        meso_reply_ok (job->reply, &out.base);
    }
    free (lots);
    free (lp);
    free (am);
    free (ap);
    PQclear (res);
    return rc;
}

void
inventory_discard_expired (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    Meso__V1__DiscardExpiredRequest *in = body;
    int bad = 0;
    s_discard_t d = { in, false, 0, "", "UTC" };
    meso_handler_need_clinic (reply, &bad, "clinic_id", in->clinic_id);
    if (in->as_of && *in->as_of)
        d.given = frame_need_date (reply, &bad, "as_of", in->as_of, &d.as_of_day);
    if (!meso_handler_invalid (reply, bad, req->method)
        && frame_clinic (arg, reply, "clinic_id", in->clinic_id, &d.tz) == 0)
        frame_run (arg, req, reply, &d, s_discard_effect);
}

/* ------------------------------------------------------------- Transfer */

static int
s_transfer_effect (meso_db_t *db, frame_job_t *job)
{
    Meso__V1__TransferRequest *in = job->in;
    PGresult *res = store_lot_get (db, in->from_clinic_id, in->lot_id, true);
    if (!res)
        return -1;
    if (PQntuples (res) == 0) {
        PQclear (res);
        meso_reply_error (job->reply, MESO_NOT_FOUND, "no lot %s in clinic %s", in->lot_id,
                          in->from_clinic_id);
        return -1;
    }
    Meso__V1__Lot from;
    store_lot_fill (res, 0, &from);
    int rc = -1;
    char to_id[40];
    if (from.recalled) {
        meso_reply_error (job->reply, MESO_FAILED_PRECONDITION, "lot %s is recalled: it cannot move",
                          in->lot_id);
        goto done;
    }
    if (from.available_milli < in->quantity_milli) {
        meso_reply_error (job->reply, MESO_RESOURCE_EXHAUSTED,
                          "lot %s has %" PRId64 " available, %" PRId64 " asked",
                          in->lot_id, from.available_milli, in->quantity_milli);
        meso_reply_reason (job->reply, "insufficient_stock", "quantity_milli",
                           "at most %" PRId64 " can move (the rest is reserved)", from.available_milli);
        goto done;
    }
    /* The cost travels with the stock. */
    int64_t cost = from.cost_case == MESO__V1__LOT__COST_UNIT_COST_CENTS ? from.unit_cost_cents : -1;
    int got = store_lot_receive (db, in->to_clinic_id, from.ingredient_code, from.lot_number,
                                 from.supplier, from.expiry_date, in->quantity_milli, cost, to_id);
    if (got < 0)
        goto done;
    if (got == 0) {
        meso_reply_error (job->reply, MESO_FAILED_PRECONDITION,
                          "clinic %s holds lot number %s of %s with another expiry date",
                          in->to_clinic_id, from.lot_number, from.ingredient_code);
        goto done;
    }
    if (got == 2) {
        meso_reply_error (job->reply, MESO_FAILED_PRECONDITION,
                          "clinic %s holds lot number %s of %s at another unit cost",
                          in->to_clinic_id, from.lot_number, from.ingredient_code);
        goto done;
    }
    if (store_lot_change (db, in->from_clinic_id, in->lot_id, -in->quantity_milli, 0) != 0
        || store_movement (db, in->from_clinic_id, in->lot_id, "transfer_out", -in->quantity_milli,
                           NULL, in->reason) != 0
        || store_movement (db, in->to_clinic_id, to_id, "transfer_in", in->quantity_milli, NULL,
                           in->reason) != 0
        || frame_low_check (db, in->from_clinic_id, from.ingredient_code, from.unit) < 0
        || frame_low_check (db, in->to_clinic_id, from.ingredient_code, from.unit) < 0)
        goto done;
    PGresult *a = store_lot_get (db, in->from_clinic_id, in->lot_id, false);
    PGresult *b = a ? store_lot_get (db, in->to_clinic_id, to_id, false) : NULL;
    if (a && b && PQntuples (a) == 1 && PQntuples (b) == 1) {
        Meso__V1__Lot la, lb;
        store_lot_fill (a, 0, &la);
        store_lot_fill (b, 0, &lb);
        Meso__V1__TransferReply out = MESO__V1__TRANSFER_REPLY__INIT;
        out.from_lot = &la;
        out.to_lot = &lb;
        meso_reply_ok (job->reply, &out.base);
        rc = 0;
    }
    PQclear (a);
    PQclear (b);
done:
    PQclear (res);
    return rc;
}

void
inventory_transfer (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    Meso__V1__TransferRequest *in = body;
    int bad = 0;
    meso_handler_need_clinic (reply, &bad, "from_clinic_id", in->from_clinic_id);
    meso_handler_need_clinic (reply, &bad, "to_clinic_id", in->to_clinic_id);
    meso_handler_need_text (reply, &bad, "lot_id", in->lot_id, ID_MAX);
    frame_need_qty (reply, &bad, "quantity_milli", in->quantity_milli);
    frame_may_text (reply, &bad, "reason", in->reason, TEXT_MAX);
    if (in->from_clinic_id && in->to_clinic_id && *in->from_clinic_id
        && strcmp (in->from_clinic_id, in->to_clinic_id) == 0) {
        meso_reply_reason (reply, "same_clinic", "to_clinic_id",
                           "a transfer needs two different clinics (both are %.64s)", in->to_clinic_id);
        bad++;
    }
    if (!meso_handler_invalid (reply, bad, req->method)
        && frame_clinic (arg, reply, "from_clinic_id", in->from_clinic_id, NULL) == 0
        && frame_clinic (arg, reply, "to_clinic_id", in->to_clinic_id, NULL) == 0)
        frame_run (arg, req, reply, in, s_transfer_effect);
}

/* ------------------------------------------------------ SetReorderPoint */

static int
s_reorder_effect (meso_db_t *db, frame_job_t *job)
{
    Meso__V1__SetReorderPointRequest *in = job->in;
    PGresult *res = store_ingredient_get (db, in->ingredient_code);
    if (!res)
        return -1;
    int found = PQntuples (res);
    Meso__V1__Unit unit = MESO__V1__UNIT__UNIT_UNSPECIFIED;
    if (found)
        unit = INVENTORY_UNIT (PQgetvalue (res, 0, 2));
    PQclear (res);
    if (!found) {
        meso_reply_error (job->reply, MESO_NOT_FOUND, "unknown ingredient \"%s\"", in->ingredient_code);
        return -1;
    }
    uint32_t days = in->expiring_warn_days ? in->expiring_warn_days : 30;
    if (store_reorder_set (db, in->clinic_id, in->ingredient_code, in->reorder_point_milli, days) != 0
        || frame_low_check (db, in->clinic_id, in->ingredient_code, unit) < 0)
        return -1;
    Meso__V1__SetReorderPointReply out = MESO__V1__SET_REORDER_POINT_REPLY__INIT;
    out.clinic_id = in->clinic_id;
    out.ingredient_code = in->ingredient_code;
    out.reorder_point_milli = in->reorder_point_milli;
    out.expiring_warn_days = days;
    meso_reply_ok (job->reply, &out.base);
    return 0;
}

void
inventory_set_reorder_point (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    Meso__V1__SetReorderPointRequest *in = body;
    int bad = 0;
    meso_handler_need_clinic (reply, &bad, "clinic_id", in->clinic_id);
    meso_handler_need_ingredient (reply, &bad, "ingredient_code", in->ingredient_code);
    if (in->reorder_point_milli < 0 || in->reorder_point_milli > QTY_MAX) {
        meso_reply_reason (reply, "out_of_range", "reorder_point_milli",
                           "reorder_point_milli must be 0 to %" PRId64, QTY_MAX);
        bad++;
    }
    if (in->expiring_warn_days > 365) {
        meso_reply_reason (reply, "out_of_range", "expiring_warn_days",
                           "expiring_warn_days must be 1 to 365 (0: 30)");
        bad++;
    }
    if (!meso_handler_invalid (reply, bad, req->method)
        && frame_clinic (arg, reply, "clinic_id", in->clinic_id, NULL) == 0)
        frame_run (arg, req, reply, in, s_reorder_effect);
}

