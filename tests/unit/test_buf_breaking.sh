#!/usr/bin/env bash
# test_buf_breaking.sh -- the contract (proto/) has no breaking change
# since the newest release tag v* of this repository (`buf breaking`,
# rules of buf.yaml: FILE). A clone without such a tag (before the first
# release, or cloned without tags) skips with status 77 and says so:
# ctest reports it as skipped (SKIP_RETURN_CODE), never as passed.
#
# MESO_BUF_AGAINST=<tag> compares with another tag.
set -euo pipefail
ROOT=${MESO_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd -P)}
BUF=$ROOT/tools/buf/node_modules/.bin/buf
[ -x "$BUF" ] || { echo "FAIL: no buf at $BUF: run deploy/local/setup.sh (npm ci in tools/buf)" >&2; exit 1; }
cd "$ROOT"
if ! git rev-parse --git-dir >/dev/null 2>&1; then
    echo "SKIP: $ROOT is not a git clone: no release tag to compare the contract with"
    exit 77
fi
tag=${MESO_BUF_AGAINST:-$(git tag --list 'v*' --sort=-v:refname | head -n 1)}
if [ -z "$tag" ]; then
    echo "SKIP: no release tag v* in this clone (git fetch --tags, or before the first release): nothing to check breaking changes against"
    exit 77
fi
# The tagged tree, as buf reads a git input: the clone's top level (a
# worktree's .git is a file, so the folder rather than .git).
"$BUF" breaking --against "$(git rev-parse --show-toplevel)#format=git,tag=$tag"
echo "ok: no breaking change in proto/ since $tag"
