/* audit_chain.c -- the canonical audit row and the per-clinic hash chain
 * (see meso/audit.h and deploy/sql/021_audit.sql, which computes the same
 * encoding in SQL when a row is appended).
 *
 * Pure: no I/O, no database. mesoctl audit verify feeds it the raw rows
 * and recomputes every hash here, with libsodium's SHA-256, so the check
 * never trusts a hash the database computed: an edited row, a deleted one
 * and rows put in another order are each told apart. */
#include "meso/audit.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VERSION "meso-audit-v1"

/* Appends one field (4-byte big-endian length, bytes) at out + *at when
 * it fits; always advances *at. */
static void
s_field (uint8_t *out, size_t size, size_t *at, const char *text)
{
    const char *t = text ? text : "";
    size_t n = strlen (t);
    if (*at + 4 + n <= size) {
        out[*at] = (uint8_t) (n >> 24);
        out[*at + 1] = (uint8_t) (n >> 16);
        out[*at + 2] = (uint8_t) (n >> 8);
        out[*at + 3] = (uint8_t) n;
        memcpy (out + *at + 4, t, n);
    }
    *at += 4 + n;
}

size_t
meso_audit_canonical (const meso_audit_row_t *row, uint8_t *out, size_t size)
{
    char seq[24], at[24], status[16];
    snprintf (seq, sizeof seq, "%lld", row->seq);
    snprintf (at, sizeof at, "%lld", row->at_us);
    snprintf (status, sizeof status, "%d", row->status);
    const char *fields[] = {
        VERSION, row->clinic_id, seq, at, row->principal, row->principal_key, row->method,
        row->patient_id, row->request_id, status, row->access, row->on_behalf_of
    };
    size_t need = 0;
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        s_field (NULL, 0, &need, fields[i]);
    if (need > size)
        return need;
    size_t at_ = 0;
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        s_field (out, size, &at_, fields[i]);
    return need;
}

int
meso_audit_hash (const uint8_t prev[MESO_AUDIT_HASH_LEN], const meso_audit_row_t *row,
                 uint8_t hash[MESO_AUDIT_HASH_LEN])
{
    uint8_t small[1024];
    uint8_t *buf = small;
    size_t len = meso_audit_canonical (row, small, sizeof small);
    if (len > sizeof small) {
        buf = malloc (len);
        if (!buf)
            return -1;
        meso_audit_canonical (row, buf, len);
    }
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init (&st);
    crypto_hash_sha256_update (&st, prev, MESO_AUDIT_HASH_LEN);
    crypto_hash_sha256_update (&st, buf, len);
    crypto_hash_sha256_final (&st, hash);
    if (buf != small)
        free (buf);
    return 0;
}

void
meso_audit_chain_start (meso_audit_chain_t *c, long long anchor_seq, const uint8_t *anchor_hash)
{
    memset (c, 0, sizeof *c);
    c->seq = anchor_seq;
    if (anchor_hash)
        memcpy (c->hash, anchor_hash, MESO_AUDIT_HASH_LEN);
}

static void
s_hex8 (const uint8_t *h, char *out)
{
    for (int i = 0; i < 8; i++)
        sprintf (out + 2 * i, "%02x", h[i]);
}

meso_audit_break_t
meso_audit_chain_next (meso_audit_chain_t *c, const meso_audit_row_t *row,
                       const uint8_t stored[MESO_AUDIT_HASH_LEN], const meso_audit_row_t *next,
                       char *why, size_t size)
{
    if (row->seq <= c->seq) {
        snprintf (why, size, "seq %lld comes after seq %lld: rows repeated or out of order",
                  row->seq, c->seq);
        return MESO_AUDIT_REORDERED;
    }
    if (row->seq != c->seq + 1) {
        snprintf (why, size, "seq %lld follows seq %lld: %lld row(s) missing (deleted)",
                  row->seq, c->seq, row->seq - c->seq - 1);
        return MESO_AUDIT_MISSING;
    }
    uint8_t h[MESO_AUDIT_HASH_LEN];
    if (meso_audit_hash (c->hash, row, h) != 0) {
        snprintf (why, size, "out of memory");
        return MESO_AUDIT_EDITED;
    }
    if (sodium_memcmp (h, stored, MESO_AUDIT_HASH_LEN) != 0) {
        char want[17], got[17];
        s_hex8 (h, want);
        s_hex8 (stored, got);
        if ((c->rows > 0 && row->at_us < c->at_us) || (next && next->at_us < row->at_us)) {
            snprintf (why, size, "seq %lld: stored hash %s... is not the recomputed %s... and the "
                      "times around it go back: rows swapped (reordered)", row->seq, got, want);
            return MESO_AUDIT_REORDERED;
        }
        snprintf (why, size, "seq %lld: stored hash %s... is not the recomputed %s... "
                  "(the row, or one before it, was edited)", row->seq, got, want);
        return MESO_AUDIT_EDITED;
    }
    memcpy (c->hash, h, sizeof h);
    c->seq = row->seq;
    c->at_us = row->at_us;
    c->rows++;
    return MESO_AUDIT_OK;
}

meso_audit_break_t
meso_audit_chain_end (meso_audit_chain_t *c, long long head_seq,
                      const uint8_t head_hash[MESO_AUDIT_HASH_LEN], char *why, size_t size)
{
    if (head_seq > c->seq) {
        snprintf (why, size, "the chain ends at seq %lld but its head is at seq %lld: "
                  "%lld last row(s) missing (deleted)", c->seq, head_seq, head_seq - c->seq);
        return MESO_AUDIT_TRUNCATED;
    }
    if (head_seq < c->seq) {
        snprintf (why, size, "rows after the head (seq %lld > %lld): not appended by audit.append",
                  c->seq, head_seq);
        return MESO_AUDIT_REORDERED;
    }
    if (head_hash && sodium_memcmp (head_hash, c->hash, MESO_AUDIT_HASH_LEN) != 0) {
        snprintf (why, size, "seq %lld: the head's hash differs from the last row's", c->seq);
        return MESO_AUDIT_EDITED;
    }
    return MESO_AUDIT_OK;
}

const char *
meso_audit_break_name (meso_audit_break_t b)
{
    switch (b) {
    case MESO_AUDIT_OK: return "ok";
    case MESO_AUDIT_EDITED: return "edited";
    case MESO_AUDIT_MISSING: return "missing";
    case MESO_AUDIT_REORDERED: return "reordered";
    case MESO_AUDIT_TRUNCATED: return "truncated";
    }
    return "?";
}
