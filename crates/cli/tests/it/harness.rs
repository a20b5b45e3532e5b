//! `TestApp`: a Konsent service context on a fresh SQLite or PostgreSQL database, with a manual
//! clock and seeded entropy so tests can jump years ahead.

use std::sync::Arc;

use jiff::Timestamp;
use konsent_domain::ids::TenantId;
use konsent_domain::time::{ManualClock, SeededEntropy};
use konsent_service::Konsent;
use konsent_service::init::init;
use konsent_testkit::PgDatabase;

pub struct TestApp {
    pub k: Konsent,
    pub tenant: TenantId,
    pub api_key: String,
    pub clock: Arc<ManualClock>,
    pub router: axum::Router,
    pub db_url: Option<String>,
    _dir: tempfile::TempDir,
    _pg: Option<PgDatabase>,
}

pub fn t0() -> Timestamp {
    "2026-03-02T09:30:00Z".parse().unwrap()
}

impl TestApp {
    pub async fn sqlite() -> Self {
        Self::start(None).await
    }

    pub async fn postgres() -> Self {
        Self::start(Some(PgDatabase::create().await)).await
    }

    async fn start(pg: Option<PgDatabase>) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(ManualClock::new(t0()));
        let url = pg.as_ref().map(|p| p.url.clone());
        let (k, report) = init(
            &dir.path().join("data"),
            url.as_deref(),
            "Testmakler GmbH",
            clock.clone(),
            Arc::new(SeededEntropy::new(9)),
        )
        .await
        .unwrap();
        let router = konsent_web::router(k.clone());
        Self { k, tenant: report.tenant_id, api_key: report.api_key, clock, router, db_url: url, _dir: dir, _pg: pg }
    }

    /// The data directory (on SQLite it holds `konsent.db`).
    pub fn data_dir(&self) -> std::path::PathBuf {
        self._dir.path().join("data")
    }

    /// Lets webhooks go to this machine (test receivers listen on 127.0.0.1), as
    /// `[webhooks] allow_private = true` does.
    pub fn allow_private_webhooks(&mut self) {
        self.k.webhooks.allow_private = true;
        self.router = konsent_web::router(self.k.clone());
    }

    /// Every ledger payload of the tenant as text, and the records of batch entries (to check what
    /// the ledger holds).
    pub async fn ledger_text(&self) -> String {
        let mut lines = Vec::new();
        konsent_store::ledger::for_each_row(&self.k.db, self.tenant, 1, u64::MAX, |_, payload, _, _, records| {
            lines.push(String::from_utf8(payload.to_vec()).unwrap());
            // A batch entry's records follow it, each on a line of its own, exactly as stored.
            for r in records.map(|r| konsent_domain::ledger::split(r).unwrap()).unwrap_or_default() {
                lines.push(String::from_utf8(r.to_vec()).unwrap());
            }
            Ok::<(), ()>(())
        })
        .await
        .unwrap()
        .unwrap();
        lines.join("\n")
    }
}

/// Declares one async test per engine with a fresh `TestApp`.
#[macro_export]
macro_rules! app_test {
    ($name:ident, |$app:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            async fn run($app: $crate::harness::TestApp) $body

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                run($crate::harness::TestApp::sqlite().await).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                run($crate::harness::TestApp::postgres().await).await;
            }
        }
    };
}

impl TestApp {
    /// Calls the HTTP API in-process; returns status, content type and JSON (or text as a string).
    pub async fn call(&self, method: &str, path: &str, key: Option<&str>, body: Option<serde_json::Value>) -> Response {
        let raw = body.map(|b| b.to_string().into_bytes());
        self.call_raw(method, path, key, raw, "application/json").await
    }

    /// Like `call` with a raw body and content type.
    pub async fn call_raw(
        &self,
        method: &str,
        path: &str,
        key: Option<&str>,
        body: Option<Vec<u8>>,
        ctype: &str,
    ) -> Response {
        self.call_with(method, path, key, body, ctype, &[]).await
    }

    /// Like `call_raw` with extra headers.
    pub async fn call_with(
        &self,
        method: &str,
        path: &str,
        key: Option<&str>,
        body: Option<Vec<u8>>,
        ctype: &str,
        headers: &[(&str, &str)],
    ) -> Response {
        use tower::ServiceExt;
        let mut req = axum::http::Request::builder().method(method).uri(path);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(k) = key {
            req = req.header("authorization", format!("Bearer {k}"));
        }
        if body.is_some() {
            req = req.header("content-type", ctype);
        }
        let req = req.body(axum::body::Body::from(body.unwrap_or_default())).unwrap();
        let res = self.router.clone().oneshot(req).await.unwrap();
        let status = res.status().as_u16();
        let replayed = res.headers().contains_key("idempotent-replayed");
        let headers = res.headers().clone();
        let ctype = res.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
        let bytes = axum::body::to_bytes(res.into_body(), 10 << 20).await.unwrap();
        let json = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| serde_json::Value::String(String::from_utf8_lossy(&bytes).into()));
        Response { status, ctype, json, replayed, headers }
    }
}

/// An HTTP answer.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub ctype: String,
    pub json: serde_json::Value,
    pub replayed: bool,
    pub headers: axum::http::HeaderMap,
}

impl Response {
    /// The body as text (a body that is not JSON is kept as a string in `json`).
    pub fn text(&self) -> String {
        match &self.json {
            serde_json::Value::String(s) => s.clone(),
            v => v.to_string(),
        }
    }
}
