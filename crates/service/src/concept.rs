//! The deletion concept as a document (R52): every Datenart with its Löschregel in force for the
//! tenant, start event, retention, deletion cycle and basis, and how the engine applies them —
//! as data (for the Art. 30 record) and as the German PDF a data protection officer files.

use konsent_domain::ids::TenantId;
use konsent_domain::retention::{Datenart, Loeschregel};
use konsent_pdf::{Block, Fact, Report, Section};
use serde::Serialize;

use crate::context::Konsent;
use crate::error::ServiceError;

/// One rule of the concept.
#[derive(Debug, Clone, Serialize)]
pub struct ConceptRule {
    /// `D1` …
    pub code: &'static str,
    /// German name.
    pub datenart: &'static str,
    /// The rule in force.
    pub rule: Loeschregel,
    /// What starts the clock.
    pub start_event: &'static str,
    /// Retention, e.g. `5 Jahre`.
    pub vorhaltefrist: String,
    /// Latest deletion after the retention.
    pub deletion_cycle: String,
    /// Basis.
    pub basis: &'static str,
    /// Changed from the default by the tenant.
    pub tenant_override: bool,
}

impl Konsent {
    /// The tenant's deletion concept, rule by rule.
    pub async fn deletion_concept(&self, tenant: TenantId) -> Result<Vec<ConceptRule>, ServiceError> {
        let overrides = self.settings(tenant).await?.retention;
        let rules = konsent_domain::retention::concept::effective_rules(&overrides);
        Ok(Datenart::ALL
            .iter()
            .map(|d| {
                let r = rules[d];
                ConceptRule {
                    code: d.code(),
                    datenart: d.label_de(),
                    rule: r,
                    start_event: d.start_de(),
                    vorhaltefrist: format!(
                        "{}{}",
                        r.vorhaltefrist.label_de(),
                        if r.end_of_year { " zum Jahresende" } else { "" }
                    ),
                    deletion_cycle: r.deletion_cycle.label_de(),
                    basis: d.basis_de(),
                    tenant_override: overrides.contains_key(d),
                }
            })
            .collect())
    }

    /// The deletion concept as the German PDF a data protection officer files.
    pub async fn deletion_concept_pdf(&self, tenant: TenantId, tenant_name: &str) -> Result<Vec<u8>, ServiceError> {
        let report = self.deletion_concept_report(tenant, tenant_name).await?;
        konsent_pdf::render(&report)
            .map_err(|e| ServiceError::Conflict(format!("the document could not be typeset: {e}")))
    }

    async fn deletion_concept_report(&self, tenant: TenantId, tenant_name: &str) -> Result<Report, ServiceError> {
        let rules = self.deletion_concept(tenant).await?;
        let rows = rules
            .iter()
            .map(|r| {
                vec![
                    format!("{}{}", r.code, if r.tenant_override { " *" } else { "" }),
                    r.datenart.to_string(),
                    r.start_event.to_string(),
                    r.vorhaltefrist.clone(),
                    r.deletion_cycle.clone(),
                    r.basis.to_string(),
                ]
            })
            .collect();
        let d = konsent_domain::time::utc_date(self.now());
        Ok(Report {
            lang: "de".into(),
            title: "Löschkonzept".into(),
            subtitle: Some(
                "Datenarten und Löschregeln der Einwilligungsverwaltung (DIN 66398), Eingang zum \
                            Verzeichnis der Verarbeitungstätigkeiten (Art. 30 DSGVO)"
                    .into(),
            ),
            meta: vec![
                Fact::new("Verantwortlicher", tenant_name),
                Fact::new("Stand", format!("{:02}.{:02}.{}", d.day(), d.month(), d.year())),
            ],
            sections: vec![
                Section {
                    heading: "Löschregeln".into(),
                    blocks: vec![
                        Block::Paragraph {
                            text: "Jede Datenart hat genau eine Löschregel: ab dem Startereignis wird sie für die \
                                   Vorhaltefrist aufbewahrt und spätestens nach dem Löschzyklus gelöscht \
                                   (Regellöschfrist = Vorhaltefrist + Löschzyklus). Mit * markierte Regeln weichen \
                                   von den Voreinstellungen ab; gesetzliche Mindestfristen (§ 7a UWG) können nicht \
                                   unterschritten werden."
                                .into(),
                        },
                        Block::Table {
                            columns: ["Nr.", "Datenart", "Startereignis", "Vorhaltefrist", "Löschzyklus", "Grundlage"]
                                .iter()
                                .map(|c| c.to_string())
                                .collect(),
                            rows,
                        },
                    ],
                },
                Section {
                    heading: "Umsetzung".into(),
                    blocks: vec![Block::Paragraph {
                        text: "Ein Löschlauf prüft täglich alle Daten: Personen ohne gültige Einwilligung, deren \
                               Nachweispflichten abgelaufen sind, und gesperrt aufbewahrte Daten nach Ablauf ihrer \
                               Frist werden gelöscht, indem der Schlüssel der Person vernichtet wird; das \
                               fälschungssichere Protokoll behält nur pseudonyme Einträge ohne Inhalt. Der Nachweis \
                               einer genutzten Einwilligung wird nie gelöscht, solange sie gilt. Eine Sperre \
                               (Rechtsstreit, Behördenanfrage, offene Anfrage, Beschwerde) hält jede Löschung an, \
                               bis sie aufgehoben wird. Ein Löschantrag (Art. 17 DSGVO) löscht sofort, was nicht \
                               aufbewahrt werden muss; der Rest wird gesperrt und nach Fristablauf gelöscht. \
                               Kontaktdaten gelöschter und widersprechender Personen bleiben nur als \
                               verschlüsselter Prüfwert auf der Werbesperrliste. Nach dem Einspielen einer \
                               Datensicherung wird das Löschjournal nachgespielt, bevor Daten genutzt werden."
                            .into(),
                    }],
                },
            ],
            footer: format!("Konsent · Löschkonzept {tenant_name}"),
        })
    }
}
