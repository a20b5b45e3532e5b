//! What an event is, for indexing and proofs: its stable type code and the person it concerns.

use crate::basis::DocumentedBasis;
use crate::ids::{ConsentId, ContactPointId, PersonId};

use super::EventBody;

/// What an event names instead of a person: the store finds the person through it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Subject {
    /// A consent.
    Consent(ConsentId),
    /// A contact point.
    ContactPoint(ContactPointId),
}

impl EventBody {
    /// Stable type code (the serde tag).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::TenantCreated { .. } => "tenant_created",
            Self::AdvertiserRegistered { .. } => "advertiser_registered",
            Self::OrgUnitCreated { .. } => "org_unit_created",
            Self::CategoryDefined { .. } => "category_defined",
            Self::FormDefined { .. } => "form_defined",
            Self::TextDraftSaved { .. } => "text_draft_saved",
            Self::TextDraftDiscarded { .. } => "text_draft_discarded",
            Self::TextPublished { .. } => "text_published",
            Self::TextRetired { .. } => "text_retired",
            Self::PersonRegistered { .. } => "person_registered",
            Self::PersonCorrected { .. } => "person_corrected",
            Self::ContactPointAdded { .. } => "contact_point_added",
            Self::ContactPointVerified { .. } => "contact_point_verified",
            Self::ConsentRecorded { .. } => "consent_recorded",
            Self::EvidenceAdded { .. } => "evidence_added",
            Self::DoiRequested { .. } => "doi_requested",
            Self::ReceiptIssued { .. } => "receipt_issued",
            Self::OtpSent { .. } => "otp_sent",
            Self::AccessRequested { .. } => "access_requested",
            Self::ConsentStatusChanged { .. } => "consent_status_changed",
            Self::ConsentWithdrawn { .. } => "consent_withdrawn",
            Self::ObjectionRecorded { .. } => "objection_recorded",
            Self::UseRecorded { .. } => "use_recorded",
            Self::SuppressionAdded { .. } => "suppression_added",
            Self::BasisDocumented { .. } => "basis_documented",
            Self::AttachmentStored { .. } => "attachment_stored",
            Self::AttachmentRead { .. } => "attachment_read",
            Self::ConsentApproved { .. } => "consent_approved",
            Self::TenantSettingsChanged { .. } => "tenant_settings_changed",
            Self::ProofExported { .. } => "proof_exported",
            Self::LeadsChecked { .. } => "leads_checked",
            Self::ErasureRequested { .. } => "erasure_requested",
            Self::VaultErased { .. } => "vault_erased",
            Self::HoldPlaced { .. } => "hold_placed",
            Self::RequestClosed { .. } => "request_closed",
            Self::RestrictionRequested { .. } => "restriction_requested",
            Self::RestrictionLifted { .. } => "restriction_lifted",
            Self::RestrictedDataRead { .. } => "restricted_data_read",
            Self::HoldReleased { .. } => "hold_released",
            Self::RetentionRun { .. } => "retention_run",
            Self::ImportCompleted { .. } => "import_completed",
            Self::SegmentFrozen { .. } => "segment_frozen",
            Self::SegmentExported { .. } => "segment_exported",
            Self::RobinsonListImported { .. } => "robinson_list_imported",
            Self::WebhookCreated { .. } => "webhook_created",
            Self::WebhookDeleted { .. } => "webhook_deleted",
            Self::WebhookSecretSet { .. } => "webhook_secret_set",
            Self::Batch { .. } => "batch",
        }
    }

    /// The consent or contact point this event creates or is about, when that (not a person id)
    /// is what it names: the store resolves the person through it.
    pub fn subject(&self) -> Option<Subject> {
        match self {
            Self::ConsentRecorded { consent } => Some(Subject::Consent(consent.id)),
            Self::EvidenceAdded { consent_id, .. }
            | Self::DoiRequested { consent_id, .. }
            | Self::ReceiptIssued { consent_id, .. }
            | Self::OtpSent { consent_id, .. }
            | Self::ConsentStatusChanged { consent_id, .. }
            | Self::ConsentWithdrawn { consent_id, .. }
            | Self::ConsentApproved { consent_id, .. } => Some(Subject::Consent(*consent_id)),
            Self::ContactPointAdded { contact_point_id, .. } | Self::ContactPointVerified { contact_point_id, .. } => {
                Some(Subject::ContactPoint(*contact_point_id))
            }
            _ => None,
        }
    }

    /// The person this event concerns, if any (for per-person proof packages).
    pub fn person(&self) -> Option<PersonId> {
        match self {
            Self::PersonRegistered { person_id, .. }
            | Self::PersonCorrected { person_id, .. }
            | Self::ContactPointAdded { person_id, .. }
            | Self::ObjectionRecorded { person_id, .. }
            | Self::AccessRequested { person_id, .. }
            | Self::AttachmentStored { person_id, .. }
            | Self::AttachmentRead { person_id, .. }
            | Self::ProofExported { person_id, .. }
            | Self::ErasureRequested { person_id, .. }
            | Self::VaultErased { person_id, .. }
            | Self::RestrictedDataRead { person_id, .. }
            | Self::RequestClosed { person_id, .. }
            | Self::RestrictionRequested { person_id, .. }
            | Self::RestrictionLifted { person_id, .. } => Some(*person_id),
            Self::HoldPlaced { hold } => Some(hold.person_id),
            Self::ConsentRecorded { consent } => Some(consent.person_id),
            Self::UseRecorded { record } => Some(record.person_id),
            Self::BasisDocumented { basis: DocumentedBasis::ExistingCustomer(b) } => Some(b.person_id),
            Self::BasisDocumented { basis: DocumentedBasis::PresumedBusinessConsent(b) } => Some(b.person_id),
            _ => None,
        }
    }
}
