//! The preference centre and one-click unsubscribe (RFC 8058): signed links that name a person (and
//! for unsubscribing a consent and channel), so people change their mind without logging in.
//! Withdrawing takes effect at once: the gate's next answer knows it (R39).

use std::collections::BTreeSet;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use konsent_domain::channel::Channel;
use konsent_domain::consent::{ConsentRecord, ConsentStatus, Scope};
use konsent_domain::crypto::hmac256;
use konsent_domain::ids::{ConsentId, PersonId, TenantId};
use konsent_domain::ledger::Actor;
use konsent_store::queries;
use serde::{Deserialize, Serialize};

use crate::context::Konsent;
use crate::error::ServiceError;

/// What a link stands for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkClaim {
    /// Tenant.
    pub t: TenantId,
    /// Person.
    pub p: PersonId,
    /// For unsubscribing: the consent and the channel to withdraw.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub u: Option<(ConsentId, Channel)>,
}

/// The links for a person: the preference centre and, per e-mail consent, the one-click
/// unsubscribe URL with the headers a mail must carry.
#[derive(Debug, Clone, Serialize)]
pub struct PersonLinks {
    /// Preference centre.
    pub preference_centre: String,
    /// One-click unsubscribe per active e-mail consent.
    pub unsubscribe: Vec<UnsubscribeLink>,
}

/// One unsubscribe link.
#[derive(Debug, Clone, Serialize)]
pub struct UnsubscribeLink {
    /// Consent.
    pub consent_id: ConsentId,
    /// URL (GET shows a confirmation page, POST withdraws).
    pub url: String,
    /// `List-Unsubscribe` header value.
    pub list_unsubscribe: String,
    /// `List-Unsubscribe-Post` header value.
    pub list_unsubscribe_post: String,
}

/// A consent as the person sees it.
#[derive(Debug, Clone)]
pub struct PrefItem {
    /// The record.
    pub record: ConsentRecord,
    /// Title of its text.
    pub title: String,
}

fn link_key(k: &Konsent) -> [u8; 32] {
    k.keys.master().derive(b"konsent-person-link-v1")
}

impl Konsent {
    /// Signs a claim into a URL-safe token.
    pub fn sign_link(&self, claim: &LinkClaim) -> String {
        let json = serde_json::to_vec(claim).expect("claim serialises");
        let mac = hmac256(&link_key(self), &json);
        format!("{}.{}", URL_SAFE_NO_PAD.encode(&json), URL_SAFE_NO_PAD.encode(&mac[..20]))
    }

    /// The claim of a genuine token.
    pub fn open_link(&self, token: &str) -> Option<LinkClaim> {
        let (body, mac) = token.split_once('.')?;
        let json = URL_SAFE_NO_PAD.decode(body).ok()?;
        let mac = URL_SAFE_NO_PAD.decode(mac).ok()?;
        let expected = hmac256(&link_key(self), &json);
        if mac.len() != 20 || mac.iter().zip(&expected[..20]).fold(0u8, |a, (x, y)| a | (x ^ y)) != 0 {
            return None;
        }
        serde_json::from_slice(&json).ok()
    }

    /// The links for a person (404 for persons of other tenants).
    pub async fn person_links(&self, tenant: TenantId, person: PersonId) -> Result<PersonLinks, ServiceError> {
        queries::person(&self.db, tenant, person)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("person {person}")))?;
        let base = self.public_url.trim_end_matches('/').to_string();
        let pc = self.sign_link(&LinkClaim { t: tenant, p: person, u: None });
        let mut unsubscribe = Vec::new();
        for c in queries::consents_of(&self.db, tenant, person).await? {
            if c.status != ConsentStatus::Withdrawn && c.scope.channels.contains(&Channel::Email) {
                let token = self.sign_link(&LinkClaim { t: tenant, p: person, u: Some((c.id, Channel::Email)) });
                let url = format!("{base}/u/{token}");
                unsubscribe.push(UnsubscribeLink {
                    consent_id: c.id,
                    list_unsubscribe: format!("<{url}>"),
                    list_unsubscribe_post: "List-Unsubscribe=One-Click".into(),
                    url,
                });
            }
        }
        Ok(PersonLinks { preference_centre: format!("{base}/p/{pc}"), unsubscribe })
    }

    /// The person's consents for the preference centre.
    pub async fn preferences(&self, claim: &LinkClaim) -> Result<Vec<PrefItem>, ServiceError> {
        let mut out = Vec::new();
        for record in queries::consents_of(&self.db, claim.t, claim.p).await? {
            let title = queries::text(&self.db, claim.t, record.text_id).await?.map(|t| t.title).unwrap_or_default();
            out.push(PrefItem { record, title });
        }
        Ok(out)
    }

    /// Withdraws one consent of the person in full.
    pub async fn withdraw_by_person(&self, claim: &LinkClaim, consent: ConsentId) -> Result<(), ServiceError> {
        let c = queries::consent(&self.db, claim.t, consent)
            .await?
            .filter(|c| c.person_id == claim.p)
            .ok_or_else(|| ServiceError::NotFound(format!("consent {consent}")))?;
        if c.status != ConsentStatus::Withdrawn {
            self.withdraw(claim.t, &Actor::System, consent, None, "preference_centre").await?;
        }
        Ok(())
    }

    /// Withdraws every consent of the person.
    pub async fn withdraw_all_by_person(&self, claim: &LinkClaim) -> Result<usize, ServiceError> {
        let mut n = 0;
        for c in queries::consents_of(&self.db, claim.t, claim.p).await? {
            if c.status != ConsentStatus::Withdrawn {
                self.withdraw(claim.t, &Actor::System, c.id, None, "preference_centre").await?;
                n += 1;
            }
        }
        Ok(n)
    }

    /// Objects to all direct marketing (Art. 21): every channel, every advertiser.
    pub async fn object_by_person(&self, claim: &LinkClaim) -> Result<(), ServiceError> {
        self.object(claim.t, &Actor::System, claim.p, BTreeSet::new(), BTreeSet::new(), "preference_centre").await
    }

    /// Records the person's request for a copy of their data (Art. 15), for the team to answer.
    pub async fn request_access_by_person(&self, claim: &LinkClaim) -> Result<(), ServiceError> {
        let ev = konsent_store::PendingEvent {
            event_id: self.id(konsent_domain::ids::EventId::from_parts),
            actor: Actor::System,
            body: konsent_domain::ledger::EventBody::AccessRequested {
                person_id: claim.p,
                via: "preference_centre".into(),
                at: self.now(),
            },
        };
        self.append(claim.t, vec![ev], vec![]).await?;
        tracing::info!(person = %claim.p, "access request (Art. 15) received");
        Ok(())
    }

    /// One-click unsubscribe: withdraws the link's channel from its consent. Idempotent: a second
    /// click, or a consent withdrawn meanwhile, is still a success.
    pub async fn unsubscribe(&self, claim: &LinkClaim) -> Result<(), ServiceError> {
        let Some((consent, channel)) = claim.u else {
            return Err(ServiceError::NotFound("unsubscribe link".into()));
        };
        let c = queries::consent(&self.db, claim.t, consent)
            .await?
            .filter(|c| c.person_id == claim.p)
            .ok_or_else(|| ServiceError::NotFound(format!("consent {consent}")))?;
        if c.status == ConsentStatus::Withdrawn || !c.scope.channels.contains(&channel) {
            return Ok(());
        }
        let delta =
            Scope { advertisers: BTreeSet::new(), product_categories: BTreeSet::new(), channels: [channel].into() };
        self.withdraw(claim.t, &Actor::System, consent, Some(delta), "one_click_unsubscribe").await?;
        Ok(())
    }
}

/// Whether an inbound text message is an opt-out keyword (STOP, STOPP, ABMELDEN, …).
pub fn is_stop_keyword(text: &str) -> bool {
    let t = text.trim().trim_end_matches(['.', '!']).to_uppercase();
    matches!(t.as_str(), "STOP" | "STOPP" | "ABMELDEN" | "ABBESTELLEN" | "UNSUBSCRIBE" | "END" | "ENDE" | "CANCEL")
}

impl Konsent {
    /// An SMS opt-out from the gateway (R72): withdraws SMS from every consent bound to the number
    /// and suppresses the number for SMS, so also a number no consent names is not texted again.
    /// Returns how many consents were withdrawn; `None` when the text is no opt-out keyword.
    pub async fn sms_opt_out(
        &self,
        tenant: TenantId,
        actor: &Actor,
        from: &konsent_domain::contact::PhoneE164,
        text: &str,
    ) -> Result<Option<usize>, ServiceError> {
        if !is_stop_keyword(text) {
            return Ok(None);
        }
        let contact = konsent_domain::contact::ContactValue::Phone(from.clone());
        let mut n = 0;
        for (person, cp) in self.find_by_contact(tenant, &contact).await? {
            for c in queries::consents_of(&self.db, tenant, person).await? {
                if c.status != ConsentStatus::Withdrawn
                    && c.contact_points.contains(&cp)
                    && c.scope.channels.contains(&Channel::Sms)
                {
                    let delta = Scope {
                        advertisers: BTreeSet::new(),
                        product_categories: BTreeSet::new(),
                        channels: [Channel::Sms].into(),
                    };
                    self.withdraw(tenant, actor, c.id, Some(delta), "sms_stop").await?;
                    n += 1;
                }
            }
        }
        let scope = konsent_domain::suppression::SuppressionScope {
            channels: [Channel::Sms].into(),
            advertisers: BTreeSet::new(),
        };
        self.suppress(
            tenant,
            actor,
            &contact,
            scope,
            konsent_domain::suppression::SuppressionReason::Withdrawal,
            "sms_stop",
        )
        .await?;
        Ok(Some(n))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn stop_keywords() {
        for t in ["STOP", "stop", " Stopp ", "ABMELDEN.", "unsubscribe!"] {
            assert!(super::is_stop_keyword(t), "{t}");
        }
        for t in ["Stop calling at night please", "Hallo", ""] {
            assert!(!super::is_stop_keyword(t), "{t}");
        }
    }
}
