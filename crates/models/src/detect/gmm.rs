//! Gaussian mixture: a mixture of Gaussians fitted by expectation-maximisation from k-means
//! responsibilities; a row's anomaly score is its negative log-likelihood under the mixture.
//! Covariances are full (a Cholesky factor per component) or diagonal.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use riskpipe_core::{Error, Result};

use super::kmeans::{CHUNK, Table};
use super::{KMeans, KMeansParams};

/// The shape of each component's covariance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Covariance {
    /// A full matrix per component: correlated features.
    Full,
    /// A variance per feature and component: features independent within a component.
    Diag,
}

/// Settings of the Gaussian mixture.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GmmParams {
    /// Mixture components (default 1: the Mahalanobis distance to the data's centre).
    pub components: usize,
    /// Covariance shape (default full).
    pub covariance: Covariance,
    /// EM iterations at most (default 100).
    pub max_iter: usize,
    /// Stop when the mean log-likelihood per row changes by less than this (default 1e-3).
    pub tol: f64,
    /// Added to each variance so that no covariance is singular (default 1e-6).
    pub reg_covar: f64,
    /// Seed of the k-means that starts EM.
    pub seed: u64,
}

impl Default for GmmParams {
    fn default() -> Self {
        GmmParams {
            components: 1,
            covariance: Covariance::Full,
            max_iter: 100,
            tol: 1e-3,
            reg_covar: 1e-6,
            seed: 42,
        }
    }
}

/// A fitted Gaussian mixture.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GaussianMixture {
    /// Feature names, in column order.
    pub features: Vec<String>,
    /// Mixture weights, summing to one.
    pub weights: Vec<f64>,
    /// Component means, one row of `features.len()` values each.
    pub means: Vec<Vec<f64>>,
    /// Per component: the covariance matrix row after row (full), or the variances (diag).
    pub covariances: Vec<Vec<f64>>,
    /// EM iterations run.
    pub iterations: usize,
    /// Mean log-likelihood per training row at the end.
    pub log_likelihood: f64,
    /// The settings used.
    pub params: GmmParams,
}

/// A component ready to score: its mean, its covariance factor and the constant of its log
/// density (with the log weight).
struct Prepared {
    mean: Vec<f64>,
    /// Full: the lower Cholesky factor, row after row. Diag: the variances.
    factor: Vec<f64>,
    constant: f64,
}

const LN_2PI: f64 = 1.837_877_066_409_345_5;

/// The lower Cholesky factor of the `d x d` matrix `a` (row after row), or `None` when `a` is
/// not positive definite.
fn cholesky(a: &[f64], d: usize) -> Option<Vec<f64>> {
    let mut l = vec![0.0; d * d];
    for i in 0..d {
        for j in 0..=i {
            let s: f64 = (0..j).map(|k| l[i * d + k] * l[j * d + k]).sum();
            if i == j {
                // A pivot lost to rounding against its diagonal counts as zero.
                let v = a[i * d + i] - s;
                if !(v > 1e-12 * a[i * d + i] && v.is_finite()) {
                    return None;
                }
                l[i * d + i] = v.sqrt();
            } else {
                l[i * d + j] = (a[i * d + j] - s) / l[j * d + j];
            }
        }
    }
    Some(l)
}

fn prepare(
    weights: &[f64],
    means: &[Vec<f64>],
    covariances: &[Vec<f64>],
    kind: Covariance,
) -> std::result::Result<Vec<Prepared>, usize> {
    let d = means.first().map_or(0, |m| m.len());
    weights
        .iter()
        .zip(means.iter().zip(covariances))
        .enumerate()
        .map(|(j, (&w, (mean, cov)))| {
            let (factor, log_det) = match kind {
                Covariance::Full => {
                    let l = cholesky(cov, d).ok_or(j)?;
                    let log_det = 2.0 * (0..d).map(|i| l[i * d + i].ln()).sum::<f64>();
                    (l, log_det)
                }
                Covariance::Diag => {
                    if cov.iter().any(|v| !(*v > 0.0 && v.is_finite())) {
                        return Err(j);
                    }
                    (cov.clone(), cov.iter().map(|v| v.ln()).sum())
                }
            };
            Ok(Prepared {
                mean: mean.clone(),
                factor,
                constant: w.ln() - 0.5 * (d as f64 * LN_2PI + log_det),
            })
        })
        .collect()
}

/// The squared Mahalanobis distance of `row` from component `c` (`z` is scratch space).
fn mahalanobis(row: &[f64], c: &Prepared, kind: Covariance, z: &mut [f64]) -> f64 {
    let d = row.len();
    match kind {
        Covariance::Full => {
            // Forward substitution: z = L^-1 (x - mean).
            let mut total = 0.0;
            for i in 0..d {
                let li = &c.factor[i * d..i * d + i];
                let s: f64 = li.iter().zip(&z[..i]).map(|(a, b)| a * b).sum();
                z[i] = (row[i] - c.mean[i] - s) / c.factor[i * d + i];
                total += z[i] * z[i];
            }
            total
        }
        Covariance::Diag => row
            .iter()
            .zip(&c.mean)
            .zip(&c.factor)
            .map(|((x, m), v)| (x - m) * (x - m) / v)
            .sum(),
    }
}

/// Each component's log weight plus log density at `row`, in `out`.
fn log_probs(row: &[f64], comps: &[Prepared], kind: Covariance, z: &mut [f64], out: &mut [f64]) {
    for (o, c) in out.iter_mut().zip(comps) {
        *o = c.constant - 0.5 * mahalanobis(row, c, kind, z);
    }
}

/// `ln sum exp(v)`, stable.
fn log_sum_exp(v: &[f64]) -> f64 {
    let m = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !m.is_finite() {
        return m;
    }
    m + v.iter().map(|x| (x - m).exp()).sum::<f64>().ln()
}

fn not_definite(j: usize, params: &GmmParams) -> Error {
    Error::Internal(format!(
        "gaussian mixture: the covariance of component {} is not positive definite (a feature \
         constant within it, or two features equal); raise `reg_covar` (now {}) or use \
         `covariance: diag`",
        j + 1,
        params.reg_covar
    ))
}

/// Adds `f(chunk part)` over chunks of `t` (and of `resp`, `k` values a row), in chunk order.
fn chunk_sums(
    t: &Table,
    resp: &[f64],
    k: usize,
    len: usize,
    f: impl Fn(&[f64], &[f64], &mut [f64]) + Sync,
) -> Vec<f64> {
    let parts: Vec<Vec<f64>> = t
        .data
        .par_chunks(CHUNK * t.d)
        .zip(resp.par_chunks(CHUNK * k))
        .map(|(rows, r)| {
            let mut acc = vec![0.0; len];
            f(rows, r, &mut acc);
            acc
        })
        .collect();
    let mut out = vec![0.0; len];
    for p in parts {
        out.iter_mut().zip(&p).for_each(|(a, b)| *a += b);
    }
    out
}

/// The M step: weights, means and covariances from the responsibilities `resp` (`k` a row).
fn m_step(t: &Table, resp: &[f64], k: usize, params: &GmmParams) -> (Vec<f64>, Vec<Vec<f64>>, Vec<Vec<f64>>) {
    let (n, d) = (t.rows(), t.d);
    let first = chunk_sums(t, resp, k, k * (d + 1), |rows, r, acc| {
        for (row, r) in rows.chunks_exact(d).zip(r.chunks_exact(k)) {
            for (j, &w) in r.iter().enumerate() {
                if w == 0.0 {
                    continue;
                }
                acc[j * (d + 1)] += w;
                for (a, v) in acc[j * (d + 1) + 1..(j + 1) * (d + 1)].iter_mut().zip(row) {
                    *a += w * v;
                }
            }
        }
    });
    // As scikit-learn: a component's mass is never exactly zero.
    let nk: Vec<f64> = (0..k).map(|j| first[j * (d + 1)] + 10.0 * f64::EPSILON).collect();
    let means: Vec<Vec<f64>> = (0..k)
        .map(|j| {
            first[j * (d + 1) + 1..(j + 1) * (d + 1)]
                .iter()
                .map(|s| s / nk[j])
                .collect()
        })
        .collect();
    let width = match params.covariance {
        Covariance::Full => d * d,
        Covariance::Diag => d,
    };
    let kind = params.covariance;
    let second = chunk_sums(t, resp, k, k * width, |rows, r, acc| {
        let mut diff = vec![0.0; d];
        for (row, r) in rows.chunks_exact(d).zip(r.chunks_exact(k)) {
            for (j, &w) in r.iter().enumerate() {
                if w == 0.0 {
                    continue;
                }
                diff.iter_mut()
                    .zip(row.iter().zip(&means[j]))
                    .for_each(|(o, (x, m))| *o = x - m);
                let a = &mut acc[j * width..(j + 1) * width];
                match kind {
                    Covariance::Full => {
                        for p in 0..d {
                            let wp = w * diff[p];
                            for q in 0..=p {
                                a[p * d + q] += wp * diff[q];
                            }
                        }
                    }
                    Covariance::Diag => a.iter_mut().zip(&diff).for_each(|(o, v)| *o += w * v * v),
                }
            }
        }
    });
    let covariances = (0..k)
        .map(|j| {
            let mut c: Vec<f64> = second[j * width..(j + 1) * width].iter().map(|s| s / nk[j]).collect();
            match kind {
                Covariance::Full => {
                    for p in 0..d {
                        for q in 0..p {
                            c[q * d + p] = c[p * d + q];
                        }
                        c[p * d + p] += params.reg_covar;
                    }
                }
                Covariance::Diag => c.iter_mut().for_each(|v| *v += params.reg_covar),
            }
            c
        })
        .collect();
    let weights = nk.iter().map(|v| v / n as f64).collect();
    (weights, means, covariances)
}

/// The E step: each row's responsibilities (in `resp`) and the mean log-likelihood per row.
fn e_step(t: &Table, comps: &[Prepared], kind: Covariance, resp: &mut [f64]) -> f64 {
    let (k, d) = (comps.len(), t.d);
    let parts: Vec<f64> = resp
        .par_chunks_mut(CHUNK * k)
        .zip(t.data.par_chunks(CHUNK * d))
        .map(|(r, rows)| {
            let (mut z, mut total) = (vec![0.0; d], 0.0);
            for (r, row) in r.chunks_exact_mut(k).zip(rows.chunks_exact(d)) {
                log_probs(row, comps, kind, &mut z, r);
                let lse = log_sum_exp(r);
                r.iter_mut().for_each(|v| *v = (*v - lse).exp());
                total += lse;
            }
            total
        })
        .collect();
    parts.iter().sum::<f64>() / t.rows() as f64
}

impl GaussianMixture {
    /// Fits on columns `x` (named `names`); no target.
    pub fn fit(names: &[String], x: &[&[f64]], params: &GmmParams) -> Result<Self> {
        let n = super::check_table("gaussian mixture", names, x)?;
        let k = params.components;
        if k == 0 || k > n {
            return Err(Error::Internal(format!(
                "gaussian mixture: `components` is {k} but the table has {n} rows; it must be \
                 between 1 and the rows"
            )));
        }
        let t = Table::from_columns(x);
        // Start from hard k-means responsibilities, as scikit-learn does.
        let mut resp = vec![0.0; n * k];
        if k == 1 {
            resp.iter_mut().for_each(|v| *v = 1.0);
        } else {
            let km = KMeans::fit(
                names,
                x,
                &KMeansParams {
                    k,
                    max_iter: 300,
                    tol: 1e-4,
                    seed: params.seed,
                },
            )?;
            for (i, j) in km.nearest_centres(&t).into_iter().enumerate() {
                resp[i * k + j as usize] = 1.0;
            }
        }
        let (mut weights, mut means, mut covariances) = m_step(&t, &resp, k, params);
        let (mut iterations, mut log_likelihood) = (0, f64::NEG_INFINITY);
        for _ in 0..params.max_iter {
            iterations += 1;
            let comps =
                prepare(&weights, &means, &covariances, params.covariance).map_err(|j| not_definite(j, params))?;
            let ll = e_step(&t, &comps, params.covariance, &mut resp);
            (weights, means, covariances) = m_step(&t, &resp, k, params);
            let change = (ll - log_likelihood).abs();
            log_likelihood = ll;
            if change < params.tol {
                break;
            }
        }
        prepare(&weights, &means, &covariances, params.covariance).map_err(|j| not_definite(j, params))?;
        Ok(GaussianMixture {
            features: names.to_vec(),
            weights,
            means,
            covariances,
            iterations,
            log_likelihood,
            params: params.clone(),
        })
    }

    fn prepared(&self) -> Vec<Prepared> {
        // A fitted (or read back and checked) mixture's covariances are positive definite.
        prepare(&self.weights, &self.means, &self.covariances, self.params.covariance).unwrap_or_default()
    }

    /// The anomaly score of each row: its negative log-likelihood under the mixture.
    pub fn score(&self, x: &[&[f64]]) -> Vec<f64> {
        let comps = self.prepared();
        let kind = self.params.covariance;
        let d = self.features.len();
        crate::predict_rows(x, |row| {
            let (mut z, mut lp) = (vec![0.0; d], vec![0.0; comps.len()]);
            log_probs(row, &comps, kind, &mut z, &mut lp);
            -log_sum_exp(&lp)
        })
    }

    /// Each feature's squared standardised distance from the mean of the row's most likely
    /// component, `(x - mean)^2 / variance` (the component's marginal variance): the reasons.
    pub fn deviations(&self, row: &[f64]) -> Vec<f64> {
        let comps = self.prepared();
        let (d, kind) = (self.features.len(), self.params.covariance);
        let (mut z, mut lp) = (vec![0.0; d], vec![0.0; comps.len()]);
        log_probs(row, &comps, kind, &mut z, &mut lp);
        let j = (0..lp.len()).fold(0, |b, i| if lp[i] > lp[b] { i } else { b });
        let var = |f: usize| match kind {
            Covariance::Full => self.covariances[j][f * d + f],
            Covariance::Diag => self.covariances[j][f],
        };
        (0..d).map(|f| (row[f] - self.means[j][f]).powi(2) / var(f)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use riskpipe_core::Rng;

    /// Two correlated blobs in 2-D (a along b) and a row that breaks the correlation.
    fn data() -> (Vec<f64>, Vec<f64>) {
        let mut rng = Rng::new(9);
        let (mut a, mut b) = (Vec::new(), Vec::new());
        for (cx, cy) in [(0.0, 0.0), (20.0, 20.0)] {
            for _ in 0..500 {
                let u = rng.normal();
                a.push(cx + 3.0 * u);
                b.push(cy + 3.0 * u + 0.3 * rng.normal());
            }
        }
        // Inside both marginal ranges, far off the line a = b.
        a.push(3.0);
        b.push(-3.0);
        (a, b)
    }

    #[test]
    fn full_covariance_finds_the_row_off_the_correlation() {
        let (a, b) = data();
        let names = vec!["a".to_string(), "b".to_string()];
        let p = GmmParams {
            components: 2,
            ..GmmParams::default()
        };
        let m = GaussianMixture::fit(&names, &[&a, &b], &p).unwrap();
        let mut w = m.weights.clone();
        w.sort_by(f64::total_cmp);
        assert!((w[0] - 0.5).abs() < 0.01 && (w[1] - 0.5).abs() < 0.01, "{w:?}");
        let s = m.score(&[&a, &b]);
        let top = (0..s.len()).max_by(|&i, &j| s[i].total_cmp(&s[j])).unwrap();
        assert_eq!(top, 1000);
        // A diagonal mixture cannot see a broken correlation: the row is unremarkable to it.
        let diag = GmmParams {
            covariance: Covariance::Diag,
            ..p.clone()
        };
        let md = GaussianMixture::fit(&names, &[&a, &b], &diag).unwrap();
        let sd = md.score(&[&a, &b]);
        let above = sd.iter().filter(|v| **v > sd[1000]).count();
        assert!(above > 50, "{above}");
        // Same bits on one thread.
        let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
        let again = one.install(|| GaussianMixture::fit(&names, &[&a, &b], &p).unwrap());
        assert_eq!(
            serde_json::to_string(&again).unwrap(),
            serde_json::to_string(&m).unwrap()
        );
    }

    #[test]
    fn one_component_is_the_gaussian_log_likelihood() {
        // One component fitted on a sample: the mean and (population) variance, and the
        // score of a row is the negative log density of N(mean, var).
        let a = [1.0, 2.0, 3.0, 4.0, 5.0];
        let p = GmmParams {
            covariance: Covariance::Diag,
            reg_covar: 0.0,
            ..GmmParams::default()
        };
        let m = GaussianMixture::fit(&["a".into()], &[&a], &p).unwrap();
        assert!((m.means[0][0] - 3.0).abs() < 1e-12);
        assert!((m.covariances[0][0] - 2.0).abs() < 1e-12);
        let s = m.score(&[&[5.0]]);
        let want = 0.5 * (LN_2PI + 2f64.ln() + 4.0 / 2.0);
        assert!((s[0] - want).abs() < 1e-9, "{} vs {want}", s[0]);
    }

    #[test]
    fn a_singular_covariance_names_the_fix() {
        // Two equal features: a singular covariance.
        let a = [1.0, 2.0, 3.0, 4.0];
        let p = GmmParams {
            reg_covar: 0.0,
            ..GmmParams::default()
        };
        let e = GaussianMixture::fit(&["a".into(), "b".into()], &[&a, &a], &p).unwrap_err();
        assert!(e.to_string().contains("raise `reg_covar`"), "{e}");
        let e = GaussianMixture::fit(
            &["a".into()],
            &[&a],
            &GmmParams {
                components: 5,
                ..GmmParams::default()
            },
        )
        .unwrap_err();
        assert!(
            e.to_string().contains("`components` is 5 but the table has 4 rows"),
            "{e}"
        );
    }
}
