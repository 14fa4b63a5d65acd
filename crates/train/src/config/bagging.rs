//! `train.models.bagging`: bootstrap averages of any base model.

use serde::Deserialize;

use riskpipe_models::{
    AdaBoostParams, BaggingParams, BaseParams, BoostingParams, ForestParams, LogisticParams, MlpParams, ModelParams,
    TreeParams,
};

use super::{Ctx, GridConfig, all};

/// Grid of bagging, as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BaggingGridConfig {
    /// The base model: `tree` (default), `logistic` (on WoE features), `forest`, `boosting`,
    /// `adaboost` or `mlp`, with its default settings (the forest: 20 trees of depth 8).
    pub base: Option<String>,
    /// Member counts to try (default `[10]`).
    pub n_estimators: Option<Vec<usize>>,
    /// Bootstrap sizes, as shares of the rows, to try (default `[1.0]`).
    pub max_samples: Option<Vec<f64>>,
}

/// The base model `name` with its default settings.
fn base(name: &str, seed: u64) -> Option<BaseParams> {
    Some(match name {
        "tree" => BaseParams::Tree(TreeParams::default()),
        "logistic" => BaseParams::Logistic(LogisticParams::default()),
        "boosting" => BaseParams::Boosting(BoostingParams {
            seed,
            ..BoostingParams::default()
        }),
        "forest" => BaseParams::Forest(ForestParams {
            n_trees: 20,
            tree: TreeParams {
                max_depth: 8,
                min_samples_leaf: 50,
                ..TreeParams::default()
            },
            seed,
        }),
        "adaboost" => BaseParams::AdaBoost(AdaBoostParams::default()),
        "mlp" => BaseParams::Mlp(MlpParams {
            seed,
            ..MlpParams::default()
        }),
        _ => return None,
    })
}

impl GridConfig for BaggingGridConfig {
    fn expand(self: Box<Self>, ctx: &mut Ctx<'_>) -> Vec<ModelParams> {
        expand(*self, ctx).into_iter().map(ModelParams::from).collect()
    }
}

/// Every (member count, bootstrap share) combination over the one base model.
fn expand(c: BaggingGridConfig, ctx: &mut Ctx<'_>) -> Vec<BaggingParams> {
    let name = c.base.as_deref().unwrap_or("tree");
    let base = base(name, ctx.seed);
    ctx.check(
        base.is_some(),
        "train.models.bagging.base",
        &format!("unknown base `{name}`, expected `tree`, `logistic`, `forest`, `boosting`, `adaboost` or `mlp`"),
    );
    let counts = c.n_estimators.unwrap_or_else(|| vec![10]);
    let shares = c.max_samples.unwrap_or_else(|| vec![1.0]);
    ctx.check(
        !counts.is_empty() && counts.iter().all(|c| (1..=1000).contains(c)),
        "train.models.bagging.n_estimators",
        "needs one or more counts between 1 and 1000",
    );
    ctx.check(
        all(&shares, |s| s > 0.0 && s <= 1.0),
        "train.models.bagging.max_samples",
        "needs one or more shares in (0, 1]",
    );
    let Some(base) = base else { return Vec::new() };
    let mut out = Vec::new();
    for &n_estimators in &counts {
        for &max_samples in &shares {
            out.push(BaggingParams {
                n_estimators,
                max_samples,
                base: base.clone(),
                seed: ctx.seed,
            });
        }
    }
    out
}
