/* store_sealed.c -- the SQL of sealing session texts written before
 * migration 024 (sealed.c), and only that. */
#include "store.h"

#include <stdio.h>

PGresult *
store_sealed_legacy (meso_db_t *db, const char *after, int limit)
{
    char lim[16];
    snprintf (lim, sizeof lim, "%d", limit);
    const char *p[] = { after, lim };
    return meso_db_query (db,
        "SELECT appointment_id FROM scheduling.appointment"
        " WHERE appointment_id > $1 AND (notes IS NOT NULL AND notes <> ''"
        "   OR cancel_reason IS NOT NULL AND cancel_reason <> '' AND cancelled_by <> 'system')"
        " ORDER BY appointment_id LIMIT $2::int", 2, p);
}

PGresult *
store_sealed_row (meso_db_t *db, const char *appointment_id)
{
    const char *p[] = { appointment_id };
    return meso_db_query (db,
        "SELECT appointment_id, patient_id, nullif (notes, ''),"
        " CASE WHEN cancelled_by <> 'system' THEN nullif (cancel_reason, '') END"
        " FROM scheduling.appointment WHERE appointment_id = $1", 1, p);
}

int
store_sealed_texts (meso_db_t *db, const char *appointment_id, const char *notes,
                    const uint8_t *notes_sealed, size_t nlen, bool notes_set, const char *reason,
                    const uint8_t *reason_sealed, size_t rlen, bool reason_set)
{
    const char *values[] = { appointment_id, notes_set ? "t" : "f", notes, (const char *) notes_sealed,
                             reason_set ? "t" : "f", reason, (const char *) reason_sealed };
    int lengths[] = { 0, 0, 0, (int) nlen, 0, 0, (int) rlen };
    int formats[] = { 0, 0, 0, 1, 0, 0, 1 };
    PGresult *res = meso_db_query_bin (db,
        "UPDATE scheduling.appointment SET"
        " notes = CASE WHEN $2::boolean THEN $3 ELSE notes END,"
        " notes_sealed = CASE WHEN $2::boolean THEN $4::bytea ELSE notes_sealed END,"
        " cancel_reason = CASE WHEN $5::boolean THEN $6 ELSE cancel_reason END,"
        " cancel_reason_sealed = CASE WHEN $5::boolean THEN $7::bytea ELSE cancel_reason_sealed END"
        " WHERE appointment_id = $1", 7, values, lengths, formats);
    if (!res)
        return -1;
    PQclear (res);
    return 0;
}
