/* test_enums.c -- the contract's enums where they replaced free strings,
 * end to end: real PostgreSQL and real meso-screening, meso-inventory and
 * meso-scheduling (scheduling_fixture.h), and the mesoctl binary.
 *
 *   - a request's enum left UNSPECIFIED, or set to a number the service
 *     does not know, is refused INVALID_ARGUMENT naming the field, and
 *     stores nothing (inventory.UpsertIngredient's ingredient.unit,
 *     scheduling.ListWaitlist's status);
 *   - a valid value is stored as the database's lowercase text ("ml") and
 *     comes back as the same enum value;
 *   - a stored text the service does not know (a column whose CHECK was
 *     loosened by hand) comes back UNSPECIFIED, and the daemon logs a
 *     warning naming the text, rather than guessing;
 *   - mesoctl accepts and prints the lowercase texts (--unit ml; a table
 *     shows "ml") and refuses an unknown one locally, listing the texts it
 *     takes (exit 2, nothing sent). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <sys/wait.h>

#include "scheduling_fixture.h"

static bool
s_reason_field (const meso_result_t *r, const char *field)
{
    for (size_t i = 0; r->reply && i < r->reply->n_reasons; i++)
        if (strcmp (r->reply->reasons[i]->field, field) == 0)
            return true;
    return false;
}

static int
s_upsert (fx_t *fx, const char *code, Meso__V1__Unit unit, meso_result_t *r)
{
    Meso__V1__Ingredient ing = MESO__V1__INGREDIENT__INIT;
    ing.code = (char *) code;
    ing.name = (char *) code;
    ing.unit = unit;
    Meso__V1__UpsertIngredientRequest rq = MESO__V1__UPSERT_INGREDIENT_REQUEST__INIT;
    rq.ingredient = &ing;
    return fx_call (fx, fx->inv, "inventory.UpsertIngredient", &rq.base, NULL, r);
}

/* The unit GetIngredients gives for code (-1 when it is not listed). */
static int
s_listed_unit (fx_t *fx, const char *code)
{
    meso_result_t r = { 0 };
    char *codes[] = { (char *) code };
    Meso__V1__GetIngredientsRequest rq = MESO__V1__GET_INGREDIENTS_REQUEST__INIT;
    rq.codes = codes;
    rq.n_codes = 1;
    assert_int_equal (fx_call (fx, fx->inv, "inventory.GetIngredients", &rq.base, NULL, &r), MESO_OK);
    size_t len;
    const uint8_t *body = meso_result_body (&r, &len);
    Meso__V1__GetIngredientsReply *out = meso__v1__get_ingredients_reply__unpack (NULL, len, body);
    assert_non_null (out);
    int unit = -1;
    for (size_t i = 0; i < out->n_ingredients; i++)
        if (strcmp (out->ingredients[i]->code, code) == 0)
            unit = (int) out->ingredients[i]->unit;
    meso__v1__get_ingredients_reply__free_unpacked (out, NULL);
    meso_result_reset (&r);
    return unit;
}

static void
test_unit_in_requests_and_replies (void **state)
{
    (void) state;
    fx_t *fx = fx_setup ("enum_unit", 1);
    meso_result_t r = { 0 };

    /* Unset and unknown units: refused naming ingredient.unit, nothing stored. */
    assert_int_equal (s_upsert (fx, "saline", MESO__V1__UNIT__UNIT_UNSPECIFIED, &r), MESO_INVALID_ARGUMENT);
    assert_true (s_reason_field (&r, "ingredient.unit"));
    assert_int_equal (s_upsert (fx, "saline", (Meso__V1__Unit) 9, &r), MESO_INVALID_ARGUMENT);
    assert_true (s_reason_field (&r, "ingredient.unit"));
    meso_result_reset (&r);
    assert_int_equal (fx_sql (fx, "SELECT count (*) FROM inventory.ingredient WHERE code = $1", "saline"), 0);

    /* UNIT_ML: stored as "ml", read back as UNIT_ML. */
    assert_int_equal (s_upsert (fx, "saline", MESO__V1__UNIT__UNIT_ML, &r), MESO_OK);
    meso_result_reset (&r);
    assert_int_equal (fx_sql (fx, "SELECT count (*) FROM inventory.ingredient WHERE code = $1 AND unit = 'ml'",
                              "saline"), 1);
    assert_int_equal (s_listed_unit (fx, "saline"), MESO__V1__UNIT__UNIT_ML);

    /* A text the service does not know: UNSPECIFIED in the reply, and a
     * warning in the daemon's log naming it. */
    assert_int_equal (fx_sql (fx, "ALTER TABLE inventory.ingredient DROP CONSTRAINT ingredient_unit_known", NULL), 0);
    assert_int_equal (fx_sql (fx, "UPDATE inventory.ingredient SET unit = 'drops' WHERE code = $1", "saline"), 0);
    assert_int_equal (s_listed_unit (fx, "saline"), MESO__V1__UNIT__UNIT_UNSPECIFIED);
    assert_int_equal (mt_sh ("grep -h 'unknown unit' %s/test-logs/meso-inventory-%d.log | grep -q drops",
                             mt_build_dir (), (int) fx->inventory_pid), 0);
    fx_teardown (fx);
}

static void
test_waitlist_filter (void **state)
{
    (void) state;
    fx_t *fx = fx_setup ("enum_waitlist", 1);
    const char *pr[] = { "dr-a" }, *rm[] = { "room-1" };
    fx_clinic (fx, "par", "Europe/Paris", pr, 1, rm, 1, false);
    meso_result_t r = { 0 };
    Meso__V1__ListWaitlistRequest rq = MESO__V1__LIST_WAITLIST_REQUEST__INIT;
    rq.clinic_id = "par";
    rq.status = (Meso__V1__WaitlistFilter) 42;
    assert_int_equal (fx_call (fx, fx->sch, "scheduling.ListWaitlist", &rq.base, NULL, &r), MESO_INVALID_ARGUMENT);
    assert_true (s_reason_field (&r, "status"));
    /* Unset is the default filter (waiting entries), every value is taken. */
    rq.status = MESO__V1__WAITLIST_FILTER__WAITLIST_FILTER_UNSPECIFIED;
    assert_int_equal (fx_call (fx, fx->sch, "scheduling.ListWaitlist", &rq.base, NULL, &r), MESO_OK);
    rq.status = MESO__V1__WAITLIST_FILTER__WAITLIST_FILTER_ALL;
    assert_int_equal (fx_call (fx, fx->sch, "scheduling.ListWaitlist", &rq.base, NULL, &r), MESO_OK);
    meso_result_reset (&r);
    fx_teardown (fx);
}

/* mesoctl with args as the tester; stdout and stderr into out. */
static int
s_ctl (fx_t *fx, char *out, size_t size, const char *args)
{
    char cmd[4096];
    snprintf (cmd, sizeof cmd,
              "env MESO_KEYS='%s' MESO_KEY='%s/tester.key_secret' MESO_SCREENING_ENDPOINT='%s'"
              " MESO_INVENTORY_ENDPOINT='%s' MESO_SCHEDULING_ENDPOINT='%s' %s/bin/mesoctl %s 2>&1",
              mt_keys (), mt_keys (), fx->screening_ep, fx->inventory_ep, fx->sched_ep[0], mt_build_dir (),
              args);
    FILE *p = popen (cmd, "r");
    assert_non_null (p);
    size_t n = fread (out, 1, size - 1, p);
    out[n] = '\0';
    int status = pclose (p);
    return WIFEXITED (status) ? WEXITSTATUS (status) : -1;
}

static void
test_mesoctl_texts (void **state)
{
    (void) state;
    fx_t *fx = fx_setup ("enum_ctl", 1);
    static char out[65536];
    /* An unknown text: refused before anything is sent, listing the texts. */
    assert_int_equal (s_ctl (fx, out, sizeof out,
                             "inventory ingredient --code saline --name Saline --unit kg"), 2);
    assert_non_null (strstr (out, "--unit must be one of: mg ml"));
    assert_int_equal (fx_sql (fx, "SELECT count (*) FROM inventory.ingredient WHERE code = $1", "saline"), 0);
    /* The lowercase text in, the lowercase text out (table), the value name in JSON. */
    assert_int_equal (s_ctl (fx, out, sizeof out,
                             "inventory ingredient --code saline --name Saline --unit ml --form ampoule"), 0);
    assert_non_null (strstr (out, "saline"));
    assert_non_null (strstr (out, " ml "));
    assert_int_equal (fx_sql (fx, "SELECT count (*) FROM inventory.ingredient WHERE code = $1 AND unit = 'ml'",
                              "saline"), 1);
    assert_int_equal (s_ctl (fx, out, sizeof out, "inventory ingredients --json"), 0);
    assert_non_null (strstr (out, "\"code\":\"saline\",\"name\":\"Saline\",\"unit\":\"UNIT_ML\""));
    fx_teardown (fx);
}

int
main (void)
{
    (void) fx_patient;          /* the fixture's, unused here */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_unit_in_requests_and_replies),
        cmocka_unit_test (test_waitlist_filter),
        cmocka_unit_test (test_mesoctl_texts),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
