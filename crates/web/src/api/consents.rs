//! Consents: record with evidence (the server decides the status), read, withdraw (R40).

use std::collections::BTreeSet;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use jiff::Timestamp;
use konsent_domain::consent::{CaptureMethod, ConsentRecord, DeclarationRecipient, Evidence, Scope, Source, Validity};
use konsent_domain::ids::{ConsentId, ContactPointId, PersonId, TextId};
use konsent_service::consents::NewConsent;
use konsent_store::queries;
use serde::Deserialize;
use serde_json::{Value, json};

use super::path_id;
use crate::AppState;
use crate::auth::{Caller, Permission};
use crate::json::ApiJson;
use crate::problem::ApiError;

/// Body of `POST /v1/consents`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsentBody {
    person_id: PersonId,
    contact_point_ids: BTreeSet<ContactPointId>,
    text_id: TextId,
    scope: Scope,
    capture_method: CaptureMethod,
    #[serde(default)]
    declaration_recipient: Option<DeclarationRecipient>,
    #[serde(default)]
    source: Option<Source>,
    affirmative_action: bool,
    #[serde(default)]
    given_at: Option<Timestamp>,
    #[serde(default)]
    capture_offset_seconds: i32,
    #[serde(default)]
    evidence: Vec<Evidence>,
    #[serde(default)]
    validity: Option<Validity>,
}

fn view(c: &ConsentRecord) -> Value {
    json!({
        "consent_id": c.id,
        "person_id": c.person_id,
        "status": c.status,
        "status_label_de": c.status.label_de(),
        "scope": c.scope,
        "contact_point_ids": c.contact_points,
        "text_id": c.text_id,
        "text_sha256": c.text_sha256,
        "capture_method": c.capture_method,
        "given_at": c.given_at,
        "recorded_at": c.recorded_at,
        "granted_at": c.granted_at,
        "last_use_at": c.last_use_at,
        "evidence_kinds": c.evidence.iter().map(Evidence::kind).collect::<Vec<_>>(),
    })
}

pub async fn record_consent(
    State(s): State<AppState>,
    caller: Caller,
    ApiJson(b): ApiJson<ConsentBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    caller.require(Permission::RecordConsent)?;
    let nc = NewConsent {
        person_id: b.person_id,
        contact_points: b.contact_point_ids,
        text_id: b.text_id,
        scope: b.scope,
        capture_method: b.capture_method,
        declaration_recipient: b.declaration_recipient,
        source: b.source.unwrap_or(Source::FirstParty),
        affirmative_action: b.affirmative_action,
        given_at: b.given_at.unwrap_or_else(|| s.k.now()),
        capture_offset_seconds: b.capture_offset_seconds,
        evidence: b.evidence,
        validity: b.validity.unwrap_or(Validity::Endless),
    };
    let a = s.k.record_consent(caller.tenant, &caller.actor(), nc).await?;
    let mut v = view(&a.record);
    // Why it is not (yet) usable: the server decides the status from the evidence.
    v["missing"] = json!(a.missing);
    Ok((StatusCode::CREATED, Json(v)))
}

pub async fn get_consent(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Permission::ReadPersons)?;
    let id: ConsentId = path_id(&id, "consent")?;
    let c = queries::consent(&s.k.db, caller.tenant, id)
        .await
        .map_err(konsent_service::ServiceError::from)?
        .ok_or_else(|| ApiError::not_found("consent"))?;
    let mut v = view(&c);
    if crate::auth::allowed(caller.role, Permission::ReadEvidence) {
        v["evidence"] = json!(c.evidence);
        v["declaration_recipient"] = json!(c.declaration_recipient);
        v["source"] = json!(c.source);
    }
    Ok(Json(v))
}

/// Body of `POST /v1/consents/{id}/withdraw`: no `scope` = everything.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WithdrawBody {
    #[serde(default)]
    scope: Option<Scope>,
    #[serde(default = "api")]
    via: String,
}

fn api() -> String {
    "api".into()
}

pub async fn withdraw(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<WithdrawBody>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Permission::RecordConsent)?;
    let id: ConsentId = path_id(&id, "consent")?;
    let c = s.k.withdraw(caller.tenant, &caller.actor(), id, b.scope, &b.via).await?;
    Ok(Json(view(&c)))
}
