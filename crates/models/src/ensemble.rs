//! Two classic ensembles: AdaBoost (SAMME, discrete, on shallow weighted trees) and bagging of
//! any base model on bootstrap samples. Both seeded and deterministic.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use riskpipe_core::{Error, Result, Rng};

use crate::tree::{DecisionTree, TreeParams};
use crate::{BoostingParams, GradientBoosting, LogisticParams, LogisticRegression, Model};

/// Parameters of AdaBoost.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AdaBoostParams {
    /// Rounds at most (fewer when a round's weighted error reaches one half).
    pub n_estimators: usize,
    /// Depth of each tree (1: stumps).
    pub max_depth: usize,
    /// Shrinkage of each round's vote.
    pub learning_rate: f64,
    /// Rows per leaf at least.
    pub min_samples_leaf: usize,
}

impl Default for AdaBoostParams {
    fn default() -> Self {
        AdaBoostParams {
            n_estimators: 100,
            max_depth: 1,
            learning_rate: 1.0,
            min_samples_leaf: 1,
        }
    }
}

/// A fitted AdaBoost (SAMME for two classes): each tree votes for the class of its leaf, with
/// weight `alpha`; P(y = 1) = sigmoid(2 d) where d is the weighted vote in [-1, 1] (as
/// scikit-learn's `AdaBoostClassifier` turns its decision into probabilities).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AdaBoost {
    /// Feature names.
    pub features: Vec<String>,
    /// The weighted trees.
    pub trees: Vec<DecisionTree>,
    /// Each tree's vote.
    pub alphas: Vec<f64>,
    /// The parameters used.
    pub params: AdaBoostParams,
}

impl AdaBoost {
    /// Fits on columns `x` and 0/1 labels `y`.
    pub fn fit(names: &[String], x: &[&[f64]], y: &[f64], p: &AdaBoostParams) -> Result<AdaBoost> {
        let n = y.len();
        if n == 0 || p.n_estimators == 0 {
            return Err(Error::Internal("adaboost: no rows or no rounds".into()));
        }
        let tp = TreeParams {
            max_depth: p.max_depth.max(1),
            min_samples_leaf: p.min_samples_leaf.max(1),
            min_gain: 0.0,
            ..TreeParams::default()
        };
        let mut w = vec![1.0 / n as f64; n];
        let (mut trees, mut alphas) = (Vec::new(), Vec::new());
        for _ in 0..p.n_estimators {
            let tree = DecisionTree::fit(names, x, y, Some(&w), &tp)?;
            let pred: Vec<bool> = tree.predict_proba(x).iter().map(|q| *q > 0.5).collect();
            let miss: Vec<bool> = pred.iter().zip(y).map(|(p, t)| *p != (*t > 0.5)).collect();
            let total: f64 = w.iter().sum();
            let err = w.iter().zip(&miss).filter(|(_, m)| **m).map(|(w, _)| w).sum::<f64>() / total;
            if err >= 0.5 {
                // No better than chance on the weighted rows: stop (keep what was learned).
                if trees.is_empty() {
                    trees.push(tree);
                    alphas.push(1.0);
                }
                break;
            }
            let err = err.max(1e-12);
            let alpha = p.learning_rate * ((1.0 - err) / err).ln();
            for (wi, m) in w.iter_mut().zip(&miss) {
                if *m {
                    *wi *= alpha.exp();
                }
            }
            let s: f64 = w.iter().sum();
            w.iter_mut().for_each(|v| *v /= s);
            trees.push(tree);
            alphas.push(alpha);
            if err <= 1e-12 {
                break;
            }
        }
        Ok(AdaBoost {
            features: names.to_vec(),
            trees,
            alphas,
            params: p.clone(),
        })
    }

    /// P(y = 1) per row.
    pub fn predict_proba(&self, x: &[&[f64]]) -> Vec<f64> {
        let total: f64 = self.alphas.iter().sum::<f64>().max(1e-12);
        crate::predict_rows(x, |row| {
            let d: f64 = self
                .trees
                .iter()
                .zip(&self.alphas)
                .map(|(t, a)| if t.nodes[t.leaf(row)].value > 0.5 { *a } else { -*a })
                .sum::<f64>()
                / total;
            1.0 / (1.0 + (-2.0 * d).exp())
        })
    }
}

/// The model bagging repeats.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum BaseParams {
    /// Logistic regression.
    Logistic(LogisticParams),
    /// Decision tree.
    Tree(TreeParams),
    /// Gradient boosting.
    Boosting(BoostingParams),
    /// Random forest.
    Forest(crate::ForestParams),
    /// AdaBoost.
    AdaBoost(AdaBoostParams),
    /// Multilayer perceptron.
    Mlp(crate::MlpParams),
}

/// Parameters of bagging.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct BaggingParams {
    /// Members.
    pub n_estimators: usize,
    /// Bootstrap size as a share of the rows.
    pub max_samples: f64,
    /// The base model and its parameters.
    pub base: BaseParams,
    /// Seed of the bootstrap samples.
    pub seed: u64,
    /// Balanced bagging: each bootstrap sample keeps its positive rows and as many negative
    /// rows, drawn without replacement, as the positives over this ratio (1: as many negatives
    /// as positives), so every member learns from a balanced sample of a rare class.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub balance: Option<f64>,
}

/// A fitted bagging ensemble: the mean probability of models fitted on bootstrap samples.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Bagging {
    /// Feature names.
    pub features: Vec<String>,
    /// The members.
    pub members: Vec<Model>,
    /// The parameters used.
    pub params: BaggingParams,
}

impl Bagging {
    /// Fits `n_estimators` base models, each on its own seeded bootstrap sample, in parallel.
    pub fn fit(names: &[String], x: &[&[f64]], y: &[f64], p: &BaggingParams) -> Result<Bagging> {
        let n = y.len();
        if n == 0 || p.n_estimators == 0 {
            return Err(Error::Internal("bagging: no rows or no members".into()));
        }
        let m = ((n as f64 * p.max_samples).round() as usize).clamp(1, n);
        let members: Vec<Model> = (0..p.n_estimators)
            .into_par_iter()
            .map(|k| {
                let mut rng = Rng::derive(p.seed, &format!("bagging.{k}"));
                let mut idx: Vec<usize> = (0..m).map(|_| rng.below(n as u64) as usize).collect();
                if let Some(ratio) = p.balance {
                    idx = balance(idx, y, ratio, &mut rng);
                }
                idx.sort_unstable();
                let cols: Vec<Vec<f64>> = x.iter().map(|c| idx.iter().map(|&i| c[i]).collect()).collect();
                let cols: Vec<&[f64]> = cols.iter().map(Vec::as_slice).collect();
                let ys: Vec<f64> = idx.iter().map(|&i| y[i]).collect();
                Ok(match &p.base {
                    BaseParams::Logistic(lp) => Model::Logistic(LogisticRegression::fit(names, &cols, &ys, None, lp)?),
                    BaseParams::Tree(tp) => Model::Tree(DecisionTree::fit(names, &cols, &ys, None, tp)?),
                    BaseParams::Boosting(bp) => Model::Boosting(GradientBoosting::fit(names, &cols, &ys, bp)?),
                    BaseParams::Forest(fp) => Model::Forest(crate::RandomForest::fit(names, &cols, &ys, fp)?),
                    BaseParams::AdaBoost(ap) => Model::AdaBoost(AdaBoost::fit(names, &cols, &ys, ap)?),
                    BaseParams::Mlp(mp) => Model::Mlp(crate::Mlp::fit(names, &cols, &ys, mp)?),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Bagging {
            features: names.to_vec(),
            members,
            params: p.clone(),
        })
    }

    /// P(y = 1) per row: the members' mean, added in member order.
    pub fn predict_proba(&self, x: &[&[f64]]) -> Vec<f64> {
        let n = x.first().map_or(0, |c| c.len());
        let mut sum = vec![0.0; n];
        for m in &self.members {
            for (s, p) in sum.iter_mut().zip(m.predict(x)) {
                *s += p;
            }
        }
        let k = self.members.len().max(1) as f64;
        sum.into_iter().map(|s| s / k).collect()
    }
}

/// The rows of a bootstrap sample `idx` kept by balancing: every positive (target 1) and
/// `positives / ratio` negatives (all when fewer), drawn without replacement; a sample without
/// positives is kept whole.
fn balance(idx: Vec<usize>, y: &[f64], ratio: f64, rng: &mut Rng) -> Vec<usize> {
    let (mut pos, mut neg): (Vec<usize>, Vec<usize>) = idx.into_iter().partition(|&i| y[i] >= 0.5);
    if pos.is_empty() {
        return neg;
    }
    let keep = ((pos.len() as f64 / ratio) as usize).min(neg.len());
    for j in 0..keep {
        let k = j + rng.below((neg.len() - j) as u64) as usize;
        neg.swap(j, k);
    }
    neg.truncate(keep);
    pos.extend(neg);
    pos
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bagging_takes_every_base_model() {
        let mut rng = Rng::new(4);
        let n = 1500;
        let cols: Vec<Vec<f64>> = (0..3).map(|_| (0..n).map(|_| rng.normal()).collect()).collect();
        let y: Vec<f64> = (0..n)
            .map(|i| {
                f64::from(u8::from(
                    rng.bernoulli(1.0 / (1.0 + (-2.0 * cols[0][i] + cols[1][i]).exp())),
                ))
            })
            .collect();
        let names: Vec<String> = (0..3).map(|j| format!("x{j}")).collect();
        let x: Vec<&[f64]> = cols.iter().map(|c| c.as_slice()).collect();
        let bases = [
            BaseParams::Forest(crate::ForestParams {
                n_trees: 5,
                tree: TreeParams {
                    max_depth: 4,
                    ..TreeParams::default()
                },
                seed: 1,
            }),
            BaseParams::AdaBoost(AdaBoostParams {
                n_estimators: 20,
                ..AdaBoostParams::default()
            }),
            BaseParams::Mlp(crate::MlpParams {
                hidden: vec![4],
                max_epochs: 20,
                learning_rate: 0.01,
                ..crate::MlpParams::default()
            }),
        ];
        for base in bases {
            let p = BaggingParams {
                n_estimators: 3,
                max_samples: 0.8,
                base,
                seed: 2,
                balance: None,
            };
            let bag = Bagging::fit(&names, &x, &y, &p).unwrap();
            let again = Bagging::fit(&names, &x, &y, &p).unwrap();
            assert_eq!(
                serde_json::to_string(&bag).unwrap(),
                serde_json::to_string(&again).unwrap()
            );
            let prob = bag.predict_proba(&x);
            assert!(riskpipe_core::stats::auc(&y, &prob) > 0.75, "{:?}", p.base);
        }
    }

    fn data(n: usize, seed: u64) -> (Vec<Vec<f64>>, Vec<f64>) {
        let mut rng = Rng::new(seed);
        let cols: Vec<Vec<f64>> = (0..4).map(|_| (0..n).map(|_| rng.uniform()).collect()).collect();
        let y = (0..n)
            .map(|i| {
                let z = 3.0 * cols[0][i] - 2.0 * cols[1][i] + 1.5 * (cols[2][i] > 0.7) as u8 as f64 - 1.2;
                f64::from(u8::from(rng.bernoulli(1.0 / (1.0 + (-z).exp()))))
            })
            .collect();
        (cols, y)
    }

    #[test]
    fn adaboost_and_bagging_learn_and_repeat_themselves() {
        let (cols, y) = data(4000, 1);
        let (tcols, ty) = data(4000, 2);
        let names: Vec<String> = (0..4).map(|i| format!("x{i}")).collect();
        let x: Vec<&[f64]> = cols.iter().map(Vec::as_slice).collect();
        let tx: Vec<&[f64]> = tcols.iter().map(Vec::as_slice).collect();
        let ada = AdaBoost::fit(&names, &x, &y, &AdaBoostParams::default()).unwrap();
        assert!(ada.trees.len() > 10 && ada.alphas.iter().all(|a| *a > 0.0));
        let auc = |p: &[f64]| riskpipe_core::stats::auc(&ty, p);
        assert!(auc(&ada.predict_proba(&tx)) > 0.72);
        assert_eq!(AdaBoost::fit(&names, &x, &y, &AdaBoostParams::default()).unwrap(), ada);
        let bp = BaggingParams {
            n_estimators: 8,
            max_samples: 1.0,
            base: BaseParams::Tree(TreeParams {
                max_depth: 6,
                min_samples_leaf: 20,
                ..TreeParams::default()
            }),
            seed: 5,
            balance: None,
        };
        let bag = Bagging::fit(&names, &x, &y, &bp).unwrap();
        let single = DecisionTree::fit(
            &names,
            &x,
            &y,
            None,
            &TreeParams {
                max_depth: 6,
                min_samples_leaf: 20,
                ..TreeParams::default()
            },
        )
        .unwrap();
        // Averaging bootstrap trees ranks fresh rows better than one tree.
        assert!(auc(&bag.predict_proba(&tx)) > auc(&single.predict_proba(&tx)));
        assert_eq!(Bagging::fit(&names, &x, &y, &bp).unwrap(), bag);
        let json = serde_json::to_string(&Model::Bagging(bag.clone())).unwrap();
        assert_eq!(serde_json::from_str::<Model>(&json).unwrap(), Model::Bagging(bag));
    }

    #[test]
    fn balanced_bagging_fits_each_member_on_a_balanced_sample() {
        // 1 positive in 50: a balanced sample keeps every positive and positives / ratio
        // negatives, drawn without replacement (no position twice).
        let y: Vec<f64> = (0..5000).map(|i| f64::from(u8::from(i % 50 == 0))).collect();
        for ratio in [1.0, 0.25] {
            let kept = balance((0..5000).collect(), &y, ratio, &mut Rng::new(9));
            let pos = kept.iter().filter(|&&i| y[i] == 1.0).count();
            let mut neg: Vec<usize> = kept.iter().copied().filter(|&i| y[i] == 0.0).collect();
            assert_eq!(pos, 100);
            assert_eq!(neg.len(), (100.0 / ratio) as usize);
            neg.sort_unstable();
            neg.dedup();
            assert_eq!(neg.len(), (100.0 / ratio) as usize);
        }
        // A balanced ensemble's probabilities sit near the balanced rate, not the base rate,
        // and it still ranks.
        let (cols, _) = data(5000, 4);
        let y: Vec<f64> = (0..5000)
            .map(|i| f64::from(u8::from(cols[0][i] > 0.97 || (i % 97 == 0))))
            .collect();
        let names: Vec<String> = (0..4).map(|i| format!("x{i}")).collect();
        let x: Vec<&[f64]> = cols.iter().map(Vec::as_slice).collect();
        let mut p = BaggingParams {
            n_estimators: 10,
            max_samples: 1.0,
            base: BaseParams::Tree(TreeParams {
                max_depth: 4,
                min_samples_leaf: 5,
                ..TreeParams::default()
            }),
            seed: 1,
            balance: Some(1.0),
        };
        let balanced = Bagging::fit(&names, &x, &y, &p).unwrap();
        p.balance = None;
        let plain = Bagging::fit(&names, &x, &y, &p).unwrap();
        let mean = |b: &Bagging| b.predict_proba(&x).iter().sum::<f64>() / 5000.0;
        let rate = y.iter().sum::<f64>() / 5000.0;
        assert!(
            rate < 0.06 && mean(&plain) < 0.1 && mean(&balanced) > 0.2,
            "{rate} {} {}",
            mean(&plain),
            mean(&balanced)
        );
        assert!(riskpipe_core::stats::auc(&y, &balanced.predict_proba(&x)) > 0.8);
    }
}
