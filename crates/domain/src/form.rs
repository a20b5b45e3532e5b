//! Signup forms: which consent text version a hosted page shows and which channels it offers, each
//! as its own unticked checkbox (R4–R9).

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::channel::Channel;
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
}

/// Why a slug is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("slug must be 3-60 characters of a-z, 0-9 and '-', not starting or ending with '-'")]
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
    use super::check_slug;

    #[test]
    fn slugs() {
        assert!(check_slug("newsletter-2026").is_ok());
        for bad in ["ab", "Newsletter", "-x-y", "x y z", "ä-form", &"a".repeat(61)] {
            assert!(check_slug(bad).is_err(), "{bad}");
        }
    }
}
