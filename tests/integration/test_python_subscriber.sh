#!/usr/bin/env bash
# test_python_subscriber.sh -- the Python integration example
# (deploy/examples/python/subscriber.py) against a real events daemon on a
# fresh database, with CURVE: it authenticates with its own integration
# key (generated here, registered in access.principal with psql: streams
# {session}, clinics {clinic-test}, no health access).
#
# Before it starts, the session stream holds events of clinic-test
# (session.booked, and session.completed with clinical notes), of
# clinic-other and chain-wide ones (no clinic); the stock and screening
# streams have events too. A first run stops after 12
# events; a second run, from the saved cursor, gets the rest and the events
# written while it runs (doorbells, then scoped replays) and is stopped
# with SIGTERM. Together they must print every clinic-test session event
# exactly once, in order, nothing of clinic-other, chain-wide or of
# another stream, and no clinical note; each run exits 0.
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
KEYS=$WORK/keys
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

fail() {
    echo "FAIL: $*" >&2
    [ -f "$WORK/daemon.log" ] && tail -20 "$WORK/daemon.log" >&2
    for f in "$WORK"/py*.log; do [ -f "$f" ] && { echo "--- $f" >&2; cat "$f" >&2; }; done
    exit 1
}

"$PY" -c 'import zmq, zmq.auth, google.protobuf; assert zmq.has("curve")' \
    || fail "python3-zmq (with CURVE) and python3-protobuf are needed"
command -v protoc >/dev/null || fail "protoc (protobuf-compiler) is needed"

psql -h "$MESO_TEST_PGHOST" -p "$MESO_TEST_PGPORT" -U meso -d postgres -qX \
    -c "DROP DATABASE IF EXISTS $DBNAME WITH (FORCE)" -c "CREATE DATABASE $DBNAME" >/dev/null
"$BIN/mesoctl" migrate --db "$CONNINFO" --dir "$MESO_SOURCE_DIR/deploy/sql" >/dev/null

# Key pairs as CZMQ certificate files: the daemon's and the integration's
# own.
mkdir -m 700 "$KEYS"
"$PY" - "$KEYS" <<'EOF'
import sys, zmq.auth
for name in ("events", "py-marketing"):
    zmq.auth.create_certificates(sys.argv[1], name)
EOF
pubkey() { "$PY" -c 'import sys, zmq.auth; print(zmq.auth.load_certificate(sys.argv[1])[0].decode())' "$KEYS/$1.key"; }
psql "$CONNINFO" -qX -v ON_ERROR_STOP=1 \
    -v py="$(pubkey py-marketing)" >/dev/null <<'EOF'
INSERT INTO access.principal (public_key, name, kind, roles, clinics, streams, health)
VALUES (:'py', 'py-marketing', 'integration', '{integration}', '{clinic-test}', '{session}', false);
EOF
export MESO_KEYS=$KEYS
unset MESO_KEY MESO_PLAINTEXT_ENDPOINTS
# The classes the build generated (the client generates its own without).
[ -f "$MESO_BUILD_DIR/python/meso/v1/rpc_pb2.py" ] || fail "no Python classes in $MESO_BUILD_DIR/python (the meso_python_stubs target)"
export MESO_PY_STUBS=$MESO_BUILD_DIR/python

"$BIN/meso-events" --db "$CONNINFO" --bind "$ROUTER" --pub "$PUB" 2>"$WORK/daemon.log" &
DAEMON=$!
# Ready once it holds the writer lock (it serves Replay from then on).
healthy=
for _ in $(seq 1 100); do
    if grep -q "writer lock taken" "$WORK/daemon.log"; then
        healthy=1
        break
    fi
    sleep 0.1
done
[ -n "$healthy" ] || fail "the events daemon did not take the writer lock"

emit() { "$BIN/meso-test-emit" --db "$CONNINFO" "$@"; }
emit --stream session --count 10 --per-txn 7
emit --stream session --count 5 --clinic clinic-other
emit --stream session --count 5 --health            # clinical notes
emit --stream session --count 2 --clinic=           # chain-wide: every clinic's principals only
emit --stream session --count 10 --per-txn 3
emit --stream stock --count 5                       # not its stream
emit --stream screening --count 3 --health          # not its stream either

SUBSCRIBER_PY=("$PY" "$MESO_SOURCE_DIR/deploy/examples/python/subscriber.py"
    --stream session --key "$KEYS/py-marketing.key_secret" --keys "$KEYS"
    --cursor-file "$WORK/cursor.json" --router "$ROUTER" --pub "$PUB")

# First run: 12 events, then it exits by itself.
rc=0
timeout 60 "${SUBSCRIBER_PY[@]}" --count 12 >"$WORK/out1.jsonl" 2>"$WORK/py1.log" || rc=$?
[ "$rc" -eq 0 ] || fail "first run exited with $rc"
[ "$(wc -l <"$WORK/out1.jsonl")" -eq 12 ] || fail "first run printed $(wc -l <"$WORK/out1.jsonl") events, not 12"

# Second run, from the saved cursor, while more is written.
"${SUBSCRIBER_PY[@]}" >"$WORK/out2.jsonl" 2>"$WORK/py2.log" &
SUBSCRIBER=$!
for _ in $(seq 1 6); do
    emit --stream session --count 4 --per-txn 4
    emit --stream session --count 1 --clinic clinic-other
    emit --stream session --count 1 --health
    sleep 0.2
done
# 25 before + 30 while it runs, 12 of them printed by the first run.
want=$((25 + 30 - 12))
for _ in $(seq 1 300); do
    [ "$(wc -l <"$WORK/out2.jsonl")" -ge "$want" ] && break
    kill -0 "$SUBSCRIBER" 2>/dev/null || break
    sleep 0.1
done
kill -TERM "$SUBSCRIBER"
rc=0
wait "$SUBSCRIBER" || rc=$?
SUBSCRIBER=
[ "$rc" -eq 0 ] || fail "the second run exited with $rc after SIGTERM (0 expected)"

"$PY" - "$WORK/out1.jsonl" "$WORK/out2.jsonl" "$WORK/cursor.json" <<'EOF' || fail "output check"
import json, sys
events = []
for path in sys.argv[1:3]:
    events += [json.loads(l) for l in open(path).read().splitlines()]
seqs = [int(e["stream_seq"]) for e in events]
# Every clinic-test session event, once, in order: 55 of the 68 written.
assert len(events) == 55, f"{len(events)} events: {seqs}"
assert seqs == sorted(set(seqs)), f"duplicates or disorder: {seqs}"
assert all(e["stream"] == "session" for e in events), "an event of another stream"
assert all(e["clinic_id"] == "clinic-test" for e in events), "an event of another clinic"
completed = [e for e in events if e["type"] == "session.completed"]
assert len(completed) == 11, len(completed)
# The health fields never reach it: no notes, no improvement score.
for e in completed:
    done = e["session_completed"]
    assert "notes" not in done, done
    assert "improvement_score" not in done, done
text = open(sys.argv[1]).read() + open(sys.argv[2]).read()
assert "clinical note" not in text and "pregnan" not in text
# The payload is there, decoded: the emitter numbers its appointments.
assert events[0]["session_booked"]["session"]["appointment_id"] == "t-1", events[0]
assert len({e["id"] for e in events}) == 55
# The cursor is past the last event (clinic-other's may come after it).
cursor = json.load(open(sys.argv[3]))["session"]
assert cursor >= seqs[-1], (cursor, seqs[-1])
print(f"ok: {len(events)} events over two runs, in order, none twice, no health field")
EOF
# A sanitizer build (tests/run.sh --tsan) reports into the daemon's log.
if grep -q "WARNING: ThreadSanitizer" "$WORK/daemon.log"; then
    fail "ThreadSanitizer report in the log of meso-events"
fi
