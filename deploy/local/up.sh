#!/usr/bin/env bash
# up.sh -- builds meso and runs the whole set on this machine: a throwaway
# PostgreSQL cluster in <checkout>/.local/pg, the migrations, and every
# daemon that has been built, each with its own database role.
#
#   deploy/local/up.sh            (stop with deploy/local/down.sh)
#
# Environment:
#   MESO_LOCAL_PGPORT   port of the local cluster (default 54320)
#   MESO_BUILD_TYPE     CMake build type of build/ (default RelWithDebInfo)
#   MESO_BUILD_DIR      use the executables already built in this folder
#                       (e.g. a test build) instead of building build/
#   MESO_LOCAL_DIR      state folder instead of <checkout>/.local (keep it
#                       short: the PostgreSQL socket path must fit 107 bytes)
#   MESO_LOCAL_PORT_BASE  daemons listen on base+1..base+7 (default 7100)
#
# Layout under <checkout>/.local: pg/ (the cluster; socket in pg/run),
# logs/<service>.log (JSON lines), run/<service>.pid, keys/ (the CURVE key
# pairs: one per daemon and operator.key_secret, the local run's
# break-glass key that mesoctl uses by default; the demo's people in
# keys/people).
#
# Keys: on first start `mesoctl keys init` makes the pairs (never
# overwriting one), and after migrating `mesoctl access bootstrap`
# registers the daemons as service principals and the operator key;
# every daemon gets MESO_KEYS. Both are no-ops on later starts.
#
# Running it again is harmless: the build is incremental, the cluster and
# daemons that are already up are left alone, migrations apply once.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd -P)
PROG=$(basename "$0")
LOCAL=${MESO_LOCAL_DIR:-$ROOT/.local}
PGDIR=$LOCAL/pg
PGPORT=${MESO_LOCAL_PGPORT:-54320}
SOCK=$PGDIR/run
BUILD=${MESO_BUILD_DIR:-$ROOT/build}
BIN=$BUILD/bin
LOGS=$LOCAL/logs
RUN=$LOCAL/run
KEYS=$LOCAL/keys

# name port: the daemons and their ROUTER ports, in start order (events
# first: the others write to its outbox and it publishes their events).
PB=${MESO_LOCAL_PORT_BASE:-7100}
SERVICES=(events:$((PB + 5)) screening:$((PB + 1)) inventory:$((PB + 3)) billing:$((PB + 4))
          scheduling:$((PB + 2)) webhooks:$((PB + 7)))

die() { echo "$PROG: $*" >&2; exit 1; }
say() { echo "== $*"; }

admin_conninfo() { echo "host=$SOCK port=$PGPORT user=meso dbname=${1:-meso}"; }

# True when the pid file names a live process running binary $2.
alive() {
    local pidfile=$1 bin=$2 pid
    [ -f "$pidfile" ] || return 1
    pid=$(cat "$pidfile" 2>/dev/null) || return 1
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
    # Guard against a recycled pid: the process must be our binary (the
    # link ends in " (deleted)" when the binary was rebuilt since).
    local exe
    exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || return 1
    [ "${exe% (deleted)}" = "$(readlink -f "$bin")" ]
}

psql_bin() {
    if command -v psql >/dev/null 2>&1; then command -v psql; return; fi
    ls -d /usr/lib/postgresql/*/bin/psql 2>/dev/null | sort -t/ -k5,5 -rn | head -n1
}

# ------------------------------------------------------------------ build
if [ -n "${MESO_BUILD_DIR:-}" ]; then
    say "using the executables in $BIN (MESO_BUILD_DIR; not building)"
else
    say "building into $BUILD"
    cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE="${MESO_BUILD_TYPE:-RelWithDebInfo}" \
          -DMESO_TESTS=OFF >/dev/null
    cmake --build "$BUILD" -j"$(nproc)" >"$BUILD/build.log" 2>&1 || {
        tail -n 40 "$BUILD/build.log" >&2
        die "build failed (full output in $BUILD/build.log)"
    }
fi
[ -x "$BIN/mesoctl" ] || die "$BIN/mesoctl was not built"

# ------------------------------------------------------------------- keys
say "keys in $KEYS"
"$BIN/mesoctl" keys init --dir "$KEYS" | grep -v '^kept ' || die "cannot make the keys in $KEYS"

# --------------------------------------------------------------- database
say "starting PostgreSQL in $PGDIR on port $PGPORT"
mkdir -p "$LOGS" "$RUN"
"$ROOT/deploy/local/pg.sh" start "$PGDIR" "$PGPORT"

PSQL=$(psql_bin)
[ -n "$PSQL" ] || die "psql not found (apt-get install postgresql-client)"
if [ "$("$PSQL" "$(admin_conninfo postgres)" -tAc "SELECT 1 FROM pg_database WHERE datname = 'meso'")" != "1" ]; then
    "$PSQL" "$(admin_conninfo postgres)" -q -c "CREATE DATABASE meso" \
        || die "cannot create database meso"
fi

say "migrating"
"$BIN/mesoctl" migrate --db "$(admin_conninfo)" --dir "$ROOT/deploy/sql"
say "registering the daemons' keys and the operator key"
"$BIN/mesoctl" access bootstrap --db "$(admin_conninfo)" --keys "$KEYS"

# ---------------------------------------------------------------- daemons
ENV_COMMON=(
    MESO_SCREENING_ENDPOINT=tcp://127.0.0.1:$((PB + 1))
    MESO_SCHEDULING_ENDPOINT=tcp://127.0.0.1:$((PB + 2))
    MESO_INVENTORY_ENDPOINT=tcp://127.0.0.1:$((PB + 3))
    MESO_BILLING_ENDPOINT=tcp://127.0.0.1:$((PB + 4))
    MESO_EVENTS_ENDPOINT=tcp://127.0.0.1:$((PB + 5))
    MESO_EVENTS_PUB_ENDPOINT=tcp://127.0.0.1:$((PB + 6))
    MESO_WEBHOOKS_ENDPOINT=tcp://127.0.0.1:$((PB + 7))
    MESO_KEYS=$KEYS
)
# Every daemon gets them all: inventory and billing consume session events
# and scheduling screening events from the events endpoints.
# mesoctl below (health) talks to these endpoints too.
export "${ENV_COMMON[@]}"

started=()
absent=()
for entry in "${SERVICES[@]}"; do
    svc=${entry%%:*}
    port=${entry##*:}
    bin=$BIN/meso-$svc
    pidfile=$RUN/$svc.pid
    if [ ! -x "$bin" ]; then
        absent+=("$svc")
        continue
    fi
    started+=("$svc")
    if alive "$pidfile" "$bin"; then
        if [ "$(readlink "/proc/$(cat "$pidfile")/exe")" != "$(readlink -f "$bin")" ]; then
            echo "meso-$svc already running (pid $(cat "$pidfile")) an older build;" \
                 "down.sh then up.sh to restart it"
        else
            echo "meso-$svc already running (pid $(cat "$pidfile"))"
        fi
        continue
    fi
    extra=()
    [ "$svc" = events ] && extra+=(MESO_EVENTS_PUB_BIND=tcp://127.0.0.1:$((PB + 6)))
    # A scheduling worker waits on screening and inventory for most of a
    # booking's saga, so scheduling runs more workers than cores (README,
    # Configuration: MESO_SCHEDULING_WORKERS).
    [ "$svc" = scheduling ] && extra+=(MESO_WORKERS=${MESO_SCHEDULING_WORKERS:-4})
    # setsid: the daemon leaves this script's session, so closing the
    # terminal or ^C on a later command does not reach it.
    env "${ENV_COMMON[@]}" "${extra[@]}" \
        MESO_DB="host=$SOCK port=$PGPORT user=meso_$svc dbname=meso" \
        MESO_BIND="tcp://127.0.0.1:$port" \
        setsid "$bin" >>"$LOGS/$svc.log" 2>&1 </dev/null &
    echo $! >"$pidfile"
    echo "meso-$svc started (pid $!, tcp://127.0.0.1:$port, log $LOGS/$svc.log)"
done

if [ ${#started[@]} -gt 0 ]; then
    list=$(IFS=,; echo "${started[*]}")
    say "waiting for $list to be healthy"
    ok=0
    for _ in $(seq 1 60); do
        if "$BIN/mesoctl" health --services "$list" --timeout 500 >/dev/null 2>&1; then
            ok=1
            break
        fi
        # A daemon that exited will not become healthy: say so now.
        for svc in "${started[@]}"; do
            if ! alive "$RUN/$svc.pid" "$BIN/meso-$svc"; then
                echo "--- last lines of $LOGS/$svc.log:" >&2
                tail -n 20 "$LOGS/$svc.log" >&2 || true
                die "meso-$svc exited during start-up"
            fi
        done
        sleep 0.5
    done
    if [ $ok -ne 1 ]; then
        "$BIN/mesoctl" health --services "$list" || true
        die "not every daemon became healthy within 30 s (logs in $LOGS)"
    fi
fi

# ------------------------------------------------------------------- demo
if [ -x "$ROOT/deploy/local/demo.sh" ]; then
    say "running deploy/local/demo.sh"
    env "${ENV_COMMON[@]}" MESO_DB="$(admin_conninfo)" MESOCTL="$BIN/mesoctl" \
        "$ROOT/deploy/local/demo.sh"
fi

# ---------------------------------------------------------------- summary
echo
if [ ${#started[@]} -gt 0 ]; then
    "$BIN/mesoctl" health --services "$(IFS=,; echo "${started[*]}")" || true
else
    echo "no daemon has been built yet; only the database is running"
fi
[ ${#absent[@]} -eq 0 ] || echo "(not built, so not started: ${absent[*]})"
echo
echo "database:  psql \"$(admin_conninfo)\""
echo "logs:      $LOGS/<service>.log"
echo "health:    $BIN/mesoctl health${started:+ --services $(IFS=,; echo "${started[*]}")}"
echo "keys:      $KEYS (mesoctl calls as operator.key_secret there; MESO_KEY=<file> for another)"
