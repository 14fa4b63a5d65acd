//! riskpipe-metrics: the numbers a model validator asks for.
//!
//! Ranking (ROC AUC, Gini, KS, PR AUC), calibration (Brier score, log loss), a classification
//! report at a threshold, ROC points for plots, and the population stability index; for fraud
//! teams ([`fraud`]), card precision at k per day with its ceiling, alerts per day and the
//! threshold with the least cost in missed fraud and reviews. Every
//! function takes labels as 0/1 `f64` and scores as probabilities (or any monotone score), and
//! is deterministic: ties are handled by mid-ranks and sorting is total.
//!
//! ```
//! let y = [0.0, 0.0, 1.0, 1.0];
//! let p = [0.1, 0.4, 0.35, 0.8];
//! let auc = riskpipe_metrics::auc(&y, &p);
//! assert!((auc - 0.75).abs() < 1e-12);
//! assert!((riskpipe_metrics::gini(&y, &p) - 0.5).abs() < 1e-12);
//! ```
#![warn(missing_docs)]

use serde::{Deserialize, Serialize};

pub mod fraud;
pub use fraud::{
    CardPrecisionDay, CostThreshold, alerts_per_day, card_precision_at_k, mean_card_precision, min_cost_alert_threshold,
};

/// Indices that sort `scores` descending (ties in index order).
/// Row indices by descending score, ties by ascending index: the order every curve and table
/// here is read from. Callers that sort once themselves use the same rule.
pub fn order_desc(scores: &[f64]) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..scores.len()).collect();
    idx.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
    idx
}

/// Cumulative (score, true positives, false positives) at each distinct score, highest first:
/// the counts of rows with score >= that score.
fn cumulative(y: &[f64], score: &[f64]) -> Vec<(f64, f64, f64)> {
    cumulative_in(y, score, &order_desc(score))
}

fn cumulative_in(y: &[f64], score: &[f64], idx: &[usize]) -> Vec<(f64, f64, f64)> {
    let mut out = Vec::new();
    each_score(y, score, idx, |s, tp, fp| out.push((s, tp, fp)));
    out
}

/// Walks rows in `idx` order (descending score) and calls `f(score, tp, fp)` once per distinct
/// score with the counts of rows at or above it.
fn each_score(y: &[f64], score: &[f64], idx: &[usize], mut f: impl FnMut(f64, f64, f64)) {
    let (mut tp, mut fp) = (0.0, 0.0);
    let mut i = 0;
    while i < idx.len() {
        let s = score[idx[i]];
        while i < idx.len() && score[idx[i]] == s {
            if y[idx[i]] > 0.5 {
                tp += 1.0
            } else {
                fp += 1.0
            }
            i += 1;
        }
        f(s, tp, fp);
    }
}

fn positives(y: &[f64]) -> f64 {
    y.iter().filter(|v| **v > 0.5).count() as f64
}

pub use riskpipe_core::stats::auc;

/// Gini coefficient (accuracy ratio) = 2 AUC - 1.
pub fn gini(y: &[f64], score: &[f64]) -> f64 {
    2.0 * auc(y, score) - 1.0
}

/// Kolmogorov-Smirnov statistic: the largest gap between the cumulative score distributions of
/// positives and negatives, evaluated between distinct scores.
pub fn ks(y: &[f64], score: &[f64]) -> f64 {
    ks_with_threshold(y, score).0
}

/// KS and the score at which it is reached (rows with score >= threshold are predicted positive).
pub fn ks_with_threshold(y: &[f64], score: &[f64]) -> (f64, f64) {
    let n_pos = positives(y);
    let n_neg = y.len() as f64 - n_pos;
    if n_pos == 0.0 || n_neg == 0.0 {
        return (0.0, 0.5);
    }
    let (mut best, mut thr) = (0.0, f64::INFINITY);
    for (s, tp, fp) in cumulative(y, score) {
        let d = tp / n_pos - fp / n_neg;
        if d > best {
            best = d;
            thr = s;
        }
    }
    (best, thr)
}

/// Area under the precision-recall curve as average precision (step-wise, no interpolation).
pub fn pr_auc(y: &[f64], score: &[f64]) -> f64 {
    let n_pos = positives(y);
    if n_pos == 0.0 {
        return 0.0;
    }
    let (mut ap, mut prev_recall) = (0.0, 0.0);
    for (_, tp, fp) in cumulative(y, score) {
        let recall = tp / n_pos;
        ap += (recall - prev_recall) * tp / (tp + fp);
        prev_recall = recall;
    }
    ap
}

/// Brier score: mean squared error of probabilities.
pub fn brier(y: &[f64], p: &[f64]) -> f64 {
    if y.is_empty() {
        return 0.0;
    }
    y.iter().zip(p).map(|(a, b)| (a - b) * (a - b)).sum::<f64>() / y.len() as f64
}

/// Mean log loss with probabilities clipped to [1e-15, 1 - 1e-15].
pub fn log_loss(y: &[f64], p: &[f64]) -> f64 {
    if y.is_empty() {
        return 0.0;
    }
    let eps = 1e-15;
    y.iter()
        .zip(p)
        .map(|(a, b)| {
            let q = b.clamp(eps, 1.0 - eps);
            -(a * q.ln() + (1.0 - a) * (1.0 - q).ln())
        })
        .sum::<f64>()
        / y.len() as f64
}

/// The standard set of binary metrics, as written to `metrics.json`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct BinaryMetrics {
    /// ROC AUC.
    pub auc: f64,
    /// Kolmogorov-Smirnov statistic.
    pub ks: f64,
    /// Gini = 2 AUC - 1.
    pub gini: f64,
    /// Average precision.
    pub pr_auc: f64,
    /// Brier score.
    pub brier: f64,
    /// Mean log loss.
    pub log_loss: f64,
    /// Rows.
    pub rows: u64,
    /// Positive share.
    pub positive_rate: f64,
}

/// Computes [`BinaryMetrics`].
pub fn binary_metrics(y: &[f64], p: &[f64]) -> BinaryMetrics {
    let a = auc(y, p);
    BinaryMetrics {
        auc: a,
        ks: ks(y, p),
        gini: 2.0 * a - 1.0,
        pr_auc: pr_auc(y, p),
        brier: brier(y, p),
        log_loss: log_loss(y, p),
        rows: y.len() as u64,
        positive_rate: if y.is_empty() {
            0.0
        } else {
            y.iter().sum::<f64>() / y.len() as f64
        },
    }
}

/// Precision, recall, F1 and support of one class.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ClassReport {
    /// Precision.
    pub precision: f64,
    /// Recall.
    pub recall: f64,
    /// F1 score.
    pub f1: f64,
    /// Rows of this class.
    pub support: u64,
}

/// A classification report at a threshold (score >= threshold predicts 1).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ClassificationReport {
    /// The threshold used.
    pub threshold: f64,
    /// Class 0 (good).
    pub class_0: ClassReport,
    /// Class 1 (bad).
    pub class_1: ClassReport,
    /// Share of rows classified correctly.
    pub accuracy: f64,
    /// Confusion counts `[[tn, fp], [fn, tp]]`.
    pub confusion: [[u64; 2]; 2],
}

fn f1(p: f64, r: f64) -> f64 {
    if p + r == 0.0 { 0.0 } else { 2.0 * p * r / (p + r) }
}

/// Classification report at `threshold`.
pub fn classification_report(y: &[f64], p: &[f64], threshold: f64) -> ClassificationReport {
    let (mut tp, mut fp, mut tn, mut fn_) = (0u64, 0u64, 0u64, 0u64);
    for (a, b) in y.iter().zip(p) {
        match (*a > 0.5, *b >= threshold) {
            (true, true) => tp += 1,
            (false, true) => fp += 1,
            (false, false) => tn += 1,
            (true, false) => fn_ += 1,
        }
    }
    let div = |a: u64, b: u64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    let (p1, r1) = (div(tp, tp + fp), div(tp, tp + fn_));
    let (p0, r0) = (div(tn, tn + fn_), div(tn, tn + fp));
    ClassificationReport {
        threshold,
        class_0: ClassReport {
            precision: p0,
            recall: r0,
            f1: f1(p0, r0),
            support: tn + fp,
        },
        class_1: ClassReport {
            precision: p1,
            recall: r1,
            f1: f1(p1, r1),
            support: tp + fn_,
        },
        accuracy: div(tp + tn, tp + tn + fp + fn_),
        confusion: [[tn, fp], [fn_, tp]],
    }
}

/// The threshold that maximises F1 of the positive class (on training data).
pub fn best_f1_threshold(y: &[f64], p: &[f64]) -> f64 {
    let n_pos = positives(y);
    let (mut best, mut thr) = (-1.0, 0.5);
    for (s, tp, fp) in cumulative(y, p) {
        let f = f1(tp / (tp + fp), if n_pos > 0.0 { tp / n_pos } else { 0.0 });
        if f > best {
            best = f;
            thr = s;
        }
    }
    thr
}

/// The threshold that approves (predicts good for) the `approval_rate` share of rows with the
/// lowest scores: rows with score >= threshold are declined.
pub fn approval_threshold(p: &[f64], approval_rate: f64) -> f64 {
    if p.is_empty() {
        return 0.5;
    }
    let mut v = p.to_vec();
    v.sort_by(f64::total_cmp);
    let k = ((approval_rate * v.len() as f64).round() as usize).min(v.len() - 1);
    v[k]
}

/// The threshold with the least expected cost on these rows: `cost_fn` per bad approved
/// (score below threshold), `cost_fp` per good declined.
pub fn min_cost_threshold(y: &[f64], p: &[f64], cost_fn: f64, cost_fp: f64) -> f64 {
    let n_pos = positives(y);
    // Declining nobody: every bad is approved.
    let (mut best, mut thr) = (cost_fn * n_pos, f64::INFINITY);
    for (s, tp, fp) in cumulative(y, p) {
        let cost = cost_fn * (n_pos - tp) + cost_fp * fp;
        if cost < best {
            best = cost;
            thr = s;
        }
    }
    thr
}

/// ROC curve points `(false positive rate, true positive rate)`, thinned to at most
/// `max_points` (always keeping (0,0) and (1,1)).
pub fn roc_points(y: &[f64], score: &[f64], max_points: usize) -> Vec<(f64, f64)> {
    let n_pos = positives(y);
    let n_neg = y.len() as f64 - n_pos;
    let mut pts = vec![(0.0, 0.0)];
    if n_pos == 0.0 || n_neg == 0.0 {
        pts.push((1.0, 1.0));
        return pts;
    }
    pts.extend(
        cumulative(y, score)
            .into_iter()
            .map(|(_, tp, fp)| (fp / n_neg, tp / n_pos)),
    );
    if pts.len() > max_points.max(2) {
        let step = pts.len() as f64 / (max_points.max(2) - 1) as f64;
        let mut thin: Vec<(f64, f64)> = (0..max_points.max(2) - 1)
            .map(|k| pts[(k as f64 * step) as usize])
            .collect();
        thin.push(*pts.last().expect("points"));
        pts = thin;
    }
    pts
}

/// Population stability index between an expected and an actual sample, on `bins` quantile bins
/// of the expected sample (empty shares floored at 1e-4).
pub fn psi(expected: &[f64], actual: &[f64], bins: usize) -> f64 {
    if expected.is_empty() || actual.is_empty() {
        return 0.0;
    }
    // Quantile cuts of `expected` by successive selection: linear time, no full sort.
    let mut work: Vec<f64> = expected.to_vec();
    let n = work.len();
    let mut edges: Vec<f64> = Vec::with_capacity(bins);
    let mut lo = 0;
    for k in 1..bins {
        let pos = k * n / bins;
        if pos < lo {
            edges.push(edges.last().copied().unwrap_or(f64::NAN));
            continue;
        }
        let (_, v, _) = work[lo..].select_nth_unstable_by(pos - lo, f64::total_cmp);
        edges.push(*v);
        lo = pos + 1;
    }
    edges.dedup();
    let count = |v: &[f64]| {
        let mut c = vec![0.0; edges.len() + 1];
        for x in v {
            c[edges.partition_point(|e| e <= x)] += 1.0;
        }
        let n = v.len() as f64;
        c.into_iter().map(|k| (k / n).max(1e-4)).collect::<Vec<f64>>()
    };
    let (e, a) = (count(expected), count(actual));
    e.iter().zip(&a).map(|(e, a)| (a - e) * (a / e).ln()).sum()
}

/// Thins a curve to at most `max_points` points, keeping the first and the last.
fn thin<T: Copy>(pts: Vec<T>, max_points: usize) -> Vec<T> {
    let m = max_points.max(2);
    if pts.len() <= m {
        return pts;
    }
    let step = (pts.len() - 1) as f64 / (m - 1) as f64;
    (0..m)
        .map(|k| pts[((k as f64 * step).round() as usize).min(pts.len() - 1)])
        .collect()
}

/// Precision-recall curve points `(recall, precision)`, at most `max_points`.
pub fn pr_points(y: &[f64], score: &[f64], max_points: usize) -> Vec<(f64, f64)> {
    let n_pos = positives(y);
    if n_pos == 0.0 {
        return vec![(0.0, 0.0), (1.0, 0.0)];
    }
    let pts: Vec<(f64, f64)> = cumulative(y, score)
        .into_iter()
        .map(|(_, tp, fp)| (tp / n_pos, tp / (tp + fp)))
        .collect();
    thin(pts, max_points)
}

/// KS curve: for the riskiest share `x` of rows (highest scores first), the cumulative share of
/// positives and of negatives captured: `(x, bad share, good share)`, at most `max_points`.
pub fn ks_points(y: &[f64], score: &[f64], max_points: usize) -> Vec<(f64, f64, f64)> {
    ks_points_in(y, score, &order_desc(score), max_points)
}

/// [`ks_points`] with the rows already in [`order_desc`] order. Two passes over the rows: one
/// to count distinct scores, one to keep only the points that the thinning keeps.
pub fn ks_points_in(y: &[f64], score: &[f64], order: &[usize], max_points: usize) -> Vec<(f64, f64, f64)> {
    let npos = positives(y);
    let n_pos = npos.max(1.0);
    let n_neg = (y.len() as f64 - npos).max(1.0);
    let n = y.len().max(1) as f64;
    // Points are (0, 0, 0) then one per distinct score: `distinct + 1` in all.
    let distinct = order.windows(2).filter(|w| score[w[0]] != score[w[1]]).count() + usize::from(!order.is_empty());
    let total = distinct + 1;
    let m = max_points.max(2);
    let keep: Vec<usize> = if total <= m {
        (0..total).collect()
    } else {
        let step = (total - 1) as f64 / (m - 1) as f64;
        (0..m)
            .map(|k| ((k as f64 * step).round() as usize).min(total - 1))
            .collect()
    };
    let mut out = Vec::with_capacity(keep.len());
    let mut next = 0;
    let mut emit = |idx: usize, pt: (f64, f64, f64), out: &mut Vec<(f64, f64, f64)>| {
        while next < keep.len() && keep[next] == idx {
            out.push(pt);
            next += 1;
        }
    };
    emit(0, (0.0, 0.0, 0.0), &mut out);
    let mut point = 0;
    each_score(y, score, order, |_, tp, fp| {
        point += 1;
        emit(point, ((tp + fp) / n, tp / n_pos, fp / n_neg), &mut out);
    });
    out
}

/// One row of a calibration or gains table.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct BandRow {
    /// Band number, 1 = highest scores (riskiest).
    pub band: usize,
    /// Rows in the band.
    pub rows: u64,
    /// Positives in the band.
    pub events: u64,
    /// Mean score (predicted probability) in the band.
    pub mean_score: f64,
    /// Observed positive rate.
    pub event_rate: f64,
    /// Cumulative share of all positives captured up to this band.
    pub cum_capture: f64,
    /// Lift: cumulative event rate / overall event rate.
    pub cum_lift: f64,
}

/// Equal-count bands of rows ordered by score, highest first (deciles for `bands = 10`), with
/// observed rates for calibration and cumulative capture and lift for gains.
pub fn band_table(y: &[f64], score: &[f64], bands: usize) -> Vec<BandRow> {
    band_table_in(y, score, &order_desc(score), bands)
}

/// [`band_table`] with the rows already in [`order_desc`] order.
pub fn band_table_in(y: &[f64], score: &[f64], idx: &[usize], bands: usize) -> Vec<BandRow> {
    let n = idx.len();
    let total_pos = positives(y).max(1.0);
    let overall = positives(y) / n.max(1) as f64;
    let mut out = Vec::new();
    let (mut cum_rows, mut cum_ev) = (0.0, 0.0);
    for b in 0..bands.max(1) {
        let (lo, hi) = (b * n / bands.max(1), (b + 1) * n / bands.max(1));
        if hi <= lo {
            continue;
        }
        let rows = (hi - lo) as f64;
        let events: f64 = idx[lo..hi].iter().map(|&i| if y[i] > 0.5 { 1.0 } else { 0.0 }).sum();
        let mean_score = idx[lo..hi].iter().map(|&i| score[i]).sum::<f64>() / rows;
        cum_rows += rows;
        cum_ev += events;
        out.push(BandRow {
            band: b + 1,
            rows: rows as u64,
            events: events as u64,
            mean_score,
            event_rate: events / rows,
            cum_capture: cum_ev / total_pos,
            cum_lift: if overall > 0.0 {
                (cum_ev / cum_rows) / overall
            } else {
                0.0
            },
        });
    }
    out
}

/// Population stability of a discrete variable (bins or categories given as values): the sum of
/// `(a - e) ln(a / e)` over values, shares floored at 1e-4.
pub fn psi_discrete(expected: &[f64], actual: &[f64]) -> f64 {
    // Few distinct values (bins): count them in a small open-addressing table keyed by the
    // value's bits; past 256 distinct values, in an ordered map.
    const SLOTS: usize = 512;
    let mut keys = [u64::MAX; SLOTS];
    let mut table = vec![(0.0f64, 0.0f64); SLOTS];
    let mut used = 0usize;
    let mut spill: std::collections::BTreeMap<u64, (f64, f64)> = std::collections::BTreeMap::new();
    // The counting slot of a value's bits: its table entry, or `None` for the ordered map
    // (the all-ones bit pattern marks free entries, and a half-full table spills).
    let mut slot = |bits: u64| -> Option<usize> {
        if bits == u64::MAX {
            return None;
        }
        let mut h = (bits.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 55) as usize;
        loop {
            if keys[h] == bits {
                return Some(h);
            }
            if keys[h] == u64::MAX {
                if used >= SLOTS / 2 {
                    return None;
                }
                keys[h] = bits;
                used += 1;
                return Some(h);
            }
            h = (h + 1) % SLOTS;
        }
    };
    let mut add = |x: f64, which: usize| {
        let bits = x.to_bits();
        let e = match slot(bits) {
            Some(h) => &mut table[h],
            None => spill.entry(bits).or_insert((0.0, 0.0)),
        };
        if which == 0 { e.0 += 1.0 } else { e.1 += 1.0 }
    };
    for x in expected {
        add(*x, 0);
    }
    for x in actual {
        add(*x, 1);
    }
    // Sum in the order of the values' bits, so the result does not depend on row order.
    let mut all: Vec<(u64, (f64, f64))> = (0..SLOTS)
        .filter(|&h| keys[h] != u64::MAX)
        .map(|h| (keys[h], table[h]))
        .collect();
    all.extend(spill);
    all.sort_by_key(|e| e.0);
    let counts: Vec<(f64, f64)> = all.into_iter().map(|e| e.1).collect();
    let (ne, na) = (expected.len().max(1) as f64, actual.len().max(1) as f64);
    counts
        .iter()
        .map(|(e, a)| {
            let (e, a) = ((e / ne).max(1e-4), (a / na).max(1e-4));
            (a - e) * (a / e).ln()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_values() {
        let y = [0.0, 0.0, 1.0, 1.0];
        let p = [0.1, 0.4, 0.35, 0.8];
        assert!((auc(&y, &p) - 0.75).abs() < 1e-12);
        assert!((ks(&y, &p) - 0.5).abs() < 1e-12);
        // Average precision: ranks 0.8(1) 0.4(0) 0.35(1) 0.1(0): 0.5*1 + 0.5*(2/3).
        assert!((pr_auc(&y, &p) - (0.5 + 1.0 / 3.0)).abs() < 1e-12);
        assert!((brier(&[1.0, 0.0], &[1.0, 0.0])).abs() < 1e-12);
        assert!((log_loss(&[1.0], &[0.5]) - 2f64.ln()).abs() < 1e-12);
        let r = classification_report(&y, &p, 0.35);
        assert_eq!(r.confusion, [[1, 1], [0, 2]]);
        assert!((r.class_1.precision - 2.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn ties_count_half() {
        assert!((auc(&[0.0, 1.0], &[0.5, 0.5]) - 0.5).abs() < 1e-12);
    }

    #[test]
    fn approval_and_cost_thresholds() {
        let p: Vec<f64> = (0..100).map(|i| i as f64 / 100.0).collect();
        let t = approval_threshold(&p, 0.8);
        assert_eq!(p.iter().filter(|x| **x < t).count(), 80);
        let y: Vec<f64> = (0..100).map(|i| if i >= 90 { 1.0 } else { 0.0 }).collect();
        // Bads are the 10 highest scores: declining exactly them costs nothing.
        assert!((min_cost_threshold(&y, &p, 5.0, 1.0) - 0.9).abs() < 1e-12);
        // Free to approve bads: decline nobody.
        assert!(min_cost_threshold(&y, &p, 0.0, 1.0).is_infinite());
    }

    #[test]
    fn bands_and_curves() {
        let y: Vec<f64> = (0..1000).map(|i| if i % 4 == 0 { 1.0 } else { 0.0 }).collect();
        let p: Vec<f64> = (0..1000)
            .map(|i| {
                if i % 4 == 0 {
                    0.9 - i as f64 * 1e-4
                } else {
                    i as f64 * 1e-4
                }
            })
            .collect();
        let t = band_table(&y, &p, 10);
        assert_eq!(t.len(), 10);
        assert_eq!(t.iter().map(|r| r.rows).sum::<u64>(), 1000);
        assert!((t[9].cum_capture - 1.0).abs() < 1e-12);
        assert!((t[9].cum_lift - 1.0).abs() < 1e-12);
        assert!(t[0].event_rate > t[9].event_rate);
        let ks = ks_points(&y, &p, 50);
        assert!(ks.len() <= 50);
        let best = ks.iter().map(|(_, b, g)| b - g).fold(0.0, f64::max);
        assert!((best - ks_with_threshold(&y, &p).0).abs() < 0.05);
        let pr = pr_points(&y, &p, 30);
        assert!(
            pr.len() <= 30
                && pr
                    .iter()
                    .all(|(r, q)| (0.0..=1.0).contains(r) && (0.0..=1.0).contains(q))
        );
        assert!(psi_discrete(&[1.0, 2.0, 2.0], &[1.0, 2.0, 2.0]).abs() < 1e-12);
        assert!(psi_discrete(&[1.0, 1.0, 2.0], &[2.0, 2.0, 2.0]) > 0.5);
    }

    #[test]
    fn psi_zero_for_same_sample() {
        let x: Vec<f64> = (0..1000).map(|i| i as f64).collect();
        assert!(psi(&x, &x, 10).abs() < 1e-12);
        let shifted: Vec<f64> = x.iter().map(|v| v + 300.0).collect();
        assert!(psi(&x, &shifted, 10) > 0.1);
        // Many distinct values: past the small table, counts spill into an ordered map.
        assert!(psi_discrete(&x, &x).abs() < 1e-12);
        let mut rev = shifted.clone();
        rev.reverse();
        assert!((psi_discrete(&x, &shifted) - psi_discrete(&x, &rev)).abs() < 1e-12);
        assert!(psi_discrete(&x, &shifted) > 1.0);
    }

    proptest! {
        #[test]
        fn ks_points_keep_the_thinned_cumulative_curve(
            data in proptest::collection::vec((0u8..2, 0u8..40), 1..400),
            max_points in 2usize..60,
        ) {
            let y: Vec<f64> = data.iter().map(|d| f64::from(d.0)).collect();
            let s: Vec<f64> = data.iter().map(|d| f64::from(d.1)).collect();
            let npos = positives(&y);
            let (n_pos, n_neg, n) = (npos.max(1.0), (y.len() as f64 - npos).max(1.0), y.len() as f64);
            let mut full = vec![(0.0, 0.0, 0.0)];
            full.extend(cumulative(&y, &s).into_iter().map(|(_, tp, fp)| ((tp + fp) / n, tp / n_pos, fp / n_neg)));
            prop_assert_eq!(ks_points(&y, &s, max_points), thin(full, max_points));
        }

        #[test]
        fn psi_cuts_are_the_sorted_quantiles(
            e in proptest::collection::vec(0u8..30, 1..120),
            a in proptest::collection::vec(0u8..30, 1..120),
            bins in 2usize..12,
        ) {
            let e: Vec<f64> = e.into_iter().map(f64::from).collect();
            let a: Vec<f64> = a.into_iter().map(f64::from).collect();
            // Reference: cuts read off a full sort.
            let mut sorted = e.clone();
            sorted.sort_by(f64::total_cmp);
            let mut edges: Vec<f64> = (1..bins).map(|k| sorted[k * sorted.len() / bins]).collect();
            edges.dedup();
            let share = |v: &[f64]| {
                let mut c = vec![0.0; edges.len() + 1];
                for x in v {
                    c[edges.partition_point(|q| q <= x)] += 1.0;
                }
                c.into_iter().map(|k| (k / v.len() as f64).max(1e-4)).collect::<Vec<f64>>()
            };
            let (se, sa) = (share(&e), share(&a));
            let expected: f64 = se.iter().zip(&sa).map(|(e, a)| (a - e) * (a / e).ln()).sum();
            prop_assert!((psi(&e, &a, bins) - expected).abs() < 1e-12);
            prop_assert!(psi_discrete(&e, &a) >= 0.0);
            let mut rev = a.clone();
            rev.reverse();
            prop_assert!((psi_discrete(&e, &a) - psi_discrete(&e, &rev)).abs() < 1e-12);
        }

        #[test]
        fn auc_bounds_and_symmetry(data in proptest::collection::vec((0u8..2, 0u16..50), 2..200)) {
            let y: Vec<f64> = data.iter().map(|d| d.0 as f64).collect();
            let s: Vec<f64> = data.iter().map(|d| d.1 as f64 / 50.0).collect();
            let a = auc(&y, &s);
            prop_assert!((0.0..=1.0).contains(&a));
            let flipped: Vec<f64> = s.iter().map(|v| 1.0 - v).collect();
            let has_both = y.iter().any(|v| *v > 0.5) && y.iter().any(|v| *v < 0.5);
            if has_both {
                prop_assert!((auc(&y, &flipped) - (1.0 - a)).abs() < 1e-9);
            }
            let k = ks(&y, &s);
            prop_assert!((0.0..=1.0).contains(&k));
            let ap = pr_auc(&y, &s);
            prop_assert!((0.0..=1.0 + 1e-12).contains(&ap));
            let roc = roc_points(&y, &s, 50);
            prop_assert!(roc.windows(2).all(|w| w[1].0 >= w[0].0 && w[1].1 >= w[0].1));
        }

        #[test]
        fn auc_is_invariant_to_monotone_transforms(data in proptest::collection::vec((0u8..2, 0u16..1000), 2..100)) {
            let y: Vec<f64> = data.iter().map(|d| d.0 as f64).collect();
            let s: Vec<f64> = data.iter().map(|d| d.1 as f64).collect();
            let t: Vec<f64> = s.iter().map(|v| (v / 100.0).exp()).collect();
            prop_assert!((auc(&y, &s) - auc(&y, &t)).abs() < 1e-12);
        }
    }
}

/// Metrics of predicted amounts against realised ones (a continuous target such as LGD).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RegressionMetrics {
    /// Rows.
    pub n: u64,
    /// Root mean squared error.
    pub rmse: f64,
    /// Mean absolute error.
    pub mae: f64,
    /// Coefficient of determination, `1 - SSE / SST` (0 predicts as well as the mean).
    pub r2: f64,
    /// Accuracy ratio of the ranking: the area between the model's cumulative accuracy profile
    /// (rows by prediction, highest first, against their share of the total realised amount)
    /// and the diagonal, over the same area for the perfect ranking; 1 is perfect, 0 random.
    pub accuracy_ratio: f64,
    /// Mean prediction.
    pub mean_predicted: f64,
    /// Mean realised value.
    pub mean_realised: f64,
}

/// The area under the cumulative accuracy profile of `y` with rows taken in `order` (tied
/// scores in `score` taken together, as a straight segment).
fn cap_area(y: &[f64], score: &[f64], order: &[usize]) -> f64 {
    let n = y.len() as f64;
    let total: f64 = y.iter().sum();
    if total <= 0.0 {
        return 0.5;
    }
    let (mut area, mut x0, mut c0) = (0.0, 0.0, 0.0);
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        let mut sum = 0.0;
        while j < order.len() && score[order[j]] == score[order[i]] {
            sum += y[order[j]];
            j += 1;
        }
        let (x1, c1) = (x0 + (j - i) as f64 / n, c0 + sum / total);
        area += (x1 - x0) * (c0 + c1) / 2.0;
        (x0, c0) = (x1, c1);
        i = j;
    }
    area
}

/// RMSE, MAE, R2 and the accuracy ratio of predictions `p` of realised values `y`.
pub fn regression_metrics(y: &[f64], p: &[f64]) -> RegressionMetrics {
    let n = y.len().max(1) as f64;
    let mean_realised = y.iter().sum::<f64>() / n;
    let mean_predicted = p.iter().sum::<f64>() / n;
    let sse: f64 = y.iter().zip(p).map(|(a, b)| (a - b) * (a - b)).sum();
    let sst: f64 = y.iter().map(|a| (a - mean_realised) * (a - mean_realised)).sum();
    let model = cap_area(y, p, &order_desc(p));
    let perfect = cap_area(y, y, &order_desc(y));
    RegressionMetrics {
        n: y.len() as u64,
        rmse: (sse / n).sqrt(),
        mae: y.iter().zip(p).map(|(a, b)| (a - b).abs()).sum::<f64>() / n,
        r2: if sst > 0.0 { 1.0 - sse / sst } else { 0.0 },
        accuracy_ratio: if perfect > 0.5 {
            (model - 0.5) / (perfect - 0.5)
        } else {
            0.0
        },
        mean_predicted,
        mean_realised,
    }
}

/// One decile of predictions: rows, mean prediction and mean realised value.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DecileRow {
    /// 1 = the lowest predictions.
    pub decile: u32,
    /// Rows.
    pub n: u64,
    /// Mean prediction.
    pub predicted: f64,
    /// Mean realised value.
    pub realised: f64,
}

/// Predicted against realised by decile of the prediction (rows sorted by prediction, then
/// cut into ten groups as equal as they can be).
pub fn deciles(y: &[f64], p: &[f64]) -> Vec<DecileRow> {
    let mut order = order_desc(p);
    order.reverse();
    let n = order.len();
    (0..10)
        .filter_map(|d| {
            let (a, b) = (d * n / 10, (d + 1) * n / 10);
            (b > a).then(|| {
                let rows = &order[a..b];
                let k = rows.len() as f64;
                DecileRow {
                    decile: d as u32 + 1,
                    n: rows.len() as u64,
                    predicted: rows.iter().map(|&i| p[i]).sum::<f64>() / k,
                    realised: rows.iter().map(|&i| y[i]).sum::<f64>() / k,
                }
            })
        })
        .collect()
}

/// The metric that model search and selection optimise, chosen by the task's target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// ROC AUC (binary target): higher is better.
    Auc,
    /// Root mean squared error (continuous target): lower is better.
    Rmse,
    /// Average precision against an evaluation label (detectors): higher is better.
    AveragePrecision,
    /// Fraud on events: the mean over days of card precision at [`fraud::TOP_CARDS`]
    /// ([`fraud::card_precision_at_k`]); needs each row's day and card. Higher is better.
    CardPrecision,
}

impl Metric {
    /// The metric's short name (`auc`, `rmse`, `average_precision`).
    pub fn name(self) -> &'static str {
        match self {
            Metric::Auc => "auc",
            Metric::Rmse => "rmse",
            Metric::AveragePrecision => "average_precision",
            Metric::CardPrecision => "card_precision",
        }
    }

    /// The metric for a target kind: AUC for binary, RMSE for continuous, average precision
    /// (against the optional label) when there is no target.
    pub fn for_target(target: riskpipe_core::Target) -> Metric {
        match target {
            riskpipe_core::Target::Binary => Metric::Auc,
            riskpipe_core::Target::Continuous => Metric::Rmse,
            riskpipe_core::Target::None => Metric::AveragePrecision,
        }
    }

    /// The metric of predictions `p` against `y` (card precision: NaN, it needs
    /// [`Metric::score_events`]).
    pub fn score(self, y: &[f64], p: &[f64]) -> f64 {
        self.score_events(y, p, None)
    }

    /// The metric of predictions `p` against `y`, with each row's day and card when the rows
    /// are events (card precision reads them; the other metrics do not).
    pub fn score_events(self, y: &[f64], p: &[f64], events: Option<(&[i64], &[i64])>) -> f64 {
        match self {
            Metric::Auc => auc(y, p),
            Metric::Rmse => {
                let n = y.len().max(1) as f64;
                (y.iter().zip(p).map(|(a, b)| (a - b) * (a - b)).sum::<f64>() / n).sqrt()
            }
            Metric::AveragePrecision => pr_auc(y, p),
            Metric::CardPrecision => match events {
                Some((day, card)) => {
                    fraud::mean_card_precision(&fraud::card_precision_at_k(day, card, y, p, fraud::TOP_CARDS)).0
                }
                None => f64::NAN,
            },
        }
    }

    /// Whether `a` is strictly better than `b`.
    pub fn better(self, a: f64, b: f64) -> bool {
        match self {
            Metric::Auc | Metric::AveragePrecision | Metric::CardPrecision => a > b,
            Metric::Rmse => a < b,
        }
    }

    /// A value every real score beats.
    pub fn worst(self) -> f64 {
        match self {
            Metric::Auc | Metric::AveragePrecision | Metric::CardPrecision => f64::NEG_INFINITY,
            Metric::Rmse => f64::INFINITY,
        }
    }
}

#[cfg(test)]
mod metric_tests {
    use super::*;

    #[test]
    fn the_target_chooses_the_metric_and_its_direction() {
        use riskpipe_core::Target;
        assert_eq!(Metric::for_target(Target::Binary), Metric::Auc);
        assert_eq!(Metric::for_target(Target::Continuous), Metric::Rmse);
        assert_eq!(Metric::Rmse.name(), "rmse");
        let y = [0.0, 0.0, 1.0, 1.0];
        assert_eq!(Metric::Auc.score(&y, &[0.1, 0.2, 0.8, 0.9]), 1.0);
        assert!((Metric::Rmse.score(&[1.0, 3.0], &[2.0, 3.0]) - 0.5f64.sqrt()).abs() < 1e-15);
        assert!(Metric::Rmse.better(0.1, 0.2) && !Metric::Auc.better(0.1, 0.2));
        assert!(Metric::Rmse.better(1e300, Metric::Rmse.worst()));
        assert!(Metric::Auc.better(0.0, Metric::Auc.worst()));
    }

    #[test]
    fn card_precision_ranks_each_days_cards_and_needs_them() {
        // Two days of 150 cards, one transaction each; on day 0 the 30 frauds score highest,
        // on day 1 the 20 frauds score lowest: 30 of the top 100, then 0.
        let (mut day, mut card, mut y, mut p) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for d in 0..2i64 {
            for c in 0..150i64 {
                let fraud = if d == 0 { c < 30 } else { c >= 130 };
                day.push(d);
                card.push(1000 * d + c);
                y.push(f64::from(u8::from(fraud)));
                p.push(1.0 - c as f64 / 150.0);
            }
        }
        let cp = Metric::CardPrecision.score_events(&y, &p, Some((&day, &card)));
        assert!((cp - (0.30 + 0.0) / 2.0).abs() < 1e-15, "{cp}");
        assert!(Metric::CardPrecision.score(&y, &p).is_nan());
        assert!(Metric::CardPrecision.better(cp, Metric::CardPrecision.worst()));
        assert_eq!(Metric::CardPrecision.name(), "card_precision");
    }

    #[test]
    fn regression_metrics_at_known_points() {
        let y = [0.1, 0.9, 0.4, 0.0, 1.0, 0.6];
        let perfect = regression_metrics(&y, &y);
        assert_eq!((perfect.rmse, perfect.mae, perfect.r2), (0.0, 0.0, 1.0));
        assert!((perfect.accuracy_ratio - 1.0).abs() < 1e-12);
        // The mean as every prediction: R2 0, and a ranking of ties, accuracy ratio 0.
        let m = y.iter().sum::<f64>() / 6.0;
        let flat = regression_metrics(&y, &[m; 6]);
        assert!(flat.r2.abs() < 1e-12 && flat.accuracy_ratio.abs() < 1e-12, "{flat:?}");
        // The ranking reversed: accuracy ratio -1, whatever the scale of the predictions.
        let rev: Vec<f64> = y.iter().map(|v| 5.0 - 3.0 * v).collect();
        assert!((regression_metrics(&y, &rev).accuracy_ratio + 1.0).abs() < 1e-12);
        // RMSE and MAE by hand.
        let r = regression_metrics(&[0.0, 1.0], &[0.5, 0.5]);
        assert!((r.rmse - 0.5).abs() < 1e-15 && (r.mae - 0.5).abs() < 1e-15 && (r.r2 + 0.0).abs() < 1e-15);
        // Deciles: ten groups in prediction order, means by hand.
        let p: Vec<f64> = (0..20).map(f64::from).collect();
        let yy: Vec<f64> = p.iter().map(|v| v * 2.0).collect();
        let d = deciles(&yy, &p);
        assert_eq!(d.len(), 10);
        assert_eq!((d[0].n, d[0].predicted, d[0].realised), (2, 0.5, 1.0));
        assert_eq!((d[9].predicted, d[9].realised), (18.5, 37.0));
    }
}
