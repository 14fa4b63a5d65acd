//! One loan's credit-loss measures from its PD, LGD and book facts: exposure at default,
//! 12-month expected loss, IFRS 9 stage and ECL, and Basel IRB risk-weighted assets.
//!
//! The same function serves the evaluate stage (the report's loss section, over the test book)
//! and a loss bundle's scorer (per scored loan), so the two can never disagree.
//!
//! - EAD: the outstanding `balance` of a term loan; for a revolving line without one,
//!   `drawn + ccf x max(limit - drawn, 0)` with the configured CCF.
//! - Default: days past due at or above the staging rule's `default_days`; a loan in default
//!   counts with PD 1 (its 12-month EL is LGD x EAD; its IRB capital K is 0, the loss being
//!   expected).
//! - Remaining life: `(term_months - months_on_book) / 12` years for a term loan, the
//!   configured `revolving_years` for a line; ECL sums whole years (at least one).
//! - PD term structure: a constant hazard with the loan's one-year PD, or the rows of a rating
//!   transition matrix, the loan rated by the master scale of the matrix's one-year default
//!   column (the rating whose one-year PD is nearest in log-odds).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::Invalid;
use crate::ifrs9::{Stage, StagingRule, TransitionMatrix, constant_hazard, ecl};
use crate::irb::{Adjusted, Exposure, ExposureClass, IrbParams, capital};

/// The data columns a loan's measures read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BookColumns {
    /// The segment (product) column: the IRB exposure class is chosen by its value.
    pub segment: String,
    /// A term loan's outstanding principal (empty for a revolving line).
    pub balance: String,
    /// A revolving line's drawn balance.
    pub drawn: String,
    /// A revolving line's limit.
    pub limit: String,
    /// Days past due.
    pub days_past_due: String,
    /// The one-year PD assigned at origination (the IFRS 9 significant-increase test), if any.
    pub origination_pd: Option<String>,
    /// The yearly effective interest rate, at which ECL is discounted.
    pub eir: String,
    /// A term loan's term in months.
    pub term_months: String,
    /// Months since origination.
    pub months_on_book: String,
}

impl BookColumns {
    /// Every column read with its key under `loss.book`, in a fixed order, the segment first
    /// (a text column; the others are numbers).
    pub fn all(&self) -> Vec<(&'static str, &str)> {
        let mut v = vec![
            ("segment", self.segment.as_str()),
            ("balance", &self.balance),
            ("drawn", &self.drawn),
            ("limit", &self.limit),
            ("days_past_due", &self.days_past_due),
            ("eir", &self.eir),
            ("term_months", &self.term_months),
            ("months_on_book", &self.months_on_book),
        ];
        if let Some(o) = &self.origination_pd {
            v.push(("origination_pd", o));
        }
        v
    }
}

/// How lifetime PDs are built.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TermStructure {
    /// The loan's one-year PD as a constant yearly hazard.
    ConstantHazard,
    /// A one-year rating transition matrix, its powers giving cumulative PDs.
    TransitionMatrix(TransitionMatrix),
}

/// The checked `loss.book` settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BookParams {
    /// Columns read.
    pub columns: BookColumns,
    /// The CCF of a revolving line's undrawn limit, in [0, 1].
    pub ccf: f64,
    /// The remaining life of a revolving line, in years.
    pub revolving_years: f64,
    /// IFRS 9 stage allocation.
    pub staging: StagingRule,
    /// PD term structure.
    pub term_structure: TermStructure,
    /// IRB exposure class of each segment value.
    pub classes: BTreeMap<String, ExposureClass>,
    /// Effective maturity in years of corporate exposures (capped to [1, 5] by the formula).
    pub maturity: f64,
    /// IRB settings (the PD floor).
    pub irb: IrbParams,
}

/// What a loan's row holds, read from its columns (`NaN` for a missing number).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LoanFacts<'a> {
    /// One-year PD from the PD model, in [0, 1].
    pub pd: f64,
    /// Predicted LGD (clipped to [0, 1] here, and said in [`Measures::lgd_clipped`]).
    pub lgd: f64,
    /// Segment value.
    pub segment: &'a str,
    /// Outstanding balance (term loans).
    pub balance: f64,
    /// Drawn balance (revolving lines).
    pub drawn: f64,
    /// Limit (revolving lines).
    pub limit: f64,
    /// Days past due.
    pub days_past_due: f64,
    /// One-year PD at origination (`NaN` when the book has none).
    pub origination_pd: f64,
    /// Yearly effective interest rate.
    pub eir: f64,
    /// Term in months (term loans).
    pub term_months: f64,
    /// Months on book.
    pub months_on_book: f64,
}

/// One loan's measures.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Measures {
    /// The PD the measures use: the model's, or 1 for a loan in default.
    pub pd: f64,
    /// The LGD used, in [0, 1].
    pub lgd: f64,
    /// Exposure at default.
    pub ead: f64,
    /// 12-month expected loss, PD x LGD x EAD.
    pub el: f64,
    /// IFRS 9 stage.
    pub stage: Stage,
    /// IFRS 9 expected credit loss (12-month in stage 1, lifetime in stages 2 and 3).
    pub ecl: f64,
    /// IRB exposure class.
    pub class: ExposureClass,
    /// Asset correlation R of the IRB formula.
    pub correlation: f64,
    /// Risk-weighted assets.
    pub rwa: f64,
    /// What the IRB formula adjusted (PD floor, maturity cap, default).
    pub adjusted: Adjusted,
    /// The predicted LGD was outside [0, 1] and was clipped.
    pub lgd_clipped: bool,
}

impl BookParams {
    /// The rating of one-year PD `pd` on the transition matrix's master scale.
    fn rating_of(m: &TransitionMatrix, pd: f64) -> usize {
        let d = m.ratings.len() - 1;
        let logit = |p: f64| {
            let p = p.clamp(1e-9, 1.0 - 1e-9);
            (p / (1.0 - p)).ln()
        };
        (0..d)
            .map(|r| (r, (logit(m.rows[r][d]) - logit(pd)).abs()))
            .fold((0, f64::INFINITY), |b, (r, e)| if e < b.1 { (r, e) } else { b })
            .0
    }

    /// Cumulative PD by year over `years` for one-year PD `pd`.
    pub fn cumulative(&self, pd: f64, years: usize) -> Vec<f64> {
        match &self.term_structure {
            TermStructure::ConstantHazard => constant_hazard(pd, years),
            TermStructure::TransitionMatrix(m) => m.cumulative_pd(Self::rating_of(m, pd), years),
        }
    }

    /// A loan's measures. A PD outside [0, 1], a negative or missing exposure, a segment without
    /// an IRB class or a missing interest rate is an error naming the field.
    pub fn assess(&self, f: &LoanFacts<'_>) -> Result<Measures, Invalid> {
        if !(0.0..=1.0).contains(&f.pd) {
            return Err(Invalid::new("pd", format!("{} is outside [0, 1]", f.pd)));
        }
        let ead = if f.balance.is_finite() {
            f.balance
        } else if f.drawn.is_finite() && f.limit.is_finite() {
            f.drawn + self.ccf * (f.limit - f.drawn).max(0.0)
        } else {
            return Err(Invalid::new(
                "ead",
                "the loan has neither an outstanding balance nor a drawn amount and a limit",
            ));
        };
        if ead < 0.0 {
            return Err(Invalid::new("ead", format!("{ead} is negative")));
        }
        let class = *self
            .classes
            .get(f.segment)
            .ok_or_else(|| Invalid::new("classes", format!("segment `{}` has no IRB exposure class", f.segment)))?;
        if !f.eir.is_finite() || f.eir <= -1.0 {
            return Err(Invalid::new("eir", format!("{} is not a yearly rate", f.eir)));
        }
        let lgd_clipped = !(0.0..=1.0).contains(&f.lgd);
        let lgd = if f.lgd.is_nan() { f.lgd } else { f.lgd.clamp(0.0, 1.0) };
        if lgd.is_nan() {
            return Err(Invalid::new("lgd", "the predicted LGD is not a number"));
        }
        let remaining = if f.term_months.is_finite() && f.months_on_book.is_finite() {
            ((f.term_months - f.months_on_book) / 12.0).max(0.0)
        } else {
            self.revolving_years
        };
        let years = (remaining.ceil() as usize).max(1);
        let defaulted = f.days_past_due >= self.staging.default_days;
        let pd = if defaulted { 1.0 } else { f.pd };
        let cumulative = self.cumulative(pd, years);
        let lifetime = cumulative.last().copied().unwrap_or(pd);
        let origination = if f.origination_pd.is_finite() {
            self.cumulative(f.origination_pd.clamp(0.0, 1.0), years)
                .last()
                .copied()
                .unwrap_or(1.0)
        } else {
            f64::INFINITY
        };
        let stage = self.staging.stage(defaulted, f.days_past_due, lifetime, origination);
        let c = capital(
            &Exposure {
                class,
                pd,
                lgd,
                ead,
                maturity: self.maturity,
                sales: None,
            },
            &self.irb,
        )?;
        Ok(Measures {
            pd,
            lgd,
            ead,
            el: pd * lgd * ead,
            stage,
            ecl: ecl(stage, &cumulative, lgd, ead, f.eir),
            class,
            correlation: c.correlation,
            rwa: c.rwa,
            adjusted: c.adjusted,
            lgd_clipped,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> BookParams {
        BookParams {
            columns: BookColumns {
                segment: "product".into(),
                balance: "balance".into(),
                drawn: "drawn".into(),
                limit: "credit_limit".into(),
                days_past_due: "days_past_due".into(),
                origination_pd: Some("origination_pd".into()),
                eir: "interest_rate".into(),
                term_months: "term_months".into(),
                months_on_book: "months_on_book".into(),
            },
            ccf: 0.5,
            revolving_years: 3.0,
            staging: StagingRule::default(),
            term_structure: TermStructure::ConstantHazard,
            classes: [
                ("mortgage".to_string(), ExposureClass::ResidentialMortgage),
                ("card".to_string(), ExposureClass::QualifyingRevolving),
                ("loan".to_string(), ExposureClass::Corporate),
            ]
            .into(),
            maturity: 2.5,
            irb: IrbParams::default(),
        }
    }

    fn card<'a>() -> LoanFacts<'a> {
        LoanFacts {
            pd: 0.02,
            lgd: 0.8,
            segment: "card",
            balance: f64::NAN,
            drawn: 600.0,
            limit: 1000.0,
            days_past_due: 0.0,
            origination_pd: 0.015,
            eir: 0.2,
            term_months: f64::NAN,
            months_on_book: 40.0,
        }
    }

    #[test]
    fn a_performing_line_is_stage_one_with_twelve_month_ecl() {
        let m = params().assess(&card()).unwrap();
        // EAD = 600 + 0.5 x 400; EL = 0.02 x 0.8 x 800; 12-month ECL discounts one year.
        assert_eq!(m.ead, 800.0);
        assert!((m.el - 12.8).abs() < 1e-12);
        assert_eq!(m.stage, Stage::One);
        assert!((m.ecl - 12.8 / 1.2).abs() < 1e-12, "{}", m.ecl);
        assert_eq!(m.class, ExposureClass::QualifyingRevolving);
        assert_eq!(m.correlation, 0.04);
        assert!(m.rwa > 0.0);
    }

    #[test]
    fn the_pd_ratio_and_the_backstop_move_a_loan_to_stage_two() {
        let p = params();
        let worse = LoanFacts {
            origination_pd: 0.005,
            ..card()
        };
        let m = p.assess(&worse).unwrap();
        assert_eq!(m.stage, Stage::Two);
        // Lifetime ECL over three years exceeds the 12-month one.
        let cum = constant_hazard(0.02, 3);
        let by_hand: f64 = crate::ifrs9::marginal(&cum)
            .iter()
            .enumerate()
            .map(|(t, q)| q * 0.8 * 800.0 / 1.2f64.powi(t as i32 + 1))
            .sum();
        assert!((m.ecl - by_hand).abs() < 1e-9);
        let late = LoanFacts {
            days_past_due: 30.0,
            ..card()
        };
        assert_eq!(p.assess(&late).unwrap().stage, Stage::Two);
    }

    #[test]
    fn a_loan_in_default_counts_with_pd_one_and_no_unexpected_loss() {
        let m = params()
            .assess(&LoanFacts {
                days_past_due: 120.0,
                ..card()
            })
            .unwrap();
        assert_eq!((m.pd, m.stage), (1.0, Stage::Three));
        assert_eq!(m.el, 0.8 * 800.0);
        assert_eq!(m.ecl, 0.8 * 800.0);
        assert_eq!(m.rwa, 0.0);
        assert!(m.adjusted.defaulted);
    }

    #[test]
    fn term_loans_use_the_balance_and_their_remaining_life() {
        let mut p = params();
        p.maturity = 7.0;
        let f = LoanFacts {
            segment: "loan",
            balance: 1000.0,
            term_months: 60.0,
            months_on_book: 20.0,
            pd: 0.0,
            lgd: 1.3,
            origination_pd: f64::NAN,
            days_past_due: 30.0,
            ..card()
        };
        let m = p.assess(&f).unwrap();
        assert_eq!(m.ead, 1000.0);
        assert!(m.lgd_clipped && m.lgd == 1.0);
        assert!(m.adjusted.pd_floored && m.adjusted.maturity_capped);
        assert_eq!(m.stage, Stage::Two);
    }

    #[test]
    fn bad_facts_name_their_field() {
        let p = params();
        let err = |f: LoanFacts<'_>| p.assess(&f).unwrap_err().field;
        assert_eq!(err(LoanFacts { pd: 1.5, ..card() }), "pd");
        assert_eq!(
            err(LoanFacts {
                drawn: f64::NAN,
                ..card()
            }),
            "ead"
        );
        assert_eq!(
            err(LoanFacts {
                balance: -5.0,
                ..card()
            }),
            "ead"
        );
        assert_eq!(
            err(LoanFacts {
                segment: "boat",
                ..card()
            }),
            "classes"
        );
        assert_eq!(
            err(LoanFacts {
                lgd: f64::NAN,
                ..card()
            }),
            "lgd"
        );
    }

    #[test]
    fn a_transition_matrix_rates_loans_on_its_master_scale() {
        let m = TransitionMatrix::new(
            vec!["A".into(), "B".into(), "D".into()],
            vec![vec![0.95, 0.04, 0.01], vec![0.10, 0.80, 0.10], vec![0.0, 0.0, 1.0]],
        )
        .unwrap();
        assert_eq!(BookParams::rating_of(&m, 0.012), 0);
        assert_eq!(BookParams::rating_of(&m, 0.08), 1);
        let mut p = params();
        p.term_structure = TermStructure::TransitionMatrix(m.clone());
        assert_eq!(p.cumulative(0.08, 2), m.cumulative_pd(1, 2));
    }
}
