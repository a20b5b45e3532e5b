//! Errors become `application/problem+json` (RFC 9457) responses here and only here, each with a
//! stable `code`; validation problems list every failing field.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use konsent_service::{FieldError, ServiceError};
use serde::Serialize;
use utoipa::{ToResponse, ToSchema};

/// An API error.
#[derive(Debug)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable machine-readable code, e.g. `validation_failed`.
    pub code: &'static str,
    /// Human-readable explanation (no personal data).
    pub detail: String,
    /// Failing fields.
    pub errors: Vec<FieldError>,
}

/// Fehlerantwort / the body of every error response (`application/problem+json`, RFC 9457).
#[derive(Serialize, ToSchema)]
#[schema(as = Problem)]
pub(crate) struct Problem<'a> {
    /// URI naming the problem type: `https://konsent.example/problems/{code}`.
    #[serde(rename = "type")]
    #[schema(example = "https://konsent.example/problems/validation_failed")]
    kind: String,
    /// HTTP reason phrase.
    #[schema(example = "Unprocessable Entity")]
    title: &'a str,
    /// HTTP status code.
    #[schema(example = 422)]
    status: u16,
    /// Stable machine-readable code, e.g. `validation_failed`, `not_found`, `conflict`.
    #[schema(example = "validation_failed")]
    code: &'a str,
    /// Human-readable explanation (no personal data).
    #[schema(example = "first_name: is required")]
    detail: &'a str,
    /// Every failing field (validation problems only).
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    #[schema(value_type = Vec<FieldErrorDoc>, required = false)]
    errors: &'a [FieldError],
}

/// Ein ungültiges Feld / one invalid field of a request.
#[derive(ToSchema)]
#[schema(as = FieldError)]
#[expect(dead_code, reason = "describes konsent_service::FieldError in the OpenAPI document")]
pub(crate) struct FieldErrorDoc {
    /// Field path, e.g. `contacts[0]` or `scope.advertisers`.
    #[schema(example = "first_name")]
    field: String,
    /// What is wrong.
    #[schema(example = "is required")]
    message: String,
}

impl ApiError {
    /// A new error.
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        Self { status, code, detail: detail.into(), errors: vec![] }
    }
    /// 400 for malformed requests.
    pub fn bad_request(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, detail)
    }
    /// 422 with failing fields.
    pub fn invalid(errors: Vec<FieldError>) -> Self {
        let detail = errors.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; ");
        Self { status: StatusCode::UNPROCESSABLE_ENTITY, code: "validation_failed", detail, errors }
    }
    /// 422 for a JSON body of the wrong shape (`invalid_body`: a missing, unknown or mistyped
    /// field), with the field named as in [`ApiError::invalid`].
    pub fn invalid_body(error: FieldError) -> Self {
        Self { code: "invalid_body", ..Self::invalid(vec![error]) }
    }
    /// 404: also for ids of other tenants, so they are indistinguishable.
    pub fn not_found(what: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", format!("nicht gefunden / not found: {what}"))
    }
    /// 405: the path exists, the method does not (the router adds the `Allow` header).
    pub fn method_not_allowed(method: &axum::http::Method) -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            format!(
                "Methode {method} ist hier nicht erlaubt, der Allow-Header nennt die erlaubten / \
                 method {method} is not allowed here, the Allow header lists those that are"
            ),
        )
    }
    /// 401.
    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "API-Schlüssel fehlt oder ist ungültig / missing or invalid API key (Authorization: Bearer knst_…)",
        )
    }
    /// 403, naming what the key's role may not do, German first: `(de, en)`.
    pub fn forbidden((de, en): (&str, &str)) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!("die Rolle dieses Schlüssels darf das nicht: {de} / this key's role may not {en}"),
        )
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::Invalid(errors) => ApiError::invalid(errors),
            ServiceError::NotFound(what) => ApiError::not_found(&what),
            ServiceError::Conflict(detail) => ApiError::new(StatusCode::CONFLICT, "conflict", detail),
            e @ ServiceError::Ended(_) => ApiError::new(StatusCode::CONFLICT, "consent_ended", e.to_string()),
            other => {
                // Internal details go to the log (ids only), not to the client.
                tracing::error!(error = %other, "internal error");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "interner Fehler, Einzelheiten im Server-Log / internal error; see the server log",
                )
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let title = self.status.canonical_reason().unwrap_or("Error");
        let body = Problem {
            kind: format!("https://konsent.example/problems/{}", self.code),
            title,
            status: self.status.as_u16(),
            code: self.code,
            detail: &self.detail,
            errors: &self.errors,
        };
        let mut res = (self.status, Json(body)).into_response();
        res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        res
    }
}

/// Declares the OpenAPI description of one problem+json error response (doc-only types).
macro_rules! problem_responses {
    ($($(#[$doc:meta])* $name:ident;)+) => {$(
        $(#[$doc])*
        #[derive(ToResponse)]
        #[response(content_type = "application/problem+json")]
        #[expect(dead_code, reason = "describes an error response in the OpenAPI document")]
        pub(crate) struct $name(Problem<'static>);
    )+};
}

problem_responses! {
    /// Fehlerhafte Anfrage / malformed JSON or request (`malformed_json`, `bad_request`).
    BadRequest;
    /// Nicht angemeldet / missing, unknown or revoked API key (`unauthorized`); send
    /// `Authorization: Bearer knst_…`.
    Unauthorized;
    /// Nicht erlaubt / the key's role may not do this (`forbidden`).
    Forbidden;
    /// Nicht gefunden / no such resource in the key's tenant (`not_found`); ids of other tenants
    /// answer the same.
    NotFound;
    /// Konflikt / not possible in the current state (`conflict`, `decision_not_usable`).
    Conflict;
    /// Zu groß / the request body exceeds 1 MiB (`body_too_large`).
    PayloadTooLarge;
    /// Falscher Inhaltstyp / the body is not sent as `Content-Type: application/json`
    /// (`unsupported_media_type`).
    UnsupportedMediaType;
    /// Ungültige Eingabe / a missing, unknown or mistyped field (`invalid_body`) or failed
    /// validation (`validation_failed`); `errors` lists each failing field.
    Unprocessable;
}
