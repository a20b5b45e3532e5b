//! Helpers shared by the import tests.

use std::path::PathBuf;

use jiff::Timestamp;
use konsent_formats::import::{FileInfo, Format, ImportRow, Mapping, RowError, open_path, open_reader};

/// Path of a test-data file.
pub fn testdata(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata").join(rel)
}

/// All rows of a file; panics on any row error, naming it.
pub fn read_ok(rel: &str, format: Format, mapping: Option<&Mapping>) -> (Vec<ImportRow>, Vec<FileInfo>) {
    let rows = open_path(&testdata(rel), format, mapping).unwrap_or_else(|e| panic!("{rel}: {e}"));
    let files = rows.files().to_vec();
    let out = rows.map(|r| r.unwrap_or_else(|e| panic!("{rel}: {e}"))).collect();
    (out, files)
}

/// All results of an in-memory CSV.
pub fn read_bytes(
    bytes: &[u8],
    name: &str,
    format: Format,
    mapping: Option<&Mapping>,
) -> Vec<Result<ImportRow, RowError>> {
    open_reader(std::io::Cursor::new(bytes.to_vec()), Some(name), format, mapping)
        .unwrap_or_else(|e| panic!("{name}: {e}"))
        .collect()
}

/// The row with this sheet row number (of the given inner file, if any).
pub fn sheet(rows: &[ImportRow], row: u64) -> &ImportRow {
    rows.iter().find(|r| r.row == row).unwrap_or_else(|| panic!("no sheet row {row}"))
}

/// A UTC instant from RFC 3339.
pub fn ts(s: &str) -> Timestamp {
    s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
}

/// The instant of Unix seconds.
pub fn unix(s: i64) -> Timestamp {
    Timestamp::from_second(s).unwrap_or_else(|e| panic!("{s}: {e}"))
}
