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
    /// CV AUC per model.
    pub cv_auc: BTreeMap<String, f64>,
    /// The detectors fitted, for a task without a target (the selected model is their
    /// ensemble).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub detectors: Vec<String>,
}
