/* store_saga.c -- the SQL of the booking saga (saga.c): the advisory lock
 * that says a live process runs a booking, the idempotency lookup before
 * a booking starts, the pending course and appointments, their undo and
 * their confirmation, and what recovery reads back after a crash.
 *
 * Apart from store_sessions.c because these statements are the saga's
 * steps, each run in the saga's own transactions; none of them is a
 * method's. */
#include "store.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOCK_CLASS "74201"

int
store_saga_lock (meso_db_t *db, const char *course_id, bool try_only)
{
    const char *p[] = { course_id };
    PGresult *res = meso_db_query (db, try_only
        ? "SELECT pg_try_advisory_lock(" LOCK_CLASS ", hashtext($1))"
        : "SELECT pg_advisory_lock(" LOCK_CLASS ", hashtext($1)), true", 1, p);
    if (!res)
        return -1;
    int got = strcmp (PQgetvalue (res, 0, PQnfields (res) - 1), "t") == 0;
    PQclear (res);
    return got;
}

void
store_saga_unlock (meso_db_t *db, const char *course_id)
{
    const char *p[] = { course_id };
    PGresult *res = meso_db_query (db, "SELECT pg_advisory_unlock(" LOCK_CLASS ", hashtext($1))", 1, p);
    PQclear (res);
}

PGresult *
store_saga_replay (meso_db_t *db, const char *key, const char *hash_in, size_t hlen)
{
    const char *v[] = { key, hash_in };
    int l[] = { 0, (int) hlen };
    int f[] = { 0, 1 };
    return meso_db_query_bin (db,
        "SELECT i.method, i.request_hash = sha256($2::bytea), i.reply IS NULL, i.reply,"
        " (SELECT course_id FROM scheduling.course WHERE idem_key = $1 AND status = 'pending' LIMIT 1)"
        " FROM (SELECT 1) AS one LEFT JOIN scheduling.idempotency i ON i.key = $1", 2, v, l, f);
}

int
store_saga_insert_course (meso_db_t *db, const store_saga_course_t *c)
{
    char sessions[16], grade[8], ver[16];
    snprintf (sessions, sizeof sessions, "%d", c->sessions);
    snprintf (grade, sizeof grade, "%d", c->grade);
    snprintf (ver, sizeof ver, "%d", c->recipe_version);
    const char *cp[] = { c->clinic_id, c->course_id, c->patient_id, grade, c->mild ? "t" : "f",
                         c->areas, c->recipe_id, ver, sessions, c->idem_key, c->method,
                         (const char *) c->request };
    int cl[12] = { 0 };
    int cf[12] = { 0 };
    cl[11] = (int) c->request_len;
    cf[11] = 1;
    PGresult *res = meso_db_query_bin (db,
        "INSERT INTO scheduling.course (clinic_id, course_id, patient_id, grade, mild, areas,"
        " recipe_id, recipe_version, sessions, status, idem_key, method, request)"
        " VALUES ($1, $2, $3, $4, $5, $6::text[], $7, $8, $9, 'pending', $10, $11, $12::bytea)",
        12, cp, cl, cf);
    if (!res)
        return -1;
    PQclear (res);
    return 0;
}

int
store_saga_insert_appointment (meso_db_t *db, const store_saga_course_t *c, const store_saga_appointment_t *a)
{
    char st[32], en[32], num[16], ver[16];
    snprintf (st, sizeof st, "%" PRId64, a->start_us);
    snprintf (en, sizeof en, "%" PRId64, a->end_us);
    snprintf (num, sizeof num, "%d", a->number);
    snprintf (ver, sizeof ver, "%d", c->recipe_version);
    const char *ap[] = { c->clinic_id, a->appointment_id, c->course_id, c->patient_id,
                         a->practitioner_id, a->room_id, st, en, num, a->maintenance ? "t" : "f",
                         c->areas, c->recipe_id, ver };
    PGresult *res = meso_db_query (db,
        "INSERT INTO scheduling.appointment (clinic_id, appointment_id, course_id, patient_id,"
        " practitioner_id, room_id, during, status, session_number, maintenance, areas,"
        " recipe_id, recipe_version) VALUES ($1, $2, $3, $4, $5, $6,"
        " tstzrange('epoch'::timestamptz + $7::bigint * interval '1 microsecond',"
        "           'epoch'::timestamptz + $8::bigint * interval '1 microsecond', '[)'),"
        " 'pending', $9, $10, $11::text[], $12, $13)", 13, ap);
    if (!res)
        return -1;
    PQclear (res);
    return 0;
}

PGresult *
store_saga_pending (meso_db_t *db, const char *course_id)
{
    const char *p[] = { course_id };
    return meso_db_query (db,
        "SELECT a.appointment_id, a.clinic_id, a.patient_id,"
        " to_char(lower(a.during) AT TIME ZONE c.time_zone, 'YYYY-MM-DD'), a.recipe_id,"
        " a.recipe_version, array_to_string(a.areas, ',')"
        " FROM scheduling.appointment a JOIN scheduling.clinic c ON c.clinic_id = a.clinic_id"
        " WHERE a.course_id = $1 AND a.status = 'pending' ORDER BY a.session_number", 1, p);
}

int
store_saga_undo (meso_db_t *db, const char *course_id, const char *why)
{
    const char *p[] = { course_id, why };
    if (meso_db_exec (db, "DELETE FROM scheduling.appointment WHERE course_id = $1 AND status = 'pending'",
                      1, p) != 0)
        return -1;
    return meso_db_exec (db, "UPDATE scheduling.course SET status = 'failed', failure = $2,"
                         " updated_at = now() WHERE course_id = $1 AND status = 'pending'", 2, p);
}

int
store_saga_confirm (meso_db_t *db, const char *course_id)
{
    /* The course and its appointments in one statement. */
    const char *p[] = { course_id };
    PGresult *res = meso_db_query (db,
        "WITH c AS (UPDATE scheduling.course SET status = 'booked', updated_at = now()"
        "           WHERE course_id = $1 AND status = 'pending' RETURNING course_id),"
        " a AS (UPDATE scheduling.appointment SET status = 'booked', updated_at = now()"
        "       WHERE course_id = $1 AND status = 'pending' AND EXISTS (SELECT 1 FROM c) RETURNING 1)"
        " SELECT (SELECT count(*) FROM c), (SELECT count(*) FROM a)", 1, p);
    if (!res)
        return -1;
    int changed = strcmp (PQgetvalue (res, 0, 0), "1") == 0;
    PQclear (res);
    return changed;
}

PGresult *
store_saga_course (meso_db_t *db, const char *course_id)
{
    const char *p[] = { course_id };
    return meso_db_query (db, "SELECT status, idem_key, method, request"
                          " FROM scheduling.course WHERE course_id = $1", 1, p);
}

PGresult *
store_saga_pending_courses (meso_db_t *db)
{
    return meso_db_query (db, "SELECT course_id FROM scheduling.course"
                          " WHERE status = 'pending' ORDER BY created_at LIMIT 100", 0, NULL);
}

int
store_saga_pending_stats (meso_db_t *db, int64_t *count, double *oldest_s)
{
    PGresult *res = meso_db_query (db, "SELECT count (*), coalesce (extract (epoch FROM now () - min (created_at)), 0)"
                                   " FROM scheduling.course WHERE status = 'pending'", 0, NULL);
    if (!res)
        return -1;
    *count = strtoll (PQgetvalue (res, 0, 0), NULL, 10);
    *oldest_s = strtod (PQgetvalue (res, 0, 1), NULL);
    PQclear (res);
    return 0;
}

void
store_array_literal (char *out, size_t size, char *const *items, size_t n)
{
    size_t used = 0;
    used += (size_t) snprintf (out + used, size - used, "{");
    for (size_t i = 0; i < n && used < size; i++)
        used += (size_t) snprintf (out + used, size - used, "%s%s", i ? "," : "", items[i]);
    if (used < size)
        snprintf (out + used, size - used, "}");
}
