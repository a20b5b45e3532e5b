//! The retention sweep (R58): what the deletion concept says is due goes, in one run a day or on
//! demand — whole persons (restrictions past their date, inactive persons without valid consent
//! or proof duty, unconfirmed double opt-ins), single items of persons who are otherwise kept,
//! stale tokens, send logs and closed request records. Legal holds stop it (R61); the proof of a
//! consent in use is never touched, and a consent unused beyond its proof period expires first
//! (R60, E10). The run's own protocol holds counts and ids only (E7).

use std::collections::BTreeMap;

use jiff::{SignedDuration, Timestamp};
use konsent_domain::consent::ConsentStatus;
use konsent_domain::erasure::sweep::{PersonSweep, needs_proof, sweep_person};
use konsent_domain::erasure::{Disposition, Item, PlanLine, proof_kept_until};
use konsent_domain::ids::{ConsentId, PersonId, TenantId};
use konsent_domain::ledger::{Actor, EventBody};
use konsent_domain::retention::{Datenart, Loeschregel, retain_until, started_before};
use konsent_store::{SideWrite, queries};
use serde::Serialize;

use crate::context::Konsent;
use crate::error::ServiceError;

/// What a retention run did (or would do).
#[derive(Debug, Clone, Default, Serialize)]
pub struct RunReport {
    /// Only computed.
    pub dry_run: bool,
    /// Persons whose remaining data was deleted (key destroyed).
    pub erased: Vec<PersonId>,
    /// Persons due but kept by a legal hold.
    pub held: Vec<PersonId>,
    /// Consents set to `ConsentExpired`: unused beyond their proof period (E10) or never
    /// confirmed (D9).
    pub expired: Vec<ConsentId>,
    /// Single files and contact points deleted of persons who are otherwise kept.
    pub items: u64,
    /// Unused confirmation tokens deleted (D10).
    pub tokens: u64,
    /// Send logs deleted (D5).
    pub messages: u64,
    /// Closed request records deleted (D13).
    pub requests: u64,
}

fn rule(rules: &BTreeMap<Datenart, Loeschregel>, d: Datenart) -> Loeschregel {
    rules.get(&d).copied().unwrap_or(konsent_domain::retention::default_rules()[&d])
}

impl Konsent {
    /// The retention sweep of every tenant (the daily job).
    pub async fn retention_run_all(&self) -> Result<Vec<(TenantId, Result<RunReport, ServiceError>)>, ServiceError> {
        let mut out = Vec::new();
        for (tenant, _) in queries::tenants(&self.db).await? {
            out.push((tenant, self.retention_run(tenant, &Actor::System, false).await));
        }
        Ok(out)
    }

    /// One tenant's sweep; see the module documentation.
    pub async fn retention_run(
        &self,
        tenant: TenantId,
        actor: &Actor,
        dry_run: bool,
    ) -> Result<RunReport, ServiceError> {
        let now = self.now();
        let rules = self.rules(tenant).await?;
        let mut report = RunReport { dry_run, ..Default::default() };
        let mut due: Vec<PersonId> = queries::restrictions_due(&self.db, tenant, now.as_microsecond()).await?;

        // D9: a double opt-in never confirmed ends a month after its link expired; the person's
        // clear data goes with it unless something else of theirs must be kept.
        let d9 = started_before(&rule(&rules, Datenart::D9), now).as_microsecond();
        for (consent, person) in queries::unconfirmed_requests(&self.db, tenant, d9).await? {
            if !dry_run {
                let ev = self.status_event(
                    actor,
                    consent,
                    ConsentStatus::Requested,
                    ConsentStatus::Expired,
                    "doi_not_confirmed",
                    now,
                );
                match self.append(tenant, vec![ev], vec![]).await {
                    Ok(_) => {}
                    // Confirmed or withdrawn while the sweep ran: nothing to expire any more.
                    Err(ServiceError::Conflict(_) | ServiceError::Ended(_)) => continue,
                    Err(e) => return Err(e),
                }
            }
            report.expired.push(consent);
            let others = queries::consents_of(&self.db, tenant, person).await?;
            let kept = others.iter().any(|c| c.id != consent && needs_proof(c, now, &rules));
            if !kept && !due.contains(&person) {
                due.push(person);
            }
        }

        // D12: persons who never asked: nothing valid, nothing to prove any more, a year quiet.
        let year_ago = (now - SignedDuration::from_hours(24 * 365)).as_microsecond();
        for (person, _) in queries::inactive_persons(&self.db, tenant, year_ago).await? {
            let consents = queries::consents_of(&self.db, tenant, person).await?;
            // A request still unconfirmed after a year is dead; a valid consent or a proof duty keeps.
            let keeps = |c: &konsent_domain::consent::ConsentRecord| {
                c.status.is_valid_for_processing() || proof_kept_until(c, now, &rules).is_some()
            };
            if !consents.iter().any(keeps) && !due.contains(&person) {
                due.push(person);
            }
        }

        for person in due {
            if self.active_hold(tenant, person).await?.is_some() {
                report.held.push(person);
                continue;
            }
            report.erased.push(person);
            if dry_run {
                continue;
            }
            let (ev, side) = self.vault_deletion(actor, person, &[], true, now);
            self.append(
                tenant,
                vec![ev],
                vec![side, SideWrite::CancelOutbox { person_ref: Some(person.to_string()), consent_ref: None }],
            )
            .await?;
        }

        self.sweep_items(tenant, actor, &rules, now, &mut report).await?;
        let (side, requests) = self.purges(tenant, &rules, now, &mut report).await?;
        if !dry_run {
            let body = EventBody::RetentionRun {
                at: now,
                erased: report.erased.len() as u64,
                held: report.held.len() as u64,
                expired: report.expired.len() as u64,
                items: report.items,
                tokens: report.tokens,
                messages: report.messages,
                requests,
            };
            self.append(tenant, vec![self.pending(actor, body)], side).await?;
        }
        Ok(report)
    }

    /// E10 and item-level deletion for persons who are kept: see [`sweep_person`].
    async fn sweep_items(
        &self,
        tenant: TenantId,
        actor: &Actor,
        rules: &BTreeMap<Datenart, Loeschregel>,
        now: Timestamp,
        report: &mut RunReport,
    ) -> Result<(), ServiceError> {
        // Nothing changed or used within the shortest proof period can be due.
        let shortest = [Datenart::D1, Datenart::D4].map(|d| started_before(&rule(rules, d), now)).into_iter().max();
        let before = shortest.unwrap_or(now).as_microsecond();
        for person in queries::sweep_candidates(&self.db, tenant, before).await? {
            if report.erased.contains(&person) || report.held.contains(&person) {
                continue;
            }
            if queries::restriction(&self.db, tenant, person).await?.is_some_and(|r| r.state == "erased") {
                continue;
            }
            let consents = queries::consents_of(&self.db, tenant, person).await?;
            let cps = queries::contact_points_stored(&self.db, tenant, person).await?;
            let files = queries::attachments_of(&self.db, tenant, person).await?;
            let s: PersonSweep = sweep_person(&consents, &cps, &files, now, rules);
            if s.is_empty() {
                continue;
            }
            if self.active_hold(tenant, person).await?.is_some() {
                report.held.push(person);
                continue;
            }
            report.expired.extend(&s.expire);
            report.items += (s.attachments.len() + s.contact_points.len()) as u64;
            if report.dry_run {
                continue;
            }
            let mut events: Vec<_> = s
                .expire
                .iter()
                .map(|id| {
                    let from = consents.iter().find(|c| c.id == *id).map_or(ConsentStatus::Given, |c| c.status);
                    self.status_event(actor, *id, from, ConsentStatus::Expired, "unused_beyond_proof_period", now)
                })
                .collect();
            let mut side = Vec::new();
            let lines: Vec<PlanLine> = s
                .attachments
                .iter()
                .map(|sha| Item::Attachment { sha256: sha.clone() })
                .chain(s.contact_points.iter().map(|id| Item::ContactPoint { id: *id }))
                .map(|item| PlanLine { item, disposition: Disposition::DeleteNow })
                .collect();
            if !lines.is_empty() {
                let (ev, vault) = self.vault_deletion(actor, person, &lines, false, now);
                events.push(ev);
                side.push(vault);
            }
            self.append(tenant, events, side).await?;
        }
        Ok(())
    }

    /// Tokens (D10), send logs (D5) and closed request records (D13) whose time has come.
    async fn purges(
        &self,
        tenant: TenantId,
        rules: &BTreeMap<Datenart, Loeschregel>,
        now: Timestamp,
        report: &mut RunReport,
    ) -> Result<(Vec<SideWrite>, Vec<String>), ServiceError> {
        let d10 = started_before(&rule(rules, Datenart::D10), now).as_microsecond();
        report.tokens = queries::stale_doi_tokens(&self.db, tenant, d10).await?;
        let d5 = rule(rules, Datenart::D5);
        let messages: Vec<String> = queries::old_messages(&self.db, tenant, started_before(&d5, now).as_microsecond())
            .await?
            .into_iter()
            .filter(|(_, at)| retain_until(&d5, *at) <= now)
            .map(|(id, _)| id)
            .collect();
        report.messages = messages.len() as u64;
        let d13 = rule(rules, Datenart::D13);
        let requests: Vec<String> =
            queries::closed_requests(&self.db, tenant, started_before(&d13, now).as_microsecond())
                .await?
                .into_iter()
                .filter(|(_, at)| retain_until(&d13, *at) <= now)
                .map(|(id, _)| id)
                .collect();
        report.requests = requests.len() as u64;
        let side = if report.tokens > 0 || !messages.is_empty() {
            vec![SideWrite::Purge { doi_tokens_before: (report.tokens > 0).then_some(d10), messages }]
        } else {
            vec![]
        };
        Ok((side, requests))
    }
}
