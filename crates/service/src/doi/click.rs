//! The click on a confirmation link: what the page shows before it (`doi_state`) and what the
//! click records (`confirm_doi`): the evidence on every consent the link covers, their status
//! decided again, and a receipt for each that took effect (R13, R17 b, R43, R69).

use jiff::Timestamp;
use konsent_domain::consent::{ConsentRecord, Evidence};
use konsent_domain::ids::{ConsentId, ContactPointId, EventId, TenantId};
use konsent_domain::ledger::{Actor, EventBody};
use konsent_domain::mail::{OutgoingMail, ReceiptFacts, consent_receipt};
use konsent_store::SideWrite;
use konsent_store::queries::{self, DoiTokenRow};

use super::{DoiState, Purpose, company_of, token_hash};
use crate::consents::{Missing, decide_status};
use crate::context::Konsent;
use crate::error::ServiceError;
use crate::otp::number_pending;

/// What a click on a confirmation link did.
#[derive(Debug, Clone)]
pub struct Confirmed {
    /// What the link was for.
    pub purpose: Purpose,
    /// Every consent it covers, as decided now, with what still keeps it from use.
    pub consents: Vec<(ConsentRecord, Vec<Missing>)>,
}

impl Konsent {
    /// The consents a token confirms, with the tenant, the stored rows and whether it is used or
    /// expired (`Err` with the state).
    async fn token_consents(
        &self,
        hash: &str,
    ) -> Result<Option<Result<(TenantId, Vec<(DoiTokenRow, ConsentRecord)>), DoiState>>, ServiceError> {
        let rows = queries::doi_token(&self.db, hash).await?;
        let Some(first) = rows.first() else { return Ok(None) };
        if rows.iter().any(|r| r.used_at.is_some()) {
            return Ok(Some(Err(DoiState::Used)));
        }
        if self.now().as_microsecond() >= first.expires_at {
            return Ok(Some(Err(DoiState::Expired)));
        }
        let tenant: TenantId = first.tenant_id;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let consent_id: ConsentId = row.consent_id;
            let c = queries::consent(&self.db, tenant, consent_id)
                .await?
                .ok_or_else(|| ServiceError::NotFound("consent".into()))?;
            // A consent withdrawn (or otherwise ended) since the link went out is not confirmed
            // by it; the others of the link still are.
            if !c.status.has_ended() {
                out.push((row, c));
            }
        }
        if out.is_empty() {
            return Ok(Some(Err(DoiState::Ended)));
        }
        Ok(Some(Ok((tenant, out))))
    }

    /// The state of a confirmation link (for the page the link opens). Unknown tokens are `None`.
    pub async fn doi_state(&self, token: &str) -> Result<Option<DoiState>, ServiceError> {
        let (tenant, cs) = match self.token_consents(&token_hash(token)).await? {
            None => return Ok(None),
            Some(Err(state)) => return Ok(Some(state)),
            Some(Ok(found)) => found,
        };
        let now = self.now();
        let (mut titles, mut companies, mut number_follows, mut renewals) = (vec![], vec![], false, vec![]);
        for (row, c) in &cs {
            let l = self.load_context(tenant, c.person_id, c.text_id).await?;
            number_follows |= number_pending(&decide_status(&mut c.clone(), &l.context(now), now));
            let company = company_of(c, l.advertisers());
            if !companies.contains(&company) {
                companies.push(company);
            }
            titles.push(l.text().title.clone());
            if Purpose::of(&row.purpose).renews() {
                renewals.push((l.text().title.clone(), l.text().body.clone()));
            }
        }
        Ok(Some(DoiState::Open {
            title: titles.join("“, „"), company: companies.join(", "), number_follows, renewals
        }))
    }

    /// Confirms: single use, before expiry. Adds the DOI evidence (time, and a hash of IP and user
    /// agent) to every consent the link covers and decides their status again; returns the
    /// records and what is still missing for each.
    pub async fn confirm_doi(
        &self,
        token: &str,
        ip: Option<&str>,
        user_agent: Option<&str>,
    ) -> Result<Confirmed, ServiceError> {
        let used = || {
            ServiceError::Conflict(
                "dieser Bestätigungslink wurde schon benutzt / this confirmation link was already used".into(),
            )
        };
        let hash = token_hash(token);
        let (tenant, cs) = match self.token_consents(&hash).await? {
            None => return Err(ServiceError::NotFound("confirmation link".into())),
            Some(Err(DoiState::Expired)) => {
                return Err(ServiceError::Conflict(
                    "dieser Bestätigungslink ist abgelaufen / this confirmation link has expired".into(),
                ));
            }
            Some(Err(DoiState::Ended)) => {
                return Err(ServiceError::Ended("confirmation link".into()));
            }
            Some(Err(_)) => return Err(used()),
            Some(Ok(found)) => found,
        };
        let now = self.now();
        let bad = |what: &str| ServiceError::Conflict(format!("stored token has a bad {what}"));
        let actor = &Actor::System;
        let details = self.request_details_hash(ip, user_agent);
        let (mut events, mut side, mut out) = (vec![], vec![], vec![]);
        let mut link = Purpose::Doi;
        let mut verified: Vec<ContactPointId> = vec![];
        for (row, mut c) in cs {
            let consent_id = c.id;
            let cp: ContactPointId = row.contact_point_id;
            let sent_at = Timestamp::from_microsecond(row.sent_at).map_err(|_| bad("time"))?;
            // A link sent after a call confirms the verbal consent in text form (R17 b). A renewal
            // link sent by text message records the click on its page; whether the number is the
            // person's, the code after it shows (R15). Any other link is the e-mail double opt-in
            // (R13), also when it renews consents (R43).
            let purpose = Purpose::of(&row.purpose);
            link = purpose;
            let evidence = match purpose {
                Purpose::TextConfirmation => {
                    Evidence::TextConfirmation { contact_point: cp, sent_at, confirmed_at: now }
                }
                Purpose::RepermissionSms => Evidence::WebForm {
                    at: now,
                    form_ref: "Erneuerungsseite, Link per SMS / renewal page, link by text message".into(),
                    form_version: row.message_id.clone(),
                    affirmative_action: true,
                    request_details: Some(details.clone()),
                },
                Purpose::Doi | Purpose::Repermission => Evidence::EmailDoi {
                    contact_point: cp,
                    sent_at,
                    message_id: row.message_id.clone(),
                    token_hash: hash.clone(),
                    confirmed_at: now,
                    request_details: Some(details.clone()),
                },
            };
            let before = c.status;
            let evidence_kind = evidence.kind();
            c.evidence.push(evidence.clone());
            let l = self.load_context(tenant, c.person_id, c.text_id).await?;
            let missing = decide_status(&mut c, &l.context(now), now);
            events.push(self.pending(actor, EventBody::EvidenceAdded { consent_id, evidence }));
            if purpose != Purpose::RepermissionSms && !verified.contains(&cp) {
                verified.push(cp);
                events.push(self.pending(
                    actor,
                    EventBody::ContactPointVerified { contact_point_id: cp, method: evidence_kind.into(), at: now },
                ));
            }
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
                    actor,
                    EventBody::ReceiptIssued { consent_id, receipt_id, message_id: mail.message_id.clone(), at: now },
                ));
            }
            out.push((c, missing));
        }
        side.push(SideWrite::DoiUsed { token_hash: hash, used_at: now.as_microsecond() });
        self.append(tenant, events, side).await.map_err(|e| match e {
            ServiceError::Store(konsent_store::StoreError::NotFound(_)) => used(),
            e => e,
        })?;
        let given = out.iter().filter(|(c, _)| c.status.is_valid_for_processing()).count();
        if given > 0 {
            tracing::info!(consents = given, "double opt-in confirmed");
        }
        Ok(Confirmed { purpose: link, consents: out })
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
