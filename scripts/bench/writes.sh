#!/usr/bin/env bash
# Durable consent-system writes through the API with 64 concurrent clients (wrk, 2 threads,
# 64 connections, 10 s): POST /v1/persons, each a person with a sealed e-mail contact point
# (3 ledger entries, 4 vault rows), acknowledged only after commit. Usage: writes.sh [sqlite|postgres]
set -euo pipefail
cd "$(dirname "$0")/../.."
ENGINE="${1:-sqlite}"
PORT=18081
# shellcheck source=lib.sh
source scripts/bench/lib.sh
start_server $PORT
cat > "$DIR/w.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $KEY"
wrk.body = '{"first_name":"Lena","last_name":"Schreiber","contacts":[{"email":"lena.schreiber@example.de"}]}'
LUA
echo "== POST /v1/persons, 64 clients ($ENGINE)"
wrk -t2 -c64 -d10s --latency -s "$DIR/w.lua" http://127.0.0.1:$PORT/v1/persons | grep -E "Requests/sec|99%|50%|Non-2xx"
$K --data-dir "$DIR/d" "${DB_ARGS[@]}" verify
