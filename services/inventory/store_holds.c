/* store_holds.c -- the SQL of reservations: the reservation row, its
 * held lines, and what its session consumed (holds.c, consume.c and
 * reservation.c's). The reservation row of an appointment is locked
 * before any of its lots, so Reserve, Release, Redate and Consume of one
 * appointment queue on it. */
#include "inventory.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --------------------------------------------------------- reservations */

/* The reads of a reservation (resv_load), shared by the single queries
 * and the pipeline of store_reservation_load. */
#define RESV_GET_SQL \
    "SELECT clinic_id, appointment_id, patient_id, session_date::text, recipe_id, " \
    "  recipe_version, array_to_string (areas, ','), status FROM inventory.reservation " \
    "WHERE clinic_id = $1 AND appointment_id = $2"
#define RESV_LINES_SQL \
    "SELECT rl.ingredient_code, i.unit, rl.amount_milli, rl.lot_id, l.lot_number, l.expiry_date::text " \
    "FROM inventory.reservation_line rl " \
    "JOIN inventory.lot l ON l.clinic_id = rl.clinic_id AND l.lot_id = rl.lot_id " \
    "JOIN inventory.ingredient i ON i.code = rl.ingredient_code " \
    "WHERE rl.clinic_id = $1 AND rl.appointment_id = $2 " \
    "ORDER BY rl.ingredient_code, l.expiry_date, l.received_at, l.lot_id"
#define RESV_CONSUMED_SQL \
    "SELECT c.ingredient_code, i.unit, c.amount_milli, c.lot_id, l.lot_number, l.expiry_date::text " \
    "FROM inventory.consumption c " \
    "JOIN inventory.lot l ON l.clinic_id = c.clinic_id AND l.lot_id = c.lot_id " \
    "JOIN inventory.ingredient i ON i.code = c.ingredient_code " \
    "WHERE c.clinic_id = $1 AND c.appointment_id = $2 " \
    "ORDER BY c.ingredient_code, l.expiry_date, l.received_at, l.lot_id"
#define RESV_GAPS_SQL \
    "SELECT g.ingredient_code, i.unit, g.missing_milli, g.lot_id, l.lot_number " \
    "FROM inventory.reservation_gap g " \
    "JOIN inventory.reservation r ON r.clinic_id = g.clinic_id " \
    "  AND r.appointment_id = g.appointment_id AND r.status = 'held' " \
    "JOIN inventory.lot l ON l.clinic_id = g.clinic_id AND l.lot_id = g.lot_id " \
    "JOIN inventory.ingredient i ON i.code = g.ingredient_code " \
    "WHERE g.clinic_id = $1 AND g.appointment_id = $2 " \
    "ORDER BY g.ingredient_code, g.lot_id"

void
store_reservation_get_stmt (const char *p[2], const char *clinic, const char *appointment,
                            meso_db_stmt_t *out)
{
    p[0] = clinic;
    p[1] = appointment;
    *out = (meso_db_stmt_t) { RESV_GET_SQL, 2, p };
}

int
store_reservation_load (meso_db_t *db, const char *clinic, const char *appointment, PGresult *out[4])
{
    const char *p[] = { clinic, appointment };
    const meso_db_stmt_t st[] = {
        { RESV_GET_SQL, 2, p }, { RESV_LINES_SQL, 2, p }, { RESV_CONSUMED_SQL, 2, p }, { RESV_GAPS_SQL, 2, p }
    };
    return meso_db_pipeline (db, 4, st, out);
}

PGresult *
store_reservation_get (meso_db_t *db, const char *clinic, const char *appointment,
                       bool for_update)
{
    const char *p[] = { clinic, appointment };
    return meso_db_query (db, for_update ? RESV_GET_SQL " FOR UPDATE" : RESV_GET_SQL, 2, p);
}

PGresult *
store_reservations_of_patient (meso_db_t *db, const char *patient)
{
    const char *p[] = { patient };
    return meso_db_query (db,
        "SELECT clinic_id, appointment_id FROM inventory.reservation WHERE patient_id = $1"
        " ORDER BY session_date, clinic_id, appointment_id", 1, p);
}

int
store_reservation_insert (meso_db_t *db, const char *clinic, const char *appointment,
                          const char *patient, const char *session_date, const char *recipe_id,
                          uint32_t version, const char *areas, const char *status)
{
    char v[16];
    snprintf (v, sizeof v, "%u", version);
    const char *p[] = { clinic, appointment, patient, session_date, recipe_id, v, areas, status };
    /* A concurrent insert of the same appointment waits here on the unique
     * index until the other commits, then sees the conflict. */
    PGresult *res = meso_db_query (db,
        "INSERT INTO inventory.reservation (clinic_id, appointment_id, patient_id, session_date, "
        "  recipe_id, recipe_version, areas, status) "
        "VALUES ($1, $2, $3, $4::date, $5, $6::int, $7::text[], $8) "
        "ON CONFLICT (clinic_id, appointment_id) DO NOTHING RETURNING 1", 8, p);
    if (!res)
        return -1;
    int inserted = PQntuples (res) == 1;
    PQclear (res);
    return inserted;
}

int
store_reservation_close (meso_db_t *db, const char *clinic, const char *appointment,
                         const char *status, const char *reason)
{
    const char *p[] = { clinic, appointment, status, reason ? reason : "" };
    return meso_db_exec (db,
        "UPDATE inventory.reservation SET status = $3, closed_at = now (), close_reason = $4 "
        "WHERE clinic_id = $1 AND appointment_id = $2", 4, p);
}

PGresult *
store_reservation_lines (meso_db_t *db, const char *clinic, const char *appointment)
{
    const char *p[] = { clinic, appointment };
    return meso_db_query (db,
        RESV_LINES_SQL, 2, p);
}

PGresult *
store_consumption_lines (meso_db_t *db, const char *clinic, const char *appointment)
{
    const char *p[] = { clinic, appointment };
    return meso_db_query (db,
        RESV_CONSUMED_SQL, 2, p);
}

int
store_reservation_line_insert (meso_db_t *db, const char *clinic, const char *appointment,
                               const char *lot_id, const char *ingredient, int64_t amount)
{
    char a[24];
    store_i64text (a, sizeof a, amount);
    const char *p[] = { clinic, appointment, lot_id, ingredient, a };
    return meso_db_exec (db,
        "INSERT INTO inventory.reservation_line (clinic_id, appointment_id, lot_id, "
        "  ingredient_code, amount_milli) VALUES ($1, $2, $3, $4, $5::bigint)", 5, p);
}

int
store_reservation_line_add (meso_db_t *db, const char *clinic, const char *appointment,
                            const char *lot_id, const char *ingredient, int64_t amount)
{
    char a[24];
    store_i64text (a, sizeof a, amount);
    const char *p[] = { clinic, appointment, lot_id, ingredient, a };
    return meso_db_exec (db,
        "INSERT INTO inventory.reservation_line (clinic_id, appointment_id, lot_id, "
        "  ingredient_code, amount_milli) VALUES ($1, $2, $3, $4, $5::bigint) "
        "ON CONFLICT (clinic_id, appointment_id, lot_id) DO UPDATE "
        "SET amount_milli = inventory.reservation_line.amount_milli + EXCLUDED.amount_milli", 5, p);
}

int
store_reservation_line_delete (meso_db_t *db, const char *clinic, const char *appointment,
                               const char *lot_id)
{
    const char *p[] = { clinic, appointment, lot_id };
    return meso_db_exec (db,
        "DELETE FROM inventory.reservation_line "
        "WHERE clinic_id = $1 AND appointment_id = $2 AND lot_id = $3", 3, p);
}

int
store_reservation_redate (meso_db_t *db, const char *clinic, const char *appointment,
                          const char *session_date)
{
    const char *p[] = { clinic, appointment, session_date };
    return meso_db_exec (db,
        "UPDATE inventory.reservation SET session_date = $3::date "
        "WHERE clinic_id = $1 AND appointment_id = $2", 3, p);
}

int
store_consumption_insert (meso_db_t *db, const char *clinic, const char *appointment,
                          const char *lot_id, const char *ingredient, int64_t amount)
{
    char a[24];
    store_i64text (a, sizeof a, amount);
    const char *p[] = { clinic, appointment, lot_id, ingredient, a };
    return meso_db_exec (db,
        "INSERT INTO inventory.consumption (clinic_id, appointment_id, lot_id, ingredient_code, "
        "  amount_milli) VALUES ($1, $2, $3, $4, $5::bigint) "
        "ON CONFLICT (clinic_id, appointment_id, lot_id) DO UPDATE "
        "  SET amount_milli = inventory.consumption.amount_milli + EXCLUDED.amount_milli", 5, p);
}


/* ----------------------------------------------------- recalls and holds */

int
store_gap_insert (meso_db_t *db, const char *clinic, const char *appointment,
                  const char *ingredient, const char *lot_id, int64_t missing, int64_t usable,
                  const char *reason)
{
    char m[24], u[24];
    store_i64text (m, sizeof m, missing);
    store_i64text (u, sizeof u, usable);
    const char *p[] = { clinic, appointment, ingredient, lot_id, m, u, reason ? reason : "" };
    return meso_db_exec (db,
        "INSERT INTO inventory.reservation_gap (clinic_id, appointment_id, ingredient_code, lot_id, "
        "  missing_milli, usable_milli, reason) VALUES ($1, $2, $3, $4, $5::bigint, $6::bigint, $7) "
        "ON CONFLICT (clinic_id, appointment_id, ingredient_code, lot_id) DO UPDATE "
        "SET missing_milli = inventory.reservation_gap.missing_milli + EXCLUDED.missing_milli, "
        "  usable_milli = EXCLUDED.usable_milli", 7, p);
}

PGresult *
store_reservation_gaps (meso_db_t *db, const char *clinic, const char *appointment)
{
    const char *p[] = { clinic, appointment };
    return meso_db_query (db,
        RESV_GAPS_SQL, 2, p);
}

PGresult *
store_at_risk (meso_db_t *db, const char *clinic, const char *from, const char *const *after,
               uint32_t limit)
{
    char l[16];
    snprintf (l, sizeof l, "%u", limit);
    const char *p[] = { clinic, from ? from : "", after ? after[0] : NULL, after ? after[1] : NULL,
                        after ? after[2] : NULL, after ? after[3] : NULL, l };
    return meso_db_query (db,
        "SELECT g.appointment_id, r.patient_id, g.clinic_id, g.ingredient_code, g.lot_id, "
        "  l.lot_number, r.session_date::text, g.missing_milli, g.usable_milli, i.unit, g.reason "
        "FROM inventory.reservation_gap g "
        "JOIN inventory.reservation r ON r.clinic_id = g.clinic_id "
        "  AND r.appointment_id = g.appointment_id AND r.status = 'held' "
        "JOIN inventory.lot l ON l.clinic_id = g.clinic_id AND l.lot_id = g.lot_id "
        "JOIN inventory.ingredient i ON i.code = g.ingredient_code "
        "WHERE g.clinic_id = $1 AND r.session_date >= coalesce (nullif ($2, '')::date, '-infinity') "
        "  AND ($3::date IS NULL OR (r.session_date, g.appointment_id, g.ingredient_code, g.lot_id::text) "
        "      > ($3::date, $4, $5, $6)) "
        "ORDER BY r.session_date, g.appointment_id, g.ingredient_code, g.lot_id::text LIMIT $7::int", 7, p);
}

PGresult *
store_hold_lines (meso_db_t *db, const char *clinic, const char *appointment)
{
    const char *p[] = { clinic, appointment };
    return meso_db_query (db,
        "SELECT rl.ingredient_code, rl.amount_milli, rl.lot_id, "
        "  (l.expiry_date - DATE '1970-01-01'), (l.recalled_at IS NOT NULL)::int, l.expiry_date::text, "
        "  l.lot_number "
        "FROM inventory.reservation_line rl "
        "JOIN inventory.lot l ON l.clinic_id = rl.clinic_id AND l.lot_id = rl.lot_id "
        "WHERE rl.clinic_id = $1 AND rl.appointment_id = $2 "
        "ORDER BY rl.ingredient_code, l.expiry_date, rl.lot_id", 2, p);
}
