#!/usr/bin/env bash
# API latency during a large import: `konsent serve` on a fresh SQLite store (demo catalogue and
# the check benchmark's person with a verified phone consent), the 1,000,000-row Mailchimp file
# sent to POST /v1/imports; 8 s later, at the same time, POST /v1/check with wrk (Debian package
# `wrk`; 1 thread, 4 connections, 20 s) and 40 POST /v1/persons one after another, 0.3 s apart,
# each timed by curl (p50, p90, max), all while the import runs (the script says if it ended
# before).
# Usage: scripts/bench/import_latency.sh LABEL [BIN]   (BIN default: ./target/release/konsent)
set -uo pipefail
cd "$(dirname "$0")/../.."
L=$1; K=$(realpath "${2:-./target/release/konsent}"); P=18111
CSV=/tmp/bench-files/mc-1000000.csv
mkdir -p /tmp/bench-files
[ -s "$CSV" ] || python3 scripts/bench/gen_mailchimp.py 1000000 "$CSV"
D=$(mktemp -d /tmp/konsent-latency-XXXX)
KEY=$($K --data-dir "$D/d" init --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["api_key"])')
$K --data-dir "$D/d" demo --persons 0 >/dev/null 2>&1
KONSENT_LOG=error $K --data-dir "$D/d" serve --bind 127.0.0.1:$P > "$D/serve.log" 2>&1 &
S=$!
trap 'kill $S 2>/dev/null; wait $S 2>/dev/null; rm -rf "$D"' EXIT
sleep 2
python3 scripts/bench/setup_check.py "http://127.0.0.1:$P" "$KEY" > "$D/check.lua"
curl -s -X POST -H "Authorization: Bearer $KEY" --data-binary @"$CSV" \
  "http://127.0.0.1:$P/v1/imports?format=mailchimp&text=demo-newsletter&name=subscribed_members_export.csv" > "$D/import.json" &
I=$!
sleep 8
wrk -t1 -c4 -d20s --latency -s "$D/check.lua" "http://127.0.0.1:$P/v1/check" > "$D/wrk.txt" &
W=$!
for i in $(seq 1 40); do
  curl -s -o /dev/null -w "%{time_total}\n" -X POST -H "Authorization: Bearer $KEY" -H "Content-Type: application/json" \
    -d "{\"first_name\":\"Lena\",\"last_name\":\"S\",\"contacts\":[{\"email\":\"lena$i.$L@example.de\"}]}" \
    "http://127.0.0.1:$P/v1/persons" >> "$D/latency.txt"
  sleep 0.3
done
wait $W
kill -0 $I 2>/dev/null || echo "(the import ended before the measurements did)"
echo "== POST /v1/check during the import ($L)"
grep -E "Requests/sec|^ +50%|^ +99%|Non-2xx" "$D/wrk.txt"
wait $I
python3 - "$D/latency.txt" "$L" <<'PY'
import sys
v = sorted(float(x) for x in open(sys.argv[1]) if x.strip())
print("== POST /v1/persons during the import:", sys.argv[2], "n", len(v), "p50 %.3f s" % v[len(v) // 2],
      "p90 %.3f s" % v[int(len(v) * 0.9)], "max %.3f s" % v[-1])
PY
