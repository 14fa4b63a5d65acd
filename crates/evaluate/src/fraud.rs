//! The fraud team's section of `metrics.json` and the report: per model, average precision and
//! card precision at k per test day (a card counted once a day at its highest score, cards
//! found blocked from later days) beside its ceiling, the best any model could reach given the
//! compromised cards of each day.

use std::fmt::Write;

use serde::{Deserialize, Serialize};

use riskpipe_core::Frame;
use riskpipe_metrics::fraud::{CardPrecisionDay, card_precision_at_k, mean_card_precision};

/// Cards the fraud team reviews a day, for card precision (the handbook's 100).
pub const TOP_K: usize = 100;

/// One model's fraud measures on the test days.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FraudMetrics {
    /// Average precision of the transactions' scores.
    pub average_precision: f64,
    /// Cards reviewed a day.
    pub k: usize,
    /// Mean card precision at `k` over the test days.
    pub card_precision: f64,
    /// Mean of its ceiling.
    pub ceiling: f64,
    /// Each test day.
    pub days: Vec<CardPrecisionDay>,
}

/// The fraud measures of scores `p` on the test matrix `test` (which carries `__day` and
/// `__card` under `split: periods`; without them, none).
pub fn fraud_metrics(test: &Frame, y: &[f64], p: &[f64]) -> Option<FraudMetrics> {
    let day: Vec<i64> = test
        .number(riskpipe_core::names::DAY)?
        .iter()
        .map(|d| *d as i64)
        .collect();
    // Card ranks are whole numbers: their order is the cards' order.
    let card: Vec<i64> = test
        .number(riskpipe_core::names::CARD)?
        .iter()
        .map(|c| *c as i64)
        .collect();
    let days = card_precision_at_k(&day, &card, y, p, TOP_K);
    let (card_precision, ceiling) = mean_card_precision(&days);
    Some(FraudMetrics {
        average_precision: riskpipe_metrics::pr_auc(y, p),
        k: TOP_K,
        card_precision,
        ceiling,
        days,
    })
}

/// The report's fraud section: a line per model, then the selected model's days.
pub fn section(s: &mut String, fraud: &std::collections::BTreeMap<String, FraudMetrics>, selected: &str) {
    if fraud.is_empty() {
        return;
    }
    let k = fraud.values().next().map_or(TOP_K, |f| f.k);
    let _ = write!(
        s,
        r#"<section id="fraud"><h2>Fraud detection</h2><p>Test days after the label delay, cards already known compromised left out. Card precision@{k}: of the {k} cards with the highest score each day (a card at its highest transaction score), the share compromised; cards found are blocked from later days. The ceiling is the best possible given each day's compromised cards.</p><table><tr><th>model</th><th>average precision</th><th>card precision@{k}</th><th>ceiling</th></tr>"#
    );
    for (name, f) in fraud {
        let _ = write!(
            s,
            r#"<tr{}><td>{name}</td><td>{:.4}</td><td>{:.4}</td><td>{:.4}</td></tr>"#,
            if name == selected { r#" class="sel""# } else { "" },
            f.average_precision,
            f.card_precision,
            f.ceiling
        );
    }
    s.push_str("</table>");
    if let Some(f) = fraud.get(selected) {
        let _ = write!(
            s,
            "<h3>{selected}, per test day</h3><table><tr><th>day</th><th>cards</th><th>compromised</th><th>found in top {k}</th><th>card precision@{k}</th><th>ceiling</th></tr>"
        );
        for d in &f.days {
            let _ = write!(
                s,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.2}</td><td>{:.2}</td></tr>",
                d.day, d.cards, d.compromised, d.detected, d.precision, d.ceiling
            );
        }
        s.push_str("</table>");
    }
    s.push_str("</section>");
}
