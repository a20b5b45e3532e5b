//! Reading exports of Mailchimp, CleverReach, HubSpot and broker software into uniform rows.
//!
//! Files are streamed: nothing holds more than one record (plus a 64 KiB sniffing buffer and
//! the CSV reader's buffer), so a 1,000,000-row export reads in flat memory.
//!
//! * **Sniffing** ([`sniff`]): a UTF-8 BOM is stripped; UTF-16 with BOM is transcoded; otherwise
//!   the first 64 KiB decide between UTF-8 (valid there) and Windows-1252. A later invalid UTF-8
//!   sequence is a [`RowError`] naming row and column. The delimiter (`,` `;` tab) is the one
//!   most frequent outside quotes in the header line; CRLF, LF and CR all work.
//! * **Columns** are found by header name, case, spaces and punctuation ignored, with each
//!   tool's English and German names ([`Field`] lists ours). Nothing depends on column order.
//! * **Rows**: [`Rows`] yields `Result<ImportRow, RowError>`; a bad row never stops the reader.
//!   What stops a file (no header, no e-mail or phone column, bad mapping, unreadable ZIP) is an
//!   [`ImportError`] from `open_*`.
//!
//! ```no_run
//! use konsent_formats::import::{open_path, Format, Mapping};
//! # fn main() -> Result<(), konsent_formats::import::ImportError> {
//! let rows = open_path("members_export_67bf5f325a.zip".as_ref(), Format::Mailchimp, None)?;
//! println!("{} {:?}", rows.encoding().as_str(), rows.columns());
//! for row in rows {
//!     match row {
//!         Ok(r) => println!("row {} {:?}", r.row, r.status),
//!         Err(e) => eprintln!("{e}"),
//!     }
//! }
//! # Ok(()) }
//! ```
//!
//! # Mapping file
//!
//! A TOML file ([`Mapping::parse`]) that overrides what any format assumes. Every key is
//! optional; an unknown key is an error naming it.
//!
//! ```toml
//! time_zone = "Europe/Berlin"        # zone of local times without offset
//!                                    # (default Europe/Berlin; Mailchimp: UTC)
//! date_format = "%d/%m/%Y"           # jiff strftime, tried before the built-in formats
//! datetime_format = "%d/%m/%Y %H:%M" # built-in: YYYY-MM-DD[ HH:MM[:SS]], DD.MM.YYYY[ HH:MM[:SS]],
//!                                    # Unix seconds/milliseconds, RFC 3339
//! delimiter = ";"                    # "," ";" "tab" "|" (default: sniffed)
//! encoding = "windows-1252"          # "utf-8" or "windows-1252" (default: sniffed)
//! status_default = "non_subscribed"  # status when the file says nothing
//!
//! [columns]                # our field = header, or a list (first non-empty cell wins)
//! email = "Mailadresse"
//! phone = ["Tel. privat", "Tel. geschäftlich"]
//! status = "Newsletter-Status"
//!
//! [status_values]          # the file's value (case-insensitive) = ours
//! "aktiv" = "subscribed"   # subscribed pending unsubscribed cleaned complained non_subscribed
//! "abgemeldet" = "unsubscribed"
//!
//! [[permissions]]          # replaces the permission columns the format detects
//! column = "Werbung per Telefon"
//! channel = "phone_live"   # email phone_live phone_automated sms messenger_whatsapp fax post
//! date_column = "Telefon-Einwilligung am"  # optional
//! opt_out = false          # true: "ja" means the person objected
//! label = "Telefonwerbung" # optional, default the header
//! ```
//!
//! Field names under `[columns]`: `external_id customer_number email phone mobile salutation
//! title first_name last_name company street postcode city country address birth_date status
//! optin_at confirm_at last_changed_at unsubscribed_at cleaned_at optin_ip confirm_ip source
//! tags language unsubscribe_reason unsubscribe_reason_other legal_basis consent_date
//! marketing_contact_status unsubscribed_all hard_bounce_reason invalid_email
//! email_confirmation_status active bounced`. A full example is
//! `crates/formats/testdata/mapping-example.toml`.
//!
//! # Status
//!
//! A `status` column (mapped or named `Status`) wins; otherwise each format derives it:
//! Mailchimp from the file name (`subscribed_`/`unsubscribed_`/`cleaned_…`, else subscribed);
//! CleverReach from `deactivated` (a bounce when `abmeldegrund` says so), `activated` = 0
//! (pending), `active`/`bounced` flags, else subscribed; HubSpot from `Email hard bounce
//! reason`/`Invalid email address` (cleaned), `Unsubscribed from all email` (unsubscribed),
//! `Marketing contact status`, else non-subscribed; broker software from `Werbeeinwilligung
//! E-Mail` (`ja`/`nein`/`widerrufen`) and a `(unzustellbar)` note in the e-mail cell (cleaned,
//! the note removed), else non-subscribed.

mod cells;
mod cleverreach;
mod columns;
mod error;
mod fields;
mod generic;
mod hubspot;
pub mod mailchimp;
mod mapping;
mod reader;
mod row;
pub mod sniff;
mod values;
mod zipread;

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::str::FromStr;

pub use columns::{ColumnMatch, PermissionColumn};
pub use error::{ImportError, RowError, WHOLE_ROW, quoted};
pub use fields::{Field, normalize};
pub use mapping::Mapping;
pub use reader::{FileInfo, MAX_ROW_BYTES};
pub use row::{ImportRow, Permission, SourceStatus};
pub use sniff::{Encoding, LineEnding};

use columns::PermissionGuess;
use reader::FileReader;
use zipread::Archive;

/// The tool an export comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// Mailchimp audience export (ZIP of three CSVs, or one of them).
    Mailchimp,
    /// CleverReach receiver export.
    CleverReach,
    /// HubSpot contacts export.
    HubSpot,
    /// Broker software with German headers, or anything described by a mapping file.
    Generic,
}

impl FromStr for Format {
    type Err = ImportError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "mailchimp" => Ok(Format::Mailchimp),
            "cleverreach" => Ok(Format::CleverReach),
            "hubspot" => Ok(Format::HubSpot),
            "generic" => Ok(Format::Generic),
            _ => Err(ImportError::UnknownFormat(s.to_string())),
        }
    }
}

impl Format {
    /// Stable name (`mailchimp`, `cleverreach`, `hubspot`, `generic`).
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Mailchimp => "mailchimp",
            Format::CleverReach => "cleverreach",
            Format::HubSpot => "hubspot",
            Format::Generic => "generic",
        }
    }

    pub(crate) fn aliases(self) -> &'static [(Field, &'static [&'static str])] {
        match self {
            Format::Mailchimp => mailchimp::ALIASES,
            Format::CleverReach => cleverreach::ALIASES,
            Format::HubSpot => hubspot::ALIASES,
            Format::Generic => generic::ALIASES,
        }
    }

    pub(crate) fn permission_column(self, header: &str) -> Option<PermissionGuess> {
        match self {
            Format::Mailchimp => mailchimp::permission_column(header),
            Format::CleverReach => cleverreach::permission_column(header),
            Format::HubSpot => hubspot::permission_column(header),
            Format::Generic => generic::permission_column(header),
        }
    }
}

/// The rows of one file or of every CSV in a ZIP archive, in order.
pub struct Rows {
    format: Format,
    mapping: Option<Mapping>,
    files: Vec<FileInfo>,
    current: usize,
    reader: Option<FileReader>,
    archive: Option<Archive>,
}

impl Rows {
    fn info(&self) -> &FileInfo {
        &self.files[self.current.min(self.files.len() - 1)]
    }

    /// The format the rows are read as.
    pub fn format(&self) -> Format {
        self.format
    }

    /// Every file that is or will be read (one, or each CSV member of a ZIP), with what was found in it.
    pub fn files(&self) -> &[FileInfo] {
        &self.files
    }

    /// Encoding of the file being read (the first one before iteration starts).
    pub fn encoding(&self) -> Encoding {
        self.info().encoding
    }

    /// Delimiter of the file being read.
    pub fn delimiter(&self) -> char {
        self.info().delimiter
    }

    /// Headers of the file being read.
    pub fn headers(&self) -> &[String] {
        &self.info().headers
    }

    /// Our fields found in the file being read, with their headers.
    pub fn columns(&self) -> &[ColumnMatch] {
        &self.info().columns
    }
}

impl Iterator for Rows {
    type Item = Result<ImportRow, RowError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(item) = self.reader.as_mut().and_then(FileReader::next_row) {
                return Some(item);
            }
            self.reader = None;
            let archive = self.archive.as_ref()?;
            if self.current + 1 >= archive.members.len() {
                self.archive = None;
                return None;
            }
            self.current += 1;
            let m = &archive.members[self.current];
            match FileReader::open(archive.member(m), Some(m.name.clone()), self.format, self.mapping.as_ref()) {
                Ok(r) => self.reader = Some(r),
                Err(e) => {
                    return Some(Err(RowError {
                        row: 1,
                        file: Some(m.name.clone()),
                        field: WHOLE_ROW.into(),
                        message: e.to_string(),
                    }));
                }
            }
        }
    }
}

/// Opens a file: a ZIP archive (every CSV member in turn) or a single CSV. The file name is
/// used for the status of Mailchimp exports.
pub fn open_path(path: &Path, format: Format, mapping: Option<&Mapping>) -> Result<Rows, ImportError> {
    let file = File::open(path).map_err(|e| ImportError::io(path.display().to_string(), e))?;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
    open_seekable(file, name.as_deref(), format, mapping)
}

/// Opens a seekable upload (a file, an in-memory buffer): ZIP archives and single CSVs.
pub fn open_seekable<R: Read + Seek + Send + 'static>(
    mut input: R,
    name: Option<&str>,
    format: Format,
    mapping: Option<&Mapping>,
) -> Result<Rows, ImportError> {
    let what = name.unwrap_or("upload").to_string();
    let io_err = |e| ImportError::io(what.clone(), e);
    let start = input.stream_position().map_err(io_err)?;
    let magic = sniff::read_prefix(&mut input, 4).map_err(io_err)?;
    input.seek(SeekFrom::Start(start)).map_err(io_err)?;
    if magic != b"PK\x03\x04" && magic != b"PK\x05\x06" {
        return open_reader(input, name, format, mapping);
    }
    let archive = Archive::open(input)?;
    let mut files = Vec::with_capacity(archive.members.len());
    let mut first = None;
    for m in &archive.members {
        let r = FileReader::open(archive.member(m), Some(m.name.clone()), format, mapping)?;
        files.push(r.info.clone());
        if first.is_none() {
            first = Some(r);
        }
    }
    Ok(Rows { format, mapping: mapping.cloned(), files, current: 0, reader: first, archive: Some(archive) })
}

/// Opens a CSV stream (an upload). `name` is the uploaded file's name, used for Mailchimp's
/// status; a ZIP archive needs [`open_seekable`] or [`open_path`].
pub fn open_reader<R: Read + Send + 'static>(
    input: R,
    name: Option<&str>,
    format: Format,
    mapping: Option<&Mapping>,
) -> Result<Rows, ImportError> {
    let reader = FileReader::open(Box::new(input), name.map(str::to_string), format, mapping)?;
    Ok(Rows {
        format,
        mapping: mapping.cloned(),
        files: vec![reader.info.clone()],
        current: 0,
        reader: Some(reader),
        archive: None,
    })
}
