//! E-mail addresses: parsed once into a normalised [`EmailAddress`]; display-name forms and IP literals are refused.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Longest input we even try to parse (RFC 5321 path limit is 256).
const MAX_LEN: usize = 320;

/// Why a text is not an acceptable e-mail address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    /// Nothing was given.
    #[error("E-Mail-Adresse fehlt / e-mail address is empty")]
    Empty,
    /// Too long to be an address.
    #[error("E-Mail-Adresse ist länger als {MAX_LEN} Zeichen / e-mail address is longer than {MAX_LEN} characters")]
    TooLong,
    /// `Name <a@b.de>` forms are not accepted: only the bare address.
    #[error(
        "E-Mail-Adresse bitte ohne Namen angeben / e-mail address must be given without a display name (found 'Name <…>' form)"
    )]
    DisplayName,
    /// `a@[192.0.2.1]` forms are not accepted.
    #[error(
        "E-Mail-Adresse mit IP-Adresse statt Domain ist nicht erlaubt / e-mail address must not use an IP-literal domain"
    )]
    DomainLiteral,
    /// Domain without a dot, e.g. `a@localhost`.
    #[error(
        "E-Mail-Domain unvollständig (z. B. example.de) / e-mail domain needs at least two labels (e.g. example.de)"
    )]
    NoTopLevelDomain,
    /// Anything else the RFC parser refuses.
    #[error("E-Mail-Adresse ist ungültig / e-mail address is malformed: {0}")]
    Malformed(String),
}

/// A syntactically valid e-mail address, normalised: trimmed, domain lower-cased.
/// The local part keeps its case (RFC 5321), matching uses [`EmailAddress::match_key`].
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EmailAddress(String);

impl EmailAddress {
    /// Parses user input strictly.
    pub fn parse(input: &str) -> Result<Self, EmailError> {
        let s = input.trim();
        if s.is_empty() {
            return Err(EmailError::Empty);
        }
        if s.len() > MAX_LEN {
            return Err(EmailError::TooLong);
        }
        if s.contains('<') || s.contains('>') {
            return Err(EmailError::DisplayName);
        }
        if s.contains('[') || s.contains(']') {
            return Err(EmailError::DomainLiteral);
        }
        let opts =
            email_address::Options::default().with_required_tld().without_display_text().without_domain_literal();
        match email_address::EmailAddress::parse_with_options(s, opts) {
            Ok(_) => {}
            Err(email_address::Error::DomainTooFew) => return Err(EmailError::NoTopLevelDomain),
            Err(email_address::Error::UnsupportedDisplayName) => {
                return Err(EmailError::DisplayName);
            }
            Err(email_address::Error::UnsupportedDomainLiteral) => {
                return Err(EmailError::DomainLiteral);
            }
            Err(e) => return Err(EmailError::Malformed(e.to_string())),
        }
        let (local, domain) = s.rsplit_once('@').ok_or(EmailError::Malformed("missing '@'".into()))?;
        if domain.starts_with('-') || domain.split('.').any(|l| l.is_empty() || l.ends_with('-')) {
            return Err(EmailError::Malformed("invalid domain label".into()));
        }
        Ok(Self(format!("{local}@{}", domain.to_lowercase())))
    }

    /// The address as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The key used for matching and blind indexing: whole address lower-cased.
    /// (Practically every provider treats local parts case-insensitively.)
    pub fn match_key(&self) -> String {
        self.0.to_lowercase()
    }

    /// The domain part.
    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map(|(_, d)| d).unwrap_or("")
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
/// Deliberately redacted: addresses must not reach logs through `{:?}`.
impl fmt::Debug for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EmailAddress(<redacted>)")
    }
}
impl FromStr for EmailAddress {
    type Err = EmailError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}
impl TryFrom<String> for EmailAddress {
    type Error = EmailError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}
impl From<EmailAddress> for String {
    fn from(e: EmailAddress) -> String {
        e.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_and_normalises() {
        let e = EmailAddress::parse("  Anna.Meier@Example.DE ").unwrap();
        assert_eq!(e.as_str(), "Anna.Meier@example.de");
        assert_eq!(e.match_key(), "anna.meier@example.de");
        assert!(EmailAddress::parse("jörg@bücher.example").is_ok());
        assert!(EmailAddress::parse("jorg@xn--bcher-kva.example").is_ok());
    }

    #[test]
    fn rejects_display_names_literals_and_garbage() {
        assert_eq!(EmailAddress::parse("Anna <a@b.de>"), Err(EmailError::DisplayName));
        assert_eq!(EmailAddress::parse("<a@b.de>"), Err(EmailError::DisplayName));
        assert_eq!(EmailAddress::parse("a@[192.0.2.1]"), Err(EmailError::DomainLiteral));
        assert_eq!(EmailAddress::parse("a@localhost"), Err(EmailError::NoTopLevelDomain));
        assert_eq!(EmailAddress::parse(""), Err(EmailError::Empty));
        for bad in ["a..b@c.de", "a b@c.de", "x@y@z.de", "@b.de", "a@", "a@b..de", "a@-b.de"] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad} accepted");
        }
        assert_eq!(EmailAddress::parse(&"a".repeat(400)), Err(EmailError::TooLong));
    }

    #[test]
    fn debug_does_not_leak() {
        let e = EmailAddress::parse("a@b.de").unwrap();
        assert!(!format!("{e:?}").contains("a@b"));
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,80}") {
            let _ = EmailAddress::parse(&s);
        }

        #[test]
        fn round_trips(local in "[a-z0-9][a-z0-9._+-]{0,20}[a-z0-9]", dom in "[a-z][a-z0-9-]{0,10}[a-z0-9]", tld in "[a-z]{2,6}") {
            prop_assume!(!local.contains(".."));
            let s = format!("{local}@{dom}.{tld}");
            let e = EmailAddress::parse(&s).unwrap();
            prop_assert_eq!(e.as_str(), s.as_str());
            let again = EmailAddress::parse(e.as_str()).unwrap();
            prop_assert_eq!(again, e);
        }
    }
}
