#!/usr/bin/env bash
# test_local_run.sh -- the README's local run, end to end, in a private copy
# of its settings: deploy/local/up.sh (a fresh cluster, the migrations,
# every daemon of this build, deploy/local/demo.sh), the demo a second time
# (it must be idempotent: same course, no new booking), then
# deploy/local/down.sh, after which no daemon and no PostgreSQL of this run
# may be left.
#
# Private settings: MESO_LOCAL_DIR (a short folder in /tmp: the socket path
# must fit), MESO_LOCAL_PGPORT and MESO_LOCAL_PORT_BASE (free ports, so a
# developer's own local run on the default ports is not disturbed), and
# MESO_BUILD_DIR (up.sh uses this build's executables instead of building
# build/).
#
# Env from ctest: MESO_SOURCE_DIR, MESO_BUILD_DIR.
set -euo pipefail

: "${MESO_SOURCE_DIR:?} ${MESO_BUILD_DIR:?}"
LOCAL_DIR=$(mktemp -d /tmp/mlr-XXXXXX)
OUT=$LOCAL_DIR/out
mkdir -p "$OUT"

fail() {
    echo "FAIL: $*" >&2
    for f in "$OUT"/*.log "$LOCAL_DIR"/logs/*.log; do
        [ -f "$f" ] || continue
        echo "--- last lines of $f" >&2
        tail -n 25 "$f" >&2
    done
    exit 1
}

# True when nothing listens on TCP port $1.
port_free() { ! ss -Hltn "sport = :$1" 2>/dev/null | grep -q .; }

# A PostgreSQL port and eight consecutive ports (the daemons', then the
# demo's webhook receiver), all free.
pick_ports() {
    local i p ok
    for _ in $(seq 1 50); do
        # Below the kernel's ephemeral range (32768..60999 here): a port
        # there can be taken, between this check and the daemon's bind, as
        # the source port of a connection (the daemons' own, to each other).
        PGPORT=$(( 20000 + RANDOM % 12000 ))
        BASE=$(( 20000 + RANDOM % 12000 ))
        ok=1
        port_free "$PGPORT" || ok=0
        for i in 1 2 3 4 5 6 7 8; do
            p=$(( BASE + i ))
            [ "$p" -ne "$PGPORT" ] && port_free "$p" || ok=0
        done
        [ $ok -eq 1 ] && return 0
    done
    return 1
}
pick_ports || fail "no free ports found"

export MESO_LOCAL_DIR=$LOCAL_DIR MESO_LOCAL_PGPORT=$PGPORT MESO_LOCAL_PORT_BASE=$BASE
export MESO_BUILD_DIR MESO_PG_FAST=1 MESO_STOP_TIMEOUT=5
E=(
    MESO_SCREENING_ENDPOINT=tcp://127.0.0.1:$((BASE + 1))
    MESO_SCHEDULING_ENDPOINT=tcp://127.0.0.1:$((BASE + 2))
    MESO_INVENTORY_ENDPOINT=tcp://127.0.0.1:$((BASE + 3))
    MESO_BILLING_ENDPOINT=tcp://127.0.0.1:$((BASE + 4))
    MESO_WEBHOOKS_ENDPOINT=tcp://127.0.0.1:$((BASE + 7))
    MESO_EVENTS_ENDPOINT=tcp://127.0.0.1:$((BASE + 5))
    MESO_EVENTS_PUB_ENDPOINT=tcp://127.0.0.1:$((BASE + 6))
)
DEPLOY=$MESO_SOURCE_DIR/deploy/local
PIDS=()

cleanup() {
    "$DEPLOY/down.sh" >/dev/null 2>&1 || true
    rm -rf "$LOCAL_DIR"
}
trap cleanup EXIT

# ------------------------------------------------------------------ up
start=$(date +%s)
"$DEPLOY/up.sh" >"$OUT/up.log" 2>&1 || fail "up.sh failed"
echo "up.sh (with the demo) took $(( $(date +%s) - start )) s"

for f in "$LOCAL_DIR"/run/*.pid; do PIDS+=("$(cat "$f")"); done
[ ${#PIDS[@]} -ge 4 ] || fail "expected at least 4 daemons started, got ${#PIDS[@]}"
grep -q '== running deploy/local/demo.sh' "$OUT/up.log" || fail "up.sh did not run the demo"

# The demo booked a course: a calendar of booked sessions in Paris.
booked=$(grep -cE '^ +[0-9]+ +[A-Z][a-z]{2} [0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2} +par-[a-z]+ +par-r[0-9] +booked ' \
    "$OUT/up.log" || true)
[ "$booked" -ge 9 ] || fail "the demo printed $booked booked sessions, expected at least 9"
grep -qE ' completed [0-9a-f-]{36}$' "$OUT/up.log" || fail "the demo did not complete the first session"
grep -qE '^[1-9][0-9]* booked sessions? moved to other lots; 0 left uncovered' "$OUT/up.log" \
    || fail "the demo's recall did not move the booked sessions to another lot"
grep -q 'ELIGIBLE' "$OUT/up.log" || fail "the demo's screening was not eligible"
# Her course read again from Python, with the client generated from the contract.
grep -qE '^course [0-9a-f-]{36} at par: grade [0-9], .*, booked, [0-9]+ sessions$' "$OUT/up.log" \
    || fail "the demo's Python client did not print her course"
grep -qE '^signature [0-9a-f-]{36}: patient [0-9a-f-]{36} signed par/body_mesotherapy version 1 .*witness Nurse Julie Martin, sha256 [0-9a-f]{64}$' \
    "$OUT/up.log" || fail "the demo did not show the consent signed"
grep -qE '^[0-9]+ session\.completed par ' "$OUT/up.log" || fail "the demo did not show the session.completed event"
grep -q '==================== Done' "$OUT/up.log" || fail "the demo did not finish"
# The recipe using an ingredient added through inventory (artichoke) booked
# (a refusal would have stopped the demo before Done).
grep -q 'the draining cocktail (artichoke, caffeine) books' "$OUT/up.log" \
    || fail "the demo did not book the artichoke recipe"
# Her record exported by the Paris manager: all four services answered.
grep -qE '^\{"export":\{"format":"meso.patient_export.v1",.*"complete":true[,}]' "$OUT/up.log" \
    || fail "the demo did not export the patient's whole record"

# Keys: made on first start, the operator's secret private to its owner;
# the demo's people registered, each step run as one of them, and a call
# outside the caller's role refused.
[ "$(stat -c %a "$LOCAL_DIR/keys/operator.key_secret")" = 600 ] || fail "operator.key_secret is not mode 0600"
for p in par-frontdesk par-clinician par-stock par-billing par-manager crm; do
    [ -f "$LOCAL_DIR/keys/people/$p.key_secret" ] || fail "the demo made no key pair for $p"
done
grep -qE '^\$ MESO_KEY=people/par-clinician\.key_secret mesoctl screening record ' "$OUT/up.log" \
    || fail "the demo did not record the screening as the clinician"
grep -qE '^PERMISSION_DENIED: ' "$OUT/up.log" || fail "the demo did not show a refused call"
# The erasure: the key destroyed, placeholders read back, a new screening refused.
grep -qE '^patient [0-9a-f-]{36} erased \(key destroyed' "$OUT/up.log" || fail "the demo did not erase a patient"
grep -q '\[erased\]' "$OUT/up.log" || fail "the demo did not show the erased patient's placeholders"
grep -q 'patient erased: register again' "$OUT/up.log" || fail "the demo did not show the refused screening"

# Health, as up.sh printed it at the end: every daemon started is ok.
for svc in events screening inventory scheduling; do
    grep -qE "^$svc +tcp://127\.0\.0\.1:[0-9]+ +ok +ok " "$OUT/up.log" || fail "$svc is not ok in the health summary"
done
if [ -x "$MESO_BUILD_DIR/bin/meso-billing" ]; then
    grep -qE "^billing +tcp://127\.0\.0\.1:[0-9]+ +ok +ok " "$OUT/up.log" || fail "billing is not ok"
    grep -q 'charge ' "$OUT/up.log" || fail "billing did not charge the completed session"
fi

if [ -x "$MESO_BUILD_DIR/bin/meso-webhooks" ]; then
    grep -qE "^webhooks +tcp://127\.0\.0\.1:[0-9]+ +ok +ok " "$OUT/up.log" || fail "webhooks is not ok"
    grep -qE '^session\.[a-z_]+ [0-9a-f-]{36} par seq [0-9]+: signature ok' "$OUT/up.log" \
        || fail "the demo's webhook receiver got no signed delivery"
fi

# ---------------------------------------------------- the demo again
env "${E[@]}" MESOCTL="$MESO_BUILD_DIR/bin/mesoctl" "$DEPLOY/demo.sh" >"$OUT/demo2.log" 2>&1 \
    || fail "demo.sh failed when run a second time"
grep -q 'booked by an earlier run' "$OUT/demo2.log" || fail "the second demo did not find the course"
grep -q 'par-frontdesk: registered by an earlier run' "$OUT/demo2.log" || fail "the second demo registered its people again"
grep -q 'was erased by an earlier run' "$OUT/demo2.log" || fail "the second demo erased another patient"
if [ -x "$MESO_BUILD_DIR/bin/meso-webhooks" ]; then
    grep -q 'signature ok' "$OUT/demo2.log" || fail "the second demo's webhook receiver got no signed delivery"
    s1=$(grep -oE '^subscription [0-9a-f-]{36}' "$OUT/up.log" | head -n 1)
    s2=$(grep -oE '^subscription [0-9a-f-]{36}' "$OUT/demo2.log" | head -n 1)
    [ -n "$s1" ] && [ "$s1" = "$s2" ] || fail "the second demo made another subscription ($s1 / $s2)"
fi
course1=$(grep -oE '^course [0-9a-f-]{36}' "$OUT/up.log" | head -n 1)
course2=$(grep -oE '^course [0-9a-f-]{36}' "$OUT/demo2.log" | head -n 1)
[ -n "$course1" ] && [ "$course1" = "$course2" ] || fail "the second demo shows another course ($course1 / $course2)"
# Still one course of ten sessions, and one charge.
n=$(env "${E[@]}" "$MESO_BUILD_DIR/bin/mesoctl" scheduling course --patient \
        "$(grep -oE '^patient [0-9a-f-]{36}' "$OUT/up.log" | head -n 1 | cut -d' ' -f2)" | grep -c '^course ' || true)
[ "$n" -eq 1 ] || fail "the patient has $n courses after two demos, expected 1"
if [ -x "$MESO_BUILD_DIR/bin/meso-billing" ]; then
    c=$(grep -c '  charge ' "$OUT/demo2.log" || true)
    [ "$c" -eq 1 ] || fail "$c charges after two demos, expected 1"
fi

# ---------------------------------------------------------------- down
"$DEPLOY/down.sh" >"$OUT/down.log" 2>&1 || fail "down.sh failed"
# A stopped daemon may linger as a zombie until its new parent (init, or
# whatever reaps orphans here) collects it: that is not running.
running() {
    local st
    st=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
    case "$st" in Z*|"") return 1 ;; *) return 0 ;; esac
}
for pid in "${PIDS[@]}"; do
    ! running "$pid" || fail "daemon pid $pid still runs after down.sh"
done
# No postgres of this cluster left (its processes name the data folder).
sleep 0.2
if pgrep -f "$LOCAL_DIR/pg/data" >/dev/null; then
    fail "PostgreSQL of $LOCAL_DIR still runs after down.sh"
fi
"$DEPLOY/pg.sh" status "$LOCAL_DIR/pg" "$PGPORT" >/dev/null 2>&1 && fail "pg.sh status says the cluster runs"
port_free "$PGPORT" || fail "port $PGPORT still taken after down.sh"
# A sanitizer build (tests/run.sh --tsan) reports into the daemons' logs.
for f in "$LOCAL_DIR"/logs/*.log; do
    [ -f "$f" ] || continue
    ! grep -q "WARNING: ThreadSanitizer" "$f" || fail "ThreadSanitizer report in $f"
done
echo "ok: $booked sessions booked, health ok, demo idempotent, down.sh left nothing running"
