//! The `train:` section: as written ([`TrainConfig`]) and checked ([`TrainParams`]).

use serde::{Deserialize, Serialize};

use riskpipe_core::{Error, Rng};
use riskpipe_models::{
    AdaBoostParams, BaggingParams, BaseParams, BoostingParams, ForestParams, LogisticParams, MlpParams, TreeParams,
};

/// Grid of the logistic regression, as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogisticGridConfig {
    /// L2 penalties to try (default `[0.0001, 0.001, 0.01, 0.1]`), or with `search: random` a
    /// range `{ min, max, log }` to draw from.
    pub l2: Option<FloatValues>,
    /// L1 penalties to try (default `[0]`); with `l2` > 0 too, the elastic net.
    pub l1: Option<Vec<f64>>,
    /// Newton iterations at most (default 100).
    pub max_iter: Option<usize>,
    /// `balanced` to weigh both classes equally, or `none` (default).
    pub class_weight: Option<ClassWeight>,
}

/// A numeric hyperparameter's candidates: a list, or (random search only) a range.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum FloatValues {
    /// These values.
    List(Vec<f64>),
    /// Uniform draws from `[min, max]`, log-uniform with `log: true`.
    Range {
        /// Lowest value.
        min: f64,
        /// Highest value.
        max: f64,
        /// Draw the logarithm uniformly (for penalties and rates spanning decades).
        #[serde(default)]
        log: bool,
    },
}

impl FloatValues {
    /// The candidates: the list, or `draws` seeded draws from the range (random search only).
    fn values(&self, key: &str, file: &str, random: Option<(usize, &mut Rng)>, errs: &mut Vec<Error>) -> Vec<f64> {
        match (self, random) {
            (FloatValues::List(v), _) => v.clone(),
            (FloatValues::Range { min, max, log }, Some((draws, rng))) => {
                if !(min.is_finite() && max.is_finite() && min <= max && (!log || *min > 0.0)) {
                    errs.push(Error::config(
                        file,
                        key,
                        "a range needs finite `min <= max` (and `min > 0` with `log: true`)",
                    ));
                    return vec![*min];
                }
                (0..draws)
                    .map(|_| {
                        let u = rng.uniform();
                        if *log {
                            (min.ln() + u * (max.ln() - min.ln())).exp()
                        } else {
                            min + u * (max - min)
                        }
                    })
                    .collect()
            }
            (FloatValues::Range { .. }, None) => {
                errs.push(Error::config(
                    file,
                    key,
                    "a range of values needs `train.search: random` (grid search tries lists)",
                ));
                Vec::new()
            }
        }
    }
}

/// A whole-number hyperparameter's candidates: a list, or (random search only) a range.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum IntValues {
    /// These values.
    List(Vec<usize>),
    /// Uniform draws from `min..=max`.
    Range {
        /// Lowest value.
        min: usize,
        /// Highest value.
        max: usize,
    },
}

impl IntValues {
    /// The candidates: the list, or `draws` draws from the range with the model's own seeded
    /// stream `stream` (random search only).
    fn values(
        &self,
        key: &str,
        file: &str,
        random: Option<(usize, u64)>,
        stream: &str,
        errs: &mut Vec<Error>,
    ) -> Vec<usize> {
        match (self, random) {
            (IntValues::List(v), _) => v.clone(),
            (IntValues::Range { min, max }, Some((draws, seed))) => {
                if min > max {
                    errs.push(Error::config(file, key, "a range needs `min <= max`"));
                    return vec![*min];
                }
                let mut rng = Rng::derive(seed, stream);
                (0..draws)
                    .map(|_| min + rng.below((max - min + 1) as u64) as usize)
                    .collect()
            }
            (IntValues::Range { .. }, None) => {
                errs.push(Error::config(
                    file,
                    key,
                    "a range of values needs `train.search: random` (grid search tries lists)",
                ));
                Vec::new()
            }
        }
    }
}

/// How candidate settings are searched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Search {
    /// Every combination of the listed values.
    Grid,
    /// `train.draws` seeded draws per model: ranges sampled, combinations of lists sampled
    /// without replacement.
    Random,
}

/// Class weighting of a model's loss.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClassWeight {
    /// Every row weighs 1.
    None,
    /// Both classes weigh the same in total.
    Balanced,
}

/// Grid of the decision tree, as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TreeGridConfig {
    /// Depths to try (default `[3, 5, 7]`), or with `search: random` a range `{min, max}`.
    pub max_depth: Option<IntValues>,
    /// Leaf sizes to try (default `[50, 200]`, scaled down for small data).
    pub min_samples_leaf: Option<Vec<usize>>,
    /// Histogram bins per feature (default 255).
    pub max_bins: Option<usize>,
    /// `balanced` to weigh both classes equally, or `none` (default).
    pub class_weight: Option<ClassWeight>,
    /// Cost-complexity pruning strengths to try (default `[0]`: none).
    pub ccp_alpha: Option<Vec<f64>>,
}

/// Grid of the random forest, as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForestGridConfig {
    /// Tree counts to try (default `[100]`).
    pub n_trees: Option<Vec<usize>>,
    /// Depths to try (default `[8]`), or with `search: random` a range `{min, max}`.
    pub max_depth: Option<IntValues>,
    /// Leaf sizes to try (default `[50]`, scaled down for small data).
    pub min_samples_leaf: Option<Vec<usize>>,
    /// Features drawn per split (default: square root of the features).
    pub max_features: Option<usize>,
    /// `balanced`: both classes weigh the same in the loss (default `none`).
    pub class_weight: Option<ClassWeight>,
}

/// Grid of gradient boosting, as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BoostingGridConfig {
    /// Rounds at most (default `[300]`; early stopping picks fewer).
    pub n_trees: Option<Vec<usize>>,
    /// Learning rates to try (default `[0.05]`), or with `search: random` a range to draw from.
    pub learning_rate: Option<FloatValues>,
    /// Leaves per tree to try (default `[31]`), or with `search: random` a range `{min, max}`.
    pub max_leaves: Option<IntValues>,
    /// Tree depths to try (default `[12]`), or with `search: random` a range `{min, max}`.
    pub max_depth: Option<IntValues>,
    /// `leafwise` (default: the leaf with the largest gain is split next) or `depthwise`
    /// (level by level).
    pub growth: Option<riskpipe_models::Growth>,
    /// Rows per leaf (default 20).
    pub min_samples_leaf: Option<usize>,
    /// L2 on leaf values (default 1).
    pub l2: Option<f64>,
    /// Row share per round (default 0.8).
    pub subsample: Option<f64>,
    /// Feature share per tree (default 0.8).
    pub colsample: Option<f64>,
    /// Rounds without improvement before stopping (default 30; 0 turns early stopping off).
    pub early_stopping_rounds: Option<usize>,
    /// Monotone constraints by feature: `1` the PD never falls as the feature rises, `-1` it
    /// never rises (default: none).
    pub monotone: Option<std::collections::BTreeMap<String, i8>>,
    /// `balanced`: both classes weigh the same in the loss (default `none`).
    pub class_weight: Option<ClassWeight>,
}

/// Grid of AdaBoost, as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdaBoostGridConfig {
    /// Rounds to try (default `[100]`).
    pub n_estimators: Option<Vec<usize>>,
    /// Tree depths to try (default `[1]`: stumps).
    pub max_depth: Option<Vec<usize>>,
    /// Learning rates to try (default `[1.0]`).
    pub learning_rate: Option<Vec<f64>>,
}

/// Grid of bagging, as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BaggingGridConfig {
    /// The base model: `tree` (default), `logistic` (on WoE features), `forest`, `boosting`,
    /// `adaboost` or `mlp`, with its default settings (the forest: 20 trees of depth 8).
    pub base: Option<String>,
    /// Member counts to try (default `[10]`).
    pub n_estimators: Option<Vec<usize>>,
    /// Bootstrap sizes, as shares of the rows, to try (default `[1.0]`).
    pub max_samples: Option<Vec<f64>>,
}

/// Grid of the multilayer perceptron, as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MlpGridConfig {
    /// Hidden layer sizes to try (default `[[32, 16]]`).
    pub hidden: Option<Vec<Vec<usize>>>,
    /// Adam step sizes to try (default `[0.001]`), or with `search: random` a range.
    pub learning_rate: Option<FloatValues>,
    /// Dropout shares to try (default `[0.1]`), or with `search: random` a range.
    pub dropout: Option<FloatValues>,
    /// Passes over the rows at most (default 100; early stopping, after 5 epochs without a
    /// better validation loss, picks fewer).
    pub max_epochs: Option<usize>,
    /// Rows per mini-batch (default 256).
    pub batch_size: Option<usize>,
    /// How much lower the validation log loss must be for an epoch to count as better
    /// (default 0.0001).
    pub tol: Option<f64>,
    /// `balanced`: both classes weigh the same in the loss (default `none`).
    pub class_weight: Option<ClassWeight>,
}

/// `train.models`, as written: the candidate models and their grids.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelsConfig {
    /// Logistic regression on WoE features.
    pub logistic: Option<LogisticGridConfig>,
    /// Decision tree on encoded raw features.
    pub tree: Option<TreeGridConfig>,
    /// Random forest on encoded raw features.
    pub forest: Option<ForestGridConfig>,
    /// Gradient-boosted trees on encoded raw features.
    pub boosting: Option<BoostingGridConfig>,
    /// AdaBoost on shallow trees, on encoded raw features.
    pub adaboost: Option<AdaBoostGridConfig>,
    /// Bagging of a base model.
    pub bagging: Option<BaggingGridConfig>,
    /// Multilayer perceptron on standardised encoded raw features.
    pub mlp: Option<MlpGridConfig>,
}

/// The `train:` section, as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainConfig {
    /// Folds of stratified cross-validation (default 5).
    pub cv_folds: Option<usize>,
    /// `best_cv` (default), or a model name to always select.
    pub select: Option<String>,
    /// Candidate models (default: both, with default grids).
    pub models: Option<ModelsConfig>,
    /// `grid` (default) or `random` search over the models' settings.
    pub search: Option<Search>,
    /// With `search: random`: settings drawn per model (default 10).
    pub draws: Option<usize>,
    /// Calibrate the selected model's PD on its out-of-fold predictions: `none` (default),
    /// `platt` or `isotonic`.
    pub calibration: Option<Calibration>,
}

/// How the selected model's probabilities are calibrated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Calibration {
    /// Used as they are.
    None,
    /// Platt scaling: a logistic regression on the log-odds.
    Platt,
    /// Isotonic regression.
    Isotonic,
}

/// Checked parameters of the train stage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainParams {
    /// CV folds.
    pub cv_folds: usize,
    /// `best_cv` or a model name.
    pub select: String,
    /// Logistic grid (empty: not fitted).
    pub logistic: Vec<LogisticParams>,
    /// Tree grid (empty: not fitted).
    pub tree: Vec<TreeParams>,
    /// Forest grid (empty: not fitted).
    #[serde(default)]
    pub forest: Vec<ForestParams>,
    /// Boosting grid (empty: not fitted).
    #[serde(default)]
    pub boosting: Vec<BoostingParams>,
    /// AdaBoost grid (empty: not fitted).
    #[serde(default)]
    pub adaboost: Vec<AdaBoostParams>,
    /// Bagging grid (empty: not fitted).
    #[serde(default)]
    pub bagging: Vec<BaggingParams>,
    /// MLP grid (empty: not fitted).
    #[serde(default)]
    pub mlp: Vec<MlpParams>,
    /// Calibration of the selected model.
    #[serde(default = "no_calibration")]
    pub calibration: Calibration,
    /// Seed of the folds.
    pub seed: u64,
}

fn no_calibration() -> Calibration {
    Calibration::None
}

impl TrainConfig {
    /// Checks the section and fills defaults.
    pub fn resolve(self, file: &str, seed: u64) -> Result<TrainParams, Vec<Error>> {
        let mut errs = Vec::new();
        let cv_folds = self.cv_folds.unwrap_or(5);
        if !(2..=20).contains(&cv_folds) {
            errs.push(Error::config(
                file,
                "train.cv_folds",
                format!("must be between 2 and 20, found {cv_folds}"),
            ));
        }
        let models = self.models.unwrap_or(ModelsConfig {
            logistic: Some(Default::default()),
            tree: Some(Default::default()),
            forest: None,
            boosting: None,
            adaboost: None,
            bagging: None,
            mlp: None,
        });
        let search = self.search.unwrap_or(Search::Grid);
        let draws = self.draws.unwrap_or(10);
        if !(1..=1000).contains(&draws) {
            errs.push(Error::config(file, "train.draws", "must be between 1 and 1000"));
        }
        if self.draws.is_some() && search == Search::Grid {
            errs.push(Error::config(
                file,
                "train.draws",
                "applies to `train.search: random` only",
            ));
        }
        let mut rng = Rng::derive(seed, "train.search");
        let random = |rng: &mut Rng| -> Option<(usize, Rng)> {
            (search == Search::Random).then(|| (draws, Rng::derive(rng.next_u64(), "draws")))
        };
        // Whole-number ranges, and the MLP's, draw from streams of their own.
        let int_random = (search == Search::Random).then_some((draws, seed));
        let int_values = |v: IntValues, key: &str, errs: &mut Vec<Error>| -> Vec<usize> {
            v.values(key, file, int_random, &format!("{key}.draws"), errs)
        };
        let mut logistic = Vec::new();
        if let Some(l) = models.logistic {
            let mut r = random(&mut rng);
            let grid =
                l.l2.unwrap_or_else(|| FloatValues::List(vec![1e-4, 1e-3, 1e-2, 1e-1]))
                    .values(
                        "train.models.logistic.l2",
                        file,
                        r.as_mut().map(|(d, g)| (*d, g)),
                        &mut errs,
                    );
            if grid.is_empty() || grid.iter().any(|v| v.is_nan() || *v < 0.0 || !v.is_finite()) {
                errs.push(Error::config(
                    file,
                    "train.models.logistic.l2",
                    "needs one or more penalties >= 0",
                ));
            }
            let l1s = l.l1.clone().unwrap_or_else(|| vec![0.0]);
            if l1s.is_empty() || l1s.iter().any(|v| v.is_nan() || *v < 0.0 || !v.is_finite()) {
                errs.push(Error::config(
                    file,
                    "train.models.logistic.l1",
                    "needs one or more penalties >= 0",
                ));
            }
            for l2 in grid {
                for &l1 in &l1s {
                    logistic.push(LogisticParams {
                        l2,
                        max_iter: l.max_iter.unwrap_or(100),
                        tol: 1e-8,
                        balanced: l.class_weight == Some(ClassWeight::Balanced),
                        l1,
                    });
                }
            }
        }
        let mut tree = Vec::new();
        if let Some(t) = models.tree {
            let depths = int_values(
                t.max_depth.unwrap_or_else(|| IntValues::List(vec![3, 5, 7])),
                "train.models.tree.max_depth",
                &mut errs,
            );
            let leaves = t.min_samples_leaf.unwrap_or_else(|| vec![50, 200]);
            let max_bins = t.max_bins.unwrap_or(255);
            if depths.is_empty() || depths.iter().any(|d| *d == 0 || *d > 30) {
                errs.push(Error::config(
                    file,
                    "train.models.tree.max_depth",
                    "needs one or more depths between 1 and 30",
                ));
            }
            if leaves.is_empty() || leaves.contains(&0) {
                errs.push(Error::config(
                    file,
                    "train.models.tree.min_samples_leaf",
                    "needs one or more sizes >= 1",
                ));
            }
            if !(2..=255).contains(&max_bins) {
                errs.push(Error::config(
                    file,
                    "train.models.tree.max_bins",
                    "must be between 2 and 255",
                ));
            }
            let alphas = t.ccp_alpha.clone().unwrap_or_else(|| vec![0.0]);
            if alphas.is_empty() || alphas.iter().any(|a| a.is_nan() || *a < 0.0 || !a.is_finite()) {
                errs.push(Error::config(
                    file,
                    "train.models.tree.ccp_alpha",
                    "needs one or more values >= 0",
                ));
            }
            for d in &depths {
                for l in &leaves {
                    for &ccp_alpha in &alphas {
                        tree.push(TreeParams {
                            max_depth: *d,
                            min_samples_leaf: *l,
                            min_gain: 1e-7,
                            max_bins,
                            max_features: None,
                            balanced: t.class_weight == Some(ClassWeight::Balanced),
                            ccp_alpha,
                        });
                    }
                }
            }
        }
        let mut forest = Vec::new();
        if let Some(f) = models.forest {
            let trees = f.n_trees.unwrap_or_else(|| vec![100]);
            let depths = int_values(
                f.max_depth.unwrap_or_else(|| IntValues::List(vec![8])),
                "train.models.forest.max_depth",
                &mut errs,
            );
            let leaves = f.min_samples_leaf.unwrap_or_else(|| vec![50]);
            if trees.is_empty() || trees.iter().any(|t| *t == 0 || *t > 2000) {
                errs.push(Error::config(
                    file,
                    "train.models.forest.n_trees",
                    "needs one or more counts between 1 and 2000",
                ));
            }
            if depths.is_empty() || depths.iter().any(|d| *d == 0 || *d > 30) {
                errs.push(Error::config(
                    file,
                    "train.models.forest.max_depth",
                    "needs one or more depths between 1 and 30",
                ));
            }
            if leaves.is_empty() || leaves.contains(&0) {
                errs.push(Error::config(
                    file,
                    "train.models.forest.min_samples_leaf",
                    "needs one or more sizes >= 1",
                ));
            }
            if f.max_features == Some(0) {
                errs.push(Error::config(
                    file,
                    "train.models.forest.max_features",
                    "must be at least 1",
                ));
            }
            for t in &trees {
                for d in &depths {
                    for l in &leaves {
                        forest.push(ForestParams {
                            n_trees: *t,
                            tree: TreeParams {
                                max_depth: *d,
                                min_samples_leaf: *l,
                                min_gain: 1e-7,
                                max_bins: 255,
                                max_features: f.max_features,
                                balanced: f.class_weight == Some(ClassWeight::Balanced),
                                ccp_alpha: 0.0,
                            },
                            seed,
                        });
                    }
                }
            }
        }
        let mut boosting = Vec::new();
        if let Some(b) = models.boosting {
            let d = BoostingParams::default();
            let rounds = b.n_trees.unwrap_or_else(|| vec![d.n_trees]);
            let mut r = random(&mut rng);
            let rates = b
                .learning_rate
                .unwrap_or_else(|| FloatValues::List(vec![d.learning_rate]))
                .values(
                    "train.models.boosting.learning_rate",
                    file,
                    r.as_mut().map(|(d, g)| (*d, g)),
                    &mut errs,
                );
            let leaves = int_values(
                b.max_leaves
                    .clone()
                    .unwrap_or_else(|| IntValues::List(vec![d.max_leaves])),
                "train.models.boosting.max_leaves",
                &mut errs,
            );
            let depths = int_values(
                b.max_depth
                    .clone()
                    .unwrap_or_else(|| IntValues::List(vec![d.max_depth])),
                "train.models.boosting.max_depth",
                &mut errs,
            );
            if depths.is_empty() || depths.iter().any(|x| *x == 0 || *x > 32) {
                errs.push(Error::config(
                    file,
                    "train.models.boosting.max_depth",
                    "needs one or more depths between 1 and 32",
                ));
            }
            if rounds.is_empty() || rounds.iter().any(|t| *t == 0 || *t > 10_000) {
                errs.push(Error::config(
                    file,
                    "train.models.boosting.n_trees",
                    "needs one or more counts between 1 and 10000",
                ));
            }
            if rates.is_empty() || rates.iter().any(|r| r.is_nan() || *r <= 0.0 || *r > 1.0) {
                errs.push(Error::config(
                    file,
                    "train.models.boosting.learning_rate",
                    "needs one or more rates in (0, 1]",
                ));
            }
            if leaves.is_empty() || leaves.iter().any(|l| *l < 2 || *l > 4096) {
                errs.push(Error::config(
                    file,
                    "train.models.boosting.max_leaves",
                    "needs one or more counts between 2 and 4096",
                ));
            }
            let share = |v: Option<f64>, def: f64, key: &str, errs: &mut Vec<Error>| {
                let x = v.unwrap_or(def);
                if x.is_nan() || x <= 0.0 || x > 1.0 {
                    errs.push(Error::config(
                        file,
                        format!("train.models.boosting.{key}"),
                        "must be in (0, 1]",
                    ));
                }
                x
            };
            let monotone = b.monotone.clone().unwrap_or_default();
            if let Some((f, v)) = monotone.iter().find(|(_, v)| ![-1, 0, 1].contains(*v)) {
                errs.push(Error::config(
                    file,
                    "train.models.boosting.monotone",
                    format!("`{f}: {v}`: use 1 (increasing), -1 (decreasing) or 0"),
                ));
            }
            let monotone: std::collections::BTreeMap<String, i8> =
                monotone.into_iter().filter(|(_, v)| *v != 0).collect();
            let subsample = share(b.subsample, d.subsample, "subsample", &mut errs);
            let colsample = share(b.colsample, d.colsample, "colsample", &mut errs);
            for t in &rounds {
                for r in &rates {
                    for (l, dp) in leaves.iter().flat_map(|l| depths.iter().map(move |dp| (l, dp))) {
                        boosting.push(BoostingParams {
                            n_trees: *t,
                            learning_rate: *r,
                            max_leaves: *l,
                            max_depth: *dp,
                            growth: b.growth.unwrap_or_default(),
                            balanced: b.class_weight == Some(ClassWeight::Balanced),
                            min_samples_leaf: b.min_samples_leaf.unwrap_or(d.min_samples_leaf).max(1),
                            l2: b.l2.unwrap_or(d.l2).max(0.0),
                            subsample,
                            colsample,
                            early_stopping_rounds: b.early_stopping_rounds.unwrap_or(d.early_stopping_rounds),
                            validation_fraction: if b.early_stopping_rounds == Some(0) {
                                0.0
                            } else {
                                d.validation_fraction
                            },
                            seed,
                            monotone: monotone.clone(),
                            ..d.clone()
                        });
                    }
                }
            }
        }
        let mut adaboost = Vec::new();
        if let Some(a) = &models.adaboost {
            let rounds = a.n_estimators.clone().unwrap_or_else(|| vec![100]);
            let depths = a.max_depth.clone().unwrap_or_else(|| vec![1]);
            let rates = a.learning_rate.clone().unwrap_or_else(|| vec![1.0]);
            if rounds.is_empty() || rounds.iter().any(|r| *r == 0 || *r > 5000) {
                errs.push(Error::config(
                    file,
                    "train.models.adaboost.n_estimators",
                    "needs one or more counts between 1 and 5000",
                ));
            }
            if depths.is_empty() || depths.iter().any(|d| *d == 0 || *d > 10) {
                errs.push(Error::config(
                    file,
                    "train.models.adaboost.max_depth",
                    "needs one or more depths between 1 and 10",
                ));
            }
            if rates.is_empty() || rates.iter().any(|r| r.is_nan() || *r <= 0.0 || *r > 10.0) {
                errs.push(Error::config(
                    file,
                    "train.models.adaboost.learning_rate",
                    "needs one or more rates in (0, 10]",
                ));
            }
            for n in &rounds {
                for d in &depths {
                    for r in &rates {
                        adaboost.push(AdaBoostParams {
                            n_estimators: *n,
                            max_depth: *d,
                            learning_rate: *r,
                            min_samples_leaf: 1,
                        });
                    }
                }
            }
        }
        let mut bagging = Vec::new();
        if let Some(b) = &models.bagging {
            let base = match b.base.as_deref().unwrap_or("tree") {
                "tree" => Some(BaseParams::Tree(TreeParams::default())),
                "logistic" => Some(BaseParams::Logistic(LogisticParams::default())),
                "boosting" => Some(BaseParams::Boosting(BoostingParams {
                    seed,
                    ..BoostingParams::default()
                })),
                "forest" => Some(BaseParams::Forest(ForestParams {
                    n_trees: 20,
                    tree: TreeParams {
                        max_depth: 8,
                        min_samples_leaf: 50,
                        ..TreeParams::default()
                    },
                    seed,
                })),
                "adaboost" => Some(BaseParams::AdaBoost(AdaBoostParams::default())),
                "mlp" => Some(BaseParams::Mlp(MlpParams {
                    seed,
                    ..MlpParams::default()
                })),
                other => {
                    errs.push(Error::config(
                        file,
                        "train.models.bagging.base",
                        format!(
                            "unknown base `{other}`, expected `tree`, `logistic`, `forest`, `boosting`, `adaboost` or `mlp`"
                        ),
                    ));
                    None
                }
            };
            let counts = b.n_estimators.clone().unwrap_or_else(|| vec![10]);
            let shares = b.max_samples.clone().unwrap_or_else(|| vec![1.0]);
            if counts.is_empty() || counts.iter().any(|c| *c == 0 || *c > 1000) {
                errs.push(Error::config(
                    file,
                    "train.models.bagging.n_estimators",
                    "needs one or more counts between 1 and 1000",
                ));
            }
            if shares.is_empty() || shares.iter().any(|s| s.is_nan() || *s <= 0.0 || *s > 1.0) {
                errs.push(Error::config(
                    file,
                    "train.models.bagging.max_samples",
                    "needs one or more shares in (0, 1]",
                ));
            }
            if let Some(base) = base {
                for c in &counts {
                    for m in &shares {
                        bagging.push(BaggingParams {
                            n_estimators: *c,
                            max_samples: *m,
                            base: base.clone(),
                            seed,
                        });
                    }
                }
            }
        }
        let mut mlp = Vec::new();
        if let Some(m) = &models.mlp {
            let d = MlpParams::default();
            let hidden = m.hidden.clone().unwrap_or_else(|| vec![d.hidden.clone()]);
            let mut r = (search == Search::Random).then(|| (draws, Rng::derive(seed, "train.search.mlp")));
            let rates = m
                .learning_rate
                .clone()
                .unwrap_or_else(|| FloatValues::List(vec![d.learning_rate]))
                .values(
                    "train.models.mlp.learning_rate",
                    file,
                    r.as_mut().map(|(d, g)| (*d, g)),
                    &mut errs,
                );
            let drops = m
                .dropout
                .clone()
                .unwrap_or_else(|| FloatValues::List(vec![d.dropout]))
                .values(
                    "train.models.mlp.dropout",
                    file,
                    r.as_mut().map(|(d, g)| (*d, g)),
                    &mut errs,
                );
            if hidden.is_empty()
                || hidden
                    .iter()
                    .any(|h| h.is_empty() || h.len() > 5 || h.iter().any(|u| *u == 0 || *u > 1024))
            {
                errs.push(Error::config(
                    file,
                    "train.models.mlp.hidden",
                    "needs one or more lists of 1 to 5 layer sizes between 1 and 1024",
                ));
            }
            if rates.is_empty() || rates.iter().any(|r| r.is_nan() || *r <= 0.0 || *r > 1.0) {
                errs.push(Error::config(
                    file,
                    "train.models.mlp.learning_rate",
                    "needs one or more rates in (0, 1]",
                ));
            }
            if drops.is_empty() || drops.iter().any(|r| r.is_nan() || *r < 0.0 || *r >= 0.9) {
                errs.push(Error::config(
                    file,
                    "train.models.mlp.dropout",
                    "needs one or more shares in [0, 0.9)",
                ));
            }
            let batch_size = m.batch_size.unwrap_or(d.batch_size);
            if batch_size == 0 {
                errs.push(Error::config(file, "train.models.mlp.batch_size", "must be at least 1"));
            }
            let tol = m.tol.unwrap_or(d.tol);
            if tol.is_nan() || !(0.0..1.0).contains(&tol) {
                errs.push(Error::config(file, "train.models.mlp.tol", "must be in [0, 1)"));
            }
            for h in &hidden {
                for r in &rates {
                    for dr in &drops {
                        mlp.push(MlpParams {
                            hidden: h.clone(),
                            learning_rate: *r,
                            dropout: *dr,
                            max_epochs: m.max_epochs.unwrap_or(d.max_epochs).max(1),
                            batch_size: batch_size.max(1),
                            tol,
                            balanced: m.class_weight == Some(ClassWeight::Balanced),
                            seed,
                            ..d.clone()
                        });
                    }
                }
            }
        }
        if search == Search::Random {
            // At most `draws` settings per model, drawn without replacement, kept in order.
            fn sample<T>(v: Vec<T>, draws: usize, rng: &mut Rng) -> Vec<T> {
                if v.len() <= draws {
                    return v;
                }
                let mut idx: Vec<usize> = (0..v.len()).collect();
                rng.shuffle(&mut idx);
                let mut keep: Vec<usize> = idx.into_iter().take(draws).collect();
                keep.sort_unstable();
                let mut v: Vec<Option<T>> = v.into_iter().map(Some).collect();
                keep.into_iter().filter_map(|i| v[i].take()).collect()
            }
            let mut r = Rng::derive(seed, "train.search.sample");
            logistic = sample(logistic, draws, &mut r);
            tree = sample(tree, draws, &mut r);
            forest = sample(forest, draws, &mut r);
            boosting = sample(boosting, draws, &mut r);
            adaboost = sample(adaboost, draws, &mut r);
            bagging = sample(bagging, draws, &mut r);
            mlp = sample(mlp, draws, &mut r);
        }
        if logistic.is_empty()
            && tree.is_empty()
            && forest.is_empty()
            && boosting.is_empty()
            && adaboost.is_empty()
            && bagging.is_empty()
            && mlp.is_empty()
        {
            errs.push(Error::config(
                file,
                "train.models",
                "name at least one model (`logistic`, `tree`, `forest`, `boosting`, `adaboost`, `bagging`, `mlp`)",
            ));
        }
        let select = self.select.unwrap_or_else(|| "best_cv".to_string());
        let known: Vec<&str> = std::iter::once("best_cv").chain(crate::MODELS).collect();
        if !known.contains(&select.as_str()) {
            errs.push(Error::config(
                file,
                "train.select",
                format!("unknown `{select}`, expected one of `best_cv`, `logistic`, `tree`, `forest`, `boosting`, `adaboost`, `bagging`, `mlp`"),
            ));
        } else if (select == "logistic" && logistic.is_empty())
            || (select == "tree" && tree.is_empty())
            || (select == "forest" && forest.is_empty())
            || (select == "boosting" && boosting.is_empty())
            || (select == "adaboost" && adaboost.is_empty())
            || (select == "bagging" && bagging.is_empty())
            || (select == "mlp" && mlp.is_empty())
        {
            errs.push(Error::config(
                file,
                "train.select",
                format!("`{select}` is not among `train.models`"),
            ));
        }
        if !errs.is_empty() {
            return Err(errs);
        }
        Ok(TrainParams {
            cv_folds,
            select,
            logistic,
            tree,
            forest,
            boosting,
            adaboost,
            bagging,
            mlp,
            calibration: self.calibration.unwrap_or(Calibration::None),
            seed,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn class_weight_reaches_the_model_parameters() {
        let yaml = "models:\n  logistic: { l2: [0.01], class_weight: balanced }\n  tree: { max_depth: [3], min_samples_leaf: [10] }\n";
        let cfg: TrainConfig = riskpipe_core::yaml::parse("p.yaml", yaml).unwrap();
        let p = cfg.resolve("p.yaml", 1).unwrap();
        assert!(p.logistic[0].balanced);
        assert!(!p.tree[0].balanced);
        let yaml = "models:\n  forest: { class_weight: balanced }\n  boosting: { class_weight: balanced }\n  mlp: { class_weight: balanced }\n";
        let cfg: TrainConfig = riskpipe_core::yaml::parse("p.yaml", yaml).unwrap();
        let p = cfg.resolve("p.yaml", 1).unwrap();
        assert!(p.forest[0].tree.balanced && p.boosting[0].balanced && p.mlp[0].balanced);
        let cfg: TrainConfig = riskpipe_core::yaml::parse("p.yaml", "models:\n  boosting: {}\n").unwrap();
        assert!(!cfg.resolve("p.yaml", 1).unwrap().boosting[0].balanced);
        let bad = "models:\n  logistic: { class_weight: heavy }\n";
        let err = riskpipe_core::yaml::parse::<TrainConfig>("p.yaml", bad)
            .unwrap_err()
            .to_string();
        assert!(err.contains("p.yaml:2:") && err.contains("heavy"), "{err}");
    }

    #[test]
    fn mlp_tol_reaches_the_model_and_is_checked() {
        let yaml = "models:\n  mlp: { hidden: [[8]], tol: 0.001 }\n";
        let cfg: TrainConfig = riskpipe_core::yaml::parse("p.yaml", yaml).unwrap();
        assert_eq!(cfg.resolve("p.yaml", 1).unwrap().mlp[0].tol, 0.001);
        let cfg: TrainConfig = riskpipe_core::yaml::parse("p.yaml", "models:\n  mlp: { hidden: [[8]] }\n").unwrap();
        assert_eq!(cfg.resolve("p.yaml", 1).unwrap().mlp[0].tol, 1e-4);
        let bad: TrainConfig = riskpipe_core::yaml::parse("p.yaml", "models:\n  mlp: { tol: -1 }\n").unwrap();
        let errs = bad.resolve("p.yaml", 1).unwrap_err();
        assert!(
            errs.iter().any(|e| e.to_string().contains("train.models.mlp.tol")),
            "{errs:?}"
        );
    }

    #[test]
    fn boosting_growth_and_depth_reach_the_model() {
        let yaml = "models:\n  boosting: { growth: depthwise, max_depth: [4, 6], max_leaves: [64] }\n";
        let cfg: TrainConfig = riskpipe_core::yaml::parse("p.yaml", yaml).unwrap();
        let b = cfg.resolve("p.yaml", 1).unwrap().boosting;
        assert_eq!(b.len(), 2);
        assert!(
            b.iter()
                .all(|p| p.growth == riskpipe_models::Growth::Depthwise && p.max_leaves == 64)
        );
        assert_eq!((b[0].max_depth, b[1].max_depth), (4, 6));
        let bad = "models:\n  boosting: { growth: sideways }\n";
        let err = riskpipe_core::yaml::parse::<TrainConfig>("p.yaml", bad)
            .unwrap_err()
            .to_string();
        assert!(err.contains("p.yaml:2:") && err.contains("sideways"), "{err}");
        let cfg: TrainConfig =
            riskpipe_core::yaml::parse("p.yaml", "models:\n  boosting: { max_depth: [0] }\n").unwrap();
        let errs = cfg.resolve("p.yaml", 1).unwrap_err();
        assert!(
            errs.iter()
                .any(|e| e.to_string().contains("train.models.boosting.max_depth"))
        );
    }

    #[test]
    fn whole_number_and_mlp_ranges_are_drawn_under_random_search() {
        let yaml = "search: random\ndraws: 4\nmodels:\n  tree: { max_depth: { min: 2, max: 9 } }\n  forest: { max_depth: { min: 3, max: 5 } }\n  boosting: { max_leaves: { min: 8, max: 64 }, max_depth: [6] }\n  mlp: { learning_rate: { min: 0.0001, max: 0.01, log: true }, dropout: { min: 0.0, max: 0.5 } }\n";
        let resolve = || {
            let cfg: TrainConfig = riskpipe_core::yaml::parse("p.yaml", yaml).unwrap();
            cfg.resolve("p.yaml", 7).unwrap()
        };
        let p = resolve();
        assert!(!p.tree.is_empty() && p.tree.len() <= 4);
        assert!(p.tree.iter().all(|t| (2..=9).contains(&t.max_depth)));
        assert!(p.forest.iter().all(|f| (3..=5).contains(&f.tree.max_depth)));
        assert!(
            p.boosting
                .iter()
                .all(|b| (8..=64).contains(&b.max_leaves) && b.max_depth == 6)
        );
        assert!(
            p.mlp
                .iter()
                .all(|m| (1e-4..=1e-2).contains(&m.learning_rate) && (0.0..=0.5).contains(&m.dropout))
        );
        // The draws differ from one another and repeat for the same seed.
        let leaves: Vec<usize> = p.boosting.iter().map(|b| b.max_leaves).collect();
        assert!(leaves.windows(2).any(|w| w[0] != w[1]), "{leaves:?}");
        assert_eq!(
            leaves,
            resolve().boosting.iter().map(|b| b.max_leaves).collect::<Vec<_>>()
        );
        // A range under grid search is an error naming the key.
        let cfg: TrainConfig =
            riskpipe_core::yaml::parse("p.yaml", "models:\n  tree: { max_depth: { min: 2, max: 4 } }\n").unwrap();
        let errs = cfg.resolve("p.yaml", 1).unwrap_err();
        assert!(
            errs.iter()
                .any(|e| e.to_string().contains("train.models.tree.max_depth")),
            "{errs:?}"
        );
    }
}
