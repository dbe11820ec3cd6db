/* test_access.c -- "mesoctl access" and "mesoctl keys" against the test
 * cluster and a running daemon (meso-events), as an operator would use
 * them:
 *
 * - add registers a person with a fresh key pair written once (secret
 *   mode 0600), list and show report it as stored, and the key works: a
 *   mesoctl health as that person is answered;
 * - revoke: the same call is refused ("not authorised by <endpoint>")
 *   within 5 s of the revoke, by the daemon that was already running;
 *   revoking again or an unknown name says so;
 * - bad input (unknown role, bad clinic id, a person without clinics,
 *   a duplicate name, a bad Z85 key, a key file in the way) is refused
 *   with a message naming what is wrong, and changes nothing: the access
 *   schema's fingerprint is the same and no key file is left behind;
 * - keys init never overwrites, and bootstrap registers the daemons and
 *   the operator once (a second run is "already registered"), the
 *   operator key being usable at once.
 *
 * mesoctl runs as a child process, as in a shell; the daemon's server key
 * comes from the run's test keys (MESO_KEYS), the caller's pair from
 * MESO_KEY. */
#include "harness.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "meso/db.h"

static char s_conninfo[512];
static char s_router[256], s_pub[256];
static char s_tmp[256];
static pid_t s_events = -1;
static meso_db_t *s_db;

/* Runs mesoctl with args (a shell fragment) and env assignments before it,
 * capturing stdout and stderr together into out. Returns the exit status. */
static int
s_mesoctl (char *out, size_t size, const char *env, const char *fmt, ...)
{
    char args[2048], cmd[4096];
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (args, sizeof args, fmt, ap);
    va_end (ap);
    snprintf (cmd, sizeof cmd, "env MESO_KEYS='%s' MESO_DB='%s' %s %s/bin/mesoctl %s 2>&1", mt_keys (),
              s_conninfo, env ? env : "", mt_build_dir (), args);
    FILE *p = popen (cmd, "r");
    assert_non_null (p);
    size_t n = fread (out, 1, size - 1, p);
    out[n] = '\0';
    int status = pclose (p);
    return WIFEXITED (status) ? WEXITSTATUS (status) : -1;
}

static int64_t
s_int (const char *sql, const char *p1)
{
    int64_t v = -1;
    assert_int_equal (mt_sql_int (s_db, sql, p1, &v), 0);
    return v;
}

static double
s_now (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int
s_setup (void **state)
{
    (void) state;
    if (mt_db_create ("meso_test_access", s_conninfo, sizeof s_conninfo) != 0)
        return -1;
    s_db = meso_db_new (s_conninfo);
    s_events = mt_spawn_events ("meso_test_access", s_router, sizeof s_router, s_pub, sizeof s_pub);
    snprintf (s_tmp, sizeof s_tmp, "/tmp/meso-access-XXXXXX");
    return s_db && s_events > 0 && mkdtemp (s_tmp) ? 0 : -1;
}

static int
s_teardown (void **state)
{
    (void) state;
    if (s_events > 0)
        mt_stop (s_events, SIGTERM);
    meso_db_destroy (&s_db);
    mt_sh ("rm -rf '%s'", s_tmp);
    return 0;
}

static void
test_add_list_show_then_revoke (void **state)
{
    (void) state;
    char out[16384], env[600];
    assert_int_equal (s_mesoctl (out, sizeof out, NULL, "access add --name ana --kind person "
                                 "--roles front_desk,clinician --clinics clinic-a,clinic-b "
                                 "--streams session --out %s/people", s_tmp), 0);
    assert_non_null (strstr (out, "principal ana registered: person, roles front_desk,clinician"));
    assert_non_null (strstr (out, "meso keeps no copy"));
    char secret[512];
    snprintf (secret, sizeof secret, "%s/people/ana.key_secret", s_tmp);
    assert_non_null (strstr (out, secret));
    struct stat st;
    assert_int_equal (stat (secret, &st), 0);
    assert_int_equal (st.st_mode & 0777, 0600);
    /* Stored as asked: roles, clinics, streams, no health data, active. */
    assert_int_equal (s_int ("SELECT count(*) FROM access.principal WHERE name = $1 AND kind = 'person'"
                             " AND roles = '{front_desk,clinician}' AND clinics = '{clinic-a,clinic-b}'"
                             " AND streams = '{session}' AND NOT health AND revoked_at IS NULL", "ana"), 1);

    assert_int_equal (s_mesoctl (out, sizeof out, NULL, "access list"), 0);
    assert_non_null (strstr (out, "ana "));
    assert_non_null (strstr (out, "clinic-a,clinic-b"));
    assert_non_null (strstr (out, "tester "));
    assert_int_equal (s_mesoctl (out, sizeof out, NULL, "access list --json"), 0);
    assert_non_null (strstr (out, "\"name\":\"ana\",\"kind\":\"person\",\"roles\":[\"front_desk\",\"clinician\"],"
                                  "\"clinics\":[\"clinic-a\",\"clinic-b\"],\"streams\":[\"session\"],\"health\":false"));
    /* show prints the public key of the file written. */
    assert_int_equal (s_mesoctl (out, sizeof out, NULL, "access show --name ana"), 0);
    char pub[64] = "";
    zcert_t *cert = zcert_load (secret);
    assert_non_null (cert);
    snprintf (pub, sizeof pub, "%s", zcert_public_txt (cert));
    zcert_destroy (&cert);
    assert_non_null (strstr (out, pub));
    assert_non_null (strstr (out, "revoked     no"));

    /* The key works: the running daemon answers ana. */
    snprintf (env, sizeof env, "MESO_KEY='%s'", secret);
    assert_int_equal (s_mesoctl (out, sizeof out, env, "health --services events --endpoint '%s'", s_router), 0);

    /* Revoked: the same call is refused within 5 s, no restart. */
    double t0 = s_now ();
    assert_int_equal (s_mesoctl (out, sizeof out, NULL, "access revoke --name ana"), 0);
    assert_non_null (strstr (out, "revoked ana at "));
    int rc = 0;
    while ((rc = s_mesoctl (out, sizeof out, env, "health --services events --timeout 1500 --endpoint '%s'",
                            s_router)) == 0 && s_now () - t0 < 5)
        mt_sleep_ms (100);
    double took = s_now () - t0;
    printf ("revoked key refused %.2f s after mesoctl access revoke started\n", took);
    assert_int_equal (rc, 1);
    assert_non_null (strstr (out, "not authorised by"));
    assert_true (took < 5.0);
    assert_int_equal (s_int ("SELECT count(*) FROM access.principal WHERE name = $1 AND revoked_at IS NOT NULL",
                             "ana"), 1);

    /* Again, and an unknown name: each says so. */
    assert_int_equal (s_mesoctl (out, sizeof out, NULL, "access revoke --name ana"), 0);
    assert_non_null (strstr (out, "ana was already revoked, at "));
    assert_int_equal (s_mesoctl (out, sizeof out, NULL, "access revoke --name nobody"), 1);
    assert_non_null (strstr (out, "no principal named \"nobody\""));
    assert_int_equal (s_mesoctl (out, sizeof out, NULL, "access show --name nobody"), 1);
}

/* Runs a refused add and checks its message and that nothing changed. */
static void
s_refused (const char *args, const char *says)
{
    char before[64], after[64], out[8192];
    assert_int_equal (mt_fingerprint (s_db, "access", before, sizeof before), 0);
    int rc = s_mesoctl (out, sizeof out, NULL, "access add %s --out %s/refused", args, s_tmp);
    if (rc == 0 || !strstr (out, says) || !strstr (out, "nothing was changed"))
        fail_msg ("access add %s: exit %d, expected \"%s\" in:\n%s", args, rc, says, out);
    assert_int_equal (mt_fingerprint (s_db, "access", after, sizeof after), 0);
    assert_string_equal (before, after);
    /* No key file left behind. */
    assert_int_equal (mt_sh ("test -z \"$(ls -A '%s/refused' 2>/dev/null)\"", s_tmp), 0);
}

static void
test_bad_input_changes_nothing (void **state)
{
    (void) state;
    char out[8192];
    assert_int_equal (s_mesoctl (out, sizeof out, NULL, "access add --name bob --kind person "
                                 "--roles billing_clerk --clinics clinic-a --out %s/bob", s_tmp), 0);
    s_refused ("--name carl --roles front_desk,nurse --clinics clinic-a",
               "unknown role \"nurse\" (valid: front_desk, clinician, stock_keeper, billing_clerk, "
               "clinic_manager, integration, service, operator)");
    s_refused ("--name carl --roles front_desk --clinics 'Clinic A'", "\"Clinic A\" is not a clinic id");
    s_refused ("--name carl --roles front_desk", "--clinics is required for a person");
    s_refused ("--name carl --kind robot --roles front_desk --clinics all", "unknown kind");
    s_refused ("--name 'carl smith' --roles front_desk --clinics all", "--name");
    s_refused ("--name carl --roles front_desk --clinics all --streams audit", "unknown stream \"audit\"");
    /* A duplicate name: refused, and the fresh pair it made is removed. */
    s_refused ("--name bob --roles front_desk --clinics clinic-a",
               "ALREADY_EXISTS: a principal named \"bob\" already exists");
    s_refused ("--name carl --roles front_desk --clinics all --public-key tooshort", "40 characters");
    /* The same key twice, under another name. */
    char file[512];
    snprintf (file, sizeof file, "%s/bob/bob.key", s_tmp);
    char args[1024];
    snprintf (args, sizeof args, "--name carl --roles front_desk --clinics all --key-file %s", file);
    char before[64], after[64];
    assert_int_equal (mt_fingerprint (s_db, "access", before, sizeof before), 0);
    assert_int_equal (s_mesoctl (out, sizeof out, NULL, "access add %s", args), 1);
    assert_non_null (strstr (out, "this public key is already registered, as \"bob\""));
    /* A key file in the way is never overwritten. */
    assert_int_equal (s_mesoctl (out, sizeof out, NULL, "access add --name bob2 --roles front_desk "
                                 "--clinics all --out %s/bob && cp %s/bob/bob.key %s/bob/bob3.key",
                                 s_tmp, s_tmp, s_tmp), 0);
    assert_int_equal (mt_fingerprint (s_db, "access", before, sizeof before), 0);
    assert_int_equal (s_mesoctl (out, sizeof out, NULL, "access add --name bob3 --roles front_desk "
                                 "--clinics all --out %s/bob", s_tmp), 2);
    assert_non_null (strstr (out, "is never overwritten"));
    assert_int_equal (mt_fingerprint (s_db, "access", after, sizeof after), 0);
    assert_string_equal (before, after);
}

static void
test_keys_init_and_bootstrap (void **state)
{
    (void) state;
    char out[8192], env[600];
    assert_int_equal (s_mesoctl (out, sizeof out, NULL, "keys init --dir %s/keys", s_tmp), 0);
    assert_non_null (strstr (out, "7 key pairs made, 0 kept"));
    char secret[512];
    snprintf (secret, sizeof secret, "%s/keys/operator.key_secret", s_tmp);
    zcert_t *first = zcert_load (secret);
    assert_non_null (first);
    assert_int_equal (s_mesoctl (out, sizeof out, NULL, "keys init --dir %s/keys", s_tmp), 0);
    assert_non_null (strstr (out, "0 key pairs made, 7 kept"));
    zcert_t *again = zcert_load (secret);
    assert_string_equal (zcert_secret_txt (first), zcert_secret_txt (again));
    zcert_destroy (&again);

    /* The test database has the harness's daemon keys: bootstrap gives
     * the names these keys (a folder made again), and the operator. */
    assert_int_equal (s_mesoctl (out, sizeof out, NULL, "access bootstrap --keys %s/keys", s_tmp), 0);
    assert_non_null (strstr (out, "operator operator    registered"));
    assert_non_null (strstr (out, "service  screening   key replaced"));
    assert_int_equal (s_int ("SELECT count(*) FROM access.principal WHERE public_key = $1 AND kind = 'operator'"
                             " AND cardinality (roles) = 8 AND clinics IS NULL AND health",
                             zcert_public_txt (first)), 1);
    assert_int_equal (s_int ("SELECT count(*) FROM access.principal WHERE kind = 'service'"
                             " AND roles = '{service}' AND clinics IS NULL AND health"
                             " AND name = ANY ('{screening,scheduling,inventory,billing,events,webhooks}')",
                             NULL), 6);
    zcert_destroy (&first);
    char before[64], after[64];
    assert_int_equal (mt_fingerprint (s_db, "access", before, sizeof before), 0);
    assert_int_equal (s_mesoctl (out, sizeof out, NULL, "access bootstrap --keys %s/keys", s_tmp), 0);
    assert_non_null (strstr (out, "operator operator    already registered"));
    assert_null (strstr (out, "  registered"));
    assert_null (strstr (out, "key replaced"));
    assert_int_equal (mt_fingerprint (s_db, "access", after, sizeof after), 0);
    assert_string_equal (before, after);
    /* The break-glass key is answered at once. */
    snprintf (env, sizeof env, "MESO_KEY='%s'", secret);
    for (int i = 0; i < 50 && s_mesoctl (out, sizeof out, env, "health --services events --endpoint '%s'",
                                         s_router) != 0; i++)
        mt_sleep_ms (100);
    assert_int_equal (s_mesoctl (out, sizeof out, env, "health --services events --endpoint '%s'", s_router), 0);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_add_list_show_then_revoke),
        cmocka_unit_test (test_bad_input_changes_nothing),
        cmocka_unit_test (test_keys_init_and_bootstrap),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
