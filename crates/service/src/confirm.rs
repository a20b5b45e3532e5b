//! Confirmation in text form of a verbal consent (R17 b): after the call, a link goes by text
//! message to the number called (or by e-mail to the consent's address); the click adds the
//! `text_confirmation` evidence. It makes the consent usable only where the tenant's policy
//! accepts it instead of a recording (default: a recording is required).

use konsent_domain::consent::{CaptureMethod, ConsentStatus};
use konsent_domain::ids::{ConsentId, TenantId};
use konsent_domain::ledger::Actor;
use konsent_domain::mail::{Outgoing, OutgoingMail, OutgoingSms, call_confirmation_sms, doi_confirmation};
use konsent_store::queries;

use crate::context::Konsent;
use crate::doi::{DoiQueued, company_of};
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
        if queries::open_doi_token(&self.db, tenant, consent_id, now.as_microsecond()).await? {
            return Err(ServiceError::Conflict("ein Bestätigungslink für diese Einwilligung ist noch gültig / a confirmation link for this consent is still valid".into()));
        }
        let no_such = || {
            ServiceError::invalid(
                "via",
                "die Einwilligung ist an keinen Kontaktweg dieser Art gebunden / the consent is bound to no contact point of that kind",
            )
        };
        let found = match via {
            ConfirmVia::Sms => self.sms_number_of(tenant, &c).await,
            ConfirmVia::Email => self.email_of(tenant, &c).await,
        };
        // Bound to no contact point of that kind (a number outside the allowed prefixes is named).
        let (cp, to) = found.map_err(|e| match e {
            ServiceError::Invalid(f) if f.iter().any(|f| f.field == "consent_id") => no_such(),
            e => e,
        })?;
        let l = self.load_context(tenant, c.person_id, c.text_id).await?;
        let company = company_of(&c, l.advertisers());
        let link = self.new_link(tenant, &c, &self.public_url, now);
        let msg = match via {
            ConfirmVia::Sms => {
                let text = call_confirmation_sms(&company, &link.url);
                Outgoing::Sms(OutgoingSms { message_id: link.message_id.clone(), to, text })
            }
            ConfirmVia::Email => {
                let (subject, text) =
                    doi_confirmation(&company, &l.text().title, &link.url, &link.expires_de, &link.prefs);
                Outgoing::Mail(OutgoingMail { message_id: link.message_id.clone(), to, subject, text })
            }
        };
        let purpose = crate::doi::Purpose::TextConfirmation;
        self.send_link(tenant, actor, std::slice::from_ref(&c), cp, link, &msg, purpose, None).await
    }
}
