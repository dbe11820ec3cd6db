/* reports.c -- what the stock tells: the stock of a clinic
 * ("inventory.GetStock"), what a clinic will need ("inventory.Forecast"),
 * what its stock is worth ("inventory.Valuation", from the lots' unit
 * costs; store_reports.c has the SQL), and the stock.expiring
 * announcement main.c's timer asks for. Recall
 * changes holds, so it is recall.c's.
 *
 * The expiring announcer is here because it changes no stock: it tells
 * the outside about lots (and marks each as told, so it is told once).
 * None of this holds or draws stock, so none of it needs the locked lot
 * set of holds.c, consume.c and recall.c. */
#include "inventory.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meso/handler.h"
#include "meso/mtime.h"
#include "meso/report.h"

/* ------------------------------------------------------------- GetStock */

#define S_STOCK "inventory.GetStock"

void
inventory_get_stock (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    inventory_t *self = arg;
    Meso__V1__GetStockRequest *in = body;
    int bad = 0;
    meso_page_pos_t pos;
    meso_handler_need_clinic (reply, &bad, "clinic_id", in->clinic_id);
    if (in->ingredient_code && *in->ingredient_code)
        meso_handler_need_ingredient (reply, &bad, "ingredient_code", in->ingredient_code);
    meso_handler_need_page (reply, &bad, S_STOCK, in->page_token, "cdis", &pos);
    if (meso_handler_invalid (reply, bad, req->method)
        || frame_clinic (self, reply, "clinic_id", in->clinic_id, NULL) != 0)
        return;
    uint32_t size = meso_page_size (in->page_size, 1000, 2000);
    const char *after[] = { pos.key[0], pos.key[1], pos.key[2], pos.key[3] };
    PGresult *lots = store_stock_lots (self->db, in->clinic_id, in->ingredient_code, in->include_empty,
                                       pos.n ? after : NULL, size + 1);
    PGresult *tot = lots ? store_stock_totals (self->db, in->clinic_id, in->ingredient_code) : NULL;
    if (!lots || !tot) {
        meso_reply_db_error (reply, self->db, "cannot read the stock");
        goto done;
    }
    int fetched = PQntuples (lots), nt = PQntuples (tot);
    int nl = fetched > (int) size ? (int) size : fetched;
    Meso__V1__Lot *la = calloc ((size_t) nl + 1, sizeof *la);
    Meso__V1__Lot **lp = calloc ((size_t) nl + 1, sizeof *lp);
    Meso__V1__StockTotal *ta = calloc ((size_t) nt + 1, sizeof *ta);
    Meso__V1__StockTotal **tp = calloc ((size_t) nt + 1, sizeof *tp);
    if (la && lp && ta && tp) {
        for (int i = 0; i < nl; i++) {
            store_lot_fill (lots, i, &la[i]);
            lp[i] = &la[i];
        }
        for (int i = 0; i < nt; i++) {
            meso__v1__stock_total__init (&ta[i]);
            ta[i].ingredient_code = PQgetvalue (tot, i, 0);
            ta[i].unit = INVENTORY_UNIT (PQgetvalue (tot, i, 1));
            ta[i].on_hand_milli = store_i64 (tot, i, 2);
            ta[i].reserved_milli = store_i64 (tot, i, 3);
            ta[i].available_milli = store_i64 (tot, i, 4);
            ta[i].reorder_point_milli = store_i64 (tot, i, 5);
            ta[i].low = store_i64 (tot, i, 6) != 0;
            tp[i] = &ta[i];
        }
        Meso__V1__GetStockReply out = MESO__V1__GET_STOCK_REPLY__INIT;
        out.n_lots = (size_t) nl;
        out.lots = lp;
        out.n_totals = (size_t) nt;
        out.totals = tp;
        char next[MESO_PAGE_TOKEN_MAX] = "";
        out.next_page_token = next;
        int more = meso_handler_page_fit (reply, &out.base, &out.n_lots, (size_t) fetched, size);
        if (more > 0) {
            int last = (int) out.n_lots - 1;
            const char *k[] = { PQgetvalue (lots, last, 2), PQgetvalue (lots, last, 6),
                                PQgetvalue (lots, last, 12), PQgetvalue (lots, last, 1) };
            if (meso_handler_page_next (reply, S_STOCK, k, 4, next) != 0)
                more = -1;
        }
        if (more >= 0)
            meso_reply_ok (reply, &out.base);
    }
    else
        meso_reply_error (reply, MESO_RESOURCE_EXHAUSTED, "out of memory");
    free (la);
    free (lp);
    free (ta);
    free (tp);
done:
    PQclear (lots);
    PQclear (tot);
}

/* ------------------------------------------------------------- Forecast */

void
inventory_forecast (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    inventory_t *self = arg;
    Meso__V1__ForecastRequest *in = body;
    int bad = 0;
    meso_handler_need_clinic (reply, &bad, "clinic_id", in->clinic_id);
    if (in->horizon_days > 365) {
        meso_reply_reason (reply, "out_of_range", "horizon_days", "horizon_days must be 1 to 365 (0: 28)");
        bad++;
    }
    if (meso_handler_invalid (reply, bad, req->method)
        || frame_clinic (self, reply, "clinic_id", in->clinic_id, NULL) != 0)
        return;
    int horizon = in->horizon_days ? (int) in->horizon_days : 28;
    PGresult *res = store_forecast (self->db, in->clinic_id, horizon);
    if (!res) {
        meso_reply_db_error (reply, self->db, "cannot compute the forecast");
        return;
    }
    int n = PQntuples (res);
    Meso__V1__ForecastLine *fa = calloc ((size_t) n + 1, sizeof *fa);
    Meso__V1__ForecastLine **fp = calloc ((size_t) n + 1, sizeof *fp);
    char from[16] = "", until[16] = "";
    if (fa && fp) {
        int32_t today = frame_today ();
        meso_date_format (today, from, sizeof from);
        meso_date_format (today + horizon, until, sizeof until);
        for (int i = 0; i < n; i++) {
            Meso__V1__ForecastLine *f = &fa[i];
            meso__v1__forecast_line__init (f);
            f->ingredient_code = PQgetvalue (res, i, 0);
            f->unit = INVENTORY_UNIT (PQgetvalue (res, i, 1));
            f->on_hand_milli = store_i64 (res, i, 2);
            f->reserved_milli = store_i64 (res, i, 3);
            f->needed_milli = store_i64 (res, i, 4);
            f->expiring_milli = store_i64 (res, i, 5);
            f->consumed_30d_milli = store_i64 (res, i, 6);
            f->reorder_point_milli = store_i64 (res, i, 7);
            f->remaining_milli = f->on_hand_milli - f->reserved_milli - f->expiring_milli;
            f->projected_milli = f->consumed_30d_milli * horizon / 30;
            /* Bookings already hold their stock; the pace of the last 30
             * days says what is still to come. */
            int64_t after = f->remaining_milli - f->projected_milli;
            f->reorder = after <= 0 || after < f->reorder_point_milli;
            fp[i] = f;
        }
        Meso__V1__ForecastReply out = MESO__V1__FORECAST_REPLY__INIT;
        out.clinic_id = in->clinic_id;
        out.from_date = from;
        out.until_date = until;
        out.n_lines = (size_t) n;
        out.lines = fp;
        meso_reply_ok (reply, &out.base);
    }
    else
        meso_reply_error (reply, MESO_RESOURCE_EXHAUSTED, "out of memory");
    free (fa);
    free (fp);
    PQclear (res);
}

/* ------------------------------------------------------------ Valuation */

/* A date field of a report: present and a date (reasons name it). */
static bool
s_report_day (meso_reply_t *reply, int *bad, const char *field, const char *v, int32_t *day)
{
    if (!v || !*v) {
        meso_reply_reason (reply, "missing_field", field, "required, \"YYYY-MM-DD\"");
        (*bad)++;
        return false;
    }
    if (meso_date_parse (v, day) != 0) {
        meso_reply_reason (reply, "invalid_date", field, "\"%s\" is not a date \"YYYY-MM-DD\"", v);
        (*bad)++;
        return false;
    }
    return true;
}

static Meso__V1__StockValue *
s_measure (const PGresult *res, int r, int m, Meso__V1__StockValue *v, int64_t *total)
{
    meso__v1__stock_value__init (v);
    int col = VAL_MEASURES + 3 * m;
    v->costed_milli = store_i64 (res, r, col);
    /* Thousandths of a cent per thousandth of a unit: one division,
     * half to even, per ingredient and measure. */
    v->value_cents = meso_report_div_half_even (store_i64 (res, r, col + 1), 1000);
    v->uncosted_milli = store_i64 (res, r, col + 2);
    *total += v->value_cents;
    return v;
}

void
inventory_valuation (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    inventory_t *self = arg;
    Meso__V1__ValuationRequest *in = body;
    int bad = 0;
    int32_t from = 0, to = 0, today;
    meso_handler_need_clinic (reply, &bad, "clinic_id", in->clinic_id);
    bool dates = s_report_day (reply, &bad, "from", in->from, &from);
    dates = s_report_day (reply, &bad, "to", in->to, &to) && dates;
    if (in->ingredient_code && *in->ingredient_code)
        meso_handler_need_ingredient (reply, &bad, "ingredient_code", in->ingredient_code);
    if (dates && meso_report_range (from, to, MESO_REPORT_MAX_DAYS, INT32_MAX) != MESO_RANGE_OK) {
        if (to < from)
            meso_reply_reason (reply, "reversed_range", "to", "%s is before from (%s)", in->to, in->from);
        else
            meso_reply_reason (reply, "range_too_long", "to", "at most %d days from from (%s)",
                               MESO_REPORT_MAX_DAYS, in->from);
        bad++;
    }
    const char *tz = NULL;
    if (meso_handler_invalid (reply, bad, req->method)
        || frame_clinic (self, reply, "clinic_id", in->clinic_id, &tz) != 0)
        return;
    if (!tz || !*tz)
        tz = "UTC";
    /* The ledger cannot tell what tomorrow holds: a period ending after
     * the clinic's today is a mistake, not a forecast (Forecast is). */
    if (store_local_today (self->db, tz, &today) != 0) {
        meso_reply_db_error (reply, self->db, "cannot read the clinic's date");
        return;
    }
    if (to > today) {
        char t[16];
        meso_date_format (today, t, sizeof t);
        meso_reply_error (reply, MESO_INVALID_ARGUMENT, "to: %s is after the clinic's today (%s)", in->to, t);
        meso_reply_reason (reply, "in_the_future", "to", "at most %s (local date in %s)", t, tz);
        return;
    }
    PGresult *res = store_valuation (self->db, in->clinic_id, tz, in->from, in->to, in->ingredient_code);
    if (!res) {
        meso_reply_db_error (reply, self->db, "cannot compute the valuation");
        return;
    }
    int n = PQntuples (res);
    Meso__V1__ValuationLine *la = calloc ((size_t) n + 1, sizeof *la);
    Meso__V1__ValuationLine **lp = calloc ((size_t) n + 1, sizeof *lp);
    Meso__V1__StockValue *va = calloc ((size_t) n * 6 + 1, sizeof *va);
    Meso__V1__ValuationReply out = MESO__V1__VALUATION_REPLY__INIT;
    if (la && lp && va) {
        for (int i = 0; i < n; i++) {
            Meso__V1__ValuationLine *l = &la[i];
            Meso__V1__StockValue *v = &va[i * 6];
            meso__v1__valuation_line__init (l);
            l->ingredient_code = PQgetvalue (res, i, VAL_INGREDIENT);
            l->unit = INVENTORY_UNIT (PQgetvalue (res, i, VAL_UNIT));
            l->on_hand = s_measure (res, i, 0, &v[0], &out.on_hand_cents);
            l->reserved = s_measure (res, i, 1, &v[1], &out.reserved_cents);
            l->received = s_measure (res, i, 2, &v[2], &out.received_cents);
            l->consumed = s_measure (res, i, 3, &v[3], &out.consumed_cents);
            l->discarded = s_measure (res, i, 4, &v[4], &out.discarded_cents);
            l->adjusted = s_measure (res, i, 5, &v[5], &out.adjusted_cents);
            l->uncosted_lots = store_i64 (res, i, VAL_UNCOSTED_LOTS);
            out.uncosted_lots += l->uncosted_lots;
            lp[i] = l;
        }
        out.clinic_id = in->clinic_id;
        out.time_zone = (char *) tz;
        out.from = in->from;
        out.to = in->to;
        out.n_lines = (size_t) n;
        out.lines = lp;
        meso_reply_ok (reply, &out.base);
    }
    else
        meso_reply_error (reply, MESO_RESOURCE_EXHAUSTED, "out of memory");
    free (la);
    free (lp);
    free (va);
    PQclear (res);
}

/* ------------------------------------------------------------- expiring */

static int
s_expiring_txn (meso_db_t *db, void *arg)
{
    int *count = arg;
    int limit = *count;
    *count = 0;
    PGresult *res = store_expiring_due (db, limit);
    if (!res)
        return -1;
    for (int i = 0; i < PQntuples (res); i++) {
        Meso__V1__Lot lot;
        store_lot_fill (res, i, &lot);
        Meso__V1__StockExpiring se = MESO__V1__STOCK_EXPIRING__INIT;
        se.lot_id = lot.lot_id;
        se.ingredient_code = lot.ingredient_code;
        se.lot_number = lot.lot_number;
        se.expiry_date = lot.expiry_date;
        se.quantity_milli = lot.available_milli;
        Meso__V1__Event ev = MESO__V1__EVENT__INIT;
        ev.payload_case = MESO__V1__EVENT__PAYLOAD_STOCK_EXPIRING;
        ev.stock_expiring = &se;
        if (meso_handler_emit (db, &ev, "stock.expiring", lot.clinic_id, NULL, &frame_service_actor) != 0
            || store_expiring_mark (db, lot.clinic_id, lot.lot_id) != 0) {
            PQclear (res);
            return -1;
        }
        (*count)++;
    }
    PQclear (res);
    return 0;
}

int
inventory_announce_expiring (inventory_t *self, int limit)
{
    int count = limit;
    if (meso_db_txn (self->db, MESO_DB_READ_COMMITTED, s_expiring_txn, &count) != 0)
        return -1;
    self->expiring_sent += (uint64_t) count;
    return count;
}

