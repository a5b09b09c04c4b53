#!/usr/bin/env bash
# Installs the browser test peers (idempotent):
#
#   Debian chromium + chromium-driver   headless Chromium for the WebRTC tests
#   Debian libopus-dev, pkg-config      libopus for Dialtone's Opus codec (build dependency)
#   target/peers/browser/               npm playwright-core, which drives Debian's chromium
#                                       (no browser download: executablePath /usr/bin/chromium)
#   iproute2 (ip), util-linux (unshare) Chromium runs in its own network namespace with only
#                                       loopback, so its ICE candidates are 127.0.0.1
set -euo pipefail

PLAYWRIGHT_VERSION="1.65.1"

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
dir="$root/target/peers/browser"
say() { printf 'install-browser-peers: %s\n' "$*"; }

source "$here/apt-install.sh"
apt_install chromium:chromium chromedriver:chromium-driver ip:iproute2 unshare:util-linux pkill:procps \
    pkg-config:pkg-config libopus-dev

have="$(node -e 'try { process.stdout.write(require(process.argv[1]).version) } catch (e) {}' \
    "$dir/node_modules/playwright-core/package.json" 2>/dev/null || true)"
if [ "$have" = "$PLAYWRIGHT_VERSION" ]; then
    say "playwright-core $have already installed in target/peers/browser (skip)"
    exit 0
fi
mkdir -p "$dir"
npm_flags=(--loglevel=error --no-audit --no-fund --no-update-notifier)
[ -f "$dir/package.json" ] || (cd "$dir" && npm init -y "${npm_flags[@]}" >/dev/null)
# PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD: the tests use Debian's chromium, nothing else.
(cd "$dir" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install "${npm_flags[@]}" "playwright-core@$PLAYWRIGHT_VERSION")
say "playwright-core $PLAYWRIGHT_VERSION installed in target/peers/browser"
