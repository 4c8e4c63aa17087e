#!/usr/bin/env bash
# Writes an nginx config for N workers from nginx/socketio.conf.template to stdout.
#   scripts/nginx-config.sh --listen 127.0.0.1:8080 --prefix /path/to/run/ \
#       [--balance ip_hash|consistent] WORKER_ADDRESS...
# WORKER_ADDRESS: host:port (e.g. 127.0.0.1:5001 or worker:5000). --prefix holds nginx's pid
# and temp paths (with a trailing slash); default: relative to nginx's -p prefix.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LISTEN="127.0.0.1:8080"
PREFIX=""
BALANCE="ip_hash"
SERVERS=()
while [ $# -gt 0 ]; do
    case "$1" in
    --listen) LISTEN="$2"; shift 2 ;;
    --prefix) PREFIX="$2"; shift 2 ;;
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
for server in "${SERVERS[@]}"; do lines+="        server $server max_fails=1 fail_timeout=5s;"$'\n'; done
lines="${lines%$'\n'}"
awk -v listen="$LISTEN" -v prefix="$PREFIX" -v balance="$BALANCE" -v servers="$lines" '
    { gsub(/@LISTEN@/, listen); gsub(/@PREFIX@/, prefix); gsub(/@BALANCE@/, balance) }
    /^@SERVERS@$/ { print servers; next }
    { print }
' "$ROOT/nginx/socketio.conf.template"
