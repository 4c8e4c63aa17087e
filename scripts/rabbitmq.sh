#!/usr/bin/env bash
# A private rabbitmq-server on loopback, for tests and local clusters.
#   scripts/rabbitmq.sh up   [PORT]   start (default 45672); prints the amqp:// URL
#   scripts/rabbitmq.sh down [PORT]   stop the node this script started on PORT
#   scripts/rabbitmq.sh status [PORT]
#   scripts/rabbitmq.sh ctl    PORT ARGS...   rabbitmqctl ARGS against that node (e.g. list_queues name)
# Extra rabbitmq.conf lines (e.g. "max_message_size = 1048576") may be given in
# SOCKETIO_RABBITMQ_EXTRA_CONF when the node is started.
# Everything is private to ${SOCKETIO_RUN_DIR:-<repo>/.run}/rabbitmq-PORT: node name, HOME and
# Erlang cookie, data, logs, and an epmd on PORT+2 bound to 127.0.0.1; the distribution port
# (PORT+1) listens on loopback only. The tools under /usr/lib/rabbitmq/bin are called directly:
# the /usr/sbin wrappers switch user and cookie.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUN_DIR="${SOCKETIO_RUN_DIR:-$ROOT/.run}"
ACTION="${1:-up}"
PORT="${2:-45672}"
DIR="$RUN_DIR/rabbitmq-$PORT"
BIN=/usr/lib/rabbitmq/bin
log() { printf '[rabbitmq] %s\n' "$*" >&2; }

rabbit_env() {
    export HOME="$DIR/home"
    export RABBITMQ_NODENAME="socketio$PORT@localhost"
    export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 RABBITMQ_NODE_PORT="$PORT" RABBITMQ_DIST_PORT="$((PORT + 1))"
    export RABBITMQ_CONFIG_FILE="$DIR/rabbitmq.conf" RABBITMQ_CONF_ENV_FILE="$DIR/rabbitmq-env.conf"
    export RABBITMQ_ENABLED_PLUGINS_FILE="$DIR/enabled_plugins"
    export RABBITMQ_MNESIA_BASE="$DIR/mnesia" RABBITMQ_LOG_BASE="$DIR/log" RABBITMQ_PID_FILE="$DIR/rabbit.pid"
    export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS='-kernel inet_dist_use_interface {127,0,0,1}'
    export ERL_EPMD_ADDRESS=127.0.0.1 ERL_EPMD_PORT="$((PORT + 2))"
}

alive() {
    [ -s "$DIR/rabbit.pid" ] || return 1
    local state
    state="$(awk '/^State:/ {print $2}' "/proc/$(cat "$DIR/rabbit.pid")/status" 2>/dev/null || true)"
    [ -n "$state" ] && [ "$state" != "Z" ]
}

case "$ACTION" in
up)
    [ -x "$BIN/rabbitmq-server" ] || { log "rabbitmq-server is not installed: run scripts/install-deps.sh"; exit 1; }
    if alive; then
        log "already running on 127.0.0.1:$PORT"
    else
        rm -rf "$DIR/mnesia" "$DIR/log"
        mkdir -p "$DIR/home" "$DIR/mnesia" "$DIR/log"
        if [ ! -s "$DIR/home/.erlang.cookie" ]; then
            head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$DIR/home/.erlang.cookie"
            chmod 400 "$DIR/home/.erlang.cookie"
        fi
        printf 'loopback_users.guest = false\nlisteners.tcp.default = %s\nvm_memory_high_watermark.relative = 0.2\ndisk_free_limit.absolute = 50MB\nlog.console = false\n' "$PORT" >"$DIR/rabbitmq.conf"
        if [ -n "${SOCKETIO_RABBITMQ_EXTRA_CONF:-}" ]; then printf '%s\n' "$SOCKETIO_RABBITMQ_EXTRA_CONF" >>"$DIR/rabbitmq.conf"; fi
        echo '[].' >"$DIR/enabled_plugins"
        : >"$DIR/rabbitmq-env.conf"
        log "starting rabbitmq-server on 127.0.0.1:$PORT (data in $DIR)"
        (
            rabbit_env
            "$BIN/rabbitmq-server" >"$DIR/log/stdout.log" 2>&1 &
            # `rabbitmqctl wait` fails at once ({garbage_in_pid_file}) when it reads the pid
            # file between its creation and its write (seen on a loaded machine): wait for a
            # whole pid first.
            for _ in $(seq 1200); do
                grep -qE '^[0-9]+$' "$RABBITMQ_PID_FILE" 2>/dev/null && break
                sleep 0.1
            done
            "$BIN/rabbitmqctl" wait --timeout 120 "$RABBITMQ_PID_FILE" >"$DIR/log/wait.log" 2>&1
        ) || {
            log "rabbitmq did not start"
            tail -20 "$DIR/log/stdout.log" >&2
            # Leave nothing running behind a failed start (callers only stop what started).
            bash "$ROOT/scripts/rabbitmq.sh" down "$PORT" >/dev/null 2>&1 || true
            exit 1
        }
    fi
    echo "amqp://guest:guest@127.0.0.1:$PORT/%2f"
    ;;
down)
    if alive; then
        log "stopping rabbitmq-server on 127.0.0.1:$PORT"
        # Read the pid first: a clean shutdown removes the pid file.
        pid="$(cat "$DIR/rabbit.pid")"
        (rabbit_env; timeout 60 "$BIN/rabbitmqctl" shutdown >/dev/null 2>&1) || true
        for _ in $(seq 100); do
            state="$(awk '/^State:/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)"
            { [ -z "$state" ] || [ "$state" = "Z" ]; } && break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null || true
        rm -f "$DIR/rabbit.pid"
    else
        log "not running on 127.0.0.1:$PORT"
    fi
    # epmd daemonizes itself and outlives the node: stop ours by its port.
    ERL_EPMD_PORT="$((PORT + 2))" epmd -kill >/dev/null 2>&1 || true
    ;;
ctl)
    shift 2
    (rabbit_env; "$BIN/rabbitmqctl" "$@")
    ;;
status)
    if alive; then echo "running amqp://guest:guest@127.0.0.1:$PORT/%2f"; else echo "stopped"; exit 3; fi
    ;;
*)
    echo "usage: $0 up|down|status [PORT] | ctl PORT ARGS..." >&2
    exit 2
    ;;
esac
