//! `train.models.regression_tree`: one CART tree on squared error, for continuous targets.

use serde::Deserialize;

use riskpipe_models::{ModelParams, RegressionTreeParams};

use super::{Ctx, GridConfig, IntValues};

/// Grid of the regression tree, as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegressionTreeGridConfig {
    /// Depths to try (default `[3, 5, 7]`), or with `search: random` a range `{min, max}`.
    pub max_depth: Option<IntValues>,
    /// Leaf sizes to try (default `[50, 200]`, scaled down for small data).
    pub min_samples_leaf: Option<Vec<usize>>,
    /// Histogram bins per feature (default 255).
    pub max_bins: Option<usize>,
}

impl GridConfig for RegressionTreeGridConfig {
    /// Every (depth, leaf size) combination; the model's own check names a bad value.
    fn expand(self: Box<Self>, ctx: &mut Ctx<'_>) -> Vec<ModelParams> {
        let depths = ctx.ints(
            &self.max_depth.unwrap_or_else(|| IntValues::List(vec![3, 5, 7])),
            "train.models.regression_tree.max_depth",
        );
        let leaves = self.min_samples_leaf.unwrap_or_else(|| vec![50, 200]);
        ctx.check(
            !depths.is_empty() && !leaves.is_empty(),
            "train.models.regression_tree",
            "needs one or more `max_depth` and `min_samples_leaf` values",
        );
        let max_bins = self.max_bins.unwrap_or(255);
        let mut out = Vec::new();
        for &max_depth in &depths {
            for &min_samples_leaf in &leaves {
                out.push(ModelParams::from(RegressionTreeParams {
                    max_depth,
                    min_samples_leaf,
                    max_bins,
                }));
            }
        }
        out
    }
}
