//! Evidence files of a person, the tenant's settings, erasure states and legal holds.

use konsent_domain::attachment::AttachmentMeta;
use konsent_domain::ids::{HoldId, PersonId, TenantId};
use konsent_domain::retention::LegalHold;
use konsent_domain::settings::TenantSettings;

use crate::db::Db;
use crate::error::StoreError;
use crate::vals;

use super::parse;

fn meta(r: &crate::db::Row) -> Result<AttachmentMeta, StoreError> {
    Ok(AttachmentMeta {
        sha256: r.text(0)?,
        kind: parse(r.text(1)?, "attachment kind")?,
        content_type: r.text(2)?,
        size: r.i64(3)? as u64,
    })
}

/// Metadata of the person's evidence files, oldest first.
pub async fn attachments_of(db: &Db, tenant: TenantId, person: PersonId) -> Result<Vec<AttachmentMeta>, StoreError> {
    let rows = db
        .fetch_all(
            "SELECT sha256, kind, content_type, size FROM attachments WHERE tenant_id = $1 AND person_id = $2 \
             ORDER BY created_at, sha256",
            vals![tenant, person],
        )
        .await?;
    rows.iter().map(meta).collect()
}

/// One evidence file of a person: its metadata and sealed bytes.
pub async fn attachment(
    db: &Db,
    tenant: TenantId,
    person: PersonId,
    sha256: &str,
) -> Result<Option<(AttachmentMeta, Vec<u8>)>, StoreError> {
    let rows = db
        .fetch_all(
            "SELECT sha256, kind, content_type, size, sealed FROM attachments \
             WHERE tenant_id = $1 AND person_id = $2 AND sha256 = $3",
            vals![tenant, person, sha256],
        )
        .await?;
    rows.first().map(|r| Ok((meta(r)?, r.bytes(4)?))).transpose()
}

/// The tenant's settings (defaults when never changed).
pub async fn tenant_settings(db: &Db, tenant: TenantId) -> Result<TenantSettings, StoreError> {
    let rows = db.fetch_all("SELECT settings FROM tenant_settings WHERE tenant_id = $1", vals![tenant]).await?;
    match rows.first() {
        Some(r) => Ok(serde_json::from_str(&r.text(0)?)?),
        None => Ok(TenantSettings::default()),
    }
}

/// The erasure state of a person.
#[derive(Debug, Clone)]
pub struct RestrictionRow {
    /// `restricted` or `erased`.
    pub state: String,
    /// Kept until (µs), while restricted.
    pub until: Option<i64>,
}

/// The erasure state of a person, if any.
pub async fn restriction(db: &Db, tenant: TenantId, person: PersonId) -> Result<Option<RestrictionRow>, StoreError> {
    db.fetch_optional(
        "SELECT state, until FROM restrictions WHERE tenant_id = $1 AND person_id = $2",
        vals![tenant, person],
    )
    .await?
    .map(|r| Ok(RestrictionRow { state: r.text(0)?, until: r.opt_i64(1)? }))
    .transpose()
}

/// Restricted persons whose keeping date has passed (or who keep nothing).
pub async fn restrictions_due(db: &Db, tenant: TenantId, now: i64) -> Result<Vec<PersonId>, StoreError> {
    let rows = db
        .fetch_all(
            "SELECT person_id FROM restrictions WHERE tenant_id = $1 AND state = 'restricted' \
             AND (until IS NULL OR until <= $2) ORDER BY person_id",
            vals![tenant, now],
        )
        .await?;
    rows.into_iter().map(|r| r.id(0)).collect()
}

/// Persons not erased and not restricted whose record has not changed since `before` (µs).
pub async fn inactive_persons(db: &Db, tenant: TenantId, before: i64) -> Result<Vec<(PersonId, i64)>, StoreError> {
    let rows = db
        .fetch_all(
            "SELECT p.id, p.updated_at FROM persons p WHERE p.tenant_id = $1 AND p.updated_at < $2 \
             AND NOT EXISTS (SELECT 1 FROM restrictions r WHERE r.tenant_id = p.tenant_id AND r.person_id = p.id) \
             AND NOT EXISTS (SELECT 1 FROM consents c WHERE c.tenant_id = p.tenant_id AND c.person_id = p.id \
                             AND c.last_change_at >= $2) \
             ORDER BY p.id",
            vals![tenant, before],
        )
        .await?;
    rows.into_iter().map(|r| Ok((r.id(0)?, r.i64(1)?))).collect()
}

/// The person's legal holds (active and released).
pub async fn holds_of(db: &Db, tenant: TenantId, person: PersonId) -> Result<Vec<LegalHold>, StoreError> {
    let rows = db
        .fetch_all(
            "SELECT data, released_at FROM holds WHERE tenant_id = $1 AND person_id = $2 ORDER BY id",
            vals![tenant, person],
        )
        .await?;
    rows.iter().map(hold_row).collect()
}

fn hold_row(r: &crate::db::Row) -> Result<LegalHold, StoreError> {
    let mut h: LegalHold = serde_json::from_str(&r.text(0)?)?;
    h.released_at = r.opt_i64(1)?.map(super::ts).transpose()?;
    Ok(h)
}

/// One hold, with its release time.
pub async fn hold(db: &Db, tenant: TenantId, id: HoldId) -> Result<Option<LegalHold>, StoreError> {
    let row = db
        .fetch_optional("SELECT data, released_at FROM holds WHERE tenant_id = $1 AND id = $2", vals![tenant, id])
        .await?;
    row.as_ref().map(hold_row).transpose()
}

/// A data-subject request and its deadline.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RequestRow {
    /// Id (the event id of its receipt).
    pub id: String,
    /// The person.
    pub person_id: PersonId,
    /// `access`, …
    pub kind: String,
    /// How it came in.
    pub via: String,
    /// Received (µs).
    pub received_at: i64,
    /// Due (µs): one month after receipt.
    pub due_at: i64,
    /// Closed (µs).
    pub closed_at: Option<i64>,
}

/// Open requests of a tenant (or of one person), the most urgent first.
pub async fn open_requests(db: &Db, tenant: TenantId, person: Option<PersonId>) -> Result<Vec<RequestRow>, StoreError> {
    let rows = db
        .fetch_all(
            "SELECT id, person_id, kind, via, received_at, due_at, closed_at FROM requests \
             WHERE tenant_id = $1 AND closed_at IS NULL AND ($2 IS NULL OR person_id = $2) ORDER BY due_at, id",
            vals![tenant, person],
        )
        .await?;
    rows.iter()
        .map(|r| {
            Ok(RequestRow {
                id: r.text(0)?,
                person_id: r.id(1)?,
                kind: r.text(2)?,
                via: r.text(3)?,
                received_at: r.i64(4)?,
                due_at: r.i64(5)?,
                closed_at: r.opt_i64(6)?,
            })
        })
        .collect()
}

/// Which of these persons are restricted or erased (for hiding them from selections, R48).
pub async fn restricted_among(
    db: &Db,
    tenant: TenantId,
    persons: &[PersonId],
) -> Result<std::collections::HashSet<PersonId>, StoreError> {
    let mut out = std::collections::HashSet::new();
    for chunk in persons.chunks(500) {
        let list = (0..chunk.len()).map(|i| format!("${}", i + 2)).collect::<Vec<_>>().join(", ");
        let sql = format!("SELECT person_id FROM restrictions WHERE tenant_id = $1 AND person_id IN ({list})");
        let mut args = vals![tenant];
        args.extend(chunk.iter().map(crate::db::Val::from));
        for r in db.fetch_all_built(sql, args).await? {
            out.insert(r.id(0)?);
        }
    }
    Ok(out)
}
