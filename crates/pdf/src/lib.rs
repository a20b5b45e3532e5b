//! PDF rendering of Konsent's documents (proof report, later deletion concept and access summary):
//! a small document model in, PDF bytes out, typeset offline by typst with its bundled fonts.
//!
//! The caller builds a [`Report`] with every text already in the reader's language and already
//! formatted (dates, times); this crate only lays it out. Values reach the template as data
//! (`sys.inputs`), never as markup, so names like `*x* #panic()` are printed literally.

use serde::Serialize;

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
        /// Rows (each as long as `columns`).
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
    /// The template did not compile (a bug in this crate).
    #[error("PDF layout failed: {0}")]
    Layout(String),
    /// PDF export failed.
    #[error("PDF export failed: {0}")]
    Export(String),
}

/// Renders `report` to PDF bytes (A4).
pub fn render(report: &Report) -> Result<Vec<u8>, PdfError> {
    let _ = report;
    Err(PdfError::Layout("not yet built".into()))
}
