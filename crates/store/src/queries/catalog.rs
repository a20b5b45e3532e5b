//! Tenants and their catalogue: advertisers, consent texts, product categories.

use konsent_domain::ids::{TenantId, TextId};
use konsent_domain::party::Advertiser;
use konsent_domain::text::{ConsentTextVersion, TextState};

use crate::db::Db;
use crate::error::StoreError;
use crate::vals;

use super::json_rows;

/// Tenants (id, name).
pub async fn tenants(db: &Db) -> Result<Vec<(TenantId, String)>, StoreError> {
    let rows = db.fetch_all("SELECT id, name FROM tenants ORDER BY created_at, id", vec![]).await?;
    rows.into_iter().map(|r| Ok((r.id(0)?, r.text(1)?))).collect()
}

/// Advertisers of a tenant.
pub async fn advertisers(db: &Db, tenant: TenantId) -> Result<Vec<Advertiser>, StoreError> {
    json_rows(
        db.fetch_all("SELECT data FROM advertisers WHERE tenant_id = $1 ORDER BY legal_name, id", vals![tenant])
            .await?,
    )
}

/// Every text version of a tenant (drafts, published, retired), by family and version.
pub async fn texts(db: &Db, tenant: TenantId) -> Result<Vec<ConsentTextVersion>, StoreError> {
    db.fetch_all(
        "SELECT data, state FROM consent_texts WHERE tenant_id = $1 ORDER BY text_key, version, id",
        vals![tenant],
    )
    .await?
    .into_iter()
    .map(text_row)
    .collect()
}

/// A text from `(data, state)`: the state column is the current one (retiring changes only it).
fn text_row(r: crate::db::Row) -> Result<ConsentTextVersion, StoreError> {
    let mut t: ConsentTextVersion = serde_json::from_str(&r.text(0)?)?;
    t.state = match r.text(1)?.as_str() {
        "draft" => TextState::Draft,
        "published" => TextState::Published,
        "retired" => TextState::Retired,
        other => return Err(StoreError::Corrupt(format!("unknown text state {other}"))),
    };
    Ok(t)
}

/// Product categories of a tenant.
pub async fn categories(db: &Db, tenant: TenantId) -> Result<Vec<konsent_domain::channel::CategoryDef>, StoreError> {
    let rows = db
        .fetch_all("SELECT code, label_de, label_en FROM categories WHERE tenant_id = $1 ORDER BY code", vals![tenant])
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

/// One consent text version.
pub async fn text(
    db: &Db,
    tenant: TenantId,
    id: konsent_domain::ids::TextId,
) -> Result<Option<ConsentTextVersion>, StoreError> {
    db.fetch_optional("SELECT data, state FROM consent_texts WHERE tenant_id = $1 AND id = $2", vals![tenant, id])
        .await?
        .map(text_row)
        .transpose()
}

/// A signup form by its public slug, with its tenant.
pub async fn form(db: &Db, slug: &str) -> Result<Option<(TenantId, konsent_domain::form::FormDef)>, StoreError> {
    db.fetch_optional("SELECT tenant_id, data FROM forms WHERE slug = $1", vals![slug])
        .await?
        .map(|r| Ok((r.id(0)?, serde_json::from_str(&r.text(1)?)?)))
        .transpose()
}

/// Records that a form was served (which text version the person saw).
pub async fn form_served(
    db: &Db,
    id: &str,
    tenant: TenantId,
    slug: &str,
    text: &ConsentTextVersion,
    at: i64,
) -> Result<(), StoreError> {
    db.exec(
        "INSERT INTO form_serves (id, tenant_id, slug, text_id, text_sha256, served_at) VALUES ($1, $2, $3, $4, $5, $6)",
        vals![id, tenant, slug, text.id, text.sha256.clone(), at],
    )
    .await?;
    Ok(())
}

/// When a form was served under `id` for `slug`, and with which text version.
pub async fn form_serve(db: &Db, id: &str, slug: &str) -> Result<Option<(TextId, i64)>, StoreError> {
    db.fetch_optional("SELECT text_id, served_at FROM form_serves WHERE id = $1 AND slug = $2", vals![id, slug])
        .await?
        .map(|r| Ok((r.id(0)?, r.i64(1)?)))
        .transpose()
}

/// The forms of a tenant, by slug.
pub async fn forms_of(db: &Db, tenant: TenantId) -> Result<Vec<konsent_domain::form::FormDef>, StoreError> {
    json_rows(db.fetch_all("SELECT data FROM forms WHERE tenant_id = $1 ORDER BY slug", vals![tenant]).await?)
}
