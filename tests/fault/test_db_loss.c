/* test_db_loss.c -- the daemons' database connections die under them,
 * against real meso-inventory, meso-billing, meso-events and PostgreSQL.
 *
 * Two triggers:
 *   - pg_terminate_backend on every backend of the daemon's role in the
 *     test's database (the backend says goodbye with a FATAL error);
 *   - `pg_ctl stop -m immediate` and a restart (deploy/local/pg.sh crash)
 *     of a private cluster the test starts for itself, so that the other
 *     tests sharing the run's cluster are not disturbed: the backends die
 *     with a WARNING at most, and libpq reports "server closed the
 *     connection unexpectedly" without any SQLSTATE while PQstatus still
 *     says CONNECTION_OK (this was answered INTERNAL).
 * Each in two shapes:
 *   - idle: the connection is gone before the request arrives;
 *   - in flight: the request's transaction is blocked on a lock the test
 *     holds (events.outbox, which every mutating method writes last), and
 *     its backend is terminated while it waits.
 * For inventory.Receive, inventory.Reserve and billing.IssueInvoice, every
 * reply must be OK or UNAVAILABLE (the contract's "unknown outcome, retry
 * with the same key"), never INTERNAL; a retry with the same key succeeds;
 * the effect exists exactly once; a request answered UNAVAILABLE changed
 * nothing (the fingerprint of every table of the service's schema is the
 * same as before it); and the daemon serves afterwards. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <pthread.h>

#include "../integration/billing_fixture.h"
#include "inventory.pb-c.h"

typedef struct {
    const char *endpoint;
    const char *method;
    const ProtobufCMessage *body;
    const char *key;
    int status;
    char message[256];
} s_call_t;

static void
s_call (s_call_t *call)
{
    meso_bus_client_t *c = mt_client (call->endpoint);
    assert_non_null (c);
    /* One attempt: a resend would be queued behind the blocked one. */
    meso_bus_client_set_attempt_timeout (c, 20000);
    meso_result_t r = { 0 };
    meso_bus_client_call (c, call->method, call->body, call->key, 20000, &r);
    call->status = r.status;
    snprintf (call->message, sizeof call->message, "%s", r.message);
    meso_result_reset (&r);
    meso_bus_client_destroy (&c);
}

static void *
s_call_thread (void *arg)
{
    s_call ((s_call_t *) arg);
    return NULL;
}

static int64_t
s_int (meso_db_t *db, const char *sql, const char *p1)
{
    int64_t v = 0;
    assert_int_equal (mt_sql_int (db, sql, p1, &v), 0);
    return v;
}

/* Terminates every backend of role in this database and waits until they
 * are gone. */
static void
s_terminate (meso_db_t *db, const char *role)
{
    /* Not the principals loader (application_name meso-access), which
     * reconnects within a second by itself: the daemon's own connections. */
    assert_true (s_int (db, "SELECT count (pg_terminate_backend (pid)) FROM pg_stat_activity"
                            " WHERE usename = $1 AND datname = current_database ()"
                            " AND application_name <> 'meso-access'", role) >= 0);
    int64_t t0 = meso_time_mono_ms ();
    while (s_int (db, "SELECT count (*) FROM pg_stat_activity WHERE usename = $1"
                      " AND datname = current_database ()"
                      " AND application_name <> 'meso-access'", role) > 0) {
        assert_true (meso_time_mono_ms () - t0 < 10000);
        mt_sleep_ms (20);
    }
}

/* How the connections die: terminated backends, or a crash of the whole
 * (private) cluster. */
static bool s_crash;
static char s_crash_dir[600];
static char s_crash_port[16];

static void
s_lose (meso_db_t *admin, const char *role)
{
    if (!s_crash) {
        s_terminate (admin, role);
        return;
    }
    /* MESO_PG_FAST= here too: pg.sh rewrites the settings at every start,
     * and the run's MESO_PG_FAST=1 (tests/run.sh) would turn
     * synchronous_commit off after the first crash, so that the next one
     * loses commits already acknowledged. */
    assert_int_equal (mt_sh ("MESO_PG_FAST= %s/deploy/local/pg.sh crash %s %s >/dev/null", mt_source_dir (),
                             s_crash_dir, s_crash_port), 0);
    /* The test's own connection died too: reconnect it. */
    int rc = -1;
    for (int i = 0; i < 3 && rc != 0; i++)
        rc = meso_db_ping (admin);
    assert_int_equal (rc, 0);
}

/* The idempotency keys and the row counts of schema, for a failure
 * message. */
static void
s_dump (meso_db_t *db, const char *schema, char *out, size_t size)
{
    char sql[512];
    snprintf (sql, sizeof sql,
              "SELECT (SELECT string_agg (key, ',' ORDER BY key) FROM %s.idempotency) || ' | ' ||"
              " (SELECT string_agg (format ('%%s=%%s', c.relname, c.reltuples), ',') FROM pg_class c"
              "  JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind = 'r')",
              schema);
    const char *p[] = { schema };
    PGresult *res = meso_db_query (db, sql, 1, p);
    snprintf (out, size, "%s", res && PQntuples (res) ? PQgetvalue (res, 0, 0) : meso_db_error (db)->message);
    PQclear (res);
}

static void
s_expect_ok_or_unavailable (const s_call_t *call, const char *shape)
{
    print_message ("%s (%s): status %d %s\n", call->method, shape, call->status, call->message);
    if (call->status != MESO_OK && call->status != MESO_UNAVAILABLE)
        fail_msg ("%s after a lost connection (%s) answered %d (%s); expected OK or UNAVAILABLE",
                  call->method, shape, call->status, call->message);
}

/* Sends the request with the connection gone beforehand, then again with
 * the same key: OK. */
static void
s_idle_loss (meso_db_t *admin, const char *role, s_call_t *call)
{
    s_lose (admin, role);
    s_call (call);
    s_expect_ok_or_unavailable (call, "idle");
    s_call (call);
    assert_int_equal (call->status, MESO_OK);
}

/* Sends the request while the test holds events.outbox, terminates its
 * backend while it waits for the lock, then retries with the same key. */
static void
s_inflight_loss (meso_db_t *admin, const char *admin_conninfo, const char *role, s_call_t *call)
{
    meso_db_t *locker = meso_db_new (admin_conninfo);
    assert_true (meso_db_ok (locker));
    PGconn *lc = meso_db_conn (locker);
    PQclear (PQexec (lc, "BEGIN"));
    PGresult *res = PQexec (lc, "LOCK TABLE events.outbox IN EXCLUSIVE MODE");
    assert_int_equal (PQresultStatus (res), PGRES_COMMAND_OK);
    PQclear (res);

    /* The service's own tables, to compare with after an UNAVAILABLE. */
    const char *schema = role + strlen ("meso_");
    char before[40], after[40];
    assert_int_equal (mt_fingerprint (admin, schema, before, sizeof before), 0);
    pthread_t th;
    assert_int_equal (pthread_create (&th, NULL, s_call_thread, call), 0);
    int64_t t0 = meso_time_mono_ms ();
    while (s_int (admin, "SELECT count (*) FROM pg_stat_activity WHERE usename = $1"
                         " AND datname = current_database () AND wait_event_type = 'Lock'",
                  role) == 0) {
        assert_true (meso_time_mono_ms () - t0 < 10000);
        mt_sleep_ms (20);
    }
    s_lose (admin, role);
    PQclear (PQexec (lc, "COMMIT"));
    meso_db_destroy (&locker);
    pthread_join (th, NULL);
    s_expect_ok_or_unavailable (call, "in flight");
    if (call->status == MESO_UNAVAILABLE) {
        /* Unknown outcome. Either nothing was done, or it was done once:
         * the client library resends a request left unanswered for a
         * second (same bytes, same key), and on a slow restart that resend
         * may run once the database is back. Never half of it. */
        assert_int_equal (mt_fingerprint (admin, schema, after, sizeof after), 0);
        if (strcmp (before, after) != 0) {
            /* Changed: then by that resend, whose key commits with its
             * effect. The fingerprint reads table after table, so it may
             * have seen the resend commit between two of them: give the
             * key a moment to be read. */
            char sql[128];
            snprintf (sql, sizeof sql, "SELECT count (*) FROM %s.idempotency WHERE key = $1", schema);
            int64_t t1 = meso_time_mono_ms ();
            while (s_int (admin, sql, call->key) == 0 && meso_time_mono_ms () - t1 < 5000)
                mt_sleep_ms (50);
            if (s_int (admin, sql, call->key) != 1) {
                char rows[2048];
                s_dump (admin, schema, rows, sizeof rows);
                fail_msg ("%s: UNAVAILABLE, the %s tables changed, but key %s was never stored: %s",
                          call->method, schema, call->key, rows);
            }
        }
    }
    s_call (call);
    assert_int_equal (call->status, MESO_OK);
    /* Exactly once: the same key again changes nothing more. */
    assert_int_equal (mt_fingerprint (admin, schema, before, sizeof before), 0);
    s_call (call);
    assert_int_equal (call->status, MESO_OK);
    assert_int_equal (mt_fingerprint (admin, schema, after, sizeof after), 0);
    assert_string_equal (before, after);
}

static void
s_inv_setup (const char *endpoint)
{
    meso_bus_client_t *c = mt_client (endpoint);
    meso_result_t r = { 0 };
    Meso__V1__Ingredient ing = MESO__V1__INGREDIENT__INIT;
    ing.code = "caffeine"; ing.name = "Caffeine"; ing.unit = MESO__V1__UNIT__UNIT_MG;
    Meso__V1__UpsertIngredientRequest iq = MESO__V1__UPSERT_INGREDIENT_REQUEST__INIT;
    iq.ingredient = &ing;
    assert_int_equal (meso_bus_client_call (c, "inventory.UpsertIngredient", &iq.base, "ing", 5000, &r), 0);
    meso_result_reset (&r);
    Meso__V1__RecipeLine l1 = MESO__V1__RECIPE_LINE__INIT;
    l1.area = "thighs"; l1.ingredient_code = "caffeine"; l1.amount_milli = 100000;
    Meso__V1__RecipeLine *lines[] = { &l1 };
    Meso__V1__UpsertRecipeRequest uq = MESO__V1__UPSERT_RECIPE_REQUEST__INIT;
    uq.recipe_id = "c1"; uq.n_lines = 1; uq.lines = lines;
    assert_int_equal (meso_bus_client_call (c, "inventory.UpsertRecipe", &uq.base, "recipe", 5000, &r), 0);
    meso_result_reset (&r);
    meso_bus_client_destroy (&c);
}

static void
s_inventory (void)
{
    char admin[512], router[256], role[512], dbarg[600], bind[300];
    assert_int_equal (mt_db_create ("db_loss_inv", admin, sizeof admin), 0);
    mt_ipc_endpoint ("inv", router, sizeof router);
    mt_role_conninfo ("db_loss_inv", "meso_inventory", role, sizeof role);
    snprintf (dbarg, sizeof dbarg, "--db=%s", role);
    snprintf (bind, sizeof bind, "--bind=%s", router);
    const char *argv[] = { "meso-inventory", dbarg, bind, "--log-level=warn", "--scheduling=", NULL };
    pid_t pid = mt_spawn ("bin/meso-inventory", argv, NULL);
    assert_true (pid > 0);
    assert_int_equal (mt_wait_healthy (router, 10000), 0);
    s_inv_setup (router);
    meso_db_t *db = meso_db_new (admin);
    assert_true (meso_db_ok (db));

    char expiry[16], session[16];
    fx_date (60, expiry);
    fx_date (10, session);
    const char *lots[] = { "L-idle", "L-flight" };
    for (int shape = 0; shape < 2; shape++) {
        Meso__V1__ReceiveRequest rq = MESO__V1__RECEIVE_REQUEST__INIT;
        rq.clinic_id = "clinic-a";
        rq.ingredient_code = "caffeine";
        rq.lot_number = (char *) lots[shape];
        rq.expiry_date = expiry;
        rq.quantity_milli = 1000000;
        s_call_t call = { router, "inventory.Receive", &rq.base, lots[shape], 0, "" };
        if (shape == 0)
            s_idle_loss (db, "meso_inventory", &call);
        else
            s_inflight_loss (db, admin, "meso_inventory", &call);
        /* Received once: one lot, one movement, one event. */
        assert_int_equal (s_int (db, "SELECT count (*) FROM inventory.movement m JOIN inventory.lot l"
                                     " USING (clinic_id, lot_id) WHERE l.lot_number = $1", lots[shape]), 1);
        assert_int_equal (s_int (db, "SELECT sum (on_hand_milli) FROM inventory.lot"
                                     " WHERE lot_number = $1", lots[shape]), 1000000);
    }
    const char *appts[] = { "appt-idle", "appt-flight" };
    char *areas[] = { "thighs" };
    for (int shape = 0; shape < 2; shape++) {
        Meso__V1__ReserveRequest rq = MESO__V1__RESERVE_REQUEST__INIT;
        rq.appointment_id = (char *) appts[shape];
        rq.patient_id = "patient";
        rq.clinic_id = "clinic-a";
        rq.session_date = session;
        rq.n_areas = 1;
        rq.areas = areas;
        rq.recipe_id = "c1";
        s_call_t call = { router, "inventory.Reserve", &rq.base, appts[shape], 0, "" };
        if (shape == 0)
            s_idle_loss (db, "meso_inventory", &call);
        else
            s_inflight_loss (db, admin, "meso_inventory", &call);
        assert_int_equal (s_int (db, "SELECT count (*) FROM inventory.reservation"
                                     " WHERE appointment_id = $1 AND status = 'held'", appts[shape]), 1);
    }
    /* Held exactly once each: 2 x 100 mg. */
    assert_int_equal (s_int (db, "SELECT sum (reserved_milli) FROM inventory.lot", NULL), 200000);
    assert_int_equal (s_int (db, "SELECT count (*) FROM events.outbox WHERE type = 'stock.received'", NULL)
                      + s_int (db, "SELECT count (*) FROM events.log WHERE type = 'stock.received'", NULL), 2);
    /* And it still serves. */
    assert_int_equal (mt_wait_healthy (router, 5000), 0);
    meso_db_destroy (&db);
    assert_int_equal (mt_stop (pid, SIGTERM), 0);
}

static void
s_billing (void)
{
    fx_t *fx = fx_setup ("db_loss_bil");
    int64_t prices[] = { 40000 };
    assert_int_equal (fx_prices (fx, "clinic-a", -5, prices, 1, NULL), MESO_OK);
    fx_screened (fx, "pat-1");
    const char *keys[] = { "inv-idle", "inv-flight" };
    for (int shape = 0; shape < 2; shape++) {
        Meso__V1__InvoiceLine l = MESO__V1__INVOICE_LINE__INIT;
        l.amount_cents = 40000;
        l.areas = 1;
        Meso__V1__InvoiceLine *lp[] = { &l };
        Meso__V1__IssueInvoiceRequest rq = MESO__V1__ISSUE_INVOICE_REQUEST__INIT;
        rq.clinic_id = "clinic-a";
        rq.patient_id = "pat-1";
        rq.currency = "";
        rq.lines = lp;
        rq.n_lines = 1;
        s_call_t call = { fx->router, "billing.IssueInvoice", &rq.base, keys[shape], 0, "" };
        if (shape == 0)
            s_idle_loss (fx->db, "meso_billing", &call);
        else
            s_inflight_loss (fx->db, fx->admin, "meso_billing", &call);
        assert_int_equal (fx_sql (fx, "SELECT count (*) FROM billing.invoice", NULL), shape + 1);
    }
    assert_int_equal (fx_sql (fx, "SELECT sum (total_cents) FROM billing.invoice", NULL), 80000);
    assert_int_equal (mt_wait_healthy (fx->router, 5000), 0);
    fx_teardown (fx);
}

static void
test_terminated_backends (void **state)
{
    (void) state;
    s_crash = false;
    s_inventory ();
    s_billing ();
}

static void
test_database_crash (void **state)
{
    (void) state;
    /* A private cluster, on the side of the run's one; durable (no
     * MESO_PG_FAST), since what was committed before the crash must stay. */
    snprintf (s_crash_dir, sizeof s_crash_dir, "%s/pgcrash-%d", mt_build_dir (), (int) getpid ());
    snprintf (s_crash_port, sizeof s_crash_port, "%d", mt_free_port ());
    assert_int_equal (mt_sh ("MESO_PG_FAST= %s/deploy/local/pg.sh start %s %s >/dev/null",
                             mt_source_dir (), s_crash_dir, s_crash_port), 0);
    char host[620];
    snprintf (host, sizeof host, "%s/run", s_crash_dir);
    char *old_host = strdup (getenv ("MESO_TEST_PGHOST") ? getenv ("MESO_TEST_PGHOST") : "");
    char *old_port = strdup (getenv ("MESO_TEST_PGPORT") ? getenv ("MESO_TEST_PGPORT") : "");
    setenv ("MESO_TEST_PGHOST", host, 1);
    setenv ("MESO_TEST_PGPORT", s_crash_port, 1);
    s_crash = true;
    s_inventory ();
    s_billing ();
    setenv ("MESO_TEST_PGHOST", old_host, 1);
    setenv ("MESO_TEST_PGPORT", old_port, 1);
    free (old_host);
    free (old_port);
    mt_sh ("%s/deploy/local/pg.sh stop %s %s >/dev/null && rm -rf %s", mt_source_dir (),
           s_crash_dir, s_crash_port, s_crash_dir);
}

/* A failed assertion leaves no cluster behind. */
static void
s_crash_cleanup (void)
{
    if (s_crash_dir[0])
        mt_sh ("%s/deploy/local/pg.sh stop %s %s >/dev/null 2>&1; rm -rf %s", mt_source_dir (),
               s_crash_dir, s_crash_port, s_crash_dir);
}

int
main (void)
{
    atexit (s_crash_cleanup);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_terminated_backends),
        cmocka_unit_test (test_database_crash),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
