//! `bundle.json`: what a bundle holds and the raw columns it reads.

use serde::{Deserialize, Serialize};

use riskpipe_core::ColumnKind;
use riskpipe_features::ScorecardParams;
pub use riskpipe_features::events::EventSpec;

/// A raw input column the bundle needs.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct InputColumn {
    /// Column name in the application data.
    pub name: String,
    /// Its kind in the raw data.
    pub kind: ColumnKind,
}

/// `bundle.json`: what the bundle holds and what it needs.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct BundleInfo {
    /// riskpipe version that wrote it.
    pub riskpipe_version: String,
    /// Pipeline name.
    pub pipeline: String,
    /// Selected model name.
    pub model: String,
    /// Id column passed through to the output, if any.
    pub id: Option<String>,
    /// Raw columns read (features and id).
    pub inputs: Vec<InputColumn>,
    /// Values read as missing in CSV input.
    pub missing_values: Vec<String>,
    /// Reason codes per row.
    pub reason_codes: usize,
    /// Score scaling (base score, base odds, points to double the odds) for models without a
    /// scorecard.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scaling: Option<ScorecardParams>,
    /// A detector bundle: the anomaly score at or above which a row is flagged (chosen on the
    /// training rows by the evaluate stage).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flag_threshold: Option<f64>,
    /// Events in time (fraud): the window features the scorer computes from the rows it is
    /// given, before the transform.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub events: Option<EventSpec>,
    /// Numeric features `riskpipe explain` may change (`deploy.actionable`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub actionable: Vec<String>,
    /// A PD model: the PD at or above which evaluate's threshold declines a row (the default
    /// decision of `riskpipe explain`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision_threshold: Option<f64>,
}
