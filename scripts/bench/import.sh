#!/usr/bin/env bash
# `konsent import` of a Mailchimp subscribed-members export (scripts/bench/gen_mailchimp.py: distinct
# addresses, 85 % with the whole double opt-in record) into a fresh store that holds only the demo
# catalogue (`demo --persons 0`: three advertisers, four published texts), e-mail text
# `demo-newsletter`. Per size: the dry run (reads, plans and looks up every row, writes nothing),
# then the import, `verify` (ledger entries) and the database size.
#
# Usage: scripts/bench/import.sh [rows ...]          (default: 10000 100000)
#   ENGINE=postgres scripts/bench/import.sh 100000   (fresh database konsent_bench on 127.0.0.1)
#   PERF=1 ...      also records the import with `perf record --call-graph dwarf` (report in $DATA.perf.txt)
#   NO_DRY=1 ...    skips the dry run
#   RESYNC=1 ...    then imports a later export of the same list (same members and opt-in records,
#                   LAST_CHANGED one day later, so another file; generated with the first file's
#                   date as --until): every row finds its person and consent ("unchanged"), the
#                   found-person lookups run per row, nothing is written but import_completed
# Data dirs: /tmp/bench-import-<engine>-<rows>; CSVs: /tmp/bench-files/mc-<rows>.csv (kept, reused).
# Build first: CARGO_TARGET_DIR=/work/target-bench cargo build --release -p konsent --locked
set -euo pipefail
cd "$(dirname "$0")/../.."
T="${CARGO_TARGET_DIR:-./target}/release"
K="$(realpath "$T/konsent")"
ENGINE="${ENGINE:-sqlite}"
[ $# -gt 0 ] || set -- 10000 100000
mkdir -p /tmp/bench-files
echo "== $K built $(stat -c %y "$K" | cut -c1-16) (working tree now at $(git log -1 --format=%h)), engine $ENGINE"
for N in "$@"; do
  CSV=/tmp/bench-files/mc-$N.csv
  [ -s "$CSV" ] || python3 scripts/bench/gen_mailchimp.py "$N" "$CSV"
  DATA=/tmp/bench-import-$ENGINE-$N
  rm -rf "$DATA" && mkdir -p "$DATA"
  DB=()
  if [ "$ENGINE" = postgres ]; then
    psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS konsent_bench" >/dev/null
    createdb -h 127.0.0.1 -U postgres konsent_bench
    DB=(--database-url postgres://postgres@127.0.0.1:5432/konsent_bench)
  fi
  $K --data-dir "$DATA/d" "${DB[@]}" init >/dev/null
  $K --data-dir "$DATA/d" "${DB[@]}" demo --persons 0 2>/dev/null | tail -1
  echo "== $N rows, $(du -b "$CSV" | cut -f1) bytes"
  if [ -z "${NO_DRY:-}" ]; then
    echo "-- dry run"
    /usr/bin/time -f "wall %e s, peak RSS %M KB, user %U s, sys %S s" \
      $K --data-dir "$DATA/d" "${DB[@]}" import "$CSV" --format mailchimp --text demo-newsletter --dry-run
  fi
  echo "-- import"
  if [ -n "${PERF:-}" ]; then
    perf record -F 200 --call-graph dwarf,16384 -o "$DATA/perf.data" -- \
      $K --data-dir "$DATA/d" "${DB[@]}" import "$CSV" --format mailchimp --text demo-newsletter
    perf report -i "$DATA/perf.data" --no-children --percent-limit 0.5 --stdio 2>/dev/null >"$DATA.perf.txt"
    perf report -i "$DATA/perf.data" --children --percent-limit 2 --stdio -g none 2>/dev/null >"$DATA.perf-children.txt"
    echo "perf reports: $DATA.perf.txt $DATA.perf-children.txt"
  else
    /usr/bin/time -f "wall %e s, peak RSS %M KB, user %U s, sys %S s" \
      $K --data-dir "$DATA/d" "${DB[@]}" import "$CSV" --format mailchimp --text demo-newsletter
  fi
  if [ -n "${RESYNC:-}" ]; then
    CSV2=/tmp/bench-files/mc-$N-resync.csv
    [ -s "$CSV2" ] || python3 scripts/bench/gen_mailchimp.py "$N" "$CSV2" --until "$(date -u -r "$CSV" +%F)" --touch-days 1
    for DRY in --dry-run ""; do
      echo "-- later export of the same list $CSV2 ${DRY:-(import)}"
      /usr/bin/time -f "wall %e s, peak RSS %M KB, user %U s, sys %S s" \
        $K --data-dir "$DATA/d" "${DB[@]}" import "$CSV2" --format mailchimp --text demo-newsletter $DRY
    done
  fi
  echo "-- verify"
  /usr/bin/time -f "verify: wall %e s" $K --data-dir "$DATA/d" "${DB[@]}" verify | tail -2
  if [ "$ENGINE" = postgres ]; then
    psql -h 127.0.0.1 -U postgres -Atc "SELECT 'database size: ' || pg_database_size('konsent_bench') || ' bytes'"
  else
    echo "database: $(du -cb "$DATA/d"/konsent.db* | tail -1 | cut -f1) bytes (konsent.db + wal)"
  fi
done
