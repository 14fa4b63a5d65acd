//! IFRS 9 impairment: PD term structures, stage allocation and expected credit loss.
//!
//! - Term structure: cumulative PD by year from a constant hazard (a one-year PD `p` gives
//!   `1 - (1 - p)^t`) or from a rating transition matrix (the default column of `M^t`).
//! - Stage: 3 when the loan is in default or 90 days past due; 2 on a significant increase in
//!   credit risk since origination (lifetime PD now at least `sicr_ratio` times the lifetime PD
//!   at origination) or 30 days past due (the backstop); else 1.
//! - ECL: for stage 1 the 12-month loss, for stage 2 the lifetime loss, each the sum over the
//!   years of marginal PD x LGD x EAD discounted at the effective interest rate to the year's
//!   end; for stage 3 LGD x EAD (the default has happened).

use serde::{Deserialize, Serialize};

use crate::Invalid;

/// A rating transition matrix over one year: `rows[i][j]` is the probability of moving from
/// rating `i` to rating `j`; the last rating is default, which is absorbing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TransitionMatrix {
    /// Rating names, the last one default.
    pub ratings: Vec<String>,
    /// One row per rating, as many entries as ratings.
    pub rows: Vec<Vec<f64>>,
}

/// How far a row of the matrix may be from summing to 1.
const ROW_TOLERANCE: f64 = 1e-6;

impl TransitionMatrix {
    /// Checks the matrix: square, entries in [0, 1], each row summing to 1 (within 1e-6), the
    /// default row absorbing. An error names the rating.
    pub fn new(ratings: Vec<String>, rows: Vec<Vec<f64>>) -> Result<TransitionMatrix, Invalid> {
        let n = ratings.len();
        if n < 2 {
            return Err(Invalid::new(
                "transition_matrix",
                "needs at least one rating and default",
            ));
        }
        if rows.len() != n {
            return Err(Invalid::new(
                "transition_matrix",
                format!("{} rows for {n} ratings", rows.len()),
            ));
        }
        for (name, row) in ratings.iter().zip(&rows) {
            if row.len() != n {
                return Err(Invalid::new(
                    "transition_matrix",
                    format!("row `{name}` has {} entries, expected {n}", row.len()),
                ));
            }
            if let Some(v) = row.iter().find(|v| !(0.0..=1.0).contains(*v)) {
                return Err(Invalid::new(
                    "transition_matrix",
                    format!("row `{name}` has {v}, outside [0, 1]"),
                ));
            }
            let sum: f64 = row.iter().sum();
            if (sum - 1.0).abs() > ROW_TOLERANCE {
                return Err(Invalid::new(
                    "transition_matrix",
                    format!("row `{name}` sums to {sum}, not 1"),
                ));
            }
        }
        if rows[n - 1][n - 1] != 1.0 {
            return Err(Invalid::new(
                "transition_matrix",
                format!(
                    "the last rating `{}` is default and must stay there (1 on its diagonal)",
                    ratings[n - 1]
                ),
            ));
        }
        Ok(TransitionMatrix { ratings, rows })
    }

    /// The index of rating `name`.
    pub fn rating(&self, name: &str) -> Option<usize> {
        self.ratings.iter().position(|r| r == name)
    }

    /// Cumulative PD at the end of years `1..=years` for a loan rated `from` now.
    pub fn cumulative_pd(&self, from: usize, years: usize) -> Vec<f64> {
        let n = self.ratings.len();
        let mut state = vec![0.0; n];
        state[from] = 1.0;
        (0..years)
            .map(|_| {
                let mut next = vec![0.0; n];
                for (i, p) in state.iter().enumerate() {
                    for (j, m) in self.rows[i].iter().enumerate() {
                        next[j] += p * m;
                    }
                }
                state = next;
                state[n - 1]
            })
            .collect()
    }
}

/// Cumulative PD at the end of years `1..=years` under a constant hazard with one-year PD `pd`.
pub fn constant_hazard(pd: f64, years: usize) -> Vec<f64> {
    (1..=years).map(|t| 1.0 - (1.0 - pd).powi(t as i32)).collect()
}

/// The PD of each year (cumulative PD differences).
pub fn marginal(cumulative: &[f64]) -> Vec<f64> {
    let mut prev = 0.0;
    cumulative
        .iter()
        .map(|c| {
            let m = (c - prev).max(0.0);
            prev = *c;
            m
        })
        .collect()
}

/// The IFRS 9 stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Stage {
    /// Performing: 12-month ECL.
    One = 1,
    /// Significant increase in credit risk: lifetime ECL.
    Two = 2,
    /// Credit-impaired: lifetime ECL with the default certain.
    Three = 3,
}

/// The staging rule.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StagingRule {
    /// Stage 2 when lifetime PD now is at least this many times the lifetime PD at origination
    /// (default 2).
    pub sicr_ratio: f64,
    /// Days past due that put a loan in stage 2 whatever its PD (default 30).
    pub backstop_days: f64,
    /// Days past due that make it credit-impaired, stage 3 (default 90).
    pub default_days: f64,
}

impl Default for StagingRule {
    fn default() -> Self {
        StagingRule {
            sicr_ratio: 2.0,
            backstop_days: 30.0,
            default_days: 90.0,
        }
    }
}

impl StagingRule {
    /// Checks the rule's settings.
    pub fn check(&self) -> Result<(), Invalid> {
        if !(self.sicr_ratio > 1.0 && self.sicr_ratio.is_finite()) {
            return Err(Invalid::new(
                "sicr_ratio",
                format!("{} must be above 1", self.sicr_ratio),
            ));
        }
        if !(self.backstop_days > 0.0 && self.backstop_days < self.default_days) {
            return Err(Invalid::new(
                "backstop_days",
                format!(
                    "{} must be above 0 and below default_days ({})",
                    self.backstop_days, self.default_days
                ),
            ));
        }
        Ok(())
    }

    /// The stage of a loan in default or not, `days_past_due`, with lifetime PD now and at
    /// origination.
    pub fn stage(&self, defaulted: bool, days_past_due: f64, lifetime_pd: f64, origination_pd: f64) -> Stage {
        if defaulted || days_past_due >= self.default_days {
            Stage::Three
        } else if days_past_due >= self.backstop_days || lifetime_pd >= self.sicr_ratio * origination_pd {
            Stage::Two
        } else {
            Stage::One
        }
    }
}

/// The expected credit loss of a loan in `stage`, from its cumulative PD by year over its
/// remaining life (`cumulative[t - 1]` at the end of year `t`), LGD, EAD and effective interest
/// rate `eir` (each year's loss discounted by `(1 + eir)^-t`).
pub fn ecl(stage: Stage, cumulative: &[f64], lgd: f64, ead: f64, eir: f64) -> f64 {
    let years = match stage {
        Stage::Three => return lgd * ead,
        Stage::One => cumulative.len().min(1),
        Stage::Two => cumulative.len(),
    };
    marginal(&cumulative[..years])
        .iter()
        .enumerate()
        .map(|(t, pd)| pd * lgd * ead / (1.0 + eir).powi(t as i32 + 1))
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matrix() -> TransitionMatrix {
        TransitionMatrix::new(
            vec!["A".into(), "B".into(), "D".into()],
            vec![vec![0.90, 0.08, 0.02], vec![0.10, 0.80, 0.10], vec![0.0, 0.0, 1.0]],
        )
        .unwrap()
    }

    #[test]
    fn transition_matrix_powers_give_the_cumulative_pd() {
        let m = matrix();
        let c = m.cumulative_pd(0, 3);
        // Year 2 by hand: 0.02 + 0.90 * 0.02 + 0.08 * 0.10 = 0.046.
        assert!((c[0] - 0.02).abs() < 1e-15 && (c[1] - 0.046).abs() < 1e-15, "{c:?}");
        // Year 3: the default column of M^3 from A, computed independently.
        let a2 = [0.90 * 0.90 + 0.08 * 0.10, 0.90 * 0.08 + 0.08 * 0.80];
        let y3 = 0.046 + a2[0] * 0.02 + a2[1] * 0.10;
        assert!((c[2] - y3).abs() < 1e-15);
        assert!(marginal(&c).iter().all(|p| *p >= 0.0));
    }

    #[test]
    fn bad_matrices_name_the_row() {
        let names = || vec!["A".to_string(), "D".to_string()];
        let e = TransitionMatrix::new(names(), vec![vec![0.9, 0.05], vec![0.0, 1.0]]).unwrap_err();
        assert!(e.message.contains("row `A` sums to 0.95"), "{e}");
        let e = TransitionMatrix::new(names(), vec![vec![0.9, 0.1], vec![0.5, 0.5]]).unwrap_err();
        assert!(e.message.contains("`D` is default"), "{e}");
        let e = TransitionMatrix::new(names(), vec![vec![0.9, 0.1]]).unwrap_err();
        assert!(e.message.contains("1 rows for 2 ratings"), "{e}");
    }

    #[test]
    fn staging_and_ecl() {
        let rule = StagingRule::default();
        assert_eq!(rule.stage(false, 0.0, 0.05, 0.04), Stage::One);
        assert_eq!(rule.stage(false, 0.0, 0.08, 0.04), Stage::Two);
        assert_eq!(rule.stage(false, 30.0, 0.01, 0.04), Stage::Two);
        assert_eq!(rule.stage(false, 90.0, 0.01, 0.04), Stage::Three);
        assert_eq!(rule.stage(true, 0.0, 0.01, 0.04), Stage::Three);
        let c = constant_hazard(0.02, 5);
        assert!((c[4] - (1.0 - 0.98f64.powi(5))).abs() < 1e-15);
        // 12-month: PD x LGD x EAD discounted one year.
        let one = ecl(Stage::One, &c, 0.4, 1000.0, 0.05);
        assert!((one - 0.02 * 0.4 * 1000.0 / 1.05).abs() < 1e-12);
        // Lifetime: the sum over five years, by hand.
        let life: f64 = (1..=5)
            .map(|t| 0.02 * 0.98f64.powi(t - 1) * 0.4 * 1000.0 / 1.05f64.powi(t))
            .sum();
        assert!((ecl(Stage::Two, &c, 0.4, 1000.0, 0.05) - life).abs() < 1e-9);
        assert_eq!(ecl(Stage::Three, &c, 0.4, 1000.0, 0.05), 400.0);
        assert!(
            StagingRule {
                sicr_ratio: 0.5,
                ..rule
            }
            .check()
            .is_err()
        );
    }
}
