/* vault.c -- sealing fields under a patient's data key, and the process's
 * master key. See vault.h for the format and why.
 *
 * Everything cryptographic is libsodium's (crypto_aead_xchacha20poly1305
 * _ietf, randombytes_buf, sodium_hex2bin): nothing here is hand-made but
 * the framing. XChaCha's 24-byte nonce is large enough to be drawn at
 * random for every value, so no counter has to be kept anywhere. The
 * associated data "<patient id>\0<column>" binds a ciphertext to its
 * place: the same name sealed for two patients, or a phone number pasted
 * into the e-mail column, does not open. */
#include "meso/vault.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#define S_FORMAT 0x01
#define S_NONCE crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define S_TAG crypto_aead_xchacha20poly1305_ietf_ABYTES

_Static_assert (MESO_VAULT_OVERHEAD == 1 + S_NONCE + S_TAG, "vault overhead");
_Static_assert (MESO_VAULT_KEY_BYTES == crypto_aead_xchacha20poly1305_ietf_KEYBYTES, "key size");

static pthread_once_t s_init_once = PTHREAD_ONCE_INIT;

static void
s_init (void)
{
    /* sodium_init is thread-safe and idempotent; it only fails when no
     * randomness source can be opened, and then nothing can be sealed. */
    if (sodium_init () < 0)
        abort ();
}

/* "<patient>\0<column>" into ad; its length. */
static size_t
s_ad (char *ad, size_t size, const char *patient_id, const char *column)
{
    int n = snprintf (ad, size, "%s%c%s", patient_id ? patient_id : "", 0, column ? column : "");
    return n < 0 ? 0 : (size_t) n < size ? (size_t) n : size - 1;
}

size_t
meso_vault_seal (const meso_vault_key_t *key, const char *patient_id, const char *column,
                 const uint8_t *plain, size_t len, uint8_t *out)
{
    pthread_once (&s_init_once, s_init);
    char ad[256];
    size_t adlen = s_ad (ad, sizeof ad, patient_id, column);
    out[0] = S_FORMAT;
    randombytes_buf (out + 1, S_NONCE);
    unsigned long long clen = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt (out + 1 + S_NONCE, &clen, plain, len,
                                                (const uint8_t *) ad, adlen, NULL, out + 1, key->k);
    return 1 + S_NONCE + (size_t) clen;
}

int
meso_vault_open (const meso_vault_key_t *key, const char *patient_id, const char *column,
                 const uint8_t *sealed, size_t len, uint8_t *out, size_t *out_len)
{
    pthread_once (&s_init_once, s_init);
    if (!sealed || len < MESO_VAULT_OVERHEAD || sealed[0] != S_FORMAT)
        return -1;
    char ad[256];
    size_t adlen = s_ad (ad, sizeof ad, patient_id, column);
    unsigned long long mlen = 0;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt (out, &mlen, NULL, sealed + 1 + S_NONCE,
                                                    len - 1 - S_NONCE, (const uint8_t *) ad, adlen,
                                                    sealed + 1, key->k) != 0)
        return -1;
    *out_len = (size_t) mlen;
    return 0;
}

uint8_t *
meso_vault_seal_dup (const meso_vault_key_t *key, const char *patient_id, const char *column,
                     const uint8_t *plain, size_t len, size_t *out_len)
{
    uint8_t *out = malloc (len + MESO_VAULT_OVERHEAD);
    if (out)
        *out_len = meso_vault_seal (key, patient_id, column, plain, len, out);
    return out;
}

uint8_t *
meso_vault_open_dup (const meso_vault_key_t *key, const char *patient_id, const char *column,
                     const uint8_t *sealed, size_t len, size_t *out_len)
{
    if (len < MESO_VAULT_OVERHEAD)
        return NULL;
    uint8_t *out = malloc (len - MESO_VAULT_OVERHEAD + 1);
    if (!out)
        return NULL;
    if (meso_vault_open (key, patient_id, column, sealed, len, out, out_len) != 0) {
        free (out);
        return NULL;
    }
    out[*out_len] = '\0';
    return out;
}

void
meso_vault_key_random (meso_vault_key_t *out)
{
    pthread_once (&s_init_once, s_init);
    crypto_aead_xchacha20poly1305_ietf_keygen (out->k);
}

int
meso_vault_master_parse (const char *text, meso_vault_key_t *out)
{
    pthread_once (&s_init_once, s_init);
    size_t n = text ? strlen (text) : 0;
    while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r'))
        n--;
    if (n != 2 * MESO_VAULT_KEY_BYTES)
        return -1;
    size_t bin = 0;
    if (sodium_hex2bin (out->k, sizeof out->k, text, n, NULL, &bin, NULL) != 0
        || bin != MESO_VAULT_KEY_BYTES)
        return -1;
    return 0;
}

/* ------------------------------------------------------ the master key */

static pthread_mutex_t s_lock = PTHREAD_MUTEX_INITIALIZER;
static meso_vault_key_t s_master;
static bool s_ready;

int
meso_vault_master_init (const char *dir, bool *made, char *err, size_t errsize)
{
    pthread_once (&s_init_once, s_init);
    char path[4096];
    snprintf (path, sizeof path, "%s/%s", dir, MESO_VAULT_MASTER_FILE);
    if (made)
        *made = false;
    /* O_EXCL: an existing master key is never replaced (every data key
     * is wrapped by it); two initialisers racing make one. */
    int fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        if (errno == EEXIST)
            return 0;
        snprintf (err, errsize, "cannot create %s: %s", path, strerror (errno));
        return -1;
    }
    meso_vault_key_t k;
    meso_vault_key_random (&k);
    char hex[2 * MESO_VAULT_KEY_BYTES + 2];
    sodium_bin2hex (hex, sizeof hex, k.k, sizeof k.k);
    sodium_memzero (&k, sizeof k);
    size_t len = strlen (hex);
    hex[len++] = '\n';
    ssize_t w = write (fd, hex, len);
    sodium_memzero (hex, sizeof hex);
    if (w != (ssize_t) len || fsync (fd) != 0) {
        snprintf (err, errsize, "cannot write %s: %s", path, strerror (errno));
        close (fd);
        unlink (path);
        return -1;
    }
    close (fd);
    if (made)
        *made = true;
    return 0;
}

int
meso_vault_master_load (const char *dir, char *err, size_t errsize)
{
    char path[4096];
    snprintf (path, sizeof path, "%s/%s", dir && *dir ? dir : ".", MESO_VAULT_MASTER_FILE);
    FILE *f = fopen (path, "re");
    if (!f) {
        snprintf (err, errsize, "cannot read the master key %s: %s (hint: mesoctl keys init --dir %s)",
                  path, strerror (errno), dir && *dir ? dir : ".");
        return -1;
    }
    char text[160] = "";
    size_t n = fread (text, 1, sizeof text - 1, f);
    fclose (f);
    text[n] = '\0';
    meso_vault_key_t k;
    int rc = meso_vault_master_parse (text, &k);
    sodium_memzero (text, sizeof text);
    if (rc != 0) {
        snprintf (err, errsize, "%s is not a master key (64 hex digits expected)", path);
        return -1;
    }
    pthread_mutex_lock (&s_lock);
    s_master = k;
    s_ready = true;
    pthread_mutex_unlock (&s_lock);
    sodium_memzero (&k, sizeof k);
    return 0;
}

bool
meso_vault_ready (void)
{
    pthread_mutex_lock (&s_lock);
    bool r = s_ready;
    pthread_mutex_unlock (&s_lock);
    return r;
}

/* For vault_store.c: a copy of the master key; false when none loaded. */
bool meso_vault_master_copy (meso_vault_key_t *out);

bool
meso_vault_master_copy (meso_vault_key_t *out)
{
    pthread_mutex_lock (&s_lock);
    bool r = s_ready;
    if (r)
        *out = s_master;
    pthread_mutex_unlock (&s_lock);
    return r;
}
