/* test_screening_decisions.c -- the decisions the screening methods take
 * from a request or from the rows they loaded, as pure rules
 * (services/screening/rules.c): the day of an instant on both sides of
 * midnight and of 1970, which reported changes exist and which make a
 * patient ineligible, when a stored screening is outdated, what a clinic's
 * requested settings become (0 keeps the default, huge values stay out of
 * range), and the reason collector every method validates with. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "screening/rules.h"
#include "meso/mtime.h"

#define DAY_US INT64_C (86400000000)

static void
test_day_of_rounds_toward_the_past (void **state)
{
    (void) state;
    assert_int_equal (rules_day_of (0), 0);
    assert_int_equal (rules_day_of (DAY_US - 1), 0);
    assert_int_equal (rules_day_of (DAY_US), 1);
    /* Before 1970: the last microsecond of 1969-12-31 is on day -1. */
    assert_int_equal (rules_day_of (-1), -1);
    assert_int_equal (rules_day_of (-DAY_US), -1);
    assert_int_equal (rules_day_of (-DAY_US - 1), -2);
    int32_t d;
    assert_int_equal (meso_date_parse ("2026-03-01", &d), 0);
    assert_int_equal (rules_day_of ((int64_t) d * DAY_US), d);
    assert_int_equal (rules_day_of ((int64_t) d * DAY_US + DAY_US / 2), d);
    assert_int_equal (rules_day_of ((int64_t) (d + 1) * DAY_US - 1), d);
}

static void
test_change_codes (void **state)
{
    (void) state;
    for (int c = 0; c < RULES_NCONDITIONS; c++)
        assert_true (rules_change_known (rules_condition_code ((rules_condition_t) c)));
    assert_true (rules_change_known ("allergy"));
    assert_true (rules_change_known ("medication"));
    assert_true (rules_change_known ("weight"));
    assert_true (rules_change_known ("other"));
    assert_false (rules_change_known ("headache"));
    assert_false (rules_change_known ("Allergy"));
    assert_false (rules_change_known (""));
    assert_false (rules_change_known (NULL));
}

static void
test_change_ineligible_only_for_a_contraindication (void **state)
{
    (void) state;
    const char *harmless[] = { "weight", "other", "allergy", "medication" };
    assert_false (rules_change_ineligible (harmless, 4));
    assert_false (rules_change_ineligible (harmless, 0));
    const char *pregnant[] = { "weight", "pregnancy" };
    assert_true (rules_change_ineligible (pregnant, 2));
    /* Only the first n codes count. */
    assert_false (rules_change_ineligible (pregnant, 1));
    for (int c = 0; c < RULES_NCONDITIONS; c++) {
        const char *one[] = { rules_condition_code ((rules_condition_t) c) };
        assert_true (rules_change_ineligible (one, 1));
    }
}

static void
test_screening_outdated_by_a_later_change (void **state)
{
    (void) state;
    assert_false (rules_screening_outdated (false, 0));
    /* Changes of a patient never screened outdate nothing. */
    assert_false (rules_screening_outdated (false, 3));
    assert_false (rules_screening_outdated (true, 0));
    assert_true (rules_screening_outdated (true, 1));
    assert_true (rules_screening_outdated (true, 16));
}

static void
test_settings_from_a_request (void **state)
{
    (void) state;
    rules_settings_t s;
    const char *field = NULL;
    rules_settings_from (0, 0, 0, &s);
    assert_int_equal (s.max_age, RULES_DEFAULT_MAX_AGE);
    assert_int_equal (s.bmi_obesity_x10, RULES_DEFAULT_BMI_X10);
    assert_int_equal (s.validity_days, RULES_DEFAULT_VALIDITY_DAYS);

    rules_settings_from (65, 0, 365, &s);
    assert_int_equal (s.max_age, 65);
    assert_int_equal (s.bmi_obesity_x10, RULES_DEFAULT_BMI_X10);
    assert_int_equal (s.validity_days, 365);
    assert_int_equal (rules_settings_valid (&s, &field), 0);

    /* At the clamps and beyond: still out of range, never wrapped into a
     * valid int. */
    rules_settings_from (1000, 10000, 100000, &s);
    assert_int_equal (s.max_age, 1000);
    assert_int_equal (s.bmi_obesity_x10, 10000);
    assert_int_equal (s.validity_days, 100000);
    rules_settings_from (UINT32_MAX, UINT32_MAX, UINT32_MAX, &s);
    assert_int_equal (s.max_age, 1000);
    assert_int_equal (s.bmi_obesity_x10, 10000);
    assert_int_equal (s.validity_days, 100000);
    assert_int_equal (rules_settings_valid (&s, &field), -1);
    assert_string_equal (field, "max_age");
    rules_settings_from (70, UINT32_C (2147483648), 0, &s);
    assert_int_equal (s.bmi_obesity_x10, 10000);
    assert_int_equal (rules_settings_valid (&s, &field), -1);
    assert_string_equal (field, "bmi_obesity_x10");
    rules_settings_from (0, 0, UINT32_C (4294967295), &s);
    assert_int_equal (rules_settings_valid (&s, &field), -1);
    assert_string_equal (field, "validity_days");
}

static void
test_reason_add_collects_until_full (void **state)
{
    (void) state;
    rules_reasons_t r = { .n = 0 };
    rules_reason_add (&r, true, "invalid_id", "patient_id", "%s must be a patient UUID.",
                      "patient_id");
    rules_reason_add (&r, false, "washout", NULL, "no session before day %d", 7);
    assert_int_equal (r.n, 2);
    assert_string_equal (r.items[0].code, "invalid_id");
    assert_string_equal (r.items[0].field, "patient_id");
    assert_string_equal (r.items[0].message, "patient_id must be a patient UUID.");
    assert_true (r.items[0].refusal);
    assert_string_equal (r.items[1].field, "");
    assert_string_equal (r.items[1].message, "no session before day 7");
    assert_false (r.items[1].refusal);
    assert_true (rules_reasons_has (&r, "washout"));
    assert_false (rules_reasons_has (&r, "minor"));

    /* A long message is cut to the buffer, never overflows it. */
    char longtext[2 * RULES_TEXT_MAX];
    memset (longtext, 'x', sizeof longtext - 1);
    longtext[sizeof longtext - 1] = '\0';
    rules_reason_add (&r, true, "too_long", "note", "%s", longtext);
    assert_int_equal (strlen (r.items[2].message), RULES_TEXT_MAX - 1);

    /* Past RULES_MAX_REASONS the rest are dropped; the first ones stay. */
    for (int i = 0; i < RULES_MAX_REASONS + 5; i++)
        rules_reason_add (&r, true, "more", "f", "reason %d", i);
    assert_int_equal (r.n, RULES_MAX_REASONS);
    assert_string_equal (r.items[0].code, "invalid_id");
    assert_string_equal (r.items[RULES_MAX_REASONS - 1].message, "reason 60");
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_day_of_rounds_toward_the_past),
        cmocka_unit_test (test_change_codes),
        cmocka_unit_test (test_change_ineligible_only_for_a_contraindication),
        cmocka_unit_test (test_screening_outdated_by_a_later_change),
        cmocka_unit_test (test_settings_from_a_request),
        cmocka_unit_test (test_reason_add_collects_until_full),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
