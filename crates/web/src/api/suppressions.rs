//! Suppression entries and API keys.

use std::collections::BTreeSet;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use konsent_domain::channel::Channel;
use konsent_domain::ids::AdvertiserId;
use konsent_domain::suppression::{SuppressionReason, SuppressionScope};
use konsent_service::apikeys::{self, Role};
use serde::Deserialize;
use serde_json::{Value, json};

use super::ContactInput;
use crate::AppState;
use crate::auth::{Caller, Permission};
use crate::json::ApiJson;
use crate::problem::ApiError;

/// Body of `POST /v1/suppressions`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SuppressionBody {
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    phone: Option<String>,
    #[serde(default)]
    channels: BTreeSet<Channel>,
    #[serde(default)]
    advertisers: BTreeSet<AdvertiserId>,
    reason: SuppressionReason,
    #[serde(default)]
    source: Option<String>,
}

pub async fn add(
    State(s): State<AppState>,
    caller: Caller,
    ApiJson(b): ApiJson<SuppressionBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    caller.require(Permission::ManageSuppression)?;
    let contact = ContactInput { email: b.email, phone: b.phone, postal: None }
        .parse("email|phone")
        .map_err(|e| ApiError::invalid(vec![e]))?;
    let scope = SuppressionScope { channels: b.channels, advertisers: b.advertisers };
    let e =
        s.k.suppress(caller.tenant, &caller.actor(), &contact, scope, b.reason, b.source.as_deref().unwrap_or("api"))
            .await?;
    Ok((StatusCode::CREATED, Json(json!(e))))
}

/// Body of `POST /v1/suppressions/lookup` (a POST so addresses stay out of URLs and logs).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LookupBody {
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    phone: Option<String>,
}

pub async fn lookup(
    State(s): State<AppState>,
    caller: Caller,
    ApiJson(b): ApiJson<LookupBody>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Permission::ManageSuppression)?;
    let contact = ContactInput { email: b.email, phone: b.phone, postal: None }
        .parse("email|phone")
        .map_err(|e| ApiError::invalid(vec![e]))?;
    Ok(Json(json!({"items": s.k.suppressions_for(caller.tenant, &contact).await?})))
}

/// Body of `POST /v1/api-keys`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyBody {
    role: Role,
    #[serde(default)]
    label: Option<String>,
    #[serde(default)]
    org_unit_id: Option<String>,
}

pub async fn create_api_key(
    State(s): State<AppState>,
    caller: Caller,
    ApiJson(b): ApiJson<KeyBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    caller.require(Permission::ManageKeys)?;
    let key = apikeys::create(&s.k, caller.tenant, b.role, b.org_unit_id, b.label.as_deref().unwrap_or("api")).await?;
    Ok((StatusCode::CREATED, Json(json!({"api_key": key, "role": b.role, "note": "shown only now"}))))
}
