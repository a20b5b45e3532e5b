//! Konsent HTTP interface: `/healthz`, `/readyz`, `/metrics`, `/openapi.json` and the `/v1` API.
//! Errors become problem+json in one place (`problem`); every request gets an id; logs carry no
//! personal data.
#![forbid(unsafe_code)]

mod api;
mod auth;
mod hooks;
mod idempotency;
mod json;
mod limits;
mod metrics;
mod openapi;
mod pages;
mod phones;
mod problem;
mod query;

use std::future::Future;
use std::time::{Duration, Instant};

use std::sync::Arc;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use konsent_service::Konsent;
use serde_json::json;
use tokio::net::TcpListener;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

pub use api::ROUTES as V1_ROUTES;
pub use api::UNLIMITED as RAW_BODY_ROUTES;
pub use auth::{Permission, allowed};
pub use metrics::Metrics;
pub use openapi::{ApiDoc, openapi_json};
pub use problem::ApiError;

/// Largest accepted request body.
pub const MAX_BODY: usize = 1024 * 1024;

/// What every handler shares.
#[derive(Debug)]
pub struct AppInner {
    /// Services.
    pub k: Konsent,
    /// Metrics registry.
    pub metrics: Metrics,
    /// Rate limits of the public pages.
    pub limits: limits::RateLimiter,
}

/// Shared state of every handler: one pointer to clone per request.
#[derive(Clone, Debug)]
pub struct AppState(Arc<AppInner>);

impl std::ops::Deref for AppState {
    type Target = AppInner;
    fn deref(&self) -> &AppInner {
        &self.0
    }
}

/// The application router.
pub fn router(k: Konsent) -> Router {
    let state = AppState(Arc::new(AppInner { k, metrics: Metrics::default(), limits: Default::default() }));
    let request_id = axum::http::HeaderName::from_static("x-request-id");
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics_text))
        .route("/openapi.json", get(openapi::serve_document))
        .route("/doi/{token}", get(pages::doi_page).post(pages::doi_confirm))
        .route("/f/{slug}", get(pages::form::form_page).post(pages::form::form_submit))
        .route("/f/{slug}/code/{reference}", post(pages::form::number_step))
        .route("/p/{token}", get(pages::prefs::prefs_page).post(pages::prefs::prefs_post))
        .route("/u/{token}", get(pages::prefs::unsubscribe_page).post(pages::prefs::unsubscribe_post))
        .route(
            "/hooks/in/{provider}/{token}",
            get(hooks::check).post(hooks::receive).layer(tower_http::limit::RequestBodyLimitLayer::new(MAX_BODY)),
        )
        .merge(api::routes())
        .fallback(|| async { ApiError::not_found("route") })
        // After every route: a path that exists answered with a method it does not take is a
        // problem too (axum keeps its `Allow` header).
        .method_not_allowed_fallback(|method: axum::http::Method| async move { ApiError::method_not_allowed(&method) })
        .layer(middleware::from_fn_with_state(state.clone(), idempotency::idempotency))
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        .with_state(state)
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, Duration::from_secs(30)))
        // Spans carry method, route and request id only: no query strings, no bodies, no personal data.
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
            let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
            let route = req.extensions().get::<MatchedPath>().map(|m| m.as_str().to_string()).unwrap_or_default();
            tracing::info_span!("http", method = %req.method(), route = %route, request_id = %id)
        }))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
}

/// Counts and times every request by its route template (never the concrete path: ids stay out).
async fn observe(State(s): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().to_string();
    let route =
        req.extensions().get::<MatchedPath>().map(|m| m.as_str().to_string()).unwrap_or_else(|| "unmatched".into());
    let res = next.run(req).await;
    s.metrics.observe(&method, &route, res.status().as_u16(), started.elapsed());
    res
}

/// Lebenszeichen / liveness: the process answers.
#[utoipa::path(get, path = "/healthz", tag = "ops",
    responses((status = 200, description = "Der Prozess antwortet / the process answers: `ok`", body = String, content_type = "text/plain")))]
async fn healthz() -> Response {
    ([(header::CACHE_CONTROL, "no-store")], "ok").into_response()
}

/// Bereitschaft / readiness: the database answers.
#[utoipa::path(get, path = "/readyz", tag = "ops", responses(
    (status = 200, description = "Bereit / ready", body = Object, example = json!({"status": "ready", "database": "ok"})),
    (status = 503, description = "Nicht bereit / the database does not answer", body = Object,
        example = json!({"status": "unavailable", "database": "unreachable"})),
))]
async fn readyz(State(s): State<AppState>) -> Response {
    match konsent_store::queries::ping(&s.k.db).await {
        Ok(()) => Json(json!({"status": "ready", "database": "ok"})).into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, Json(json!({"status": "unavailable", "database": "unreachable"})))
                .into_response()
        }
    }
}

/// Metriken / Prometheus text.
#[utoipa::path(get, path = "/metrics", tag = "ops", responses(
    (status = 200, description = "Metriken / request counts and durations by route, gate decisions (Prometheus text format 0.0.4)",
        body = String, content_type = "text/plain; version=0.0.4"),
))]
async fn metrics_text(State(s): State<AppState>) -> Response {
    // Outbox depth: mail waiting to go out (a growing number means the SMTP server is unreachable).
    let extra = match konsent_store::queries::outbox_counts(&s.k.db).await {
        Ok((pending, sent)) => format!(
            "# HELP konsent_outbox_messages Messages in the outbox by status.\n\
             # TYPE konsent_outbox_messages gauge\n\
             konsent_outbox_messages{{status=\"pending\"}} {pending}\n\
             konsent_outbox_messages{{status=\"sent\"}} {sent}\n"
        ),
        Err(e) => {
            tracing::warn!(error = %e, "cannot count the outbox");
            String::new()
        }
    };
    // Webhook deliveries waiting or given up (parked ones need an administrator's replay).
    let extra = match konsent_store::queries::webhook_counts(&s.k.db).await {
        Ok((pending, parked)) => format!(
            "{extra}# HELP konsent_webhook_deliveries Webhook deliveries by status.\n\
             # TYPE konsent_webhook_deliveries gauge\n\
             konsent_webhook_deliveries{{status=\"pending\"}} {pending}\n\
             konsent_webhook_deliveries{{status=\"parked\"}} {parked}\n"
        ),
        Err(e) => {
            tracing::warn!(error = %e, "cannot count the webhook deliveries");
            extra
        }
    };
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], s.metrics.render(&extra)).into_response()
}

/// Serves until `shutdown` resolves, then finishes in-flight requests.
pub async fn serve(
    k: Konsent,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(k).into_make_service_with_connect_info::<std::net::SocketAddr>())
        .with_graceful_shutdown(shutdown)
        .await
}
