/* db_stmt.c -- the per-connection prepared-statement cache of a db handle
 * (see db.h, db_private.h). Cut out of db.c because it is one mechanism
 * with its own state and rules; db.c decides when a statement goes through
 * it (meso_db_cacheable and the handle's prepare switch) and owns the
 * connection it lives on.
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
 *    then runs unnamed, as before (for debugging and to measure it). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "db_private.h"

void
meso_db_stmts_clear (meso_db_t *self)
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
void
meso_db_stmts_flush (meso_db_t *self)
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
bool
meso_db_cacheable (const char *sql)
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

/* The session's statements are those of this connection and backend. */
static void
s_stmts_same_session (meso_db_t *self)
{
    int pid = PQbackendPID (self->conn);
    if (self->stmts_conn != self->conn || self->stmts_pid != pid) {
        meso_db_stmts_clear (self);
        self->stmts_conn = self->conn;
        self->stmts_pid = pid;
    }
}

bool
meso_db_stmt_slot (meso_db_t *self, const char *sql, char *name, size_t size, bool *fresh,
                   unsigned long *id)
{
    s_stmts_same_session (self);
    unsigned long call = ++self->calls;
    uint32_t hash = s_hash (sql);
    s_stmt_t *st = s_stmt_find (self, sql, hash);
    *fresh = false;
    if (!st) {
        size_t len = strlen (sql);
        if (self->nstmts >= MESO_DB_PREPARE_MAX || !(st = malloc (sizeof *st + len + 1)))
            return false;
        st->hash = hash;
        st->id = self->next_id++;
        st->call = call;
        memcpy (st->sql, sql, len + 1);
        size_t b = hash & (MESO_DB_PREPARE_BUCKETS - 1);
        st->next = self->stmts[b];
        self->stmts[b] = st;
        self->nstmts++;
        *fresh = true;
    }
    *id = st->id;
    s_stmt_name (name, size, st->id);
    return true;
}

void
meso_db_stmt_forget (meso_db_t *self, unsigned long id)
{
    for (size_t b = 0; b < MESO_DB_PREPARE_BUCKETS; b++)
        for (s_stmt_t **pp = &self->stmts[b]; *pp; pp = &(*pp)->next)
            if ((*pp)->id == id) {
                s_stmt_t *st = *pp;
                *pp = st->next;
                self->nstmts--;
                free (st);
                return;
            }
}

/* Runs sql through the cache. Returns what PQexecParams would have (a
 * result, maybe failed, or NULL): the caller turns it into the error. */
PGresult *
meso_db_exec_cached (meso_db_t *self, const char *sql, int nparams, const char *const *values,
               const int *lengths, const int *formats, int result_format)
{
    int pid = PQbackendPID (self->conn);
    if (self->stmts_conn != self->conn || self->stmts_pid != pid) {
        meso_db_stmts_clear (self);
        self->stmts_conn = self->conn;
        self->stmts_pid = pid;
    }
    meso_db_stmts_flush (self);
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
        if (meso_db_result_ok (res) || pass > 0 || st->call == call)
            return res;
        const char *state = res ? PQresultErrorField (res, PG_DIAG_SQLSTATE) : NULL;
        if (!state || meso_db_connection_bad (self))
            return res;
        unsigned long st_call = st->call;
        if (strcmp (state, "26000") == 0)
            meso_db_stmts_clear (self);       /* the session lost all of them */
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
        meso_db_stmts_flush (self);
    }
}

