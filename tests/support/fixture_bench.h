/* fixture_bench.h -- set-ups the benchmarks share: the "bench" recipe
 * through inventory's own methods, and stock.low events appended to the
 * outbox (the load the relay benchmarks measure). No assertions: callers
 * check what is returned. */
#ifndef MESO_FIXTURE_BENCH_H
#define MESO_FIXTURE_BENCH_H

#include "fixture_patient.h"
#include "meso/db.h"

/* Upserts the ingredient caffeine (mg) and the recipe "bench" (1000 mg of
 * it into the thighs) through inv with the caller's call. Returns 0, or -1
 * at the first request that is not OK. */
int mt_bench_recipe (mt_call_fn *call, meso_bus_client_t *inv);

/* Appends one stock.low event (caffeine, 1.5 of 5 g) of clinic in time
 * zone tz to the outbox, in the caller's transaction on db. Returns 0 or
 * -1 (the error is db's). */
int mt_outbox_stock_low (meso_db_t *db, const char *id, const char *clinic, const char *tz);

#endif
