#!/usr/bin/env bash
# test_readme_roles.sh -- the README's roles table is the method tables'
# (services/*/handlers.c): tests/tools/roles_table.py --check.
set -euo pipefail
exec /usr/bin/python3 "$(dirname "$0")/../tools/roles_table.py" --check
