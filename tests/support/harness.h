/* harness.h -- what integration and fault tests need: a fresh database in
 * the run's throwaway cluster, the real daemons as child processes, and
 * waiting for them to be healthy. Processes the harness starts are killed
 * when the test process exits (also on a failed assertion). */
#ifndef MESO_HARNESS_H
#define MESO_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "meso/bus.h"
#include "meso/db.h"
#include "meso/enumtext.h"

/* Source and build folders (MESO_SOURCE_DIR / MESO_BUILD_DIR from ctest). */
const char *mt_source_dir (void);
const char *mt_build_dir (void);

/* Conninfo of the cluster's superuser to database dbname. */
void mt_admin_conninfo (const char *dbname, char *out, size_t size);

/* Drops and creates database name, applies deploy/sql migrations to it (as
 * `mesoctl migrate` does), and writes its superuser conninfo to out.
 * Returns 0 or -1 (and prints why). */
int mt_db_create (const char *name, char *out, size_t size);

/* Conninfo to database name as role (e.g. "meso_events"), with the
 * keywords of MESO_TEST_PGOPTIONS appended when set. */
void mt_role_conninfo (const char *name, const char *role, char *out, size_t size);

/* A fresh ipc:// endpoint in a private temporary folder, unique per call. */
void mt_ipc_endpoint (const char *tag, char *out, size_t size);
/* A TCP port free right now on 127.0.0.1. */
int mt_free_port (void);

/* Starts executable path (absolute, or relative to the build folder) with
 * argv (NULL-terminated, argv[0] included) and extra environment entries
 * "KEY=VALUE" (NULL-terminated, may be NULL). stderr goes to
 * <build>/test-logs/<basename>-<pid>.log. Returns the pid or -1. */
pid_t mt_spawn (const char *path, const char *const argv[], const char *const env[]);

/* Sends sig to pid and reaps it (waits up to 10 s, then SIGKILL). Returns
 * the exit status as from waitpid, or -1. */
int mt_stop (pid_t pid, int sig);

/* Calls "Health" on endpoint until it answers OK or timeout_ms passes.
 * Returns 0 when healthy. */
int mt_wait_healthy (const char *endpoint, int timeout_ms);

/* Starts meso-events on database dbname (as role meso_events) with fresh
 * ipc:// endpoints written to router and pub, and waits until it is
 * healthy. Returns the pid, or -1 (and prints why). */
pid_t mt_spawn_events (const char *dbname, char *router, size_t router_size, char *pub,
                       size_t pub_size);

/* Asks endpoint's Health once (timeout 3 s). Writes its state ("ok",
 * "degraded"...) to state and every note, joined by " | ", to notes.
 * Returns 0, or -1 when no OK reply came. */
int mt_health (const char *endpoint, char *state, size_t state_size, char *notes,
               size_t notes_size);

/* Anonymous resident memory of process pid in KiB (RssAnon in
 * /proc/<pid>/status), or -1. */
long mt_rss_anon_kb (pid_t pid);

/* Calls method on client c with idempotency key, or (key NULL) with a fresh
 * key "test-key-<++*seq>", waiting up to 5 s. Returns the reply's status
 * (also in r). */
int mt_call (meso_bus_client_t *c, const char *method, const ProtobufCMessage *body,
             const char *key, int *seq, meso_result_t *r);

/* Runs sql (one text parameter p1, or none when NULL) on db and writes the
 * integer of its single row's first column to *value (NULL reads as 0).
 * Returns 0, or -1 (and prints why) when the query fails or does not
 * return exactly one row. */
int mt_sql_int (meso_db_t *db, const char *sql, const char *p1, int64_t *value);

/* A fingerprint of every row of every table in the comma-separated
 * schemas ("inventory,events"): an md5 per table over its rows in text
 * order, then one md5 of them all, written to out (33 bytes). Equal
 * fingerprints: nothing changed. Returns 0 or -1 (and prints why). */
int mt_fingerprint (meso_db_t *db, const char *schemas, char *out, size_t size);

/* Runs a shell command and returns its exit status (for psql, pg_ctl...). */
int mt_sh (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));

/* Sleeps ms milliseconds (for pacing load, never for synchronisation). */
void mt_sleep_ms (int ms);

/* ------------------------------------------------------------- trust */

/* The run's CURVE keys folder (<build>/test-keys, made on first use under a
 * lock): a pair per daemon, "demo" (in-process servers) and "tester", this
 * process's identity (registered by mt_db_create as an operator with every
 * role, clinic and health access). Also sets MESO_KEYS for children.
 * NULL when it cannot be made. */
const char *mt_keys (void);
/* Registers the daemons (kind service) and tester in database conninfo
 * (superuser); mt_db_create does it. Returns 0 or -1. */
int mt_principals_register (const char *conninfo);
/* Registers a principal with a fresh key pair (returned; destroy it) in
 * database conninfo: kind "person"..., roles "{front_desk}", clinics and
 * streams as text[] literals or NULL (every one). NULL on failure. */
zcert_t *mt_principal_add (const char *conninfo, const char *name, const char *kind,
                           const char *roles, const char *clinics, const char *streams,
                           bool health);
/* Revokes principal name now. Returns 0 or -1. */
int mt_principal_revoke (const char *conninfo, const char *name);
/* The service of endpoint (the first of a list): recorded by mt_spawn from
 * a daemon's --bind= and --pub=, or by mt_service_register (in-process
 * servers); "demo" when unknown. */
const char *mt_service_of (const char *endpoints);
void mt_service_register (const char *endpoint, const char *service);
/* A bus client of endpoints as the tester, or as identity. */
meso_bus_client_t *mt_client (const char *endpoints);
meso_bus_client_t *mt_client_as (const char *endpoints, zcert_t *identity);
/* A bare DEALER set up as a CURVE client of endpoint's service as the
 * tester, not yet connected (for frames the client library never sends).
 * NULL on failure. */
zsock_t *mt_dealer (const char *endpoint);

#endif
