//! The number check that follows a confirmation click or a form without e-mail (R15, R16): when
//! the consent covers a phone, SMS or messenger channel whose number is not verified, a code goes
//! by text message and the page asks for it; the code (or a request for a new one) is posted to
//! the confirmation link, or after a form to `/f/{slug}/code/{reference}`.

use axum::http::StatusCode;
use axum::response::Response;
use konsent_service::ServiceError;
use konsent_service::otp::CodeRef;

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

/// Where the code is checked: behind a clicked confirmation link, or behind a form's reference.
#[derive(Clone, Copy)]
pub(crate) enum Via<'a> {
    /// The token of a confirmation link (`/doi/{token}`).
    Link(&'a str),
    /// The form and the reference its submission without e-mail gave
    /// (`/f/{slug}/code/{reference}`).
    Form(&'a str, &'a str),
}

impl Via<'_> {
    fn token(&self) -> &str {
        match self {
            Via::Link(t) | Via::Form(_, t) => t,
        }
    }

    fn code_ref(&self) -> CodeRef<'_> {
        match *self {
            Via::Link(t) => CodeRef::Link(t),
            Via::Form(_, t) => CodeRef::Form(t),
        }
    }

    /// Where the code form posts: the link itself, or the form's reference.
    fn action(&self) -> String {
        match self {
            Via::Link(_) => String::new(),
            Via::Form(slug, t) => format!(" action=\"/f/{}/code/{}\"", esc(slug), esc(t)),
        }
    }
}

/// The code form, with a note above it (already escaped HTML).
fn code_form(status: StatusCode, via: Via<'_>, note_html: &str) -> Response {
    let action = via.action();
    page(
        status,
        "Rufnummer bestätigen",
        "Verify your phone number",
        &format!(
            "{note_html}<form method=\"post\"{action}><p><label for=\"code\">Code aus der SMS / code from the text \
             message</label><br><input type=\"text\" id=\"code\" name=\"code\" inputmode=\"numeric\" \
             autocomplete=\"one-time-code\" maxlength=\"6\" required></p>\
             <p><button type=\"submit\">Bestätigen / Confirm</button></p></form>\
             <form method=\"post\"{action}><input type=\"hidden\" name=\"resend\" value=\"1\">\
             <p><button type=\"submit\">Neuen Code senden / Send a new code</button></p></form>"
        ),
    )
}

fn note(de: &str, en: &str) -> String {
    format!("<p>{}</p><p class=\"en\" lang=\"en\">{}</p>", esc(de), esc(en))
}

/// Counts a code against the per-link limit; the answer when it is exceeded.
fn count_code(s: &AppState, via: Via<'_>) -> Option<Response> {
    let key = format!("sms:{}", konsent_domain::crypto::sha256_hex(via.token().as_bytes()));
    s.limits.hit(&key, CODES_PER_LINK, s.k.now().as_microsecond()).err().map(too_many)
}

/// Shows the code form after a form's submission sent the first code (counted here).
pub(crate) fn code_sent(s: &AppState, via: Via<'_>, lead: (&str, &str)) -> Response {
    if let Some(r) = count_code(s, via) {
        return r;
    }
    sent_form(via, lead)
}

fn sent_form(via: Via<'_>, lead: (&str, &str)) -> Response {
    code_form(
        StatusCode::OK,
        via,
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
    )
}

/// Sends a code for the consent behind `via` (within the per-link limit) and shows the form.
pub(crate) async fn send_code(s: &AppState, via: Via<'_>, lead: (&str, &str)) -> Response {
    if let Some(r) = count_code(s, via) {
        return r;
    }
    match s.k.request_otp_by(via.code_ref()).await {
        Ok(()) => sent_form(via, lead),
        Err(e) => step_failed(&e, via),
    }
}

/// Checks an entered code.
pub(crate) async fn check_code(s: &AppState, via: Via<'_>, code: &str) -> Response {
    match s.k.verify_otp_by(via.code_ref(), code).await {
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
            via,
            &note(
                "Dieser Code stimmt nicht. Bitte prüfen Sie die SMS und geben Sie ihn noch einmal ein.",
                "This code is not right. Please check the text message and enter it again.",
            ),
        ),
        Err(e) => step_failed(&e, via),
    }
}

fn step_failed(e: &ServiceError, via: Via<'_>) -> Response {
    match e {
        ServiceError::NotFound(_) => super::unknown_link(),
        ServiceError::Ended(_) => super::ended(),
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
            via,
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
