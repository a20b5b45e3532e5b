//! Consent records, their DPV statuses, evidence and the rules that move them between statuses.

mod evidence;
mod record;
mod status;

pub use evidence::{Evidence, Sha256Hex};
pub use record::{CaptureMethod, ConsentRecord, DeclarationRecipient, Scope, Source, Validity};
pub use status::{ConsentStatus, UnknownStatus};
