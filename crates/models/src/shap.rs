//! Exact per-row feature contributions of tree models: path-dependent TreeSHAP (Lundberg et
//! al., "Consistent individualized feature attribution for tree ensembles", algorithm 2). For
//! each row the contributions plus the expected value equal the tree's output, and they are the
//! Shapley values of the game where a feature outside the coalition is averaged out over the
//! tree's training rows (by node cover).

use crate::tree::Node;

#[derive(Clone, Copy)]
struct PathElem {
    /// Feature (usize::MAX for the root's dummy element).
    d: usize,
    /// Share of "cold" rows (fraction of cover) that follow this path.
    z: f64,
    /// 1 if the row itself follows this path, 0 otherwise.
    o: f64,
    /// Permutation weight.
    w: f64,
}

fn extend(m: &mut Vec<PathElem>, z: f64, o: f64, d: usize) {
    let l = m.len();
    m.push(PathElem {
        d,
        z,
        o,
        w: if l == 0 { 1.0 } else { 0.0 },
    });
    // Divisions are the slow part of a walk: one reciprocal, then products.
    let inv = 1.0 / (l + 1) as f64;
    for i in (0..l).rev() {
        m[i + 1].w += o * m[i].w * ((i + 1) as f64 * inv);
        m[i].w = z * m[i].w * ((l - i) as f64 * inv);
    }
}

fn unwind(m: &mut Vec<PathElem>, i: usize) {
    let l = m.len() - 1;
    let mut n = m[l].w;
    let (zi, oi) = (m[i].z, m[i].o);
    for j in (0..l).rev() {
        if oi != 0.0 {
            let t = m[j].w;
            m[j].w = n * (l + 1) as f64 / ((j + 1) as f64 * oi);
            n = t - m[j].w * zi * (l - j) as f64 / (l + 1) as f64;
        } else {
            m[j].w = m[j].w * (l + 1) as f64 / (zi * (l - j) as f64);
        }
    }
    for j in i..l {
        m[j].d = m[j + 1].d;
        m[j].z = m[j + 1].z;
        m[j].o = m[j + 1].o;
    }
    m.truncate(l);
}

/// Sum of the path weights with element `i` unwound, computed without changing `m`. `inv[k]`
/// is `1 / k`: the loop multiplies where the textbook form divides (a leaf runs this for every
/// element of its path, so divisions would dominate the walk).
fn unwound_sum(m: &[PathElem], i: usize, inv: &[f64]) -> f64 {
    let l = m.len() - 1;
    let (z, o) = (m[i].z, m[i].o);
    let lp1 = (l + 1) as f64;
    let mut next = m[l].w;
    let mut total = 0.0;
    if o != 0.0 {
        let a = lp1 / o;
        let b = z * inv[l + 1];
        for j in (0..l).rev() {
            let t = next * a * inv[j + 1];
            total += t;
            next = m[j].w - t * b * (l - j) as f64;
        }
    } else {
        total = cold_sum(m, inv) * lp1 / z;
    }
    total
}

/// For an element the row does not follow (`o = 0`), [`unwound_sum`] is this sum, the same for
/// every such element, times `(l + 1) / z`: a leaf computes it once.
fn cold_sum(m: &[PathElem], inv: &[f64]) -> f64 {
    let l = m.len() - 1;
    (0..l).rev().map(|j| m[j].w * inv[l - j]).sum()
}

/// Scratch space of one row's walk: the path, and a saved copy of it per depth (the cold child
/// starts from the same path as the hot one). Reused across trees and rows, so walks allocate
/// nothing once it has grown.
#[derive(Default)]
pub struct Walk {
    path: Vec<PathElem>,
    saved: Vec<Vec<PathElem>>,
    /// `inv[k] = 1 / k` for every path length seen so far.
    inv: Vec<f64>,
}

#[allow(clippy::too_many_arguments)]
fn recurse(nodes: &[Node], x: &[f64], phi: &mut [f64], w: &mut Walk, j: usize, depth: usize, z: f64, o: f64, d: usize) {
    extend(&mut w.path, z, o, d);
    let node = &nodes[j];
    match (node.feature, node.threshold, node.left, node.right) {
        (Some(f), Some(t), Some(l), Some(r)) => {
            // The row's child is "hot"; the other is "cold".
            let (hot, cold) = if x[f] <= t || (node.missing_left && x[f].is_nan()) {
                (l, r)
            } else {
                (r, l)
            };
            let (mut iz, mut io) = (1.0, 1.0);
            if let Some(k) = w.path.iter().position(|e| e.d == f) {
                iz = w.path[k].z;
                io = w.path[k].o;
                unwind(&mut w.path, k);
            }
            let cover = node.rows.max(1) as f64;
            let share = |c: usize| nodes[c].rows as f64 / cover;
            if w.saved.len() <= depth {
                w.saved.push(Vec::new());
            }
            let mut keep = std::mem::take(&mut w.saved[depth]);
            keep.clear();
            keep.extend_from_slice(&w.path);
            recurse(nodes, x, phi, w, hot, depth + 1, iz * share(hot), io, f);
            w.path.clear();
            w.path.extend_from_slice(&keep);
            w.saved[depth] = keep;
            recurse(nodes, x, phi, w, cold, depth + 1, iz * share(cold), 0.0, f);
        }
        _ => {
            let m = &w.path;
            while w.inv.len() <= m.len() + 1 {
                w.inv.push(1.0 / w.inv.len().max(1) as f64);
            }
            let cold = m[1..].iter().any(|e| e.o == 0.0).then(|| cold_sum(m, &w.inv));
            let lp1 = m.len() as f64;
            for i in 1..m.len() {
                let wt = match cold {
                    Some(c) if m[i].o == 0.0 => c * lp1 / m[i].z,
                    _ => unwound_sum(m, i, &w.inv),
                };
                phi[m[i].d] += wt * (m[i].o - m[i].z) * node.value;
            }
        }
    }
}

/// Adds one tree's contributions for row `x` to `phi` (one entry per feature).
pub fn tree_shap(nodes: &[Node], x: &[f64], phi: &mut [f64]) {
    tree_shap_with(&mut Walk::default(), nodes, x, phi);
}

/// [`tree_shap`] with caller-owned scratch space.
pub fn tree_shap_with(w: &mut Walk, nodes: &[Node], x: &[f64], phi: &mut [f64]) {
    if nodes.is_empty() {
        return;
    }
    w.path.clear();
    recurse(nodes, x, phi, w, 0, 0, 1.0, 1.0, usize::MAX);
}

/// The tree's expected output over its training rows: leaf values weighted by cover.
pub fn expected_value(nodes: &[Node]) -> f64 {
    let root = nodes.first().map_or(1, |n| n.rows.max(1)) as f64;
    nodes
        .iter()
        .filter(|n| n.feature.is_none())
        .map(|n| n.value * n.rows as f64 / root)
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(feature: Option<usize>, threshold: f64, children: Option<(usize, usize)>, value: f64, rows: u64) -> Node {
        Node {
            feature,
            threshold: feature.map(|_| threshold),
            left: children.map(|c| c.0),
            right: children.map(|c| c.1),
            value,
            rows,
            gain: 0.0,
            missing_left: false,
        }
    }

    /// v(S): the tree's output with features outside S averaged out by cover.
    fn value_of(nodes: &[Node], x: &[f64], s: u32, j: usize) -> f64 {
        let n = &nodes[j];
        match (n.feature, n.threshold, n.left, n.right) {
            (Some(f), Some(t), Some(l), Some(r)) => {
                if s & (1 << f) != 0 {
                    value_of(
                        nodes,
                        x,
                        s,
                        if x[f] <= t || (n.missing_left && x[f].is_nan()) {
                            l
                        } else {
                            r
                        },
                    )
                } else {
                    let c = n.rows as f64;
                    (nodes[l].rows as f64 * value_of(nodes, x, s, l) + nodes[r].rows as f64 * value_of(nodes, x, s, r))
                        / c
                }
            }
            _ => n.value,
        }
    }

    /// Shapley values by brute force over all coalitions.
    fn brute(nodes: &[Node], x: &[f64], m: usize) -> Vec<f64> {
        let fact = |k: usize| (1..=k).map(|v| v as f64).product::<f64>();
        (0..m)
            .map(|i| {
                (0u32..(1 << m))
                    .filter(|s| s & (1 << i) == 0)
                    .map(|s| {
                        let k = s.count_ones() as usize;
                        fact(k) * fact(m - k - 1) / fact(m)
                            * (value_of(nodes, x, s | (1 << i), 0) - value_of(nodes, x, s, 0))
                    })
                    .sum()
            })
            .collect()
    }

    #[test]
    fn contributions_add_up_to_each_fitted_models_output() {
        use crate::{BoostingParams, DecisionTree, ForestParams, GradientBoosting, Model, RandomForest, TreeParams};
        let mut rng = riskpipe_core::Rng::new(5);
        let n = 3000;
        let cols: Vec<Vec<f64>> = (0..4).map(|_| (0..n).map(|_| rng.uniform()).collect()).collect();
        let y: Vec<f64> = (0..n)
            .map(|i| f64::from(u8::from(rng.uniform() < 0.1 + 0.6 * cols[0][i] * cols[1][i])))
            .collect();
        let names: Vec<String> = (0..4).map(|i| format!("x{i}")).collect();
        let x: Vec<&[f64]> = cols.iter().map(Vec::as_slice).collect();
        let tree = TreeParams {
            max_depth: 5,
            min_samples_leaf: 20,
            ..TreeParams::default()
        };
        let models = [
            Model::Tree(DecisionTree::fit(&names, &x, &y, None, &tree).unwrap()),
            Model::Forest(
                RandomForest::fit(
                    &names,
                    &x,
                    &y,
                    &ForestParams {
                        n_trees: 15,
                        tree: tree.clone(),
                        seed: 3,
                    },
                )
                .unwrap(),
            ),
            Model::Boosting(
                GradientBoosting::fit(
                    &names,
                    &x,
                    &y,
                    &BoostingParams {
                        n_trees: 40,
                        max_leaves: 8,
                        ..BoostingParams::default()
                    },
                )
                .unwrap(),
            ),
        ];
        let rows: Vec<usize> = (0..n).step_by(37).collect();
        let xs: Vec<Vec<f64>> = cols.iter().map(|c| rows.iter().map(|&i| c[i]).collect()).collect();
        let xs: Vec<&[f64]> = xs.iter().map(Vec::as_slice).collect();
        for m in &models {
            let (phi, e) = m.contributions(&xs).unwrap();
            let p = match m {
                Model::Tree(t) => t.predict_proba(&xs),
                Model::Forest(f) => f.predict_proba(&xs),
                Model::Boosting(b) => b.predict_proba(&xs).iter().map(|q| (q / (1.0 - q)).ln()).collect(),
                _ => unreachable!("only tree models here"),
            };
            for (k, out) in p.iter().enumerate() {
                let total = phi[k].iter().sum::<f64>() + e;
                assert!((total - out).abs() < 1e-9, "{}: {total} vs {out}", m.features().len());
            }
            // The informative features carry the most.
            let mean = |j: usize| phi.iter().map(|r| r[j].abs()).sum::<f64>();
            assert!(mean(0) > mean(3) && mean(1) > mean(2));
        }
    }

    fn sample_tree() -> Vec<Node> {
        // Feature 0 at the root, feature 1 below, feature 0 again deeper, feature 2 on the right.
        vec![
            node(Some(0), 0.5, Some((1, 2)), 0.0, 100),
            node(Some(1), 1.0, Some((3, 4)), 0.0, 60),
            node(Some(2), 3.0, Some((5, 6)), 0.0, 40),
            node(Some(0), 0.2, Some((7, 8)), 0.0, 25),
            node(None, 0.0, None, 0.7, 35),
            node(None, 0.0, None, -1.0, 10),
            node(None, 0.0, None, 2.0, 30),
            node(None, 0.0, None, 0.1, 5),
            node(None, 0.0, None, 0.4, 20),
        ]
    }

    #[test]
    fn contributions_are_the_brute_force_shapley_values_and_add_up() {
        let t = sample_tree();
        let e = expected_value(&t);
        for x in [
            [0.1, 0.5, 0.0],
            [0.3, 2.0, 9.0],
            [0.9, 0.0, 1.0],
            [0.9, 5.0, 5.0],
            [0.5, 1.0, 3.0],
        ] {
            let mut phi = vec![0.0; 3];
            tree_shap(&t, &x, &mut phi);
            let want = brute(&t, &x, 3);
            for (a, b) in phi.iter().zip(&want) {
                assert!((a - b).abs() < 1e-12, "{phi:?} vs {want:?} at {x:?}");
            }
            let f = value_of(&t, &x, 0b111, 0);
            assert!((phi.iter().sum::<f64>() + e - f).abs() < 1e-12);
        }
        // v(empty) is the expected value.
        assert!((value_of(&t, &[0.0; 3], 0, 0) - e).abs() < 1e-12);
    }
}
