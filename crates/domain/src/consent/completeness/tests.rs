//! Tests of the § 7a completeness validator: one test per missing item (R20).

use std::collections::BTreeSet;

use super::*;
use crate::channel::Channel;
use crate::consent::DeclarationRecipient;
use crate::consent::testkit::*;
use crate::contact::PostalAddress;

struct Case {
    record: ConsentRecord,
    person: Option<PersonData>,
    advertisers: Vec<Advertiser>,
    text: Option<ConsentTextVersion>,
}

impl Case {
    fn complete() -> Self {
        let record = phone_record();
        let text = text(TEXT_BODY, record.scope.clone());
        Self {
            record,
            person: Some(person()),
            advertisers: vec![advertiser(1, "Muster Makler GmbH")],
            text: Some(text),
        }
    }

    fn check(&self) -> Result<(), Vec<MissingItem>> {
        check_phone_completeness(&CompletenessInput {
            record: &self.record,
            person: self.person.as_ref(),
            advertisers: &self.advertisers,
            text: self.text.as_ref(),
        })
    }

    fn codes(&self) -> Vec<&'static str> {
        self.check().err().unwrap_or_default().iter().map(MissingItem::code).collect()
    }
}

#[test]
fn r20_complete_phone_consent_passes() {
    assert_eq!(Case::complete().check(), Ok(()));
}

#[test]
fn r20_phone_consent_needs_first_and_last_name() {
    let mut c = Case::complete();
    if let Some(p) = c.person.as_mut() {
        p.first_name = " ".into();
    }
    assert_eq!(c.codes(), vec!["first_name"]);
    let mut c = Case::complete();
    if let Some(p) = c.person.as_mut() {
        p.last_name = String::new();
    }
    assert_eq!(c.codes(), vec!["last_name"]);
}

#[test]
fn r20_phone_consent_needs_address() {
    let mut c = Case::complete();
    if let Some(p) = c.person.as_mut() {
        p.address = None;
    }
    assert_eq!(c.codes(), vec!["residential_address"]);
    let mut c = Case::complete();
    if let Some(p) = c.person.as_mut() {
        p.address = Some(PostalAddress { postcode: "123".into(), ..address() });
    }
    assert_eq!(c.codes(), vec!["residential_address"]);
}

#[test]
fn r20_unknown_person_misses_names_and_address() {
    let mut c = Case::complete();
    c.person = None;
    assert_eq!(c.codes(), vec!["first_name", "last_name", "residential_address"]);
}

#[test]
fn r20_phone_consent_needs_the_numbers_covered() {
    let mut c = Case::complete();
    c.record.contact_points = BTreeSet::new();
    assert_eq!(c.codes(), vec!["phone_numbers", "verification_evidence"]);
}

#[test]
fn r20_advertiser_needs_legal_name_seat_and_address_for_service() {
    let mut c = Case::complete();
    c.advertisers[0].legal_name = String::new();
    c.advertisers[0].seat = " ".into();
    c.advertisers[0].address_for_service.street = String::new();
    let id = adv(1);
    assert_eq!(
        c.check(),
        Err(vec![
            MissingItem::AdvertiserLegalName { advertiser: id },
            MissingItem::AdvertiserSeat { advertiser: id },
            MissingItem::AdvertiserAddressForService { advertiser: id },
        ])
    );
    assert_eq!(c.codes()[2], "advertiser_address_for_service");
}

#[test]
fn r20_every_advertiser_of_the_scope_must_be_known() {
    let mut c = Case::complete();
    c.record.scope.advertisers.insert(adv(2));
    if let Some(t) = c.text.as_mut() {
        t.scope.advertisers.insert(adv(2));
    }
    assert_eq!(c.check(), Err(vec![MissingItem::AdvertiserUnknown { advertiser: adv(2) }]));
    c.record.scope.advertisers.clear();
    assert_eq!(c.codes(), vec!["advertiser"]);
}

#[test]
fn r20_phone_consent_needs_declaration_recipient() {
    let mut c = Case::complete();
    c.record.declaration_recipient = None;
    assert_eq!(c.codes(), vec!["declaration_recipient"]);
    c.record.declaration_recipient =
        Some(DeclarationRecipient { organisation: "Callcenter Nord GmbH".into(), agent_pseudonym: "  ".into() });
    assert_eq!(c.codes(), vec!["declaration_recipient"]);
}

#[test]
fn r20_phone_consent_needs_the_text_version_shown() {
    let mut c = Case::complete();
    c.text = None;
    assert_eq!(c.codes(), vec!["text_version"]);
    let mut c = Case::complete();
    if let Some(t) = c.text.as_mut() {
        t.id = crate::ids::TextId::from_uuid(uuid::Uuid::from_u128(901));
    }
    assert_eq!(c.codes(), vec!["text_version"]);
}

#[test]
fn r10_text_hash_must_match_body_and_record() {
    let mut c = Case::complete();
    if let Some(t) = c.text.as_mut() {
        t.body.push_str(" Geändert.");
    }
    assert_eq!(c.codes(), vec!["text_hash"]);
    let mut c = Case::complete();
    c.record.text_sha256 = "00".repeat(32);
    assert_eq!(c.codes(), vec!["text_hash"]);
}

#[test]
fn r7_consent_scope_must_lie_within_the_text() {
    let mut c = Case::complete();
    c.record.scope.product_categories.insert(cat("investment_34f"));
    assert_eq!(c.codes(), vec!["scope_not_in_text"]);
    let mut c = Case::complete();
    c.record.scope.product_categories.clear();
    assert_eq!(c.codes(), vec!["product_categories"]);
}

#[test]
fn r56_event_time_needs_a_real_offset_and_cannot_follow_recording() {
    let mut c = Case::complete();
    c.record.capture_offset_seconds = 15 * 3600;
    assert_eq!(c.codes(), vec!["event_time"]);
    let mut c = Case::complete();
    c.record.given_at = ts("2026-01-10T11:00:00Z");
    assert_eq!(c.codes(), vec!["event_time"]);
}

#[test]
fn r20_manner_of_grant_must_be_evidenced() {
    let mut c = Case::complete();
    c.record.evidence = vec![otp(PHONE)];
    assert_eq!(c.codes(), vec!["manner_of_grant"]);
    c.record.capture_method = CaptureMethod::Paper;
    c.record.evidence = vec![paper("aa", "f-1", "Ordner 3")];
    assert_eq!(c.check(), Ok(()));
}

#[test]
fn r15_r20_email_doi_is_no_verification_evidence_for_phone() {
    let mut c = Case::complete();
    c.record.contact_points.insert(cp(EMAIL));
    c.record.evidence = vec![web_form(true), doi(EMAIL)];
    assert_eq!(c.codes(), vec!["verification_evidence"]);
    c.record.evidence = vec![web_form(true), recording(PHONE, false)];
    assert_eq!(c.codes(), vec!["verification_evidence"]);
    c.record.evidence = vec![web_form(true), recording(PHONE, true)];
    assert_eq!(c.check(), Ok(()));
}

#[test]
fn r1_only_consumer_phone_consents_are_checked() {
    let mut business = Case::complete();
    business.record.recipient_class = RecipientClass::Business;
    business.person = None;
    assert_eq!(business.check(), Ok(()));

    let mut email = Case::complete();
    email.record = email_record();
    email.person = None;
    email.text = None;
    assert_eq!(email.check(), Ok(()));

    let mut automated = Case::complete();
    automated.record.scope.channels = BTreeSet::from([Channel::PhoneAutomated]);
    automated.person = None;
    assert_eq!(automated.codes(), vec!["first_name", "last_name", "residential_address", "scope_not_in_text"]);
}

#[test]
fn missing_item_labels_are_german() {
    assert_eq!(MissingItem::ResidentialAddress.label_de(), "Wohnanschrift");
    let item = MissingItem::AdvertiserSeat { advertiser: adv(1) };
    assert_eq!(serde_json::to_value(&item).map(|v| v["code"].clone()).ok(), Some("advertiser_seat".into()));
}
