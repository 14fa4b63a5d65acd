//! The model families as values: [`Family`] names them, [`ModelParams`] holds one family's
//! checked settings and fits them, [`Output`] says what a fitted model returns. Only this crate
//! knows the variants; stages ask a [`Model`] or a [`ModelParams`] what they need.

use serde::{Deserialize, Serialize};

use riskpipe_core::{Error, Frame, Result};

use crate::{
    AdaBoost, AdaBoostParams, Bagging, BaggingParams, BoostingParams, DecisionTree, ForestParams, GradientBoosting,
    LogisticParams, LogisticRegression, Mlp, MlpParams, Model, RandomForest, TreeParams,
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
}

impl Family {
    /// Every family, in the order train searches them and reports list them.
    pub const ALL: [Family; 7] = [
        Family::Logistic,
        Family::Tree,
        Family::Forest,
        Family::Boosting,
        Family::AdaBoost,
        Family::Bagging,
        Family::Mlp,
    ];

    /// The family's name (`train.models.<name>`, `train/<name>.json`).
    pub fn name(self) -> &'static str {
        match self {
            Family::Logistic => "logistic",
            Family::Tree => "tree",
            Family::Forest => "forest",
            Family::Boosting => "boosting",
            Family::AdaBoost => "adaboost",
            Family::Bagging => "bagging",
            Family::Mlp => "mlp",
        }
    }

    /// The family called `name`, if any.
    pub fn from_name(name: &str) -> Option<Family> {
        Family::ALL.into_iter().find(|f| f.name() == name)
    }
}

/// What a fitted model's prediction is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Output {
    /// P(y = 1), in [0, 1].
    Probability,
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
}

impl ModelParams {
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
        }
    }

    /// Whether the model reads WoE columns (logistic regression, and bagging over it) rather
    /// than the encoded raw features.
    pub fn reads_woe(&self) -> bool {
        match self {
            ModelParams::Logistic(_) => true,
            ModelParams::Bagging(b) => matches!(b.base, crate::BaseParams::Logistic(_)),
            _ => false,
        }
    }

    /// Fits the model on columns `x` (named `names`) and 0/1 labels `y`.
    pub fn fit(&self, names: &[String], x: &[&[f64]], y: &[f64]) -> Result<Model> {
        Ok(match self {
            ModelParams::Logistic(p) => Model::Logistic(LogisticRegression::fit(names, x, y, None, p)?),
            ModelParams::Tree(p) => Model::Tree(DecisionTree::fit(names, x, y, None, p)?),
            ModelParams::Forest(p) => Model::Forest(RandomForest::fit(names, x, y, p)?),
            ModelParams::Boosting(p) => Model::Boosting(GradientBoosting::fit(names, x, y, p)?),
            ModelParams::AdaBoost(p) => Model::AdaBoost(AdaBoost::fit(names, x, y, p)?),
            ModelParams::Bagging(p) => Model::Bagging(Bagging::fit(names, x, y, p)?),
            ModelParams::Mlp(p) => Model::Mlp(Mlp::fit(names, x, y, p)?),
        })
    }
}

fn std_dev(v: &[f64]) -> f64 {
    let n = v.len().max(1) as f64;
    let m = v.iter().sum::<f64>() / n;
    (v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / n).sqrt()
}

impl Model {
    /// The model's family.
    pub fn family(&self) -> Family {
        match self {
            Model::Logistic(_) => Family::Logistic,
            Model::Tree(_) => Family::Tree,
            Model::Forest(_) => Family::Forest,
            Model::Boosting(_) => Family::Boosting,
            Model::AdaBoost(_) => Family::AdaBoost,
            Model::Bagging(_) => Family::Bagging,
            Model::Mlp(_) => Family::Mlp,
        }
    }

    /// What [`Model::predict`] returns.
    pub fn output(&self) -> Output {
        Output::Probability
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
            Model::Tree(t) => Some(t),
            _ => None,
        }
    }

    /// The scale of [`Model::contributions`]: `log-odds` for boosting, `PD` otherwise.
    pub fn contribution_scale(&self) -> &'static str {
        match self {
            Model::Boosting(_) => "log-odds",
            _ => "PD",
        }
    }

    /// Feature importance, summing to about 1 where the family defines one: the logistic
    /// regression's |coefficient x standard deviation| of its columns in `train` (normalised);
    /// Gini importance of trees and forests; boosting's split gain; AdaBoost's vote-weighted Gini
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
            Model::Tree(t) => t.features.iter().cloned().zip(t.importance.iter().copied()).collect(),
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
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_round_trip_by_name_and_params_serialise_as_the_familys_own() {
        for f in Family::ALL {
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
}
