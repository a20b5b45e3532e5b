//! Deliveries of outgoing webhooks: the events of an append become delivery rows in its
//! transaction; the jobs claim due ones, and each attempt is recorded (status code or error kind,
//! never a body) and retried with backoff until delivered or parked.

use std::collections::HashMap;

use jiff::{SignedDuration, Timestamp};
use konsent_domain::consent::ConsentRecord;
use konsent_domain::ids::{ConsentId, TenantId};
use konsent_domain::ledger::EventBody;
use konsent_domain::webhook::{backoff, outbound, secret_key};
use konsent_store::PendingEvent;
use konsent_store::queries::{self, DeliveryRow};
use konsent_store::side::HookItem;
use serde::Serialize;

use super::{aad, secret_key as sealing_key, ts};
use crate::context::Konsent;
use crate::error::ServiceError;

/// A claimed delivery with where it goes and the key that signs it.
#[derive(Debug)]
pub struct Claimed {
    /// The row.
    pub row: DeliveryRow,
    /// Receiver URL and signing key, or why they cannot be had.
    pub target: Result<(String, Vec<u8>), String>,
}

/// How an attempt went.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// 2xx.
    Delivered(u16),
    /// Another status code.
    Status(u16),
    /// No answer: `timeout`, `connect`, `refused_address`, `tls`, …
    Error(String),
}

/// A delivery as the API lists it (the payload holds ids only).
#[derive(Debug, Clone, Serialize)]
pub struct DeliveryView {
    /// Id (`webhook-id`).
    pub id: String,
    /// Endpoint.
    pub endpoint_id: String,
    /// Event type.
    pub event_type: String,
    /// Ledger seq of the event.
    pub ledger_seq: i64,
    /// pending, delivered, parked, cancelled.
    pub status: String,
    /// Attempts so far.
    pub attempts: i64,
    /// Next attempt (pending only).
    pub next_attempt_at: Option<Timestamp>,
    /// Enqueued.
    pub created_at: Timestamp,
    /// Delivered.
    pub delivered_at: Option<Timestamp>,
    /// Status code of the last attempt.
    pub last_status: Option<i64>,
    /// Error kind of the last attempt.
    pub last_error: Option<String>,
    /// One line per attempt.
    pub log: Vec<String>,
    /// The body as sent.
    pub payload: serde_json::Value,
}

/// How long a claimed delivery is held before another sender may try it.
const LEASE: SignedDuration = SignedDuration::from_secs(120);

impl Konsent {
    /// The delivery items of events about to be appended: their type and data, per event.
    pub(crate) async fn hook_items(
        &self,
        tenant: TenantId,
        events: &[PendingEvent],
    ) -> Result<Vec<HookItem>, ServiceError> {
        let mut recorded: HashMap<ConsentId, &ConsentRecord> = HashMap::new();
        let mut out = Vec::new();
        for (i, e) in events.iter().enumerate() {
            let named = match &e.body {
                EventBody::ConsentRecorded { consent } => {
                    recorded.insert(consent.id, consent);
                    None
                }
                EventBody::ConsentStatusChanged { consent_id, .. } | EventBody::ConsentWithdrawn { consent_id, .. } => {
                    Some(*consent_id)
                }
                _ => None,
            };
            let consent = match named {
                Some(id) => match recorded.get(&id) {
                    Some(c) => Some((*c).clone()),
                    None => queries::consent(&self.db, tenant, id).await?,
                },
                None => None,
            };
            if let Some((kind, data)) = outbound(&e.body, consent.as_ref()) {
                out.push(HookItem { event_index: i, event: kind.as_str(), data });
            }
        }
        Ok(out)
    }

    /// Claims due deliveries (each attempt counted) with their receiver and signing key.
    pub async fn claim_webhooks(&self, limit: i64) -> Result<Vec<Claimed>, ServiceError> {
        let now = self.now();
        let rows =
            queries::claim_webhook_deliveries(&self.db, now.as_microsecond(), LEASE.as_micros() as i64, limit).await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let target = match queries::webhook_endpoint(&self.db, row.tenant_id, &row.endpoint_id).await? {
                Some(e) => sealing_key(self)
                    .open(&e.sealed_secret, &aad(&row.tenant_id.to_string(), &e.id))
                    .map_err(|e| format!("cannot open the signing secret: {e}"))
                    .and_then(|s| {
                        let s = String::from_utf8(s).map_err(|_| "signing secret is not text".to_string())?;
                        secret_key(&s).ok_or_else(|| "signing secret is malformed".to_string())
                    })
                    .map(|key| (e.url, key)),
                None => Err("the endpoint is gone".into()),
            };
            out.push(Claimed { row, target });
        }
        Ok(out)
    }

    /// Records an attempt: delivered, due again after the backoff, or parked after the configured
    /// number of attempts.
    pub async fn webhook_attempted(&self, row: &DeliveryRow, outcome: &Outcome) -> Result<&'static str, ServiceError> {
        let now = self.now();
        let (code, error) = match outcome {
            Outcome::Delivered(c) | Outcome::Status(c) => (Some(i64::from(*c)), None),
            Outcome::Error(e) => (None, Some(e.as_str())),
        };
        let what = match (code, error) {
            (Some(c), _) => format!("HTTP {c}"),
            (None, Some(e)) => e.to_string(),
            (None, None) => "?".into(),
        };
        let (status, next) = match outcome {
            Outcome::Delivered(_) => ("delivered", now),
            _ if row.attempts >= i64::from(self.webhooks.max_attempts) => ("parked", now),
            _ => {
                let wait = backoff(row.attempts.clamp(1, 100) as u32, self.random::<1>()[0]);
                ("pending", now + wait)
            }
        };
        let line = format!("{} attempt {}: {what} → {status}", now, row.attempts);
        let attempt = queries::Attempt {
            status,
            next: next.as_microsecond(),
            now: now.as_microsecond(),
            code,
            error,
            log_line: &line,
        };
        queries::webhook_attempt(&self.db, &row.id, &attempt).await?;
        if status == "parked" {
            tracing::warn!(delivery = %row.id, attempts = row.attempts, "webhook delivery parked after its last attempt");
        }
        Ok(status)
    }

    /// The tenant's deliveries, newest first (at most 500), optionally of one status.
    pub async fn webhook_deliveries(
        &self,
        tenant: TenantId,
        status: Option<&str>,
    ) -> Result<Vec<DeliveryView>, ServiceError> {
        if let Some(s) = status
            && !matches!(s, "pending" | "delivered" | "parked" | "cancelled")
        {
            return Err(ServiceError::invalid("status", "eins von / one of pending, delivered, parked, cancelled"));
        }
        Ok(queries::webhook_deliveries(&self.db, tenant, status, 500)
            .await?
            .into_iter()
            .map(|r| DeliveryView {
                next_attempt_at: (r.status == "pending").then(|| ts(r.next_attempt_at)),
                payload: serde_json::from_slice(&r.payload).unwrap_or(serde_json::Value::Null),
                id: r.id,
                endpoint_id: r.endpoint_id,
                event_type: r.event_type,
                ledger_seq: r.ledger_seq,
                status: r.status,
                attempts: r.attempts,
                created_at: ts(r.created_at),
                delivered_at: r.delivered_at.map(ts),
                last_status: r.last_status,
                last_error: r.last_error,
                log: r.log.lines().map(str::to_string).collect(),
            })
            .collect())
    }

    /// Queues a parked or delivered delivery again, due now (same id and body: the receiver can
    /// tell it is the same message).
    pub async fn replay_webhook(&self, tenant: TenantId, id: &str) -> Result<(), ServiceError> {
        let now = self.now();
        if queries::webhook_replay(&self.db, tenant, id, now.as_microsecond(), &format!("{now} replayed")).await? {
            return Ok(());
        }
        if queries::webhook_delivery_exists(&self.db, tenant, id).await? {
            Err(ServiceError::Conflict("nur geparkte oder zugestellte Lieferungen an aktive Empfänger lassen sich wiederholen / only a parked or delivered delivery of a live endpoint can be replayed".into()))
        } else {
            Err(ServiceError::NotFound("delivery".into()))
        }
    }
}
