/* db_private.h -- what db.c offers the rest of libmeso but not services:
 * filling a handle's error from a PGresult obtained outside db.c (migrate.c
 * runs whole migration files with PQexec on meso_db_conn); and the handle
 * itself, shared by db.c (connection, errors, transactions) and db_stmt.c
 * (the prepared-statement cache). */
#ifndef MESO_DB_PRIVATE_H
#define MESO_DB_PRIVATE_H

#include <stdbool.h>
#include <stdint.h>

#include "meso/db.h"

/* Statement cache (see db_stmt.c): entries per connection, hash
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
    bool broken;                /* libpq failed a call on its own: reconnect */
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


/* True when the handle has no usable connection. */
static inline bool
meso_db_connection_bad (meso_db_t *self)
{
    return !self->conn || self->broken || PQstatus (self->conn) != CONNECTION_OK;
}

/* True for a result that is COMMAND_OK or TUPLES_OK. */
static inline bool
meso_db_result_ok (const PGresult *res)
{
    if (!res)
        return false;
    ExecStatusType st = PQresultStatus (res);
    return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
}

/* db_stmt.c: the statement cache of the handle's session. */
/* Forgets every entry (a new or lost session has none). */
void meso_db_stmts_clear (meso_db_t *self);
/* DEALLOCATEs dropped statements when no transaction is open. */
void meso_db_stmts_flush (meso_db_t *self);
/* Whether sql is a query worth preparing (it has a plan to keep). */
bool meso_db_cacheable (const char *sql);
/* Runs sql through the cache; returns what PQexecParams would have. */
PGresult *meso_db_exec_cached (meso_db_t *self, const char *sql, int nparams,
                               const char *const *values, const int *lengths,
                               const int *formats, int result_format);

/* For a pipeline (db_pipeline.c): the name of sql's cached statement in
 * name, with *fresh true when the entry is new and the caller must send
 * its PREPARE first; false when the cache is full (run it unnamed). */
bool meso_db_stmt_slot (meso_db_t *self, const char *sql, char *name, size_t size, bool *fresh,
                        unsigned long *id);
/* Forgets the entry id, whose PREPARE never ran: nothing to DEALLOCATE. */
void meso_db_stmt_forget (meso_db_t *self, unsigned long id);

/* Sets the handle's error from a failed result (res may be NULL: the error
 * is then taken from the connection), prefixing the message with prefix
 * (may be NULL). Connection loss is reported as class 08, as everywhere. */
void meso_db_set_error_result (meso_db_t *self, const PGresult *res, const char *prefix);

#endif
