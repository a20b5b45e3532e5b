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

use super::ContactInput;
use crate::AppState;
use crate::auth::{Caller, Permission};
use crate::json::ApiJson;
use crate::problem::ApiError;

/// Body of `POST /v1/check`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckBody {
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    phone: Option<String>,
    #[serde(default)]
    postal: Option<konsent_domain::contact::PostalAddress>,
    channel: Channel,
    advertiser_id: AdvertiserId,
    #[serde(default)]
    product_categories: BTreeSet<ProductCategory>,
    #[serde(default)]
    campaign: Option<String>,
    #[serde(default)]
    policy: Option<CampaignPolicy>,
}

/// Answer of `POST /v1/check`.
#[derive(Debug, Serialize)]
pub struct CheckResponse {
    decision_id: String,
    allowed: bool,
    outcome: &'static str,
    reasons: Vec<Value>,
    legal_basis: Option<&'static str>,
    consents_relied_on: Vec<String>,
    person_id: Option<String>,
    decided_at: Timestamp,
}

pub async fn check(
    State(s): State<AppState>,
    caller: Caller,
    ApiJson(b): ApiJson<CheckBody>,
) -> Result<Json<CheckResponse>, ApiError> {
    caller.require(Permission::Check)?;
    let contact = ContactInput { email: b.email, phone: b.phone, postal: b.postal }
        .parse("email|phone|postal")
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
        reasons: out.decision.reasons.iter().map(|r| json!({"code": r.code(), "label_de": r.label_de()})).collect(),
        legal_basis: out.decision.legal_basis.map(|b| b.code()),
        consents_relied_on: out.decision.relied_on.iter().map(|c| c.to_string()).collect(),
        person_id: out.snapshot.person_id.map(|p| p.to_string()),
        decided_at: out.snapshot.decided_at,
    }))
}

/// Body of `POST /v1/uses`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UseBody {
    decision_id: String,
    outcome: UseOutcome,
    #[serde(default)]
    at: Option<Timestamp>,
    #[serde(default)]
    campaign: Option<String>,
    #[serde(default)]
    executing_party: Option<String>,
    #[serde(default)]
    agent: Option<String>,
}

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
