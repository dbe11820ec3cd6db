/* test_inventory_concurrency.c -- 50 clients reserving from the same
 * scarce lots at once, through three meso-inventory instances on one
 * database, one of which is killed with SIGKILL in the middle:
 *   - no oversell: exactly as many reservations succeed as the usable stock
 *     allows, and every one is backed by stock (lines = recipe, lot reserved
 *     = sum of its held lines, reserved <= on hand);
 *   - a lot that expires before the session date is never picked;
 *   - reserving an appointment twice (another key, concurrently) holds once;
 *   - the requests in flight at the killed instance are neither lost nor
 *     doubled (clients retry with the same key on the other instances);
 *   - then consumption, release and new reservations race each other and
 *     the books still add up: received - consumed - discarded = on hand.
 * Client threads only record outcomes; the main thread asserts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "meso/bus.h"
#include "meso/db.h"
#include "meso/mtime.h"
#include "inventory.pb-c.h"

#define CLIENTS 50
#define PER_SESSION 100000          /* 100 mg caffeine per session */
#define USABLE (1250000 + 800000 + 450000)
#define FITS (USABLE / PER_SESSION) /* 25 */
#define NEW_RESERVES 20

static char s_endpoints[800];
static char s_session_date[16];

typedef struct {
    int index;
    const char *op;             /* "reserve", "consume", "release" */
    char appointment[32];
    char key[48];
    bool twice;                 /* also reserve again with another key */
    int status;
    int status2;
    bool existing2;
} s_job_t;

static void
s_date (int offset, char *out)
{
    int32_t today = (int32_t) (meso_time_now_us () / INT64_C (86400000000));
    meso_date_format (today + offset, out, 11);
}

static int
s_reserve_call (meso_bus_client_t *c, const char *appt, const char *key, bool *existing)
{
    char *areas[] = { "thighs" };
    Meso__V1__ReserveRequest rq = MESO__V1__RESERVE_REQUEST__INIT;
    rq.appointment_id = (char *) appt;
    rq.patient_id = "patient";
    rq.clinic_id = "clinic-a";
    rq.session_date = s_session_date;
    rq.n_areas = 1;
    rq.areas = areas;
    rq.recipe_id = "c1";
    meso_result_t r = { 0 };
    meso_bus_client_call (c, "inventory.Reserve", &rq.base, key, 30000, &r);
    if (r.status == MESO_OK && existing) {
        size_t len;
        const uint8_t *body = meso_result_body (&r, &len);
        Meso__V1__ReserveReply *out = meso__v1__reserve_reply__unpack (NULL, len, body);
        *existing = out && out->existing;
        if (out)
            meso__v1__reserve_reply__free_unpacked (out, NULL);
    }
    int st = r.status;
    meso_result_reset (&r);
    return st;
}

static void *
s_client (void *arg)
{
    s_job_t *job = arg;
    meso_bus_client_t *c = mt_client (s_endpoints);
    if (!c) {
        job->status = -1;
        return NULL;
    }
    meso_bus_client_set_attempt_timeout (c, 700);
    if (strcmp (job->op, "reserve") == 0) {
        job->status = s_reserve_call (c, job->appointment, job->key, NULL);
        if (job->twice) {
            char key2[64];
            snprintf (key2, sizeof key2, "%s-again", job->key);
            job->status2 = s_reserve_call (c, job->appointment, key2, &job->existing2);
        }
    }
    else if (strcmp (job->op, "consume") == 0) {
        /* Actual amounts differ from the recipe: 110 mg. */
        Meso__V1__IngredientAmount x = MESO__V1__INGREDIENT_AMOUNT__INIT;
        x.ingredient_code = "caffeine";
        x.amount_milli = 110000;
        Meso__V1__IngredientAmount *actual[] = { &x };
        Meso__V1__ConsumeRequest rq = MESO__V1__CONSUME_REQUEST__INIT;
        rq.clinic_id = "clinic-a";
        rq.appointment_id = job->appointment;
        rq.n_actual = 1;
        rq.actual = actual;
        meso_result_t r = { 0 };
        meso_bus_client_call (c, "inventory.Consume", &rq.base, job->key, 30000, &r);
        job->status = r.status;
        meso_result_reset (&r);
    }
    else {
        Meso__V1__ReleaseRequest rq = MESO__V1__RELEASE_REQUEST__INIT;
        rq.clinic_id = "clinic-a";
        rq.appointment_id = job->appointment;
        rq.reason = "cancelled";
        meso_result_t r = { 0 };
        meso_bus_client_call (c, "inventory.Release", &rq.base, job->key, 30000, &r);
        job->status = r.status;
        meso_result_reset (&r);
    }
    meso_bus_client_destroy (&c);
    return NULL;
}

static int64_t
s_sql (meso_db_t *db, const char *sql)
{
    PGresult *res = meso_db_query (db, sql, 0, NULL);
    if (!res)
        fail_msg ("SQL failed: %s: %s", sql, meso_db_error (db)->message);
    int64_t v = PQgetisnull (res, 0, 0) ? 0 : strtoll (PQgetvalue (res, 0, 0), NULL, 10);
    PQclear (res);
    return v;
}

static pid_t
s_spawn (const char *dbname, const char *router)
{
    char role[512], db[600], bind[300];
    mt_role_conninfo (dbname, "meso_inventory", role, sizeof role);
    snprintf (db, sizeof db, "--db=%s", role);
    snprintf (bind, sizeof bind, "--bind=%s", router);
    /* No scheduling here: clinic ids are checked for syntax only. */
    const char *argv[] = { "meso-inventory", db, bind, "--log-level=warn", "--scheduling=", NULL };
    pid_t pid = mt_spawn ("bin/meso-inventory", argv, NULL);
    assert_true (pid > 0);
    assert_int_equal (mt_wait_healthy (router, 10000), 0);
    return pid;
}

static void
s_setup_call (meso_bus_client_t *c, const char *method, const ProtobufCMessage *body, const char *key)
{
    meso_result_t r = { 0 };
    if (meso_bus_client_call (c, method, body, key, 5000, &r) != 0)
        fail_msg ("%s failed: %s", method, r.message);
    meso_result_reset (&r);
}

static void
s_receive (meso_bus_client_t *c, const char *lot, int expiry_offset, int64_t qty)
{
    char expiry[16], key[64];
    s_date (expiry_offset, expiry);
    snprintf (key, sizeof key, "recv-%s", lot);
    Meso__V1__ReceiveRequest rq = MESO__V1__RECEIVE_REQUEST__INIT;
    rq.clinic_id = "clinic-a";
    rq.ingredient_code = "caffeine";
    rq.lot_number = (char *) lot;
    rq.expiry_date = expiry;
    rq.quantity_milli = qty;
    s_setup_call (c, "inventory.Receive", &rq.base, key);
}

/* The invariants that must hold at any quiet moment. */
static void
s_check_books (meso_db_t *db)
{
    assert_int_equal (s_sql (db,
        "SELECT count (*) FROM inventory.lot WHERE on_hand_milli < 0 OR reserved_milli < 0 "
        "  OR reserved_milli > on_hand_milli"), 0);
    assert_int_equal (s_sql (db,
        "SELECT count (*) FROM inventory.lot l WHERE l.reserved_milli <> "
        "  coalesce ((SELECT sum (rl.amount_milli) FROM inventory.reservation_line rl "
        "    JOIN inventory.reservation r USING (clinic_id, appointment_id) "
        "    WHERE r.status = 'held' AND rl.clinic_id = l.clinic_id AND rl.lot_id = l.lot_id), 0)"), 0);
    /* Every held reservation is backed by exactly its recipe amount. */
    assert_int_equal (s_sql (db,
        "SELECT count (*) FROM inventory.reservation r WHERE r.status = 'held' AND "
        "  coalesce ((SELECT sum (amount_milli) FROM inventory.reservation_line rl "
        "    WHERE rl.clinic_id = r.clinic_id AND rl.appointment_id = r.appointment_id), 0) <> 100000"), 0);
    assert_int_equal (s_sql (db,
        "SELECT count (*) FROM inventory.lot l WHERE l.on_hand_milli <> "
        "  (SELECT sum (delta_milli) FROM inventory.movement m "
        "   WHERE m.clinic_id = l.clinic_id AND m.lot_id = l.lot_id)"), 0);
    /* initial + received - consumed - discarded = on hand */
    assert_int_equal (s_sql (db,
        "SELECT (SELECT sum (delta_milli) FROM inventory.movement WHERE kind = 'receive') "
        "     - (SELECT coalesce (sum (amount_milli), 0) FROM inventory.consumption) "
        "     + (SELECT coalesce (sum (delta_milli), 0) FROM inventory.movement WHERE kind = 'discard') "
        "     - (SELECT sum (on_hand_milli) FROM inventory.lot)"), 0);
    /* The lot expiring before the session date was never drawn from. */
    assert_int_equal (s_sql (db,
        "SELECT count (*) FROM inventory.reservation_line rl JOIN inventory.lot l USING (clinic_id, lot_id) "
        "WHERE l.lot_number = 'SOON'"), 0);
}

static void
test_fifty_clients_scarce_lots_and_a_kill (void **state)
{
    char admin[512];
    assert_int_equal (mt_db_create ("inv_concurrency", admin, sizeof admin), 0);
    char r1[256], r2[256], r3[256];
    mt_ipc_endpoint ("i1", r1, sizeof r1);
    mt_ipc_endpoint ("i2", r2, sizeof r2);
    mt_ipc_endpoint ("i3", r3, sizeof r3);
    pid_t p1 = s_spawn ("inv_concurrency", r1);
    pid_t p2 = s_spawn ("inv_concurrency", r2);
    pid_t p3 = s_spawn ("inv_concurrency", r3);
    snprintf (s_endpoints, sizeof s_endpoints, "%s,%s,%s", r1, r2, r3);
    s_date (10, s_session_date);

    meso_bus_client_t *c = mt_client (r1);
    Meso__V1__Ingredient ing = MESO__V1__INGREDIENT__INIT;
    ing.code = "caffeine"; ing.name = "Caffeine"; ing.unit = MESO__V1__UNIT__UNIT_MG;
    Meso__V1__UpsertIngredientRequest iq = MESO__V1__UPSERT_INGREDIENT_REQUEST__INIT;
    iq.ingredient = &ing;
    s_setup_call (c, "inventory.UpsertIngredient", &iq.base, "ing");
    Meso__V1__RecipeLine l1 = MESO__V1__RECIPE_LINE__INIT;
    l1.area = "thighs"; l1.ingredient_code = "caffeine"; l1.amount_milli = PER_SESSION;
    Meso__V1__RecipeLine *lines[] = { &l1 };
    Meso__V1__UpsertRecipeRequest uq = MESO__V1__UPSERT_RECIPE_REQUEST__INIT;
    uq.recipe_id = "c1"; uq.n_lines = 1; uq.lines = lines;
    s_setup_call (c, "inventory.UpsertRecipe", &uq.base, "recipe");
    s_receive (c, "SOON", 2, 5000000);      /* plenty, but expires before the session */
    s_receive (c, "L1", 30, 1250000);
    s_receive (c, "L2", 60, 800000);
    s_receive (c, "L3", 90, 450000);
    meso_bus_client_destroy (&c);

    /* Phase 1: 50 clients reserve at once; every fifth reserves its
     * appointment a second time with another key. One instance dies. */
    static s_job_t jobs[CLIENTS + NEW_RESERVES];
    pthread_t th[CLIENTS + NEW_RESERVES];
    int64_t t0 = meso_time_mono_ms ();
    for (int i = 0; i < CLIENTS; i++) {
        memset (&jobs[i], 0, sizeof jobs[i]);
        jobs[i].index = i;
        jobs[i].op = "reserve";
        snprintf (jobs[i].appointment, sizeof jobs[i].appointment, "appt-%02d", i);
        snprintf (jobs[i].key, sizeof jobs[i].key, "reserve-%02d", i);
        jobs[i].twice = i % 5 == 0;
        assert_int_equal (pthread_create (&th[i], NULL, s_client, &jobs[i]), 0);
    }
    mt_sleep_ms (30);
    assert_true (mt_stop (p2, SIGKILL) != -1);
    for (int i = 0; i < CLIENTS; i++)
        pthread_join (th[i], NULL);
    int64_t took = meso_time_mono_ms () - t0;

    int ok = 0, exhausted = 0, other = 0;
    for (int i = 0; i < CLIENTS; i++) {
        if (jobs[i].status == MESO_OK)
            ok++;
        else if (jobs[i].status == MESO_RESOURCE_EXHAUSTED)
            exhausted++;
        else {
            other++;
            print_message ("client %d: status %d\n", i, jobs[i].status);
        }
        if (jobs[i].twice) {
            /* The second Reserve of an appointment never holds more: it
             * returns the existing reservation, or is refused again. */
            assert_int_equal (jobs[i].status2, jobs[i].status);
            if (jobs[i].status == MESO_OK)
                assert_true (jobs[i].existing2);
        }
    }
    print_message ("phase 1: %d clients, %d reserved, %d refused for stock, %d other, in %lld ms "
                   "(one of three instances SIGKILLed)\n",
                   CLIENTS, ok, exhausted, other, (long long) took);
    assert_int_equal (other, 0);
    assert_int_equal (ok, FITS);
    assert_int_equal (exhausted, CLIENTS - FITS);

    meso_db_t *db = meso_db_new (admin);
    assert_true (meso_db_ok (db));
    assert_int_equal (s_sql (db, "SELECT count (*) FROM inventory.reservation WHERE status = 'held'"), ok);
    assert_int_equal (s_sql (db, "SELECT sum (reserved_milli) FROM inventory.lot"), (int64_t) ok * PER_SESSION);
    /* Scarce lots fully held, in FEFO order: L1, L2, L3 all used up. */
    assert_int_equal (s_sql (db, "SELECT sum (on_hand_milli - reserved_milli) FROM inventory.lot WHERE lot_number <> 'SOON'"), 0);
    s_check_books (db);
    /* Each successful client's appointment is held; each refused one has
     * no reservation at all. */
    for (int i = 0; i < CLIENTS; i++) {
        char sql[200];
        snprintf (sql, sizeof sql,
                  "SELECT count (*) FROM inventory.reservation WHERE appointment_id = '%s' AND status = 'held'",
                  jobs[i].appointment);
        assert_int_equal (s_sql (db, sql), jobs[i].status == MESO_OK ? 1 : 0);
    }

    /* Phase 2: consume half of the held ones (110 mg each: 10 more than
     * reserved, drawn from what is free), release the other half, while
     * 20 new appointments try to reserve what the releases free. */
    p2 = s_spawn ("inv_concurrency", r2);
    int n = 0, consumed = 0;
    for (int i = 0; i < CLIENTS; i++) {
        if (jobs[i].status != MESO_OK)
            continue;
        s_job_t *j = &jobs[n];
        char appt[32];
        snprintf (appt, sizeof appt, "%s", jobs[i].appointment);
        memset (j, 0, sizeof *j);
        snprintf (j->appointment, sizeof j->appointment, "%s", appt);
        j->op = n % 2 == 0 ? "consume" : "release";
        consumed += n % 2 == 0;
        snprintf (j->key, sizeof j->key, "%s-%s", j->op, appt);
        n++;
    }
    for (int k = 0; k < NEW_RESERVES; k++, n++) {
        memset (&jobs[n], 0, sizeof jobs[n]);
        jobs[n].op = "reserve";
        snprintf (jobs[n].appointment, sizeof jobs[n].appointment, "new-%02d", k);
        snprintf (jobs[n].key, sizeof jobs[n].key, "reserve-new-%02d", k);
    }
    t0 = meso_time_mono_ms ();
    for (int i = 0; i < n; i++)
        assert_int_equal (pthread_create (&th[i], NULL, s_client, &jobs[i]), 0);
    for (int i = 0; i < n; i++)
        pthread_join (th[i], NULL);
    took = meso_time_mono_ms () - t0;
    int new_ok = 0;
    for (int i = 0; i < n; i++) {
        if (strcmp (jobs[i].op, "reserve") == 0) {
            assert_true (jobs[i].status == MESO_OK || jobs[i].status == MESO_RESOURCE_EXHAUSTED);
            new_ok += jobs[i].status == MESO_OK;
        }
        else if (jobs[i].status != MESO_OK) {
            /* A consume racing for the free margin may find none left
             * (everything else is held by the new reservations): refused,
             * nothing changed. */
            assert_string_equal (jobs[i].op, "consume");
            assert_int_equal (jobs[i].status, MESO_FAILED_PRECONDITION);
            consumed--;
        }
    }
    print_message ("phase 2: %d consumed, %d released, %d new reserved of %d, in %lld ms\n",
                   consumed, FITS - (FITS + 1) / 2, new_ok, NEW_RESERVES, (long long) took);
    assert_int_equal (s_sql (db, "SELECT count (*) FROM inventory.reservation WHERE status = 'consumed'"), consumed);
    assert_int_equal (s_sql (db, "SELECT coalesce (sum (amount_milli), 0) FROM inventory.consumption"),
                      (int64_t) consumed * 110000);
    /* The released ones hold nothing; none of the first appointments is
     * still held. */
    assert_int_equal (s_sql (db, "SELECT count (*) FROM inventory.reservation WHERE status = 'held' AND appointment_id LIKE 'appt-%'"),
                      (FITS + 1) / 2 - consumed);
    assert_int_equal (s_sql (db, "SELECT count (*) FROM inventory.reservation WHERE status = 'released'"), FITS / 2);
    assert_int_equal (s_sql (db, "SELECT count (*) FROM inventory.reservation WHERE status = 'held' AND appointment_id LIKE 'new-%'"), new_ok);
    /* Stock held or consumed never exceeds what was usable. */
    assert_true (s_sql (db, "SELECT sum (reserved_milli) FROM inventory.lot")
                 + s_sql (db, "SELECT coalesce (sum (amount_milli), 0) FROM inventory.consumption") <= USABLE);
    s_check_books (db);
    meso_db_destroy (&db);
    assert_int_equal (mt_stop (p1, SIGTERM), 0);
    assert_int_equal (mt_stop (p2, SIGTERM), 0);
    assert_int_equal (mt_stop (p3, SIGTERM), 0);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_fifty_clients_scarce_lots_and_a_kill),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
