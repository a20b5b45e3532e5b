//! Erasure (Art. 17), legal holds and the retention sweep: the planner of `domain::erasure`
//! decides, this applies it — consents withdrawn, contact points suppressed by keyed hash (so the
//! person is never re-imported, R44, R63), what may go deleted at once, the rest restricted until
//! its date, and the person's key destroyed once nothing must be kept (crypto-shredding; the
//! ledger keeps its pseudonymous entries, so it stays verifiable). Every step is a ledger entry
//! without personal content (the deletion protocol, R58).

use jiff::Timestamp;
use konsent_domain::consent::ConsentStatus;
use konsent_domain::contact::ContactValue;
use konsent_domain::erasure::{Disposition, ErasureInput, Item, PlanLine, kept_until, plan, reply};
use konsent_domain::ids::{HoldId, PersonId, TenantId};
use konsent_domain::ledger::{Actor, EventBody};
use konsent_domain::retention::LegalHold;
use konsent_domain::suppression::{SuppressionReason, SuppressionScope};
use konsent_store::{SideWrite, queries};
use serde::Serialize;

use crate::context::Konsent;
use crate::error::ServiceError;

/// What an erasure did.
#[derive(Debug, Clone, Serialize)]
pub struct ErasureOutcome {
    /// Every item and what happened to it.
    pub plan: Vec<PlanLine>,
    /// The latest date anything is kept to (None: all gone).
    pub kept_until: Option<Timestamp>,
    /// The person's key was destroyed: nothing of theirs is readable any more.
    pub key_destroyed: bool,
    /// The reply to the person (German, then English).
    pub reply: String,
}

pub use crate::sweep::RunReport;

impl Konsent {
    /// Erases a person as far as the law allows now; see [`ErasureOutcome`].
    pub async fn erase_person(
        &self,
        tenant: TenantId,
        actor: &Actor,
        person: PersonId,
        via: &str,
    ) -> Result<ErasureOutcome, ServiceError> {
        queries::person(&self.db, tenant, person)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("person {person}")))?;
        if queries::restriction(&self.db, tenant, person).await?.is_some_and(|r| r.state == "erased") {
            return Err(ServiceError::Conflict(format!("Person bereits gelöscht / person {person} is already erased")));
        }
        let now = self.now();
        let consents = queries::consents_of(&self.db, tenant, person).await?;
        let cps = queries::contact_points(&self.db, tenant, person).await?;
        let cp_ids: Vec<_> = cps.iter().map(|c| c.id).collect();
        let files = queries::attachments_of(&self.db, tenant, person).await?;
        let hold = self.active_hold(tenant, person).await?;
        let rules = self.rules(tenant).await?;
        let input = ErasureInput {
            consents: &consents,
            contact_points: &cp_ids,
            attachments: &files,
            hold_until: None,
            now,
            rules: &rules,
        };
        // Dates come from the duties alone; a hold only postpones (R61).
        let base = plan(&input);
        let shown = plan(&ErasureInput { hold_until: hold, ..input });
        let until = kept_until(&base);
        let mut events = Vec::new();
        // The request ends every consent and blocks every contact point for good.
        for c in consents.iter().filter(|c| c.status.is_valid_for_processing() || c.status == ConsentStatus::Requested)
        {
            events.push(self.withdrawal_event(actor, c.id, None, via, now));
        }
        for cp in &cps {
            if let Some(value) = self.contact_value(tenant, person, cp.id).await? {
                let source = format!("erasure {person}");
                let entry = self.suppression_entry(
                    tenant,
                    &value,
                    SuppressionScope::all(),
                    SuppressionReason::Erasure,
                    &source,
                );
                events.push(self.pending(actor, EventBody::SuppressionAdded { entry }));
            }
        }
        events.push(self.pending(
            actor,
            EventBody::ErasureRequested { person_id: person, plan: shown.clone(), kept_until: until, at: now },
        ));
        let everything_goes = until.is_none() && hold.is_none();
        let (ev, side) = self.vault_deletion(actor, person, &shown, everything_goes, now);
        events.push(ev);
        let side = vec![side, SideWrite::CancelOutbox { person_ref: Some(person.to_string()), consent_ref: None }];
        self.append(tenant, events, side).await?;
        tracing::info!(%person, kept = until.is_some(), "erasure carried out");
        Ok(ErasureOutcome { reply: reply(&shown), plan: shown, kept_until: until, key_destroyed: everything_goes })
    }

    /// Restricts processing (Art. 18, R48): the person drops out of every selection and the gate,
    /// and only compliance sees their data, until the restriction is lifted.
    pub async fn restrict_person(
        &self,
        tenant: TenantId,
        actor: &Actor,
        person: PersonId,
        reason: &str,
        via: &str,
    ) -> Result<(), ServiceError> {
        queries::person(&self.db, tenant, person)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("person {person}")))?;
        if self.restriction_state(tenant, person).await?.is_some() {
            return Err(ServiceError::Conflict(format!(
                "Verarbeitung der Person bereits eingeschränkt / person {person} is already restricted"
            )));
        }
        let body = EventBody::RestrictionRequested {
            person_id: person,
            reason: reason.chars().take(100).collect(),
            via: via.chars().take(50).collect(),
            at: self.now(),
        };
        self.append(tenant, vec![self.pending(actor, body)], vec![]).await?;
        Ok(())
    }

    /// Lifts an Art. 18 restriction (one that follows an erasure request cannot be lifted).
    pub async fn lift_restriction(
        &self,
        tenant: TenantId,
        actor: &Actor,
        person: PersonId,
    ) -> Result<(), ServiceError> {
        match self.restriction_state(tenant, person).await?.as_deref() {
            Some("art18") => {}
            Some(_) => {
                return Err(ServiceError::Conflict("die Person hat Löschung verlangt, die Einschränkung bleibt / the person asked for erasure; this restriction stays".into()));
            }
            None => {
                return Err(ServiceError::Conflict(format!(
                    "Verarbeitung der Person nicht eingeschränkt / person {person} is not restricted"
                )));
            }
        }
        let body = EventBody::RestrictionLifted { person_id: person, at: self.now() };
        self.append(tenant, vec![self.pending(actor, body)], vec![]).await?;
        Ok(())
    }

    /// The tenant's Löschregeln in force (defaults with its overrides).
    pub async fn rules(
        &self,
        tenant: TenantId,
    ) -> Result<
        std::collections::BTreeMap<konsent_domain::retention::Datenart, konsent_domain::retention::Loeschregel>,
        ServiceError,
    > {
        Ok(konsent_domain::retention::concept::effective_rules(&self.settings(tenant).await?.retention))
    }

    /// Refuses contact points of persons who asked for erasure: an import or CRM sync must not
    /// bring them back (R44, E12). The person's own new sign-up through a form is not refused.
    pub async fn refuse_erased(&self, tenant: TenantId, contacts: &[ContactValue]) -> Result<(), ServiceError> {
        let mut errors = Vec::new();
        for (i, c) in contacts.iter().enumerate() {
            if self.suppressions_for(tenant, c).await?.iter().any(|s| s.reason == SuppressionReason::Erasure) {
                errors.push(crate::FieldError {
                    field: format!("contacts[{i}]"),
                    message: "belongs to a person who asked for erasure (Art. 17); it is not created again".into(),
                });
            }
        }
        if errors.is_empty() { Ok(()) } else { Err(ServiceError::Invalid(errors)) }
    }

    /// `restricted` or `erased` when the person asked for erasure.
    pub async fn restriction_state(&self, tenant: TenantId, person: PersonId) -> Result<Option<String>, ServiceError> {
        Ok(queries::restriction(&self.db, tenant, person).await?.map(|r| r.state))
    }

    /// Records that compliance read a restricted person's data (R48).
    pub async fn audit_restricted_read(
        &self,
        tenant: TenantId,
        actor: &Actor,
        person: PersonId,
        what: &str,
    ) -> Result<(), ServiceError> {
        let body = EventBody::RestrictedDataRead { person_id: person, what: what.into() };
        self.append(tenant, vec![self.pending(actor, body)], vec![]).await?;
        Ok(())
    }

    /// The deletion of the items a plan deletes now (or all), and its protocol entry.
    pub(crate) fn vault_deletion(
        &self,
        actor: &Actor,
        person: PersonId,
        lines: &[PlanLine],
        all: bool,
        at: Timestamp,
    ) -> (konsent_store::PendingEvent, SideWrite) {
        let now: Vec<&Item> =
            lines.iter().filter(|l| all || l.disposition == Disposition::DeleteNow).map(|l| &l.item).collect();
        let side = SideWrite::EraseVault {
            person_id: person,
            person_data: now.iter().any(|i| matches!(i, Item::PersonData)),
            contact_points: now
                .iter()
                .filter_map(|i| match i {
                    Item::ContactPoint { id } => Some(*id),
                    _ => None,
                })
                .collect(),
            attachments: now
                .iter()
                .filter_map(|i| match i {
                    Item::Attachment { sha256 } => Some(sha256.clone()),
                    _ => None,
                })
                .collect(),
            destroy_key: all,
        };
        let items: Vec<Item> = now.into_iter().cloned().collect();
        let ev = self.pending(actor, EventBody::VaultErased { person_id: person, items, key_destroyed: all, at });
        (ev, side)
    }

    /// The latest review date of the person's active holds.
    pub(crate) async fn active_hold(
        &self,
        tenant: TenantId,
        person: PersonId,
    ) -> Result<Option<Timestamp>, ServiceError> {
        Ok(queries::holds_of(&self.db, tenant, person)
            .await?
            .into_iter()
            .filter(|h| h.released_at.is_none())
            .map(|h| h.review_at)
            .max())
    }

    /// Places a legal hold: nothing of the person is deleted until it is released (R61).
    pub async fn place_hold(
        &self,
        tenant: TenantId,
        actor: &Actor,
        person: PersonId,
        reason: &str,
        owner: &str,
        review_at: Timestamp,
    ) -> Result<LegalHold, ServiceError> {
        queries::person(&self.db, tenant, person)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("person {person}")))?;
        let reason = reason.trim();
        if !["litigation", "authority_request", "dsar_pending", "complaint"].contains(&reason) {
            return Err(ServiceError::invalid(
                "reason",
                "litigation, authority_request, dsar_pending oder complaint verwenden / use litigation, authority_request, dsar_pending or complaint",
            ));
        }
        if owner.trim().is_empty() {
            return Err(ServiceError::invalid(
                "owner",
                "angeben, wer für die Sperre verantwortlich ist / name who answers for the hold",
            ));
        }
        let now = self.now();
        if review_at <= now {
            return Err(ServiceError::invalid("review_at", "muss in der Zukunft liegen / must lie in the future"));
        }
        let hold = LegalHold {
            id: self.id(HoldId::from_parts),
            person_id: person,
            reason: reason.into(),
            owner: owner.trim().chars().take(100).collect(),
            review_at,
            placed_at: now,
            released_at: None,
        };
        self.append(tenant, vec![self.pending(actor, EventBody::HoldPlaced { hold: hold.clone() })], vec![]).await?;
        Ok(hold)
    }

    /// Releases a hold; the next retention run deletes what is then due.
    pub async fn release_hold(&self, tenant: TenantId, actor: &Actor, hold: HoldId) -> Result<(), ServiceError> {
        let h = queries::hold(&self.db, tenant, hold)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("hold {hold}")))?;
        if h.released_at.is_some() {
            return Err(ServiceError::Conflict(format!(
                "Aufbewahrungssperre bereits aufgehoben / hold {hold} is already released"
            )));
        }
        let at = self.now();
        self.append(tenant, vec![self.pending(actor, EventBody::HoldReleased { hold_id: hold, at })], vec![]).await?;
        Ok(())
    }
}
