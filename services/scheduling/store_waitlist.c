/* store_waitlist.c -- the SQL of the waitlist and its slot offers
 * (waitlist.c, offers.c): migration 032. The hold itself is the schema's
 * (trigger scheduling.slot_offer_hold): an appointment of another patient
 * in an open offer's slot is refused there, and the offer's own patient
 * booking it accepts the offer. */
#include "store.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_sql.h"

#define ENTRY_SELECT \
    "SELECT w.entry_id, w.clinic_id, w.patient_id, coalesce(w.practitioner_id, ''), w.from_date::text," \
    " w.to_date::text, array_to_string(w.areas, ','), w.recipe_id, coalesce(w.appointment_id, ''), w.status," \
    " " US ("w.created_at") ", w.seq, coalesce(o.offer_id, ''), coalesce(o.practitioner_id, '')," \
    " coalesce(o.room_id, ''), coalesce(to_char(lower(o.during) AT TIME ZONE c.time_zone," \
    "   'YYYY-MM-DD\"T\"HH24:MI'), ''), coalesce(" US ("lower(o.during)") ", 0)," \
    " coalesce(" US ("upper(o.during)") ", 0), coalesce(" US ("o.expires_at") ", 0), coalesce(o.status, '')" \
    " FROM scheduling.waitlist_entry w JOIN scheduling.clinic c USING (clinic_id)" \
    " LEFT JOIN scheduling.slot_offer o ON o.clinic_id = w.clinic_id AND o.entry_id = w.entry_id" \
    "  AND o.status = 'open'"

int
store_waitlist_insert (meso_db_t *db, const char *clinic_id, const char *entry_id, const char *patient_id,
                       const char *practitioner_id, const char *from, const char *to, const char *areas,
                       const char *recipe_id, const char *appointment_id)
{
    const char *p[] = { clinic_id, entry_id, patient_id, practitioner_id && *practitioner_id ? practitioner_id : NULL,
                        from, to, areas, recipe_id ? recipe_id : "",
                        appointment_id && *appointment_id ? appointment_id : NULL };
    return meso_db_exec (db,
        "INSERT INTO scheduling.waitlist_entry (clinic_id, entry_id, patient_id, practitioner_id, from_date,"
        " to_date, areas, recipe_id, appointment_id, status)"
        " VALUES ($1, $2, $3, $4, $5::date, $6::date, $7::text[], $8, $9, 'waiting')", 9, p);
}

PGresult *
store_waitlist_get (meso_db_t *db, const char *clinic_id, const char *entry_id, bool lock)
{
    const char *p[] = { clinic_id, entry_id };
    return meso_db_query (db, lock ? ENTRY_SELECT " WHERE w.clinic_id = $1 AND w.entry_id = $2 FOR UPDATE OF w"
                                   : ENTRY_SELECT " WHERE w.clinic_id = $1 AND w.entry_id = $2", 2, p);
}

PGresult *
store_waitlist_list (meso_db_t *db, const char *clinic_id, const char *status, const char *after_seq, int limit)
{
    char lim[16];
    snprintf (lim, sizeof lim, "%d", limit);
    const char *p[] = { clinic_id, status, after_seq && *after_seq ? after_seq : "0", lim };
    return meso_db_query (db, ENTRY_SELECT
        " WHERE w.clinic_id = $1 AND ($2 = 'all' OR w.status = $2) AND w.seq > $3::bigint"
        " ORDER BY w.seq LIMIT $4::int", 4, p);
}

int
store_waitlist_leave (meso_db_t *db, const char *clinic_id, const char *entry_id)
{
    const char *p[] = { clinic_id, entry_id };
    PGresult *res = meso_db_query (db, "UPDATE scheduling.waitlist_entry SET status = 'left', updated_at = now()"
                                   " WHERE clinic_id = $1 AND entry_id = $2 AND status = 'waiting' RETURNING 1", 2, p);
    if (!res)
        return -1;
    int n = PQntuples (res);
    PQclear (res);
    return n;
}

PGresult *
store_appointment_start (meso_db_t *db, const char *clinic_id, const char *appointment_id)
{
    const char *p[] = { clinic_id, appointment_id };
    return meso_db_query (db, "SELECT a.patient_id, a.status, array_to_string(a.areas, ','), a.recipe_id"
                          " FROM scheduling.appointment a WHERE a.clinic_id = $1 AND a.appointment_id = $2", 2, p);
}

static void
s_us (char *out, size_t size, int64_t v)
{
    snprintf (out, size, "%" PRId64, v);
}

#define TS(n) "('epoch'::timestamptz + $" #n "::bigint * interval '1 microsecond')"

int
store_slot_free (meso_db_t *db, const char *clinic_id, const char *practitioner, const char *room, int64_t start_us,
                 int64_t end_us)
{
    char st[32], en[32];
    s_us (st, sizeof st, start_us);
    s_us (en, sizeof en, end_us);
    const char *p[] = { clinic_id, practitioner, room, st, en };
    PGresult *res = meso_db_query (db,
        "SELECT NOT EXISTS (SELECT 1 FROM scheduling.appointment a"
        "   WHERE a.status IN " ACTIVE " AND a.during && tstzrange(" TS (4) ", " TS (5) ", '[)')"
        "     AND (a.practitioner_id = $2 OR (a.clinic_id = $1 AND a.room_id = $3)))"
        " AND NOT EXISTS (SELECT 1 FROM scheduling.slot_offer o WHERE o.status = 'open'"
        "   AND o.expires_at > now() AND o.during && tstzrange(" TS (4) ", " TS (5) ", '[)')"
        "     AND (o.practitioner_id = $2 OR (o.clinic_id = $1 AND o.room_id = $3)))", 5, p);
    if (!res)
        return -1;
    int free_ = strcmp (PQgetvalue (res, 0, 0), "t") == 0;
    PQclear (res);
    return free_;
}

PGresult *
store_waitlist_candidates (meso_db_t *db, const char *clinic_id, const char *practitioner, const char *room,
                           int64_t start_us, int64_t end_us, const char *freed_patient)
{
    char st[32], en[32];
    s_us (st, sizeof st, start_us);
    s_us (en, sizeof en, end_us);
    const char *p[] = { clinic_id, practitioner, room, st, en, freed_patient };
    /* Waiting, without an open offer, never offered this slot, whose
     * window holds the slot's local day; first come first. */
    return meso_db_query (db,
        "SELECT w.entry_id, w.patient_id, coalesce(w.practitioner_id, ''),"
        " w.from_date - date '1970-01-01', w.to_date - date '1970-01-01', coalesce(w.appointment_id, ''),"
        " coalesce((SELECT " US ("lower(a.during)") " FROM scheduling.appointment a"
        "   WHERE a.clinic_id = w.clinic_id AND a.appointment_id = w.appointment_id AND a.status = 'booked'), -1),"
        " (" TS (4) " AT TIME ZONE c.time_zone)::date - date '1970-01-01',"
        " to_char(" TS (4) " AT TIME ZONE c.time_zone, 'YYYY-MM-DD\"T\"HH24:MI')"
        " FROM scheduling.waitlist_entry w JOIN scheduling.clinic c USING (clinic_id)"
        " WHERE w.clinic_id = $1 AND w.status = 'waiting' AND w.patient_id <> $6"
        "  AND (" TS (4) " AT TIME ZONE c.time_zone)::date BETWEEN w.from_date AND w.to_date"
        "  AND NOT EXISTS (SELECT 1 FROM scheduling.slot_offer o WHERE o.clinic_id = w.clinic_id"
        "   AND o.entry_id = w.entry_id AND (o.status = 'open'"
        "    OR (o.practitioner_id = $2 AND o.room_id = $3 AND o.during = tstzrange(" TS (4) ", " TS (5) ", '[)'))))"
        " ORDER BY w.seq LIMIT 50", 6, p);
}

PGresult *
store_offer_insert (meso_db_t *db, const char *clinic_id, const char *offer_id, const char *entry_id,
                    const char *patient_id, const char *practitioner, const char *room, int64_t start_us,
                    int64_t end_us, int hold_s, const char *freed_appointment_id)
{
    char st[32], en[32], hold[16];
    s_us (st, sizeof st, start_us);
    s_us (en, sizeof en, end_us);
    snprintf (hold, sizeof hold, "%d", hold_s);
    const char *p[] = { clinic_id, offer_id, entry_id, patient_id, practitioner, room, st, en, hold,
                        freed_appointment_id };
    return meso_db_query (db,
        "INSERT INTO scheduling.slot_offer (clinic_id, offer_id, entry_id, patient_id, practitioner_id, room_id,"
        " during, expires_at, freed_appointment_id, status)"
        " VALUES ($1, $2, $3, $4, $5, $6, tstzrange(" TS (7) ", " TS (8) ", '[)'),"
        "  now() + make_interval(secs => $9::int), $10, 'open')"
        " RETURNING " US ("expires_at"), 10, p);
}

#define OFFER_SELECT \
    "SELECT o.offer_id, o.entry_id, o.patient_id, o.practitioner_id, o.room_id, " US ("lower(o.during)") "," \
    " " US ("upper(o.during)") ", " US ("o.expires_at") ", o.status, o.expires_at <= now()," \
    " to_char(lower(o.during) AT TIME ZONE c.time_zone, 'YYYY-MM-DD\"T\"HH24:MI')," \
    " coalesce(w.appointment_id, ''), array_to_string(w.areas, ','), w.recipe_id, o.freed_appointment_id," \
    " o.clinic_id" \
    " FROM scheduling.slot_offer o JOIN scheduling.clinic c USING (clinic_id)" \
    " JOIN scheduling.waitlist_entry w ON w.clinic_id = o.clinic_id AND w.entry_id = o.entry_id"

PGresult *
store_offer_get (meso_db_t *db, const char *clinic_id, const char *offer_id, bool lock)
{
    const char *p[] = { clinic_id, offer_id };
    return meso_db_query (db, lock ? OFFER_SELECT " WHERE o.clinic_id = $1 AND o.offer_id = $2 FOR UPDATE OF o"
                                   : OFFER_SELECT " WHERE o.clinic_id = $1 AND o.offer_id = $2", 2, p);
}

PGresult *
store_offer_open_of (meso_db_t *db, const char *clinic_id, const char *entry_id)
{
    const char *p[] = { clinic_id, entry_id };
    return meso_db_query (db, OFFER_SELECT " WHERE o.clinic_id = $1 AND o.entry_id = $2 AND o.status = 'open'"
                          " FOR UPDATE OF o", 2, p);
}

PGresult *
store_offers_expired (meso_db_t *db, int limit)
{
    char lim[16];
    snprintf (lim, sizeof lim, "%d", limit);
    const char *p[] = { lim };
    return meso_db_query (db, "SELECT clinic_id, offer_id FROM scheduling.slot_offer"
                          " WHERE status = 'open' AND expires_at <= now() ORDER BY expires_at LIMIT $1::int", 1, p);
}

int
store_offer_close (meso_db_t *db, const char *clinic_id, const char *offer_id, const char *status)
{
    const char *p[] = { clinic_id, offer_id, status };
    PGresult *res = meso_db_query (db, "UPDATE scheduling.slot_offer SET status = $3, updated_at = now()"
                                   " WHERE clinic_id = $1 AND offer_id = $2 AND status = 'open' RETURNING 1", 3, p);
    if (!res)
        return -1;
    int n = PQntuples (res);
    PQclear (res);
    return n;
}
