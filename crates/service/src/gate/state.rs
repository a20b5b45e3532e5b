//! What the gate knows about one contact point: the suppression entries of its keyed hash and,
//! for every person holding it, everything `decide` needs. Loaded from the store in one go, so it
//! can be cached and evaluated again for any channel, advertiser and instant.

use konsent_domain::basis::DocumentedBasis;
use konsent_domain::basis::{ExistingCustomerBasis, PresumedConsentJustification};
use konsent_domain::consent::{CompletenessInput, ConsentRecord, check_phone_completeness};
use konsent_domain::contact::ContactKind;
use konsent_domain::gate::{ContactPointRef, Decision, GateRequest, GateSubject, Objection, Withdrawal, decide};
use konsent_domain::ids::{ContactPointId, PersonId, TenantId};
use konsent_domain::ledger::EventBody;
use konsent_domain::party::{Advertiser, PersonData, RecipientClass};
use konsent_domain::suppression::SuppressionEntry;
use konsent_domain::text::ConsentTextVersion;
use konsent_store::queries;

use crate::context::Konsent;
use crate::error::ServiceError;

/// One person holding the contact point.
#[derive(Debug, Clone)]
pub struct PersonState {
    /// Person.
    pub person_id: PersonId,
    /// Contact point of this person with that keyed hash.
    pub contact_point: ContactPointRef,
    /// Consumer or business.
    pub class: RecipientClass,
    /// Decrypted personal data (names, address, birth date) for R11 and R20.
    pub data: Option<PersonData>,
    /// All consent records.
    pub consents: Vec<ConsentRecord>,
    /// Text versions those consents reference.
    pub texts: Vec<ConsentTextVersion>,
    /// Objections.
    pub objections: Vec<Objection>,
    /// Withdrawn scopes.
    pub withdrawals: Vec<Withdrawal>,
    /// § 7(3) relations.
    pub existing: Vec<ExistingCustomerBasis>,
    /// B2B presumed consents.
    pub presumed: Vec<PresumedConsentJustification>,
}

/// Everything known under one keyed hash.
#[derive(Debug, Clone, Default)]
pub struct KeyState {
    /// Suppression entries of the key.
    pub suppressions: Vec<SuppressionEntry>,
    /// Persons holding it.
    pub persons: Vec<PersonState>,
    /// The tenant's advertisers (for § 7a completeness).
    pub advertisers: Vec<Advertiser>,
}

fn kind_of(code: &str) -> Option<ContactKind> {
    match code {
        "email" => Some(ContactKind::Email),
        "phone" => Some(ContactKind::Phone),
        "postal" => Some(ContactKind::Postal),
        _ => None,
    }
}

impl Konsent {
    /// Loads the state of a keyed hash from the store.
    pub(crate) async fn load_key_state(
        &self,
        tenant: TenantId,
        key: &str,
        kind: ContactKind,
    ) -> Result<KeyState, ServiceError> {
        let suppressions = queries::suppressions_by_key(&self.db, tenant, key).await?;
        let matches = queries::persons_by_blind_index(&self.db, tenant, key).await?;
        let advertisers = if matches.is_empty() { vec![] } else { queries::advertisers(&self.db, tenant).await? };
        let mut persons = Vec::with_capacity(matches.len());
        for (person_id, cp_id) in matches {
            if let Some(p) = self.load_person_state(tenant, person_id, cp_id, kind).await? {
                persons.push(p);
            }
        }
        Ok(KeyState { suppressions, persons, advertisers })
    }

    async fn load_person_state(
        &self,
        tenant: TenantId,
        person_id: PersonId,
        cp_id: ContactPointId,
        kind: ContactKind,
    ) -> Result<Option<PersonState>, ServiceError> {
        let Some(person) = queries::person(&self.db, tenant, person_id).await? else { return Ok(None) };
        let cps = queries::contact_points(&self.db, tenant, person_id).await?;
        let Some(cp) = cps.iter().find(|c| c.id == cp_id) else { return Ok(None) };
        let consents = queries::consents_of(&self.db, tenant, person_id).await?;
        let mut texts: Vec<ConsentTextVersion> = Vec::new();
        for c in &consents {
            if !texts.iter().any(|t| t.id == c.text_id) {
                texts.extend(queries::text(&self.db, tenant, c.text_id).await?);
            }
        }
        let objections = queries::objections_of(&self.db, tenant, person_id)
            .await?
            .into_iter()
            .filter_map(|b| match b {
                EventBody::ObjectionRecorded { channels, advertisers, at, .. } => {
                    Some(Objection { channels, advertisers, at })
                }
                _ => None,
            })
            .collect();
        let withdrawals = queries::withdrawals_of(&self.db, tenant, person_id)
            .await?
            .into_iter()
            .map(|(consent_id, scope, at)| Withdrawal {
                consent_id,
                channels: scope.channels,
                advertisers: scope.advertisers,
                at,
            })
            .collect();
        let (mut existing, mut presumed) = (Vec::new(), Vec::new());
        for b in queries::bases_of(&self.db, tenant, person_id).await? {
            match b {
                DocumentedBasis::ExistingCustomer(x) => existing.push(x),
                DocumentedBasis::PresumedBusinessConsent(x) => presumed.push(x),
            }
        }
        Ok(Some(PersonState {
            person_id,
            contact_point: ContactPointRef {
                id: cp.id,
                kind: kind_of(&cp.kind).unwrap_or(kind),
                verified: cp.verified_at.is_some(),
            },
            class: if person.recipient_class == "business" {
                RecipientClass::Business
            } else {
                RecipientClass::Consumer
            },
            data: self.person_data(tenant, person_id).await?,
            consents,
            texts,
            objections,
            withdrawals,
            existing,
            presumed,
        }))
    }
}

impl KeyState {
    /// The best decision over the persons holding the key (an allowed one wins), with that person.
    pub fn evaluate(&self, req: &GateRequest) -> Option<(Decision, PersonId, ContactPointId)> {
        let mut best: Option<(Decision, PersonId, ContactPointId)> = None;
        for p in &self.persons {
            let d = p.decide(&self.suppressions, &self.advertisers, req);
            if best.as_ref().is_none_or(|(b, _, _)| d.allowed && !b.allowed) {
                best = Some((d, p.person_id, p.contact_point.id));
            }
        }
        best
    }
}

impl PersonState {
    fn decide(&self, suppressions: &[SuppressionEntry], advertisers: &[Advertiser], req: &GateRequest) -> Decision {
        let age = self.data.as_ref().and_then(|d| d.age_on(konsent_domain::time::utc_date(req.now)));
        let completeness = |c: &ConsentRecord| {
            let named: Vec<_> = advertisers.iter().filter(|a| c.scope.advertisers.contains(&a.id)).cloned().collect();
            let text = self.texts.iter().find(|t| t.id == c.text_id);
            check_phone_completeness(&CompletenessInput {
                record: c,
                person: self.data.as_ref(),
                advertisers: &named,
                text,
            })
        };
        decide(
            &GateSubject {
                recipient_class: self.class,
                age,
                contact_point: self.contact_point,
                consents: &self.consents,
                objections: &self.objections,
                suppressions,
                existing_customer: &self.existing,
                presumed_consent: &self.presumed,
                withdrawals: &self.withdrawals,
                completeness: &completeness,
            },
            req,
        )
    }
}
