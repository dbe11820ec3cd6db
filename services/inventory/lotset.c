/* lotset.c -- the locked lots of one transaction.
 *
 * Reserve, Release, Redate and Consume lock every lot of the ingredients
 * they touch (store_lots_lock: SELECT ... FOR UPDATE in lot_id order, so
 * concurrent writers never deadlock on lots), load them into a stock_set_t
 * for the pure decisions of stock.c, and write back only what was decided
 * (d_on_hand, d_reserved). The set's arrays point into the locked result,
 * so the result lives as long as the set. */
#include "inventory.h"

#include <string.h>

void
lotset_free (lotset_t *l)
{
    PQclear (l->res);
    stock_set_destroy (&l->set);
    memset (l, 0, sizeof *l);
}

int
lotset_lock (meso_db_t *db, const char *clinic, const char *codes, lotset_t *l)
{
    memset (l, 0, sizeof *l);
    l->res = store_lots_lock (db, clinic, codes);
    if (!l->res)
        return -1;
    int n = PQntuples (l->res);
    l->set = stock_set_new ((size_t) n);
    if (!l->set) {
        lotset_free (l);
        meso_db_set_error (db, NULL, "out of memory");
        return -1;
    }
    stock_set_t *s = l->set;
    for (int i = 0; i < n; i++) {
        s->ingredient[i] = PQgetvalue (l->res, i, LOT_INGREDIENT);
        s->on_hand[i] = store_i64 (l->res, i, LOT_ON_HAND);
        s->reserved[i] = store_i64 (l->res, i, LOT_RESERVED);
        s->fl[i].expiry = (int32_t) store_i64 (l->res, i, LOT_EXPIRY_DAYS);
        s->fl[i].received_us = store_i64 (l->res, i, LOT_RECEIVED_US);
        s->fl[i].recalled = store_i64 (l->res, i, LOT_RECALLED) != 0;
        s->fl[i].available = s->on_hand[i] - s->reserved[i];
    }
    return 0;
}

long
lotset_find (const lotset_t *l, const char *lot_id)
{
    for (size_t i = 0; i < l->set->n; i++)
        if (strcmp (lotset_lot_id (l, i), lot_id) == 0)
            return (long) i;
    return -1;
}

const char *
lotset_lot_id (const lotset_t *l, size_t i)
{
    return PQgetvalue (l->res, (int) i, LOT_ID);
}

int
lotset_write (meso_db_t *db, const char *clinic, const lotset_t *l)
{
    const stock_set_t *s = l->set;
    for (size_t i = 0; i < s->n; i++)
        if (s->d_on_hand[i] || s->d_reserved[i])
            if (store_lot_change (db, clinic, lotset_lot_id (l, i), s->d_on_hand[i],
                                  s->d_reserved[i]) != 0)
                return -1;
    return 0;
}
