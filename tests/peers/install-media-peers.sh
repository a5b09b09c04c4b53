#!/usr/bin/env bash
# Installs the media-stream test peers (idempotent):
#
#   target/peers/venv-media/  Python venv with PyPI pipecat-ai[websocket] (TwilioFrameSerializer,
#                             FastAPI websocket transport), uvicorn, fastapi, websockets, numpy.
#                             Used by tests/peers/pipecat_echo_bot.py and
#                             tests/peers/voxengine_stream_checker.py.
#
# Kept small (about 190 MB instead of 530 MB): pipecat-ai is installed with --no-deps, next to
# only the dependencies its core, the Twilio serializer and the FastAPI websocket transport
# import. Its other hard requirements (onnxruntime, numba/llvmlite via resampy, openai, soundfile,
# protobuf, ...) serve VAD, cloud services and file I/O the test peers do not use, so
# `pip check` in this venv lists them as missing; that is expected.
#
# Needs: python3 with the venv module (Debian: python3-venv; installed through apt-install.sh when
# missing). Network: PyPI (and Debian mirrors for python3-venv). Re-running is fast: the step is
# skipped when every pinned version is already present.
set -euo pipefail

PIPECAT_VERSION="1.14.0"
# Resolved together with pipecat-ai[websocket]==1.14.0 on Python 3.11 (2026-12).
PINS=(
    "fastapi==0.165.0"
    "uvicorn==0.55.0"
    "websockets==17.4"
    "numpy==2.4.6"
    # pipecat-ai's import-time dependencies for pipecat.serializers.twilio,
    # pipecat.transports.websocket.fastapi and pipecat.pipeline.worker:
    "aiofiles==25.1.0"
    "aiohttp==3.14.5"
    "docstring_parser==0.18.0"
    "loguru==0.7.3"
    "loudness==0.2.0"
    "pillow==13.0.0"
    "pydantic==2.14.4"
    "sentencex==1.0.32"
    "soxr==1.0.0"
    'wait_for2==0.4.1; python_version < "3.12"'
    'audioop-lts>=0.2.1,<0.3; python_version >= "3.13"'
)

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="$root/target/peers/venv-media"
py="$venv/bin/python"
mkdir -p "$root/target/peers"

say() { printf 'install-media-peers: %s\n' "$*"; }

# Prints the unmet pins ("name have (want v)", comma-separated) and exits 1; exits 0 when
# pipecat-ai and every pin that applies to this Python are installed at their versions.
check_pins() {
    "$py" - "pipecat-ai==$PIPECAT_VERSION" "${PINS[@]}" <<'EOF'
import importlib.metadata as md
import operator
import re
import sys

OPS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge, "==": operator.eq}


def applies(marker):  # only `python_version OP "X.Y"` markers are used in PINS
    m = re.fullmatch(r'\s*python_version\s*(<=|>=|<|>|==)\s*"(\d+)\.(\d+)"\s*', marker)
    return OPS[m[1]](sys.version_info[:2], (int(m[2]), int(m[3])))


bad = []
for spec in sys.argv[1:]:
    req, _, marker = spec.partition(";")
    if "==" not in req:
        continue
    name, want = (s.strip() for s in req.split("=="))
    if marker and not applies(marker):
        continue
    try:
        have = md.version(name)
    except md.PackageNotFoundError:
        have = None
    if have != want:
        bad.append(f"{name} {have or 'missing'} (want {want})")
print(", ".join(bad))
sys.exit(1 if bad else 0)
EOF
}

smoke() {
    "$py" -c 'import uvicorn, websockets
import pipecat.serializers.twilio, pipecat.transports.websocket.fastapi
import pipecat.pipeline.worker, pipecat.workers.runner' 2>/dev/null
}

if [ -x "$py" ] && check_pins >/dev/null && smoke; then
    say "pipecat-ai $PIPECAT_VERSION + websockets, uvicorn, fastapi, numpy already in target/peers/venv-media (skip)"
    exit 0
fi

# shellcheck source=apt-install.sh
source "$here/apt-install.sh"
apt_install python3:python3
if ! python3 -m venv --help >/dev/null 2>&1 || ! python3 -c 'import ensurepip' >/dev/null 2>&1; then
    apt_install python3-venv
fi
python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
    || { say "error: pipecat-ai $PIPECAT_VERSION needs Python >= 3.11 ($(python3 -V))" >&2; exit 1; }

if [ -x "$py" ]; then
    say "updating target/peers/venv-media: $(check_pins || true)"
else
    say "pipecat-ai $PIPECAT_VERSION + websockets, uvicorn, fastapi, numpy into target/peers/venv-media"
    python3 -m venv "$venv" || {
        say "error: python3 -m venv failed (Debian: apt-get install python3-venv)" >&2
        rm -rf "$venv"
        exit 1
    }
fi
export PIP_DISABLE_PIP_VERSION_CHECK=1
# Take pipecat-ai out first: with it installed, pip would warn about its unmet requirements.
"$py" -m pip uninstall --quiet --yes pipecat-ai >/dev/null 2>&1 || true
"$py" -m pip install --quiet --no-input "${PINS[@]}"
"$py" -m pip install --quiet --no-input --no-deps "pipecat-ai==$PIPECAT_VERSION"
check_pins >/dev/null || { say "error: pins not met after install: $(check_pins || true)" >&2; exit 1; }
smoke || { say "error: pipecat does not import in target/peers/venv-media" >&2; exit 1; }
say "installed pipecat-ai $PIPECAT_VERSION ($(du -sh "$venv" | cut -f1) in target/peers/venv-media)"
