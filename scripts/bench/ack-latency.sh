#!/usr/bin/env bash
# Measures the ack round trip (text, and with a binary attachment) over WebSocket against a
# release build of the interop fixture server. Prints JSON figures; asserts nothing.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
bash scripts/install-deps.sh >&2
swift build -c release --product socketio-testserver >&2
BIN="$(swift build -c release --show-bin-path)/socketio-testserver"
OUT="$(mktemp)"
taskset -c 0 "$BIN" --port 0 >"$OUT" 2>/dev/null &
PID=$!
trap 'kill $PID 2>/dev/null || true; rm -f "$OUT"' EXIT
for _ in $(seq 100); do grep -q listening "$OUT" && break; sleep 0.1; done
PORT="$(grep -o '[0-9]*$' "$OUT")"
echo "server pid $PID pinned to core 0; client pinned to core 1" >&2
taskset -c 1 "${SOCKETIO_VENV:-$ROOT/.venv}/bin/python" scripts/bench/ack_latency.py --url "ws://127.0.0.1:$PORT" "$@"
