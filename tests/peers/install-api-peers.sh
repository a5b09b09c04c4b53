#!/usr/bin/env bash
# Installs the admin API test peer (idempotent):
#
#   target/peers/venv-schemathesis/  Python venv with PyPI schemathesis (OpenAPI fuzzer)
#
# Network: PyPI.
set -euo pipefail

SCHEMATHESIS_VERSION="4.32.5"

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="$root/target/peers/venv-schemathesis"

say() { printf 'install-api-peers: %s\n' "$*"; }

if [ -x "$venv/bin/st" ] && "$venv/bin/st" --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION"; then
    say "schemathesis $SCHEMATHESIS_VERSION present"
    exit 0
fi
say "schemathesis $SCHEMATHESIS_VERSION into $venv"
rm -rf "$venv"
python3 -m venv "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
"$venv/bin/st" --version
