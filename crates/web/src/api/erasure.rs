//! Data-subject rights and the deletion concept over HTTP: erasure (Art. 17) with its reply,
//! legal holds, and the retention sweep on demand.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use jiff::Timestamp;
use konsent_domain::ids::{HoldId, PersonId};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use super::path_id;
use crate::AppState;
use crate::auth::{Caller, Permission};
use crate::json::ApiJson;
use crate::problem::{
    ApiError, BadRequest, Conflict, Forbidden, NotFound, PayloadTooLarge, Unauthorized, Unprocessable,
    UnsupportedMediaType,
};

/// Body of `POST /v1/persons/{id}/erasure`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ErasureBody {
    /// How the request reached us (letter, email, phone, preference_centre).
    #[serde(default = "letter")]
    via: String,
}

fn letter() -> String {
    "letter".into()
}

/// Person löschen / erase a person (Art. 17, R47): every item is deleted now or kept restricted
/// with reason and date (§ 7a proof until last use + 5 years, other consents for claims, legal
/// holds); every consent ends, every contact point goes on the suppression list by keyed hash (the
/// person is not re-created by an import, R44); once nothing must be kept the person's key is
/// destroyed. The answer has the `plan`, `kept_until` and the `reply` text for the person.
#[utoipa::path(
    post, path = "/v1/persons/{id}/erasure", tag = "rights", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Person id")),
    request_body = ErasureBody,
    responses(
        (status = 200, description = "`plan` [{item, disposition}], `kept_until`, `key_destroyed`, `reply`", body = Object),
        (status = 400, response = BadRequest), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden), (status = 404, response = NotFound), (status = 409, response = Conflict),
        (status = 413, response = PayloadTooLarge), (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Unprocessable),
    )
)]
pub async fn erase(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<ErasureBody>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Permission::Erase)?;
    let id: PersonId = path_id(&id, "person")?;
    super::persons::visible_person(&s, &caller, id).await?;
    let o = s.k.erase_person(caller.tenant, &caller.actor(), id, &b.via).await?;
    Ok(Json(serde_json::to_value(&o).unwrap_or(Value::Null)))
}

/// Body of `POST /v1/holds`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HoldBody {
    /// The person.
    #[schema(value_type = uuid::Uuid)]
    person_id: PersonId,
    /// `litigation`, `authority_request`, `dsar_pending` or `complaint`.
    reason: String,
    /// Who answers for the hold.
    owner: String,
    /// When it must be reviewed.
    #[schema(value_type = String, format = DateTime)]
    review_at: Timestamp,
}

/// Sperre setzen / place a legal hold (R61): nothing of the person is deleted until released.
#[utoipa::path(
    post, path = "/v1/holds", tag = "rights", security(("bearer" = [])),
    request_body = HoldBody,
    responses(
        (status = 201, description = "The hold", body = Object),
        (status = 400, response = BadRequest), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden), (status = 404, response = NotFound),
        (status = 413, response = PayloadTooLarge), (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Unprocessable),
    )
)]
pub async fn place_hold(
    State(s): State<AppState>,
    caller: Caller,
    ApiJson(b): ApiJson<HoldBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    caller.require(Permission::Erase)?;
    super::persons::visible_person(&s, &caller, b.person_id).await?;
    let h = s.k.place_hold(caller.tenant, &caller.actor(), b.person_id, &b.reason, &b.owner, b.review_at).await?;
    Ok((StatusCode::CREATED, Json(serde_json::to_value(&h).unwrap_or(Value::Null))))
}

/// Sperre aufheben / release a legal hold; the next retention run deletes what is then due.
#[utoipa::path(
    post, path = "/v1/holds/{id}/release", tag = "rights", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Hold id")),
    responses(
        (status = 200, description = "Released", body = Object),
        (status = 401, response = Unauthorized), (status = 403, response = Forbidden),
        (status = 404, response = NotFound), (status = 409, response = Conflict),
    )
)]
pub async fn release_hold(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Permission::Erase)?;
    let id: HoldId = path_id(&id, "hold")?;
    s.k.release_hold(caller.tenant, &caller.actor(), id).await?;
    Ok(Json(json!({"hold_id": id, "released": true})))
}

/// Body of `POST /v1/retention/run`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RunBody {
    /// Only list what would be deleted.
    #[serde(default)]
    dry_run: bool,
}

/// Löschlauf / run the retention sweep now (it runs daily anyway): deletes what restrictions kept
/// once their date passed, persons without any valid consent whose proof duties ended, unconfirmed
/// double opt-ins a month after their link expired (D9), single files and contact points no
/// consent needs any more, stale tokens (D10), send logs (D5) and closed request records (D13);
/// a consent unused beyond its proof period expires first (E10). Holds stop all of it. The answer
/// lists the persons erased (or that would be), those held and the consents expired, with counts.
#[utoipa::path(
    post, path = "/v1/retention/run", tag = "rights", security(("bearer" = [])),
    request_body = RunBody,
    responses(
        (status = 200, description = "`dry_run`, `erased` and `held` [person ids], `expired` [consent ids], counts `items`, `tokens`, `messages`, `requests`", body = Object),
        (status = 400, response = BadRequest), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden), (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType), (status = 422, response = Unprocessable),
    )
)]
pub async fn run(
    State(s): State<AppState>,
    caller: Caller,
    ApiJson(b): ApiJson<RunBody>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Permission::Erase)?;
    let r = s.k.retention_run(caller.tenant, &caller.actor(), b.dry_run).await?;
    Ok(Json(serde_json::to_value(&r).unwrap_or(Value::Null)))
}

/// Body of `POST /v1/persons/{id}/access-requests`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccessBody {
    /// How the request reached us (letter, email, phone).
    #[serde(default = "letter")]
    via: String,
}

/// Auskunftsersuchen erfassen / record an access request (Art. 15); the answer is due one month
/// after receipt (Art. 12(3)). Requests from the preference centre are recorded by themselves.
#[utoipa::path(
    post, path = "/v1/persons/{id}/access-requests", tag = "rights", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Person id")),
    request_body = AccessBody,
    responses(
        (status = 201, description = "`due_at`", body = Object),
        (status = 400, response = BadRequest), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden), (status = 404, response = NotFound),
        (status = 413, response = PayloadTooLarge), (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Unprocessable),
    )
)]
pub async fn access_request(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<AccessBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    caller.require(Permission::ReadEvidence)?;
    let id: PersonId = path_id(&id, "person")?;
    super::persons::visible_person(&s, &caller, id).await?;
    let due = s.k.request_access(caller.tenant, &caller.actor(), id, &b.via).await?;
    Ok((StatusCode::CREATED, Json(json!({"person_id": id, "kind": "access", "due_at": due}))))
}

/// Offene Anfragen / open data-subject requests with their deadlines, the most urgent first;
/// `overdue` when the month has passed.
#[utoipa::path(
    get, path = "/v1/requests", tag = "rights", security(("bearer" = [])),
    responses(
        (status = 200, description = "`items`: [{id, person_id, kind, via, received_at, due_at, overdue}]", body = Object),
        (status = 401, response = Unauthorized), (status = 403, response = Forbidden),
    )
)]
pub async fn open_requests(State(s): State<AppState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    caller.require(Permission::ReadEvidence)?;
    let now = s.k.now().as_microsecond();
    let ts = |us: i64| Timestamp::from_microsecond(us).ok();
    let items: Vec<Value> =
        s.k.open_requests(caller.tenant)
            .await?
            .into_iter()
            .map(|r| {
                json!({"id": r.id, "person_id": r.person_id, "kind": r.kind, "via": r.via,
                   "received_at": ts(r.received_at), "due_at": ts(r.due_at), "overdue": r.due_at < now})
            })
            .collect();
    Ok(Json(json!({"items": items})))
}

/// Auskunft erteilen / the answer to an access request as a ZIP: `auskunft.json` and
/// `auskunft.csv` (everything held, machine-readable, Art. 15 and 20) and `auskunft.pdf` (a German
/// summary). Answers the person's open access requests.
#[utoipa::path(
    post, path = "/v1/persons/{id}/access-export", tag = "rights", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Person id")),
    responses(
        (status = 200, description = "The ZIP", content_type = "application/zip", body = Vec<u8>),
        (status = 401, response = Unauthorized), (status = 403, response = Forbidden), (status = 404, response = NotFound),
    )
)]
pub async fn access_export(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<axum::response::Response, ApiError> {
    use axum::http::{HeaderValue, header};
    use axum::response::IntoResponse;
    caller.require(Permission::ReadEvidence)?;
    let id: PersonId = path_id(&id, "person")?;
    super::persons::visible_person(&s, &caller, id).await?;
    let x = s.k.access_export(caller.tenant, &caller.actor(), id).await?;
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("application/zip")),
            (header::CONTENT_DISPOSITION, HeaderValue::from_static("attachment; filename=\"auskunft.zip\"")),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        x.zip,
    )
        .into_response())
}

/// Löschkonzept / the deletion concept in force: every Datenart with its Löschregel (start event,
/// retention, deletion cycle, basis, whether the tenant changed it) — input to the Art. 30
/// record (R52). The PDF for the data protection officer: `konsent retention rules --pdf`.
#[utoipa::path(
    get, path = "/v1/retention/rules", tag = "rights", security(("bearer" = [])),
    responses(
        (status = 200, description = "`rules`: [{code, datenart, rule, start_event, vorhaltefrist, deletion_cycle, basis, tenant_override}]", body = Object),
        (status = 401, response = Unauthorized), (status = 403, response = Forbidden),
    )
)]
pub async fn rules(State(s): State<AppState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    caller.require(Permission::Erase)?;
    Ok(Json(json!({"rules": s.k.deletion_concept(caller.tenant).await?})))
}

/// Body of `POST /v1/persons/{id}/restriction`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RestrictionBody {
    /// Why, e.g. `accuracy_contested` (Art. 18(1)(a)) or `objection_pending` (18(1)(d)).
    reason: String,
    /// How the request reached us.
    #[serde(default = "letter")]
    via: String,
}

/// Verarbeitung einschränken / restrict processing (Art. 18, R48): the gate blocks the person
/// (`restricted`), lists leave them out, only compliance reads their data and every read is
/// recorded, until `DELETE` lifts it.
#[utoipa::path(
    post, path = "/v1/persons/{id}/restriction", tag = "rights", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Person id")),
    request_body = RestrictionBody,
    responses(
        (status = 201, description = "Restricted", body = Object),
        (status = 400, response = BadRequest), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden), (status = 404, response = NotFound), (status = 409, response = Conflict),
        (status = 413, response = PayloadTooLarge), (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Unprocessable),
    )
)]
pub async fn restrict(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<RestrictionBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    caller.require(Permission::Erase)?;
    let id: PersonId = path_id(&id, "person")?;
    super::persons::visible_person(&s, &caller, id).await?;
    s.k.restrict_person(caller.tenant, &caller.actor(), id, &b.reason, &b.via).await?;
    Ok((StatusCode::CREATED, Json(json!({"person_id": id, "restricted": true}))))
}

/// Einschränkung aufheben / lift an Art. 18 restriction.
#[utoipa::path(
    delete, path = "/v1/persons/{id}/restriction", tag = "rights", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Person id")),
    responses(
        (status = 200, description = "Lifted", body = Object),
        (status = 401, response = Unauthorized), (status = 403, response = Forbidden),
        (status = 404, response = NotFound), (status = 409, response = Conflict),
    )
)]
pub async fn lift(State(s): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    caller.require(Permission::Erase)?;
    let id: PersonId = path_id(&id, "person")?;
    super::persons::visible_person(&s, &caller, id).await?;
    s.k.lift_restriction(caller.tenant, &caller.actor(), id).await?;
    Ok(Json(json!({"person_id": id, "restricted": false})))
}
