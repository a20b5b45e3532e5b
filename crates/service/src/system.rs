//! The production clock and entropy source (the only place that reads the system clock and the OS RNG).

use jiff::Timestamp;
use konsent_domain::time::{Clock, Entropy};

/// Wall-clock time.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[expect(clippy::disallowed_methods, reason = "the one production clock")]
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// The operating system's CSPRNG.
#[derive(Debug, Default, Clone, Copy)]
pub struct OsEntropy;

impl Entropy for OsEntropy {
    #[expect(clippy::disallowed_methods, reason = "the one production entropy source")]
    fn fill(&self, buf: &mut [u8]) {
        getrandom::fill(buf).expect("the operating system random source is unavailable");
    }
}
