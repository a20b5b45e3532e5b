//! The `/v1` API: every route authenticates by API key, checks the role matrix and works only
//! inside the key's tenant (a foreign id answers exactly like one that does not exist).

pub(crate) mod batch;
pub(crate) mod calls;
pub(crate) mod catalog;
pub(crate) mod check;
pub(crate) mod consents;
pub(crate) mod erasure;
pub(crate) mod evidence;
pub(crate) mod forms;
pub(crate) mod imports;
pub(crate) mod lists;
pub(crate) mod persons;
pub(crate) mod schema;
pub(crate) mod segments;
pub(crate) mod suppressions;
pub(crate) mod texts;
pub(crate) mod webhooks;

use axum::Router;
use axum::routing::MethodRouter;
use konsent_domain::contact::{ContactValue, EmailAddress, PostalAddress};
use konsent_domain::ids::AdvertiserId;
use konsent_service::FieldError;
use serde::Deserialize;
use utoipa::ToSchema;

use self::schema::PostalAddressDoc;
use crate::AppState;
use crate::problem::ApiError;

/// Declares the `/v1` routes once: `routes()` registers them and `ROUTES` lists them, so a test
/// can hold the OpenAPI document against exactly what is served.
macro_rules! v1_routes {
    ($($path:literal => $($method:ident $handler:path),+;)+) => {
        /// Every `/v1` route as `(method, path template)`, exactly as `routes()` registers them.
        pub const ROUTES: &[(&str, &str)] = &[$($((stringify!($method), $path)),+),+];

        /// All `/v1` routes. Bodies are limited to `MAX_BODY`, except streamed batches.
        pub fn routes() -> Router<AppState> {
            let mut limited = Router::new();
            let mut unlimited = Router::new();
            $(
                let route = MethodRouter::new()$(.$method($handler))+;
                if UNLIMITED.contains(&$path) {
                    unlimited = unlimited.route($path, route);
                } else {
                    limited = limited.route($path, route);
                }
            )+
            limited.layer(tower_http::limit::RequestBodyLimitLayer::new(crate::MAX_BODY)).merge(unlimited)
        }
    };
}

/// Routes whose bodies are streamed and may exceed `MAX_BODY` (raw files, not JSON).
pub const UNLIMITED: &[&str] = &[
    "/v1/check/batch",
    "/v1/persons/{id}/attachments",
    "/v1/leads/check",
    "/v1/uses/import",
    "/v1/imports",
    "/v1/reconcile",
    "/v1/robinson-lists/{list}",
];

v1_routes! {
    "/v1/check" => post check::check;
    "/v1/check/batch" => post batch::check_batch;
    "/v1/uses" => post check::record_use;
    "/v1/uses/import" => post calls::import_call_log;
    "/v1/leads/check" => post calls::check_leads;
    "/v1/imports" => post imports::import;
    "/v1/reconcile" => post imports::reconcile;
    "/v1/segments" => get segments::list, post segments::create;
    "/v1/segments/{id}" => get segments::get;
    "/v1/segments/{id}/members" => get segments::members;
    "/v1/segments/{id}/export" => post segments::export;
    "/v1/robinson-lists/{list}" => post segments::import_robinson;
    "/v1/repermission" => get segments::repermission_plan, post segments::repermission_send;
    "/v1/repermission/letters" => get segments::repermission_letters;
    "/v1/advertisers" => get catalog::list_advertisers, post catalog::create_advertiser;
    "/v1/categories" => get catalog::list_categories, post catalog::define_category;
    "/v1/texts" => get texts::list_texts, post texts::publish_text;
    "/v1/texts/lint" => post texts::lint_text;
    "/v1/texts/drafts" => post texts::create_draft;
    "/v1/texts/{id}" => get texts::get_text, put texts::update_draft, delete texts::discard_draft;
    "/v1/texts/{id}/publish" => post texts::publish_draft;
    "/v1/texts/{id}/retire" => post texts::retire_text;
    "/v1/persons" => get lists::list_persons, post persons::create_person;
    "/v1/persons/{id}" => get persons::get_person, patch persons::correct_person;
    "/v1/persons/{id}/timeline" => get persons::timeline;
    "/v1/persons/{id}/links" => get persons::links;
    "/v1/persons/{id}/objection" => post persons::object;
    "/v1/persons/{id}/erasure" => post erasure::erase;
    "/v1/persons/{id}/restriction" => post erasure::restrict, delete erasure::lift;
    "/v1/persons/{id}/access-requests" => post erasure::access_request;
    "/v1/persons/{id}/access-export" => post erasure::access_export;
    "/v1/requests" => get erasure::open_requests;
    "/v1/holds" => post erasure::place_hold;
    "/v1/holds/{id}/release" => post erasure::release_hold;
    "/v1/retention/run" => post erasure::run;
    "/v1/retention/rules" => get erasure::rules;
    "/v1/persons/{id}/attachments" => get evidence::list, post evidence::upload;
    "/v1/persons/{id}/attachments/{sha256}" => get evidence::download;
    "/v1/consents" => get lists::list_consents, post consents::record_consent;
    "/v1/consents/{id}" => get consents::get_consent;
    "/v1/consents/{id}/withdraw" => post consents::withdraw;
    "/v1/consents/{id}/doi" => post consents::request_doi;
    "/v1/consents/{id}/otp" => post consents::request_otp;
    "/v1/consents/{id}/otp/verify" => post consents::verify_otp;
    "/v1/consents/{id}/evidence" => post evidence::add_evidence;
    "/v1/consents/{id}/confirmation" => post evidence::request_confirmation;
    "/v1/consents/{id}/approve" => post evidence::approve;
    "/v1/evidence" => post evidence::package;
    "/v1/settings" => get evidence::get_settings, put evidence::put_settings;
    "/v1/forms" => get forms::list_forms, post forms::define_form;
    "/v1/suppressions" => get lists::list_suppressions, post suppressions::add;
    "/v1/suppressions/lookup" => post suppressions::lookup;
    "/v1/inbound/sms" => post suppressions::inbound_sms;
    "/v1/api-keys" => post suppressions::create_api_key;
    "/v1/webhooks" => get webhooks::list_webhooks, post webhooks::create_webhook;
    "/v1/webhooks/{id}" => delete webhooks::delete_webhook;
    "/v1/webhooks/deliveries" => get webhooks::list_deliveries;
    "/v1/webhooks/deliveries/{id}/replay" => post webhooks::replay;
    "/v1/webhooks/inbound" => get webhooks::list_inbound, post webhooks::create_inbound;
    "/v1/webhooks/inbound/{id}" => delete webhooks::delete_inbound;
    "/v1/webhooks/inbound/{id}/secret" => put webhooks::set_inbound_secret;
}

/// A contact point as clients send it: exactly one of `email`, `phone`, `postal`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"phone": "0171 2345678"}))]
pub struct ContactInput {
    /// E-mail address.
    pub email: Option<String>,
    /// Phone number (German default region).
    pub phone: Option<String>,
    /// Postal address.
    #[schema(value_type = Option<PostalAddressDoc>)]
    pub postal: Option<PostalAddress>,
}

impl ContactInput {
    /// Parses into a contact value. An error names the field that was wrong after `prefix` (`""`,
    /// or `contacts[1].` in a list): `email`, `phone`, `postal.postcode`; when none or more than
    /// one is given, it names `kinds`, the fields the caller takes (`email|phone`).
    pub fn parse(&self, prefix: &str, kinds: &str) -> Result<ContactValue, FieldError> {
        let err = |field: &str, message: String| FieldError { field: format!("{prefix}{field}"), message };
        match (&self.email, &self.phone, &self.postal) {
            (Some(e), None, None) => {
                EmailAddress::parse(e).map(ContactValue::Email).map_err(|e| err("email", e.to_string()))
            }
            (None, Some(p), None) => {
                crate::phones::parse(p).map(ContactValue::Phone).map_err(|e| err("phone", e.to_string()))
            }
            (None, None, Some(a)) => a
                .clone()
                .validated()
                .map(ContactValue::Postal)
                .map_err(|e| err(&format!("postal.{}", e.field()), e.to_string())),
            _ => {
                let list = kinds.replace('|', ", ");
                Err(err(kinds, format!("genau eines von {list} angeben / give exactly one of {list}")))
            }
        }
    }
}

/// A 422 naming one field of a query or form.
pub(crate) fn field(name: &str, message: impl Into<String>) -> ApiError {
    ApiError::invalid(vec![FieldError { field: name.into(), message: message.into() }])
}

/// An advertiser id given in a query or form field.
pub(crate) fn advertiser_id(name: &str, raw: &str) -> Result<AdvertiserId, ApiError> {
    raw.trim().parse().map_err(|_| {
        field(name, "keine ID eines Werbenden (GET /v1/advertisers listet sie) / not an advertiser id (GET /v1/advertisers lists them)")
    })
}

/// Parses an id from a path segment; a malformed id is simply not found.
pub fn path_id<T: std::str::FromStr>(raw: &str, what: &str) -> Result<T, ApiError> {
    raw.parse().map_err(|_| ApiError::not_found(what))
}
