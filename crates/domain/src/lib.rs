//! Konsent domain: pure types and rules of consent management, no I/O.
//!
//! Time and randomness come in through [`time::Clock`] and [`time::Entropy`].
#![forbid(unsafe_code)]

pub mod attachment;
pub mod basis;
pub mod channel;
pub mod consent;
pub mod contact;
pub mod crypto;
pub mod erasure;
pub mod form;
pub mod gate;
pub mod ids;
pub mod ledger;
pub mod mail;
pub mod party;
pub mod proof;
pub mod retention;
pub mod segment;
pub mod settings;
pub mod suppression;
pub mod text;
pub mod time;
pub mod usage;
pub mod webhook;
