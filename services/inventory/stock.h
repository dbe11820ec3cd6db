/* stock.h -- the decisions of holding, moving and drawing stock, pure (no
 * I/O, no database).
 *
 * Reserve, Redate and Consume lock the lots they touch (lotset.c), then
 * decide here from the locked, current quantities, then write what was
 * decided. A stock_set_t is those lots as plain arrays -- lot i of the set
 * is element i of each -- together with the changes decided so far
 * (d_on_hand, d_reserved), which are what the caller writes back. Every
 * function below only reads and changes the set and its arguments, so each
 * decision is tested directly (tests/unit/test_stock.c).
 *
 * The picking order itself (first-expiring-first) is fefo.h's; this file
 * applies it to the lots of one ingredient among a set of several. */
#ifndef INVENTORY_STOCK_H
#define INVENTORY_STOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fefo.h"

typedef struct {
    size_t n;
    const char **ingredient;        /* catalogue code of each lot (not owned) */
    fefo_lot_t *fl;                 /* expiry, received, available, recalled */
    int64_t *on_hand, *reserved;    /* current, as changed in memory */
    int64_t *d_on_hand, *d_reserved; /* the changes to write */
    bool *mine;                     /* holds a line of the reservation being consumed */
} stock_set_t;

/* A set of n lots, every array zeroed. NULL when out of memory. */
stock_set_t *stock_set_new (size_t n);
void stock_set_destroy (stock_set_t **self_p);

/* What one ingredient needs, and (set by stock_shortages) how much of it
 * is usable. */
typedef struct {
    const char *ingredient;
    int64_t amount;
    int64_t usable;
} stock_need_t;

/* Sets needs[k].usable to the total available on session_date in the
 * set's lots of needs[k].ingredient (fefo_usable). Returns how many needs
 * are short (usable < amount): Reserve holds all or nothing and names
 * every shortage. */
int stock_shortages (const stock_set_t *self, stock_need_t *needs, size_t nneeds,
                     int32_t session_date);

/* Holds amount of ingredient, first-expiring-first among the set's lots of
 * it usable on session_date: reserved and d_reserved grow and available
 * falls by each pick. Writes the picks (lot: index into the set) into
 * picks[] (room for self->n) and returns how many, or -1 when the usable
 * total is smaller than amount (nothing held; *usable, when non-NULL, is
 * that total either way), -2 out of memory or a non-positive amount. */
int stock_hold (stock_set_t *self, const char *ingredient, int32_t session_date, int64_t amount,
                fefo_pick_t *picks, int64_t *usable);

/* Undoes amount of a hold on lot: reserved and d_reserved fall, available
 * grows. */
void stock_give_back (stock_set_t *self, size_t lot, int64_t amount);

/* A line of a reservation, or an amount a session used: lot is an index
 * into the set, -1 when none is named or the lot is not in the set. */
typedef struct {
    const char *ingredient;
    long lot;
    int64_t amount;
} stock_line_t;

/* One line given back or one pick held again by stock_redate. */
typedef struct {
    size_t line;            /* released: the line; held: the first line of its ingredient */
    size_t lot;             /* index into the set */
    int64_t amount;
} stock_moved_t;

/* An ingredient that could not be held again. */
typedef struct {
    size_t line;            /* the first line of the ingredient */
    int64_t moved;          /* what had to be held again */
    int64_t usable;         /* what is usable on the new date */
} stock_short_t;

/* The plan of a Redate. The caller gives room for n_lines released and
 * shorts, and self->n held. */
typedef struct {
    stock_moved_t *released;
    size_t n_released;
    stock_moved_t *held;
    size_t n_held;
    stock_short_t *shorts;
    size_t n_shorts;
    size_t failed;          /* after -1: the first line of the ingredient whose
                             * picking failed, or n_lines when none was reached */
} stock_redate_t;

/* Moves the held lines[0..n) (ordered by ingredient, so the lines of one
 * ingredient are contiguous) to session_date: a line whose lot expires
 * before that day is given back, and per ingredient what was given back is
 * held again (stock_hold) among the lots usable on that day. Lines in lots
 * that stay usable do not move. An ingredient that cannot be held again is
 * listed in shorts (the caller refuses the whole move then). Returns 0, or
 * -1 when out of memory (plan->failed says where). */
int stock_redate (stock_set_t *self, const stock_line_t *lines, size_t n, int32_t session_date,
                  stock_redate_t *plan);

/* Draws amount of ingredient from on hand: first the lots of the
 * reservation being consumed (mine), first-expiring-first, then the other
 * lots usable on session_date. A recalled lot is never drawn from, not
 * even one the reservation held (a recall takes it out of every hold;
 * this is the last guard). on_hand and d_on_hand fall. Returns what could
 * not be drawn. */
int64_t stock_draw (stock_set_t *self, const char *ingredient, int32_t session_date, int64_t amount);

/* What a session consumed. The reservation's held lines are given back
 * (marked mine); then, when actual is NULL, exactly what was held is taken
 * from the same lots (a line in a lot recalled since is drawn from the
 * other lots instead); else each actual amount is taken from the lot it
 * names (when that lot is of its ingredient and not recalled) and the
 * rest drawn (stock_draw) -- nactual may be 0 then, and nothing is taken.
 * left[k] (room for nactual) is set to what actual[k] could not get.
 * Returns the total that could not be drawn. */
int64_t stock_consume (stock_set_t *self, const stock_line_t *held, size_t nheld,
                       const stock_line_t *actual, size_t nactual, int32_t session_date,
                       int64_t *left);

/* ---- recalls ----
 *
 * A held line a recall takes out of a reservation, to be held again from
 * the other lots of its ingredient. */
typedef struct {
    const char *ingredient;
    long lot;                   /* the recalled lot, index into the set (-1: not in it) */
    int32_t session_date;
    int64_t amount;             /* held in the recalled lot */
    /* set by stock_recover: */
    bool covered;               /* held again in full */
    int64_t usable;             /* usable on the session date when its turn came */
    size_t first_pick, n_picks; /* its picks in picks[] when covered */
} stock_gap_t;

/* Re-covers what a recall takes out of held reservations. Every line is
 * first given back to its (recalled) lot; then, in the order given -- the
 * caller orders them by session date, then appointment, so the earliest
 * session is served first -- each is held again (stock_hold) among the
 * lots usable on its session date, first-expiring-first, all or nothing:
 * a line that cannot be covered in full holds nothing new (covered false,
 * usable says what there was). picks[] needs room for n * self->n picks.
 * Returns how many lines were covered, or -1 when out of memory or an
 * amount is not positive (the set is then partly changed: the caller
 * rolls back). */
int stock_recover (stock_set_t *self, stock_gap_t *gaps, size_t n, fefo_pick_t *picks);

/* One held line as the hold check sees it. */
typedef struct {
    const char *ingredient;
    int32_t expiry;             /* of its lot */
    bool recalled;              /* its lot is recalled */
    int64_t amount;
} stock_held_t;

typedef enum {
    STOCK_HOLD_RECALLED,        /* a line sits in a recalled lot */
    STOCK_HOLD_EXPIRED,         /* a line sits in a lot that expires before the session */
    STOCK_HOLD_SHORT,           /* an ingredient is held below what the recipe needs */
    STOCK_HOLD_AT_RISK          /* short because a recall left it so */
} stock_hold_problem_t;

typedef struct {
    stock_hold_problem_t kind;
    size_t need;                /* index into needs[] (SHORT, AT_RISK) */
    size_t line;                /* index into lines[] (RECALLED, EXPIRED) */
    int64_t needed, held;       /* SHORT, AT_RISK: the need and what usable lines hold */
} stock_problem_t;

/* Whether a hold is complete and valid for a session on session_date:
 * every line in a lot neither recalled nor expired by then, and for every
 * need (the recipe's, per ingredient) at least its amount in such lines.
 * at_risk[k] (NULL: none) marks a need a recall left short: its shortage
 * is AT_RISK rather than SHORT. Writes the problems into out (room for
 * nneeds + nlines), lines first, and returns how many: 0 means good. */
size_t stock_check_hold (const stock_need_t *needs, size_t nneeds, const bool *at_risk,
                         const stock_held_t *lines, size_t nlines, int32_t session_date,
                         stock_problem_t *out);

/* Whether DiscardExpired may run as of as_of, given the clinic's local
 * today (days since 1970-01-01 both). It takes the lots that expired
 * before as_of, so a day after today would throw away stock still good
 * today: only as_of up to today is allowed. */
bool stock_discard_as_of_ok (int32_t as_of, int32_t local_today);

#endif
