//! Small CSV tables sent by users (dialer call logs, lead lists): delimiter (`,` `;` tab) and
//! byte-order mark detected, columns found by header name, rows numbered as a spreadsheet shows
//! them (the header is row 1).

use crate::error::ServiceError;

/// A parsed table.
#[derive(Debug)]
pub struct Table {
    /// Header names, trimmed.
    pub headers: Vec<String>,
    /// Rows with their spreadsheet row number (first data row = 2).
    pub rows: Vec<(u64, Vec<String>)>,
}

impl Table {
    /// Parses UTF-8 CSV bytes with a header row.
    pub fn parse(bytes: &[u8]) -> Result<Self, ServiceError> {
        let text = std::str::from_utf8(bytes).map_err(|e| {
            ServiceError::invalid(
                "file",
                format!("ist kein UTF-8 (Byte {0}) / is not UTF-8 (byte {0})", e.valid_up_to()),
            )
        })?;
        let text = text.trim_start_matches('\u{feff}');
        let first = text.lines().next().unwrap_or_default();
        let delim = if first.contains(';') {
            b';'
        } else if first.contains('\t') {
            b'\t'
        } else {
            b','
        };
        let mut rdr = csv::ReaderBuilder::new().delimiter(delim).flexible(true).from_reader(text.as_bytes());
        let headers: Vec<String> = rdr
            .headers()
            .map_err(|e| ServiceError::invalid("file", format!("Kopfzeile unlesbar / header row unreadable: {e}")))?
            .iter()
            .map(|h| h.trim().to_string())
            .collect();
        if headers.iter().all(String::is_empty) {
            return Err(ServiceError::invalid("file", "hat keine Kopfzeile / has no header row"));
        }
        let mut rows = Vec::new();
        for (i, rec) in rdr.records().enumerate() {
            let row = i as u64 + 2;
            let rec =
                rec.map_err(|e| ServiceError::invalid(format!("row {row}"), format!("unlesbar / unreadable: {e}")))?;
            let mut v: Vec<String> = rec.iter().map(|c| c.trim().to_string()).collect();
            if v.iter().all(String::is_empty) {
                continue;
            }
            v.resize(headers.len(), String::new());
            rows.push((row, v));
        }
        Ok(Self { headers, rows })
    }

    /// The first column whose header is one of `names` (case-insensitive).
    pub fn column(&self, names: &[&str]) -> Option<usize> {
        self.headers.iter().position(|h| names.iter().any(|n| h.eq_ignore_ascii_case(n)))
    }

    /// Like [`Table::column`], but an error naming the accepted headers when missing.
    pub fn require(&self, field: &str, names: &[&str]) -> Result<usize, ServiceError> {
        self.column(names).ok_or_else(|| {
            ServiceError::invalid(
                "file",
                format!(
                    "keine Spalte {field}; eine davon benennen / no {field} column; name one of: {}",
                    names.join(", ")
                ),
            )
        })
    }
}
