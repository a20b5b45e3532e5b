//! The ledger: every state change is an event, encoded to exact bytes, chained by SHA-256 per tenant
//! and sealed by Ed25519-signed checkpoints. Holds no personal data in clear.

use std::collections::BTreeSet;

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::basis::DocumentedBasis;
use crate::channel::{CategoryDef, Channel};
use crate::consent::{ConsentRecord, ConsentStatus, Evidence, Scope};
use crate::contact::ContactKind;
use crate::ids::{AdvertiserId, ConsentId, ContactPointId, EventId, OrgUnitId, PersonId, TenantId, TextId};
use crate::party::{Advertiser, OrgUnit, RecipientClass};
use crate::suppression::SuppressionEntry;
use crate::text::ConsentTextVersion;
use crate::usage::UseRecord;

/// Hash of the (virtual) entry before the first one.
pub const GENESIS_HASH: [u8; 32] = [0; 32];
const HASH_DOMAIN: &[u8] = b"konsent-ledger-v1\0";
const CHECKPOINT_DOMAIN: &[u8] = b"konsent-checkpoint-v1\0";

/// Who caused an event (pseudonymous).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "id", rename_all = "snake_case")]
pub enum Actor {
    /// Konsent itself (scheduler, init, demo).
    System,
    /// An API key.
    ApiKey(String),
    /// A logged-in user (pseudonymous id).
    User(String),
    /// The data subject acting through a public page.
    DataSubject,
    /// An import run.
    Import(String),
}

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
    /// A consent text version was published (immutable from now on).
    TextPublished {
        /// The version.
        text: ConsentTextVersion,
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
        /// The full record.
        consent: ConsentRecord,
    },
    /// Evidence was added to a consent.
    EvidenceAdded {
        /// Consent.
        consent_id: ConsentId,
        /// Evidence.
        evidence: Evidence,
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
    /// A use (call, message) was logged (R23).
    UseRecorded {
        /// The use.
        record: UseRecord,
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
}

impl EventBody {
    /// Stable type code (the serde tag).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::TenantCreated { .. } => "tenant_created",
            Self::AdvertiserRegistered { .. } => "advertiser_registered",
            Self::OrgUnitCreated { .. } => "org_unit_created",
            Self::CategoryDefined { .. } => "category_defined",
            Self::TextPublished { .. } => "text_published",
            Self::TextRetired { .. } => "text_retired",
            Self::PersonRegistered { .. } => "person_registered",
            Self::PersonCorrected { .. } => "person_corrected",
            Self::ContactPointAdded { .. } => "contact_point_added",
            Self::ContactPointVerified { .. } => "contact_point_verified",
            Self::ConsentRecorded { .. } => "consent_recorded",
            Self::EvidenceAdded { .. } => "evidence_added",
            Self::ConsentStatusChanged { .. } => "consent_status_changed",
            Self::ConsentWithdrawn { .. } => "consent_withdrawn",
            Self::ObjectionRecorded { .. } => "objection_recorded",
            Self::UseRecorded { .. } => "use_recorded",
            Self::SuppressionAdded { .. } => "suppression_added",
            Self::BasisDocumented { .. } => "basis_documented",
        }
    }

    /// The person this event concerns, if any (for per-person proof packages).
    pub fn person(&self) -> Option<PersonId> {
        match self {
            Self::PersonRegistered { person_id, .. }
            | Self::PersonCorrected { person_id, .. }
            | Self::ContactPointAdded { person_id, .. }
            | Self::ObjectionRecorded { person_id, .. } => Some(*person_id),
            Self::ConsentRecorded { consent } => Some(consent.person_id),
            Self::UseRecorded { record } => Some(record.person_id),
            Self::BasisDocumented { basis: DocumentedBasis::ExistingCustomer(b) } => Some(b.person_id),
            Self::BasisDocumented { basis: DocumentedBasis::PresumedBusinessConsent(b) } => Some(b.person_id),
            _ => None,
        }
    }
}

/// The envelope that is encoded and hashed. Field order is fixed, so encoding is deterministic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// Format version.
    pub v: u8,
    /// Tenant whose chain this is.
    pub tenant: TenantId,
    /// Position in the chain, from 1.
    pub seq: u64,
    /// Event id.
    pub event_id: EventId,
    /// When Konsent recorded it.
    pub recorded_at: Timestamp,
    /// Who caused it.
    pub actor: Actor,
    /// What happened.
    pub body: EventBody,
}

/// Error decoding a stored payload.
#[derive(Debug, thiserror::Error)]
#[error("ledger payload is not a valid entry: {0}")]
pub struct DecodeError(#[from] serde_json::Error);

impl Entry {
    /// The exact bytes stored and hashed. Starts with `{"v":1,"tenant":"…","seq":N,` (see [`payload_prefix`]).
    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("ledger entries always serialise")
    }
    /// Parses stored bytes.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        Ok(serde_json::from_slice(bytes)?)
    }
}

/// The prefix every payload of `tenant` at `seq` must start with; lets `verify` check position
/// without parsing JSON.
pub fn payload_prefix(tenant: TenantId, seq: u64) -> String {
    format!("{{\"v\":1,\"tenant\":\"{tenant}\",\"seq\":{seq},")
}

/// Chain hash of an entry: SHA-256(domain ‖ prev_hash ‖ payload).
pub fn entry_hash(prev_hash: &[u8; 32], payload: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(HASH_DOMAIN);
    h.update(prev_hash);
    h.update(payload);
    h.finalize().into()
}

/// What is wrong with a stored entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum BreakKind {
    /// A seq is missing or repeated.
    #[error("expected entry {expected}, found entry {found}")]
    Sequence {
        /// Expected seq.
        expected: u64,
        /// Stored seq.
        found: u64,
    },
    /// `prev_hash` does not equal the previous entry's hash.
    #[error("prev_hash does not match the hash of the previous entry")]
    PrevHash,
    /// `hash` does not equal SHA-256 of the stored bytes.
    #[error("hash does not match the stored payload (payload or hash changed)")]
    Hash,
    /// The payload names another position or tenant.
    #[error("payload does not belong to this tenant and position")]
    Envelope,
    /// A signed checkpoint does not match the chain.
    #[error("signed checkpoint does not match the chain (hash differs or signature invalid)")]
    Checkpoint,
    /// The chain is shorter than a signed checkpoint says.
    #[error("chain ends before entry {expected}, which a signed checkpoint or the chain head names")]
    Truncated {
        /// Seq the checkpoint or chain head names.
        expected: u64,
    },
}

/// The first broken entry of a chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("ledger of tenant {tenant} broken at entry {seq}: {kind}")]
pub struct ChainBreak {
    /// Tenant.
    pub tenant: TenantId,
    /// Seq of the first broken entry.
    pub seq: u64,
    /// What is wrong.
    pub kind: BreakKind,
}

/// Walks one tenant's chain (or a segment of it) entry by entry; feed rows in seq order.
#[derive(Debug)]
pub struct ChainVerifier {
    tenant: TenantId,
    next_seq: u64,
    prev: Option<[u8; 32]>,
    first_prev: Option<[u8; 32]>,
    prefix_base: String,
}

impl ChainVerifier {
    /// Starts at the genesis (entry 1).
    pub fn new(tenant: TenantId) -> Self {
        Self::segment(tenant, 1, Some(GENESIS_HASH))
    }

    /// Starts a segment at `from_seq`. With `prev = None` the first row's stored `prev_hash` is
    /// taken as given; the caller must check it against the previous segment ([`ChainVerifier::first_prev`]).
    pub fn segment(tenant: TenantId, from_seq: u64, prev: Option<[u8; 32]>) -> Self {
        Self {
            tenant,
            next_seq: from_seq,
            prev,
            first_prev: prev,
            prefix_base: format!("{{\"v\":1,\"tenant\":\"{tenant}\",\"seq\":"),
        }
    }

    /// Checks the next stored row.
    pub fn feed(&mut self, seq: u64, payload: &[u8], prev_hash: &[u8], hash: &[u8]) -> Result<(), ChainBreak> {
        let fail = |kind| ChainBreak { tenant: self.tenant, seq, kind };
        if seq != self.next_seq {
            return Err(ChainBreak {
                tenant: self.tenant,
                seq: self.next_seq,
                kind: BreakKind::Sequence { expected: self.next_seq, found: seq },
            });
        }
        let prev = match self.prev {
            Some(p) => p,
            None => {
                let p: [u8; 32] = prev_hash.try_into().map_err(|_| fail(BreakKind::PrevHash))?;
                self.first_prev = Some(p);
                p
            }
        };
        if prev_hash != prev {
            return Err(fail(BreakKind::PrevHash));
        }
        let computed = entry_hash(&prev, payload);
        if hash != computed {
            return Err(fail(BreakKind::Hash));
        }
        // Position check without parsing: prefix + seq digits + ','.
        let base = self.prefix_base.as_bytes();
        let mut digits = itoa_buf(seq);
        digits.push(b',');
        if !(payload.starts_with(base) && payload[base.len()..].starts_with(&digits)) {
            return Err(fail(BreakKind::Envelope));
        }
        self.prev = Some(computed);
        self.next_seq += 1;
        Ok(())
    }

    /// Seq and hash of the last good entry (`from_seq - 1` and the starting hash when nothing was fed).
    pub fn head(&self) -> (u64, [u8; 32]) {
        (self.next_seq - 1, self.prev.unwrap_or(GENESIS_HASH))
    }

    /// The `prev_hash` the segment started from (stored value when started with `None`).
    pub fn first_prev(&self) -> Option<[u8; 32]> {
        self.first_prev
    }
}

fn itoa_buf(mut n: u64) -> Vec<u8> {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    buf[i..].to_vec()
}

/// A signed statement that `tenant`'s chain had `head_hash` at `seq`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// Tenant.
    pub tenant: TenantId,
    /// Seq of the head entry.
    pub seq: u64,
    /// Hash of the head entry, hex.
    pub head_hash: String,
    /// When sealed.
    pub sealed_at: Timestamp,
    /// Ed25519 signature over [`Checkpoint::message`], hex.
    pub signature: String,
    /// Hex of the public key that signed.
    pub public_key: String,
}

impl Checkpoint {
    /// The exact bytes signed.
    pub fn message(tenant: TenantId, seq: u64, head_hash: &[u8; 32], sealed_at: Timestamp) -> Vec<u8> {
        let mut m = Vec::with_capacity(CHECKPOINT_DOMAIN.len() + 16 + 8 + 32 + 16);
        m.extend_from_slice(CHECKPOINT_DOMAIN);
        m.extend_from_slice(tenant.as_uuid().as_bytes());
        m.extend_from_slice(&seq.to_be_bytes());
        m.extend_from_slice(head_hash);
        m.extend_from_slice(&sealed_at.as_microsecond().to_be_bytes());
        m
    }

    /// Signs a chain head.
    pub fn seal(key: &SigningKey, tenant: TenantId, seq: u64, head_hash: [u8; 32], sealed_at: Timestamp) -> Self {
        let sig = key.sign(&Self::message(tenant, seq, &head_hash, sealed_at));
        Self {
            tenant,
            seq,
            head_hash: hex::encode(head_hash),
            sealed_at,
            signature: hex::encode(sig.to_bytes()),
            public_key: hex::encode(key.verifying_key().to_bytes()),
        }
    }

    /// Verifies the signature with a trusted public key (not the one the checkpoint names).
    pub fn verify_signature(&self, trusted: &VerifyingKey) -> bool {
        let Ok(head) = hex::decode(&self.head_hash) else {
            return false;
        };
        let Ok(head): Result<[u8; 32], _> = head.try_into() else {
            return false;
        };
        let Ok(sig) = hex::decode(&self.signature) else {
            return false;
        };
        let Ok(sig): Result<[u8; 64], _> = sig.try_into() else {
            return false;
        };
        trusted
            .verify(&Self::message(self.tenant, self.seq, &head, self.sealed_at), &Signature::from_bytes(&sig))
            .is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn tenant() -> TenantId {
        TenantId::from_parts(1, [3; 10])
    }

    type Row = (u64, Vec<u8>, [u8; 32], [u8; 32]);

    fn chain(n: u64) -> Vec<Row> {
        let mut prev = GENESIS_HASH;
        (1..=n)
            .map(|seq| {
                let e = Entry {
                    v: 1,
                    tenant: tenant(),
                    seq,
                    event_id: EventId::from_parts(seq, [seq as u8; 10]),
                    recorded_at: Timestamp::from_second(1_700_000_000 + seq as i64).unwrap(),
                    actor: Actor::System,
                    body: EventBody::TenantCreated { name: format!("Tenant {seq}") },
                };
                let payload = e.encode();
                assert!(payload.starts_with(payload_prefix(tenant(), seq).as_bytes()));
                let hash = entry_hash(&prev, &payload);
                let row = (seq, payload, prev, hash);
                prev = hash;
                row
            })
            .collect()
    }

    fn verify(rows: &[Row]) -> Result<(), ChainBreak> {
        let mut v = ChainVerifier::new(tenant());
        for (seq, p, prev, h) in rows {
            v.feed(*seq, p, prev, h)?;
        }
        Ok(())
    }

    #[test]
    fn intact_chain_verifies_and_round_trips() {
        let rows = chain(5);
        verify(&rows).unwrap();
        let e = Entry::decode(&rows[2].1).unwrap();
        assert_eq!(e.seq, 3);
        assert_eq!(e.encode(), rows[2].1);
    }

    #[test]
    fn reordered_or_missing_entries_are_named() {
        let mut rows = chain(4);
        rows.remove(1);
        let err = verify(&rows).unwrap_err();
        assert_eq!(err.seq, 2);
        assert!(matches!(err.kind, BreakKind::Sequence { expected: 2, found: 3 }));
    }

    #[test]
    fn segments_stitch_like_the_whole_chain() {
        let rows = chain(6);
        let mut a = ChainVerifier::new(tenant());
        for (seq, p, prev, h) in &rows[..3] {
            a.feed(*seq, p, prev, h).unwrap();
        }
        let mut b = ChainVerifier::segment(tenant(), 4, None);
        for (seq, p, prev, h) in &rows[3..] {
            b.feed(*seq, p, prev, h).unwrap();
        }
        assert_eq!(b.first_prev(), Some(a.head().1));
        assert_eq!(b.head().0, 6);
    }

    #[test]
    fn checkpoint_signature() {
        let key = SigningKey::from_bytes(&[5; 32]);
        let cp = Checkpoint::seal(&key, tenant(), 3, [9; 32], Timestamp::UNIX_EPOCH);
        assert!(cp.verify_signature(&key.verifying_key()));
        let other = SigningKey::from_bytes(&[6; 32]);
        assert!(!cp.verify_signature(&other.verifying_key()));
        let mut forged = cp.clone();
        forged.seq = 4;
        assert!(!forged.verify_signature(&key.verifying_key()));
    }

    proptest! {
        #[test]
        fn any_changed_byte_is_found_at_its_entry(entry in 0usize..6, pick in any::<prop::sample::Index>(), flip in 1u8..=255) {
            let mut rows = chain(6);
            let payload = &mut rows[entry].1;
            let i = pick.index(payload.len());
            payload[i] ^= flip;
            let err = verify(&rows).unwrap_err();
            prop_assert_eq!(err.seq, entry as u64 + 1);
        }

        #[test]
        fn any_changed_hash_byte_is_found(entry in 0usize..6, i in 0usize..32, flip in 1u8..=255) {
            let mut rows = chain(6);
            rows[entry].3[i] ^= flip;
            let err = verify(&rows).unwrap_err();
            prop_assert_eq!(err.seq, entry as u64 + 1);
        }
    }
}
