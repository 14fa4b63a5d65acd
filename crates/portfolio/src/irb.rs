//! Basel IRB capital: the asymptotic single-risk-factor risk-weight functions for corporate
//! exposures (with the maturity adjustment and the SME firm-size adjustment) and for the three
//! retail classes (residential mortgage, qualifying revolving, other retail), after the Basel
//! framework's credit-risk chapter (CRE31):
//!
//! `K = [LGD N((G(PD) + sqrt(R) G(0.999)) / sqrt(1 - R)) - PD LGD] MA`, `RWA = 12.5 K EAD`,
//!
//! with `MA = (1 + (M - 2.5) b) / (1 - 1.5 b)`, `b = (0.11852 - 0.05478 ln PD)^2` for corporates
//! and `MA = 1` for retail.

use serde::{Deserialize, Serialize};

use crate::Invalid;
use crate::normal::{cdf, inv_cdf};

/// The Basel exposure class, which sets the asset correlation and the maturity adjustment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExposureClass {
    /// Corporate (and SME corporate, with annual sales): R from 0.12 to 0.24, falling with PD;
    /// maturity adjustment.
    Corporate,
    /// Retail exposure secured by residential real estate: R = 0.15.
    ResidentialMortgage,
    /// Qualifying revolving retail (credit cards, overdrafts): R = 0.04.
    QualifyingRevolving,
    /// Other retail: R from 0.03 to 0.16, falling with PD.
    OtherRetail,
}

impl ExposureClass {
    /// Every class, in report order.
    pub const ALL: [ExposureClass; 4] = [
        ExposureClass::Corporate,
        ExposureClass::ResidentialMortgage,
        ExposureClass::QualifyingRevolving,
        ExposureClass::OtherRetail,
    ];

    /// The class's name as written in YAML and reports.
    pub fn name(self) -> &'static str {
        match self {
            ExposureClass::Corporate => "corporate",
            ExposureClass::ResidentialMortgage => "residential_mortgage",
            ExposureClass::QualifyingRevolving => "qualifying_revolving",
            ExposureClass::OtherRetail => "other_retail",
        }
    }
}

/// One exposure's inputs to the IRB formula.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Exposure {
    /// The exposure class.
    pub class: ExposureClass,
    /// One-year probability of default, in [0, 1].
    pub pd: f64,
    /// Loss given default, in [0, 1].
    pub lgd: f64,
    /// Exposure at default, at least 0.
    pub ead: f64,
    /// Effective maturity in years (corporate only; capped to [1, 5]).
    pub maturity: f64,
    /// Annual sales of the borrower in millions of euros (corporate only): below 50 the SME
    /// size adjustment lowers the correlation, sales below 5 counting as 5.
    pub sales: Option<f64>,
}

/// Settings of the IRB calculation.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IrbParams {
    /// The PD floor applied before the formula (default 0.0003, the 3 basis points of Basel II;
    /// the finalised Basel III framework uses 0.0005).
    pub pd_floor: f64,
}

impl Default for IrbParams {
    fn default() -> Self {
        IrbParams { pd_floor: 0.0003 }
    }
}

/// What the calculation changed in an exposure's inputs, for the report to say.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Adjusted {
    /// The PD was below the floor and was raised to it.
    pub pd_floored: bool,
    /// The maturity was outside [1, 5] years and was capped.
    pub maturity_capped: bool,
    /// The PD was 1 (defaulted): K is 0 under the formula, the loss being expected, not
    /// unexpected (Basel's `max(0, LGD - EL_best_estimate)` with the best estimate equal to LGD).
    pub defaulted: bool,
}

/// One exposure's capital.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Capital {
    /// The asset correlation R.
    pub correlation: f64,
    /// The PD the formula used (after the floor).
    pub pd: f64,
    /// The maturity the formula used (after the cap; 1 for retail, where it does not apply).
    pub maturity: f64,
    /// Capital requirement per unit of exposure.
    pub k: f64,
    /// Risk weight, `12.5 K` (1.0 = 100 %).
    pub risk_weight: f64,
    /// Risk-weighted assets, `12.5 K EAD`.
    pub rwa: f64,
    /// Adjustments made to the inputs.
    pub adjusted: Adjusted,
}

/// `(1 - e^(-k PD)) / (1 - e^(-k))`, the weight the correlation formulas put on their upper
/// bound.
fn weight(pd: f64, k: f64) -> f64 {
    (-(-k * pd).exp_m1()) / (-(-k).exp_m1())
}

/// The asset correlation of a class at `pd` (and annual `sales` for corporates, in millions of
/// euros).
pub fn correlation(class: ExposureClass, pd: f64, sales: Option<f64>) -> f64 {
    match class {
        ExposureClass::Corporate => {
            let w = weight(pd, 50.0);
            let r = 0.12 * w + 0.24 * (1.0 - w);
            match sales {
                Some(s) if s < 50.0 => r - 0.04 * (1.0 - (s.max(5.0) - 5.0) / 45.0),
                _ => r,
            }
        }
        ExposureClass::ResidentialMortgage => 0.15,
        ExposureClass::QualifyingRevolving => 0.04,
        ExposureClass::OtherRetail => {
            let w = weight(pd, 35.0);
            0.03 * w + 0.16 * (1.0 - w)
        }
    }
}

/// The capital of one exposure. Inputs outside their range (PD or LGD outside [0, 1], a
/// negative or non-finite EAD or maturity, sales that are not a positive number) are an error
/// naming the field; a PD below the floor, a maturity outside [1, 5] years and a PD of 1 are
/// handled as the rules say and reported in [`Capital::adjusted`].
pub fn capital(e: &Exposure, params: &IrbParams) -> Result<Capital, Invalid> {
    let unit = |name: &'static str, v: f64| {
        if (0.0..=1.0).contains(&v) {
            Ok(())
        } else {
            Err(Invalid::new(name, format!("{v} is outside [0, 1]")))
        }
    };
    unit("pd", e.pd)?;
    unit("lgd", e.lgd)?;
    if !(e.ead >= 0.0 && e.ead.is_finite()) {
        return Err(Invalid::new(
            "ead",
            format!("{} is not a finite amount of at least 0", e.ead),
        ));
    }
    if !(0.0..1.0).contains(&params.pd_floor) {
        return Err(Invalid::new(
            "pd_floor",
            format!("{} is outside [0, 1)", params.pd_floor),
        ));
    }
    let mut adjusted = Adjusted::default();
    let corporate = e.class == ExposureClass::Corporate;
    let maturity = if corporate {
        if !(e.maturity.is_finite() && e.maturity > 0.0) {
            return Err(Invalid::new(
                "maturity",
                format!("{} is not a positive number of years", e.maturity),
            ));
        }
        adjusted.maturity_capped = !(1.0..=5.0).contains(&e.maturity);
        e.maturity.clamp(1.0, 5.0)
    } else {
        1.0
    };
    if let Some(s) = e.sales {
        if !(s.is_finite() && s > 0.0) {
            return Err(Invalid::new("sales", format!("{s} is not a positive amount")));
        }
    }
    adjusted.pd_floored = e.pd < params.pd_floor;
    let pd = e.pd.max(params.pd_floor);
    let r = correlation(e.class, pd, if corporate { e.sales } else { None });
    let k = if pd >= 1.0 {
        adjusted.defaulted = true;
        0.0
    } else {
        let conditional = cdf((inv_cdf(pd) + r.sqrt() * inv_cdf(0.999)) / (1.0 - r).sqrt());
        let unexpected = e.lgd * conditional - pd * e.lgd;
        let ma = if corporate {
            let b = (0.11852 - 0.05478 * pd.ln()).powi(2);
            (1.0 + (maturity - 2.5) * b) / (1.0 - 1.5 * b)
        } else {
            1.0
        };
        (unexpected * ma).max(0.0)
    };
    Ok(Capital {
        correlation: r,
        pd,
        maturity,
        k,
        risk_weight: 12.5 * k,
        rwa: 12.5 * k * e.ead,
        adjusted,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn corporate(pd: f64) -> Exposure {
        Exposure {
            class: ExposureClass::Corporate,
            pd,
            lgd: 0.45,
            ead: 100.0,
            maturity: 2.5,
            sales: None,
        }
    }

    #[test]
    fn the_published_corporate_risk_weight() {
        // LGD 45 %, M 2.5 years, PD 1 %: 92.32 %, as published to two decimals of a percent.
        // The rest of the grid is checked against scipy in `tests/irb_reference.rs`.
        let c = capital(&corporate(0.01), &IrbParams::default()).unwrap();
        assert_eq!((c.risk_weight * 1e4).round() / 1e2, 92.32, "{}", c.risk_weight);
        assert!((c.rwa - c.risk_weight * 100.0).abs() < 1e-9);
    }

    #[test]
    fn adjustments_are_applied_and_reported() {
        let p = IrbParams::default();
        let floored = capital(&corporate(0.0), &p).unwrap();
        assert!(floored.adjusted.pd_floored && floored.pd == 0.0003);
        assert_eq!(
            floored.risk_weight,
            capital(&corporate(0.0003), &p).unwrap().risk_weight
        );
        let long = capital(
            &Exposure {
                maturity: 7.0,
                ..corporate(0.01)
            },
            &p,
        )
        .unwrap();
        assert!(long.adjusted.maturity_capped && long.maturity == 5.0);
        let defaulted = capital(&corporate(1.0), &p).unwrap();
        assert!(defaulted.adjusted.defaulted && defaulted.k == 0.0);
        // SME: sales of 5 million or less take the full 0.04 off the correlation, 50 none.
        let r = |s| {
            capital(
                &Exposure {
                    sales: Some(s),
                    ..corporate(0.01)
                },
                &p,
            )
            .unwrap()
            .correlation
        };
        let plain = capital(&corporate(0.01), &p).unwrap().correlation;
        assert!((r(1.0) - (plain - 0.04)).abs() < 1e-15 && r(1.0) == r(5.0));
        assert!((r(27.5) - (plain - 0.02)).abs() < 1e-15 && r(50.0) == plain);
        // Retail has no maturity adjustment: maturity does not matter.
        let retail = Exposure {
            class: ExposureClass::QualifyingRevolving,
            ..corporate(0.02)
        };
        let a = capital(&retail, &p).unwrap();
        let b = capital(
            &Exposure {
                maturity: 30.0,
                ..retail
            },
            &p,
        )
        .unwrap();
        assert_eq!(a, b);
        assert_eq!(a.correlation, 0.04);
    }

    #[test]
    fn bad_inputs_name_the_field() {
        let p = IrbParams::default();
        for (e, field) in [
            (
                Exposure {
                    pd: 1.2,
                    ..corporate(0.01)
                },
                "pd",
            ),
            (
                Exposure {
                    lgd: -0.1,
                    ..corporate(0.01)
                },
                "lgd",
            ),
            (
                Exposure {
                    ead: -5.0,
                    ..corporate(0.01)
                },
                "ead",
            ),
            (
                Exposure {
                    ead: f64::NAN,
                    ..corporate(0.01)
                },
                "ead",
            ),
            (
                Exposure {
                    maturity: 0.0,
                    ..corporate(0.01)
                },
                "maturity",
            ),
            (
                Exposure {
                    sales: Some(-1.0),
                    ..corporate(0.01)
                },
                "sales",
            ),
        ] {
            let err = capital(&e, &p).unwrap_err();
            assert_eq!(err.field, field, "{err}");
        }
    }
}
