//! Evidence files: stored once per person and SHA-256, sealed under the person's data key (so an
//! erased person's files become unreadable with the key), recorded in the ledger by hash, and
//! every read written to the ledger as an audit entry.

use konsent_domain::attachment::{AttachmentKind, AttachmentMeta, classify};
use konsent_domain::crypto::DataKey;
use konsent_domain::ids::{PersonId, TenantId};
use konsent_domain::ledger::{Actor, EventBody};
use konsent_store::{PendingEvent, SideWrite, queries};

use crate::context::Konsent;
use crate::error::ServiceError;

fn aad(tenant: TenantId, person: PersonId, sha256: &str) -> Vec<u8> {
    format!("konsent-attachment-v1|{tenant}|{person}|{sha256}").into_bytes()
}

/// A stored file and whether this call stored it (false: the same bytes were already there).
#[derive(Debug, Clone)]
pub struct Stored {
    /// What was stored.
    pub meta: AttachmentMeta,
    /// True when new.
    pub created: bool,
}

impl Konsent {
    /// Stores an evidence file of `person`. The type is sniffed from the bytes and must fit the
    /// kind; `declared` (the client's Content-Type) must agree with it when given.
    pub async fn store_attachment(
        &self,
        tenant: TenantId,
        actor: &Actor,
        person: PersonId,
        kind: AttachmentKind,
        declared: Option<&str>,
        bytes: &[u8],
    ) -> Result<Stored, ServiceError> {
        let meta = classify(kind, declared, bytes).map_err(|e| ServiceError::invalid("file", e))?;
        let dek =
            self.person_key(tenant, person).await?.ok_or_else(|| ServiceError::NotFound(format!("person {person}")))?;
        if let Some((have, _)) = queries::attachment(&self.db, tenant, person, &meta.sha256).await? {
            if have.kind != kind {
                return Err(ServiceError::Conflict(format!(
                    "this file is already stored for the person as a {}",
                    have.kind.as_str()
                )));
            }
            return Ok(Stored { meta: have, created: false });
        }
        let (ev, side) = self.attachment_write(tenant, actor, person, &dek, &meta, bytes);
        self.append(tenant, vec![ev], vec![side]).await?;
        Ok(Stored { meta, created: true })
    }

    /// The ledger event and sealed row of a checked file (lets bulk paths batch them).
    pub fn attachment_write(
        &self,
        tenant: TenantId,
        actor: &Actor,
        person: PersonId,
        dek: &DataKey,
        meta: &AttachmentMeta,
        bytes: &[u8],
    ) -> (PendingEvent, SideWrite) {
        let sealed = dek.seal(self.random(), bytes, &aad(tenant, person, &meta.sha256));
        let side = SideWrite::Attachment {
            person_id: person,
            sha256: meta.sha256.clone(),
            kind: meta.kind.as_str().into(),
            content_type: meta.content_type.clone(),
            size: meta.size as i64,
            sealed,
        };
        let ev = self.pending(actor, EventBody::AttachmentStored { person_id: person, attachment: meta.clone() });
        (ev, side)
    }

    /// The person's evidence files (metadata only; listing is no read).
    pub async fn attachments(&self, tenant: TenantId, person: PersonId) -> Result<Vec<AttachmentMeta>, ServiceError> {
        Ok(queries::attachments_of(&self.db, tenant, person).await?)
    }

    /// Reads one evidence file; the read is written to the ledger first (`purpose` says why).
    pub async fn read_attachment(
        &self,
        tenant: TenantId,
        actor: &Actor,
        person: PersonId,
        sha256: &str,
        purpose: &str,
    ) -> Result<(AttachmentMeta, Vec<u8>), ServiceError> {
        let (meta, plain) = self.open_attachment(tenant, person, sha256).await?;
        let ev = self.pending(
            actor,
            EventBody::AttachmentRead { person_id: person, sha256: meta.sha256.clone(), purpose: purpose.into() },
        );
        self.append(tenant, vec![ev], vec![]).await?;
        Ok((meta, plain))
    }

    /// Opens a file without auditing: callers audit (a proof package audits each file it includes).
    pub(crate) async fn open_attachment(
        &self,
        tenant: TenantId,
        person: PersonId,
        sha256: &str,
    ) -> Result<(AttachmentMeta, Vec<u8>), ServiceError> {
        let not_found = || ServiceError::NotFound(format!("attachment {sha256}"));
        let (meta, sealed) = queries::attachment(&self.db, tenant, person, sha256).await?.ok_or_else(not_found)?;
        let dek = self.person_key(tenant, person).await?.ok_or_else(not_found)?;
        let plain = dek.open(&sealed, &aad(tenant, person, &meta.sha256))?;
        if konsent_domain::crypto::sha256_hex(&plain) != meta.sha256 {
            return Err(ServiceError::Conflict(format!("attachment {sha256} does not match its hash")));
        }
        Ok((meta, plain))
    }
}
