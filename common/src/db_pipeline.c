/* db_pipeline.c -- several independent statements in one round trip
 * (meso_db_pipeline, see db.h), with libpq's pipeline mode.
 *
 * A step that needs several reads which do not depend on each other (a
 * patient, their last screening and their clinic's settings) would
 * otherwise wait for the server once per statement. Here every statement
 * is sent, then one sync, then the results are read in order: one round
 * trip, the same statements, the same results.
 *
 * The statements go through the handle's statement cache (db_stmt.c): a
 * statement seen before runs by name; a new one is PREPAREd in the same
 * pipeline just before it runs, and its entry is forgotten again when that
 * PREPARE did not run (the pipeline failed earlier) or failed. A failure
 * aborts the rest of the pipeline, as it aborts a transaction: the first
 * error is the handle's error, every result is dropped. A cached statement
 * gone stale (26000 after DISCARD ALL, 0A000 after a schema change changed
 * its result columns) is handled as db_stmt.c does: inside meso_db_txn the
 * attempt is marked stale and meso_db_txn runs it again; outside, the cache
 * is emptied and the statements run once more, one by one. With the cache
 * off (MESO_DB_PREPARE=0), the statements simply run one by one. */
#include <stdio.h>
#include <string.h>

#include "db_private.h"

typedef struct {
    char name[32];
    bool named;             /* runs a cached statement */
    bool fresh;             /* its PREPARE is in this pipeline */
    bool prepared;          /* that PREPARE succeeded */
    unsigned long id;
} s_slot_t;

static void
s_drop_all (int n, PGresult **out)
{
    for (int i = 0; i < n; i++) {
        PQclear (out[i]);
        out[i] = NULL;
    }
}

static int
s_one_by_one (meso_db_t *self, int n, const meso_db_stmt_t *stmts, PGresult **out)
{
    for (int i = 0; i < n; i++) {
        out[i] = meso_db_query (self, stmts[i].sql, stmts[i].nparams, stmts[i].params);
        if (!out[i]) {
            s_drop_all (i, out);
            return -1;
        }
    }
    return 0;
}

static bool
s_stale (const PGresult *res)
{
    const char *state = res ? PQresultErrorField (res, PG_DIAG_SQLSTATE) : NULL;
    return state && (strcmp (state, "26000") == 0 || strcmp (state, "0A000") == 0);
}

/* Reads the result of one command: the first result, then the NULL that
 * ends the command. NULL when the connection gave nothing. */
static PGresult *
s_result (PGconn *conn)
{
    PGresult *res = PQgetResult (conn);
    if (!res)
        return NULL;
    PGresult *extra;
    while ((extra = PQgetResult (conn)) != NULL)
        PQclear (extra);
    return res;
}

int
meso_db_pipeline (meso_db_t *self, int n, const meso_db_stmt_t *stmts, PGresult **out)
{
    for (int i = 0; i < n; i++)
        out[i] = NULL;
    if (n <= 0)
        return 0;
    if (n > MESO_DB_PIPELINE_MAX) {
        meso_db_set_error (self, "54000", "a pipeline of %d statements (at most %d)", n,
                           MESO_DB_PIPELINE_MAX);
        return -1;
    }
    if (meso_db_ensure (self) != 0)
        return -1;
    if (!self->prepare)
        return s_one_by_one (self, n, stmts, out);
    meso_db_stmts_flush (self);
    PGconn *conn = self->conn;
    s_slot_t slot[MESO_DB_PIPELINE_MAX];
    memset (slot, 0, sizeof slot);
    for (int i = 0; i < n; i++)
        slot[i].named = meso_db_cacheable (stmts[i].sql)
                     && meso_db_stmt_slot (self, stmts[i].sql, slot[i].name, sizeof slot[i].name,
                                           &slot[i].fresh, &slot[i].id);
    bool sent = PQenterPipelineMode (conn) == 1;
    for (int i = 0; sent && i < n; i++) {
        const meso_db_stmt_t *st = &stmts[i];
        if (slot[i].fresh)
            sent = PQsendPrepare (conn, slot[i].name, st->sql, st->nparams, NULL) == 1;
        if (sent && slot[i].named)
            sent = PQsendQueryPrepared (conn, slot[i].name, st->nparams, st->params, NULL, NULL, 0) == 1;
        else if (sent)
            sent = PQsendQueryParams (conn, st->sql, st->nparams, NULL, st->params, NULL, NULL, 0) == 1;
    }
    sent = sent && PQpipelineSync (conn) == 1;

    PGresult *err = NULL;
    bool lost = !sent;
    for (int i = 0; !lost && i < n; i++) {
        if (slot[i].fresh) {
            PGresult *res = s_result (conn);
            if (!res)
                lost = true;
            else if (PQresultStatus (res) == PGRES_COMMAND_OK)
                slot[i].prepared = true;
            else if (PQresultStatus (res) != PGRES_PIPELINE_ABORTED && !err)
                err = res, res = NULL;
            PQclear (res);
        }
        if (lost)
            break;
        PGresult *res = s_result (conn);
        if (!res)
            lost = true;
        else if (meso_db_result_ok (res))
            out[i] = res, res = NULL;
        else if (PQresultStatus (res) != PGRES_PIPELINE_ABORTED && !err)
            err = res, res = NULL;
        PQclear (res);
    }
    if (!lost) {
        PGresult *sync = PQgetResult (conn);
        lost = !sync || PQresultStatus (sync) != PGRES_PIPELINE_SYNC;
        PQclear (sync);
    }
    if (lost || PQexitPipelineMode (conn) != 1)
        self->broken = true;            /* out of step with the server: a new session */
    for (int i = 0; i < n; i++)
        if (slot[i].fresh && !slot[i].prepared)
            meso_db_stmt_forget (self, slot[i].id);
    if (!lost && !err) {
        memset (&self->err, 0, sizeof self->err);
        return 0;
    }
    s_drop_all (n, out);
    bool stale = !lost && s_stale (err);
    meso_db_set_error_result (self, err, NULL);
    PQclear (err);
    if (!stale)
        return -1;
    if (self->in_txn) {
        self->txn_stale = true;         /* meso_db_txn runs the attempt again */
        return -1;
    }
    meso_db_stmts_clear (self);
    return s_one_by_one (self, n, stmts, out);
}
