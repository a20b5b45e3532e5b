//! Assessing a consent declaration (pure, no I/O): the contemporaneity limit (R19), the scope
//! within the text, and the status the evidence supports under the verification rules (R13–R18),
//! the § 7a completeness of consumer phone consents (R20), imports (R25, R26) and four-eyes.

use std::collections::{BTreeMap, BTreeSet};

use jiff::{SignedDuration, Timestamp};
use konsent_domain::consent::{
    CaptureMethod, CompletenessInput, ConsentRecord, ConsentStatus, DeclarationRecipient, Evidence, Scope, Source,
    Validity, check_phone_completeness, verification_status,
};
use konsent_domain::contact::ContactKind;
use konsent_domain::ids::{ConsentId, ContactPointId, PersonId};
use konsent_domain::party::{Advertiser, PersonData, RecipientClass};
use konsent_domain::settings::TenantSettings;
use konsent_domain::text::ConsentTextVersion;

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
    /// The consent this one renews (re-permission, R43).
    pub renews: Option<ConsentId>,
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
        renews: nc.renews,
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
    // An ended consent stays ended whatever evidence arrives later (a confirmation link clicked
    // after the withdrawal, a code entered after the revocation): only a new record renews it.
    if record.status.has_ended() {
        missing.insert(
            0,
            Missing {
                code: "consent_ended",
                label_de: "Einwilligung beendet (widerrufen, entzogen, abgelaufen oder für ungültig erklärt)",
            },
        );
        return missing;
    }
    // A renewal (R43) is valid as `RenewedConsentGiven`.
    if status == ConsentStatus::Given && record.renews.is_some() {
        status = ConsentStatus::RenewedGiven;
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
