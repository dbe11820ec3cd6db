#!/usr/bin/env bash
# test_audit_classified.sh -- every method of every method table says
# whether it touches patient data, and where its patient is:
# tests/tools/audit_classified.py.
set -euo pipefail
exec /usr/bin/python3 "$(dirname "$0")/../tools/audit_classified.py"
