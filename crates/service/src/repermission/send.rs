//! Sending re-permission requests by e-mail (R43): for every consent due, a new consent under the
//! current version of its text that waits for the person's click; one mail per person renews all
//! of theirs at once (one per phone number when their renewals are bound to several numbers).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use konsent_domain::channel::Channel;
use konsent_domain::consent::{CaptureMethod, Scope, Validity};
use konsent_domain::contact::ContactKind;
use konsent_domain::ids::{ConsentId, ContactPointId, PersonId, TenantId};
use konsent_domain::ledger::Actor;
use konsent_domain::text::TextState;
use konsent_store::queries;
use serde::Serialize;

use super::RepermissionScope;
use crate::consents::NewConsent;
use crate::context::Konsent;
use crate::doi::Purpose;
use crate::error::ServiceError;

/// What sending did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RepermissionSent {
    /// Mails queued: one per person, or one per phone number when a person's renewals are bound
    /// to several numbers.
    pub mails: u64,
    /// New consents created (one per consent renewed), each waiting for the click in its mail.
    pub renewals: u64,
    /// Candidates whose request must go by post (listed, not sent here).
    pub post: u64,
    /// Candidates with no channel that has a legal basis.
    pub none: u64,
    /// Of the mails, those whose renewals cover a phone, SMS or messenger channel: the person
    /// verifies the number by a text-message code after the click (R15, R16).
    pub with_number: u64,
    /// E-mail candidates not renewed here: no published text covers their channels, or a phone
    /// consent is bound to no number.
    pub not_by_mail: u64,
}

/// A renewal recorded for a person: the new consent, the number it is bound to when one of its
/// channels needs a verified number, and the e-mail address the request goes to.
struct Renewed {
    consent: ConsentId,
    number: Option<ContactPointId>,
    to: Option<ContactPointId>,
}

impl Konsent {
    /// Sends the re-permission requests of the plan that may go by e-mail: for each consent due,
    /// a new consent under the current version of its text, waiting for the person's
    /// confirmation click (R43); the old record is not touched. A person gets one mail for all
    /// their renewals.
    pub async fn send_repermission(
        &self,
        tenant: TenantId,
        actor: &Actor,
        scope: &RepermissionScope,
    ) -> Result<RepermissionSent, ServiceError> {
        let plan = self.repermission_plan(tenant, scope).await?;
        let texts = queries::texts(&self.db, tenant).await?;
        let mut out = RepermissionSent::default();
        let mut by_person: BTreeMap<PersonId, Vec<Renewed>> = BTreeMap::new();
        for c in plan.candidates {
            match c.route {
                Some("email") => {}
                Some(_) => {
                    out.post += 1;
                    continue;
                }
                None => {
                    out.none += 1;
                    continue;
                }
            }
            let Some(old) = queries::consent(&self.db, tenant, c.consent_id).await? else { continue };
            let key = texts.iter().find(|t| t.id == old.text_id).map(|t| t.key.clone());
            let current = texts
                .iter()
                .filter(|t| Some(&t.key) == key.as_ref() && t.state == TextState::Published)
                .max_by_key(|t| t.version);
            let Some(text) = current else {
                out.not_by_mail += 1;
                continue;
            };
            // The renewal covers the channels of the old consent the current text still names. A
            // phone, SMS or messenger channel needs the number the old consent was bound to: after
            // the click in the mail, a code goes to it by text message (R15, R16); never a call.
            let channels: BTreeSet<Channel> = old.scope.channels.intersection(&text.scope.channels).copied().collect();
            let needs_number = channels.iter().any(|ch| ch.contact_kind() == ContactKind::Phone);
            // The kinds of the person's contact points, without opening their values.
            let kinds: HashMap<ContactPointId, String> = queries::contact_points(&self.db, tenant, old.person_id)
                .await?
                .into_iter()
                .map(|cp| (cp.id, cp.kind))
                .collect();
            let is = |cp: &ContactPointId, kind: ContactKind| kinds.get(cp).is_some_and(|k| k == kind.as_str());
            let number = old.contact_points.iter().find(|cp| is(cp, ContactKind::Phone)).copied();
            if channels.is_empty() || (needs_number && number.is_none()) {
                out.not_by_mail += 1;
                continue;
            }
            // The request goes to the address of the e-mail consent it relies on, which the
            // renewal is then also bound to.
            let mut contact_points = old.contact_points.clone();
            let mut to = None;
            if let Some(via) = c.via_consent
                && let Some(v) = queries::consent(&self.db, tenant, via).await?
            {
                let emails: Vec<ContactPointId> =
                    v.contact_points.into_iter().filter(|cp| is(cp, ContactKind::Email)).collect();
                to = emails.first().copied();
                contact_points.extend(emails.into_iter().filter(|cp| !contact_points.contains(cp)).collect::<Vec<_>>());
            }
            let scope = Scope {
                advertisers: old.scope.advertisers.intersection(&text.scope.advertisers).copied().collect(),
                product_categories: old
                    .scope
                    .product_categories
                    .intersection(&text.scope.product_categories)
                    .cloned()
                    .collect(),
                channels,
            };
            let nc = NewConsent {
                person_id: old.person_id,
                contact_points,
                text_id: text.id,
                scope,
                capture_method: CaptureMethod::Api,
                declaration_recipient: old.declaration_recipient.clone(),
                source: old.source.clone(),
                affirmative_action: true,
                given_at: self.now(),
                capture_offset_seconds: 0,
                evidence: vec![],
                validity: Validity::Endless,
            };
            let a = self.record_consent(tenant, actor, nc).await?;
            out.renewals += 1;
            let number = number.filter(|_| needs_number);
            by_person.entry(old.person_id).or_default().push(Renewed { consent: a.record.id, number, to });
        }
        for renewals in by_person.into_values() {
            let to = renewals.iter().find_map(|r| r.to);
            for (ids, with_number) in bundles(&renewals) {
                self.queue_doi(tenant, actor, &ids, to, &self.public_url, Purpose::Repermission, false).await?;
                out.mails += 1;
                out.with_number += u64::from(with_number);
            }
        }
        Ok(out)
    }
}

/// The mails of one person's renewals: one for all of them, unless they are bound to several
/// numbers; then one per number, the renewals without a number going with the first. Each with
/// whether a number is to be verified after the click.
fn bundles(renewals: &[Renewed]) -> Vec<(Vec<ConsentId>, bool)> {
    let mut numbers: Vec<ContactPointId> = Vec::new();
    for n in renewals.iter().filter_map(|r| r.number) {
        if !numbers.contains(&n) {
            numbers.push(n);
        }
    }
    if numbers.is_empty() {
        return vec![(renewals.iter().map(|r| r.consent).collect(), false)];
    }
    numbers
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let ids = renewals
                .iter()
                .filter(|r| r.number == Some(*n) || (i == 0 && r.number.is_none()))
                .map(|r| r.consent)
                .collect();
            (ids, true)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use konsent_domain::ids::{ConsentId, ContactPointId};
    use uuid::Uuid;

    use super::{Renewed, bundles};

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    #[test]
    fn r43_one_mail_per_person_unless_the_renewals_are_bound_to_two_numbers() {
        let r = |c, n: Option<u128>| Renewed {
            consent: ConsentId::from_uuid(id(c)),
            number: n.map(|n| ContactPointId::from_uuid(id(n))),
            to: None,
        };
        let ids = |v: &[u128]| v.iter().map(|c| ConsentId::from_uuid(id(*c))).collect::<Vec<_>>();
        assert_eq!(bundles(&[r(1, None), r(2, None)]), vec![(ids(&[1, 2]), false)]);
        assert_eq!(bundles(&[r(1, None), r(2, Some(9)), r(3, Some(9))]), vec![(ids(&[1, 2, 3]), true)]);
        assert_eq!(
            bundles(&[r(1, Some(8)), r(2, None), r(3, Some(9))]),
            vec![(ids(&[1, 2]), true), (ids(&[3]), true)],
            "the e-mail-only renewal goes with the first number's mail"
        );
    }
}
