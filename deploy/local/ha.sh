#!/usr/bin/env bash
# ha.sh -- a highly available PostgreSQL on one machine, for the tests and
# for trying a failover: one etcd, two Patroni nodes, each managing its own
# PostgreSQL 15; one primary and one synchronous standby.
#
#   deploy/local/ha.sh start   DIR PORT   start etcd and both nodes, wait for a primary
#                                         and a synchronous standby that is streaming
#   deploy/local/ha.sh stop    DIR PORT   stop the nodes (and their PostgreSQL) and etcd
#   deploy/local/ha.sh wait    DIR PORT   wait (up to 120 s) for a primary and a streaming
#                                         synchronous standby again, e.g. after a failover
#   deploy/local/ha.sh status  DIR PORT   `patronictl list`; exit 0 when there is a leader
#   deploy/local/ha.sh primary DIR PORT   print the primary's node name (node1 or node2)
#   deploy/local/ha.sh kill    DIR PORT   SIGKILL the primary's postmaster (a crash of the
#                                         database server); prints its node name
#   deploy/local/ha.sh conninfo DIR PORT  print the multi-host conninfo daemons use
#
# Ports (PORT is the first): PORT node1's PostgreSQL, PORT+1 node2's,
# PORT+2 and PORT+3 their Patroni REST APIs, PORT+4 etcd's clients, PORT+5
# etcd's peers. All on 127.0.0.1. Layout: DIR/etcd, DIR/node1, DIR/node2
# (each with data/, run/ for the socket, patroni.yml and patroni.log).
#
# Connect with the multi-host conninfo (libpq tries the hosts in order and
# keeps the one that accepts writes):
#
#   host=127.0.0.1,127.0.0.1 port=PORT,PORT+1 target_session_attrs=read-write user=meso
#
# Why it is built this way:
# - Patroni with etcd, both from Debian (patroni, etcd-server, etcd-client):
#   see README "High availability" for the choice over pg_auto_failover.
# - synchronous_mode: a commit returns only once the standby has it, and
#   only a synchronous standby may be promoted, so no acknowledged commit is
#   lost with the primary.
# - primary_start_timeout 0: when the primary's PostgreSQL dies, Patroni
#   does not try to restart it in place (300 s by default) but hands the
#   leader key over at once, so the synchronous standby is promoted; the old
#   primary comes back as a standby (pg_rewind when its timeline diverged).
# - loop_wait 1 s: a dead PostgreSQL is noticed within a second. ttl 30 s and
#   retry_timeout 10 s are Patroni's defaults: a loaded machine (tests in
#   parallel, sanitizers) must not make the primary lose its leader key.
#   The compose profile "ha" uses loop_wait 5, ttl 20.
# - One etcd member: the local variant tests PostgreSQL's failover, not
#   etcd's (the compose profile runs three).
# - Trust authentication on loopback only, superuser "meso" (as pg.sh); for
#   development and tests, never for real data.
# - As root, everything runs as the system user "mesopg" (PostgreSQL refuses
#   root), created on first use, as in pg.sh.
set -euo pipefail

PROG=$(basename "$0")
RUN_USER=mesopg

die() { echo "$PROG: $*" >&2; exit 1; }

usage() {
    echo "usage: $PROG start|stop|status|primary|kill|conninfo|wait DIR PORT" >&2
    exit 2
}

[ $# -eq 3 ] || usage
CMD=$1
DIR=$2
PORT=$3
case "$CMD" in start|stop|status|primary|kill|conninfo|wait) ;; *) usage ;; esac
case "$PORT" in ''|*[!0-9]*) die "port must be a number, got '$PORT'" ;; esac
[ "$PORT" -ge 1024 ] && [ "$PORT" -le 65530 ] || die "port $PORT is out of range 1024-65530"

PG1=$PORT; PG2=$((PORT + 1)); API1=$((PORT + 2)); API2=$((PORT + 3))
ETCD=$((PORT + 4)); PEER=$((PORT + 5))

# Ports in the kernel's ephemeral range can be handed to anyone while a
# crashed node is down (an outgoing connection, another cluster started on
# a "free" port): the node cannot listen again, and a server answering
# there refuses the daemons' connections, after which libpq does not try
# the next host. Say so at start.
if [ "$CMD" = start ] && read -r lo hi </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null \
        && [ $((PORT + 5)) -ge "$lo" ] && [ "$PORT" -le "$hi" ]; then
    echo "$PROG: warning: ports $PORT-$((PORT + 5)) overlap the ephemeral range $lo-$hi;" \
         "a restarted node may find its port taken by a client connection (use e.g. 23790)" >&2
fi

if [ "$CMD" = conninfo ]; then
    echo "host=127.0.0.1,127.0.0.1 port=$PG1,$PG2 target_session_attrs=read-write"
    exit 0
fi

if [ ! -d "$DIR" ]; then
    case "$CMD" in
        stop) echo "ha cluster not running (no folder $DIR)"; exit 0 ;;
        status|primary|kill|wait) echo "ha cluster not running (no folder $DIR)" >&2; exit 3 ;;
    esac
fi
mkdir -p "$DIR" || die "cannot create $DIR"
DIR=$(cd "$DIR" && pwd -P)
# Unix socket paths are limited to 107 bytes: DIR/nodeN/run/.s.PGSQL.PORT must fit.
if [ $(( ${#DIR} + 28 )) -gt 107 ]; then
    die "socket path $DIR/node1/run/.s.PGSQL.$PORT is too long for a unix socket (107 bytes); use a shorter DIR"
fi

for b in patroni patronictl etcd; do
    command -v "$b" >/dev/null 2>&1 \
        || die "$b not found; install it: apt-get install patroni etcd-server etcd-client (deploy/local/setup.sh)"
done
BINDIR=
for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5,5 -rn); do
    if [ -x "$d/postgres" ] && [ -x "$d/pg_rewind" ]; then BINDIR=$d; break; fi
done
[ -n "$BINDIR" ] || die "PostgreSQL server binaries not found under /usr/lib/postgresql (apt-get install postgresql)"

# ---------------------------------------------------------------- running as
AS=()
if [ "$(id -u)" -eq 0 ]; then
    if ! id -u "$RUN_USER" >/dev/null 2>&1; then
        useradd --system --no-create-home --shell /usr/sbin/nologin "$RUN_USER" >/dev/null 2>&1 || true
        id -u "$RUN_USER" >/dev/null 2>&1 || die "cannot create system user $RUN_USER (useradd failed)"
    fi
    AS=(runuser -u "$RUN_USER" --)
fi
as_owner() {
    if [ ${#AS[@]} -gt 0 ]; then "${AS[@]}" "$@"; else "$@"; fi
}
prepare_dir() {
    [ ${#AS[@]} -gt 0 ] || return 0
    local p=$DIR
    while [ "$p" != "/" ]; do
        p=$(dirname "$p")
        if [ -d "$p" ] && ! as_owner test -x "$p"; then
            chmod o+x "$p" || die "cannot make $p traversable for $RUN_USER"
        fi
    done
    chown -R "$RUN_USER:" "$DIR" || die "cannot hand $DIR to $RUN_USER"
}

# A pid file's process, when it is alive.
alive() {
    local f=$1 pid
    [ -f "$f" ] || return 1
    pid=$(cat "$f" 2>/dev/null) || return 1
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

api() {      # api PORT PATH: the body of a 2xx answer of a Patroni REST API, else fails
    python3 - "$1" "$2" <<'PY'
import sys, urllib.request, urllib.error
try:
    with urllib.request.urlopen("http://127.0.0.1:%s%s" % (sys.argv[1], sys.argv[2]), timeout=2) as r:
        print(r.read().decode()); sys.exit(0)
except urllib.error.HTTPError as e:
    print(e.read().decode(), file=sys.stderr); sys.exit(1)
except Exception as e:
    print(e, file=sys.stderr); sys.exit(2)
PY
}

# ---------------------------------------------------------------- config
write_node() {
    local n=$1 pg=$2 api=$3 d=$DIR/node$1
    mkdir -p "$d/run"
    cat >"$d/patroni.yml" <<YML
# written by deploy/local/ha.sh at every start; edits are lost
scope: meso
namespace: /meso-ha/
name: node$n
log:
  level: INFO
restapi:
  listen: 127.0.0.1:$api
  connect_address: 127.0.0.1:$api
etcd3:
  hosts: 127.0.0.1:$ETCD
bootstrap:
  dcs:
    ttl: 30
    loop_wait: 1
    retry_timeout: 10
    maximum_lag_on_failover: 1048576
    synchronous_mode: true
    primary_start_timeout: 0
    postgresql:
      use_pg_rewind: true
      use_slots: true
      parameters:
        max_connections: 300
        wal_log_hints: "on"
        synchronous_commit: "on"
        max_wal_senders: 10
        max_replication_slots: 10
        hot_standby: "on"
        wal_keep_size: 128MB
  initdb:
    - encoding: UTF8
    - locale: C
    - data-checksums
  pg_hba:
    - local all all trust
    - local replication all trust
    - host all all 127.0.0.1/32 trust
    - host replication all 127.0.0.1/32 trust
postgresql:
  listen: 127.0.0.1:$pg
  connect_address: 127.0.0.1:$pg
  data_dir: $d/data
  bin_dir: $BINDIR
  pgpass: $d/pgpass
  authentication:
    superuser:
      username: meso
    replication:
      username: meso
    rewind:
      username: meso
  parameters:
    unix_socket_directories: $d/run
    logging_collector: "on"
    log_directory: log
  pg_hba:
    - local all all trust
    - local replication all trust
    - host all all 127.0.0.1/32 trust
    - host replication all 127.0.0.1/32 trust
tags:
  nofailover: false
  noloadbalance: false
  clonefrom: false
YML
}

start_etcd() {
    mkdir -p "$DIR/etcd"
    prepare_dir
    alive "$DIR/etcd/pid" && return 0
    rm -f "$DIR/etcd/pid"
    # The child writes its own pid (runuser forks: $! would be the wrong one).
    as_owner sh -c 'echo $$ >"$0"; exec "$@"' "$DIR/etcd/pid" etcd --name meso-ha --data-dir "$DIR/etcd/data" \
        --listen-client-urls "http://127.0.0.1:$ETCD" --advertise-client-urls "http://127.0.0.1:$ETCD" \
        --listen-peer-urls "http://127.0.0.1:$PEER" --initial-advertise-peer-urls "http://127.0.0.1:$PEER" \
        --initial-cluster "meso-ha=http://127.0.0.1:$PEER" --initial-cluster-state new \
        --heartbeat-interval 100 --election-timeout 1000 \
        >"$DIR/etcd/etcd.log" 2>&1 </dev/null &
    local i
    for i in $(seq 1 100); do
        [ -s "$DIR/etcd/pid" ] || { sleep 0.05; continue; }
        if ETCDCTL_API=3 etcdctl --endpoints "http://127.0.0.1:$ETCD" endpoint health >/dev/null 2>&1; then
            return 0
        fi
        alive "$DIR/etcd/pid" || { tail -n 20 "$DIR/etcd/etcd.log" >&2; die "etcd exited (port $ETCD or $PEER taken?)"; }
        sleep 0.1
    done
    die "etcd did not become healthy on port $ETCD (see $DIR/etcd/etcd.log)"
}

start_node() {
    local n=$1 d=$DIR/node$1
    alive "$d/patroni.pid" && return 0
    rm -f "$d/patroni.pid"
    prepare_dir
    as_owner sh -c 'echo $$ >"$0"; exec patroni "$1"' "$d/patroni.pid" "$d/patroni.yml" \
        >>"$d/patroni.log" 2>&1 </dev/null &
    local i
    for i in $(seq 1 100); do
        [ -s "$d/patroni.pid" ] && return 0
        sleep 0.05
    done
    die "patroni node$n did not start (see $d/patroni.log)"
}

# Role of node n from its REST API: primary, replica, or nothing.
role() {
    local port=$API1
    [ "$1" = 2 ] && port=$API2
    api "$port" /patroni 2>/dev/null | python3 -c 'import sys,json
try: print(json.load(sys.stdin).get("role",""))
except Exception: print("")'
}

primary_node() {
    local n
    for n in 1 2; do
        alive "$DIR/node$n/patroni.pid" || continue
        case "$(role "$n")" in primary|master) echo "node$n"; return 0 ;; esac
    done
    return 1
}

# 0 when there is a primary and the other node is its synchronous standby,
# streaming.
healthy() {
    { api "$API1" /cluster 2>/dev/null || api "$API2" /cluster 2>/dev/null; } | python3 -c 'import sys,json
c = json.load(sys.stdin)
roles = sorted(m.get("role") for m in c.get("members", []))
states = [m.get("state") for m in c.get("members", [])]
ok = roles == ["leader", "sync_standby"] and all(s in ("running", "streaming") for s in states)
sys.exit(0 if ok else 1)' 2>/dev/null
}

do_start() {
    start_etcd
    write_node 1 "$PG1" "$API1"
    write_node 2 "$PG2" "$API2"
    prepare_dir
    start_node 1
    # node1 bootstraps the cluster; node2 clones it once it is up.
    local i
    for i in $(seq 1 600); do
        [ "$(role 1)" = primary ] || [ "$(role 1)" = master ] && break
        alive "$DIR/node1/patroni.pid" || { tail -n 30 "$DIR/node1/patroni.log" >&2; die "patroni node1 exited"; }
        sleep 0.1
    done
    start_node 2
    do_wait
}

do_wait() {
    local i n
    for i in $(seq 1 1200); do
        if healthy; then
            echo "ha cluster running: primary $(primary_node), $(do_conninfo) user=meso (etcd 127.0.0.1:$ETCD)"
            return 0
        fi
        for n in 1 2; do
            alive "$DIR/node$n/patroni.pid" || { tail -n 30 "$DIR/node$n/patroni.log" >&2; die "patroni node$n exited"; }
        done
        sleep 0.1
    done
    as_owner patronictl -c "$DIR/node1/patroni.yml" list >&2 || true
    die "no primary with a streaming synchronous standby after 120 s (see $DIR/node*/patroni.log)"
}

do_conninfo() {
    echo "host=127.0.0.1,127.0.0.1 port=$PG1,$PG2 target_session_attrs=read-write"
}

stop_pid() {    # stop_pid FILE: SIGTERM, then SIGKILL after 30 s
    local f=$1 pid i
    alive "$f" || { rm -f "$f"; return 0; }
    pid=$(cat "$f")
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 1 300); do
        kill -0 "$pid" 2>/dev/null || { rm -f "$f"; return 0; }
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    rm -f "$f"
}

do_stop() {
    # Patroni stops its PostgreSQL on SIGTERM. The standby first, so the
    # primary does not wait on a synchronous standby that is going away.
    local p
    p=$(primary_node 2>/dev/null || true)
    for n in 1 2; do
        [ "node$n" = "$p" ] || stop_pid "$DIR/node$n/patroni.pid"
    done
    [ -z "$p" ] || stop_pid "$DIR/$p/patroni.pid"
    # A postmaster left behind by a killed Patroni.
    for n in 1 2; do
        if [ -f "$DIR/node$n/data/postmaster.pid" ]; then
            as_owner "$BINDIR/pg_ctl" stop -w -t 30 -m fast -D "$DIR/node$n/data" >/dev/null 2>&1 || true
        fi
    done
    stop_pid "$DIR/etcd/pid"
    echo "ha cluster stopped (folder $DIR)"
}

do_status() {
    as_owner patronictl -c "$DIR/node1/patroni.yml" list 2>/dev/null || true
    primary_node >/dev/null
}

do_kill() {
    local p pid
    p=$(primary_node) || die "no primary to kill"
    pid=$(head -n 1 "$DIR/$p/data/postmaster.pid" 2>/dev/null) || die "no postmaster.pid in $DIR/$p/data"
    kill -KILL "$pid" || die "cannot kill postmaster $pid"
    echo "$p"
}

case "$CMD" in
    start) do_start ;;
    stop) do_stop ;;
    status) do_status ;;
    primary) primary_node ;;
    wait) do_wait ;;
    kill) do_kill ;;
esac
