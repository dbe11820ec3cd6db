#!/usr/bin/env bash
# test_buf_lint.sh -- the contract (proto/) is `buf lint` clean under the
# configuration of buf.yaml (STANDARD, with its documented exceptions),
# with the buf pinned in tools/buf (deploy/local/setup.sh installs it).
set -euo pipefail
ROOT=${MESO_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd -P)}
BUF=$ROOT/tools/buf/node_modules/.bin/buf
[ -x "$BUF" ] || { echo "FAIL: no buf at $BUF: run deploy/local/setup.sh (npm ci in tools/buf)" >&2; exit 1; }
cd "$ROOT"
"$BUF" lint
echo "ok: buf $("$BUF" --version) lint clean: $(ls proto/meso/v1/*.proto | wc -l) files"
