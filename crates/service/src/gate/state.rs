//! What the gate knows about one contact point: the suppression entries of its keyed hash and,
//! for every person holding it, everything `decide` needs. Loaded from the store for many keys in
//! one go, so it can be cached and evaluated again for any channel, advertiser and instant.

use std::collections::HashMap;
use std::sync::Arc;

use konsent_domain::basis::DocumentedBasis;
use konsent_domain::basis::{ExistingCustomerBasis, PresumedConsentJustification};
use konsent_domain::consent::{CompletenessInput, ConsentRecord, MissingItem, check_phone_completeness};
use konsent_domain::contact::ContactKind;
use konsent_domain::gate::{ContactPointRef, Decision, GateRequest, GateSubject, Objection, Withdrawal, decide};
use konsent_domain::ids::{ConsentId, ContactPointId, PersonId, TenantId};
use konsent_domain::ledger::EventBody;
use konsent_domain::party::{Advertiser, PersonData, RecipientClass};
use konsent_domain::suppression::SuppressionEntry;
use konsent_domain::text::ConsentTextVersion;
use konsent_store::queries;

use crate::context::Konsent;
use crate::error::ServiceError;
use crate::persons::{data_aad, key_aad};

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
    pub texts: Vec<Arc<ConsentTextVersion>>,
    /// Objections.
    pub objections: Vec<Objection>,
    /// Processing restricted (Art. 18 or after erasure).
    pub restricted: bool,
    /// Withdrawn scopes.
    pub withdrawals: Vec<Withdrawal>,
    /// § 7(3) relations.
    pub existing: Vec<ExistingCustomerBasis>,
    /// B2B presumed consents.
    pub presumed: Vec<PresumedConsentJustification>,
    /// The § 7a completeness of each consent (R20): it depends only on what is loaded here, so it
    /// is assessed once at load, not at every check.
    pub complete: Vec<(ConsentId, Result<(), Vec<MissingItem>>)>,
}

/// Everything known under one keyed hash.
#[derive(Debug, Clone, Default)]
pub struct KeyState {
    /// Suppression entries of the key.
    pub suppressions: Vec<SuppressionEntry>,
    /// Persons holding it.
    pub persons: Vec<PersonState>,
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
    /// Loads the states of many keyed hashes from the store in a few queries per 500 keys; every
    /// key of `keys` gets a state (empty when nobody holds it).
    pub(crate) async fn load_key_states(
        &self,
        tenant: TenantId,
        keys: &[(String, ContactKind)],
    ) -> Result<HashMap<String, KeyState>, ServiceError> {
        let list: Vec<String> = keys.iter().map(|(k, _)| k.clone()).collect();
        let mut rows = queries::gate_rows(&self.db, tenant, &list).await?;
        let (advertisers, texts) = if rows.matches.is_empty() {
            (vec![], vec![])
        } else {
            (
                queries::advertisers(&self.db, tenant).await?,
                queries::texts(&self.db, tenant).await?.into_iter().map(Arc::new).collect::<Vec<_>>(),
            )
        };
        let mut out: HashMap<String, KeyState> = keys
            .iter()
            .map(|(k, _)| {
                let suppressions = rows.suppressions.remove(k).unwrap_or_default();
                (k.clone(), KeyState { suppressions, persons: vec![] })
            })
            .collect();
        let kinds: HashMap<&str, ContactKind> = keys.iter().map(|(k, kind)| (k.as_str(), *kind)).collect();
        for (key, person_id, cp) in &rows.matches {
            let Some(person) = rows.persons.get(person_id) else { continue };
            let data = match rows.vault.get(person_id) {
                Some(v) => {
                    let dek = self.keys.master().unwrap(&v.wrapped_key, &key_aad(tenant, *person_id))?;
                    let plain = dek.open(&v.sealed, &data_aad(tenant, *person_id, v.version))?;
                    Some(
                        serde_json::from_slice::<PersonData>(&plain)
                            .map_err(|e| ServiceError::Conflict(format!("vault data unreadable: {e}")))?,
                    )
                }
                None => None,
            };
            let consents = rows.consents.get(person_id).cloned().unwrap_or_default();
            let texts: Vec<Arc<ConsentTextVersion>> =
                texts.iter().filter(|t| consents.iter().any(|c| c.text_id == t.id)).cloned().collect();
            let objections = rows
                .objections
                .get(person_id)
                .into_iter()
                .flatten()
                .filter_map(|b| match b {
                    EventBody::ObjectionRecorded { channels, advertisers, at, .. } => {
                        Some(Objection { channels: channels.clone(), advertisers: advertisers.clone(), at: *at })
                    }
                    _ => None,
                })
                .collect();
            let withdrawals = rows
                .withdrawals
                .get(person_id)
                .into_iter()
                .flatten()
                .map(|(consent_id, scope, at)| Withdrawal {
                    consent_id: *consent_id,
                    channels: scope.channels.clone(),
                    advertisers: scope.advertisers.clone(),
                    at: *at,
                })
                .collect();
            let (mut existing, mut presumed) = (Vec::new(), Vec::new());
            for b in rows.bases.get(person_id).into_iter().flatten() {
                match b {
                    DocumentedBasis::ExistingCustomer(x) => existing.push(x.clone()),
                    DocumentedBasis::PresumedBusinessConsent(x) => presumed.push(x.clone()),
                }
            }
            let kind = kinds.get(key.as_str()).copied().unwrap_or(ContactKind::Phone);
            let state = PersonState {
                person_id: *person_id,
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
                data,
                consents,
                texts,
                objections,
                restricted: person.restricted,
                withdrawals,
                existing,
                presumed,
                complete: vec![],
            };
            let state = state.assessed(&advertisers);
            if let Some(ks) = out.get_mut(key) {
                ks.persons.push(state);
            }
        }
        Ok(out)
    }
}

impl KeyState {
    /// The best decision over the persons holding the key (an allowed one wins), with that person.
    pub fn evaluate(&self, req: &GateRequest) -> Option<(Decision, PersonId, ContactPointId)> {
        let mut best: Option<(Decision, PersonId, ContactPointId)> = None;
        for p in &self.persons {
            let d = p.decide(&self.suppressions, req);
            if best.as_ref().is_none_or(|(b, _, _)| d.allowed && !b.allowed) {
                best = Some((d, p.person_id, p.contact_point.id));
            }
        }
        best
    }
}

impl PersonState {
    /// With the completeness of every consent assessed.
    fn assessed(mut self, advertisers: &[Advertiser]) -> Self {
        self.complete = self
            .consents
            .iter()
            .map(|c| {
                let named: Vec<_> =
                    advertisers.iter().filter(|a| c.scope.advertisers.contains(&a.id)).cloned().collect();
                let text = self.texts.iter().find(|t| t.id == c.text_id).map(|t| &**t);
                let r = check_phone_completeness(&CompletenessInput {
                    record: c,
                    person: self.data.as_ref(),
                    advertisers: &named,
                    text,
                });
                (c.id, r)
            })
            .collect();
        self
    }

    pub(crate) fn decide(&self, suppressions: &[SuppressionEntry], req: &GateRequest) -> Decision {
        let age = self.data.as_ref().and_then(|d| d.age_on(konsent_domain::time::utc_date(req.now)));
        let completeness = |c: &ConsentRecord| {
            self.complete
                .iter()
                .find(|(id, _)| *id == c.id)
                .map(|(_, r)| r.clone())
                .unwrap_or_else(|| Err(vec![MissingItem::MannerOfGrant]))
        };
        decide(
            &GateSubject {
                recipient_class: self.class,
                age,
                contact_point: self.contact_point,
                consents: &self.consents,
                objections: &self.objections,
                restricted: self.restricted,
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
