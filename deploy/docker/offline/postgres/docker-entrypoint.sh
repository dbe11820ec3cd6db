#!/bin/bash
# docker-entrypoint.sh -- starts PostgreSQL 15 in the offline postgres:15
# image, initialising PGDATA on first start the way the public image does:
#
#   POSTGRES_PASSWORD   the superuser's password (required, unless
#                       POSTGRES_HOST_AUTH_METHOD=trust)
#   POSTGRES_USER       the superuser (postgres)
#   POSTGRES_DB         a database created for it (POSTGRES_USER)
#   /docker-entrypoint-initdb.d/*.sh, *.sql, *.sql.gz   run once, in name
#                       order, against POSTGRES_DB, on the first start only
#
# Started as root, it fixes the ownership of PGDATA and re-executes itself as
# the user postgres (setpriv, from util-linux), so the server is PID 1 and
# receives docker's stop signal itself. Any other command (psql, bash...)
# runs as given.
set -Eeuo pipefail

if [ "${1:0:1}" = "-" ]; then
    set -- postgres "$@"
fi
if [ "$1" != "postgres" ]; then
    exec "$@"
fi

if [ "$(id -u)" = 0 ]; then
    mkdir -p "$PGDATA" /var/run/postgresql
    chown postgres:postgres "$PGDATA" /var/run/postgresql
    chmod 700 "$PGDATA"
    exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
fi

: "${POSTGRES_USER:=postgres}"
: "${POSTGRES_DB:=$POSTGRES_USER}"
AUTH=${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}

if [ ! -s "$PGDATA/PG_VERSION" ]; then
    if [ -z "${POSTGRES_PASSWORD:-}" ] && [ "$AUTH" != trust ]; then
        echo "docker-entrypoint.sh: POSTGRES_PASSWORD is not set: the database would" >&2
        echo "accept no password login. Set it (or POSTGRES_HOST_AUTH_METHOD=trust)." >&2
        exit 1
    fi
    pwfile=$(mktemp)
    printf '%s\n' "${POSTGRES_PASSWORD:-}" >"$pwfile"
    initdb --username="$POSTGRES_USER" --pwfile="$pwfile" --auth-local=trust \
        --auth-host="$AUTH" -D "$PGDATA" >/dev/null
    rm -f "$pwfile"
    {
        echo
        echo "# docker-entrypoint.sh: reachable from the container network"
        echo "host all all all $AUTH"
    } >>"$PGDATA/pg_hba.conf"
    echo "listen_addresses = '*'" >>"$PGDATA/postgresql.auto.conf"

    # A private server on the unix socket only, for the initialisation.
    pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start >/dev/null
    psql=(psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER")
    if [ "$POSTGRES_DB" != postgres ]; then
        "${psql[@]}" --dbname postgres --set db="$POSTGRES_DB" <<<'CREATE DATABASE :"db";' >/dev/null
    fi
    for f in /docker-entrypoint-initdb.d/*; do
        [ -e "$f" ] || continue
        case "$f" in
            *.sh) echo "docker-entrypoint.sh: running $f"; . "$f" ;;
            *.sql) echo "docker-entrypoint.sh: running $f"; "${psql[@]}" --dbname "$POSTGRES_DB" -f "$f" ;;
            *.sql.gz) echo "docker-entrypoint.sh: running $f"; gunzip -c "$f" | "${psql[@]}" --dbname "$POSTGRES_DB" ;;
            *) echo "docker-entrypoint.sh: ignoring $f" ;;
        esac
    done
    pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
    echo "docker-entrypoint.sh: database initialised ($POSTGRES_USER, $POSTGRES_DB)"
fi

exec "$@"
