#!/usr/bin/env bash
# Freezing an e-mail segment of every imported subscriber and exporting it: `segment create`
# (channel email, the advertiser of text `demo-newsletter`), then `segment export` as Mailchimp CSV
# with every written contact logged as a use (the default), as Mailchimp CSV with --no-use, and as
# JSON Lines with --no-use. Each timed with wall time and peak RSS; sizes of the files written.
#
# Usage: scripts/bench/segments.sh [DATA]   (a data dir filled by scripts/bench/import.sh;
#        default /tmp/bench-import-sqlite-1000000/d, i.e. `scripts/bench/import.sh 1000000` first)
#   DB_URL=postgres://… scripts/bench/segments.sh DATA    for a PostgreSQL store
# Build first: CARGO_TARGET_DIR=/work/target-bench cargo build --release -p konsent --locked
set -euo pipefail
cd "$(dirname "$0")/../.."
T="${CARGO_TARGET_DIR:-./target}/release"
K="$(realpath "$T/konsent")"
DATA="${1:-/tmp/bench-import-sqlite-1000000/d}"
DB=()
[ -n "${DB_URL:-}" ] && DB=(--database-url "$DB_URL")
KD=("$K" --data-dir "$DATA" "${DB[@]}")
TIME=(/usr/bin/time -f "wall %e s, peak RSS %M KB, user %U s, sys %S s")
OUT="$DATA.segments"
mkdir -p "$OUT"
echo "== $K built $(stat -c %y "$K" | cut -c1-16) (working tree now at $(git log -1 --format=%h)), store $DATA"
"${KD[@]}" status | sed -n '2,20p'
ADV=$("${KD[@]}" status --json | head -1 | python3 -c '
import json, sys
s = json.load(sys.stdin)
print(next(a["id"] for a in s["advertisers"] if a["legal_name"].startswith("Muster")))')
echo "== segment create (email, advertiser $ADV)"
"${TIME[@]}" "${KD[@]}" segment create --name Bench --channel email --advertiser "$ADV" --json >"$OUT/segment.json"
python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); print("segment", s["id"], "members", s["members"], "included", s["included"], "out", s["by_reason"])' "$OUT/segment.json"
SEG=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$OUT/segment.json")
for run in "mailchimp use" "mailchimp no-use" "jsonl no-use"; do
  set -- $run
  F="$OUT/$1-$2.out"
  rm -f "$F"
  FLAGS=()
  [ "$2" = no-use ] && FLAGS=(--no-use)
  echo "== segment export --format $1 ${FLAGS[*]}"
  "${TIME[@]}" "${KD[@]}" segment export "$SEG" --format "$1" --out "$F" "${FLAGS[@]}"
  echo "file: $(du -b "$F" | cut -f1) bytes, $(wc -l <"$F") lines"
done
"${TIME[@]}" "${KD[@]}" verify | tail -1
[ -z "${DB_URL:-}" ] && echo "database: $(du -cb "$DATA"/konsent.db* | tail -1 | cut -f1) bytes (konsent.db + wal)"
exit 0
