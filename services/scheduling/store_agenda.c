/* store_agenda.c -- the SQL of the front desk's reads: a clinic's agenda
 * over local days, and the lists of clinics, practitioners (with their
 * hours and days off) and rooms.
 *
 * Every list is keyset-paged (meso/page.h): WHERE (sort key) > (the
 * token's key) ORDER BY the key LIMIT size + 1, the extra row saying
 * whether a next page exists. The agenda's key is (start instant,
 * appointment id), read by the index appointment_clinic_start_idx
 * (clinic_id, lower(during)); its local days become instants with
 * scheduling.local_instant, so a day with a clock change has its own
 * length (23 or 25 hours). */
#include "store.h"

#include <stdio.h>
#include <string.h>

#include "store_sql.h"

PGresult *
store_agenda (meso_db_t *db, const store_agenda_query_t *q)
{
    char lim[16];
    snprintf (lim, sizeof lim, "%d", q->limit);
    const char *p[] = { q->clinic_id, q->from, q->to,
                        q->practitioner_id && *q->practitioner_id ? q->practitioner_id : NULL,
                        q->room_id && *q->room_id ? q->room_id : NULL,
                        q->include_cancelled ? "t" : "f",
                        q->after_us && *q->after_us ? q->after_us : NULL,
                        q->after_id && *q->after_id ? q->after_id : "",
                        lim, q->time_zone };
    /* The day bounds come from the zone as a parameter, not from the
     * joined clinic row: then they are index conditions of the prepared
     * (generic) plan too, which reads the day, not the clinic's years. */
    return meso_db_query (db,
        "SELECT a.appointment_id, a.course_id, a.session_number, co.sessions,"
        " " US ("lower(a.during)") ", " US ("upper(a.during)") ","
        " to_char(lower(a.during) AT TIME ZONE c.time_zone, 'YYYY-MM-DD\"T\"HH24:MI'),"
        " to_char(upper(a.during) AT TIME ZONE c.time_zone, 'YYYY-MM-DD\"T\"HH24:MI'),"
        " extract(epoch FROM scheduling.utc_offset(lower(a.during), c.time_zone))::int,"
        " a.practitioner_id, p.name, a.room_id, r.name, a.patient_id, a.status,"
        " array_to_string(a.areas, ',')"
        " FROM scheduling.clinic c"
        " JOIN scheduling.appointment a ON a.clinic_id = c.clinic_id"
        " JOIN scheduling.course co ON co.clinic_id = a.clinic_id AND co.course_id = a.course_id"
        " JOIN scheduling.practitioner p ON p.practitioner_id = a.practitioner_id"
        " JOIN scheduling.room r ON r.clinic_id = a.clinic_id AND r.room_id = a.room_id"
        " WHERE c.clinic_id = $1 AND a.clinic_id = $1"
        "   AND lower(a.during) >= scheduling.local_instant($2::date::timestamp, $10)"
        "   AND lower(a.during) < scheduling.local_instant(($3::date + 1)::timestamp, $10)"
        "   AND ($4::text IS NULL OR a.practitioner_id = $4)"
        "   AND ($5::text IS NULL OR a.room_id = $5)"
        "   AND ($6::bool OR a.status NOT IN ('cancelled', 'no_show'))"
        "   AND ($7::bigint IS NULL OR (lower(a.during), a.appointment_id)"
        "        > ('epoch'::timestamptz + $7::bigint * interval '1 microsecond', $8::text))"
        " ORDER BY lower(a.during), a.appointment_id LIMIT $9::int", 10, p);
}

PGresult *
store_clinics_page (meso_db_t *db, const char *after, int limit)
{
    char lim[16];
    snprintf (lim, sizeof lim, "%d", limit);
    const char *p[] = { after && *after ? after : "", lim };
    return meso_db_query (db,
        "SELECT clinic_id, name, time_zone, slot_minutes, spacing_min_days, taper_max_days,"
        " maintenance_sessions, cancel_notice_hours, allow_overlapping_courses"
        " FROM scheduling.clinic WHERE clinic_id > $1 ORDER BY clinic_id LIMIT $2::int", 2, p);
}

PGresult *
store_clinics_hours (meso_db_t *db, const char *ids_literal)
{
    const char *p[] = { ids_literal };
    return meso_db_query (db,
        "SELECT clinic_id, isodow, to_char(opens, 'HH24:MI'), to_char(closes, 'HH24:MI')"
        " FROM scheduling.clinic_hours WHERE clinic_id = ANY ($1::text[])"
        " ORDER BY clinic_id, isodow", 1, p);
}

PGresult *
store_practitioners_page (meso_db_t *db, const char *clinic_id, const char *after, int limit)
{
    char lim[16];
    snprintf (lim, sizeof lim, "%d", limit);
    const char *p[] = { clinic_id, after && *after ? after : "", lim };
    return meso_db_query (db,
        "SELECT p.practitioner_id, p.name FROM scheduling.practitioner p"
        " WHERE EXISTS (SELECT 1 FROM scheduling.practitioner_hours h"
        "               WHERE h.clinic_id = $1 AND h.practitioner_id = p.practitioner_id)"
        "   AND p.practitioner_id > $2"
        " ORDER BY p.practitioner_id LIMIT $3::int", 3, p);
}

PGresult *
store_practitioners_hours (meso_db_t *db, const char *ids_literal)
{
    const char *p[] = { ids_literal };
    return meso_db_query (db,
        "SELECT practitioner_id, clinic_id, isodow, to_char(starts, 'HH24:MI'), to_char(ends, 'HH24:MI')"
        " FROM scheduling.practitioner_hours WHERE practitioner_id = ANY ($1::text[])"
        " ORDER BY practitioner_id, clinic_id, isodow", 1, p);
}

PGresult *
store_practitioners_days_off (meso_db_t *db, const char *ids_literal, const char *from)
{
    const char *p[] = { ids_literal, from && *from ? from : NULL };
    return meso_db_query (db,
        "SELECT practitioner_id, day::text FROM scheduling.practitioner_day_off"
        " WHERE practitioner_id = ANY ($1::text[]) AND ($2::date IS NULL OR day >= $2::date)"
        " ORDER BY practitioner_id, day", 2, p);
}

PGresult *
store_rooms_page (meso_db_t *db, const char *clinic_id, const char *after, int limit)
{
    char lim[16];
    snprintf (lim, sizeof lim, "%d", limit);
    const char *p[] = { clinic_id, after && *after ? after : "", lim };
    return meso_db_query (db,
        "SELECT clinic_id, room_id, name, active FROM scheduling.room"
        " WHERE clinic_id = $1 AND room_id > $2 ORDER BY room_id LIMIT $3::int", 3, p);
}

PGresult *
store_courses_page (meso_db_t *db, const char *patient_id, const char *after_us, const char *after_id,
                    int limit)
{
    char lim[16];
    snprintf (lim, sizeof lim, "%d", limit);
    const char *p[] = { patient_id, after_us && *after_us ? after_us : NULL, after_id ? after_id : "", lim };
    return meso_db_query (db,
        "SELECT co.course_id, co.clinic_id, co.grade, array_to_string(co.areas, ','), co.status,"
        " co.sessions, co.non_responder,"
        " count(a.appointment_id) FILTER (WHERE a.status = 'completed'),"
        " count(a.appointment_id) FILTER (WHERE a.status IN ('pending', 'booked', 'on_hold', 'started')),"
        " coalesce(to_char(min(lower(a.during)) AT TIME ZONE c.time_zone, 'YYYY-MM-DD'), ''),"
        " coalesce(to_char(max(lower(a.during)) AT TIME ZONE c.time_zone, 'YYYY-MM-DD'), ''),"
        " coalesce(to_char(min(lower(a.during)) FILTER (WHERE a.status IN ('pending', 'booked', 'on_hold')"
        "   AND lower(a.during) >= now()) AT TIME ZONE c.time_zone, 'YYYY-MM-DD\"T\"HH24:MI'), ''),"
        " " US ("co.created_at")
        " FROM scheduling.course co"
        " JOIN scheduling.clinic c ON c.clinic_id = co.clinic_id"
        " LEFT JOIN scheduling.appointment a ON a.clinic_id = co.clinic_id AND a.course_id = co.course_id"
        " WHERE co.patient_id = $1 AND co.status <> 'failed'"
        "   AND ($2::bigint IS NULL OR (co.created_at, co.course_id)"
        "        > ('epoch'::timestamptz + $2::bigint * interval '1 microsecond', $3::text))"
        " GROUP BY co.clinic_id, co.course_id, c.time_zone"
        " ORDER BY co.created_at, co.course_id LIMIT $4::int", 4, p);
}
