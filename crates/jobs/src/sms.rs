//! Sends text messages (verification codes) through a generic HTTP SMS gateway: a POST to a
//! configured URL with an `Authorization` header and a body template (`{to}`, `{text}`, `{id}`,
//! JSON-escaped), any 2xx is success; or, with no gateway configured, into `DATA_DIR/outbox/`.

use std::path::PathBuf;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use konsent_domain::mail::OutgoingSms;

/// An HTTP SMS gateway.
#[derive(Clone)]
pub struct Gateway {
    /// Gateway URL.
    url: hyper::Uri,
    /// `Authorization` header value, if any.
    authorization: Option<String>,
    /// Body template.
    template: String,
    /// HTTP(S) client.
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
}

/// The default body: `{"to": …, "text": …, "reference": …}`.
pub const DEFAULT_TEMPLATE: &str = r#"{"to":"{to}","text":"{text}","reference":"{id}"}"#;

/// Where text messages go.
#[derive(Clone)]
pub enum SmsSender {
    /// An HTTP gateway.
    Http(Box<Gateway>),
    /// Files in a directory.
    Dir(PathBuf),
}

impl std::fmt::Debug for SmsSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SmsSender::Http(g) => write!(f, "SmsSender::Http({})", g.url),
            SmsSender::Dir(d) => write!(f, "SmsSender::Dir({})", d.display()),
        }
    }
}

fn json_escaped(s: &str) -> String {
    let q = serde_json::to_string(s).unwrap_or_default();
    q[1..q.len().saturating_sub(1)].to_string()
}

impl SmsSender {
    /// A gateway at `url` (empty: files in `dir`).
    pub fn new(url: &str, authorization: &str, template: &str, dir: PathBuf) -> Result<Self, String> {
        if url.trim().is_empty() {
            return Ok(SmsSender::Dir(dir));
        }
        let url: hyper::Uri = url.parse().map_err(|e| format!("bad SMS gateway URL: {e}"))?;
        let https =
            hyper_rustls::HttpsConnectorBuilder::new().with_webpki_roots().https_or_http().enable_http1().build();
        Ok(SmsSender::Http(Box::new(Gateway {
            url,
            authorization: (!authorization.is_empty()).then(|| authorization.to_string()),
            template: if template.is_empty() { DEFAULT_TEMPLATE.to_string() } else { template.to_string() },
            client: Client::builder(TokioExecutor::new()).build(https),
        })))
    }

    /// Sends one message.
    pub async fn send(&self, m: &OutgoingSms) -> Result<(), String> {
        match self {
            SmsSender::Http(g) => {
                let Gateway { url, authorization, template, client } = &**g;
                let body = template
                    .replace("{to}", &json_escaped(&m.to))
                    .replace("{text}", &json_escaped(&m.text))
                    .replace("{id}", &json_escaped(&m.message_id));
                let mut req = hyper::Request::post(url.clone()).header("content-type", "application/json");
                if let Some(a) = authorization {
                    req = req.header("authorization", a);
                }
                let req = req.body(Full::new(Bytes::from(body))).map_err(|e| format!("SMS request: {e}"))?;
                let res = client.request(req).await.map_err(|e| format!("SMS gateway: {e}"))?;
                let status = res.status();
                let _ = res.into_body().collect().await;
                if status.is_success() { Ok(()) } else { Err(format!("SMS gateway answered {status}")) }
            }
            SmsSender::Dir(dir) => {
                let name: String = m.message_id.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-').collect();
                tokio::fs::create_dir_all(dir).await.map_err(|e| format!("{}: {e}", dir.display()))?;
                let path = dir.join(format!("{name}.sms.txt"));
                tokio::fs::write(&path, format!("To: {}\n\n{}\n", m.to, m.text))
                    .await
                    .map_err(|e| format!("{}: {e}", path.display()))
            }
        }
    }
}
