//! Phone numbers: parsed with the `phonenumber` crate (German default region) into [`PhoneE164`].

use std::fmt;
use std::str::FromStr;

use phonenumber::{Mode, country};
use serde::{Deserialize, Serialize};

/// Longer inputs are refused before parsing (the parser is slow on huge inputs).
const MAX_LEN: usize = 40;

/// Why a text is not an acceptable phone number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    /// Nothing was given.
    #[error("Telefonnummer fehlt / phone number is empty")]
    Empty,
    /// Longer than any phone number.
    #[error("Telefonnummer ist länger als {MAX_LEN} Zeichen / phone number is longer than {MAX_LEN} characters")]
    TooLong,
    /// Contains letters or symbols that are not part of a phone number.
    #[error("Telefonnummer enthält ein ungültiges Zeichen '{0}' / phone number contains an invalid character '{0}'")]
    InvalidCharacter(char),
    /// The digits do not form a number.
    #[error("Telefonnummer ist ungültig / phone number is not a valid number: {0}")]
    Invalid(String),
}

/// What kind of line a number is (from the numbering plan).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LineType {
    /// Mobile number.
    Mobile,
    /// Fixed line.
    FixedLine,
    /// Could be either, or unknown.
    Other,
}

/// A valid phone number in E.164 form (`+49301234567`).
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PhoneE164(String);

/// Maps Unicode decimal digits of common scripts to ASCII (the parser only knows ASCII).
fn ascii_digit(c: char) -> Option<char> {
    let zero = match c as u32 {
        0xFF10..=0xFF19 => 0xFF10, // full-width
        0x0660..=0x0669 => 0x0660, // Arabic-Indic
        0x06F0..=0x06F9 => 0x06F0, // Extended Arabic-Indic
        0x0966..=0x096F => 0x0966, // Devanagari
        0x1D7CE..=0x1D7FF => {
            // mathematical digits come in 5 blocks of 10
            let off = (c as u32 - 0x1D7CE) % 10;
            return char::from_digit(off, 10);
        }
        _ => return None,
    };
    char::from_digit(c as u32 - zero, 10)
}

impl PhoneE164 {
    /// Parses user input with Germany as default region: `030 1234567`,
    /// `+49 (0)30 1234567`, `0049 30 1234567`, `tel:+49-30-1234567` all give `+49301234567`.
    pub fn parse(input: &str) -> Result<Self, PhoneError> {
        let s = input.trim();
        if s.is_empty() {
            return Err(PhoneError::Empty);
        }
        if s.chars().count() > MAX_LEN {
            return Err(PhoneError::TooLong);
        }
        let s = s.strip_prefix("tel:").unwrap_or(s);
        let mut clean = String::with_capacity(s.len());
        for c in s.chars() {
            match c {
                '0'..='9' | '+' | '(' | ')' | '-' | '/' | '.' | ' ' => clean.push(c),
                '\u{a0}' | '\t' => clean.push(' '),
                c => match ascii_digit(c) {
                    Some(d) => clean.push(d),
                    None => return Err(PhoneError::InvalidCharacter(c)),
                },
            }
        }
        // "+49 (0)30 …": the trunk prefix in brackets after a country code is not dialled.
        let clean = clean.replace("(0)", "");
        if clean.chars().filter(|c| c.is_ascii_digit()).count() < 3 {
            return Err(PhoneError::Invalid("too few digits".into()));
        }
        let n = phonenumber::parse(Some(country::DE), &clean).map_err(|e| PhoneError::Invalid(e.to_string()))?;
        if !phonenumber::is_valid(&n) {
            return Err(PhoneError::Invalid("no such number in the numbering plan".into()));
        }
        Ok(Self(n.format().mode(Mode::E164).to_string()))
    }

    /// The E.164 text, e.g. `+49301234567`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether a text message may go to this number: it starts with one of the allowed prefixes
    /// (e.g. `+49`), or none are set. Keeps codes from public forms away from premium numbers
    /// abroad (SMS pumping).
    pub fn sms_allowed(&self, prefixes: &[String]) -> bool {
        prefixes.is_empty() || prefixes.iter().any(|p| self.0.starts_with(p.trim()))
    }

    /// Mobile or fixed line, as far as the numbering plan tells.
    pub fn line_type(&self) -> LineType {
        use phonenumber::Type;
        match phonenumber::parse(None, &self.0).map(|n| n.number_type(&phonenumber::metadata::DATABASE)) {
            Ok(Type::Mobile) => LineType::Mobile,
            Ok(Type::FixedLine) => LineType::FixedLine,
            _ => LineType::Other,
        }
    }

    /// National display form, e.g. `030 1234567`.
    pub fn national(&self) -> String {
        phonenumber::parse(None, &self.0)
            .map(|n| n.format().mode(Mode::National).to_string())
            .unwrap_or_else(|_| self.0.clone())
    }
}

impl fmt::Display for PhoneE164 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
/// Redacted: numbers must not reach logs through `{:?}`.
impl fmt::Debug for PhoneE164 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PhoneE164(<redacted>)")
    }
}
impl FromStr for PhoneE164 {
    type Err = PhoneError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}
impl TryFrom<String> for PhoneE164 {
    type Error = PhoneError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}
impl From<PhoneE164> for String {
    fn from(p: PhoneE164) -> String {
        p.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn german_forms_normalise_to_e164() {
        for s in [
            "030 1234567",
            "+49 (0)30 1234567",
            "0049 30 1234567",
            "+49-30-1234567",
            "030/123 45 67",
            "tel:+49-30-1234567",
            "+49 30 1234567\n",
            "０３０ １２３４５６７",
        ] {
            assert_eq!(PhoneE164::parse(s).unwrap().as_str(), "+49301234567", "{s}");
        }
        let m = PhoneE164::parse("0171 2345678").unwrap();
        assert_eq!(m.as_str(), "+491712345678");
        assert_eq!(m.line_type(), LineType::Mobile);
        assert_eq!(PhoneE164::parse("030 1234567").unwrap().line_type(), LineType::FixedLine);
    }

    #[test]
    fn garbage_is_a_typed_error() {
        assert_eq!(PhoneE164::parse(""), Err(PhoneError::Empty));
        assert_eq!(PhoneE164::parse("☎️ 030 123"), Err(PhoneError::InvalidCharacter('☎')));
        assert_eq!(PhoneE164::parse("\u{202E}030 1234567"), Err(PhoneError::InvalidCharacter('\u{202E}')));
        assert!(matches!(PhoneE164::parse("abc"), Err(PhoneError::InvalidCharacter('a'))));
        assert!(matches!(PhoneE164::parse("+49"), Err(PhoneError::Invalid(_))));
        assert!(matches!(PhoneE164::parse("00"), Err(PhoneError::Invalid(_))));
        assert_eq!(PhoneE164::parse(&"9".repeat(100_000)), Err(PhoneError::TooLong));
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,60}") {
            let _ = PhoneE164::parse(&s);
        }

        #[test]
        fn round_trips_german_mobiles(prefix in prop::sample::select(vec!["170", "171", "175"]), rest in "[1-9][0-9]{6}") {
            let input = format!("0{prefix} {rest}");
            let p = PhoneE164::parse(&input).unwrap();
            prop_assert_eq!(p.as_str(), format!("+49{prefix}{rest}"));
            prop_assert_eq!(PhoneE164::parse(p.as_str()).unwrap(), p.clone());
            prop_assert_eq!(PhoneE164::parse(&p.national()).unwrap(), p);
        }
    }

    #[test]
    fn r15_text_messages_go_only_to_the_allowed_prefixes() {
        let de = PhoneE164::parse("0171 2345678").unwrap();
        let uk = PhoneE164::parse("+44 7911 123456").unwrap();
        let dach: Vec<String> = ["+49", "+43", "+41"].iter().map(|p| p.to_string()).collect();
        assert!(de.sms_allowed(&dach));
        assert!(!uk.sms_allowed(&dach));
        assert!(uk.sms_allowed(&[]), "no prefixes set: every country");
    }
}
