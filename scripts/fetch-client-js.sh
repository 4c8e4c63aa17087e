#!/usr/bin/env bash
# Fetch the official Socket.IO JavaScript client bundle (socket.io.min.js)
# without npm, for the demo page's browser test and local demo runs.
#
# The bundle is taken from a pinned PyPI wheel that ships it verbatim
# (nicegui bundles socket.io-client v4 under nicegui/static/). The wheel is
# downloaded with the venv's pip and the single file is extracted to
#   <repo>/.cache/socket.io.min.js
# Idempotent: when that file already exists and looks valid, nothing is done.
# The output path is printed on stdout; progress goes to stderr.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/.." && pwd)"
VENV="${SOCKETIO_VENV:-$REPO_ROOT/.venv}"
CACHE_DIR="$REPO_ROOT/.cache"
OUT="$CACHE_DIR/socket.io.min.js"

WHEEL_PROJECT="nicegui"
WHEEL_VERSION="3.18.0"
MEMBER="nicegui/static/socket.io.min.js"
EXPECTED_HEADER="Socket.IO v4."

log() { printf '[fetch-client-js] %s\n' "$*" >&2; }

# True when $1 is a Socket.IO v4 client bundle (checked on its first 512 bytes).
is_valid_bundle() {
    [ -s "$1" ] && head -c 512 "$1" | grep -qF "$EXPECTED_HEADER"
}

if is_valid_bundle "$OUT"; then
    log "client bundle already present: $OUT"
    printf '%s\n' "$OUT"
    exit 0
fi

PIP="$VENV/bin/pip"
PY="$VENV/bin/python"
if [ ! -x "$PIP" ] || [ ! -x "$PY" ]; then
    log "ERROR: no venv pip at $PIP (run scripts/install-deps.sh or set SOCKETIO_VENV)"
    exit 1
fi

TMP_DIR="$(mktemp -d "${TMPDIR:-/tmp}/fetch-client-js.XXXXXX")"
trap 'rm -rf "$TMP_DIR"' EXIT

log "downloading $WHEEL_PROJECT==$WHEEL_VERSION wheel (no dependencies) into $TMP_DIR"
"$PIP" download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
    --dest "$TMP_DIR" "$WHEEL_PROJECT==$WHEEL_VERSION" >&2

shopt -s nullglob
wheels=("$TMP_DIR"/*.whl)
shopt -u nullglob
if [ "${#wheels[@]}" -ne 1 ]; then
    log "ERROR: expected exactly one wheel in $TMP_DIR, found ${#wheels[@]}"
    exit 1
fi

mkdir -p "$CACHE_DIR"
log "extracting $MEMBER from $(basename "${wheels[0]}")"
# Write to a temporary name first so a failed run never leaves a bad bundle.
"$PY" - "${wheels[0]}" "$MEMBER" "$OUT.tmp" <<'PYEOF'
import sys
import zipfile

wheel, member, dest = sys.argv[1:4]
with zipfile.ZipFile(wheel) as zf:
    data = zf.read(member)
with open(dest, "wb") as f:
    f.write(data)
PYEOF

if ! is_valid_bundle "$OUT.tmp"; then
    rm -f "$OUT.tmp"
    log "ERROR: extracted file does not look like a Socket.IO v4 client (no '$EXPECTED_HEADER' in its header)"
    exit 1
fi
mv -f "$OUT.tmp" "$OUT"
log "wrote $OUT ($(wc -c <"$OUT") bytes; $(head -c 512 "$OUT" | grep -oE 'Socket\.IO v[0-9.]+' | head -n 1))"
printf '%s\n' "$OUT"
