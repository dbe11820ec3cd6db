/* test_money.c -- parsing, formatting and overflow-checked arithmetic of
 * cents: an amount either comes out to the exact cent or is refused. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>
#include <stdint.h>

#include "meso/money.h"

static int64_t
s_parse_ok (const char *text)
{
    int64_t v = 12345;
    assert_int_equal (meso_money_parse (text, &v), 0);
    return v;
}

static void
s_parse_refused (const char *text)
{
    int64_t v = 777;
    assert_int_equal (meso_money_parse (text, &v), -1);
    assert_int_equal (v, 777);      /* out untouched */
}

static void
test_parse_accepts (void **state)
{
    assert_int_equal (s_parse_ok ("350"), 35000);
    assert_int_equal (s_parse_ok ("350.5"), 35050);
    assert_int_equal (s_parse_ok ("350.50"), 35050);
    assert_int_equal (s_parse_ok ("350.05"), 35005);
    assert_int_equal (s_parse_ok ("-12.30"), -1230);
    assert_int_equal (s_parse_ok ("-0.5"), -50);
    assert_int_equal (s_parse_ok ("-0.05"), -5);
    assert_int_equal (s_parse_ok ("0"), 0);
    assert_int_equal (s_parse_ok ("-0"), 0);
    assert_int_equal (s_parse_ok ("0.01"), 1);
    assert_int_equal (s_parse_ok ("007.10"), 710);
}

static void
test_parse_refuses (void **state)
{
    s_parse_refused ("1.234");      /* a fraction of a cent */
    s_parse_refused ("350.");
    s_parse_refused (".5");
    s_parse_refused ("");
    s_parse_refused ("-");
    s_parse_refused ("+5");
    s_parse_refused (" 5");
    s_parse_refused ("5 ");
    s_parse_refused ("1e3");
    s_parse_refused ("12a");
    s_parse_refused ("1,50");
    s_parse_refused ("--1");
    s_parse_refused ("0x10");
    s_parse_refused (NULL);
}

static void
test_parse_int64_bounds (void **state)
{
    assert_true (s_parse_ok ("92233720368547758.07") == INT64_MAX);
    assert_true (s_parse_ok ("-92233720368547758.08") == INT64_MIN);
    assert_true (s_parse_ok ("92233720368547758") == INT64_C (9223372036854775800));
    s_parse_refused ("92233720368547758.08");
    s_parse_refused ("-92233720368547758.09");
    s_parse_refused ("92233720368547759");
    s_parse_refused ("99999999999999999999999999");
    s_parse_refused ("184467440737095516.16");     /* wraps a uint64 exactly */
}

static void
test_format (void **state)
{
    char buf[64];
    assert_int_equal (meso_money_format (35000, NULL, buf, sizeof buf), 6);
    assert_string_equal (buf, "350.00");
    meso_money_format (35005, "USD", buf, sizeof buf);
    assert_string_equal (buf, "350.05 USD");
    meso_money_format (-50, NULL, buf, sizeof buf);
    assert_string_equal (buf, "-0.50");
    meso_money_format (-1, NULL, buf, sizeof buf);
    assert_string_equal (buf, "-0.01");
    meso_money_format (0, "EUR", buf, sizeof buf);
    assert_string_equal (buf, "0.00 EUR");
    meso_money_format (INT64_MAX, NULL, buf, sizeof buf);
    assert_string_equal (buf, "92233720368547758.07");
    meso_money_format (INT64_MIN, NULL, buf, sizeof buf);
    assert_string_equal (buf, "-92233720368547758.08");

    /* Like snprintf: the full length is returned, the output is cut. */
    char small[4];
    assert_int_equal (meso_money_format (35000, "USD", small, sizeof small), 10);
    assert_string_equal (small, "350");
}

static void
test_round_trip (void **state)
{
    const int64_t values[] = { 0, 1, -1, 99, 100, -100, 123456789, INT64_MAX, INT64_MIN };
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        char buf[64];
        meso_money_format (values[i], NULL, buf, sizeof buf);
        int64_t back;
        assert_int_equal (meso_money_parse (buf, &back), 0);
        assert_true (back == values[i]);
    }
}

static void
test_arithmetic (void **state)
{
    int64_t out = 42;
    assert_true (meso_money_add (35000, -1230, &out));
    assert_int_equal (out, 33770);
    assert_true (meso_money_add (INT64_MAX - 1, 1, &out));
    assert_true (out == INT64_MAX);
    out = 42;
    assert_false (meso_money_add (INT64_MAX, 1, &out));
    assert_false (meso_money_add (INT64_MIN, -1, &out));
    assert_int_equal (out, 42);

    assert_true (meso_money_mul (3500, 10, &out));
    assert_int_equal (out, 35000);
    assert_true (meso_money_mul (-3500, 3, &out));
    assert_int_equal (out, -10500);
    out = 42;
    assert_false (meso_money_mul (INT64_MAX / 2 + 1, 2, &out));
    assert_false (meso_money_mul (INT64_MIN, -1, &out));
    assert_int_equal (out, 42);
}

static void
test_currency (void **state)
{
    assert_true (meso_currency_valid ("USD"));
    assert_true (meso_currency_valid ("EUR"));
    assert_false (meso_currency_valid ("usd"));
    assert_false (meso_currency_valid ("US"));
    assert_false (meso_currency_valid ("USDX"));
    assert_false (meso_currency_valid ("U1D"));
    assert_false (meso_currency_valid (""));
    assert_false (meso_currency_valid (NULL));
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_parse_accepts),
        cmocka_unit_test (test_parse_refuses),
        cmocka_unit_test (test_parse_int64_bounds),
        cmocka_unit_test (test_format),
        cmocka_unit_test (test_round_trip),
        cmocka_unit_test (test_arithmetic),
        cmocka_unit_test (test_currency),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
