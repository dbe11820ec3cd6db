#!/usr/bin/env bash
# run.sh -- the one command to try meso on this machine: installs what is
# missing (deploy/local/setup.sh), builds and starts the database and the
# daemons (deploy/local/up.sh), and says how to stop them.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd -P)
"$HERE/setup.sh"
"$HERE/up.sh"
echo
echo "meso is running. Stop it with: $HERE/down.sh"
