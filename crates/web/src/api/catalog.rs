//! Advertisers, product categories and consent text versions.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use jiff::Timestamp;
use konsent_domain::channel::{CategoryDef, ProductCategory};
use konsent_domain::consent::Scope;
use konsent_domain::contact::PostalAddress;
use konsent_domain::ids::AdvertiserId;
use konsent_domain::party::Advertiser;
use konsent_domain::text::PrivacyNoticeRef;
use konsent_service::FieldError;
use konsent_service::catalog::NewText;
use konsent_store::queries;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::AppState;
use crate::auth::{Caller, Permission};
use crate::json::ApiJson;
use crate::problem::ApiError;

fn store(e: konsent_store::StoreError) -> ApiError {
    konsent_service::ServiceError::from(e).into()
}

pub async fn list_advertisers(State(s): State<AppState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    caller.require(Permission::Check)?;
    Ok(Json(json!({"items": queries::advertisers(&s.k.db, caller.tenant).await.map_err(store)?})))
}

/// Body of `POST /v1/advertisers`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdvertiserBody {
    legal_name: String,
    seat: String,
    address_for_service: PostalAddress,
}

pub async fn create_advertiser(
    State(s): State<AppState>,
    caller: Caller,
    ApiJson(b): ApiJson<AdvertiserBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    caller.require(Permission::ManageCatalog)?;
    let a = Advertiser::new(s.k.id(AdvertiserId::from_parts), &b.legal_name, &b.seat, b.address_for_service)
        .map_err(|e| ApiError::invalid(vec![FieldError { field: "advertiser".into(), message: e.to_string() }]))?;
    s.k.register_advertiser(caller.tenant, &caller.actor(), a.clone()).await?;
    Ok((StatusCode::CREATED, Json(json!(a))))
}

pub async fn list_categories(State(s): State<AppState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    caller.require(Permission::Check)?;
    Ok(Json(json!({"items": queries::categories(&s.k.db, caller.tenant).await.map_err(store)?})))
}

/// Body of `POST /v1/categories`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CategoryBody {
    code: ProductCategory,
    label_de: String,
    label_en: String,
}

pub async fn define_category(
    State(s): State<AppState>,
    caller: Caller,
    ApiJson(b): ApiJson<CategoryBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    caller.require(Permission::ManageCatalog)?;
    let c = CategoryDef { code: b.code, label_de: b.label_de, label_en: b.label_en };
    s.k.define_category(caller.tenant, &caller.actor(), c.clone()).await?;
    Ok((StatusCode::CREATED, Json(json!(c))))
}

pub async fn list_texts(State(s): State<AppState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    caller.require(Permission::Check)?;
    Ok(Json(json!({"items": queries::texts(&s.k.db, caller.tenant).await.map_err(store)?})))
}

/// Body of `POST /v1/texts`: publishes a new, immutable version of the text family `key` (R10).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TextBody {
    key: String,
    #[serde(default = "de")]
    language: String,
    title: String,
    body: String,
    scope: Scope,
    #[serde(default)]
    valid_from: Option<Timestamp>,
    #[serde(default)]
    valid_to: Option<Timestamp>,
    privacy_notice: PrivacyNoticeRef,
}

fn de() -> String {
    "de".into()
}

pub async fn publish_text(
    State(s): State<AppState>,
    caller: Caller,
    ApiJson(b): ApiJson<TextBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    caller.require(Permission::ManageCatalog)?;
    let key = b.key.trim().to_string();
    if key.is_empty() || key.len() > 100 {
        return Err(ApiError::invalid(vec![FieldError {
            field: "key".into(),
            message: "must be 1-100 characters".into(),
        }]));
    }
    let t = NewText {
        key,
        language: b.language,
        title: b.title,
        body: b.body,
        scope: b.scope,
        valid_from: b.valid_from.unwrap_or_else(|| s.k.now()),
        valid_to: b.valid_to,
        privacy_notice: b.privacy_notice,
    };
    let text = s.k.publish_text(caller.tenant, &caller.actor(), t).await?;
    Ok((StatusCode::CREATED, Json(json!(text))))
}
