//! The `train:` section: as written ([`TrainConfig`]) and checked ([`TrainParams`]). Each model
//! family's entry of `train.models` is read and expanded into its grid by a file of its own
//! (`logistic.rs`, `tree.rs`, ...; [`GridConfig`]); this file holds the section's own keys, the
//! table from family to file ([`entry`]) and the random search.

mod adaboost;
mod bagging;
mod boosting;
mod detectors;
mod forest;
mod linear;
mod logistic;
mod mlp;
mod regression_tree;
mod tree;
mod two_stage;
mod values;

use std::collections::BTreeMap;

use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use riskpipe_core::{Error, Rng, Target};
use riskpipe_metrics::Metric;
use riskpipe_models::{Family, ModelParams, Output};
use riskpipe_scorecard::ScorecardParams;

pub use adaboost::AdaBoostGridConfig;
pub use bagging::BaggingGridConfig;
pub use boosting::BoostingGridConfig;
pub use detectors::{
    EcodConfig, GmmConfig, HbosConfig, IsolationForestConfig, KMeansConfig, KnnConfig, LofConfig, PcaConfig,
};
pub use forest::ForestGridConfig;
pub use linear::LinearGridConfig;
pub use logistic::LogisticGridConfig;
pub use mlp::MlpGridConfig;
pub use regression_tree::RegressionTreeGridConfig;
pub use tree::TreeGridConfig;
pub use two_stage::TwoStageGridConfig;
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

/// How a tree searches its split thresholds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Splitter {
    /// At the edges of each feature's bins (at most `max_bins` per feature): fast.
    Histogram,
    /// At every midpoint between two distinct values of the node's rows, as CART.
    Exact,
}

/// A family's entry of `train.models`, as written: its lists and ranges of settings.
pub(crate) trait GridConfig: std::fmt::Debug {
    /// Every setting the entry names (under random search, drawn), as grid points; problems
    /// are recorded in `ctx` under `train.models.<family>.<key>`.
    fn expand(self: Box<Self>, ctx: &mut Ctx<'_>) -> Vec<ModelParams>;
}

/// The file that reads family `f`'s entry: the one table a new family joins.
fn entry<'de, A: MapAccess<'de>>(f: Family, map: &mut A) -> Result<Box<dyn GridConfig>, A::Error> {
    fn read<'de, A: MapAccess<'de>, C: GridConfig + Default + Deserialize<'de> + 'static>(
        map: &mut A,
    ) -> Result<Box<dyn GridConfig>, A::Error> {
        // `logistic:` with nothing under it: the family with its default grid.
        Ok(Box::new(map.next_value::<Option<C>>()?.unwrap_or_default()))
    }
    match f {
        Family::Logistic => read::<A, LogisticGridConfig>(map),
        Family::Tree => read::<A, TreeGridConfig>(map),
        Family::Forest => read::<A, ForestGridConfig>(map),
        Family::Boosting => read::<A, BoostingGridConfig>(map),
        Family::AdaBoost => read::<A, AdaBoostGridConfig>(map),
        Family::Bagging => read::<A, BaggingGridConfig>(map),
        Family::Mlp => read::<A, MlpGridConfig>(map),
        Family::RegressionTree => read::<A, RegressionTreeGridConfig>(map),
        Family::IsolationForest => read::<A, IsolationForestConfig>(map),
        Family::Ecod => read::<A, EcodConfig>(map),
        Family::Hbos => read::<A, HbosConfig>(map),
        Family::KMeans => read::<A, KMeansConfig>(map),
        Family::Gmm => read::<A, GmmConfig>(map),
        Family::Knn => read::<A, KnnConfig>(map),
        Family::Lof => read::<A, LofConfig>(map),
        Family::Pca => read::<A, PcaConfig>(map),
        Family::Linear => read::<A, LinearGridConfig>(map),
        Family::TwoStage => read::<A, TwoStageGridConfig>(map),
    }
}

/// `train.models`, as written: the candidate families, each with its grid, in family order.
#[derive(Debug, Default)]
pub struct ModelsConfig(Vec<(Family, Box<dyn GridConfig>)>);

impl<'de> Deserialize<'de> for ModelsConfig {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Families;
        impl<'de> Visitor<'de> for Families {
            type Value = ModelsConfig;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a mapping from model family to its settings")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ModelsConfig, A::Error> {
                let mut out: Vec<(Family, Box<dyn GridConfig>)> = Vec::new();
                while let Some(name) = map.next_key::<String>()? {
                    let family =
                        Family::from_name(&name).ok_or_else(|| de::Error::unknown_field(&name, &Family::NAMES))?;
                    if out.iter().any(|(f, _)| *f == family) {
                        return Err(de::Error::duplicate_field(family.name()));
                    }
                    out.push((family, entry(family, &mut map)?));
                }
                out.sort_by_key(|e| e.0);
                Ok(ModelsConfig(out))
            }
        }
        d.deserialize_map(Families)
    }
}

/// The checked grids: each fitted family's settings to search, in family order. Serialised as
/// `<family>: [params, ...]` beside the section's other keys, fitted families only.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Grids(BTreeMap<Family, Vec<ModelParams>>);

impl Grids {
    /// Family `f`'s grid (empty: not fitted).
    pub fn grid(&self, f: Family) -> &[ModelParams] {
        self.0.get(&f).map_or(&[], Vec::as_slice)
    }

    /// Family `f`'s grid alone (nothing when `f` is not fitted).
    pub fn only(&self, f: Family) -> Grids {
        Grids(self.0.get(&f).map(|g| (f, g.clone())).into_iter().collect())
    }

    /// The fitted families and their grids, in family order.
    pub fn iter(&self) -> impl Iterator<Item = (Family, &[ModelParams])> {
        self.0
            .iter()
            .filter(|(_, g)| !g.is_empty())
            .map(|(f, g)| (*f, g.as_slice()))
    }
}

impl Serialize for Grids {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.iter().map(|(f, g)| (f.name(), g)))
    }
}

impl<'de> Deserialize<'de> for Grids {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = BTreeMap::<String, Vec<serde_json::Value>>::deserialize(d)?;
        let mut out = BTreeMap::new();
        for (name, points) in raw {
            let family = Family::from_name(&name).ok_or_else(|| de::Error::unknown_field(&name, &Family::NAMES))?;
            let grid = points
                .iter()
                .map(|v| ModelParams::from_json(family, v))
                .collect::<riskpipe_core::Result<Vec<_>>>()
                .map_err(de::Error::custom)?;
            if !grid.is_empty() {
                out.insert(family, grid);
            }
        }
        Ok(Grids(out))
    }
}

/// The `train:` section, as written.
#[derive(Debug, Default, Deserialize)]
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
    /// A numeric column whose values weigh the rows in every fit (an LGD weighted by exposure:
    /// `ead`); it need not be a feature.
    pub weight: Option<String>,
    /// A 0/1 column the cross-validation folds are stratified on (a continuous target's folds
    /// are plain otherwise; a 0/1 target's are stratified on it already).
    pub stratify: Option<String>,
    /// What the search and `select: best_cv` maximise on a 0/1 target: `auc` (default),
    /// `average_precision` (the fraud team's measure: the frauds are few and only the top of the
    /// ranking is reviewed) or `card_precision` (events split by periods: the mean over
    /// validation days of card precision@100). A continuous target is always judged by RMSE.
    pub metric: Option<Metric>,
    /// Refit the selected model with this many other seeds (same settings, same rows) for
    /// evaluate's seed-stability table (default 0: none).
    pub seed_stability: Option<usize>,
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
    /// Each fitted family's grid.
    #[serde(flatten)]
    pub models: Grids,
    /// Calibration of the selected model.
    #[serde(default = "no_calibration")]
    pub calibration: Calibration,
    /// Scaling of the scorecard built from the logistic model (the `scorecard:` section).
    #[serde(default)]
    pub scorecard: ScorecardParams,
    /// Seed of the folds.
    pub seed: u64,
    /// The row-weight column, when the fits are weighted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<String>,
    /// The 0/1 column the folds are stratified on, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stratify: Option<String>,
    /// The metric the search maximises, when not the target's own ([`Metric::for_target`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric: Option<Metric>,
    /// Refits of the selected model with other seeds.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub seed_stability: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

fn no_calibration() -> Calibration {
    Calibration::None
}

fn binary() -> Target {
    Target::Binary
}

impl TrainParams {
    /// These parameters with the pipeline's scorecard scaling.
    pub fn with_scorecard(self, scorecard: ScorecardParams) -> TrainParams {
        TrainParams { scorecard, ..self }
    }

    /// The metric the search and the selection optimise.
    pub fn metric(&self) -> Metric {
        self.metric.unwrap_or(Metric::for_target(self.target))
    }

    /// Whether family `f` has at least one grid point.
    pub fn fits(&self, f: Family) -> bool {
        !self.models.grid(f).is_empty()
    }
}

/// What a family's expansion needs: the file for errors, the seed, whether (and how many)
/// settings are drawn, and where problems are collected.
pub(crate) struct Ctx<'a> {
    pub file: &'a str,
    pub seed: u64,
    /// The task's kind of target (a family with several objectives follows it).
    pub target: Target,
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

    /// The settings, if the family's own check passes; else records the problem under
    /// `train.models.<family>.<field>`.
    pub fn checked(&mut self, p: ModelParams) -> Option<ModelParams> {
        match p.check() {
            Ok(()) => Some(p),
            Err(e) => {
                let key = format!("train.models.{}.{}", p.family(), e.field);
                if !self
                    .errs
                    .iter()
                    .any(|x| matches!(x, Error::Config { key: k, .. } if *k == key))
                {
                    self.errs.push(Error::config(self.file, &key, &e.message));
                }
                None
            }
        }
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

/// What a model for a target of kind `target` must predict.
fn output_for(target: Target) -> Output {
    match target {
        Target::Binary => Output::Probability,
        Target::Continuous => Output::Amount,
        Target::None => Output::AnomalyScore,
    }
}

/// The families fitted when `train.models` is not given.
fn default_families(target: Target) -> ModelsConfig {
    ModelsConfig(match target {
        Target::Binary => vec![
            (Family::Logistic, Box::<LogisticGridConfig>::default()),
            (Family::Tree, Box::<TreeGridConfig>::default()),
        ],
        Target::Continuous => vec![
            (Family::RegressionTree, Box::<RegressionTreeGridConfig>::default()),
            (Family::Boosting, Box::<BoostingGridConfig>::default()),
        ],
        Target::None => vec![
            (Family::IsolationForest, Box::<IsolationForestConfig>::default()),
            (Family::Hbos, Box::<HbosConfig>::default()),
            (Family::Gmm, Box::<GmmConfig>::default()),
        ],
    })
}

impl TrainConfig {
    /// Checks the section for a task whose target is of kind `target`, and fills defaults.
    pub fn resolve(self, file: &str, seed: u64, target: Target) -> Result<TrainParams, Vec<Error>> {
        let search = self.search.unwrap_or(Search::Grid);
        let draws = self.draws.unwrap_or(10);
        let mut ctx = Ctx {
            file,
            seed,
            target,
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
        let families = self.models.unwrap_or_else(|| default_families(target));
        let listed = !families.0.is_empty();
        let mut grids = BTreeMap::new();
        for (family, config) in families.0 {
            let grid: Vec<ModelParams> = config.expand(&mut ctx);
            let grid: Vec<ModelParams> = grid.into_iter().filter_map(|p| ctx.checked(p)).collect();
            // A family whose predictions do not answer the task's target is refused by name.
            if let Some(p) = grid.iter().find(|p| p.output() != output_for(target)) {
                ctx.check(
                    false,
                    &format!("train.models.{family}"),
                    &format!(
                        "predicts {}, but this task's target is {}: its models predict {}",
                        p.output().describe(),
                        target.describe(),
                        output_for(target).describe()
                    ),
                );
            }
            if self.weight.is_some() && grid.iter().any(|p| !p.takes_weights()) {
                ctx.check(
                    false,
                    &format!("train.models.{family}"),
                    "does not fit with row weights (`train.weight`); the families that do: logistic, tree, forest, boosting, regression_tree, linear, two_stage",
                );
            }
            grids.insert(family, sample(grid, ctx.draws, seed, family));
        }
        ctx.check(
            self.stratify.is_none() || target == Target::Continuous,
            "train.stratify",
            "applies to a continuous target (loss prediction); a 0/1 target's folds are stratified on it, and a task without a target has none",
        );
        ctx.check(
            match self.metric {
                None => true,
                Some(m) => {
                    target == Target::Binary
                        && matches!(m, Metric::Auc | Metric::AveragePrecision | Metric::CardPrecision)
                }
            },
            "train.metric",
            &format!(
                "`auc`, `average_precision` and `card_precision` apply to a 0/1 target; this task's target is {}",
                target.describe()
            ),
        );
        ctx.check(
            self.seed_stability.is_none_or(|n| (2..=50).contains(&n)),
            "train.seed_stability",
            "refits of the selected model with other seeds: 2 to 50",
        );
        ctx.check(
            self.seed_stability.is_none() || target == Target::Binary,
            "train.seed_stability",
            "applies to tasks with a 0/1 target",
        );
        ctx.check(
            self.weight.is_none() || target != Target::None,
            "train.weight",
            "applies to tasks with a target; detectors are fitted unweighted",
        );
        let p = TrainParams {
            target,
            cv_folds,
            select: String::new(),
            models: Grids(grids),
            calibration: self.calibration.unwrap_or(Calibration::None),
            scorecard: ScorecardParams::default(),
            seed,
            weight: self.weight,
            stratify: self.stratify,
            metric: self.metric,
            seed_stability: self.seed_stability.unwrap_or(0),
        };
        let names = || Family::ALL.map(|f| format!("`{}`", f.name())).join(", ");
        // A listed family left with no setting has had its problems reported already.
        ctx.check(
            listed || Family::ALL.iter().any(|f| p.fits(*f)),
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

#[cfg(test)]
mod tests;
