# Shared set-up of the HTTP benchmarks: a fresh data dir (SQLite, or a fresh PostgreSQL database),
# `konsent init`, and `start_server PORT` which serves it and stops it on exit.
# Sets K, DIR, DB_ARGS and KEY. Source it after `ENGINE` is set.
K=./target/release/konsent
DIR=$(mktemp -d /tmp/konsent-bench-XXXX)
DB_ARGS=()
if [ "$ENGINE" = postgres ]; then
  DB_NAME="konsent_bench_$$"
  psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $DB_NAME" -c "CREATE DATABASE $DB_NAME" >/dev/null
  DB_ARGS=(--database-url "postgres://postgres@127.0.0.1/$DB_NAME")
fi
KEY=$($K --data-dir "$DIR/d" "${DB_ARGS[@]}" init --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["api_key"])')

start_server() {
  KONSENT_LOG=${KONSENT_LOG:-error} $K --data-dir "$DIR/d" "${DB_ARGS[@]}" serve --bind "127.0.0.1:$1" >"${SERVER_LOG:-/dev/null}" 2>&1 &
  SERVER=$!
  trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null; rm -rf "$DIR"; [ -n "${DB_NAME:-}" ] && psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $DB_NAME" >/dev/null 2>&1' EXIT
  for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$1/healthz" >/dev/null && break; sleep 0.2; done
}
