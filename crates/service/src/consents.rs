//! Recording consents and what happens to them: capture with evidence (the server decides the
//! status from the verification rules, R13–R20), withdrawal (R40), objection (R42), use (R23).

use std::collections::{BTreeMap, BTreeSet};

use jiff::{SignedDuration, Timestamp};
use konsent_domain::channel::Channel;
use konsent_domain::consent::{
    CaptureMethod, CompletenessInput, ConsentRecord, ConsentStatus, DeclarationRecipient, Evidence, Scope, Source,
    Validity, check_phone_completeness, verification_status,
};
use konsent_domain::contact::ContactKind;
use konsent_domain::ids::{AdvertiserId, ConsentId, ContactPointId, EventId, PersonId, TenantId};
use konsent_domain::ledger::{Actor, EventBody};
use konsent_domain::party::{Advertiser, PersonData, RecipientClass};
use konsent_domain::settings::TenantSettings;
use konsent_domain::text::ConsentTextVersion;
use konsent_domain::usage::UseRecord;
use konsent_store::{PendingEvent, SideWrite, queries};

use crate::context::Konsent;
use crate::error::ServiceError;

/// How long after the declaration an electronic capture may be recorded (R19).
pub const CONTEMPORANEITY: SignedDuration = SignedDuration::from_mins(5);

/// A consent declaration to record.
#[derive(Debug, Clone)]
pub struct NewConsent {
    /// Person.
    pub person_id: PersonId,
    /// Contact points it is bound to.
    pub contact_points: BTreeSet<ContactPointId>,
    /// Text version shown.
    pub text_id: konsent_domain::ids::TextId,
    /// Scope selected (must lie within the text's scope).
    pub scope: Scope,
    /// How it was captured.
    pub capture_method: CaptureMethod,
    /// Who received it (phone/assisted capture).
    pub declaration_recipient: Option<DeclarationRecipient>,
    /// First or third party.
    pub source: Source,
    /// The person acted affirmatively.
    pub affirmative_action: bool,
    /// When the person gave it.
    pub given_at: Timestamp,
    /// Capture time-zone offset in seconds.
    pub capture_offset_seconds: i32,
    /// Evidence so far.
    pub evidence: Vec<Evidence>,
    /// Validity.
    pub validity: Validity,
}

/// Everything the rules need to know about the context of a consent, loaded or held in memory.
#[derive(Debug)]
pub struct ConsentContext<'a> {
    /// The text version.
    pub text: &'a ConsentTextVersion,
    /// All advertisers of the tenant.
    pub advertisers: &'a [Advertiser],
    /// The person's data.
    pub person: Option<&'a PersonData>,
    /// Consumer or business.
    pub recipient_class: RecipientClass,
    /// Kinds of the person's contact points.
    pub contact_kinds: &'a BTreeMap<ContactPointId, ContactKind>,
    /// Person's age today, if known.
    pub age: Option<i16>,
    /// The tenant's settings (verification policy, four-eyes approval).
    pub settings: &'a TenantSettings,
}

/// Builds the record and decides its status from its evidence (pure; no I/O).
pub fn assess(
    id: ConsentId,
    nc: NewConsent,
    ctx: &ConsentContext<'_>,
    now: Timestamp,
) -> Result<Assessed, ServiceError> {
    let mut errors = Vec::new();
    // R19: recorded when given; paper may be entered within a day, everything else within minutes.
    // An import records consents given elsewhere in the past (R25, R26): its time is the source's.
    let limit =
        if nc.capture_method == CaptureMethod::Paper { SignedDuration::from_hours(24) } else { CONTEMPORANEITY };
    if nc.capture_method != CaptureMethod::Import && now - nc.given_at > limit {
        errors.push(crate::FieldError {
            field: "given_at".into(),
            message: format!("consent must be recorded within {} minutes of being given (R19)", limit.as_mins()),
        });
    }
    if nc.given_at - now > SignedDuration::from_mins(1) {
        errors.push(crate::FieldError { field: "given_at".into(), message: "lies in the future".into() });
    }
    if !ctx.text.scope.covers(&nc.scope) {
        errors.push(crate::FieldError {
            field: "scope".into(),
            message: "scope exceeds what the consent text covers".into(),
        });
    }
    if nc.scope.is_empty() {
        errors.push(crate::FieldError {
            field: "scope".into(),
            message: "scope names no advertiser, category or channel".into(),
        });
    }
    for cp in &nc.contact_points {
        if !ctx.contact_kinds.contains_key(cp) {
            errors.push(crate::FieldError {
                field: "contact_points".into(),
                message: format!("contact point {cp} does not belong to the person"),
            });
        }
    }
    if !errors.is_empty() {
        return Err(ServiceError::Invalid(errors));
    }
    let mut record = ConsentRecord {
        id,
        person_id: nc.person_id,
        contact_points: nc.contact_points,
        text_id: ctx.text.id,
        text_sha256: ctx.text.sha256.clone(),
        language: ctx.text.language.clone(),
        scope: nc.scope,
        status: ConsentStatus::Requested,
        recipient_class: ctx.recipient_class,
        capture_method: nc.capture_method,
        declaration_recipient: nc.declaration_recipient,
        source: nc.source,
        affirmative_action: nc.affirmative_action,
        given_at: nc.given_at,
        capture_offset_seconds: nc.capture_offset_seconds,
        recorded_at: now,
        granted_at: None,
        last_use_at: None,
        last_change_at: now,
        evidence: nc.evidence,
        validity: nc.validity,
        approval_pending: false,
    };
    let missing = decide_status(&mut record, ctx, now);
    Ok(Assessed { record, missing })
}

/// Sets the record's status from its evidence (verification rules, § 7a completeness for consumer
/// phone consents) and returns what keeps it from being usable. Pure.
pub fn decide_status(record: &mut ConsentRecord, ctx: &ConsentContext<'_>, now: Timestamp) -> Vec<Missing> {
    let kinds = |cp: ContactPointId| ctx.contact_kinds.get(&cp).copied();
    let outcome = verification_status(record, &kinds, &ctx.settings.verification, ctx.age);
    let mut status = outcome.status;
    let mut missing: Vec<Missing> =
        outcome.missing.iter().map(|g| Missing { code: g.code(), label_de: g.label_de() }).collect();
    if ctx.recipient_class == RecipientClass::Consumer && record.scope.channels.iter().any(|c| c.is_phone()) {
        let named: Vec<Advertiser> =
            ctx.advertisers.iter().filter(|a| record.scope.advertisers.contains(&a.id)).cloned().collect();
        let input = CompletenessInput { record, person: ctx.person, advertisers: &named, text: Some(ctx.text) };
        if let Err(items) = check_phone_completeness(&input) {
            // § 7a documentation incomplete (R20): never usable for calls until completed; an
            // imported or legacy consent without it is Unknown until re-permissioned (R25, R26).
            missing.extend(items.iter().map(|m| Missing { code: m.code(), label_de: m.label_de() }));
            if record.capture_method == CaptureMethod::Import {
                status = ConsentStatus::Unknown;
            } else if status.is_valid_for_processing() {
                status = ConsentStatus::Requested;
            }
        }
    }
    record.status = status;
    if status.is_valid_for_processing() && record.granted_at.is_none() {
        record.granted_at = Some(now);
        // Four-eyes option: a consent taken by staff waits for a second person before use.
        record.approval_pending = ctx.settings.needs_approval(record.capture_method);
    }
    missing
}

/// One thing that keeps a consent from being usable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Missing {
    /// Stable code (verification gap or § 7a completeness item).
    pub code: &'static str,
    /// German explanation.
    pub label_de: &'static str,
}

/// A consent record with its decided status and what is still missing for `ConsentGiven`.
#[derive(Debug, Clone)]
pub struct Assessed {
    /// The record.
    pub record: ConsentRecord,
    /// Empty when the status is valid for processing.
    pub missing: Vec<Missing>,
}

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
            .ok_or_else(|| ServiceError::invalid("text_id", "no such published consent text"))?;
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

    fn event(&self, actor: &Actor, body: EventBody) -> PendingEvent {
        PendingEvent { event_id: self.id(EventId::from_parts), actor: actor.clone(), body }
    }

    /// The events that record an assessed consent (and mark the contact points its evidence verified).
    pub fn consent_events(&self, actor: &Actor, record: &ConsentRecord) -> Vec<PendingEvent> {
        let mut out = vec![self.event(actor, EventBody::ConsentRecorded { consent: record.clone() })];
        for ev in &record.evidence {
            if let Some(cp) = ev.verifies_contact_point()
                && record.contact_points.contains(&cp)
            {
                out.push(self.event(
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
            return Err(ServiceError::Conflict("the consent is already withdrawn".into()));
        }
        if let Some(d) = &scope_delta
            && d.advertisers.is_empty()
            && d.product_categories.is_empty()
            && d.channels.is_empty()
        {
            return Err(ServiceError::invalid("scope", "name what to withdraw, or omit scope to withdraw everything"));
        }
        let now = self.now();
        // What is still queued about this consent (a confirmation mail, a code) is not sent (R39):
        // on a full withdrawal, or when e-mail is withdrawn.
        let cancels = scope_delta.as_ref().is_none_or(|d| d.channels.contains(&Channel::Email));
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
        // An objection to everything also stops what is still queued for the person.
        let side = if channels.is_empty() && advertisers.is_empty() {
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
        self.event(
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
        self.event(actor, EventBody::ObjectionRecorded { person_id, channels, advertisers, via: via.to_string(), at })
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
        self.event(actor, EventBody::ConsentStatusChanged { consent_id, from, to, reason: reason.to_string(), at })
    }

    /// The event of a use.
    pub fn use_event(&self, actor: &Actor, record: UseRecord) -> PendingEvent {
        self.event(actor, EventBody::UseRecorded { record })
    }
}
