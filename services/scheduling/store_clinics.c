/* store_clinics.c -- the SQL of the clinics aggregate: clinics and their
 * hours, practitioners (hours per clinic, days off), rooms, and the
 * one-day slot queries a clinic answers (GetAvailability's free slots,
 * the facts of a slot asked for by hand).
 *
 * Zone arithmetic is PostgreSQL's: a local wall time of a clinic becomes an
 * instant with scheduling.local_instant(date + time, clinic.time_zone)
 * (AT TIME ZONE, reading an ambiguous time as its first occurrence:
 * deploy/sql/008), and an instant becomes a local time with instant AT
 * TIME ZONE clinic.time_zone. A local time exists when it reads back as
 * itself; one that does not (a daylight-saving gap) is never offered as a
 * free slot, and is reported with its gap (scheduling.local_gap) for
 * when.c to refuse. The daemon never touches TZ. Free slots are computed in one statement per
 * day (generate_series over the opening hours, a LATERAL pick of the first
 * free practitioner and room); they are a preview only: booking inserts
 * and lets the exclusion constraints decide. Whether a slot asked for by
 * hand may be taken is planner.c's decision from the facts read here. */
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_sql.h"

static void
s_copy (char *dst, size_t size, const char *src)
{
    snprintf (dst, size, "%s", src ? src : "");
}

int
store_clinic_get (meso_db_t *db, const char *clinic_id, store_clinic_t *out)
{
    const char *p[] = { clinic_id };
    PGresult *res = meso_db_query (db,
        "SELECT clinic_id, name, time_zone, slot_minutes, spacing_min_days, taper_max_days,"
        " maintenance_sessions, cancel_notice_hours, (now() AT TIME ZONE time_zone)::date - date '1970-01-01',"
        " " US ("now()") ", allow_overlapping_courses"
        " FROM scheduling.clinic WHERE clinic_id = $1",
        1, p);
    if (!res)
        return -1;
    int found = PQntuples (res) == 1;
    if (found) {
        s_copy (out->clinic_id, sizeof out->clinic_id, PQgetvalue (res, 0, 0));
        s_copy (out->name, sizeof out->name, PQgetvalue (res, 0, 1));
        s_copy (out->time_zone, sizeof out->time_zone, PQgetvalue (res, 0, 2));
        out->slot_minutes = atoi (PQgetvalue (res, 0, 3));
        out->course.spacing_min_days = atoi (PQgetvalue (res, 0, 4));
        out->course.taper_max_days = atoi (PQgetvalue (res, 0, 5));
        out->course.maintenance_sessions = atoi (PQgetvalue (res, 0, 6));
        out->cancel_notice_hours = atoi (PQgetvalue (res, 0, 7));
        out->today = (int32_t) atoi (PQgetvalue (res, 0, 8));
        out->now_us = strtoll (PQgetvalue (res, 0, 9), NULL, 10);
        out->allow_overlapping_courses = strcmp (PQgetvalue (res, 0, 10), "t") == 0;
    }
    PQclear (res);
    return found;
}

int
store_zone_known (meso_db_t *db, const char *zone)
{
    const char *p[] = { zone };
    PGresult *res = meso_db_query (db, "SELECT 1 FROM pg_timezone_names WHERE name = $1", 1, p);
    if (!res)
        return -1;
    int n = PQntuples (res) > 0;
    PQclear (res);
    return n;
}

PGresult *
store_clinic_hours (meso_db_t *db, const char *clinic_id)
{
    const char *p[] = { clinic_id };
    return meso_db_query (db,
        "SELECT isodow, to_char(opens, 'HH24:MI'), to_char(closes, 'HH24:MI')"
        " FROM scheduling.clinic_hours WHERE clinic_id = $1 ORDER BY isodow", 1, p);
}

int
store_clinic_upsert (meso_db_t *db, const Meso__V1__Clinic *c)
{
    char slot[16], sp[16], tp[16], mt[16], nh[16];
    const Meso__V1__CourseSettings *cs = c->course;
    snprintf (slot, sizeof slot, "%u", c->slot_minutes ? c->slot_minutes : 60);
    snprintf (sp, sizeof sp, "%u", cs && cs->spacing_min_days ? cs->spacing_min_days : 7);
    snprintf (tp, sizeof tp, "%u", cs && cs->taper_max_days ? cs->taper_max_days : 28);
    snprintf (mt, sizeof mt, "%u", cs ? cs->maintenance_sessions : 0);
    snprintf (nh, sizeof nh, "%u", cs && cs->cancel_notice_hours ? cs->cancel_notice_hours : 24);
    const char *overlap = cs && cs->allow_overlapping_courses ? "t" : "f";
    /* No course settings given: a new clinic takes the defaults, an
     * existing one keeps its own ($10). */
    const char *keep = cs ? "f" : "t";
    const char *p[] = { c->clinic_id, c->name, c->time_zone, slot, sp, tp, mt, nh, overlap, keep };
#define KEEP(col) " " col " = CASE WHEN $10::bool THEN cl." col " ELSE EXCLUDED." col " END"
    PGresult *res = meso_db_query (db,
        "INSERT INTO scheduling.clinic AS cl (clinic_id, name, time_zone, slot_minutes,"
        " spacing_min_days, taper_max_days, maintenance_sessions, cancel_notice_hours,"
        " allow_overlapping_courses)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        " ON CONFLICT (clinic_id) DO UPDATE SET name = EXCLUDED.name,"
        " time_zone = EXCLUDED.time_zone, slot_minutes = EXCLUDED.slot_minutes,"
        KEEP ("spacing_min_days") "," KEEP ("taper_max_days") "," KEEP ("maintenance_sessions") ","
        KEEP ("cancel_notice_hours") "," KEEP ("allow_overlapping_courses") ", updated_at = now()"
        " RETURNING (xmax = 0)", 10, p);
#undef KEEP
    if (!res)
        return -1;
    int created = strcmp (PQgetvalue (res, 0, 0), "t") == 0;
    PQclear (res);
    const char *d[] = { c->clinic_id };
    if (meso_db_exec (db, "DELETE FROM scheduling.clinic_hours WHERE clinic_id = $1", 1, d) != 0)
        return -1;
    for (size_t i = 0; i < c->n_hours; i++) {
        char dow[8];
        snprintf (dow, sizeof dow, "%d", c->hours[i]->weekday);
        const char *h[] = { c->clinic_id, dow, c->hours[i]->opens, c->hours[i]->closes };
        if (meso_db_exec (db, "INSERT INTO scheduling.clinic_hours (clinic_id, isodow, opens, closes)"
                          " VALUES ($1, $2, $3::time, $4::time)", 4, h) != 0)
            return -1;
    }
    return created;
}

int
store_practitioner_upsert (meso_db_t *db, const Meso__V1__Practitioner *pr, bool keep_other_clinics,
                           bool keep_days_off)
{
    const char *p[] = { pr->practitioner_id, pr->name };
    PGresult *res = meso_db_query (db,
        "INSERT INTO scheduling.practitioner (practitioner_id, name) VALUES ($1, $2)"
        " ON CONFLICT (practitioner_id) DO UPDATE SET name = EXCLUDED.name, updated_at = now()"
        " RETURNING (xmax = 0)", 2, p);
    if (!res)
        return -1;
    int created = strcmp (PQgetvalue (res, 0, 0), "t") == 0;
    PQclear (res);
    const char *d[] = { pr->practitioner_id };
    if (!keep_other_clinics
        && meso_db_exec (db, "DELETE FROM scheduling.practitioner_hours WHERE practitioner_id = $1", 1, d))
        return -1;
    for (size_t i = 0; keep_other_clinics && i < pr->n_clinics; i++) {
        const char *dc[] = { pr->practitioner_id, pr->clinics[i]->clinic_id };
        if (meso_db_exec (db, "DELETE FROM scheduling.practitioner_hours"
                              " WHERE practitioner_id = $1 AND clinic_id = $2", 2, dc))
            return -1;
    }
    if (!keep_days_off
        && meso_db_exec (db, "DELETE FROM scheduling.practitioner_day_off WHERE practitioner_id = $1", 1, d))
        return -1;
    for (size_t i = 0; i < pr->n_clinics; i++) {
        const Meso__V1__PractitionerClinic *pc = pr->clinics[i];
        for (size_t k = 0; k < pc->n_hours; k++) {
            char dow[8];
            snprintf (dow, sizeof dow, "%d", pc->hours[k]->weekday);
            const char *h[] = { pc->clinic_id, pr->practitioner_id, dow, pc->hours[k]->opens,
                                pc->hours[k]->closes };
            if (meso_db_exec (db, "INSERT INTO scheduling.practitioner_hours"
                              " (clinic_id, practitioner_id, isodow, starts, ends)"
                              " VALUES ($1, $2, $3, $4::time, $5::time)", 5, h) != 0)
                return -1;
        }
    }
    for (size_t i = 0; i < pr->n_days_off; i++) {
        const char *h[] = { pr->practitioner_id, pr->days_off[i] };
        if (meso_db_exec (db, "INSERT INTO scheduling.practitioner_day_off (practitioner_id, day)"
                          " VALUES ($1, $2::date) ON CONFLICT DO NOTHING", 2, h) != 0)
            return -1;
    }
    return created;
}

PGresult *
store_practitioner_clinics (meso_db_t *db, const char *practitioner_id)
{
    const char *p[] = { practitioner_id };
    if (meso_db_exec (db, "SELECT 1 FROM scheduling.practitioner WHERE practitioner_id = $1 FOR UPDATE",
                      1, p) != 0)
        return NULL;
    return meso_db_query (db, "SELECT DISTINCT clinic_id FROM scheduling.practitioner_hours"
                          " WHERE practitioner_id = $1 ORDER BY clinic_id", 1, p);
}

int
store_room_upsert (meso_db_t *db, const Meso__V1__Room *r, bool *active)
{
    /* active absent ($4 NULL): a new room is active, an existing one keeps its state. */
    const char *p[] = { r->clinic_id, r->room_id, r->name ? r->name : "",
                        r->state_case == MESO__V1__ROOM__STATE_ACTIVE ? (r->active ? "t" : "f") : NULL };
    PGresult *res = meso_db_query (db,
        "INSERT INTO scheduling.room AS rm (clinic_id, room_id, name, active)"
        " VALUES ($1, $2, $3, coalesce ($4::bool, true))"
        " ON CONFLICT (clinic_id, room_id) DO UPDATE SET name = EXCLUDED.name,"
        " active = coalesce ($4::bool, rm.active)"
        " RETURNING (xmax = 0), rm.active", 4, p);
    if (!res)
        return -1;
    int created = strcmp (PQgetvalue (res, 0, 0), "t") == 0;
    *active = strcmp (PQgetvalue (res, 0, 1), "t") == 0;
    PQclear (res);
    return created;
}

PGresult *
store_free_slots (meso_db_t *db, const char *clinic_id, const char *date, const char *prefer,
                  bool only, const char *patient)
{
    const char *p[] = { clinic_id, date, prefer ? prefer : "", patient ? patient : "",
                        only ? "t" : "f" };
    return meso_db_query (db,
        "WITH c AS (SELECT time_zone AS tz, make_interval(mins => slot_minutes) AS len"
        "           FROM scheduling.clinic WHERE clinic_id = $1),"
        " h AS (SELECT opens, closes FROM scheduling.clinic_hours"
        "       WHERE clinic_id = $1 AND isodow = extract(isodow FROM $2::date)),"
        " s AS (SELECT t AS lt, t + c.len AS lend, scheduling.local_instant(t, c.tz) AS st,"
        "              scheduling.local_instant(t, c.tz) + c.len AS en, c.tz"
        "       FROM c, h, generate_series($2::date + h.opens, $2::date + h.closes - c.len, c.len) AS t)"
        " SELECT (extract(hour FROM s.lt) * 60 + extract(minute FROM s.lt))::int,"
        "  " US ("s.st") ", " US ("s.en") ", p.practitioner_id, r.room_id,"
        "  to_char(s.lt, 'YYYY-MM-DD\"T\"HH24:MI'), (s.st AT TIME ZONE s.tz) = s.lt"
        " FROM s"
        " CROSS JOIN LATERAL ("
        "  SELECT ph.practitioner_id FROM scheduling.practitioner_hours ph"
        "  WHERE ph.clinic_id = $1 AND ph.isodow = extract(isodow FROM $2::date)"
        "    AND (NOT $5::boolean OR ph.practitioner_id = $3)"
        "    AND $2::date + ph.starts <= s.lt AND s.lend <= $2::date + ph.ends"
        "    AND NOT EXISTS (SELECT 1 FROM scheduling.practitioner_day_off d"
        "                    WHERE d.practitioner_id = ph.practitioner_id AND d.day = $2::date)"
        "    AND NOT EXISTS (SELECT 1 FROM scheduling.appointment a"
        "                    WHERE a.practitioner_id = ph.practitioner_id AND a.status IN " ACTIVE
        "                      AND a.during && tstzrange(s.st, s.en))"
        "    AND NOT EXISTS (SELECT 1 FROM scheduling.slot_offer o"     /* held for a waitlist offer */
        "                    WHERE o.practitioner_id = ph.practitioner_id AND o.status = 'open'"
        "                      AND o.expires_at > now() AND o.during && tstzrange(s.st, s.en))"
        "  ORDER BY (ph.practitioner_id = $3) DESC, ph.practitioner_id LIMIT 1) p"
        " CROSS JOIN LATERAL ("
        "  SELECT rm.room_id FROM scheduling.room rm"
        "  WHERE rm.clinic_id = $1 AND rm.active"
        "    AND NOT EXISTS (SELECT 1 FROM scheduling.appointment a"
        "                    WHERE a.clinic_id = $1 AND a.room_id = rm.room_id"
        "                      AND a.status IN " ACTIVE " AND a.during && tstzrange(s.st, s.en))"
        "    AND NOT EXISTS (SELECT 1 FROM scheduling.slot_offer o"
        "                    WHERE o.clinic_id = $1 AND o.room_id = rm.room_id AND o.status = 'open'"
        "                      AND o.expires_at > now() AND o.during && tstzrange(s.st, s.en))"
        "  ORDER BY rm.room_id LIMIT 1) r"
        " WHERE $4 = '' OR NOT EXISTS (SELECT 1 FROM scheduling.appointment a"
        "                    WHERE a.patient_id = $4 AND a.status IN " ACTIVE
        "                      AND a.during && tstzrange(s.st, s.en))"
        " ORDER BY s.lt", 5, p);
}

int
store_slot_facts (meso_db_t *db, const store_clinic_t *c, const char *practitioner,
                  const char *room, const char *local_start, int minutes, int64_t *start_us,
                  int64_t *end_us, planner_slot_facts_t *facts, when_facts_t *when)
{
    char mins[16];
    snprintf (mins, sizeof mins, "%d", minutes);
    const char *p[] = { c->clinic_id, local_start, mins, practitioner, room, c->time_zone };
    PGresult *res = meso_db_query (db,
        /* local_gap only for a local time that does not exist: it is a
         * SQL function planned again at every call (0.6 ms of a 0.7 ms
         * statement), and NULL for every time that exists. */
        "WITH u AS (SELECT $2::timestamp AS lt, $2::timestamp + make_interval(mins => $3::int) AS lend,"
        "                  scheduling.local_instant($2::timestamp, $6) AS st),"
        " t AS (SELECT u.*, CASE WHEN (u.st AT TIME ZONE $6) <> u.lt"
        "                   THEN scheduling.local_gap($2::timestamp, $6) END AS gap FROM u)"
        " SELECT " US ("t.st") ", " US ("t.st + make_interval(mins => $3::int)") ","
        "  EXISTS (SELECT 1 FROM scheduling.clinic_hours h WHERE h.clinic_id = $1"
        "          AND h.isodow = extract(isodow FROM t.lt)"
        "          AND t.lt::date + h.opens <= t.lt AND t.lend <= t.lt::date + h.closes),"
        "  EXISTS (SELECT 1 FROM scheduling.practitioner WHERE practitioner_id = $4),"
        "  EXISTS (SELECT 1 FROM scheduling.practitioner_hours h WHERE h.clinic_id = $1"
        "          AND h.practitioner_id = $4 AND h.isodow = extract(isodow FROM t.lt)"
        "          AND t.lt::date + h.starts <= t.lt AND t.lend <= t.lt::date + h.ends),"
        "  EXISTS (SELECT 1 FROM scheduling.practitioner_day_off d WHERE d.practitioner_id = $4"
        "          AND d.day = t.lt::date),"
        "  EXISTS (SELECT 1 FROM scheduling.room r WHERE r.clinic_id = $1 AND r.room_id = $5 AND r.active),"
        "  (t.st AT TIME ZONE $6) = t.lt, to_char(lower(t.gap), 'HH24:MI'), to_char(upper(t.gap), 'HH24:MI')"
        " FROM t", 6, p);
    if (!res)
        return -1;
    *start_us = strtoll (PQgetvalue (res, 0, 0), NULL, 10);
    *end_us = strtoll (PQgetvalue (res, 0, 1), NULL, 10);
    facts->in_hours = strcmp (PQgetvalue (res, 0, 2), "t") == 0;
    facts->practitioner_known = strcmp (PQgetvalue (res, 0, 3), "t") == 0;
    facts->practitioner_works = strcmp (PQgetvalue (res, 0, 4), "t") == 0;
    facts->day_off = strcmp (PQgetvalue (res, 0, 5), "t") == 0;
    facts->room_active = strcmp (PQgetvalue (res, 0, 6), "t") == 0;
    when->start_us = *start_us;
    when->exists = strcmp (PQgetvalue (res, 0, 7), "t") == 0;
    s_copy (when->gap_from, sizeof when->gap_from, PQgetvalue (res, 0, 8));
    s_copy (when->gap_to, sizeof when->gap_to, PQgetvalue (res, 0, 9));
    PQclear (res);
    return 0;
}
