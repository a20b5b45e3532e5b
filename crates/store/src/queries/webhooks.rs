//! Webhooks: outgoing endpoints and their deliveries (claiming due ones, recording attempts,
//! listing, replaying), incoming endpoints by token, and HubSpot object ids learned per endpoint.

use konsent_domain::ids::TenantId;

use crate::db::{Db, Engine, Row};
use crate::error::StoreError;
use crate::vals;

/// An outgoing endpoint.
#[derive(Debug, Clone)]
pub struct EndpointRow {
    /// Id.
    pub id: String,
    /// Receiver URL.
    pub url: String,
    /// Event types subscribed to.
    pub events: Vec<String>,
    /// Note.
    pub description: String,
    /// Sealed signing secret.
    pub sealed_secret: Vec<u8>,
    /// Created (µs).
    pub created_at: i64,
}

macro_rules! endpoint_sql {
    ($rest:literal) => {
        concat!("SELECT id, url, events, description, sealed_secret, created_at FROM webhook_endpoints ", $rest)
    };
}

fn endpoint(r: &Row) -> Result<EndpointRow, StoreError> {
    Ok(EndpointRow {
        id: r.text(0)?,
        url: r.text(1)?,
        events: r.text(2)?.split(',').filter(|e| !e.is_empty()).map(str::to_string).collect(),
        description: r.text(3)?,
        sealed_secret: r.bytes(4)?,
        created_at: r.i64(5)?,
    })
}

/// The live outgoing endpoints of a tenant, oldest first.
pub async fn webhook_endpoints(db: &Db, tenant: TenantId) -> Result<Vec<EndpointRow>, StoreError> {
    let sql = endpoint_sql!("WHERE tenant_id = $1 AND deleted_at IS NULL ORDER BY created_at, id");
    db.fetch_all(sql, vals![tenant]).await?.iter().map(endpoint).collect()
}

/// One outgoing endpoint (also a deleted one: its deliveries may still be listed).
pub async fn webhook_endpoint(db: &Db, tenant: TenantId, id: &str) -> Result<Option<EndpointRow>, StoreError> {
    let sql = endpoint_sql!("WHERE tenant_id = $1 AND id = $2");
    db.fetch_optional(sql, vals![tenant, id]).await?.as_ref().map(endpoint).transpose()
}

/// A delivery.
#[derive(Debug, Clone)]
pub struct DeliveryRow {
    /// Id (the `webhook-id` header).
    pub id: String,
    /// Tenant.
    pub tenant_id: TenantId,
    /// Endpoint.
    pub endpoint_id: String,
    /// Event type.
    pub event_type: String,
    /// Seq of the ledger entry it reports.
    pub ledger_seq: i64,
    /// The body.
    pub payload: Vec<u8>,
    /// pending, delivered, parked, cancelled.
    pub status: String,
    /// Attempts so far.
    pub attempts: i64,
    /// Next attempt (µs).
    pub next_attempt_at: i64,
    /// Enqueued (µs).
    pub created_at: i64,
    /// Delivered (µs).
    pub delivered_at: Option<i64>,
    /// Status code of the last attempt.
    pub last_status: Option<i64>,
    /// Error kind of the last attempt.
    pub last_error: Option<String>,
    /// One line per attempt.
    pub log: String,
}

macro_rules! delivery_cols {
    () => {
        "id, tenant_id, endpoint_id, event_type, ledger_seq, payload, status, attempts, next_attempt_at, created_at, \
         delivered_at, last_status, last_error, log"
    };
}

macro_rules! claim_sql {
    ($lock:literal) => {
        concat!(
            "UPDATE webhook_deliveries SET next_attempt_at = $1 + $2, attempts = attempts + 1 WHERE id IN \
             (SELECT id FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= $1 \
              ORDER BY next_attempt_at LIMIT $3",
            $lock,
            ") RETURNING ",
            delivery_cols!()
        )
    };
}

fn delivery(r: &Row) -> Result<DeliveryRow, StoreError> {
    Ok(DeliveryRow {
        id: r.text(0)?,
        tenant_id: r.id(1)?,
        endpoint_id: r.text(2)?,
        event_type: r.text(3)?,
        ledger_seq: r.i64(4)?,
        payload: r.bytes(5)?,
        status: r.text(6)?,
        attempts: r.i64(7)?,
        next_attempt_at: r.i64(8)?,
        created_at: r.i64(9)?,
        delivered_at: r.opt_i64(10)?,
        last_status: r.opt_i64(11)?,
        last_error: r.opt_text(12)?,
        log: r.text(13)?,
    })
}

/// Claims up to `limit` due deliveries for `lease_us` (a crashed sender's come back when it runs
/// out); counts the attempt. On PostgreSQL, instances skip each other's rows.
pub async fn claim_webhook_deliveries(
    db: &Db,
    now: i64,
    lease_us: i64,
    limit: i64,
) -> Result<Vec<DeliveryRow>, StoreError> {
    let sql = match db.engine() {
        Engine::Sqlite => claim_sql!(""),
        Engine::Postgres => claim_sql!(" FOR UPDATE SKIP LOCKED"),
    };
    let mut tx = db.begin().await?;
    let rows = tx.fetch_all(sql, vals![now, lease_us, limit]).await?;
    tx.commit().await?;
    rows.iter().map(delivery).collect()
}

/// The outcome of one delivery attempt.
#[derive(Debug, Clone)]
pub struct Attempt<'a> {
    /// `delivered`, `pending` (again, at `next`) or `parked`.
    pub status: &'a str,
    /// Next attempt (µs).
    pub next: i64,
    /// Now (µs).
    pub now: i64,
    /// Status code, if the receiver answered.
    pub code: Option<i64>,
    /// Error kind, if it did not.
    pub error: Option<&'a str>,
    /// The line for the delivery's log.
    pub log_line: &'a str,
}

/// Records an attempt's outcome on a claimed delivery.
pub async fn webhook_attempt(db: &Db, id: &str, a: &Attempt<'_>) -> Result<(), StoreError> {
    let delivered = (a.status == "delivered").then_some(a.now);
    db.exec(
        "UPDATE webhook_deliveries SET status = $1, next_attempt_at = $2, delivered_at = COALESCE($3, delivered_at), \
         last_status = $4, last_error = $5, log = log || $6 WHERE id = $7 AND status = 'pending'",
        vals![a.status, a.next, delivered, a.code, a.error.map(str::to_string), format!("{}\n", a.log_line), id],
    )
    .await?;
    Ok(())
}

/// A tenant's deliveries, newest first, optionally of one status.
pub async fn webhook_deliveries(
    db: &Db,
    tenant: TenantId,
    status: Option<&str>,
    limit: i64,
) -> Result<Vec<DeliveryRow>, StoreError> {
    let sql = concat!(
        "SELECT ",
        delivery_cols!(),
        " FROM webhook_deliveries WHERE tenant_id = $1 AND ($2 = '' OR status = $2) \
         ORDER BY created_at DESC, id DESC LIMIT $3"
    );
    db.fetch_all(sql, vals![tenant, status.unwrap_or(""), limit]).await?.iter().map(delivery).collect()
}

/// Queues a parked or delivered delivery again, due now, with a fresh count of attempts; false
/// when there is no such delivery in that state (pending and cancelled ones stay as they are).
pub async fn webhook_replay(db: &Db, tenant: TenantId, id: &str, now: i64, log_line: &str) -> Result<bool, StoreError> {
    let n = db
        .exec(
            "UPDATE webhook_deliveries SET status = 'pending', attempts = 0, next_attempt_at = $1, log = log || $2 \
             WHERE tenant_id = $3 AND id = $4 AND status IN ('parked', 'delivered') \
             AND endpoint_id IN (SELECT e.id FROM webhook_endpoints e WHERE e.tenant_id = $3 AND e.deleted_at IS NULL)",
            vals![now, format!("{log_line}\n"), tenant, id],
        )
        .await?;
    Ok(n == 1)
}

/// Whether a delivery of this tenant exists.
pub async fn webhook_delivery_exists(db: &Db, tenant: TenantId, id: &str) -> Result<bool, StoreError> {
    Ok(db
        .fetch_optional("SELECT 1 FROM webhook_deliveries WHERE tenant_id = $1 AND id = $2", vals![tenant, id])
        .await?
        .is_some())
}

/// Deliveries by status across tenants (for metrics): (pending, parked).
pub async fn webhook_counts(db: &Db) -> Result<(i64, i64), StoreError> {
    let r = db
        .fetch_optional(
            "SELECT COALESCE(SUM(CASE WHEN status = 'pending' THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN status = 'parked' THEN 1 ELSE 0 END), 0) FROM webhook_deliveries",
            vec![],
        )
        .await?;
    Ok(match r {
        Some(r) => (r.i64(0)?, r.i64(1)?),
        None => (0, 0),
    })
}

/// An incoming endpoint.
#[derive(Debug, Clone)]
pub struct InboundRow {
    /// Tenant.
    pub tenant_id: TenantId,
    /// Id.
    pub id: String,
    /// Provider.
    pub provider: String,
    /// Advertiser ids (JSON array).
    pub advertisers: String,
    /// Note.
    pub description: String,
    /// Sealed provider secret, if set.
    pub sealed_secret: Option<Vec<u8>>,
    /// Created (µs).
    pub created_at: i64,
}

macro_rules! inbound_sql {
    ($rest:literal) => {
        concat!(
            "SELECT tenant_id, id, provider, advertisers, description, sealed_secret, created_at FROM webhook_inbound ",
            $rest
        )
    };
}

fn inbound(r: &Row) -> Result<InboundRow, StoreError> {
    Ok(InboundRow {
        tenant_id: r.id(0)?,
        id: r.text(1)?,
        provider: r.text(2)?,
        advertisers: r.text(3)?,
        description: r.text(4)?,
        sealed_secret: r.opt_bytes(5)?.filter(|s| !s.is_empty()),
        created_at: r.i64(6)?,
    })
}

/// The live incoming endpoint with this token hash.
pub async fn webhook_inbound_by_token(db: &Db, token_hash: &str) -> Result<Option<InboundRow>, StoreError> {
    let sql = inbound_sql!("WHERE token_hash = $1 AND deleted_at IS NULL");
    db.fetch_optional(sql, vals![token_hash]).await?.as_ref().map(inbound).transpose()
}

/// A tenant's live incoming endpoints.
pub async fn webhook_inbound_list(db: &Db, tenant: TenantId) -> Result<Vec<InboundRow>, StoreError> {
    let sql = inbound_sql!("WHERE tenant_id = $1 AND deleted_at IS NULL ORDER BY created_at, id");
    db.fetch_all(sql, vals![tenant]).await?.iter().map(inbound).collect()
}

/// One live incoming endpoint of a tenant.
pub async fn webhook_inbound(db: &Db, tenant: TenantId, id: &str) -> Result<Option<InboundRow>, StoreError> {
    let sql = inbound_sql!("WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL");
    db.fetch_optional(sql, vals![tenant, id]).await?.as_ref().map(inbound).transpose()
}

/// Remembers the keyed hash of the address a HubSpot object has.
pub async fn webhook_learn_contact(
    db: &Db,
    inbound_id: &str,
    object_id: &str,
    key_hmac: &str,
    now: i64,
) -> Result<(), StoreError> {
    db.exec(
        "INSERT INTO webhook_inbound_contacts (inbound_id, object_id, key_hmac, updated_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (inbound_id, object_id) DO UPDATE SET key_hmac = excluded.key_hmac, updated_at = excluded.updated_at",
        vals![inbound_id, object_id, key_hmac, now],
    )
    .await?;
    Ok(())
}

/// The keyed hash of a HubSpot object's address, if one was reported.
pub async fn webhook_contact_key(db: &Db, inbound_id: &str, object_id: &str) -> Result<Option<String>, StoreError> {
    db.fetch_optional(
        "SELECT key_hmac FROM webhook_inbound_contacts WHERE inbound_id = $1 AND object_id = $2",
        vals![inbound_id, object_id],
    )
    .await?
    .map(|r| r.text(0))
    .transpose()
}
