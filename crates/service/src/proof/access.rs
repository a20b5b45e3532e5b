//! The answer to an access request (Art. 15, R45) with the portable copy (Art. 20, R49): one ZIP
//! with everything Konsent holds about the person as JSON and CSV and a readable German summary
//! (PDF): contact data, consents with the texts shown, events, uses with dates and advertisers,
//! sources, recipients and storage periods. Producing it answers the person's open access
//! requests, each tracked against its one-month deadline.

use jiff::Timestamp;
use konsent_domain::ids::{PersonId, TenantId};
use konsent_domain::ledger::{Actor, EventBody};
use konsent_domain::retention::{consent_proof_until, request_due};
use konsent_pdf::{Block, Fact, Report, Section};
use konsent_store::queries::{self, RequestRow};
use serde_json::{Value, json};

use super::gather::{Gathered, PersonProof};
use super::iso::contact_text;
use super::report::when;
use super::write_zip;
use crate::context::Konsent;
use crate::error::ServiceError;

/// The produced answer.
#[derive(Debug, Clone)]
pub struct AccessExport {
    /// ZIP with `auskunft.json`, `auskunft.csv`, `auskunft.pdf`.
    pub zip: Vec<u8>,
    /// Requests this answered.
    pub answered: usize,
}

fn date(t: Timestamp) -> String {
    let d = konsent_domain::time::utc_date(t);
    format!("{:02}.{:02}.{}", d.day(), d.month(), d.year())
}

fn storage(c: &konsent_domain::consent::ConsentRecord) -> String {
    match consent_proof_until(c) {
        Some((t, d)) => format!("bis mindestens {} ({})", date(t), d.label_de()),
        None => "solange die Einwilligung besteht, danach nach Löschkonzept".into(),
    }
}

fn json_of(g: &Gathered, p: &PersonProof) -> Value {
    let adv = |id: &konsent_domain::ids::AdvertiserId| {
        g.advertisers.iter().find(|a| &a.id == id).map(|a| a.legal_name.clone()).unwrap_or_else(|| id.to_string())
    };
    let uses: Vec<Value> = p
        .entries
        .iter()
        .filter_map(|e| match &e.entry.body {
            EventBody::UseRecorded { record: u } => Some(json!({
                "at": u.at, "channel": u.channel, "advertiser": adv(&u.advertiser_id), "outcome": u.outcome,
                "campaign": u.campaign, "executing_party": u.executing_party,
            })),
            _ => None,
        })
        .collect();
    let mut recipients: Vec<String> = p.consents.iter().flat_map(|c| c.scope.advertisers.iter().map(adv)).collect();
    for e in &p.entries {
        if let EventBody::UseRecorded { record: u } = &e.entry.body
            && let Some(x) = &u.executing_party
        {
            recipients.push(x.clone());
        }
    }
    recipients.sort();
    recipients.dedup();
    json!({
        "person_id": p.person_id,
        "first_name": p.data.as_ref().map(|d| &d.first_name),
        "last_name": p.data.as_ref().map(|d| &d.last_name),
        "address": p.data.as_ref().and_then(|d| d.address.as_ref().map(|a| a.one_line())),
        "birth_date": p.data.as_ref().and_then(|d| d.birth_date),
        "contact_points": p.contacts.iter().map(|(cp, v)| json!({
            "kind": cp.kind, "value": v.as_ref().map(contact_text), "verified_at": cp.verified_at, "verified_by": cp.verified_method,
        })).collect::<Vec<_>>(),
        "consents": p.consents.iter().map(|c| {
            let t = g.texts.get(&c.text_id);
            json!({
                "consent_id": c.id, "status": c.status, "advertisers": c.scope.advertisers.iter().map(adv).collect::<Vec<_>>(),
                "channels": c.scope.channels, "product_categories": c.scope.product_categories,
                "given_at": c.given_at, "capture_method": c.capture_method, "source": c.source,
                "evidence": c.evidence.iter().map(|e| e.kind()).collect::<Vec<_>>(),
                "text": t.map(|t| json!({"title": t.title, "version": t.version, "body": t.body})),
                "storage_period": storage(c),
            })
        }).collect::<Vec<_>>(),
        "events": p.entries.iter().map(|e| json!({"at": e.entry.recorded_at, "type": e.entry.body.kind()})).collect::<Vec<_>>(),
        "uses": uses,
        "sources": p.consents.iter().map(|c| &c.source).collect::<Vec<_>>(),
        "recipients": recipients,
        "evidence_files": p.files.iter().map(|(m, _)| json!({"kind": m.kind, "content_type": m.content_type, "sha256": m.sha256})).collect::<Vec<_>>(),
    })
}

fn csv_of(g: &Gathered, p: &PersonProof) -> String {
    let cell = |s: &str| {
        let s = if s.starts_with(['=', '+', '-', '@']) { format!("'{s}") } else { s.to_string() };
        if s.contains([';', '"', '\n']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s }
    };
    let mut out =
        String::from("einwilligung;status;unternehmen;kanaele;sparten;erteilt_am;text;text_version;aufbewahrung\n");
    for c in &p.consents {
        let t = g.texts.get(&c.text_id);
        let adv: Vec<String> = g
            .advertisers
            .iter()
            .filter(|a| c.scope.advertisers.contains(&a.id))
            .map(|a| a.legal_name.clone())
            .collect();
        let row = [
            c.id.to_string(),
            c.status.as_str().to_string(),
            adv.join(", "),
            c.scope.channels.iter().map(|x| x.as_str()).collect::<Vec<_>>().join(", "),
            c.scope.product_categories.iter().map(|x| x.as_str()).collect::<Vec<_>>().join(", "),
            c.given_at.to_string(),
            t.map(|t| t.title.clone()).unwrap_or_default(),
            t.map(|t| t.version.to_string()).unwrap_or_default(),
            storage(c),
        ];
        out.push_str(&row.iter().map(|s| cell(s)).collect::<Vec<_>>().join(";"));
        out.push('\n');
    }
    out
}

fn report_of(g: &Gathered, p: &PersonProof, now: Timestamp) -> Report {
    let d = p.data.as_ref();
    let mut facts = vec![
        Fact::new("Name", d.map(|d| format!("{} {}", d.first_name, d.last_name)).unwrap_or_else(|| "—".into())),
        Fact::new("Anschrift", d.and_then(|d| d.address.as_ref().map(|a| a.one_line())).unwrap_or_else(|| "—".into())),
    ];
    for (cp, v) in &p.contacts {
        facts.push(Fact::new(
            "Kontaktweg",
            v.as_ref().map(contact_text).unwrap_or_else(|| format!("{} (gelöscht)", cp.kind)),
        ));
    }
    let consents: Vec<Vec<String>> = p
        .consents
        .iter()
        .map(|c| {
            let adv: Vec<String> = g
                .advertisers
                .iter()
                .filter(|a| c.scope.advertisers.contains(&a.id))
                .map(|a| a.legal_name.clone())
                .collect();
            vec![
                when(c.given_at, c.capture_offset_seconds),
                adv.join(", "),
                c.scope.channels.iter().map(|x| x.label_de()).collect::<Vec<_>>().join(", "),
                c.status.label_de().to_string(),
                storage(c),
            ]
        })
        .collect();
    let uses: Vec<Vec<String>> = p
        .entries
        .iter()
        .filter_map(|e| match &e.entry.body {
            EventBody::UseRecorded { record: u } => Some(vec![
                when(u.at, 0),
                u.channel.label_de().to_string(),
                g.advertisers
                    .iter()
                    .find(|a| a.id == u.advertiser_id)
                    .map(|a| a.legal_name.clone())
                    .unwrap_or_default(),
                u.executing_party.clone().unwrap_or_default(),
            ]),
            _ => None,
        })
        .collect();
    let mut sections =
        vec![Section { heading: "Ihre gespeicherten Daten".into(), blocks: vec![Block::Facts { facts }] }];
    let mut cblocks = vec![Block::Paragraph {
        text: "Für jede Einwilligung: wann und wie Sie sie erteilt haben, gegenüber welchen Unternehmen, für welche \
               Kanäle, ihr Stand und wie lange wir den Nachweis aufbewahren müssen. Den vollständigen Text, dem Sie \
               zugestimmt haben, enthält die Datei auskunft.json."
            .into(),
    }];
    if !consents.is_empty() {
        let columns = ["Erteilt am", "Unternehmen", "Kanäle", "Stand", "Aufbewahrung"];
        cblocks.push(Block::Table { columns: columns.iter().map(|c| c.to_string()).collect(), rows: consents });
    }
    sections.push(Section { heading: "Ihre Einwilligungen".into(), blocks: cblocks });
    let mut ublocks =
        vec![Block::Paragraph { text: format!("{} Kontakte auf Grundlage Ihrer Einwilligungen.", uses.len()) }];
    if !uses.is_empty() {
        let columns = ["Zeitpunkt", "Kanal", "Für", "Durchgeführt von"];
        ublocks.push(Block::Table { columns: columns.iter().map(|c| c.to_string()).collect(), rows: uses });
    }
    sections.push(Section { heading: "Verwendungen".into(), blocks: ublocks });
    sections.push(Section {
        heading: "Ihre Rechte".into(),
        blocks: vec![Block::Paragraph {
            text: "Sie können jede Einwilligung jederzeit mit Wirkung für die Zukunft widerrufen, der Werbung \
                   widersprechen (Art. 21 DSGVO), die Berichtigung (Art. 16), Löschung (Art. 17) oder Einschränkung \
                   (Art. 18) Ihrer Daten verlangen und sich bei einer Aufsichtsbehörde beschweren. Die Dateien \
                   auskunft.json und auskunft.csv sind Ihre Daten in maschinenlesbarer Form (Art. 20 DSGVO)."
                .into(),
        }],
    });
    Report {
        lang: "de".into(),
        title: "Auskunft über Ihre gespeicherten Daten".into(),
        subtitle: Some("nach Art. 15 DSGVO, mit Datenkopie nach Art. 20 DSGVO".into()),
        meta: vec![Fact::new("Erstellt am", date(now))],
        sections,
        footer: "Konsent · Datenauskunft".into(),
    }
}

impl Konsent {
    /// Records an access request (Art. 15) received some other way than the preference centre;
    /// returns its deadline.
    pub async fn request_access(
        &self,
        tenant: TenantId,
        actor: &Actor,
        person: PersonId,
        via: &str,
    ) -> Result<Timestamp, ServiceError> {
        queries::person(&self.db, tenant, person)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("person {person}")))?;
        let at = self.now();
        let body = EventBody::AccessRequested { person_id: person, via: via.chars().take(50).collect(), at };
        self.append(tenant, vec![self.pending(actor, body)], vec![]).await?;
        Ok(request_due(at))
    }

    /// Open data-subject requests, the most urgent first.
    pub async fn open_requests(&self, tenant: TenantId) -> Result<Vec<RequestRow>, ServiceError> {
        Ok(queries::open_requests(&self.db, tenant, None).await?)
    }

    /// Produces the answer to an access request and closes the person's open access requests.
    pub async fn access_export(
        &self,
        tenant: TenantId,
        actor: &Actor,
        person: PersonId,
    ) -> Result<AccessExport, ServiceError> {
        let g = self.gather_proof(tenant, &[person], None).await?;
        let p = &g.persons[0];
        let now = self.now();
        let json = serde_json::to_vec_pretty(&json_of(&g, p)).map_err(|e| ServiceError::Conflict(e.to_string()))?;
        let pdf = konsent_pdf::render(&report_of(&g, p, now))
            .map_err(|e| ServiceError::Conflict(format!("the summary could not be typeset: {e}")))?;
        let zip = write_zip(&[
            ("auskunft.json".into(), json),
            ("auskunft.csv".into(), csv_of(&g, p).into_bytes()),
            ("auskunft.pdf".into(), pdf),
        ])?;
        let open = queries::open_requests(&self.db, tenant, Some(person)).await?;
        let events: Vec<_> = open
            .iter()
            .filter(|r| r.kind == "access")
            .map(|r| {
                let body = EventBody::RequestClosed {
                    person_id: person,
                    request_id: r.id.clone(),
                    outcome: "answered".into(),
                    at: now,
                };
                self.pending(actor, body)
            })
            .collect();
        let answered = events.len();
        if !events.is_empty() {
            self.append(tenant, events, vec![]).await?;
        }
        Ok(AccessExport { zip, answered })
    }
}
