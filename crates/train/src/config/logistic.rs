//! `train.models.logistic`: logistic regression on the WoE columns.

use serde::Deserialize;

use riskpipe_models::{LogisticParams, ModelParams};

use super::{ClassWeight, Ctx, FloatValues, GridConfig, all, balanced};

/// Grid of the logistic regression, as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogisticGridConfig {
    /// L2 penalties to try (default `[0.0001, 0.001, 0.01, 0.1]`), or with `search: random` a
    /// range `{ min, max, log }` to draw from.
    pub l2: Option<FloatValues>,
    /// L1 penalties to try (default `[0]`); with `l2` > 0 too, the elastic net.
    pub l1: Option<Vec<f64>>,
    /// Newton iterations at most (default 100).
    pub max_iter: Option<usize>,
    /// `balanced` to weigh both classes equally, or `none` (default).
    pub class_weight: Option<ClassWeight>,
}

impl GridConfig for LogisticGridConfig {
    fn expand(self: Box<Self>, ctx: &mut Ctx<'_>) -> Vec<ModelParams> {
        expand(*self, ctx).into_iter().map(ModelParams::from).collect()
    }
}

/// Every (l2, l1) combination.
fn expand(c: LogisticGridConfig, ctx: &mut Ctx<'_>) -> Vec<LogisticParams> {
    let l2s = ctx.floats(
        &c.l2.unwrap_or_else(|| FloatValues::List(vec![1e-4, 1e-3, 1e-2, 1e-1])),
        "train.models.logistic.l2",
    );
    ctx.check(
        all(&l2s, |v| v >= 0.0),
        "train.models.logistic.l2",
        "needs one or more penalties >= 0",
    );
    let l1s = c.l1.unwrap_or_else(|| vec![0.0]);
    ctx.check(
        all(&l1s, |v| v >= 0.0),
        "train.models.logistic.l1",
        "needs one or more penalties >= 0",
    );
    let mut out = Vec::new();
    for &l2 in &l2s {
        for &l1 in &l1s {
            out.push(LogisticParams {
                l2,
                max_iter: c.max_iter.unwrap_or(100),
                tol: 1e-8,
                balanced: balanced(c.class_weight),
                l1,
            });
        }
    }
    out
}
