/* cmd_inventory.c -- "mesoctl inventory ...": a clinic's stock room from
 * the command line.
 *
 *     mesoctl inventory receive  --clinic C --ingredient I --lot N --expiry YYYY-MM-DD
 *                                --qty 12.5 [--supplier S]
 *     mesoctl inventory stock    --clinic C [--ingredient I] [--all]
 *     mesoctl inventory transfer --from C1 --to C2 --lot-id ID --qty Q [--reason R]
 *     mesoctl inventory recall   (--lot-id ID | --ingredient I --lot N) [--clinic C] --reason R
 *     mesoctl inventory forecast --clinic C [--days 28]
 *     mesoctl inventory ingredient --code C --name N --unit mg|ml [--form F]
 *     mesoctl inventory recipe   --recipe R --name N --lines area:ingredient:qty,...
 *
 * receive, ingredient and recipe take --key K (a fixed idempotency key, so
 * a script can run them again without effect).
 *
 * Quantities are typed and shown in the ingredient's unit with up to three
 * decimals ("12.5" mg); on the wire they are integer thousandths, so the
 * parsing here is exact decimal, never a float. Every command prints a
 * readable table, or with --json the reply message as JSON with the field
 * names of proto/meso/v1/inventory.proto (printed generically from the
 * protobuf-c descriptors, so the output follows the contract). Mutating
 * commands send a fresh idempotency key, so the client's retries after a
 * timeout take effect once. A refusal prints its message and every reason
 * and exits 1. */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inventory.pb-c.h"
#include "meso/bus.h"
#include "meso/config.h"
#include "meso/log.h"
#include "meso/status.h"
#include "meso/uuid.h"
#include "mesoctl.h"

#define ENDPOINT_OPT \
    { "endpoint", "MESO_INVENTORY_ENDPOINT", "tcp://127.0.0.1:7103", "inventory daemon", NULL }
#define JSON_OPT { "json", NULL, "false", "print the reply as JSON", NULL }
#define TIMEOUT_OPT { "timeout", NULL, "5000", "milliseconds to wait for the reply", NULL }
#define KEY_OPT { "key", NULL, "", "idempotency key (default: a new UUID; reuse it to retry safely)", NULL }

/* The --key option's value when the command has one and it is set. */
static const char *
s_opt_key (const meso_opt_t *opts)
{
    for (const meso_opt_t *o = opts; o->name; o++)
        if (strcmp (o->name, "key") == 0)
            return meso_config_get (opts, "key");
    return NULL;
}

/* ------------------------------------------------------ JSON printing */

static void
s_json_str (const char *s)
{
    char buf[4096];
    meso_json_escape (buf, sizeof buf, s ? s : "");
    printf ("\"%s\"", buf);
}

static void s_json_message (const ProtobufCMessage *m);

static void
s_json_value (const ProtobufCFieldDescriptor *f, const void *p)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_STRING:
        s_json_str (*(char *const *) p);
        break;
    case PROTOBUF_C_TYPE_BOOL:
        printf ("%s", *(const protobuf_c_boolean *) p ? "true" : "false");
        break;
    case PROTOBUF_C_TYPE_INT32: case PROTOBUF_C_TYPE_SINT32: case PROTOBUF_C_TYPE_SFIXED32:
        printf ("%" PRId32, *(const int32_t *) p);
        break;
    case PROTOBUF_C_TYPE_UINT32: case PROTOBUF_C_TYPE_FIXED32:
        printf ("%" PRIu32, *(const uint32_t *) p);
        break;
    case PROTOBUF_C_TYPE_ENUM:
        printf ("%d", *(const int *) p);
        break;
    case PROTOBUF_C_TYPE_INT64: case PROTOBUF_C_TYPE_SINT64: case PROTOBUF_C_TYPE_SFIXED64:
        printf ("%" PRId64, *(const int64_t *) p);
        break;
    case PROTOBUF_C_TYPE_UINT64: case PROTOBUF_C_TYPE_FIXED64:
        printf ("%" PRIu64, *(const uint64_t *) p);
        break;
    case PROTOBUF_C_TYPE_MESSAGE: {
        const ProtobufCMessage *sub = *(ProtobufCMessage *const *) p;
        if (sub)
            s_json_message (sub);
        else
            printf ("null");
        break;
    }
    default:
        printf ("null");
    }
}

static size_t
s_field_size (const ProtobufCFieldDescriptor *f)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_STRING: case PROTOBUF_C_TYPE_MESSAGE: return sizeof (void *);
    case PROTOBUF_C_TYPE_BOOL: return sizeof (protobuf_c_boolean);
    case PROTOBUF_C_TYPE_INT64: case PROTOBUF_C_TYPE_SINT64: case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64: case PROTOBUF_C_TYPE_FIXED64: return 8;
    default: return 4;
    }
}

static void
s_json_message (const ProtobufCMessage *m)
{
    const ProtobufCMessageDescriptor *d = m->descriptor;
    printf ("{");
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        const char *base = (const char *) m;
        printf ("%s\"%s\":", i ? "," : "", f->name);
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n = *(const size_t *) (base + f->quantifier_offset);
            const char *arr = *(char *const *) (base + f->offset);
            printf ("[");
            for (size_t k = 0; k < n; k++) {
                printf ("%s", k ? "," : "");
                s_json_value (f, arr + k * s_field_size (f));
            }
            printf ("]");
        }
        else
            s_json_value (f, base + f->offset);
    }
    printf ("}");
}

/* ---------------------------------------------------------- quantities */

/* "12.5" -> 12500. Returns 0 or -1. */
static int
s_parse_qty (const char *text, int64_t *out)
{
    if (!text || !*text)
        return -1;
    const char *p = text;
    bool neg = *p == '-';
    if (neg || *p == '+')
        p++;
    int64_t whole = 0, frac = 0;
    int fdigits = 0;
    if (!isdigit ((unsigned char) *p))
        return -1;
    while (isdigit ((unsigned char) *p)) {
        if (whole > INT64_C (1000000000000))
            return -1;
        whole = whole * 10 + (*p++ - '0');
    }
    if (*p == '.') {
        p++;
        while (isdigit ((unsigned char) *p)) {
            if (++fdigits > 3)
                return -1;          /* finer than a thousandth */
            frac = frac * 10 + (*p++ - '0');
        }
    }
    if (*p)
        return -1;
    while (fdigits++ < 3)
        frac *= 10;
    *out = (whole * 1000 + frac) * (neg ? -1 : 1);
    return 0;
}

static const char *
s_qty (int64_t milli, char *buf, size_t size)
{
    int64_t a = milli < 0 ? -milli : milli;
    if (a % 1000 == 0)
        snprintf (buf, size, "%s%" PRId64, milli < 0 ? "-" : "", a / 1000);
    else {
        snprintf (buf, size, "%s%" PRId64 ".%03" PRId64, milli < 0 ? "-" : "", a / 1000, a % 1000);
        size_t n = strlen (buf);
        while (n > 0 && buf[n - 1] == '0')
            buf[--n] = '\0';
    }
    return buf;
}

/* -------------------------------------------------------------- calls */

/* Calls method; on success returns 0 with r filled (caller resets it). On
 * failure prints the error and every reason to stderr and returns 1. */
static int
s_call (const meso_opt_t *opts, const char *method, const ProtobufCMessage *body, bool mutating,
        meso_result_t *r)
{
    long timeout = 5000;
    if (meso_config_int (opts, "timeout", 100, 600000, &timeout) != 0)
        return MESOCTL_USAGE;
    meso_bus_client_t *c = meso_bus_client_new (meso_config_get (opts, "endpoint"),
                                                MESO__V1__ACTOR__KIND__KIND_OPERATOR, "mesoctl");
    if (!c) {
        fprintf (stderr, "mesoctl: cannot use endpoint \"%s\"\n", meso_config_get (opts, "endpoint"));
        return MESOCTL_USAGE;
    }
    char key[129] = "";     /* a UUID, or --key (at most 128 bytes on the wire) */
    const char *fixed = s_opt_key (opts);
    if (mutating && fixed && *fixed)
        snprintf (key, sizeof key, "%s", fixed);
    else if (mutating && meso_uuid_v4 (key) != 0) {
        meso_bus_client_destroy (&c);
        fprintf (stderr, "mesoctl: no randomness for an idempotency key\n");
        return MESOCTL_FAILED;
    }
    int rc = meso_bus_client_call (c, method, body, mutating ? key : NULL, (int) timeout, r);
    meso_bus_client_destroy (&c);
    if (rc == 0)
        return MESOCTL_OK;
    fprintf (stderr, "%s: %s: %s\n", method, meso_status_name (r->status), r->message);
    if (r->reply) {
        if (r->reply->detail && *r->reply->detail)
            fprintf (stderr, "  detail: %s\n", r->reply->detail);
        for (size_t i = 0; i < r->reply->n_reasons; i++)
            fprintf (stderr, "  - %s%s%s: %s\n", r->reply->reasons[i]->code,
                     *r->reply->reasons[i]->field ? " " : "", r->reply->reasons[i]->field,
                     r->reply->reasons[i]->message);
    }
    meso_result_reset (r);
    return MESOCTL_FAILED;
}

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
            l->lot_number, l->expiry_date, s_qty (l->on_hand_milli, a, sizeof a),
            s_qty (l->reserved_milli, b, sizeof b), s_qty (l->available_milli, c, sizeof c), l->unit,
            l->lot_id, l->recalled ? "RECALLED" : "");
}

/* ------------------------------------------------------------ receive */

static int
s_receive (int argc, char **argv)
{
    meso_opt_t opts[] = {
        { "clinic", NULL, NULL, "clinic id", NULL },
        { "ingredient", NULL, NULL, "ingredient code, e.g. caffeine", NULL },
        { "lot", NULL, NULL, "supplier's lot number", NULL },
        { "expiry", NULL, NULL, "expiry date YYYY-MM-DD", NULL },
        { "qty", NULL, NULL, "quantity in the ingredient's unit, e.g. 250 or 12.5", NULL },
        { "supplier", NULL, "", "supplier name", NULL },
        KEY_OPT, ENDPOINT_OPT, JSON_OPT, TIMEOUT_OPT,
        { NULL, NULL, NULL, NULL, NULL }
    };
    int rc = mesoctl_parsed (meso_config_parse (opts, argc, argv, "mesoctl inventory receive",
        "Receives a delivery into a clinic and prints the lot.", NULL, NULL));
    if (rc >= 0)
        return rc;
    int64_t qty = 0;
    const char *q = meso_config_get (opts, "qty");
    if (q && s_parse_qty (q, &qty) != 0) {
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
    meso_result_t r = { 0 };
    if ((rc = s_call (opts, "inventory.Receive", &rq.base, true, &r)) != 0)
        return rc;
    size_t len;
    const uint8_t *body = meso_result_body (&r, &len);
    Meso__V1__ReceiveReply *out = meso__v1__receive_reply__unpack (NULL, len, body);
    if (out && meso_config_bool (opts, "json")) {
        s_json_message (&out->base);
        printf ("\n");
    }
    else if (out && out->lot) {
        s_lot_header ();
        s_lot_row (out->lot);
    }
    if (out)
        meso__v1__receive_reply__free_unpacked (out, NULL);
    meso_result_reset (&r);
    return out ? MESOCTL_OK : MESOCTL_FAILED;
}

/* -------------------------------------------------------------- stock */

static int
s_stock (int argc, char **argv)
{
    meso_opt_t opts[] = {
        { "clinic", NULL, NULL, "clinic id", NULL },
        { "ingredient", NULL, "", "only this ingredient", NULL },
        { "all", NULL, "false", "also list empty lots", NULL },
        ENDPOINT_OPT, JSON_OPT, TIMEOUT_OPT,
        { NULL, NULL, NULL, NULL, NULL }
    };
    int rc = mesoctl_parsed (meso_config_parse (opts, argc, argv, "mesoctl inventory stock",
        "Shows a clinic's stock: totals per ingredient, then every lot, first to expire first.",
        NULL, NULL));
    if (rc >= 0)
        return rc;
    Meso__V1__GetStockRequest rq = MESO__V1__GET_STOCK_REQUEST__INIT;
    rq.clinic_id = (char *) (meso_config_get (opts, "clinic") ? meso_config_get (opts, "clinic") : "");
    rq.ingredient_code = (char *) meso_config_get (opts, "ingredient");
    rq.include_empty = meso_config_bool (opts, "all");
    meso_result_t r = { 0 };
    if ((rc = s_call (opts, "inventory.GetStock", &rq.base, false, &r)) != 0)
        return rc;
    size_t len;
    const uint8_t *body = meso_result_body (&r, &len);
    Meso__V1__GetStockReply *out = meso__v1__get_stock_reply__unpack (NULL, len, body);
    if (out && meso_config_bool (opts, "json")) {
        s_json_message (&out->base);
        printf ("\n");
    }
    else if (out) {
        printf ("%-14s %-4s %12s %12s %12s %12s %s\n", "INGREDIENT", "UNIT", "ON HAND", "RESERVED",
                "AVAILABLE", "REORDER AT", "");
        for (size_t i = 0; i < out->n_totals; i++) {
            const Meso__V1__StockTotal *t = out->totals[i];
            char a[32], b[32], c[32], d[32];
            printf ("%-14s %-4s %12s %12s %12s %12s %s\n", t->ingredient_code, t->unit,
                    s_qty (t->on_hand_milli, a, sizeof a), s_qty (t->reserved_milli, b, sizeof b),
                    s_qty (t->available_milli, c, sizeof c),
                    t->reorder_point_milli ? s_qty (t->reorder_point_milli, d, sizeof d) : "-",
                    t->low ? "LOW" : "");
        }
        printf ("\n");
        s_lot_header ();
        for (size_t i = 0; i < out->n_lots; i++)
            s_lot_row (out->lots[i]);
    }
    if (out)
        meso__v1__get_stock_reply__free_unpacked (out, NULL);
    meso_result_reset (&r);
    return out ? MESOCTL_OK : MESOCTL_FAILED;
}

/* ----------------------------------------------------------- transfer */

static int
s_transfer (int argc, char **argv)
{
    meso_opt_t opts[] = {
        { "from", NULL, NULL, "clinic the stock leaves", NULL },
        { "to", NULL, NULL, "clinic the stock goes to", NULL },
        { "lot-id", NULL, NULL, "lot id in the source clinic (see stock)", NULL },
        { "qty", NULL, NULL, "quantity in the ingredient's unit", NULL },
        { "reason", NULL, "", "why", NULL },
        ENDPOINT_OPT, JSON_OPT, TIMEOUT_OPT,
        { NULL, NULL, NULL, NULL, NULL }
    };
    int rc = mesoctl_parsed (meso_config_parse (opts, argc, argv, "mesoctl inventory transfer",
        "Moves part of a lot to another clinic, atomically, and prints both lots.", NULL, NULL));
    if (rc >= 0)
        return rc;
    int64_t qty = 0;
    const char *q = meso_config_get (opts, "qty");
    if (q && s_parse_qty (q, &qty) != 0) {
        fprintf (stderr, "mesoctl: --qty must be a number with at most 3 decimals (got \"%s\")\n", q);
        return MESOCTL_USAGE;
    }
    Meso__V1__TransferRequest rq = MESO__V1__TRANSFER_REQUEST__INIT;
    rq.from_clinic_id = (char *) (meso_config_get (opts, "from") ? meso_config_get (opts, "from") : "");
    rq.to_clinic_id = (char *) (meso_config_get (opts, "to") ? meso_config_get (opts, "to") : "");
    rq.lot_id = (char *) (meso_config_get (opts, "lot-id") ? meso_config_get (opts, "lot-id") : "");
    rq.quantity_milli = qty;
    rq.reason = (char *) meso_config_get (opts, "reason");
    meso_result_t r = { 0 };
    if ((rc = s_call (opts, "inventory.Transfer", &rq.base, true, &r)) != 0)
        return rc;
    size_t len;
    const uint8_t *body = meso_result_body (&r, &len);
    Meso__V1__TransferReply *out = meso__v1__transfer_reply__unpack (NULL, len, body);
    if (out && meso_config_bool (opts, "json")) {
        s_json_message (&out->base);
        printf ("\n");
    }
    else if (out) {
        s_lot_header ();
        if (out->from_lot)
            s_lot_row (out->from_lot);
        if (out->to_lot)
            s_lot_row (out->to_lot);
    }
    if (out)
        meso__v1__transfer_reply__free_unpacked (out, NULL);
    meso_result_reset (&r);
    return out ? MESOCTL_OK : MESOCTL_FAILED;
}

/* ------------------------------------------------------------- recall */

static int
s_recall (int argc, char **argv)
{
    meso_opt_t opts[] = {
        { "lot-id", NULL, "", "the lot id to recall", NULL },
        { "ingredient", NULL, "", "ingredient code (with --lot)", NULL },
        { "lot", NULL, "", "supplier's lot number: recalled in every clinic", NULL },
        { "clinic", NULL, "", "limit the recall to one clinic", NULL },
        { "reason", NULL, NULL, "why (supplier notice, contamination...)", NULL },
        ENDPOINT_OPT, JSON_OPT, TIMEOUT_OPT,
        { NULL, NULL, NULL, NULL, NULL }
    };
    int rc = mesoctl_parsed (meso_config_parse (opts, argc, argv, "mesoctl inventory recall",
        "Recalls a lot and lists every session and patient that received it or holds a\n"
        "reservation from it.", NULL, NULL));
    if (rc >= 0)
        return rc;
    Meso__V1__RecallRequest rq = MESO__V1__RECALL_REQUEST__INIT;
    rq.lot_id = (char *) meso_config_get (opts, "lot-id");
    rq.ingredient_code = (char *) meso_config_get (opts, "ingredient");
    rq.lot_number = (char *) meso_config_get (opts, "lot");
    rq.clinic_id = (char *) meso_config_get (opts, "clinic");
    rq.reason = (char *) (meso_config_get (opts, "reason") ? meso_config_get (opts, "reason") : "");
    meso_result_t r = { 0 };
    if ((rc = s_call (opts, "inventory.Recall", &rq.base, true, &r)) != 0)
        return rc;
    size_t len;
    const uint8_t *body = meso_result_body (&r, &len);
    Meso__V1__RecallReply *out = meso__v1__recall_reply__unpack (NULL, len, body);
    if (out && meso_config_bool (opts, "json")) {
        s_json_message (&out->base);
        printf ("\n");
    }
    else if (out) {
        printf ("Recalled %zu lot%s:\n", out->n_lots, out->n_lots == 1 ? "" : "s");
        s_lot_header ();
        for (size_t i = 0; i < out->n_lots; i++)
            s_lot_row (out->lots[i]);
        printf ("\n%zu session%s affected:\n", out->n_sessions, out->n_sessions == 1 ? "" : "s");
        printf ("%-10s %-11s %-38s %-38s %-9s %12s\n", "CLINIC", "DATE", "APPOINTMENT", "PATIENT",
                "STATE", "AMOUNT");
        for (size_t i = 0; i < out->n_sessions; i++) {
            const Meso__V1__RecallHit *h = out->sessions[i];
            char a[32];
            printf ("%-10s %-11s %-38s %-38s %-9s %12s\n", h->clinic_id, h->session_date,
                    h->appointment_id, h->patient_id, h->state, s_qty (h->amount_milli, a, sizeof a));
        }
    }
    if (out)
        meso__v1__recall_reply__free_unpacked (out, NULL);
    meso_result_reset (&r);
    return out ? MESOCTL_OK : MESOCTL_FAILED;
}

/* ----------------------------------------------------------- forecast */

static int
s_forecast (int argc, char **argv)
{
    meso_opt_t opts[] = {
        { "clinic", NULL, NULL, "clinic id", NULL },
        { "days", NULL, "28", "horizon in days (1..365)", NULL },
        ENDPOINT_OPT, JSON_OPT, TIMEOUT_OPT,
        { NULL, NULL, NULL, NULL, NULL }
    };
    int rc = mesoctl_parsed (meso_config_parse (opts, argc, argv, "mesoctl inventory forecast",
        "What booked sessions will need over the horizon, against what is on hand and what\n"
        "expires unused; REORDER marks what runs short.", NULL, NULL));
    if (rc >= 0)
        return rc;
    long days = 28;
    if (meso_config_int (opts, "days", 1, 365, &days) != 0)
        return MESOCTL_USAGE;
    Meso__V1__ForecastRequest rq = MESO__V1__FORECAST_REQUEST__INIT;
    rq.clinic_id = (char *) (meso_config_get (opts, "clinic") ? meso_config_get (opts, "clinic") : "");
    rq.horizon_days = (uint32_t) days;
    meso_result_t r = { 0 };
    if ((rc = s_call (opts, "inventory.Forecast", &rq.base, false, &r)) != 0)
        return rc;
    size_t len;
    const uint8_t *body = meso_result_body (&r, &len);
    Meso__V1__ForecastReply *out = meso__v1__forecast_reply__unpack (NULL, len, body);
    if (out && meso_config_bool (opts, "json")) {
        s_json_message (&out->base);
        printf ("\n");
    }
    else if (out) {
        printf ("Clinic %s, %s to %s\n", out->clinic_id, out->from_date, out->until_date);
        printf ("%-14s %-4s %11s %11s %11s %11s %11s %11s %11s %s\n", "INGREDIENT", "UNIT", "ON HAND",
                "RESERVED", "NEEDED", "EXPIRING", "REMAINING", "PACE 30D", "PROJECTED", "");
        for (size_t i = 0; i < out->n_lines; i++) {
            const Meso__V1__ForecastLine *f = out->lines[i];
            char a[32], b[32], c[32], d[32], e[32], g[32], h[32];
            printf ("%-14s %-4s %11s %11s %11s %11s %11s %11s %11s %s\n", f->ingredient_code, f->unit,
                    s_qty (f->on_hand_milli, a, sizeof a), s_qty (f->reserved_milli, b, sizeof b),
                    s_qty (f->needed_milli, c, sizeof c), s_qty (f->expiring_milli, d, sizeof d),
                    s_qty (f->remaining_milli, e, sizeof e), s_qty (f->consumed_30d_milli, g, sizeof g),
                    s_qty (f->projected_milli, h, sizeof h), f->reorder ? "REORDER" : "");
        }
    }
    if (out)
        meso__v1__forecast_reply__free_unpacked (out, NULL);
    meso_result_reset (&r);
    return out ? MESOCTL_OK : MESOCTL_FAILED;
}

/* --------------------------------------------------------- catalogue */

static int
s_ingredient (int argc, char **argv)
{
    meso_opt_t opts[] = {
        { "code", NULL, NULL, "ingredient code, [a-z0-9_-], e.g. caffeine", NULL },
        { "name", NULL, NULL, "display name", NULL },
        { "unit", NULL, NULL, "mg or ml", NULL },
        { "form", NULL, "", "the form it comes in, e.g. \"ampoule 5 ml\"", NULL },
        KEY_OPT, ENDPOINT_OPT, JSON_OPT, TIMEOUT_OPT,
        { NULL, NULL, NULL, NULL, NULL }
    };
    int rc = mesoctl_parsed (meso_config_parse (opts, argc, argv, "mesoctl inventory ingredient",
        "Creates or updates an ingredient of the catalogue.", NULL, NULL));
    if (rc >= 0)
        return rc;
    Meso__V1__Ingredient ing = MESO__V1__INGREDIENT__INIT;
    ing.code = (char *) (meso_config_get (opts, "code") ? meso_config_get (opts, "code") : "");
    ing.name = (char *) (meso_config_get (opts, "name") ? meso_config_get (opts, "name") : "");
    ing.unit = (char *) (meso_config_get (opts, "unit") ? meso_config_get (opts, "unit") : "");
    ing.form = (char *) meso_config_get (opts, "form");
    Meso__V1__UpsertIngredientRequest rq = MESO__V1__UPSERT_INGREDIENT_REQUEST__INIT;
    rq.ingredient = &ing;
    meso_result_t r = { 0 };
    if ((rc = s_call (opts, "inventory.UpsertIngredient", &rq.base, true, &r)) != 0)
        return rc;
    size_t len;
    const uint8_t *body = meso_result_body (&r, &len);
    Meso__V1__UpsertIngredientReply *out = meso__v1__upsert_ingredient_reply__unpack (NULL, len, body);
    if (out && meso_config_bool (opts, "json")) {
        s_json_message (&out->base);
        printf ("\n");
    }
    else if (out && out->ingredient)
        printf ("ingredient %-14s %-4s %s (%s)\n", out->ingredient->code, out->ingredient->unit,
                out->ingredient->name, out->created ? "created" : "updated");
    if (out)
        meso__v1__upsert_ingredient_reply__free_unpacked (out, NULL);
    meso_result_reset (&r);
    return out ? MESOCTL_OK : MESOCTL_FAILED;
}

#define MAX_RECIPE_LINES 64

static int
s_recipe (int argc, char **argv)
{
    meso_opt_t opts[] = {
        { "recipe", NULL, NULL, "recipe id, [a-z0-9_-], e.g. lipo-std", NULL },
        { "name", NULL, NULL, "display name", NULL },
        { "lines", NULL, NULL, "area:ingredient:qty per session, comma-separated (e.g. thighs:caffeine:100)", NULL },
        KEY_OPT, ENDPOINT_OPT, JSON_OPT, TIMEOUT_OPT,
        { NULL, NULL, NULL, NULL, NULL }
    };
    int rc = mesoctl_parsed (meso_config_parse (opts, argc, argv, "mesoctl inventory recipe",
        "Records a cocktail recipe: a new version when its lines or name changed, else the\n"
        "current version unchanged.", NULL, NULL));
    if (rc >= 0)
        return rc;
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
        if (s_parse_qty (c2 + 1, &lines[n].amount_milli) != 0) {
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
    meso_result_t r = { 0 };
    if ((rc = s_call (opts, "inventory.UpsertRecipe", &rq.base, true, &r)) != 0)
        return rc;
    size_t len;
    const uint8_t *body = meso_result_body (&r, &len);
    Meso__V1__UpsertRecipeReply *out = meso__v1__upsert_recipe_reply__unpack (NULL, len, body);
    if (out && meso_config_bool (opts, "json")) {
        s_json_message (&out->base);
        printf ("\n");
    }
    else if (out)
        printf ("recipe %s v%u (%zu lines)%s\n", out->recipe_id, out->version, n,
                out->changed ? "" : " unchanged");
    if (out)
        meso__v1__upsert_recipe_reply__free_unpacked (out, NULL);
    meso_result_reset (&r);
    return out ? MESOCTL_OK : MESOCTL_FAILED;
}

/* --------------------------------------------------------------- entry */

int
mesoctl_inventory (int argc, char **argv)
{
    const char *sub = argc >= 2 ? argv[1] : "";
    if (strcmp (sub, "receive") == 0)
        return s_receive (argc - 1, argv + 1);
    if (strcmp (sub, "stock") == 0)
        return s_stock (argc - 1, argv + 1);
    if (strcmp (sub, "transfer") == 0)
        return s_transfer (argc - 1, argv + 1);
    if (strcmp (sub, "recall") == 0)
        return s_recall (argc - 1, argv + 1);
    if (strcmp (sub, "forecast") == 0)
        return s_forecast (argc - 1, argv + 1);
    if (strcmp (sub, "ingredient") == 0)
        return s_ingredient (argc - 1, argv + 1);
    if (strcmp (sub, "recipe") == 0)
        return s_recipe (argc - 1, argv + 1);
    FILE *out = strcmp (sub, "--help") == 0 || strcmp (sub, "-h") == 0 ? stdout : stderr;
    fprintf (out, "Usage: mesoctl inventory <receive|stock|transfer|recall|forecast|ingredient|recipe>"
                  " [options]\n\n"
                  "  receive   receive a delivery into a clinic\n"
                  "  stock     a clinic's stock by ingredient and lot\n"
                  "  transfer  move part of a lot to another clinic\n"
                  "  recall    recall a lot; list the sessions that drew from it\n"
                  "  forecast  what booked sessions need against what is on hand\n"
                  "  ingredient  add or change an ingredient of the catalogue\n"
                  "  recipe    record a cocktail recipe (lines per treatment area)\n\n"
                  "Run \"mesoctl inventory <command> --help\" for its options.\n");
    return out == stdout ? MESOCTL_OK : MESOCTL_USAGE;
}
