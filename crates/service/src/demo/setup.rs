//! The demo catalogue: three advertisers and four consent texts (phone + e-mail, newsletter,
//! SMS/WhatsApp, automated calls), created once per tenant and reused by later demo runs.

use std::collections::BTreeSet;

use konsent_domain::channel::{Channel, ProductCategory};
use konsent_domain::consent::Scope;
use konsent_domain::contact::PostalAddress;
use konsent_domain::ids::{AdvertiserId, TenantId};
use konsent_domain::ledger::Actor;
use konsent_domain::party::Advertiser;
use konsent_domain::text::{ConsentTextVersion, PrivacyNoticeRef};
use konsent_store::queries;

use crate::catalog::NewText;
use crate::context::Konsent;
use crate::error::ServiceError;

/// Advertisers and texts the demo data refers to.
#[derive(Debug, Clone)]
pub struct DemoCatalog {
    /// Advertisers.
    pub advertisers: Vec<Advertiser>,
    /// Texts: 0 phone+e-mail, 1 newsletter, 2 SMS/WhatsApp, 3 automated calls.
    pub texts: Vec<ConsentTextVersion>,
}

const KEYS: [&str; 4] = ["demo-telefon-email", "demo-newsletter", "demo-sms-whatsapp", "demo-automatisiert"];

fn cats(codes: &[&str]) -> BTreeSet<ProductCategory> {
    codes.iter().filter_map(|c| ProductCategory::parse(c).ok()).collect()
}

/// Creates the catalogue if the tenant has none yet.
pub(crate) async fn ensure_catalog(k: &Konsent, tenant: TenantId) -> Result<DemoCatalog, ServiceError> {
    let mut advertisers = queries::advertisers(&k.db, tenant).await?;
    if advertisers.len() < 3 {
        let actor = Actor::System;
        for (name, seat, street, plz, city) in [
            ("Muster Versicherungsmakler GmbH", "Köln", "Domstraße 12", "50667", "Köln"),
            ("Nordlicht Finanzvertrieb AG", "Hamburg", "Jungfernstieg 7", "20354", "Hamburg"),
            ("Süd-Allfinanz Maklerpool GmbH & Co. KG", "München", "Leopoldstraße 200", "80804", "München"),
        ] {
            let a = Advertiser::new(
                k.id(AdvertiserId::from_parts),
                name,
                seat,
                PostalAddress::new(street, plz, city, "DE").map_err(|e| ServiceError::invalid("address", e))?,
            )
            .map_err(|e| ServiceError::invalid("advertiser", e))?;
            k.register_advertiser(tenant, &actor, a).await?;
        }
        advertisers = queries::advertisers(&k.db, tenant).await?;
    }
    let existing = queries::texts(&k.db, tenant).await?;
    let mut texts = Vec::new();
    for (i, key) in KEYS.iter().enumerate() {
        if let Some(t) = existing.iter().filter(|t| t.key == *key).max_by_key(|t| t.version) {
            texts.push(t.clone());
            continue;
        }
        texts.push(k.publish_text(tenant, &Actor::System, demo_text(i, &advertisers, k)).await?);
    }
    Ok(DemoCatalog { advertisers, texts })
}

fn demo_text(i: usize, adv: &[Advertiser], k: &Konsent) -> NewText {
    let (a, b, c) = (&adv[0], &adv[1], &adv[2]);
    let notice = PrivacyNoticeRef { url: "https://makler.example/datenschutz".into(), version: "2026-01".into() };
    let withdraw = "Diese Einwilligung kann ich jederzeit ohne Angabe von Gründen mit Wirkung für die Zukunft widerrufen, \
                    z. B. per E-Mail an widerruf@makler.example, telefonisch oder über den Abmeldelink in jeder Nachricht.";
    let (title, body, scope) = match i {
        0 => (
            "Einwilligung in Telefon- und E-Mail-Werbung",
            format!(
                "Ich bin damit einverstanden, dass mich die {} (Sitz: {}) und die {} (Sitz: {}) per Telefon und per E-Mail \
                 über Versicherungen, Finanzanlagen (§ 34f GewO) und Altersvorsorge informieren und beraten. {withdraw}",
                a.legal_name, a.seat, b.legal_name, b.seat
            ),
            Scope {
                advertisers: [a.id, b.id].into(),
                product_categories: cats(&["insurance", "investment_34f", "pension"]),
                channels: [Channel::PhoneLive, Channel::Email].into(),
            },
        ),
        1 => (
            "Newsletter per E-Mail",
            format!(
                "Ja, ich möchte den Newsletter der {} (Sitz: {}) per E-Mail mit Informationen zu Versicherungen und Bausparen \
                 erhalten. {withdraw}",
                a.legal_name, a.seat
            ),
            Scope {
                advertisers: [a.id].into(),
                product_categories: cats(&["insurance", "building_savings"]),
                channels: [Channel::Email].into(),
            },
        ),
        2 => (
            "Nachrichten per SMS und WhatsApp",
            format!(
                "Ich willige ein, dass mir die {} (Sitz: {}) Informationen zu Versicherungen per SMS und per WhatsApp an meine \
                 Mobilfunknummer sendet. {withdraw} Antworten Sie STOP, um keine Nachrichten mehr zu erhalten.",
                c.legal_name, c.seat
            ),
            Scope {
                advertisers: [c.id].into(),
                product_categories: cats(&["insurance"]),
                channels: [Channel::Sms, Channel::MessengerWhatsapp].into(),
            },
        ),
        _ => (
            "Automatisierte Anrufe",
            format!(
                "Ich bin damit einverstanden, dass mich die {} (Sitz: {}) mit automatisierten Anrufen (Telefon, Sprachansage) \
                 über Bausparen informiert. {withdraw}",
                b.legal_name, b.seat
            ),
            Scope {
                advertisers: [b.id].into(),
                product_categories: cats(&["building_savings"]),
                channels: [Channel::PhoneAutomated].into(),
            },
        ),
    };
    NewText {
        key: KEYS[i].into(),
        language: "de".into(),
        title: title.into(),
        body,
        scope,
        valid_from: k.now() - jiff::SignedDuration::from_hours(24 * 365 * 7),
        valid_to: None,
        privacy_notice: notice,
    }
}
