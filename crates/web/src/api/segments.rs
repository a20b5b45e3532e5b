//! Campaign segments and Robinson lists: freeze a selection, read its members with their
//! reasons, export it for a newsletter tool or dialer, import a Robinson list.

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use konsent_domain::ids::SegmentId;
use konsent_domain::segment::SegmentSpec;
use konsent_formats::export::{ExportFormat, Lang};
use konsent_service::repermission::RepermissionScope;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::IntoParams;

use super::{advertiser_id, field};
use crate::AppState;
use crate::auth::{Caller, Permission};
use crate::json::ApiJson;
use crate::problem::{
    ApiError, BadRequest, Conflict, Forbidden, NotFound, PayloadTooLarge, Unauthorized, Unprocessable,
    UnsupportedMediaType,
};
use crate::query::ApiQuery;

fn segment_id(id: &str) -> Result<SegmentId, ApiError> {
    id.parse().map_err(|_| ApiError::not_found(&format!("segment {id}")))
}

/// Segment einfrieren / evaluate and freeze a campaign segment. Body: `name`, `channel`,
/// `advertiser` (id), optional `categories`, `source` (`first_party`/`third_party`), `provider`,
/// `given_from`, `given_to`, `org_unit`, `staleness_months` (R29), `robinson` `{required, list,
/// max_age_days}` (R31), `valid_days` (default 7). Every contact point whose holder has a consent
/// naming the advertiser and channel is in or out with the gate's reason codes; the member
/// list's hash is recorded in the ledger.
#[utoipa::path(
    post, path = "/v1/segments", tag = "segments", security(("bearer" = [])),
    request_body(content = Object, description = "The segment spec"),
    responses(
        (status = 201, description = "`id`, `spec`, `members`, `included`, `by_reason`, `frozen_at`, `valid_until`", body = Object),
        (status = 400, response = BadRequest), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden), (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType), (status = 422, response = Unprocessable),
    )
)]
pub async fn create(
    State(s): State<AppState>,
    caller: Caller,
    ApiJson(spec): ApiJson<SegmentSpec>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    caller.require(Permission::Export)?;
    let r = s.k.freeze_segment(caller.tenant, &caller.actor(), spec).await?;
    Ok((StatusCode::CREATED, Json(serde_json::to_value(r).unwrap_or(Value::Null))))
}

/// Segmente / the frozen segments, newest first.
#[utoipa::path(
    get, path = "/v1/segments", tag = "segments", security(("bearer" = [])),
    responses(
        (status = 200, description = "`items`: segment summaries", body = Object),
        (status = 401, response = Unauthorized), (status = 403, response = Forbidden),
    )
)]
pub async fn list(State(s): State<AppState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    caller.require(Permission::Export)?;
    Ok(Json(json!({"items": s.k.segments(caller.tenant).await?})))
}

/// Segment / one frozen segment's summary.
#[utoipa::path(
    get, path = "/v1/segments/{id}", tag = "segments", security(("bearer" = [])),
    params(("id" = String, Path, description = "Segment id")),
    responses(
        (status = 200, description = "The summary", body = Object),
        (status = 401, response = Unauthorized), (status = 403, response = Forbidden), (status = 404, response = NotFound),
    )
)]
pub async fn get(State(s): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    caller.require(Permission::Export)?;
    let r = s.k.segment(caller.tenant, segment_id(&id)?).await?;
    Ok(Json(serde_json::to_value(r).unwrap_or(Value::Null)))
}

/// Query of the member list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MembersQuery {
    /// Only those who may be contacted.
    #[serde(default)]
    included_only: bool,
    /// Continue after this position (`next` of the previous page).
    #[serde(default)]
    after: i64,
    /// Page size (default 500, at most 5,000).
    limit: Option<i64>,
}

/// Mitglieder / a frozen segment's members: person, contact point, in or out, reason codes and
/// the consents relied on, in pages.
#[utoipa::path(
    get, path = "/v1/segments/{id}/members", tag = "segments", security(("bearer" = [])),
    params(("id" = String, Path, description = "Segment id"), MembersQuery),
    responses(
        (status = 200, description = "`items` [{person_id, contact_point_id, included, reasons, consents}], `next`", body = Object),
        (status = 401, response = Unauthorized), (status = 403, response = Forbidden), (status = 404, response = NotFound),
    )
)]
pub async fn members(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<MembersQuery>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Permission::Export)?;
    let id = segment_id(&id)?;
    s.k.segment(caller.tenant, id).await?;
    let limit = q.limit.unwrap_or(500).clamp(1, 5000);
    let rows = konsent_store::queries::segment_members(&s.k.db, caller.tenant, id, q.after, limit, q.included_only)
        .await
        .map_err(konsent_service::ServiceError::from)?;
    let next = (rows.len() as i64 == limit).then(|| rows.last().map(|r| r.seq)).flatten();
    let items: Vec<Value> = rows
        .iter()
        .map(|r| {
            json!({
                "person_id": r.person_id, "contact_point_id": r.contact_point_id, "included": r.included,
                "reasons": serde_json::from_str::<Value>(&r.reasons).unwrap_or(Value::Null),
                "consents": serde_json::from_str::<Value>(&r.consents).unwrap_or(Value::Null),
            })
        })
        .collect();
    Ok(Json(json!({"items": items, "next": next})))
}

/// Query of an export.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// `mailchimp`, `cleverreach`, `hubspot`, `dialer` or `jsonl`.
    format: String,
    /// Log every written contact as a use (default: yes, except for `dialer`).
    as_use: Option<bool>,
    /// `de` (default) or `en` column headers where the format has a choice.
    lang: Option<String>,
}

/// Segment exportieren / export a frozen segment's contacts in a tool's import format. Members
/// are checked again: whoever withdrew, objected or was suppressed since freezing is left out
/// (counted in `X-Konsent-Changed`). A segment past its `valid_until` is refused with 409. CSV
/// cells are safe against spreadsheet formula injection.
#[utoipa::path(
    post, path = "/v1/segments/{id}/export", tag = "segments", security(("bearer" = [])),
    params(("id" = String, Path, description = "Segment id"), ExportQuery),
    responses(
        (status = 200, description = "The file (CSV or JSON Lines)", content_type = "text/csv"),
        (status = 401, response = Unauthorized), (status = 403, response = Forbidden), (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 422, response = Unprocessable),
    )
)]
pub async fn export(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<ExportQuery>,
) -> Result<Response, ApiError> {
    caller.require(Permission::Export)?;
    let id = segment_id(&id)?;
    let format: ExportFormat =
        q.format.parse().map_err(|e: konsent_formats::export::ExportError| field("format", e.to_string()))?;
    let lang = match q.lang.as_deref() {
        None | Some("de") => Lang::De,
        Some("en") => Lang::En,
        Some(_) => return Err(field("lang", "de oder en / use de or en")),
    };
    let as_use = q.as_use.unwrap_or(format != ExportFormat::Dialer);
    let request = konsent_service::segments::ExportRequest { segment: id, format, lang, as_use };
    let (bytes, sum) = s.k.export_segment(caller.tenant, &caller.actor(), &request, Vec::new()).await?;
    let mut r = Body::from(bytes).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(format.media_type()));
    let name = format!("attachment; filename=\"segment-{id}.{}\"", format.extension());
    if let Ok(v) = HeaderValue::from_str(&name) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    for (k, v) in [("x-konsent-rows", sum.rows), ("x-konsent-changed", sum.changed), ("x-konsent-skipped", sum.skipped)]
    {
        h.insert(k, HeaderValue::from(v));
    }
    Ok(r)
}

/// Robinsonliste importieren / import a Robinson list (R31) as the body: one SHA-256 (hex) per
/// line of the lower-case e-mail address or the E.164 number, as the providers deliver them.
/// Importing under an existing name replaces that list.
#[utoipa::path(
    post, path = "/v1/robinson-lists/{list}", tag = "segments", security(("bearer" = [])),
    params(("list" = String, Path, description = "List name, e.g. idi-2026-11")),
    request_body(content = String, content_type = "text/plain"),
    responses(
        (status = 200, description = "`list`, `entries`", body = Object),
        (status = 400, response = BadRequest), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden), (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType), (status = 422, response = Unprocessable),
    )
)]
pub async fn import_robinson(
    State(s): State<AppState>,
    caller: Caller,
    Path(list): Path<String>,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    caller.require(Permission::ManageSuppression)?;
    let bytes = axum::body::to_bytes(body, 256 << 20).await.map_err(|_| {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            "die Liste ist größer als 256 MiB / the list exceeds 256 MiB",
        )
    })?;
    let n = s.k.import_robinson(caller.tenant, &caller.actor(), &list, &bytes).await?;
    Ok(Json(json!({"list": list, "entries": n})))
}

/// Query of the re-permission plan.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RepermissionQuery {
    /// Advertiser id.
    advertiser: String,
    /// Days ahead to look for consents turning stale (default 60).
    within_days: Option<u16>,
    /// The campaign's staleness limits in months, `phone_live:6,email:12` (R29); channels not
    /// named keep 12 months for calls and 18 for the others.
    #[param(example = "phone_live:6,email:12")]
    staleness: Option<String>,
}

impl RepermissionQuery {
    fn scope(&self) -> Result<RepermissionScope, ApiError> {
        Ok(RepermissionScope {
            advertiser: advertiser_id("advertiser", &self.advertiser)?,
            within_days: self.within_days.unwrap_or(konsent_service::repermission::WITHIN_DAYS),
            staleness_months: konsent_domain::gate::parse_staleness(self.staleness.as_deref().unwrap_or(""))
                .map_err(|e| field("staleness", e))?,
        })
    }
}

/// Body of `POST /v1/repermission`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RepermissionBody {
    /// Advertiser id.
    #[schema(value_type = String, format = Uuid)]
    advertiser: konsent_domain::ids::AdvertiserId,
    /// Days ahead (default 60).
    within_days: Option<u16>,
    /// The campaign's staleness limits in months per channel, e.g. `{"phone_live": 6}` (R29);
    /// channels not named keep 12 months for calls and 18 for the others.
    #[serde(default)]
    #[schema(value_type = Option<std::collections::BTreeMap<String, u16>>)]
    staleness_months: std::collections::BTreeMap<konsent_domain::channel::Channel, u16>,
}

/// Neueinholung planen / re-permission candidates (R29, R43): consents of the advertiser that are
/// Unknown or turn stale within the window, each with `route` `email` (a valid e-mail consent
/// carries the request), `post` (address known, no objection) or none; never a call.
#[utoipa::path(
    get, path = "/v1/repermission", tag = "segments", security(("bearer" = [])),
    params(RepermissionQuery),
    responses(
        (status = 200, description = "`candidates` [{consent_id, person_id, channels, why, stale_at, route, via_consent}], `by_route`, `staleness_months` (the limits applied)", body = Object),
        (status = 401, response = Unauthorized), (status = 403, response = Forbidden), (status = 422, response = Unprocessable),
    )
)]
pub async fn repermission_plan(
    State(s): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<RepermissionQuery>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Permission::Export)?;
    let plan = s.k.repermission_plan(caller.tenant, &q.scope()?).await?;
    Ok(Json(serde_json::to_value(plan).unwrap_or(Value::Null)))
}

/// Neueinholung senden / send the re-permission requests of the plan that may go by e-mail or
/// text message: for each consent due a new consent under the current text version, confirmed by
/// the person's click, one message per person for all of theirs; the old record stays as it is (R43).
#[utoipa::path(
    post, path = "/v1/repermission", tag = "segments", security(("bearer" = [])),
    request_body = RepermissionBody,
    responses(
        (status = 200, description = "`mails`, `sms`, `renewals`, `with_number`, `post`, `none`, `not_by_mail`, `failed`", body = Object),
        (status = 400, response = BadRequest), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden), (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType), (status = 422, response = Unprocessable),
    )
)]
pub async fn repermission_send(
    State(s): State<AppState>,
    caller: Caller,
    ApiJson(b): ApiJson<RepermissionBody>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Permission::Export)?;
    let scope = RepermissionScope {
        advertiser: b.advertiser,
        within_days: b.within_days.unwrap_or(konsent_service::repermission::WITHIN_DAYS),
        staleness_months: b.staleness_months,
    };
    let r = s.k.send_repermission(caller.tenant, &caller.actor(), &scope).await?;
    Ok(Json(serde_json::to_value(r).unwrap_or(Value::Null)))
}

/// Neueinholung per Brief / the re-permission letters of the plan: one row per person whose
/// request may only go by post (address known, no objection to post, no e-mail basis), with name,
/// address and the consents to renew, as a mail-merge CSV (`;`, UTF-8 with BOM). The signed reply
/// is captured like any paper consent.
#[utoipa::path(
    get, path = "/v1/repermission/letters", tag = "segments", security(("bearer" = [])),
    params(RepermissionQuery),
    responses(
        (status = 200, description = "The mail-merge list", content_type = "text/csv"),
        (status = 401, response = Unauthorized), (status = 403, response = Forbidden), (status = 422, response = Unprocessable),
    )
)]
pub async fn repermission_letters(
    State(s): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<RepermissionQuery>,
) -> Result<Response, ApiError> {
    caller.require(Permission::Export)?;
    let letters = s.k.repermission_letters(caller.tenant, &q.scope()?).await?;
    let mut r = Body::from(konsent_formats::export::letters_csv(&letters)).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    h.insert(header::CONTENT_DISPOSITION, HeaderValue::from_static("attachment; filename=\"neueinholung-briefe.csv\""));
    h.insert("x-konsent-rows", HeaderValue::from(letters.len() as u64));
    Ok(r)
}
