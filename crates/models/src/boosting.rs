//! Histogram gradient-boosted trees for binary log loss (or squared error): gradient/hessian
//! histograms over `u8` bins, leaf-wise or depth-wise growth, learning rate, L2 on leaves, min
//! child weight, row and column subsampling, early stopping on a validation split, missing
//! values learned per split, monotone constraints, class weights. Deterministic for a given
//! seed, whatever the thread count.
//!
//! Histograms are counted from a row-major copy of the bin codes: a leaf's rows are scattered
//! over the training set, and reading one row's codes for every feature costs one or two cache
//! lines where a column-by-column pass would fetch a line per feature.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::hist::BinnedMatrix;
use crate::tree::Node;
use riskpipe_core::{Error, Result, Rng};

/// Checked parameters of gradient boosting.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct BoostingParams {
    /// Boosting rounds at most.
    pub n_trees: usize,
    /// Shrinkage per tree.
    pub learning_rate: f64,
    /// Leaves per tree at most (leaf-wise growth).
    pub max_leaves: usize,
    /// Depth at most.
    pub max_depth: usize,
    /// Rows per leaf at least.
    pub min_samples_leaf: usize,
    /// Hessian sum per leaf at least.
    pub min_child_weight: f64,
    /// L2 penalty on leaf values.
    pub l2: f64,
    /// Share of rows drawn per round.
    pub subsample: f64,
    /// Share of features drawn per tree.
    pub colsample: f64,
    /// Share of training rows held out for early stopping (0: none).
    pub validation_fraction: f64,
    /// Stop after this many rounds without a better validation log loss.
    pub early_stopping_rounds: usize,
    /// Histogram bins per feature.
    pub max_bins: usize,
    /// Seed.
    pub seed: u64,
    /// Loss: `binary` log loss (default), `regression` (squared error, for amounts such as
    /// loss given default) or `cross_entropy` (a share in [0, 1], predictions in (0, 1)).
    #[serde(default)]
    pub objective: Objective,
    /// Weigh the classes equally in the loss (`class_weight: balanced`; binary objective).
    #[serde(default, skip_serializing_if = "crate::is_false")]
    pub balanced: bool,
    /// How trees grow: `leafwise` (default; split the leaf with the largest gain next) or
    /// `depthwise` (split every leaf of one depth before going deeper).
    #[serde(default, skip_serializing_if = "Growth::is_leafwise")]
    pub growth: Growth,
    /// Monotone constraints by feature name: `1` output never falls as the feature rises, `-1`
    /// never rises. Features not listed are free.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub monotone: std::collections::BTreeMap<String, i8>,
}

/// The order in which a boosted tree splits its leaves.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Growth {
    /// The leaf with the largest gain next, up to `max_leaves` (LightGBM's way).
    #[default]
    Leafwise,
    /// Level by level: every leaf of the shallowest open depth (in node order) before any
    /// deeper one, up to `max_depth` and `max_leaves` (XGBoost's default).
    Depthwise,
}

impl Growth {
    fn is_leafwise(&self) -> bool {
        *self == Growth::Leafwise
    }
}

/// The loss boosting minimises.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Objective {
    /// Binary log loss; outputs are log-odds.
    #[default]
    Binary,
    /// Squared error; outputs are the predicted amount.
    Regression,
    /// Cross-entropy on a target in [0, 1] (a share such as an LGD): the binary log loss with
    /// a fractional target; outputs are `sigmoid(margin)`, so predictions stay in (0, 1).
    CrossEntropy,
}

impl Objective {
    /// Whether the objective predicts an amount (a continuous target) rather than a PD.
    pub fn predicts_amount(self) -> bool {
        self != Objective::Binary
    }
}

impl Default for BoostingParams {
    fn default() -> Self {
        BoostingParams {
            n_trees: 300,
            learning_rate: 0.05,
            max_leaves: 31,
            max_depth: 12,
            min_samples_leaf: 20,
            min_child_weight: 1e-3,
            l2: 1.0,
            subsample: 0.8,
            colsample: 0.8,
            validation_fraction: 0.1,
            early_stopping_rounds: 30,
            max_bins: 255,
            seed: 42,
            objective: Objective::Binary,
            growth: Growth::Leafwise,
            balanced: false,
            monotone: std::collections::BTreeMap::new(),
        }
    }
}

/// A fitted boosted model: P(y = 1) = sigmoid(base + sum of tree outputs).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct GradientBoosting {
    /// Feature names.
    pub features: Vec<String>,
    /// Initial log-odds.
    pub base: f64,
    /// Trees; a leaf's `value` is its (shrunk) output.
    pub trees: Vec<Vec<Node>>,
    /// Total gain per feature, normalised.
    pub importance_gain: Vec<f64>,
    /// Splits per feature.
    pub importance_split: Vec<u64>,
    /// Validation log loss per round, when early stopping was on.
    pub validation_log_loss: Vec<f64>,
    /// The parameters used.
    pub params: BoostingParams,
    /// The trees flattened for prediction (built on first use).
    #[serde(skip)]
    pub(crate) flat: crate::flat::FlatCache,
}

#[derive(Clone, Copy, Default)]
struct GH {
    g: f64,
    h: f64,
    n: u32,
}

struct Split {
    /// Position in the candidate features (and the leaf's histograms).
    k: usize,
    feature: usize,
    /// Codes `<= bin` go left; -1: no value goes left (only missing values, when they do).
    bin: i32,
    gain: f64,
    /// The children's (unshrunk) outputs, within the leaf's bounds.
    outputs: (f64, f64),
    /// Missing values (the top code) go left.
    missing_left: bool,
}

/// A split as binned traversal reads it: feature, bin, missing values left, the missing code.
#[derive(Clone, Copy, Default)]
struct BinSplit {
    feature: usize,
    bin: i32,
    missing_left: bool,
    missing_code: u8,
}

impl BinSplit {
    fn left(&self, code: u8) -> bool {
        (i32::from(code) <= self.bin) | (self.missing_left & (code == self.missing_code))
    }
}

struct Leaf {
    node: usize,
    rows: Vec<u32>,
    depth: usize,
    hists: Vec<GH>,
    split: Option<Split>,
    /// Bounds on the leaf's output from monotone splits above it.
    bounds: (f64, f64),
}

/// Rows per independently seeded chunk of the row subsample.
const SUBSAMPLE_CHUNK: usize = 65_536;

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

fn leaf_value(g: f64, h: f64, l2: f64) -> f64 {
    -g / (h + l2)
}

/// Where each candidate feature's histogram sits in a leaf's flat histogram: feature `feats[k]`
/// has its `n_codes` entries at `offsets[k]..offsets[k + 1]`.
struct Layout {
    feats: Vec<usize>,
    offsets: Vec<usize>,
}

impl Layout {
    fn new(b: &BinnedMatrix, feats: &[usize]) -> Layout {
        let mut offsets = vec![0];
        for &f in feats {
            offsets.push(offsets[offsets.len() - 1] + b.edges[f].n_codes());
        }
        Layout {
            feats: feats.to_vec(),
            offsets,
        }
    }

    fn len(&self) -> usize {
        self.offsets[self.offsets.len() - 1]
    }

    /// Candidate `k`'s histogram within a flat one.
    fn of<'a>(&self, hist: &'a [GH], k: usize) -> &'a [GH] {
        &hist[self.offsets[k]..self.offsets[k + 1]]
    }
}

/// The bin codes row by row (`stride` codes per row), so that one row's codes for every
/// feature share a cache line or two.
struct RowCodes {
    codes: Vec<u8>,
    stride: usize,
}

impl RowCodes {
    fn new(b: &BinnedMatrix) -> RowCodes {
        let stride = b.codes.len();
        let mut codes = vec![0u8; b.rows * stride];
        codes.par_chunks_mut(stride * 4096).enumerate().for_each(|(c, block)| {
            let lo = c * 4096;
            for (i, row) in block.chunks_mut(stride).enumerate() {
                for (f, col) in b.codes.iter().enumerate() {
                    row[f] = col[lo + i];
                }
            }
        });
        RowCodes { codes, stride }
    }
}

/// Counts `rows` into `hist`, the flat histograms of candidates `ks` (which start at
/// `lay.offsets[ks.start]`). For each batch of rows, one byte at each end of every row's codes is
/// read first (those cache misses overlap instead of queueing one row at a time) and the
/// gradients are copied to a small buffer; then every candidate feature's bin of each row is
/// counted.
fn count_rows(rc: &RowCodes, lay: &Layout, ks: std::ops::Range<usize>, rows: &[u32], gh: &[[f64; 2]], hist: &mut [GH]) {
    const BATCH: usize = 64;
    let stride = rc.stride;
    let base = lay.offsets[ks.start];
    let (feats, offsets) = (&lay.feats[ks.clone()], &lay.offsets[ks]);
    let mut gb = [[0.0f64; 2]; BATCH];
    for batch in rows.chunks(BATCH) {
        let mut touch = 0u8;
        for (j, &r) in batch.iter().enumerate() {
            let r = r as usize;
            touch ^= rc.codes[r * stride] ^ rc.codes[r * stride + stride - 1];
            gb[j] = gh[r];
        }
        std::hint::black_box(touch);
        for (&r, &[g, h]) in batch.iter().zip(&gb) {
            let row = &rc.codes[r as usize * stride..(r as usize + 1) * stride];
            for (&f, &o) in feats.iter().zip(offsets) {
                let e = &mut hist[o - base + row[f] as usize];
                e.g += g;
                e.h += h;
                e.n += 1;
            }
        }
    }
}

/// Gradient/hessian histograms of `rows` (flat, in `lay` order), read row by row. Large leaves
/// are cut into fixed row chunks counted in parallel and added in chunk order; small ones are
/// cut by feature instead, half the candidates each. Either way the sums do not depend on the
/// thread count.
fn build_hist(rc: &RowCodes, lay: &Layout, rows: &[u32], gh: &[[f64; 2]]) -> Vec<GH> {
    const MIN_CHUNK: usize = 8192;
    let nk = lay.feats.len();
    let mut hist = vec![GH::default(); lay.len()];
    if rows.len() < 2 * MIN_CHUNK {
        if nk < 2 {
            count_rows(rc, lay, 0..nk, rows, gh, &mut hist);
        } else {
            let mid = nk / 2;
            let (a, b) = hist.split_at_mut(lay.offsets[mid]);
            rayon::join(
                || count_rows(rc, lay, 0..mid, rows, gh, a),
                || count_rows(rc, lay, mid..nk, rows, gh, b),
            );
        }
        return hist;
    }
    let chunk = rows.len().div_ceil(16).max(MIN_CHUNK);
    let parts: Vec<Vec<GH>> = rows
        .par_chunks(chunk)
        .map(|rs| {
            let mut part = vec![GH::default(); lay.len()];
            count_rows(rc, lay, 0..nk, rs, gh, &mut part);
            part
        })
        .collect();
    for part in &parts {
        for (a, b) in hist.iter_mut().zip(part) {
            a.g += b.g;
            a.h += b.h;
            a.n += b.n;
        }
    }
    hist
}

/// Splits `rows` (ascending) into those `split` sends left and the rest, both still ascending.
/// Branch-free: each row is written at the front (left) and the back (right) end of one buffer,
/// and only the matching end advances. Large leaves are cut into chunks split in parallel and
/// joined in order.
fn partition(rows: &[u32], codes: &[u8], split: BinSplit) -> (Vec<u32>, Vec<u32>) {
    const CHUNK: usize = 1 << 16;
    let mut goes_left = [0usize; 256];
    for (c, l) in goes_left.iter_mut().enumerate() {
        *l = usize::from(split.left(c as u8));
    }
    let part = |rs: &[u32]| -> (Vec<u32>, Vec<u32>) {
        let n = rs.len();
        let mut out = vec![0u32; n];
        let (mut nl, mut nr) = (0usize, 0usize);
        for &x in rs {
            let left = goes_left[codes[x as usize] as usize];
            // nl + nr rows placed so far, so the back slot is at or past the front one.
            out[nl] = x;
            out[n - 1 - nr] = x;
            nl += left;
            nr += 1 - left;
        }
        let mut r = out.split_off(nl);
        r.reverse();
        (out, r)
    };
    if rows.len() <= 2 * CHUNK {
        return part(rows);
    }
    let parts: Vec<(Vec<u32>, Vec<u32>)> = rows.par_chunks(CHUNK).map(part).collect();
    let (nl, nr) = parts.iter().fold((0, 0), |a, p| (a.0 + p.0.len(), a.1 + p.1.len()));
    let (mut l, mut r) = (Vec::with_capacity(nl), Vec::with_capacity(nr));
    for (pl, pr) in parts {
        l.extend_from_slice(&pl);
        r.extend_from_slice(&pr);
    }
    (l, r)
}

/// The sibling's histograms: parent minus child (the subtraction trick).
fn subtract(parent: &[GH], child: &[GH]) -> Vec<GH> {
    parent
        .iter()
        .zip(child)
        .map(|(a, b)| GH {
            g: a.g - b.g,
            h: a.h - b.h,
            n: a.n - b.n,
        })
        .collect()
}

/// Loss reduction of giving output `w` to a leaf with sums `g`, `h` (twice the drop in the
/// second-order loss; `g^2 / (h + l2)` at the optimum `w = -g / (h + l2)`).
fn gain_at(g: f64, h: f64, l2: f64, w: f64) -> f64 {
    -(2.0 * g * w + (h + l2) * w * w)
}

/// The best split of a leaf with sums `g`, `h` over `n` rows, whose output must stay within
/// `bounds`; `mono[k]` is the monotone direction of candidate feature `k`.
#[allow(clippy::too_many_arguments)]
fn best_split(
    hists: &[GH],
    lay: &Layout,
    mono: &[i8],
    n: u32,
    g: f64,
    h: f64,
    bounds: (f64, f64),
    p: &BoostingParams,
) -> Option<Split> {
    let clamp = |w: f64| w.clamp(bounds.0, bounds.1);
    let bounded = bounds.0 > f64::NEG_INFINITY || bounds.1 < f64::INFINITY;
    let parent = gain_at(g, h, p.l2, clamp(leaf_value(g, h, p.l2)));
    let min_leaf = p.min_samples_leaf.max(1) as u32;
    let mut best: Option<Split> = None;
    for (k, &feature) in lay.feats.iter().enumerate() {
        let hist = lay.of(hists, k);
        let constrained = bounded || mono[k] != 0;
        // The top code holds the missing values. Scan once with them on the right, and, when
        // there are any, once with them on the left (starting with "only missing left").
        let miss = hist.last().copied().unwrap_or_default();
        let last = hist.len().saturating_sub(1);
        for missing_left in [false, true] {
            if missing_left && miss.n == 0 {
                continue;
            }
            let mut left = if missing_left { miss } else { GH::default() };
            let first: i32 = if missing_left { -1 } else { 0 };
            for bin in first..last as i32 {
                if bin >= 0 {
                    let e = hist[bin as usize];
                    left.g += e.g;
                    left.h += e.h;
                    left.n += e.n;
                }
                let rn = n - left.n;
                if left.n < min_leaf || rn < min_leaf || left.h < p.min_child_weight || h - left.h < p.min_child_weight
                {
                    continue;
                }
                let (rg, rh) = (g - left.g, h - left.h);
                let gain = if constrained {
                    let (wl, wr) = (clamp(leaf_value(left.g, left.h, p.l2)), clamp(leaf_value(rg, rh, p.l2)));
                    if (mono[k] > 0 && wl > wr) || (mono[k] < 0 && wl < wr) {
                        continue;
                    }
                    gain_at(left.g, left.h, p.l2, wl) + gain_at(rg, rh, p.l2, wr) - parent
                } else {
                    // Unconstrained: the optimal outputs' gain in closed form.
                    left.g * left.g / (left.h + p.l2) + rg * rg / (rh + p.l2) - parent
                };
                if gain > 1e-12 && best.as_ref().is_none_or(|s| gain > s.gain) {
                    best = Some(Split {
                        k,
                        feature,
                        bin,
                        gain,
                        outputs: (clamp(leaf_value(left.g, left.h, p.l2)), clamp(leaf_value(rg, rh, p.l2))),
                        missing_left,
                    });
                }
            }
        }
    }
    best
}

/// A tree's outputs for `rows`, walking the binned codes: rows advance one level per step in
/// blocks (independent paths overlap), branch-free; leaves point to themselves.
fn outputs_binned(nodes: &[Node], bins: &[BinSplit], rc: &RowCodes, rows: &[u32]) -> Vec<f64> {
    const BLOCK: usize = 128;
    let children: Vec<[u32; 2]> = nodes
        .iter()
        .enumerate()
        .map(|(i, n)| match (n.left, n.right) {
            (Some(l), Some(r)) => [l as u32, r as u32],
            _ => [i as u32, i as u32],
        })
        .collect();
    // Depth: the longest root-to-leaf path.
    let mut depth = 0;
    let mut stack = vec![(0usize, 0usize)];
    while let Some((i, d)) = stack.pop() {
        depth = depth.max(d);
        if children[i][0] as usize != i {
            stack.push((children[i][0] as usize, d + 1));
            stack.push((children[i][1] as usize, d + 1));
        }
    }
    let mut out = vec![0.0; rows.len()];
    out.par_chunks_mut(BLOCK * 16)
        .zip(rows.par_chunks(BLOCK * 16))
        .for_each(|(o, rs)| {
            let mut at = [0u32; BLOCK];
            for (ob, rb) in o.chunks_mut(BLOCK).zip(rs.chunks(BLOCK)) {
                let m = rb.len();
                at[..m].fill(0);
                for _ in 0..depth {
                    for k in 0..m {
                        let i = at[k] as usize;
                        let s = &bins[i];
                        let left = s.left(rc.codes[rb[k] as usize * rc.stride + s.feature]);
                        at[k] = children[i][usize::from(!left)];
                    }
                }
                for k in 0..m {
                    ob[k] = nodes[at[k] as usize].value;
                }
            }
        });
    out
}

impl GradientBoosting {
    /// Fits on columns `x`, labels `y` in {0, 1}.
    pub fn fit(names: &[String], x: &[&[f64]], y: &[f64], params: &BoostingParams) -> Result<Self> {
        Self::fit_weighted(names, x, y, None, params)
    }

    /// Fits with a weight per row (at least 0, not all 0): each row's gradient and hessian,
    /// the starting value and the validation loss count it by its weight.
    pub fn fit_weighted(
        names: &[String],
        x: &[&[f64]],
        y: &[f64],
        weights: Option<&[f64]>,
        params: &BoostingParams,
    ) -> Result<Self> {
        let n = y.len();
        if n == 0 || x.is_empty() || params.n_trees == 0 {
            return Err(Error::Internal(
                "gradient boosting: no rows, no features or no trees".into(),
            ));
        }
        crate::check_weights("gradient boosting", weights, n)?;
        let sw = |r: usize| weights.map_or(1.0, |w| w[r]);
        let binned = BinnedMatrix::fit(x, params.max_bins);
        let p = params;
        // Validation rows for early stopping, stratified and seeded.
        let is_val: Vec<bool> = if p.validation_fraction > 0.0 && p.early_stopping_rounds > 0 {
            riskpipe_core::split::stratified_holdout(
                y,
                p.validation_fraction,
                &mut Rng::derive(p.seed, "gbdt.validation"),
            )
        } else {
            vec![false; n]
        };
        let train_rows: Vec<u32> = (0..n as u32).filter(|&r| !is_val[r as usize]).collect();
        let val_rows: Vec<usize> = (0..n).filter(|&r| is_val[r]).collect();
        // Class weights (1 unless `balanced`, binary only), from the training rows.
        let balanced = p.balanced && p.objective == Objective::Binary;
        let cw: [f64; 2] = if balanced {
            crate::balanced_pair(train_rows.iter().map(|&r| y[r as usize]))
        } else {
            [1.0, 1.0]
        };
        let mean = if balanced {
            // Both classes weigh half, so the weighted event rate is one half.
            0.5
        } else {
            let total: f64 = train_rows.iter().map(|&r| sw(r as usize)).sum();
            train_rows.iter().map(|&r| sw(r as usize) * y[r as usize]).sum::<f64>() / total.max(f64::MIN_POSITIVE)
        };
        let base = match p.objective {
            Objective::Binary | Objective::CrossEntropy => {
                (mean.clamp(1e-6, 1.0 - 1e-6) / (1.0 - mean.clamp(1e-6, 1.0 - 1e-6))).ln()
            }
            Objective::Regression => mean,
        };
        let mono_all: Vec<i8> = names.iter().map(|n| p.monotone.get(n).copied().unwrap_or(0)).collect();
        if let Some(bad) = p.monotone.keys().find(|k| !names.contains(k)) {
            return Err(Error::Internal(format!(
                "gradient boosting: monotone constraint on `{bad}`, which is not a feature"
            )));
        }
        let mut margin = vec![base; n];
        // Gradient and hessian of each row side by side: one load brings both.
        let mut gh = vec![[0.0f64; 2]; n];
        let row_codes = RowCodes::new(&binned);
        let mut trees: Vec<Vec<Node>> = Vec::new();
        let mut gain_imp = vec![0.0; x.len()];
        let mut split_imp = vec![0u64; x.len()];
        let mut val_loss = Vec::new();
        let (mut best_loss, mut best_round) = (f64::INFINITY, 0usize);
        for round in 0..p.n_trees {
            // Gradients of every row (validation rows' are never read), in parallel.
            gradients(&mut gh, &margin, y, p.objective, cw, weights);
            let mut rng = Rng::derive(p.seed, &format!("gbdt.round.{round}"));
            // Row subsample: each chunk of rows draws from its own seed stream, so chunks run
            // in parallel and the draw does not depend on thread timing. The rows left out, and
            // the validation rows, get their outputs through the tree afterwards.
            let (rows, mut rest) = subsample(&train_rows, p, round);
            rest.extend(val_rows.iter().map(|&r| r as u32));
            let mut feats: Vec<usize> = (0..x.len()).collect();
            if p.colsample < 1.0 {
                rng.shuffle(&mut feats);
                feats.truncate(((x.len() as f64 * p.colsample).round() as usize).max(1));
                feats.sort_unstable();
            }
            let mono: Vec<i8> = feats.iter().map(|&f| mono_all[f]).collect();
            let (nodes, bins, leaf_rows) = self_grow(
                &binned,
                &row_codes,
                &Layout::new(&binned, &feats),
                &mono,
                rows,
                &gh,
                p,
                &mut gain_imp,
                &mut split_imp,
            );
            // Update margins: rows the tree was grown on from their leaves, the others (rows
            // left out by the subsample, validation rows) through the tree.
            // Each row gets one addition, so cutting the rows into ranges changes no bits.
            const RANGE: usize = 1 << 16;
            margin.par_chunks_mut(RANGE).enumerate().for_each(|(c, m)| {
                let (lo, hi) = ((c * RANGE) as u32, (c * RANGE + m.len()) as u32);
                for (node, rs) in &leaf_rows {
                    let v = nodes[*node].value;
                    let (a, b) = (rs.partition_point(|&r| r < lo), rs.partition_point(|&r| r < hi));
                    for &r in &rs[a..b] {
                        m[(r - lo) as usize] += v;
                    }
                }
            });
            let outs = outputs_binned(&nodes, &bins, &row_codes, &rest);
            for (&r, v) in rest.iter().zip(outs) {
                margin[r as usize] += v;
            }
            trees.push(nodes);
            if !val_rows.is_empty() {
                // Per-chunk sums added in chunk order: the same bits on any thread count.
                let loss = validation_loss(&val_rows, &margin, y, p.objective, weights);
                val_loss.push(loss);
                if loss < best_loss - 1e-12 {
                    best_loss = loss;
                    best_round = round;
                } else if round - best_round >= p.early_stopping_rounds {
                    break;
                }
            } else {
                best_round = round;
            }
        }
        trees.truncate(best_round + 1);
        let total: f64 = gain_imp.iter().sum();
        if total > 0.0 {
            for v in &mut gain_imp {
                *v /= total;
            }
        }
        Ok(GradientBoosting {
            features: names.to_vec(),
            base,
            trees,
            importance_gain: gain_imp,
            importance_split: split_imp,
            validation_log_loss: val_loss,
            params: p.clone(),
            flat: Default::default(),
        })
    }

    /// P(y = 1) per row.
    pub fn predict_proba(&self, x: &[&[f64]]) -> Vec<f64> {
        self.predict_raw(x).into_iter().map(sigmoid).collect()
    }

    /// The model's raw output per row: log-odds for `binary`, the predicted amount for
    /// `regression`.
    pub fn predict_raw(&self, x: &[&[f64]]) -> Vec<f64> {
        self.flat
            .get(|| crate::flat::Flat::new(&self.trees, self.features.len()))
            .sums(x)
            .into_iter()
            .map(|s| self.base + s)
            .collect()
    }
}

/// Gradient and hessian of every row's loss at its margin (validation rows' are never read), in
/// parallel; `cw` weighs the classes of a binary target.
fn gradients(gh: &mut [[f64; 2]], margin: &[f64], y: &[f64], objective: Objective, cw: [f64; 2], sw: Option<&[f64]>) {
    gh.par_iter_mut()
        .zip(margin.par_iter().zip(y.par_iter()))
        .enumerate()
        .with_min_len(8192)
        .for_each(|(r, (e, (m, t)))| {
            *e = match objective {
                Objective::Binary => {
                    let q = sigmoid(*m);
                    let w = cw[usize::from(*t > 0.5)];
                    [w * (q - t), w * (q * (1.0 - q)).max(1e-16)]
                }
                Objective::CrossEntropy => {
                    let q = sigmoid(*m);
                    [q - t, (q * (1.0 - q)).max(1e-16)]
                }
                Objective::Regression => [m - t, 1.0],
            };
            if let Some(w) = sw {
                // A zero weight keeps a tiny hessian, so a leaf of such rows stays defined.
                *e = [w[r] * e[0], (w[r] * e[1]).max(1e-16)];
            }
        });
}

/// Round `round`'s row subsample: (rows the tree grows on, rows left out). Each chunk of rows
/// draws from its own seed stream, so chunks run in parallel and the draw does not depend on
/// thread timing.
fn subsample(train_rows: &[u32], p: &BoostingParams, round: usize) -> (Vec<u32>, Vec<u32>) {
    if p.subsample >= 1.0 {
        return (train_rows.to_vec(), Vec::new());
    }
    let parts: Vec<(Vec<u32>, Vec<u32>)> = train_rows
        .par_chunks(SUBSAMPLE_CHUNK)
        .enumerate()
        .map(|(k, chunk)| {
            let mut r = Rng::derive(p.seed, &format!("gbdt.round.{round}.rows.{k}"));
            chunk.iter().partition(|_| r.uniform() < p.subsample)
        })
        .collect();
    let (kept, left_out): (Vec<Vec<u32>>, Vec<Vec<u32>>) = parts.into_iter().unzip();
    (kept.concat(), left_out.concat())
}

/// Mean loss of the validation rows at their margins: per-chunk sums added in chunk order, the
/// same bits on any thread count.
fn validation_loss(val_rows: &[usize], margin: &[f64], y: &[f64], objective: Objective, sw: Option<&[f64]>) -> f64 {
    let w = |r: usize| sw.map_or(1.0, |w| w[r]);
    let total: f64 = val_rows.iter().map(|&r| w(r)).sum();
    val_rows
        .par_chunks(8192)
        .map(|c| {
            c.iter()
                .map(|&r| {
                    w(r) * match objective {
                        Objective::Binary | Objective::CrossEntropy => {
                            let q = sigmoid(margin[r]).clamp(1e-15, 1.0 - 1e-15);
                            -(y[r] * q.ln() + (1.0 - y[r]) * (1.0 - q).ln())
                        }
                        Objective::Regression => (margin[r] - y[r]) * (margin[r] - y[r]),
                    }
                })
                .sum::<f64>()
        })
        .collect::<Vec<f64>>()
        .iter()
        .sum::<f64>()
        / total.max(f64::MIN_POSITIVE)
}

/// Grows one tree leaf-wise: always split the leaf with the largest gain. Returns the nodes, each
/// node's split as (feature, bin) for fast binned prediction, and each leaf's rows.
fn self_grow(
    b: &BinnedMatrix,
    rc: &RowCodes,
    lay: &Layout,
    mono: &[i8],
    rows: Vec<u32>,
    gh: &[[f64; 2]],
    p: &BoostingParams,
    gain_imp: &mut [f64],
    split_imp: &mut [u64],
) -> (Vec<Node>, Vec<BinSplit>, Vec<(usize, Vec<u32>)>) {
    let hists = build_hist(rc, lay, &rows, gh);
    // The root's sums from its first histogram (every row falls in one of its bins).
    let (g, h) = lay.of(&hists, 0).iter().fold((0.0, 0.0), |a, e| (a.0 + e.g, a.1 + e.h));
    let leaf_node = |value: f64, rows: u64| Node {
        feature: None,
        threshold: None,
        left: None,
        right: None,
        value,
        rows,
        gain: 0.0,
        missing_left: false,
    };
    let free = (f64::NEG_INFINITY, f64::INFINITY);
    let mut nodes = vec![leaf_node(p.learning_rate * leaf_value(g, h, p.l2), rows.len() as u64)];
    let mut bins = vec![BinSplit::default()];
    let split = if p.max_depth > 0 {
        best_split(&hists, lay, mono, rows.len() as u32, g, h, free, p)
    } else {
        None
    };
    let mut leaves = vec![Leaf {
        node: 0,
        rows,
        depth: 0,
        hists,
        split,
        bounds: free,
    }];
    let mut n_leaves = 1;
    while n_leaves < p.max_leaves.max(2) {
        // Leaf-wise: the leaf with the best split; depth-wise: the shallowest leaf with a split.
        // Ties: the earliest node (leaves are kept in node order).
        let open = leaves
            .iter()
            .enumerate()
            .filter_map(|(i, l)| l.split.as_ref().map(|s| (i, s.gain, l.depth)));
        let chosen = match p.growth {
            Growth::Leafwise => open.fold(None, |acc: Option<(usize, f64, usize)>, c| match acc {
                Some(a) if a.1 >= c.1 => Some(a),
                _ => Some(c),
            }),
            Growth::Depthwise => open.fold(None, |acc: Option<(usize, f64, usize)>, c| match acc {
                Some(a) if a.2 <= c.2 => Some(a),
                _ => Some(c),
            }),
        };
        let Some((li, _, _)) = chosen else {
            break;
        };
        let leaf = leaves.swap_remove(li);
        let s = leaf.split.expect("chosen leaf has a split");
        let codes = &b.codes[s.feature];
        let hist = lay.of(&leaf.hists, s.k);
        let miss_code = (hist.len() - 1) as u8;
        let split = BinSplit {
            feature: s.feature,
            bin: s.bin,
            missing_left: s.missing_left,
            missing_code: miss_code,
        };
        // Child sums from the parent's histogram of the split feature (no pass over rows).

        let in_left = |c: usize| split.left(c as u8);
        let (lg, lh) = hist
            .iter()
            .enumerate()
            .filter(|(c, _)| in_left(*c))
            .fold((0.0, 0.0), |a, (_, e)| (a.0 + e.g, a.1 + e.h));
        let (lr, rr) = partition(&leaf.rows, codes, split);
        let (pg, ph) = hist.iter().fold((0.0, 0.0), |a, e| (a.0 + e.g, a.1 + e.h));
        let (rg, rh) = (pg - lg, ph - lh);
        gain_imp[s.feature] += s.gain;
        split_imp[s.feature] += 1;
        let (li_node, ri_node) = (nodes.len(), nodes.len() + 1);
        // Children's outputs as the split chose them (within bounds), and their own bounds: a
        // monotone split caps the low side and floors the high side at the middle.
        let (wl, wr) = s.outputs;
        let mid = 0.5 * (wl + wr);
        let (lb, rb) = match mono[s.k] {
            1 => ((leaf.bounds.0, mid), (mid, leaf.bounds.1)),
            -1 => ((mid, leaf.bounds.1), (leaf.bounds.0, mid)),
            _ => (leaf.bounds, leaf.bounds),
        };
        nodes.push(leaf_node(p.learning_rate * wl, lr.len() as u64));
        nodes.push(leaf_node(p.learning_rate * wr, rr.len() as u64));
        bins.push(BinSplit::default());
        bins.push(BinSplit::default());
        bins[leaf.node] = split;
        let parent = &mut nodes[leaf.node];
        parent.feature = Some(s.feature);
        // Bin -1 (only missing values go left): no value is at most f64::MIN in practice.
        parent.threshold = Some(if s.bin < 0 {
            f64::MIN
        } else {
            b.edges[s.feature].edges[s.bin as usize]
        });
        parent.missing_left = s.missing_left;
        parent.left = Some(li_node);
        parent.right = Some(ri_node);
        parent.gain = s.gain;
        let depth = leaf.depth + 1;
        // Histograms: build the smaller child, subtract for the larger.
        let (lh_hist, rh_hist) = if lr.len() <= rr.len() {
            let small = build_hist(rc, lay, &lr, gh);
            let large = subtract(&leaf.hists, &small);
            (small, large)
        } else {
            let small = build_hist(rc, lay, &rr, gh);
            let large = subtract(&leaf.hists, &small);
            (large, small)
        };
        for (node, rows, g, h, hists, bounds) in
            [(li_node, lr, lg, lh, lh_hist, lb), (ri_node, rr, rg, rh, rh_hist, rb)]
        {
            let split = if depth < p.max_depth {
                best_split(&hists, lay, mono, rows.len() as u32, g, h, bounds, p)
            } else {
                None
            };
            leaves.push(Leaf {
                node,
                rows,
                depth,
                hists,
                split,
                bounds,
            });
        }
        // Keep leaves in node order so ties break the same way on every run.
        leaves.sort_by_key(|l| l.node);
        n_leaves += 1;
    }
    (nodes, bins, leaves.into_iter().map(|l| (l.node, l.rows)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depthwise_growth_fills_each_level_before_the_next() {
        let mut rng = Rng::new(21);
        let n = 6000;
        let cols: Vec<Vec<f64>> = (0..4).map(|_| (0..n).map(|_| rng.uniform()).collect()).collect();
        let y: Vec<f64> = (0..n)
            .map(|i| {
                let z = 3.0 * cols[0][i] - 2.0 * cols[1][i] + (6.0 * cols[2][i]).sin() + cols[3][i];
                f64::from(u8::from(rng.bernoulli(1.0 / (1.0 + (2.0 - z).exp()))))
            })
            .collect();
        let names: Vec<String> = (0..4).map(|j| format!("x{j}")).collect();
        let x: Vec<&[f64]> = cols.iter().map(|c| c.as_slice()).collect();
        let fit = |growth, max_depth, max_leaves| {
            GradientBoosting::fit(
                &names,
                &x,
                &y,
                &BoostingParams {
                    n_trees: 10,
                    growth,
                    max_depth,
                    max_leaves,
                    early_stopping_rounds: 0,
                    validation_fraction: 0.0,
                    ..Default::default()
                },
            )
            .unwrap()
        };
        // Depth of every node, from the root.
        let depths = |t: &[Node]| {
            let mut d = vec![0usize; t.len()];
            for i in 0..t.len() {
                if let (Some(l), Some(r)) = (t[i].left, t[i].right) {
                    d[l] = d[i] + 1;
                    d[r] = d[i] + 1;
                }
            }
            d
        };
        let deep = fit(Growth::Depthwise, 3, 64);
        for t in &deep.trees {
            let d = depths(t);
            // Nodes are created level by level, and no leaf is deeper than 3.
            assert!(d.windows(2).all(|w| w[0] <= w[1]), "{d:?}");
            assert!(d.iter().all(|&v| v <= 3));
        }
        // A full third level: 8 leaves at depth 3 in the first tree.
        let t0 = &deep.trees[0];
        let d0 = depths(t0);
        let leaves: Vec<usize> = (0..t0.len()).filter(|&i| t0[i].left.is_none()).collect();
        assert_eq!(leaves.len(), 8);
        assert!(leaves.iter().all(|&i| d0[i] == 3));
        // Leaf-wise growth with the same leaf budget goes deeper on some branch.
        let wide = fit(Growth::Leafwise, 12, 8);
        assert!(wide.trees.iter().any(|t| depths(t).iter().any(|&v| v > 3)));
        // Depth-wise with a leaf cap stops mid-level, shallowest leaves first.
        let capped = fit(Growth::Depthwise, 3, 5);
        assert!(
            capped
                .trees
                .iter()
                .all(|t| t.iter().filter(|n| n.left.is_none()).count() <= 5)
        );
    }

    #[test]
    fn histograms_and_partitions_equal_direct_counts() {
        // Every path: a small leaf (split by feature), a large one (row chunks added in order),
        // a single candidate; features with few codes and with many; missing values.
        let mut rng = Rng::new(5);
        let n = 40_000;
        let cols: Vec<Vec<f64>> = (0..5)
            .map(|j| {
                (0..n)
                    .map(|_| match j {
                        0 => (rng.uniform() * 3.0).floor(),
                        1 if rng.bernoulli(0.1) => f64::NAN,
                        _ => rng.uniform(),
                    })
                    .collect()
            })
            .collect();
        let x: Vec<&[f64]> = cols.iter().map(|c| c.as_slice()).collect();
        let b = BinnedMatrix::fit(&x, 255);
        let rc = RowCodes::new(&b);
        let gh: Vec<[f64; 2]> = (0..n).map(|_| [rng.uniform() - 0.5, rng.uniform()]).collect();
        for (feats, keep) in [(vec![0, 1, 3, 4], 0.05), (vec![0, 1, 2, 3, 4], 0.9), (vec![2], 0.5)] {
            let rows: Vec<u32> = (0..n as u32).filter(|_| rng.uniform() < keep).collect();
            let lay = Layout::new(&b, &feats);
            let hist = build_hist(&rc, &lay, &rows, &gh);
            for (k, &f) in feats.iter().enumerate() {
                let mut want = vec![GH::default(); b.edges[f].n_codes()];
                for &r in &rows {
                    let e = &mut want[b.codes[f][r as usize] as usize];
                    e.g += gh[r as usize][0];
                    e.h += gh[r as usize][1];
                    e.n += 1;
                }
                for (got, want) in lay.of(&hist, k).iter().zip(&want) {
                    assert_eq!(got.n, want.n);
                    assert!((got.g - want.g).abs() < 1e-9 && (got.h - want.h).abs() < 1e-9);
                }
            }
            for split in [
                BinSplit {
                    feature: 1,
                    bin: 100,
                    missing_left: true,
                    missing_code: b.edges[1].edges.len() as u8,
                },
                BinSplit {
                    feature: 0,
                    bin: 0,
                    missing_left: false,
                    missing_code: 3,
                },
            ] {
                let (l, r) = partition(&rows, &b.codes[split.feature], split);
                let want: (Vec<u32>, Vec<u32>) = rows
                    .iter()
                    .partition(|&&x| split.left(b.codes[split.feature][x as usize]));
                assert_eq!((l, r), want);
            }
        }
    }

    #[test]
    fn missing_values_learn_their_own_side() {
        let mut rng = Rng::new(8);
        let n = 8000;
        // Missing values are the riskiest; sending them right (with the high values) would
        // blur them with a middling group.
        let x0: Vec<f64> = (0..n)
            .map(|_| if rng.bernoulli(0.2) { f64::NAN } else { rng.uniform() })
            .collect();
        let x1: Vec<f64> = (0..n).map(|_| rng.uniform()).collect();
        let y: Vec<f64> = x0
            .iter()
            .map(|v| {
                let p = if v.is_nan() {
                    0.6
                } else if *v <= 0.5 {
                    0.05
                } else {
                    0.3
                };
                f64::from(u8::from(rng.bernoulli(p)))
            })
            .collect();
        let names = vec!["x0".to_string(), "x1".to_string()];
        let x: Vec<&[f64]> = vec![&x0, &x1];
        let m = GradientBoosting::fit(
            &names,
            &x,
            &y,
            &BoostingParams {
                n_trees: 60,
                learning_rate: 0.2,
                max_leaves: 4,
                ..Default::default()
            },
        )
        .unwrap();
        assert!(
            m.trees.iter().flatten().any(|n| n.missing_left),
            "no split sends missing values left"
        );
        let p = m.predict_proba(&x);
        let mean = |f: &dyn Fn(f64) -> bool| {
            let v: Vec<f64> = (0..n).filter(|&i| f(x0[i])).map(|i| p[i]).collect();
            v.iter().sum::<f64>() / v.len() as f64
        };
        let (nan, low, high) = (mean(&|v| v.is_nan()), mean(&|v| v <= 0.5), mean(&|v| v > 0.5));
        assert!(nan > high + 0.15 && high > low + 0.15, "{nan} {high} {low}");
        // The flattened scorer, the node walker and TreeSHAP agree on rows with missing values.
        let walk: Vec<f64> = (0..n)
            .map(|i| {
                let row = [x0[i], x1[i]];
                let mut z = m.base;
                for t in &m.trees {
                    let mut j = 0;
                    while let (Some(f), Some(th), Some(l), Some(r)) =
                        (t[j].feature, t[j].threshold, t[j].left, t[j].right)
                    {
                        j = if row[f] <= th || (t[j].missing_left && row[f].is_nan()) {
                            l
                        } else {
                            r
                        };
                    }
                    z += t[j].value;
                }
                z
            })
            .collect();
        let raw = m.predict_raw(&x);
        assert!(raw.iter().zip(&walk).all(|(a, b)| (a - b).abs() < 1e-12));
        let (phi, e) = crate::Model::Boosting(m.clone()).contributions(&x).unwrap();
        for i in (0..n).step_by(50) {
            assert!((phi[i].iter().sum::<f64>() + e - raw[i]).abs() < 1e-9);
        }
        let json = serde_json::to_string(&m).unwrap();
        assert_eq!(serde_json::from_str::<GradientBoosting>(&json).unwrap(), m);
    }

    #[test]
    fn monotone_constraints_hold_everywhere_and_regression_fits_amounts() {
        let mut rng = Rng::new(4);
        let n = 6000;
        let cols: Vec<Vec<f64>> = (0..3).map(|_| (0..n).map(|_| rng.uniform()).collect()).collect();
        // Risk rises with x0 overall but dips in the middle; x1 matters too.
        let y: Vec<f64> = (0..n)
            .map(|i| {
                let x0 = cols[0][i];
                let z = 3.0 * x0 - 2.0 * (-(x0 - 0.5) * (x0 - 0.5) * 40.0).exp() + 1.5 * cols[1][i] - 2.5;
                f64::from(u8::from(rng.bernoulli(1.0 / (1.0 + (-z).exp()))))
            })
            .collect();
        let names: Vec<String> = (0..3).map(|i| format!("x{i}")).collect();
        let x: Vec<&[f64]> = cols.iter().map(Vec::as_slice).collect();
        let mut params = BoostingParams {
            n_trees: 80,
            learning_rate: 0.1,
            max_leaves: 8,
            ..Default::default()
        };
        params.monotone.insert("x0".into(), 1);
        params.monotone.insert("x1".into(), -1);
        let m = GradientBoosting::fit(&names, &x, &y, &params).unwrap();
        // Along a grid of x0 (x1) with the other features fixed, the output never falls (rises).
        let grid: Vec<f64> = (0..=100).map(|k| f64::from(k) / 100.0).collect();
        for base in 0..20 {
            let fixed: Vec<f64> = (0..3).map(|j| cols[j][base * 97]).collect();
            for (j, dir) in [(0usize, 1.0), (1, -1.0)] {
                let cols_g: Vec<Vec<f64>> = (0..3)
                    .map(|c| {
                        if c == j {
                            grid.clone()
                        } else {
                            vec![fixed[c]; grid.len()]
                        }
                    })
                    .collect();
                let xs: Vec<&[f64]> = cols_g.iter().map(Vec::as_slice).collect();
                let out = m.predict_raw(&xs);
                assert!(out.windows(2).all(|w| dir * (w[1] - w[0]) >= -1e-12), "feature {j}");
            }
        }
        assert!(GradientBoosting::fit(&names, &x, &y, &params).unwrap() == m);
        let mut bad = params.clone();
        bad.monotone.insert("nope".into(), 1);
        assert!(GradientBoosting::fit(&names, &x, &y, &bad).is_err());
        // Squared error: an amount that depends on x0 and x2.
        let amount: Vec<f64> = (0..n)
            .map(|i| 100.0 * cols[0][i] + 50.0 * (cols[2][i] > 0.5) as u8 as f64)
            .collect();
        let reg = GradientBoosting::fit(
            &names,
            &x,
            &amount,
            &BoostingParams {
                n_trees: 200,
                learning_rate: 0.1,
                objective: Objective::Regression,
                ..Default::default()
            },
        )
        .unwrap();
        let pred = reg.predict_raw(&x);
        let mean = amount.iter().sum::<f64>() / n as f64;
        let ss_tot: f64 = amount.iter().map(|a| (a - mean) * (a - mean)).sum();
        let ss_res: f64 = amount.iter().zip(&pred).map(|(a, p)| (a - p) * (a - p)).sum();
        assert!(1.0 - ss_res / ss_tot > 0.98, "R2 {}", 1.0 - ss_res / ss_tot);
        // Cross-entropy on a share in [0, 1] with a mass at 0 and 1, as LGDs have: predictions
        // stay inside (0, 1), track the share's mean by x0, and beat the constant's log loss.
        let share: Vec<f64> = (0..n)
            .map(|i| match (cols[0][i], cols[1][i]) {
                (a, b) if b < 0.2 => f64::from(u8::from(a > 0.5)),
                (a, _) => 0.2 + 0.6 * a,
            })
            .collect();
        let ce = BoostingParams {
            n_trees: 150,
            learning_rate: 0.1,
            objective: Objective::CrossEntropy,
            ..Default::default()
        };
        let m = GradientBoosting::fit(&names, &x, &share, &ce).unwrap();
        let pred = m.predict_proba(&x);
        assert!(pred.iter().all(|p| *p > 0.0 && *p < 1.0));
        let loss = |p: &[f64]| -> f64 {
            share
                .iter()
                .zip(p)
                .map(|(y, q)| -(y * q.ln() + (1.0 - y) * (1.0 - q).ln()))
                .sum::<f64>()
                / n as f64
        };
        let mean = share.iter().sum::<f64>() / n as f64;
        assert!(
            loss(&pred) < loss(&vec![mean; n]) - 0.05,
            "{} vs {}",
            loss(&pred),
            loss(&vec![mean; n])
        );
        let (lo, hi): (Vec<usize>, Vec<usize>) = (0..n).partition(|&i| cols[0][i] < 0.5);
        let avg = |rows: &[usize]| rows.iter().map(|&i| pred[i]).sum::<f64>() / rows.len() as f64;
        assert!(avg(&hi) > avg(&lo) + 0.2, "{} vs {}", avg(&hi), avg(&lo));
        assert_eq!(GradientBoosting::fit(&names, &x, &share, &ce).unwrap(), m);
    }

    #[test]
    fn boosting_learns_an_interaction_and_is_deterministic() {
        let mut rng = Rng::new(21);
        let n = 8000;
        let cols: Vec<Vec<f64>> = (0..5).map(|_| (0..n).map(|_| rng.uniform()).collect()).collect();
        let y: Vec<f64> = (0..n)
            .map(|i| {
                let z = 4.0 * (cols[0][i] - 0.5) * (cols[1][i] - 0.5) * 4.0 + 1.5 * cols[2][i] - 1.0;
                if rng.bernoulli(1.0 / (1.0 + (-z).exp())) {
                    1.0
                } else {
                    0.0
                }
            })
            .collect();
        let names: Vec<String> = (0..5).map(|i| format!("x{i}")).collect();
        let x: Vec<&[f64]> = cols.iter().map(Vec::as_slice).collect();
        let params = BoostingParams {
            n_trees: 120,
            learning_rate: 0.1,
            max_leaves: 8,
            ..Default::default()
        };
        let m = GradientBoosting::fit(&names, &x, &y, &params).unwrap();
        let again = GradientBoosting::fit(&names, &x, &y, &params).unwrap();
        assert_eq!(m, again);
        let p = m.predict_proba(&x);
        let mut idx: Vec<usize> = (0..n).collect();
        idx.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
        // The interaction is learned: x0 and x1 carry the most gain, the noise features little.
        assert!(m.importance_gain[0] > m.importance_gain[3] && m.importance_gain[1] > m.importance_gain[4]);
        assert!(
            m.trees.len() >= 10
                && m.trees
                    .iter()
                    .all(|t| t.iter().filter(|n| n.feature.is_none()).count() <= 8)
        );
        assert!(!m.validation_log_loss.is_empty());
        // Better than the base rate: the training log loss falls below that of a constant.
        let rate = y.iter().sum::<f64>() / n as f64;
        let ll = |q: &[f64]| {
            y.iter()
                .zip(q)
                .map(|(a, b)| -(a * b.ln() + (1.0 - a) * (1.0 - b).ln()))
                .sum::<f64>()
                / n as f64
        };
        assert!(ll(&p) < ll(&vec![rate; n]) - 0.05);
    }
}
