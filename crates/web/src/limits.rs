//! Rate limits of the public pages (no third-party calls): per client IP and per e-mail address,
//! in fixed windows on the service clock. Over the limit, a page answers 429 with `Retry-After`.

use std::collections::HashMap;
use std::sync::Mutex;

/// Counters per key and window.
#[derive(Debug, Default)]
pub struct RateLimiter {
    windows: Mutex<HashMap<String, (i64, u32)>>,
}

/// A limit: at most `max` in `window_secs`.
#[derive(Debug, Clone, Copy)]
pub struct Limit {
    /// Allowed per window.
    pub max: u32,
    /// Window length.
    pub window_secs: i64,
}

/// Page views of a form per IP.
pub const FORM_VIEWS: Limit = Limit { max: 60, window_secs: 60 };
/// Form submissions and confirmations per IP.
pub const POSTS_PER_IP: Limit = Limit { max: 20, window_secs: 60 };
/// Submissions per e-mail address.
pub const POSTS_PER_ADDRESS: Limit = Limit { max: 5, window_secs: 3600 };

impl RateLimiter {
    /// Counts one hit of `key` at `now_us`; `Err(seconds to wait)` when over the limit.
    pub fn hit(&self, key: &str, limit: Limit, now_us: i64) -> Result<(), i64> {
        let window = limit.window_secs * 1_000_000;
        let start = now_us - now_us.rem_euclid(window);
        let mut m = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        if m.len() > 100_000 {
            m.retain(|_, (s, _)| *s >= start - window);
        }
        let e = m.entry(key.to_string()).or_insert((start, 0));
        if e.0 != start {
            *e = (start, 0);
        }
        if e.1 >= limit.max {
            return Err(((start + window - now_us) / 1_000_000).max(1));
        }
        e.1 += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_per_key_and_window() {
        let r = RateLimiter::default();
        let l = Limit { max: 2, window_secs: 60 };
        assert!(r.hit("a", l, 0).is_ok() && r.hit("a", l, 1).is_ok());
        assert_eq!(r.hit("a", l, 2_000_000), Err(58));
        assert!(r.hit("b", l, 2).is_ok(), "another key");
        assert!(r.hit("a", l, 60_000_000).is_ok(), "next window");
    }
}
