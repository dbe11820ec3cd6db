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
 * reservation being consumed (mine), first-expiring-first and even if
 * recalled since (they were held for this session), then the other lots
 * usable on session_date. on_hand and d_on_hand fall. Returns what could
 * not be drawn. */
int64_t stock_draw (stock_set_t *self, const char *ingredient, int32_t session_date, int64_t amount);

/* What a session consumed. The reservation's held lines are given back
 * (marked mine); then, when actual is NULL, exactly what was held is taken
 * from the same lots; else each actual amount is taken from the lot it
 * names (when that lot is of its ingredient) and the rest drawn
 * (stock_draw) -- nactual may be 0 then, and nothing is taken. left[k]
 * (room for nactual) is set to what actual[k] could not get. Returns the
 * total that could not be drawn. */
int64_t stock_consume (stock_set_t *self, const stock_line_t *held, size_t nheld,
                       const stock_line_t *actual, size_t nactual, int32_t session_date,
                       int64_t *left);

/* Whether DiscardExpired may run as of as_of, given the clinic's local
 * today (days since 1970-01-01 both). It takes the lots that expired
 * before as_of, so a day after today would throw away stock still good
 * today: only as_of up to today is allowed. */
bool stock_discard_as_of_ok (int32_t as_of, int32_t local_today);

#endif
