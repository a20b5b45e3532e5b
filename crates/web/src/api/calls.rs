//! Phone campaign routes: the lead check before loading a dialer (Prüfpflicht, R24) and the
//! upload of a dialer's call log, which moves the § 7a clock of every consent a call relied on.

use std::collections::BTreeSet;

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use konsent_domain::channel::ProductCategory;
use konsent_domain::crypto::sha256_hex;
use konsent_domain::ids::AdvertiserId;
use konsent_service::leads::{Lead, LeadCampaign, leads_from_csv};
use serde::Deserialize;
use serde_json::Value;
use utoipa::IntoParams;

use super::{advertiser_id, field};
use crate::AppState;
use crate::auth::{Caller, Permission};
use crate::problem::{
    ApiError, BadRequest, Forbidden, PayloadTooLarge, Unauthorized, Unprocessable, UnsupportedMediaType,
};
use crate::query::ApiQuery;

/// Largest list or log accepted (about 400,000 rows).
const MAX_LIST: usize = 32 << 20;

async fn read(body: Body) -> Result<Vec<u8>, ApiError> {
    axum::body::to_bytes(body, MAX_LIST).await.map(|b| b.to_vec()).map_err(|_| {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            format!("the file exceeds {} MiB", MAX_LIST >> 20),
        )
    })
}

/// Query of `POST /v1/leads/check`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LeadQuery {
    /// Advertiser of the campaign.
    advertiser: String,
    /// Product categories advertised, comma-separated.
    #[serde(default)]
    categories: String,
    /// Campaign id.
    campaign: Option<String>,
}

/// Body of a JSON lead check.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LeadsJson {
    leads: Vec<LeadJson>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LeadJson {
    #[serde(rename = "ref")]
    reference: Option<String>,
    phone: String,
}

/// Leads prüfen / check a lead list before a phone campaign (Prüfpflicht, R24): every lead allowed
/// or blocked with reason codes, and a summary. Send CSV (`text/csv`, a phone column, optional
/// `ref`) or JSON `{"leads": [{"ref": "A1", "phone": "0171…"}]}`. With `Accept: text/csv` the
/// answer is the per-lead report as CSV; otherwise JSON with `total`, `allowed`, `blocked`,
/// `by_reason`, `leads`. The check is recorded in the ledger.
#[utoipa::path(
    post, path = "/v1/leads/check", tag = "gate", security(("bearer" = [])),
    params(LeadQuery),
    request_body(content = String, content_type = "text/csv"),
    responses(
        (status = 200, description = "The report (JSON, or CSV with `Accept: text/csv`)", body = Object),
        (status = 400, response = BadRequest), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden), (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType), (status = 422, response = Unprocessable),
    )
)]
pub async fn check_leads(
    State(s): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<LeadQuery>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    caller.require(Permission::Check)?;
    let advertiser: AdvertiserId = advertiser_id("advertiser", &q.advertiser)?;
    let mut categories = BTreeSet::new();
    for c in q.categories.split(',').map(str::trim).filter(|c| !c.is_empty()) {
        categories.insert(ProductCategory::parse(c).map_err(|e| field("categories", e.to_string()))?);
    }
    let bytes = read(body).await?;
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let leads: Vec<Lead> = if is_json {
        let b: LeadsJson = serde_json::from_slice(&bytes).map_err(|e| field("leads", e.to_string()))?;
        b.leads
            .into_iter()
            .enumerate()
            .map(|(i, l)| Lead { reference: l.reference.unwrap_or_else(|| format!("leads[{i}]")), phone: l.phone })
            .collect()
    } else {
        leads_from_csv(&bytes)?
    };
    let campaign = LeadCampaign { advertiser, categories, campaign: q.campaign };
    let r = s.k.check_leads(caller.tenant, &caller.actor(), campaign, &leads, Some(sha256_hex(&bytes))).await?;
    let wants_csv = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("text/csv"));
    if wants_csv {
        let ct = HeaderValue::from_static("text/csv; charset=utf-8");
        return Ok(([(header::CONTENT_TYPE, ct)], r.to_csv()).into_response());
    }
    Ok(Json(serde_json::to_value(&r).unwrap_or(Value::Null)).into_response())
}

/// Query of `POST /v1/uses/import`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CallLogQuery {
    /// Advertiser for rows without an advertiser column.
    advertiser: Option<String>,
}

/// Anrufprotokoll hochladen / upload a dialer's call log (CSV: phone and time columns; optional
/// outcome `connected`/`attempt`, advertiser, campaign, agent, executing_party). Each row is
/// logged as a use of the consents it relied on, moving their § 7a retention (R23). Rows that
/// cannot be read are listed with row and field; calls to numbers without a valid consent are
/// recorded and listed in `without_consent`. Uploading the same file again records nothing new.
#[utoipa::path(
    post, path = "/v1/uses/import", tag = "gate", security(("bearer" = [])),
    params(CallLogQuery),
    request_body(content = String, content_type = "text/csv"),
    responses(
        (status = 200, description = "`rows`, `recorded`, `already_imported`, `without_consent` (rows), `errors` [{field, message}]", body = Object),
        (status = 400, response = BadRequest), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden), (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType), (status = 422, response = Unprocessable),
    )
)]
pub async fn import_call_log(
    State(s): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<CallLogQuery>,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    caller.require(Permission::LogUse)?;
    let advertiser = q.advertiser.map(|a| advertiser_id("advertiser", &a)).transpose()?;
    let bytes = read(body).await?;
    let r = s.k.import_call_log(caller.tenant, &caller.actor(), &bytes, advertiser).await?;
    Ok(Json(serde_json::to_value(&r).unwrap_or(Value::Null)))
}
