#!/usr/bin/env bash
# trace_booking.sh -- the SQL of one BookSession as the daemons send it: a
# log_statement=all trace of bench_scheduling's bookings (one client, one
# instance of each daemon), cut at the scheduling daemon's advisory
# unlock that ends each booking, printed for one booking in the middle of
# the run with its count of statements. This is how
# tests/bench/booking.pgbench is taken (compare them when the booking path
# changes): tests/bench/trace_to_pgbench.py turns this output into the
# body of that script.
#
#   tests/bench/trace_booking.sh [BUILD_DIR]     (default build-bench, built by run.sh)
#
# The cluster is a throwaway one in BUILD_DIR/trace-pg on
# MESO_BENCH_PGPORT (54327), stopped on exit. Output: one line per
# statement, "pid | statement" (parameters in the line after), then the
# count. BEGIN, COMMIT and the statements of a pipeline (db_pipeline.c)
# are counted each; the log does not show which went in one round trip.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd -P)
BUILD=${1:-$ROOT/build-bench}
PGDIR=$BUILD/trace-pg
PGPORT=${MESO_BENCH_PGPORT:-54327}
[ -x "$BUILD/tests/bench/bench_scheduling" ] || { echo "build $BUILD first (tests/bench/run.sh)" >&2; exit 1; }
command -v python3 >/dev/null || { echo "python3 is needed to cut the trace" >&2; exit 1; }

MESO_PG_FAST=1 "$ROOT/deploy/local/pg.sh" start "$PGDIR" "$PGPORT" >/dev/null
trap '"$ROOT/deploy/local/pg.sh" stop "$PGDIR" "$PGPORT" >/dev/null' EXIT
psql -q -h "$PGDIR/run" -p "$PGPORT" -U meso -d postgres -v ON_ERROR_STOP=1 \
    -c "ALTER SYSTEM SET log_statement = 'all'" \
    -c "ALTER SYSTEM SET log_line_prefix = '%m [%p] '" -c "SELECT pg_reload_conf()" >/dev/null
: >"$PGDIR/pg.log.trace"
start=$(wc -c <"$PGDIR/pg.log")
MESO_TEST_PGHOST=$PGDIR/run MESO_TEST_PGPORT=$PGPORT MESO_SOURCE_DIR=$ROOT MESO_BUILD_DIR=$BUILD \
    MESO_BENCH_CLIENTS=1 MESO_BENCH_ONLY=booking MESO_BENCH_INSTANCES=1 \
    "$BUILD/tests/bench/bench_scheduling" >/dev/null 2>"$BUILD/trace_booking.err" || true
tail -c +"$((start + 1))" "$PGDIR/pg.log" >"$PGDIR/pg.log.trace"
psql -q -h "$PGDIR/run" -p "$PGPORT" -U meso -d postgres \
    -c "ALTER SYSTEM RESET log_statement" -c "ALTER SYSTEM RESET log_line_prefix" \
    -c "SELECT pg_reload_conf()" >/dev/null

python3 - "$PGDIR/pg.log.trace" <<'EOF'
import re, sys
line_re = re.compile(r'^\S+ \S+ \S+ \[(\d+)\] (LOG|DETAIL):  (.*)$')
entries = []            # [pid, statement, parameters]
for raw in open(sys.argv[1], errors='replace'):
    m = line_re.match(raw.rstrip('\n'))
    if not m:
        if entries and not raw.startswith('20'):
            entries[-1][1] += ' ' + raw.strip()        # a statement's next line
        continue
    pid, kind, text = m.groups()
    if kind == 'LOG':
        s = re.match(r'(?:statement|execute [^:]+): (.*)', text)
        if s:
            entries.append([pid, s.group(1), ''])
    elif kind == 'DETAIL' and entries and text.startswith('parameters:'):
        entries[-1][2] = text
# A daemon booking ends with the scheduling backend's advisory unlock.
ends = [i for i, e in enumerate(entries) if 'pg_advisory_unlock' in e[1]]
books = []
for a, b in zip(ends, ends[1:]):
    seg = entries[a + 1:b + 1]
    if any('INSERT INTO scheduling.appointment' in e[1] for e in seg) and not any('pgb-' in e[1] + e[2] for e in seg):
        books.append(seg)
if not books:
    sys.exit('no booking found in the trace (see trace_booking.err)')
seg = books[len(books) // 2]
for pid, stmt, params in seg:
    print(f'{pid} | {stmt}')
    if params:
        print(f'      {params}')
print(f'-- {len(seg)} statements in this booking ({len(books)} bookings traced; '
      f'statements per booking: min {min(map(len, books))}, max {max(map(len, books))})')
EOF
