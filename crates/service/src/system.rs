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

/// Bytes fetched from the OS at once for small requests (ids, nonces, keys): an import asks for
/// five such values per row, and a system call each was a visible share of its time. Every byte
/// still comes from the OS generator and is handed out once.
const POOL: usize = 4096;

thread_local! {
    static POOLED: std::cell::RefCell<(Box<[u8; POOL]>, usize)> = std::cell::RefCell::new((Box::new([0; POOL]), POOL));
}

impl Entropy for OsEntropy {
    #[expect(clippy::disallowed_methods, reason = "the one production entropy source")]
    fn fill(&self, buf: &mut [u8]) {
        let os = |b: &mut [u8]| getrandom::fill(b).expect("the operating system random source is unavailable");
        if buf.len() > POOL / 16 {
            return os(buf);
        }
        POOLED.with_borrow_mut(|(pool, used)| {
            if POOL - *used < buf.len() {
                os(&mut pool[..]);
                *used = 0;
            }
            buf.copy_from_slice(&pool[*used..*used + buf.len()]);
            // Handed out: never again.
            pool[*used..*used + buf.len()].fill(0);
            *used += buf.len();
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pooled_entropy_never_repeats_and_large_requests_go_straight_to_the_os() {
        let mut seen = std::collections::HashSet::new();
        for _ in 0..2 * POOL / 16 {
            let mut b = [0u8; 16];
            OsEntropy.fill(&mut b);
            assert!(seen.insert(b), "a 16-byte value came twice");
        }
        let mut big = vec![0u8; POOL];
        OsEntropy.fill(&mut big);
        assert!(big.iter().any(|b| *b != 0));
    }
}
