//! Store tests: every case runs on SQLite and on PostgreSQL (never skipped).

mod common;
mod consent_tests;
mod group_tests;
mod ledger_tests;
mod migration_tests;
mod vault_tests;
