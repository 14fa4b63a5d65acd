//! Isolation forest: trees of random splits grown on small sub-samples; anomalies, few and
//! different, are isolated in fewer splits.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use riskpipe_core::{Error, Result, Rng};

/// Settings of an isolation forest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IsolationForestParams {
    /// Trees (default 100).
    pub n_trees: usize,
    /// Rows drawn without replacement for each tree (default 256; all rows when fewer).
    pub max_samples: usize,
    /// Seed of the draws: tree `t` draws from its own stream.
    pub seed: u64,
}

impl Default for IsolationForestParams {
    fn default() -> Self {
        IsolationForestParams {
            n_trees: 100,
            max_samples: 256,
            seed: 42,
        }
    }
}

/// One node of an isolation tree: a split (`feature` < `u32::MAX`) or a leaf holding `size`
/// sample rows.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct INode {
    /// Split feature, `u32::MAX` for a leaf.
    pub feature: u32,
    /// Rows with `x < threshold` go left.
    pub threshold: f64,
    /// Left child (the right child follows the left subtree: stored as an index).
    pub left: u32,
    /// Right child.
    pub right: u32,
    /// Sample rows that reached the node.
    pub size: u32,
}

/// A fitted isolation forest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IsolationForest {
    /// Feature names, in column order.
    pub features: Vec<String>,
    /// The trees, nodes in depth-first order, node 0 the root.
    pub trees: Vec<Vec<INode>>,
    /// Rows each tree was grown on (the ψ of the score's normalisation).
    pub sample_size: usize,
    /// The settings used.
    pub params: IsolationForestParams,
}

/// The average path length of an unsuccessful search in a binary search tree of `n` rows,
/// `c(n) = 2 H(n - 1) - 2 (n - 1) / n`: the depth a leaf of `n` rows stands for, and the
/// normaliser of the score.
pub fn average_path_length(n: f64) -> f64 {
    if n <= 1.0 {
        0.0
    } else if n <= 2.0 {
        1.0
    } else {
        // H(i) = ln(i) + Euler's constant, as in the paper.
        2.0 * ((n - 1.0).ln() + 0.577_215_664_901_532_9) - 2.0 * (n - 1.0) / n
    }
}

/// `k` distinct row indices out of `n`, drawn from `rng`, in ascending order.
fn sample_rows(n: usize, k: usize, rng: &mut Rng) -> Vec<u32> {
    if k >= n {
        return (0..n as u32).collect();
    }
    // Floyd's algorithm: k draws, no n-sized buffer.
    let mut chosen = std::collections::BTreeSet::new();
    for j in (n - k)..n {
        let t = rng.below(j as u64 + 1) as usize;
        if !chosen.insert(t as u32) {
            chosen.insert(j as u32);
        }
    }
    chosen.into_iter().collect()
}

/// Grows one tree on the sample `cols` (feature-major, `m` rows) down to `limit` levels.
fn grow(cols: &[Vec<f64>], m: usize, limit: usize, rng: &mut Rng) -> Vec<INode> {
    let mut nodes = Vec::new();
    let mut rows: Vec<u32> = (0..m as u32).collect();
    // (node id, row range, depth) still to split.
    let mut stack = vec![(0usize, 0usize, m, 0usize)];
    nodes.push(INode {
        feature: u32::MAX,
        threshold: 0.0,
        left: 0,
        right: 0,
        size: m as u32,
    });
    let d = cols.len();
    let mut order: Vec<usize> = (0..d).collect();
    while let Some((id, lo, hi, depth)) = stack.pop() {
        if depth >= limit || hi - lo <= 1 {
            continue;
        }
        // Features in random order until one varies in the node (sklearn's way); none: a leaf.
        let mut split = None;
        for k in 0..d {
            let j = k + rng.below((d - k) as u64) as usize;
            order.swap(k, j);
            let f = order[k];
            let (mut min, mut max) = (f64::INFINITY, f64::NEG_INFINITY);
            for &r in &rows[lo..hi] {
                let v = cols[f][r as usize];
                min = min.min(v);
                max = max.max(v);
            }
            if max > min {
                let t = min + rng.uniform() * (max - min);
                // Keep the threshold strictly above the minimum so both sides get a row.
                split = Some((f, if t > min { t } else { max }));
                break;
            }
        }
        let Some((f, t)) = split else { continue };
        let mid = lo + partition(&mut rows[lo..hi], |r| cols[f][r as usize] < t);
        let (l, r) = (nodes.len(), nodes.len() + 1);
        for (a, b) in [(lo, mid), (mid, hi)] {
            nodes.push(INode {
                feature: u32::MAX,
                threshold: 0.0,
                left: 0,
                right: 0,
                size: (b - a) as u32,
            });
        }
        nodes[id] = INode {
            feature: f as u32,
            threshold: t,
            left: l as u32,
            right: r as u32,
            size: (hi - lo) as u32,
        };
        stack.push((r, mid, hi, depth + 1));
        stack.push((l, lo, mid, depth + 1));
    }
    nodes
}

/// Moves the rows for which `left` holds to the front, keeping each side's order; returns how
/// many there are.
fn partition(rows: &mut [u32], left: impl Fn(u32) -> bool) -> usize {
    let (l, r): (Vec<u32>, Vec<u32>) = rows.iter().partition(|&&x| left(x));
    let k = l.len();
    rows[..k].copy_from_slice(&l);
    rows[k..].copy_from_slice(&r);
    k
}

impl IsolationForest {
    /// Fits on columns `x` (named `names`); no target.
    pub fn fit(names: &[String], x: &[&[f64]], params: &IsolationForestParams) -> Result<Self> {
        let n = super::check_table("isolation forest", names, x)?;
        if params.n_trees == 0 || params.max_samples < 2 {
            return Err(Error::Internal(
                "isolation forest: needs at least one tree and two samples per tree".into(),
            ));
        }
        let m = params.max_samples.min(n);
        let limit = (m as f64).log2().ceil() as usize;
        let trees: Vec<Vec<INode>> = (0..params.n_trees)
            .into_par_iter()
            .map(|t| {
                let mut rng = Rng::derive(params.seed, &format!("iforest.tree.{t}"));
                let rows = sample_rows(n, m, &mut rng);
                let cols: Vec<Vec<f64>> = x
                    .iter()
                    .map(|c| rows.iter().map(|&r| c[r as usize]).collect())
                    .collect();
                grow(&cols, rows.len(), limit, &mut rng)
            })
            .collect();
        Ok(IsolationForest {
            features: names.to_vec(),
            trees,
            sample_size: m,
            params: params.clone(),
        })
    }

    /// The path length of one row (values in feature order) through one tree, leaves counting
    /// `c(size)` for the rows they still hold.
    fn path(tree: &[INode], row: &[f64]) -> f64 {
        let mut i = 0usize;
        let mut depth = 0.0;
        loop {
            let n = &tree[i];
            if n.feature == u32::MAX {
                return depth + average_path_length(f64::from(n.size));
            }
            i = if row[n.feature as usize] < n.threshold {
                n.left as usize
            } else {
                n.right as usize
            };
            depth += 1.0;
        }
    }

    /// Mean path length of each row over the trees.
    pub fn mean_path(&self, x: &[&[f64]]) -> Vec<f64> {
        let k = self.trees.len() as f64;
        crate::predict_rows(x, |row| self.trees.iter().map(|t| Self::path(t, row)).sum::<f64>() / k)
    }

    /// The anomaly score of each row, `2^(-E[h] / c(ψ))` in (0, 1]: near 1 for rows isolated at
    /// once, about 0.5 and below for ordinary rows.
    pub fn score(&self, x: &[&[f64]]) -> Vec<f64> {
        let c = average_path_length(self.sample_size as f64).max(1e-12);
        self.mean_path(x).into_iter().map(|h| (-h / c).exp2()).collect()
    }

    /// How much each feature did to isolate one row (values in feature order): every split on
    /// the row's path in every tree credits its feature with `ln(rows before / rows after)`,
    /// the share of the sample the split cut away from the row; averaged over trees. A split
    /// that leaves the row among half the rows counts `ln 2`, one that isolates it at once
    /// counts the most.
    pub fn attribution(&self, row: &[f64]) -> Vec<f64> {
        let mut out = vec![0.0; self.features.len()];
        for t in &self.trees {
            let mut i = 0usize;
            while t[i].feature != u32::MAX {
                let n = &t[i];
                let next = if row[n.feature as usize] < n.threshold {
                    n.left as usize
                } else {
                    n.right as usize
                };
                out[n.feature as usize] += (f64::from(n.size) / f64::from(t[next].size.max(1))).ln();
                i = next;
            }
        }
        let k = self.trees.len().max(1) as f64;
        out.iter_mut().for_each(|v| *v /= k);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2,000 rows from a standard normal in 4 dimensions, plus 20 rows far out.
    fn data() -> (Vec<Vec<f64>>, Vec<bool>) {
        let mut rng = Rng::new(11);
        let n = 2020;
        let mut cols: Vec<Vec<f64>> = (0..4).map(|_| Vec::with_capacity(n)).collect();
        let mut outlier = Vec::with_capacity(n);
        for i in 0..n {
            let far = i >= 2000;
            for c in &mut cols {
                c.push(rng.normal() + if far { 6.0 } else { 0.0 });
            }
            outlier.push(far);
        }
        (cols, outlier)
    }

    #[test]
    fn c_of_n_matches_the_paper() {
        assert_eq!(average_path_length(1.0), 0.0);
        assert_eq!(average_path_length(2.0), 1.0);
        // c(256) = 2 (ln 255 + 0.5772) - 2 * 255 / 256 = 10.2448...
        assert!((average_path_length(256.0) - 10.244_770_920_116_851).abs() < 1e-9);
    }

    #[test]
    fn far_rows_score_highest_and_scores_repeat_to_the_bit() {
        let (cols, outlier) = data();
        let x: Vec<&[f64]> = cols.iter().map(Vec::as_slice).collect();
        let names: Vec<String> = (0..4).map(|i| format!("x{i}")).collect();
        let f = IsolationForest::fit(&names, &x, &IsolationForestParams::default()).unwrap();
        let s = f.score(&x);
        let y: Vec<f64> = outlier.iter().map(|o| f64::from(u8::from(*o))).collect();
        let auc = riskpipe_core::stats::auc(&y, &s);
        assert!(auc > 0.99, "AUC {auc}");
        assert!(s.iter().all(|v| *v > 0.0 && *v <= 1.0));
        let mean_in = s[..2000].iter().sum::<f64>() / 2000.0;
        assert!(mean_in < 0.5 && s[2000..].iter().all(|v| *v > 0.6), "{mean_in}");
        // Same seed, same forest, on one thread or several.
        let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
        let again = one.install(|| IsolationForest::fit(&names, &x, &IsolationForestParams::default()).unwrap());
        assert_eq!(again, f);
        assert_eq!(one.install(|| again.score(&x)), s);
        // Another seed, another forest.
        let other = IsolationForestParams {
            seed: 7,
            ..IsolationForestParams::default()
        };
        assert_ne!(IsolationForest::fit(&names, &x, &other).unwrap().trees, f.trees);
        // A row far out in one feature owes its isolation to that feature; JSON round trip.
        let a = f.attribution(&[9.0, 0.0, 0.0, 0.0]);
        assert!(a[0] > 2.0 * (a[1] + a[2] + a[3]), "{a:?}");
        let back: IsolationForest = serde_json::from_str(&serde_json::to_string(&f).unwrap()).unwrap();
        assert_eq!(back.score(&x), s);
    }

    #[test]
    fn bad_input_is_refused() {
        let names = vec!["a".to_string()];
        let col = [1.0, f64::NAN, 3.0];
        let err = IsolationForest::fit(&names, &[&col], &IsolationForestParams::default()).unwrap_err();
        assert!(
            err.to_string().contains("`a`") && err.to_string().contains("row 1"),
            "{err}"
        );
        let zero = IsolationForestParams {
            n_trees: 0,
            ..IsolationForestParams::default()
        };
        assert!(IsolationForest::fit(&names, &[&[1.0, 2.0]], &zero).is_err());
        // A constant column cannot be split: every row is a leaf of the root.
        let f = IsolationForest::fit(&names, &[&[5.0; 50]], &IsolationForestParams::default()).unwrap();
        assert!(f.trees.iter().all(|t| t.len() == 1));
    }
}
