//! Exact nearest neighbours by blocked brute force, and the two detectors built on them: the
//! distance to the k-th nearest training row (kNN) and the local outlier factor (LOF: how much
//! sparser a row's neighbourhood is than its neighbours' own).
//!
//! Every query row is compared with every fit row: six query rows against four fit rows at a
//! time, through `||q||^2 + ||t||^2 - 2 q.t` in registers; the k nearest are kept per query and
//! their distances then computed exactly. The work grows with the square of the rows, so a fit
//! takes at most [`NEIGHBOUR_ROW_LIMIT`] rows; past it, `max_rows` fits on a seeded sample.

use std::sync::Mutex;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use riskpipe_core::{Error, Result, Rng};

/// The most fit rows the exact-neighbour detectors take (each compared with every other).
pub const NEIGHBOUR_ROW_LIMIT: usize = 100_000;

/// Fit rows per tile of the kernel (six query rows by four fit rows: twenty-four sums, which stay
/// in registers).
const LANES: usize = 4;
/// Query rows per step of the kernel.
const QUERIES: usize = 6;
/// Query rows per parallel task.
const TASK: usize = 96;

/// The fit rows laid out for the kernel: per tile of [`LANES`] rows and per feature, the tile's
/// values; and each row's squared norm (infinite past the last row: never a neighbour).
struct Tiles {
    tiles: Vec<[f64; LANES]>,
    norms: Vec<[f64; LANES]>,
}

impl Tiles {
    fn new(data: &[f64], d: usize) -> Tiles {
        let n = data.len() / d;
        let count = n.div_ceil(LANES);
        let mut tiles = vec![[0.0; LANES]; count * d];
        let mut norms = vec![[f64::INFINITY; LANES]; count];
        for (i, row) in data.chunks_exact(d).enumerate() {
            let (t, lane) = (i / LANES, i % LANES);
            for (f, v) in row.iter().enumerate() {
                tiles[t * d + f][lane] = *v;
            }
            norms[t][lane] = row.iter().map(|v| v * v).sum();
        }
        Tiles { tiles, norms }
    }
}

/// The `k` nearest so far of one query: (squared distance, fit row), ascending.
struct Nearest {
    list: Vec<(f64, u32)>,
    k: usize,
    /// The k-th distance kept (infinite while fewer are kept): an offer above it is refused.
    worst: f64,
}

impl Nearest {
    fn new(k: usize) -> Self {
        Nearest {
            list: Vec::with_capacity(k + 1),
            k,
            worst: f64::INFINITY,
        }
    }

    /// Keeps `(dist, row)` if it is among the nearest, ordered by distance then row: the list
    /// kept does not depend on the order of the offers.
    fn offer(&mut self, dist: f64, row: u32) {
        let at = self.list.partition_point(|e| e.0 < dist || (e.0 == dist && e.1 < row));
        if at < self.k {
            self.list.insert(at, (dist, row));
            self.list.truncate(self.k);
            if self.list.len() == self.k {
                self.worst = self.list[self.k - 1].0;
            }
        }
    }
}

/// One step of query rows: the rows (a short step repeats its last row, whose results are not
/// kept), their values feature by feature, each twice (a register's two lanes), and their
/// squared norms.
struct Step<'a> {
    rows: Vec<&'a [f64]>,
    values: Vec<[[f64; 2]; QUERIES]>,
    norms: [f64; QUERIES],
}

impl<'a> Step<'a> {
    /// Query rows `q0..q0 + m` of `queries` (`d` values a row).
    fn new(queries: &'a [f64], d: usize, q0: usize, m: usize) -> Self {
        let rows: Vec<&[f64]> = (0..QUERIES)
            .map(|r| {
                let i = q0 + r.min(m - 1);
                &queries[i * d..(i + 1) * d]
            })
            .collect();
        let values = (0..d).map(|f| std::array::from_fn(|r| [rows[r][f]; 2])).collect();
        let norms = std::array::from_fn(|r| rows[r].iter().map(|v| v * v).sum());
        Step { rows, values, norms }
    }

    /// Squared distances (through the norms and dot products, floored at 0) of the step's rows
    /// to the rows of one tile.
    #[inline(always)]
    fn distances(&self, norms: &[f64; LANES], tile: &[[f64; LANES]]) -> [[f64; LANES]; QUERIES] {
        let mut acc = [[0.0; LANES]; QUERIES];
        for (q, col) in self.values.iter().zip(tile) {
            for (a, v) in acc.iter_mut().zip(q) {
                for (a, c) in a.chunks_exact_mut(2).zip(col.chunks_exact(2)) {
                    a[0] += v[0] * c[0];
                    a[1] += v[1] * c[1];
                }
            }
        }
        std::array::from_fn(|r| std::array::from_fn(|lane| (self.norms[r] + norms[lane] - 2.0 * acc[r][lane]).max(0.0)))
    }
}

/// Offers row `j` at squared distance `dist` to `nr`, unless it is no nearer than its worst.
#[inline(always)]
fn offer(nr: &mut Nearest, dist: f64, j: usize) {
    if dist <= nr.worst {
        nr.offer(dist, j as u32);
    }
}

/// The kept neighbours of `row` with their exact Euclidean distances, ascending.
fn exact(data: &[f64], d: usize, row: &[f64], nr: Nearest) -> Vec<(f64, u32)> {
    let mut out: Vec<(f64, u32)> = nr
        .list
        .into_iter()
        .map(|(_, j)| {
            let t = &data[j as usize * d..(j as usize + 1) * d];
            let s: f64 = row.iter().zip(t).map(|(a, b)| (a - b) * (a - b)).sum();
            (s.sqrt(), j)
        })
        .collect();
    out.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    out
}

/// The `k` nearest fit rows (`data`, `d` values a row) of each query row (`queries`, row after
/// row), as (exact Euclidean distance, fit row) ascending.
fn nearest(data: &[f64], d: usize, queries: &[f64], k: usize) -> Vec<Vec<(f64, u32)>> {
    let tiles = Tiles::new(data, d);
    let n = data.len() / d;
    let nq = queries.len() / d;
    let mut out: Vec<Vec<(f64, u32)>> = (0..nq).map(|_| Vec::new()).collect();
    out.par_chunks_mut(TASK).enumerate().for_each(|(task, outs)| {
        for (s, outs) in outs.chunks_mut(QUERIES).enumerate() {
            let m = outs.len();
            let step = Step::new(queries, d, task * TASK + s * QUERIES, m);
            let mut near: Vec<Nearest> = (0..m).map(|_| Nearest::new(k)).collect();
            for (t, (norms, tile)) in tiles.norms.iter().zip(tiles.tiles.chunks_exact(d)).enumerate() {
                let dist = step.distances(norms, tile);
                for (nr, dist) in near.iter_mut().zip(&dist) {
                    if dist.iter().all(|v| *v > nr.worst) {
                        continue;
                    }
                    for (lane, &dv) in dist.iter().enumerate().filter(|(l, _)| t * LANES + l < n) {
                        offer(nr, dv, t * LANES + lane);
                    }
                }
            }
            for ((o, nr), row) in outs.iter_mut().zip(near).zip(&step.rows) {
                *o = exact(data, d, row, nr);
            }
        }
    });
    out
}

/// The `k` nearest other fit rows of every fit row. Each pair of rows is compared once: the
/// rows are cut into blocks of [`TASK`] and every pair of blocks is visited once, its distances
/// offered to both blocks' rows. Pairs are taken in rounds in which no block appears twice (a
/// round-robin schedule), so that the pairs of a round run in parallel; the lists kept do not
/// depend on the order of the offers, so neither do the results.
fn nearest_among(data: &[f64], d: usize, k: usize) -> Vec<Vec<(f64, u32)>> {
    let tiles = Tiles::new(data, d);
    let n = data.len() / d;
    let blocks = n.div_ceil(TASK);
    let lists: Vec<Mutex<Vec<Nearest>>> = (0..blocks)
        .map(|b| Mutex::new((b * TASK..((b + 1) * TASK).min(n)).map(|_| Nearest::new(k)).collect()))
        .collect();
    let visit = |a: usize, b: usize| {
        let mut la = lists[a].lock().expect("a block's lists");
        let mut lb = (a != b).then(|| lists[b].lock().expect("a block's lists"));
        for (s, near) in la.chunks_mut(QUERIES).enumerate() {
            let q0 = a * TASK + s * QUERIES;
            let step = Step::new(data, d, q0, near.len());
            let first = b * TASK / LANES;
            let last = (((b + 1) * TASK).min(n)).div_ceil(LANES);
            for t in first..last {
                let dist = step.distances(&tiles.norms[t], &tiles.tiles[t * d..(t + 1) * d]);
                for (r, (nr, dist)) in near.iter_mut().zip(&dist).enumerate() {
                    for (lane, &dv) in dist.iter().enumerate() {
                        let j = t * LANES + lane;
                        if j >= n || j == q0 + r {
                            continue;
                        }
                        offer(nr, dv, j);
                        if let Some(lb) = lb.as_mut() {
                            offer(&mut lb[j - b * TASK], dv, q0 + r);
                        }
                    }
                }
            }
        }
    };
    // The circle method: with an even count of teams (a bye when odd), one team stays and
    // the others rotate; every pair meets in exactly one round.
    let teams = blocks + blocks % 2;
    for round in 0..teams.saturating_sub(1) {
        let rest = teams - 1;
        let pairs: Vec<(usize, usize)> = (0..teams / 2)
            .map(|p| {
                if p == 0 {
                    (round, teams - 1)
                } else {
                    ((round + p) % rest, (round + rest - p) % rest)
                }
            })
            .filter(|&(a, b)| a < blocks && b < blocks)
            .collect();
        pairs.par_iter().for_each(|&(a, b)| visit(a, b));
    }
    (0..blocks).into_par_iter().for_each(|a| visit(a, a));
    lists
        .into_iter()
        .flat_map(|m| m.into_inner().expect("a block's lists"))
        .enumerate()
        .map(|(i, nr)| exact(data, d, &data[i * d..(i + 1) * d], nr))
        .collect()
}

/// Settings shared by kNN and LOF.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NeighbourParams {
    /// Neighbours (kNN default 5, LOF default 20).
    pub k: usize,
    /// Fit on a seeded sample of this many rows when the table has more (at most
    /// [`NEIGHBOUR_ROW_LIMIT`]); without it, a table above the limit is refused.
    pub max_rows: Option<usize>,
    /// Seed of the sample.
    pub seed: u64,
}

impl NeighbourParams {
    /// kNN's defaults (PyOD's): 5 neighbours.
    pub fn knn() -> Self {
        NeighbourParams {
            k: 5,
            max_rows: None,
            seed: 42,
        }
    }

    /// LOF's defaults (PyOD's): 20 neighbours.
    pub fn lof() -> Self {
        NeighbourParams {
            k: 20,
            ..NeighbourParams::knn()
        }
    }
}

/// The fit rows after the row limit and `max_rows`, one after another.
fn fit_rows(what: &str, names: &[String], x: &[&[f64]], p: &NeighbourParams) -> Result<Vec<f64>> {
    let n = super::check_table(what, names, x)?;
    if let Some(m) = p.max_rows
        && !(1..=NEIGHBOUR_ROW_LIMIT).contains(&m)
    {
        return Err(Error::Internal(format!(
            "{what}: `max_rows` is {m}; it must be between 1 and {NEIGHBOUR_ROW_LIMIT}, the row limit of exact neighbours"
        )));
    }
    let keep: Vec<usize> = match p.max_rows {
        Some(m) if n > m => {
            let mut idx: Vec<usize> = (0..n).collect();
            Rng::derive(p.seed, "neighbours.sample").shuffle(&mut idx);
            idx.truncate(m);
            idx.sort_unstable();
            idx
        }
        None if n > NEIGHBOUR_ROW_LIMIT => {
            return Err(Error::Internal(format!(
                "{what}: {n} rows are above the limit of {NEIGHBOUR_ROW_LIMIT} for exact neighbours \
                 (every row is compared with every other); set `max_rows` (for example \
                 {NEIGHBOUR_ROW_LIMIT}) to fit on a seeded sample of the rows"
            )));
        }
        _ => (0..n).collect(),
    };
    if p.k == 0 || p.k >= keep.len() {
        return Err(Error::Internal(format!(
            "{what}: `k` is {} but the fit takes {} rows; k must be at least 1 and below the rows",
            p.k,
            keep.len()
        )));
    }
    let d = x.len();
    let mut data = vec![0.0; keep.len() * d];
    for (r, &i) in keep.iter().enumerate() {
        for (f, c) in x.iter().enumerate() {
            data[r * d + f] = c[i];
        }
    }
    Ok(data)
}

/// Columns `x` laid out row after row.
fn rows_of(x: &[&[f64]]) -> Vec<f64> {
    super::kmeans::Table::from_columns(x).data
}

/// The mean per-dimension squared difference of `row` from its neighbours (the reasons).
fn dimensions(data: &[f64], d: usize, row: &[f64], near: &[(f64, u32)]) -> Vec<f64> {
    let mut out = vec![0.0; d];
    for &(_, j) in near {
        let t = &data[j as usize * d..(j as usize + 1) * d];
        for ((o, a), b) in out.iter_mut().zip(row).zip(t) {
            *o += (a - b) * (a - b);
        }
    }
    out.iter_mut().for_each(|v| *v /= near.len().max(1) as f64);
    out
}

/// kNN distance: a row's score is its distance to its k-th nearest fit row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Knn {
    /// Feature names, in column order.
    pub features: Vec<String>,
    /// The fit rows, one after another.
    pub data: Vec<f64>,
    /// Each fit row's score among the other fit rows (the ensemble's rank reference).
    pub fit_scores: Vec<f64>,
    /// The settings used.
    pub params: NeighbourParams,
}

impl Knn {
    /// Fits on columns `x` (named `names`): keeps the rows (or the `max_rows` sample).
    pub fn fit(names: &[String], x: &[&[f64]], params: &NeighbourParams) -> Result<Self> {
        let data = fit_rows("knn", names, x, params)?;
        let d = names.len();
        let fit_scores = nearest_among(&data, d, params.k)
            .iter()
            .map(|nr| nr[params.k - 1].0)
            .collect();
        Ok(Knn {
            features: names.to_vec(),
            data,
            fit_scores,
            params: params.clone(),
        })
    }

    /// The anomaly score of each row: its distance to its k-th nearest fit row.
    pub fn score(&self, x: &[&[f64]]) -> Vec<f64> {
        let d = self.features.len();
        nearest(&self.data, d, &rows_of(x), self.params.k)
            .iter()
            .map(|nr| nr[nr.len() - 1].0)
            .collect()
    }

    /// The mean squared difference per dimension from the row's k nearest fit rows.
    pub fn dimensions(&self, row: &[f64]) -> Vec<f64> {
        let d = self.features.len();
        let near = nearest(&self.data, d, row, self.params.k);
        dimensions(&self.data, d, row, &near[0])
    }
}

/// Local outlier factor: the mean local reachability density of a row's k nearest fit rows over
/// its own (Breunig et al. 2000); near 1 inside a cluster, large for a row in a sparse spot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lof {
    /// Feature names, in column order.
    pub features: Vec<String>,
    /// The fit rows, one after another.
    pub data: Vec<f64>,
    /// Each fit row's distance to its k-th nearest other fit row.
    pub k_distance: Vec<f64>,
    /// Each fit row's local reachability density.
    pub lrd: Vec<f64>,
    /// Each fit row's LOF among the other fit rows (the ensemble's rank reference).
    pub fit_scores: Vec<f64>,
    /// The settings used.
    pub params: NeighbourParams,
}

/// The local reachability density from a row's neighbours: one over the mean reachability
/// distance `max(k_distance(o), d(p, o))` (plus 1e-10, as scikit-learn, for duplicates).
fn lrd(near: &[(f64, u32)], k_distance: &[f64]) -> f64 {
    let reach: f64 = near.iter().map(|&(dist, j)| dist.max(k_distance[j as usize])).sum();
    1.0 / (reach / near.len() as f64 + 1e-10)
}

fn lof(near: &[(f64, u32)], own: f64, lrds: &[f64]) -> f64 {
    near.iter().map(|&(_, j)| lrds[j as usize]).sum::<f64>() / near.len() as f64 / own
}

impl Lof {
    /// Fits on columns `x` (named `names`): the rows (or the `max_rows` sample), their k-distances
    /// and local reachability densities.
    pub fn fit(names: &[String], x: &[&[f64]], params: &NeighbourParams) -> Result<Self> {
        let data = fit_rows("lof", names, x, params)?;
        let d = names.len();
        let near = nearest_among(&data, d, params.k);
        let k_distance: Vec<f64> = near.iter().map(|nr| nr[params.k - 1].0).collect();
        let lrds: Vec<f64> = near.iter().map(|nr| lrd(nr, &k_distance)).collect();
        let fit_scores = near.iter().zip(&lrds).map(|(nr, &own)| lof(nr, own, &lrds)).collect();
        Ok(Lof {
            features: names.to_vec(),
            data,
            k_distance,
            lrd: lrds,
            fit_scores,
            params: params.clone(),
        })
    }

    /// The anomaly score of each row: its local outlier factor against the fit rows.
    pub fn score(&self, x: &[&[f64]]) -> Vec<f64> {
        let d = self.features.len();
        nearest(&self.data, d, &rows_of(x), self.params.k)
            .iter()
            .map(|nr| lof(nr, lrd(nr, &self.k_distance), &self.lrd))
            .collect()
    }

    /// The mean squared difference per dimension from the row's k nearest fit rows.
    pub fn dimensions(&self, row: &[f64]) -> Vec<f64> {
        let d = self.features.len();
        let near = nearest(&self.data, d, row, self.params.k);
        dimensions(&self.data, d, row, &near[0])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn brute(data: &[f64], d: usize, q: &[f64], k: usize, skip: Option<usize>) -> Vec<f64> {
        let mut all: Vec<f64> = data
            .chunks_exact(d)
            .enumerate()
            .filter(|(j, _)| Some(*j) != skip)
            .map(|(_, t)| t.iter().zip(q).map(|(a, b)| (a - b) * (a - b)).sum::<f64>().sqrt())
            .collect();
        all.sort_by(f64::total_cmp);
        all.truncate(k);
        all
    }

    #[test]
    fn the_kernel_finds_the_exact_neighbours() {
        // 203 rows (not a multiple of the tile or the task), 5 features, some duplicates.
        let mut rng = Rng::new(3);
        let d = 5;
        let mut data: Vec<f64> = (0..203 * d).map(|_| rng.normal() * 100.0 + 1e3).collect();
        data.copy_within(0..d, 7 * d);
        for (skip, queries) in [
            (true, data.clone()),
            (false, (0..37 * d).map(|_| rng.normal()).collect()),
        ] {
            let got = if skip {
                nearest_among(&data, d, 6)
            } else {
                nearest(&data, d, &queries, 6)
            };
            for (i, nr) in got.iter().enumerate() {
                let want = brute(&data, d, &queries[i * d..(i + 1) * d], 6, skip.then_some(i));
                let dists: Vec<f64> = nr.iter().map(|e| e.0).collect();
                for (a, b) in dists.iter().zip(&want) {
                    assert!((a - b).abs() < 1e-9 * b.max(1.0), "row {i}: {dists:?} vs {want:?}");
                }
                if skip {
                    assert!(nr.iter().all(|e| e.1 as usize != i));
                }
            }
        }
    }

    /// A dense blob, a sparse blob, and one row between them.
    fn blobs() -> (Vec<f64>, Vec<f64>) {
        let mut rng = Rng::new(8);
        let (mut a, mut b) = (Vec::new(), Vec::new());
        for (c, s) in [(0.0, 0.1), (10.0, 2.0)] {
            for _ in 0..300 {
                a.push(c + s * rng.normal());
                b.push(c + s * rng.normal());
            }
        }
        a.push(1.5);
        b.push(1.5);
        (a, b)
    }

    #[test]
    fn lof_finds_the_row_beside_the_dense_blob() {
        let (a, b) = blobs();
        let names = vec!["a".to_string(), "b".to_string()];
        let m = Lof::fit(&names, &[&a, &b], &NeighbourParams::lof()).unwrap();
        let top = (0..m.fit_scores.len())
            .max_by(|&i, &j| m.fit_scores[i].total_cmp(&m.fit_scores[j]))
            .unwrap();
        assert_eq!(top, 600, "{}", m.fit_scores[600]);
        // Inside a blob, a factor near one.
        let inside = m.score(&[&[0.0], &[0.0]])[0];
        assert!((0.8..1.3).contains(&inside), "{inside}");
        let knn = Knn::fit(&names, &[&a, &b], &NeighbourParams::knn()).unwrap();
        // The k-th neighbour of a fit row is another row: never itself at distance zero.
        assert!(knn.fit_scores.iter().all(|v| *v > 0.0));
        let s = knn.score(&[&[1.5, 20.0], &[1.5, 20.0]]);
        assert!(s[1] > s[0]);
        assert_eq!(knn.dimensions(&[1.5, 20.0]).len(), 2);
        let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
        let again = one.install(|| Lof::fit(&names, &[&a, &b], &NeighbourParams::lof()).unwrap());
        assert_eq!(again, m);
    }

    #[test]
    fn limits_are_refused_by_name() {
        let a = vec![0.0; 30];
        let names = vec!["a".to_string()];
        let e = Lof::fit(
            &names,
            &[&a],
            &NeighbourParams {
                k: 30,
                ..NeighbourParams::lof()
            },
        )
        .unwrap_err();
        assert!(e.to_string().contains("`k` is 30 but the fit takes 30 rows"), "{e}");
        let big = vec![0.0; NEIGHBOUR_ROW_LIMIT + 1];
        let e = Knn::fit(&names, &[&big], &NeighbourParams::knn()).unwrap_err();
        assert!(
            e.to_string().contains("above the limit of 100000") && e.to_string().contains("`max_rows`"),
            "{e}"
        );
        let sampled = Knn::fit(
            &names,
            &[&big[..1000]],
            &NeighbourParams {
                max_rows: Some(100),
                ..NeighbourParams::knn()
            },
        )
        .unwrap();
        assert_eq!(sampled.data.len(), 100);
    }
}
