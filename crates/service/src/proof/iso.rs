//! `proof.json`: the package's content as ISO/IEC TS 27560 consent records (the field names of
//! section 4 of the legal reference, DPV profile), with every event tied to its ledger hash.

use jiff::Timestamp;
use konsent_domain::consent::{CaptureMethod, ConsentRecord};
use konsent_domain::contact::ContactValue;
use konsent_domain::ledger::{Actor, EventBody};
use konsent_domain::proof::SCHEMA_VERSION;
use konsent_domain::retention::consent_proof_until;
use serde_json::{Value, json};

use super::gather::{Gathered, PersonProof, Proven};

/// A contact value as text.
pub(crate) fn contact_text(v: &ContactValue) -> String {
    match v {
        ContactValue::Email(e) => e.as_str().to_string(),
        ContactValue::Phone(p) => p.as_str().to_string(),
        ContactValue::Postal(a) => a.one_line(),
    }
}

/// How the person indicated consent (DPV hasIndicationMethod).
pub(crate) fn indication_method(c: &ConsentRecord) -> &'static str {
    match c.capture_method {
        CaptureMethod::WebForm | CaptureMethod::Api => "checkbox_click",
        CaptureMethod::PhoneCall => "recorded_verbal_statement",
        CaptureMethod::Paper => "signature",
        CaptureMethod::InPerson => "in_person_declaration",
        CaptureMethod::Import => "imported",
    }
}

fn actor_entity(a: &Actor) -> Value {
    match a {
        Actor::System => json!({"type": "system"}),
        Actor::ApiKey(id) => json!({"type": "agent_on_behalf", "api_key": id}),
        Actor::User(id) => json!({"type": "agent_on_behalf", "user": id}),
        Actor::DataSubject => json!({"type": "data_subject"}),
        Actor::Import(run) => json!({"type": "import", "run": run}),
    }
}

/// The entries of one consent, in order.
pub(crate) fn events_of<'a>(p: &'a PersonProof, c: &ConsentRecord) -> Vec<&'a Proven> {
    p.entries
        .iter()
        .filter(|e| match &e.entry.body {
            EventBody::ConsentRecorded { consent } => consent.id == c.id,
            EventBody::EvidenceAdded { consent_id, .. }
            | EventBody::DoiRequested { consent_id, .. }
            | EventBody::OtpSent { consent_id, .. }
            | EventBody::ReceiptIssued { consent_id, .. }
            | EventBody::ConsentStatusChanged { consent_id, .. }
            | EventBody::ConsentWithdrawn { consent_id, .. }
            | EventBody::ConsentApproved { consent_id, .. } => *consent_id == c.id,
            _ => false,
        })
        .collect()
}

fn event(p: &Proven, c: &ConsentRecord) -> Value {
    let e = &p.entry;
    let mut v = json!({
        "event_id": e.event_id.to_string(),
        "record_id": c.id.to_string(),
        "type": e.body.kind(),
        "recorded_at": e.recorded_at.to_string(),
        "actor_entity": actor_entity(&e.actor),
        "event_hash": p.raw.hash,
        "prev_event_hash": p.raw.prev_hash,
        "seq": p.raw.seq,
    });
    let (state, time): (Option<&str>, Timestamp) = match &e.body {
        EventBody::ConsentRecorded { consent } => {
            v["indication_method"] = json!(indication_method(consent));
            v["collection_method"] = json!(consent.capture_method);
            v["affirmative_action"] = json!(consent.affirmative_action);
            v["evidence"] = json!(consent.evidence);
            v["capture_offset_seconds"] = json!(consent.capture_offset_seconds);
            (Some(consent.status.as_str()), consent.given_at)
        }
        EventBody::EvidenceAdded { evidence, .. } => {
            v["evidence"] = json!([evidence]);
            (None, e.recorded_at)
        }
        EventBody::DoiRequested { message_id, token_hash, sent_at, .. } => {
            v["doi_message_id"] = json!(message_id);
            v["doi_token_hash"] = json!(token_hash);
            v["doi_sent_at"] = json!(sent_at.to_string());
            (None, *sent_at)
        }
        EventBody::OtpSent { at, .. } => {
            v["otp_sent_at"] = json!(at.to_string());
            (None, *at)
        }
        EventBody::ReceiptIssued { receipt_id, at, .. } => {
            v["receipt_id"] = json!(receipt_id);
            (None, *at)
        }
        EventBody::ConsentStatusChanged { to, reason, at, .. } => {
            v["reason"] = json!(reason);
            (Some(to.as_str()), *at)
        }
        EventBody::ConsentWithdrawn { scope_delta, via, receiving_agent, at, .. } => {
            v["scope_delta"] = json!(scope_delta);
            v["via"] = json!(via);
            v["receiving_agent"] = json!(receiving_agent);
            (Some(if scope_delta.is_some() { "ConsentGiven" } else { "ConsentWithdrawn" }), *at)
        }
        EventBody::ConsentApproved { at, .. } => (None, *at),
        _ => (None, e.recorded_at),
    };
    v["state"] = json!(state);
    v["event_time"] = json!(time.to_string());
    v
}

fn record(g: &Gathered, p: &PersonProof, c: &ConsentRecord) -> Value {
    let text = g.texts.get(&c.text_id);
    let controllers: Vec<Value> = g
        .advertisers
        .iter()
        .filter(|a| c.scope.advertisers.contains(&a.id))
        .map(|a| {
            json!({"id": a.id.to_string(), "legal_name": a.legal_name, "seat": a.seat,
                   "address_for_service": a.address_for_service.one_line()})
        })
        .collect();
    let phone = c.scope.channels.iter().any(|ch| ch.is_phone());
    let retention = consent_proof_until(c);
    let events: Vec<Value> = events_of(p, c).into_iter().map(|e| event(e, c)).collect();
    let recorded = events_of(p, c).first().map(|e| (e.raw.prev_hash.clone(), e.raw.hash.clone(), e.raw.checkpoint_seq));
    json!({
        "record_id": c.id.to_string(),
        "schema_version": SCHEMA_VERSION,
        "jurisdiction": "DE",
        "applicable_law": ["GDPR", "UWG"],
        "language": c.language,
        "created_at": c.recorded_at.to_string(),
        "integrity": recorded.map(|(prev, hash, cp)| json!({"prev_hash": prev, "hash": hash, "seal_ref": format!("checkpoint:{cp}")})),
        "pii_principal_id": p.person_id.to_string(),
        "contact_points": c.contact_points.iter().map(|id| id.to_string()).collect::<Vec<_>>(),
        "recipient_class": c.recipient_class,
        "controllers": controllers,
        "declaration_recipient": c.declaration_recipient,
        "purposes": [{"code": "direct_marketing", "text": text.map(|t| t.title.clone()), "category": "Marketing", "primary": true}],
        "channels": c.scope.channels,
        "product_categories": c.scope.product_categories,
        "legal_basis": if phone { vec!["GDPR-6-1-a", "UWG-7-2-Nr-1"] } else { vec!["GDPR-6-1-a", "UWG-7-2-Nr-2"] },
        "consent_type": "expressed",
        "pii_categories": ["name", "contact_data", "postal_address"],
        "retention_rule_ref": retention.map(|(_, d)| d.code()),
        "retain_until": retention.map(|(t, _)| t.to_string()),
        "storage_locations": ["EU"],
        "withdrawal_method": "Präferenzzentrum-Link in jeder E-Mail, Antwort STOP per SMS, formlos an den Werbenden",
        "privacy_notice_ref": text.map(|t| json!({"url": t.privacy_notice.url, "version": t.privacy_notice.version})),
        "consent_text": text.map(|t| json!({
            "consent_text_version_id": t.id.to_string(), "key": t.key, "version": t.version, "title": t.title,
            "body": t.body, "text_hash": t.sha256, "language": t.language, "valid_from": t.valid_from.to_string(),
        })),
        "validity": c.validity,
        "source": c.source,
        "collection_method": c.capture_method,
        "status": c.status.as_str(),
        "renews": c.renews.map(|id| id.to_string()),
        "granted_at": c.granted_at.map(|t| t.to_string()),
        "last_use_at": c.last_use_at.map(|t| t.to_string()),
        "approval_pending": c.approval_pending,
        "events": events,
    })
}

fn uses(p: &PersonProof) -> Vec<Value> {
    p.entries
        .iter()
        .filter_map(|e| match &e.entry.body {
            EventBody::UseRecorded { record: u } => Some(json!({
                "use_id": u.id.to_string(), "consent_record_ids": u.consent_ids, "campaign_id": u.campaign,
                "advertiser": u.advertiser_id.to_string(), "executing_party": u.executing_party,
                "agent_pseudonym": u.agent_pseudonym, "channel": u.channel, "contact_point": u.contact_point_id.to_string(),
                "attempt_at": u.at.to_string(), "outcome": u.outcome, "gate_decision_snapshot": u.decision_snapshot,
                "hash": e.raw.hash, "prev_hash": e.raw.prev_hash, "seq": e.raw.seq,
            })),
            _ => None,
        })
        .collect()
}

/// The whole `proof.json`.
pub(crate) fn proof_json(g: &Gathered, package_id: &str, generated_at: Timestamp) -> Value {
    let principals: Vec<Value> = g
        .persons
        .iter()
        .map(|p| {
            json!({
                "pii_principal_id": p.person_id.to_string(),
                "first_name": p.data.as_ref().map(|d| d.first_name.clone()),
                "last_name": p.data.as_ref().map(|d| d.last_name.clone()),
                "residential_address": p.data.as_ref().and_then(|d| d.address.as_ref().map(|a| a.one_line())),
                "birth_date": p.data.as_ref().and_then(|d| d.birth_date.map(|b| b.to_string())),
                "recipient_class": p.recipient_class,
                "contact_points": p.contacts.iter().map(|(cp, v)| json!({
                    "id": cp.id.to_string(), "type": cp.kind, "value": v.as_ref().map(contact_text),
                    "verified_by": cp.verified_method, "verified_at": cp.verified_at.map(|t| t.to_string()),
                })).collect::<Vec<_>>(),
                "objections": p.entries.iter().filter(|e| matches!(e.entry.body, EventBody::ObjectionRecorded { .. }))
                    .map(|e| json!({"event": serde_json::to_value(&e.entry.body).unwrap_or(Value::Null), "hash": e.raw.hash}))
                    .collect::<Vec<_>>(),
                "attachments": p.files.iter().map(|(m, _)| json!({
                    "sha256": m.sha256, "kind": m.kind, "content_type": m.content_type, "size": m.size,
                    "path": super::attachment_path(m),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    let records: Vec<Value> = g.persons.iter().flat_map(|p| p.consents.iter().map(move |c| record(g, p, c))).collect();
    let use_log: Vec<Value> = g.persons.iter().flat_map(uses).collect();
    json!({
        "schema_version": SCHEMA_VERSION,
        "package_id": package_id,
        "generated_at": generated_at.to_string(),
        "jurisdiction": "DE",
        "pii_principals": principals,
        "records": records,
        "use_log": use_log,
    })
}
