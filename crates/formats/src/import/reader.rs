//! One CSV stream turned into rows: sniffing, the header, and building [`ImportRow`]s record by record.

use std::io::{self, Cursor, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use csv::ByteRecord;
use jiff::tz::TimeZone;
use serde::Serialize;

use super::cells::{Cells, Ctx};
use super::columns::{ColumnMatch, Columns, PermissionColumn, resolve};
use super::error::{ImportError, RowError, WHOLE_ROW, quoted};
use super::fields::Field;
use super::mapping::Mapping;
use super::row::{ImportRow, Permission, SourceStatus};
use super::sniff::{self, Bom, Encoding, LineEnding, SNIFF_LEN};
use super::values::{self, Consent, TimeRules};
use super::{Format, cleverreach, generic, hubspot, mailchimp};

/// What was found in one file: for a dry-run report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FileInfo {
    /// File name (inner name for ZIP members), if known.
    pub name: Option<String>,
    /// Text encoding.
    pub encoding: Encoding,
    /// Whether the file started with a byte-order mark.
    pub bom: bool,
    /// Field delimiter.
    pub delimiter: char,
    /// Line ending of the header line.
    pub line_ending: LineEnding,
    /// Header cells, trimmed.
    pub headers: Vec<String>,
    /// Our fields and where they were found.
    pub columns: Vec<ColumnMatch>,
    /// Columns read as per-channel permissions.
    pub permissions: Vec<PermissionColumn>,
    /// Headers no field reads.
    pub ignored: Vec<String>,
    /// Status every row of the file has unless a column says otherwise (Mailchimp file names).
    pub status: Option<SourceStatus>,
}

/// Largest row read before giving up on the rest of a file: a row this large comes from an
/// unclosed quote swallowing the file, and reading on would hold all of it in memory.
pub const MAX_ROW_BYTES: u64 = 16 << 20;

/// Counts the bytes pulled from the source since the reader last finished a row.
struct RowLimit {
    inner: Box<dyn Read + Send>,
    since_row: Arc<AtomicU64>,
}

impl Read for RowLimit {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if self.since_row.fetch_add(n as u64, Ordering::Relaxed) + n as u64 > MAX_ROW_BYTES {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "eine Zeile ist größer als {} MiB (ein nicht geschlossenes Anführungszeichen?); der Rest der Datei wird \
                     nicht gelesen / a row is larger than {} MiB (an unclosed quote?); the rest of the file is not read",
                    MAX_ROW_BYTES >> 20,
                    MAX_ROW_BYTES >> 20
                ),
            ));
        }
        Ok(n)
    }
}

/// Reads the rows of one CSV stream.
pub(crate) struct FileReader {
    csv: csv::Reader<RowLimit>,
    since_row: Arc<AtomicU64>,
    embedded_newlines: u64,
    pub info: FileInfo,
    cols: Columns,
    ctx: Ctx,
    format: Format,
    default_status: SourceStatus,
    record: ByteRecord,
    row: u64,
    done: bool,
}

fn default_zone(format: Format) -> Result<TimeZone, ImportError> {
    match format {
        Format::Mailchimp => Ok(TimeZone::UTC),
        _ => TimeZone::get("Europe/Berlin").map_err(|_| ImportError::TimeZone("Europe/Berlin".into())),
    }
}

fn decode_lossy(enc: Encoding, bytes: &[u8]) -> String {
    match enc {
        Encoding::Windows1252 => encoding_rs::WINDOWS_1252.decode_without_bom_handling(bytes).0.into_owned(),
        _ => String::from_utf8_lossy(bytes).into_owned(),
    }
}

impl FileReader {
    /// Sniffs the stream, reads the header and resolves the columns.
    pub fn open(
        mut input: Box<dyn Read + Send>,
        name: Option<String>,
        format: Format,
        mapping: Option<&Mapping>,
    ) -> Result<FileReader, ImportError> {
        let display = name.clone().unwrap_or_else(|| "upload".to_string());
        let io_err = |e| ImportError::io(display.clone(), e);
        let mut prefix = sniff::read_prefix(&mut input, SNIFF_LEN).map_err(io_err)?;
        if prefix.starts_with(b"PK\x03\x04") {
            return Err(ImportError::Zip(format!(
                "{display} is a ZIP archive; read it from a file or a seekable source (open_path, open_seekable)"
            )));
        }
        let bom = sniff::bom(&prefix);
        let mut encoding = match bom {
            Bom::Utf16Le => Encoding::Utf16Le,
            Bom::Utf16Be => Encoding::Utf16Be,
            Bom::Utf8 => Encoding::Utf8,
            Bom::None => sniff::guess_encoding(&prefix),
        };
        if matches!(bom, Bom::Utf16Le | Bom::Utf16Be) {
            let chained = Cursor::new(prefix).chain(input);
            input = Box::new(encoding_rs_io::DecodeReaderBytesBuilder::new().bom_sniffing(true).build(chained));
            prefix = sniff::read_prefix(&mut input, SNIFF_LEN).map_err(io_err)?;
        } else if let Some(forced) = mapping.and_then(|m| m.encoding) {
            encoding = forced;
        }
        let skip = if prefix.starts_with(&[0xEF, 0xBB, 0xBF]) { 3 } else { 0 };
        let (mut delimiter, line_ending) = sniff::delimiter_and_line_ending(&prefix[skip..]);
        if let Some(d) = mapping.and_then(|m| m.delimiter) {
            delimiter = d;
        }
        prefix.drain(..skip);
        let since_row = Arc::new(AtomicU64::new(0));
        let stream = RowLimit { inner: Box::new(Cursor::new(prefix).chain(input)), since_row: Arc::clone(&since_row) };
        let mut csv = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(delimiter)
            .buffer_capacity(64 * 1024)
            .from_reader(stream);
        let mut header = ByteRecord::new();
        let no_header = |reason: &str| ImportError::NoHeader { file: display.clone(), reason: reason.to_string() };
        match csv.read_byte_record(&mut header) {
            Ok(true) => {}
            Ok(false) => return Err(no_header("die Datei ist leer / the file is empty")),
            Err(e) => return Err(ImportError::io(display.clone(), std::io::Error::other(e.to_string()))),
        }
        let headers: Vec<String> = header.iter().map(|h| decode_lossy(encoding, h).trim().to_string()).collect();
        if headers.iter().all(String::is_empty) {
            return Err(no_header("die erste Zeile ist leer / the first row is empty"));
        }
        let cols = resolve(&headers, format, mapping, &display)?;
        let tz = match mapping.and_then(|m| m.time_zone.clone()) {
            Some(tz) => tz,
            None => default_zone(format)?,
        };
        let rules = TimeRules {
            tz,
            date_format: mapping.and_then(|m| m.date_format.clone()),
            datetime_format: mapping.and_then(|m| m.datetime_format.clone()),
        };
        let file_status = match format {
            Format::Mailchimp => name.as_deref().and_then(mailchimp::status_from_file_name),
            _ => None,
        };
        let format_default = match format {
            Format::Mailchimp | Format::CleverReach => SourceStatus::Subscribed,
            Format::HubSpot | Format::Generic => SourceStatus::NonSubscribed,
        };
        let default_status = mapping.and_then(|m| m.status_default.clone()).unwrap_or(format_default);
        let info = FileInfo {
            name: name.clone(),
            encoding,
            bom: bom != Bom::None,
            delimiter: char::from(delimiter),
            line_ending,
            headers: headers.clone(),
            columns: cols.matches.clone(),
            permissions: cols.permission_columns.clone(),
            ignored: cols.ignored.clone(),
            status: file_status.clone(),
        };
        let ctx = Ctx {
            encoding,
            rules,
            status_values: mapping.map(|m| m.status_values.clone()).unwrap_or_default(),
            headers,
            file: name,
        };
        let default_status = file_status.unwrap_or(default_status);
        since_row.store(0, Ordering::Relaxed);
        Ok(FileReader {
            csv,
            since_row,
            embedded_newlines: 0,
            info,
            cols,
            ctx,
            format,
            default_status,
            record: ByteRecord::new(),
            row: 1,
            done: false,
        })
    }

    /// The next data row, or `None` at the end of the stream.
    pub fn next_row(&mut self) -> Option<Result<ImportRow, RowError>> {
        if self.done {
            return None;
        }
        match self.csv.read_byte_record(&mut self.record) {
            Ok(true) => {
                self.since_row.store(0, Ordering::Relaxed);
                // The sheet row is the physical line the row ends on, less the line breaks inside
                // quoted cells so far (so blank lines count, as a spreadsheet shows them); a
                // counter where lines are not counted (CR-only files) or an unterminated last row.
                self.embedded_newlines += self.record.as_slice().iter().filter(|&&b| b == b'\n').count() as u64;
                // The reader counts a row's own `\n` once it has read it: at once after LF, only
                // with the next row after CRLF (the `\r` ends the row).
                let own = u64::from(self.info.line_ending == LineEnding::Lf);
                let by_line = self.csv.position().line().saturating_sub(own + self.embedded_newlines);
                self.row = by_line.max(self.row + 1);
                Some(self.build())
            }
            Ok(false) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(self.row_error(WHOLE_ROW, format!("Lesen abgebrochen / reading stopped: {e}"))))
            }
        }
    }

    fn row_error(&self, field: &str, message: String) -> RowError {
        RowError { row: self.row + 1, file: self.ctx.file.clone(), field: field.to_string(), message }
    }

    fn check_shape(&self) -> Result<(), RowError> {
        let rec = &self.record;
        let n = self.ctx.headers.len();
        let err =
            |message: String| RowError { row: self.row, file: self.ctx.file.clone(), field: WHOLE_ROW.into(), message };
        if rec.len() > n && rec.iter().skip(n).any(|c| !c.is_empty()) {
            return Err(err(format!(
                "die Zeile hat {} Zellen, die Kopfzeile {n} (ein Trennzeichen in einer Zelle ohne Anführungszeichen?) / \
                 the row has {} cells, the header {n} (a delimiter inside an unquoted cell?)",
                rec.len(),
                rec.len()
            )));
        }
        if rec.len() < n && rec.iter().any(|c| c.contains(&b'\n') || c.contains(&b'\r')) {
            return Err(err(format!(
                "eine Zelle läuft über mehrere Zeilen und die Zeile hat nur {} von {n} Zellen (ein nicht geschlossenes \
                 Anführungszeichen?) / a cell runs over several lines and the row has only {} of {n} cells (an unclosed quote?)",
                rec.len(),
                rec.len()
            )));
        }
        if self.ctx.encoding == Encoding::Utf8 && std::str::from_utf8(rec.as_slice()).is_err() {
            let i = rec.iter().position(|c| std::str::from_utf8(c).is_err()).unwrap_or(0);
            let field = self.ctx.headers.get(i).cloned().unwrap_or_else(|| format!("column {}", i + 1));
            return Err(RowError {
                row: self.row,
                file: self.ctx.file.clone(),
                field,
                message: "ungültiges UTF-8 (die ersten 64 KiB der Datei waren UTF-8; für eine Windows-1252-Datei in einer \
                          Mapping-Datei encoding = \"windows-1252\" setzen) / invalid UTF-8 (the file's first 64 KiB \
                          were read as UTF-8; for a Windows-1252 file set encoding = \"windows-1252\" in a mapping file)"
                    .into(),
            });
        }
        Ok(())
    }

    fn build(&self) -> Result<ImportRow, RowError> {
        self.check_shape()?;
        let c = Cells { rec: &self.record, cols: &self.cols, ctx: &self.ctx, row: self.row };
        let mut r = ImportRow::new(self.row, self.ctx.file.clone(), self.default_status.clone());
        r.external_id = c.text(Field::ExternalId);
        r.customer_number = c.text(Field::CustomerNumber);
        r.email = c.text(Field::Email);
        r.phone = c.text(Field::Phone);
        r.mobile = c.text(Field::Mobile);
        r.salutation = c.text(Field::Salutation);
        r.title = c.text(Field::Title);
        r.first_name = c.text(Field::FirstName);
        r.last_name = c.text(Field::LastName);
        r.company = c.text(Field::Company);
        r.street = c.text(Field::Street);
        r.postcode = c.text(Field::Postcode);
        r.city = c.text(Field::City);
        r.country = c.text(Field::Country);
        if let Some((_, a)) = c.get(Field::Address) {
            let (street, city, postcode, country) = values::mailchimp_address(&a);
            r.street = r.street.or(street);
            r.city = r.city.or(city);
            r.postcode = r.postcode.or(postcode);
            r.country = r.country.or(country);
        }
        r.birth_date = c.date(Field::BirthDate)?;
        r.optin_at = c.timestamp(Field::OptinAt)?;
        r.confirm_at = c.timestamp(Field::ConfirmAt)?;
        r.last_changed_at = c.timestamp(Field::LastChangedAt)?;
        r.unsubscribed_at = c.timestamp(Field::UnsubscribedAt)?;
        r.cleaned_at = c.timestamp(Field::CleanedAt)?;
        r.optin_ip = c.text(Field::OptinIp);
        r.confirm_ip = c.text(Field::ConfirmIp);
        r.source = c.text(Field::Source);
        r.language = c.text(Field::Language);
        if let Some((_, t)) = c.get(Field::Tags) {
            r.tags = values::tags(&t);
        }
        if let Some((_, l)) = c.get(Field::LegalBasis) {
            r.legal_basis = values::list(&l, ';');
        }
        r.unsubscribe_reason =
            mailchimp::unsubscribe_reason(c.text(Field::UnsubscribeReason), c.text(Field::UnsubscribeReasonOther));
        let perms = read_permissions(&c)?;
        let derived = match self.format {
            Format::Mailchimp => {
                r.permissions = perms.into_iter().map(|(p, _)| p).collect();
                None
            }
            Format::CleverReach => cleverreach::finish(&mut r, &c, perms)?,
            Format::HubSpot => hubspot::finish(&mut r, &c, perms)?,
            Format::Generic => generic::finish(&mut r, &c, perms)?,
        };
        if let Some(s) = c.status().or(derived) {
            r.status = s;
        }
        Ok(r)
    }
}

/// Reads the row's permission columns. A guessed column with a value that is no yes/no is
/// skipped; a declared one gives a row error.
fn read_permissions(c: &Cells<'_>) -> Result<Vec<(Permission, Consent)>, RowError> {
    let mut out = Vec::with_capacity(c.cols.perms.len());
    for p in &c.cols.perms {
        let cell = c.cell(p.index);
        let v = cell.trim();
        let consent = match values::consent(v) {
            Ok(Some(k)) => k,
            Ok(None) if p.empty_is_no => Consent::Denied,
            Ok(None) => continue,
            Err(()) if p.lenient => continue,
            Err(()) => {
                return Err(c.error(
                    p.index,
                    format!(
                        "{} ist kein Einwilligungswert / is not a consent value (ja/nein/widerrufen, yes/no, true/false, 1/0)",
                        quoted(v)
                    ),
                ));
            }
        };
        let (granted, consent) = match (p.opt_out, consent) {
            (false, k) => (k == Consent::Granted, k),
            (true, Consent::Denied) => (true, Consent::Granted),
            (true, _) => (false, Consent::Withdrawn),
        };
        let at = match p.date_index {
            Some(d) => c.timestamp_at(d)?,
            None => None,
        };
        out.push((Permission { channel: p.channel, label: p.label.clone(), granted, at }, consent));
    }
    Ok(out)
}
