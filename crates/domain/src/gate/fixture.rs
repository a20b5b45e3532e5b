//! Test fixture of the gate: a `World` of one person with everything the gate looks at, and requests.

use std::collections::BTreeSet;

use super::*;
use crate::basis::{ExistingCustomerBasis, PresumedConsentJustification};
use crate::consent::testkit::*;
use crate::consent::{CompletenessInput, check_phone_completeness};
use crate::ids::{BasisId, PersonId, SuppressionId};
use crate::party::{Advertiser, PersonData};
use crate::suppression::{SuppressionReason, SuppressionScope};
use crate::text::ConsentTextVersion;

/// A person with everything the gate looks at; the completeness check is the real R20 validator.
pub(super) struct World {
    /// Consumer or business.
    pub class: RecipientClass,
    /// Age in years.
    pub age: Option<i16>,
    /// The contact point to be contacted.
    pub contact: ContactPointRef,
    /// Consent records.
    pub consents: Vec<ConsentRecord>,
    /// Art. 21 objections.
    pub objections: Vec<Objection>,
    /// Processing restricted.
    pub restricted: bool,
    /// Matched suppression entries.
    pub suppressions: Vec<SuppressionEntry>,
    /// § 7(3) relations.
    pub customers: Vec<ExistingCustomerBasis>,
    /// B2B justifications.
    pub presumed: Vec<PresumedConsentJustification>,
    /// Withdrawn consent parts.
    pub withdrawals: Vec<Withdrawal>,
    /// Names and address.
    pub person: Option<PersonData>,
    /// Advertisers of the tenant.
    pub advertisers: Vec<Advertiser>,
    /// The text the consents reference.
    pub text: ConsentTextVersion,
}

impl World {
    /// A consumer with a complete, verified phone consent (advertiser 1, insurance) on `PHONE`.
    pub fn phone() -> Self {
        let record = phone_record();
        Self {
            class: RecipientClass::Consumer,
            age: Some(45),
            contact: ContactPointRef { id: cp(PHONE), kind: ContactKind::Phone, verified: true },
            text: text(TEXT_BODY, record.scope.clone()),
            consents: vec![record],
            objections: vec![],
            restricted: false,
            suppressions: vec![],
            customers: vec![],
            presumed: vec![],
            withdrawals: vec![],
            person: Some(person()),
            advertisers: vec![advertiser(1, "Muster Makler GmbH")],
        }
    }

    /// A consumer with a confirmed e-mail consent on `EMAIL`.
    pub fn email() -> Self {
        Self {
            contact: ContactPointRef { id: cp(EMAIL), kind: ContactKind::Email, verified: true },
            consents: vec![email_record()],
            ..Self::phone()
        }
    }

    /// Runs the gate with the real R20 completeness check.
    pub fn decide(&self, req: &GateRequest) -> Decision {
        let check = |r: &ConsentRecord| {
            check_phone_completeness(&CompletenessInput {
                record: r,
                person: self.person.as_ref(),
                advertisers: &self.advertisers,
                text: Some(&self.text),
            })
        };
        let subject = GateSubject {
            recipient_class: self.class,
            age: self.age,
            contact_point: self.contact,
            consents: &self.consents,
            objections: &self.objections,
            restricted: self.restricted,
            suppressions: &self.suppressions,
            existing_customer: &self.customers,
            presumed_consent: &self.presumed,
            withdrawals: &self.withdrawals,
            completeness: &check,
        };
        decide(&subject, req)
    }
}

/// A request of advertiser 1 for `insurance` on 2026-03-01 with the default policy.
pub(super) fn request(channel: Channel) -> GateRequest {
    GateRequest {
        channel,
        advertiser: adv(1),
        categories: BTreeSet::from([cat("insurance")]),
        policy: CampaignPolicy::default(),
        now: ts("2026-03-01T12:00:00Z"),
    }
}

pub(super) fn customer(obtained_in_sale: bool, categories: &[&str], notice: bool) -> ExistingCustomerBasis {
    ExistingCustomerBasis {
        id: BasisId::from_uuid(uuid::Uuid::from_u128(700)),
        person_id: PersonId::from_uuid(uuid::Uuid::from_u128(500)),
        contact_point_id: cp(EMAIL),
        advertiser_id: adv(1),
        contract_ref: "KV-2025-0042".into(),
        obtained_in_sale,
        similar_categories: categories.iter().map(|c| cat(c)).collect(),
        objection_notice_at_collection: notice,
        recorded_at: ts("2025-11-02T09:00:00Z"),
    }
}

pub(super) fn justification(advertiser: u128) -> PresumedConsentJustification {
    PresumedConsentJustification {
        id: BasisId::from_uuid(uuid::Uuid::from_u128(701)),
        person_id: PersonId::from_uuid(uuid::Uuid::from_u128(500)),
        advertiser_id: adv(advertiser),
        reason_code: "existing_business_relation".into(),
        justification: "Bestehende Geschäftsbeziehung, Rückrufbitte auf Messe".into(),
        author: "VM-4".into(),
        at: ts("2026-02-01T09:00:00Z"),
    }
}

pub(super) fn suppression(channels: &[Channel]) -> SuppressionEntry {
    SuppressionEntry {
        id: SuppressionId::from_uuid(uuid::Uuid::from_u128(800)),
        key_hmac: "11".repeat(32),
        key_kind: ContactKind::Phone,
        scope: SuppressionScope { channels: channels.iter().copied().collect(), advertisers: BTreeSet::new() },
        reason: SuppressionReason::Withdrawal,
        created_at: ts("2026-02-01T00:00:00Z"),
        source: "preference_centre".into(),
    }
}

pub(super) fn objection(channels: &[Channel]) -> Objection {
    Objection {
        channels: channels.iter().copied().collect(),
        advertisers: BTreeSet::new(),
        at: ts("2026-02-15T00:00:00Z"),
    }
}
