/* fuzz_envelope.c -- the server's whole decoding path under arbitrary
 * bytes: meso_wire_decode_request (protobuf-c unpack plus our string
 * checks), meso_wire_peek_request_id (the hand-written field scanner),
 * meso_wirecheck against an independent decode-based check
 * (strings_check.h), and the error reply the server would build from what
 * they return.
 *
 * With MESO_FUZZ=ON this is a libFuzzer target. Without it, main() below
 * replays the seed corpus and a few thousand deterministic mutations of
 * it, so every ordinary test run (and its ASan/valgrind variants) drives
 * the decoder through malformed input too. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meso/bus.h"
#include "strings_check.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    char id [65];
    int peeked = meso_wire_peek_request_id (data, size, id, sizeof id);
    if (peeked == 0 && strlen (id) >= sizeof id)
        abort ();

    Meso__V1__Request *req = NULL;
    char err [256];
    const char *field = NULL;
    int rc = meso_wire_decode_request (data, size, &req, err, sizeof err, &field);
    if ((rc == 0) != (req != NULL) || !field)
        abort ();
    /* A decoded request always has its id at field 1, so the peeker must
     * agree with protobuf-c on it (last occurrence wins for both). */
    if (rc == 0 && (peeked != 0 || strcmp (id, req->request_id) != 0))
        abort ();
    /* The string check agrees with the decoder: a request it accepts has
     * only valid strings, and an actor within bounds. */
    Meso__V1__Request *plain = meso__v1__request__unpack (NULL, size, data);
    fz_wirecheck (&meso__v1__request__descriptor, data, size, plain ? &plain->base : NULL);
    if (plain)
        meso__v1__request__free_unpacked (plain, NULL);
    if (rc == 0 && (meso_wirecheck (&meso__v1__request__descriptor, data, size, NULL, 0)
                    != MESO_WIRECHECK_OK
                    || (req->actor && strlen (req->actor->id) > MESO_ACTOR_ID_MAX)
                    || req->base.n_unknown_fields
                    || (req->actor && req->actor->base.n_unknown_fields)))
        abort ();

    /* What the server answers: quotes client strings into a reply. */
    meso_reply_t *reply = meso_reply_new ();
    if (rc == 0)
        meso_reply_error (reply, MESO_NOT_FOUND, "unknown method \"%s\"", req->method);
    else {
        meso_reply_error (reply, MESO_INVALID_ARGUMENT, "%s", err);
        if (*field)
            meso_reply_reason (reply, "invalid_field", field, "%s", err);
    }
    size_t len = 0;
    uint8_t *packed = meso_reply_pack (reply, &len);
    if (packed) {
        Meso__V1__Reply *back = meso__v1__reply__unpack (NULL, len, packed);
        if (!back)
            abort ();
        meso__v1__reply__free_unpacked (back, NULL);
        free (packed);
    }
    meso_reply_destroy (&reply);
    if (req)
        meso__v1__request__free_unpacked (req, NULL);
    return 0;
}

#ifndef MESO_FUZZING

#define MUTATIONS_PER_SEED 400
#define RANDOM_INPUTS 1000

static uint64_t s_rng = 0x9E3779B97F4A7C15ull;

static uint32_t
s_rand (void)
{
    /* xorshift64*: deterministic, so a failure replays the same way. */
    s_rng ^= s_rng >> 12;
    s_rng ^= s_rng << 25;
    s_rng ^= s_rng >> 27;
    return (uint32_t) ((s_rng * 0x2545F4914F6CDD1Dull) >> 32);
}

/* One mutation of seed into out (capacity cap); returns its length. */
static size_t
s_mutate (const uint8_t *seed, size_t len, uint8_t *out, size_t cap)
{
    static const uint8_t interesting [] = { 0x00, 0x01, 0x7F, 0x80, 0xFF, 0x0A, 0x12, 0x32 };
    size_t n = len < cap ? len : cap;
    memcpy (out, seed, n);
    int rounds = 1 + (int) (s_rand () % 4);
    for (int r = 0; r < rounds; r++) {
        size_t pos = n ? s_rand () % n : 0;
        switch (s_rand () % 6) {
            case 0:     /* flip a bit */
                if (n)
                    out [pos] ^= (uint8_t) (1u << (s_rand () % 8));
                break;
            case 1:     /* an interesting byte */
                if (n)
                    out [pos] = interesting [s_rand () % sizeof interesting];
                break;
            case 2:     /* truncate */
                n = pos;
                break;
            case 3:     /* insert random bytes */
                if (n < cap) {
                    size_t k = 1 + s_rand () % 8;
                    if (k > cap - n)
                        k = cap - n;
                    memmove (out + pos + k, out + pos, n - pos);
                    for (size_t i = 0; i < k; i++)
                        out [pos + i] = (uint8_t) s_rand ();
                    n += k;
                }
                break;
            case 4:     /* duplicate a chunk (repeated fields) */
                if (n && n < cap) {
                    size_t k = 1 + s_rand () % (n - pos);
                    if (k > cap - n)
                        k = cap - n;
                    memmove (out + n, out + pos, k);
                    n += k;
                }
                break;
            default:    /* a varint of continuation bytes */
                if (n)
                    for (size_t i = pos; i < n && i < pos + 5; i++)
                        out [i] |= 0x80;
                break;
        }
    }
    return n;
}

int
main (int argc, char **argv)
{
    if (argc != 2) {
        fprintf (stderr, "usage: %s CORPUS_DIR\n", argv [0]);
        return 2;
    }
    DIR *dir = opendir (argv [1]);
    if (!dir) {
        perror (argv [1]);
        return 1;
    }
    const size_t cap = 4096;
    uint8_t *seed = malloc (cap);
    uint8_t *buf = malloc (cap);
    if (!seed || !buf)
        return 1;
    int seeds = 0;
    long runs = 0;
    struct dirent *entry;
    while ((entry = readdir (dir))) {
        if (entry->d_name [0] == '.')
            continue;
        char path [4096];
        snprintf (path, sizeof path, "%s/%s", argv [1], entry->d_name);
        FILE *file = fopen (path, "rb");
        if (!file) {
            perror (path);
            return 1;
        }
        size_t len = fread (seed, 1, cap, file);
        fclose (file);
        /* Copy to an exact-size block so ASan sees any read past its end. */
        uint8_t *exact = malloc (len ? len : 1);
        memcpy (exact, seed, len);
        LLVMFuzzerTestOneInput (exact, len);
        free (exact);
        runs++;
        for (int m = 0; m < MUTATIONS_PER_SEED; m++) {
            size_t n = s_mutate (seed, len, buf, cap);
            exact = malloc (n ? n : 1);
            memcpy (exact, buf, n);
            LLVMFuzzerTestOneInput (exact, n);
            free (exact);
            runs++;
        }
        seeds++;
    }
    closedir (dir);
    for (int i = 0; i < RANDOM_INPUTS; i++) {
        size_t n = s_rand () % 256;
        uint8_t *exact = malloc (n ? n : 1);
        for (size_t k = 0; k < n; k++)
            exact [k] = (uint8_t) s_rand ();
        LLVMFuzzerTestOneInput (exact, n);
        free (exact);
        runs++;
    }
    free (seed);
    free (buf);
    printf ("fuzz_envelope: %d seeds, %ld inputs, no crash\n", seeds, runs);
    return seeds > 0 ? 0 : 1;
}

#endif
