//! The number check that follows a confirmation click (R15, R16): when the confirmed consent also
//! covers a phone, SMS or messenger channel whose number is not verified, the page sends a code by
//! text message and asks for it; posting the code (or asking for a new one) goes to the same link.

use axum::http::StatusCode;
use axum::response::Response;
use konsent_service::ServiceError;

use super::{esc, gone, internal, page, too_many};
use crate::AppState;
use crate::limits::Limit;

/// Codes sent per confirmation link and hour (the first one included).
pub const CODES_PER_LINK: Limit = Limit { max: 3, window_secs: 3600 };

/// What a post to a confirmation link asks for besides the confirmation itself.
#[derive(Debug, Default)]
pub(crate) struct NumberStep {
    /// An entered code.
    pub code: Option<String>,
    /// A new code was asked for.
    pub resend: bool,
}

impl NumberStep {
    /// Reads `code` and `resend` from a form body.
    pub fn parse(body: &[u8]) -> Self {
        let mut step = NumberStep::default();
        for (k, v) in form_urlencoded::parse(body) {
            match k.as_ref() {
                "code" => step.code = Some(v.into_owned()),
                "resend" => step.resend = true,
                _ => {}
            }
        }
        step
    }

    /// Whether the post is about the number, not the first click.
    pub fn is_some(&self) -> bool {
        self.code.is_some() || self.resend
    }
}

/// The code form, with a note above it (already escaped HTML).
fn code_form(status: StatusCode, note_html: &str) -> Response {
    page(
        status,
        "Rufnummer bestätigen",
        "Verify your phone number",
        &format!(
            "{note_html}<form method=\"post\"><p><label for=\"code\">Code aus der SMS / code from the text \
             message</label><br><input type=\"text\" id=\"code\" name=\"code\" inputmode=\"numeric\" \
             autocomplete=\"one-time-code\" maxlength=\"6\" required></p>\
             <p><button type=\"submit\">Bestätigen / Confirm</button></p></form>\
             <form method=\"post\"><input type=\"hidden\" name=\"resend\" value=\"1\">\
             <p><button type=\"submit\">Neuen Code senden / Send a new code</button></p></form>"
        ),
    )
}

fn note(de: &str, en: &str) -> String {
    format!("<p>{}</p><p class=\"en\" lang=\"en\">{}</p>", esc(de), esc(en))
}

/// Sends a code for the consent behind `token` (within the per-link limit) and shows the form.
pub(crate) async fn send_code(s: &AppState, token: &str, lead: (&str, &str)) -> Response {
    let key = format!("sms:{}", konsent_domain::crypto::sha256_hex(token.as_bytes()));
    if let Err(wait) = s.limits.hit(&key, CODES_PER_LINK, s.k.now().as_microsecond()) {
        return too_many(wait);
    }
    match s.k.request_otp_by_link(token).await {
        Ok(()) => code_form(
            StatusCode::OK,
            &note(
                &format!(
                    "{} Wir haben Ihnen einen sechsstelligen Code per SMS an Ihre Rufnummer geschickt. Er ist \
                     10 Minuten gültig. Erst mit dem Code wird die Einwilligung für Anrufe und Nachrichten \
                     wirksam.",
                    lead.0
                ),
                &format!(
                    "{} We have sent a six-digit code to your phone number by text message. It is valid for \
                     10 minutes. Only with the code does the consent for calls and messages take effect.",
                    lead.1
                ),
            ),
        ),
        Err(e) => step_failed(&e),
    }
}

/// Checks an entered code.
pub(crate) async fn check_code(s: &AppState, token: &str, code: &str) -> Response {
    match s.k.verify_otp_by_link(token, code).await {
        Ok((c, _)) if c.status.is_valid_for_processing() => page(
            StatusCode::OK,
            "Vielen Dank – bestätigt",
            "Thank you – confirmed",
            "<p>Ihre Rufnummer und Ihre Einwilligung sind bestätigt. Sie können sie jederzeit mit Wirkung \
             für die Zukunft widerrufen.</p>\
             <p class=\"en\" lang=\"en\">Your phone number and your consent are confirmed. You can withdraw \
             it at any time with effect for the future.</p>",
        ),
        Ok(_) => page(
            StatusCode::OK,
            "Rufnummer bestätigt",
            "Phone number verified",
            "<p>Ihre Rufnummer ist bestätigt. Bevor wir Sie anrufen, vervollständigen wir die Dokumentation \
             Ihrer Einwilligung.</p>\
             <p class=\"en\" lang=\"en\">Your phone number is verified. Before we call you, we complete the \
             documentation of your consent.</p>",
        ),
        Err(ServiceError::Invalid(_)) => code_form(
            StatusCode::UNPROCESSABLE_ENTITY,
            &note(
                "Dieser Code stimmt nicht. Bitte prüfen Sie die SMS und geben Sie ihn noch einmal ein.",
                "This code is not right. Please check the text message and enter it again.",
            ),
        ),
        Err(e) => step_failed(&e),
    }
}

fn step_failed(e: &ServiceError) -> Response {
    match e {
        ServiceError::NotFound(_) => {
            gone("Diesen Link kennen wir nicht.", "We do not know this link.", StatusCode::NOT_FOUND)
        }
        ServiceError::Conflict(m) if m.contains("too long ago") || m.contains("not confirmed") => gone(
            "Die Bestätigung der Rufnummer ist über diesen Link nicht mehr möglich. Bitte wenden Sie sich an uns.",
            "The phone number can no longer be verified through this link. Please contact us.",
            StatusCode::GONE,
        ),
        ServiceError::Conflict(m) if m.contains("already used") || m.contains("already verified") => gone(
            "Ihre Rufnummer ist bereits bestätigt.",
            "Your phone number is already verified.",
            StatusCode::CONFLICT,
        ),
        ServiceError::Conflict(_) => code_form(
            StatusCode::CONFLICT,
            &note(
                "Dieser Code ist abgelaufen oder wurde zu oft falsch eingegeben. Bitte fordern Sie einen neuen an.",
                "This code has expired or was entered wrongly too often. Please ask for a new one.",
            ),
        ),
        ServiceError::Invalid(_) => gone(
            "Diese Einwilligung ist an keine Rufnummer gebunden.",
            "This consent is bound to no phone number.",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        e => internal(e),
    }
}
