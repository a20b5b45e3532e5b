//! The preference centre `/p/{token}` (see and withdraw each consent, withdraw all, object to all
//! direct marketing) and one-click unsubscribe `/u/{token}` (RFC 8058: its POST withdraws at once
//! without login; its GET only asks). The tokens are signed links from the mails.

use axum::body::Bytes;
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use konsent_domain::consent::ConsentStatus;
use konsent_domain::ids::ConsentId;
use konsent_service::prefs::LinkClaim;

use super::{client_ip, esc, internal, page, too_many};
use crate::AppState;
use crate::limits;

use super::unknown_link as unknown;

async fn centre(s: &AppState, token: &str, claim: &LinkClaim, note: Option<(&str, &str)>) -> Response {
    let items = match s.k.preferences(claim).await {
        Ok(i) => i,
        Err(e) => return internal(&e),
    };
    let mut h = String::new();
    if let Some((de, en)) = note {
        h.push_str(&format!(
            "<p role=\"status\"><strong>{}</strong> <span lang=\"en\">/ {}</span></p>",
            esc(de),
            esc(en)
        ));
    }
    h.push_str("<h2>Ihre Einwilligungen / your consents</h2>");
    if items.is_empty() {
        h.push_str("<p>Keine / none.</p>");
    }
    for i in &items {
        let channels: Vec<&str> = i.record.scope.channels.iter().map(|c| c.label_de()).collect();
        h.push_str(&format!(
            "<section><h3>{}</h3><p>Kanäle / channels: {}<br>Status: {}</p>",
            esc(&i.title),
            esc(&channels.join(", ")),
            esc(i.record.status.label_de())
        ));
        if i.record.status != ConsentStatus::Withdrawn {
            h.push_str(&format!(
                "<form method=\"post\" action=\"/p/{t}\"><input type=\"hidden\" name=\"action\" value=\"withdraw\">\
                 <input type=\"hidden\" name=\"consent\" value=\"{id}\">\
                 <button type=\"submit\">Widerrufen / withdraw</button></form>",
                t = esc(token),
                id = i.record.id
            ));
        }
        h.push_str("</section>");
    }
    h.push_str(&format!(
        "<h2>Alles auf einmal / everything at once</h2>\
         <form method=\"post\" action=\"/p/{t}\"><input type=\"hidden\" name=\"action\" value=\"withdraw_all\">\
         <button type=\"submit\">Alle Einwilligungen widerrufen / withdraw all consents</button></form>\
         <form method=\"post\" action=\"/p/{t}\"><input type=\"hidden\" name=\"action\" value=\"object\">\
         <p><button type=\"submit\">Jeder Werbung widersprechen (Art. 21 DSGVO) / object to all direct marketing</button></p></form>\
         <form method=\"post\" action=\"/p/{t}\"><input type=\"hidden\" name=\"action\" value=\"copy\">\
         <p><button type=\"submit\">Kopie meiner Daten anfordern (Art. 15 DSGVO) / request a copy of my data</button></p></form>\
         <p class=\"en\" lang=\"en\">A withdrawal takes effect immediately for the future.</p>",
        t = esc(token)
    ));
    page(StatusCode::OK, "Ihre Einstellungen", "Your preferences", &h)
}

/// `GET /p/{token}`.
pub async fn prefs_page(State(s): State<AppState>, Path(token): Path<String>) -> Response {
    match s.k.open_link(&token) {
        Some(claim) if claim.u.is_none() => centre(&s, &token, &claim, None).await,
        _ => unknown(),
    }
}

/// `POST /p/{token}` with `action` = `withdraw` (and `consent`), `withdraw_all` or `object`.
pub async fn prefs_post(State(s): State<AppState>, Path(token): Path<String>, req: Request) -> Response {
    let ip = client_ip(req.extensions());
    if let Err(wait) = s.limits.hit(&format!("post:{ip}"), limits::POSTS_PER_IP, s.k.now().as_microsecond()) {
        return too_many(wait);
    }
    let Some(claim) = s.k.open_link(&token).filter(|c| c.u.is_none()) else { return unknown() };
    let body: Bytes = match axum::body::to_bytes(req.into_body(), 16 * 1024).await {
        Ok(b) => b,
        Err(_) => return unknown(),
    };
    let (mut action, mut consent) = (String::new(), String::new());
    for (k, v) in form_urlencoded::parse(&body) {
        match k.as_ref() {
            "action" => action = v.into_owned(),
            "consent" => consent = v.into_owned(),
            _ => {}
        }
    }
    let done = match action.as_str() {
        "withdraw" => match consent.parse::<ConsentId>() {
            Ok(id) => s.k.withdraw_by_person(&claim, id).await.map(|_| ("Widerrufen.", "Withdrawn.")),
            Err(_) => return unknown(),
        },
        "withdraw_all" => s.k.withdraw_all_by_person(&claim).await.map(|_| ("Alle widerrufen.", "All withdrawn.")),
        "object" => s.k.object_by_person(&claim).await.map(|_| ("Widerspruch erfasst.", "Objection recorded.")),
        "copy" => s.k.request_access_by_person(&claim).await.map(|_| {
            (
                "Anfrage erhalten: Sie erhalten die Kopie innerhalb eines Monats.",
                "Request received: you will receive the copy within a month.",
            )
        }),
        _ => return unknown(),
    };
    match done {
        Ok(note) => centre(&s, &token, &claim, Some(note)).await,
        Err(konsent_service::ServiceError::NotFound(_)) => unknown(),
        Err(e) => internal(&e),
    }
}

/// `GET /u/{token}`: asks; unsubscribes nothing (mail scanners open links).
pub async fn unsubscribe_page(State(s): State<AppState>, Path(token): Path<String>) -> Response {
    match s.k.open_link(&token) {
        Some(c) if c.u.is_some() => page(
            StatusCode::OK,
            "Abmelden",
            "Unsubscribe",
            &format!(
                "<p>Möchten Sie keine E-Mails mehr von uns erhalten?</p>\
                 <form method=\"post\" action=\"/u/{}\"><button type=\"submit\">Abmelden / unsubscribe</button></form>\
                 <p class=\"en\" lang=\"en\">Do you no longer want to receive our e-mails?</p>",
                esc(&token)
            ),
        ),
        _ => unknown(),
    }
}

/// `POST /u/{token}`: RFC 8058 one-click (body `List-Unsubscribe=One-Click`) or the page's button.
pub async fn unsubscribe_post(State(s): State<AppState>, Path(token): Path<String>, req: Request) -> Response {
    let ip = client_ip(req.extensions());
    if let Err(wait) = s.limits.hit(&format!("post:{ip}"), limits::POSTS_PER_IP, s.k.now().as_microsecond()) {
        return too_many(wait);
    }
    let Some(claim) = s.k.open_link(&token).filter(|c| c.u.is_some()) else { return unknown() };
    match s.k.unsubscribe(&claim).await {
        Ok(()) => page(
            StatusCode::OK,
            "Abgemeldet",
            "Unsubscribed",
            "<p>Sie erhalten von uns keine E-Mails mehr zu dieser Einwilligung.</p>\
             <p class=\"en\" lang=\"en\">You will no longer receive our e-mails under this consent.</p>",
        ),
        Err(konsent_service::ServiceError::NotFound(_)) => unknown(),
        Err(e) => internal(&e),
    }
}
