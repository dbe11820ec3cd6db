/* cmd_inventory.c -- "mesoctl inventory ...": a clinic's stock room from
 * the command line.
 *
 *     mesoctl inventory receive  --clinic C --ingredient I --lot N --expiry YYYY-MM-DD
 *                                --qty 12.5 [--supplier S] [--cost 0.03]
 *     mesoctl inventory stock    --clinic C [--ingredient I] [--empty] [--all]
 *     mesoctl inventory transfer --from C1 --to C2 --lot-id ID --qty Q [--reason R]
 *     mesoctl inventory recall   (--lot-id ID | --ingredient I --lot N) [--clinic C] --reason R
 *     mesoctl inventory at-risk  --clinic C [--from YYYY-MM-DD]
 *     mesoctl inventory hold     --clinic C --appointment A
 *     mesoctl inventory forecast --clinic C [--days 28]
 *     mesoctl inventory ingredient --code C --name N --unit mg|ml [--form F]
 *     mesoctl inventory ingredients [--codes C1,C2] [--after C] [--limit N]
 *     mesoctl inventory recipe   --recipe R --name N --lines area:ingredient:qty,...
 *
 * receive, ingredient, recipe and recall take --key K (a fixed idempotency
 * key, so a script can run them again without effect; without it a fresh
 * one each run); transfer sends a fresh one each run. Every subcommand takes --timeout.
 *
 * Quantities are typed and shown in the ingredient's unit with up to three
 * decimals ("12.5" mg); on the wire they are integer thousandths, turned
 * over by qty.c, exact decimal, never a float. Every subcommand prints a
 * readable table, or with --json the reply message as JSON with every
 * field of proto/meso/v1/inventory.proto. A refusal prints the method, its
 * message and every reason, and exits 1.
 *
 * The stock room's daily subcommands share the lot table's layout
 * (s_lot_row) in this file; corrections (adjust, discard-expired,
 * reorder-point, recipe-show) are in cmd_inventory_lots.c and the holds
 * only services make (reserve, release, redate, consume) in
 * cmd_inventory_holds.c, so each file stays under 600 lines. */
#include <stdio.h>
#include <string.h>

#include "inventory.pb-c.h"
#include "meso/money.h"
#include "mesoctl.h"
#include "qty.h"

/* The daemon as every subcommand reaches it: services.c. */
#define s_service mesoctl_inventory_service

static void
s_lot_header (void)
{
    printf ("%-10s %-14s %-14s %-11s %12s %12s %12s %-4s %-36s %s\n", "CLINIC", "INGREDIENT", "LOT",
            "EXPIRY", "ON HAND", "RESERVED", "AVAILABLE", "UNIT", "LOT ID", "NOTE");
}

static void
s_lot_row (const Meso__V1__Lot *l)
{
    char a[32], b[32], c[32];
    printf ("%-10s %-14s %-14s %-11s %12s %12s %12s %-4s %-36s %s\n", l->clinic_id, l->ingredient_code,
            l->lot_number, l->expiry_date, mesoctl_qty_format (l->on_hand_milli, a, sizeof a),
            mesoctl_qty_format (l->reserved_milli, b, sizeof b), mesoctl_qty_format (l->available_milli, c, sizeof c),
            meso_enum_str (&meso__v1__unit__descriptor, (int) l->unit),
            l->lot_id, l->recalled ? "RECALLED" : "");
}

/* ------------------------------------------------------------ receive */

static const meso_opt_t s_receive_opts[] = {
    { "clinic", NULL, NULL, "clinic id", NULL },
    { "ingredient", NULL, NULL, "ingredient code, e.g. caffeine", NULL },
    { "lot", NULL, NULL, "supplier's lot number", NULL },
    { "expiry", NULL, NULL, "expiry date YYYY-MM-DD", NULL },
    { "qty", NULL, NULL, "quantity in the ingredient's unit, e.g. 250 or 12.5", NULL },
    { "supplier", NULL, "", "supplier name", NULL },
    { "cost", NULL, "", "cost of one unit (mg or ml) in the clinic's currency, e.g. 0.03 (empty: uncosted)",
      NULL },
    MESOCTL_OPT_END
};

static int
s_receive (meso_opt_t *opts)
{
    int rc;
    int64_t qty = 0;
    const char *q = meso_config_get (opts, "qty");
    if (q && mesoctl_qty_parse (q, &qty) != 0) {
        fprintf (stderr, "mesoctl: --qty must be a number with at most 3 decimals (got \"%s\")\n", q);
        return MESOCTL_USAGE;
    }
    Meso__V1__ReceiveRequest rq = MESO__V1__RECEIVE_REQUEST__INIT;
    rq.clinic_id = (char *) (meso_config_get (opts, "clinic") ? meso_config_get (opts, "clinic") : "");
    rq.ingredient_code = (char *) (meso_config_get (opts, "ingredient") ? meso_config_get (opts, "ingredient") : "");
    rq.lot_number = (char *) (meso_config_get (opts, "lot") ? meso_config_get (opts, "lot") : "");
    rq.expiry_date = (char *) (meso_config_get (opts, "expiry") ? meso_config_get (opts, "expiry") : "");
    rq.supplier = (char *) meso_config_get (opts, "supplier");
    rq.quantity_milli = qty;
    const char *cost = meso_config_get (opts, "cost");
    if (cost && *cost) {
        if (meso_money_parse (cost, &rq.unit_cost_cents) != 0) {
            fprintf (stderr, "mesoctl: --cost must be an amount with at most 2 decimals (got \"%s\")\n", cost);
            return MESOCTL_USAGE;
        }
        rq.cost_case = MESO__V1__RECEIVE_REQUEST__COST_UNIT_COST_CENTS;
    }
    ProtobufCMessage *msg = NULL;
    if ((rc = mesoctl_call (&s_service, opts, "inventory.Receive", &rq.base, true,
                            &meso__v1__receive_reply__descriptor, &msg)) != 0)
        return rc;
    Meso__V1__ReceiveReply *out = (Meso__V1__ReceiveReply *) msg;
    if (!meso_config_bool (opts, "json") && out->lot) {
        s_lot_header ();
        s_lot_row (out->lot);
    }
    protobuf_c_message_free_unpacked (msg, NULL);
    return MESOCTL_OK;
}

/* -------------------------------------------------------------- stock */

static const meso_opt_t s_stock_opts[] = {
    { "clinic", NULL, NULL, "clinic id", NULL },
    { "ingredient", NULL, "", "only this ingredient", NULL },
    { "empty", NULL, "false", "also list empty lots", NULL },
    MESOCTL_PAGE_OPTS,
    MESOCTL_OPT_END
};

/* A page of the stock: the totals and the lot table's header on the
 * first page, then the lots of each page. */
static void
s_stock_page (const ProtobufCMessage *m, int page, void *arg)
{
    (void) arg;
    const Meso__V1__GetStockReply *out = (const Meso__V1__GetStockReply *) m;
    if (page == 0) {
        printf ("%-14s %-4s %12s %12s %12s %12s %s\n", "INGREDIENT", "UNIT", "ON HAND", "RESERVED",
                "AVAILABLE", "REORDER AT", "");
        for (size_t i = 0; i < out->n_totals; i++) {
            const Meso__V1__StockTotal *t = out->totals[i];
            char a[32], b[32], c[32], d[32];
            printf ("%-14s %-4s %12s %12s %12s %12s %s\n", t->ingredient_code, meso_enum_str (&meso__v1__unit__descriptor, (int) t->unit),
                    mesoctl_qty_format (t->on_hand_milli, a, sizeof a), mesoctl_qty_format (t->reserved_milli, b, sizeof b),
                    mesoctl_qty_format (t->available_milli, c, sizeof c),
                    t->reorder_point_milli ? mesoctl_qty_format (t->reorder_point_milli, d, sizeof d) : "-",
                    t->low ? "LOW" : "");
        }
        printf ("\n");
        s_lot_header ();
    }
    for (size_t i = 0; i < out->n_lots; i++)
        s_lot_row (out->lots[i]);
}

static int
s_stock (meso_opt_t *opts)
{
    Meso__V1__GetStockRequest rq = MESO__V1__GET_STOCK_REQUEST__INIT;
    rq.clinic_id = (char *) (meso_config_get (opts, "clinic") ? meso_config_get (opts, "clinic") : "");
    rq.ingredient_code = (char *) meso_config_get (opts, "ingredient");
    rq.include_empty = meso_config_bool (opts, "empty");
    return mesoctl_call_pages (&s_service, opts, "inventory.GetStock", &rq.base, false,
                               &meso__v1__get_stock_reply__descriptor, s_stock_page, NULL);
}

/* ----------------------------------------------------------- transfer */

static const meso_opt_t s_transfer_opts[] = {
    { "from", NULL, NULL, "clinic the stock leaves", NULL },
    { "to", NULL, NULL, "clinic the stock goes to", NULL },
    { "lot-id", NULL, NULL, "lot id in the source clinic (see stock)", NULL },
    { "qty", NULL, NULL, "quantity in the ingredient's unit", NULL },
    { "reason", NULL, "", "why", NULL },
    MESOCTL_OPT_END
};

static int
s_transfer (meso_opt_t *opts)
{
    int rc;
    int64_t qty = 0;
    const char *q = meso_config_get (opts, "qty");
    if (q && mesoctl_qty_parse (q, &qty) != 0) {
        fprintf (stderr, "mesoctl: --qty must be a number with at most 3 decimals (got \"%s\")\n", q);
        return MESOCTL_USAGE;
    }
    Meso__V1__TransferRequest rq = MESO__V1__TRANSFER_REQUEST__INIT;
    rq.from_clinic_id = (char *) (meso_config_get (opts, "from") ? meso_config_get (opts, "from") : "");
    rq.to_clinic_id = (char *) (meso_config_get (opts, "to") ? meso_config_get (opts, "to") : "");
    rq.lot_id = (char *) (meso_config_get (opts, "lot-id") ? meso_config_get (opts, "lot-id") : "");
    rq.quantity_milli = qty;
    rq.reason = (char *) meso_config_get (opts, "reason");
    ProtobufCMessage *msg = NULL;
    if ((rc = mesoctl_call (&s_service, opts, "inventory.Transfer", &rq.base, true,
                            &meso__v1__transfer_reply__descriptor, &msg)) != 0)
        return rc;
    Meso__V1__TransferReply *out = (Meso__V1__TransferReply *) msg;
    if (!meso_config_bool (opts, "json")) {
        s_lot_header ();
        if (out->from_lot)
            s_lot_row (out->from_lot);
        if (out->to_lot)
            s_lot_row (out->to_lot);
    }
    protobuf_c_message_free_unpacked (msg, NULL);
    return MESOCTL_OK;
}

/* ------------------------------------------------------------- recall */

/* Sessions a recall left uncovered (Recall, at-risk). */
static void
s_short_rows (Meso__V1__StockRecallShortfall **u, size_t n)
{
    if (n)
        printf ("%-11s %-38s %-38s %-14s %-14s %12s %-4s\n", "DATE", "APPOINTMENT", "PATIENT", "INGREDIENT",
                "RECALLED LOT", "MISSING", "UNIT");
    for (size_t i = 0; i < n; i++) {
        char a[32];
        printf ("%-11s %-38s %-38s %-14s %-14s %12s %-4s\n", u[i]->session_date, u[i]->appointment_id,
                u[i]->patient_id, u[i]->ingredient_code, u[i]->lot_number,
                mesoctl_qty_format (u[i]->missing_milli, a, sizeof a), meso_enum_str (&meso__v1__unit__descriptor, (int) u[i]->unit));
    }
}

static const meso_opt_t s_recall_opts[] = {
    { "lot-id", NULL, "", "the lot id to recall", NULL },
    { "ingredient", NULL, "", "ingredient code (with --lot)", NULL },
    { "lot", NULL, "", "supplier's lot number: recalled in every clinic", NULL },
    { "clinic", NULL, "", "limit the recall to one clinic", NULL },
    { "reason", NULL, NULL, "why (supplier notice, contamination...)", NULL },
    MESOCTL_PAGE_OPTS,
    MESOCTL_OPT_END
};

/* A page of a recall's reply: the lots on the first page, the sessions
 * of each page, what was left uncovered (counted over the pages) after
 * the last. */
static void
s_recall_page (const ProtobufCMessage *m, int page, void *arg)
{
    size_t *uncovered = arg;
    const Meso__V1__RecallReply *out = (const Meso__V1__RecallReply *) m;
    if (page == 0) {
        printf ("Recalled %zu lot%s:\n", out->n_lots, out->n_lots == 1 ? "" : "s");
        s_lot_header ();
        for (size_t i = 0; i < out->n_lots; i++)
            s_lot_row (out->lots[i]);
        printf ("\n%zu session%s affected%s:\n", out->n_sessions, out->n_sessions == 1 ? "" : "s",
                *out->next_page_token ? " on this page" : "");
        printf ("%-10s %-11s %-38s %-38s %-9s %12s\n", "CLINIC", "DATE", "APPOINTMENT", "PATIENT",
                "STATE", "AMOUNT");
    }
    for (size_t i = 0; i < out->n_sessions; i++) {
        const Meso__V1__RecallHit *h = out->sessions[i];
        char a[32];
        printf ("%-10s %-11s %-38s %-38s %-9s %12s\n", h->clinic_id, h->session_date,
                h->appointment_id, h->patient_id, meso_enum_str (&meso__v1__recall_hit_state__descriptor, (int) h->state), mesoctl_qty_format (h->amount_milli, a, sizeof a));
    }
    if (out->n_uncovered)
        printf ("%s(at risk):\n", page == 0 && !*out->next_page_token ? "" : "left uncovered ");
    s_short_rows (out->uncovered, out->n_uncovered);
    *uncovered += out->n_uncovered;
    if (!*out->next_page_token)
        printf ("\n%u booked session%s moved to other lots; %zu left uncovered%s\n", out->sessions_moved,
                out->sessions_moved == 1 ? "" : "s", *uncovered, *uncovered ? " (listed above)" : "");
}

static int
s_recall (meso_opt_t *opts)
{
    Meso__V1__RecallRequest rq = MESO__V1__RECALL_REQUEST__INIT;
    Meso__V1__SupplierLot sl = MESO__V1__SUPPLIER_LOT__INIT;
    const char *lot_id = mesoctl_opt (opts, "lot-id");
    sl.ingredient_code = (char *) mesoctl_opt (opts, "ingredient");
    sl.lot_number = (char *) mesoctl_opt (opts, "lot");
    if (*lot_id && (*sl.ingredient_code || *sl.lot_number)) {
        fprintf (stderr, "mesoctl: give --lot-id, or --ingredient and --lot, not both\n");
        return MESOCTL_USAGE;
    }
    if (*lot_id) {
        rq.lot_case = MESO__V1__RECALL_REQUEST__LOT_LOT_ID;
        rq.lot_id = (char *) lot_id;
    }
    else if (*sl.ingredient_code || *sl.lot_number) {
        rq.lot_case = MESO__V1__RECALL_REQUEST__LOT_SUPPLIER_LOT;
        rq.supplier_lot = &sl;
    }
    rq.clinic_id = (char *) meso_config_get (opts, "clinic");
    rq.reason = (char *) (meso_config_get (opts, "reason") ? meso_config_get (opts, "reason") : "");
    size_t uncovered = 0;
    return mesoctl_call_pages (&s_service, opts, "inventory.Recall", &rq.base, true,
                               &meso__v1__recall_reply__descriptor, s_recall_page, &uncovered);
}

/* ------------------------------------------------------- at-risk, hold */

static const meso_opt_t s_at_risk_opts[] = {
    { "clinic", NULL, NULL, "clinic id", NULL },
    { "from", NULL, "", "only sessions on or after this date (YYYY-MM-DD)", NULL },
    MESOCTL_PAGE_OPTS,
    MESOCTL_OPT_END
};

static void
s_at_risk_page (const ProtobufCMessage *m, int page, void *arg)
{
    (void) arg;
    const Meso__V1__ListAtRiskReply *out = (const Meso__V1__ListAtRiskReply *) m;
    if (page == 0)
        printf ("%zu session%s at risk%s\n", out->n_sessions, out->n_sessions == 1 ? "" : "s",
                *out->next_page_token ? " on this page" : "");
    s_short_rows (out->sessions, out->n_sessions);
}

static int
s_at_risk (meso_opt_t *opts)
{
    Meso__V1__ListAtRiskRequest rq = MESO__V1__LIST_AT_RISK_REQUEST__INIT;
    rq.clinic_id = (char *) (meso_config_get (opts, "clinic") ? meso_config_get (opts, "clinic") : "");
    rq.from_date = (char *) meso_config_get (opts, "from");
    return mesoctl_call_pages (&s_service, opts, "inventory.ListAtRisk", &rq.base, false,
                               &meso__v1__list_at_risk_reply__descriptor, s_at_risk_page, NULL);
}

static const meso_opt_t s_hold_opts[] = {
    { "clinic", NULL, NULL, "clinic id", NULL },
    { "appointment", NULL, NULL, "appointment id", NULL },
    MESOCTL_OPT_END
};

static int
s_hold (meso_opt_t *opts)
{
    int rc;
    Meso__V1__CheckHoldRequest rq = MESO__V1__CHECK_HOLD_REQUEST__INIT;
    rq.clinic_id = (char *) (meso_config_get (opts, "clinic") ? meso_config_get (opts, "clinic") : "");
    rq.appointment_id = (char *) (meso_config_get (opts, "appointment") ? meso_config_get (opts, "appointment") : "");
    ProtobufCMessage *msg = NULL;
    if ((rc = mesoctl_call (&s_service, opts, "inventory.CheckHold", &rq.base, false,
                            &meso__v1__check_hold_reply__descriptor, &msg)) != 0)
        return rc;
    Meso__V1__CheckHoldReply *out = (Meso__V1__CheckHoldReply *) msg;
    if (!meso_config_bool (opts, "json")) {
        printf ("appointment %s: %s\n", rq.appointment_id,
                out->ok ? "stock held, complete and valid" : "the hold is not usable");
        for (size_t i = 0; i < out->n_problems; i++)
            printf ("  %-9s %s\n", out->problems[i]->problem, out->problems[i]->message);
    }
    protobuf_c_message_free_unpacked (msg, NULL);
    return MESOCTL_OK;
}

/* ----------------------------------------------------------- forecast */

static const meso_opt_t s_forecast_opts[] = {
    { "clinic", NULL, NULL, "clinic id", NULL },
    { "days", NULL, "28", "horizon in days (1..365)", NULL },
    MESOCTL_OPT_END
};

static int
s_forecast (meso_opt_t *opts)
{
    int rc;
    long days = 28;
    if (meso_config_int (opts, "days", 1, 365, &days) != 0)
        return MESOCTL_USAGE;
    Meso__V1__ForecastRequest rq = MESO__V1__FORECAST_REQUEST__INIT;
    rq.clinic_id = (char *) (meso_config_get (opts, "clinic") ? meso_config_get (opts, "clinic") : "");
    rq.horizon_days = (uint32_t) days;
    ProtobufCMessage *msg = NULL;
    if ((rc = mesoctl_call (&s_service, opts, "inventory.Forecast", &rq.base, false,
                            &meso__v1__forecast_reply__descriptor, &msg)) != 0)
        return rc;
    Meso__V1__ForecastReply *out = (Meso__V1__ForecastReply *) msg;
    if (!meso_config_bool (opts, "json")) {
        printf ("Clinic %s, %s to %s\n", out->clinic_id, out->from_date, out->until_date);
        printf ("%-14s %-4s %11s %11s %11s %11s %11s %11s %11s %s\n", "INGREDIENT", "UNIT", "ON HAND",
                "RESERVED", "NEEDED", "EXPIRING", "REMAINING", "PACE 30D", "PROJECTED", "");
        for (size_t i = 0; i < out->n_lines; i++) {
            const Meso__V1__ForecastLine *f = out->lines[i];
            char a[32], b[32], c[32], d[32], e[32], g[32], h[32];
            printf ("%-14s %-4s %11s %11s %11s %11s %11s %11s %11s %s\n", f->ingredient_code, meso_enum_str (&meso__v1__unit__descriptor, (int) f->unit),
                    mesoctl_qty_format (f->on_hand_milli, a, sizeof a), mesoctl_qty_format (f->reserved_milli, b, sizeof b),
                    mesoctl_qty_format (f->needed_milli, c, sizeof c), mesoctl_qty_format (f->expiring_milli, d, sizeof d),
                    mesoctl_qty_format (f->remaining_milli, e, sizeof e), mesoctl_qty_format (f->consumed_30d_milli, g, sizeof g),
                    mesoctl_qty_format (f->projected_milli, h, sizeof h), f->reorder ? "REORDER" : "");
        }
    }
    protobuf_c_message_free_unpacked (msg, NULL);
    return MESOCTL_OK;
}

/* --------------------------------------------------------- catalogue */

static const meso_opt_t s_ingredient_opts[] = {
    { "code", NULL, NULL, "ingredient code, [a-z0-9_-], e.g. caffeine", NULL },
    { "name", NULL, NULL, "display name", NULL },
    { "unit", NULL, NULL, "mg or ml", NULL },
    { "form", NULL, "", "the form it comes in, e.g. \"ampoule 5 ml\"", NULL },
    MESOCTL_OPT_END
};

static int
s_ingredient (meso_opt_t *opts)
{
    int rc;
    Meso__V1__Ingredient ing = MESO__V1__INGREDIENT__INIT;
    ing.code = (char *) (meso_config_get (opts, "code") ? meso_config_get (opts, "code") : "");
    ing.name = (char *) (meso_config_get (opts, "name") ? meso_config_get (opts, "name") : "");
    int unit = 0;
    if (mesoctl_enum_opt (opts, "unit", &meso__v1__unit__descriptor, &unit) != 0)
        return MESOCTL_USAGE;
    ing.unit = (Meso__V1__Unit) unit;
    ing.form = (char *) meso_config_get (opts, "form");
    Meso__V1__UpsertIngredientRequest rq = MESO__V1__UPSERT_INGREDIENT_REQUEST__INIT;
    rq.ingredient = &ing;
    ProtobufCMessage *msg = NULL;
    if ((rc = mesoctl_call (&s_service, opts, "inventory.UpsertIngredient", &rq.base, true,
                            &meso__v1__upsert_ingredient_reply__descriptor, &msg)) != 0)
        return rc;
    Meso__V1__UpsertIngredientReply *out = (Meso__V1__UpsertIngredientReply *) msg;
    if (!meso_config_bool (opts, "json") && out->ingredient)
        printf ("ingredient %-14s %-4s %s (%s)\n", out->ingredient->code, meso_enum_str (&meso__v1__unit__descriptor, (int) out->ingredient->unit),
                out->ingredient->name, out->created ? "created" : "updated");
    protobuf_c_message_free_unpacked (msg, NULL);
    return MESOCTL_OK;
}

#define MAX_LOOKUP_CODES 64

static const meso_opt_t s_ingredients_opts[] = {
    { "codes", NULL, "", "ingredient codes to look up, comma-separated (empty: list the catalogue)", NULL },
    { "after", NULL, "", "when listing: start after this code", NULL },
    { "limit", NULL, "0", "when listing: at most this many (0: 100, at most 500)", NULL },
    MESOCTL_OPT_END
};

static int
s_ingredients (meso_opt_t *opts)
{
    int rc;
    char buf[4096];
    snprintf (buf, sizeof buf, "%s", meso_config_get (opts, "codes") ? meso_config_get (opts, "codes") : "");
    char *codes[MAX_LOOKUP_CODES];
    size_t n = 0;
    char *save = NULL;
    for (char *t = strtok_r (buf, ",", &save); t; t = strtok_r (NULL, ",", &save)) {
        if (n == MAX_LOOKUP_CODES) {
            fprintf (stderr, "mesoctl: --codes takes at most %d codes\n", MAX_LOOKUP_CODES);
            return MESOCTL_USAGE;
        }
        codes[n++] = t;
    }
    long limit = 0;
    if (meso_config_int (opts, "limit", 0, 500, &limit) != 0)
        return MESOCTL_USAGE;
    Meso__V1__GetIngredientsRequest rq = MESO__V1__GET_INGREDIENTS_REQUEST__INIT;
    rq.codes = codes;
    rq.n_codes = n;
    rq.after_code = (char *) meso_config_get (opts, "after");
    rq.limit = (uint32_t) limit;
    ProtobufCMessage *msg = NULL;
    if ((rc = mesoctl_call (&s_service, opts, "inventory.GetIngredients", &rq.base, false,
                            &meso__v1__get_ingredients_reply__descriptor, &msg)) != 0)
        return rc;
    Meso__V1__GetIngredientsReply *out = (Meso__V1__GetIngredientsReply *) msg;
    if (!meso_config_bool (opts, "json")) {
        for (size_t i = 0; i < out->n_ingredients; i++)
            printf ("%-20s %-4s %s%s%s\n", out->ingredients[i]->code, meso_enum_str (&meso__v1__unit__descriptor, (int) out->ingredients[i]->unit),
                    out->ingredients[i]->name, *out->ingredients[i]->form ? " -- " : "",
                    out->ingredients[i]->form);
        for (size_t i = 0; i < out->n_unknown; i++)
            printf ("%-20s not in the catalogue\n", out->unknown[i]);
        if (out->more && out->n_ingredients)
            printf ("(more: --after %s)\n", out->ingredients[out->n_ingredients - 1]->code);
    }
    protobuf_c_message_free_unpacked (msg, NULL);
    return MESOCTL_OK;
}

#define MAX_RECIPE_LINES 64

static const meso_opt_t s_recipe_opts[] = {
    { "recipe", NULL, NULL, "recipe id, [a-z0-9_-], e.g. lipo-std", NULL },
    { "name", NULL, NULL, "display name", NULL },
    { "lines", NULL, NULL, "area:ingredient:qty per session, comma-separated (e.g. thighs:caffeine:100)", NULL },
    MESOCTL_OPT_END
};

static int
s_recipe (meso_opt_t *opts)
{
    int rc;
    const char *text = meso_config_get (opts, "lines") ? meso_config_get (opts, "lines") : "";
    char buf[4096];
    snprintf (buf, sizeof buf, "%s", text);
    Meso__V1__RecipeLine lines[MAX_RECIPE_LINES], *lp[MAX_RECIPE_LINES];
    size_t n = 0;
    char *save = NULL;
    for (char *t = strtok_r (buf, ",", &save); t; t = strtok_r (NULL, ",", &save)) {
        char *c1 = strchr (t, ':'), *c2 = c1 ? strchr (c1 + 1, ':') : NULL;
        if (!c2 || n == MAX_RECIPE_LINES) {
            fprintf (stderr, "mesoctl: --lines wants area:ingredient:qty,... (at most %d), got \"%s\"\n",
                     MAX_RECIPE_LINES, t);
            return MESOCTL_USAGE;
        }
        *c1 = *c2 = '\0';
        meso__v1__recipe_line__init (&lines[n]);
        lines[n].area = t;
        lines[n].ingredient_code = c1 + 1;
        if (mesoctl_qty_parse (c2 + 1, &lines[n].amount_milli) != 0) {
            fprintf (stderr, "mesoctl: quantity \"%s\" must be a number with at most 3 decimals\n", c2 + 1);
            return MESOCTL_USAGE;
        }
        lp[n] = &lines[n];
        n++;
    }
    Meso__V1__UpsertRecipeRequest rq = MESO__V1__UPSERT_RECIPE_REQUEST__INIT;
    rq.recipe_id = (char *) (meso_config_get (opts, "recipe") ? meso_config_get (opts, "recipe") : "");
    rq.name = (char *) (meso_config_get (opts, "name") ? meso_config_get (opts, "name") : "");
    rq.lines = lp;
    rq.n_lines = n;
    ProtobufCMessage *msg = NULL;
    if ((rc = mesoctl_call (&s_service, opts, "inventory.UpsertRecipe", &rq.base, true,
                            &meso__v1__upsert_recipe_reply__descriptor, &msg)) != 0)
        return rc;
    Meso__V1__UpsertRecipeReply *out = (Meso__V1__UpsertRecipeReply *) msg;
    if (!meso_config_bool (opts, "json"))
        printf ("recipe %s v%u (%zu lines)%s\n", out->recipe_id, out->version, n,
                out->changed ? "" : " unchanged");
    protobuf_c_message_free_unpacked (msg, NULL);
    return MESOCTL_OK;
}

/* --------------------------------------------------------------- entry */

static const mesoctl_sub_t s_subs[] = {
    { "receive", "receive a delivery into a clinic",
      "--clinic C --ingredient I --lot N --expiry YYYY-MM-DD --qty Q [--supplier S] [--cost A] [options]",
      "Receives a delivery into a clinic and prints the lot. --cost is what one unit of\n"
      "the ingredient cost, for the stock valuation (mesoctl reports valuation).",
      "--clinic par --ingredient caffeine --lot CAF1-PAR --expiry 2026-06-30 --qty 2500 --supplier \"Meso Pharma\" --cost 0.03",
      s_receive_opts, MESOCTL_JSON | MESOCTL_KEY, NULL, 0, s_receive, "inventory.Receive" },
    { "stock", "a clinic's stock by ingredient and lot",
      "--clinic C [--ingredient I] [--empty] [--page-size N] [--page-token T | --all] [options]",
      "Shows a clinic's stock: totals per ingredient, then its lots, first to expire first,\n"
      "a page at a time (--all: every page). --empty lists empty lots too.",
      "--clinic par\n--clinic par --ingredient caffeine --empty --all --json",
      s_stock_opts, MESOCTL_JSON, NULL, 0, s_stock, "inventory.GetStock" },
    { "transfer", "move part of a lot to another clinic",
      "--from C1 --to C2 --lot-id ID --qty Q [--reason R] [options]",
      "Moves part of a lot to another clinic, atomically, and prints both lots.",
      "--from par --to nyc --lot-id 0b6c...41 --qty 500 --reason \"nyc ran short\"",
      s_transfer_opts, MESOCTL_JSON, NULL, 0, s_transfer, "inventory.Transfer" },
    { "recall", "recall a lot; move the sessions booked on it to other lots",
      "(--lot-id ID | --ingredient I --lot N) [--clinic C] --reason R [options]",
      "Recalls a lot: booked sessions holding it are re-reserved from other usable lots;\n"
      "those that cannot be covered are left at risk (the patients to call). Lists every\n"
      "session and patient that received the lot or held it, and what became of each.\n"
      "Long lists come a page at a time: --all reads every page (later pages are read\n"
      "back from the recall, made once, under the same --key).",
      "--ingredient caffeine --lot CAF1-PAR --reason \"supplier notice 2025-07\"\n"
      "--ingredient caffeine --lot CAF1-PAR --reason \"supplier notice 2025-07\" --key recall-caf1 --all",
      s_recall_opts, MESOCTL_JSON | MESOCTL_KEY, NULL, 0, s_recall, "inventory.Recall" },
    { "at-risk", "booked sessions a recall left without stock",
      "--clinic C [--from YYYY-MM-DD] [--page-size N] [--page-token T | --all] [options]",
      "Lists a clinic's booked sessions whose stock a recall took and no other lot could\n"
      "cover: they will not start; cancel them and book again once stock is there.",
      "--clinic par --from 2026-07-01\n--clinic par --from 2026-07-01 --page-size 100 --all",
      s_at_risk_opts, MESOCTL_JSON, NULL, 0, s_at_risk, "inventory.ListAtRisk" },
    { "hold", "whether a session's stock hold is complete and valid",
      "--clinic C --appointment A [options]",
      "Checks the stock held for an appointment, as StartSession does: held, not at risk,\n"
      "no recalled or expired lot, the recipe in full; prints each problem.",
      "--clinic par --appointment 5d0c...9e",
      s_hold_opts, MESOCTL_JSON, NULL, 0, s_hold, "inventory.CheckHold" },
    { "forecast", "what booked sessions need against what is on hand",
      "--clinic C [--days N] [options]",
      "What booked sessions will need over the horizon, against what is on hand and what\n"
      "expires unused; REORDER marks what runs short.",
      "--clinic par --days 14",
      s_forecast_opts, MESOCTL_JSON, NULL, 0, s_forecast, "inventory.Forecast" },
    { "ingredient", "add or change an ingredient of the catalogue",
      "--code C --name N --unit mg|ml [--form F] [options]",
      "Creates or updates an ingredient of the catalogue.",
      "--code caffeine --name Caffeine --unit mg --form \"ampoule 5 ml, 250 mg\"",
      s_ingredient_opts, MESOCTL_JSON | MESOCTL_KEY, NULL, 0, s_ingredient, "inventory.UpsertIngredient" },
    { "ingredients", "look up or list the ingredient catalogue",
      "[--codes C1,C2] [--after C] [--limit N] [options]",
      "Looks up ingredient codes in the chain's one catalogue (the codes allergies are\n"
      "checked against), or lists it in code order.",
      "--codes artichoke,caffeine\n--limit 50 --after caffeine",
      s_ingredients_opts, MESOCTL_JSON, NULL, 0, s_ingredients, "inventory.GetIngredients" },
    { "recipe", "record a cocktail recipe (lines per treatment area)",
      "--recipe R --name N --lines area:ingredient:qty,... [options]",
      "Records a cocktail recipe: a new version when its lines or name changed, else the\n"
      "current version unchanged.",
      "--recipe lipo-std --name Lipolytic --lines thighs:caffeine:100,thighs:procaine:0.5",
      s_recipe_opts, MESOCTL_JSON | MESOCTL_KEY, NULL, 0, s_recipe, "inventory.UpsertRecipe" },
    { NULL, NULL, NULL, NULL, NULL, NULL, 0, NULL, 0, NULL, NULL }
};

int
mesoctl_inventory (int argc, char **argv)
{
    /* This file's subcommands, then the stock room's corrections
     * (cmd_inventory_lots.c) and the holds services make
     * (cmd_inventory_holds.c). */
    mesoctl_sub_t all[sizeof s_subs / sizeof s_subs[0] + 16];
    size_t n = 0;
    for (size_t i = 0; s_subs[i].name; i++)
        all[n++] = s_subs[i];
    const mesoctl_sub_t *more[] = { mesoctl_inventory_lots, mesoctl_inventory_holds };
    for (size_t k = 0; k < 2; k++)
        for (size_t i = 0; more[k][i].name && n + 1 < sizeof all / sizeof all[0]; i++)
            all[n++] = more[k][i];
    memset (&all[n], 0, sizeof all[n]);
    return mesoctl_run (&s_service, all, false, argc, argv);
}
