/* test_events_daemon.c -- the events daemon's own promises: a standby takes
 * over when the writer dies, malformed replay requests get clear errors and
 * the daemon keeps serving, replay pages are contiguous, and the log is
 * pruned after its retention. Real PostgreSQL, real meso-events processes,
 * real sockets. A backlog drains as fast as a trickle. */
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
#include "meso/outbox.h"
#include "meso/subscriber.h"
#include "events.pb-c.h"

typedef struct {
    char conninfo[512];
} fixture_t;

static pid_t
s_start (const char *conninfo, const char *router, const char *pub, const char *extra)
{
    char db[600], bind[300], pubarg[300];
    snprintf (db, sizeof db, "--db=%s", conninfo);
    snprintf (bind, sizeof bind, "--bind=%s", router);
    snprintf (pubarg, sizeof pubarg, "--pub=%s", pub);
    const char *argv[] = { "meso-events", db, bind, pubarg, extra, NULL };
    pid_t pid = mt_spawn ("bin/meso-events", argv, NULL);
    assert_true (pid > 0);
    assert_int_equal (mt_wait_healthy (router, 10000), 0);
    return pid;
}

static int
s_emit (meso_db_t *db, void *arg)
{
    int n = *(int *) arg;
    for (int i = 0; i < n; i++) {
        Meso__V1__Event ev = MESO__V1__EVENT__INIT;
        Meso__V1__StockLow low = MESO__V1__STOCK_LOW__INIT;
        low.ingredient_code = "caffeine";
        low.available_milli = i;
        ev.type = "stock.low";
        ev.clinic_id = "clinic-a";
        ev.payload_case = MESO__V1__EVENT__PAYLOAD_STOCK_LOW;
        ev.stock_low = &low;
        if (meso_outbox_append (db, &ev) != 0)
            return -1;
    }
    return 0;
}

static void
s_emit_n (const char *conninfo, int n)
{
    meso_db_t *db = meso_db_new (conninfo);
    assert_int_equal (meso_db_txn (db, MESO_DB_READ_COMMITTED, s_emit, &n), 0);
    meso_db_destroy (&db);
}

/* Calls events.Head; returns the stock head and whether the daemon is active. */
static uint64_t
s_head (const char *router, bool *active)
{
    meso_bus_client_t *c = mt_client (router);
    Meso__V1__HeadRequest rq = MESO__V1__HEAD_REQUEST__INIT;
    meso_result_t r = { 0 };
    int rc = meso_bus_client_call (c, "events.Head", &rq.base, NULL, 3000, &r);
    uint64_t head = 0;
    if (rc == 0) {
        size_t len;
        const uint8_t *body = meso_result_body (&r, &len);
        Meso__V1__Heartbeat *hb = meso__v1__heartbeat__unpack (NULL, len, body);
        assert_non_null (hb);
        for (size_t i = 0; i < hb->n_heads; i++)
            if (strcmp (hb->heads[i]->stream, "stock") == 0)
                head = hb->heads[i]->head;
        if (active)
            *active = hb->active;
        meso__v1__heartbeat__free_unpacked (hb, NULL);
    }
    else if (active)
        *active = false;
    meso_result_reset (&r);
    meso_bus_client_destroy (&c);
    return head;
}

/* Waits up to timeout_ms for the stock head to reach n; returns the head. */
static uint64_t
s_wait_head (const char *router, uint64_t n, int timeout_ms)
{
    int64_t t0 = meso_time_mono_ms ();
    uint64_t head;
    while ((head = s_head (router, NULL)) < n && meso_time_mono_ms () - t0 < timeout_ms)
        mt_sleep_ms (20);
    return head;
}

/* A database of the test's own and the router and publisher endpoints of
 * one daemon (conninfo 512, router and pub 256 bytes). */
static void
s_place (const char *dbname, char *conninfo, char *router, char *pub)
{
    assert_int_equal (mt_db_create (dbname, conninfo, 512), 0);
    mt_ipc_endpoint ("r", router, 256);
    mt_ipc_endpoint ("p", pub, 256);
}

static int
s_replay (const char *router, const char *stream, uint64_t after, uint32_t limit,
          meso_result_t *r)
{
    meso_bus_client_t *c = mt_client (router);
    Meso__V1__ReplayRequest rq = MESO__V1__REPLAY_REQUEST__INIT;
    rq.stream = (char *) stream;
    rq.after_seq = after;
    rq.limit = limit;
    int rc = meso_bus_client_call (c, "events.Replay", &rq.base, NULL, 3000, r);
    meso_bus_client_destroy (&c);
    return rc;
}

static void
test_standby_takes_over_when_the_writer_dies (void **state)
{
    char conninfo[512], r1[256], p1[256], r2[256], p2[256];
    assert_int_equal (mt_db_create ("events_standby", conninfo, sizeof conninfo), 0);
    mt_ipc_endpoint ("r1", r1, sizeof r1);
    mt_ipc_endpoint ("p1", p1, sizeof p1);
    mt_ipc_endpoint ("r2", r2, sizeof r2);
    mt_ipc_endpoint ("p2", p2, sizeof p2);
    pid_t a = s_start (conninfo, r1, p1, NULL);
    /* Wait until the first is the writer before starting the second. */
    bool active = false;
    for (int i = 0; i < 50 && !active; i++) {
        s_head (r1, &active);
        if (!active)
            mt_sleep_ms (100);
    }
    assert_true (active);
    pid_t b = s_start (conninfo, r2, p2, NULL);
    s_head (r2, &active);
    assert_false (active);              /* one writer only */

    s_emit_n (conninfo, 10);
    s_wait_head (r1, 10, 5000);
    assert_int_equal (s_head (r2, NULL), 10);   /* the standby reads the same log */

    mt_stop (a, SIGKILL);
    int64_t killed = meso_time_mono_ms ();
    s_emit_n (conninfo, 5);
    active = false;
    uint64_t head = 0;
    while (meso_time_mono_ms () - killed < 10000) {
        head = s_head (r2, &active);
        if (active && head == 15)
            break;
        mt_sleep_ms (50);
    }
    int64_t took = meso_time_mono_ms () - killed;
    print_message ("standby took over and relayed in %lld ms\n", (long long) took);
    assert_true (active);
    assert_int_equal (head, 15);
    assert_true (took < 5000);
    assert_int_equal (mt_stop (b, SIGTERM), 0);
}

static void
test_malformed_replays_get_clear_errors (void **state)
{
    char conninfo[512], router[256], pub[256];
    s_place ("events_malformed", conninfo, router, pub);
    pid_t pid = s_start (conninfo, router, pub, NULL);
    s_emit_n (conninfo, 3);

    meso_result_t r = { 0 };
    /* Unknown stream: the field is named. */
    assert_int_equal (s_replay (router, "sessions", 0, 10, &r), -1);
    assert_int_equal (r.status, MESO_INVALID_ARGUMENT);
    assert_non_null (r.reply);
    assert_true (r.reply->n_reasons >= 1);
    assert_string_equal (r.reply->reasons[0]->field, "stream");
    meso_result_reset (&r);
    /* Limit too large. */
    assert_int_equal (s_replay (router, "stock", 0, 20000, &r), -1);
    assert_int_equal (r.status, MESO_INVALID_ARGUMENT);
    assert_string_equal (r.reply->reasons[0]->field, "limit");
    meso_result_reset (&r);
    /* A cursor beyond the head. */
    s_wait_head (router, 3, 5000);
    assert_int_equal (s_replay (router, "stock", 99, 10, &r), -1);
    assert_int_equal (r.status, MESO_FAILED_PRECONDITION);
    assert_non_null (strstr (r.reply->message, "beyond the head"));
    meso_result_reset (&r);

    /* A body that is not a ReplayRequest: raw bytes through the envelope. */
    meso_bus_client_t *c = mt_client (router);
    Meso__V1__Request env = MESO__V1__REQUEST__INIT;
    uint8_t junk[] = { 0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01 };
    env.request_id = "junk-1";
    env.method = "events.Replay";
    env.body.data = junk;
    env.body.len = sizeof junk;
    uint8_t frame[256];
    size_t flen = meso__v1__request__pack (&env, frame);
    zsock_t *raw = mt_dealer (router);
    zsock_connect (raw, "%s", router);
    zsock_set_rcvtimeo (raw, 3000);
    zmq_send (zsock_resolve (raw), "", 0, ZMQ_SNDMORE);
    zmq_send (zsock_resolve (raw), frame, flen, 0);
    zmsg_t *msg = zmsg_recv (raw);
    assert_non_null (msg);
    zframe_t *last = zmsg_last (msg);
    Meso__V1__Reply *rep = meso__v1__reply__unpack (NULL, zframe_size (last), zframe_data (last));
    assert_non_null (rep);
    assert_int_equal (rep->status, MESO_INVALID_ARGUMENT);
    assert_string_equal (rep->request_id, "junk-1");
    meso__v1__reply__free_unpacked (rep, NULL);
    zmsg_destroy (&msg);
    zsock_destroy (&raw);
    meso_bus_client_destroy (&c);

    /* Still serving: a valid replay returns the three events, in order. */
    assert_int_equal (s_replay (router, "stock", 0, 10, &r), 0);
    size_t len;
    const uint8_t *body = meso_result_body (&r, &len);
    Meso__V1__ReplayReply *rr = meso__v1__replay_reply__unpack (NULL, len, body);
    assert_non_null (rr);
    assert_int_equal (rr->n_events, 3);
    assert_int_equal (rr->head, 3);
    for (size_t i = 0; i < rr->n_events; i++) {
        assert_int_equal (rr->events[i]->stream_seq, i + 1);
        assert_string_equal (rr->events[i]->type, "stock.low");
        assert_string_equal (rr->events[i]->stream, "stock");
        assert_int_equal (rr->events[i]->payload_case, MESO__V1__EVENT__PAYLOAD_STOCK_LOW);
        assert_int_equal (rr->events[i]->stock_low->available_milli, (int64_t) i);
        assert_true (rr->events[i]->global_seq >= 1);
        assert_int_equal (strlen (rr->events[i]->id), 36);
    }
    meso__v1__replay_reply__free_unpacked (rr, NULL);
    meso_result_reset (&r);
    assert_int_equal (mt_stop (pid, SIGTERM), 0);
}

static void
test_replay_pages_are_contiguous (void **state)
{
    char conninfo[512], router[256], pub[256];
    s_place ("events_pages", conninfo, router, pub);
    pid_t pid = s_start (conninfo, router, pub, NULL);
    s_emit_n (conninfo, 2500);
    s_wait_head (router, 2500, 10000);
    uint64_t cursor = 0;
    int pages = 0;
    while (cursor < 2500) {
        meso_result_t r = { 0 };
        assert_int_equal (s_replay (router, "stock", cursor, 1000, &r), 0);
        size_t len;
        const uint8_t *body = meso_result_body (&r, &len);
        Meso__V1__ReplayReply *rr = meso__v1__replay_reply__unpack (NULL, len, body);
        assert_non_null (rr);
        assert_true (rr->n_events > 0);
        for (size_t i = 0; i < rr->n_events; i++)
            assert_int_equal (rr->events[i]->stream_seq, ++cursor);
        meso__v1__replay_reply__free_unpacked (rr, NULL);
        meso_result_reset (&r);
        pages++;
    }
    assert_int_equal (pages, 3);
    assert_int_equal (mt_stop (pid, SIGTERM), 0);
}

static void
test_log_is_pruned_after_retention (void **state)
{
    char conninfo[512], router[256], pub[256];
    s_place ("events_prune", conninfo, router, pub);
    pid_t pid = s_start (conninfo, router, pub, "--retention-s=1");
    s_emit_n (conninfo, 5);
    s_wait_head (router, 5, 5000);
    /* Pruning runs at least once per retention period. */
    meso_result_t r = { 0 };
    int rc = 0;
    int64_t t0 = meso_time_mono_ms ();
    while (meso_time_mono_ms () - t0 < 8000) {
        rc = s_replay (router, "stock", 0, 10, &r);
        if (rc != 0)
            break;
        meso_result_reset (&r);
        mt_sleep_ms (200);
    }
    assert_int_equal (rc, -1);
    assert_int_equal (r.status, MESO_FAILED_PRECONDITION);
    assert_non_null (strstr (r.reply->message, "pruned"));
    meso_result_reset (&r);
    /* The head survives pruning: numbering goes on from 6. */
    s_emit_n (conninfo, 1);
    assert_int_equal (s_wait_head (router, 6, 5000), 6);
    assert_int_equal (mt_stop (pid, SIGTERM), 0);
}

/* A prune of more than one batch (10,000) goes on batch after batch, not
 * one batch a minute: 25,000 events recorded two days ago are all gone
 * within seconds of the start of a daemon keeping an hour, and numbering
 * goes on after them. */
static void
test_a_long_prune_goes_on_in_batches (void **state)
{
    (void) state;
    char conninfo[512], router[256], pub[256];
    s_place ("events_prune_batches", conninfo, router, pub);
    meso_db_t *db = meso_db_new (conninfo);
    assert_int_equal (meso_db_exec (db,
        "INSERT INTO events.log (global_seq, stream, stream_seq, type, clinic_id, occurred_at,"
        " recorded_at, payload) SELECT g, 'stock', g, 'stock.low', 'clinic-a', now () - interval '2 days',"
        " now () - interval '2 days', '\\x'::bytea FROM generate_series (1, 25000) g", 0, NULL), 0);
    assert_int_equal (meso_db_exec (db, "UPDATE events.stream_head SET seq = 25000 WHERE stream IN ('*', 'stock')",
                                    0, NULL), 0);
    int64_t t0 = meso_time_mono_ms ();
    pid_t pid = s_start (conninfo, router, pub, "--retention-s=3600");
    int64_t left = -1;
    while (meso_time_mono_ms () - t0 < 20000) {
        assert_int_equal (mt_sql_int (db, "SELECT count (*) FROM events.log", NULL, &left), 0);
        if (left == 0)
            break;
        mt_sleep_ms (100);
    }
    print_message ("25000 events pruned %lld ms after the start\n", (long long) (meso_time_mono_ms () - t0));
    assert_int_equal (left, 0);
    s_emit_n (conninfo, 1);
    assert_int_equal (s_wait_head (router, 25001, 5000), 25001);
    meso_result_t r = { 0 };
    assert_int_equal (s_replay (router, "stock", 0, 10, &r), -1);
    assert_int_equal (r.status, MESO_FAILED_PRECONDITION);
    meso_result_reset (&r);
    meso_db_destroy (&db);
    assert_int_equal (mt_stop (pid, SIGTERM), 0);
}

typedef struct {
    uint64_t next;                  /* the stream_seq expected next */
    int wrong;                      /* out of order, duplicate or foreign */
} s_catchup_t;

static int
s_on_catchup (const Meso__V1__Event *ev, const uint8_t *raw, size_t len, void *arg)
{
    s_catchup_t *c = arg;
    if (ev->stream_seq != c->next || strcmp (ev->type, "stock.low") != 0
        || ev->stock_low->available_milli != (int64_t) (c->next - 1) % 500)
        c->wrong++;
    c->next = ev->stream_seq + 1;
    return 0;
}

static void
test_late_subscriber_catches_up_on_ten_thousand_events (void **state)
{
    char conninfo[512], router[256], pub[256];
    s_place ("events_catchup", conninfo, router, pub);
    pid_t pid = s_start (conninfo, router, pub, NULL);
    for (int i = 0; i < 20; i++)
        s_emit_n (conninfo, 500);   /* available_milli = 0..499 per batch */
    assert_int_equal (s_wait_head (router, 10000, 20000), 10000);

    /* Only now does the subscriber start, from sequence 0. */
    s_catchup_t c = { 1, 0 };
    meso_subscriber_t *sub = meso_subscriber_new (router, pub, "late", s_on_catchup, &c);
    assert_non_null (sub);
    assert_int_equal (meso_subscriber_follow (sub, "stock", 0), 0);
    int64_t t0 = meso_time_mono_ms ();
    while (meso_subscriber_cursor (sub, "stock") < 10000 && meso_time_mono_ms () - t0 < 30000)
        meso_subscriber_poll (sub, 100);
    print_message ("caught up on 10000 events in %lld ms\n", (long long) (meso_time_mono_ms () - t0));
    assert_int_equal (meso_subscriber_cursor (sub, "stock"), 10000);
    assert_int_equal (c.next, 10001);
    assert_int_equal (c.wrong, 0);
    /* And it goes on live from there. */
    s_emit_n (conninfo, 1);
    t0 = meso_time_mono_ms ();
    while (meso_subscriber_cursor (sub, "stock") < 10001 && meso_time_mono_ms () - t0 < 5000)
        meso_subscriber_poll (sub, 100);
    assert_int_equal (meso_subscriber_cursor (sub, "stock"), 10001);
    assert_int_equal (c.wrong, 0);
    meso_subscriber_destroy (&sub);
    assert_int_equal (mt_stop (pid, SIGTERM), 0);
}

/* A backlog (an outage of the relay, a burst) is relayed at the same rate
 * as a trickle. The daemon first looks at an outbox known to be empty, so
 * its relay statement has run on it several times (a plan kept from then
 * took the backlog for one row and joined it to each batch row by row:
 * minutes for 30,000 events); then 30,000 arrive in one transaction and
 * must all be in the log, numbered without gaps, well within a minute
 * (half a second here). */
static void
test_a_backlog_drains_as_fast_as_a_trickle (void **state)
{
    (void) state;
    char conninfo[512], router[256], pub[256];
    s_place ("events_backlog", conninfo, router, pub);
    /* An outbox known to be empty, as after autovacuum (or a restore's
     * VACUUM ANALYZE) on a quiet evening. */
    meso_db_t *db = meso_db_new (conninfo);
    assert_int_equal (meso_db_exec (db, "VACUUM (ANALYZE) events.outbox", 0, NULL), 0);
    pid_t pid = s_start (conninfo, router, pub, NULL);
    /* The relay looks at it every RELAY_POLL_MS (100 ms): let it do so more
     * than the five times after which PostgreSQL may keep a plan. */
    mt_sleep_ms (1500);
    s_emit_n (conninfo, 30000);
    int64_t t0 = meso_time_mono_ms ();
    uint64_t head = s_wait_head (router, 30000, 60000);
    print_message ("30000 events relayed in %lld ms\n", (long long) (meso_time_mono_ms () - t0));
    assert_int_equal (head, 30000);
    int64_t left = -1, n = -1, last = -1;
    assert_int_equal (mt_sql_int (db, "SELECT count (*) FROM events.outbox", NULL, &left), 0);
    assert_int_equal (left, 0);
    mt_sql_int (db, "SELECT count (*) FROM events.log WHERE stream = 'stock'", NULL, &n);
    mt_sql_int (db, "SELECT max (stream_seq) FROM events.log WHERE stream = 'stock'", NULL, &last);
    assert_int_equal (n, 30000);
    assert_int_equal (last, 30000);
    meso_db_destroy (&db);
    assert_int_equal (mt_stop (pid, SIGTERM), 0);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_standby_takes_over_when_the_writer_dies),
        cmocka_unit_test (test_malformed_replays_get_clear_errors),
        cmocka_unit_test (test_replay_pages_are_contiguous),
        cmocka_unit_test (test_log_is_pruned_after_retention),
        cmocka_unit_test (test_a_long_prune_goes_on_in_batches),
        cmocka_unit_test (test_late_subscriber_catches_up_on_ten_thousand_events),
        cmocka_unit_test (test_a_backlog_drains_as_fast_as_a_trickle),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
