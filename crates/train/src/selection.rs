//! `selection.json`, the model the train stage hands to evaluate and deploy.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// `selection.json`: which model deploy uses and why.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Selection {
    /// The selected model's name.
    pub selected: String,
    /// `best_cv` or `configured`.
    pub by: String,
    /// The validation score per model: its mean over the folds of the metric named by `metric`
    /// (AUC unless named).
    pub cv_auc: BTreeMap<String, f64>,
    /// The metric of `cv_auc` (`auc`, `average_precision` or `rmse`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric: Option<String>,
    /// The detectors fitted, for a task without a target (the selected model is their
    /// ensemble).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub detectors: Vec<String>,
}
