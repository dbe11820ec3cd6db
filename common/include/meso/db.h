/* db.h -- PostgreSQL access through libpq.
 *
 * One meso_db_t owns one PGconn and belongs to one thread. Queries are
 * always parameterised: there is no call that takes SQL with values pasted
 * in. Each handle prepares the queries it runs once per connection and
 * reuses them (a bounded cache keyed on the SQL text, see db.c); callers
 * see no difference except the time. Errors carry the SQLSTATE, the primary message, detail
 * and hint, so a handler can map them to a status and a person can act.
 *
 * Transactions go through meso_db_txn, which runs a callback between BEGIN
 * and COMMIT and, when the transaction fails with a serialization failure
 * (40001) or a deadlock (40P01) -- at any statement, COMMIT included -- rolls
 * back and runs the callback again from the start, up to a bounded number of
 * attempts with a short randomised back-off. Any other failure is returned.
 * The callback must therefore keep no state across attempts except what it
 * resets at its start. */
#ifndef MESO_DB_H
#define MESO_DB_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct meso_db_t meso_db_t;

typedef struct {
    char sqlstate[6];     /* "40001"; "08006" for connection loss; "" if none */
    char message[512];
    char detail[512];
    char hint[256];
} meso_db_error_t;

typedef enum {
    MESO_DB_READ_COMMITTED,
    MESO_DB_REPEATABLE_READ,
    MESO_DB_SERIALIZABLE
} meso_db_isolation_t;

/* Creates a handle and connects. Returns NULL only on out-of-memory; a
 * failed connection leaves a handle whose meso_db_ok() is false and whose
 * error says why (the next query reconnects). */
meso_db_t *meso_db_new (const char *conninfo);
void meso_db_destroy (meso_db_t **self_p);

/* The underlying connection (for PQsocket and LISTEN/NOTIFY). */
PGconn *meso_db_conn (meso_db_t *self);

/* True when connected. meso_db_ping runs "SELECT 1" (reconnecting first if
 * the connection is down) and returns 0 or -1. */
bool meso_db_ok (meso_db_t *self);
int meso_db_ping (meso_db_t *self);

/* Reconnects when the connection is bad. Returns 0 or -1. */
int meso_db_ensure (meso_db_t *self);

/* Runs a parameterised statement with text parameters (NULL entries are SQL
 * NULL). Returns the result (caller PQclear()s it) when the status is
 * PGRES_COMMAND_OK or PGRES_TUPLES_OK; otherwise NULL with the error set. */
PGresult *meso_db_query (meso_db_t *self, const char *sql, int nparams,
                         const char *const *params);

/* Same with explicit lengths and formats (1 = binary) per parameter, for
 * bytea. Results are returned in text format. */
PGresult *meso_db_query_bin (meso_db_t *self, const char *sql, int nparams,
                             const char *const *values, const int *lengths,
                             const int *formats);

/* Same as meso_db_query with every result column in binary format
 * (integers in network byte order, as PQexecParams with resultFormat 1). */
PGresult *meso_db_query_binres (meso_db_t *self, const char *sql, int nparams,
                                const char *const *params);

/* Turns the handle's statement cache on or off (default: on, unless the
 * environment had MESO_DB_PREPARE=0 when the handle was made). Off, every
 * statement is parsed and planned on each call (unnamed PQexecParams). */
void meso_db_set_prepare (meso_db_t *self, bool on);
/* Number of statements the handle has prepared on its current connection. */
size_t meso_db_prepared (meso_db_t *self);

/* One statement of a pipeline (meso_db_pipeline): text parameters, text
 * results, as meso_db_query. */
typedef struct {
    const char *sql;
    int nparams;
    const char *const *params;
} meso_db_stmt_t;

#define MESO_DB_PIPELINE_MAX 16

/* Runs n (<= MESO_DB_PIPELINE_MAX) statements that do not depend on each
 * other's results in one round trip (libpq pipeline mode, one sync at the
 * end), through the statement cache, in order. Outside a transaction they
 * run as one implicit transaction (each with its own snapshot under READ
 * COMMITTED); inside meso_db_txn, in the caller's transaction. Returns 0
 * with out[i] the result of statement i (the caller PQclear()s each), or
 * -1 with every out[i] NULL and the error of the first statement that
 * failed set (the ones after it did not run). A statement gone stale in
 * the cache is handled as meso_db_query does (db_pipeline.c). */
int meso_db_pipeline (meso_db_t *self, int n, const meso_db_stmt_t *stmts, PGresult **out);

/* Runs a statement and discards its result: 0 or -1. */
int meso_db_exec (meso_db_t *self, const char *sql, int nparams,
                  const char *const *params);

/* The last error (sqlstate "" when the last call succeeded). */
const meso_db_error_t *meso_db_error (meso_db_t *self);

/* Sets the error (e.g. from a callback that refuses for a business reason;
 * sqlstate may be NULL). */
void meso_db_set_error (meso_db_t *self, const char *sqlstate, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

/* Sets the detail and hint of the error just set with meso_db_set_error
 * (either may be NULL), so a refusal reads like PostgreSQL's own. */
void meso_db_set_error_detail (meso_db_t *self, const char *detail, const char *hint);

/* True for 40001 / 40P01. */
bool meso_db_error_retryable (const char *sqlstate);

/* The callback of a transaction: return 0 to commit, -1 to roll back (the
 * error or the caller's own state says why). */
typedef int (meso_db_txn_fn) (meso_db_t *db, void *arg);

/* Runs fn inside BEGIN ISOLATION LEVEL iso ... COMMIT, retrying from the
 * start on 40001/40P01 up to the handle's attempt limit (default 10), and
 * also (without back-off) when a cached statement went stale inside the
 * transaction (0A000 "cached plan must not change result type" after a
 * schema change, 26000 after DISCARD ALL).
 * Returns 0 when committed; -1 when fn returned -1 (rolled back) or the
 * database failed (error set; sqlstate "40001"/"40P01" when the attempts ran
 * out). A lost connection is not retried here: its effect is unknown, the
 * caller's idempotency key resolves a retry. */
int meso_db_txn (meso_db_t *self, meso_db_isolation_t iso, meso_db_txn_fn *fn, void *arg);

/* Attempt limit for meso_db_txn (>= 1). */
void meso_db_set_max_attempts (meso_db_t *self, int attempts);
/* Number of retries meso_db_txn has performed since the handle was made
 * (for metrics and tests). */
unsigned long meso_db_retries (meso_db_t *self);

/* Maps the last database error to a meso status: 40001/40P01 -> ABORTED,
 * class 08 / no connection -> UNAVAILABLE, 23505 -> ALREADY_EXISTS,
 * 23503 -> NOT_FOUND, 23514/23P01/22xxx -> FAILED_PRECONDITION /
 * INVALID_ARGUMENT, 54xxx (program limit exceeded) -> RESOURCE_EXHAUSTED,
 * 57014 -> DEADLINE_EXCEEDED, else INTERNAL. */
int meso_db_status (meso_db_t *self);

/* items[0..n) as a text[] literal ({"a","b\"c"}: every element quoted,
 * '"' and '\' escaped, a NULL item as the NULL element), for a
 * $1::text[] parameter. Malloc'd (the caller frees it); NULL on
 * out-of-memory. Pure (db_array.c). */
char *meso_db_text_array (const char *const *items, size_t n);

#endif
