//! Webhooks: the registry of outgoing endpoints (receivers of consent events, signed Standard
//! Webhooks style) and incoming ones (newsletter tools' unsubscribes, bounces, complaints). The
//! secrets are sealed under a key derived from the master key and never enter the ledger; the
//! ledger records that an endpoint was created or deleted.

mod deliveries;
mod inbound;

use std::collections::BTreeSet;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jiff::Timestamp;
use konsent_domain::crypto::{DataKey, sha256_hex};
use konsent_domain::ids::{AdvertiserId, TenantId};
use konsent_domain::ledger::{Actor, EventBody};
use konsent_domain::webhook::inbound::Provider;
use konsent_domain::webhook::{HookEvent, HookUrl, secret_string};
use konsent_store::side::WebhookWrite;
use konsent_store::{SideWrite, queries};
use serde::Serialize;

pub use deliveries::{Claimed, DeliveryView, Outcome};
pub use inbound::{InboundEndpoint, InboundOutcome};

use crate::context::Konsent;
use crate::error::ServiceError;

/// An outgoing endpoint as the API shows it (never its secret).
#[derive(Debug, Clone, Serialize)]
pub struct EndpointView {
    /// Id.
    pub id: String,
    /// Receiver URL.
    pub url: String,
    /// Event types.
    pub events: Vec<String>,
    /// Note.
    pub description: String,
    /// Created.
    pub created_at: Timestamp,
}

/// An incoming endpoint as the API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct InboundView {
    /// Id.
    pub id: String,
    /// `mailchimp`, `hubspot`, `cleverreach`.
    pub provider: String,
    /// Whose e-mail consents an unsubscribe withdraws (empty: every advertiser).
    pub advertisers: Vec<AdvertiserId>,
    /// Note.
    pub description: String,
    /// Whether the provider's signing secret (HubSpot client secret, CleverReach call token) is set.
    pub signing_secret_set: bool,
    /// Created.
    pub created_at: Timestamp,
}

/// A new incoming endpoint: where the provider is to call, shown once.
#[derive(Debug, Clone, Serialize)]
pub struct NewInbound {
    /// The endpoint.
    #[serde(flatten)]
    pub view: InboundView,
    /// The URL to enter at the provider (its last segment is the secret token).
    pub url: String,
    /// CleverReach only: the `verify` token to give when registering the hook.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verify_token: Option<String>,
}

pub(crate) fn secret_key(k: &Konsent) -> DataKey {
    DataKey::from_bytes(k.keys.master().derive(b"konsent-webhook-secret-v1"))
}

pub(crate) fn aad(tenant: &str, id: &str) -> Vec<u8> {
    format!("{tenant}/{id}").into_bytes()
}

fn ts(us: i64) -> Timestamp {
    Timestamp::from_microsecond(us).unwrap_or(Timestamp::UNIX_EPOCH)
}

impl Konsent {
    fn webhook_id(&self, prefix: &str) -> String {
        format!("{prefix}_{}", hex::encode(self.random::<10>()))
    }

    /// Checks a receiver URL against the operator's policy: scheme, and every address its host
    /// resolves to now (a name is resolved again at every delivery).
    pub async fn check_receiver_url(&self, raw: &str) -> Result<HookUrl, ServiceError> {
        let url = HookUrl::parse(raw).map_err(|m| ServiceError::invalid("url", m))?;
        self.webhooks.check_url(&url).map_err(|m| ServiceError::invalid("url", m))?;
        if url.ip().is_none() {
            let lookup = tokio::net::lookup_host((url.host.as_str(), url.port));
            let addrs = tokio::time::timeout(std::time::Duration::from_secs(5), lookup)
                .await
                .ok()
                .and_then(Result::ok)
                .ok_or_else(|| {
                    ServiceError::invalid(
                        "url",
                        "der Hostname lässt sich nicht auflösen / the host name does not resolve",
                    )
                })?;
            for a in addrs {
                self.webhooks.check_ip(a.ip()).map_err(|m| ServiceError::invalid("url", m))?;
            }
        }
        Ok(url)
    }

    /// Registers an outgoing endpoint; returns it with its signing secret (`whsec_…`), which is
    /// shown only now.
    pub async fn create_webhook(
        &self,
        tenant: TenantId,
        actor: &Actor,
        url: &str,
        events: &[String],
        description: &str,
    ) -> Result<(EndpointView, String), ServiceError> {
        let mut errors = Vec::new();
        let parsed = match self.check_receiver_url(url).await {
            Ok(u) => Some(u),
            Err(ServiceError::Invalid(e)) => {
                errors.extend(e);
                None
            }
            Err(e) => return Err(e),
        };
        let mut kinds = BTreeSet::new();
        if events.is_empty() {
            errors.push(crate::FieldError { field: "events".into(), message: "name at least one event type".into() });
        }
        for (i, e) in events.iter().enumerate() {
            match e.parse::<HookEvent>() {
                Ok(k) => {
                    kinds.insert(k);
                }
                Err(m) => errors.push(crate::FieldError { field: format!("events[{i}]"), message: m }),
            }
        }
        if description.chars().count() > 200 {
            errors.push(crate::FieldError { field: "description".into(), message: "at most 200 characters".into() });
        }
        let Some(parsed) = parsed.filter(|_| errors.is_empty()) else { return Err(ServiceError::Invalid(errors)) };
        let id = self.webhook_id("wh");
        let key: [u8; 32] = self.random();
        let secret = secret_string(&key);
        let sealed = secret_key(self).seal(self.random(), secret.as_bytes(), &aad(&tenant.to_string(), &id));
        let events: Vec<String> = kinds.iter().map(|k| k.as_str().to_string()).collect();
        let scheme = if parsed.https { "https" } else { "http" };
        let host = if parsed.ip().is_some_and(|i| i.is_ipv6()) { format!("[{}]", parsed.host) } else { parsed.host };
        let ev = self.pending(
            actor,
            EventBody::WebhookCreated {
                webhook_id: id.clone(),
                direction: "out".into(),
                target: format!("{scheme}://{host}:{}", parsed.port),
                events: events.clone(),
                advertisers: BTreeSet::new(),
            },
        );
        let side = SideWrite::Webhook(WebhookWrite::Endpoint {
            id: id.clone(),
            url: url.to_string(),
            events: format!(",{},", events.join(",")),
            description: description.to_string(),
            sealed_secret: sealed,
        });
        self.append(tenant, vec![ev], vec![side]).await?;
        tracing::info!(%tenant, webhook = %id, "webhook endpoint created");
        let view =
            EndpointView { id, url: url.to_string(), events, description: description.into(), created_at: self.now() };
        Ok((view, secret))
    }

    /// The tenant's outgoing endpoints.
    pub async fn webhooks(&self, tenant: TenantId) -> Result<Vec<EndpointView>, ServiceError> {
        Ok(queries::webhook_endpoints(&self.db, tenant)
            .await?
            .into_iter()
            .map(|r| EndpointView {
                id: r.id,
                url: r.url,
                events: r.events,
                description: r.description,
                created_at: ts(r.created_at),
            })
            .collect())
    }

    /// Deletes an outgoing endpoint; what is still pending for it is cancelled.
    pub async fn delete_webhook(&self, tenant: TenantId, actor: &Actor, id: &str) -> Result<(), ServiceError> {
        if !queries::webhook_endpoints(&self.db, tenant).await?.iter().any(|e| e.id == id) {
            return Err(ServiceError::NotFound("webhook".into()));
        }
        let ev = self.pending(actor, EventBody::WebhookDeleted { webhook_id: id.into(), direction: "out".into() });
        let side = SideWrite::Webhook(WebhookWrite::EndpointDeleted { id: id.into() });
        self.append(tenant, vec![ev], vec![side]).await?;
        Ok(())
    }

    /// Registers an incoming endpoint for a newsletter tool; returns the URL to give the tool
    /// (with its token, shown only now).
    pub async fn create_inbound(
        &self,
        tenant: TenantId,
        actor: &Actor,
        provider: Provider,
        advertisers: BTreeSet<AdvertiserId>,
        signing_secret: Option<&str>,
        description: &str,
    ) -> Result<NewInbound, ServiceError> {
        let known: BTreeSet<AdvertiserId> =
            queries::advertisers(&self.db, tenant).await?.into_iter().map(|a| a.id).collect();
        if let Some(a) = advertisers.iter().find(|a| !known.contains(a)) {
            return Err(ServiceError::invalid(
                "advertisers",
                format!("kein Werbender {a} in diesem Mandanten / no advertiser {a} in this tenant"),
            ));
        }
        if description.chars().count() > 200 {
            return Err(ServiceError::invalid("description", "höchstens 200 Zeichen / at most 200 characters"));
        }
        if signing_secret.is_some_and(|s| s.is_empty() || s.len() > 200) {
            return Err(ServiceError::invalid("signing_secret", "1 bis 200 Zeichen / 1 to 200 characters"));
        }
        let id = self.webhook_id("whin");
        let token = URL_SAFE_NO_PAD.encode(self.random::<24>());
        let sealed = signing_secret
            .map(|s| secret_key(self).seal(self.random(), s.as_bytes(), &aad(&tenant.to_string(), &id)))
            .unwrap_or_default();
        let ev = self.pending(
            actor,
            EventBody::WebhookCreated {
                webhook_id: id.clone(),
                direction: "in".into(),
                target: provider.as_str().into(),
                events: vec![],
                advertisers: advertisers.clone(),
            },
        );
        let side = SideWrite::Webhook(WebhookWrite::Inbound {
            token_hash: sha256_hex(token.as_bytes()),
            id: id.clone(),
            provider: provider.as_str().into(),
            advertisers: serde_json::to_string(&advertisers).expect("ids serialise"),
            description: description.into(),
            sealed_secret: sealed,
        });
        self.append(tenant, vec![ev], vec![side]).await?;
        let base = self.public_url.trim_end_matches('/');
        let verify_token = (provider == Provider::Cleverreach).then(|| self.cleverreach_verify_token(&id));
        Ok(NewInbound {
            view: InboundView {
                id,
                provider: provider.as_str().into(),
                advertisers: advertisers.into_iter().collect(),
                description: description.into(),
                signing_secret_set: signing_secret.is_some(),
                created_at: self.now(),
            },
            url: format!("{base}/hooks/in/{}/{token}", provider.as_str()),
            verify_token,
        })
    }

    /// The `verify` token of a CleverReach hook: derived, so nothing more is stored.
    pub fn cleverreach_verify_token(&self, inbound_id: &str) -> String {
        let key = self.keys.master().derive(b"konsent-cleverreach-verify-v1");
        hex::encode(&konsent_domain::crypto::hmac256(&key, inbound_id.as_bytes())[..16])
    }

    /// The tenant's incoming endpoints.
    pub async fn inbound_webhooks(&self, tenant: TenantId) -> Result<Vec<InboundView>, ServiceError> {
        queries::webhook_inbound_list(&self.db, tenant).await?.into_iter().map(inbound::view).collect()
    }

    /// Sets or replaces the provider's signing secret of an incoming endpoint (CleverReach's call
    /// token arrives only after the hook is registered).
    pub async fn set_inbound_secret(
        &self,
        tenant: TenantId,
        actor: &Actor,
        id: &str,
        secret: &str,
    ) -> Result<(), ServiceError> {
        if secret.is_empty() || secret.len() > 200 {
            return Err(ServiceError::invalid("signing_secret", "1 bis 200 Zeichen / 1 to 200 characters"));
        }
        queries::webhook_inbound(&self.db, tenant, id)
            .await?
            .ok_or_else(|| ServiceError::NotFound("webhook".into()))?;
        let sealed = secret_key(self).seal(self.random(), secret.as_bytes(), &aad(&tenant.to_string(), id));
        let ev = self.pending(actor, EventBody::WebhookSecretSet { webhook_id: id.into() });
        let side = SideWrite::Webhook(WebhookWrite::InboundSecret { id: id.into(), sealed_secret: sealed });
        self.append(tenant, vec![ev], vec![side]).await?;
        Ok(())
    }

    /// Deletes an incoming endpoint: its URL answers 404 from now on.
    pub async fn delete_inbound(&self, tenant: TenantId, actor: &Actor, id: &str) -> Result<(), ServiceError> {
        queries::webhook_inbound(&self.db, tenant, id)
            .await?
            .ok_or_else(|| ServiceError::NotFound("webhook".into()))?;
        let ev = self.pending(actor, EventBody::WebhookDeleted { webhook_id: id.into(), direction: "in".into() });
        let side = SideWrite::Webhook(WebhookWrite::InboundDeleted { id: id.into() });
        self.append(tenant, vec![ev], vec![side]).await?;
        Ok(())
    }
}
