//! `train.models.boosting`: histogram gradient-boosted trees on the encoded raw features.

use std::collections::BTreeMap;

use serde::Deserialize;

use riskpipe_models::{BoostingParams, ModelParams, Objective};

use super::{ClassWeight, Ctx, FloatValues, GridConfig, IntValues, all, balanced};

/// Grid of gradient boosting, as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BoostingGridConfig {
    /// Rounds at most (default `[300]`; early stopping picks fewer).
    pub n_trees: Option<Vec<usize>>,
    /// Learning rates to try (default `[0.05]`), or with `search: random` a range to draw from.
    pub learning_rate: Option<FloatValues>,
    /// Leaves per tree to try (default `[31]`), or with `search: random` a range `{min, max}`.
    pub max_leaves: Option<IntValues>,
    /// Tree depths to try (default `[12]`), or with `search: random` a range `{min, max}`.
    pub max_depth: Option<IntValues>,
    /// `leafwise` (default: the leaf with the largest gain is split next) or `depthwise`
    /// (level by level).
    pub growth: Option<riskpipe_models::Growth>,
    /// Rows per leaf (default 20).
    pub min_samples_leaf: Option<usize>,
    /// L2 on leaf values (default 1).
    pub l2: Option<f64>,
    /// Row share per round (default 0.8).
    pub subsample: Option<f64>,
    /// Feature share per tree (default 0.8).
    pub colsample: Option<f64>,
    /// Rounds without improvement before stopping (default 30; 0 turns early stopping off).
    pub early_stopping_rounds: Option<usize>,
    /// Monotone constraints by feature: `1` the PD never falls as the feature rises, `-1` it
    /// never rises (default: none).
    pub monotone: Option<BTreeMap<String, i8>>,
    /// `balanced`: both classes weigh the same in the loss (default `none`).
    pub class_weight: Option<ClassWeight>,
    /// A continuous target's losses to try: `squared_error` (default) and `cross_entropy` (a
    /// target in [0, 1], predictions kept in (0, 1)).
    pub objective: Option<Vec<ContinuousObjective>>,
}

/// A loss for a continuous target, as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContinuousObjective {
    /// Squared error.
    SquaredError,
    /// Cross-entropy on a share in [0, 1].
    CrossEntropy,
}

impl GridConfig for BoostingGridConfig {
    fn expand(self: Box<Self>, ctx: &mut Ctx<'_>) -> Vec<ModelParams> {
        expand(*self, ctx).into_iter().map(ModelParams::from).collect()
    }
}

/// Every (rounds, rate, leaves, depth) combination; the other settings are shared.
fn expand(c: BoostingGridConfig, ctx: &mut Ctx<'_>) -> Vec<BoostingParams> {
    let d = BoostingParams::default();
    let key = |k: &str| format!("train.models.boosting.{k}");
    let rounds = c.n_trees.clone().unwrap_or_else(|| vec![d.n_trees]);
    let rates = ctx.floats(
        &c.learning_rate
            .clone()
            .unwrap_or_else(|| FloatValues::List(vec![d.learning_rate])),
        &key("learning_rate"),
    );
    let leaves = ctx.ints(
        &c.max_leaves
            .clone()
            .unwrap_or_else(|| IntValues::List(vec![d.max_leaves])),
        &key("max_leaves"),
    );
    let depths = ctx.ints(
        &c.max_depth
            .clone()
            .unwrap_or_else(|| IntValues::List(vec![d.max_depth])),
        &key("max_depth"),
    );
    ctx.check(
        !depths.is_empty() && depths.iter().all(|x| (1..=32).contains(x)),
        &key("max_depth"),
        "needs one or more depths between 1 and 32",
    );
    ctx.check(
        !rounds.is_empty() && rounds.iter().all(|t| (1..=10_000).contains(t)),
        &key("n_trees"),
        "needs one or more counts between 1 and 10000",
    );
    ctx.check(
        all(&rates, |r| r > 0.0 && r <= 1.0),
        &key("learning_rate"),
        "needs one or more rates in (0, 1]",
    );
    ctx.check(
        !leaves.is_empty() && leaves.iter().all(|l| (2..=4096).contains(l)),
        &key("max_leaves"),
        "needs one or more counts between 2 and 4096",
    );
    let mut share = |v: Option<f64>, def: f64, k: &str| {
        let x = v.unwrap_or(def);
        ctx.check(!x.is_nan() && x > 0.0 && x <= 1.0, &key(k), "must be in (0, 1]");
        x
    };
    let subsample = share(c.subsample, d.subsample, "subsample");
    let colsample = share(c.colsample, d.colsample, "colsample");
    let monotone = c.monotone.clone().unwrap_or_default();
    if let Some((f, v)) = monotone.iter().find(|(_, v)| ![-1, 0, 1].contains(*v)) {
        ctx.check(
            false,
            &key("monotone"),
            &format!("`{f}: {v}`: use 1 (increasing), -1 (decreasing) or 0"),
        );
    }
    let monotone: BTreeMap<String, i8> = monotone.into_iter().filter(|(_, v)| *v != 0).collect();
    // The loss follows the target: log loss for 0/1, the listed losses for an amount.
    let objectives: Vec<Objective> = if ctx.target == riskpipe_core::Target::Continuous {
        let listed = c
            .objective
            .clone()
            .unwrap_or_else(|| vec![ContinuousObjective::SquaredError]);
        ctx.check(!listed.is_empty(), &key("objective"), "needs one or more losses");
        listed
            .iter()
            .map(|o| match o {
                ContinuousObjective::SquaredError => Objective::Regression,
                ContinuousObjective::CrossEntropy => Objective::CrossEntropy,
            })
            .collect()
    } else {
        ctx.check(
            c.objective.is_none(),
            &key("objective"),
            "applies to a continuous target; a 0/1 target is fitted on log loss",
        );
        vec![Objective::Binary]
    };
    let mut out = Vec::new();
    for &objective in &objectives {
        for &n_trees in &rounds {
            for &learning_rate in &rates {
                for (&max_leaves, &max_depth) in leaves.iter().flat_map(|l| depths.iter().map(move |dp| (l, dp))) {
                    out.push(BoostingParams {
                        n_trees,
                        learning_rate,
                        max_leaves,
                        max_depth,
                        growth: c.growth.unwrap_or_default(),
                        balanced: balanced(c.class_weight),
                        min_samples_leaf: c.min_samples_leaf.unwrap_or(d.min_samples_leaf).max(1),
                        l2: c.l2.unwrap_or(d.l2).max(0.0),
                        subsample,
                        colsample,
                        early_stopping_rounds: c.early_stopping_rounds.unwrap_or(d.early_stopping_rounds),
                        validation_fraction: if c.early_stopping_rounds == Some(0) {
                            0.0
                        } else {
                            d.validation_fraction
                        },
                        seed: ctx.seed,
                        monotone: monotone.clone(),
                        objective,
                        ..d.clone()
                    });
                }
            }
        }
    }
    out
}
