//! The OpenAPI document: a reviewed snapshot (an API change shows up in the diff of
//! `snapshots/it__openapi__document.snap`), every served route documented, and served without
//! authentication at `GET /openapi.json`.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::harness::TestApp;

const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

/// Every `(method, path)` operation the document describes.
fn operations(doc: &Value) -> BTreeSet<(String, String)> {
    let mut ops = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in METHODS.into_iter().filter(|m| item.get(*m).is_some()) {
            ops.insert((method.to_string(), path.clone()));
        }
    }
    ops
}

#[test]
fn document() {
    insta::assert_json_snapshot!(konsent_web::openapi_json());
}

#[test]
fn documents_exactly_the_served_routes() {
    let doc = konsent_web::openapi_json();
    let documented = operations(&doc);
    let served: BTreeSet<(String, String)> =
        konsent_web::V1_ROUTES.iter().map(|(m, p)| (m.to_string(), p.to_string())).collect();
    let undocumented: Vec<_> = served.difference(&documented).collect();
    assert!(undocumented.is_empty(), "served but not in the OpenAPI document: {undocumented:?}");
    let documented_v1: BTreeSet<_> = documented.iter().filter(|(_, p)| p.starts_with("/v1/")).cloned().collect();
    let stale: Vec<_> = documented_v1.difference(&served).collect();
    assert!(stale.is_empty(), "documented but not served: {stale:?}");
    for path in ["/healthz", "/readyz", "/metrics", "/openapi.json"] {
        assert!(documented.contains(&("get".to_string(), path.to_string())), "{path} is not documented");
    }
    // Every /v1 operation needs the API key, says so, and documents its problem+json answers.
    for (method, path) in &served {
        let op = &doc["paths"][path][method];
        assert_eq!(op["security"], serde_json::json!([{"bearer": []}]), "{method} {path}");
        for status in ["401", "403"] {
            assert!(op["responses"][status].is_object(), "{method} {path} does not document {status}");
        }
        if op.get("requestBody").is_some() {
            for status in ["400", "413", "415", "422"] {
                assert!(op["responses"][status].is_object(), "{method} {path} does not document {status}");
            }
        }
        if path.contains("{id}") {
            assert!(op["responses"]["404"].is_object(), "{method} {path} does not document 404");
        }
    }
}

#[tokio::test]
async fn is_served_without_authentication() {
    let app = TestApp::sqlite().await;
    let r = app.call("GET", "/openapi.json", None, None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.ctype, "application/json");
    assert_eq!(r.json, konsent_web::openapi_json());
    assert_eq!(r.json["info"]["title"], "Konsent API");
}
