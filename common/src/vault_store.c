/* vault_store.c -- the SQL of the vault schema (migration 023), and only
 * that: making a patient's data key, reading it back unwrapped, erasing
 * it.
 *
 * The table is append-only but for erasure: a trigger lets an UPDATE
 * through only when it removes the wrapped key and records when, by whom
 * and why, once; DELETE and TRUNCATE are refused. Only the services that
 * seal or open fields (screening, scheduling) may read it, and only
 * screening (which owns the patient) may insert and erase. These calls
 * run inside the caller's transaction: a key is made with the patient's
 * row, and erased with the erasure's event. */
#include "meso/vault.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#define S_WRAP_COLUMN "vault.patient_keys.wrapped"

bool meso_vault_master_copy (meso_vault_key_t *out);   /* vault.c */

static int
s_no_master (meso_db_t *db)
{
    meso_db_set_error (db, "55000", "no vault master key is loaded");
    return -1;
}

int
meso_vault_key_create (meso_db_t *db, const char *patient_id, const char *clinic_id,
                       meso_vault_key_t *out)
{
    meso_vault_key_t master;
    if (!meso_vault_master_copy (&master))
        return s_no_master (db);
    meso_vault_key_random (out);
    uint8_t wrapped[MESO_VAULT_KEY_BYTES + MESO_VAULT_OVERHEAD];
    size_t wlen = meso_vault_seal (&master, patient_id, S_WRAP_COLUMN, out->k, sizeof out->k,
                                   wrapped);
    sodium_memzero (&master, sizeof master);
    const char *values[3] = { patient_id, clinic_id, (const char *) wrapped };
    int lengths[3] = { 0, 0, (int) wlen };
    int formats[3] = { 0, 0, 1 };
    PGresult *res = meso_db_query_bin (db,
        "INSERT INTO vault.patient_keys (patient_id, clinic_id, wrapped) VALUES ($1::uuid, $2, $3)",
        3, values, lengths, formats);
    if (!res)
        return -1;
    PQclear (res);
    return 0;
}

int
meso_vault_key_row (meso_db_t *db, const char *patient_id, PGresult *res, int row, int col,
                    meso_vault_key_t *out, int64_t *erased_at_us)
{
    if (PQgetisnull (res, row, col) || PQgetvalue (res, row, col)[0] != 't')
        return MESO_VAULT_KEY_NONE;
    if (PQgetisnull (res, row, col + 1)) {
        if (erased_at_us)
            *erased_at_us = PQgetisnull (res, row, col + 2)
                          ? 0 : strtoll (PQgetvalue (res, row, col + 2), NULL, 10);
        return MESO_VAULT_KEY_ERASED;
    }
    meso_vault_key_t master;
    size_t blen = 0, klen = 0;
    uint8_t *bin = PQunescapeBytea ((const unsigned char *) PQgetvalue (res, row, col + 1), &blen);
    if (!meso_vault_master_copy (&master)) {
        PQfreemem (bin);
        return s_no_master (db);
    }
    uint8_t k[MESO_VAULT_KEY_BYTES + 1];
    int rc = MESO_VAULT_KEY_OK;
    if (!bin || blen != MESO_VAULT_KEY_BYTES + MESO_VAULT_OVERHEAD
        || meso_vault_open (&master, patient_id, S_WRAP_COLUMN, bin, blen, k, &klen) != 0
        || klen != MESO_VAULT_KEY_BYTES) {
        meso_db_set_error (db, "XX001", "the data key of patient %s does not unwrap under "
                           "this master key", patient_id);
        rc = -1;
    }
    else
        memcpy (out->k, k, sizeof out->k);
    sodium_memzero (&master, sizeof master);
    sodium_memzero (k, sizeof k);
    PQfreemem (bin);
    return rc;
}

int
meso_vault_key_get (meso_db_t *db, const char *patient_id, meso_vault_key_t *out,
                    int64_t *erased_at_us)
{
    const char *params[1] = { patient_id };
    PGresult *res = meso_db_query (db,
        "SELECT true, " MESO_VAULT_KEY_COLS ("k") " FROM vault.patient_keys k WHERE patient_id = $1::uuid",
        1, params);
    if (!res)
        return -1;
    int rc = PQntuples (res) == 0 ? MESO_VAULT_KEY_NONE
           : meso_vault_key_row (db, patient_id, res, 0, 0, out, erased_at_us);
    PQclear (res);
    return rc;
}

int
meso_vault_key_erase (meso_db_t *db, const char *patient_id, const char *clinic_id,
                      const char *by, const char *reason, int64_t *erased_at_us)
{
    const char *params[4] = { patient_id, clinic_id, by, reason };
    /* The insert is for a patient registered before the vault: it gets
     * an erased row, so it reads as erased like any other. */
    PGresult *res = meso_db_query (db,
        "WITH e AS ("
        "  INSERT INTO vault.patient_keys AS k (patient_id, clinic_id, wrapped, erased_at, erased_by, erase_reason)"
        "  VALUES ($1::uuid, $2, NULL, clock_timestamp (), $3, $4)"
        "  ON CONFLICT (patient_id) DO UPDATE SET wrapped = NULL, erased_at = EXCLUDED.erased_at,"
        "    erased_by = EXCLUDED.erased_by, erase_reason = EXCLUDED.erase_reason"
        "  WHERE k.erased_at IS NULL"
        "  RETURNING (extract (epoch FROM erased_at) * 1000000)::int8)"
        " SELECT 1, * FROM e"
        " UNION ALL SELECT 0, (extract (epoch FROM erased_at) * 1000000)::int8"
        "  FROM vault.patient_keys WHERE patient_id = $1::uuid AND NOT EXISTS (SELECT 1 FROM e)",
        4, params);
    if (!res)
        return -1;
    int rc = 0;
    if (PQntuples (res) >= 1) {
        rc = atoi (PQgetvalue (res, 0, 0));
        if (erased_at_us)
            *erased_at_us = strtoll (PQgetvalue (res, 0, 1), NULL, 10);
    }
    PQclear (res);
    return rc;
}
