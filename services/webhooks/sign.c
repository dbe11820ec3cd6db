/* sign.c -- the signature of a delivery (logic.h).
 *
 * Stripe's scheme: the signed text is the timestamp, a dot and the body
 * as sent, so a receiver checks both that the body is ours and that it
 * is recent (a captured request replayed later carries an old timestamp
 * whose signature cannot be redone without the secret). HMAC-SHA256 is
 * libsodium's; the hex is lower case. */
#include "logic.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

int
wh_sign (const uint8_t *secret, size_t secret_len, const char *timestamp, const char *body,
         size_t body_len, char *out)
{
    if (!secret || secret_len == 0)
        return -1;
    crypto_auth_hmacsha256_state st;
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_init (&st, secret, secret_len);
    crypto_auth_hmacsha256_update (&st, (const unsigned char *) timestamp, strlen (timestamp));
    crypto_auth_hmacsha256_update (&st, (const unsigned char *) ".", 1);
    crypto_auth_hmacsha256_update (&st, (const unsigned char *) body, body_len);
    crypto_auth_hmacsha256_final (&st, mac);
    memcpy (out, "v1=", 3);
    sodium_bin2hex (out + 3, WH_SIGNATURE_MAX - 3, mac, sizeof mac);
    sodium_memzero (&st, sizeof st);
    return 0;
}
