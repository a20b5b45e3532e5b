//! Number verification for phone, SMS and messenger consents (R15, R16): a six-digit code by text
//! message through the outbox, stored only as a keyed hash, valid 10 minutes, five attempts. Only a
//! verified number makes a phone consent `ConsentGiven`; e-mail double opt-in alone never does.

use jiff::{SignedDuration, Timestamp};
use konsent_domain::consent::{ConsentRecord, Evidence};
use konsent_domain::contact::ContactValue;
use konsent_domain::crypto::hmac256;
use konsent_domain::ids::{ConsentId, ContactPointId, EventId, TenantId};
use konsent_domain::ledger::{Actor, EventBody};
use konsent_domain::mail::{Outgoing, OutgoingSms, otp_text};
use konsent_store::{SideWrite, queries};

use crate::consents::{Missing, decide_status};
use crate::context::Konsent;
use crate::doi::company_of;
use crate::error::ServiceError;

/// How long a code is valid.
pub const CODE_VALIDITY: SignedDuration = SignedDuration::from_mins(10);
/// Whether what keeps a consent from use includes its phone number not being verified (R15,
/// R16): the one test behind the confirmation page's promise of a text message, its sending of
/// the code, and its refusal of codes once the number is verified.
pub fn number_pending(missing: &[Missing]) -> bool {
    missing.iter().any(|m| matches!(m.code, "phone_not_verified" | "number_holder_not_verified"))
}

/// How long after the click of a confirmation link its page may still verify the number.
pub const LINK_FOLLOW_UP: SignedDuration = SignedDuration::from_mins(60);
/// Wrong entries before a code is void.
pub const MAX_ATTEMPTS: i64 = 5;

fn code_mac(k: &Konsent, id: &str, code: &str) -> String {
    hex::encode(hmac256(&k.keys.master().derive(b"konsent-otp-v1"), format!("{id}:{code}").as_bytes()))
}

/// What a number page that is not signed in points at.
#[derive(Debug, Clone, Copy)]
pub enum CodeRef<'a> {
    /// The token of a clicked confirmation link.
    Link(&'a str),
    /// The reference a form's submission without e-mail gave ([`Konsent::form_code_token`]).
    Form(&'a str),
}

fn form_mac(k: &Konsent, body: &str) -> String {
    hex::encode(&hmac256(&k.keys.master().derive(b"konsent-form-code-v1"), body.as_bytes())[..16])
}

impl Konsent {
    /// Sends a verification code to the phone number the consent is bound to.
    pub async fn request_otp(
        &self,
        tenant: TenantId,
        actor: &Actor,
        consent_id: ConsentId,
    ) -> Result<String, ServiceError> {
        let c = self.consent_of(tenant, consent_id).await?;
        let (cp, number) = self.sms_number_of(tenant, &c).await?;
        let l = self.load_context(tenant, c.person_id, c.text_id).await?;
        let now = self.now();
        let n = u32::from_le_bytes(self.random::<4>()) % 1_000_000;
        let code = format!("{n:06}");
        let id = self.id(EventId::from_parts).to_string();
        let sms = OutgoingSms {
            message_id: format!("<{id}@konsent>"),
            to: number,
            text: otp_text(&company_of(&c, l.advertisers()), &code),
        };
        let side = vec![
            self.outbox_message(&Outgoing::Sms(sms.clone()), "otp", &c)?,
            SideWrite::OtpCode {
                id: id.clone(),
                consent_id,
                contact_point_id: cp,
                code_mac: code_mac(self, &id, &code),
                sent_at: now.as_microsecond(),
                expires_at: (now + CODE_VALIDITY).as_microsecond(),
            },
        ];
        let ev = self.pending(
            actor,
            EventBody::OtpSent { consent_id, contact_point: cp, message_id: sms.message_id.clone(), at: now },
        );
        self.append(tenant, vec![ev], side).await?;
        Ok(sms.message_id)
    }

    /// Checks an entered code; on success adds the OTP evidence and decides the status again.
    pub async fn verify_otp(
        &self,
        tenant: TenantId,
        actor: &Actor,
        consent_id: ConsentId,
        code: &str,
    ) -> Result<(ConsentRecord, Vec<Missing>), ServiceError> {
        self.verify_code(tenant, actor, consent_id, &[], code).await
    }

    /// Checks a code sent for `consent_id`; on success adds the OTP evidence to it and to those of
    /// `also` that are bound to the same number and still wait for it (the other consents a
    /// re-permission link renews), and decides their status again.
    async fn verify_code(
        &self,
        tenant: TenantId,
        actor: &Actor,
        consent_id: ConsentId,
        also: &[ConsentId],
        code: &str,
    ) -> Result<(ConsentRecord, Vec<Missing>), ServiceError> {
        let mut c = self.consent_of(tenant, consent_id).await?;
        let (id, cp, mac, sent_at, expires_at, attempts) =
            queries::latest_otp(&self.db, tenant, consent_id).await?.ok_or_else(|| {
                ServiceError::Conflict(
                    "für diese Einwilligung wurde kein Code gesendet / no code was sent for this consent; request one"
                        .into(),
                )
            })?;
        let now = self.now();
        if now.as_microsecond() >= expires_at {
            return Err(ServiceError::Conflict(
                "der Code ist abgelaufen / the code has expired; request a new one".into(),
            ));
        }
        if attempts >= MAX_ATTEMPTS {
            return Err(ServiceError::Conflict(
                "zu viele falsche Codes / too many wrong codes; request a new one".into(),
            ));
        }
        let given = code.trim();
        let ok = given.len() == 6 && given.bytes().all(|b| b.is_ascii_digit()) && code_mac(self, &id, given) == mac;
        if !ok {
            queries::otp_attempt(&self.db, &id).await?;
            return Err(ServiceError::invalid("code", "Code stimmt nicht / wrong code"));
        }
        let evidence = Evidence::Otp {
            contact_point: cp,
            sent_at: Timestamp::from_microsecond(sent_at).map_err(|e| ServiceError::Conflict(e.to_string()))?,
            verified_at: now,
        };
        let before = c.status;
        c.evidence.push(evidence.clone());
        let l = self.load_context(tenant, c.person_id, c.text_id).await?;
        let missing = decide_status(&mut c, &l.context(now), now);
        let mut events = vec![
            self.pending(actor, EventBody::EvidenceAdded { consent_id, evidence: evidence.clone() }),
            self.pending(
                actor,
                EventBody::ContactPointVerified { contact_point_id: cp, method: "otp".into(), at: now },
            ),
        ];
        let changed = |from, to, id| EventBody::ConsentStatusChanged {
            consent_id: id,
            from,
            to,
            reason: "number_verified".into(),
            at: now,
        };
        if c.status != before {
            events.push(self.pending(actor, changed(before, c.status, consent_id)));
        }
        for &other in also.iter().filter(|o| **o != consent_id) {
            let mut o = self.consent_of(tenant, other).await?;
            let lo = self.load_context(tenant, o.person_id, o.text_id).await?;
            if !o.contact_points.contains(&cp) || !number_pending(&decide_status(&mut o.clone(), &lo.context(now), now))
            {
                continue;
            }
            let was = o.status;
            o.evidence.push(evidence.clone());
            decide_status(&mut o, &lo.context(now), now);
            events
                .push(self.pending(actor, EventBody::EvidenceAdded { consent_id: other, evidence: evidence.clone() }));
            if o.status != was {
                events.push(self.pending(actor, changed(was, o.status, other)));
            }
        }
        self.append(tenant, events, vec![SideWrite::OtpUsed { id, used_at: now.as_microsecond() }]).await.map_err(
            |e| match e {
                ServiceError::Store(konsent_store::StoreError::NotFound(_)) => {
                    ServiceError::Conflict("dieser Code wurde schon benutzt / this code was already used".into())
                }
                e => e,
            },
        )?;
        Ok((c, missing))
    }

    /// The tenant and consents of a confirmation link that was clicked within the last
    /// [`LINK_FOLLOW_UP`]: its page may then send a code to the consents' number and check it, so
    /// that a person who confirmed by e-mail verifies the number in the same visit (R15, R16).
    async fn clicked_link(&self, token: &str) -> Result<(TenantId, Vec<ConsentId>), ServiceError> {
        let rows = queries::doi_token(&self.db, &crate::doi::token_hash(token)).await?;
        let row = rows.first().ok_or_else(|| ServiceError::NotFound("confirmation link".into()))?;
        let clicked = row.used_at.ok_or_else(|| {
            ServiceError::Conflict("der Link wurde noch nicht bestätigt / the link was not confirmed yet".into())
        })?;
        if self.now().as_microsecond() >= clicked + LINK_FOLLOW_UP.as_micros() as i64 {
            return Err(ServiceError::Conflict(
                "der Link wurde vor zu langer Zeit bestätigt / the link was confirmed too long ago; ask for a new one"
                    .into(),
            ));
        }
        let tenant: TenantId = row.tenant_id;
        let ids = rows.iter().map(|r| r.consent_id).collect::<Vec<_>>();
        Ok((tenant, self.number_still_pending(tenant, ids).await?))
    }

    /// Those of the consents whose number still waits for a code (the first one's number is the
    /// one a code goes to); once it is verified, neither a link nor a form's reference sends or
    /// checks another one.
    async fn number_still_pending(
        &self,
        tenant: TenantId,
        ids: Vec<ConsentId>,
    ) -> Result<Vec<ConsentId>, ServiceError> {
        let now = self.now();
        let (mut pending, mut live) = (Vec::new(), false);
        for id in ids {
            let mut c = self.consent_of(tenant, id).await?;
            if c.status.has_ended() {
                continue;
            }
            live = true;
            let l = self.load_context(tenant, c.person_id, c.text_id).await?;
            if number_pending(&decide_status(&mut c, &l.context(now), now)) {
                pending.push(id);
            }
        }
        if !live {
            return Err(ServiceError::Ended("number verification".into()));
        }
        if pending.is_empty() {
            return Err(ServiceError::Conflict(
                "die Rufnummer ist bereits bestätigt / the number is already verified".into(),
            ));
        }
        Ok(pending)
    }

    /// A reference to a consent just taken by a hosted form whose number the submitter verifies
    /// on the next page: tenant, consent and end of validity, with a MAC (no personal data).
    pub fn form_code_token(&self, tenant: TenantId, consent_id: ConsentId) -> String {
        let until = (self.now() + LINK_FOLLOW_UP).as_microsecond();
        let body = format!("{tenant}.{consent_id}.{until}");
        format!("{body}.{}", form_mac(self, &body))
    }

    /// The consent behind a form's code reference, while it is valid and the number still pending.
    async fn form_consent(&self, token: &str) -> Result<(TenantId, Vec<ConsentId>), ServiceError> {
        let unknown = || ServiceError::NotFound("form reference".into());
        let (body, mac) = token.rsplit_once('.').ok_or_else(unknown)?;
        if mac.len() != 32 || !konsent_domain::webhook::same(form_mac(self, body).as_bytes(), mac.as_bytes()) {
            return Err(unknown());
        }
        let mut parts = body.split('.');
        let (Some(t), Some(c), Some(until), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
            return Err(unknown());
        };
        let (tenant, consent_id): (TenantId, ConsentId) =
            (t.parse().map_err(|_| unknown())?, c.parse().map_err(|_| unknown())?);
        let until: i64 = until.parse().map_err(|_| unknown())?;
        if self.now().as_microsecond() >= until {
            return Err(ServiceError::Conflict(
                "das Formular wurde vor zu langer Zeit gesendet / the form was sent too long ago; sign up again".into(),
            ));
        }
        Ok((tenant, self.number_still_pending(tenant, vec![consent_id]).await?))
    }

    /// The consent a number page is about, while its number waits for a code.
    async fn code_consent(&self, r: CodeRef<'_>) -> Result<(TenantId, Vec<ConsentId>), ServiceError> {
        match r {
            CodeRef::Link(token) => self.clicked_link(token).await,
            CodeRef::Form(reference) => self.form_consent(reference).await,
        }
    }

    /// Sends a code to the number of the consent behind a clicked link or a form's reference.
    pub async fn request_otp_by(&self, r: CodeRef<'_>) -> Result<(), ServiceError> {
        let (tenant, consents) = self.code_consent(r).await?;
        self.request_otp(tenant, &Actor::System, consents[0]).await.map(|_| ())
    }

    /// Checks a code entered on the page of a clicked link or after a form's submission.
    pub async fn verify_otp_by(
        &self,
        r: CodeRef<'_>,
        code: &str,
    ) -> Result<(ConsentRecord, Vec<Missing>), ServiceError> {
        let (tenant, consents) = self.code_consent(r).await?;
        self.verify_code(tenant, &Actor::System, consents[0], &consents, code).await
    }

    async fn consent_of(&self, tenant: TenantId, id: ConsentId) -> Result<ConsentRecord, ServiceError> {
        queries::consent(&self.db, tenant, id).await?.ok_or_else(|| ServiceError::NotFound(format!("consent {id}")))
    }

    /// The consent's first phone number that text messages may go to (`sms.allowed_prefixes`).
    pub(crate) async fn sms_number_of(
        &self,
        tenant: TenantId,
        c: &ConsentRecord,
    ) -> Result<(ContactPointId, String), ServiceError> {
        let mut refused = None;
        for cp in &c.contact_points {
            if let Some(ContactValue::Phone(p)) = self.contact_value(tenant, c.person_id, *cp).await? {
                // Another number of the consent may be one text messages go to.
                match self.check_sms_number(&p) {
                    Ok(()) => return Ok((*cp, p.as_str().to_string())),
                    Err(e) => refused = refused.or(Some(e)),
                }
            }
        }
        if let Some(e) = refused {
            return Err(e);
        }
        Err(ServiceError::invalid(
            "consent_id",
            "die Einwilligung ist an keine Rufnummer gebunden / the consent is bound to no phone number",
        ))
    }
}
