//! The stage's artifact types: `metrics.json` and its parts. Every other module of the crate
//! reads or writes these; none of them is defined where it is computed, so no module imports
//! the stage's orchestration.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use riskpipe_core::Task;
use riskpipe_metrics::{BinaryMetrics, ClassificationReport};

/// One model's entry in `metrics.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ModelMetrics {
    /// Metrics on training rows.
    pub train: BinaryMetrics,
    /// Metrics on test rows.
    pub test: BinaryMetrics,
    /// Mean CV AUC from the train stage.
    pub cv_auc: Option<f64>,
    /// Threshold chosen on train.
    pub threshold: f64,
    /// Classification report on test at that threshold.
    pub classification_report: ClassificationReport,
}

/// The best achievable ranking: the generator's true probabilities on the same test rows.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Oracle {
    /// AUC of the true PD.
    pub auc: f64,
    /// KS of the true PD.
    pub ks: f64,
    /// Gini of the true PD.
    pub gini: f64,
}

/// `metrics.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MetricsFile {
    /// The task.
    pub task: Task,
    /// Target column.
    pub target: String,
    /// The model selected by the train stage.
    pub selected_model: String,
    /// Per model.
    pub models: BTreeMap<String, ModelMetrics>,
    /// Oracle on the test rows, for generated data.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub oracle: Option<Oracle>,
    /// How the logistic model's integer scorecard points rank the test rows against the model.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub scorecard: Option<ScorecardCheck>,
    /// The selected model's PD calibration on the test rows, when the train stage fitted one.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub calibration: Option<CalibrationMetrics>,
    /// Fraud detection on events (`split: periods`): per model, average precision and card
    /// precision per test day.
    #[serde(skip_serializing_if = "BTreeMap::is_empty", default)]
    pub fraud: BTreeMap<String, crate::fraud::FraudMetrics>,
    /// The metric of the models' `cv_auc` when it is not AUC (`train.metric`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub cv_metric: Option<String>,
    /// Stress scenarios on the test rows (`evaluate.robustness`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub robustness: Option<crate::robustness::Robustness>,
    /// The selected model refitted with other seeds (`train.seed_stability`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub seed_stability: Option<crate::robustness::SeedStability>,
    /// The selected model refitted on the quasi-identifiers as ingested (`privacy.k_anonymity`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub anonymity_cost: Option<crate::anonymity_cost::AnonymityCost>,
}

impl MetricsFile {
    /// The cross-validated metric's name for people: `AUC` or `average precision`.
    pub fn cv_metric_label(&self) -> String {
        match self.cv_metric.as_deref() {
            None | Some("auc") => "AUC".into(),
            Some(m) => m.replace('_', " "),
        }
    }
}

/// Rank agreement of the rounded scorecard with the logistic model it comes from, on test rows.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScorecardCheck {
    /// Lowest and highest possible score.
    pub score_range: (i64, i64),
    /// AUC of the points (fewer points, riskier).
    pub auc_points: f64,
    /// AUC of the logistic model.
    pub auc_model: f64,
    /// Spearman rank correlation of points and the model's log-odds of being good.
    pub spearman: f64,
}

/// How well the calibrated PD matches observed default rates on the test rows.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CalibrationMetrics {
    /// `platt` or `isotonic`.
    pub method: String,
    /// The calibrated model.
    pub model: String,
    /// Brier score before and after calibration.
    pub brier: (f64, f64),
    /// Log loss before and after calibration.
    pub log_loss: (f64, f64),
    /// By score band (10 bands of test rows, riskiest first).
    pub table: Vec<CalibrationRow>,
}

/// One score band of the calibration table.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CalibrationRow {
    /// Band, 1 = riskiest.
    pub band: usize,
    /// Rows.
    pub rows: u64,
    /// Mean model probability.
    pub mean_pd: f64,
    /// Mean calibrated PD.
    pub mean_calibrated_pd: f64,
    /// Observed default rate.
    pub default_rate: f64,
}

/// Ranking quality of one detector against the label, on the labelled test rows.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RankMetrics {
    /// Labelled rows.
    pub rows: u64,
    /// Rows labelled 1.
    pub positives: u64,
    /// ROC AUC.
    pub auc: f64,
    /// Average precision (area under the precision-recall steps).
    pub average_precision: f64,
    /// Rows the flag share covers (the review budget, on these rows).
    pub budget_rows: u64,
    /// Share of labelled anomalies among the `budget_rows` highest scores.
    pub precision_at_budget: f64,
    /// Share of all labelled anomalies found in those rows.
    pub recall_at_budget: f64,
}

/// Five points of a score distribution.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Spread {
    /// Lowest.
    pub min: f64,
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Highest.
    pub max: f64,
}

/// One detector's (or the ensemble's) evaluation.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DetectorMetrics {
    /// Its flag threshold, from the training rows.
    pub threshold: f64,
    /// Share of test rows at or above it.
    pub flagged_share_test: f64,
    /// Training and test score distributions.
    pub train: Spread,
    /// Test score distribution.
    pub test: Spread,
    /// Against the label on the test rows, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<RankMetrics>,
}

/// One feature's part in a row's unusualness.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Reason {
    /// The feature.
    pub feature: String,
    /// Its value in the row (after masking).
    pub value: String,
    /// Its share of the row's attribution.
    pub share: f64,
}

/// One of the most unusual test rows.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TopRow {
    /// The row key (the id, or the source row).
    pub row: String,
    /// Ensemble score.
    pub score: f64,
    /// The label, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<f64>,
    /// The features that made it unusual, largest part first.
    pub reasons: Vec<Reason>,
}

/// `metrics.json` of a task without a target.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AnomalyMetrics {
    /// The task.
    pub task: Task,
    /// The evaluation label, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// The model deploy uses (the ensemble).
    pub selected_model: String,
    /// How the flag threshold is chosen.
    pub rule: crate::config::ThresholdRule,
    /// The share of rows flagged.
    pub flag_share: f64,
    /// Every detector and the ensemble.
    pub detectors: BTreeMap<String, DetectorMetrics>,
    /// On generated data: ROC AUC per planted kind (that kind's rows against the normal rows),
    /// per detector.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub by_kind: BTreeMap<String, BTreeMap<String, f64>>,
    /// The most unusual test rows, by the ensemble.
    pub top: Vec<TopRow>,
}

/// One model's metrics.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RegressionModelMetrics {
    /// On the training rows.
    pub train: riskpipe_metrics::RegressionMetrics,
    /// On the test rows.
    pub test: riskpipe_metrics::RegressionMetrics,
    /// Cross-validated RMSE from the train stage.
    pub cv_rmse: Option<f64>,
    /// Test rows by decile of the prediction.
    pub deciles: Vec<riskpipe_metrics::DecileRow>,
}

/// The generating model's own predictions on the test rows (synthetic data only).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RegressionOracle {
    /// The truth's column (`true_lgd`).
    pub column: String,
    /// Its metrics against the realised target on the test rows.
    pub test: riskpipe_metrics::RegressionMetrics,
}

/// `metrics.json` of a task with a continuous target.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RegressionMetricsFile {
    /// The task.
    pub task: Task,
    /// Target column.
    pub target: String,
    /// The model selected by the train stage (lowest cross-validated RMSE).
    pub selected_model: String,
    /// Per model.
    pub models: BTreeMap<String, RegressionModelMetrics>,
    /// The truth's metrics, when the data was generated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oracle: Option<RegressionOracle>,
    /// Share of test rows in 20 equal bins of the target over [0, 1] (where an LGD piles up).
    pub target_histogram: Vec<f64>,
}

/// One group's totals in `portfolio.json` (a segment, an IFRS 9 stage or an IRB class).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BookGroup {
    /// Loans.
    pub loans: u64,
    /// Exposure at default.
    pub ead: f64,
    /// 12-month expected loss.
    pub el: f64,
    /// IFRS 9 expected credit loss.
    pub ecl: f64,
    /// Risk-weighted assets.
    pub rwa: f64,
}

/// A tail measure of the simulated loss distribution with its Monte Carlo standard error.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TailMeasure {
    /// Confidence level.
    pub level: f64,
    /// Value at risk: the loss quantile.
    pub var: f64,
    /// Its standard error.
    pub var_std_error: f64,
    /// Expected shortfall: the mean loss beyond the quantile.
    pub es: f64,
    /// Its standard error.
    pub es_std_error: f64,
}

/// The one-factor Vasicek loss distribution of the book.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LossDistributionSummary {
    /// Scenarios simulated.
    pub scenarios: usize,
    /// Mean simulated loss and its standard error, against the analytic EL.
    pub mean: f64,
    /// Standard error of `mean`.
    pub mean_std_error: f64,
    /// VaR and ES at 99 % and 99.9 %.
    pub tails: Vec<TailMeasure>,
    /// Upper edges of the histogram's bins (loss amounts).
    pub bin_edges: Vec<f64>,
    /// Share of scenarios per bin.
    pub shares: Vec<f64>,
}

/// What the IRB formula and the book adjusted, counted over the loans.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BookAdjustments {
    /// PDs below the floor, raised to it.
    pub pd_floored: u64,
    /// Corporate maturities outside [1, 5] years, capped.
    pub maturity_capped: u64,
    /// Loans in default: PD 1, IRB K 0.
    pub defaulted: u64,
    /// Predicted LGDs outside [0, 1], clipped.
    pub lgd_clipped: u64,
}

/// `portfolio.json`: the book's expected loss, IFRS 9 ECL, IRB capital and loss distribution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PortfolioFile {
    /// The credit bundle that gave the PDs (its pipeline's name).
    pub pd_pipeline: String,
    /// The whole book.
    pub total: BookGroup,
    /// By segment value.
    pub by_segment: BTreeMap<String, BookGroup>,
    /// By IFRS 9 stage (`1`, `2`, `3`).
    pub by_stage: BTreeMap<String, BookGroup>,
    /// By IRB exposure class.
    pub by_class: BTreeMap<String, BookGroup>,
    /// Adjustments made.
    pub adjusted: BookAdjustments,
    /// Settings in words, for the report.
    pub settings: Vec<String>,
    /// The simulated loss distribution.
    pub loss_distribution: LossDistributionSummary,
    /// Sum of the generator's true PD x true LGD x EAD over the book, where the truth is at hand.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub true_el: Option<f64>,
}
