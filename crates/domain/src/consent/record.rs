//! The consent record: bound to specific contact points and a scope (advertisers × categories × channels).

use std::collections::BTreeSet;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::evidence::Evidence;
use super::status::ConsentStatus;
use crate::channel::{Channel, ProductCategory};
use crate::ids::{AdvertiserId, ConsentId, ContactPointId, PersonId, TextId};
use crate::party::RecipientClass;

/// What a consent covers: which advertisers may use which channels for which product categories.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scope {
    /// Advertising companies, each named (R7).
    pub advertisers: BTreeSet<AdvertiserId>,
    /// Product categories (Sparten).
    pub product_categories: BTreeSet<ProductCategory>,
    /// Channels, each named (R9).
    pub channels: BTreeSet<Channel>,
}

impl Scope {
    /// True when nothing is covered any more.
    pub fn is_empty(&self) -> bool {
        self.advertisers.is_empty() || self.product_categories.is_empty() || self.channels.is_empty()
    }

    /// Whether `self` covers every part of `other`.
    pub fn covers(&self, other: &Scope) -> bool {
        other.advertisers.is_subset(&self.advertisers)
            && other.product_categories.is_subset(&self.product_categories)
            && other.channels.is_subset(&self.channels)
    }

    /// Removes a partial withdrawal (R40): each non-empty set in `delta` is taken out of that axis.
    pub fn without(&self, delta: &Scope) -> Scope {
        Scope {
            advertisers: self.advertisers.difference(&delta.advertisers).copied().collect(),
            product_categories: self.product_categories.difference(&delta.product_categories).cloned().collect(),
            channels: self.channels.difference(&delta.channels).copied().collect(),
        }
    }
}

/// How the declaration reached us ("Art und Weise", touchpoint).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaptureMethod {
    /// Web form (hosted or embedded).
    WebForm,
    /// During a phone call with an agent.
    PhoneCall,
    /// In person in an advisory meeting.
    InPerson,
    /// Signed paper form.
    Paper,
    /// Imported from another system.
    Import,
    /// Through the API by an integration.
    Api,
}

/// Who received the declaration (pseudonymised, BNetzA / R20).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeclarationRecipient {
    /// Receiving organisation (e.g. call centre or broker firm).
    pub organisation: String,
    /// Pseudonymous agent/employee code.
    pub agent_pseudonym: String,
}

/// Where the consent came from (Art. 14(2)(f)).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "party", rename_all = "snake_case")]
pub enum Source {
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

/// DPV validity duration of a consent (R71).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Validity {
    /// No end set (relies on staleness and withdrawal).
    Endless,
    /// Valid until an instant.
    UntilTime {
        /// End instant.
        until: Timestamp,
    },
    /// Valid until an event occurs (e.g. `contract_end`).
    UntilEvent {
        /// Event code.
        event: String,
    },
}

/// The current state of one consent record (a projection of its ledger events).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentRecord {
    /// Id.
    pub id: ConsentId,
    /// The person who gave it.
    pub person_id: PersonId,
    /// The contact points it is bound to (BGH I ZR 164/09).
    pub contact_points: BTreeSet<ContactPointId>,
    /// The text version shown.
    pub text_id: TextId,
    /// SHA-256 of that text (hex).
    pub text_sha256: String,
    /// Language of the text shown.
    pub language: String,
    /// What is currently covered (after partial withdrawals).
    pub scope: Scope,
    /// Current status.
    pub status: ConsentStatus,
    /// Consumer or business at capture.
    pub recipient_class: RecipientClass,
    /// How it was captured.
    pub capture_method: CaptureMethod,
    /// Who received the declaration (required for phone/assisted capture).
    pub declaration_recipient: Option<DeclarationRecipient>,
    /// First or third party.
    pub source: Source,
    /// The person acted affirmatively (R4).
    pub affirmative_action: bool,
    /// Event time of the declaration (when the person gave it).
    pub given_at: Timestamp,
    /// Time zone offset at capture in seconds (R56).
    pub capture_offset_seconds: i32,
    /// When Konsent recorded it (contemporaneity, R19).
    pub recorded_at: Timestamp,
    /// When it became valid for processing, if it did.
    pub granted_at: Option<Timestamp>,
    /// Last use (call, message) relying on it.
    pub last_use_at: Option<Timestamp>,
    /// Last change (withdrawal, correction, status change).
    pub last_change_at: Timestamp,
    /// Evidence collected so far.
    pub evidence: Vec<Evidence>,
    /// Validity duration.
    pub validity: Validity,
    /// True when an approver must still release it (four-eyes option).
    #[serde(default)]
    pub approval_pending: bool,
    /// The consent this one renews (re-permission, R43): once valid it is `RenewedConsentGiven`,
    /// and the old record stays as it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renews: Option<ConsentId>,
}
