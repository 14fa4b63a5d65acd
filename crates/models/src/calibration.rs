//! Calibration of a model's probabilities to observed default rates: Platt scaling (a logistic
//! regression on the log-odds) or isotonic regression (the best non-decreasing step function,
//! interpolated linearly between its steps). Fitted on held-out predictions (the train stage
//! uses the out-of-fold predictions of cross-validation).

use serde::{Deserialize, Serialize};

use riskpipe_core::Result;

use crate::logistic::{LogisticParams, LogisticRegression};

/// A fitted calibration map from a model's probability to a calibrated PD.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum Calibrator {
    /// pd = sigmoid(a * logit(p) + b).
    Platt {
        /// Slope on the log-odds.
        a: f64,
        /// Intercept.
        b: f64,
    },
    /// pd = linear interpolation of (x, y), constant beyond the ends.
    Isotonic {
        /// Ascending model probabilities.
        x: Vec<f64>,
        /// Non-decreasing calibrated PDs at `x`.
        y: Vec<f64>,
    },
}

fn logit(p: f64) -> f64 {
    let p = p.clamp(1e-12, 1.0 - 1e-12);
    (p / (1.0 - p)).ln()
}

impl Calibrator {
    /// The method's name: `platt` or `isotonic`.
    pub fn method(&self) -> &'static str {
        match self {
            Calibrator::Platt { .. } => "platt",
            Calibrator::Isotonic { .. } => "isotonic",
        }
    }

    /// Platt scaling fitted on probabilities `p` and 0/1 labels `y`.
    pub fn fit_platt(p: &[f64], y: &[f64]) -> Result<Calibrator> {
        let z: Vec<f64> = p.iter().map(|v| logit(*v)).collect();
        let lr = LogisticRegression::fit(
            &["logit".to_string()],
            &[&z],
            y,
            None,
            &LogisticParams {
                l2: 0.0,
                max_iter: 100,
                tol: 1e-10,
                balanced: false,
                l1: 0.0,
            },
        )?;
        Ok(Calibrator::Platt {
            a: lr.coef[0],
            b: lr.intercept,
        })
    }

    /// Isotonic regression of `y` on `p` by pool-adjacent-violators.
    pub fn fit_isotonic(p: &[f64], y: &[f64]) -> Calibrator {
        let mut order: Vec<usize> = (0..p.len()).collect();
        order.sort_by(|&a, &b| p[a].total_cmp(&p[b]).then(a.cmp(&b)));
        // Blocks: (min x, max x, sum y, rows); equal x start in one block.
        let mut blocks: Vec<(f64, f64, f64, f64)> = Vec::new();
        for &i in &order {
            match blocks.last_mut() {
                Some(b) if b.1 == p[i] => {
                    b.2 += y[i];
                    b.3 += 1.0;
                }
                _ => blocks.push((p[i], p[i], y[i], 1.0)),
            }
            while blocks.len() > 1 {
                let (a, b) = (blocks[blocks.len() - 2], blocks[blocks.len() - 1]);
                if a.2 / a.3 <= b.2 / b.3 {
                    break;
                }
                blocks.pop();
                let last = blocks.last_mut().expect("two");
                *last = (a.0, b.1, a.2 + b.2, a.3 + b.3);
            }
        }
        let mut x = Vec::new();
        let mut v = Vec::new();
        for b in &blocks {
            let m = b.2 / b.3;
            x.push(b.0);
            v.push(m);
            if b.1 > b.0 {
                x.push(b.1);
                v.push(m);
            }
        }
        Calibrator::Isotonic { x, y: v }
    }

    /// The calibrated PD of probability `p`.
    pub fn apply(&self, p: f64) -> f64 {
        match self {
            Calibrator::Platt { a, b } => {
                let z = a * logit(p) + b;
                1.0 / (1.0 + (-z).exp())
            }
            Calibrator::Isotonic { x, y } => {
                if x.is_empty() {
                    return p;
                }
                let k = x.partition_point(|v| *v <= p);
                if k == 0 {
                    y[0]
                } else if k == x.len() {
                    y[x.len() - 1]
                } else {
                    let (x0, x1, y0, y1) = (x[k - 1], x[k], y[k - 1], y[k]);
                    if x1 > x0 {
                        y0 + (y1 - y0) * (p - x0) / (x1 - x0)
                    } else {
                        y1
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A model whose probabilities are too extreme: the true PD is sqrt-compressed.
    fn sample() -> (Vec<f64>, Vec<f64>) {
        let mut p = Vec::new();
        let mut y = Vec::new();
        for i in 0..20_000u32 {
            let s = f64::from(i % 1000) / 1000.0 * 0.98 + 0.01;
            let truth = 0.05 + 0.3 * s;
            p.push(s);
            y.push(f64::from(u8::from(f64::from((i * 7919) % 10_000) / 10_000.0 < truth)));
        }
        (p, y)
    }

    fn brier(p: &[f64], y: &[f64]) -> f64 {
        p.iter().zip(y).map(|(a, b)| (a - b) * (a - b)).sum::<f64>() / p.len() as f64
    }

    #[test]
    fn both_methods_improve_brier_and_keep_the_order() {
        let (p, y) = sample();
        for c in [Calibrator::fit_platt(&p, &y).unwrap(), Calibrator::fit_isotonic(&p, &y)] {
            let q: Vec<f64> = p.iter().map(|v| c.apply(*v)).collect();
            assert!(brier(&q, &y) < brier(&p, &y) - 0.01, "{}", c.method());
            // Monotone: a higher model probability never gets a lower PD.
            let mut pairs: Vec<(f64, f64)> = p.iter().copied().zip(q.iter().copied()).collect();
            pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
            assert!(pairs.windows(2).all(|w| w[1].1 >= w[0].1 - 1e-12), "{}", c.method());
            // The mean PD matches the observed rate.
            let mean_q = q.iter().sum::<f64>() / q.len() as f64;
            let rate = y.iter().sum::<f64>() / y.len() as f64;
            assert!((mean_q - rate).abs() < 0.01, "{} {mean_q} {rate}", c.method());
        }
    }

    #[test]
    fn isotonic_interpolates_and_clamps() {
        let c = Calibrator::fit_isotonic(&[0.1, 0.2, 0.3, 0.4], &[0.0, 1.0, 0.0, 1.0]);
        // Blocks: {0.1}: 0, {0.2, 0.3}: 0.5, {0.4}: 1.
        assert_eq!(c.apply(0.0), 0.0);
        assert_eq!(c.apply(0.25), 0.5);
        assert!((c.apply(0.15) - 0.25).abs() < 1e-12);
        assert_eq!(c.apply(0.9), 1.0);
        let json = serde_json::to_string(&c).unwrap();
        assert!(json.contains("\"method\":\"isotonic\""));
        assert_eq!(serde_json::from_str::<Calibrator>(&json).unwrap(), c);
    }
}
