//! `train.models.iforest`, `.ecod`, `.hbos`, `.kmeans`, `.gmm`, `.knn`, `.lof` and `.pca`: the
//! anomaly detectors. A detector has no target
//! to choose between settings by, so each key takes one value (the default when left out).

use serde::Deserialize;

use riskpipe_models::{
    Covariance, EcodParams, GmmParams, HbosParams, IsolationForestParams, KMeansParams, ModelParams, NeighbourParams,
    PcaParams, PcaScore,
};

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

/// `train.models.gmm`, as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GmmConfig {
    /// Mixture components (default 1).
    pub components: Option<usize>,
    /// `full` or `diag` (default full).
    pub covariance: Option<Covariance>,
    /// EM iterations at most (default 100).
    pub max_iter: Option<usize>,
    /// Stop when the mean log-likelihood changes by less (default 1e-3).
    pub tol: Option<f64>,
    /// Added to each variance (default 1e-6).
    pub reg_covar: Option<f64>,
}

impl GridConfig for GmmConfig {
    fn expand(self: Box<Self>, ctx: &mut Ctx<'_>) -> Vec<ModelParams> {
        let d = GmmParams::default();
        vec![ModelParams::from(GmmParams {
            components: self.components.unwrap_or(d.components),
            covariance: self.covariance.unwrap_or(d.covariance),
            max_iter: self.max_iter.unwrap_or(d.max_iter),
            tol: self.tol.unwrap_or(d.tol),
            reg_covar: self.reg_covar.unwrap_or(d.reg_covar),
            seed: ctx.seed,
        })]
    }
}

/// `train.models.knn` and `train.models.lof`, as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NeighbourConfig {
    /// Neighbours (default 5 for kNN, 20 for LOF).
    pub k: Option<usize>,
    /// Fit on a seeded sample of this many rows (at most 100,000, the row limit).
    pub max_rows: Option<usize>,
}

impl NeighbourConfig {
    fn params(self, defaults: NeighbourParams, seed: u64) -> NeighbourParams {
        NeighbourParams {
            k: self.k.unwrap_or(defaults.k),
            max_rows: self.max_rows,
            seed,
        }
    }
}

/// `train.models.knn`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(transparent)]
pub struct KnnConfig(pub NeighbourConfig);

impl GridConfig for KnnConfig {
    fn expand(self: Box<Self>, ctx: &mut Ctx<'_>) -> Vec<ModelParams> {
        vec![ModelParams::knn(self.0.params(NeighbourParams::knn(), ctx.seed))]
    }
}

/// `train.models.lof`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(transparent)]
pub struct LofConfig(pub NeighbourConfig);

impl GridConfig for LofConfig {
    fn expand(self: Box<Self>, ctx: &mut Ctx<'_>) -> Vec<ModelParams> {
        vec![ModelParams::lof(self.0.params(NeighbourParams::lof(), ctx.seed))]
    }
}

/// `train.models.pca`, as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PcaConfig {
    /// Components kept (default: by `variance`).
    pub components: Option<usize>,
    /// Share of variance the kept components reach (default 0.9).
    pub variance: Option<f64>,
    /// Left-out components in units of their spread (default false).
    pub weighted: Option<bool>,
    /// `reconstruction` (default) or `component_distance`.
    pub score: Option<PcaScore>,
}

impl GridConfig for PcaConfig {
    fn expand(self: Box<Self>, _ctx: &mut Ctx<'_>) -> Vec<ModelParams> {
        vec![ModelParams::from(PcaParams {
            components: self.components,
            variance: self.variance.unwrap_or(PcaParams::default().variance),
            weighted: self.weighted.unwrap_or(false),
            score: self.score.unwrap_or_default(),
        })]
    }
}
