#!/usr/bin/env bash
# run.sh -- the test command: installs what is missing, builds, and runs
# every test (unit, integration, fault, fuzz-corpus replay) with ctest.
#
#   tests/run.sh                  build in build-test/, run everything
#   tests/run.sh --sanitize       build in build-asan/ with ASan + UBSan,
#                                 run the unit and integration tests
#   tests/run.sh [...] -R money   extra arguments go to ctest
#
# The integration and fault tests share one throwaway PostgreSQL cluster,
# started and stopped by ctest fixtures (pg_start / pg_stop) in the build
# folder; MESO_PG_FAST=1 turns its fsync off, since it is thrown away.
# Exits with ctest's status.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd -P)
cd "$ROOT"

sanitize=0
if [ "${1:-}" = "--sanitize" ]; then
    sanitize=1
    shift
fi

"$ROOT/deploy/local/setup.sh"
export MESO_PG_FAST=1

if [ $sanitize -eq 1 ]; then
    BUILD=$ROOT/build-asan
    # Another port than build-test's, so both runs can go at once.
    CMAKE_ARGS=(-DMESO_SANITIZE=ON -DMESO_TEST_PGPORT=54328)
    CTEST_ARGS=(-L "unit|integration")
    export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
    export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
else
    BUILD=$ROOT/build-test
    CMAKE_ARGS=(-DMESO_TEST_PGPORT=54329)
    CTEST_ARGS=()
fi

cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo "${CMAKE_ARGS[@]}"
cmake --build "$BUILD" -j"$(nproc)"

status=0
ctest --test-dir "$BUILD" --output-on-failure -j2 "${CTEST_ARGS[@]}" "$@" || status=$?
exit $status
