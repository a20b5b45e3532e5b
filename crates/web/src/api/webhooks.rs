//! Webhook management (admin only): outgoing endpoints (receivers of consent events, signed
//! Standard Webhooks style), their deliveries (list, replay), and incoming endpoints for
//! newsletter tools' unsubscribes, bounces and complaints.

use std::collections::BTreeSet;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use konsent_domain::ids::AdvertiserId;
use konsent_domain::webhook::inbound::Provider;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::auth::{Caller, Permission};
use crate::json::ApiJson;
use crate::problem::{
    ApiError, BadRequest, Conflict, Forbidden, NotFound, PayloadTooLarge, Unauthorized, Unprocessable,
    UnsupportedMediaType,
};
use crate::query::ApiQuery;

/// Body of `POST /v1/webhooks`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookBody {
    /// Receiver URL: `https://…` (plain http and private addresses only where the operator allowed them).
    #[schema(example = "https://crm.example.de/hooks/konsent")]
    url: String,
    /// Event types: `consent.given`, `consent.withdrawn`, `objection.recorded`, `erasure.requested`,
    /// `person.erased`, `suppression.added`, `person.corrected`, `restriction.requested`,
    /// `restriction.lifted`.
    #[schema(example = json!(["consent.withdrawn", "objection.recorded"]))]
    events: Vec<String>,
    /// Note for administrators (at most 200 characters).
    #[serde(default)]
    description: String,
}

/// Webhook anlegen / register a receiver of consent events.
///
/// The signing secret (`whsec_…`) is returned only in this response. Every delivery carries
/// `webhook-id`, `webhook-timestamp` and `webhook-signature` (Standard Webhooks); payloads hold ids
/// only.
#[utoipa::path(
    post, path = "/v1/webhooks", tag = "webhooks", security(("bearer" = [])),
    request_body = WebhookBody,
    responses(
        (status = 201, description = "Angelegt / `{id, url, events, description, created_at, secret}` (secret shown only now)", body = Object),
        (status = 400, response = BadRequest), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden), (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType), (status = 422, response = Unprocessable),
    )
)]
pub async fn create_webhook(
    State(s): State<AppState>,
    caller: Caller,
    ApiJson(b): ApiJson<WebhookBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    caller.require(Permission::ManageWebhooks)?;
    let (view, secret) = s.k.create_webhook(caller.tenant, &caller.actor(), &b.url, &b.events, &b.description).await?;
    let mut v = json!(view);
    v["secret"] = json!(secret);
    v["note"] = json!("secret shown only now");
    Ok((StatusCode::CREATED, Json(v)))
}

/// Webhooks / the registered receivers (without secrets).
#[utoipa::path(
    get, path = "/v1/webhooks", tag = "webhooks", security(("bearer" = [])),
    responses(
        (status = 200, description = "`{items: [{id, url, events, description, created_at}]}`", body = Object),
        (status = 401, response = Unauthorized), (status = 403, response = Forbidden),
    )
)]
pub async fn list_webhooks(State(s): State<AppState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    caller.require(Permission::ManageWebhooks)?;
    Ok(Json(json!({"items": s.k.webhooks(caller.tenant).await?})))
}

/// Webhook löschen / remove a receiver; what is still pending for it is cancelled.
#[utoipa::path(
    delete, path = "/v1/webhooks/{id}", tag = "webhooks", security(("bearer" = [])),
    params(("id" = String, Path, description = "Webhook id (`wh_…`)")),
    responses(
        (status = 204, description = "Gelöscht / deleted"),
        (status = 401, response = Unauthorized), (status = 403, response = Forbidden), (status = 404, response = NotFound),
    )
)]
pub async fn delete_webhook(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    caller.require(Permission::ManageWebhooks)?;
    s.k.delete_webhook(caller.tenant, &caller.actor(), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Query of `GET /v1/webhooks/deliveries`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeliveryQuery {
    /// `pending`, `delivered`, `parked` or `cancelled`; default all.
    status: Option<String>,
}

/// Zustellungen / deliveries, newest first (at most 500): status, attempts, each attempt's status
/// code or error kind, and the payload sent.
#[utoipa::path(
    get, path = "/v1/webhooks/deliveries", tag = "webhooks", security(("bearer" = [])),
    params(DeliveryQuery),
    responses(
        (status = 200, description = "`{items: [{id, endpoint_id, event_type, ledger_seq, status, attempts, next_attempt_at, created_at, delivered_at, last_status, last_error, log, payload}]}`", body = Object),
        (status = 400, response = BadRequest), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden), (status = 422, response = Unprocessable),
    )
)]
pub async fn list_deliveries(
    State(s): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<DeliveryQuery>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Permission::ManageWebhooks)?;
    Ok(Json(json!({"items": s.k.webhook_deliveries(caller.tenant, q.status.as_deref()).await?})))
}

/// Zustellung wiederholen / queue a parked or delivered delivery again (same id and body).
#[utoipa::path(
    post, path = "/v1/webhooks/deliveries/{id}/replay", tag = "webhooks", security(("bearer" = [])),
    params(("id" = String, Path, description = "Delivery id (`msg_…`)")),
    responses(
        (status = 202, description = "Wieder eingereiht / queued, due now: `{id, status}`", body = Object),
        (status = 401, response = Unauthorized), (status = 403, response = Forbidden),
        (status = 404, response = NotFound), (status = 409, response = Conflict),
    )
)]
pub async fn replay(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    caller.require(Permission::ManageWebhooks)?;
    s.k.replay_webhook(caller.tenant, &id).await?;
    Ok((StatusCode::ACCEPTED, Json(json!({"id": id, "status": "pending"}))))
}

/// Body of `POST /v1/webhooks/inbound`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InboundBody {
    /// `mailchimp`, `hubspot` or `cleverreach`.
    #[schema(example = "mailchimp")]
    provider: String,
    /// Whose e-mail consents an unsubscribe withdraws; empty: every advertiser.
    #[serde(default)]
    #[schema(value_type = Vec<uuid::Uuid>)]
    advertisers: BTreeSet<AdvertiserId>,
    /// HubSpot: the app's client secret (checks `X-HubSpot-Signature-v3`, required for HubSpot);
    /// CleverReach: the `call_token` of the registration (checks `X-CR-Calltoken`; may be set later).
    #[serde(default)]
    signing_secret: Option<String>,
    /// Note for administrators.
    #[serde(default)]
    description: String,
}

/// Eingehender Webhook / a callback URL for a newsletter tool's unsubscribes, bounces, complaints.
///
/// The URL (its last segment is a secret token) is returned only in this response.
#[utoipa::path(
    post, path = "/v1/webhooks/inbound", tag = "webhooks", security(("bearer" = [])),
    request_body = InboundBody,
    responses(
        (status = 201, description = "Angelegt / `{id, provider, advertisers, description, signing_secret_set, created_at, url, verify_token}` (url shown only now; verify_token for CleverReach)", body = Object),
        (status = 400, response = BadRequest), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden), (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType), (status = 422, response = Unprocessable),
    )
)]
pub async fn create_inbound(
    State(s): State<AppState>,
    caller: Caller,
    ApiJson(b): ApiJson<InboundBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    caller.require(Permission::ManageWebhooks)?;
    let provider: Provider = b.provider.parse().map_err(|m: String| {
        ApiError::invalid(vec![konsent_service::FieldError { field: "provider".into(), message: m }])
    })?;
    if provider == Provider::Hubspot && b.signing_secret.is_none() {
        return Err(ApiError::invalid(vec![konsent_service::FieldError {
            field: "signing_secret".into(),
            message: "HubSpot calls are checked with the app's client secret: give it".into(),
        }]));
    }
    let n =
        s.k.create_inbound(
            caller.tenant,
            &caller.actor(),
            provider,
            b.advertisers,
            b.signing_secret.as_deref(),
            &b.description,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(json!(n))))
}

/// Eingehende Webhooks / the callback URLs (without tokens and secrets).
#[utoipa::path(
    get, path = "/v1/webhooks/inbound", tag = "webhooks", security(("bearer" = [])),
    responses(
        (status = 200, description = "`{items: [{id, provider, advertisers, description, signing_secret_set, created_at}]}`", body = Object),
        (status = 401, response = Unauthorized), (status = 403, response = Forbidden),
    )
)]
pub async fn list_inbound(State(s): State<AppState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    caller.require(Permission::ManageWebhooks)?;
    Ok(Json(json!({"items": s.k.inbound_webhooks(caller.tenant).await?})))
}

/// Body of `PUT /v1/webhooks/inbound/{id}/secret`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SecretBody {
    /// HubSpot client secret or CleverReach call token.
    signing_secret: String,
}

/// Signaturgeheimnis setzen / set the provider's signing secret (e.g. CleverReach's call token,
/// known only after the hook was registered).
#[utoipa::path(
    put, path = "/v1/webhooks/inbound/{id}/secret", tag = "webhooks", security(("bearer" = [])),
    params(("id" = String, Path, description = "Incoming webhook id (`whin_…`)")),
    request_body = SecretBody,
    responses(
        (status = 204, description = "Gesetzt / set"),
        (status = 400, response = BadRequest), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden), (status = 404, response = NotFound),
        (status = 413, response = PayloadTooLarge), (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Unprocessable),
    )
)]
pub async fn set_inbound_secret(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<SecretBody>,
) -> Result<StatusCode, ApiError> {
    caller.require(Permission::ManageWebhooks)?;
    s.k.set_inbound_secret(caller.tenant, &caller.actor(), &id, &b.signing_secret).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Eingehenden Webhook löschen / remove a callback URL (it answers 404 from now on).
#[utoipa::path(
    delete, path = "/v1/webhooks/inbound/{id}", tag = "webhooks", security(("bearer" = [])),
    params(("id" = String, Path, description = "Incoming webhook id (`whin_…`)")),
    responses(
        (status = 204, description = "Gelöscht / deleted"),
        (status = 401, response = Unauthorized), (status = 403, response = Forbidden), (status = 404, response = NotFound),
    )
)]
pub async fn delete_inbound(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    caller.require(Permission::ManageWebhooks)?;
    s.k.delete_inbound(caller.tenant, &caller.actor(), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
