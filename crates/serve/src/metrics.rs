//! Prometheus text-format metrics: requests by model and outcome, the latency histogram (buckets
//! from 0.1 ms), the score histogram of each model's first output, and the audit log's lines,
//! written, waiting to be written and synced to disk.

use std::collections::BTreeMap;
use std::fmt::Write;

/// Latency buckets in seconds.
const LATENCY: [f64; 12] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1.0,
];
/// Score buckets (a PD, LGD or anomaly score; larger values fall in `+Inf`).
const SCORES: [f64; 10] = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0];

#[derive(Debug, Default, Clone)]
struct Histogram {
    counts: Vec<u64>,
    sum: f64,
    n: u64,
}

impl Histogram {
    fn observe(&mut self, bounds: &[f64], v: f64) {
        if self.counts.is_empty() {
            self.counts = vec![0; bounds.len()];
        }
        for (c, b) in self.counts.iter_mut().zip(bounds) {
            if v <= *b {
                *c += 1;
            }
        }
        self.sum += v;
        self.n += 1;
    }

    fn render(&self, out: &mut String, name: &str, labels: &str, bounds: &[f64]) {
        let counts = if self.counts.is_empty() {
            vec![0; bounds.len()]
        } else {
            self.counts.clone()
        };
        for (b, c) in bounds.iter().zip(&counts) {
            let _ = writeln!(out, "{name}_bucket{{{labels},le=\"{b}\"}} {c}");
        }
        let _ = writeln!(out, "{name}_bucket{{{labels},le=\"+Inf\"}} {}", self.n);
        let _ = writeln!(out, "{name}_sum{{{labels}}} {}", self.sum);
        let _ = writeln!(out, "{name}_count{{{labels}}} {}", self.n);
    }
}

/// The service's counters.
#[derive(Debug, Default)]
pub struct Metrics {
    requests: BTreeMap<(String, &'static str), u64>,
    rows: BTreeMap<String, u64>,
    latency: BTreeMap<String, Histogram>,
    scores: BTreeMap<String, Histogram>,
    audit: crate::audit::Counts,
    missing: BTreeMap<(String, String), u64>,
    out_of_range: BTreeMap<(String, String), u64>,
}

impl Metrics {
    /// One request to `model` ended with `outcome` (`ok`, `bad_request`, `unprocessable`,
    /// `error`) after `seconds`.
    pub fn request(&mut self, model: &str, outcome: &'static str, seconds: f64) {
        *self.requests.entry((model.to_string(), outcome)).or_default() += 1;
        self.latency
            .entry(model.to_string())
            .or_default()
            .observe(&LATENCY, seconds);
    }

    /// Scored rows of `model` with their first output.
    pub fn scores(&mut self, model: &str, values: &[f64]) {
        *self.rows.entry(model.to_string()).or_default() += values.len() as u64;
        let h = self.scores.entry(model.to_string()).or_default();
        for v in values.iter().filter(|v| v.is_finite()) {
            h.observe(&SCORES, *v);
        }
    }

    /// Missing and out-of-range (or unseen) input values of `model` by feature.
    pub fn inputs(&mut self, model: &str, missing: &BTreeMap<String, u64>, out_of_range: &BTreeMap<String, u64>) {
        for (f, n) in missing {
            *self.missing.entry((model.to_string(), f.clone())).or_default() += n;
        }
        for (f, n) in out_of_range {
            *self.out_of_range.entry((model.to_string(), f.clone())).or_default() += n;
        }
    }

    /// The audit log's line counts.
    pub fn audit(&mut self, counts: crate::audit::Counts) {
        self.audit = counts;
    }

    /// The text exposition.
    pub fn render(&self) -> String {
        let mut s = String::new();
        s.push_str("# HELP riskpipe_requests_total Inference requests by model and outcome.\n# TYPE riskpipe_requests_total counter\n");
        for ((m, o), n) in &self.requests {
            let _ = writeln!(s, "riskpipe_requests_total{{model=\"{m}\",outcome=\"{o}\"}} {n}");
        }
        s.push_str(
            "# HELP riskpipe_rows_scored_total Rows scored by model.\n# TYPE riskpipe_rows_scored_total counter\n",
        );
        for (m, n) in &self.rows {
            let _ = writeln!(s, "riskpipe_rows_scored_total{{model=\"{m}\"}} {n}");
        }
        s.push_str("# HELP riskpipe_request_duration_seconds Request latency.\n# TYPE riskpipe_request_duration_seconds histogram\n");
        for (m, h) in &self.latency {
            h.render(
                &mut s,
                "riskpipe_request_duration_seconds",
                &format!("model=\"{m}\""),
                &LATENCY,
            );
        }
        s.push_str("# HELP riskpipe_score The first output of each scored row (PD, LGD or anomaly score).\n# TYPE riskpipe_score histogram\n");
        for (m, h) in &self.scores {
            h.render(&mut s, "riskpipe_score", &format!("model=\"{m}\""), &SCORES);
        }
        s.push_str("# HELP riskpipe_input_missing_total Missing input values by model and feature.\n# TYPE riskpipe_input_missing_total counter\n");
        for ((m, f), n) in &self.missing {
            let _ = writeln!(s, "riskpipe_input_missing_total{{model=\"{m}\",feature=\"{f}\"}} {n}");
        }
        s.push_str("# HELP riskpipe_input_out_of_range_total Input values outside the training range, or categories training never saw, by model and feature.\n# TYPE riskpipe_input_out_of_range_total counter\n");
        for ((m, f), n) in &self.out_of_range {
            let _ = writeln!(
                s,
                "riskpipe_input_out_of_range_total{{model=\"{m}\",feature=\"{f}\"}} {n}"
            );
        }
        s.push_str("# HELP riskpipe_audit_lines Lines in the audit log.\n# TYPE riskpipe_audit_lines gauge\n");
        let _ = writeln!(s, "riskpipe_audit_lines {}", self.audit.lines);
        s.push_str("# HELP riskpipe_audit_waiting_lines Decisions chained into the audit log but not yet written; their responses wait for them.\n# TYPE riskpipe_audit_waiting_lines gauge\n");
        let _ = writeln!(s, "riskpipe_audit_waiting_lines {}", self.audit.waiting);
        s.push_str("# HELP riskpipe_audit_synced_lines Audit log lines known to be on disk (synced every second).\n# TYPE riskpipe_audit_synced_lines gauge\n");
        let _ = writeln!(s, "riskpipe_audit_synced_lines {}", self.audit.synced);
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histograms_are_cumulative() {
        let mut m = Metrics::default();
        m.request("credit", "ok", 0.0003);
        m.request("credit", "ok", 0.002);
        m.request("credit", "bad_request", 0.00005);
        let t = m.render();
        assert!(
            t.contains("riskpipe_requests_total{model=\"credit\",outcome=\"ok\"} 2"),
            "{t}"
        );
        assert!(
            t.contains("riskpipe_request_duration_seconds_bucket{model=\"credit\",le=\"0.0001\"} 1"),
            "{t}"
        );
        assert!(
            t.contains("riskpipe_request_duration_seconds_bucket{model=\"credit\",le=\"0.0005\"} 2"),
            "{t}"
        );
        assert!(
            t.contains("riskpipe_request_duration_seconds_bucket{model=\"credit\",le=\"+Inf\"} 3"),
            "{t}"
        );
    }
}
