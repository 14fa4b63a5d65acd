//! `train.models.two_stage`: a loss rate in two stages (P(any loss), then the severity of the
//! loss cases), for continuous targets in [0, 1].

use serde::Deserialize;

use riskpipe_models::{ModelParams, TwoStageParams};

use super::{Ctx, GridConfig};

/// Grid of the two-stage model, as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TwoStageGridConfig {
    /// A row is a loss case above this target (default 0.05).
    pub threshold: Option<f64>,
    /// Boosting rounds of each stage at most (default 300; early stopping picks fewer).
    pub n_trees: Option<usize>,
    /// Learning rates to try (default `[0.05]`).
    pub learning_rate: Option<Vec<f64>>,
    /// Leaves per tree to try (default `[15]`).
    pub max_leaves: Option<Vec<usize>>,
}

impl GridConfig for TwoStageGridConfig {
    /// Every (rate, leaves) combination; the model's own check names a bad value.
    fn expand(self: Box<Self>, ctx: &mut Ctx<'_>) -> Vec<ModelParams> {
        let d = TwoStageParams::default();
        let rates = self.learning_rate.unwrap_or_else(|| vec![d.boosting.learning_rate]);
        let leaves = self.max_leaves.unwrap_or_else(|| vec![d.boosting.max_leaves]);
        ctx.check(
            !rates.is_empty() && !leaves.is_empty(),
            "train.models.two_stage",
            "needs one or more `learning_rate` and `max_leaves` values",
        );
        let mut out = Vec::new();
        for &learning_rate in &rates {
            for &max_leaves in &leaves {
                let mut p = d.clone();
                p.threshold = self.threshold.unwrap_or(d.threshold);
                p.boosting.n_trees = self.n_trees.unwrap_or(d.boosting.n_trees);
                p.boosting.learning_rate = learning_rate;
                p.boosting.max_leaves = max_leaves;
                p.boosting.seed = ctx.seed;
                out.push(ModelParams::from(p));
            }
        }
        out
    }
}
