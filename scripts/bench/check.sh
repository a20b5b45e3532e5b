#!/usr/bin/env bash
# POST /v1/check throughput and latency against the same server's /healthz, with wrk
# (Debian package `wrk`), 2 threads, 64 connections, 10 s each. Usage: scripts/bench/check.sh [persons] [sqlite|postgres]
set -euo pipefail
cd "$(dirname "$0")/../.."
PERSONS="${1:-20000}"
ENGINE="${2:-sqlite}"
K=./target/release/konsent
DIR=$(mktemp -d /tmp/konsent-bench-XXXX)
PORT=18080
DB_ARGS=()
if [ "$ENGINE" = postgres ]; then
  psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS konsent_bench" -c "CREATE DATABASE konsent_bench" >/dev/null
  DB_ARGS=(--database-url postgres://postgres@127.0.0.1/konsent_bench)
fi
KEY=$($K --data-dir "$DIR/d" "${DB_ARGS[@]}" init --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["api_key"])')
$K --data-dir "$DIR/d" "${DB_ARGS[@]}" demo --persons "$PERSONS" >/dev/null
KONSENT_LOG=error $K --data-dir "$DIR/d" "${DB_ARGS[@]}" serve --bind 127.0.0.1:$PORT >/dev/null 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; rm -rf "$DIR"' EXIT
for _ in $(seq 1 50); do curl -sf http://127.0.0.1:$PORT/healthz >/dev/null && break; sleep 0.2; done
# A person with a verified, complete phone consent, created through the API.
python3 scripts/bench/setup_check.py "http://127.0.0.1:$PORT" "$KEY" > "$DIR/check.lua"
echo "== GET /healthz"
wrk -t2 -c64 -d10s --latency http://127.0.0.1:$PORT/healthz | grep -E "Requests/sec|99%|50%"
echo "== POST /v1/check ($PERSONS persons, $ENGINE)"
wrk -t2 -c64 -d10s --latency -s "$DIR/check.lua" http://127.0.0.1:$PORT/v1/check | grep -E "Requests/sec|99%|50%|Non-2xx"
