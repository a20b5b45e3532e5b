//! Evidence files of a person and the tenant's settings.

use konsent_domain::attachment::AttachmentMeta;
use konsent_domain::ids::{PersonId, TenantId};
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
            vals![tenant.to_string(), person.to_string()],
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
            vals![tenant.to_string(), person.to_string(), sha256],
        )
        .await?;
    rows.first().map(|r| Ok((meta(r)?, r.bytes(4)?))).transpose()
}

/// The tenant's settings (defaults when never changed).
pub async fn tenant_settings(db: &Db, tenant: TenantId) -> Result<TenantSettings, StoreError> {
    let rows =
        db.fetch_all("SELECT settings FROM tenant_settings WHERE tenant_id = $1", vals![tenant.to_string()]).await?;
    match rows.first() {
        Some(r) => Ok(serde_json::from_str(&r.text(0)?)?),
        None => Ok(TenantSettings::default()),
    }
}
