//! The `loss.book` section (with `loss.pd_bundle`): as written ([`BookConfig`]) and checked
//! ([`BookSpec`]). Column names default to the loss-book generator's.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use riskpipe_core::Error;

use crate::book::{BookColumns, BookParams, TermStructure};
use crate::ifrs9::{StagingRule, TransitionMatrix};
use crate::irb::{ExposureClass, IrbParams};

/// `loss.book`, as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BookConfig {
    /// The segment column; the IRB class is chosen by its value (default `product`).
    pub segment: Option<String>,
    /// A term loan's outstanding principal (default `balance`).
    pub balance: Option<String>,
    /// A revolving line's drawn amount (default `drawn`).
    pub drawn: Option<String>,
    /// A revolving line's limit (default `credit_limit`).
    pub limit: Option<String>,
    /// The CCF applied to a line's undrawn limit for its EAD (default 0.75).
    pub ccf: Option<f64>,
    /// Days past due (default `days_past_due`).
    pub days_past_due: Option<String>,
    /// The one-year PD at origination, for the significant-increase test (default
    /// `origination_pd`; `none` to stage by days past due alone).
    pub origination_pd: Option<String>,
    /// The yearly effective interest rate (default `interest_rate`).
    pub eir: Option<String>,
    /// A term loan's term in months (default `term_months`).
    pub term_months: Option<String>,
    /// Months since origination (default `months_on_book`).
    pub months_on_book: Option<String>,
    /// Remaining life of a revolving line in years (default 3).
    pub revolving_years: Option<f64>,
    /// IFRS 9 settings.
    pub ifrs9: Option<Ifrs9Config>,
    /// IRB settings.
    pub irb: Option<IrbConfig>,
    /// Monte Carlo scenarios of the portfolio loss distribution (default 20,000).
    pub scenarios: Option<usize>,
}

/// `loss.book.ifrs9`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ifrs9Config {
    /// Stage 2 when the lifetime PD is at least this multiple of the origination one (default 2).
    pub sicr_ratio: Option<f64>,
    /// Days past due that move a loan to stage 2 (default 30).
    pub backstop_days: Option<f64>,
    /// Days past due that mean default, stage 3 (default 90).
    pub default_days: Option<f64>,
    /// A one-year rating transition matrix for lifetime PDs (default: a constant hazard).
    pub transition_matrix: Option<MatrixConfig>,
}

/// `loss.book.ifrs9.transition_matrix`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatrixConfig {
    /// Rating names, default last.
    pub ratings: Vec<String>,
    /// One row per rating.
    pub rows: Vec<Vec<f64>>,
}

/// `loss.book.irb`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IrbConfig {
    /// The exposure class of each segment value.
    pub classes: Option<BTreeMap<String, ExposureClass>>,
    /// Effective maturity of corporate exposures in years (default 2.5; capped to [1, 5]).
    pub maturity: Option<f64>,
    /// The PD floor (default 0.0003).
    pub pd_floor: Option<f64>,
}

/// The checked book settings with the PD bundle they read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BookSpec {
    /// The credit bundle whose PD each loan gets.
    pub pd_bundle: PathBuf,
    /// The measures' settings.
    pub params: BookParams,
    /// Monte Carlo scenarios.
    pub scenarios: usize,
}

fn or(v: &Option<String>, default: &str) -> String {
    v.clone().unwrap_or_else(|| default.to_string())
}

impl BookConfig {
    /// Checks the section; `pd_bundle` (resolved against `base`, the pipeline file's folder) is
    /// required with it.
    pub fn resolve(self, file: &str, base: &Path, pd_bundle: Option<PathBuf>) -> Result<BookSpec, Vec<Error>> {
        let mut errs = Vec::new();
        let key = |k: &str| format!("loss.book.{k}");
        let pd_bundle = match pd_bundle {
            Some(p) => base.join(p),
            None => {
                errs.push(Error::config(
                    file,
                    "loss.pd_bundle",
                    "`loss.book` needs the credit bundle that gives each loan its PD (`runs/<pipeline>/<run>/deploy/bundle`)",
                ));
                PathBuf::new()
            }
        };
        let ccf = self.ccf.unwrap_or(0.75);
        if !(0.0..=1.0).contains(&ccf) {
            errs.push(Error::config(file, key("ccf"), format!("{ccf} is outside [0, 1]")));
        }
        let revolving_years = self.revolving_years.unwrap_or(3.0);
        if !(revolving_years > 0.0 && revolving_years <= 50.0) {
            errs.push(Error::config(
                file,
                key("revolving_years"),
                format!("{revolving_years} is not a number of years in (0, 50]"),
            ));
        }
        let i = self.ifrs9.unwrap_or_default();
        let d = StagingRule::default();
        let staging = StagingRule {
            sicr_ratio: i.sicr_ratio.unwrap_or(d.sicr_ratio),
            backstop_days: i.backstop_days.unwrap_or(d.backstop_days),
            default_days: i.default_days.unwrap_or(d.default_days),
        };
        if let Err(e) = staging.check() {
            errs.push(Error::config(file, key(&format!("ifrs9.{}", e.field)), e.message));
        }
        let term_structure = match i.transition_matrix {
            None => TermStructure::ConstantHazard,
            Some(m) => match TransitionMatrix::new(m.ratings, m.rows) {
                Ok(m) => TermStructure::TransitionMatrix(m),
                Err(e) => {
                    errs.push(Error::config(file, key("ifrs9.transition_matrix"), e.message));
                    TermStructure::ConstantHazard
                }
            },
        };
        let irb = self.irb.unwrap_or_default();
        let classes = irb.classes.unwrap_or_default();
        if classes.is_empty() {
            errs.push(Error::config(
                file,
                key("irb.classes"),
                format!(
                    "name the IRB exposure class of each `{}` value ({})",
                    or(&self.segment, "product"),
                    ExposureClass::ALL.map(ExposureClass::name).join(", ")
                ),
            ));
        }
        let maturity = irb.maturity.unwrap_or(2.5);
        if !(maturity.is_finite() && maturity > 0.0) {
            errs.push(Error::config(
                file,
                key("irb.maturity"),
                format!("{maturity} is not a positive number of years"),
            ));
        }
        let pd_floor = irb.pd_floor.unwrap_or(IrbParams::default().pd_floor);
        if !(0.0..0.05).contains(&pd_floor) {
            errs.push(Error::config(
                file,
                key("irb.pd_floor"),
                format!("{pd_floor} is outside [0, 0.05): Basel's floors are 0.0003 and 0.0005"),
            ));
        }
        let scenarios = self.scenarios.unwrap_or(20_000);
        if !(100..=10_000_000).contains(&scenarios) {
            errs.push(Error::config(
                file,
                key("scenarios"),
                format!("{scenarios} is outside [100, 10000000]"),
            ));
        }
        let origination_pd = match self.origination_pd.as_deref() {
            Some("none") => None,
            o => Some(o.unwrap_or("origination_pd").to_string()),
        };
        if !errs.is_empty() {
            return Err(errs);
        }
        Ok(BookSpec {
            pd_bundle,
            scenarios,
            params: BookParams {
                columns: BookColumns {
                    segment: or(&self.segment, "product"),
                    balance: or(&self.balance, "balance"),
                    drawn: or(&self.drawn, "drawn"),
                    limit: or(&self.limit, "credit_limit"),
                    days_past_due: or(&self.days_past_due, "days_past_due"),
                    origination_pd,
                    eir: or(&self.eir, "interest_rate"),
                    term_months: or(&self.term_months, "term_months"),
                    months_on_book: or(&self.months_on_book, "months_on_book"),
                },
                ccf,
                revolving_years,
                staging,
                term_structure,
                classes,
                maturity,
                irb: IrbParams { pd_floor },
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yaml(text: &str) -> BookConfig {
        riskpipe_core::yaml::parse("p.yaml", text).unwrap()
    }

    #[test]
    fn bad_keys_are_named() {
        let cfg = yaml(
            "ccf: 1.5\nifrs9: { sicr_ratio: 0.5, transition_matrix: { ratings: [A, D], rows: [[0.9, 0.2], [0, 1]] } }\nscenarios: 5",
        );
        let errs = cfg.resolve("p.yaml", Path::new("."), None).unwrap_err();
        let keys: Vec<String> = errs
            .iter()
            .map(|e| match e {
                Error::Config { key, .. } => key.clone(),
                _ => String::new(),
            })
            .collect();
        for k in [
            "loss.pd_bundle",
            "loss.book.ccf",
            "loss.book.ifrs9.sicr_ratio",
            "loss.book.ifrs9.transition_matrix",
            "loss.book.irb.classes",
            "loss.book.scenarios",
        ] {
            assert!(keys.iter().any(|x| x == k), "{k} not in {keys:?}");
        }
        let text = format!("{errs:?}");
        assert!(text.contains("row `A` sums to 1.1"), "{text}");
    }

    #[test]
    fn defaults_are_the_generators_columns() {
        let spec = yaml("irb: { classes: { card: qualifying_revolving } }")
            .resolve("p.yaml", Path::new("/p"), Some("b".into()))
            .unwrap();
        assert_eq!(spec.pd_bundle, PathBuf::from("/p/b"));
        assert_eq!(spec.params.columns.limit, "credit_limit");
        assert_eq!(spec.params.columns.origination_pd.as_deref(), Some("origination_pd"));
        assert_eq!(spec.params.ccf, 0.75);
        assert_eq!(spec.scenarios, 20_000);
    }
}
