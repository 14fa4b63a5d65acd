//! Typed views of the JSON artifacts one stage writes and later stages read. A stage reads an
//! earlier stage's file through these, never through that stage's code; each view holds only
//! the fields readers need, so the writer may add fields freely.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::ColumnKind;

/// A column of `ingest/schema.json`.
#[derive(Debug, Clone, Deserialize)]
pub struct SchemaColumnView {
    /// Its name.
    pub name: String,
    /// Its kind.
    pub kind: ColumnKind,
}

/// `ingest/schema.json`, as later stages read it.
#[derive(Debug, Clone, Deserialize)]
pub struct SchemaView {
    /// Columns in file order.
    #[serde(default)]
    pub columns: Vec<SchemaColumnView>,
    /// The target column (none for a task without a target).
    #[serde(default)]
    pub target: Option<String>,
    /// The evaluation-only label of a task without a target, if any.
    #[serde(default)]
    pub label: Option<String>,
    /// The id column, if any.
    pub id: Option<String>,
    /// Tokens read as missing in CSV input.
    #[serde(default)]
    pub missing_values: Vec<String>,
    /// Columns the target was derived from that describe the outcome: never features.
    #[serde(default)]
    pub target_sources: Vec<String>,
}

impl SchemaView {
    /// Where the file is, in a run folder.
    pub const PATH: &str = "ingest/schema.json";

    /// The column the matrices carry beside the features: the target, or the label.
    pub fn outcome(&self) -> Option<&str> {
        self.target.as_deref().or(self.label.as_deref())
    }

    /// The kind of column `name`, if the schema has it.
    pub fn kind_of(&self, name: &str) -> Option<ColumnKind> {
        self.columns.iter().find(|c| c.name == name).map(|c| c.kind)
    }
}

/// `train/selection.json`, as later stages read it.
#[derive(Debug, Clone, Deserialize)]
pub struct SelectionView {
    /// The model deploy uses.
    pub selected: String,
    /// The cross-validated metric of every model trained.
    #[serde(default)]
    pub cv_auc: BTreeMap<String, f64>,
    /// The metric of `cv_auc` (`auc` when not named).
    #[serde(default)]
    pub metric: Option<String>,
}

impl SelectionView {
    /// Where the file is, in a run folder.
    pub const PATH: &str = "train/selection.json";
}

/// One detector's entry of `evaluate/metrics.json` (a task without a target).
#[derive(Debug, Clone, Deserialize)]
pub struct DetectorView {
    /// The flag threshold chosen on the training rows.
    pub threshold: f64,
}

/// `evaluate/metrics.json` of a task without a target, as deploy reads it.
#[derive(Debug, Clone, Deserialize)]
pub struct DetectorMetricsView {
    /// Every detector and the ensemble.
    pub detectors: BTreeMap<String, DetectorView>,
}

impl DetectorMetricsView {
    /// Where the file is, in a run folder.
    pub const PATH: &str = "evaluate/metrics.json";
}
