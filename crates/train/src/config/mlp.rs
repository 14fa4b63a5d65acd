//! `train.models.mlp`: a multilayer perceptron on the standardised encoded raw features.

use serde::Deserialize;

use riskpipe_models::{MlpParams, ModelParams};

use super::{ClassWeight, Ctx, FloatValues, GridConfig, all, balanced};

/// Grid of the multilayer perceptron, as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MlpGridConfig {
    /// Hidden layer sizes to try (default `[[32, 16]]`).
    pub hidden: Option<Vec<Vec<usize>>>,
    /// Adam step sizes to try (default `[0.001]`), or with `search: random` a range.
    pub learning_rate: Option<FloatValues>,
    /// Dropout shares to try (default `[0.1]`), or with `search: random` a range.
    pub dropout: Option<FloatValues>,
    /// Passes over the rows at most (default 100; early stopping, after 5 epochs without a
    /// better validation loss, picks fewer).
    pub max_epochs: Option<usize>,
    /// Rows per mini-batch (default 256).
    pub batch_size: Option<usize>,
    /// How much lower the validation log loss must be for an epoch to count as better
    /// (default 0.0001).
    pub tol: Option<f64>,
    /// `balanced`: both classes weigh the same in the loss (default `none`).
    pub class_weight: Option<ClassWeight>,
}

impl GridConfig for MlpGridConfig {
    fn expand(self: Box<Self>, ctx: &mut Ctx<'_>) -> Vec<ModelParams> {
        expand(*self, ctx).into_iter().map(ModelParams::from).collect()
    }
}

/// Every (layers, rate, dropout) combination.
fn expand(c: MlpGridConfig, ctx: &mut Ctx<'_>) -> Vec<MlpParams> {
    let d = MlpParams::default();
    let hidden = c.hidden.clone().unwrap_or_else(|| vec![d.hidden.clone()]);
    let rates = ctx.floats(
        &c.learning_rate
            .clone()
            .unwrap_or_else(|| FloatValues::List(vec![d.learning_rate])),
        "train.models.mlp.learning_rate",
    );
    let drops = ctx.floats(
        &c.dropout.clone().unwrap_or_else(|| FloatValues::List(vec![d.dropout])),
        "train.models.mlp.dropout",
    );
    ctx.check(
        !hidden.is_empty()
            && hidden
                .iter()
                .all(|h| (1..=5).contains(&h.len()) && h.iter().all(|u| (1..=1024).contains(u))),
        "train.models.mlp.hidden",
        "needs one or more lists of 1 to 5 layer sizes between 1 and 1024",
    );
    ctx.check(
        all(&rates, |r| r > 0.0 && r <= 1.0),
        "train.models.mlp.learning_rate",
        "needs one or more rates in (0, 1]",
    );
    ctx.check(
        all(&drops, |r| (0.0..0.9).contains(&r)),
        "train.models.mlp.dropout",
        "needs one or more shares in [0, 0.9)",
    );
    let batch_size = c.batch_size.unwrap_or(d.batch_size);
    ctx.check(batch_size > 0, "train.models.mlp.batch_size", "must be at least 1");
    let tol = c.tol.unwrap_or(d.tol);
    ctx.check((0.0..1.0).contains(&tol), "train.models.mlp.tol", "must be in [0, 1)");
    let mut out = Vec::new();
    for h in &hidden {
        for &learning_rate in &rates {
            for &dropout in &drops {
                out.push(MlpParams {
                    hidden: h.clone(),
                    learning_rate,
                    dropout,
                    max_epochs: c.max_epochs.unwrap_or(d.max_epochs).max(1),
                    batch_size: batch_size.max(1),
                    tol,
                    balanced: balanced(c.class_weight),
                    seed: ctx.seed,
                    ..d.clone()
                });
            }
        }
    }
    out
}
