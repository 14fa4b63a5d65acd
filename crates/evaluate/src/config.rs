//! The `evaluate:` section: as written ([`EvaluateConfig`]) and checked ([`EvaluateParams`]).

use serde::{Deserialize, Serialize};

use riskpipe_core::Error;
use riskpipe_features::ScorecardParams;

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

/// Checked parameters of the evaluate stage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvaluateParams {
    /// The pipeline's name, from the pipeline file.
    pub pipeline: String,
    /// The task, from the pipeline file.
    pub task: String,
    /// The pipeline seed.
    pub seed: u64,
    /// Threshold rule.
    pub threshold: String,
    /// Approval rate for `approval_rate`.
    pub approval_rate: Option<f64>,
    /// Costs (false negative, false positive) for `min_cost`.
    pub costs: Option<(f64, f64)>,
    /// Protected attributes.
    pub protected: Vec<String>,
    /// ROC points.
    pub roc_points: usize,
    /// Scorecard scaling, for the points in the binning tables.
    pub scorecard: ScorecardParams,
}

impl EvaluateConfig {
    /// Checks the section.
    pub fn resolve(
        self,
        file: &str,
        pipeline: &str,
        task: &str,
        seed: u64,
        scorecard: ScorecardParams,
    ) -> Result<EvaluateParams, Vec<Error>> {
        let threshold = self.threshold.unwrap_or_else(|| "best_f1".into());
        let mut errs = Vec::new();
        let approval_rate = match (threshold.as_str(), self.approval_rate) {
            ("approval_rate", Some(a)) if a > 0.0 && a < 1.0 => Some(a),
            ("approval_rate", _) => {
                errs.push(Error::config(
                    file,
                    "evaluate.approval_rate",
                    "`threshold: approval_rate` needs `approval_rate` between 0 and 1",
                ));
                None
            }
            (_, Some(_)) => {
                errs.push(Error::config(
                    file,
                    "evaluate.approval_rate",
                    "applies only with `threshold: approval_rate`",
                ));
                None
            }
            _ => None,
        };
        let costs = if threshold == "min_cost" {
            let c = (
                self.cost_false_negative.unwrap_or(5.0),
                self.cost_false_positive.unwrap_or(1.0),
            );
            if c.0 < 0.0 || c.1 < 0.0 || c.0.is_nan() || c.1.is_nan() || c.0 + c.1 == 0.0 {
                errs.push(Error::config(
                    file,
                    "evaluate.cost_false_negative",
                    "costs must be >= 0 and not both 0",
                ));
            }
            Some(c)
        } else {
            if self.cost_false_negative.is_some() || self.cost_false_positive.is_some() {
                errs.push(Error::config(
                    file,
                    "evaluate.cost_false_negative",
                    "costs apply only with `threshold: min_cost`",
                ));
            }
            None
        };
        if !["best_f1", "best_ks", "approval_rate", "min_cost"].contains(&threshold.as_str()) {
            errs.push(Error::config(
                file,
                "evaluate.threshold",
                format!("unknown `{threshold}`, expected `best_f1`, `best_ks`, `approval_rate` or `min_cost`"),
            ));
        }
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
            task: task.to_string(),
            seed,
            threshold,
            approval_rate,
            costs,
            protected: self.protected.unwrap_or_default(),
            roc_points,
            scorecard,
        })
    }
}
