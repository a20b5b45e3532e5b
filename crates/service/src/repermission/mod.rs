//! Re-permission (R29, R43): consents of an advertiser that are Unknown (legacy, imported without
//! proof) or will turn stale within a window, each with the channel a request may use: e-mail
//! only where the gate allows e-mail advertising now, else a text message where it allows SMS
//! advertising now (for the channels of a number), post where an address is known and no
//! objection covers it, never a call. Sending ([`send`]) creates a new consent under the current
//! text version, confirmed by the person's click in one message per person (the old record stays
//! as it is); a renewed phone, SMS or messenger consent becomes usable only after the number is
//! verified by a text-message code on the page the click opens.

mod send;

pub use send::RepermissionSent;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use jiff::{SignedDuration, Timestamp};
use konsent_domain::channel::Channel;
use konsent_domain::consent::{ConsentRecord, ConsentStatus};
use konsent_domain::contact::ContactKind;
use konsent_domain::gate::{CampaignPolicy, GateRequest};
use konsent_domain::ids::{AdvertiserId, ConsentId, ContactPointId, PersonId, TenantId};
use konsent_formats::export::Letter;
use konsent_store::queries;
use serde::Serialize;

use crate::context::Konsent;
use crate::error::ServiceError;

/// Which consents a re-permission run looks at, and by what limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepermissionScope {
    /// The advertiser whose consents are renewed.
    pub advertiser: AdvertiserId,
    /// Days ahead to look for consents turning stale.
    pub within_days: u16,
    /// The campaign's staleness limits in months per channel (R29); a channel not named keeps the
    /// default (12 months for calls, 18 for e-mail, SMS and messenger).
    pub staleness_months: BTreeMap<Channel, u16>,
}

/// Days ahead a re-permission run looks for consents turning stale, unless told otherwise.
pub const WITHIN_DAYS: u16 = 60;

impl RepermissionScope {
    /// The policy the plan decides by: the defaults with the campaign's limits over them.
    fn policy(&self) -> CampaignPolicy {
        let mut p = CampaignPolicy::default();
        p.staleness_months.extend(self.staleness_months.iter().map(|(c, m)| (*c, *m)));
        p
    }
}

/// One consent to renew and how the request may reach the person.
#[derive(Debug, Clone, Serialize)]
pub struct Candidate {
    /// The consent to renew.
    pub consent_id: ConsentId,
    /// Its person.
    pub person_id: PersonId,
    /// Its channels.
    pub channels: BTreeSet<Channel>,
    /// `unknown` (no usable proof, R25/R26), `stale` (unused beyond the limit) or
    /// `nearing_staleness` (will be within the window, R29).
    pub why: &'static str,
    /// When it turns (or turned) stale.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stale_at: Option<Timestamp>,
    /// `email` (a valid e-mail consent carries the request), `sms` (no e-mail route, but a valid
    /// SMS consent carries it; only for consents with a phone, SMS or messenger channel, which the
    /// renewal then covers) or `post` (an address, no objection); none when no channel has a
    /// legal basis (R43).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub route: Option<&'static str>,
    /// The e-mail or SMS consent the request relies on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub via_consent: Option<ConsentId>,
    /// The address or number the request goes to, which that consent allows now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub via_contact_point: Option<ContactPointId>,
}

/// The candidates of one advertiser.
#[derive(Debug, Clone, Serialize)]
pub struct RepermissionPlan {
    /// Advertiser.
    pub advertiser: AdvertiserId,
    /// Window in days.
    pub within_days: u16,
    /// The staleness limits applied, in months per channel (R29).
    pub staleness_months: BTreeMap<Channel, u16>,
    /// Candidates.
    pub candidates: Vec<Candidate>,
    /// Count by route (`email`, `sms`, `post`, `none`).
    pub by_route: BTreeMap<String, u64>,
}

/// The ways a request may reach one person: the consent and address or number the gate allows
/// by e-mail and by SMS, and whether a letter may go.
#[derive(Clone, Copy)]
struct Routes {
    email: Option<(ConsentId, ContactPointId)>,
    sms: Option<(ConsentId, ContactPointId)>,
    post: bool,
}

/// When the consent turns stale on the first of its channels to do so.
fn stale_at(policy: &CampaignPolicy, c: &ConsentRecord) -> Option<Timestamp> {
    let anchor = konsent_domain::gate::staleness_anchor(c);
    c.scope.channels.iter().filter_map(|ch| policy.stale_after(*ch, anchor)).min()
}

impl Konsent {
    /// The consents of the advertiser to renew within the window; see the module documentation.
    pub async fn repermission_plan(
        &self,
        tenant: TenantId,
        scope: &RepermissionScope,
    ) -> Result<RepermissionPlan, ServiceError> {
        let (advertiser, within_days) = (scope.advertiser, scope.within_days);
        if let Some((ch, _)) = scope.staleness_months.iter().find(|(_, m)| !(1..=120).contains(*m)) {
            return Err(ServiceError::invalid(
                "staleness_months",
                format!("{}: 1 bis 120 Monate / 1 to 120 months", ch.as_str()),
            ));
        }
        if !queries::advertisers(&self.db, tenant).await?.iter().any(|a| a.id == advertiser) {
            return Err(ServiceError::invalid(
                "advertiser",
                format!("kein Werbender {advertiser} in diesem Mandanten / no advertiser {advertiser} in this tenant"),
            ));
        }
        let now = self.now();
        let horizon = now + SignedDuration::from_hours(24 * i64::from(within_days));
        let policy = scope.policy();
        let mut found: Vec<(ConsentRecord, &'static str, Option<Timestamp>)> = Vec::new();
        // Consents already renewed, or whose renewal still waits for its click: asked once.
        let mut renewed: HashSet<ConsentId> = HashSet::new();
        let mut cursor = None;
        loop {
            let page = queries::consents_page(&self.db, tenant, 0, cursor, 1000).await?;
            for c in page.items {
                if let Some(old) = c.renews
                    && (c.status.is_valid_for_processing()
                        || (c.status == ConsentStatus::Requested && now < c.recorded_at + crate::doi::TOKEN_VALIDITY))
                {
                    renewed.insert(old);
                }
                if !c.scope.advertisers.contains(&advertiser) {
                    continue;
                }
                let at = stale_at(&policy, &c);
                let why = match c.status {
                    ConsentStatus::Unknown => "unknown",
                    s if s.is_valid_for_processing() => match at {
                        Some(t) if t <= now => "stale",
                        Some(t) if t <= horizon => "nearing_staleness",
                        _ => continue,
                    },
                    _ => continue,
                };
                found.push((c, why, at));
            }
            match page.next {
                Some(n) => cursor = Some(n),
                None => break,
            }
        }
        let mut candidates = Vec::new();
        // Per person, once: restricted (R47), the e-mail and SMS bases, whether a letter may go.
        let mut people: HashMap<PersonId, Option<Routes>> = HashMap::new();
        for (c, why, at) in found.into_iter().filter(|(c, ..)| !renewed.contains(&c.id)) {
            let routes = match people.get(&c.person_id) {
                Some(r) => *r,
                None if queries::restriction(&self.db, tenant, c.person_id).await?.is_some() => {
                    people.insert(c.person_id, None);
                    None
                }
                None => {
                    let email = self.basis(tenant, c.person_id, advertiser, &policy, now, Channel::Email).await?;
                    let sms = match email {
                        Some(_) => None,
                        // Only to a number text messages may go to (`sms.allowed_prefixes`).
                        None => match self.basis(tenant, c.person_id, advertiser, &policy, now, Channel::Sms).await? {
                            Some((via, cp)) if self.texts_allowed(tenant, c.person_id, cp).await? => Some((via, cp)),
                            _ => None,
                        },
                    };
                    // A letter is the route only where no e-mail consent carries the request.
                    let post = email.is_none() && self.post_allowed(tenant, c.person_id, advertiser).await?;
                    let r = Some(Routes { email, sms, post });
                    people.insert(c.person_id, r);
                    r
                }
            };
            let Some(Routes { email: by_email, sms: by_sms, post }) = routes else { continue };
            // A text message can renew only the channels of the number it goes to: another
            // number would get the code, an e-mail channel would need its own double opt-in.
            let by_number = c.scope.channels.iter().any(|ch| ch.contact_kind() == ContactKind::Phone);
            let (route, via) = match (by_email, by_sms) {
                (Some(v), _) => (Some("email"), Some(v)),
                (None, Some(v)) if by_number && c.contact_points.contains(&v.1) => (Some("sms"), Some(v)),
                _ if post => (Some("post"), None),
                _ => (None, None),
            };
            candidates.push(Candidate {
                consent_id: c.id,
                person_id: c.person_id,
                channels: c.scope.channels.clone(),
                why,
                stale_at: at,
                route,
                via_consent: via.map(|v| v.0),
                via_contact_point: via.map(|v| v.1),
            });
        }
        let mut by_route = BTreeMap::new();
        for c in &candidates {
            *by_route.entry(c.route.unwrap_or("none").to_string()).or_default() += 1;
        }
        Ok(RepermissionPlan {
            advertiser,
            within_days,
            staleness_months: policy.staleness_months.clone(),
            candidates,
            by_route,
        })
    }

    /// The consent the gate relies on for advertising to the person on `channel` (e-mail or SMS)
    /// now, for the advertiser, and the address or number it allows (not one that is suppressed).
    async fn basis(
        &self,
        tenant: TenantId,
        person: PersonId,
        advertiser: AdvertiserId,
        policy: &CampaignPolicy,
        now: Timestamp,
        channel: Channel,
    ) -> Result<Option<(ConsentId, ContactPointId)>, ServiceError> {
        let kind = channel.contact_kind();
        let points: Vec<(String, ContactPointId)> = queries::contact_points(&self.db, tenant, person)
            .await?
            .into_iter()
            .filter(|c| c.kind == kind.as_str())
            .map(|c| (c.blind_index, c.id))
            .collect();
        let keys: Vec<(String, ContactKind)> = points.iter().map(|(b, _)| (b.clone(), kind)).collect();
        let req = GateRequest { channel, advertiser, categories: BTreeSet::new(), policy: policy.clone(), now };
        let states = self.load_key_states(tenant, &keys).await?;
        for (blind, cp) in &points {
            let Some(state) = states.get(blind) else { continue };
            for p in state.persons.iter().filter(|p| p.person_id == person) {
                let d = p.decide(&state.suppressions, &req);
                if d.allowed
                    && let Some(c) = d.relied_on.first()
                {
                    return Ok(Some((*c, *cp)));
                }
            }
        }
        Ok(None)
    }

    /// Whether text messages may go to the number of contact point `cp` (`sms.allowed_prefixes`).
    async fn texts_allowed(
        &self,
        tenant: TenantId,
        person: PersonId,
        cp: ContactPointId,
    ) -> Result<bool, ServiceError> {
        Ok(matches!(
            self.contact_value(tenant, person, cp).await?,
            Some(konsent_domain::contact::ContactValue::Phone(p)) if self.check_sms_number(&p).is_ok()
        ))
    }

    /// A letter may go: an address is known and no objection covers post for the advertiser (R37).
    async fn post_allowed(
        &self,
        tenant: TenantId,
        person: PersonId,
        advertiser: AdvertiserId,
    ) -> Result<bool, ServiceError> {
        let has_address = self.person_data(tenant, person).await?.is_some_and(|d| d.address.is_some());
        let objected = queries::objections_of(&self.db, tenant, person).await?.iter().any(|o| {
            matches!(o, konsent_domain::ledger::EventBody::ObjectionRecorded { channels, advertisers, .. }
                    if (channels.is_empty() || channels.contains(&Channel::Post))
                        && (advertisers.is_empty() || advertisers.contains(&advertiser)))
        });
        Ok(has_address && !objected)
    }

    /// The letters of the plan: one per person whose request may only go by post, with the name,
    /// the address and the consents to renew, for a mail merge. The reply comes back on paper
    /// and is captured like any paper consent.
    pub async fn repermission_letters(
        &self,
        tenant: TenantId,
        scope: &RepermissionScope,
    ) -> Result<Vec<Letter>, ServiceError> {
        let advertiser = scope.advertiser;
        let plan = self.repermission_plan(tenant, scope).await?;
        let name = self.advertiser_name(tenant, advertiser).await?;
        let mut letters: Vec<Letter> = Vec::new();
        let mut at: HashMap<PersonId, usize> = HashMap::new();
        for c in plan.candidates.iter().filter(|c| c.route == Some("post")) {
            if let Some(&i) = at.get(&c.person_id) {
                let l = &mut letters[i];
                l.consent_ids.push(c.consent_id.to_string());
                for ch in &c.channels {
                    if !l.channels.iter().any(|x| x == ch.as_str()) {
                        l.channels.push(ch.as_str().to_string());
                    }
                }
                continue;
            }
            let Some(d) = self.person_data(tenant, c.person_id).await? else { continue };
            let Some(a) = d.address else { continue };
            at.insert(c.person_id, letters.len());
            letters.push(Letter {
                person_id: c.person_id.to_string(),
                first_name: d.first_name,
                last_name: d.last_name,
                street: a.street,
                postcode: a.postcode,
                city: a.city,
                country: a.country,
                advertiser: name.clone(),
                consent_ids: vec![c.consent_id.to_string()],
                channels: c.channels.iter().map(|ch| ch.as_str().to_string()).collect(),
            });
        }
        Ok(letters)
    }
}
