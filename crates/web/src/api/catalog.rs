//! Advertisers and product categories.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use konsent_domain::channel::{CategoryDef, ProductCategory};
use konsent_domain::contact::PostalAddress;
use konsent_domain::ids::AdvertiserId;
use konsent_domain::party::Advertiser;
use konsent_service::FieldError;
use konsent_store::queries;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use super::schema::{AdvertiserDoc, CategoryDoc, PostalAddressDoc};
use crate::AppState;
use crate::auth::{Caller, Permission};
use crate::json::ApiJson;
use crate::problem::{
    ApiError, BadRequest, Forbidden, PayloadTooLarge, Unauthorized, Unprocessable, UnsupportedMediaType,
};

fn store(e: konsent_store::StoreError) -> ApiError {
    konsent_service::ServiceError::from(e).into()
}

/// Werbende Unternehmen auflisten / list the tenant's advertisers.
#[utoipa::path(
    get, path = "/v1/advertisers", tag = "catalog", security(("bearer" = [])),
    responses(
        (status = 200, description = "`items`: the advertisers", body = inline(AdvertiserList)),
        (status = 401, response = Unauthorized), (status = 403, response = Forbidden),
    )
)]
pub async fn list_advertisers(State(s): State<AppState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    caller.require(Permission::Check)?;
    Ok(Json(json!({"items": queries::advertisers(&s.k.db, caller.tenant).await.map_err(store)?})))
}

/// `{"items": [...]}` of `GET /v1/advertisers`.
#[derive(ToSchema)]
#[expect(dead_code, reason = "describes a response in the OpenAPI document")]
struct AdvertiserList {
    /// The advertisers.
    items: Vec<AdvertiserDoc>,
}

/// Body of `POST /v1/advertisers`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdvertiserBody {
    /// Legal name (Firma), e.g. `Muster Versicherungsmakler GmbH`.
    #[schema(example = "Muster Versicherungsmakler GmbH")]
    legal_name: String,
    /// Registered seat (Sitz), e.g. `Köln`.
    #[schema(example = "Köln")]
    seat: String,
    /// Address for service (ladungsfähige Anschrift).
    #[schema(value_type = PostalAddressDoc)]
    address_for_service: PostalAddress,
}

/// Werbendes Unternehmen anlegen / register an advertiser that consents can name.
#[utoipa::path(
    post, path = "/v1/advertisers", tag = "catalog", security(("bearer" = [])),
    request_body = AdvertiserBody,
    responses(
        (status = 201, description = "Angelegt / the advertiser", body = AdvertiserDoc),
        (status = 400, response = BadRequest), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden), (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType), (status = 422, response = Unprocessable),
    )
)]
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

/// Sparten auflisten / list the tenant's product categories.
#[utoipa::path(
    get, path = "/v1/categories", tag = "catalog", security(("bearer" = [])),
    responses(
        (status = 200, description = "`items`: the categories", body = inline(CategoryList)),
        (status = 401, response = Unauthorized), (status = 403, response = Forbidden),
    )
)]
pub async fn list_categories(State(s): State<AppState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    caller.require(Permission::Check)?;
    Ok(Json(json!({"items": queries::categories(&s.k.db, caller.tenant).await.map_err(store)?})))
}

/// `{"items": [...]}` of `GET /v1/categories`.
#[derive(ToSchema)]
#[expect(dead_code, reason = "describes a response in the OpenAPI document")]
struct CategoryList {
    /// The categories.
    items: Vec<CategoryDoc>,
}

/// Body of `POST /v1/categories`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CategoryBody {
    /// Code: 2-40 characters of `a-z`, `0-9`, `_`.
    #[schema(value_type = String, example = "insurance", pattern = "^[a-z0-9_]{2,40}$")]
    code: ProductCategory,
    /// German label (1-200 characters).
    #[schema(example = "Versicherungen")]
    label_de: String,
    /// English label (1-200 characters).
    #[schema(example = "Insurance")]
    label_en: String,
}

/// Sparte anlegen oder umbenennen / define or relabel a product category.
#[utoipa::path(
    post, path = "/v1/categories", tag = "catalog", security(("bearer" = [])),
    request_body = CategoryBody,
    responses(
        (status = 201, description = "Angelegt / the category", body = CategoryDoc),
        (status = 400, response = BadRequest), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden), (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType), (status = 422, response = Unprocessable),
    )
)]
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
