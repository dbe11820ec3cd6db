/* test_recall.c -- a recall protects the patients booked on the lot,
 * against real PostgreSQL and real meso-screening, meso-inventory (with
 * its session-event consumer), meso-scheduling and meso-events over real
 * sockets:
 *   - with a second lot that lasts until the session, the recall moves
 *     the session's hold to it in the same transaction (the reply counts
 *     it, the recalled lot holds nothing), the session starts, and its
 *     completion consumes from the second lot, nothing from the recalled
 *     one;
 *   - without one (the only other lot expires before the session), the
 *     session is left at risk: the reply and inventory.ListAtRisk list it,
 *     stock.recall_shortfall reaches the event log with its fields, and
 *     StartSession is refused naming the ingredient; a session the other
 *     lot can cover, in the same recall, is moved and starts;
 *   - Consume refuses an actual amount naming a recalled lot. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "scheduling_fixture.h"

#include "events.pb-c.h"

static const char *const s_practs[] = { "dr-a", "dr-b" };
static const char *const s_rooms[] = { "room-1", "room-2" };

typedef struct {
    fx_t *fx;
    pid_t events_pid;
    char events_router[256], events_pub[256];
} s_env_t;

/* The scheduling fixture, with meso-events and an inventory that consumes
 * session events (the fixture's own runs without): the session's
 * completion reaches inventory the way it does in production. */
static s_env_t *
s_setup (const char *name)
{
    s_env_t *e = calloc (1, sizeof *e);
    assert_non_null (e);
    fx_t *fx = e->fx = fx_setup (name, 1);
    e->events_pid = mt_spawn_events (name, e->events_router, sizeof e->events_router, e->events_pub,
                                     sizeof e->events_pub);
    assert_true (e->events_pid > 0);
    mt_stop (fx->inventory_pid, SIGTERM);
    char role[512], db[600], bind[300], ev[300], evp[300], sch[300];
    mt_role_conninfo (name, "meso_inventory", role, sizeof role);
    snprintf (db, sizeof db, "--db=%s", role);
    snprintf (bind, sizeof bind, "--bind=%s", fx->inventory_ep);
    snprintf (ev, sizeof ev, "--events=%s", e->events_router);
    snprintf (evp, sizeof evp, "--events-pub=%s", e->events_pub);
    snprintf (sch, sizeof sch, "--scheduling=%s", fx->sched_ep[0]);
    const char *argv[] = { "meso-inventory", db, bind, ev, evp, sch, NULL };
    fx->inventory_pid = mt_spawn ("bin/meso-inventory", argv, NULL);
    assert_true (fx->inventory_pid > 0);
    assert_int_equal (mt_wait_healthy (fx->inventory_ep, 10000), 0);
    fx_clinic (fx, "c1", "Europe/Paris", s_practs, 2, s_rooms, 2, false);
    return e;
}

static void
s_teardown (s_env_t *e)
{
    fx_teardown (e->fx);
    mt_stop (e->events_pid, SIGTERM);
    free (e);
}

/* Receives qty (thousandths) of ingredient as lot_number, expiring in
 * days; writes the lot id (40 bytes). */
static void
s_receive (fx_t *fx, const char *ingredient, const char *lot_number, int days, int64_t qty, char *lot_id)
{
    char expiry[11];
    fx_day (days, expiry);
    Meso__V1__ReceiveRequest rv = MESO__V1__RECEIVE_REQUEST__INIT;
    rv.clinic_id = "c1";
    rv.ingredient_code = (char *) ingredient;
    rv.lot_number = (char *) lot_number;
    rv.expiry_date = expiry;
    rv.quantity_milli = qty;
    meso_result_t r = { 0 };
    assert_int_equal (fx_call (fx, fx->inv, "inventory.Receive", &rv.base, NULL, &r), MESO_OK);
    size_t len;
    const uint8_t *body = meso_result_body (&r, &len);
    Meso__V1__ReceiveReply *out = meso__v1__receive_reply__unpack (NULL, len, body);
    assert_non_null (out);
    snprintf (lot_id, 40, "%s", out->lot->lot_id);
    meso__v1__receive_reply__free_unpacked (out, NULL);
    meso_result_reset (&r);
}

/* Books a session of patient in days at 10:00 with pract; writes the
 * appointment id (40 bytes). */
static void
s_book (fx_t *fx, const char *patient, int days, const char *pract, const char *room, char *appt)
{
    char day[11], local[20];
    fx_day (days, day);
    snprintf (local, sizeof local, "%sT10:00", day);
    meso_result_t r = { 0 };
    assert_int_equal (fx_book_session (fx, fx->sch, "c1", patient, pract, room, local, 60, appt, &r), MESO_OK);
    meso_result_reset (&r);
}

static Meso__V1__RecallReply *
s_recall (fx_t *fx, const char *lot_number)
{
    Meso__V1__RecallRequest rq = MESO__V1__RECALL_REQUEST__INIT;
    Meso__V1__SupplierLot sl = MESO__V1__SUPPLIER_LOT__INIT;
    sl.ingredient_code = "caffeine";
    sl.lot_number = (char *) lot_number;
    rq.lot_case = MESO__V1__RECALL_REQUEST__LOT_SUPPLIER_LOT;
    rq.supplier_lot = &sl;
    rq.clinic_id = "c1";
    rq.reason = "supplier notice 2026-41";
    meso_result_t r = { 0 };
    assert_int_equal (fx_call (fx, fx->inv, "inventory.Recall", &rq.base, NULL, &r), MESO_OK);
    size_t len;
    const uint8_t *body = meso_result_body (&r, &len);
    Meso__V1__RecallReply *out = meso__v1__recall_reply__unpack (NULL, len, body);
    assert_non_null (out);
    meso_result_reset (&r);
    return out;
}

static int
s_session (fx_t *fx, const char *method, const char *appt, meso_result_t *r)
{
    Meso__V1__SessionRef ref = MESO__V1__SESSION_REF__INIT;
    ref.appointment_id = (char *) appt;
    return fx_call (fx, fx->sch, method, &ref.base, NULL, r);
}

/* The amount of caffeine appointment appt holds in lot. */
static int64_t
s_held_in (fx_t *fx, const char *appt, const char *lot)
{
    char sql[256];
    snprintf (sql, sizeof sql, "SELECT coalesce (sum (amount_milli), 0) FROM inventory.reservation_line"
                               " WHERE appointment_id = $1 AND lot_id = '%s'", lot);
    return fx_sql (fx, sql, appt);
}

/* Waits (polling, 15 s at most) until sql returns want. */
static void
s_wait_for (fx_t *fx, const char *sql, const char *p1, int64_t want)
{
    for (int i = 0; i < 300 && fx_sql (fx, sql, p1) != want; i++)
        mt_sleep_ms (50);
    assert_int_equal (fx_sql (fx, sql, p1), want);
}

static void
test_recall_moves_the_session_to_a_second_lot (void **state)
{
    (void) state;
    s_env_t *e = s_setup ("recall_moved");
    fx_t *fx = e->fx;
    char a[40], b[40], lc[40], pat[40], appt[40];
    s_receive (fx, "caffeine", "CAF-A", 400, 300000, a);
    s_receive (fx, "l_carnitine", "LC-1", 400, 500000, lc);
    fx_patient (fx, "c1", NULL, false, pat);
    s_book (fx, pat, 3, "dr-a", "room-1", appt);
    assert_int_equal (s_held_in (fx, appt, a), 100000);
    /* A second lot arrives, lasting well past the session. */
    s_receive (fx, "caffeine", "CAF-B", 500, 300000, b);

    Meso__V1__RecallReply *rr = s_recall (fx, "CAF-A");
    assert_int_equal (rr->n_lots, 1);
    assert_true (rr->lots[0]->recalled);
    assert_int_equal (rr->sessions_moved, 1);
    assert_int_equal (rr->n_uncovered, 0);
    assert_int_equal (rr->n_sessions, 1);
    assert_string_equal (rr->sessions[0]->appointment_id, appt);
    assert_string_equal (meso_enum_str (&meso__v1__recall_hit_state__descriptor, (int) rr->sessions[0]->state), "moved");
    meso__v1__recall_reply__free_unpacked (rr, NULL);
    /* The hold moved: nothing in A, 100 mg in B, A reserves nothing. */
    assert_int_equal (s_held_in (fx, appt, a), 0);
    assert_int_equal (s_held_in (fx, appt, b), 100000);
    assert_int_equal (fx_sql (fx, "SELECT reserved_milli FROM inventory.lot WHERE lot_id = $1", a), 0);
    assert_int_equal (fx_sql (fx, "SELECT reserved_milli FROM inventory.lot WHERE lot_id = $1", b), 100000);
    assert_int_equal (fx_sql (fx, "SELECT count (*) FROM inventory.reservation_gap", NULL), 0);
    assert_int_equal (fx_sql (fx, "SELECT count (*) FROM events.outbox WHERE type = 'stock.recall_shortfall'", NULL)
                      + fx_sql (fx, "SELECT count (*) FROM events.log WHERE type = 'stock.recall_shortfall'", NULL), 0);

    /* The session starts and completes; inventory consumes from B. */
    meso_result_t r = { 0 };
    assert_int_equal (s_session (fx, "scheduling.StartSession", appt, &r), MESO_OK);
    Meso__V1__CompleteSessionRequest cq = MESO__V1__COMPLETE_SESSION_REQUEST__INIT;
    cq.appointment_id = appt;
    cq.improvement_score = 1;
    assert_int_equal (fx_call (fx, fx->sch, "scheduling.CompleteSession", &cq.base, NULL, &r), MESO_OK);
    meso_result_reset (&r);
    s_wait_for (fx, "SELECT count (*) FROM inventory.reservation WHERE appointment_id = $1 AND status = 'consumed'",
                appt, 1);
    assert_int_equal (fx_sql (fx, "SELECT coalesce (sum (amount_milli), 0) FROM inventory.consumption"
                                  " WHERE lot_id = $1", a), 0);
    assert_int_equal (fx_sql (fx, "SELECT coalesce (sum (amount_milli), 0) FROM inventory.consumption"
                                  " WHERE lot_id = $1", b), 100000);
    assert_int_equal (fx_sql (fx, "SELECT on_hand_milli FROM inventory.lot WHERE lot_id = $1", a), 300000);
    assert_int_equal (fx_sql (fx, "SELECT on_hand_milli FROM inventory.lot WHERE lot_id = $1", b), 200000);
    s_teardown (e);
}

static void
test_recall_without_cover_leaves_the_session_at_risk (void **state)
{
    (void) state;
    s_env_t *e = s_setup ("recall_at_risk");
    fx_t *fx = e->fx;
    char a[40], b[40], lc[40], p1[40], p2[40], s1[40], s2[40];
    s_receive (fx, "caffeine", "CAF-A", 400, 300000, a);
    s_receive (fx, "l_carnitine", "LC-1", 400, 500000, lc);
    fx_patient (fx, "c1", NULL, false, p1);
    fx_patient (fx, "c1", NULL, false, p2);
    s_book (fx, p1, 3, "dr-a", "room-1", s1);
    s_book (fx, p2, 10, "dr-b", "room-2", s2);
    /* A lot that lasts past the first session, not the second. */
    s_receive (fx, "caffeine", "CAF-B", 5, 300000, b);

    Meso__V1__RecallReply *rr = s_recall (fx, "CAF-A");
    assert_int_equal (rr->sessions_moved, 1);
    assert_int_equal (rr->n_sessions, 2);
    assert_string_equal (rr->sessions[0]->appointment_id, s1);
    assert_string_equal (meso_enum_str (&meso__v1__recall_hit_state__descriptor, (int) rr->sessions[0]->state), "moved");
    assert_string_equal (rr->sessions[1]->appointment_id, s2);
    assert_string_equal (meso_enum_str (&meso__v1__recall_hit_state__descriptor, (int) rr->sessions[1]->state), "at_risk");
    assert_int_equal (rr->n_uncovered, 1);
    Meso__V1__StockRecallShortfall *u = rr->uncovered[0];
    assert_string_equal (u->appointment_id, s2);
    assert_string_equal (u->patient_id, p2);
    assert_string_equal (u->clinic_id, "c1");
    assert_string_equal (u->ingredient_code, "caffeine");
    assert_string_equal (u->lot_id, a);
    assert_string_equal (u->lot_number, "CAF-A");
    assert_int_equal (u->missing_milli, 100000);
    assert_int_equal (u->usable_milli, 0);
    meso__v1__recall_reply__free_unpacked (rr, NULL);
    /* Nothing is held in the recalled lot any more. */
    assert_int_equal (fx_sql (fx, "SELECT count (*) FROM inventory.reservation_line WHERE lot_id = $1", a), 0);
    assert_int_equal (fx_sql (fx, "SELECT reserved_milli FROM inventory.lot WHERE lot_id = $1", a), 0);
    assert_int_equal (s_held_in (fx, s1, b), 100000);

    /* The front desk's list. */
    meso_result_t r = { 0 };
    Meso__V1__ListAtRiskRequest lq = MESO__V1__LIST_AT_RISK_REQUEST__INIT;
    lq.clinic_id = "c1";
    assert_int_equal (fx_call (fx, fx->inv, "inventory.ListAtRisk", &lq.base, NULL, &r), MESO_OK);
    size_t len;
    const uint8_t *body = meso_result_body (&r, &len);
    Meso__V1__ListAtRiskReply *lr = meso__v1__list_at_risk_reply__unpack (NULL, len, body);
    assert_non_null (lr);
    assert_int_equal (lr->n_sessions, 1);
    assert_string_equal (lr->sessions[0]->appointment_id, s2);
    assert_string_equal (lr->sessions[0]->patient_id, p2);
    assert_string_equal (lr->sessions[0]->ingredient_code, "caffeine");
    meso__v1__list_at_risk_reply__free_unpacked (lr, NULL);

    /* The event, in the log, with its fields. */
    s_wait_for (fx, "SELECT count (*) FROM events.log WHERE type = 'stock.recall_shortfall'", NULL, 1);
    PGresult *res = meso_db_query (fx->db, "SELECT payload FROM events.log WHERE type = 'stock.recall_shortfall'",
                                   0, NULL);
    assert_non_null (res);
    size_t plen = 0;
    unsigned char *raw = PQunescapeBytea ((const unsigned char *) PQgetvalue (res, 0, 0), &plen);
    PQclear (res);
    assert_non_null (raw);
    Meso__V1__Event *ev = meso__v1__event__unpack (NULL, plen, raw);
    PQfreemem (raw);
    assert_non_null (ev);
    assert_string_equal (ev->clinic_id, "c1");
    assert_int_equal (ev->payload_case, MESO__V1__EVENT__PAYLOAD_STOCK_RECALL_SHORTFALL);
    u = ev->stock_recall_shortfall;
    assert_string_equal (u->appointment_id, s2);
    assert_string_equal (u->patient_id, p2);
    assert_string_equal (u->clinic_id, "c1");
    assert_string_equal (u->ingredient_code, "caffeine");
    assert_string_equal (u->lot_id, a);
    assert_int_equal (u->missing_milli, 100000);
    meso__v1__event__free_unpacked (ev, NULL);

    /* The session at risk does not start, and the refusal names the
     * ingredient; the moved one does. */
    assert_int_equal (s_session (fx, "scheduling.StartSession", s2, &r), MESO_FAILED_PRECONDITION);
    assert_non_null (strstr (r.message, "caffeine"));
    assert_true (fx_has_reason (&r, "stock_hold"));
    bool named = false;
    for (size_t i = 0; i < r.reply->n_reasons; i++)
        named = named || strcmp (r.reply->reasons[i]->field, "caffeine") == 0;
    assert_true (named);
    assert_int_equal (fx_sql (fx, "SELECT count (*) FROM scheduling.appointment WHERE appointment_id = $1"
                                  " AND status = 'booked'", s2), 1);
    assert_int_equal (s_session (fx, "scheduling.StartSession", s1, &r), MESO_OK);

    /* Consume refuses to record the recalled lot. */
    Meso__V1__IngredientAmount x = MESO__V1__INGREDIENT_AMOUNT__INIT, *xp = &x;
    x.ingredient_code = "caffeine";
    x.amount_milli = 100000;
    x.lot_id = a;
    Meso__V1__ConsumeRequest cq = MESO__V1__CONSUME_REQUEST__INIT;
    cq.clinic_id = "c1";
    cq.appointment_id = s1;
    cq.actual = &xp;
    cq.n_actual = 1;
    assert_int_equal (fx_call (fx, fx->inv, "inventory.Consume", &cq.base, NULL, &r), MESO_FAILED_PRECONDITION);
    assert_true (fx_has_reason (&r, "recalled_lot"));
    assert_int_equal (fx_sql (fx, "SELECT on_hand_milli FROM inventory.lot WHERE lot_id = $1", a), 300000);
    meso_result_reset (&r);
    s_teardown (e);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_recall_moves_the_session_to_a_second_lot),
        cmocka_unit_test (test_recall_without_cover_leaves_the_session_at_risk),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
