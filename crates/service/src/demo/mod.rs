//! `konsent demo`: realistic synthetic German data — persons, contact points, consents of every
//! channel, status and age, calls and mails, withdrawals and objections — written in batches.

mod data;
mod setup;

use std::collections::{BTreeMap, BTreeSet};

use jiff::{SignedDuration, Timestamp};
use konsent_domain::attachment::AttachmentKind;
use konsent_domain::channel::Channel;
use konsent_domain::consent::{
    CaptureMethod, ConsentRecord, ConsentStatus, DeclarationRecipient, Evidence, Scope, Source, Validity,
};
use konsent_domain::contact::{ContactKind, ContactValue};
use konsent_domain::ids::TenantId;
use konsent_domain::ids::{ConsentId, ContactPointId, UseId};
use konsent_domain::ledger::Actor;
use konsent_domain::party::{PersonData, RecipientClass};
use konsent_domain::time::SeededEntropy;
use konsent_domain::usage::{UseOutcome, UseRecord};
use serde::Serialize;

use crate::consents::{ConsentContext, NewConsent, assess};
use crate::context::Konsent;
use crate::error::ServiceError;
use crate::persons::NewPerson;
use data::Rng;
pub use setup::DemoCatalog;

/// Persons written per transaction.
const BATCH: u64 = 250;

/// What the demo wrote.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DemoReport {
    /// Persons.
    pub persons: u64,
    /// Consent records.
    pub consents: u64,
    /// Uses (calls, mails).
    pub uses: u64,
    /// Withdrawals.
    pub withdrawals: u64,
    /// Objections.
    pub objections: u64,
    /// Consents expired by staleness.
    pub expired: u64,
    /// Ledger entries appended.
    pub ledger_entries: u64,
}

fn hex_of(r: &Rng<'_>) -> String {
    (0..4).map(|_| format!("{:016x}", r.0.next_u64())).collect()
}

/// A small but real recording (WAV) or scan (PDF), different for every call of `r`.
fn demo_file(kind: AttachmentKind, r: &Rng<'_>) -> (konsent_domain::attachment::AttachmentMeta, Vec<u8>) {
    let tag = hex_of(r);
    let bytes = match kind {
        AttachmentKind::Recording => {
            let mut w = b"RIFF\x64\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00\x40\x1f\x00\x00\x80\x3e\x00\x00\x02\x00\x10\x00data\x40\x00\x00\x00".to_vec();
            w.extend_from_slice(tag.as_bytes());
            w
        }
        AttachmentKind::Scan => format!("%PDF-1.4\n% Scan {tag}\ntrailer <<>>\n%%EOF\n").into_bytes(),
    };
    let meta = konsent_domain::attachment::classify(kind, None, &bytes).expect("demo files are valid");
    (meta, bytes)
}

fn days(n: u64) -> SignedDuration {
    SignedDuration::from_hours(24 * n as i64)
}

/// Fills `tenant` with `persons` synthetic persons; `progress` is called after each batch.
pub async fn generate(
    k: &Konsent,
    tenant: TenantId,
    persons: u64,
    seed: u64,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<DemoReport, ServiceError> {
    generate_listing(k, tenant, persons, seed, progress, &mut |_, _| {}).await
}

/// Like [`generate`], and hands every person's number and contact points to `list` (to write a
/// lead list that matches the synthetic tenant, e.g. for trying or benchmarking `konsent scrub`).
pub async fn generate_listing(
    k: &Konsent,
    tenant: TenantId,
    persons: u64,
    seed: u64,
    progress: &(dyn Fn(u64) + Sync),
    list: &mut (dyn FnMut(u64, &[ContactValue]) + Send),
) -> Result<DemoReport, ServiceError> {
    let cat = setup::ensure_catalog(k, tenant).await?;
    let entropy = SeededEntropy::new(seed);
    let r = Rng(&entropy);
    let actor = Actor::System;
    let now = k.now();
    let today = konsent_domain::time::utc_date(now);
    let mut report = DemoReport::default();
    let mut done = 0;
    while done < persons {
        let n_batch = BATCH.min(persons - done);
        let mut events = Vec::new();
        let mut side = Vec::new();
        for i in 0..n_batch {
            let s = data::person(&r, done + i, today);
            let class = if r.chance(10) { RecipientClass::Business } else { RecipientClass::Consumer };
            let pdata = PersonData {
                first_name: s.first.to_string(),
                last_name: s.last.to_string(),
                address: Some(s.address.clone()),
                birth_date: Some(s.birth),
            };
            let has_email = r.chance(90);
            let has_landline = r.chance(30);
            let mut contacts = vec![ContactValue::Postal(s.address.clone()), ContactValue::Phone(s.mobile.clone())];
            if has_email {
                contacts.push(ContactValue::Email(s.email.clone()));
            }
            if has_landline {
                contacts.push(ContactValue::Phone(s.landline.clone()));
            }
            list(done + i, &contacts);
            let np =
                NewPerson { data: pdata.clone(), recipient_class: class, org_unit: None, contacts: contacts.clone() };
            let w = k.person_write(tenant, &actor, &np);
            let kinds: BTreeMap<ContactPointId, ContactKind> =
                w.contact_point_ids.iter().zip(&contacts).map(|(id, c)| (*id, c.kind())).collect();
            let mobile = w.contact_point_ids[1];
            let email = has_email.then(|| w.contact_point_ids[2]);
            events.extend(w.events);
            side.extend(w.side);
            let (person_id, dek) = (w.person_id, w.dek);
            let mut files = Vec::new();
            report.persons += 1;

            let age = pdata.age_on(today);
            let settings = konsent_domain::settings::TenantSettings::default();
            let mut consents: Vec<ConsentRecord> = Vec::new();
            let mut add = |text_i: usize,
                           scope: Scope,
                           cps: Vec<ContactPointId>,
                           method: CaptureMethod,
                           recipient: bool,
                           evidence: Vec<Evidence>,
                           given: Timestamp,
                           source: Source| {
                let text = &cat.texts[text_i];
                let ctx = ConsentContext {
                    text,
                    advertisers: &cat.advertisers,
                    person: Some(&pdata),
                    recipient_class: class,
                    contact_kinds: &kinds,
                    age,
                    settings: &settings,
                };
                let nc = NewConsent {
                    person_id: w.person_id,
                    contact_points: cps.into_iter().collect(),
                    text_id: text.id,
                    scope,
                    capture_method: method,
                    declaration_recipient: recipient.then(|| DeclarationRecipient {
                        organisation: "Callcenter Rhein-Ruhr GmbH".into(),
                        agent_pseudonym: format!("AG-{:04}", r.below(300)),
                    }),
                    source,
                    affirmative_action: true,
                    given_at: given,
                    capture_offset_seconds: 3600,
                    evidence,
                    validity: Validity::Endless,
                    renews: None,
                };
                if let Ok(a) = assess(k.id(ConsentId::from_parts), nc, &ctx, given + SignedDuration::from_mins(2)) {
                    consents.push(a.record);
                }
            };
            let back = |max_days: u64| now - days(1 + r.below(max_days));
            if let Some(email) = email
                && r.chance(75)
            {
                let given = back(6 * 365);
                let web = Evidence::WebForm {
                    at: given,
                    form_ref: "/f/newsletter".into(),
                    form_version: "3".into(),
                    affirmative_action: true,
                    request_details: Some(hex_of(&r)),
                };
                let mut ev = vec![web];
                if r.chance(85) {
                    ev.push(Evidence::EmailDoi {
                        contact_point: email,
                        sent_at: given,
                        message_id: format!("<{}@konsent.example>", hex_of(&r)),
                        token_hash: hex_of(&r),
                        confirmed_at: given + SignedDuration::from_mins(1 + r.below(600) as i64),
                        request_details: Some(hex_of(&r)),
                    });
                }
                add(
                    1,
                    cat.texts[1].scope.clone(),
                    vec![email],
                    CaptureMethod::WebForm,
                    false,
                    ev,
                    given,
                    Source::FirstParty,
                );
            }
            if r.chance(45) {
                let given = back(6 * 365);
                let phone_only = Scope { channels: BTreeSet::from([Channel::PhoneLive]), ..cat.texts[0].scope.clone() };
                let agent = format!("AG-{:04}", r.below(300));
                let rec = demo_file(AttachmentKind::Recording, &r);
                let scan = demo_file(AttachmentKind::Scan, &r);
                let (scope, cps, method, recipient, ev, source) = match (r.below(6), email) {
                    // Online: phone number verified by SMS code, e-mail by double opt-in.
                    (0 | 1, Some(e)) => (
                        cat.texts[0].scope.clone(),
                        vec![mobile, e],
                        CaptureMethod::WebForm,
                        true,
                        vec![
                            Evidence::WebForm {
                                at: given,
                                form_ref: "/f/beratung".into(),
                                form_version: "7".into(),
                                affirmative_action: true,
                                request_details: Some(hex_of(&r)),
                            },
                            Evidence::Otp {
                                contact_point: mobile,
                                sent_at: given,
                                verified_at: given + SignedDuration::from_secs(40),
                            },
                            Evidence::EmailDoi {
                                contact_point: e,
                                sent_at: given,
                                message_id: format!("<{}@konsent.example>", hex_of(&r)),
                                token_hash: hex_of(&r),
                                confirmed_at: given + SignedDuration::from_mins(5),
                                request_details: Some(hex_of(&r)),
                            },
                        ],
                        Source::FirstParty,
                    ),
                    (0 | 1, None) | (2, _) => (
                        phone_only,
                        vec![mobile],
                        CaptureMethod::PhoneCall,
                        true,
                        vec![Evidence::CallRecording {
                            contact_point: mobile,
                            recording_hash: rec.0.sha256.clone(),
                            recording_consent: true,
                            script_version: "skript-2024-03".into(),
                            agent_pseudonym: agent,
                            at: given,
                        }],
                        Source::FirstParty,
                    ),
                    // Verbal consent without a recording stays requested (R17).
                    (3, _) => (phone_only, vec![mobile], CaptureMethod::PhoneCall, true, vec![], Source::FirstParty),
                    (4, _) => (
                        phone_only,
                        vec![mobile],
                        CaptureMethod::Paper,
                        true,
                        vec![Evidence::PaperScan {
                            scan_hash: scan.0.sha256.clone(),
                            form_version: "EW-2023-1".into(),
                            signature_date: konsent_domain::time::utc_date(given),
                            original_location: "Akte Büro Köln, Ordner 12".into(),
                        }],
                        Source::FirstParty,
                    ),
                    // Legacy import without verification: ConsentUnknown (R25, R26).
                    _ => (
                        phone_only,
                        vec![mobile],
                        CaptureMethod::Import,
                        false,
                        vec![Evidence::Import {
                            provider: "Altbestand Maklerverwaltung".into(),
                            file_hash: hex_of(&r),
                            row: r.below(50_000),
                            contract_ref: None,
                            reported_optin_at: Some(given),
                            reported_confirm_at: None,
                            reported_ip: false,
                            confirmed_contact_point: None,
                        }],
                        Source::ThirdParty { provider: "Altbestand Maklerverwaltung".into(), contract_ref: None },
                    ),
                };
                // The recording or scan the evidence names is stored, as in real capture.
                let file = match method {
                    CaptureMethod::PhoneCall if !ev.is_empty() => Some(rec),
                    CaptureMethod::Paper => Some(scan),
                    _ => None,
                };
                add(0, scope, cps, method, recipient, ev, given, source);
                if let Some((meta, bytes)) = file {
                    let (e, sw) = k.attachment_write(tenant, &actor, person_id, &dek, &meta, &bytes);
                    files.push(e);
                    side.push(sw);
                }
            }
            // SMS/WhatsApp (text 2, 10 %) and automated calls (text 3, 3 %), number verified by SMS code.
            for (text_i, percent, max_days) in [(2, 10, 3 * 365), (3, 3, 2 * 365)] {
                if r.chance(percent) {
                    let given = back(max_days);
                    let ev = vec![Evidence::Otp {
                        contact_point: mobile,
                        sent_at: given,
                        verified_at: given + SignedDuration::from_secs(30),
                    }];
                    let scope = cat.texts[text_i].scope.clone();
                    add(text_i, scope, vec![mobile], CaptureMethod::WebForm, false, ev, given, Source::FirstParty);
                }
            }
            events.append(&mut files);
            for c in &consents {
                events.extend(k.consent_events(&actor, c));
                report.consents += 1;
            }
            // Uses, withdrawals.
            for c in consents.iter().filter(|c| c.status.is_valid_for_processing()) {
                let granted = c.granted_at.unwrap_or(c.given_at);
                let span_days = u64::try_from((now - granted).as_hours() / 24).unwrap_or(0).max(1);
                let channel = *c.scope.channels.iter().next().unwrap_or(&Channel::Email);
                let cp = *c
                    .contact_points
                    .iter()
                    .find(|cp| kinds.get(cp) == Some(&channel.contact_kind()))
                    .unwrap_or(&mobile);
                let advertiser = *c.scope.advertisers.iter().next().unwrap_or(&cat.advertisers[0].id);
                let mut last = granted;
                for _ in 0..r.below(4) {
                    let at = granted + days(r.below(span_days));
                    last = last.max(at);
                    let outcome = if channel.is_phone() {
                        if r.chance(60) { UseOutcome::Connected } else { UseOutcome::Attempt }
                    } else {
                        UseOutcome::Sent
                    };
                    events.push(k.use_event(
                        &actor,
                        UseRecord {
                            id: k.id(UseId::from_parts),
                            person_id: c.person_id,
                            contact_point_id: cp,
                            channel,
                            advertiser_id: advertiser,
                            consent_ids: BTreeSet::from([c.id]),
                            campaign: Some(format!("Kampagne {}", 2020 + r.below(7))),
                            executing_party: channel.is_phone().then(|| "Callcenter Rhein-Ruhr GmbH".to_string()),
                            agent_pseudonym: channel.is_phone().then(|| format!("AG-{:04}", r.below(300))),
                            outcome,
                            at,
                            decision_snapshot: None,
                        },
                    ));
                    report.uses += 1;
                }
                if c.last_use_at.is_none() && last == granted && now - granted > days(2 * 365) && r.chance(20) {
                    // Never used for over a year: the scheduler let it expire; some were renewed.
                    let at = granted + days(13 * 30);
                    events.push(k.status_event(&actor, c.id, c.status, ConsentStatus::Expired, "stale", at));
                    report.expired += 1;
                    if r.chance(40) {
                        let mut renewed = c.clone();
                        renewed.id = k.id(ConsentId::from_parts);
                        renewed.status = ConsentStatus::RenewedGiven;
                        renewed.given_at = at + days(20);
                        renewed.recorded_at = renewed.given_at;
                        renewed.granted_at = Some(renewed.given_at);
                        renewed.last_change_at = renewed.given_at;
                        events.extend(k.consent_events(&actor, &renewed));
                        report.consents += 1;
                    }
                    continue;
                }
                if r.chance(1) {
                    let at = last + days(1 + r.below(60));
                    let (to, why) = if r.chance(50) {
                        (ConsentStatus::Revoked, "advertiser_left_pool")
                    } else {
                        (ConsentStatus::Invalidated, "internal_audit")
                    };
                    events.push(k.status_event(&actor, c.id, c.status, to, why, at.min(now)));
                    continue;
                }
                if r.chance(8) {
                    let at = last + days(1 + r.below(30));
                    if at < now {
                        let delta = (c.scope.channels.len() > 1 && r.chance(50))
                            .then(|| Scope { channels: BTreeSet::from([Channel::PhoneLive]), ..Scope::default() });
                        events.push(k.withdrawal_event(
                            &actor,
                            c.id,
                            delta,
                            if r.chance(50) { "one_click" } else { "phone_call" },
                            at,
                        ));
                        report.withdrawals += 1;
                    }
                }
            }
            if r.chance(2) {
                events.push(k.objection_event(
                    &actor,
                    w.person_id,
                    BTreeSet::new(),
                    BTreeSet::new(),
                    "letter",
                    back(400),
                ));
                report.objections += 1;
            }
        }
        report.ledger_entries += events.len() as u64;
        k.append(tenant, events, side).await?;
        done += n_batch;
        progress(done);
    }
    crate::checkpoint::seal_all(k).await?;
    Ok(report)
}
