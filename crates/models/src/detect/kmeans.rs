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
const CHUNK: usize = 4096;

fn sq_dist(row: &[f64], c: &[f64]) -> f64 {
    row.iter().zip(c).map(|(a, b)| (a - b) * (a - b)).sum()
}

/// The nearest centre of `row` and its squared distance (ties to the lower index).
fn nearest(row: &[f64], centers: &[Vec<f64>]) -> (usize, f64) {
    let mut best = (0, f64::INFINITY);
    for (j, c) in centers.iter().enumerate() {
        let d = sq_dist(row, c);
        if d < best.1 {
            best = (j, d);
        }
    }
    best
}

/// One Lloyd pass: per centre, the sum and count of the rows nearest to it, and the inertia.
/// Rows are taken in fixed chunks whose partial sums are added in chunk order, so the result
/// does not depend on the thread count.
fn lloyd_pass(x: &[&[f64]], centers: &[Vec<f64>]) -> (Vec<f64>, Vec<f64>, f64) {
    let n = x.first().map_or(0, |c| c.len());
    let (k, d) = (centers.len(), x.len());
    let parts: Vec<(Vec<f64>, Vec<f64>, f64)> = (0..n.div_ceil(CHUNK))
        .into_par_iter()
        .map(|c| {
            let (mut sums, mut counts, mut inertia) = (vec![0.0; k * d], vec![0.0; k], 0.0);
            let mut row = vec![0.0; d];
            for i in c * CHUNK..((c + 1) * CHUNK).min(n) {
                for (j, col) in x.iter().enumerate() {
                    row[j] = col[i];
                }
                let (j, dist) = nearest(&row, centers);
                for (s, v) in sums[j * d..(j + 1) * d].iter_mut().zip(&row) {
                    *s += v;
                }
                counts[j] += 1.0;
                inertia += dist;
            }
            (sums, counts, inertia)
        })
        .collect();
    let (mut sums, mut counts, mut inertia) = (vec![0.0; k * d], vec![0.0; k], 0.0);
    for (s, c, i) in parts {
        sums.iter_mut().zip(&s).for_each(|(a, b)| *a += b);
        counts.iter_mut().zip(&c).for_each(|(a, b)| *a += b);
        inertia += i;
    }
    (sums, counts, inertia)
}

/// Squared distance of every row to its nearest centre.
fn min_sq(x: &[&[f64]], centers: &[Vec<f64>]) -> Vec<f64> {
    crate::predict_rows(x, |row| nearest(row, centers).1)
}

/// k-means++ seeds: the first row drawn uniformly, each next one with probability proportional
/// to its squared distance from the seeds so far.
fn seeds(x: &[&[f64]], k: usize, rng: &mut Rng) -> Vec<Vec<f64>> {
    let n = x[0].len();
    let row = |i: usize| -> Vec<f64> { x.iter().map(|c| c[i]).collect() };
    let mut centers = vec![row(rng.below(n as u64) as usize)];
    while centers.len() < k {
        let d = min_sq(x, &centers);
        let total: f64 = d.iter().sum();
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
        centers.push(row(pick));
    }
    centers
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
        let mut centers = seeds(x, params.k, &mut rng);
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
        for _ in 0..params.max_iter {
            iterations += 1;
            let k = centers.len();
            let (sums, counts, _) = lloyd_pass(x, &centers);
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
                let dist = min_sq(x, &next);
                let far = (0..n).fold(0, |b, i| if dist[i] > dist[b] { i } else { b });
                next[j] = x.iter().map(|c| c[far]).collect();
                shift = f64::INFINITY;
            }
            centers = next;
            if shift <= tol {
                break;
            }
        }
        let inertia = lloyd_pass(x, &centers).2;
        Ok(KMeans {
            features: names.to_vec(),
            centers,
            inertia,
            iterations,
            params: params.clone(),
        })
    }

    /// The anomaly score of each row: its distance to the nearest centre.
    pub fn score(&self, x: &[&[f64]]) -> Vec<f64> {
        crate::predict_rows(x, |row| nearest(row, &self.centers).1.sqrt())
    }

    /// Each dimension's squared difference from the row's nearest centre: the reasons.
    pub fn dimensions(&self, row: &[f64]) -> Vec<f64> {
        let (j, _) = nearest(row, &self.centers);
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
