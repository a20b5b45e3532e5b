//! The § 7a UWG completeness validator for phone consents of consumers (R20): every item the
//! Bundesnetzagentur expects in the documentation must be present before the consent is used.

use serde::{Deserialize, Serialize};

use super::rules::verifies_phone;
use super::{CaptureMethod, ConsentRecord, Evidence};
use crate::ids::AdvertiserId;
use crate::party::{Advertiser, PersonData, RecipientClass};
use crate::text::ConsentTextVersion;

/// Largest capture offset from UTC accepted as real (UTC+14 is the furthest time zone).
const MAX_OFFSET_SECONDS: i32 = 14 * 3600;

/// What the validator looks at. Everything is borrowed; nothing is loaded.
#[derive(Debug, Clone, Copy)]
pub struct CompletenessInput<'a> {
    /// The consent record.
    pub record: &'a ConsentRecord,
    /// The person's data (names, residential address), if known.
    pub person: Option<&'a PersonData>,
    /// The advertisers named in the record's scope (others are ignored).
    pub advertisers: &'a [Advertiser],
    /// The text version the record references, if found.
    pub text: Option<&'a ConsentTextVersion>,
}

/// One item missing from the § 7a documentation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum MissingItem {
    /// First name of the person.
    FirstName,
    /// Last name of the person.
    LastName,
    /// Residential address of the person.
    ResidentialAddress,
    /// The phone number(s) the consent covers.
    PhoneNumbers,
    /// The scope names no advertising company.
    Advertiser,
    /// An advertiser of the scope is not known.
    AdvertiserUnknown {
        /// The advertiser.
        advertiser: AdvertiserId,
    },
    /// Legal name (Firma) of an advertiser.
    AdvertiserLegalName {
        /// The advertiser.
        advertiser: AdvertiserId,
    },
    /// Registered seat (Sitz) of an advertiser.
    AdvertiserSeat {
        /// The advertiser.
        advertiser: AdvertiserId,
    },
    /// Address for service (ladungsfähige Anschrift) of an advertiser.
    AdvertiserAddressForService {
        /// The advertiser.
        advertiser: AdvertiserId,
    },
    /// The pseudonymised recipient of the declaration (organisation and agent code).
    DeclarationRecipient,
    /// The text version shown is missing or is not the one the record references.
    TextVersion,
    /// The text's hash does not match its body or the hash recorded with the consent.
    TextHash,
    /// The scope of the consent is not covered by the text shown.
    ScopeNotInText,
    /// The scope names no product category.
    ProductCategories,
    /// Exact event time with a real time-zone offset, not after the recording time.
    EventTime,
    /// Evidence of the manner of grant for the capture method.
    MannerOfGrant,
    /// Verification evidence for the phone number.
    VerificationEvidence,
}

impl MissingItem {
    /// Stable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::FirstName => "first_name",
            Self::LastName => "last_name",
            Self::ResidentialAddress => "residential_address",
            Self::PhoneNumbers => "phone_numbers",
            Self::Advertiser => "advertiser",
            Self::AdvertiserUnknown { .. } => "advertiser_unknown",
            Self::AdvertiserLegalName { .. } => "advertiser_legal_name",
            Self::AdvertiserSeat { .. } => "advertiser_seat",
            Self::AdvertiserAddressForService { .. } => "advertiser_address_for_service",
            Self::DeclarationRecipient => "declaration_recipient",
            Self::TextVersion => "text_version",
            Self::TextHash => "text_hash",
            Self::ScopeNotInText => "scope_not_in_text",
            Self::ProductCategories => "product_categories",
            Self::EventTime => "event_time",
            Self::MannerOfGrant => "manner_of_grant",
            Self::VerificationEvidence => "verification_evidence",
        }
    }

    /// German label.
    pub fn label_de(&self) -> &'static str {
        match self {
            Self::FirstName => "Vorname",
            Self::LastName => "Nachname",
            Self::ResidentialAddress => "Wohnanschrift",
            Self::PhoneNumbers => "erfasste Rufnummer(n)",
            Self::Advertiser => "werbendes Unternehmen",
            Self::AdvertiserUnknown { .. } => "werbendes Unternehmen unbekannt",
            Self::AdvertiserLegalName { .. } => "Firma des werbenden Unternehmens",
            Self::AdvertiserSeat { .. } => "Sitz des werbenden Unternehmens",
            Self::AdvertiserAddressForService { .. } => "ladungsfähige Anschrift des werbenden Unternehmens",
            Self::DeclarationRecipient => "Empfänger der Erklärung (Organisation und Kennung)",
            Self::TextVersion => "Fassung des Einwilligungstextes",
            Self::TextHash => "Prüfsumme des Einwilligungstextes",
            Self::ScopeNotInText => "Umfang nicht vom Einwilligungstext gedeckt",
            Self::ProductCategories => "Produktbereiche (Sparten)",
            Self::EventTime => "Datum und genaue Uhrzeit mit Zeitzone",
            Self::MannerOfGrant => "Art und Weise der Erteilung",
            Self::VerificationEvidence => "Verifizierung der Rufnummer",
        }
    }
}

fn blank(s: &str) -> bool {
    s.trim().is_empty()
}

/// Whether the evidence documents the capture method ("Art und Weise").
fn documents_manner(record: &ConsentRecord) -> bool {
    let has = |f: fn(&Evidence) -> bool| record.evidence.iter().any(f);
    match record.capture_method {
        CaptureMethod::WebForm => has(|e| matches!(e, Evidence::WebForm { .. })),
        CaptureMethod::PhoneCall => {
            has(|e| matches!(e, Evidence::CallRecording { .. } | Evidence::TextConfirmation { .. }))
        }
        CaptureMethod::InPerson => {
            has(|e| matches!(e, Evidence::InPersonAttestation { .. } | Evidence::PaperScan { .. }))
        }
        CaptureMethod::Paper => has(|e| matches!(e, Evidence::PaperScan { .. })),
        CaptureMethod::Import => has(|e| matches!(e, Evidence::Import { .. })),
        CaptureMethod::Api => !record.evidence.is_empty(),
    }
}

/// Checks the § 7a documentation of a consumer phone consent (R20) and lists every missing item.
///
/// Applies only to consumer records whose scope includes `phone_live` or `phone_automated`; all
/// other records pass. The phone-number check accepts evidence that verifies a contact point of the
/// record the way R15 requires (SMS code, recorded call with recording consent, inbound message,
/// complete signed paper form, in-person attestation with identity check) — never e-mail DOI. That
/// each covered number is verified is decided by `verification_status`, which knows contact kinds.
pub fn check_phone_completeness(input: &CompletenessInput<'_>) -> Result<(), Vec<MissingItem>> {
    let record = input.record;
    if record.recipient_class != RecipientClass::Consumer || !record.scope.channels.iter().any(|c| c.is_phone()) {
        return Ok(());
    }
    let mut missing = Vec::new();

    match input.person {
        Some(p) => {
            if blank(&p.first_name) {
                missing.push(MissingItem::FirstName);
            }
            if blank(&p.last_name) {
                missing.push(MissingItem::LastName);
            }
            if p.address.clone().is_none_or(|a| a.validated().is_err()) {
                missing.push(MissingItem::ResidentialAddress);
            }
        }
        None => missing.extend([MissingItem::FirstName, MissingItem::LastName, MissingItem::ResidentialAddress]),
    }
    if record.contact_points.is_empty() {
        missing.push(MissingItem::PhoneNumbers);
    }

    if record.scope.advertisers.is_empty() {
        missing.push(MissingItem::Advertiser);
    }
    for &advertiser in &record.scope.advertisers {
        match input.advertisers.iter().find(|a| a.id == advertiser) {
            None => missing.push(MissingItem::AdvertiserUnknown { advertiser }),
            Some(a) => {
                if blank(&a.legal_name) {
                    missing.push(MissingItem::AdvertiserLegalName { advertiser });
                }
                if blank(&a.seat) {
                    missing.push(MissingItem::AdvertiserSeat { advertiser });
                }
                if a.address_for_service.clone().validated().is_err() {
                    missing.push(MissingItem::AdvertiserAddressForService { advertiser });
                }
            }
        }
    }

    let recipient_ok =
        record.declaration_recipient.as_ref().is_some_and(|r| !blank(&r.organisation) && !blank(&r.agent_pseudonym));
    if !recipient_ok {
        missing.push(MissingItem::DeclarationRecipient);
    }

    match input.text {
        Some(t) if t.id == record.text_id => {
            if !t.hash_matches() || t.sha256 != record.text_sha256 {
                missing.push(MissingItem::TextHash);
            }
            if !t.scope.covers(&record.scope) {
                missing.push(MissingItem::ScopeNotInText);
            }
        }
        _ => missing.push(MissingItem::TextVersion),
    }
    if record.scope.product_categories.is_empty() {
        missing.push(MissingItem::ProductCategories);
    }

    if record.capture_offset_seconds.abs() > MAX_OFFSET_SECONDS || record.given_at > record.recorded_at {
        missing.push(MissingItem::EventTime);
    }
    if !documents_manner(record) {
        missing.push(MissingItem::MannerOfGrant);
    }
    let verified = record.contact_points.iter().any(|&cp| record.evidence.iter().any(|ev| verifies_phone(ev, cp)));
    if !verified {
        missing.push(MissingItem::VerificationEvidence);
    }

    if missing.is_empty() { Ok(()) } else { Err(missing) }
}

#[cfg(test)]
mod tests;
