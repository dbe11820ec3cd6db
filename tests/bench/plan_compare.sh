#!/usr/bin/env bash
# plan_compare.sh -- PlanCourse of this tree against a git revision's: both
# daemons on the same database, a few hundred varied requests (clinics in
# Europe/Paris and America/New_York across clock changes, preferred times,
# grades, session counts, named practitioners, patients booked elsewhere,
# days off), replies compared byte for byte. Then the busy-clinic PlanCourse
# benchmark with both daemons called alternately (before/after in the same
# machine state). Exits 1 when a reply differs.
#
#   tests/bench/plan_compare.sh [REV]       REV defaults to HEAD
#
# Why: a change to how PlanCourse loads its calendar must leave every plan
# as it was; only a comparison with the code before it shows that.
# Folders: build-bench (this tree, Release), build-bench/rev-<sha> (REV),
# a throwaway cluster in build-bench/pg (MESO_BENCH_PGPORT, 54327); set
# MESO_BENCH_BUILD to use another build folder.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd -P)
BUILD=${MESO_BENCH_BUILD:-$ROOT/build-bench}
PGDIR=$BUILD/pg
PGPORT=${MESO_BENCH_PGPORT:-54327}
REV=$(git -C "$ROOT" rev-parse "${1:-HEAD}")
OTHER=$BUILD/rev-$REV

"$ROOT/deploy/local/setup.sh" >/dev/null
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DMESO_TEST_PGPORT="$PGPORT" >/dev/null
cmake --build "$BUILD" -j"$(nproc)" >/dev/null
if [ ! -x "$OTHER/build/bin/meso-scheduling" ]; then
    mkdir -p "$OTHER/src"
    git -C "$ROOT" archive "$REV" | tar -x -C "$OTHER/src"
    cmake -S "$OTHER/src" -B "$OTHER/build" -DCMAKE_BUILD_TYPE=Release -DMESO_TEST_PGPORT="$PGPORT" >/dev/null
    cmake --build "$OTHER/build" -j"$(nproc)" --target meso-scheduling >/dev/null
fi

MESO_PG_FAST=1 "$ROOT/deploy/local/pg.sh" start "$PGDIR" "$PGPORT" >/dev/null
trap '"$ROOT/deploy/local/pg.sh" stop "$PGDIR" "$PGPORT" >/dev/null' EXIT
export MESO_TEST_PGHOST=$PGDIR/run MESO_TEST_PGPORT=$PGPORT MESO_SOURCE_DIR=$ROOT MESO_BUILD_DIR=$BUILD
export MESO_BENCH_COMPARE=$OTHER/build
MESO_BENCH_ONLY=compare "$BUILD/tests/bench/bench_scheduling"
MESO_BENCH_ONLY=plan "$BUILD/tests/bench/bench_scheduling"
