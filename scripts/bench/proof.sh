#!/usr/bin/env bash
# § 7a proof package (PDF included) for one person of a filled SQLite store: proof_bench twice
# (cold first package, then median/p95/max of 50 persons spread over the store), the one-shot CLI
# and verify-package. Usage: scripts/bench/proof.sh [persons]   (1,000,000 take ~12 min of demo;
# set DATA=dir to reuse a filled data dir). Build first:
#   cargo build --release -p konsent -p konsent-service --bins --example proof_bench
set -euo pipefail
cd "$(dirname "$0")/../.."
PERSONS="${1:-1000000}"
T="${CARGO_TARGET_DIR:-./target}/release"
K="$T/konsent"
DATA="${DATA:-}"
if [ -z "$DATA" ]; then
  DATA=$(mktemp -d /tmp/konsent-proof-XXXX)/d
  $K --data-dir "$DATA" init >/dev/null
  /usr/bin/time -f "demo: wall %e s, peak RSS %M KB" $K --data-dir "$DATA" demo --persons "$PERSONS" 2>&1 | tail -2
fi
echo "== store $DATA: $(du -b "$DATA/konsent.db" | cut -f1) bytes konsent.db"
for run in 1 2; do
  echo "== proof_bench run $run"
  "$T/examples/proof_bench" "$DATA" 50 2>"$DATA.proof$run.log"
done
P=$(grep ' ms' "$DATA.proof1.log" | sed -n 20p | cut -d: -f1)
echo "== one-shot CLI, person $P"
/usr/bin/time -f "wall %e s, peak RSS %M KB" $K --data-dir "$DATA" evidence --person "$P" --out "$DATA.p.zip"
/usr/bin/time -f "verify-package: wall %e s" $K verify-package "$DATA.p.zip" | tail -1
