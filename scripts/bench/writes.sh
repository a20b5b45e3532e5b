#!/usr/bin/env bash
# Durable consent-system writes through the API with 64 concurrent clients (wrk, 2 threads,
# 64 connections, 10 s): POST /v1/persons, each a person with a sealed e-mail contact point
# (3 ledger entries, 4 vault rows), acknowledged only after commit. Usage: writes.sh [sqlite|postgres]
set -euo pipefail
cd "$(dirname "$0")/../.."
ENGINE="${1:-sqlite}"
K=./target/release/konsent
DIR=$(mktemp -d /tmp/konsent-bench-XXXX)
PORT=18081
DB_ARGS=()
if [ "$ENGINE" = postgres ]; then
  psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS konsent_bench_w" -c "CREATE DATABASE konsent_bench_w" >/dev/null
  DB_ARGS=(--database-url postgres://postgres@127.0.0.1/konsent_bench_w)
fi
KEY=$($K --data-dir "$DIR/d" "${DB_ARGS[@]}" init --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["api_key"])')
KONSENT_LOG=error $K --data-dir "$DIR/d" "${DB_ARGS[@]}" serve --bind 127.0.0.1:$PORT >/dev/null 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; rm -rf "$DIR"' EXIT
for _ in $(seq 1 50); do curl -sf http://127.0.0.1:$PORT/healthz >/dev/null && break; sleep 0.2; done
cat > "$DIR/w.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $KEY"
wrk.body = '{"first_name":"Lena","last_name":"Schreiber","contacts":[{"email":"lena.schreiber@example.de"}]}'
LUA
echo "== POST /v1/persons, 64 clients ($ENGINE)"
wrk -t2 -c64 -d10s --latency -s "$DIR/w.lua" http://127.0.0.1:$PORT/v1/persons | grep -E "Requests/sec|99%|50%|Non-2xx"
$K --data-dir "$DIR/d" "${DB_ARGS[@]}" verify
