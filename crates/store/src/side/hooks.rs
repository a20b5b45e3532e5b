//! Side rows of webhooks: endpoints (sealed secrets, never in the ledger) and the deliveries of
//! the events appended in the same transaction, one per subscribed endpoint.

use konsent_domain::ids::TenantId;
use konsent_domain::webhook::envelope;
use serde_json::{Map, Value};

use crate::db::Tx;
use crate::error::StoreError;
use crate::ledger::Appended;
use crate::vals;

/// An event of this append that receivers may be told about.
#[derive(Debug, Clone)]
pub struct HookItem {
    /// Its position among the appended events.
    pub event_index: usize,
    /// Event type, e.g. `consent.withdrawn`.
    pub event: &'static str,
    /// Its data (ids only); the envelope adds event id and ledger seq.
    pub data: Map<String, Value>,
}

/// A webhook row.
#[derive(Debug, Clone)]
pub enum WebhookWrite {
    /// Deliveries of these events to every live outgoing endpoint subscribed to their type.
    Deliveries(Vec<HookItem>),
    /// A new outgoing endpoint.
    Endpoint {
        /// Id.
        id: String,
        /// Receiver URL.
        url: String,
        /// Comma-framed event types (`,consent.given,…,`).
        events: String,
        /// Note for administrators.
        description: String,
        /// The signing secret, sealed.
        sealed_secret: Vec<u8>,
    },
    /// An outgoing endpoint goes; its pending deliveries are cancelled.
    EndpointDeleted {
        /// Id.
        id: String,
    },
    /// A new incoming endpoint.
    Inbound {
        /// SHA-256 of the URL token, hex.
        token_hash: String,
        /// Id.
        id: String,
        /// `mailchimp`, `hubspot`, `cleverreach`.
        provider: String,
        /// Advertiser ids, JSON array.
        advertisers: String,
        /// Note for administrators.
        description: String,
        /// The provider's secret, sealed; empty: none (yet).
        sealed_secret: Vec<u8>,
    },
    /// An incoming endpoint's provider secret is set.
    InboundSecret {
        /// Id.
        id: String,
        /// Sealed secret.
        sealed_secret: Vec<u8>,
    },
    /// An incoming endpoint goes.
    InboundDeleted {
        /// Id.
        id: String,
    },
}

const ENQUEUE: &str = "INSERT INTO webhook_deliveries (id, tenant_id, endpoint_id, event_type, ledger_seq, payload, \
    status, attempts, next_attempt_at, created_at, log) VALUES ($1, $2, $3, $4, $5, $6, 'pending', 0, $7, $7, '')";

/// The tenant's live outgoing endpoints with their comma-framed event types, read in the
/// appending transaction (so an endpoint registered by another instance counts at once).
async fn live_endpoints(tx: &mut Tx, tenant: TenantId) -> Result<Vec<(String, String)>, StoreError> {
    let rows = tx
        .fetch_all(
            "SELECT id, events FROM webhook_endpoints WHERE tenant_id = $1 AND deleted_at IS NULL ORDER BY id",
            vals![tenant],
        )
        .await?;
    rows.iter().map(|r| Ok((r.text(0)?, r.text(1)?))).collect()
}

pub(super) async fn write(
    tx: &mut Tx,
    tenant: TenantId,
    now: i64,
    w: WebhookWrite,
    appended: &[Appended],
) -> Result<u64, StoreError> {
    Ok(match w {
        WebhookWrite::Deliveries(items) => {
            // Most appends (an import's rows) have no receiver: one equality lookup, no envelope.
            let endpoints = live_endpoints(tx, tenant).await?;
            let mut n = 0;
            for it in items {
                let framed = format!(",{},", it.event);
                let to: Vec<&String> =
                    endpoints.iter().filter(|(_, events)| events.contains(&framed)).map(|(id, _)| id).collect();
                if to.is_empty() {
                    continue;
                }
                let a = appended
                    .get(it.event_index)
                    .ok_or_else(|| StoreError::Corrupt("webhook item names no appended event".into()))?;
                let at = jiff::Timestamp::from_microsecond(now).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                let body = envelope(it.event, &it.data, a.seq, &a.event_id.to_string(), at);
                // Stable per event and endpoint: the receiver deduplicates by it (webhook-id).
                let prefix = format!("msg_{}_", a.event_id.as_uuid().simple());
                for endpoint in to {
                    n += tx
                        .exec(
                            ENQUEUE,
                            vals![
                                format!("{prefix}{endpoint}"),
                                tenant,
                                endpoint.clone(),
                                it.event,
                                a.seq as i64,
                                body.clone(),
                                now
                            ],
                        )
                        .await?;
                }
            }
            n
        }
        WebhookWrite::Endpoint { id, url, events, description, sealed_secret } => {
            tx.exec(
                "INSERT INTO webhook_endpoints (tenant_id, id, url, events, description, sealed_secret, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
                vals![tenant, id, url, events, description, sealed_secret, now],
            )
            .await?
        }
        WebhookWrite::EndpointDeleted { id } => {
            let n = tx
                .exec(
                    "UPDATE webhook_endpoints SET deleted_at = $1 WHERE tenant_id = $2 AND id = $3 AND deleted_at IS NULL",
                    vals![now, tenant, id.clone()],
                )
                .await?;
            if n != 1 {
                return Err(StoreError::NotFound(format!("webhook {id}")));
            }
            tx.exec(
                "UPDATE webhook_deliveries SET status = 'cancelled' WHERE tenant_id = $1 AND endpoint_id = $2 \
                 AND status = 'pending'",
                vals![tenant, id],
            )
            .await?
        }
        WebhookWrite::Inbound { token_hash, id, provider, advertisers, description, sealed_secret } => {
            tx.exec(
                "INSERT INTO webhook_inbound (token_hash, tenant_id, id, provider, advertisers, description, \
                 sealed_secret, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                vals![token_hash, tenant, id, provider, advertisers, description, sealed_secret, now],
            )
            .await?
        }
        WebhookWrite::InboundSecret { id, sealed_secret } => {
            let n = tx
                .exec(
                    "UPDATE webhook_inbound SET sealed_secret = $1 WHERE tenant_id = $2 AND id = $3 AND deleted_at IS NULL",
                    vals![sealed_secret, tenant, id.clone()],
                )
                .await?;
            if n != 1 {
                return Err(StoreError::NotFound(format!("webhook {id}")));
            }
            n
        }
        WebhookWrite::InboundDeleted { id } => {
            let n = tx
                .exec(
                    "UPDATE webhook_inbound SET deleted_at = $1 WHERE tenant_id = $2 AND id = $3 AND deleted_at IS NULL",
                    vals![now, tenant, id.clone()],
                )
                .await?;
            if n != 1 {
                return Err(StoreError::NotFound(format!("webhook {id}")));
            }
            n
        }
    })
}
