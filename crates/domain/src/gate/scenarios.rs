//! The test scenarios of section 8 (numbers 2, 3, 5, 6, 7, 13, 14, 15) end to end through the pure
//! rules: capture → verification status → gate, and the linter that guards publishing.

use std::collections::BTreeSet;

use super::fixture::{World, customer, request};
use super::*;
use crate::consent::testkit::*;
use crate::consent::{
    DeclarationKind, FormCheckbox, FormConfig, Scope, VerificationPolicy, lint_form, lint_text, verification_status,
};

#[test]
fn r15_scenario2_phone_campaign_blocked_with_only_email_doi() {
    // Online phone consent; the person confirmed the e-mail double opt-in but the number was never verified.
    let mut record = phone_record();
    record.contact_points = BTreeSet::from([cp(PHONE), cp(EMAIL)]);
    record.evidence = vec![web_form(true), doi(EMAIL)];
    let outcome = verification_status(&record, &kinds, &VerificationPolicy::default(), Some(45));
    assert_eq!(outcome.status, ConsentStatus::Requested);
    record.status = outcome.status;
    record.granted_at = None;

    let mut w = World::phone();
    w.consents = vec![record];
    w.contact.verified = false;
    let d = w.decide(&request(Channel::PhoneLive));
    assert!(!d.allowed);
    assert_eq!(
        d.reasons,
        vec![
            Reason::ConsentNotValid,
            Reason::ContactPointNotVerified,
            Reason::Incomplete7a { missing: vec![MissingItem::VerificationEvidence] },
        ]
    );
}

#[test]
fn r15_scenario3_sms_code_allows_the_call() {
    let record = phone_record();
    let outcome = verification_status(&record, &kinds, &VerificationPolicy::default(), Some(45));
    assert_eq!(outcome.status, ConsentStatus::Given);
    let d = World::phone().decide(&request(Channel::PhoneLive));
    assert_eq!((d.allowed, d.relied_on), (true, vec![record.id]));
}

#[test]
fn r7_scenario5_partner_text_without_list_cannot_be_published() {
    let body = "Ich bin einverstanden, dass unsere Partner mich telefonisch zu Versicherungen beraten. \
                Ich kann jederzeit widerrufen.";
    let issues = lint_text(
        &text(body, scope(&[1], &["insurance"], &[Channel::PhoneLive])),
        &[advertiser(1, "Muster Makler GmbH")],
    );
    let blocking: Vec<&str> = issues.iter().filter(|i| i.is_error()).map(|i| i.code()).collect();
    assert_eq!(blocking, vec!["advertiser_not_named", "catch_all_wording"]);
}

#[test]
fn r4_scenario6_pre_ticked_box_fails_form_validation() {
    let form = FormConfig {
        checkboxes: vec![FormCheckbox {
            label: "Ja, ich möchte per E-Mail informiert werden".into(),
            pre_ticked: true,
            declarations: vec![DeclarationKind::MarketingConsent],
        }],
    };
    let issues = lint_form(&form);
    assert_eq!(issues.iter().map(|i| (i.code(), i.is_error())).collect::<Vec<_>>(), vec![("pre_ticked", true)]);
}

#[test]
fn r40_scenario7_partial_withdrawal_of_phone_keeps_email() {
    let mut w = World::phone();
    let record = &mut w.consents[0];
    record.contact_points = BTreeSet::from([cp(PHONE), cp(EMAIL)]);
    record.scope.channels = BTreeSet::from([Channel::PhoneLive, Channel::Email]);
    record.evidence = vec![web_form(true), otp(PHONE), doi(EMAIL)];
    w.text.scope = record.scope.clone();
    assert!(w.decide(&request(Channel::PhoneLive)).allowed);

    let delta = Scope { channels: BTreeSet::from([Channel::PhoneLive]), ..Scope::default() };
    let record = &mut w.consents[0];
    record.scope = record.scope.without(&delta);
    assert_eq!(record.scope.channels, BTreeSet::from([Channel::Email]));

    let phone = w.decide(&request(Channel::PhoneLive));
    assert_eq!((phone.allowed, phone.codes()), (false, vec!["channel_not_covered"]));

    w.contact = ContactPointRef { id: cp(EMAIL), kind: ContactKind::Email, verified: true };
    let email = w.decide(&request(Channel::Email));
    assert_eq!(
        (email.allowed, email.legal_basis, email.relied_on),
        (true, Some(LegalBasis::Consent), vec![consent_id(1)])
    );
}

#[test]
fn r29_stale_email_after_19_months() {
    // Scenario 13: e-mail consent granted 2026-01-10 and never used.
    let w = World::email();
    let mut req = request(Channel::Email);
    req.now = ts("2027-06-10T10:00:00Z");
    assert!(w.decide(&req).allowed, "17 months: still fresh");
    req.now = ts("2027-08-10T10:00:00Z");
    let d = w.decide(&req);
    assert_eq!((d.allowed, d.codes()), (false, vec!["stale"]));
}

#[test]
fn r35_scenario14_b2b_call_without_justification_is_blocked() {
    let mut w = World::phone();
    w.class = RecipientClass::Business;
    w.consents.clear();
    let d = w.decide(&request(Channel::PhoneLive));
    assert!(!d.allowed);
    assert_eq!(d.reasons, vec![Reason::NoConsent, Reason::NoPresumedConsentJustification]);
}

#[test]
fn r34_scenario15_existing_customer_without_objection_notice_is_blocked() {
    let mut w = World::email();
    w.consents.clear();
    w.customers = vec![customer(true, &["insurance"], false)];
    let mut req = request(Channel::Email);
    req.policy.allow_existing_customer = true;
    let d = w.decide(&req);
    assert!(!d.allowed);
    assert_eq!(
        d.reasons,
        vec![
            Reason::NoConsent,
            Reason::ExistingCustomerConditionMissing { missing: vec![CustomerCondition::ObjectionNoticeAtCollection] },
        ]
    );

    w.customers = vec![customer(false, &["insurance"], false)];
    let d = w.decide(&req);
    assert_eq!(
        d.reasons[1],
        Reason::ExistingCustomerConditionMissing {
            missing: vec![CustomerCondition::ObtainedInSale, CustomerCondition::ObjectionNoticeAtCollection]
        }
    );

    w.customers = vec![customer(true, &["insurance"], true)];
    assert_eq!(w.decide(&req).legal_basis, Some(LegalBasis::ExistingCustomer));
}
