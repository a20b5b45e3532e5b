//! The contact gate as a use case: "may I contact this contact point, on this channel, for this
//! advertiser, now?" Loads what is known (blind index → persons → consents, objections,
//! withdrawals, suppressions, documented bases), asks the pure domain gate, and signs the decision
//! snapshot so the use that relies on it can prove it (R28) without the check writing anything.

mod cache;
pub(crate) mod state;

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
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

/// Signs a snapshot: `base64url(json).base64url(hmac)`, without padding.
pub fn sign_snapshot(k: &Konsent, s: &DecisionSnapshot) -> String {
    let json = serde_json::to_vec(s).expect("snapshot serialises");
    let mac = hmac256(&token_key(k, s.tenant), &json);
    let mut token = URL_SAFE_NO_PAD.encode(&json);
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(mac, &mut token);
    token
}

/// Verifies a token of `tenant` and returns its snapshot; `None` when forged, altered or foreign.
pub fn verify_token(k: &Konsent, tenant: TenantId, token: &str) -> Option<DecisionSnapshot> {
    let (body, mac) = token.split_once('.')?;
    let json = URL_SAFE_NO_PAD.decode(body).ok()?;
    let mac = URL_SAFE_NO_PAD.decode(mac).ok()?;
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
        let key = self.keys.blind_index(tenant).index(&req.contact.match_key());
        let (state, advertisers) = self.key_state(tenant, &key, req.contact.kind()).await?;
        self.outcome(tenant, req, key, &state, &advertisers, self.now())
    }

    /// Decides many contacts at once (scrub, batch checks): what the cache does not hold is loaded
    /// in a few queries per 500 contacts. One answer per request, in order; a request naming an
    /// unknown advertiser gets its own error. Bulk loads are not kept in the cache, so a scrub of
    /// a million rows does not push out what single checks use.
    pub async fn check_many(
        &self,
        tenant: TenantId,
        reqs: &[CheckRequest],
    ) -> Result<Vec<Result<CheckOutcome, ServiceError>>, ServiceError> {
        let bi = self.keys.blind_index(tenant);
        let keys: Vec<String> = reqs.iter().map(|r| bi.index(&r.contact.match_key())).collect();
        let tc = self.gate_cache.tenant(tenant);
        let (advertisers, mut states) = {
            let mut c = tc.lock().await;
            let (_, advertisers) = self.sync_cache(tenant, &mut c).await?;
            let states: HashMap<String, Arc<KeyState>> =
                keys.iter().filter_map(|k| c.get(k).map(|s| (k.clone(), s))).collect();
            (advertisers, states)
        };
        let mut missing: Vec<(String, ContactKind)> = keys
            .iter()
            .zip(reqs)
            .filter(|(k, _)| !states.contains_key(*k))
            .map(|(k, r)| (k.clone(), r.contact.kind()))
            .collect();
        missing.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        missing.dedup_by(|a, b| a.0 == b.0);
        if !missing.is_empty() {
            for (k, s) in self.load_key_states(tenant, &missing).await? {
                states.insert(k, Arc::new(s));
            }
        }
        let now = self.now();
        Ok(reqs
            .iter()
            .zip(keys)
            .map(|(req, key)| {
                let state = states.get(&key).cloned().unwrap_or_default();
                self.outcome(tenant, req, key, &state, &advertisers, now)
            })
            .collect())
    }

    /// The decision for one request from the state of its key, signed.
    fn outcome(
        &self,
        tenant: TenantId,
        req: &CheckRequest,
        key: String,
        state: &KeyState,
        advertisers: &BTreeSet<AdvertiserId>,
        now: Timestamp,
    ) -> Result<CheckOutcome, ServiceError> {
        if !advertisers.contains(&req.advertiser) {
            // A misconfigured dialer must hear about it, not get a quiet "blocked".
            return Err(ServiceError::invalid(
                "advertiser_id",
                format!("kein Werbender {} in diesem Mandanten / no advertiser in this tenant", req.advertiser),
            ));
        }
        let gate_req = GateRequest {
            channel: req.channel,
            advertiser: req.advertiser,
            categories: req.categories.clone(),
            policy: req.policy.clone(),
            now,
        };
        let (decision, person_id, cp_id) = match state.evaluate(&gate_req) {
            Some((d, p, c)) => (d, Some(p), Some(c)),
            // Nobody known under this contact point: there is no basis to contact it.
            None => (unknown_contact(req, &state.suppressions, now), None, None),
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
    /// Brings the tenant's cache up to the chain head (the watch knows it without a query; only
    /// while the watch is not live is it read) and returns that head and the tenant's advertisers.
    async fn sync_cache(
        &self,
        tenant: TenantId,
        c: &mut cache::TenantCache,
    ) -> Result<(u64, Arc<BTreeSet<AdvertiserId>>), ServiceError> {
        let head = match self.heads.known(tenant) {
            Some(h) => h,
            None => queries::chain_head(&self.db, tenant).await?,
        };
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
        Ok((head, advertisers))
    }

    /// The state of a keyed hash: from the cache when the ledger shows nothing touched it since,
    /// else loaded from the store (and kept).
    async fn key_state(
        &self,
        tenant: TenantId,
        key: &str,
        kind: ContactKind,
    ) -> Result<(Arc<KeyState>, Arc<BTreeSet<AdvertiserId>>), ServiceError> {
        let tc = self.gate_cache.tenant(tenant);
        let (head, cached, advertisers) = {
            let mut c = tc.lock().await;
            let (head, advertisers) = self.sync_cache(tenant, &mut c).await?;
            (head, c.get(key), advertisers)
        };
        if let Some(s) = cached {
            return Ok((s, advertisers));
        }
        let mut loaded = self.load_key_states(tenant, &[(key.to_string(), kind)]).await?;
        let state = Arc::new(loaded.remove(key).unwrap_or_default());
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
        restricted: false,
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
