//! The import run: the file's hash, resuming after the last committed row, and per row the
//! suppression match, the person (found by blind index or created), the imported consent as its
//! evidence decides, and opt-outs honoured here; batches commit with the progress.

use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::io::Read;
use std::path::Path;

use jiff::Timestamp;
use konsent_domain::channel::Channel;
use konsent_domain::consent::{CaptureMethod, ConsentRecord, ConsentStatus, Evidence, Scope, Source, Validity};
use konsent_domain::contact::{ContactKind, ContactValue};
use konsent_domain::ids::{AdvertiserId, ConsentId, ContactPointId, PersonId, TenantId};
use konsent_domain::ledger::{Actor, EventBody};
use konsent_domain::party::{Advertiser, RecipientClass};
use konsent_domain::settings::TenantSettings;
use konsent_domain::suppression::{SuppressionReason, SuppressionScope};
use konsent_domain::text::{ConsentTextVersion, TextState};
use konsent_formats::import::{ImportRow, RowError, open_path};
use konsent_store::{PendingEvent, SideWrite, queries};
use sha2::{Digest, Sha256};

use super::plan::{OptOut, RowPlan, plan_row};
use super::{ImportOptions, ImportReport, RowProblem};
use crate::consents::{ConsentContext, NewConsent, assess};
use crate::context::Konsent;
use crate::error::ServiceError;
use crate::persons::NewPerson;

/// What every row of one import shares.
struct Env<'a> {
    tenant: TenantId,
    actor: &'a Actor,
    opts: &'a ImportOptions,
    text: ConsentTextVersion,
    advertisers: Vec<Advertiser>,
    ours: BTreeSet<AdvertiserId>,
    settings: TenantSettings,
    provider: String,
    source: Source,
    file_sha256: String,
    import_id: String,
}

/// Writes not yet committed, and what they make known before they are.
#[derive(Default)]
struct Batch {
    events: Vec<PendingEvent>,
    side: Vec<SideWrite>,
    /// Contact (hashed match key) → person and contact point created by this batch (or, in a
    /// dry run, by the whole file).
    created: HashMap<u64, (PersonId, ContactPointId)>,
    /// Contacts (hashed match key) suppressed by this batch.
    suppressed: HashSet<u64>,
    /// Data keys of the persons this batch created (to add contact points to them).
    keys: HashMap<PersonId, konsent_domain::crypto::DataKey>,
    /// Persons who got a consent from this file in this batch.
    consented: HashSet<PersonId>,
    rows: u64,
}

fn key(c: &ContactValue) -> u64 {
    let mut h = DefaultHasher::new();
    c.match_key().hash(&mut h);
    h.finish()
}

impl From<RowError> for RowProblem {
    fn from(e: RowError) -> Self {
        RowProblem { row: e.row, file: e.file, field: e.field, message: e.message }
    }
}

fn file_sha256(path: &Path) -> Result<String, ServiceError> {
    let mut f = std::fs::File::open(path).map_err(|e| ServiceError::invalid("file", format!("cannot open: {e}")))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf).map_err(|e| ServiceError::invalid("file", format!("cannot read: {e}")))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex::encode(h.finalize()))
}

impl Konsent {
    /// Imports a file; see the module documentation. After each committed batch `progress` is
    /// told the rows read so far; it answers `false` to stop there (the next run resumes).
    pub async fn import_file(
        &self,
        tenant: TenantId,
        actor: &Actor,
        path: &Path,
        opts: &ImportOptions,
        progress: &(dyn Fn(u64) -> bool + Send + Sync),
    ) -> Result<ImportReport, ServiceError> {
        let text = queries::text(&self.db, tenant, opts.text_id)
            .await?
            .filter(|t| t.state != TextState::Draft)
            .ok_or_else(|| ServiceError::invalid("text_id", "no such published consent text"))?;
        let ours = opts.advertisers.clone().unwrap_or_else(|| text.scope.advertisers.clone());
        if ours.is_empty() || !ours.is_subset(&text.scope.advertisers) {
            return Err(ServiceError::invalid("advertisers", "must be advertisers the consent text names"));
        }
        let file_sha256 = file_sha256(path)?;
        let provider = opts.provider.clone().unwrap_or_else(|| tool_name(opts.format).into());
        let source = match &opts.third_party_contract {
            Some(c) => Source::ThirdParty { provider: provider.clone(), contract_ref: Some(c.clone()) },
            None => Source::FirstParty,
        };
        let import_id = konsent_domain::crypto::sha256_hex(
            format!(
                "{file_sha256}|{}|{}|{ours:?}|{provider}|{:?}|{:?}",
                opts.format.as_str(),
                opts.text_id,
                opts.third_party_contract,
                opts.mapping.as_ref().map(|m| format!("{m:?}"))
            )
            .as_bytes(),
        );
        let mut report = ImportReport {
            import_id: import_id.clone(),
            file_sha256: file_sha256.clone(),
            format: opts.format.as_str().into(),
            dry_run: opts.dry_run,
            ..Default::default()
        };
        let mut resume = 0;
        match queries::import_state(&self.db, tenant, &import_id).await? {
            Some((state, _, stored)) if state == "done" => {
                let mut r: ImportReport = serde_json::from_str(&stored).unwrap_or(report);
                r.already_imported = true;
                r.dry_run = opts.dry_run;
                return Ok(r);
            }
            Some((_, rows_done, stored)) if !opts.dry_run => {
                if let Ok(r) = serde_json::from_str::<ImportReport>(&stored) {
                    report = r;
                }
                resume = rows_done.max(0) as u64;
                report.resumed_after = resume;
            }
            _ => {}
        }
        let rows = open_path(path, opts.format, opts.mapping.as_ref())
            .map_err(|e| ServiceError::invalid("file", e.to_string()))?;
        report.encoding = rows.encoding().as_str().into();
        report.delimiter = match rows.delimiter() {
            '\t' => "tab".into(),
            d => d.to_string(),
        };
        report.columns = rows.columns().iter().map(|c| (c.field.to_string(), c.header.clone())).collect();
        let env = Env {
            tenant,
            actor,
            opts,
            advertisers: queries::advertisers(&self.db, tenant).await?,
            settings: queries::tenant_settings(&self.db, tenant).await?,
            text,
            ours,
            provider,
            source,
            file_sha256,
            import_id,
        };
        let mut batch = Batch::default();
        let mut n: u64 = 0;
        for item in rows {
            n += 1;
            if n <= resume {
                continue;
            }
            report.rows = n;
            match item {
                Err(e) => report.problem(e.into()),
                Ok(row) => self.import_row(&env, &row, &mut batch, &mut report).await?,
            }
            batch.rows += 1;
            if batch.rows >= opts.batch_rows.max(1) {
                self.flush(&env, &mut batch, &mut report, n, false).await?;
                if !progress(n) {
                    // Stopped: committed up to here; the next run resumes after row n.
                    report.stopped = true;
                    return Ok(report);
                }
            }
        }
        report.rows = report.rows.max(n);
        self.flush(&env, &mut batch, &mut report, n, true).await?;
        progress(n);
        Ok(report)
    }

    /// Commits the batch with the import's progress (a dry run only forgets its writes).
    async fn flush(
        &self,
        env: &Env<'_>,
        batch: &mut Batch,
        report: &mut ImportReport,
        rows_done: u64,
        done: bool,
    ) -> Result<(), ServiceError> {
        let mut events = std::mem::take(&mut batch.events);
        let mut side = std::mem::take(&mut batch.side);
        batch.rows = 0;
        batch.suppressed.clear();
        if env.opts.dry_run {
            return Ok(());
        }
        batch.created.clear();
        batch.keys.clear();
        batch.consented.clear();
        if done {
            events.push(self.pending(
                env.actor,
                EventBody::ImportCompleted {
                    import_id: env.import_id.clone(),
                    file_sha256: env.file_sha256.clone(),
                    format: env.opts.format.as_str().into(),
                    provider: env.provider.clone(),
                    rows: report.rows,
                    outcomes: report.outcomes.clone(),
                    at: self.now(),
                },
            ));
        }
        side.push(SideWrite::ImportProgress {
            id: env.import_id.clone(),
            file_sha256: env.file_sha256.clone(),
            format: env.opts.format.as_str().into(),
            state: if done { "done" } else { "running" }.into(),
            rows_done: rows_done as i64,
            report: serde_json::to_string(&*report).unwrap_or_default(),
        });
        self.append(env.tenant, events, side).await?;
        Ok(())
    }

    async fn import_row(
        &self,
        env: &Env<'_>,
        row: &ImportRow,
        batch: &mut Batch,
        report: &mut ImportReport,
    ) -> Result<(), ServiceError> {
        let plan = match plan_row(row, env.opts.format, &env.text.scope.channels) {
            Ok(p) => p,
            Err(e) => {
                report.problem(e.into());
                return Ok(());
            }
        };
        if let Some(skip) = plan.skip {
            report.count(skip);
            return Ok(());
        }
        // The suppression list first: an erased person never comes back (R44), a suppressed
        // channel gets no consent (R30, R63).
        let mut channels = plan.channels.clone();
        for c in &plan.contacts {
            let entries = self.suppressions_for(env.tenant, c).await?;
            if entries.iter().any(|s| s.reason == SuppressionReason::Erasure) {
                report.count("erased");
                return Ok(());
            }
            let in_batch = batch.suppressed.contains(&key(c));
            channels.retain(|ch| {
                ch.contact_kind() != c.kind()
                    || !(in_batch || entries.iter().any(|s| env.ours.iter().any(|a| s.scope.covers(*ch, *a))))
            });
        }
        let opted = match plan.opt_out {
            Some(o) => self.opt_out(env, &plan, o, batch).await?,
            None => None,
        };
        if channels.is_empty() {
            report.count(opted.unwrap_or("suppressed"));
            return Ok(());
        }
        if let Some(outcome) = self.import_consent(env, row, &plan, &channels, batch, report).await? {
            report.count(outcome);
        }
        Ok(())
    }

    /// Suppresses the address as the source reports and withdraws its e-mail consents here.
    async fn opt_out(
        &self,
        env: &Env<'_>,
        plan: &RowPlan,
        o: OptOut,
        batch: &mut Batch,
    ) -> Result<Option<&'static str>, ServiceError> {
        let Some(email) = plan.contacts.iter().find(|c| c.kind() == ContactKind::Email) else { return Ok(None) };
        let (reason, outcome) = match o {
            OptOut::Unsubscribed => (SuppressionReason::Withdrawal, "opt_out"),
            OptOut::Complained => (SuppressionReason::Complaint, "opt_out"),
            OptOut::Bounced => (SuppressionReason::Bounce, "bounced"),
        };
        let scope = SuppressionScope {
            channels: [Channel::Email].into(),
            advertisers: if o == OptOut::Bounced { BTreeSet::new() } else { env.ours.clone() },
        };
        let known =
            self.suppressions_for(env.tenant, email).await?.iter().any(|s| s.reason == reason && s.scope == scope);
        if known || !batch.suppressed.insert(key(email)) {
            return Ok(Some("unchanged"));
        }
        let entry = self.suppression_entry(env.tenant, email, scope, reason, &format!("import {}", env.provider));
        batch.events.push(self.pending(env.actor, EventBody::SuppressionAdded { entry }));
        if o == OptOut::Bounced {
            return Ok(Some(outcome));
        }
        let now = self.now();
        for (person, cp) in self.find_by_contact(env.tenant, email).await? {
            for c in queries::consents_of(&self.db, env.tenant, person).await? {
                let ours: BTreeSet<AdvertiserId> = c.scope.advertisers.intersection(&env.ours).copied().collect();
                if !c.status.is_valid_for_processing()
                    || !c.contact_points.contains(&cp)
                    || !c.scope.channels.contains(&Channel::Email)
                    || ours.is_empty()
                {
                    continue;
                }
                let delta = Scope {
                    advertisers: ours,
                    product_categories: c.scope.product_categories.clone(),
                    channels: [Channel::Email].into(),
                };
                let delta = (delta != c.scope).then_some(delta);
                batch.events.push(self.withdrawal_event(env.actor, c.id, delta, "import", now));
            }
        }
        Ok(Some(outcome))
    }

    /// Records the imported consent for the row's person (found or created) and names its outcome.
    async fn import_consent(
        &self,
        env: &Env<'_>,
        row: &ImportRow,
        plan: &RowPlan,
        channels: &BTreeSet<Channel>,
        batch: &mut Batch,
        report: &mut ImportReport,
    ) -> Result<Option<&'static str>, ServiceError> {
        let needed: Vec<&ContactValue> =
            plan.contacts.iter().filter(|c| channels.iter().any(|ch| ch.contact_kind() == c.kind())).collect();
        let mut found: Option<PersonId> = None;
        let mut missing: Vec<&ContactValue> = Vec::new();
        let mut cps: BTreeMap<ContactPointId, ContactKind> = BTreeMap::new();
        // The address identifies the person when the row has one: a number may be shared by a
        // household. Without an address the number does.
        let by_email = needed.iter().any(|c| c.kind() == ContactKind::Email);
        for c in &needed {
            let mut hits = self.find_by_contact(env.tenant, c).await?;
            hits.extend(batch.created.get(&key(c)).copied());
            let identifies = c.kind() == ContactKind::Email || !by_email;
            match hits.into_iter().find(|(p, _)| found.map_or(identifies, |f| f == *p)) {
                Some((p, cp)) => {
                    found = Some(p);
                    cps.insert(cp, c.kind());
                }
                None => missing.push(*c),
            }
        }
        let now = self.now();
        let mut new_person = None;
        let mut new_points = Vec::new();
        let person_id;
        let data;
        let class;
        if let Some(p) = found {
            if queries::restriction(&self.db, env.tenant, p).await?.is_some() {
                return Ok(Some("restricted"));
            }
            let existing = queries::consents_of(&self.db, env.tenant, p).await?;
            if existing.iter().any(|c| same_import(c, env, row)) {
                return Ok(Some("unchanged"));
            }
            // A second row of the same person in this file (e.g. the address in other case).
            if batch.consented.contains(&p) || existing.iter().any(|c| from_file(c, &env.file_sha256)) {
                return Ok(Some("duplicate"));
            }
            // The row's other contact points join the person it was found by.
            if !missing.is_empty() {
                let dek = match batch.keys.get(&p) {
                    Some(k) => Some(k.clone()),
                    None => self.person_key(env.tenant, p).await?,
                };
                let Some(dek) = dek else { return Ok(Some("erased")) };
                for c in &missing {
                    let (cp, ev, sw) = self.contact_point_write(env.tenant, env.actor, p, &dek, c);
                    cps.insert(cp, c.kind());
                    new_points.push((key(c), cp, ev, sw));
                }
            }
            person_id = p;
            data = self.person_data(env.tenant, p).await?;
            let row = queries::person(&self.db, env.tenant, p).await?;
            class = if row.is_some_and(|r| r.recipient_class == "business") {
                RecipientClass::Business
            } else {
                RecipientClass::Consumer
            };
        } else {
            let np = NewPerson {
                data: plan.person.clone(),
                recipient_class: RecipientClass::Consumer,
                org_unit: env.opts.org_unit,
                contacts: needed.iter().map(|c| (*c).clone()).collect(),
            };
            let w = self.person_write(env.tenant, env.actor, &np);
            for (c, cp) in needed.iter().zip(&w.contact_point_ids) {
                cps.insert(*cp, c.kind());
            }
            person_id = w.person_id;
            new_person = Some((w, needed.clone()));
            data = Some(plan.person.clone());
            class = RecipientClass::Consumer;
        }
        let given_at: Timestamp = plan.given_at.filter(|t| *t <= now).unwrap_or(now);
        let ctx = ConsentContext {
            text: &env.text,
            advertisers: &env.advertisers,
            person: data.as_ref(),
            recipient_class: class,
            contact_kinds: &cps,
            age: data.as_ref().and_then(|d| d.age_on(konsent_domain::time::utc_date(now))),
            settings: &env.settings,
        };
        // One consent per kind of contact point: an address confirmed by the tool's double
        // opt-in is usable even when the phone permission of the same row is not (R25, R26).
        let mut groups: BTreeMap<ContactKind, BTreeSet<Channel>> = BTreeMap::new();
        for ch in channels {
            groups.entry(ch.contact_kind()).or_default().insert(*ch);
        }
        let mut assessed = Vec::new();
        for (kind, group) in groups {
            let points: BTreeSet<ContactPointId> = cps.iter().filter(|(_, k)| **k == kind).map(|(cp, _)| *cp).collect();
            let evidence = Evidence::Import {
                provider: env.provider.chars().take(100).collect(),
                file_hash: env.file_sha256.clone(),
                row: row.row,
                contract_ref: env.opts.third_party_contract.clone(),
                reported_optin_at: row.optin_at,
                reported_confirm_at: row.confirm_at,
                reported_ip: row.optin_ip.is_some() || row.confirm_ip.is_some(),
                confirmed_contact_point: if kind == ContactKind::Email { points.first().copied() } else { None },
            };
            let nc = NewConsent {
                person_id,
                contact_points: points,
                text_id: env.text.id,
                scope: Scope {
                    advertisers: env.ours.clone(),
                    product_categories: env.text.scope.product_categories.clone(),
                    channels: group,
                },
                capture_method: CaptureMethod::Import,
                declaration_recipient: None,
                source: env.source.clone(),
                affirmative_action: true,
                given_at,
                capture_offset_seconds: 0,
                evidence: vec![evidence],
                validity: Validity::Endless,
            };
            match assess(self.id(ConsentId::from_parts), nc, &ctx, now) {
                Ok(a) => assessed.push(a),
                Err(ServiceError::Invalid(errors)) => {
                    // Nothing is written for the row: a person without their consent is no import.
                    let message = errors.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>();
                    report.problem(RowProblem {
                        row: row.row,
                        file: row.file.clone(),
                        field: "(row)".into(),
                        message: message.join("; "),
                    });
                    return Ok(None);
                }
                Err(e) => return Err(e),
            }
        }
        if let Some((w, needed)) = new_person {
            for (c, cp) in needed.iter().zip(&w.contact_point_ids) {
                batch.created.insert(key(c), (w.person_id, *cp));
            }
            batch.events.extend(w.events);
            batch.side.extend(w.side);
            if !env.opts.dry_run {
                batch.keys.insert(w.person_id, w.dek);
            }
            report.persons_created += 1;
        }
        for (k, cp, ev, sw) in new_points {
            batch.created.insert(k, (person_id, cp));
            batch.events.push(ev);
            batch.side.push(sw);
        }
        batch.consented.insert(person_id);
        let mut usable = false;
        for a in &assessed {
            batch.events.extend(self.consent_events(env.actor, &a.record));
            for m in &a.missing {
                *report.unknown_because.entry(m.code.to_string()).or_default() += 1;
            }
            let status = match a.record.status {
                ConsentStatus::Given | ConsentStatus::RenewedGiven => "given",
                ConsentStatus::Refused => "refused",
                _ => "unknown",
            };
            usable |= status == "given";
            for ch in &a.record.scope.channels {
                *report.consents.entry(format!("{}:{status}", ch.as_str())).or_default() += 1;
            }
        }
        Ok(Some(if usable { "given" } else { "unknown" }))
    }
}

/// The row was imported before into this person: same provider, text and reported times.
fn same_import(c: &ConsentRecord, env: &Env<'_>, row: &ImportRow) -> bool {
    c.text_id == env.text.id
        && c.evidence.iter().any(|e| {
            matches!(e, Evidence::Import { provider, reported_optin_at, reported_confirm_at, .. }
                if *provider == env.provider && *reported_optin_at == row.optin_at && *reported_confirm_at == row.confirm_at)
        })
}

/// The consent was imported from this file.
fn from_file(c: &ConsentRecord, file_sha256: &str) -> bool {
    c.evidence.iter().any(|e| matches!(e, Evidence::Import { file_hash, .. } if file_hash == file_sha256))
}

fn tool_name(f: konsent_formats::import::Format) -> &'static str {
    use konsent_formats::import::Format::*;
    match f {
        Mailchimp => "Mailchimp",
        CleverReach => "CleverReach",
        HubSpot => "HubSpot",
        Generic => "Maklerverwaltung",
    }
}
