//! Installation settings, API keys, idempotency records and the health ping.

use jiff::Timestamp;
use konsent_domain::ids::TenantId;

use crate::db::Db;
use crate::error::StoreError;
use crate::vals;

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
    pub org_unit_id: Option<konsent_domain::ids::OrgUnitId>,
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
            k.tenant_id,
            k.role.clone(),
            k.org_unit_id,
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
        tenant_id: r.id(1)?,
        role: r.text(2)?,
        org_unit_id: r.opt_id(3)?,
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
            vals![tenant, key, request_hash, now.as_microsecond()],
        )
        .await?;
    if inserted == 1 {
        return Ok(None);
    }
    db.fetch_optional(
        "SELECT request_hash, status, body FROM idempotency_keys WHERE tenant_id = $1 AND idem_key = $2",
        vals![tenant, key],
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
                vals![tenant, key, status, body],
            )
            .await?
        }
        None => {
            db.exec("DELETE FROM idempotency_keys WHERE tenant_id = $1 AND idem_key = $2", vals![tenant, key]).await?
        }
    };
    Ok(())
}

/// The head seq of a tenant's chain (0 when it has none).
pub async fn chain_head(db: &Db, tenant: TenantId) -> Result<u64, StoreError> {
    Ok(db
        .fetch_optional("SELECT seq FROM chain_heads WHERE tenant_id = $1", vals![tenant])
        .await?
        .map(|r| r.i64(0))
        .transpose()?
        .map_or(0, |s| s as u64))
}

/// Kind, person and (for the kinds that name a keyed hash or change the catalogue) the decoded
/// entry, for `from <= seq <= to`: what a cache needs to drop.
pub async fn ledger_delta(
    db: &Db,
    tenant: TenantId,
    from: u64,
    to: u64,
) -> Result<Vec<(Option<konsent_domain::ids::PersonId>, Option<konsent_domain::ledger::Entry>)>, StoreError> {
    let rows = db
        .fetch_all(
            "SELECT kind, person_id, CASE WHEN kind IN ('contact_point_added', 'suppression_added', 'advertiser_registered', \
             'text_published', 'text_retired', 'category_defined') THEN payload END FROM ledger \
             WHERE tenant_id = $1 AND seq >= $2 AND seq <= $3 ORDER BY seq",
            vals![tenant, from as i64, to as i64],
        )
        .await?;
    rows.into_iter()
        .map(|r| {
            let person = r.opt_id(1)?;
            let entry = r
                .opt_bytes(2)?
                .map(|b| konsent_domain::ledger::Entry::decode(&b).map_err(|e| StoreError::Corrupt(e.to_string())))
                .transpose()?;
            Ok((person, entry))
        })
        .collect()
}

/// Writes a consistent copy of a SQLite database to `path` while it is in use (`VACUUM INTO`).
pub async fn sqlite_backup(db: &Db, path: &str) -> Result<(), StoreError> {
    if db.engine() != crate::db::Engine::Sqlite {
        return Err(StoreError::Schema(
            "konsent backup copies SQLite databases; back up PostgreSQL with pg_dump (see docs/operations.md)".into(),
        ));
    }
    db.exec("VACUUM INTO $1", crate::vals![path.to_string()]).await?;
    Ok(())
}

/// Whether a suppression entry with this id exists.
pub async fn suppression_exists(
    db: &Db,
    tenant: TenantId,
    id: konsent_domain::ids::SuppressionId,
) -> Result<bool, StoreError> {
    Ok(db
        .fetch_optional("SELECT 1 FROM suppressions WHERE tenant_id = $1 AND id = $2", crate::vals![tenant, id])
        .await?
        .is_some())
}

/// Refreshes PostgreSQL's planner statistics of the tables bulk writes grow (contact points,
/// suppressions, consents). Without them the planner scans a whole table for every keyed-hash
/// lookup of an import or segment once it has grown (autovacuum may be off or late). SQLite
/// plans these lookups by index regardless: nothing to do there.
pub async fn refresh_statistics(db: &Db) -> Result<(), StoreError> {
    if db.engine() == crate::db::Engine::Postgres {
        for sql in ["ANALYZE contact_points", "ANALYZE suppressions", "ANALYZE consents"] {
            db.exec(sql, vec![]).await?;
        }
    }
    Ok(())
}
