//! Importing contact lists from newsletter tools, CRMs and broker software (R25, R26, R44): each
//! row becomes a person with an imported consent whose status its evidence decides, an opt-out
//! honoured here too, or a reason why nothing happened. The suppression list is matched before
//! anything is created; batches commit with the import's progress, so an interrupted import
//! resumes and the same file imported again changes nothing; a dry run writes nothing.

mod pipeline;
mod plan;
mod row;
mod run;
mod turns;

use std::collections::{BTreeMap, BTreeSet};

use konsent_domain::ids::{AdvertiserId, OrgUnitId, TextId};
pub use konsent_formats::import::{Format, Mapping};
use serde::{Deserialize, Serialize};

pub use plan::{OptOut, RowPlan, plan_row};
pub use run::Progress;
pub use turns::ImportTurns;

/// How to import a file.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// The file's format.
    pub format: Format,
    /// Column and value mapping overriding the format's defaults.
    pub mapping: Option<Mapping>,
    /// The consent text the source showed (its channels bound what a row may grant).
    pub text_id: TextId,
    /// Advertisers the consents name; default: all of the text's.
    pub advertisers: Option<BTreeSet<AdvertiserId>>,
    /// Source system named in the evidence; default: the format's tool.
    pub provider: Option<String>,
    /// Contract reference when the list comes from a third party (lead vendor, partner).
    pub third_party_contract: Option<String>,
    /// Org unit that owns the new persons.
    pub org_unit: Option<OrgUnitId>,
    /// Only report what would happen.
    pub dry_run: bool,
    /// Rows per transaction (each commits with the import's progress, so an interrupted import
    /// resumes after the last one).
    pub batch_rows: u64,
    /// Rows planned, written and entered in the ledger together, at most `batch_rows`
    /// (default [`CHUNK_ROWS`]).
    pub chunk_rows: u64,
}

/// Rows per transaction by default: each commit writes every page its rows touched, and on a
/// large store a random-keyed index (the blind index) has a row on nearly every page, so larger
/// transactions write far less. What the planner keeps of a batch until its commit is seen
/// (about 300 bytes a row) grows with it: 25,000 rows write half as much as 5,000 at 220 MB,
/// 50,000 only a fifth less again at 240 MB (BENCHMARKS.md, "Session 14").
pub const BATCH_ROWS: u64 = 25_000;

/// Rows planned, written and entered in the ledger together (one batch entry): a planned row
/// holds about 11 KB until the writer has it, so this bounds the import's memory, while the
/// transaction stays open over [`BATCH_ROWS`] rows.
pub const CHUNK_ROWS: u64 = 5_000;

/// One row that could not be imported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowProblem {
    /// Spreadsheet row number (header = 1).
    pub row: u64,
    /// File inside a ZIP.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// Column.
    pub field: String,
    /// What was wrong (no contact data).
    pub message: String,
}

/// What an import did (or would do).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ImportReport {
    /// Import id: the file's hash and the options.
    pub import_id: String,
    /// SHA-256 of the file (named in every imported consent's evidence).
    pub file_sha256: String,
    /// Format.
    pub format: String,
    /// Encoding detected (`utf-8`, `utf-8-bom`, `windows-1252`).
    pub encoding: String,
    /// Delimiter detected.
    pub delimiter: String,
    /// Our field → the file's column, as found.
    pub columns: BTreeMap<String, String>,
    /// Nothing was written.
    pub dry_run: bool,
    /// The file was imported before with these options: nothing changed.
    pub already_imported: bool,
    /// Rows skipped because an earlier, interrupted run committed them.
    pub resumed_after: u64,
    /// The run stopped before the end (asked to); sending the file again resumes it.
    #[serde(default)]
    pub stopped: bool,
    /// Data rows read.
    pub rows: u64,
    /// Rows by outcome: `given` (a usable consent), `unknown` (recorded but blocked until
    /// re-permission, R25/R26), `unchanged`, `suppressed`, `erased` (asked for erasure, R44),
    /// `opt_out` (unsubscribed or complained there: withdrawn and suppressed here), `bounced`,
    /// `pending` (never confirmed there), `no_consent`, `duplicate` (the person's second row in
    /// the file), `restricted`, `refused`, `error`.
    pub outcomes: BTreeMap<String, u64>,
    /// Consents recorded, by channel and status (`email:given`, `phone_live:unknown`, …).
    pub consents: BTreeMap<String, u64>,
    /// Why imported consents are Unknown, by gap code.
    pub unknown_because: BTreeMap<String, u64>,
    /// Persons created.
    pub persons_created: u64,
    /// The first rows that could not be imported (at most [`MAX_PROBLEMS`]).
    pub problems: Vec<RowProblem>,
}

/// How many row problems a report lists (all are counted).
pub const MAX_PROBLEMS: usize = 1000;

impl ImportReport {
    fn count(&mut self, outcome: &str) {
        *self.outcomes.entry(outcome.to_string()).or_default() += 1;
    }

    fn problem(&mut self, p: RowProblem) {
        self.count("error");
        if self.problems.len() < MAX_PROBLEMS {
            self.problems.push(p);
        }
    }

    /// Rows that could not be imported.
    pub fn errors(&self) -> u64 {
        self.outcomes.get("error").copied().unwrap_or(0)
    }
}

impl crate::context::Konsent {
    /// A published consent text by its id, or the latest published version of a text key.
    pub async fn published_text(
        &self,
        tenant: konsent_domain::ids::TenantId,
        id_or_key: &str,
    ) -> Result<TextId, crate::error::ServiceError> {
        use konsent_domain::text::TextState;
        let texts = konsent_store::queries::texts(&self.db, tenant).await?;
        let id: Option<TextId> = id_or_key.parse().ok();
        texts
            .into_iter()
            .filter(|t| t.state != TextState::Draft && (Some(t.id) == id || t.key == id_or_key))
            .max_by_key(|t| t.version)
            .map(|t| t.id)
            .ok_or_else(|| crate::error::ServiceError::invalid("text", "kein veröffentlichter Einwilligungstext mit dieser ID oder diesem Schlüssel / no published consent text with this id or key"))
    }
}
