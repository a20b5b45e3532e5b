//! Recording consents and what happens to them: capture with evidence (the server decides the
//! status from the verification rules, R13–R20), withdrawal (R40), objection (R42), use (R23).

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;
use konsent_domain::channel::Channel;
use konsent_domain::consent::{ConsentRecord, ConsentStatus, Scope};
use konsent_domain::contact::ContactKind;
use konsent_domain::ids::{AdvertiserId, ConsentId, ContactPointId, PersonId, TenantId};
use konsent_domain::ledger::{Actor, EventBody};
use konsent_domain::party::{Advertiser, PersonData, RecipientClass};
use konsent_domain::settings::TenantSettings;
use konsent_domain::text::ConsentTextVersion;
use konsent_domain::usage::UseRecord;
use konsent_store::{PendingEvent, SideWrite, queries};

use crate::context::Konsent;
use crate::error::ServiceError;

pub use crate::assess::{Assessed, CONTEMPORANEITY, ConsentContext, Missing, NewConsent, assess, decide_status};

/// What [`ConsentContext`] borrows, loaded from the store.
#[derive(Debug)]
pub struct LoadedContext {
    text: ConsentTextVersion,
    advertisers: Vec<Advertiser>,
    data: Option<PersonData>,
    class: RecipientClass,
    kinds: BTreeMap<ContactPointId, ContactKind>,
    settings: TenantSettings,
}

impl LoadedContext {
    /// The context at `now` (the person's age is taken on that day).
    pub fn context(&self, now: Timestamp) -> ConsentContext<'_> {
        ConsentContext {
            text: &self.text,
            advertisers: &self.advertisers,
            person: self.data.as_ref(),
            recipient_class: self.class,
            contact_kinds: &self.kinds,
            age: self.data.as_ref().and_then(|d| d.age_on(konsent_domain::time::utc_date(now))),
            settings: &self.settings,
        }
    }

    /// The text version.
    pub fn text(&self) -> &ConsentTextVersion {
        &self.text
    }

    /// The tenant's advertisers.
    pub fn advertisers(&self) -> &[Advertiser] {
        &self.advertisers
    }
}

impl Konsent {
    /// Loads the context of a consent of `person` under text `text_id` (a draft does not count).
    pub async fn load_context(
        &self,
        tenant: TenantId,
        person_id: PersonId,
        text_id: konsent_domain::ids::TextId,
    ) -> Result<LoadedContext, ServiceError> {
        let person = queries::person(&self.db, tenant, person_id)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("person {person_id}")))?;
        let text = queries::text(&self.db, tenant, text_id)
            .await?
            .filter(|t| t.state != konsent_domain::text::TextState::Draft)
            .ok_or_else(|| {
                ServiceError::invalid(
                    "text_id",
                    "kein veröffentlichter Einwilligungstext mit dieser ID / no such published consent text",
                )
            })?;
        let advertisers = queries::advertisers(&self.db, tenant).await?;
        let data = self.person_data(tenant, person_id).await?;
        let kinds: BTreeMap<ContactPointId, ContactKind> = queries::contact_points(&self.db, tenant, person_id)
            .await?
            .into_iter()
            .filter_map(|c| {
                let k = match c.kind.as_str() {
                    "email" => ContactKind::Email,
                    "phone" => ContactKind::Phone,
                    "postal" => ContactKind::Postal,
                    _ => return None,
                };
                Some((c.id, k))
            })
            .collect();
        let class =
            if person.recipient_class == "business" { RecipientClass::Business } else { RecipientClass::Consumer };
        let settings = queries::tenant_settings(&self.db, tenant).await?;
        Ok(LoadedContext { text, advertisers, data, class, kinds, settings })
    }

    /// The events that record an assessed consent (and mark the contact points its evidence verified).
    pub fn consent_events(&self, actor: &Actor, record: &ConsentRecord) -> Vec<PendingEvent> {
        let mut out = vec![self.pending(actor, EventBody::ConsentRecorded { consent: Box::new(record.clone()) })];
        for ev in &record.evidence {
            if let Some(cp) = ev.verifies_contact_point()
                && record.contact_points.contains(&cp)
            {
                out.push(self.pending(
                    actor,
                    EventBody::ContactPointVerified {
                        contact_point_id: cp,
                        method: ev.kind().to_string(),
                        at: record.recorded_at,
                    },
                ));
            }
        }
        out
    }

    /// Records a consent: loads its context, applies the verification rules, appends the events.
    pub async fn record_consent(
        &self,
        tenant: TenantId,
        actor: &Actor,
        nc: NewConsent,
    ) -> Result<Assessed, ServiceError> {
        self.check_evidence_files(tenant, nc.person_id, &nc.evidence).await?;
        if let Some(old) = nc.renews
            && queries::consent(&self.db, tenant, old).await?.is_none_or(|c| c.person_id != nc.person_id)
        {
            return Err(ServiceError::invalid(
                "renews",
                "keine Einwilligung dieser Person / not a consent of this person",
            ));
        }
        let l = self.load_context(tenant, nc.person_id, nc.text_id).await?;
        let now = self.now();
        let ctx = l.context(now);
        let assessed = assess(self.id(ConsentId::from_parts), nc, &ctx, now)?;
        self.append(tenant, self.consent_events(actor, &assessed.record), vec![]).await?;
        Ok(assessed)
    }

    /// Withdraws a consent in full (`scope_delta` None) or in part (R40); takes effect now.
    pub async fn withdraw(
        &self,
        tenant: TenantId,
        actor: &Actor,
        consent_id: ConsentId,
        scope_delta: Option<Scope>,
        via: &str,
    ) -> Result<ConsentRecord, ServiceError> {
        let c = queries::consent(&self.db, tenant, consent_id)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("consent {consent_id}")))?;
        if c.status == ConsentStatus::Withdrawn {
            return Err(ServiceError::Conflict(
                "die Einwilligung ist bereits widerrufen / the consent is already withdrawn".into(),
            ));
        }
        if let Some(d) = &scope_delta
            && d.advertisers.is_empty()
            && d.product_categories.is_empty()
            && d.channels.is_empty()
        {
            return Err(ServiceError::invalid(
                "scope",
                "angeben, was widerrufen wird, oder scope weglassen, um alles zu widerrufen / name what to withdraw, or omit scope to withdraw everything",
            ));
        }
        let now = self.now();
        // What is still queued about this consent (a confirmation mail, a code, a re-permission
        // request relying on it) is not sent (R39): on a full withdrawal, or when a channel that
        // carries messages (e-mail, SMS, messenger) is withdrawn.
        let cancels = scope_delta.as_ref().is_none_or(|d| d.channels.iter().any(|c| c.is_electronic_mail()));
        let side = if cancels {
            vec![SideWrite::CancelOutbox { person_ref: None, consent_ref: Some(consent_id.to_string()) }]
        } else {
            vec![]
        };
        self.append(tenant, vec![self.withdrawal_event(actor, consent_id, scope_delta, via, now)], side).await?;
        queries::consent(&self.db, tenant, consent_id)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("consent {consent_id}")))
    }

    /// Records an Art. 21 objection (empty sets = all channels and advertisers, R42).
    pub async fn object(
        &self,
        tenant: TenantId,
        actor: &Actor,
        person_id: PersonId,
        channels: BTreeSet<Channel>,
        advertisers: BTreeSet<AdvertiserId>,
        via: &str,
    ) -> Result<(), ServiceError> {
        queries::person(&self.db, tenant, person_id)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("person {person_id}")))?;
        let now = self.now();
        // An objection to advertising on a channel that carries messages (or to everything) also
        // stops what is still queued for the person: re-permission requests are advertising (R43).
        let side = if channels.is_empty() || channels.iter().any(|c| c.is_electronic_mail()) {
            vec![SideWrite::CancelOutbox { person_ref: Some(person_id.to_string()), consent_ref: None }]
        } else {
            vec![]
        };
        self.append(tenant, vec![self.objection_event(actor, person_id, channels, advertisers, via, now)], side)
            .await?;
        Ok(())
    }

    /// The event of a withdrawal (`scope_delta` None = full).
    pub fn withdrawal_event(
        &self,
        actor: &Actor,
        consent_id: ConsentId,
        scope_delta: Option<Scope>,
        via: &str,
        at: Timestamp,
    ) -> PendingEvent {
        self.pending(
            actor,
            EventBody::ConsentWithdrawn { consent_id, scope_delta, via: via.to_string(), receiving_agent: None, at },
        )
    }

    /// The event of an Art. 21 objection (empty sets = everything).
    pub fn objection_event(
        &self,
        actor: &Actor,
        person_id: PersonId,
        channels: BTreeSet<Channel>,
        advertisers: BTreeSet<AdvertiserId>,
        via: &str,
        at: Timestamp,
    ) -> PendingEvent {
        self.pending(actor, EventBody::ObjectionRecorded { person_id, channels, advertisers, via: via.to_string(), at })
    }

    /// The event of a status change (scheduler expiry, controller revocation, invalidation).
    pub fn status_event(
        &self,
        actor: &Actor,
        consent_id: ConsentId,
        from: ConsentStatus,
        to: ConsentStatus,
        reason: &str,
        at: Timestamp,
    ) -> PendingEvent {
        self.pending(actor, EventBody::ConsentStatusChanged { consent_id, from, to, reason: reason.to_string(), at })
    }

    /// The event of a use.
    pub fn use_event(&self, actor: &Actor, record: UseRecord) -> PendingEvent {
        self.pending(actor, EventBody::UseRecorded { record: Box::new(record) })
    }
}
