//! Consent text versions: drafts that editors change freely, published versions that never
//! change again (R10), retiring, and the linter (R4–R10) as a preview.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use jiff::Timestamp;
use konsent_domain::consent::{LintIssue, Scope};
use konsent_domain::ids::TextId;
use konsent_domain::text::{ConsentTextVersion, PrivacyNoticeRef, TextState};
use konsent_service::FieldError;
use konsent_service::catalog::NewText;
use konsent_store::queries;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};

use super::path_id;
use super::schema::{PrivacyNoticeRefDoc, ScopeDoc};
use crate::AppState;
use crate::auth::{Caller, Permission};
use crate::json::ApiJson;
use crate::problem::{
    ApiError, BadRequest, Conflict, Forbidden, NotFound, PayloadTooLarge, Unauthorized, Unprocessable,
    UnsupportedMediaType,
};
use crate::query::ApiQuery;

/// Filter of `GET /v1/texts`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TextQuery {
    /// Only versions in this state: `draft`, `published` or `retired`.
    #[param(value_type = Option<String>)]
    state: Option<TextState>,
}

/// Einwilligungstexte auflisten / list the tenant's consent text versions.
#[utoipa::path(
    get, path = "/v1/texts", tag = "texts", security(("bearer" = [])),
    params(TextQuery),
    responses(
        (status = 200, description = "`items`: every text version (id, key, version, language, title, body, sha256, scope, valid_from, valid_to, privacy_notice, state)", body = Object),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized), (status = 403, response = Forbidden),
    )
)]
pub async fn list_texts(
    State(s): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<TextQuery>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Permission::Check)?;
    let texts = queries::texts(&s.k.db, caller.tenant).await.map_err(konsent_service::ServiceError::from)?;
    let items: Vec<_> = texts.into_iter().filter(|t| q.state.is_none_or(|st| t.state == st)).collect();
    Ok(Json(json!({ "items": items })))
}

/// Body of `POST /v1/texts`: publishes a new, immutable version of the text family `key` (R10).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TextBody {
    /// Stable key of the text family (1-100 characters); each publish adds a version.
    #[schema(example = "telefon-email")]
    key: String,
    /// BCP 47 language; default `de`.
    #[serde(default = "de")]
    #[schema(default = "de")]
    language: String,
    /// Title shown above the text.
    #[schema(example = "Einwilligung Telefon und E-Mail")]
    title: String,
    /// The exact full text shown to the person; linted before publishing.
    body: String,
    /// What the text covers: every advertiser must be registered.
    #[schema(value_type = ScopeDoc)]
    scope: Scope,
    /// Valid from; default now.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = DateTime)]
    valid_from: Option<Timestamp>,
    /// Valid until (exclusive); default unlimited.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = DateTime)]
    valid_to: Option<Timestamp>,
    /// The linked privacy notice version.
    #[schema(value_type = PrivacyNoticeRefDoc)]
    privacy_notice: PrivacyNoticeRef,
}

fn de() -> String {
    "de".into()
}

/// Einwilligungstext veröffentlichen / publish a new, immutable text version (R10).
///
/// Lint errors (e.g. an advertiser or channel not named in the text) block publishing and are
/// listed as `lint.*` fields.
#[utoipa::path(
    post, path = "/v1/texts", tag = "texts", security(("bearer" = [])),
    request_body = TextBody,
    responses(
        (status = 201, description = "Veröffentlicht / the text version (id, key, version, sha256, state, …)", body = Object),
        (status = 400, response = BadRequest), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden), (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType), (status = 422, response = Unprocessable),
    )
)]
pub async fn publish_text(
    State(s): State<AppState>,
    caller: Caller,
    ApiJson(b): ApiJson<TextBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    caller.require(Permission::ManageCatalog)?;
    let text = s.k.publish_text(caller.tenant, &caller.actor(), new_text(&s, b)?).await?;
    Ok((StatusCode::CREATED, Json(json!(text))))
}

/// Converts and checks the body shared by publishing and linting.
fn new_text(s: &AppState, b: TextBody) -> Result<NewText, ApiError> {
    let key = b.key.trim().to_string();
    if key.is_empty() || key.len() > 100 {
        return Err(ApiError::invalid(vec![FieldError {
            field: "key".into(),
            message: "must be 1-100 characters".into(),
        }]));
    }
    Ok(NewText {
        key,
        language: b.language,
        title: b.title,
        body: b.body,
        scope: b.scope,
        valid_from: b.valid_from.unwrap_or_else(|| s.k.now()),
        valid_to: b.valid_to,
        privacy_notice: b.privacy_notice,
    })
}

#[utoipa::path(
    post, path = "/v1/texts/lint", tag = "texts", security(("bearer" = [])),
    request_body = TextBody,
    responses(
        (status = 200, description = "Prüfbericht / what publishing would say, without publishing: `{publishable, version, sha256, issues: [{code, severity, message_de, message_en}]}`", body = Object),
        (status = 400, response = BadRequest), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden), (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType), (status = 422, response = Unprocessable),
    )
)]
pub async fn lint_text(
    State(s): State<AppState>,
    caller: Caller,
    ApiJson(b): ApiJson<TextBody>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Permission::ManageCatalog)?;
    let (text, issues) = s.k.lint_new_text(caller.tenant, new_text(&s, b)?).await?;
    Ok(Json(json!({
        "publishable": !issues.iter().any(|i| i.is_error()),
        "version": text.version,
        "sha256": text.sha256,
        "issues": findings(&issues),
    })))
}

/// The linter's findings as JSON.
fn findings(issues: &[LintIssue]) -> Vec<Value> {
    issues
        .iter()
        .map(|i| {
            json!({
                "code": i.code(),
                "severity": if i.is_error() { "error" } else { "warning" },
                "message_de": i.message_de(),
                "message_en": i.message_en(),
            })
        })
        .collect()
}

/// A draft with the linter's findings.
fn draft_view(text: &ConsentTextVersion, issues: &[LintIssue]) -> Value {
    let mut v = json!(text);
    v["publishable"] = json!(!issues.iter().any(|i| i.is_error()));
    v["issues"] = json!(findings(issues));
    v
}

const DRAFT_VIEW: &str = "Der Entwurf / the draft (id, key, title, body, sha256, scope, state `draft`, …) with `publishable` and the linter's `issues`";

/// Entwurf anlegen / save a new draft of a consent text.
///
/// A draft may fail the linter: its findings come back with it. Nobody can consent to a draft.
#[utoipa::path(
    post, path = "/v1/texts/drafts", tag = "texts", security(("bearer" = [])),
    request_body = TextBody,
    responses(
        (status = 201, description = DRAFT_VIEW, body = Object),
        (status = 400, response = BadRequest), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden), (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType), (status = 422, response = Unprocessable),
    )
)]
pub async fn create_draft(
    State(s): State<AppState>,
    caller: Caller,
    ApiJson(b): ApiJson<TextBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    caller.require(Permission::ManageCatalog)?;
    let (text, issues) = s.k.save_draft(caller.tenant, &caller.actor(), None, new_text(&s, b)?).await?;
    Ok((StatusCode::CREATED, Json(draft_view(&text, &issues))))
}

/// Textversion lesen / read one text version (draft, published or retired).
#[utoipa::path(
    get, path = "/v1/texts/{id}", tag = "texts", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Text version id")),
    responses(
        (status = 200, description = "The text version; a draft also with `publishable` and `issues`", body = Object),
        (status = 401, response = Unauthorized), (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    )
)]
pub async fn get_text(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Permission::Check)?;
    let text = s.k.text(caller.tenant, path_id(&id, "text")?).await?;
    if text.state == TextState::Draft {
        let advertisers =
            queries::advertisers(&s.k.db, caller.tenant).await.map_err(konsent_service::ServiceError::from)?;
        let issues = konsent_domain::consent::lint_text(&text, &advertisers);
        return Ok(Json(draft_view(&text, &issues)));
    }
    Ok(Json(json!(text)))
}

/// Entwurf ändern / replace a draft's content. A published version answers 409: it never changes.
#[utoipa::path(
    put, path = "/v1/texts/{id}", tag = "texts", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Draft id")),
    request_body = TextBody,
    responses(
        (status = 200, description = DRAFT_VIEW, body = Object),
        (status = 400, response = BadRequest), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden), (status = 404, response = NotFound),
        (status = 409, response = Conflict), (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType), (status = 422, response = Unprocessable),
    )
)]
pub async fn update_draft(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<TextBody>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Permission::ManageCatalog)?;
    let id: TextId = path_id(&id, "text")?;
    let (text, issues) = s.k.save_draft(caller.tenant, &caller.actor(), Some(id), new_text(&s, b)?).await?;
    Ok(Json(draft_view(&text, &issues)))
}

/// Entwurf verwerfen / discard a draft (a published version cannot be discarded: retire it).
#[utoipa::path(
    delete, path = "/v1/texts/{id}", tag = "texts", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Draft id")),
    responses(
        (status = 204, description = "Verworfen / discarded"),
        (status = 401, response = Unauthorized), (status = 403, response = Forbidden),
        (status = 404, response = NotFound), (status = 409, response = Conflict),
    )
)]
pub async fn discard_draft(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    caller.require(Permission::ManageCatalog)?;
    s.k.discard_draft(caller.tenant, &caller.actor(), path_id(&id, "text")?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Entwurf veröffentlichen / publish a draft: it gets the next version number of its family and
/// never changes again (R10). Lint errors block publishing (`lint.*` fields).
#[utoipa::path(
    post, path = "/v1/texts/{id}/publish", tag = "texts", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Draft id")),
    responses(
        (status = 200, description = "Veröffentlicht / the published version", body = Object),
        (status = 401, response = Unauthorized), (status = 403, response = Forbidden),
        (status = 404, response = NotFound), (status = 409, response = Conflict),
        (status = 422, response = Unprocessable),
    )
)]
pub async fn publish_draft(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Permission::ManageCatalog)?;
    let text = s.k.publish_draft(caller.tenant, &caller.actor(), path_id(&id, "text")?).await?;
    Ok(Json(json!(text)))
}

/// Textversion zurückziehen / retire a published version: no longer offered; consents given
/// under it stay valid and keep pointing at it.
#[utoipa::path(
    post, path = "/v1/texts/{id}/retire", tag = "texts", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Text version id")),
    responses(
        (status = 200, description = "Zurückgezogen / the retired version", body = Object),
        (status = 401, response = Unauthorized), (status = 403, response = Forbidden),
        (status = 404, response = NotFound), (status = 409, response = Conflict),
    )
)]
pub async fn retire_text(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Permission::ManageCatalog)?;
    let id: TextId = path_id(&id, "text")?;
    s.k.retire_text(caller.tenant, &caller.actor(), id).await?;
    Ok(Json(json!(s.k.text(caller.tenant, id).await?)))
}
