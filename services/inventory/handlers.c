/* handlers.c -- the inventory daemon's methods ("inventory.*") and the
 * effect of session events.
 *
 * Each method: decode, validate (every bad field is named in a reason),
 * run one transaction, reply. Mutating methods run through s_run: the
 * idempotency claim, the effect and the stored reply share the transaction,
 * so a retried request replays its reply and an error changes nothing
 * (the whole transaction rolls back, claim included).
 *
 * Concurrency: Reserve, Release, Consume, Adjust, Transfer and Discard lock
 * the lots they touch with SELECT ... FOR UPDATE in lot_id order (store.c)
 * and decide from the locked, current quantities, so two clients cannot
 * both take the last unit; the CHECKs of the schema (on hand >= reserved >=
 * 0) stand behind that if the code were ever wrong. Reserve is idempotent by
 * appointment id as well as by key: the reservation row is inserted before
 * any lot is touched, and a concurrent Reserve of the same appointment
 * waits on that row, then returns the reservation the first one made.
 *
 * Release and Consume exist twice: as methods, and as the effect of
 * session.cancelled / session.no_show / session.completed (inventory_on_event,
 * inside meso_consumer's transaction that also advances the cursor). The
 * event path is lenient where the method is strict: an event is a fact
 * that already happened, so a state that makes it moot (already consumed,
 * never reserved) is a no-op rather than an error that would stop the
 * stream forever.
 *
 * A Release of an appointment that holds nothing still records it, as a
 * released reservation without lines (a tombstone), and a Reserve of a
 * released appointment is refused. So a Reserve that arrives after the
 * booking it served was undone (a request left queued by a scheduling
 * process that died, delivered after recovery released the appointment)
 * cannot hold stock for a booking that does not exist.
 *
 * Redate moves a held reservation to another session date (a rescheduled
 * session) in one transaction: lines in lots that expire before the new
 * date are given back and picked again FEFO, or the move is refused and
 * nothing changes. GetRecipe is how other services learn a recipe: they
 * never read the recipe tables themselves. */
#include "inventory.h"
#include "fefo.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meso/handler.h"
#include "meso/idem.h"
#include "meso/log.h"
#include "meso/mtime.h"
#include "meso/outbox.h"

#define ID_MAX 64
#define TEXT_MAX 200
#define MAX_AREAS 16
#define MAX_LINES 64
/* Quantities above this (a million units) are typing errors, and keep sums
 * far from int64 overflow. */
#define QTY_MAX (INT64_C (1000000000))

static Meso__V1__Actor s_service_actor = {
    PROTOBUF_C_MESSAGE_INIT (&meso__v1__actor__descriptor),
    MESO__V1__ACTOR__KIND__KIND_SERVICE, "inventory"
};

/* ----------------------------------------------------------- validation */

static void
s_need_qty (meso_reply_t *reply, int *bad, const char *field, int64_t v)
{
    if (v <= 0 || v > QTY_MAX) {
        meso_reply_reason (reply, "out_of_range", field,
                           "%s must be a positive amount in thousandths of the unit, at most %" PRId64
                           " (got %" PRId64 ")", field, QTY_MAX, v);
        (*bad)++;
    }
}

/* Parses a date field; *days set. */
static bool
s_need_date (meso_reply_t *reply, int *bad, const char *field, const char *v, int32_t *days)
{
    if (!v || !*v) {
        meso_reply_reason (reply, "missing_field", field, "%s is required (YYYY-MM-DD)", field);
        (*bad)++;
        return false;
    }
    if (meso_date_parse (v, days) != 0) {
        meso_reply_reason (reply, "invalid_date", field,
                           "%s must be a date YYYY-MM-DD (got \"%.32s\")", field, v);
        (*bad)++;
        return false;
    }
    return true;
}

static int32_t
s_today (void)
{
    int64_t us = meso_time_now_us ();
    return (int32_t) (us / INT64_C (86400000000));
}

/* '{a,b}' from codes already checked by meso_handler_code_ok (no quoting
 * needed). */
static void
s_array_literal (char *out, size_t size, char *const *names, size_t n)
{
    size_t len = 0;
    len += (size_t) snprintf (out + len, size - len, "{");
    for (size_t i = 0; i < n && len < size; i++)
        len += (size_t) snprintf (out + len, size - len, "%s%s", i ? "," : "", names[i]);
    if (len < size)
        snprintf (out + len, size - len, "}");
}

/* ----------------------------------------------------- mutating runner */

/* Every mutating method runs through meso_idem_run (idem.h). */
typedef meso_idem_job_t s_job_t;

static void
s_run (inventory_t *self, const Meso__V1__Request *req, meso_reply_t *reply, void *in,
       meso_idem_effect_fn *effect)
{
    meso_idem_run (self->db, INVENTORY_SCHEMA, req, reply, in, effect, self);
}

/* -------------------------------------------------------------- events */

/* Emits stock.low for (clinic, ingredient) when available just fell below
 * its reorder point. unit NULL or "": looked up (only on a crossing, which
 * is rare), so the event always says what the quantities count. */
static int
s_low_check (meso_db_t *db, const char *clinic, const char *ingredient, const char *unit)
{
    int64_t available = 0, point = 0;
    int crossed = store_low_check (db, clinic, ingredient, &available, &point);
    if (crossed <= 0)
        return crossed;
    char unit_buf[8] = "";
    if (!unit || !*unit) {
        PGresult *res = store_ingredient_get (db, ingredient);
        if (!res)
            return -1;
        if (PQntuples (res) == 1)
            snprintf (unit_buf, sizeof unit_buf, "%s", PQgetvalue (res, 0, 2));
        PQclear (res);
        unit = unit_buf;
    }
    Meso__V1__StockLow low = MESO__V1__STOCK_LOW__INIT;
    low.ingredient_code = (char *) ingredient;
    low.unit = (char *) unit;
    low.available_milli = available;
    low.reorder_point_milli = point;
    Meso__V1__Event ev = MESO__V1__EVENT__INIT;
    ev.payload_case = MESO__V1__EVENT__PAYLOAD_STOCK_LOW;
    ev.stock_low = &low;
    return meso_handler_emit (db, &ev, "stock.low", clinic, NULL, &s_service_actor);
}

/* --------------------------------------------------- reservations read */

typedef struct {
    PGresult *head, *lines, *consumed;
    Meso__V1__Reservation msg;
    Meso__V1__IngredientAmount *la, *ca;
    Meso__V1__IngredientAmount **lp, **cp;
    char *areas_buf;
    char **areas;
} s_resv_t;

static void
s_resv_free (s_resv_t *r)
{
    PQclear (r->head);
    PQclear (r->lines);
    PQclear (r->consumed);
    free (r->la);
    free (r->ca);
    free (r->lp);
    free (r->cp);
    free (r->areas_buf);
    free (r->areas);
    memset (r, 0, sizeof *r);
}

static int
s_amounts (PGresult *res, Meso__V1__IngredientAmount **arr, Meso__V1__IngredientAmount ***ptrs)
{
    int n = PQntuples (res);
    *arr = calloc ((size_t) n + 1, sizeof **arr);
    *ptrs = calloc ((size_t) n + 1, sizeof **ptrs);
    if (!*arr || !*ptrs)
        return -1;
    for (int i = 0; i < n; i++) {
        Meso__V1__IngredientAmount *a = &(*arr)[i];
        meso__v1__ingredient_amount__init (a);
        a->ingredient_code = PQgetvalue (res, i, 0);
        a->unit = PQgetvalue (res, i, 1);
        a->amount_milli = store_i64 (res, i, 2);
        a->lot_id = PQgetvalue (res, i, 3);
        a->lot_number = PQgetvalue (res, i, 4);
        (*ptrs)[i] = a;
    }
    return n;
}

/* Loads a reservation with its lines. 1 found, 0 not, -1 error (db error
 * set, or out of memory). */
static int
s_resv_load (meso_db_t *db, const char *clinic, const char *appointment, s_resv_t *r)
{
    memset (r, 0, sizeof *r);
    r->head = store_reservation_get (db, clinic, appointment, false);
    if (!r->head)
        return -1;
    if (PQntuples (r->head) == 0) {
        s_resv_free (r);
        return 0;
    }
    r->lines = store_reservation_lines (db, clinic, appointment);
    r->consumed = r->lines ? store_consumption_lines (db, clinic, appointment) : NULL;
    if (!r->lines || !r->consumed) {
        s_resv_free (r);
        return -1;
    }
    Meso__V1__Reservation *m = &r->msg;
    meso__v1__reservation__init (m);
    m->clinic_id = PQgetvalue (r->head, 0, 0);
    m->appointment_id = PQgetvalue (r->head, 0, 1);
    m->patient_id = PQgetvalue (r->head, 0, 2);
    m->session_date = PQgetvalue (r->head, 0, 3);
    m->recipe_id = PQgetvalue (r->head, 0, 4);
    m->recipe_version = (uint32_t) store_i64 (r->head, 0, 5);
    m->status = PQgetvalue (r->head, 0, 7);
    const char *areas = PQgetvalue (r->head, 0, 6);
    r->areas_buf = strdup (areas);
    r->areas = calloc (strlen (areas) / 2 + 2, sizeof *r->areas);
    if (!r->areas_buf || !r->areas) {
        s_resv_free (r);
        return -1;
    }
    size_t na = 0;
    for (char *save = NULL, *tok = strtok_r (r->areas_buf, ",", &save); tok;
         tok = strtok_r (NULL, ",", &save))
        r->areas[na++] = tok;
    m->n_areas = na;
    m->areas = r->areas;
    int nl = s_amounts (r->lines, &r->la, &r->lp);
    int nc = s_amounts (r->consumed, &r->ca, &r->cp);
    if (nl < 0 || nc < 0) {
        s_resv_free (r);
        return -1;
    }
    m->n_lines = (size_t) nl;
    m->lines = r->lp;
    m->n_consumed = (size_t) nc;
    m->consumed = r->cp;
    return 1;
}

/* Replies with a reservation in the reply message type of the method. */
static int
s_reply_reservation (meso_db_t *db, meso_reply_t *reply, const char *clinic,
                     const char *appointment, const char *method, bool existing)
{
    s_resv_t r;
    int rc = s_resv_load (db, clinic, appointment, &r);
    if (rc < 0)
        return -1;
    if (rc == 0) {
        meso_reply_error (reply, MESO_NOT_FOUND, "no reservation for appointment %.64s in clinic %.64s",
                          appointment, clinic);
        return -1;
    }
    if (strcmp (method, "inventory.Reserve") == 0) {
        Meso__V1__ReserveReply out = MESO__V1__RESERVE_REPLY__INIT;
        out.reservation = &r.msg;
        out.existing = existing;
        meso_reply_ok (reply, &out.base);
    }
    else if (strcmp (method, "inventory.Release") == 0) {
        Meso__V1__ReleaseReply out = MESO__V1__RELEASE_REPLY__INIT;
        out.reservation = &r.msg;
        meso_reply_ok (reply, &out.base);
    }
    else {
        Meso__V1__ConsumeReply out = MESO__V1__CONSUME_REPLY__INIT;
        out.reservation = &r.msg;
        meso_reply_ok (reply, &out.base);
    }
    s_resv_free (&r);
    return 0;
}

/* Builds the event lines of a reservation's current lines (or
 * consumption) and emits one event. kind: "reserved", "released",
 * "consumed". */
static int
s_emit_reservation (meso_db_t *db, const char *clinic, const char *appointment, const char *kind,
                    const char *reason, const Meso__V1__Actor *actor)
{
    s_resv_t r;
    int rc = s_resv_load (db, clinic, appointment, &r);
    if (rc <= 0)
        return rc < 0 ? -1 : 0;
    Meso__V1__Event ev = MESO__V1__EVENT__INIT;
    Meso__V1__StockReserved sr = MESO__V1__STOCK_RESERVED__INIT;
    Meso__V1__StockReleased sl = MESO__V1__STOCK_RELEASED__INIT;
    Meso__V1__StockConsumed sc = MESO__V1__STOCK_CONSUMED__INIT;
    const char *type;
    if (strcmp (kind, "reserved") == 0) {
        sr.appointment_id = r.msg.appointment_id;
        sr.patient_id = r.msg.patient_id;
        sr.session_date = r.msg.session_date;
        sr.n_lines = r.msg.n_lines;
        sr.lines = r.msg.lines;
        ev.payload_case = MESO__V1__EVENT__PAYLOAD_STOCK_RESERVED;
        ev.stock_reserved = &sr;
        type = "stock.reserved";
    }
    else if (strcmp (kind, "released") == 0) {
        sl.appointment_id = r.msg.appointment_id;
        sl.n_lines = r.msg.n_lines;
        sl.lines = r.msg.lines;
        sl.reason = (char *) (reason ? reason : "");
        ev.payload_case = MESO__V1__EVENT__PAYLOAD_STOCK_RELEASED;
        ev.stock_released = &sl;
        type = "stock.released";
    }
    else {
        sc.appointment_id = r.msg.appointment_id;
        sc.patient_id = r.msg.patient_id;
        sc.n_lines = r.msg.n_consumed;
        sc.lines = r.msg.consumed;
        ev.payload_case = MESO__V1__EVENT__PAYLOAD_STOCK_CONSUMED;
        ev.stock_consumed = &sc;
        type = "stock.consumed";
    }
    rc = meso_handler_emit (db, &ev, type, clinic, actor, &s_service_actor);
    s_resv_free (&r);
    return rc;
}

/* ------------------------------------------------------- lot working set */

/* The locked lots of one transaction, with the changes it will write. */
typedef struct {
    PGresult *res;
    int n;
    fefo_lot_t *fl;
    int64_t *on_hand, *reserved;    /* current, as changed in memory */
    int64_t *d_on_hand, *d_reserved;
    bool *mine;                     /* in the reservation being consumed */
} s_lots_t;

static void
s_lots_free (s_lots_t *l)
{
    PQclear (l->res);
    free (l->fl);
    free (l->on_hand);
    free (l->reserved);
    free (l->d_on_hand);
    free (l->d_reserved);
    free (l->mine);
    memset (l, 0, sizeof *l);
}

static int
s_lots_lock (meso_db_t *db, const char *clinic, const char *codes, s_lots_t *l)
{
    memset (l, 0, sizeof *l);
    l->res = store_lots_lock (db, clinic, codes);
    if (!l->res)
        return -1;
    l->n = PQntuples (l->res);
    size_t n = (size_t) l->n + 1;
    l->fl = calloc (n, sizeof *l->fl);
    l->on_hand = calloc (n, sizeof (int64_t));
    l->reserved = calloc (n, sizeof (int64_t));
    l->d_on_hand = calloc (n, sizeof (int64_t));
    l->d_reserved = calloc (n, sizeof (int64_t));
    l->mine = calloc (n, sizeof (bool));
    if (!l->fl || !l->on_hand || !l->reserved || !l->d_on_hand || !l->d_reserved || !l->mine) {
        s_lots_free (l);
        meso_db_set_error (db, NULL, "out of memory");
        return -1;
    }
    for (int i = 0; i < l->n; i++) {
        l->on_hand[i] = store_i64 (l->res, i, LOT_ON_HAND);
        l->reserved[i] = store_i64 (l->res, i, LOT_RESERVED);
        l->fl[i].expiry = (int32_t) store_i64 (l->res, i, LOT_EXPIRY_DAYS);
        l->fl[i].received_us = store_i64 (l->res, i, LOT_RECEIVED_US);
        l->fl[i].recalled = store_i64 (l->res, i, LOT_RECALLED) != 0;
        l->fl[i].available = l->on_hand[i] - l->reserved[i];
    }
    return 0;
}

static int
s_lots_find (const s_lots_t *l, const char *lot_id)
{
    for (int i = 0; i < l->n; i++)
        if (strcmp (PQgetvalue (l->res, i, LOT_ID), lot_id) == 0)
            return i;
    return -1;
}

static const char *
s_lot_ingredient (const s_lots_t *l, int i)
{
    return PQgetvalue (l->res, i, LOT_INGREDIENT);
}

/* Writes the in-memory changes of every lot. */
static int
s_lots_write (meso_db_t *db, const char *clinic, const s_lots_t *l)
{
    for (int i = 0; i < l->n; i++)
        if (l->d_on_hand[i] || l->d_reserved[i])
            if (store_lot_change (db, clinic, PQgetvalue (l->res, i, LOT_ID), l->d_on_hand[i],
                                  l->d_reserved[i]) != 0)
                return -1;
    return 0;
}

/* ---------------------------------------------------------- UpsertIngredient */

static int
s_upsert_ingredient_effect (meso_db_t *db, s_job_t *job)
{
    Meso__V1__UpsertIngredientRequest *in = job->in;
    PGresult *res = store_ingredient_get (db, in->ingredient->code);
    if (!res)
        return -1;
    bool unit_change = PQntuples (res) == 1 && strcmp (PQgetvalue (res, 0, 2), in->ingredient->unit) != 0;
    PQclear (res);
    if (unit_change) {
        int has = store_ingredient_has_lots (db, in->ingredient->code);
        if (has < 0)
            return -1;
        if (has) {
            meso_reply_error (job->reply, MESO_FAILED_PRECONDITION,
                              "the unit of ingredient %s cannot change while stock of it exists",
                              in->ingredient->code);
            meso_reply_detail (job->reply, "quantities of its lots are counted in the old unit");
            return -1;
        }
        /* Recipe amounts are counted in the unit too: 100 mg would
         * silently become 100 ml. */
        int used = store_ingredient_in_recipes (db, in->ingredient->code);
        if (used < 0)
            return -1;
        if (used) {
            meso_reply_error (job->reply, MESO_FAILED_PRECONDITION,
                              "the unit of ingredient %s cannot change while recipes use it",
                              in->ingredient->code);
            meso_reply_detail (job->reply, "recipe amounts of it are counted in the old unit");
            return -1;
        }
    }
    bool created = false;
    if (store_ingredient_upsert (db, in->ingredient, &created) != 0)
        return -1;
    Meso__V1__UpsertIngredientReply out = MESO__V1__UPSERT_INGREDIENT_REPLY__INIT;
    out.ingredient = in->ingredient;
    out.created = created;
    meso_reply_ok (job->reply, &out.base);
    return 0;
}

static void
s_upsert_ingredient (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    Meso__V1__UpsertIngredientRequest *in = body;
    int bad = 0;
    if (!in->ingredient) {
        meso_reply_reason (reply, "missing_field", "ingredient", "ingredient is required");
        bad++;
    }
    else {
        meso_handler_need_code (reply, &bad, "ingredient.code", in->ingredient->code);
        meso_handler_need_text (reply, &bad, "ingredient.name", in->ingredient->name, TEXT_MAX);
        if (!in->ingredient->unit || (strcmp (in->ingredient->unit, "mg") != 0
                                      && strcmp (in->ingredient->unit, "ml") != 0)) {
            meso_reply_reason (reply, "invalid_unit", "ingredient.unit",
                               "unit must be \"mg\" or \"ml\"");
            bad++;
        }
        if (in->ingredient->form && strlen (in->ingredient->form) > TEXT_MAX) {
            meso_reply_reason (reply, "out_of_range", "ingredient.form",
                               "form must be at most %d bytes", TEXT_MAX);
            bad++;
        }
    }
    if (!meso_handler_invalid (reply, bad, req->method))
        s_run (arg, req, reply, in, s_upsert_ingredient_effect);
}

/* ---------------------------------------------------------- UpsertRecipe */

static int
s_line_cmp (const void *a, const void *b)
{
    const Meso__V1__RecipeLine *x = *(Meso__V1__RecipeLine *const *) a;
    const Meso__V1__RecipeLine *y = *(Meso__V1__RecipeLine *const *) b;
    int c = strcmp (x->area, y->area);
    return c ? c : strcmp (x->ingredient_code, y->ingredient_code);
}

static int
s_upsert_recipe_effect (meso_db_t *db, s_job_t *job)
{
    Meso__V1__UpsertRecipeRequest *in = job->in;
    /* Every ingredient must be in the catalogue. */
    int unknown = 0;
    for (size_t i = 0; i < in->n_lines; i++) {
        PGresult *res = store_ingredient_get (db, in->lines[i]->ingredient_code);
        if (!res)
            return -1;
        if (PQntuples (res) == 0) {
            char field[48];
            snprintf (field, sizeof field, "lines[%zu].ingredient_code", i);
            meso_reply_reason (job->reply, "unknown_ingredient", field,
                               "ingredient \"%s\" is not in the catalogue; add it with UpsertIngredient",
                               in->lines[i]->ingredient_code);
            unknown++;
        }
        PQclear (res);
    }
    if (unknown) {
        meso_reply_error (job->reply, MESO_NOT_FOUND, "recipe %s names %d unknown ingredient%s",
                          in->recipe_id, unknown, unknown > 1 ? "s" : "");
        return -1;
    }
    if (store_recipe_lock (db, in->recipe_id) != 0)
        return -1;
    uint32_t version = 0;
    char name[TEXT_MAX + 1];
    if (store_recipe_latest (db, in->recipe_id, &version, name, sizeof name) != 0)
        return -1;
    bool same = false;
    if (version > 0 && strcmp (name, in->name ? in->name : "") == 0) {
        PGresult *res = store_recipe_lines (db, in->recipe_id, version);
        if (!res)
            return -1;
        /* Lines arrive sorted (s_upsert_recipe sorted them); the store
         * returns them in the same order. */
        same = (size_t) PQntuples (res) == in->n_lines;
        for (size_t i = 0; same && i < in->n_lines; i++)
            same = strcmp (PQgetvalue (res, (int) i, 0), in->lines[i]->area) == 0
                && strcmp (PQgetvalue (res, (int) i, 1), in->lines[i]->ingredient_code) == 0
                && store_i64 (res, (int) i, 2) == in->lines[i]->amount_milli;
        PQclear (res);
    }
    Meso__V1__UpsertRecipeReply out = MESO__V1__UPSERT_RECIPE_REPLY__INIT;
    out.recipe_id = in->recipe_id;
    if (same) {
        out.version = version;
        out.changed = false;
    }
    else {
        version++;
        if (store_recipe_insert (db, in->recipe_id, version, in->name) != 0)
            return -1;
        for (size_t i = 0; i < in->n_lines; i++)
            if (store_recipe_line_insert (db, in->recipe_id, version, in->lines[i]) != 0)
                return -1;
        out.version = version;
        out.changed = true;
    }
    meso_reply_ok (job->reply, &out.base);
    return 0;
}

static void
s_upsert_recipe (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    Meso__V1__UpsertRecipeRequest *in = body;
    int bad = 0;
    meso_handler_need_code (reply, &bad, "recipe_id", in->recipe_id);
    if (in->name && strlen (in->name) > TEXT_MAX) {
        meso_reply_reason (reply, "out_of_range", "name", "name must be at most %d bytes", TEXT_MAX);
        bad++;
    }
    if (in->n_lines == 0) {
        meso_reply_reason (reply, "missing_field", "lines",
                           "a recipe needs at least one line (area, ingredient, amount)");
        bad++;
    }
    else if (in->n_lines > MAX_LINES * MAX_AREAS) {
        meso_reply_reason (reply, "out_of_range", "lines", "at most %d lines", MAX_LINES * MAX_AREAS);
        bad++;
    }
    for (size_t i = 0; !bad && i < in->n_lines; i++) {
        char field[48];
        Meso__V1__RecipeLine *l = in->lines[i];
        if (!meso_handler_code_ok (l->area, false) || strchr (l->area, '-')) {
            snprintf (field, sizeof field, "lines[%zu].area", i);
            meso_reply_reason (reply, "invalid_area", field,
                               "area must be a treatment area code of a-z, 0-9 and _ (got \"%.64s\")",
                               l->area);
            bad++;
        }
        snprintf (field, sizeof field, "lines[%zu].ingredient_code", i);
        meso_handler_need_code (reply, &bad, field, l->ingredient_code);
        snprintf (field, sizeof field, "lines[%zu].amount_milli", i);
        s_need_qty (reply, &bad, field, l->amount_milli);
    }
    if (!bad) {
        qsort (in->lines, in->n_lines, sizeof *in->lines, s_line_cmp);
        for (size_t i = 1; i < in->n_lines; i++)
            if (s_line_cmp (&in->lines[i - 1], &in->lines[i]) == 0) {
                meso_reply_reason (reply, "duplicate_line", "lines",
                                   "area %s lists ingredient %s twice", in->lines[i]->area,
                                   in->lines[i]->ingredient_code);
                bad++;
                break;
            }
    }
    if (!meso_handler_invalid (reply, bad, req->method))
        s_run (arg, req, reply, in, s_upsert_recipe_effect);
}

/* ------------------------------------------------------------ GetRecipe */

/* Validates a list of treatment areas (optional when !required). */
static void
s_need_areas (meso_reply_t *reply, int *bad, char **areas, size_t n, bool required)
{
    if ((required && n == 0) || n > MAX_AREAS) {
        meso_reply_reason (reply, n ? "out_of_range" : "missing_field", "areas",
                           "give 1 to %d treatment areas", MAX_AREAS);
        (*bad)++;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (!meso_handler_code_ok (areas[i], false)) {
            meso_reply_reason (reply, "invalid_area", "areas",
                               "area \"%.64s\" is not a treatment area code (a-z, 0-9, _)", areas[i]);
            (*bad)++;
            return;
        }
        for (size_t j = 0; j < i; j++)
            if (strcmp (areas[i], areas[j]) == 0) {
                meso_reply_reason (reply, "duplicate_area", "areas", "area %s is listed twice", areas[i]);
                (*bad)++;
                return;
            }
    }
}

/* A read: recipe versions are never changed once written, so the head,
 * the lines and the needs are read without a transaction and still agree. */
static void
s_get_recipe (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    inventory_t *self = arg;
    Meso__V1__GetRecipeRequest *in = body;
    int bad = 0;
    meso_handler_need_code (reply, &bad, "recipe_id", in->recipe_id);
    s_need_areas (reply, &bad, in->areas, in->n_areas, false);
    char lit[MAX_AREAS * (ID_MAX + 1) + 4];
    const char *areas = NULL;
    if (!bad && in->n_areas) {
        s_array_literal (lit, sizeof lit, in->areas, in->n_areas);
        areas = lit;
    }
    PGresult *head = NULL, *missing = NULL, *lines = NULL, *need = NULL;
    Meso__V1__RecipeLine *la = NULL, **lp = NULL;
    Meso__V1__IngredientAmount *na = NULL, **np = NULL;
    if (meso_handler_invalid (reply, bad, req->method))
        goto done;
    uint32_t latest = 0;
    if (store_recipe_latest (self->db, in->recipe_id, &latest, NULL, 0) != 0)
        goto db_error;
    uint32_t version = in->version ? in->version : latest;
    head = latest && version <= latest ? store_recipe_get (self->db, in->recipe_id, version) : NULL;
    if (latest && version <= latest && !head)
        goto db_error;
    if (!head || PQntuples (head) != 1) {
        meso_reply_error (reply, MESO_NOT_FOUND, "no recipe %s%s%.0u", in->recipe_id,
                          in->version ? " version " : "", in->version);
        meso_reply_reason (reply, "unknown_recipe", in->version ? "version" : "recipe_id",
                           "record the recipe with inventory.UpsertRecipe first");
        goto done;
    }
    if (areas) {
        missing = store_recipe_missing_areas (self->db, in->recipe_id, version, areas);
        if (!missing)
            goto db_error;
        for (int i = 0; i < PQntuples (missing); i++)
            meso_reply_reason (reply, "unknown_area", "areas",
                               "recipe %s version %u has nothing for area \"%s\"", in->recipe_id,
                               version, PQgetvalue (missing, i, 0));
        if (PQntuples (missing)) {
            meso_reply_error (reply, MESO_INVALID_ARGUMENT,
                              "recipe %s version %u does not cover %d of the areas", in->recipe_id,
                              version, PQntuples (missing));
            goto done;
        }
    }
    lines = store_recipe_lines_units (self->db, in->recipe_id, version, areas);
    need = lines ? store_recipe_need (self->db, in->recipe_id, version, areas) : NULL;
    if (!lines || !need)
        goto db_error;
    int nl = PQntuples (lines), nn = PQntuples (need);
    la = calloc ((size_t) nl + 1, sizeof *la);
    lp = calloc ((size_t) nl + 1, sizeof *lp);
    na = calloc ((size_t) nn + 1, sizeof *na);
    np = calloc ((size_t) nn + 1, sizeof *np);
    if (!la || !lp || !na || !np) {
        meso_reply_error (reply, MESO_RESOURCE_EXHAUSTED, "out of memory");
        goto done;
    }
    for (int i = 0; i < nl; i++) {
        meso__v1__recipe_line__init (&la[i]);
        la[i].area = PQgetvalue (lines, i, 0);
        la[i].ingredient_code = PQgetvalue (lines, i, 1);
        la[i].amount_milli = store_i64 (lines, i, 2);
        la[i].unit = PQgetvalue (lines, i, 3);
        lp[i] = &la[i];
    }
    for (int i = 0; i < nn; i++) {
        meso__v1__ingredient_amount__init (&na[i]);
        na[i].ingredient_code = PQgetvalue (need, i, 0);
        na[i].unit = PQgetvalue (need, i, 1);
        na[i].amount_milli = store_i64 (need, i, 2);
        np[i] = &na[i];
    }
    Meso__V1__GetRecipeReply out = MESO__V1__GET_RECIPE_REPLY__INIT;
    out.recipe_id = in->recipe_id;
    out.version = version;
    out.name = PQgetvalue (head, 0, 1);
    out.n_lines = (size_t) nl;
    out.lines = lp;
    out.n_needs = (size_t) nn;
    out.needs = np;
    out.latest_version = latest;
    meso_reply_ok (reply, &out.base);
    goto done;
db_error:
    meso_reply_db_error (reply, self->db, "cannot read the recipe");
done:
    free (la);
    free (lp);
    free (na);
    free (np);
    PQclear (head);
    PQclear (missing);
    PQclear (lines);
    PQclear (need);
}

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
s_receive_effect (meso_db_t *db, s_job_t *job)
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
    char unit[8];
    snprintf (unit, sizeof unit, "%s", PQgetvalue (res, 0, 2));
    PQclear (res);
    char lot_id[40];
    int rc = store_lot_receive (db, in->clinic_id, in->ingredient_code, in->lot_number,
                                in->supplier, in->expiry_date, in->quantity_milli, lot_id);
    if (rc < 0)
        return -1;
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
                           job->req->actor, &s_service_actor) != 0
        || s_low_check (db, in->clinic_id, in->ingredient_code, unit) < 0)
        return -1;
    return s_reply_lot (db, job->reply, in->clinic_id, lot_id, job->req->method);
}

static void
s_receive (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    Meso__V1__ReceiveRequest *in = body;
    int bad = 0;
    int32_t expiry;
    meso_handler_need_text (reply, &bad, "clinic_id", in->clinic_id, ID_MAX);
    meso_handler_need_code (reply, &bad, "ingredient_code", in->ingredient_code);
    meso_handler_need_text (reply, &bad, "lot_number", in->lot_number, 128);
    if (in->supplier && strlen (in->supplier) > TEXT_MAX) {
        meso_reply_reason (reply, "out_of_range", "supplier", "supplier must be at most %d bytes",
                           TEXT_MAX);
        bad++;
    }
    if (s_need_date (reply, &bad, "expiry_date", in->expiry_date, &expiry) && expiry < s_today ()) {
        meso_reply_reason (reply, "expired", "expiry_date",
                           "the lot expired on %s: an expired delivery cannot be received",
                           in->expiry_date);
        bad++;
    }
    s_need_qty (reply, &bad, "quantity_milli", in->quantity_milli);
    if (!meso_handler_invalid (reply, bad, req->method))
        s_run (arg, req, reply, in, s_receive_effect);
}

/* --------------------------------------------------------------- Adjust */

static int
s_adjust_effect (meso_db_t *db, s_job_t *job)
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
    char ingredient[ID_MAX + 1], unit[8];
    snprintf (ingredient, sizeof ingredient, "%s", PQgetvalue (res, 0, LOT_INGREDIENT));
    snprintf (unit, sizeof unit, "%s", PQgetvalue (res, 0, LOT_UNIT));
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
        || s_low_check (db, in->clinic_id, ingredient, unit) < 0)
        return -1;
    return s_reply_lot (db, job->reply, in->clinic_id, in->lot_id, job->req->method);
}

static void
s_adjust (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    Meso__V1__AdjustRequest *in = body;
    int bad = 0;
    meso_handler_need_text (reply, &bad, "clinic_id", in->clinic_id, ID_MAX);
    meso_handler_need_text (reply, &bad, "lot_id", in->lot_id, ID_MAX);
    meso_handler_need_text (reply, &bad, "reason", in->reason, TEXT_MAX);
    if (in->delta_milli == 0 || in->delta_milli > QTY_MAX || in->delta_milli < -QTY_MAX) {
        meso_reply_reason (reply, "out_of_range", "delta_milli",
                           "delta_milli must be non-zero and at most %" PRId64 " in size", QTY_MAX);
        bad++;
    }
    if (!meso_handler_invalid (reply, bad, req->method))
        s_run (arg, req, reply, in, s_adjust_effect);
}

/* ------------------------------------------------------- DiscardExpired */

typedef struct {
    Meso__V1__DiscardExpiredRequest *in;
    char as_of[16];
} s_discard_t;

static int
s_discard_effect (meso_db_t *db, s_job_t *job)
{
    s_discard_t *d = job->in;
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
    /* A lot may be discarded before it expires (as_of in the future): what
     * is usable today falls, as with any other removal. After every lot,
     * so the event carries the final figure. */
    for (int i = 0; rc == 0 && i < n; i++)
        if (s_low_check (db, d->in->clinic_id, lots[i].ingredient_code, lots[i].unit) < 0)
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

static void
s_discard_expired (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    Meso__V1__DiscardExpiredRequest *in = body;
    int bad = 0;
    s_discard_t d = { in, "" };
    meso_handler_need_text (reply, &bad, "clinic_id", in->clinic_id, ID_MAX);
    int32_t as_of = s_today ();
    if (in->as_of && *in->as_of)
        s_need_date (reply, &bad, "as_of", in->as_of, &as_of);
    meso_date_format (as_of, d.as_of, sizeof d.as_of);
    if (!meso_handler_invalid (reply, bad, req->method))
        s_run (arg, req, reply, &d, s_discard_effect);
}

/* ------------------------------------------------------------- Transfer */

static int
s_transfer_effect (meso_db_t *db, s_job_t *job)
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
    int got = store_lot_receive (db, in->to_clinic_id, from.ingredient_code, from.lot_number,
                                 from.supplier, from.expiry_date, in->quantity_milli, to_id);
    if (got < 0)
        goto done;
    if (got == 0) {
        meso_reply_error (job->reply, MESO_FAILED_PRECONDITION,
                          "clinic %s holds lot number %s of %s with another expiry date",
                          in->to_clinic_id, from.lot_number, from.ingredient_code);
        goto done;
    }
    if (store_lot_change (db, in->from_clinic_id, in->lot_id, -in->quantity_milli, 0) != 0
        || store_movement (db, in->from_clinic_id, in->lot_id, "transfer_out", -in->quantity_milli,
                           NULL, in->reason) != 0
        || store_movement (db, in->to_clinic_id, to_id, "transfer_in", in->quantity_milli, NULL,
                           in->reason) != 0
        || s_low_check (db, in->from_clinic_id, from.ingredient_code, from.unit) < 0
        || s_low_check (db, in->to_clinic_id, from.ingredient_code, from.unit) < 0)
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

static void
s_transfer (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    Meso__V1__TransferRequest *in = body;
    int bad = 0;
    meso_handler_need_text (reply, &bad, "from_clinic_id", in->from_clinic_id, ID_MAX);
    meso_handler_need_text (reply, &bad, "to_clinic_id", in->to_clinic_id, ID_MAX);
    meso_handler_need_text (reply, &bad, "lot_id", in->lot_id, ID_MAX);
    s_need_qty (reply, &bad, "quantity_milli", in->quantity_milli);
    if (in->reason && strlen (in->reason) > TEXT_MAX) {
        meso_reply_reason (reply, "out_of_range", "reason", "reason must be at most %d bytes", TEXT_MAX);
        bad++;
    }
    if (in->from_clinic_id && in->to_clinic_id && *in->from_clinic_id
        && strcmp (in->from_clinic_id, in->to_clinic_id) == 0) {
        meso_reply_reason (reply, "same_clinic", "to_clinic_id",
                           "a transfer needs two different clinics (both are %.64s)", in->to_clinic_id);
        bad++;
    }
    if (!meso_handler_invalid (reply, bad, req->method))
        s_run (arg, req, reply, in, s_transfer_effect);
}

/* -------------------------------------------------------------- Reserve */

typedef struct {
    Meso__V1__ReserveRequest *in;
    char areas[MAX_AREAS * (ID_MAX + 1) + 4];
} s_reserve_t;

/* Replies with an existing reservation of the appointment when there is
 * one: 1 replied, 0 none, -1 refused or failed. */
static int
s_reserve_existing (meso_db_t *db, s_job_t *job)
{
    s_reserve_t *r = job->in;
    PGresult *res = store_reservation_get (db, r->in->clinic_id, r->in->appointment_id, false);
    if (!res)
        return -1;
    if (PQntuples (res) == 0) {
        PQclear (res);
        return 0;
    }
    int rc = 1;
    /* Released first: a tombstone (Release before any Reserve) has no
     * patient. */
    if (strcmp (PQgetvalue (res, 0, 7), "released") == 0) {
        meso_reply_error (job->reply, MESO_FAILED_PRECONDITION,
                          "the reservation of appointment %s was released; a new booking needs a new appointment",
                          r->in->appointment_id);
        meso_reply_reason (job->reply, "released", "appointment_id",
                           "appointment %s was released and cannot be reserved again", r->in->appointment_id);
        rc = -1;
    }
    else if (strcmp (PQgetvalue (res, 0, 2), r->in->patient_id) != 0) {
        meso_reply_error (job->reply, MESO_FAILED_PRECONDITION,
                          "appointment %s is reserved for another patient", r->in->appointment_id);
        rc = -1;
    }
    PQclear (res);
    if (rc == 1 && s_reply_reservation (db, job->reply, r->in->clinic_id, r->in->appointment_id,
                                        "inventory.Reserve", true) != 0)
        rc = -1;
    return rc;
}

static int
s_reserve_effect (meso_db_t *db, s_job_t *job)
{
    s_reserve_t *r = job->in;
    Meso__V1__ReserveRequest *in = r->in;
    int rc = s_reserve_existing (db, job);
    if (rc != 0)
        return rc > 0 ? 0 : -1;

    uint32_t latest = 0;
    if (store_recipe_latest (db, in->recipe_id, &latest, NULL, 0) != 0)
        return -1;
    uint32_t version = in->recipe_version ? in->recipe_version : latest;
    if (latest == 0 || version > latest) {
        meso_reply_error (job->reply, MESO_NOT_FOUND, "no recipe %s%s%.0u", in->recipe_id,
                          in->recipe_version ? " version " : "", in->recipe_version);
        meso_reply_reason (job->reply, "unknown_recipe", in->recipe_version ? "recipe_version" : "recipe_id",
                           "record the recipe with UpsertRecipe first");
        return -1;
    }
    PGresult *missing = store_recipe_missing_areas (db, in->recipe_id, version, r->areas);
    if (!missing)
        return -1;
    for (int i = 0; i < PQntuples (missing); i++)
        meso_reply_reason (job->reply, "unknown_area", "areas",
                           "recipe %s version %u has nothing for area \"%s\"", in->recipe_id, version,
                           PQgetvalue (missing, i, 0));
    int nmissing = PQntuples (missing);
    PQclear (missing);
    if (nmissing) {
        meso_reply_error (job->reply, MESO_INVALID_ARGUMENT,
                          "recipe %s version %u does not cover %d of the areas", in->recipe_id,
                          version, nmissing);
        return -1;
    }

    int ins = store_reservation_insert (db, in->clinic_id, in->appointment_id, in->patient_id,
                                        in->session_date, in->recipe_id, version, r->areas, "held");
    if (ins < 0)
        return -1;
    if (ins == 0) {
        /* A concurrent Reserve of the same appointment committed first. */
        rc = s_reserve_existing (db, job);
        return rc > 0 ? 0 : -1;
    }

    PGresult *need = store_recipe_need (db, in->recipe_id, version, r->areas);
    if (!need)
        return -1;
    int nneed = PQntuples (need);
    char **codes = calloc ((size_t) nneed + 1, sizeof *codes);
    char *lit = malloc ((size_t) nneed * (ID_MAX + 1) + 4);
    s_lots_t lots = { 0 };
    fefo_pick_t *picks = NULL;
    size_t *sub = NULL;
    fefo_lot_t *subl = NULL;
    rc = -1;
    if (!codes || !lit)
        goto done;
    for (int k = 0; k < nneed; k++)
        codes[k] = PQgetvalue (need, k, 0);
    s_array_literal (lit, (size_t) nneed * (ID_MAX + 1) + 4, codes, (size_t) nneed);
    int32_t session;
    meso_date_parse (in->session_date, &session);
    if (s_lots_lock (db, in->clinic_id, lit, &lots) != 0)
        goto done;
    picks = calloc ((size_t) lots.n + 1, sizeof *picks);
    sub = calloc ((size_t) lots.n + 1, sizeof *sub);
    subl = calloc ((size_t) lots.n + 1, sizeof *subl);
    if (!picks || !sub || !subl)
        goto done;

    /* Pass 1: is there enough of everything? (All or nothing, and every
     * shortage named.) */
    int short_count = 0;
    for (int k = 0; k < nneed; k++) {
        int64_t want = store_i64 (need, k, 2), usable = 0;
        for (int i = 0; i < lots.n; i++)
            if (strcmp (s_lot_ingredient (&lots, i), codes[k]) == 0
                && fefo_usable (&lots.fl[i], session))
                usable += lots.fl[i].available;
        if (usable < want) {
            meso_reply_reason (job->reply, "insufficient_stock", codes[k],
                               "%s: %" PRId64 " needed, %" PRId64 " usable on %s (thousandths of %s)",
                               codes[k], want, usable, in->session_date, PQgetvalue (need, k, 1));
            short_count++;
        }
    }
    if (short_count) {
        meso_reply_error (job->reply, MESO_RESOURCE_EXHAUSTED,
                          "not enough stock in clinic %s for the session of %s: %d ingredient%s short",
                          in->clinic_id, in->session_date, short_count, short_count > 1 ? "s" : "");
        goto done;
    }
    /* Pass 2: pick first-expiring-first and hold. */
    for (int k = 0; k < nneed; k++) {
        size_t ns = 0;
        for (int i = 0; i < lots.n; i++)
            if (strcmp (s_lot_ingredient (&lots, i), codes[k]) == 0) {
                sub[ns] = (size_t) i;
                subl[ns] = lots.fl[i];
                ns++;
            }
        int np = fefo_pick (subl, ns, session, store_i64 (need, k, 2), picks, NULL);
        if (np < 0) {
            meso_reply_error (job->reply, MESO_INTERNAL, "lot picking failed for %s", codes[k]);
            goto done;
        }
        for (int p = 0; p < np; p++) {
            size_t i = sub[picks[p].lot];
            lots.d_reserved[i] += picks[p].amount;
            if (store_reservation_line_insert (db, in->clinic_id, in->appointment_id,
                                               PQgetvalue (lots.res, (int) i, LOT_ID), codes[k],
                                               picks[p].amount) != 0)
                goto done;
        }
    }
    if (s_lots_write (db, in->clinic_id, &lots) != 0
        || s_emit_reservation (db, in->clinic_id, in->appointment_id, "reserved", NULL,
                               job->req->actor) != 0)
        goto done;
    for (int k = 0; k < nneed; k++)
        if (s_low_check (db, in->clinic_id, codes[k], PQgetvalue (need, k, 1)) < 0)
            goto done;
    rc = s_reply_reservation (db, job->reply, in->clinic_id, in->appointment_id,
                              "inventory.Reserve", false);
done:
    free (picks);
    free (sub);
    free (subl);
    s_lots_free (&lots);
    free (codes);
    free (lit);
    PQclear (need);
    return rc;
}

static void
s_reserve (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    Meso__V1__ReserveRequest *in = body;
    int bad = 0;
    s_reserve_t r = { in, "" };
    meso_handler_need_text (reply, &bad, "appointment_id", in->appointment_id, ID_MAX);
    meso_handler_need_text (reply, &bad, "patient_id", in->patient_id, ID_MAX);
    meso_handler_need_text (reply, &bad, "clinic_id", in->clinic_id, ID_MAX);
    meso_handler_need_code (reply, &bad, "recipe_id", in->recipe_id);
    int32_t session;
    /* A day of slack: a clinic east of UTC is already on tomorrow. */
    if (s_need_date (reply, &bad, "session_date", in->session_date, &session)
        && session < s_today () - 1) {
        meso_reply_reason (reply, "in_the_past", "session_date",
                           "the session date %s is in the past", in->session_date);
        bad++;
    }
    if (in->n_areas == 0 || in->n_areas > MAX_AREAS) {
        meso_reply_reason (reply, in->n_areas ? "out_of_range" : "missing_field", "areas",
                           "give 1 to %d treatment areas", MAX_AREAS);
        bad++;
    }
    for (size_t i = 0; !bad && i < in->n_areas; i++) {
        if (!meso_handler_code_ok (in->areas[i], false)) {
            meso_reply_reason (reply, "invalid_area", "areas",
                               "area \"%.64s\" is not a treatment area code (a-z, 0-9, _)", in->areas[i]);
            bad++;
        }
        for (size_t j = 0; j < i; j++)
            if (strcmp (in->areas[i], in->areas[j]) == 0) {
                meso_reply_reason (reply, "duplicate_area", "areas", "area %s is listed twice",
                                   in->areas[i]);
                bad++;
                break;
            }
    }
    if (!bad)
        s_array_literal (r.areas, sizeof r.areas, in->areas, in->n_areas);
    if (!meso_handler_invalid (reply, bad, req->method))
        s_run (arg, req, reply, &r, s_reserve_effect);
}

/* -------------------------------------------------------------- Release */

/* Releases the held stock of an appointment. Returns 0 done, 1 nothing to
 * do (not found when lenient, already released, or consumed when
 * lenient), -1 refused or failed (reply set when refused). */
static int
s_release_apply (meso_db_t *db, const char *clinic, const char *appointment, const char *reason,
                 const Meso__V1__Actor *actor, bool strict, meso_reply_t *reply)
{
    PGresult *head = store_reservation_get (db, clinic, appointment, true);
    if (!head)
        return -1;
    if (PQntuples (head) == 0) {
        PQclear (head);
        if (!strict)
            return 1;
        /* Never reserved: record the release (a tombstone, no lines), so
         * that a Reserve for this appointment still in flight -- sent by a
         * booking that has since been undone -- is refused when it lands
         * instead of holding stock for nothing. */
        char today[16];
        meso_date_format (s_today (), today, sizeof today);
        int ins = store_reservation_insert (db, clinic, appointment, "", today, "", 0, "{}", "released");
        if (ins < 0)
            return -1;
        if (ins == 0)           /* a concurrent Reserve committed first: release what it holds */
            return s_release_apply (db, clinic, appointment, reason, actor, strict, reply);
        return store_reservation_close (db, clinic, appointment, "released", reason) != 0 ? -1 : 1;
    }
    char status[16];
    snprintf (status, sizeof status, "%s", PQgetvalue (head, 0, 7));
    PQclear (head);
    if (strcmp (status, "released") == 0)
        return 1;
    if (strcmp (status, "consumed") == 0) {
        if (!strict)
            return 1;
        meso_reply_error (reply, MESO_FAILED_PRECONDITION,
                          "the reservation of appointment %s was consumed: nothing to release",
                          appointment);
        return -1;
    }
    PGresult *lines = store_reservation_lines (db, clinic, appointment);
    if (!lines)
        return -1;
    int rc = -1;
    int n = PQntuples (lines);
    char **codes = calloc ((size_t) n + 1, sizeof *codes);
    size_t lit_size = (size_t) n * (ID_MAX + 1) + 4;
    char *lit = malloc (lit_size);
    s_lots_t lots = { 0 };
    if (!codes || !lit)
        goto done;
    for (int i = 0; i < n; i++)
        codes[i] = PQgetvalue (lines, i, 0);
    s_array_literal (lit, lit_size, codes, (size_t) n);
    if (s_lots_lock (db, clinic, lit, &lots) != 0)
        goto done;
    for (int i = 0; i < n; i++) {
        int li = s_lots_find (&lots, PQgetvalue (lines, i, 3));
        if (li >= 0)
            lots.d_reserved[li] -= store_i64 (lines, i, 2);
    }
    if (s_lots_write (db, clinic, &lots) != 0
        || store_reservation_close (db, clinic, appointment, "released", reason) != 0
        || s_emit_reservation (db, clinic, appointment, "released", reason, actor) != 0)
        goto done;
    for (int i = 0; i < n; i++)
        if (s_low_check (db, clinic, codes[i], PQgetvalue (lines, i, 1)) < 0)
            goto done;
    rc = 0;
done:
    s_lots_free (&lots);
    free (codes);
    free (lit);
    PQclear (lines);
    return rc;
}

static int
s_release_effect (meso_db_t *db, s_job_t *job)
{
    Meso__V1__ReleaseRequest *in = job->in;
    if (s_release_apply (db, in->clinic_id, in->appointment_id, in->reason, job->req->actor, true,
                         job->reply) < 0)
        return -1;
    return s_reply_reservation (db, job->reply, in->clinic_id, in->appointment_id,
                                job->req->method, false);
}

static void
s_release (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    Meso__V1__ReleaseRequest *in = body;
    int bad = 0;
    meso_handler_need_text (reply, &bad, "clinic_id", in->clinic_id, ID_MAX);
    meso_handler_need_text (reply, &bad, "appointment_id", in->appointment_id, ID_MAX);
    if (in->reason && strlen (in->reason) > TEXT_MAX) {
        meso_reply_reason (reply, "out_of_range", "reason", "reason must be at most %d bytes", TEXT_MAX);
        bad++;
    }
    if (!meso_handler_invalid (reply, bad, req->method))
        s_run (arg, req, reply, in, s_release_effect);
}

/* --------------------------------------------------------------- Redate */

/* Moves a held reservation to in->session_date. The reservation row is
 * locked first, then its lots (lot_id order), as Reserve and Release do.
 * Only the lines in lots that expire before the new date move; their
 * amounts are picked again, per ingredient, first-expiring-first among the
 * lots usable on the new date. Any shortage refuses the whole move (the
 * transaction rolls back). */
static int
s_redate_effect (meso_db_t *db, s_job_t *job)
{
    Meso__V1__RedateRequest *in = job->in;
    const char *clinic = in->clinic_id, *appt = in->appointment_id;
    int32_t session;
    char date[16];
    meso_date_parse (in->session_date, &session);
    meso_date_format (session, date, sizeof date);

    PGresult *head = store_reservation_get (db, clinic, appt, true);
    if (!head)
        return -1;
    if (PQntuples (head) == 0) {
        PQclear (head);
        meso_reply_error (job->reply, MESO_NOT_FOUND, "no reservation for appointment %.64s in clinic %.64s",
                          appt, clinic);
        meso_reply_reason (job->reply, "unknown_reservation", "appointment_id",
                           "reserve the session (inventory.Reserve) before moving it");
        return -1;
    }
    char prev[16], status[16], patient[ID_MAX + 1];
    snprintf (prev, sizeof prev, "%s", PQgetvalue (head, 0, 3));
    snprintf (patient, sizeof patient, "%s", PQgetvalue (head, 0, 2));
    snprintf (status, sizeof status, "%s", PQgetvalue (head, 0, 7));
    PQclear (head);
    if (strcmp (status, "held") != 0) {
        meso_reply_error (job->reply, MESO_FAILED_PRECONDITION,
                          "the reservation of appointment %s is %s: only a held reservation can move",
                          appt, status);
        meso_reply_reason (job->reply, "wrong_status", "appointment_id", "the reservation is %s", status);
        return -1;
    }

    PGresult *lines = NULL;
    s_lots_t lots = { 0 };
    char **codes = NULL, *lit = NULL;
    fefo_pick_t *picks = NULL;
    size_t *sub = NULL;
    fefo_lot_t *subl = NULL;
    Meso__V1__IngredientAmount *ra = NULL, *ta = NULL, **rp = NULL, **tp = NULL;
    size_t nr = 0, nt = 0;
    int rc = -1;
    if (strcmp (prev, date) == 0)
        goto reply;             /* already there: nothing moves */

    lines = store_reservation_lines (db, clinic, appt);
    if (!lines)
        goto done;
    int n = PQntuples (lines);
    size_t lit_size = (size_t) n * (ID_MAX + 1) + 4;
    codes = calloc ((size_t) n + 1, sizeof *codes);
    lit = malloc (lit_size);
    if (!codes || !lit)
        goto oom;
    for (int i = 0; i < n; i++)
        codes[i] = PQgetvalue (lines, i, 0);
    s_array_literal (lit, lit_size, codes, (size_t) n);
    if (s_lots_lock (db, clinic, lit, &lots) != 0)
        goto done;
    picks = calloc ((size_t) lots.n + 1, sizeof *picks);
    sub = calloc ((size_t) lots.n + 1, sizeof *sub);
    subl = calloc ((size_t) lots.n + 1, sizeof *subl);
    ra = calloc ((size_t) n + 1, sizeof *ra);
    rp = calloc ((size_t) n + 1, sizeof *rp);
    ta = calloc ((size_t) lots.n + 1, sizeof *ta);
    tp = calloc ((size_t) lots.n + 1, sizeof *tp);
    if (!picks || !sub || !subl || !ra || !rp || !ta || !tp)
        goto oom;

    /* Give back what sits in lots that expire before the new date. The
     * lines are ordered by ingredient, so each ingredient's lines are
     * contiguous: [g, e). */
    int short_count = 0;
    for (int g = 0, e; g < n; g = e) {
        int64_t moved = 0;
        for (e = g; e < n && strcmp (codes[e], codes[g]) == 0; e++) {
            int li = s_lots_find (&lots, PQgetvalue (lines, e, 3));
            if (li < 0 || lots.fl[li].expiry >= session)
                continue;
            int64_t amount = store_i64 (lines, e, 2);
            lots.d_reserved[li] -= amount;
            lots.reserved[li] -= amount;
            lots.fl[li].available += amount;
            moved += amount;
            Meso__V1__IngredientAmount *a = &ra[nr];
            meso__v1__ingredient_amount__init (a);
            a->ingredient_code = codes[e];
            a->unit = PQgetvalue (lines, e, 1);
            a->amount_milli = amount;
            a->lot_id = PQgetvalue (lines, e, 3);
            a->lot_number = PQgetvalue (lines, e, 4);
            rp[nr++] = a;
            if (store_reservation_line_delete (db, clinic, appt, a->lot_id) != 0)
                goto done;
        }
        if (moved == 0)
            continue;
        /* ... and take it again from lots usable on the new date. */
        size_t ns = 0;
        for (int i = 0; i < lots.n; i++)
            if (strcmp (s_lot_ingredient (&lots, i), codes[g]) == 0) {
                sub[ns] = (size_t) i;
                subl[ns] = lots.fl[i];
                ns++;
            }
        int64_t usable = 0;
        int np = fefo_pick (subl, ns, session, moved, picks, &usable);
        if (np == -1) {
            meso_reply_reason (job->reply, "insufficient_stock", codes[g],
                               "%s: %" PRId64 " to move, %" PRId64 " usable on %s (thousandths of %s)",
                               codes[g], moved, usable, date, PQgetvalue (lines, g, 1));
            short_count++;
            continue;
        }
        if (np < 0) {
            meso_reply_error (job->reply, MESO_INTERNAL, "lot picking failed for %s", codes[g]);
            goto done;
        }
        for (int p = 0; p < np; p++) {
            size_t i = sub[picks[p].lot];
            lots.d_reserved[i] += picks[p].amount;
            lots.reserved[i] += picks[p].amount;
            lots.fl[i].available -= picks[p].amount;
            Meso__V1__IngredientAmount *a = &ta[nt];
            meso__v1__ingredient_amount__init (a);
            a->ingredient_code = codes[g];
            a->unit = PQgetvalue (lines, g, 1);
            a->amount_milli = picks[p].amount;
            a->lot_id = PQgetvalue (lots.res, (int) i, LOT_ID);
            a->lot_number = PQgetvalue (lots.res, (int) i, LOT_NUMBER);
            tp[nt++] = a;
            if (store_reservation_line_add (db, clinic, appt, a->lot_id, codes[g], a->amount_milli) != 0)
                goto done;
        }
    }
    if (short_count) {
        meso_reply_error (job->reply, MESO_RESOURCE_EXHAUSTED,
                          "not enough stock in clinic %s to move appointment %s to %s: %d ingredient%s short",
                          clinic, appt, date, short_count, short_count > 1 ? "s" : "");
        meso_reply_detail (job->reply, "the reservation stays on %s", prev);
        goto done;
    }
    if (s_lots_write (db, clinic, &lots) != 0 || store_reservation_redate (db, clinic, appt, date) != 0)
        goto done;
    if (nr) {
        char why[300];
        snprintf (why, sizeof why, "session moved from %s to %s: lot expires before%s%.200s", prev, date,
                  in->reason && in->reason[0] ? "; " : "", in->reason ? in->reason : "");
        Meso__V1__StockReleased sl = MESO__V1__STOCK_RELEASED__INIT;
        sl.appointment_id = (char *) appt;
        sl.n_lines = nr;
        sl.lines = rp;
        sl.reason = why;
        Meso__V1__Event ev = MESO__V1__EVENT__INIT;
        ev.payload_case = MESO__V1__EVENT__PAYLOAD_STOCK_RELEASED;
        ev.stock_released = &sl;
        if (meso_handler_emit (db, &ev, "stock.released", clinic,
                               job->req->actor, &s_service_actor) != 0)
            goto done;
        Meso__V1__StockReserved sr = MESO__V1__STOCK_RESERVED__INIT;
        sr.appointment_id = (char *) appt;
        sr.patient_id = patient;
        sr.session_date = date;
        sr.n_lines = nt;
        sr.lines = tp;
        Meso__V1__Event ev2 = MESO__V1__EVENT__INIT;
        ev2.payload_case = MESO__V1__EVENT__PAYLOAD_STOCK_RESERVED;
        ev2.stock_reserved = &sr;
        if (meso_handler_emit (db, &ev2, "stock.reserved", clinic,
                               job->req->actor, &s_service_actor) != 0)
            goto done;
        for (size_t k = 0; k < nr; k++)
            if (s_low_check (db, clinic, ra[k].ingredient_code, ra[k].unit) < 0)
                goto done;
    }
reply:;
    s_resv_t r;
    int found = s_resv_load (db, clinic, appt, &r);
    if (found <= 0)
        goto done;
    Meso__V1__RedateReply out = MESO__V1__REDATE_REPLY__INIT;
    out.reservation = &r.msg;
    out.previous_date = prev;
    out.n_released = nr;
    out.released = rp;
    out.n_reserved = nt;
    out.reserved = tp;
    meso_reply_ok (job->reply, &out.base);
    s_resv_free (&r);
    rc = 0;
    goto done;
oom:
    meso_db_set_error (db, NULL, "out of memory");
done:
    free (picks);
    free (sub);
    free (subl);
    free (ra);
    free (rp);
    free (ta);
    free (tp);
    s_lots_free (&lots);
    free (codes);
    free (lit);
    PQclear (lines);
    return rc;
}

static void
s_redate (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    Meso__V1__RedateRequest *in = body;
    int bad = 0;
    meso_handler_need_text (reply, &bad, "clinic_id", in->clinic_id, ID_MAX);
    meso_handler_need_text (reply, &bad, "appointment_id", in->appointment_id, ID_MAX);
    int32_t session;
    /* A day of slack, as for Reserve: a clinic east of UTC is already on
     * tomorrow. */
    if (s_need_date (reply, &bad, "session_date", in->session_date, &session)
        && session < s_today () - 1) {
        meso_reply_reason (reply, "in_the_past", "session_date",
                           "the session date %s is in the past", in->session_date);
        bad++;
    }
    if (in->reason && strlen (in->reason) > TEXT_MAX) {
        meso_reply_reason (reply, "out_of_range", "reason", "reason must be at most %d bytes", TEXT_MAX);
        bad++;
    }
    if (!meso_handler_invalid (reply, bad, req->method))
        s_run (arg, req, reply, in, s_redate_effect);
}

/* -------------------------------------------------------------- Consume */

/* Draws amount of ingredient from the working set: first the lots of the
 * reservation (FEFO), then the clinic's other usable lots (FEFO). Returns
 * what could not be drawn. */
static int64_t
s_draw (s_lots_t *lots, const char *ingredient, int32_t session, int64_t amount)
{
    size_t *idx = calloc ((size_t) lots->n + 1, sizeof *idx);
    if (!idx)
        return amount;
    for (int pass = 0; pass < 2 && amount > 0; pass++) {
        size_t n = 0;
        for (int i = 0; i < lots->n; i++) {
            if (strcmp (s_lot_ingredient (lots, i), ingredient) != 0 || lots->mine[i] != (pass == 0))
                continue;
            /* The reservation's own lots were reserved for this session:
             * use them even if recalled since (what happened is recorded);
             * other lots must be usable on the session's date. */
            fefo_lot_t probe = lots->fl[i];
            probe.available = lots->on_hand[i] - lots->reserved[i];
            if (pass == 1 && !fefo_usable (&probe, session))
                continue;
            idx[n++] = (size_t) i;
        }
        fefo_sort (lots->fl, idx, n);
        for (size_t k = 0; k < n && amount > 0; k++) {
            size_t i = idx[k];
            int64_t free_qty = lots->on_hand[i] - lots->reserved[i];
            int64_t take = free_qty < amount ? free_qty : amount;
            if (take <= 0)
                continue;
            lots->on_hand[i] -= take;
            lots->d_on_hand[i] -= take;
            amount -= take;
        }
    }
    free (idx);
    return amount;
}

typedef struct {
    const char *clinic;
    const char *appointment;
    Meso__V1__IngredientAmount **actual;
    size_t n_actual;
    const char *patient;
    const char *session_date;
    const Meso__V1__Actor *actor;
    bool strict;
} s_consume_args_t;

static int
s_codes_add (char **codes, int *n, const char *code)
{
    for (int i = 0; i < *n; i++)
        if (strcmp (codes[i], code) == 0)
            return 0;
    codes[(*n)++] = (char *) code;
    return 1;
}

/* Records what a session consumed. 0 done, 1 nothing to do, -1 refused or
 * failed. */
static int
s_consume_apply (meso_db_t *db, const s_consume_args_t *a, meso_reply_t *reply)
{
    PGresult *head = store_reservation_get (db, a->clinic, a->appointment, true);
    if (!head)
        return -1;
    char session_date[16] = "";
    if (PQntuples (head) == 0) {
        PQclear (head);
        if (a->n_actual == 0 || !a->patient || !*a->patient || !a->session_date || !*a->session_date) {
            if (!a->strict)
                return 1;
            meso_reply_error (reply, MESO_NOT_FOUND,
                              "no reservation for appointment %.64s in clinic %.64s", a->appointment,
                              a->clinic);
            meso_reply_detail (reply, "to record a consumption without a reservation, give the actual "
                                      "amounts, patient_id and session_date");
            return -1;
        }
        int32_t d;
        if (meso_date_parse (a->session_date, &d) != 0) {
            if (!a->strict)
                return 1;
            meso_reply_error (reply, MESO_INVALID_ARGUMENT, "session_date must be YYYY-MM-DD");
            return -1;
        }
        if (store_reservation_insert (db, a->clinic, a->appointment, a->patient, a->session_date,
                                      "", 0, "{}", "held") < 0)
            return -1;
        snprintf (session_date, sizeof session_date, "%s", a->session_date);
    }
    else {
        char status[16];
        snprintf (status, sizeof status, "%s", PQgetvalue (head, 0, 7));
        snprintf (session_date, sizeof session_date, "%s", PQgetvalue (head, 0, 3));
        PQclear (head);
        if (strcmp (status, "consumed") == 0)
            return 1;
        if (strcmp (status, "released") == 0) {
            if (!a->strict) {
                meso_warn ("session %s completed after its reservation was released: nothing consumed",
                           a->appointment);
                return 1;
            }
            meso_reply_error (reply, MESO_FAILED_PRECONDITION,
                              "the reservation of appointment %s was released", a->appointment);
            return -1;
        }
    }
    int32_t session;
    meso_date_parse (session_date, &session);

    PGresult *lines = store_reservation_lines (db, a->clinic, a->appointment);
    if (!lines)
        return -1;
    int nl = PQntuples (lines);
    int rc = -1;
    size_t cap = (size_t) nl + a->n_actual + 1;
    char **codes = calloc (cap, sizeof *codes);
    size_t lit_size = cap * (ID_MAX + 1) + 4;
    char *lit = malloc (lit_size);
    bool *use = calloc (a->n_actual + 1, sizeof *use);
    s_lots_t lots = { 0 };
    int ncodes = 0;
    if (!codes || !lit || !use)
        goto done;
    for (int i = 0; i < nl; i++)
        s_codes_add (codes, &ncodes, PQgetvalue (lines, i, 0));
    /* Check the actual amounts: unknown ingredients and bad amounts are
     * refused by the method and skipped (logged) by the event. */
    int bad = 0;
    for (size_t k = 0; k < a->n_actual; k++) {
        const Meso__V1__IngredientAmount *x = a->actual[k];
        char field[48];
        snprintf (field, sizeof field, "actual[%zu]", k);
        bool ok = meso_handler_code_ok (x->ingredient_code, true) && x->amount_milli > 0
               && x->amount_milli <= QTY_MAX;
        if (ok) {
            PGresult *res = store_ingredient_get (db, x->ingredient_code);
            if (!res)
                goto done;
            ok = PQntuples (res) == 1;
            PQclear (res);
        }
        if (!ok) {
            if (a->strict)
                meso_reply_reason (reply, "invalid_amount", field,
                                   "%.64s: a catalogue ingredient and a positive amount are needed",
                                   x->ingredient_code ? x->ingredient_code : "");
            else
                meso_warn ("session %s: consumed line for \"%.64s\" ignored (unknown ingredient or bad amount)",
                           a->appointment, x->ingredient_code ? x->ingredient_code : "");
            bad++;
            continue;
        }
        use[k] = true;
        s_codes_add (codes, &ncodes, x->ingredient_code);
    }
    if (bad && a->strict) {
        meso_reply_error (reply, MESO_INVALID_ARGUMENT, "invalid actual amounts");
        goto done;
    }
    s_array_literal (lit, lit_size, codes, (size_t) ncodes);
    if (s_lots_lock (db, a->clinic, lit, &lots) != 0)
        goto done;
    /* Give back what was held, then draw what was used. */
    for (int i = 0; i < nl; i++) {
        int li = s_lots_find (&lots, PQgetvalue (lines, i, 3));
        if (li < 0)
            continue;
        int64_t amt = store_i64 (lines, i, 2);
        lots.reserved[li] -= amt;
        lots.d_reserved[li] -= amt;
        lots.mine[li] = true;
    }
    int64_t shortfall = 0;
    if (a->n_actual == 0) {
        /* As reserved: the same lots, the same amounts. */
        for (int i = 0; i < nl; i++) {
            int li = s_lots_find (&lots, PQgetvalue (lines, i, 3));
            if (li < 0)
                continue;
            int64_t amt = store_i64 (lines, i, 2);
            lots.on_hand[li] -= amt;
            lots.d_on_hand[li] -= amt;
        }
    }
    else {
        for (size_t k = 0; k < a->n_actual; k++) {
            if (!use[k])
                continue;
            const Meso__V1__IngredientAmount *x = a->actual[k];
            int64_t left = x->amount_milli;
            int li = x->lot_id && *x->lot_id ? s_lots_find (&lots, x->lot_id) : -1;
            if (li >= 0 && strcmp (s_lot_ingredient (&lots, li), x->ingredient_code) == 0) {
                int64_t free_qty = lots.on_hand[li] - lots.reserved[li];
                int64_t take = free_qty < left ? free_qty : left;
                if (take > 0) {
                    lots.on_hand[li] -= take;
                    lots.d_on_hand[li] -= take;
                    left -= take;
                }
            }
            left = s_draw (&lots, x->ingredient_code, session, left);
            if (left > 0) {
                if (a->strict)
                    meso_reply_reason (reply, "insufficient_stock", x->ingredient_code,
                                       "%s: %" PRId64 " more than clinic %s has on hand",
                                       x->ingredient_code, left, a->clinic);
                shortfall += left;
            }
        }
    }
    if (shortfall > 0) {
        if (a->strict) {
            meso_reply_error (reply, MESO_FAILED_PRECONDITION,
                              "the actual amounts exceed the stock on hand in clinic %s", a->clinic);
            meso_reply_detail (reply, "receive or adjust the missing stock, then consume again");
            goto done;
        }
        meso_warn ("session %s consumed %" PRId64 " more than clinic %s had on hand: recorded what was there",
                   a->appointment, shortfall, a->clinic);
    }
    for (int i = 0; i < lots.n; i++) {
        if (lots.d_on_hand[i] >= 0)
            continue;
        const char *lot_id = PQgetvalue (lots.res, i, LOT_ID);
        if (store_movement (db, a->clinic, lot_id, "consume", lots.d_on_hand[i], a->appointment, NULL) != 0
            || store_consumption_insert (db, a->clinic, a->appointment, lot_id,
                                         s_lot_ingredient (&lots, i), -lots.d_on_hand[i]) != 0)
            goto done;
    }
    if (s_lots_write (db, a->clinic, &lots) != 0
        || store_reservation_close (db, a->clinic, a->appointment, "consumed", NULL) != 0
        || s_emit_reservation (db, a->clinic, a->appointment, "consumed", NULL, a->actor) != 0)
        goto done;
    for (int i = 0; i < ncodes; i++)
        if (s_low_check (db, a->clinic, codes[i], NULL) < 0)
            goto done;
    rc = 0;
done:
    s_lots_free (&lots);
    free (codes);
    free (lit);
    free (use);
    PQclear (lines);
    return rc;
}

static int
s_consume_effect (meso_db_t *db, s_job_t *job)
{
    Meso__V1__ConsumeRequest *in = job->in;
    s_consume_args_t a = { in->clinic_id, in->appointment_id, in->actual, in->n_actual,
                           in->patient_id, in->session_date, job->req->actor, true };
    if (s_consume_apply (db, &a, job->reply) < 0)
        return -1;
    return s_reply_reservation (db, job->reply, in->clinic_id, in->appointment_id,
                                job->req->method, false);
}

static void
s_consume (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    Meso__V1__ConsumeRequest *in = body;
    int bad = 0;
    meso_handler_need_text (reply, &bad, "clinic_id", in->clinic_id, ID_MAX);
    meso_handler_need_text (reply, &bad, "appointment_id", in->appointment_id, ID_MAX);
    if (in->n_actual > MAX_LINES) {
        meso_reply_reason (reply, "out_of_range", "actual", "at most %d actual amounts", MAX_LINES);
        bad++;
    }
    for (size_t k = 0; k < in->n_actual && k < MAX_LINES; k++) {
        char field[48];
        snprintf (field, sizeof field, "actual[%zu].ingredient_code", k);
        meso_handler_need_code (reply, &bad, field, in->actual[k]->ingredient_code);
        snprintf (field, sizeof field, "actual[%zu].amount_milli", k);
        s_need_qty (reply, &bad, field, in->actual[k]->amount_milli);
    }
    if (!meso_handler_invalid (reply, bad, req->method))
        s_run (arg, req, reply, in, s_consume_effect);
}

/* ------------------------------------------------------------- GetStock */

static void
s_get_stock (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    inventory_t *self = arg;
    Meso__V1__GetStockRequest *in = body;
    int bad = 0;
    meso_handler_need_text (reply, &bad, "clinic_id", in->clinic_id, ID_MAX);
    if (in->ingredient_code && *in->ingredient_code)
        meso_handler_need_code (reply, &bad, "ingredient_code", in->ingredient_code);
    if (meso_handler_invalid (reply, bad, req->method)) {
        return;
    }
    PGresult *lots = store_stock_lots (self->db, in->clinic_id, in->ingredient_code, in->include_empty);
    PGresult *tot = lots ? store_stock_totals (self->db, in->clinic_id, in->ingredient_code) : NULL;
    if (!lots || !tot) {
        meso_reply_db_error (reply, self->db, "cannot read the stock");
        goto done;
    }
    int nl = PQntuples (lots), nt = PQntuples (tot);
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
            ta[i].unit = PQgetvalue (tot, i, 1);
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

/* ------------------------------------------------------ SetReorderPoint */

static int
s_reorder_effect (meso_db_t *db, s_job_t *job)
{
    Meso__V1__SetReorderPointRequest *in = job->in;
    PGresult *res = store_ingredient_get (db, in->ingredient_code);
    if (!res)
        return -1;
    int found = PQntuples (res);
    char unit[8] = "";
    if (found)
        snprintf (unit, sizeof unit, "%s", PQgetvalue (res, 0, 2));
    PQclear (res);
    if (!found) {
        meso_reply_error (job->reply, MESO_NOT_FOUND, "unknown ingredient \"%s\"", in->ingredient_code);
        return -1;
    }
    uint32_t days = in->expiring_warn_days ? in->expiring_warn_days : 30;
    if (store_reorder_set (db, in->clinic_id, in->ingredient_code, in->reorder_point_milli, days) != 0
        || s_low_check (db, in->clinic_id, in->ingredient_code, unit) < 0)
        return -1;
    Meso__V1__SetReorderPointReply out = MESO__V1__SET_REORDER_POINT_REPLY__INIT;
    out.clinic_id = in->clinic_id;
    out.ingredient_code = in->ingredient_code;
    out.reorder_point_milli = in->reorder_point_milli;
    out.expiring_warn_days = days;
    meso_reply_ok (job->reply, &out.base);
    return 0;
}

static void
s_set_reorder_point (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    Meso__V1__SetReorderPointRequest *in = body;
    int bad = 0;
    meso_handler_need_text (reply, &bad, "clinic_id", in->clinic_id, ID_MAX);
    meso_handler_need_code (reply, &bad, "ingredient_code", in->ingredient_code);
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
    if (!meso_handler_invalid (reply, bad, req->method))
        s_run (arg, req, reply, in, s_reorder_effect);
}

/* --------------------------------------------------------------- Recall */

static int
s_recall_effect (meso_db_t *db, s_job_t *job)
{
    Meso__V1__RecallRequest *in = job->in;
    PGresult *lots = store_recall_mark (db, in->lot_id, in->ingredient_code, in->lot_number,
                                        in->clinic_id, in->reason);
    if (!lots)
        return -1;
    int rc = -1;
    PGresult *hits = NULL;
    Meso__V1__Lot *la = NULL;
    Meso__V1__Lot **lp = NULL;
    Meso__V1__RecallHit *ha = NULL;
    Meso__V1__RecallHit **hp = NULL;
    char **appts = NULL, **patients = NULL;
    int nl = PQntuples (lots);
    if (nl == 0) {
        if (in->lot_id && *in->lot_id)
            meso_reply_error (job->reply, MESO_NOT_FOUND, "no lot %s%s%s", in->lot_id,
                              in->clinic_id && *in->clinic_id ? " in clinic " : "",
                              in->clinic_id ? in->clinic_id : "");
        else
            meso_reply_error (job->reply, MESO_NOT_FOUND, "no lot number %s of %s%s%s", in->lot_number,
                              in->ingredient_code, in->clinic_id && *in->clinic_id ? " in clinic " : "",
                              in->clinic_id ? in->clinic_id : "");
        goto done;
    }
    hits = store_recall_hits (db, in->lot_id, in->ingredient_code, in->lot_number, in->clinic_id);
    if (!hits)
        goto done;
    int nh = PQntuples (hits);
    la = calloc ((size_t) nl + 1, sizeof *la);
    lp = calloc ((size_t) nl + 1, sizeof *lp);
    ha = calloc ((size_t) nh + 1, sizeof *ha);
    hp = calloc ((size_t) nh + 1, sizeof *hp);
    appts = calloc ((size_t) nh + 1, sizeof *appts);
    patients = calloc ((size_t) nh + 1, sizeof *patients);
    if (!la || !lp || !ha || !hp || !appts || !patients) {
        meso_reply_error (job->reply, MESO_RESOURCE_EXHAUSTED, "out of memory");
        goto done;
    }
    for (int i = 0; i < nh; i++) {
        meso__v1__recall_hit__init (&ha[i]);
        ha[i].clinic_id = PQgetvalue (hits, i, 0);
        ha[i].appointment_id = PQgetvalue (hits, i, 1);
        ha[i].patient_id = PQgetvalue (hits, i, 2);
        ha[i].session_date = PQgetvalue (hits, i, 3);
        ha[i].state = PQgetvalue (hits, i, 4);
        ha[i].lot_id = PQgetvalue (hits, i, 5);
        ha[i].amount_milli = store_i64 (hits, i, 6);
        hp[i] = &ha[i];
    }
    /* One stock.recalled per lot, with the sessions of that lot. */
    for (int l = 0; l < nl; l++) {
        store_lot_fill (lots, l, &la[l]);
        lp[l] = &la[l];
        size_t n = 0;
        for (int i = 0; i < nh; i++)
            if (strcmp (ha[i].lot_id, la[l].lot_id) == 0
                && strcmp (ha[i].clinic_id, la[l].clinic_id) == 0) {
                appts[n] = ha[i].appointment_id;
                patients[n] = ha[i].patient_id;
                n++;
            }
        Meso__V1__StockRecalled sr = MESO__V1__STOCK_RECALLED__INIT;
        sr.lot_id = la[l].lot_id;
        sr.ingredient_code = la[l].ingredient_code;
        sr.lot_number = la[l].lot_number;
        sr.reason = in->reason;
        sr.n_appointment_ids = n;
        sr.appointment_ids = appts;
        sr.n_patient_ids = n;
        sr.patient_ids = patients;
        Meso__V1__Event ev = MESO__V1__EVENT__INIT;
        ev.payload_case = MESO__V1__EVENT__PAYLOAD_STOCK_RECALLED;
        ev.stock_recalled = &sr;
        if (meso_handler_emit (db, &ev, "stock.recalled", la[l].clinic_id,
                               job->req->actor, &s_service_actor) != 0
            || s_low_check (db, la[l].clinic_id, la[l].ingredient_code, la[l].unit) < 0)
            goto done;
    }
    Meso__V1__RecallReply out = MESO__V1__RECALL_REPLY__INIT;
    out.n_lots = (size_t) nl;
    out.lots = lp;
    out.n_sessions = (size_t) nh;
    out.sessions = hp;
    meso_reply_ok (job->reply, &out.base);
    rc = 0;
done:
    free (la);
    free (lp);
    free (ha);
    free (hp);
    free (appts);
    free (patients);
    PQclear (hits);
    PQclear (lots);
    return rc;
}

static void
s_recall (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    Meso__V1__RecallRequest *in = body;
    int bad = 0;
    meso_handler_need_text (reply, &bad, "reason", in->reason, TEXT_MAX);
    bool by_id = in->lot_id && *in->lot_id;
    if (by_id && strlen (in->lot_id) > ID_MAX) {
        meso_reply_reason (reply, "out_of_range", "lot_id", "lot_id must be at most %d bytes", ID_MAX);
        bad++;
    }
    if (!by_id) {
        if ((!in->ingredient_code || !*in->ingredient_code) && (!in->lot_number || !*in->lot_number)) {
            meso_reply_reason (reply, "missing_field", "lot_id",
                               "give lot_id, or ingredient_code and lot_number");
            bad++;
        }
        else {
            meso_handler_need_code (reply, &bad, "ingredient_code", in->ingredient_code);
            meso_handler_need_text (reply, &bad, "lot_number", in->lot_number, 128);
        }
    }
    if (in->clinic_id && strlen (in->clinic_id) > ID_MAX) {
        meso_reply_reason (reply, "out_of_range", "clinic_id", "clinic_id must be at most %d bytes", ID_MAX);
        bad++;
    }
    if (!meso_handler_invalid (reply, bad, req->method))
        s_run (arg, req, reply, in, s_recall_effect);
}

/* ------------------------------------------------------------- Forecast */

static void
s_forecast (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    inventory_t *self = arg;
    Meso__V1__ForecastRequest *in = body;
    int bad = 0;
    meso_handler_need_text (reply, &bad, "clinic_id", in->clinic_id, ID_MAX);
    if (in->horizon_days > 365) {
        meso_reply_reason (reply, "out_of_range", "horizon_days", "horizon_days must be 1 to 365 (0: 28)");
        bad++;
    }
    if (meso_handler_invalid (reply, bad, req->method)) {
        return;
    }
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
        int32_t today = s_today ();
        meso_date_format (today, from, sizeof from);
        meso_date_format (today + horizon, until, sizeof until);
        for (int i = 0; i < n; i++) {
            Meso__V1__ForecastLine *f = &fa[i];
            meso__v1__forecast_line__init (f);
            f->ingredient_code = PQgetvalue (res, i, 0);
            f->unit = PQgetvalue (res, i, 1);
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

/* --------------------------------------------------------------- table */

const meso_method_t inventory_methods[] = {
    { "inventory.UpsertIngredient", s_upsert_ingredient, MESO_METHOD_MUTATING, &meso__v1__upsert_ingredient_request__descriptor },
    { "inventory.UpsertRecipe", s_upsert_recipe, MESO_METHOD_MUTATING, &meso__v1__upsert_recipe_request__descriptor },
    { "inventory.Receive", s_receive, MESO_METHOD_MUTATING, &meso__v1__receive_request__descriptor },
    { "inventory.Adjust", s_adjust, MESO_METHOD_MUTATING, &meso__v1__adjust_request__descriptor },
    { "inventory.DiscardExpired", s_discard_expired, MESO_METHOD_MUTATING, &meso__v1__discard_expired_request__descriptor },
    { "inventory.Transfer", s_transfer, MESO_METHOD_MUTATING, &meso__v1__transfer_request__descriptor },
    { "inventory.Reserve", s_reserve, MESO_METHOD_MUTATING, &meso__v1__reserve_request__descriptor },
    { "inventory.Release", s_release, MESO_METHOD_MUTATING, &meso__v1__release_request__descriptor },
    { "inventory.Redate", s_redate, MESO_METHOD_MUTATING, &meso__v1__redate_request__descriptor },
    { "inventory.Consume", s_consume, MESO_METHOD_MUTATING, &meso__v1__consume_request__descriptor },
    { "inventory.SetReorderPoint", s_set_reorder_point, MESO_METHOD_MUTATING, &meso__v1__set_reorder_point_request__descriptor },
    { "inventory.Recall", s_recall, MESO_METHOD_MUTATING, &meso__v1__recall_request__descriptor },
    { "inventory.GetStock", s_get_stock, MESO_METHOD_READ, &meso__v1__get_stock_request__descriptor },
    { "inventory.Forecast", s_forecast, MESO_METHOD_READ, &meso__v1__forecast_request__descriptor },
    { "inventory.GetRecipe", s_get_recipe, MESO_METHOD_READ, &meso__v1__get_recipe_request__descriptor },
    { NULL, NULL, 0, NULL }
};

/* ------------------------------------------------------- session events */

int
inventory_on_event (meso_db_t *db, const Meso__V1__Event *ev, void *arg)
{
    inventory_t *self = arg;
    const Meso__V1__SessionInfo *s = NULL;
    int kind = 0;               /* 1 consume, 2 release */
    const char *reason = "";
    Meso__V1__IngredientAmount **actual = NULL;
    size_t n_actual = 0;
    switch (ev->payload_case) {
    case MESO__V1__EVENT__PAYLOAD_SESSION_COMPLETED:
        s = ev->session_completed->session;
        actual = ev->session_completed->consumed;
        n_actual = ev->session_completed->n_consumed;
        kind = 1;
        break;
    case MESO__V1__EVENT__PAYLOAD_SESSION_CANCELLED:
        s = ev->session_cancelled->session;
        reason = "session cancelled";
        kind = 2;
        break;
    case MESO__V1__EVENT__PAYLOAD_SESSION_NO_SHOW:
        s = ev->session_no_show->session;
        reason = "no-show";
        kind = 2;
        break;
    default:
        return 0;               /* other session events change no stock */
    }
    if (!s || !s->appointment_id || !*s->appointment_id) {
        meso_warn ("event %s (%s) has no session: ignored", ev->id, ev->type);
        return 0;
    }
    const char *clinic = s->clinic_id && *s->clinic_id ? s->clinic_id : ev->clinic_id;
    meso_reply_t *scratch = meso_reply_new ();
    if (!scratch) {
        meso_db_set_error (db, NULL, "out of memory");
        return -1;
    }
    int rc;
    if (kind == 1) {
        /* The session's date, clinic local, for a consumption without a
         * reservation: the local start "YYYY-MM-DDTHH:MM" starts with it. */
        char date[11] = "";
        if (s->local_start && strlen (s->local_start) >= 10)
            memcpy (date, s->local_start, 10);
        else if (s->starts_at_us)
            meso_date_format ((int32_t) (s->starts_at_us / INT64_C (86400000000)), date, sizeof date);
        s_consume_args_t a = { clinic, s->appointment_id, actual, n_actual, s->patient_id, date,
                               ev->actor, false };
        rc = s_consume_apply (db, &a, scratch);
    }
    else
        rc = s_release_apply (db, clinic, s->appointment_id, reason, ev->actor, false, scratch);
    meso_reply_destroy (&scratch);
    if (rc >= 0 && self)
        self->events_applied++;
    return rc < 0 ? -1 : 0;
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
        if (meso_handler_emit (db, &ev, "stock.expiring", lot.clinic_id, NULL, &s_service_actor) != 0
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

/* --------------------------------------------------------------- health */

void
inventory_health (Meso__V1__HealthReply *health, void *arg)
{
    inventory_t *self = arg;
    static char notes[2][96];
    static char *note_ptrs[2] = { notes[0], notes[1] };
    snprintf (notes[0], sizeof notes[0], "consumer=%s session_cursor=%llu",
              self->consumer ? "on" : "off",
              (unsigned long long) (self->consumer ? meso_consumer_cursor (self->consumer, "session") : 0));
    snprintf (notes[1], sizeof notes[1], "events_applied=%llu expiring_sent=%llu",
              (unsigned long long) self->events_applied, (unsigned long long) self->expiring_sent);
    health->n_notes = 2;
    health->notes = note_ptrs;
}
