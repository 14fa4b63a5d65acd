//! riskpipe-portfolio: the credit-loss formulas, with no I/O, shared by evaluate (the report's
//! loss section) and deploy (the bundle's per-loan outputs).
//!
//! - [`normal`]: the standard normal distribution and its inverse, to double precision.
//! - [`irb`]: Basel IRB capital, `K`, risk weight and RWA per exposure, with the PD floor,
//!   the maturity cap and the SME size adjustment.
//! - [`ifrs9`]: PD term structures (constant hazard or a rating transition matrix), stage
//!   allocation and 12-month or lifetime expected credit loss.
//! - [`book`]: one loan's EAD, 12-month EL, IFRS 9 stage and ECL and IRB RWA from its PD,
//!   LGD and book columns; [`config`] checks the `loss.book` section that sets them.
//! - [`vasicek`]: the one-factor Gaussian portfolio loss distribution by Monte Carlo (VaR and
//!   expected shortfall with their standard errors) and the large-pool closed form.
//!
//! ```
//! use riskpipe_portfolio::irb::{capital, Exposure, ExposureClass, IrbParams};
//! let e = Exposure { class: ExposureClass::Corporate, pd: 0.01, lgd: 0.45, ead: 1e6, maturity: 2.5, sales: None };
//! let c = capital(&e, &IrbParams::default()).unwrap();
//! assert_eq!((c.risk_weight * 1e4).round() / 1e2, 92.32); // percent
//! ```
#![warn(missing_docs)]

pub mod book;
pub mod config;
pub mod ifrs9;
pub mod irb;
pub mod normal;
pub mod vasicek;
mod ziggurat;

/// An input outside its domain: the field and what is wrong with it. The stage that calls the
/// formula turns it into an error naming the data column or YAML key.
#[derive(Debug, Clone, PartialEq)]
pub struct Invalid {
    /// The input's name (`pd`, `lgd`, `ead`, `maturity`, ...).
    pub field: &'static str,
    /// What is wrong, with the value.
    pub message: String,
}

impl Invalid {
    /// An error on `field`.
    pub fn new(field: &'static str, message: impl Into<String>) -> Invalid {
        Invalid {
            field,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl std::error::Error for Invalid {}
