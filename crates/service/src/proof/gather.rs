//! Gathers what a proof package holds about its persons: the ledger entries (the authority) with
//! their Merkle audit paths, the decrypted personal data and contact points, the consent texts and
//! advertisers, and the original evidence files.

use std::collections::BTreeMap;

use jiff::Timestamp;
use konsent_domain::attachment::AttachmentMeta;
use konsent_domain::consent::ConsentRecord;
use konsent_domain::contact::ContactValue;
use konsent_domain::ids::{PersonId, TenantId, TextId};
use konsent_domain::ledger::{Checkpoint, Entry, EventBody, merkle};
use konsent_domain::party::{Advertiser, PersonData};
use konsent_domain::proof::{ProvenEntry, ProvenRecord};
use konsent_domain::text::ConsentTextVersion;
use konsent_store::ledger;
use konsent_store::queries::{self, ContactPointRow};

use crate::context::Konsent;
use crate::error::ServiceError;

/// One ledger entry of the package, decoded, with its proof.
#[derive(Debug, Clone)]
pub struct Proven {
    /// The entry as stored, with its audit path.
    pub raw: ProvenEntry,
    /// Decoded.
    pub entry: Entry,
}

/// Everything about one person.
#[derive(Debug)]
pub struct PersonProof {
    /// Id.
    pub person_id: PersonId,
    /// Names, address, birth date (None when erased).
    pub data: Option<PersonData>,
    /// `consumer` or `business`.
    pub recipient_class: String,
    /// Contact points and their values.
    pub contacts: Vec<(ContactPointRow, Option<ContactValue>)>,
    /// Current consent records.
    pub consents: Vec<ConsentRecord>,
    /// Ledger entries about the person, in order.
    pub entries: Vec<Proven>,
    /// Evidence files and their bytes.
    pub files: Vec<(AttachmentMeta, Vec<u8>)>,
}

/// Everything a package holds.
#[derive(Debug)]
pub struct Gathered {
    /// Per person.
    pub persons: Vec<PersonProof>,
    /// Consent texts referenced.
    pub texts: BTreeMap<TextId, ConsentTextVersion>,
    /// The tenant's advertisers.
    pub advertisers: Vec<Advertiser>,
    /// The checkpoints the entries are proven against.
    pub checkpoints: Vec<Checkpoint>,
}

/// Leaves of the checkpoints already loaded.
type Leaves = BTreeMap<u64, Vec<[u8; 32]>>;

impl Konsent {
    /// Gathers a package's content. Uses outside `range` are left out; everything about the
    /// consents themselves is always in.
    pub(crate) async fn gather_proof(
        &self,
        tenant: TenantId,
        persons: &[PersonId],
        range: Option<(Timestamp, Timestamp)>,
    ) -> Result<Gathered, ServiceError> {
        // Seal what is not yet sealed, so every entry has a checkpoint to be proven against.
        let head = ledger::chain_heads(&self.db).await?.into_iter().find(|(t, _)| *t == tenant).map(|(_, h)| h);
        if let Some(head) = head {
            crate::checkpoint::seal_tenant(self, tenant, head).await?;
        }
        let all_cps = ledger::checkpoints(&self.db, tenant).await?;
        let mut leaves: Leaves = BTreeMap::new();
        let mut used_cps = BTreeMap::new();
        let mut out = Vec::new();
        let mut texts = BTreeMap::new();
        for &person_id in persons {
            let row = queries::person(&self.db, tenant, person_id)
                .await?
                .ok_or_else(|| ServiceError::NotFound(format!("person {person_id}")))?;
            let mut entries = Vec::new();
            for pe in ledger::person_entries(&self.db, tenant, &person_id).await? {
                let events = pe.events()?;
                let (seq, payload, prev, hash) = pe.raw;
                let cp = covering(&all_cps, seq)
                    .ok_or_else(|| ServiceError::Conflict(format!("entry {seq} is sealed by no checkpoint")))?;
                let path = self.audit_path(tenant, cp, seq, &mut leaves).await?;
                let payload = String::from_utf8(payload)
                    .map_err(|_| ServiceError::Conflict(format!("entry {seq} is not UTF-8")))?;
                let record = match pe.record {
                    None => None,
                    Some(r) => Some(ProvenRecord {
                        record: String::from_utf8(r.bytes)
                            .map_err(|_| ServiceError::Conflict(format!("a record of entry {seq} is not UTF-8")))?,
                        index: r.index as u64,
                        count: r.count as u64,
                        path: r.path.iter().map(hex::encode).collect(),
                    }),
                };
                let raw = ProvenEntry {
                    seq,
                    payload,
                    prev_hash: hex::encode(prev),
                    hash: hex::encode(hash),
                    checkpoint_seq: cp.seq,
                    audit_path: path.iter().map(hex::encode).collect(),
                    record,
                };
                let mut used = false;
                for entry in events {
                    if let (EventBody::UseRecorded { record }, Some((from, to))) = (&entry.body, range)
                        && (record.at < from || record.at > to)
                    {
                        continue;
                    }
                    used = true;
                    entries.push(Proven { raw: raw.clone(), entry });
                }
                if used {
                    used_cps.insert(cp.seq, cp.clone());
                }
            }
            let consents = queries::consents_of(&self.db, tenant, person_id).await?;
            for c in &consents {
                if !texts.contains_key(&c.text_id)
                    && let Some(t) = queries::text(&self.db, tenant, c.text_id).await?
                {
                    texts.insert(c.text_id, t);
                }
            }
            let mut contacts = Vec::new();
            for cp in queries::contact_points(&self.db, tenant, person_id).await? {
                let value = self.contact_value(tenant, person_id, cp.id).await?;
                contacts.push((cp, value));
            }
            let mut files = Vec::new();
            for meta in queries::attachments_of(&self.db, tenant, person_id).await? {
                files.push(self.open_attachment(tenant, person_id, &meta.sha256).await?);
            }
            out.push(PersonProof {
                person_id,
                data: self.person_data(tenant, person_id).await?,
                recipient_class: row.recipient_class,
                contacts,
                consents,
                entries,
                files,
            });
        }
        Ok(Gathered {
            persons: out,
            texts,
            advertisers: queries::advertisers(&self.db, tenant).await?,
            checkpoints: used_cps.into_values().collect(),
        })
    }

    async fn audit_path(
        &self,
        tenant: TenantId,
        cp: &Checkpoint,
        seq: u64,
        leaves: &mut Leaves,
    ) -> Result<Vec<[u8; 32]>, ServiceError> {
        if let std::collections::btree_map::Entry::Vacant(v) = leaves.entry(cp.seq) {
            v.insert(ledger::hashes(&self.db, tenant, cp.from_seq, cp.seq).await?);
        }
        let l = &leaves[&cp.seq];
        merkle::audit_path(l, (seq - cp.from_seq) as usize)
            .ok_or_else(|| ServiceError::Conflict(format!("checkpoint {} does not hold entry {seq}", cp.seq)))
    }
}

/// The checkpoint with a Merkle root that seals `seq` (checkpoints are sorted by seq).
fn covering(cps: &[Checkpoint], seq: u64) -> Option<&Checkpoint> {
    let i = cps.partition_point(|c| c.seq < seq);
    cps[i..].iter().find(|c| c.covers(seq) && !c.merkle_root.is_empty())
}
