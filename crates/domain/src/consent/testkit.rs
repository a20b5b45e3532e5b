//! Test fixtures shared by the rule tests: ids, advertisers, persons, evidence and a valid phone consent.

use std::collections::BTreeSet;

use jiff::Timestamp;
use jiff::civil::date;
use uuid::Uuid;

use super::{CaptureMethod, ConsentRecord, ConsentStatus, DeclarationRecipient, Evidence, Scope, Source, Validity};
use crate::channel::{Channel, ProductCategory};
use crate::contact::{ContactKind, PostalAddress};
use crate::ids::{AdvertiserId, ConsentId, ContactPointId, PersonId, TextId};
use crate::party::{Advertiser, PersonData, RecipientClass};
use crate::text::{ConsentTextVersion, PrivacyNoticeRef, TextState, body_sha256};

/// The phone number of the fixture person.
pub const PHONE: u128 = 101;
/// The e-mail address of the fixture person.
pub const EMAIL: u128 = 102;
/// A second phone number (mobile) of the fixture person.
pub const MOBILE: u128 = 103;
/// The postal address of the fixture person.
pub const POSTAL: u128 = 104;

/// Parses a fixture timestamp.
pub fn ts(s: &str) -> Timestamp {
    s.parse().expect("fixture timestamp")
}

/// Advertiser id `n`.
pub fn adv(n: u128) -> AdvertiserId {
    AdvertiserId::from_uuid(Uuid::from_u128(n))
}

/// Contact point id `n`.
pub fn cp(n: u128) -> ContactPointId {
    ContactPointId::from_uuid(Uuid::from_u128(n))
}

/// Consent id `n`.
pub fn consent_id(n: u128) -> ConsentId {
    ConsentId::from_uuid(Uuid::from_u128(n))
}

/// A product category.
pub fn cat(s: &str) -> ProductCategory {
    ProductCategory::parse(s).expect("fixture category")
}

/// Contact kinds of the fixture contact points.
pub fn kinds(id: ContactPointId) -> Option<ContactKind> {
    match id.as_uuid().as_u128() {
        PHONE | MOBILE => Some(ContactKind::Phone),
        EMAIL => Some(ContactKind::Email),
        POSTAL => Some(ContactKind::Postal),
        _ => None,
    }
}

/// A scope of advertisers, categories and channels.
pub fn scope(advertisers: &[u128], categories: &[&str], channels: &[Channel]) -> Scope {
    Scope {
        advertisers: advertisers.iter().map(|n| adv(*n)).collect(),
        product_categories: categories.iter().map(|c| cat(c)).collect(),
        channels: channels.iter().copied().collect(),
    }
}

/// A valid German address.
pub fn address() -> PostalAddress {
    PostalAddress::new("Hauptstraße 1", "50667", "Köln", "DE").expect("fixture address")
}

/// A valid advertiser seated in Köln.
pub fn advertiser(n: u128, legal_name: &str) -> Advertiser {
    Advertiser::new(adv(n), legal_name, "Köln", address()).expect("fixture advertiser")
}

/// Anna Müller with address and birth date.
pub fn person() -> PersonData {
    PersonData::new("Anna", "Müller", Some(address()), Some(date(1980, 5, 1)), date(2026, 1, 1))
        .expect("fixture person")
}

/// SMS code verification of contact point `n`.
pub fn otp(n: u128) -> Evidence {
    Evidence::Otp { contact_point: cp(n), sent_at: ts("2026-01-10T10:00:05Z"), verified_at: ts("2026-01-10T10:01:00Z") }
}

/// E-mail double opt-in of contact point `n`.
pub fn doi(n: u128) -> Evidence {
    Evidence::EmailDoi {
        contact_point: cp(n),
        sent_at: ts("2026-01-10T10:00:05Z"),
        message_id: "<doi-1@konsent>".into(),
        token_hash: "ab".repeat(32),
        confirmed_at: ts("2026-01-10T10:05:00Z"),
        request_details: None,
    }
}

/// A call recording with contact point `n`.
pub fn recording(n: u128, recording_consent: bool) -> Evidence {
    Evidence::CallRecording {
        contact_point: cp(n),
        recording_hash: "cd".repeat(32),
        recording_consent,
        script_version: "skript-3".into(),
        agent_pseudonym: "AG-17".into(),
        at: ts("2026-01-10T10:00:00Z"),
    }
}

/// A paper scan.
pub fn paper(scan_hash: &str, form_version: &str, original_location: &str) -> Evidence {
    Evidence::PaperScan {
        scan_hash: scan_hash.into(),
        form_version: form_version.into(),
        signature_date: date(2026, 1, 10),
        original_location: original_location.into(),
    }
}

/// A web form submission.
pub fn web_form(affirmative_action: bool) -> Evidence {
    Evidence::WebForm {
        at: ts("2026-01-10T10:00:00Z"),
        form_ref: "https://example.de/einwilligung".into(),
        form_version: "f-1".into(),
        affirmative_action,
        request_details: Some("ef".repeat(32)),
    }
}

/// Provenance of a legacy import without verification.
pub fn import_evidence() -> Evidence {
    Evidence::Import {
        provider: "Altbestand CRM".into(),
        file_hash: "01".repeat(32),
        row: 7,
        contract_ref: None,
        reported_optin_at: Some(ts("2019-03-01T09:00:00Z")),
        reported_confirm_at: None,
        reported_ip: false,
        confirmed_contact_point: None,
    }
}

/// The body of the fixture phone consent text.
pub const TEXT_BODY: &str = "Ich willige ein, dass die Muster Makler GmbH mich per Telefon zu Versicherungen \
kontaktiert. Ich kann diese Einwilligung jederzeit widerrufen.";

/// A published text version with the correct hash.
pub fn text(body: &str, scope: Scope) -> ConsentTextVersion {
    ConsentTextVersion {
        id: TextId::from_uuid(Uuid::from_u128(900)),
        key: "telefon-2026".into(),
        version: 1,
        language: "de".into(),
        title: "Einwilligung".into(),
        body: body.into(),
        sha256: body_sha256(body),
        scope,
        valid_from: ts("2026-01-01T00:00:00Z"),
        valid_to: None,
        privacy_notice: PrivacyNoticeRef { url: "https://example.de/datenschutz".into(), version: "3".into() },
        state: TextState::Published,
    }
}

/// A complete, verified consumer phone consent of advertiser 1 for `insurance` on `PHONE`,
/// captured in a web form with an SMS code; given and granted 2026-01-10.
pub fn phone_record() -> ConsentRecord {
    let given = ts("2026-01-10T10:00:00Z");
    ConsentRecord {
        id: consent_id(1),
        person_id: PersonId::from_uuid(Uuid::from_u128(500)),
        contact_points: BTreeSet::from([cp(PHONE)]),
        text_id: TextId::from_uuid(Uuid::from_u128(900)),
        text_sha256: body_sha256(TEXT_BODY),
        language: "de".into(),
        scope: scope(&[1], &["insurance"], &[Channel::PhoneLive]),
        status: ConsentStatus::Given,
        recipient_class: RecipientClass::Consumer,
        capture_method: CaptureMethod::WebForm,
        declaration_recipient: Some(DeclarationRecipient {
            organisation: "Muster Makler GmbH".into(),
            agent_pseudonym: "WEB".into(),
        }),
        source: Source::FirstParty,
        affirmative_action: true,
        given_at: given,
        capture_offset_seconds: 3600,
        recorded_at: ts("2026-01-10T10:00:01Z"),
        granted_at: Some(ts("2026-01-10T10:01:00Z")),
        last_use_at: None,
        last_change_at: given,
        evidence: vec![web_form(true), otp(PHONE)],
        validity: Validity::Endless,
        approval_pending: false,
        renews: None,
    }
}

/// An e-mail consent of advertiser 1 for `insurance` on `EMAIL`, confirmed by double opt-in.
pub fn email_record() -> ConsentRecord {
    ConsentRecord {
        id: consent_id(2),
        contact_points: BTreeSet::from([cp(EMAIL)]),
        scope: scope(&[1], &["insurance"], &[Channel::Email]),
        evidence: vec![web_form(true), doi(EMAIL)],
        ..phone_record()
    }
}
