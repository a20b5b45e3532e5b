//! Signup forms of the tenant: which published text a hosted page `/f/{slug}` shows and which
//! channels it offers.

use std::collections::BTreeSet;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use konsent_domain::channel::Channel;
use konsent_domain::consent::DeclarationRecipient;
use konsent_domain::form::FormDef;
use konsent_domain::ids::TextId;
use konsent_store::queries;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use super::schema::{ChannelDoc, DeclarationRecipientDoc};
use crate::AppState;
use crate::auth::{Caller, Permission};
use crate::json::ApiJson;
use crate::problem::{
    ApiError, BadRequest, Conflict, Forbidden, PayloadTooLarge, Unauthorized, Unprocessable, UnsupportedMediaType,
};

/// Body of `POST /v1/forms`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FormBody {
    /// Public name: the page is `/f/{slug}` (3-60 of `a-z`, `0-9`, `-`).
    #[schema(example = "newsletter")]
    slug: String,
    /// A published consent text, shown in full.
    #[schema(value_type = uuid::Uuid)]
    text_id: TextId,
    /// Channels offered, each its own unticked box; within the text's scope.
    #[schema(value_type = Vec<ChannelDoc>)]
    channels: BTreeSet<Channel>,
    /// Heading of the page.
    #[schema(example = "Newsletter abonnieren")]
    title: String,
    /// Origins whose pages may embed the form (`https://www.makler.de`); default none.
    #[serde(default)]
    embed_origins: BTreeSet<String>,
    /// Ask the browser for a small proof of work before a submission counts (needs JavaScript);
    /// default off.
    #[serde(default)]
    proof_of_work: bool,
    /// Who receives the form's declarations, for its phone consents (calls, R20):
    /// organisation and a code of the form. Default, when the text names one advertiser: that
    /// advertiser and `Webformular /f/{slug}`.
    #[serde(default)]
    #[schema(value_type = Option<DeclarationRecipientDoc>)]
    declaration_recipient: Option<DeclarationRecipient>,
}

/// Formular anlegen oder ändern / define or change a signup form.
#[utoipa::path(
    post, path = "/v1/forms", tag = "forms", security(("bearer" = [])),
    request_body = FormBody,
    responses(
        (status = 201, description = "Das Formular / the form: `{slug, text_id, channels, title, embed_origins, proof_of_work, declaration_recipient, url, embed_snippet}`", body = Object),
        (status = 400, response = BadRequest), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden), (status = 409, response = Conflict),
        (status = 413, response = PayloadTooLarge), (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Unprocessable),
    )
)]
pub async fn define_form(
    State(s): State<AppState>,
    caller: Caller,
    ApiJson(b): ApiJson<FormBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    caller.require(Permission::ManageCatalog)?;
    let f = FormDef {
        slug: b.slug,
        text_id: b.text_id,
        channels: b.channels,
        title: b.title,
        embed_origins: b.embed_origins,
        proof_of_work: b.proof_of_work,
        declaration_recipient: b.declaration_recipient,
    };
    let f = s.k.define_form(caller.tenant, &caller.actor(), f).await?;
    let mut v = json!(f);
    let url = format!("{}/f/{}", s.k.public_url.trim_end_matches('/'), f.slug);
    // For the broker's homepage: the page itself, framed (the origins above may embed it).
    v["embed_snippet"] = json!(format!(
        "<iframe src=\"{url}\" title=\"{}\" style=\"width:100%;min-height:48rem;border:0\" loading=\"lazy\"></iframe>",
        crate::pages::esc(&f.title)
    ));
    v["url"] = json!(url);
    Ok((StatusCode::CREATED, Json(v)))
}

/// Formulare auflisten / list the tenant's signup forms.
#[utoipa::path(
    get, path = "/v1/forms", tag = "forms", security(("bearer" = [])),
    responses(
        (status = 200, description = "`items`: the forms", body = Object),
        (status = 401, response = Unauthorized), (status = 403, response = Forbidden),
    )
)]
pub async fn list_forms(State(s): State<AppState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    caller.require(Permission::Check)?;
    let items = queries::forms_of(&s.k.db, caller.tenant).await.map_err(konsent_service::ServiceError::from)?;
    Ok(Json(json!({ "items": items })))
}
