/* test_vault.c -- sealing under a patient's data key: a round trip
 * opens, another patient, column or key does not, an altered byte does
 * not, and master key files parse or are refused. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "meso/vault.h"

#define P1 "0b7e8c4e-94c5-4a53-8a32-fb1c3c2b8f1e"
#define P2 "5d1c3f0a-1b2c-4d3e-8f40-112233445566"
#define COL "screening.patients.personal"

static void
test_round_trip (void **state)
{
    (void) state;
    meso_vault_key_t k;
    meso_vault_key_random (&k);
    const char *name = "Marie-Hélène Dupont";
    size_t slen = 0, olen = 0;
    uint8_t *s = meso_vault_seal_dup (&k, P1, COL, (const uint8_t *) name, strlen (name), &slen);
    assert_non_null (s);
    assert_int_equal (slen, strlen (name) + MESO_VAULT_OVERHEAD);
    assert_null (memmem (s, slen, "Dupont", 6));       /* the plaintext is nowhere in it */
    uint8_t *o = meso_vault_open_dup (&k, P1, COL, s, slen, &olen);
    assert_non_null (o);
    assert_int_equal (olen, strlen (name));
    assert_string_equal ((char *) o, name);
    free (o);

    /* Two seals of one value differ (random nonce). */
    size_t s2len = 0;
    uint8_t *s2 = meso_vault_seal_dup (&k, P1, COL, (const uint8_t *) name, strlen (name), &s2len);
    assert_int_equal (s2len, slen);
    assert_memory_not_equal (s, s2, slen);
    free (s2);

    /* An empty value seals and opens. */
    uint8_t *e = meso_vault_seal_dup (&k, P1, COL, (const uint8_t *) "", 0, &s2len);
    assert_int_equal (s2len, MESO_VAULT_OVERHEAD);
    o = meso_vault_open_dup (&k, P1, COL, e, s2len, &olen);
    assert_non_null (o);
    assert_int_equal (olen, 0);
    free (o);
    free (e);
    free (s);
}

static void
test_refused_elsewhere (void **state)
{
    (void) state;
    meso_vault_key_t k, other;
    meso_vault_key_random (&k);
    meso_vault_key_random (&other);
    const char *phone = "+33 6 12 34 56 78";
    size_t slen = 0, olen = 0;
    uint8_t *s = meso_vault_seal_dup (&k, P1, COL, (const uint8_t *) phone, strlen (phone), &slen);
    assert_non_null (s);
    /* Another patient, another column, another key. */
    assert_null (meso_vault_open_dup (&k, P2, COL, s, slen, &olen));
    assert_null (meso_vault_open_dup (&k, P1, "screening.screenings.record", s, slen, &olen));
    assert_null (meso_vault_open_dup (&other, P1, COL, s, slen, &olen));
    /* The separator keeps "a" + "bc" apart from "ab" + "c". */
    uint8_t *t = meso_vault_seal_dup (&k, "ab", "c", (const uint8_t *) "x", 1, &slen);
    assert_null (meso_vault_open_dup (&k, "a", "bc", t, slen, &olen));
    free (t);
    free (s);
}

static void
test_tampered (void **state)
{
    (void) state;
    meso_vault_key_t k;
    meso_vault_key_random (&k);
    const char *note = "patient reports pregnancy";
    size_t slen = 0, olen = 0;
    uint8_t *s = meso_vault_seal_dup (&k, P1, COL, (const uint8_t *) note, strlen (note), &slen);
    for (size_t i = 0; i < slen; i++) {
        s[i] ^= 0x01;
        assert_null (meso_vault_open_dup (&k, P1, COL, s, slen, &olen));
        s[i] ^= 0x01;
    }
    /* Truncated, too short, empty. */
    assert_null (meso_vault_open_dup (&k, P1, COL, s, slen - 1, &olen));
    assert_null (meso_vault_open_dup (&k, P1, COL, s, MESO_VAULT_OVERHEAD - 1, &olen));
    uint8_t out[8];
    assert_int_equal (meso_vault_open (&k, P1, COL, s, 0, out, &olen), -1);
    uint8_t *o = meso_vault_open_dup (&k, P1, COL, s, slen, &olen);
    assert_non_null (o);
    free (o);
    free (s);
}

static void
test_master (void **state)
{
    (void) state;
    meso_vault_key_t k;
    const char *hex = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
    assert_int_equal (meso_vault_master_parse (hex, &k), 0);
    assert_int_equal (k.k[31], 0x1f);
    char line[80];
    snprintf (line, sizeof line, "%s\n", hex);
    assert_int_equal (meso_vault_master_parse (line, &k), 0);
    assert_int_equal (meso_vault_master_parse ("00ff", &k), -1);
    assert_int_equal (meso_vault_master_parse ("zz0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", &k), -1);
    assert_int_equal (meso_vault_master_parse (NULL, &k), -1);

    /* A file is made once, mode 0600, and loads; a second init keeps it. */
    char dir[] = "/tmp/test_vault_XXXXXX";
    assert_non_null (mkdtemp (dir));
    char err[512];
    bool made = false;
    assert_false (meso_vault_ready ());
    assert_int_equal (meso_vault_master_load (dir, err, sizeof err), -1);
    assert_non_null (strstr (err, "mesoctl keys init"));
    assert_int_equal (meso_vault_master_init (dir, &made, err, sizeof err), 0);
    assert_true (made);
    char path[600];
    snprintf (path, sizeof path, "%s/%s", dir, MESO_VAULT_MASTER_FILE);
    struct stat st;
    assert_int_equal (stat (path, &st), 0);
    assert_int_equal (st.st_mode & 0777, 0600);
    FILE *f = fopen (path, "r");
    char before[100] = "";
    assert_non_null (fgets (before, sizeof before, f));
    fclose (f);
    assert_int_equal (meso_vault_master_init (dir, &made, err, sizeof err), 0);
    assert_false (made);
    f = fopen (path, "r");
    char after[100] = "";
    assert_non_null (fgets (after, sizeof after, f));
    fclose (f);
    assert_string_equal (before, after);
    assert_int_equal (meso_vault_master_load (dir, err, sizeof err), 0);
    assert_true (meso_vault_ready ());
    unlink (path);
    rmdir (dir);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_round_trip),
        cmocka_unit_test (test_refused_elsewhere),
        cmocka_unit_test (test_tampered),
        cmocka_unit_test (test_master),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
