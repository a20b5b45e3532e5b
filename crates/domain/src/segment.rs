//! Campaign segments: who one campaign may reach on one channel for one advertiser. The universe
//! is every contact point whose holder has a consent naming that advertiser and channel (within
//! the filters); the gate then puts each in or out with its reasons (staleness R29, suppression
//! R30, Art. 21 objections, Robinson list R31). Pure: the service evaluates and freezes it.

use std::collections::BTreeSet;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::channel::{Channel, ProductCategory};
use crate::consent::{ConsentRecord, ConsentStatus, Evidence, Source};
use crate::ids::{AdvertiserId, ContactPointId, OrgUnitId, PersonId};

/// Which consents' source counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceFilter {
    /// Collected by the tenant itself.
    FirstParty,
    /// From a third party (lead vendor, partner).
    ThirdParty,
}

/// The Robinson-list policy of a campaign (R31).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RobinsonPolicy {
    /// The campaign must be matched (prospects, bought data, postal campaigns on Art. 6(1)(f)).
    #[serde(default)]
    pub required: bool,
    /// The imported list to match against.
    #[serde(default)]
    pub list: Option<String>,
    /// The list may be at most this many days old (default 90).
    #[serde(default)]
    pub max_age_days: Option<u16>,
}

/// What a segment selects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SegmentSpec {
    /// Name shown in lists and exports.
    pub name: String,
    /// Channel of the campaign.
    pub channel: Channel,
    /// Advertiser on whose behalf.
    pub advertiser: AdvertiserId,
    /// Product categories advertised (purposes); every one must be covered.
    #[serde(default)]
    pub categories: BTreeSet<ProductCategory>,
    /// Only consents in these statuses (e.g. `ConsentUnknown` for a re-permission campaign;
    /// `ConsentGiven` also selects renewals, `RenewedConsentGiven`);
    /// empty: any status.
    #[serde(default)]
    pub statuses: Vec<crate::consent::ConsentStatus>,
    /// Only consents from this kind of source.
    #[serde(default)]
    pub source: Option<SourceFilter>,
    /// Only consents imported from this provider (as named in their import evidence).
    #[serde(default)]
    pub provider: Option<String>,
    /// Only consents given at or after.
    #[serde(default)]
    pub given_from: Option<Timestamp>,
    /// Only consents given before.
    #[serde(default)]
    pub given_to: Option<Timestamp>,
    /// Only persons of this org unit.
    #[serde(default)]
    pub org_unit: Option<OrgUnitId>,
    /// Staleness limit in months for this campaign's channel (R29; default 12 phone, 18 others).
    #[serde(default)]
    pub staleness_months: Option<u16>,
    /// Robinson-list matching (R31).
    #[serde(default)]
    pub robinson: RobinsonPolicy,
    /// Days an export of the frozen segment may be used (default 7): a dialer list expires.
    #[serde(default)]
    pub valid_days: Option<u16>,
}

impl SegmentSpec {
    /// Whether a consent of the person puts the contact point into the universe.
    pub fn selects(&self, c: &ConsentRecord) -> bool {
        c.scope.advertisers.contains(&self.advertiser)
            && c.scope.channels.contains(&self.channel)
            && self.source.is_none_or(|s| {
                matches!(
                    (s, &c.source),
                    (SourceFilter::FirstParty, Source::FirstParty)
                        | (SourceFilter::ThirdParty, Source::ThirdParty { .. })
                )
            })
            && self.provider.as_deref().is_none_or(|p| {
                c.evidence.iter().any(|e| matches!(e, Evidence::Import { provider, .. } if provider == p))
            })
            && (self.statuses.is_empty()
                || self.statuses.contains(&c.status)
                || (c.status == ConsentStatus::RenewedGiven && self.statuses.contains(&ConsentStatus::Given)))
            && self.given_from.is_none_or(|t| c.given_at >= t)
            && self.given_to.is_none_or(|t| c.given_at < t)
    }

    /// How long an export may be used after the segment was frozen.
    pub fn valid_until(&self, frozen_at: Timestamp) -> Timestamp {
        frozen_at + jiff::SignedDuration::from_hours(24 * i64::from(self.valid_days.unwrap_or(7)))
    }
}

/// One contact point of the universe, in or out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    /// Person.
    pub person_id: PersonId,
    /// Contact point the campaign would use.
    pub contact_point_id: ContactPointId,
    /// May be contacted.
    pub included: bool,
    /// Why not (gate reason codes), or the legal basis relied on when included.
    pub reasons: Vec<String>,
    /// Consents relied on when included.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub consents: Vec<crate::ids::ConsentId>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consent::testkit::*;

    fn spec() -> SegmentSpec {
        SegmentSpec {
            name: "Herbst".into(),
            channel: Channel::Email,
            advertiser: adv(1),
            categories: BTreeSet::new(),
            statuses: vec![],
            source: None,
            provider: None,
            given_from: None,
            given_to: None,
            org_unit: None,
            staleness_months: None,
            robinson: RobinsonPolicy::default(),
            valid_days: None,
        }
    }

    #[test]
    fn r29_the_universe_is_consents_naming_advertiser_and_channel_within_the_filters() {
        let mail = email_record();
        assert!(spec().selects(&mail));
        assert!(!SegmentSpec { advertiser: adv(2), ..spec() }.selects(&mail));
        assert!(!SegmentSpec { channel: Channel::Sms, ..spec() }.selects(&mail));
        assert!(!SegmentSpec { source: Some(SourceFilter::ThirdParty), ..spec() }.selects(&mail));
        assert!(SegmentSpec { source: Some(SourceFilter::FirstParty), ..spec() }.selects(&mail));
        assert!(!SegmentSpec { statuses: vec![crate::consent::ConsentStatus::Unknown], ..spec() }.selects(&mail));
        assert!(SegmentSpec { statuses: vec![crate::consent::ConsentStatus::Given], ..spec() }.selects(&mail));
        assert!(!SegmentSpec { given_from: Some(ts("2026-02-01T00:00:00Z")), ..spec() }.selects(&mail));
        assert!(SegmentSpec { given_to: Some(ts("2026-02-01T00:00:00Z")), ..spec() }.selects(&mail));
        assert!(!SegmentSpec { provider: Some("Mailchimp".into()), ..spec() }.selects(&mail));
        let mut imported = email_record();
        imported.evidence.push(import_evidence());
        assert!(SegmentSpec { provider: Some("Altbestand CRM".into()), ..spec() }.selects(&imported));
        let renewed = ConsentRecord { status: ConsentStatus::RenewedGiven, ..email_record() };
        assert!(
            SegmentSpec { statuses: vec![ConsentStatus::Given], ..spec() }.selects(&renewed),
            "a renewal is given too"
        );
        assert!(!SegmentSpec { statuses: vec![ConsentStatus::RenewedGiven], ..spec() }.selects(&mail));
    }

    #[test]
    fn a_frozen_list_is_valid_for_its_days() {
        let at = ts("2026-12-04T10:00:00Z");
        assert_eq!(spec().valid_until(at), ts("2026-12-11T10:00:00Z"));
        assert_eq!(SegmentSpec { valid_days: Some(1), ..spec() }.valid_until(at), ts("2026-12-05T10:00:00Z"));
    }
}
