#!/usr/bin/env bash
# POST /v1/check throughput and latency against the same server's /healthz, with wrk
# (Debian package `wrk`), 2 threads, 64 connections, 10 s each. Usage: scripts/bench/check.sh [persons] [sqlite|postgres]
set -euo pipefail
cd "$(dirname "$0")/../.."
PERSONS="${1:-20000}"
ENGINE="${2:-sqlite}"
PORT=18080
# shellcheck source=lib.sh
source scripts/bench/lib.sh
$K --data-dir "$DIR/d" "${DB_ARGS[@]}" demo --persons "$PERSONS" >/dev/null
start_server $PORT
# A person with a verified, complete phone consent, created through the API.
python3 scripts/bench/setup_check.py "http://127.0.0.1:$PORT" "$KEY" > "$DIR/check.lua"
# Warm up both (connections, caches, the first load of the person's state), then measure.
wrk -t2 -c64 -d2s http://127.0.0.1:$PORT/healthz >/dev/null
wrk -t2 -c64 -d2s -s "$DIR/check.lua" http://127.0.0.1:$PORT/v1/check >/dev/null
echo "== GET /healthz"
wrk -t2 -c64 -d10s --latency http://127.0.0.1:$PORT/healthz | grep -E "Requests/sec|99%|50%"
echo "== POST /v1/check ($PERSONS persons, $ENGINE)"
wrk -t2 -c64 -d10s --latency -s "$DIR/check.lua" http://127.0.0.1:$PORT/v1/check | grep -E "Requests/sec|99%|50%|Non-2xx"
