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
use utoipa::ToSchema;

use super::path_id;
use super::schema::{CaptureMethodDoc, DeclarationRecipientDoc, EvidenceDoc, ScopeDoc, SourceDoc, ValidityDoc};
use crate::AppState;
use crate::auth::{Caller, Permission};
use crate::json::ApiJson;
use crate::problem::{
    ApiError, BadRequest, Conflict, Forbidden, NotFound, PayloadTooLarge, Unauthorized, Unprocessable,
    UnsupportedMediaType,
};

/// Body of `POST /v1/consents`: the declaration and its evidence; the server decides the status.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsentBody {
    /// The person who gave it.
    #[schema(value_type = uuid::Uuid)]
    person_id: PersonId,
    /// The person's contact points it is bound to.
    #[schema(value_type = Vec<uuid::Uuid>)]
    contact_point_ids: BTreeSet<ContactPointId>,
    /// The published text version shown.
    #[schema(value_type = uuid::Uuid)]
    text_id: TextId,
    /// What is covered: must lie within the text's scope.
    #[schema(value_type = ScopeDoc)]
    scope: Scope,
    /// How the declaration reached us.
    #[schema(value_type = CaptureMethodDoc)]
    capture_method: CaptureMethod,
    /// Who received the declaration (pseudonymised); needed for phone and in-person capture.
    #[serde(default)]
    #[schema(value_type = Option<DeclarationRecipientDoc>)]
    declaration_recipient: Option<DeclarationRecipient>,
    /// Where it came from; default `first_party`.
    #[serde(default)]
    #[schema(value_type = Option<SourceDoc>)]
    source: Option<Source>,
    /// The person acted (no pre-ticked box, R4).
    affirmative_action: bool,
    /// When it was given; default now.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = DateTime)]
    given_at: Option<Timestamp>,
    /// UTC offset of the capture location in seconds (e.g. 3600 for CET).
    #[serde(default)]
    capture_offset_seconds: i32,
    /// Evidence: how the consent was given and how the contact points were verified.
    #[serde(default)]
    #[schema(value_type = Vec<EvidenceDoc>)]
    evidence: Vec<Evidence>,
    /// How long it is valid; default `endless`.
    #[serde(default)]
    #[schema(value_type = Option<ValidityDoc>)]
    validity: Option<Validity>,
    /// The consent of the same person this one renews (re-permission, R43), e.g. a signed reply
    /// to a re-permission letter: once valid it is `RenewedConsentGiven`; the old one is unchanged.
    #[serde(default)]
    #[schema(value_type = Option<uuid::Uuid>)]
    renews: Option<ConsentId>,
}

/// Description of the consent view returned by the consent routes.
const CONSENT_VIEW: &str = "Die Einwilligung / the consent: consent_id, person_id, status (DPV, e.g. `ConsentGiven`), \
    status_label_de, scope, contact_point_ids, text_id, text_sha256, capture_method, given_at, recorded_at, \
    granted_at, last_use_at, evidence_kinds, approval_pending, renews (the consent it renews, R43), proof_retained_until (§ 7a clock or D4; null while a \
    non-phone consent is live), proof_retention_rule";

pub(crate) async fn view(
    s: &AppState,
    tenant: konsent_domain::ids::TenantId,
    c: &ConsentRecord,
) -> Result<Value, ApiError> {
    // The proof's retention by the tenant's Löschregeln (D4 may differ from the default).
    let rules = s.k.rules(tenant).await?;
    let retention = konsent_domain::retention::consent_proof_until_in(c, &rules);
    Ok(view_with(c, retention))
}

fn view_with(c: &ConsentRecord, retention: Option<(jiff::Timestamp, konsent_domain::retention::Datenart)>) -> Value {
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
        "approval_pending": c.approval_pending,
        "renews": c.renews,
        "proof_retained_until": retention.map(|(t, _)| t),
        "proof_retention_rule": retention.map(|(_, d)| d.code()),
    })
}

/// Einwilligung erfassen / record a consent with its evidence.
///
/// The server applies the verification rules and decides the DPV status (e.g. `ConsentGiven`
/// or `ConsentRequested` while a double opt-in is pending).
#[utoipa::path(
    post, path = "/v1/consents", tag = "consents", security(("bearer" = [])),
    request_body = ConsentBody,
    responses(
        (status = 201, description = CONSENT_VIEW, body = Object),
        (status = 400, response = BadRequest), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 413, response = PayloadTooLarge), (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Unprocessable),
    )
)]
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
        renews: b.renews,
    };
    let a = s.k.record_consent(caller.tenant, &caller.actor(), nc).await?;
    let mut v = view(&s, caller.tenant, &a.record).await?;
    // Why it is not (yet) usable: the server decides the status from the evidence.
    v["missing"] = json!(a.missing);
    Ok((StatusCode::CREATED, Json(v)))
}

/// Einwilligung lesen / read a consent.
///
/// Roles that may read evidence also get `evidence`, `declaration_recipient` and `source`.
#[utoipa::path(
    get, path = "/v1/consents/{id}", tag = "consents", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Consent id")),
    responses(
        (status = 200, description = CONSENT_VIEW, body = Object),
        (status = 401, response = Unauthorized), (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    )
)]
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
    let mut v = view(&s, caller.tenant, &c).await?;
    if crate::auth::allowed(caller.role, Permission::ReadEvidence) {
        v["evidence"] = json!(c.evidence);
        v["declaration_recipient"] = json!(c.declaration_recipient);
        v["source"] = json!(c.source);
    }
    Ok(Json(v))
}

/// Body of `POST /v1/consents/{id}/withdraw`: no `scope` = everything.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WithdrawBody {
    /// What to withdraw (R40): each named advertiser, category or channel is taken out; omitted
    /// = the whole consent.
    #[serde(default)]
    #[schema(value_type = Option<ScopeDoc>)]
    scope: Option<Scope>,
    /// How the withdrawal reached us, e.g. `phone`, `email`; default `api`.
    #[serde(default = "api")]
    #[schema(default = "api")]
    via: String,
}

fn api() -> String {
    "api".into()
}

/// Einwilligung widerrufen / withdraw a consent in full or in part (R40); takes effect now.
#[utoipa::path(
    post, path = "/v1/consents/{id}/withdraw", tag = "consents", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Consent id")),
    request_body = WithdrawBody,
    responses(
        (status = 200, description = CONSENT_VIEW, body = Object),
        (status = 400, response = BadRequest), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound), (status = 409, response = Conflict),
        (status = 413, response = PayloadTooLarge), (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Unprocessable),
    )
)]
pub async fn withdraw(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<WithdrawBody>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Permission::RecordConsent)?;
    let id: ConsentId = path_id(&id, "consent")?;
    let c = s.k.withdraw(caller.tenant, &caller.actor(), id, b.scope, &b.via).await?;
    Ok(Json(view(&s, caller.tenant, &c).await?))
}

/// Bestätigungs-E-Mail senden / send the double opt-in mail for a consent's e-mail address (R13).
///
/// Queues a mail with a single-use link (valid 7 days) in the same transaction as the ledger entry
/// that records it; the outbox worker sends it (SMTP, or `DATA_DIR/outbox/` when none is
/// configured). Opening the link shows a page with a button; only that button confirms.
#[utoipa::path(
    post, path = "/v1/consents/{id}/doi", tag = "consents", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Consent id")),
    responses(
        (status = 202, description = "Eingereiht / queued: `{message_id, expires_at}`", body = Object),
        (status = 401, response = Unauthorized), (status = 403, response = Forbidden),
        (status = 404, response = NotFound), (status = 409, response = Conflict),
        (status = 422, response = Unprocessable),
    )
)]
pub async fn request_doi(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    caller.require(Permission::RecordConsent)?;
    let id: ConsentId = path_id(&id, "consent")?;
    let q = s.k.request_doi(caller.tenant, &caller.actor(), id, &s.k.public_url).await?;
    Ok((StatusCode::ACCEPTED, Json(json!({"message_id": q.message_id, "expires_at": q.expires_at}))))
}

/// Code per SMS senden / send a verification code to the consent's phone number (R15, R16).
///
/// Six digits, valid 10 minutes, five attempts; queued in the outbox with the ledger entry.
#[utoipa::path(
    post, path = "/v1/consents/{id}/otp", tag = "consents", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Consent id")),
    responses(
        (status = 202, description = "Eingereiht / queued: `{message_id}`", body = Object),
        (status = 401, response = Unauthorized), (status = 403, response = Forbidden),
        (status = 404, response = NotFound), (status = 422, response = Unprocessable),
    )
)]
pub async fn request_otp(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    caller.require(Permission::RecordConsent)?;
    let id: ConsentId = path_id(&id, "consent")?;
    let message_id = s.k.request_otp(caller.tenant, &caller.actor(), id).await?;
    Ok((StatusCode::ACCEPTED, Json(json!({ "message_id": message_id }))))
}

/// Body of `POST /v1/consents/{id}/otp/verify`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OtpBody {
    /// The six digits the person received.
    #[schema(example = "042917")]
    code: String,
}

/// Code prüfen / check the code the person entered or read back; a right code verifies the number
/// and the consent's status is decided again.
#[utoipa::path(
    post, path = "/v1/consents/{id}/otp/verify", tag = "consents", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Consent id")),
    request_body = OtpBody,
    responses(
        (status = 200, description = CONSENT_VIEW, body = Object),
        (status = 400, response = BadRequest), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden), (status = 404, response = NotFound),
        (status = 409, response = Conflict), (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType), (status = 422, response = Unprocessable),
    )
)]
pub async fn verify_otp(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<OtpBody>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Permission::RecordConsent)?;
    let id: ConsentId = path_id(&id, "consent")?;
    let (record, missing) = s.k.verify_otp(caller.tenant, &caller.actor(), id, &b.code).await?;
    let mut v = view(&s, caller.tenant, &record).await?;
    v["missing"] = json!(missing);
    Ok(Json(v))
}
