//! riskpipe-models: estimators written for risk work, with fit, predict_proba and serde.
//!
//! - [`LogisticRegression`]: Newton/IRLS on the weighted mean log loss with L2, in f64; the
//!   probability returned is always that of class 1 (the event, e.g. default).
//! - [`DecisionTree`]: CART on histogram bins ([`hist`]), class-frequency leaves, sample weights,
//!   max depth, min samples per leaf. The histogram learner is the base the forest and boosting
//!   engines reuse.
//! - [`RandomForest`]: bootstrap and per-split feature sampling on the same histogram learner,
//!   trees in parallel, out-of-bag AUC.
//! - [`GradientBoosting`]: histogram gradient-boosted trees (log loss, leaf- or depth-wise growth, early
//!   stopping).
//! - [`AdaBoost`], [`Bagging`] and [`Mlp`]: SAMME on shallow trees, bootstrap averages of any
//!   base model, and a multilayer perceptron.
//! - [`detect`]: anomaly detectors, fitted without a target: [`IsolationForest`], [`Ecod`],
//!   [`Hbos`]; higher scores are more unusual.
//! - [`Calibrator`]: Platt or isotonic calibration of probabilities.
//! - [`shap`]: exact per-row feature contributions of tree models (TreeSHAP, the path walk),
//!   and [`explain`]: the same values from per-leaf tables built once per model, through
//!   [`Model::contributions`] and [`Model::explainer`].
//! - [`Model`], [`ModelParams`], [`Family`] and [`Output`] ([`family`](crate::Family)): the
//!   families as values, the one place that matches on them; the serialisable union the
//!   pipeline stores as JSON and the scorer loads.
//! - [`DecisionTree::fit_regression`]: the CART learner on squared error (leaf means), the
//!   `regression_tree` family.
//!
//! The design decision: every reduction runs over fixed row chunks added in order, and every
//! tie is broken by index, so fits are bit-identical across runs and thread counts.
//! (linfa-logistic and linfa-trees 0.8.1 were measured unfit for this: see the README.)
//!
//! ```
//! use riskpipe_models::{LogisticParams, LogisticRegression};
//! let x = [0.0, 1.0, 2.0, 3.0, 4.0, 5.0];
//! let y = [0.0, 0.0, 1.0, 0.0, 1.0, 1.0];
//! let names = vec!["x".to_string()];
//! let m = LogisticRegression::fit(&names, &[&x], &y, None, &LogisticParams::default()).unwrap();
//! let p = m.predict_proba(&[&[5.0]]);
//! assert!(p[0] > 0.5 && m.coef[0] > 0.0);
//! ```
#![warn(missing_docs)]

mod boosting;
mod calibration;
pub mod detect;
mod ensemble;
pub mod explain;
mod family;
mod flat;
mod forest;
pub mod hist;
mod linear;
mod logistic;
mod mlp;
mod pca;
pub mod shap;
mod tree;
mod two_stage;

pub use boosting::{BoostingParams, GradientBoosting, Growth, Objective};
pub use calibration::Calibrator;
pub use detect::{
    Covariance, Detect, DetectorEnsemble, Ecod, EcodParams, GaussianMixture, GmmParams, Hbos, HbosParams,
    IsolationForest, IsolationForestParams, KMeans, KMeansParams, Knn, Lof, NEIGHBOUR_ROW_LIMIT, NeighbourParams,
};
pub use ensemble::{AdaBoost, AdaBoostParams, Bagging, BaggingParams, BaseParams};
pub use family::{Family, FeatureSet, Model, ModelParams, Output, ParamError};
pub use forest::{ForestParams, RandomForest};
pub use linear::{LinearParams, LinearRegression, Link};
pub use logistic::{LogisticParams, LogisticRegression};
pub use mlp::{Layer, Mlp, MlpParams};
pub use pca::{Keep, Pca, PcaDetector, PcaParams, PcaScore, symmetric_eigen};
pub use tree::{Criterion, DecisionTree, Node, RegressionTreeParams, TreeParams};
pub use two_stage::{TwoStage, TwoStageParams};

use riskpipe_core::{Error, Frame, Result};

/// Row weights for `y`: all 1, or, when `balanced`, `n / (2 n_class)` so that both classes weigh
/// the same in the loss (scikit-learn's `class_weight="balanced"`).
pub fn class_weights(y: &[f64], balanced: bool) -> Vec<f64> {
    if !balanced {
        return vec![1.0; y.len()];
    }
    let [wn, wp] = balanced_pair(y.iter().copied());
    y.iter().map(|v| if *v > 0.5 { wp } else { wn }).collect()
}

/// The weights of class 0 and class 1 under which both classes of `labels` weigh the same in
/// total (1 for a class that is absent).
pub(crate) fn balanced_pair(labels: impl Iterator<Item = f64>) -> [f64; 2] {
    let (mut n, mut pos) = (0usize, 0usize);
    for v in labels {
        n += 1;
        pos += usize::from(v > 0.5);
    }
    let (n, pos) = (n as f64, pos as f64);
    [
        if n > pos { n / (2.0 * (n - pos)) } else { 1.0 },
        if pos > 0.0 { n / (2.0 * pos) } else { 1.0 },
    ]
}

/// Row weights must be one per row, finite, at least 0 and not all 0.
pub(crate) fn check_weights(model: &str, weights: Option<&[f64]>, n: usize) -> Result<()> {
    let Some(w) = weights else { return Ok(()) };
    if w.len() != n {
        return Err(Error::Internal(format!("{model}: {} weights for {n} rows", w.len())));
    }
    if let Some(i) = w.iter().position(|v| !(v.is_finite() && *v >= 0.0)) {
        return Err(Error::Internal(format!("{model}: row {} has weight {}", i + 1, w[i])));
    }
    if !w.iter().any(|v| *v > 0.0) {
        return Err(Error::Internal(format!("{model}: every weight is 0")));
    }
    Ok(())
}

#[expect(
    clippy::trivially_copy_pass_by_ref,
    reason = "serde's skip_serializing_if passes a reference"
)]
pub(crate) fn is_false(b: &bool) -> bool {
    !*b
}

/// Applies `f` to every row of columns `x` (gathered into a reused buffer), in parallel chunks
/// whose results keep row order.
pub(crate) fn predict_rows(x: &[&[f64]], f: impl Fn(&[f64]) -> f64 + Sync) -> Vec<f64> {
    use rayon::prelude::*;
    const CHUNK: usize = 4096;
    let n = x.first().map_or(0, |c| c.len());
    let mut out = vec![0.0; n];
    out.par_chunks_mut(CHUNK).enumerate().for_each(|(c, chunk)| {
        let mut row = vec![0.0; x.len()];
        for (k, o) in chunk.iter_mut().enumerate() {
            let i = c * CHUNK + k;
            for (j, col) in x.iter().enumerate() {
                row[j] = col[i];
            }
            *o = f(&row);
        }
    });
    out
}

/// The named numeric columns of a frame, in order.
pub fn feature_columns<'a>(frame: &'a Frame, names: &[String]) -> Result<Vec<&'a [f64]>> {
    names
        .iter()
        .map(|n| {
            frame.number(n).ok_or_else(|| Error::ColumnNotFound {
                file: "feature matrix".into(),
                column: n.clone(),
                hint: String::new(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use riskpipe_core::Rng;

    #[test]
    fn balanced_class_weights_lift_the_rare_class_in_every_family() {
        // 5 % events: unweighted models predict about 0.05 on average; with both classes
        // weighing the same, the average prediction moves to about one half, and the ranking
        // stays informative.
        let mut rng = Rng::new(12);
        let n = 8000;
        let x0: Vec<f64> = (0..n).map(|_| rng.normal()).collect();
        let x1: Vec<f64> = (0..n).map(|_| rng.normal()).collect();
        let y: Vec<f64> = x0
            .iter()
            .map(|v| f64::from(u8::from(rng.bernoulli(1.0 / (1.0 + (3.5 - 1.2 * v).exp())))))
            .collect();
        let names = vec!["x0".to_string(), "x1".to_string()];
        let x: Vec<&[f64]> = vec![&x0, &x1];
        let mean = |p: &[f64]| p.iter().sum::<f64>() / p.len() as f64;
        let fits = |balanced: bool| -> Vec<(&str, Vec<f64>)> {
            let forest = RandomForest::fit(
                &names,
                &x,
                &y,
                &ForestParams {
                    n_trees: 10,
                    tree: TreeParams {
                        max_depth: 4,
                        min_samples_leaf: 20,
                        balanced,
                        ..TreeParams::default()
                    },
                    seed: 3,
                },
            )
            .unwrap();
            let boosting = GradientBoosting::fit(
                &names,
                &x,
                &y,
                &BoostingParams {
                    n_trees: 60,
                    learning_rate: 0.1,
                    max_leaves: 8,
                    balanced,
                    ..BoostingParams::default()
                },
            )
            .unwrap();
            let mlp = Mlp::fit(
                &names,
                &x,
                &y,
                &MlpParams {
                    hidden: vec![8],
                    learning_rate: 0.01,
                    max_epochs: 30,
                    balanced,
                    ..MlpParams::default()
                },
            )
            .unwrap();
            vec![
                ("forest", forest.predict_proba(&x)),
                ("boosting", boosting.predict_proba(&x)),
                ("mlp", mlp.predict_proba(&x)),
            ]
        };
        let rate = mean(&y);
        assert!(rate < 0.08, "event rate {rate}");
        for ((name, plain), (_, weighted)) in fits(false).into_iter().zip(fits(true)) {
            assert!(mean(&plain) < 0.1, "{name} unweighted mean {}", mean(&plain));
            assert!(mean(&weighted) > 0.3, "{name} balanced mean {}", mean(&weighted));
            assert!(riskpipe_core::stats::auc(&y, &weighted) > 0.75, "{name}");
        }
    }
}
