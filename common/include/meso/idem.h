/* idem.h -- the idempotency store.
 *
 * Every mutating method runs its effect in one transaction that also records
 * (key, method, sha256 of method + request body, the reply) in the service's
 * own table <schema>.idempotency (created by its migration with the shape of
 * deploy/sql's idempotency tables). Inside the transaction callback:
 *
 *     meso_reply_reset (reply);
 *     int rc = meso_idem_claim (db, "demo", req, reply);
 *     if (rc != 0)                       // 1: replayed, -1: refused/failed
 *         return rc > 0 ? 0 : -1;
 *     ... the effect ...
 *     meso_reply_ok (reply, &body);
 *     return meso_idem_store (db, "demo", req, reply);
 *
 * claim inserts the key first (INSERT ... ON CONFLICT DO NOTHING): a second
 * request with the same key blocks on that row until the first commits or
 * rolls back, then finds the stored reply and replays it. Only successful
 * replies are stored: an error rolls back the whole transaction, key
 * included, so a retry runs again (it changed nothing the first time). */
#ifndef MESO_IDEM_H
#define MESO_IDEM_H

#include "meso/bus.h"
#include "meso/config.h"
#include "meso/db.h"

/* Returns 0 when the key is new (claimed; go on with the effect), 1 when a
 * stored reply was copied into reply (replayed; commit and answer), -1 when
 * the key was used for a different request (reply set to
 * FAILED_PRECONDITION) or the database failed (reply set from the error). */
int meso_idem_claim (meso_db_t *db, const char *schema, const Meso__V1__Request *req,
                     meso_reply_t *reply);

/* Stores reply for the claimed key. Returns 0 or -1 (reply set). */
int meso_idem_store (meso_db_t *db, const char *schema, const Meso__V1__Request *req,
                     const meso_reply_t *reply);

/* ------------------------------------------------------------------------
 * The frame of every mutating method: one READ COMMITTED transaction (retried
 * on 40001/40P01 by meso_db_txn) that claims the key, runs the effect and
 * stores its reply. A replayed key answers the stored reply without running
 * the effect. An effect that fails without setting an error status gets the
 * database error as its reply. */
typedef struct meso_idem_job_t meso_idem_job_t;

/* The effect: fill job->reply (meso_reply_ok) and return 0 to commit, or
 * set an error and return -1 to roll back. It may run more than once (a
 * retried transaction): keep no state across calls. */
typedef int (meso_idem_effect_fn) (meso_db_t *db, meso_idem_job_t *job);

struct meso_idem_job_t {
    const char *schema;             /* the service's schema */
    const Meso__V1__Request *req;
    meso_reply_t *reply;
    void *in;                       /* the decoded request body */
    void *arg;                      /* the service's own state */
    meso_idem_effect_fn *effect;
};

void meso_idem_run (meso_db_t *db, const char *schema, const Meso__V1__Request *req,
                    meso_reply_t *reply, void *in, meso_idem_effect_fn *effect, void *arg);

/* ------------------------------------------------------------------------
 * Retention: keys older than the TTL are deleted by each daemon's tick, in
 * batches of MESO_IDEM_PURGE_BATCH rows that skip rows another
 * transaction holds (FOR UPDATE SKIP LOCKED), so a purge never waits for
 * a writer and a writer waits at most for one batch's statement. A
 * request retried after its key is gone runs again (that is the window's
 * promise: a retry within it replays). */
#define MESO_IDEM_TTL_MIN_S 86400L          /* 24 hours */
#define MESO_IDEM_TTL_MAX_S 2592000L        /* 30 days */
#define MESO_IDEM_PURGE_BATCH 1000
#define MESO_IDEM_PURGE_BATCHES 10          /* per tick at most */

/* The two options every daemon with an idempotency table takes (in its
 * meso_opt_t table, before the end marker). */
#define MESO_IDEM_OPTS \
    { "idempotency-ttl-s", "MESO_IDEMPOTENCY_TTL_S", "604800", \
      "seconds an idempotency key (and its stored reply) is kept: a retry within it replays, " \
      "one after it runs again (86400..2592000: 24 hours to 30 days)", NULL }, \
    { "idempotency-purge-ms", "MESO_IDEMPOTENCY_PURGE_MS", "60000", \
      "how often keys past the TTL are purged, in ms (1000..3600000)", NULL }

typedef struct {
    const char *schema;
    long ttl_s;
    long every_ms;
    int64_t next_ms;            /* monotonic: the next purge */
} meso_idem_purger_t;

/* Reads the two options into p for schema (a constant of the service).
 * Returns 0, or -1 after printing why (a TTL outside 24 h..30 days). */
int meso_idem_purger_init (meso_idem_purger_t *p, const meso_opt_t *opts, const char *schema);

/* Deletes at most batch keys of schema older than ttl_s. Returns the
 * number deleted, or -1 (db error set). */
int meso_idem_purge (meso_db_t *db, const char *schema, long ttl_s, int batch);

/* When due, purges up to MESO_IDEM_PURGE_BATCHES batches (again at the
 * next tick when there is more), counts them in the metric
 * meso_idempotency_keys_purged_total{schema} and logs the total. */
void meso_idem_purge_tick (meso_idem_purger_t *p, meso_db_t *db);

#endif
