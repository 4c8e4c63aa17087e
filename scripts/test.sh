#!/usr/bin/env bash
# The single "install and pass every test" command:
#   1. install dependencies (apt packages + Python venv)
#   2. swift build --build-tests
#   3. swift test (Swift Testing)
#   4. Python interop / robustness suite (pytest, Tests/Interop)
#   5. a Redis-only build (SwiftPM trait Redis) builds and passes its tests with
#      librabbitmq and librdkafka hidden (a private mount namespace)
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

step "1/5 Installing dependencies"
bash "$SCRIPT_DIR/install-deps.sh"

step "2/5 swift build --build-tests"
swift build --build-tests

step "3/5 swift test"
swift test

step "4/5 Python interop tests (Tests/Interop)"
SOCKETIO_BIN_DIR="$(swift build --show-bin-path)"
export SOCKETIO_BIN_DIR
"$VENV/bin/python" -m pytest Tests/Interop -q -p no:cacheprovider --timeout=300

step "5/5 Redis-only build (--traits Redis) without librabbitmq/librdkafka"
# In a private mount namespace the AMQP and Kafka headers, libraries and pkg-config files
# are covered by empty files and directories: a build that still needed one would fail.
# Its own build path, so that the default build above stays as it is.
redis_only() {
    local file dir
    for file in /usr/include/amqp.h /usr/include/amqp_framing.h /usr/include/amqp_ssl_socket.h /usr/include/amqp_tcp_socket.h \
        /usr/lib/x86_64-linux-gnu/pkgconfig/librabbitmq.pc /usr/lib/x86_64-linux-gnu/pkgconfig/rdkafka.pc \
        /usr/lib/x86_64-linux-gnu/pkgconfig/rdkafka++.pc /usr/lib/*/librabbitmq.* /usr/lib/*/librdkafka*; do
        [ -e "$file" ] && mount --bind /dev/null "$file"
    done
    for dir in /usr/include/rabbitmq-c /usr/include/librdkafka; do
        [ -d "$dir" ] && mount -t tmpfs -o size=1m,ro none "$dir"
    done
    if pkg-config --exists librabbitmq 2>/dev/null || pkg-config --exists rdkafka 2>/dev/null; then
        echo "librabbitmq or librdkafka still visible" >&2
        return 1
    fi
    swift build --build-path .build-redis-only --traits Redis --build-tests
    swift test --build-path .build-redis-only --traits Redis --skip-build
}
export -f redis_only
unshare --mount --propagation private bash -euo pipefail -c redis_only

step "All tests passed"
