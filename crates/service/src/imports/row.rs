//! One imported row: the suppression match, the opt-out it reports, and the person (found by
//! address, or by number without one, or created) with the imported consents as their evidence
//! decides.

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;
use konsent_domain::channel::Channel;
use konsent_domain::consent::{CaptureMethod, ConsentRecord, ConsentStatus, Evidence, Scope, Validity};
use konsent_domain::contact::{ContactKind, ContactValue};
use konsent_domain::ids::{AdvertiserId, ConsentId, ContactPointId, PersonId};
use konsent_domain::ledger::EventBody;
use konsent_domain::party::RecipientClass;
use konsent_domain::suppression::{SuppressionReason, SuppressionScope};
use konsent_formats::import::ImportRow;
use konsent_store::queries;

use super::plan::{OptOut, RowPlan, plan_row};
use super::run::{Batch, Env, key};
use super::{ImportReport, RowProblem};
use crate::consents::{ConsentContext, NewConsent, assess};
use crate::context::Konsent;
use crate::error::ServiceError;
use crate::persons::NewPerson;

impl Konsent {
    /// Plans a chunk of rows, looks up every contact point they name in two queries, then
    /// imports them one by one.
    pub(super) async fn import_chunk(
        &self,
        env: &Env<'_>,
        rows: Vec<Result<ImportRow, konsent_formats::import::RowError>>,
        batch: &mut Batch,
        report: &mut ImportReport,
    ) -> Result<(), ServiceError> {
        let mut planned = Vec::with_capacity(rows.len());
        for item in rows {
            match item.and_then(|row| plan_row(&row, env.opts.format, &env.text.scope.channels).map(|p| (row, p))) {
                Ok(rp) => planned.push(rp),
                Err(e) => report.problem(e.into()),
            }
        }
        let mut keys: Vec<String> =
            planned.iter().flat_map(|(_, p)| p.contacts.iter().map(|c| env.bi.index(&c.match_key()))).collect();
        keys.sort_unstable();
        keys.dedup();
        batch.lookup = queries::key_lookup(&self.db, env.tenant, &keys).await?;
        for (row, plan) in planned {
            self.import_row(env, &row, plan, batch, report).await?;
        }
        Ok(())
    }

    async fn import_row(
        &self,
        env: &Env<'_>,
        row: &ImportRow,
        plan: RowPlan,
        batch: &mut Batch,
        report: &mut ImportReport,
    ) -> Result<(), ServiceError> {
        if let Some(skip) = plan.skip {
            report.count(skip);
            return Ok(());
        }
        // The suppression list first: an erased person never comes back (R44), a suppressed
        // channel gets no consent (R30, R63).
        let mut channels = plan.channels.clone();
        for c in &plan.contacts {
            let entries = batch.suppressions(env, c);
            if entries.iter().any(|s| s.reason == SuppressionReason::Erasure) {
                report.count("erased");
                return Ok(());
            }
            let in_batch = batch.is_suppressed(key(c));
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

    /// A found person's consents: as the chunk's lookup read them, or from the store for a person
    /// the lookup did not see (created by the batch before, committed since).
    async fn consents_found(
        &self,
        env: &Env<'_>,
        batch: &Batch,
        person: PersonId,
    ) -> Result<Vec<ConsentRecord>, ServiceError> {
        if batch.lookup.persons.contains_key(&person) {
            return Ok(batch.lookup.consents.get(&person).cloned().unwrap_or_default());
        }
        Ok(queries::consents_of(&self.db, env.tenant, person).await?)
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
        let known = batch.suppressions(env, email).iter().any(|s| s.reason == reason && s.scope == scope);
        if known || !batch.suppress(key(email)) {
            return Ok(Some("unchanged"));
        }
        let entry = self.suppression_entry(env.tenant, email, scope, reason, &format!("import {}", env.provider));
        batch.events.push(self.pending(env.actor, EventBody::SuppressionAdded { entry }));
        if o == OptOut::Bounced {
            return Ok(Some(outcome));
        }
        let now = self.now();
        // Holders the store showed, and persons this batch or the one in flight created for the
        // address (a subscribe row shortly before the unsubscribe row of the same file).
        let mut holders = batch.holders(env, email);
        holders.extend(batch.created(key(email)));
        holders.sort_unstable();
        holders.dedup();
        for (person, cp) in holders {
            let mut withdraw: Vec<Withdrawable> = if batch.known.keys.contains_key(&person) {
                vec![]
            } else {
                self.consents_found(env, batch, person)
                    .await?
                    .iter()
                    .filter_map(|c| Withdrawable::of(c, &env.ours))
                    .collect()
            };
            for w in batch.recorded(person) {
                if !withdraw.iter().any(|s| s.id == w.id) {
                    withdraw.push(w.clone());
                }
            }
            for w in withdraw.into_iter().filter(|w| w.contact_points.contains(&cp)) {
                batch.events.push(self.withdrawal_event(env.actor, w.id, w.delta, "import", now));
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
            let mut hits = batch.holders(env, c);
            hits.extend(batch.created(key(c)));
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
            let restricted = match batch.lookup.persons.get(&p) {
                Some(row) => row.restricted,
                None => queries::restriction(&self.db, env.tenant, p).await?.is_some(),
            };
            if restricted {
                return Ok(Some("restricted"));
            }
            let existing = self.consents_found(env, batch, p).await?;
            // A second row of the same person in this file (e.g. the address in other case),
            // whether the first is still in this batch or already stored by an earlier one.
            if batch.has_consented(p) || existing.iter().any(|c| from_file(c, &env.file_sha256)) {
                return Ok(Some("duplicate"));
            }
            if existing.iter().any(|c| same_import(c, env, row)) {
                return Ok(Some("unchanged"));
            }
            // The row's other contact points join the person it was found by.
            if !missing.is_empty() {
                let dek = match batch.key_of(p) {
                    Some(k) => Some(k),
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
            let business = match batch.lookup.persons.get(&p) {
                Some(row) => row.recipient_class == "business",
                None => {
                    queries::person(&self.db, env.tenant, p).await?.is_some_and(|r| r.recipient_class == "business")
                }
            };
            class = if business { RecipientClass::Business } else { RecipientClass::Consumer };
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
                renews: None,
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
        let created = new_person.is_some();
        if let Some((w, needed)) = new_person {
            if env.opts.dry_run {
                // Kept for the whole file, so by number (see `Known::dry_created`).
                batch.known.dry_create(needed.iter().map(|c| key(c)));
            } else {
                for (c, cp) in needed.iter().zip(&w.contact_point_ids) {
                    batch.known.created.insert(key(c), (w.person_id, *cp));
                }
                batch.known.keys.insert(w.person_id, w.dek);
            }
            batch.events.extend(w.events);
            batch.side.extend(w.side);
            report.persons_created += 1;
        }
        for (k, cp, ev, sw) in new_points {
            batch.known.created.insert(k, (person_id, cp));
            batch.events.push(ev);
            batch.side.push(sw);
        }
        if !(created && env.opts.dry_run) {
            batch.known.consented.insert(person_id);
        }
        if !env.opts.dry_run {
            let recorded = assessed.iter().filter_map(|a| Withdrawable::of(&a.record, &env.ours));
            batch.known.consents.entry(person_id).or_default().extend(recorded);
        }
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

/// What an opt-out row of the same file needs of a consent: the e-mail part of a consent valid
/// for processing that names one of the import's advertisers. An import keeps this for each
/// consent its batch and the one committing recorded (about 100 bytes instead of the whole
/// record's 2.9 KB: at 10,000 rows a batch that was 57 MB).
#[derive(Debug, Clone)]
pub(super) struct Withdrawable {
    /// The consent.
    pub(super) id: ConsentId,
    /// Its contact points: an opt-out withdraws it only where it names the address opted out.
    pub(super) contact_points: Vec<ContactPointId>,
    /// What to withdraw: `None` for the whole consent, else the e-mail channel for the import's
    /// advertisers.
    pub(super) delta: Option<Scope>,
}

impl Withdrawable {
    /// The part of `c` an opt-out withdraws, if any.
    pub(super) fn of(c: &ConsentRecord, ours: &BTreeSet<AdvertiserId>) -> Option<Self> {
        let advertisers: BTreeSet<AdvertiserId> = c.scope.advertisers.intersection(ours).copied().collect();
        if !c.status.is_valid_for_processing() || !c.scope.channels.contains(&Channel::Email) || advertisers.is_empty()
        {
            return None;
        }
        let delta = Scope {
            advertisers,
            product_categories: c.scope.product_categories.clone(),
            channels: [Channel::Email].into(),
        };
        Some(Self {
            id: c.id,
            contact_points: c.contact_points.iter().copied().collect(),
            delta: (delta != c.scope).then_some(delta),
        })
    }
}
