/* test_inventory.c -- the inventory daemon's promises, against real
 * PostgreSQL, a real meso-inventory (and meso-events for session events)
 * over real sockets:
 *   - FEFO across lots, a lot expiring before the session never picked, a
 *     need split over two lots;
 *   - Reserve twice for one appointment reserves once;
 *   - Consume with actual amounts, Release, and the ledger adding up;
 *   - bad input gets a clear error and changes nothing;
 *   - the schema itself refuses negative stock and over-reservation;
 *   - Recall returns exactly the sessions that drew from the lot (a held
 *     one it cannot cover elsewhere is left at risk);
 *   - Transfer is atomic and refuses the same clinic;
 *   - session.completed / session.cancelled drive consumption and release,
 *     once each, also when redelivered;
 *   - a Release before any Reserve leaves a tombstone: the late Reserve is
 *     refused;
 *   - GetRecipe gives a version's lines and needs; Redate moves a
 *     reservation off lots that expire before the new date, or refuses
 *     and changes nothing;
 *   - stock.low once per crossing of a reorder point (Reserve, Consume,
 *     Adjust, SetReorderPoint, DiscardExpired), with the unit;
 *   - stock.expiring once per lot inside the warning horizon (the daemon's
 *     check sped up to 100 ms);
 *   - DiscardExpired takes the unreserved part of expired lots, in the
 *     ledger, and the totals add up;
 *   - an ingredient's unit cannot change once quantities are counted in
 *     it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "meso/bus.h"
#include "meso/db.h"
#include "meso/mtime.h"
#include "meso/outbox.h"
#include "events.pb-c.h"
#include "inventory.pb-c.h"

typedef struct {
    char dbname[64];
    char admin[512];            /* superuser conninfo */
    char router[256];
    pid_t pid;
    pid_t events_pid;
    char events_router[256];
    char events_pub[256];
    meso_bus_client_t *c;
    meso_db_t *db;              /* superuser connection, for checks */
    int key;
    const char *const *env;     /* extra environment of meso-inventory */
} fx_t;

/* ------------------------------------------------------------ helpers */

static void
s_date (int offset, char *out)
{
    int32_t today = (int32_t) (meso_time_now_us () / INT64_C (86400000000));
    meso_date_format (today + offset, out, 11);
}

static pid_t
s_spawn_inventory (fx_t *fx, const char *events_router, const char *events_pub)
{
    char role[512], db[600], bind[300], ev[300], evp[300];
    mt_role_conninfo (fx->dbname, "meso_inventory", role, sizeof role);
    snprintf (db, sizeof db, "--db=%s", role);
    snprintf (bind, sizeof bind, "--bind=%s", fx->router);
    snprintf (ev, sizeof ev, "--events=%s", events_router ? events_router : "");
    snprintf (evp, sizeof evp, "--events-pub=%s", events_pub ? events_pub : "");
    /* No scheduling here: clinic ids are checked for syntax only
     * (tests/integration/test_clinic_ids.c checks them against one). */
    const char *argv[] = { "meso-inventory", db, bind, ev, evp, "--scheduling=", NULL };
    pid_t pid = mt_spawn ("bin/meso-inventory", argv, fx->env);
    assert_true (pid > 0);
    assert_int_equal (mt_wait_healthy (fx->router, 10000), 0);
    return pid;
}

static fx_t *
s_setup_env (const char *name, bool with_events, const char *const *env)
{
    fx_t *fx = calloc (1, sizeof *fx);
    assert_non_null (fx);
    fx->env = env;
    snprintf (fx->dbname, sizeof fx->dbname, "%s", name);
    assert_int_equal (mt_db_create (name, fx->admin, sizeof fx->admin), 0);
    mt_ipc_endpoint ("inv", fx->router, sizeof fx->router);
    if (with_events) {
        fx->events_pid = mt_spawn_events (name, fx->events_router, sizeof fx->events_router,
                                          fx->events_pub, sizeof fx->events_pub);
        assert_true (fx->events_pid > 0);
        fx->pid = s_spawn_inventory (fx, fx->events_router, fx->events_pub);
    }
    else
        fx->pid = s_spawn_inventory (fx, NULL, NULL);
    fx->c = mt_client (fx->router);
    assert_non_null (fx->c);
    fx->db = meso_db_new (fx->admin);
    assert_true (meso_db_ok (fx->db));
    return fx;
}

static fx_t *
s_setup (const char *name, bool with_events)
{
    return s_setup_env (name, with_events, NULL);
}

static void
s_teardown (fx_t *fx)
{
    meso_bus_client_destroy (&fx->c);
    meso_db_destroy (&fx->db);
    assert_int_equal (mt_stop (fx->pid, SIGTERM), 0);
    if (fx->events_pid > 0)
        mt_stop (fx->events_pid, SIGTERM);
    free (fx);
}

/* Calls method; returns the status. key NULL: a fresh key. */
static int
s_call (fx_t *fx, const char *method, const ProtobufCMessage *body, const char *key,
        meso_result_t *r)
{
    return mt_call (fx->c, method, body, key, &fx->key, r);
}

/* One integer from SQL (superuser). */
static int64_t
s_sql (fx_t *fx, const char *sql, const char *p1)
{
    int64_t v = 0;
    assert_int_equal (mt_sql_int (fx->db, sql, p1, &v), 0);
    return v;
}

/* A fingerprint of every row that matters: equal before and after means
 * nothing changed. */
static void
s_fingerprint (fx_t *fx, char *out, size_t size)
{
    PGresult *res = meso_db_query (fx->db,
        "SELECT md5 (concat_ws ('|', "
        " (SELECT string_agg (concat_ws (',', clinic_id, lot_id, on_hand_milli, reserved_milli, recalled_at), ';' ORDER BY clinic_id, lot_id) FROM inventory.lot),"
        " (SELECT string_agg (concat_ws (',', clinic_id, appointment_id, status), ';' ORDER BY clinic_id, appointment_id) FROM inventory.reservation),"
        " (SELECT count (*) FROM inventory.reservation_line), (SELECT count (*) FROM inventory.consumption),"
        " (SELECT count (*) FROM inventory.movement), (SELECT count (*) FROM inventory.ingredient),"
        " (SELECT count (*) FROM inventory.recipe), (SELECT count (*) FROM inventory.idempotency),"
        " (SELECT count (*) FROM events.outbox) + (SELECT count (*) FROM events.log)))", 0, NULL);
    assert_non_null (res);
    snprintf (out, size, "%s", PQgetvalue (res, 0, 0));
    PQclear (res);
}

static void
s_ingredient (fx_t *fx, const char *code, const char *unit)
{
    Meso__V1__Ingredient ing = MESO__V1__INGREDIENT__INIT;
    ing.code = (char *) code;
    ing.name = (char *) code;
    ing.unit = (Meso__V1__Unit) meso_enum_from_text (&meso__v1__unit__descriptor, unit);
    ing.form = "ampoule";
    Meso__V1__UpsertIngredientRequest rq = MESO__V1__UPSERT_INGREDIENT_REQUEST__INIT;
    rq.ingredient = &ing;
    meso_result_t r = { 0 };
    assert_int_equal (s_call (fx, "inventory.UpsertIngredient", &rq.base, NULL, &r), MESO_OK);
    meso_result_reset (&r);
}

/* Recipe "lipo": thighs = caffeine 100 mg + lcarnitine 50 mg; abdomen =
 * caffeine 80 mg. */
static void
s_catalogue (fx_t *fx)
{
    s_ingredient (fx, "caffeine", "mg");
    s_ingredient (fx, "lcarnitine", "mg");
    s_ingredient (fx, "lidocaine", "ml");
    Meso__V1__RecipeLine l1 = MESO__V1__RECIPE_LINE__INIT, l2 = MESO__V1__RECIPE_LINE__INIT,
                         l3 = MESO__V1__RECIPE_LINE__INIT;
    l1.area = "thighs"; l1.ingredient_code = "caffeine"; l1.amount_milli = 100000;
    l2.area = "thighs"; l2.ingredient_code = "lcarnitine"; l2.amount_milli = 50000;
    l3.area = "abdomen"; l3.ingredient_code = "caffeine"; l3.amount_milli = 80000;
    Meso__V1__RecipeLine *lines[] = { &l1, &l2, &l3 };
    Meso__V1__UpsertRecipeRequest rq = MESO__V1__UPSERT_RECIPE_REQUEST__INIT;
    rq.recipe_id = "lipo";
    rq.name = "Lipolytic standard";
    rq.n_lines = 3;
    rq.lines = lines;
    meso_result_t r = { 0 };
    assert_int_equal (s_call (fx, "inventory.UpsertRecipe", &rq.base, NULL, &r), MESO_OK);
    size_t len;
    const uint8_t *body = meso_result_body (&r, &len);
    Meso__V1__UpsertRecipeReply *out = meso__v1__upsert_recipe_reply__unpack (NULL, len, body);
    assert_non_null (out);
    assert_int_equal (out->version, 1);
    assert_true (out->changed);
    meso__v1__upsert_recipe_reply__free_unpacked (out, NULL);
    meso_result_reset (&r);
    /* The same recipe again: no new version. */
    assert_int_equal (s_call (fx, "inventory.UpsertRecipe", &rq.base, NULL, &r), MESO_OK);
    body = meso_result_body (&r, &len);
    out = meso__v1__upsert_recipe_reply__unpack (NULL, len, body);
    assert_int_equal (out->version, 1);
    assert_false (out->changed);
    meso__v1__upsert_recipe_reply__free_unpacked (out, NULL);
    meso_result_reset (&r);
}

/* Receives a lot; writes its id into lot_id (>= 40 bytes). */
static void
s_receive (fx_t *fx, const char *clinic, const char *ingredient, const char *lot_number,
           int expiry_offset, int64_t qty, char *lot_id)
{
    char expiry[16];
    s_date (expiry_offset, expiry);
    Meso__V1__ReceiveRequest rq = MESO__V1__RECEIVE_REQUEST__INIT;
    rq.clinic_id = (char *) clinic;
    rq.ingredient_code = (char *) ingredient;
    rq.lot_number = (char *) lot_number;
    rq.supplier = "Acme Pharma";
    rq.expiry_date = expiry;
    rq.quantity_milli = qty;
    meso_result_t r = { 0 };
    if (s_call (fx, "inventory.Receive", &rq.base, NULL, &r) != MESO_OK)
        fail_msg ("Receive failed: %s", r.message);
    size_t len;
    const uint8_t *body = meso_result_body (&r, &len);
    Meso__V1__ReceiveReply *out = meso__v1__receive_reply__unpack (NULL, len, body);
    assert_non_null (out);
    assert_string_equal (out->lot->lot_number, lot_number);
    assert_string_equal (out->lot->expiry_date, expiry);
    if (lot_id)
        snprintf (lot_id, 40, "%s", out->lot->lot_id);
    meso__v1__receive_reply__free_unpacked (out, NULL);
    meso_result_reset (&r);
}

/* Reserves; returns the status and, when OK and out is non-NULL, the reply
 * (caller frees). */
static int
s_reserve (fx_t *fx, const char *clinic, const char *appt, const char *patient, int day_offset,
           const char *area1, const char *area2, const char *key, Meso__V1__ReserveReply **out)
{
    char date[16];
    s_date (day_offset, date);
    char *areas[2] = { (char *) area1, (char *) area2 };
    Meso__V1__ReserveRequest rq = MESO__V1__RESERVE_REQUEST__INIT;
    rq.appointment_id = (char *) appt;
    rq.patient_id = (char *) patient;
    rq.clinic_id = (char *) clinic;
    rq.session_date = date;
    rq.n_areas = area2 ? 2 : 1;
    rq.areas = areas;
    rq.recipe_id = "lipo";
    meso_result_t r = { 0 };
    int st = s_call (fx, "inventory.Reserve", &rq.base, key, &r);
    if (st == MESO_OK && out) {
        size_t len;
        const uint8_t *body = meso_result_body (&r, &len);
        *out = meso__v1__reserve_reply__unpack (NULL, len, body);
        assert_non_null (*out);
    }
    meso_result_reset (&r);
    return st;
}

static int64_t
s_line_amount (const Meso__V1__Reservation *res, const char *lot_id)
{
    for (size_t i = 0; i < res->n_lines; i++)
        if (strcmp (res->lines[i]->lot_id, lot_id) == 0)
            return res->lines[i]->amount_milli;
    return 0;
}

static int64_t
s_lot_col (fx_t *fx, const char *col, const char *lot_id)
{
    char sql[200];
    snprintf (sql, sizeof sql, "SELECT %s FROM inventory.lot WHERE lot_id = $1", col);
    return s_sql (fx, sql, lot_id);
}

/* Every lot's ledger adds up to its on_hand, reserved equals the sum of
 * held reservation lines, and no lot breaks on_hand >= reserved >= 0. */
static void
s_check_books (fx_t *fx)
{
    assert_int_equal (s_sql (fx,
        "SELECT count (*) FROM inventory.lot l WHERE l.on_hand_milli <> "
        "  coalesce ((SELECT sum (delta_milli) FROM inventory.movement m "
        "             WHERE m.clinic_id = l.clinic_id AND m.lot_id = l.lot_id), 0)", NULL), 0);
    assert_int_equal (s_sql (fx,
        "SELECT count (*) FROM inventory.lot l WHERE l.reserved_milli <> "
        "  coalesce ((SELECT sum (rl.amount_milli) FROM inventory.reservation_line rl "
        "    JOIN inventory.reservation r USING (clinic_id, appointment_id) "
        "    WHERE r.status = 'held' AND rl.clinic_id = l.clinic_id AND rl.lot_id = l.lot_id), 0)",
        NULL), 0);
    assert_int_equal (s_sql (fx,
        "SELECT count (*) FROM inventory.lot WHERE on_hand_milli < 0 OR reserved_milli < 0 "
        "  OR reserved_milli > on_hand_milli", NULL), 0);
    /* received - consumed - discarded +- adjustments/transfers = on hand */
    assert_int_equal (s_sql (fx,
        "SELECT (SELECT coalesce (sum (delta_milli), 0) FROM inventory.movement WHERE kind IN ('receive', 'transfer_in', 'adjust')) "
        "     - (SELECT coalesce (sum (amount_milli), 0) FROM inventory.consumption) "
        "     + (SELECT coalesce (sum (delta_milli), 0) FROM inventory.movement WHERE kind IN ('discard', 'transfer_out')) "
        "     - (SELECT coalesce (sum (on_hand_milli), 0) FROM inventory.lot)", NULL), 0);
}

/* -------------------------------------------------------------- tests */

static void
test_reserve_fefo_split_and_expiry (void **state)
{
    fx_t *fx = s_setup ("inv_fefo", false);
    s_catalogue (fx);
    char a[40], b[40], c[40], d[40];
    s_receive (fx, "clinic-a", "caffeine", "CAF-A", 5, 60000, a);     /* expires before the session */
    s_receive (fx, "clinic-a", "caffeine", "CAF-B", 40, 100000, b);
    s_receive (fx, "clinic-a", "caffeine", "CAF-C", 20, 50000, c);
    s_receive (fx, "clinic-a", "lcarnitine", "LC-D", 60, 200000, d);

    Meso__V1__ReserveReply *out = NULL;
    assert_int_equal (s_reserve (fx, "clinic-a", "appt-1", "pat-1", 10, "thighs", NULL, "r-1", &out),
                      MESO_OK);
    assert_false (out->existing);
    assert_string_equal (meso_enum_str (&meso__v1__reservation_status__descriptor, (int) out->reservation->status), "held");
    assert_int_equal (out->reservation->recipe_version, 1);
    /* 100 mg caffeine: the lot expiring first that is still good on the
     * session day (C, 50 mg) then B for the rest; A (expires before) never. */
    assert_int_equal (s_line_amount (out->reservation, a), 0);
    assert_int_equal (s_line_amount (out->reservation, c), 50000);
    assert_int_equal (s_line_amount (out->reservation, b), 50000);
    assert_int_equal (s_line_amount (out->reservation, d), 50000);
    assert_int_equal (out->reservation->n_lines, 3);
    meso__v1__reserve_reply__free_unpacked (out, NULL);
    assert_int_equal (s_lot_col (fx, "reserved_milli", a), 0);
    assert_int_equal (s_lot_col (fx, "reserved_milli", c), 50000);
    assert_int_equal (s_lot_col (fx, "reserved_milli", b), 50000);

    /* The same appointment again, another key: the existing reservation,
     * nothing more held. */
    assert_int_equal (s_reserve (fx, "clinic-a", "appt-1", "pat-1", 10, "thighs", NULL, "r-2", &out),
                      MESO_OK);
    assert_true (out->existing);
    assert_int_equal (s_line_amount (out->reservation, b), 50000);
    meso__v1__reserve_reply__free_unpacked (out, NULL);
    /* The same key again: a replay. */
    assert_int_equal (s_reserve (fx, "clinic-a", "appt-1", "pat-1", 10, "thighs", NULL, "r-1", NULL),
                      MESO_OK);
    assert_int_equal (s_sql (fx, "SELECT sum (reserved_milli) FROM inventory.lot WHERE ingredient_code = 'caffeine'", NULL),
                      100000);
    assert_int_equal (s_sql (fx, "SELECT count (*) FROM inventory.reservation", NULL), 1);

    /* A session tomorrow may use A (expires on day 5): abdomen = 80 mg
     * caffeine, A (60) first, C has nothing free, then 20 from B. */
    assert_int_equal (s_reserve (fx, "clinic-a", "appt-2", "pat-2", 1, "abdomen", NULL, NULL, &out),
                      MESO_OK);
    assert_int_equal (s_line_amount (out->reservation, a), 60000);
    assert_int_equal (s_line_amount (out->reservation, c), 0);
    assert_int_equal (s_line_amount (out->reservation, b), 20000);
    meso__v1__reserve_reply__free_unpacked (out, NULL);
    /* Thighs on day 10: 100 mg caffeine but only 30 usable (A expires
     * before): refused, nothing held. */
    assert_int_equal (s_reserve (fx, "clinic-a", "appt-3", "pat-3", 10, "thighs", NULL, NULL, NULL),
                      MESO_RESOURCE_EXHAUSTED);
    assert_int_equal (s_sql (fx, "SELECT sum (reserved_milli) FROM inventory.lot WHERE ingredient_code = 'caffeine'", NULL),
                      180000);
    assert_int_equal (s_sql (fx, "SELECT count (*) FROM inventory.reservation", NULL), 2);
    s_check_books (fx);
    s_teardown (fx);
}

static void
test_all_or_nothing_when_short (void **state)
{
    fx_t *fx = s_setup ("inv_short", false);
    s_catalogue (fx);
    char a[40], d[40];
    s_receive (fx, "clinic-a", "caffeine", "CAF-A", 30, 150000, a);
    s_receive (fx, "clinic-a", "lcarnitine", "LC-D", 3, 200000, d);    /* expires before day 10 */
    char before[64], after[64];
    s_fingerprint (fx, before, sizeof before);
    /* Caffeine is there, L-carnitine only in a lot expiring too soon. */
    meso_result_t r = { 0 };
    char date[16];
    s_date (10, date);
    char *areas[] = { "thighs" };
    Meso__V1__ReserveRequest rq = MESO__V1__RESERVE_REQUEST__INIT;
    rq.appointment_id = "appt-x";
    rq.patient_id = "pat-x";
    rq.clinic_id = "clinic-a";
    rq.session_date = date;
    rq.n_areas = 1;
    rq.areas = areas;
    rq.recipe_id = "lipo";
    assert_int_equal (s_call (fx, "inventory.Reserve", &rq.base, NULL, &r), MESO_RESOURCE_EXHAUSTED);
    assert_int_equal (r.reply->n_reasons, 1);
    assert_string_equal (r.reply->reasons[0]->field, "lcarnitine");
    assert_non_null (strstr (r.reply->reasons[0]->message, "50000 needed, 0 usable"));
    meso_result_reset (&r);
    s_fingerprint (fx, after, sizeof after);
    assert_string_equal (before, after);
    assert_int_equal (s_lot_col (fx, "reserved_milli", a), 0);
    s_teardown (fx);
}

static void
test_consume_release_and_books (void **state)
{
    fx_t *fx = s_setup ("inv_consume", false);
    s_catalogue (fx);
    char b[40], c[40], d[40];
    s_receive (fx, "clinic-a", "caffeine", "CAF-B", 40, 300000, b);
    s_receive (fx, "clinic-a", "caffeine", "CAF-C", 20, 50000, c);
    s_receive (fx, "clinic-a", "lcarnitine", "LC-D", 60, 200000, d);
    assert_int_equal (s_reserve (fx, "clinic-a", "appt-1", "pat-1", 7, "thighs", NULL, NULL, NULL), MESO_OK);
    assert_int_equal (s_reserve (fx, "clinic-a", "appt-2", "pat-2", 7, "thighs", NULL, NULL, NULL), MESO_OK);
    assert_int_equal (s_reserve (fx, "clinic-a", "appt-3", "pat-3", 8, "abdomen", NULL, NULL, NULL), MESO_OK);
    assert_int_equal (s_sql (fx, "SELECT sum (reserved_milli) FROM inventory.lot", NULL),
                      150000 + 150000 + 80000);

    /* Consume appt-1 as reserved. */
    Meso__V1__ConsumeRequest cq = MESO__V1__CONSUME_REQUEST__INIT;
    cq.clinic_id = "clinic-a";
    cq.appointment_id = "appt-1";
    meso_result_t r = { 0 };
    assert_int_equal (s_call (fx, "inventory.Consume", &cq.base, NULL, &r), MESO_OK);
    meso_result_reset (&r);
    assert_int_equal (s_sql (fx, "SELECT sum (amount_milli) FROM inventory.consumption WHERE appointment_id = 'appt-1'", NULL),
                      150000);
    /* Consume appt-2 with actual amounts that differ: 90 mg caffeine
     * instead of 100, 60 mg L-carnitine instead of 50, and 2 ml lidocaine
     * that is not stocked (refused: nothing changes). */
    char fp1[64], fp2[64];
    s_fingerprint (fx, fp1, sizeof fp1);
    Meso__V1__IngredientAmount x1 = MESO__V1__INGREDIENT_AMOUNT__INIT, x2 = MESO__V1__INGREDIENT_AMOUNT__INIT,
                               x3 = MESO__V1__INGREDIENT_AMOUNT__INIT;
    x1.ingredient_code = "caffeine"; x1.amount_milli = 90000;
    x2.ingredient_code = "lcarnitine"; x2.amount_milli = 60000;
    x3.ingredient_code = "lidocaine"; x3.amount_milli = 2000;
    Meso__V1__IngredientAmount *actual[] = { &x1, &x2, &x3 };
    cq.appointment_id = "appt-2";
    cq.n_actual = 3;
    cq.actual = actual;
    assert_int_equal (s_call (fx, "inventory.Consume", &cq.base, NULL, &r), MESO_FAILED_PRECONDITION);
    meso_result_reset (&r);
    s_fingerprint (fx, fp2, sizeof fp2);
    assert_string_equal (fp1, fp2);
    /* a patient id past its limit: refused, nothing changes */
    {
        char *longid = malloc (100001);
        assert_non_null (longid);
        memset (longid, 'p', 100000);
        longid[100000] = '\0';
        cq.patient_id = longid;
        cq.n_actual = 2;
        assert_int_equal (s_call (fx, "inventory.Consume", &cq.base, NULL, &r), MESO_INVALID_ARGUMENT);
        assert_non_null (r.reply);
        bool named = false;
        for (size_t i = 0; i < r.reply->n_reasons; i++)
            named = named || strcmp (r.reply->reasons[i]->field, "patient_id") == 0;
        assert_true (named);
        meso_result_reset (&r);
        cq.patient_id = NULL;
        free (longid);
        s_fingerprint (fx, fp2, sizeof fp2);
        assert_string_equal (fp1, fp2);
    }
    cq.n_actual = 2;
    int64_t caf_before = s_sql (fx, "SELECT sum (on_hand_milli) FROM inventory.lot WHERE ingredient_code = 'caffeine'", NULL);
    int64_t lc_before = s_sql (fx, "SELECT sum (on_hand_milli) FROM inventory.lot WHERE ingredient_code = 'lcarnitine'", NULL);
    assert_int_equal (s_call (fx, "inventory.Consume", &cq.base, "consume-2", &r), MESO_OK);
    size_t len;
    const uint8_t *body = meso_result_body (&r, &len);
    Meso__V1__ConsumeReply *co = meso__v1__consume_reply__unpack (NULL, len, body);
    assert_string_equal (meso_enum_str (&meso__v1__reservation_status__descriptor, (int) co->reservation->status), "consumed");
    int64_t total = 0;
    for (size_t i = 0; i < co->reservation->n_consumed; i++)
        total += co->reservation->consumed[i]->amount_milli;
    assert_int_equal (total, 150000);
    meso__v1__consume_reply__free_unpacked (co, NULL);
    meso_result_reset (&r);
    assert_int_equal (s_sql (fx, "SELECT sum (on_hand_milli) FROM inventory.lot WHERE ingredient_code = 'caffeine'", NULL),
                      caf_before - 90000);
    assert_int_equal (s_sql (fx, "SELECT sum (on_hand_milli) FROM inventory.lot WHERE ingredient_code = 'lcarnitine'", NULL),
                      lc_before - 60000);
    /* A retry of the same Consume: replayed, nothing consumed again. */
    assert_int_equal (s_call (fx, "inventory.Consume", &cq.base, "consume-2", &r), MESO_OK);
    assert_true (r.reply->replayed);
    meso_result_reset (&r);
    /* A new Consume of a consumed reservation: unchanged. */
    assert_int_equal (s_call (fx, "inventory.Consume", &cq.base, NULL, &r), MESO_OK);
    meso_result_reset (&r);
    assert_int_equal (s_sql (fx, "SELECT sum (on_hand_milli) FROM inventory.lot WHERE ingredient_code = 'caffeine'", NULL),
                      caf_before - 90000);

    /* Release appt-3: its 80 mg are free again; releasing twice is a no-op;
     * a consumed reservation cannot be released. */
    Meso__V1__ReleaseRequest rl = MESO__V1__RELEASE_REQUEST__INIT;
    rl.clinic_id = "clinic-a";
    rl.appointment_id = "appt-3";
    rl.reason = "cancelled by patient";
    assert_int_equal (s_call (fx, "inventory.Release", &rl.base, NULL, &r), MESO_OK);
    meso_result_reset (&r);
    assert_int_equal (s_call (fx, "inventory.Release", &rl.base, NULL, &r), MESO_OK);
    meso_result_reset (&r);
    assert_int_equal (s_sql (fx, "SELECT sum (reserved_milli) FROM inventory.lot", NULL), 0);
    rl.appointment_id = "appt-1";
    assert_int_equal (s_call (fx, "inventory.Release", &rl.base, NULL, &r), MESO_FAILED_PRECONDITION);
    meso_result_reset (&r);
    /* Releasing an appointment never reserved records a tombstone: a
     * Reserve of it arriving later (a retry queued by a booking since
     * undone) is refused and holds nothing. */
    rl.appointment_id = "appt-404";
    assert_int_equal (s_call (fx, "inventory.Release", &rl.base, NULL, &r), MESO_OK);
    body = meso_result_body (&r, &len);
    Meso__V1__ReleaseReply *tomb = meso__v1__release_reply__unpack (NULL, len, body);
    assert_non_null (tomb);
    assert_string_equal (meso_enum_str (&meso__v1__reservation_status__descriptor, (int) tomb->reservation->status), "released");
    assert_int_equal (tomb->reservation->n_lines, 0);
    meso__v1__release_reply__free_unpacked (tomb, NULL);
    meso_result_reset (&r);
    assert_int_equal (s_reserve (fx, "clinic-a", "appt-404", "pat-4", 5, "thighs", NULL, NULL, NULL),
                      MESO_FAILED_PRECONDITION);
    assert_int_equal (s_sql (fx, "SELECT sum (reserved_milli) FROM inventory.lot", NULL), 0);
    assert_int_equal (s_sql (fx, "SELECT count (*) FROM inventory.reservation_line WHERE appointment_id = 'appt-404'",
                             NULL), 0);

    /* GetStock agrees. */
    Meso__V1__GetStockRequest gq = MESO__V1__GET_STOCK_REQUEST__INIT;
    gq.clinic_id = "clinic-a";
    gq.include_empty = true;
    assert_int_equal (s_call (fx, "inventory.GetStock", &gq.base, NULL, &r), MESO_OK);
    body = meso_result_body (&r, &len);
    Meso__V1__GetStockReply *gs = meso__v1__get_stock_reply__unpack (NULL, len, body);
    assert_int_equal (gs->n_totals, 2);
    assert_string_equal (gs->totals[0]->ingredient_code, "caffeine");
    assert_int_equal (gs->totals[0]->on_hand_milli, 350000 - 100000 - 90000);
    assert_int_equal (gs->totals[0]->reserved_milli, 0);
    assert_int_equal (gs->totals[1]->on_hand_milli, 200000 - 50000 - 60000);
    /* FEFO order in the listing: C (day 20, emptied by appt-1) before B
     * (day 40); empty lots listed only on request. */
    assert_int_equal (gs->n_lots, 3);
    assert_string_equal (gs->lots[0]->lot_id, c);
    assert_int_equal (gs->lots[0]->on_hand_milli, 0);
    assert_string_equal (gs->lots[1]->lot_id, b);
    meso__v1__get_stock_reply__free_unpacked (gs, NULL);
    meso_result_reset (&r);
    s_check_books (fx);
    s_teardown (fx);
}

static void
test_bad_input_changes_nothing (void **state)
{
    fx_t *fx = s_setup ("inv_bad", false);
    s_catalogue (fx);
    char b[40];
    s_receive (fx, "clinic-a", "caffeine", "CAF-B", 40, 300000, b);
    char before[64], after[64];
    s_fingerprint (fx, before, sizeof before);
    meso_result_t r = { 0 };
    char future[16], past[16];
    s_date (30, future);
    s_date (-1, past);

    Meso__V1__ReceiveRequest rq = MESO__V1__RECEIVE_REQUEST__INIT;
    rq.clinic_id = "clinic-a";
    rq.ingredient_code = "unobtainium";
    rq.lot_number = "U-1";
    rq.expiry_date = future;
    rq.quantity_milli = 1000;
    assert_int_equal (s_call (fx, "inventory.Receive", &rq.base, NULL, &r), MESO_NOT_FOUND);
    assert_non_null (strstr (r.reply->message, "unknown ingredient"));
    assert_string_equal (r.reply->reasons[0]->field, "ingredient_code");
    meso_result_reset (&r);

    rq.ingredient_code = "caffeine";
    rq.quantity_milli = -5;
    assert_int_equal (s_call (fx, "inventory.Receive", &rq.base, NULL, &r), MESO_INVALID_ARGUMENT);
    assert_string_equal (r.reply->reasons[0]->field, "quantity_milli");
    meso_result_reset (&r);

    rq.quantity_milli = 1000;
    rq.expiry_date = past;
    assert_int_equal (s_call (fx, "inventory.Receive", &rq.base, NULL, &r), MESO_INVALID_ARGUMENT);
    assert_string_equal (r.reply->reasons[0]->field, "expiry_date");
    assert_non_null (strstr (r.reply->reasons[0]->message, "expired"));
    meso_result_reset (&r);

    /* Same lot number, another expiry. */
    rq.lot_number = "CAF-B";
    rq.expiry_date = future;
    assert_int_equal (s_call (fx, "inventory.Receive", &rq.base, NULL, &r), MESO_FAILED_PRECONDITION);
    meso_result_reset (&r);

    Meso__V1__TransferRequest tq = MESO__V1__TRANSFER_REQUEST__INIT;
    tq.from_clinic_id = "clinic-a";
    tq.to_clinic_id = "clinic-a";
    tq.lot_id = b;
    tq.quantity_milli = 1000;
    assert_int_equal (s_call (fx, "inventory.Transfer", &tq.base, NULL, &r), MESO_INVALID_ARGUMENT);
    assert_string_equal (r.reply->reasons[0]->code, "same_clinic");
    meso_result_reset (&r);
    tq.to_clinic_id = "clinic-b";
    tq.quantity_milli = 300001;
    assert_int_equal (s_call (fx, "inventory.Transfer", &tq.base, NULL, &r), MESO_RESOURCE_EXHAUSTED);
    meso_result_reset (&r);

    Meso__V1__UpsertRecipeRequest uq = MESO__V1__UPSERT_RECIPE_REQUEST__INIT;
    uq.recipe_id = "empty";
    assert_int_equal (s_call (fx, "inventory.UpsertRecipe", &uq.base, NULL, &r), MESO_INVALID_ARGUMENT);
    assert_string_equal (r.reply->reasons[0]->field, "lines");
    meso_result_reset (&r);
    Meso__V1__RecipeLine l1 = MESO__V1__RECIPE_LINE__INIT;
    l1.area = "thighs"; l1.ingredient_code = "unobtainium"; l1.amount_milli = 1000;
    Meso__V1__RecipeLine *lines[] = { &l1 };
    uq.n_lines = 1;
    uq.lines = lines;
    assert_int_equal (s_call (fx, "inventory.UpsertRecipe", &uq.base, NULL, &r), MESO_NOT_FOUND);
    meso_result_reset (&r);

    /* Reserve: unknown recipe, unknown area, past date, no areas. */
    assert_int_equal (s_reserve (fx, "clinic-a", "a1", "p1", 5, "elbows", NULL, NULL, NULL), MESO_INVALID_ARGUMENT);
    assert_int_equal (s_reserve (fx, "clinic-a", "a1", "p1", -3, "thighs", NULL, NULL, NULL), MESO_INVALID_ARGUMENT);
    Meso__V1__ReserveRequest rv = MESO__V1__RESERVE_REQUEST__INIT;
    rv.appointment_id = "a1"; rv.patient_id = "p1"; rv.clinic_id = "clinic-a";
    rv.session_date = future; rv.recipe_id = "nope";
    char *areas[] = { "thighs" };
    assert_int_equal (s_call (fx, "inventory.Reserve", &rv.base, NULL, &r), MESO_INVALID_ARGUMENT);
    assert_string_equal (r.reply->reasons[0]->field, "areas");
    meso_result_reset (&r);
    rv.n_areas = 1;
    rv.areas = areas;
    assert_int_equal (s_call (fx, "inventory.Reserve", &rv.base, NULL, &r), MESO_NOT_FOUND);
    meso_result_reset (&r);

    /* Adjust below what is on hand; unknown lot; an undecodable body. */
    Meso__V1__AdjustRequest aq = MESO__V1__ADJUST_REQUEST__INIT;
    aq.clinic_id = "clinic-a"; aq.lot_id = b; aq.delta_milli = -300001; aq.reason = "count";
    assert_int_equal (s_call (fx, "inventory.Adjust", &aq.base, NULL, &r), MESO_FAILED_PRECONDITION);
    meso_result_reset (&r);
    aq.lot_id = "no-such-lot";
    aq.delta_milli = 5;
    assert_int_equal (s_call (fx, "inventory.Adjust", &aq.base, NULL, &r), MESO_NOT_FOUND);
    meso_result_reset (&r);
    Meso__V1__Ingredient ing = MESO__V1__INGREDIENT__INIT;
    ing.code = "Bad Code!"; ing.name = "x"; ing.unit = (Meso__V1__Unit) 9;
    Meso__V1__UpsertIngredientRequest iq = MESO__V1__UPSERT_INGREDIENT_REQUEST__INIT;
    iq.ingredient = &ing;
    assert_int_equal (s_call (fx, "inventory.UpsertIngredient", &iq.base, NULL, &r), MESO_INVALID_ARGUMENT);
    assert_int_equal (r.reply->n_reasons, 2);
    meso_result_reset (&r);

    s_fingerprint (fx, after, sizeof after);
    assert_string_equal (before, after);
    /* Still serving. */
    Meso__V1__GetStockRequest gq = MESO__V1__GET_STOCK_REQUEST__INIT;
    gq.clinic_id = "clinic-a";
    assert_int_equal (s_call (fx, "inventory.GetStock", &gq.base, NULL, &r), MESO_OK);
    meso_result_reset (&r);
    s_teardown (fx);
}

static void
test_schema_refuses_negative_and_over_reserved (void **state)
{
    fx_t *fx = s_setup ("inv_schema", false);
    s_catalogue (fx);
    char b[40];
    s_receive (fx, "clinic-a", "caffeine", "CAF-B", 40, 100000, b);
    assert_int_equal (s_reserve (fx, "clinic-a", "appt-1", "pat-1", 7, "abdomen", NULL, NULL, NULL), MESO_OK);
    /* As the service's own role, straight SQL. */
    char role[512];
    mt_role_conninfo (fx->dbname, "meso_inventory", role, sizeof role);
    meso_db_t *db = meso_db_new (role);
    assert_true (meso_db_ok (db));
    const char *p[] = { b };
    assert_int_equal (meso_db_exec (db, "UPDATE inventory.lot SET on_hand_milli = -1 WHERE lot_id = $1", 1, p), -1);
    assert_string_equal (meso_db_error (db)->sqlstate, "23514");
    assert_int_equal (meso_db_exec (db, "UPDATE inventory.lot SET reserved_milli = on_hand_milli + 1 WHERE lot_id = $1", 1, p), -1);
    assert_string_equal (meso_db_error (db)->sqlstate, "23514");
    assert_int_equal (meso_db_exec (db, "UPDATE inventory.lot SET on_hand_milli = reserved_milli - 1 WHERE lot_id = $1", 1, p), -1);
    assert_int_equal (meso_db_exec (db, "UPDATE inventory.lot SET reserved_milli = -1 WHERE lot_id = $1", 1, p), -1);
    assert_int_equal (meso_db_exec (db, "INSERT INTO inventory.reservation_line VALUES ('clinic-a', 'appt-1', 'nope', 'caffeine', 5)", 0, NULL), -1);
    assert_int_equal (meso_db_exec (db, "UPDATE inventory.reservation_line SET amount_milli = 0", 0, NULL), -1);
    /* The service role cannot drop its tables; other roles read the catalogue only. */
    assert_int_equal (meso_db_exec (db, "DROP TABLE inventory.lot", 0, NULL), -1);
    meso_db_destroy (&db);
    mt_role_conninfo (fx->dbname, "meso_billing", role, sizeof role);
    db = meso_db_new (role);
    PGresult *res = meso_db_query (db, "SELECT count (*) FROM inventory.recipe_line", 0, NULL);
    assert_non_null (res);
    PQclear (res);
    assert_null (meso_db_query (db, "SELECT count (*) FROM inventory.lot", 0, NULL));
    meso_db_destroy (&db);
    /* Scheduling asks inventory.GetRecipe instead (007): it reads the
     * ingredient catalogue, not the recipes. */
    mt_role_conninfo (fx->dbname, "meso_scheduling", role, sizeof role);
    db = meso_db_new (role);
    res = meso_db_query (db, "SELECT count (*) FROM inventory.ingredient", 0, NULL);
    assert_non_null (res);
    PQclear (res);
    assert_null (meso_db_query (db, "SELECT count (*) FROM inventory.recipe_line", 0, NULL));
    assert_null (meso_db_query (db, "SELECT count (*) FROM inventory.recipe", 0, NULL));
    assert_null (meso_db_query (db, "SELECT count (*) FROM inventory.lot", 0, NULL));
    meso_db_destroy (&db);

    /* Through the API: adjusting below the reserved amount is refused. */
    meso_result_t r = { 0 };
    Meso__V1__AdjustRequest aq = MESO__V1__ADJUST_REQUEST__INIT;
    aq.clinic_id = "clinic-a"; aq.lot_id = b; aq.delta_milli = -30000; aq.reason = "breakage";
    assert_int_equal (s_call (fx, "inventory.Adjust", &aq.base, NULL, &r), MESO_FAILED_PRECONDITION);
    assert_non_null (strstr (r.reply->message, "below the 80000 reserved"));
    meso_result_reset (&r);
    aq.delta_milli = -20000;
    assert_int_equal (s_call (fx, "inventory.Adjust", &aq.base, NULL, &r), MESO_OK);
    meso_result_reset (&r);
    assert_int_equal (s_lot_col (fx, "on_hand_milli", b), 80000);
    /* Nothing left for another session. */
    assert_int_equal (s_reserve (fx, "clinic-a", "appt-2", "pat-2", 7, "abdomen", NULL, NULL, NULL),
                      MESO_RESOURCE_EXHAUSTED);
    s_check_books (fx);
    s_teardown (fx);
}

static void
test_recall_transfer_and_forecast (void **state)
{
    fx_t *fx = s_setup ("inv_recall", false);
    s_catalogue (fx);
    char x[40], y[40], d[40], d2[40];
    s_receive (fx, "clinic-a", "caffeine", "CAF-X", 20, 300000, x);
    s_receive (fx, "clinic-a", "caffeine", "CAF-Y", 50, 300000, y);
    s_receive (fx, "clinic-a", "lcarnitine", "LC-D", 60, 500000, d);
    s_receive (fx, "clinic-b", "lcarnitine", "LC-D2", 60, 500000, d2);
    /* Move 200 mg of X to clinic B (atomic: both sides). */
    meso_result_t r = { 0 };
    Meso__V1__TransferRequest tq = MESO__V1__TRANSFER_REQUEST__INIT;
    tq.from_clinic_id = "clinic-a";
    tq.to_clinic_id = "clinic-b";
    tq.lot_id = x;
    tq.quantity_milli = 200000;
    tq.reason = "rebalance";
    assert_int_equal (s_call (fx, "inventory.Transfer", &tq.base, NULL, &r), MESO_OK);
    size_t len;
    const uint8_t *body = meso_result_body (&r, &len);
    Meso__V1__TransferReply *tr = meso__v1__transfer_reply__unpack (NULL, len, body);
    assert_int_equal (tr->from_lot->on_hand_milli, 100000);
    assert_int_equal (tr->to_lot->on_hand_milli, 200000);
    assert_string_equal (tr->to_lot->clinic_id, "clinic-b");
    assert_string_equal (tr->to_lot->lot_number, "CAF-X");
    assert_string_equal (tr->to_lot->expiry_date, tr->from_lot->expiry_date);
    char xb[40];
    snprintf (xb, sizeof xb, "%s", tr->to_lot->lot_id);
    meso__v1__transfer_reply__free_unpacked (tr, NULL);
    meso_result_reset (&r);

    /* s1: consumed from X in A; s2: held from X in B; s3: held from Y only
     * (X exhausted in A); s4: released after drawing from X in B. */
    assert_int_equal (s_reserve (fx, "clinic-a", "s1", "pat-1", 5, "thighs", NULL, NULL, NULL), MESO_OK);
    Meso__V1__ConsumeRequest cq = MESO__V1__CONSUME_REQUEST__INIT;
    cq.clinic_id = "clinic-a";
    cq.appointment_id = "s1";
    assert_int_equal (s_call (fx, "inventory.Consume", &cq.base, NULL, &r), MESO_OK);
    meso_result_reset (&r);
    assert_int_equal (s_lot_col (fx, "on_hand_milli", x), 0);
    assert_int_equal (s_reserve (fx, "clinic-b", "s2", "pat-2", 6, "thighs", NULL, NULL, NULL), MESO_OK);
    assert_int_equal (s_reserve (fx, "clinic-a", "s3", "pat-3", 6, "thighs", NULL, NULL, NULL), MESO_OK);
    assert_int_equal (s_reserve (fx, "clinic-b", "s4", "pat-4", 7, "thighs", NULL, NULL, NULL), MESO_OK);
    Meso__V1__ReleaseRequest rl = MESO__V1__RELEASE_REQUEST__INIT;
    rl.clinic_id = "clinic-b";
    rl.appointment_id = "s4";
    assert_int_equal (s_call (fx, "inventory.Release", &rl.base, NULL, &r), MESO_OK);
    meso_result_reset (&r);

    /* Forecast for clinic B: 100 mg caffeine held within the horizon. */
    Meso__V1__ForecastRequest fq = MESO__V1__FORECAST_REQUEST__INIT;
    fq.clinic_id = "clinic-b";
    fq.horizon_days = 30;
    assert_int_equal (s_call (fx, "inventory.Forecast", &fq.base, NULL, &r), MESO_OK);
    body = meso_result_body (&r, &len);
    Meso__V1__ForecastReply *fr = meso__v1__forecast_reply__unpack (NULL, len, body);
    assert_int_equal (fr->n_lines, 2);
    assert_string_equal (fr->lines[0]->ingredient_code, "caffeine");
    assert_int_equal (fr->lines[0]->on_hand_milli, 200000);
    assert_int_equal (fr->lines[0]->needed_milli, 100000);
    /* X expires on day 20, inside the horizon: its unreserved 100 mg are
     * lost unless used; nothing remains after the horizon. */
    assert_int_equal (fr->lines[0]->expiring_milli, 100000);
    assert_int_equal (fr->lines[0]->remaining_milli, 0);
    assert_true (fr->lines[0]->reorder);
    meso__v1__forecast_reply__free_unpacked (fr, NULL);
    meso_result_reset (&r);

    /* Recall CAF-X chain-wide by its lot number. */
    Meso__V1__RecallRequest cr = MESO__V1__RECALL_REQUEST__INIT;
    Meso__V1__SupplierLot cx = MESO__V1__SUPPLIER_LOT__INIT;
    cx.ingredient_code = "caffeine";
    cx.lot_number = "CAF-X";
    cr.lot_case = MESO__V1__RECALL_REQUEST__LOT_SUPPLIER_LOT;
    cr.supplier_lot = &cx;
    cr.reason = "supplier notice 2026-17";
    assert_int_equal (s_call (fx, "inventory.Recall", &cr.base, NULL, &r), MESO_OK);
    body = meso_result_body (&r, &len);
    Meso__V1__RecallReply *rr = meso__v1__recall_reply__unpack (NULL, len, body);
    assert_int_equal (rr->n_lots, 2);
    assert_true (rr->lots[0]->recalled && rr->lots[1]->recalled);
    assert_int_equal (rr->n_sessions, 2);
    assert_string_equal (rr->sessions[0]->clinic_id, "clinic-a");
    assert_string_equal (rr->sessions[0]->appointment_id, "s1");
    assert_string_equal (rr->sessions[0]->patient_id, "pat-1");
    assert_string_equal (meso_enum_str (&meso__v1__recall_hit_state__descriptor, (int) rr->sessions[0]->state), "consumed");
    assert_string_equal (rr->sessions[0]->lot_id, x);
    assert_int_equal (rr->sessions[0]->amount_milli, 100000);
    assert_string_equal (rr->sessions[1]->clinic_id, "clinic-b");
    assert_string_equal (rr->sessions[1]->appointment_id, "s2");
    /* No other caffeine lot in B: s2 is left at risk. */
    assert_string_equal (meso_enum_str (&meso__v1__recall_hit_state__descriptor, (int) rr->sessions[1]->state), "at_risk");
    assert_string_equal (rr->sessions[1]->lot_id, xb);
    assert_int_equal (rr->sessions_moved, 0);
    assert_int_equal (rr->n_uncovered, 1);
    assert_string_equal (rr->uncovered[0]->appointment_id, "s2");
    meso__v1__recall_reply__free_unpacked (rr, NULL);
    meso_result_reset (&r);
    /* One stock.recalled event per lot. */
    assert_int_equal (s_sql (fx, "SELECT count (*) FROM events.outbox WHERE type = 'stock.recalled'", NULL), 2);
    /* A recalled lot is never picked: B has 100 mg of X free but nothing else. */
    assert_int_equal (s_reserve (fx, "clinic-b", "s5", "pat-5", 6, "abdomen", NULL, NULL, NULL),
                      MESO_RESOURCE_EXHAUSTED);
    /* A recall of an unknown lot. */
    cx.lot_number = "CAF-NONE";
    assert_int_equal (s_call (fx, "inventory.Recall", &cr.base, NULL, &r), MESO_NOT_FOUND);
    meso_result_reset (&r);
    s_check_books (fx);
    s_teardown (fx);
}

/* ------------------------------------------------------ session events */

static int
s_emit_txn (meso_db_t *db, void *arg)
{
    return meso_outbox_append (db, arg);
}

static void
s_session_event (fx_t *fx, const char *type, const char *appt, const char *patient,
                 Meso__V1__IngredientAmount **consumed, size_t n_consumed)
{
    Meso__V1__SessionInfo si = MESO__V1__SESSION_INFO__INIT;
    si.appointment_id = (char *) appt;
    si.patient_id = (char *) patient;
    si.clinic_id = "clinic-a";
    char date[16], local[32];
    s_date (7, date);
    snprintf (local, sizeof local, "%sT10:00", date);
    si.local_start = local;
    Meso__V1__Event ev = MESO__V1__EVENT__INIT;
    Meso__V1__SessionCompleted sc = MESO__V1__SESSION_COMPLETED__INIT;
    Meso__V1__SessionCancelled sx = MESO__V1__SESSION_CANCELLED__INIT;
    Meso__V1__SessionBooked sb = MESO__V1__SESSION_BOOKED__INIT;
    ev.type = (char *) type;
    ev.clinic_id = "clinic-a";
    if (strcmp (type, "session.completed") == 0) {
        sc.session = &si;
        sc.consumed = consumed;
        sc.n_consumed = n_consumed;
        ev.payload_case = MESO__V1__EVENT__PAYLOAD_SESSION_COMPLETED;
        ev.session_completed = &sc;
    }
    else if (strcmp (type, "session.cancelled") == 0) {
        sx.session = &si;
        ev.payload_case = MESO__V1__EVENT__PAYLOAD_SESSION_CANCELLED;
        ev.session_cancelled = &sx;
    }
    else {
        sb.session = &si;
        ev.payload_case = MESO__V1__EVENT__PAYLOAD_SESSION_BOOKED;
        ev.session_booked = &sb;
    }
    meso_db_t *db = meso_db_new (fx->admin);
    assert_int_equal (meso_db_txn (db, MESO_DB_READ_COMMITTED, s_emit_txn, &ev), 0);
    meso_db_destroy (&db);
}

/* Waits until the consumer's cursor reaches seq. */
static void
s_wait_cursor (fx_t *fx, int64_t seq)
{
    int64_t t0 = meso_time_mono_ms (), cur = 0;
    while (meso_time_mono_ms () - t0 < 15000) {
        cur = s_sql (fx, "SELECT coalesce (max (seq), 0) FROM inventory.event_cursor WHERE stream = 'session'", NULL);
        if (cur >= seq)
            break;
        mt_sleep_ms (50);
    }
    assert_int_equal (cur, seq);
}

static void
test_session_events_consume_and_release_once (void **state)
{
    fx_t *fx = s_setup ("inv_events", true);
    s_catalogue (fx);
    char b[40], d[40];
    s_receive (fx, "clinic-a", "caffeine", "CAF-B", 40, 1000000, b);
    s_receive (fx, "clinic-a", "lcarnitine", "LC-D", 60, 1000000, d);
    assert_int_equal (s_reserve (fx, "clinic-a", "e1", "pat-1", 7, "thighs", NULL, NULL, NULL), MESO_OK);
    assert_int_equal (s_reserve (fx, "clinic-a", "e2", "pat-2", 7, "thighs", NULL, NULL, NULL), MESO_OK);
    assert_int_equal (s_reserve (fx, "clinic-a", "e3", "pat-3", 7, "abdomen", NULL, NULL, NULL), MESO_OK);

    /* e1 completed with what was actually injected; e2 completed as
     * planned; e3 cancelled; a booked event changes nothing. */
    Meso__V1__IngredientAmount x1 = MESO__V1__INGREDIENT_AMOUNT__INIT;
    x1.ingredient_code = "caffeine"; x1.unit = MESO__V1__UNIT__UNIT_MG; x1.amount_milli = 120000;
    Meso__V1__IngredientAmount *actual[] = { &x1 };
    s_session_event (fx, "session.booked", "e9", "pat-9", NULL, 0);
    s_session_event (fx, "session.completed", "e1", "pat-1", actual, 1);
    s_session_event (fx, "session.completed", "e2", "pat-2", NULL, 0);
    s_session_event (fx, "session.cancelled", "e3", "pat-3", NULL, 0);
    s_wait_cursor (fx, 4);
    assert_int_equal (s_sql (fx, "SELECT count (*) FROM inventory.reservation WHERE status = 'consumed'", NULL), 2);
    assert_int_equal (s_sql (fx, "SELECT count (*) FROM inventory.reservation WHERE appointment_id = 'e3' AND status = 'released'", NULL), 1);
    assert_int_equal (s_sql (fx, "SELECT sum (amount_milli) FROM inventory.consumption WHERE appointment_id = 'e1'", NULL), 120000);
    assert_int_equal (s_sql (fx, "SELECT sum (amount_milli) FROM inventory.consumption WHERE appointment_id = 'e2'", NULL), 150000);
    int64_t caf = s_lot_col (fx, "on_hand_milli", b);
    int64_t lc = s_lot_col (fx, "on_hand_milli", d);
    assert_int_equal (caf, 1000000 - 120000 - 100000);
    assert_int_equal (lc, 1000000 - 50000);
    assert_int_equal (s_sql (fx, "SELECT sum (reserved_milli) FROM inventory.lot", NULL), 0);

    /* The producer sends session.completed for e1 again (a new event), and
     * the daemon is killed and its cursor rewound so every event is
     * delivered again: nothing is consumed twice. */
    s_session_event (fx, "session.completed", "e1", "pat-1", actual, 1);
    s_wait_cursor (fx, 5);
    assert_int_equal (mt_stop (fx->pid, SIGKILL) != -1, 1);
    assert_int_equal (meso_db_exec (fx->db, "UPDATE inventory.event_cursor SET seq = 0 WHERE stream = 'session'", 0, NULL), 0);
    fx->pid = s_spawn_inventory (fx, fx->events_router, fx->events_pub);
    s_wait_cursor (fx, 5);
    /* Events for appointments never reserved (e9 booked only) were no-ops,
     * not a stuck stream. */
    assert_int_equal (s_sql (fx, "SELECT count (*) FROM inventory.reservation WHERE appointment_id = 'e9'", NULL), 0);
    s_check_books (fx);
    assert_int_equal (s_lot_col (fx, "on_hand_milli", b), caf);
    assert_int_equal (s_lot_col (fx, "on_hand_milli", d), lc);
    assert_int_equal (s_sql (fx, "SELECT count (*) FROM inventory.movement WHERE kind = 'consume'", NULL), 3);
    /* stock.consumed was announced once per consumed session. */
    assert_int_equal (s_sql (fx, "SELECT (SELECT count (*) FROM events.outbox WHERE type = 'stock.consumed') "
                                 "     + (SELECT count (*) FROM events.log WHERE type = 'stock.consumed')", NULL), 2);
    s_teardown (fx);
}

/* GetRecipe: the version, the lines with their unit and what a session
 * over some areas needs; an older version stays readable after a change. */
static void
test_get_recipe (void **state)
{
    fx_t *fx = s_setup ("inv_recipe", false);
    s_catalogue (fx);
    meso_result_t r = { 0 };
    char *areas[] = { "thighs", "abdomen" };
    Meso__V1__GetRecipeRequest gq = MESO__V1__GET_RECIPE_REQUEST__INIT;
    gq.recipe_id = "lipo";
    gq.areas = areas;
    gq.n_areas = 2;
    meso_result_reset (&r);
    assert_int_equal (s_call (fx, "inventory.GetRecipe", &gq.base, NULL, &r), MESO_OK);
    size_t len;
    const uint8_t *body = meso_result_body (&r, &len);
    Meso__V1__GetRecipeReply *g = meso__v1__get_recipe_reply__unpack (NULL, len, body);
    assert_non_null (g);
    assert_int_equal (g->version, 1);
    assert_int_equal (g->latest_version, 1);
    assert_string_equal (g->name, "Lipolytic standard");
    assert_int_equal (g->n_lines, 3);
    assert_string_equal (g->lines[0]->area, "abdomen");
    assert_string_equal (meso_enum_str (&meso__v1__unit__descriptor, (int) g->lines[0]->unit), "mg");
    /* thighs + abdomen: caffeine 100 + 80 mg, L-carnitine 50 mg */
    assert_int_equal (g->n_needs, 2);
    assert_string_equal (g->needs[0]->ingredient_code, "caffeine");
    assert_int_equal (g->needs[0]->amount_milli, 180000);
    assert_string_equal (g->needs[1]->ingredient_code, "lcarnitine");
    assert_int_equal (g->needs[1]->amount_milli, 50000);
    meso__v1__get_recipe_reply__free_unpacked (g, NULL);
    meso_result_reset (&r);

    /* A new version (abdomen: 120 mg); the session booked with version 1
     * still reads version 1. */
    Meso__V1__RecipeLine l1 = MESO__V1__RECIPE_LINE__INIT;
    l1.area = "abdomen"; l1.ingredient_code = "caffeine"; l1.amount_milli = 120000;
    Meso__V1__RecipeLine *lines[] = { &l1 };
    Meso__V1__UpsertRecipeRequest uq = MESO__V1__UPSERT_RECIPE_REQUEST__INIT;
    uq.recipe_id = "lipo";
    uq.name = "Lipolytic v2";
    uq.n_lines = 1;
    uq.lines = lines;
    meso_result_reset (&r);
    assert_int_equal (s_call (fx, "inventory.UpsertRecipe", &uq.base, NULL, &r), MESO_OK);
    meso_result_reset (&r);
    gq.n_areas = 1;
    gq.areas = areas + 1;
    meso_result_reset (&r);
    assert_int_equal (s_call (fx, "inventory.GetRecipe", &gq.base, NULL, &r), MESO_OK);
    body = meso_result_body (&r, &len);
    g = meso__v1__get_recipe_reply__unpack (NULL, len, body);
    assert_int_equal (g->version, 2);
    assert_int_equal (g->n_needs, 1);
    assert_int_equal (g->needs[0]->amount_milli, 120000);
    meso__v1__get_recipe_reply__free_unpacked (g, NULL);
    gq.version = 1;
    meso_result_reset (&r);
    assert_int_equal (s_call (fx, "inventory.GetRecipe", &gq.base, NULL, &r), MESO_OK);
    body = meso_result_body (&r, &len);
    g = meso__v1__get_recipe_reply__unpack (NULL, len, body);
    assert_int_equal (g->version, 1);
    assert_int_equal (g->latest_version, 2);
    assert_string_equal (g->name, "Lipolytic standard");
    assert_int_equal (g->needs[0]->amount_milli, 80000);
    meso__v1__get_recipe_reply__free_unpacked (g, NULL);

    /* Refusals: an area version 2 lacks, an unknown version or recipe, a
     * bad area code. */
    gq.version = 0;
    gq.areas = areas;
    gq.n_areas = 2;
    meso_result_reset (&r);
    assert_int_equal (s_call (fx, "inventory.GetRecipe", &gq.base, NULL, &r), MESO_INVALID_ARGUMENT);
    assert_string_equal (r.reply->reasons[0]->code, "unknown_area");
    gq.version = 3;
    meso_result_reset (&r);
    assert_int_equal (s_call (fx, "inventory.GetRecipe", &gq.base, NULL, &r), MESO_NOT_FOUND);
    gq.version = 0;
    gq.recipe_id = "nope";
    meso_result_reset (&r);
    assert_int_equal (s_call (fx, "inventory.GetRecipe", &gq.base, NULL, &r), MESO_NOT_FOUND);
    assert_string_equal (r.reply->reasons[0]->code, "unknown_recipe");
    char *bad[] = { "Thighs!" };
    gq.recipe_id = "lipo";
    gq.areas = bad;
    gq.n_areas = 1;
    meso_result_reset (&r);
    assert_int_equal (s_call (fx, "inventory.GetRecipe", &gq.base, NULL, &r), MESO_INVALID_ARGUMENT);
    meso_result_reset (&r);
    s_teardown (fx);
}

static int
s_redate (fx_t *fx, const char *appt, int day_offset, const char *key, Meso__V1__RedateReply **out)
{
    char date[16];
    s_date (day_offset, date);
    Meso__V1__RedateRequest rq = MESO__V1__REDATE_REQUEST__INIT;
    rq.clinic_id = "clinic-a";
    rq.appointment_id = (char *) appt;
    rq.session_date = date;
    meso_result_t r = { 0 };
    int st = s_call (fx, "inventory.Redate", &rq.base, key, &r);
    if (st == MESO_OK && out) {
        size_t len;
        const uint8_t *body = meso_result_body (&r, &len);
        *out = meso__v1__redate_reply__unpack (NULL, len, body);
        assert_non_null (*out);
    }
    meso_result_reset (&r);
    return st;
}

/* Redate: a session moved past the expiry of its lot moves to a lot that
 * lasts; lots still good stay; when no lot lasts the move is refused and
 * nothing changes. */
static void
test_redate_moves_expiring_lots (void **state)
{
    fx_t *fx = s_setup ("inv_redate", false);
    s_catalogue (fx);
    char a[40], b[40], lc[40];
    s_receive (fx, "clinic-a", "caffeine", "CAF-A", 10, 200000, a);     /* expires in 10 days */
    s_receive (fx, "clinic-a", "caffeine", "CAF-B", 40, 100000, b);     /* in 40 days */
    s_receive (fx, "clinic-a", "lcarnitine", "LC-1", 60, 500000, lc);
    assert_int_equal (s_reserve (fx, "clinic-a", "appt-1", "pat-1", 5, "thighs", NULL, NULL, NULL), MESO_OK);
    assert_int_equal (s_lot_col (fx, "reserved_milli", a), 100000);

    /* Day 5 -> day 20: CAF-A is gone by then, CAF-B takes the 100 mg;
     * L-carnitine stays where it is. */
    Meso__V1__RedateReply *out = NULL;
    assert_int_equal (s_redate (fx, "appt-1", 20, "redate-1", &out), MESO_OK);
    char d5[16], d20[16];
    s_date (5, d5);
    s_date (20, d20);
    assert_string_equal (out->previous_date, d5);
    assert_string_equal (out->reservation->session_date, d20);
    assert_string_equal (meso_enum_str (&meso__v1__reservation_status__descriptor, (int) out->reservation->status), "held");
    assert_int_equal (s_line_amount (out->reservation, a), 0);
    assert_int_equal (s_line_amount (out->reservation, b), 100000);
    assert_int_equal (s_line_amount (out->reservation, lc), 50000);
    assert_int_equal (out->n_released, 1);
    assert_string_equal (out->released[0]->lot_id, a);
    assert_int_equal (out->n_reserved, 1);
    assert_string_equal (out->reserved[0]->lot_id, b);
    meso__v1__redate_reply__free_unpacked (out, NULL);
    assert_int_equal (s_lot_col (fx, "reserved_milli", a), 0);
    assert_int_equal (s_lot_col (fx, "reserved_milli", b), 100000);
    assert_int_equal (s_lot_col (fx, "reserved_milli", lc), 50000);
    assert_int_equal (s_sql (fx, "SELECT count (*) FROM events.outbox WHERE type = 'stock.released'", NULL), 1);
    s_check_books (fx);

    /* A retry with the key replays; a new call to the same date changes
     * nothing. */
    char fp1[64], fp2[64];
    s_fingerprint (fx, fp1, sizeof fp1);
    assert_int_equal (s_redate (fx, "appt-1", 20, "redate-1", NULL), MESO_OK);
    s_fingerprint (fx, fp2, sizeof fp2);
    assert_string_equal (fp1, fp2);
    assert_int_equal (s_redate (fx, "appt-1", 20, NULL, NULL), MESO_OK);
    assert_int_equal (s_lot_col (fx, "reserved_milli", b), 100000);
    assert_int_equal (s_sql (fx, "SELECT count (*) FROM events.outbox WHERE type = 'stock.released'", NULL), 1);

    /* appt-2 on day 5 takes CAF-A; day 25 would need CAF-B, which is all
     * held: refused, and nothing moves. */
    assert_int_equal (s_reserve (fx, "clinic-a", "appt-2", "pat-2", 5, "thighs", NULL, NULL, NULL), MESO_OK);
    assert_int_equal (s_lot_col (fx, "reserved_milli", a), 100000);
    s_fingerprint (fx, fp1, sizeof fp1);
    meso_result_t r = { 0 };
    char d25[16];
    s_date (25, d25);
    Meso__V1__RedateRequest rq = MESO__V1__REDATE_REQUEST__INIT;
    rq.clinic_id = "clinic-a";
    rq.appointment_id = "appt-2";
    rq.session_date = d25;
    assert_int_equal (s_call (fx, "inventory.Redate", &rq.base, NULL, &r), MESO_RESOURCE_EXHAUSTED);
    assert_string_equal (r.reply->reasons[0]->code, "insufficient_stock");
    assert_string_equal (r.reply->reasons[0]->field, "caffeine");
    meso_result_reset (&r);
    s_fingerprint (fx, fp2, sizeof fp2);
    assert_string_equal (fp1, fp2);
    assert_int_equal (s_sql (fx, "SELECT count (*) FROM inventory.reservation WHERE appointment_id = 'appt-2'"
                             " AND session_date = $1::date", d5), 1);
    /* An earlier day keeps the lots (still good then). */
    assert_int_equal (s_redate (fx, "appt-2", 3, NULL, &out), MESO_OK);
    assert_int_equal (out->n_released, 0);
    assert_int_equal (s_line_amount (out->reservation, a), 100000);
    meso__v1__redate_reply__free_unpacked (out, NULL);

    /* Refusals: unknown appointment, a released reservation, a past date. */
    assert_int_equal (s_redate (fx, "appt-404", 6, NULL, NULL), MESO_NOT_FOUND);
    Meso__V1__ReleaseRequest rl = MESO__V1__RELEASE_REQUEST__INIT;
    rl.clinic_id = "clinic-a";
    rl.appointment_id = "appt-2";
    assert_int_equal (s_call (fx, "inventory.Release", &rl.base, NULL, &r), MESO_OK);
    meso_result_reset (&r);
    assert_int_equal (s_redate (fx, "appt-2", 6, NULL, NULL), MESO_FAILED_PRECONDITION);
    assert_int_equal (s_redate (fx, "appt-1", -5, NULL, NULL), MESO_INVALID_ARGUMENT);
    s_check_books (fx);
    s_teardown (fx);
}

/* A session date beyond the horizon (9999-12-31, or 11 years and more
 * ahead) is refused by Reserve and Redate with INVALID_ARGUMENT naming
 * session_date, even with lots that would last until then, and changes
 * nothing; a session 10 years ahead (a long course begun at scheduling's
 * 5-year horizon) is still reserved. */
static void
test_session_date_beyond_horizon (void **state)
{
    (void) state;
    fx_t *fx = s_setup ("inv_horizon", false);
    s_catalogue (fx);
    s_receive (fx, "clinic-a", "caffeine", "CAF-F", 20000, 500000, NULL);
    s_receive (fx, "clinic-a", "lcarnitine", "LC-F", 20000, 500000, NULL);
    assert_int_equal (s_reserve (fx, "clinic-a", "appt-1", "pat-1", 3650, "thighs", NULL, NULL, NULL),
                      MESO_OK);
    char before[40], after[40];
    assert_int_equal (mt_fingerprint (fx->db, "inventory,events", before, sizeof before), 0);

    meso_result_t r = { 0 };
    char *areas[] = { "thighs" };
    Meso__V1__ReserveRequest rv = MESO__V1__RESERVE_REQUEST__INIT;
    rv.appointment_id = "appt-2"; rv.patient_id = "pat-2"; rv.clinic_id = "clinic-a";
    rv.session_date = "9999-12-31"; rv.n_areas = 1; rv.areas = areas; rv.recipe_id = "lipo";
    assert_int_equal (s_call (fx, "inventory.Reserve", &rv.base, NULL, &r), MESO_INVALID_ARGUMENT);
    assert_int_equal (r.reply->n_reasons, 1);
    assert_string_equal (r.reply->reasons[0]->code, "beyond_horizon");
    assert_string_equal (r.reply->reasons[0]->field, "session_date");
    assert_non_null (strstr (r.reply->reasons[0]->message, "11 years"));
    meso_result_reset (&r);
    assert_int_equal (s_reserve (fx, "clinic-a", "appt-2", "pat-2", 365 * 11 + 10, "thighs", NULL,
                                 NULL, NULL), MESO_INVALID_ARGUMENT);

    Meso__V1__RedateRequest rd = MESO__V1__REDATE_REQUEST__INIT;
    rd.clinic_id = "clinic-a"; rd.appointment_id = "appt-1"; rd.session_date = "9999-12-31";
    assert_int_equal (s_call (fx, "inventory.Redate", &rd.base, NULL, &r), MESO_INVALID_ARGUMENT);
    assert_string_equal (r.reply->reasons[0]->code, "beyond_horizon");
    assert_string_equal (r.reply->reasons[0]->field, "session_date");
    meso_result_reset (&r);
    assert_int_equal (s_redate (fx, "appt-1", 365 * 11 + 10, NULL, NULL), MESO_INVALID_ARGUMENT);

    assert_int_equal (mt_fingerprint (fx->db, "inventory,events", after, sizeof after), 0);
    assert_string_equal (before, after);
    s_check_books (fx);
    s_teardown (fx);
}

/* ------------------------------------------- reorder points and expiry */

/* Decodes every event of type in events.outbox, in the order written, into
 * out (up to max; the caller frees each). Returns how many there are. */
static int
s_outbox_events (fx_t *fx, const char *type, Meso__V1__Event **out, int max)
{
    const char *p[] = { type };
    PGresult *res = meso_db_query (fx->db,
        "SELECT payload FROM events.outbox WHERE type = $1 ORDER BY id", 1, p);
    assert_non_null (res);
    int n = PQntuples (res);
    for (int i = 0; i < n && i < max; i++) {
        size_t len = 0;
        uint8_t *raw = PQunescapeBytea ((const unsigned char *) PQgetvalue (res, i, 0), &len);
        assert_non_null (raw);
        out[i] = meso__v1__event__unpack (NULL, len, raw);
        PQfreemem (raw);
        assert_non_null (out[i]);
        assert_string_equal (out[i]->type, type);
        assert_string_equal (out[i]->stream, "stock");
    }
    PQclear (res);
    return n;
}

static void
s_events_free (Meso__V1__Event **ev, int n)
{
    for (int i = 0; i < n; i++)
        meso__v1__event__free_unpacked (ev[i], NULL);
}

static int64_t
s_count_type (fx_t *fx, const char *type)
{
    return s_sql (fx, "SELECT count (*) FROM events.outbox WHERE type = $1", type);
}

/* Checks the last stock.low event: clinic, ingredient, unit, available,
 * point; and that there are exactly `count` of them. */
static void
s_check_low (fx_t *fx, int count, const char *clinic, const char *ingredient, const char *unit,
             int64_t available, int64_t point)
{
    Meso__V1__Event *ev[16] = { 0 };
    int n = s_outbox_events (fx, "stock.low", ev, 16);
    assert_int_equal (n, count);
    Meso__V1__Event *last = ev[n - 1];
    assert_int_equal (last->payload_case, MESO__V1__EVENT__PAYLOAD_STOCK_LOW);
    assert_string_equal (last->clinic_id, clinic);
    assert_string_equal (last->stock_low->ingredient_code, ingredient);
    assert_string_equal (meso_enum_str (&meso__v1__unit__descriptor, (int) last->stock_low->unit), unit);
    assert_int_equal (last->stock_low->available_milli, available);
    assert_int_equal (last->stock_low->reorder_point_milli, point);
    s_events_free (ev, n);
}

static void
s_set_reorder (fx_t *fx, const char *clinic, const char *ingredient, int64_t point, uint32_t days)
{
    Meso__V1__SetReorderPointRequest rq = MESO__V1__SET_REORDER_POINT_REQUEST__INIT;
    rq.clinic_id = (char *) clinic;
    rq.ingredient_code = (char *) ingredient;
    rq.reorder_point_milli = point;
    rq.expiring_warn_days = days;
    meso_result_t r = { 0 };
    if (s_call (fx, "inventory.SetReorderPoint", &rq.base, NULL, &r) != MESO_OK)
        fail_msg ("SetReorderPoint failed: %s", r.message);
    size_t len;
    const uint8_t *body = meso_result_body (&r, &len);
    Meso__V1__SetReorderPointReply *out = meso__v1__set_reorder_point_reply__unpack (NULL, len, body);
    assert_non_null (out);
    assert_int_equal (out->reorder_point_milli, point);
    assert_int_equal (out->expiring_warn_days, days ? days : 30);
    meso__v1__set_reorder_point_reply__free_unpacked (out, NULL);
    meso_result_reset (&r);
}

/* GetStock's total of one ingredient in a clinic: available and low. */
static void
s_total (fx_t *fx, const char *clinic, const char *ingredient, int64_t *available, bool *low)
{
    Meso__V1__GetStockRequest gq = MESO__V1__GET_STOCK_REQUEST__INIT;
    gq.clinic_id = (char *) clinic;
    gq.ingredient_code = (char *) ingredient;
    meso_result_t r = { 0 };
    assert_int_equal (s_call (fx, "inventory.GetStock", &gq.base, NULL, &r), MESO_OK);
    size_t len;
    const uint8_t *body = meso_result_body (&r, &len);
    Meso__V1__GetStockReply *out = meso__v1__get_stock_reply__unpack (NULL, len, body);
    assert_non_null (out);
    assert_int_equal (out->n_totals, 1);
    assert_string_equal (out->totals[0]->ingredient_code, ingredient);
    *available = out->totals[0]->available_milli;
    *low = out->totals[0]->low;
    meso__v1__get_stock_reply__free_unpacked (out, NULL);
    meso_result_reset (&r);
}

static void
s_adjust (fx_t *fx, const char *clinic, const char *lot_id, int64_t delta)
{
    Meso__V1__AdjustRequest rq = MESO__V1__ADJUST_REQUEST__INIT;
    rq.clinic_id = (char *) clinic;
    rq.lot_id = (char *) lot_id;
    rq.delta_milli = delta;
    rq.reason = "stock count";
    meso_result_t r = { 0 };
    if (s_call (fx, "inventory.Adjust", &rq.base, NULL, &r) != MESO_OK)
        fail_msg ("Adjust failed: %s", r.message);
    meso_result_reset (&r);
}

static void
s_release (fx_t *fx, const char *clinic, const char *appt)
{
    Meso__V1__ReleaseRequest rl = MESO__V1__RELEASE_REQUEST__INIT;
    rl.clinic_id = (char *) clinic;
    rl.appointment_id = (char *) appt;
    rl.reason = "cancelled";
    meso_result_t r = { 0 };
    assert_int_equal (s_call (fx, "inventory.Release", &rl.base, NULL, &r), MESO_OK);
    meso_result_reset (&r);
}

/* Available must be 'want' and the low flag 'low' (GetStock). */
static void
s_expect_total (fx_t *fx, const char *clinic, const char *ingredient, int64_t want, bool low)
{
    int64_t available;
    bool is_low;
    s_total (fx, clinic, ingredient, &available, &is_low);
    assert_int_equal (available, want);
    assert_int_equal (is_low, low);
}

/* stock.low is sent when available falls below the reorder point, once per
 * crossing (reorder_point.low_since in 004_inventory.sql): not again while
 * it stays below, again after it has been back at or above the point. */
static void
test_stock_low_once_per_crossing (void **state)
{
    (void) state;
    fx_t *fx = s_setup ("inv_low", false);
    s_catalogue (fx);
    char caf1[40], caf2[40];
    s_receive (fx, "clinic-a", "caffeine", "CAF-1", 60, 500000, caf1);
    s_receive (fx, "clinic-a", "caffeine", "CAF-2", 60, 10000, caf2);
    s_receive (fx, "clinic-a", "lcarnitine", "LC-1", 60, 1000000, NULL);
    s_receive (fx, "clinic-b", "caffeine", "CAF-B", 60, 100000, NULL);   /* no point in clinic-b */

    s_set_reorder (fx, "clinic-a", "caffeine", 300000, 0);
    assert_int_equal (s_count_type (fx, "stock.low"), 0);
    s_expect_total (fx, "clinic-a", "caffeine", 510000, false);

    /* 510 - 100 = 410: still above. */
    assert_int_equal (s_reserve (fx, "clinic-a", "appt-1", "pat-1", 10, "thighs", NULL, NULL, NULL), MESO_OK);
    assert_int_equal (s_count_type (fx, "stock.low"), 0);
    /* 410 - 180 = 230: below 300, one stock.low. */
    assert_int_equal (s_reserve (fx, "clinic-a", "appt-2", "pat-2", 10, "thighs", "abdomen", NULL, NULL), MESO_OK);
    s_check_low (fx, 1, "clinic-a", "caffeine", "mg", 230000, 300000);
    s_expect_total (fx, "clinic-a", "caffeine", 230000, true);
    /* Further down (130), and back up a little (230): still the one. */
    assert_int_equal (s_reserve (fx, "clinic-a", "appt-3", "pat-3", 10, "thighs", NULL, NULL, NULL), MESO_OK);
    assert_int_equal (s_count_type (fx, "stock.low"), 1);
    s_release (fx, "clinic-a", "appt-3");
    assert_int_equal (s_count_type (fx, "stock.low"), 1);
    s_expect_total (fx, "clinic-a", "caffeine", 230000, true);

    /* A delivery takes it back above (430): no event, no longer low. */
    s_receive (fx, "clinic-a", "caffeine", "CAF-3", 60, 200000, NULL);
    s_expect_total (fx, "clinic-a", "caffeine", 430000, false);
    assert_int_equal (s_count_type (fx, "stock.low"), 1);

    /* A session consumed without a reservation takes 150 mg: 280, below
     * again, a second stock.low (with the unit: the consume path knows
     * only the ingredient code). */
    char d0[16];
    s_date (0, d0);
    Meso__V1__IngredientAmount x = MESO__V1__INGREDIENT_AMOUNT__INIT;
    x.ingredient_code = "caffeine";
    x.amount_milli = 150000;
    Meso__V1__IngredientAmount *actual[] = { &x };
    Meso__V1__ConsumeRequest cq = MESO__V1__CONSUME_REQUEST__INIT;
    cq.clinic_id = "clinic-a";
    cq.appointment_id = "appt-walkin";
    cq.patient_id = "pat-9";
    cq.session_date = d0;
    cq.n_actual = 1;
    cq.actual = actual;
    meso_result_t r = { 0 };
    if (s_call (fx, "inventory.Consume", &cq.base, NULL, &r) != MESO_OK)
        fail_msg ("Consume failed: %s", r.message);
    meso_result_reset (&r);
    s_check_low (fx, 2, "clinic-a", "caffeine", "mg", 280000, 300000);

    /* Exactly at the point is not below it: low clears, no event; one
     * milligram less crosses again. */
    s_adjust (fx, "clinic-a", caf2, 20000);
    s_expect_total (fx, "clinic-a", "caffeine", 300000, false);
    assert_int_equal (s_count_type (fx, "stock.low"), 2);
    s_adjust (fx, "clinic-a", caf2, -1000);
    s_check_low (fx, 3, "clinic-a", "caffeine", "mg", 299000, 300000);

    /* Moving the point: below available clears it silently; above it is a
     * crossing too, announced with the new point. */
    s_set_reorder (fx, "clinic-a", "caffeine", 100000, 0);
    s_expect_total (fx, "clinic-a", "caffeine", 299000, false);
    assert_int_equal (s_count_type (fx, "stock.low"), 3);
    s_set_reorder (fx, "clinic-a", "caffeine", 400000, 0);
    s_check_low (fx, 4, "clinic-a", "caffeine", "mg", 299000, 400000);
    s_expect_total (fx, "clinic-a", "caffeine", 299000, true);

    /* Only clinic-a's caffeine has a point: nothing else was announced. */
    assert_int_equal (s_sql (fx, "SELECT count (*) FROM events.outbox WHERE type = 'stock.low' "
                             "AND clinic_id <> 'clinic-a'", NULL), 0);
    s_check_books (fx);
    s_teardown (fx);
}

/* Waits until sql (one integer) returns want; fails after timeout_ms. */
static void
s_wait_sql (fx_t *fx, const char *sql, const char *p1, int64_t want, int timeout_ms)
{
    int64_t deadline = meso_time_mono_ms () + timeout_ms, got = -1;
    while (meso_time_mono_ms () < deadline) {
        got = s_sql (fx, sql, p1);
        if (got == want)
            return;
        zclock_sleep (50);
    }
    fail_msg ("waited %d ms for %s to be %" PRId64 ", it is %" PRId64, timeout_ms, sql, want, got);
}

/* Events of type stock.expiring naming lot_id. */
static int
s_expiring_for (Meso__V1__Event **ev, int n, const char *lot_id, Meso__V1__Event **found)
{
    int count = 0;
    for (int i = 0; i < n; i++)
        if (strcmp (ev[i]->stock_expiring->lot_id, lot_id) == 0) {
            count++;
            *found = ev[i];
        }
    return count;
}

/* The timer announces each lot that expires within the clinic's warning
 * horizon (expiring_warn_days, 30 by default) once, with what is still
 * usable of it. The daemon runs its check every 100 ms here
 * (MESO_INVENTORY_EXPIRING_CHECK_MS) instead of every minute. */
static void
test_stock_expiring_once_per_lot (void **state)
{
    (void) state;
    static const char *const env[] = { "MESO_INVENTORY_EXPIRING_CHECK_MS=100", NULL };
    fx_t *fx = s_setup_env ("inv_expiring", false, env);
    s_catalogue (fx);
    char near[40], far[40], lid[40], d10[16], d90[16], d5[16];
    s_date (10, d10);
    s_date (90, d90);
    s_date (5, d5);
    s_receive (fx, "clinic-a", "caffeine", "CAF-NEAR", 10, 300000, near);
    s_receive (fx, "clinic-a", "caffeine", "CAF-FAR", 90, 200000, far);
    s_receive (fx, "clinic-a", "lcarnitine", "LC-FAR", 90, 200000, NULL);
    s_receive (fx, "clinic-b", "lidocaine", "LID-NEAR", 5, 50000, lid);

    s_wait_sql (fx, "SELECT count (*) FROM events.outbox WHERE type = $1", "stock.expiring", 2, 10000);
    Meso__V1__Event *ev[16] = { 0 }, *e = NULL;
    int n = s_outbox_events (fx, "stock.expiring", ev, 16);
    assert_int_equal (n, 2);
    assert_int_equal (s_expiring_for (ev, n, near, &e), 1);
    assert_int_equal (e->payload_case, MESO__V1__EVENT__PAYLOAD_STOCK_EXPIRING);
    assert_string_equal (e->clinic_id, "clinic-a");
    assert_string_equal (e->stock_expiring->ingredient_code, "caffeine");
    assert_string_equal (e->stock_expiring->lot_number, "CAF-NEAR");
    assert_string_equal (e->stock_expiring->expiry_date, d10);
    assert_int_equal (e->stock_expiring->quantity_milli, 300000);
    assert_int_equal (s_expiring_for (ev, n, lid, &e), 1);
    assert_string_equal (e->clinic_id, "clinic-b");
    assert_string_equal (e->stock_expiring->ingredient_code, "lidocaine");
    assert_string_equal (e->stock_expiring->expiry_date, d5);
    assert_int_equal (e->stock_expiring->quantity_milli, 50000);
    s_events_free (ev, n);

    /* A session on day 60 holds 100 mg of CAF-FAR (CAF-NEAR is gone by
     * then); then clinic-a warns 120 days ahead for caffeine: CAF-FAR is
     * announced with the 100 mg still usable. That it comes proves the
     * timer kept running; CAF-NEAR must not come again. */
    zclock_sleep (500);
    assert_int_equal (s_reserve (fx, "clinic-a", "appt-1", "pat-1", 60, "thighs", NULL, NULL, NULL), MESO_OK);
    s_set_reorder (fx, "clinic-a", "caffeine", 0, 120);
    s_wait_sql (fx, "SELECT count (*) FROM events.outbox WHERE type = $1", "stock.expiring", 3, 10000);
    zclock_sleep (500);          /* five more checks */
    n = s_outbox_events (fx, "stock.expiring", ev, 16);
    assert_int_equal (n, 3);
    assert_int_equal (s_expiring_for (ev, n, near, &e), 1);
    assert_int_equal (s_expiring_for (ev, n, lid, &e), 1);
    assert_int_equal (s_expiring_for (ev, n, far, &e), 1);
    assert_string_equal (e->stock_expiring->lot_number, "CAF-FAR");
    assert_string_equal (e->stock_expiring->expiry_date, d90);
    assert_int_equal (e->stock_expiring->quantity_milli, 100000);
    s_events_free (ev, n);
    /* lcarnitine keeps the default 30 days: LC-FAR is not announced. */
    assert_int_equal (s_sql (fx, "SELECT count (*) FROM inventory.lot WHERE lot_number = 'LC-FAR' "
                             "AND expiring_sent_at IS NOT NULL", NULL), 0);
    s_teardown (fx);
}

static int
s_discard (fx_t *fx, const char *clinic, const char *as_of, Meso__V1__DiscardExpiredReply **out)
{
    Meso__V1__DiscardExpiredRequest rq = MESO__V1__DISCARD_EXPIRED_REQUEST__INIT;
    rq.clinic_id = (char *) clinic;
    rq.as_of = (char *) (as_of ? as_of : "");
    meso_result_t r = { 0 };
    int st = s_call (fx, "inventory.DiscardExpired", &rq.base, NULL, &r);
    if (st == MESO_OK) {
        size_t len;
        const uint8_t *body = meso_result_body (&r, &len);
        *out = meso__v1__discard_expired_reply__unpack (NULL, len, body);
        assert_non_null (*out);
    }
    meso_result_reset (&r);
    return st;
}

static int64_t
s_discarded (const Meso__V1__DiscardExpiredReply *out, const char *lot_id)
{
    for (size_t i = 0; i < out->n_discarded; i++)
        if (strcmp (out->discarded[i]->lot_id, lot_id) == 0)
            return out->discarded[i]->amount_milli;
    return -1;
}

/* DiscardExpired takes the unreserved quantity of lots that expired
 * before as_of off the shelf (a reservation on such a lot stays until it
 * is released or consumed), records it in the ledger, and the books still
 * add up: received - consumed - discarded = on hand. */
static void
test_discard_expired (void **state)
{
    (void) state;
    fx_t *fx = s_setup ("inv_discard", false);
    s_catalogue (fx);
    char old[40], fresh[40], lc[40], cb[40], d1[16];
    s_date (1, d1);
    s_receive (fx, "clinic-a", "caffeine", "CAF-OLD", 2, 300000, old);
    s_receive (fx, "clinic-a", "caffeine", "CAF-NEW", 40, 200000, fresh);
    s_receive (fx, "clinic-a", "lcarnitine", "LC-OLD", 2, 200000, lc);
    s_receive (fx, "clinic-b", "caffeine", "CAF-B", 2, 100000, cb);
    s_set_reorder (fx, "clinic-a", "caffeine", 250000, 0);

    /* appt-1 (day 1) is consumed, appt-2 (day 2) holds; both from the
     * lots expiring on day 2 (first to expire first). */
    assert_int_equal (s_reserve (fx, "clinic-a", "appt-1", "pat-1", 1, "thighs", NULL, NULL, NULL), MESO_OK);
    Meso__V1__ConsumeRequest cq = MESO__V1__CONSUME_REQUEST__INIT;
    cq.clinic_id = "clinic-a";
    cq.appointment_id = "appt-1";
    meso_result_t r = { 0 };
    assert_int_equal (s_call (fx, "inventory.Consume", &cq.base, NULL, &r), MESO_OK);
    meso_result_reset (&r);
    assert_int_equal (s_reserve (fx, "clinic-a", "appt-2", "pat-2", 2, "thighs", NULL, NULL, NULL), MESO_OK);
    assert_int_equal (s_lot_col (fx, "on_hand_milli", old), 200000);
    assert_int_equal (s_lot_col (fx, "reserved_milli", old), 100000);
    assert_int_equal (s_lot_col (fx, "reserved_milli", lc), 50000);
    s_expect_total (fx, "clinic-a", "caffeine", 300000, false);

    /* Today nothing has expired: nothing is discarded. */
    Meso__V1__DiscardExpiredReply *out = NULL;
    assert_int_equal (s_discard (fx, "clinic-a", NULL, &out), MESO_OK);
    assert_int_equal (out->n_discarded, 0);
    meso__v1__discard_expired_reply__free_unpacked (out, NULL);
    assert_int_equal (s_sql (fx, "SELECT count (*) FROM inventory.movement WHERE kind = 'discard'", NULL), 0);

    /* A day after the clinic's today is refused: it would take lots still
     * good today (9999-12-31 would empty the shelves). Nothing changes. */
    char fp0[64], fp00[64];
    s_fingerprint (fx, fp0, sizeof fp0);
    assert_int_equal (s_discard (fx, "clinic-a", d1, &out), MESO_INVALID_ARGUMENT);
    assert_int_equal (s_discard (fx, "clinic-a", "9999-12-31", &out), MESO_INVALID_ARGUMENT);
    s_fingerprint (fx, fp00, sizeof fp00);
    assert_string_equal (fp0, fp00);
    assert_int_equal (s_sql (fx, "SELECT count (*) FROM inventory.movement WHERE kind = 'discard'", NULL), 0);

    /* Three days later the day-2 lots have expired. Receive refuses a
     * past expiry and DiscardExpired a future as_of, so time passes in
     * SQL (as the superuser): the two lots' expiry moves to yesterday.
     * Their unreserved part goes; appt-2's 100 mg stay on hand, held.
     * CAF-NEW and clinic-b are untouched. */
    assert_int_equal (s_sql (fx, "WITH u AS (UPDATE inventory.lot SET expiry_date = current_date - 1 "
                             "WHERE lot_id = $1 RETURNING 1) SELECT count (*) FROM u", old), 1);
    assert_int_equal (s_sql (fx, "WITH u AS (UPDATE inventory.lot SET expiry_date = current_date - 1 "
                             "WHERE lot_id = $1 RETURNING 1) SELECT count (*) FROM u", lc), 1);
    assert_int_equal (s_discard (fx, "clinic-a", NULL, &out), MESO_OK);
    assert_int_equal (out->n_discarded, 2);
    assert_int_equal (s_discarded (out, old), 100000);
    assert_int_equal (s_discarded (out, lc), 100000);
    for (size_t i = 0; i < out->n_lots; i++) {
        assert_int_equal (out->lots[i]->available_milli, 0);
        assert_int_equal (out->lots[i]->on_hand_milli, out->lots[i]->reserved_milli);
    }
    meso__v1__discard_expired_reply__free_unpacked (out, NULL);
    assert_int_equal (s_lot_col (fx, "on_hand_milli", old), 100000);
    assert_int_equal (s_lot_col (fx, "reserved_milli", old), 100000);
    assert_int_equal (s_lot_col (fx, "on_hand_milli", lc), 50000);
    assert_int_equal (s_lot_col (fx, "on_hand_milli", fresh), 200000);
    assert_int_equal (s_lot_col (fx, "on_hand_milli", cb), 100000);
    assert_int_equal (s_sql (fx, "SELECT sum (delta_milli) FROM inventory.movement WHERE kind = 'discard' "
                             "AND reason = 'expired' AND lot_id = $1", old), -100000);
    assert_int_equal (s_sql (fx, "SELECT count (*) FROM inventory.movement WHERE kind = 'discard'", NULL), 2);
    assert_int_equal (s_sql (fx, "SELECT (status = 'held')::int FROM inventory.reservation "
                             "WHERE appointment_id = 'appt-2'", NULL), 1);
    /* Caffeine usable today fell from 300 to 200 mg, below the 250 mg
     * point: the discard announces it like any other fall. */
    s_expect_total (fx, "clinic-a", "caffeine", 200000, true);
    s_check_low (fx, 1, "clinic-a", "caffeine", "mg", 200000, 250000);
    /* The same discard again: nothing left to discard. */
    assert_int_equal (s_discard (fx, "clinic-a", NULL, &out), MESO_OK);
    assert_int_equal (out->n_discarded, 0);
    meso__v1__discard_expired_reply__free_unpacked (out, NULL);

    /* appt-2 cancelled: its 100 mg and 50 mg are unreserved in expired
     * lots, and the next discard takes them: nothing left on hand. */
    s_release (fx, "clinic-a", "appt-2");
    assert_int_equal (s_discard (fx, "clinic-a", NULL, &out), MESO_OK);
    assert_int_equal (out->n_discarded, 2);
    assert_int_equal (s_discarded (out, old), 100000);
    assert_int_equal (s_discarded (out, lc), 50000);
    meso__v1__discard_expired_reply__free_unpacked (out, NULL);
    assert_int_equal (s_lot_col (fx, "on_hand_milli", old), 0);
    assert_int_equal (s_lot_col (fx, "on_hand_milli", lc), 0);

    /* clinic-a's caffeine books: 500 received - 100 consumed - 200
     * discarded = 200 on hand. */
    assert_int_equal (s_sql (fx, "SELECT sum (m.delta_milli) FROM inventory.movement m JOIN inventory.lot l "
                             "USING (clinic_id, lot_id) WHERE m.kind = 'receive' AND l.clinic_id = 'clinic-a' "
                             "AND l.ingredient_code = $1", "caffeine"), 500000);
    assert_int_equal (s_sql (fx, "SELECT sum (amount_milli) FROM inventory.consumption "
                             "WHERE clinic_id = 'clinic-a' AND ingredient_code = $1", "caffeine"), 100000);
    assert_int_equal (s_sql (fx, "SELECT sum (m.delta_milli) FROM inventory.movement m JOIN inventory.lot l "
                             "USING (clinic_id, lot_id) WHERE m.kind = 'discard' AND l.clinic_id = 'clinic-a' "
                             "AND l.ingredient_code = $1", "caffeine"), -200000);
    assert_int_equal (s_sql (fx, "SELECT sum (on_hand_milli) FROM inventory.lot WHERE clinic_id = 'clinic-a' "
                             "AND ingredient_code = $1", "caffeine"), 200000);

    /* Time passing for clinic-b without as_of: Receive refuses a past
     * expiry, so the lot's expiry is moved to yesterday in SQL (as the
     * superuser), as if two days had gone by. */
    assert_int_equal (s_sql (fx, "WITH u AS (UPDATE inventory.lot SET expiry_date = current_date - 1 "
                             "WHERE lot_id = $1 RETURNING 1) SELECT count (*) FROM u", cb), 1);
    assert_int_equal (s_discard (fx, "clinic-b", NULL, &out), MESO_OK);
    assert_int_equal (out->n_discarded, 1);
    assert_int_equal (s_discarded (out, cb), 100000);
    assert_string_equal (meso_enum_str (&meso__v1__unit__descriptor, (int) out->discarded[0]->unit), "mg");
    meso__v1__discard_expired_reply__free_unpacked (out, NULL);
    assert_int_equal (s_lot_col (fx, "on_hand_milli", cb), 0);
    assert_int_equal (s_lot_col (fx, "on_hand_milli", fresh), 200000);

    /* Bad input changes nothing. */
    char fp1[64], fp2[64];
    s_fingerprint (fx, fp1, sizeof fp1);
    assert_int_equal (s_discard (fx, "clinic-a", "tomorrow", &out), MESO_INVALID_ARGUMENT);
    assert_int_equal (s_discard (fx, "", NULL, &out), MESO_INVALID_ARGUMENT);
    s_fingerprint (fx, fp2, sizeof fp2);
    assert_string_equal (fp1, fp2);
    s_check_books (fx);
    s_teardown (fx);
}

static int
s_upsert_ingredient (fx_t *fx, const char *code, const char *name, const char *unit, meso_result_t *r)
{
    Meso__V1__Ingredient ing = MESO__V1__INGREDIENT__INIT;
    ing.code = (char *) code;
    ing.name = (char *) name;
    ing.unit = (Meso__V1__Unit) meso_enum_from_text (&meso__v1__unit__descriptor, unit);
    ing.form = "ampoule";
    Meso__V1__UpsertIngredientRequest rq = MESO__V1__UPSERT_INGREDIENT_REQUEST__INIT;
    rq.ingredient = &ing;
    return s_call (fx, "inventory.UpsertIngredient", &rq.base, NULL, r);
}

/* An ingredient's quantities (lots, ledger, recipes) are counted in its
 * unit: changing mg to ml while any of them exists would silently turn
 * 100 mg into 100 ml. Refused; an unused ingredient may change. */
static void
test_ingredient_unit_change (void **state)
{
    (void) state;
    fx_t *fx = s_setup ("inv_unit", false);
    s_catalogue (fx);
    s_ingredient (fx, "glycolic", "ml");
    s_ingredient (fx, "artichoke", "mg");
    s_receive (fx, "clinic-a", "artichoke", "ART-1", 60, 100000, NULL);
    char fp1[64], fp2[64];
    s_fingerprint (fx, fp1, sizeof fp1);

    /* Stock on hand. */
    meso_result_t r = { 0 };
    assert_int_equal (s_upsert_ingredient (fx, "artichoke", "Artichoke extract", "ml", &r),
                      MESO_FAILED_PRECONDITION);
    assert_non_null (strstr (r.message, "unit of ingredient artichoke"));
    meso_result_reset (&r);
    /* In a recipe (caffeine: 100 mg for thighs), with no stock. */
    assert_int_equal (s_upsert_ingredient (fx, "caffeine", "Caffeine", "ml", &r), MESO_FAILED_PRECONDITION);
    assert_non_null (strstr (r.message, "unit of ingredient caffeine"));
    meso_result_reset (&r);
    s_fingerprint (fx, fp2, sizeof fp2);
    assert_string_equal (fp1, fp2);
    assert_int_equal (s_sql (fx, "SELECT count (*) FROM inventory.ingredient WHERE unit = 'mg' "
                             "AND code IN ('artichoke', 'caffeine')", NULL), 2);

    /* The same unit with a new name is fine. */
    assert_int_equal (s_upsert_ingredient (fx, "artichoke", "Artichoke extract 5%", "mg", &r), MESO_OK);
    meso_result_reset (&r);
    assert_int_equal (s_sql (fx, "SELECT count (*) FROM inventory.ingredient WHERE code = 'artichoke' "
                             "AND name = $1", "Artichoke extract 5%"), 1);
    /* Nothing counted in glycolic's unit yet: it may change. */
    assert_int_equal (s_upsert_ingredient (fx, "glycolic", "Glycolic acid", "mg", &r), MESO_OK);
    meso_result_reset (&r);
    assert_int_equal (s_sql (fx, "SELECT count (*) FROM inventory.ingredient WHERE code = 'glycolic' "
                             "AND unit = 'mg'", NULL), 1);
    s_teardown (fx);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_reserve_fefo_split_and_expiry),
        cmocka_unit_test (test_all_or_nothing_when_short),
        cmocka_unit_test (test_consume_release_and_books),
        cmocka_unit_test (test_bad_input_changes_nothing),
        cmocka_unit_test (test_schema_refuses_negative_and_over_reserved),
        cmocka_unit_test (test_recall_transfer_and_forecast),
        cmocka_unit_test (test_session_events_consume_and_release_once),
        cmocka_unit_test (test_get_recipe),
        cmocka_unit_test (test_redate_moves_expiring_lots),
        cmocka_unit_test (test_session_date_beyond_horizon),
        cmocka_unit_test (test_stock_low_once_per_crossing),
        cmocka_unit_test (test_stock_expiring_once_per_lot),
        cmocka_unit_test (test_discard_expired),
        cmocka_unit_test (test_ingredient_unit_change),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
