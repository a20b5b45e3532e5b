//! What the retention sweep looks at: persons with old consents, unconfirmed double opt-ins,
//! stale tokens, old send logs and closed data-subject requests.

use jiff::Timestamp;
use konsent_domain::ids::{ConsentId, PersonId, TenantId};

use crate::db::Db;
use crate::error::StoreError;
use crate::vals;

use super::ts;

/// Persons with a consent neither changed nor used since `before` (µs): the only ones whose
/// items a sweep can find due (E10, D1, D4).
pub async fn sweep_candidates(db: &Db, tenant: TenantId, before: i64) -> Result<Vec<PersonId>, StoreError> {
    let rows = db
        .fetch_all(
            "SELECT DISTINCT person_id FROM consents WHERE tenant_id = $1 AND last_change_at < $2 \
             AND (last_use_at IS NULL OR last_use_at < $2) ORDER BY person_id",
            vals![tenant, before],
        )
        .await?;
    rows.into_iter().map(|r| r.id(0)).collect()
}

/// Consents still `ConsentRequested` whose every confirmation link expired before `before` (µs)
/// unused (D9), with their person.
pub async fn unconfirmed_requests(
    db: &Db,
    tenant: TenantId,
    before: i64,
) -> Result<Vec<(ConsentId, PersonId)>, StoreError> {
    let rows = db
        .fetch_all(
            "SELECT c.id, c.person_id FROM consents c WHERE c.tenant_id = $1 AND c.status = 'ConsentRequested' \
             AND c.id IN (SELECT t.consent_id FROM doi_tokens t WHERE t.tenant_id = $1 AND t.used_at IS NULL \
                          AND t.expires_at < $2) \
             AND NOT EXISTS (SELECT 1 FROM doi_tokens t WHERE t.tenant_id = c.tenant_id AND t.consent_id = c.id \
                             AND (t.used_at IS NOT NULL OR t.expires_at >= $2)) \
             ORDER BY c.id",
            vals![tenant, before],
        )
        .await?;
    rows.into_iter().map(|r| Ok((r.id(0)?, r.id(1)?))).collect()
}

/// How many unused confirmation tokens expired before `before` (µs) (D10).
pub async fn stale_doi_tokens(db: &Db, tenant: TenantId, before: i64) -> Result<u64, StoreError> {
    let r = db
        .fetch_optional(
            "SELECT COUNT(*) FROM doi_tokens WHERE tenant_id = $1 AND used_at IS NULL AND expires_at < $2",
            vals![tenant, before],
        )
        .await?;
    Ok(r.map(|r| r.i64(0)).transpose()?.unwrap_or(0) as u64)
}

/// Sent or cancelled messages (their send log, without content) from before `before` (µs),
/// with the time the log starts (D5).
pub async fn old_messages(db: &Db, tenant: TenantId, before: i64) -> Result<Vec<(String, Timestamp)>, StoreError> {
    let rows = db
        .fetch_all(
            "SELECT id, COALESCE(sent_at, created_at) FROM outbox WHERE tenant_id = $1 \
             AND status IN ('sent', 'cancelled') AND COALESCE(sent_at, created_at) < $2 ORDER BY id",
            vals![tenant, before],
        )
        .await?;
    rows.into_iter().map(|r| Ok((r.text(0)?, ts(r.i64(1)?)?))).collect()
}

/// Data-subject requests closed before `before` (µs), with their closing time (D13).
pub async fn closed_requests(db: &Db, tenant: TenantId, before: i64) -> Result<Vec<(String, Timestamp)>, StoreError> {
    let rows = db
        .fetch_all(
            "SELECT id, closed_at FROM requests WHERE tenant_id = $1 AND closed_at IS NOT NULL AND closed_at < $2 \
             ORDER BY id",
            vals![tenant, before],
        )
        .await?;
    rows.into_iter().map(|r| Ok((r.text(0)?, ts(r.i64(1)?)?))).collect()
}

/// The person's contact points whose value is still stored.
pub async fn contact_points_stored(
    db: &Db,
    tenant: TenantId,
    person: PersonId,
) -> Result<Vec<konsent_domain::ids::ContactPointId>, StoreError> {
    let rows = db
        .fetch_all(
            "SELECT id FROM contact_points WHERE tenant_id = $1 AND person_id = $2 AND sealed IS NOT NULL ORDER BY id",
            vals![tenant, person],
        )
        .await?;
    rows.into_iter().map(|r| r.id(0)).collect()
}
