//! Finding our fields among a file's headers (by name, never by position) and the
//! [`ColumnMatch`]/[`PermissionColumn`] report of what was found.

use std::collections::HashMap;

use konsent_domain::channel::Channel;
use serde::Serialize;

use super::Format;
use super::error::{ImportError, redact_headers};
use super::fields::{COMMON, Field, normalize};
use super::mapping::Mapping;

/// One of our fields and the header it was found under.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ColumnMatch {
    /// Our field (`email`, `optin_at`, …).
    pub field: &'static str,
    /// The header as written in the file.
    pub header: String,
    /// Zero-based column index.
    pub index: usize,
}

/// A column read as a per-channel permission.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PermissionColumn {
    /// The header as written in the file.
    pub header: String,
    /// Zero-based column index.
    pub index: usize,
    /// Channel the column speaks about.
    pub channel: Channel,
    /// Label given to the permissions read from it.
    pub label: String,
    /// `yes` means "opted out" (HubSpot's `Opted out of email: …`).
    pub opt_out: bool,
    /// Header of the column with the permission's date, if any.
    pub date_header: Option<String>,
}

/// How a format recognises a permission column among the headers left over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PermissionGuess {
    pub channel: Channel,
    pub label: String,
    pub opt_out: bool,
    /// Guessed from the label alone: values that are no yes/no are skipped instead of being a row error.
    pub lenient: bool,
    /// An empty cell means "not granted" (Mailchimp) rather than "not stated".
    pub empty_is_no: bool,
}

/// A resolved permission column.
#[derive(Debug, Clone)]
pub(crate) struct PermCol {
    pub index: usize,
    pub channel: Channel,
    pub label: String,
    pub opt_out: bool,
    pub lenient: bool,
    pub empty_is_no: bool,
    pub date_index: Option<usize>,
}

/// Which columns hold which field, for one file.
#[derive(Debug, Clone)]
pub(crate) struct Columns {
    /// Per field, the columns to read in order (the first non-empty cell wins).
    pub cols: [Vec<usize>; Field::COUNT],
    pub perms: Vec<PermCol>,
    pub matches: Vec<ColumnMatch>,
    pub permission_columns: Vec<PermissionColumn>,
    pub ignored: Vec<String>,
}

/// Resolves fields: mapping entries first, then the format's own aliases, then the common
/// aliases; a header serves one field only.
pub(crate) fn resolve(
    headers: &[String],
    format: Format,
    mapping: Option<&Mapping>,
    file: &str,
) -> Result<Columns, ImportError> {
    let norm: Vec<String> = headers.iter().map(|h| normalize(h)).collect();
    let mut by_name: HashMap<&str, usize> = HashMap::new();
    for (i, n) in norm.iter().enumerate() {
        if !n.is_empty() {
            by_name.entry(n.as_str()).or_insert(i);
        }
    }
    let mut cols: [Vec<usize>; Field::COUNT] = std::array::from_fn(|_| Vec::new());
    let mut claimed = vec![false; headers.len()];
    let found = || redact_headers(headers);

    if let Some(m) = mapping {
        for (field, names) in &m.columns {
            for name in names {
                if let Some(&i) = by_name.get(normalize(name).as_str()) {
                    cols[*field as usize].push(i);
                    claimed[i] = true;
                }
            }
            if cols[*field as usize].is_empty() {
                return Err(ImportError::MappedColumnMissing {
                    file: file.to_string(),
                    field: field.name().to_string(),
                    header: names.join("' or '"),
                    found: found(),
                });
            }
        }
    }
    for table in [format.aliases(), COMMON] {
        for (field, aliases) in table {
            if !cols[*field as usize].is_empty() {
                continue;
            }
            let hit = aliases.iter().find_map(|a| by_name.get(normalize(a).as_str()).copied().filter(|&i| !claimed[i]));
            if let Some(i) = hit {
                cols[*field as usize].push(i);
                claimed[i] = true;
            }
        }
    }
    if cols[Field::Email as usize].is_empty()
        && cols[Field::Phone as usize].is_empty()
        && cols[Field::Mobile as usize].is_empty()
    {
        let mut expected: Vec<&str> = Vec::new();
        for table in [format.aliases(), COMMON] {
            for (field, aliases) in table {
                if matches!(field, Field::Email | Field::Phone | Field::Mobile) {
                    // Names that differ only in case or punctuation are one name to the reader.
                    for a in aliases.iter() {
                        if !expected.iter().any(|e| normalize(e) == normalize(a)) {
                            expected.push(a);
                        }
                    }
                }
            }
        }
        return Err(ImportError::NoContactColumn {
            file: file.to_string(),
            found: found(),
            expected: expected.join(", "),
        });
    }

    let mut perms = Vec::new();
    let find = |name: &str| by_name.get(normalize(name).as_str()).copied();
    match mapping.filter(|m| !m.permissions.is_empty()) {
        Some(m) => {
            for p in &m.permissions {
                let index = find(&p.column).ok_or_else(|| ImportError::MappedColumnMissing {
                    file: file.to_string(),
                    field: "permissions.column".into(),
                    header: p.column.clone(),
                    found: found(),
                })?;
                let date_index = match &p.date_column {
                    Some(d) => Some(find(d).ok_or_else(|| ImportError::MappedColumnMissing {
                        file: file.to_string(),
                        field: "permissions.date_column".into(),
                        header: d.clone(),
                        found: found(),
                    })?),
                    None => None,
                };
                claimed[index] = true;
                if let Some(d) = date_index {
                    claimed[d] = true;
                }
                let label = p.label.clone().unwrap_or_else(|| headers[index].trim().to_string());
                perms.push(PermCol {
                    index,
                    channel: p.channel,
                    label,
                    opt_out: p.opt_out,
                    lenient: false,
                    empty_is_no: false,
                    date_index,
                });
            }
        }
        None => {
            for (i, h) in headers.iter().enumerate() {
                if claimed[i] {
                    continue;
                }
                if let Some(g) = format.permission_column(h.trim()) {
                    claimed[i] = true;
                    perms.push(PermCol {
                        index: i,
                        channel: g.channel,
                        label: g.label,
                        opt_out: g.opt_out,
                        lenient: g.lenient,
                        empty_is_no: g.empty_is_no,
                        date_index: None,
                    });
                }
            }
        }
    }

    let mut matches = Vec::new();
    for field in Field::ALL {
        for &index in &cols[field as usize] {
            matches.push(ColumnMatch { field: field.name(), header: headers[index].clone(), index });
        }
    }
    matches.sort_by_key(|m| m.index);
    let permission_columns = perms
        .iter()
        .map(|p| PermissionColumn {
            header: headers[p.index].clone(),
            index: p.index,
            channel: p.channel,
            label: p.label.clone(),
            opt_out: p.opt_out,
            date_header: p.date_index.map(|d| headers[d].clone()),
        })
        .collect();
    let ignored = headers.iter().zip(&claimed).filter(|(_, c)| !**c).map(|(h, _)| h.clone()).collect();
    Ok(Columns { cols, perms, matches, permission_columns, ignored })
}
