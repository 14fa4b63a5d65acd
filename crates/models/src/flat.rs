//! Tree ensembles flattened for fast scoring. Each tree becomes an array of 16-byte nodes in
//! breadth-first order (siblings adjacent, so a step is `left + (x > threshold)`; a leaf points
//! to itself), and rows are scored in blocks: for one tree at a time, sixteen rows of the block
//! move down one level per step. The rows' paths are independent, so the processor overlaps
//! them instead of waiting on one path's loads, and the tree stays in cache for the whole block.
//!
//! Missing values cost no test: the block is copied twice, with missing values as -inf and as
//! +inf, and each node reads the copy that sends them its way. Leaf-wise trees are lopsided
//! (on the 1M-row benchmark a row's path is 4.7 steps on average, the deepest leaf 9.9), so
//! every row steps only to a depth chosen from the training rows per leaf, and the rows not at
//! a leaf by then are gathered and go on alone.

use rayon::prelude::*;

use crate::tree::Node;

/// One node in 16 bytes. Siblings sit side by side, so the right child is `left + 1`; a leaf's
/// threshold is +inf and its `left` is itself, so every row that reaches it stays.
#[derive(Clone, Copy)]
struct Packed {
    threshold: f64,
    left: u32,
    /// Where the node's feature sits in a row of the block: the feature index, plus one block
    /// copy's length when missing values go right (that copy holds them as +inf). For rows too
    /// wide for a block, the feature index with [`WIDE_RIGHT`] set when missing values go right.
    off: u32,
}

struct FlatTree {
    nodes: Vec<Packed>,
    value: Vec<f64>,
    depth: usize,
    /// Every row of a block steps this deep; the rows not yet at a leaf then go on alone (see
    /// [`walk`]). Chosen from the training rows per leaf.
    first: usize,
}

/// A model's flattened trees, built on its first prediction and kept: a service predicts one
/// row at a time, and flattening 300 trees costs more than walking them. Not serialised; a
/// clone starts empty; models compare equal whatever their caches hold.
#[derive(Default)]
pub struct FlatCache(std::sync::OnceLock<Flat>);

impl FlatCache {
    /// The flattened trees, built by `build` the first time.
    pub(crate) fn get(&self, build: impl FnOnce() -> Flat) -> &Flat {
        self.0.get_or_init(build)
    }
}

impl Clone for FlatCache {
    fn clone(&self) -> Self {
        FlatCache::default()
    }
}

impl PartialEq for FlatCache {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl std::fmt::Debug for FlatCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.get().is_some() {
            "FlatCache(built)"
        } else {
            "FlatCache(empty)"
        })
    }
}

/// Flattened trees; [`Flat::sums`] gives each row's sum of leaf values.
pub(crate) struct Flat {
    trees: Vec<FlatTree>,
    n_features: usize,
    /// The offset of a block's +inf copy in [`Packed::off`] (or [`WIDE_RIGHT`]).
    copy: u32,
}

/// Values of one block: two row-major copies (see [`Flat::sums`]) of at most this many values
/// together. A fixed size lets masked indices skip bounds checks.
const BLOCK_VALUES: usize = 16_384;
/// For rows too wide for a block, the flag in `off` that sends missing values right.
const WIDE_RIGHT: u32 = 1 << 31;
/// Rows per block at most.
const BLOCK: usize = 128;
/// Rows stepped together.
const LANES: usize = 16;
/// Up to this many rows are walked one by one on the calling thread: for a service's single
/// row, a block (a 128 KiB copy, 16 lanes stepping together) costs more than the walk.
const FEW_ROWS: usize = 4;

/// A value as the two copies of a row hold it: a missing value as -inf (it goes left at every
/// split), then as +inf (it goes right); any other value twice.
pub(crate) fn both_ways(v: f64) -> [f64; 2] {
    if v.is_nan() {
        [f64::NEG_INFINITY, f64::INFINITY]
    } else {
        [v, v]
    }
}

impl Flat {
    /// Flattens trees of [`Node`]s over `n_features` features.
    pub(crate) fn new(trees: &[Vec<Node>], n_features: usize) -> Flat {
        let copy = match Self::block_rows(n_features) {
            0 => WIDE_RIGHT,
            br => (br * n_features) as u32,
        };
        let trees: Vec<FlatTree> = trees
            .iter()
            .map(|nodes| {
                let mut t = FlatTree {
                    nodes: Vec::with_capacity(nodes.len()),
                    value: Vec::with_capacity(nodes.len()),
                    depth: 0,
                    first: 0,
                };
                // Training rows per leaf depth, for the split of the walk.
                let mut at_depth: Vec<f64> = Vec::new();
                // Breadth first from the root: (old index, depth); children get two new
                // adjacent slots.
                let mut queue = std::collections::VecDeque::from([(0usize, 0usize)]);
                let mut next = 1u32;
                while let Some((i, d)) = queue.pop_front() {
                    let n = &nodes[i];
                    let at = t.nodes.len() as u32;
                    t.depth = t.depth.max(d);
                    t.nodes.push(match (n.feature, n.threshold, n.left, n.right) {
                        (Some(f), Some(th), Some(l), Some(r)) => {
                            queue.push_back((l, d + 1));
                            queue.push_back((r, d + 1));
                            next += 2;
                            Packed {
                                threshold: th,
                                left: next - 2,
                                off: f as u32 + if n.missing_left { 0 } else { copy },
                            }
                        }
                        _ => {
                            if at_depth.len() <= d {
                                at_depth.resize(d + 1, 0.0);
                            }
                            at_depth[d] += n.rows as f64;
                            Packed {
                                threshold: f64::INFINITY,
                                left: at,
                                off: 0,
                            }
                        }
                    });
                    t.value.push(n.value);
                }
                t.first = first_steps(&at_depth, t.depth);
                // Pad to a power of two (never reached): masked indices need no checks.
                let cap = t.nodes.len().next_power_of_two();
                t.nodes.resize(cap, t.nodes[0]);
                t.value.resize(cap, 0.0);
                t
            })
            .collect();
        Flat {
            trees,
            n_features,
            copy,
        }
    }

    /// Rows per block: both copies of the block fit in [`BLOCK_VALUES`]; a multiple of
    /// [`LANES`], or 0 when a row is too wide for that.
    fn block_rows(nf: usize) -> usize {
        (BLOCK_VALUES / (2 * nf.max(1))).min(BLOCK) / LANES * LANES
    }

    /// [`Flat::sums`] of a few rows, one at a time, for trees laid out for blocks: each row is
    /// copied twice, as a block's row (missing values as -inf, then as +inf), and a node reads
    /// the copy its offset names.
    fn few_sums(&self, x: &[&[f64]], out: &mut [f64]) {
        let (nf, copy) = (self.n_features, self.copy as usize);
        let mut wide = vec![0.0; 2 * nf];
        for (r, o) in out.iter_mut().enumerate() {
            for (f, col) in x.iter().enumerate() {
                [wide[f], wide[nf + f]] = both_ways(col[r]);
            }
            for t in &self.trees {
                let mut at = 0usize;
                for _ in 0..t.depth {
                    let node = t.nodes[at];
                    let off = node.off as usize;
                    let v = wide[if off >= copy { off - copy + nf } else { off }];
                    at = node.left as usize + usize::from(v > node.threshold);
                }
                *o += t.value[at];
            }
        }
    }

    /// Per row, the sum of the trees' leaf values (trees added in order, from 0). Rows with
    /// `x <= threshold` go left; larger and missing values go right, unless the node sends
    /// missing values left, as in [`Node`].
    pub(crate) fn sums(&self, x: &[&[f64]]) -> Vec<f64> {
        let n = x.first().map_or(0, |c| c.len());
        let nf = self.n_features;
        assert_eq!(x.len(), nf, "one column per feature");
        let mut out = vec![0.0; n];
        let br = Self::block_rows(nf);
        if br != 0 && n <= FEW_ROWS {
            self.few_sums(x, &mut out);
            return out;
        }
        if br == 0 {
            // Rows too wide for a block: one row at a time from the columns.
            out.par_iter_mut().enumerate().for_each(|(r, o)| {
                for t in &self.trees {
                    let mut at = 0usize;
                    for _ in 0..t.depth {
                        let node = t.nodes[at];
                        let v = x[(node.off & !WIDE_RIGHT) as usize][r];
                        let right = if v.is_nan() {
                            node.off & WIDE_RIGHT != 0
                        } else {
                            v > node.threshold
                        };
                        at = node.left as usize + usize::from(right);
                    }
                    *o += t.value[at];
                }
            });
            return out;
        }
        out.par_chunks_mut(br * 16).enumerate().for_each(|(c, chunk)| {
            // Two row-major copies of the block: missing values as -inf (they go left at
            // every node) and as +inf (they go right). A node reads the copy its missing
            // values follow, so a step is one compare.
            let mut rows = vec![0.0; BLOCK_VALUES];
            let rows: &mut [f64; BLOCK_VALUES] = rows.as_mut_slice().try_into().expect("block size");
            for (b, block) in chunk.chunks_mut(br).enumerate() {
                let lo = c * br * 16 + b * br;
                let m = block.len();
                for (f, col) in x.iter().enumerate() {
                    for r in 0..m {
                        let [a, z] = both_ways(col[lo + r]);
                        rows[r * nf + f] = a;
                        rows[br * nf + r * nf + f] = z;
                    }
                }
                for t in &self.trees {
                    match t.nodes.len() {
                        64 => walk::<64>(t, rows, block, nf),
                        128 => walk::<128>(t, rows, block, nf),
                        256 => walk::<256>(t, rows, block, nf),
                        512 => walk::<512>(t, rows, block, nf),
                        1024 => walk::<1024>(t, rows, block, nf),
                        _ => walk_any(t, rows, block, nf),
                    }
                }
            }
        });
        out
    }
}

/// How deep every row steps before only the unfinished ones go on: the depth that minimises
/// the expected steps per row, `first + unfinished(first) * (depth - first)`, plus a third of a
/// step per row for gathering the unfinished ones, given the training rows per leaf depth.
fn first_steps(at_depth: &[f64], depth: usize) -> usize {
    let total: f64 = at_depth.iter().sum();
    if total <= 0.0 {
        return depth;
    }
    let mut best = (depth as f64, depth);
    let mut done = 0.0;
    for d in 0..depth {
        done += at_depth.get(d).copied().unwrap_or(0.0);
        let cost = d as f64 + (1.0 - done / total) * (depth - d) as f64 + 1.0 / 3.0;
        if cost < best.0 {
            best = (cost, d);
        }
    }
    best.1
}

/// Adds one tree's leaf values to `block`, stepping [`LANES`] rows at a time, every one for the
/// tree's full depth. `N` is the tree's padded node count.
fn walk<const N: usize>(t: &FlatTree, rows: &[f64; BLOCK_VALUES], block: &mut [f64], nf: usize) {
    let nodes: &[Packed; N] = t.nodes.as_slice().try_into().expect("padded tree");
    let value: &[f64; N] = t.value.as_slice().try_into().expect("padded tree");
    let m = block.len();
    // Each row's node after the first steps, then the rows not at a leaf yet (as row, node).
    let mut at_row = [0u32; BLOCK];
    let mut r0 = 0;
    while r0 < m {
        let lanes = LANES.min(m - r0);
        let mut at = [0u32; LANES];
        let mut base = [0u32; LANES];
        for (k, b) in base.iter_mut().enumerate() {
            *b = ((r0 + k.min(lanes - 1)) * nf) as u32;
        }
        for _ in 0..t.first {
            for k in 0..LANES {
                let node = nodes[at[k] as usize & (N - 1)];
                let v = rows[(base[k] + node.off) as usize & (BLOCK_VALUES - 1)];
                at[k] = node.left + u32::from(v > node.threshold);
            }
        }
        at_row[r0..r0 + lanes].copy_from_slice(&at[..lanes]);
        r0 += LANES;
    }
    if t.first < t.depth {
        // Gather the unfinished rows without a branch: each is written, and the count moves on
        // only past those not at a leaf.
        let mut open = [(0u32, 0u32); BLOCK];
        let mut n_open = 0;
        for (r, &a) in at_row[..m].iter().enumerate() {
            open[n_open] = (r as u32, a);
            n_open += usize::from(nodes[a as usize & (N - 1)].threshold != f64::INFINITY);
        }
        let mut i0 = 0;
        while i0 < n_open {
            let lanes = LANES.min(n_open - i0);
            let mut at = [0u32; LANES];
            let mut base = [0u32; LANES];
            for k in 0..LANES {
                let (r, a) = open[i0 + k.min(lanes - 1)];
                at[k] = a;
                base[k] = r * nf as u32;
            }
            for _ in t.first..t.depth {
                for k in 0..LANES {
                    let node = nodes[at[k] as usize & (N - 1)];
                    let v = rows[(base[k] + node.off) as usize & (BLOCK_VALUES - 1)];
                    at[k] = node.left + u32::from(v > node.threshold);
                }
            }
            for k in 0..lanes {
                at_row[open[i0 + k].0 as usize & (BLOCK - 1)] = at[k];
            }
            i0 += LANES;
        }
    }
    for (o, &a) in block.iter_mut().zip(&at_row[..m]) {
        *o += value[a as usize & (N - 1)];
    }
}

/// [`walk`] for trees of any size.
fn walk_any(t: &FlatTree, rows: &[f64; BLOCK_VALUES], block: &mut [f64], nf: usize) {
    for (r, o) in block.iter_mut().enumerate() {
        let mut at = 0usize;
        for _ in 0..t.depth {
            let node = t.nodes[at];
            let v = rows[(r * nf + node.off as usize) & (BLOCK_VALUES - 1)];
            at = node.left as usize + usize::from(v > node.threshold);
        }
        *o += t.value[at];
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
        let got = Flat::new(&trees, 2).sums(&[&f0, &f1]);
        assert_eq!(got, vec![1.25, 10.25, 2.25, 10.25, 2.25]);
        // Many rows, across blocks and chunks.
        let n = 5000;
        let a: Vec<f64> = (0..n).map(|i| (i % 10) as f64 / 10.0).collect();
        let b: Vec<f64> = (0..n).map(|i| (i % 7) as f64).collect();
        let s = Flat::new(&trees, 2).sums(&[&a, &b]);
        for i in 0..n {
            let want = if a[i] <= 0.5 {
                if b[i] <= 2.0 { 1.0 } else { 2.0 }
            } else {
                10.0
            } + 0.25;
            assert_eq!(s[i], want, "row {i}");
        }
    }

    /// A random tree grown by splitting random leaves (so it is unbalanced, like a leaf-wise
    /// tree), with random missing-value sides and training row counts.
    fn random_tree(rng: &mut riskpipe_core::Rng, nf: usize, leaves: usize) -> Vec<Node> {
        let mut nodes = vec![leaf(rng.normal())];
        nodes[0].rows = 1000;
        let mut open = vec![0usize];
        while open.len() < leaves {
            // Mostly split the newest leaf: long paths.
            let i = if rng.bernoulli(0.7) {
                open.len() - 1
            } else {
                rng.below(open.len() as u64) as usize
            };
            let at = open.swap_remove(i);
            let (l, r) = (nodes.len(), nodes.len() + 1);
            let rows = nodes[at].rows;
            nodes.push(leaf(rng.normal()));
            nodes.push(leaf(rng.normal()));
            nodes[l].rows = rows / 2 + 1;
            nodes[r].rows = rows / 3 + 1;
            let n = &mut nodes[at];
            n.feature = Some(rng.below(nf as u64) as usize);
            n.threshold = Some(if rng.bernoulli(0.05) { f64::MIN } else { rng.normal() });
            n.missing_left = rng.bernoulli(0.5);
            n.left = Some(l);
            n.right = Some(r);
            open.push(l);
            open.push(r);
        }
        nodes
    }

    fn walk_nodes(trees: &[Vec<Node>], x: &[Vec<f64>], r: usize) -> f64 {
        let mut sum = 0.0;
        for t in trees {
            let mut i = 0;
            while let (Some(f), Some(th), Some(l), Some(rt)) = (t[i].feature, t[i].threshold, t[i].left, t[i].right) {
                let v = x[f][r];
                i = if v <= th || (v.is_nan() && t[i].missing_left) {
                    l
                } else {
                    rt
                };
            }
            sum += t[i].value;
        }
        sum
    }

    #[test]
    fn every_layout_equals_walking_the_nodes_bit_for_bit() {
        let mut rng = riskpipe_core::Rng::new(11);
        // Narrow rows (blocks), trees of every padded size and one too big for them; rows too
        // wide for a block; a row count that leaves partial blocks and lanes.
        for (nf, leaf_counts) in [
            (5, vec![1, 2, 31, 60, 200, 700]),
            (40, vec![31, 31, 90]),
            (600, vec![20, 31]),
        ] {
            let n = 3_001;
            let x: Vec<Vec<f64>> = (0..nf)
                .map(|_| {
                    (0..n)
                        .map(|_| match rng.below(20) {
                            0 => f64::NAN,
                            1 => f64::INFINITY,
                            2 => f64::NEG_INFINITY,
                            _ => rng.normal(),
                        })
                        .collect()
                })
                .collect();
            let trees: Vec<Vec<Node>> = leaf_counts.iter().map(|&k| random_tree(&mut rng, nf, k)).collect();
            let cols: Vec<&[f64]> = x.iter().map(|c| c.as_slice()).collect();
            let flat = Flat::new(&trees, nf);
            let got = flat.sums(&cols);
            for (r, g) in got.iter().enumerate() {
                assert_eq!(
                    g.to_bits(),
                    walk_nodes(&trees, &x, r).to_bits(),
                    "{nf} features, row {r}"
                );
            }
            // A few rows at a time (a service's requests) take the walk row by row.
            for (lo, k) in [(0, 1), (7, 2), (100, 3), (2_000, FEW_ROWS), (2_990, FEW_ROWS + 1)] {
                let part: Vec<&[f64]> = cols.iter().map(|c| &c[lo..lo + k]).collect();
                for (r, g) in flat.sums(&part).iter().enumerate() {
                    assert_eq!(
                        g.to_bits(),
                        got[lo + r].to_bits(),
                        "{nf} features, rows from {lo}, {k} of them"
                    );
                }
            }
        }
    }
}
