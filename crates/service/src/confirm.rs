//! Confirmation in text form of a verbal consent (R17 b): after the call, a link goes by text
//! message to the number called (or by e-mail to the consent's address); the click adds the
//! `text_confirmation` evidence. It makes the consent usable only where the tenant's policy
//! accepts it instead of a recording (default: a recording is required).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use konsent_domain::consent::{CaptureMethod, ConsentStatus};
use konsent_domain::contact::ContactValue;
use konsent_domain::ids::{ConsentId, EventId, TenantId};
use konsent_domain::ledger::{Actor, EventBody};
use konsent_domain::mail::{Outgoing, OutgoingMail, OutgoingSms, call_confirmation_sms, doi_confirmation};
use konsent_store::{SideWrite, queries};

use crate::context::Konsent;
use crate::doi::{DoiQueued, TOKEN_VALIDITY, company_of, token_hash};
use crate::error::ServiceError;

/// How the confirmation link is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfirmVia {
    /// Text message to the consent's phone number.
    Sms,
    /// E-mail to the consent's address.
    Email,
}

impl Konsent {
    /// Sends the confirmation link for a verbal consent that is still requested.
    pub async fn request_text_confirmation(
        &self,
        tenant: TenantId,
        actor: &Actor,
        consent_id: ConsentId,
        via: ConfirmVia,
    ) -> Result<DoiQueued, ServiceError> {
        let c = self.consent_record(tenant, consent_id).await?;
        if c.capture_method != CaptureMethod::PhoneCall || c.status != ConsentStatus::Requested {
            return Err(ServiceError::Conflict(format!(
                "consent {consent_id} is no requested verbal consent from a call; nothing to confirm"
            )));
        }
        let now = self.now();
        if queries::open_doi_token(&self.db, &tenant.to_string(), &consent_id.to_string(), now.as_microsecond()).await?
        {
            return Err(ServiceError::Conflict("a confirmation link for this consent is still valid".into()));
        }
        let mut target = None;
        for cp in &c.contact_points {
            match (via, self.contact_value(tenant, c.person_id, *cp).await?) {
                (ConfirmVia::Sms, Some(ContactValue::Phone(p))) => target = Some((*cp, p.as_str().to_string())),
                (ConfirmVia::Email, Some(ContactValue::Email(e))) => target = Some((*cp, e.as_str().to_string())),
                _ => {}
            }
        }
        let (cp, to) = target
            .ok_or_else(|| ServiceError::invalid("via", "the consent is bound to no contact point of that kind"))?;
        let l = self.load_context(tenant, c.person_id, c.text_id).await?;
        let company = company_of(&c, l.advertisers());
        let token = URL_SAFE_NO_PAD.encode(self.random::<16>());
        let hash = token_hash(&token);
        let message_id = format!("<{}@konsent>", self.id(EventId::from_parts));
        let link = format!("{}/doi/{token}", self.public_url.trim_end_matches('/'));
        let expires_at = now + TOKEN_VALIDITY;
        let msg = match via {
            ConfirmVia::Sms => Outgoing::Sms(OutgoingSms {
                message_id: message_id.clone(),
                to,
                text: call_confirmation_sms(&company, &link),
            }),
            ConfirmVia::Email => {
                let d = konsent_domain::time::utc_date(expires_at);
                let expires = format!("{:02}.{:02}.{} (UTC)", d.day(), d.month(), d.year());
                let prefs = format!(
                    "{}/p/{}",
                    self.public_url.trim_end_matches('/'),
                    self.sign_link(&crate::prefs::LinkClaim { t: tenant, p: c.person_id, u: None })
                );
                let (subject, text) = doi_confirmation(&company, &l.text().title, &link, &expires, &prefs);
                Outgoing::Mail(OutgoingMail { message_id: message_id.clone(), to, subject, text })
            }
        };
        let ev = self.pending(
            actor,
            EventBody::DoiRequested {
                consent_id,
                contact_point: cp,
                message_id: message_id.clone(),
                token_hash: hash.clone(),
                sent_at: now,
                expires_at,
            },
        );
        let side = vec![
            self.outbox_message(&msg, "call_confirmation", &c)?,
            SideWrite::DoiToken {
                token_hash: hash,
                consent_id: consent_id.to_string(),
                contact_point_id: cp.to_string(),
                message_id: message_id.clone(),
                sent_at: now.as_microsecond(),
                expires_at: expires_at.as_microsecond(),
                purpose: "text_confirmation".into(),
            },
        ];
        self.append(tenant, vec![ev], side).await?;
        if !self.mail_configured {
            tracing::info!(%link, "no sender configured: confirmation link");
        }
        Ok(DoiQueued { message_id, expires_at })
    }
}
