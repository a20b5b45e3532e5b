//! Consent records, their DPV statuses, evidence and the rules that move them between statuses.

mod completeness;
mod evidence;
mod lint;
mod record;
mod rules;
mod status;
#[cfg(test)]
pub(crate) mod testkit;

pub use completeness::{CompletenessInput, MissingItem, check_phone_completeness};
pub use evidence::{Evidence, Sha256Hex};
pub use lint::{DeclarationKind, FormCheckbox, FormConfig, LintIssue, LintKind, Severity, lint_form, lint_text};
pub use record::{CaptureMethod, ConsentRecord, DeclarationRecipient, Scope, Source, Validity};
pub use rules::{
    TransitionError, VerificationGap, VerificationOutcome, VerificationPolicy, check_manual_override, check_transition,
    verification_status,
};
pub use status::{ConsentStatus, UnknownStatus};
