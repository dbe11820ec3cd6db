/* test_db_pipeline.c -- meso_db_pipeline against a real PostgreSQL: the
 * results of several statements sent at once are those of the statements
 * run one by one, in order; a failing statement fails the whole pipeline
 * with its own SQLSTATE and leaves the handle usable; inside a
 * transaction the statements are the transaction's; a statement cached
 * before DISCARD ALL still runs; and the cache is reused (one PREPARE per
 * statement, not per call). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "meso/db.h"

static char s_conninfo[512];

static int
s_group_setup (void **state)
{
    (void) state;
    return mt_db_create ("mt_dbpipe", s_conninfo, sizeof s_conninfo);
}

static meso_db_t *
s_connect (void)
{
    meso_db_t *db = meso_db_new (s_conninfo);
    assert_non_null (db);
    if (!meso_db_ok (db))
        fail_msg ("connect: %s", meso_db_error (db)->message);
    if (meso_db_exec (db, "CREATE TABLE IF NOT EXISTS pipe_t (k int PRIMARY KEY, v text)", 0, NULL) != 0
        || meso_db_exec (db, "TRUNCATE pipe_t", 0, NULL) != 0
        || meso_db_exec (db, "INSERT INTO pipe_t VALUES (1, 'one'), (2, 'two'), (3, 'three')", 0, NULL) != 0)
        fail_msg ("setup: %s", meso_db_error (db)->message);
    return db;
}

static const char *const s_k1[] = { "1" };
static const char *const s_k3[] = { "3" };

static void
test_results_in_order (void **state)
{
    (void) state;
    meso_db_t *db = s_connect ();
    const meso_db_stmt_t st[] = {
        { "SELECT v FROM pipe_t WHERE k = $1::int", 1, s_k1 },
        { "SELECT count(*) FROM pipe_t", 0, NULL },
        { "SELECT v FROM pipe_t WHERE k = $1::int", 1, s_k3 },
        { "SELECT v FROM pipe_t WHERE k = 99", 0, NULL },
    };
    PGresult *out[4];
    int before = (int) meso_db_prepared (db);          /* the set-up's */
    for (int round = 0; round < 3; round++) {
        if (meso_db_pipeline (db, 4, st, out) != 0)
            fail_msg ("pipeline: %s", meso_db_error (db)->message);
        assert_string_equal (PQgetvalue (out[0], 0, 0), "one");
        assert_string_equal (PQgetvalue (out[1], 0, 0), "3");
        assert_string_equal (PQgetvalue (out[2], 0, 0), "three");
        assert_int_equal (PQntuples (out[3]), 0);
        for (int i = 0; i < 4; i++)
            PQclear (out[i]);
    }
    /* Three distinct statements, each prepared once over three rounds. */
    assert_int_equal ((int) meso_db_prepared (db), before + 3);
    /* The pipeline and a plain query share the cache. */
    PGresult *res = meso_db_query (db, "SELECT count(*) FROM pipe_t", 0, NULL);
    assert_non_null (res);
    PQclear (res);
    assert_int_equal ((int) meso_db_prepared (db), before + 3);
    meso_db_destroy (&db);
}

static void
test_failure_fails_all_and_recovers (void **state)
{
    (void) state;
    meso_db_t *db = s_connect ();
    const meso_db_stmt_t st[] = {
        { "SELECT v FROM pipe_t WHERE k = $1::int", 1, s_k1 },
        { "SELECT 1 / 0", 0, NULL },
        { "SELECT v FROM pipe_t WHERE k = $1::int", 1, s_k3 },
    };
    PGresult *out[3];
    assert_int_equal (meso_db_pipeline (db, 3, st, out), -1);
    assert_string_equal (meso_db_error (db)->sqlstate, "22012");
    for (int i = 0; i < 3; i++)
        assert_null (out[i]);
    /* The handle is in step with the server: the next pipeline works. */
    const meso_db_stmt_t ok[] = {
        { "SELECT v FROM pipe_t WHERE k = $1::int", 1, s_k3 },
        { "SELECT 1 / 0", 0, NULL },
    };
    assert_int_equal (meso_db_pipeline (db, 1, ok, out), 0);
    assert_string_equal (PQgetvalue (out[0], 0, 0), "three");
    PQclear (out[0]);
    assert_string_equal (meso_db_error (db)->sqlstate, "");
    /* The failed statement was prepared (its PREPARE ran) and fails again
     * by name, the same way. */
    assert_int_equal (meso_db_pipeline (db, 2, ok, out), -1);
    assert_string_equal (meso_db_error (db)->sqlstate, "22012");
    meso_db_destroy (&db);
}

typedef struct {
    int seen;
} s_txn_t;

static int
s_txn (meso_db_t *db, void *arg)
{
    s_txn_t *t = arg;
    if (meso_db_exec (db, "UPDATE pipe_t SET v = 'uno' WHERE k = 1", 0, NULL) != 0)
        return -1;
    const meso_db_stmt_t st[] = {
        { "SELECT v FROM pipe_t WHERE k = $1::int", 1, s_k1 },
        { "INSERT INTO pipe_t VALUES (4, 'four') RETURNING k", 0, NULL },
    };
    PGresult *out[2];
    if (meso_db_pipeline (db, 2, st, out) != 0)
        return -1;
    t->seen = strcmp (PQgetvalue (out[0], 0, 0), "uno") == 0 && PQntuples (out[1]) == 1;
    PQclear (out[0]);
    PQclear (out[1]);
    return -1;          /* roll back: nothing of it may stay */
}

static void
test_inside_a_transaction (void **state)
{
    (void) state;
    meso_db_t *db = s_connect ();
    s_txn_t t = { 0 };
    assert_int_equal (meso_db_txn (db, MESO_DB_READ_COMMITTED, s_txn, &t), -1);
    assert_int_equal (t.seen, 1);       /* saw the transaction's own update */
    PGresult *res = meso_db_query (db, "SELECT v FROM pipe_t WHERE k = 1", 0, NULL);
    assert_non_null (res);
    assert_string_equal (PQgetvalue (res, 0, 0), "one");
    PQclear (res);
    res = meso_db_query (db, "SELECT count(*) FROM pipe_t", 0, NULL);
    assert_string_equal (PQgetvalue (res, 0, 0), "3");
    PQclear (res);
    meso_db_destroy (&db);
}

static void
test_after_discard_all (void **state)
{
    (void) state;
    meso_db_t *db = s_connect ();
    const meso_db_stmt_t st[] = {
        { "SELECT v FROM pipe_t WHERE k = $1::int", 1, s_k1 },
        { "SELECT v FROM pipe_t WHERE k = $1::int", 1, s_k3 },
    };
    PGresult *out[2];
    assert_int_equal (meso_db_pipeline (db, 2, st, out), 0);
    PQclear (out[0]);
    PQclear (out[1]);
    /* A pooler's DISCARD ALL drops the session's statements. */
    assert_int_equal (meso_db_exec (db, "DISCARD ALL", 0, NULL), 0);
    if (meso_db_pipeline (db, 2, st, out) != 0)
        fail_msg ("pipeline after DISCARD ALL: %s", meso_db_error (db)->message);
    assert_string_equal (PQgetvalue (out[0], 0, 0), "one");
    assert_string_equal (PQgetvalue (out[1], 0, 0), "three");
    PQclear (out[0]);
    PQclear (out[1]);
    meso_db_destroy (&db);
}

static void
test_cache_off (void **state)
{
    (void) state;
    meso_db_t *db = s_connect ();
    meso_db_set_prepare (db, false);
    int before = (int) meso_db_prepared (db);          /* the set-up's */
    const meso_db_stmt_t st[] = {
        { "SELECT v FROM pipe_t WHERE k = $1::int", 1, s_k3 },
        { "SELECT count(*) FROM pipe_t", 0, NULL },
    };
    PGresult *out[2];
    assert_int_equal (meso_db_pipeline (db, 2, st, out), 0);
    assert_string_equal (PQgetvalue (out[0], 0, 0), "three");
    assert_string_equal (PQgetvalue (out[1], 0, 0), "3");
    PQclear (out[0]);
    PQclear (out[1]);
    assert_int_equal ((int) meso_db_prepared (db), before);
    meso_db_destroy (&db);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_results_in_order),
        cmocka_unit_test (test_failure_fails_all_and_recovers),
        cmocka_unit_test (test_inside_a_transaction),
        cmocka_unit_test (test_after_discard_all),
        cmocka_unit_test (test_cache_off),
    };
    return cmocka_run_group_tests (tests, s_group_setup, NULL);
}
