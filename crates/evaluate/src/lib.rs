//! riskpipe-evaluate: the evaluation stage.
//!
//! Scores every trained model on train and test rows and writes `metrics.json` (AUC, KS, Gini,
//! PR AUC, Brier, log loss per model and set, a classification report at a threshold chosen on
//! train), `predictions.parquet` (test rows), `curves.parquet` (ROC, PR and gains points),
//! `binning.parquet` (binning tables with scorecard points) and `report.html` (one page of
//! tables and inline SVG plots). On generated data it also reports the oracle: the true PDs' AUC on the same rows.
//!
//! Where it sits: train -> **evaluate** -> deploy. The one design decision: thresholds are
//! chosen on training rows and only *applied* to test rows, so test metrics stay honest.
//!
//! ```
//! use riskpipe_evaluate::EvaluateConfig;
//! let p = EvaluateConfig::default()
//!     .resolve("p.yaml", "demo", riskpipe_core::Task::CreditScoring, 7)
//!     .unwrap();
//! assert_eq!(p.threshold, riskpipe_evaluate::ThresholdRule::BestF1);
//! ```
#![warn(missing_docs)]

mod anomaly;
mod anomaly_report;
pub mod anonymity_cost;
mod artifacts;
mod config;
mod figures;
mod fraud;
mod portfolio;
mod portfolio_report;
mod predict;
mod regression;
mod regression_report;
mod report;
pub mod robustness;
mod robustness_report;
mod run;

pub use artifacts::{
    AnomalyMetrics, CalibrationMetrics, CalibrationRow, DetectorMetrics, MetricsFile, ModelMetrics, Oracle,
    RankMetrics, Reason, RegressionMetricsFile, RegressionModelMetrics, RegressionOracle, ScorecardCheck, Spread,
    TopRow,
};
pub use config::{AlertCost, EvaluateConfig, EvaluateParams, ReviewBudget, ThresholdRule, flag_threshold};
pub use run::{inputs, run};
