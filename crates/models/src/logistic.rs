//! Logistic regression fitted by Newton's method (IRLS) on the weighted mean log loss with L2,
//! and with L1 (lasso, or elastic net with both) by proximal Newton: each Newton step solves
//! the L1-penalised quadratic model by coordinate descent, then a line search on the true
//! objective.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use riskpipe_core::{Error, Result};

/// Checked parameters of a logistic regression.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LogisticParams {
    /// L2 penalty on the coefficients (not the intercept), added to the mean log loss as
    /// `l2 / 2 * |beta|^2`.
    pub l2: f64,
    /// Newton iterations at most.
    pub max_iter: usize,
    /// Stop when the gradient's max-norm falls below this.
    pub tol: f64,
    /// Weigh the classes equally (`class_weight: balanced`) when no sample weights are given.
    #[serde(default, skip_serializing_if = "crate::is_false")]
    pub balanced: bool,
    /// L1 penalty on the coefficients, added as `l1 * |beta|_1` (0: none; with `l2` > 0 too,
    /// the elastic net).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub l1: f64,
}

#[expect(
    clippy::trivially_copy_pass_by_ref,
    reason = "serde's skip_serializing_if passes a reference"
)]
fn is_zero(v: &f64) -> bool {
    *v == 0.0
}

impl Default for LogisticParams {
    fn default() -> Self {
        LogisticParams {
            l2: 1e-4,
            max_iter: 100,
            tol: 1e-8,
            balanced: false,
            l1: 0.0,
        }
    }
}

fn soft(z: f64, t: f64) -> f64 {
    if z > t {
        z - t
    } else if z < -t {
        z + t
    } else {
        0.0
    }
}

/// The step `d` minimising `g.d + d'Hd / 2 + l1 |beta + d|_1` (intercept, index 0, not
/// penalised), by cyclic coordinate descent.
fn l1_step(h: &[f64], g: &[f64], beta: &[f64], l1: f64) -> Vec<f64> {
    let p = g.len();
    let mut d = vec![0.0; p];
    for _ in 0..500 {
        let mut change = 0.0f64;
        for j in 0..p {
            let a = h[j * p + j].max(1e-12);
            let mut b = g[j];
            for k in 0..p {
                b += h[j * p + k] * d[k];
            }
            b -= a * d[j];
            let new = if j == 0 {
                -b / a
            } else {
                soft(beta[j] - b / a, l1 / a) - beta[j]
            };
            change = change.max((new - d[j]).abs());
            d[j] = new;
        }
        if change < 1e-12 {
            break;
        }
    }
    d
}

/// A fitted logistic regression: P(y = 1 | x) = sigmoid(intercept + coef . x).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LogisticRegression {
    /// Feature names, in coefficient order.
    pub features: Vec<String>,
    /// Intercept.
    pub intercept: f64,
    /// Coefficients.
    pub coef: Vec<f64>,
    /// The parameters used.
    pub params: LogisticParams,
    /// Newton iterations run.
    pub iterations: usize,
    /// Max-norm of the final gradient.
    pub grad_norm: f64,
    /// Whether `grad_norm < tol` was reached.
    pub converged: bool,
}

/// Rows per chunk of the parallel reductions: partial sums are added in chunk order, so the
/// result does not depend on thread timing.
const CHUNK: usize = 16_384;

fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

/// Weighted mean log loss plus penalty, gradient and Hessian (intercept first).
fn loss_grad_hess(x: &[&[f64]], y: &[f64], w: &[f64], beta: &[f64], l2: f64, wsum: f64) -> (f64, Vec<f64>, Vec<f64>) {
    let p = beta.len();
    let n = y.len();
    let parts: Vec<(f64, Vec<f64>, Vec<f64>)> = (0..n.div_ceil(CHUNK))
        .into_par_iter()
        .map(|c| {
            // Column-wise over a chunk of rows: every sum below is a dot product of contiguous
            // slices, which the compiler vectorises.
            let (lo, hi) = (c * CHUNK, ((c + 1) * CHUNK).min(n));
            let m = hi - lo;
            let mut z = vec![beta[0]; m];
            for (j, col) in x.iter().enumerate() {
                let bj = beta[j + 1];
                for (zi, v) in z.iter_mut().zip(&col[lo..hi]) {
                    *zi += bj * v;
                }
            }
            let mut loss = 0.0;
            let mut r = vec![0.0; m];
            let mut s = vec![0.0; m];
            for i in 0..m {
                let (zi, yi, wi) = (z[i], y[lo + i], w[lo + i]);
                let pr = sigmoid(zi);
                // log(1 + e^z) - y z, computed stably.
                let l = if zi > 0.0 {
                    zi + (-zi).exp().ln_1p()
                } else {
                    zi.exp().ln_1p()
                } - yi * zi;
                loss += wi * l;
                r[i] = wi * (pr - yi);
                s[i] = wi * pr * (1.0 - pr);
            }
            use riskpipe_core::stats::{dot, sum};
            let mut g = vec![0.0; p];
            let mut h = vec![0.0; p * p];
            g[0] = sum(&r);
            h[0] = sum(&s);
            let mut sx = vec![0.0; m];
            for a in 1..p {
                let xa = &x[a - 1][lo..hi];
                g[a] = dot(&r, xa);
                for ((t, si), v) in sx.iter_mut().zip(&s).zip(xa) {
                    *t = si * v;
                }
                h[a * p] = sum(&sx);
                for b in 1..=a {
                    h[a * p + b] = dot(&sx, &x[b - 1][lo..hi]);
                }
            }
            (loss, g, h)
        })
        .collect();
    let mut loss = 0.0;
    let mut g = vec![0.0; p];
    let mut h = vec![0.0; p * p];
    for (l, gp, hp) in parts {
        loss += l;
        for a in 0..p {
            g[a] += gp[a];
        }
        for k in 0..p * p {
            h[k] += hp[k];
        }
    }
    loss /= wsum;
    for a in 0..p {
        g[a] /= wsum;
        for b in 0..=a {
            h[a * p + b] /= wsum;
            h[b * p + a] = h[a * p + b];
        }
    }
    for a in 1..p {
        loss += 0.5 * l2 * beta[a] * beta[a];
        g[a] += l2 * beta[a];
        h[a * p + a] += l2;
    }
    (loss, g, h)
}

/// Solves `H d = g` for symmetric positive definite `H` (Cholesky, with a small ridge if needed).
fn solve_spd(h: &[f64], g: &[f64]) -> Vec<f64> {
    let p = g.len();
    let mut ridge = 0.0;
    loop {
        let mut l = vec![0.0; p * p];
        let mut ok = true;
        'outer: for i in 0..p {
            for j in 0..=i {
                let mut s = h[i * p + j] + if i == j { ridge } else { 0.0 };
                for k in 0..j {
                    s -= l[i * p + k] * l[j * p + k];
                }
                if i == j {
                    if s <= 1e-14 {
                        ok = false;
                        break 'outer;
                    }
                    l[i * p + i] = s.sqrt();
                } else {
                    l[i * p + j] = s / l[j * p + j];
                }
            }
        }
        if ok {
            let mut z = vec![0.0; p];
            for i in 0..p {
                let mut s = g[i];
                for k in 0..i {
                    s -= l[i * p + k] * z[k];
                }
                z[i] = s / l[i * p + i];
            }
            let mut d = vec![0.0; p];
            for i in (0..p).rev() {
                let mut s = z[i];
                for k in i + 1..p {
                    s -= l[k * p + i] * d[k];
                }
                d[i] = s / l[i * p + i];
            }
            return d;
        }
        ridge = if ridge == 0.0 { 1e-8 } else { ridge * 10.0 };
    }
}

impl LogisticRegression {
    /// Fits on columns `x` (one slice per feature), labels `y` in {0, 1} and optional weights.
    pub fn fit(
        names: &[String],
        x: &[&[f64]],
        y: &[f64],
        weights: Option<&[f64]>,
        params: &LogisticParams,
    ) -> Result<Self> {
        let n = y.len();
        if n == 0 {
            return Err(Error::Internal("logistic regression: no training rows".into()));
        }
        if x.iter().any(|c| c.len() != n) {
            return Err(Error::Internal(
                "logistic regression: columns of different lengths".into(),
            ));
        }
        if x.iter().any(|c| c.iter().any(|v| !v.is_finite())) {
            return Err(Error::Internal(
                "logistic regression: features contain missing or infinite values".into(),
            ));
        }
        let ones;
        let w = match weights {
            Some(w) => w,
            None => {
                ones = crate::class_weights(y, params.balanced);
                &ones
            }
        };
        let wsum: f64 = w.iter().sum();
        let p = x.len() + 1;
        let mut beta = vec![0.0; p];
        let ybar = y.iter().zip(w).map(|(a, b)| a * b).sum::<f64>() / wsum;
        beta[0] = (ybar.clamp(1e-6, 1.0 - 1e-6) / (1.0 - ybar.clamp(1e-6, 1.0 - 1e-6))).ln();
        let (mut loss, mut g, mut h) = loss_grad_hess(x, y, w, &beta, params.l2, wsum);
        let mut it = 0;
        let norm = |g: &[f64]| g.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let l1 = params.l1;
        let l1_norm = |b: &[f64]| b[1..].iter().map(|v| v.abs()).sum::<f64>();
        // Optimality: the gradient, or for L1 the smallest subgradient, near zero.
        let kkt = |g: &[f64], b: &[f64]| -> f64 {
            if l1 == 0.0 {
                return norm(g);
            }
            g.iter()
                .enumerate()
                .map(|(j, gj)| {
                    if j == 0 {
                        gj.abs()
                    } else if b[j] != 0.0 {
                        (gj + l1 * b[j].signum()).abs()
                    } else {
                        (gj.abs() - l1).max(0.0)
                    }
                })
                .fold(0.0, f64::max)
        };
        while it < params.max_iter && kkt(&g, &beta) >= params.tol {
            it += 1;
            let d = if l1 > 0.0 {
                l1_step(&h, &g, &beta, l1)
            } else {
                solve_spd(&h, &g).into_iter().map(|v| -v).collect()
            };
            let obj = loss + l1 * l1_norm(&beta);
            let mut step = 1.0;
            let mut accepted = false;
            for _ in 0..30 {
                let cand: Vec<f64> = beta.iter().zip(&d).map(|(b, di)| b + step * di).collect();
                let (l2_, g2, h2) = loss_grad_hess(x, y, w, &cand, params.l2, wsum);
                if l2_ + l1 * l1_norm(&cand) <= obj + 1e-12 * obj.abs() {
                    beta = cand;
                    loss = l2_;
                    g = g2;
                    h = h2;
                    accepted = true;
                    break;
                }
                step *= 0.5;
            }
            if !accepted {
                break;
            }
        }
        let g = {
            // Report the optimality measure as the gradient norm.
            let k = kkt(&g, &beta);
            vec![k]
        };
        let grad_norm = norm(&g);
        Ok(LogisticRegression {
            features: names.to_vec(),
            intercept: beta[0],
            coef: beta[1..].to_vec(),
            params: params.clone(),
            iterations: it,
            grad_norm,
            converged: grad_norm < params.tol.max(1e-6),
        })
    }

    /// Linear predictor (log-odds) per row.
    pub fn decision(&self, x: &[&[f64]]) -> Vec<f64> {
        let n = x.first().map_or(0, |c| c.len());
        (0..n)
            .map(|i| {
                let mut z = self.intercept;
                for (j, col) in x.iter().enumerate() {
                    z += self.coef[j] * col[i];
                }
                z
            })
            .collect()
    }

    /// P(y = 1) per row.
    pub fn predict_proba(&self, x: &[&[f64]]) -> Vec<f64> {
        self.decision(x).into_iter().map(sigmoid).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use riskpipe_core::Rng;

    #[test]
    fn l1_zeroes_noise_features_and_meets_its_optimality_conditions() {
        let mut rng = riskpipe_core::Rng::new(12);
        let n = 5000;
        let cols: Vec<Vec<f64>> = (0..6).map(|_| (0..n).map(|_| rng.normal()).collect()).collect();
        // Only x0 and x1 matter.
        let y: Vec<f64> = (0..n)
            .map(|i| {
                let z = 1.2 * cols[0][i] - 0.8 * cols[1][i] - 1.0;
                f64::from(u8::from(rng.bernoulli(1.0 / (1.0 + (-z).exp()))))
            })
            .collect();
        let names: Vec<String> = (0..6).map(|i| format!("x{i}")).collect();
        let x: Vec<&[f64]> = cols.iter().map(Vec::as_slice).collect();
        let fit = |l1: f64, l2: f64| {
            LogisticRegression::fit(
                &names,
                &x,
                &y,
                None,
                &LogisticParams {
                    l1,
                    l2,
                    ..LogisticParams::default()
                },
            )
            .unwrap()
        };
        let zeros = |m: &LogisticRegression| m.coef.iter().filter(|c| **c == 0.0).count();
        let lasso = fit(0.01, 0.0);
        assert!(lasso.converged, "{}", lasso.grad_norm);
        assert!(lasso.coef[0] > 0.5 && lasso.coef[1] < -0.3);
        assert!(zeros(&lasso) >= 3, "{:?}", lasso.coef);
        // A stronger penalty keeps fewer features; the elastic net converges too.
        let strong = fit(0.1, 0.0);
        assert!(zeros(&strong) >= zeros(&lasso));
        assert!(strong.coef[0].abs() < lasso.coef[0].abs());
        let enet = fit(0.01, 0.05);
        assert!(enet.converged && enet.coef[0] > 0.0);
        // No L1: no coefficient is exactly zero.
        assert_eq!(zeros(&fit(0.0, 1e-4)), 0);
    }

    #[test]
    fn recovers_known_coefficients() {
        let mut rng = Rng::new(3);
        let n = 40_000;
        let x1: Vec<f64> = (0..n).map(|_| rng.normal()).collect();
        let x2: Vec<f64> = (0..n).map(|_| rng.normal()).collect();
        let y: Vec<f64> = (0..n)
            .map(|i| {
                if rng.bernoulli(sigmoid(-1.0 + 2.0 * x1[i] - 0.5 * x2[i])) {
                    1.0
                } else {
                    0.0
                }
            })
            .collect();
        let names = vec!["a".to_string(), "b".to_string()];
        let params = LogisticParams {
            l2: 0.0,
            ..Default::default()
        };
        let m = LogisticRegression::fit(&names, &[&x1, &x2], &y, None, &params).unwrap();
        assert!(m.converged);
        assert!((m.intercept + 1.0).abs() < 0.06, "{m:?}");
        assert!((m.coef[0] - 2.0).abs() < 0.08, "{m:?}");
        assert!((m.coef[1] + 0.5).abs() < 0.05, "{m:?}");
        // Probabilities are of class 1 (the rare class here).
        let p = m.predict_proba(&[&[3.0], &[0.0]]);
        assert!(p[0] > 0.9);
        // Same data, same bits.
        let again = LogisticRegression::fit(&names, &[&x1, &x2], &y, None, &params).unwrap();
        assert_eq!(m, again);
    }

    #[test]
    fn balanced_classes_shift_probabilities_up_for_the_rare_class() {
        let mut rng = Rng::new(9);
        let n = 20_000;
        let x: Vec<f64> = (0..n).map(|_| rng.normal()).collect();
        let y: Vec<f64> = (0..n)
            .map(|i| if rng.bernoulli(sigmoid(-3.0 + x[i])) { 1.0 } else { 0.0 })
            .collect();
        let names = vec!["x".to_string()];
        let plain = LogisticRegression::fit(&names, &[&x], &y, None, &LogisticParams::default()).unwrap();
        let bal = LogisticRegression::fit(
            &names,
            &[&x],
            &y,
            None,
            &LogisticParams {
                balanced: true,
                ..Default::default()
            },
        )
        .unwrap();
        let mean = |m: &LogisticRegression| m.predict_proba(&[&x]).iter().sum::<f64>() / n as f64;
        let rate = y.iter().sum::<f64>() / n as f64;
        assert!((mean(&plain) - rate).abs() < 0.01);
        assert!(mean(&bal) > 0.4, "balanced mean {}", mean(&bal));
        // Same slope direction; ranking unchanged.
        assert!(bal.coef[0] > 0.0 && plain.coef[0] > 0.0);
    }

    #[test]
    fn weights_equal_duplication() {
        let x = [0.0, 1.0, 2.0, 3.0, 1.5];
        let y = [0.0, 0.0, 1.0, 1.0, 0.0];
        let names = vec!["x".to_string()];
        let params = LogisticParams {
            l2: 0.01,
            ..Default::default()
        };
        let w = [1.0, 1.0, 1.0, 1.0, 2.0];
        let a = LogisticRegression::fit(&names, &[&x], &y, Some(&w), &params).unwrap();
        let xd = [0.0, 1.0, 2.0, 3.0, 1.5, 1.5];
        let yd = [0.0, 0.0, 1.0, 1.0, 0.0, 0.0];
        let b = LogisticRegression::fit(&names, &[&xd], &yd, None, &params).unwrap();
        assert!((a.coef[0] - b.coef[0]).abs() < 1e-8);
        assert!((a.intercept - b.intercept).abs() < 1e-8);
    }
}
