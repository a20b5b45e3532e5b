#!/usr/bin/env bash
# Runs the whole Konsent test suite on a fresh Debian machine: installs and starts what the tests
# need (PostgreSQL; python3-aiosmtpd, which the mail tests start as a real SMTP server; chromium and
# chromium-driver for the browser test), then runs every test on SQLite and PostgreSQL. Fails
# loudly, never skips.
set -euo pipefail
cd "$(dirname "$0")/.."

need_pkgs=()
command -v psql >/dev/null 2>&1 || need_pkgs+=(postgresql postgresql-client)
command -v pg_ctlcluster >/dev/null 2>&1 || need_pkgs+=(postgresql)
# A real SMTP server for the double opt-in tests (Debian's aiosmtpd, started by the tests).
/usr/bin/python3 -c 'import aiosmtpd' >/dev/null 2>&1 || need_pkgs+=(python3-aiosmtpd)
# A real headless browser for the signup and confirmation pages.
command -v chromium >/dev/null 2>&1 || need_pkgs+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need_pkgs+=(chromium-driver)
# pdftotext and pdfinfo read the proof reports back in the PDF tests.
command -v pdftotext >/dev/null 2>&1 || need_pkgs+=(poppler-utils)
if [ ${#need_pkgs[@]} -gt 0 ]; then
  echo "==> installing ${need_pkgs[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq "${need_pkgs[@]}" >/dev/null
fi

export KONSENT_TEST_PG_URL="${KONSENT_TEST_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
pg_ready() { psql "$KONSENT_TEST_PG_URL" -Atqc 'select 1' >/dev/null 2>&1; }
if ! pg_ready; then
  echo "==> starting PostgreSQL"
  for v in $(ls /etc/postgresql 2>/dev/null); do
    pg_ctlcluster --skip-systemctl-redirect "$v" main start 2>/dev/null || true
  done
  for _ in $(seq 1 30); do pg_ready && break; sleep 1; done
fi
if ! pg_ready; then
  echo "ERROR: PostgreSQL is not reachable at $KONSENT_TEST_PG_URL; the PostgreSQL tests cannot run." >&2
  echo "       Start it (pg_ctlcluster <version> main start) or set KONSENT_TEST_PG_URL." >&2
  exit 1
fi
echo "==> PostgreSQL reachable at $KONSENT_TEST_PG_URL"

echo "==> cargo fmt --check, cargo clippy -D warnings"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings

echo "==> cargo test (all crates, SQLite and PostgreSQL)"
cargo test --workspace --locked -- --test-threads "${KONSENT_TEST_THREADS:-4}"
