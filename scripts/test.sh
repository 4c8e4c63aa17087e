#!/usr/bin/env bash
# The single "install and pass every test" command:
#   1. install dependencies (apt packages + Python venv)
#   2. swift build --build-tests
#   3. swift test (Swift Testing)
#   4. Python interop / robustness suite (pytest, Tests/Interop)
# Exits non-zero as soon as any step fails.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/.." && pwd)"
cd "$REPO_ROOT"

VENV="${SOCKETIO_VENV:-$REPO_ROOT/.venv}"
export SOCKETIO_VENV="$VENV"

step() {
    printf '\n==============================================================\n' >&2
    printf '== %s\n' "$*" >&2
    printf '==============================================================\n' >&2
}

step "1/4 Installing dependencies"
bash "$SCRIPT_DIR/install-deps.sh"

step "2/4 swift build --build-tests"
swift build --build-tests

step "3/4 swift test"
swift test

step "4/4 Python interop tests (Tests/Interop)"
SOCKETIO_BIN_DIR="$(swift build --show-bin-path)"
export SOCKETIO_BIN_DIR
"$VENV/bin/python" -m pytest Tests/Interop -q -p no:cacheprovider --timeout=300

step "All tests passed"
