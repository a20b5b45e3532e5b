//! The `/v1` API: every route authenticates by API key, checks the role matrix and works only
//! inside the key's tenant (a foreign id answers exactly like one that does not exist).

mod batch;
mod catalog;
mod check;
mod consents;
mod lists;
mod persons;
mod suppressions;

use axum::Router;
use axum::routing::{get, post};
use konsent_domain::contact::{ContactValue, EmailAddress, PhoneE164, PostalAddress};
use konsent_service::FieldError;
use serde::Deserialize;

use crate::AppState;
use crate::problem::ApiError;

/// All `/v1` routes.
pub fn routes() -> Router<AppState> {
    // Streamed batches may be large; every other body is limited.
    let batch = Router::new().route("/v1/check/batch", post(batch::check_batch));
    Router::new()
        .route("/v1/check", post(check::check))
        .route("/v1/uses", post(check::record_use))
        .route("/v1/advertisers", get(catalog::list_advertisers).post(catalog::create_advertiser))
        .route("/v1/categories", get(catalog::list_categories).post(catalog::define_category))
        .route("/v1/texts", get(catalog::list_texts).post(catalog::publish_text))
        .route("/v1/persons", get(lists::list_persons).post(persons::create_person))
        .route("/v1/persons/{id}", get(persons::get_person).patch(persons::correct_person))
        .route("/v1/persons/{id}/timeline", get(persons::timeline))
        .route("/v1/persons/{id}/objection", post(persons::object))
        .route("/v1/consents", get(lists::list_consents).post(consents::record_consent))
        .route("/v1/consents/{id}", get(consents::get_consent))
        .route("/v1/consents/{id}/withdraw", post(consents::withdraw))
        .route("/v1/suppressions", post(suppressions::add))
        .route("/v1/suppressions/lookup", post(suppressions::lookup))
        .route("/v1/api-keys", post(suppressions::create_api_key))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(crate::MAX_BODY))
        .merge(batch)
}

/// A contact point as clients send it: exactly one of `email`, `phone`, `postal`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactInput {
    /// E-mail address.
    pub email: Option<String>,
    /// Phone number (German default region).
    pub phone: Option<String>,
    /// Postal address.
    pub postal: Option<PostalAddress>,
}

impl ContactInput {
    /// Parses into a contact value; errors name `field`.
    pub fn parse(&self, field: &str) -> Result<ContactValue, FieldError> {
        let err = |m: String| FieldError { field: field.to_string(), message: m };
        match (&self.email, &self.phone, &self.postal) {
            (Some(e), None, None) => EmailAddress::parse(e).map(ContactValue::Email).map_err(|e| err(e.to_string())),
            (None, Some(p), None) => PhoneE164::parse(p).map(ContactValue::Phone).map_err(|e| err(e.to_string())),
            (None, None, Some(a)) => a.clone().validated().map(ContactValue::Postal).map_err(|e| err(e.to_string())),
            _ => Err(err("give exactly one of email, phone, postal".into())),
        }
    }
}

/// Parses an id from a path segment; a malformed id is simply not found.
pub fn path_id<T: std::str::FromStr>(raw: &str, what: &str) -> Result<T, ApiError> {
    raw.parse().map_err(|_| ApiError::not_found(what))
}
