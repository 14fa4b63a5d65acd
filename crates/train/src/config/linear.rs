//! `train.models.linear`: linear regression of an amount, least squares or fractional logit,
//! for continuous targets.

use serde::Deserialize;

use riskpipe_models::{LinearParams, Link, ModelParams};

use super::{Ctx, FloatValues, GridConfig};

/// Grid of the linear model, as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinearGridConfig {
    /// Links to try: `identity` (least squares) and `logit` (fractional logit, a target in
    /// [0, 1]); default `[identity, logit]`.
    pub link: Option<Vec<Link>>,
    /// L2 penalties on the standardised coefficients (default `[0.0001]`), or with `search:
    /// random` a range to draw from.
    pub l2: Option<FloatValues>,
}

impl GridConfig for LinearGridConfig {
    /// Every (link, penalty) combination; the model's own check names a bad value.
    fn expand(self: Box<Self>, ctx: &mut Ctx<'_>) -> Vec<ModelParams> {
        let d = LinearParams::default();
        let links = self.link.unwrap_or_else(|| vec![Link::Identity, Link::Logit]);
        let l2s = ctx.floats(
            &self.l2.unwrap_or_else(|| FloatValues::List(vec![d.l2])),
            "train.models.linear.l2",
        );
        ctx.check(
            !links.is_empty() && !l2s.is_empty(),
            "train.models.linear",
            "needs one or more `link` and `l2` values",
        );
        let mut out = Vec::new();
        for &link in &links {
            for &l2 in &l2s {
                out.push(ModelParams::from(LinearParams { link, l2, ..d.clone() }));
            }
        }
        out
    }
}
