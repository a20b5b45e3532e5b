//! Read queries over the projections and the vault, returning domain types.

use jiff::Timestamp;
use konsent_domain::basis::DocumentedBasis;
use konsent_domain::consent::ConsentRecord;
use konsent_domain::ids::{ContactPointId, PersonId, TenantId};
use konsent_domain::party::Advertiser;
use konsent_domain::suppression::SuppressionEntry;
use konsent_domain::text::ConsentTextVersion;
use konsent_domain::usage::UseRecord;

use crate::db::{Db, Row};
use crate::error::StoreError;
use crate::vals;

fn parse<T: std::str::FromStr>(s: String, what: &str) -> Result<T, StoreError> {
    s.parse().map_err(|_| StoreError::Corrupt(format!("bad {what} '{s}'")))
}

fn ts(v: i64) -> Result<Timestamp, StoreError> {
    Timestamp::from_microsecond(v).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn json_rows<T: serde::de::DeserializeOwned>(rows: Vec<Row>) -> Result<Vec<T>, StoreError> {
    rows.iter().map(|r| Ok(serde_json::from_str(&r.text(0)?)?)).collect()
}

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

/// Tenants (id, name).
pub async fn tenants(db: &Db) -> Result<Vec<(TenantId, String)>, StoreError> {
    let rows = db.fetch_all("SELECT id, name FROM tenants ORDER BY created_at, id", vec![]).await?;
    rows.into_iter().map(|r| Ok((parse(r.text(0)?, "tenant id")?, r.text(1)?))).collect()
}

/// Advertisers of a tenant.
pub async fn advertisers(db: &Db, tenant: TenantId) -> Result<Vec<Advertiser>, StoreError> {
    json_rows(
        db.fetch_all(
            "SELECT data FROM advertisers WHERE tenant_id = $1 ORDER BY legal_name, id",
            vals![tenant.to_string()],
        )
        .await?,
    )
}

/// Published and retired text versions of a tenant.
pub async fn texts(db: &Db, tenant: TenantId) -> Result<Vec<ConsentTextVersion>, StoreError> {
    json_rows(
        db.fetch_all(
            "SELECT data FROM consent_texts WHERE tenant_id = $1 ORDER BY text_key, version",
            vals![tenant.to_string()],
        )
        .await?,
    )
}

/// Person ids of a tenant with a contact point of this blind index.
pub async fn persons_by_blind_index(
    db: &Db,
    tenant: TenantId,
    blind_index: &str,
) -> Result<Vec<(PersonId, ContactPointId)>, StoreError> {
    let rows = db
        .fetch_all(
            "SELECT person_id, id FROM contact_points WHERE tenant_id = $1 AND blind_index = $2 ORDER BY created_at, id",
            vals![tenant.to_string(), blind_index],
        )
        .await?;
    rows.into_iter().map(|r| Ok((parse(r.text(0)?, "person id")?, parse(r.text(1)?, "contact point id")?))).collect()
}

/// A contact point as projected (no value: that is in the vault).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactPointRow {
    /// Id.
    pub id: ContactPointId,
    /// Kind code.
    pub kind: String,
    /// Blind index.
    pub blind_index: String,
    /// When verified.
    pub verified_at: Option<Timestamp>,
    /// How verified.
    pub verified_method: Option<String>,
}

/// Contact points of a person.
pub async fn contact_points(db: &Db, tenant: TenantId, person: PersonId) -> Result<Vec<ContactPointRow>, StoreError> {
    let rows = db
        .fetch_all(
            "SELECT id, kind, blind_index, verified_at, verified_method FROM contact_points \
             WHERE tenant_id = $1 AND person_id = $2 ORDER BY created_at, id",
            vals![tenant.to_string(), person.to_string()],
        )
        .await?;
    rows.into_iter()
        .map(|r| {
            Ok(ContactPointRow {
                id: parse(r.text(0)?, "contact point id")?,
                kind: r.text(1)?,
                blind_index: r.text(2)?,
                verified_at: r.opt_i64(3)?.map(ts).transpose()?,
                verified_method: r.opt_text(4)?,
            })
        })
        .collect()
}

/// A person as projected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonRow {
    /// Id.
    pub id: PersonId,
    /// `consumer` or `business`.
    pub recipient_class: String,
    /// Owning org unit.
    pub org_unit_id: Option<String>,
    /// Current data version.
    pub data_version: i64,
}

/// One person.
pub async fn person(db: &Db, tenant: TenantId, person: PersonId) -> Result<Option<PersonRow>, StoreError> {
    let Some(r) = db
        .fetch_optional(
            "SELECT id, recipient_class, org_unit_id, data_version FROM persons WHERE tenant_id = $1 AND id = $2",
            vals![tenant.to_string(), person.to_string()],
        )
        .await?
    else {
        return Ok(None);
    };
    Ok(Some(PersonRow {
        id: parse(r.text(0)?, "person id")?,
        recipient_class: r.text(1)?,
        org_unit_id: r.opt_text(2)?,
        data_version: r.i64(3)?,
    }))
}

/// The wrapped data key of a person, if not erased.
pub async fn person_key(db: &Db, tenant: TenantId, person: PersonId) -> Result<Option<Vec<u8>>, StoreError> {
    db.fetch_optional(
        "SELECT wrapped_key FROM person_keys WHERE tenant_id = $1 AND person_id = $2",
        vals![tenant.to_string(), person.to_string()],
    )
    .await?
    .map(|r| r.bytes(0))
    .transpose()
}

/// The newest sealed data of a person: (version, sealed, sha256).
pub async fn person_data(
    db: &Db,
    tenant: TenantId,
    person: PersonId,
) -> Result<Option<(i64, Vec<u8>, String)>, StoreError> {
    db.fetch_optional(
        "SELECT version, sealed, sha256 FROM person_data WHERE tenant_id = $1 AND person_id = $2 ORDER BY version DESC LIMIT 1",
        vals![tenant.to_string(), person.to_string()],
    )
    .await?
    .map(|r| Ok((r.i64(0)?, r.bytes(1)?, r.text(2)?)))
    .transpose()
}

/// The sealed value of a contact point.
pub async fn contact_value(db: &Db, tenant: TenantId, cp: ContactPointId) -> Result<Option<Vec<u8>>, StoreError> {
    db.fetch_optional(
        "SELECT sealed FROM contact_values WHERE tenant_id = $1 AND contact_point_id = $2",
        vals![tenant.to_string(), cp.to_string()],
    )
    .await?
    .map(|r| r.bytes(0))
    .transpose()
}

/// Consent records of a person.
pub async fn consents_of(db: &Db, tenant: TenantId, person: PersonId) -> Result<Vec<ConsentRecord>, StoreError> {
    json_rows(
        db.fetch_all(
            "SELECT data FROM consents WHERE tenant_id = $1 AND person_id = $2 ORDER BY given_at, id",
            vals![tenant.to_string(), person.to_string()],
        )
        .await?,
    )
}

/// Objection events of a person (as stored event bodies).
pub async fn objections_of(
    db: &Db,
    tenant: TenantId,
    person: PersonId,
) -> Result<Vec<konsent_domain::ledger::EventBody>, StoreError> {
    json_rows(
        db.fetch_all(
            "SELECT data FROM objections WHERE tenant_id = $1 AND person_id = $2 ORDER BY seq",
            vals![tenant.to_string(), person.to_string()],
        )
        .await?,
    )
}

/// Suppression entries with this keyed hash.
pub async fn suppressions_by_key(
    db: &Db,
    tenant: TenantId,
    key_hmac: &str,
) -> Result<Vec<SuppressionEntry>, StoreError> {
    json_rows(
        db.fetch_all(
            "SELECT data FROM suppressions WHERE tenant_id = $1 AND key_hmac = $2 ORDER BY created_at, id",
            vals![tenant.to_string(), key_hmac],
        )
        .await?,
    )
}

/// Documented bases of a person.
pub async fn bases_of(db: &Db, tenant: TenantId, person: PersonId) -> Result<Vec<DocumentedBasis>, StoreError> {
    json_rows(
        db.fetch_all(
            "SELECT data FROM bases WHERE tenant_id = $1 AND person_id = $2 ORDER BY id",
            vals![tenant.to_string(), person.to_string()],
        )
        .await?,
    )
}

/// Uses of a person.
pub async fn uses_of(db: &Db, tenant: TenantId, person: PersonId) -> Result<Vec<UseRecord>, StoreError> {
    json_rows(
        db.fetch_all(
            "SELECT data FROM uses WHERE tenant_id = $1 AND person_id = $2 ORDER BY at, id",
            vals![tenant.to_string(), person.to_string()],
        )
        .await?,
    )
}

/// Counts for status output: persons, consents by status, ledger entries.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Stats {
    /// Persons.
    pub persons: i64,
    /// Contact points.
    pub contact_points: i64,
    /// Consent records by DPV status.
    pub consents_by_status: Vec<(String, i64)>,
    /// Uses logged.
    pub uses: i64,
    /// Ledger entries.
    pub ledger_entries: i64,
}

/// Counts for a tenant.
pub async fn stats(db: &Db, tenant: TenantId) -> Result<Stats, StoreError> {
    let t = tenant.to_string();
    let one = |sql: &'static str| {
        let t = t.clone();
        async move { db.fetch_optional(sql, vals![t]).await?.map(|r| r.i64(0)).transpose().map(|v| v.unwrap_or(0)) }
    };
    let by_status = db
        .fetch_all(
            "SELECT status, COUNT(*) FROM consents WHERE tenant_id = $1 GROUP BY status ORDER BY status",
            vals![t.clone()],
        )
        .await?
        .into_iter()
        .map(|r| Ok((r.text(0)?, r.i64(1)?)))
        .collect::<Result<_, StoreError>>()?;
    Ok(Stats {
        persons: one("SELECT COUNT(*) FROM persons WHERE tenant_id = $1").await?,
        contact_points: one("SELECT COUNT(*) FROM contact_points WHERE tenant_id = $1").await?,
        consents_by_status: by_status,
        uses: one("SELECT COUNT(*) FROM uses WHERE tenant_id = $1").await?,
        ledger_entries: one("SELECT COUNT(*) FROM ledger WHERE tenant_id = $1").await?,
    })
}

/// Checks the database answers.
pub async fn ping(db: &Db) -> Result<(), StoreError> {
    db.fetch_optional("SELECT 1", vec![]).await.map(|_| ())
}

/// Withdrawn scopes of a person's consents: (consent id, withdrawn scope, effective time).
pub async fn withdrawals_of(
    db: &Db,
    tenant: TenantId,
    person: PersonId,
) -> Result<Vec<(konsent_domain::ids::ConsentId, konsent_domain::consent::Scope, Timestamp)>, StoreError> {
    let rows = db
        .fetch_all(
            "SELECT consent_id, data, at FROM withdrawals WHERE tenant_id = $1 AND person_id = $2 ORDER BY seq",
            vals![tenant.to_string(), person.to_string()],
        )
        .await?;
    rows.into_iter()
        .map(|r| Ok((parse(r.text(0)?, "consent id")?, serde_json::from_str(&r.text(1)?)?, ts(r.i64(2)?)?)))
        .collect()
}

/// One consent record.
pub async fn consent(
    db: &Db,
    tenant: TenantId,
    id: konsent_domain::ids::ConsentId,
) -> Result<Option<ConsentRecord>, StoreError> {
    db.fetch_optional(
        "SELECT data FROM consents WHERE tenant_id = $1 AND id = $2",
        vals![tenant.to_string(), id.to_string()],
    )
    .await?
    .map(|r| Ok(serde_json::from_str(&r.text(0)?)?))
    .transpose()
}

/// The ledger entries of a person (their timeline), oldest first.
pub async fn timeline(
    db: &Db,
    tenant: TenantId,
    person: PersonId,
) -> Result<Vec<konsent_domain::ledger::Entry>, StoreError> {
    let rows = db
        .fetch_all(
            "SELECT payload FROM ledger WHERE tenant_id = $1 AND person_id = $2 ORDER BY seq",
            vals![tenant.to_string(), person.to_string()],
        )
        .await?;
    rows.iter()
        .map(|r| konsent_domain::ledger::Entry::decode(&r.bytes(0)?).map_err(|e| StoreError::Corrupt(e.to_string())))
        .collect()
}

/// Product categories of a tenant.
pub async fn categories(db: &Db, tenant: TenantId) -> Result<Vec<konsent_domain::channel::CategoryDef>, StoreError> {
    let rows = db
        .fetch_all(
            "SELECT code, label_de, label_en FROM categories WHERE tenant_id = $1 ORDER BY code",
            vals![tenant.to_string()],
        )
        .await?;
    rows.into_iter()
        .map(|r| {
            Ok(konsent_domain::channel::CategoryDef {
                code: konsent_domain::channel::ProductCategory::parse(&r.text(0)?)
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                label_de: r.text(1)?,
                label_en: r.text(2)?,
            })
        })
        .collect()
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

/// A page of a list ordered by (change time, id), for sync with `updated_since` and a cursor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    /// Items.
    pub items: Vec<T>,
    /// Cursor of the last item, when more may follow.
    pub next: Option<(i64, String)>,
}

/// Persons changed at or after `since` (µs), after the cursor `(time, id)`, at most `limit`.
pub async fn persons_page(
    db: &Db,
    tenant: TenantId,
    since: i64,
    after: Option<(i64, String)>,
    limit: i64,
) -> Result<Page<(PersonRow, i64)>, StoreError> {
    let (at, id) = after.unwrap_or((since, String::new()));
    let rows = db
        .fetch_all(
            "SELECT id, recipient_class, org_unit_id, data_version, updated_at FROM persons \
             WHERE tenant_id = $1 AND updated_at >= $2 AND (updated_at > $3 OR (updated_at = $3 AND id > $4)) \
             ORDER BY updated_at, id LIMIT $5",
            vals![tenant.to_string(), since, at, id, limit],
        )
        .await?;
    let items: Vec<(PersonRow, i64)> = rows
        .into_iter()
        .map(|r| {
            Ok((
                PersonRow {
                    id: parse(r.text(0)?, "person id")?,
                    recipient_class: r.text(1)?,
                    org_unit_id: r.opt_text(2)?,
                    data_version: r.i64(3)?,
                },
                r.i64(4)?,
            ))
        })
        .collect::<Result<_, StoreError>>()?;
    let next = (items.len() as i64 == limit).then(|| items.last().map(|(p, t)| (*t, p.id.to_string()))).flatten();
    Ok(Page { items, next })
}

/// Consents changed at or after `since` (µs), after the cursor, at most `limit`.
pub async fn consents_page(
    db: &Db,
    tenant: TenantId,
    since: i64,
    after: Option<(i64, String)>,
    limit: i64,
) -> Result<Page<ConsentRecord>, StoreError> {
    let (at, id) = after.unwrap_or((since, String::new()));
    let rows = db
        .fetch_all(
            "SELECT data, last_change_at, id FROM consents \
             WHERE tenant_id = $1 AND last_change_at >= $2 AND (last_change_at > $3 OR (last_change_at = $3 AND id > $4)) \
             ORDER BY last_change_at, id LIMIT $5",
            vals![tenant.to_string(), since, at, id, limit],
        )
        .await?;
    let mut next = None;
    let mut items = Vec::with_capacity(rows.len());
    for r in &rows {
        items.push(serde_json::from_str(&r.text(0)?)?);
        next = Some((r.i64(1)?, r.text(2)?));
    }
    Ok(Page { next: if items.len() as i64 == limit { next } else { None }, items })
}
