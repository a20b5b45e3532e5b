//! JSON bodies: rejections (malformed JSON, wrong types, unknown fields, bad UTF-8, NUL characters,
//! wrong content type, oversized bodies) become problem+json 4xx responses, not plain-text errors.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderMap, StatusCode, header};
use serde::de::DeserializeOwned;
use serde_json::Value;
use serde_json::error::Category;

use crate::problem::ApiError;
use konsent_service::FieldError;

/// A JSON request body whose rejection is an [`ApiError`].
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json(req.headers()) {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "bitte als Content-Type: application/json senden / send the body as Content-Type: application/json",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|_| {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                "Anfrage zu groß oder unlesbar / the request body is too large or unreadable",
            )
        })?;
        if let Some(field) = nul_field(&bytes) {
            // No text field may hold U+0000 (PostgreSQL cannot store it, and no name or text needs it).
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_body",
                format!("{field}: enthält ein NUL-Zeichen / contains a NUL character (\\u0000)"),
            ));
        }
        // One parse that keeps serde's path, so a body of the wrong shape names its field.
        let mut de = serde_json::Deserializer::from_slice(&bytes);
        match serde_path_to_error::deserialize::<_, T>(&mut de) {
            Ok(v) => de.end().map(|()| ApiJson(v)).map_err(|e| malformed(&e)),
            Err(e) if e.inner().classify() == Category::Data => {
                Err(ApiError::invalid_body(shape_error(&e.path().to_string(), &e.inner().to_string())))
            }
            Err(e) => Err(malformed(e.inner())),
        }
    }
}

/// A body that is not JSON, placed by line and column, German first: `kein gültiges JSON (Zeile 1,
/// Spalte 2) / not valid JSON: key must be a string at line 1 column 2`.
fn malformed(e: &serde_json::Error) -> ApiError {
    ApiError::bad_request(
        "malformed_json",
        format!("kein gültiges JSON (Zeile {}, Spalte {}) / not valid JSON: {e}", e.line(), e.column()),
    )
}

/// A body that is JSON but not of the expected shape, as the field that was wrong and a message,
/// German first. `path` is serde's (`.` for the body itself, `contacts[0].phone`); a missing
/// field is named by its own path. Messages of Konsent's own types are German first already.
fn shape_error(path: &str, english: &str) -> FieldError {
    let english = without_type_names(english);
    let english = match english.find(" at line ") {
        Some(at) => english[..at].to_string(),
        None => english,
    };
    let backticked = |m: &str| m.split('`').nth(1).map(str::to_string);
    let mut field = if path == "." { String::new() } else { path.to_string() };
    if english.starts_with("missing field")
        && let Some(name) = backticked(&english)
    {
        field = if field.is_empty() { name } else { format!("{field}.{name}") };
    }
    const GERMAN: [(&str, &str); 7] = [
        ("missing field", "Pflichtfeld fehlt"),
        ("unknown field", "unbekanntes Feld"),
        ("unknown variant", "unbekannter Wert"),
        ("invalid type", "falscher Typ"),
        ("invalid value", "ungültiger Wert"),
        ("invalid length", "falsche Anzahl von Einträgen"),
        ("duplicate field", "Feld doppelt angegeben"),
    ];
    let message = if english.contains(" / ") {
        english
    } else {
        let de = GERMAN
            .iter()
            .find(|(en, _)| english.starts_with(en))
            .map_or("passt nicht zum erwarteten Aufbau", |(_, de)| de);
        format!("{de} / {english}")
    };
    FieldError { field: if field.is_empty() { "body".into() } else { field }, message }
}

/// serde names a nested object by its Rust type (`expected struct PrivacyNoticeRef`), which tells
/// a caller nothing; the message says an object is expected and where its fields are described.
fn without_type_names(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("expected struct ") {
        out.push_str(&rest[..at]);
        out.push_str("expected a JSON object (its fields: /openapi.json)");
        let after = &rest[at + "expected struct ".len()..];
        rest = &after[after.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(after.len())..];
    }
    out.push_str(rest);
    out
}

/// `application/json` or any `+json` type.
fn is_json(headers: &HeaderMap) -> bool {
    let Some(ct) = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let essence = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// The path of the first string (or key) holding U+0000, if any. Cheap when there is none: the
/// body is parsed a second time only when it contains the escape at all.
fn nul_field(bytes: &[u8]) -> Option<String> {
    if !bytes.windows(6).any(|w| w.eq_ignore_ascii_case(b"\\u0000")) {
        return None;
    }
    fn walk(v: &Value, path: &str) -> Option<String> {
        match v {
            Value::String(s) if s.contains('\0') => Some(path.to_string()),
            Value::Array(a) => a.iter().enumerate().find_map(|(i, x)| walk(x, &format!("{path}[{i}]"))),
            Value::Object(m) => m.iter().find_map(|(k, x)| {
                let p = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
                if k.contains('\0') { Some(p) } else { walk(x, &p) }
            }),
            _ => None,
        }
    }
    let v: Value = serde_json::from_slice(bytes).ok()?;
    walk(&v, "").map(|p| if p.is_empty() { "body".into() } else { p })
}

#[cfg(test)]
mod tests {
    use super::{malformed, nul_field, shape_error, without_type_names};

    #[test]
    fn a_nested_object_is_named_as_an_object_not_as_a_rust_type() {
        assert_eq!(
            without_type_names(
                "privacy_notice: invalid type: string \"x\", expected struct PrivacyNoticeRef at line 1 column 9"
            ),
            "privacy_notice: invalid type: string \"x\", expected a JSON object (its fields: /openapi.json) at line 1 column 9"
        );
        assert_eq!(without_type_names("key: missing field `key`"), "key: missing field `key`");
    }

    #[test]
    fn a_body_of_the_wrong_shape_names_the_field_german_first() {
        let e = shape_error(".", "missing field `last_name` at line 1 column 20");
        assert_eq!(
            (e.field.as_str(), e.message.as_str()),
            ("last_name", "Pflichtfeld fehlt / missing field `last_name`")
        );
        let e = shape_error("address", "missing field `city`");
        assert_eq!(e.field, "address.city");
        let e = shape_error("shoe_size", "unknown field `shoe_size`, expected one of `first_name`, `last_name`");
        assert_eq!(e.field, "shoe_size");
        assert!(e.message.starts_with("unbekanntes Feld / unknown field `shoe_size`"), "{}", e.message);
        let e = shape_error("privacy_notice", "invalid type: string \"x\", expected struct PrivacyNoticeRef");
        assert!(e.message.starts_with("falscher Typ / invalid type"), "{}", e.message);
        assert!(e.message.contains("expected a JSON object") && !e.message.contains("struct"), "{}", e.message);
        let own = "unbekannter Kanal / unknown channel 'phone' (expected one of …)";
        assert_eq!(shape_error("channel", own).message, own, "Konsent's own messages stay as they are");
        assert_eq!(shape_error(".", "expected value").field, "body");
    }

    #[test]
    fn a_body_that_is_not_json_is_placed_by_line_and_column_german_first() {
        let detail = |bytes: &[u8]| {
            let e = serde_json::from_slice::<serde::de::IgnoredAny>(bytes).expect_err("not JSON");
            malformed(&e).detail
        };
        assert_eq!(
            detail(b"{\n  \"a\": tru }"),
            "kein gültiges JSON (Zeile 2, Spalte 11) / not valid JSON: expected ident at line 2 column 11"
        );
        assert!(detail(b"").starts_with("kein gültiges JSON (Zeile 1, Spalte 0)"));
    }

    #[test]
    fn finds_the_field_with_a_nul() {
        assert_eq!(nul_field(br#"{"a": {"b": ["x", "y\u0000"]}}"#).as_deref(), Some("a.b[1]"));
        assert_eq!(nul_field(br#"{"a": "\\u0000"}"#), None, "an escaped backslash followed by u0000 is text");
        assert_eq!(nul_field(br#"{"a": "ok"}"#), None);
    }
}
