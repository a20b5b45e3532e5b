//! CSV cells: formula neutralizing (OWASP CSV injection), quoting per tool, and row assembly.

use std::borrow::Cow;

/// Neutralizes a spreadsheet formula: a cell starting with `=`, `+`, `-`, `@`, tab or carriage
/// return gets a leading `'`, so Excel, LibreOffice and Google Sheets show it as text instead of
/// evaluating it (OWASP "CSV Injection"). Other cells come back unchanged and unallocated.
pub fn neutralize_cell(s: &str) -> Cow<'_, str> {
    match s.as_bytes().first() {
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r') => Cow::Owned(format!("'{s}")),
        _ => Cow::Borrowed(s),
    }
}

/// Like [`neutralize_cell`], but a valid E.164 number (`+4930…`) stays as it is: dialers and
/// newsletter tools need the `+`, and digits alone cannot form a formula.
pub fn neutralize_phone_cell(s: &str) -> Cow<'_, str> {
    if is_e164(s) { Cow::Borrowed(s) } else { neutralize_cell(s) }
}

/// True for `+` followed by 7 to 15 digits, the first of them not 0 (a country code never starts with 0).
pub fn is_e164(s: &str) -> bool {
    match s.as_bytes() {
        [b'+', b'1'..=b'9', rest @ ..] => (6..=14).contains(&rest.len()) && rest.iter().all(u8::is_ascii_digit),
        _ => false,
    }
}

/// How one tool's CSV looks.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CsvStyle {
    /// Field delimiter.
    pub delimiter: u8,
    /// Quote a field that contains a space or tab, as PHP's `fputcsv` does (Mailchimp and
    /// HubSpot files); otherwise only where needed (delimiter, quote, line break).
    pub quote_blanks: bool,
    /// Record terminator.
    pub line_end: &'static [u8],
    /// Start the file with a UTF-8 byte order mark (Excel then reads UTF-8).
    pub bom: bool,
}

/// Builds one record into a reusable buffer, so a row is written whole or not at all.
pub(crate) struct Row<'a> {
    buf: &'a mut Vec<u8>,
    style: CsvStyle,
    first: bool,
}

impl<'a> Row<'a> {
    /// Starts a record at the end of `buf`.
    pub fn new(buf: &'a mut Vec<u8>, style: CsvStyle) -> Self {
        Self { buf, style, first: true }
    }

    /// A text cell, neutralized.
    pub fn cell(&mut self, s: &str) {
        self.raw(&neutralize_cell(s));
    }

    /// An optional text cell, neutralized; empty when absent.
    pub fn opt(&mut self, s: &Option<String>) {
        self.cell(s.as_deref().unwrap_or(""));
    }

    /// A phone cell: a valid E.164 number as is, anything else neutralized.
    pub fn phone(&mut self, s: Option<&str>) {
        self.raw(&neutralize_phone_cell(s.unwrap_or("")));
    }

    /// A cell written as given (header names, dates, fixed values), only quoted where needed.
    pub fn raw(&mut self, s: &str) {
        if !self.first {
            self.buf.push(self.style.delimiter);
        }
        self.first = false;
        let d = self.style.delimiter;
        let blanks = self.style.quote_blanks;
        let needs_quotes =
            s.bytes().any(|b| b == d || b == b'"' || b == b'\n' || b == b'\r' || (blanks && (b == b' ' || b == b'\t')));
        if !needs_quotes {
            self.buf.extend_from_slice(s.as_bytes());
            return;
        }
        self.buf.push(b'"');
        for part in s.split_inclusive('"') {
            self.buf.extend_from_slice(part.as_bytes());
            if part.ends_with('"') {
                self.buf.push(b'"');
            }
        }
        self.buf.push(b'"');
    }

    /// Ends the record.
    pub fn end(self) {
        self.buf.extend_from_slice(self.style.line_end);
    }
}

/// Appends the start of a file: the byte order mark where the style wants one, then the header record.
pub(crate) fn header(buf: &mut Vec<u8>, style: CsvStyle, names: &[&str]) {
    if style.bom {
        buf.extend_from_slice("\u{feff}".as_bytes());
    }
    let mut row = Row::new(buf, style);
    for name in names {
        row.raw(name);
    }
    row.end();
}

#[cfg(test)]
mod tests {
    use super::*;

    const PHP: CsvStyle = CsvStyle { delimiter: b',', quote_blanks: true, line_end: b"\n", bom: false };
    const MIN: CsvStyle = CsvStyle { delimiter: b';', quote_blanks: false, line_end: b"\r\n", bom: false };

    fn line(style: CsvStyle, cells: &[&str]) -> String {
        let mut buf = Vec::new();
        let mut row = Row::new(&mut buf, style);
        cells.iter().for_each(|c| row.raw(c));
        row.end();
        String::from_utf8(buf).unwrap()
    }

    #[test]
    fn quoting_follows_the_style() {
        assert_eq!(line(PHP, &["Email Address", "Tags", "a,b", "x\"y"]), "\"Email Address\",Tags,\"a,b\",\"x\"\"y\"\n");
        assert_eq!(
            line(MIN, &["Schloßstraße 12", "a;b", "say \"hi\"", ""]),
            "Schloßstraße 12;\"a;b\";\"say \"\"hi\"\"\";\r\n"
        );
    }

    #[test]
    fn e164_bounds() {
        assert!(is_e164("+4930231250"));
        assert!(is_e164("+1234567"));
        assert!(is_e164("+123456789012345"));
        assert!(!is_e164("+123456"));
        assert!(!is_e164("+1234567890123456"));
        assert!(!is_e164("+0301234567"));
        assert!(!is_e164("+49 30 1234567"));
        assert!(!is_e164("+49301234567=1"));
        assert!(!is_e164("4930123456"));
        assert!(!is_e164("+"));
    }
}
