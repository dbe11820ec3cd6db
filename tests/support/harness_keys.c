/* harness_keys.c -- CURVE keys and principals for the tests (harness.h).
 *
 * Every test process shares one keys folder per build (<build>/test-keys):
 * a pair per daemon name (screening, scheduling, inventory, billing,
 * events, webhooks), "demo" for in-process servers, and "tester", the
 * identity of the test process itself (an operator with every role, every
 * clinic and health access, so the tests that are not about trust call as
 * before). The folder is made once under an flock, since ctest runs tests
 * in parallel. Each test database gets the daemons and tester registered
 * by mt_db_create; tests about trust add their own principals. */
#include "harness.h"

#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>
#include <sodium.h>

#include "meso/access.h"
#include "meso/curve.h"
#include "meso/vault.h"
#include "meso/db.h"

static const char *const s_names[] = { "screening", "scheduling", "inventory", "billing",
                                       "events", "webhooks", "demo", "tester" };
#define NNAMES (sizeof s_names / sizeof s_names[0])

static pthread_mutex_t s_lock = PTHREAD_MUTEX_INITIALIZER;
static char s_dir[PATH_MAX];

/* endpoint -> service, recorded by mt_spawn and mt_service_register */
#define MAX_ENDPOINTS 256
static char *s_ep[MAX_ENDPOINTS];
static char *s_svc[MAX_ENDPOINTS];
static int s_nep;

static int
s_make_keys (const char *dir)
{
    char lockpath[PATH_MAX + 8];
    snprintf (lockpath, sizeof lockpath, "%s.lock", dir);
    int fd = open (lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0 || flock (fd, LOCK_EX) != 0) {
        fprintf (stderr, "mt_keys: cannot lock %s\n", lockpath);
        if (fd >= 0)
            close (fd);
        return -1;
    }
    int rc = 0;
    if (zsys_dir_create ("%s", dir) != 0)
        rc = -1;
    for (size_t i = 0; rc == 0 && i < NNAMES; i++) {
        char path[PATH_MAX + 64];
        snprintf (path, sizeof path, "%s/%s.key_secret", dir, s_names[i]);
        if (zsys_file_exists (path))
            continue;
        zcert_t *cert = zcert_new ();
        zcert_set_meta (cert, "name", "%s", s_names[i]);
        snprintf (path, sizeof path, "%s/%s.key", dir, s_names[i]);
        if (!cert || zcert_save (cert, path) != 0)
            rc = -1;
        zcert_destroy (&cert);
    }
    /* The vault's master key (meso/vault.h), as mesoctl keys init makes it. */
    char err[256];
    if (rc == 0 && meso_vault_master_init (dir, NULL, err, sizeof err) != 0) {
        fprintf (stderr, "mt_keys: %s\n", err);
        rc = -1;
    }
    /* screening's patient search key and webhooks' sealing key (as
     * mesoctl keys init makes them) */
    for (int k = 0; k < 2; k++) {
        char spath[PATH_MAX + 16];
        snprintf (spath, sizeof spath, "%s/%s", dir, k == 0 ? "search.key" : "webhooks.seal");
        if (rc == 0 && !zsys_file_exists (spath)) {
            unsigned char key[32];
            char hex[65];
            randombytes_buf (key, sizeof key);
            sodium_bin2hex (hex, sizeof hex, key, sizeof key);
            FILE *f = fopen (spath, "w");
            if (!f || fprintf (f, "%s\n", hex) < 0)
                rc = -1;
            if (f && fclose (f) != 0)
                rc = -1;
        }
    }
    flock (fd, LOCK_UN);
    close (fd);
    return rc;
}

/* The public key of name, "" when unreadable. */
static void
s_public (const char *name, char *out, size_t size)
{
    char err[256];
    zcert_t *cert = meso_curve_load (name, false, err, sizeof err);
    snprintf (out, size, "%s", cert ? zcert_public_txt (cert) : "");
    zcert_destroy (&cert);
}

const char *
mt_keys (void)
{
    pthread_mutex_lock (&s_lock);
    if (!s_dir[0]) {
        char dir[PATH_MAX];
        snprintf (dir, sizeof dir, "%s/test-keys", mt_build_dir ());
        char err[512];
        if (s_make_keys (dir) != 0
            || meso_curve_setup ("tester", dir, err, sizeof err) != 0) {
            fprintf (stderr, "mt_keys: cannot prepare %s\n", dir);
            pthread_mutex_unlock (&s_lock);
            return NULL;
        }
        setenv ("MESO_KEYS", dir, 1);
        unsetenv ("MESO_KEY");
        snprintf (s_dir, sizeof s_dir, "%s", dir);
        /* In-process servers (tests of the bus itself) admit the tester. */
        meso_access_put (meso_principal_new (zcert_public_txt (meso_curve_identity ()), "tester",
                                             MESO_PRINCIPAL_OPERATOR, MESO_ROLE_ALL, NULL, 0,
                                             NULL, 0, true, false));
    }
    pthread_mutex_unlock (&s_lock);
    return s_dir;
}

int
mt_principals_register (const char *conninfo)
{
    if (!mt_keys ())
        return -1;
    meso_db_t *db = meso_db_new (conninfo);
    int rc = db && meso_db_ok (db) ? 0 : -1;
    for (size_t i = 0; rc == 0 && i < NNAMES; i++) {
        if (strcmp (s_names[i], "demo") == 0)
            continue;
        char key[64];
        s_public (s_names[i], key, sizeof key);
        bool tester = strcmp (s_names[i], "tester") == 0;
        const char *params[] = { key, s_names[i], tester ? "operator" : "service",
                                 tester ? "{front_desk,clinician,stock_keeper,billing_clerk,"
                                          "clinic_manager,integration,service,operator}"
                                        : "{service}" };
        rc = meso_db_exec (db,
                           "INSERT INTO access.principal (public_key, name, kind, roles, health)"
                           " VALUES ($1, $2, $3, $4::text[], true)"
                           " ON CONFLICT (public_key) DO NOTHING",
                           4, params);
        if (rc != 0)
            fprintf (stderr, "mt_principals_register: %s\n", meso_db_error (db)->message);
    }
    meso_db_destroy (&db);
    return rc;
}

zcert_t *
mt_principal_add (const char *conninfo, const char *name, const char *kind, const char *roles,
                  const char *clinics, const char *streams, bool health)
{
    if (!mt_keys ())
        return NULL;
    zcert_t *cert = zcert_new ();
    meso_db_t *db = meso_db_new (conninfo);
    const char *params[] = { zcert_public_txt (cert), name, kind, roles, clinics, streams,
                             health ? "true" : "false" };
    if (!db || meso_db_exec (db,
                             "INSERT INTO access.principal"
                             " (public_key, name, kind, roles, clinics, streams, health)"
                             " VALUES ($1, $2, $3, $4::text[], $5::text[], $6::text[], $7)",
                             7, params) != 0) {
        fprintf (stderr, "mt_principal_add %s: %s\n", name,
                 db ? meso_db_error (db)->message : "no database");
        zcert_destroy (&cert);
    }
    meso_db_destroy (&db);
    return cert;
}

int
mt_principal_revoke (const char *conninfo, const char *name)
{
    meso_db_t *db = meso_db_new (conninfo);
    const char *params[] = { name };
    int rc = db ? meso_db_exec (db,
                                "UPDATE access.principal SET revoked_at = now()"
                                " WHERE name = $1 AND revoked_at IS NULL",
                                1, params)
                : -1;
    meso_db_destroy (&db);
    return rc;
}

void
mt_service_register (const char *endpoint, const char *service)
{
    pthread_mutex_lock (&s_lock);
    for (int i = 0; i < s_nep; i++)
        if (strcmp (s_ep[i], endpoint) == 0) {
            free (s_svc[i]);
            s_svc[i] = strdup (service);
            pthread_mutex_unlock (&s_lock);
            return;
        }
    if (s_nep < MAX_ENDPOINTS) {
        s_ep[s_nep] = strdup (endpoint);
        s_svc[s_nep] = strdup (service);
        if (s_ep[s_nep] && s_svc[s_nep])
            s_nep++;
    }
    pthread_mutex_unlock (&s_lock);
}

const char *
mt_service_of (const char *endpoints)
{
    /* The first endpoint of a list names the service. */
    size_t len = strcspn (endpoints, ",");
    const char *found = "demo";
    pthread_mutex_lock (&s_lock);
    for (int i = 0; i < s_nep; i++)
        if (strlen (s_ep[i]) == len && strncmp (s_ep[i], endpoints, len) == 0)
            found = s_svc[i];
    pthread_mutex_unlock (&s_lock);
    return found;
}

meso_bus_client_t *
mt_client (const char *endpoints)
{
    if (!mt_keys ())
        return NULL;
    return meso_bus_client_new (mt_service_of (endpoints), endpoints);
}

meso_bus_client_t *
mt_client_as (const char *endpoints, zcert_t *identity)
{
    if (!mt_keys ())
        return NULL;
    return meso_bus_client_new_as (mt_service_of (endpoints), endpoints, identity);
}

zsock_t *
mt_dealer (const char *endpoint)
{
    if (!mt_keys ())
        return NULL;
    zsock_t *dealer = zsock_new (ZMQ_DEALER);
    char err[256];
    if (!dealer
        || meso_curve_client (dealer, mt_service_of (endpoint), NULL, err, sizeof err) != 0) {
        fprintf (stderr, "mt_dealer: %s\n", dealer ? err : "cannot make a DEALER");
        zsock_destroy (&dealer);
        return NULL;
    }
    return dealer;
}
