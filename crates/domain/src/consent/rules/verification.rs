//! Per-channel verification rules: does the evidence of a record make it `ConsentGiven`, or does it
//! stay `Requested`/`Unknown`, or is it `Refused` (R4, R11, R13–R18, R25, R26)?

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::channel::Channel;
use crate::consent::{CaptureMethod, ConsentRecord, ConsentStatus, Evidence, Source};
use crate::contact::ContactKind;
use crate::ids::ContactPointId;

/// Tenant policy for the verification rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct VerificationPolicy {
    /// R17 (b): a verbal consent in a call may be proven by a later confirmation in text form instead
    /// of a recording. Default `false`: a recording with recording consent is required.
    pub allow_text_confirmation_for_verbal: bool,
    /// Minimum age for a valid consent (R11); default 16.
    pub min_age: i16,
}

impl Default for VerificationPolicy {
    fn default() -> Self {
        Self { allow_text_confirmation_for_verbal: false, min_age: 16 }
    }
}

/// One thing that keeps a record from becoming `ConsentGiven`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum VerificationGap {
    /// The person did not act affirmatively (pre-ticked box, opt-out construction) (R4).
    NoAffirmativeAction,
    /// The person is younger than the policy minimum (R11).
    Minor {
        /// Age in years.
        age: i16,
        /// Policy minimum.
        min_age: i16,
    },
    /// The scope names no advertiser, category or channel.
    EmptyScope,
    /// A contact point of the record has no known kind.
    UnknownContactPoint {
        /// The contact point.
        contact_point: ContactPointId,
    },
    /// A channel of the scope has no contact point of the matching kind in the record.
    NoContactPointForChannel {
        /// The channel.
        channel: Channel,
    },
    /// E-mail address not confirmed by double opt-in or other ownership evidence (R13, R14).
    EmailNotConfirmed {
        /// The address.
        contact_point: ContactPointId,
    },
    /// Phone/fax number itself not verified; e-mail DOI never counts (R15, BGH I ZR 164/09).
    PhoneNotVerified {
        /// The number.
        contact_point: ContactPointId,
    },
    /// SMS/messenger number holder not verified by a code or an inbound message (R16).
    NumberHolderNotVerified {
        /// The number.
        contact_point: ContactPointId,
    },
    /// Verbal consent in a call without a recording with recording consent (or text confirmation
    /// where the policy allows it) (R17).
    VerbalNotRecorded,
    /// Paper consent without a scan with hash, form version and location of the original (R18).
    PaperScanIncomplete,
    /// Imported consent without provenance evidence (R25).
    ImportProvenanceMissing,
    /// Third-party consent without a contract reference with the provider (R25).
    ThirdPartyContractMissing,
}

impl VerificationGap {
    /// Stable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NoAffirmativeAction => "no_affirmative_action",
            Self::Minor { .. } => "minor",
            Self::EmptyScope => "empty_scope",
            Self::UnknownContactPoint { .. } => "unknown_contact_point",
            Self::NoContactPointForChannel { .. } => "no_contact_point_for_channel",
            Self::EmailNotConfirmed { .. } => "email_not_confirmed",
            Self::PhoneNotVerified { .. } => "phone_not_verified",
            Self::NumberHolderNotVerified { .. } => "number_holder_not_verified",
            Self::VerbalNotRecorded => "verbal_not_recorded",
            Self::PaperScanIncomplete => "paper_scan_incomplete",
            Self::ImportProvenanceMissing => "import_provenance_missing",
            Self::ThirdPartyContractMissing => "third_party_contract_missing",
        }
    }

    /// German label.
    pub fn label_de(&self) -> &'static str {
        match self {
            Self::NoAffirmativeAction => "keine aktive Handlung der Person (z. B. vorangekreuztes Kästchen)",
            Self::Minor { .. } => "Person unter dem Mindestalter",
            Self::EmptyScope => "Umfang nennt kein Unternehmen, keine Sparte oder keinen Kanal",
            Self::UnknownContactPoint { .. } => "unbekannter Kontaktweg",
            Self::NoContactPointForChannel { .. } => "kein passender Kontaktweg für einen Kanal",
            Self::EmailNotConfirmed { .. } => "E-Mail-Adresse nicht bestätigt (Double-Opt-in fehlt)",
            Self::PhoneNotVerified { .. } => "Rufnummer selbst nicht verifiziert",
            Self::NumberHolderNotVerified { .. } => {
                "Inhaber der Rufnummer nicht verifiziert (Code oder eingehende Nachricht)"
            }
            Self::VerbalNotRecorded => "mündliche Einwilligung ohne Aufzeichnung mit Aufzeichnungseinwilligung",
            Self::PaperScanIncomplete => "Scan mit Hash, Formularversion und Ablageort des Originals fehlt",
            Self::ImportProvenanceMissing => "Herkunftsnachweis des Imports fehlt",
            Self::ThirdPartyContractMissing => "Vertragsreferenz mit dem Drittanbieter fehlt",
        }
    }
}

/// The status the evidence supports, and what is missing for `ConsentGiven`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerificationOutcome {
    /// `Given` when nothing is missing; `Refused` for R4/R11; `Unknown` for imports without
    /// sufficient evidence (R25, R26); otherwise `Requested`.
    pub status: ConsentStatus,
    /// Everything missing, in a stable order (empty when `Given`).
    pub missing: Vec<VerificationGap>,
}

impl VerificationOutcome {
    /// The codes of everything missing.
    pub fn codes(&self) -> Vec<&'static str> {
        self.missing.iter().map(VerificationGap::code).collect()
    }
}

/// A signed paper form with scan hash, form version and the location of the original (R18).
pub(crate) fn is_complete_paper(ev: &Evidence) -> bool {
    matches!(ev, Evidence::PaperScan { scan_hash, form_version, original_location, .. }
        if !scan_hash.trim().is_empty() && !form_version.trim().is_empty() && !original_location.trim().is_empty())
}

/// Evidence that the person was identified in person together with the contact details they gave:
/// a complete signed paper form or an advisor's attestation with identity check (R14).
fn in_person_proof(ev: &Evidence) -> bool {
    is_complete_paper(ev) || matches!(ev, Evidence::InPersonAttestation { identity_checked: true, .. })
}

/// Whether `ev` verifies the phone number `cp` itself (R15): an SMS code, a confirmation link
/// clicked from a text message to the number, a recorded call with recording consent, an inbound
/// message from the number, or in-person proof. E-mail DOI never does.
pub(crate) fn verifies_phone(ev: &Evidence, cp: ContactPointId) -> bool {
    match ev {
        Evidence::Otp { contact_point, .. }
        | Evidence::InboundMessage { contact_point, .. }
        | Evidence::TextConfirmation { contact_point, .. } => *contact_point == cp,
        Evidence::CallRecording { contact_point, recording_consent, .. } => *recording_consent && *contact_point == cp,
        other => in_person_proof(other),
    }
}

fn verifies(channel: Channel, ev: &Evidence, cp: ContactPointId) -> bool {
    match channel {
        Channel::Email => match ev {
            Evidence::EmailDoi { contact_point, .. }
            | Evidence::InboundMessage { contact_point, .. }
            | Evidence::TextConfirmation { contact_point, .. } => *contact_point == cp,
            // A newsletter tool's own double opt-in record, imported whole (R25).
            Evidence::Import { .. } => ev.import_confirms() == Some(cp),
            other => in_person_proof(other),
        },
        Channel::Sms | Channel::MessengerWhatsapp => {
            matches!(ev, Evidence::Otp { contact_point, .. } | Evidence::InboundMessage { contact_point, .. }
                if *contact_point == cp)
        }
        Channel::PhoneLive | Channel::PhoneAutomated | Channel::Fax => verifies_phone(ev, cp),
        Channel::Post => true,
    }
}

fn gap_for(channel: Channel, contact_point: ContactPointId) -> VerificationGap {
    match channel {
        Channel::Email => VerificationGap::EmailNotConfirmed { contact_point },
        Channel::Sms | Channel::MessengerWhatsapp => VerificationGap::NumberHolderNotVerified { contact_point },
        _ => VerificationGap::PhoneNotVerified { contact_point },
    }
}

fn push_once(list: &mut Vec<VerificationGap>, gap: VerificationGap) {
    if !list.contains(&gap) {
        list.push(gap);
    }
}

/// Decides which status the evidence of `record` supports (section 5, Requested → Given).
///
/// Every contact point of the record's kind must be verified for each channel in scope (post needs
/// none); the capture method adds its own proof duties (verbal R17, paper R18, import R25).
/// `contact_kinds` resolves the kind of a contact point; `age` is the person's age today, if known.
/// This does not run the § 7a completeness check (R20), see `check_phone_completeness`.
pub fn verification_status(
    record: &ConsentRecord,
    contact_kinds: &impl Fn(ContactPointId) -> Option<ContactKind>,
    policy: &VerificationPolicy,
    age: Option<i16>,
) -> VerificationOutcome {
    let mut refusals = Vec::new();
    let unticked_form =
        record.evidence.iter().any(|e| matches!(e, Evidence::WebForm { affirmative_action: false, .. }));
    if !record.affirmative_action || unticked_form {
        refusals.push(VerificationGap::NoAffirmativeAction);
    }
    if let Some(age) = age
        && age < policy.min_age
    {
        refusals.push(VerificationGap::Minor { age, min_age: policy.min_age });
    }
    if !refusals.is_empty() {
        return VerificationOutcome { status: ConsentStatus::Refused, missing: refusals };
    }

    let mut missing = Vec::new();
    if record.scope.is_empty() {
        missing.push(VerificationGap::EmptyScope);
    }
    let mut by_kind: BTreeMap<ContactKind, Vec<ContactPointId>> = BTreeMap::new();
    for &contact_point in &record.contact_points {
        match contact_kinds(contact_point) {
            Some(kind) => by_kind.entry(kind).or_default().push(contact_point),
            None => missing.push(VerificationGap::UnknownContactPoint { contact_point }),
        }
    }
    for &channel in &record.scope.channels {
        if channel == Channel::Post {
            continue;
        }
        let points = by_kind.get(&channel.contact_kind()).map(Vec::as_slice).unwrap_or_default();
        if points.is_empty() {
            missing.push(VerificationGap::NoContactPointForChannel { channel });
        }
        for &cp in points {
            if !record.evidence.iter().any(|ev| verifies(channel, ev, cp)) {
                push_once(&mut missing, gap_for(channel, cp));
            }
        }
    }
    missing.extend(capture_gaps(record, policy));

    let status = if missing.is_empty() {
        ConsentStatus::Given
    } else if record.capture_method == CaptureMethod::Import {
        ConsentStatus::Unknown
    } else {
        ConsentStatus::Requested
    };
    VerificationOutcome { status, missing }
}

/// Proof duties of the capture method.
fn capture_gaps(record: &ConsentRecord, policy: &VerificationPolicy) -> Vec<VerificationGap> {
    let mut gaps = Vec::new();
    let ours = |cp: &ContactPointId| record.contact_points.contains(cp);
    match record.capture_method {
        CaptureMethod::PhoneCall if record.scope.channels.iter().any(|c| c.is_phone()) => {
            let recorded = record.evidence.iter().any(
                |e| matches!(e, Evidence::CallRecording { contact_point, recording_consent: true, .. } if ours(contact_point)),
            );
            let confirmed = policy.allow_text_confirmation_for_verbal
                && record
                    .evidence
                    .iter()
                    .any(|e| matches!(e, Evidence::TextConfirmation { contact_point, .. } if ours(contact_point)));
            if !recorded && !confirmed {
                gaps.push(VerificationGap::VerbalNotRecorded);
            }
        }
        CaptureMethod::Paper if !record.evidence.iter().any(is_complete_paper) => {
            gaps.push(VerificationGap::PaperScanIncomplete);
        }
        CaptureMethod::Import => {
            if !record.evidence.iter().any(|e| matches!(e, Evidence::Import { .. })) {
                gaps.push(VerificationGap::ImportProvenanceMissing);
            }
            if let Source::ThirdParty { contract_ref, .. } = &record.source
                && contract_ref.as_deref().is_none_or(|c| c.trim().is_empty())
            {
                gaps.push(VerificationGap::ThirdPartyContractMissing);
            }
        }
        _ => {}
    }
    gaps
}

#[cfg(test)]
mod tests;
