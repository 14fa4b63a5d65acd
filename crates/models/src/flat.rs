//! Tree ensembles flattened for fast scoring. Each tree becomes four arrays (feature, threshold,
//! left child, right child; a leaf points to itself), and rows are scored in blocks: for one tree
//! at a time, every row of the block moves down one level per step. The rows' paths are
//! independent, so the processor overlaps them instead of waiting on one path's loads, and the
//! tree stays in cache for the whole block.

use rayon::prelude::*;

use crate::tree::Node;

/// One node in 24 bytes: a step reads a single cache line.
#[derive(Clone, Copy)]
struct Packed {
    threshold: f64,
    feature: u32,
    /// 1 when missing values go left, else 0.
    missing_left: u32,
    /// Left and right child, picked by index without a branch; a leaf's are itself.
    children: [u32; 2],
}

struct FlatTree {
    nodes: Vec<Packed>,
    value: Vec<f64>,
    depth: usize,
}

/// Flattened trees; [`Flat::sums`] gives each row's sum of leaf values.
pub(crate) struct Flat {
    trees: Vec<FlatTree>,
}

/// Rows per block.
const BLOCK: usize = 128;

impl Flat {
    /// Flattens trees of [`Node`]s.
    pub(crate) fn new(trees: &[Vec<Node>]) -> Flat {
        let trees: Vec<FlatTree> = trees
            .iter()
            .map(|nodes| {
                let mut t = FlatTree {
                    nodes: Vec::with_capacity(nodes.len()),
                    value: Vec::with_capacity(nodes.len()),
                    depth: 0,
                };
                for (i, n) in nodes.iter().enumerate() {
                    t.nodes.push(match (n.feature, n.threshold, n.left, n.right) {
                        (Some(f), Some(th), Some(l), Some(r)) => Packed {
                            threshold: th,
                            feature: f as u32,
                            missing_left: u32::from(n.missing_left),
                            children: [l as u32, r as u32],
                        },
                        _ => Packed {
                            threshold: 0.0,
                            feature: 0,
                            missing_left: 0,
                            children: [i as u32, i as u32],
                        },
                    });
                    t.value.push(n.value);
                }
                // Depth: the longest root-to-leaf path.
                let mut stack = vec![(0usize, 0usize)];
                while let Some((i, d)) = stack.pop() {
                    t.depth = t.depth.max(d);
                    let [l, r] = t.nodes[i].children;
                    if l as usize != i {
                        stack.push((l as usize, d + 1));
                        stack.push((r as usize, d + 1));
                    }
                }
                t
            })
            .collect();
        Flat { trees }
    }

    /// Per row, the sum of the trees' leaf values (trees added in order, from 0). Rows with
    /// `x <= threshold` go left; larger and missing values go right, as in [`Node`].
    pub(crate) fn sums(&self, x: &[&[f64]]) -> Vec<f64> {
        let n = x.first().map_or(0, |c| c.len());
        let nf = x.len();
        let mut out = vec![0.0; n];
        out.par_chunks_mut(BLOCK * 16).enumerate().for_each(|(c, chunk)| {
            let mut rows = vec![0.0; BLOCK * nf];
            let mut at = [0u32; BLOCK];
            for (b, block) in chunk.chunks_mut(BLOCK).enumerate() {
                let lo = c * BLOCK * 16 + b * BLOCK;
                let m = block.len();
                // Row-major copy of the block: a row's features share cache lines.
                for (f, col) in x.iter().enumerate() {
                    for r in 0..m {
                        rows[r * nf + f] = col[lo + r];
                    }
                }
                for t in &self.trees {
                    at[..m].fill(0);
                    for _ in 0..t.depth {
                        for r in 0..m {
                            let node = &t.nodes[at[r] as usize];
                            let v = rows[r * nf + node.feature as usize];
                            // Right when not `v <= threshold`; a missing value goes right
                            // unless the node sends it left.
                            #[allow(clippy::neg_cmp_op_on_partial_ord)]
                            let right = usize::from(!(v <= node.threshold))
                                & (1 - (node.missing_left & u32::from(v.is_nan())) as usize);
                            at[r] = node.children[right];
                        }
                    }
                    for r in 0..m {
                        block[r] += t.value[at[r] as usize];
                    }
                }
            }
        });
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaf(value: f64) -> Node {
        Node {
            feature: None,
            threshold: None,
            left: None,
            right: None,
            value,
            rows: 1,
            gain: 0.0,
            missing_left: false,
        }
    }

    fn split(feature: usize, threshold: f64, left: usize, right: usize) -> Node {
        Node {
            feature: Some(feature),
            threshold: Some(threshold),
            left: Some(left),
            right: Some(right),
            value: 0.0,
            rows: 2,
            gain: 1.0,
            missing_left: false,
        }
    }

    #[test]
    fn flat_sums_equal_walking_the_nodes() {
        // Two trees of different depths; children not adjacent; a missing value goes right.
        let trees = vec![
            vec![
                split(0, 0.5, 2, 1),
                leaf(10.0),
                split(1, 2.0, 3, 4),
                leaf(1.0),
                leaf(2.0),
            ],
            vec![leaf(0.25)],
        ];
        let f0 = [0.1, 0.9, 0.5, f64::NAN, 0.2];
        let f1 = [1.0, 5.0, 3.0, 0.0, f64::NAN];
        let got = Flat::new(&trees).sums(&[&f0, &f1]);
        assert_eq!(got, vec![1.25, 10.25, 2.25, 10.25, 2.25]);
        // Many rows, across blocks and chunks.
        let n = 5000;
        let a: Vec<f64> = (0..n).map(|i| (i % 10) as f64 / 10.0).collect();
        let b: Vec<f64> = (0..n).map(|i| (i % 7) as f64).collect();
        let s = Flat::new(&trees).sums(&[&a, &b]);
        for i in 0..n {
            let want = if a[i] <= 0.5 {
                if b[i] <= 2.0 { 1.0 } else { 2.0 }
            } else {
                10.0
            } + 0.25;
            assert_eq!(s[i], want, "row {i}");
        }
    }
}
