//! Signup forms: which consent text version a hosted page shows and which channels it offers, each
//! as its own unticked checkbox (R4–R9).

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::channel::Channel;
use crate::consent::DeclarationRecipient;
use crate::ids::TextId;

/// A form definition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormDef {
    /// Public name in the URL `/f/{slug}`: 3-60 of `a-z`, `0-9`, `-`.
    pub slug: String,
    /// The published consent text shown in full.
    pub text_id: TextId,
    /// Channels offered, each its own unticked box; must lie within the text's scope.
    pub channels: BTreeSet<Channel>,
    /// Heading of the page.
    pub title: String,
    /// Origins whose pages may embed the form in an iframe (`https://www.makler.de`); none = only
    /// the hosted page.
    #[serde(default)]
    pub embed_origins: BTreeSet<String>,
    /// Ask the browser for a small proof of work before a submission counts (needs JavaScript).
    #[serde(default)]
    pub proof_of_work: bool,
    /// Who receives the declarations the form takes, for its phone consents (R20): the
    /// organisation and the code of the form. Set when a form offering calls is defined.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub declaration_recipient: Option<DeclarationRecipient>,
}

impl FormDef {
    /// Whether the form offers phone advertising (live or automated calls), whose consents need
    /// the residential address and the recipient of the declaration (R20).
    pub fn offers_calls(&self) -> bool {
        self.channels.iter().any(|c| c.is_phone())
    }
}

/// Leading zero bits the proof of work needs (about 16,000 hashes in a browser, one to check).
pub const POW_BITS: u32 = 14;

/// Whether `SHA-256("{challenge}:{answer}")` starts with [`POW_BITS`] zero bits.
pub fn pow_ok(challenge: &str, answer: &str) -> bool {
    use sha2::{Digest, Sha256};
    if answer.is_empty() || answer.len() > 20 || !answer.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let h = Sha256::digest(format!("{challenge}:{answer}").as_bytes());
    let lead = u32::from_be_bytes([h[0], h[1], h[2], h[3]]);
    lead.leading_zeros() >= POW_BITS
}

/// Checks an embedding origin: `https://host` or `https://host:port` (http only for localhost).
pub fn check_origin(o: &str) -> bool {
    let rest = if let Some(r) = o.strip_prefix("https://") {
        r
    } else if let Some(r) = o.strip_prefix("http://") {
        if !(r.starts_with("localhost") || r.starts_with("127.0.0.1")) {
            return false;
        }
        r
    } else {
        return false;
    };
    !rest.is_empty()
        && rest.len() <= 253
        && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || b == b':')
}

/// Why a slug is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "Kurzname: 3 bis 60 Zeichen aus a-z, 0-9 und '-', nicht am Anfang oder Ende / slug must be 3-60 characters of a-z, 0-9 and '-', not starting or ending with '-'"
)]
pub struct BadSlug;

/// Checks a slug.
pub fn check_slug(s: &str) -> Result<(), BadSlug> {
    let ok = (3..=60).contains(&s.len())
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-');
    if ok { Ok(()) } else { Err(BadSlug) }
}

#[cfg(test)]
mod tests {
    use super::{check_origin, check_slug};

    #[test]
    fn pow_needs_the_work() {
        let answer = (0u64..).find(|n| super::pow_ok("abc", &n.to_string())).unwrap();
        assert!(super::pow_ok("abc", &answer.to_string()));
        let passing = (0u64..2000).filter(|n| super::pow_ok("abc", &n.to_string())).count();
        assert!(passing < 10, "about one in 16,384 answers passes: {passing} of 2,000");
        assert!(!super::pow_ok("abc", "") && !super::pow_ok("abc", "x1"));
    }

    #[test]
    fn origins() {
        assert!(check_origin("https://www.makler.de") && check_origin("https://makler.de:8443"));
        assert!(check_origin("http://localhost:3000"));
        for bad in ["http://makler.de", "https://makler.de/path", "javascript:x", "https://a b", "*", "https://x;y"] {
            assert!(!check_origin(bad), "{bad}");
        }
    }

    #[test]
    fn slugs() {
        assert!(check_slug("newsletter-2026").is_ok());
        for bad in ["ab", "Newsletter", "-x-y", "x y z", "ä-form", &"a".repeat(61)] {
            assert!(check_slug(bad).is_err(), "{bad}");
        }
    }
}
