//! `train.models.tree`: one CART tree on the encoded raw features.

use serde::Deserialize;

use riskpipe_models::{ModelParams, TreeParams};

use super::{ClassWeight, Ctx, GridConfig, IntValues, all, balanced};

/// Grid of the decision tree, as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TreeGridConfig {
    /// Depths to try (default `[3, 5, 7]`), or with `search: random` a range `{min, max}`.
    pub max_depth: Option<IntValues>,
    /// Leaf sizes to try (default `[50, 200]`, scaled down for small data).
    pub min_samples_leaf: Option<Vec<usize>>,
    /// Histogram bins per feature (default 255).
    pub max_bins: Option<usize>,
    /// `balanced` to weigh both classes equally, or `none` (default).
    pub class_weight: Option<ClassWeight>,
    /// Cost-complexity pruning strengths to try (default `[0]`: none).
    pub ccp_alpha: Option<Vec<f64>>,
    /// `histogram` (default: thresholds at the bins' edges) or `exact` (every midpoint between
    /// two distinct values, as scikit-learn's CART).
    pub splitter: Option<String>,
}

impl GridConfig for TreeGridConfig {
    fn expand(self: Box<Self>, ctx: &mut Ctx<'_>) -> Vec<ModelParams> {
        expand(*self, ctx).into_iter().map(ModelParams::from).collect()
    }
}

/// Every (depth, leaf size, pruning) combination.
fn expand(c: TreeGridConfig, ctx: &mut Ctx<'_>) -> Vec<TreeParams> {
    let depths = ctx.ints(
        &c.max_depth.unwrap_or_else(|| IntValues::List(vec![3, 5, 7])),
        "train.models.tree.max_depth",
    );
    let leaves = c.min_samples_leaf.unwrap_or_else(|| vec![50, 200]);
    let max_bins = c.max_bins.unwrap_or(255);
    let alphas = c.ccp_alpha.unwrap_or_else(|| vec![0.0]);
    let exact = match c.splitter.as_deref() {
        None | Some("histogram") => false,
        Some("exact") => true,
        Some(other) => {
            ctx.check(
                false,
                "train.models.tree.splitter",
                &format!("unknown `{other}`, expected `histogram` or `exact`"),
            );
            false
        }
    };
    ctx.check(
        !depths.is_empty() && depths.iter().all(|d| (1..=30).contains(d)),
        "train.models.tree.max_depth",
        "needs one or more depths between 1 and 30",
    );
    ctx.check(
        !leaves.is_empty() && !leaves.contains(&0),
        "train.models.tree.min_samples_leaf",
        "needs one or more sizes >= 1",
    );
    ctx.check(
        (2..=255).contains(&max_bins),
        "train.models.tree.max_bins",
        "must be between 2 and 255",
    );
    ctx.check(
        all(&alphas, |a| a >= 0.0),
        "train.models.tree.ccp_alpha",
        "needs one or more values >= 0",
    );
    let mut out = Vec::new();
    for &max_depth in &depths {
        for &min_samples_leaf in &leaves {
            for &ccp_alpha in &alphas {
                out.push(TreeParams {
                    max_depth,
                    min_samples_leaf,
                    min_gain: 1e-7,
                    max_bins,
                    max_features: None,
                    balanced: balanced(c.class_weight),
                    ccp_alpha,
                    exact,
                    ..TreeParams::default()
                });
            }
        }
    }
    out
}
