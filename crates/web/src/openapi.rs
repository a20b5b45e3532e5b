//! The OpenAPI 3.1 document of the HTTP API, served at `GET /openapi.json`: info, the bearer
//! scheme, tags, and every path with the schemas and problem+json responses it uses, all
//! generated from the handlers' `#[utoipa::path]` annotations.

use std::sync::LazyLock;

use axum::http::header;
use axum::response::{IntoResponse, Response};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::api::{
    batch, calls, catalog, check, consents, erasure, evidence, forms, imports, lists, persons, schema, segments,
    suppressions, texts, webhooks,
};
use crate::problem;

/// German and English description of the API (Markdown).
const DESCRIPTION: &str = "\
Einwilligungsverwaltung für den Finanzvertrieb: Vor jedem Werbekontakt fragt der Vertrieb das \
Gate (`POST /v1/check`), ob der Kontakt jetzt erlaubt ist, und protokolliert die Nutzung \
(`POST /v1/uses`). Einwilligungen werden mit Nachweisen erfasst, Widerruf und Widerspruch wirken \
sofort, jede Änderung steht in einem fälschungssicheren Journal.

Opt-in management for German financial sales: before every advertising contact, sales asks the \
gate (`POST /v1/check`) whether the contact may be made now and logs the use (`POST /v1/uses`). \
Consents are recorded with evidence, withdrawals and objections take effect at once, and every \
change is kept in a tamper-evident ledger.

Authentication: `Authorization: Bearer knst_…` (an API key; its role decides what it may do, and \
it only ever sees its own tenant). Errors are `application/problem+json` (RFC 9457) with a stable \
`code`.";

/// The OpenAPI document of the Konsent API.
#[derive(OpenApi)]
#[openapi(
    info(title = "Konsent API", version = env!("CARGO_PKG_VERSION"), description = DESCRIPTION),
    paths(
        crate::healthz,
        crate::readyz,
        crate::metrics_text,
        serve_document,
        check::check,
        check::record_use,
        batch::check_batch,
        calls::check_leads,
        calls::import_call_log,
        imports::import,
        imports::reconcile,
        segments::create,
        segments::list,
        segments::get,
        segments::members,
        segments::export,
        segments::import_robinson,
        segments::repermission_plan,
        segments::repermission_send,
        segments::repermission_letters,
        lists::list_persons,
        lists::list_consents,
        lists::list_suppressions,
        catalog::list_advertisers,
        catalog::create_advertiser,
        catalog::list_categories,
        catalog::define_category,
        texts::list_texts,
        texts::publish_text,
        texts::lint_text,
        texts::create_draft,
        texts::get_text,
        texts::update_draft,
        texts::discard_draft,
        texts::publish_draft,
        texts::retire_text,
        persons::create_person,
        persons::get_person,
        persons::correct_person,
        persons::timeline,
        persons::links,
        persons::object,
        consents::record_consent,
        consents::get_consent,
        consents::withdraw,
        consents::request_doi,
        consents::request_otp,
        consents::verify_otp,
        erasure::erase,
        erasure::place_hold,
        erasure::release_hold,
        erasure::run,
        erasure::restrict,
        erasure::lift,
        erasure::rules,
        erasure::access_request,
        erasure::open_requests,
        erasure::access_export,
        evidence::upload,
        evidence::list,
        evidence::download,
        evidence::add_evidence,
        evidence::request_confirmation,
        evidence::approve,
        evidence::get_settings,
        evidence::put_settings,
        evidence::package,
        forms::define_form,
        forms::list_forms,
        suppressions::add,
        suppressions::lookup,
        suppressions::inbound_sms,
        suppressions::create_api_key,
        webhooks::create_webhook,
        webhooks::list_webhooks,
        webhooks::delete_webhook,
        webhooks::list_deliveries,
        webhooks::replay,
        webhooks::create_inbound,
        webhooks::list_inbound,
        webhooks::set_inbound_secret,
        webhooks::delete_inbound,
        crate::hooks::check,
        crate::hooks::receive,
    ),
    components(
        schemas(
            problem::Problem,
            problem::FieldErrorDoc,
            schema::ChannelDoc,
            schema::UseOutcomeDoc,
            schema::RoleDoc,
            schema::SuppressionReasonDoc,
            schema::CaptureMethodDoc,
            schema::RecipientClassDoc,
            schema::PostalAddressDoc,
            schema::ScopeDoc,
            schema::PrivacyNoticeRefDoc,
            schema::DeclarationRecipientDoc,
            schema::AdvertiserDoc,
            schema::CategoryDoc,
            schema::CampaignPolicyDoc,
            schema::EvidenceDoc,
            schema::SourceDoc,
            schema::ValidityDoc,
        ),
        responses(
            problem::BadRequest,
            problem::Unauthorized,
            problem::Forbidden,
            problem::NotFound,
            problem::Conflict,
            problem::PayloadTooLarge,
            problem::UnsupportedMediaType,
            problem::Unprocessable,
        ),
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "gate", description = "Prüfung / Gate: darf dieser Kontakt jetzt stattfinden, und \
            Protokoll der Nutzung. — The gate check and the use log."),
        (name = "persons", description = "Personen: anlegen, lesen, berichtigen, Verlauf, Widerspruch. — \
            Persons: create, read, correct, timeline, objection."),
        (name = "consents", description = "Einwilligungen: erfassen mit Nachweisen, lesen, widerrufen. — \
            Consents: record with evidence, read, withdraw."),
        (name = "catalog", description = "Katalog: werbende Unternehmen und Sparten. — \
            Catalogue: advertisers and product categories."),
        (name = "texts", description = "Einwilligungstexte: Entwürfe, Prüfung, Veröffentlichung \
            (danach unveränderlich), Rückzug. — Consent texts: drafts, linting, publishing (immutable \
            after), retiring."),
        (name = "forms", description = "Anmeldeformulare: gehostete Seiten /f/{slug} mit je einem \
            nicht angekreuzten Kästchen pro Kanal. — Signup forms: hosted pages with one unticked box per \
            channel."),
        (name = "suppressions", description = "Sperrliste: Kontaktpunkte, die nicht kontaktiert werden \
            dürfen. — Suppression list: contact points that must not be contacted."),
        (name = "api-keys", description = "API-Schlüssel und Rollen. — API keys and roles."),
        (name = "webhooks", description = "Webhooks: Empfänger von Einwilligungsereignissen (signiert nach \
            Standard Webhooks, nur IDs) und Rückmeldungen von Newsletter-Tools (Abmeldungen, Bounces, \
            Beschwerden). — Receivers of consent events (signed, ids only) and newsletter tools' \
            unsubscribes, bounces and complaints."),
        (name = "evidence", description = "Nachweise: Aufzeichnungen und Scans (verschlüsselt, jeder Zugriff \
            protokolliert) und das Nachweispaket nach § 7a UWG. — Evidence files and the § 7a proof package."),
        (name = "rights", description = "Betroffenenrechte und Löschkonzept: Löschung (Art. 17) mit \
            Antworttext, Sperren (Legal Hold), Löschlauf. — Data-subject rights and the deletion concept."),
        (name = "imports", description = "Importe aus Newsletter-Tools, CRM und Maklerverwaltung mit \
            Herkunftsnachweis, Sperrlistenabgleich und Fortsetzung nach Abbruch. — Imports from newsletter \
            tools, CRMs and broker software with provenance."),
        (name = "segments", description = "Kampagnen-Segmente: wer erreichbar ist und warum nicht, \
            eingefroren; Exporte für Newsletter-Tools und Dialer; Robinsonlisten. — Campaign segments, \
            exports and Robinson lists."),
        (name = "admin", description = "Einstellungen des Mandanten (Vier-Augen-Freigabe, Prüfregeln). — \
            Tenant settings."),
        (name = "ops", description = "Betrieb: Liveness, Readiness, Metriken, dieses Dokument; ohne \
            Anmeldung. — Operations: liveness, readiness, metrics, this document; no authentication."),
    )
)]
pub struct ApiDoc;

/// Adds the `bearer` security scheme that the `/v1` operations name.
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("knst_…")
                    .description(Some(
                        "API-Schlüssel / API key: `Authorization: Bearer knst_…`. `konsent init` prints the first \
                         admin key; more come from `konsent apikey create` or `POST /v1/api-keys`. The \
                         key's role decides what it may do.",
                    ))
                    .build(),
            ),
        );
    }
}

/// The OpenAPI document as JSON.
pub fn openapi_json() -> serde_json::Value {
    serde_json::to_value(ApiDoc::openapi()).expect("the OpenAPI document serialises")
}

/// The document, serialised once.
static DOCUMENT: LazyLock<String> = LazyLock::new(|| openapi_json().to_string());

/// Dieses Dokument / this OpenAPI document.
#[utoipa::path(get, path = "/openapi.json", tag = "ops", responses(
    (status = 200, description = "OpenAPI 3.1 document", body = Object, content_type = "application/json"),
))]
pub(crate) async fn serve_document() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], DOCUMENT.as_str()).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_names_existing_components() {
        let doc = openapi_json();
        let text = doc.to_string();
        for prefix in ["#/components/schemas/", "#/components/responses/"] {
            let kind = if prefix.ends_with("schemas/") { "schemas" } else { "responses" };
            for piece in text.split(prefix).skip(1) {
                let name = piece.split('"').next().unwrap();
                assert!(doc["components"][kind].get(name).is_some(), "dangling reference {prefix}{name}");
            }
        }
    }

    #[test]
    fn every_v1_route_is_documented_with_bearer_security() {
        let doc = openapi_json();
        for (method, path) in crate::api::ROUTES {
            let op = &doc["paths"][*path][*method];
            assert!(op.is_object(), "{method} {path} is served but not documented");
            assert_eq!(op["security"][0]["bearer"], serde_json::json!([]), "{method} {path}");
            assert!(op["responses"]["401"].is_object(), "{method} {path} lacks 401");
        }
    }
}
