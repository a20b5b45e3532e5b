//! The hosted signup form `/f/{slug}`: only the fields the offered channels need (R12; the
//! residential address only where calls are offered, R20), one
//! unticked box per channel (R4, R9), the full consent text and the advertisers it names, a
//! honeypot instead of third-party captchas. Each serve is logged and the submission points to it.

use std::collections::BTreeSet;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use konsent_domain::channel::Channel;
use konsent_service::ServiceError;
use konsent_service::forms::{ServedForm, Submission, Submitted};

use super::{client_ip, esc, framable_page, framed_by, gone, internal, number, page, too_many};
use crate::AppState;
use crate::limits;

/// The browser-side proof of work: finds an answer whose SHA-256 with the serve id starts with
/// enough zero bits, then submits. Runs only where the form asks for it.
fn pow_script(nonce: &str, bits: u32) -> String {
    format!(
        "<script nonce=\"{nonce}\">(function(){{var f=document.querySelector('form');var done=false;\
         f.addEventListener('submit',async function(e){{if(done)return;e.preventDefault();\
         var c=f.querySelector('[name=serve_id]').value,enc=new TextEncoder();\
         for(var n=0;;n++){{var h=new Uint8Array(await crypto.subtle.digest('SHA-256',enc.encode(c+':'+n)));\
         var v=((h[0]<<24)|(h[1]<<16)|(h[2]<<8)|h[3])>>>0;if(Math.clz32(v)>={bits}){{\
         f.querySelector('[name=pow]').value=String(n);done=true;f.submit();return;}}}}}});}})();</script>"
    )
}

fn form_html(f: &ServedForm) -> String {
    let offers_email = f.form.channels.contains(&Channel::Email);
    let offers_phone = f.form.channels.iter().any(|c| !matches!(c, Channel::Email | Channel::Post));
    let companies: Vec<String> =
        f.advertisers.iter().map(|a| format!("{} ({})", esc(&a.legal_name), esc(&a.seat))).collect();
    let mut h = String::new();
    h.push_str(&format!(
        "<p>Verantwortlich / controller: {}</p><form method=\"post\">\
         <input type=\"hidden\" name=\"serve_id\" value=\"{}\"><input type=\"hidden\" name=\"pow\" value=\"\">\
         <div class=\"hp\" aria-hidden=\"true\"><label for=\"website\">Website</label>\
         <input type=\"text\" id=\"website\" name=\"website\" tabindex=\"-1\" autocomplete=\"off\"></div>\
         <p><label for=\"first_name\">Vorname / First name</label><br>\
         <input type=\"text\" id=\"first_name\" name=\"first_name\" required autocomplete=\"given-name\"></p>\
         <p><label for=\"last_name\">Nachname / Last name</label><br>\
         <input type=\"text\" id=\"last_name\" name=\"last_name\" required autocomplete=\"family-name\"></p>",
        companies.join(", "),
        esc(&f.serve_id)
    ));
    if offers_email {
        h.push_str(
            "<p><label for=\"email\">E-Mail-Adresse / e-mail address</label><br>\
             <input type=\"email\" id=\"email\" name=\"email\" autocomplete=\"email\"></p>",
        );
    }
    if offers_phone {
        h.push_str(
            "<p><label for=\"phone\">Telefonnummer / phone number</label><br>\
             <input type=\"tel\" id=\"phone\" name=\"phone\" autocomplete=\"tel\"></p>",
        );
    }
    if f.form.offers_calls() {
        // Phone advertising needs the residential address on record (§ 7a UWG, R20).
        h.push_str(
            "<fieldset><legend>Wohnanschrift (nur für Telefonwerbung) / residential address (only for \
             phone advertising)</legend>\
             <p><label for=\"street\">Straße und Hausnummer / street and number</label><br>\
             <input type=\"text\" id=\"street\" name=\"street\" autocomplete=\"street-address\"></p>\
             <p><label for=\"postcode\">Postleitzahl / postcode</label><br>\
             <input type=\"text\" id=\"postcode\" name=\"postcode\" autocomplete=\"postal-code\" \
             inputmode=\"numeric\"></p>\
             <p><label for=\"city\">Ort / city</label><br>\
             <input type=\"text\" id=\"city\" name=\"city\" autocomplete=\"address-level2\"></p></fieldset>",
        );
    }
    h.push_str("<fieldset><legend>Ich willige ein in Werbung per … / I consent to advertising by …</legend>");
    for c in &f.form.channels {
        let code = c.as_str();
        h.push_str(&format!(
            "<p><input type=\"checkbox\" id=\"ch-{code}\" name=\"channel\" value=\"{code}\"> \
             <label for=\"ch-{code}\">{}</label></p>",
            esc(c.label_de())
        ));
    }
    h.push_str(&format!(
        "</fieldset><h2>{}</h2><div class=\"text\">{}</div>\
         <p><a href=\"{}\">Datenschutzhinweise / privacy notice</a> (Version {})</p>\
         <p><button type=\"submit\">Absenden / Submit</button></p></form>",
        esc(&f.text.title),
        esc(&f.text.body),
        esc(&f.text.privacy_notice.url),
        esc(&f.text.privacy_notice.version)
    ));
    h
}

/// `GET /f/{slug}`: the form; the serve is logged with the text version shown.
pub async fn form_page(State(s): State<AppState>, Path(slug): Path<String>, req: Request) -> Response {
    let ip = client_ip(req.extensions());
    if let Err(wait) = s.limits.hit(&format!("view:{ip}"), limits::FORM_VIEWS, s.k.now().as_microsecond()) {
        return too_many(wait);
    }
    match s.k.serve_form(&slug).await {
        Ok(Some((_, f))) => {
            let ancestors = if f.form.embed_origins.is_empty() {
                "'none'".to_string()
            } else {
                f.form.embed_origins.iter().cloned().collect::<Vec<_>>().join(" ")
            };
            let mut html = form_html(&f);
            let nonce = f.form.proof_of_work.then(|| f.serve_id.replace('-', ""));
            if let Some(n) = &nonce {
                html.push_str(&pow_script(n, konsent_domain::form::POW_BITS));
            }
            framable_page(StatusCode::OK, &f.form.title, "Sign up", &html, &ancestors, nonce.as_deref())
        }
        Ok(None) => gone("Dieses Formular gibt es nicht.", "There is no such form.", StatusCode::NOT_FOUND),
        Err(e) => internal(&e),
    }
}

/// `POST /f/{slug}`: a submission (`application/x-www-form-urlencoded`).
pub async fn form_submit(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    connect: Option<axum::Extension<ConnectInfo<std::net::SocketAddr>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let ip = connect.map(|c| c.0.0.ip().to_string()).unwrap_or_else(|| "local".into());
    let now = s.k.now().as_microsecond();
    if let Err(wait) = s.limits.hit(&format!("post:{ip}"), limits::POSTS_PER_IP, now) {
        return too_many(wait);
    }
    let mut sub = Submission {
        request: (Some(ip), headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).map(str::to_string)),
        ..Default::default()
    };
    let mut channels = BTreeSet::new();
    let mut bad_channel = false;
    for (k, v) in form_urlencoded::parse(&body) {
        match k.as_ref() {
            "serve_id" => sub.serve_id = v.into_owned(),
            "first_name" => sub.first_name = v.into_owned(),
            "last_name" => sub.last_name = v.into_owned(),
            "email" => sub.email = v.into_owned(),
            "phone" => sub.phone = v.into_owned(),
            "street" => sub.address[0] = v.into_owned(),
            "postcode" => sub.address[1] = v.into_owned(),
            "city" => sub.address[2] = v.into_owned(),
            "website" => sub.honeypot = v.into_owned(),
            "pow" => sub.pow = v.into_owned(),
            "channel" => match v.parse::<Channel>() {
                Ok(c) => {
                    channels.insert(c);
                }
                Err(_) => bad_channel = true,
            },
            _ => {}
        }
    }
    sub.channels = channels;
    // Keyed by a hash: the limiter holds no addresses.
    let address = konsent_domain::crypto::sha256_hex(sub.email.trim().to_lowercase().as_bytes());
    if !sub.email.trim().is_empty()
        && let Err(wait) = s.limits.hit(&format!("addr:{address}"), limits::POSTS_PER_ADDRESS, now)
    {
        return too_many(wait);
    }
    // Each submission with a number may send it a text message: limited per number as well.
    if let Ok(p) = konsent_domain::contact::PhoneE164::parse(sub.phone.trim()) {
        let number = konsent_domain::crypto::sha256_hex(p.as_str().as_bytes());
        if let Err(wait) = s.limits.hit(&format!("num:{number}"), limits::POSTS_PER_ADDRESS, now) {
            return too_many(wait);
        }
    }
    if bad_channel {
        return invalid(&[("channel".into(), "unknown channel".into())]);
    }
    // The pages that follow stay in the frame the form is embedded in.
    let origins = embed_origins(&s, &slug).await;
    let res = match s.k.submit_form(&slug, sub).await {
        Ok(Submitted::Recorded { doi: false, number: Some(reference) }) => number::code_sent(
            &s,
            number::Via::Form(&slug, &reference),
            ("Wir haben Ihre Angaben erhalten.", "We have received your details."),
        ),
        Ok(Submitted::Recorded { doi: true, .. }) | Ok(Submitted::Ignored) => page(
            StatusCode::OK,
            "Fast geschafft",
            "Almost done",
            "<p>Wir haben Ihnen eine E-Mail geschickt. Bitte öffnen Sie den Link darin und bestätigen \
             Sie Ihre Einwilligung. Erst dann wird sie wirksam.</p>\
             <p class=\"en\" lang=\"en\">We have sent you an e-mail. Please open its link and confirm your \
             consent; only then does it take effect.</p>",
        ),
        Ok(Submitted::Recorded { doi: false, number: None }) => page(
            StatusCode::OK,
            "Vielen Dank",
            "Thank you",
            "<p>Wir haben Ihre Angaben erhalten. Bevor wir Sie anrufen oder Ihnen Nachrichten senden, \
             bestätigen wir Ihre Telefonnummer.</p>\
             <p class=\"en\" lang=\"en\">We have received your details. Before we call you or send you \
             messages, we verify your phone number.</p>",
        ),
        Err(ServiceError::Invalid(errors)) => {
            invalid(&errors.into_iter().map(|e| (e.field, e.message)).collect::<Vec<_>>())
        }
        Err(ServiceError::NotFound(_)) => {
            gone("Dieses Formular gibt es nicht.", "There is no such form.", StatusCode::NOT_FOUND)
        }
        Err(e) => internal(&e),
    };
    framed_by(res, &origins)
}

/// `POST /f/{slug}/code/{reference}`: the code (field `code`), or a request for a new one (`resend`), for
/// the number of a consent a form without e-mail just took.
pub async fn number_step(
    State(s): State<AppState>,
    Path((slug, reference)): Path<(String, String)>,
    connect: Option<axum::Extension<ConnectInfo<std::net::SocketAddr>>>,
    body: Bytes,
) -> Response {
    let ip = connect.map(|c| c.0.0.ip().to_string()).unwrap_or_else(|| "local".into());
    if let Err(wait) = s.limits.hit(&format!("post:{ip}"), limits::POSTS_PER_IP, s.k.now().as_microsecond()) {
        return too_many(wait);
    }
    let via = number::Via::Form(&slug, &reference);
    let res = match number::NumberStep::parse(&body).code {
        Some(code) => number::check_code(&s, via, &code).await,
        None => number::send_code(&s, via, ("", "")).await,
    };
    let origins = embed_origins(&s, &slug).await;
    framed_by(res, &origins)
}

/// The origins that may embed a form (none when there is no such form).
async fn embed_origins(s: &AppState, slug: &str) -> std::collections::BTreeSet<String> {
    match konsent_store::queries::form(&s.k.db, slug).await {
        Ok(Some((_, f))) => f.embed_origins,
        _ => Default::default(),
    }
}

/// The label a person sees next to a field of the form, for naming it in an error.
fn label(field: &str) -> &str {
    match field {
        "first_name" => "Vorname / first name",
        "last_name" => "Nachname / last name",
        "email" => "E-Mail-Adresse / e-mail address",
        "phone" => "Telefonnummer / phone number",
        "street" => "Straße und Hausnummer / street and number",
        "postcode" => "Postleitzahl / postcode",
        "city" => "Ort / city",
        "address" => "Wohnanschrift / residential address",
        "channel" | "channels" => "Einwilligung / consent",
        "serve_id" => "Seite / page",
        "pow" => "Spamschutz / spam protection",
        other => other,
    }
}

fn invalid(errors: &[(String, String)]) -> Response {
    let items: String = errors
        .iter()
        .map(|(f, m)| format!("<li data-field=\"{}\"><strong>{}</strong>: {}</li>", esc(f), esc(label(f)), esc(m)))
        .collect();
    page(
        StatusCode::UNPROCESSABLE_ENTITY,
        "Bitte prüfen Sie Ihre Angaben",
        "Please check your entries",
        &format!("<ul>{items}</ul><p><a href=\"\">Zurück zum Formular / back to the form</a></p>"),
    )
}
