/* test_mesoctl_qty.c -- mesoctl's quantities: decimals typed by an
 * operator to integer thousandths and back, exactly (qty.c is pure: the
 * test links meso_mesoctl_logic). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "mesoctl/qty.h"

static void
test_parse_whole_and_decimals (void **state)
{
    (void) state;
    int64_t q = 0;
    assert_int_equal (mesoctl_qty_parse ("250", &q), 0);
    assert_int_equal (q, 250000);
    assert_int_equal (mesoctl_qty_parse ("12.5", &q), 0);
    assert_int_equal (q, 12500);
    assert_int_equal (mesoctl_qty_parse ("0.001", &q), 0);
    assert_int_equal (q, 1);
    assert_int_equal (mesoctl_qty_parse ("-3", &q), 0);
    assert_int_equal (q, -3000);
    assert_int_equal (mesoctl_qty_parse ("+0.5", &q), 0);
    assert_int_equal (q, 500);
    assert_int_equal (mesoctl_qty_parse ("7.", &q), 0);
    assert_int_equal (q, 7000);
}

static void
test_parse_refuses_what_is_not_exact (void **state)
{
    (void) state;
    int64_t q = 42;
    const char *bad[] = { "", "x", "1.2345", "1,5", " 1", "1 ", ".5", "-", "1e3", "100000000000000" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal (mesoctl_qty_parse (bad[i], &q), -1);
    assert_int_equal (mesoctl_qty_parse (NULL, &q), -1);
    assert_int_equal (mesoctl_qty_parse ("10000000000000", &q), 0);     /* 10^13: the largest */
    assert_int_equal (q, INT64_C (10000000000000000));
    q = 42;
    assert_int_equal (mesoctl_qty_parse ("1x", &q), -1);
    assert_int_equal (q, 42);       /* untouched on refusal */
}

static void
test_format_trims_trailing_zeros (void **state)
{
    (void) state;
    char buf[32];
    assert_string_equal (mesoctl_qty_format (250000, buf, sizeof buf), "250");
    assert_string_equal (mesoctl_qty_format (12500, buf, sizeof buf), "12.5");
    assert_string_equal (mesoctl_qty_format (1, buf, sizeof buf), "0.001");
    assert_string_equal (mesoctl_qty_format (-1, buf, sizeof buf), "-0.001");
    assert_string_equal (mesoctl_qty_format (-3000, buf, sizeof buf), "-3");
    assert_string_equal (mesoctl_qty_format (0, buf, sizeof buf), "0");
    assert_string_equal (mesoctl_qty_format (100010, buf, sizeof buf), "100.01");
}

static void
test_round_trip (void **state)
{
    (void) state;
    const int64_t values[] = { 0, 1, 10, 999, 1000, 1001, 123456789, -500, -1234567 };
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        char buf[32];
        int64_t back = 0;
        assert_int_equal (mesoctl_qty_parse (mesoctl_qty_format (values[i], buf, sizeof buf), &back), 0);
        assert_int_equal (back, values[i]);
    }
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_parse_whole_and_decimals),
        cmocka_unit_test (test_parse_refuses_what_is_not_exact),
        cmocka_unit_test (test_format_trims_trailing_zeros),
        cmocka_unit_test (test_round_trip),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
