//! Random forest on the histogram CART: bootstrap rows per tree, random features per split,
//! trees grown in parallel, out-of-bag AUC.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::hist::BinnedMatrix;
use crate::tree::{DecisionTree, TreeParams};
use riskpipe_core::{Error, Result, Rng};

/// Checked parameters of a random forest.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ForestParams {
    /// Trees.
    pub n_trees: usize,
    /// Parameters of each tree (`max_features` defaults to the square root of the features).
    pub tree: TreeParams,
    /// Seed of the bootstraps and feature draws.
    pub seed: u64,
}

/// A fitted random forest: the mean of its trees' probabilities.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RandomForest {
    /// Feature names.
    pub features: Vec<String>,
    /// The trees.
    pub trees: Vec<DecisionTree>,
    /// Mean decrease in Gini per feature over the trees, normalised.
    pub importance: Vec<f64>,
    /// AUC of out-of-bag predictions on the training rows (rows never drawn for some tree).
    pub oob_auc: Option<f64>,
    /// The parameters used.
    pub params: ForestParams,
    /// The trees flattened for prediction (built on first use).
    #[serde(skip)]
    pub(crate) flat: crate::flat::FlatCache,
}

impl RandomForest {
    /// Fits on columns `x`, labels `y` in {0, 1} (or, with the trees' `criterion` set to
    /// squared error, an amount: a regression forest whose prediction is the trees' mean).
    pub fn fit(names: &[String], x: &[&[f64]], y: &[f64], params: &ForestParams) -> Result<Self> {
        Self::fit_weighted(names, x, y, None, params)
    }

    /// Fits with a weight per row: a row drawn k times by a tree's bootstrap counts k times its
    /// weight in that tree.
    pub fn fit_weighted(
        names: &[String],
        x: &[&[f64]],
        y: &[f64],
        weights: Option<&[f64]>,
        params: &ForestParams,
    ) -> Result<Self> {
        let n = y.len();
        if n == 0 || x.is_empty() || params.n_trees == 0 {
            return Err(Error::Internal(
                "random forest: no rows, no features or no trees".into(),
            ));
        }
        crate::check_weights("random forest", weights, n)?;
        let binned = BinnedMatrix::fit(x, params.tree.max_bins);
        let mut tp = params.tree.clone();
        if tp.max_features.is_none() {
            tp.max_features = Some(((x.len() as f64).sqrt().round() as usize).max(1));
        }
        // With `balanced` trees, each drawn row also carries its class weight.
        let cw = crate::class_weights(y, tp.balanced);
        // Each tree's draws come from its own stream: results do not depend on thread timing.
        let grown: Vec<(DecisionTree, Vec<f64>)> = (0..params.n_trees)
            .into_par_iter()
            .map(|t| {
                let mut rng = Rng::derive(params.seed, &format!("forest.tree.{t}"));
                let mut w = vec![0.0; n];
                for _ in 0..n {
                    w[rng.below(n as u64) as usize] += 1.0;
                }
                let rows: Vec<u32> = (0..n as u32).filter(|&r| w[r as usize] > 0.0).collect();
                let mut fit_w: Vec<f64> = if tp.balanced {
                    w.iter().zip(&cw).map(|(a, b)| a * b).collect()
                } else {
                    w.clone()
                };
                if let Some(sw) = weights {
                    for (f, s) in fit_w.iter_mut().zip(sw) {
                        *f *= s;
                    }
                }
                let tree = DecisionTree::fit_binned(names, &binned, x, y, &fit_w, rows, &tp, rng.next_u64());
                (tree, w)
            })
            .collect();
        // Out-of-bag: each row scored by the trees that did not draw it.
        let mut oob_sum = vec![0.0; n];
        let mut oob_cnt = vec![0u32; n];
        let mut row = vec![0.0; x.len()];
        for (tree, w) in &grown {
            for i in 0..n {
                if w[i] == 0.0 {
                    for (j, c) in x.iter().enumerate() {
                        row[j] = c[i];
                    }
                    oob_sum[i] += tree.nodes[tree.leaf(&row)].value;
                    oob_cnt[i] += 1;
                }
            }
        }
        let scored: Vec<usize> = (0..n).filter(|&i| oob_cnt[i] > 0).collect();
        // An AUC ranks 0/1 labels: a regression forest (squared error) has none.
        let classifier = params.tree.criterion == crate::Criterion::Gini;
        let oob_auc = (classifier && scored.len() > 1).then(|| {
            let yy: Vec<f64> = scored.iter().map(|&i| y[i]).collect();
            let pp: Vec<f64> = scored.iter().map(|&i| oob_sum[i] / f64::from(oob_cnt[i])).collect();
            riskpipe_core::stats::auc(&yy, &pp)
        });
        let trees: Vec<DecisionTree> = grown.into_iter().map(|g| g.0).collect();
        let mut importance = vec![0.0; x.len()];
        for t in &trees {
            for (a, b) in importance.iter_mut().zip(&t.importance) {
                *a += b;
            }
        }
        let total: f64 = importance.iter().sum();
        if total > 0.0 {
            for v in &mut importance {
                *v /= total;
            }
        }
        Ok(RandomForest {
            features: names.to_vec(),
            trees,
            importance,
            oob_auc,
            params: params.clone(),
            flat: Default::default(),
        })
    }

    /// P(y = 1) per row: the mean of the trees' leaf probabilities (a regression forest: the
    /// mean of their leaf amounts).
    pub fn predict_proba(&self, x: &[&[f64]]) -> Vec<f64> {
        let k = self.trees.len().max(1) as f64;
        let flat = self.flat.get(|| {
            let nodes: Vec<Vec<crate::tree::Node>> = self.trees.iter().map(|t| t.nodes.clone()).collect();
            crate::flat::Flat::new(&nodes, self.features.len())
        });
        flat.sums(x).into_iter().map(|s| s / k).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forest_beats_noise_is_deterministic_and_reports_oob() {
        let mut rng = Rng::new(11);
        let n = 6000;
        let cols: Vec<Vec<f64>> = (0..6).map(|_| (0..n).map(|_| rng.uniform()).collect()).collect();
        let y: Vec<f64> = (0..n)
            .map(|i| {
                let z = 3.0 * (cols[0][i] - 0.5) + 2.0 * (cols[1][i] > 0.7) as i32 as f64 - 1.0;
                if rng.bernoulli(1.0 / (1.0 + (-z).exp())) {
                    1.0
                } else {
                    0.0
                }
            })
            .collect();
        let names: Vec<String> = (0..6).map(|i| format!("x{i}")).collect();
        let x: Vec<&[f64]> = cols.iter().map(Vec::as_slice).collect();
        let params = ForestParams {
            n_trees: 30,
            tree: TreeParams {
                max_depth: 5,
                min_samples_leaf: 20,
                ..Default::default()
            },
            seed: 3,
        };
        let f = RandomForest::fit(&names, &x, &y, &params).unwrap();
        let oob = f.oob_auc.unwrap();
        assert!(oob > 0.7, "oob auc {oob}");
        assert!(f.importance[0] > f.importance[5] && f.importance[1] > f.importance[5]);
        let again = RandomForest::fit(&names, &x, &y, &params).unwrap();
        assert_eq!(f, again);
        let p = f.predict_proba(&x);
        assert!(p.iter().all(|v| (0.0..=1.0).contains(v)));
        // Averaging trees gives smoother scores than one tree: many distinct values.
        let mut d = p.clone();
        d.sort_by(f64::total_cmp);
        d.dedup();
        assert!(d.len() > 200);
    }

    #[test]
    fn an_exact_forest_splits_at_a_limit_its_bins_straddle() {
        // Fraud is an amount above 220; the amounts thin out above 150, so a 255-quantile bin
        // straddles the limit and a histogram tree cannot cut at it.
        let mut rng = Rng::new(5);
        let amount: Vec<f64> = (0..20_000)
            .map(|_| {
                let u = rng.uniform();
                if u < 0.98 {
                    150.0 * rng.uniform()
                } else {
                    150.0 + 150.0 * rng.uniform()
                }
            })
            .collect();
        let y: Vec<f64> = amount.iter().map(|&a| f64::from(u8::from(a > 220.0))).collect();
        let names = vec!["amount".to_string()];
        let params = |exact| ForestParams {
            n_trees: 5,
            tree: TreeParams {
                max_depth: 1,
                min_samples_leaf: 1,
                exact,
                ..Default::default()
            },
            seed: 1,
        };
        let errors = |f: &RandomForest| {
            let p = f.predict_proba(&[&amount]);
            p.iter().zip(&y).filter(|(p, y)| (**p > 0.5) != (**y > 0.5)).count()
        };
        let exact = RandomForest::fit(&names, &[&amount], &y, &params(true)).unwrap();
        let hist = RandomForest::fit(&names, &[&amount], &y, &params(false)).unwrap();
        assert_eq!(errors(&exact), 0);
        assert!(errors(&hist) > 0, "the bins' edges miss the limit");
        assert!(
            exact
                .trees
                .iter()
                .all(|t| t.nodes[0].threshold.is_some_and(|v| (v - 220.0).abs() < 1.0))
        );
    }

    #[test]
    fn a_regression_forest_averages_its_trees_amounts() {
        let mut rng = Rng::new(12);
        let n = 4000;
        let cols: Vec<Vec<f64>> = (0..3).map(|_| (0..n).map(|_| rng.uniform()).collect()).collect();
        let y: Vec<f64> = (0..n)
            .map(|i| 0.2 + 0.6 * cols[0][i] * cols[1][i] + 0.05 * rng.normal())
            .collect();
        let names: Vec<String> = (0..3).map(|i| format!("x{i}")).collect();
        let x: Vec<&[f64]> = cols.iter().map(Vec::as_slice).collect();
        let params = ForestParams {
            n_trees: 60,
            tree: TreeParams {
                max_depth: 8,
                min_samples_leaf: 10,
                criterion: crate::Criterion::SquaredError,
                ..TreeParams::default()
            },
            seed: 3,
        };
        let f = RandomForest::fit(&names, &x, &y, &params).unwrap();
        assert!(f.oob_auc.is_none(), "no AUC of an amount");
        let p = f.predict_proba(&x);
        let mean = y.iter().sum::<f64>() / n as f64;
        let sst: f64 = y.iter().map(|v| (v - mean) * (v - mean)).sum();
        let sse: f64 = y.iter().zip(&p).map(|(a, b)| (a - b) * (a - b)).sum();
        assert!(1.0 - sse / sst > 0.8, "R2 {}", 1.0 - sse / sst);
        assert_eq!(RandomForest::fit(&names, &x, &y, &params).unwrap(), f);
    }
}
