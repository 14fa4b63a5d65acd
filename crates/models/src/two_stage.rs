//! The two-stage model of a loss rate: the probability that a defaulted loan loses anything
//! worth counting (its LGD above `threshold`: not a cure), then the severity of the loss cases;
//! the prediction is `P(loss) x severity + (1 - P(loss)) x the mean LGD of the other cases`.
//! Both stages are gradient-boosted trees: log loss on the loss flag, then cross-entropy on
//! the loss cases' LGD (a share in [0, 1]).

use serde::{Deserialize, Serialize};

use riskpipe_core::{Error, Result};

use crate::{BoostingParams, GradientBoosting, Objective};

/// Settings of the two-stage model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TwoStageParams {
    /// A row is a loss case when its target is above this (default 0.05: a cure recovering
    /// everything a few months after default keeps a small discounted LGD).
    pub threshold: f64,
    /// Boosting settings of both stages (their objectives are set by the stage).
    pub boosting: BoostingParams,
}

impl Default for TwoStageParams {
    fn default() -> Self {
        TwoStageParams {
            threshold: 0.05,
            boosting: BoostingParams {
                n_trees: 300,
                learning_rate: 0.05,
                max_leaves: 15,
                ..BoostingParams::default()
            },
        }
    }
}

/// A fitted two-stage model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TwoStage {
    /// Feature names.
    pub features: Vec<String>,
    /// P(target above the threshold).
    pub classifier: Box<GradientBoosting>,
    /// The target of the loss cases.
    pub severity: Box<GradientBoosting>,
    /// Mean target of the rows at or below the threshold.
    pub below: f64,
    /// Share of training rows above the threshold.
    pub loss_share: f64,
    /// The settings used.
    pub params: TwoStageParams,
}

impl TwoStage {
    /// Fits on columns `x` (named `names`) and a target `y` in [0, 1].
    pub fn fit(names: &[String], x: &[&[f64]], y: &[f64], params: &TwoStageParams) -> Result<Self> {
        Self::fit_weighted(names, x, y, None, params)
    }

    /// Fits with a weight per row: both stages and the mean below the threshold count each row
    /// by its weight (the loss share too).
    pub fn fit_weighted(
        names: &[String],
        x: &[&[f64]],
        y: &[f64],
        weights: Option<&[f64]>,
        params: &TwoStageParams,
    ) -> Result<Self> {
        crate::check_weights("two-stage model", weights, y.len())?;
        let sw = |i: usize| weights.map_or(1.0, |w| w[i]);
        if let Some(i) = y.iter().position(|v| !(0.0..=1.0).contains(v)) {
            return Err(Error::Internal(format!(
                "two-stage model: the target must be in [0, 1]; row {} has {}",
                i + 1,
                y[i]
            )));
        }
        let flag: Vec<f64> = y.iter().map(|v| f64::from(u8::from(*v > params.threshold))).collect();
        let losses: Vec<usize> = (0..y.len()).filter(|&i| flag[i] == 1.0).collect();
        let others = y.len() - losses.len();
        if losses.len() < 2 || others < 2 {
            return Err(Error::Internal(format!(
                "two-stage model: {} rows above the threshold {} and {others} at or below it; each stage needs rows of both kinds (change `threshold`)",
                losses.len(),
                params.threshold
            )));
        }
        let classifier = GradientBoosting::fit_weighted(
            names,
            x,
            &flag,
            weights,
            &BoostingParams {
                objective: Objective::Binary,
                ..params.boosting.clone()
            },
        )?;
        let xl: Vec<Vec<f64>> = x.iter().map(|c| losses.iter().map(|&i| c[i]).collect()).collect();
        let xl_ref: Vec<&[f64]> = xl.iter().map(Vec::as_slice).collect();
        let yl: Vec<f64> = losses.iter().map(|&i| y[i]).collect();
        let wl: Option<Vec<f64>> = weights.map(|_| losses.iter().map(|&i| sw(i)).collect());
        let severity = GradientBoosting::fit_weighted(
            names,
            &xl_ref,
            &yl,
            wl.as_deref().filter(|w| w.iter().any(|v| *v > 0.0)),
            &BoostingParams {
                objective: Objective::CrossEntropy,
                ..params.boosting.clone()
            },
        )?;
        let (below_sum, below_w) = (0..y.len())
            .filter(|&i| flag[i] == 0.0)
            .fold((0.0, 0.0), |(s, t), i| (s + sw(i) * y[i], t + sw(i)));
        let below = if below_w > 0.0 { below_sum / below_w } else { 0.0 };
        let total_w: f64 = (0..y.len()).map(sw).sum();
        let loss_w: f64 = losses.iter().map(|&i| sw(i)).sum();
        Ok(TwoStage {
            features: names.to_vec(),
            classifier: Box::new(classifier),
            severity: Box::new(severity),
            below,
            loss_share: loss_w / total_w,
            params: params.clone(),
        })
    }

    /// The expected target of each row.
    pub fn predict(&self, x: &[&[f64]]) -> Vec<f64> {
        let p = self.classifier.predict_proba(x);
        let s = self.severity.predict_proba(x);
        p.iter().zip(&s).map(|(p, s)| p * s + (1.0 - p) * self.below).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use riskpipe_core::Rng;

    #[test]
    fn two_stages_model_cures_and_severities() {
        // Cures (LGD 0.02) more likely when x0 is high; severity rises with x1.
        let mut rng = Rng::new(6);
        let n = 6000;
        let cols: Vec<Vec<f64>> = (0..2).map(|_| (0..n).map(|_| rng.uniform()).collect()).collect();
        let y: Vec<f64> = (0..n)
            .map(|i| {
                if rng.bernoulli(0.2 + 0.6 * cols[0][i]) {
                    0.02
                } else {
                    (0.3 + 0.6 * cols[1][i] + 0.05 * rng.normal()).clamp(0.0, 1.0)
                }
            })
            .collect();
        let names = vec!["x0".to_string(), "x1".to_string()];
        let x: Vec<&[f64]> = cols.iter().map(Vec::as_slice).collect();
        let m = TwoStage::fit(&names, &x, &y, &TwoStageParams::default()).unwrap();
        assert!((m.below - 0.02).abs() < 1e-9);
        let p = m.predict(&x);
        assert!(p.iter().all(|v| (0.0..=1.0).contains(v)));
        let mean = y.iter().sum::<f64>() / n as f64;
        let sst: f64 = y.iter().map(|v| (v - mean) * (v - mean)).sum();
        let r2 = |q: &[f64]| 1.0 - y.iter().zip(q).map(|(a, b)| (a - b) * (a - b)).sum::<f64>() / sst;
        // Against the true conditional mean, the most any model can explain.
        let truth: Vec<f64> = (0..n)
            .map(|i| {
                let c = 0.2 + 0.6 * cols[0][i];
                c * 0.02 + (1.0 - c) * (0.3 + 0.6 * cols[1][i])
            })
            .collect();
        assert!(
            r2(&p) > r2(&truth) - 0.02,
            "R2 {} against the truth's {}",
            r2(&p),
            r2(&truth)
        );
        assert_eq!(TwoStage::fit(&names, &x, &y, &TwoStageParams::default()).unwrap(), m);
        let none = TwoStageParams {
            threshold: 1.0,
            ..TwoStageParams::default()
        };
        let e = TwoStage::fit(&names, &x, &y, &none).expect_err("no loss case above 1");
        assert!(e.to_string().contains("threshold"), "{e}");
    }
}
