//! riskpipe-scoring: the model bundle and the scorer that loads it.
//!
//! A bundle is a sealed folder (`bundle.json`, the masking `plan.json`, the fitted
//! `transform.json`, the selected `model.json`, optional `calibration.json` and `scorecard.json`,
//! and for a loss bundle with a book `book.json` and the credit bundle it embeds as `pd_*`
//! files). [`Scorer`] loads one and scores raw rows: the privacy plan and the features transform
//! are replayed from their own crates, so training and scoring can never drift apart.
//! [`score_file`] streams CSV or Parquet input of any size through it in batches.
//!
//! Where it sits: after the train stage's crates and before evaluate, which scores a loss
//! book through it, and deploy, which writes the bundle; `riskpipe score` reads it.
#![warn(missing_docs)]

mod book;
mod bundle;
pub mod checks;
pub mod counterfactual;
pub mod drift;
mod event_order;
mod info;
pub mod monitor;
mod seal;
mod stream;

pub use book::{BOOK_FILE, BOOK_OUTPUTS, PD_PREFIX};
pub use bundle::{Book, Scorer};
pub use info::{BundleInfo, InputColumn};
pub use seal::{SEAL_FILE, Seal, SealedFile, check as check_seal, write as write_seal};
pub use stream::{batch_rows, score_file};
