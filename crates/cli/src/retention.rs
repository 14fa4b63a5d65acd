//! The raw table leaves the run folder once the privacy stage has masked it.
//!
//! `ingest/data.parquet` holds every raw value, personal ones included. Once a privacy stage
//! folder records that it masked exactly that file, the runner replaces it by a marker
//! (`data.parquet.removed.json`, [`Removed`]) that keeps its sha256, unless
//! `privacy.keep_raw: true`. Fingerprints, skipping and `verify` read the hash from the marker;
//! a stage that reads the raw table (privacy, deploy's check, the loss book) gets it re-executed
//! from ingest's recorded source into a scratch folder that lives for that stage only, and
//! checked against the recorded hash.

use std::path::{Path, PathBuf};

use riskpipe_core::hash::artifact_sha256;
use riskpipe_core::manifest::{Manifest, Removed};
use riskpipe_core::{Error, Result};

/// The raw table.
pub const RAW: &str = "ingest/data.parquet";

/// The scratch folder a stage's re-executed raw table lives in: `.raw.tmp-<pid>`.
pub fn scratch_dir(run_dir: &Path) -> PathBuf {
    run_dir.join(format!(".raw.tmp-{}", std::process::id()))
}

/// Replaces the raw table by its marker when the privacy stage folder says it masked this very
/// file and `keep_raw` is off. Returns whether it removed the table.
pub fn retire_raw(run_dir: &Path, keep_raw: bool) -> Result<bool> {
    let raw = run_dir.join(RAW);
    if keep_raw || !raw.is_file() {
        return Ok(false);
    }
    let Some(privacy) = Manifest::load(&run_dir.join("privacy"))? else {
        return Ok(false);
    };
    let sha = artifact_sha256(&raw)?;
    if !privacy.inputs.iter().any(|i| i.path == RAW && i.sha256 == sha) {
        return Ok(false); // masked another version of the table: the stages will rerun
    }
    let marker = Removed {
        path: RAW.into(),
        sha256: sha,
        why: "removed after the privacy stage masked it (privacy.keep_raw: false); a stage that reads it re-executes ingest from the recorded source".into(),
    };
    riskpipe_core::io::write_json(&Removed::marker(&raw), &marker)?;
    fs_err::remove_file(&raw)?;
    tracing::info!(
        file = RAW,
        "Raw table removed from the run folder after the privacy stage."
    );
    Ok(true)
}

/// The sha256 a removed artifact had, when `rel` is absent and its marker present.
pub fn recorded_sha(run_dir: &Path, rel: &str) -> Result<Option<String>> {
    Ok(Removed::load(&run_dir.join(rel))?.map(|r| r.sha256))
}

/// The marker of the removed artifact `rel`, when it is absent and marked.
pub fn removed(run_dir: &Path, rel: &str) -> Result<Option<Removed>> {
    Removed::load(&run_dir.join(rel))
}

/// Checks that `regenerated`, re-executed by `stage` for the removed artifact `rel`, is the
/// file the run recorded.
pub fn check_regenerated(run_dir: &Path, rel: &str, stage: &str, regenerated: &Path, removed: &Removed) -> Result<()> {
    let sha = artifact_sha256(regenerated)?;
    if sha != removed.sha256 {
        return Err(Error::MissingInput {
            path: run_dir.join(rel),
            hint: Some(format!(
                "it left the run folder after the privacy stage; re-executing `{stage}` from its recorded source gives sha256 {} where the run recorded {}: the source changed since the run. Rerun the pipeline from `{stage}` (`riskpipe run PIPELINE --force`), or keep the raw table with `privacy.keep_raw: true`",
                &sha[..12],
                &removed.sha256[..12.min(removed.sha256.len())]
            )),
        });
    }
    Ok(())
}
