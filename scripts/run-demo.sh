#!/usr/bin/env bash
# Build (release) and run the socketio-demo server.
#   HOST (default 0.0.0.0) and PORT (default 5000) pick the listen address;
#   any extra arguments are passed through to the binary.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/.." && pwd)"
cd "$REPO_ROOT"

bash "$SCRIPT_DIR/install-deps.sh"

echo "[run-demo] swift build -c release --product socketio-demo" >&2
swift build -c release --product socketio-demo
BIN_DIR="$(swift build -c release --show-bin-path)"

exec "$BIN_DIR/socketio-demo" --host "${HOST:-0.0.0.0}" --port "${PORT:-5000}" "$@"
