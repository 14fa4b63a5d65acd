//! riskpipe-deploy: the deployment stage and the scorer.
//!
//! The stage writes a self-contained bundle folder (`bundle.json`, the masking `plan.json`,
//! the fitted `transform.json`, the selected `model.json`, and `scorecard.json`/`.csv` with
//! points per bin from base score, base odds and PDO), then scores the raw test rows through
//! the bundle and checks the result equals the evaluate stage's predictions.
//!
//! [`Scorer`] loads a bundle; [`score_file`] streams CSV or Parquet input of any size through
//! it in batches (bounded memory), writing id, probability of default, score and reason codes.
//! Both live in `riskpipe-scoring` (re-exported here), which the evaluate stage also uses to
//! score a loss book.
//!
//! Where it sits: evaluate -> **deploy**, and `riskpipe score` afterwards. The one design
//! decision: scoring replays the privacy plan and the features transform from their own crates
//! on raw input, so training and scoring can never drift apart.
//!
//! ```
//! use riskpipe_deploy::DeployConfig;
//! use riskpipe_features::ScorecardConfig;
//! let sc = ScorecardConfig::default().resolve("p.yaml").unwrap();
//! let p = DeployConfig::default().resolve("p.yaml", sc).unwrap();
//! assert_eq!((p.scorecard.base_score, p.scorecard.base_odds, p.scorecard.pdo), (600.0, 50.0, 20.0));
//! ```
#![warn(missing_docs)]

mod config;
mod run;

pub use config::{DeployConfig, DeployParams};
pub use riskpipe_scoring::{
    BOOK_FILE, BOOK_OUTPUTS, Book, BundleInfo, InputColumn, PD_PREFIX, SEAL_FILE, Scorer, Seal, SealedFile, batch_rows,
    score_file,
};
pub use riskpipe_scoring::{counterfactual, drift, monitor};
pub use run::{Check, inputs, run};
