//! A realistic German consent proof report (several pages) shared by the tests and the
//! `render_sample` example.

use konsent_pdf::{Block, Fact, Report, Section};

/// Text that would break a template which parsed data as markup or code.
pub const INJECTION: &str = r#"*fett* #panic("x") $x^2$ <lbl> @ref \ ] )"#;

/// A 64-hex SHA-256 hash.
pub const HASH: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

/// Number of rows in the call table.
pub const CALLS: usize = 300;

/// A 128-hex signature (longer than one line of 8 pt mono on A4).
pub fn signature() -> String {
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855".repeat(2)
}

/// The consent text as shown to the person: several paragraphs, German quotes and umlauts.
pub const CONSENT_TEXT: &str = "Ja, ich bin damit einverstanden, dass die Müller & Söhne \
Finanzberatung GmbH mich telefonisch und per E-Mail über Angebote zu Bausparverträgen, \
Altersvorsorge und Versicherungen informiert.\n\nDiese Einwilligung kann ich jederzeit ohne \
Angabe von Gründen mit Wirkung für die Zukunft widerrufen, z. B. per E-Mail an \
widerruf@example.de oder über den Link „Einwilligung widerrufen“ in jeder Nachricht.\n\
Die Rechtmäßigkeit der bis zum Widerruf erfolgten Verarbeitung bleibt unberührt.\n\n\
Weitere Informationen finden Sie in unserer Datenschutzerklärung unter „Datenschutz“.";

/// The sample report.
pub fn report() -> Report {
    let calls = (0..CALLS)
        .map(|i| {
            vec![
                format!("{:02}.{:02}.2024 {:02}:{:02}", i % 28 + 1, i % 12 + 1, 8 + i % 10, i % 60),
                format!("Anruf-{:04}", i + 1),
                if i % 3 == 0 { "Gespräch geführt".into() } else { "Nicht erreicht".into() },
                format!("{} s", (i * 37) % 600),
            ]
        })
        .collect();
    Report {
        lang: "de".into(),
        title: "Einwilligungsnachweis".into(),
        subtitle: Some("Nachweis nach Art. 7 Abs. 1 DSGVO und § 7a UWG".into()),
        meta: vec![
            Fact::new("Betroffene Person", "Jörg Müller-Lüdenscheidt"),
            Fact::new("Erstellt am", "14.03.2024, 09:30 Uhr"),
            Fact::new("Erstellt von", INJECTION),
        ],
        footer: "Konsent · Einwilligungsnachweis · vertraulich".into(),
        sections: vec![
            Section {
                heading: "Betroffene Person".into(),
                blocks: vec![Block::Facts {
                    facts: vec![
                        Fact::new("Name", "Jörg Müller-Lüdenscheidt"),
                        Fact::new("Anschrift", "Königstraße 12\n70173 Stuttgart"),
                        Fact::new("Telefon", "+49 711 1234567"),
                        Fact::new("Hinweis", INJECTION),
                    ],
                }],
            },
            Section {
                heading: "Einwilligung".into(),
                blocks: vec![
                    Block::Paragraph {
                        text: "Die betroffene Person hat die folgende Einwilligung über das \
                               Webformular erteilt und per Double-Opt-In bestätigt."
                            .into(),
                    },
                    Block::Subheading { text: "Wortlaut".into() },
                    Block::Quote { label: "Angezeigter Einwilligungstext".into(), text: CONSENT_TEXT.into() },
                ],
            },
            Section {
                heading: "Kontaktversuche".into(),
                blocks: vec![Block::Table {
                    columns: vec!["Zeitpunkt".into(), "Vorgang".into(), "Ergebnis".into(), "Dauer".into()],
                    rows: calls,
                }],
            },
            Section {
                heading: "Integrität".into(),
                blocks: vec![
                    Block::Subheading { text: "SHA-256 des Nachweises".into() },
                    Block::Mono { text: HASH.into() },
                    Block::Subheading { text: "Signatur (Ed25519)".into() },
                    Block::Mono { text: signature() },
                ],
            },
        ],
    }
}
