#!/usr/bin/env bash
# konsent scrub of the lead list of a synthetic tenant (every number belongs to a person), against
# the time to only read and normalise the same file. Usage: scripts/bench/scrub.sh [persons]
# (1,000,000 persons take ~13 minutes of `konsent demo` first). Set DATA=dir LEADS=file to reuse.
set -euo pipefail
cd "$(dirname "$0")/../.."
PERSONS="${1:-100000}"
K=./target/release/konsent
DATA="${DATA:-}"
if [ -z "$DATA" ]; then
  DATA=$(mktemp -d /tmp/konsent-scrub-XXXX)/d
  LEADS="$DATA.leads.csv"
  $K --data-dir "$DATA" init >/dev/null
  $K --data-dir "$DATA" demo --persons "$PERSONS" --leads-out "$LEADS" 2>/dev/null | tail -1
fi
LEADS="${LEADS:-$DATA.leads.csv}"
ADV=$($K --data-dir "$DATA" status --json | head -1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["advertisers"][0]["id"])')
echo "== read and normalise only ($(($(wc -l < "$LEADS") - 1)) rows)"
/usr/bin/time -f "%e s, %M KB max RSS" $K --data-dir "$DATA" scrub "$LEADS" --validate-only
echo "== scrub (phone_live, one advertiser, insurance)"
/usr/bin/time -f "%e s, %M KB max RSS" $K --data-dir "$DATA" scrub "$LEADS" --channel phone_live --advertiser "$ADV" \
  --categories insurance --out "$DATA.out.csv" 2>/dev/null | head -1
