/* store_courses.c -- the SQL of the course rules (course_rules.c,
 * retreatment.c): the patient's session days across every course, the
 * spans of the patient's active courses, the first date a booking asked
 * for, and the grade 1 courses whose yearly session falls due.
 *
 * A session's day is its local date in its own clinic's zone; "active"
 * is store_sql.h's ACTIVE (a completed session still counts: the week
 * after it is the bruising the 7-day rule protects). */
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_sql.h"

#define LOCAL_DAY "((lower(a.during) AT TIME ZONE c.time_zone)::date - date '1970-01-01')"

int
store_patient_days (meso_db_t *db, const char *patient_id, const char *except_appointment, int32_t *out,
                    int max)
{
    /* Sessions more than 8 days back cannot be within a week of a
     * session booked today or later. */
    const char *p[] = { patient_id, except_appointment ? except_appointment : "" };
    PGresult *res = meso_db_query (db,
        "SELECT " LOCAL_DAY " FROM scheduling.appointment a JOIN scheduling.clinic c USING (clinic_id)"
        " WHERE " PATIENT_FROM ("$1", "now() - interval '8 days'")
        " AND a.appointment_id <> $2 AND a.status IN " ACTIVE " ORDER BY 1 LIMIT 300", 2, p);
    if (!res)
        return -1;
    int n = PQntuples (res) < max ? PQntuples (res) : max;
    for (int i = 0; i < n; i++)
        out[i] = (int32_t) atoi (PQgetvalue (res, i, 0));
    PQclear (res);
    return n;
}

PGresult *
store_patient_courses (meso_db_t *db, const char *patient_id)
{
    const char *p[] = { patient_id };
    return meso_db_query (db,
        "SELECT a.course_id, min(" LOCAL_DAY "), max(" LOCAL_DAY ")"
        " FROM scheduling.appointment a JOIN scheduling.clinic c USING (clinic_id)"
        " JOIN scheduling.course k ON k.course_id = a.course_id"
        " WHERE " PATIENT_IS ("$1") " AND a.status IN " ACTIVE
        " AND k.sessions > 1"
        " AND k.status IN ('pending', 'booked')"
        " GROUP BY a.course_id"
        " HAVING bool_or(a.status IN ('pending', 'booked', 'on_hold', 'started'))"
        " ORDER BY 2 LIMIT 50", 1, p);
}

int
store_course_note (meso_db_t *db, const char *course_id, const char *requested_first, const char *note)
{
    const char *p[] = { course_id, requested_first, note ? note : "" };
    return meso_db_exec (db, "UPDATE scheduling.course SET requested_first_date = $2::date,"
                         " first_date_note = $3 WHERE course_id = $1", 3, p);
}

PGresult *
store_retreatment_candidates (meso_db_t *db, int notice_days, int limit)
{
    char nd[16], lim[16];
    snprintf (nd, sizeof nd, "%d", notice_days);
    snprintf (lim, sizeof lim, "%d", limit);
    const char *p[] = { nd, lim };
    /* The SQL narrows to the due ones; planner_retreatment_announce
     * decides each (the same rule, in one tested place). */
    return meso_db_query (db,
        "SELECT k.course_id, k.clinic_id, k.patient_id, max(" LOCAL_DAY "),"
        " (now() AT TIME ZONE c.time_zone)::date - date '1970-01-01'"
        " FROM scheduling.course k JOIN scheduling.appointment a ON a.course_id = k.course_id"
        " JOIN scheduling.clinic c ON c.clinic_id = a.clinic_id"
        " WHERE k.grade = 1 AND k.status = 'booked' AND k.retreatment_announced_at IS NULL"
        " AND a.status = 'completed'"
        " GROUP BY k.course_id, k.clinic_id, k.patient_id, c.time_zone"
        " HAVING max((lower(a.during) AT TIME ZONE c.time_zone)::date) + interval '1 year'"
        "        <= (now() AT TIME ZONE c.time_zone)::date + make_interval(days => $1::int)"
        " ORDER BY 4 LIMIT $2::int", 2, p);
}

int
store_retreatment_mark (meso_db_t *db, const char *course_id)
{
    const char *p[] = { course_id };
    PGresult *res = meso_db_query (db, "UPDATE scheduling.course SET retreatment_announced_at = now()"
                                   " WHERE course_id = $1 AND retreatment_announced_at IS NULL"
                                   " RETURNING 1", 1, p);
    if (!res)
        return -1;
    int n = PQntuples (res);
    PQclear (res);
    return n;
}
