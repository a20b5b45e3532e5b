//! The bulk gate (scrub, `/v1/check/batch`) against the single check, on both engines: for every
//! contact point of a synthetic tenant, every channel and two advertisers, both decide exactly
//! alike; an unknown advertiser fails only its own row.

use std::collections::BTreeSet;

use konsent_domain::channel::{Channel, ProductCategory};
use konsent_domain::contact::{ContactValue, PhoneE164};
use konsent_domain::gate::CampaignPolicy;
use konsent_domain::ids::AdvertiserId;
use konsent_service::demo;
use konsent_service::gate::CheckRequest;
use konsent_store::queries;

use crate::app_test;

app_test!(bulk_checks_decide_exactly_like_single_checks, |app| {
    let (k, t) = (&app.k, app.tenant);
    demo::generate(k, t, 150, 11, &|_| {}).await.unwrap();
    let mut contacts: Vec<ContactValue> = Vec::new();
    let page = queries::persons_page(&k.db, t, i64::MIN, None, 1000).await.unwrap();
    for (p, _) in &page.items {
        for cp in queries::contact_points(&k.db, t, p.id).await.unwrap() {
            contacts.extend(k.contact_value(t, p.id, cp.id).await.unwrap());
        }
    }
    assert!(contacts.len() > 150, "{} contact points", contacts.len());
    contacts.push(ContactValue::Phone(PhoneE164::parse("0171 9999999").unwrap()));
    // The same contact twice in one batch.
    contacts.push(contacts[0].clone());
    let advertisers: Vec<AdvertiserId> =
        queries::advertisers(&k.db, t).await.unwrap().into_iter().map(|a| a.id).take(2).collect();
    let mut reqs = Vec::new();
    for a in &advertisers {
        for ch in [Channel::PhoneLive, Channel::Email, Channel::Sms, Channel::Post] {
            for c in &contacts {
                reqs.push(CheckRequest {
                    contact: c.clone(),
                    channel: ch,
                    advertiser: *a,
                    categories: BTreeSet::from([ProductCategory::parse("insurance").unwrap()]),
                    policy: CampaignPolicy::default(),
                    campaign: None,
                });
            }
        }
    }
    let bulk = k.check_many(t, &reqs).await.unwrap();
    assert_eq!(bulk.len(), reqs.len());
    let (mut allowed, mut blocked) = (0, 0);
    for (req, b) in reqs.iter().zip(bulk) {
        let b = b.unwrap();
        let s = k.check(t, req).await.unwrap();
        let view = |o: &konsent_service::gate::CheckOutcome| {
            let d = &o.snapshot;
            (d.allowed, d.reasons.clone(), d.legal_basis, d.relied_on.clone(), d.person_id, d.contact_point_id)
        };
        assert_eq!(view(&b), view(&s), "{:?} on {:?}", req.channel, req.contact.kind());
        if b.decision.allowed { allowed += 1 } else { blocked += 1 }
    }
    assert!(allowed > 10 && blocked > 10, "a mix of outcomes: {allowed} allowed, {blocked} blocked");

    // An advertiser of no one fails its own row only.
    let mut mixed = reqs[..3].to_vec();
    mixed[1].advertiser = "0198a0e0-0000-7000-8000-000000000000".parse().unwrap();
    let r = k.check_many(t, &mixed).await.unwrap();
    assert!(r[0].is_ok() && r[2].is_ok());
    assert!(matches!(&r[1], Err(konsent_service::ServiceError::Invalid(e)) if e[0].field == "advertiser_id"));
});
