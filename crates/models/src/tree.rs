//! CART decision trees grown on histogram bins, with sample weights: for binary classification
//! (Gini impurity, class-frequency leaves) and for regression (squared error, leaf means).

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::hist::BinnedMatrix;
use riskpipe_core::{Error, Result};

/// Checked parameters of a decision tree.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TreeParams {
    /// Depth at most (root = depth 0).
    pub max_depth: usize,
    /// Rows per leaf at least.
    pub min_samples_leaf: usize,
    /// Smallest weighted Gini decrease worth a split.
    pub min_gain: f64,
    /// Histogram bins per feature at most (2..=255).
    pub max_bins: usize,
    /// Features drawn at random for each split (`None`: all); forests use it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_features: Option<usize>,
    /// Weigh the classes equally (`class_weight: balanced`) when no sample weights are given.
    #[serde(default, skip_serializing_if = "crate::is_false")]
    pub balanced: bool,
    /// Cost-complexity pruning: after growing, the weakest link (the split whose subtree lowers
    /// the rows-weighted Gini impurity least per extra leaf) is cut while that gain per leaf is
    /// at most this (0: no pruning).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub ccp_alpha: f64,
    /// What a split lowers: Gini impurity of 0/1 labels (default) or the squared error of
    /// real-valued targets.
    #[serde(default, skip_serializing_if = "Criterion::is_gini")]
    pub criterion: Criterion,
    /// Exact splits (CART as first described, and as scikit-learn grows it): every threshold
    /// between two distinct values of the node's rows is tried, at their midpoint, instead of
    /// the histogram bins' edges. Slower; for small trees that must match a reference.
    #[serde(default, skip_serializing_if = "crate::is_false")]
    pub exact: bool,
}

/// The impurity a tree's splits lower.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Criterion {
    /// Weighted Gini impurity of 0/1 labels; a leaf holds the share of positives.
    #[default]
    Gini,
    /// Weighted squared error around the node mean; a leaf holds the mean target.
    SquaredError,
}

impl Criterion {
    #[expect(
        clippy::trivially_copy_pass_by_ref,
        reason = "serde's skip_serializing_if passes a reference"
    )]
    fn is_gini(&self) -> bool {
        *self == Criterion::Gini
    }

    /// The node's impurity times its weight, from the weight `w`, weighted sum `wy` and weighted
    /// sum of squares `wyy` of its targets.
    fn mass(self, w: f64, wy: f64, wyy: f64) -> f64 {
        if w <= 0.0 {
            return 0.0;
        }
        match self {
            Criterion::Gini => {
                let p = wy / w;
                w * 2.0 * p * (1.0 - p)
            }
            Criterion::SquaredError => (wyy - wy * wy / w).max(0.0),
        }
    }
}

/// Checked parameters of a regression tree: a CART tree on squared error, no pruning.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RegressionTreeParams {
    /// Depth at most (root = depth 0).
    pub max_depth: usize,
    /// Rows per leaf at least.
    pub min_samples_leaf: usize,
    /// Histogram bins per feature at most (2..=255).
    pub max_bins: usize,
}

impl Default for RegressionTreeParams {
    fn default() -> Self {
        RegressionTreeParams {
            max_depth: 6,
            min_samples_leaf: 50,
            max_bins: 255,
        }
    }
}

impl RegressionTreeParams {
    /// The CART settings these stand for.
    fn tree(&self) -> TreeParams {
        TreeParams {
            max_depth: self.max_depth,
            min_samples_leaf: self.min_samples_leaf,
            min_gain: 0.0,
            max_bins: self.max_bins,
            max_features: None,
            balanced: false,
            ccp_alpha: 0.0,
            criterion: Criterion::SquaredError,
            exact: false,
        }
    }
}

#[expect(
    clippy::trivially_copy_pass_by_ref,
    reason = "serde's skip_serializing_if passes a reference"
)]
fn is_zero(v: &f64) -> bool {
    *v == 0.0
}

impl Default for TreeParams {
    fn default() -> Self {
        TreeParams {
            max_depth: 6,
            min_samples_leaf: 50,
            min_gain: 1e-7,
            max_bins: 255,
            max_features: None,
            balanced: false,
            ccp_alpha: 0.0,
            criterion: Criterion::Gini,
            exact: false,
        }
    }
}

/// One node of a fitted tree; children are indices into [`DecisionTree::nodes`].
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Node {
    /// Feature index of the split (`None` for a leaf).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub feature: Option<usize>,
    /// Rows with `x <= threshold` go left; larger values go right, and missing values too
    /// unless `missing_left`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub threshold: Option<f64>,
    /// Missing values go left (learned by boosting: the side that lowered the loss).
    #[serde(skip_serializing_if = "crate::is_false", default)]
    pub missing_left: bool,
    /// Left child.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub left: Option<usize>,
    /// Right child.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub right: Option<usize>,
    /// Weighted share of positives in the node (the leaf's probability), or under squared error
    /// the weighted mean target.
    pub value: f64,
    /// Training rows in the node.
    pub rows: u64,
    /// Weighted impurity decrease of the split (0 for a leaf).
    pub gain: f64,
}

/// A fitted decision tree.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DecisionTree {
    /// Feature names, in index order.
    pub features: Vec<String>,
    /// Nodes; node 0 is the root.
    pub nodes: Vec<Node>,
    /// Total impurity decrease per feature, normalised to sum to 1.
    pub importance: Vec<f64>,
    /// The parameters used.
    pub params: TreeParams,
}

#[derive(Clone, Copy, Default)]
struct Bin {
    w: f64,
    wy: f64,
    wyy: f64,
    n: u32,
}

impl Bin {
    /// Adds a row of weight `w` and target `y` (its square too under squared error, `sq`).
    fn add(&mut self, w: f64, y: f64, sq: bool) {
        self.w += w;
        self.wy += w * y;
        if sq {
            self.wyy += w * y * y;
        }
        self.n += 1;
    }
}

struct Best {
    feature: usize,
    bin: usize,
    gain: f64,
}

/// The best exact split of `rows` on column `x`: (impurity decrease, threshold), the threshold
/// the midpoint of the two distinct values it falls between (the lower one should the midpoint
/// round up to the higher). Missing values go right, as in the histogram splits. `node` is the
/// criterion, the node's impurity mass and its weight sums.
fn exact_split(
    x: &[f64],
    y: &[f64],
    w: &[f64],
    rows: &[u32],
    (crit, parent, (wsum, wy, wyy)): (Criterion, f64, (f64, f64, f64)),
    min_leaf: u32,
) -> Option<(f64, f64)> {
    let mut v: Vec<(f64, u32)> = rows
        .iter()
        .filter(|&&r| !x[r as usize].is_nan())
        .map(|&r| (x[r as usize], r))
        .collect();
    v.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let sq = crit == Criterion::SquaredError;
    let mut left = Bin::default();
    let mut best: Option<(f64, f64)> = None;
    let total = rows.len() as u32;
    for i in 0..v.len().saturating_sub(1) {
        let (xv, r) = v[i];
        left.add(w[r as usize], y[r as usize], sq);
        let next = v[i + 1].0;
        if next <= xv {
            continue;
        }
        if left.n < min_leaf || total - left.n < min_leaf {
            continue;
        }
        let gain =
            parent - crit.mass(left.w, left.wy, left.wyy) - crit.mass(wsum - left.w, wy - left.wy, wyy - left.wyy);
        if best.is_none_or(|b| gain > b.0) {
            let mid = xv / 2.0 + next / 2.0;
            best = Some((gain, if mid >= next { xv } else { mid }));
        }
    }
    best
}

impl DecisionTree {
    /// Fits a tree on columns `x`, labels `y` in {0, 1}, optional weights.
    pub fn fit(
        names: &[String],
        x: &[&[f64]],
        y: &[f64],
        weights: Option<&[f64]>,
        params: &TreeParams,
    ) -> Result<Self> {
        let n = y.len();
        if n == 0 || x.is_empty() {
            return Err(Error::Internal("decision tree: no training rows or no features".into()));
        }
        if params.criterion == Criterion::SquaredError && params.ccp_alpha > 0.0 {
            return Err(Error::Internal(
                "regression tree: cost-complexity pruning is for Gini trees".into(),
            ));
        }
        let binned = BinnedMatrix::fit(x, params.max_bins);
        let ones;
        let w = match weights {
            Some(w) => w,
            None => {
                ones = crate::class_weights(y, params.balanced);
                &ones
            }
        };
        let rows: Vec<u32> = (0..n as u32).collect();
        let mut tree = DecisionTree {
            features: names.to_vec(),
            nodes: Vec::new(),
            importance: vec![0.0; binned.codes.len()],
            params: params.clone(),
        };
        tree.grow_seeded(&binned, params.exact.then_some(x), y, w, rows, 0, 0);
        tree.finish();
        Ok(tree)
    }

    /// Grows a tree on pre-binned features, on the given rows (rows of weight 0 are skipped by
    /// the caller), drawing `max_features` candidate features per split from `seed`. With
    /// `params.exact`, the splits are searched on the raw columns `raw` (the ones binned).
    #[allow(clippy::too_many_arguments)]
    pub fn fit_binned(
        names: &[String],
        binned: &BinnedMatrix,
        raw: &[&[f64]],
        y: &[f64],
        w: &[f64],
        rows: Vec<u32>,
        params: &TreeParams,
        seed: u64,
    ) -> DecisionTree {
        let mut tree = DecisionTree {
            features: names.to_vec(),
            nodes: Vec::new(),
            importance: vec![0.0; binned.codes.len()],
            params: params.clone(),
        };
        tree.grow_seeded(binned, params.exact.then_some(raw), y, w, rows, 0, seed);
        tree.finish();
        tree
    }

    /// After growing: pruning, when asked for, and importance normalised to sum to 1.
    fn finish(&mut self) {
        if self.params.ccp_alpha > 0.0 {
            self.prune(self.params.ccp_alpha);
        }
        let total: f64 = self.importance.iter().sum();
        if total > 0.0 {
            for v in &mut self.importance {
                *v /= total;
            }
        }
    }

    /// Minimal cost-complexity pruning (Breiman et al.): repeatedly turns into a leaf the
    /// internal node with the smallest `(R(node) - R(subtree)) / (leaves - 1)`, where `R` is
    /// the Gini impurity weighted by the node's share of rows, while that is at most `alpha`;
    /// then drops unreachable nodes and recomputes importance from the splits left.
    pub fn prune(&mut self, alpha: f64) {
        let total = self.nodes.first().map_or(1, |n| n.rows.max(1)) as f64;
        let risk = |n: &Node| n.rows as f64 / total * 2.0 * n.value * (1.0 - n.value);
        loop {
            // (subtree risk, leaves) of every node, children before parents.
            let mut sub = vec![(0.0, 0usize); self.nodes.len()];
            for i in (0..self.nodes.len()).rev() {
                let n = &self.nodes[i];
                sub[i] = match (n.left, n.right) {
                    (Some(l), Some(r)) => (sub[l].0 + sub[r].0, sub[l].1 + sub[r].1),
                    _ => (risk(n), 1),
                };
            }
            let mut weakest: Option<(f64, usize)> = None;
            let mut stack = vec![0usize];
            while let Some(i) = stack.pop() {
                let n = &self.nodes[i];
                if let (Some(l), Some(r)) = (n.left, n.right) {
                    let a = (risk(n) - sub[i].0) / (sub[i].1 as f64 - 1.0);
                    if weakest.is_none_or(|w| a < w.0 || (a == w.0 && i < w.1)) {
                        weakest = Some((a, i));
                    }
                    stack.push(r);
                    stack.push(l);
                }
            }
            match weakest {
                Some((a, i)) if a <= alpha => {
                    let n = &mut self.nodes[i];
                    n.feature = None;
                    n.threshold = None;
                    n.left = None;
                    n.right = None;
                    n.gain = 0.0;
                }
                _ => break,
            }
        }
        // Keep reachable nodes, renumbered depth-first.
        let mut map = vec![usize::MAX; self.nodes.len()];
        let mut order = Vec::new();
        let mut stack = vec![0usize];
        while let Some(i) = stack.pop() {
            map[i] = order.len();
            order.push(i);
            if let (Some(l), Some(r)) = (self.nodes[i].left, self.nodes[i].right) {
                stack.push(r);
                stack.push(l);
            }
        }
        let nodes: Vec<Node> = order
            .iter()
            .map(|&i| {
                let mut n = self.nodes[i].clone();
                n.left = n.left.map(|c| map[c]);
                n.right = n.right.map(|c| map[c]);
                n
            })
            .collect();
        self.nodes = nodes;
        self.importance.iter_mut().for_each(|v| *v = 0.0);
        for n in &self.nodes {
            if let Some(f) = n.feature {
                self.importance[f] += n.gain;
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn grow_seeded(
        &mut self,
        b: &BinnedMatrix,
        raw: Option<&[&[f64]]>,
        y: &[f64],
        w: &[f64],
        rows: Vec<u32>,
        depth: usize,
        seed: u64,
    ) -> usize {
        let crit = self.params.criterion;
        let sq = crit == Criterion::SquaredError;
        let (mut wsum, mut wy, mut wyy) = (0.0, 0.0, 0.0);
        for &r in &rows {
            let (wr, yr) = (w[r as usize], y[r as usize]);
            wsum += wr;
            wy += wr * yr;
            if sq {
                wyy += wr * yr * yr;
            }
        }
        let id = self.nodes.len();
        self.nodes.push(Node {
            feature: None,
            threshold: None,
            left: None,
            right: None,
            value: if wsum > 0.0 { wy / wsum } else { 0.0 },
            rows: rows.len() as u64,
            gain: 0.0,
            missing_left: false,
        });
        let p = &self.params;
        let parent = crit.mass(wsum, wy, wyy);
        let pure = match crit {
            Criterion::Gini => wy <= 0.0 || wy >= wsum,
            Criterion::SquaredError => parent <= 0.0,
        };
        if depth >= p.max_depth || rows.len() < 2 * p.min_samples_leaf.max(1) || pure {
            return id;
        }
        let min_leaf = p.min_samples_leaf.max(1) as u32;
        let candidates: Vec<usize> = match p.max_features {
            Some(m) if m < b.codes.len() => {
                // A fixed draw per node: the same seed and node give the same features.
                let mut rng = riskpipe_core::Rng::new(seed ^ (id as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
                let mut all: Vec<usize> = (0..b.codes.len()).collect();
                for k in 0..m.max(1) {
                    let j = k + rng.below((all.len() - k) as u64) as usize;
                    all.swap(k, j);
                }
                all.truncate(m.max(1));
                all.sort_unstable();
                all
            }
            _ => (0..b.codes.len()).collect(),
        };
        if let Some(x) = raw {
            let best = candidates
                .into_par_iter()
                .filter_map(|f| {
                    exact_split(x[f], y, w, &rows, (crit, parent, (wsum, wy, wyy)), min_leaf).map(|s| (f, s))
                })
                .collect::<Vec<(usize, (f64, f64))>>()
                .into_iter()
                .fold(None::<(usize, (f64, f64))>, |acc, c| match acc {
                    Some(a) if a.1.0 >= c.1.0 => Some(a),
                    _ => Some(c),
                });
            let Some((feature, (gain, threshold))) = best else {
                return id;
            };
            if (sq && gain <= 0.0) || gain / wsum.max(1e-300) < p.min_gain {
                return id;
            }
            let col = x[feature];
            let (l, r): (Vec<u32>, Vec<u32>) = rows.iter().partition(|&&r| col[r as usize] <= threshold);
            drop(rows);
            self.importance[feature] += gain;
            let left = self.grow_seeded(b, raw, y, w, l, depth + 1, seed);
            let right = self.grow_seeded(b, raw, y, w, r, depth + 1, seed);
            let node = &mut self.nodes[id];
            node.feature = Some(feature);
            node.threshold = Some(threshold);
            node.left = Some(left);
            node.right = Some(right);
            node.gain = gain;
            return id;
        }
        let best = candidates
            .into_par_iter()
            .map(|f| {
                let codes = &b.codes[f];
                let mut hist = vec![Bin::default(); b.edges[f].n_codes()];
                for &r in &rows {
                    hist[codes[r as usize] as usize].add(w[r as usize], y[r as usize], sq);
                }
                let mut left = Bin::default();
                let mut best: Option<Best> = None;
                for bin in 0..hist.len().saturating_sub(1) {
                    left.w += hist[bin].w;
                    left.wy += hist[bin].wy;
                    left.wyy += hist[bin].wyy;
                    left.n += hist[bin].n;
                    let right_n = rows.len() as u32 - left.n;
                    if left.n < min_leaf || right_n < min_leaf {
                        continue;
                    }
                    let gain = parent
                        - crit.mass(left.w, left.wy, left.wyy)
                        - crit.mass(wsum - left.w, wy - left.wy, wyy - left.wyy);
                    if best.as_ref().is_none_or(|bb| gain > bb.gain) {
                        best = Some(Best { feature: f, bin, gain });
                    }
                }
                best
            })
            .collect::<Vec<Option<Best>>>()
            .into_iter()
            .flatten()
            .fold(None::<Best>, |acc, c| match acc {
                Some(a) if a.gain >= c.gain => Some(a),
                _ => Some(c),
            });
        let Some(best) = best else { return id };
        if (sq && best.gain <= 0.0) || best.gain / wsum.max(1e-300) < p.min_gain {
            return id;
        }
        let codes = &b.codes[best.feature];
        let (l, r): (Vec<u32>, Vec<u32>) = rows.iter().partition(|&&r| (codes[r as usize] as usize) <= best.bin);
        drop(rows);
        self.importance[best.feature] += best.gain;
        let threshold = b.edges[best.feature].edges[best.bin];
        let left = self.grow_seeded(b, raw, y, w, l, depth + 1, seed);
        let right = self.grow_seeded(b, raw, y, w, r, depth + 1, seed);
        let node = &mut self.nodes[id];
        node.feature = Some(best.feature);
        node.threshold = Some(threshold);
        node.left = Some(left);
        node.right = Some(right);
        node.gain = best.gain;
        id
    }

    /// The leaf reached by one row (values in feature order).
    pub fn leaf(&self, row: &[f64]) -> usize {
        let mut i = 0;
        loop {
            let n = &self.nodes[i];
            match (n.feature, n.threshold, n.left, n.right) {
                (Some(f), Some(t), Some(l), Some(r)) => {
                    i = if row[f] <= t || (n.missing_left && row[f].is_nan()) {
                        l
                    } else {
                        r
                    }
                }
                _ => return i,
            }
        }
    }

    /// Fits a regression tree (squared error, leaf means) on columns `x`, real-valued targets
    /// `y` and optional weights.
    pub fn fit_regression(
        names: &[String],
        x: &[&[f64]],
        y: &[f64],
        weights: Option<&[f64]>,
        params: &RegressionTreeParams,
    ) -> Result<Self> {
        if let Some(i) = y.iter().position(|v| !v.is_finite()) {
            return Err(Error::Internal(format!(
                "regression tree: target of row {i} is not finite"
            )));
        }
        Self::fit(names, x, y, weights, &params.tree())
    }

    /// P(y = 1) per row for columns `x` (the leaf mean, for a regression tree).
    pub fn predict_proba(&self, x: &[&[f64]]) -> Vec<f64> {
        crate::predict_rows(x, |row| self.nodes[self.leaf(row)].value)
    }

    /// Number of leaves.
    pub fn leaves(&self) -> usize {
        self.nodes.iter().filter(|n| n.feature.is_none()).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use riskpipe_core::Rng;

    #[test]
    fn learns_a_threshold_and_is_deterministic() {
        let mut rng = Rng::new(5);
        let n = 20_000;
        let x1: Vec<f64> = (0..n).map(|_| rng.uniform()).collect();
        let x2: Vec<f64> = (0..n).map(|_| rng.uniform()).collect();
        let y: Vec<f64> = (0..n)
            .map(|i| {
                if rng.bernoulli(if x1[i] > 0.7 { 0.8 } else { 0.1 }) {
                    1.0
                } else {
                    0.0
                }
            })
            .collect();
        let names = vec!["a".to_string(), "b".to_string()];
        let params = TreeParams {
            max_depth: 3,
            min_samples_leaf: 100,
            ..Default::default()
        };
        let t = DecisionTree::fit(&names, &[&x1, &x2], &y, None, &params).unwrap();
        assert_eq!(t.nodes[0].feature, Some(0));
        assert!((t.nodes[0].threshold.unwrap() - 0.7).abs() < 0.01);
        assert!(t.importance[0] > 0.9);
        let p = t.predict_proba(&[&[0.9, 0.1], &[0.5, 0.5]]);
        assert!(p[0] > 0.7 && p[1] < 0.2);
        let again = DecisionTree::fit(&names, &[&x1, &x2], &y, None, &params).unwrap();
        assert_eq!(t, again);
        // min_samples_leaf holds.
        assert!(t.nodes.iter().all(|n| n.rows >= 100));
    }

    #[test]
    fn exact_splits_find_the_best_midpoint_that_bins_miss() {
        // 2,000 distinct values; the class changes between the 1,234th and 1,235th, off any
        // quantile edge of 255 bins. A missing value goes right.
        let x: Vec<f64> = (0..2000).map(|i| f64::from(i) * 1.5).chain([f64::NAN]).collect();
        let y: Vec<f64> = (0..2001).map(|i| f64::from(u8::from(i >= 1234))).collect();
        let names = vec!["a".to_string()];
        let exact = TreeParams {
            max_depth: 1,
            min_samples_leaf: 1,
            exact: true,
            ..Default::default()
        };
        let t = DecisionTree::fit(&names, &[&x], &y, None, &exact).unwrap();
        assert_eq!(t.nodes[0].threshold, Some((1233.0 * 1.5 + 1234.0 * 1.5) / 2.0));
        assert_eq!((t.nodes[1].rows, t.nodes[2].rows), (1234, 767));
        assert_eq!((t.nodes[1].value, t.nodes[2].value), (0.0, 1.0));
        // Brute force over every threshold agrees on the gain.
        let gini = |a: &[f64]| {
            let p = a.iter().sum::<f64>() / a.len() as f64;
            a.len() as f64 * 2.0 * p * (1.0 - p)
        };
        let best = (1..2000)
            .map(|k| gini(&y) - gini(&y[..k]) - gini(&y[k..]))
            .fold(f64::MIN, f64::max);
        assert!((t.nodes[0].gain - best).abs() < 1e-9, "{} {best}", t.nodes[0].gain);
        let hist = DecisionTree::fit(&names, &[&x], &y, None, &TreeParams { exact: false, ..exact }).unwrap();
        assert!(
            hist.nodes[0].gain < best - 1e-6,
            "the bins' edges miss the class change"
        );
    }

    #[test]
    fn cost_complexity_pruning_cuts_weak_subtrees_only() {
        let mut rng = Rng::new(3);
        let n = 4000;
        let x0: Vec<f64> = (0..n).map(|_| rng.uniform()).collect();
        let x1: Vec<f64> = (0..n).map(|_| rng.uniform()).collect();
        // A strong split on x0, noise elsewhere.
        let y: Vec<f64> = x0
            .iter()
            .map(|v| f64::from(u8::from(rng.bernoulli(if *v > 0.5 { 0.5 } else { 0.05 }))))
            .collect();
        let names = vec!["x0".to_string(), "x1".to_string()];
        let x: Vec<&[f64]> = vec![&x0, &x1];
        let fit = |ccp_alpha: f64| {
            DecisionTree::fit(
                &names,
                &x,
                &y,
                None,
                &TreeParams {
                    max_depth: 8,
                    min_samples_leaf: 20,
                    ccp_alpha,
                    ..TreeParams::default()
                },
            )
            .unwrap()
        };
        let full = fit(0.0);
        let light = fit(0.0005);
        let heavy = fit(1.0);
        assert!(
            full.leaves() > light.leaves() && light.leaves() >= 2,
            "{} {}",
            full.leaves(),
            light.leaves()
        );
        assert_eq!(heavy.leaves(), 1);
        // The strong split survives at the root, and pruned trees keep no unreachable node.
        assert_eq!(light.nodes[0].feature, Some(0));
        assert_eq!(light.nodes.len(), 2 * light.leaves() - 1);
        // On fresh rows from the same process, the pruned tree predicts at least as well.
        let t0: Vec<f64> = (0..n).map(|_| rng.uniform()).collect();
        let t1: Vec<f64> = (0..n).map(|_| rng.uniform()).collect();
        let ty: Vec<f64> = t0
            .iter()
            .map(|v| f64::from(u8::from(rng.bernoulli(if *v > 0.5 { 0.5 } else { 0.05 }))))
            .collect();
        let tx: Vec<&[f64]> = vec![&t0, &t1];
        let brier = |t: &DecisionTree| {
            let p = t.predict_proba(&tx);
            p.iter().zip(&ty).map(|(a, b)| (a - b) * (a - b)).sum::<f64>() / p.len() as f64
        };
        assert!(brier(&light) <= brier(&full), "{} {}", brier(&light), brier(&full));
    }

    #[test]
    fn weights_equal_duplication() {
        let x = [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0];
        let y = [0.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 1.0];
        let w = [1.0, 1.0, 3.0, 1.0, 1.0, 2.0, 1.0, 1.0];
        let names = vec!["x".to_string()];
        let params = TreeParams {
            max_depth: 3,
            min_samples_leaf: 1,
            ..Default::default()
        };
        let a = DecisionTree::fit(&names, &[&x], &y, Some(&w), &params).unwrap();
        let mut xd = Vec::new();
        let mut yd = Vec::new();
        for i in 0..x.len() {
            for _ in 0..w[i] as usize {
                xd.push(x[i]);
                yd.push(y[i]);
            }
        }
        let b = DecisionTree::fit(&names, &[&xd], &yd, None, &params).unwrap();
        let grid: Vec<f64> = (0..80).map(|i| f64::from(i) / 10.0).collect();
        let (pa, pb) = (a.predict_proba(&[&grid]), b.predict_proba(&[&grid]));
        // Same leaves' class frequencies (row counts differ by construction, probabilities do not).
        for (u, v) in pa.iter().zip(&pb) {
            assert!((u - v).abs() < 1e-12, "{pa:?} vs {pb:?}");
        }
    }

    #[test]
    fn a_regression_tree_recovers_a_step_function_with_leaf_means() {
        // y = 10 below x0 = 0.3, 25 between 0.3 and 0.8, 40 above, plus noise; x1 is noise.
        let mut rng = Rng::new(9);
        let n = 6000;
        let x0: Vec<f64> = (0..n).map(|_| rng.uniform()).collect();
        let x1: Vec<f64> = (0..n).map(|_| rng.uniform()).collect();
        let step = |v: f64| {
            if v < 0.3 {
                10.0
            } else if v < 0.8 {
                25.0
            } else {
                40.0
            }
        };
        let y: Vec<f64> = x0.iter().map(|v| step(*v) + rng.normal()).collect();
        let names = vec!["x0".to_string(), "x1".to_string()];
        let params = RegressionTreeParams {
            max_depth: 2,
            min_samples_leaf: 20,
            max_bins: 255,
        };
        let t = DecisionTree::fit_regression(&names, &[&x0, &x1], &y, None, &params).unwrap();
        assert_eq!(t.nodes[0].feature, Some(0));
        assert!(t.importance[0] > 0.99, "{:?}", t.importance);
        let grid = [0.1, 0.5, 0.95];
        let p = t.predict_proba(&[&grid, &[0.5, 0.5, 0.5]]);
        for (g, v) in grid.iter().zip(&p) {
            assert!((v - step(*g)).abs() < 0.2, "{g}: {v}");
        }
        // Leaves hold means: the rows-weighted mean of the leaves is the mean target.
        let mean = y.iter().sum::<f64>() / n as f64;
        let leaves: f64 = t
            .nodes
            .iter()
            .filter(|n| n.feature.is_none())
            .map(|l| l.value * l.rows as f64)
            .sum::<f64>()
            / n as f64;
        assert!((leaves - mean).abs() < 1e-9, "{leaves} {mean}");
        // Deterministic, and a Gini fit of the same rows is another tree.
        assert_eq!(
            t,
            DecisionTree::fit_regression(&names, &[&x0, &x1], &y, None, &params).unwrap()
        );
        assert_eq!(t.params.criterion, Criterion::SquaredError);
        // A target that is not finite is refused, not fitted.
        let mut bad = y.clone();
        bad[7] = f64::NAN;
        assert!(DecisionTree::fit_regression(&names, &[&x0, &x1], &bad, None, &params).is_err());
    }

    #[test]
    fn squared_error_stops_on_a_constant_target() {
        let x: Vec<f64> = (0..100).map(f64::from).collect();
        let y = vec![3.5; 100];
        let params = RegressionTreeParams {
            max_depth: 4,
            min_samples_leaf: 1,
            max_bins: 255,
        };
        let t = DecisionTree::fit_regression(&["x".to_string()], &[&x], &y, None, &params).unwrap();
        assert_eq!(t.nodes.len(), 1);
        assert_eq!(t.nodes[0].value, 3.5);
    }
}
