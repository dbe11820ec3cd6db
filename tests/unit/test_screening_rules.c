/* test_screening_rules.c -- the screening rules (services/screening/rules.c)
 * on their boundaries: the day before and the day of the 18th birthday, 70
 * and 71, BMI just under and at the threshold, washout day 6 and day 7, an
 * allergy matched by ingredient code among several, every contraindication
 * on its own and all reasons at once, the course by grade and the
 * pre-session instructions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "screening/rules.h"
#include "meso/mtime.h"

static int32_t
s_d (const char *text)
{
    int32_t d;
    assert_int_equal (meso_date_parse (text, &d), 0);
    return d;
}

/* A healthy 35-year-old, grade 2 thighs, nothing declared. */
static void
s_healthy (rules_answers_t *a)
{
    rules_answers_init (a);
    a->birth_date = s_d ("1990-05-10");
    for (int c = 0; c < RULES_NCONDITIONS; c++)
        a->conditions[c] = RULES_NO;
    a->height_mm = 1700;
    a->weight_g = 65000;
    a->areas[0] = (rules_area_t) { "thighs", 2, false };
    a->nareas = 1;
}

static const rules_reason_t *
s_find (const rules_reasons_t *r, const char *code)
{
    for (size_t i = 0; i < r->n; i++)
        if (strcmp (r->items[i].code, code) == 0)
            return &r->items[i];
    return NULL;
}

static void
s_check (const rules_answers_t *a, const char *const *ingredients, size_t n, int32_t date,
         rules_check_t *out)
{
    rules_settings_t s;
    rules_settings_default (&s);
    rules_check_input_t in;
    memset (&in, 0, sizeof in);
    in.answers = a;
    in.valid_until = s_d ("2030-01-01");
    rules_check (&in, ingredients, n, &s, date, out);
}

static const char *const s_cocktail[] = { "caffeine", "l_carnitine", "vitamin_c" };

/* ------------------------------------------------------------------ tests */

static void
test_healthy_patient_is_eligible (void **state)
{
    rules_answers_t a;
    s_healthy (&a);
    rules_settings_t s;
    rules_settings_default (&s);
    rules_verdict_t v;
    rules_evaluate (&a, &s, s_d ("2026-03-01"), &v);
    assert_int_equal (v.verdict, RULES_ELIGIBLE);
    assert_int_equal (v.reasons.n, 0);
    assert_int_equal (v.valid_until, s_d ("2026-03-01") + 180);
    assert_int_equal (v.earliest_first_session, RULES_NO_DATE);
}

static void
test_minor_until_the_18th_birthday (void **state)
{
    rules_answers_t a;
    s_healthy (&a);
    a.birth_date = s_d ("2008-11-21");
    rules_settings_t s;
    rules_settings_default (&s);
    rules_verdict_t v;
    rules_evaluate (&a, &s, s_d ("2026-11-20"), &v);
    assert_int_equal (v.verdict, RULES_INELIGIBLE);
    const rules_reason_t *r = s_find (&v.reasons, "minor");
    assert_non_null (r);
    assert_true (r->refusal);
    assert_string_equal (r->field, "patient.birth_date");
    assert_non_null (strstr (r->message, "2026-11-21"));
    rules_evaluate (&a, &s, s_d ("2026-11-21"), &v);
    assert_int_equal (v.verdict, RULES_ELIGIBLE);
    assert_null (s_find (&v.reasons, "minor"));

    /* Check on the session day: refused the day before, with the birthday as
     * the earliest allowed date; allowed on the day. */
    rules_check_t c;
    s_check (&a, s_cocktail, 3, s_d ("2026-11-20"), &c);
    assert_false (c.allowed);
    assert_non_null (s_find (&c.reasons, "minor"));
    assert_int_equal (c.earliest_allowed, s_d ("2026-11-21"));
    s_check (&a, s_cocktail, 3, s_d ("2026-11-21"), &c);
    assert_true (c.allowed);
}

static void
test_leap_day_birth_turns_18_on_march_1 (void **state)
{
    rules_answers_t a;
    s_healthy (&a);
    a.birth_date = s_d ("2008-02-29");
    rules_check_t c;
    s_check (&a, s_cocktail, 3, s_d ("2026-02-28"), &c);
    assert_false (c.allowed);
    assert_int_equal (c.earliest_allowed, s_d ("2026-03-01"));
    s_check (&a, s_cocktail, 3, s_d ("2026-03-01"), &c);
    assert_true (c.allowed);
}

static void
test_70_is_treated_71_is_not (void **state)
{
    rules_answers_t a;
    s_healthy (&a);
    a.birth_date = s_d ("1956-03-01");
    rules_settings_t s;
    rules_settings_default (&s);
    rules_verdict_t v;
    rules_evaluate (&a, &s, s_d ("2027-02-28"), &v);     /* 70 */
    assert_int_equal (v.verdict, RULES_ELIGIBLE);
    rules_evaluate (&a, &s, s_d ("2027-03-01"), &v);     /* 71 */
    assert_int_equal (v.verdict, RULES_INELIGIBLE);
    const rules_reason_t *r = s_find (&v.reasons, "over_max_age");
    assert_non_null (r);
    assert_non_null (strstr (r->message, "71"));
    /* A clinic that treats up to 75. */
    s.max_age = 75;
    rules_evaluate (&a, &s, s_d ("2027-03-01"), &v);
    assert_int_equal (v.verdict, RULES_ELIGIBLE);
    /* An over-age refusal never clears by waiting. */
    rules_check_t c;
    s_check (&a, s_cocktail, 3, s_d ("2027-03-01"), &c);
    assert_false (c.allowed);
    assert_int_equal (c.earliest_allowed, RULES_NO_DATE);
}

static void
test_bmi_just_under_and_at_the_threshold (void **state)
{
    rules_answers_t a;
    s_healthy (&a);
    rules_settings_t s;
    rules_settings_default (&s);
    rules_verdict_t v;
    /* 1.70 m: BMI 30.0 exactly at 86.7 kg. */
    a.weight_g = 86699;
    assert_false (rules_obese (a.height_mm, a.weight_g, 300));
    rules_evaluate (&a, &s, s_d ("2026-03-01"), &v);
    assert_int_equal (v.verdict, RULES_ELIGIBLE);
    a.weight_g = 86700;
    assert_true (rules_obese (a.height_mm, a.weight_g, 300));
    assert_int_equal (rules_bmi_x10 (a.height_mm, a.weight_g), 300);
    rules_evaluate (&a, &s, s_d ("2026-03-01"), &v);
    assert_int_equal (v.verdict, RULES_INELIGIBLE);
    const rules_reason_t *r = s_find (&v.reasons, "obesity");
    assert_non_null (r);
    assert_string_equal (r->field, "answers.weight_g");
    assert_non_null (strstr (r->message, "30.0"));
    /* A clinic threshold of 32.5. */
    s.bmi_obesity_x10 = 325;
    rules_evaluate (&a, &s, s_d ("2026-03-01"), &v);
    assert_int_equal (v.verdict, RULES_ELIGIBLE);
}

static void
test_every_contraindication_refuses_on_its_own (void **state)
{
    rules_settings_t s;
    rules_settings_default (&s);
    for (int c = 0; c < RULES_NCONDITIONS; c++) {
        rules_answers_t a;
        s_healthy (&a);
        a.conditions[c] = RULES_YES;
        rules_verdict_t v;
        rules_evaluate (&a, &s, s_d ("2026-03-01"), &v);
        assert_int_equal (v.verdict, RULES_INELIGIBLE);
        assert_int_equal (v.reasons.n, 1);
        const char *code = rules_condition_code ((rules_condition_t) c);
        assert_string_equal (v.reasons.items[0].code, code);
        char field[64];
        snprintf (field, sizeof field, "answers.%s", code);
        assert_string_equal (v.reasons.items[0].field, field);
        assert_true (strlen (v.reasons.items[0].message) > 20);
        assert_int_equal (rules_condition_of (code), c);
        /* Check refuses for the same reason. */
        rules_check_t ck;
        s_check (&a, s_cocktail, 3, s_d ("2026-03-01"), &ck);
        assert_false (ck.allowed);
        assert_non_null (s_find (&ck.reasons, code));
    }
}

static void
test_washout_day_6_refused_day_7_allowed (void **state)
{
    rules_answers_t a;
    s_healthy (&a);
    a.last_nsaid_dose = s_d ("2026-03-01");
    rules_settings_t s;
    rules_settings_default (&s);
    rules_verdict_t v;
    rules_evaluate (&a, &s, s_d ("2026-03-02"), &v);
    assert_int_equal (v.verdict, RULES_ELIGIBLE_WITH_PRECAUTIONS);
    assert_int_equal (v.earliest_first_session, s_d ("2026-03-08"));
    const rules_reason_t *r = s_find (&v.reasons, "washout");
    assert_non_null (r);
    assert_false (r->refusal);
    assert_non_null (strstr (r->message, "2026-03-08"));

    rules_check_t c;
    s_check (&a, s_cocktail, 3, s_d ("2026-03-07"), &c);     /* day 6 */
    assert_false (c.allowed);
    r = s_find (&c.reasons, "washout");
    assert_non_null (r);
    assert_string_equal (r->field, "date");
    assert_int_equal (c.earliest_allowed, s_d ("2026-03-08"));
    s_check (&a, s_cocktail, 3, s_d ("2026-03-08"), &c);     /* day 7 */
    assert_true (c.allowed);
    assert_int_equal (c.earliest_allowed, s_d ("2026-03-08"));

    /* A dose long before the screening imposes nothing. */
    a.last_nsaid_dose = s_d ("2026-01-01");
    rules_evaluate (&a, &s, s_d ("2026-03-02"), &v);
    assert_int_equal (v.verdict, RULES_ELIGIBLE);
    assert_int_equal (v.earliest_first_session, RULES_NO_DATE);
}

static void
test_allergy_matched_by_code_among_several (void **state)
{
    rules_answers_t a;
    s_healthy (&a);
    a.allergies[0] = "glycolic_acid";
    a.allergies[1] = "lidocaine";
    a.allergies[2] = "artichoke_extract";
    a.nallergies = 3;
    rules_settings_t s;
    rules_settings_default (&s);
    rules_verdict_t v;
    rules_evaluate (&a, &s, s_d ("2026-03-01"), &v);
    /* Declared allergies are a precaution, checked against each recipe. */
    assert_int_equal (v.verdict, RULES_ELIGIBLE_WITH_PRECAUTIONS);
    assert_non_null (s_find (&v.reasons, "allergy_declared"));

    const char *with[] = { "caffeine", "vitamin_c", "lidocaine", "amino_acids" };
    rules_check_t c;
    s_check (&a, with, 4, s_d ("2026-03-10"), &c);
    assert_false (c.allowed);
    assert_int_equal (c.reasons.n, 1);
    assert_string_equal (c.reasons.items[0].code, "allergy");
    assert_string_equal (c.reasons.items[0].field, "ingredients[2]");
    assert_non_null (strstr (c.reasons.items[0].message, "lidocaine"));
    assert_int_equal (c.earliest_allowed, RULES_NO_DATE);

    const char *without[] = { "caffeine", "vitamin_c", "amino_acids" };
    s_check (&a, without, 3, s_d ("2026-03-10"), &c);
    assert_true (c.allowed);
    assert_non_null (s_find (&c.reasons, "allergy_declared"));
    assert_false (c.reasons.items[0].refusal);
}

static void
test_all_reasons_at_once (void **state)
{
    rules_answers_t a;
    s_healthy (&a);
    a.birth_date = s_d ("2010-01-01");
    a.conditions[RULES_C_PREGNANCY] = RULES_YES;
    a.conditions[RULES_C_DIABETES] = RULES_YES;
    a.conditions[RULES_C_BLOOD_CLOTS] = RULES_YES;
    a.weight_g = 100000;
    a.allergies[0] = "caffeine";
    a.nallergies = 1;
    a.last_nsaid_dose = s_d ("2026-03-01");
    a.medications[0] = "ibuprofen";
    a.nmedications = 1;
    rules_settings_t s;
    rules_settings_default (&s);
    rules_verdict_t v;
    rules_evaluate (&a, &s, s_d ("2026-03-02"), &v);
    assert_int_equal (v.verdict, RULES_INELIGIBLE);
    const char *expect[] = { "minor", "pregnancy", "diabetes", "blood_clots", "obesity",
                             "washout", "current_medication", "allergy_declared" };
    for (size_t i = 0; i < sizeof expect / sizeof expect[0]; i++)
        assert_non_null (s_find (&v.reasons, expect[i]));
    assert_int_equal (v.reasons.n, 8);

    rules_check_t c;
    s_check (&a, s_cocktail, 3, s_d ("2026-03-03"), &c);
    assert_false (c.allowed);
    const char *refusals[] = { "minor", "pregnancy", "diabetes", "blood_clots", "obesity",
                               "allergy", "washout" };
    for (size_t i = 0; i < sizeof refusals / sizeof refusals[0]; i++)
        assert_non_null (s_find (&c.reasons, refusals[i]));
    assert_int_equal (c.reasons.n, 7);
    assert_int_equal (c.earliest_allowed, RULES_NO_DATE);  /* pregnancy does not wait out */
}

static void
test_check_without_expired_or_outdated_screening (void **state)
{
    rules_settings_t s;
    rules_settings_default (&s);
    rules_check_input_t in;
    memset (&in, 0, sizeof in);
    rules_check_t c;
    rules_check (&in, s_cocktail, 3, &s, s_d ("2026-03-01"), &c);
    assert_false (c.allowed);
    assert_int_equal (c.reasons.n, 1);
    assert_string_equal (c.reasons.items[0].code, "no_screening");

    rules_answers_t a;
    s_healthy (&a);
    in.answers = &a;
    in.valid_until = s_d ("2026-08-28");
    rules_check (&in, s_cocktail, 3, &s, s_d ("2026-08-28"), &c);
    assert_true (c.allowed);                 /* the last valid day */
    rules_check (&in, s_cocktail, 3, &s, s_d ("2026-08-29"), &c);
    assert_false (c.allowed);
    assert_non_null (s_find (&c.reasons, "screening_expired"));

    /* A pregnancy reported after the screening refuses with its own code. */
    in.changes[0] = "pregnancy";
    in.nchanges = 1;
    rules_check (&in, s_cocktail, 3, &s, s_d ("2026-05-01"), &c);
    assert_false (c.allowed);
    assert_non_null (s_find (&c.reasons, "pregnancy"));
    assert_non_null (s_find (&c.reasons, "change_reported"));
    /* Any reported change asks for a new screening. */
    in.changes[0] = "medication";
    rules_check (&in, s_cocktail, 3, &s, s_d ("2026-05-01"), &c);
    assert_false (c.allowed);
    assert_int_equal (c.reasons.n, 1);
    assert_string_equal (c.reasons.items[0].code, "change_reported");
}

static void
test_minor_and_washout_earliest_is_the_later (void **state)
{
    rules_answers_t a;
    s_healthy (&a);
    a.birth_date = s_d ("2008-03-05");
    a.last_nsaid_dose = s_d ("2026-03-01");
    rules_check_t c;
    s_check (&a, s_cocktail, 3, s_d ("2026-03-02"), &c);
    assert_false (c.allowed);
    assert_non_null (s_find (&c.reasons, "minor"));
    assert_non_null (s_find (&c.reasons, "washout"));
    assert_int_equal (c.earliest_allowed, s_d ("2026-03-08"));
}

static void
test_course_by_grade (void **state)
{
    rules_course_t c;
    rules_area_t g1[] = { { "thighs", 1, false } };
    rules_course (g1, 1, &c);
    assert_int_equal (c.grade, 1);
    assert_int_equal (c.min_sessions, 1);
    assert_int_equal (c.max_sessions, 1);
    assert_int_equal (c.spacing_min_days, 365);         /* one a year */

    rules_area_t g2[] = { { "thighs", 2, false } };
    rules_course (g2, 1, &c);
    assert_int_equal (c.grade, 2);
    assert_int_equal (c.min_sessions, 10);
    assert_int_equal (c.max_sessions, 15);
    assert_int_equal (c.spacing_min_days, 7);
    assert_true (c.spacing_max_days >= 7);

    rules_area_t g2mild[] = { { "thighs", 2, true }, { "hips", 1, false } };
    rules_course (g2mild, 2, &c);
    assert_int_equal (c.min_sessions, 3);
    assert_int_equal (c.max_sessions, 5);
    assert_int_equal (c.spacing_min_days, 7);

    /* One grade-2 area not mild: the full course. */
    rules_area_t g2mixed[] = { { "thighs", 2, true }, { "hips", 2, false } };
    rules_course (g2mixed, 2, &c);
    assert_int_equal (c.min_sessions, 10);

    /* The worst area decides. */
    rules_area_t g3[] = { { "arms", 1, false }, { "buttocks", 3, false } };
    rules_course (g3, 2, &c);
    assert_int_equal (c.grade, 3);
    assert_true (c.min_sessions > 20);
    assert_int_equal (c.max_sessions, 0);
    assert_int_equal (c.spacing_min_days, 7);
    assert_true (strlen (c.summary) > 0);
}

static bool
s_has_text (const rules_texts_t *t, const char *needle)
{
    for (size_t i = 0; i < t->n; i++)
        if (strstr (t->items[i], needle))
            return true;
    return false;
}

static void
test_pre_session_instructions (void **state)
{
    rules_answers_t a;
    s_healthy (&a);
    rules_texts_t t;
    rules_instructions (&a, &t);
    assert_true (s_has_text (&t, "caffeine"));
    assert_true (s_has_text (&t, "stimulants"));
    assert_true (s_has_text (&t, "shower"));
    assert_true (s_has_text (&t, "make-up"));
    assert_true (s_has_text (&t, "aspirin"));
    assert_false (s_has_text (&t, "current medication"));
    size_t plain = t.n;
    a.last_nsaid_dose = s_d ("2026-03-01");
    a.medications[0] = "levothyroxine";
    a.nmedications = 1;
    rules_instructions (&a, &t);
    assert_true (s_has_text (&t, "2026-03-08"));
    assert_true (s_has_text (&t, "current medication"));
    assert_int_equal (t.n, plain + 1);

    rules_texts_t adv;
    a.diet = RULES_YES;
    a.exercise = RULES_YES;
    a.early_stage = RULES_YES;
    rules_advice (&a, &adv);
    assert_true (s_has_text (&adv, "diet and exercise"));
    assert_true (s_has_text (&adv, "early-stage"));
}

static void
test_validation_names_the_field (void **state)
{
    rules_answers_t a;
    s_healthy (&a);
    rules_reasons_t r = { .n = 0 };
    int32_t today = s_d ("2026-03-01");
    assert_int_equal (rules_validate (&a, today, "answers", &r), 0);
    assert_int_equal (r.n, 0);

    a.conditions[RULES_C_CANCER] = RULES_UNANSWERED;
    a.weight_g = -5000;
    a.areas[0].grade = 4;
    a.areas[1] = (rules_area_t) { "elbows", 2, false };
    a.areas[2] = (rules_area_t) { "thighs", 1, false };
    a.nareas = 3;
    a.last_nsaid_dose = today + 1;
    a.allergies[0] = "Caffeine!";
    a.nallergies = 1;
    a.height_mm = 0;
    assert_int_equal (rules_validate (&a, today, "answers", &r), -1);
    const struct { const char *code, *field; } expect[] = {
        { "missing_answer", "answers.cancer" },
        { "missing_answer", "answers.height_mm" },
        { "out_of_range", "answers.weight_g" },
        { "out_of_range", "answers.areas[0].grade" },
        { "unknown_area", "answers.areas[1].area" },
        { "duplicate_area", "answers.areas[2].area" },
        { "out_of_range", "answers.last_anti_inflammatory_dose" },
        { "unknown_ingredient", "answers.allergies[0]" },
    };
    assert_int_equal (r.n, sizeof expect / sizeof expect[0]);
    for (size_t i = 0; i < r.n; i++) {
        bool found = false;
        for (size_t k = 0; k < r.n; k++)
            if (strcmp (r.items[k].code, expect[i].code) == 0
                && strcmp (r.items[k].field, expect[i].field) == 0)
                found = true;
        if (!found)
            fail_msg ("no reason %s on %s", expect[i].code, expect[i].field);
    }

    rules_answers_t empty;
    rules_answers_init (&empty);
    rules_reasons_t r2 = { .n = 0 };
    assert_int_equal (rules_validate (&empty, today, "answers", &r2), -1);
    /* 13 unanswered contraindications, height, weight, areas. */
    assert_int_equal (r2.n, RULES_NCONDITIONS + 3);
}

/* Allergy codes have the chain's one ingredient syntax (inventory's): a
 * dash or a leading digit is a code; what is not a code is named. */
static void
test_allergy_codes_have_the_catalogue_syntax (void **state)
{
    rules_answers_t a;
    s_healthy (&a);
    int32_t today = s_d ("2026-03-01");
    a.allergies[0] = "vitamin-b12";
    a.allergies[1] = "5htp";
    a.allergies[2] = "artichoke";
    a.nallergies = 3;
    rules_reasons_t r = { .n = 0 };
    assert_int_equal (rules_validate (&a, today, "answers", &r), 0);
    assert_int_equal (r.n, 0);
    a.allergies[1] = "unicorn dust";
    assert_int_equal (rules_validate (&a, today, "answers", &r), -1);
    assert_int_equal (r.n, 1);
    assert_string_equal (r.items[0].code, "unknown_ingredient");
    assert_string_equal (r.items[0].field, "answers.allergies[1]");
}

static void
test_settings_ranges (void **state)
{
    rules_settings_t s;
    rules_settings_default (&s);
    assert_int_equal (s.max_age, 70);
    assert_int_equal (s.bmi_obesity_x10, 300);
    assert_int_equal (s.validity_days, 180);
    const char *field = NULL;
    assert_int_equal (rules_settings_valid (&s, &field), 0);
    s.max_age = 17;
    assert_int_equal (rules_settings_valid (&s, &field), -1);
    assert_string_equal (field, "max_age");
    rules_settings_default (&s);
    s.validity_days = 0;
    assert_int_equal (rules_settings_valid (&s, &field), -1);
    assert_string_equal (field, "validity_days");
    assert_true (rules_code_valid ("hyaluronic_acid"));
    assert_false (rules_code_valid ("Hyaluronic"));
    assert_false (rules_code_valid (""));
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_healthy_patient_is_eligible),
        cmocka_unit_test (test_allergy_codes_have_the_catalogue_syntax),
        cmocka_unit_test (test_minor_until_the_18th_birthday),
        cmocka_unit_test (test_leap_day_birth_turns_18_on_march_1),
        cmocka_unit_test (test_70_is_treated_71_is_not),
        cmocka_unit_test (test_bmi_just_under_and_at_the_threshold),
        cmocka_unit_test (test_every_contraindication_refuses_on_its_own),
        cmocka_unit_test (test_washout_day_6_refused_day_7_allowed),
        cmocka_unit_test (test_allergy_matched_by_code_among_several),
        cmocka_unit_test (test_all_reasons_at_once),
        cmocka_unit_test (test_check_without_expired_or_outdated_screening),
        cmocka_unit_test (test_minor_and_washout_earliest_is_the_later),
        cmocka_unit_test (test_course_by_grade),
        cmocka_unit_test (test_pre_session_instructions),
        cmocka_unit_test (test_validation_names_the_field),
        cmocka_unit_test (test_settings_ranges),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
