#!/usr/bin/env bash
# test_compose_loopback.sh -- docker-compose.yml's topology, run on loopback
# from the compose file itself (commands, environments, health checks,
# depends_on), with a course booked end to end through it and its session
# events checked. A compose file that drifts from what the daemons accept
# fails here. The work is in compose_loopback.py (its top comment says how).
#
# Env from ctest: MESO_TEST_PGHOST, MESO_TEST_PGPORT, MESO_SOURCE_DIR,
# MESO_BUILD_DIR. Needs docker-compose (Debian package; no engine), python3-yaml,
# python3-zmq, python3-protobuf and protoc (the subscriber example's).
set -euo pipefail
: "${MESO_TEST_PGHOST:?} ${MESO_TEST_PGPORT:?} ${MESO_SOURCE_DIR:?} ${MESO_BUILD_DIR:?}"
exec /usr/bin/python3 "$MESO_SOURCE_DIR/tests/integration/compose_loopback.py"
