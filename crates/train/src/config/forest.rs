//! `train.models.forest`: a random forest on the encoded raw features.

use serde::Deserialize;

use riskpipe_models::{ForestParams, ModelParams, TreeParams};

use super::{ClassWeight, Ctx, GridConfig, IntValues, Splitter, balanced};

/// Grid of the random forest, as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForestGridConfig {
    /// Tree counts to try (default `[100]`).
    pub n_trees: Option<Vec<usize>>,
    /// Depths to try (default `[8]`), or with `search: random` a range `{min, max}`.
    pub max_depth: Option<IntValues>,
    /// Leaf sizes to try (default `[50]`, scaled down for small data).
    pub min_samples_leaf: Option<Vec<usize>>,
    /// Features drawn per split (default: square root of the features).
    pub max_features: Option<usize>,
    /// `balanced`: both classes weigh the same in the loss (default `none`).
    pub class_weight: Option<ClassWeight>,
    /// `histogram` (default: thresholds at the bins' edges) or `exact` (every midpoint between
    /// two distinct values, as scikit-learn's forest; slower, and sharper on a rule such as an
    /// amount above a limit that falls inside a wide bin).
    pub splitter: Option<Splitter>,
}

impl GridConfig for ForestGridConfig {
    fn expand(self: Box<Self>, ctx: &mut Ctx<'_>) -> Vec<ModelParams> {
        expand(*self, ctx).into_iter().map(ModelParams::from).collect()
    }
}

/// Every (tree count, depth, leaf size) combination.
fn expand(c: ForestGridConfig, ctx: &mut Ctx<'_>) -> Vec<ForestParams> {
    let trees = c.n_trees.unwrap_or_else(|| vec![100]);
    let depths = ctx.ints(
        &c.max_depth.unwrap_or_else(|| IntValues::List(vec![8])),
        "train.models.forest.max_depth",
    );
    let leaves = c.min_samples_leaf.unwrap_or_else(|| vec![50]);
    ctx.check(
        !trees.is_empty() && trees.iter().all(|t| (1..=2000).contains(t)),
        "train.models.forest.n_trees",
        "needs one or more counts between 1 and 2000",
    );
    ctx.check(
        !depths.is_empty() && depths.iter().all(|d| (1..=30).contains(d)),
        "train.models.forest.max_depth",
        "needs one or more depths between 1 and 30",
    );
    ctx.check(
        !leaves.is_empty() && !leaves.contains(&0),
        "train.models.forest.min_samples_leaf",
        "needs one or more sizes >= 1",
    );
    ctx.check(
        c.max_features != Some(0),
        "train.models.forest.max_features",
        "must be at least 1",
    );
    let mut out = Vec::new();
    for &n_trees in &trees {
        for &max_depth in &depths {
            for &min_samples_leaf in &leaves {
                out.push(ForestParams {
                    n_trees,
                    tree: TreeParams {
                        max_depth,
                        min_samples_leaf,
                        min_gain: 1e-7,
                        max_bins: 255,
                        max_features: c.max_features,
                        balanced: balanced(c.class_weight),
                        ccp_alpha: 0.0,
                        // Squared error for an amount (a regression forest), Gini for 0/1.
                        criterion: if ctx.target == riskpipe_core::Target::Continuous {
                            riskpipe_models::Criterion::SquaredError
                        } else {
                            riskpipe_models::Criterion::Gini
                        },
                        exact: c.splitter == Some(Splitter::Exact),
                    },
                    seed: ctx.seed,
                });
            }
        }
    }
    out
}
