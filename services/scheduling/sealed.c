/* sealed.c -- scheduling's clinical free text (a session's notes, a
 * cancellation's reason) sealed under the patient's data key
 * (meso/vault.h, migrations 023 and 024).
 *
 * Screening makes each patient's key at registration; scheduling may
 * read vault.patient_keys, never write it. Scheduling never reads the
 * texts back (they went out in the session events, where the events
 * daemon keeps the full payload apart, services/events/health.c), so only
 * sealing is here. A patient without a key (registered before 023, or an
 * id that is not a screening patient's UUID) keeps the plaintext column;
 * an erased one has nothing stored. At start, rows of before 024 are
 * sealed (sched_seal_legacy). */
#include "scheduling.h"
#include "store.h"

#include <stdlib.h>
#include <string.h>

#include "meso/log.h"
#include "meso/vault.h"

static bool
s_uuid (const char *s)
{
    if (!s || strlen (s) != 36)
        return false;
    for (int i = 0; i < 36; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : !strchr ("0123456789abcdefABCDEF", s[i]))
            return false;
    }
    return true;
}

int
sched_seal (meso_db_t *db, const char *patient_id, const char *column, const char *text,
            uint8_t **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    if (!s_uuid (patient_id))
        return SCHED_SEAL_PLAIN;
    meso_vault_key_t key;
    int state = meso_vault_key_get (db, patient_id, &key, NULL);
    if (state < 0)
        return -1;
    if (state == MESO_VAULT_KEY_NONE)
        return SCHED_SEAL_PLAIN;
    if (state == MESO_VAULT_KEY_ERASED)
        return SCHED_SEAL_NONE;
    *out = meso_vault_seal_dup (&key, patient_id, column, (const uint8_t *) (text ? text : ""),
                                text ? strlen (text) : 0, len);
    if (!*out) {
        meso_db_set_error (db, NULL, "out of memory sealing %s", column);
        return -1;
    }
    return SCHED_SEAL_SEALED;
}

/* Seals one legacy row's texts; 0 or -1. */
static int
s_seal_row (meso_db_t *db, void *arg)
{
    PGresult *row = arg;
    const char *id = PQgetvalue (row, 0, 0), *patient = PQgetvalue (row, 0, 1);
    uint8_t *notes = NULL, *reason = NULL;
    size_t nlen = 0, rlen = 0;
    int a = PQgetisnull (row, 0, 2) ? SCHED_SEAL_PLAIN
          : sched_seal (db, patient, SCHED_NOTES_COLUMN, PQgetvalue (row, 0, 2), &notes, &nlen);
    int b = PQgetisnull (row, 0, 3) ? SCHED_SEAL_PLAIN
          : sched_seal (db, patient, SCHED_REASON_COLUMN, PQgetvalue (row, 0, 3), &reason, &rlen);
    int rc = a < 0 || b < 0 ? -1
           : store_sealed_texts (db, id, a == SCHED_SEAL_PLAIN ? PQgetvalue (row, 0, 2) : NULL,
                                 notes, nlen, a != SCHED_SEAL_PLAIN,
                                 b == SCHED_SEAL_PLAIN ? PQgetvalue (row, 0, 3) : NULL,
                                 reason, rlen, b != SCHED_SEAL_PLAIN);
    free (notes);
    free (reason);
    return rc;
}

long
sched_seal_legacy (meso_db_t *db)
{
    long total = 0;
    char after[80] = "";
    for (;;) {
        PGresult *res = store_sealed_legacy (db, after, 200);
        if (!res) {
            meso_error ("cannot list the session texts to seal: %s", meso_db_error (db)->message);
            return -1;
        }
        int n = PQntuples (res);
        for (int r = 0; r < n; r++) {
            /* One row as a result of its own, for the transaction. */
            const char *params[] = { PQgetvalue (res, r, 0) };
            PGresult *row = store_sealed_row (db, params[0]);
            if (!row || (PQntuples (row) == 1
                         && meso_db_txn (db, MESO_DB_READ_COMMITTED, s_seal_row, row) != 0)) {
                meso_error ("cannot seal the texts of session %s: %s", params[0],
                            meso_db_error (db)->message);
                if (row)
                    PQclear (row);
                PQclear (res);
                return -1;
            }
            total += PQntuples (row);
            PQclear (row);
        }
        if (n > 0)
            snprintf (after, sizeof after, "%s", PQgetvalue (res, n - 1, 0));
        PQclear (res);
        if (n < 200)
            break;
    }
    if (total > 0)
        meso_info ("sealed the notes and cancellation reasons of %ld session(s) written before "
                   "migration 024", total);
    return total;
}
