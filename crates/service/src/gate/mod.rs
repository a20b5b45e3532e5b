//! The contact gate as a use case: "may I contact this contact point, on this channel, for this
//! advertiser, now?" Loads what is known (blind index → persons → consents, objections,
//! withdrawals, suppressions, documented bases), asks the pure domain gate, and signs the decision
//! snapshot so the use that relies on it can prove it (R28) without the check writing anything.

mod cache;
mod state;

use std::collections::BTreeSet;
use std::sync::Arc;

use jiff::Timestamp;
use konsent_domain::basis::LegalBasis;
use konsent_domain::channel::{Channel, ProductCategory};
use konsent_domain::contact::{ContactKind, ContactValue};
use konsent_domain::crypto::hmac256;
use konsent_domain::gate::{CampaignPolicy, ContactPointRef, Decision, GateRequest, GateSubject, decide};
use konsent_domain::ids::{AdvertiserId, ConsentId, ContactPointId, PersonId, TenantId};
use konsent_domain::party::RecipientClass;
use konsent_store::queries;
use serde::{Deserialize, Serialize};

pub use cache::GateCache;
use state::KeyState;

use crate::context::Konsent;
use crate::error::ServiceError;

/// A question to the gate.
#[derive(Debug, Clone)]
pub struct CheckRequest {
    /// The contact point to be contacted.
    pub contact: ContactValue,
    /// Channel.
    pub channel: Channel,
    /// Advertiser.
    pub advertiser: AdvertiserId,
    /// Product categories advertised.
    pub categories: BTreeSet<ProductCategory>,
    /// Campaign policy.
    pub policy: CampaignPolicy,
    /// Campaign id (free text, recorded in the snapshot).
    pub campaign: Option<String>,
}

/// What a decision was based on; signed into the decision token and stored with the use (R28).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionSnapshot {
    /// Format version.
    pub v: u8,
    /// Tenant.
    pub tenant: TenantId,
    /// Keyed hash of the contact point (no clear text).
    pub contact_key: String,
    /// Person decided for, if known.
    pub person_id: Option<PersonId>,
    /// Contact point decided for, if known.
    pub contact_point_id: Option<ContactPointId>,
    /// Channel.
    pub channel: Channel,
    /// Advertiser.
    pub advertiser: AdvertiserId,
    /// Categories.
    pub categories: BTreeSet<ProductCategory>,
    /// Allowed?
    pub allowed: bool,
    /// Reason codes.
    pub reasons: Vec<String>,
    /// Legal basis relied on.
    pub legal_basis: Option<LegalBasis>,
    /// Consents relied on.
    pub relied_on: Vec<ConsentId>,
    /// Campaign.
    pub campaign: Option<String>,
    /// When decided.
    pub decided_at: Timestamp,
}

/// The gate's answer with its signed token.
#[derive(Debug, Clone)]
pub struct CheckOutcome {
    /// The decision (reasons with labels).
    pub decision: Decision,
    /// What was decided, as signed.
    pub snapshot: DecisionSnapshot,
    /// `base64url(snapshot).hex(hmac)`: present it when logging the use.
    pub token: String,
}

const TOKEN_PURPOSE: &[u8] = b"konsent-decision-token-v1\0";

fn token_key(k: &Konsent, tenant: TenantId) -> [u8; 32] {
    hmac256(&k.keys.master().derive(TOKEN_PURPOSE), tenant.as_uuid().as_bytes())
}

/// Signs a snapshot.
pub fn sign_snapshot(k: &Konsent, s: &DecisionSnapshot) -> String {
    let json = serde_json::to_vec(s).expect("snapshot serialises");
    let mac = hmac256(&token_key(k, s.tenant), &json);
    format!("{}.{}", hex::encode(&json), hex::encode(mac))
}

/// Verifies a token of `tenant` and returns its snapshot; `None` when forged, altered or foreign.
pub fn verify_token(k: &Konsent, tenant: TenantId, token: &str) -> Option<DecisionSnapshot> {
    let (body, mac) = token.split_once('.')?;
    let json = hex::decode(body).ok()?;
    let mac = hex::decode(mac).ok()?;
    let expected = hmac256(&token_key(k, tenant), &json);
    // Constant-time compare.
    if mac.len() != expected.len() || mac.iter().zip(expected.iter()).fold(0u8, |a, (x, y)| a | (x ^ y)) != 0 {
        return None;
    }
    let s: DecisionSnapshot = serde_json::from_slice(&json).ok()?;
    (s.tenant == tenant).then_some(s)
}

impl Konsent {
    /// Decides one contact. Writes nothing.
    pub async fn check(&self, tenant: TenantId, req: &CheckRequest) -> Result<CheckOutcome, ServiceError> {
        let now = self.now();
        let key = self.keys.blind_index(tenant).index(&req.contact.match_key());
        let gate_req = GateRequest {
            channel: req.channel,
            advertiser: req.advertiser,
            categories: req.categories.clone(),
            policy: req.policy.clone(),
            now,
        };
        let (state, advertisers) = self.key_state(tenant, &key, req.contact.kind()).await?;
        if !advertisers.contains(&req.advertiser) {
            // A misconfigured dialer must hear about it, not get a quiet "blocked".
            return Err(ServiceError::invalid(
                "advertiser_id",
                format!("no advertiser {} in this tenant", req.advertiser),
            ));
        }
        let best = state.evaluate(&gate_req);
        let suppressions = &state.suppressions;
        let (decision, person_id, cp_id) = match best {
            Some((d, p, c)) => (d, Some(p), Some(c)),
            None => {
                // Nobody known under this contact point: there is no basis to contact it.
                (unknown_contact(req, suppressions, now), None, None)
            }
        };
        let snapshot = DecisionSnapshot {
            v: 1,
            tenant,
            contact_key: key,
            person_id,
            contact_point_id: cp_id,
            channel: req.channel,
            advertiser: req.advertiser,
            categories: req.categories.clone(),
            allowed: decision.allowed,
            reasons: decision.codes().into_iter().map(str::to_string).collect(),
            legal_basis: decision.legal_basis,
            relied_on: decision.relied_on.clone(),
            campaign: req.campaign.clone(),
            decided_at: now,
        };
        let token = sign_snapshot(self, &snapshot);
        Ok(CheckOutcome { decision, snapshot, token })
    }
}

impl Konsent {
    /// The state of a keyed hash: from the cache when the ledger shows nothing touched it since,
    /// else loaded from the store.
    async fn key_state(
        &self,
        tenant: TenantId,
        key: &str,
        kind: ContactKind,
    ) -> Result<(Arc<KeyState>, Arc<BTreeSet<AdvertiserId>>), ServiceError> {
        // The watch knows the head without a query; only while it is not live is it read.
        let head = match self.heads.known(tenant) {
            Some(h) => h,
            None => queries::chain_head(&self.db, tenant).await?,
        };
        let tc = self.gate_cache.tenant(tenant);
        let cached = {
            let mut c = tc.lock().await;
            if head > c.head {
                if c.gap_too_long(head) {
                    c.clear();
                } else {
                    for (person, entry) in queries::ledger_delta(&self.db, tenant, c.head + 1, head).await? {
                        c.invalidate(person, entry.as_ref());
                    }
                }
                c.head = head;
            }
            let advertisers = match &c.advertisers {
                Some(a) => a.clone(),
                None => {
                    let a: Arc<BTreeSet<AdvertiserId>> =
                        Arc::new(queries::advertisers(&self.db, tenant).await?.into_iter().map(|a| a.id).collect());
                    c.advertisers = Some(a.clone());
                    a
                }
            };
            (c.get(key), advertisers)
        };
        let (cached, advertisers) = cached;
        if let Some(s) = cached {
            return Ok((s, advertisers));
        }
        let state = Arc::new(self.load_key_state(tenant, key, kind).await?);
        tc.lock().await.put(head, key.to_string(), state.clone());
        Ok((state, advertisers))
    }
}

/// The decision for a contact point no person is known under: blocked with `no_consent`
/// (plus `suppressed` when a suppression entry matches).
fn unknown_contact(
    req: &CheckRequest,
    suppressions: &[konsent_domain::suppression::SuppressionEntry],
    now: Timestamp,
) -> Decision {
    let no_one = GateSubject {
        recipient_class: RecipientClass::Consumer,
        age: None,
        contact_point: ContactPointRef {
            id: ContactPointId::from_uuid(uuid::Uuid::nil()),
            kind: req.contact.kind(),
            verified: false,
        },
        consents: &[],
        objections: &[],
        suppressions,
        existing_customer: &[],
        presumed_consent: &[],
        withdrawals: &[],
        completeness: &|_| Ok(()),
    };
    let mut d = decide(
        &no_one,
        &GateRequest {
            channel: req.channel,
            advertiser: req.advertiser,
            categories: req.categories.clone(),
            policy: req.policy.clone(),
            now,
        },
    );
    // Post to an unknown address would pass on legitimate interest; without a known person there is
    // no relation to rely on, so it is blocked as well.
    if d.allowed {
        d.allowed = false;
        d.legal_basis = None;
        d.reasons.push(konsent_domain::gate::Reason::NoConsent);
    }
    d
}
