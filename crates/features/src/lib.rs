//! riskpipe-features: the feature-engineering stage and the fitted [`Transform`].
//!
//! Splits rows into train and test first (stratified, or out of time on a date column), then
//! fits on train only: median imputation with missing indicators, capping at train quantiles,
//! a target-free ordinal code for categories (for trees), optimal WoE binning with IV per
//! feature and feature selection (for the scorecard, with a 0/1 target), and for detectors
//! (a task without a target) robust or standard scaling and frequency or one-hot encoded
//! categories. It writes `split.parquet`, `train.parquet`, `test.parquet`, `transform.json` and
//! `report.json`.
//!
//! [`Scorecard`] turns a logistic regression on the WoE columns into integer points per bin;
//! evaluate shows them in the report and deploy ships them in the bundle.
//!
//! Where it sits: privacy -> **features** -> train; `deploy` applies the same `Transform` to
//! new applications. The one design decision: binning sits behind the [`Binner`] trait and its
//! result is the plain [`Binning`] table, so binning algorithms ([`OptimalBinner`],
//! [`QuantileBinner`]) change without touching the transform, scorecard or scorer.
//!
//! ```
//! use riskpipe_core::{Column, Frame};
//! use riskpipe_features::{CategoryEncoding, FitSpec, QuantileBinner, Scaling, Transform};
//! let mut f = Frame::new();
//! f.push("x", Column::Number((0..100).map(f64::from).collect()));
//! f.push("y", Column::Number((0..100).map(|i| f64::from(u8::from(i > 70))).collect()));
//! let binner = QuantileBinner { max_bins: 5, min_category_share: 0.01, min_bin_share: 0.05, monotonic: true };
//! let spec = FitSpec {
//!     woe: Some(("y", &binner)),
//!     scaling: Some(Scaling::Robust),
//!     categories: CategoryEncoding::Frequency,
//!     cap: (0.0, 1.0),
//! };
//! let t = Transform::fit(&f, &["x".to_string()], &spec).unwrap();
//! let m = t.apply(&f, "example").unwrap();
//! let woe = m.number("woe_x").unwrap();
//! assert!(woe[0] > 0.0 && woe[99] < 0.0); // low x: few events, positive WoE
//! let z = m.number("x__scaled").unwrap(); // (x - median) / IQR, for detectors
//! assert_eq!((z[0], z[99]), (-49.5 / 49.5, 49.5 / 49.5));
//! ```
#![warn(missing_docs)]

mod config;
mod derived;
pub mod event_state;
pub mod events;
mod run;
mod transform;
pub mod window;

pub use config::{BinningConfig, BinningMethod, FeaturesConfig, FeaturesParams, SelectionConfig, SplitKind};
pub use derived::{ANOMALY_PREFIX, AnomalyFeature, Derived, PC_PREFIX, Reduction, ReductionConfig};
// The scorecard's building blocks live in `riskpipe-scorecard`; re-exported for the stages that
// read the transform's binnings.
pub use riskpipe_scorecard::{
    Bin, BinMap, BinPoints, BinRef, Binner, Binning, Decision, FeaturePoints, OptimalBinner, QuantileBinner, Scorecard,
    ScorecardConfig, ScorecardParams, SelectionParams, SpecialBin, Stepwise, Trend, correlation, select, vif,
};
pub use run::{FeatureSummary, FeaturesReport, ROW, SPLIT, inputs, run};
pub use transform::{
    CategoryEncoding, Encoding, FeatureTransform, FitSpec, Locator, MISSING_SUFFIX, ONE_HOT_INFIX, SCALED_SUFFIX,
    Scale, Scaling, Transform, WOE_PREFIX,
};
