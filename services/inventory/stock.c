/* stock.c -- holding, moving and drawing stock in a set of locked lots
 * (see stock.h).
 *
 * Pure: no I/O, no clock, no database; the only effect is on the set and
 * the caller's arrays. Sets are small (the lots of a few ingredients in one
 * clinic), so every search is a linear scan over the set, and a pick works
 * on a copy of the lots of one ingredient (fefo_pick) whose indices are
 * mapped back to the set. */
#include "stock.h"

#include <stdlib.h>
#include <string.h>

stock_set_t *
stock_set_new (size_t n)
{
    stock_set_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    size_t cap = n + 1;
    self->n = n;
    self->ingredient = calloc (cap, sizeof *self->ingredient);
    self->fl = calloc (cap, sizeof *self->fl);
    self->on_hand = calloc (cap, sizeof (int64_t));
    self->reserved = calloc (cap, sizeof (int64_t));
    self->d_on_hand = calloc (cap, sizeof (int64_t));
    self->d_reserved = calloc (cap, sizeof (int64_t));
    self->mine = calloc (cap, sizeof (bool));
    if (!self->ingredient || !self->fl || !self->on_hand || !self->reserved || !self->d_on_hand
        || !self->d_reserved || !self->mine)
        stock_set_destroy (&self);
    return self;
}

void
stock_set_destroy (stock_set_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    stock_set_t *self = *self_p;
    free (self->ingredient);
    free (self->fl);
    free (self->on_hand);
    free (self->reserved);
    free (self->d_on_hand);
    free (self->d_reserved);
    free (self->mine);
    free (self);
    *self_p = NULL;
}

static bool
s_of (const stock_set_t *self, size_t i, const char *ingredient)
{
    return strcmp (self->ingredient[i], ingredient) == 0;
}

int
stock_shortages (const stock_set_t *self, stock_need_t *needs, size_t nneeds, int32_t session_date)
{
    int short_count = 0;
    for (size_t k = 0; k < nneeds; k++) {
        int64_t usable = 0;
        for (size_t i = 0; i < self->n; i++)
            if (s_of (self, i, needs[k].ingredient) && fefo_usable (&self->fl[i], session_date))
                usable += self->fl[i].available;
        needs[k].usable = usable;
        if (usable < needs[k].amount)
            short_count++;
    }
    return short_count;
}

int
stock_hold (stock_set_t *self, const char *ingredient, int32_t session_date, int64_t amount,
            fefo_pick_t *picks, int64_t *usable)
{
    size_t *sub = calloc (self->n + 1, sizeof *sub);
    fefo_lot_t *subl = calloc (self->n + 1, sizeof *subl);
    if (!sub || !subl) {
        free (sub);
        free (subl);
        return -2;
    }
    size_t ns = 0;
    for (size_t i = 0; i < self->n; i++)
        if (s_of (self, i, ingredient)) {
            sub[ns] = i;
            subl[ns] = self->fl[i];
            ns++;
        }
    int np = fefo_pick (subl, ns, session_date, amount, picks, usable);
    for (int p = 0; p < np; p++) {
        size_t i = sub[picks[p].lot];
        picks[p].lot = i;
        self->d_reserved[i] += picks[p].amount;
        self->reserved[i] += picks[p].amount;
        self->fl[i].available -= picks[p].amount;
    }
    free (sub);
    free (subl);
    return np;
}

void
stock_give_back (stock_set_t *self, size_t lot, int64_t amount)
{
    self->d_reserved[lot] -= amount;
    self->reserved[lot] -= amount;
    self->fl[lot].available += amount;
}

int
stock_redate (stock_set_t *self, const stock_line_t *lines, size_t n, int32_t session_date,
              stock_redate_t *plan)
{
    plan->n_released = plan->n_held = plan->n_shorts = 0;
    plan->failed = 0;
    fefo_pick_t *picks = calloc (self->n + 1, sizeof *picks);
    if (!picks) {
        plan->failed = n;
        return -1;
    }
    int rc = 0;
    for (size_t g = 0, e; g < n; g = e) {
        /* Give back what sits in lots that expire before the new date:
         * the lines of one ingredient are [g, e). */
        int64_t moved = 0;
        for (e = g; e < n && strcmp (lines[e].ingredient, lines[g].ingredient) == 0; e++) {
            if (lines[e].lot < 0 || self->fl[lines[e].lot].expiry >= session_date)
                continue;
            size_t li = (size_t) lines[e].lot;
            stock_give_back (self, li, lines[e].amount);
            moved += lines[e].amount;
            plan->released[plan->n_released++] = (stock_moved_t) { e, li, lines[e].amount };
        }
        if (moved == 0)
            continue;
        /* ... and hold it again in lots usable on the new date. */
        int64_t usable = 0;
        int np = stock_hold (self, lines[g].ingredient, session_date, moved, picks, &usable);
        if (np == -1) {
            plan->shorts[plan->n_shorts++] = (stock_short_t) { g, moved, usable };
            continue;
        }
        if (np < 0) {
            plan->failed = g;
            rc = -1;
            break;
        }
        for (int p = 0; p < np; p++)
            plan->held[plan->n_held++] = (stock_moved_t) { g, picks[p].lot, picks[p].amount };
    }
    free (picks);
    return rc;
}

int64_t
stock_draw (stock_set_t *self, const char *ingredient, int32_t session_date, int64_t amount)
{
    size_t *idx = calloc (self->n + 1, sizeof *idx);
    if (!idx)
        return amount;
    for (int pass = 0; pass < 2 && amount > 0; pass++) {
        size_t n = 0;
        for (size_t i = 0; i < self->n; i++) {
            if (!s_of (self, i, ingredient) || self->mine[i] != (pass == 0))
                continue;
            /* The reservation's own lots were reserved for this session:
             * use them even if they expire before it (the session is
             * happening); other lots must be usable on the session's
             * date. A recalled lot never: a recalled lot is not injected. */
            fefo_lot_t probe = self->fl[i];
            probe.available = self->on_hand[i] - self->reserved[i];
            if (probe.recalled || (pass == 1 && !fefo_usable (&probe, session_date)))
                continue;
            idx[n++] = i;
        }
        fefo_sort (self->fl, idx, n);
        for (size_t k = 0; k < n && amount > 0; k++) {
            size_t i = idx[k];
            int64_t free_qty = self->on_hand[i] - self->reserved[i];
            int64_t take = free_qty < amount ? free_qty : amount;
            if (take <= 0)
                continue;
            self->on_hand[i] -= take;
            self->d_on_hand[i] -= take;
            amount -= take;
        }
    }
    free (idx);
    return amount;
}

int64_t
stock_consume (stock_set_t *self, const stock_line_t *held, size_t nheld,
               const stock_line_t *actual, size_t nactual, int32_t session_date, int64_t *left)
{
    /* Give back what was held, then draw what was used. */
    for (size_t i = 0; i < nheld; i++) {
        if (held[i].lot < 0)
            continue;
        size_t li = (size_t) held[i].lot;
        self->reserved[li] -= held[i].amount;
        self->d_reserved[li] -= held[i].amount;
        self->mine[li] = true;
    }
    int64_t shortfall = 0;
    if (!actual) {
        /* As reserved: the same lots, the same amounts; what sits in a
         * lot recalled since is drawn from the others. */
        for (size_t i = 0; i < nheld; i++) {
            if (held[i].lot < 0)
                continue;
            size_t li = (size_t) held[i].lot;
            if (self->fl[li].recalled) {
                shortfall += stock_draw (self, held[i].ingredient, session_date, held[i].amount);
                continue;
            }
            self->on_hand[li] -= held[i].amount;
            self->d_on_hand[li] -= held[i].amount;
        }
        return shortfall;
    }
    for (size_t k = 0; k < nactual; k++) {
        const stock_line_t *x = &actual[k];
        int64_t rest = x->amount;
        if (x->lot >= 0 && s_of (self, (size_t) x->lot, x->ingredient)
            && !self->fl[x->lot].recalled) {
            size_t li = (size_t) x->lot;
            int64_t free_qty = self->on_hand[li] - self->reserved[li];
            int64_t take = free_qty < rest ? free_qty : rest;
            if (take > 0) {
                self->on_hand[li] -= take;
                self->d_on_hand[li] -= take;
                rest -= take;
            }
        }
        rest = stock_draw (self, x->ingredient, session_date, rest);
        left[k] = rest;
        if (rest > 0)
            shortfall += rest;
    }
    return shortfall;
}

int
stock_recover (stock_set_t *self, stock_gap_t *gaps, size_t n, fefo_pick_t *picks)
{
    for (size_t k = 0; k < n; k++) {
        if (gaps[k].amount <= 0)
            return -1;
        gaps[k].covered = false;
        gaps[k].usable = 0;
        gaps[k].first_pick = gaps[k].n_picks = 0;
        if (gaps[k].lot >= 0)
            stock_give_back (self, (size_t) gaps[k].lot, gaps[k].amount);
    }
    int covered = 0;
    size_t used = 0;
    for (size_t k = 0; k < n; k++) {
        stock_gap_t *g = &gaps[k];
        int np = stock_hold (self, g->ingredient, g->session_date, g->amount, picks + used, &g->usable);
        if (np == -1)
            continue;           /* not enough: this session is at risk */
        if (np < 0)
            return -1;
        g->covered = true;
        g->first_pick = used;
        g->n_picks = (size_t) np;
        used += (size_t) np;
        covered++;
    }
    return covered;
}

size_t
stock_check_hold (const stock_need_t *needs, size_t nneeds, const bool *at_risk,
                  const stock_held_t *lines, size_t nlines, int32_t session_date,
                  stock_problem_t *out)
{
    size_t np = 0;
    for (size_t i = 0; i < nlines; i++) {
        if (lines[i].recalled)
            out[np++] = (stock_problem_t) { STOCK_HOLD_RECALLED, 0, i, 0, lines[i].amount };
        else if (lines[i].expiry < session_date)
            out[np++] = (stock_problem_t) { STOCK_HOLD_EXPIRED, 0, i, 0, lines[i].amount };
    }
    for (size_t k = 0; k < nneeds; k++) {
        int64_t held = 0;
        for (size_t i = 0; i < nlines; i++)
            if (strcmp (lines[i].ingredient, needs[k].ingredient) == 0 && !lines[i].recalled
                && lines[i].expiry >= session_date)
                held += lines[i].amount;
        if (held < needs[k].amount)
            out[np++] = (stock_problem_t) { at_risk && at_risk[k] ? STOCK_HOLD_AT_RISK : STOCK_HOLD_SHORT,
                                            k, 0, needs[k].amount, held };
    }
    return np;
}

bool
stock_discard_as_of_ok (int32_t as_of, int32_t local_today)
{
    return as_of <= local_today;
}
