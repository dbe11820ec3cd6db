#!/usr/bin/env bash
# setup.sh -- installs what building, running and testing meso needs on
# Debian 12 (or a derivative), and nothing when everything is there.
#
#   deploy/local/setup.sh
#
# Only packages that are missing are installed, after an `apt-get update`,
# non-interactively. When packages are missing and we are not root, nothing
# is changed: the script prints the apt-get command to run and fails.
#
# Installing the Debian "postgresql" package may create and start a system
# cluster on port 5432. meso does not use it: the local run and the tests
# start their own throwaway clusters (deploy/local/pg.sh) on other ports.
# Likewise etcd-server and prometheus may start system services (etcd on
# 2379, Prometheus on 9090) where systemd runs: meso uses only their
# binaries (deploy/local/ha.sh starts its own etcd and Patroni nodes; the
# tests run promtool).
set -euo pipefail

PROG=$(basename "$0")

# Everything meso needs, in one place.
PACKAGES=(
    build-essential cmake pkg-config            # the build
    libczmq-dev libzmq3-dev                     # the bus
    libsodium-dev                               # page tokens, patient data keys
    libprotobuf-c-dev protobuf-c-compiler       # the wire format (C)
    protobuf-compiler python3 python3-zmq python3-protobuf  # integrations, examples
    libpq-dev postgresql postgresql-contrib     # the database (btree_gist is in contrib)
    libcmocka-dev valgrind clang                # tests, sanitizers, fuzzers
    libmicrohttpd-dev                           # HTTP endpoints
    libssl-dev                                  # SHA-256 of consent texts (libcrypto)
    libcurl4-openssl-dev                        # HTTP deliveries (meso-webhooks)
    docker-compose                              # the container set-up
    patroni etcd-server etcd-client             # PostgreSQL failover (deploy/local/ha.sh, tests)
    prometheus                                  # promtool: checks deploy/prometheus rules
    libjansson-dev                              # mesoctl fhir export (JSON)
    python3-jsonschema                          # FHIR R4 schema checks (tests/tools/fhir_schema.sh; npm below)
)

# buf (buf lint, buf breaking: tests/unit/test_buf_*.sh) comes from the npm
# registry at the exact version and integrity hash of
# tools/buf/package-lock.json: `npm ci` installs that and nothing else, into
# tools/buf/node_modules (not committed). Run after the packages, and again
# whenever the lock file changes.
ROOT=$(cd "$(dirname "$0")/../.." && pwd -P)
install_buf() {
    local dir=$ROOT/tools/buf want have
    want=$(sed -n 's/.*"@bufbuild\/buf": *"\([^"]*\)".*/\1/p' "$dir/package.json")
    have=$("$dir/node_modules/.bin/buf" --version 2>/dev/null || true)
    if [ -n "$want" ] && [ "$have" = "$want" ]; then
        return 0
    fi
    echo "$PROG: installing buf $want (npm ci in tools/buf)"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
    "$dir/node_modules/.bin/buf" --version >/dev/null
}

missing=()
for p in "${PACKAGES[@]}"; do
    if [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)" != "install ok installed" ]; then
        missing+=("$p")
    fi
done
# node and npm for buf and the FHIR schema package: Debian's packages unless the machine has its own
# (a NodeSource nodejs brings npm and conflicts with Debian's npm).
if ! command -v npm >/dev/null 2>&1; then
    missing+=(nodejs npm)
fi

if [ ${#missing[@]} -eq 0 ]; then
    echo "$PROG: all ${#PACKAGES[@]} packages are installed"
    install_buf
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "$PROG: missing packages: ${missing[*]}" >&2
    echo "$PROG: this script knows Debian/Ubuntu (apt-get) only; install their equivalents by hand" >&2
    exit 1
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "$PROG: missing packages: ${missing[*]}" >&2
    echo "$PROG: installing them needs root; run" >&2
    echo "    sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
    echo "or run this script with sudo." >&2
    exit 1
fi

echo "$PROG: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
install_buf
echo "$PROG: done"
