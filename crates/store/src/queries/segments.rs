//! Campaign segments and Robinson lists: the universe of a channel by page, frozen segments and
//! their members, the hashes of an imported Robinson list.

use jiff::Timestamp;
use konsent_domain::ids::{ContactPointId, OrgUnitId, PersonId, SegmentId, TenantId};

use crate::db::Db;
use crate::error::StoreError;
use crate::vals;

use super::ts;

/// Contact points of a kind after `after` (id order), with person and keyed hash; only persons
/// of `org_unit` when given.
pub async fn contact_points_page(
    db: &Db,
    tenant: TenantId,
    kind: &str,
    org_unit: Option<OrgUnitId>,
    after: Option<ContactPointId>,
    limit: i64,
) -> Result<Vec<(ContactPointId, PersonId, String)>, StoreError> {
    let rows = db
        .fetch_all(
            "SELECT cp.id, cp.person_id, cp.blind_index FROM contact_points cp \
             JOIN persons p ON p.tenant_id = cp.tenant_id AND p.id = cp.person_id \
             WHERE cp.tenant_id = $1 AND cp.kind = $2 AND cp.id > $3 \
             AND ($4 IS NULL OR p.org_unit_id = $4) ORDER BY cp.id LIMIT $5",
            vals![tenant, kind, crate::db::Val::Id(after.map_or(uuid::Uuid::nil(), |a| a.as_uuid())), org_unit, limit],
        )
        .await?;
    rows.into_iter().map(|r| Ok((r.id(0)?, r.id(1)?, r.blind_key(2)?))).collect()
}

/// A frozen segment as stored.
#[derive(Debug, Clone)]
pub struct SegmentRow {
    /// Id.
    pub id: SegmentId,
    /// Spec (JSON).
    pub spec: String,
    /// Counts (JSON).
    pub counts: String,
    /// Frozen at.
    pub frozen_at: Timestamp,
    /// Exports usable until.
    pub valid_until: Timestamp,
}

fn segment_row(r: &crate::db::Row) -> Result<SegmentRow, StoreError> {
    Ok(SegmentRow {
        id: r.id(0)?,
        spec: r.text(1)?,
        counts: r.text(2)?,
        frozen_at: ts(r.i64(3)?)?,
        valid_until: ts(r.i64(4)?)?,
    })
}

/// One frozen segment.
pub async fn segment(db: &Db, tenant: TenantId, id: SegmentId) -> Result<Option<SegmentRow>, StoreError> {
    let r = db
        .fetch_optional(
            "SELECT id, spec, counts, frozen_at, valid_until FROM segments WHERE tenant_id = $1 AND id = $2",
            vals![tenant, id],
        )
        .await?;
    r.as_ref().map(segment_row).transpose()
}

/// The tenant's frozen segments, newest first.
pub async fn segments(db: &Db, tenant: TenantId) -> Result<Vec<SegmentRow>, StoreError> {
    let rows = db
        .fetch_all(
            "SELECT id, spec, counts, frozen_at, valid_until FROM segments WHERE tenant_id = $1 ORDER BY frozen_at DESC, id",
            vals![tenant],
        )
        .await?;
    rows.iter().map(segment_row).collect()
}

/// A stored segment member.
#[derive(Debug, Clone)]
pub struct MemberRow {
    /// Position.
    pub seq: i64,
    /// Person.
    pub person_id: PersonId,
    /// Contact point.
    pub contact_point_id: ContactPointId,
    /// May be contacted.
    pub included: bool,
    /// Reason codes (JSON array).
    pub reasons: String,
    /// Consents relied on (JSON array).
    pub consents: String,
}

/// Members after `after_seq`, in order; only the included ones when asked.
pub async fn segment_members(
    db: &Db,
    tenant: TenantId,
    id: SegmentId,
    after_seq: i64,
    limit: i64,
    only_included: bool,
) -> Result<Vec<MemberRow>, StoreError> {
    let rows = db
        .fetch_all(
            "SELECT seq, person_id, contact_point_id, included, reasons, consents FROM segment_members \
             WHERE tenant_id = $1 AND segment_id = $2 AND seq > $3 AND included >= $4 ORDER BY seq LIMIT $5",
            vals![tenant, id, after_seq, i64::from(only_included), limit],
        )
        .await?;
    rows.into_iter()
        .map(|r| {
            Ok(MemberRow {
                seq: r.i64(0)?,
                person_id: r.id(1)?,
                contact_point_id: r.id(2)?,
                included: r.i64(3)? != 0,
                reasons: r.text(4)?,
                consents: r.text(5)?,
            })
        })
        .collect()
}

/// An imported Robinson list: entries and import time.
pub async fn robinson_list(db: &Db, tenant: TenantId, list: &str) -> Result<Option<(i64, Timestamp)>, StoreError> {
    let r = db
        .fetch_optional(
            "SELECT entries, imported_at FROM robinson_lists WHERE tenant_id = $1 AND list = $2",
            vals![tenant, list],
        )
        .await?;
    r.map(|r| Ok((r.i64(0)?, ts(r.i64(1)?)?))).transpose()
}

/// Every hash of a Robinson list.
pub async fn robinson_hashes(db: &Db, tenant: TenantId, list: &str) -> Result<Vec<String>, StoreError> {
    let rows = db
        .fetch_all("SELECT hash FROM robinson_entries WHERE tenant_id = $1 AND list = $2", vals![tenant, list])
        .await?;
    rows.into_iter().map(|r| r.text(0)).collect()
}
