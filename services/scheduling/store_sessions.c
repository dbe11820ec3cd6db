/* store_sessions.c -- the SQL of sessions (appointments) and their
 * courses once booked: the session row every reply and event is built
 * from, the course row, and one statement per change of a session
 * (reschedule, cancel, no-show, start, complete) with what the changes
 * read around them (neighbouring sessions, the course's scores).
 *
 * The booking itself (pending rows, their confirmation) is the saga's and
 * lives in store_saga.c. The statuses each statement writes are the ones
 * lifecycle.c says a change leads to. */
#include "store.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meso/mtime.h"
#include "store_sql.h"

#define SESSION_SELECT \
    "SELECT a.appointment_id, a.course_id, a.patient_id, a.clinic_id, a.practitioner_id, a.room_id," \
    " " US ("lower(a.during)") ", " US ("upper(a.during)") "," \
    " to_char(lower(a.during) AT TIME ZONE c.time_zone, 'YYYY-MM-DD\"T\"HH24:MI'), c.time_zone," \
    " a.session_number, a.maintenance, a.status, coalesce(a.improvement_score, -1)," \
    " array_to_string(a.areas, ','), a.recipe_id, a.recipe_version, co.sessions," \
    " to_char(lower(a.during) AT TIME ZONE c.time_zone, 'YYYY-MM-DD')," \
    " floor(extract(epoch FROM lower(a.during) - now()) / 3600)::bigint, c.cancel_notice_hours" \
    " FROM scheduling.appointment a JOIN scheduling.clinic c ON c.clinic_id = a.clinic_id" \
    " JOIN scheduling.course co ON co.clinic_id = a.clinic_id AND co.course_id = a.course_id"

PGresult *
store_session_get (meso_db_t *db, const char *appointment_id, bool lock)
{
    const char *p[] = { appointment_id };
    return meso_db_query (db, lock ? SESSION_SELECT " WHERE a.appointment_id = $1 FOR UPDATE OF a"
                                   : SESSION_SELECT " WHERE a.appointment_id = $1", 1, p);
}

PGresult *
store_course_sessions (meso_db_t *db, const char *course_id)
{
    const char *p[] = { course_id };
    return meso_db_query (db, SESSION_SELECT " WHERE a.course_id = $1 ORDER BY a.session_number", 1, p);
}


#define COURSE_GET \
    "SELECT course_id, clinic_id, patient_id, grade," \
    " array_to_string(areas, ','), recipe_id, recipe_version, status," \
    " non_responder, coalesce(requested_first_date::text, ''), first_date_note" \
    " FROM scheduling.course WHERE course_id = $1"

PGresult *
store_course_get (meso_db_t *db, const char *course_id)
{
    const char *p[] = { course_id };
    return meso_db_query (db, COURSE_GET, 1, p);
}

int
store_course_read (meso_db_t *db, const char *course_id, PGresult *out[3])
{
    const char *p[] = { course_id };
    const meso_db_stmt_t st[] = {
        { COURSE_GET, 1, p },
        { SESSION_SELECT " WHERE a.course_id = $1 ORDER BY a.session_number", 1, p },
        { REPLANNED_GET, 1, p },
    };
    return meso_db_pipeline (db, 3, st, out);
}

PGresult *
store_course_ids (meso_db_t *db, bool by_course, const char *id, const char *after_us,
                  const char *after_id)
{
    const char *p[] = { id, after_us, after_id };
    if (by_course)
        return meso_db_query (db, "SELECT course_id, clinic_id, 0, '' FROM scheduling.course"
                                  " WHERE course_id = $1", 1, p);
    return meso_db_query (db,
        "SELECT course_id, clinic_id, (extract (epoch FROM created_at) * 1000000)::bigint"
        " FROM scheduling.course WHERE patient_id = $1 AND status <> 'failed'"
        " AND ($2::bigint IS NULL OR (created_at, course_id)"
        "      > (timestamptz 'epoch' + $2::bigint * interval '1 microsecond', $3))"
        " ORDER BY created_at, course_id", 3, p);
}

PGresult *
store_export_courses (meso_db_t *db, const char *patient_id)
{
    const char *p[] = { patient_id };
    return meso_db_query (db,
        "SELECT course_id, clinic_id FROM scheduling.course WHERE patient_id = $1"
        " ORDER BY created_at, course_id", 1, p);
}

int
store_course_neighbours (meso_db_t *db, const char *course_id, const char *number, const char *zone,
                         int32_t *prev, int32_t *next)
{
    const char *np[] = { course_id, number, zone };
    PGresult *nb = meso_db_query (db,
        "SELECT to_char(max(lower(during) AT TIME ZONE $3) FILTER (WHERE session_number < $2::int), 'YYYY-MM-DD'),"
        "       to_char(min(lower(during) AT TIME ZONE $3) FILTER (WHERE session_number > $2::int), 'YYYY-MM-DD')"
        " FROM scheduling.appointment WHERE course_id = $1"
        "  AND status IN ('booked', 'on_hold', 'started', 'completed')", 3, np);
    if (!nb)
        return -1;
    *prev = INT32_MIN;
    *next = INT32_MAX;
    if (!PQgetisnull (nb, 0, 0))
        meso_date_parse (PQgetvalue (nb, 0, 0), prev);
    if (!PQgetisnull (nb, 0, 1))
        meso_date_parse (PQgetvalue (nb, 0, 1), next);
    PQclear (nb);
    return 0;
}

int
store_course_lock (meso_db_t *db, const char *course_id)
{
    const char *cp[] = { course_id };
    PGresult *lk = meso_db_query (db, "SELECT 1 FROM scheduling.course WHERE course_id = $1 FOR UPDATE", 1, cp);
    if (!lk)
        return -1;
    PQclear (lk);
    return 0;
}

int
store_course_scores (meso_db_t *db, const char *course_id, int *scores, int max)
{
    const char *cp[] = { course_id };
    /* -1: completed without a recorded outcome (not "no improvement") */
    PGresult *sc = meso_db_query (db, "SELECT coalesce(improvement_score, -1) FROM scheduling.appointment"
                                  " WHERE course_id = $1 AND status = 'completed' ORDER BY session_number", 1, cp);
    if (!sc)
        return -1;
    int n = PQntuples (sc);
    if (n > max)
        n = max;
    for (int i = 0; i < n; i++)
        scores[i] = atoi (PQgetvalue (sc, i, 0));
    PQclear (sc);
    return n;
}

int
store_course_flag_non_responder (meso_db_t *db, const char *course_id)
{
    const char *cp[] = { course_id };
    return meso_db_exec (db, "UPDATE scheduling.course SET non_responder = true, updated_at = now()"
                         " WHERE course_id = $1", 1, cp);
}

/* ------------------------------------------------ changes of a session */

int
store_session_move (meso_db_t *db, const char *appointment_id, const char *practitioner, const char *room,
                    int64_t start_us, int64_t end_us)
{
    char sts[32], ens[32];
    snprintf (sts, sizeof sts, "%" PRId64, start_us);
    snprintf (ens, sizeof ens, "%" PRId64, end_us);
    const char *up[] = { appointment_id, practitioner, room, sts, ens };
    return meso_db_exec (db, "UPDATE scheduling.appointment SET practitioner_id = $2, room_id = $3,"
                         " during = tstzrange('epoch'::timestamptz + $4::bigint * interval '1 microsecond',"
                         "   'epoch'::timestamptz + $5::bigint * interval '1 microsecond', '[)'), updated_at = now()"
                         " WHERE appointment_id = $1", 5, up);
}

/* The patient of a session, for sealing its texts ("" when none). */
static void
s_patient_of (meso_db_t *db, const char *appointment_id, char *out, size_t size)
{
    const char *p[] = { appointment_id };
    PGresult *res = meso_db_query (db, "SELECT patient_id FROM scheduling.appointment"
                                   " WHERE appointment_id = $1", 1, p);
    snprintf (out, size, "%s", res && PQntuples (res) == 1 ? PQgetvalue (res, 0, 0) : "");
    if (res)
        PQclear (res);
}

int
store_session_cancel (meso_db_t *db, const char *appointment_id, const char *by, const char *reason,
                      bool late)
{
    char patient[SCHED_ID_MAX + 1];
    s_patient_of (db, appointment_id, patient, sizeof patient);
    uint8_t *sealed = NULL;
    size_t len = 0;
    int how = reason && *reason ? sched_seal (db, patient, SCHED_REASON_COLUMN, reason, &sealed, &len)
                                : SCHED_SEAL_PLAIN;
    if (how < 0)
        return -1;
    const char *values[] = { appointment_id, by, how == SCHED_SEAL_PLAIN ? reason : NULL,
                             late ? "t" : "f", (const char *) sealed };
    int lengths[] = { 0, 0, 0, 0, (int) len }, formats[] = { 0, 0, 0, 0, 1 };
    PGresult *res = meso_db_query_bin (db,
        "UPDATE scheduling.appointment SET status = 'cancelled', cancelled_at = now(),"
        " cancelled_by = $2, cancel_reason = $3, cancelled_late = $4::boolean,"
        " cancel_reason_sealed = $5::bytea, updated_at = now() WHERE appointment_id = $1",
        5, values, lengths, formats);
    free (sealed);
    if (!res)
        return -1;
    PQclear (res);
    return 0;
}

int
store_session_no_show (meso_db_t *db, const char *appointment_id)
{
    const char *p[] = { appointment_id };
    return meso_db_exec (db, "UPDATE scheduling.appointment SET status = 'no_show', updated_at = now()"
                         " WHERE appointment_id = $1", 1, p);
}

int
store_session_start (meso_db_t *db, const char *appointment_id)
{
    const char *p[] = { appointment_id };
    return meso_db_exec (db, "UPDATE scheduling.appointment SET status = 'started', started_at = now(),"
                         " updated_at = now() WHERE appointment_id = $1", 1, p);
}

int
store_session_complete (meso_db_t *db, const char *appointment_id, int score, const char *notes)
{
    char sc[8], patient[SCHED_ID_MAX + 1];
    snprintf (sc, sizeof sc, "%d", score);
    s_patient_of (db, appointment_id, patient, sizeof patient);
    uint8_t *sealed = NULL;
    size_t len = 0;
    int how = notes && *notes ? sched_seal (db, patient, SCHED_NOTES_COLUMN, notes, &sealed, &len)
                              : SCHED_SEAL_PLAIN;
    if (how < 0)
        return -1;
    /* < 0: not recorded */
    const char *values[] = { appointment_id, score < 0 ? NULL : sc,
                             how == SCHED_SEAL_PLAIN ? notes : NULL, (const char *) sealed };
    int lengths[] = { 0, 0, 0, (int) len }, formats[] = { 0, 0, 0, 1 };
    PGresult *res = meso_db_query_bin (db,
        "UPDATE scheduling.appointment SET status = 'completed', completed_at = now(),"
        " improvement_score = $2, notes = $3, notes_sealed = $4::bytea, updated_at = now()"
        " WHERE appointment_id = $1", 4, values, lengths, formats);
    free (sealed);
    if (!res)
        return -1;
    PQclear (res);
    return 0;
}
