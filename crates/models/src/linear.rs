//! Linear models of an amount: ordinary least squares (identity link) and fractional-logit
//! regression (logit link: the binomial log-likelihood with a target in [0, 1], the standard
//! model of a share such as an LGD, predictions in (0, 1)). Both on standardised columns, with
//! an L2 penalty on the coefficients and optional row weights; least squares is solved exactly
//! (Cholesky), the logit link by Newton's method.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use riskpipe_core::{Error, Result};

/// Rows per chunk of the normal equations.
const ROWS: usize = 4096;

/// The link between the linear predictor and the prediction.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Link {
    /// `y = x.b`: least squares.
    #[default]
    Identity,
    /// `y = sigmoid(x.b)`: fractional logit, for a target in [0, 1].
    Logit,
}

/// Settings of a linear model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinearParams {
    /// The link (default identity).
    #[serde(default)]
    pub link: Link,
    /// L2 penalty on the standardised coefficients, added to the mean loss as `l2 / 2 |b|^2`
    /// (default 1e-4).
    pub l2: f64,
    /// Newton iterations at most (logit link).
    pub max_iter: usize,
    /// Stop when the gradient's max-norm falls below this (logit link).
    pub tol: f64,
}

impl Default for LinearParams {
    fn default() -> Self {
        LinearParams {
            link: Link::Identity,
            l2: 1e-4,
            max_iter: 100,
            tol: 1e-8,
        }
    }
}

/// A fitted linear model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinearRegression {
    /// Feature names, in coefficient order.
    pub features: Vec<String>,
    /// Column means of the training rows (the standardisation's centre).
    pub mean: Vec<f64>,
    /// Column standard deviations (1 for a constant column).
    pub scale: Vec<f64>,
    /// Intercept, on the link scale.
    pub intercept: f64,
    /// Coefficients of the standardised columns.
    pub coef: Vec<f64>,
    /// The settings used.
    pub params: LinearParams,
    /// Newton iterations run (0 for least squares).
    pub iterations: usize,
}

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

/// Solves the symmetric positive definite system `a x = b` (`a` row-major, `d x d`) by
/// Cholesky; `None` when `a` is not positive definite.
fn solve_spd(mut a: Vec<f64>, mut b: Vec<f64>, d: usize) -> Option<Vec<f64>> {
    for j in 0..d {
        let mut s = a[j * d + j];
        for k in 0..j {
            s -= a[j * d + k] * a[j * d + k];
        }
        if s <= 0.0 || !s.is_finite() {
            return None;
        }
        let l = s.sqrt();
        a[j * d + j] = l;
        for i in j + 1..d {
            let mut t = a[i * d + j];
            for k in 0..j {
                t -= a[i * d + k] * a[j * d + k];
            }
            a[i * d + j] = t / l;
        }
    }
    for i in 0..d {
        let mut t = b[i];
        for k in 0..i {
            t -= a[i * d + k] * b[k];
        }
        b[i] = t / a[i * d + i];
    }
    for i in (0..d).rev() {
        let mut t = b[i];
        for k in i + 1..d {
            t -= a[k * d + i] * b[k];
        }
        b[i] = t / a[i * d + i];
    }
    Some(b)
}

impl LinearRegression {
    /// Fits on columns `x` (named `names`) and target `y`, with optional row `weights`.
    pub fn fit(
        names: &[String],
        x: &[&[f64]],
        y: &[f64],
        weights: Option<&[f64]>,
        params: &LinearParams,
    ) -> Result<Self> {
        let n = y.len();
        let d = x.len();
        if n == 0 || x.iter().any(|c| c.len() != n) || names.len() != d {
            return Err(Error::Internal(format!(
                "linear regression: {n} targets, {d} columns of other lengths or names"
            )));
        }
        if params.link == Link::Logit {
            if let Some(i) = y.iter().position(|v| !(0.0..=1.0).contains(v)) {
                return Err(Error::Internal(format!(
                    "linear regression: the logit link needs a target in [0, 1]; row {} has {}",
                    i + 1,
                    y[i]
                )));
            }
        }
        let w: Vec<f64> = weights.map_or_else(|| vec![1.0; n], <[f64]>::to_vec);
        let wsum: f64 = w.iter().sum();
        let mean: Vec<f64> = x
            .iter()
            .map(|c| c.iter().zip(&w).map(|(v, w)| v * w).sum::<f64>() / wsum)
            .collect();
        let scale: Vec<f64> = x
            .iter()
            .zip(&mean)
            .map(|(c, m)| {
                let v = c.iter().zip(&w).map(|(v, w)| w * (v - m) * (v - m)).sum::<f64>() / wsum;
                if v > 0.0 { v.sqrt() } else { 1.0 }
            })
            .collect();
        // The design with a leading intercept column, standardised.
        let z: Vec<Vec<f64>> = x
            .iter()
            .zip(mean.iter().zip(&scale))
            .map(|(c, (m, s))| c.iter().map(|v| (v - m) / s).collect())
            .collect();
        let p = d + 1;
        let col = |j: usize, i: usize| if j == 0 { 1.0 } else { z[j - 1][i] };
        // Normal equations of a weighted least-squares step with per-row weights `h` and
        // working response `r`: (Z'HZ / W + l2 I') b = Z'Hr / W, the intercept unpenalised.
        // Rows in fixed chunks, both cores, the chunks' sums added in chunk order: the same bits
        // on any thread count.
        let step = |h: &[f64], r: &[f64]| -> Option<Vec<f64>> {
            let parts: Vec<(Vec<f64>, Vec<f64>)> = (0..n.div_ceil(ROWS))
                .into_par_iter()
                .map(|c| {
                    let mut a = vec![0.0; p * p];
                    let mut b = vec![0.0; p];
                    for i in c * ROWS..((c + 1) * ROWS).min(n) {
                        for j in 0..p {
                            let zj = col(j, i) * h[i];
                            b[j] += zj * r[i];
                            for k in 0..=j {
                                a[j * p + k] += zj * col(k, i);
                            }
                        }
                    }
                    (a, b)
                })
                .collect();
            let mut a = vec![0.0; p * p];
            let mut b = vec![0.0; p];
            for (pa, pb) in parts {
                a.iter_mut().zip(pa).for_each(|(x, v)| *x += v);
                b.iter_mut().zip(pb).for_each(|(x, v)| *x += v);
            }
            for j in 0..p {
                b[j] /= wsum;
                for k in 0..=j {
                    a[j * p + k] /= wsum;
                    a[k * p + j] = a[j * p + k];
                }
                if j > 0 {
                    a[j * p + j] += params.l2;
                }
            }
            solve_spd(a, b, p)
        };
        let singular = || Error::Internal("linear regression: the design is singular; raise `l2`".to_string());
        let (beta, iterations) = match params.link {
            Link::Identity => (step(&w, y).ok_or_else(singular)?, 0),
            Link::Logit => {
                let ybar = (y.iter().zip(&w).map(|(v, w)| v * w).sum::<f64>() / wsum).clamp(1e-6, 1.0 - 1e-6);
                let mut beta = vec![0.0; p];
                beta[0] = (ybar / (1.0 - ybar)).ln();
                let mut it = 0;
                while it < params.max_iter {
                    it += 1;
                    let eta: Vec<f64> = (0..n)
                        .into_par_iter()
                        .map(|i| (0..p).map(|j| col(j, i) * beta[j]).sum())
                        .collect();
                    let mu: Vec<f64> = eta.iter().map(|e| sigmoid(*e)).collect();
                    let h: Vec<f64> = (0..n).map(|i| w[i] * (mu[i] * (1.0 - mu[i])).max(1e-10)).collect();
                    // Gradient of the penalised mean loss, for the stopping rule.
                    let grad = (0..p)
                        .map(|j| {
                            let g = (0..n).map(|i| w[i] * (mu[i] - y[i]) * col(j, i)).sum::<f64>() / wsum;
                            if j > 0 { g + params.l2 * beta[j] } else { g }
                        })
                        .fold(0.0f64, |m, g| m.max(g.abs()));
                    if grad < params.tol {
                        break;
                    }
                    // Iteratively reweighted least squares: working response eta + (y - mu) / h.
                    let r: Vec<f64> = (0..n).map(|i| eta[i] + w[i] * (y[i] - mu[i]) / h[i]).collect();
                    beta = step(&h, &r).ok_or_else(singular)?;
                }
                (beta, it)
            }
        };
        Ok(LinearRegression {
            features: names.to_vec(),
            mean,
            scale,
            intercept: beta[0],
            coef: beta[1..].to_vec(),
            params: params.clone(),
            iterations,
        })
    }

    /// Per row, each feature's part of the linear predictor (`coef_j z_j`), and the intercept:
    /// the parts plus the intercept are the prediction on the link scale.
    pub fn contributions(&self, x: &[&[f64]]) -> (Vec<Vec<f64>>, f64) {
        let n = x.first().map_or(0, |c| c.len());
        let phi = (0..n)
            .map(|i| {
                x.iter()
                    .zip(self.coef.iter().zip(self.mean.iter().zip(&self.scale)))
                    .map(|(c, (b, (m, s)))| b * (c[i] - m) / s)
                    .collect()
            })
            .collect();
        (phi, self.intercept)
    }

    /// The prediction of each row: the linear predictor, or its sigmoid under the logit link.
    pub fn predict(&self, x: &[&[f64]]) -> Vec<f64> {
        crate::predict_rows(x, |row| {
            let eta = self.intercept
                + row
                    .iter()
                    .zip(self.coef.iter().zip(self.mean.iter().zip(&self.scale)))
                    .map(|(v, (b, (m, s)))| b * (v - m) / s)
                    .sum::<f64>();
            match self.params.link {
                Link::Identity => eta,
                Link::Logit => sigmoid(eta),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use riskpipe_core::Rng;

    #[test]
    fn least_squares_recovers_known_coefficients() {
        let mut rng = Rng::new(4);
        let n = 5000;
        let a: Vec<f64> = (0..n).map(|_| rng.normal()).collect();
        let b: Vec<f64> = (0..n).map(|_| 10.0 + 3.0 * rng.normal()).collect();
        let y: Vec<f64> = (0..n)
            .map(|i| 1.5 + 2.0 * a[i] - 0.5 * b[i] + 0.01 * rng.normal())
            .collect();
        let names = vec!["a".to_string(), "b".to_string()];
        let params = LinearParams {
            l2: 0.0,
            ..LinearParams::default()
        };
        let m = LinearRegression::fit(&names, &[&a, &b], &y, None, &params).unwrap();
        // Back on the original scale: coef / scale.
        assert!((m.coef[0] / m.scale[0] - 2.0).abs() < 1e-3, "{m:?}");
        assert!((m.coef[1] / m.scale[1] + 0.5).abs() < 1e-3, "{m:?}");
        let p = m.predict(&[&a, &b]);
        assert!((p[7] - (1.5 + 2.0 * a[7] - 0.5 * b[7])).abs() < 0.05);
        let (phi, base) = m.contributions(&[&a, &b]);
        assert!((phi[7].iter().sum::<f64>() + base - p[7]).abs() < 1e-9);
        // Weights: rows of weight 0 do not count.
        let mut w = vec![1.0; n];
        let mut y2 = y.clone();
        for i in 0..100 {
            w[i] = 0.0;
            y2[i] = 1e6;
        }
        let mw = LinearRegression::fit(&names, &[&a, &b], &y2, Some(&w), &params).unwrap();
        assert!((mw.coef[0] / mw.scale[0] - 2.0).abs() < 1e-3, "{mw:?}");
    }

    #[test]
    fn fractional_logit_recovers_a_share_and_stays_inside_the_unit_interval() {
        let mut rng = Rng::new(8);
        let n = 8000;
        let a: Vec<f64> = (0..n).map(|_| rng.normal()).collect();
        // A share whose mean is sigmoid(-0.5 + 1.2 a), observed with noise but inside [0, 1].
        let y: Vec<f64> = a
            .iter()
            .map(|v| {
                let m = sigmoid(-0.5 + 1.2 * v);
                let w = m.min(1.0 - m);
                m + (2.0 * rng.uniform() - 1.0) * w
            })
            .collect();
        let names = vec!["a".to_string()];
        let params = LinearParams {
            link: Link::Logit,
            l2: 0.0,
            ..LinearParams::default()
        };
        let m = LinearRegression::fit(&names, &[&a], &y, None, &params).unwrap();
        assert!((m.coef[0] / m.scale[0] - 1.2).abs() < 0.06, "{m:?}");
        assert!(m.iterations > 1 && m.iterations < 30);
        let p = m.predict(&[&a]);
        assert!(p.iter().all(|v| *v > 0.0 && *v < 1.0));
        let bad = LinearRegression::fit(&names, &[&a], &vec![1.5; n], None, &params).unwrap_err();
        assert!(bad.to_string().contains("[0, 1]"), "{bad}");
        assert_eq!(LinearRegression::fit(&names, &[&a], &y, None, &params).unwrap(), m);
        // Row chunks on one thread or two: the same bits.
        let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
        assert_eq!(
            one.install(|| LinearRegression::fit(&names, &[&a], &y, None, &params).unwrap()),
            m
        );
    }
}
