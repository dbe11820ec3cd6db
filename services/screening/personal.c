/* personal.c -- the sealed form of a patient's personal and health
 * fields in the screening schema (meso/vault.h).
 *
 * What is sealed, each under the patient's data key with the patient id
 * and the column's name as associated data:
 * - screening.patients.personal: the names, birth date, sex, phone and
 *   e-mail, packed as a meso.v1.Patient holding only those fields (one
 *   value rather than one per column: they are always read together, and
 *   one seal is one nonce and one tag). Id, home clinic and timestamps
 *   stay clear: they are what the rows are found and scoped by.
 * - screening.screenings.record: the packed meso.v1.Screening (answers,
 *   reasons, medication, course...). Verdict, dates and the clinic stay
 *   clear, as in the screening.completed event everyone may read.
 * - screening.patient_changes.sealed: the reported change codes and the
 *   note, packed as a meso.v1.PatientChange.
 * An erased patient's fields read as placeholders ("[erased]", empty
 * dates), never as an error: the rows are still there, only unreadable.
 * Pure apart from libsodium's randomness: no SQL here (store.c calls
 * these). */
#include "screening.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
s_copy (char *dst, size_t size, const char *src)
{
    snprintf (dst, size, "%s", src ? src : "");
}

uint8_t *
personal_patient_seal (const meso_vault_key_t *key, const store_patient_t *p, size_t *len)
{
    Meso__V1__Patient pb = MESO__V1__PATIENT__INIT;
    pb.given_name = (char *) p->given_name;
    pb.family_name = (char *) p->family_name;
    pb.birth_date = (char *) p->birth_date;
    pb.sex = (Meso__V1__Sex) p->sex;
    pb.phone = (char *) p->phone;
    pb.email = (char *) p->email;
    size_t n = meso__v1__patient__get_packed_size (&pb);
    uint8_t *plain = malloc (n ? n : 1);
    if (!plain)
        return NULL;
    meso__v1__patient__pack (&pb, plain);
    uint8_t *out = meso_vault_seal_dup (key, p->id, PERSONAL_PATIENT_COLUMN, plain, n, len);
    memset (plain, 0, n);
    free (plain);
    return out;
}

int
personal_patient_open (const meso_vault_key_t *key, const uint8_t *sealed, size_t len,
                       store_patient_t *p)
{
    size_t n = 0;
    uint8_t *plain = meso_vault_open_dup (key, p->id, PERSONAL_PATIENT_COLUMN, sealed, len, &n);
    if (!plain)
        return -1;
    Meso__V1__Patient *pb = meso__v1__patient__unpack (NULL, n, plain);
    memset (plain, 0, n);
    free (plain);
    if (!pb)
        return -1;
    s_copy (p->given_name, sizeof p->given_name, pb->given_name);
    s_copy (p->family_name, sizeof p->family_name, pb->family_name);
    s_copy (p->birth_date, sizeof p->birth_date, pb->birth_date);
    p->sex = (int) pb->sex;
    s_copy (p->phone, sizeof p->phone, pb->phone);
    s_copy (p->email, sizeof p->email, pb->email);
    meso__v1__patient__free_unpacked (pb, NULL);
    return 0;
}

void
personal_patient_erased (store_patient_t *p)
{
    s_copy (p->given_name, sizeof p->given_name, MESO_VAULT_ERASED);
    s_copy (p->family_name, sizeof p->family_name, MESO_VAULT_ERASED);
    p->birth_date[0] = '\0';
    p->sex = 0;
    p->phone[0] = '\0';
    p->email[0] = '\0';
    p->erased = true;
}

uint8_t *
personal_change_seal (const meso_vault_key_t *key, const char *patient_id,
                      const char *const *codes, size_t n, const char *note, size_t *len)
{
    Meso__V1__PatientChange pc = MESO__V1__PATIENT_CHANGE__INIT;
    pc.n_changes = n;
    pc.changes = (char **) codes;
    pc.note = (char *) (note ? note : "");
    size_t size = meso__v1__patient_change__get_packed_size (&pc);
    uint8_t *plain = malloc (size ? size : 1);
    if (!plain)
        return NULL;
    meso__v1__patient_change__pack (&pc, plain);
    uint8_t *out = meso_vault_seal_dup (key, patient_id, PERSONAL_CHANGE_COLUMN, plain, size, len);
    free (plain);
    return out;
}

int
personal_change_open (const store_patient_t *p, PGresult *res, int r, char *codes, size_t size,
                      char **note)
{
    *note = NULL;
    if (PQgetisnull (res, r, 4)) {          /* written before migration 023 */
        s_copy (codes, size, PQgetvalue (res, r, 0));
        *note = strdup (PQgetvalue (res, r, 1));
        return *note ? 0 : -1;
    }
    if (p->erased || p->key_state != MESO_VAULT_KEY_OK) {
        s_copy (codes, size, "{}");
        *note = strdup (MESO_VAULT_ERASED);
        return *note ? 0 : -1;
    }
    size_t blen = 0, n = 0;
    uint8_t *bin = PQunescapeBytea ((const unsigned char *) PQgetvalue (res, r, 4), &blen);
    uint8_t *plain = bin ? meso_vault_open_dup (&p->key, p->id, PERSONAL_CHANGE_COLUMN, bin, blen, &n)
                         : NULL;
    PQfreemem (bin);
    Meso__V1__PatientChange *pc = plain ? meso__v1__patient_change__unpack (NULL, n, plain) : NULL;
    free (plain);
    if (!pc)
        return -1;
    size_t len = 0;
    len += (size_t) snprintf (codes + len, size - len, "{");
    for (size_t i = 0; i < pc->n_changes && len < size; i++)
        len += (size_t) snprintf (codes + len, size - len, "%s%s", i ? "," : "", pc->changes[i]);
    if (len < size)
        snprintf (codes + len, size - len, "}");
    *note = strdup (pc->note ? pc->note : "");
    meso__v1__patient_change__free_unpacked (pc, NULL);
    return *note ? 0 : -1;
}
