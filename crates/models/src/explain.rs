//! Exact TreeSHAP leaf by leaf: the same Shapley values as the path walk of [`crate::shap`],
//! with each tree's paths prepared once per model and no recursion per row.
//!
//! Under path-dependent TreeSHAP a leaf with value `v` reached through the unique features `P`
//! (each with `z_j`, the product of the cover shares of its splits on the path, and `o_j`, 1 when
//! the row satisfies all of them) adds `v · ∏_{j∈S} o_j · ∏_{j∈P∖S} z_j` to the value of a
//! coalition `S`. The Shapley weights `s! (n-s-1)! / n!` are the integrals
//! `∫₀¹ tˢ (1-t)^(n-1-s) dt`, so the leaf gives feature `i`
//!
//! `φ_i = v (o_i - z_i) ∫₀¹ ∏_{j≠i} (z_j + (o_j - z_j) t) dt`,
//!
//! a polynomial of degree `|P| - 1` that `⌈|P|/2⌉` Gauss-Legendre points integrate exactly (the
//! polynomial view of Linear TreeSHAP, Yu et al. 2022). A row first walks every split of every
//! tree once, without a branch on the row, to find each leaf's `o` bits as a mask; then the
//! leaves, grouped across trees by their number of path features, take prefix and suffix
//! products of their factors at the points: no division, no branch on the row's bits. A group
//! of up to [`SHORT_PATH`] features runs code made for its length (`⌈n/2⌉` points side by side,
//! loops unrolled, products in registers), so a row's leaves run as a few long straight loops
//! instead of a branch per node and a loop of a different length per leaf. A tree with a path of
//! more than [`MAX_PATH`] unique features, or a child stored before its parent, uses the path
//! walk.

use crate::shap::{self, Walk};
use crate::tree::Node;

/// Longest path (in unique features) the leaf form takes: the bits of a mask.
pub const MAX_PATH: usize = 32;

/// Leaves of up to this many unique path features (most of them) run code made for their length.
pub const SHORT_PATH: usize = 8;

/// Rows from which [`Explainer::contributions`] runs in parallel.
pub const PARALLEL_ROWS: usize = 16;

/// A split as the row's mask walk reads it: `node`, `left` and `right` index the masks of all
/// the model's nodes.
#[derive(Clone, Copy)]
struct Split {
    threshold: f64,
    /// The value read in the row's [`Scratch::wide`] copy: `2 · feature`, plus 1 when a
    /// missing value goes right.
    column: u32,
    /// The bit of the split's feature among the unique features of the path to it.
    bit: u32,
    node: u32,
    left: u32,
    right: u32,
}

/// The leaves with `n` unique path features, across trees.
struct Group {
    n: usize,
    /// Per leaf: the index of its mask.
    mask: Vec<u32>,
    value: Vec<f64>,
    /// Per leaf, `n` of them: the path features.
    feature: Vec<u32>,
    /// Per leaf, `n` of them: `z`, the product of the feature's cover shares on the path.
    z: Vec<f64>,
}

/// Exact per-row contributions of a tree ensemble, prepared once for many rows: the sum of
/// the trees' Shapley values times `scale`, and the expected value `offset + scale · Σ E[tree]`.
pub struct Explainer {
    /// Every leaf-form tree's splits, each tree's in an order that sets a mask before reading it.
    splits: Vec<Split>,
    /// The roots' masks (all bits set before a row's walk).
    roots: Vec<u32>,
    /// Masks per row: one per node of the leaf-form trees.
    nodes: usize,
    /// The leaves by path length, shortest first (empty groups left out).
    groups: Vec<Group>,
    /// Trees the leaf form does not take.
    walks: Vec<Vec<Node>>,
    scale: f64,
    expected: f64,
    /// `points[n]`: the Gauss-Legendre points and weights that integrate a leaf of `n` path
    /// features exactly.
    points: Vec<Vec<(f64, f64)>>,
}

impl Explainer {
    /// Prepares `trees` (summed, then multiplied by `scale`, after `offset`).
    pub fn new(trees: &[&[Node]], scale: f64, offset: f64) -> Explainer {
        let mut e = Explainer {
            splits: Vec::new(),
            roots: Vec::new(),
            nodes: 0,
            groups: (0..=MAX_PATH)
                .map(|n| Group {
                    n,
                    mask: Vec::new(),
                    value: Vec::new(),
                    feature: Vec::new(),
                    z: Vec::new(),
                })
                .collect(),
            walks: Vec::new(),
            scale,
            expected: offset + scale * trees.iter().map(|t| shap::expected_value(t)).sum::<f64>(),
            points: (0..=MAX_PATH).map(|n| gauss_legendre(n.div_ceil(2))).collect(),
        };
        for t in trees {
            if !e.take(t) {
                e.walks.push(t.to_vec());
            }
        }
        // A path of no feature (a tree that is one leaf) adds nothing to any feature.
        e.groups.retain(|g| g.n > 0 && !g.value.is_empty());
        e
    }

    /// Adds a tree to the leaf form, or returns false (and adds nothing) when a path has more
    /// than [`MAX_PATH`] unique features, a child is stored before its parent or an index does
    /// not fit.
    fn take(&mut self, nodes: &[Node]) -> bool {
        let Some((splits, leaves)) = tree_paths(nodes) else {
            return false;
        };
        // Every node index, this tree's last included, must fit a u32.
        if u32::try_from(self.nodes + nodes.len()).is_err() {
            return false;
        }
        let offset = self.nodes as u32;
        self.roots.push(offset);
        self.splits.extend(splits.into_iter().map(|s| Split {
            node: s.node + offset,
            left: s.left + offset,
            right: s.right + offset,
            ..s
        }));
        for (node, value, path) in leaves {
            let g = &mut self.groups[path.len()];
            g.mask.push(node + offset);
            g.value.push(value);
            g.feature.extend(path.iter().map(|p| p.0));
            g.z.extend(path.iter().map(|p| p.1));
        }
        self.nodes += nodes.len();
        true
    }

    /// The expected value: contributions plus it give the model's raw output.
    pub fn expected_value(&self) -> f64 {
        self.expected
    }

    /// How many trees use the leaf form (the others use the path walk).
    pub fn leaf_form_trees(&self) -> usize {
        self.roots.len()
    }

    /// Contributions of one row `x` (one value per feature) written into `phi`.
    pub fn row(&self, scratch: &mut Scratch, x: &[f64], phi: &mut [f64]) {
        phi.fill(0.0);
        let Scratch { masks, wide, walk } = scratch;
        wide.clear();
        wide.extend(x.iter().flat_map(|&v| crate::flat::both_ways(v)));
        masks.resize(self.nodes, 0);
        for &r in &self.roots {
            masks[r as usize] = u32::MAX;
        }
        for s in &self.splits {
            let m = masks[s.node as usize];
            // All ones when the row goes right (`v > threshold`: the difference is negative;
            // thresholds are finite, so it is never NaN), by arithmetic: a branch here would be
            // mispredicted on half the splits.
            let right = ((s.threshold - wide[s.column as usize]).to_bits() as i64 >> 63) as u32;
            // The side the row takes keeps the bit; the other clears it.
            masks[s.left as usize] = m & !(s.bit & right);
            masks[s.right as usize] = m & !(s.bit & !right);
        }
        for g in &self.groups {
            let p = &self.points[g.n];
            match g.n {
                1 => g.add_short::<1, 1>(p, masks, phi),
                2 => g.add_short::<2, 1>(p, masks, phi),
                3 => g.add_short::<3, 2>(p, masks, phi),
                4 => g.add_short::<4, 2>(p, masks, phi),
                5 => g.add_short::<5, 3>(p, masks, phi),
                6 => g.add_short::<6, 3>(p, masks, phi),
                7 => g.add_short::<7, 4>(p, masks, phi),
                8 => g.add_short::<8, 4>(p, masks, phi),
                _ => g.add_long(p, masks, phi),
            }
        }
        for nodes in &self.walks {
            shap::tree_shap_with(walk, nodes, x, phi);
        }
        phi.iter_mut().for_each(|v| *v *= self.scale);
    }

    /// Contributions of every row of the columns `x` (in parallel from [`PARALLEL_ROWS`] rows on).
    pub fn contributions(&self, x: &[&[f64]]) -> Vec<Vec<f64>> {
        use rayon::prelude::*;
        let nf = x.len();
        let n = x.first().map_or(0, |c| c.len());
        let one = |scratch: &mut Scratch, i: usize| {
            let row: Vec<f64> = x.iter().map(|c| c[i]).collect();
            let mut phi = vec![0.0; nf];
            self.row(scratch, &row, &mut phi);
            phi
        };
        // A service's single rows stay on the calling thread: handing them to the pool (or
        // splitting a row's trees over two threads) cost more than they saved when measured.
        if n < PARALLEL_ROWS {
            thread_local! {
                // Kept per thread: a fresh one would zero a mask per node on every request.
                static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::new(Scratch::default());
            }
            return SCRATCH.with_borrow_mut(|scratch| (0..n).map(|i| one(scratch, i)).collect());
        }
        (0..n)
            .into_par_iter()
            .with_min_len(PARALLEL_ROWS / 2)
            .map_init(Scratch::default, one)
            .collect()
    }
}

impl std::fmt::Debug for Explainer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Explainer")
            .field("trees", &(self.roots.len() + self.walks.len()))
            .field("leaf_form_trees", &self.roots.len())
            .field("expected", &self.expected)
            .finish()
    }
}

/// A row's scratch space, reused across rows.
#[derive(Default)]
pub struct Scratch {
    masks: Vec<u32>,
    /// The row as the splits read it (see [`Split::column`]).
    wide: Vec<f64>,
    walk: Walk,
}

/// A leaf of [`tree_paths`]: its node, value and unique path features with their `z`.
type PathLeaf = (u32, f64, Vec<(u32, f64)>);

/// A tree's splits (node indices local to the tree, level by level, so a mask is written well
/// before it is read) and its leaves, or `None` when a path has more than [`MAX_PATH`] unique
/// features, a threshold is not finite or a child is stored before its parent.
fn tree_paths(nodes: &[Node]) -> Option<(Vec<Split>, Vec<PathLeaf>)> {
    if nodes.is_empty() {
        return None;
    }
    let (mut splits, mut leaves) = (Vec::new(), Vec::new());
    // From the root: the path's unique features in order of first appearance, so a split's bit
    // is the same for every leaf below it.
    let mut queue: std::collections::VecDeque<(usize, Vec<(u32, f64)>)> = [(0, Vec::new())].into();
    while let Some((j, path)) = queue.pop_front() {
        let n = &nodes[j];
        let (f, threshold, l, r) = match (n.feature, n.threshold, n.left, n.right) {
            (None, ..) => {
                if path.len() > MAX_PATH {
                    return None;
                }
                leaves.push((u32::try_from(j).ok()?, n.value, path));
                continue;
            }
            (Some(f), Some(th), Some(l), Some(r))
                if th.is_finite() && l > j && r > j && l < nodes.len() && r < nodes.len() =>
            {
                (u32::try_from(f).ok()?, th, l, r)
            }
            _ => return None,
        };
        let pos = path.iter().position(|p| p.0 == f).unwrap_or(path.len());
        if pos >= MAX_PATH {
            // Every leaf below has more than MAX_PATH unique features.
            return None;
        }
        splits.push(Split {
            threshold,
            column: f.checked_mul(2)? + u32::from(!n.missing_left),
            bit: 1u32 << pos,
            node: u32::try_from(j).ok()?,
            left: u32::try_from(l).ok()?,
            right: u32::try_from(r).ok()?,
        });
        let cover = n.rows.max(1) as f64;
        for child in [l, r] {
            let mut p = path.clone();
            let share = nodes[child].rows as f64 / cover;
            match p.get_mut(pos) {
                Some(e) => e.1 *= share,
                None => p.push((f, share)),
            }
            queue.push_back((child, p));
        }
    }
    Some((splits, leaves))
}

impl Group {
    /// Adds the group's leaves for a row with leaf masks `masks` to `phi`: `N` path features,
    /// `P = ⌈N/2⌉` points side by side (see the module's formula). The products leaving out
    /// one factor come from prefix and suffix products.
    fn add_short<const N: usize, const P: usize>(&self, points: &[(f64, f64)], masks: &[u32], phi: &mut [f64]) {
        let (t, w) = side_by_side::<P>(points);
        let leaves = self.mask.iter().zip(&self.value);
        for ((&m, &v), (feature, z)) in leaves.zip(self.feature.chunks_exact(N).zip(self.z.chunks_exact(N))) {
            let mask = masks[m as usize];
            let mut slope = [0.0; N];
            let mut factor = [[0.0; P]; N];
            for i in 0..N {
                slope[i] = f64::from((mask >> i) & 1) - z[i];
                factor[i] = lanes(|q| z[i] + slope[i] * t[q]);
            }
            // suffix[i]: the weights times the factors after i.
            let mut suffix = [w; N];
            for i in (0..N - 1).rev() {
                suffix[i] = lanes(|q| suffix[i + 1][q] * factor[i + 1][q]);
            }
            let mut prefix = [1.0; P];
            for i in 0..N {
                let both: f64 = (0..P).map(|q| prefix[q] * suffix[i][q]).sum();
                phi[feature[i] as usize] += v * slope[i] * both;
                prefix = lanes(|q| prefix[q] * factor[i][q]);
            }
        }
    }

    /// [`Group::add_short`] for paths longer than [`SHORT_PATH`]: one point at a time.
    fn add_long(&self, points: &[(f64, f64)], masks: &[u32], phi: &mut [f64]) {
        let n = self.n;
        let leaves = self.mask.iter().zip(&self.value);
        for ((&m, &v), (feature, z)) in leaves.zip(self.feature.chunks_exact(n).zip(self.z.chunks_exact(n))) {
            leaf_values(points, v, masks[m as usize], feature, z, phi);
        }
    }
}

/// One leaf's Shapley values added to `phi` (see the module's formula): `mask` has bit `i` set
/// when the row satisfies the path's conditions on `feature[i]`. The products leaving out one
/// factor come from prefix and suffix products.
fn leaf_values(points: &[(f64, f64)], v: f64, mask: u32, feature: &[u32], z: &[f64], phi: &mut [f64]) {
    let n = feature.len();
    let mut slope = [0.0; MAX_PATH];
    for (i, (s, &zi)) in slope.iter_mut().zip(z).enumerate() {
        *s = f64::from((mask >> i) & 1) - zi;
    }
    let mut acc = [0.0; MAX_PATH];
    let mut suffix = [0.0; MAX_PATH + 1];
    for &(t, w) in points {
        suffix[n] = w;
        for i in (0..n).rev() {
            suffix[i] = suffix[i + 1] * (z[i] + slope[i] * t);
        }
        let mut prefix = 1.0;
        for i in 0..n {
            acc[i] += prefix * suffix[i + 1];
            prefix *= z[i] + slope[i] * t;
        }
    }
    for i in 0..n {
        phi[feature[i] as usize] += v * slope[i] * acc[i];
    }
}

/// Lanes computed by `f`, in a form the compiler turns into vector instructions.
#[inline(always)]
fn lanes<const P: usize>(f: impl Fn(usize) -> f64) -> [f64; P] {
    std::array::from_fn(f)
}

/// Points `(t, w)` as two arrays of `L` lanes (missing points weigh 0).
fn side_by_side<const L: usize>(points: &[(f64, f64)]) -> ([f64; L], [f64; L]) {
    let mut out = ([0.0; L], [0.0; L]);
    for (k, &(t, w)) in points.iter().enumerate().take(L) {
        out.0[k] = t;
        out.1[k] = w;
    }
    out
}

/// Gauss-Legendre nodes and weights on [0, 1] for `q` points: exact for polynomials of degree
/// up to `2q - 1` (Newton's method on the Legendre polynomial from the usual starting guesses).
fn gauss_legendre(q: usize) -> Vec<(f64, f64)> {
    (0..q)
        .map(|i| {
            let mut x = (std::f64::consts::PI * (i as f64 + 0.75) / (q as f64 + 0.5)).cos();
            let mut dp = 1.0;
            for _ in 0..100 {
                // P_q(x) and its derivative by the three-term recurrence.
                let (mut p0, mut p1) = (1.0, x);
                for k in 2..=q {
                    let p2 = ((2 * k - 1) as f64 * x * p1 - (k - 1) as f64 * p0) / k as f64;
                    p0 = p1;
                    p1 = p2;
                }
                // p1 is P_q and p0 is P_{q-1} (for q = 1 the loop is empty: x and 1).
                dp = q as f64 * (x * p1 - p0) / (x * x - 1.0);
                let dx = p1 / dp;
                x -= dx;
                if dx.abs() < 1e-16 {
                    break;
                }
            }
            let w = 2.0 / ((1.0 - x * x) * dp * dp);
            // From [-1, 1] to [0, 1].
            ((1.0 - x) / 2.0, w / 2.0)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A random tree of `leaves` leaves over `nf` features, grown leaf by leaf, children after
    /// their parents (as the tree builders store them).
    fn random_tree(rng: &mut riskpipe_core::Rng, leaves: usize, nf: usize) -> Vec<Node> {
        let leaf = |rows: u64, value: f64| Node {
            feature: None,
            threshold: None,
            missing_left: false,
            left: None,
            right: None,
            value,
            rows,
            gain: 0.0,
        };
        let mut nodes = vec![leaf(1000, 0.0)];
        while nodes.iter().filter(|n| n.feature.is_none()).count() < leaves {
            let open: Vec<usize> = (0..nodes.len())
                .filter(|&j| nodes[j].feature.is_none() && nodes[j].rows >= 4)
                .collect();
            let Some(&j) = open.get((rng.uniform() * open.len() as f64) as usize) else {
                break;
            };
            let rows = nodes[j].rows;
            let left_rows = 1 + (rng.uniform() * (rows - 2) as f64) as u64;
            let l = nodes.len();
            nodes.push(leaf(left_rows, rng.uniform() * 2.0 - 1.0));
            nodes.push(leaf(rows - left_rows, rng.uniform() * 2.0 - 1.0));
            let n = &mut nodes[j];
            n.feature = Some((rng.uniform() * nf as f64) as usize);
            n.threshold = Some(rng.uniform());
            n.missing_left = rng.uniform() < 0.5;
            n.left = Some(l);
            n.right = Some(l + 1);
        }
        nodes
    }

    #[test]
    fn the_leaf_form_gives_the_path_walks_values_on_random_trees_and_rows() {
        let mut rng = riskpipe_core::Rng::new(11);
        for (leaves, nf) in [(1, 3), (2, 1), (8, 3), (31, 6), (31, 20), (64, 5)] {
            let trees: Vec<Vec<Node>> = (0..5).map(|_| random_tree(&mut rng, leaves, nf)).collect();
            let refs: Vec<&[Node]> = trees.iter().map(Vec::as_slice).collect();
            let explainer = Explainer::new(&refs, 0.5, 0.25);
            assert_eq!(explainer.leaf_form_trees(), 5, "{leaves} leaves over {nf} features");
            let mut scratch = Scratch::default();
            for r in 0..200 {
                // Missing values on every 7th row, infinite ones on every 11th.
                let x: Vec<f64> = (0..nf)
                    .map(|j| match (r % 7, r % 11) {
                        (0, _) => f64::NAN,
                        (_, 0) if j % 2 == 0 => f64::INFINITY,
                        (_, 0) => f64::NEG_INFINITY,
                        _ => rng.uniform(),
                    })
                    .collect();
                let mut fast = vec![0.0; nf];
                explainer.row(&mut scratch, &x, &mut fast);
                let mut walk = vec![0.0; nf];
                for t in &refs {
                    shap::tree_shap(t, &x, &mut walk);
                }
                for (a, b) in fast.iter().zip(&walk) {
                    assert!((a - b * 0.5).abs() < 1e-12, "{fast:?} vs {walk:?}");
                }
            }
        }
    }

    #[test]
    fn a_path_past_the_limit_uses_the_walk_and_agrees() {
        let mut rng = riskpipe_core::Rng::new(3);
        // A chain of 40 splits on 40 features: split d at 2d, its leaf at 2d + 1.
        let depth = 40;
        let node = |feature: Option<usize>, children: Option<(usize, usize)>, value: f64, rows: u64| Node {
            feature,
            threshold: feature.map(|_| 0.5),
            missing_left: false,
            left: children.map(|c| c.0),
            right: children.map(|c| c.1),
            value,
            rows,
            gain: 0.0,
        };
        let mut chain: Vec<Node> = Vec::new();
        for d in 0..depth {
            chain.push(node(
                Some(d),
                Some((2 * d + 1, 2 * d + 2)),
                0.0,
                2 * (depth - d) as u64 + 2,
            ));
            chain.push(node(None, None, d as f64, 1));
        }
        chain.push(node(None, None, -3.0, 2));
        for limit in [MAX_PATH, 20] {
            let cut: Vec<Node> = if limit == MAX_PATH {
                chain.clone()
            } else {
                // The same chain stopped at 20 splits takes the leaf form.
                let mut c = chain[..2 * limit].to_vec();
                c.push(node(None, None, -3.0, 2));
                c
            };
            // Alone, and between two leaf-form trees (whose masks sit before and after it).
            let short = random_tree(&mut rng, 31, depth);
            for trees in [vec![cut.as_slice()], vec![&short, &cut, &short]] {
                let explainer = Explainer::new(&trees, 1.0, 0.0);
                let walked = usize::from(limit == MAX_PATH);
                assert_eq!(explainer.leaf_form_trees(), trees.len() - walked);
                for _ in 0..20 {
                    let x: Vec<f64> = (0..depth).map(|_| rng.uniform() * 0.6).collect();
                    let mut a = vec![0.0; depth];
                    explainer.row(&mut Scratch::default(), &x, &mut a);
                    let mut b = vec![0.0; depth];
                    for t in &trees {
                        shap::tree_shap(t, &x, &mut b);
                    }
                    for (p, q) in a.iter().zip(&b) {
                        assert!((p - q).abs() < 1e-9, "{a:?} vs {b:?}");
                    }
                }
            }
        }
    }
}
