/* store_reports.c -- the SQL of inventory's valuation (reports.c,
 * "inventory.Valuation").
 *
 * One statement over the clinic's lots and its movement ledger. On hand
 * at the end of the period is the ledger's sum up to the end, not the
 * lot's on_hand now: every change of on_hand is a movement (receive,
 * adjust, discard, transfer_out, transfer_in, consume), so the two agree
 * at now and the ledger can answer for any earlier day. Reserved is the
 * lots' reserved_milli now: reservations keep no history by date.
 *
 * Each measure comes back per ingredient as the costed quantity, its
 * value in thousandths of a cent (quantity in thousandths of the unit x
 * cents per unit, summed exactly as numeric) and the uncosted quantity:
 * the division to cents, half to even, is meso_report_div_half_even's,
 * once per ingredient and measure, so no lot's rounding adds up. The
 * period's bounds are the clinic's local midnights (the zone given by
 * scheduling.GetClinic, PostgreSQL's AT TIME ZONE). */
#include "inventory.h"

/* The three columns of one measure x of q. */
#define MEASURE(x) \
    "coalesce (sum (" x ") FILTER (WHERE q.c IS NOT NULL), 0)::bigint, " \
    "coalesce (sum (" x "::numeric * q.c) FILTER (WHERE q.c IS NOT NULL), 0)::bigint, " \
    "coalesce (sum (" x ") FILTER (WHERE q.c IS NULL), 0)::bigint, "

#define IN_PERIOD(kinds) "FILTER (WHERE m.at >= b.t0 AND m.kind IN " kinds ")"

PGresult *
store_valuation (meso_db_t *db, const char *clinic, const char *tz, const char *from,
                 const char *to, const char *ingredient)
{
    const char *p[] = { clinic, tz, ingredient ? ingredient : "", from, to };
    return meso_db_query (db,
        "WITH b AS (SELECT ($4::date::timestamp AT TIME ZONE $2) AS t0, "
        "                  (($5::date + 1)::timestamp AT TIME ZONE $2) AS t1), "
        "l AS (SELECT l.lot_id, l.ingredient_code, l.unit_cost_cents AS c, l.reserved_milli "
        "      FROM inventory.lot l WHERE l.clinic_id = $1 AND ($3 = '' OR l.ingredient_code = $3)), "
        "m AS (SELECT m.lot_id, sum (m.delta_milli) AS on_hand, "
        "        coalesce (sum (m.delta_milli) " IN_PERIOD ("('receive', 'transfer_in')") ", 0) AS received, "
        "        coalesce (-sum (m.delta_milli) " IN_PERIOD ("('consume')") ", 0) AS consumed, "
        "        coalesce (-sum (m.delta_milli) " IN_PERIOD ("('discard')") ", 0) AS discarded, "
        "        coalesce (sum (m.delta_milli) " IN_PERIOD ("('adjust')") ", 0) AS adjusted "
        "      FROM inventory.movement m CROSS JOIN b "
        "      WHERE m.clinic_id = $1 AND m.at < b.t1 "
        "        AND m.lot_id IN (SELECT lot_id FROM l) GROUP BY m.lot_id), "
        "q AS (SELECT l.ingredient_code, l.c, coalesce (m.on_hand, 0) AS on_hand, "
        "        l.reserved_milli AS reserved, coalesce (m.received, 0) AS received, "
        "        coalesce (m.consumed, 0) AS consumed, coalesce (m.discarded, 0) AS discarded, "
        "        coalesce (m.adjusted, 0) AS adjusted "
        "      FROM l LEFT JOIN m USING (lot_id)) "
        "SELECT q.ingredient_code, i.unit, "
        MEASURE ("q.on_hand") MEASURE ("q.reserved") MEASURE ("q.received")
        MEASURE ("q.consumed") MEASURE ("q.discarded") MEASURE ("q.adjusted")
        "  count (*) FILTER (WHERE q.c IS NULL) "
        "FROM q JOIN inventory.ingredient i ON i.code = q.ingredient_code "
        "GROUP BY q.ingredient_code, i.unit ORDER BY q.ingredient_code", 5, p);
}
