//! The user's mapping file (TOML): column names, status values, date formats and time zone.
//! The file format is documented with an example in the module docs of [`crate::import`].

use std::collections::BTreeMap;
use std::path::Path;

use jiff::tz::TimeZone;
use konsent_domain::channel::Channel;
use serde::Deserialize;

use super::error::ImportError;
use super::fields::{Field, normalize};
use super::row::SourceStatus;
use super::sniff::Encoding;

/// A parsed mapping file. It overrides the defaults of every format.
#[derive(Debug, Clone, Default)]
pub struct Mapping {
    pub(crate) columns: BTreeMap<Field, Vec<String>>,
    pub(crate) status_values: BTreeMap<String, SourceStatus>,
    pub(crate) status_default: Option<SourceStatus>,
    pub(crate) time_zone: Option<TimeZone>,
    pub(crate) date_format: Option<String>,
    pub(crate) datetime_format: Option<String>,
    pub(crate) delimiter: Option<u8>,
    pub(crate) encoding: Option<Encoding>,
    pub(crate) permissions: Vec<PermissionSpec>,
}

/// One `[[permissions]]` entry of a mapping file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PermissionSpec {
    pub column: String,
    pub channel: Channel,
    pub date_column: Option<String>,
    pub opt_out: bool,
    pub label: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMapping {
    time_zone: Option<String>,
    date_format: Option<String>,
    datetime_format: Option<String>,
    delimiter: Option<String>,
    encoding: Option<String>,
    status_default: Option<String>,
    #[serde(default)]
    columns: BTreeMap<String, OneOrMany>,
    #[serde(default)]
    status_values: BTreeMap<String, String>,
    #[serde(default)]
    permissions: Vec<RawPermission>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPermission {
    column: String,
    channel: String,
    date_column: Option<String>,
    #[serde(default)]
    opt_out: bool,
    label: Option<String>,
}

fn bad(msg: String) -> ImportError {
    ImportError::Mapping(msg)
}

fn status_code(key: &str, value: &str) -> Result<SourceStatus, ImportError> {
    SourceStatus::from_code(value).ok_or_else(|| {
        bad(format!(
            "{key} = \"{value}\" is not a status (expected subscribed, pending, unsubscribed, cleaned, complained or non_subscribed)"
        ))
    })
}

impl Mapping {
    /// Parses a mapping file. Unknown keys, unknown field names under `[columns]`, unknown
    /// statuses, channels, encodings, delimiters and time zones are errors naming the key.
    pub fn parse(text: &str) -> Result<Mapping, ImportError> {
        let raw: RawMapping = toml::from_str(text).map_err(|e| bad(e.to_string().trim_end().to_string()))?;
        let mut m = Mapping::default();
        for (key, names) in raw.columns {
            let field = Field::from_name(&key).ok_or_else(|| {
                let known: Vec<&str> = Field::ALL.iter().map(|f| f.name()).collect();
                bad(format!("unknown key `columns.{key}` (our fields are: {})", known.join(", ")))
            })?;
            let names = match names {
                OneOrMany::One(n) => vec![n],
                OneOrMany::Many(v) => v,
            };
            if names.iter().all(|n| normalize(n).is_empty()) {
                return Err(bad(format!("`columns.{key}` names no header")));
            }
            m.columns.insert(field, names);
        }
        for (value, code) in raw.status_values {
            let status = status_code(&format!("status_values.\"{value}\""), &code)?;
            m.status_values.insert(value.trim().to_lowercase(), status);
        }
        if let Some(code) = raw.status_default {
            m.status_default = Some(status_code("status_default", &code)?);
        }
        if let Some(tz) = raw.time_zone {
            m.time_zone = Some(
                TimeZone::get(&tz).map_err(|e| bad(format!("time_zone = \"{tz}\" is not a known time zone: {e}")))?,
            );
        }
        m.date_format = raw.date_format;
        m.datetime_format = raw.datetime_format;
        if let Some(d) = raw.delimiter {
            m.delimiter = Some(match d.as_str() {
                "," => b',',
                ";" => b';',
                "\t" | "tab" | "\\t" => b'\t',
                "|" => b'|',
                _ => return Err(bad(format!("delimiter = \"{d}\" (expected \",\", \";\", \"tab\" or \"|\")"))),
            });
        }
        if let Some(e) = raw.encoding {
            m.encoding = Some(
                Encoding::from_name(&e)
                    .ok_or_else(|| bad(format!("encoding = \"{e}\" (expected \"utf-8\" or \"windows-1252\")")))?,
            );
        }
        for (i, p) in raw.permissions.into_iter().enumerate() {
            let channel = p.channel.parse::<Channel>().map_err(|e| bad(format!("permissions[{i}].channel: {e}")))?;
            m.permissions.push(PermissionSpec {
                column: p.column,
                channel,
                date_column: p.date_column,
                opt_out: p.opt_out,
                label: p.label,
            });
        }
        Ok(m)
    }

    /// Reads and parses a mapping file.
    pub fn from_path(path: &Path) -> Result<Mapping, ImportError> {
        let text = std::fs::read_to_string(path).map_err(|e| ImportError::io(path.display().to_string(), e))?;
        Mapping::parse(&text)
    }

    /// The header names the mapping gives for a field, if any.
    pub fn columns_for(&self, field: Field) -> Option<&[String]> {
        self.columns.get(&field).map(Vec::as_slice)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_example_parses() {
        let m = Mapping::parse(include_str!("../../testdata/mapping-example.toml")).expect("example parses");
        assert_eq!(m.columns_for(Field::Email), Some(&["Mailadresse".to_string()][..]));
        assert_eq!(m.status_values.get("aktiv"), Some(&SourceStatus::Subscribed));
        assert_eq!(m.delimiter, Some(b';'));
    }

    #[test]
    fn unknown_keys_are_named() {
        let e = Mapping::parse("time_zone = \"Europe/Berlin\"\nzeitzone = \"x\"\n").expect_err("unknown key");
        assert!(e.to_string().contains("zeitzone"), "{e}");
        let e = Mapping::parse("[columns]\nemial = \"E-Mail\"\n").expect_err("unknown field");
        assert!(e.to_string().contains("columns.emial"), "{e}");
        let e = Mapping::parse("[[permissions]]\ncolumn = \"x\"\nchannel = \"email\"\ncolour = 1\n").expect_err("key");
        assert!(e.to_string().contains("colour"), "{e}");
    }

    #[test]
    fn bad_values_are_named() {
        let e = Mapping::parse("[status_values]\naktiv = \"active\"\n").expect_err("status");
        assert!(e.to_string().contains("aktiv"), "{e}");
        let e = Mapping::parse("time_zone = \"Mars/Olympus\"\n").expect_err("zone");
        assert!(e.to_string().contains("Mars/Olympus"), "{e}");
        let e = Mapping::parse("[[permissions]]\ncolumn = \"x\"\nchannel = \"telefon\"\n").expect_err("channel");
        assert!(e.to_string().contains("permissions[0].channel"), "{e}");
    }
}
