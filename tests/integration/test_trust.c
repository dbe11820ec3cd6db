/* test_trust.c -- who gets in and who is recorded, against the real daemons
 * over CURVE: a connection without a key or with an unknown one gets
 * nothing (and the client library says why within its deadline), a revoked
 * key stops working within 5 s without a restart (its open connection too),
 * a person's forged actor is ignored, and a service acting for a person is
 * recorded as such in the events and the logs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "meso/access.h"
#include "meso/curve.h"
#include "meso/mtime.h"
#include "events.pb-c.h"
#include "scheduling_fixture.h"

static const char *const s_practs[] = { "dr-a" };
static const char *const s_rooms[] = { "room-1" };

/* Health through client c: the status, the message in r. */
static int
s_health (meso_bus_client_t *c, int deadline_ms, meso_result_t *r)
{
    meso_result_reset (r);
    meso_bus_client_call (c, "Health", NULL, NULL, deadline_ms, r);
    return r->status;
}

/* Waits until endpoint's daemon admits cert (it reloads its principals on
 * NOTIFY, within moments of the insert). */
static void
s_wait_admitted (const char *endpoint, zcert_t *cert)
{
    meso_bus_client_t *c = mt_client_as (endpoint, cert);
    meso_result_t r = { 0 };
    int64_t t0 = meso_time_mono_ms ();
    while (s_health (c, 1000, &r) != MESO_OK && meso_time_mono_ms () - t0 < 5000)
        mt_sleep_ms (50);
    assert_int_equal (r.status, MESO_OK);
    meso_result_reset (&r);
    meso_bus_client_destroy (&c);
}

static void
test_no_key_gets_nothing (void **state)
{
    fx_t *fx = *state;
    /* A plain DEALER: no CURVE at all. The handshake cannot complete, so
     * nothing is sent and nothing comes back. */
    zsock_t *plain = zsock_new (ZMQ_DEALER);
    zsock_set_linger (plain, 0);
    zsock_set_sndtimeo (plain, 0);
    zsock_set_rcvtimeo (plain, 2000);
    assert_int_equal (zsock_connect (plain, "%s", fx->screening_ep), 0);
    Meso__V1__Request req = MESO__V1__REQUEST__INIT;
    req.request_id = "no-key-1";
    req.method = "Health";
    uint8_t buf[128];
    size_t len = meso__v1__request__pack (&req, buf);
    zmq_send (zsock_resolve (plain), "", 0, ZMQ_SNDMORE | ZMQ_DONTWAIT);
    zmq_send (zsock_resolve (plain), buf, len, ZMQ_DONTWAIT);
    zmsg_t *reply = zmsg_recv (plain);
    assert_null (reply);
    zsock_destroy (&plain);
}

static void
test_unknown_key_is_told_not_authorised (void **state)
{
    fx_t *fx = *state;
    zcert_t *stranger = zcert_new ();
    meso_bus_client_t *c = mt_client_as (fx->screening_ep, stranger);
    assert_non_null (c);
    meso_result_t r = { 0 };
    int64_t t0 = meso_time_mono_ms ();
    assert_int_equal (s_health (c, 5000, &r), MESO_UNAUTHENTICATED);
    int64_t took = meso_time_mono_ms () - t0;
    print_message ("unknown key: \"%s\" after %lld ms\n", r.message, (long long) took);
    assert_non_null (strstr (r.message, "not authorised by"));
    assert_non_null (strstr (r.message, fx->screening_ep));
    assert_true (took < 5000);
    meso_result_reset (&r);
    meso_bus_client_destroy (&c);
    zcert_destroy (&stranger);
}

static void
test_revoked_key_stops_within_5s (void **state)
{
    fx_t *fx = *state;
    zcert_t *desk = mt_principal_add (fx->admin, "desk-revoked", "person", "{front_desk}", NULL,
                                      NULL, false);
    assert_non_null (desk);
    meso_bus_client_t *c = mt_client_as (fx->screening_ep, desk);
    meso_result_t r = { 0 };
    /* Known: the daemon reloads on NOTIFY, so this works within moments. */
    int64_t t0 = meso_time_mono_ms ();
    while (s_health (c, 1000, &r) != MESO_OK && meso_time_mono_ms () - t0 < 5000)
        mt_sleep_ms (50);
    assert_int_equal (r.status, MESO_OK);

    /* Revoked while the connection is open: its next request is refused. */
    assert_int_equal (mt_principal_revoke (fx->admin, "desk-revoked"), 0);
    t0 = meso_time_mono_ms ();
    while (s_health (c, 1000, &r) == MESO_OK && meso_time_mono_ms () - t0 < 10000)
        mt_sleep_ms (20);
    int64_t took = meso_time_mono_ms () - t0;
    print_message ("revoked: refused after %lld ms: %s\n", (long long) took, r.message);
    assert_int_equal (r.status, MESO_UNAUTHENTICATED);
    assert_non_null (strstr (r.message, "revoked"));
    assert_true (took < 5000);
    meso_bus_client_destroy (&c);

    /* A new connection with that key never completes its handshake. */
    c = mt_client_as (fx->screening_ep, desk);
    assert_int_equal (s_health (c, 5000, &r), MESO_UNAUTHENTICATED);
    assert_non_null (strstr (r.message, "not authorised by"));
    meso_result_reset (&r);
    meso_bus_client_destroy (&c);
    zcert_destroy (&desk);
}

/* The actor of the newest event of type in the outbox or the log. */
static void
s_event_actor (fx_t *fx, const char *type, char *id, char *behalf)
{
    const char *params[] = { type };
    PGresult *res = meso_db_query_binres (
        fx->db,
        "SELECT payload FROM (SELECT payload, occurred_at FROM events.outbox WHERE type = $1"
        " UNION ALL SELECT payload, occurred_at FROM events.log WHERE type = $1) e"
        " ORDER BY occurred_at DESC LIMIT 1",
        1, params);
    assert_non_null (res);
    assert_int_equal (PQntuples (res), 1);
    Meso__V1__Event *ev = meso__v1__event__unpack (NULL, (size_t) PQgetlength (res, 0, 0),
                                                   (const uint8_t *) PQgetvalue (res, 0, 0));
    assert_non_null (ev);
    assert_non_null (ev->actor);
    snprintf (id, 128, "%s", ev->actor->id);
    snprintf (behalf, 128, "%s", ev->actor->on_behalf_of);
    meso__v1__event__free_unpacked (ev, NULL);
    PQclear (res);
}

static void
test_forged_actor_is_ignored (void **state)
{
    fx_t *fx = *state;
    zcert_t *keeper = mt_principal_add (fx->admin, "keeper-paris", "person", "{stock_keeper}",
                                        "{paris}", NULL, false);
    assert_non_null (keeper);
    s_wait_admitted (fx->inventory_ep, keeper);
    /* A raw request as the stock keeper, claiming to be the billing
     * service. */
    zsock_t *d = zsock_new (ZMQ_DEALER);
    char err[256];
    assert_int_equal (meso_curve_client (d, "inventory", keeper, err, sizeof err), 0);
    zsock_set_rcvtimeo (d, 10000);
    assert_int_equal (zsock_connect (d, "%s", fx->inventory_ep), 0);
    Meso__V1__ReceiveRequest rq = MESO__V1__RECEIVE_REQUEST__INIT;
    rq.clinic_id = "paris";
    rq.ingredient_code = "caffeine";
    rq.lot_number = "FORGE-1";
    rq.quantity_milli = 1000000;
    char expiry[16];
    fx_day (200, expiry);
    rq.expiry_date = expiry;
    uint8_t body[256];
    Meso__V1__Actor forged = MESO__V1__ACTOR__INIT;
    forged.kind = MESO__V1__ACTOR__KIND__KIND_SERVICE;
    forged.id = "billing";
    Meso__V1__Request req = MESO__V1__REQUEST__INIT;
    req.request_id = "forge-1";
    req.method = "inventory.Receive";
    req.idempotency_key = "forge-key-1";
    req.actor = &forged;
    req.body.data = body;
    req.body.len = meso__v1__receive_request__pack (&rq, body);
    uint8_t frame[512];
    size_t flen = meso__v1__request__pack (&req, frame);
    assert_int_equal (zmq_send (zsock_resolve (d), "", 0, ZMQ_SNDMORE), 0);
    assert_int_equal (zmq_send (zsock_resolve (d), frame, flen, 0), (int) flen);
    zmsg_t *msg = zmsg_recv (d);
    assert_non_null (msg);
    zframe_t *last = zmsg_last (msg);
    Meso__V1__Reply *rep = meso__v1__reply__unpack (NULL, zframe_size (last), zframe_data (last));
    assert_non_null (rep);
    if (rep->status != MESO__V1__STATUS__STATUS_OK)
        print_message ("Receive: %s\n", rep->message);
    assert_int_equal (rep->status, MESO__V1__STATUS__STATUS_OK);
    meso__v1__reply__free_unpacked (rep, NULL);
    zmsg_destroy (&msg);
    zsock_destroy (&d);

    char id[128], behalf[128];
    s_event_actor (fx, "stock.received", id, behalf);
    assert_string_equal (id, "keeper-paris");
    assert_string_equal (behalf, "");
    /* The request's log line names the real principal too. */
    assert_int_equal (mt_sh ("grep -h '\"request_id\":\"forge-1\"' %s/test-logs/meso-inventory-%d.log"
                             " | grep -q '\"principal\":\"keeper-paris\"'",
                             mt_build_dir (), (int) fx->inventory_pid), 0);
    zcert_destroy (&keeper);
}

static void
test_service_acts_on_behalf_of_the_person (void **state)
{
    fx_t *fx = *state;
    char patient[40], appt[40], day[11], start[20];
    fx_patient (fx, "paris", NULL, false, patient);
    zcert_t *desk = mt_principal_add (fx->admin, "desk-paris", "person", "{front_desk}",
                                      "{paris}", NULL, false);
    assert_non_null (desk);
    meso_bus_client_t *c = mt_client_as (fx->sched_ep[0], desk);
    meso_result_t r = { 0 };
    fx_day (10, day);
    snprintf (start, sizeof start, "%sT10:00", day);
    assert_int_equal (fx_book_session (fx, c, "paris", patient, "dr-a", "room-1", start, 45, appt,
                                       &r),
                      MESO_OK);
    /* Scheduling reserved the stock for the front desk: inventory records
     * the service that called and the person it acted for. */
    char id[128], behalf[128];
    s_event_actor (fx, "stock.reserved", id, behalf);
    assert_string_equal (id, "scheduling");
    assert_string_equal (behalf, "desk-paris");
    s_event_actor (fx, "session.booked", id, behalf);
    assert_string_equal (id, "desk-paris");
    assert_string_equal (behalf, "");
    assert_int_equal (mt_sh ("grep -h '\"method\":\"inventory.Reserve\"' %s/test-logs/meso-inventory-%d.log"
                             " | grep -q '\"principal\":\"scheduling\",\"on_behalf_of\":\"desk-paris\"'",
                             mt_build_dir (), (int) fx->inventory_pid), 0);
    meso_result_reset (&r);
    meso_bus_client_destroy (&c);
    zcert_destroy (&desk);
}

static int
s_setup (void **state)
{
    fx_t *fx = fx_setup ("trust", 1);
    fx_clinic (fx, "paris", "Europe/Paris", s_practs, 1, s_rooms, 1, true);
    *state = fx;
    return 0;
}

static int
s_teardown (void **state)
{
    fx_teardown (*state);
    return 0;
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_no_key_gets_nothing),
        cmocka_unit_test (test_unknown_key_is_told_not_authorised),
        cmocka_unit_test (test_revoked_key_stops_within_5s),
        cmocka_unit_test (test_forged_actor_is_ignored),
        cmocka_unit_test (test_service_acts_on_behalf_of_the_person),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
