//! What happened to a person: consents, objections, withdrawals, uses, bases, suppressions, timeline.

use jiff::Timestamp;
use konsent_domain::basis::DocumentedBasis;
use konsent_domain::consent::ConsentRecord;
use konsent_domain::ids::{PersonId, TenantId, UseId};
use konsent_domain::suppression::SuppressionEntry;
use konsent_domain::usage::UseRecord;

use crate::consent_data;
use crate::db::Db;
use crate::error::StoreError;
use crate::vals;

use super::{json_rows, ts};

/// Consent records of a person.
pub async fn consents_of(db: &Db, tenant: TenantId, person: PersonId) -> Result<Vec<ConsentRecord>, StoreError> {
    db.fetch_all(
        "SELECT data FROM consents WHERE tenant_id = $1 AND person_id = $2 ORDER BY given_at, id",
        vals![tenant, person],
    )
    .await?
    .iter()
    .map(|r| consent_data::decode(r, 0))
    .collect()
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
            vals![tenant, person],
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
            vals![tenant, key_hmac],
        )
        .await?,
    )
}

/// Documented bases of a person.
pub async fn bases_of(db: &Db, tenant: TenantId, person: PersonId) -> Result<Vec<DocumentedBasis>, StoreError> {
    json_rows(
        db.fetch_all(
            "SELECT data FROM bases WHERE tenant_id = $1 AND person_id = $2 ORDER BY id",
            vals![tenant, person],
        )
        .await?,
    )
}

/// Uses of a person.
pub async fn uses_of(db: &Db, tenant: TenantId, person: PersonId) -> Result<Vec<UseRecord>, StoreError> {
    json_rows(
        db.fetch_all(
            "SELECT data FROM uses WHERE tenant_id = $1 AND person_id = $2 ORDER BY at, id",
            vals![tenant, person],
        )
        .await?,
    )
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
            vals![tenant, person],
        )
        .await?;
    rows.into_iter().map(|r| Ok((r.id(0)?, serde_json::from_str(&r.text(1)?)?, ts(r.i64(2)?)?))).collect()
}

/// One consent record.
pub async fn consent(
    db: &Db,
    tenant: TenantId,
    id: konsent_domain::ids::ConsentId,
) -> Result<Option<ConsentRecord>, StoreError> {
    db.fetch_optional("SELECT data FROM consents WHERE tenant_id = $1 AND id = $2", vals![tenant, id])
        .await?
        .map(|r| consent_data::decode(&r, 0))
        .transpose()
}

/// The ledger entries of a person (their timeline), oldest first; their events in a batch entry
/// as entries of that entry's seq.
pub async fn timeline(
    db: &Db,
    tenant: TenantId,
    person: PersonId,
) -> Result<Vec<konsent_domain::ledger::Entry>, StoreError> {
    let mut out = Vec::new();
    for e in crate::ledger::person_entries(db, tenant, &person).await? {
        out.extend(e.events()?);
    }
    Ok(out)
}

/// Which of these use ids are already recorded.
pub async fn existing_uses(
    db: &Db,
    tenant: TenantId,
    ids: &[UseId],
) -> Result<std::collections::BTreeSet<UseId>, StoreError> {
    let mut out = std::collections::BTreeSet::new();
    for chunk in ids.chunks(500) {
        let mut sql = String::from("SELECT id FROM uses WHERE tenant_id = $1 AND id IN (");
        let mut vals = vals![tenant];
        for (i, id) in chunk.iter().enumerate() {
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!("${}", i + 2));
            vals.push(id.into());
        }
        sql.push(')');
        for r in db.fetch_all_built(sql, vals).await? {
            out.insert(r.id(0)?);
        }
    }
    Ok(out)
}
