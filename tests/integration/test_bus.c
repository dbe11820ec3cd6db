/* test_bus.c -- the request/reply bus against a real meso-demo daemon and a
 * real PostgreSQL database: bad input gets the right answer and does not
 * hurt the daemon, retries across a daemon crash make an effect happen
 * exactly once, serialization failures are retried, and a client given two
 * endpoints survives losing one. */
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "harness.h"
#include "meso/bus.h"
#include "meso/db.h"
#include "meso/version.h"
#include "demo.pb-c.h"

#define DEMO "bin/meso-demo"

static char s_conninfo [512];
static char s_endpoint [256];
static pid_t s_daemon = -1;

static pid_t
s_spawn_demo (const char *endpoint)
{
    const char *argv [] = { "meso-demo", "--db", s_conninfo, "--bind", endpoint, NULL };
    pid_t pid = mt_spawn (DEMO, argv, NULL);
    if (pid < 0)
        return -1;
    if (mt_wait_healthy (endpoint, 15000) != 0) {
        mt_stop (pid, SIGKILL);
        return -1;
    }
    return pid;
}

static int
s_setup (void **state)
{
    if (mt_db_create ("meso_test_bus", s_conninfo, sizeof s_conninfo) != 0)
        return -1;
    mt_ipc_endpoint ("demo", s_endpoint, sizeof s_endpoint);
    s_daemon = s_spawn_demo (s_endpoint);
    return s_daemon > 0 ? 0 : -1;
}

static int
s_teardown (void **state)
{
    if (s_daemon > 0) {
        /* A clean SIGTERM shutdown is part of the contract. */
        int status = mt_stop (s_daemon, SIGTERM);
        s_daemon = -1;
        if (status != 0) {
            fprintf (stderr, "meso-demo exited with status %d on SIGTERM\n", status);
            return -1;
        }
    }
    return 0;
}

static meso_bus_client_t *
s_client (const char *endpoints)
{
    meso_bus_client_t *client = mt_client (endpoints);
    assert_non_null (client);
    return client;
}

/* Calls demo.Echo and checks the payload comes back. */
static void
s_assert_echo (meso_bus_client_t *client, const char *text)
{
    Meso__Test__EchoRequest in = MESO__TEST__ECHO_REQUEST__INIT;
    in.payload.data = (uint8_t *) text;
    in.payload.len = strlen (text);
    meso_result_t r = { 0 };
    int rc = meso_bus_client_call (client, "demo.Echo", &in.base, NULL, 5000, &r);
    if (rc != 0)
        fail_msg ("demo.Echo: %s %s", meso_status_name (r.status), r.message);
    size_t len;
    const uint8_t *body = meso_result_body (&r, &len);
    Meso__Test__EchoReply *out = meso__test__echo_reply__unpack (NULL, len, body);
    assert_non_null (out);
    assert_int_equal (out->payload.len, strlen (text));
    assert_memory_equal (out->payload.data, text, strlen (text));
    meso__test__echo_reply__free_unpacked (out, NULL);
    meso_result_reset (&r);
}

/* demo.Get: the counter's value (-1 when it does not exist). */
static int64_t
s_get (meso_bus_client_t *client, const char *name)
{
    Meso__Test__GetRequest in = MESO__TEST__GET_REQUEST__INIT;
    in.name = (char *) name;
    meso_result_t r = { 0 };
    if (meso_bus_client_call (client, "demo.Get", &in.base, NULL, 5000, &r) != 0)
        fail_msg ("demo.Get: %s %s", meso_status_name (r.status), r.message);
    size_t len;
    const uint8_t *body = meso_result_body (&r, &len);
    Meso__Test__GetReply *out = meso__test__get_reply__unpack (NULL, len, body);
    assert_non_null (out);
    int64_t value = out->found ? out->value : -1;
    meso__test__get_reply__free_unpacked (out, NULL);
    meso_result_reset (&r);
    return value;
}

/* A raw DEALER, to send what the client library never would. */
static zsock_t *
s_raw (const char *endpoint)
{
    zsock_t *raw = mt_dealer (endpoint);
    assert_non_null (raw);
    zsock_set_rcvtimeo (raw, 5000);
    zsock_set_linger (raw, 0);
    assert_int_equal (zsock_connect (raw, "%s", endpoint), 0);
    return raw;
}

/* Receives [empty][Reply] (or [Reply] when !delimited) on a raw socket. */
static Meso__V1__Reply *
s_raw_reply (zsock_t *raw, bool delimited)
{
    zmsg_t *msg = zmsg_recv (raw);
    assert_non_null (msg);
    assert_int_equal (zmsg_size (msg), delimited ? 2 : 1);
    if (delimited) {
        zframe_t *empty = zmsg_pop (msg);
        assert_int_equal (zframe_size (empty), 0);
        zframe_destroy (&empty);
    }
    zframe_t *frame = zmsg_pop (msg);
    Meso__V1__Reply *reply = meso__v1__reply__unpack (NULL, zframe_size (frame),
                                                      zframe_data (frame));
    assert_non_null (reply);
    zframe_destroy (&frame);
    zmsg_destroy (&msg);
    return reply;
}

static uint8_t *
s_pack_request (const char *id, const char *method, const uint8_t *body, size_t body_len,
                size_t *len)
{
    Meso__V1__Request req = MESO__V1__REQUEST__INIT;
    req.request_id = (char *) id;
    req.method = (char *) method;
    req.body.data = (uint8_t *) body;
    req.body.len = body_len;
    *len = meso__v1__request__get_packed_size (&req);
    uint8_t *buf = malloc (*len);
    assert_non_null (buf);
    meso__v1__request__pack (&req, buf);
    return buf;
}

/* ------------------------------------------------------------- (a) */

static void
test_garbage_gets_invalid_argument (void **state)
{
    zsock_t *raw = s_raw (s_endpoint);
    /* Bytes that are not a Request. */
    assert_int_equal (zsock_send (raw, "zs", "\xff\xff\xff garbage"), 0);
    Meso__V1__Reply *reply = s_raw_reply (raw, true);
    assert_int_equal (reply->status, MESO_INVALID_ARGUMENT);
    assert_non_null (strstr (reply->message, "not a packed meso.v1.Request"));
    meso__v1__reply__free_unpacked (reply, NULL);

    /* More frames than one request: answered too, in the same shape. */
    assert_int_equal (zsock_send (raw, "zsss", "a", "b", "c"), 0);
    reply = s_raw_reply (raw, true);
    assert_int_equal (reply->status, MESO_INVALID_ARGUMENT);
    assert_non_null (strstr (reply->message, "got 3 frames"));
    meso__v1__reply__free_unpacked (reply, NULL);

    /* A valid request without the delimiter gets a reply without one. */
    size_t len;
    uint8_t *buf = s_pack_request ("nodelim-1", "Health", NULL, 0, &len);
    zframe_t *frame = zframe_new (buf, len);
    assert_int_equal (zframe_send (&frame, raw, 0), 0);
    free (buf);
    reply = s_raw_reply (raw, false);
    assert_int_equal (reply->status, MESO_OK);
    assert_string_equal (reply->request_id, "nodelim-1");
    meso__v1__reply__free_unpacked (reply, NULL);

    /* A request without a method names the field. */
    buf = s_pack_request ("nomethod-1", "", NULL, 0, &len);
    zmsg_t *msg = zmsg_new ();
    zmsg_addmem (msg, "", 0);
    zmsg_addmem (msg, buf, len);
    assert_int_equal (zmsg_send (&msg, raw), 0);
    free (buf);
    reply = s_raw_reply (raw, true);
    assert_int_equal (reply->status, MESO_INVALID_ARGUMENT);
    assert_string_equal (reply->request_id, "nomethod-1");
    assert_int_equal (reply->n_reasons, 1);
    assert_string_equal (reply->reasons [0]->field, "method");
    meso__v1__reply__free_unpacked (reply, NULL);
    zsock_destroy (&raw);

    /* And the daemon still serves. */
    meso_bus_client_t *client = s_client (s_endpoint);
    s_assert_echo (client, "still alive after garbage");
    meso_bus_client_destroy (&client);
}

/* ------------------------------------------------------------- (b) */

static void
test_oversize_gets_resource_exhausted (void **state)
{
    size_t body_len = 2 * 1024 * 1024;
    uint8_t *body = calloc (1, body_len);
    assert_non_null (body);
    size_t len;
    uint8_t *buf = s_pack_request ("big-1", "demo.Echo", body, body_len, &len);
    free (body);
    zsock_t *raw = s_raw (s_endpoint);
    zmsg_t *msg = zmsg_new ();
    zmsg_addmem (msg, "", 0);
    zmsg_addmem (msg, buf, len);
    assert_int_equal (zmsg_send (&msg, raw), 0);
    free (buf);
    Meso__V1__Reply *reply = s_raw_reply (raw, true);
    assert_int_equal (reply->status, MESO_RESOURCE_EXHAUSTED);
    /* Not decoded, but its request id was read to answer it. */
    assert_string_equal (reply->request_id, "big-1");
    char want [128];
    snprintf (want, sizeof want, "request of %zu bytes exceeds the 1048576-byte limit", len);
    assert_string_equal (reply->message, want);
    meso__v1__reply__free_unpacked (reply, NULL);
    zsock_destroy (&raw);

    meso_bus_client_t *client = s_client (s_endpoint);
    s_assert_echo (client, "still alive after 2 MiB");
    meso_bus_client_destroy (&client);
}

/* ------------------------------------------------------------- (c) (d) */

static void
test_unknown_method_and_missing_key (void **state)
{
    meso_bus_client_t *client = s_client (s_endpoint);
    meso_result_t r = { 0 };
    assert_int_equal (meso_bus_client_call (client, "demo.Nope", NULL, NULL, 5000, &r), -1);
    assert_int_equal (r.status, MESO_NOT_FOUND);
    assert_non_null (strstr (r.message, "unknown method \"demo.Nope\""));
    assert_non_null (strstr (r.message, "demo.Echo"));
    assert_non_null (strstr (r.message, "demo.Increment"));
    meso_result_reset (&r);

    Meso__Test__IncrementRequest in = MESO__TEST__INCREMENT_REQUEST__INIT;
    in.name = "nokey";
    in.by = 5;
    assert_int_equal (meso_bus_client_call (client, "demo.Increment", &in.base, NULL, 5000, &r), -1);
    assert_int_equal (r.status, MESO_INVALID_ARGUMENT);
    assert_non_null (r.reply);
    assert_int_equal (r.reply->n_reasons, 1);
    assert_string_equal (r.reply->reasons [0]->field, "idempotency_key");
    assert_non_null (strstr (r.message, "idempotency_key"));
    meso_result_reset (&r);
    /* Refused means nothing happened. */
    assert_int_equal (s_get (client, "nokey"), -1);

    /* With a key it works, and the same key again replays, not re-adds. */
    assert_int_equal (meso_bus_client_call (client, "demo.Increment", &in.base, "k-nokey", 5000, &r), 0);
    assert_false (r.reply->replayed);
    meso_result_reset (&r);
    assert_int_equal (meso_bus_client_call (client, "demo.Increment", &in.base, "k-nokey", 5000, &r), 0);
    assert_true (r.reply->replayed);
    meso_result_reset (&r);
    assert_int_equal (s_get (client, "nokey"), 5);
    /* The same key with another request is refused. */
    in.by = 6;
    assert_int_equal (meso_bus_client_call (client, "demo.Increment", &in.base, "k-nokey", 5000, &r), -1);
    assert_int_equal (r.status, MESO_FAILED_PRECONDITION);
    meso_result_reset (&r);
    assert_int_equal (s_get (client, "nokey"), 5);
    meso_bus_client_destroy (&client);
}

/* ------------------------------------------------------------- (e) */

static void
test_health (void **state)
{
    meso_bus_client_t *client = s_client (s_endpoint);
    const char *methods [] = { "Health", "demo.Health" };
    for (int i = 0; i < 2; i++) {
        meso_result_t r = { 0 };
        assert_int_equal (meso_bus_client_call (client, methods [i], NULL, NULL, 5000, &r), 0);
        size_t len;
        const uint8_t *body = meso_result_body (&r, &len);
        Meso__V1__HealthReply *h = meso__v1__health_reply__unpack (NULL, len, body);
        assert_non_null (h);
        assert_string_equal (h->service, "demo");
        assert_string_equal (h->version, MESO_VERSION);
        assert_true (h->db_ok);
        assert_string_equal (h->db_error, "");
        assert_string_equal (meso_enum_str (&meso__v1__health_state__descriptor, (int) h->state), "ok");
        /* The daemon's own hook ran. */
        assert_int_equal (h->n_notes, 1);
        assert_non_null (strstr (h->notes [0], "served="));
        meso__v1__health_reply__free_unpacked (h, NULL);
        meso_result_reset (&r);
    }
    meso_bus_client_destroy (&client);
}

/* ------------------------------------------------------------- (f) */

typedef struct {
    const char *endpoint;
    const char *name;
    const char *key;
    uint32_t before_ms;
    uint32_t after_ms;
    int rc;
    meso_result_t result;
    int64_t value;
} s_call_t;

static void *
s_increment_thread (void *arg)
{
    s_call_t *call = arg;
    meso_bus_client_t *client = s_client (call->endpoint);
    meso_bus_client_set_attempt_timeout (client, 500);
    Meso__Test__IncrementRequest in = MESO__TEST__INCREMENT_REQUEST__INIT;
    in.name = (char *) call->name;
    in.by = 7;
    in.sleep_before_commit_ms = call->before_ms;
    in.sleep_after_commit_ms = call->after_ms;
    call->rc = meso_bus_client_call (client, "demo.Increment", &in.base, call->key, 10000,
                                     &call->result);
    if (call->rc == 0) {
        size_t len;
        const uint8_t *body = meso_result_body (&call->result, &len);
        Meso__Test__IncrementReply *out = meso__test__increment_reply__unpack (NULL, len, body);
        call->value = out ? out->value : -1;
        if (out)
            meso__test__increment_reply__free_unpacked (out, NULL);
    }
    meso_bus_client_destroy (&client);
    return NULL;
}

/* Polls the database until sql returns a non-zero count (or 10 s pass). */
static void
s_wait_for (meso_db_t *db, const char *sql, const char *param)
{
    const char *params [] = { param };
    for (int i = 0; i < 1000; i++) {
        PGresult *res = meso_db_query (db, sql, param ? 1 : 0, param ? params : NULL);
        assert_non_null (res);
        long n = strtol (PQgetvalue (res, 0, 0), NULL, 10);
        PQclear (res);
        if (n > 0)
            return;
        mt_sleep_ms (10);
    }
    fail_msg ("timed out waiting for: %s", sql);
}

static void
s_restart_mid_call (bool after_commit)
{
    char endpoint [256];
    mt_ipc_endpoint ("restart", endpoint, sizeof endpoint);
    pid_t pid = s_spawn_demo (endpoint);
    assert_true (pid > 0);
    meso_db_t *db = meso_db_new (s_conninfo);
    assert_non_null (db);

    const char *name = after_commit ? "restart-after" : "restart-before";
    s_call_t call = {
        .endpoint = endpoint, .name = name,
        .key = after_commit ? "k-restart-after" : "k-restart-before",
        .before_ms = after_commit ? 0 : 1500,
        .after_ms = after_commit ? 3000 : 0,
    };
    pthread_t thread;
    assert_int_equal (pthread_create (&thread, NULL, s_increment_thread, &call), 0);

    if (after_commit)
        /* Committed: the counter exists; the daemon now sleeps before replying. */
        s_wait_for (db, "SELECT count(*) FROM demo.counter WHERE name = $1", name);
    else
        /* Inside the transaction, sleeping before COMMIT. */
        s_wait_for (db, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                        " AND state = 'idle in transaction'", NULL);
    assert_int_equal (mt_stop (pid, SIGKILL) != -1, 1);
    /* Same endpoint, new process: the client's retry lands here. */
    pid = s_spawn_demo (endpoint);
    assert_true (pid > 0);

    pthread_join (thread, NULL);
    if (call.rc != 0)
        fail_msg ("Increment across a restart: %s %s", meso_status_name (call.result.status),
                  call.result.message);
    assert_non_null (call.result.reply);
    /* After COMMIT the retry finds the stored reply; before COMMIT nothing
     * was stored, so the retry really ran. */
    assert_int_equal (call.result.reply->replayed, after_commit);
    assert_int_equal (call.value, 7);
    meso_result_reset (&call.result);

    meso_bus_client_t *client = s_client (endpoint);
    assert_int_equal (s_get (client, name), 7);         /* exactly once */
    meso_bus_client_destroy (&client);
    meso_db_destroy (&db);
    assert_int_equal (mt_stop (pid, SIGTERM), 0);
}

static void
test_restart_after_commit (void **state)
{
    s_restart_mid_call (true);
}

static void
test_restart_before_commit (void **state)
{
    s_restart_mid_call (false);
}

/* ------------------------------------------------------------- (g) */

static void
test_conflict_is_retried (void **state)
{
    meso_bus_client_t *client = s_client (s_endpoint);
    Meso__Test__ConflictRequest in = MESO__TEST__CONFLICT_REQUEST__INIT;
    in.name = "conflict";
    in.interference = 1000;
    meso_result_t r = { 0 };
    int rc = meso_bus_client_call (client, "demo.Conflict", &in.base, "k-conflict", 10000, &r);
    if (rc != 0)
        fail_msg ("demo.Conflict: %s %s", meso_status_name (r.status), r.message);
    size_t len;
    const uint8_t *body = meso_result_body (&r, &len);
    Meso__Test__ConflictReply *out = meso__test__conflict_reply__unpack (NULL, len, body);
    assert_non_null (out);
    assert_int_equal (out->attempts, 2);
    /* The interfering write and exactly one +1 from the committed attempt. */
    assert_int_equal (out->value, 1001);
    meso__test__conflict_reply__free_unpacked (out, NULL);
    meso_result_reset (&r);
    assert_int_equal (s_get (client, "conflict"), 1001);
    meso_bus_client_destroy (&client);
}

/* ------------------------------------------------------------- (h) */

static void
test_two_endpoints_survive_one_loss (void **state)
{
    char ep1 [64], ep2 [64], both [160];
    snprintf (ep1, sizeof ep1, "tcp://127.0.0.1:%d", mt_free_port ());
    snprintf (ep2, sizeof ep2, "tcp://127.0.0.1:%d", mt_free_port ());
    snprintf (both, sizeof both, "%s,%s", ep1, ep2);
    pid_t one = s_spawn_demo (ep1);
    assert_true (one > 0);
    pid_t two = s_spawn_demo (ep2);
    assert_true (two > 0);

    meso_bus_client_t *client = s_client (both);
    meso_bus_client_set_attempt_timeout (client, 300);
    /* Let the client connect to both before measuring anything. */
    s_assert_echo (client, "warm");
    Meso__Test__IncrementRequest in = MESO__TEST__INCREMENT_REQUEST__INIT;
    in.name = "spread";
    in.by = 1;
    int ok = 0;
    for (int i = 0; i < 40; i++) {
        if (i == 10)
            assert_int_not_equal (mt_stop (one, SIGKILL), -1);
        char key [32];
        snprintf (key, sizeof key, "k-spread-%d", i);
        meso_result_t r = { 0 };
        if (meso_bus_client_call (client, "demo.Increment", &in.base, key, 5000, &r) == 0)
            ok++;
        else
            print_error ("call %d: %s %s\n", i, meso_status_name (r.status), r.message);
        meso_result_reset (&r);
    }
    assert_int_equal (ok, 40);
    assert_int_equal (s_get (client, "spread"), 40);
    meso_bus_client_destroy (&client);
    assert_int_equal (mt_stop (two, SIGTERM), 0);
}

/* A client with nowhere to send gives up at its deadline with UNAVAILABLE. */
static void
test_no_server_is_unavailable (void **state)
{
    char endpoint [256];
    mt_ipc_endpoint ("nobody", endpoint, sizeof endpoint);
    meso_bus_client_t *client = s_client (endpoint);
    meso_result_t r = { 0 };
    int64_t start = zclock_mono ();
    assert_int_equal (meso_bus_client_call (client, "demo.Echo", NULL, NULL, 300, &r), -1);
    int64_t took = zclock_mono () - start;
    assert_int_equal (r.status, MESO_UNAVAILABLE);
    assert_non_null (strstr (r.message, "demo.Echo"));
    assert_non_null (strstr (r.message, endpoint));
    assert_true (took >= 250 && took < 2000);
    meso_result_reset (&r);
    meso_bus_client_destroy (&client);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_garbage_gets_invalid_argument),
        cmocka_unit_test (test_oversize_gets_resource_exhausted),
        cmocka_unit_test (test_unknown_method_and_missing_key),
        cmocka_unit_test (test_health),
        cmocka_unit_test (test_restart_after_commit),
        cmocka_unit_test (test_restart_before_commit),
        cmocka_unit_test (test_conflict_is_retried),
        cmocka_unit_test (test_two_endpoints_survive_one_loss),
        cmocka_unit_test (test_no_server_is_unavailable),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
