/* search_norm.c -- pure: the blind index of the patient search (see
 * search_norm.h): folding names for comparison, and the keyed hashes the
 * index holds and a search looks for.
 *
 * Folding is a table of our own rather than ICU: the hashes are stored,
 * so the folding must never change under them (a library upgrade with a
 * newer Unicode version could fold a letter differently and silently
 * lose that patient from every search until a re-index). The table
 * covers Latin-1 Supplement and Latin Extended-A (U+00C0..U+017F), where
 * the names of the chain's patients live: each letter to its base
 * letters, lower case, accents dropped; the letters with no
 * decomposition by their usual transliteration (ß ss, æ ae, œ oe, ø o,
 * ł l, đ/ð d, þ th, ĳ ij). Combining accents (text already decomposed)
 * are dropped. Letters of other scripts are kept byte for byte, so a
 * search in them is exact-case.
 *
 * Names are indexed word by word, by every prefix of up to 12 letters:
 * "ana l" is the words "ana" and "l", and finds the patients who have a
 * word starting with each. The phone is compared on its last 9 digits
 * (a number with or without its country prefix). */
#include "search_norm.h"

#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* U+00C0 .. U+017F */
static const char *const s_latin[] = {
    "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",   /* U+00C0 */
    "d", "n", "o", "o", "o", "o", "o", "", "o", "u", "u", "u", "u", "y", "th", "ss",   /* U+00D0 */
    "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",   /* U+00E0 */
    "d", "n", "o", "o", "o", "o", "o", "", "o", "u", "u", "u", "u", "y", "th", "y",   /* U+00F0 */
    "a", "a", "a", "a", "a", "a", "c", "c", "c", "c", "c", "c", "c", "c", "d", "d",   /* U+0100 */
    "d", "d", "e", "e", "e", "e", "e", "e", "e", "e", "e", "e", "g", "g", "g", "g",   /* U+0110 */
    "g", "g", "g", "g", "h", "h", "h", "h", "i", "i", "i", "i", "i", "i", "i", "i",   /* U+0120 */
    "i", "i", "ij", "ij", "j", "j", "k", "k", "k", "l", "l", "l", "l", "l", "l", "l",   /* U+0130 */
    "l", "l", "l", "n", "n", "n", "n", "n", "n", "n", "n", "n", "o", "o", "o", "o",   /* U+0140 */
    "o", "o", "oe", "oe", "r", "r", "r", "r", "r", "r", "s", "s", "s", "s", "s", "s",   /* U+0150 */
    "s", "s", "t", "t", "t", "t", "t", "t", "u", "u", "u", "u", "u", "u", "u", "u",   /* U+0160 */
    "u", "u", "u", "u", "w", "w", "y", "y", "y", "z", "z", "z", "z", "z", "z", "s",   /* U+0170 */
};

/* Appends s to out[*n] if it fits. */
static void
s_put (char *out, size_t size, size_t *n, const char *s, size_t len)
{
    if (*n + len + 1 > size)
        return;
    memcpy (out + *n, s, len);
    *n += len;
}

size_t
search_fold (const char *in, char *out, size_t size)
{
    size_t n = 0;
    bool space = false;                 /* a separator is pending */
    if (size == 0)
        return 0;
    const unsigned char *p = (const unsigned char *) (in ? in : "");
    while (*p) {
        unsigned cp;
        size_t len;
        if (*p < 0x80) {
            cp = *p;
            len = 1;
        }
        else if ((*p & 0xe0) == 0xc0 && (p[1] & 0xc0) == 0x80) {
            cp = ((unsigned) (*p & 0x1f) << 6) | (p[1] & 0x3f);
            len = 2;
        }
        else {
            /* Three- and four-byte characters (and stray bytes): copied
             * whole, as letters of another script. */
            len = 1;
            while (p[len] && (p[len] & 0xc0) == 0x80 && len < 4)
                len++;
            if (space && n > 0)
                s_put (out, size, &n, " ", 1);
            space = false;
            s_put (out, size, &n, (const char *) p, len);
            p += len;
            continue;
        }
        const char *folded = NULL;
        char one[2] = { 0, 0 };
        if (cp < 0x80) {
            if ((cp >= 'a' && cp <= 'z') || (cp >= '0' && cp <= '9'))
                one[0] = (char) cp;
            else if (cp >= 'A' && cp <= 'Z')
                one[0] = (char) (cp - 'A' + 'a');
            folded = one[0] ? one : "";
            if (!one[0]) {
                space = true;
                p += len;
                continue;
            }
        }
        else if (cp >= 0x300 && cp <= 0x36f) {
            p += len;                   /* a combining accent */
            continue;
        }
        else if (cp >= 0xc0 && cp <= 0x17f) {
            folded = s_latin[cp - 0xc0];
            if (!*folded) {             /* x and division signs */
                space = true;
                p += len;
                continue;
            }
        }
        if (folded) {
            if (space && n > 0)
                s_put (out, size, &n, " ", 1);
            space = false;
            s_put (out, size, &n, folded, strlen (folded));
        }
        else {
            /* Another two-byte letter (Greek, Cyrillic...): kept. */
            if (space && n > 0)
                s_put (out, size, &n, " ", 1);
            space = false;
            s_put (out, size, &n, (const char *) p, len);
        }
        p += len;
    }
    out[n] = '\0';
    return n;
}

size_t
search_digits (const char *in, char *out, size_t size)
{
    size_t n = 0;
    for (const char *p = in ? in : ""; *p && n + 1 < size; p++)
        if (*p >= '0' && *p <= '9')
            out[n++] = *p;
    if (size)
        out[n] = '\0';
    return n;
}

void
search_token (const uint8_t key[SEARCH_KEY_BYTES], char kind, const char *text, search_token_t *t)
{
    uint8_t h[SEARCH_TOKEN_BYTES];
    crypto_generichash_state st;
    char head[2] = { kind, ':' };
    crypto_generichash_init (&st, key, SEARCH_KEY_BYTES, sizeof h);
    crypto_generichash_update (&st, (const unsigned char *) head, 2);
    crypto_generichash_update (&st, (const unsigned char *) text, strlen (text));
    crypto_generichash_final (&st, h, sizeof h);
    sodium_bin2hex (t->hex, sizeof t->hex, h, sizeof h);
    t->kind = kind;
}

/* Adds a token unless it is there already. */
static void
s_add (const uint8_t *key, char kind, const char *text, search_token_t *out, size_t *n, size_t max)
{
    if (*n >= max || !*text)
        return;
    search_token (key, kind, text, &out[*n]);
    for (size_t i = 0; i < *n; i++)
        if (strcmp (out[i].hex, out[*n].hex) == 0)
            return;
    (*n)++;
}

/* Length in bytes of the first `letters` characters of word. */
static size_t
s_prefix_bytes (const char *word, size_t letters)
{
    size_t i = 0, seen = 0;
    while (word[i] && seen < letters) {
        i++;
        while (((unsigned char) word[i] & 0xc0) == 0x80)
            i++;
        seen++;
    }
    return i;
}

/* Splits folded text in place into words; returns the count (words past
 * max are counted but not stored). */
static size_t
s_words (char *text, char **words, size_t max)
{
    size_t n = 0;
    char *save = NULL;
    for (char *w = strtok_r (text, " ", &save); w; w = strtok_r (NULL, " ", &save)) {
        if (n < max)
            words[n] = w;
        n++;
    }
    return n;
}

static void
s_phone_email (const uint8_t *key, const char *phone, const char *email, search_token_t *out,
               size_t *n, size_t max)
{
    char digits[80];
    size_t d = search_digits (phone, digits, sizeof digits);
    if (d > 0)
        s_add (key, 'p', d > SEARCH_PHONE_TAIL ? digits + d - SEARCH_PHONE_TAIL : digits, out, n, max);
    char mail[1024];
    size_t m = 0;
    for (const char *p = email ? email : ""; *p && m + 1 < sizeof mail; p++)
        if (*p != ' ' && *p != '\t')
            mail[m++] = (*p >= 'A' && *p <= 'Z') ? (char) (*p - 'A' + 'a') : *p;
    mail[m] = '\0';
    s_add (key, 'e', mail, out, n, max);
}

size_t
search_index_tokens (const uint8_t key[SEARCH_KEY_BYTES], const char *given, const char *family,
                     const char *birth_date, const char *phone, const char *email,
                     search_token_t *out, size_t max)
{
    size_t n = 0;
    const char *names[2] = { given, family };
    for (int k = 0; k < 2; k++) {
        char folded[1024];
        char *words[SEARCH_WORDS_MAX];
        search_fold (names[k], folded, sizeof folded);
        size_t nw = s_words (folded, words, SEARCH_WORDS_MAX);
        if (nw > SEARCH_WORDS_MAX)
            nw = SEARCH_WORDS_MAX;
        for (size_t w = 0; w < nw; w++)
            for (size_t l = 1; l <= SEARCH_PREFIX_MAX; l++) {
                size_t b = s_prefix_bytes (words[w], l);
                char prefix[64];
                if (b >= sizeof prefix)
                    break;
                memcpy (prefix, words[w], b);
                prefix[b] = '\0';
                s_add (key, 'n', prefix, out, &n, max);
                if (words[w][b] == '\0')
                    break;
            }
    }
    s_add (key, 'b', birth_date ? birth_date : "", out, &n, max);
    s_phone_email (key, phone, email, out, &n, max);
    return n;
}

int
search_query_tokens (const uint8_t key[SEARCH_KEY_BYTES], const char *name, const char *birth_date,
                     const char *phone, const char *email, search_token_t *out, size_t max)
{
    size_t n = 0;
    char folded[1024];
    char *words[SEARCH_WORDS_MAX];
    search_fold (name, folded, sizeof folded);
    size_t nw = s_words (folded, words, SEARCH_WORDS_MAX);
    if (nw > SEARCH_WORDS_MAX)
        return -1;
    for (size_t w = 0; w < nw; w++) {
        size_t b = s_prefix_bytes (words[w], SEARCH_PREFIX_MAX);
        words[w][b] = '\0';
        s_add (key, 'n', words[w], out, &n, max);
    }
    s_add (key, 'b', birth_date ? birth_date : "", out, &n, max);
    s_phone_email (key, phone, email, out, &n, max);
    return (int) n;
}

int
search_key_parse (const char *text, uint8_t key[SEARCH_KEY_BYTES])
{
    size_t len = 0;
    const char *end = NULL;
    if (!text || sodium_hex2bin (key, SEARCH_KEY_BYTES, text, strlen (text), NULL, &len, &end) != 0
        || len != SEARCH_KEY_BYTES)
        return -1;
    while (*end == '\n' || *end == '\r' || *end == ' ')
        end++;
    return *end == '\0' ? 0 : -1;
}
