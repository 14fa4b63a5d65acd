//! ECOD: empirical-CDF-based outlier detection. Per feature, how far into either tail a value
//! lies, as `-ln` of the empirical tail probability; the tails a feature's skew points to weigh
//! in; the per-feature tail scores add up. No parameter to tune.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use riskpipe_core::{Error, Result};

/// Settings of ECOD.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EcodParams {
    /// Order statistics kept per feature (default 10,001): with fewer training rows every value
    /// is kept and the empirical CDF is exact; with more, it is interpolated between evenly
    /// spaced order statistics (an error of at most one part in `points` of the tail
    /// probability), so the fitted detector stays small.
    pub points: usize,
}

impl Default for EcodParams {
    fn default() -> Self {
        EcodParams { points: 10_001 }
    }
}

/// One feature's empirical distribution: sorted order statistics and the ranks they sit at.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ecdf {
    /// Values at ranks `ranks` (0-based, ascending) of the sorted training column.
    pub values: Vec<f64>,
    /// Their ranks, ascending; the last is `rows - 1`.
    pub ranks: Vec<f64>,
    /// The sign of the column's sample skewness (-1, 0 or 1).
    pub skew_sign: f64,
}

/// A fitted ECOD detector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ecod {
    /// Feature names, in column order.
    pub features: Vec<String>,
    /// Training rows.
    pub rows: usize,
    /// Per feature, its empirical distribution.
    pub ecdf: Vec<Ecdf>,
    /// The settings used.
    pub params: EcodParams,
}

fn skew_sign(c: &[f64]) -> f64 {
    let n = c.len() as f64;
    let m = c.iter().sum::<f64>() / n;
    let (m2, m3) = c.iter().fold((0.0, 0.0), |(a, b), v| {
        let d = v - m;
        (a + d * d, b + d * d * d)
    });
    if m2 <= 0.0 {
        return 0.0;
    }
    // g1 = m3 / m2^1.5 (population moments), as scipy's skew; only its sign is used.
    let g1 = (m3 / n) / (m2 / n).powf(1.5);
    if g1.abs() < 1e-12 { 0.0 } else { g1.signum() }
}

impl Ecdf {
    fn fit(c: &[f64], points: usize) -> Ecdf {
        let mut v = c.to_vec();
        v.sort_by(f64::total_cmp);
        let n = v.len();
        let (values, ranks) = if n <= points {
            (v, (0..n).map(|r| r as f64).collect())
        } else {
            let idx: Vec<usize> = (0..points)
                .map(|k| ((k as f64) * (n - 1) as f64 / (points - 1) as f64).round() as usize)
                .collect();
            (
                idx.iter().map(|&i| v[i]).collect(),
                idx.iter().map(|&i| i as f64).collect(),
            )
        };
        Ecdf {
            values,
            ranks,
            skew_sign: skew_sign(c),
        }
    }

    /// Training rows at or below `x` (interpolated between kept order statistics).
    fn below(&self, x: f64) -> f64 {
        let k = self.values.partition_point(|v| *v <= x);
        if k == 0 {
            return 0.0;
        }
        if k == self.values.len() {
            return self.ranks[k - 1] + 1.0;
        }
        // Between kept statistics k-1 (<= x) and k (> x): ranks in between are interpolated.
        let (v0, v1) = (self.values[k - 1], self.values[k]);
        let (r0, r1) = (self.ranks[k - 1], self.ranks[k]);
        if r1 - r0 <= 1.0 || v1 <= v0 {
            return r0 + 1.0;
        }
        r0 + 1.0 + ((x - v0) / (v1 - v0)) * (r1 - r0 - 1.0)
    }

    /// Training rows at or above `x`.
    fn above(&self, x: f64, n: f64) -> f64 {
        let k = self.values.partition_point(|v| *v < x);
        if k == self.values.len() {
            return 0.0;
        }
        if k == 0 {
            return n;
        }
        let (v0, v1) = (self.values[k - 1], self.values[k]);
        let (r0, r1) = (self.ranks[k - 1], self.ranks[k]);
        if r1 - r0 <= 1.0 || v1 <= v0 {
            return n - r1;
        }
        n - r1 + ((v1 - x) / (v1 - v0)) * (r1 - r0 - 1.0)
    }

    /// The feature's tail score of `x`: the larger of the left- and right-tail `-ln`
    /// probabilities, or their sum for a symmetric column; probabilities count the scored value
    /// itself, `(count + 1) / (n + 1)`, so an unseen extreme gets a finite score.
    fn tail(&self, x: f64, n: f64) -> f64 {
        let left = -((self.below(x) + 1.0) / (n + 1.0)).ln();
        let right = -((self.above(x, n) + 1.0) / (n + 1.0)).ln();
        let skewed = match self.skew_sign {
            s if s < 0.0 => left,
            s if s > 0.0 => right,
            _ => left + right,
        };
        left.max(right).max(skewed)
    }
}

impl Ecod {
    /// Fits on columns `x` (named `names`); no target.
    pub fn fit(names: &[String], x: &[&[f64]], params: &EcodParams) -> Result<Self> {
        let n = super::check_table("ECOD", names, x)?;
        if params.points < 2 {
            return Err(Error::Internal("ECOD: `points` must be at least 2".into()));
        }
        Ok(Ecod {
            features: names.to_vec(),
            rows: n,
            ecdf: x.par_iter().map(|c| Ecdf::fit(c, params.points)).collect(),
            params: params.clone(),
        })
    }

    /// Each feature's tail score for one row (values in feature order): the reasons of a
    /// flagged row.
    pub fn tails(&self, row: &[f64]) -> Vec<f64> {
        let n = self.rows as f64;
        self.ecdf.iter().zip(row).map(|(e, v)| e.tail(*v, n)).collect()
    }

    /// The anomaly score of each row: the sum of its features' tail scores.
    pub fn score(&self, x: &[&[f64]]) -> Vec<f64> {
        let n = self.rows as f64;
        crate::predict_rows(x, |row| self.ecdf.iter().zip(row).map(|(e, v)| e.tail(*v, n)).sum())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use riskpipe_core::Rng;

    #[test]
    fn tails_follow_the_empirical_cdf_and_extremes_score_highest() {
        // One column 0..99: the value 0 has 1 row at or below it (left -ln(2/101)), 100 at or
        // above (right -ln(101/101) = 0); symmetric, so the two add.
        let c: Vec<f64> = (0..100).map(f64::from).collect();
        let names = vec!["c".to_string()];
        let e = Ecod::fit(&names, &[&c], &EcodParams::default()).unwrap();
        assert_eq!(e.ecdf[0].skew_sign, 0.0);
        let t = e.tails(&[0.0])[0];
        assert!((t - (-(2.0f64 / 101.0).ln())).abs() < 1e-12, "{t}");
        let s = e.score(&[&[-50.0, 0.0, 49.5, 99.0, 500.0]]);
        assert!(s[0] > s[1] && s[1] > s[2] && s[4] > s[3] && s[3] > s[2], "{s:?}");
        // Beyond the training range: the count is 0, the probability 1/(n+1), finite.
        assert!((s[0] - (101.0f64).ln()).abs() < 1e-12, "{s:?}");
    }

    #[test]
    fn interpolated_order_statistics_stay_close_to_the_exact_cdf() {
        let mut rng = Rng::new(3);
        let c: Vec<f64> = (0..50_000).map(|_| rng.normal().exp()).collect();
        let names = vec!["c".to_string()];
        let exact = Ecod::fit(&names, &[&c], &EcodParams { points: 50_000 }).unwrap();
        let sketch = Ecod::fit(&names, &[&c], &EcodParams::default()).unwrap();
        assert_eq!(sketch.ecdf[0].values.len(), 10_001);
        assert_eq!(exact.ecdf[0].skew_sign, 1.0);
        let probe: Vec<f64> = (0..200).map(|_| rng.normal().exp() * 1.5).collect();
        let (a, b) = (exact.score(&[&probe]), sketch.score(&[&probe]));
        for (u, v) in a.iter().zip(&b) {
            // Rank error below 50_000 / 10_000 rows: tiny in -ln of the tail probability,
            // except far in the tail where the exact score is large anyway.
            assert!((u - v).abs() < 0.05 * u.max(1.0), "{u} {v}");
        }
        // Planted outliers, extreme in both columns at once, rank first; a normal row extreme
        // in one column only does not.
        let mut x0: Vec<f64> = (0..1000).map(|_| rng.normal()).collect();
        let mut x1: Vec<f64> = (0..1000).map(|_| rng.normal()).collect();
        x0.extend([8.0, -9.0, 7.5]);
        x1.extend([8.0, -7.0, -8.0]);
        let two = vec!["a".to_string(), "b".to_string()];
        let d = Ecod::fit(&two, &[&x0, &x1], &EcodParams::default()).unwrap();
        let s = d.score(&[&x0, &x1]);
        let mut order: Vec<usize> = (0..s.len()).collect();
        order.sort_by(|i, j| s[*j].total_cmp(&s[*i]));
        let mut top: Vec<usize> = order[..3].to_vec();
        top.sort_unstable();
        assert_eq!(top, vec![1000, 1001, 1002]);
    }
}
