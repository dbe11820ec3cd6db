/* test_db.c -- the db layer against a real PostgreSQL: parameters, errors
 * with their SQLSTATE, transaction retries on real serialization failures,
 * roll-back, and connection loss. */
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
#include "meso/status.h"

static char s_conninfo[512];

static int
s_group_setup (void **state)
{
    (void) state;
    return mt_db_create ("mt_db", s_conninfo, sizeof s_conninfo);
}

static meso_db_t *
s_connect (void)
{
    meso_db_t *db = meso_db_new (s_conninfo);
    assert_non_null (db);
    if (!meso_db_ok (db))
        fail_msg ("connect: %s", meso_db_error (db)->message);
    return db;
}

static void
s_exec_ok (meso_db_t *db, const char *sql)
{
    if (meso_db_exec (db, sql, 0, NULL) != 0)
        fail_msg ("%s: %s [%s]", sql, meso_db_error (db)->message, meso_db_error (db)->sqlstate);
}

static int
s_int (meso_db_t *db, const char *sql)
{
    PGresult *res = meso_db_query (db, sql, 0, NULL);
    if (!res)
        fail_msg ("%s: %s", sql, meso_db_error (db)->message);
    assert_int_equal (PQntuples (res), 1);
    int v = atoi (PQgetvalue (res, 0, 0));
    PQclear (res);
    return v;
}

/* ------------------------------------------------------------ round trip */

static void
test_params_round_trip (void **state)
{
    (void) state;
    meso_db_t *db = s_connect ();
    s_exec_ok (db, "CREATE TABLE rt (id int PRIMARY KEY, s text, b bytea)");

    /* A value that would break (or inject into) SQL if it were pasted. */
    const char *tricky = "O'Brien \"x\"; DROP TABLE rt; -- $1 \\ é";
    const char *p1[] = { "1", tricky };
    assert_int_equal (meso_db_exec (db, "INSERT INTO rt (id, s) VALUES ($1, $2)", 2, p1), 0);
    assert_string_equal (meso_db_error (db)->sqlstate, "");
    const char *p2[] = { "2", NULL };
    assert_int_equal (meso_db_exec (db, "INSERT INTO rt (id, s) VALUES ($1, $2)", 2, p2), 0);

    /* Binary parameter with a NUL byte inside. */
    const char blob[] = { 'a', '\0', 'b', '\'', (char) 0xff };
    const char *vals[] = { "3", blob };
    int lens[] = { 0, (int) sizeof blob };
    int fmts[] = { 0, 1 };
    PGresult *res = meso_db_query_bin (db, "INSERT INTO rt (id, b) VALUES ($1, $2)", 2,
                                       vals, lens, fmts);
    assert_non_null (res);
    PQclear (res);

    res = meso_db_query (db, "SELECT id, s, s IS NULL, length(b), encode(b, 'hex')"
                         " FROM rt ORDER BY id", 0, NULL);
    assert_non_null (res);
    assert_int_equal (PQntuples (res), 3);
    assert_string_equal (PQgetvalue (res, 0, 1), tricky);
    assert_false (PQgetisnull (res, 0, 1));
    assert_true (PQgetisnull (res, 1, 1));
    assert_string_equal (PQgetvalue (res, 1, 2), "t");
    assert_string_equal (PQgetvalue (res, 2, 3), "5");
    assert_string_equal (PQgetvalue (res, 2, 4), "61006227ff");
    PQclear (res);

    /* Parameters in a WHERE clause find the row by exact value. */
    const char *p3[] = { tricky };
    res = meso_db_query (db, "SELECT id FROM rt WHERE s = $1", 1, p3);
    assert_non_null (res);
    assert_int_equal (PQntuples (res), 1);
    assert_string_equal (PQgetvalue (res, 0, 0), "1");
    PQclear (res);
    assert_int_equal (s_int (db, "SELECT count(*) FROM rt"), 3);
    meso_db_destroy (&db);
    assert_null (db);
}

/* ------------------------------------------------------------ errors */

static void
test_errors_carry_sqlstate (void **state)
{
    (void) state;
    meso_db_t *db = s_connect ();
    s_exec_ok (db, "CREATE TABLE uq (k int PRIMARY KEY, v int CHECK (v >= 0))");
    const char *p[] = { "7", "1" };
    assert_int_equal (meso_db_exec (db, "INSERT INTO uq VALUES ($1, $2)", 2, p), 0);
    assert_int_equal (meso_db_exec (db, "INSERT INTO uq VALUES ($1, $2)", 2, p), -1);
    const meso_db_error_t *err = meso_db_error (db);
    assert_string_equal (err->sqlstate, "23505");
    assert_non_null (strstr (err->message, "duplicate key"));
    assert_non_null (strstr (err->detail, "(k)=(7)"));
    assert_int_equal (meso_db_status (db), MESO_ALREADY_EXISTS);
    /* The connection is still usable after a statement error. */
    assert_true (meso_db_ok (db));

    const char *neg[] = { "8", "-5" };
    assert_int_equal (meso_db_exec (db, "INSERT INTO uq VALUES ($1, $2)", 2, neg), -1);
    assert_string_equal (meso_db_error (db)->sqlstate, "23514");
    assert_int_equal (meso_db_status (db), MESO_FAILED_PRECONDITION);

    const char *bad[] = { "9", "not a number" };
    assert_int_equal (meso_db_exec (db, "INSERT INTO uq VALUES ($1, $2)", 2, bad), -1);
    assert_string_equal (meso_db_error (db)->sqlstate, "22P02");
    assert_int_equal (meso_db_status (db), MESO_INVALID_ARGUMENT);

    assert_null (meso_db_query (db, "SELECT * FROM no_such_table", 0, NULL));
    assert_string_equal (meso_db_error (db)->sqlstate, "42P01");
    assert_non_null (strstr (meso_db_error (db)->message, "no_such_table"));
    assert_int_equal (meso_db_status (db), MESO_INTERNAL);

    /* Success clears the error. */
    assert_int_equal (meso_db_ping (db), 0);
    assert_string_equal (meso_db_error (db)->sqlstate, "");
    assert_int_equal (meso_db_status (db), MESO_OK);

    meso_db_set_error (db, NULL, "refused: %d", 42);
    assert_string_equal (meso_db_error (db)->message, "refused: 42");
    assert_int_equal (meso_db_status (db), MESO_INTERNAL);
    assert_true (meso_db_error_retryable ("40001"));
    assert_true (meso_db_error_retryable ("40P01"));
    assert_false (meso_db_error_retryable ("23505"));
    assert_false (meso_db_error_retryable (NULL));
    meso_db_destroy (&db);
}

static void
test_connect_failure (void **state)
{
    (void) state;
    char info[256];
    snprintf (info, sizeof info, "host=127.0.0.1 port=%d user=meso dbname=x connect_timeout=2",
              mt_free_port ());
    meso_db_t *db = meso_db_new (info);
    assert_non_null (db);
    assert_false (meso_db_ok (db));
    assert_memory_equal (meso_db_error (db)->sqlstate, "08", 2);
    assert_true (strlen (meso_db_error (db)->message) > 0);
    assert_null (strchr (meso_db_error (db)->message, '\n'));
    assert_int_equal (meso_db_status (db), MESO_UNAVAILABLE);
    assert_int_equal (meso_db_ping (db), -1);
    assert_int_equal (meso_db_status (db), MESO_UNAVAILABLE);
    meso_db_destroy (&db);
}

/* ------------------------------------------------------------ transactions */

typedef struct {
    meso_db_t *other;           /* a second connection that commits in between */
    int attempts;
    int conflict_attempts;      /* conflict on attempts 1..conflict_attempts */
    bool ignore_errors;         /* return 0 even when a statement failed */
} s_conflict_t;

/* Reads the balance, lets another connection change it and commit, then
 * writes balance + 1: under SERIALIZABLE the write fails with 40001
 * ("could not serialize access due to concurrent update"). */
static int
s_conflict_fn (meso_db_t *db, void *arg)
{
    s_conflict_t *c = arg;
    c->attempts++;
    PGresult *res = meso_db_query (db, "SELECT n FROM acct WHERE id = 1", 0, NULL);
    if (!res)
        return -1;
    int n = atoi (PQgetvalue (res, 0, 0));
    PQclear (res);
    if (c->attempts <= c->conflict_attempts)
        s_exec_ok (c->other, "UPDATE acct SET n = n + 100 WHERE id = 1");
    char v[16];
    snprintf (v, sizeof v, "%d", n + 1);
    const char *p[] = { v };
    int rc = meso_db_exec (db, "UPDATE acct SET n = $1 WHERE id = 1", 1, p);
    return c->ignore_errors ? 0 : rc;
}

static void
test_txn_retries_serialization_failure (void **state)
{
    (void) state;
    meso_db_t *db = s_connect ();
    meso_db_t *other = s_connect ();
    s_exec_ok (db, "DROP TABLE IF EXISTS acct");
    s_exec_ok (db, "CREATE TABLE acct (id int PRIMARY KEY, n int NOT NULL)");
    s_exec_ok (db, "INSERT INTO acct VALUES (1, 0)");

    s_conflict_t c = { .other = other, .conflict_attempts = 1 };
    unsigned long before = meso_db_retries (db);
    int rc = meso_db_txn (db, MESO_DB_SERIALIZABLE, s_conflict_fn, &c);
    if (rc != 0)
        fail_msg ("txn: %s [%s]", meso_db_error (db)->message, meso_db_error (db)->sqlstate);
    assert_int_equal (c.attempts, 2);
    assert_int_equal (meso_db_retries (db) - before, 1);
    /* The retry saw the other write: 100 + 1, not a lost update (1). */
    assert_int_equal (s_int (other, "SELECT n FROM acct WHERE id = 1"), 101);
    assert_string_equal (meso_db_error (db)->sqlstate, "");
    meso_db_destroy (&other);
    meso_db_destroy (&db);
}

static void
test_txn_gives_up_after_max_attempts (void **state)
{
    (void) state;
    meso_db_t *db = s_connect ();
    meso_db_t *other = s_connect ();
    s_exec_ok (db, "DROP TABLE IF EXISTS acct");
    s_exec_ok (db, "CREATE TABLE acct (id int PRIMARY KEY, n int NOT NULL)");
    s_exec_ok (db, "INSERT INTO acct VALUES (1, 0)");
    meso_db_set_max_attempts (db, 3);

    s_conflict_t c = { .other = other, .conflict_attempts = 1000 };
    unsigned long before = meso_db_retries (db);
    assert_int_equal (meso_db_txn (db, MESO_DB_REPEATABLE_READ, s_conflict_fn, &c), -1);
    assert_int_equal (c.attempts, 3);
    assert_int_equal (meso_db_retries (db) - before, 2);
    assert_string_equal (meso_db_error (db)->sqlstate, "40001");
    assert_int_equal (meso_db_status (db), MESO_ABORTED);
    /* Only the other connection's three commits took effect. */
    assert_int_equal (s_int (other, "SELECT n FROM acct WHERE id = 1"), 300);

    /* A callback that swallows the failure and returns 0: COMMIT of the
     * aborted transaction turns into ROLLBACK, which is still retried. */
    c = (s_conflict_t) { .other = other, .conflict_attempts = 1000, .ignore_errors = true };
    assert_int_equal (meso_db_txn (db, MESO_DB_SERIALIZABLE, s_conflict_fn, &c), -1);
    assert_int_equal (c.attempts, 3);
    assert_string_equal (meso_db_error (db)->sqlstate, "40001");
    assert_int_equal (s_int (other, "SELECT n FROM acct WHERE id = 1"), 600);

    /* And once the conflicts stop, the same handle commits. */
    c = (s_conflict_t) { .other = other, .conflict_attempts = 2 };
    assert_int_equal (meso_db_txn (db, MESO_DB_SERIALIZABLE, s_conflict_fn, &c), 0);
    assert_int_equal (c.attempts, 3);
    assert_int_equal (s_int (other, "SELECT n FROM acct WHERE id = 1"), 801);
    meso_db_destroy (&other);
    meso_db_destroy (&db);
}

static int
s_insert_then_refuse (meso_db_t *db, void *arg)
{
    int *calls = arg;
    (*calls)++;
    const char *p[] = { "42" };
    if (meso_db_exec (db, "INSERT INTO rb (k) VALUES ($1)", 1, p) != 0)
        return -1;
    meso_db_set_error (db, NULL, "patient is not eligible");
    return -1;
}

static int
s_insert_and_fail (meso_db_t *db, void *arg)
{
    (void) arg;
    const char *p[] = { "43" };
    if (meso_db_exec (db, "INSERT INTO rb (k) VALUES ($1)", 1, p) != 0)
        return -1;
    /* Not a retryable failure: reported, not retried. */
    return meso_db_exec (db, "INSERT INTO rb (k) VALUES ($1)", 1, p);
}

static void
test_txn_callback_failure_rolls_back (void **state)
{
    (void) state;
    meso_db_t *db = s_connect ();
    s_exec_ok (db, "CREATE TABLE rb (k int PRIMARY KEY)");
    int calls = 0;
    assert_int_equal (meso_db_txn (db, MESO_DB_READ_COMMITTED, s_insert_then_refuse, &calls), -1);
    assert_int_equal (calls, 1);
    assert_string_equal (meso_db_error (db)->message, "patient is not eligible");
    assert_int_equal (s_int (db, "SELECT count(*) FROM rb"), 0);

    assert_int_equal (meso_db_txn (db, MESO_DB_READ_COMMITTED, s_insert_and_fail, NULL), -1);
    assert_string_equal (meso_db_error (db)->sqlstate, "23505");
    assert_int_equal (s_int (db, "SELECT count(*) FROM rb"), 0);
    /* No transaction left open: a plain statement commits on its own. */
    s_exec_ok (db, "INSERT INTO rb VALUES (1)");
    meso_db_t *other = s_connect ();
    assert_int_equal (s_int (other, "SELECT count(*) FROM rb"), 1);
    meso_db_destroy (&other);
    meso_db_destroy (&db);
}

/* ------------------------------------------------------------ connection loss */

static void
s_terminate (meso_db_t *victim, meso_db_t *killer)
{
    int pid = s_int (victim, "SELECT pg_backend_pid()");
    char v[16];
    snprintf (v, sizeof v, "%d", pid);
    const char *p[] = { v };
    /* With a timeout, pg_terminate_backend waits until the backend is gone. */
    PGresult *res = meso_db_query (killer, "SELECT pg_terminate_backend($1::int, 5000)", 1, p);
    assert_non_null (res);
    assert_string_equal (PQgetvalue (res, 0, 0), "t");
    PQclear (res);
}

static int
s_insert_row (meso_db_t *db, void *arg)
{
    (void) arg;
    return meso_db_exec (db, "INSERT INTO lost DEFAULT VALUES", 0, NULL);
}

static void
test_connection_loss_and_reconnect (void **state)
{
    (void) state;
    meso_db_t *db = s_connect ();
    meso_db_t *killer = s_connect ();
    s_exec_ok (db, "CREATE TABLE lost (id serial PRIMARY KEY)");
    int pid1 = s_int (db, "SELECT pg_backend_pid()");
    s_terminate (db, killer);

    /* The next statement finds the connection dead: UNAVAILABLE, class 08. */
    assert_null (meso_db_query (db, "SELECT 1", 0, NULL));
    assert_memory_equal (meso_db_error (db)->sqlstate, "08", 2);
    assert_int_equal (meso_db_status (db), MESO_UNAVAILABLE);
    assert_false (meso_db_ok (db));

    /* The call after that reconnects. */
    int pid2 = s_int (db, "SELECT pg_backend_pid()");
    assert_true (meso_db_ok (db));
    assert_int_not_equal (pid1, pid2);

    /* A transaction on a connection that died while idle reconnects before
     * BEGIN (nothing was done yet) and commits. */
    s_terminate (db, killer);
    assert_int_equal (meso_db_txn (db, MESO_DB_READ_COMMITTED, s_insert_row, NULL), 0);
    assert_int_equal (s_int (killer, "SELECT count(*) FROM lost"), 1);

    /* So does ping (SELECT 1 is safe to repeat). */
    s_terminate (db, killer);
    assert_int_equal (meso_db_ping (db), 0);
    meso_db_destroy (&killer);
    meso_db_destroy (&db);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_params_round_trip),
        cmocka_unit_test (test_errors_carry_sqlstate),
        cmocka_unit_test (test_connect_failure),
        cmocka_unit_test (test_txn_retries_serialization_failure),
        cmocka_unit_test (test_txn_gives_up_after_max_attempts),
        cmocka_unit_test (test_txn_callback_failure_rolls_back),
        cmocka_unit_test (test_connection_loss_and_reconnect),
    };
    return cmocka_run_group_tests (tests, s_group_setup, NULL);
}
