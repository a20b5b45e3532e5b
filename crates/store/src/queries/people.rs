//! Persons, contact points (blind index) and their sealed vault rows.

use jiff::Timestamp;
use konsent_domain::ids::{ContactPointId, PersonId, TenantId};

use crate::db::Db;
use crate::error::StoreError;
use crate::vals;

use super::ts;

/// Person ids of a tenant with a contact point of this blind index.
pub async fn persons_by_blind_index(
    db: &Db,
    tenant: TenantId,
    blind_index: &str,
) -> Result<Vec<(PersonId, ContactPointId)>, StoreError> {
    let rows = db
        .fetch_all(
            "SELECT person_id, id FROM contact_points WHERE tenant_id = $1 AND blind_index = $2 ORDER BY created_at, id",
            vals![tenant, crate::value::blind_key(db.engine(), blind_index)],
        )
        .await?;
    rows.into_iter().map(|r| Ok((r.id(0)?, r.id(1)?))).collect()
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
            vals![tenant, person],
        )
        .await?;
    rows.into_iter()
        .map(|r| {
            Ok(ContactPointRow {
                id: r.id(0)?,
                kind: r.text(1)?,
                blind_index: r.blind_key(2)?,
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
    pub org_unit_id: Option<konsent_domain::ids::OrgUnitId>,
    /// Current data version.
    pub data_version: i64,
    /// Restricted (Art. 18, or after an erasure request): no selection may use the person.
    pub restricted: bool,
}

/// One person.
pub async fn person(db: &Db, tenant: TenantId, person: PersonId) -> Result<Option<PersonRow>, StoreError> {
    let Some(r) = db
        .fetch_optional(
            "SELECT id, recipient_class, org_unit_id, data_version, CAST(CASE WHEN EXISTS (SELECT 1 FROM restrictions r \
             WHERE r.tenant_id = persons.tenant_id AND r.person_id = persons.id) THEN 1 ELSE 0 END AS BIGINT) \
             FROM persons WHERE tenant_id = $1 AND id = $2",
            vals![tenant, person],
        )
        .await?
    else {
        return Ok(None);
    };
    Ok(Some(PersonRow {
        id: r.id(0)?,
        recipient_class: r.text(1)?,
        org_unit_id: r.opt_id(2)?,
        data_version: r.i64(3)?,
        restricted: r.i64(4)? == 1,
    }))
}

/// The wrapped data key of a person, if not erased.
pub async fn person_key(db: &Db, tenant: TenantId, person: PersonId) -> Result<Option<Vec<u8>>, StoreError> {
    db.fetch_optional(
        "SELECT wrapped_key FROM persons WHERE tenant_id = $1 AND id = $2 AND wrapped_key IS NOT NULL",
        vals![tenant, person],
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
        "SELECT sealed_version, sealed, sealed_sha256 FROM persons WHERE tenant_id = $1 AND id = $2 AND sealed IS NOT NULL",
        vals![tenant, person],
    )
    .await?
    .map(|r| Ok((r.i64(0)?, r.bytes(1)?, r.text(2)?)))
    .transpose()
}

/// The sealed value of a contact point.
pub async fn contact_value(db: &Db, tenant: TenantId, cp: ContactPointId) -> Result<Option<Vec<u8>>, StoreError> {
    db.fetch_optional(
        "SELECT sealed FROM contact_points WHERE tenant_id = $1 AND id = $2 AND sealed IS NOT NULL",
        vals![tenant, cp],
    )
    .await?
    .map(|r| r.bytes(0))
    .transpose()
}
