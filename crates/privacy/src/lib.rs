//! riskpipe-privacy: the masking stage. No raw personal data passes it.
//!
//! Each column named under `privacy.columns` gets one action: `drop`, `hash` (HMAC-SHA256
//! keyed pseudonym, key read from the environment variable named by `privacy.key_env`; unset
//! is an error, never a default), `generalize` (date to year or age band, number to bucket),
//! `truncate` (first N characters) or `keep`. Every column is checked for personal data by
//! its values ([`pii`]: e-mail addresses, phone, card and national id numbers, IBANs, dates of
//! birth, postcodes, names, and these inside free text): one that would pass unmasked with
//! findings stops the stage unless `privacy.allow_pii` lists it. An unlisted column whose name
//! only looks personal is a warning.
//!
//! Where it sits: ingest -> **privacy** -> features; `deploy` replays the same plan on new
//! applications. The one design decision: the plan (`plan.json`) holds a key *id*, never the
//! key, so a run can be audited and replayed without the key ever reaching an artifact.
//!
//! ```
//! use riskpipe_core::{Column, Frame};
//! use riskpipe_privacy::{Action, PrivacyParams, apply};
//! let mut f = Frame::new();
//! f.push("name", Column::Text(vec![Some("Ann Lee".into())]));
//! f.push("income", Column::Number(vec![41_250.0]));
//! let plan = PrivacyParams {
//!     key_env: "RISKPIPE_MASK_KEY".into(),
//!     key_id: None,
//!     quasi_identifiers: vec![],
//!     allow_pii: vec![],
//!     national_id_formats: vec![],
//!     keep_raw: false,
//!     k_anonymity: None,
//!     columns: [("name".to_string(), Action::Drop), ("income".to_string(), Action::Bucket { width: 5000.0 })].into(),
//! };
//! let masked = apply(&plan, &f, None, "example").unwrap();
//! assert!(masked.get("name").is_none());
//! assert_eq!(masked.number("income").unwrap(), &[40_000.0]);
//! ```
#![warn(missing_docs)]

pub mod anonymity;
mod classes;
mod config;
pub mod ff1;
mod key;
mod mask;
pub mod pii;
mod run;

pub use config::{Action, ActionKind, ColumnConfig, PrivacyConfig, PrivacyParams, read_key};
pub use key::{domain_key, key_id, pseudonym};
pub use mask::{KAnonymity, apply, apply_owned, k_anonymity, looks_like_pii};
pub use run::{PrivacyReport, SUPPRESSED, Suppressed, inputs, load_key, run};
