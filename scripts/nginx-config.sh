#!/usr/bin/env bash
# Writes an nginx config for N workers from nginx/socketio.conf.template to stdout.
#   scripts/nginx-config.sh --listen 127.0.0.1:8080 --prefix /path/to/run/ \
#       [--balance ip_hash|consistent] WORKER_ADDRESS...
# WORKER_ADDRESS: host:port (e.g. 127.0.0.1:5001 or worker:5000). --prefix holds nginx's pid
# and temp paths (with a trailing slash); default: relative to nginx's -p prefix.
#   scripts/nginx-config.sh --node-id WORKER_ADDRESS
# prints the opaque sio_node cookie value of a worker (--node-map routes on it): a digest of
# its address, so that the cookie does not reveal internal addresses.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LISTEN="127.0.0.1:8080"
PREFIX=""
BALANCE="ip_hash"
NODE_MAP=0
SERVERS=()
node_id() { printf 'socketio-node:%s' "$1" | sha256sum | cut -c1-16; }
if [ "${1:-}" = "--node-id" ]; then
    [ $# -eq 2 ] || { echo "usage: $0 --node-id WORKER_ADDRESS" >&2; exit 2; }
    node_id "$2"
    exit 0
fi
while [ $# -gt 0 ]; do
    case "$1" in
    --listen) LISTEN="$2"; shift 2 ;;
    --prefix) PREFIX="$2"; shift 2 ;;
    --node-map) NODE_MAP=1; shift ;;
    --balance)
        case "$2" in
        ip_hash) BALANCE="ip_hash" ;;
        consistent) BALANCE='hash $remote_addr consistent' ;;
        *) echo "unknown --balance $2 (ip_hash or consistent)" >&2; exit 2 ;;
        esac
        shift 2 ;;
    -*) echo "unknown option $1" >&2; exit 2 ;;
    *) SERVERS+=("$1"); shift ;;
    esac
done
[ "${#SERVERS[@]}" -gt 0 ] || { echo "usage: $0 [--listen ADDR] [--prefix DIR/] [--balance ip_hash|consistent] WORKER..." >&2; exit 2; }
lines=""
for server in "${SERVERS[@]}"; do lines+="        server $server max_fails=3 fail_timeout=10s;"$'\n'; done
lines="${lines%$'\n'}"
# Per-node upstreams for sessions that carry the sio_node cookie (only for literal
# host:port workers that set it: `--node-map`).
node_map=""
node_upstreams=""
if [ "$NODE_MAP" = 1 ]; then
    index=0
    for server in "${SERVERS[@]}"; do
        index=$((index + 1))
        node_map+="        \"$(node_id "$server")\" socketio_node_$index;  # $server"$'\n'
        node_upstreams+=$'\n'"    upstream socketio_node_$index {"$'\n'"        server $server max_fails=3 fail_timeout=10s;"$'\n'
        for other in "${SERVERS[@]}"; do
            [ "$other" = "$server" ] || node_upstreams+="        server $other backup;"$'\n'
        done
        node_upstreams+="    }"$'\n'
    done
fi
node_map="${node_map%$'\n'}"
node_upstreams="${node_upstreams%$'\n'}"
awk -v listen="$LISTEN" -v prefix="$PREFIX" -v balance="$BALANCE" -v servers="$lines" -v nodemap="$node_map" -v nodeupstreams="$node_upstreams" '
    { gsub(/@LISTEN@/, listen); gsub(/@PREFIX@/, prefix); gsub(/@BALANCE@/, balance) }
    /^@SERVERS@$/ { print servers; next }
    /^@NODE_MAP@$/ { if (nodemap != "") print nodemap; next }
    /^@NODE_UPSTREAMS@$/ { if (nodeupstreams != "") print nodeupstreams; next }
    { print }
' "$ROOT/nginx/socketio.conf.template"
