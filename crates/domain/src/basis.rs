//! Legal bases other than consent, with the facts their conditions need: § 7(3) UWG existing
//! customers, presumed consent of business contacts (§ 7(2) Nr. 1), Art. 6(1)(f) for post.

use std::collections::BTreeSet;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::channel::ProductCategory;
use crate::ids::{AdvertiserId, BasisId, ContactPointId, PersonId};

/// The legal basis a decision relies on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LegalBasis {
    /// Art. 6(1)(a) GDPR + § 7(2) UWG: prior express consent.
    Consent,
    /// § 7(3) UWG existing-customer exemption (electronic mail only).
    ExistingCustomer,
    /// Presumed consent of a business contact for phone (§ 7(2) Nr. 1 UWG).
    PresumedBusinessConsent,
    /// Art. 6(1)(f) GDPR legitimate interest (addressed post).
    LegitimateInterest,
}

impl LegalBasis {
    /// Code as in section 4.4 (`GDPR-6-1-a` …).
    pub fn code(self) -> &'static str {
        match self {
            Self::Consent => "GDPR-6-1-a+UWG-7-2",
            Self::ExistingCustomer => "UWG-7-3",
            Self::PresumedBusinessConsent => "UWG-7-2-1-presumed",
            Self::LegitimateInterest => "GDPR-6-1-f",
        }
    }
}

/// Facts of a § 7(3) UWG existing-customer relation; all four conditions must hold (R34).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExistingCustomerBasis {
    /// Id.
    pub id: BasisId,
    /// The customer.
    pub person_id: PersonId,
    /// The e-mail contact point obtained in the sale.
    pub contact_point_id: ContactPointId,
    /// The advertiser that made the sale.
    pub advertiser_id: AdvertiserId,
    /// Contract reference of the sale (condition 1).
    pub contract_ref: String,
    /// Address obtained in connection with that sale (condition 1).
    pub obtained_in_sale: bool,
    /// Categories of the sold products; only "own similar" products may be advertised (condition 2).
    pub similar_categories: BTreeSet<ProductCategory>,
    /// Objection notice given at collection (condition 4, first half).
    pub objection_notice_at_collection: bool,
    /// Recorded at.
    pub recorded_at: Timestamp,
}

/// Documented presumed consent of a business contact to phone advertising (R35).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PresumedConsentJustification {
    /// Id.
    pub id: BasisId,
    /// The business contact.
    pub person_id: PersonId,
    /// For which advertiser.
    pub advertiser_id: AdvertiserId,
    /// Reason code (e.g. `existing_business_relation`, `inquiry`).
    pub reason_code: String,
    /// Written justification.
    pub justification: String,
    /// Pseudonymous author.
    pub author: String,
    /// When documented.
    pub at: Timestamp,
}

/// A documented basis, as stored in the ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "basis", rename_all = "snake_case")]
pub enum DocumentedBasis {
    /// § 7(3) UWG relation.
    ExistingCustomer(ExistingCustomerBasis),
    /// B2B presumed consent.
    PresumedBusinessConsent(PresumedConsentJustification),
}
