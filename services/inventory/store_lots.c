/* store_lots.c -- the SQL of lots: one lot or the locked lots of some
 * ingredients, receipts, changes and the movement ledger, stock and its
 * totals, reorder points and the stock.low crossing, recalls, the
 * forecast, and the lots due a stock.expiring notice.
 *
 * Every statement that returns lots returns the same columns (LOT_COLS,
 * in the order of inventory.h's LOT_* enum), which is why every such
 * statement is in this file. Lots are locked in lot_id order (store.c). */
#include "inventory.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOT_COLS \
    "l.clinic_id, l.lot_id, l.ingredient_code, i.unit, l.lot_number, l.supplier, " \
    "l.expiry_date::text, l.on_hand_milli, l.reserved_milli, " \
    "(l.recalled_at IS NOT NULL)::int, coalesce (l.recall_reason, ''), " \
    "(l.expiry_date - DATE '1970-01-01'), " \
    "(extract (epoch FROM l.received_at) * 1000000)::bigint, l.unit_cost_cents "
#define LOT_FROM " FROM inventory.lot l JOIN inventory.ingredient i ON i.code = l.ingredient_code "

void
store_lot_fill (const PGresult *res, int r, Meso__V1__Lot *lot)
{
    meso__v1__lot__init (lot);
    lot->clinic_id = PQgetvalue (res, r, LOT_CLINIC);
    lot->lot_id = PQgetvalue (res, r, LOT_ID);
    lot->ingredient_code = PQgetvalue (res, r, LOT_INGREDIENT);
    lot->unit = INVENTORY_UNIT (PQgetvalue (res, r, LOT_UNIT));
    lot->lot_number = PQgetvalue (res, r, LOT_NUMBER);
    lot->supplier = PQgetvalue (res, r, LOT_SUPPLIER);
    lot->expiry_date = PQgetvalue (res, r, LOT_EXPIRY);
    lot->on_hand_milli = store_i64 (res, r, LOT_ON_HAND);
    lot->reserved_milli = store_i64 (res, r, LOT_RESERVED);
    lot->available_milli = lot->on_hand_milli - lot->reserved_milli;
    lot->recalled = store_i64 (res, r, LOT_RECALLED) != 0;
    lot->recall_reason = PQgetvalue (res, r, LOT_RECALL_REASON);
    if (!PQgetisnull (res, r, LOT_COST)) {
        lot->cost_case = MESO__V1__LOT__COST_UNIT_COST_CENTS;
        lot->unit_cost_cents = store_i64 (res, r, LOT_COST);
    }
}

/* ----------------------------------------------------------------- lots */

PGresult *
store_lot_get (meso_db_t *db, const char *clinic, const char *lot_id, bool for_update)
{
    const char *p[] = { clinic, lot_id };
    return meso_db_query (db, for_update
        ? "SELECT " LOT_COLS LOT_FROM "WHERE l.clinic_id = $1 AND l.lot_id = $2 FOR UPDATE OF l"
        : "SELECT " LOT_COLS LOT_FROM "WHERE l.clinic_id = $1 AND l.lot_id = $2", 2, p);
}

PGresult *
store_lots_lock (meso_db_t *db, const char *clinic, const char *codes)
{
    const char *p[] = { clinic, codes };
    return meso_db_query (db,
        "SELECT " LOT_COLS LOT_FROM
        "WHERE l.clinic_id = $1 AND l.ingredient_code = ANY ($2::text[]) "
        "ORDER BY l.lot_id FOR UPDATE OF l", 2, p);
}

int
store_lot_receive (meso_db_t *db, const char *clinic, const char *ingredient,
                   const char *lot_number, const char *supplier, const char *expiry, int64_t qty,
                   int64_t cost, char *lot_id)
{
    char q[24], c[24];
    store_i64text (q, sizeof q, qty);
    store_i64text (c, sizeof c, cost);
    const char *p[] = { clinic, ingredient, lot_number, supplier ? supplier : "", expiry, q,
                        cost >= 0 ? c : NULL };
    /* The WHERE of DO UPDATE refuses a different expiry, or a cost other
     * than the lot's (a cost for an uncosted lot sets it): no row comes
     * back. */
    PGresult *res = meso_db_query (db,
        "INSERT INTO inventory.lot AS l (clinic_id, ingredient_code, lot_number, supplier, "
        "  expiry_date, on_hand_milli, unit_cost_cents) "
        "VALUES ($1, $2, $3, $4, $5::date, $6::bigint, $7::bigint) "
        "ON CONFLICT (clinic_id, ingredient_code, lot_number) DO UPDATE "
        "  SET on_hand_milli = l.on_hand_milli + EXCLUDED.on_hand_milli, "
        "      unit_cost_cents = coalesce (l.unit_cost_cents, EXCLUDED.unit_cost_cents) "
        "  WHERE l.expiry_date = EXCLUDED.expiry_date "
        "    AND (EXCLUDED.unit_cost_cents IS NULL OR l.unit_cost_cents IS NULL "
        "         OR l.unit_cost_cents = EXCLUDED.unit_cost_cents) "
        "RETURNING l.lot_id", 7, p);
    if (!res)
        return -1;
    int done = PQntuples (res) == 1;
    if (done)
        snprintf (lot_id, 40, "%s", PQgetvalue (res, 0, 0));
    PQclear (res);
    if (done)
        return 1;
    /* Which of the two refused it. */
    res = meso_db_query (db,
        "SELECT (expiry_date = $4::date)::int FROM inventory.lot "
        "WHERE clinic_id = $1 AND ingredient_code = $2 AND lot_number = $3", 4,
        (const char *[]) { clinic, ingredient, lot_number, expiry });
    if (!res)
        return -1;
    int same_expiry = PQntuples (res) == 1 && strcmp (PQgetvalue (res, 0, 0), "1") == 0;
    PQclear (res);
    return same_expiry ? 2 : 0;
}

int
store_lot_change (meso_db_t *db, const char *clinic, const char *lot_id, int64_t d_on_hand,
                  int64_t d_reserved)
{
    char a[24], b[24];
    store_i64text (a, sizeof a, d_on_hand);
    store_i64text (b, sizeof b, d_reserved);
    const char *p[] = { clinic, lot_id, a, b };
    return meso_db_exec (db,
        "UPDATE inventory.lot SET on_hand_milli = on_hand_milli + $3::bigint, "
        "  reserved_milli = reserved_milli + $4::bigint "
        "WHERE clinic_id = $1 AND lot_id = $2", 4, p);
}

int
store_movement (meso_db_t *db, const char *clinic, const char *lot_id, const char *kind,
                int64_t delta, const char *appointment_id, const char *reason)
{
    char d[24];
    store_i64text (d, sizeof d, delta);
    const char *p[] = { clinic, lot_id, kind, d,
                        appointment_id && *appointment_id ? appointment_id : NULL,
                        reason ? reason : "" };
    return meso_db_exec (db,
        "INSERT INTO inventory.movement (clinic_id, lot_id, kind, delta_milli, appointment_id, reason) "
        "VALUES ($1, $2, $3, $4::bigint, $5, $6)", 6, p);
}

PGresult *
store_stock_lots (meso_db_t *db, const char *clinic, const char *ingredient, bool include_empty,
                  const char *const *after, uint32_t limit)
{
    char l[16];
    snprintf (l, sizeof l, "%u", limit);
    const char *p[] = { clinic, ingredient ? ingredient : "", include_empty ? "1" : "0",
                        after ? after[0] : NULL, after ? after[1] : NULL,
                        after ? after[2] : NULL, after ? after[3] : NULL, l };
    return meso_db_query (db,
        "SELECT " LOT_COLS LOT_FROM
        "WHERE l.clinic_id = $1 AND ($2 = '' OR l.ingredient_code = $2) "
        "  AND ($3::int = 1 OR l.on_hand_milli > 0) "
        "  AND ($4::text IS NULL OR (l.ingredient_code, l.expiry_date, l.received_at, l.lot_id::text) "
        "      > ($4, $5::date, timestamptz 'epoch' + $6::bigint * interval '1 microsecond', $7)) "
        "ORDER BY l.ingredient_code, l.expiry_date, l.received_at, l.lot_id::text LIMIT $8::int", 8, p);
}

PGresult *
store_stock_totals (meso_db_t *db, const char *clinic, const char *ingredient)
{
    const char *p[] = { clinic, ingredient ? ingredient : "" };
    return meso_db_query (db,
        "WITH t AS ("
        "  SELECT l.ingredient_code, sum (l.on_hand_milli)::bigint AS on_hand, "
        "    sum (l.reserved_milli)::bigint AS reserved, "
        "    coalesce (sum (l.on_hand_milli - l.reserved_milli) FILTER ("
        "      WHERE l.recalled_at IS NULL AND l.expiry_date >= (now () AT TIME ZONE 'UTC')::date), 0)::bigint AS available "
        "  FROM inventory.lot l WHERE l.clinic_id = $1 AND ($2 = '' OR l.ingredient_code = $2) "
        "  GROUP BY l.ingredient_code) "
        "SELECT t.ingredient_code, i.unit, t.on_hand, t.reserved, t.available, "
        "  coalesce (rp.reorder_point_milli, 0), "
        "  (rp.reorder_point_milli IS NOT NULL AND t.available < rp.reorder_point_milli)::int "
        "FROM t JOIN inventory.ingredient i ON i.code = t.ingredient_code "
        "LEFT JOIN inventory.reorder_point rp ON rp.clinic_id = $1 AND rp.ingredient_code = t.ingredient_code "
        "ORDER BY t.ingredient_code", 2, p);
}

int
store_local_today (meso_db_t *db, const char *tz, int32_t *days)
{
    const char *p[] = { tz };
    PGresult *res = meso_db_query (db,
        "SELECT (now() AT TIME ZONE $1)::date - date '1970-01-01'", 1, p);
    if (!res)
        return -1;
    *days = (int32_t) atoi (PQgetvalue (res, 0, 0));
    PQclear (res);
    return 0;
}

PGresult *
store_lots_expired_lock (meso_db_t *db, const char *clinic, const char *as_of)
{
    const char *p[] = { clinic, as_of };
    return meso_db_query (db,
        "SELECT " LOT_COLS LOT_FROM
        "WHERE l.clinic_id = $1 AND l.expiry_date < $2::date AND l.on_hand_milli > l.reserved_milli "
        "ORDER BY l.lot_id FOR UPDATE OF l", 2, p);
}

/* ------------------------------------------------------- reorder points */

int
store_low_check (meso_db_t *db, const char *clinic, const char *ingredient, int64_t *available,
                 int64_t *point)
{
    const char *p[] = { clinic, ingredient };
    PGresult *res = meso_db_query (db,
        "WITH old AS ("
        "  SELECT low_since FROM inventory.reorder_point "
        "  WHERE clinic_id = $1 AND ingredient_code = $2 FOR UPDATE), "
        "a AS ("
        "  SELECT coalesce (sum (on_hand_milli - reserved_milli), 0)::bigint AS v "
        "  FROM inventory.lot WHERE clinic_id = $1 AND ingredient_code = $2 "
        "    AND recalled_at IS NULL AND expiry_date >= (now () AT TIME ZONE 'UTC')::date) "
        "UPDATE inventory.reorder_point rp SET low_since = CASE "
        "    WHEN a.v < rp.reorder_point_milli THEN coalesce (rp.low_since, now ()) ELSE NULL END "
        "FROM a, old WHERE rp.clinic_id = $1 AND rp.ingredient_code = $2 "
        "RETURNING (old.low_since IS NULL AND rp.low_since IS NOT NULL)::int, a.v, rp.reorder_point_milli",
        2, p);
    if (!res)
        return -1;
    int crossed = 0;
    if (PQntuples (res) == 1) {
        crossed = (int) store_i64 (res, 0, 0);
        *available = store_i64 (res, 0, 1);
        *point = store_i64 (res, 0, 2);
    }
    PQclear (res);
    return crossed;
}

int
store_reorder_set (meso_db_t *db, const char *clinic, const char *ingredient, int64_t point,
                   uint32_t warn_days)
{
    char a[24], w[16];
    store_i64text (a, sizeof a, point);
    snprintf (w, sizeof w, "%u", warn_days);
    const char *p[] = { clinic, ingredient, a, w };
    return meso_db_exec (db,
        "INSERT INTO inventory.reorder_point (clinic_id, ingredient_code, reorder_point_milli, "
        "  expiring_warn_days) VALUES ($1, $2, $3::bigint, $4::int) "
        "ON CONFLICT (clinic_id, ingredient_code) DO UPDATE SET "
        "  reorder_point_milli = EXCLUDED.reorder_point_milli, "
        "  expiring_warn_days = EXCLUDED.expiring_warn_days", 4, p);
}

/* --------------------------------------------------------------- recall */

#define RECALL_WHERE \
    "(($1 <> '' AND l.lot_id = $1) OR ($1 = '' AND l.ingredient_code = $2 AND l.lot_number = $3)) " \
    "AND ($4 = '' OR l.clinic_id = $4) "

PGresult *
store_recall_mark (meso_db_t *db, const char *lot_id, const char *ingredient,
                   const char *lot_number, const char *clinic, const char *reason)
{
    const char *p[] = { lot_id ? lot_id : "", ingredient ? ingredient : "",
                        lot_number ? lot_number : "", clinic ? clinic : "", reason };
    PGresult *res = meso_db_query (db,
        "UPDATE inventory.lot l SET recalled_at = coalesce (l.recalled_at, now ()), "
        "  recall_reason = $5 "
        "WHERE " RECALL_WHERE, 5, p);
    if (!res)
        return NULL;
    PQclear (res);
    return meso_db_query (db,
        "SELECT " LOT_COLS LOT_FROM "WHERE " RECALL_WHERE
        "ORDER BY l.clinic_id, l.lot_id", 4, p);
}

PGresult *
store_recall_hits (meso_db_t *db, const char *lot_id, const char *ingredient,
                   const char *lot_number, const char *clinic)
{
    const char *p[] = { lot_id ? lot_id : "", ingredient ? ingredient : "",
                        lot_number ? lot_number : "", clinic ? clinic : "" };
    return meso_db_query (db,
        "WITH lots AS (SELECT l.clinic_id, l.lot_id FROM inventory.lot l WHERE " RECALL_WHERE "), "
        "hits AS ("
        "  SELECT c.clinic_id, c.appointment_id, 'consumed' AS state, c.lot_id, c.amount_milli "
        "  FROM inventory.consumption c JOIN lots USING (clinic_id, lot_id) "
        "  UNION ALL "
        "  SELECT rl.clinic_id, rl.appointment_id, 'reserved', rl.lot_id, rl.amount_milli "
        "  FROM inventory.reservation_line rl JOIN lots USING (clinic_id, lot_id) "
        "  JOIN inventory.reservation r ON r.clinic_id = rl.clinic_id "
        "    AND r.appointment_id = rl.appointment_id AND r.status = 'held') "
        "SELECT h.clinic_id, h.appointment_id, r.patient_id, r.session_date::text, h.state, "
        "  h.lot_id, h.amount_milli "
        "FROM hits h JOIN inventory.reservation r ON r.clinic_id = h.clinic_id "
        "  AND r.appointment_id = h.appointment_id "
        "ORDER BY h.clinic_id, r.session_date, h.appointment_id, h.lot_id", 4, p);
}

PGresult *
store_recall_held (meso_db_t *db, const char *lot_id, const char *ingredient,
                   const char *lot_number, const char *clinic)
{
    const char *p[] = { lot_id ? lot_id : "", ingredient ? ingredient : "",
                        lot_number ? lot_number : "", clinic ? clinic : "" };
    return meso_db_query (db,
        "SELECT r.clinic_id, r.appointment_id, r.patient_id, r.session_date::text, "
        "  (r.session_date - DATE '1970-01-01'), rl.lot_id, rl.ingredient_code, rl.amount_milli, "
        "  l.lot_number, i.unit "
        "FROM inventory.reservation r "
        "JOIN inventory.reservation_line rl ON rl.clinic_id = r.clinic_id "
        "  AND rl.appointment_id = r.appointment_id "
        "JOIN inventory.lot l ON l.clinic_id = rl.clinic_id AND l.lot_id = rl.lot_id "
        "JOIN inventory.ingredient i ON i.code = rl.ingredient_code "
        "WHERE r.status = 'held' AND " RECALL_WHERE
        "ORDER BY r.clinic_id, r.session_date, r.appointment_id, rl.lot_id "
        "FOR UPDATE OF r", 4, p);
}

/* ------------------------------------------------------------- forecast */

PGresult *
store_forecast (meso_db_t *db, const char *clinic, int horizon_days)
{
    char h[16];
    snprintf (h, sizeof h, "%d", horizon_days);
    const char *p[] = { clinic, h };
    return meso_db_query (db,
        "WITH d AS (SELECT (now () AT TIME ZONE 'UTC')::date AS today), "
        "lots AS ("
        "  SELECT l.* FROM inventory.lot l, d WHERE l.clinic_id = $1 "
        "    AND l.recalled_at IS NULL AND l.expiry_date >= d.today), "
        "codes AS ("
        "  SELECT ingredient_code FROM lots "
        "  UNION SELECT rl.ingredient_code FROM inventory.reservation_line rl "
        "    JOIN inventory.reservation r USING (clinic_id, appointment_id) "
        "    WHERE r.clinic_id = $1 AND r.status = 'held' "
        "  UNION SELECT ingredient_code FROM inventory.reorder_point WHERE clinic_id = $1) "
        "SELECT c.ingredient_code, i.unit, "
        "  coalesce ((SELECT sum (on_hand_milli) FROM lots WHERE ingredient_code = c.ingredient_code), 0)::bigint, "
        "  coalesce ((SELECT sum (reserved_milli) FROM lots WHERE ingredient_code = c.ingredient_code), 0)::bigint, "
        "  coalesce ((SELECT sum (rl.amount_milli) FROM inventory.reservation_line rl "
        "    JOIN inventory.reservation r USING (clinic_id, appointment_id), d "
        "    WHERE r.clinic_id = $1 AND r.status = 'held' AND rl.ingredient_code = c.ingredient_code "
        "      AND r.session_date <= d.today + $2::int), 0)::bigint, "
        "  coalesce ((SELECT sum (on_hand_milli - reserved_milli) FROM lots, d "
        "    WHERE ingredient_code = c.ingredient_code AND expiry_date < d.today + $2::int), 0)::bigint, "
        "  coalesce ((SELECT sum (cn.amount_milli) FROM inventory.consumption cn, d "
        "    WHERE cn.clinic_id = $1 AND cn.ingredient_code = c.ingredient_code "
        "      AND cn.consumed_at >= d.today - 30), 0)::bigint, "
        "  coalesce (rp.reorder_point_milli, 0), "
        "  (SELECT today::text FROM d), (SELECT (today + $2::int)::text FROM d) "
        "FROM codes c JOIN inventory.ingredient i ON i.code = c.ingredient_code "
        "LEFT JOIN inventory.reorder_point rp ON rp.clinic_id = $1 AND rp.ingredient_code = c.ingredient_code "
        "ORDER BY c.ingredient_code", 2, p);
}

/* ------------------------------------------------------------- expiring */

PGresult *
store_expiring_due (meso_db_t *db, int limit)
{
    char n[16];
    snprintf (n, sizeof n, "%d", limit);
    const char *p[] = { n };
    return meso_db_query (db,
        "SELECT " LOT_COLS LOT_FROM
        "LEFT JOIN inventory.reorder_point rp ON rp.clinic_id = l.clinic_id "
        "  AND rp.ingredient_code = l.ingredient_code "
        "WHERE l.expiring_sent_at IS NULL AND l.recalled_at IS NULL "
        "  AND l.on_hand_milli > l.reserved_milli "
        "  AND l.expiry_date <= (now () AT TIME ZONE 'UTC')::date + coalesce (rp.expiring_warn_days, 30) "
        "ORDER BY l.lot_id LIMIT $1::int FOR UPDATE OF l SKIP LOCKED", 1, p);
}

int
store_expiring_mark (meso_db_t *db, const char *clinic, const char *lot_id)
{
    const char *p[] = { clinic, lot_id };
    return meso_db_exec (db,
        "UPDATE inventory.lot SET expiring_sent_at = now () WHERE clinic_id = $1 AND lot_id = $2",
        2, p);
}
