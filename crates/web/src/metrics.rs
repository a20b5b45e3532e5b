//! Prometheus metrics: request counts and latencies per route and status class, gate decisions by
//! outcome. Lock-free counters; rendered as Prometheus text at `/metrics`.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Latency bucket bounds in seconds.
const BUCKETS: [f64; 10] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2.5];

#[derive(Default)]
struct Series {
    count: AtomicU64,
    sum_micros: AtomicU64,
    buckets: [AtomicU64; BUCKETS.len()],
}

/// Request series keyed by (method, route template, status).
type SeriesMap = BTreeMap<(String, String, u16), Arc<Series>>;

/// Shared metrics registry.
#[derive(Clone, Default)]
pub struct Metrics {
    requests: Arc<Mutex<SeriesMap>>,
    decisions_allowed: Arc<AtomicU64>,
    decisions_blocked: Arc<AtomicU64>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Metrics {
    /// Records one finished request.
    pub fn observe(&self, method: &str, route: &str, status: u16, took: Duration) {
        let series = {
            let mut map = self.requests.lock().unwrap_or_else(|e| e.into_inner());
            map.entry((method.to_string(), route.to_string(), status)).or_default().clone()
        };
        let secs = took.as_secs_f64();
        series.count.fetch_add(1, Ordering::Relaxed);
        series.sum_micros.fetch_add(took.as_micros() as u64, Ordering::Relaxed);
        for (i, b) in BUCKETS.iter().enumerate() {
            if secs <= *b {
                series.buckets[i].fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Counts one gate decision.
    pub fn decision(&self, allowed: bool) {
        if allowed { &self.decisions_allowed } else { &self.decisions_blocked }.fetch_add(1, Ordering::Relaxed);
    }

    /// Prometheus text exposition; `extra` lines are appended (e.g. gauges read from the store).
    pub fn render(&self, extra: &str) -> String {
        let mut out = String::new();
        out.push_str("# HELP konsent_http_requests_total HTTP requests by method, route and status.\n");
        out.push_str("# TYPE konsent_http_requests_total counter\n");
        let map = self.requests.lock().unwrap_or_else(|e| e.into_inner()).clone();
        for ((m, r, s), v) in &map {
            out.push_str(&format!(
                "konsent_http_requests_total{{method=\"{m}\",route=\"{r}\",status=\"{s}\"}} {}\n",
                v.count.load(Ordering::Relaxed)
            ));
        }
        out.push_str("# HELP konsent_http_request_duration_seconds Request latency.\n");
        out.push_str("# TYPE konsent_http_request_duration_seconds histogram\n");
        for ((m, r, s), v) in &map {
            let labels = format!("method=\"{m}\",route=\"{r}\",status=\"{s}\"");
            for (i, b) in BUCKETS.iter().enumerate() {
                out.push_str(&format!(
                    "konsent_http_request_duration_seconds_bucket{{{labels},le=\"{b}\"}} {}\n",
                    v.buckets[i].load(Ordering::Relaxed)
                ));
            }
            let count = v.count.load(Ordering::Relaxed);
            out.push_str(&format!("konsent_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {count}\n"));
            out.push_str(&format!(
                "konsent_http_request_duration_seconds_sum{{{labels}}} {}\n",
                v.sum_micros.load(Ordering::Relaxed) as f64 / 1e6
            ));
            out.push_str(&format!("konsent_http_request_duration_seconds_count{{{labels}}} {count}\n"));
        }
        out.push_str("# HELP konsent_gate_decisions_total Gate decisions by outcome.\n");
        out.push_str("# TYPE konsent_gate_decisions_total counter\n");
        out.push_str(&format!(
            "konsent_gate_decisions_total{{outcome=\"allowed\"}} {}\n",
            self.decisions_allowed.load(Ordering::Relaxed)
        ));
        out.push_str(&format!(
            "konsent_gate_decisions_total{{outcome=\"blocked\"}} {}\n",
            self.decisions_blocked.load(Ordering::Relaxed)
        ));
        out.push_str(extra);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_histograms() {
        let m = Metrics::default();
        m.observe("GET", "/healthz", 200, Duration::from_micros(300));
        m.observe("GET", "/healthz", 200, Duration::from_millis(20));
        m.decision(true);
        let text = m.render("");
        assert!(
            text.contains("konsent_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 2"),
            "{text}"
        );
        assert!(text.contains("le=\"0.0005\"} 1"), "{text}");
        assert!(text.contains("le=\"+Inf\"} 2"), "{text}");
        assert!(text.contains("konsent_gate_decisions_total{outcome=\"allowed\"} 1"));
    }
}
