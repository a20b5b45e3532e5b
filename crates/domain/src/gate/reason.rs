//! Why the gate blocks: one reason per finding, each with a stable code and a German label.

use serde::{Deserialize, Serialize};

use crate::consent::MissingItem;

/// A § 7(3) UWG condition that is not met (R34).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CustomerCondition {
    /// No existing-customer relation is documented for this address and advertiser.
    NoRelation,
    /// The address was not obtained in connection with a concluded sale (with contract reference).
    ObtainedInSale,
    /// The campaign's categories are not the advertiser's own similar products.
    SimilarProducts,
    /// The objection notice was not given at collection.
    ObjectionNoticeAtCollection,
}

impl CustomerCondition {
    /// Stable code.
    pub fn code(self) -> &'static str {
        match self {
            Self::NoRelation => "no_relation",
            Self::ObtainedInSale => "obtained_in_sale",
            Self::SimilarProducts => "similar_products",
            Self::ObjectionNoticeAtCollection => "objection_notice_at_collection",
        }
    }
}

/// One reason the gate blocks a contact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum Reason {
    /// The contact point is on the suppression list for this channel and advertiser (R30).
    Suppressed,
    /// The person objected to direct marketing (Art. 21, R42).
    Objection,
    /// Processing of the person's data is restricted (Art. 18, or kept after erasure, R48).
    Restricted,
    /// The person is below the campaign's minimum age (R11).
    Minor,
    /// The contact point is not of the kind the channel reaches (e.g. an e-mail for a call).
    WrongContactKind,
    /// No consent record at all.
    NoConsent,
    /// A consent exists but its status is not valid for processing (R70).
    ConsentNotValid,
    /// A consent's validity duration has ended (R71).
    ValidityEnded,
    /// A consent still waits for an approver (four-eyes).
    ApprovalPending,
    /// No consent names this channel (R2, R9, R36).
    ChannelNotCovered,
    /// The consent does not name this advertiser (R7).
    AdvertiserNotCovered,
    /// The consent does not cover every product category of the campaign (R7).
    CategoryNotCovered,
    /// The consent is not bound to this contact point (BGH I ZR 164/09).
    ContactPointNotCovered,
    /// The contact point is not verified (R15, R16).
    ContactPointNotVerified,
    /// The § 7a documentation of a consumer phone consent is incomplete (R20).
    #[serde(rename = "incomplete_7a")]
    Incomplete7a {
        /// What is missing.
        missing: Vec<MissingItem>,
    },
    /// The consent was not used for longer than the staleness limit (R29).
    Stale,
    /// A business call needs a documented presumed-consent justification (R35).
    NoPresumedConsentJustification,
    /// The § 7(3) UWG existing-customer exemption does not apply (R34).
    ExistingCustomerConditionMissing {
        /// Conditions not met.
        missing: Vec<CustomerCondition>,
    },
    /// The contact is on a Robinson list (R31).
    RobinsonMatch,
    /// The campaign requires a Robinson check that was not done (R31).
    RobinsonCheckMissing,
    /// The call would not present a valid caller id (R32).
    CallerIdSuppressed,
    /// A consent for this channel was withdrawn; no fallback to another legal basis (R41).
    WithdrawnNoFallback,
}

impl Reason {
    /// Stable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Suppressed => "suppressed",
            Self::Objection => "objection",
            Self::Restricted => "restricted",
            Self::Minor => "minor",
            Self::WrongContactKind => "wrong_contact_kind",
            Self::NoConsent => "no_consent",
            Self::ConsentNotValid => "consent_not_valid",
            Self::ValidityEnded => "validity_ended",
            Self::ApprovalPending => "approval_pending",
            Self::ChannelNotCovered => "channel_not_covered",
            Self::AdvertiserNotCovered => "advertiser_not_covered",
            Self::CategoryNotCovered => "category_not_covered",
            Self::ContactPointNotCovered => "contact_point_not_covered",
            Self::ContactPointNotVerified => "contact_point_not_verified",
            Self::Incomplete7a { .. } => "incomplete_7a",
            Self::Stale => "stale",
            Self::NoPresumedConsentJustification => "no_presumed_consent_justification",
            Self::ExistingCustomerConditionMissing { .. } => "existing_customer_condition_missing",
            Self::RobinsonMatch => "robinson_match",
            Self::RobinsonCheckMissing => "robinson_check_missing",
            Self::CallerIdSuppressed => "caller_id_suppressed",
            Self::WithdrawnNoFallback => "withdrawn_no_fallback",
        }
    }

    /// German label.
    pub fn label_de(&self) -> &'static str {
        match self {
            Self::Suppressed => "Kontaktweg gesperrt (Werbesperrdatei)",
            Self::Objection => "Widerspruch gegen Direktwerbung",
            Self::Restricted => "Verarbeitung eingeschränkt (Art. 18 DSGVO)",
            Self::Minor => "Person unter dem Mindestalter",
            Self::WrongContactKind => "Kontaktweg passt nicht zum Kanal",
            Self::NoConsent => "keine Einwilligung vorhanden",
            Self::ConsentNotValid => "Einwilligung nicht gültig (Status)",
            Self::ValidityEnded => "Gültigkeitsdauer der Einwilligung abgelaufen",
            Self::ApprovalPending => "Einwilligung noch nicht freigegeben",
            Self::ChannelNotCovered => "Kanal nicht von der Einwilligung umfasst",
            Self::AdvertiserNotCovered => "werbendes Unternehmen nicht von der Einwilligung umfasst",
            Self::CategoryNotCovered => "Produktbereich nicht von der Einwilligung umfasst",
            Self::ContactPointNotCovered => "Kontaktweg nicht von der Einwilligung umfasst",
            Self::ContactPointNotVerified => "Kontaktweg nicht verifiziert",
            Self::Incomplete7a { .. } => "Dokumentation nach § 7a UWG unvollständig",
            Self::Stale => "Einwilligung zu lange nicht genutzt (veraltet)",
            Self::NoPresumedConsentJustification => "keine dokumentierte mutmaßliche Einwilligung (B2B)",
            Self::ExistingCustomerConditionMissing { .. } => "Voraussetzungen des § 7 Abs. 3 UWG nicht erfüllt",
            Self::RobinsonMatch => "Eintrag in der Robinsonliste",
            Self::RobinsonCheckMissing => "vorgeschriebener Robinsonlisten-Abgleich fehlt",
            Self::CallerIdSuppressed => "Rufnummernanzeige unterdrückt",
            Self::WithdrawnNoFallback => "Einwilligung widerrufen; kein Ausweichen auf andere Rechtsgrundlage",
        }
    }

    /// English label (second language, beside [`Reason::label_de`]).
    pub fn label_en(&self) -> &'static str {
        match self {
            Self::Suppressed => "contact point blocked (suppression list)",
            Self::Objection => "objection to direct marketing",
            Self::Restricted => "processing restricted (Art. 18 GDPR)",
            Self::Minor => "person below the minimum age",
            Self::WrongContactKind => "contact point does not fit the channel",
            Self::NoConsent => "no consent on record",
            Self::ConsentNotValid => "consent not valid (status)",
            Self::ValidityEnded => "the consent's validity has ended",
            Self::ApprovalPending => "consent not yet approved",
            Self::ChannelNotCovered => "channel not covered by the consent",
            Self::AdvertiserNotCovered => "advertiser not covered by the consent",
            Self::CategoryNotCovered => "product category not covered by the consent",
            Self::ContactPointNotCovered => "contact point not covered by the consent",
            Self::ContactPointNotVerified => "contact point not verified",
            Self::Incomplete7a { .. } => "documentation under § 7a UWG incomplete",
            Self::Stale => "consent unused for too long (stale)",
            Self::NoPresumedConsentJustification => "no documented presumed consent (B2B)",
            Self::ExistingCustomerConditionMissing { .. } => "conditions of § 7(3) UWG not met",
            Self::RobinsonMatch => "listed on a Robinson list",
            Self::RobinsonCheckMissing => "required Robinson list check missing",
            Self::CallerIdSuppressed => "caller id suppressed",
            Self::WithdrawnNoFallback => "consent withdrawn; no fallback to another legal basis",
        }
    }
}
