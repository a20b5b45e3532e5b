//! Cursor-paginated lists for integrations that sync: `GET /v1/persons`, `GET /v1/consents` and
//! `GET /v1/suppressions`
//! with `updated_since`, `cursor` and `limit` (max 1000), ordered by change time and id.

use axum::Json;
use axum::extract::State;
use jiff::Timestamp;
use konsent_domain::ids::PersonId;
use konsent_store::queries;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::IntoParams;

use crate::AppState;
use crate::auth::{Caller, Permission};
use crate::problem::{ApiError, BadRequest, Forbidden, Unauthorized};
use crate::query::ApiQuery;

/// Query of a list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only items changed at or after this instant (RFC 3339).
    #[param(value_type = Option<String>, format = DateTime)]
    updated_since: Option<Timestamp>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Page size, 1-1000 (default 100).
    limit: Option<i64>,
}

fn decode_cursor(c: &str) -> Result<Cursor, ApiError> {
    let bad = || {
        ApiError::bad_request(
            "bad_cursor",
            "der Cursor stammt nicht aus einer Antwort dieser API / cursor is not one this API returned",
        )
    };
    let raw = hex::decode(c).map_err(|_| bad())?;
    let text = String::from_utf8(raw).map_err(|_| bad())?;
    let (t, id) = text.split_once(':').ok_or_else(bad)?;
    Ok((t.parse().map_err(|_| bad())?, id.parse().map_err(|_| bad())?))
}

fn encode_cursor(c: &Cursor) -> String {
    hex::encode(format!("{}:{}", c.0, c.1))
}

/// A position in a list: change time (µs) and id.
type Cursor = (i64, uuid::Uuid);

/// `updated_since` (µs), the cursor to continue after, and the page size.
fn params(q: &ListQuery) -> Result<(i64, Option<Cursor>, i64), ApiError> {
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::bad_request("bad_limit", "limit muss zwischen 1 und 1000 liegen / limit must be 1-1000"));
    }
    let since = q.updated_since.map(|t| t.as_microsecond()).unwrap_or(i64::MIN);
    let after = q.cursor.as_deref().map(decode_cursor).transpose()?;
    Ok((since, after, limit))
}

fn store(e: konsent_store::StoreError) -> ApiError {
    konsent_service::ServiceError::from(e).into()
}

/// Persons of a page that the caller must not see: restricted after an erasure request, for every
/// role but those that may read evidence (R48).
async fn hidden_persons(
    s: &AppState,
    caller: &Caller,
    ids: &[PersonId],
) -> Result<std::collections::HashSet<PersonId>, ApiError> {
    if crate::auth::allowed(caller.role, Permission::ReadEvidence) {
        return Ok(Default::default());
    }
    queries::restricted_among(&s.k.db, caller.tenant, ids).await.map_err(store)
}

#[utoipa::path(
    get, path = "/v1/persons", tag = "persons", security(("bearer" = [])),
    params(ListQuery),
    responses(
        (status = 200, description = "Persons changed since `updated_since`, oldest change first: `{items: [{person_id, recipient_class, org_unit_id, updated_at}], next_cursor}`", body = Object),
        (status = 400, response = BadRequest), (status = 401, response = Unauthorized), (status = 403, response = Forbidden),
    )
)]
pub async fn list_persons(
    State(s): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Permission::ReadPersons)?;
    let (since, after, limit) = params(&q)?;
    let page = queries::persons_page(&s.k.db, caller.tenant, since, after, limit).await.map_err(store)?;
    let ids: Vec<PersonId> = page.items.iter().map(|(p, _)| p.id).collect();
    let hidden = hidden_persons(&s, &caller, &ids).await?;
    let items: Vec<Value> = page
        .items
        .iter()
        .filter(|(p, _)| caller.sees(p.org_unit_id) && !hidden.contains(&p.id))
        .map(|(p, t)| {
            json!({
                "person_id": p.id, "recipient_class": p.recipient_class, "org_unit_id": p.org_unit_id,
                "updated_at": Timestamp::from_microsecond(*t).ok(),
            })
        })
        .collect();
    Ok(Json(json!({"items": items, "next_cursor": page.next.as_ref().map(encode_cursor)})))
}

#[utoipa::path(
    get, path = "/v1/consents", tag = "consents", security(("bearer" = [])),
    params(ListQuery),
    responses(
        (status = 200, description = "Consents changed since `updated_since`, oldest change first: `{items: [{consent_id, person_id, status, scope, granted_at, last_use_at, updated_at}], next_cursor}`", body = Object),
        (status = 400, response = BadRequest), (status = 401, response = Unauthorized), (status = 403, response = Forbidden),
    )
)]
pub async fn list_consents(
    State(s): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Permission::ReadPersons)?;
    let (since, after, limit) = params(&q)?;
    let page = queries::consents_page(&s.k.db, caller.tenant, since, after, limit).await.map_err(store)?;
    let ids: Vec<PersonId> = page.items.iter().map(|c| c.person_id).collect();
    let hidden = hidden_persons(&s, &caller, &ids).await?;
    let items: Vec<Value> = page
        .items
        .iter()
        .filter(|c| !hidden.contains(&c.person_id))
        .map(|c| {
            json!({
                "consent_id": c.id, "person_id": c.person_id, "status": c.status, "scope": c.scope,
                "granted_at": c.granted_at, "last_use_at": c.last_use_at, "updated_at": c.last_change_at,
            })
        })
        .collect();
    Ok(Json(json!({"items": items, "next_cursor": page.next.as_ref().map(encode_cursor)})))
}

#[utoipa::path(
    get, path = "/v1/suppressions", tag = "suppressions", security(("bearer" = [])),
    params(ListQuery),
    responses(
        (status = 200, description = "Suppression entries created since `updated_since`, oldest first: `{items: [{id, key_hmac, key_kind, scope, reason, created_at, source}], next_cursor}`; entries hold only the keyed hash of a contact point, never the address", body = Object),
        (status = 400, response = BadRequest), (status = 401, response = Unauthorized), (status = 403, response = Forbidden),
    )
)]
pub async fn list_suppressions(
    State(s): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Permission::ManageSuppression)?;
    let (since, after, limit) = params(&q)?;
    let page = queries::suppressions_page(&s.k.db, caller.tenant, since, after, limit).await.map_err(store)?;
    Ok(Json(json!({"items": page.items, "next_cursor": page.next.as_ref().map(encode_cursor)})))
}
