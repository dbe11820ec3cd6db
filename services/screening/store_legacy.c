/* store_legacy.c -- the SQL of sealing rows written before migration 023
 * (legacy.c), and only that.
 *
 * Those rows hold personal and health data in plaintext columns. Each is
 * rewritten once: the same content sealed in, the plaintext columns set
 * to NULL. Migration 023's triggers allow exactly that rewrite of the
 * append-only screenings and reported changes, and the deletion of a
 * sealed screening's area and allergy rows (its record holds them). */
#include "screening.h"

#include <stdio.h>
#include <stdlib.h>

PGresult *
store_legacy_patients (meso_db_t *db, int limit)
{
    char lim[16];
    snprintf (lim, sizeof lim, "%d", limit);
    const char *params[] = { lim };
    return meso_db_query (db,
        "SELECT id FROM ("
        "  SELECT id FROM screening.patients WHERE personal IS NULL AND given_name IS NOT NULL"
        "  UNION SELECT patient_id FROM screening.screenings WHERE NOT sealed"
        "  UNION SELECT patient_id FROM screening.patient_changes WHERE sealed IS NULL) u"
        " ORDER BY id LIMIT $1::int", 1, params);
}

int
store_legacy_seal_patient (meso_db_t *db, const char *id, const uint8_t *sealed, size_t len)
{
    const char *values[] = { id, (const char *) sealed };
    int lengths[] = { 0, (int) len }, formats[] = { 0, 1 };
    PGresult *res = meso_db_query_bin (db,
        "UPDATE screening.patients SET personal = $2, given_name = NULL, family_name = NULL,"
        " birth_date = NULL, sex = NULL, phone = NULL, email = NULL"
        " WHERE id = $1::uuid AND personal IS NULL", 2, values, lengths, formats);
    if (!res)
        return -1;
    PQclear (res);
    return 0;
}

PGresult *
store_legacy_screenings (meso_db_t *db, const char *patient_id)
{
    const char *params[] = { patient_id };
    return meso_db_query (db, "SELECT id, record FROM screening.screenings"
                          " WHERE patient_id = $1::uuid AND NOT sealed FOR UPDATE", 1, params);
}

int
store_legacy_seal_screening (meso_db_t *db, const char *id, const uint8_t *sealed, size_t len)
{
    const char *values[] = { id, (const char *) sealed };
    int lengths[] = { 0, (int) len }, formats[] = { 0, 1 };
    PGresult *res = meso_db_query_bin (db,
        "UPDATE screening.screenings SET record = $2, sealed = true, pregnancy = NULL,"
        " breastfeeding = NULL, diabetes = NULL, active_infection = NULL, septicaemia = NULL,"
        " immunocompromised = NULL, liver_failure = NULL, kidney_failure = NULL,"
        " coagulation_disorder = NULL, menstrual_disorder = NULL, cancer = NULL,"
        " heart_arrhythmia = NULL, blood_clots = NULL, height_mm = NULL, weight_g = NULL,"
        " medication_count = NULL, last_nsaid_dose = NULL, earliest_first_session = NULL"
        " WHERE id = $1::uuid AND NOT sealed", 2, values, lengths, formats);
    if (!res)
        return -1;
    PQclear (res);
    const char *params[] = { id };
    if (meso_db_exec (db, "DELETE FROM screening.screening_areas WHERE screening_id = $1::uuid",
                      1, params) != 0
        || meso_db_exec (db, "DELETE FROM screening.screening_allergies WHERE screening_id = $1::uuid",
                         1, params) != 0)
        return -1;
    return 0;
}

PGresult *
store_legacy_changes (meso_db_t *db, const char *patient_id)
{
    const char *params[] = { patient_id };
    return meso_db_query (db, "SELECT id, changes::text, note FROM screening.patient_changes"
                          " WHERE patient_id = $1::uuid AND sealed IS NULL FOR UPDATE", 1, params);
}

int
store_legacy_seal_change (meso_db_t *db, const char *id, const uint8_t *sealed, size_t len)
{
    const char *values[] = { id, (const char *) sealed };
    int lengths[] = { 0, (int) len }, formats[] = { 0, 1 };
    PGresult *res = meso_db_query_bin (db,
        "UPDATE screening.patient_changes SET sealed = $2, changes = NULL, note = NULL"
        " WHERE id = $1::bigint AND sealed IS NULL", 2, values, lengths, formats);
    if (!res)
        return -1;
    PQclear (res);
    return 0;
}
