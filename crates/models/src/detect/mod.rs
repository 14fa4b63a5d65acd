//! Anomaly detectors: fitted on a table without a target, they score rows so that higher means
//! more unusual. Each is seeded where it draws, deterministic to the bit on any thread count,
//! and serialisable.
//!
//! - [`IsolationForest`]: random axis-parallel splits on sub-samples; the shorter a row's path,
//!   the more isolated it is (Liu, Ting and Zhou 2008).
//! - [`Ecod`]: empirical-CDF tail probabilities per feature, summed (Li et al. 2022).
//! - [`Hbos`]: per-feature histogram densities, summed as negative logs (Goldstein and Dengel
//!   2012).
//! - [`KMeans`]: distance to the nearest of k centres (k-means++ seeds, Lloyd's iterations).
//! - [`GaussianMixture`]: negative log-likelihood under a Gaussian mixture fitted by EM (full
//!   or diagonal covariances).
//! - [`Knn`] and [`Lof`]: the distance to the k-th nearest fit row, and the local outlier
//!   factor, from exact neighbours (blocked brute force, at most [`NEIGHBOUR_ROW_LIMIT`] fit rows).
//! - [`crate::PcaDetector`]: the squared reconstruction error from the main principal
//!   components, or the weighted distance to every component.
//! - [`DetectorEnsemble`]: the mean of the detectors' scores, each first made its rank among
//!   that detector's training scores.
//!
//! Missing values: detectors read imputed columns (the features stage imputes); a NaN in fit
//! data is an error naming the column.

mod ecod;
mod ensemble;
mod gmm;
mod hbos;
mod iforest;
mod kmeans;
mod neighbors;

pub use ecod::{Ecod, EcodParams};
pub use ensemble::{DetectorEnsemble, Member, mid_rank};
pub use gmm::{Covariance, GaussianMixture, GmmParams};
pub use hbos::{Hbos, HbosParams};
pub use iforest::{IsolationForest, IsolationForestParams, average_path_length};
pub use kmeans::{KMeans, KMeansParams};
pub use neighbors::{Knn, Lof, NEIGHBOUR_ROW_LIMIT, NeighbourParams};

/// What every fitted detector does: score rows (higher = more unusual) and say, for one row,
/// how much each feature made it unusual (the reasons of a flagged row).
pub trait Detect: Sync {
    /// The anomaly score of each row of columns `x` (in the detector's feature order).
    fn score(&self, x: &[&[f64]]) -> Vec<f64>;
    /// Each feature's part in one row's unusualness (values in feature order; larger = more).
    fn explain_row(&self, row: &[f64]) -> Vec<f64>;
    /// Scores of the training rows `x` as new rows would score (the ensemble's rank reference):
    /// the scores of `x` for most detectors; a detector that keeps its fit rows (kNN, LOF) gives
    /// each fit row's score among the others, since a row is its own nearest neighbour.
    fn reference_scores(&self, x: &[&[f64]]) -> Vec<f64> {
        self.score(x)
    }
}

impl Detect for IsolationForest {
    fn score(&self, x: &[&[f64]]) -> Vec<f64> {
        IsolationForest::score(self, x)
    }
    fn explain_row(&self, row: &[f64]) -> Vec<f64> {
        self.attribution(row)
    }
}

impl Detect for Ecod {
    fn score(&self, x: &[&[f64]]) -> Vec<f64> {
        Ecod::score(self, x)
    }
    fn explain_row(&self, row: &[f64]) -> Vec<f64> {
        self.tails(row)
    }
}

impl Detect for KMeans {
    fn score(&self, x: &[&[f64]]) -> Vec<f64> {
        KMeans::score(self, x)
    }
    fn explain_row(&self, row: &[f64]) -> Vec<f64> {
        self.dimensions(row)
    }
}

impl Detect for GaussianMixture {
    fn score(&self, x: &[&[f64]]) -> Vec<f64> {
        GaussianMixture::score(self, x)
    }
    fn explain_row(&self, row: &[f64]) -> Vec<f64> {
        self.deviations(row)
    }
}

impl Detect for Knn {
    fn score(&self, x: &[&[f64]]) -> Vec<f64> {
        Knn::score(self, x)
    }
    fn explain_row(&self, row: &[f64]) -> Vec<f64> {
        self.dimensions(row)
    }
    fn reference_scores(&self, _x: &[&[f64]]) -> Vec<f64> {
        self.fit_scores.clone()
    }
}

impl Detect for Lof {
    fn score(&self, x: &[&[f64]]) -> Vec<f64> {
        Lof::score(self, x)
    }
    fn explain_row(&self, row: &[f64]) -> Vec<f64> {
        self.dimensions(row)
    }
    fn reference_scores(&self, _x: &[&[f64]]) -> Vec<f64> {
        self.fit_scores.clone()
    }
}

impl Detect for crate::PcaDetector {
    fn score(&self, x: &[&[f64]]) -> Vec<f64> {
        crate::PcaDetector::score(self, x)
    }
    fn explain_row(&self, row: &[f64]) -> Vec<f64> {
        crate::PcaDetector::explain_row(self, row)
    }
}

impl Detect for Hbos {
    fn score(&self, x: &[&[f64]]) -> Vec<f64> {
        Hbos::score(self, x)
    }
    fn explain_row(&self, row: &[f64]) -> Vec<f64> {
        self.tails(row)
    }
}

use riskpipe_core::{Error, Result};

/// Checks a detector's fit data: rows and columns present, as many names as columns, every
/// column as long as the first, and no value that is not finite.
pub(crate) fn check_table(what: &str, names: &[String], x: &[&[f64]]) -> Result<usize> {
    let n = x.first().map_or(0, |c| c.len());
    if n == 0 || x.is_empty() || names.len() != x.len() {
        return Err(Error::Internal(format!(
            "{what}: needs rows and one name per column ({} names, {} columns, {n} rows)",
            names.len(),
            x.len()
        )));
    }
    for (name, c) in names.iter().zip(x) {
        if c.len() != n {
            return Err(Error::Internal(format!(
                "{what}: column `{name}` has {} rows, not {n}",
                c.len()
            )));
        }
        if let Some(i) = c.iter().position(|v| !v.is_finite()) {
            return Err(Error::Internal(format!(
                "{what}: column `{name}` has a value that is not finite at row {i}; impute it first"
            )));
        }
    }
    Ok(n)
}
