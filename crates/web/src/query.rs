//! Query strings: a parameter that does not parse (an unknown name, a word where a number belongs)
//! becomes a problem+json 400 naming it, German first, like every other error of the API.

use axum::extract::rejection::QueryRejection;
use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::problem::ApiError;

/// A request's query string whose rejection is an [`ApiError`].
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(q)) => Ok(ApiQuery(q)),
            Err(rejection) => Err(ApiError::bad_request(
                "invalid_query",
                format!("Abfrageparameter ungültig / invalid query parameter: {}", what(&rejection)),
            )),
        }
    }
}

/// The parse error without axum's generic prefix: it starts with the parameter's name.
fn what(rejection: &QueryRejection) -> String {
    let text = rejection.body_text();
    text.strip_prefix("Failed to deserialize query string: ").map(str::to_string).unwrap_or(text)
}
