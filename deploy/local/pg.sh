#!/usr/bin/env bash
# pg.sh -- a throwaway PostgreSQL cluster in a folder, for running meso on one
# machine and for the tests.
#
#   deploy/local/pg.sh start  DIR PORT    initdb if needed, start, wait until ready
#   deploy/local/pg.sh stop   DIR PORT    stop (fast); success when not running
#   deploy/local/pg.sh status DIR PORT    exit 0 when running
#   deploy/local/pg.sh crash  DIR PORT    stop -m immediate (as a crash would), then start
#
# Layout: DIR/data (the cluster), DIR/run (the unix socket folder), DIR/pg.log.
# The superuser is "meso" with trust authentication (the cluster listens on
# 127.0.0.1 and on a socket only: it is for development and tests, never for
# real data). Connect with
#
#   host=DIR/run port=PORT user=meso dbname=postgres
#
# Why it is built this way:
# - PostgreSQL refuses to run as root. When this script runs as root (CI,
#   containers) the server runs as the system user "mesopg", created on
#   first use, and DIR is handed to it.
# - Settings that depend on the arguments (port, socket folder) are rewritten
#   into DIR/data/meso.conf at every start, so the same folder can be started
#   on another port. The cluster's postgresql.conf includes that file.
# - MESO_PG_FAST=1 turns durability off (fsync, synchronous_commit,
#   full_page_writes): fine for tests, which throw the cluster away.
# - start is idempotent and only returns once the server accepts connections
#   (pg_ctl -w, then pg_isready), so a test fixture can rely on it.
set -euo pipefail

PROG=$(basename "$0")
RUN_USER=mesopg

die() { echo "$PROG: $*" >&2; exit 1; }

usage() {
    echo "usage: $PROG start|stop|status|crash DIR PORT" >&2
    exit 2
}

[ $# -eq 3 ] || usage
CMD=$1
DIR=$2
PORT=$3
case "$CMD" in start|stop|status|crash) ;; *) usage ;; esac
case "$PORT" in ''|*[!0-9]*) die "port must be a number, got '$PORT'" ;; esac
[ "$PORT" -ge 1 ] && [ "$PORT" -le 65535 ] || die "port $PORT is out of range 1-65535"

# Absolute DIR: the server runs with another working folder and the socket
# path ends up in conninfo strings.
if [ ! -d "$DIR" ]; then
    case "$CMD" in
        stop) echo "postgresql not running (no folder $DIR)"; exit 0 ;;
        status) echo "postgresql not running (no folder $DIR)"; exit 3 ;;
    esac
fi
mkdir -p "$DIR" || die "cannot create $DIR"
DIR=$(cd "$DIR" && pwd -P)
DATA=$DIR/data
SOCK=$DIR/run
LOG=$DIR/pg.log

# Unix socket paths are limited to 107 bytes: DIR/run/.s.PGSQL.PORT must fit.
if [ $(( ${#SOCK} + 18 )) -gt 107 ]; then
    die "socket path $SOCK/.s.PGSQL.$PORT is too long for a unix socket (107 bytes); use a shorter DIR"
fi

# ---------------------------------------------------------------- binaries
find_bindir() {
    local d
    if command -v pg_config >/dev/null 2>&1; then
        d=$(pg_config --bindir 2>/dev/null || true)
        if [ -n "$d" ] && [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then
            echo "$d"; return 0
        fi
    fi
    # Newest installed major version first.
    for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5,5 -rn); do
        if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then
            echo "$d"; return 0
        fi
    done
    if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
        dirname "$(command -v initdb)"; return 0
    fi
    return 1
}

BINDIR=$(find_bindir) || die "PostgreSQL server binaries (initdb, pg_ctl) not found.
Install them: apt-get install postgresql (Debian/Ubuntu), dnf install postgresql-server (Fedora/RHEL), brew install postgresql (macOS)."

# ---------------------------------------------------------------- running as
AS=()
if [ "$(id -u)" -eq 0 ]; then
    if ! id -u "$RUN_USER" >/dev/null 2>&1; then
        # Several scripts may race here (parallel test runs): a failed useradd
        # is fine as long as the user exists afterwards.
        useradd --system --no-create-home --shell /usr/sbin/nologin "$RUN_USER" >/dev/null 2>&1 || true
        id -u "$RUN_USER" >/dev/null 2>&1 || die "cannot create system user $RUN_USER (useradd failed)"
    fi
    if command -v runuser >/dev/null 2>&1; then
        AS=(runuser -u "$RUN_USER" --)
    else
        AS=(setpriv --reuid="$RUN_USER" --regid="$RUN_USER" --init-groups --)
    fi
fi

as_owner() {
    if [ ${#AS[@]} -gt 0 ]; then "${AS[@]}" "$@"; else "$@"; fi
}

# The server user must be able to reach DIR: every parent folder needs
# search (x) permission for others.
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

is_running() {
    [ -f "$DATA/PG_VERSION" ] && as_owner "$BINDIR/pg_ctl" status -D "$DATA" >/dev/null 2>&1
}

conninfo() {
    echo "host=$SOCK port=$PORT user=meso"
}

# ---------------------------------------------------------------- commands
do_start() {
    mkdir -p "$SOCK"
    prepare_dir
    if is_running; then
        echo "postgresql already running: $(conninfo) (data $DATA)"
        return 0
    fi
    if [ ! -f "$DATA/PG_VERSION" ]; then
        if [ -d "$DATA" ] && [ -n "$(ls -A "$DATA" 2>/dev/null)" ]; then
            die "$DATA exists but is not a PostgreSQL cluster; remove it or choose another DIR"
        fi
        if ! as_owner "$BINDIR/initdb" -D "$DATA" -U meso --auth=trust -E UTF8 --locale=C \
                >"$DIR/initdb.log" 2>&1; then
            cat "$DIR/initdb.log" >&2
            die "initdb failed (output above, also in $DIR/initdb.log)"
        fi
        echo "include_if_exists = 'meso.conf'" >>"$DATA/postgresql.conf"
    fi
    {
        echo "# written by deploy/local/pg.sh at every start; edits are lost"
        echo "port = $PORT"
        echo "listen_addresses = '127.0.0.1'"
        echo "unix_socket_directories = '$SOCK'"
        echo "max_connections = 300"
        if [ "${MESO_PG_FAST:-0}" = "1" ]; then
            echo "fsync = off"
            echo "synchronous_commit = off"
            echo "full_page_writes = off"
        fi
    } >"$DATA/meso.conf"
    [ ${#AS[@]} -eq 0 ] || chown "$RUN_USER:" "$DATA/meso.conf" "$DATA/postgresql.conf"
    touch "$LOG"
    [ ${#AS[@]} -eq 0 ] || chown "$RUN_USER:" "$LOG"

    if ! as_owner "$BINDIR/pg_ctl" start -w -t 60 -D "$DATA" -l "$LOG" >/dev/null 2>&1; then
        echo "--- last lines of $LOG:" >&2
        tail -n 20 "$LOG" >&2 || true
        die "PostgreSQL did not start on port $PORT (is the port taken? see $LOG)"
    fi
    # pg_ctl -w returns once the postmaster says it is ready; make sure a
    # client can really connect through the socket we advertise.
    local i
    for i in $(seq 1 100); do
        if "$BINDIR/pg_isready" -q -h "$SOCK" -p "$PORT" -U meso -d postgres; then
            echo "postgresql running: $(conninfo) (data $DATA, log $LOG)"
            return 0
        fi
        sleep 0.1
    done
    die "PostgreSQL started but does not accept connections on $SOCK port $PORT (see $LOG)"
}

do_stop() {
    if ! is_running; then
        echo "postgresql not running (data $DATA)"
        return 0
    fi
    if ! as_owner "$BINDIR/pg_ctl" stop -w -t 60 -m fast -D "$DATA" >/dev/null 2>&1; then
        is_running && die "could not stop PostgreSQL in $DATA (see $LOG)"
    fi
    echo "postgresql stopped (data $DATA)"
}

# What the daemons see when the database host crashes: every backend is
# killed without a goodbye (a WARNING at most, no error), then the server
# comes back after crash recovery. For fault tests.
do_crash() {
    is_running || die "postgresql not running (data $DATA)"
    as_owner "$BINDIR/pg_ctl" stop -w -t 60 -m immediate -D "$DATA" >/dev/null 2>&1 \
        || die "could not stop PostgreSQL in $DATA (see $LOG)"
    do_start
}

do_status() {
    if is_running; then
        echo "postgresql running: $(conninfo) (data $DATA)"
        return 0
    fi
    echo "postgresql not running (data $DATA)"
    return 3
}

case "$CMD" in
    start) do_start ;;
    stop) do_stop ;;
    status) do_status ;;
    crash) do_crash ;;
esac
