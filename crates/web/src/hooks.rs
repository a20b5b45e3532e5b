//! Incoming webhooks of newsletter tools at `/hooks/in/{provider}/{token}`: no API key; the
//! unguessable token in the URL names the tenant's endpoint, and where the provider signs
//! (HubSpot v3, CleverReach's call token) the signature is checked too. GET answers the
//! providers' URL checks (Mailchimp's validation, CleverReach's verify handshake).

use std::collections::HashMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use konsent_domain::webhook::inbound::{self, HubspotAuth, Provider};
use konsent_domain::webhook::same;
use konsent_service::FieldError;
use konsent_service::webhooks::InboundEndpoint;
use serde_json::json;

use crate::AppState;
use crate::problem::{ApiError, BadRequest, NotFound, PayloadTooLarge, Unauthorized, Unprocessable};
use crate::query::ApiQuery;

async fn endpoint(s: &AppState, provider: &str, token: &str) -> Result<InboundEndpoint, ApiError> {
    let provider: Provider = provider.parse().map_err(|_| ApiError::not_found("webhook"))?;
    s.k.inbound_endpoint(provider, token).await?.ok_or_else(|| ApiError::not_found("webhook"))
}

fn unauthorized(detail: &str) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "bad_signature", detail)
}

/// URL-Prüfung / the providers' URL check: Mailchimp's validation GET (200), CleverReach's
/// verification (`?secret=…`, answered with "<verify token> <secret>").
#[utoipa::path(
    get, path = "/hooks/in/{provider}/{token}", tag = "webhooks",
    params(
        ("provider" = String, Path, description = "`mailchimp`, `hubspot` or `cleverreach`"),
        ("token" = String, Path, description = "The secret token of the URL `POST /v1/webhooks/inbound` returned"),
        ("secret" = Option<String>, Query, description = "CleverReach's verification value"),
    ),
    responses(
        (status = 200, description = "Erreichbar / reachable (CleverReach: `<verify token> <secret>`)", body = String, content_type = "text/plain"),
        (status = 404, response = NotFound),
    )
)]
pub(crate) async fn check(
    State(s): State<AppState>,
    Path((provider, token)): Path<(String, String)>,
    ApiQuery(q): ApiQuery<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let ep = endpoint(&s, &provider, &token).await?;
    let text = match (ep.provider, q.get("secret")) {
        (Provider::Cleverreach, Some(secret)) if secret.len() <= 200 => {
            format!("{} {secret}", s.k.cleverreach_verify_token(&ep.id))
        }
        _ => "ok".into(),
    };
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8"), (header::CACHE_CONTROL, "no-store")], text)
        .into_response())
}

/// Abmeldung, Bounce, Beschwerde / an unsubscribe, bounce or complaint from a newsletter tool.
///
/// Mailchimp: the audience webhook form post (`type=unsubscribe|cleaned|…`, `data[email]`,
/// `data[reason]`). HubSpot: the JSON array of webhook events, signed (`X-HubSpot-Signature-v3`,
/// `X-HubSpot-Request-Timestamp`, at most 5 minutes old); an `email` property change teaches the
/// contact's address, `hs_email_optout` = true unsubscribes it. CleverReach: `{event, condition,
/// payload}` with `X-CR-Calltoken`; `receiver.unsubscribed` needs `payload.email`. An unsubscribe
/// or complaint withdraws the e-mail consents of the address for the endpoint's advertisers and
/// suppresses it; a bounce suppresses it; an unknown address is suppressed all the same.
#[utoipa::path(
    post, path = "/hooks/in/{provider}/{token}", tag = "webhooks",
    params(
        ("provider" = String, Path, description = "`mailchimp`, `hubspot` or `cleverreach`"),
        ("token" = String, Path, description = "The secret token of the URL `POST /v1/webhooks/inbound` returned"),
    ),
    request_body(content = String, description = "The provider's payload, as it sends it", content_type = "application/json"),
    responses(
        (status = 200, description = "`{consents_withdrawn, suppressions_added, unresolved, ignored}`", body = Object),
        (status = 400, response = BadRequest), (status = 401, response = Unauthorized), (status = 404, response = NotFound),
        (status = 413, response = PayloadTooLarge), (status = 422, response = Unprocessable),
    )
)]
pub(crate) async fn receive(
    State(s): State<AppState>,
    Path((provider, token)): Path<(String, String)>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let ep = endpoint(&s, &provider, &token).await?;
    let h = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let parsed = match ep.provider {
        Provider::Mailchimp => inbound::mailchimp(&body),
        Provider::Hubspot => {
            let secret = ep.secret.as_deref().ok_or_else(|| unauthorized("no HubSpot client secret is configured"))?;
            // The URI HubSpot called: this installation's public address and the path as received.
            let path = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
            let full = format!("{}{path}", s.k.public_url.trim_end_matches('/'));
            let now_ms = s.k.now().as_millisecond();
            inbound::hubspot_verify(
                secret,
                "POST",
                &full,
                &body,
                h("x-hubspot-request-timestamp"),
                h("x-hubspot-signature-v3"),
                now_ms,
            )
            .map_err(|e| match e {
                HubspotAuth::Missing(which) => unauthorized(&format!("{which} is missing or malformed")),
                HubspotAuth::Stale => unauthorized("X-HubSpot-Request-Timestamp is more than 5 minutes old"),
                HubspotAuth::BadSignature => unauthorized("X-HubSpot-Signature-v3 does not match"),
            })?;
            inbound::hubspot(&body)
        }
        Provider::Cleverreach => {
            if let Some(expected) = &ep.secret
                && !h("x-cr-calltoken").is_some_and(|got| same(got.as_bytes(), expected.as_bytes()))
            {
                return Err(unauthorized("X-CR-Calltoken does not match"));
            }
            inbound::cleverreach(&body)
        }
    };
    let parsed = parsed.map_err(|b| ApiError::invalid(vec![FieldError { field: b.field, message: b.message }]))?;
    let outcome = s.k.apply_inbound(&ep, parsed).await?;
    Ok(Json(json!(outcome)).into_response())
}
