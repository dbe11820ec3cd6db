/* test_page.c -- page tokens round-trip, refuse what is not theirs, and
 * meso_page_fit keeps the largest page that packs under a limit. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "meso/page.h"
#include "events.pb-c.h"

static void
test_size (void **state)
{
    (void) state;
    assert_int_equal (meso_page_size (0, 50, 500), 50);
    assert_int_equal (meso_page_size (7, 50, 500), 7);
    assert_int_equal (meso_page_size (501, 50, 500), 500);
    assert_int_equal (meso_page_size (0, 900, 500), 500);
}

static void
test_round_trip (void **state)
{
    (void) state;
    const char *keys[] = { "2026-11-24 10:00:00+00", "0b7e8c4e-94c5-4a53-8a32-fb1c3c2b8f1e" };
    char token[MESO_PAGE_TOKEN_MAX];
    assert_int_equal (meso_page_token_encode ("billing.GetStatement", keys, 2, token, sizeof token), 0);
    for (const char *c = token; *c; c++)    /* safe in a URL and a shell */
        assert_non_null (strchr ("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", *c));
    meso_page_pos_t pos;
    assert_int_equal (meso_page_token_decode ("billing.GetStatement", token, 2, &pos), 0);
    assert_int_equal (pos.n, 2);
    assert_string_equal (pos.key[0], keys[0]);
    assert_string_equal (pos.key[1], keys[1]);

    const char *empty[] = { "" };
    assert_int_equal (meso_page_token_encode ("x.List", empty, 1, token, sizeof token), 0);
    assert_int_equal (meso_page_token_decode ("x.List", token, 1, &pos), 0);
    assert_int_equal (pos.n, 1);
    assert_string_equal (pos.key[0], "");
}

static void
test_first_page (void **state)
{
    (void) state;
    meso_page_pos_t pos;
    pos.n = 3;
    assert_int_equal (meso_page_token_decode ("a.B", "", 2, &pos), 0);
    assert_int_equal (pos.n, 0);
    assert_int_equal (meso_page_token_decode ("a.B", NULL, 2, &pos), 0);
    assert_int_equal (pos.n, 0);
}

static void
test_refuses (void **state)
{
    (void) state;
    const char *keys[] = { "42", "abc" };
    char token[MESO_PAGE_TOKEN_MAX];
    assert_int_equal (meso_page_token_encode ("a.List", keys, 2, token, sizeof token), 0);
    meso_page_pos_t pos;
    /* another list, another key count */
    assert_int_equal (meso_page_token_decode ("a.Other", token, 2, &pos), -1);
    assert_int_equal (meso_page_token_decode ("a.List", token, 1, &pos), -1);
    assert_int_equal (pos.n, 0);
    /* one character changed, truncated, garbage */
    char bad[MESO_PAGE_TOKEN_MAX];
    snprintf (bad, sizeof bad, "%s", token);
    bad[5] = bad[5] == 'A' ? 'B' : 'A';
    assert_int_equal (meso_page_token_decode ("a.List", bad, 2, &pos), -1);
    snprintf (bad, sizeof bad, "%s", token);
    bad[strlen (bad) - 2] = '\0';
    assert_int_equal (meso_page_token_decode ("a.List", bad, 2, &pos), -1);
    assert_int_equal (meso_page_token_decode ("a.List", "not a token!", 2, &pos), -1);
    assert_int_equal (meso_page_token_decode ("a.List", "AAAA", 2, &pos), -1);
    char longtok[MESO_PAGE_TOKEN_MAX + 8];
    memset (longtok, 'A', sizeof longtok - 1);
    longtok[sizeof longtok - 1] = '\0';
    assert_int_equal (meso_page_token_decode ("a.List", longtok, 2, &pos), -1);
}

static void
test_encode_limits (void **state)
{
    (void) state;
    char token[MESO_PAGE_TOKEN_MAX];
    char big[MESO_PAGE_KEY_MAX + 2];
    memset (big, 'k', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    const char *keys[] = { big };
    assert_int_equal (meso_page_token_encode ("a.List", keys, 1, token, sizeof token), -1);
    big[MESO_PAGE_KEY_MAX] = '\0';      /* exactly the longest key */
    const char *four[] = { big, big, big, big };
    assert_int_equal (meso_page_token_encode ("a.List", four, 4, token, sizeof token), 0);
    meso_page_pos_t pos;
    assert_int_equal (meso_page_token_decode ("a.List", token, 4, &pos), 0);
    assert_string_equal (pos.key[3], big);
    assert_int_equal (meso_page_token_encode ("a.List", four, 5, token, sizeof token), -1);
    assert_int_equal (meso_page_token_encode ("a.List", four, 0, token, sizeof token), -1);
    assert_int_equal (meso_page_token_encode ("a.List", four, 4, token, 10), -1);
}

/* A PatientChanged whose `changed` entries stand for a page of rows. */
static void
test_fit (void **state)
{
    (void) state;
    enum { N = 1000 };
    static char text[N][101];
    static char *reasons[N];
    for (size_t i = 0; i < N; i++) {
        memset (text[i], 'r', 100);
        text[i][100] = '\0';
        reasons[i] = text[i];
    }
    Meso__V1__PatientChanged reply = MESO__V1__PATIENT_CHANGED__INIT;
    reply.changed = reasons;
    reply.n_changed = N;
    size_t all = protobuf_c_message_get_packed_size (&reply.base);
    /* fits already: untouched */
    assert_int_equal (meso_page_fit (&reply.base, &reply.n_changed, all), N);
    assert_int_equal (reply.n_changed, N);
    /* each reason packs to 102 bytes: 10,000 bytes keep 98 */
    assert_int_equal (meso_page_fit (&reply.base, &reply.n_changed, 10000), 98);
    assert_true (protobuf_c_message_get_packed_size (&reply.base) <= 10000);
    reply.n_changed++;
    assert_true (protobuf_c_message_get_packed_size (&reply.base) > 10000);
    reply.n_changed = N;
    assert_int_equal (meso_page_fit (&reply.base, &reply.n_changed, 50), 0);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_size),        cmocka_unit_test (test_round_trip),
        cmocka_unit_test (test_first_page),  cmocka_unit_test (test_refuses),
        cmocka_unit_test (test_encode_limits), cmocka_unit_test (test_fit),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
