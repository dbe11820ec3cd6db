/* fefo.c -- first-expiring-first-out lot picking (see fefo.h).
 *
 * Pure: no I/O, no clock, no database. Lot lists are short (a clinic holds
 * a handful of lots of one ingredient), so an insertion sort of indices is
 * the simple and stable choice. */
#include "fefo.h"

#include <stdlib.h>

bool
fefo_usable (const fefo_lot_t *lot, int32_t session_date)
{
    return !lot->recalled && lot->available > 0 && lot->expiry >= session_date;
}

int64_t
fefo_usable_total (const fefo_lot_t *lots, size_t nlots, int32_t session_date)
{
    int64_t total = 0;
    for (size_t i = 0; i < nlots; i++)
        if (fefo_usable (&lots[i], session_date))
            total += lots[i].available;
    return total;
}

/* a before b in FEFO order. */
static bool
s_before (const fefo_lot_t *lots, size_t a, size_t b)
{
    if (lots[a].expiry != lots[b].expiry)
        return lots[a].expiry < lots[b].expiry;
    if (lots[a].received_us != lots[b].received_us)
        return lots[a].received_us < lots[b].received_us;
    return a < b;
}

void
fefo_sort (const fefo_lot_t *lots, size_t *idx, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        size_t v = idx[i];
        size_t j = i;
        while (j > 0 && s_before (lots, v, idx[j - 1])) {
            idx[j] = idx[j - 1];
            j--;
        }
        idx[j] = v;
    }
}

int
fefo_pick (const fefo_lot_t *lots, size_t nlots, int32_t session_date, int64_t amount,
           fefo_pick_t *picks, int64_t *usable)
{
    int64_t total = fefo_usable_total (lots, nlots, session_date);
    if (usable)
        *usable = total;
    if (amount <= 0)
        return -2;
    if (total < amount)
        return -1;
    size_t *idx = malloc ((nlots ? nlots : 1) * sizeof *idx);
    if (!idx)
        return -2;
    size_t n = 0;
    for (size_t i = 0; i < nlots; i++)
        if (fefo_usable (&lots[i], session_date))
            idx[n++] = i;
    fefo_sort (lots, idx, n);
    int npicks = 0;
    int64_t left = amount;
    for (size_t k = 0; k < n && left > 0; k++) {
        int64_t take = lots[idx[k]].available < left ? lots[idx[k]].available : left;
        picks[npicks].lot = idx[k];
        picks[npicks].amount = take;
        npicks++;
        left -= take;
    }
    free (idx);
    return npicks;
}
