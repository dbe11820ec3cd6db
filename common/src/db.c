/* db.c -- PostgreSQL access through libpq (see db.h).
 *
 * One handle, one PGconn, one thread. Values always travel as parameters,
 * never inside the SQL text (the one exception is migrate.c, which runs
 * trusted migration files). The only SQL this file writes itself is BEGIN /
 * COMMIT / ROLLBACK / DEALLOCATE.
 *
 * Statement cache: see db_stmt.c.
 *
 * Errors are copied out of the PGresult (SQLSTATE, primary message, detail,
 * hint) into the handle, so the caller can clear the result and still map
 * the error to a status. When the connection itself is gone the SQLSTATE is
 * forced into class 08 ("08006" unless the server said something more
 * precise in that class): whatever the server's last words were (57P01 when
 * an administrator terminated the backend, for example), what the caller
 * needs to know is that the database is unreachable, so it answers
 * UNAVAILABLE and the client retries with the same idempotency key. A
 * failure libpq reports without any SQLSTATE counts as a lost connection
 * too, even while PQstatus still says CONNECTION_OK (see s_set_error_from).
 *
 * Reconnecting: a handle whose connection is bad reconnects before the next
 * statement, but never in the middle of a transaction (the statements after
 * the loss would silently run outside it). A statement that fails because
 * the connection died is not re-run by this layer, since its effect is
 * unknown; the caller's idempotency key makes a retry safe. Two exceptions,
 * both without effect: meso_db_ping retries its SELECT 1 once, and
 * meso_db_txn reconnects once when its BEGIN finds the connection dead (a
 * database restart is then invisible to the first request after it).
 *
 * Retries: meso_db_txn re-runs the whole callback on 40001 / 40P01, seen at
 * any statement (the callback may swallow the error and return -1, or even
 * return 0 and let COMMIT report the aborted transaction), with a randomised
 * back-off growing from ~2 ms to 20 ms so two conflicting transactions do
 * not collide again in lock-step. */
#include "meso/db.h"

#include <assert.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "meso/metrics.h"
#include "meso/status.h"
#include "db_private.h"

#define MESO_DB_DEFAULT_ATTEMPTS 10
/* How long a connection attempt may take unless the conninfo says otherwise:
 * libpq's default is to wait forever on an unreachable host. */
#define MESO_DB_CONNECT_TIMEOUT "5"
/* ------------------------------------------------------------- helpers */

static void
s_copy (char *dst, size_t size, const char *src)
{
    if (!src)
        src = "";
    snprintf (dst, size, "%s", src);
}

/* libpq messages end with a newline and may span lines ("connection to
 * server ... failed: ...\n\tIs the server running...\n"): keep one line. */
static void
s_one_line (char *s)
{
    for (char *p = s; *p; p++)
        if (*p == '\n' || *p == '\r' || *p == '\t')
            *p = ' ';
    size_t n = strlen (s);
    while (n > 0 && isspace ((unsigned char) s[n - 1]))
        s[--n] = '\0';
}

static void
s_clear_error (meso_db_t *self)
{
    memset (&self->err, 0, sizeof self->err);
}

/* Notices (e.g. "extension already exists, skipping") would go to stderr
 * and break the JSON-lines log: they are informational, drop them. */
static void
s_notice_drop (void *arg, const char *message)
{
    (void) arg;
    (void) message;
}

/* Fills the error from a failed result (res may be NULL: then from the
 * connection). */
static void
s_set_error_from (meso_db_t *self, const PGresult *res)
{
    s_clear_error (self);
    const char *state = res ? PQresultErrorField (res, PG_DIAG_SQLSTATE) : NULL;
    const char *primary = res ? PQresultErrorField (res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    if (state)
        s_copy (self->err.sqlstate, sizeof self->err.sqlstate, state);
    if (primary)
        s_copy (self->err.message, sizeof self->err.message, primary);
    else if (res && *PQresultErrorMessage (res))
        s_copy (self->err.message, sizeof self->err.message, PQresultErrorMessage (res));
    else if (self->conn && *PQerrorMessage (self->conn))
        s_copy (self->err.message, sizeof self->err.message, PQerrorMessage (self->conn));
    else if (!self->conn)
        s_copy (self->err.message, sizeof self->err.message, "out of memory");
    else if (res)
        snprintf (self->err.message, sizeof self->err.message,
                  "unexpected result status %s", PQresStatus (PQresultStatus (res)));
    else
        s_copy (self->err.message, sizeof self->err.message, "no result from the server");
    if (res) {
        s_copy (self->err.detail, sizeof self->err.detail,
                PQresultErrorField (res, PG_DIAG_MESSAGE_DETAIL));
        s_copy (self->err.hint, sizeof self->err.hint,
                PQresultErrorField (res, PG_DIAG_MESSAGE_HINT));
    }
    /* A failed result without a SQLSTATE was made by libpq itself, not by
     * the server: the connection broke ("server closed the connection
     * unexpectedly" after a restart -m immediate, whose backends say
     * goodbye with a WARNING, not an error), or libpq lost sync with it.
     * libpq may still report CONNECTION_OK until the next call: mark the
     * session broken so that it is reported as class 08 like any lost
     * connection and replaced before the next statement. */
    if (!state && self->conn
        && (!res || PQresultStatus (res) == PGRES_FATAL_ERROR
            || PQresultStatus (res) == PGRES_BAD_RESPONSE))
        self->broken = true;
    if (meso_db_connection_bad (self) && strncmp (self->err.sqlstate, "08", 2) != 0) {
        /* Keep the server's own code in the detail when there was one. */
        if (self->err.sqlstate[0] && !self->err.detail[0])
            snprintf (self->err.detail, sizeof self->err.detail,
                      "the server reported SQLSTATE %s before the connection closed",
                      self->err.sqlstate);
        s_copy (self->err.sqlstate, sizeof self->err.sqlstate, "08006");
    }
    s_one_line (self->err.message);
    s_one_line (self->err.detail);
    s_one_line (self->err.hint);
    if (self->in_txn && meso_db_error_retryable (self->err.sqlstate))
        self->txn_conflict = true;
}

void
meso_db_set_error_result (meso_db_t *self, const PGresult *res, const char *prefix)
{
    assert (self);
    s_set_error_from (self, res);
    if (prefix && *prefix) {
        char msg[sizeof self->err.message];
        s_copy (msg, sizeof msg, self->err.message);
        /* Truncation of a long message is fine: it stays one line. */
        if (snprintf (self->err.message, sizeof self->err.message, "%s: %s", prefix, msg) < 0)
            s_copy (self->err.message, sizeof self->err.message, msg);
    }
}

static int
s_connect (meso_db_t *self)
{
    meso_db_stmts_clear (self);           /* a new session has no statements */
    if (self->conn)
        PQfinish (self->conn);
    /* connect_timeout comes before dbname so that a value in the conninfo
     * (expanded from dbname) overrides it. */
    const char *const keys[] = { "connect_timeout", "dbname", NULL };
    const char *const vals[] = { MESO_DB_CONNECT_TIMEOUT, self->conninfo, NULL };
    self->conn = PQconnectdbParams (keys, vals, 1);
    self->broken = false;
    if (meso_db_connection_bad (self)) {
        s_set_error_from (self, NULL);
        return -1;
    }
    PQsetNoticeProcessor (self->conn, s_notice_drop, NULL);
    s_clear_error (self);
    return 0;
}

/* Runs a command of our own (BEGIN/COMMIT/ROLLBACK) and returns its result
 * (NULL on connection failure); does not touch the error. */
static PGresult *
s_exec_raw (meso_db_t *self, const char *sql)
{
    if (meso_db_connection_bad (self))
        return NULL;
    return PQexecParams (self->conn, sql, 0, NULL, NULL, NULL, NULL, 0);
}

static void
s_rollback (meso_db_t *self)
{
    PGresult *res = s_exec_raw (self, "ROLLBACK");
    PQclear (res);
    self->in_txn = false;
}

static void
s_backoff (meso_db_t *self, unsigned long attempt)
{
    unsigned int cap_ms = attempt >= 5 ? 20 : 1u << attempt;       /* 2, 4, 8, 16, 20... */
    if (cap_ms > 20)
        cap_ms = 20;
    unsigned int ms = 1 + (unsigned int) rand_r (&self->seed) % cap_ms;
    struct timespec ts = { .tv_sec = 0, .tv_nsec = (long) ms * 1000000L };
    while (nanosleep (&ts, &ts) != 0)
        ;
}

/* ----------------------------------------------------------------- API */

meso_db_t *
meso_db_new (const char *conninfo)
{
    assert (conninfo);
    meso_db_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->conninfo = strdup (conninfo);
    if (!self->conninfo) {
        free (self);
        return NULL;
    }
    self->max_attempts = MESO_DB_DEFAULT_ATTEMPTS;
    const char *prepare = getenv ("MESO_DB_PREPARE");
    self->prepare = !(prepare && strcmp (prepare, "0") == 0);
    struct timespec now;
    clock_gettime (CLOCK_MONOTONIC, &now);
    self->seed = (unsigned int) now.tv_nsec ^ (unsigned int) getpid ()
               ^ (unsigned int) (uintptr_t) self;
    s_connect (self);
    return self;
}

void
meso_db_destroy (meso_db_t **self_p)
{
    assert (self_p);
    meso_db_t *self = *self_p;
    if (!self)
        return;
    if (self->conn)
        PQfinish (self->conn);
    meso_db_stmts_clear (self);
    free (self->conninfo);
    free (self);
    *self_p = NULL;
}

PGconn *
meso_db_conn (meso_db_t *self)
{
    assert (self);
    return self->conn;
}

bool
meso_db_ok (meso_db_t *self)
{
    assert (self);
    return !meso_db_connection_bad (self);
}

int
meso_db_ensure (meso_db_t *self)
{
    assert (self);
    if (!meso_db_connection_bad (self))
        return 0;
    if (self->in_txn) {
        /* The transaction is lost with its connection; do not reconnect
         * under the callback's feet. */
        if (!self->err.sqlstate[0])
            meso_db_set_error (self, "08006", "connection lost inside a transaction");
        return -1;
    }
    return s_connect (self);
}

static PGresult *
s_query (meso_db_t *self, const char *sql, int nparams, const char *const *values,
         const int *lengths, const int *formats, int result_format)
{
    assert (self);
    assert (sql);
    assert (nparams >= 0);
    assert (nparams == 0 || values);
    if (meso_db_ensure (self) != 0)
        return NULL;
    PGresult *res = self->prepare && meso_db_cacheable (sql)
                  ? meso_db_exec_cached (self, sql, nparams, values, lengths, formats, result_format)
                  : PQexecParams (self->conn, sql, nparams, NULL, values, lengths, formats,
                                  result_format);
    if (!meso_db_result_ok (res)) {
        s_set_error_from (self, res);
        PQclear (res);
        return NULL;
    }
    s_clear_error (self);
    return res;
}

PGresult *
meso_db_query_bin (meso_db_t *self, const char *sql, int nparams,
                   const char *const *values, const int *lengths, const int *formats)
{
    return s_query (self, sql, nparams, values, lengths, formats, 0);
}

PGresult *
meso_db_query (meso_db_t *self, const char *sql, int nparams, const char *const *params)
{
    return s_query (self, sql, nparams, params, NULL, NULL, 0);
}

PGresult *
meso_db_query_binres (meso_db_t *self, const char *sql, int nparams, const char *const *params)
{
    return s_query (self, sql, nparams, params, NULL, NULL, 1);
}

void
meso_db_set_prepare (meso_db_t *self, bool on)
{
    assert (self);
    self->prepare = on;
}

size_t
meso_db_prepared (meso_db_t *self)
{
    assert (self);
    return self->nstmts;
}

int
meso_db_exec (meso_db_t *self, const char *sql, int nparams, const char *const *params)
{
    PGresult *res = meso_db_query (self, sql, nparams, params);
    if (!res)
        return -1;
    PQclear (res);
    return 0;
}

int
meso_db_ping (meso_db_t *self)
{
    assert (self);
    int rc = meso_db_exec (self, "SELECT 1", 0, NULL);
    /* SELECT 1 has no effect: when it found the connection dead (a restart
     * of the database), reconnect and ask once more. */
    if (rc != 0 && !self->in_txn && meso_db_connection_bad (self))
        rc = meso_db_exec (self, "SELECT 1", 0, NULL);
    return rc;
}

const meso_db_error_t *
meso_db_error (meso_db_t *self)
{
    assert (self);
    return &self->err;
}

void
meso_db_set_error (meso_db_t *self, const char *sqlstate, const char *fmt, ...)
{
    assert (self);
    assert (fmt);
    s_clear_error (self);
    s_copy (self->err.sqlstate, sizeof self->err.sqlstate, sqlstate);
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (self->err.message, sizeof self->err.message, fmt, ap);
    va_end (ap);
}

void
meso_db_set_error_detail (meso_db_t *self, const char *detail, const char *hint)
{
    assert (self);
    s_copy (self->err.detail, sizeof self->err.detail, detail);
    s_copy (self->err.hint, sizeof self->err.hint, hint);
}

bool
meso_db_error_retryable (const char *sqlstate)
{
    return sqlstate && (strcmp (sqlstate, "40001") == 0 || strcmp (sqlstate, "40P01") == 0);
}

void
meso_db_set_max_attempts (meso_db_t *self, int attempts)
{
    assert (self);
    assert (attempts >= 1);
    self->max_attempts = attempts;
}

unsigned long
meso_db_retries (meso_db_t *self)
{
    assert (self);
    return self->retries;
}

static const char *
s_begin_sql (meso_db_isolation_t iso)
{
    switch (iso) {
        case MESO_DB_READ_COMMITTED: return "BEGIN ISOLATION LEVEL READ COMMITTED";
        case MESO_DB_REPEATABLE_READ: return "BEGIN ISOLATION LEVEL REPEATABLE READ";
        case MESO_DB_SERIALIZABLE: return "BEGIN ISOLATION LEVEL SERIALIZABLE";
    }
    assert (!"unknown isolation level");
    return "BEGIN";
}

/* BEGIN, reconnecting once when the connection turns out to be dead: the
 * failed BEGIN had no effect, so this is safe. */
static int
s_begin (meso_db_t *self, meso_db_isolation_t iso)
{
    for (int pass = 0; pass < 2; pass++) {
        if (meso_db_ensure (self) != 0)
            return -1;
        meso_db_stmts_flush (self);
        PGresult *res = s_exec_raw (self, s_begin_sql (iso));
        if (meso_db_result_ok (res)) {
            PQclear (res);
            return 0;
        }
        s_set_error_from (self, res);
        PQclear (res);
        if (!meso_db_connection_bad (self))
            return -1;
    }
    return -1;
}

int
meso_db_txn (meso_db_t *self, meso_db_isolation_t iso, meso_db_txn_fn *fn, void *arg)
{
    assert (self);
    assert (fn);
    assert (!self->in_txn);     /* no nested transactions */

    for (int attempt = 1;; attempt++) {
        if (s_begin (self, iso) != 0)
            return -1;
        self->in_txn = true;
        self->txn_conflict = false;
        self->txn_stale = false;
        self->txn_calls = self->calls;

        int rc = fn (self, arg);
        if (rc == 0) {
            PGresult *res = s_exec_raw (self, "COMMIT");
            if (meso_db_result_ok (res) && strcmp (PQcmdStatus (res), "COMMIT") == 0) {
                PQclear (res);
                self->in_txn = false;
                s_clear_error (self);
                return 0;
            }
            if (meso_db_result_ok (res)) {
                /* COMMIT of an aborted transaction "succeeds" as ROLLBACK: a
                 * statement failed and the callback went on regardless. */
                if (!self->err.sqlstate[0] && !self->err.message[0])
                    meso_db_set_error (self, "25P02",
                                       "the transaction was aborted by an earlier error");
            }
            else
                s_set_error_from (self, res);
            PQclear (res);
        }
        /* Rolled back, by the callback or by a failed COMMIT. */
        bool conflict = self->txn_conflict || meso_db_error_retryable (self->err.sqlstate);
        bool retry = conflict || self->txn_stale;
        bool lost = meso_db_connection_bad (self);
        if (!lost)
            s_rollback (self);
        self->in_txn = false;
        if (lost || !retry)
            return -1;
        if (!conflict) {
            /* A cached statement went stale (schema change, DISCARD ALL):
             * its entry is gone, the next attempt prepares it afresh. No
             * back-off, nobody to wait for; still bounded by the limit. */
            if (attempt >= self->max_attempts)
                return -1;
            meso_db_stmts_flush (self);
            continue;
        }
        if (attempt >= self->max_attempts) {
            /* Report the conflict itself, even if the callback overwrote it. */
            if (!meso_db_error_retryable (self->err.sqlstate))
                meso_db_set_error (self, "40001",
                                   "serialization failure after %d attempts", attempt);
            return -1;
        }
        self->retries++;
        meso_metrics_db_retry ();
        s_backoff (self, (unsigned long) attempt);
    }
}

int
meso_db_status (meso_db_t *self)
{
    assert (self);
    const char *s = self->err.sqlstate;
    if (!s[0]) {
        if (meso_db_connection_bad (self))
            return MESO_UNAVAILABLE;
        return self->err.message[0] ? MESO_INTERNAL : MESO_OK;
    }
    if (meso_db_error_retryable (s))
        return MESO_ABORTED;
    if (strncmp (s, "08", 2) == 0
        || strcmp (s, "57P01") == 0      /* admin_shutdown */
        || strcmp (s, "57P02") == 0      /* crash_shutdown */
        || strcmp (s, "57P03") == 0      /* cannot_connect_now (starting up) */
        || strcmp (s, "53300") == 0)     /* too_many_connections */
        return MESO_UNAVAILABLE;
    if (strcmp (s, "23505") == 0)
        return MESO_ALREADY_EXISTS;
    if (strcmp (s, "23503") == 0)
        return MESO_NOT_FOUND;
    if (strcmp (s, "23514") == 0 || strcmp (s, "23P01") == 0)
        return MESO_FAILED_PRECONDITION;
    if (strcmp (s, "23502") == 0 || strncmp (s, "22", 2) == 0)
        return MESO_INVALID_ARGUMENT;
    if (strncmp (s, "54", 2) == 0)     /* program_limit_exceeded: too large */
        return MESO_RESOURCE_EXHAUSTED;
    if (strcmp (s, "57014") == 0)
        return MESO_DEADLINE_EXCEEDED;
    if (strcmp (s, "42501") == 0)
        return MESO_PERMISSION_DENIED;
    return MESO_INTERNAL;
}
