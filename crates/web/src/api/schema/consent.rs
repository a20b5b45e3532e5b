//! OpenAPI shapes of the tagged consent types clients send: `Evidence`, `Source`, `Validity`.
//! Each converts from the domain type by destructuring every field, so a new variant or field in
//! the domain fails to compile here until the mirror follows.

use jiff::Timestamp;
use jiff::civil::Date;
use konsent_domain::consent::{Evidence as D, Source as DSource, Validity as DValidity};
use konsent_domain::ids::ContactPointId;
use serde::Serialize;
use utoipa::ToSchema;

/// Nachweis / one piece of evidence, tagged by `kind`. Hashes are hex SHA-256 of artefacts kept
/// encrypted elsewhere (request details, recordings, scans, files).
#[derive(Serialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[schema(as = Evidence)]
pub(crate) enum EvidenceDoc {
    /// A click in a web form (checkbox ticked by the person, form served and submitted).
    WebForm {
        /// When the form was submitted.
        #[schema(value_type = String, format = DateTime)]
        at: Timestamp,
        /// Form id or URL.
        form_ref: String,
        /// Form configuration version.
        form_version: String,
        /// The person acted (box was not pre-ticked) (R4).
        affirmative_action: bool,
        /// Hash of the sealed request details (IP, user agent, session).
        request_details: Option<String>,
    },
    /// E-mail double opt-in confirmation (R13).
    EmailDoi {
        /// The e-mail contact point confirmed.
        #[schema(value_type = uuid::Uuid)]
        contact_point: ContactPointId,
        /// When the confirmation mail was sent.
        #[schema(value_type = String, format = DateTime)]
        sent_at: Timestamp,
        /// Message id of the confirmation mail.
        message_id: String,
        /// SHA-256 of the token (the token itself is never stored).
        token_hash: String,
        /// When the person confirmed.
        #[schema(value_type = String, format = DateTime)]
        confirmed_at: Timestamp,
        /// Hash of the sealed confirmation request details (IP, user agent).
        request_details: Option<String>,
    },
    /// One-time code sent to a phone number and entered back (R15, R16).
    Otp {
        /// The phone contact point verified.
        #[schema(value_type = uuid::Uuid)]
        contact_point: ContactPointId,
        /// When the code was sent.
        #[schema(value_type = String, format = DateTime)]
        sent_at: Timestamp,
        /// When the code was entered correctly.
        #[schema(value_type = String, format = DateTime)]
        verified_at: Timestamp,
    },
    /// Audio recording of a verbal consent in a call (R17 a).
    CallRecording {
        /// The number the call was held with.
        #[schema(value_type = uuid::Uuid)]
        contact_point: ContactPointId,
        /// SHA-256 of the recording.
        recording_hash: String,
        /// The recording includes (or is preceded by) the consent to be recorded.
        recording_consent: bool,
        /// Call script version read to the person.
        script_version: String,
        /// Pseudonymous agent code.
        agent_pseudonym: String,
        /// When the call took place.
        #[schema(value_type = String, format = DateTime)]
        at: Timestamp,
    },
    /// Confirmation in text form sent to a verified contact point after a call (R17 b).
    TextConfirmation {
        /// The contact point the confirmation was sent to.
        #[schema(value_type = uuid::Uuid)]
        contact_point: ContactPointId,
        /// When it was sent.
        #[schema(value_type = String, format = DateTime)]
        sent_at: Timestamp,
        /// When the person confirmed.
        #[schema(value_type = String, format = DateTime)]
        confirmed_at: Timestamp,
    },
    /// Signed paper form (R18).
    PaperScan {
        /// SHA-256 of the scan.
        scan_hash: String,
        /// Version of the printed form.
        form_version: String,
        /// Date of signature.
        #[schema(value_type = String, format = Date)]
        signature_date: Date,
        /// Where the paper original is kept.
        original_location: String,
    },
    /// Consent given in person to an advisor, attested by the advisor.
    InPersonAttestation {
        /// Pseudonymous advisor code.
        advisor_pseudonym: String,
        /// When.
        #[schema(value_type = String, format = DateTime)]
        at: Timestamp,
        /// The advisor checked the person's identity and contact details in person.
        identity_checked: bool,
    },
    /// Message received from the contact point itself (e.g. SMS keyword, first WhatsApp message).
    InboundMessage {
        /// The contact point that sent it.
        #[schema(value_type = uuid::Uuid)]
        contact_point: ContactPointId,
        /// When.
        #[schema(value_type = String, format = DateTime)]
        at: Timestamp,
    },
    /// Provenance of an imported consent (R25).
    Import {
        /// Source system or lead vendor.
        provider: String,
        /// SHA-256 of the imported file.
        file_hash: String,
        /// Row in that file.
        row: u64,
        /// Contract with the provider, for third-party data.
        contract_ref: Option<String>,
        /// The opt-in time the source reports.
        #[schema(value_type = Option<String>, format = DateTime)]
        reported_optin_at: Option<Timestamp>,
        /// The confirmation time the source reports.
        #[schema(value_type = Option<String>, format = DateTime)]
        reported_confirm_at: Option<Timestamp>,
        /// The source reports an IP for opt-in or confirmation (kept sealed).
        reported_ip: bool,
        /// The e-mail contact point whose double opt-in the source reports as confirmed; counts
        /// as its confirmation only with opt-in time, confirmation time and IP (R25).
        #[schema(value_type = Option<String>, format = Uuid)]
        #[serde(skip_serializing_if = "Option::is_none")]
        confirmed_contact_point: Option<ContactPointId>,
    },
}

impl From<D> for EvidenceDoc {
    fn from(d: D) -> Self {
        match d {
            D::WebForm { at, form_ref, form_version, affirmative_action, request_details } => {
                Self::WebForm { at, form_ref, form_version, affirmative_action, request_details }
            }
            D::EmailDoi { contact_point, sent_at, message_id, token_hash, confirmed_at, request_details } => {
                Self::EmailDoi { contact_point, sent_at, message_id, token_hash, confirmed_at, request_details }
            }
            D::Otp { contact_point, sent_at, verified_at } => Self::Otp { contact_point, sent_at, verified_at },
            D::CallRecording {
                contact_point,
                recording_hash,
                recording_consent,
                script_version,
                agent_pseudonym,
                at,
            } => Self::CallRecording {
                contact_point,
                recording_hash,
                recording_consent,
                script_version,
                agent_pseudonym,
                at,
            },
            D::TextConfirmation { contact_point, sent_at, confirmed_at } => {
                Self::TextConfirmation { contact_point, sent_at, confirmed_at }
            }
            D::PaperScan { scan_hash, form_version, signature_date, original_location } => {
                Self::PaperScan { scan_hash, form_version, signature_date, original_location }
            }
            D::InPersonAttestation { advisor_pseudonym, at, identity_checked } => {
                Self::InPersonAttestation { advisor_pseudonym, at, identity_checked }
            }
            D::InboundMessage { contact_point, at } => Self::InboundMessage { contact_point, at },
            D::Import {
                provider,
                file_hash,
                row,
                contract_ref,
                reported_optin_at,
                reported_confirm_at,
                reported_ip,
                confirmed_contact_point,
            } => Self::Import {
                provider,
                file_hash,
                row,
                contract_ref,
                reported_optin_at,
                reported_confirm_at,
                reported_ip,
                confirmed_contact_point,
            },
        }
    }
}

/// Herkunft / where a consent came from (Art. 14(2)(f) GDPR), tagged by `party`; default
/// `first_party`.
#[derive(Serialize, ToSchema)]
#[serde(tag = "party", rename_all = "snake_case")]
#[schema(as = Source)]
pub(crate) enum SourceDoc {
    /// Collected by the tenant itself.
    FirstParty,
    /// Collected by a third party (lead vendor, partner).
    ThirdParty {
        /// Provider name.
        provider: String,
        /// Contract reference with the provider.
        contract_ref: Option<String>,
    },
}

impl From<DSource> for SourceDoc {
    fn from(d: DSource) -> Self {
        match d {
            DSource::FirstParty => Self::FirstParty,
            DSource::ThirdParty { provider, contract_ref } => Self::ThirdParty { provider, contract_ref },
        }
    }
}

/// Gültigkeit / how long a consent is valid (DPV, R71), tagged by `type`; default `endless`.
#[derive(Serialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
#[schema(as = Validity)]
pub(crate) enum ValidityDoc {
    /// No end set (relies on staleness and withdrawal).
    Endless,
    /// Valid until an instant.
    UntilTime {
        /// End instant.
        #[schema(value_type = String, format = DateTime)]
        until: Timestamp,
    },
    /// Valid until an event occurs (e.g. `contract_end`).
    UntilEvent {
        /// Event code.
        event: String,
    },
}

impl From<DValidity> for ValidityDoc {
    fn from(d: DValidity) -> Self {
        match d {
            DValidity::Endless => Self::Endless,
            DValidity::UntilTime { until } => Self::UntilTime { until },
            DValidity::UntilEvent { event } => Self::UntilEvent { event },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn same<M: Serialize + From<T>, T: Serialize + Clone>(d: T) {
        assert_eq!(serde_json::to_value(&d).unwrap(), serde_json::to_value(M::from(d.clone())).unwrap());
    }

    #[test]
    fn mirrors_serialise_like_the_domain_types() {
        let at: Timestamp = "2026-03-02T09:00:00Z".parse().unwrap();
        let cp = ContactPointId::from_parts(1, [1; 10]);
        same::<EvidenceDoc, _>(D::Otp { contact_point: cp, sent_at: at, verified_at: at });
        same::<EvidenceDoc, _>(D::PaperScan {
            scan_hash: "ab".into(),
            form_version: "v1".into(),
            signature_date: jiff::civil::date(2026, 3, 1),
            original_location: "Köln".into(),
        });
        same::<EvidenceDoc, _>(D::Import {
            provider: "p".into(),
            file_hash: "ab".into(),
            row: 7,
            contract_ref: None,
            reported_optin_at: Some(at),
            reported_confirm_at: None,
            reported_ip: true,
            confirmed_contact_point: None,
        });
        same::<EvidenceDoc, _>(D::Import {
            provider: "p".into(),
            file_hash: "ab".into(),
            row: 7,
            contract_ref: None,
            reported_optin_at: Some(at),
            reported_confirm_at: Some(at),
            reported_ip: true,
            confirmed_contact_point: Some(cp),
        });
        same::<SourceDoc, _>(DSource::FirstParty);
        same::<SourceDoc, _>(DSource::ThirdParty { provider: "p".into(), contract_ref: Some("c".into()) });
        same::<ValidityDoc, _>(DValidity::Endless);
        same::<ValidityDoc, _>(DValidity::UntilTime { until: at });
        same::<ValidityDoc, _>(DValidity::UntilEvent { event: "contract_end".into() });
    }
}
