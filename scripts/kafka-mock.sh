#!/usr/bin/env bash
# A Kafka-protocol endpoint on loopback for tests: librdkafka's mock cluster hosted by
# scripts/kafka-mock/kafka_mock_broker.c (compiled here on first use).
#   scripts/kafka-mock.sh up   NAME [TOPIC[:PARTITIONS] ...]   start; prints kafka://127.0.0.1:PORT
#   scripts/kafka-mock.sh down NAME                            stop the one started as NAME
# The port is ephemeral (the mock cluster picks it). State lives in
# ${SOCKETIO_RUN_DIR:-<repo>/.run}/kafka-NAME. Default topic: socketio (3 partitions).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUN_DIR="${SOCKETIO_RUN_DIR:-$ROOT/.run}"
ACTION="${1:-up}"
NAME="${2:-default}"
shift 2 || true
DIR="$RUN_DIR/kafka-$NAME"
BIN="$ROOT/.run/bin/kafka_mock_broker"
log() { printf '[kafka-mock] %s\n' "$*" >&2; }

alive() {
    [ -s "$DIR/pid" ] || return 1
    local state
    state="$(awk '/^State:/ {print $2}' "/proc/$(cat "$DIR/pid")/status" 2>/dev/null || true)"
    [ -n "$state" ] && [ "$state" != "Z" ]
}

case "$ACTION" in
up)
    SRC="$ROOT/scripts/kafka-mock/kafka_mock_broker.c"
    if [ ! -x "$BIN" ] || [ "$SRC" -nt "$BIN" ]; then
        mkdir -p "$(dirname "$BIN")"
        log "compiling $BIN"
        cc -O2 -o "$BIN" "$SRC" $(pkg-config --cflags --libs rdkafka)
    fi
    if alive; then
        log "already running ($NAME)"
    else
        mkdir -p "$DIR"
        rm -f "$DIR/bootstrap"
        topics=("$@")
        [ "${#topics[@]}" -gt 0 ] || topics=(socketio)
        "$BIN" "$DIR/bootstrap" "${topics[@]}" >"$DIR/stdout.log" 2>"$DIR/stderr.log" &
        echo $! >"$DIR/pid"
        for _ in $(seq 100); do [ -s "$DIR/bootstrap" ] && break; sleep 0.05; done
        [ -s "$DIR/bootstrap" ] || { log "mock cluster did not start"; cat "$DIR/stderr.log" >&2; exit 1; }
        log "mock cluster $NAME on $(cat "$DIR/bootstrap") (topics: ${topics[*]})"
    fi
    echo "kafka://$(cat "$DIR/bootstrap")"
    ;;
down)
    if alive; then
        pid="$(cat "$DIR/pid")"
        kill "$pid"
        for _ in $(seq 100); do alive || break; sleep 0.05; done
        if alive; then kill -KILL "$pid" 2>/dev/null || true; fi
        log "stopped ($NAME)"
    fi
    rm -f "$DIR/pid"
    ;;
*)
    echo "usage: $0 up|down NAME [TOPIC[:PARTITIONS] ...]" >&2
    exit 2
    ;;
esac
