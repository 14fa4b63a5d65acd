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
//! polynomial view of Linear TreeSHAP, Yu et al. 2022). A row walks each tree's nodes once, in
//! storage order, to find every leaf's `o` bits as a mask; each leaf then takes prefix and
//! suffix products of its factors at the points: no division, no branch on the row's bits, and
//! for the usual paths of up to [`SHORT_PATH`] features four points side by side, which the
//! compiler keeps in vector registers. A tree with a path of more than [`MAX_PATH`] unique
//! features, or a child stored before its parent, uses the path walk.

use crate::shap::{self, Walk};
use crate::tree::Node;

/// Longest path (in unique features) the leaf form takes: the bits of a mask.
pub const MAX_PATH: usize = 32;

/// Paths of up to this many unique features (most of them) take four points side by side.
pub const SHORT_PATH: usize = 8;

/// Rows from which [`Explainer::contributions`] runs in parallel.
pub const PARALLEL_ROWS: usize = 16;

/// A tree prepared for explanation.
enum Prepared {
    Leaves(TreePaths),
    Walk(Vec<Node>),
}

/// A split, or a leaf (`leaf` set), with children indices as in the source tree.
#[derive(Clone, Copy)]
struct Step {
    feature: usize,
    threshold: f64,
    missing_left: bool,
    left: u32,
    right: u32,
    /// Position of the split's feature among the unique features of the path to it.
    pos: u32,
    /// The leaf's index in `leaves`, or `u32::MAX` for a split.
    leaf: u32,
}

struct Leaf {
    value: f64,
    /// Start of this leaf's path features in `feature` and `z`.
    start: usize,
    /// Unique features on the path.
    len: usize,
}

struct TreePaths {
    steps: Vec<Step>,
    leaves: Vec<Leaf>,
    /// Per leaf and path feature: the feature's index.
    feature: Vec<usize>,
    /// Per leaf and path feature: `z`, the product of its cover shares on the path.
    z: Vec<f64>,
}

/// Exact per-row contributions of a tree ensemble, prepared once for many rows: the sum of
/// the trees' Shapley values times `scale`, and the expected value `offset + scale · Σ E[tree]`.
pub struct Explainer {
    trees: Vec<Prepared>,
    scale: f64,
    expected: f64,
    /// `points[n]`: the Gauss-Legendre points and weights that integrate a leaf of `n` path
    /// features exactly.
    points: Vec<Vec<(f64, f64)>>,
    /// The points for [`SHORT_PATH`] features, side by side: `t`, then `w`.
    short: ([f64; 4], [f64; 4]),
}

impl Explainer {
    /// Prepares `trees` (summed, then multiplied by `scale`, after `offset`).
    pub fn new(trees: &[&[Node]], scale: f64, offset: f64) -> Explainer {
        let prepared = trees
            .iter()
            .map(|t| match TreePaths::build(t) {
                Some(paths) => Prepared::Leaves(paths),
                None => Prepared::Walk(t.to_vec()),
            })
            .collect();
        let expected = offset + scale * trees.iter().map(|t| shap::expected_value(t)).sum::<f64>();
        let points: Vec<Vec<(f64, f64)>> = (0..=MAX_PATH).map(|n| gauss_legendre(n.div_ceil(2))).collect();
        let short = side_by_side(&points[SHORT_PATH]);
        Explainer {
            trees: prepared,
            scale,
            expected,
            points,
            short,
        }
    }

    /// The expected value: contributions plus it give the model's raw output.
    pub fn expected_value(&self) -> f64 {
        self.expected
    }

    /// How many trees use the leaf form (the others use the path walk).
    pub fn leaf_form_trees(&self) -> usize {
        self.trees.iter().filter(|t| matches!(t, Prepared::Leaves(_))).count()
    }

    /// Contributions of one row `x` (one value per feature) written into `phi`.
    pub fn row(&self, scratch: &mut Scratch, x: &[f64], phi: &mut [f64]) {
        phi.fill(0.0);
        for t in &self.trees {
            match t {
                Prepared::Leaves(t) => t.add(self, scratch, x, phi),
                Prepared::Walk(nodes) => shap::tree_shap_with(&mut scratch.walk, nodes, x, phi),
            }
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
            let mut scratch = Scratch::default();
            return (0..n).map(|i| one(&mut scratch, i)).collect();
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
            .field("trees", &self.trees.len())
            .field("leaf_form_trees", &self.leaf_form_trees())
            .field("expected", &self.expected)
            .finish()
    }
}

/// A row's scratch space, reused across rows.
#[derive(Default)]
pub struct Scratch {
    masks: Vec<u32>,
    /// A short leaf's suffix products (kept here: zeroing them per leaf showed in profiles).
    suffix: [[f64; 4]; SHORT_PATH + 1],
    walk: Walk,
}

impl TreePaths {
    /// The tree's leaves with their paths, or `None` when a path has more than [`MAX_PATH`]
    /// unique features or a child is stored before its parent.
    fn build(nodes: &[Node]) -> Option<TreePaths> {
        if nodes.is_empty() {
            return None;
        }
        let mut t = TreePaths {
            steps: Vec::with_capacity(nodes.len()),
            leaves: Vec::new(),
            feature: Vec::new(),
            z: Vec::new(),
        };
        for (j, n) in nodes.iter().enumerate() {
            let split = match (n.feature, n.threshold, n.left, n.right) {
                (Some(f), Some(th), Some(l), Some(r)) if l > j && r > j && l < nodes.len() && r < nodes.len() => {
                    Some((f, th, u32::try_from(l).ok()?, u32::try_from(r).ok()?))
                }
                (None, ..) => None,
                _ => return None,
            };
            let (feature, threshold, left, right) = split.unwrap_or((usize::MAX, 0.0, 0, 0));
            t.steps.push(Step {
                feature,
                threshold,
                missing_left: n.missing_left,
                left,
                right,
                pos: 0,
                leaf: if split.is_some() { u32::MAX } else { 0 },
            });
        }
        // Depth-first from the root: the path's unique features in order of first appearance,
        // so a split's position is the same for every leaf below it.
        let mut stack: Vec<(usize, Vec<(usize, f64)>)> = vec![(0, Vec::new())];
        while let Some((j, path)) = stack.pop() {
            let n = &nodes[j];
            if t.steps[j].leaf != u32::MAX {
                if path.len() > MAX_PATH {
                    return None;
                }
                t.steps[j].leaf = u32::try_from(t.leaves.len()).ok()?;
                t.leaves.push(Leaf {
                    value: n.value,
                    start: t.feature.len(),
                    len: path.len(),
                });
                t.feature.extend(path.iter().map(|p| p.0));
                t.z.extend(path.iter().map(|p| p.1));
                continue;
            }
            let f = t.steps[j].feature;
            let pos = path.iter().position(|p| p.0 == f).unwrap_or(path.len());
            t.steps[j].pos = u32::try_from(pos.min(MAX_PATH)).ok()?;
            let cover = n.rows.max(1) as f64;
            for child in [t.steps[j].right as usize, t.steps[j].left as usize] {
                let mut p = path.clone();
                let share = nodes[child].rows as f64 / cover;
                match p.get_mut(pos) {
                    Some(e) => e.1 *= share,
                    None => p.push((f, share)),
                }
                stack.push((child, p));
            }
        }
        Some(t)
    }

    /// Adds the tree's contributions for row `x` to `phi`.
    fn add(&self, e: &Explainer, scratch: &mut Scratch, x: &[f64], phi: &mut [f64]) {
        let Scratch { masks, suffix, .. } = scratch;
        masks.clear();
        masks.resize(self.steps.len(), 0);
        masks[0] = u32::MAX;
        for (j, s) in self.steps.iter().enumerate() {
            if s.leaf == u32::MAX {
                let v = x[s.feature];
                let (hot, cold) = if v <= s.threshold || (s.missing_left && v.is_nan()) {
                    (s.left, s.right)
                } else {
                    (s.right, s.left)
                };
                masks[hot as usize] = masks[j];
                // pos < MAX_PATH = 32: every split has a leaf below it within the limit.
                masks[cold as usize] = masks[j] & !(1u32 << s.pos);
            } else {
                let leaf = &self.leaves[s.leaf as usize];
                let at = leaf.start..leaf.start + leaf.len;
                let (feature, z) = (&self.feature[at.clone()], &self.z[at]);
                if leaf.len <= SHORT_PATH {
                    short_leaf_values(e.short, suffix, leaf.value, masks[j], feature, z, phi);
                } else {
                    leaf_values(&e.points[leaf.len], leaf.value, masks[j], feature, z, phi);
                }
            }
        }
    }
}

/// One leaf's Shapley values added to `phi` (see the module's formula): `mask` has bit `i` set
/// when the row satisfies the path's conditions on `feature[i]`. The products leaving out one
/// factor come from prefix and suffix products.
fn leaf_values(points: &[(f64, f64)], v: f64, mask: u32, feature: &[usize], z: &[f64], phi: &mut [f64]) {
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
        phi[feature[i]] += v * slope[i] * acc[i];
    }
}

/// [`leaf_values`] for a path of at most [`SHORT_PATH`] features: the four points side by side
/// (`(t, w)`; a shorter path's polynomial is integrated exactly by them too).
fn short_leaf_values(
    (t, w): ([f64; 4], [f64; 4]),
    suffix: &mut [[f64; 4]; SHORT_PATH + 1],
    v: f64,
    mask: u32,
    feature: &[usize],
    z: &[f64],
    phi: &mut [f64],
) {
    let n = feature.len();
    let slope = |i: usize| f64::from((mask >> i) & 1) - z[i];
    suffix[n] = w;
    for i in (0..n).rev() {
        let s = slope(i);
        suffix[i] = lanes(|q| suffix[i + 1][q] * (z[i] + s * t[q]));
    }
    let mut prefix = [1.0; 4];
    for i in 0..n {
        let s = slope(i);
        let both = lanes(|q| prefix[q] * suffix[i + 1][q]);
        phi[feature[i]] += v * s * (both[0] + both[1] + both[2] + both[3]);
        prefix = lanes(|q| prefix[q] * (z[i] + s * t[q]));
    }
}

/// Lanes computed by `f`, in a form the compiler turns into vector instructions.
#[inline(always)]
fn lanes(f: impl Fn(usize) -> f64) -> [f64; 4] {
    [f(0), f(1), f(2), f(3)]
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
                let x: Vec<f64> = (0..nf)
                    .map(|_| if r % 7 == 0 { f64::NAN } else { rng.uniform() })
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
            let explainer = Explainer::new(&[&cut], 1.0, 0.0);
            assert_eq!(explainer.leaf_form_trees(), usize::from(limit < MAX_PATH));
            for _ in 0..20 {
                let x: Vec<f64> = (0..depth).map(|_| rng.uniform() * 0.6).collect();
                let mut a = vec![0.0; depth];
                explainer.row(&mut Scratch::default(), &x, &mut a);
                let mut b = vec![0.0; depth];
                shap::tree_shap(&cut, &x, &mut b);
                for (p, q) in a.iter().zip(&b) {
                    assert!((p - q).abs() < 1e-9, "{a:?} vs {b:?}");
                }
            }
        }
    }
}
