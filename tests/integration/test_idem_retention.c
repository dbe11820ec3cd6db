/* test_idem_retention.c -- idempotency keys are purged after their
 * retention (MESO_IDEMPOTENCY_TTL_S), by the daemon's tick, in batches
 * that skip what a writer holds, while requests keep coming; through two
 * real billing daemons on one database:
 *
 *   - a TTL outside 24 hours..30 days stops the daemon at start, saying so;
 *   - 2,500 keys past the window are purged (more than one batch) while
 *     200 requests are served over both daemons: every request's key and
 *     effect is there afterwards, and a retry of any replays its reply;
 *   - a key past the window held by another transaction is skipped, not
 *     waited for, and purged once released;
 *   - a real request's key aged past the window is gone: its retry runs
 *     again (not replayed), while a recent key's retry replays;
 *   - meso_idempotency_keys_purged_total counts them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "billing_fixture.h"

static pid_t
s_spawn (fx_t *fx, const char *endpoint, const char *purge_ms, int metrics_port)
{
    char role[512], db[600], bind[300], ev[300], evp[300], purge[64], metrics[64];
    mt_role_conninfo (fx->dbname, "meso_billing", role, sizeof role);
    snprintf (db, sizeof db, "--db=%s", role);
    snprintf (bind, sizeof bind, "--bind=%s", endpoint);
    snprintf (ev, sizeof ev, "--events=%s", fx->events_router);
    snprintf (evp, sizeof evp, "--events-pub=%s", fx->events_pub);
    snprintf (purge, sizeof purge, "--idempotency-purge-ms=%s", purge_ms);
    if (metrics_port > 0)
        snprintf (metrics, sizeof metrics, "--metrics=127.0.0.1:%d", metrics_port);
    else
        snprintf (metrics, sizeof metrics, "--metrics=");
    const char *argv[] = { "meso-billing", db, bind, ev, evp, "--scheduling=", purge, metrics, NULL };
    pid_t pid = mt_spawn ("bin/meso-billing", argv, NULL);
    assert_true (pid > 0);
    assert_int_equal (mt_wait_healthy (endpoint, 10000), 0);
    return pid;
}

/* Sets a price list for clinic under key; returns the status. */
static int
s_price_list (meso_bus_client_t *c, const char *clinic, const char *key, meso_result_t *r)
{
    Meso__V1__PriceEntry e = MESO__V1__PRICE_ENTRY__INIT;
    e.areas = 1;
    e.price_cents = 35000;
    Meso__V1__PriceEntry *ep[] = { &e };
    char from[16];
    fx_date (-1, from);
    Meso__V1__PriceList pl = MESO__V1__PRICE_LIST__INIT;
    pl.clinic_id = (char *) clinic;
    pl.effective_from = from;
    pl.prices = ep;
    pl.n_prices = 1;
    Meso__V1__SetPriceListRequest rq = MESO__V1__SET_PRICE_LIST_REQUEST__INIT;
    rq.price_list = &pl;
    meso_result_reset (r);
    meso_bus_client_call (c, "billing.SetPriceList", &rq.base, key, 15000, r);
    return r->status;
}

static int64_t
s_wait_count (fx_t *fx, const char *sql, int64_t want, int timeout_ms)
{
    int64_t n = -1;
    for (int waited = 0; waited <= timeout_ms; waited += 100) {
        n = fx_sql (fx, sql, NULL);
        if (n == want)
            break;
        mt_sleep_ms (100);
    }
    return n;
}

static void
test_ttl_out_of_range_is_refused (void **state)
{
    (void) state;
    char out[600];
    snprintf (out, sizeof out, "%s/idem-ttl-%d.out", mt_build_dir (), (int) getpid ());
    const char *bad[] = { "--idempotency-ttl-s=3600", "--idempotency-ttl-s=2592001" };
    for (int i = 0; i < 2; i++) {
        int rc = mt_sh ("%s/bin/meso-billing %s --db='dbname=none' --bind=ipc:///nonexistent 2>%s",
                        mt_build_dir (), bad[i], out);
        assert_int_equal (rc, 2);
        FILE *f = fopen (out, "r");
        assert_non_null (f);
        char text[1024];
        size_t n = fread (text, 1, sizeof text - 1, f);
        text[n] = '\0';
        fclose (f);
        assert_non_null (strstr (text, "--idempotency-ttl-s (MESO_IDEMPOTENCY_TTL_S) must be an "
                                       "integer from 86400 to 2592000"));
    }
    /* The variable says the same. */
    assert_int_equal (mt_sh ("MESO_IDEMPOTENCY_TTL_S=60 %s/bin/meso-billing --db='dbname=none' "
                             "--bind=ipc:///nonexistent 2>/dev/null", mt_build_dir ()), 2);
    unlink (out);
}

static void
test_purge_under_concurrent_writes (void **state)
{
    (void) state;
    /* B (the fixture's daemon) purges once, at its start; A every second. */
    setenv ("MESO_IDEMPOTENCY_PURGE_MS", "3600000", 1);
    fx_t *fx = fx_setup ("idem_it_retention");
    unsetenv ("MESO_IDEMPOTENCY_PURGE_MS");
    char ep_a[256], both[520];
    mt_ipc_endpoint ("bil", ep_a, sizeof ep_a);
    int port = mt_free_port ();
    pid_t a = s_spawn (fx, ep_a, "1000", port);
    snprintf (both, sizeof both, "%s,%s", ep_a, fx->router);
    meso_bus_client_t *c = mt_client (both);
    assert_non_null (c);

    /* A real request whose key will be aged past the window, and one that
     * stays within it. */
    meso_result_t r = { 0 };
    assert_int_equal (s_price_list (c, "aged", "key-aged", &r), MESO_OK);
    assert_int_equal (s_price_list (c, "recent", "key-recent", &r), MESO_OK);
    assert_int_equal (meso_db_exec (fx->db, "UPDATE billing.idempotency SET created_at = now () - "
                                    "interval '8 days' WHERE key = 'key-aged'", 0, NULL), 0);

    /* Another transaction holds a key past the window (a writer in
     * flight on it): the purge skips it rather than wait. */
    meso_db_t *holder = meso_db_new (fx->admin);
    assert_true (meso_db_ok (holder));
    assert_int_equal (meso_db_exec (fx->db,
        "INSERT INTO billing.idempotency (key, method, request_hash, reply, created_at)"
        " VALUES ('old-held', 'billing.SetPriceList', sha256 ('x'), '\\x', now () - interval '9 days')",
        0, NULL), 0);
    assert_int_equal (meso_db_exec (holder, "BEGIN", 0, NULL), 0);
    assert_int_equal (meso_db_exec (holder, "SELECT 1 FROM billing.idempotency WHERE key = 'old-held'"
                                    " FOR UPDATE", 0, NULL), 0);

    /* 2,500 keys past the window (more than two batches), then 200 new
     * requests over both daemons while A purges. */
    assert_int_equal (meso_db_exec (fx->db,
        "INSERT INTO billing.idempotency (key, method, request_hash, reply, created_at)"
        " SELECT 'old-' || g, 'billing.SetPriceList', sha256 (g::text::bytea), '\\x',"
        " now () - interval '8 days' - g * interval '1 second' FROM generate_series (1, 2500) g",
        0, NULL), 0);
    char key[64], clinic[64];
    for (int i = 0; i < 200; i++) {
        snprintf (key, sizeof key, "new-%d", i);
        snprintf (clinic, sizeof clinic, "c%d", i);
        if (s_price_list (c, clinic, key, &r) != MESO_OK)
            fail_msg ("request %d: %s", i, r.message);
    }
    /* Every request's key and effect is there. */
    assert_int_equal (fx_sql (fx, "SELECT count(*) FROM billing.idempotency WHERE key LIKE 'new-%'", NULL),
                      200);
    assert_int_equal (fx_sql (fx, "SELECT count(DISTINCT clinic_id) FROM billing.price"
                                  " WHERE clinic_id ~ '^c[0-9]+$'", NULL), 200);
    /* The old ones go, the held one stays while it is held. */
    assert_int_equal (s_wait_count (fx, "SELECT count(*) FROM billing.idempotency WHERE key LIKE 'old-%'",
                                    1, 15000), 1);
    assert_int_equal (fx_sql (fx, "SELECT count(*) FROM billing.idempotency WHERE key = 'old-held'", NULL), 1);
    /* A retry within the window replays the stored reply. */
    for (int i = 0; i < 200; i += 20) {
        snprintf (key, sizeof key, "new-%d", i);
        snprintf (clinic, sizeof clinic, "c%d", i);
        assert_int_equal (s_price_list (c, clinic, key, &r), MESO_OK);
        assert_true (r.reply->replayed);
    }
    assert_int_equal (fx_sql (fx, "SELECT count(*) FROM billing.price WHERE clinic_id ~ '^c[0-9]+$'", NULL),
                      fx_sql (fx, "SELECT count(DISTINCT (clinic_id, effective_from, areas)) FROM billing.price"
                                  " WHERE clinic_id ~ '^c[0-9]+$'", NULL));
    assert_int_equal (s_price_list (c, "recent", "key-recent", &r), MESO_OK);
    assert_true (r.reply->replayed);
    /* The aged key is gone: its retry runs again. */
    assert_int_equal (fx_sql (fx, "SELECT count(*) FROM billing.idempotency WHERE key = 'key-aged'", NULL), 0);
    assert_int_equal (s_price_list (c, "aged", "key-aged", &r), MESO_OK);
    assert_false (r.reply->replayed);

    /* Released, the held key goes too. */
    assert_int_equal (meso_db_exec (holder, "COMMIT", 0, NULL), 0);
    assert_int_equal (s_wait_count (fx, "SELECT count(*) FROM billing.idempotency WHERE key LIKE 'old-%'",
                                    0, 15000), 0);
    meso_db_destroy (&holder);

    /* The metric of A counts what it purged (B purged nothing: it ran
     * once, before any key was old). */
    char out[600];
    snprintf (out, sizeof out, "%s/idem-metrics-%d.out", mt_build_dir (), (int) getpid ());
    assert_int_equal (mt_sh ("curl -fsS http://127.0.0.1:%d/metrics >%s", port, out), 0);
    FILE *f = fopen (out, "r");
    assert_non_null (f);
    char line[512];
    double purged = -1;
    while (fgets (line, sizeof line, f))
        if (strncmp (line, "meso_idempotency_keys_purged_total{schema=\"billing\"}", 52) == 0)
            purged = atof (line + 52);
    fclose (f);
    unlink (out);
    assert_true (purged == 2502.0);

    meso_result_reset (&r);
    meso_bus_client_destroy (&c);
    assert_int_equal (mt_stop (a, SIGTERM), 0);
    fx_teardown (fx);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_ttl_out_of_range_is_refused),
        cmocka_unit_test (test_purge_under_concurrent_writes),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
