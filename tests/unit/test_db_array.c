/* test_db_array.c -- meso_db_text_array: every element reaches PostgreSQL
 * as itself (quoting and escaping), NULL as the NULL element. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <cmocka.h>

#include "meso/db.h"

static void
s_check (const char *const *items, size_t n, const char *want)
{
    char *got = meso_db_text_array (items, n);
    assert_non_null (got);
    assert_string_equal (got, want);
    free (got);
}

static void
test_plain_and_empty (void **state)
{
    (void) state;
    s_check (NULL, 0, "{}");
    const char *one[] = { "c001" };
    s_check (one, 1, "{\"c001\"}");
    const char *two[] = { "c001", "" };
    s_check (two, 2, "{\"c001\",\"\"}");
}

static void
test_what_would_break_an_unquoted_literal (void **state)
{
    (void) state;
    /* Commas, braces, spaces and the word NULL are text; quotes and
     * backslashes are escaped. */
    const char *items[] = { "a,b", "{x}", " sp ", "NULL", "say \"hi\"", "back\\slash" };
    s_check (items, 6, "{\"a,b\",\"{x}\",\" sp \",\"NULL\",\"say \\\"hi\\\"\",\"back\\\\slash\"}");
}

static void
test_null_item_is_the_null_element (void **state)
{
    (void) state;
    const char *items[] = { "p1", NULL, "p3" };
    s_check (items, 3, "{\"p1\",NULL,\"p3\"}");
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_plain_and_empty),
        cmocka_unit_test (test_what_would_break_an_unquoted_literal),
        cmocka_unit_test (test_null_item_is_the_null_element),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
