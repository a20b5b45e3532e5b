//! Sniffing a file's first 64 KiB: byte-order mark, encoding, delimiter and line ending.

use std::io::{self, Read};

use serde::Serialize;

/// How many bytes the encoding and delimiter are guessed from.
pub const SNIFF_LEN: usize = 64 * 1024;

/// Text encoding of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Encoding {
    /// UTF-8 (with or without BOM).
    #[serde(rename = "utf-8")]
    Utf8,
    /// Windows-1252 (the usual "ANSI" of German Excel and broker software).
    #[serde(rename = "windows-1252")]
    Windows1252,
    /// UTF-16 little endian with BOM (Excel's "Unicode text").
    #[serde(rename = "utf-16le")]
    Utf16Le,
    /// UTF-16 big endian with BOM.
    #[serde(rename = "utf-16be")]
    Utf16Be,
}

impl Encoding {
    /// Parses `utf-8` or `windows-1252` (also `cp1252`, `latin1`, `ansi`) as a mapping file writes them.
    pub fn from_name(name: &str) -> Option<Self> {
        match name.trim().to_ascii_lowercase().replace('_', "-").as_str() {
            "utf-8" | "utf8" => Some(Self::Utf8),
            "windows-1252" | "cp1252" | "latin1" | "latin-1" | "iso-8859-1" | "ansi" => Some(Self::Windows1252),
            _ => None,
        }
    }

    /// Stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Utf8 => "utf-8",
            Self::Windows1252 => "windows-1252",
            Self::Utf16Le => "utf-16le",
            Self::Utf16Be => "utf-16be",
        }
    }
}

/// Line ending of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LineEnding {
    /// `\n`.
    Lf,
    /// `\r\n`.
    CrLf,
    /// `\r` alone (old Mac files).
    Cr,
}

/// Reads up to `n` bytes (fewer only at end of input).
pub(crate) fn read_prefix<R: Read + ?Sized>(r: &mut R, n: usize) -> io::Result<Vec<u8>> {
    let mut buf = Vec::with_capacity(n);
    r.take(n as u64).read_to_end(&mut buf)?;
    Ok(buf)
}

/// A byte-order mark at the start of the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Bom {
    None,
    Utf8,
    Utf16Le,
    Utf16Be,
}

pub(crate) fn bom(prefix: &[u8]) -> Bom {
    if prefix.starts_with(&[0xEF, 0xBB, 0xBF]) {
        Bom::Utf8
    } else if prefix.starts_with(&[0xFF, 0xFE]) {
        Bom::Utf16Le
    } else if prefix.starts_with(&[0xFE, 0xFF]) {
        Bom::Utf16Be
    } else {
        Bom::None
    }
}

/// UTF-8 when the prefix is valid UTF-8 (a sequence cut off at the end of the prefix counts
/// as valid), Windows-1252 otherwise.
pub(crate) fn guess_encoding(prefix: &[u8]) -> Encoding {
    match std::str::from_utf8(prefix) {
        Ok(_) => Encoding::Utf8,
        Err(e) if e.error_len().is_none() => Encoding::Utf8,
        Err(_) => Encoding::Windows1252,
    }
}

/// The header line (without its terminator) and the line ending after it.
fn header_line(prefix: &[u8]) -> (&[u8], Option<LineEnding>) {
    let mut quoted = false;
    for (i, &b) in prefix.iter().enumerate() {
        match b {
            b'"' => quoted = !quoted,
            b'\n' if !quoted => {
                let crlf = i > 0 && prefix[i - 1] == b'\r';
                let end = if crlf { i - 1 } else { i };
                return (&prefix[..end], Some(if crlf { LineEnding::CrLf } else { LineEnding::Lf }));
            }
            b'\r' if !quoted && prefix.get(i + 1) != Some(&b'\n') && i + 1 < prefix.len() => {
                return (&prefix[..i], Some(LineEnding::Cr));
            }
            _ => {}
        }
    }
    (prefix, None)
}

/// The delimiter (`,`, `;` or tab) that occurs most often outside quotes in the header line
/// (`,` when none does), and the line ending (LF when the prefix holds a single line).
pub(crate) fn delimiter_and_line_ending(prefix: &[u8]) -> (u8, LineEnding) {
    let (line, ending) = header_line(prefix);
    let mut counts = [0usize; 3];
    let mut quoted = false;
    for &b in line {
        match b {
            b'"' => quoted = !quoted,
            b',' if !quoted => counts[0] += 1,
            b';' if !quoted => counts[1] += 1,
            b'\t' if !quoted => counts[2] += 1,
            _ => {}
        }
    }
    let delims = [b',', b';', b'\t'];
    let mut best = 0;
    for i in 1..3 {
        if counts[i] > counts[best] {
            best = i;
        }
    }
    (delims[best], ending.unwrap_or(LineEnding::Lf))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delimiter_counts_outside_quotes_only() {
        assert_eq!(delimiter_and_line_ending(b"a;\"b,c,d\";e\r\n1;2;3").0, b';');
        assert_eq!(delimiter_and_line_ending(b"\"a;b\",c\n").0, b',');
        assert_eq!(delimiter_and_line_ending(b"a\tb\tc\n").0, b'\t');
        assert_eq!(delimiter_and_line_ending(b"email\n").0, b',');
    }

    #[test]
    fn line_endings() {
        assert_eq!(delimiter_and_line_ending(b"a;b\r\n1;2\r\n").1, LineEnding::CrLf);
        assert_eq!(delimiter_and_line_ending(b"a;b\n1;2\n").1, LineEnding::Lf);
        assert_eq!(delimiter_and_line_ending(b"a;b\r1;2\r").1, LineEnding::Cr);
    }

    #[test]
    fn utf8_cut_at_prefix_end_is_still_utf8() {
        let s = "Jürgen".as_bytes();
        assert_eq!(guess_encoding(&s[..2]), Encoding::Utf8);
        assert_eq!(guess_encoding(b"J\xfcrgen"), Encoding::Windows1252);
    }
}
