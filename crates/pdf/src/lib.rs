//! PDF rendering of Konsent's documents (proof report, later deletion concept and access summary):
//! a small document model in, PDF bytes out, typeset offline by typst with its bundled fonts.
//!
//! The caller builds a [`Report`] with every text already in the reader's language and already
//! formatted (dates, times); this crate only lays it out. Values reach the template as data
//! (`sys.inputs`), never as markup, so names like `*x* #panic()` are printed literally.

mod world;

use serde::Serialize;
use typst::diag::SourceDiagnostic;
use typst_layout::PagedDocument;
use typst_pdf::PdfOptions;

use crate::world::ReportWorld;

/// A document: title, facts under the title, sections, a footer on every page.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    /// Language of the document (`de` or `en`): hyphenation and quotes.
    pub lang: String,
    /// Title on the first page.
    pub title: String,
    /// Line under the title.
    pub subtitle: Option<String>,
    /// Label/value pairs under the title (who, what, when generated).
    pub meta: Vec<Fact>,
    /// The body.
    pub sections: Vec<Section>,
    /// Footer text on every page (the page number "Seite N von M" is added).
    pub footer: String,
}

/// A label and its value.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Fact {
    /// Label.
    pub label: String,
    /// Value (may contain line breaks).
    pub value: String,
}

impl Fact {
    /// A fact.
    pub fn new(label: impl Into<String>, value: impl Into<String>) -> Self {
        Self { label: label.into(), value: value.into() }
    }
}

/// A numbered section with a heading.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Section {
    /// Heading.
    pub heading: String,
    /// Content blocks in order.
    pub blocks: Vec<Block>,
}

/// One block of content.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Block {
    /// A paragraph of running text.
    Paragraph {
        /// The text.
        text: String,
    },
    /// A smaller heading inside a section.
    Subheading {
        /// The text.
        text: String,
    },
    /// A two-column list of label/value pairs.
    Facts {
        /// The pairs.
        facts: Vec<Fact>,
    },
    /// A verbatim text shown to the person (e.g. the full consent text), framed, line breaks kept.
    Quote {
        /// Caption above the frame.
        label: String,
        /// The text.
        text: String,
    },
    /// A table with a header row; long tables break across pages and repeat the header.
    Table {
        /// Column headers.
        columns: Vec<String>,
        /// Rows (each as long as `columns`; shorter rows are padded, longer ones refused).
        rows: Vec<Vec<String>>,
    },
    /// Monospaced text (hashes, keys, ids), broken anywhere.
    Mono {
        /// The text.
        text: String,
    },
}

/// Why rendering failed.
#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    /// The template did not compile (a bug in this crate) or the report is malformed (a table
    /// row with more cells than columns).
    #[error("PDF layout failed: {0}")]
    Layout(String),
    /// PDF export failed.
    #[error("PDF export failed: {0}")]
    Export(String),
}

/// Renders `report` to PDF bytes (A4).
///
/// The first call in a process parses the bundled fonts (a one-off cost); every call then
/// compiles the embedded template and evicts typst's memo cache, so a long-running server
/// does not grow.
///
/// A table row shorter than its columns is padded with empty cells; a longer one is refused
/// (`PdfError::Layout`) rather than silently losing cells.
pub fn render(report: &Report) -> Result<Vec<u8>, PdfError> {
    check_tables(report)?;
    let json = serde_json::to_vec(report).map_err(|e| PdfError::Layout(e.to_string()))?;
    let world = ReportWorld::new(json);
    let result = typst::compile::<PagedDocument>(&world)
        .output
        .map_err(|errors| PdfError::Layout(messages(&errors)))
        .and_then(|document| {
            typst_pdf::pdf(&document, &PdfOptions::default()).map_err(|errors| PdfError::Export(messages(&errors)))
        });
    typst::comemo::evict(10);
    result
}

/// Refuses table rows with more cells than the table has columns.
fn check_tables(report: &Report) -> Result<(), PdfError> {
    // Positions only, no cell text: the message may be logged and the cells hold personal data.
    for (s, section) in report.sections.iter().enumerate() {
        for block in &section.blocks {
            let Block::Table { columns, rows } = block else { continue };
            if let Some((i, row)) = rows.iter().enumerate().find(|(_, row)| row.len() > columns.len()) {
                return Err(PdfError::Layout(format!(
                    "table in section {}: row {} has {} cells but the table has {} columns",
                    s + 1,
                    i + 1,
                    row.len(),
                    columns.len()
                )));
            }
        }
    }
    Ok(())
}

/// The message texts of typst's diagnostics (no spans: the template is ours, the data is not code).
fn messages(diagnostics: &[SourceDiagnostic]) -> String {
    let texts: Vec<&str> = diagnostics.iter().map(|d| d.message.as_str()).collect();
    texts.join("; ")
}
