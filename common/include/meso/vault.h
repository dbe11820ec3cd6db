/* vault.h -- per-patient data keys: personal and health fields stored
 * encrypted, and erasure by destroying the key (crypto-shredding).
 *
 * Each patient has a random 32-byte data key, made when the patient is
 * registered. It is kept in vault.patient_keys (migration 023) wrapped
 * (encrypted) by the chain's master key, a 32-byte secret held outside the
 * database in the keys folder (<MESO_KEYS>/vault.master, mode 0600, made
 * by "mesoctl keys init" beside the CURVE keys): a dump of the database
 * alone reveals no key and no field. Erasing the patient sets the wrapped
 * key to NULL (the only change the table allows, by trigger); every field
 * sealed under it is then unreadable for good, in every table and every
 * backup made after the erasure.
 *
 * Sealing is libsodium's XChaCha20-Poly1305 (IETF AEAD) with a random
 * 24-byte nonce; the associated data is the patient id and the field's
 * name ("screening.patients.personal"), so a ciphertext moved to another
 * patient or another column does not open. A sealed value is
 *     0x01 (format) || nonce (24) || ciphertext || tag (16)
 * and a wrapped key the same, sealed under the master key with the
 * patient id and "vault.patient_keys.wrapped" as associated data.
 *
 * The pure part (seal, open, wrap, unwrap) takes its keys as arguments
 * and is unit tested directly (tests/unit/test_vault.c); the process-wide
 * master key and the SQL of the vault schema (vault_store.c) sit on top. */
#ifndef MESO_VAULT_H
#define MESO_VAULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "meso/db.h"

#define MESO_VAULT_KEY_BYTES 32
/* Bytes a sealed value adds to its plaintext: format byte, nonce, tag. */
#define MESO_VAULT_OVERHEAD (1 + 24 + 16)
/* The master key's file name in the keys folder. */
#define MESO_VAULT_MASTER_FILE "vault.master"
/* What an erased patient's text fields read as. */
#define MESO_VAULT_ERASED "[erased]"

typedef struct {
    uint8_t k[MESO_VAULT_KEY_BYTES];
} meso_vault_key_t;

/* ---- pure: keys as arguments ---- */

/* Seals plain[0..len) for (patient_id, column) into out, which has room
 * for len + MESO_VAULT_OVERHEAD bytes. Returns the sealed length. */
size_t meso_vault_seal (const meso_vault_key_t *key, const char *patient_id, const char *column,
                        const uint8_t *plain, size_t len, uint8_t *out);
/* Opens a sealed value into out (room for len - MESO_VAULT_OVERHEAD
 * bytes; at least 1). 0 with *out_len set, or -1 when it does not open:
 * another key, patient or column, or altered bytes. */
int meso_vault_open (const meso_vault_key_t *key, const char *patient_id, const char *column,
                     const uint8_t *sealed, size_t len, uint8_t *out, size_t *out_len);
/* A sealed value in a fresh buffer (caller free()s), NULL on no memory. */
uint8_t *meso_vault_seal_dup (const meso_vault_key_t *key, const char *patient_id,
                              const char *column, const uint8_t *plain, size_t len,
                              size_t *out_len);
/* The plaintext in a fresh buffer, NUL-terminated after *out_len bytes
 * (caller free()s), or NULL when it does not open. */
uint8_t *meso_vault_open_dup (const meso_vault_key_t *key, const char *patient_id,
                              const char *column, const uint8_t *sealed, size_t len,
                              size_t *out_len);
/* A new random data key. */
void meso_vault_key_random (meso_vault_key_t *out);
/* The master key from its file's text (64 hex digits, a trailing newline
 * allowed). 0 or -1. */
int meso_vault_master_parse (const char *text, meso_vault_key_t *out);

/* ---- the process's master key ---- */

/* Makes <dir>/vault.master (mode 0600) unless it exists; *made says
 * whether it did. 0, or -1 with err set. */
int meso_vault_master_init (const char *dir, bool *made, char *err, size_t errsize);
/* Loads <dir>/vault.master as the process's master key. 0, or -1 with
 * err set (no such file, unreadable, malformed). */
int meso_vault_master_load (const char *dir, char *err, size_t errsize);
/* True once a master key is loaded. */
bool meso_vault_ready (void);

/* ---- vault_store.c: the vault schema ---- */

typedef enum {
    MESO_VAULT_KEY_NONE = 0,        /* no key row: a patient registered before migration 023 */
    MESO_VAULT_KEY_OK = 1,          /* the data key, unwrapped */
    MESO_VAULT_KEY_ERASED = 2,      /* the patient was erased: the key is gone */
} meso_vault_state_t;

/* Makes, wraps and stores a data key for patient_id (of clinic_id); out
 * receives it. 0, or -1 with the db error set (no master key: "55000"). */
int meso_vault_key_create (meso_db_t *db, const char *patient_id, const char *clinic_id,
                           meso_vault_key_t *out);
/* The data key of patient_id: a meso_vault_state_t, or -1 with the db
 * error set (a wrapped key that does not unwrap under this master key is
 * an error, "XX001"). *erased_at_us is set when erased (may be NULL). */
/* The same from a row of a query that read the key with the patient (one
 * statement instead of two: LEFT JOIN vault.patient_keys k ON
 * k.patient_id = ..., selecting "k.patient_id IS NOT NULL, "
 * MESO_VAULT_KEY_COLS ("k") at columns col, col + 1, col + 2). */
#define MESO_VAULT_KEY_COLS(t) t ".wrapped, (extract (epoch FROM " t ".erased_at) * 1000000)::int8"
int meso_vault_key_row (meso_db_t *db, const char *patient_id, PGresult *res, int row, int col,
                        meso_vault_key_t *out, int64_t *erased_at_us);
int meso_vault_key_get (meso_db_t *db, const char *patient_id, meso_vault_key_t *out,
                        int64_t *erased_at_us);
/* Erases patient_id's key: the wrapped key is removed, erased_at, by and
 * reason recorded (a patient without a key row, registered before 023,
 * gets an erased row of clinic_id). 1 erased now, 0 already erased
 * (nothing changed), -1 error. *erased_at_us receives the erasure's
 * instant (the first one when already erased). */
int meso_vault_key_erase (meso_db_t *db, const char *patient_id, const char *clinic_id,
                          const char *by, const char *reason, int64_t *erased_at_us);

#endif
