//! HBOS: histogram-based outlier score. Per feature, an equal-width histogram of the training
//! values; a row's score is the sum over features of `-ln(density + alpha)` of the bin it falls
//! in, so rows in sparse bins of several features score highest.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use riskpipe_core::{Error, Result};

/// Settings of HBOS.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HbosParams {
    /// Bins per feature (default 10).
    pub n_bins: usize,
    /// Added to every density before the logarithm, so an empty bin scores finitely (default
    /// 0.1).
    pub alpha: f64,
    /// A value outside the training range but within `tol` bin widths of it counts in the edge
    /// bin; farther out it gets the sparsest bin's density (default 0.5).
    pub tol: f64,
}

impl Default for HbosParams {
    fn default() -> Self {
        HbosParams {
            n_bins: 10,
            alpha: 0.1,
            tol: 0.5,
        }
    }
}

/// One feature's histogram.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Histogram {
    /// Lowest training value (left edge of the first bin).
    pub min: f64,
    /// Bin width (0 for a constant column: one bin).
    pub width: f64,
    /// Density of each bin: its share of the rows divided by the bin width (a share for a
    /// constant column).
    pub density: Vec<f64>,
}

/// A fitted HBOS detector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hbos {
    /// Feature names, in column order.
    pub features: Vec<String>,
    /// Per feature, its histogram.
    pub histograms: Vec<Histogram>,
    /// The settings used.
    pub params: HbosParams,
}

impl Histogram {
    fn fit(c: &[f64], bins: usize) -> Histogram {
        let min = c.iter().copied().fold(f64::INFINITY, f64::min);
        let max = c.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let n = c.len() as f64;
        if max <= min {
            return Histogram {
                min,
                width: 0.0,
                density: vec![1.0],
            };
        }
        let width = (max - min) / bins as f64;
        let mut counts = vec![0.0; bins];
        for v in c {
            counts[(((v - min) / width) as usize).min(bins - 1)] += 1.0;
        }
        Histogram {
            min,
            width,
            density: counts.into_iter().map(|k| k / n / width).collect(),
        }
    }

    /// The density of `x`'s bin, as PyOD scores it: bins are counted `[a, b)` but read closed on
    /// the right, `(a, b]`, with the lowest
    /// value in the first; a value beyond the range by more than `tol` bin widths gets the
    /// lowest density of any bin (so a column whose every bin is full never makes an unseen
    /// value look more usual than its sparsest bin).
    fn density_at(&self, x: f64, tol: f64) -> f64 {
        let sparsest = || self.density.iter().copied().fold(f64::INFINITY, f64::min);
        if self.width == 0.0 {
            return if x == self.min { self.density[0] } else { 0.0 };
        }
        let pos = (x - self.min) / self.width;
        let bins = self.density.len() as f64;
        if pos <= 0.0 {
            return if -pos <= tol { self.density[0] } else { sparsest() };
        }
        if pos > bins {
            return if pos - bins <= tol {
                self.density[self.density.len() - 1]
            } else {
                sparsest()
            };
        }
        self.density[((pos.ceil() as usize).max(1) - 1).min(self.density.len() - 1)]
    }
}

impl Hbos {
    /// Fits on columns `x` (named `names`); no target.
    pub fn fit(names: &[String], x: &[&[f64]], params: &HbosParams) -> Result<Self> {
        super::check_table("HBOS", names, x)?;
        if params.n_bins < 2
            || !(params.alpha.is_finite() && params.alpha > 0.0)
            || params.tol.is_nan()
            || params.tol < 0.0
        {
            return Err(Error::Internal(format!(
                "HBOS: needs n_bins >= 2, alpha > 0 and tol >= 0, found {params:?}"
            )));
        }
        Ok(Hbos {
            features: names.to_vec(),
            histograms: x.par_iter().map(|c| Histogram::fit(c, params.n_bins)).collect(),
            params: params.clone(),
        })
    }

    /// Each feature's term of one row's score: the reasons of a flagged row.
    pub fn tails(&self, row: &[f64]) -> Vec<f64> {
        let (a, tol) = (self.params.alpha, self.params.tol);
        self.histograms
            .iter()
            .zip(row)
            .map(|(h, v)| -(h.density_at(*v, tol) + a).ln())
            .collect()
    }

    /// The anomaly score of each row: the sum of its features' terms.
    pub fn score(&self, x: &[&[f64]]) -> Vec<f64> {
        let (a, tol) = (self.params.alpha, self.params.tol);
        crate::predict_rows(x, |row| {
            self.histograms
                .iter()
                .zip(row)
                .map(|(h, v)| -(h.density_at(*v, tol) + a).ln())
                .sum()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn densities_integrate_to_one_and_sparse_bins_score_high() {
        let c: Vec<f64> = (0..90)
            .map(|i| f64::from(i % 10))
            .chain([1.0; 10])
            .chain([50.0; 10])
            .collect();
        let names = vec!["c".to_string()];
        let h = Hbos::fit(&names, &[&c], &HbosParams::default()).unwrap();
        let hist = &h.histograms[0];
        let mass: f64 = hist.density.iter().map(|d| d * hist.width).sum();
        assert!((mass - 1.0).abs() < 1e-12, "{mass}");
        // 0..9 (1 more often) fill the first two bins (width 5; counted as numpy does, [0, 5)
        // holding half the rows, then [5, 10)); 50 the last; the middle bins are empty. Scored
        // as PyOD does, on right-closed bins: 5 reads the first, fuller bin.
        assert!((hist.density[0] * hist.width - 0.5).abs() < 1e-12);
        assert!(hist.density[0] > hist.density[1]);
        assert_eq!(h.score(&[&[5.0]])[0], h.score(&[&[1.0]])[0]);
        let s = h.score(&[&[1.0, 50.0, 30.0, 100.0]]);
        assert!(s[2] > s[1] && s[1] > s[0], "{s:?}");
        // Far beyond the range: the sparsest bin's density (0 here), the largest term.
        assert!((s[3] - -(0.1f64).ln()).abs() < 1e-12);
        // Just beyond the range, within half a bin: the edge bin's density.
        assert_eq!(h.score(&[&[52.0]])[0], s[1]);
        let bad = HbosParams {
            n_bins: 1,
            ..HbosParams::default()
        };
        assert!(Hbos::fit(&names, &[&c], &bad).is_err());
    }
}
