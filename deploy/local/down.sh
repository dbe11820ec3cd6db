#!/usr/bin/env bash
# down.sh -- stops what deploy/local/up.sh started: the daemons (SIGTERM,
# then SIGKILL after MESO_STOP_TIMEOUT seconds, default 10) and the local
# PostgreSQL cluster. The data in <checkout>/.local/pg is kept; remove that
# folder to start from an empty database. MESO_LOCAL_DIR: as for up.sh.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd -P)
PROG=$(basename "$0")
LOCAL=${MESO_LOCAL_DIR:-$ROOT/.local}
RUN=$LOCAL/run
TIMEOUT=${MESO_STOP_TIMEOUT:-10}

# Is pid a live meso daemon? (A stale pid file may name a recycled pid.)
ours() {
    local pid=$1 exe
    kill -0 "$pid" 2>/dev/null || return 1
    exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || return 1
    case "$(basename "$exe")" in meso-*) return 0 ;; *) return 1 ;; esac
}

pids=()
names=()
for pidfile in "$RUN"/*.pid; do
    [ -f "$pidfile" ] || continue
    name=$(basename "$pidfile" .pid)
    pid=$(cat "$pidfile" 2>/dev/null || true)
    if [ -n "$pid" ] && ours "$pid"; then
        kill -TERM "$pid" 2>/dev/null || true
        pids+=("$pid")
        names+=("$name")
    else
        rm -f "$pidfile"
    fi
done

# Wait for all of them together, then kill whatever is left.
deadline=$(( $(date +%s) + TIMEOUT ))
for i in "${!pids[@]}"; do
    pid=${pids[$i]}
    while ours "$pid" && [ "$(date +%s)" -lt "$deadline" ]; do
        sleep 0.1
    done
    if ours "$pid"; then
        echo "meso-${names[$i]} (pid $pid) ignored SIGTERM for ${TIMEOUT}s; killing it"
        kill -KILL "$pid" 2>/dev/null || true
        while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
    else
        echo "meso-${names[$i]} stopped"
    fi
    rm -f "$RUN/${names[$i]}.pid"
done

PGPORT=${MESO_LOCAL_PGPORT:-54320}
if [ -d "$LOCAL/pg" ]; then
    "$ROOT/deploy/local/pg.sh" stop "$LOCAL/pg" "$PGPORT"
else
    echo "$PROG: no local cluster in $LOCAL/pg"
fi
