/* test_bad_input.c -- strings a caller may not send, against real
 * meso-screening and meso-inventory daemons and PostgreSQL, over raw
 * DEALER sockets (so that the test writes exactly the bytes it means):
 *   - a NUL byte or invalid UTF-8 in any string of a body, at any depth
 *     (patient.given_name, lines[2].ingredient_code, reason...), or in
 *     actor.id, and an actor.id over the bound, are refused with
 *     INVALID_ARGUMENT naming the field's path, and change nothing: the
 *     fingerprint of every table of every schema is the same before and
 *     after;
 *   - an actor padded with unknown fields (512 KiB) is accepted, and the
 *     event the request causes carries the actor's known fields only;
 *   - inventory.DiscardExpired with an as_of after the clinic's today
 *     (9999-12-31, tomorrow) is refused and throws nothing away. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "meso/bus.h"
#include "meso/db.h"
#include "meso/mtime.h"
#include "events.pb-c.h"
#include "inventory.pb-c.h"
#include "screening.pb-c.h"

#define ALL_SCHEMAS "screening,inventory,scheduling,billing,events,public"
#define PAD (512 * 1024)

static char s_admin[512];
static char s_screening[256];
static char s_inventory[256];
static pid_t s_pids[2];
static meso_db_t *s_db;
static int s_seq;

/* Writes v as a varint at p; returns its length. */
static size_t
s_varint (uint8_t *p, size_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (uint8_t) (0x80 | (v & 0x7F));
        v >>= 7;
    }
    p[n++] = (uint8_t) v;
    return n;
}

/* Packs body, replaces every '#' in it by with, and sends it as method
 * with actor (id, kind 1, pad bytes of unknown field 15 when pad > 0) to
 * endpoint; returns the reply (NULL when none came in 10 s). */
static Meso__V1__Reply *
s_raw_call (const char *endpoint, const char *method, const ProtobufCMessage *body, uint8_t with,
            const char *actor_id, uint8_t actor_with, size_t pad)
{
    size_t blen = protobuf_c_message_get_packed_size (body);
    uint8_t *bbuf = malloc (blen ? blen : 1);
    assert_non_null (bbuf);
    protobuf_c_message_pack (body, bbuf);
    for (size_t i = 0; i < blen; i++)
        if (bbuf[i] == '#')
            bbuf[i] = with;
    /* The actor, by hand: kind, id (its '#' replaced), unknown padding. */
    size_t idlen = strlen (actor_id);
    size_t alen = 2 + 3 + idlen + (pad ? 1 + 3 + pad : 0);
    uint8_t *abuf = malloc (alen);
    assert_non_null (abuf);
    size_t n = 0;
    abuf[n++] = 0x08; abuf[n++] = 0x01;
    abuf[n++] = 0x12;
    n += s_varint (abuf + n, idlen);
    for (size_t i = 0; i < idlen; i++)
        abuf[n++] = actor_id[i] == '#' ? actor_with : (uint8_t) actor_id[i];
    if (pad) {
        abuf[n++] = 0x7A;
        n += s_varint (abuf + n, pad);
        memset (abuf + n, 'P', pad);
        n += pad;
    }
    size_t alen_used = n;
    char rid[32], key[32];
    snprintf (rid, sizeof rid, "bad-%d", ++s_seq);
    snprintf (key, sizeof key, "bad-key-%d", s_seq);
    Meso__V1__Request req = MESO__V1__REQUEST__INIT;
    req.request_id = rid;
    req.method = (char *) method;
    req.idempotency_key = key;
    req.body.data = bbuf;
    req.body.len = blen;
    size_t rlen = meso__v1__request__get_packed_size (&req);
    /* Field 5 (actor) appended by hand: protobuf concatenates. */
    size_t total = rlen + 1 + 3 + alen;
    uint8_t *frame = malloc (total);
    assert_non_null (frame);
    meso__v1__request__pack (&req, frame);
    n = rlen;
    frame[n++] = 0x2A;
    n += s_varint (frame + n, alen_used);
    memcpy (frame + n, abuf, alen_used);
    n += alen_used;

    zsock_t *dealer = mt_dealer (endpoint);
    assert_non_null (dealer);
    assert_int_equal (zsock_connect (dealer, "%s", endpoint), 0);
    zsock_set_rcvtimeo (dealer, 10000);
    zmsg_t *msg = zmsg_new ();
    zmsg_addmem (msg, "", 0);
    zmsg_addmem (msg, frame, n);
    assert_int_equal (zmsg_send (&msg, dealer), 0);
    zmsg_t *in = zmsg_recv (dealer);
    Meso__V1__Reply *reply = NULL;
    if (in && zmsg_size (in) == 2) {
        zframe_t *f = zmsg_last (in);
        reply = meso__v1__reply__unpack (NULL, zframe_size (f), zframe_data (f));
    }
    zmsg_destroy (&in);
    zsock_destroy (&dealer);
    free (frame);
    free (abuf);
    free (bbuf);
    return reply;
}

/* Sends it, expects INVALID_ARGUMENT with a reason on field, and no change
 * to any table. */
static void
s_refused (const char *endpoint, const char *method, const ProtobufCMessage *body, uint8_t with,
           const char *actor_id, uint8_t actor_with, const char *field)
{
    char before[40], after[40];
    assert_int_equal (mt_fingerprint (s_db, ALL_SCHEMAS, before, sizeof before), 0);
    Meso__V1__Reply *reply = s_raw_call (endpoint, method, body, with, actor_id, actor_with, 0);
    assert_non_null (reply);
    print_message ("%s (%s): %d %s | %s\n", method, field, reply->status, reply->message,
                   reply->detail);
    assert_int_equal (reply->status, MESO__V1__STATUS__STATUS_INVALID_ARGUMENT);
    assert_non_null (strstr (reply->message, field));
    bool named = false;
    for (size_t i = 0; i < reply->n_reasons; i++)
        named |= strcmp (reply->reasons[i]->field, field) == 0;
    assert_true (named);
    meso__v1__reply__free_unpacked (reply, NULL);
    /* Nothing changed, anywhere. */
    assert_int_equal (mt_fingerprint (s_db, ALL_SCHEMAS, after, sizeof after), 0);
    assert_string_equal (before, after);
}

static pid_t
s_spawn (const char *exe, const char *role, const char *endpoint)
{
    char conninfo[512], dbarg[600], bind[300], path[64];
    mt_role_conninfo ("bad_input", role, conninfo, sizeof conninfo);
    snprintf (dbarg, sizeof dbarg, "--db=%s", conninfo);
    snprintf (bind, sizeof bind, "--bind=%s", endpoint);
    snprintf (path, sizeof path, "bin/%s", exe);
    const char *argv[] = { exe, dbarg, bind, "--log-level=warn", "--scheduling=", NULL };
    pid_t pid = mt_spawn (path, argv, NULL);
    assert_true (pid > 0);
    assert_int_equal (mt_wait_healthy (endpoint, 10000), 0);
    return pid;
}

static int
s_setup (void **state)
{
    (void) state;
    if (mt_db_create ("bad_input", s_admin, sizeof s_admin) != 0)
        return -1;
    mt_ipc_endpoint ("scr", s_screening, sizeof s_screening);
    mt_ipc_endpoint ("inv", s_inventory, sizeof s_inventory);
    s_pids[0] = s_spawn ("meso-screening", "meso_screening", s_screening);
    s_pids[1] = s_spawn ("meso-inventory", "meso_inventory", s_inventory);
    s_db = meso_db_new (s_admin);
    if (!meso_db_ok (s_db))
        return -1;
    /* Something to redate and release: an ingredient, a recipe, a lot, a
     * reservation. */
    meso_bus_client_t *c = mt_client (s_inventory);
    meso_result_t r = { 0 };
    Meso__V1__Ingredient ing = MESO__V1__INGREDIENT__INIT;
    ing.code = "caffeine"; ing.name = "Caffeine"; ing.unit = MESO__V1__UNIT__UNIT_MG;
    Meso__V1__UpsertIngredientRequest iq = MESO__V1__UPSERT_INGREDIENT_REQUEST__INIT;
    iq.ingredient = &ing;
    int rc = mt_call (c, "inventory.UpsertIngredient", &iq.base, NULL, &s_seq, &r);
    meso_result_reset (&r);
    Meso__V1__RecipeLine l1 = MESO__V1__RECIPE_LINE__INIT;
    l1.area = "thighs"; l1.ingredient_code = "caffeine"; l1.amount_milli = 100000;
    Meso__V1__RecipeLine *lines[] = { &l1 };
    Meso__V1__UpsertRecipeRequest uq = MESO__V1__UPSERT_RECIPE_REQUEST__INIT;
    uq.recipe_id = "c1"; uq.n_lines = 1; uq.lines = lines;
    rc |= mt_call (c, "inventory.UpsertRecipe", &uq.base, NULL, &s_seq, &r);
    meso_result_reset (&r);
    char expiry[16], session[16];
    int32_t today = (int32_t) (meso_time_now_us () / INT64_C (86400000000));
    meso_date_format (today + 60, expiry, sizeof expiry);
    meso_date_format (today + 10, session, sizeof session);
    Meso__V1__ReceiveRequest rq = MESO__V1__RECEIVE_REQUEST__INIT;
    rq.clinic_id = "clinic-a"; rq.ingredient_code = "caffeine"; rq.lot_number = "L1";
    rq.expiry_date = expiry; rq.quantity_milli = 1000000;
    rc |= mt_call (c, "inventory.Receive", &rq.base, NULL, &s_seq, &r);
    meso_result_reset (&r);
    char *areas[] = { "thighs" };
    Meso__V1__ReserveRequest vq = MESO__V1__RESERVE_REQUEST__INIT;
    vq.appointment_id = "appt-1"; vq.patient_id = "p"; vq.clinic_id = "clinic-a";
    vq.session_date = session; vq.n_areas = 1; vq.areas = areas; vq.recipe_id = "c1";
    rc |= mt_call (c, "inventory.Reserve", &vq.base, NULL, &s_seq, &r);
    meso_result_reset (&r);
    vq.appointment_id = "appt-2";
    rc |= mt_call (c, "inventory.Reserve", &vq.base, NULL, &s_seq, &r);
    meso_result_reset (&r);
    meso_bus_client_destroy (&c);
    return rc == MESO_OK ? 0 : -1;
}

static int
s_teardown (void **state)
{
    (void) state;
    meso_db_destroy (&s_db);
    for (int i = 0; i < 2; i++)
        mt_stop (s_pids[i], SIGTERM);
    return 0;
}

static void
test_bad_body_strings_change_nothing (void **state)
{
    (void) state;
    Meso__V1__Patient p = MESO__V1__PATIENT__INIT;
    p.given_name = "Ann#Evil";
    p.family_name = "Smith";
    p.birth_date = "1990-01-01";
    p.home_clinic_id = "fva";
    Meso__V1__RegisterPatientRequest reg = MESO__V1__REGISTER_PATIENT_REQUEST__INIT;
    reg.patient = &p;
    s_refused (s_screening, "screening.RegisterPatient", &reg.base, 0, "alice", 'x',
               "patient.given_name");
    s_refused (s_screening, "screening.RegisterPatient", &reg.base, 0xFF, "alice", 'x',
               "patient.given_name");
    p.given_name = "Ann";
    p.home_clinic_id = "fva#zzz";
    s_refused (s_screening, "screening.RegisterPatient", &reg.base, 0, "alice", 'x',
               "patient.home_clinic_id");

    Meso__V1__RecipeLine l[3];
    Meso__V1__RecipeLine *lp[3];
    for (int i = 0; i < 3; i++) {
        meso__v1__recipe_line__init (&l[i]);
        l[i].area = "thighs";
        l[i].ingredient_code = i == 2 ? "caf\xc3#" : "caffeine";
        l[i].amount_milli = 1000;
        lp[i] = &l[i];
    }
    Meso__V1__UpsertRecipeRequest uq = MESO__V1__UPSERT_RECIPE_REQUEST__INIT;
    uq.recipe_id = "c1"; uq.n_lines = 3; uq.lines = lp;
    s_refused (s_inventory, "inventory.UpsertRecipe", &uq.base, 'x', "alice", 'x',
               "lines[2].ingredient_code");

    Meso__V1__RedateRequest rd = MESO__V1__REDATE_REQUEST__INIT;
    rd.clinic_id = "clinic-a"; rd.appointment_id = "appt-1";
    rd.session_date = "2099-01-01"; rd.reason = "moved \xe2#";
    s_refused (s_inventory, "inventory.Redate", &rd.base, 'x', "alice", 'x', "reason");
    Meso__V1__ReleaseRequest rl = MESO__V1__RELEASE_REQUEST__INIT;
    rl.clinic_id = "clinic-a"; rl.appointment_id = "appt-1"; rl.reason = "cancelled#evil";
    s_refused (s_inventory, "inventory.Release", &rl.base, 0, "alice", 'x', "reason");
}

static void
test_bad_actor_changes_nothing (void **state)
{
    (void) state;
    Meso__V1__ReleaseRequest rl = MESO__V1__RELEASE_REQUEST__INIT;
    rl.clinic_id = "clinic-a"; rl.appointment_id = "appt-1"; rl.reason = "cancelled";
    s_refused (s_inventory, "inventory.Release", &rl.base, 'x', "alice#mallory", 0, "actor.id");
    s_refused (s_inventory, "inventory.Release", &rl.base, 'x', "alice#", 0xFF, "actor.id");
    char longid[MESO_ACTOR_ID_MAX + 2];
    memset (longid, 'a', sizeof longid - 1);
    longid[sizeof longid - 1] = '\0';
    s_refused (s_inventory, "inventory.Release", &rl.base, 'x', longid, 'x', "actor.id");
}

/* The padding is dropped at decode: the event holds kind and id only. */
static void
test_padded_actor_stays_out_of_events (void **state)
{
    (void) state;
    Meso__V1__ReleaseRequest rl = MESO__V1__RELEASE_REQUEST__INIT;
    rl.clinic_id = "clinic-a"; rl.appointment_id = "appt-2"; rl.reason = "cancelled";
    Meso__V1__Reply *reply = s_raw_call (s_inventory, "inventory.Release", &rl.base, 'x',
                                         "alice", 'x', PAD);
    assert_non_null (reply);
    assert_int_equal (reply->status, MESO__V1__STATUS__STATUS_OK);
    meso__v1__reply__free_unpacked (reply, NULL);
    const char *params[] = { "stock.released" };
    PGresult *res = meso_db_query_binres (s_db, "SELECT payload FROM events.outbox WHERE type = $1",
                                          1, params);
    assert_non_null (res);
    int found = 0;
    for (int i = 0; i < PQntuples (res); i++) {
        size_t len = (size_t) PQgetlength (res, i, 0);
        Meso__V1__Event *ev = meso__v1__event__unpack (NULL, len,
                                                       (const uint8_t *) PQgetvalue (res, i, 0));
        assert_non_null (ev);
        if (strcmp (ev->stock_released->appointment_id, "appt-2") == 0) {
            found++;
            print_message ("stock.released event of appt-2: %zu bytes\n", len);
            assert_true (len < 4096);
            assert_non_null (ev->actor);
            /* The event names the authenticated caller (the tester, not a
             * service, so the "alice" it wrote is not honoured). */
            assert_string_equal (ev->actor->id, "tester");
            assert_string_equal (ev->actor->on_behalf_of, "");
            assert_int_equal (ev->actor->base.n_unknown_fields, 0);
        }
        meso__v1__event__free_unpacked (ev, NULL);
    }
    assert_int_equal (found, 1);
    PQclear (res);
}

/* A future as_of would discard good stock (lot L1 expires in 60 days):
 * refused, nothing discarded. This inventory runs without scheduling, so
 * the clinic's day is UTC's. */
static void
test_future_discard_changes_nothing (void **state)
{
    (void) state;
    char tomorrow[16];
    int32_t today = (int32_t) (meso_time_now_us () / INT64_C (86400000000));
    meso_date_format (today + 1, tomorrow, sizeof tomorrow);
    const char *dates[] = { "9999-12-31", tomorrow };
    for (int i = 0; i < 2; i++) {
        Meso__V1__DiscardExpiredRequest rq = MESO__V1__DISCARD_EXPIRED_REQUEST__INIT;
        rq.clinic_id = "clinic-a";
        rq.as_of = (char *) dates[i];
        s_refused (s_inventory, "inventory.DiscardExpired", &rq.base, '#', "alice", 'x', "as_of");
    }
    int64_t on_hand = 0;
    assert_int_equal (mt_sql_int (s_db, "SELECT on_hand_milli FROM inventory.lot WHERE lot_number = $1",
                                  "L1", &on_hand), 0);
    assert_int_equal (on_hand, 1000000);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_bad_body_strings_change_nothing),
        cmocka_unit_test (test_bad_actor_changes_nothing),
        cmocka_unit_test (test_padded_actor_stays_out_of_events),
        cmocka_unit_test (test_future_discard_changes_nothing),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
