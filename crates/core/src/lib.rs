//! riskpipe-core: what every stage shares.
//!
//! Errors classed as user or internal ([`Error`], [`ErrorClass`]), the columnar [`Frame`], artifact
//! I/O with fixed Parquet settings and atomic writes ([`io`]), sha256 ([`hash`]), run manifests and
//! fingerprints ([`manifest`]), a portable seeded RNG ([`Rng`]), the stage contract ([`stage`])
//! and pipeline-file parsing helpers ([`yaml`]).
//!
//! The one design decision: `core` depends on no other riskpipe crate, and only `core` writes
//! Parquet, so every table of a run is written with the same settings and hashes the same on
//! every rerun.
//!
//! ```
//! use riskpipe_core::{Column, Frame, Rng};
//! let mut rng = Rng::new(42);
//! let mut f = Frame::new();
//! f.push("x", Column::Number((0..5).map(|_| rng.uniform()).collect()));
//! let dir = tempfile::tempdir().unwrap();
//! let path = dir.path().join("x.parquet");
//! riskpipe_core::io::write_parquet(&path, &f).unwrap();
//! assert_eq!(riskpipe_core::io::read_parquet(&path).unwrap(), f);
//! ```
#![warn(missing_docs)]

pub mod env;
mod error;
pub mod frame;
pub mod hash;
pub mod io;
pub mod manifest;
pub mod names;
mod rng;
pub mod split;
pub mod stage;
pub mod stats;
mod task;
pub mod views;
pub mod yaml;

pub use error::{Error, ErrorClass, PIPELINE_FILE, Result};
pub use frame::{Column, ColumnKind, Frame};
pub use rng::Rng;
pub use task::{Target, Task};
