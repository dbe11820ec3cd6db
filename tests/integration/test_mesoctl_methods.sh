#!/usr/bin/env bash
# test_mesoctl_methods.sh -- every method of every service's method table
# (services/*/handlers.c) has a mesoctl subcommand that calls it, as each
# subcommand's --help says ("Calls: ..."); see tests/tools/mesoctl_methods.py.
# A method added without a command fails here. No daemon is needed.
set -euo pipefail
: "${MESO_BUILD_DIR:?}"
exec python3 "$(dirname "$0")/../tools/mesoctl_methods.py" "$MESO_BUILD_DIR/bin/mesoctl"
