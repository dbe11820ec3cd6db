/* test_config.c -- flags over environment over defaults, the forms of a
 * flag, booleans, positional arguments, --help/--version and the errors an
 * operator sees for a typo. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "meso/config.h"
#include "meso/version.h"

#define ARGC(a) ((int) (sizeof (a) / sizeof (a)[0]))

static void
s_table (meso_opt_t *opts)
{
    meso_opt_t t[] = {
        { "db", "MESO_TEST_DB", "dbname=meso", "libpq conninfo", NULL },
        { "bind", "MESO_TEST_BIND", "tcp://127.0.0.1:7105", "ROUTER endpoint", NULL },
        { "timeout", "MESO_TEST_TIMEOUT", "2000", "milliseconds", NULL },
        { "json", NULL, "false", "print JSON", NULL },
        { "standby", "MESO_TEST_STANDBY", "true", "start as standby", NULL },
        { "name", NULL, NULL, "no default", NULL },
        { NULL, NULL, NULL, NULL, NULL }
    };
    memcpy (opts, t, sizeof t);
}

static int
s_setup (void **state)
{
    unsetenv ("MESO_TEST_DB");
    unsetenv ("MESO_TEST_BIND");
    unsetenv ("MESO_TEST_TIMEOUT");
    unsetenv ("MESO_TEST_STANDBY");
    return 0;
}

/* Output capture: s_capture redirects fd to a file, s_captured returns
 * what was written and restores fd. */
static int s_saved = -1;
static FILE *s_file;

static void
s_capture (int fd)
{
    fflush (NULL);
    s_file = tmpfile ();
    assert_non_null (s_file);
    s_saved = dup (fd);
    dup2 (fileno (s_file), fd);
}

static char *
s_captured (int fd)
{
    fflush (NULL);
    dup2 (s_saved, fd);
    close (s_saved);
    long n = ftell (s_file);
    rewind (s_file);
    char *text = calloc (1, (size_t) n + 1);
    assert_int_equal (fread (text, 1, (size_t) n, s_file), (size_t) n);
    fclose (s_file);
    return text;
}

static void
test_defaults (void **state)
{
    meso_opt_t opts[8];
    s_table (opts);
    char *argv[] = { "prog" };
    assert_int_equal (meso_config_parse (opts, ARGC (argv), argv, "prog", "x", NULL, NULL), 0);
    assert_string_equal (meso_config_get (opts, "db"), "dbname=meso");
    assert_string_equal (meso_config_get (opts, "bind"), "tcp://127.0.0.1:7105");
    assert_null (meso_config_get (opts, "name"));
    assert_false (meso_config_bool (opts, "json"));
    assert_true (meso_config_bool (opts, "standby"));
    long t = 0;
    assert_int_equal (meso_config_int (opts, "timeout", 1, 60000, &t), 0);
    assert_int_equal (t, 2000);
}

static void
test_precedence (void **state)
{
    meso_opt_t opts[8];
    s_table (opts);
    setenv ("MESO_TEST_DB", "host=/env dbname=env", 1);
    setenv ("MESO_TEST_BIND", "tcp://127.0.0.1:9999", 1);
    setenv ("MESO_TEST_TIMEOUT", "", 1);        /* empty counts as unset */
    char *argv[] = { "prog", "--db=host=/flag dbname=flag" };
    assert_int_equal (meso_config_parse (opts, ARGC (argv), argv, "prog", "x", NULL, NULL), 0);
    assert_string_equal (meso_config_get (opts, "db"), "host=/flag dbname=flag");   /* flag */
    assert_string_equal (meso_config_get (opts, "bind"), "tcp://127.0.0.1:9999");   /* env */
    assert_string_equal (meso_config_get (opts, "timeout"), "2000");                /* default */

    /* A second parse starts afresh: nothing left over from the first. */
    char *argv2[] = { "prog" };
    unsetenv ("MESO_TEST_DB");
    assert_int_equal (meso_config_parse (opts, ARGC (argv2), argv2, "prog", "x", NULL, NULL), 0);
    assert_string_equal (meso_config_get (opts, "db"), "dbname=meso");
}

static void
test_flag_forms (void **state)
{
    meso_opt_t opts[8];
    s_table (opts);
    char *argv[] = { "prog", "--db", "dbname=spaced", "--timeout=-5", "--name=", "--bind",
                     "-x" };
    assert_int_equal (meso_config_parse (opts, ARGC (argv), argv, "prog", "x", NULL, NULL), 0);
    assert_string_equal (meso_config_get (opts, "db"), "dbname=spaced");
    assert_string_equal (meso_config_get (opts, "timeout"), "-5");
    assert_string_equal (meso_config_get (opts, "name"), "");
    assert_string_equal (meso_config_get (opts, "bind"), "-x");
    /* The value containing '=' is kept whole. */
    char *argv2[] = { "prog", "--db=a=b c=d" };
    assert_int_equal (meso_config_parse (opts, ARGC (argv2), argv2, "prog", "x", NULL, NULL), 0);
    assert_string_equal (meso_config_get (opts, "db"), "a=b c=d");
}

static void
test_booleans (void **state)
{
    meso_opt_t opts[8];
    s_table (opts);
    setenv ("MESO_TEST_STANDBY", "no", 1);
    char *argv[] = { "prog", "--json", "positional" };
    const char *pos[4];
    int npos = 4;
    assert_int_equal (meso_config_parse (opts, ARGC (argv), argv, "prog", "x", pos, &npos), 0);
    /* A bare boolean flag does not swallow the next argument. */
    assert_true (meso_config_bool (opts, "json"));
    assert_int_equal (npos, 1);
    assert_string_equal (pos[0], "positional");
    assert_false (meso_config_bool (opts, "standby"));

    char *argv2[] = { "prog", "--json=false", "--standby=ON" };
    assert_int_equal (meso_config_parse (opts, ARGC (argv2), argv2, "prog", "x", NULL, NULL), 0);
    assert_false (meso_config_bool (opts, "json"));
    assert_true (meso_config_bool (opts, "standby"));
    const char *truthy[] = { "true", "1", "yes", "on", "TRUE" };
    const char *falsy[] = { "false", "0", "no", "off", "nonsense" };
    for (int i = 0; i < 5; i++) {
        setenv ("MESO_TEST_STANDBY", truthy[i], 1);
        assert_int_equal (meso_config_parse (opts, 1, argv, "prog", "x", NULL, NULL), 0);
        assert_true (meso_config_bool (opts, "standby"));
        setenv ("MESO_TEST_STANDBY", falsy[i], 1);
        assert_int_equal (meso_config_parse (opts, 1, argv, "prog", "x", NULL, NULL), 0);
        assert_false (meso_config_bool (opts, "standby"));
    }
}

static void
test_positional (void **state)
{
    meso_opt_t opts[8];
    s_table (opts);
    char *argv[] = { "prog", "one", "--db", "x", "two", "--", "--three", "-4" };
    const char *pos[4] = { NULL };
    int npos = 4;
    assert_int_equal (meso_config_parse (opts, ARGC (argv), argv, "prog", "x", pos, &npos), 0);
    assert_int_equal (npos, 4);
    assert_string_equal (pos[0], "one");
    assert_string_equal (pos[1], "two");
    assert_string_equal (pos[2], "--three");
    assert_string_equal (pos[3], "-4");
    assert_string_equal (meso_config_get (opts, "db"), "x");

    /* More positionals than room, or any when none are expected. */
    npos = 1;
    s_capture (STDERR_FILENO);
    int rc = meso_config_parse (opts, ARGC (argv), argv, "prog", "x", pos, &npos);
    char *err = s_captured (STDERR_FILENO);
    assert_int_equal (rc, -1);
    assert_non_null (strstr (err, "prog: unexpected argument 'two'"));
    free (err);
    s_capture (STDERR_FILENO);
    rc = meso_config_parse (opts, 2, argv, "prog", "x", NULL, NULL);
    err = s_captured (STDERR_FILENO);
    assert_int_equal (rc, -1);
    assert_non_null (strstr (err, "unexpected argument 'one'"));
    free (err);
}

static void
test_errors (void **state)
{
    meso_opt_t opts[8];
    s_table (opts);
    char *unknown[] = { "prog", "--dbb=x" };
    s_capture (STDERR_FILENO);
    int rc = meso_config_parse (opts, ARGC (unknown), unknown, "prog", "x", NULL, NULL);
    char *err = s_captured (STDERR_FILENO);
    assert_int_equal (rc, -1);
    assert_string_equal (err, "prog: unknown option --dbb (see --help)\n");
    free (err);

    char *missing[] = { "prog", "--db" };
    s_capture (STDERR_FILENO);
    rc = meso_config_parse (opts, ARGC (missing), missing, "prog", "x", NULL, NULL);
    err = s_captured (STDERR_FILENO);
    assert_int_equal (rc, -1);
    assert_non_null (strstr (err, "--db needs a value"));
    free (err);

    /* "--db --json": the next flag is not taken for the value. */
    char *flag_next[] = { "prog", "--db", "--json" };
    s_capture (STDERR_FILENO);
    rc = meso_config_parse (opts, ARGC (flag_next), flag_next, "prog", "x", NULL, NULL);
    err = s_captured (STDERR_FILENO);
    assert_int_equal (rc, -1);
    free (err);

    char *single[] = { "prog", "-v" };
    s_capture (STDERR_FILENO);
    rc = meso_config_parse (opts, ARGC (single), single, "prog", "x", NULL, NULL);
    err = s_captured (STDERR_FILENO);
    assert_int_equal (rc, -1);
    assert_non_null (strstr (err, "unknown option -v"));
    free (err);
}

static void
test_int (void **state)
{
    meso_opt_t opts[8];
    s_table (opts);
    long v = 42;
    const char *bad[] = { "abc", "12ms", "-", " 12", "99999999999999999999999", "0", "60001" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        setenv ("MESO_TEST_TIMEOUT", bad[i], 1);
        char *argv[] = { "prog" };
        assert_int_equal (meso_config_parse (opts, 1, argv, "prog", "x", NULL, NULL), 0);
        s_capture (STDERR_FILENO);
        int rc = meso_config_int (opts, "timeout", 1, 60000, &v);
        char *err = s_captured (STDERR_FILENO);
        assert_int_equal (rc, -1);
        assert_int_equal (v, 42);
        /* The error names the flag and its variable. */
        assert_non_null (strstr (err, "--timeout"));
        assert_non_null (strstr (err, "MESO_TEST_TIMEOUT"));
        free (err);
    }
    char *argv[] = { "prog", "--timeout", "60000" };
    assert_int_equal (meso_config_parse (opts, ARGC (argv), argv, "prog", "x", NULL, NULL), 0);
    assert_int_equal (meso_config_int (opts, "timeout", 1, 60000, &v), 0);
    assert_int_equal (v, 60000);
    unsetenv ("MESO_TEST_TIMEOUT");
}

static void
test_help_version (void **state)
{
    meso_opt_t opts[8];
    s_table (opts);
    char *help[] = { "prog", "--db=x", "--help" };
    s_capture (STDOUT_FILENO);
    int rc = meso_config_parse (opts, ARGC (help), help, "meso-test", "the test daemon", NULL, NULL);
    char *out = s_captured (STDOUT_FILENO);
    assert_int_equal (rc, 1);
    assert_true (strncmp (out, "Usage: meso-test [options]\n", 27) == 0);
    assert_non_null (strstr (out, "the test daemon"));
    assert_non_null (strstr (out, "--db VALUE"));
    assert_non_null (strstr (out, "libpq conninfo"));
    assert_non_null (strstr (out, "env MESO_TEST_DB, default \"dbname=meso\""));
    assert_non_null (strstr (out, "--json "));
    assert_null (strstr (out, "--json VALUE"));
    assert_non_null (strstr (out, "no default"));
    free (out);

    char *version[] = { "prog", "--version" };
    s_capture (STDOUT_FILENO);
    rc = meso_config_parse (opts, ARGC (version), version, "meso-test", "x", NULL, NULL);
    out = s_captured (STDOUT_FILENO);
    assert_int_equal (rc, 1);
    assert_string_equal (out, "meso-test " MESO_VERSION "\n");
    free (out);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup (test_defaults, s_setup),
        cmocka_unit_test_setup (test_precedence, s_setup),
        cmocka_unit_test_setup (test_flag_forms, s_setup),
        cmocka_unit_test_setup (test_booleans, s_setup),
        cmocka_unit_test_setup (test_positional, s_setup),
        cmocka_unit_test_setup (test_errors, s_setup),
        cmocka_unit_test_setup (test_int, s_setup),
        cmocka_unit_test_setup (test_help_version, s_setup),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
