//! riskpipe-ingest: the first stage. Reads a CSV or Parquet file, or generates a loan book or
//! an account table, types every column (declared in `data.schema` or inferred), checks the
//! target (or a task without a target's evaluation label) is 0/1, and writes `data.parquet`,
//! `schema.json` and `quality.json`.
//!
//! Where it sits: source -> **ingest** -> privacy. The one design decision: CSV is read in two
//! streaming passes (infer, then parse), so a bad value is reported with its row and column and
//! memory holds only typed columns, never the text of the whole file.
//!
//! ```
//! use riskpipe_ingest::IngestConfig;
//! let cfg = IngestConfig { synth: Some("loans".into()), rows: Some(500), ..Default::default() };
//! let params = cfg
//!     .resolve("p.yaml", std::path::Path::new("."), 7, riskpipe_core::Target::Binary, None)
//!     .unwrap();
//! let dir = tempfile::tempdir().unwrap();
//! let inputs = riskpipe_core::stage::StageInputs::at(dir.path());
//! let report = riskpipe_ingest::run(&params, &inputs, &dir.path().join("ingest")).unwrap();
//! assert_eq!(report.rows_out, 500);
//! assert!(dir.path().join("ingest/data.parquet").exists());
//! ```
#![warn(missing_docs)]

mod config;
mod loss;
mod run;

pub use config::{IngestConfig, IngestParams, Source};
pub use loss::{LgdSummary, LgdTarget, LossConfig, LossTarget, OutOfRange};
pub use run::{QualityReport, SOURCE_ROW, Schema, SchemaColumn, inputs, run};
