//! Store tests: every case runs on SQLite and on PostgreSQL (never skipped).

mod harness;
mod ledger_tests;
