//! Public pages: the hosted signup form (`form`) and the double opt-in confirmation (R13) people
//! open from their mail. German first, English below; no JavaScript, no cookies (R66); a GET never
//! confirms (mail scanners open links), only the button's POST does.

pub(crate) mod form;
pub(crate) mod number;
pub(crate) mod prefs;

use axum::extract::{ConnectInfo, Path, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use konsent_service::ServiceError;
use konsent_service::doi::DoiState;

use crate::AppState;

/// Escapes text for HTML.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A whole page: German heading and text, English below.
pub(crate) fn page(status: StatusCode, title_de: &str, title_en: &str, body: &str) -> Response {
    framable_page(status, title_de, title_en, body, "'none'", None)
}

/// The same page, embeddable by a form's origins: the pages that follow a form's submission stay
/// inside the frame the form was embedded in.
pub(crate) fn framed_by(mut res: Response, embed_origins: &std::collections::BTreeSet<String>) -> Response {
    if embed_origins.is_empty() {
        return res;
    }
    let ancestors = embed_origins.iter().cloned().collect::<Vec<_>>().join(" ");
    let h = res.headers_mut();
    let csp = h
        .get(header::CONTENT_SECURITY_POLICY)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.replace("frame-ancestors 'none'", &format!("frame-ancestors {ancestors}")));
    if let Some(v) = csp.and_then(|c| HeaderValue::from_str(&c).ok()) {
        h.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    res
}

/// A page that the given `frame-ancestors` sources may embed, optionally running the one script
/// with `script_nonce`.
pub(crate) fn framable_page(
    status: StatusCode,
    title_de: &str,
    title_en: &str,
    body: &str,
    ancestors: &str,
    script_nonce: Option<&str>,
) -> Response {
    let html = format!(
        "<!doctype html>\n<html lang=\"de\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{t} / {te}</title>\
         <style>body{{font-family:system-ui,sans-serif;max-width:38rem;margin:2rem auto;padding:0 1rem;\
         color:#111;background:#fff;line-height:1.5}}button{{font-size:1.1rem;padding:.6rem 1.4rem;\
         background:#0b5394;color:#fff;border:0;border-radius:.3rem}}button:focus{{outline:3px solid #f1c232}}\
         .en{{color:#333;border-top:1px solid #ccc;margin-top:2rem;padding-top:1rem}}\
         .hp{{position:absolute;left:-10000px;width:1px;height:1px;overflow:hidden}}\
         label{{font-weight:600}}input[type=text],input[type=email],input[type=tel]{{font-size:1rem;padding:.4rem;width:100%;max-width:24rem}}\
         .text{{white-space:pre-wrap;background:#f4f4f4;padding:1rem;border-radius:.3rem}}</style></head>\
         <body><main><h1>{t}</h1>{body}</main></body></html>\n",
        t = esc(title_de),
        te = esc(title_en),
    );
    let mut res = (status, html).into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    let script = script_nonce.map(|n| format!("; script-src 'nonce-{n}'")).unwrap_or_default();
    let csp = format!(
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors {ancestors}{script}"
    );
    if let Ok(v) = HeaderValue::from_str(&csp) {
        h.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    res
}

pub(crate) fn gone(what_de: &str, what_en: &str, status: StatusCode) -> Response {
    page(
        status,
        "Link nicht gültig",
        "Link not valid",
        &format!("<p>{}</p><p class=\"en\" lang=\"en\">{}</p>", esc(what_de), esc(what_en)),
    )
}

/// `GET /doi/{token}`: what is to be confirmed, and a button. Confirms nothing.
pub async fn doi_page(State(s): State<AppState>, Path(token): Path<String>) -> Response {
    match s.k.doi_state(&token).await {
        Ok(Some(DoiState::Open { renewals, company, number_follows, .. })) if !renewals.is_empty() => {
            renewal_page(&company, &renewals, number_follows)
        }
        Ok(Some(DoiState::Open { title, company, number_follows, .. })) => {
            let (then_de, then_en) = konsent_domain::mail::number_follows_note(number_follows);
            page(
                StatusCode::OK,
                "Einwilligung bestätigen",
                "Confirm your consent",
                &format!(
                    "<p>Sie haben gegenüber <strong>{c}</strong> eingewilligt: „{t}“. Bitte bestätigen Sie, \
                     dass diese E-Mail-Adresse Ihnen gehört.{then_de}</p>\
                     <form method=\"post\"><button type=\"submit\">Bestätigen / Confirm</button></form>\
                     <p class=\"en\" lang=\"en\">You gave your consent to <strong>{c}</strong>: \"{t}\". \
                     Please confirm that this e-mail address is yours.{then_en}</p>",
                    c = esc(&company),
                    t = esc(&title)
                ),
            )
        }
        Ok(Some(DoiState::Used)) => used_link(),
        Ok(Some(DoiState::Ended)) => ended(),
        Ok(Some(DoiState::Expired)) => expired_link(),
        Ok(None) => unknown_link(),
        Err(e) => internal(&e),
    }
}

/// The page of a re-permission link (R43): the wording of every text the click renews consent
/// under, in full, and one button.
fn renewal_page(company: &str, renewals: &[(String, String)], number_follows: bool) -> Response {
    let (then_de, then_en) = konsent_domain::mail::number_follows_note(number_follows);
    let texts: String = renewals
        .iter()
        .map(|(title, body)| {
            format!(
                "<section class=\"renewal\"><h2>{}</h2><p>{}</p></section>",
                esc(title),
                esc(body).replace('\n', "<br>")
            )
        })
        .collect();
    page(
        StatusCode::OK,
        "Einwilligung erneuern",
        "Renew your consent",
        &format!(
            "<p><strong>{c}</strong> bittet Sie, Ihre Einwilligung zu erneuern. Mit einem Klick auf \
             „Erneuern“ willigen Sie in den folgenden Wortlaut ein; Ihre bisherige Einwilligung bleibt \
             unverändert dokumentiert. Sie können jederzeit mit Wirkung für die Zukunft widerrufen.{then_de}</p>\
             {texts}<form method=\"post\"><button type=\"submit\">Erneuern / Renew</button></form>\
             <p class=\"en\" lang=\"en\"><strong>{c}</strong> asks you to renew your consent. By clicking \
             \"Renew\" you consent to the wording above; your earlier consent stays on record unchanged. You \
             can withdraw at any time with effect for the future.{then_en}</p>",
            c = esc(company),
        ),
    )
}

/// `POST /doi/{token}`: confirms, recording time, IP and user agent as evidence. When the consent
/// also needs its phone number verified, a code goes by text message and the page asks for it;
/// the code (field `code`) or a request for a new one (`resend`) is posted to the same link.
pub async fn doi_confirm(State(s): State<AppState>, Path(token): Path<String>, req: Request) -> Response {
    let ip = client_ip(req.extensions());
    if let Err(wait) = s.limits.hit(&format!("post:{ip}"), crate::limits::POSTS_PER_IP, s.k.now().as_microsecond()) {
        return too_many(wait);
    }
    let ua = req.headers().get(header::USER_AGENT).and_then(|v| v.to_str().ok()).map(str::to_string);
    let Ok(body) = axum::body::to_bytes(req.into_body(), 4096).await else {
        return gone("Ungültige Anfrage.", "Bad request.", StatusCode::BAD_REQUEST);
    };
    let step = number::NumberStep::parse(&body);
    if step.is_some() {
        return match step.code {
            Some(code) => number::check_code(&s, number::Via::Link(&token), &code).await,
            None => number::send_code(&s, number::Via::Link(&token), ("", "")).await,
        };
    }
    match s.k.confirm_doi(&token, Some(&ip), ua.as_deref()).await {
        Ok(done) if done.consents.iter().any(|(_, missing)| konsent_service::otp::number_pending(missing)) => {
            let lead = if done.purpose == konsent_service::doi::Purpose::RepermissionSms {
                ("Vielen Dank, Ihre Erneuerung ist vermerkt.", "Thank you, your renewal is noted.")
            } else {
                ("Ihre E-Mail-Adresse ist bestätigt.", "Your e-mail address is confirmed.")
            };
            number::send_code(&s, number::Via::Link(&token), lead).await
        }
        Ok(_) => page(
            StatusCode::OK,
            "Vielen Dank – bestätigt",
            "Thank you – confirmed",
            "<p>Ihre Einwilligung ist bestätigt. Sie können sie jederzeit mit Wirkung für die Zukunft \
             widerrufen, zum Beispiel über den Abmeldelink in jeder unserer E-Mails.</p>\
             <p class=\"en\" lang=\"en\">Your consent is confirmed. You can withdraw it at any time with \
             effect for the future, for example through the unsubscribe link in each of our e-mails.</p>",
        ),
        Err(ServiceError::NotFound(_)) => unknown_link(),
        Err(ServiceError::Ended(_)) => ended(),
        Err(ServiceError::Conflict(m)) if m.contains("expired") => expired_link(),
        Err(ServiceError::Conflict(_)) => used_link(),
        Err(e) => internal(&e),
    }
}

/// 404 for a link we do not know.
pub(crate) fn unknown_link() -> Response {
    gone("Diesen Link kennen wir nicht.", "We do not know this link.", StatusCode::NOT_FOUND)
}

/// 409 for a confirmation link already used.
fn used_link() -> Response {
    gone("Dieser Link wurde bereits verwendet.", "This link was already used.", StatusCode::CONFLICT)
}

/// 410 for a confirmation link past its expiry.
fn expired_link() -> Response {
    gone(
        "Dieser Link ist abgelaufen. Bitte melden Sie sich erneut an.",
        "This link has expired. Please sign up again.",
        StatusCode::GONE,
    )
}

/// 410 for a link whose consent was withdrawn or ended after it was sent.
pub(crate) fn ended() -> Response {
    gone(
        "Diese Einwilligung wurde inzwischen widerrufen oder beendet; der Link bestätigt nichts mehr. \
         Wenn Sie wieder Nachrichten erhalten möchten, melden Sie sich bitte neu an.",
        "This consent was withdrawn or has ended since; the link confirms nothing any more. To hear \
         from us again, please sign up anew.",
        StatusCode::GONE,
    )
}

/// 429 with `Retry-After`.
pub(crate) fn too_many(retry_after: i64) -> Response {
    let mut r = page(
        StatusCode::TOO_MANY_REQUESTS,
        "Zu viele Anfragen",
        "Too many requests",
        &format!(
            "<p>Bitte versuchen Sie es in {retry_after} Sekunden noch einmal.</p>\
             <p class=\"en\" lang=\"en\">Please try again in {retry_after} seconds.</p>"
        ),
    );
    if let Ok(v) = HeaderValue::from_str(&retry_after.to_string()) {
        r.headers_mut().insert(header::RETRY_AFTER, v);
    }
    r
}

/// The client's IP as the connection shows it (`local` in-process).
pub(crate) fn client_ip(req_ext: &axum::http::Extensions) -> String {
    req_ext.get::<ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip().to_string()).unwrap_or_else(|| "local".into())
}

pub(crate) fn internal(e: &ServiceError) -> Response {
    tracing::error!(error = %e, "confirmation page failed");
    page(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Technischer Fehler",
        "Technical error",
        "<p>Bitte versuchen Sie es später noch einmal.</p><p class=\"en\" lang=\"en\">Please try again later.</p>",
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_markup() {
        assert_eq!(super::esc("<a href=\"x\">&'"), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
    }
}
