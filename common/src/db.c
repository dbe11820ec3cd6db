/* db.c -- PostgreSQL access through libpq (see db.h).
 *
 * One handle, one PGconn, one thread. Values always travel as parameters,
 * never inside the SQL text (the one exception is migrate.c, which runs
 * trusted migration files). The only SQL this file writes itself is BEGIN /
 * COMMIT / ROLLBACK / DEALLOCATE.
 *
 * Statement cache: an unnamed PQexecParams makes the server parse, analyse
 * and plan the statement on every call, which on the booking path cost
 * about as much as running it. So each handle keeps a cache of the
 * statements it has prepared on its session, keyed on the SQL text (hashed,
 * then compared in full: some callers build their SQL with snprintf, so the
 * pointer says nothing). The first call of a query (SELECT, INSERT, UPDATE,
 * DELETE, WITH, VALUES, TABLE, MERGE; utility statements have no plan to
 * save) PQprepare()s it as "meso_<n>" with the parameter types left to the
 * server, exactly as PQexecParams does; every call runs PQexecPrepared with
 * the caller's values, lengths and formats. Callers see no difference but
 * the time.
 *  - Bounded: at most MESO_DB_PREPARE_MAX statements per connection. Past
 *    that, new statements run unnamed as before, so SQL built dynamically
 *    cannot grow the cache (here or in the backend) without bound.
 *  - The cache belongs to the session: s_connect empties it, and every call
 *    also checks that the PGconn and its backend pid are still the ones the
 *    statements were prepared on (in case someone reset the connection
 *    behind our back).
 *  - A schema change makes the server re-plan by itself, except when the
 *    result columns of a statement changed: it then refuses with 0A000
 *    ("cached plan must not change result type"). A 26000 ("prepared
 *    statement does not exist") means the session lost its statements
 *    (DISCARD ALL by a pooler) and empties the whole cache. Either way, for
 *    a statement prepared by an earlier call: outside a transaction the
 *    entry is dropped (DEALLOCATEd) and the statement prepared and run once
 *    more, invisibly; inside meso_db_txn the transaction is already
 *    aborted, so the entry is dropped (DEALLOCATE deferred until the session
 *    is idle), the error goes to the callback as usual, and meso_db_txn
 *    retries the attempt as it does for 40001 -- the new attempt prepares
 *    afresh. The same error from a statement prepared during this very call
 *    (or, in a transaction, during this attempt) is genuine and is returned
 *    as is: a stale statement costs one extra run, or one extra attempt.
 *  - MESO_DB_PREPARE=0 in the environment (read by meso_db_new) or
 *    meso_db_set_prepare(db, false) turns the cache off: every statement
 *    then runs unnamed, as before (for debugging and to measure it).
 *
 * Errors are copied out of the PGresult (SQLSTATE, primary message, detail,
 * hint) into the handle, so the caller can clear the result and still map
 * the error to a status. When the connection itself is gone the SQLSTATE is
 * forced into class 08 ("08006" unless the server said something more
 * precise in that class): whatever the server's last words were (57P01 when
 * an administrator terminated the backend, for example), what the caller
 * needs to know is that the database is unreachable, so it answers
 * UNAVAILABLE and the client retries with the same idempotency key.
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
/* Statement cache (see the top of the file): entries per connection, hash
 * buckets (a power of two), and names waiting for a DEALLOCATE. */
#define MESO_DB_PREPARE_MAX 512
#define MESO_DB_PREPARE_BUCKETS 1024
#define MESO_DB_PENDING_MAX 32

typedef struct s_stmt_t s_stmt_t;
struct s_stmt_t {
    s_stmt_t *next;             /* in its bucket */
    uint32_t hash;
    unsigned long id;           /* prepared as "meso_<id>" */
    unsigned long call;         /* the handle's call counter when prepared */
    char sql[];
};

struct meso_db_t {
    PGconn *conn;
    char *conninfo;
    meso_db_error_t err;
    int max_attempts;
    unsigned long retries;
    unsigned int seed;          /* rand_r state for the back-off */
    bool in_txn;                /* between our BEGIN and COMMIT/ROLLBACK */
    bool txn_conflict;          /* a 40001/40P01 was seen in this attempt */
    bool txn_stale;             /* a cached statement went stale in this attempt */
    unsigned long txn_calls;    /* the call counter when this attempt began */
    /* Statement cache */
    bool prepare;               /* on */
    s_stmt_t *stmts[MESO_DB_PREPARE_BUCKETS];
    size_t nstmts;
    unsigned long next_id;      /* never reused, even across reconnects */
    unsigned long calls;        /* statements run through the cache */
    PGconn *stmts_conn;         /* the session the entries were prepared on */
    int stmts_pid;
    unsigned long pending[MESO_DB_PENDING_MAX];     /* ids to DEALLOCATE */
    int npending;
};

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

static bool
s_connection_bad (meso_db_t *self)
{
    return !self->conn || PQstatus (self->conn) != CONNECTION_OK;
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
    if (s_connection_bad (self) && strncmp (self->err.sqlstate, "08", 2) != 0) {
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

static bool
s_result_ok (const PGresult *res)
{
    if (!res)
        return false;
    ExecStatusType st = PQresultStatus (res);
    return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
}

/* ------------------------------------------------------ statement cache */

static void
s_stmts_clear (meso_db_t *self)
{
    for (size_t b = 0; b < MESO_DB_PREPARE_BUCKETS; b++) {
        s_stmt_t *st = self->stmts[b];
        while (st) {
            s_stmt_t *next = st->next;
            free (st);
            st = next;
        }
        self->stmts[b] = NULL;
    }
    self->nstmts = 0;
    self->npending = 0;
    self->stmts_conn = NULL;
    self->stmts_pid = 0;
}

/* FNV-1a */
static uint32_t
s_hash (const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++) {
        h ^= (unsigned char) *s;
        h *= 16777619u;
    }
    return h;
}

static s_stmt_t *
s_stmt_find (meso_db_t *self, const char *sql, uint32_t hash)
{
    for (s_stmt_t *st = self->stmts[hash & (MESO_DB_PREPARE_BUCKETS - 1)]; st; st = st->next)
        if (st->hash == hash && strcmp (st->sql, sql) == 0)
            return st;
    return NULL;
}

/* Unlinks and frees st; its server-side statement is DEALLOCATEd as soon as
 * the session is idle. */
static void
s_stmt_drop (meso_db_t *self, s_stmt_t *st)
{
    s_stmt_t **pp = &self->stmts[st->hash & (MESO_DB_PREPARE_BUCKETS - 1)];
    while (*pp != st)
        pp = &(*pp)->next;
    *pp = st->next;
    self->nstmts--;
    /* When the list is full the statement stays in the session until it
     * ends: harmless, its name is never reused. */
    if (self->npending < MESO_DB_PENDING_MAX)
        self->pending[self->npending++] = st->id;
    free (st);
}

static void
s_stmt_name (char *out, size_t size, unsigned long id)
{
    snprintf (out, size, "meso_%lu", id);
}

/* DEALLOCATEs dropped statements when no transaction is open (inside one,
 * an aborted transaction would refuse, a live one would be touched). */
static void
s_flush_pending (meso_db_t *self)
{
    if (self->npending == 0 || PQtransactionStatus (self->conn) != PQTRANS_IDLE)
        return;
    for (int i = 0; i < self->npending; i++) {
        char sql[48];
        snprintf (sql, sizeof sql, "DEALLOCATE meso_%lu", self->pending[i]);
        /* Failure (already gone after a DISCARD ALL) does not matter. */
        PQclear (PQexec (self->conn, sql));
    }
    self->npending = 0;
}

/* Whether sql is a query worth preparing (it has a plan to keep). */
static bool
s_cacheable (const char *sql)
{
    static const char *const words[] = {
        "SELECT", "INSERT", "UPDATE", "DELETE", "WITH", "VALUES", "TABLE", "MERGE"
    };
    while (*sql == '(' || isspace ((unsigned char) *sql))
        sql++;
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        size_t n = strlen (words[i]);
        if (strncasecmp (sql, words[i], n) == 0
            && !isalnum ((unsigned char) sql[n]) && sql[n] != '_')
            return true;
    }
    return false;
}

/* Runs sql through the cache. Returns what PQexecParams would have (a
 * result, maybe failed, or NULL): the caller turns it into the error. */
static PGresult *
s_exec_cached (meso_db_t *self, const char *sql, int nparams, const char *const *values,
               const int *lengths, const int *formats, int result_format)
{
    int pid = PQbackendPID (self->conn);
    if (self->stmts_conn != self->conn || self->stmts_pid != pid) {
        s_stmts_clear (self);
        self->stmts_conn = self->conn;
        self->stmts_pid = pid;
    }
    s_flush_pending (self);
    unsigned long call = ++self->calls;
    uint32_t hash = s_hash (sql);
    char name[32];
    for (int pass = 0;; pass++) {
        s_stmt_t *st = s_stmt_find (self, sql, hash);
        if (!st) {
            size_t len = strlen (sql);
            if (self->nstmts >= MESO_DB_PREPARE_MAX
                || !(st = malloc (sizeof *st + len + 1)))
                return PQexecParams (self->conn, sql, nparams, NULL, values, lengths,
                                     formats, result_format);
            st->hash = hash;
            st->id = self->next_id++;
            st->call = call;
            memcpy (st->sql, sql, len + 1);
            s_stmt_name (name, sizeof name, st->id);
            PGresult *res = PQprepare (self->conn, name, sql, nparams, NULL);
            if (!res || PQresultStatus (res) != PGRES_COMMAND_OK) {
                free (st);
                return res;
            }
            PQclear (res);
            size_t b = hash & (MESO_DB_PREPARE_BUCKETS - 1);
            st->next = self->stmts[b];
            self->stmts[b] = st;
            self->nstmts++;
        }
        s_stmt_name (name, sizeof name, st->id);
        PGresult *res = PQexecPrepared (self->conn, name, nparams, values, lengths,
                                        formats, result_format);
        if (s_result_ok (res) || pass > 0 || st->call == call)
            return res;
        const char *state = res ? PQresultErrorField (res, PG_DIAG_SQLSTATE) : NULL;
        if (!state || s_connection_bad (self))
            return res;
        unsigned long st_call = st->call;
        if (strcmp (state, "26000") == 0)
            s_stmts_clear (self);       /* the session lost all of them */
        else if (strcmp (state, "0A000") == 0)
            s_stmt_drop (self, st);     /* the result columns changed */
        else
            return res;
        self->stmts_conn = self->conn;
        self->stmts_pid = pid;
        if (PQtransactionStatus (self->conn) != PQTRANS_IDLE) {
            /* The transaction is aborted: meso_db_txn starts it again,
             * unless the statement was prepared within this very attempt
             * (by DDL in the callback itself: a retry would meet it again). */
            if (self->in_txn && st_call <= self->txn_calls)
                self->txn_stale = true;
            return res;
        }
        PQclear (res);
        s_flush_pending (self);
    }
}

static int
s_connect (meso_db_t *self)
{
    s_stmts_clear (self);           /* a new session has no statements */
    if (self->conn)
        PQfinish (self->conn);
    /* connect_timeout comes before dbname so that a value in the conninfo
     * (expanded from dbname) overrides it. */
    const char *const keys[] = { "connect_timeout", "dbname", NULL };
    const char *const vals[] = { MESO_DB_CONNECT_TIMEOUT, self->conninfo, NULL };
    self->conn = PQconnectdbParams (keys, vals, 1);
    if (s_connection_bad (self)) {
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
    if (s_connection_bad (self))
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
    s_stmts_clear (self);
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
    return !s_connection_bad (self);
}

int
meso_db_ensure (meso_db_t *self)
{
    assert (self);
    if (!s_connection_bad (self))
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
    PGresult *res = self->prepare && s_cacheable (sql)
                  ? s_exec_cached (self, sql, nparams, values, lengths, formats, result_format)
                  : PQexecParams (self->conn, sql, nparams, NULL, values, lengths, formats,
                                  result_format);
    if (!s_result_ok (res)) {
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
    if (rc != 0 && !self->in_txn && s_connection_bad (self))
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
        s_flush_pending (self);
        PGresult *res = s_exec_raw (self, s_begin_sql (iso));
        if (s_result_ok (res)) {
            PQclear (res);
            return 0;
        }
        s_set_error_from (self, res);
        PQclear (res);
        if (!s_connection_bad (self))
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
            if (s_result_ok (res) && strcmp (PQcmdStatus (res), "COMMIT") == 0) {
                PQclear (res);
                self->in_txn = false;
                s_clear_error (self);
                return 0;
            }
            if (s_result_ok (res)) {
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
        bool lost = s_connection_bad (self);
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
            s_flush_pending (self);
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
        if (s_connection_bad (self))
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
    if (strcmp (s, "57014") == 0)
        return MESO_DEADLINE_EXCEEDED;
    if (strcmp (s, "42501") == 0)
        return MESO_PERMISSION_DENIED;
    return MESO_INTERNAL;
}
