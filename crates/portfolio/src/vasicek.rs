//! The portfolio loss distribution under the one-factor Gaussian (Vasicek) model: loan `i`
//! defaults in a scenario when `sqrt(rho_i) Z + sqrt(1 - rho_i) e_i < G(PD_i)`, with one
//! systematic factor `Z` per scenario and an idiosyncratic `e_i` per loan and scenario, all
//! standard normal; the scenario's loss is the sum of `EAD_i LGD_i` over the defaulted loans.
//!
//! Scenarios run in fixed blocks, each with its own random stream derived from the seed and the
//! block's index, so the distribution is the same to the bit on any number of threads.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use riskpipe_core::Rng;

use crate::Invalid;
use crate::normal::{cdf, inv_cdf};
use crate::ziggurat::normal;

/// Scenarios per block (one random stream each).
const BLOCK: usize = 64;

/// One loan of the portfolio.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Loan {
    /// One-year probability of default, in [0, 1].
    pub pd: f64,
    /// Loss given default, in [0, 1].
    pub lgd: f64,
    /// Exposure at default, at least 0.
    pub ead: f64,
    /// Asset correlation with the systematic factor, in [0, 1).
    pub rho: f64,
}

/// A tail measure with its Monte Carlo standard error.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    /// The estimate.
    pub value: f64,
    /// Its standard error from the scenarios' sampling.
    pub std_error: f64,
}

/// The simulated losses, ascending, with the portfolio's exposure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LossDistribution {
    /// One loss per scenario, ascending.
    pub losses: Vec<f64>,
    /// Total exposure at default.
    pub exposure: f64,
    /// The analytic expected loss, `sum PD LGD EAD`.
    pub expected_loss: f64,
}

fn check(loans: &[Loan]) -> Result<f64, Invalid> {
    let mut exposure = 0.0;
    for (i, l) in loans.iter().enumerate() {
        let at = |field: &'static str, what: &str, v: f64| Invalid::new(field, format!("loan {}: {v} {what}", i + 1));
        if !(0.0..=1.0).contains(&l.pd) {
            return Err(at("pd", "is outside [0, 1]", l.pd));
        }
        if !(0.0..=1.0).contains(&l.lgd) {
            return Err(at("lgd", "is outside [0, 1]", l.lgd));
        }
        if !(l.ead >= 0.0 && l.ead.is_finite()) {
            return Err(at("ead", "is not a finite amount of at least 0", l.ead));
        }
        if !(0.0..1.0).contains(&l.rho) {
            return Err(at("rho", "is outside [0, 1)", l.rho));
        }
        exposure += l.ead;
    }
    if exposure <= 0.0 || exposure.is_nan() {
        return Err(Invalid::new(
            "ead",
            format!(
                "the portfolio's {} loans have no exposure: a loss distribution needs some",
                loans.len()
            ),
        ));
    }
    Ok(exposure)
}

/// Simulates `scenarios` one-year losses of `loans` (seeded; both cores).
pub fn simulate(loans: &[Loan], scenarios: usize, seed: u64) -> Result<LossDistribution, Invalid> {
    let exposure = check(loans)?;
    if scenarios < 2 {
        return Err(Invalid::new("scenarios", format!("{scenarios}: at least 2 are needed")));
    }
    // Loan i defaults when e_i < alpha_i - beta_i Z.
    let alpha: Vec<f64> = loans.iter().map(|l| inv_cdf(l.pd) / (1.0 - l.rho).sqrt()).collect();
    let beta: Vec<f64> = loans.iter().map(|l| (l.rho / (1.0 - l.rho)).sqrt()).collect();
    let weight: Vec<f64> = loans.iter().map(|l| l.ead * l.lgd).collect();
    let mut losses = vec![0.0; scenarios];
    losses.par_chunks_mut(BLOCK).enumerate().for_each(|(b, out)| {
        let mut rng = Rng::derive(seed, &format!("vasicek/{b}"));
        for loss in out {
            let z = normal(&mut rng);
            let mut sum = 0.0;
            for ((a, be), w) in alpha.iter().zip(&beta).zip(&weight) {
                let e = normal(&mut rng);
                sum += if e < a - be * z { *w } else { 0.0 };
            }
            *loss = sum;
        }
    });
    losses.sort_by(f64::total_cmp);
    let expected_loss = loans.iter().map(|l| l.pd * l.lgd * l.ead).sum();
    Ok(LossDistribution {
        losses,
        exposure,
        expected_loss,
    })
}

impl LossDistribution {
    fn n(&self) -> usize {
        self.losses.len()
    }

    /// The mean simulated loss and its standard error.
    pub fn mean(&self) -> Estimate {
        let n = self.n() as f64;
        let mean = self.losses.iter().sum::<f64>() / n;
        let var = self.losses.iter().map(|l| (l - mean) * (l - mean)).sum::<f64>() / (n - 1.0);
        Estimate {
            value: mean,
            std_error: (var / n).sqrt(),
        }
    }

    /// The `level` quantile of the loss (value at risk), the `ceil(level n)`-th smallest
    /// scenario; its standard error from the order statistics one binomial standard deviation
    /// either side.
    pub fn var(&self, level: f64) -> Estimate {
        let n = self.n();
        let at = |q: f64| ((q * n as f64).ceil() as usize).clamp(1, n) - 1;
        let sd = (n as f64 * level * (1.0 - level)).sqrt() / n as f64;
        let (lo, hi) = (at(level - sd), at(level + sd));
        Estimate {
            value: self.losses[at(level)],
            std_error: 0.5 * (self.losses[hi] - self.losses[lo]),
        }
    }

    /// The expected shortfall at `level`: the mean loss of the worst `(1 - level) n`
    /// scenarios; its standard error from the variance of the excess over the quantile,
    /// `sqrt(Var((L - VaR)+) / n) / (1 - level)`.
    pub fn expected_shortfall(&self, level: f64) -> Estimate {
        let n = self.n();
        let tail = (((1.0 - level) * n as f64).round() as usize).clamp(1, n);
        let worst = &self.losses[n - tail..];
        let q = self.var(level).value;
        let excess: Vec<f64> = self.losses.iter().map(|l| (l - q).max(0.0)).collect();
        let m = excess.iter().sum::<f64>() / n as f64;
        let v = excess.iter().map(|e| (e - m) * (e - m)).sum::<f64>() / (n as f64 - 1.0);
        Estimate {
            value: worst.iter().sum::<f64>() / tail as f64,
            std_error: (v / n as f64).sqrt() / (1.0 - level),
        }
    }
}

/// The large-pool (asymptotic) Vasicek loss quantile as a share of exposure:
/// `LGD N((G(PD) + sqrt(rho) G(level)) / sqrt(1 - rho))`.
pub fn large_pool_quantile(pd: f64, lgd: f64, rho: f64, level: f64) -> f64 {
    lgd * cdf((inv_cdf(pd) + rho.sqrt() * inv_cdf(level)) / (1.0 - rho).sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn homogeneous(n: usize, pd: f64, rho: f64) -> Vec<Loan> {
        vec![
            Loan {
                pd,
                lgd: 1.0,
                ead: 1.0,
                rho
            };
            n
        ]
    }

    #[test]
    fn the_large_pool_quantile_matches_the_published_value() {
        // PD 2 %, rho 0.12, 99.9 %: 14.73 % of exposure.
        let q = large_pool_quantile(0.02, 1.0, 0.12, 0.999);
        assert_eq!((q * 1e4).round() / 1e2, 14.73, "{q}");
    }

    #[test]
    fn a_large_homogeneous_portfolio_meets_the_closed_form() {
        // 20,000 loans x 20,000 scenarios; the finite-pool granularity adds about
        // sqrt(q (1 - q) / n) ~ 0.25 % of exposure of binomial noise at the quantile.
        let loans = homogeneous(20_000, 0.02, 0.12);
        let d = simulate(&loans, 20_000, 7).unwrap();
        let closed = large_pool_quantile(0.02, 1.0, 0.12, 0.999);
        let v = d.var(0.999);
        let share = v.value / d.exposure;
        let se = v.std_error / d.exposure;
        assert!(se > 0.0 && se < 0.01, "{se}");
        assert!(
            (share - closed).abs() < 3.0 * se + 0.003,
            "{share} vs {closed} (se {se})"
        );
        // The mean loss is the expected loss within its error.
        let m = d.mean();
        assert!(
            (m.value - d.expected_loss).abs() < 4.0 * m.std_error,
            "{m:?} vs {}",
            d.expected_loss
        );
        let es = d.expected_shortfall(0.999);
        assert!(es.value > v.value && es.std_error > 0.0);
    }

    #[test]
    fn same_bits_on_any_thread_count() {
        let loans: Vec<Loan> = (0..500)
            .map(|i| Loan {
                pd: 0.001 + 0.0001 * f64::from(i),
                lgd: 0.4,
                ead: 1.0 + f64::from(i % 7),
                rho: 0.15,
            })
            .collect();
        let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
        let a = one.install(|| simulate(&loans, 1000, 3).unwrap());
        let b = simulate(&loans, 1000, 3).unwrap();
        assert_eq!(a, b);
        assert_ne!(a, simulate(&loans, 1000, 4).unwrap());
    }

    #[test]
    fn bad_portfolios_are_refused() {
        let zero = vec![
            Loan {
                pd: 0.01,
                lgd: 0.5,
                ead: 0.0,
                rho: 0.1
            };
            3
        ];
        let e = simulate(&zero, 100, 1).unwrap_err();
        assert!(e.to_string().contains("no exposure"), "{e}");
        let mut bad = homogeneous(3, 0.01, 0.1);
        bad[1].rho = 1.0;
        assert_eq!(simulate(&bad, 100, 1).unwrap_err().field, "rho");
        bad[1].rho = 0.1;
        bad[2].ead = -1.0;
        let e = simulate(&bad, 100, 1).unwrap_err();
        assert!(e.field == "ead" && e.message.starts_with("loan 3"), "{e}");
    }
}
