//! `POST /v1/check/batch`: many gate decisions in one streamed request, NDJSON or CSV in and out,
//! in constant memory. A bad row yields an error line naming row and field; it never aborts.

use std::collections::BTreeSet;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use konsent_domain::channel::{Channel, ProductCategory};
use konsent_domain::gate::CampaignPolicy;
use konsent_domain::ids::AdvertiserId;
use konsent_service::gate::CheckRequest;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::mpsc;
use utoipa::IntoParams;

use super::ContactInput;
use crate::AppState;
use crate::auth::{Caller, Permission};
use crate::problem::{
    ApiError, BadRequest, Forbidden, PayloadTooLarge, Unauthorized, Unprocessable, UnsupportedMediaType,
};
use crate::query::ApiQuery;

/// Defaults for every row, from the query string.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct BatchDefaults {
    /// Channel for rows that name none (`phone_live`, `email`, …).
    #[param(value_type = Option<String>)]
    channel: Option<Channel>,
    /// Advertiser for rows that name none.
    #[param(value_type = Option<String>, format = Uuid)]
    advertiser_id: Option<AdvertiserId>,
    /// Comma-separated product category codes.
    product_categories: Option<String>,
    /// Campaign id recorded in every decision.
    campaign: Option<String>,
}

/// One NDJSON input row.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Row {
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    phone: Option<String>,
    #[serde(default)]
    channel: Option<Channel>,
    #[serde(default)]
    advertiser_id: Option<AdvertiserId>,
    #[serde(default)]
    product_categories: Option<BTreeSet<ProductCategory>>,
    #[serde(default, rename = "ref")]
    reference: Option<String>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Ndjson,
    Csv,
}

fn row_error(n: u64, field: &str, message: impl ToString) -> Value {
    json!({"row": n, "error": {"field": field, "message": message.to_string()}})
}

/// Parses one CSV data line against the header.
fn csv_row(header: &[String], line: &str) -> Result<Row, (String, String)> {
    let mut rdr = csv::ReaderBuilder::new().has_headers(false).delimiter(delimiter(line)).from_reader(line.as_bytes());
    let rec = rdr
        .records()
        .next()
        .ok_or_else(|| ("line".to_string(), "empty line".to_string()))?
        .map_err(|e| ("line".to_string(), e.to_string()))?;
    let mut row =
        Row { email: None, phone: None, channel: None, advertiser_id: None, product_categories: None, reference: None };
    for (name, value) in header.iter().zip(rec.iter()) {
        let value = value.trim();
        if value.is_empty() {
            continue;
        }
        let bad = |e: String| (name.clone(), e);
        match name.as_str() {
            "email" | "e-mail" => row.email = Some(value.into()),
            "phone" | "telefon" | "telephone" | "mobile" => row.phone = Some(value.into()),
            "channel" | "kanal" => {
                row.channel =
                    Some(value.parse().map_err(|e: konsent_domain::channel::UnknownChannel| bad(e.to_string()))?)
            }
            "advertiser_id" => {
                row.advertiser_id =
                    Some(value.parse().map_err(|e: konsent_domain::ids::IdParseError| bad(e.to_string()))?)
            }
            "product_categories" => {
                row.product_categories = Some(
                    value
                        .split('|')
                        .map(ProductCategory::parse)
                        .collect::<Result<_, _>>()
                        .map_err(|e| bad(e.to_string()))?,
                )
            }
            "ref" | "id" => row.reference = Some(value.into()),
            _ => {}
        }
    }
    Ok(row)
}

fn delimiter(line: &str) -> u8 {
    if line.contains(';') {
        b';'
    } else if line.contains('\t') {
        b'\t'
    } else {
        b','
    }
}

fn csv_line(v: &Value) -> String {
    let mut w = csv::WriterBuilder::new().has_headers(false).from_writer(vec![]);
    let reasons = v["reasons"]
        .as_array()
        .map(|r| r.iter().filter_map(|x| x.as_str()).collect::<Vec<_>>().join("|"))
        .unwrap_or_default();
    let error = v
        .get("error")
        .map(|e| format!("{}: {}", e["field"].as_str().unwrap_or(""), e["message"].as_str().unwrap_or("")));
    let s = |k: &str| v[k].as_str().map(str::to_string).unwrap_or_default();
    let _ = w.write_record([
        v["row"].to_string(),
        s("ref"),
        v.get("allowed").map(|a| a.to_string()).unwrap_or_default(),
        reasons,
        s("legal_basis"),
        s("decision_id"),
        error.unwrap_or_default(),
    ]);
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

#[utoipa::path(
    post, path = "/v1/check/batch", tag = "check", security(("bearer" = [])),
    params(BatchDefaults),
    request_body(
        content_type = "application/x-ndjson",
        description = "One row per line: NDJSON objects `{phone|email, channel?, advertiser_id?, product_categories?, ref?}`, or CSV with a header row (`telefon`/`phone`/`email`, `ref`, …; `,` `;` or tab) as `text/csv`. Streamed; no size limit.",
        content = String
    ),
    responses(
        (status = 200, description = "One line per input row, streamed, in the input's format: `{row, ref, allowed, reasons, legal_basis, decision_id}` or `{row, error: {field, message}}`", content_type = "application/x-ndjson", body = String),
        (status = 400, response = BadRequest), (status = 401, response = Unauthorized), (status = 403, response = Forbidden),
        (status = 413, response = PayloadTooLarge), (status = 415, response = UnsupportedMediaType), (status = 422, response = Unprocessable),
    )
)]
pub async fn check_batch(
    State(s): State<AppState>,
    caller: Caller,
    ApiQuery(d): ApiQuery<BatchDefaults>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    caller.require(Permission::Check)?;
    let ctype = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let format = if ctype.starts_with("text/csv") {
        Format::Csv
    } else if ctype.starts_with("application/x-ndjson") || ctype.starts_with("application/jsonl") {
        Format::Ndjson
    } else {
        return Err(ApiError::new(
            axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send application/x-ndjson or text/csv",
        ));
    };
    let defaults_categories: Option<BTreeSet<ProductCategory>> = match &d.product_categories {
        Some(c) => Some(
            c.split(',')
                .filter(|x| !x.trim().is_empty())
                .map(ProductCategory::parse)
                .collect::<Result<_, _>>()
                .map_err(|e| ApiError::bad_request("bad_query", e.to_string()))?,
        ),
        None => None,
    };
    let (tx, rx) = mpsc::channel::<Bytes>(256);
    let mut input = body.into_data_stream();
    tokio::spawn(async move {
        let mut buf: Vec<u8> = Vec::new();
        let mut n: u64 = 0;
        let mut header: Option<Vec<String>> = None;
        if format == Format::Csv {
            let _ = tx.send(Bytes::from_static(b"row,ref,allowed,reasons,legal_basis,decision_id,error\n")).await;
        }
        let mut finished = false;
        while !finished {
            let chunk = match input.next().await {
                Some(Ok(c)) => c,
                Some(Err(_)) => break,
                None => {
                    finished = true;
                    Bytes::from_static(b"\n")
                }
            };
            buf.extend_from_slice(&chunk);
            let mut pending: Vec<Prepared> = Vec::new();
            while let Some(pos) = buf.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = buf.drain(..=pos).collect();
                let line = String::from_utf8_lossy(&line).trim_start_matches('\u{feff}').trim().to_string();
                if line.is_empty() {
                    continue;
                }
                if format == Format::Csv && header.is_none() {
                    let delim = delimiter(&line);
                    header =
                        Some(line.split(delim as char).map(|h| h.trim().trim_matches('"').to_lowercase()).collect());
                    continue;
                }
                n += 1;
                pending.push(prepare(&d, &defaults_categories, format, header.as_deref(), n, &line));
                if pending.len() == BULK && !answer(&s, &caller, std::mem::take(&mut pending), format, &tx).await {
                    return; // client went away
                }
            }
            if !pending.is_empty() && !answer(&s, &caller, pending, format, &tx).await {
                return;
            }
            if buf.len() > 64 * 1024 {
                let _ =
                    tx.send(Bytes::from(format!("{}\n", row_error(n + 1, "line", "line longer than 64 KiB")))).await;
                buf.clear();
            }
        }
    });
    let stream =
        futures_util::stream::unfold(
            rx,
            |mut rx| async move { rx.recv().await.map(|b| (Ok::<_, std::io::Error>(b), rx)) },
        );
    let mut res = Body::from_stream(stream).into_response();
    let out_type = if format == Format::Csv { "text/csv; charset=utf-8" } else { "application/x-ndjson" };
    res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(out_type));
    Ok(res)
}

/// Rows decided together (one bulk load each).
const BULK: usize = 500;

/// A row ready to be decided, or its error line.
type Prepared = Result<(u64, Option<String>, CheckRequest), Value>;

/// Parses one line into a gate request with the query's defaults.
fn prepare(
    d: &BatchDefaults,
    default_categories: &Option<BTreeSet<ProductCategory>>,
    format: Format,
    header: Option<&[String]>,
    n: u64,
    line: &str,
) -> Prepared {
    let row = match format {
        Format::Ndjson => serde_json::from_str::<Row>(line).map_err(|e| row_error(n, "line", e))?,
        Format::Csv => csv_row(header.unwrap_or(&[]), line).map_err(|(field, msg)| row_error(n, &field, msg))?,
    };
    let contact = (ContactInput { email: row.email, phone: row.phone, postal: None })
        .parse("", "email|phone")
        .map_err(|e| row_error(n, &e.field, e.message))?;
    let channel = row.channel.or(d.channel).ok_or_else(|| row_error(n, "channel", "missing (row or ?channel=)"))?;
    let advertiser = row
        .advertiser_id
        .or(d.advertiser_id)
        .ok_or_else(|| row_error(n, "advertiser_id", "missing (row or ?advertiser_id=)"))?;
    let categories = row.product_categories.or_else(|| default_categories.clone()).unwrap_or_default();
    let req = CheckRequest {
        contact,
        channel,
        advertiser,
        categories,
        policy: CampaignPolicy::default(),
        campaign: d.campaign.clone(),
    };
    Ok((n, row.reference, req))
}

/// Decides the prepared rows in one bulk check and sends one line per row, in order. False when
/// the client has gone away.
async fn answer(s: &AppState, caller: &Caller, rows: Vec<Prepared>, format: Format, tx: &mpsc::Sender<Bytes>) -> bool {
    let reqs: Vec<CheckRequest> = rows.iter().filter_map(|r| r.as_ref().ok()).map(|(_, _, q)| q.clone()).collect();
    let decided = s.k.check_many(caller.tenant, &reqs).await;
    let mut outcomes = match decided {
        Ok(o) => Some(o.into_iter()),
        Err(e) => {
            tracing::error!(error = %e, "batch check failed");
            None
        }
    };
    let mut text = String::new();
    for r in rows {
        let line = match r {
            Err(v) => v,
            Ok((n, reference, _)) => match outcomes.as_mut().and_then(Iterator::next) {
                Some(Ok(o)) => {
                    s.metrics.decision(o.decision.allowed);
                    json!({
                        "row": n,
                        "ref": reference,
                        "allowed": o.decision.allowed,
                        "reasons": o.decision.codes(),
                        "legal_basis": o.decision.legal_basis.map(|b| b.code()),
                        "decision_id": o.token,
                    })
                }
                Some(Err(konsent_service::ServiceError::Invalid(errors))) => match errors.into_iter().next() {
                    Some(e) => row_error(n, &e.field, e.message),
                    None => row_error(n, "row", "invalid"),
                },
                Some(Err(e)) => {
                    tracing::error!(error = %e, row = n, "batch check failed");
                    row_error(n, "row", "internal error; see the server log")
                }
                None => row_error(n, "row", "internal error; see the server log"),
            },
        };
        match format {
            Format::Ndjson => {
                text.push_str(&line.to_string());
                text.push('\n');
            }
            Format::Csv => text.push_str(&csv_line(&line)),
        }
    }
    tx.send(Bytes::from(text)).await.is_ok()
}
