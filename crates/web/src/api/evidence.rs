//! Evidence routes: upload, list and read evidence files of a person (reads audited), complete a
//! consent with evidence after the fact, approve it (four-eyes), the tenant settings, and the
//! § 7a proof package as a ZIP.

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use konsent_domain::attachment::AttachmentKind;
use konsent_domain::consent::Evidence;
use konsent_domain::ids::{ConsentId, PersonId};
use konsent_domain::settings::TenantSettings;
use konsent_service::confirm::ConfirmVia;
use konsent_service::proof::ProofSubject;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};

use super::consents::view;
use super::path_id;
use super::persons::visible_person;
use super::schema::EvidenceDoc;
use crate::AppState;
use crate::auth::{Caller, Permission};
use crate::json::ApiJson;
use crate::problem::{
    ApiError, BadRequest, Conflict, Forbidden, NotFound, PayloadTooLarge, Unauthorized, Unprocessable,
    UnsupportedMediaType,
};
use crate::query::ApiQuery;

/// Largest upload accepted by the route (the per-kind limits are checked after reading).
pub const MAX_UPLOAD: usize = 64 << 20;

/// Query of `POST /v1/persons/{id}/attachments`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadQuery {
    /// `recording` (call recording, R17) or `scan` (signed paper form, R18).
    kind: String,
}

/// Nachweisdatei hochladen / upload an evidence file (the raw bytes as the body). The type is
/// sniffed from the bytes (recordings: MP3, WAV, OGG/Opus, FLAC, M4A, AAC, AMR up to 64 MiB; scans:
/// PDF, JPEG, PNG, TIFF up to 32 MiB); a `Content-Type` that disagrees is refused. The file is
/// stored once per person under its SHA-256, encrypted; name that hash in the evidence.
#[utoipa::path(
    post, path = "/v1/persons/{id}/attachments", tag = "evidence", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Person id"), UploadQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses(
        (status = 201, description = "Stored: `sha256`, `kind`, `content_type`, `size`, `created` (false when the same file was there)", body = Object),
        (status = 400, response = BadRequest), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden), (status = 404, response = NotFound),
        (status = 413, response = PayloadTooLarge), (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Unprocessable),
    )
)]
pub async fn upload(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<UploadQuery>,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    caller.require(Permission::RecordConsent)?;
    let id: PersonId = path_id(&id, "person")?;
    visible_person(&s, &caller, id).await?;
    let kind: AttachmentKind = q.kind.parse().map_err(|e: String| {
        ApiError::invalid(vec![konsent_service::FieldError { field: "kind".into(), message: e }])
    })?;
    let bytes = axum::body::to_bytes(body, MAX_UPLOAD).await.map_err(|_| {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            format!("the file exceeds {} MiB", MAX_UPLOAD >> 20),
        )
    })?;
    let declared = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
    let stored = s.k.store_attachment(caller.tenant, &caller.actor(), id, kind, declared, &bytes).await?;
    let status = if stored.created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(json!({"person_id": id, "created": stored.created, "attachment": stored.meta}))))
}

/// Nachweisdateien auflisten / the person's evidence files (metadata; listing is no read).
#[utoipa::path(
    get, path = "/v1/persons/{id}/attachments", tag = "evidence", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Person id")),
    responses(
        (status = 200, description = "`attachments`: `[{sha256, kind, content_type, size}]`", body = Object),
        (status = 401, response = Unauthorized), (status = 403, response = Forbidden), (status = 404, response = NotFound),
    )
)]
pub async fn list(State(s): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    caller.require(Permission::ReadPersons)?;
    let id: PersonId = path_id(&id, "person")?;
    visible_person(&s, &caller, id).await?;
    Ok(Json(json!({"person_id": id, "attachments": s.k.attachments(caller.tenant, id).await?})))
}

/// Nachweisdatei lesen / download an evidence file; the read is written to the ledger first.
#[utoipa::path(
    get, path = "/v1/persons/{id}/attachments/{sha256}", tag = "evidence", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Person id"), ("sha256" = String, Path, description = "SHA-256 of the file")),
    responses(
        (status = 200, description = "The file, with its sniffed `Content-Type`", content_type = "application/octet-stream", body = Vec<u8>),
        (status = 401, response = Unauthorized), (status = 403, response = Forbidden), (status = 404, response = NotFound),
    )
)]
pub async fn download(
    State(s): State<AppState>,
    caller: Caller,
    Path((id, sha)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    caller.require(Permission::ReadEvidence)?;
    let id: PersonId = path_id(&id, "person")?;
    visible_person(&s, &caller, id).await?;
    let (meta, bytes) =
        s.k.read_attachment(caller.tenant, &caller.actor(), id, &sha.to_ascii_lowercase(), "api").await?;
    let ct = HeaderValue::from_str(&meta.content_type).unwrap_or(HeaderValue::from_static("application/octet-stream"));
    Ok(([(header::CONTENT_TYPE, ct), (header::CACHE_CONTROL, HeaderValue::from_static("no-store"))], bytes)
        .into_response())
}

/// Body of `POST /v1/consents/{id}/evidence`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EvidenceBody {
    /// Evidence to add, e.g. the call recording once the call is over.
    #[schema(value_type = Vec<EvidenceDoc>)]
    evidence: Vec<Evidence>,
}

/// Nachweis ergänzen / add evidence to a requested or valid consent (the recording after the call,
/// the scan after the meeting); the status is decided again. Files named must be uploaded first.
#[utoipa::path(
    post, path = "/v1/consents/{id}/evidence", tag = "consents", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Consent id")),
    request_body = EvidenceBody,
    responses(
        (status = 200, description = "The consent with `missing`", body = Object),
        (status = 400, response = BadRequest), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden), (status = 404, response = NotFound), (status = 409, response = Conflict),
        (status = 413, response = PayloadTooLarge), (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Unprocessable),
    )
)]
pub async fn add_evidence(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<EvidenceBody>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Permission::RecordConsent)?;
    let id: ConsentId = path_id(&id, "consent")?;
    let a = s.k.add_evidence(caller.tenant, &caller.actor(), id, b.evidence).await?;
    let mut v = view(&s, caller.tenant, &a.record).await?;
    v["missing"] = json!(a.missing);
    Ok(Json(v))
}

/// Body of `POST /v1/consents/{id}/confirmation`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfirmBody {
    /// `sms` (to the number called) or `email` (to the consent's address).
    via: String,
}

/// Bestätigung in Textform anfordern / after a call, send the person a link to confirm their
/// verbal consent in text form (R17 b). The click adds `text_confirmation` evidence; it makes the
/// consent usable only where the settings allow it instead of a recording.
#[utoipa::path(
    post, path = "/v1/consents/{id}/confirmation", tag = "consents", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Consent id")),
    request_body = ConfirmBody,
    responses(
        (status = 202, description = "Queued: `message_id`, `expires_at`", body = Object),
        (status = 400, response = BadRequest), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden), (status = 404, response = NotFound), (status = 409, response = Conflict),
        (status = 413, response = PayloadTooLarge), (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Unprocessable),
    )
)]
pub async fn request_confirmation(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<ConfirmBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    caller.require(Permission::RecordConsent)?;
    let id: ConsentId = path_id(&id, "consent")?;
    let via = match b.via.as_str() {
        "sms" => ConfirmVia::Sms,
        "email" => ConfirmVia::Email,
        _ => {
            return Err(ApiError::invalid(vec![konsent_service::FieldError {
                field: "via".into(),
                message: "use sms or email".into(),
            }]));
        }
    };
    let q = s.k.request_text_confirmation(caller.tenant, &caller.actor(), id, via).await?;
    Ok((StatusCode::ACCEPTED, Json(json!({"consent_id": id, "message_id": q.message_id, "expires_at": q.expires_at}))))
}

/// Einwilligung freigeben / approve a consent that waits for a second person (four-eyes option);
/// the key that captured it cannot approve it.
#[utoipa::path(
    post, path = "/v1/consents/{id}/approve", tag = "consents", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Consent id")),
    responses(
        (status = 200, description = "The consent, now usable", body = Object),
        (status = 401, response = Unauthorized), (status = 403, response = Forbidden),
        (status = 404, response = NotFound), (status = 409, response = Conflict),
    )
)]
pub async fn approve(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Permission::ApproveConsent)?;
    let id: ConsentId = path_id(&id, "consent")?;
    let c = s.k.approve_consent(caller.tenant, &caller.actor(), id).await?;
    Ok(Json(view(&s, caller.tenant, &c).await?))
}

/// Einstellungen lesen / the tenant's settings.
#[utoipa::path(
    get, path = "/v1/settings", tag = "admin", security(("bearer" = [])),
    responses((status = 200, description = "`four_eyes`, `verification` {allow_text_confirmation_for_verbal, min_age}", body = Object),
        (status = 401, response = Unauthorized), (status = 403, response = Forbidden))
)]
pub async fn get_settings(State(s): State<AppState>, caller: Caller) -> Result<Json<TenantSettings>, ApiError> {
    caller.require(Permission::ManageSettings)?;
    Ok(Json(s.k.settings(caller.tenant).await?))
}

/// Einstellungen ändern / replace the tenant's settings: four-eyes approval of staff captures,
/// R17 (b) text confirmation instead of a recording, minimum age (R11).
#[utoipa::path(
    put, path = "/v1/settings", tag = "admin", security(("bearer" = [])),
    request_body(content = Object, description = "`{\"four_eyes\": true, \"verification\": {\"allow_text_confirmation_for_verbal\": false, \"min_age\": 16}}`"),
    responses((status = 200, description = "The settings now in force", body = Object),
        (status = 400, response = BadRequest), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden), (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType), (status = 422, response = Unprocessable))
)]
pub async fn put_settings(
    State(s): State<AppState>,
    caller: Caller,
    ApiJson(b): ApiJson<TenantSettings>,
) -> Result<Json<TenantSettings>, ApiError> {
    caller.require(Permission::ManageSettings)?;
    Ok(Json(s.k.set_settings(caller.tenant, &caller.actor(), b).await?))
}

/// Body of `POST /v1/evidence`: exactly one of `phone`, `email`, `person_id`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"phone": "0171 2345678"}))]
pub struct PackageBody {
    /// Everyone with this phone number.
    phone: Option<String>,
    /// Everyone with this e-mail address.
    email: Option<String>,
    /// One person.
    #[schema(value_type = Option<uuid::Uuid>)]
    person_id: Option<PersonId>,
    /// Only uses from this instant.
    #[schema(value_type = Option<String>, format = DateTime)]
    from: Option<Timestamp>,
    /// Only uses up to this instant.
    #[schema(value_type = Option<String>, format = DateTime)]
    to: Option<Timestamp>,
}

/// Nachweispaket / the § 7a UWG proof package (R27) as a ZIP: German PDF report, ISO/IEC TS 27560
/// JSON, original evidence files, ledger entries with Merkle paths to signed checkpoints, a signed
/// manifest. `konsent verify-package` checks it offline. Producing it is audited.
#[utoipa::path(
    post, path = "/v1/evidence", tag = "evidence", security(("bearer" = [])),
    request_body = PackageBody,
    responses(
        (status = 200, description = "The ZIP (`Content-Disposition: attachment`)", content_type = "application/zip", body = Vec<u8>),
        (status = 400, response = BadRequest), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden), (status = 404, response = NotFound),
        (status = 413, response = PayloadTooLarge), (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Unprocessable),
    )
)]
pub async fn package(
    State(s): State<AppState>,
    caller: Caller,
    ApiJson(b): ApiJson<PackageBody>,
) -> Result<Response, ApiError> {
    caller.require(Permission::ReadEvidence)?;
    let subject = match (b.phone, b.email, b.person_id) {
        (Some(p), None, None) => ProofSubject::Phone(p),
        (None, Some(e), None) => ProofSubject::Email(e),
        (None, None, Some(p)) => {
            visible_person(&s, &caller, p).await?;
            ProofSubject::Person(p)
        }
        _ => {
            return Err(ApiError::invalid(vec![konsent_service::FieldError {
                field: "phone".into(),
                message: "give exactly one of phone, email, person_id".into(),
            }]));
        }
    };
    let range = match (b.from, b.to) {
        (None, None) => None,
        (f, t) => Some((f.unwrap_or(Timestamp::MIN), t.unwrap_or(Timestamp::MAX))),
    };
    let p = s.k.evidence_package(caller.tenant, &caller.actor(), subject, range).await?;
    let disposition = format!("attachment; filename=\"{}.zip\"", p.package_id);
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("application/zip")),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&disposition).unwrap_or(HeaderValue::from_static("attachment")),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        p.zip,
    )
        .into_response())
}
