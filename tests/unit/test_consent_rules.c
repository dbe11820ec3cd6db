/* test_consent_rules.c -- treatment consent's pure logic
 * (services/screening/consent_rules.c): treatment codes, the SHA-256 of
 * a text against known digests, and the decision at each boundary: no
 * text, nothing signed, an older version signed for a session of a
 * running course (allowed) and for a new course (refused). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

#include "screening/consent_rules.h"

static void
test_treatment_codes (void **state)
{
    assert_true (consent_treatment_valid ("body_mesotherapy"));
    assert_true (consent_treatment_valid ("a"));
    assert_true (consent_treatment_valid ("face2"));
    assert_false (consent_treatment_valid (NULL));
    assert_false (consent_treatment_valid (""));
    assert_false (consent_treatment_valid ("2face"));
    assert_false (consent_treatment_valid ("_body"));
    assert_false (consent_treatment_valid ("Body"));
    assert_false (consent_treatment_valid ("body-meso"));
    assert_false (consent_treatment_valid ("body meso"));
    char code[CONSENT_TREATMENT_MAX + 2];
    memset (code, 'a', sizeof code);
    code[CONSENT_TREATMENT_MAX] = '\0';
    assert_true (consent_treatment_valid (code));
    code[CONSENT_TREATMENT_MAX] = 'a';
    code[CONSENT_TREATMENT_MAX + 1] = '\0';
    assert_false (consent_treatment_valid (code));
}

static void
test_sha256 (void **state)
{
    char hex[CONSENT_SHA256_HEX + 1];
    /* FIPS 180-2 test vectors. */
    assert_int_equal (consent_sha256_hex ("abc", 3, hex), 0);
    assert_string_equal (hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert_int_equal (consent_sha256_hex ("", 0, hex), 0);
    assert_string_equal (hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    /* The exact bytes: one more newline is another text. */
    char other[CONSENT_SHA256_HEX + 1];
    assert_int_equal (consent_sha256_hex ("abc\n", 4, other), 0);
    assert_string_not_equal (hex, other);
    assert_true (consent_sha256_valid (other));
    assert_false (consent_sha256_valid ("BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD"));
    assert_false (consent_sha256_valid ("abc"));
    assert_false (consent_sha256_valid (NULL));
}

static bool
s_decide (int current, int newest, bool current_signed, bool require, rules_reasons_t *r)
{
    consent_state_t s = { "paris", "body_mesotherapy", current, newest, current_signed, require };
    r->n = 0;
    return consent_decide (&s, r);
}

static void
test_decide (void **state)
{
    rules_reasons_t r;
    /* No text at the clinic. */
    assert_false (s_decide (0, 0, false, false, &r));
    assert_int_equal (r.n, 1);
    assert_string_equal (r.items[0].code, "consent_text_missing");
    assert_string_equal (r.items[0].field, "treatment");
    assert_true (r.items[0].refusal);
    assert_non_null (strstr (r.items[0].message, "paris"));
    assert_non_null (strstr (r.items[0].message, "body_mesotherapy"));
    /* Nothing signed: refused for a start and for a new course. */
    assert_false (s_decide (1, 0, false, false, &r));
    assert_string_equal (r.items[0].code, "consent_missing");
    assert_non_null (strstr (r.items[0].message, "body_mesotherapy"));
    assert_false (s_decide (1, 0, false, true, &r));
    assert_string_equal (r.items[0].code, "consent_missing");
    /* The current version signed: both allowed, nothing added. */
    assert_true (s_decide (2, 2, true, false, &r));
    assert_int_equal (r.n, 0);
    assert_true (s_decide (2, 2, true, true, &r));
    assert_int_equal (r.n, 0);
    /* An older version signed: a running course goes on, a new course
     * is refused naming both versions. */
    assert_true (s_decide (2, 1, false, false, &r));
    assert_int_equal (r.n, 0);
    assert_false (s_decide (2, 1, false, true, &r));
    assert_string_equal (r.items[0].code, "consent_outdated");
    assert_non_null (strstr (r.items[0].message, "version 1"));
    assert_non_null (strstr (r.items[0].message, "current version 2"));
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_treatment_codes),
        cmocka_unit_test (test_sha256),
        cmocka_unit_test (test_decide),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
