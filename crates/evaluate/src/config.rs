//! The `evaluate:` section: as written ([`EvaluateConfig`]) and checked ([`EvaluateParams`]).

use serde::{Deserialize, Serialize};

use riskpipe_core::Error;

/// The `evaluate:` section, as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvaluateConfig {
    /// How the classification threshold is chosen on train: `best_f1` (default) or `best_ks`.
    pub threshold: Option<String>,
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
    /// ROC points.
    pub roc_points: usize,
}

impl EvaluateConfig {
    /// Checks the section.
    pub fn resolve(self, file: &str, pipeline: &str, task: &str, seed: u64) -> Result<EvaluateParams, Vec<Error>> {
        let threshold = self.threshold.unwrap_or_else(|| "best_f1".into());
        let mut errs = Vec::new();
        if !["best_f1", "best_ks"].contains(&threshold.as_str()) {
            errs.push(Error::config(
                file,
                "evaluate.threshold",
                format!("unknown `{threshold}`, expected `best_f1` or `best_ks`"),
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
            roc_points,
        })
    }
}
