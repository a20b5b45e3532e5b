//! Reading one record's cells by field: decoding, trimming, and typed values with row errors.

use std::borrow::Cow;

use csv::ByteRecord;
use jiff::Timestamp;
use jiff::civil::Date;

use super::columns::Columns;
use super::error::{RowError, quoted};
use super::fields::Field;
use super::row::SourceStatus;
use super::sniff::Encoding;
use super::values::{self, TimeRules};

/// Per-file settings the cells are read with.
#[derive(Debug, Clone)]
pub(crate) struct Ctx {
    pub encoding: Encoding,
    pub rules: TimeRules,
    pub status_values: std::collections::BTreeMap<String, SourceStatus>,
    pub headers: Vec<String>,
    pub file: Option<String>,
}

/// One record seen through a file's [`Columns`].
pub(crate) struct Cells<'a> {
    pub rec: &'a ByteRecord,
    pub cols: &'a Columns,
    pub ctx: &'a Ctx,
    pub row: u64,
}

fn trim_cow(c: Cow<'_, str>) -> Cow<'_, str> {
    match c {
        Cow::Borrowed(s) => Cow::Borrowed(s.trim()),
        Cow::Owned(s) if s.trim().len() == s.len() => Cow::Owned(s),
        Cow::Owned(s) => Cow::Owned(s.trim().to_string()),
    }
}

impl<'a> Cells<'a> {
    /// The decoded cell at `index` (empty when the row is short). UTF-8 records were validated whole before.
    pub fn cell(&self, index: usize) -> Cow<'a, str> {
        let bytes = self.rec.get(index).unwrap_or(b"");
        match self.ctx.encoding {
            Encoding::Windows1252 => encoding_rs::WINDOWS_1252.decode_without_bom_handling(bytes).0,
            _ => String::from_utf8_lossy(bytes),
        }
    }

    /// The first non-empty trimmed cell among the field's columns, with its column index.
    pub fn get(&self, f: Field) -> Option<(usize, Cow<'a, str>)> {
        self.cols.cols[f as usize].iter().find_map(|&i| {
            let v = trim_cow(self.cell(i));
            (!v.is_empty()).then_some((i, v))
        })
    }

    /// Whether the file has a column for the field.
    pub fn has(&self, f: Field) -> bool {
        !self.cols.cols[f as usize].is_empty()
    }

    /// The field's text, trimmed; `None` when empty.
    pub fn text(&self, f: Field) -> Option<String> {
        self.get(f).map(|(_, v)| v.into_owned())
    }

    /// A row error in column `index`.
    pub fn error(&self, index: usize, message: impl Into<String>) -> RowError {
        RowError {
            row: self.row,
            file: self.ctx.file.clone(),
            field: self.ctx.headers.get(index).cloned().unwrap_or_else(|| format!("column {}", index + 1)),
            message: message.into(),
        }
    }

    /// The field read as a point in time.
    pub fn timestamp(&self, f: Field) -> Result<Option<Timestamp>, RowError> {
        match self.get(f) {
            Some((i, v)) => values::timestamp(&v, &self.ctx.rules).map_err(|m| self.error(i, m)),
            None => Ok(None),
        }
    }

    /// The cell at `index` read as a point in time.
    pub fn timestamp_at(&self, index: usize) -> Result<Option<Timestamp>, RowError> {
        values::timestamp(&self.cell(index), &self.ctx.rules).map_err(|m| self.error(index, m))
    }

    /// The field read as a calendar date.
    pub fn date(&self, f: Field) -> Result<Option<Date>, RowError> {
        match self.get(f) {
            Some((i, v)) => values::date(&v, &self.ctx.rules).map_err(|m| self.error(i, m)),
            None => Ok(None),
        }
    }

    /// The field read as yes/no.
    pub fn flag(&self, f: Field) -> Result<Option<bool>, RowError> {
        match self.get(f) {
            Some((i, v)) => values::flag(&v).map_err(|()| {
                self.error(
                    i,
                    format!("{} ist kein Ja/Nein-Wert / is not yes/no (true/false, ja/nein, 1/0)", quoted(&v)),
                )
            }),
            None => Ok(None),
        }
    }

    /// The field's status column read through the mapping's values and the built-in status words.
    pub fn status(&self) -> Option<SourceStatus> {
        let (_, v) = self.get(Field::Status)?;
        Some(match self.ctx.status_values.get(&v.to_lowercase()) {
            Some(s) => s.clone(),
            None => SourceStatus::from_source_value(&v),
        })
    }
}
