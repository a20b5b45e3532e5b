//! `POST /v1/check` (the gate) and `POST /v1/uses` (the use log, R23/R28).

use std::collections::BTreeSet;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use jiff::Timestamp;
use konsent_domain::channel::{Channel, ProductCategory};
use konsent_domain::gate::CampaignPolicy;
use konsent_domain::ids::AdvertiserId;
use konsent_domain::usage::UseOutcome;
use konsent_service::gate::CheckRequest;
use konsent_service::uses::NewUse;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

use super::ContactInput;
use super::schema::{CampaignPolicyDoc, ChannelDoc, PostalAddressDoc, UseOutcomeDoc};
use crate::AppState;
use crate::auth::{Caller, Permission};
use crate::json::ApiJson;
use crate::problem::{
    ApiError, BadRequest, Forbidden, PayloadTooLarge, Problem, Unauthorized, Unprocessable, UnsupportedMediaType,
};

/// Body of `POST /v1/check`: one contact point (exactly one of `email`, `phone`, `postal`) and
/// the planned contact.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "phone": "0171 2345678", "channel": "phone_live",
    "advertiser_id": "01956f3a-0000-7000-8000-000000000001", "product_categories": ["insurance"]
}))]
pub struct CheckBody {
    /// E-mail address to contact.
    #[serde(default)]
    email: Option<String>,
    /// Phone number to contact (national numbers default to Germany).
    #[serde(default)]
    phone: Option<String>,
    /// Postal address to contact.
    #[serde(default)]
    #[schema(value_type = Option<PostalAddressDoc>)]
    postal: Option<konsent_domain::contact::PostalAddress>,
    /// Channel of the planned contact.
    #[schema(value_type = ChannelDoc)]
    channel: Channel,
    /// Advertiser on whose behalf the contact is made.
    #[schema(value_type = uuid::Uuid)]
    advertiser_id: AdvertiserId,
    /// Product categories (Sparten) the contact is about.
    #[serde(default)]
    #[schema(value_type = Vec<String>, example = json!(["insurance"]))]
    product_categories: BTreeSet<ProductCategory>,
    /// Campaign name, kept with the decision.
    #[serde(default)]
    campaign: Option<String>,
    /// Campaign policy; omitted (or any field of it omitted) = the defaults.
    #[serde(default)]
    #[schema(value_type = Option<CampaignPolicyDoc>)]
    policy: Option<CampaignPolicy>,
}

/// Answer of `POST /v1/check`.
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckResponse {
    /// Signed decision token; pass it to `POST /v1/uses` when the contact is made.
    decision_id: String,
    /// Whether the contact may be made now.
    allowed: bool,
    /// `allowed` or `blocked`.
    #[schema(example = "blocked")]
    outcome: &'static str,
    /// Why (each with `code`, German `label_de` and English `label_en`); empty when allowed
    /// without remarks.
    #[schema(value_type = Vec<Object>, example = json!([{"code": "no_consent", "label_de": "keine Einwilligung vorhanden", "label_en": "no consent on record"}]))]
    reasons: Vec<Value>,
    /// Legal basis relied on when allowed: `GDPR-6-1-a+UWG-7-2` (consent), `UWG-7-3`,
    /// `UWG-7-2-1-presumed` or `GDPR-6-1-f`.
    #[schema(example = "GDPR-6-1-a+UWG-7-2")]
    legal_basis: Option<&'static str>,
    /// Consent ids the decision relies on.
    #[schema(value_type = Vec<uuid::Uuid>)]
    consents_relied_on: Vec<String>,
    /// The person the contact point belongs to, if known.
    #[schema(value_type = Option<uuid::Uuid>)]
    person_id: Option<String>,
    /// When the decision was made.
    #[schema(value_type = String, format = DateTime)]
    decided_at: Timestamp,
}

/// Kontakt prüfen / may this contact be made now?
///
/// The gate: answers from consents, objections, withdrawals, suppressions and the campaign
/// policy, writes nothing, and returns a signed decision to log with `POST /v1/uses`.
#[utoipa::path(
    post, path = "/v1/check", tag = "gate", security(("bearer" = [])),
    request_body = CheckBody,
    responses(
        (status = 200, description = "Entscheidung / the decision", body = CheckResponse),
        (status = 400, response = BadRequest), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden), (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType), (status = 422, response = Unprocessable),
    )
)]
pub async fn check(
    State(s): State<AppState>,
    caller: Caller,
    ApiJson(b): ApiJson<CheckBody>,
) -> Result<Json<CheckResponse>, ApiError> {
    caller.require(Permission::Check)?;
    let contact = ContactInput { email: b.email, phone: b.phone, postal: b.postal }
        .parse("", "email|phone|postal")
        .map_err(|e| ApiError::invalid(vec![e]))?;
    let req = CheckRequest {
        contact,
        channel: b.channel,
        advertiser: b.advertiser_id,
        categories: b.product_categories,
        policy: b.policy.unwrap_or_default(),
        campaign: b.campaign,
    };
    let out = s.k.check(caller.tenant, &req).await?;
    s.metrics.decision(out.decision.allowed);
    Ok(Json(CheckResponse {
        decision_id: out.token,
        allowed: out.decision.allowed,
        outcome: if out.decision.allowed { "allowed" } else { "blocked" },
        reasons: out
            .decision
            .reasons
            .iter()
            .map(|r| json!({"code": r.code(), "label_de": r.label_de(), "label_en": r.label_en()}))
            .collect(),
        legal_basis: out.decision.legal_basis.map(|b| b.code()),
        consents_relied_on: out.decision.relied_on.iter().map(|c| c.to_string()).collect(),
        person_id: out.snapshot.person_id.map(|p| p.to_string()),
        decided_at: out.snapshot.decided_at,
    }))
}

/// Body of `POST /v1/uses`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UseBody {
    /// The `decision_id` of an allowed, recent `POST /v1/check` of this tenant.
    decision_id: String,
    /// What happened.
    #[schema(value_type = UseOutcomeDoc)]
    outcome: UseOutcome,
    /// When; default now. Must lie between the decision and now.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = DateTime)]
    at: Option<Timestamp>,
    /// Campaign name.
    #[serde(default)]
    campaign: Option<String>,
    /// Executing party (e.g. call centre).
    #[serde(default)]
    executing_party: Option<String>,
    /// Pseudonymous agent code.
    #[serde(default)]
    agent: Option<String>,
}

/// Nutzung protokollieren / log a use (call, message) of a decision (R23, R28).
///
/// Refuses decisions that were blocked, altered, of another tenant or too old.
#[utoipa::path(
    post, path = "/v1/uses", tag = "gate", security(("bearer" = [])),
    request_body = UseBody,
    responses(
        (status = 201, description = "Protokolliert / the logged use", body = Object, example = json!({
            "use_id": "01956f3a-0000-7000-8000-0000000000aa", "person_id": "01956f3a-0000-7000-8000-000000000010",
            "channel": "phone_live", "outcome": "connected", "at": "2026-03-02T09:15:00Z",
            "consents": ["01956f3a-0000-7000-8000-000000000020"]
        })),
        (status = 400, response = BadRequest), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 409, description = "Entscheidung nicht nutzbar / the decision was blocked, is too old or names no known contact point (`decision_not_usable`)", body = Problem, content_type = "application/problem+json"),
        (status = 413, response = PayloadTooLarge), (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Unprocessable),
    )
)]
pub async fn record_use(
    State(s): State<AppState>,
    caller: Caller,
    ApiJson(b): ApiJson<UseBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    caller.require(Permission::LogUse)?;
    let u = NewUse {
        decision_token: b.decision_id,
        outcome: b.outcome,
        at: b.at,
        campaign: b.campaign,
        executing_party: b.executing_party,
        agent_pseudonym: b.agent,
    };
    let r = s.k.record_use(caller.tenant, &caller.actor(), u).await.map_err(|e| match e {
        konsent_service::ServiceError::Conflict(m) => ApiError::new(StatusCode::CONFLICT, "decision_not_usable", m),
        other => other.into(),
    })?;
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "use_id": r.id,
            "person_id": r.person_id,
            "channel": r.channel,
            "outcome": r.outcome,
            "at": r.at,
            "consents": r.consent_ids,
        })),
    ))
}
