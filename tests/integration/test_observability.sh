#!/usr/bin/env bash
# test_observability.sh -- deploy/prometheus/meso.rules.yml passes
# `promtool check rules` and its own `promtool test rules` cases, every
# query of deploy/grafana/meso.json parses, and every meso_* metric either
# queries is exported by a running daemon of this build. The work is in
# observability.py (its top comment says how).
#
# Env from ctest: MESO_TEST_PGHOST, MESO_TEST_PGPORT, MESO_SOURCE_DIR,
# MESO_BUILD_DIR. Needs promtool (Debian's prometheus package) and
# python3-yaml.
set -euo pipefail
: "${MESO_TEST_PGHOST:?} ${MESO_TEST_PGPORT:?} ${MESO_SOURCE_DIR:?} ${MESO_BUILD_DIR:?}"
exec /usr/bin/python3 "$MESO_SOURCE_DIR/tests/integration/observability.py"
