//! JSON Lines: one object per contact with every field, for scripts and tools of one's own.
//!
//! Not meant for spreadsheets, so values are written as they are (no formula neutralizing);
//! JSON escaping keeps each object on one line. Times are RFC 3339 in UTC.

use jiff::Timestamp;
use serde::Serialize;

use super::{ExportContact, ExportError, ExportOptions};

/// One line: the contact's fields, then the list's when set.
#[derive(Serialize)]
struct Line<'a> {
    #[serde(flatten)]
    contact: &'a ExportContact,
    #[serde(skip_serializing_if = "Option::is_none")]
    list_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    campaign_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    valid_until: Option<Timestamp>,
}

/// Appends one contact as a JSON object and a line feed.
pub(super) fn row(buf: &mut Vec<u8>, c: &ExportContact, options: &ExportOptions) -> Result<(), ExportError> {
    let line = Line {
        contact: c,
        list_name: options.list_name.as_deref(),
        campaign_id: options.campaign_id.as_deref(),
        valid_until: options.valid_until,
    };
    serde_json::to_writer(&mut *buf, &line).map_err(std::io::Error::from)?;
    buf.push(b'\n');
    Ok(())
}
