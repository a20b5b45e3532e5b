//! Assisted capture by staff (call centre, advisors, paper): evidence added after the fact
//! (a recording once the call is over, a scan), the files it names checked against the stored
//! attachments, the four-eyes approval, and the tenant settings that govern both.

use konsent_domain::attachment::AttachmentKind;
use konsent_domain::consent::{ConsentRecord, ConsentStatus, Evidence};
use konsent_domain::ids::{ConsentId, PersonId, TenantId};
use konsent_domain::ledger::{Actor, EventBody};
use konsent_domain::settings::TenantSettings;
use konsent_store::{PendingEvent, ledger, queries};

use crate::consents::{Assessed, decide_status};
use crate::context::Konsent;
use crate::error::{FieldError, ServiceError};

/// The stored file an evidence item names, with the kind it must be.
fn named_file(ev: &Evidence) -> Option<(&str, AttachmentKind)> {
    match ev {
        Evidence::CallRecording { recording_hash, .. } => Some((recording_hash, AttachmentKind::Recording)),
        Evidence::PaperScan { scan_hash, .. } => Some((scan_hash, AttachmentKind::Scan)),
        _ => None,
    }
}

impl Konsent {
    /// Every recording or scan an evidence item names must be stored for the person, as that kind:
    /// the proof package hands over the original, not a hash of something nobody has.
    pub(crate) async fn check_evidence_files(
        &self,
        tenant: TenantId,
        person: PersonId,
        evidence: &[Evidence],
    ) -> Result<(), ServiceError> {
        let mut errors = Vec::new();
        let stored = queries::attachments_of(&self.db, tenant, person).await?;
        for (i, ev) in evidence.iter().enumerate() {
            let Some((sha, kind)) = named_file(ev) else { continue };
            let field = format!("evidence[{i}]");
            match stored.iter().find(|a| a.sha256 == sha.to_ascii_lowercase()) {
                None => errors.push(FieldError {
                    field,
                    message: format!(
                        "no {} with SHA-256 {sha} is stored for this person; upload it first \
                         (POST /v1/persons/{{id}}/attachments?kind={})",
                        kind.as_str(),
                        kind.as_str()
                    ),
                }),
                Some(a) if a.kind != kind => errors.push(FieldError {
                    field,
                    message: format!("the file {sha} is a {}, not a {}", a.kind.as_str(), kind.as_str()),
                }),
                Some(_) => {}
            }
        }
        if errors.is_empty() { Ok(()) } else { Err(ServiceError::Invalid(errors)) }
    }

    /// Adds evidence to a pending or valid consent (the recording after the call, the scan after
    /// the meeting) and decides its status again. An Unknown (legacy, imported) consent is not
    /// completed this way: it needs a new consent under the current text (R26).
    pub async fn add_evidence(
        &self,
        tenant: TenantId,
        actor: &Actor,
        consent_id: ConsentId,
        evidence: Vec<Evidence>,
    ) -> Result<Assessed, ServiceError> {
        if evidence.is_empty() {
            return Err(ServiceError::invalid(
                "evidence",
                "mindestens einen Nachweis angeben / name at least one piece of evidence",
            ));
        }
        let mut c = self.consent_record(tenant, consent_id).await?;
        if !(c.status == ConsentStatus::Requested || c.status.is_valid_for_processing()) {
            return Err(ServiceError::Conflict(format!(
                "consent {consent_id} is {}; evidence completes only a requested or valid consent, \
                 otherwise record a new consent under the current text",
                c.status
            )));
        }
        self.check_evidence_files(tenant, c.person_id, &evidence).await?;
        let l = self.load_context(tenant, c.person_id, c.text_id).await?;
        let now = self.now();
        let before = c.status;
        c.evidence.extend(evidence.iter().cloned());
        let missing = decide_status(&mut c, &l.context(now), now);
        let mut events: Vec<PendingEvent> = evidence
            .into_iter()
            .map(|evidence| self.pending(actor, EventBody::EvidenceAdded { consent_id, evidence }))
            .collect();
        for ev in &c.evidence[c.evidence.len() - events.len()..] {
            if let Some(cp) = ev.verifies_contact_point().filter(|cp| c.contact_points.contains(cp)) {
                let method = ev.kind().to_string();
                events.push(
                    self.pending(actor, EventBody::ContactPointVerified { contact_point_id: cp, method, at: now }),
                );
            }
        }
        if c.status != before {
            let reason = "evidence_added".to_string();
            events.push(self.pending(
                actor,
                EventBody::ConsentStatusChanged { consent_id, from: before, to: c.status, reason, at: now },
            ));
        }
        self.append(tenant, events, vec![]).await?;
        let record = self.consent_record(tenant, consent_id).await?;
        Ok(Assessed { record, missing })
    }

    /// Releases a consent that waits for a second person (four-eyes option). The one who captured
    /// it cannot approve it.
    pub async fn approve_consent(
        &self,
        tenant: TenantId,
        actor: &Actor,
        consent_id: ConsentId,
    ) -> Result<ConsentRecord, ServiceError> {
        let c = self.consent_record(tenant, consent_id).await?;
        if !c.approval_pending {
            return Err(ServiceError::Conflict(format!("consent {consent_id} does not wait for approval")));
        }
        if self.captured_by(tenant, &c).await?.as_ref() == Some(actor) {
            return Err(ServiceError::Conflict(
                "four-eyes principle: the one who captured this consent cannot approve it".into(),
            ));
        }
        let at = self.now();
        self.append(tenant, vec![self.pending(actor, EventBody::ConsentApproved { consent_id, at })], vec![]).await?;
        self.consent_record(tenant, consent_id).await
    }

    /// Who recorded a consent (from its ledger entry).
    async fn captured_by(&self, tenant: TenantId, c: &ConsentRecord) -> Result<Option<Actor>, ServiceError> {
        for pe in ledger::person_entries(&self.db, tenant, &c.person_id).await? {
            for e in pe.events()? {
                if let EventBody::ConsentRecorded { consent } = &e.body
                    && consent.id == c.id
                {
                    return Ok(Some(e.actor));
                }
            }
        }
        Ok(None)
    }

    /// The tenant's settings.
    pub async fn settings(&self, tenant: TenantId) -> Result<TenantSettings, ServiceError> {
        Ok(queries::tenant_settings(&self.db, tenant).await?)
    }

    /// Replaces the tenant's settings (recorded in the ledger).
    pub async fn set_settings(
        &self,
        tenant: TenantId,
        actor: &Actor,
        settings: TenantSettings,
    ) -> Result<TenantSettings, ServiceError> {
        if !(14..=21).contains(&settings.verification.min_age) {
            return Err(ServiceError::invalid(
                "verification.min_age",
                "zwischen 14 und 21 / must lie between 14 and 21",
            ));
        }
        konsent_domain::retention::concept::check_overrides(&settings.retention)
            .map_err(|e| ServiceError::invalid("retention", e))?;
        self.append(tenant, vec![self.pending(actor, EventBody::TenantSettingsChanged { settings })], vec![]).await?;
        self.settings(tenant).await
    }

    /// A consent record of the tenant.
    pub async fn consent_record(&self, tenant: TenantId, id: ConsentId) -> Result<ConsentRecord, ServiceError> {
        queries::consent(&self.db, tenant, id).await?.ok_or_else(|| ServiceError::NotFound(format!("consent {id}")))
    }
}
