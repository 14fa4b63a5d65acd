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
    /// `bootstrap` (default) or `balanced`: each bootstrap sample under-sampled to a balanced
    /// one before its member is fitted (balanced bagging, for a rare class such as fraud).
    pub sampling: Option<String>,
    /// With `sampling: balanced`, the positives-to-negatives ratios to try (default `[1.0]`).
    pub balance_ratio: Option<Vec<f64>>,
    /// Depths of the base trees to try (a `tree` or `forest` base; default its own).
    pub max_depth: Option<Vec<usize>>,
    /// Least rows per leaf of the base trees to try (a `tree` or `forest` base).
    pub min_samples_leaf: Option<Vec<usize>>,
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
    let balanced = match c.sampling.as_deref() {
        None | Some("bootstrap") => false,
        Some("balanced") => true,
        Some(other) => {
            ctx.check(
                false,
                "train.models.bagging.sampling",
                &format!("unknown sampling `{other}`, expected `bootstrap` or `balanced`"),
            );
            false
        }
    };
    ctx.check(
        balanced || c.balance_ratio.is_none(),
        "train.models.bagging.balance_ratio",
        "applies to `sampling: balanced`",
    );
    let ratios: Vec<Option<f64>> = match (balanced, c.balance_ratio) {
        (false, _) => vec![None],
        (true, r) => {
            let r = r.unwrap_or_else(|| vec![1.0]);
            ctx.check(
                all(&r, |v| v > 0.0 && v <= 1.0),
                "train.models.bagging.balance_ratio",
                "needs one or more ratios in (0, 1] (positives over negatives after balancing)",
            );
            r.into_iter().map(Some).collect()
        }
    };
    let Some(base) = base else { return Vec::new() };
    let bases = tree_settings(base, name, c.max_depth, c.min_samples_leaf, ctx);
    let mut out = Vec::new();
    for base in &bases {
        for &n_estimators in &counts {
            for &max_samples in &shares {
                for &balance in &ratios {
                    out.push(BaggingParams {
                        n_estimators,
                        max_samples,
                        base: base.clone(),
                        seed: ctx.seed,
                        balance,
                    });
                }
            }
        }
    }
    out
}

/// The base with each (depth, least rows per leaf) asked for, for a `tree` or `forest` base.
fn tree_settings(
    base: BaseParams,
    name: &str,
    depths: Option<Vec<usize>>,
    leaves: Option<Vec<usize>>,
    ctx: &mut Ctx<'_>,
) -> Vec<BaseParams> {
    if depths.is_none() && leaves.is_none() {
        return vec![base];
    }
    let tree = match &base {
        BaseParams::Tree(t) => Some(t.clone()),
        BaseParams::Forest(f) => Some(f.tree.clone()),
        _ => None,
    };
    for (key, v, range) in [
        ("train.models.bagging.max_depth", &depths, 1..=64),
        ("train.models.bagging.min_samples_leaf", &leaves, 1..=1_000_000),
    ] {
        if let Some(v) = v {
            ctx.check(
                !v.is_empty() && v.iter().all(|d| range.contains(d)),
                key,
                &format!(
                    "needs one or more whole numbers from {} to {}",
                    range.start(),
                    range.end()
                ),
            );
            ctx.check(
                tree.is_some(),
                key,
                &format!("applies to a `tree` or `forest` base, not `{name}`"),
            );
        }
    }
    let Some(tree) = tree else { return Vec::new() };
    let depths = depths.unwrap_or_else(|| vec![tree.max_depth]);
    let leaves = leaves.unwrap_or_else(|| vec![tree.min_samples_leaf]);
    let mut out = Vec::new();
    for &max_depth in &depths {
        for &min_samples_leaf in &leaves {
            let t = TreeParams {
                max_depth,
                min_samples_leaf,
                ..tree.clone()
            };
            out.push(match &base {
                BaseParams::Forest(f) => BaseParams::Forest(ForestParams { tree: t, ..f.clone() }),
                _ => BaseParams::Tree(t),
            });
        }
    }
    out
}
