/* store_reports.c -- the SQL of scheduling's reports (reports.c) and of
 * the per-clinic gauges main.c's tick refreshes.
 *
 * Every report reads one clinic over a range of its local days [from,
 * to]. A session belongs to the local day its slot starts on, in the
 * clinic's zone; the range's bounds are the local midnights as instants
 * (scheduling.local_instant, migration 009), so the index on (clinic_id,
 * lower(during)) of migration 019 answers the range directly.
 *
 * Counting is SQL's; dividing (rates, weeks' labels) is the caller's,
 * through meso/report.h, so every service rounds the same way. Minutes
 * are elapsed minutes: a working day that contains a daylight-saving
 * change is an hour shorter or longer, as it was lived. */
#include "store.h"

#include <stdio.h>
#include <stdlib.h>

#include "store_sql.h"

/* The clinic and the instants that bound its local days [$2, $3]. */
#define CLINIC_RANGE \
    "c AS (SELECT clinic_id, time_zone, " \
    "        scheduling.local_instant ($2::date::timestamp, time_zone) AS t0, " \
    "        scheduling.local_instant (($3::date + 1)::timestamp, time_zone) AS t1 " \
    "      FROM scheduling.clinic WHERE clinic_id = $1) "

/* The statuses of a session that holds a practitioner's time: what the
 * exclusion constraints count, less 'pending' (a booking in flight). */
#define BOOKED "('booked', 'on_hold', 'started', 'completed')"

PGresult *
store_report_utilisation (meso_db_t *db, const char *clinic, const char *from, const char *to,
                          const char *practitioner)
{
    const char *p[] = { clinic, from, to, practitioner ? practitioner : "" };
    return meso_db_query (db,
        "WITH " CLINIC_RANGE ", "
        "d AS (SELECT g::date AS day FROM generate_series ($2::date, $3::date, interval '1 day') g), "
        /* Working hours inside opening hours, days off left out. */
        "av AS (SELECT ph.practitioner_id, d.day, "
        "         extract (epoch FROM scheduling.local_instant (d.day + least (ph.ends, h.closes), c.time_zone) "
        "                  - scheduling.local_instant (d.day + greatest (ph.starts, h.opens), c.time_zone)) / 60 AS m "
        "       FROM c CROSS JOIN d "
        "       JOIN scheduling.practitioner_hours ph ON ph.clinic_id = c.clinic_id "
        "            AND ph.isodow = extract (isodow FROM d.day) "
        "       JOIN scheduling.clinic_hours h ON h.clinic_id = c.clinic_id AND h.isodow = ph.isodow "
        "       WHERE least (ph.ends, h.closes) > greatest (ph.starts, h.opens) "
        "         AND ($4 = '' OR ph.practitioner_id = $4) "
        "         AND NOT EXISTS (SELECT 1 FROM scheduling.practitioner_day_off o "
        "                         WHERE o.practitioner_id = ph.practitioner_id AND o.day = d.day)), "
        "bk AS (SELECT a.practitioner_id, (lower (a.during) AT TIME ZONE c.time_zone)::date AS day, "
        "         extract (epoch FROM upper (a.during) - lower (a.during)) / 60 AS m "
        "       FROM c JOIN scheduling.appointment a ON a.clinic_id = c.clinic_id "
        "       WHERE lower (a.during) >= c.t0 AND lower (a.during) < c.t1 "
        "         AND a.status IN " BOOKED " AND ($4 = '' OR a.practitioner_id = $4)) "
        "SELECT practitioner_id, date_trunc ('week', day)::date - date '1970-01-01', "
        "       round (sum (avail))::bigint, round (sum (booked))::bigint "
        "FROM (SELECT practitioner_id, day, m AS avail, 0 AS booked FROM av "
        "      UNION ALL SELECT practitioner_id, day, 0, m FROM bk) x "
        "GROUP BY 1, 2 ORDER BY 2, 1", 4, p);
}

PGresult *
store_report_attendance (meso_db_t *db, const char *clinic, const char *from, const char *to)
{
    const char *p[] = { clinic, from, to };
    return meso_db_query (db,
        "WITH " CLINIC_RANGE
        "SELECT a.practitioner_id, "
        "  count (*) FILTER (WHERE a.status IN ('started', 'completed')), "
        "  count (*) FILTER (WHERE a.status = 'no_show'), "
        "  count (*) FILTER (WHERE a.status = 'cancelled' AND a.cancelled_late), "
        "  count (*) FILTER (WHERE a.status = 'cancelled' AND NOT a.cancelled_late), "
        "  count (*) FILTER (WHERE a.status IN ('booked', 'on_hold')) "
        "FROM c JOIN scheduling.appointment a ON a.clinic_id = c.clinic_id "
        "WHERE lower (a.during) >= c.t0 AND lower (a.during) < c.t1 AND a.status <> 'pending' "
        "GROUP BY 1 ORDER BY 1", 3, p);
}

PGresult *
store_report_outcomes (meso_db_t *db, const char *clinic, const char *from, const char *to)
{
    const char *p[] = { clinic, from, to };
    /* A course starts on its session 1's day (a reschedule moves the
     * session, not its number). */
    return meso_db_query (db,
        "WITH " CLINIC_RANGE ", "
        "k AS (SELECT k.course_id, k.grade, k.non_responder "
        "      FROM c JOIN scheduling.appointment a1 ON a1.clinic_id = c.clinic_id "
        "      JOIN scheduling.course k ON k.clinic_id = a1.clinic_id AND k.course_id = a1.course_id "
        "      WHERE lower (a1.during) >= c.t0 AND lower (a1.during) < c.t1 "
        "        AND a1.session_number = 1 AND k.status = 'booked'), "
        "s AS (SELECT k.course_id, k.grade, k.non_responder, "
        "        count (*) FILTER (WHERE a.status = 'completed') AS done, "
        "        count (a.improvement_score) FILTER (WHERE a.status = 'completed') AS recorded "
        "      FROM k JOIN scheduling.appointment a ON a.course_id = k.course_id "
        "      GROUP BY 1, 2, 3) "
        "SELECT g.grade, count (s.course_id), count (*) FILTER (WHERE s.recorded >= 5), "
        "       count (*) FILTER (WHERE s.non_responder), coalesce (sum (s.done), 0)::bigint, "
        "       coalesce (sum (s.recorded), 0)::bigint "
        "FROM generate_series (1, 3) AS g (grade) LEFT JOIN s ON s.grade = g.grade "
        "GROUP BY g.grade ORDER BY g.grade", 3, p);
}

PGresult *
store_report_today (meso_db_t *db, int limit)
{
    char l[16];
    snprintf (l, sizeof l, "%d", limit);
    const char *p[] = { l };
    return meso_db_query (db,
        "WITH c AS (SELECT clinic_id, time_zone, "
        "             scheduling.local_instant ((now () AT TIME ZONE time_zone)::date::timestamp, time_zone) AS t0, "
        "             scheduling.local_instant (((now () AT TIME ZONE time_zone)::date + 1)::timestamp, time_zone) AS t1 "
        "           FROM scheduling.clinic ORDER BY clinic_id LIMIT $1::int) "
        /* LATERAL: each clinic's day read on appointment_clinic_start_idx.
         * As a join, the bounds that differ by clinic were a join filter
         * and the plan a scan of every appointment (3.5 s on 3 million). */
        "SELECT c.clinic_id, x.booked, x.done FROM c CROSS JOIN LATERAL ("
        " SELECT count (*) FILTER (WHERE a.status IN ('booked', 'on_hold', 'started', 'completed', 'no_show'))"
        "          AS booked,"
        "        count (*) FILTER (WHERE a.status = 'completed') AS done"
        " FROM scheduling.appointment a WHERE a.clinic_id = c.clinic_id"
        "  AND lower (a.during) >= c.t0 AND lower (a.during) < c.t1) x "
        "ORDER BY c.clinic_id", 1, p);
}
