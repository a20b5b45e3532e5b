//! Command-line arguments of the `konsent` binary.

mod campaign;
pub use campaign::SegmentAction;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Konsent: Einwilligungsmanagement für den Finanzvertrieb / opt-in management for German financial sales.
#[derive(Debug, Parser)]
#[command(name = "konsent", version, propagate_version = true)]
pub struct Cli {
    /// Datenverzeichnis (Schlüssel, SQLite-Datenbank, Konfiguration) / data directory (keys, SQLite database, configuration).
    #[arg(long, global = true, env = "KONSENT_DATA_DIR", default_value = "./konsent-data")]
    pub data_dir: PathBuf,
    /// Datenbank-URL / database URL: sqlite://PATH or postgres://USER@HOST/DB (default: SQLite in the data directory).
    #[arg(long, global = true, env = "KONSENT_DATABASE_URL")]
    pub database_url: Option<String>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Datenverzeichnis anlegen: Schlüssel, Datenbank, Standardmandant, Admin-API-Schlüssel.
    ///
    /// Initialise a data directory: keys, database, default tenant, admin API key.
    Init {
        /// Print the result as JSON (tenant_id, api_key, …).
        #[arg(long)]
        json: bool,
        /// Name of the default tenant.
        #[arg(long, default_value = "Mein Maklerunternehmen")]
        tenant_name: String,
    },
    /// HTTP-Server starten (legt beim ersten Start das Datenverzeichnis an).
    ///
    /// Run the HTTP server (initialises the data directory on first start).
    Serve {
        /// Address to listen on.
        #[arg(long)]
        bind: Option<String>,
    },
    /// Die Datenbank mit realistischen synthetischen deutschen Daten füllen.
    ///
    /// Fill the store with realistic synthetic German data.
    Demo {
        /// Number of persons.
        #[arg(long, default_value_t = 1000)]
        persons: u64,
        /// Seed, for reproducible data.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Tenant to fill (default: the first tenant).
        #[arg(long)]
        tenant: Option<String>,
        /// Also write a lead list of the synthetic persons (`ref;telefon;email`) to try `scrub` on.
        #[arg(long, value_name = "FILE")]
        leads_out: Option<std::path::PathBuf>,
    },
    /// Das Ledger prüfen: jeden Hash und jeden signierten Checkpoint. Exit 0, wenn intakt.
    ///
    /// Verify the ledger: every hash and every signed checkpoint. Exit 0 when intact.
    Verify {
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Alle Tabellen des aktuellen Stands aus dem Ledger neu aufbauen.
    ///
    /// Recreate all current-state tables from the ledger.
    Rebuild,
    /// Jede Zeile einer CSV-Liste (Leads, Wählliste) gegen die Prüfung abgleichen.
    ///
    /// Check every row of a CSV list (leads, dialer list) against the gate.
    Scrub {
        /// Input CSV (`,`, `;` or tab; a phone or e-mail column).
        file: std::path::PathBuf,
        /// Channel: phone_live, phone_automated, fax, email, sms, messenger_whatsapp, post.
        #[arg(long, required_unless_present = "validate_only", default_value = "")]
        channel: String,
        /// Advertiser id (`konsent status` lists them).
        #[arg(long, required_unless_present = "validate_only", default_value = "")]
        advertiser: String,
        /// Product category codes, comma-separated.
        #[arg(long, default_value = "")]
        categories: String,
        /// Name of the contact column (default: phone/telefon/mobile/email…).
        #[arg(long)]
        column: Option<String>,
        /// Output CSV.
        #[arg(long, required_unless_present = "validate_only")]
        out: Option<std::path::PathBuf>,
        /// Tenant (default: the first tenant).
        #[arg(long)]
        tenant: Option<String>,
        /// Only read and normalise every row and report the invalid ones; decide and write nothing.
        #[arg(long)]
        validate_only: bool,
    },
    /// Das Nachweispaket nach § 7a UWG (PDF, JSON, Belege, Ledger-Nachweis) als ZIP erzeugen.
    ///
    /// Produce the § 7a UWG proof package (PDF, JSON, evidence files, ledger proof) as a ZIP.
    Evidence {
        /// Everyone with this phone number.
        #[arg(long, group = "subject")]
        phone: Option<String>,
        /// Everyone with this e-mail address.
        #[arg(long, group = "subject")]
        email: Option<String>,
        /// One person (id).
        #[arg(long, group = "subject")]
        person: Option<String>,
        /// Only uses from this date (YYYY-MM-DD, UTC).
        #[arg(long)]
        from: Option<String>,
        /// Only uses up to this date (YYYY-MM-DD, inclusive, UTC).
        #[arg(long)]
        to: Option<String>,
        /// Output ZIP file.
        #[arg(long)]
        out: std::path::PathBuf,
        /// Tenant (default: the first tenant).
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Ein Nachweispaket offline prüfen: Signatur, Hash jeder Datei, jeden Ledger-Eintrag. Exit 0, wenn intakt.
    ///
    /// Verify a proof package offline: signature, every file's hash, every ledger entry up to a
    /// signed checkpoint. Needs no data directory. Exit 0 when intact.
    VerifyPackage {
        /// The ZIP file.
        file: std::path::PathBuf,
        /// The operator's public key (hex, `konsent status` prints it). Without it the key inside
        /// the package is used, which proves integrity only, not origin.
        #[arg(long)]
        public_key: Option<String>,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Eine Leadliste vor einer Telefonkampagne prüfen (Prüfpflicht, R24): je Lead ein Ergebnis mit Gründen.
    ///
    /// Check a lead list before a phone campaign (Prüfpflicht, R24): a report per lead with reasons.
    LeadCheck {
        /// Lead list CSV (a phone column; optional `ref`).
        file: std::path::PathBuf,
        /// Advertiser id of the campaign.
        #[arg(long)]
        advertiser: String,
        /// Product category codes, comma-separated.
        #[arg(long, default_value = "")]
        categories: String,
        /// Campaign id.
        #[arg(long)]
        campaign: Option<String>,
        /// Report CSV to write.
        #[arg(long)]
        out: std::path::PathBuf,
        /// Tenant (default: the first tenant).
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Das Anrufprotokoll eines Dialers einlesen: jeder Anruf ist eine Nutzung und setzt die Frist nach § 7a neu (R23).
    ///
    /// Import a dialer's call log (CSV): every call is logged as a use, moving the § 7a clock (R23).
    CallLog {
        /// Call log CSV (phone and time columns; optional outcome, advertiser, campaign, agent).
        file: std::path::PathBuf,
        /// Advertiser for rows without an advertiser column.
        #[arg(long)]
        advertiser: Option<String>,
        /// Tenant (default: the first tenant).
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Einen Kontaktexport importieren (Mailchimp, CleverReach, HubSpot, Maklersoftware): Status nach Nachweislage, Abmeldungen und Sperrliste zuerst; setzt nach Abbruch fort.
    ///
    /// Import a contact export (Mailchimp ZIP or CSV, CleverReach, HubSpot, broker software):
    /// imported consents get the status their evidence supports (R25, R26), opt-outs there are
    /// honoured here, the suppression list is matched first; resumes after an interruption.
    Import {
        /// The export (CSV, or Mailchimp's ZIP of three CSVs).
        file: std::path::PathBuf,
        /// mailchimp, cleverreach, hubspot or generic.
        #[arg(long)]
        format: String,
        /// The consent text the source showed: its id, or its key (latest published version).
        #[arg(long)]
        text: String,
        /// Mapping file (TOML) naming columns and status values the format does not know.
        #[arg(long)]
        mapping: Option<std::path::PathBuf>,
        /// Advertiser the consents name (repeatable; default: all of the text's).
        #[arg(long)]
        advertiser: Vec<String>,
        /// Source system named in the evidence (default: the tool's name).
        #[arg(long)]
        provider: Option<String>,
        /// Contract reference when the list comes from a third party (lead vendor, partner).
        #[arg(long)]
        third_party_contract: Option<String>,
        /// Only report what would happen; write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Rows per transaction: each commits with the import's progress, so an interrupted
        /// import resumes after its last committed transaction (100 to 100,000). Within it,
        /// rows are planned and written in batches of up to 5,000 (one ledger entry each);
        /// PostgreSQL commits each batch.
        #[arg(long, default_value_t = konsent_service::imports::BATCH_ROWS,
              value_parser = clap::value_parser!(u64).range(100..=100_000))]
        batch_rows: u64,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
        /// Tenant (default: the first tenant).
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Eine Person löschen (Art. 17): löschen, was gehen darf, Nachweise gesperrt aufbewahren, Kontakte sperren.
    ///
    /// Erase a person (Art. 17): delete what may go now, keep the proof that must be kept
    /// restricted until its date, suppress the contact points; prints the reply to the person.
    Erase {
        /// Person id.
        #[arg(long)]
        person: String,
        /// How the request came in (letter, email, phone…).
        #[arg(long, default_value = "letter")]
        via: String,
        /// Print the plan as JSON.
        #[arg(long)]
        json: bool,
        /// Tenant (default: the first tenant).
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Eine Auskunft beantworten (Art. 15/20): ZIP mit JSON, CSV und deutscher PDF-Übersicht.
    ///
    /// Answer an access request (Art. 15/20): a ZIP with JSON, CSV and a German PDF summary.
    Access {
        /// Person id.
        #[arg(long)]
        person: String,
        /// Output ZIP.
        #[arg(long)]
        out: std::path::PathBuf,
        /// Tenant (default: the first tenant).
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Kampagnensegmente: wen eine Kampagne erreichen darf, eingefroren und für ein Werkzeug exportiert.
    ///
    /// Campaign segments: who a campaign may reach, frozen, and exported for a tool.
    Segment {
        /// What to do.
        #[command(subcommand)]
        action: SegmentAction,
    },
    /// Neueinholung (R29, R43): unbekannte und bald veraltete Einwilligungen mit dem zulässigen Weg der Anfrage.
    ///
    /// Re-permission (R29, R43): consents of an advertiser that are Unknown or turn stale within
    /// the window, each with the channel a request may use; `--send` mails the e-mail ones (one
    /// mail per person) and texts the SMS ones, `--letters` writes the post ones for a mail merge.
    Repermission {
        /// Advertiser id.
        #[arg(long)]
        advertiser: String,
        /// Days ahead to look for consents turning stale.
        #[arg(long, default_value_t = konsent_service::repermission::WITHIN_DAYS)]
        within_days: u16,
        /// The campaign's staleness limits in months, e.g. `phone_live=6,email=12` (R29; channels
        /// not named: 12 for calls, 18 otherwise).
        #[arg(long, default_value = "")]
        staleness: String,
        /// Anfragen per Mail und SMS einreihen / queue the re-permission mails and text messages (new
        /// consents under the current text, confirmed by click).
        #[arg(long)]
        send: bool,
        /// Write the letters for the candidates that may only be asked by post to this file
        /// (mail-merge CSV: name, address, consents to renew).
        #[arg(long, value_name = "FILE")]
        letters: Option<std::path::PathBuf>,
        /// Print the candidates as JSON.
        #[arg(long)]
        json: bool,
        /// Tenant (default: the first tenant).
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Einen Newsletter-Export mit Konsent abgleichen: dort angemeldet, hier nicht erlaubt, und umgekehrt.
    ///
    /// Compare a newsletter tool's export with Konsent: subscribed there but not allowed here
    /// (unsubscribe them there), opted out there but allowed here (import the export).
    Reconcile {
        /// The tool's export (CSV, or Mailchimp's ZIP).
        file: std::path::PathBuf,
        /// mailchimp, cleverreach, hubspot or generic.
        #[arg(long)]
        format: String,
        /// Advertiser whose e-mail advertising is compared.
        #[arg(long)]
        advertiser: String,
        /// Mapping file (TOML) naming columns and status values the format does not know.
        #[arg(long)]
        mapping: Option<std::path::PathBuf>,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
        /// Tenant (default: the first tenant).
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Eine Robinsonliste einlesen (R31): je Zeile ein SHA-256 der E-Mail-Adresse oder Rufnummer.
    ///
    /// Import a Robinson list (R31): one SHA-256 (hex) of the lower-case e-mail address or the
    /// E.164 number per line, as the list providers deliver them.
    Robinson {
        /// The list file.
        file: std::path::PathBuf,
        /// Name of the list (provider and version), e.g. idi-2026-11.
        #[arg(long)]
        list: String,
        /// Tenant (default: the first tenant).
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Das Löschkonzept: Regeln und Löschlauf.
    ///
    /// The deletion concept: the retention sweep.
    Retention {
        /// What to do.
        #[command(subcommand)]
        action: RetentionAction,
    },
    /// Die SQLite-Datenbank im laufenden Betrieb sichern (PostgreSQL: pg_dump).
    ///
    /// Copy the SQLite database while Konsent runs (PostgreSQL: use pg_dump).
    Backup {
        /// The copy to write (must not exist).
        #[arg(long)]
        out: std::path::PathBuf,
    },
    /// Eine SQLite-Sicherung einspielen und das Löschjournal nachziehen, damit nichts Gelöschtes zurückkehrt.
    ///
    /// Put a SQLite backup in place (stop `serve` first), then replay the deletion journal so no
    /// erased person or objection comes back. With `--replay-only` (PostgreSQL after pg_restore)
    /// only the journal is replayed.
    Restore {
        /// The backup file (not needed with --replay-only).
        file: Option<std::path::PathBuf>,
        /// Only replay the deletion journal.
        #[arg(long)]
        replay_only: bool,
    },
    /// Aufbewahrungspflichten, die das Löschen aussetzen (Legal Hold, R61).
    ///
    /// Legal holds that suspend deletion (R61).
    Hold {
        /// What to do.
        #[command(subcommand)]
        action: HoldAction,
    },
    /// Die aktuellen Kettenenden mit signierten Checkpoints versiegeln.
    ///
    /// Seal the current chain heads with signed checkpoints.
    Checkpoint,
    /// API-Schlüssel verwalten.
    ///
    /// Manage API keys.
    Apikey {
        /// What to do with keys.
        #[command(subcommand)]
        action: ApikeyAction,
    },
    /// Personen, Einwilligungen und Ledger-Einträge zählen.
    ///
    /// Show counts of persons, consents and ledger entries.
    Status {
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Die wirksame Konfiguration ausgeben (Geheimnisse geschwärzt).
    ///
    /// Print the effective configuration (secrets redacted).
    Config,
}

/// API key actions.
#[derive(Debug, Subcommand)]
pub enum ApikeyAction {
    /// Einen Schlüssel anlegen; das Geheimnis wird nur einmal angezeigt.
    ///
    /// Create a key; the secret is printed once.
    Create {
        /// Role: admin, marketing, agent, compliance, integration.
        #[arg(long)]
        role: String,
        /// Label to recognise the key by.
        #[arg(long, default_value = "cli")]
        label: String,
        /// Tenant (default: the first tenant).
        #[arg(long)]
        tenant: Option<String>,
    },
}

/// Retention subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum RetentionAction {
    /// Das Löschkonzept ausgeben (Datenarten und Löschregeln) oder als PDF schreiben.
    ///
    /// Print the deletion concept (Datenarten and Löschregeln in force), or write it as a PDF.
    Rules {
        /// Write the German document for the data protection officer to this PDF.
        #[arg(long)]
        pdf: Option<std::path::PathBuf>,
        /// Print as JSON (input to the Art. 30 record).
        #[arg(long)]
        json: bool,
        /// Tenant (default: the first tenant).
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Löschen, was jetzt fällig ist (der tägliche Lauf von `serve`).
    ///
    /// Delete what is due now (the daily job of `serve`).
    Run {
        /// Only list what would be deleted.
        #[arg(long)]
        dry_run: bool,
        /// Tenant (default: the first tenant).
        #[arg(long)]
        tenant: Option<String>,
    },
}

/// Hold subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum HoldAction {
    /// Die Daten einer Person mit einer Aufbewahrungspflicht belegen.
    ///
    /// Place a hold on a person's data.
    Add {
        /// Person id.
        #[arg(long)]
        person: String,
        /// litigation, authority_request, dsar_pending or complaint.
        #[arg(long)]
        reason: String,
        /// Who answers for the hold.
        #[arg(long)]
        owner: String,
        /// Review date (YYYY-MM-DD).
        #[arg(long)]
        review: String,
        /// Tenant (default: the first tenant).
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Eine Aufbewahrungspflicht aufheben.
    ///
    /// Release a hold.
    Release {
        /// Hold id.
        id: String,
        /// Tenant (default: the first tenant).
        #[arg(long)]
        tenant: Option<String>,
    },
}
