//! `Idempotency-Key` on every POST under `/v1`: the first answer to a key is stored per tenant and
//! replayed for retries of the same request, so a retrying CRM never records twice. The same key
//! with a different request is refused; a key whose first request is still running answers 409.

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use konsent_domain::crypto::sha256_hex;
use konsent_service::apikeys;
use konsent_store::queries;

use crate::problem::ApiError;
use crate::{AppState, MAX_BODY};

/// Header name.
pub const HEADER: &str = "idempotency-key";

fn valid_key(k: &str) -> bool {
    (1..=255).contains(&k.len()) && k.bytes().all(|b| b.is_ascii_graphic())
}

/// The middleware.
pub async fn idempotency(State(s): State<AppState>, req: Request, next: Next) -> Response {
    // Checks write nothing, so they need no replay store (and batches may be large).
    let path = req.uri().path();
    if req.method() != Method::POST || !path.starts_with("/v1/") || path.starts_with("/v1/check") {
        return next.run(req).await;
    }
    let Some(raw_key) = req.headers().get(HEADER) else { return next.run(req).await };
    let Some(key) = raw_key.to_str().ok().filter(|k| valid_key(k)).map(str::to_string) else {
        return ApiError::bad_request("bad_idempotency_key", "Idempotency-Key must be 1-255 visible ASCII characters")
            .into_response();
    };
    // Authenticate here only to find the tenant; the handler authorises as usual.
    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|v| v.trim().to_string());
    let Some(caller) = (match bearer {
        Some(b) => apikeys::authenticate(&s.k, &b).await.ok().flatten(),
        None => None,
    }) else {
        return next.run(req).await;
    };
    let (parts, body) = req.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_BODY).await else {
        return ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            "der Inhalt der Anfrage ist zu groß / the request body is too large",
        )
        .into_response();
    };
    let fingerprint =
        sha256_hex(&[parts.method.as_str().as_bytes(), b" ", parts.uri.path().as_bytes(), b"\n", &bytes].concat());
    let tenant = caller.tenant_id;
    match queries::idempotency_claim(&s.k.db, tenant, &key, &fingerprint, s.k.now()).await {
        Err(e) => return ApiError::from(konsent_service::ServiceError::from(e)).into_response(),
        Ok(Some((hash, _, _))) if hash != fingerprint => {
            return ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency_key_reused",
                "this Idempotency-Key was used for a different request",
            )
            .into_response();
        }
        Ok(Some((_, 0, _))) => {
            return ApiError::new(
                StatusCode::CONFLICT,
                "request_in_progress",
                "the first request with this Idempotency-Key is still running",
            )
            .into_response();
        }
        Ok(Some((_, status, body))) => {
            let mut res = (StatusCode::from_u16(status as u16).unwrap_or(StatusCode::OK), body.unwrap_or_default())
                .into_response();
            let ctype = if status >= 400 { "application/problem+json" } else { "application/json" };
            res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(ctype));
            res.headers_mut().insert("idempotent-replayed", HeaderValue::from_static("true"));
            return res;
        }
        Ok(None) => {}
    }
    let res = next.run(Request::from_parts(parts, Body::from(bytes))).await;
    let (rparts, rbody) = res.into_parts();
    let Ok(out) = to_bytes(rbody, 16 * MAX_BODY).await else {
        let _ = queries::idempotency_finish(&s.k.db, tenant, &key, None).await;
        return ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "response could not be read")
            .into_response();
    };
    // Server errors are not remembered: the retry should run again.
    let keep = (!rparts.status.is_server_error()).then(|| (i64::from(rparts.status.as_u16()), out.to_vec()));
    if let Err(e) = queries::idempotency_finish(&s.k.db, tenant, &key, keep).await {
        tracing::error!(error = %e, "storing an idempotent response failed");
    }
    Response::from_parts(rparts, Body::from(out))
}
