//! `train.models.iforest`, `.ecod`, `.hbos` and `.kmeans`: the anomaly detectors. A detector has no target
//! to choose between settings by, so each key takes one value (the default when left out).

use serde::Deserialize;

use riskpipe_models::{EcodParams, HbosParams, IsolationForestParams, KMeansParams, ModelParams};

use super::{Ctx, GridConfig};

/// `train.models.iforest`, as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IsolationForestConfig {
    /// Trees (default 100).
    pub n_trees: Option<usize>,
    /// Rows drawn for each tree (default 256).
    pub max_samples: Option<usize>,
}

impl GridConfig for IsolationForestConfig {
    fn expand(self: Box<Self>, ctx: &mut Ctx<'_>) -> Vec<ModelParams> {
        let d = IsolationForestParams::default();
        vec![ModelParams::from(IsolationForestParams {
            n_trees: self.n_trees.unwrap_or(d.n_trees),
            max_samples: self.max_samples.unwrap_or(d.max_samples),
            seed: ctx.seed,
        })]
    }
}

/// `train.models.ecod`, as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EcodConfig {
    /// Order statistics kept per feature (default 10,001).
    pub points: Option<usize>,
}

impl GridConfig for EcodConfig {
    fn expand(self: Box<Self>, _ctx: &mut Ctx<'_>) -> Vec<ModelParams> {
        vec![ModelParams::from(EcodParams {
            points: self.points.unwrap_or(EcodParams::default().points),
        })]
    }
}

/// `train.models.hbos`, as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HbosConfig {
    /// Bins per feature (default 10).
    pub n_bins: Option<usize>,
    /// Added to every density (default 0.1).
    pub alpha: Option<f64>,
    /// Bin widths outside the training range still read from the edge bin (default 0.5).
    pub tol: Option<f64>,
}

impl GridConfig for HbosConfig {
    fn expand(self: Box<Self>, _ctx: &mut Ctx<'_>) -> Vec<ModelParams> {
        let d = HbosParams::default();
        vec![ModelParams::from(HbosParams {
            n_bins: self.n_bins.unwrap_or(d.n_bins),
            alpha: self.alpha.unwrap_or(d.alpha),
            tol: self.tol.unwrap_or(d.tol),
        })]
    }
}

/// `train.models.kmeans`, as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KMeansConfig {
    /// Clusters (default 8).
    pub k: Option<usize>,
    /// Lloyd iterations at most (default 100).
    pub max_iter: Option<usize>,
    /// Convergence tolerance, relative to the mean variance (default 1e-4).
    pub tol: Option<f64>,
}

impl GridConfig for KMeansConfig {
    fn expand(self: Box<Self>, ctx: &mut Ctx<'_>) -> Vec<ModelParams> {
        let d = KMeansParams::default();
        vec![ModelParams::from(KMeansParams {
            k: self.k.unwrap_or(d.k),
            max_iter: self.max_iter.unwrap_or(d.max_iter),
            tol: self.tol.unwrap_or(d.tol),
            seed: ctx.seed,
        })]
    }
}
