//! Store tests: every case runs on SQLite and on PostgreSQL (never skipped).

mod ledger_tests;
