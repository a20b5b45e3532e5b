//! Sending re-permission requests (R43): for every consent due, a new consent under the current
//! version of its text that waits for the person's click. One message per person renews all of
//! theirs at once: a mail where their e-mail consent allows it (one per phone number when their
//! renewals are bound to several numbers), else a text message where their SMS consent does.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use konsent_domain::channel::Channel;
use konsent_domain::consent::{CaptureMethod, ConsentStatus, DeclarationRecipient, Scope, Validity};
use konsent_domain::contact::ContactKind;
use konsent_domain::ids::{ConsentId, ContactPointId, PersonId, TenantId};
use konsent_domain::ledger::Actor;
use konsent_domain::text::{ConsentTextVersion, TextState};
use konsent_store::queries;
use serde::Serialize;

use super::{Candidate, RepermissionScope};
use crate::consents::NewConsent;
use crate::context::Konsent;
use crate::doi::{Basis, Purpose};
use crate::error::ServiceError;

/// What sending did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RepermissionSent {
    /// Mails queued: one per person, or one per phone number when a person's renewals are bound
    /// to several numbers.
    pub mails: u64,
    /// Text messages queued: one per person whose request goes by SMS.
    pub sms: u64,
    /// New consents created (one per consent renewed), each waiting for the click in its mail.
    pub renewals: u64,
    /// Candidates whose request must go by post (listed, not sent here).
    pub post: u64,
    /// Candidates with no channel that has a legal basis.
    pub none: u64,
    /// Of the mails, those whose renewals cover a phone, SMS or messenger channel: the person
    /// verifies the number by a text-message code after the click (R15, R16).
    pub with_number: u64,
    /// Candidates not renewed here: no published text covers their channels, or a phone
    /// consent is bound to no number.
    pub not_by_mail: u64,
    /// Persons whose renewals could not be recorded or whose message could not be queued (the
    /// run went on with the others; the log names them by id). Their renewals recorded without
    /// a queued message end at once (`ConsentExpired`, `request_not_sent`), so the next run asks
    /// again.
    pub failed: u64,
}

/// A renewal recorded for a person: the new consent and the number it is bound to when one of
/// its channels needs a verified number.
struct Renewed {
    consent: ConsentId,
    number: Option<ContactPointId>,
}

/// How a person's renewals are requested.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum By {
    Mail,
    Sms,
}

impl Konsent {
    /// Sends the re-permission requests of the plan that may go by e-mail or text message: for
    /// each consent due, a new consent under the current version of its text, waiting for the
    /// person's confirmation click (R43); the old record is not touched. A person gets one
    /// message for all their renewals. A person whose renewals fail is counted in `failed` and
    /// the run goes on with the next.
    pub async fn send_repermission(
        &self,
        tenant: TenantId,
        actor: &Actor,
        scope: &RepermissionScope,
    ) -> Result<RepermissionSent, ServiceError> {
        let plan = self.repermission_plan(tenant, scope).await?;
        let mut out = RepermissionSent::default();
        let advertiser = self.advertiser_name(tenant, scope.advertiser).await?;
        let mut by_person: BTreeMap<(PersonId, By), Vec<Candidate>> = BTreeMap::new();
        for c in plan.candidates {
            let by = match c.route {
                Some("email") => By::Mail,
                Some("sms") => By::Sms,
                Some(_) => {
                    out.post += 1;
                    continue;
                }
                None => {
                    out.none += 1;
                    continue;
                }
            };
            by_person.entry((c.person_id, by)).or_default().push(c);
        }
        let texts = queries::texts(&self.db, tenant).await?;
        for ((person, by), candidates) in by_person {
            let mut unsent = Vec::new();
            let r = self.renew_person(tenant, actor, by, &advertiser, &texts, candidates, &mut out, &mut unsent).await;
            if let Err(e) = r {
                out.failed += 1;
                tracing::warn!(error = %e, person = %person, "re-permission request not sent");
                self.end_unsent(tenant, actor, &unsent).await;
            }
        }
        Ok(out)
    }

    /// Ends renewals that were recorded but whose message could not be queued
    /// (`ConsentExpired`, reason `request_not_sent`): nobody will click for them, and the next run
    /// may ask again instead of waiting for a link that was never sent.
    async fn end_unsent(&self, tenant: TenantId, actor: &Actor, unsent: &[ConsentId]) {
        if unsent.is_empty() {
            return;
        }
        let now = self.now();
        let (from, to) = (ConsentStatus::Requested, ConsentStatus::Expired);
        let events = unsent.iter().map(|&id| self.status_event(actor, id, from, to, "request_not_sent", now)).collect();
        if let Err(e) = self.append(tenant, events, vec![]).await {
            tracing::warn!(error = %e, renewals = unsent.len(), "unsent re-permission renewals could not be ended");
        }
    }

    /// Records the renewals of one person's candidates and queues the message that asks for them;
    /// `unsent` holds the renewals recorded whose message is not queued (yet).
    #[allow(clippy::too_many_arguments)]
    async fn renew_person(
        &self,
        tenant: TenantId,
        actor: &Actor,
        by: By,
        advertiser: &str,
        texts: &[ConsentTextVersion],
        candidates: Vec<Candidate>,
        out: &mut RepermissionSent,
        unsent: &mut Vec<ConsentId>,
    ) -> Result<(), ServiceError> {
        let mut renewals: Vec<Renewed> = Vec::new();
        let (mut to, mut via) = (None, None);
        let Some(person) = candidates.first().map(|c| c.person_id) else { return Ok(()) };
        // The kinds of the person's contact points, without opening their values.
        let kinds: HashMap<ContactPointId, String> =
            queries::contact_points(&self.db, tenant, person).await?.into_iter().map(|cp| (cp.id, cp.kind)).collect();
        let is = |cp: &ContactPointId, kind: ContactKind| kinds.get(cp).is_some_and(|k| k == kind.as_str());
        for c in candidates {
            let Some(old) = queries::consent(&self.db, tenant, c.consent_id).await? else { continue };
            let key = texts.iter().find(|t| t.id == old.text_id).map(|t| t.key.clone());
            let current = texts
                .iter()
                .filter(|t| Some(&t.key) == key.as_ref() && t.state == TextState::Published)
                .max_by_key(|t| t.version);
            let (Some(text), Some(at)) = (current, c.via_contact_point) else {
                out.not_by_mail += 1;
                continue;
            };
            // The renewal covers the channels of the old consent the current text still names (by
            // text message only those of a number). A phone, SMS or messenger channel needs the
            // number the old consent was bound to: after the click, a code goes to it by text
            // message (R15, R16); never a call.
            let channels: BTreeSet<Channel> = old
                .scope
                .channels
                .intersection(&text.scope.channels)
                .copied()
                .filter(|ch| by == By::Mail || ch.contact_kind() == ContactKind::Phone)
                .collect();
            let needs_number = channels.iter().any(|ch| ch.contact_kind() == ContactKind::Phone);
            // By mail: the old consent's numbers and the address the request goes to (the click
            // confirms that one, not another the old consent named). By text message: the number
            // it goes to, which the old consent is bound to.
            let contact_points: BTreeSet<ContactPointId> = match by {
                By::Mail => {
                    old.contact_points.iter().filter(|cp| !is(cp, ContactKind::Email)).copied().chain([at]).collect()
                }
                By::Sms => [at].into(),
            };
            let number = contact_points.iter().find(|cp| is(cp, ContactKind::Phone)).copied();
            if channels.is_empty() || (needs_number && number.is_none()) {
                out.not_by_mail += 1;
                continue;
            }
            (to, via) = (Some(at), c.via_consent);
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
                // The renewal is declared to the advertiser on its renewal page, not to whoever
                // received the old consent (R20).
                declaration_recipient: Some(DeclarationRecipient {
                    organisation: advertiser.to_string(),
                    agent_pseudonym: match by {
                        By::Mail => "Neueinholung per E-Mail / re-permission by e-mail".into(),
                        By::Sms => "Neueinholung per SMS / re-permission by text message".into(),
                    },
                }),
                source: old.source.clone(),
                affirmative_action: true,
                given_at: self.now(),
                capture_offset_seconds: 0,
                evidence: vec![],
                validity: Validity::Endless,
                renews: Some(old.id),
            };
            let a = self.record_consent(tenant, actor, nc).await?;
            out.renewals += 1;
            unsent.push(a.record.id);
            renewals.push(Renewed { consent: a.record.id, number: number.filter(|_| needs_number) });
        }
        let Some(to) = to else { return Ok(()) };
        let basis = via.map(Basis::Consent);
        if by == By::Sms {
            let ids: Vec<ConsentId> = renewals.iter().map(|r| r.consent).collect();
            self.queue_doi(tenant, actor, &ids, Some(to), &self.public_url, Purpose::RepermissionSms, basis).await?;
            unsent.clear();
            out.sms += 1;
            return Ok(());
        }
        for (ids, with_number) in bundles(&renewals) {
            self.queue_doi(tenant, actor, &ids, Some(to), &self.public_url, Purpose::Repermission, basis).await?;
            unsent.retain(|id| !ids.contains(id));
            out.mails += 1;
            out.with_number += u64::from(with_number);
        }
        Ok(())
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
