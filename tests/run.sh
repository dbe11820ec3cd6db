#!/usr/bin/env bash
# run.sh -- the test command: installs what is missing, builds, and runs
# every test (unit, integration, fault, fuzz-corpus replay) with ctest.
#
#   tests/run.sh                  build in build-test/, run everything
#   tests/run.sh --sanitize       build in build-asan/ with ASan + UBSan,
#                                 run the unit and integration tests
#   tests/run.sh --tsan           build in build-tsan/ with ThreadSanitizer,
#                                 run the unit and integration tests; a
#                                 report in a test or in a daemon it started
#                                 fails the run (see tests/support/harness.c)
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
tsan=0
if [ "${1:-}" = "--sanitize" ]; then
    sanitize=1
    shift
elif [ "${1:-}" = "--tsan" ]; then
    tsan=1
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
elif [ $tsan -eq 1 ]; then
    BUILD=$ROOT/build-tsan
    # Not 54327: the benchmarks use it.
    CMAKE_ARGS=(-DMESO_TSAN=ON -DMESO_TEST_PGPORT=54326)
    CTEST_ARGS=(-L "unit|integration")
    # halt_on_error: the first report ends the process with status 66, the
    # equivalent of ASan's abort_on_error. Daemons started by the tests
    # inherit this environment.
    export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}
    if [ -s "$ROOT/tests/tsan.supp" ]; then
        export TSAN_OPTIONS="$TSAN_OPTIONS:suppressions=$ROOT/tests/tsan.supp"
    fi
else
    BUILD=$ROOT/build-test
    CMAKE_ARGS=(-DMESO_TEST_PGPORT=54329)
    CTEST_ARGS=()
fi

cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo "${CMAKE_ARGS[@]}"
cmake --build "$BUILD" -j"$(nproc)"

# Daemon logs of this run only (the harness checks its own children; this
# also catches daemons started by the shell tests).
if [ $tsan -eq 1 ]; then
    rm -rf "$BUILD/test-logs"
fi

status=0
ctest --test-dir "$BUILD" --output-on-failure -j2 "${CTEST_ARGS[@]}" "$@" || status=$?
if [ $tsan -eq 1 ] && [ -d "$BUILD/test-logs" ]; then
    reports=$(grep -l "WARNING: ThreadSanitizer" -r "$BUILD/test-logs" || true)
    if [ -n "$reports" ]; then
        echo "ThreadSanitizer reports in daemon logs:" >&2
        echo "$reports" >&2
        [ $status -ne 0 ] || status=66
    fi
fi
exit $status
