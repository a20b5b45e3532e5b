//! Cursor-paginated lists for syncing integrations, and counts.

use konsent_domain::consent::ConsentRecord;
use konsent_domain::ids::TenantId;

use crate::db::Db;
use crate::error::StoreError;
use crate::vals;

use super::people::PersonRow;

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
    let one = |sql: &'static str| async move {
        db.fetch_optional(sql, vals![tenant]).await?.map(|r| r.i64(0)).transpose().map(|v| v.unwrap_or(0))
    };
    let by_status = db
        .fetch_all(
            "SELECT status, COUNT(*) FROM consents WHERE tenant_id = $1 GROUP BY status ORDER BY status",
            vals![tenant],
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

/// A page of a list ordered by (change time, id), for sync with `updated_since` and a cursor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    /// Items.
    pub items: Vec<T>,
    /// Cursor of the last item, when more may follow.
    pub next: Option<(i64, uuid::Uuid)>,
}

/// Persons changed at or after `since` (µs), after the cursor `(time, id)`, at most `limit`.
pub async fn persons_page(
    db: &Db,
    tenant: TenantId,
    since: i64,
    after: Option<(i64, uuid::Uuid)>,
    limit: i64,
) -> Result<Page<(PersonRow, i64)>, StoreError> {
    let (at, id) = after.unwrap_or((since, uuid::Uuid::nil()));
    let rows = db
        .fetch_all(
            "SELECT id, recipient_class, org_unit_id, data_version, updated_at FROM persons \
             WHERE tenant_id = $1 AND updated_at >= $2 AND (updated_at > $3 OR (updated_at = $3 AND id > $4)) \
             ORDER BY updated_at, id LIMIT $5",
            vals![tenant, since, at, crate::db::Val::Id(id), limit],
        )
        .await?;
    let items: Vec<(PersonRow, i64)> = rows
        .into_iter()
        .map(|r| {
            Ok((
                PersonRow {
                    id: r.id(0)?,
                    recipient_class: r.text(1)?,
                    org_unit_id: r.opt_id(2)?,
                    data_version: r.i64(3)?,
                    restricted: false,
                },
                r.i64(4)?,
            ))
        })
        .collect::<Result<_, StoreError>>()?;
    let next = (items.len() as i64 == limit).then(|| items.last().map(|(p, t)| (*t, p.id.as_uuid()))).flatten();
    Ok(Page { items, next })
}

/// Consents changed at or after `since` (µs), after the cursor, at most `limit`.
pub async fn consents_page(
    db: &Db,
    tenant: TenantId,
    since: i64,
    after: Option<(i64, uuid::Uuid)>,
    limit: i64,
) -> Result<Page<ConsentRecord>, StoreError> {
    let (at, id) = after.unwrap_or((since, uuid::Uuid::nil()));
    let rows = db
        .fetch_all(
            "SELECT data, last_change_at, id FROM consents \
             WHERE tenant_id = $1 AND last_change_at >= $2 AND (last_change_at > $3 OR (last_change_at = $3 AND id > $4)) \
             ORDER BY last_change_at, id LIMIT $5",
            vals![tenant, since, at, crate::db::Val::Id(id), limit],
        )
        .await?;
    page_of(&rows, limit, |r| crate::consent_data::decode(r, 0))
}

/// Suppression entries created at or after `since` (µs), after the cursor, at most `limit`.
pub async fn suppressions_page(
    db: &Db,
    tenant: TenantId,
    since: i64,
    after: Option<(i64, uuid::Uuid)>,
    limit: i64,
) -> Result<Page<konsent_domain::suppression::SuppressionEntry>, StoreError> {
    let (at, id) = after.unwrap_or((since, uuid::Uuid::nil()));
    let rows = db
        .fetch_all(
            "SELECT data, created_at, id FROM suppressions \
             WHERE tenant_id = $1 AND created_at >= $2 AND (created_at > $3 OR (created_at = $3 AND id > $4)) \
             ORDER BY created_at, id LIMIT $5",
            vals![tenant, since, at, crate::db::Val::Id(id), limit],
        )
        .await?;
    json_page(&rows, limit)
}

/// A page from rows of `(data JSON, change time, id)`; a full page has a cursor.
fn json_page<T: serde::de::DeserializeOwned>(rows: &[crate::db::Row], limit: i64) -> Result<Page<T>, StoreError> {
    page_of(rows, limit, |r| Ok(serde_json::from_str(&r.text(0)?)?))
}

/// A page of the items `item` reads from column 0 of `rows`, the cursor from columns 1 (time) and
/// 2 (id).
fn page_of<T>(
    rows: &[crate::db::Row],
    limit: i64,
    item: impl Fn(&crate::db::Row) -> Result<T, StoreError>,
) -> Result<Page<T>, StoreError> {
    let mut next = None;
    let mut items = Vec::with_capacity(rows.len());
    for r in rows {
        items.push(item(r)?);
        next = Some((r.i64(1)?, r.id::<uuid::Uuid>(2)?));
    }
    Ok(Page { next: if items.len() as i64 == limit { next } else { None }, items })
}
