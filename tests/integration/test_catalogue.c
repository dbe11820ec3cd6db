/* test_catalogue.c -- one ingredient catalogue for the chain, end to end:
 * real PostgreSQL and real meso-screening, meso-inventory and
 * meso-scheduling over real sockets (scheduling_fixture.h).
 *
 *   - an ingredient added through inventory.UpsertIngredient (the demo's
 *     "artichoke") is at once bookable: BookCourse of a recipe using it
 *     goes through the whole saga and holds its stock;
 *   - and at once allergy-checked: a patient allergic to it is screened
 *     (the code is accepted without anything else being told) and then
 *     refused that recipe, the refusal naming the ingredient, while a
 *     recipe without it still books;
 *   - an allergy code or a cocktail ingredient the catalogue does not hold
 *     is refused naming the field, and stores nothing; codes have
 *     inventory's syntax everywhere (a dash is fine once inventory has it);
 *   - when inventory cannot be asked, a code never seen is refused
 *     UNAVAILABLE (retry), while codes already confirmed keep working. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include "fixture_patient.h"
#include "scheduling_fixture.h"

static const char *const s_practs[] = { "dr-a" };
static const char *const s_rooms[] = { "room-1" };

static void
s_ingredient (fx_t *fx, const char *code, const char *unit)
{
    meso_result_t r = { 0 };
    Meso__V1__Ingredient ing = MESO__V1__INGREDIENT__INIT;
    ing.code = (char *) code;
    ing.name = (char *) code;
    ing.unit = (Meso__V1__Unit) meso_enum_from_text (&meso__v1__unit__descriptor, unit);
    Meso__V1__UpsertIngredientRequest ir = MESO__V1__UPSERT_INGREDIENT_REQUEST__INIT;
    ir.ingredient = &ing;
    assert_int_equal (fx_call (fx, fx->inv, "inventory.UpsertIngredient", &ir.base, NULL, &r), MESO_OK);
    meso_result_reset (&r);
}

/* The demo's draining cocktail: artichoke and caffeine on the thighs, with
 * a lot of artichoke in the clinic. */
static void
s_drain_recipe (fx_t *fx, const char *clinic)
{
    meso_result_t r = { 0 };
    s_ingredient (fx, "artichoke", "mg");
    Meso__V1__RecipeLine l1 = MESO__V1__RECIPE_LINE__INIT, l2 = MESO__V1__RECIPE_LINE__INIT;
    l1.area = "thighs"; l1.ingredient_code = "artichoke"; l1.amount_milli = 100000;
    l2.area = "thighs"; l2.ingredient_code = "caffeine"; l2.amount_milli = 50000;
    Meso__V1__RecipeLine *lines[] = { &l1, &l2 };
    Meso__V1__UpsertRecipeRequest rq = MESO__V1__UPSERT_RECIPE_REQUEST__INIT;
    rq.recipe_id = "drain";
    rq.name = "Draining";
    rq.lines = lines;
    rq.n_lines = 2;
    assert_int_equal (fx_call (fx, fx->inv, "inventory.UpsertRecipe", &rq.base, NULL, &r), MESO_OK);
    char expiry[16];
    fx_day (500, expiry);
    Meso__V1__ReceiveRequest rv = MESO__V1__RECEIVE_REQUEST__INIT;
    rv.clinic_id = (char *) clinic;
    rv.ingredient_code = "artichoke";
    rv.lot_number = "ART-1";
    rv.expiry_date = expiry;
    rv.quantity_milli = INT64_C (8000000);         /* 8 g */
    assert_int_equal (fx_call (fx, fx->inv, "inventory.Receive", &rv.base, NULL, &r), MESO_OK);
    meso_result_reset (&r);
}

/* BookCourse of sessions weekly sessions of recipe on the thighs. */
static Meso__V1__BookCourseReply *
s_book (fx_t *fx, const char *patient, const char *recipe, int first_in, unsigned sessions,
        meso_result_t *r)
{
    char first[11];
    fx_day (first_in, first);
    Meso__V1__CourseSpec sp = MESO__V1__COURSE_SPEC__INIT;
    sp.clinic_id = "paris";
    sp.patient_id = (char *) patient;
    sp.grade = 2;
    char *areas[] = { "thighs" };
    sp.areas = areas;
    sp.n_areas = 1;
    sp.first_date = first;
    sp.preferred_time = "10:00";
    sp.sessions = sessions;
    sp.recipe_id = (char *) recipe;
    Meso__V1__BookCourseRequest rq = MESO__V1__BOOK_COURSE_REQUEST__INIT;
    rq.spec = &sp;
    if (fx_call (fx, fx->sch, "scheduling.BookCourse", &rq.base, NULL, r) != MESO_OK)
        return NULL;
    size_t len;
    const uint8_t *body = meso_result_body (r, &len);
    return meso__v1__book_course_reply__unpack (NULL, len, body);
}

/* The reason with code, or NULL. */
static const Meso__V1__Reason *
s_reason (const meso_result_t *r, const char *code)
{
    for (size_t i = 0; r->reply && i < r->reply->n_reasons; i++)
        if (strcmp (r->reply->reasons[i]->code, code) == 0)
            return r->reply->reasons[i];
    return NULL;
}

/* Records a clean screening with these allergies; returns the status. */
static int
s_screen (fx_t *fx, const char *patient, const char *const *allergies, size_t n, meso_result_t *r)
{
    mt_answers_t a;
    mt_answers_eligible (&a, 2);
    a.q.allergies = (char **) allergies;
    a.q.n_allergies = n;
    Meso__V1__RecordScreeningRequest sr = MESO__V1__RECORD_SCREENING_REQUEST__INIT;
    sr.patient_id = (char *) patient;
    sr.clinic_id = "paris";
    sr.answers = &a.q;
    return fx_call (fx, fx->scr, "screening.RecordScreening", &sr.base, NULL, r);
}

static void
test_new_ingredient_is_bookable_and_checked_at_once (void **state)
{
    fx_t *fx = fx_setup ("catalogue_it_book", 1);
    fx_clinic (fx, "paris", "Europe/Paris", s_practs, 1, s_rooms, 1, true);
    s_drain_recipe (fx, "paris");
    /* Nothing was written into screening's side: no fixed list knows it. */
    assert_int_equal (fx_sql (fx, "SELECT count(*) FROM screening.ingredients WHERE code = 'artichoke'",
                              NULL), 0);
    meso_result_t r = { 0 };

    /* Bookable at once: the saga screens, places and reserves. */
    char fine[40];
    fx_patient (fx, "paris", NULL, false, fine);
    Meso__V1__BookCourseReply *out = s_book (fx, fine, "drain", 3, 2, &r);
    assert_non_null (out);
    assert_int_equal (out->course->n_sessions, 2);
    for (size_t i = 0; i < out->course->n_sessions; i++)
        assert_string_equal (meso_enum_str (&meso__v1__session_status__descriptor, (int) out->course->sessions[i]->status), "booked");
    meso__v1__book_course_reply__free_unpacked (out, NULL);
    /* 100 mg of artichoke held for each of the two sessions. */
    assert_int_equal (fx_sql (fx, "SELECT sum(amount_milli) FROM inventory.reservation_line l"
                                  " JOIN inventory.reservation v USING (clinic_id, appointment_id)"
                                  " WHERE l.ingredient_code = 'artichoke' AND v.status = 'held'"
                                  "   AND v.patient_id = $1", fine), 200000);
    fx_check_complete_or_absent (fx);

    /* Allergy-checked at once: the code is accepted in a screening... */
    char allergic[40];
    fx_patient (fx, "paris", "artichoke", false, allergic);
    /* (Allergies are in the screening's sealed record since migration
     * 023, not in screening_allergies.) */
    assert_int_equal (fx_sql (fx, "SELECT count(*) FROM screening.screenings"
                                  " WHERE patient_id = $1::uuid AND sealed", allergic), 1);
    /* ...and a cocktail with it is refused, naming the ingredient. */
    assert_null (s_book (fx, allergic, "drain", 3, 2, &r));
    assert_int_equal (r.status, MESO_FAILED_PRECONDITION);
    const Meso__V1__Reason *why = s_reason (&r, "allergy");
    assert_non_null (why);
    assert_non_null (strstr (why->message, "artichoke"));
    assert_int_equal (fx_sql (fx, "SELECT count(*) FROM scheduling.appointment WHERE patient_id = $1",
                              allergic), 0);
    /* The allergy is checked against the recipe: one without it books. */
    out = s_book (fx, allergic, "lipo", 5, 1, &r);
    assert_non_null (out);
    assert_int_equal (out->course->n_sessions, 1);
    meso__v1__book_course_reply__free_unpacked (out, NULL);
    fx_check_complete_or_absent (fx);
    meso_result_reset (&r);
    fx_teardown (fx);
}

static void
test_unknown_codes_are_refused (void **state)
{
    fx_t *fx = fx_setup ("catalogue_it_unknown", 1);
    fx_clinic (fx, "paris", "Europe/Paris", s_practs, 1, s_rooms, 1, false);
    char pat[40];
    fx_patient (fx, "paris", NULL, false, pat);
    int64_t before = fx_sql (fx, "SELECT count(*) FROM screening.screenings", NULL);
    meso_result_t r = { 0 };

    /* An allergy code no catalogue holds: INVALID_ARGUMENT on the field. */
    const char *unknown[] = { "caffeine", "unicorn_dust" };
    assert_int_equal (s_screen (fx, pat, unknown, 2, &r), MESO_INVALID_ARGUMENT);
    const Meso__V1__Reason *why = s_reason (&r, "unknown_ingredient");
    assert_non_null (why);
    assert_string_equal (why->field, "answers.allergies[1]");
    assert_non_null (strstr (why->message, "unicorn_dust"));
    /* Not of the code syntax at all: refused the same way. */
    const char *shapeless[] = { "Unicorn Dust" };
    assert_int_equal (s_screen (fx, pat, shapeless, 1, &r), MESO_INVALID_ARGUMENT);
    assert_string_equal (s_reason (&r, "unknown_ingredient")->field, "answers.allergies[0]");
    assert_int_equal (fx_sql (fx, "SELECT count(*) FROM screening.screenings", NULL), before);
    assert_int_equal (fx_sql (fx, "SELECT count(*) FROM screening.ingredients WHERE code = 'unicorn_dust'",
                              NULL), 0);

    /* One syntax for the chain: a code with a dash, once inventory has
     * it, is a valid allergy (screening's old list refused dashes). */
    s_ingredient (fx, "vitamin-b12", "mg");
    const char *dashed[] = { "vitamin-b12" };
    assert_int_equal (s_screen (fx, pat, dashed, 1, &r), MESO_OK);
    assert_int_equal (fx_sql (fx, "SELECT count(*) FROM screening.ingredients"
                                  " WHERE code = 'vitamin-b12' AND confirmed_at IS NOT NULL", NULL), 1);

    /* Check of a cocktail with an ingredient the catalogue lacks: refused,
     * naming it. */
    char day[11];
    fx_day (10, day);
    char *cocktail[] = { "caffeine", "snake_oil" };
    Meso__V1__CheckRequest ck = MESO__V1__CHECK_REQUEST__INIT;
    ck.patient_id = pat;
    ck.date = day;
    ck.ingredients = cocktail;
    ck.n_ingredients = 2;
    assert_int_equal (fx_call (fx, fx->scr, "screening.Check", &ck.base, NULL, &r), MESO_INVALID_ARGUMENT);
    why = s_reason (&r, "unknown_ingredient");
    assert_non_null (why);
    assert_string_equal (why->field, "ingredients[1]");
    assert_non_null (strstr (why->message, "snake_oil"));
    /* The same cocktail without it is allowed. */
    ck.n_ingredients = 1;
    assert_int_equal (fx_call (fx, fx->scr, "screening.Check", &ck.base, NULL, &r), MESO_OK);
    meso_result_reset (&r);
    fx_teardown (fx);
}

static void
test_inventory_down_refuses_only_new_codes (void **state)
{
    fx_t *fx = fx_setup ("catalogue_it_down", 1);
    fx_clinic (fx, "paris", "Europe/Paris", s_practs, 1, s_rooms, 1, false);
    s_ingredient (fx, "artichoke", "mg");
    char pat[40];
    fx_patient (fx, "paris", "caffeine", false, pat);     /* caffeine now confirmed */
    assert_int_equal (mt_stop (fx->inventory_pid, SIGTERM), 0);
    fx->inventory_pid = 0;
    meso_result_t r = { 0 };
    /* artichoke exists, but screening has never seen it and cannot ask. */
    const char *fresh[] = { "artichoke" };
    assert_int_equal (s_screen (fx, pat, fresh, 1, &r), MESO_UNAVAILABLE);
    const Meso__V1__Reason *why = s_reason (&r, "ingredient_unchecked");
    assert_non_null (why);
    assert_string_equal (why->field, "answers.allergies[0]");
    /* A code confirmed before needs no round trip. */
    const char *known[] = { "caffeine" };
    assert_int_equal (s_screen (fx, pat, known, 1, &r), MESO_OK);
    meso_result_reset (&r);
    fx_teardown (fx);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_new_ingredient_is_bookable_and_checked_at_once),
        cmocka_unit_test (test_unknown_codes_are_refused),
        cmocka_unit_test (test_inventory_down_refuses_only_new_codes),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
