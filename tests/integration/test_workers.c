/* test_workers.c -- a daemon's worker pool (MESO_WORKERS) end to end: a
 * real meso-events on a real database, its requests held in PostgreSQL by
 * a lock the test takes.
 *
 * - Parallel: with 3 workers, 3 events.Head requests are inside the
 *   database at the same time (3 of the daemon's backends wait on the
 *   lock), Health is still answered while they wait (and says
 *   "workers=4 connected=4"), and all 3 get their
 *   replies once the lock goes; with 1 worker only one is ever inside.
 *   So N requests that each hold the database for T take about T, not
 *   N * T: measured and asserted under 2 T for N = 3.
 * - No waiting behind a slow request: with 2 workers, one held in the
 *   database, 40 Health requests sent at once (more than the pool takes:
 *   the rest wait in the ROUTER) are all answered OK by the other worker
 *   while the held one is still inside the database.
 * - Many in flight: 2000 requests for unknown methods (answered without
 *   the database, so fast), 16 in flight, through 2 workers: each comes
 *   back NOT_FOUND naming its own method (a reply packed in a worker's
 *   buffer and sent after that worker served the next one would carry
 *   another request's id or not decode).
 * - Graceful stop: SIGTERM while 2 requests are held and 3 more are taken
 *   but not started: the daemon does not exit until they are answered, all
 *   5 replies arrive with status OK, and it exits 0.
 * - A client's resends of a request still held (same request id) are not
 *   served beside it: one backend waits, not one per resend, and the
 *   caller gets OK. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <libpq-fe.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "harness.h"
#include "meso/bus.h"
#include "meso/mtime.h"

#define HOLD_MS 600

static char s_admin[512];

static int
s_setup (void **state)
{
    (void) state;
    return mt_db_create ("workers_it", s_admin, sizeof s_admin);
}

/* Starts meso-events with workers workers; endpoint written to router. */
static pid_t
s_spawn (int workers, char *router, size_t size)
{
    char role[512], db[600], bind[300], pubarg[300], pub[256], env[32];
    mt_ipc_endpoint ("wkr", router, size);
    mt_ipc_endpoint ("wkp", pub, sizeof pub);
    mt_role_conninfo ("workers_it", "meso_events", role, sizeof role);
    snprintf (db, sizeof db, "--db=%s", role);
    snprintf (bind, sizeof bind, "--bind=%s", router);
    snprintf (pubarg, sizeof pubarg, "--pub=%s", pub);
    snprintf (env, sizeof env, "MESO_WORKERS=%d", workers);
    const char *argv[] = { "meso-events", db, bind, pubarg, NULL };
    const char *envp[] = { env, NULL };
    pid_t pid = mt_spawn ("bin/meso-events", argv, envp);
    if (pid > 0 && mt_wait_healthy (router, 10000) != 0) {
        mt_stop (pid, SIGKILL);
        return -1;
    }
    return pid;
}

static PGconn *
s_connect (void)
{
    PGconn *c = PQconnectdb (s_admin);
    assert_int_equal (PQstatus (c), CONNECTION_OK);
    return c;
}

static void
s_exec (PGconn *c, const char *sql)
{
    PGresult *r = PQexec (c, sql);
    if (PQresultStatus (r) != PGRES_COMMAND_OK)
        fprintf (stderr, "%s: %s", sql, PQerrorMessage (c));
    assert_int_equal (PQresultStatus (r), PGRES_COMMAND_OK);
    PQclear (r);
}

/* The daemon's backends waiting on the lock in events.Head's statement
 * (the relay, on the main thread's connection, may wait on it too). */
static int
s_waiting (PGconn *c)
{
    PGresult *r = PQexec (c, "SELECT count (*) FROM pg_stat_activity WHERE usename = 'meso_events' "
                             "AND datname = current_database () AND wait_event_type = 'Lock' "
                             "AND query LIKE '%min (l.stream_seq)%'");
    int n = PQresultStatus (r) == PGRES_TUPLES_OK ? atoi (PQgetvalue (r, 0, 0)) : -1;
    PQclear (r);
    return n;
}

/* Waits up to 5 s for want waiting backends; returns how many there are. */
static int
s_wait_for (PGconn *c, int want)
{
    int n = 0;
    for (int waited = 0; waited < 5000; waited += 20) {
        n = s_waiting (c);
        if (n >= want)
            break;
        mt_sleep_ms (20);
    }
    return n;
}

/* Sends n events.Head requests without waiting. */
static void
s_send_heads (meso_bus_client_t *client, int n)
{
    for (int i = 0; i < n; i++) {
        char id[64];
        assert_int_equal (meso_bus_client_send (client, "events.Head", NULL, NULL, 30000, id), 0);
    }
}

/* Receives n replies; returns how many were OK. */
static int
s_recv_ok (meso_bus_client_t *client, int n)
{
    int ok = 0;
    for (int i = 0; i < n; i++) {
        meso_result_t r = { 0 };
        if (meso_bus_client_recv (client, 10000, &r) == 0 && r.status == MESO_OK)
            ok++;
        meso_result_reset (&r);
    }
    return ok;
}

static void
test_requests_are_served_in_parallel (void **state)
{
    (void) state;
    char router[256];
    pid_t pid = s_spawn (4, router, sizeof router);
    assert_true (pid > 0);
    meso_bus_client_t *client = mt_client (router);
    assert_non_null (client);
    PGconn *locker = s_connect (), *watcher = s_connect ();

    s_exec (locker, "BEGIN");
    s_exec (locker, "LOCK TABLE events.stream_head IN ACCESS EXCLUSIVE MODE");
    int64_t t0 = meso_time_mono_ms ();
    s_send_heads (client, 3);
    /* All three are inside the database at once, one per worker. */
    assert_int_equal (s_wait_for (watcher, 3), 3);
    /* The fourth worker still answers (the routing thread is not held). */
    char hstate[32], notes[512];
    assert_int_equal (mt_health (router, hstate, sizeof hstate, notes, sizeof notes), 0);
    /* It says how many workers there are and that each has a connection. */
    assert_non_null (strstr (notes, "workers=4 connected=4"));
    int64_t held_from = meso_time_mono_ms ();
    while (meso_time_mono_ms () - held_from < HOLD_MS)
        mt_sleep_ms (10);
    s_exec (locker, "COMMIT");
    assert_int_equal (s_recv_ok (client, 3), 3);
    int64_t took = meso_time_mono_ms () - t0;
    printf ("3 requests each held %d ms in the database: %lld ms in all with 4 workers\n",
            HOLD_MS, (long long) took);
    assert_true (took < 2 * (HOLD_MS + (held_from - t0)));
    meso_bus_client_destroy (&client);
    assert_int_equal (mt_stop (pid, SIGTERM), 0);

    /* One worker: one request inside, the others wait their turn. */
    pid = s_spawn (1, router, sizeof router);
    assert_true (pid > 0);
    client = mt_client (router);
    s_exec (locker, "BEGIN");
    s_exec (locker, "LOCK TABLE events.stream_head IN ACCESS EXCLUSIVE MODE");
    s_send_heads (client, 3);
    assert_int_equal (s_wait_for (watcher, 1), 1);
    mt_sleep_ms (500);
    assert_int_equal (s_waiting (watcher), 1);
    s_exec (locker, "COMMIT");
    assert_int_equal (s_recv_ok (client, 3), 3);
    meso_bus_client_destroy (&client);
    assert_int_equal (mt_stop (pid, SIGTERM), 0);
    PQfinish (locker);
    PQfinish (watcher);
}

static void
test_sigterm_answers_requests_in_flight (void **state)
{
    (void) state;
    char router[256];
    pid_t pid = s_spawn (2, router, sizeof router);
    assert_true (pid > 0);
    meso_bus_client_t *client = mt_client (router);
    PGconn *locker = s_connect (), *watcher = s_connect ();
    s_exec (locker, "BEGIN");
    s_exec (locker, "LOCK TABLE events.stream_head IN ACCESS EXCLUSIVE MODE");
    s_send_heads (client, 5);
    assert_int_equal (s_wait_for (watcher, 2), 2);
    mt_sleep_ms (100);          /* the other 3 reach the pool's queue */

    assert_int_equal (kill (pid, SIGTERM), 0);
    mt_sleep_ms (500);
    /* Still running: it waits for the two in flight. */
    int status = 0;
    assert_int_equal (waitpid (pid, &status, WNOHANG), 0);
    s_exec (locker, "COMMIT");
    /* All answered, none lost: the 2 held and the 3 queued. */
    assert_int_equal (s_recv_ok (client, 5), 5);
    /* Then it exits, cleanly. */
    pid_t r = 0;
    for (int waited = 0; waited < 10000 && r == 0; waited += 20) {
        r = waitpid (pid, &status, WNOHANG);
        if (r == 0)
            mt_sleep_ms (20);
    }
    assert_int_equal (r, pid);
    assert_true (WIFEXITED (status));
    assert_int_equal (WEXITSTATUS (status), 0);
    mt_stop (pid, SIGKILL);     /* only forgets it: already reaped */
    meso_bus_client_destroy (&client);
    PQfinish (locker);
    PQfinish (watcher);
}

/* One worker held in the database: requests sent after it, more than
 * the pool takes at once, are all served by the other worker before the
 * held one is let go (none was bound to the held worker). */
static void
test_requests_do_not_wait_behind_a_held_one (void **state)
{
    (void) state;
    char router[256];
    pid_t pid = s_spawn (2, router, sizeof router);
    assert_true (pid > 0);
    meso_bus_client_t *client = mt_client (router);
    PGconn *locker = s_connect (), *watcher = s_connect ();
    s_exec (locker, "BEGIN");
    s_exec (locker, "LOCK TABLE events.stream_head IN ACCESS EXCLUSIVE MODE");
    s_send_heads (client, 1);
    assert_int_equal (s_wait_for (watcher, 1), 1);
    enum { N = 40 };
    for (int i = 0; i < N; i++) {
        char id[64];
        assert_int_equal (meso_bus_client_send (client, "Health", NULL, NULL, 30000, id), 0);
    }
    int health_ok = 0;
    for (int i = 0; i < N; i++) {
        meso_result_t r = { 0 };
        /* The held events.Head cannot answer before COMMIT: these are
         * the Health replies. */
        if (meso_bus_client_recv (client, 5000, &r) == 0 && r.status == MESO_OK)
            health_ok++;
        meso_result_reset (&r);
    }
    assert_int_equal (health_ok, N);
    /* The held request is still inside the database. */
    assert_int_equal (s_waiting (watcher), 1);
    s_exec (locker, "COMMIT");
    assert_int_equal (s_recv_ok (client, 1), 1);
    meso_bus_client_destroy (&client);
    assert_int_equal (mt_stop (pid, SIGTERM), 0);
    PQfinish (locker);
    PQfinish (watcher);
}

static void
test_many_in_flight_are_all_answered (void **state)
{
    (void) state;
    char router[256];
    pid_t pid = s_spawn (2, router, sizeof router);
    assert_true (pid > 0);
    meso_bus_client_t *client = mt_client (router);
    /* Unknown methods: answered without the database, so a worker serves
     * the next request as fast as the routing thread sends replies; the
     * names differ in length, so each reply has its own size. 16 in
     * flight: the peer's send HWM (MESO_BUS_PEER_BUDGET, 64 replies as
     * 128 frames, bus_server.c) lets at least 32 replies wait, whatever
     * libzmq's lag in learning what the reader took. With the HWM at 64
     * frames, 1 to 13 of the 2,000 replies were dropped under load. */
    enum { N = 2000, WINDOW = 16 };
    static char ids[N][64];
    int sent = 0, received = 0, ok = 0;
    while (received < N) {
        while (sent < N && sent - received < WINDOW) {
            char method[64];
            snprintf (method, sizeof method, "events.Missing%d", sent);
            assert_int_equal (meso_bus_client_send (client, method, NULL, NULL, 30000,
                                                    ids[sent]), 0);
            sent++;
        }
        meso_result_t r = { 0 };
        if (meso_bus_client_recv (client, 5000, &r) == 0 || r.reply) {
            int at = -1;
            for (int i = 0; i < sent && at < 0; i++)
                if (r.reply && strcmp (ids[i], r.reply->request_id) == 0)
                    at = i;
            char want[80];
            snprintf (want, sizeof want, "\"events.Missing%d\"", at);
            if (at >= 0 && r.status == MESO_NOT_FOUND && strstr (r.message, want))
                ok++;
        }
        meso_result_reset (&r);
        received++;
    }
    /* Every reply is its own request's: NOT_FOUND naming that method. */
    assert_int_equal (ok, N);
    meso_bus_client_destroy (&client);
    assert_int_equal (mt_stop (pid, SIGTERM), 0);
}

typedef struct {
    meso_bus_client_t *client;
    int status;
} s_caller_t;

static void *
s_call_thread (void *arg)
{
    s_caller_t *c = arg;
    meso_result_t r = { 0 };
    meso_bus_client_call (c->client, "events.Head", NULL, NULL, 8000, &r);
    c->status = r.status;
    meso_result_reset (&r);
    return NULL;
}

/* A client resends a request it has no reply to after its attempt
 * timeout (same request id). The copies of a request still being served
 * are not served beside it: one worker holds it, the others stay free,
 * and the caller gets the original's reply. */
static void
test_resent_copies_are_not_served_twice (void **state)
{
    (void) state;
    char router[256];
    pid_t pid = s_spawn (4, router, sizeof router);
    assert_true (pid > 0);
    PGconn *locker = s_connect (), *watcher = s_connect ();
    s_exec (locker, "BEGIN");
    s_exec (locker, "LOCK TABLE events.stream_head IN ACCESS EXCLUSIVE MODE");
    s_caller_t c = { mt_client (router), -1 };
    meso_bus_client_set_attempt_timeout (c.client, 200);
    pthread_t t;
    assert_int_equal (pthread_create (&t, NULL, s_call_thread, &c), 0);
    assert_int_equal (s_wait_for (watcher, 1), 1);
    mt_sleep_ms (1200);         /* five resends or so */
    assert_int_equal (s_waiting (watcher), 1);
    s_exec (locker, "COMMIT");
    pthread_join (t, NULL);
    assert_int_equal (c.status, MESO_OK);
    meso_bus_client_destroy (&c.client);
    assert_int_equal (mt_stop (pid, SIGTERM), 0);
    PQfinish (locker);
    PQfinish (watcher);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_requests_are_served_in_parallel),
        cmocka_unit_test (test_sigterm_answers_requests_in_flight),
        cmocka_unit_test (test_requests_do_not_wait_behind_a_held_one),
        cmocka_unit_test (test_many_in_flight_are_all_answered),
        cmocka_unit_test (test_resent_copies_are_not_served_twice),
    };
    return cmocka_run_group_tests (tests, s_setup, NULL);
}
