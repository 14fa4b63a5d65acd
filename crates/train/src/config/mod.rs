//! The `train:` section: as written ([`TrainConfig`]) and checked ([`TrainParams`]). Each model
//! family's entry of `train.models` is expanded into its grid by a file of its own
//! (`logistic.rs`, `tree.rs`, ...); this file holds the section's own keys and the random search.

mod adaboost;
mod bagging;
mod boosting;
mod forest;
mod logistic;
mod mlp;
mod tree;
mod values;

use serde::{Deserialize, Serialize};

use riskpipe_core::{Error, Rng, Target};
use riskpipe_models::{
    AdaBoostParams, BaggingParams, BoostingParams, Family, ForestParams, LogisticParams, MlpParams, TreeParams,
};
use riskpipe_scorecard::ScorecardParams;

pub use adaboost::AdaBoostGridConfig;
pub use bagging::BaggingGridConfig;
pub use boosting::BoostingGridConfig;
pub use forest::ForestGridConfig;
pub use logistic::LogisticGridConfig;
pub use mlp::MlpGridConfig;
pub use tree::TreeGridConfig;
pub use values::{FloatRange, FloatValues, IntRange, IntValues};

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
    /// The kind of target the task learns from (it chooses the fold maker).
    #[serde(default = "binary")]
    pub target: Target,
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
    /// Scaling of the scorecard built from the logistic model (the `scorecard:` section).
    #[serde(default)]
    pub scorecard: ScorecardParams,
    /// Seed of the folds.
    pub seed: u64,
}

fn no_calibration() -> Calibration {
    Calibration::None
}

fn binary() -> Target {
    Target::Binary
}

impl TrainParams {
    /// These parameters for a task whose target is of kind `target`.
    pub fn for_target(self, target: Target) -> TrainParams {
        TrainParams { target, ..self }
    }

    /// These parameters with the pipeline's scorecard scaling.
    pub fn with_scorecard(self, scorecard: ScorecardParams) -> TrainParams {
        TrainParams { scorecard, ..self }
    }

    /// Whether family `f` has at least one grid point.
    pub fn fits(&self, f: Family) -> bool {
        match f {
            Family::Logistic => !self.logistic.is_empty(),
            Family::Tree => !self.tree.is_empty(),
            Family::Forest => !self.forest.is_empty(),
            Family::Boosting => !self.boosting.is_empty(),
            Family::AdaBoost => !self.adaboost.is_empty(),
            Family::Bagging => !self.bagging.is_empty(),
            Family::Mlp => !self.mlp.is_empty(),
        }
    }
}

/// What a family's expansion needs: the file for errors, the seed, whether (and how many)
/// settings are drawn, and where problems are collected.
pub(crate) struct Ctx<'a> {
    pub file: &'a str,
    pub seed: u64,
    /// `Some(draws)` under random search.
    pub draws: Option<usize>,
    pub errs: Vec<Error>,
}

impl Ctx<'_> {
    /// The candidates of a real-valued key (`train.models.<family>.<key>`).
    pub fn floats(&mut self, v: &FloatValues, key: &str) -> Vec<f64> {
        let random = self.draws.map(|d| (d, self.seed));
        v.values(key, self.file, random, &mut self.errs)
    }

    /// The candidates of a whole-number key.
    pub fn ints(&mut self, v: &IntValues, key: &str) -> Vec<usize> {
        let random = self.draws.map(|d| (d, self.seed));
        v.values(key, self.file, random, &mut self.errs)
    }

    /// Records a problem of `key` unless `ok`.
    pub fn check(&mut self, ok: bool, key: &str, message: &str) {
        if !ok {
            self.errs.push(Error::config(self.file, key, message));
        }
    }
}

/// Whether a family's `class_weight` asks for balanced classes.
pub(crate) fn balanced(w: Option<ClassWeight>) -> bool {
    w == Some(ClassWeight::Balanced)
}

/// Every value is finite and `ok`, and there is at least one.
pub(crate) fn all(v: &[f64], ok: impl Fn(f64) -> bool) -> bool {
    !v.is_empty() && v.iter().all(|x| x.is_finite() && ok(*x))
}

/// Under random search, at most `draws` of a family's settings, drawn without replacement on
/// the family's own stream and kept in order.
fn sample<T>(v: Vec<T>, draws: Option<usize>, seed: u64, family: Family) -> Vec<T> {
    let Some(draws) = draws.filter(|d| v.len() > *d) else {
        return v;
    };
    let mut rng = Rng::derive(seed, &format!("train.models.{}.sample", family.name()));
    let mut idx: Vec<usize> = (0..v.len()).collect();
    rng.shuffle(&mut idx);
    let mut keep: Vec<usize> = idx.into_iter().take(draws).collect();
    keep.sort_unstable();
    let mut v: Vec<Option<T>> = v.into_iter().map(Some).collect();
    keep.into_iter().filter_map(|i| v[i].take()).collect()
}

impl TrainConfig {
    /// Checks the section and fills defaults.
    pub fn resolve(self, file: &str, seed: u64) -> Result<TrainParams, Vec<Error>> {
        let search = self.search.unwrap_or(Search::Grid);
        let draws = self.draws.unwrap_or(10);
        let mut ctx = Ctx {
            file,
            seed,
            draws: (search == Search::Random).then_some(draws),
            errs: Vec::new(),
        };
        let cv_folds = self.cv_folds.unwrap_or(5);
        ctx.check(
            (2..=20).contains(&cv_folds),
            "train.cv_folds",
            &format!("must be between 2 and 20, found {cv_folds}"),
        );
        ctx.check((1..=1000).contains(&draws), "train.draws", "must be between 1 and 1000");
        ctx.check(
            self.draws.is_none() || search == Search::Random,
            "train.draws",
            "applies to `train.search: random` only",
        );
        let models = self.models.unwrap_or(ModelsConfig {
            logistic: Some(Default::default()),
            tree: Some(Default::default()),
            ..ModelsConfig::default()
        });
        let d = ctx.draws;
        let p = TrainParams {
            target: Target::Binary,
            cv_folds,
            select: String::new(),
            logistic: sample(
                expand(models.logistic, &mut ctx, logistic::expand),
                d,
                seed,
                Family::Logistic,
            ),
            tree: sample(expand(models.tree, &mut ctx, tree::expand), d, seed, Family::Tree),
            forest: sample(expand(models.forest, &mut ctx, forest::expand), d, seed, Family::Forest),
            boosting: sample(
                expand(models.boosting, &mut ctx, boosting::expand),
                d,
                seed,
                Family::Boosting,
            ),
            adaboost: sample(
                expand(models.adaboost, &mut ctx, adaboost::expand),
                d,
                seed,
                Family::AdaBoost,
            ),
            bagging: sample(
                expand(models.bagging, &mut ctx, bagging::expand),
                d,
                seed,
                Family::Bagging,
            ),
            mlp: sample(expand(models.mlp, &mut ctx, mlp::expand), d, seed, Family::Mlp),
            calibration: self.calibration.unwrap_or(Calibration::None),
            scorecard: ScorecardParams::default(),
            seed,
        };
        let names = || Family::ALL.map(|f| format!("`{}`", f.name())).join(", ");
        ctx.check(
            Family::ALL.iter().any(|f| p.fits(*f)),
            "train.models",
            &format!("name at least one model ({})", names()),
        );
        let select = self.select.unwrap_or_else(|| "best_cv".to_string());
        match Family::from_name(&select) {
            _ if select == "best_cv" => {}
            None => ctx.check(
                false,
                "train.select",
                &format!("unknown `{select}`, expected one of `best_cv`, {}", names()),
            ),
            Some(f) => ctx.check(
                p.fits(f),
                "train.select",
                &format!("`{select}` is not among `train.models`"),
            ),
        }
        if !ctx.errs.is_empty() {
            return Err(ctx.errs);
        }
        Ok(TrainParams { select, ..p })
    }
}

/// A family's grid when `train.models` lists it, else none.
fn expand<C, P>(c: Option<C>, ctx: &mut Ctx<'_>, f: fn(C, &mut Ctx<'_>) -> Vec<P>) -> Vec<P> {
    c.map(|c| f(c, ctx)).unwrap_or_default()
}

#[cfg(test)]
mod tests;
