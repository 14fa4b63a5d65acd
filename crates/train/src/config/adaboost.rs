//! `train.models.adaboost`: AdaBoost (SAMME) on shallow trees.

use serde::Deserialize;

use riskpipe_models::{AdaBoostParams, ModelParams};

use super::{Ctx, GridConfig, all};

/// Grid of AdaBoost, as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdaBoostGridConfig {
    /// Rounds to try (default `[100]`).
    pub n_estimators: Option<Vec<usize>>,
    /// Tree depths to try (default `[1]`: stumps).
    pub max_depth: Option<Vec<usize>>,
    /// Learning rates to try (default `[1.0]`).
    pub learning_rate: Option<Vec<f64>>,
}

impl GridConfig for AdaBoostGridConfig {
    fn expand(self: Box<Self>, ctx: &mut Ctx<'_>) -> Vec<ModelParams> {
        expand(*self, ctx).into_iter().map(ModelParams::from).collect()
    }
}

/// Every (rounds, depth, rate) combination.
fn expand(c: AdaBoostGridConfig, ctx: &mut Ctx<'_>) -> Vec<AdaBoostParams> {
    let rounds = c.n_estimators.unwrap_or_else(|| vec![100]);
    let depths = c.max_depth.unwrap_or_else(|| vec![1]);
    let rates = c.learning_rate.unwrap_or_else(|| vec![1.0]);
    ctx.check(
        !rounds.is_empty() && rounds.iter().all(|r| (1..=5000).contains(r)),
        "train.models.adaboost.n_estimators",
        "needs one or more counts between 1 and 5000",
    );
    ctx.check(
        !depths.is_empty() && depths.iter().all(|d| (1..=10).contains(d)),
        "train.models.adaboost.max_depth",
        "needs one or more depths between 1 and 10",
    );
    ctx.check(
        all(&rates, |r| r > 0.0 && r <= 10.0),
        "train.models.adaboost.learning_rate",
        "needs one or more rates in (0, 10]",
    );
    let mut out = Vec::new();
    for &n_estimators in &rounds {
        for &max_depth in &depths {
            for &learning_rate in &rates {
                out.push(AdaBoostParams {
                    n_estimators,
                    max_depth,
                    learning_rate,
                    min_samples_leaf: 1,
                });
            }
        }
    }
    out
}
