//! E-mail double opt-in (R13): a confirmation mail with a 128-bit single-use token (only its hash
//! is stored) goes into the outbox in the same transaction as the ledger entry that records it;
//! confirming adds the DOI evidence with time and request details and lets the rules decide the
//! consent's status again. A GET never confirms: the link opens a page with a button.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jiff::{SignedDuration, Timestamp};
use konsent_domain::consent::{ConsentRecord, Evidence};
use konsent_domain::contact::ContactValue;
use konsent_domain::crypto::{DataKey, sha256_hex};
use konsent_domain::ids::{ConsentId, ContactPointId, EventId, TenantId};
use konsent_domain::ledger::{Actor, EventBody};
use konsent_domain::mail::{Outgoing, OutgoingMail, ReceiptFacts, consent_receipt, doi_confirmation};
use konsent_store::SideWrite;
use konsent_store::queries::{self, OutboxRow};

use crate::consents::{Missing, decide_status};
use crate::context::Konsent;
use crate::error::ServiceError;
use crate::otp::number_pending;

/// How long a confirmation link stays valid by default (R13).
pub const TOKEN_VALIDITY: SignedDuration = SignedDuration::from_hours(7 * 24);

/// A queued confirmation mail.
#[derive(Debug, Clone)]
pub struct DoiQueued {
    /// Message id.
    pub message_id: String,
    /// The token expires at.
    pub expires_at: Timestamp,
}

/// A confirmation link about to be sent.
#[derive(Debug)]
pub(crate) struct NewLink {
    /// SHA-256 of the token.
    pub token_hash: String,
    /// Message id of the message carrying it.
    pub message_id: String,
    /// The link.
    pub url: String,
    /// Expiry.
    pub expires_at: Timestamp,
    /// Expiry as a German date.
    pub expires_de: String,
    /// The person's preference-centre link.
    pub prefs: String,
}

/// Where a confirmation link stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DoiState {
    /// Can be confirmed: the consent text's title and the company.
    Open {
        /// Title of the consent text.
        title: String,
        /// The advertisers' legal names.
        company: String,
        /// The consent also covers a phone number that is not verified yet: after the click, a
        /// code goes by text message to it (R15, R16).
        number_follows: bool,
    },
    /// Already used.
    Used,
    /// Expired.
    Expired,
}

fn outbox_key(k: &Konsent) -> DataKey {
    DataKey::from_bytes(k.keys.master().derive(b"konsent-outbox-v1"))
}

pub(crate) fn token_hash(token: &str) -> String {
    sha256_hex(token.as_bytes())
}

impl Konsent {
    /// Queues the confirmation mail for the e-mail contact point of a consent. `base_url` is the
    /// public address of this installation (the link is `{base_url}/doi/{token}`).
    pub async fn request_doi(
        &self,
        tenant: TenantId,
        actor: &Actor,
        consent_id: ConsentId,
        base_url: &str,
    ) -> Result<DoiQueued, ServiceError> {
        self.queue_doi(tenant, actor, consent_id, base_url, false).await
    }

    /// Sends the one reminder (R13: optional, off by default) for every confirmation link that is
    /// still open `after` its mail went out, when the consent has had no reminder yet.
    pub async fn send_doi_reminders(&self, after: SignedDuration) -> Result<usize, ServiceError> {
        let now = self.now();
        let due = queries::doi_reminders_due(&self.db, now.as_microsecond(), (now - after).as_microsecond()).await?;
        let mut n = 0;
        for (tenant, consent) in due {
            let (Ok(tenant), Ok(consent)) = (tenant.parse::<TenantId>(), consent.parse::<ConsentId>()) else {
                continue;
            };
            match self.queue_doi(tenant, &Actor::System, consent, &self.public_url.clone(), true).await {
                Ok(_) => n += 1,
                Err(ServiceError::Conflict(_)) => {}
                Err(e) => tracing::warn!(error = %e, consent = %consent, "reminder not sent"),
            }
        }
        Ok(n)
    }

    async fn queue_doi(
        &self,
        tenant: TenantId,
        actor: &Actor,
        consent_id: ConsentId,
        base_url: &str,
        reminder: bool,
    ) -> Result<DoiQueued, ServiceError> {
        let c = queries::consent(&self.db, tenant, consent_id)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("consent {consent_id}")))?;
        if c.status.is_valid_for_processing() && c.evidence.iter().any(|e| matches!(e, Evidence::EmailDoi { .. })) {
            return Err(ServiceError::Conflict(format!(
                "Einwilligung bereits bestätigt / consent {consent_id} is already confirmed"
            )));
        }
        let now = self.now();
        if reminder
            && (c.status.is_valid_for_processing() || c.status == konsent_domain::consent::ConsentStatus::Withdrawn)
        {
            return Err(ServiceError::Conflict("nichts zu erinnern / nothing to remind of".into()));
        }
        if !reminder
            && queries::open_doi_token(&self.db, &tenant.to_string(), &consent_id.to_string(), now.as_microsecond())
                .await?
        {
            // R13: one confirmation mail; a new one only once the last link has expired.
            return Err(ServiceError::Conflict(format!(
                "a confirmation mail for consent {consent_id} is already on its way; its link is still valid"
            )));
        }
        let (cp, address) = self.email_of(tenant, &c).await?;
        let l = self.load_context(tenant, c.person_id, c.text_id).await?;
        let company = company_of(&c, l.advertisers());
        let link = self.new_link(tenant, &c, base_url, now);
        let (mut subject, text) = doi_confirmation(&company, &l.text().title, &link.url, &link.expires_de, &link.prefs);
        if reminder {
            subject = format!("Erinnerung / reminder: {subject}");
        }
        let mail = OutgoingMail { message_id: link.message_id.clone(), to: address, subject, text };
        self.send_link(tenant, actor, &c, cp, link, &Outgoing::Mail(mail), "doi_confirmation", "doi").await
    }

    /// A fresh single-use confirmation link for consent `c`: 128-bit token (only its hash is kept),
    /// message id, expiry and the person's preference-centre link.
    pub(crate) fn new_link(&self, tenant: TenantId, c: &ConsentRecord, base_url: &str, now: Timestamp) -> NewLink {
        let base = base_url.trim_end_matches('/');
        let token = URL_SAFE_NO_PAD.encode(self.random::<16>());
        let expires_at = now + TOKEN_VALIDITY;
        let d = konsent_domain::time::utc_date(expires_at);
        NewLink {
            token_hash: token_hash(&token),
            message_id: format!("<{}@konsent>", self.id(EventId::from_parts)),
            url: format!("{base}/doi/{token}"),
            expires_at,
            expires_de: format!("{:02}.{:02}.{} (UTC)", d.day(), d.month(), d.year()),
            prefs: format!(
                "{base}/p/{}",
                self.sign_link(&crate::prefs::LinkClaim { t: tenant, p: c.person_id, u: None })
            ),
        }
    }

    /// Records a confirmation link in one transaction: the `doi_requested` entry, the message in
    /// the outbox and the token's hash with its `purpose` (`doi` or `text_confirmation`).
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn send_link(
        &self,
        tenant: TenantId,
        actor: &Actor,
        c: &ConsentRecord,
        cp: ContactPointId,
        link: NewLink,
        msg: &Outgoing,
        kind: &str,
        purpose: &str,
    ) -> Result<DoiQueued, ServiceError> {
        let now = self.now();
        let ev = self.pending(
            actor,
            EventBody::DoiRequested {
                consent_id: c.id,
                contact_point: cp,
                message_id: link.message_id.clone(),
                token_hash: link.token_hash.clone(),
                sent_at: now,
                expires_at: link.expires_at,
            },
        );
        let side = vec![
            self.outbox_message(msg, kind, c)?,
            SideWrite::DoiToken {
                token_hash: link.token_hash,
                consent_id: c.id.to_string(),
                contact_point_id: cp.to_string(),
                message_id: link.message_id.clone(),
                sent_at: now.as_microsecond(),
                expires_at: link.expires_at.as_microsecond(),
                purpose: purpose.into(),
            },
        ];
        self.append(tenant, vec![ev], side).await?;
        if !self.mail_configured {
            // No sender: the newcomer sees the link at once (the message also lands in DATA_DIR/outbox).
            tracing::info!(link = %link.url, "no sender configured: confirmation link");
        }
        Ok(DoiQueued { message_id: link.message_id, expires_at: link.expires_at })
    }

    /// The state of a confirmation link (for the page the link opens). Unknown tokens are `None`.
    pub async fn doi_state(&self, token: &str) -> Result<Option<DoiState>, ServiceError> {
        let Some(row) = queries::doi_token(&self.db, &token_hash(token)).await? else { return Ok(None) };
        if row.used_at.is_some() {
            return Ok(Some(DoiState::Used));
        }
        if self.now().as_microsecond() >= row.expires_at {
            return Ok(Some(DoiState::Expired));
        }
        let tenant: TenantId = row.tenant_id.parse().map_err(|_| ServiceError::Conflict("bad tenant id".into()))?;
        let consent_id: ConsentId =
            row.consent_id.parse().map_err(|_| ServiceError::Conflict("bad consent id".into()))?;
        let c = queries::consent(&self.db, tenant, consent_id)
            .await?
            .ok_or_else(|| ServiceError::NotFound("consent".into()))?;
        let l = self.load_context(tenant, c.person_id, c.text_id).await?;
        let number_follows = number_pending(&decide_status(&mut c.clone(), &l.context(self.now()), self.now()));
        Ok(Some(DoiState::Open {
            title: l.text().title.clone(),
            company: company_of(&c, l.advertisers()),
            number_follows,
        }))
    }

    /// Confirms: single use, before expiry. Adds the DOI evidence (time, and a hash of IP and user
    /// agent) and decides the status again; returns the record and what is still missing.
    pub async fn confirm_doi(
        &self,
        token: &str,
        ip: Option<&str>,
        user_agent: Option<&str>,
    ) -> Result<(ConsentRecord, Vec<Missing>), ServiceError> {
        let hash = token_hash(token);
        let row = queries::doi_token(&self.db, &hash)
            .await?
            .ok_or_else(|| ServiceError::NotFound("confirmation link".into()))?;
        if row.used_at.is_some() {
            return Err(ServiceError::Conflict(
                "dieser Bestätigungslink wurde schon benutzt / this confirmation link was already used".into(),
            ));
        }
        let now = self.now();
        if now.as_microsecond() >= row.expires_at {
            return Err(ServiceError::Conflict(
                "dieser Bestätigungslink ist abgelaufen / this confirmation link has expired".into(),
            ));
        }
        let bad = |what: &str| ServiceError::Conflict(format!("stored token has a bad {what}"));
        let tenant: TenantId = row.tenant_id.parse().map_err(|_| bad("tenant id"))?;
        let consent_id: ConsentId = row.consent_id.parse().map_err(|_| bad("consent id"))?;
        let cp: ContactPointId = row.contact_point_id.parse().map_err(|_| bad("contact point id"))?;
        let mut c = queries::consent(&self.db, tenant, consent_id)
            .await?
            .ok_or_else(|| ServiceError::NotFound("consent".into()))?;
        let sent_at = Timestamp::from_microsecond(row.sent_at).map_err(|_| bad("time"))?;
        // A link sent after a call confirms the verbal consent in text form (R17 b); any other
        // link is the e-mail double opt-in (R13).
        let text_confirmation = row.purpose == "text_confirmation";
        let evidence = if text_confirmation {
            Evidence::TextConfirmation { contact_point: cp, sent_at, confirmed_at: now }
        } else {
            Evidence::EmailDoi {
                contact_point: cp,
                sent_at,
                message_id: row.message_id.clone(),
                token_hash: hash.clone(),
                confirmed_at: now,
                request_details: Some(self.request_details_hash(ip, user_agent)),
            }
        };
        let before = c.status;
        let evidence_kind = evidence.kind();
        c.evidence.push(evidence.clone());
        let l = self.load_context(tenant, c.person_id, c.text_id).await?;
        let missing = decide_status(&mut c, &l.context(now), now);
        let actor = &Actor::System;
        let mut events = vec![self.pending(actor, EventBody::EvidenceAdded { consent_id, evidence })];
        events.push(self.pending(
            actor,
            EventBody::ContactPointVerified { contact_point_id: cp, method: evidence_kind.into(), at: now },
        ));
        if c.status != before {
            events.push(self.pending(
                actor,
                EventBody::ConsentStatusChanged {
                    consent_id,
                    from: before,
                    to: c.status,
                    reason: format!("{evidence_kind}_confirmed"),
                    at: now,
                },
            ));
        }
        let mut side = vec![SideWrite::DoiUsed { token_hash: hash, used_at: now.as_microsecond() }];
        let email = if c.status.is_valid_for_processing() { self.email_of(tenant, &c).await.ok() } else { None };
        if let Some((_, address)) = email {
            // R69: a receipt at the point of consent, to the consent's e-mail address.
            let receipt_id = format!("K-{}", &self.id(EventId::from_parts).to_string()[..18]);
            let prefs = format!(
                "{}/p/{}",
                self.public_url.trim_end_matches('/'),
                self.sign_link(&crate::prefs::LinkClaim { t: tenant, p: c.person_id, u: None })
            );
            let ids = (receipt_id.as_str(), self.id(EventId::from_parts).to_string());
            let mail = receipt_mail(&c, &l, ids, now, address, &prefs);
            side.push(self.outbox_write(&mail, "consent_receipt", &c)?);
            events.push(self.pending(
                &Actor::System,
                EventBody::ReceiptIssued { consent_id, receipt_id, message_id: mail.message_id.clone(), at: now },
            ));
        }
        self.append(tenant, events, side).await.map_err(|e| match e {
            ServiceError::Store(konsent_store::StoreError::NotFound(_)) => ServiceError::Conflict(
                "dieser Bestätigungslink wurde schon benutzt / this confirmation link was already used".into(),
            ),
            e => e,
        })?;
        if c.status.is_valid_for_processing() {
            tracing::info!(consent = %consent_id, "double opt-in confirmed");
        }
        Ok((c, missing))
    }

    /// The outbox row of a mail about consent `c`.
    fn outbox_write(&self, mail: &OutgoingMail, kind: &str, c: &ConsentRecord) -> Result<SideWrite, ServiceError> {
        self.outbox_message(&Outgoing::Mail(mail.clone()), kind, c)
    }

    /// The outbox row of a message about consent `c`, sealed under a key derived from the master
    /// key; a withdrawal of the consent or an objection of its person cancels it while queued.
    pub(crate) fn outbox_message(
        &self,
        msg: &Outgoing,
        kind: &str,
        c: &ConsentRecord,
    ) -> Result<SideWrite, ServiceError> {
        let json = serde_json::to_vec(msg).map_err(|e| ServiceError::Conflict(e.to_string()))?;
        let sealed = outbox_key(self).seal(self.random(), &json, msg.message_id().as_bytes());
        Ok(SideWrite::Outbox {
            id: msg.message_id().to_string(),
            kind: kind.into(),
            person_ref: Some(c.person_id.to_string()),
            consent_ref: Some(c.id.to_string()),
            sealed,
            created_at: self.now().as_microsecond(),
        })
    }

    /// The consent's e-mail contact point and its address.
    async fn email_of(&self, tenant: TenantId, c: &ConsentRecord) -> Result<(ContactPointId, String), ServiceError> {
        for cp in &c.contact_points {
            if let Some(ContactValue::Email(e)) = self.contact_value(tenant, c.person_id, *cp).await? {
                return Ok((*cp, e.as_str().to_string()));
            }
        }
        Err(ServiceError::invalid(
            "consent_id",
            "die Einwilligung ist an keine E-Mail-Adresse gebunden / the consent is bound to no e-mail contact point",
        ))
    }

    /// Claims up to `limit` due messages and opens them; a message that cannot be opened is
    /// reported as `Err` with its id.
    pub async fn claim_mail(&self, limit: i64) -> Result<Vec<(OutboxRow, Result<Outgoing, String>)>, ServiceError> {
        let now = self.now().as_microsecond();
        let rows = queries::claim_outbox(&self.db, now, 60_000_000, limit).await?;
        let key = outbox_key(self);
        Ok(rows
            .into_iter()
            .map(|r| {
                let mail = key
                    .open(&r.sealed, r.id.as_bytes())
                    .map_err(|e| e.to_string())
                    .and_then(|p| serde_json::from_slice(&p).map_err(|e| e.to_string()));
                (r, mail)
            })
            .collect())
    }

    /// Marks a message sent.
    pub async fn mail_sent(&self, id: &str) -> Result<(), ServiceError> {
        Ok(queries::outbox_sent(&self.db, id, self.now().as_microsecond()).await?)
    }

    /// Schedules another attempt with exponential backoff (2 s doubling, at most 10 minutes).
    pub async fn mail_failed(&self, id: &str, attempts: i64, error: &str) -> Result<(), ServiceError> {
        let secs = 2_i64.saturating_pow(attempts.clamp(1, 20) as u32).min(600);
        let next = (self.now() + SignedDuration::from_secs(secs)).as_microsecond();
        Ok(queries::outbox_retry(&self.db, id, next, error).await?)
    }
}

/// The receipt mail of a consent that has just become effective (R69).
fn receipt_mail(
    c: &ConsentRecord,
    l: &crate::consents::LoadedContext,
    (receipt_id, id): (&str, String),
    now: Timestamp,
    to: String,
    preferences_url: &str,
) -> OutgoingMail {
    let text = l.text();
    let companies: Vec<String> = l
        .advertisers()
        .iter()
        .filter(|a| c.scope.advertisers.contains(&a.id))
        .map(|a| format!("{} ({})", a.legal_name, a.seat))
        .collect();
    let purposes: Vec<String> = c.scope.product_categories.iter().map(|p| p.as_str().to_string()).collect();
    let channels: Vec<String> = c.scope.channels.iter().map(|ch| ch.label_de().to_string()).collect();
    let version = format!("{} v{} (SHA-256 {})", text.key, text.version, text.sha256);
    let at = now.to_string();
    let (subject, body) = consent_receipt(&ReceiptFacts {
        receipt_id,
        at: &at,
        companies: &companies,
        purposes: &purposes,
        channels: &channels,
        text_version: &version,
        text: &text.body,
        preferences_url,
    });
    OutgoingMail { message_id: format!("<{id}@konsent>"), to, subject, text: body }
}

/// The advertisers a consent names, by legal name.
pub(crate) fn company_of(c: &ConsentRecord, advertisers: &[konsent_domain::party::Advertiser]) -> String {
    let names: Vec<&str> =
        advertisers.iter().filter(|a| c.scope.advertisers.contains(&a.id)).map(|a| a.legal_name.as_str()).collect();
    if names.is_empty() { "uns / us".into() } else { names.join(", ") }
}
