//! Exact TreeSHAP node by node: the leaf form of [`crate::explain`] with the work shared along
//! the tree, so a row costs a few lane operations per node instead of per leaf and path feature
//! (the node-level form of Linear TreeSHAP, Yu et al. 2022).
//!
//! With `g_j(t) = z_j + (o_j - z_j) t` the factor of path feature `j` (its merged cover share
//! and bit) and `G_L = ∏_j g_j` a leaf's product, feature `i` gets from leaf `L`
//! `v_L (o_i - z_i) ∫₀¹ G_L / g_i dt`. Going down, each node's `G` is its parent's times one
//! factor (or times the new factor over the old, when the split's feature is already on the
//! path: a ratio prepared once per node and bit pair). Coming up, `S_u = Σ_{L below u} v_L G_L`.
//! The split `u` on feature `f` then gives `f`, per child `c`, `(o_c - z_c) ∫ (S_c - T_c) / g_c`,
//! where `T_c` sums `S` over the nearest splits on `f` below `c` (their leaves' factor of `f` is
//! theirs). Every `∫` is a dot product with weights over the factor, prepared once per node.
//! Every factor is positive (cover shares above 0, points inside (0, 1)), so nothing divides by
//! zero; a tree with an empty child or a path of more than [`MAX_FEATURES`] features is left
//! to the leaf form.

use crate::tree::Node;

/// Most unique features on a path: four Gauss-Legendre points side by side integrate the
/// polynomials of degree up to 7 exactly.
pub(crate) const MAX_FEATURES: usize = 8;

/// No ancestor split on the same feature.
const NONE: u32 = u32::MAX;

/// A node as a row walks it.
#[derive(Clone, Copy)]
struct Step {
    /// The split's feature, or `usize::MAX` for a leaf.
    feature: usize,
    threshold: f64,
    missing_left: bool,
    left: u32,
    right: u32,
    /// A leaf's value.
    value: f64,
}

/// What a node below the root carries: its feature's merged cover share on the path, where the
/// feature was set before, and the lane vectors of its factor.
#[derive(Clone, Copy)]
struct Child {
    /// The child of the nearest ancestor split on the same feature, on the path here.
    prev: u32,
    /// `z`: the product of the cover shares of the splits on this feature down to here.
    z: f64,
    /// `G` multipliers by `o_before + o_here` (`o_here` is at most `o_before`): the factor
    /// here over the one before (1 when none).
    mul: [[f64; 4]; 3],
    /// Weights over the factor, by `o_here`: `w_q / g(t_q)`.
    inv: [[f64; 4]; 2],
}

/// A tree prepared for the node form.
pub(crate) struct TreeNodes {
    steps: Vec<Step>,
    /// Per node (the root's entry unused).
    child: Vec<Child>,
}

/// A row's per-node state, reused across trees and rows.
#[derive(Default)]
pub(crate) struct NodeScratch {
    o: Vec<u8>,
    g: Vec<[f64; 4]>,
    s: Vec<[f64; 4]>,
    t: Vec<[f64; 4]>,
}

impl TreeNodes {
    /// The tree prepared with the points `(t, w)` (4 side by side, exact for
    /// [`MAX_FEATURES`] features); `None` when a child is stored before its parent, a split has
    /// an empty child, or a path has more than [`MAX_FEATURES`] unique features.
    pub(crate) fn build(nodes: &[Node], (t, w): ([f64; 4], [f64; 4])) -> Option<TreeNodes> {
        if nodes.is_empty() || u32::try_from(nodes.len()).is_err() {
            return None;
        }
        let leaf_step = |n: &Node| Step {
            feature: usize::MAX,
            threshold: 0.0,
            missing_left: false,
            left: 0,
            right: 0,
            value: n.value,
        };
        let mut steps = Vec::with_capacity(nodes.len());
        for (j, n) in nodes.iter().enumerate() {
            steps.push(match (n.feature, n.threshold, n.left, n.right) {
                (Some(f), Some(th), Some(l), Some(r)) if l > j && r > j && l < nodes.len() && r < nodes.len() => {
                    if n.rows == 0 || nodes[l].rows == 0 || nodes[r].rows == 0 {
                        return None;
                    }
                    Step {
                        feature: f,
                        threshold: th,
                        missing_left: n.missing_left,
                        left: l as u32,
                        right: r as u32,
                        value: 0.0,
                    }
                }
                (None, ..) => leaf_step(n),
                _ => return None,
            });
        }
        let blank = Child {
            prev: NONE,
            z: 1.0,
            mul: [[1.0; 4]; 3],
            inv: [[0.0; 4]; 2],
        };
        let mut child = vec![blank; nodes.len()];
        // Depth first: per node, the path's features with the node holding each one's factor.
        let mut stack: Vec<(usize, Vec<(usize, u32)>)> = vec![(0, Vec::new())];
        while let Some((j, path)) = stack.pop() {
            let s = steps[j];
            if s.feature == usize::MAX {
                continue;
            }
            for c in [s.left, s.right] {
                let share = nodes[c as usize].rows as f64 / nodes[j].rows as f64;
                let mut p = path.clone();
                let prev = match p.iter_mut().find(|e| e.0 == s.feature) {
                    Some(e) => std::mem::replace(&mut e.1, c),
                    None => {
                        p.push((s.feature, c));
                        NONE
                    }
                };
                if p.len() > MAX_FEATURES {
                    return None;
                }
                let z = if prev == NONE {
                    share
                } else {
                    child[prev as usize].z * share
                };
                let factor = |z: f64, o: f64| -> [f64; 4] { std::array::from_fn(|q| z + (o - z) * t[q]) };
                let here = [factor(z, 0.0), factor(z, 1.0)];
                let before = if prev == NONE {
                    [[1.0; 4]; 2]
                } else {
                    let zp = child[prev as usize].z;
                    [factor(zp, 0.0), factor(zp, 1.0)]
                };
                let ratio = |oh: usize, ob: usize| std::array::from_fn(|q| here[oh][q] / before[ob][q]);
                let mul = [ratio(0, 0), ratio(0, 1), ratio(1, 1)];
                let inv = [0, 1].map(|o| std::array::from_fn(|q| w[q] / here[o][q]));
                child[c as usize] = Child { prev, z, mul, inv };
                stack.push((c as usize, p));
            }
        }
        Some(TreeNodes { steps, child })
    }

    /// Adds the tree's contributions for row `x` to `phi`.
    pub(crate) fn add(&self, sc: &mut NodeScratch, x: &[f64], phi: &mut [f64]) {
        let n = self.steps.len();
        let NodeScratch { o, g, s, t } = sc;
        if o.len() < n {
            o.resize(n, 1);
            g.resize(n, [1.0; 4]);
            s.resize(n, [0.0; 4]);
            t.resize(n, [0.0; 4]);
        }
        // Every entry is written before it is read but the root's and the sums below.
        (o[0], g[0]) = (1, [1.0; 4]);
        t[..n].fill([0.0; 4]);
        // Down: each child's bit and product.
        for (j, st) in self.steps.iter().enumerate() {
            if st.feature == usize::MAX {
                let v = st.value;
                s[j] = g[j].map(|q| v * q);
                continue;
            }
            let v = x[st.feature];
            let left_hot = u8::from(v <= st.threshold || (st.missing_left && v.is_nan()));
            for (c, bit) in [(st.left, left_hot), (st.right, 1 - left_hot)] {
                let c = c as usize;
                let k = &self.child[c];
                let before = if k.prev == NONE { 1 } else { o[k.prev as usize] };
                let here = before & bit;
                o[c] = here;
                let m = &k.mul[usize::from(before + here)];
                let gj = g[j];
                g[c] = std::array::from_fn(|q| gj[q] * m[q]);
            }
        }
        // Up: each split's sums, and its feature's share from each child.
        for j in (0..n).rev() {
            let st = self.steps[j];
            if st.feature == usize::MAX {
                continue;
            }
            let (l, r) = (st.left as usize, st.right as usize);
            for c in [l, r] {
                let k = &self.child[c];
                let inv = &k.inv[usize::from(o[c])];
                let (sc, tc) = (s[c], t[c]);
                let d: [f64; 4] = std::array::from_fn(|q| (sc[q] - tc[q]) * inv[q]);
                phi[st.feature] += (f64::from(o[c]) - k.z) * ((d[0] + d[1]) + (d[2] + d[3]));
            }
            let (sl, sr) = (s[l], s[r]);
            s[j] = std::array::from_fn(|q| sl[q] + sr[q]);
            let prev = self.child[l].prev;
            if prev != NONE {
                let sj = s[j];
                let tp = &mut t[prev as usize];
                *tp = std::array::from_fn(|q| tp[q] + sj[q]);
            }
        }
    }
}
