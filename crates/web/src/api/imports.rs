//! `POST /v1/imports`: a contact export uploaded as the request body (CSV, or Mailchimp's ZIP),
//! streamed to a file in the data directory and imported like `konsent import`.

use std::collections::BTreeSet;

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use futures_util::StreamExt;
use konsent_domain::ids::AdvertiserId;
use konsent_service::imports::{Format, ImportOptions};
use serde::Deserialize;
use serde_json::Value;
use tokio::io::AsyncWriteExt;
use utoipa::IntoParams;

use super::{advertiser_id, field};
use crate::AppState;
use crate::auth::{Caller, Permission};
use crate::problem::{
    ApiError, BadRequest, Forbidden, PayloadTooLarge, Unauthorized, Unprocessable, UnsupportedMediaType,
};
use crate::query::ApiQuery;

/// Largest export accepted (about 10 million rows).
const MAX_FILE: u64 = 2 << 30;

/// Query of `POST /v1/imports`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// `mailchimp`, `cleverreach`, `hubspot` or `generic`.
    format: String,
    /// The consent text the source showed: its id, or its key (latest published version).
    text: String,
    /// Advertisers the consents name, comma-separated ids (default: all of the text's).
    advertisers: Option<String>,
    /// Source system named in the evidence (default: the tool's name).
    provider: Option<String>,
    /// Contract reference when the list comes from a third party.
    third_party_contract: Option<String>,
    /// Only report what would happen.
    #[serde(default)]
    dry_run: bool,
    /// The export's file name, for a raw body (Mailchimp's `unsubscribed_members_export_….csv`
    /// says its status by its name); a multipart upload carries it itself.
    name: Option<String>,
}

fn internal(e: &std::io::Error) -> ApiError {
    tracing::error!(error = %e, "cannot store an uploaded import");
    ApiError::new(
        axum::http::StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "could not store the upload; see the server log",
    )
}

/// Kontakte importieren / import a contact export: Mailchimp (the ZIP of three CSVs or one CSV),
/// CleverReach, HubSpot or broker software (`generic`), as the request body (then `name` gives
/// its file name) or as `multipart/form-data` with a `file` part and an optional `mapping` part
/// (TOML: columns, status values, date formats; see the API guide). Delimiter,
/// byte-order mark and encoding (UTF-8 or Windows-1252) are detected, columns found by header
/// name. The suppression list is matched before anything is created; imported consents get
/// the status their evidence supports (`given` only with the source's whole double opt-in
/// record, otherwise `unknown`, R25, R26); unsubscribes and bounces there become withdrawals
/// and suppressions here. The same file imported again changes nothing; an interrupted import
/// resumes after its last committed row when sent again. The report counts rows by outcome and
/// names every bad row with its column.
#[utoipa::path(
    post, path = "/v1/imports", tag = "imports", security(("bearer" = [])),
    params(ImportQuery),
    request_body(content = String, content_type = "text/csv"),
    responses(
        (status = 200, description = "The report: `rows`, `outcomes` {given, unknown, unchanged, suppressed, erased, opt_out, bounced, pending, no_consent, error}, `unknown_because`, `problems` [{row, file, field, message}], `encoding`, `delimiter`, `columns`, `already_imported`, `resumed_after`", body = Object),
        (status = 400, response = BadRequest), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden), (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType), (status = 422, response = Unprocessable),
    )
)]
pub async fn import(
    State(s): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<ImportQuery>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    caller.require(Permission::RecordConsent)?;
    caller.require(Permission::WritePersons)?;
    let format = q.format.parse::<Format>().map_err(|e| field("format", e.to_string()))?;
    let advertisers = match q.advertisers.as_deref().map(str::trim).filter(|a| !a.is_empty()) {
        None => None,
        Some(list) => {
            Some(list.split(',').map(|a| advertiser_id("advertisers", a)).collect::<Result<BTreeSet<_>, _>>()?)
        }
    };
    let opts = ImportOptions {
        format,
        mapping: None,
        text_id: s.k.published_text(caller.tenant, &q.text).await?,
        advertisers,
        provider: q.provider,
        third_party_contract: q.third_party_contract,
        org_unit: None,
        dry_run: q.dry_run,
        batch_rows: konsent_service::imports::BATCH_ROWS,
        chunk_rows: konsent_service::imports::CHUNK_ROWS,
    };
    let upload = Upload::receive(&s, &headers, body, q.name.as_deref()).await?;
    let result = match upload.mapping() {
        Ok(mapping) => {
            let opts = ImportOptions { mapping, ..opts };
            s.k.import_file(caller.tenant, &caller.actor(), &upload.path, &opts, &|_| true)
                .await
                .map_err(ApiError::from)
        }
        Err(e) => Err(e),
    };
    upload.remove().await;
    Ok(Json(serde_json::to_value(result?).unwrap_or(Value::Null)))
}

/// An export received over HTTP, streamed to its own folder in the data directory under its
/// own file name: a raw body, or `multipart/form-data` with a `file` part and an optional
/// `mapping` part (TOML).
struct Upload {
    dir: std::path::PathBuf,
    path: std::path::PathBuf,
    mapping: Option<String>,
}

/// Largest mapping file accepted.
const MAX_MAPPING: usize = 64 << 10;

impl Upload {
    async fn receive(s: &AppState, headers: &HeaderMap, body: Body, name: Option<&str>) -> Result<Upload, ApiError> {
        let dir = s.k.data_dir.join("uploads").join(uuid::Uuid::now_v7().to_string());
        tokio::fs::create_dir_all(&dir).await.map_err(|e| internal(&e))?;
        let ctype = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
        let mut up = Upload { path: dir.join(file_name(name)), dir, mapping: None };
        let result = match multer::parse_boundary(ctype) {
            Ok(boundary) if ctype.starts_with("multipart/form-data") => up.parts(body, boundary).await,
            _ => save(body.into_data_stream(), &up.path).await,
        };
        match result {
            Ok(()) => Ok(up),
            Err(e) => {
                up.remove().await;
                Err(e)
            }
        }
    }

    async fn parts(&mut self, body: Body, boundary: String) -> Result<(), ApiError> {
        let mut form = multer::Multipart::new(body.into_data_stream(), boundary);
        let mut saw_file = false;
        while let Some(mut part) =
            form.next_field().await.map_err(|e| field("body", format!("not a valid form: {e}")))?
        {
            match part.name().unwrap_or_default() {
                "file" => {
                    self.path = self.dir.join(file_name(part.file_name()));
                    let stream = futures_util::stream::poll_fn(move |cx| part.poll_next_unpin(cx));
                    save(stream, &self.path).await?;
                    saw_file = true;
                }
                "mapping" => {
                    let mut text = Vec::new();
                    while let Some(chunk) = part.chunk().await.map_err(|e| field("mapping", e.to_string()))? {
                        text.extend_from_slice(&chunk);
                        if text.len() > MAX_MAPPING {
                            return Err(field("mapping", format!("exceeds {} KiB", MAX_MAPPING >> 10)));
                        }
                    }
                    let text = String::from_utf8(text)
                        .map_err(|_| field("mapping", "ist kein UTF-8-Text / is not UTF-8 text"))?;
                    self.mapping = Some(text);
                }
                other => {
                    let shown: String = other.chars().take(40).collect();
                    return Err(field(&format!("form.{shown}"), "unknown part; send `file` and optionally `mapping`"));
                }
            }
        }
        if saw_file {
            Ok(())
        } else {
            Err(field("file", "das Formular hat keinen Teil `file` / the form has no `file` part"))
        }
    }

    /// The mapping sent with the file, parsed.
    fn mapping(&self) -> Result<Option<konsent_service::imports::Mapping>, ApiError> {
        self.mapping
            .as_deref()
            .map(|m| konsent_service::imports::Mapping::parse(m).map_err(|e| field("mapping", e.to_string())))
            .transpose()
    }

    async fn remove(&self) {
        let _ = tokio::fs::remove_dir_all(&self.dir).await;
    }
}

/// A file name safe to use in the upload's folder (the tool's name kept where it is plain).
fn file_name(name: Option<&str>) -> String {
    let base = name.and_then(|n| n.rsplit(['/', '\\']).next()).unwrap_or("");
    let clean: String =
        base.chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')).take(120).collect();
    if clean.trim_matches('.').is_empty() { "upload".into() } else { clean }
}

async fn save<S, E>(stream: S, path: &std::path::Path) -> Result<(), ApiError>
where
    S: futures_util::Stream<Item = Result<axum::body::Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let mut file = tokio::fs::File::create(path).await.map_err(|e| internal(&e))?;
    let mut stream = stream;
    let mut size = 0u64;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| field("file", format!("upload broke off: {e}")))?;
        size += chunk.len() as u64;
        if size > MAX_FILE {
            return Err(ApiError::new(
                axum::http::StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                format!("the file exceeds {} GiB", MAX_FILE >> 30),
            ));
        }
        file.write_all(&chunk).await.map_err(|e| internal(&e))?;
    }
    if size == 0 {
        return Err(field(
            "file",
            "der Inhalt der Anfrage ist leer: den Export als Inhalt senden / the request body is empty: send the export as the body",
        ));
    }
    file.flush().await.map_err(|e| internal(&e))
}

/// Query of `POST /v1/reconcile`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReconcileQuery {
    /// `mailchimp`, `cleverreach`, `hubspot` or `generic`.
    format: String,
    /// Advertiser whose e-mail advertising is compared.
    advertiser: String,
    /// The export's file name, for a raw body.
    name: Option<String>,
}

/// Abgleich / reconcile a newsletter tool's export (the body) with Konsent: addresses subscribed
/// there but not allowed here, with the gate's reasons (unsubscribe them there now), and
/// addresses unsubscribed, bounced or complained there but still allowed here (import the export).
#[utoipa::path(
    post, path = "/v1/reconcile", tag = "imports", security(("bearer" = [])),
    params(ReconcileQuery),
    request_body(content = String, content_type = "text/csv"),
    responses(
        (status = 200, description = "`rows`, `in_sync`, `subscribed_there_blocked_here` [{row, file, external_id, email, status_there, reasons_here}], `opted_out_there_allowed_here`, `by_reason`", body = Object),
        (status = 400, response = BadRequest), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden), (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType), (status = 422, response = Unprocessable),
    )
)]
pub async fn reconcile(
    State(s): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<ReconcileQuery>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    caller.require(Permission::Export)?;
    let format = q.format.parse::<Format>().map_err(|e| field("format", e.to_string()))?;
    let advertiser: AdvertiserId = advertiser_id("advertiser", &q.advertiser)?;
    let upload = Upload::receive(&s, &headers, body, q.name.as_deref()).await?;
    let result = match upload.mapping() {
        Ok(mapping) => {
            s.k.reconcile(caller.tenant, &upload.path, format, mapping.as_ref(), advertiser)
                .await
                .map_err(ApiError::from)
        }
        Err(e) => Err(e),
    };
    upload.remove().await;
    Ok(Json(serde_json::to_value(result?).unwrap_or(Value::Null)))
}
