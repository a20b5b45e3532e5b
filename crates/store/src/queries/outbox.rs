//! The outbox (claiming due messages, marking them sent or due again) and double opt-in tokens.

use konsent_domain::ids::{ConsentId, ContactPointId, TenantId};

use crate::db::{Db, Engine};
use crate::error::StoreError;
use crate::vals;

/// A claimed message.
#[derive(Debug, Clone)]
pub struct OutboxRow {
    /// Message id.
    pub id: String,
    /// Tenant.
    pub tenant_id: TenantId,
    /// Kind.
    pub kind: String,
    /// Sealed message.
    pub sealed: Vec<u8>,
    /// Attempts so far, this one included.
    pub attempts: i64,
}

/// Claims up to `limit` due messages for `lease_us`: nobody else gets them until the lease runs
/// out (a crashed sender's messages come back). On PostgreSQL, instances skip each other's rows.
pub async fn claim_outbox(db: &Db, now: i64, lease_us: i64, limit: i64) -> Result<Vec<OutboxRow>, StoreError> {
    let sql = match db.engine() {
        Engine::Sqlite => {
            "UPDATE outbox SET next_attempt_at = $1 + $2, attempts = attempts + 1 WHERE id IN \
             (SELECT id FROM outbox WHERE status = 'pending' AND next_attempt_at <= $1 ORDER BY next_attempt_at LIMIT $3) \
             RETURNING id, tenant_id, kind, sealed, attempts"
        }
        Engine::Postgres => {
            "UPDATE outbox SET next_attempt_at = $1 + $2, attempts = attempts + 1 WHERE id IN \
             (SELECT id FROM outbox WHERE status = 'pending' AND next_attempt_at <= $1 ORDER BY next_attempt_at LIMIT $3 \
              FOR UPDATE SKIP LOCKED) \
             RETURNING id, tenant_id, kind, sealed, attempts"
        }
    };
    let mut tx = db.begin().await?;
    let rows = tx.fetch_all(sql, vals![now, lease_us, limit]).await?;
    tx.commit().await?;
    rows.into_iter()
        .map(|r| {
            Ok(OutboxRow {
                id: r.text(0)?,
                tenant_id: r.id(1)?,
                kind: r.text(2)?,
                sealed: r.bytes(3)?,
                attempts: r.i64(4)?,
            })
        })
        .collect()
}

/// Marks a message sent and drops its sealed content (it is no longer needed).
pub async fn outbox_sent(db: &Db, id: &str, now: i64) -> Result<(), StoreError> {
    db.exec(
        "UPDATE outbox SET status = 'sent', sent_at = $1, sealed = $2, last_error = NULL WHERE id = $3",
        vals![now, Vec::<u8>::new(), id],
    )
    .await?;
    Ok(())
}

/// Schedules another attempt at `next` and notes why this one failed (no personal data).
pub async fn outbox_retry(db: &Db, id: &str, next: i64, error: &str) -> Result<(), StoreError> {
    db.exec("UPDATE outbox SET next_attempt_at = $1, last_error = $2 WHERE id = $3", vals![next, error, id]).await?;
    Ok(())
}

/// Messages by status: (pending, sent); cancelled ones count as neither.
pub async fn outbox_counts(db: &Db) -> Result<(i64, i64), StoreError> {
    let r = db
        .fetch_optional(
            "SELECT COALESCE(SUM(CASE WHEN status = 'pending' THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN status = 'sent' THEN 1 ELSE 0 END), 0) FROM outbox",
            vec![],
        )
        .await?;
    match r {
        Some(r) => Ok((r.i64(0)?, r.i64(1)?)),
        None => Ok((0, 0)),
    }
}

/// A double opt-in token as stored.
#[derive(Debug, Clone)]
pub struct DoiTokenRow {
    /// Tenant.
    pub tenant_id: TenantId,
    /// Consent.
    pub consent_id: ConsentId,
    /// E-mail contact point.
    pub contact_point_id: ContactPointId,
    /// Message id of the mail that carried it.
    pub message_id: String,
    /// Sent at (µs).
    pub sent_at: i64,
    /// Expires at (µs).
    pub expires_at: i64,
    /// Used at (µs).
    pub used_at: Option<i64>,
    /// `doi` or `text_confirmation`.
    pub purpose: String,
}

/// The rows of the token with this hash: one per consent it confirms (a re-permission mail may
/// renew several consents of one person), oldest consent first.
pub async fn doi_token(db: &Db, token_hash: &str) -> Result<Vec<DoiTokenRow>, StoreError> {
    db.fetch_all(
        "SELECT tenant_id, consent_id, contact_point_id, message_id, sent_at, expires_at, used_at, purpose \
         FROM doi_tokens WHERE token_hash = $1 ORDER BY consent_id",
        vals![token_hash],
    )
    .await?
    .into_iter()
    .map(|r| {
        Ok(DoiTokenRow {
            tenant_id: r.id(0)?,
            consent_id: r.id(1)?,
            contact_point_id: r.id(2)?,
            message_id: r.text(3)?,
            sent_at: r.i64(4)?,
            expires_at: r.i64(5)?,
            used_at: r.opt_i64(6)?,
            purpose: r.text(7)?,
        })
    })
    .collect()
}

/// Whether a consent has a token that is neither used nor expired at `now` (µs).
pub async fn open_doi_token(db: &Db, tenant: TenantId, consent_id: ConsentId, now: i64) -> Result<bool, StoreError> {
    Ok(db
        .fetch_optional(
            "SELECT 1 FROM doi_tokens WHERE tenant_id = $1 AND consent_id = $2 AND used_at IS NULL AND expires_at > $3",
            vals![tenant, consent_id, now],
        )
        .await?
        .is_some())
}

/// The newest unused one-time code of a consent: (id, contact point, code mac, sent, expires, attempts).
pub async fn latest_otp(
    db: &Db,
    tenant: TenantId,
    consent_id: ConsentId,
) -> Result<Option<(String, ContactPointId, String, i64, i64, i64)>, StoreError> {
    db.fetch_optional(
        "SELECT id, contact_point_id, code_mac, sent_at, expires_at, attempts FROM otp_codes \
         WHERE tenant_id = $1 AND consent_id = $2 AND used_at IS NULL ORDER BY sent_at DESC, id DESC LIMIT 1",
        vals![tenant, consent_id],
    )
    .await?
    .map(|r| Ok((r.text(0)?, r.id(1)?, r.text(2)?, r.i64(3)?, r.i64(4)?, r.i64(5)?)))
    .transpose()
}

/// Counts a wrong attempt.
pub async fn otp_attempt(db: &Db, id: &str) -> Result<(), StoreError> {
    db.exec("UPDATE otp_codes SET attempts = attempts + 1 WHERE id = $1", vals![id]).await?;
    Ok(())
}

/// (tenant, token hash) of open double opt-in links (R13; not re-permission requests, which are
/// advertising, nor confirmations of calls) sent at or before `sent_before` (µs) none of whose
/// consents has had another mail.
pub async fn doi_reminders_due(db: &Db, now: i64, sent_before: i64) -> Result<Vec<(TenantId, String)>, StoreError> {
    db.fetch_all(
        "SELECT t.tenant_id, t.token_hash FROM doi_tokens t WHERE t.used_at IS NULL AND t.expires_at > $1 \
         AND t.sent_at <= $2 AND t.purpose = 'doi' AND NOT EXISTS (SELECT 1 FROM doi_tokens u WHERE u.tenant_id = t.tenant_id \
         AND u.consent_id = t.consent_id AND u.token_hash <> t.token_hash) \
         GROUP BY t.tenant_id, t.token_hash ORDER BY MIN(t.sent_at) LIMIT 1000",
        vals![now, sent_before],
    )
    .await?
    .into_iter()
    .map(|r| Ok((r.id(0)?, r.text(1)?)))
    .collect()
}
