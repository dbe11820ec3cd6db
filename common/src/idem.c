/* idem.c -- the idempotency store (see idem.h).
 *
 * claim is an INSERT ... ON CONFLICT (key) DO NOTHING of (key, method,
 * request hash) before the effect; store is an UPDATE of the reply after
 * it, in the same transaction. What that buys:
 *
 * - Two requests with one key at once: the second INSERT waits on the
 *   first's uncommitted row (unique index), then finds the committed row
 *   and replays its reply; if the first rolled back, the second claims the
 *   key and runs. The effect happens once. (Under REPEATABLE READ or
 *   SERIALIZABLE the waiting INSERT fails with 40001 instead, meso_db_txn
 *   runs the callback again, and the new snapshot sees the stored reply.)
 * - A request that fails (callback returns -1) rolls back its claim too:
 *   nothing was done, so a retry really runs again.
 * - The same key with another request (different method or body) is
 *   refused with FAILED_PRECONDITION and changes nothing.
 *
 * The request hash is sha256(method || '\0' || body), computed by
 * PostgreSQL from one binary parameter: no hash code in libmeso, and the
 * NUL keeps ("ab", "c") and ("a", "bc") apart. The stored reply is the
 * packed envelope without request_id (meso_reply_pack); a replay is
 * meso_reply_unpack_into, which marks the reply replayed.
 *
 * The schema is an identifier, not a value, so it cannot be a parameter:
 * it is checked against [a-z_][a-z0-9_]* and quoted with
 * PQescapeIdentifier. It is a constant of the calling service, never input.
 *
 * The frame's last statement is the audit row of a patient method
 * (meso_audit_append), replays included.
 *
 * Keys are kept MESO_IDEMPOTENCY_TTL_S (24 hours to 30 days) and then
 * purged by the daemon's tick in small batches (meso_idem_purge_tick).
 *
 * Requests without a key are not recorded: claim returns 0, store does
 * nothing (the bus server already refuses mutating methods without one). */
#include "meso/idem.h"
#include "meso/audit.h"
#include "meso/log.h"
#include "meso/metrics.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>

#define SCHEMA_MAX 63           /* NAMEDATALEN - 1 */

static bool
s_schema_valid (const char *s)
{
    size_t n = strlen (s);
    if (n == 0 || n > SCHEMA_MAX)
        return false;
    if (!((s[0] >= 'a' && s[0] <= 'z') || s[0] == '_'))
        return false;
    for (size_t i = 1; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return false;
    return true;
}

/* Writes "<quoted schema>.idempotency" into out. Returns 0 or -1 (reply
 * set). */
static int
s_table (meso_db_t *db, const char *schema, meso_reply_t *reply, char *out, size_t size)
{
    if (!s_schema_valid (schema)) {
        meso_reply_error (reply, MESO_INTERNAL, "invalid idempotency schema name");
        return -1;
    }
    if (meso_db_ensure (db) != 0) {
        meso_reply_db_error (reply, db, "idempotency store");
        return -1;
    }
    char *quoted = PQescapeIdentifier (meso_db_conn (db), schema, strlen (schema));
    if (!quoted) {
        meso_reply_error (reply, MESO_INTERNAL, "cannot quote schema name");
        return -1;
    }
    snprintf (out, size, "%s.idempotency", quoted);
    PQfreemem (quoted);
    return 0;
}

/* method || '\0' || body, the input of the request hash (malloc'd). */
static char *
s_hash_input (const Meso__V1__Request *req, int *len)
{
    const char *method = req->method ? req->method : "";
    size_t mlen = strlen (method);
    size_t total = mlen + 1 + req->body.len;
    char *buf = malloc (total ? total : 1);
    if (!buf)
        return NULL;
    memcpy (buf, method, mlen);
    buf[mlen] = '\0';
    if (req->body.len)
        memcpy (buf + mlen + 1, req->body.data, req->body.len);
    *len = (int) total;
    return buf;
}

static bool
s_has_key (const Meso__V1__Request *req)
{
    return req->idempotency_key && req->idempotency_key[0];
}

int
meso_idem_claim (meso_db_t *db, const char *schema, const Meso__V1__Request *req,
                 meso_reply_t *reply)
{
    assert (db);
    assert (schema);
    assert (req);
    assert (reply);
    if (!s_has_key (req))
        return 0;
    if (req->body.len > (size_t) MESO_BUS_MAX_FRAME * 4) {
        meso_reply_error (reply, MESO_RESOURCE_EXHAUSTED, "request body too large");
        return -1;
    }
    char table[SCHEMA_MAX * 2 + 32];
    if (s_table (db, schema, reply, table, sizeof table) != 0)
        return -1;
    int hlen;
    char *hin = s_hash_input (req, &hlen);
    if (!hin) {
        meso_reply_error (reply, MESO_RESOURCE_EXHAUSTED, "out of memory");
        return -1;
    }
    const char *method = req->method ? req->method : "";
    const char *values[] = { req->idempotency_key, method, hin };
    int lengths[] = { 0, 0, hlen };
    int formats[] = { 0, 0, 1 };

    char sql[512];
    snprintf (sql, sizeof sql,
              "INSERT INTO %s (key, method, request_hash) VALUES ($1, $2, sha256($3::bytea))"
              " ON CONFLICT (key) DO NOTHING", table);
    PGresult *res = meso_db_query_bin (db, sql, 3, values, lengths, formats);
    if (!res) {
        free (hin);
        meso_reply_db_error (reply, db, "idempotency claim");
        return -1;
    }
    bool claimed = strcmp (PQcmdTuples (res), "1") == 0;
    PQclear (res);
    if (claimed) {
        free (hin);
        return 0;
    }

    /* The key exists (committed: the INSERT waited for its writer). */
    snprintf (sql, sizeof sql,
              "SELECT method, request_hash = sha256($2::bytea), reply IS NULL, reply"
              " FROM %s WHERE key = $1", table);
    const char *values2[] = { req->idempotency_key, hin };
    int lengths2[] = { 0, hlen };
    int formats2[] = { 0, 1 };
    res = meso_db_query_bin (db, sql, 2, values2, lengths2, formats2);
    free (hin);
    if (!res) {
        meso_reply_db_error (reply, db, "idempotency lookup");
        return -1;
    }
    int rc = -1;
    if (PQntuples (res) != 1) {
        /* Deleted between our INSERT and SELECT (a purge of old keys): the
         * caller's transaction retry will claim it. */
        meso_db_set_error (db, "40001", "idempotency key %s vanished during claim",
                           req->idempotency_key);
        meso_reply_db_error (reply, db, "idempotency claim");
    }
    else if (strcmp (PQgetvalue (res, 0, 0), method) != 0
             || strcmp (PQgetvalue (res, 0, 1), "t") != 0) {
        meso_reply_error (reply, MESO_FAILED_PRECONDITION,
                          "idempotency key %s was already used for a different request",
                          req->idempotency_key);
        meso_reply_detail (reply, "the key was first used with method %s; "
                           "use a new key for a new request", PQgetvalue (res, 0, 0));
        meso_reply_reason (reply, "idempotency_key_reused", "idempotency_key",
                           "this key belongs to another request");
    }
    else if (strcmp (PQgetvalue (res, 0, 2), "t") == 0) {
        /* The first request committed without storing a reply: a handler
         * bug (store is part of the success path). */
        meso_reply_error (reply, MESO_INTERNAL,
                          "request with idempotency key %s completed without a stored reply",
                          req->idempotency_key);
    }
    else {
        size_t len = 0;
        unsigned char *data = PQunescapeBytea ((const unsigned char *) PQgetvalue (res, 0, 3),
                                               &len);
        if (data && meso_reply_unpack_into (reply, data, len) == 0)
            rc = 1;
        else
            meso_reply_error (reply, MESO_INTERNAL,
                              "stored reply for idempotency key %s does not decode",
                              req->idempotency_key);
        PQfreemem (data);
    }
    PQclear (res);
    return rc;
}

int
meso_idem_store (meso_db_t *db, const char *schema, const Meso__V1__Request *req,
                 const meso_reply_t *reply)
{
    assert (db);
    assert (schema);
    assert (req);
    assert (reply);
    if (!s_has_key (req))
        return 0;
    /* idem.h promises the reply is set on failure; the caller's reply is
     * not really const (it is the one it fills), so writing is sound. */
    meso_reply_t *out = (meso_reply_t *) reply;
    char table[SCHEMA_MAX * 2 + 32];
    if (s_table (db, schema, out, table, sizeof table) != 0)
        return -1;
    size_t len = 0;
    uint8_t *packed = meso_reply_pack (reply, &len);
    if (!packed) {
        meso_reply_error (out, MESO_RESOURCE_EXHAUSTED, "out of memory");
        return -1;
    }
    char sql[256];
    snprintf (sql, sizeof sql, "UPDATE %s SET reply = $2 WHERE key = $1", table);
    const char *values[] = { req->idempotency_key, (const char *) packed };
    int lengths[] = { 0, (int) len };
    int formats[] = { 0, 1 };
    PGresult *res = meso_db_query_bin (db, sql, 2, values, lengths, formats);
    free (packed);
    if (!res) {
        meso_reply_db_error (out, db, "idempotency store");
        return -1;
    }
    bool updated = strcmp (PQcmdTuples (res), "1") == 0;
    PQclear (res);
    if (!updated) {
        meso_reply_error (out, MESO_INTERNAL,
                          "idempotency key %s was not claimed before storing its reply",
                          req->idempotency_key);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------ the method frame */

static int
s_job_txn (meso_db_t *db, void *arg)
{
    meso_idem_job_t *job = arg;
    meso_reply_reset (job->reply);
    int rc = meso_idem_claim (db, job->schema, job->req, job->reply);
    if (rc < 0)
        return -1;
    if (rc == 0) {
        if (job->effect (db, job) != 0) {
            if (meso_reply_status (job->reply) == MESO_OK)
                meso_reply_db_error (job->reply, db, job->req->method);
            return -1;
        }
        if (meso_idem_store (db, job->schema, job->req, job->reply) != 0)
            return -1;
    }
    else
        meso_audit_replay ();
    /* Last, so the audit chain's lock is held only for the commit. */
    if (meso_audit_append (db, job->reply) != 0) {
        meso_reply_db_error (job->reply, db, "audit trail");
        return -1;
    }
    return 0;
}

void
meso_idem_run (meso_db_t *db, const char *schema, const Meso__V1__Request *req,
               meso_reply_t *reply, void *in, meso_idem_effect_fn *effect, void *arg)
{
    meso_idem_job_t job = { schema, req, reply, in, arg, effect };
    if (meso_db_txn (db, MESO_DB_READ_COMMITTED, s_job_txn, &job) != 0
        && meso_reply_status (reply) == MESO_OK)
        meso_reply_db_error (reply, db, req->method);
}

/* ------------------------------------------------------------ retention */

#define PURGED_HELP "Idempotency keys deleted after their retention (MESO_IDEMPOTENCY_TTL_S)."

int
meso_idem_purger_init (meso_idem_purger_t *p, const meso_opt_t *opts, const char *schema)
{
    assert (p && opts && schema && s_schema_valid (schema));
    memset (p, 0, sizeof *p);
    p->schema = schema;
    if (meso_config_int (opts, "idempotency-ttl-s", MESO_IDEM_TTL_MIN_S, MESO_IDEM_TTL_MAX_S,
                         &p->ttl_s) != 0
        || meso_config_int (opts, "idempotency-purge-ms", 1000, 3600000L, &p->every_ms) != 0)
        return -1;
    /* The series exists from the start at 0, so rate() sees the first. */
    meso_metrics_add ("meso_idempotency_keys_purged_total", PURGED_HELP, "schema", schema, 0);
    return 0;
}

int
meso_idem_purge (meso_db_t *db, const char *schema, long ttl_s, int batch)
{
    assert (db && schema && s_schema_valid (schema));
    if (meso_db_ensure (db) != 0)
        return -1;
    char *quoted = PQescapeIdentifier (meso_db_conn (db), schema, strlen (schema));
    if (!quoted) {
        meso_db_set_error (db, NULL, "cannot quote schema name");
        return -1;
    }
    /* One statement: the rows are locked by the subquery (skipping those
     * a writer holds) and deleted by their ctid while still locked. */
    char sql[512];
    snprintf (sql, sizeof sql,
              "DELETE FROM %s.idempotency WHERE ctid = ANY (ARRAY ("
              "SELECT ctid FROM %s.idempotency WHERE created_at < now () - $1::bigint * interval '1 second'"
              " LIMIT $2::integer FOR UPDATE SKIP LOCKED))", quoted, quoted);
    PQfreemem (quoted);
    char ttl[24], lim[16];
    snprintf (ttl, sizeof ttl, "%ld", ttl_s);
    snprintf (lim, sizeof lim, "%d", batch);
    const char *params[] = { ttl, lim };
    PGresult *res = meso_db_query (db, sql, 2, params);
    if (!res)
        return -1;
    int n = atoi (PQcmdTuples (res));
    PQclear (res);
    return n;
}

static int64_t
s_mono_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
meso_idem_purge_tick (meso_idem_purger_t *p, meso_db_t *db)
{
    assert (p && db);
    int64_t now = s_mono_ms ();
    if (now < p->next_ms)
        return;
    p->next_ms = now + p->every_ms;
    long total = 0;
    for (int i = 0; i < MESO_IDEM_PURGE_BATCHES; i++) {
        int n = meso_idem_purge (db, p->schema, p->ttl_s, MESO_IDEM_PURGE_BATCH);
        if (n < 0) {
            meso_warn ("purging %s idempotency keys failed: %s", p->schema,
                       meso_db_error (db)->message);
            break;
        }
        total += n;
        if (n < MESO_IDEM_PURGE_BATCH)
            break;
        if (i == MESO_IDEM_PURGE_BATCHES - 1)
            p->next_ms = now;           /* more waiting: again at the next tick */
    }
    if (total > 0) {
        meso_metrics_add ("meso_idempotency_keys_purged_total", PURGED_HELP, "schema", p->schema,
                          (double) total);
        meso_info ("purged %ld %s idempotency key%s older than %ld s", total, p->schema,
                   total > 1 ? "s" : "", p->ttl_s);
    }
}
