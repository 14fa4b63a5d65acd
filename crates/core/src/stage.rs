//! The stage contract shared by every stage crate.
//!
//! A stage is a library function `run(params, inputs, out_dir) -> StageReport`. It reads only
//! the files it declares (artifacts of earlier stages, relative to the run folder, or external
//! sources), writes only into `out_dir` (a temporary folder the runner renames into place), and
//! never sees the command line.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::{Error, Result};

/// The fixed order of the pipeline's stages.
pub const STAGES: [&str; 6] = ["ingest", "privacy", "features", "train", "evaluate", "deploy"];

/// A file a stage reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// An artifact of an earlier stage, relative to the run folder (`features/train.parquet`).
    Artifact(String),
    /// An artifact that is read when present (e.g. the generator's true PDs).
    OptionalArtifact(String),
    /// A file outside the run (a CSV source), as an absolute or working-directory path, with
    /// the pipeline key that names it (`data.path`).
    External(PathBuf, &'static str),
}

/// Where a stage finds its inputs.
#[derive(Debug, Clone)]
pub struct StageInputs {
    /// The run folder holding earlier stages' folders.
    pub run_dir: PathBuf,
    /// Artifacts read from elsewhere than the run folder, by their relative path: the raw table
    /// that left the run folder after the privacy stage, re-executed for this stage only.
    pub elsewhere: BTreeMap<String, PathBuf>,
}

impl StageInputs {
    /// Inputs found in `run_dir` only.
    pub fn at(run_dir: impl Into<PathBuf>) -> StageInputs {
        StageInputs {
            run_dir: run_dir.into(),
            elsewhere: BTreeMap::new(),
        }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.elsewhere
            .get(rel)
            .cloned()
            .unwrap_or_else(|| self.run_dir.join(rel))
    }

    /// The path of an artifact of an earlier stage; a clear error when it is missing.
    pub fn artifact(&self, rel: &str) -> Result<PathBuf> {
        let p = self.path(rel);
        if !p.exists() {
            let stage = rel.split('/').next().unwrap_or(rel);
            return Err(Error::MissingInput {
                path: p,
                hint: Some(format!(
                    "run the `{stage}` stage first (`riskpipe run PIPELINE --stage {stage}`)"
                )),
            });
        }
        Ok(p)
    }

    /// The path of an optional artifact, if it exists.
    pub fn optional(&self, rel: &str) -> Option<PathBuf> {
        let p = self.path(rel);
        p.exists().then_some(p)
    }
}

/// What a stage tells the runner when it is done.
#[derive(Debug, Clone, Default)]
pub struct StageReport {
    /// Rows read.
    pub rows_in: u64,
    /// Rows written (main table).
    pub rows_out: u64,
    /// A short human summary (`2 models, best logistic cv_auc=0.78`).
    pub summary: String,
    /// Wall-clock seconds of named steps (`logistic.fit_secs`), kept in the manifest. Volatile:
    /// never part of an artifact's hash.
    pub timings: std::collections::BTreeMap<String, f64>,
}
