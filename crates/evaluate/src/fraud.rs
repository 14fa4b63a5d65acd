//! The fraud team's section of `metrics.json` and the report: per model, average precision and
//! card precision at k per test day (a card counted once a day at its highest score, cards
//! found blocked from later days) beside its ceiling, the best any model could reach given the
//! compromised cards of each day.

use std::fmt::Write;

use serde::{Deserialize, Serialize};

use riskpipe_core::{Error, Frame, Result};
use riskpipe_metrics::fraud::{
    AlertDay, CardPrecisionDay, alert_days, card_precision_at_k, mean_card_precision, min_cost_alert_threshold,
};

use crate::config::AlertCost;

/// Cards the fraud team reviews a day, for card precision (the handbook's 100).
pub const TOP_K: usize = riskpipe_metrics::fraud::TOP_CARDS;

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
    /// With `evaluate.alert_cost`: the cost threshold and its alerts on each test day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alerts: Option<AlertPlan>,
}

/// The least-cost threshold, chosen before the test days, and what it does on them.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AlertPlan {
    /// Cost of one review.
    pub review_cost: f64,
    /// The threshold (infinite: raising no alert was cheapest).
    pub threshold: f64,
    /// The rows it was chosen on: `history` (the validation days before the training window,
    /// which the fitted model never saw) or, without them, `training` (in-sample).
    pub chosen_on: String,
    /// Their count.
    pub chosen_on_rows: usize,
    /// Each test day.
    pub days: Vec<AlertDay>,
    /// Test total: alerts x review cost + missed fraud amount.
    pub cost: f64,
    /// Test total with no alert at all: every fraud's amount.
    pub cost_without_alerts: f64,
}

/// The day column of a matrix under `split: periods`.
fn days_of(m: &Frame) -> Option<Vec<i64>> {
    Some(m.number(riskpipe_core::names::DAY)?.iter().map(|d| *d as i64).collect())
}

/// The alert plan of `cost` for a model: its threshold chosen on the training matrix's history
/// rows (`ytr`, `ptr`), applied to the test rows. The amount column must be in both matrices.
pub fn alert_plan(
    cost: &AlertCost,
    (train, ytr, ptr): (&Frame, &[f64], &[f64]),
    (test, yte, pte): (&Frame, &[f64], &[f64]),
) -> Result<Option<AlertPlan>> {
    fn amount<'a>(m: &'a Frame, cost: &AlertCost, part: &str) -> Result<&'a [f64]> {
        m.number(&cost.amount).ok_or_else(|| Error::ColumnNotFound {
            column: cost.amount.clone(),
            file: format!("features/{part}.parquet"),
            hint: "; asked for by `evaluate.alert_cost.amount`, which must name a numeric feature".into(),
        })
    }
    let (Some(dtr), Some(dte)) = (days_of(train), days_of(test)) else {
        return Ok(None);
    };
    let (atr, ate) = (amount(train, cost, "train")?, amount(test, cost, "test")?);
    let history: Vec<usize> = (0..dtr.len()).filter(|&i| dtr[i] < 0).collect();
    let (rows, chosen_on): (Vec<usize>, &str) = if history.is_empty() {
        ((0..dtr.len()).collect(), "training")
    } else {
        (history, "history")
    };
    let pick = |v: &[f64]| rows.iter().map(|&i| v[i]).collect::<Vec<f64>>();
    let best = min_cost_alert_threshold(&pick(ytr), &pick(ptr), &pick(atr), cost.review_cost);
    let days = alert_days(&dte, yte, pte, ate, best.threshold, cost.review_cost);
    let fraud_amount: f64 = (0..yte.len()).filter(|&i| yte[i] > 0.5).map(|i| ate[i]).sum();
    Ok(Some(AlertPlan {
        review_cost: cost.review_cost,
        threshold: best.threshold,
        chosen_on: chosen_on.to_string(),
        chosen_on_rows: rows.len(),
        cost: days.iter().map(|d| d.cost).sum(),
        cost_without_alerts: fraud_amount,
        days,
    }))
}

/// The fraud measures of scores `p` on the test matrix `test` (which carries `__day` and
/// `__card` under `split: periods`; without them, none).
pub fn fraud_metrics(test: &Frame, y: &[f64], p: &[f64]) -> Option<FraudMetrics> {
    let day = days_of(test)?;
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
        alerts: None,
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
        if let Some(a) = &f.alerts {
            alert_section(s, selected, a, k);
        }
    }
    s.push_str("</section>");
}

/// The selected model's alerts at the cost threshold, per test day, beside the review budget of
/// `k` a day.
fn alert_section(s: &mut String, selected: &str, a: &AlertPlan, k: usize) {
    let _ = write!(
        s,
        "<h3>{selected}, alerts at the least-cost threshold</h3><p>Each alert costs {} to review; a fraud left below the threshold costs its amount. The threshold {:.4}, the cheapest on the {} {} rows, gives these alerts on the test days (review budget: {k} a day). Test cost {:.2} against {:.2} with no alert.</p><table><tr><th>day</th><th>transactions</th><th>alerts</th><th>within budget</th><th>frauds</th><th>caught</th><th>missed amount</th><th>cost</th></tr>",
        a.review_cost, a.threshold, a.chosen_on_rows, a.chosen_on, a.cost, a.cost_without_alerts
    );
    for d in &a.days {
        let _ = write!(
            s,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.2}</td><td>{:.2}</td></tr>",
            d.day,
            d.transactions,
            d.alerts,
            if d.alerts <= k { "yes" } else { "no" },
            d.frauds,
            d.caught,
            d.missed_amount,
            d.cost
        );
    }
    s.push_str("</table>");
}
