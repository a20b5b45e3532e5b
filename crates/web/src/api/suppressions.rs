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
use utoipa::ToSchema;

use super::ContactInput;
use super::schema::{ChannelDoc, RoleDoc, SuppressionReasonDoc};
use crate::AppState;
use crate::auth::{Caller, Permission};
use crate::json::ApiJson;
use crate::problem::{
    ApiError, BadRequest, Forbidden, PayloadTooLarge, Unauthorized, Unprocessable, UnsupportedMediaType,
};

/// Body of `POST /v1/suppressions`: exactly one of `email`, `phone`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SuppressionBody {
    /// E-mail address to suppress.
    #[serde(default)]
    email: Option<String>,
    /// Phone number to suppress.
    #[serde(default)]
    phone: Option<String>,
    /// Channels covered; empty = all.
    #[serde(default)]
    #[schema(value_type = Vec<ChannelDoc>)]
    channels: BTreeSet<Channel>,
    /// Advertisers covered; empty = all.
    #[serde(default)]
    #[schema(value_type = Vec<uuid::Uuid>)]
    advertisers: BTreeSet<AdvertiserId>,
    /// Why.
    #[schema(value_type = SuppressionReasonDoc)]
    reason: SuppressionReason,
    /// Free-text source (at most 100 characters kept), e.g. `preference_centre`; default `api`.
    #[serde(default)]
    source: Option<String>,
}

/// Description of a suppression entry in responses.
const ENTRY: &str = "id, key_hmac (keyed hash of the contact point: the address itself is not stored), key_kind, \
    scope (channels, advertisers; empty = all), reason, created_at, source";

/// Sperreintrag anlegen / suppress a contact point (only its keyed hash is stored).
#[utoipa::path(
    post, path = "/v1/suppressions", tag = "suppressions", security(("bearer" = [])),
    request_body = SuppressionBody,
    responses(
        (status = 201, description = ENTRY, body = Object),
        (status = 400, response = BadRequest), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden), (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType), (status = 422, response = Unprocessable),
    )
)]
pub async fn add(
    State(s): State<AppState>,
    caller: Caller,
    ApiJson(b): ApiJson<SuppressionBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    caller.require(Permission::ManageSuppression)?;
    let contact = ContactInput { email: b.email, phone: b.phone, postal: None }
        .parse("", "email|phone")
        .map_err(|e| ApiError::invalid(vec![e]))?;
    let scope = SuppressionScope { channels: b.channels, advertisers: b.advertisers };
    let e =
        s.k.suppress(caller.tenant, &caller.actor(), &contact, scope, b.reason, b.source.as_deref().unwrap_or("api"))
            .await?;
    Ok((StatusCode::CREATED, Json(json!(e))))
}

/// Body of `POST /v1/suppressions/lookup` (a POST so addresses stay out of URLs and logs):
/// exactly one of `email`, `phone`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LookupBody {
    /// E-mail address to look up.
    #[serde(default)]
    email: Option<String>,
    /// Phone number to look up.
    #[serde(default)]
    phone: Option<String>,
}

/// Sperreinträge suchen / the suppression entries matching a contact point.
#[utoipa::path(
    post, path = "/v1/suppressions/lookup", tag = "suppressions", security(("bearer" = [])),
    request_body = LookupBody,
    responses(
        (status = 200, description = "`items`: matching entries, each with the fields of a new entry", body = Object),
        (status = 400, response = BadRequest), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden), (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType), (status = 422, response = Unprocessable),
    )
)]
pub async fn lookup(
    State(s): State<AppState>,
    caller: Caller,
    ApiJson(b): ApiJson<LookupBody>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Permission::ManageSuppression)?;
    let contact = ContactInput { email: b.email, phone: b.phone, postal: None }
        .parse("", "email|phone")
        .map_err(|e| ApiError::invalid(vec![e]))?;
    Ok(Json(json!({"items": s.k.suppressions_for(caller.tenant, &contact).await?})))
}

/// Body of `POST /v1/api-keys`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeyBody {
    /// Role of the new key.
    #[schema(value_type = RoleDoc)]
    role: Role,
    /// Label for administrators; default `api`.
    #[serde(default)]
    label: Option<String>,
    /// Restricts the key to the persons of one org unit.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    org_unit_id: Option<konsent_domain::ids::OrgUnitId>,
}

/// API-Schlüssel anlegen / create an API key (admin only).
///
/// The secret `knst_…` is returned only in this response; only its hash is stored.
#[utoipa::path(
    post, path = "/v1/api-keys", tag = "api-keys", security(("bearer" = [])),
    request_body = KeyBody,
    responses(
        (status = 201, description = "Angelegt / `api_key` (shown only now), `role`, `note`", body = Object,
            example = json!({"api_key": "knst_…", "role": "agent", "note": "shown only now"})),
        (status = 400, response = BadRequest), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden), (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType), (status = 422, response = Unprocessable),
    )
)]
pub async fn create_api_key(
    State(s): State<AppState>,
    caller: Caller,
    ApiJson(b): ApiJson<KeyBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    caller.require(Permission::ManageKeys)?;
    let key = apikeys::create(&s.k, caller.tenant, b.role, b.org_unit_id, b.label.as_deref().unwrap_or("api")).await?;
    Ok((StatusCode::CREATED, Json(json!({"api_key": key, "role": b.role, "note": "shown only now"}))))
}

/// Body of `POST /v1/inbound/sms`: a text message the SMS gateway received.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InboundSms {
    /// Sender number.
    #[schema(example = "+491712345678")]
    from: String,
    /// Text, e.g. `STOP`.
    #[schema(example = "STOP")]
    text: String,
}

/// Eingehende SMS / an inbound text message from the SMS gateway (R72): an opt-out keyword (STOP,
/// STOPP, ABMELDEN, …) withdraws SMS from every consent bound to the number and suppresses it for
/// SMS at once; other texts are ignored.
#[utoipa::path(
    post, path = "/v1/inbound/sms", tag = "suppressions", security(("bearer" = [])),
    request_body = InboundSms,
    responses(
        (status = 200, description = "`{opt_out: bool, consents_withdrawn}`", body = Object),
        (status = 400, response = BadRequest), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden), (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType), (status = 422, response = Unprocessable),
    )
)]
pub async fn inbound_sms(
    State(s): State<AppState>,
    caller: Caller,
    ApiJson(b): ApiJson<InboundSms>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Permission::ManageSuppression)?;
    let from = konsent_domain::contact::PhoneE164::parse(&b.from).map_err(|e| {
        ApiError::invalid(vec![konsent_service::FieldError { field: "from".into(), message: e.to_string() }])
    })?;
    let r = s.k.sms_opt_out(caller.tenant, &caller.actor(), &from, &b.text).await?;
    Ok(Json(json!({"opt_out": r.is_some(), "consents_withdrawn": r.unwrap_or(0)})))
}
