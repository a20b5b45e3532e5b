//! Installation settings, API keys, idempotency records and the health ping.

use jiff::Timestamp;
use konsent_domain::ids::TenantId;

use crate::db::Db;
use crate::error::StoreError;
use crate::vals;

use super::parse;

/// Reads a value of the installation table.
pub async fn installation_get(db: &Db, key: &str) -> Result<Option<String>, StoreError> {
    db.fetch_optional("SELECT value FROM installation WHERE key = $1", vals![key]).await?.map(|r| r.text(0)).transpose()
}

/// Sets a value of the installation table.
pub async fn installation_set(db: &Db, key: &str, value: &str) -> Result<(), StoreError> {
    db.exec(
        "INSERT INTO installation (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        vals![key, value],
    )
    .await?;
    Ok(())
}

/// A stored API key (its hash only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyRow {
    /// Id.
    pub id: String,
    /// Tenant.
    pub tenant_id: TenantId,
    /// Role code.
    pub role: String,
    /// Optional org-unit restriction.
    pub org_unit_id: Option<String>,
    /// Label.
    pub label: String,
    /// Revoked?
    pub revoked: bool,
}

/// Stores a new API key hash.
pub async fn insert_api_key(db: &Db, k: &ApiKeyRow, key_hash: &str, now: Timestamp) -> Result<(), StoreError> {
    db.exec(
        "INSERT INTO api_keys (id, tenant_id, role, org_unit_id, label, key_hash, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        vals![
            k.id.clone(),
            k.tenant_id.to_string(),
            k.role.clone(),
            k.org_unit_id.clone(),
            k.label.clone(),
            key_hash,
            now.as_microsecond()
        ],
    )
    .await?;
    Ok(())
}

/// Finds an API key by the hash of its secret.
pub async fn api_key_by_hash(db: &Db, key_hash: &str) -> Result<Option<ApiKeyRow>, StoreError> {
    let Some(r) = db
        .fetch_optional(
            "SELECT id, tenant_id, role, org_unit_id, label, revoked_at FROM api_keys WHERE key_hash = $1",
            vals![key_hash],
        )
        .await?
    else {
        return Ok(None);
    };
    Ok(Some(ApiKeyRow {
        id: r.text(0)?,
        tenant_id: parse(r.text(1)?, "tenant id")?,
        role: r.text(2)?,
        org_unit_id: r.opt_text(3)?,
        label: r.text(4)?,
        revoked: r.opt_i64(5)?.is_some(),
    }))
}

/// Checks the database answers.
pub async fn ping(db: &Db) -> Result<(), StoreError> {
    db.fetch_optional("SELECT 1", vec![]).await.map(|_| ())
}

/// A stored idempotent response: request hash, status (0 = still running), body.
pub type IdempotentResponse = (String, i64, Option<Vec<u8>>);

/// Claims an idempotency key for a request; `None` when newly claimed, else what is stored.
pub async fn idempotency_claim(
    db: &Db,
    tenant: TenantId,
    key: &str,
    request_hash: &str,
    now: Timestamp,
) -> Result<Option<IdempotentResponse>, StoreError> {
    let inserted = db
        .exec(
            "INSERT INTO idempotency_keys (tenant_id, idem_key, request_hash, status, body, created_at) \
             VALUES ($1, $2, $3, 0, NULL, $4) ON CONFLICT (tenant_id, idem_key) DO NOTHING",
            vals![tenant.to_string(), key, request_hash, now.as_microsecond()],
        )
        .await?;
    if inserted == 1 {
        return Ok(None);
    }
    db.fetch_optional(
        "SELECT request_hash, status, body FROM idempotency_keys WHERE tenant_id = $1 AND idem_key = $2",
        vals![tenant.to_string(), key],
    )
    .await?
    .map(|r| Ok((r.text(0)?, r.i64(1)?, r.opt_bytes(2)?)))
    .transpose()
}

/// Stores the response of a claimed key, or releases the claim (`None`) so a retry may run again.
pub async fn idempotency_finish(
    db: &Db,
    tenant: TenantId,
    key: &str,
    response: Option<(i64, Vec<u8>)>,
) -> Result<(), StoreError> {
    match response {
        Some((status, body)) => {
            db.exec(
                "UPDATE idempotency_keys SET status = $3, body = $4 WHERE tenant_id = $1 AND idem_key = $2",
                vals![tenant.to_string(), key, status, body],
            )
            .await?
        }
        None => {
            db.exec(
                "DELETE FROM idempotency_keys WHERE tenant_id = $1 AND idem_key = $2",
                vals![tenant.to_string(), key],
            )
            .await?
        }
    };
    Ok(())
}
