#!/usr/bin/env bash
# Install everything needed to build and test swift-socketio:
#   * Debian packages (only when missing; daemons are never started)
#   * a Python venv with the interop-test requirements
# Idempotent: re-running it when everything is present does nothing.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/.." && pwd)"
VENV="${SOCKETIO_VENV:-$REPO_ROOT/.venv}"
REQUIREMENTS="$SCRIPT_DIR/requirements-test.txt"
PYTHON="${PYTHON:-python3}"

log() { printf '[install-deps] %s\n' "$*" >&2; }

# ---------------------------------------------------------------------------
# APT PACKAGES — add new system dependencies here.
# (planned: libhiredis-dev librabbitmq-dev librdkafka-dev redis-server
#           rabbitmq-server nginx)
# ---------------------------------------------------------------------------
APT_PACKAGES=(
    zlib1g-dev
    chromium
    libhiredis-dev
    redis-server
    librabbitmq-dev
    rabbitmq-server
    librdkafka-dev
    kcat
    nginx
)

# The venv needs a working `venv` + `ensurepip` in the chosen interpreter; on
# Debian's own python3 that lives in the python3-venv package.
if ! "$PYTHON" -c 'import venv, ensurepip' >/dev/null 2>&1; then
    APT_PACKAGES+=(python3-venv)
fi

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
    if ! dpkg -s "$pkg" >/dev/null 2>&1; then
        missing+=("$pkg")
    fi
done

POLICY_RC=/usr/sbin/policy-rc.d
created_policy=0
cleanup() {
    if [ "$created_policy" = 1 ]; then
        rm -f "$POLICY_RC"
        log "removed temporary $POLICY_RC"
    fi
}
trap cleanup EXIT

if [ "${#missing[@]}" -gt 0 ]; then
    SUDO=()
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1; then
            SUDO=(sudo)
        else
            log "ERROR: missing packages (${missing[*]}) and not root / no sudo"
            exit 1
        fi
    fi
    if [ ! -e "$POLICY_RC" ]; then
        log "creating temporary $POLICY_RC (exit 101) so package daemons are not started"
        printf '#!/bin/sh\nexit 101\n' | "${SUDO[@]}" tee "$POLICY_RC" >/dev/null
        "${SUDO[@]}" chmod 755 "$POLICY_RC"
        created_policy=1
    fi
    log "apt-get update"
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    log "apt-get install ${missing[*]}"
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
else
    log "apt packages already installed: ${APT_PACKAGES[*]}"
fi

# ---------------------------------------------------------------------------
# PYTHON VENV
# ---------------------------------------------------------------------------
if [ ! -x "$VENV/bin/python" ]; then
    log "creating venv at $VENV"
    "$PYTHON" -m venv "$VENV"
else
    log "venv exists at $VENV"
fi

MARKER="$VENV/.socketio-requirements.sha256"
want_hash="$( { cat "$REQUIREMENTS"; "$VENV/bin/python" -c 'import sys; print(sys.version)'; } | sha256sum | cut -d' ' -f1)"
have_hash="$(cat "$MARKER" 2>/dev/null || true)"

if [ "$want_hash" != "$have_hash" ]; then
    log "installing Python test requirements from $REQUIREMENTS"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REQUIREMENTS" >&2
    printf '%s\n' "$want_hash" >"$MARKER"
    log "Python requirements installed"
else
    log "Python requirements up to date (hash $want_hash)"
fi

# ---------------------------------------------------------------------------
# SOCKET.IO JS CLIENT — the official bundle for the demo page's browser test
# (.cache/socket.io.min.js; fetched once, without npm)
# ---------------------------------------------------------------------------
bash "$SCRIPT_DIR/fetch-client-js.sh" >/dev/null

# ---------------------------------------------------------------------------
# NODE.JS — runs the official client bundle in the interop suite
# (Tests/Interop/test_js_client.py needs >= 20.10 for --experimental-websocket;
# Debian's own nodejs is 18, so it comes with the machine, not from apt)
# ---------------------------------------------------------------------------
if node_bin=$(command -v node); then
    node_version=$("$node_bin" --version)
    log "Node.js $node_version at $node_bin"
else
    log "WARNING: no node on PATH: the official JS client tests will fail (they need Node >= 20.10)"
fi
