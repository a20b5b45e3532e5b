//! Tests of the per-channel verification rules, one requirement at a time.

use std::collections::BTreeSet;

use super::*;
use crate::consent::testkit::*;

fn record(channels: &[Channel], points: &[u128], capture: CaptureMethod, evidence: Vec<Evidence>) -> ConsentRecord {
    ConsentRecord {
        contact_points: points.iter().map(|n| cp(*n)).collect::<BTreeSet<_>>(),
        scope: scope(&[1], &["insurance"], channels),
        capture_method: capture,
        evidence,
        ..phone_record()
    }
}

fn assess(r: &ConsentRecord) -> VerificationOutcome {
    verification_status(r, &kinds, &VerificationPolicy::default(), Some(40))
}

fn text_confirmation(n: u128) -> Evidence {
    Evidence::TextConfirmation {
        contact_point: cp(n),
        sent_at: ts("2026-01-10T10:10:00Z"),
        confirmed_at: ts("2026-01-10T10:20:00Z"),
    }
}

#[test]
fn r15_email_doi_never_verifies_phone() {
    // Scenario 2: online phone consent confirmed only by e-mail double opt-in.
    let r = record(&[Channel::PhoneLive], &[PHONE, EMAIL], CaptureMethod::WebForm, vec![web_form(true), doi(EMAIL)]);
    let out = assess(&r);
    assert_eq!(out.status, ConsentStatus::Requested);
    assert_eq!(out.missing, vec![VerificationGap::PhoneNotVerified { contact_point: cp(PHONE) }]);
}

#[test]
fn r15_sms_code_to_the_number_makes_phone_consent_given() {
    let r = record(&[Channel::PhoneLive], &[PHONE], CaptureMethod::WebForm, vec![web_form(true), otp(PHONE)]);
    let out = assess(&r);
    assert_eq!(out.status, ConsentStatus::Given);
    assert!(out.missing.is_empty());
}

#[test]
fn r15_code_to_another_number_does_not_verify() {
    let r = record(&[Channel::PhoneLive], &[PHONE], CaptureMethod::WebForm, vec![web_form(true), otp(MOBILE)]);
    assert_eq!(assess(&r).codes(), vec!["phone_not_verified"]);
}

#[test]
fn r36_automated_calls_and_fax_need_the_number_verified_too() {
    for ch in [Channel::PhoneAutomated, Channel::Fax] {
        let r = record(&[ch], &[PHONE], CaptureMethod::WebForm, vec![web_form(true), doi(EMAIL)]);
        assert_eq!(assess(&r).status, ConsentStatus::Requested, "{ch}");
    }
}

#[test]
fn r13_email_consent_pending_until_double_opt_in() {
    let pending = record(&[Channel::Email], &[EMAIL], CaptureMethod::WebForm, vec![web_form(true)]);
    let out = assess(&pending);
    assert_eq!(out.status, ConsentStatus::Requested);
    assert_eq!(out.missing, vec![VerificationGap::EmailNotConfirmed { contact_point: cp(EMAIL) }]);

    let confirmed = record(&[Channel::Email], &[EMAIL], CaptureMethod::WebForm, vec![web_form(true), doi(EMAIL)]);
    assert_eq!(assess(&confirmed).status, ConsentStatus::Given);
}

#[test]
fn r14_single_opt_in_given_only_with_ownership_evidence() {
    let inbound = Evidence::InboundMessage { contact_point: cp(EMAIL), at: ts("2026-01-10T10:02:00Z") };
    let attested = |identity_checked| Evidence::InPersonAttestation {
        advisor_pseudonym: "VM-4".into(),
        at: ts("2026-01-10T10:00:00Z"),
        identity_checked,
    };
    for (ev, expected) in [
        (inbound, ConsentStatus::Given),
        (attested(true), ConsentStatus::Given),
        (attested(false), ConsentStatus::Requested),
        (otp(PHONE), ConsentStatus::Requested),
    ] {
        let r = record(&[Channel::Email], &[EMAIL], CaptureMethod::InPerson, vec![ev.clone()]);
        assert_eq!(assess(&r).status, expected, "{}", ev.kind());
    }
}

#[test]
fn r16_sms_and_whatsapp_need_code_or_inbound_message() {
    for ch in [Channel::Sms, Channel::MessengerWhatsapp] {
        // A recorded call or a signed form proves the number for calls, not the holder for messaging.
        let r = record(
            &[ch],
            &[MOBILE],
            CaptureMethod::WebForm,
            vec![web_form(true), recording(MOBILE, true), paper("aa", "f-1", "Ordner 1")],
        );
        let out = assess(&r);
        assert_eq!(out.status, ConsentStatus::Requested, "{ch}");
        assert_eq!(out.missing, vec![VerificationGap::NumberHolderNotVerified { contact_point: cp(MOBILE) }]);

        let inbound = Evidence::InboundMessage { contact_point: cp(MOBILE), at: ts("2026-01-10T10:00:00Z") };
        let r = record(&[ch], &[MOBILE], CaptureMethod::WebForm, vec![web_form(true), inbound]);
        assert_eq!(assess(&r).status, ConsentStatus::Given, "{ch}");
        let r = record(&[ch], &[MOBILE], CaptureMethod::WebForm, vec![web_form(true), otp(MOBILE)]);
        assert_eq!(assess(&r).status, ConsentStatus::Given, "{ch}");
    }
}

#[test]
fn r17_verbal_consent_without_recording_stays_requested() {
    // Scenario 4.
    let r = record(&[Channel::PhoneLive], &[PHONE], CaptureMethod::PhoneCall, vec![]);
    let out = assess(&r);
    assert_eq!(out.status, ConsentStatus::Requested);
    assert_eq!(out.codes(), vec!["phone_not_verified", "verbal_not_recorded"]);

    let without_recording_consent =
        record(&[Channel::PhoneLive], &[PHONE], CaptureMethod::PhoneCall, vec![recording(PHONE, false)]);
    assert_eq!(assess(&without_recording_consent).status, ConsentStatus::Requested);

    let recorded = record(&[Channel::PhoneLive], &[PHONE], CaptureMethod::PhoneCall, vec![recording(PHONE, true)]);
    assert_eq!(assess(&recorded).status, ConsentStatus::Given);
}

#[test]
fn r17_text_confirmation_counts_only_when_policy_allows() {
    let r = record(
        &[Channel::PhoneLive],
        &[PHONE, EMAIL],
        CaptureMethod::PhoneCall,
        vec![otp(PHONE), text_confirmation(EMAIL)],
    );
    let strict = assess(&r);
    assert_eq!(strict.status, ConsentStatus::Requested);
    assert_eq!(strict.missing, vec![VerificationGap::VerbalNotRecorded]);

    let lenient = VerificationPolicy { allow_text_confirmation_for_verbal: true, ..VerificationPolicy::default() };
    assert_eq!(verification_status(&r, &kinds, &lenient, None).status, ConsentStatus::Given);
}

#[test]
fn r18_paper_consent_needs_scan_hash_form_version_and_original_location() {
    for (hash, form, location) in [("", "f-1", "Ordner 3"), ("aa", " ", "Ordner 3"), ("aa", "f-1", "")] {
        let r = record(&[Channel::PhoneLive], &[PHONE], CaptureMethod::Paper, vec![paper(hash, form, location)]);
        let out = assess(&r);
        assert_eq!(out.status, ConsentStatus::Requested);
        assert!(out.missing.contains(&VerificationGap::PaperScanIncomplete), "{hash:?} {form:?} {location:?}");
    }
    let r = record(&[Channel::PhoneLive], &[PHONE], CaptureMethod::Paper, vec![paper("aa", "f-1", "Ordner 3")]);
    assert_eq!(assess(&r).status, ConsentStatus::Given);
}

#[test]
fn r25_import_without_verification_evidence_is_unknown() {
    // Scenario 10: legacy import with only "opt-in = yes".
    let r = record(&[Channel::Email], &[EMAIL], CaptureMethod::Import, vec![import_evidence()]);
    let out = assess(&r);
    assert_eq!(out.status, ConsentStatus::Unknown);
    assert_eq!(out.codes(), vec!["email_not_confirmed"]);

    let with_doi = record(&[Channel::Email], &[EMAIL], CaptureMethod::Import, vec![import_evidence(), doi(EMAIL)]);
    assert_eq!(assess(&with_doi).status, ConsentStatus::Given);

    let no_provenance = record(&[Channel::Email], &[EMAIL], CaptureMethod::Import, vec![doi(EMAIL)]);
    let out = assess(&no_provenance);
    assert_eq!(out.status, ConsentStatus::Unknown);
    assert_eq!(out.missing, vec![VerificationGap::ImportProvenanceMissing]);
}

#[test]
fn r25_a_newsletter_tools_whole_double_opt_in_record_confirms_the_address_a_part_of_it_does_not() {
    let source_doi = |optin: bool, confirm: bool, ip: bool, cp: u128| Evidence::Import {
        provider: "Mailchimp".into(),
        file_hash: "01".repeat(32),
        row: 9,
        contract_ref: None,
        reported_optin_at: optin.then(|| ts("2023-04-01T09:00:00Z")),
        reported_confirm_at: confirm.then(|| ts("2023-04-01T09:03:00Z")),
        reported_ip: ip,
        confirmed_contact_point: Some(crate::consent::testkit::cp(cp)),
    };
    let whole = record(&[Channel::Email], &[EMAIL], CaptureMethod::Import, vec![source_doi(true, true, true, EMAIL)]);
    assert_eq!(assess(&whole).status, ConsentStatus::Given);
    for (optin, confirm, ip) in [(false, true, true), (true, false, true), (true, true, false)] {
        let part =
            record(&[Channel::Email], &[EMAIL], CaptureMethod::Import, vec![source_doi(optin, confirm, ip, EMAIL)]);
        assert_eq!(assess(&part).status, ConsentStatus::Unknown, "{optin} {confirm} {ip}");
    }
    let other = record(&[Channel::Email], &[EMAIL], CaptureMethod::Import, vec![source_doi(true, true, true, MOBILE)]);
    assert_eq!(assess(&other).status, ConsentStatus::Unknown, "another address's confirmation");
    let phone =
        record(&[Channel::PhoneLive], &[PHONE], CaptureMethod::Import, vec![source_doi(true, true, true, PHONE)]);
    assert_eq!(assess(&phone).status, ConsentStatus::Unknown, "never verifies a phone number (R26)");
}

#[test]
fn r25_third_party_import_needs_contract_reference() {
    let mut r = record(&[Channel::Email], &[EMAIL], CaptureMethod::Import, vec![import_evidence(), doi(EMAIL)]);
    r.source = Source::ThirdParty { provider: "Leads AG".into(), contract_ref: None };
    assert_eq!(assess(&r).missing, vec![VerificationGap::ThirdPartyContractMissing]);
    r.source = Source::ThirdParty { provider: "Leads AG".into(), contract_ref: Some("V-2025-17".into()) };
    assert_eq!(assess(&r).status, ConsentStatus::Given);
}

#[test]
fn r26_legacy_phone_consent_without_number_verification_is_unknown() {
    let r = record(&[Channel::PhoneLive], &[PHONE], CaptureMethod::Import, vec![import_evidence(), doi(EMAIL)]);
    let out = assess(&r);
    assert_eq!(out.status, ConsentStatus::Unknown);
    assert_eq!(out.codes(), vec!["phone_not_verified"]);
}

#[test]
fn r4_consent_without_affirmative_action_is_refused() {
    let mut r = record(&[Channel::Email], &[EMAIL], CaptureMethod::WebForm, vec![web_form(true), doi(EMAIL)]);
    r.affirmative_action = false;
    let out = assess(&r);
    assert_eq!(out.status, ConsentStatus::Refused);
    assert_eq!(out.missing, vec![VerificationGap::NoAffirmativeAction]);

    // The record claims an act, but the form evidence shows the box was not ticked by the person.
    let r = record(&[Channel::Email], &[EMAIL], CaptureMethod::WebForm, vec![web_form(false), doi(EMAIL)]);
    assert_eq!(assess(&r).status, ConsentStatus::Refused);
}

#[test]
fn r11_minor_consent_is_refused() {
    let r = record(&[Channel::Email], &[EMAIL], CaptureMethod::WebForm, vec![web_form(true), doi(EMAIL)]);
    let default = VerificationPolicy::default();
    let out = verification_status(&r, &kinds, &default, Some(15));
    assert_eq!(out.status, ConsentStatus::Refused);
    assert_eq!(out.missing, vec![VerificationGap::Minor { age: 15, min_age: 16 }]);
    assert_eq!(verification_status(&r, &kinds, &default, Some(16)).status, ConsentStatus::Given);
    assert_eq!(verification_status(&r, &kinds, &default, None).status, ConsentStatus::Given);

    let stricter = VerificationPolicy { min_age: 18, ..default };
    assert_eq!(verification_status(&r, &kinds, &stricter, Some(17)).status, ConsentStatus::Refused);
}

#[test]
fn r37_post_needs_no_ownership_verification() {
    let r = record(&[Channel::Post], &[POSTAL], CaptureMethod::WebForm, vec![web_form(true)]);
    assert_eq!(assess(&r).status, ConsentStatus::Given);
}

#[test]
fn r9_every_channel_needs_its_own_verified_contact_point() {
    let r = record(
        &[Channel::PhoneLive, Channel::Email],
        &[PHONE],
        CaptureMethod::WebForm,
        vec![web_form(true), otp(PHONE)],
    );
    let out = assess(&r);
    assert_eq!(out.status, ConsentStatus::Requested);
    assert_eq!(out.missing, vec![VerificationGap::NoContactPointForChannel { channel: Channel::Email }]);

    let r = record(&[Channel::PhoneLive], &[PHONE, 999], CaptureMethod::WebForm, vec![web_form(true), otp(PHONE)]);
    assert_eq!(assess(&r).missing, vec![VerificationGap::UnknownContactPoint { contact_point: cp(999) }]);
}

#[test]
fn every_number_of_a_phone_consent_must_be_verified() {
    let r = record(&[Channel::PhoneLive], &[PHONE, MOBILE], CaptureMethod::WebForm, vec![web_form(true), otp(PHONE)]);
    assert_eq!(assess(&r).missing, vec![VerificationGap::PhoneNotVerified { contact_point: cp(MOBILE) }]);
}

#[test]
fn gap_codes_and_labels_are_stable() {
    let gap = VerificationGap::PhoneNotVerified { contact_point: cp(PHONE) };
    assert_eq!(gap.code(), "phone_not_verified");
    assert!(gap.label_de().contains("Rufnummer"));
    let json = serde_json::to_value(&gap).expect("serialises");
    assert_eq!(json["code"], "phone_not_verified");
}
