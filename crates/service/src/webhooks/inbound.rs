//! Incoming webhooks: a newsletter tool reports an unsubscribe, bounce or complaint. An
//! unsubscribe or complaint withdraws the e-mail consents bound to that address (for the
//! endpoint's advertisers) and suppresses the address; a bounce suppresses it. An address not
//! known here is suppressed all the same, so it is never imported again (R44, R63, R72).

use std::collections::BTreeSet;

use konsent_domain::channel::Channel;
use konsent_domain::consent::{ConsentStatus, Scope};
use konsent_domain::contact::{ContactKind, ContactValue};
use konsent_domain::crypto::sha256_hex;
use konsent_domain::ids::{AdvertiserId, SuppressionId, TenantId};
use konsent_domain::ledger::{Actor, EventBody};
use konsent_domain::suppression::{SuppressionEntry, SuppressionReason, SuppressionScope};
use konsent_domain::webhook::inbound::{Parsed, Provider, SignalKind, Subject};
use konsent_store::SideWrite;
use konsent_store::queries::{self, InboundRow};
use serde::Serialize;

use super::{InboundView, aad, secret_key, ts};
use crate::context::Konsent;
use crate::error::ServiceError;

/// An incoming endpoint, found by its URL token.
#[derive(Debug, Clone)]
pub struct InboundEndpoint {
    /// Tenant.
    pub tenant: TenantId,
    /// Id.
    pub id: String,
    /// Provider.
    pub provider: Provider,
    /// Whose e-mail consents an unsubscribe withdraws (empty: every advertiser).
    pub advertisers: BTreeSet<AdvertiserId>,
    /// The provider's signing secret, if set.
    pub secret: Option<String>,
}

/// What a call changed.
#[derive(Debug, Clone, Default, Serialize)]
pub struct InboundOutcome {
    /// Consents withdrawn (in part: e-mail).
    pub consents_withdrawn: usize,
    /// Suppression entries added.
    pub suppressions_added: usize,
    /// HubSpot contacts whose address is not known here (no `email` change was reported for them).
    pub unresolved: usize,
    /// Events understood and ignored.
    pub ignored: usize,
}

pub(super) fn view(r: InboundRow) -> Result<InboundView, ServiceError> {
    Ok(InboundView {
        advertisers: serde_json::from_str(&r.advertisers).map_err(konsent_store::StoreError::from)?,
        signing_secret_set: r.sealed_secret.is_some(),
        created_at: ts(r.created_at),
        id: r.id,
        provider: r.provider,
        description: r.description,
    })
}

impl Konsent {
    /// The live incoming endpoint of this provider with this URL token.
    pub async fn inbound_endpoint(
        &self,
        provider: Provider,
        token: &str,
    ) -> Result<Option<InboundEndpoint>, ServiceError> {
        if token.len() > 100 {
            return Ok(None);
        }
        let Some(r) = queries::webhook_inbound_by_token(&self.db, &sha256_hex(token.as_bytes())).await? else {
            return Ok(None);
        };
        if r.provider != provider.as_str() {
            return Ok(None);
        }
        let secret = match &r.sealed_secret {
            Some(s) => Some(
                String::from_utf8(secret_key(self).open(s, &aad(&r.tenant_id.to_string(), &r.id))?)
                    .map_err(|_| ServiceError::Conflict("stored secret is not text".into()))?,
            ),
            None => None,
        };
        Ok(Some(InboundEndpoint {
            tenant: r.tenant_id,
            advertisers: serde_json::from_str(&r.advertisers).map_err(konsent_store::StoreError::from)?,
            id: r.id,
            provider,
            secret,
        }))
    }

    /// Acts on a parsed call: learns HubSpot addresses (as keyed hashes), then withdraws and
    /// suppresses per signal.
    pub async fn apply_inbound(&self, ep: &InboundEndpoint, parsed: Parsed) -> Result<InboundOutcome, ServiceError> {
        let bi = self.keys.blind_index(ep.tenant);
        let now = self.now().as_microsecond();
        for (object, email) in &parsed.learned {
            let key = bi.index(&ContactValue::Email(email.clone()).match_key());
            queries::webhook_learn_contact(&self.db, &ep.id, object, &key, now).await?;
        }
        let mut out = InboundOutcome { ignored: parsed.ignored, ..Default::default() };
        for s in parsed.signals {
            let key = match &s.subject {
                Subject::Email(e) => bi.index(&ContactValue::Email(e.clone()).match_key()),
                Subject::HubspotContact(object) => {
                    match queries::webhook_contact_key(&self.db, &ep.id, object).await? {
                        Some(k) => k,
                        None => {
                            out.unresolved += 1;
                            tracing::warn!(webhook = %ep.id, "HubSpot opt-out for a contact whose address was never reported");
                            continue;
                        }
                    }
                }
            };
            let (w, a) = self.honour(ep, s.kind, &key).await?;
            out.consents_withdrawn += w;
            out.suppressions_added += a;
        }
        Ok(out)
    }

    /// One signal for the address with keyed hash `key`: withdrawals (unsubscribe, complaint) and
    /// the suppression entry, in one append. Returns (withdrawn, suppressions added).
    async fn honour(&self, ep: &InboundEndpoint, kind: SignalKind, key: &str) -> Result<(usize, usize), ServiceError> {
        let tenant = ep.tenant;
        let via = format!("webhook:{}", ep.provider.as_str());
        let now = self.now();
        let mut events = Vec::new();
        let mut side = Vec::new();
        if kind != SignalKind::Bounce {
            for (person, cp) in queries::persons_by_blind_index(&self.db, tenant, key).await? {
                for c in queries::consents_of(&self.db, tenant, person).await? {
                    let mine =
                        ep.advertisers.is_empty() || c.scope.advertisers.iter().any(|a| ep.advertisers.contains(a));
                    if c.status == ConsentStatus::Withdrawn
                        || !c.contact_points.contains(&cp)
                        || !c.scope.channels.contains(&Channel::Email)
                        || !mine
                    {
                        continue;
                    }
                    let email_only = c.scope.channels.len() == 1;
                    let all_mine = c.scope.advertisers.iter().all(|a| ep.advertisers.contains(a));
                    // Scopes are withdrawn dimension by dimension: e-mail for the endpoint's
                    // advertisers alone is expressible only when e-mail is all the consent covers;
                    // otherwise e-mail goes for every advertiser (more than asked, never less).
                    let delta = if !ep.advertisers.is_empty() && !all_mine && email_only {
                        Scope {
                            advertisers: c.scope.advertisers.intersection(&ep.advertisers).copied().collect(),
                            product_categories: BTreeSet::new(),
                            channels: BTreeSet::new(),
                        }
                    } else {
                        Scope {
                            advertisers: BTreeSet::new(),
                            product_categories: BTreeSet::new(),
                            channels: [Channel::Email].into(),
                        }
                    };
                    events.push(self.withdrawal_event(&Actor::System, c.id, Some(delta), &via, now));
                    side.push(SideWrite::CancelOutbox { person_ref: None, consent_ref: Some(c.id.to_string()) });
                }
            }
        }
        let withdrawn = events.len();
        let (reason, advertisers) = match kind {
            SignalKind::Unsubscribe => (SuppressionReason::Withdrawal, ep.advertisers.clone()),
            SignalKind::Complaint => (SuppressionReason::Complaint, BTreeSet::new()),
            // An undeliverable address is undeliverable for every advertiser.
            SignalKind::Bounce => (SuppressionReason::Bounce, BTreeSet::new()),
        };
        let scope = SuppressionScope { channels: [Channel::Email].into(), advertisers };
        let known = queries::suppressions_by_key(&self.db, tenant, key).await?;
        let added = !known.iter().any(|e| e.reason == reason && e.scope == scope);
        if added {
            let entry = SuppressionEntry {
                id: self.id(SuppressionId::from_parts),
                key_hmac: key.to_string(),
                key_kind: ContactKind::Email,
                scope,
                reason,
                created_at: now,
                source: via.clone(),
            };
            events.push(self.pending(&Actor::System, EventBody::SuppressionAdded { entry }));
        }
        if !events.is_empty() {
            self.append(tenant, events, side).await?;
        }
        tracing::info!(%tenant, webhook = %ep.id, ?kind, withdrawn, suppressed = added, "inbound webhook honoured");
        Ok((withdrawn, usize::from(added)))
    }
}
