//! What newsletter tools send back: unsubscribes, bounces and complaints from Mailchimp, HubSpot
//! and CleverReach in the shapes they really post, parsed into [`Signal`]s; and HubSpot's v3
//! request signature. A payload that is not understood names the field that is wrong.
//!
//! Sources: Mailchimp "Sync audience data with webhooks" (form-encoded `type`, `fired_at`,
//! `data[…]`; GET to validate the URL); HubSpot "Validating requests" (v3: HMAC-SHA256 over method,
//! URI, body and timestamp, base64; refuse timestamps older than 5 minutes) and the webhooks API
//! event shape (`subscriptionType`, `objectId`, `propertyName`, `propertyValue`, …); CleverReach
//! REST "Webhooks" how-to (JSON `event`, `condition`, `payload`; header `X-CR-Calltoken`; GET
//! `?secret=` answered with "<verify token> <secret>"). Inferred where marked.

use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;

use crate::contact::EmailAddress;
use crate::crypto::hmac256;

/// A newsletter tool that calls back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    /// Mailchimp audience webhooks.
    Mailchimp,
    /// HubSpot webhooks (app subscriptions).
    Hubspot,
    /// CleverReach event hooks.
    Cleverreach,
}

impl Provider {
    /// The name in URLs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Mailchimp => "mailchimp",
            Self::Hubspot => "hubspot",
            Self::Cleverreach => "cleverreach",
        }
    }
}

impl FromStr for Provider {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "mailchimp" => Ok(Self::Mailchimp),
            "hubspot" => Ok(Self::Hubspot),
            "cleverreach" => Ok(Self::Cleverreach),
            _ => Err("unknown provider; known: mailchimp, hubspot, cleverreach".into()),
        }
    }
}

/// What the tool reports about an address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SignalKind {
    /// The person unsubscribed: withdrawal of e-mail consent and a suppression entry.
    Unsubscribe,
    /// The address bounced hard (was cleaned): a suppression entry (bounce).
    Bounce,
    /// The person reported the mail as spam: withdrawal and a suppression entry (complaint).
    Complaint,
}

/// Whom a signal concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    /// An e-mail address.
    Email(EmailAddress),
    /// A HubSpot contact, by its object id (resolved through an earlier `email` change).
    HubspotContact(String),
}

/// One unsubscribe, bounce or complaint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signal {
    /// What happened.
    pub kind: SignalKind,
    /// To whom.
    pub subject: Subject,
}

/// A parsed call.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Parsed {
    /// What to act on, in order.
    pub signals: Vec<Signal>,
    /// HubSpot contacts whose address a call reported (object id, address).
    pub learned: Vec<(String, EmailAddress)>,
    /// Events understood and deliberately ignored (subscribes, profile changes, …).
    pub ignored: usize,
}

/// A payload that is not understood: the field and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadPayload {
    /// The field, e.g. `data[email]`, `[0].subscriptionType`, `payload.email`.
    pub field: String,
    /// What is wrong (no values echoed).
    pub message: String,
}

fn bad(field: impl Into<String>, message: impl Into<String>) -> BadPayload {
    BadPayload { field: field.into(), message: message.into() }
}

fn email(field: &str, v: Option<&str>) -> Result<EmailAddress, BadPayload> {
    let v = v.filter(|s| !s.trim().is_empty()).ok_or_else(|| bad(field, "is required"))?;
    EmailAddress::parse(v).map_err(|_| bad(field, "is not an e-mail address"))
}

/// Mailchimp: `application/x-www-form-urlencoded` with `type` and `data[…]`.
/// `unsubscribe` (`data[action]` unsub or delete) is an unsubscribe, or a complaint when
/// `data[reason]` is `abuse`; `cleaned` is a bounce (`data[reason]` hard), or a complaint when the
/// reason is `abuse`. `subscribe`, `profile`, `upemail` and `campaign` are ignored: a subscription
/// in the tool is no consent here (that needs Konsent's own double opt-in).
pub fn mailchimp(body: &[u8]) -> Result<Parsed, BadPayload> {
    let mut kind: Option<String> = None;
    let mut address: Option<String> = None;
    let mut reason: Option<String> = None;
    for (k, v) in form_urlencoded::parse(body) {
        match k.as_ref() {
            "type" => kind = Some(v.into_owned()),
            "data[email]" => address = Some(v.into_owned()),
            "data[reason]" => reason = Some(v.into_owned()),
            _ => {}
        }
    }
    let kind = kind.ok_or_else(|| bad("type", "is required"))?;
    let reason = reason.unwrap_or_default();
    let signal = match kind.as_str() {
        "unsubscribe" if reason == "abuse" => SignalKind::Complaint,
        "unsubscribe" => SignalKind::Unsubscribe,
        "cleaned" if reason == "abuse" => SignalKind::Complaint,
        "cleaned" => SignalKind::Bounce,
        "subscribe" | "profile" | "upemail" | "campaign" => return Ok(Parsed { ignored: 1, ..Default::default() }),
        _ => return Err(bad("type", "is not a Mailchimp audience event")),
    };
    let subject = Subject::Email(email("data[email]", address.as_deref())?);
    Ok(Parsed { signals: vec![Signal { kind: signal, subject }], ..Default::default() })
}

/// HubSpot: a JSON array of webhook events. HubSpot names contacts by `objectId` only, so a
/// `propertyChange` of `email` teaches the address of an object (kept as a keyed hash by the
/// caller), and a change of `hs_email_optout` to `true` unsubscribes that object;
/// `hs_email_hard_bounce_reason_enum` set to a value is a hard bounce (inferred from the property's
/// meaning: HubSpot documents the property, not a bounce event). Other events are ignored.
pub fn hubspot(body: &[u8]) -> Result<Parsed, BadPayload> {
    let v: Value = serde_json::from_slice(body).map_err(|_| bad("body", "is not JSON"))?;
    let events = v.as_array().ok_or_else(|| bad("body", "must be a JSON array of HubSpot events"))?;
    if events.len() > 1000 {
        return Err(bad("body", "has more than 1000 events"));
    }
    let mut out = Parsed::default();
    for (i, e) in events.iter().enumerate() {
        let field = |f: &str| format!("[{i}].{f}");
        let kind = e
            .get("subscriptionType")
            .and_then(Value::as_str)
            .ok_or_else(|| bad(field("subscriptionType"), "is required"))?;
        let contact = match kind {
            "contact.propertyChange" => true,
            "object.propertyChange" => e.get("objectTypeId").and_then(Value::as_str) == Some("0-1"),
            _ => false,
        };
        if !contact {
            out.ignored += 1;
            continue;
        }
        let object = match e.get("objectId") {
            Some(Value::Number(n)) => n.to_string(),
            Some(Value::String(s)) if !s.is_empty() && s.len() <= 40 => s.clone(),
            _ => return Err(bad(field("objectId"), "is required")),
        };
        let name =
            e.get("propertyName").and_then(Value::as_str).ok_or_else(|| bad(field("propertyName"), "is required"))?;
        let value = e.get("propertyValue").and_then(Value::as_str).unwrap_or("");
        match name {
            "email" if !value.is_empty() => {
                out.learned.push((object, email(&field("propertyValue"), Some(value))?));
            }
            "hs_email_optout" if value.eq_ignore_ascii_case("true") => {
                out.signals.push(Signal { kind: SignalKind::Unsubscribe, subject: Subject::HubspotContact(object) });
            }
            "hs_email_hard_bounce_reason_enum" if !value.is_empty() => {
                out.signals.push(Signal { kind: SignalKind::Bounce, subject: Subject::HubspotContact(object) });
            }
            _ => out.ignored += 1,
        }
    }
    Ok(out)
}

/// CleverReach: JSON `{"event", "condition", "payload"}`; `receiver.unsubscribed` is an
/// unsubscribe. The documented payload names the receiver by `pool_id` and `group_id`; Konsent
/// cannot ask CleverReach for the address, so it takes it from `payload.email` (inferred: the
/// address field of CleverReach's receiver objects) and refuses a call without it (422), so a lost
/// unsubscribe shows up in CleverReach's hook log instead of vanishing. Other events are ignored.
pub fn cleverreach(body: &[u8]) -> Result<Parsed, BadPayload> {
    let v: Value = serde_json::from_slice(body).map_err(|_| bad("body", "is not JSON"))?;
    let event = v.get("event").and_then(Value::as_str).ok_or_else(|| bad("event", "is required"))?;
    if event != "receiver.unsubscribed" {
        return Ok(Parsed { ignored: 1, ..Default::default() });
    }
    let payload = v.get("payload").filter(|p| p.is_object()).ok_or_else(|| bad("payload", "is required"))?;
    let subject = Subject::Email(email("payload.email", payload.get("email").and_then(Value::as_str))?);
    Ok(Parsed { signals: vec![Signal { kind: SignalKind::Unsubscribe, subject }], ..Default::default() })
}

/// Why a HubSpot request is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HubspotAuth {
    /// A header is missing or malformed.
    Missing(&'static str),
    /// The timestamp is more than five minutes away from now.
    Stale,
    /// The signature does not match.
    BadSignature,
}

/// Checks HubSpot's v3 signature: base64(HMAC-SHA256(client secret, method + URI + body +
/// timestamp)), where the URI is the full URL HubSpot called with some percent-escapes decoded,
/// and the timestamp (milliseconds) is at most five minutes old.
pub fn hubspot_verify(
    secret: &str,
    method: &str,
    uri: &str,
    body: &[u8],
    timestamp: Option<&str>,
    signature: Option<&str>,
    now_ms: i64,
) -> Result<(), HubspotAuth> {
    let ts = timestamp.ok_or(HubspotAuth::Missing("X-HubSpot-Request-Timestamp"))?;
    let sig = signature.ok_or(HubspotAuth::Missing("X-HubSpot-Signature-v3"))?;
    let ms: i64 = ts.trim().parse().map_err(|_| HubspotAuth::Missing("X-HubSpot-Request-Timestamp"))?;
    if (now_ms - ms).abs() > 5 * 60 * 1000 {
        return Err(HubspotAuth::Stale);
    }
    let mut msg = Vec::with_capacity(method.len() + uri.len() + body.len() + ts.len());
    msg.extend_from_slice(method.as_bytes());
    msg.extend_from_slice(hubspot_uri(uri).as_bytes());
    msg.extend_from_slice(body);
    msg.extend_from_slice(ts.as_bytes());
    let expected = STANDARD.encode(hmac256(secret.as_bytes(), &msg));
    if super::same(expected.as_bytes(), sig.trim().as_bytes()) { Ok(()) } else { Err(HubspotAuth::BadSignature) }
}

/// The URI as HubSpot signs it: these escapes decoded (HubSpot's list).
fn hubspot_uri(uri: &str) -> String {
    const DECODE: [(&str, &str); 12] = [
        ("%3A", ":"),
        ("%2F", "/"),
        ("%3F", "?"),
        ("%40", "@"),
        ("%21", "!"),
        ("%24", "$"),
        ("%27", "'"),
        ("%28", "("),
        ("%29", ")"),
        ("%2A", "*"),
        ("%2C", ","),
        ("%3B", ";"),
    ];
    let mut s = uri.to_string();
    for (from, to) in DECODE {
        s = s.replace(from, to).replace(&from.to_lowercase(), to);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mailchimp_shapes() {
        let p = mailchimp(b"type=unsubscribe&fired_at=2009-03-26+21%3A40%3A57&data%5Baction%5D=unsub&data%5Breason%5D=manual&data%5Bid%5D=8a25ff1d98&data%5Blist_id%5D=a6b5da1054&data%5Bemail%5D=api%2Bunsub%40mailchimp.com&data%5Bemail_type%5D=html&data%5Bmerges%5D%5BFNAME%5D=Mailchimp").unwrap();
        assert_eq!(p.signals.len(), 1);
        assert_eq!(p.signals[0].kind, SignalKind::Unsubscribe);
        let p = mailchimp(b"type=cleaned&data%5Blist_id%5D=a6b5da1054&data%5Bcampaign_id%5D=4fjk2ma9xd&data%5Breason%5D=hard&data%5Bemail%5D=api%2Bcleaned%40mailchimp.com").unwrap();
        assert_eq!(p.signals[0].kind, SignalKind::Bounce);
        let p = mailchimp(b"type=unsubscribe&data%5Breason%5D=abuse&data%5Bemail%5D=a%40b.de").unwrap();
        assert_eq!(p.signals[0].kind, SignalKind::Complaint);
        assert_eq!(mailchimp(b"type=subscribe&data%5Bemail%5D=a%40b.de").unwrap().ignored, 1);
        assert_eq!(mailchimp(b"type=unsubscribe").unwrap_err().field, "data[email]");
        assert_eq!(mailchimp(b"data%5Bemail%5D=a%40b.de").unwrap_err().field, "type");
        assert_eq!(mailchimp(b"type=delete_everything").unwrap_err().field, "type");
    }

    #[test]
    fn hubspot_events_and_signature() {
        let body = br#"[{"eventId":1,"subscriptionId":2,"portalId":3,"appId":4,"occurredAt":1,"subscriptionType":"contact.propertyChange","attemptNumber":0,"objectId":123,"propertyName":"email","propertyValue":"anna@example.de","changeSource":"CRM"},
            {"eventId":2,"subscriptionType":"contact.propertyChange","objectId":123,"propertyName":"hs_email_optout","propertyValue":"true"},
            {"eventId":3,"subscriptionType":"contact.creation","objectId":124}]"#;
        let p = hubspot(body).unwrap();
        assert_eq!(p.learned[0].0, "123");
        assert_eq!(
            p.signals,
            vec![Signal { kind: SignalKind::Unsubscribe, subject: Subject::HubspotContact("123".into()) }]
        );
        assert_eq!(p.ignored, 1);
        assert_eq!(hubspot(br#"[{"objectId":1}]"#).unwrap_err().field, "[0].subscriptionType");
        assert_eq!(hubspot(br#"{"a":1}"#).unwrap_err().field, "body");

        let secret = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy";
        let uri = "https://konsent.example/hooks/in/hubspot/tok";
        let ts = "1700000000000";
        let mut msg = b"POST".to_vec();
        msg.extend_from_slice(uri.as_bytes());
        msg.extend_from_slice(body);
        msg.extend_from_slice(ts.as_bytes());
        let sig = STANDARD.encode(hmac256(secret.as_bytes(), &msg));
        let now = 1_700_000_060_000;
        assert_eq!(hubspot_verify(secret, "POST", uri, body, Some(ts), Some(&sig), now), Ok(()));
        assert_eq!(
            hubspot_verify(
                secret,
                "POST",
                "https://konsent.example/hooks/in/hubspot%2Ftok",
                body,
                Some(ts),
                Some(&sig),
                now
            ),
            Ok(())
        );
        assert_eq!(
            hubspot_verify("other", "POST", uri, body, Some(ts), Some(&sig), now),
            Err(HubspotAuth::BadSignature)
        );
        assert_eq!(
            hubspot_verify(secret, "POST", uri, body, Some(ts), Some(&sig), now + 6 * 60_000),
            Err(HubspotAuth::Stale)
        );
        assert!(matches!(
            hubspot_verify(secret, "POST", uri, body, None, Some(&sig), now),
            Err(HubspotAuth::Missing(_))
        ));
    }

    #[test]
    fn cleverreach_shapes() {
        let p = cleverreach(br#"{"event":"receiver.unsubscribed","condition":"1939","payload":{"pool_id":"42","group_id":"1939","email":"anna@example.de"}}"#).unwrap();
        assert_eq!(p.signals[0].kind, SignalKind::Unsubscribe);
        let e = cleverreach(
            br#"{"event":"receiver.unsubscribed","condition":"1939","payload":{"pool_id":"42","group_id":"1939"}}"#,
        )
        .unwrap_err();
        assert_eq!(e.field, "payload.email");
        assert_eq!(cleverreach(br#"{"event":"receiver.subscribed","payload":{}}"#).unwrap().ignored, 1);
        assert_eq!(cleverreach(b"[]").unwrap_err().field, "event");
    }
}
