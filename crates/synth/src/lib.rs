//! riskpipe-synth: seeded generators of realistic risk data.
//!
//! [`loans`] makes a loan book of applicants: personal data (name, national id, email, phone,
//! date of birth, postcode) beside the application's risk drivers, some missing values and
//! outliers as real data has, and a `default_flag` drawn from a known nonlinear model. Because the
//! model is known, each row's true probability of default is returned too (see [`LoanBook`]), so
//! the best achievable AUC (the oracle) can be reported beside fitted models.
//!
//! [`accounts`] makes a month of account behaviour per customer with planted anomalies of four
//! kinds (global outliers, a dense mule ring, broken dependencies, near-duplicates), the label
//! and the kind written beside them, for the anomaly-detection task.
//!
//! [`loss`] makes a book of mortgages, personal loans and cards with a default flag, the
//! exposure at default and the recoveries of defaulted loans year by year, the true PD, LGD,
//! EAD and CCF written beside them, for loss prediction.
//!
//! [`transactions`] streams card transactions day by day (customers, terminals, timestamps,
//! amounts) with three fraud scenarios, the columns of the fraud-detection handbook's data, for
//! fraud detection.
//!
//! The design decision: every draw comes from one [`riskpipe_core::Rng`] stream per row block,
//! so the same rows and seed give the same bytes on every machine and thread count.
//!
//! ```
//! let book = riskpipe_synth::loans(1_000, 7);
//! assert_eq!(book.data.rows(), 1_000);
//! let flags = book.data.number("default_flag").unwrap();
//! let rate = flags.iter().sum::<f64>() / 1_000.0;
//! assert!(rate > 0.02 && rate < 0.25);
//! ```
#![warn(missing_docs)]

mod accounts;
mod loans;
mod loss;
mod transactions;

pub use accounts::{AccountBook, KINDS, LABEL, accounts};
pub use loans::{LoanBook, TARGET, add_bureau, loans};
pub use loss::{DEFAULT_FLAG, DISCOUNT_RATE, LossBook, loss};
pub use transactions::{
    AMOUNT_FRAUD, CARD_DAYS, RADIUS, TERMINAL_DAYS, TX_FRAUD, TX_FRAUD_SCENARIO, TransactionParams, Transactions,
    first_day, transactions,
};

/// A Poisson draw of mean `lambda`.
pub(crate) fn poisson(rng: &mut riskpipe_core::Rng, lambda: f64) -> f64 {
    // Knuth's method for small means, a rounded normal approximation above 30.
    if lambda > 30.0 {
        return (lambda + lambda.sqrt() * rng.normal()).round().max(0.0);
    }
    let l = (-lambda).exp();
    let (mut k, mut p) = (0.0, 1.0);
    loop {
        p *= rng.uniform();
        if p <= l {
            return k;
        }
        k += 1.0;
    }
}
