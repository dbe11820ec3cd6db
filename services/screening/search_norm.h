/* search_norm.h -- pure: what the patient search index holds and what a
 * search looks for (search_norm.c). No I/O: the daemon passes the key.
 *
 * The index is blind: each entry is a keyed hash (BLAKE2b-128 keyed with
 * the chain's 32-byte search key, libsodium's crypto_generichash) of
 * "<kind>:<normalised text>", so the table says nothing of a name, phone
 * or e-mail without the key. Kinds: 'n' a prefix of a word of the name,
 * 'b' the birth date, 'p' the phone's digits (and its last 9 digits),
 * 'e' the e-mail in lower case. A patient matches a search when the
 * index holds every hash the search computes. */
#ifndef SCREENING_SEARCH_NORM_H
#define SCREENING_SEARCH_NORM_H

#include <stddef.h>
#include <stdint.h>

#define SEARCH_KEY_BYTES 32
#define SEARCH_TOKEN_BYTES 16
#define SEARCH_TOKEN_HEX (2 * SEARCH_TOKEN_BYTES + 1)
/* A word is indexed by its prefixes of 1..SEARCH_PREFIX_MAX letters; a
 * longer searched word is cut to as many. */
#define SEARCH_PREFIX_MAX 12
/* Words of a name indexed or searched. */
#define SEARCH_WORDS_MAX 8
/* Digits of a phone that match a number stored with a country prefix. */
#define SEARCH_PHONE_TAIL 9
#define SEARCH_PHONE_MIN 6
/* Entries of one patient, at most: every prefix of every word (given and
 * family names), the birth date, two phone forms, the e-mail. */
#define SEARCH_TOKENS_MAX (2 * SEARCH_WORDS_MAX * SEARCH_PREFIX_MAX + 4)

typedef struct {
    char kind;                          /* 'n', 'b', 'p', 'e' */
    char hex[SEARCH_TOKEN_HEX];         /* the keyed hash, lower-case hex */
} search_token_t;

/* Folds UTF-8 text for comparison: letters of Latin-1 and Latin
 * Extended-A lose their accents ("López" -> "lopez", "Ø" -> "o",
 * "ß" -> "ss"), ASCII letters are lowered, digits kept, combining
 * accents (U+0300..U+036F) dropped, other ASCII (spaces, '-', '\'', '.')
 * becomes one space between words; letters of other scripts are kept as
 * they are. Writes at most size - 1 bytes and a NUL; returns the length. */
size_t search_fold (const char *in, char *out, size_t size);
/* Only the digits of in. Returns the length. */
size_t search_digits (const char *in, char *out, size_t size);
/* The keyed hash of kind and text into t. */
void search_token (const uint8_t key[SEARCH_KEY_BYTES], char kind, const char *text, search_token_t *t);

/* The index entries of a patient (duplicates removed). Returns the count
 * (at most max). phone and email may be "" or NULL. */
size_t search_index_tokens (const uint8_t key[SEARCH_KEY_BYTES], const char *given, const char *family,
                            const char *birth_date, const char *phone, const char *email,
                            search_token_t *out, size_t max);
/* The entries a search needs (duplicates removed): one per word of name
 * (its first SEARCH_PREFIX_MAX letters), the birth date, the phone's
 * digits (its last SEARCH_PHONE_TAIL when longer), the e-mail. Empty
 * criteria add nothing. Returns the count, or -1 when name has more than
 * SEARCH_WORDS_MAX words. */
int search_query_tokens (const uint8_t key[SEARCH_KEY_BYTES], const char *name, const char *birth_date,
                         const char *phone, const char *email, search_token_t *out, size_t max);

/* Reads a search key: 64 hex digits (a newline may follow). 0 or -1. */
int search_key_parse (const char *text, uint8_t key[SEARCH_KEY_BYTES]);

#endif
