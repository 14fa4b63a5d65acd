//! What a fraud team measures: how many of the cards it can review each day are compromised,
//! against the best it could do, and what a threshold costs in missed fraud and in reviews.
//!
//! Card precision at k follows the fraud-detection handbook: each day a card counts once, with
//! its highest score and as compromised when any of its transactions that day is fraud; the k
//! cards with the highest scores are reviewed, and the compromised ones found are taken out of
//! the later days (they are blocked). The ceiling is what a perfect ranking would reach:
//! `min(compromised cards left that day, k) / k`.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One day of card precision at k.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CardPrecisionDay {
    /// The day.
    pub day: i64,
    /// Cards with transactions that day (detected cards of earlier days left out).
    pub cards: usize,
    /// Of those, cards with a fraudulent transaction that day.
    pub compromised: usize,
    /// Compromised cards among the k reviewed.
    pub detected: usize,
    /// `detected / k`.
    pub precision: f64,
    /// `min(compromised, k) / k`: the best achievable.
    pub ceiling: f64,
}

/// The cards a fraud team reviews per day in card precision (`k` of card precision@k).
pub const TOP_CARDS: usize = 100;

/// Card precision at `k` per day, in day order. `day`, `card`, `y` (0/1) and `score` are per
/// transaction. Ties in a day's card scores are broken by the card key, ascending, so the
/// result does not depend on row order.
pub fn card_precision_at_k<K: Ord + Clone>(
    day: &[i64],
    card: &[K],
    y: &[f64],
    score: &[f64],
    k: usize,
) -> Vec<CardPrecisionDay> {
    // Per day, per card: (highest score, any fraud).
    let mut days: BTreeMap<i64, BTreeMap<&K, (f64, bool)>> = BTreeMap::new();
    for i in 0..day.len() {
        let e = days
            .entry(day[i])
            .or_default()
            .entry(&card[i])
            .or_insert((f64::NEG_INFINITY, false));
        if score[i] > e.0 {
            e.0 = score[i];
        }
        e.1 |= y[i] > 0.5;
    }
    let mut blocked: std::collections::BTreeSet<&K> = std::collections::BTreeSet::new();
    let mut out = Vec::with_capacity(days.len());
    for (d, cards) in days {
        let mut left: Vec<(&K, f64, bool)> = cards
            .into_iter()
            .filter(|(c, _)| !blocked.contains(c))
            .map(|(c, (s, f))| (c, s, f))
            .collect();
        let compromised = left.iter().filter(|c| c.2).count();
        // Highest score first; ties by card key (the map's order, kept by a stable sort).
        left.sort_by(|a, b| b.1.total_cmp(&a.1));
        let reviewed = &left[..k.min(left.len())];
        let found: Vec<&K> = reviewed.iter().filter(|c| c.2).map(|c| c.0).collect();
        let denom = k.max(1) as f64;
        out.push(CardPrecisionDay {
            day: d,
            cards: left.len(),
            compromised,
            detected: found.len(),
            precision: found.len() as f64 / denom,
            ceiling: compromised.min(k) as f64 / denom,
        });
        blocked.extend(found);
    }
    out
}

/// The mean of the days' precision and of their ceilings.
pub fn mean_card_precision(days: &[CardPrecisionDay]) -> (f64, f64) {
    if days.is_empty() {
        return (0.0, 0.0);
    }
    let n = days.len() as f64;
    (
        days.iter().map(|d| d.precision).sum::<f64>() / n,
        days.iter().map(|d| d.ceiling).sum::<f64>() / n,
    )
}

/// A threshold priced by what it costs: every alert (score >= threshold) costs `review_cost`,
/// every fraud below the threshold costs its amount.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CostThreshold {
    /// The threshold (infinite: no alerts at all is cheapest).
    pub threshold: f64,
    /// Alerts raised at it.
    pub alerts: usize,
    /// Fraud amount missed at it.
    pub missed_amount: f64,
    /// Total cost: `alerts x review_cost + missed_amount`.
    pub cost: f64,
}

/// The threshold with the least total cost on these transactions (see [`CostThreshold`]); ties
/// go to the higher threshold (fewer alerts).
pub fn min_cost_alert_threshold(y: &[f64], score: &[f64], amount: &[f64], review_cost: f64) -> CostThreshold {
    let order = crate::order_desc(score);
    let fraud_total: f64 = (0..y.len()).filter(|&i| y[i] > 0.5).map(|i| amount[i]).sum();
    let mut best = CostThreshold {
        threshold: f64::INFINITY,
        alerts: 0,
        missed_amount: fraud_total,
        cost: fraud_total,
    };
    let (mut alerts, mut caught) = (0usize, 0.0);
    let mut i = 0;
    while i < order.len() {
        let s = score[order[i]];
        // Every row tied at this score is alerted together.
        while i < order.len() && score[order[i]] == s {
            let r = order[i];
            alerts += 1;
            if y[r] > 0.5 {
                caught += amount[r];
            }
            i += 1;
        }
        let missed = fraud_total - caught;
        let cost = alerts as f64 * review_cost + missed;
        if cost < best.cost {
            best = CostThreshold {
                threshold: s,
                alerts,
                missed_amount: missed,
                cost,
            };
        }
    }
    best
}

/// Alerts per day at `threshold` (score >= threshold), in day order.
pub fn alerts_per_day(day: &[i64], score: &[f64], threshold: f64) -> Vec<(i64, usize)> {
    let mut per: BTreeMap<i64, usize> = BTreeMap::new();
    for (d, s) in day.iter().zip(score) {
        *per.entry(*d).or_default() += usize::from(*s >= threshold);
    }
    per.into_iter().collect()
}

/// One day's alerts at a threshold and what they cost.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AlertDay {
    /// The day.
    pub day: i64,
    /// Transactions scored that day.
    pub transactions: usize,
    /// Alerts raised (score >= threshold).
    pub alerts: usize,
    /// Frauds that day.
    pub frauds: usize,
    /// Frauds among the alerts.
    pub caught: usize,
    /// Amount of the frauds below the threshold.
    pub missed_amount: f64,
    /// `alerts x review_cost + missed_amount`.
    pub cost: f64,
}

/// Each day's alerts, frauds caught and cost at `threshold`, in day order.
pub fn alert_days(
    day: &[i64],
    y: &[f64],
    score: &[f64],
    amount: &[f64],
    threshold: f64,
    review_cost: f64,
) -> Vec<AlertDay> {
    let mut per: BTreeMap<i64, AlertDay> = BTreeMap::new();
    for i in 0..day.len() {
        let d = per.entry(day[i]).or_insert(AlertDay {
            day: day[i],
            transactions: 0,
            alerts: 0,
            frauds: 0,
            caught: 0,
            missed_amount: 0.0,
            cost: 0.0,
        });
        let (alert, fraud) = (score[i] >= threshold, y[i] > 0.5);
        d.transactions += 1;
        d.alerts += usize::from(alert);
        d.frauds += usize::from(fraud);
        d.caught += usize::from(alert && fraud);
        if fraud && !alert {
            d.missed_amount += amount[i];
        }
    }
    per.into_values()
        .map(|d| AlertDay {
            cost: d.alerts as f64 * review_cost + d.missed_amount,
            ..d
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn card_precision_counts_cards_once_blocks_found_cards_and_gives_the_ceiling() {
        // Day 0: cards a (fraud, 0.9 and 0.2), b (0.8), c (fraud, 0.1), d (0.7).
        // Day 1: a again (fraud, 0.95: blocked, so left out), c (fraud, 0.6), d (0.9).
        let day = [0, 0, 0, 0, 0, 1, 1, 1];
        let card = ["a", "a", "b", "c", "d", "a", "c", "d"];
        let y = [1.0, 0.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0];
        let s = [0.9, 0.2, 0.8, 0.1, 0.7, 0.95, 0.6, 0.9];
        let got = card_precision_at_k(&day, &card, &y, &s, 2);
        // Day 0: top 2 cards a (0.9), b (0.8): one compromised of 2; compromised a, c: ceiling 1.
        assert_eq!((got[0].cards, got[0].compromised, got[0].detected), (4, 2, 1));
        assert_eq!((got[0].precision, got[0].ceiling), (0.5, 1.0));
        // Day 1: a is blocked; d (0.9), c (0.6) reviewed: c found; one compromised left.
        assert_eq!((got[1].cards, got[1].compromised, got[1].detected), (2, 1, 1));
        assert_eq!((got[1].precision, got[1].ceiling), (0.5, 0.5));
        assert_eq!(mean_card_precision(&got), (0.5, 0.75));
        // Ties go to the smaller card key, whatever the row order.
        let tied = card_precision_at_k(&[0, 0], &["z", "b"], &[0.0, 1.0], &[0.5, 0.5], 1);
        assert_eq!(tied[0].detected, 1);
        let tied = card_precision_at_k(&[0, 0], &["b", "z"], &[1.0, 0.0], &[0.5, 0.5], 1);
        assert_eq!(tied[0].detected, 1);
    }

    #[test]
    fn the_cost_threshold_weighs_missed_amounts_against_reviews() {
        let y = [1.0, 0.0, 1.0, 0.0, 0.0];
        let s = [0.9, 0.8, 0.7, 0.3, 0.1];
        let amount = [500.0, 10.0, 20.0, 10.0, 10.0];
        // Review cost 15: alert the first only (15 + 20 = 35) beats the first three (45 + 0),
        // none (520).
        let t = min_cost_alert_threshold(&y, &s, &amount, 15.0);
        assert_eq!((t.threshold, t.alerts, t.missed_amount, t.cost), (0.9, 1, 20.0, 35.0));
        // Review cost 5: the first three (15) beats the first (25).
        let t = min_cost_alert_threshold(&y, &s, &amount, 5.0);
        assert_eq!((t.threshold, t.alerts, t.cost), (0.7, 3, 15.0));
        // Reviews dearer than all fraud: no alerts.
        let t = min_cost_alert_threshold(&y, &s, &amount, 1000.0);
        assert_eq!((t.threshold, t.alerts, t.cost), (f64::INFINITY, 0, 520.0));
        assert_eq!(alerts_per_day(&[0, 0, 1, 1, 1], &s, 0.7), vec![(0, 2), (1, 1)]);
        let days = alert_days(&[0, 0, 1, 1, 1], &y, &s, &amount, 0.8, 15.0);
        // Day 0: two alerts, the fraud caught; day 1: no alert, the 20 of fraud missed.
        assert_eq!(
            (
                days[0].transactions,
                days[0].alerts,
                days[0].frauds,
                days[0].caught,
                days[0].cost
            ),
            (2, 2, 1, 1, 30.0)
        );
        assert_eq!(
            (
                days[1].alerts,
                days[1].frauds,
                days[1].caught,
                days[1].missed_amount,
                days[1].cost
            ),
            (0, 1, 0, 20.0, 20.0)
        );
    }
}
