/* store_course_changes.c -- the SQL of whole-course changes
 * (course_changes.c) and of sessions re-planned during a booking
 * (saga.c, rows.c): migration 031.
 *
 * A RescheduleCourse writes its change row and items in one transaction
 * before inventory re-dates anything, and marks the row done in the
 * transaction that moves the sessions; recovery reads the pending rows
 * back and undoes them (course_changes.c says why this order). */
#include "store.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_sql.h"

#define LOCAL_DAY "((lower(a.during) AT TIME ZONE c.time_zone)::date - date '1970-01-01')"

int
store_course_lock_remaining (meso_db_t *db, const char *course_id)
{
    const char *p[] = { course_id };
    PGresult *res = meso_db_query (db, "SELECT 1 FROM scheduling.appointment WHERE course_id = $1"
                                   " AND status IN ('booked', 'on_hold') AND lower(during) > now()"
                                   " ORDER BY session_number FOR UPDATE", 1, p);
    if (!res)
        return -1;
    PQclear (res);
    return 0;
}

int
store_patient_days_except_course (meso_db_t *db, const char *patient_id, const char *course_id, int32_t *out,
                                  int max)
{
    /* The course's own remaining sessions move: they do not count. */
    const char *p[] = { patient_id, course_id };
    PGresult *res = meso_db_query (db,
        "SELECT " LOCAL_DAY " FROM scheduling.appointment a JOIN scheduling.clinic c USING (clinic_id)"
        " WHERE " PATIENT_FROM ("$1", "now() - interval '8 days'") " AND a.status IN " ACTIVE
        " AND NOT (a.course_id = $2 AND a.status IN ('booked', 'on_hold') AND lower(a.during) > now())"
        " ORDER BY 1 LIMIT 300", 2, p);
    if (!res)
        return -1;
    int n = PQntuples (res) < max ? PQntuples (res) : max;
    for (int i = 0; i < n; i++)
        out[i] = (int32_t) atoi (PQgetvalue (res, i, 0));
    PQclear (res);
    return n;
}

int
store_change_insert (meso_db_t *db, const char *clinic_id, const char *change_id, const char *course_id)
{
    const char *p[] = { clinic_id, change_id, course_id };
    return meso_db_exec (db, "INSERT INTO scheduling.course_change (clinic_id, change_id, course_id, status)"
                         " VALUES ($1, $2, $3, 'pending')", 3, p);
}

int
store_change_item (meso_db_t *db, const char *clinic_id, const char *change_id, const char *appointment_id,
                   const char *old_date, const char *new_date)
{
    const char *p[] = { clinic_id, change_id, appointment_id, old_date, new_date };
    return meso_db_exec (db, "INSERT INTO scheduling.course_change_item"
                         " (clinic_id, change_id, appointment_id, old_date, new_date)"
                         " VALUES ($1, $2, $3, $4::date, $5::date)", 5, p);
}

int
store_change_finish (meso_db_t *db, const char *change_id, bool done)
{
    const char *p[] = { change_id, done ? "done" : "undone" };
    PGresult *res = meso_db_query (db, "UPDATE scheduling.course_change SET status = $2, finished_at = now()"
                                   " WHERE change_id = $1 AND status = 'pending' RETURNING 1", 2, p);
    if (!res)
        return -1;
    int n = PQntuples (res);
    PQclear (res);
    return n;
}

PGresult *
store_change_pending (meso_db_t *db)
{
    return meso_db_query (db, "SELECT change_id FROM scheduling.course_change WHERE status = 'pending'"
                          " ORDER BY created_at LIMIT 100", 0, NULL);
}

PGresult *
store_change_items (meso_db_t *db, const char *change_id)
{
    const char *p[] = { change_id };
    return meso_db_query (db, "SELECT i.appointment_id, i.clinic_id, i.old_date::text"
                          " FROM scheduling.course_change_item i JOIN scheduling.course_change c"
                          " ON c.clinic_id = i.clinic_id AND c.change_id = i.change_id"
                          " WHERE i.change_id = $1 AND c.status = 'pending' ORDER BY i.appointment_id", 1, p);
}

int
store_replanned_insert (meso_db_t *db, const char *clinic_id, const char *course_id, int number,
                        const char *appointment_id, int64_t original_us, const char *original_local)
{
    char num[16], us[32];
    snprintf (num, sizeof num, "%d", number);
    snprintf (us, sizeof us, "%" PRId64, original_us);
    const char *p[] = { clinic_id, course_id, num, appointment_id, us, original_local };
    return meso_db_exec (db, "INSERT INTO scheduling.course_replanned"
                         " (clinic_id, course_id, session_number, appointment_id, original_start, original_local)"
                         " VALUES ($1, $2, $3::int, $4,"
                         "  'epoch'::timestamptz + $5::bigint * interval '1 microsecond', $6)", 6, p);
}

PGresult *
store_replanned_get (meso_db_t *db, const char *course_id)
{
    const char *p[] = { course_id };
    return meso_db_query (db, REPLANNED_GET, 1, p);
}

int
store_course_free_remaining (meso_db_t *db, const char *course_id)
{
    /* Inside a transaction that puts each back (store_session_place) or
     * rolls back: the course's own remaining sessions stop blocking the
     * slots the new plan may give them. */
    const char *p[] = { course_id };
    PGresult *res = meso_db_query (db, "UPDATE scheduling.appointment SET status = 'cancelled'"
                                   " WHERE course_id = $1 AND status = 'booked' AND lower(during) > now()"
                                   " RETURNING 1", 1, p);
    if (!res)
        return -1;
    int n = PQntuples (res);
    PQclear (res);
    return n;
}

int
store_session_place (meso_db_t *db, const char *appointment_id, const char *practitioner, const char *room,
                     int64_t start_us, int64_t end_us)
{
    char sts[32], ens[32];
    snprintf (sts, sizeof sts, "%" PRId64, start_us);
    snprintf (ens, sizeof ens, "%" PRId64, end_us);
    const char *up[] = { appointment_id, practitioner, room, sts, ens };
    return meso_db_exec (db, "UPDATE scheduling.appointment SET practitioner_id = $2, room_id = $3,"
                         " during = tstzrange('epoch'::timestamptz + $4::bigint * interval '1 microsecond',"
                         "   'epoch'::timestamptz + $5::bigint * interval '1 microsecond', '[)'),"
                         " status = 'booked', updated_at = now() WHERE appointment_id = $1", 5, up);
}
