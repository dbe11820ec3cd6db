#!/usr/bin/env bash
# build.sh -- the base images of the meso stack, built on this machine from
# Debian packages alone: the air-gapped build. Where no image registry can
# be reached (only a Debian mirror), this makes the two images the stack is
# built from, under the names the Dockerfile and docker-compose.yml use:
#
#   debian:12-slim   debootstrap --variant=minbase bookworm, then docker import
#   postgres:15      FROM debian:12-slim with Debian's postgresql-15 and an
#                    entrypoint that honours POSTGRES_USER, POSTGRES_PASSWORD,
#                    POSTGRES_DB and /docker-entrypoint-initdb.d (postgres/)
#
#   deploy/docker/offline/build.sh            build the images that are missing
#   deploy/docker/offline/build.sh --force    build both again
#
# Then `docker-compose build` and `docker-compose up -d` need no registry:
# compose never pulls an image that is present, and the build's apt-get uses
# the mirror written into debian:12-slim.
#
# Environment:
#   MESO_DEBIAN_MIRROR           Debian mirror (http://deb.debian.org/debian)
#   MESO_DEBIAN_SECURITY_MIRROR  its security suite
#                                (http://deb.debian.org/debian-security;
#                                empty: no security suite, e.g. a mirror
#                                without one)
#
# Needs root, debootstrap and a running Docker engine. Why it is built this
# way:
# - Same names as the public images, so nothing else changes between a site
#   that can pull and one that cannot; an image already present (pulled, or
#   built by an earlier run) is reused, which is what keeps a second run of
#   tests/docker/test_compose_engine.sh fast.
# - One Debian base for every stage of every image (see deploy/docker/Dockerfile).
# - The debootstrap tree lives in a temporary folder and is deleted after the
#   import; only the image stays.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd -P)
MIRROR=${MESO_DEBIAN_MIRROR:-http://deb.debian.org/debian}
SECURITY=${MESO_DEBIAN_SECURITY_MIRROR-http://deb.debian.org/debian-security}
BASE=debian:12-slim
PG=postgres:15

force=0
case "${1:-}" in
    --force) force=1 ;;
    "") ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "build.sh: unknown argument $1 (--force, --help)" >&2; exit 2 ;;
esac

have() { [ $force -eq 0 ] && docker image inspect "$1" >/dev/null 2>&1; }

if have "$BASE"; then
    echo "build.sh: $BASE present, reused"
else
    command -v debootstrap >/dev/null || { echo "build.sh: debootstrap is missing (apt-get install debootstrap)" >&2; exit 1; }
    root=$(mktemp -d /var/tmp/meso-rootfs-XXXXXX)
    trap 'rm -rf "$root"' EXIT
    echo "build.sh: debootstrap --variant=minbase bookworm from $MIRROR"
    debootstrap --variant=minbase bookworm "$root" "$MIRROR" >"$root.log" 2>&1 \
        || { tail -n 20 "$root.log" >&2; rm -f "$root.log"; exit 1; }
    rm -f "$root.log"
    {
        echo "deb $MIRROR bookworm main"
        echo "deb $MIRROR bookworm-updates main"
        [ -z "$SECURITY" ] || echo "deb $SECURITY bookworm-security main"
    } >"$root/etc/apt/sources.list"
    # As in Debian's own images: no package cache or docs kept in layers.
    cat >"$root/etc/apt/apt.conf.d/docker-clean" <<'CONF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache ""; Dir::Cache::srcpkgcache "";
CONF
    echo 'Acquire::Languages "none";' >"$root/etc/apt/apt.conf.d/docker-no-languages"
    rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb
    tar --numeric-owner -C "$root" -c . \
        | docker import \
            --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
            --change 'CMD ["bash"]' - "$BASE" >/dev/null
    rm -rf "$root"
    trap - EXIT
    echo "build.sh: $BASE imported"
fi

if have "$PG"; then
    echo "build.sh: $PG present, reused"
else
    docker build -q -t "$PG" --build-arg "DEBIAN=$BASE" "$HERE/postgres" >/dev/null
    echo "build.sh: $PG built"
fi
