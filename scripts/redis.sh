#!/usr/bin/env bash
# A private redis-server on loopback, for tests and local clusters.
#   scripts/redis.sh up   [PORT]   start (default port 16379); prints the redis:// URL
#   scripts/redis.sh down [PORT]   stop the one this script started on PORT
#   scripts/redis.sh status [PORT]
# Data, log and pid live in ${SOCKETIO_RUN_DIR:-<repo>/.run}/redis-PORT. Idempotent: `up` on a
# running instance just prints its URL; `down` stops only the pid it recorded.
# With SOCKETIO_REDIS_PASSWORD set, the server requires it (from a config file in that
# directory, not its command line) and the URL printed carries it (redis://:PASSWORD@…).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUN_DIR="${SOCKETIO_RUN_DIR:-$ROOT/.run}"
ACTION="${1:-up}"
PORT="${2:-16379}"
DIR="$RUN_DIR/redis-$PORT"
PIDFILE="$DIR/redis.pid"
log() { printf '[redis] %s\n' "$*" >&2; }
answers() { REDISCLI_AUTH="${SOCKETIO_REDIS_PASSWORD:-}" redis-cli -h 127.0.0.1 -p "$PORT" ping 2>/dev/null | grep -q PONG; }

alive() {
    [ -f "$PIDFILE" ] || return 1
    local pid state
    pid="$(cat "$PIDFILE")"
    state="$(awk '/^State:/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)"
    [ -n "$state" ] && [ "$state" != "Z" ]
}

case "$ACTION" in
up)
    if ! command -v redis-server >/dev/null; then
        log "redis-server is not installed: run scripts/install-deps.sh"
        exit 1
    fi
    if alive; then
        log "already running on 127.0.0.1:$PORT (pid $(cat "$PIDFILE"))"
    else
        mkdir -p "$DIR"
        log "starting redis-server on 127.0.0.1:$PORT (data in $DIR)"
        if [ -n "${SOCKETIO_REDIS_PASSWORD:-}" ]; then
            (umask 077 && printf 'requirepass "%s"\n' "$SOCKETIO_REDIS_PASSWORD" >"$DIR/auth.conf")
        else
            : >"$DIR/auth.conf"
        fi
        redis-server "$DIR/auth.conf" --bind 127.0.0.1 --port "$PORT" --dir "$DIR" --save '' --appendonly no \
            --daemonize no --logfile "$DIR/redis.log" >/dev/null 2>&1 &
        echo $! >"$PIDFILE"
        for _ in $(seq 100); do
            answers && break
            sleep 0.05
        done
        answers || { log "redis did not start"; tail "$DIR/redis.log" >&2; exit 1; }
    fi
    if [ -n "${SOCKETIO_REDIS_PASSWORD:-}" ]; then
        echo "redis://:${SOCKETIO_REDIS_PASSWORD}@127.0.0.1:$PORT"
    else
        echo "redis://127.0.0.1:$PORT"
    fi
    ;;
down)
    if alive; then
        pid="$(cat "$PIDFILE")"
        log "stopping redis-server on 127.0.0.1:$PORT (pid $pid)"
        kill "$pid"
        for _ in $(seq 100); do alive || break; sleep 0.05; done
    else
        log "not running on 127.0.0.1:$PORT"
    fi
    rm -f "$PIDFILE"
    ;;
status)
    if alive; then echo "running redis://127.0.0.1:$PORT pid $(cat "$PIDFILE")"; else echo "stopped"; exit 3; fi
    ;;
*)
    echo "usage: $0 up|down|status [PORT]" >&2
    exit 2
    ;;
esac
