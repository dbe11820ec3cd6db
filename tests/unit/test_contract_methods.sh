#!/usr/bin/env bash
# test_contract_methods.sh -- every daemon's method table and its service
# block in proto/meso/v1 list the same methods with the same input types,
# in both directions: tests/tools/contract_methods.py.
set -euo pipefail
exec /usr/bin/python3 "$(dirname "$0")/../tools/contract_methods.py"
