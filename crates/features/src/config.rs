//! The `features:` section: as written ([`FeaturesConfig`]) and checked ([`FeaturesParams`]).

use serde::{Deserialize, Serialize};

use riskpipe_core::{Error, Target};

use crate::derived::{ReductionConfig, resolve_anomaly_scores};
use crate::events::{PeriodsConfig, PeriodsParams, WindowsConfig, WindowsParams};
use crate::transform::{CategoryEncoding, Scaling};
use riskpipe_models::Keep;

use riskpipe_scorecard::{OptimalBinner, Trend};
use riskpipe_scorecard::{SelectionParams, Stepwise};

/// How rows are split into train and test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SplitKind {
    /// Random, keeping the positive share equal in both parts.
    Stratified,
    /// Out of time: the latest rows by `time_column` are the test set.
    Time,
    /// Time-aware, for events: a training window (with the history its validation folds learn
    /// from), a delay while labels arrive, a test window (`features.periods`).
    Periods,
}

/// The `binning:` sub-section, as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BinningConfig {
    /// `optimal` (default: the IV-maximising binning under constraints, solved exactly) or
    /// `quantile` (equal-frequency pre-bins, merged greedily).
    pub method: Option<String>,
    /// Bins per feature at most, missing and special bins not counted (default 10).
    pub max_bins: Option<usize>,
    /// Categories with a smaller share are pooled into `other` (default 0.05).
    pub min_category_share: Option<f64>,
    /// Bins hold at least this share of the value rows (default 0.05).
    pub min_bin_share: Option<f64>,
    /// `optimal`: bins hold at most this share of the value rows (default 1, no limit).
    pub max_bin_share: Option<f64>,
    /// `optimal`: fewest events per bin (default 1).
    pub min_bin_events: Option<u64>,
    /// `optimal`: neighbouring bins' event rates must differ at this p-value or below
    /// (two-proportion z-test; default: no test).
    pub max_pvalue: Option<f64>,
    /// `optimal`: pre-bins at most (default 40) and their smallest share (default 0.02).
    pub max_prebins: Option<usize>,
    /// `optimal`: smallest pre-bin share of the value rows (default 0.02).
    pub min_prebin_share: Option<f64>,
    /// `optimal`: event-rate trend: `auto` (default), `auto_asc_desc`, `ascending`,
    /// `descending`, `peak`, `valley` or `none`.
    pub trend: Option<Trend>,
    /// `optimal`: numeric values that get a bin of their own in every numeric feature (e.g.
    /// `[-999, 999999]`).
    pub special_values: Option<Vec<f64>>,
    /// `quantile`: `auto` (default): merge bins into a monotonic event-rate trend unless the
    /// feature is clearly U-shaped; `none`: keep the equal-frequency bins.
    pub monotonic: Option<String>,
}

/// The `features:` section, as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeaturesConfig {
    /// `stratified` (default) or `time`.
    pub split: Option<SplitKind>,
    /// Share of rows held out for testing (default 0.3).
    pub test_fraction: Option<f64>,
    /// Date column ordering rows for `split: time`.
    pub time_column: Option<String>,
    /// Columns never used as features.
    pub exclude: Option<Vec<String>>,
    /// Text columns with more distinct values are not features (default 50).
    pub max_categories: Option<usize>,
    /// Lower capping quantile for numeric features (default 0.01).
    pub cap_lower: Option<f64>,
    /// Upper capping quantile for numeric features (default 0.99).
    pub cap_upper: Option<f64>,
    /// WoE binning.
    pub binning: Option<BinningConfig>,
    /// Feature selection for the scorecard.
    pub selection: Option<SelectionConfig>,
    /// Scaling of the detectors' numeric inputs: `robust` (default) or `standard`.
    pub scaling: Option<Scaling>,
    /// Detector columns of a categorical feature: `frequency` (default) or `one_hot`.
    pub category_encoding: Option<CategoryEncoding>,
    /// Principal components in place of the numeric features.
    pub reduction: Option<ReductionConfig>,
    /// Detectors whose scores become feature columns (a task with a target).
    pub anomaly_scores: Option<Vec<String>>,
    /// Window aggregates per entity over `time_column` (events such as card transactions).
    pub windows: Option<WindowsConfig>,
    /// The windows of `split: periods`.
    pub periods: Option<PeriodsConfig>,
}

/// The `selection:` sub-section, as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SelectionConfig {
    /// Drop features with a lower IV (default 0.02; 0 keeps all).
    pub min_iv: Option<f64>,
    /// Drop features with a higher IV (default: none).
    pub max_iv: Option<f64>,
    /// Of two features whose WoE columns correlate beyond this, drop the lower-IV one
    /// (default 1: off).
    pub max_correlation: Option<f64>,
    /// While a variance inflation factor exceeds this, drop the lowest-IV such feature
    /// (default: none).
    pub max_vif: Option<f64>,
    /// `forward` or `backward` stepwise selection by AIC after the filters (default `none`).
    pub stepwise: Option<Stepwise>,
}

/// Binning method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BinningMethod {
    /// The IV-maximising binning under constraints ([`crate::OptimalBinner`]).
    Optimal,
    /// Equal-frequency pre-bins merged greedily ([`crate::QuantileBinner`]).
    Quantile,
}

/// Checked parameters of the features stage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeaturesParams {
    /// The kind of target the task learns from (it chooses the hold-out splitter).
    #[serde(default = "binary")]
    pub target: Target,
    /// Split kind.
    pub split: SplitKind,
    /// Test share.
    pub test_fraction: f64,
    /// Time column for `split: time`.
    pub time_column: Option<String>,
    /// Excluded columns.
    pub exclude: Vec<String>,
    /// Max categories of a text feature.
    pub max_categories: usize,
    /// Lower capping quantile.
    pub cap_lower: f64,
    /// Upper capping quantile.
    pub cap_upper: f64,
    /// Binning method.
    pub binning_method: BinningMethod,
    /// Max bins per numeric feature.
    pub max_bins: usize,
    /// Rare-category share.
    pub min_category_share: f64,
    /// Smallest numeric bin share.
    pub min_bin_share: f64,
    /// Monotonic merge of numeric bins (`quantile`).
    pub monotonic: bool,
    /// The optimal binner's settings (`optimal`).
    pub optimal: OptimalBinner,
    /// Scorecard feature selection.
    pub selection: SelectionParams,
    /// Seed of the split.
    pub seed: u64,
    /// Scaling of the detectors' numeric inputs.
    #[serde(default, skip_serializing_if = "is_robust")]
    pub scaling: Scaling,
    /// Detector columns of a categorical feature.
    #[serde(default, skip_serializing_if = "is_frequency")]
    pub category_encoding: CategoryEncoding,
    /// Principal components kept in place of the numeric features.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reduction: Option<Keep>,
    /// Detectors whose scores become feature columns.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub anomaly_scores: Vec<String>,
    /// The row-weight column (`train.weight`), carried into the matrices as
    /// [`riskpipe_core::names::WEIGHT`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<String>,
    /// The 0/1 column the train stage stratifies its folds on (`train.stratify`), carried into
    /// the matrices as [`riskpipe_core::names::STRATUM`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stratify: Option<String>,
    /// Window aggregates per entity over the time column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub windows: Option<WindowsParams>,
    /// The windows of `split: periods`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub periods: Option<PeriodsParams>,
}

fn is_robust(s: &Scaling) -> bool {
    *s == Scaling::Robust
}

fn is_frequency(c: &CategoryEncoding) -> bool {
    *c == CategoryEncoding::Frequency
}

fn binary() -> Target {
    Target::Binary
}

impl FeaturesParams {
    /// These parameters for a task whose target is of kind `target`.
    pub fn for_target(self, target: Target) -> FeaturesParams {
        FeaturesParams { target, ..self }
    }

    /// These parameters carrying the row-weight column `weight` (`train.weight`) and the
    /// stratum column `stratify` (`train.stratify`).
    pub fn carrying(self, weight: Option<String>, stratify: Option<String>) -> FeaturesParams {
        FeaturesParams {
            weight,
            stratify,
            ..self
        }
    }
}

impl FeaturesConfig {
    /// Checks the section and fills defaults.
    pub fn resolve(self, file: &str, seed: u64) -> Result<FeaturesParams, Vec<Error>> {
        let mut errs = Vec::new();
        let split = self.split.unwrap_or(SplitKind::Stratified);
        let test_fraction = self.test_fraction.unwrap_or(0.3);
        if !(test_fraction > 0.0 && test_fraction < 1.0) {
            errs.push(Error::config(
                file,
                "features.test_fraction",
                format!("must be between 0 and 1 (exclusive), found {test_fraction}"),
            ));
        }
        if split == SplitKind::Time && self.time_column.is_none() {
            errs.push(Error::config(
                file,
                "features.time_column",
                "`split: time` needs `time_column: DATE_COLUMN`",
            ));
        }
        if (split == SplitKind::Periods || self.windows.is_some()) && self.time_column.is_none() {
            errs.push(Error::config(
                file,
                "features.time_column",
                "`split: periods` and `windows` need `time_column: TIMESTAMP_COLUMN`",
            ));
        }
        if (split == SplitKind::Periods) != self.periods.is_some() {
            errs.push(Error::config(
                file,
                "features.periods",
                "`split: periods` and the `periods:` section go together",
            ));
        }
        if split == SplitKind::Periods && self.test_fraction.is_some() {
            errs.push(Error::config(
                file,
                "features.test_fraction",
                "does not apply to `split: periods`: `periods.test_days` sets the test window",
            ));
        }
        let windows = self.windows.map(|w| w.resolve(file, &mut errs));
        let periods = self.periods.map(|p| p.resolve(file, &mut errs));
        let cap_lower = self.cap_lower.unwrap_or(0.01);
        let cap_upper = self.cap_upper.unwrap_or(0.99);
        if !(0.0..0.5).contains(&cap_lower) || !(0.5..=1.0).contains(&cap_upper) {
            errs.push(Error::config(
                file,
                "features.cap_lower",
                "capping quantiles must satisfy 0 <= cap_lower < 0.5 <= cap_upper <= 1",
            ));
        }
        let b = self.binning.unwrap_or_default();
        let binning_method = b.method_checked(file, &mut errs);
        let max_bin_share = b.max_bin_share.unwrap_or(1.0);
        let min_prebin_share = b.min_prebin_share.unwrap_or(0.02);
        let max_prebins = b.max_prebins.unwrap_or(40);
        if !(max_bin_share > 0.0 && max_bin_share <= 1.0) {
            errs.push(Error::config(
                file,
                "features.binning.max_bin_share",
                "must be in (0, 1]",
            ));
        }
        if !(0.0..0.5).contains(&min_prebin_share) {
            errs.push(Error::config(
                file,
                "features.binning.min_prebin_share",
                "must be in [0, 0.5)",
            ));
        }
        if !(2..=200).contains(&max_prebins) {
            errs.push(Error::config(
                file,
                "features.binning.max_prebins",
                "must be between 2 and 200",
            ));
        }
        if let Some(p) = b.max_pvalue
            && !(p > 0.0 && p <= 1.0)
        {
            errs.push(Error::config(file, "features.binning.max_pvalue", "must be in (0, 1]"));
        }
        let special_values = b.special_values.unwrap_or_default();
        if special_values.iter().any(|v| !v.is_finite()) {
            errs.push(Error::config(
                file,
                "features.binning.special_values",
                "must be finite numbers (missing values have their own bin already)",
            ));
        }
        let max_bins = b.max_bins.unwrap_or(10);
        if !(2..=50).contains(&max_bins) {
            errs.push(Error::config(
                file,
                "features.binning.max_bins",
                format!("must be between 2 and 50, found {max_bins}"),
            ));
        }
        let min_category_share = b.min_category_share.unwrap_or(0.05);
        if !(0.0..0.5).contains(&min_category_share) {
            errs.push(Error::config(
                file,
                "features.binning.min_category_share",
                "must be in [0, 0.5)",
            ));
        }
        let min_bin_share = b.min_bin_share.unwrap_or(0.05);
        if !(0.0..0.5).contains(&min_bin_share) {
            errs.push(Error::config(
                file,
                "features.binning.min_bin_share",
                "must be in [0, 0.5)",
            ));
        }
        if min_bin_share > max_bin_share {
            errs.push(Error::config(
                file,
                "features.binning.max_bin_share",
                "must be at least `min_bin_share`",
            ));
        }
        let monotonic = match b.monotonic.as_deref() {
            None | Some("auto") => true,
            Some("none") => false,
            Some(other) => {
                errs.push(Error::config(
                    file,
                    "features.binning.monotonic",
                    format!("unknown `{other}`, expected `auto` or `none`"),
                ));
                true
            }
        };
        let selection = self.selection.unwrap_or_default().resolve(file, &mut errs);
        let reduction = self.reduction.and_then(|r| r.resolve(file, &mut errs));
        let anomaly_scores = resolve_anomaly_scores(self.anomaly_scores.unwrap_or_default(), file, &mut errs);
        if !errs.is_empty() {
            return Err(errs);
        }
        Ok(FeaturesParams {
            scaling: self.scaling.unwrap_or_default(),
            category_encoding: self.category_encoding.unwrap_or_default(),
            reduction,
            anomaly_scores,
            weight: None,
            stratify: None,
            windows,
            periods,
            target: Target::Binary,
            split,
            test_fraction,
            time_column: self.time_column,
            exclude: self.exclude.unwrap_or_default(),
            max_categories: self.max_categories.unwrap_or(50),
            cap_lower,
            cap_upper,
            binning_method,
            max_bins,
            min_category_share,
            min_bin_share,
            monotonic,
            selection,
            optimal: OptimalBinner {
                max_bins,
                max_prebins,
                min_prebin_share,
                min_bin_share,
                max_bin_share,
                min_bin_events: b.min_bin_events.unwrap_or(1),
                max_pvalue: b.max_pvalue,
                trend: b.trend.unwrap_or(Trend::Auto),
                special_values,
                min_category_share,
            },
            seed,
        })
    }
}

impl BinningConfig {
    /// The binning method, and a problem for every key the other method reads.
    fn method_checked(&self, file: &str, errs: &mut Vec<Error>) -> BinningMethod {
        let b = self;
        let binning_method = match b.method.as_deref() {
            None | Some("optimal") => BinningMethod::Optimal,
            Some("quantile") => BinningMethod::Quantile,
            Some(other) => {
                errs.push(Error::config(
                    file,
                    "features.binning.method",
                    format!("unknown method `{other}`, expected `optimal` or `quantile`"),
                ));
                BinningMethod::Optimal
            }
        };
        if binning_method == BinningMethod::Quantile {
            for (set, key) in [
                (b.max_bin_share.is_some(), "max_bin_share"),
                (b.min_bin_events.is_some(), "min_bin_events"),
                (b.max_pvalue.is_some(), "max_pvalue"),
                (b.max_prebins.is_some(), "max_prebins"),
                (b.min_prebin_share.is_some(), "min_prebin_share"),
                (b.trend.is_some(), "trend"),
                (b.special_values.is_some(), "special_values"),
            ] {
                if set {
                    errs.push(Error::config(
                        file,
                        format!("features.binning.{key}"),
                        "applies to `method: optimal` only",
                    ));
                }
            }
        } else if b.monotonic.is_some() {
            errs.push(Error::config(
                file,
                "features.binning.monotonic",
                "applies to `method: quantile`; with `optimal` use `trend`",
            ));
        }
        binning_method
    }
}

impl SelectionConfig {
    /// Checks `features.selection`, recording problems in `errs`.
    fn resolve(self, file: &str, errs: &mut Vec<Error>) -> SelectionParams {
        let sel = self;
        let min_iv = sel.min_iv.unwrap_or(0.02);
        if !(min_iv >= 0.0 && min_iv.is_finite()) {
            errs.push(Error::config(
                file,
                "features.selection.min_iv",
                "must be a number >= 0",
            ));
        }
        if let Some(m) = sel.max_iv
            && (m.is_nan() || m <= min_iv)
        {
            errs.push(Error::config(
                file,
                "features.selection.max_iv",
                "must be above `min_iv`",
            ));
        }
        let max_correlation = sel.max_correlation.unwrap_or(1.0);
        if !(max_correlation > 0.0 && max_correlation <= 1.0) {
            errs.push(Error::config(
                file,
                "features.selection.max_correlation",
                "must be in (0, 1]",
            ));
        }
        if let Some(v) = sel.max_vif
            && (v.is_nan() || v < 1.0)
        {
            errs.push(Error::config(file, "features.selection.max_vif", "must be >= 1"));
        }
        SelectionParams {
            min_iv,
            max_iv: sel.max_iv,
            max_correlation: (max_correlation < 1.0).then_some(max_correlation),
            max_vif: sel.max_vif,
            stepwise: sel.stepwise.unwrap_or_default(),
        }
    }
}
