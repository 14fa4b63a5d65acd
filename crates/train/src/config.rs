//! The `train:` section: as written ([`TrainConfig`]) and checked ([`TrainParams`]).

use serde::{Deserialize, Serialize};

use riskpipe_core::Error;
use riskpipe_models::{LogisticParams, TreeParams};

/// Grid of the logistic regression, as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogisticGridConfig {
    /// L2 penalties to try (default `[0.0001, 0.001, 0.01, 0.1]`).
    pub l2: Option<Vec<f64>>,
    /// Newton iterations at most (default 100).
    pub max_iter: Option<usize>,
}

/// Grid of the decision tree, as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TreeGridConfig {
    /// Depths to try (default `[3, 5, 7]`).
    pub max_depth: Option<Vec<usize>>,
    /// Leaf sizes to try (default `[50, 200]`, scaled down for small data).
    pub min_samples_leaf: Option<Vec<usize>>,
    /// Histogram bins per feature (default 255).
    pub max_bins: Option<usize>,
}

/// `train.models`, as written: the candidate models and their grids.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelsConfig {
    /// Logistic regression on WoE features.
    pub logistic: Option<LogisticGridConfig>,
    /// Decision tree on encoded raw features.
    pub tree: Option<TreeGridConfig>,
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
    /// Seed of the folds.
    pub seed: u64,
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
        });
        let mut logistic = Vec::new();
        if let Some(l) = models.logistic {
            let grid = l.l2.unwrap_or_else(|| vec![1e-4, 1e-3, 1e-2, 1e-1]);
            if grid.is_empty() || grid.iter().any(|v| v.is_nan() || *v < 0.0 || !v.is_finite()) {
                errs.push(Error::config(
                    file,
                    "train.models.logistic.l2",
                    "needs one or more penalties >= 0",
                ));
            }
            for l2 in grid {
                logistic.push(LogisticParams {
                    l2,
                    max_iter: l.max_iter.unwrap_or(100),
                    tol: 1e-8,
                });
            }
        }
        let mut tree = Vec::new();
        if let Some(t) = models.tree {
            let depths = t.max_depth.unwrap_or_else(|| vec![3, 5, 7]);
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
            for d in &depths {
                for l in &leaves {
                    tree.push(TreeParams {
                        max_depth: *d,
                        min_samples_leaf: *l,
                        min_gain: 1e-7,
                        max_bins,
                    });
                }
            }
        }
        if logistic.is_empty() && tree.is_empty() {
            errs.push(Error::config(
                file,
                "train.models",
                "name at least one model (`logistic`, `tree`)",
            ));
        }
        let select = self.select.unwrap_or_else(|| "best_cv".to_string());
        let known = ["best_cv", "logistic", "tree"];
        if !known.contains(&select.as_str()) {
            errs.push(Error::config(
                file,
                "train.select",
                format!("unknown `{select}`, expected one of `best_cv`, `logistic`, `tree`"),
            ));
        } else if (select == "logistic" && logistic.is_empty()) || (select == "tree" && tree.is_empty()) {
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
            seed,
        })
    }
}
