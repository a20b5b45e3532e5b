//! Evidence of how a consent was given and how the contact point was verified (section 4.5).
//!
//! Evidence in the ledger holds no personal data: IP addresses, user agents, recordings and scans
//! are stored encrypted elsewhere and referenced here by the SHA-256 of their sealed bytes.

use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::ids::ContactPointId;

/// Hex SHA-256 of an encrypted or external artefact (web request details, recording, scan, file).
pub type Sha256Hex = String;

/// One piece of evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Evidence {
    /// A click in a web form (checkbox ticked by the person, form served and submitted).
    WebForm {
        /// When the form was submitted.
        at: Timestamp,
        /// Form id or URL.
        form_ref: String,
        /// Form configuration version.
        form_version: String,
        /// The person acted (box was not pre-ticked) (R4).
        affirmative_action: bool,
        /// Hash of the sealed request details (IP, user agent, session) kept in the vault.
        request_details: Option<Sha256Hex>,
    },
    /// E-mail double opt-in confirmation (R13).
    EmailDoi {
        /// The e-mail contact point confirmed.
        contact_point: ContactPointId,
        /// When the confirmation mail was sent.
        sent_at: Timestamp,
        /// Message id of the confirmation mail.
        message_id: String,
        /// SHA-256 of the token (the token itself is never stored).
        token_hash: Sha256Hex,
        /// When the person confirmed.
        confirmed_at: Timestamp,
        /// Hash of the sealed confirmation request details (IP, user agent).
        request_details: Option<Sha256Hex>,
    },
    /// One-time code sent to a phone number and entered back (R15, R16).
    Otp {
        /// The phone contact point verified.
        contact_point: ContactPointId,
        /// When the code was sent.
        sent_at: Timestamp,
        /// When the code was entered correctly.
        verified_at: Timestamp,
    },
    /// Audio recording of a verbal consent in a call (R17 a).
    CallRecording {
        /// The number the call was held with.
        contact_point: ContactPointId,
        /// SHA-256 of the recording.
        recording_hash: Sha256Hex,
        /// The recording includes (or is preceded by) the consent to be recorded.
        recording_consent: bool,
        /// Call script version read to the person.
        script_version: String,
        /// Pseudonymous agent code.
        agent_pseudonym: String,
        /// When the call took place.
        at: Timestamp,
    },
    /// Confirmation in text form sent to a verified contact point after a call (R17 b).
    TextConfirmation {
        /// The contact point the confirmation was sent to.
        contact_point: ContactPointId,
        /// When it was sent.
        sent_at: Timestamp,
        /// When the person confirmed.
        confirmed_at: Timestamp,
    },
    /// Signed paper form (R18).
    PaperScan {
        /// SHA-256 of the scan.
        scan_hash: Sha256Hex,
        /// Version of the printed form.
        form_version: String,
        /// Date of signature.
        signature_date: Date,
        /// Where the paper original is kept.
        original_location: String,
    },
    /// Consent given in person to an advisor, attested by the advisor.
    InPersonAttestation {
        /// Pseudonymous advisor code.
        advisor_pseudonym: String,
        /// When.
        at: Timestamp,
        /// The advisor checked the person's identity and contact details in person.
        identity_checked: bool,
    },
    /// Message received from the contact point itself (e.g. SMS keyword, WhatsApp first message) (R14, R16).
    InboundMessage {
        /// The contact point that sent it.
        contact_point: ContactPointId,
        /// When.
        at: Timestamp,
    },
    /// Provenance of an imported consent (R25).
    Import {
        /// Source system or lead vendor.
        provider: String,
        /// SHA-256 of the imported file.
        file_hash: Sha256Hex,
        /// Row in that file.
        row: u64,
        /// Contract with the provider, for third-party data.
        contract_ref: Option<String>,
        /// The opt-in time the source reports.
        reported_optin_at: Option<Timestamp>,
        /// The confirmation time the source reports.
        reported_confirm_at: Option<Timestamp>,
        /// The source reports an IP for opt-in or confirmation (kept sealed).
        reported_ip: bool,
        /// The e-mail address whose double opt-in the source reports as confirmed (sign-up
        /// time, confirmation time and IP given by a newsletter tool such as Mailchimp).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        confirmed_contact_point: Option<ContactPointId>,
    },
}

impl Evidence {
    /// Stable kind code.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::WebForm { .. } => "web_form",
            Self::EmailDoi { .. } => "email_doi",
            Self::Otp { .. } => "otp",
            Self::CallRecording { .. } => "call_recording",
            Self::TextConfirmation { .. } => "text_confirmation",
            Self::PaperScan { .. } => "paper_scan",
            Self::InPersonAttestation { .. } => "in_person_attestation",
            Self::InboundMessage { .. } => "inbound_message",
            Self::Import { .. } => "import",
        }
    }

    /// The e-mail address an import proves confirmed: only with the whole double opt-in record
    /// of the source (sign-up time, confirmation time and IP, R25).
    pub fn import_confirms(&self) -> Option<ContactPointId> {
        match self {
            Self::Import {
                confirmed_contact_point: Some(cp),
                reported_optin_at: Some(_),
                reported_confirm_at: Some(_),
                reported_ip: true,
                ..
            } => Some(*cp),
            _ => None,
        }
    }

    /// The contact point this evidence proves ownership of, if it proves one.
    pub fn verifies_contact_point(&self) -> Option<ContactPointId> {
        match self {
            Self::EmailDoi { contact_point, .. }
            | Self::Otp { contact_point, .. }
            | Self::TextConfirmation { contact_point, .. }
            | Self::InboundMessage { contact_point, .. } => Some(*contact_point),
            Self::CallRecording { contact_point, recording_consent: true, .. } => Some(*contact_point),
            Self::Import { .. } => self.import_confirms(),
            _ => None,
        }
    }
}
