/* test_db.c -- the db layer against a real PostgreSQL: parameters, errors
 * with their SQLSTATE, transaction retries on real serialization failures,
 * roll-back, connection loss, and the prepared-statement cache (reuse,
 * same results on and off, reconnects, schema changes, DISCARD ALL, the
 * cap). */
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


static int
s_insert_then_refuse_rb2 (meso_db_t *db, void *arg)
{
    int *calls = arg;
    (*calls)++;
    const char *p[] = { "42" };
    if (meso_db_exec (db, "INSERT INTO rb2 (k) VALUES ($1)", 1, p) != 0)
        return -1;
    return -1;
}

static int
s_insert_twice_rb3 (meso_db_t *db, void *arg)
{
    int *attempts = arg;
    (*attempts)++;
    const char *p[] = { "1" };
    if (meso_db_exec (db, "INSERT INTO rb3 (k) VALUES ($1)", 1, p) != 0)
        return -1;
    return meso_db_exec (db, "INSERT INTO rb3 (k) VALUES ($1)", 1, p);
}

/* ------------------------------------------------------------ statement cache */

/* How many times the session of db has run the statement sql as a prepared
 * statement (0 when it is not prepared), asked on db itself. */
static int
s_prepared_runs (meso_db_t *db, const char *sql)
{
    const char *p[] = { sql };
    PGresult *res = meso_db_query (db, "SELECT coalesce (sum (generic_plans + custom_plans), 0),"
                                   " count (*) FROM pg_prepared_statements WHERE statement = $1",
                                   1, p);
    if (!res)
        fail_msg ("pg_prepared_statements: %s", meso_db_error (db)->message);
    int runs = atoi (PQgetvalue (res, 0, 0));
    int count = atoi (PQgetvalue (res, 0, 1));
    PQclear (res);
    assert_true (count <= 1);
    return count ? runs : 0;
}

/* Prepared statements of the session of db named by the cache. */
static int
s_prepared_count (meso_db_t *db)
{
    return s_int (db, "SELECT count (*) FROM pg_prepared_statements WHERE name LIKE 'meso\\_%'");
}

/* The handle's idea of what is prepared matches the session's. */
static void
s_assert_in_sync (meso_db_t *db)
{
    int server = s_prepared_count (db);
    assert_int_equal (server, (int) meso_db_prepared (db));
}

static void
test_cache_reuses_statements (void **state)
{
    (void) state;
    meso_db_t *db = s_connect ();
    const char *sql = "SELECT $1::int * 2";
    for (int i = 0; i < 20; i++) {
        char v[16];
        snprintf (v, sizeof v, "%d", i);
        const char *p[] = { v };
        PGresult *res = meso_db_query (db, sql, 1, p);
        assert_non_null (res);
        assert_int_equal (atoi (PQgetvalue (res, 0, 0)), 2 * i);
        PQclear (res);
    }
    /* Prepared once, run twenty times, in this very session. */
    assert_int_equal (s_prepared_runs (db, sql), 20);

    /* Keyed on the text, not the pointer: a copy (as snprintf builds) hits
     * the same entry. */
    char copy[64];
    snprintf (copy, sizeof copy, "%s", sql);
    const char *p[] = { "21" };
    PGresult *res = meso_db_query (db, copy, 1, p);
    assert_non_null (res);
    assert_string_equal (PQgetvalue (res, 0, 0), "42");
    PQclear (res);
    assert_int_equal (s_prepared_runs (db, sql), 21);

    /* The handle's count and the server's agree; utility statements are
     * not prepared. */
    size_t n = meso_db_prepared (db);
    s_exec_ok (db, "SET application_name = 'test_db'");
    assert_int_equal (meso_db_prepared (db), n);
    s_assert_in_sync (db);
    assert_int_equal (s_prepared_runs (db, "SET application_name = 'test_db'"), 0);

    /* Statements prepared inside a transaction that rolls back survive it. */
    int calls = 0;
    s_exec_ok (db, "CREATE TABLE rb2 (k int PRIMARY KEY)");
    assert_int_equal (meso_db_txn (db, MESO_DB_READ_COMMITTED, s_insert_then_refuse_rb2, &calls), -1);
    assert_int_equal (calls, 1);
    const char *k[] = { "42" };
    assert_int_equal (meso_db_exec (db, "INSERT INTO rb2 (k) VALUES ($1)", 1, k), 0);
    assert_int_equal (s_prepared_runs (db, "INSERT INTO rb2 (k) VALUES ($1)"), 2);
    meso_db_destroy (&db);
}

/* Everything a caller can see of a result, as one string. */
static void
s_dump (const PGresult *res, char *out, size_t size)
{
    size_t used = 0;
    used += (size_t) snprintf (out + used, size - used, "%d rows %d cols|",
                               PQntuples (res), PQnfields (res));
    for (int c = 0; c < PQnfields (res) && used < size; c++)
        used += (size_t) snprintf (out + used, size - used, "%s:%u:%d,", PQfname (res, c),
                                   PQftype (res, c), PQfformat (res, c));
    for (int r = 0; r < PQntuples (res) && used < size; r++)
        for (int c = 0; c < PQnfields (res) && used < size; c++) {
            used += (size_t) snprintf (out + used, size - used, "|");
            if (PQgetisnull (res, r, c))
                used += (size_t) snprintf (out + used, size - used, "NULL");
            else
                for (int i = 0; i < PQgetlength (res, r, c) && used < size; i++)
                    used += (size_t) snprintf (out + used, size - used, "%02x",
                                               (unsigned char) PQgetvalue (res, r, c)[i]);
        }
    assert_true (used < size);
}

/* Runs the same statements through db and returns one string of all their
 * results and errors. */
static void
s_workload (meso_db_t *db, char *out, size_t size)
{
    size_t used = 0;
    char one[4096];
    const char *sel = "SELECT id, s, b, n, t FROM same WHERE id >= $1 ORDER BY id";
    for (int round = 0; round < 3; round++) {
        const char *p[] = { "1" };
        PGresult *res = meso_db_query (db, sel, 1, p);
        assert_non_null (res);
        s_dump (res, one, sizeof one);
        PQclear (res);
        used += (size_t) snprintf (out + used, size - used, "%s\n", one);
        res = meso_db_query_binres (db, sel, 1, p);
        assert_non_null (res);
        s_dump (res, one, sizeof one);
        PQclear (res);
        used += (size_t) snprintf (out + used, size - used, "%s\n", one);
        const char blob[] = { 'x', '\0', 'y' };
        const char *vals[] = { "2", blob };
        int lens[] = { 0, (int) sizeof blob };
        int fmts[] = { 0, 1 };
        res = meso_db_query_bin (db, "SELECT $1::int + 1, $2::bytea, length ($2::bytea)", 2,
                                 vals, lens, fmts);
        assert_non_null (res);
        s_dump (res, one, sizeof one);
        PQclear (res);
        used += (size_t) snprintf (out + used, size - used, "%s\n", one);
        /* Errors: from the server's parse (42P01, 42883 with a hint), from
         * execution (23505 with a detail, 22P02). */
        const char *dup[] = { "1", "again" };
        const char *bad[] = { "x", "y" };
        const char *sqls[] = { "SELECT * FROM no_such_table", "SELECT no_such_fn ($1::int)",
                               "INSERT INTO same (id, s) VALUES ($1, $2)",
                               "INSERT INTO same (id, s) VALUES ($1, $2)" };
        const char *const *params[] = { NULL, p, dup, bad };
        int nparams[] = { 0, 1, 2, 2 };
        for (int i = 0; i < 4; i++) {
            assert_null (meso_db_query (db, sqls[i], nparams[i], params[i]));
            const meso_db_error_t *e = meso_db_error (db);
            used += (size_t) snprintf (out + used, size - used, "%s|%s|%s|%s|%d\n", e->sqlstate,
                                       e->message, e->detail, e->hint, meso_db_status (db));
        }
        assert_true (used < size);
    }
}

static void
test_cache_on_and_off_agree (void **state)
{
    (void) state;
    meso_db_t *db = s_connect ();
    s_exec_ok (db, "CREATE TABLE same (id int PRIMARY KEY, s text, b bytea, n numeric,"
                   " t timestamptz)");
    s_exec_ok (db, "INSERT INTO same VALUES (1, 'one', '\\x00ff'::bytea, 1.5, '2024-05-01 10:00Z'),"
                   " (2, NULL, NULL, NULL, NULL), (3, 'tr''icky', '\\x'::bytea, -0.001, now ())");
    static char on[32768], off[32768];
    s_workload (db, on, sizeof on);
    assert_true (meso_db_prepared (db) > 0);
    meso_db_set_prepare (db, false);
    s_workload (db, off, sizeof off);
    assert_string_equal (on, off);
    assert_non_null (strstr (on, "23505|duplicate key"));
    assert_non_null (strstr (on, "(id)=(1) already exists"));
    assert_non_null (strstr (on, "42883|function no_such_fn(integer) does not exist||No function"));

    /* MESO_DB_PREPARE=0: a handle that prepares nothing, same results. */
    setenv ("MESO_DB_PREPARE", "0", 1);
    meso_db_t *plain = s_connect ();
    unsetenv ("MESO_DB_PREPARE");
    s_workload (plain, off, sizeof off);
    assert_string_equal (on, off);
    assert_int_equal (meso_db_prepared (plain), 0);
    assert_int_equal (s_prepared_count (plain), 0);
    meso_db_destroy (&plain);
    meso_db_destroy (&db);
}

static int
s_count_rows (meso_db_t *db, void *arg)
{
    int *n = arg;
    PGresult *res = meso_db_query (db, "SELECT count (*) FROM recon", 0, NULL);
    if (!res)
        return -1;
    *n = atoi (PQgetvalue (res, 0, 0));
    PQclear (res);
    return 0;
}

static void
test_cache_after_reconnect (void **state)
{
    (void) state;
    meso_db_t *db = s_connect ();
    meso_db_t *killer = s_connect ();
    s_exec_ok (db, "CREATE TABLE recon (id int)");
    s_exec_ok (db, "INSERT INTO recon VALUES (1), (2)");
    const char *sql = "SELECT count (*) FROM recon";
    assert_int_equal (s_int (db, sql), 2);
    assert_int_equal (s_int (db, sql), 2);
    assert_int_equal (s_prepared_runs (db, sql), 2);

    /* The connection dies: the statement fails once as UNAVAILABLE, as
     * without the cache, then runs again, prepared on the new session. */
    s_terminate (db, killer);
    assert_null (meso_db_query (db, sql, 0, NULL));
    assert_memory_equal (meso_db_error (db)->sqlstate, "08", 2);
    assert_int_equal (s_int (db, sql), 2);
    assert_int_equal (s_prepared_runs (db, sql), 1);
    s_assert_in_sync (db);

    /* Same for a transaction finding the connection dead at BEGIN. */
    s_terminate (db, killer);
    int n = 0;
    assert_int_equal (meso_db_txn (db, MESO_DB_READ_COMMITTED, s_count_rows, &n), 0);
    assert_int_equal (n, 2);
    assert_int_equal (s_prepared_runs (db, sql), 1);
    meso_db_destroy (&killer);
    meso_db_destroy (&db);
}

typedef struct {
    int attempts;
    int nfields;
} s_cols_t;

static int
s_select_star (meso_db_t *db, void *arg)
{
    s_cols_t *c = arg;
    c->attempts++;
    PGresult *res = meso_db_query (db, "SELECT * FROM sch", 0, NULL);
    if (!res)
        return -1;
    c->nfields = PQnfields (res);
    PQclear (res);
    return meso_db_exec (db, "UPDATE sch SET a = a + 1", 0, NULL);
}

static int
s_alter_between (meso_db_t *db, void *arg)
{
    s_cols_t *c = arg;
    c->attempts++;
    PGresult *res = meso_db_query (db, "SELECT * FROM sch", 0, NULL);
    if (!res)
        return -1;
    PQclear (res);
    if (meso_db_exec (db, "ALTER TABLE sch ADD COLUMN d int", 0, NULL) != 0)
        return -1;
    res = meso_db_query (db, "SELECT * FROM sch", 0, NULL);
    if (!res)
        return -1;
    c->nfields = PQnfields (res);
    PQclear (res);
    return 0;
}

static void
test_cache_survives_schema_change (void **state)
{
    (void) state;
    meso_db_t *db = s_connect ();
    meso_db_t *other = s_connect ();
    s_exec_ok (db, "CREATE TABLE sch (a int)");
    s_exec_ok (db, "INSERT INTO sch VALUES (1)");
    const char *sql = "SELECT * FROM sch";
    PGresult *res = meso_db_query (db, sql, 0, NULL);
    assert_non_null (res);
    assert_int_equal (PQnfields (res), 1);
    PQclear (res);

    /* Outside a transaction: the new column shows, no error surfaces. */
    s_exec_ok (other, "ALTER TABLE sch ADD COLUMN b text DEFAULT 'bee'");
    res = meso_db_query (db, sql, 0, NULL);
    if (!res)
        fail_msg ("after ALTER: %s [%s]", meso_db_error (db)->message, meso_db_error (db)->sqlstate);
    assert_int_equal (PQnfields (res), 2);
    assert_string_equal (PQgetvalue (res, 0, 1), "bee");
    PQclear (res);
    assert_string_equal (meso_db_error (db)->sqlstate, "");
    /* The stale statement was deallocated, the new one is there. */
    assert_int_equal (s_prepared_runs (db, sql), 1);
    s_assert_in_sync (db);

    /* Inside a transaction: the attempt that met the stale statement is
     * rolled back and run again; the caller only sees the commit. */
    s_exec_ok (other, "ALTER TABLE sch ADD COLUMN c int DEFAULT 7");
    s_cols_t c = { 0 };
    unsigned long retries = meso_db_retries (db);
    if (meso_db_txn (db, MESO_DB_READ_COMMITTED, s_select_star, &c) != 0)
        fail_msg ("txn: %s [%s]", meso_db_error (db)->message, meso_db_error (db)->sqlstate);
    assert_int_equal (c.attempts, 2);
    assert_int_equal (c.nfields, 3);
    assert_int_equal (meso_db_retries (db), retries);     /* not a conflict */
    assert_int_equal (s_int (other, "SELECT a FROM sch"), 2);     /* updated once */
    assert_int_equal (s_prepared_runs (db, sql), 1);
    s_assert_in_sync (db);

    /* A dropped column too. */
    s_exec_ok (other, "ALTER TABLE sch DROP COLUMN b");
    res = meso_db_query (db, sql, 0, NULL);
    assert_non_null (res);
    assert_int_equal (PQnfields (res), 2);
    PQclear (res);

    /* DISCARD ALL (a pooler resetting the session) drops every prepared
     * statement: the next call prepares again, inside a transaction too. */
    s_exec_ok (db, "DISCARD ALL");
    meso_db_set_prepare (db, false);
    assert_int_equal (s_prepared_count (db), 0);
    meso_db_set_prepare (db, true);
    c = (s_cols_t) { 0 };
    assert_int_equal (meso_db_txn (db, MESO_DB_READ_COMMITTED, s_select_star, &c), 0);
    assert_int_equal (c.attempts, 2);
    assert_int_equal (c.nfields, 2);
    s_exec_ok (db, "DISCARD ALL");
    res = meso_db_query (db, sql, 0, NULL);
    assert_non_null (res);
    assert_int_equal (PQnfields (res), 2);
    PQclear (res);
    s_assert_in_sync (db);

    /* DDL inside the callback itself: the first attempt meets the entry
     * prepared before the transaction and is retried; in the second the
     * statement was prepared in the same attempt, so the error is the
     * callback's own and is returned (further attempts would meet it
     * again), not retried up to the limit. */
    c = (s_cols_t) { 0 };
    assert_int_equal (meso_db_txn (db, MESO_DB_READ_COMMITTED, s_alter_between, &c), -1);
    assert_int_equal (c.attempts, 2);
    assert_string_equal (meso_db_error (db)->sqlstate, "0A000");
    res = meso_db_query (db, sql, 0, NULL);     /* the ALTER was rolled back */
    assert_non_null (res);
    assert_int_equal (PQnfields (res), 2);
    PQclear (res);
    s_assert_in_sync (db);

    /* A statement that is wrong from the start is not retried. */
    s_exec_ok (db, "CREATE TABLE rb3 (k int PRIMARY KEY)");
    int attempts = 0;
    assert_int_equal (meso_db_txn (db, MESO_DB_READ_COMMITTED, s_insert_twice_rb3, &attempts), -1);
    assert_int_equal (attempts, 1);
    assert_string_equal (meso_db_error (db)->sqlstate, "23505");
    meso_db_destroy (&other);
    meso_db_destroy (&db);
}

static void
test_cache_is_bounded (void **state)
{
    (void) state;
    meso_db_t *db = s_connect ();
    /* More distinct statements than the cap (512): all of them work. */
    for (int round = 0; round < 2; round++)
        for (int i = 0; i < 600; i++) {
            char sql[64];
            snprintf (sql, sizeof sql, "SELECT %d + $1::int", i);
            const char *p[] = { "1" };
            PGresult *res = meso_db_query (db, sql, 1, p);
            if (!res)
                fail_msg ("%s: %s", sql, meso_db_error (db)->message);
            assert_int_equal (atoi (PQgetvalue (res, 0, 0)), i + 1);
            PQclear (res);
        }
    assert_int_equal (meso_db_prepared (db), 512);
    assert_int_equal (s_prepared_count (db), 512);
    /* The first ones stay prepared and in use; the rest ran unnamed. */
    assert_int_equal (s_prepared_runs (db, "SELECT 0 + $1::int"), 2);
    assert_int_equal (s_prepared_runs (db, "SELECT 599 + $1::int"), 0);
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
        cmocka_unit_test (test_cache_reuses_statements),
        cmocka_unit_test (test_cache_on_and_off_agree),
        cmocka_unit_test (test_cache_after_reconnect),
        cmocka_unit_test (test_cache_survives_schema_change),
        cmocka_unit_test (test_cache_is_bounded),
    };
    return cmocka_run_group_tests (tests, s_group_setup, NULL);
}
