#!/usr/bin/env bash
# Installs the SIP and audio test peers (idempotent).
#
#   Debian packages: sip-tester (sipp), espeak-ng (Dialtone's TTS), sox + libsox-fmt-all,
#                    python3-pocketsphinx + pocketsphinx-en-us (Dialtone's speech recognizer)
#   target/peers/venv-pjsua2/  Python venv with PyPI pjsua2-python (a softphone library)
#
# Needs root (or sudo) for apt-get when a package is missing. Network: Debian mirrors, PyPI.
set -euo pipefail

PJSUA2_VERSION="2.15.1.post1"

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
peers="$root/target/peers"
mkdir -p "$peers"

say() { printf 'install-sip-peers: %s\n' "$*"; }

# shellcheck source=apt-install.sh
source "$here/apt-install.sh"
apt_install sipp:sip-tester ss:iproute2 espeak-ng:espeak-ng sox:sox libsox-fmt-all python3-pocketsphinx pocketsphinx-en-us
sipp -v 2>/dev/null | head -2 | tail -1 || true

venv="$peers/venv-pjsua2"
if "$venv/bin/python" -c 'import pjsua2' >/dev/null 2>&1; then
    say "pjsua2 already installed in target/peers/venv-pjsua2 (skip)"
else
    say "pjsua2-python $PJSUA2_VERSION into target/peers/venv-pjsua2"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check "pjsua2-python==$PJSUA2_VERSION"
    "$venv/bin/python" -c 'import pjsua2'
fi
