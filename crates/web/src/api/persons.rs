//! Persons and contact points: create, read (decrypted, for roles that may), correct (R46),
//! timeline, Art. 21 objection (R42, R51).

use std::collections::BTreeSet;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use jiff::civil::Date;
use konsent_domain::channel::Channel;
use konsent_domain::contact::{ContactValue, PostalAddress};
use konsent_domain::ids::{AdvertiserId, OrgUnitId, PersonId};
use konsent_domain::party::{PersonData, RecipientClass};
use konsent_service::FieldError;
use konsent_service::persons::NewPerson;
use konsent_store::queries;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use super::schema::{ChannelDoc, PostalAddressDoc, RecipientClassDoc};
use super::{ContactInput, path_id};
use crate::AppState;
use crate::auth::{Caller, Permission};
use crate::json::ApiJson;
use crate::problem::{
    ApiError, BadRequest, Conflict, Forbidden, NotFound, PayloadTooLarge, Unauthorized, Unprocessable,
    UnsupportedMediaType,
};

/// Body of `POST /v1/persons` and `PATCH /v1/persons/{id}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "first_name": "Anna", "last_name": "Meier",
    "address": {"street": "Lindenstraße 5", "postcode": "50667", "city": "Köln"},
    "contacts": [{"phone": "0171 2345678"}, {"email": "anna.meier@example.de"}]
}))]
pub struct PersonBody {
    /// First name.
    first_name: String,
    /// Last name.
    last_name: String,
    /// Residential address.
    #[serde(default)]
    #[schema(value_type = Option<PostalAddressDoc>)]
    address: Option<PostalAddress>,
    /// Date of birth (decides the minimum-age rule).
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Date)]
    birth_date: Option<Date>,
    /// Consumer (default) or business.
    #[serde(default)]
    #[schema(value_type = Option<RecipientClassDoc>)]
    recipient_class: Option<RecipientClass>,
    /// Owning org unit; ignored for keys restricted to an org unit (theirs is used).
    #[serde(default)]
    #[schema(value_type = Option<uuid::Uuid>)]
    org_unit_id: Option<OrgUnitId>,
    /// Contact points, each with exactly one of `email`, `phone`, `postal` (create only; a
    /// correction must leave this empty).
    #[serde(default)]
    contacts: Vec<ContactInput>,
}

fn person_data(s: &AppState, b: &PersonBody) -> Result<PersonData, ApiError> {
    let today = konsent_domain::time::utc_date(s.k.now());
    PersonData::new(&b.first_name, &b.last_name, b.address.clone(), b.birth_date, today).map_err(|e| {
        let field = match &e {
            konsent_domain::party::PartyError::Missing(f) | konsent_domain::party::PartyError::TooLong(f, _) => {
                (*f).to_string()
            }
            konsent_domain::party::PartyError::Address(_) => "address".into(),
            konsent_domain::party::PartyError::BirthDateInFuture => "birth_date".into(),
        };
        ApiError::invalid(vec![FieldError { field, message: e.to_string() }])
    })
}

/// Person anlegen / create a person with contact points.
///
/// Personal data is stored encrypted; only blind indexes of the contact points are searchable.
#[utoipa::path(
    post, path = "/v1/persons", tag = "persons", security(("bearer" = [])),
    request_body = PersonBody,
    responses(
        (status = 201, description = "Angelegt / `person_id` and the new `contact_points` (`id`, `kind`)", body = Object,
            example = json!({"person_id": "01956f3a-0000-7000-8000-000000000010",
                "contact_points": [{"id": "01956f3a-0000-7000-8000-000000000011", "kind": "phone"}]})),
        (status = 400, response = BadRequest), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 413, response = PayloadTooLarge), (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Unprocessable),
    )
)]
pub async fn create_person(
    State(s): State<AppState>,
    caller: Caller,
    ApiJson(b): ApiJson<PersonBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    caller.require(Permission::WritePersons)?;
    let data = person_data(&s, &b)?;
    let mut contacts = Vec::new();
    let mut errors = Vec::new();
    for (i, c) in b.contacts.iter().enumerate() {
        match c.parse(&format!("contacts[{i}]."), "email|phone|postal") {
            Ok(v) => contacts.push(v),
            Err(e) => errors.push(e),
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::invalid(errors));
    }
    // A key restricted to an org unit creates persons of that unit only.
    let org_unit = match (&caller.org_unit, b.org_unit_id) {
        (Some(mine), _) => Some(*mine),
        (None, o) => o,
    };
    let np = NewPerson {
        data,
        recipient_class: b.recipient_class.unwrap_or_default(),
        org_unit,
        contacts: contacts.clone(),
    };
    s.k.refuse_erased(caller.tenant, &contacts).await?;
    let w = s.k.register_person(caller.tenant, &caller.actor(), &np).await?;
    let cps: Vec<Value> =
        w.contact_point_ids.iter().zip(&contacts).map(|(id, c)| json!({"id": id, "kind": c.kind().as_str()})).collect();
    Ok((StatusCode::CREATED, Json(json!({"person_id": w.person_id, "contact_points": cps}))))
}

/// The person, if it exists in the caller's tenant and org unit; else 404 like a missing id.
pub(crate) async fn visible_person(
    s: &AppState,
    caller: &Caller,
    id: PersonId,
) -> Result<queries::PersonRow, ApiError> {
    let row = queries::person(&s.k.db, caller.tenant, id)
        .await
        .map_err(konsent_service::ServiceError::from)?
        .filter(|p| caller.sees(p.org_unit_id))
        .ok_or_else(|| ApiError::not_found("person"))?;
    // After an erasure request what is kept is restricted: the compliance role only (R48).
    if !crate::auth::allowed(caller.role, Permission::ReadEvidence)
        && s.k.restriction_state(caller.tenant, id).await?.is_some()
    {
        return Err(ApiError::not_found("person"));
    }
    Ok(row)
}

/// Audits a read of a restricted person's data (R48).
async fn audit_if_restricted(s: &AppState, caller: &Caller, id: PersonId, what: &str) -> Result<(), ApiError> {
    if s.k.restriction_state(caller.tenant, id).await?.is_some() {
        s.k.audit_restricted_read(caller.tenant, &caller.actor(), id, what).await?;
    }
    Ok(())
}

/// Person lesen / read a person, decrypted, with contact points and consents.
#[utoipa::path(
    get, path = "/v1/persons/{id}", tag = "persons", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Person id")),
    responses(
        (status = 200, description = "Die Person / person_id, recipient_class, org_unit_id, first_name, last_name, address, birth_date, contact_points (id, kind, value, verified_at, verified_by), consents (id, status, channels, advertisers, product_categories, granted_at, last_use_at)", body = Object),
        (status = 401, response = Unauthorized), (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    )
)]
pub async fn get_person(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Permission::ReadPersons)?;
    let id: PersonId = path_id(&id, "person")?;
    let row = visible_person(&s, &caller, id).await?;
    audit_if_restricted(&s, &caller, id, "person").await?;
    let data = s.k.person_data(caller.tenant, id).await?;
    let mut cps = Vec::new();
    for c in queries::contact_points(&s.k.db, caller.tenant, id).await.map_err(konsent_service::ServiceError::from)? {
        let value = s.k.contact_value(caller.tenant, id, c.id).await?;
        cps.push(json!({
            "id": c.id,
            "kind": c.kind,
            "value": value.map(|v| match v {
                ContactValue::Email(e) => json!(e.as_str()),
                ContactValue::Phone(p) => json!(p.as_str()),
                ContactValue::Postal(a) => json!(a),
            }),
            "verified_at": c.verified_at,
            "verified_by": c.verified_method,
        }));
    }
    let consents =
        queries::consents_of(&s.k.db, caller.tenant, id).await.map_err(konsent_service::ServiceError::from)?;
    Ok(Json(json!({
        "person_id": id,
        "recipient_class": row.recipient_class,
        "org_unit_id": row.org_unit_id,
        "first_name": data.as_ref().map(|d| d.first_name.clone()),
        "last_name": data.as_ref().map(|d| d.last_name.clone()),
        "address": data.as_ref().and_then(|d| d.address.clone()),
        "birth_date": data.as_ref().and_then(|d| d.birth_date),
        "contact_points": cps,
        "consents": consents.iter().map(|c| json!({
            "id": c.id, "status": c.status, "channels": c.scope.channels, "advertisers": c.scope.advertisers,
            "product_categories": c.scope.product_categories, "granted_at": c.granted_at, "last_use_at": c.last_use_at,
        })).collect::<Vec<_>>(),
    })))
}

/// Person berichtigen / correct a person's data (R46); the history stays.
#[utoipa::path(
    patch, path = "/v1/persons/{id}", tag = "persons", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Person id")),
    request_body = PersonBody,
    responses(
        (status = 200, description = "Berichtigt / `{\"person_id\": …, \"corrected\": true}`", body = Object),
        (status = 400, response = BadRequest), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound), (status = 409, response = Conflict),
        (status = 413, response = PayloadTooLarge), (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Unprocessable),
    )
)]
pub async fn correct_person(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<PersonBody>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Permission::WritePersons)?;
    let id: PersonId = path_id(&id, "person")?;
    if !b.contacts.is_empty() {
        return Err(ApiError::invalid(vec![FieldError {
            field: "contacts".into(),
            message: "contact points are added, not corrected; use a new consent capture".into(),
        }]));
    }
    let data = person_data(&s, &b)?;
    s.k.correct_person(caller.tenant, &caller.actor(), id, &data, b.recipient_class).await?;
    Ok(Json(json!({"person_id": id, "corrected": true})))
}

/// Verlauf / the person's ledger events, oldest first.
#[utoipa::path(
    get, path = "/v1/persons/{id}/timeline", tag = "persons", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Person id")),
    responses(
        (status = 200, description = "`person_id` and `events` (seq, event_id, recorded_at, type, actor, event)", body = Object),
        (status = 401, response = Unauthorized), (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    )
)]
pub async fn timeline(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Permission::ReadPersons)?;
    let id: PersonId = path_id(&id, "person")?;
    visible_person(&s, &caller, id).await?;
    audit_if_restricted(&s, &caller, id, "timeline").await?;
    let entries = queries::timeline(&s.k.db, caller.tenant, id).await.map_err(konsent_service::ServiceError::from)?;
    Ok(Json(json!({
        "person_id": id,
        "events": entries.iter().map(|e| json!({
            "seq": e.seq, "event_id": e.event_id, "recorded_at": e.recorded_at, "type": e.body.kind(), "actor": e.actor, "event": e.body,
        })).collect::<Vec<_>>(),
    })))
}

/// Body of `POST /v1/persons/{id}/objection`. Empty lists mean everything (R42).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ObjectionBody {
    /// Channels objected to; empty = all.
    #[serde(default)]
    #[schema(value_type = Vec<ChannelDoc>)]
    channels: BTreeSet<Channel>,
    /// Advertisers objected to; empty = all.
    #[serde(default)]
    #[schema(value_type = Vec<uuid::Uuid>)]
    advertisers: BTreeSet<AdvertiserId>,
    /// How the objection reached us; default `api`.
    #[serde(default = "api")]
    #[schema(default = "api")]
    via: String,
}

fn api() -> String {
    "api".into()
}

/// Widerspruch / record an Art. 21 GDPR objection (R42, R51); takes effect now.
#[utoipa::path(
    post, path = "/v1/persons/{id}/objection", tag = "persons", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Person id")),
    request_body = ObjectionBody,
    responses(
        (status = 201, description = "Erfasst / `person_id` and the `objection` (channels, advertisers)", body = Object),
        (status = 400, response = BadRequest), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 413, response = PayloadTooLarge), (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Unprocessable),
    )
)]
pub async fn object(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<ObjectionBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    caller.require(Permission::RecordConsent)?;
    let id: PersonId = path_id(&id, "person")?;
    s.k.object(caller.tenant, &caller.actor(), id, b.channels.clone(), b.advertisers.clone(), &b.via).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"person_id": id, "objection": {"channels": b.channels, "advertisers": b.advertisers}})),
    ))
}

/// Links für E-Mails / the person's preference-centre link and, per e-mail consent, the one-click
/// unsubscribe URL with the `List-Unsubscribe` and `List-Unsubscribe-Post` headers (RFC 8058) a
/// newsletter tool puts into every mail it sends.
#[utoipa::path(
    get, path = "/v1/persons/{id}/links", tag = "persons", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Person id")),
    responses(
        (status = 200, description = "`preference_centre` (URL) and `unsubscribe`: `[{consent_id, url, list_unsubscribe, list_unsubscribe_post}]`", body = Object),
        (status = 401, response = Unauthorized), (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    )
)]
pub async fn links(State(s): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    caller.require(Permission::ReadPersons)?;
    let id: PersonId = path_id(&id, "person")?;
    visible_person(&s, &caller, id).await?;
    Ok(Json(json!(s.k.person_links(caller.tenant, id).await?)))
}
