//! E-mail double opt-in (R13): a confirmation mail with a 128-bit single-use token (only its hash
//! is stored) goes into the outbox in the same transaction as the ledger entry that records it;
//! confirming adds the DOI evidence with time and request details and lets the rules decide the
//! consent's status again. A GET never confirms: the link opens a page with a button. One link
//! may cover several consents of one person bound to the same address: a re-permission mail
//! renews all of theirs at once (R43).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jiff::{SignedDuration, Timestamp};
use konsent_domain::consent::{ConsentRecord, Evidence};
use konsent_domain::contact::ContactValue;
use konsent_domain::crypto::{DataKey, sha256_hex};
use konsent_domain::ids::{ConsentId, ContactPointId, EventId, TenantId};
use konsent_domain::ledger::{Actor, EventBody};
use konsent_domain::mail::{
    Outgoing, OutgoingMail, OutgoingSms, Renewal, doi_confirmation, repermission_request, repermission_sms,
};
use konsent_store::SideWrite;
use konsent_store::queries::{self, OutboxRow};

use crate::consents::decide_status;
use crate::context::Konsent;
use crate::error::ServiceError;
use crate::otp::number_pending;

mod click;

pub use click::Confirmed;

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

/// What a confirmation link confirms (stored with the token's hash).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// The e-mail double opt-in of a consent (R13).
    Doi,
    /// A request to renew consents by e-mail (R43); the click is their e-mail double opt-in.
    Repermission,
    /// A request to renew consents by text message (R43); the click on its page is the
    /// affirmative action, and the number is verified by a code after it.
    RepermissionSms,
    /// The confirmation in text form of a verbal consent from a call (R17 b).
    TextConfirmation,
}

impl Purpose {
    /// The stored code.
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Doi => "doi",
            Purpose::Repermission => "repermission",
            Purpose::RepermissionSms => "repermission_sms",
            Purpose::TextConfirmation => "text_confirmation",
        }
    }

    /// The purpose of a stored code (`doi` for anything unknown).
    pub fn of(code: &str) -> Self {
        match code {
            "repermission" => Purpose::Repermission,
            "repermission_sms" => Purpose::RepermissionSms,
            "text_confirmation" => Purpose::TextConfirmation,
            _ => Purpose::Doi,
        }
    }

    /// The outbox kind of the message carrying such a link.
    fn message_kind(self) -> &'static str {
        match self {
            Purpose::Doi => "doi_confirmation",
            Purpose::Repermission | Purpose::RepermissionSms => "repermission",
            Purpose::TextConfirmation => "call_confirmation",
        }
    }

    /// Whether the link renews consents (R43): its page shows their wording.
    pub fn renews(self) -> bool {
        matches!(self, Purpose::Repermission | Purpose::RepermissionSms)
    }
}

/// Why a confirmation mail is queued besides a first double opt-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Basis {
    /// The one reminder (R13).
    Reminder,
    /// A request relying on this consent (re-permission, R43): its withdrawal cancels the mail.
    Consent(ConsentId),
}
use Basis::Reminder;

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
        /// For a re-permission request (R43): the title and wording of each text the click
        /// renews consent under; empty otherwise.
        renewals: Vec<(String, String)>,
    },
    /// Already used.
    Used,
    /// Every consent it covers was withdrawn, revoked or has otherwise ended since it was sent.
    Ended,
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
        self.queue_doi(tenant, actor, &[consent_id], None, base_url, Purpose::Doi, None).await
    }

    /// Sends the one reminder (R13: optional, off by default) for every confirmation link that is
    /// still open `after` its mail went out, when none of its consents has had another mail.
    pub async fn send_doi_reminders(&self, after: SignedDuration) -> Result<usize, ServiceError> {
        let now = self.now();
        let due = queries::doi_reminders_due(&self.db, now.as_microsecond(), (now - after).as_microsecond()).await?;
        let mut n = 0;
        for (tenant, hash) in due {
            let rows = queries::doi_token(&self.db, &hash).await?;
            let consents: Vec<ConsentId> = rows.iter().map(|r| r.consent_id).collect();
            // Only double opt-in links are reminded of (`doi_reminders_due`).
            let to = rows.first().map(|r| r.contact_point_id);
            let url = self.public_url.clone();
            match self.queue_doi(tenant, &Actor::System, &consents, to, &url, Purpose::Doi, Some(Reminder)).await {
                Ok(_) => n += 1,
                Err(ServiceError::Conflict(_) | ServiceError::Ended(_)) => {}
                Err(e) => tracing::warn!(error = %e, consents = consents.len(), "reminder not sent"),
            }
        }
        Ok(n)
    }

    /// Queues one confirmation message for `ids`: consents of one person bound to the same address
    /// or number, `to` or else the first consent's e-mail address (more than one consent only for
    /// a re-permission request). A [`Purpose::RepermissionSms`] request goes as a text message to
    /// the number `to`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn queue_doi(
        &self,
        tenant: TenantId,
        actor: &Actor,
        ids: &[ConsentId],
        to: Option<ContactPointId>,
        base_url: &str,
        purpose: Purpose,
        basis: Option<Basis>,
    ) -> Result<DoiQueued, ServiceError> {
        let reminder = basis == Some(Reminder);
        let basis = match basis {
            Some(Basis::Consent(c)) => Some(c),
            _ => None,
        };
        let now = self.now();
        let mut cs = Vec::with_capacity(ids.len());
        for &consent_id in ids {
            let c = queries::consent(&self.db, tenant, consent_id)
                .await?
                .ok_or_else(|| ServiceError::NotFound(format!("consent {consent_id}")))?;
            if c.status.is_valid_for_processing() && c.evidence.iter().any(|e| matches!(e, Evidence::EmailDoi { .. })) {
                return Err(ServiceError::Conflict(format!(
                    "Einwilligung bereits bestätigt / consent {consent_id} is already confirmed"
                )));
            }
            if c.status.has_ended() {
                return Err(ServiceError::Ended(format!("consent {consent_id}")));
            }
            if reminder && c.status.is_valid_for_processing() {
                return Err(ServiceError::Conflict("nichts zu erinnern / nothing to remind of".into()));
            }
            if !reminder && queries::open_doi_token(&self.db, tenant, consent_id, now.as_microsecond()).await? {
                // R13: one confirmation mail; a new one only once the last link has expired.
                return Err(ServiceError::Conflict(format!(
                    "a confirmation mail for consent {consent_id} is already on its way; its link is still valid"
                )));
            }
            cs.push(c);
        }
        let Some(lead) = cs.first() else {
            return Err(ServiceError::invalid("consent_id", "keine Einwilligung / no consent"));
        };
        let by_sms = purpose == Purpose::RepermissionSms;
        let (cp, address) = match (to, by_sms) {
            (Some(cp), false) => match self.contact_value(tenant, lead.person_id, cp).await? {
                Some(ContactValue::Email(e)) => (cp, e.as_str().to_string()),
                _ => return Err(ServiceError::invalid("to", "keine E-Mail-Adresse / not an e-mail address")),
            },
            (Some(cp), true) => match self.contact_value(tenant, lead.person_id, cp).await? {
                Some(ContactValue::Phone(p)) => {
                    self.check_sms_number(&p)?;
                    (cp, p.as_str().to_string())
                }
                _ => return Err(ServiceError::invalid("to", "keine Rufnummer / not a phone number")),
            },
            (None, false) => self.email_of(tenant, lead).await?,
            (None, true) => return Err(ServiceError::invalid("to", "keine Rufnummer / no phone number")),
        };
        if cs.iter().any(|c| c.person_id != lead.person_id || !c.contact_points.contains(&cp)) {
            return Err(ServiceError::invalid(
                "consent_id",
                "ein Link bestätigt nur Einwilligungen einer Person an dieselbe Adresse / \
                 one link confirms only consents of one person bound to the same address or number",
            ));
        }
        let mut loaded = Vec::with_capacity(cs.len());
        for c in &cs {
            loaded.push(self.load_context(tenant, c.person_id, c.text_id).await?);
        }
        let mut companies: Vec<String> = Vec::new();
        for (c, l) in cs.iter().zip(&loaded) {
            let name = company_of(c, l.advertisers());
            if !companies.contains(&name) {
                companies.push(name);
            }
        }
        let company = companies.join(", ");
        let link = self.new_link(tenant, lead, base_url, now);
        if by_sms {
            let text = repermission_sms(&company, &link.url);
            let msg = Outgoing::Sms(OutgoingSms { message_id: link.message_id.clone(), to: address, text });
            return self.send_link(tenant, actor, &cs, cp, link, &msg, purpose, basis).await;
        }
        let (mut subject, text) = match purpose {
            Purpose::Repermission => {
                let number_follows = cs
                    .iter()
                    .zip(&loaded)
                    .any(|(c, l)| number_pending(&decide_status(&mut c.clone(), &l.context(now), now)));
                let renewals: Vec<Renewal<'_>> = cs
                    .iter()
                    .zip(&loaded)
                    .map(|(c, l)| Renewal {
                        title: &l.text().title,
                        body: &l.text().body,
                        channels_de: c.scope.channels.iter().map(|ch| ch.label_de()).collect(),
                        channels_en: c.scope.channels.iter().map(|ch| ch.label_en()).collect(),
                    })
                    .collect();
                repermission_request(&company, &renewals, &link.url, &link.expires_de, &link.prefs, number_follows)
            }
            _ => {
                let titles: Vec<&str> = loaded.iter().map(|l| l.text().title.as_str()).collect();
                doi_confirmation(&company, &titles.join("“, „"), &link.url, &link.expires_de, &link.prefs)
            }
        };
        if reminder {
            subject = format!("Erinnerung / reminder: {subject}");
        }
        let mail = OutgoingMail { message_id: link.message_id.clone(), to: address, subject, text };
        self.send_link(tenant, actor, &cs, cp, link, &Outgoing::Mail(mail), purpose, basis).await
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

    /// Records a confirmation link in one transaction: a `doi_requested` entry per consent it
    /// covers, the message in the outbox and the token's hash with its `purpose`. The message is
    /// cancelled while queued when `basis` (default: the first consent) is withdrawn.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn send_link(
        &self,
        tenant: TenantId,
        actor: &Actor,
        cs: &[ConsentRecord],
        cp: ContactPointId,
        link: NewLink,
        msg: &Outgoing,
        purpose: Purpose,
        basis: Option<ConsentId>,
    ) -> Result<DoiQueued, ServiceError> {
        let now = self.now();
        let lead = cs.first().ok_or_else(|| ServiceError::invalid("consent_id", "keine Einwilligung / no consent"))?;
        let mut events = Vec::with_capacity(cs.len());
        let mut message = self.outbox_message(msg, purpose.message_kind(), lead)?;
        // A request that relies on another consent (re-permission) is cancelled while queued when
        // that consent is withdrawn.
        if let (Some(b), SideWrite::Outbox { consent_ref, .. }) = (basis, &mut message) {
            *consent_ref = Some(b.to_string());
        }
        let mut side = vec![message];
        for c in cs {
            events.push(self.pending(
                actor,
                EventBody::DoiRequested {
                    consent_id: c.id,
                    contact_point: cp,
                    message_id: link.message_id.clone(),
                    token_hash: link.token_hash.clone(),
                    sent_at: now,
                    expires_at: link.expires_at,
                },
            ));
            side.push(SideWrite::DoiToken {
                token_hash: link.token_hash.clone(),
                consent_id: c.id,
                contact_point_id: cp,
                message_id: link.message_id.clone(),
                sent_at: now.as_microsecond(),
                expires_at: link.expires_at.as_microsecond(),
                purpose: purpose.as_str().into(),
            });
        }
        self.append(tenant, events, side).await?;
        if !self.mail_configured && purpose == Purpose::Doi && matches!(msg, Outgoing::Mail(_)) {
            // No mail sender: the newcomer sees a sign-up's link at once (the message also lands
            // in DATA_DIR/outbox). Bulk requests and text messages are never logged.
            tracing::info!(link = %link.url, "no sender configured: confirmation link");
        }
        Ok(DoiQueued { message_id: link.message_id, expires_at: link.expires_at })
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
    pub(crate) async fn email_of(
        &self,
        tenant: TenantId,
        c: &ConsentRecord,
    ) -> Result<(ContactPointId, String), ServiceError> {
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

/// The advertisers a consent names, by legal name.
pub(crate) fn company_of(c: &ConsentRecord, advertisers: &[konsent_domain::party::Advertiser]) -> String {
    let names: Vec<&str> =
        advertisers.iter().filter(|a| c.scope.advertisers.contains(&a.id)).map(|a| a.legal_name.as_str()).collect();
    if names.is_empty() { "uns / us".into() } else { names.join(", ") }
}
