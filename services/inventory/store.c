/* store.c -- the SQL of the inventory schema, and only that: what the
 * store files share (reading numbers out of results, writing them into
 * parameters) and the database clock. The statements themselves live by
 * aggregate: store_catalogue.c (ingredients, recipes), store_lots.c (lots,
 * the ledger, reorder points, recalls, forecasts, expiry notices),
 * store_holds.c (reservations and consumption), so no store file passes
 * a few hundred lines and each can be read with the methods it serves.
 *
 * Every statement is parameterised. Quantities travel as decimal text of
 * int64 (thousandths of the unit), dates as "YYYY-MM-DD".
 *
 * Locking: every statement that locks lots orders them by lot_id before
 * FOR UPDATE (the LockRows node sits above the Sort, so rows are locked in
 * that order). All writers lock lots that way, so two transactions never
 * wait on each other's lots in opposite orders; a deadlock elsewhere (a
 * transfer against its mirror image) is retried by meso_db_txn. */
#include "inventory.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int64_t
store_i64 (const PGresult *res, int r, int c)
{
    return strtoll (PQgetvalue (res, r, c), NULL, 10);
}

void
store_i64text (char *buf, size_t size, int64_t v)
{
    snprintf (buf, size, "%" PRId64, v);
}

int
store_today (meso_db_t *db, int32_t *days)
{
    PGresult *res = meso_db_query (db,
        "SELECT ((now () AT TIME ZONE 'UTC')::date - DATE '1970-01-01')", 0, NULL);
    if (!res)
        return -1;
    *days = (int32_t) store_i64 (res, 0, 0);
    PQclear (res);
    return 0;
}
