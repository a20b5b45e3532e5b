//! Errors of the import readers: [`RowError`] for one bad row, [`ImportError`] for what stops a file.
//!
//! Messages are German first, then English, and never quote e-mail addresses or phone numbers: they name the row
//! and the column, and quote only cells that are not contact points (dates, flags).

use std::fmt;

use serde::Serialize;

/// A data row that could not be read. The reader goes on with the next row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
pub struct RowError {
    /// Spreadsheet row number in its file (header = row 1).
    pub row: u64,
    /// Inner file name for ZIP archives.
    pub file: Option<String>,
    /// The column header (or `(row)` when the row as a whole is broken).
    pub field: String,
    /// What was wrong, without contact data.
    pub message: String,
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.file {
            Some(file) => write!(f, "{file}, row {}, column '{}': {}", self.row, self.field, self.message),
            None => write!(f, "row {}, column '{}': {}", self.row, self.field, self.message),
        }
    }
}

/// Field name a [`RowError`] carries when the row as a whole is broken.
pub const WHOLE_ROW: &str = "(row)";

/// An error that stops reading a file or archive.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file or archive could not be read.
    #[error("{what} ist nicht lesbar / cannot read {what}: {source}")]
    Io {
        /// What was being read.
        what: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The file is empty or its first row holds no header names.
    #[error("{file}: keine Kopfzeile / no header row ({reason})")]
    NoHeader {
        /// File name (or `upload`).
        file: String,
        /// Why.
        reason: String,
    },
    /// Neither an e-mail nor a phone column was found among the headers.
    #[error(
        "{file}: keine Spalte für E-Mail oder Telefon (gefunden: [{found}]; erkannt werden: [{expected}]; oder die \
         Spalte in einer Mapping-Datei benennen) / no e-mail or phone column; found headers [{found}]; expected one \
         of [{expected}] (or name the column in a mapping file: [columns] email = \"...\")"
    )]
    NoContactColumn {
        /// File name (or `upload`).
        file: String,
        /// The headers found, comma-separated (cells that look like contact data are redacted).
        found: String,
        /// Header names that would have been recognised.
        expected: String,
    },
    /// A column named in the mapping file is not among the headers.
    #[error(
        "{file}: die Mapping-Datei nennt die Spalte '{header}' für das Feld '{field}', die Datei hat sie nicht / \
         mapping file names column '{header}' for field '{field}', but the file has no such header; found headers [{found}]"
    )]
    MappedColumnMissing {
        /// File name (or `upload`).
        file: String,
        /// Our field.
        field: String,
        /// The header the mapping expects.
        header: String,
        /// The headers found.
        found: String,
    },
    /// The format name is not one of ours.
    #[error("unbekanntes Format / unknown format '{0}' (mailchimp, cleverreach, hubspot, generic)")]
    UnknownFormat(String),
    /// The mapping file is invalid.
    #[error("Mapping-Datei / mapping file: {0}")]
    Mapping(String),
    /// The ZIP archive is unreadable or holds no CSV file.
    #[error("ZIP-Archiv / ZIP archive: {0}")]
    Zip(String),
    /// The time zone for local times is missing from this system.
    #[error(
        "Zeitzone '{0}' fehlt auf diesem System (tzdata installieren oder time_zone in einer Mapping-Datei setzen) / \
         time zone '{0}' is not available on this system (install tzdata or set time_zone in a mapping file)"
    )]
    TimeZone(String),
}

impl ImportError {
    pub(crate) fn io(what: impl Into<String>, source: std::io::Error) -> Self {
        ImportError::Io { what: what.into(), source }
    }
}

/// Replaces header cells that look like contact data (an `@`, or six digits or more) so that
/// error messages listing the headers of a file without a header row leak nothing.
pub(crate) fn redact_headers(headers: &[String]) -> String {
    headers
        .iter()
        .map(|h| {
            let digits = h.chars().filter(char::is_ascii_digit).count();
            if h.contains('@') || digits >= 6 {
                "<redacted>".to_string()
            } else if h.chars().count() > 60 {
                format!("'{}…'", h.chars().take(60).collect::<String>())
            } else {
                format!("'{h}'")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A cell quoted for an error message, or a placeholder when it looks like an e-mail address
/// or a phone number (an `@`; or only digits, spaces and `+-/()` with a leading `+`, `0` or `(`
/// and seven digits or more, or eleven digits or more).
pub fn quoted(v: &str) -> String {
    let digits = v.chars().filter(char::is_ascii_digit).count();
    let phone_chars = v.chars().all(|c| c.is_ascii_digit() || " +-/()".contains(c));
    let phone_start = v.starts_with(['+', '0', '(']);
    let contact = v.contains('@') || (phone_chars && ((phone_start && digits >= 7) || digits >= 11));
    if contact {
        "(Wert ausgelassen, sieht nach Kontaktdaten aus / value withheld: it looks like contact data)".to_string()
    } else if v.chars().count() > 80 {
        format!("'{}…'", v.chars().take(80).collect::<String>())
    } else {
        format!("'{v}'")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contact_data_is_never_quoted() {
        for v in [
            "a@example.com",
            "030 23125000",
            "+49 152 28817386",
            "(069) 900 09 037",
            "0049-30-23125370",
            "491729980752",
        ] {
            assert!(!quoted(v).contains(v), "{v} leaked");
        }
        for v in ["17.05.2024", "2024-05-17 14:30", "31.02.1992", "1551398400", "gestern", "vielleicht"] {
            assert_eq!(quoted(v), format!("'{v}'"));
        }
    }
}
