//! Delivers outgoing webhooks: POSTs each due delivery's JSON with the Standard Webhooks headers
//! (`webhook-id`, `webhook-timestamp`, `webhook-signature`), 2xx counts as delivered, anything
//! else is retried with backoff and parked after the configured attempts. Every address a
//! receiver's name resolves to is checked again here (SSRF guard), and the connection goes to
//! exactly the checked address.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::connect::dns::Name;
use hyper_util::rt::TokioExecutor;
use konsent_domain::webhook::{HookPolicy, HookUrl, sign};
use konsent_service::Konsent;
use konsent_service::webhooks::Outcome;

/// Marker of a refused address in resolver errors.
const REFUSED: &str = "refused_address";

/// Resolves receiver names and refuses any answer that is not a public address (unless allowed).
#[derive(Clone, Debug)]
pub struct GuardedResolver {
    policy: HookPolicy,
}

impl tower::Service<Name> for GuardedResolver {
    type Response = std::vec::IntoIter<SocketAddr>;
    type Error = std::io::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, name: Name) -> Self::Future {
        let policy = self.policy.clone();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((name.as_str(), 0)).await?.collect();
            for a in &addrs {
                if let Err(why) = policy.check_ip(a.ip()) {
                    return Err(std::io::Error::new(std::io::ErrorKind::PermissionDenied, format!("{REFUSED}: {why}")));
                }
            }
            Ok(addrs.into_iter())
        })
    }
}

/// The HTTP(S) client of webhook deliveries.
#[derive(Clone)]
pub struct Deliverer {
    client: Client<HttpsConnector<HttpConnector<GuardedResolver>>, Full<Bytes>>,
    policy: HookPolicy,
}

impl std::fmt::Debug for Deliverer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deliverer").field("policy", &self.policy).finish()
    }
}

impl Deliverer {
    /// A client that follows `policy` (addresses, timeout).
    pub fn new(policy: HookPolicy) -> Self {
        let mut http = HttpConnector::new_with_resolver(GuardedResolver { policy: policy.clone() });
        http.enforce_http(false);
        http.set_connect_timeout(Some(Duration::from_secs(policy.timeout_seconds.max(1))));
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_webpki_roots()
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        Self { client: Client::builder(TokioExecutor::new()).build(https), policy }
    }

    /// POSTs one signed body; the answer's body is read and dropped (never stored or logged).
    pub async fn post(&self, url: &str, key: &[u8], id: &str, timestamp: i64, body: Vec<u8>) -> Outcome {
        // IP literals never reach the resolver: check them (and the scheme) here.
        match HookUrl::parse(url) {
            Ok(u) => {
                if let Err(why) = self.policy.check_url(&u) {
                    return Outcome::Error(format!("{REFUSED}: {why}"));
                }
            }
            Err(_) => return Outcome::Error("bad_url".into()),
        }
        let uri: hyper::Uri = match url.parse() {
            Ok(u) => u,
            Err(_) => return Outcome::Error("bad_url".into()),
        };
        let signature = sign(key, id, timestamp, &body);
        let req = hyper::Request::post(uri)
            .header("content-type", "application/json")
            .header("user-agent", concat!("Konsent-Webhooks/", env!("CARGO_PKG_VERSION")))
            .header("webhook-id", id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(Full::new(Bytes::from(body)));
        let req = match req {
            Ok(r) => r,
            Err(_) => return Outcome::Error("bad_request".into()),
        };
        let timeout = Duration::from_secs(self.policy.timeout_seconds.max(1));
        match tokio::time::timeout(timeout, self.client.request(req)).await {
            Err(_) => Outcome::Error("timeout".into()),
            Ok(Err(e)) => Outcome::Error(error_kind(&e)),
            Ok(Ok(res)) => {
                let status = res.status();
                let _ = tokio::time::timeout(timeout, res.into_body().collect()).await;
                if status.is_success() { Outcome::Delivered(status.as_u16()) } else { Outcome::Status(status.as_u16()) }
            }
        }
    }
}

/// A short, data-free name for why a request got no answer.
fn error_kind(e: &hyper_util::client::legacy::Error) -> String {
    let mut text = String::new();
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        text.push_str(&err.to_string());
        text.push(' ');
        cur = err.source();
    }
    if text.contains(REFUSED) {
        REFUSED.into()
    } else if text.contains("certificate") || text.contains("tls") || text.contains("TLS") {
        "tls".into()
    } else if e.is_connect() {
        "connect".into()
    } else {
        "io".into()
    }
}

/// Delivers what is due, up to 100 deliveries; returns how many were delivered.
pub async fn deliver_due(k: &Konsent, d: &Deliverer) -> usize {
    let claimed = match k.claim_webhooks(100).await {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the webhook deliveries");
            return 0;
        }
    };
    let mut delivered = 0;
    for c in claimed {
        let outcome = match &c.target {
            Ok((url, key)) => d.post(url, key, &c.row.id, k.now().as_second(), c.row.payload.clone()).await,
            Err(e) => Outcome::Error(e.clone()),
        };
        if matches!(outcome, Outcome::Delivered(_)) {
            delivered += 1;
        } else {
            tracing::info!(delivery = %c.row.id, attempt = c.row.attempts, ?outcome, "webhook not delivered; will retry");
        }
        if let Err(e) = k.webhook_attempted(&c.row, &outcome).await {
            tracing::warn!(delivery = %c.row.id, error = %e, "cannot record the webhook attempt");
        }
    }
    delivered
}
