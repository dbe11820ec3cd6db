#!/usr/bin/env bash
# run.sh -- builds and runs every benchmark, printing each figure next to its
# reference. Nothing here passes or fails on time.
#
#   tests/bench/run.sh            all benchmarks
#   tests/bench/run.sh bus        only bench_bus (no database needed)
#   tests/bench/run.sh events     only bench_events
#   tests/bench/run.sh scheduling only bench_scheduling (needs pgbench
#                                 and psql): bookings through the daemons
#                                 beside their own SQL (booking.pgbench)
#                                 and the essential work (essential.pgbench);
#                                 MESO_BENCH_INSTANCES=1,4 (the default)
#                                 lists the booking configurations: n
#                                 scheduling instances, n/2 (>= 1) each of
#                                 screening and inventory
#   tests/bench/run.sh reports    only bench_reports (needs psql): every
#                                 report on a generated chain of 100
#                                 clinics over 2 years, p50/p99 through
#                                 the daemon beside the same SQL directly;
#                                 MESO_BENCH_N requests per row (200)
#   tests/bench/run.sh frontdesk  only bench_frontdesk (needs psql): the
#                                 agenda of a busy clinic day and the
#                                 patient search on a generated chain of
#                                 100 clinics (20 practitioners, 8 rooms
#                                 each) over 2 years, p50/p99 through the
#                                 daemons beside the same SQL directly;
#                                 MESO_BENCH_KEEP=1 times again on the
#                                 chain the last run generated
#   tests/bench/run.sh webhooks   bench_events (the raw feed), then
#                                 bench_webhooks: 50 subscriptions to a
#                                 local receiver, deliveries/s and
#                                 commit-to-delivery p50/p99;
#                                 MESO_BENCH_RATE events/s (50)
#   tests/bench/run.sh scale      only bench_scale (needs psql): the same
#                                 requests on a small database and on a
#                                 generated chain of 100 clinics over 2
#                                 years (3 million sessions, 20 million
#                                 events, 10 million idempotency keys),
#                                 p50/p99 side by side; MESO_BENCH_SCALE
#                                 (0..1] sizes the chain, MESO_BENCH_KEEP=1
#                                 times again on the kept databases;
#                                 not part of "all" (it generates for
#                                 minutes)
#   tests/bench/run.sh memory     only bench_memory: each daemon's RssAnon
#                                 and PSS idle and after a million
#                                 requests (MESO_BENCH_N), with
#                                 MESO_WORKERS from the environment
#
# Benchmarks that need PostgreSQL get a throwaway cluster of their own in
# build-bench/pg (port 54327), stopped on exit.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd -P)
BUILD=$ROOT/build-bench
PGDIR=$BUILD/pg
PGPORT=${MESO_BENCH_PGPORT:-54327}

"$ROOT/deploy/local/setup.sh" >/dev/null
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DMESO_TEST_PGPORT="$PGPORT" >/dev/null
cmake --build "$BUILD" -j"$(nproc)" >/dev/null

which=${1:-all}
pg_started=0
start_pg() {
    MESO_PG_FAST=1 "$ROOT/deploy/local/pg.sh" start "$PGDIR" "$PGPORT" >/dev/null
    pg_started=1
    export MESO_TEST_PGHOST=$PGDIR/run MESO_TEST_PGPORT=$PGPORT
}
trap '[ $pg_started -eq 1 ] && "$ROOT/deploy/local/pg.sh" stop "$PGDIR" "$PGPORT" >/dev/null' EXIT
export MESO_SOURCE_DIR=$ROOT MESO_BUILD_DIR=$BUILD

if [ "$which" = all ] || [ "$which" = bus ]; then
    # The bus logs every request, as in production: to a file, not a terminal.
    "$BUILD/tests/bench/bench_bus" 2>"$BUILD/bench_bus.log"
    echo "(request log of bench_bus: $BUILD/bench_bus.log)"
fi
if [ "$which" = all ] || [ "$which" = events ] || [ "$which" = webhooks ]; then
    start_pg
    "$BUILD/tests/bench/bench_events"
fi
if [ "$which" = all ] || [ "$which" = scheduling ]; then
    [ $pg_started -eq 1 ] || start_pg
    "$BUILD/tests/bench/bench_scheduling"
fi
if [ "$which" = all ] || [ "$which" = reports ]; then
    [ $pg_started -eq 1 ] || start_pg
    "$BUILD/tests/bench/bench_reports"
fi
if [ "$which" = all ] || [ "$which" = frontdesk ]; then
    [ $pg_started -eq 1 ] || start_pg
    "$BUILD/tests/bench/bench_frontdesk"
fi
if [ "$which" = all ] || [ "$which" = webhooks ]; then
    [ $pg_started -eq 1 ] || start_pg
    "$BUILD/tests/bench/bench_webhooks"
fi
if [ "$which" = all ] || [ "$which" = memory ]; then
    [ $pg_started -eq 1 ] || start_pg
    "$BUILD/tests/bench/bench_memory"
fi
if [ "$which" = scale ]; then
    start_pg
    "$BUILD/tests/bench/bench_scale"
fi
