//! The German report of a proof package (`nachweis.pdf`): for each person and consent who gave
//! it, to whom, the full text shown, when and how, the verification evidence, every change and
//! use, until when the proof is kept, and how to verify the package.

use jiff::Timestamp;
use jiff::tz::{Offset, TimeZone};
use konsent_domain::consent::{ConsentRecord, Evidence};
use konsent_domain::ledger::EventBody;
use konsent_domain::retention::consent_proof_until;
use konsent_pdf::{Block, Fact, Report, Section};

use super::gather::{Gathered, PersonProof};
use super::iso::{contact_text, events_of};

/// `04.12.2026 14:03:05 (UTC+01:00)` in the given offset.
pub(crate) fn when(t: Timestamp, offset_seconds: i32) -> String {
    let off = Offset::from_seconds(offset_seconds).unwrap_or(Offset::UTC);
    let z = t.to_zoned_datetime(TimeZone::fixed(off));
    let (h, m) = (offset_seconds / 3600, (offset_seconds.abs() % 3600) / 60);
    format!(
        "{:02}.{:02}.{} {:02}:{:02}:{:02} (UTC{}{:02}:{:02})",
        z.day(),
        z.month(),
        z.year(),
        z.hour(),
        z.minute(),
        z.second(),
        if offset_seconds < 0 { '-' } else { '+' },
        h.abs(),
        m
    )
}

fn utc(t: Timestamp) -> String {
    when(t, 0)
}

fn date(t: Timestamp) -> String {
    let d = konsent_domain::time::utc_date(t);
    format!("{:02}.{:02}.{}", d.day(), d.month(), d.year())
}

fn method_de(c: &ConsentRecord) -> &'static str {
    use konsent_domain::consent::CaptureMethod::*;
    match c.capture_method {
        WebForm => "Webformular (aktives Ankreuzen)",
        PhoneCall => "mündlich im Telefongespräch",
        InPerson => "persönlich im Beratungsgespräch",
        Paper => "schriftlich auf Papierformular",
        Import => "Import aus einem anderen System",
        Api => "über eine Schnittstelle (API)",
    }
}

fn evidence_de(e: &Evidence) -> String {
    match e {
        Evidence::WebForm { at, form_ref, form_version, affirmative_action, .. } => format!(
            "Webformular {form_ref} (Version {form_version}) abgeschickt am {}; Kästchen aktiv angekreuzt: {}",
            utc(*at),
            if *affirmative_action { "ja" } else { "nein" }
        ),
        Evidence::EmailDoi { sent_at, confirmed_at, message_id, .. } => format!(
            "Double-Opt-in: Bestätigungsmail {message_id} versandt am {}, Link bestätigt am {}",
            utc(*sent_at),
            utc(*confirmed_at)
        ),
        Evidence::Otp { sent_at, verified_at, .. } => format!(
            "Rufnummer per SMS-Code verifiziert: Code versandt am {}, richtig eingegeben am {}",
            utc(*sent_at),
            utc(*verified_at)
        ),
        Evidence::CallRecording { recording_hash, recording_consent, script_version, agent_pseudonym, at, .. } => {
            format!(
                "Gesprächsaufzeichnung vom {} (Gesprächsleitfaden {script_version}, Mitarbeiterkennung \
                 {agent_pseudonym}); Einwilligung in die Aufzeichnung aufgezeichnet: {}; Datei SHA-256 {recording_hash}",
                utc(*at),
                if *recording_consent { "ja" } else { "nein" }
            )
        }
        Evidence::TextConfirmation { sent_at, confirmed_at, .. } => {
            format!("Bestätigung in Textform: versandt am {}, bestätigt am {}", utc(*sent_at), utc(*confirmed_at))
        }
        Evidence::PaperScan { scan_hash, form_version, signature_date, original_location } => format!(
            "Unterschriebenes Formular (Version {form_version}) vom {:02}.{:02}.{}; Original verwahrt: \
             {original_location}; Scan SHA-256 {scan_hash}",
            signature_date.day(),
            signature_date.month(),
            signature_date.year()
        ),
        Evidence::InPersonAttestation { advisor_pseudonym, at, identity_checked } => format!(
            "Bestätigung des Beraters {advisor_pseudonym} vom {}; Identität geprüft: {}",
            utc(*at),
            if *identity_checked { "ja" } else { "nein" }
        ),
        Evidence::InboundMessage { at, .. } => format!("Nachricht von der Rufnummer selbst am {}", utc(*at)),
        Evidence::Import { provider, row, contract_ref, .. } => format!(
            "Import von {provider}, Zeile {row}{}",
            contract_ref.as_ref().map(|c| format!(", Vertrag {c}")).unwrap_or_default()
        ),
    }
}

fn event_de(body: &EventBody) -> (String, String) {
    match body {
        EventBody::ConsentRecorded { consent } => {
            ("Einwilligung erfasst".into(), format!("Status: {}", consent.status.label_de()))
        }
        EventBody::EvidenceAdded { evidence, .. } => ("Nachweis ergänzt".into(), evidence_de(evidence)),
        EventBody::DoiRequested { .. } => ("Bestätigungsmail versandt".into(), String::new()),
        EventBody::OtpSent { .. } => ("SMS-Code versandt".into(), String::new()),
        EventBody::ReceiptIssued { receipt_id, .. } => ("Bestätigung an die Person".into(), receipt_id.clone()),
        EventBody::ConsentApproved { .. } => ("Freigabe durch zweite Person".into(), String::new()),
        EventBody::ConsentStatusChanged { from, to, reason, .. } => {
            ("Status geändert".into(), format!("{} → {} ({reason})", from.label_de(), to.label_de()))
        }
        EventBody::ConsentWithdrawn { scope_delta, via, .. } => (
            if scope_delta.is_some() { "Teilwiderruf" } else { "Widerruf" }.into(),
            format!(
                "über {via}{}",
                scope_delta.as_ref().map(|d| format!("; widerrufen: {}", scope_de(d))).unwrap_or_default()
            ),
        ),
        other => (other.kind().into(), String::new()),
    }
}

fn scope_de(s: &konsent_domain::consent::Scope) -> String {
    let ch: Vec<&str> = s.channels.iter().map(|c| c.label_de()).collect();
    let cat: Vec<&str> = s.product_categories.iter().map(|c| c.as_str()).collect();
    [ch.join(", "), cat.join(", ")].into_iter().filter(|x| !x.is_empty()).collect::<Vec<_>>().join("; ")
}

fn consent_section(g: &Gathered, p: &PersonProof, c: &ConsentRecord, n: usize) -> Section {
    let mut blocks = Vec::new();
    let advertisers: Vec<String> = g
        .advertisers
        .iter()
        .filter(|a| c.scope.advertisers.contains(&a.id))
        .map(|a| {
            format!("{}, Sitz {}, ladungsfähige Anschrift: {}", a.legal_name, a.seat, a.address_for_service.one_line())
        })
        .collect();
    let numbers: Vec<String> = p
        .contacts
        .iter()
        .filter(|(cp, _)| c.contact_points.contains(&cp.id))
        .map(|(cp, v)| v.as_ref().map(contact_text).unwrap_or_else(|| format!("{} (gelöscht)", cp.kind)))
        .collect();
    let retention = match consent_proof_until(c) {
        Some((t, d)) => format!("mindestens bis {} (Regel {}: {})", date(t), d.code(), d.label_de()),
        None => "solange die Einwilligung genutzt wird, danach nach Löschkonzept".into(),
    };
    let mut facts = vec![
        Fact::new("Einwilligungs-ID", c.id.to_string()),
        Fact::new("Status", format!("{} ({})", c.status.label_de(), c.status.as_str())),
    ];
    if let Some(old) = c.renews {
        // A renewal (R43) names the consent it renews; that one stays on record unchanged.
        facts.push(Fact::new("Erneuert die Einwilligung", old.to_string()));
    }
    facts.extend([
        Fact::new("Werbende Unternehmen", advertisers.join("\n")),
        Fact::new("Kanäle", c.scope.channels.iter().map(|ch| ch.label_de()).collect::<Vec<_>>().join(", ")),
        Fact::new(
            "Produktbereiche",
            c.scope.product_categories.iter().map(|x| x.as_str()).collect::<Vec<_>>().join(", "),
        ),
        Fact::new("Erfasste Kontaktwege", numbers.join("\n")),
        Fact::new("Erteilt am", when(c.given_at, c.capture_offset_seconds)),
        Fact::new("Erfasst am", utc(c.recorded_at)),
        Fact::new("Art und Weise", method_de(c)),
        Fact::new(
            "Empfänger der Erklärung",
            c.declaration_recipient
                .as_ref()
                .map(|r| format!("{} (Mitarbeiterkennung {})", r.organisation, r.agent_pseudonym))
                .unwrap_or_else(|| "—".into()),
        ),
        Fact::new("Aufbewahrung des Nachweises", retention),
    ]);
    blocks.push(Block::Facts { facts });
    if let Some(t) = g.texts.get(&c.text_id) {
        blocks.push(Block::Quote {
            label: format!(
                "Gezeigter Einwilligungstext „{}“, Version {} ({}), SHA-256 {}",
                t.title, t.version, t.language, t.sha256
            ),
            text: t.body.clone(),
        });
    }
    if !c.evidence.is_empty() {
        blocks.push(Block::Subheading { text: "Nachweise der Erteilung und Verifizierung".into() });
        blocks.push(Block::Paragraph { text: c.evidence.iter().map(evidence_de).collect::<Vec<_>>().join("\n") });
    }
    let rows: Vec<Vec<String>> = events_of(p, c)
        .into_iter()
        .map(|e| {
            let (what, detail) = event_de(&e.entry.body);
            vec![utc(e.entry.recorded_at), what, detail, e.raw.seq.to_string()]
        })
        .collect();
    blocks.push(Block::Subheading { text: "Verlauf (Erteilung, Änderungen, Widerruf)".into() });
    blocks.push(Block::Table {
        columns: vec!["Zeitpunkt".into(), "Ereignis".into(), "Einzelheiten".into(), "Ledger-Nr.".into()],
        rows,
    });
    Section { heading: format!("Einwilligung {n}"), blocks }
}

fn uses_section(p: &PersonProof) -> Section {
    let rows: Vec<Vec<String>> = p
        .entries
        .iter()
        .filter_map(|e| match &e.entry.body {
            EventBody::UseRecorded { record: u } => Some(vec![
                utc(u.at),
                u.channel.label_de().to_string(),
                format!("{:?}", u.outcome).to_lowercase(),
                u.campaign.clone().unwrap_or_default(),
                [u.executing_party.clone(), u.agent_pseudonym.clone()]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" / "),
                e.raw.seq.to_string(),
            ]),
            _ => None,
        })
        .collect();
    let intro = if rows.is_empty() {
        "Keine Verwendung im gewählten Zeitraum protokolliert.".to_string()
    } else {
        format!("{} protokollierte Verwendungen (Anrufversuche, Gespräche, Nachrichten).", rows.len())
    };
    let mut blocks = vec![Block::Paragraph { text: intro }];
    if !rows.is_empty() {
        let columns = ["Zeitpunkt", "Kanal", "Ergebnis", "Kampagne", "Ausführend", "Ledger-Nr."];
        blocks.push(Block::Table { columns: columns.iter().map(|c| c.to_string()).collect(), rows });
    }
    Section { heading: "Verwendungen der Einwilligungen".into(), blocks }
}

/// The report for the whole package.
pub(crate) fn report(g: &Gathered, package_id: &str, generated_at: Timestamp, public_key: &str) -> Report {
    let mut sections = Vec::new();
    for p in &g.persons {
        let d = p.data.as_ref();
        let mut facts = vec![
            Fact::new("Personen-ID", p.person_id.to_string()),
            Fact::new("Vorname", d.map(|d| d.first_name.clone()).unwrap_or_else(|| "— (gelöscht)".into())),
            Fact::new("Nachname", d.map(|d| d.last_name.clone()).unwrap_or_else(|| "— (gelöscht)".into())),
            Fact::new(
                "Wohnanschrift",
                d.and_then(|d| d.address.as_ref().map(|a| a.one_line())).unwrap_or_else(|| "—".into()),
            ),
            Fact::new("Empfängerkreis", if p.recipient_class == "business" { "Unternehmer" } else { "Verbraucher" }),
        ];
        for (cp, v) in &p.contacts {
            let verified = match (&cp.verified_method, cp.verified_at) {
                (Some(m), Some(t)) => format!(" — verifiziert ({m}) am {}", utc(t)),
                _ => " — nicht verifiziert".into(),
            };
            facts.push(Fact::new(
                "Kontaktweg",
                format!("{}{verified}", v.as_ref().map(contact_text).unwrap_or_else(|| "(gelöscht)".into())),
            ));
        }
        sections.push(Section { heading: "Betroffene Person".into(), blocks: vec![Block::Facts { facts }] });
        for (i, c) in p.consents.iter().enumerate() {
            sections.push(consent_section(g, p, c, i + 1));
        }
        sections.push(uses_section(p));
        if !p.files.is_empty() {
            let rows = p
                .files
                .iter()
                .map(|(m, _)| {
                    vec![m.kind.label_de().to_string(), m.content_type.clone(), m.size.to_string(), m.sha256.clone()]
                })
                .collect();
            sections.push(Section {
                heading: "Beigefügte Originaldateien".into(),
                blocks: vec![Block::Table {
                    columns: vec!["Art".into(), "Typ".into(), "Bytes".into(), "SHA-256".into()],
                    rows,
                }],
            });
        }
    }
    let entries: usize = g.persons.iter().map(|p| p.entries.len()).sum();
    sections.push(Section {
        heading: "Integrität und Prüfung".into(),
        blocks: vec![
            Block::Paragraph {
                text: format!(
                    "Jede Änderung wird in einem fälschungssicheren Ledger (SHA-256-Hashkette) festgehalten. Dieses \
                     Paket enthält die {entries} Ledger-Einträge dieser Person(en) im Original, jeweils mit einem \
                     Merkle-Pfad bis zu einem mit Ed25519 signierten Checkpoint ({} Checkpoints), und ein signiertes \
                     Manifest mit dem SHA-256 jeder Datei. Prüfung ohne Zugang zum System: \
                     konsent verify-package <Datei>.zip --public-key <Schlüssel>. Jede Änderung eines Bytes lässt \
                     die Prüfung scheitern.",
                    g.checkpoints.len()
                ),
            },
            Block::Subheading { text: "Öffentlicher Schlüssel (Ed25519)".into() },
            Block::Mono { text: public_key.to_string() },
        ],
    });
    Report {
        lang: "de".into(),
        title: "Nachweis der Einwilligung in Werbung".into(),
        subtitle: Some("Dokumentation nach § 7a UWG zur Vorlage bei der Bundesnetzagentur".into()),
        meta: vec![
            Fact::new("Paket-ID", package_id),
            Fact::new("Erstellt am", utc(generated_at)),
            Fact::new("Personen", g.persons.len().to_string()),
        ],
        sections,
        footer: format!("Konsent · Einwilligungsnachweis {package_id}"),
    }
}
