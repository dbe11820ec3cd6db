/* legacy.c -- sealing, at start, the personal and health data written
 * before migration 023 (the migration has no key to seal with).
 *
 * meso-screening calls screening_seal_legacy before it serves: every
 * patient with a plaintext record, screening or reported change gets a
 * data key when it has none, and those rows are sealed under it, one
 * patient per transaction (under its row lock, so a second instance
 * starting at the same time seals nothing twice: the UPDATEs only touch
 * rows still unsealed). On an installation that never ran before 023
 * there is nothing to do and it costs one query. An erased patient's
 * leftovers cannot be sealed (no key): they are logged, not served (its
 * reads are placeholders). */
#include "screening.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meso/log.h"

#define LEGACY_BATCH 100

typedef struct {
    const char *id;
    long sealed;
} s_job_t;

static int
s_seal_screenings (meso_db_t *db, const store_patient_t *p, const meso_vault_key_t *key)
{
    PGresult *res = store_legacy_screenings (db, p->id);
    if (!res)
        return -1;
    int rc = 0;
    for (int r = 0; rc == 0 && r < PQntuples (res); r++) {
        size_t len = 0, slen = 0;
        uint8_t *raw = store_bytea (res, r, 1, &len);
        uint8_t *sealed = raw ? meso_vault_seal_dup (key, p->id, PERSONAL_RECORD_COLUMN, raw, len, &slen)
                              : NULL;
        PQfreemem (raw);
        rc = sealed ? store_legacy_seal_screening (db, PQgetvalue (res, r, 0), sealed, slen) : -1;
        free (sealed);
    }
    PQclear (res);
    return rc;
}

static int
s_seal_changes (meso_db_t *db, const store_patient_t *p, const meso_vault_key_t *key)
{
    PGresult *res = store_legacy_changes (db, p->id);
    if (!res)
        return -1;
    int rc = 0;
    for (int r = 0; rc == 0 && r < PQntuples (res); r++) {
        char buf[16 * (RULES_CODE_MAX + 1) + 4];
        const char *codes[16];
        size_t n = store_split_codes (PQgetvalue (res, r, 1), buf, sizeof buf, codes, 16);
        size_t slen = 0;
        uint8_t *sealed = personal_change_seal (key, p->id, codes, n, PQgetvalue (res, r, 2), &slen);
        rc = sealed ? store_legacy_seal_change (db, PQgetvalue (res, r, 0), sealed, slen) : -1;
        free (sealed);
    }
    PQclear (res);
    return rc;
}

static int
s_seal_one (meso_db_t *db, void *arg)
{
    s_job_t *job = arg;
    store_patient_t p;
    int found = store_patient_get (db, job->id, true, &p);
    if (found <= 0)
        return found;                   /* gone (cannot happen: never deleted), or error */
    if (p.key_state == MESO_VAULT_KEY_ERASED) {
        meso_warn ("patient %s is erased but has rows of before migration 023 in plaintext", p.id);
        return 0;
    }
    meso_vault_key_t key = p.key;
    if (p.key_state == MESO_VAULT_KEY_NONE
        && meso_vault_key_create (db, p.id, p.home_clinic_id, &key) != 0)
        return -1;
    size_t len = 0;
    uint8_t *sealed = personal_patient_seal (&key, &p, &len);
    int rc = sealed ? store_legacy_seal_patient (db, p.id, sealed, len) : -1;
    free (sealed);
    if (rc == 0)
        rc = s_seal_screenings (db, &p, &key);
    if (rc == 0)
        rc = s_seal_changes (db, &p, &key);
    if (rc == 0)
        job->sealed++;
    return rc;
}

long
screening_seal_legacy (screening_t *self)
{
    long total = 0;
    char seen[40] = "";
    for (;;) {
        PGresult *res = store_legacy_patients (self->db, LEGACY_BATCH);
        if (!res) {
            meso_error ("cannot list the rows to seal: %s", meso_db_error (self->db)->message);
            return -1;
        }
        int n = PQntuples (res);
        long before = total;
        for (int r = 0; r < n; r++) {
            s_job_t job = { PQgetvalue (res, r, 0), 0 };
            if (meso_db_txn (self->db, MESO_DB_READ_COMMITTED, s_seal_one, &job) != 0) {
                meso_error ("cannot seal the data of patient %s: %s", job.id,
                            meso_db_error (self->db)->message);
                PQclear (res);
                return -1;
            }
            total += job.sealed;
        }
        /* An erased patient's leftovers stay listed: stop rather than
         * loop when a batch sealed nothing new. */
        bool stuck = n > 0 && (total == before || strcmp (seen, PQgetvalue (res, n - 1, 0)) == 0);
        if (n > 0)
            snprintf (seen, sizeof seen, "%s", PQgetvalue (res, n - 1, 0));
        PQclear (res);
        if (n < LEGACY_BATCH || stuck)
            break;
    }
    if (total > 0)
        meso_info ("sealed the personal and health data of %ld patient(s) written before migration 023",
                   total);
    return total;
}
