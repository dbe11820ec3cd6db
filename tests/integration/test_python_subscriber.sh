#!/usr/bin/env bash
# test_python_subscriber.sh -- the Python integration example
# (deploy/examples/python/subscriber.py) against a real events daemon on a
# fresh database: 20 events exist before it starts (replay), 30 more are
# written while it runs (live, or replay when they beat its subscription);
# it must print exactly stream sequences 1..50, in order, as JSON lines
# carrying the events' payloads.
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
# A sanitizer build (tests/run.sh --tsan) reports into the daemon's log.
if grep -q "WARNING: ThreadSanitizer" "$WORK/daemon.log"; then
    fail "ThreadSanitizer report in the log of meso-events"
fi
