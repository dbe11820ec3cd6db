/* test_search_norm.c -- the patient search's blind index (search_norm.c,
 * pure): folding names, the entries of a patient and of a search, and
 * that a search finds exactly the patients whose entries hold all of its
 * own. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "screening/search_norm.h"

static const uint8_t s_key[SEARCH_KEY_BYTES] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };

static void
s_fold_is (const char *in, const char *expect)
{
    char out[256];
    search_fold (in, out, sizeof out);
    assert_string_equal (out, expect);
}

static void
test_fold (void **state)
{
    (void) state;
    s_fold_is ("López", "lopez");
    s_fold_is ("ANA  LÓPEZ-García", "ana lopez garcia");
    s_fold_is ("Björn Ødegaard", "bjorn odegaard");
    s_fold_is ("Straße", "strasse");
    s_fold_is ("Łukasz Ćwikła", "lukasz cwikla");
    s_fold_is ("Çağla Şahin", "cagla sahin");
    s_fold_is ("Œuvre Æsir", "oeuvre aesir");
    s_fold_is ("  O'Neil  ", "o neil");
    /* Decomposed input: the combining accent is dropped. */
    s_fold_is ("Lo\xcc\x81pez", "lopez");
    /* Other scripts are kept. */
    s_fold_is ("Ирина", "Ирина");
    char small[4];
    assert_int_equal (search_fold ("abcdef", small, sizeof small), 3);
    assert_string_equal (small, "abc");
}

static void
test_digits_and_key (void **state)
{
    (void) state;
    char d[32];
    assert_int_equal (search_digits ("+34 600-111-222", d, sizeof d), 11);
    assert_string_equal (d, "34600111222");
    uint8_t key[SEARCH_KEY_BYTES];
    char hex[65];
    memset (hex, 'a', 64);
    hex[64] = '\0';
    assert_int_equal (search_key_parse (hex, key), 0);
    assert_int_equal (key[0], 0xaa);
    assert_int_equal (search_key_parse ("abcd", key), -1);
    assert_int_equal (search_key_parse (NULL, key), -1);
    char nl[80];
    snprintf (nl, sizeof nl, "%s\n", hex);
    assert_int_equal (search_key_parse (nl, key), 0);
}

/* Whether every query entry is among the index entries. */
static bool
s_matches (const search_token_t *idx, size_t ni, const search_token_t *q, int nq)
{
    for (int i = 0; i < nq; i++) {
        bool found = false;
        for (size_t k = 0; k < ni && !found; k++)
            found = strcmp (idx[k].hex, q[i].hex) == 0;
        if (!found)
            return false;
    }
    return nq > 0;
}

static bool
s_finds (const char *given, const char *family, const char *birth, const char *phone, const char *email,
         const char *q_name, const char *q_birth, const char *q_phone, const char *q_email)
{
    search_token_t idx[SEARCH_TOKENS_MAX], q[64];
    size_t ni = search_index_tokens (s_key, given, family, birth, phone, email, idx, SEARCH_TOKENS_MAX);
    int nq = search_query_tokens (s_key, q_name, q_birth, q_phone, q_email, q, 64);
    assert_true (nq >= 0);
    return s_matches (idx, ni, q, nq);
}

static void
test_search_matches (void **state)
{
    (void) state;
    const char *g = "Ana", *f = "López García", *b = "1990-05-04", *p = "+34 600 111 222", *e = "Ana@Example.com";
    assert_true (s_finds (g, f, b, p, e, "lopez", NULL, NULL, NULL));
    assert_true (s_finds (g, f, b, p, e, "ana l", NULL, NULL, NULL));
    assert_true (s_finds (g, f, b, p, e, "GARC ana", NULL, NULL, NULL));
    assert_true (s_finds (g, f, b, p, e, "lópez garcía", NULL, NULL, NULL));
    assert_false (s_finds (g, f, b, p, e, "lopezz", NULL, NULL, NULL));
    assert_false (s_finds (g, f, b, p, e, "maria", NULL, NULL, NULL));
    assert_true (s_finds (g, f, b, p, e, NULL, "1990-05-04", NULL, NULL));
    assert_false (s_finds (g, f, b, p, e, NULL, "1990-05-05", NULL, NULL));
    assert_true (s_finds (g, f, b, p, e, NULL, NULL, "600111222", NULL));
    assert_true (s_finds (g, f, b, p, e, NULL, NULL, "0034 600 111 222", NULL));
    assert_false (s_finds (g, f, b, p, e, NULL, NULL, "600111223", NULL));
    assert_true (s_finds (g, f, b, p, e, NULL, NULL, NULL, "ana@example.COM"));
    assert_false (s_finds (g, f, b, p, e, NULL, NULL, NULL, "ana@example.org"));
    assert_true (s_finds (g, f, b, p, e, "ana", "1990-05-04", NULL, "ana@example.com"));
    assert_false (s_finds (g, f, b, p, e, "ana", "1990-05-05", NULL, NULL));
    /* A long word is compared on its first 12 letters. */
    assert_true (s_finds ("Maximilianopolis", "X", b, "", "", "maximilianopolous", NULL, NULL, NULL));
}

static void
test_entries_are_keyed_and_bounded (void **state)
{
    (void) state;
    search_token_t a, b;
    uint8_t other[SEARCH_KEY_BYTES] = { 9 };
    search_token (s_key, 'n', "lopez", &a);
    search_token (other, 'n', "lopez", &b);
    assert_string_not_equal (a.hex, b.hex);
    search_token (s_key, 'e', "lopez", &b);
    assert_string_not_equal (a.hex, b.hex);
    assert_int_equal (strlen (a.hex), 32);
    assert_null (strstr (a.hex, "lopez"));
    /* The longest names stay within the bound; duplicates are merged. */
    search_token_t idx[SEARCH_TOKENS_MAX];
    size_t n = search_index_tokens (s_key, "Aaaaaaaaaaaaaaaaaaaa Bbbbbbbbbbbbbbbbbbbb Cccccccccccccccc Dddddddddddddd"
                                    " Eeeeeeeeeeeeee Ffffffffffffff Gggggggggggggg Hhhhhhhhhhhhhh Iiiiiiiiii",
                                    "Ana Ana Ana", "2000-01-01", "1", "a@b", idx, SEARCH_TOKENS_MAX);
    assert_true (n <= SEARCH_TOKENS_MAX);
    for (size_t i = 0; i < n; i++)
        for (size_t k = i + 1; k < n; k++)
            assert_string_not_equal (idx[i].hex, idx[k].hex);
    search_token_t q[64];
    assert_int_equal (search_query_tokens (s_key, "a b c d e f g h i", NULL, NULL, NULL, q, 64), -1);
    assert_int_equal (search_query_tokens (s_key, " -- ", NULL, NULL, NULL, q, 64), 0);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_fold),
        cmocka_unit_test (test_digits_and_key),
        cmocka_unit_test (test_search_matches),
        cmocka_unit_test (test_entries_are_keyed_and_bounded),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
