/* page.c -- see page.h.
 *
 * A token, before base64url:
 *     'p' '1'  version
 *     u8 len, list name bytes
 *     u8 n, then n times: u8 len, key bytes
 *     8 bytes of BLAKE2b over everything before them
 * Lengths are one byte because every part is short (list names, keys of
 * at most MESO_PAGE_KEY_MAX). base64 and BLAKE2b are libsodium's, which
 * libzmq already brings for CURVE. */
#include "meso/page.h"

#include <sodium.h>
#include <string.h>

#define S_SUM 8
#define S_RAW_MAX ((MESO_PAGE_TOKEN_MAX - 1) / 4 * 3)

uint32_t
meso_page_size (uint32_t requested, uint32_t dflt, uint32_t max)
{
    if (requested == 0)
        requested = dflt;
    return requested > max ? max : requested;
}

int
meso_page_token_encode (const char *list, const char *const *keys, size_t n, char *out, size_t size)
{
    if (!list || !keys || !out || n == 0 || n > MESO_PAGE_KEYS_MAX)
        return -1;
    unsigned char raw[S_RAW_MAX];
    size_t len = 0;
    size_t list_len = strlen (list);
    if (list_len > 255 || 3 + list_len + 1 > sizeof raw)
        return -1;
    raw[len++] = 'p';
    raw[len++] = '1';
    raw[len++] = (unsigned char) list_len;
    memcpy (raw + len, list, list_len);
    len += list_len;
    raw[len++] = (unsigned char) n;
    for (size_t i = 0; i < n; i++) {
        size_t k = keys[i] ? strlen (keys[i]) : 0;
        if (k > MESO_PAGE_KEY_MAX || len + 1 + k + S_SUM > sizeof raw)
            return -1;
        raw[len++] = (unsigned char) k;
        if (k)
            memcpy (raw + len, keys[i], k);
        len += k;
    }
    crypto_generichash (raw + len, S_SUM, raw, len, NULL, 0);
    len += S_SUM;
    size_t need = sodium_base64_encoded_len (len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    if (need > size)
        return -1;
    sodium_bin2base64 (out, size, raw, len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    return 0;
}

int
meso_page_token_decode (const char *list, const char *token, size_t n, meso_page_pos_t *pos)
{
    if (!pos || !list)
        return -1;
    memset (pos, 0, sizeof *pos);
    if (!token || !*token)
        return 0;
    if (strlen (token) >= MESO_PAGE_TOKEN_MAX || n == 0 || n > MESO_PAGE_KEYS_MAX)
        return -1;
    unsigned char raw[S_RAW_MAX];
    size_t len = 0;
    if (sodium_base642bin (raw, sizeof raw, token, strlen (token), NULL, &len, NULL,
                           sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
        return -1;
    if (len < 4 + S_SUM)
        return -1;
    unsigned char sum[S_SUM];
    crypto_generichash (sum, S_SUM, raw, len - S_SUM, NULL, 0);
    if (sodium_memcmp (sum, raw + len - S_SUM, S_SUM) != 0)
        return -1;
    len -= S_SUM;
    size_t at = 0;
    if (raw[at++] != 'p' || raw[at++] != '1')
        return -1;
    size_t list_len = raw[at++];
    if (at + list_len + 1 > len || list_len != strlen (list)
        || memcmp (raw + at, list, list_len) != 0)
        return -1;
    at += list_len;
    if (raw[at++] != n)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (at >= len)
            return -1;
        size_t k = raw[at++];
        if (k > MESO_PAGE_KEY_MAX || at + k > len || memchr (raw + at, '\0', k))
            return -1;
        memcpy (pos->key[i], raw + at, k);
        pos->key[i][k] = '\0';
        at += k;
    }
    if (at != len) {
        memset (pos, 0, sizeof *pos);
        return -1;
    }
    pos->n = n;
    return 0;
}

size_t
meso_page_fit (ProtobufCMessage *msg, size_t *count, size_t limit)
{
    if (protobuf_c_message_get_packed_size (msg) <= limit)
        return *count;
    /* Binary search for the largest count that fits: lo fits, hi does not. */
    size_t lo = 0, hi = *count;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        *count = mid;
        if (protobuf_c_message_get_packed_size (msg) <= limit)
            lo = mid;
        else
            hi = mid;
    }
    *count = lo;
    return lo;
}
