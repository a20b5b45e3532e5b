//! The streaming writer: header on creation, one whole row per contact, flush on finish.

use std::io::{BufWriter, Write};

use jiff::tz::TimeZone;

use super::cell::{self, Row};
use super::{ExportContact, ExportError, ExportFormat, ExportOptions, cleverreach, dialer, hubspot, jsonl, mailchimp};

/// Germany's time-zone rule since 1996, used when the system has no tz database.
const BERLIN_POSIX: &str = "CET-1CEST,M3.5.0,M10.5.0/3";

/// Writes a contact list in one format, row by row, into any [`Write`].
///
/// Each row is assembled in memory first and written whole, so a refused contact
/// ([`ExportError::MissingContact`], [`ExportError::InvalidPhone`]) leaves nothing behind and the
/// caller may count it and go on. Output is buffered; call [`ExportWriter::finish`] to flush it
/// and get the writer back. After an I/O error the output is incomplete and should be discarded.
pub struct ExportWriter<W: Write> {
    out: BufWriter<W>,
    format: ExportFormat,
    options: ExportOptions,
    /// The current row.
    buf: Vec<u8>,
    /// Room for dates and joined values of the current row.
    scratch: String,
    /// `valid_until` as written in dialer rows.
    valid_until: String,
    berlin: TimeZone,
    rows: u64,
}

impl<W: Write> std::fmt::Debug for ExportWriter<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExportWriter").field("format", &self.format).field("rows", &self.rows).finish_non_exhaustive()
    }
}

impl<W: Write> ExportWriter<W> {
    /// Starts a list: checks the options and writes the byte order mark and header the format
    /// has. A dialer list without `valid_until` is refused before anything is written.
    pub fn new(w: W, format: ExportFormat, options: ExportOptions) -> Result<Self, ExportError> {
        let mut valid_until = String::new();
        if format == ExportFormat::Dialer {
            let until = options.valid_until.ok_or(ExportError::MissingValidUntil)?;
            dialer::rfc3339(until, &mut valid_until);
        }
        let berlin = TimeZone::get("Europe/Berlin").or_else(|_| TimeZone::posix(BERLIN_POSIX)).unwrap_or(TimeZone::UTC);
        let mut this = Self {
            out: BufWriter::with_capacity(64 * 1024, w),
            format,
            options,
            buf: Vec::with_capacity(512),
            scratch: String::with_capacity(128),
            valid_until,
            berlin,
            rows: 0,
        };
        let header = match format {
            ExportFormat::Mailchimp => Some((mailchimp::STYLE, mailchimp::HEADER)),
            ExportFormat::CleverReach => Some((cleverreach::STYLE, cleverreach::HEADER)),
            ExportFormat::HubSpot => Some((hubspot::STYLE, hubspot::HEADER)),
            ExportFormat::Dialer => Some((dialer::STYLE, dialer::header(this.options.language))),
            ExportFormat::JsonLines => None,
        };
        if let Some((style, names)) = header {
            cell::header(&mut this.buf, style, names);
            this.out.write_all(&this.buf)?;
        }
        Ok(this)
    }

    /// The format being written.
    pub fn format(&self) -> ExportFormat {
        self.format
    }

    /// Rows written so far (refused contacts not counted).
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Writes one contact, or refuses it without writing anything of it.
    pub fn write(&mut self, c: &ExportContact) -> Result<(), ExportError> {
        self.buf.clear();
        let buf = &mut self.buf;
        let scratch = &mut self.scratch;
        match self.format {
            ExportFormat::Mailchimp => {
                let mut row = Row::new(buf, mailchimp::STYLE);
                mailchimp::row(&mut row, c, scratch)?;
                row.end();
            }
            ExportFormat::CleverReach => {
                let mut row = Row::new(buf, cleverreach::STYLE);
                cleverreach::row(&mut row, c, &self.berlin, scratch)?;
                row.end();
            }
            ExportFormat::HubSpot => {
                let mut row = Row::new(buf, hubspot::STYLE);
                hubspot::row(&mut row, c)?;
                row.end();
            }
            ExportFormat::Dialer => {
                let mut row = Row::new(buf, dialer::STYLE);
                dialer::row(&mut row, c, &self.valid_until, scratch)?;
                row.end();
            }
            ExportFormat::JsonLines => jsonl::row(buf, c, &self.options)?,
        }
        self.out.write_all(&self.buf)?;
        self.rows += 1;
        Ok(())
    }

    /// Flushes the list and returns the writer and the number of rows written.
    pub fn finish(self) -> Result<(W, u64), ExportError> {
        let w = self.out.into_inner().map_err(|e| e.into_error())?;
        Ok((w, self.rows))
    }
}
