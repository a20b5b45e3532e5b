//! End-to-end tests: services on SQLite and PostgreSQL, and the `konsent` binary.

mod api;
mod assisted;
mod browser;
mod cli;
mod doi;
mod erasure;
mod forms;
mod fuzz;
mod gate_bulk;
mod harness;
mod idempotency;
mod imports;
mod isolation;
mod openapi;
mod otp;
mod prefs;
mod proof;
mod repermission;
mod segments;
mod serve;
mod sweep;
mod texts;
mod vault;
mod verify;
mod webhooks;
mod webhooks_in;
