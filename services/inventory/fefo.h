/* fefo.h -- first-expiring-first-out lot picking, pure (no I/O).
 *
 * Given the lots of one ingredient in one clinic (what is available in
 * each, its expiry date, whether it is recalled) and an amount needed for a
 * session on a date, choose how much to take from which lot: lots that
 * expire before the session date or are recalled are never picked; the
 * others are drawn in order of expiry date (earliest first), ties broken by
 * the order the lots were received, then by the caller's order, so a pick is
 * deterministic. An amount larger than any one lot is split over several.
 *
 * The store locks the candidate lots (SELECT ... FOR UPDATE) and hands their
 * current quantities here; this file decides, the store writes. */
#ifndef INVENTORY_FEFO_H
#define INVENTORY_FEFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    int32_t expiry;         /* last usable day, days since 1970-01-01 */
    int64_t received_us;    /* when received (tie-break) */
    int64_t available;      /* on hand - reserved, thousandths; <= 0: none */
    bool recalled;
} fefo_lot_t;

typedef struct {
    size_t lot;             /* index into the caller's lots[] */
    int64_t amount;         /* > 0 */
} fefo_pick_t;

/* True when a lot may serve a session on session_date: not recalled, has
 * something available, and does not expire before that day (a lot whose
 * last day is the session day is usable). */
bool fefo_usable (const fefo_lot_t *lot, int32_t session_date);

/* Total that fefo_pick could take for a session on session_date. */
int64_t fefo_usable_total (const fefo_lot_t *lots, size_t nlots, int32_t session_date);

/* Chooses lots for amount (> 0) for a session on session_date. Writes at
 * most nlots picks into picks[] in FEFO order and returns how many, or -1
 * when the usable total is smaller than amount (nothing is picked then;
 * *usable, when non-NULL, is set to that total either way). Returns -2 on
 * out-of-memory or a non-positive amount. */
int fefo_pick (const fefo_lot_t *lots, size_t nlots, int32_t session_date, int64_t amount,
               fefo_pick_t *picks, int64_t *usable);

/* Sorts idx[0..n) (indices into lots[]) into FEFO order (expiry, received,
 * index). For callers that draw in FEFO order under their own rules. */
void fefo_sort (const fefo_lot_t *lots, size_t *idx, size_t n);

#endif
