#!/usr/bin/env bash
# test_compose_engine.sh -- docker-compose.yml under a real Docker engine,
# driven by the README's runbook (Operations): build, start, a course booked
# through mesoctl in a container, the Python subscriber, stop/start and
# down/up with the data kept, backup and restore onto a second project.
#
# Stages (each timed; the times are printed at the end):
#   engine    docker.io, debootstrap, jq installed when missing (apt-get);
#             dockerd started when none answers (overlay2, cgroupfs) and
#             stopped at the end, but only when this test started it
#   base      deploy/docker/offline/build.sh: debian:12-slim and postgres:15
#             built from Debian packages, or reused when present
#   build     the meso and subscriber images
#   up        everything healthy; every published host port answers
#   book      deploy/local/demo.sh in a mesoctl container: the course is
#             booked, its first session completed and charged
#   events    the subscriber prints the session stream, each event once;
#             the runbook's log queries find what they should
#   stop      stop/start: every container exits 0 (the subscriber too: it
#             was killed after 10 s before), postgres stops after every
#             daemon; after start the data is there and the subscriber
#             goes on without printing anything twice
#   down      down/up: the same, across new containers
#   backup    the runbook's backup
#   restore   the runbook's restore onto a new machine (a second project,
#             empty volume), then its restore over a running installation
#             (a booking made after the dump disappears)
#
# The runbook's commands are run as the README writes them: rb() refuses a
# command that is not a line of a sh block of README's Operations section.
# Two projects with their own names and host ports (MESO_DOCKER_PROJECT,
# default "mesodocker", and "<it>restore"; ports from MESO_DOCKER_PORT_BASE,
# default 18100: 18101..18106 and 18111..18115, then 18121.. for the
# second). Passwords hold spaces and quotes. Everything the test created is
# removed at the end except the images, which are the cache of the next run.
#
# Needs root when something must be installed or dockerd started.
# Env from ctest: MESO_SOURCE_DIR.
set -euo pipefail
: "${MESO_SOURCE_DIR:?}"
SRC=$MESO_SOURCE_DIR
PROJECT=${MESO_DOCKER_PROJECT:-mesodocker}
PROJECT_B=${PROJECT}restore
PORT_BASE=${MESO_DOCKER_PORT_BASE:-18100}
WORK=$(mktemp -d /tmp/meso-docker-XXXXXX)
DOCKERD_PID=
STAGES=()
STAGE=
STAGE_T0=0
T_START=$(date +%s)

# Progress goes to fd 3 (the test's stderr), which the redirections of
# single commands below do not capture.
exec 3>&2
log() { printf "[%s] %s\n" "$(date +%T)" "$*" >&3; }

stage() {
    stage_end
    STAGE=$1
    STAGE_T0=$(date +%s.%N)
    log "=== $STAGE"
}
stage_end() {
    [ -n "$STAGE" ] || return 0
    STAGES+=("$(printf '%-8s %6.1f s' "$STAGE" "$(echo "$(date +%s.%N) - $STAGE_T0" | bc)")")
    STAGE=
}
print_times() {
    stage_end
    echo "stage times:"
    printf '  %s\n' "${STAGES[@]}"
    echo "  total    $(( $(date +%s) - T_START )) s"
}

# ---------------------------------------------------------------- projects
use_project() {
    local base=$1
    export COMPOSE_PROJECT_NAME=$2
    local i=0 v
    for v in SCREENING SCHEDULING INVENTORY BILLING EVENTS EVENTS_PUB WEBHOOKS; do
        i=$((i + 1)); export "MESO_${v}_HOST_PORT=$((base + i))"
    done
    i=0
    for v in SCREENING SCHEDULING INVENTORY BILLING EVENTS WEBHOOKS; do
        i=$((i + 1)); export "MESO_${v}_METRICS_HOST_PORT=$((base + 10 + i))"
    done
}
export COMPOSE_FILE=$SRC/docker-compose.yml
export MESO_IMAGE=meso:$PROJECT MESO_SUBSCRIBER_IMAGE=meso-subscriber:$PROJECT
export POSTGRES_PASSWORD="pg pass 'one\"" MESO_SCREENING_DB_PASSWORD="scr een's" \
       MESO_SCHEDULING_DB_PASSWORD="sched pw" MESO_INVENTORY_DB_PASSWORD="inv pw=1" \
       MESO_BILLING_DB_PASSWORD="bill \"pw\"" MESO_EVENTS_DB_PASSWORD="ev pw"
DAEMONS=(events screening inventory billing scheduling)

teardown() {
    local p
    for p in "$PROJECT" "$PROJECT_B"; do
        COMPOSE_PROJECT_NAME=$p docker-compose --profile examples --profile tools down -v \
            --remove-orphans >/dev/null 2>&1 || true
    done
}

dump_logs() {
    local p c
    for p in "$PROJECT" "$PROJECT_B"; do
        for c in $(COMPOSE_PROJECT_NAME=$p docker-compose --profile examples ps -q 2>/dev/null); do
            echo "--- $(docker inspect -f '{{.Name}} {{.State.Status}} exit={{.State.ExitCode}}' "$c")" >&2
            docker logs --tail 20 "$c" 2>&1 | cut -c1-400 >&2
        done
    done
}

on_exit() {
    local rc=$?
    set +e
    if [ $rc -ne 0 ] && command -v docker >/dev/null && docker info >/dev/null 2>&1; then
        dump_logs
    fi
    if [ -n "$DOCKERD_PID" ] || docker info >/dev/null 2>&1; then
        stage teardown
        teardown
    fi
    if [ -n "$DOCKERD_PID" ]; then
        log "stopping the dockerd this test started (pid $DOCKERD_PID)"
        kill "$DOCKERD_PID" 2>/dev/null
        for _ in $(seq 1 60); do kill -0 "$DOCKERD_PID" 2>/dev/null || break; sleep 0.5; done
        kill -0 "$DOCKERD_PID" 2>/dev/null && { log "dockerd did not stop; SIGKILL"; kill -9 "$DOCKERD_PID"; }
    fi
    print_times
    rm -rf "$WORK"
    [ $rc -eq 0 ] && echo "PASS" || echo "FAIL (exit $rc)"
    exit $rc
}
trap on_exit EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }

# ----------------------------------------------------------------- runbook
# Every command line of the sh blocks of README's Operations section,
# continuation lines joined, trailing "  # comment" removed.
RUNBOOK=$WORK/runbook.txt
awk '
    /^## / { ops = ($0 == "## Operations") }
    ops && /^[ \t]*```sh/ { inblock = 1; next }
    inblock && /^[ \t]*```/ { inblock = 0; next }
    ops && inblock {
        line = $0
        sub(/[ \t]+# .*$/, "", line)
        if (cont != "") { sub(/^[ \t]+/, "", line); line = cont " " line }
        if (line ~ /\\$/) { sub(/[ \t]*\\$/, "", line); cont = line; next }
        cont = ""
        sub(/^[ \t]+/, "", line)
        if (line != "" && line !~ /^#/) print line
    }' "$SRC/README.md" >"$RUNBOOK"
[ -s "$RUNBOOK" ] || fail "no runbook commands found in README.md"

# rb CMD: runs CMD, a command line of the runbook, in the work folder.
rb() {
    grep -qxF -- "$1" "$RUNBOOK" || fail "not a runbook command of README.md: $1"
    log "\$ $1"
    (cd "$WORK" && eval "$1")
}

# ------------------------------------------------------------------ helpers
# mesoctl inside the network (the compose service "mesoctl").
ctl() { docker-compose run --rm -T mesoctl "$@" </dev/null 2>/dev/null; }

# State of a service's container: healthy, unhealthy, starting, or the
# container state when it has no health check (running, exited...).
svc_state() {
    local id
    id=$(docker-compose --profile examples ps -q "$1" 2>/dev/null | head -n 1)
    [ -n "$id" ] || { echo absent; return; }
    docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}' "$id"
}

# wait_healthy [subscriber]: postgres and every daemon healthy, migrate
# exited 0 (and the subscriber running) within 120 s.
wait_healthy() {
    local want=(postgres "${DAEMONS[@]}") s st ok
    for _ in $(seq 1 240); do
        ok=1
        for s in "${want[@]}"; do
            st=$(svc_state "$s")
            [ "$st" = healthy ] || ok=0
            [ "$st" = unhealthy ] && fail "$s is unhealthy"
        done
        if [ "${1:-}" = subscriber ]; then
            [ "$(svc_state subscriber)" = running ] || ok=0
        fi
        [ $ok -eq 1 ] && return 0
        sleep 0.5
    done
    for s in "${want[@]}" migrate subscriber; do echo "  $s: $(svc_state "$s")" >&2; done
    fail "not every service healthy after 120 s"
}

# The head of a stream (events.Head through mesoctl).
head_of() { ctl events head --json | jq -r --arg s "$1" '.heads[] | select(.stream == $s) | .head'; }

# wait_head STREAM N: the stream's head reaches N within 10 s.
wait_head() {
    local h
    for _ in $(seq 1 40); do
        h=$(head_of "$1")
        [ "${h:-0}" -ge "$2" ] && return 0
        sleep 0.25
    done
    fail "stream $1 head ${h:-?}, expected $2"
}

# Stream sequences the subscriber printed, in order, one per line.
printed() {
    docker-compose --profile examples logs --no-color --no-log-prefix subscriber 2>/dev/null \
        | jq -rR 'fromjson? | .stream_seq'
}

# wait_printed FIRST LAST: the subscriber printed exactly FIRST..LAST, each
# once, in order (within 30 s).
wait_printed() {
    local want got
    want=$(seq "$1" "$2")
    for _ in $(seq 1 120); do
        got=$(printed)
        [ "$got" = "$want" ] && return 0
        sleep 0.25
    done
    fail "the subscriber printed [$(echo $got)], expected $1..$2 each once"
}

# book_patient TAG: registers, screens and consents a patient in clinic par
# (reference data from demo.sh) and books a 2-session course, through
# mesoctl in one container; prints the patient id.
book_patient() {
    local out
    out=$(docker-compose run --rm -T --entrypoint bash mesoctl -s 2>&1 <<EOF
set -euo pipefail
reg=\$(mesoctl patient register --given "Test $1" --family Docker --birth 1991-02-03 --clinic par \
    --sex female --key dt-patient-$1 --json)
p=\$(printf '%s' "\$reg" | grep -o '"id":"[^"]*"' | head -n 1 | cut -d'"' -f4)
mesoctl screening record --patient "\$p" --no all --height-mm 1680 --weight-g 64000 --areas thighs:2 \
    --diet yes --exercise yes --localised_fat_deposits yes --early_stage_cellulite yes \
    --key dt-screening-$1 >/dev/null
mesoctl consent sign --patient "\$p" --clinic par --witness "Nurse Docker" --key dt-consent-$1 >/dev/null
mesoctl scheduling book --clinic par --patient "\$p" --grade 2 --areas thighs \
    --first $(date -u -d '+9 days' +%F) --time 15:00 --sessions 2 --recipe lipo-std \
    --key dt-book-$1 >/dev/null
echo "patient=\$p"
EOF
) || { echo "$out" >&2; fail "booking for $1 failed"; }
    sed -n 's/^patient=//p' <<<"$out" | tail -n 1
}

# Sessions of a patient's courses with the given status.
# (the JSON shows the contract's enum value names: SESSION_STATUS_BOOKED)
sessions_of() {
    { ctl scheduling course --patient "$1" --json || true; } \
        | jq -s --arg st "SESSION_STATUS_${2^^}" '[.[0].courses[]?.sessions[]? | select(.status == $st)] | length'
}

port_free() { ! ss -Hltn "sport = :$1" 2>/dev/null | grep -q .; }

# ======================================================================
stage engine
missing=()
command -v dockerd >/dev/null || missing+=(docker.io)
command -v debootstrap >/dev/null || missing+=(debootstrap)
command -v docker-compose >/dev/null || missing+=(docker-compose)
command -v jq >/dev/null || missing+=(jq)
command -v bc >/dev/null || missing+=(bc)
if [ ${#missing[@]} -gt 0 ]; then
    [ "$(id -u)" -eq 0 ] || fail "missing ${missing[*]}; run as root to install them"
    log "installing ${missing[*]}"
    apt() { DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 -y -q "$@"; }
    apt install --no-install-recommends "${missing[@]}" >"$WORK/apt.log" 2>&1 \
        || { apt update >>"$WORK/apt.log" 2>&1 && apt install --no-install-recommends "${missing[@]}" >>"$WORK/apt.log" 2>&1; } \
        || { tail -n 20 "$WORK/apt.log" >&2; fail "apt-get install ${missing[*]}"; }
fi
if docker info >/dev/null 2>&1; then
    log "a Docker engine is running: using it (and leaving it running)"
else
    [ "$(id -u)" -eq 0 ] || fail "no Docker engine answers, and only root can start one"
    log "starting dockerd (overlay2, cgroupfs)"
    dockerd --storage-driver=overlay2 --exec-opt native.cgroupdriver=cgroupfs >"$WORK/dockerd.log" 2>&1 &
    DOCKERD_PID=$!
    for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 0.5; done
    docker info >/dev/null 2>&1 || { tail -n 20 "$WORK/dockerd.log" >&2; fail "dockerd did not start"; }
fi
docker info --format 'engine {{.ServerVersion}}, {{.Driver}}, cgroup {{.CgroupDriver}}'
df -h /var/lib/docker 2>/dev/null | tail -n 1
teardown    # what a killed earlier run may have left
for p in $(seq $((PORT_BASE + 1)) $((PORT_BASE + 35))); do
    port_free "$p" || fail "port $p is in use (MESO_DOCKER_PORT_BASE moves the test's ports)"
done

stage base
"$SRC/deploy/docker/offline/build.sh"

stage build
old_images=$(docker image inspect -f '{{.Id}}' "$MESO_IMAGE" "$MESO_SUBSCRIBER_IMAGE" 2>/dev/null || true)
use_project "$PORT_BASE" "$PROJECT"
rb 'docker-compose --profile examples build' >"$WORK/build.log" 2>&1 \
    || { tail -n 30 "$WORK/build.log" >&2; fail "build"; }
# The images this replaced are of no further use (the layers stay cached).
for id in $old_images; do
    docker image inspect -f '{{.RepoTags}}' "$id" 2>/dev/null | grep -q "$PROJECT" \
        || docker rmi "$id" >/dev/null 2>&1 || true
done
ports=$(docker image inspect -f '{{json .Config.ExposedPorts}}' "$MESO_IMAGE")
[ "$ports" = null ] || [ "$ports" = "{}" ] || fail "the meso image exposes $ports"
docker run --rm "$MESO_IMAGE" sh -c 'command -v python3' >/dev/null 2>&1 \
    && fail "the meso image holds python3 (the subscriber's stage)"
docker image ls --format '{{.Repository}}:{{.Tag}} {{.Size}}' | grep -E "^(meso|meso-subscriber):$PROJECT |^debian:12-slim |^postgres:15 "

stage up
rb 'docker-compose up -d' >"$WORK/up.log" 2>&1 || { cat "$WORK/up.log" >&2; fail "up"; }
wait_healthy
rb 'docker-compose ps'
rb 'docker-compose run --rm mesoctl health' </dev/null
# Every published host port (the variables) answers from the host.
# (as the operator key, from the keys volume; --services names whose
# server key to expect)
docker run --rm --network host -v "${PROJECT}_keys:/var/lib/meso/keys:ro" \
    -e MESO_KEYS=/var/lib/meso/keys --entrypoint bash "$MESO_IMAGE" -c "
    set -e
    for sp in screening:$MESO_SCREENING_HOST_PORT scheduling:$MESO_SCHEDULING_HOST_PORT \
              inventory:$MESO_INVENTORY_HOST_PORT billing:$MESO_BILLING_HOST_PORT \
              events:$MESO_EVENTS_HOST_PORT; do
        mesoctl health --services \${sp%%:*} --endpoint tcp://127.0.0.1:\${sp##*:} >/dev/null
    done" || fail "a daemon does not answer on its published host port"
# grep reads the whole page (grep -q would quit at the first match, and
# curl's write into the closed pipe would fail the pipeline under pipefail)
for v in SCREENING SCHEDULING INVENTORY BILLING EVENTS; do
    p=MESO_${v}_METRICS_HOST_PORT
    curl -sf "http://127.0.0.1:${!p}/metrics" | grep '^meso_build_info' >/dev/null \
        || fail "no metrics on host port ${!p} ($v)"
done

stage book
# The demo registers its people (mesoctl access add, as the migration
# role) and keeps their pairs in the container (the keys volume is
# read-only there).
docker-compose run --rm -T -v "$SRC/deploy/local/demo.sh:/usr/local/share/meso/demo.sh:ro" \
    -e MESOCTL=/usr/local/bin/mesoctl -e MESO_DEMO_PEOPLE=/tmp/people \
    -e MESO_DB="host=postgres port=5432 dbname=meso user=postgres" -e PGPASSWORD="$POSTGRES_PASSWORD" \
    --entrypoint bash mesoctl /usr/local/share/meso/demo.sh \
    </dev/null >"$WORK/demo.log" 2>&1 || { tail -n 30 "$WORK/demo.log" >&2; fail "demo.sh"; }
read -r ANA COURSE APPT < <(sed -n 's/^patient \([^,]*\), course \([^;]*\); first session \([^ ]*\) completed.*/\1 \2 \3/p' "$WORK/demo.log")
[ -n "${APPT:-}" ] || { tail -n 20 "$WORK/demo.log" >&2; fail "demo.sh did not complete a session"; }
booked=$(sessions_of "$ANA" booked)
done_=$(sessions_of "$ANA" completed)
log "Ana's course $COURSE: $booked sessions booked, $done_ completed"
[ "$done_" -eq 1 ] && [ "$booked" -ge 3 ] || fail "Ana's course: $booked booked, $done_ completed"
ctl billing statement --clinic par --patient "$ANA" --json | grep "\"appointment_id\":\"$APPT\"" >/dev/null \
    || fail "the completed session $APPT is not on Ana's statement"
H1=$(head_of session)
log "session stream head $H1"
[ "$H1" -gt "$booked" ] || fail "session head $H1"

stage events
rb 'docker-compose --profile examples up -d subscriber' >/dev/null 2>&1
wait_printed 1 "$H1"
docker-compose --profile examples logs --no-color --no-log-prefix subscriber 2>/dev/null \
    | jq -rR --arg a "$APPT" 'fromjson? | select(.type == "session.completed")
        | select(tostring | contains($a)) | .type' | grep -x session.completed >/dev/null \
    || fail "the subscriber did not print session.completed of $APPT"
log "the subscriber printed session events 1..$H1, each once"
# The runbook's log queries (compose 1.29 prints "Attaching to ..." first).
rb "docker-compose logs --no-color --no-log-prefix scheduling | jq -cR 'fromjson? | select(.level == \"error\" or .level == \"warn\")'" >/dev/null
refused=$(rb "for c in \$(docker-compose ps -q); do docker logs --since 1h \"\$c\" 2>&1; done | jq -cR 'fromjson? | select(.code != null and .code != \"OK\")'")
grep -q '"method":"screening.Check","code":"FAILED_PRECONDITION"' <<<"$refused" \
    || fail "the non-OK query did not find demo.sh's refused screening.Check"
ID=$(docker-compose logs --no-color --no-log-prefix scheduling 2>/dev/null \
    | jq -rR 'fromjson? | select(.method == "scheduling.BookCourse") | .request_id' | head -n 1)
export ID
one=$(rb "docker-compose logs --no-color --no-log-prefix | jq -cR --arg id \"\$ID\" 'fromjson? | select(.request_id == \$id)'")
[ "$(jq -r .method <<<"$one")" = scheduling.BookCourse ] || fail "the request_id query found: $one"

stage stop
t0=$(date +%s.%N)
rb 'docker-compose stop' >/dev/null 2>&1
took=$(echo "$(date +%s.%N) - $t0" | bc)
log "docker-compose stop took ${took} s"
finished() { date -d "$(docker inspect -f '{{.State.FinishedAt}}' "$1")" +%s.%N; }
pg_done=$(finished "$(docker-compose ps -q postgres)")
for s in "${DAEMONS[@]}" subscriber postgres; do
    id=$(docker-compose --profile examples ps -q "$s")
    code=$(docker inspect -f '{{.State.ExitCode}}' "$id")
    [ "$code" -eq 0 ] || fail "$s exited $code on docker-compose stop"
    fin=$(finished "$id")
    log "  $s exit 0, stopped at +$(echo "$fin - $t0" | bc | cut -c1-5) s"
    [ "$s" = postgres ] || [ "$(echo "$fin < $pg_done" | bc)" -eq 1 ] \
        || fail "postgres stopped before $s"
done
[ "$(echo "$took < 15" | bc)" -eq 1 ] || fail "stop took $took s"
rb 'docker-compose --profile examples start' >/dev/null 2>&1
wait_healthy subscriber
[ "$(head_of session)" -eq "$H1" ] || fail "session head after start: $(head_of session), was $H1"
[ "$(sessions_of "$ANA" completed)" -eq 1 ] || fail "Ana's completed session lost by stop/start"
P2=$(book_patient stop)
[ "$(sessions_of "$P2" booked)" -eq 2 ] || fail "the booking after start"
H2=$((H1 + 2))
wait_head session "$H2"
wait_printed 1 "$H2"    # the container's whole log: nothing printed twice
log "after stop/start: head $H2, the subscriber printed $((H1 + 1))..$H2 once"

stage down
rb 'docker-compose down' >/dev/null 2>&1
[ -z "$(docker-compose --profile examples ps -q)" ] || fail "containers left after down"
rb 'docker-compose up -d' >/dev/null 2>&1
rb 'docker-compose --profile examples up -d subscriber' >/dev/null 2>&1
wait_healthy subscriber
[ "$(head_of session)" -eq "$H2" ] || fail "session head after down/up: $(head_of session), was $H2"
[ "$(sessions_of "$P2" booked)" -eq 2 ] || fail "the booking made before down is gone"
P3=$(book_patient down)
H3=$((H2 + 2))
wait_head session "$H3"
wait_printed $((H2 + 1)) "$H3"   # a new container: only what came after its stored cursor
log "after down/up: head $H3, the new subscriber printed only $((H2 + 1))..$H3"
rb 'docker-compose run --rm migrate' </dev/null 2>/dev/null | grep '^applied 0 migrations' >/dev/null \
    || fail "migrate after down/up applied something"

stage backup
rb 'docker-compose exec -T postgres pg_dump -U postgres -d meso -Fc > meso-$(date +%F).dump'
rb 'docker-compose exec -T postgres pg_dumpall -U postgres --roles-only > roles-$(date +%F).sql'
DAY=$(ls "$WORK" | sed -n 's/^meso-\(.*\)\.dump$/\1/p' | head -n 1)
[ -s "$WORK/meso-$DAY.dump" ] && [ -s "$WORK/roles-$DAY.sql" ] || fail "no backup files"
export DAY
log "backup: $(stat -c %s "$WORK/meso-$DAY.dump") bytes of dump, $(wc -l <"$WORK/roles-$DAY.sql") lines of roles"
HEADS_A=$(ctl events head --json | jq -c '[.heads[] | [.stream, .head]]')
# Project A is done with: down, keeping nothing.
docker-compose --profile examples down -v >/dev/null 2>&1

stage restore
use_project $((PORT_BASE + 20)) "$PROJECT_B"
rb 'docker-compose up -d postgres' >/dev/null 2>&1
rb 'until docker-compose exec -T postgres pg_isready -q -U postgres -d meso -h 127.0.0.1; do sleep 1; done' 2>/dev/null
rb 'docker-compose exec -T postgres psql -q -U postgres -d postgres < roles-$DAY.sql' 2>"$WORK/roles.err"
grep -v 'role "postgres" already exists' "$WORK/roles.err" | grep -q ERROR && { cat "$WORK/roles.err" >&2; fail "restoring the roles"; }
rb 'docker-compose exec -T postgres pg_restore -U postgres -d meso --single-transaction --exit-on-error < meso-$DAY.dump'
rb 'docker-compose up -d' >/dev/null 2>&1
wait_healthy
HEADS_B=$(ctl events head --json | jq -c '[.heads[] | [.stream, .head]]')
[ "$HEADS_B" = "$HEADS_A" ] || fail "restored heads $HEADS_B, backed up $HEADS_A"
for p in "$ANA" "$P2" "$P3"; do
    [ "$(sessions_of "$p" booked)" -ge 1 ] || fail "patient $p's booking is not in the restored database"
done
log "restored onto $PROJECT_B: heads $HEADS_B, the three patients' courses there"
# Restore over the running installation: what happened after the dump goes.
P4=$(book_patient restore)
wait_head session $((H3 + 2))
rb 'docker-compose stop scheduling billing inventory screening events' >/dev/null 2>&1
rb 'docker-compose exec -T postgres pg_restore -U postgres -d meso --clean --if-exists --single-transaction --exit-on-error < meso-$DAY.dump'
rb 'docker-compose up -d' >/dev/null 2>&1
wait_healthy
HEADS_B=$(ctl events head --json | jq -c '[.heads[] | [.stream, .head]]')
[ "$HEADS_B" = "$HEADS_A" ] || fail "heads after the restore over the running installation: $HEADS_B, backed up $HEADS_A"
[ "$(sessions_of "$P4" booked)" = 0 ] || fail "the booking made after the dump survived the restore"
[ "$(sessions_of "$ANA" completed)" -eq 1 ] || fail "Ana's course after the restore"
ctl health >/dev/null || fail "health after the restore"
log "restored over $PROJECT_B: the booking made after the dump is gone, heads $HEADS_B"
stage_end
