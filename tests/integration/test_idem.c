/* test_idem.c -- the idempotency store against a real PostgreSQL: a retry
 * replays the stored reply without repeating the effect, a reused key with
 * another request is refused, concurrent duplicates run the effect once,
 * and failures are not stored. The "effect" is a counter increment, run
 * exactly as a service handler would (idem.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "meso/db.h"
#include "meso/idem.h"
/* The envelope view of a reply (body, replayed flag) is libmeso-internal;
 * the test reads it to check what a client would receive. */
#include "../../common/src/bus_private.h"

static char s_conninfo[512];

static int
s_group_setup (void **state)
{
    (void) state;
    if (mt_db_create ("mt_idem", s_conninfo, sizeof s_conninfo) != 0)
        return -1;
    meso_db_t *db = meso_db_new (s_conninfo);
    int rc = meso_db_exec (db, "CREATE TABLE public.counter (id int PRIMARY KEY, n int NOT NULL);"
                           , 0, NULL);
    if (rc == 0)
        rc = meso_db_exec (db, "INSERT INTO public.counter VALUES (1, 0)", 0, NULL);
    meso_db_destroy (&db);
    return rc;
}

/* ------------------------------------------------------------ the handler */

typedef struct {
    const Meso__V1__Request *req;
    meso_reply_t *reply;
    const char *schema;
    bool fail;                  /* refuse after doing the effect */
    int hold_ms;                /* sleep inside the transaction after the effect */
    int effects;                /* times the effect ran (including rolled back) */
    int claim_rc;               /* last claim result */
} s_call_t;

static int
s_add_fn (meso_db_t *db, void *arg)
{
    s_call_t *c = arg;
    meso_reply_reset (c->reply);
    c->claim_rc = meso_idem_claim (db, c->schema, c->req, c->reply);
    if (c->claim_rc != 0)
        return c->claim_rc > 0 ? 0 : -1;
    c->effects++;
    PGresult *res = meso_db_query (db, "UPDATE public.counter SET n = n + 1 WHERE id = 1"
                                   " RETURNING n", 0, NULL);
    if (!res) {
        meso_reply_db_error (c->reply, db, "counter");
        return -1;
    }
    char body[32];
    int len = snprintf (body, sizeof body, "n=%s", PQgetvalue (res, 0, 0));
    PQclear (res);
    if (c->hold_ms > 0) {
        char ms[16];
        snprintf (ms, sizeof ms, "%f", c->hold_ms / 1000.0);
        const char *p[] = { ms };
        if (meso_db_exec (db, "SELECT pg_sleep($1::float8)", 1, p) != 0)
            return -1;
    }
    if (c->fail) {
        meso_reply_error (c->reply, MESO_FAILED_PRECONDITION, "refused after the effect");
        return -1;
    }
    meso_reply_ok_bytes (c->reply, (const uint8_t *) body, (size_t) len);
    return meso_idem_store (db, c->schema, c->req, c->reply);
}

static Meso__V1__Request
s_request (const char *method, const char *key, const char *body)
{
    Meso__V1__Request req = MESO__V1__REQUEST__INIT;
    req.request_id = (char *) "req-1";
    req.method = (char *) method;
    req.idempotency_key = (char *) key;
    req.body.data = (uint8_t *) body;
    req.body.len = body ? strlen (body) : 0;
    return req;
}

/* Body of a reply as a string, its status and replayed flag. */
typedef struct {
    int status;
    bool replayed;
    char body[64];
    char message[256];
} s_seen_t;

static s_seen_t
s_see (meso_reply_t *reply)
{
    s_seen_t seen;
    memset (&seen, 0, sizeof seen);
    Meso__V1__Reply env = MESO__V1__REPLY__INIT;
    meso_reply_envelope (reply, &env, NULL);
    seen.status = (int) env.status;
    seen.replayed = env.replayed;
    size_t n = env.body.len < sizeof seen.body - 1 ? env.body.len : sizeof seen.body - 1;
    if (n)
        memcpy (seen.body, env.body.data, n);
    snprintf (seen.message, sizeof seen.message, "%s", env.message ? env.message : "");
    return seen;
}

static int
s_counter (meso_db_t *db)
{
    PGresult *res = meso_db_query (db, "SELECT n FROM public.counter WHERE id = 1", 0, NULL);
    assert_non_null (res);
    int n = atoi (PQgetvalue (res, 0, 0));
    PQclear (res);
    return n;
}

/* The stored row for key: "<method>|<hex reply>" or "" when absent. */
static void
s_stored (meso_db_t *db, const char *key, char *out, size_t size)
{
    const char *p[] = { key };
    PGresult *res = meso_db_query (db, "SELECT method || '|' || coalesce(encode(reply, 'hex'), 'NULL')"
                                   " FROM screening.idempotency WHERE key = $1", 1, p);
    assert_non_null (res);
    snprintf (out, size, "%s", PQntuples (res) ? PQgetvalue (res, 0, 0) : "");
    PQclear (res);
}

/* ------------------------------------------------------------ tests */

static void
test_claim_store_replay (void **state)
{
    (void) state;
    meso_db_t *db = meso_db_new (s_conninfo);
    meso_reply_t *reply = meso_reply_new ();
    int before = s_counter (db);
    Meso__V1__Request req = s_request ("demo.Add", "key-replay", "add one");
    s_call_t c = { .req = &req, .reply = reply, .schema = "screening" };

    assert_int_equal (meso_db_txn (db, MESO_DB_READ_COMMITTED, s_add_fn, &c), 0);
    assert_int_equal (c.claim_rc, 0);
    s_seen_t first = s_see (reply);
    assert_int_equal (first.status, MESO_OK);
    assert_false (first.replayed);
    char expect[32];
    snprintf (expect, sizeof expect, "n=%d", before + 1);
    assert_string_equal (first.body, expect);
    assert_int_equal (s_counter (db), before + 1);

    /* The stored hash is sha256(method || '\0' || body). */
    PGresult *res = meso_db_query (db,
        "SELECT request_hash = sha256(convert_to('demo.Add', 'UTF8') || '\\x00'::bytea"
        " || convert_to('add one', 'UTF8')), reply IS NOT NULL"
        " FROM screening.idempotency WHERE key = 'key-replay'", 0, NULL);
    assert_non_null (res);
    assert_int_equal (PQntuples (res), 1);
    assert_string_equal (PQgetvalue (res, 0, 0), "t");
    assert_string_equal (PQgetvalue (res, 0, 1), "t");
    PQclear (res);

    /* The retry: same reply, marked replayed, no second effect. */
    meso_reply_t *again = meso_reply_new ();
    c.reply = again;
    assert_int_equal (meso_db_txn (db, MESO_DB_READ_COMMITTED, s_add_fn, &c), 0);
    assert_int_equal (c.claim_rc, 1);
    assert_int_equal (c.effects, 1);
    s_seen_t second = s_see (again);
    assert_int_equal (second.status, MESO_OK);
    assert_true (second.replayed);
    assert_string_equal (second.body, first.body);
    assert_int_equal (s_counter (db), before + 1);

    meso_reply_destroy (&again);
    meso_reply_destroy (&reply);
    meso_db_destroy (&db);
}

static void
test_same_key_other_request_refused (void **state)
{
    (void) state;
    meso_db_t *db = meso_db_new (s_conninfo);
    meso_reply_t *reply = meso_reply_new ();
    Meso__V1__Request req = s_request ("demo.Add", "key-reuse", "first body");
    s_call_t c = { .req = &req, .reply = reply, .schema = "screening" };
    assert_int_equal (meso_db_txn (db, MESO_DB_READ_COMMITTED, s_add_fn, &c), 0);
    int after_first = s_counter (db);
    char stored[4096], stored_after[4096];
    s_stored (db, "key-reuse", stored, sizeof stored);
    assert_true (strlen (stored) > 10);

    /* Different body. */
    Meso__V1__Request other = s_request ("demo.Add", "key-reuse", "second body");
    c.req = &other;
    assert_int_equal (meso_db_txn (db, MESO_DB_READ_COMMITTED, s_add_fn, &c), -1);
    assert_int_equal (c.claim_rc, -1);
    s_seen_t seen = s_see (reply);
    assert_int_equal (seen.status, MESO_FAILED_PRECONDITION);
    assert_non_null (strstr (seen.message, "key-reuse"));
    assert_string_equal (seen.body, "");
    /* Different method, same body. */
    Meso__V1__Request other_method = s_request ("demo.Remove", "key-reuse", "first body");
    c.req = &other_method;
    assert_int_equal (meso_db_txn (db, MESO_DB_READ_COMMITTED, s_add_fn, &c), -1);
    assert_int_equal (s_see (reply).status, MESO_FAILED_PRECONDITION);

    /* Nothing changed: no effect, the stored reply is the same. */
    assert_int_equal (c.effects, 1);
    assert_int_equal (s_counter (db), after_first);
    s_stored (db, "key-reuse", stored_after, sizeof stored_after);
    assert_string_equal (stored_after, stored);

    /* The original request still replays. */
    c.req = &req;
    assert_int_equal (meso_db_txn (db, MESO_DB_READ_COMMITTED, s_add_fn, &c), 0);
    assert_int_equal (c.claim_rc, 1);
    assert_true (s_see (reply).replayed);
    meso_reply_destroy (&reply);
    meso_db_destroy (&db);
}

typedef struct {
    pthread_barrier_t *barrier;
    meso_db_isolation_t iso;
    const char *key;
    int rc;
    s_call_t call;
    s_seen_t seen;
    char error[512];
} s_worker_t;

static void *
s_worker (void *arg)
{
    s_worker_t *w = arg;
    meso_db_t *db = meso_db_new (s_conninfo);
    meso_reply_t *reply = meso_reply_new ();
    Meso__V1__Request req = s_request ("demo.Add", w->key, "concurrent");
    w->call = (s_call_t) { .req = &req, .reply = reply, .schema = "screening", .hold_ms = 300 };
    pthread_barrier_wait (w->barrier);
    w->rc = meso_db_txn (db, w->iso, s_add_fn, &w->call);
    snprintf (w->error, sizeof w->error, "%s", meso_db_error (db)->message);
    w->seen = s_see (reply);
    meso_reply_destroy (&reply);
    meso_db_destroy (&db);
    return NULL;
}

static void
s_concurrent (meso_db_isolation_t iso, const char *key)
{
    meso_db_t *db = meso_db_new (s_conninfo);
    int before = s_counter (db);
    pthread_barrier_t barrier;
    pthread_barrier_init (&barrier, NULL, 2);
    s_worker_t w[2];
    pthread_t t[2];
    for (int i = 0; i < 2; i++) {
        memset (&w[i], 0, sizeof w[i]);
        w[i].barrier = &barrier;
        w[i].iso = iso;
        w[i].key = key;
        assert_int_equal (pthread_create (&t[i], NULL, s_worker, &w[i]), 0);
    }
    for (int i = 0; i < 2; i++)
        pthread_join (t[i], NULL);
    pthread_barrier_destroy (&barrier);

    for (int i = 0; i < 2; i++)
        if (w[i].rc != 0)
            fail_msg ("worker %d: %s / %s", i, w[i].error, w[i].seen.message);
    /* One effect, committed once; both callers got the same answer. */
    assert_int_equal (s_counter (db), before + 1);
    assert_int_equal (w[0].seen.status, MESO_OK);
    assert_int_equal (w[1].seen.status, MESO_OK);
    assert_string_equal (w[0].seen.body, w[1].seen.body);
    char expect[32];
    snprintf (expect, sizeof expect, "n=%d", before + 1);
    assert_string_equal (w[0].seen.body, expect);
    assert_true (w[0].seen.replayed != w[1].seen.replayed);
    meso_db_destroy (&db);
}

static void
test_concurrent_duplicates_run_once (void **state)
{
    (void) state;
    s_concurrent (MESO_DB_READ_COMMITTED, "key-conc-rc");
    /* Under SERIALIZABLE the waiting claim fails with 40001 and the retry
     * replays. */
    s_concurrent (MESO_DB_SERIALIZABLE, "key-conc-ser");
}

static void
test_error_reply_not_stored (void **state)
{
    (void) state;
    meso_db_t *db = meso_db_new (s_conninfo);
    meso_reply_t *reply = meso_reply_new ();
    int before = s_counter (db);
    Meso__V1__Request req = s_request ("demo.Add", "key-error", "x");
    s_call_t c = { .req = &req, .reply = reply, .schema = "screening", .fail = true };
    assert_int_equal (meso_db_txn (db, MESO_DB_READ_COMMITTED, s_add_fn, &c), -1);
    assert_int_equal (s_see (reply).status, MESO_FAILED_PRECONDITION);
    assert_int_equal (c.effects, 1);
    /* Rolled back: no effect, no key. */
    assert_int_equal (s_counter (db), before);
    char stored[256];
    s_stored (db, "key-error", stored, sizeof stored);
    assert_string_equal (stored, "");

    /* The retry executes for real. */
    c.fail = false;
    assert_int_equal (meso_db_txn (db, MESO_DB_READ_COMMITTED, s_add_fn, &c), 0);
    assert_int_equal (c.claim_rc, 0);
    assert_int_equal (c.effects, 2);
    s_seen_t seen = s_see (reply);
    assert_int_equal (seen.status, MESO_OK);
    assert_false (seen.replayed);
    assert_int_equal (s_counter (db), before + 1);
    meso_reply_destroy (&reply);
    meso_db_destroy (&db);
}

static void
test_no_key_and_bad_schema (void **state)
{
    (void) state;
    meso_db_t *db = meso_db_new (s_conninfo);
    meso_reply_t *reply = meso_reply_new ();
    int before = s_counter (db);
    PGresult *res = meso_db_query (db, "SELECT count(*) FROM screening.idempotency", 0, NULL);
    assert_non_null (res);
    int rows = atoi (PQgetvalue (res, 0, 0));
    PQclear (res);

    /* Without a key nothing is recorded and every call runs. */
    Meso__V1__Request req = s_request ("demo.Add", "", "x");
    s_call_t c = { .req = &req, .reply = reply, .schema = "screening" };
    assert_int_equal (meso_db_txn (db, MESO_DB_READ_COMMITTED, s_add_fn, &c), 0);
    assert_int_equal (meso_db_txn (db, MESO_DB_READ_COMMITTED, s_add_fn, &c), 0);
    assert_int_equal (c.effects, 2);
    assert_false (s_see (reply).replayed);
    assert_int_equal (s_counter (db), before + 2);
    res = meso_db_query (db, "SELECT count(*) FROM screening.idempotency", 0, NULL);
    assert_non_null (res);
    assert_int_equal (atoi (PQgetvalue (res, 0, 0)), rows);
    PQclear (res);

    /* A schema name that is not a plain identifier is refused, not run. */
    Meso__V1__Request keyed = s_request ("demo.Add", "key-schema", "x");
    c = (s_call_t) { .req = &keyed, .reply = reply, .schema = "screening; DROP TABLE x" };
    assert_int_equal (meso_db_txn (db, MESO_DB_READ_COMMITTED, s_add_fn, &c), -1);
    assert_int_equal (s_see (reply).status, MESO_INTERNAL);
    assert_int_equal (c.effects, 0);
    /* A schema without an idempotency table: the database error, mapped. */
    c = (s_call_t) { .req = &keyed, .reply = reply, .schema = "public" };
    assert_int_equal (meso_db_txn (db, MESO_DB_READ_COMMITTED, s_add_fn, &c), -1);
    assert_int_equal (s_see (reply).status, MESO_INTERNAL);
    assert_string_equal (meso_db_error (db)->sqlstate, "42P01");
    assert_int_equal (s_counter (db), before + 2);
    meso_reply_destroy (&reply);
    meso_db_destroy (&db);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_claim_store_replay),
        cmocka_unit_test (test_same_key_other_request_refused),
        cmocka_unit_test (test_concurrent_duplicates_run_once),
        cmocka_unit_test (test_error_reply_not_stored),
        cmocka_unit_test (test_no_key_and_bad_schema),
    };
    return cmocka_run_group_tests (tests, s_group_setup, NULL);
}
