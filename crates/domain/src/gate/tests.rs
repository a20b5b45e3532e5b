//! Unit tests of the gate, one requirement at a time.

use std::collections::BTreeSet;

use super::fixture::{World, customer, justification, objection, request, suppression};
use super::*;
use crate::basis::ExistingCustomerBasis;
use crate::consent::testkit::*;

#[test]
fn r70_verified_complete_phone_consent_allows_the_call() {
    let d = World::phone().decide(&request(Channel::PhoneLive));
    assert_eq!(
        d,
        Decision {
            allowed: true,
            reasons: vec![],
            legal_basis: Some(LegalBasis::Consent),
            relied_on: vec![consent_id(1)]
        }
    );
}

#[test]
fn r70_only_given_and_renewed_given_are_valid() {
    for status in ConsentStatus::ALL {
        let mut w = World::phone();
        w.consents[0].status = status;
        let d = w.decide(&request(Channel::PhoneLive));
        assert_eq!(d.allowed, status.is_valid_for_processing(), "{status}");
        if !d.allowed {
            assert_eq!(d.codes(), vec!["consent_not_valid"], "{status}");
        }
    }
}

#[test]
fn r36_live_consent_does_not_cover_automated() {
    for channel in [Channel::PhoneAutomated, Channel::Fax] {
        let d = World::phone().decide(&request(channel));
        assert!(!d.allowed);
        assert_eq!(d.codes(), vec!["channel_not_covered"], "{channel}");
    }
}

#[test]
fn r36_automated_calls_need_explicit_consent_from_businesses_too() {
    let mut w = World::phone();
    w.class = RecipientClass::Business;
    w.presumed = vec![justification(1)];
    let d = w.decide(&request(Channel::PhoneAutomated));
    assert_eq!(d.codes(), vec!["channel_not_covered"]);

    w.consents[0].scope.channels.insert(Channel::PhoneAutomated);
    let d = w.decide(&request(Channel::PhoneAutomated));
    assert_eq!((d.allowed, d.legal_basis), (true, Some(LegalBasis::Consent)));
}

#[test]
fn r7_advertiser_and_categories_must_be_covered() {
    let w = World::phone();
    let mut req = request(Channel::PhoneLive);
    req.advertiser = adv(2);
    assert_eq!(w.decide(&req).codes(), vec!["advertiser_not_covered"]);

    let mut req = request(Channel::PhoneLive);
    req.categories.insert(cat("investment_34f"));
    assert_eq!(w.decide(&req).codes(), vec!["category_not_covered"]);
}

#[test]
fn r15_consent_is_bound_to_its_verified_number() {
    let mut w = World::phone();
    w.contact = ContactPointRef { id: cp(MOBILE), kind: ContactKind::Phone, verified: true };
    assert_eq!(w.decide(&request(Channel::PhoneLive)).codes(), vec!["contact_point_not_covered"]);

    let mut w = World::phone();
    w.contact.verified = false;
    assert_eq!(w.decide(&request(Channel::PhoneLive)).codes(), vec!["contact_point_not_verified"]);
}

#[test]
fn r20_phone_consent_needs_address() {
    let mut w = World::phone();
    if let Some(p) = w.person.as_mut() {
        p.address = None;
    }
    let d = w.decide(&request(Channel::PhoneLive));
    assert!(!d.allowed);
    assert_eq!(d.reasons, vec![Reason::Incomplete7a { missing: vec![MissingItem::ResidentialAddress] }]);
}

#[test]
fn r20_does_not_apply_to_business_calls() {
    let mut w = World::phone();
    w.class = RecipientClass::Business;
    w.person = None;
    let d = w.decide(&request(Channel::PhoneLive));
    assert_eq!((d.allowed, d.legal_basis), (true, Some(LegalBasis::Consent)));
}

#[test]
fn r29_phone_consent_is_stale_after_12_months_without_use() {
    let w = World::phone();
    let mut req = request(Channel::PhoneLive);
    req.now = ts("2027-01-10T10:01:00Z");
    assert!(w.decide(&req).allowed, "the last instant of the 12 months is still fresh");
    req.now = ts("2027-01-10T10:01:01Z");
    assert_eq!(w.decide(&req).codes(), vec!["stale"]);
}

#[test]
fn r29_use_restarts_the_staleness_clock() {
    let mut w = World::phone();
    w.consents[0].last_use_at = Some(ts("2026-12-01T09:00:00Z"));
    let mut req = request(Channel::PhoneLive);
    req.now = ts("2027-06-01T00:00:00Z");
    assert!(w.decide(&req).allowed);
    req.policy.staleness_months.insert(Channel::PhoneLive, 3);
    assert_eq!(w.decide(&req).codes(), vec!["stale"]);
}

#[test]
fn r11_minor_is_blocked_with_configurable_age() {
    let mut w = World::phone();
    w.age = Some(15);
    assert_eq!(w.decide(&request(Channel::PhoneLive)).codes(), vec!["minor"]);
    w.age = Some(17);
    assert!(w.decide(&request(Channel::PhoneLive)).allowed);
    let mut req = request(Channel::PhoneLive);
    req.policy.min_age = 18;
    assert_eq!(w.decide(&req).codes(), vec!["minor"]);
}

#[test]
fn r30_suppression_for_the_channel_blocks() {
    let mut w = World::phone();
    w.suppressions = vec![suppression(&[Channel::Sms])];
    assert!(w.decide(&request(Channel::PhoneLive)).allowed);
    w.suppressions = vec![suppression(&[])];
    assert_eq!(w.decide(&request(Channel::PhoneLive)).codes(), vec!["suppressed"]);
}

#[test]
fn r42_objection_beats_every_legal_basis() {
    let mut w = World::phone();
    w.objections = vec![objection(&[])];
    assert_eq!(w.decide(&request(Channel::PhoneLive)).codes(), vec!["objection"]);

    let mut post = World::phone();
    post.contact = ContactPointRef { id: cp(POSTAL), kind: ContactKind::Postal, verified: false };
    post.objections = vec![objection(&[])];
    let d = post.decide(&request(Channel::Post));
    assert_eq!((d.allowed, d.codes()), (false, vec!["objection"]));

    let mut limited = World::phone();
    limited.objections = vec![objection(&[Channel::Email])];
    assert!(limited.decide(&request(Channel::PhoneLive)).allowed);
}

#[test]
fn r28_every_blocking_reason_is_listed() {
    let mut w = World::phone();
    w.suppressions = vec![suppression(&[])];
    w.objections = vec![objection(&[])];
    w.age = Some(14);
    let mut req = request(Channel::PhoneLive);
    req.advertiser = adv(2);
    req.now = ts("2027-03-01T00:00:00Z");
    req.policy.robinson_required = true;
    req.policy.caller_id_presented = Some(false);
    let d = w.decide(&req);
    assert_eq!(
        d.codes(),
        vec![
            "suppressed",
            "objection",
            "minor",
            "advertiser_not_covered",
            "stale",
            "robinson_check_missing",
            "caller_id_suppressed"
        ]
    );
    assert_eq!((d.allowed, d.legal_basis, d.relied_on.len()), (false, None, 0));
}

#[test]
fn r31_robinson_policy() {
    let w = World::phone();
    let mut req = request(Channel::PhoneLive);
    req.policy.robinson_required = true;
    assert_eq!(w.decide(&req).codes(), vec!["robinson_check_missing"]);
    req.policy.robinson_match = Some(false);
    assert!(w.decide(&req).allowed);
    req.policy.robinson_match = Some(true);
    assert_eq!(w.decide(&req).codes(), vec!["robinson_match"]);
}

#[test]
fn r32_suppressed_caller_id_blocks_calls_only() {
    let mut req = request(Channel::PhoneLive);
    req.policy.caller_id_presented = Some(false);
    assert_eq!(World::phone().decide(&req).codes(), vec!["caller_id_suppressed"]);
    req.policy.caller_id_presented = Some(true);
    assert!(World::phone().decide(&req).allowed);
    let mut mail = request(Channel::Email);
    mail.policy.caller_id_presented = Some(false);
    assert!(World::email().decide(&mail).allowed);
}

#[test]
fn r35_business_call_on_presumed_consent_of_that_advertiser() {
    let mut w = World::phone();
    w.class = RecipientClass::Business;
    w.consents.clear();
    w.presumed = vec![justification(1)];
    let d = w.decide(&request(Channel::PhoneLive));
    assert_eq!(
        d,
        Decision {
            allowed: true,
            reasons: vec![],
            legal_basis: Some(LegalBasis::PresumedBusinessConsent),
            relied_on: vec![]
        }
    );
    w.presumed = vec![justification(2)];
    assert_eq!(w.decide(&request(Channel::PhoneLive)).codes(), vec!["no_consent", "no_presumed_consent_justification"]);
}

#[test]
fn r35_presumed_consent_never_applies_to_consumers() {
    let mut w = World::phone();
    w.consents.clear();
    w.presumed = vec![justification(1)];
    assert_eq!(w.decide(&request(Channel::PhoneLive)).codes(), vec!["no_consent"]);
}

#[test]
fn r34_existing_customer_email_with_all_four_conditions() {
    let mut w = World::email();
    w.consents.clear();
    w.customers = vec![customer(true, &["insurance", "pension"], true)];
    let mut req = request(Channel::Email);
    assert_eq!(w.decide(&req).codes(), vec!["no_consent"], "the campaign did not opt into § 7(3)");
    req.policy.allow_existing_customer = true;
    let d = w.decide(&req);
    assert_eq!((d.allowed, d.legal_basis), (true, Some(LegalBasis::ExistingCustomer)));

    req.categories.insert(cat("investment_34f"));
    let d = w.decide(&req);
    assert_eq!(
        d.reasons,
        vec![
            Reason::NoConsent,
            Reason::ExistingCustomerConditionMissing { missing: vec![CustomerCondition::SimilarProducts] }
        ]
    );
}

#[test]
fn r34_existing_customer_never_for_sms_or_phone() {
    for (channel, kind, point) in
        [(Channel::Sms, ContactKind::Phone, MOBILE), (Channel::PhoneLive, ContactKind::Phone, PHONE)]
    {
        let mut w = World::email();
        w.consents.clear();
        w.contact = ContactPointRef { id: cp(point), kind, verified: true };
        w.customers =
            vec![ExistingCustomerBasis { contact_point_id: cp(point), ..customer(true, &["insurance"], true) }];
        let mut req = request(channel);
        req.policy.allow_existing_customer = true;
        assert_eq!(w.decide(&req).codes(), vec!["no_consent"], "{channel}");
    }
}

#[test]
fn r37_post_runs_on_legitimate_interest_without_consent() {
    let mut w = World::phone();
    w.consents.clear();
    w.contact = ContactPointRef { id: cp(POSTAL), kind: ContactKind::Postal, verified: false };
    let d = w.decide(&request(Channel::Post));
    assert_eq!((d.allowed, d.legal_basis), (true, Some(LegalBasis::LegitimateInterest)));
    w.suppressions = vec![suppression(&[Channel::Post])];
    assert_eq!(w.decide(&request(Channel::Post)).codes(), vec!["suppressed"]);
}

#[test]
fn r41_withdrawn_post_consent_blocks_legitimate_interest() {
    let mut w = World::phone();
    w.contact = ContactPointRef { id: cp(POSTAL), kind: ContactKind::Postal, verified: false };
    w.consents[0].scope.channels = BTreeSet::from([Channel::Post]);
    w.consents[0].contact_points = BTreeSet::from([cp(POSTAL)]);
    w.consents[0].status = ConsentStatus::Withdrawn;
    assert_eq!(w.decide(&request(Channel::Post)).codes(), vec!["withdrawn_no_fallback"]);
    let mut other = request(Channel::Post);
    other.advertiser = adv(2);
    assert!(w.decide(&other).allowed, "the withdrawal named advertiser 1 only");
}

#[test]
fn r41_partial_withdrawal_blocks_existing_customer_and_presumed_consent() {
    let withdrawal = Withdrawal {
        consent_id: consent_id(2),
        channels: BTreeSet::from([Channel::Email]),
        advertisers: BTreeSet::new(),
        at: ts("2026-02-01T00:00:00Z"),
    };
    let mut w = World::email();
    w.consents[0].scope.channels.clear();
    w.customers = vec![customer(true, &["insurance"], true)];
    w.withdrawals = vec![withdrawal.clone()];
    let mut req = request(Channel::Email);
    req.policy.allow_existing_customer = true;
    assert_eq!(w.decide(&req).codes(), vec!["channel_not_covered", "withdrawn_no_fallback"]);

    let mut b2b = World::phone();
    b2b.class = RecipientClass::Business;
    b2b.consents[0].status = ConsentStatus::Withdrawn;
    b2b.presumed = vec![justification(1)];
    assert_eq!(b2b.decide(&request(Channel::PhoneLive)).codes(), vec!["consent_not_valid", "withdrawn_no_fallback"]);
}

#[test]
fn r71_consent_past_its_validity_is_blocked() {
    let mut w = World::phone();
    w.consents[0].validity = Validity::UntilTime { until: ts("2026-02-28T00:00:00Z") };
    assert_eq!(w.decide(&request(Channel::PhoneLive)).codes(), vec!["validity_ended"]);
}

#[test]
fn wrong_contact_kind_pending_approval_and_no_consent() {
    let mut w = World::email();
    assert_eq!(w.decide(&request(Channel::PhoneLive)).codes(), vec!["wrong_contact_kind", "channel_not_covered"]);
    w.consents[0].approval_pending = true;
    assert_eq!(w.decide(&request(Channel::Email)).codes(), vec!["approval_pending"]);
    w.consents.clear();
    assert_eq!(w.decide(&request(Channel::Email)).codes(), vec!["no_consent"]);
}

#[test]
fn every_covering_consent_is_relied_on() {
    let mut w = World::phone();
    let mut second = phone_record();
    second.id = consent_id(3);
    w.consents.push(second);
    assert_eq!(w.decide(&request(Channel::PhoneLive)).relied_on, vec![consent_id(1), consent_id(3)]);
}

#[test]
fn reasons_have_stable_codes_and_german_labels() {
    let r = Reason::Incomplete7a { missing: vec![MissingItem::FirstName] };
    assert_eq!(r.code(), "incomplete_7a");
    assert_eq!(serde_json::to_value(&r).ok().map(|v| v["code"].clone()), Some("incomplete_7a".into()));
    assert_eq!(Reason::Stale.label_de(), "Einwilligung zu lange nicht genutzt (veraltet)");
    assert_eq!(Reason::Stale.label_en(), "consent unused for too long (stale)");
    assert_eq!(CustomerCondition::ObjectionNoticeAtCollection.code(), "objection_notice_at_collection");
}
