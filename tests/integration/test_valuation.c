/* test_valuation.c -- inventory.Valuation against figures worked out by
 * hand, through the real daemons: receipts with and without a unit cost
 * (the uncosted lot is reported as uncosted, never as worth 0), a
 * re-receipt that keeps the cost and one that contradicts it, a
 * reservation held, one consumed, an expired discard, an adjustment
 * whose value rounds half to even, a transfer that carries the cost to
 * the other clinic, the period's bounds, and the refusals of bad input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "scheduling_fixture.h"

static void
s_receive (fx_t *fx, const char *clinic, const char *ingredient, const char *lot, int expiry_days,
           int64_t qty, int64_t cost, int expect)
{
    char expiry[11];
    fx_day (expiry_days, expiry);
    Meso__V1__ReceiveRequest rv = MESO__V1__RECEIVE_REQUEST__INIT;
    rv.clinic_id = (char *) clinic;
    rv.ingredient_code = (char *) ingredient;
    rv.lot_number = (char *) lot;
    rv.expiry_date = expiry;
    rv.quantity_milli = qty;
    if (cost != -1) {
        rv.cost_case = MESO__V1__RECEIVE_REQUEST__COST_UNIT_COST_CENTS;
        rv.unit_cost_cents = cost;
    }
    meso_result_t r = { 0 };
    assert_int_equal (fx_call (fx, fx->inv, "inventory.Receive", &rv.base, NULL, &r), expect);
    if (expect == MESO_OK) {
        size_t len;
        const uint8_t *body = meso_result_body (&r, &len);
        Meso__V1__ReceiveReply *out = meso__v1__receive_reply__unpack (NULL, len, body);
        assert_non_null (out);
        /* The lot says its cost, or that it has none. */
        if (cost >= 0) {
            assert_int_equal (out->lot->cost_case, MESO__V1__LOT__COST_UNIT_COST_CENTS);
            assert_int_equal (out->lot->unit_cost_cents, cost);
        }
        meso__v1__receive_reply__free_unpacked (out, NULL);
    }
    else if (expect == MESO_INVALID_ARGUMENT)
        assert_true (fx_has_reason (&r, "out_of_range"));
    else if (expect == MESO_FAILED_PRECONDITION)
        assert_true (fx_has_reason (&r, "cost_mismatch"));
    meso_result_reset (&r);
}

static Meso__V1__ValuationReply *
s_valuation (fx_t *fx, const char *clinic, const char *from, const char *to, meso_result_t *r)
{
    Meso__V1__ValuationRequest rq = MESO__V1__VALUATION_REQUEST__INIT;
    rq.clinic_id = (char *) clinic;
    rq.from = (char *) from;
    rq.to = (char *) to;
    assert_int_equal (fx_call (fx, fx->inv, "inventory.Valuation", &rq.base, NULL, r), MESO_OK);
    size_t len;
    const uint8_t *body = meso_result_body (r, &len);
    Meso__V1__ValuationReply *v = meso__v1__valuation_reply__unpack (NULL, len, body);
    assert_non_null (v);
    return v;
}

static void
s_value (const Meso__V1__StockValue *v, int64_t cents, int64_t costed, int64_t uncosted)
{
    assert_non_null (v);
    assert_int_equal (v->value_cents, cents);
    assert_int_equal (v->costed_milli, costed);
    assert_int_equal (v->uncosted_milli, uncosted);
}

static void
test_valuation (void **state)
{
    (void) state;
    fx_t *fx = fx_setup ("valuation", 1);
    fx_clinic (fx, "val", "UTC", NULL, 0, NULL, 0, false);
    fx_clinic (fx, "val2", "UTC", NULL, 0, NULL, 0, false);
    meso_result_t r = { 0 };
    /* caffeine: CAF-A 10 g at 3 cents/mg, then 1 g more without a cost
     * (it keeps 3); CAF-B 5 g without a cost; CAF-C 1 g at 5 cents/mg.
     * l_carnitine: LC-A 2000.5 mg at 7 cents/mg. */
    s_receive (fx, "val", "caffeine", "CAF-A", 100, 10000000, 3, MESO_OK);
    s_receive (fx, "val", "caffeine", "CAF-A", 100, 1000000, -1, MESO_OK);
    s_receive (fx, "val", "caffeine", "CAF-A", 100, 1000000, 4, MESO_FAILED_PRECONDITION);
    s_receive (fx, "val", "caffeine", "CAF-B", 200, 5000000, -1, MESO_OK);
    s_receive (fx, "val", "caffeine", "CAF-C", 300, 1000000, 5, MESO_OK);
    s_receive (fx, "val", "l_carnitine", "LC-A", 100, 2000500, 7, MESO_OK);
    s_receive (fx, "val", "l_carnitine", "LC-B", 100, 1000, -5, MESO_INVALID_ARGUMENT);
    s_receive (fx, "val", "l_carnitine", "LC-B", 100, 1000, 100000001, MESO_INVALID_ARGUMENT);

    /* Two sessions reserve the recipe (thighs: caffeine 100 mg, l_carnitine
     * 50 mg) from the first-expiring lots, CAF-A and LC-A; one is consumed. */
    char tomorrow[11];
    fx_day (1, tomorrow);
    const char *appts[] = { "ap1", "ap2" };
    for (int i = 0; i < 2; i++) {
        Meso__V1__ReserveRequest rs = MESO__V1__RESERVE_REQUEST__INIT;
        rs.appointment_id = (char *) appts[i];
        rs.patient_id = "px";
        rs.clinic_id = "val";
        rs.session_date = tomorrow;
        char *areas[] = { "thighs" };
        rs.areas = areas;
        rs.n_areas = 1;
        rs.recipe_id = "lipo";
        assert_int_equal (fx_call (fx, fx->inv, "inventory.Reserve", &rs.base, NULL, &r), MESO_OK);
    }
    Meso__V1__ConsumeRequest cs = MESO__V1__CONSUME_REQUEST__INIT;
    cs.clinic_id = "val";
    cs.appointment_id = "ap1";
    assert_int_equal (fx_call (fx, fx->inv, "inventory.Consume", &cs.base, NULL, &r), MESO_OK);
    /* CAF-B (uncosted) and CAF-C expire and are thrown away. */
    assert_int_equal (fx_sql (fx, "WITH u AS (UPDATE inventory.lot SET expiry_date = current_date - 1"
                                  " WHERE lot_number IN ('CAF-B', 'CAF-C') RETURNING 1) SELECT count(*) FROM u",
                              NULL), 2);
    char today[11];
    fx_day (0, today);
    Meso__V1__DiscardExpiredRequest dq = MESO__V1__DISCARD_EXPIRED_REQUEST__INIT;
    dq.clinic_id = "val";
    dq.as_of = today;
    assert_int_equal (fx_call (fx, fx->inv, "inventory.DiscardExpired", &dq.base, NULL, &r), MESO_OK);
    /* Half a mg of l_carnitine spilt: -3.5 cents, -4 half to even. */
    char lc[40];
    {
        PGresult *res = meso_db_query (fx->db, "SELECT lot_id FROM inventory.lot WHERE lot_number = 'LC-A'", 0, NULL);
        assert_non_null (res);
        snprintf (lc, sizeof lc, "%s", PQgetvalue (res, 0, 0));
        PQclear (res);
    }
    Meso__V1__AdjustRequest aj = MESO__V1__ADJUST_REQUEST__INIT;
    aj.clinic_id = "val";
    aj.lot_id = lc;
    aj.delta_milli = -500;
    aj.reason = "spilt";
    assert_int_equal (fx_call (fx, fx->inv, "inventory.Adjust", &aj.base, NULL, &r), MESO_OK);

    Meso__V1__ValuationReply *v = s_valuation (fx, "val", today, today, &r);
    assert_string_equal (v->time_zone, "UTC");
    assert_int_equal (v->n_lines, 2);
    Meso__V1__ValuationLine *caf = v->lines[0], *lcl = v->lines[1];
    assert_string_equal (caf->ingredient_code, "caffeine");
    assert_string_equal (meso_enum_str (&meso__v1__unit__descriptor, (int) caf->unit), "mg");
    /* caffeine, on hand: CAF-A 11 g - 100 mg = 10900 mg x 3 = 32700;
     * reserved: ap2's 100 mg x 3 = 300; received: CAF-A 11 g x 3 + CAF-C
     * 1 g x 5 = 38000 and CAF-B's 5 g uncosted; consumed ap1's 100 mg =
     * 300; discarded CAF-C 5000 and CAF-B 5 g uncosted; one lot uncosted. */
    s_value (caf->on_hand, 32700, 10900000, 0);
    s_value (caf->reserved, 300, 100000, 0);
    s_value (caf->received, 38000, 12000000, 5000000);
    s_value (caf->consumed, 300, 100000, 0);
    s_value (caf->discarded, 5000, 1000000, 5000000);
    s_value (caf->adjusted, 0, 0, 0);
    assert_int_equal (caf->uncosted_lots, 1);
    /* l_carnitine: received 2000.5 mg x 7 = 14003.5 -> 14004 (half to
     * even); consumed 50 mg = 350; reserved 350; adjusted -0.5 mg =
     * -3.5 -> -4; on hand 1950 mg = 13650. */
    assert_string_equal (lcl->ingredient_code, "l_carnitine");
    s_value (lcl->received, 14004, 2000500, 0);
    s_value (lcl->consumed, 350, 50000, 0);
    s_value (lcl->reserved, 350, 50000, 0);
    s_value (lcl->adjusted, -4, -500, 0);
    s_value (lcl->on_hand, 13650, 1950000, 0);
    assert_int_equal (lcl->uncosted_lots, 0);
    assert_int_equal (v->on_hand_cents, 46350);
    assert_int_equal (v->reserved_cents, 650);
    assert_int_equal (v->received_cents, 52004);
    assert_int_equal (v->consumed_cents, 650);
    assert_int_equal (v->discarded_cents, 5000);
    assert_int_equal (v->adjusted_cents, -4);
    assert_int_equal (v->uncosted_lots, 1);
    meso__v1__valuation_reply__free_unpacked (v, NULL);

    /* A period that ended yesterday: nothing had arrived yet; reserved
     * is today's (reservations keep no history). */
    char ago[11], yesterday[11];
    fx_day (-30, ago);
    fx_day (-1, yesterday);
    v = s_valuation (fx, "val", ago, yesterday, &r);
    assert_int_equal (v->on_hand_cents, 0);
    assert_int_equal (v->received_cents, 0);
    assert_int_equal (v->consumed_cents, 0);
    assert_int_equal (v->reserved_cents, 650);
    meso__v1__valuation_reply__free_unpacked (v, NULL);

    /* A transfer carries the cost: 1 g of CAF-A to val2 is worth 3000
     * there, and 3000 less here. */
    char caf_a[40];
    {
        PGresult *res = meso_db_query (fx->db, "SELECT lot_id FROM inventory.lot WHERE lot_number = 'CAF-A'"
                                       " AND clinic_id = 'val'", 0, NULL);
        assert_non_null (res);
        snprintf (caf_a, sizeof caf_a, "%s", PQgetvalue (res, 0, 0));
        PQclear (res);
    }
    Meso__V1__TransferRequest tr = MESO__V1__TRANSFER_REQUEST__INIT;
    tr.from_clinic_id = "val";
    tr.to_clinic_id = "val2";
    tr.lot_id = caf_a;
    tr.quantity_milli = 1000000;
    assert_int_equal (fx_call (fx, fx->inv, "inventory.Transfer", &tr.base, NULL, &r), MESO_OK);
    v = s_valuation (fx, "val2", today, today, &r);
    assert_int_equal (v->n_lines, 1);
    s_value (v->lines[0]->on_hand, 3000, 1000000, 0);
    s_value (v->lines[0]->received, 3000, 1000000, 0);
    meso__v1__valuation_reply__free_unpacked (v, NULL);
    v = s_valuation (fx, "val", today, today, &r);
    s_value (v->lines[0]->on_hand, 29700, 9900000, 0);
    meso__v1__valuation_reply__free_unpacked (v, NULL);

    /* Refusals, each naming its field. */
    char tomorrow2[11];
    fx_day (1, tomorrow2);
    struct { const char *clinic, *from, *to, *field, *code; int status; } bad[] = {
        { "val", "", today, "from", "missing_field", MESO_INVALID_ARGUMENT },
        { "val", today, "2026-13-01", "to", "invalid_date", MESO_INVALID_ARGUMENT },
        { "val", today, yesterday, "to", "reversed_range", MESO_INVALID_ARGUMENT },
        { "val", "2020-01-01", today, "to", "range_too_long", MESO_INVALID_ARGUMENT },
        { "val", today, tomorrow2, "to", "in_the_future", MESO_INVALID_ARGUMENT },
        { "nowhere", today, today, "clinic_id", "unknown_clinic", MESO_NOT_FOUND },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        Meso__V1__ValuationRequest rq = MESO__V1__VALUATION_REQUEST__INIT;
        rq.clinic_id = (char *) bad[i].clinic;
        rq.from = (char *) bad[i].from;
        rq.to = (char *) bad[i].to;
        assert_int_equal (fx_call (fx, fx->inv, "inventory.Valuation", &rq.base, NULL, &r), bad[i].status);
        assert_true (fx_has_reason (&r, bad[i].code));
        bool named = false;
        for (size_t k = 0; k < r.reply->n_reasons; k++)
            named |= strcmp (r.reply->reasons[k]->field, bad[i].field) == 0;
        assert_true (named);
    }
    meso_result_reset (&r);
    fx_teardown (fx);
}

int
main (void)
{
    (void) fx_patient;                  /* the fixture's, not needed here */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_valuation),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
