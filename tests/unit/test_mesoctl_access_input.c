/* test_mesoctl_access_input.c -- what "mesoctl access add" accepts: names,
 * kinds, roles, clinics, streams and Z85 keys, turned into the text[]
 * literals access.principal stores, or refused with a message that names
 * the option and lists the valid values (access_input.c is pure: the test
 * links meso_mesoctl_logic). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "mesoctl/access_input.h"

static char s_out[MESOCTL_ACCESS_LIST_MAX];
static char s_err[512];

static void
test_names (void **state)
{
    (void) state;
    assert_int_equal (mesoctl_access_name ("ana.front-desk@par", s_err, sizeof s_err), 0);
    assert_int_equal (mesoctl_access_name ("a", s_err, sizeof s_err), 0);
    const char *bad[] = { "", "-ana", ".x", "ana lopez", "ana/x", "é",
                          "a234567890123456789012345678901234567890123456789012345678901234x" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        s_err[0] = '\0';
        assert_int_equal (mesoctl_access_name (bad[i], s_err, sizeof s_err), -1);
        assert_non_null (strstr (s_err, "--name"));
    }
    assert_int_equal (mesoctl_access_name (NULL, s_err, sizeof s_err), -1);
}

static void
test_kinds (void **state)
{
    (void) state;
    const char *good[] = { "person", "integration", "service", "operator" };
    for (size_t i = 0; i < 4; i++)
        assert_int_equal (mesoctl_access_kind (good[i], s_err, sizeof s_err), 0);
    assert_int_equal (mesoctl_access_kind ("robot", s_err, sizeof s_err), -1);
    assert_non_null (strstr (s_err, "person, integration, service, operator"));
}

static void
test_roles_literal_and_duplicates (void **state)
{
    (void) state;
    assert_int_equal (mesoctl_access_roles ("front_desk", s_out, sizeof s_out, s_err, sizeof s_err), 0);
    assert_string_equal (s_out, "{front_desk}");
    assert_int_equal (mesoctl_access_roles (" clinician , front_desk,clinician", s_out, sizeof s_out,
                                            s_err, sizeof s_err), 0);
    assert_string_equal (s_out, "{clinician,front_desk}");
    assert_int_equal (mesoctl_access_roles ("all", s_out, sizeof s_out, s_err, sizeof s_err), 0);
    assert_string_equal (s_out, "{front_desk,clinician,stock_keeper,billing_clerk,clinic_manager,"
                                "integration,service,operator}");
}

static void
test_roles_refused_with_the_valid_ones (void **state)
{
    (void) state;
    assert_int_equal (mesoctl_access_roles ("front_desk,nurse", s_out, sizeof s_out, s_err, sizeof s_err), -1);
    assert_non_null (strstr (s_err, "unknown role \"nurse\""));
    assert_non_null (strstr (s_err, "front_desk, clinician, stock_keeper, billing_clerk, clinic_manager, "
                                    "integration, service, operator"));
    assert_int_equal (mesoctl_access_roles ("front_desk,,clinician", s_out, sizeof s_out, s_err, sizeof s_err), -1);
    assert_non_null (strstr (s_err, "empty item"));
    assert_int_equal (mesoctl_access_roles ("", s_out, sizeof s_out, s_err, sizeof s_err), -1);
    assert_non_null (strstr (s_err, "--roles is required"));
    /* A prefix of a role is not the role. */
    assert_int_equal (mesoctl_access_roles ("front", s_out, sizeof s_out, s_err, sizeof s_err), -1);
}

static void
test_clinics (void **state)
{
    (void) state;
    bool all = true;
    assert_int_equal (mesoctl_access_clinics ("par,nyc,par", true, &all, s_out, sizeof s_out, s_err,
                                              sizeof s_err), 0);
    assert_false (all);
    assert_string_equal (s_out, "{par,nyc}");
    assert_int_equal (mesoctl_access_clinics ("all", true, &all, s_out, sizeof s_out, s_err, sizeof s_err), 0);
    assert_true (all);
    /* Omitted: refused where required (a person), every clinic otherwise. */
    assert_int_equal (mesoctl_access_clinics ("", true, &all, s_out, sizeof s_out, s_err, sizeof s_err), -1);
    assert_non_null (strstr (s_err, "\"all\""));
    assert_int_equal (mesoctl_access_clinics ("", false, &all, s_out, sizeof s_out, s_err, sizeof s_err), 0);
    assert_true (all);
    const char *bad[] = { "Paris", "par is", "par,", "par;nyc", "a234567890123456789012345678901234567890123456789012345678901234x" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal (mesoctl_access_clinics (bad[i], true, &all, s_out, sizeof s_out, s_err,
                                                  sizeof s_err), -1);
        assert_non_null (strstr (s_err, "--clinics"));
    }
    assert_non_null (strstr (s_err, "not a clinic id"));
}

static void
test_streams (void **state)
{
    (void) state;
    bool all = false;
    assert_int_equal (mesoctl_access_streams ("session,stock", &all, s_out, sizeof s_out, s_err,
                                              sizeof s_err), 0);
    assert_false (all);
    assert_string_equal (s_out, "{session,stock}");
    assert_int_equal (mesoctl_access_streams ("", &all, s_out, sizeof s_out, s_err, sizeof s_err), 0);
    assert_true (all);
    assert_int_equal (mesoctl_access_streams ("session,audit", &all, s_out, sizeof s_out, s_err,
                                              sizeof s_err), -1);
    assert_non_null (strstr (s_err, "unknown stream \"audit\" (valid: session, screening, stock, billing)"));
}

static void
test_public_keys (void **state)
{
    (void) state;
    assert_int_equal (mesoctl_access_public_key ("rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7", s_err,
                                                 sizeof s_err), 0);
    assert_int_equal (mesoctl_access_public_key ("short", s_err, sizeof s_err), -1);
    assert_non_null (strstr (s_err, "40 characters"));
    /* A quote or a comma is not Z85. */
    assert_int_equal (mesoctl_access_public_key ("rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf\"", s_err,
                                                 sizeof s_err), -1);
    assert_int_equal (mesoctl_access_public_key (NULL, s_err, sizeof s_err), -1);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_names),
        cmocka_unit_test (test_kinds),
        cmocka_unit_test (test_roles_literal_and_duplicates),
        cmocka_unit_test (test_roles_refused_with_the_valid_ones),
        cmocka_unit_test (test_clinics),
        cmocka_unit_test (test_streams),
        cmocka_unit_test (test_public_keys),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
