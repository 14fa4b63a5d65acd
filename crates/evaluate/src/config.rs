//! The `evaluate:` section: as written ([`EvaluateConfig`]) and checked ([`EvaluateParams`]).

use serde::{Deserialize, Serialize};

use riskpipe_core::{Error, Task};

/// The `evaluate:` section, as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvaluateConfig {
    /// How the classification threshold is chosen on train: `best_f1` (default), `best_ks`,
    /// `approval_rate` (approve the `approval_rate` share with the lowest PD) or `min_cost`
    /// (least expected cost with `cost_false_negative` and `cost_false_positive`).
    pub threshold: Option<String>,
    /// With `threshold: approval_rate`: the share of applicants approved.
    pub approval_rate: Option<f64>,
    /// With `threshold: min_cost`: cost of approving a bad (default 5).
    pub cost_false_negative: Option<f64>,
    /// With `threshold: min_cost`: cost of declining a good (default 1).
    pub cost_false_positive: Option<f64>,
    /// Columns whose groups get a fairness table (they need not be features).
    pub protected: Option<Vec<String>>,
    /// Points per ROC curve in the report (default 200).
    pub roc_points: Option<usize>,
}

/// How the classification threshold is chosen, on the training rows only.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum ThresholdRule {
    /// The score that maximises F1 of the event class.
    BestF1,
    /// The score that maximises KS.
    BestKs,
    /// The score that approves this share of the rows (lowest PD first).
    ApprovalRate {
        /// Share approved, in (0, 1).
        rate: f64,
    },
    /// The score with the least expected cost.
    MinCost {
        /// Cost of approving a bad.
        false_negative: f64,
        /// Cost of declining a good.
        false_positive: f64,
    },
}

impl ThresholdRule {
    /// The threshold for labels `y` and probabilities `p` (training rows).
    pub fn choose(&self, y: &[f64], p: &[f64]) -> f64 {
        match *self {
            ThresholdRule::BestF1 => riskpipe_metrics::best_f1_threshold(y, p),
            ThresholdRule::BestKs => riskpipe_metrics::ks_with_threshold(y, p).1,
            ThresholdRule::ApprovalRate { rate } => riskpipe_metrics::approval_threshold(p, rate),
            ThresholdRule::MinCost {
                false_negative,
                false_positive,
            } => riskpipe_metrics::min_cost_threshold(y, p, false_negative, false_positive),
        }
    }

    /// The rule in words, for the report.
    pub fn describe(&self) -> String {
        match *self {
            ThresholdRule::BestF1 => "the score that maximises F1 of the bad class on the training rows".into(),
            ThresholdRule::BestKs => "the score that maximises KS on the training rows".into(),
            ThresholdRule::ApprovalRate { rate } => format!(
                "the score that approves {:.1}% of the training rows (lowest PD first)",
                100.0 * rate
            ),
            ThresholdRule::MinCost {
                false_negative,
                false_positive,
            } => format!(
                "the score with the least expected cost on the training rows (approving a bad costs {false_negative}, declining a good costs {false_positive})"
            ),
        }
    }
}

/// Checked parameters of the evaluate stage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvaluateParams {
    /// The pipeline's name, from the pipeline file.
    pub pipeline: String,
    /// The task, from the pipeline file.
    pub task: Task,
    /// The pipeline seed.
    pub seed: u64,
    /// How the classification threshold is chosen on the training rows.
    pub threshold: ThresholdRule,
    /// Protected attributes.
    pub protected: Vec<String>,
    /// ROC points.
    pub roc_points: usize,
}

impl EvaluateConfig {
    /// The threshold rule and its settings; `None` (with the problems recorded) when they are
    /// wrong. A setting that the chosen rule does not read is an error, never ignored.
    fn threshold_rule(&self, file: &str, errs: &mut Vec<Error>) -> Option<ThresholdRule> {
        let name = self.threshold.as_deref().unwrap_or("best_f1");
        let mut err = |key: &str, m: &str| {
            errs.push(Error::config(file, format!("evaluate.{key}"), m));
            None
        };
        if self.approval_rate.is_some() && name != "approval_rate" {
            return err("approval_rate", "applies only with `threshold: approval_rate`");
        }
        if (self.cost_false_negative.is_some() || self.cost_false_positive.is_some()) && name != "min_cost" {
            return err("cost_false_negative", "costs apply only with `threshold: min_cost`");
        }
        match name {
            "best_f1" => Some(ThresholdRule::BestF1),
            "best_ks" => Some(ThresholdRule::BestKs),
            "approval_rate" => match self.approval_rate {
                Some(rate) if rate > 0.0 && rate < 1.0 => Some(ThresholdRule::ApprovalRate { rate }),
                _ => err(
                    "approval_rate",
                    "`threshold: approval_rate` needs `approval_rate` between 0 and 1",
                ),
            },
            "min_cost" => {
                let (fn_, fp) = (
                    self.cost_false_negative.unwrap_or(5.0),
                    self.cost_false_positive.unwrap_or(1.0),
                );
                if !(fn_ >= 0.0 && fp >= 0.0 && fn_ + fp > 0.0 && (fn_ + fp).is_finite()) {
                    return err("cost_false_negative", "costs must be >= 0 and not both 0");
                }
                Some(ThresholdRule::MinCost {
                    false_negative: fn_,
                    false_positive: fp,
                })
            }
            other => err(
                "threshold",
                &format!("unknown `{other}`, expected `best_f1`, `best_ks`, `approval_rate` or `min_cost`"),
            ),
        }
    }

    /// Checks the section.
    pub fn resolve(self, file: &str, pipeline: &str, task: Task, seed: u64) -> Result<EvaluateParams, Vec<Error>> {
        let mut errs = Vec::new();
        let threshold = self.threshold_rule(file, &mut errs);
        let roc_points = self.roc_points.unwrap_or(200);
        if !(10..=5000).contains(&roc_points) {
            errs.push(Error::config(
                file,
                "evaluate.roc_points",
                "must be between 10 and 5000",
            ));
        }
        if !errs.is_empty() {
            return Err(errs);
        }
        Ok(EvaluateParams {
            pipeline: pipeline.to_string(),
            task,
            seed,
            threshold: threshold.unwrap_or(ThresholdRule::BestF1),
            protected: self.protected.unwrap_or_default(),
            roc_points,
        })
    }
}
