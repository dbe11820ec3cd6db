/* store_holds.c -- the SQL of held sessions: a reported change puts a
 * patient's upcoming booked sessions on hold, a new screening releases or
 * cancels them (holds.c decides, lifecycle.c names the statuses).
 *
 * Each change is one statement over all of the patient's sessions in
 * every clinic (a patient moves between clinics; the screening travels
 * with them) and returns the appointment ids it changed, in start order,
 * for the caller to announce one by one. */
#include "store.h"

#include <inttypes.h>
#include <stdio.h>

#include "store_sql.h"

#define S_CHANGED ") SELECT appointment_id FROM u ORDER BY st, appointment_id"

PGresult *
store_hold_sessions (meso_db_t *db, const char *patient_id, int64_t since_us, const char *event_id)
{
    char since[32];
    snprintf (since, sizeof since, "%" PRId64, since_us);
    const char *p[] = { patient_id, since, event_id };
    return meso_db_query (db,
        "WITH u AS (UPDATE scheduling.appointment a SET status = 'on_hold',"
        "  held_since = 'epoch'::timestamptz + $2::bigint * interval '1 microsecond',"
        "  hold_event = $3, updated_at = now()"
        " WHERE " PATIENT_FROM ("$1", "'epoch'::timestamptz + $2::bigint * interval '1 microsecond'")
        "  AND a.status = 'booked'"
        " RETURNING appointment_id, lower(during) AS st" S_CHANGED, 3, p);
}

PGresult *
store_hold_release (meso_db_t *db, const char *patient_id)
{
    const char *p[] = { patient_id };
    return meso_db_query (db,
        "WITH u AS (UPDATE scheduling.appointment SET status = 'booked', held_since = NULL,"
        "  hold_event = NULL, updated_at = now()"
        " WHERE patient_id = $1 AND status = 'on_hold'"
        " RETURNING appointment_id, lower(during) AS st" S_CHANGED, 1, p);
}

PGresult *
store_hold_cancel (meso_db_t *db, const char *patient_id, const char *reason)
{
    const char *p[] = { patient_id, reason };
    return meso_db_query (db,
        "WITH u AS (UPDATE scheduling.appointment SET status = 'cancelled', cancelled_at = now(),"
        "  cancelled_by = 'system', cancel_reason = $2, updated_at = now()"
        " WHERE patient_id = $1 AND status = 'on_hold'"
        " RETURNING appointment_id, lower(during) AS st" S_CHANGED, 2, p);
}
