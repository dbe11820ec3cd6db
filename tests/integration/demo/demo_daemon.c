/* demo_daemon.c -- meso-demo: a small real service for the bus and
 * database tests and the bus benchmark.
 *
 * It is built like a meso service (config, one ROUTER through
 * meso_bus_server, handlers that decode, validate, run one transaction,
 * reply) but keeps everything in one file and creates its own schema at
 * start, since it is not part of the product and has no migration.
 *
 * The knobs exist for tests: Increment can sleep before or after COMMIT so
 * a test can SIGKILL the daemon at either point and check that the
 * client's retry, with the same idempotency key, makes the effect happen
 * exactly once; Conflict forces one real serialization failure (40001)
 * through a second connection so the retry of meso_db_txn is exercised
 * against PostgreSQL, not a mock.
 *
 * With --db '' it runs without a database: only Echo and Health work (the
 * benchmark measures the bus alone that way). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meso/access.h"
#include "meso/curve.h"
#include "meso/bus.h"
#include "meso/config.h"
#include "meso/db.h"
#include "meso/idem.h"
#include "meso/log.h"
#include "demo.pb-c.h"

#define SCHEMA "demo"
#define NAME_MAX_LEN 200

typedef struct {
    meso_db_t *db;              /* NULL without a database */
    meso_db_t *db2;             /* second connection, for Conflict */
    const char *conninfo;
    meso_bus_server_t *server;
    char health_note [64];
    char *health_notes [1];
} demo_t;

/* ------------------------------------------------------------- schema */

static int
s_schema_txn (meso_db_t *db, void *arg)
{
    /* Two daemons starting on one database at once would race on
     * CREATE ... IF NOT EXISTS (catalog unique violations): serialise. */
    static const char *const sql [] = {
        "SELECT pg_advisory_xact_lock (727001)",
        "CREATE SCHEMA IF NOT EXISTS demo",
        "CREATE TABLE IF NOT EXISTS demo.counter ("
        "  name text PRIMARY KEY,"
        "  value bigint NOT NULL)",
        "CREATE TABLE IF NOT EXISTS demo.idempotency ("
        "  key text PRIMARY KEY,"
        "  method text NOT NULL,"
        "  request_hash bytea NOT NULL,"
        "  reply bytea,"
        "  created_at timestamptz NOT NULL DEFAULT now())",
    };
    for (size_t i = 0; i < sizeof sql / sizeof sql [0]; i++)
        if (meso_db_exec (db, sql [i], 0, NULL) != 0)
            return -1;
    return 0;
}

/* ------------------------------------------------------------- helpers */

static bool
s_need_db (demo_t *self, const char *method, meso_reply_t *reply)
{
    if (self->db)
        return true;
    meso_reply_error (reply, MESO_FAILED_PRECONDITION,
                      "%s needs a database; this meso-demo runs without one", method);
    meso_reply_detail (reply, "start it with --db or MESO_DB set to a libpq conninfo");
    return false;
}

static bool
s_valid_name (const char *name, meso_reply_t *reply)
{
    size_t n = strlen (name);
    if (n == 0 || n > NAME_MAX_LEN) {
        meso_reply_error (reply, MESO_INVALID_ARGUMENT,
                          "name must be 1 to %d bytes long", NAME_MAX_LEN);
        meso_reply_reason (reply, n ? "out_of_range" : "missing_field", "name",
                           "give the counter a name of 1 to %d bytes", NAME_MAX_LEN);
        return false;
    }
    return true;
}

/* Reads counter name into *value; returns 1 found, 0 not found, -1 error. */
static int
s_counter_get (meso_db_t *db, const char *name, int64_t *value)
{
    const char *params [] = { name };
    PGresult *res = meso_db_query (db, "SELECT value FROM demo.counter WHERE name = $1",
                                   1, params);
    if (!res)
        return -1;
    int found = PQntuples (res) == 1;
    *value = found ? strtoll (PQgetvalue (res, 0, 0), NULL, 10) : 0;
    PQclear (res);
    return found;
}

/* ------------------------------------------------------------- Echo */

static void
s_echo (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    (void) body;     /* decoded by the server: only a valid EchoRequest gets here */
    /* EchoRequest and EchoReply have the same shape (bytes payload = 1):
     * the packed request body is the packed reply. */
    meso_reply_ok_bytes (reply, req->body.data, req->body.len);
}

/* ------------------------------------------------------------- Increment */

typedef struct {
    const Meso__V1__Request *req;
    const Meso__Test__IncrementRequest *in;
    meso_reply_t *reply;
    bool replayed;
} s_increment_t;

static int
s_increment_txn (meso_db_t *db, void *arg)
{
    s_increment_t *job = arg;
    meso_reply_reset (job->reply);
    job->replayed = false;
    int rc = meso_idem_claim (db, SCHEMA, job->req, job->reply);
    if (rc != 0) {
        job->replayed = rc > 0;
        return rc > 0 ? 0 : -1;
    }
    char by [32];
    snprintf (by, sizeof by, "%" PRId64, job->in->by);
    const char *params [] = { job->in->name, by };
    PGresult *res = meso_db_query (db,
        "INSERT INTO demo.counter (name, value) VALUES ($1, $2::bigint) "
        "ON CONFLICT (name) DO UPDATE SET value = demo.counter.value + EXCLUDED.value "
        "RETURNING value", 2, params);
    if (!res) {
        meso_reply_db_error (job->reply, db, "cannot increment the counter");
        return -1;
    }
    Meso__Test__IncrementReply out = MESO__TEST__INCREMENT_REPLY__INIT;
    out.value = strtoll (PQgetvalue (res, 0, 0), NULL, 10);
    PQclear (res);
    meso_reply_ok (job->reply, &out.base);
    if (meso_idem_store (db, SCHEMA, job->req, job->reply) != 0)
        return -1;
    if (job->in->sleep_before_commit_ms)
        zclock_sleep ((int) job->in->sleep_before_commit_ms);
    return 0;
}

static void
s_increment (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    (void) body;
    demo_t *self = arg;
    if (!s_need_db (self, req->method, reply))
        return;
    Meso__Test__IncrementRequest *in = meso__test__increment_request__unpack (
        NULL, req->body.len, req->body.data);
    if (!in) {
        meso_reply_error (reply, MESO_INVALID_ARGUMENT,
                          "body is not a packed meso.test.IncrementRequest");
        return;
    }
    if (s_valid_name (in->name, reply)) {
        s_increment_t job = { req, in, reply, false };
        if (meso_db_txn (self->db, MESO_DB_READ_COMMITTED, s_increment_txn, &job) != 0) {
            /* The callback set the reply when it refused; otherwise the
             * database failed (at COMMIT, for instance). */
            if (meso_reply_status (reply) == MESO_OK)
                meso_reply_db_error (reply, self->db, "demo.Increment failed");
        }
        else
        if (in->sleep_after_commit_ms && !job.replayed)
            zclock_sleep ((int) in->sleep_after_commit_ms);
    }
    meso__test__increment_request__free_unpacked (in, NULL);
}

/* ------------------------------------------------------------- Get */

static void
s_get (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    demo_t *self = arg;
    if (!s_need_db (self, req->method, reply))
        return;
    Meso__Test__GetRequest *in = body;
    if (s_valid_name (in->name, reply)) {
        Meso__Test__GetReply out = MESO__TEST__GET_REPLY__INIT;
        int found = s_counter_get (self->db, in->name, &out.value);
        if (found < 0)
            meso_reply_db_error (reply, self->db, "cannot read the counter");
        else {
            out.found = found == 1;
            meso_reply_ok (reply, &out.base);
        }
    }
}

/* ------------------------------------------------------------- Conflict */

typedef struct {
    demo_t *self;
    const Meso__V1__Request *req;
    const Meso__Test__ConflictRequest *in;
    meso_reply_t *reply;
    int attempt;                /* counts callback runs: state kept on purpose */
    int64_t value;
} s_conflict_t;

static int
s_conflict_txn (meso_db_t *db, void *arg)
{
    s_conflict_t *job = arg;
    job->attempt++;
    meso_reply_reset (job->reply);
    int rc = meso_idem_claim (db, SCHEMA, job->req, job->reply);
    if (rc != 0)
        return rc > 0 ? 0 : -1;
    /* The first statement that reads the counter takes the snapshot. */
    int64_t before;
    if (s_counter_get (db, job->in->name, &before) < 0) {
        meso_reply_db_error (job->reply, db, "cannot read the counter");
        return -1;
    }
    if (job->attempt == 1) {
        /* Another transaction commits a write to the same row after our
         * snapshot: our UPDATE below must fail with 40001. */
        char by [32];
        snprintf (by, sizeof by, "%" PRId64, job->in->interference);
        const char *params [] = { job->in->name, by };
        if (meso_db_exec (job->self->db2,
                          "UPDATE demo.counter SET value = value + $2::bigint WHERE name = $1",
                          2, params) != 0) {
            meso_reply_db_error (job->reply, job->self->db2, "cannot write the interference");
            return -1;
        }
    }
    const char *params [] = { job->in->name };
    PGresult *res = meso_db_query (db,
        "UPDATE demo.counter SET value = value + 1 WHERE name = $1 RETURNING value",
        1, params);
    if (!res)
        return -1;              /* 40001 here: meso_db_txn runs us again */
    job->value = PQntuples (res) == 1 ? strtoll (PQgetvalue (res, 0, 0), NULL, 10) : 0;
    PQclear (res);
    Meso__Test__ConflictReply out = MESO__TEST__CONFLICT_REPLY__INIT;
    out.attempts = (uint32_t) job->attempt;
    out.value = job->value;
    meso_reply_ok (job->reply, &out.base);
    return meso_idem_store (db, SCHEMA, job->req, job->reply);
}

static void
s_conflict (const Meso__V1__Request *req, void *body, meso_reply_t *reply, void *arg)
{
    (void) body;
    demo_t *self = arg;
    if (!s_need_db (self, req->method, reply))
        return;
    Meso__Test__ConflictRequest *in = meso__test__conflict_request__unpack (
        NULL, req->body.len, req->body.data);
    if (!in) {
        meso_reply_error (reply, MESO_INVALID_ARGUMENT,
                          "body is not a packed meso.test.ConflictRequest");
        return;
    }
    if (!s_valid_name (in->name, reply))
        goto done;
    if (!self->db2) {
        self->db2 = meso_db_new (self->conninfo);
        if (!self->db2) {
            meso_reply_error (reply, MESO_INTERNAL, "out of memory");
            goto done;
        }
    }
    const char *params [] = { in->name };
    if (meso_db_exec (self->db,
                      "INSERT INTO demo.counter (name, value) VALUES ($1, 0) "
                      "ON CONFLICT (name) DO NOTHING", 1, params) != 0) {
        meso_reply_db_error (reply, self->db, "cannot create the counter");
        goto done;
    }
    s_conflict_t job = { self, req, in, reply, 0, 0 };
    unsigned long retries = meso_db_retries (self->db);
    if (meso_db_txn (self->db, MESO_DB_SERIALIZABLE, s_conflict_txn, &job) != 0) {
        if (meso_reply_status (reply) == MESO_OK)
            meso_reply_db_error (reply, self->db, "demo.Conflict failed");
    }
    else
        meso_info ("demo.Conflict committed after %lu retr%s", meso_db_retries (self->db) - retries,
                   meso_db_retries (self->db) - retries == 1 ? "y" : "ies");
done:
    meso__test__conflict_request__free_unpacked (in, NULL);
}

/* ------------------------------------------------------------- main */

static void
s_health (Meso__V1__HealthReply *health, void *arg)
{
    demo_t *self = arg;
    /* Strings given to the server must outlive this call: they live in self. */
    snprintf (self->health_note, sizeof self->health_note, "served=%" PRIu64,
              meso_bus_server_served (self->server));
    self->health_notes [0] = self->health_note;
    health->notes = self->health_notes;
    health->n_notes = 1;
}

static const meso_method_t s_methods [] = {
    { "demo.Echo", s_echo, MESO_METHOD_READ, &meso__test__echo_request__descriptor,
      MESO_ROLE_ALL | MESO_ROLE_ANONYMOUS, NULL, 0 },
    { "demo.Increment", s_increment, MESO_METHOD_MUTATING, NULL, MESO_ROLE_ALL, NULL, 0 },
    { "demo.Get", s_get, MESO_METHOD_READ, &meso__test__get_request__descriptor,
      MESO_ROLE_ALL, NULL, 0 },
    { "demo.Conflict", s_conflict, MESO_METHOD_MUTATING, NULL, MESO_ROLE_ALL, NULL, 0 },
    { NULL, NULL, MESO_METHOD_READ, NULL, 0, NULL, 0 }
};

int
main (int argc, char **argv)
{
    meso_opt_t opts [] = {
        { "db", "MESO_DB", "", "libpq conninfo; empty runs without a database", NULL },
        { "bind", "MESO_BIND", "tcp://127.0.0.1:7199", "ROUTER endpoint", NULL },
        { "log-level", "MESO_LOG_LEVEL", "info", "debug, info, warn or error", NULL },
        { NULL, NULL, NULL, NULL, NULL }
    };
    int rc = meso_config_parse (opts, argc, argv, "meso-demo",
                                "a small service for the bus and database tests", NULL, NULL);
    if (rc != 0)
        return rc > 0 ? 0 : 2;
    meso_log_init ("demo", meso_config_get (opts, "log-level"));

    demo_t self;
    memset (&self, 0, sizeof self);
    self.conninfo = meso_config_get (opts, "db");
    /* Principals from the database when there is one, else only the
     * test process's own key (tester) is admitted. */
    if (meso_trust_start ("demo", self.conninfo && *self.conninfo ? self.conninfo : NULL) != 0)
        return 1;
    if (!self.conninfo || !*self.conninfo) {
        char err [256];
        zcert_t *tester = meso_curve_load ("tester", false, err, sizeof err);
        if (tester)
            meso_access_put (meso_principal_new (zcert_public_txt (tester), "tester",
                                                 MESO_PRINCIPAL_OPERATOR, MESO_ROLE_ALL, NULL, 0,
                                                 NULL, 0, true, false));
        zcert_destroy (&tester);
    }
    if (self.conninfo && *self.conninfo) {
        self.db = meso_db_new (self.conninfo);
        if (!self.db || meso_db_txn (self.db, MESO_DB_READ_COMMITTED, s_schema_txn, NULL) != 0) {
            meso_error ("cannot create the demo schema: %s",
                        self.db ? meso_db_error (self.db)->message : "out of memory");
            meso_db_destroy (&self.db);
            return 1;
        }
    }
    self.server = meso_bus_server_new ("demo", meso_config_get (opts, "bind"), s_methods,
                                       &self, self.db);
    if (!self.server) {
        meso_db_destroy (&self.db);
        return 1;
    }
    meso_bus_server_set_health (self.server, s_health, &self);
    meso_bus_server_run (self.server, NULL, NULL, 0);
    meso_info ("demo stopping after %" PRIu64 " requests", meso_bus_server_served (self.server));
    meso_bus_server_destroy (&self.server);
    meso_db_destroy (&self.db2);
    meso_db_destroy (&self.db);
    meso_curve_shutdown ();
    meso_access_stop ();
    return 0;
}
