//! k-means distance: clusters found by Lloyd's algorithm from k-means++ seeds; a row's anomaly
//! score is its distance to the nearest centre, and the reasons are the dimensions that make up
//! that distance.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use riskpipe_core::{Error, Result, Rng};

/// Settings of k-means.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KMeansParams {
    /// Clusters (default 8).
    pub k: usize,
    /// Lloyd iterations at most (default 100).
    pub max_iter: usize,
    /// Stop when no centre moves by more than `tol` times the data's mean variance (default
    /// 1e-4, scikit-learn's rule).
    pub tol: f64,
    /// Seed of the k-means++ draws.
    pub seed: u64,
}

impl Default for KMeansParams {
    fn default() -> Self {
        KMeansParams {
            k: 8,
            max_iter: 100,
            tol: 1e-4,
            seed: 42,
        }
    }
}

/// A fitted k-means model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KMeans {
    /// Feature names, in column order.
    pub features: Vec<String>,
    /// Centres, one row of `features.len()` values each.
    pub centers: Vec<Vec<f64>>,
    /// Sum of squared distances of the training rows to their nearest centre.
    pub inertia: f64,
    /// Lloyd iterations run.
    pub iterations: usize,
    /// The settings used.
    pub params: KMeansParams,
}

/// Rows per chunk of every parallel pass: sums are formed per chunk and added in chunk order,
/// so results do not depend on the thread count.
pub(super) const CHUNK: usize = 4096;

/// Rows per block of the distance kernel: a block, gathered row by row, stays in L1 cache.
const BLOCK: usize = 128;

/// Centres per group of the distance kernel: one group's partial distances stay in registers.
const LANES: usize = 8;

fn sq_dist(row: &[f64], c: &[f64]) -> f64 {
    row.iter().zip(c).map(|(a, b)| (a - b) * (a - b)).sum()
}

/// Rows `lo..lo + m` of columns `x`, one row after another, in `buf`.
fn gather(x: &[&[f64]], lo: usize, m: usize, buf: &mut Vec<f64>) {
    let d = x.len();
    buf.clear();
    buf.resize(m * d, 0.0);
    for (f, col) in x.iter().enumerate() {
        for (i, &v) in col[lo..lo + m].iter().enumerate() {
            buf[i * d + f] = v;
        }
    }
}

/// The fit rows, one after another: every pass of a fit reads them front to back.
pub(super) struct Table {
    /// The values, row after row.
    pub(super) data: Vec<f64>,
    /// Values per row.
    pub(super) d: usize,
}

impl Table {
    /// Columns laid out row after row (in parallel blocks).
    pub(super) fn from_columns(x: &[&[f64]]) -> Self {
        let (n, d) = (x.first().map_or(0, |c| c.len()), x.len());
        let mut data = vec![0.0; n * d];
        data.par_chunks_mut(BLOCK * d).enumerate().for_each(|(b, part)| {
            let mut buf = Vec::new();
            gather(x, b * BLOCK, part.len() / d, &mut buf);
            part.copy_from_slice(&buf);
        });
        Table { data, d }
    }

    /// Row `i`.
    pub(super) fn row(&self, i: usize) -> &[f64] {
        &self.data[i * self.d..(i + 1) * self.d]
    }

    /// The number of rows.
    pub(super) fn rows(&self) -> usize {
        self.data.len() / self.d
    }
}

/// The centres laid out for the distance kernel.
struct Centres<'a> {
    /// The centres, one row each.
    rows: &'a [Vec<f64>],
    /// Per group of [`LANES`] centres and per feature, `-2 c[j][f]` for the group's centres
    /// (zero past the last centre).
    minus_two: Vec<[f64; LANES]>,
    /// Per group, `||c_j||^2` of its centres (infinite past the last centre: never nearest).
    norms: Vec<[f64; LANES]>,
}

impl<'a> Centres<'a> {
    fn new(rows: &'a [Vec<f64>]) -> Self {
        let (k, d) = (rows.len(), rows.first().map_or(0, |c| c.len()));
        let groups = k.div_ceil(LANES);
        let mut minus_two = vec![[0.0; LANES]; groups * d];
        let mut norms = vec![[f64::INFINITY; LANES]; groups];
        for (j, c) in rows.iter().enumerate() {
            let (g, lane) = (j / LANES, j % LANES);
            for (f, v) in c.iter().enumerate() {
                minus_two[g * d + f][lane] = -2.0 * v;
            }
            norms[g][lane] = c.iter().map(|v| v * v).sum();
        }
        Centres { rows, minus_two, norms }
    }

    /// The nearest centre of each row of `block` (rows one after another) and its exact squared
    /// distance. The centre is the lowest of `||c||^2 - 2 x.c` (the row's own norm is the same
    /// for every centre; ties go to the lower index), [`LANES`] centres at a time; the distance
    /// is then computed exactly from the differences.
    fn assign(&self, block: &[f64], labels: &mut [u32], dist: &mut [f64]) {
        let d = self.rows[0].len();
        for ((row, l), dv) in block.chunks_exact(d).zip(labels.iter_mut()).zip(dist.iter_mut()) {
            let mut best = (0, f64::INFINITY);
            for (g, (norms, t)) in self.norms.iter().zip(self.minus_two.chunks_exact(d)).enumerate() {
                let mut acc = *norms;
                for (&v, t) in row.iter().zip(t) {
                    for (a, &c) in acc.iter_mut().zip(t) {
                        *a += v * c;
                    }
                }
                for (lane, &a) in acc.iter().enumerate() {
                    if a < best.1 {
                        best = (g * LANES + lane, a);
                    }
                }
            }
            *l = best.0 as u32;
            *dv = sq_dist(row, &self.rows[best.0]);
        }
    }
}

/// What one Lloyd pass gives: per centre the sum and count of the rows nearest to it, the
/// inertia, and how many rows changed centre.
struct Pass {
    sums: Vec<f64>,
    counts: Vec<f64>,
    inertia: f64,
    changed: usize,
}

/// One Lloyd pass, updating `labels`. Rows are taken in fixed chunks whose partial sums are
/// added in chunk order, so the result does not depend on the thread count.
fn lloyd_pass(t: &Table, centers: &[Vec<f64>], labels: &mut [u32]) -> Pass {
    let (k, d) = (centers.len(), t.d);
    let cen = Centres::new(centers);
    let parts: Vec<Pass> = labels
        .par_chunks_mut(CHUNK)
        .zip(t.data.par_chunks(CHUNK * d))
        .map(|(lab, rows)| {
            let mut p = Pass {
                sums: vec![0.0; k * d],
                counts: vec![0.0; k],
                inertia: 0.0,
                changed: 0,
            };
            let (mut now, mut dist) = ([0u32; BLOCK], [0.0; BLOCK]);
            for (lab, block) in lab.chunks_mut(BLOCK).zip(rows.chunks(BLOCK * d)) {
                let m = lab.len();
                cen.assign(block, &mut now[..m], &mut dist[..m]);
                for ((old, &new), (row, &dv)) in
                    lab.iter_mut().zip(&now[..m]).zip(block.chunks_exact(d).zip(&dist[..m]))
                {
                    p.changed += usize::from(*old != new);
                    *old = new;
                    let j = new as usize;
                    p.counts[j] += 1.0;
                    p.inertia += dv;
                    for (s, v) in p.sums[j * d..(j + 1) * d].iter_mut().zip(row) {
                        *s += v;
                    }
                }
            }
            p
        })
        .collect();
    let mut all = Pass {
        sums: vec![0.0; k * d],
        counts: vec![0.0; k],
        inertia: 0.0,
        changed: 0,
    };
    for p in parts {
        all.sums.iter_mut().zip(&p.sums).for_each(|(a, b)| *a += b);
        all.counts.iter_mut().zip(&p.counts).for_each(|(a, b)| *a += b);
        all.inertia += p.inertia;
        all.changed += p.changed;
    }
    all
}

/// Squared distance of every row of `t` to its nearest centre.
fn min_sq(t: &Table, centers: &[Vec<f64>]) -> Vec<f64> {
    let cen = Centres::new(centers);
    let mut out = vec![0.0; t.rows()];
    out.par_chunks_mut(BLOCK)
        .zip(t.data.par_chunks(BLOCK * t.d))
        .for_each(|(dist, block)| {
            let mut lab = [0u32; BLOCK];
            cen.assign(block, &mut lab[..dist.len()], dist);
        });
    out
}

/// Greedy k-means++ seeds (Arthur and Vassilvitskii; scikit-learn's default): the first row drawn
/// uniformly; then, for each next seed, `2 + ln k` candidates drawn with probability proportional
/// to their squared distance from the seeds so far, and the candidate that lowers the summed
/// squared distance most is kept. Per-row distances are kept and lowered by each new seed.
fn seeds(t: &Table, k: usize, rng: &mut Rng) -> Vec<Vec<f64>> {
    let n = t.rows();
    let trials = 2 + (k as f64).ln() as usize;
    let mut centers = vec![t.row(rng.below(n as u64) as usize).to_vec()];
    let mut d = vec![f64::INFINITY; n];
    lower(t, &mut d, &centers[0]);
    while centers.len() < k {
        let total: f64 = d.iter().sum();
        let candidates: Vec<&[f64]> = (0..trials)
            .map(|_| {
                let pick = if total > 0.0 {
                    let target = rng.uniform() * total;
                    let mut acc = 0.0;
                    d.iter()
                        .position(|v| {
                            acc += v;
                            acc > target
                        })
                        .unwrap_or(n - 1)
                } else {
                    rng.below(n as u64) as usize
                };
                t.row(pick)
            })
            .collect();
        // Each candidate's potential: the summed squared distances were it added, formed per
        // chunk and added in chunk order.
        let parts: Vec<Vec<f64>> = d
            .par_chunks(CHUNK)
            .zip(t.data.par_chunks(CHUNK * t.d))
            .map(|(part, rows)| {
                let mut pot = vec![0.0; candidates.len()];
                for (&now, row) in part.iter().zip(rows.chunks_exact(t.d)) {
                    for (p, cand) in pot.iter_mut().zip(&candidates) {
                        *p += now.min(sq_dist(row, cand));
                    }
                }
                pot
            })
            .collect();
        let mut pot = vec![0.0; candidates.len()];
        for part in parts {
            pot.iter_mut().zip(&part).for_each(|(a, b)| *a += b);
        }
        let best = (0..pot.len()).fold(0, |b, i| if pot[i] < pot[b] { i } else { b });
        let chosen = candidates[best].to_vec();
        lower(t, &mut d, &chosen);
        centers.push(chosen);
    }
    centers
}

/// Lowers each row's entry of `d` to its squared distance from `center` where that is less.
fn lower(t: &Table, d: &mut [f64], center: &[f64]) {
    d.par_chunks_mut(CHUNK)
        .zip(t.data.par_chunks(CHUNK * t.d))
        .for_each(|(part, rows)| {
            for (v, row) in part.iter_mut().zip(rows.chunks_exact(t.d)) {
                *v = v.min(sq_dist(row, center));
            }
        });
}

impl KMeans {
    /// Fits on columns `x` (named `names`); no target.
    pub fn fit(names: &[String], x: &[&[f64]], params: &KMeansParams) -> Result<Self> {
        let n = super::check_table("k-means", names, x)?;
        if params.k == 0 || params.k > n {
            return Err(Error::Internal(format!(
                "k-means: `k` is {} but the table has {n} rows; k must be between 1 and the rows",
                params.k
            )));
        }
        let d = x.len();
        let mut rng = Rng::derive(params.seed, "kmeans.seeds");
        let t = Table::from_columns(x);
        let mut centers = seeds(&t, params.k, &mut rng);
        // Tolerance relative to the data's mean per-column variance.
        let var: f64 = x
            .iter()
            .map(|c| {
                let m = c.iter().sum::<f64>() / n as f64;
                c.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / n as f64
            })
            .sum::<f64>()
            / d as f64;
        let tol = params.tol * var;
        let mut iterations = 0;
        let mut labels = vec![u32::MAX; n];
        for _ in 0..params.max_iter {
            iterations += 1;
            let k = centers.len();
            let pass = lloyd_pass(&t, &centers, &mut labels);
            if pass.changed == 0 {
                // No row changed centre: the new centres would be these (strict convergence).
                break;
            }
            let (sums, counts) = (&pass.sums, &pass.counts);
            // scikit-learn's rule: the squared shifts of all centres, summed, within `tol`.
            let mut shift = 0.0f64;
            let mut next: Vec<Vec<f64>> = (0..k)
                .map(|j| {
                    if counts[j] == 0.0 {
                        return centers[j].clone();
                    }
                    let c: Vec<f64> = sums[j * d..(j + 1) * d].iter().map(|s| s / counts[j]).collect();
                    shift += sq_dist(&c, &centers[j]);
                    c
                })
                .collect();
            // An empty cluster takes the row farthest from its centre (lowest index on ties).
            for j in (0..k).filter(|&j| counts[j] == 0.0) {
                let dist = min_sq(&t, &next);
                let far = (0..n).fold(0, |b, i| if dist[i] > dist[b] { i } else { b });
                next[j] = t.row(far).to_vec();
                shift = f64::INFINITY;
            }
            centers = next;
            if shift <= tol {
                break;
            }
        }
        let inertia = min_sq(&t, &centers).iter().sum();
        Ok(KMeans {
            features: names.to_vec(),
            centers,
            inertia,
            iterations,
            params: params.clone(),
        })
    }

    /// The nearest centre of each row of `t`.
    pub(super) fn nearest_centres(&self, t: &Table) -> Vec<u32> {
        let cen = Centres::new(&self.centers);
        let mut out = vec![0u32; t.rows()];
        out.par_chunks_mut(BLOCK)
            .zip(t.data.par_chunks(BLOCK * t.d))
            .for_each(|(lab, block)| {
                let mut dist = [0.0; BLOCK];
                cen.assign(block, lab, &mut dist[..lab.len()]);
            });
        out
    }

    /// The anomaly score of each row: its distance to the nearest centre.
    pub fn score(&self, x: &[&[f64]]) -> Vec<f64> {
        let cen = Centres::new(&self.centers);
        let mut out = vec![0.0; x.first().map_or(0, |c| c.len())];
        out.par_chunks_mut(BLOCK).enumerate().for_each(|(b, dist)| {
            let (mut lab, mut buf) = ([0u32; BLOCK], Vec::new());
            gather(x, b * BLOCK, dist.len(), &mut buf);
            cen.assign(&buf, &mut lab[..dist.len()], dist);
            dist.iter_mut().for_each(|v| *v = v.sqrt());
        });
        out
    }

    /// Each dimension's squared difference from the row's nearest centre: the reasons.
    pub fn dimensions(&self, row: &[f64]) -> Vec<f64> {
        let (mut label, mut dist) = ([0u32], [0.0]);
        Centres::new(&self.centers).assign(row, &mut label, &mut dist);
        let j = label[0] as usize;
        row.iter()
            .zip(&self.centers[j])
            .map(|(a, b)| (a - b) * (a - b))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Three tight blobs in 2-D and one far row.
    fn blobs() -> (Vec<f64>, Vec<f64>) {
        let mut rng = Rng::new(4);
        let (mut a, mut b) = (Vec::new(), Vec::new());
        for (cx, cy) in [(0.0, 0.0), (10.0, 0.0), (0.0, 10.0)] {
            for _ in 0..300 {
                a.push(cx + 0.5 * rng.normal());
                b.push(cy + 0.5 * rng.normal());
            }
        }
        a.push(30.0);
        b.push(30.0);
        (a, b)
    }

    #[test]
    fn finds_the_blobs_and_scores_the_far_row_highest() {
        let (a, b) = blobs();
        let names = vec!["a".to_string(), "b".to_string()];
        let p = KMeansParams {
            k: 3,
            ..KMeansParams::default()
        };
        let m = KMeans::fit(&names, &[&a, &b], &p).unwrap();
        let mut c = m.centers.clone();
        c.sort_by(|x, y| x[0].total_cmp(&y[0]).then(x[1].total_cmp(&y[1])));
        // The far row pulls one centre a little; the three centres sit on the blobs.
        for (got, want) in c.iter().zip([[0.0, 0.0], [0.0, 10.0], [10.0, 0.0]]) {
            assert!(
                (got[0] - want[0]).abs() < 0.5 && (got[1] - want[1]).abs() < 0.5,
                "{c:?}"
            );
        }
        let s = m.score(&[&a, &b]);
        let top = (0..s.len()).max_by(|&i, &j| s[i].total_cmp(&s[j])).unwrap();
        assert_eq!(top, 900);
        let why = m.dimensions(&[30.0, 30.0]);
        assert!(why[0] > 100.0 && why[1] > 100.0, "{why:?}");
        // Same seed, same bits, on one thread or many.
        let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
        let again = one.install(|| KMeans::fit(&names, &[&a, &b], &p).unwrap());
        assert_eq!(
            serde_json::to_string(&again).unwrap(),
            serde_json::to_string(&m).unwrap()
        );
    }

    #[test]
    fn k_above_the_rows_is_refused_by_name() {
        let a = [1.0, 2.0];
        let e = KMeans::fit(
            &["a".into()],
            &[&a],
            &KMeansParams {
                k: 3,
                ..KMeansParams::default()
            },
        )
        .unwrap_err();
        assert!(e.to_string().contains("`k` is 3 but the table has 2 rows"), "{e}");
    }
}
