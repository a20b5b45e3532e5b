//! Arguments of the campaign commands: segments and their exports.

/// Segment subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum SegmentAction {
    /// Ein Segment auswerten und einfrieren: jeder Kontakt mit Einwilligung für Werbenden und Kanal, drin oder draußen mit den Gründen der Prüfung.
    ///
    /// Evaluate and freeze a segment: every contact point with a consent naming the advertiser
    /// and channel, in or out with the gate's reasons.
    Create {
        /// Name of the campaign.
        #[arg(long)]
        name: String,
        /// Channel (email, phone_live, sms, …).
        #[arg(long)]
        channel: String,
        /// Advertiser id.
        #[arg(long)]
        advertiser: String,
        /// Product categories advertised, comma-separated.
        #[arg(long, default_value = "")]
        categories: String,
        /// Only consents in these statuses, comma-separated DPV names (e.g. ConsentUnknown).
        #[arg(long, default_value = "")]
        statuses: String,
        /// Only persons of this org unit (id).
        #[arg(long)]
        org_unit: Option<String>,
        /// Only consents of this source: first_party or third_party.
        #[arg(long)]
        source: Option<String>,
        /// Only consents imported from this provider.
        #[arg(long)]
        provider: Option<String>,
        /// Only consents given on or after this day (YYYY-MM-DD).
        #[arg(long)]
        given_from: Option<String>,
        /// Only consents given before this day (YYYY-MM-DD).
        #[arg(long)]
        given_to: Option<String>,
        /// Staleness limit in months (default 12 for phone, 18 otherwise, R29).
        #[arg(long)]
        staleness_months: Option<u16>,
        /// Robinson list to match (R31).
        #[arg(long)]
        robinson_list: Option<String>,
        /// The campaign must be matched against a Robinson list.
        #[arg(long)]
        robinson_required: bool,
        /// Days an export may be used (default 7).
        #[arg(long)]
        valid_days: Option<u16>,
        /// Print as JSON.
        #[arg(long)]
        json: bool,
        /// Tenant (default: the first tenant).
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Eingefrorene Segmente auflisten.
    ///
    /// List frozen segments.
    List {
        /// Tenant (default: the first tenant).
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Die Kontakte eines eingefrorenen Segments für ein Werkzeug schreiben: mailchimp, cleverreach, hubspot, dialer oder jsonl.
    ///
    /// Write a frozen segment's contacts for a tool: mailchimp, cleverreach, hubspot, dialer or jsonl.
    Export {
        /// Segment id.
        id: String,
        /// Format.
        #[arg(long)]
        format: String,
        /// File to write.
        #[arg(long)]
        out: std::path::PathBuf,
        /// Do not log the written contacts as uses (default: logged for newsletter formats and
        /// JSON Lines; a dialer's calls are logged from its call log).
        #[arg(long)]
        no_use: bool,
        /// English column headers where the format has a choice.
        #[arg(long)]
        english: bool,
        /// Tenant (default: the first tenant).
        #[arg(long)]
        tenant: Option<String>,
    },
}
