//! A bounded memo of phone-number normalisation for the API. Parsing and validating a number
//! against the numbering plan is the costliest step of a check (about a fifth of its CPU), and
//! dialers check the same numbers again before every attempt. The memo holds only what
//! [`PhoneE164::parse`] would answer, so it can never disagree with it.

use std::collections::HashMap;
use std::sync::{OnceLock, RwLock};

use konsent_domain::contact::{PhoneE164, PhoneError};

/// Entries kept before the memo starts over.
const MAX_ENTRIES: usize = 65_536;

type Memo = RwLock<HashMap<Box<str>, Result<PhoneE164, PhoneError>>>;

fn memo() -> &'static Memo {
    static MEMO: OnceLock<Memo> = OnceLock::new();
    MEMO.get_or_init(Default::default)
}

/// [`PhoneE164::parse`], remembered.
pub fn parse(raw: &str) -> Result<PhoneE164, PhoneError> {
    if let Some(r) = memo().read().unwrap_or_else(|e| e.into_inner()).get(raw) {
        return r.clone();
    }
    let r = PhoneE164::parse(raw);
    if raw.len() <= 64 {
        let mut m = memo().write().unwrap_or_else(|e| e.into_inner());
        if m.len() >= MAX_ENTRIES {
            m.clear();
        }
        m.insert(raw.into(), r.clone());
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_exactly_like_the_parser() {
        for raw in ["030 1234567", "+49 (0)30 1234567", "0049 30 1234567", "kein Anschluss", "", "+49 1"] {
            for _ in 0..2 {
                assert_eq!(parse(raw), PhoneE164::parse(raw), "{raw}");
            }
        }
    }
}
