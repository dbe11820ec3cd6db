/* test_audit_chain.c -- the canonical audit row and the per-clinic hash
 * chain (common/src/audit_chain.c): the encoding matches the one written
 * down in deploy/sql/021_audit.sql (vectors computed independently with
 * Python's hashlib), and a walk names each kind of break. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "meso/audit.h"

#define KEY40_K "KKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKK"
#define KEY40_S "SSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSS"

static const meso_audit_row_t ROW1 = {
    "clinic-a", 1, 1700000000123456LL, "ana", KEY40_K, "scheduling.BookCourse", "pat-1", "req-1",
    0, "write", ""
};
static const meso_audit_row_t ROW2 = {
    "clinic-a", 2, 1700000000123999LL, "scheduling", KEY40_S, "inventory.Reserve", "pat-1", "req-2",
    7, "write", "ana"
};

static void
s_hex (const uint8_t *h, char *out)
{
    for (int i = 0; i < MESO_AUDIT_HASH_LEN; i++)
        sprintf (out + 2 * i, "%02x", h[i]);
}

static void
test_canonical_layout (void **state)
{
    (void) state;
    uint8_t buf[512];
    size_t n = meso_audit_canonical (&ROW1, buf, sizeof buf);
    assert_int_equal (n, 166);
    /* First field: the version, length-prefixed big-endian. */
    assert_memory_equal (buf, "\0\0\0\x0dmeso-audit-v1", 17);
    /* Second: the clinic. */
    assert_memory_equal (buf + 17, "\0\0\0\x08" "clinic-a", 12);
    /* Too small: the length needed, nothing written. */
    uint8_t small[8] = { 0 };
    assert_int_equal (meso_audit_canonical (&ROW1, small, sizeof small), 166);
    assert_int_equal (small[0], 0);
}

static void
test_hash_vectors (void **state)
{
    (void) state;
    uint8_t zero[MESO_AUDIT_HASH_LEN] = { 0 }, h1[MESO_AUDIT_HASH_LEN], h2[MESO_AUDIT_HASH_LEN];
    char hex[2 * MESO_AUDIT_HASH_LEN + 1];
    assert_int_equal (meso_audit_hash (zero, &ROW1, h1), 0);
    s_hex (h1, hex);
    assert_string_equal (hex, "d09d1c5bcd105f4cb526e653f15c6092790d3d08fa7d56faa265ef28550ff705");
    assert_int_equal (meso_audit_hash (h1, &ROW2, h2), 0);
    s_hex (h2, hex);
    assert_string_equal (hex, "701bf2d1285abfb2da9b410c903a1d2e9fc05233611f840bdf6cbeecc1475a3c");
}

/* A chain of n rows (seq 1..n) with their hashes. */
static void
s_chain (meso_audit_row_t *rows, uint8_t (*hashes)[MESO_AUDIT_HASH_LEN], int n)
{
    uint8_t prev[MESO_AUDIT_HASH_LEN] = { 0 };
    for (int i = 0; i < n; i++) {
        rows[i] = ROW1;
        rows[i].seq = i + 1;
        rows[i].at_us += i;
        meso_audit_hash (prev, &rows[i], hashes[i]);
        memcpy (prev, hashes[i], sizeof prev);
    }
}

static meso_audit_break_t
s_walk (meso_audit_row_t *rows, uint8_t (*hashes)[MESO_AUDIT_HASH_LEN], int n, long long head,
        const uint8_t *head_hash, long long anchor, const uint8_t *anchor_hash, char *why)
{
    meso_audit_chain_t c;
    meso_audit_chain_start (&c, anchor, anchor_hash);
    for (int i = 0; i < n; i++) {
        meso_audit_break_t b = meso_audit_chain_next (&c, &rows[i], hashes[i],
                                                      i + 1 < n ? &rows[i + 1] : NULL, why, 256);
        if (b != MESO_AUDIT_OK)
            return b;
    }
    return meso_audit_chain_end (&c, head, head_hash, why, 256);
}

static void
test_chain_breaks (void **state)
{
    (void) state;
    meso_audit_row_t rows[5];
    uint8_t hashes[5][MESO_AUDIT_HASH_LEN];
    char why[256];
    s_chain (rows, hashes, 5);
    assert_int_equal (s_walk (rows, hashes, 5, 5, hashes[4], 0, NULL, why), MESO_AUDIT_OK);

    /* An edited field of row 3. */
    meso_audit_row_t edited[5];
    memcpy (edited, rows, sizeof rows);
    edited[2].status = 7;
    assert_int_equal (s_walk (edited, hashes, 5, 5, hashes[4], 0, NULL, why), MESO_AUDIT_EDITED);
    assert_non_null (strstr (why, "seq 3"));

    /* Row 2 deleted. */
    meso_audit_row_t gap[4] = { rows[0], rows[2], rows[3], rows[4] };
    uint8_t gh[4][MESO_AUDIT_HASH_LEN];
    memcpy (gh[0], hashes[0], 32);
    memcpy (gh[1], hashes[2], 32);
    memcpy (gh[2], hashes[3], 32);
    memcpy (gh[3], hashes[4], 32);
    assert_int_equal (s_walk (gap, gh, 4, 5, hashes[4], 0, NULL, why), MESO_AUDIT_MISSING);
    assert_non_null (strstr (why, "seq 3 follows seq 1"));

    /* Rows 2 and 3 swapped: their contents and hashes, each keeping its
     * place's seq (what an UPDATE of seq, or of everything else, does). */
    meso_audit_row_t sw[5];
    uint8_t sh[5][MESO_AUDIT_HASH_LEN];
    memcpy (sw, rows, sizeof rows);
    memcpy (sh, hashes, sizeof hashes);
    sw[1] = rows[2];
    sw[1].seq = 2;
    sw[2] = rows[1];
    sw[2].seq = 3;
    memcpy (sh[1], hashes[2], 32);
    memcpy (sh[2], hashes[1], 32);
    assert_int_equal (s_walk (sw, sh, 5, 5, hashes[4], 0, NULL, why), MESO_AUDIT_REORDERED);
    assert_non_null (strstr (why, "seq 2"));

    /* The last row deleted: the head is ahead. */
    assert_int_equal (s_walk (rows, hashes, 4, 5, hashes[4], 0, NULL, why), MESO_AUDIT_TRUNCATED);

    /* The first row deleted without an anchor. */
    assert_int_equal (s_walk (rows + 1, hashes + 1, 4, 5, hashes[4], 0, NULL, why), MESO_AUDIT_MISSING);
}

static void
test_chain_from_anchor (void **state)
{
    (void) state;
    meso_audit_row_t rows[5];
    uint8_t hashes[5][MESO_AUDIT_HASH_LEN];
    char why[256];
    s_chain (rows, hashes, 5);
    /* Rows 1..2 pruned: the anchor is row 2. */
    assert_int_equal (s_walk (rows + 2, hashes + 2, 3, 5, hashes[4], 2, hashes[1], why), MESO_AUDIT_OK);
    /* Everything pruned: the anchor is the head. */
    assert_int_equal (s_walk (rows, hashes, 0, 5, hashes[4], 5, hashes[4], why), MESO_AUDIT_OK);
    /* A wrong anchor hash: the next row does not follow it. */
    assert_int_equal (s_walk (rows + 2, hashes + 2, 3, 5, hashes[4], 2, hashes[0], why),
                      MESO_AUDIT_EDITED);
    assert_string_equal (meso_audit_break_name (MESO_AUDIT_MISSING), "missing");
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_canonical_layout),
        cmocka_unit_test (test_hash_vectors),
        cmocka_unit_test (test_chain_breaks),
        cmocka_unit_test (test_chain_from_anchor),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
