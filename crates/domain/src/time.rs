//! Injected time and randomness: a [`Clock`] and an [`Entropy`] source, so tests can jump years ahead.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use jiff::{SignedDuration, Timestamp};

/// Source of the current time. Domain and service code never read the system clock directly.
pub trait Clock: Send + Sync {
    /// The current instant (UTC).
    fn now(&self) -> Timestamp;
}

/// Source of random bytes (ids, tokens, keys, nonces).
pub trait Entropy: Send + Sync {
    /// Fills `buf` with unpredictable bytes.
    fn fill(&self, buf: &mut [u8]);
}

/// A clock a test can set and move.
#[derive(Debug)]
pub struct ManualClock {
    now: Mutex<Timestamp>,
}

impl ManualClock {
    /// Starts at `t`.
    pub fn new(t: Timestamp) -> Self {
        Self { now: Mutex::new(t) }
    }
    /// Moves the clock forward (or back, with a negative duration).
    pub fn advance(&self, d: SignedDuration) {
        let mut g = self.now.lock().unwrap_or_else(|e| e.into_inner());
        *g = g.checked_add(d).unwrap_or(*g);
    }
    /// Sets the clock.
    pub fn set(&self, t: Timestamp) {
        *self.now.lock().unwrap_or_else(|e| e.into_inner()) = t;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        *self.now.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Deterministic, NOT secure entropy for tests and synthetic data (splitmix64).
#[derive(Debug)]
pub struct SeededEntropy {
    state: AtomicU64,
}

impl SeededEntropy {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Self {
        Self { state: AtomicU64::new(seed) }
    }
    /// Next 64 random bits.
    pub fn next_u64(&self) -> u64 {
        let mut z = self.state.fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed).wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

impl Entropy for SeededEntropy {
    fn fill(&self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let v = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
    }
}

/// Convenience: an array of random bytes.
pub fn random_array<const N: usize>(e: &dyn Entropy) -> [u8; N] {
    let mut b = [0u8; N];
    e.fill(&mut b);
    b
}

/// Milliseconds since the Unix epoch, clamped to zero for instants before 1970.
pub fn unix_millis(t: Timestamp) -> u64 {
    u64::try_from(t.as_millisecond()).unwrap_or(0)
}

/// The UTC calendar date of an instant.
pub fn utc_date(t: Timestamp) -> jiff::civil::Date {
    t.to_zoned_datetime(jiff::tz::TimeZone::UTC).date()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_five_years() {
        let c = ManualClock::new("2026-01-01T00:00:00Z".parse().unwrap());
        c.advance(SignedDuration::from_hours(24 * 365 * 5));
        assert_eq!(c.now().to_string(), "2030-12-31T00:00:00Z");
    }

    #[test]
    fn seeded_entropy_is_reproducible() {
        let a: [u8; 16] = random_array(&SeededEntropy::new(7));
        let b: [u8; 16] = random_array(&SeededEntropy::new(7));
        assert_eq!(a, b);
        assert_ne!(a, [0; 16]);
    }
}
