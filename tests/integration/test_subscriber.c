/* test_subscriber.c -- the subscriber and consumer promises, against a real
 * meso-events process and a real PostgreSQL: catch-up from 0 then live,
 * starting from a cursor, restarting from the last cursor while events keep
 * coming, a refused event coming again, several streams with their own
 * cursors, refusals of impossible cursors, a daemon that starts late, and
 * exactly-once effects for the consumer under redelivery. Events are
 * written with meso_outbox_append in transactions, as services do. */
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
#include <unistd.h>

#include "harness.h"
#include "meso/db.h"
#include "meso/log.h"
#include "meso/mtime.h"
#include "meso/outbox.h"
#include "meso/subscriber.h"
#include "events.pb-c.h"

/* ------------------------------------------------------------ helpers */

typedef struct {
    char conninfo[512];
    char router[256];
    char pub[256];
    pid_t pid;
} env_t;

static void
s_start_daemon (env_t *e)
{
    char db[600], bind[300], pubarg[300];
    snprintf (db, sizeof db, "--db=%s", e->conninfo);
    snprintf (bind, sizeof bind, "--bind=%s", e->router);
    snprintf (pubarg, sizeof pubarg, "--pub=%s", e->pub);
    const char *argv[] = { "meso-events", db, bind, pubarg, NULL };
    e->pid = mt_spawn ("bin/meso-events", argv, NULL);
    assert_true (e->pid > 0);
    assert_int_equal (mt_wait_healthy (e->router, 10000), 0);
}

static void
s_env (env_t *e, const char *dbname, bool start)
{
    memset (e, 0, sizeof *e);
    assert_int_equal (mt_db_create (dbname, e->conninfo, sizeof e->conninfo), 0);
    mt_ipc_endpoint ("router", e->router, sizeof e->router);
    mt_ipc_endpoint ("pub", e->pub, sizeof e->pub);
    if (start)
        s_start_daemon (e);
}

static void
s_env_end (env_t *e)
{
    if (e->pid > 0)
        mt_stop (e->pid, SIGTERM);
    e->pid = 0;
}

typedef struct {
    const char *stream;         /* "stock" or "session" */
    int n;
} emit_t;

static int
s_emit_txn (meso_db_t *db, void *arg)
{
    emit_t *em = arg;
    for (int i = 0; i < em->n; i++) {
        Meso__V1__Event ev = MESO__V1__EVENT__INIT;
        Meso__V1__StockLow low = MESO__V1__STOCK_LOW__INIT;
        Meso__V1__SessionBooked booked = MESO__V1__SESSION_BOOKED__INIT;
        Meso__V1__SessionInfo info = MESO__V1__SESSION_INFO__INIT;
        ev.clinic_id = "clinic-a";
        if (strcmp (em->stream, "stock") == 0) {
            low.ingredient_code = "caffeine";
            low.unit = MESO__V1__UNIT__UNIT_MG;
            low.available_milli = i;
            ev.type = "stock.low";
            ev.payload_case = MESO__V1__EVENT__PAYLOAD_STOCK_LOW;
            ev.stock_low = &low;
        }
        else {
            info.appointment_id = "appt-1";
            info.patient_id = "patient-1";
            info.session_number = (uint32_t) i + 1;
            booked.session = &info;
            ev.type = "session.booked";
            ev.payload_case = MESO__V1__EVENT__PAYLOAD_SESSION_BOOKED;
            ev.session_booked = &booked;
        }
        if (meso_outbox_append (db, &ev) != 0)
            return -1;
    }
    return 0;
}

/* Writes n events of stream in one transaction. */
static void
s_emit (meso_db_t *db, const char *stream, int n)
{
    emit_t em = { stream, n };
    assert_int_equal (meso_db_txn (db, MESO_DB_READ_COMMITTED, s_emit_txn, &em), 0);
}

/* What a handler saw. */
typedef struct {
    const char *stream;         /* expected stream (NULL: any) */
    uint64_t last[2];           /* last seq per stream: [0] stock, [1] session */
    uint64_t first;             /* first seq seen (of the expected stream) */
    uint64_t count;             /* calls that returned 0 */
    uint64_t calls;             /* all calls */
    int disorder;               /* events not exactly last + 1 */
    int wrong_stream;
    uint64_t refuse_seq;        /* refuse this seq ... */
    int refuse_times;           /* ... this many times */
    uint64_t stop_after;        /* when set, refuse every seq above it */
    uint64_t trail[32];         /* the first 32 calls' seqs */
    bool raw_ok;                /* raw bytes decode to the same event */
} rec_t;

static int
s_record (const Meso__V1__Event *ev, const uint8_t *raw, size_t len, void *arg)
{
    rec_t *r = arg;
    if (r->calls < 32)
        r->trail[r->calls] = ev->stream_seq;
    r->calls++;
    Meso__V1__Event *again = meso__v1__event__unpack (NULL, len, raw);
    if (!again || again->stream_seq != ev->stream_seq || strcmp (again->id, ev->id) != 0)
        r->raw_ok = false;
    if (again)
        meso__v1__event__free_unpacked (again, NULL);
    if (r->stream && strcmp (ev->stream, r->stream) != 0) {
        r->wrong_stream++;
        return 0;
    }
    if (r->stop_after && ev->stream_seq > r->stop_after)
        return -1;
    if (ev->stream_seq == r->refuse_seq && r->refuse_times > 0) {
        r->refuse_times--;
        return -1;
    }
    int i = strcmp (ev->stream, "session") == 0;
    if (ev->stream_seq != r->last[i] + 1)
        r->disorder++;
    if (r->count == 0)
        r->first = ev->stream_seq;
    r->last[i] = ev->stream_seq;
    r->count++;
    return 0;
}

static void
s_rec_init (rec_t *r, const char *stream)
{
    memset (r, 0, sizeof *r);
    r->stream = stream;
    r->raw_ok = true;
}

/* Polls until the stream's cursor reaches target or ms pass. */
static uint64_t
s_drive (meso_subscriber_t *sub, const char *stream, uint64_t target, int ms)
{
    int64_t end = meso_time_mono_ms () + ms;
    while (meso_subscriber_cursor (sub, stream) < target && meso_time_mono_ms () < end)
        meso_subscriber_poll (sub, 100);
    return meso_subscriber_cursor (sub, stream);
}

/* -------------------------------------------------------------- tests */

/* Started after 2000 events: catches up from 0 by replay, then takes live
 * events; every sequence exactly once, in order. */
static void
test_catch_up_from_zero_then_live (void **state)
{
    env_t e;
    s_env (&e, "sub_catchup", true);
    meso_db_t *db = meso_db_new (e.conninfo);
    s_emit (db, "stock", 2000);
    /* The 2000 events must be in the log before the subscriber starts, or
     * a slow relay (a loaded machine) publishes them live and nothing is
     * left to catch up by replay. */
    int64_t logged = 0;
    for (int64_t end = meso_time_mono_ms () + 20000;
         logged < 2000 && meso_time_mono_ms () < end; usleep (20000))
        assert_int_equal (mt_sql_int (db, "SELECT count(*) FROM events.log WHERE stream = $1",
                                      "stock", &logged), 0);
    assert_int_equal (logged, 2000);

    rec_t rec;
    s_rec_init (&rec, "stock");
    meso_subscriber_t *sub = meso_subscriber_new (e.router, e.pub, "t-catchup", s_record, &rec);
    assert_non_null (sub);
    assert_int_equal (meso_subscriber_follow (sub, "stock", 0), 0);
    assert_int_equal (s_drive (sub, "stock", 2000, 20000), 2000);
    assert_int_equal (rec.count, 2000);
    assert_int_equal (rec.first, 1);
    assert_int_equal (rec.disorder, 0);
    assert_true (meso_subscriber_replayed (sub) > 0);

    /* Now live: events written one transaction at a time while polling. */
    for (int i = 0; i < 100; i++) {
        s_emit (db, "stock", 1);
        meso_subscriber_poll (sub, 0);
    }
    assert_int_equal (s_drive (sub, "stock", 2100, 20000), 2100);
    assert_int_equal (rec.count, 2100);
    assert_int_equal (rec.disorder, 0);
    assert_int_equal (rec.wrong_stream, 0);
    assert_true (rec.raw_ok);
    assert_true (meso_subscriber_live (sub) > 0);
    assert_int_equal (meso_subscriber_replayed (sub) + meso_subscriber_live (sub), 2100);
    /* Nothing more arrives: a poll with nothing to do handles nothing. */
    assert_int_equal (meso_subscriber_poll (sub, 200), 0);
    assert_int_equal (rec.count, 2100);

    meso_subscriber_destroy (&sub);
    assert_null (sub);
    meso_db_destroy (&db);
    s_env_end (&e);
}

/* A cursor of 1500 gets 1501.. only. */
static void
test_from_cursor (void **state)
{
    env_t e;
    s_env (&e, "sub_cursor", true);
    meso_db_t *db = meso_db_new (e.conninfo);
    s_emit (db, "stock", 2000);

    rec_t rec;
    s_rec_init (&rec, "stock");
    rec.last[0] = 1500;
    meso_subscriber_t *sub = meso_subscriber_new (e.router, e.pub, "t-cursor", s_record, &rec);
    assert_int_equal (meso_subscriber_follow (sub, "stock", 1500), 0);
    assert_int_equal (meso_subscriber_cursor (sub, "stock"), 1500);
    assert_int_equal (s_drive (sub, "stock", 2000, 20000), 2000);
    assert_int_equal (rec.first, 1501);
    assert_int_equal (rec.count, 500);
    assert_int_equal (rec.disorder, 0);
    meso_subscriber_destroy (&sub);
    meso_db_destroy (&db);
    s_env_end (&e);
}

/* Events keep being written by another thread while the subscriber is
 * destroyed and recreated from its last cursor, over and over: the handler
 * still sees every sequence once, in order. */
typedef struct {
    const char *conninfo;
    int batches;
    int per_batch;
} writer_t;

static void *
s_writer (void *arg)
{
    writer_t *w = arg;
    meso_db_t *db = meso_db_new (w->conninfo);
    for (int b = 0; b < w->batches; b++) {
        emit_t em = { "stock", w->per_batch };
        if (meso_db_txn (db, MESO_DB_READ_COMMITTED, s_emit_txn, &em) != 0)
            fprintf (stderr, "writer: %s\n", meso_db_error (db)->message);
        mt_sleep_ms (5);
    }
    meso_db_destroy (&db);
    return NULL;
}

static void
test_restart_from_cursor_while_writing (void **state)
{
    env_t e;
    s_env (&e, "sub_restart", true);
    writer_t w = { e.conninfo, 100, 10 };
    const uint64_t total = 1000;
    pthread_t thread;
    assert_int_equal (pthread_create (&thread, NULL, s_writer, &w), 0);

    rec_t rec;
    s_rec_init (&rec, "stock");
    uint64_t cursor = 0;
    int incarnations = 0;
    int64_t end = meso_time_mono_ms () + 30000;
    while (cursor < total && meso_time_mono_ms () < end) {
        meso_subscriber_t *sub = meso_subscriber_new (e.router, e.pub, "t-restart", s_record, &rec);
        assert_non_null (sub);
        assert_int_equal (meso_subscriber_follow (sub, "stock", cursor), 0);
        incarnations++;
        /* Handle some events, then go away (losing whatever is queued).
         * The handler refuses what lies beyond the goal, so an incarnation
         * stops there even when one replay page brings many more. */
        uint64_t goal = cursor + 97;
        rec.stop_after = goal;
        while (meso_subscriber_cursor (sub, "stock") < goal && meso_time_mono_ms () < end
               && meso_subscriber_cursor (sub, "stock") < total)
            meso_subscriber_poll (sub, 50);
        cursor = meso_subscriber_cursor (sub, "stock");
        meso_subscriber_destroy (&sub);
        mt_sleep_ms (incarnations % 3 == 0 ? 30 : 0);  /* sometimes miss live events */
    }
    pthread_join (thread, NULL);
    assert_int_equal (cursor, total);
    assert_true (incarnations >= 10);
    assert_int_equal (rec.count, total);
    assert_int_equal (rec.first, 1);
    assert_int_equal (rec.disorder, 0);
    s_env_end (&e);
}

/* A handler that returns -1 gets the same event again. */
static void
test_refused_event_comes_again (void **state)
{
    env_t e;
    s_env (&e, "sub_refuse", true);
    meso_db_t *db = meso_db_new (e.conninfo);
    s_emit (db, "stock", 10);

    rec_t rec;
    s_rec_init (&rec, "stock");
    rec.refuse_seq = 5;
    rec.refuse_times = 2;
    meso_subscriber_t *sub = meso_subscriber_new (e.router, e.pub, "t-refuse", s_record, &rec);
    assert_int_equal (meso_subscriber_follow (sub, "stock", 0), 0);
    int64_t end = meso_time_mono_ms () + 10000;
    int stops = 0;
    while (meso_subscriber_cursor (sub, "stock") < 10 && meso_time_mono_ms () < end) {
        if (meso_subscriber_poll (sub, 100) < 0) {
            stops++;
            /* Stopped on 5: the cursor did not move past 4. */
            assert_int_equal (meso_subscriber_cursor (sub, "stock"), 4);
        }
    }
    assert_int_equal (stops, 2);
    assert_int_equal (meso_subscriber_cursor (sub, "stock"), 10);
    /* Calls: 1 2 3 4 5(refused) 5(refused) 5 6 7 8 9 10. */
    uint64_t want[] = { 1, 2, 3, 4, 5, 5, 5, 6, 7, 8, 9, 10 };
    assert_int_equal (rec.calls, 12);
    for (int i = 0; i < 12; i++)
        assert_int_equal (rec.trail[i], want[i]);
    assert_int_equal (rec.count, 10);
    assert_int_equal (rec.disorder, 0);

    /* Live too: a refusal of a live event brings it again. */
    rec.refuse_seq = 11;
    rec.refuse_times = 1;
    s_emit (db, "stock", 2);
    assert_int_equal (s_drive (sub, "stock", 12, 10000), 12);
    assert_int_equal (rec.calls, 15);       /* 11 refused, 11, 12 */
    assert_int_equal (rec.count, 12);
    assert_int_equal (rec.disorder, 0);
    meso_subscriber_destroy (&sub);
    meso_db_destroy (&db);
    s_env_end (&e);
}

/* Events of a stream not followed are not delivered; two streams keep
 * their own cursors. */
static void
test_streams (void **state)
{
    env_t e;
    s_env (&e, "sub_streams", true);
    meso_db_t *db = meso_db_new (e.conninfo);
    for (int i = 0; i < 5; i++) {
        s_emit (db, "session", 7);
        s_emit (db, "stock", 3);
    }
    rec_t only_stock, both;
    s_rec_init (&only_stock, "stock");
    s_rec_init (&both, NULL);
    both.last[1] = 10;
    meso_subscriber_t *a = meso_subscriber_new (e.router, e.pub, "t-stock", s_record, &only_stock);
    meso_subscriber_t *b = meso_subscriber_new (e.router, e.pub, "t-both", s_record, &both);
    assert_int_equal (meso_subscriber_follow (a, "stock", 0), 0);
    assert_int_equal (meso_subscriber_follow (b, "stock", 0), 0);
    assert_int_equal (meso_subscriber_follow (b, "session", 10), 0);
    assert_int_equal (meso_subscriber_follow (b, "inventory", 0), -1);
    assert_int_equal (s_drive (a, "stock", 15, 10000), 15);
    assert_int_equal (s_drive (b, "stock", 15, 10000), 15);
    assert_int_equal (s_drive (b, "session", 35, 10000), 35);
    /* Live, both streams. */
    s_emit (db, "session", 5);
    s_emit (db, "stock", 5);
    assert_int_equal (s_drive (a, "stock", 20, 10000), 20);
    assert_int_equal (s_drive (b, "session", 40, 10000), 40);
    assert_int_equal (s_drive (b, "stock", 20, 10000), 20);
    /* Let any stray session event reach a. */
    meso_subscriber_poll (a, 300);

    assert_int_equal (only_stock.count, 20);
    assert_int_equal (only_stock.wrong_stream, 0);
    assert_int_equal (only_stock.disorder, 0);
    assert_int_equal (meso_subscriber_cursor (a, "session"), 0);   /* not followed */
    assert_int_equal (both.count, 20 + 30);
    assert_int_equal (both.last[0], 20);
    assert_int_equal (both.last[1], 40);
    assert_int_equal (both.disorder, 0);
    meso_subscriber_destroy (&a);
    meso_subscriber_destroy (&b);
    meso_db_destroy (&db);
    s_env_end (&e);
}

/* Events lost on the live feed with no later event to show the gap (the
 * tail of a burst) are found through the heartbeat and replayed. The loss
 * is made certain by unsubscribing from the stream's topics on the
 * subscriber's own SUB socket while the events are published. */
static void
test_heartbeat_finds_a_lost_tail (void **state)
{
    env_t e;
    s_env (&e, "sub_heartbeat", true);
    meso_db_t *db = meso_db_new (e.conninfo);
    s_emit (db, "stock", 10);
    rec_t rec;
    s_rec_init (&rec, "stock");
    meso_subscriber_t *sub = meso_subscriber_new (e.router, e.pub, "t-hb", s_record, &rec);
    assert_int_equal (meso_subscriber_follow (sub, "stock", 0), 0);
    assert_int_equal (s_drive (sub, "stock", 10, 10000), 10);
    uint64_t replayed = meso_subscriber_replayed (sub);

    zsock_set_unsubscribe (meso_subscriber_socket (sub), "stock.");
    /* Let the unsubscription reach the daemon: a poll that sees a
     * heartbeat has seen the SUB socket's commands through. */
    meso_subscriber_poll (sub, 1200);
    s_emit (db, "stock", 5);
    assert_int_equal (s_drive (sub, "stock", 15, 10000), 15);
    assert_int_equal (rec.count, 15);
    assert_int_equal (rec.disorder, 0);
    assert_int_equal (meso_subscriber_replayed (sub), replayed + 5);
    meso_subscriber_destroy (&sub);
    meso_db_destroy (&db);
    s_env_end (&e);
}

/* A cursor beyond the head (a restored database) is refused loudly: poll
 * returns -1 rather than skipping. */
static void
test_cursor_beyond_head_is_refused (void **state)
{
    env_t e;
    s_env (&e, "sub_beyond", true);
    meso_db_t *db = meso_db_new (e.conninfo);
    s_emit (db, "stock", 3);
    rec_t rec;
    s_rec_init (&rec, "stock");
    meso_subscriber_t *sub = meso_subscriber_new (e.router, e.pub, "t-beyond", s_record, &rec);
    assert_int_equal (meso_subscriber_follow (sub, "stock", 50), 0);
    /* 1000 ms, not less: a poll gives its replay the time it has left
     * (at least 200 ms), and a first replay over a new connection can take
     * longer than 200 ms on a slow build (ThreadSanitizer's); the refusal
     * itself returns at once. */
    int64_t t0 = meso_time_mono_ms ();
    assert_int_equal (meso_subscriber_poll (sub, 1000), -1);
    assert_int_equal (meso_subscriber_poll (sub, 1000), -1);  /* and stays refused */
    assert_true (meso_time_mono_ms () - t0 < 3000);
    assert_int_equal (rec.calls, 0);
    assert_int_equal (meso_subscriber_cursor (sub, "stock"), 50);
    meso_subscriber_destroy (&sub);
    meso_db_destroy (&db);
    s_env_end (&e);
}

/* A daemon that is down does not hold the caller much past its timeout;
 * once it starts, the subscriber catches up by itself. */
static void
test_daemon_down_then_up (void **state)
{
    env_t e;
    s_env (&e, "sub_down", false);
    meso_db_t *db = meso_db_new (e.conninfo);
    s_emit (db, "stock", 25);
    rec_t rec;
    s_rec_init (&rec, "stock");
    meso_subscriber_t *sub = meso_subscriber_new (e.router, e.pub, "t-down", s_record, &rec);
    assert_int_equal (meso_subscriber_follow (sub, "stock", 0), 0);
    for (int i = 0; i < 3; i++) {
        int64_t t0 = meso_time_mono_ms ();
        assert_int_equal (meso_subscriber_poll (sub, 100), 0);
        int64_t took = meso_time_mono_ms () - t0;
        assert_true (took < 600);
    }
    s_start_daemon (&e);
    assert_int_equal (s_drive (sub, "stock", 25, 10000), 25);
    assert_int_equal (rec.count, 25);
    assert_int_equal (rec.disorder, 0);
    meso_subscriber_destroy (&sub);
    meso_db_destroy (&db);
    s_env_end (&e);
}

/* ------------------------------------------------------------ consumer */

static const char *const s_consumer_schema[] = {
    "CREATE SCHEMA subtest",
    "CREATE TABLE subtest.event_cursor (stream text PRIMARY KEY, seq bigint NOT NULL)",
    "CREATE TABLE subtest.effects (stream text NOT NULL, seq bigint NOT NULL,"
    "  event_id text NOT NULL, by_consumer text NOT NULL)",
    NULL
};

typedef struct {
    const char *who;
    uint64_t fail_seq;          /* write the effect, then fail, once */
    int calls;
} effect_t;

static int
s_effect (meso_db_t *db, const Meso__V1__Event *ev, void *arg)
{
    effect_t *ef = arg;
    ef->calls++;
    char seq[24];
    snprintf (seq, sizeof seq, "%" PRIu64, ev->stream_seq);
    const char *p[4] = { ev->stream, seq, ev->id, ef->who };
    if (meso_db_exec (db, "INSERT INTO subtest.effects (stream, seq, event_id, by_consumer)"
                          " VALUES ($1, $2, $3, $4)", 4, p) != 0)
        return -1;
    if (ev->stream_seq == ef->fail_seq) {
        ef->fail_seq = 0;
        meso_db_set_error (db, NULL, "test failure after the effect");
        return -1;          /* rolled back with the cursor: comes again */
    }
    return 0;
}

static int64_t
s_scalar (meso_db_t *db, const char *sql)
{
    PGresult *res = meso_db_query (db, sql, 0, NULL);
    assert_non_null (res);
    int64_t v = strtoll (PQgetvalue (res, 0, 0), NULL, 10);
    PQclear (res);
    return v;
}

static void
test_consumer_effects_once (void **state)
{
    env_t e;
    s_env (&e, "sub_consumer", true);
    meso_db_t *db = meso_db_new (e.conninfo);
    for (int i = 0; s_consumer_schema[i]; i++)
        assert_int_equal (meso_db_exec (db, s_consumer_schema[i], 0, NULL), 0);
    s_emit (db, "stock", 300);
    s_emit (db, "session", 20);        /* not followed */

    /* Two consumers of one schema, both starting from the stored cursor 0:
     * the second gets every event again and must apply none twice. */
    meso_db_t *db_a = meso_db_new (e.conninfo), *db_b = meso_db_new (e.conninfo);
    effect_t ea = { "a", 120, 0 }, eb = { "b", 0, 0 };
    meso_consumer_t *a = meso_consumer_new (db_a, "subtest", "stock", e.router, e.pub, "ca",
                                            s_effect, &ea);
    meso_consumer_t *b = meso_consumer_new (db_b, "subtest", "stock", e.router, e.pub, "cb",
                                            s_effect, &eb);
    assert_non_null (a);
    assert_non_null (b);
    assert_int_equal (meso_consumer_cursor (a, "stock"), 0);
    assert_non_null (meso_consumer_socket (a));

    int64_t end = meso_time_mono_ms () + 20000;
    while (meso_consumer_cursor (a, "stock") < 300 && meso_time_mono_ms () < end)
        meso_consumer_poll (a, 100);
    assert_int_equal (meso_consumer_cursor (a, "stock"), 300);
    assert_int_equal (s_scalar (db, "SELECT seq FROM subtest.event_cursor WHERE stream = 'stock'"), 300);
    assert_int_equal (ea.calls, 301);  /* 120 failed once, then applied */

    /* b: redelivery of all 300, each skipped. */
    while (meso_consumer_cursor (b, "stock") < 300 && meso_time_mono_ms () < end)
        meso_consumer_poll (b, 100);
    assert_int_equal (meso_consumer_cursor (b, "stock"), 300);
    assert_int_equal (eb.calls, 0);

    /* Both running, more events: each applied by exactly one of them. */
    s_emit (db, "stock", 200);
    while ((meso_consumer_cursor (a, "stock") < 500 || meso_consumer_cursor (b, "stock") < 500)
           && meso_time_mono_ms () < end) {
        meso_consumer_poll (a, 10);
        meso_consumer_poll (b, 10);
    }
    assert_int_equal (meso_consumer_cursor (a, "stock"), 500);
    assert_int_equal (meso_consumer_cursor (b, "stock"), 500);
    meso_consumer_destroy (&a);
    meso_consumer_destroy (&b);
    assert_null (a);

    /* A third one after a "restart": starts at the stored cursor. */
    effect_t ec = { "c", 0, 0 };
    meso_consumer_t *c = meso_consumer_new (db_a, "subtest", "stock,session", e.router, e.pub,
                                            "cc", s_effect, &ec);
    assert_non_null (c);
    assert_int_equal (meso_consumer_cursor (c, "stock"), 500);
    assert_int_equal (meso_consumer_cursor (c, "session"), 0);
    while (meso_consumer_cursor (c, "session") < 20 && meso_time_mono_ms () < end)
        meso_consumer_poll (c, 100);
    assert_int_equal (ec.calls, 20);   /* the session events only */
    meso_consumer_destroy (&c);

    assert_int_equal (s_scalar (db, "SELECT count(*) FROM subtest.effects WHERE stream = 'stock'"), 500);
    assert_int_equal (s_scalar (db, "SELECT count(DISTINCT seq) FROM subtest.effects"
                                    " WHERE stream = 'stock'"), 500);
    assert_int_equal (s_scalar (db, "SELECT max(seq) FROM subtest.effects WHERE stream = 'stock'"), 500);
    assert_int_equal (s_scalar (db, "SELECT count(DISTINCT event_id) FROM subtest.effects"), 520);
    assert_int_equal (s_scalar (db, "SELECT seq FROM subtest.event_cursor WHERE stream = 'session'"), 20);

    /* Refusals are logged and NULL returned, not asserted. */
    assert_null (meso_consumer_new (db_a, "Bad-Schema", "stock", e.router, e.pub, "x", s_effect, &ec));
    assert_null (meso_consumer_new (db_a, "nosuchschema", "stock", e.router, e.pub, "x", s_effect, &ec));
    assert_null (meso_consumer_new (db_a, "subtest", "inventory", e.router, e.pub, "x", s_effect, &ec));

    meso_db_destroy (&db_a);
    meso_db_destroy (&db_b);
    meso_db_destroy (&db);
    s_env_end (&e);
}

int
main (void)
{
    meso_log_init ("test_subscriber", getenv ("MESO_LOG_LEVEL"));
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_catch_up_from_zero_then_live),
        cmocka_unit_test (test_from_cursor),
        cmocka_unit_test (test_restart_from_cursor_while_writing),
        cmocka_unit_test (test_refused_event_comes_again),
        cmocka_unit_test (test_streams),
        cmocka_unit_test (test_heartbeat_finds_a_lost_tail),
        cmocka_unit_test (test_cursor_beyond_head_is_refused),
        cmocka_unit_test (test_daemon_down_then_up),
        cmocka_unit_test (test_consumer_effects_once),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
