//! The model families as values, and the one place that matches on them: [`Family`] names
//! them, [`ModelParams`] holds one family's settings, checks them and fits them, [`Model`] is a
//! fitted model of any family (what `model.json` holds), [`Output`] says what its prediction
//! is. Stages ask a [`Model`] or a [`ModelParams`] what they need; none matches on a variant.
//!
//! Adding a family: its algorithm in a module of this crate, then a variant in each enum here
//! (the compiler lists every match that needs an arm), then its grid file in `train`.

use serde::{Deserialize, Serialize};

use riskpipe_core::{Error, Frame, Result};

use crate::detect::Detect;
use crate::{
    AdaBoost, AdaBoostParams, Bagging, BaggingParams, BaseParams, BoostingParams, Criterion, DecisionTree,
    DetectorEnsemble, Ecod, EcodParams, ForestParams, GaussianMixture, GmmParams, GradientBoosting, Hbos, HbosParams,
    IsolationForest, IsolationForestParams, KMeans, KMeansParams, Knn, LinearParams, LinearRegression, Lof,
    LogisticParams, LogisticRegression, Mlp, MlpParams, NEIGHBOUR_ROW_LIMIT, NeighbourParams, Node, Objective,
    PcaDetector, PcaParams, RandomForest, RegressionTreeParams, TreeParams, TwoStage, TwoStageParams, feature_columns,
};

/// A model family, by the name a pipeline file and `model.json` use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Family {
    /// Logistic regression on WoE columns.
    Logistic,
    /// One CART tree.
    Tree,
    /// Random forest.
    Forest,
    /// Gradient-boosted trees.
    Boosting,
    /// AdaBoost (SAMME) on shallow trees.
    #[serde(rename = "adaboost")]
    AdaBoost,
    /// Bagging of a base model.
    Bagging,
    /// Multilayer perceptron.
    Mlp,
    /// One CART tree on squared error: an amount per leaf.
    RegressionTree,
    /// Isolation forest: an anomaly score from random-split path lengths.
    #[serde(rename = "iforest")]
    IsolationForest,
    /// ECOD: an anomaly score from empirical-CDF tails.
    Ecod,
    /// HBOS: an anomaly score from per-feature histograms.
    Hbos,
    /// k-means: an anomaly score from the distance to the nearest centre.
    #[serde(rename = "kmeans")]
    KMeans,
    /// Gaussian mixture: an anomaly score from the negative log-likelihood.
    Gmm,
    /// kNN: an anomaly score from the distance to the k-th nearest fit row.
    Knn,
    /// LOF: an anomaly score from the local outlier factor.
    Lof,
    /// PCA: an anomaly score from the reconstruction error.
    Pca,
    /// Linear regression of an amount: least squares, or fractional logit for a share.
    Linear,
    /// Two stages for a loss rate: P(any loss), then the severity of the loss cases.
    TwoStage,
}

impl Family {
    /// Every family, in the order train searches them and reports list them.
    pub const ALL: [Family; 18] = [
        Family::Logistic,
        Family::Tree,
        Family::Forest,
        Family::Boosting,
        Family::AdaBoost,
        Family::Bagging,
        Family::Mlp,
        Family::RegressionTree,
        Family::IsolationForest,
        Family::Ecod,
        Family::Hbos,
        Family::KMeans,
        Family::Gmm,
        Family::Knn,
        Family::Lof,
        Family::Pca,
        Family::Linear,
        Family::TwoStage,
    ];

    /// Every family's name, in the order of [`Family::ALL`].
    pub const NAMES: [&'static str; 18] = [
        "logistic",
        "tree",
        "forest",
        "boosting",
        "adaboost",
        "bagging",
        "mlp",
        "regression_tree",
        "iforest",
        "ecod",
        "hbos",
        "kmeans",
        "gmm",
        "knn",
        "lof",
        "pca",
        "linear",
        "two_stage",
    ];

    /// The family's name (`train.models.<name>`, `train/<name>.json`).
    pub fn name(self) -> &'static str {
        Family::NAMES[self as usize]
    }

    /// The family called `name`, if any.
    pub fn from_name(name: &str) -> Option<Family> {
        Family::ALL.into_iter().find(|f| f.name() == name)
    }
}

impl std::fmt::Display for Family {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// What a fitted model's prediction is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Output {
    /// P(y = 1), in [0, 1]: for a binary target.
    Probability,
    /// An amount on the target's scale (a loss rate, an exposure): for a continuous target.
    Amount,
    /// How unusual a row is, higher = more anomalous: for a task without a target.
    AnomalyScore,
}

impl Output {
    /// How the output reads in a sentence ("a probability").
    pub fn describe(self) -> &'static str {
        match self {
            Output::Probability => "a probability",
            Output::Amount => "an amount",
            Output::AnomalyScore => "an anomaly score",
        }
    }
}

/// The columns of the feature matrices a model reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeatureSet {
    /// The encoded raw values (imputed, capped) and missing flags: trees, boosting, networks.
    Raw,
    /// The weight-of-evidence columns: the logistic scorecard, and bagging over it.
    Woe,
    /// The scaled columns (robust-scaled or standardised numbers, category frequencies):
    /// detectors.
    Scaled,
}

/// A setting no fit can use: the field of the family's parameters, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamError {
    /// The field, as the parameters name it (`max_depth`).
    pub field: &'static str,
    /// What is wrong with its value.
    pub message: String,
}

/// One family's settings: what a grid point of the search holds. Serialised as the family's own
/// parameters (the `params` of `cv.json` and `cv_results.parquet`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum ModelParams {
    /// Logistic regression.
    Logistic(LogisticParams),
    /// One tree.
    Tree(TreeParams),
    /// Random forest.
    Forest(ForestParams),
    /// Gradient boosting.
    Boosting(BoostingParams),
    /// AdaBoost.
    AdaBoost(AdaBoostParams),
    /// Bagging.
    Bagging(BaggingParams),
    /// Multilayer perceptron.
    Mlp(MlpParams),
    /// One regression tree.
    RegressionTree(RegressionTreeParams),
    /// Isolation forest.
    IsolationForest(IsolationForestParams),
    /// ECOD.
    Ecod(EcodParams),
    /// HBOS.
    Hbos(HbosParams),
    /// k-means distance.
    KMeans(KMeansParams),
    /// Gaussian mixture.
    Gmm(GmmParams),
    /// kNN distance.
    Knn(NeighbourParams),
    /// Local outlier factor.
    Lof(NeighbourParams),
    /// PCA reconstruction error.
    Pca(PcaParams),
    /// Linear regression.
    Linear(LinearParams),
    /// Two-stage loss rate.
    TwoStage(TwoStageParams),
}

/// `From` each family's parameters: `ModelParams::from(TreeParams { .. })`.
macro_rules! params_from {
    ($($params:ty => $variant:ident),* $(,)?) => {
        $(impl From<$params> for ModelParams {
            fn from(p: $params) -> Self {
                ModelParams::$variant(p)
            }
        })*
    };
}

params_from! {
    LogisticParams => Logistic,
    TreeParams => Tree,
    ForestParams => Forest,
    BoostingParams => Boosting,
    AdaBoostParams => AdaBoost,
    BaggingParams => Bagging,
    MlpParams => Mlp,
    RegressionTreeParams => RegressionTree,
    IsolationForestParams => IsolationForest,
    EcodParams => Ecod,
    HbosParams => Hbos,
    KMeansParams => KMeans,
    GmmParams => Gmm,
    PcaParams => Pca,
    LinearParams => Linear,
    TwoStageParams => TwoStage,
}

/// `Err` naming `field` unless `ok`.
fn need(ok: bool, field: &'static str, message: &str) -> std::result::Result<(), ParamError> {
    if ok {
        Ok(())
    } else {
        Err(ParamError {
            field,
            message: message.to_string(),
        })
    }
}

/// A finite value in `[lo, hi]`.
fn within(v: f64, lo: f64, hi: f64) -> bool {
    v.is_finite() && (lo..=hi).contains(&v)
}

fn check_tree(p: &TreeParams) -> std::result::Result<(), ParamError> {
    need(p.max_depth >= 1, "max_depth", "must be at least 1")?;
    need(p.min_samples_leaf >= 1, "min_samples_leaf", "must be at least 1")?;
    need((2..=255).contains(&p.max_bins), "max_bins", "must be between 2 and 255")?;
    need(within(p.min_gain, 0.0, f64::MAX), "min_gain", "must be finite and >= 0")?;
    need(
        within(p.ccp_alpha, 0.0, f64::MAX),
        "ccp_alpha",
        "must be finite and >= 0",
    )?;
    need(p.max_features != Some(0), "max_features", "must be at least 1")
}

impl ModelParams {
    /// kNN distance with these settings (kNN and LOF share a settings type, so no `From`).
    pub fn knn(p: NeighbourParams) -> Self {
        ModelParams::Knn(p)
    }

    /// The local outlier factor with these settings.
    pub fn lof(p: NeighbourParams) -> Self {
        ModelParams::Lof(p)
    }

    /// A detector family's default settings (seeded with `seed` where it draws); `None` for a
    /// family that is not a detector.
    pub fn detector_defaults(family: Family, seed: u64) -> Option<ModelParams> {
        Some(match family {
            Family::IsolationForest => ModelParams::IsolationForest(IsolationForestParams {
                seed,
                ..IsolationForestParams::default()
            }),
            Family::Ecod => ModelParams::Ecod(EcodParams::default()),
            Family::Hbos => ModelParams::Hbos(HbosParams::default()),
            Family::KMeans => ModelParams::KMeans(KMeansParams {
                seed,
                ..KMeansParams::default()
            }),
            Family::Gmm => ModelParams::Gmm(GmmParams {
                seed,
                ..GmmParams::default()
            }),
            Family::Knn => ModelParams::Knn(NeighbourParams {
                seed,
                ..NeighbourParams::knn()
            }),
            Family::Lof => ModelParams::Lof(NeighbourParams {
                seed,
                ..NeighbourParams::lof()
            }),
            Family::Pca => ModelParams::Pca(PcaParams::default()),
            _ => return None,
        })
    }

    /// Reads a family's parameters from their JSON form (what a pipeline's grid expands to).
    pub fn from_json(family: Family, v: &serde_json::Value) -> Result<ModelParams> {
        fn read<T: serde::de::DeserializeOwned>(family: Family, v: &serde_json::Value) -> Result<T> {
            serde_json::from_value(v.clone())
                .map_err(|e| Error::Internal(format!("parameters of `{}` do not read back: {e}", family.name())))
        }
        Ok(match family {
            Family::Logistic => ModelParams::Logistic(read(family, v)?),
            Family::Tree => ModelParams::Tree(read(family, v)?),
            Family::Forest => ModelParams::Forest(read(family, v)?),
            Family::Boosting => ModelParams::Boosting(read(family, v)?),
            Family::AdaBoost => ModelParams::AdaBoost(read(family, v)?),
            Family::Bagging => ModelParams::Bagging(read(family, v)?),
            Family::Mlp => ModelParams::Mlp(read(family, v)?),
            Family::RegressionTree => ModelParams::RegressionTree(read(family, v)?),
            Family::IsolationForest => ModelParams::IsolationForest(read(family, v)?),
            Family::Ecod => ModelParams::Ecod(read(family, v)?),
            Family::Hbos => ModelParams::Hbos(read(family, v)?),
            Family::KMeans => ModelParams::KMeans(read(family, v)?),
            Family::Gmm => ModelParams::Gmm(read(family, v)?),
            Family::Knn => ModelParams::Knn(read(family, v)?),
            Family::Lof => ModelParams::Lof(read(family, v)?),
            Family::Pca => ModelParams::Pca(read(family, v)?),
            Family::Linear => ModelParams::Linear(read(family, v)?),
            Family::TwoStage => ModelParams::TwoStage(read(family, v)?),
        })
    }

    /// The family these parameters belong to.
    pub fn family(&self) -> Family {
        match self {
            ModelParams::Logistic(_) => Family::Logistic,
            ModelParams::Tree(_) => Family::Tree,
            ModelParams::Forest(_) => Family::Forest,
            ModelParams::Boosting(_) => Family::Boosting,
            ModelParams::AdaBoost(_) => Family::AdaBoost,
            ModelParams::Bagging(_) => Family::Bagging,
            ModelParams::Mlp(_) => Family::Mlp,
            ModelParams::RegressionTree(_) => Family::RegressionTree,
            ModelParams::IsolationForest(_) => Family::IsolationForest,
            ModelParams::Ecod(_) => Family::Ecod,
            ModelParams::Hbos(_) => Family::Hbos,
            ModelParams::KMeans(_) => Family::KMeans,
            ModelParams::Gmm(_) => Family::Gmm,
            ModelParams::Knn(_) => Family::Knn,
            ModelParams::Lof(_) => Family::Lof,
            ModelParams::Pca(_) => Family::Pca,
            ModelParams::Linear(_) => Family::Linear,
            ModelParams::TwoStage(_) => Family::TwoStage,
        }
    }

    /// What a model fitted with these parameters predicts.
    pub fn output(&self) -> Output {
        match self {
            ModelParams::Boosting(b) if b.objective.predicts_amount() => Output::Amount,
            ModelParams::RegressionTree(_) | ModelParams::Linear(_) | ModelParams::TwoStage(_) => Output::Amount,
            ModelParams::Forest(f) if f.tree.criterion == Criterion::SquaredError => Output::Amount,
            ModelParams::IsolationForest(_)
            | ModelParams::Ecod(_)
            | ModelParams::Hbos(_)
            | ModelParams::KMeans(_)
            | ModelParams::Gmm(_)
            | ModelParams::Knn(_)
            | ModelParams::Lof(_)
            | ModelParams::Pca(_) => Output::AnomalyScore,
            _ => Output::Probability,
        }
    }

    /// The matrix columns the model reads: WoE columns (logistic regression, and bagging over
    /// it), scaled columns (detectors), or the encoded raw features (the rest).
    pub fn feature_set(&self) -> FeatureSet {
        match self {
            ModelParams::Logistic(_) => FeatureSet::Woe,
            ModelParams::Bagging(b) if matches!(b.base, BaseParams::Logistic(_)) => FeatureSet::Woe,
            _ if self.output() == Output::AnomalyScore => FeatureSet::Scaled,
            _ => FeatureSet::Raw,
        }
    }

    /// Whether the model reads WoE columns rather than the encoded raw features.
    pub fn reads_woe(&self) -> bool {
        self.feature_set() == FeatureSet::Woe
    }

    /// The features the settings name, with the field that names them (boosting's monotone
    /// constraints): each must be a feature the model reads.
    pub fn named_features(&self) -> Vec<(&'static str, &str)> {
        match self {
            ModelParams::Boosting(b) => b.monotone.keys().map(|f| ("monotone", f.as_str())).collect(),
            _ => Vec::new(),
        }
    }

    /// The first setting no fit can use, if any: sizes of at least one, shares in their range,
    /// finite rates. A [`ModelParams::fit`] checks first.
    pub fn check(&self) -> std::result::Result<(), ParamError> {
        match self {
            ModelParams::TwoStage(p) => {
                need(within(p.threshold, 0.0, 1.0), "threshold", "must be in [0, 1]")?;
                need(p.boosting.n_trees >= 1, "n_trees", "must be at least 1")?;
                need(
                    p.boosting.learning_rate.is_finite() && p.boosting.learning_rate > 0.0,
                    "learning_rate",
                    "must be finite and > 0",
                )?;
                need(p.boosting.max_leaves >= 2, "max_leaves", "must be at least 2")
            }
            ModelParams::Linear(p) => {
                need(within(p.l2, 0.0, f64::MAX), "l2", "must be finite and >= 0")?;
                need(p.max_iter >= 1, "max_iter", "must be at least 1")?;
                need(p.tol.is_finite() && p.tol > 0.0, "tol", "must be finite and > 0")
            }
            ModelParams::Logistic(p) => {
                need(within(p.l2, 0.0, f64::MAX), "l2", "must be finite and >= 0")?;
                need(within(p.l1, 0.0, f64::MAX), "l1", "must be finite and >= 0")?;
                need(p.max_iter >= 1, "max_iter", "must be at least 1")?;
                need(p.tol.is_finite() && p.tol > 0.0, "tol", "must be finite and > 0")
            }
            ModelParams::Tree(p) => check_tree(p),
            ModelParams::Forest(p) => {
                need(p.n_trees >= 1, "n_trees", "must be at least 1")?;
                check_tree(&p.tree)
            }
            ModelParams::Boosting(p) => {
                need(p.n_trees >= 1, "n_trees", "must be at least 1")?;
                need(
                    p.learning_rate.is_finite() && p.learning_rate > 0.0,
                    "learning_rate",
                    "must be finite and > 0",
                )?;
                need(p.max_leaves >= 2, "max_leaves", "must be at least 2")?;
                need(within(p.subsample, 1e-9, 1.0), "subsample", "must be in (0, 1]")?;
                need(within(p.colsample, 1e-9, 1.0), "colsample", "must be in (0, 1]")?;
                need(
                    within(p.validation_fraction, 0.0, 0.9),
                    "validation_fraction",
                    "must be in [0, 0.9]",
                )?;
                need((2..=255).contains(&p.max_bins), "max_bins", "must be between 2 and 255")?;
                need(
                    p.monotone.values().all(|m| matches!(m, -1..=1)),
                    "monotone",
                    "constraints are -1, 0 or 1",
                )
            }
            ModelParams::AdaBoost(p) => {
                need(p.n_estimators >= 1, "n_estimators", "must be at least 1")?;
                need(
                    p.learning_rate.is_finite() && p.learning_rate > 0.0,
                    "learning_rate",
                    "must be finite and > 0",
                )
            }
            ModelParams::Bagging(p) => {
                need(p.n_estimators >= 1, "n_estimators", "must be at least 1")?;
                need(within(p.max_samples, 1e-9, 1.0), "max_samples", "must be in (0, 1]")
            }
            ModelParams::Mlp(p) => {
                need(
                    !p.hidden.is_empty() && !p.hidden.contains(&0),
                    "hidden",
                    "needs one or more layer sizes >= 1",
                )?;
                need(
                    p.learning_rate.is_finite() && p.learning_rate > 0.0,
                    "learning_rate",
                    "must be finite and > 0",
                )?;
                need(p.batch_size >= 1, "batch_size", "must be at least 1")?;
                need(p.max_epochs >= 1, "max_epochs", "must be at least 1")?;
                need(within(p.dropout, 0.0, 0.9), "dropout", "must be in [0, 0.9]")
            }
            ModelParams::RegressionTree(p) => {
                need((1..=30).contains(&p.max_depth), "max_depth", "must be between 1 and 30")?;
                need(p.min_samples_leaf >= 1, "min_samples_leaf", "must be at least 1")?;
                need((2..=255).contains(&p.max_bins), "max_bins", "must be between 2 and 255")
            }
            ModelParams::IsolationForest(p) => {
                need(p.n_trees >= 1, "n_trees", "must be at least 1")?;
                need(p.max_samples >= 2, "max_samples", "must be at least 2")
            }
            ModelParams::Ecod(p) => need(p.points >= 2, "points", "must be at least 2"),
            ModelParams::Hbos(p) => {
                need(
                    (2..=10_000).contains(&p.n_bins),
                    "n_bins",
                    "must be between 2 and 10000",
                )?;
                need(p.alpha.is_finite() && p.alpha > 0.0, "alpha", "must be finite and > 0")?;
                need(within(p.tol, 0.0, f64::MAX), "tol", "must be finite and >= 0")
            }
            ModelParams::KMeans(p) => {
                need(p.k >= 1, "k", "must be at least 1")?;
                need(p.max_iter >= 1, "max_iter", "must be at least 1")?;
                need(within(p.tol, 0.0, f64::MAX), "tol", "must be finite and >= 0")
            }
            ModelParams::Gmm(p) => {
                need(p.components >= 1, "components", "must be at least 1")?;
                need(p.max_iter >= 1, "max_iter", "must be at least 1")?;
                need(within(p.tol, 0.0, f64::MAX), "tol", "must be finite and >= 0")?;
                need(
                    within(p.reg_covar, 0.0, f64::MAX),
                    "reg_covar",
                    "must be finite and >= 0",
                )
            }
            ModelParams::Knn(p) | ModelParams::Lof(p) => {
                need(p.k >= 1, "k", "must be at least 1")?;
                need(
                    p.max_rows.is_none_or(|m| (1..=NEIGHBOUR_ROW_LIMIT).contains(&m)),
                    "max_rows",
                    "must be between 1 and 100000 (the row limit of exact neighbours)",
                )
            }
            ModelParams::Pca(p) => {
                need(p.components != Some(0), "components", "must be at least 1")?;
                need(p.variance > 0.0 && p.variance <= 1.0, "variance", "must be in (0, 1]")
            }
        }
    }

    /// Checks the settings, then fits the model on columns `x` (named `names`) and targets `y`:
    /// 0/1 labels for a probability, real values for an amount; a detector never reads `y`.
    pub fn fit(&self, names: &[String], x: &[&[f64]], y: &[f64]) -> Result<Model> {
        self.fit_weighted(names, x, y, None)
    }

    /// Whether the family fits with row weights (`train.weight`): logistic regression, the
    /// tree, forest and boosting families, linear regression and the two-stage model.
    pub fn takes_weights(&self) -> bool {
        matches!(
            self,
            ModelParams::Logistic(_)
                | ModelParams::Tree(_)
                | ModelParams::Forest(_)
                | ModelParams::Boosting(_)
                | ModelParams::RegressionTree(_)
                | ModelParams::Linear(_)
                | ModelParams::TwoStage(_)
        )
    }

    /// [`ModelParams::fit`] with a weight per row (finite, at least 0, not all 0) for the
    /// families that [take weights](ModelParams::takes_weights); `None` weighs every row 1.
    pub fn fit_weighted(&self, names: &[String], x: &[&[f64]], y: &[f64], w: Option<&[f64]>) -> Result<Model> {
        if w.is_some() && !self.takes_weights() {
            return Err(Error::Internal(format!("{} does not take row weights", self.family())));
        }
        crate::check_weights(self.family().name(), w, y.len())?;
        self.check().map_err(|e| {
            Error::Internal(format!(
                "{} parameters: `{}` {} ({:?})",
                self.family(),
                e.field,
                e.message,
                self
            ))
        })?;
        Ok(match self {
            ModelParams::Logistic(p) => Model::Logistic(LogisticRegression::fit(names, x, y, w, p)?),
            ModelParams::Tree(p) => Model::Tree(DecisionTree::fit(names, x, y, w, p)?),
            ModelParams::Forest(p) => Model::Forest(RandomForest::fit_weighted(names, x, y, w, p)?),
            ModelParams::Boosting(p) => Model::Boosting(GradientBoosting::fit_weighted(names, x, y, w, p)?),
            ModelParams::AdaBoost(p) => Model::AdaBoost(AdaBoost::fit(names, x, y, p)?),
            ModelParams::Bagging(p) => Model::Bagging(Bagging::fit(names, x, y, p)?),
            ModelParams::Mlp(p) => Model::Mlp(Mlp::fit(names, x, y, p)?),
            ModelParams::RegressionTree(p) => Model::RegressionTree(DecisionTree::fit_regression(names, x, y, w, p)?),
            ModelParams::Linear(p) => Model::Linear(LinearRegression::fit(names, x, y, w, p)?),
            ModelParams::TwoStage(p) => Model::TwoStage(TwoStage::fit_weighted(names, x, y, w, p)?),
            ModelParams::IsolationForest(p) => Model::IsolationForest(IsolationForest::fit(names, x, p)?),
            ModelParams::Ecod(p) => Model::Ecod(Ecod::fit(names, x, p)?),
            ModelParams::Hbos(p) => Model::Hbos(Hbos::fit(names, x, p)?),
            ModelParams::KMeans(p) => Model::KMeans(KMeans::fit(names, x, p)?),
            ModelParams::Gmm(p) => Model::Gmm(GaussianMixture::fit(names, x, p)?),
            ModelParams::Knn(p) => Model::Knn(Knn::fit(names, x, p)?),
            ModelParams::Lof(p) => Model::Lof(Lof::fit(names, x, p)?),
            ModelParams::Pca(p) => Model::Pca(PcaDetector::fit(names, x, p)?),
        })
    }
}

/// A fitted model as stored in `model.json`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Model {
    /// Logistic regression.
    Logistic(LogisticRegression),
    /// Decision tree.
    Tree(DecisionTree),
    /// Random forest.
    Forest(RandomForest),
    /// Gradient-boosted trees.
    Boosting(GradientBoosting),
    /// AdaBoost on shallow trees.
    #[serde(rename = "adaboost")]
    AdaBoost(AdaBoost),
    /// Bagging of a base model.
    Bagging(Bagging),
    /// Multilayer perceptron.
    Mlp(Mlp),
    /// Regression tree: leaf means.
    RegressionTree(DecisionTree),
    /// Isolation forest.
    #[serde(rename = "iforest")]
    IsolationForest(IsolationForest),
    /// ECOD.
    Ecod(Ecod),
    /// HBOS.
    Hbos(Hbos),
    /// k-means distance.
    #[serde(rename = "kmeans")]
    KMeans(KMeans),
    /// Gaussian mixture.
    Gmm(GaussianMixture),
    /// kNN distance.
    Knn(Knn),
    /// Local outlier factor.
    Lof(Lof),
    /// PCA reconstruction error.
    Pca(PcaDetector),
    /// Linear regression of an amount.
    Linear(LinearRegression),
    /// Two-stage loss rate.
    TwoStage(TwoStage),
    /// The mean of detectors' rank-normalised scores (not a family: train builds it from the
    /// detectors it fitted).
    DetectorEnsemble(DetectorEnsemble),
}

fn std_dev(v: &[f64]) -> f64 {
    let n = v.len().max(1) as f64;
    let m = v.iter().sum::<f64>() / n;
    (v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / n).sqrt()
}

impl Model {
    /// The model's family (`None` for the detector ensemble, which is built, not listed).
    pub fn family(&self) -> Option<Family> {
        Some(match self {
            Model::Logistic(_) => Family::Logistic,
            Model::Tree(_) => Family::Tree,
            Model::Forest(_) => Family::Forest,
            Model::Boosting(_) => Family::Boosting,
            Model::AdaBoost(_) => Family::AdaBoost,
            Model::Bagging(_) => Family::Bagging,
            Model::Mlp(_) => Family::Mlp,
            Model::RegressionTree(_) => Family::RegressionTree,
            Model::IsolationForest(_) => Family::IsolationForest,
            Model::Ecod(_) => Family::Ecod,
            Model::Hbos(_) => Family::Hbos,
            Model::KMeans(_) => Family::KMeans,
            Model::Gmm(_) => Family::Gmm,
            Model::Knn(_) => Family::Knn,
            Model::Lof(_) => Family::Lof,
            Model::Pca(_) => Family::Pca,
            Model::Linear(_) => Family::Linear,
            Model::TwoStage(_) => Family::TwoStage,
            Model::DetectorEnsemble(_) => return None,
        })
    }

    /// The ensemble of fitted detectors `members` (name, model), each rank-normalised against
    /// its scores of the training columns `x`.
    pub fn detector_ensemble(members: Vec<(String, Model)>, x: &[&[f64]]) -> Result<Model> {
        Ok(Model::DetectorEnsemble(DetectorEnsemble::build(members, x)?))
    }

    /// The model as a detector, when it is one (a detector family or the ensemble).
    pub fn detector(&self) -> Option<&dyn Detect> {
        match self {
            Model::IsolationForest(m) => Some(m),
            Model::Ecod(m) => Some(m),
            Model::Hbos(m) => Some(m),
            Model::KMeans(m) => Some(m),
            Model::Gmm(m) => Some(m),
            Model::Knn(m) => Some(m),
            Model::Lof(m) => Some(m),
            Model::Pca(m) => Some(m),
            Model::DetectorEnsemble(m) => Some(m),
            _ => None,
        }
    }

    /// For a detector, each row's per-feature part in its unusualness (rows, then features in
    /// the model's order): isolation depth for the isolation forest, tail scores for ECOD and
    /// HBOS, the members' shares weighted by their ranks for the ensemble. `None` for the other
    /// families ([`Model::contributions`] explains trees).
    pub fn explain(&self, x: &[&[f64]]) -> Option<Vec<Vec<f64>>> {
        use rayon::prelude::*;
        let d = self.detector()?;
        let n = x.first().map_or(0, |c| c.len());
        Some(
            (0..n)
                .into_par_iter()
                .with_min_len(64)
                .map(|i| d.explain_row(&x.iter().map(|c| c[i]).collect::<Vec<f64>>()))
                .collect(),
        )
    }

    /// What [`Model::predict`] returns.
    pub fn output(&self) -> Output {
        match self {
            Model::Boosting(b) if b.params.objective.predicts_amount() => Output::Amount,
            Model::RegressionTree(_) | Model::Linear(_) | Model::TwoStage(_) => Output::Amount,
            Model::Forest(f) if f.params.tree.criterion == Criterion::SquaredError => Output::Amount,
            _ if self.detector().is_some() => Output::AnomalyScore,
            _ => Output::Probability,
        }
    }

    /// The feature columns the model reads, in order.
    pub fn features(&self) -> &[String] {
        match self {
            Model::Logistic(m) => &m.features,
            Model::Tree(m) | Model::RegressionTree(m) => &m.features,
            Model::Forest(m) => &m.features,
            Model::Boosting(m) => &m.features,
            Model::AdaBoost(m) => &m.features,
            Model::Bagging(m) => &m.features,
            Model::Mlp(m) => &m.features,
            Model::IsolationForest(m) => &m.features,
            Model::Ecod(m) => &m.features,
            Model::Hbos(m) => &m.features,
            Model::KMeans(m) => &m.features,
            Model::Gmm(m) => &m.features,
            Model::Knn(m) => &m.features,
            Model::Lof(m) => &m.features,
            Model::Pca(m) => &m.pca.features,
            Model::Linear(m) => &m.features,
            Model::TwoStage(m) => &m.features,
            Model::DetectorEnsemble(m) => &m.features,
        }
    }

    /// The prediction for columns `x` (in the model's feature order), as [`Model::output`]
    /// says: P(y = 1), an amount, or an anomaly score.
    pub fn predict(&self, x: &[&[f64]]) -> Vec<f64> {
        match self {
            Model::Logistic(m) => m.predict_proba(x),
            Model::Tree(m) | Model::RegressionTree(m) => m.predict_proba(x),
            Model::Forest(m) => m.predict_proba(x),
            Model::Boosting(m) if m.params.objective == Objective::Regression => m.predict_raw(x),
            Model::Boosting(m) => m.predict_proba(x),
            Model::AdaBoost(m) => m.predict_proba(x),
            Model::Bagging(m) => m.predict_proba(x),
            Model::Mlp(m) => m.predict_proba(x),
            Model::Linear(m) => m.predict(x),
            Model::TwoStage(m) => m.predict(x),
            Model::IsolationForest(_)
            | Model::Ecod(_)
            | Model::Hbos(_)
            | Model::KMeans(_)
            | Model::Gmm(_)
            | Model::Knn(_)
            | Model::Lof(_)
            | Model::Pca(_)
            | Model::DetectorEnsemble(_) => self.detector().map(|d| d.score(x)).unwrap_or_default(),
        }
    }

    /// [`Model::predict`] for each row of `frame`, reading the model's feature columns by name.
    pub fn predict_frame(&self, frame: &Frame) -> Result<Vec<f64>> {
        let cols = feature_columns(frame, self.features())?;
        Ok(self.predict(&cols))
    }

    /// The logistic regression, when this is one (its coefficients make the scorecard).
    pub fn logistic(&self) -> Option<&LogisticRegression> {
        match self {
            Model::Logistic(l) => Some(l),
            _ => None,
        }
    }

    /// The single tree, when this is one (the report draws its top).
    pub fn tree(&self) -> Option<&DecisionTree> {
        match self {
            Model::Tree(t) | Model::RegressionTree(t) => Some(t),
            _ => None,
        }
    }

    /// The scale of [`Model::contributions`]: `log-odds` for binary boosting, `amount` for a
    /// model of amounts, `PD` otherwise.
    pub fn contribution_scale(&self) -> &'static str {
        match (self, self.output()) {
            (Model::Boosting(b), _) if b.params.objective != Objective::Regression => "log-odds",
            (_, Output::Amount) => "amount",
            _ => "PD",
        }
    }

    /// Whether [`Model::contributions`] explains this model (trees, forests, boosting).
    pub fn has_contributions(&self) -> bool {
        matches!(
            self,
            Model::Tree(_) | Model::RegressionTree(_) | Model::Forest(_) | Model::Boosting(_) | Model::Linear(_)
        )
    }

    /// Exact per-row contributions of each feature (TreeSHAP, path-dependent) and the expected
    /// value, for tree models: contributions plus the expected value equal the model's raw
    /// output for the row (the probability for a tree or forest, the amount for a regression tree,
    /// the log-odds for binary boosting, the amount for regression boosting).
    /// `None` for the logistic regression (its scorecard points explain it) and for AdaBoost
    /// and bagging (votes and averages of other models).
    pub fn contributions(&self, x: &[&[f64]]) -> Option<(Vec<Vec<f64>>, f64)> {
        // A linear model's parts of its linear predictor are exact without a tree walk.
        if let Model::Linear(m) = self {
            return Some(m.contributions(x));
        }
        let explainer = self.explainer()?;
        Some((explainer.contributions(x), explainer.expected_value()))
    }

    /// The tree ensemble prepared for [`Model::contributions`] of many rows (TreeSHAP tables
    /// built once); `None` for the models [`Model::contributions`] does not explain by trees.
    pub fn explainer(&self) -> Option<crate::explain::Explainer> {
        let trees = self.trees()?;
        let (scale, offset) = match self {
            Model::Forest(m) => (1.0 / m.trees.len().max(1) as f64, 0.0),
            Model::Boosting(m) => (1.0, m.base),
            _ => (1.0, 0.0),
        };
        Some(crate::explain::Explainer::new(&trees, scale, offset))
    }

    /// The trees of a tree model, forest or boosting model.
    fn trees(&self) -> Option<Vec<&[Node]>> {
        Some(match self {
            Model::Tree(m) | Model::RegressionTree(m) => vec![&m.nodes],
            Model::Forest(m) => m.trees.iter().map(|t| t.nodes.as_slice()).collect(),
            Model::Boosting(m) => m.trees.iter().map(Vec::as_slice).collect(),
            _ => return None,
        })
    }

    /// The thresholds the trees split column `feature` at (a row goes left when its value is at
    /// most one), sorted and distinct: the only values where the model's output can change
    /// with that column alone. `None` for a model that is not trees, or a column it does not read.
    pub fn split_values(&self, feature: &str) -> Option<Vec<f64>> {
        let i = self.features().iter().position(|f| f == feature)?;
        let mut v: Vec<f64> = self
            .trees()?
            .into_iter()
            .flatten()
            .filter(|n| n.feature == Some(i))
            .filter_map(|n| n.threshold)
            .collect();
        v.sort_by(f64::total_cmp);
        v.dedup();
        Some(v)
    }

    /// Feature importance, summing to about 1 where the family defines one: the logistic
    /// regression's |coefficient x standard deviation| of its columns in `train` (normalised);
    /// impurity decrease of trees (Gini, or squared error for a regression tree) and forests; boosting's split gain; AdaBoost's vote-weighted Gini
    /// importance; bagged trees' mean Gini importance. Empty for a network or bagging over other
    /// models. Names are the raw features (`woe_` dropped).
    pub fn importance(&self, train: &Frame) -> Vec<(String, f64)> {
        use rayon::prelude::*;
        match self {
            Model::Logistic(l) => {
                let raw: Vec<(String, f64)> = l
                    .features
                    .par_iter()
                    .zip(&l.coef)
                    .map(|(f, c)| {
                        (
                            f.trim_start_matches(riskpipe_core::names::WOE_PREFIX).to_string(),
                            (c * std_dev(train.number(f).unwrap_or_default())).abs(),
                        )
                    })
                    .collect();
                let total = raw.iter().map(|r| r.1).sum::<f64>().max(1e-12);
                raw.into_iter().map(|(f, v)| (f, v / total)).collect()
            }
            Model::Tree(t) | Model::RegressionTree(t) => {
                t.features.iter().cloned().zip(t.importance.iter().copied()).collect()
            }
            Model::Forest(f) => f.features.iter().cloned().zip(f.importance.iter().copied()).collect(),
            Model::Boosting(b) => b
                .features
                .iter()
                .cloned()
                .zip(b.importance_gain.iter().copied())
                .collect(),
            Model::AdaBoost(a) => {
                let total = a.alphas.iter().sum::<f64>().max(1e-12);
                let mut imp = vec![0.0; a.features.len()];
                for (t, w) in a.trees.iter().zip(&a.alphas) {
                    for (v, ti) in imp.iter_mut().zip(&t.importance) {
                        *v += w * ti / total;
                    }
                }
                a.features.iter().cloned().zip(imp).collect()
            }
            Model::Bagging(b) => {
                let mut imp = vec![0.0; b.features.len()];
                for m in &b.members {
                    if let Model::Tree(t) = m {
                        for (v, ti) in imp.iter_mut().zip(&t.importance) {
                            *v += ti / b.members.len() as f64;
                        }
                    }
                }
                b.features.iter().cloned().zip(imp).filter(|(_, v)| *v > 0.0).collect()
            }
            Model::Mlp(_) => Vec::new(),
            // The severity stage's split gain: what drives the size of a loss.
            Model::TwoStage(m) => m
                .features
                .iter()
                .cloned()
                .zip(m.severity.importance_gain.iter().copied())
                .collect(),
            // Standardised coefficients: each feature's effect per standard deviation.
            Model::Linear(m) => {
                let total = m.coef.iter().map(|c| c.abs()).sum::<f64>().max(1e-12);
                m.features
                    .iter()
                    .cloned()
                    .zip(m.coef.iter().map(|c| c.abs() / total))
                    .collect()
            }
            Model::IsolationForest(_)
            | Model::Ecod(_)
            | Model::Hbos(_)
            | Model::KMeans(_)
            | Model::Gmm(_)
            | Model::Knn(_)
            | Model::Lof(_)
            | Model::Pca(_)
            | Model::DetectorEnsemble(_) => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn row_weights_decide_what_the_regressors_learn() {
        // Two groups over the same x: group A at 0.2 with a slope, group B at 0.8. With B
        // weighted 0 every regressor predicts A's level; unweighted, the mixture's.
        let mut rng = riskpipe_core::Rng::new(4);
        let n = 4000;
        let x: Vec<f64> = (0..n).map(|_| rng.uniform()).collect();
        let b: Vec<bool> = (0..n).map(|_| rng.bernoulli(0.5)).collect();
        let y: Vec<f64> = (0..n).map(|i| if b[i] { 0.8 } else { 0.15 + 0.1 * x[i] }).collect();
        let w: Vec<f64> = b.iter().map(|b| if *b { 0.0 } else { 1.0 }).collect();
        let names = vec!["x".to_string()];
        let cols = [x.as_slice()];
        let tree = TreeParams {
            criterion: crate::Criterion::SquaredError,
            min_samples_leaf: 20,
            ..TreeParams::default()
        };
        let families = [
            ModelParams::from(crate::RegressionTreeParams {
                min_samples_leaf: 20,
                ..crate::RegressionTreeParams::default()
            }),
            ModelParams::from(crate::ForestParams {
                n_trees: 10,
                tree,
                seed: 1,
            }),
            ModelParams::from(crate::BoostingParams {
                objective: crate::Objective::Regression,
                n_trees: 50,
                learning_rate: 0.1,
                validation_fraction: 0.0,
                ..crate::BoostingParams::default()
            }),
            ModelParams::from(crate::LinearParams::default()),
            ModelParams::from(crate::TwoStageParams {
                threshold: 0.17,
                ..crate::TwoStageParams::default()
            }),
        ];
        for p in families {
            let weighted = p.fit_weighted(&names, &cols, &y, Some(&w)).unwrap().predict(&cols);
            let plain = p.fit(&names, &cols, &y).unwrap().predict(&cols);
            let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
            assert!(
                (mean(&weighted) - 0.2).abs() < 0.03,
                "{:?}: {}",
                p.family(),
                mean(&weighted)
            );
            assert!((mean(&plain) - 0.5).abs() < 0.05, "{:?}: {}", p.family(), mean(&plain));
        }
        // Families without weights, and bad weights, are refused.
        let ada = ModelParams::from(crate::AdaBoostParams::default());
        assert!(!ada.takes_weights());
        assert!(ada.fit_weighted(&names, &cols, &y, Some(&w)).is_err());
        let linear = ModelParams::from(crate::LinearParams::default());
        assert!(linear.fit_weighted(&names, &cols, &y, Some(&[1.0])).is_err());
        assert!(linear.fit_weighted(&names, &cols, &y, Some(&vec![0.0; n])).is_err());
        assert!(linear.fit_weighted(&names, &cols, &y, Some(&vec![-1.0; n])).is_err());
    }

    #[test]
    fn families_round_trip_by_name_and_params_serialise_as_the_familys_own() {
        for (i, f) in Family::ALL.into_iter().enumerate() {
            assert_eq!(f as usize, i);
            assert_eq!(Family::from_name(f.name()), Some(f));
            assert_eq!(serde_json::to_value(f).unwrap(), serde_json::json!(f.name()));
        }
        let p = LogisticParams::default();
        let mp = ModelParams::Logistic(p.clone());
        assert_eq!(serde_json::to_value(&mp).unwrap(), serde_json::to_value(&p).unwrap());
        let back = ModelParams::from_json(Family::Logistic, &serde_json::to_value(&p).unwrap()).unwrap();
        assert_eq!(back, mp);
        assert!(ModelParams::from_json(Family::Tree, &serde_json::json!("not an object")).is_err());
    }

    #[test]
    fn settings_are_checked_before_a_fit_and_outputs_follow_the_objective() {
        let bad = ModelParams::from(TreeParams {
            max_bins: 1,
            ..TreeParams::default()
        });
        assert_eq!(bad.check().unwrap_err().field, "max_bins");
        let x = [0.0, 1.0, 2.0, 3.0];
        let y = [0.0, 0.0, 1.0, 1.0];
        let names = vec!["x".to_string()];
        assert!(bad.fit(&names, &[&x], &y).is_err());
        let zero = ModelParams::from(IsolationForestParams {
            n_trees: 0,
            ..IsolationForestParams::default()
        });
        assert_eq!(
            (zero.check().unwrap_err().field, zero.output()),
            ("n_trees", Output::AnomalyScore)
        );
        assert_eq!(zero.feature_set(), FeatureSet::Scaled);
        let rt = ModelParams::from(RegressionTreeParams::default());
        assert!(rt.check().is_ok());
        assert_eq!(rt.output(), Output::Amount);
        assert_eq!(ModelParams::from(TreeParams::default()).output(), Output::Probability);
        // Boosting on squared error predicts amounts, not squashed through a sigmoid.
        let xs: Vec<f64> = (0..200).map(f64::from).collect();
        let ys: Vec<f64> = xs.iter().map(|v| 100.0 + 2.0 * v).collect();
        let reg = ModelParams::from(BoostingParams {
            objective: Objective::Regression,
            n_trees: 200,
            learning_rate: 0.3,
            min_samples_leaf: 2,
            validation_fraction: 0.0,
            ..BoostingParams::default()
        });
        assert_eq!(reg.output(), Output::Amount);
        let m = reg.fit(&names, &[&xs], &ys).unwrap();
        assert_eq!(m.output(), Output::Amount);
        assert_eq!(m.contribution_scale(), "amount");
        let p = m.predict(&[&[50.0, 150.0]]);
        assert!((p[0] - 200.0).abs() < 5.0 && (p[1] - 400.0).abs() < 5.0, "{p:?}");
        let t = rt.fit(&names, &[&xs], &ys).unwrap();
        assert_eq!((t.family(), t.output()), (Some(Family::RegressionTree), Output::Amount));
        let back: Model = serde_json::from_str(&serde_json::to_string(&t).unwrap()).unwrap();
        assert_eq!(back, t);
    }
}
