/* store_frontdesk.c -- the SQL of the front desk's settings and of
 * session reminders (reminders.c): migration 032.
 *
 * The reminder query does the wall-clock arithmetic of frontdesk.c in
 * SQL too (a session's local start less a lead, against the clinic's
 * local now), so it returns only sessions with a lead due and not
 * decided; frontdesk_reminders then decides which one goes out. */
#include "store.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_sql.h"

#define LEADS "coalesce(p.reminder_lead_minutes, '{2880,120}'::integer[])"

int
store_frontdesk_policy_get (meso_db_t *db, const char *clinic_id, char *leads, size_t size, int *hold_minutes)
{
    const char *p[] = { clinic_id };
    PGresult *res = meso_db_query (db,
        "SELECT array_to_string(" LEADS ", ','), coalesce(p.offer_hold_minutes, 0)"
        " FROM scheduling.clinic c LEFT JOIN scheduling.front_desk_policy p USING (clinic_id)"
        " WHERE c.clinic_id = $1", 1, p);
    if (!res)
        return -1;
    int found = PQntuples (res) == 1;
    if (found) {
        snprintf (leads, size, "%s", PQgetvalue (res, 0, 0));
        *hold_minutes = atoi (PQgetvalue (res, 0, 1));
    }
    PQclear (res);
    return found;
}

int
store_frontdesk_policy_set (meso_db_t *db, const char *clinic_id, const char *leads, int hold_minutes)
{
    char hold[16];
    snprintf (hold, sizeof hold, "%d", hold_minutes);
    const char *p[] = { clinic_id, leads, hold_minutes > 0 ? hold : NULL };
    return meso_db_exec (db,
        "INSERT INTO scheduling.front_desk_policy (clinic_id, reminder_lead_minutes, offer_hold_minutes)"
        " VALUES ($1, $2::integer[], $3::integer)"
        " ON CONFLICT (clinic_id) DO UPDATE SET reminder_lead_minutes = EXCLUDED.reminder_lead_minutes,"
        "  offer_hold_minutes = EXCLUDED.offer_hold_minutes, updated_at = now()", 3, p);
}

/* Clinic by clinic (LATERAL, each through appointment_clinic_start_idx),
 * and only as far ahead as the clinic's longest lead (plus 2 hours for a
 * clock change between now and the session): a chain's whole next 14
 * days, every 15 s, took 0.35 s on a chain of 100 clinics, this 0.08 s
 * (psql; 0.11 to 0.17 s JIT-compiled in the daemon). The inner LIMIT keeps the planner from flattening it into one scan of
 * every clinic's future; the 200 first overall are among each clinic's
 * 200 first. */
PGresult *
store_reminder_candidates (meso_db_t *db, int limit)
{
    char lim[16];
    snprintf (lim, sizeof lim, "%d", limit);
    const char *p[] = { lim };
    return meso_db_query (db,
        "SELECT a.appointment_id, a.clinic_id, a.patient_id,"
        " to_char(lower(a.during) AT TIME ZONE c.time_zone, 'YYYY-MM-DD\"T\"HH24:MI'),"
        " to_char(now() AT TIME ZONE c.time_zone, 'YYYY-MM-DD\"T\"HH24:MI'),"
        " array_to_string(c.leads, ','),"
        " coalesce((SELECT string_agg(s.lead_minutes::text, ',') FROM scheduling.reminder_sent s"
        "   WHERE s.clinic_id = a.clinic_id AND s.appointment_id = a.appointment_id"
        "     AND s.starts_at = lower(a.during)), ''),"
        " " US ("lower(a.during)")
        " FROM (SELECT c.clinic_id, c.time_zone, " LEADS " AS leads"
        "       FROM scheduling.clinic c LEFT JOIN scheduling.front_desk_policy p USING (clinic_id)) c"
        " CROSS JOIN LATERAL (SELECT a.appointment_id, a.clinic_id, a.patient_id, a.during"
        "  FROM scheduling.appointment a"
        "  WHERE a.clinic_id = c.clinic_id AND a.status = 'booked' AND lower(a.during) > now()"
        "   AND lower(a.during) < now() + make_interval(mins => (SELECT max(l) FROM unnest(c.leads) l))"
        "                       + interval '2 hours'"
        "   AND EXISTS (SELECT 1 FROM unnest(c.leads) AS l (lead)"
        "    WHERE (lower(a.during) AT TIME ZONE c.time_zone) - make_interval(mins => l.lead)"
        "          <= (now() AT TIME ZONE c.time_zone)"
        "      AND NOT EXISTS (SELECT 1 FROM scheduling.reminder_sent s WHERE s.clinic_id = a.clinic_id"
        "        AND s.appointment_id = a.appointment_id AND s.lead_minutes = l.lead"
        "        AND s.starts_at = lower(a.during)))"
        "  ORDER BY lower(a.during) LIMIT $1::int) a"
        " ORDER BY lower(a.during) LIMIT $1::int", 1, p);
}

int
store_reminder_decide (meso_db_t *db, const char *clinic_id, const char *appointment_id, int lead,
                       int64_t starts_us, bool sent)
{
    char l[16], st[32];
    snprintf (l, sizeof l, "%d", lead);
    snprintf (st, sizeof st, "%" PRId64, starts_us);
    const char *p[] = { clinic_id, appointment_id, l, st, sent ? "sent" : "superseded" };
    PGresult *res = meso_db_query (db,
        "INSERT INTO scheduling.reminder_sent (clinic_id, appointment_id, lead_minutes, starts_at, outcome)"
        " VALUES ($1, $2, $3::int, 'epoch'::timestamptz + $4::bigint * interval '1 microsecond', $5)"
        " ON CONFLICT DO NOTHING RETURNING 1", 5, p);
    if (!res)
        return -1;
    int n = PQntuples (res);
    PQclear (res);
    return n;
}

PGresult *
store_reminder_names (meso_db_t *db, const char *appointment_id)
{
    const char *p[] = { appointment_id };
    return meso_db_query (db,
        "SELECT c.name, coalesce(pr.name, ''), coalesce(r.name, '')"
        " FROM scheduling.appointment a JOIN scheduling.clinic c USING (clinic_id)"
        " LEFT JOIN scheduling.practitioner pr ON pr.practitioner_id = a.practitioner_id"
        " LEFT JOIN scheduling.room r ON r.clinic_id = a.clinic_id AND r.room_id = a.room_id"
        " WHERE a.appointment_id = $1", 1, p);
}
