//! riskpipe-scorecard: the credit scorecard's building blocks, below the stages.
//!
//! - [`binning`](Binning): bins of one feature (numeric edges or category groups, missing and
//!   special values in bins of their own), their WoE and IV, and the [`QuantileBinner`];
//! - [`OptimalBinner`]: the IV-maximising binning under trend, share, event-count and p-value
//!   constraints, by dynamic programming over fine pre-bins;
//! - [`woe`] and [`iv_term`]: the one weight-of-evidence formula every crate uses;
//! - [`select`]: the scorecard's feature selection (IV bounds, correlation, VIF, stepwise);
//! - [`Scorecard`]: points per bin from a logistic regression on WoE columns, and the one
//!   PD-to-points scaling ([`ScorecardParams`]).
//!
//! The features stage bins and selects with it for binary targets; train re-estimates WoE per
//! fold with [`woe`]; evaluate and deploy build and read the scorecard.
//!
//! ```
//! let (non, events) = (90.0, 10.0);
//! let w = riskpipe_scorecard::woe(non, events, 900.0, 100.0, 5.0);
//! assert!(w.abs() < 0.05); // this bin has the book's bad rate: WoE about 0
//! ```
#![warn(missing_docs)]

mod binning;
mod card;
mod optimal;
mod selection;

pub use binning::{Bin, BinMap, BinRef, Binner, Binning, QuantileBinner, SpecialBin};
pub use card::{BinPoints, BinningOf, Binnings, FeaturePoints, Scorecard, ScorecardConfig, ScorecardParams};
pub use optimal::{OptimalBinner, Trend};
pub use selection::{Decision, SelectionParams, Stepwise, correlation, select, vif};

/// Smoothing added to each bin's counts of non-events and events (0.5: no bin has an infinite
/// WoE, and an empty bin's WoE is 0).
pub const SMOOTH: f64 = 0.5;

/// Weight of evidence of a bin with `non` non-events and `events` events, in a table of `bins`
/// bins with `total_non` and `total_events` in all: ln(share of non-events / share of events),
/// each count smoothed by [`SMOOTH`].
pub fn woe(non: f64, events: f64, total_non: f64, total_events: f64, bins: f64) -> f64 {
    let (g, b) = shares(non, events, total_non, total_events, bins);
    (g / b).ln()
}

/// A bin's term of the information value: (share of non-events - share of events) x WoE.
pub fn iv_term(non: f64, events: f64, total_non: f64, total_events: f64, bins: f64) -> f64 {
    let (g, b) = shares(non, events, total_non, total_events, bins);
    (g - b) * (g / b).ln()
}

fn shares(non: f64, events: f64, total_non: f64, total_events: f64, bins: f64) -> (f64, f64) {
    (
        (non + SMOOTH) / (total_non + SMOOTH * bins),
        (events + SMOOTH) / (total_events + SMOOTH * bins),
    )
}
