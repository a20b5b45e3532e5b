//! Rows written next to the ledger entries in the same transaction: the vault (sealed personal
//! data), the outbox, double opt-in tokens, one-time codes, evidence files and webhooks.

mod hooks;

pub use hooks::{HookItem, WebhookWrite};

use konsent_domain::ids::{ConsentId, ContactPointId, PersonId, SegmentId, TenantId};

use crate::db::Tx;
use crate::error::StoreError;
use crate::ledger::Appended;
use crate::vals;

/// A row written next to the events in the same transaction (vault data).
#[derive(Debug, Clone)]
pub enum SideWrite {
    /// A person's wrapped data key.
    PersonKey {
        /// Person.
        person_id: PersonId,
        /// Data key wrapped by the master key.
        wrapped_key: Vec<u8>,
        /// Fingerprint of the master key used.
        key_fp: String,
    },
    /// A sealed version of a person's data.
    PersonData {
        /// Person.
        person_id: PersonId,
        /// Version, from 1.
        version: i64,
        /// Sealed bytes.
        sealed: Vec<u8>,
        /// SHA-256 of `sealed` (also in the ledger event).
        sha256: String,
    },
    /// A sealed message for the outbox.
    Outbox {
        /// Message id (stable: receivers may deduplicate by it).
        id: String,
        /// Kind, e.g. `doi_confirmation`.
        kind: String,
        /// The person it goes to.
        person_ref: Option<String>,
        /// The consent it is about.
        consent_ref: Option<String>,
        /// The sealed message.
        sealed: Vec<u8>,
        /// Queued at (µs).
        created_at: i64,
    },
    /// A double opt-in token (its hash).
    DoiToken {
        /// SHA-256 of the token, hex.
        token_hash: String,
        /// Consent to confirm.
        consent_id: ConsentId,
        /// E-mail contact point it was sent to.
        contact_point_id: ContactPointId,
        /// Message id of the mail.
        message_id: String,
        /// Sent (queued) at, µs.
        sent_at: i64,
        /// Expires at, µs.
        expires_at: i64,
        /// `doi` (e-mail double opt-in) or `text_confirmation` (R17 b).
        purpose: String,
    },
    /// Cancels what is still queued for a person (objection) or about a consent (withdrawal).
    CancelOutbox {
        /// Person (all their queued messages), or
        person_ref: Option<String>,
        /// one consent's queued messages.
        consent_ref: Option<String>,
    },
    /// A one-time code (its keyed hash).
    OtpCode {
        /// Id.
        id: String,
        /// Consent.
        consent_id: ConsentId,
        /// Phone contact point.
        contact_point_id: ContactPointId,
        /// HMAC of the code.
        code_mac: String,
        /// Sent at, µs.
        sent_at: i64,
        /// Expires at, µs.
        expires_at: i64,
    },
    /// A one-time code is used up; fails the append when it already was.
    OtpUsed {
        /// Id.
        id: String,
        /// When, µs.
        used_at: i64,
    },
    /// A double opt-in token is used up; fails the append when it already was.
    DoiUsed {
        /// SHA-256 of the token.
        token_hash: String,
        /// When, µs.
        used_at: i64,
    },
    /// A sealed contact point value.
    ContactValue {
        /// Contact point.
        contact_point_id: ContactPointId,
        /// Person.
        person_id: PersonId,
        /// Sealed bytes.
        sealed: Vec<u8>,
        /// SHA-256 of `sealed`.
        sha256: String,
    },
    /// Deletes personal data of a person from the vault (erasure, retention sweep).
    EraseVault {
        /// Person.
        person_id: PersonId,
        /// Delete the sealed person data (all versions).
        person_data: bool,
        /// Contact points whose sealed values are deleted.
        contact_points: Vec<ContactPointId>,
        /// Evidence files deleted (SHA-256).
        attachments: Vec<String>,
        /// Delete everything of the person and the wrapped key (crypto-shredding).
        destroy_key: bool,
    },
    /// The retention sweep's deletions outside any person's vault: unused confirmation tokens
    /// that expired before `doi_tokens_before` (µs, D10) and send logs by id (D5).
    Purge {
        /// Cut-off for unused, expired tokens.
        doi_tokens_before: Option<i64>,
        /// Outbox rows.
        messages: Vec<String>,
    },
    /// An import's progress: rows committed so far and its report (JSON, counts only).
    ImportProgress {
        /// Import id (file hash and options).
        id: String,
        /// SHA-256 of the file.
        file_sha256: String,
        /// Format name.
        format: String,
        /// `running` or `done`.
        state: String,
        /// Rows committed (in file order, across the members of a ZIP).
        rows_done: i64,
        /// Rows committed before this batch: the write is refused unless the stored progress
        /// says exactly that (0: no progress stored yet). So an import's batches, handed to
        /// the writer before the one before them committed, land in order or not at all.
        after: i64,
        /// The report so far.
        report: String,
    },
    /// Members of a segment being frozen: (seq, person, contact point, included, reasons JSON,
    /// consents JSON).
    SegmentMembers {
        /// Segment.
        segment_id: SegmentId,
        /// Rows.
        members: Vec<(i64, PersonId, ContactPointId, bool, String, String)>,
    },
    /// Entries of a Robinson list (SHA-256 hex of the normalised value).
    RobinsonEntries {
        /// List.
        list: String,
        /// Replace the list's entries (first chunk of an import).
        replace: bool,
        /// Hashes.
        hashes: Vec<String>,
    },
    /// An evidence file, sealed; stored once per person and content hash.
    Attachment {
        /// Person.
        person_id: PersonId,
        /// SHA-256 of the plain bytes, hex.
        sha256: String,
        /// `recording` or `scan`.
        kind: String,
        /// Sniffed content type.
        content_type: String,
        /// Size of the plain bytes.
        size: i64,
        /// Sealed bytes.
        sealed: Vec<u8>,
    },
    /// Webhook endpoints and the deliveries of the appended events.
    Webhook(WebhookWrite),
}

/// Writes a side row (the vault's into its person's or contact point's row, [`crate::vault`]).
pub(crate) async fn write_side(
    tx: &mut Tx,
    tenant: TenantId,
    now: i64,
    s: SideWrite,
    appended: &[Appended],
) -> Result<(), StoreError> {
    match s {
        SideWrite::Webhook(w) => hooks::write(tx, tenant, now, w, appended).await?,
        vault @ (SideWrite::PersonKey { .. } | SideWrite::PersonData { .. } | SideWrite::ContactValue { .. }) => {
            crate::vault::write(tx, tenant, now, vault).await?
        }
        SideWrite::Outbox { id, kind, person_ref, consent_ref, sealed, created_at } => {
            tx.exec(
                "INSERT INTO outbox (id, tenant_id, kind, person_ref, consent_ref, sealed, status, attempts, next_attempt_at, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, 'pending', 0, $7, $7)",
                vals![id, tenant, kind, person_ref, consent_ref, sealed, created_at],
            )
            .await?
        }
        SideWrite::CancelOutbox { person_ref, consent_ref } => {
            tx.exec(
                "UPDATE outbox SET status = 'cancelled', sealed = $1 WHERE tenant_id = $2 AND status = 'pending' \
                 AND (person_ref = $3 OR consent_ref = $4)",
                vals![Vec::<u8>::new(), tenant, person_ref, consent_ref],
            )
            .await?
        }
        SideWrite::DoiToken { token_hash, consent_id, contact_point_id, message_id, sent_at, expires_at, purpose } => {
            tx.exec(
                "INSERT INTO doi_tokens (token_hash, tenant_id, consent_id, contact_point_id, message_id, sent_at, expires_at, purpose) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                vals![token_hash, tenant, consent_id, contact_point_id, message_id, sent_at, expires_at, purpose],
            )
            .await?
        }
        SideWrite::OtpCode { id, consent_id, contact_point_id, code_mac, sent_at, expires_at } => {
            tx.exec(
                "INSERT INTO otp_codes (id, tenant_id, consent_id, contact_point_id, code_mac, sent_at, expires_at, attempts) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, 0)",
                vals![id, tenant, consent_id, contact_point_id, code_mac, sent_at, expires_at],
            )
            .await?
        }
        SideWrite::OtpUsed { id, used_at } => {
            let n = tx
                .exec(
                    "UPDATE otp_codes SET used_at = $1 WHERE id = $2 AND tenant_id = $3 AND used_at IS NULL",
                    vals![used_at, id, tenant],
                )
                .await?;
            if n != 1 {
                return Err(StoreError::NotFound("an unused code".into()));
            }
            n
        }
        SideWrite::DoiUsed { token_hash, used_at } => {
            let n = tx
                .exec(
                    "UPDATE doi_tokens SET used_at = $1 WHERE token_hash = $2 AND tenant_id = $3 AND used_at IS NULL",
                    vals![used_at, token_hash, tenant],
                )
                .await?;
            if n == 0 {
                return Err(StoreError::NotFound("an unused confirmation token".into()));
            }
            n
        }
        SideWrite::SegmentMembers { segment_id, members } => {
            let mut n = 0;
            for (seq, person, cp, included, reasons, consents) in members {
                n += tx
                    .exec(
                        "INSERT INTO segment_members (tenant_id, segment_id, seq, person_id, contact_point_id, included, reasons, consents) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                        vals![tenant, segment_id, seq, person, cp, i64::from(included), reasons, consents],
                    )
                    .await?;
            }
            n
        }
        SideWrite::RobinsonEntries { list, replace, hashes } => {
            let mut n = 0;
            if replace {
                n += tx
                    .exec("DELETE FROM robinson_entries WHERE tenant_id = $1 AND list = $2", vals![tenant, list.clone()])
                    .await?;
            }
            for h in hashes {
                n += tx
                    .exec(
                        "INSERT INTO robinson_entries (tenant_id, list, hash) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                        vals![tenant, list.clone(), h],
                    )
                    .await?;
            }
            n
        }
        SideWrite::ImportProgress { id, file_sha256, format, state, rows_done, report, after } => {
            let moved = tx
                .exec(
                    "UPDATE imports SET state = $3, rows_done = $4, report = $5, updated_at = $6 \
                     WHERE tenant_id = $1 AND id = $2 AND rows_done = $7",
                    vals![tenant, id.clone(), state.clone(), rows_done, report.clone(), now, after],
                )
                .await?;
            match (moved, after) {
                (0, 0) => {
                    // The import's first batch; a stored progress of another count makes the
                    // insert fail on the key.
                    tx.exec(
                        "INSERT INTO imports (tenant_id, id, file_sha256, format, state, rows_done, report, started_at, updated_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
                        vals![tenant, id, file_sha256, format, state, rows_done, report, now],
                    )
                    .await?
                }
                (0, _) => {
                    return Err(StoreError::Refused {
                        ended: false,
                        detail: format!(
                            "import batch after row {after}, but the import's progress stored is another \
                             (the batch before it did not commit)"
                        ),
                    });
                }
                (n, _) => n,
            }
        }
        SideWrite::Purge { doi_tokens_before, messages } => {
            tx.erases();
            let mut n = 0;
            if let Some(before) = doi_tokens_before {
                n += tx
                    .exec(
                        "DELETE FROM doi_tokens WHERE tenant_id = $1 AND used_at IS NULL AND expires_at < $2",
                        vals![tenant, before],
                    )
                    .await?;
            }
            for id in messages {
                n += tx.exec("DELETE FROM outbox WHERE tenant_id = $1 AND id = $2", vals![tenant, id]).await?;
            }
            n
        }
        SideWrite::EraseVault { person_id, person_data, contact_points, attachments, destroy_key } => {
            tx.erases();
            let mut n = crate::vault::erase(tx, tenant, person_id, person_data, &contact_points, destroy_key).await?;
            if destroy_key {
                n += tx
                    .exec("DELETE FROM attachments WHERE tenant_id = $1 AND person_id = $2", vals![tenant, person_id])
                    .await?;
            }
            for sha in attachments {
                n += tx
                    .exec(
                        "DELETE FROM attachments WHERE tenant_id = $1 AND person_id = $2 AND sha256 = $3",
                        vals![tenant, person_id, sha],
                    )
                    .await?;
            }
            n
        }
        SideWrite::Attachment { person_id, sha256, kind, content_type, size, sealed } => {
            tx.exec(
                "INSERT INTO attachments (tenant_id, person_id, sha256, kind, content_type, size, sealed, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (tenant_id, person_id, sha256) DO NOTHING",
                vals![tenant, person_id, sha256, kind, content_type, size, sealed, now],
            )
            .await?
        }
    };
    Ok(())
}
