//! The events of the ledger: what changed (who caused it is [`super::Actor`]).

use std::collections::BTreeSet;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::attachment::AttachmentMeta;
use crate::basis::DocumentedBasis;
use crate::channel::{CategoryDef, Channel};
use crate::consent::{ConsentRecord, ConsentStatus, Evidence, Scope};
use crate::contact::ContactKind;
use crate::ids::{AdvertiserId, ConsentId, ContactPointId, OrgUnitId, PersonId, TextId};
use crate::party::{Advertiser, OrgUnit, RecipientClass};
use crate::settings::TenantSettings;
use crate::suppression::SuppressionEntry;
use crate::text::ConsentTextVersion;
use crate::usage::UseRecord;

/// A state change. Every variant is a fact that the projections apply.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventBody {
    /// The tenant was created.
    TenantCreated {
        /// Display name.
        name: String,
    },
    /// An advertiser was registered or its details replaced.
    AdvertiserRegistered {
        /// The advertiser.
        advertiser: Advertiser,
    },
    /// An org unit was created.
    OrgUnitCreated {
        /// The unit.
        org_unit: OrgUnit,
    },
    /// A product category was defined.
    CategoryDefined {
        /// The category.
        category: CategoryDef,
    },
    /// A signup form was defined or changed.
    FormDefined {
        /// The form (boxed, like every rare large event: an import holds thousands of small ones).
        form: Box<crate::form::FormDef>,
    },
    /// A draft of a consent text was saved (created or edited). Drafts are never shown to anyone
    /// and no consent can reference them; the ledger keeps each saved wording all the same.
    TextDraftSaved {
        /// The draft (state `draft`; its version number is assigned when it is published).
        text: Box<ConsentTextVersion>,
    },
    /// A draft was discarded without being published.
    TextDraftDiscarded {
        /// The draft.
        text_id: TextId,
    },
    /// A consent text version was published (immutable from now on).
    TextPublished {
        /// The version.
        text: Box<ConsentTextVersion>,
    },
    /// A consent text version was retired (no longer offered).
    TextRetired {
        /// The version.
        text_id: TextId,
    },
    /// A person was registered; the personal data is sealed in the vault.
    PersonRegistered {
        /// Id.
        person_id: PersonId,
        /// Consumer or business.
        recipient_class: RecipientClass,
        /// Org unit that owns the relation.
        org_unit: Option<OrgUnitId>,
        /// SHA-256 of the sealed personal data.
        data_hash: String,
    },
    /// A person's data was corrected (R46): a new sealed version; history stays.
    PersonCorrected {
        /// Id.
        person_id: PersonId,
        /// SHA-256 of the new sealed personal data.
        data_hash: String,
        /// New classification, if changed.
        recipient_class: Option<RecipientClass>,
    },
    /// A contact point was added to a person.
    ContactPointAdded {
        /// Id.
        contact_point_id: ContactPointId,
        /// Owner.
        person_id: PersonId,
        /// Kind.
        kind: ContactKind,
        /// Keyed hash of the normalised value.
        blind_index: String,
        /// SHA-256 of the sealed value.
        value_hash: String,
    },
    /// Ownership of a contact point was verified.
    ContactPointVerified {
        /// Id.
        contact_point_id: ContactPointId,
        /// Evidence kind code that verified it.
        method: String,
        /// When.
        at: Timestamp,
    },
    /// A consent record was created (in whatever status its evidence allows).
    ConsentRecorded {
        /// The full record (boxed: it is four times the size of any other event, and an import
        /// holds thousands of events of every kind).
        consent: Box<ConsentRecord>,
    },
    /// Evidence was added to a consent.
    EvidenceAdded {
        /// Consent.
        consent_id: ConsentId,
        /// Evidence.
        evidence: Evidence,
    },
    /// A double opt-in confirmation mail was queued for a consent (R13); only the token's hash is kept.
    DoiRequested {
        /// Consent.
        consent_id: ConsentId,
        /// The e-mail contact point it goes to.
        contact_point: ContactPointId,
        /// Message id of the mail.
        message_id: String,
        /// SHA-256 of the token.
        token_hash: String,
        /// Queued at.
        sent_at: jiff::Timestamp,
        /// The token expires at.
        expires_at: jiff::Timestamp,
    },
    /// A verification code was sent to a phone number (R15, R16); the code itself is not kept.
    OtpSent {
        /// Consent.
        consent_id: ConsentId,
        /// The phone contact point.
        contact_point: ContactPointId,
        /// Message id of the text message.
        message_id: String,
        /// Queued at.
        at: jiff::Timestamp,
    },
    /// A consent receipt was issued to the person (R69).
    ReceiptIssued {
        /// Consent.
        consent_id: ConsentId,
        /// Receipt id, as stated in the receipt.
        receipt_id: String,
        /// Message id of the mail that carries it.
        message_id: String,
        /// When.
        at: jiff::Timestamp,
    },
    /// A consent moved to another status.
    ConsentStatusChanged {
        /// Consent.
        consent_id: ConsentId,
        /// Previous status.
        from: ConsentStatus,
        /// New status.
        to: ConsentStatus,
        /// Reason code.
        reason: String,
        /// When it took effect.
        at: Timestamp,
    },
    /// A consent was withdrawn in part (R40) or in full.
    ConsentWithdrawn {
        /// Consent.
        consent_id: ConsentId,
        /// Part withdrawn; `None` = everything.
        scope_delta: Option<Scope>,
        /// Channel of receipt (e.g. `one_click`, `phone_call`, `letter`).
        via: String,
        /// Receiving agent, pseudonymous.
        receiving_agent: Option<String>,
        /// When it took effect.
        at: Timestamp,
    },
    /// Art. 21 objection to direct marketing (R42). Empty sets mean all.
    ObjectionRecorded {
        /// The person.
        person_id: PersonId,
        /// Channels objected to; empty = all.
        channels: BTreeSet<Channel>,
        /// Advertisers; empty = all.
        advertisers: BTreeSet<AdvertiserId>,
        /// Channel of receipt.
        via: String,
        /// When.
        at: Timestamp,
    },
    /// A person asked for a copy of their data (Art. 15 GDPR); answered within a month.
    AccessRequested {
        /// The person.
        person_id: PersonId,
        /// Channel of receipt, e.g. `preference_centre`.
        via: String,
        /// When.
        at: Timestamp,
    },
    /// A use (call, message) was logged (R23).
    UseRecorded {
        /// The use.
        record: Box<UseRecord>,
    },
    /// A suppression entry was added.
    SuppressionAdded {
        /// The entry.
        entry: SuppressionEntry,
    },
    /// A legal basis other than consent was documented.
    BasisDocumented {
        /// The basis.
        basis: DocumentedBasis,
    },
    /// An evidence file (recording, scan) was stored, encrypted, under its SHA-256.
    AttachmentStored {
        /// The person it belongs to.
        person_id: PersonId,
        /// The file's metadata (hash of the plain bytes, kind, sniffed type, size).
        attachment: AttachmentMeta,
    },
    /// An evidence file was read (every read is audited).
    AttachmentRead {
        /// The person it belongs to.
        person_id: PersonId,
        /// SHA-256 of the file.
        sha256: String,
        /// Why: `api`, `proof_package`, …
        purpose: String,
    },
    /// A second person released a consent for use (four-eyes option).
    ConsentApproved {
        /// The consent.
        consent_id: ConsentId,
        /// When.
        at: Timestamp,
    },
    /// The tenant's settings changed (four-eyes approval, verification policy).
    TenantSettingsChanged {
        /// The new settings in full.
        settings: TenantSettings,
    },
    /// A proof package (§ 7a UWG production) was produced for a person.
    ProofExported {
        /// The person.
        person_id: PersonId,
        /// SHA-256 of the package's signed manifest.
        manifest_sha256: String,
        /// When.
        at: Timestamp,
    },
    /// A person asked for erasure (Art. 17): the plan of what is deleted now and what is kept,
    /// restricted, until when (R47).
    ErasureRequested {
        /// The person.
        person_id: PersonId,
        /// Every item and what happens to it.
        plan: Vec<crate::erasure::PlanLine>,
        /// The latest date anything is kept to (None: nothing is kept).
        kept_until: Option<Timestamp>,
        /// When.
        at: Timestamp,
    },
    /// Personal data of a person was deleted from the vault: the deletion protocol, without
    /// content (R58). With `key_destroyed` nothing of the person is readable any more.
    VaultErased {
        /// The person.
        person_id: PersonId,
        /// What was deleted.
        items: Vec<crate::erasure::Item>,
        /// The person's key was destroyed.
        key_destroyed: bool,
        /// When.
        at: Timestamp,
    },
    /// Data of a restricted (erased but kept) person was read by the compliance role (R48).
    RestrictedDataRead {
        /// The person.
        person_id: PersonId,
        /// What was read: `person`, `timeline`.
        what: String,
    },
    /// The person asked to restrict processing (Art. 18): no selection may use them until lifted.
    RestrictionRequested {
        /// The person.
        person_id: PersonId,
        /// Why (e.g. `accuracy_contested`, `objection_pending`).
        reason: String,
        /// How the request reached us.
        via: String,
        /// When.
        at: Timestamp,
    },
    /// An Art. 18 restriction was lifted.
    RestrictionLifted {
        /// The person.
        person_id: PersonId,
        /// When.
        at: Timestamp,
    },
    /// A data-subject request was answered or closed.
    RequestClosed {
        /// The person.
        person_id: PersonId,
        /// The request (the event id of its receipt).
        request_id: String,
        /// How: `answered`, `rejected`, …
        outcome: String,
        /// When.
        at: Timestamp,
    },
    /// A legal hold was placed (R61).
    HoldPlaced {
        /// The hold.
        hold: crate::retention::LegalHold,
    },
    /// A legal hold was released.
    HoldReleased {
        /// The hold.
        hold_id: crate::ids::HoldId,
        /// When.
        at: Timestamp,
    },
    /// A retention sweep ran (R58): counts and ids only, never content (E7).
    RetentionRun {
        /// When.
        at: Timestamp,
        /// Persons whose remaining data was deleted.
        erased: u64,
        /// Persons due but kept by a hold.
        held: u64,
        /// Consents set to `ConsentExpired` before their proof could be due (E10), or because
        /// their double opt-in was never confirmed (D9).
        #[serde(default, skip_serializing_if = "is_zero")]
        expired: u64,
        /// Single items (files, contact points) of persons who are otherwise kept.
        #[serde(default, skip_serializing_if = "is_zero")]
        items: u64,
        /// Unused, expired confirmation tokens (D10).
        #[serde(default, skip_serializing_if = "is_zero")]
        tokens: u64,
        /// Send logs (D5).
        #[serde(default, skip_serializing_if = "is_zero")]
        messages: u64,
        /// Closed data-subject requests whose records went (D13).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        requests: Vec<String>,
    },
    /// A file was imported (R25): its hash, format and source, and how many rows led to what.
    ImportCompleted {
        /// Import id (file hash and options).
        import_id: String,
        /// SHA-256 of the file.
        file_sha256: String,
        /// Format (`mailchimp`, `cleverreach`, `hubspot`, `generic`).
        format: String,
        /// Source system or lead vendor named in the evidence.
        provider: String,
        /// Data rows read.
        rows: u64,
        /// Rows by outcome (`given`, `unknown`, `suppressed`, …).
        outcomes: std::collections::BTreeMap<String, u64>,
        /// When.
        at: Timestamp,
    },
    /// A campaign segment was evaluated and frozen: its selection, counts and the hash of its
    /// member list (ids, in/out, reasons), so what a campaign relied on can be shown later.
    SegmentFrozen {
        /// Segment.
        segment_id: crate::ids::SegmentId,
        /// What it selects.
        spec: Box<crate::segment::SegmentSpec>,
        /// Contact points in the universe.
        members: u64,
        /// Of those, may be contacted.
        included: u64,
        /// Out, by reason code.
        by_reason: std::collections::BTreeMap<String, u64>,
        /// SHA-256 over the member list as stored.
        members_sha256: String,
        /// Exports may be used until then.
        valid_until: Timestamp,
        /// When.
        at: Timestamp,
    },
    /// A frozen segment was exported for a tool (newsletter, dialer).
    SegmentExported {
        /// Segment.
        segment_id: crate::ids::SegmentId,
        /// Format (`mailchimp`, `dialer`, …).
        format: String,
        /// Contacts written.
        rows: u64,
        /// Members left out because their consent or suppression changed since freezing.
        changed: u64,
        /// Every written contact was also logged as a use.
        as_use: bool,
        /// When.
        at: Timestamp,
    },
    /// A Robinson list was imported (R31): its name and size; the entries are hashes.
    RobinsonListImported {
        /// List name (provider and version).
        list: String,
        /// Entries.
        entries: u64,
        /// SHA-256 of the file.
        file_sha256: String,
        /// When.
        at: Timestamp,
    },
    /// A webhook endpoint was registered: a receiver of events (`out`) or a newsletter tool's
    /// callback (`in`). No secret, no full URL (it may carry tokens): the receiver's origin only.
    WebhookCreated {
        /// Endpoint id.
        webhook_id: String,
        /// `out` or `in`.
        direction: String,
        /// Out: the receiver's origin (`https://host:port`); in: the provider.
        target: String,
        /// Out: the event types subscribed to.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        events: Vec<String>,
        /// In: whose e-mail consents an unsubscribe withdraws (empty: every advertiser).
        #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
        advertisers: BTreeSet<AdvertiserId>,
    },
    /// A webhook endpoint was removed (what was still queued for it is cancelled).
    WebhookDeleted {
        /// Endpoint id.
        webhook_id: String,
        /// `out` or `in`.
        direction: String,
    },
    /// The provider's signing secret of an incoming webhook was set or replaced (not its value).
    WebhookSecretSet {
        /// Endpoint id.
        webhook_id: String,
    },
    /// A lead list was checked before a phone campaign (Prüfpflicht, R24).
    LeadsChecked {
        /// Advertiser of the campaign.
        advertiser: AdvertiserId,
        /// Campaign id, if given.
        campaign: Option<String>,
        /// Leads checked.
        leads: u64,
        /// Leads allowed.
        allowed: u64,
        /// SHA-256 of the lead list as received.
        list_sha256: String,
    },
    /// Many persons' events written at once (an import batch). Each person's events are one
    /// record ([`super::Record`]), stored beside this entry; `root` is the Merkle root over the
    /// records' SHA-256 hashes, so a changed record no longer verifies.
    Batch {
        /// What wrote it (`import <id>`).
        label: String,
        /// Records (persons) in the batch.
        records: u64,
        /// Events in the records.
        events: u64,
        /// Merkle root over the records' hashes, hex.
        root: String,
    },
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_stays_small_whatever_its_kind() {
        // An import holds two batches of events, five a row: every event is as large as the
        // largest kind, so large rare kinds are boxed (BENCHMARKS.md, "Session 13").
        let size = size_of::<EventBody>();
        assert!(size <= 168, "EventBody is {size} bytes; box the large variant");
    }
}
