/* test_events_delivery.c -- nothing lost, nothing twice, nothing rolled back.
 *
 * 10,000 events are written by concurrent transactions into the outbox:
 * some transactions roll back, some take their outbox ids early and commit
 * late (holding the horizon back). A subscriber follows the two streams
 * from 0 through the real events daemon. Every committed event must arrive
 * exactly once, none of the rolled-back ones, with contiguous stream
 * sequences.
 *
 * The second test does the same while the events daemon is killed with
 * SIGKILL several times, PostgreSQL is restarted once (a private cluster, so
 * other tests are not disturbed) and the subscriber goes away and comes
 * back from its cursor. A transaction whose COMMIT failed because the
 * database went away has an unknown outcome: its events may arrive (once)
 * or not at all. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "meso/db.h"
#include "meso/outbox.h"
#include "meso/subscriber.h"
#include "meso/mtime.h"

#define TOTAL 10000
#define WRITERS 6

enum { ST_NONE, ST_COMMITTED, ST_ROLLED_BACK, ST_UNKNOWN };

typedef struct {
    char conninfo[512];
    char router[256];
    char pub[256];
    _Atomic int state[TOTAL];
    int delivered[TOTAL];
    uint64_t last_seq[2];           /* session, stock */
    int out_of_order;
    int foreign;                    /* events whose id we did not write */
    _Atomic int writers_done;
    _Atomic int committed;
} run_t;

typedef struct {
    run_t *run;
    int writer;
    int from, to;                   /* this txn's event indices [from, to) */
    bool rollback;
    int hold_ms;                    /* sleep before commit: a late commit */
} txn_t;

static int
s_write_events (meso_db_t *db, void *arg)
{
    txn_t *t = arg;
    for (int i = t->from; i < t->to; i++) {
        char id[32];
        snprintf (id, sizeof id, "ev-%d", i);
        Meso__V1__Event ev = MESO__V1__EVENT__INIT;
        ev.id = id;
        ev.clinic_id = "clinic-test";
        Meso__V1__SessionInfo info = MESO__V1__SESSION_INFO__INIT;
        Meso__V1__SessionBooked booked = MESO__V1__SESSION_BOOKED__INIT;
        Meso__V1__StockLow low = MESO__V1__STOCK_LOW__INIT;
        if (i % 2 == 0) {
            info.appointment_id = id;
            booked.session = &info;
            ev.type = "session.booked";
            ev.payload_case = MESO__V1__EVENT__PAYLOAD_SESSION_BOOKED;
            ev.session_booked = &booked;
        }
        else {
            low.ingredient_code = "caffeine";
            low.available_milli = i;
            ev.type = "stock.low";
            ev.payload_case = MESO__V1__EVENT__PAYLOAD_STOCK_LOW;
            ev.stock_low = &low;
        }
        if (meso_outbox_append (db, &ev) != 0)
            return -1;
    }
    if (t->hold_ms)
        mt_sleep_ms (t->hold_ms);
    return t->rollback ? -1 : 0;
}

static void *
s_writer (void *arg)
{
    txn_t base = *(txn_t *) arg;
    run_t *run = base.run;
    meso_db_t *db = meso_db_new (run->conninfo);
    unsigned seed = (unsigned) base.writer * 7919u + 1;
    /* Writer w owns the indices [w*TOTAL/WRITERS, (w+1)*TOTAL/WRITERS). */
    int i = base.writer * TOTAL / WRITERS;
    int end = (base.writer + 1) * TOTAL / WRITERS;
    int ntxn = 0;
    while (i < end) {
        txn_t t = { run, base.writer, i, i + 1 + (int) (rand_r (&seed) % 4), false, 0 };
        if (t.to > end)
            t.to = end;
        t.rollback = rand_r (&seed) % 100 < 15;
        /* Writer 0 takes its ids early and commits late, over and over. */
        if (base.writer == 0 && ++ntxn % 10 == 0)
            t.hold_ms = 150;
        int rc = meso_db_txn (db, MESO_DB_READ_COMMITTED, s_write_events, &t);
        int st = rc == 0 ? ST_COMMITTED : t.rollback ? ST_ROLLED_BACK : ST_UNKNOWN;
        /* When we chose to roll back, COMMIT was never sent: certain. A
         * failure of the database is not (the commit may have reached the
         * disk before the connection broke). */
        for (int k = t.from; k < t.to; k++)
            atomic_store (&run->state[k], st);
        if (st == ST_COMMITTED)
            atomic_fetch_add (&run->committed, t.to - t.from);
        if (st == ST_UNKNOWN)
            mt_sleep_ms (50);    /* the database is restarting */
        i = t.to;
        if (ntxn % 50 == 0)
            mt_sleep_ms (5);     /* spread the load over the faults */
    }
    meso_db_destroy (&db);
    atomic_fetch_add (&run->writers_done, 1);
    return NULL;
}

static int
s_on_event (const Meso__V1__Event *ev, const uint8_t *raw, size_t len, void *arg)
{
    run_t *run = arg;
    int s = strcmp (ev->stream, "session") == 0 ? 0 : 1;
    if (ev->stream_seq != run->last_seq[s] + 1)
        run->out_of_order++;
    run->last_seq[s] = ev->stream_seq;
    int idx;
    if (sscanf (ev->id, "ev-%d", &idx) != 1 || idx < 0 || idx >= TOTAL) {
        run->foreign++;
        return 0;
    }
    run->delivered[idx]++;
    return 0;
}

static int
s_delivered_committed (run_t *run)
{
    int n = 0;
    for (int i = 0; i < TOTAL; i++)
        if (atomic_load (&run->state[i]) == ST_COMMITTED && run->delivered[i] > 0)
            n++;
    return n;
}

static pid_t
s_start_events (run_t *run)
{
    char db[600], bind[300], pub[300];
    snprintf (db, sizeof db, "--db=%s", run->conninfo);
    snprintf (bind, sizeof bind, "--bind=%s", run->router);
    snprintf (pub, sizeof pub, "--pub=%s", run->pub);
    const char *argv[] = { "meso-events", db, bind, pub, NULL };
    pid_t pid = mt_spawn ("bin/meso-events", argv, NULL);
    assert_true (pid > 0);
    return pid;
}

/* Checks the outcome and the log against what the writers know. */
static void
s_check (run_t *run, meso_db_t *db)
{
    int committed = 0, missing = 0, twice = 0, ghost = 0;
    for (int i = 0; i < TOTAL; i++) {
        int st = atomic_load (&run->state[i]);
        if (st == ST_COMMITTED) {
            committed++;
            if (run->delivered[i] == 0)
                missing++;
        }
        if (run->delivered[i] > 1)
            twice++;
        if (st == ST_ROLLED_BACK && run->delivered[i] > 0)
            ghost++;
    }
    print_message ("committed %d, missing %d, delivered twice %d, rolled back but delivered %d, "
                   "out of order %d, session head %llu, stock head %llu\n",
                   committed, missing, twice, ghost, run->out_of_order,
                   (unsigned long long) run->last_seq[0], (unsigned long long) run->last_seq[1]);
    assert_true (committed > TOTAL / 2);
    assert_int_equal (missing, 0);
    assert_int_equal (twice, 0);
    assert_int_equal (ghost, 0);
    assert_int_equal (run->out_of_order, 0);
    assert_int_equal (run->foreign, 0);

    /* The log holds exactly what was delivered, numbered 1..head per stream. */
    PGresult *res = meso_db_query (db,
        "SELECT stream, count (*), min (stream_seq), max (stream_seq) FROM events.log GROUP BY stream ORDER BY stream",
        0, NULL);
    assert_non_null (res);
    for (int r = 0; r < PQntuples (res); r++) {
        int s = strcmp (PQgetvalue (res, r, 0), "session") == 0 ? 0 : 1;
        assert_int_equal (atoll (PQgetvalue (res, r, 1)), (long long) run->last_seq[s]);
        assert_int_equal (atoll (PQgetvalue (res, r, 2)), 1);
        assert_int_equal (atoll (PQgetvalue (res, r, 3)), (long long) run->last_seq[s]);
    }
    PQclear (res);
    res = meso_db_query (db, "SELECT count (*) FROM events.outbox", 0, NULL);
    assert_non_null (res);
    assert_string_equal (PQgetvalue (res, 0, 0), "0");
    PQclear (res);
}

static void
s_run (bool faults)
{
    run_t *run = calloc (1, sizeof *run);
    assert_non_null (run);
    char pgdir[512] = "";
    int pgport = 0;
    if (faults) {
        /* A private cluster: this test restarts it. */
        pgport = mt_free_port ();
        snprintf (pgdir, sizeof pgdir, "%s/test-tmp/pg-events-faults", mt_build_dir ());
        mt_sh ("rm -rf '%s'", pgdir);
        assert_int_equal (mt_sh ("MESO_PG_FAST=1 '%s/deploy/local/pg.sh' start '%s' %d >/dev/null",
                                 mt_source_dir (), pgdir, pgport), 0);
        char host[600], port[16];
        snprintf (host, sizeof host, "%s/run", pgdir);
        snprintf (port, sizeof port, "%d", pgport);
        setenv ("MESO_TEST_PGHOST", host, 1);
        setenv ("MESO_TEST_PGPORT", port, 1);
    }
    assert_int_equal (mt_db_create (faults ? "events_faults" : "events_delivery",
                                    run->conninfo, sizeof run->conninfo), 0);
    mt_ipc_endpoint ("ev-router", run->router, sizeof run->router);
    mt_ipc_endpoint ("ev-pub", run->pub, sizeof run->pub);
    pid_t events = s_start_events (run);
    assert_int_equal (mt_wait_healthy (run->router, 10000), 0);

    meso_subscriber_t *sub = meso_subscriber_new (run->router, run->pub, "test", s_on_event, run);
    assert_non_null (sub);
    assert_int_equal (meso_subscriber_follow (sub, "session", 0), 0);
    assert_int_equal (meso_subscriber_follow (sub, "stock", 0), 0);

    pthread_t writers[WRITERS];
    txn_t args[WRITERS];
    for (int w = 0; w < WRITERS; w++) {
        args[w] = (txn_t) { run, w, 0, 0, false, 0 };
        assert_int_equal (pthread_create (&writers[w], NULL, s_writer, &args[w]), 0);
    }

    int64_t start = meso_time_mono_ms ();
    int64_t deadline = start + 240000;
    int kills = 0;
    bool pg_restarted = false, resubscribed = false;
    while (meso_time_mono_ms () < deadline) {
        meso_subscriber_poll (sub, 50);
        int64_t t = meso_time_mono_ms () - start;
        if (faults) {
            /* The writers take several seconds: spread the faults over them. */
            if (kills < 4 && t > 700 + kills * 1300) {
                mt_stop (events, SIGKILL);
                mt_sleep_ms (100);
                events = s_start_events (run);
                kills++;
            }
            if (!pg_restarted && t > 3000) {
                assert_int_equal (mt_sh ("'%s/deploy/local/pg.sh' stop '%s' %d >/dev/null && "
                                         "MESO_PG_FAST=1 '%s/deploy/local/pg.sh' start '%s' %d >/dev/null",
                                         mt_source_dir (), pgdir, pgport,
                                         mt_source_dir (), pgdir, pgport), 0);
                pg_restarted = true;
            }
            if (!resubscribed && t > 2000) {
                /* The subscriber goes away and comes back from its cursors. */
                uint64_t c1 = meso_subscriber_cursor (sub, "session");
                uint64_t c2 = meso_subscriber_cursor (sub, "stock");
                meso_subscriber_destroy (&sub);
                mt_sleep_ms (300);
                sub = meso_subscriber_new (run->router, run->pub, "test", s_on_event, run);
                assert_non_null (sub);
                meso_subscriber_follow (sub, "session", c1);
                meso_subscriber_follow (sub, "stock", c2);
                resubscribed = true;
            }
        }
        if (atomic_load (&run->writers_done) == WRITERS
            && s_delivered_committed (run) == atomic_load (&run->committed)
            && (!faults || (kills == 4 && pg_restarted && resubscribed))) {
            /* Everything committed has arrived; give stragglers of unknown
             * outcome a moment, then stop. */
            for (int k = 0; k < 20; k++)
                meso_subscriber_poll (sub, 50);
            break;
        }
    }
    for (int w = 0; w < WRITERS; w++)
        pthread_join (writers[w], NULL);
    print_message ("took %lld ms, %d kills of the events daemon, database restarted: %s\n",
                   (long long) (meso_time_mono_ms () - start), kills, pg_restarted ? "yes" : "no");

    meso_db_t *db = meso_db_new (run->conninfo);
    s_check (run, db);
    meso_db_destroy (&db);
    meso_subscriber_destroy (&sub);
    assert_int_equal (mt_stop (events, SIGTERM), 0);
    if (faults)
        mt_sh ("'%s/deploy/local/pg.sh' stop '%s' %d >/dev/null; rm -rf '%s'",
               mt_source_dir (), pgdir, pgport, pgdir);
    free (run);
}

static void
test_concurrent_writers_with_rollbacks_and_late_commits (void **state)
{
    s_run (false);
}

static void
test_same_under_daemon_kills_database_restart_and_resubscribe (void **state)
{
    s_run (true);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_concurrent_writers_with_rollbacks_and_late_commits),
        cmocka_unit_test (test_same_under_daemon_kills_database_restart_and_resubscribe),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
