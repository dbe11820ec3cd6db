#!/usr/bin/env bash
# test_python_subscriber.sh -- the Python integration example
# (deploy/examples/python/subscriber.py) against a real events daemon on a
# fresh database: 20 events exist before it starts (replay), 30 more are
# written while it runs (live, or replay when they beat its subscription);
# it must print exactly stream sequences 1..50, in order, as JSON lines
# carrying the events' payloads. Then with --cursor-file, as the compose
# service runs it: all 50, SIGTERM (exit 0, at once: as a container's PID 1
# it used to ignore it), 5 more events, a restart that prints only those 5.
#
# Env from ctest: MESO_TEST_PGHOST, MESO_TEST_PGPORT, MESO_SOURCE_DIR,
# MESO_BUILD_DIR.
set -euo pipefail

: "${MESO_TEST_PGHOST:?} ${MESO_TEST_PGPORT:?} ${MESO_SOURCE_DIR:?} ${MESO_BUILD_DIR:?}"
BIN=$MESO_BUILD_DIR/bin
PY=/usr/bin/python3
DBNAME=test_python_subscriber
CONNINFO="host=$MESO_TEST_PGHOST port=$MESO_TEST_PGPORT user=meso dbname=$DBNAME"
WORK=$(mktemp -d /tmp/meso-pysub-XXXXXX)
ROUTER=ipc://$WORK/router
PUB=ipc://$WORK/pub
DAEMON=
SUBSCRIBER=

cleanup() {
    [ -n "$SUBSCRIBER" ] && kill "$SUBSCRIBER" 2>/dev/null || true
    if [ -n "$DAEMON" ]; then
        kill "$DAEMON" 2>/dev/null || true
        wait "$DAEMON" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; [ -f "$WORK/daemon.log" ] && tail -20 "$WORK/daemon.log" >&2; exit 1; }

"$PY" -c 'import zmq, google.protobuf' || fail "python3-zmq and python3-protobuf are needed"
command -v protoc >/dev/null || fail "protoc (protobuf-compiler) is needed"

psql -h "$MESO_TEST_PGHOST" -p "$MESO_TEST_PGPORT" -U meso -d postgres -qX \
    -c "DROP DATABASE IF EXISTS $DBNAME WITH (FORCE)" -c "CREATE DATABASE $DBNAME" >/dev/null
"$BIN/mesoctl" migrate --db "$CONNINFO" --dir "$MESO_SOURCE_DIR/deploy/sql" >/dev/null

"$BIN/meso-events" --db "$CONNINFO" --bind "$ROUTER" --pub "$PUB" 2>"$WORK/daemon.log" &
DAEMON=$!
healthy=
for _ in $(seq 1 50); do
    if "$BIN/mesoctl" health --endpoint "$ROUTER" --timeout 500 >/dev/null 2>&1; then
        healthy=1
        break
    fi
    sleep 0.1
done
[ -n "$healthy" ] || fail "the events daemon did not become healthy"

"$BIN/meso-test-emit" --db "$CONNINFO" --stream session --count 20 --per-txn 7
# Another stream's events must not show up.
"$BIN/meso-test-emit" --db "$CONNINFO" --stream stock --count 5

timeout 60 "$PY" "$MESO_SOURCE_DIR/deploy/examples/python/subscriber.py" \
    --stream session --count 50 --router "$ROUTER" --pub "$PUB" \
    >"$WORK/out.jsonl" 2>"$WORK/py.log" &
SUBSCRIBER=$!

# The rest while it runs, in small transactions.
for _ in $(seq 1 6); do
    "$BIN/meso-test-emit" --db "$CONNINFO" --stream session --count 5 --per-txn 5
    sleep 0.2
done

rc=0
wait "$SUBSCRIBER" || rc=$?
SUBSCRIBER=
[ "$rc" -eq 0 ] || { cat "$WORK/py.log" >&2; fail "subscriber.py exited with $rc"; }

"$PY" - "$WORK/out.jsonl" <<'EOF' || fail "output check"
import json, sys
lines = open(sys.argv[1]).read().splitlines()
events = [json.loads(l) for l in lines]
seqs = [int(e["stream_seq"]) for e in events]
assert seqs == list(range(1, 51)), f"stream sequences: {seqs}"
assert all(e["stream"] == "session" and e["type"] == "session.booked" for e in events)
# The payload is there, decoded: the emitter numbers its appointments.
assert events[0]["session_booked"]["session"]["appointment_id"] == "t-1", events[0]
assert events[20]["session_booked"]["session"]["appointment_id"] == "t-1", events[20]
assert len({e["id"] for e in events}) == 50
print(f"ok: {len(events)} events, stream_seq 1..50 in order")
EOF
# --cursor-file: a restart goes on after the last event printed.
CURSOR=$WORK/session.cursor
follow() {
    "$PY" "$MESO_SOURCE_DIR/deploy/examples/python/subscriber.py" --stream session \
        --cursor-file "$CURSOR" --router "$ROUTER" --pub "$PUB" >"$1" 2>>"$WORK/py.log" &
    SUBSCRIBER=$!
}
# wait_lines FILE N: FILE has N lines and the cursor file says the last one.
wait_lines() {
    for _ in $(seq 1 100); do
        [ "$(wc -l <"$1")" -eq "$2" ] && [ "$(cat "$CURSOR" 2>/dev/null)" = "$3" ] && return 0
        sleep 0.1
    done
    fail "$(wc -l <"$1") lines in $1 (cursor $(cat "$CURSOR" 2>/dev/null)), expected $2 (cursor $3)"
}
stop_follow() {
    local t0 rc=0
    t0=$(date +%s%N)
    kill -TERM "$SUBSCRIBER"
    wait "$SUBSCRIBER" || rc=$?
    SUBSCRIBER=
    [ "$rc" -eq 0 ] || { cat "$WORK/py.log" >&2; fail "subscriber.py exited $rc on SIGTERM"; }
    [ $(( ($(date +%s%N) - t0) / 1000000 )) -lt 3000 ] || fail "subscriber.py took over 3 s to stop"
}
follow "$WORK/run1.jsonl"
wait_lines "$WORK/run1.jsonl" 50 50
stop_follow
"$BIN/meso-test-emit" --db "$CONNINFO" --stream session --count 5 --per-txn 5
follow "$WORK/run2.jsonl"
wait_lines "$WORK/run2.jsonl" 5 55
stop_follow
seqs=$("$PY" -c 'import json, sys; print(" ".join(json.loads(l)["stream_seq"] for l in open(sys.argv[1])))' \
    "$WORK/run2.jsonl")
[ "$seqs" = "51 52 53 54 55" ] || fail "after a restart the subscriber printed $seqs, not 51..55"
echo "ok: --cursor-file: 50 events, SIGTERM, a restart printed 51..55 only"

# A sanitizer build (tests/run.sh --tsan) reports into the daemon's log.
if grep -q "WARNING: ThreadSanitizer" "$WORK/daemon.log"; then
    fail "ThreadSanitizer report in the log of meso-events"
fi
