//! The pre-contact gate of section 7 as a pure function: may this contact point be contacted on
//! this channel, for this advertiser and these product categories, now — on which legal basis and
//! relying on which consents? Every blocking reason is reported, not just the first.

mod policy;
mod reason;

pub use policy::{CampaignPolicy, parse_staleness, staleness_anchor};
pub use reason::{CustomerCondition, Reason};

use std::collections::BTreeSet;
use std::fmt;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::basis::{ExistingCustomerBasis, LegalBasis, PresumedConsentJustification};
use crate::channel::{Channel, ProductCategory};
use crate::consent::{ConsentRecord, ConsentStatus, MissingItem, Validity};
use crate::contact::ContactKind;
use crate::ids::{AdvertiserId, ConsentId, ContactPointId};
use crate::party::RecipientClass;
use crate::suppression::SuppressionEntry;

/// An Art. 21 objection to direct marketing (R42). Empty sets mean all channels / all advertisers.
/// An objection applies from the moment it is known, whatever `at` says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Objection {
    /// Channels objected to; empty = all.
    pub channels: BTreeSet<Channel>,
    /// Advertisers objected to; empty = all.
    pub advertisers: BTreeSet<AdvertiserId>,
    /// When it was received.
    pub at: Timestamp,
}

impl Objection {
    /// Whether the objection covers a channel and advertiser.
    pub fn covers(&self, channel: Channel, advertiser: AdvertiserId) -> bool {
        (self.channels.is_empty() || self.channels.contains(&channel))
            && (self.advertisers.is_empty() || self.advertisers.contains(&advertiser))
    }
}

/// A withdrawn part of a consent (full or partial, R40), remembered for R41. Empty sets mean all.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Withdrawal {
    /// The consent withdrawn from.
    pub consent_id: ConsentId,
    /// Channels withdrawn; empty = all.
    pub channels: BTreeSet<Channel>,
    /// Advertisers withdrawn; empty = all.
    pub advertisers: BTreeSet<AdvertiserId>,
    /// When it took effect.
    pub at: Timestamp,
}

impl Withdrawal {
    /// Whether the withdrawal covers a channel and advertiser.
    pub fn covers(&self, channel: Channel, advertiser: AdvertiserId) -> bool {
        (self.channels.is_empty() || self.channels.contains(&channel))
            && (self.advertisers.is_empty() || self.advertisers.contains(&advertiser))
    }
}

/// The contact point to be contacted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactPointRef {
    /// Id.
    pub id: ContactPointId,
    /// Kind (e-mail, phone, postal).
    pub kind: ContactKind,
    /// Whether ownership was verified (DOI, OTP, …).
    pub verified: bool,
}

/// The § 7a completeness check of a consent (R20), supplied by the caller so the gate stays pure
/// (typically `check_phone_completeness` with the person's data, advertisers and text loaded).
pub type CompletenessCheck<'a> = &'a dyn Fn(&ConsentRecord) -> Result<(), Vec<MissingItem>>;

/// Everything known about the person behind the contact point.
#[derive(Clone, Copy)]
pub struct GateSubject<'a> {
    /// Consumer or business (R1).
    pub recipient_class: RecipientClass,
    /// Age in years today, if known (R11).
    pub age: Option<i16>,
    /// The contact point to be contacted.
    pub contact_point: ContactPointRef,
    /// All consent records of the person, whatever their status.
    pub consents: &'a [ConsentRecord],
    /// Art. 21 objections, including "no advertising" markers (R37, R42).
    pub objections: &'a [Objection],
    /// Processing restricted (Art. 18, or kept after an erasure request, R48).
    pub restricted: bool,
    /// Suppression entries matched for this contact point (R30).
    pub suppressions: &'a [SuppressionEntry],
    /// Documented § 7(3) UWG relations (R34).
    pub existing_customer: &'a [ExistingCustomerBasis],
    /// Documented presumed consents of a business contact (R35).
    pub presumed_consent: &'a [PresumedConsentJustification],
    /// Withdrawn consent parts (R41); records with status `ConsentWithdrawn` count on their own.
    pub withdrawals: &'a [Withdrawal],
    /// The § 7a completeness check for consumer phone consents (R20).
    pub completeness: CompletenessCheck<'a>,
}

impl fmt::Debug for GateSubject<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GateSubject")
            .field("recipient_class", &self.recipient_class)
            .field("contact_point", &self.contact_point)
            .field("consents", &self.consents.len())
            .field("objections", &self.objections.len())
            .field("suppressions", &self.suppressions.len())
            .finish_non_exhaustive()
    }
}

/// What a campaign wants to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GateRequest {
    /// Channel of the contact.
    pub channel: Channel,
    /// Advertiser on whose behalf.
    pub advertiser: AdvertiserId,
    /// Product categories advertised.
    pub categories: BTreeSet<ProductCategory>,
    /// Campaign policy.
    pub policy: CampaignPolicy,
    /// The instant of the decision.
    pub now: Timestamp,
}

/// The gate's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    /// True only when no reason blocks.
    pub allowed: bool,
    /// Every blocking reason found (empty when allowed).
    pub reasons: Vec<Reason>,
    /// The legal basis relied on, when allowed.
    pub legal_basis: Option<LegalBasis>,
    /// The consents relied on, when allowed on consent.
    pub relied_on: Vec<ConsentId>,
}

impl Decision {
    /// The codes of the reasons.
    pub fn codes(&self) -> Vec<&'static str> {
        self.reasons.iter().map(Reason::code).collect()
    }
}

fn push_unique(list: &mut Vec<Reason>, reason: Reason) {
    if !list.iter().any(|r| r.code() == reason.code()) {
        list.push(reason);
    }
}

/// Decides whether the contact is allowed (section 7 steps 2–6). Objections and suppressions beat
/// every legal basis; then the channel branch of step 4; then Robinson (R31) and caller id (R32).
pub fn decide(subject: &GateSubject<'_>, req: &GateRequest) -> Decision {
    let (channel, advertiser, policy) = (req.channel, req.advertiser, &req.policy);
    let mut reasons = Vec::new();
    if subject.contact_point.kind != channel.contact_kind() {
        reasons.push(Reason::WrongContactKind);
    }
    if subject.suppressions.iter().any(|e| e.scope.covers(channel, advertiser)) {
        reasons.push(Reason::Suppressed);
    }
    if subject.objections.iter().any(|o| o.covers(channel, advertiser)) {
        reasons.push(Reason::Objection);
    }
    if subject.restricted {
        reasons.push(Reason::Restricted);
    }
    if subject.age.is_some_and(|age| age < policy.min_age) {
        reasons.push(Reason::Minor);
    }

    let basis = channel_basis(subject, req);
    if let Err(found) = &basis {
        for r in found {
            push_unique(&mut reasons, r.clone());
        }
    }

    match policy.robinson_match {
        Some(true) => reasons.push(Reason::RobinsonMatch),
        None if policy.robinson_required => reasons.push(Reason::RobinsonCheckMissing),
        _ => {}
    }
    if channel.is_phone() && policy.caller_id_presented == Some(false) {
        reasons.push(Reason::CallerIdSuppressed);
    }

    match basis {
        Ok((legal_basis, relied_on)) if reasons.is_empty() => {
            Decision { allowed: true, reasons, legal_basis: Some(legal_basis), relied_on }
        }
        _ => Decision { allowed: false, reasons, legal_basis: None, relied_on: Vec::new() },
    }
}

/// Step 4: the legal basis for this channel and recipient class, or why there is none.
fn channel_basis(s: &GateSubject<'_>, req: &GateRequest) -> Result<(LegalBasis, Vec<ConsentId>), Vec<Reason>> {
    let consent = consent_path(s, req).map(|ids| (LegalBasis::Consent, ids));
    let Err(mut reasons) = consent else {
        return consent;
    };
    let no_fallback = withdrawn(s, req.channel, req.advertiser);
    match req.channel {
        Channel::PhoneLive if s.recipient_class == RecipientClass::Business => {
            if !s.presumed_consent.iter().any(|p| p.advertiser_id == req.advertiser) {
                reasons.push(Reason::NoPresumedConsentJustification);
            } else if no_fallback {
                reasons.push(Reason::WithdrawnNoFallback);
            } else {
                return Ok((LegalBasis::PresumedBusinessConsent, Vec::new()));
            }
        }
        Channel::Email if req.policy.allow_existing_customer => match existing_customer(s, req) {
            Err(missing) => reasons.push(Reason::ExistingCustomerConditionMissing { missing }),
            Ok(()) if no_fallback => reasons.push(Reason::WithdrawnNoFallback),
            Ok(()) => return Ok((LegalBasis::ExistingCustomer, Vec::new())),
        },
        Channel::Post if no_fallback => return Err(vec![Reason::WithdrawnNoFallback]),
        Channel::Post => return Ok((LegalBasis::LegitimateInterest, Vec::new())),
        _ => {}
    }
    Err(reasons)
}

/// The consents that cover the request, or the union of what keeps each candidate from it.
fn consent_path(s: &GateSubject<'_>, req: &GateRequest) -> Result<Vec<ConsentId>, Vec<Reason>> {
    if s.consents.is_empty() {
        return Err(vec![Reason::NoConsent]);
    }
    let mut relied = Vec::new();
    let mut problems = Vec::new();
    for record in s.consents.iter().filter(|r| r.scope.channels.contains(&req.channel)) {
        let found = record_problems(record, s, req);
        if found.is_empty() {
            relied.push(record.id);
        }
        for r in found {
            push_unique(&mut problems, r);
        }
    }
    if !relied.is_empty() {
        return Ok(relied);
    }
    if problems.is_empty() {
        problems.push(Reason::ChannelNotCovered);
    }
    Err(problems)
}

/// What keeps one consent record (which names the channel) from covering the request.
fn record_problems(record: &ConsentRecord, s: &GateSubject<'_>, req: &GateRequest) -> Vec<Reason> {
    let mut found = Vec::new();
    let valid = record.status.is_valid_for_processing();
    if !valid {
        found.push(Reason::ConsentNotValid);
    }
    if matches!(record.validity, Validity::UntilTime { until } if req.now >= until) {
        found.push(Reason::ValidityEnded);
    }
    if record.approval_pending {
        found.push(Reason::ApprovalPending);
    }
    if !record.contact_points.contains(&s.contact_point.id) {
        found.push(Reason::ContactPointNotCovered);
    }
    if req.channel != Channel::Post && !s.contact_point.verified {
        found.push(Reason::ContactPointNotVerified);
    }
    if !record.scope.advertisers.contains(&req.advertiser) {
        found.push(Reason::AdvertiserNotCovered);
    }
    if !req.categories.is_subset(&record.scope.product_categories) {
        found.push(Reason::CategoryNotCovered);
    }
    if req.channel.is_phone()
        && s.recipient_class == RecipientClass::Consumer
        && let Err(missing) = (s.completeness)(record)
    {
        found.push(Reason::Incomplete7a { missing });
    }
    let anchor = policy::staleness_anchor(record);
    if valid && req.policy.is_stale(req.channel, anchor, req.now) {
        found.push(Reason::Stale);
    }
    found
}

/// R41: a consent for this channel and advertiser was withdrawn, so no other basis may take over.
fn withdrawn(s: &GateSubject<'_>, channel: Channel, advertiser: AdvertiserId) -> bool {
    s.withdrawals.iter().any(|w| w.covers(channel, advertiser))
        || s.consents.iter().any(|r| {
            r.status == ConsentStatus::Withdrawn
                && r.scope.channels.contains(&channel)
                && r.scope.advertisers.contains(&advertiser)
        })
}

/// R34: all four § 7(3) UWG conditions for this e-mail address and advertiser (the fourth, no
/// objection, is the gate's objection check).
fn existing_customer(s: &GateSubject<'_>, req: &GateRequest) -> Result<(), Vec<CustomerCondition>> {
    let mut best: Option<Vec<CustomerCondition>> = None;
    for b in s
        .existing_customer
        .iter()
        .filter(|b| b.contact_point_id == s.contact_point.id && b.advertiser_id == req.advertiser)
    {
        let mut missing = Vec::new();
        if !b.obtained_in_sale || b.contract_ref.trim().is_empty() {
            missing.push(CustomerCondition::ObtainedInSale);
        }
        if req.categories.is_empty() || !req.categories.is_subset(&b.similar_categories) {
            missing.push(CustomerCondition::SimilarProducts);
        }
        if !b.objection_notice_at_collection {
            missing.push(CustomerCondition::ObjectionNoticeAtCollection);
        }
        if missing.is_empty() {
            return Ok(());
        }
        if best.as_ref().is_none_or(|m| missing.len() < m.len()) {
            best = Some(missing);
        }
    }
    Err(best.unwrap_or_else(|| vec![CustomerCondition::NoRelation]))
}

#[cfg(test)]
mod fixture;
#[cfg(test)]
mod scenarios;
#[cfg(test)]
mod tests;
