//! The run manifest: what a stage read, with which parameters, and what it wrote.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::hash::sha256_bytes;
use crate::{Error, Result};

/// One file a stage read or wrote. Paths are relative to the run folder for artifacts of the
/// run, and absolute (or as written in the pipeline file) for external sources.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct FileRecord {
    /// The path.
    pub path: String,
    /// sha256 of the file's bytes.
    pub sha256: String,
    /// Rows, for tables.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub rows: Option<u64>,
}

/// `manifest.json` of one stage folder.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    /// Stage name.
    pub stage: String,
    /// Pipeline name.
    pub pipeline: String,
    /// Run id.
    pub run_id: String,
    /// riskpipe version.
    pub version: String,
    /// Git commit riskpipe was built from, when known.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub git_commit: Option<String>,
    /// The pipeline seed.
    pub seed: u64,
    /// Canonical parameters of the stage, as resolved from the pipeline file.
    pub params: serde_json::Value,
    /// Inputs, sorted by path.
    pub inputs: Vec<FileRecord>,
    /// Outputs, sorted by path.
    pub outputs: Vec<FileRecord>,
    /// sha256 of (stage, params, input hashes, code version).
    pub fingerprint: String,
    /// Start time, RFC 3339 (volatile).
    pub started_at: String,
    /// Duration in seconds (volatile).
    pub duration_secs: f64,
    /// Seconds of named steps inside the stage, e.g. each model's fit (volatile).
    #[serde(skip_serializing_if = "BTreeMap::is_empty", default)]
    pub timings: BTreeMap<String, f64>,
}

/// What stands in a stage folder for an output that left the run folder after its stage ran
/// (the raw table, once the privacy stage has masked it): `<file>.removed.json` beside where the
/// file was, holding the sha256 the manifest recorded, so that fingerprints, skipping and
/// `verify` still see the file the run used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Removed {
    /// The removed file, relative to the run folder.
    pub path: String,
    /// Its sha256, as recorded in its stage's manifest.
    pub sha256: String,
    /// Why it left, and how it comes back.
    pub why: String,
}

impl Removed {
    /// The marker's name suffix.
    pub const SUFFIX: &'static str = ".removed.json";

    /// The marker of `file`.
    pub fn marker(file: &Path) -> std::path::PathBuf {
        let mut name = file.file_name().unwrap_or_default().to_os_string();
        name.push(Self::SUFFIX);
        file.with_file_name(name)
    }

    /// The marker standing for `file`, when `file` is absent and a marker is present.
    pub fn load(file: &Path) -> Result<Option<Removed>> {
        let m = Self::marker(file);
        if file.exists() || !m.is_file() {
            return Ok(None);
        }
        crate::io::read_json(&m).map(Some)
    }
}

/// The fingerprint of a stage execution: it changes when the stage, its parameters, any input's
/// bytes or the code version change, and only then.
pub fn fingerprint(stage: &str, params: &serde_json::Value, inputs: &[FileRecord], code_version: &str) -> String {
    let mut sorted: BTreeMap<&str, &str> = BTreeMap::new();
    for i in inputs {
        sorted.insert(&i.path, &i.sha256);
    }
    let doc = serde_json::json!({
        "stage": stage,
        "params": params,
        "inputs": sorted,
        "code_version": code_version,
    });
    sha256_bytes(serde_json::to_string(&doc).expect("json").as_bytes())
}

impl Manifest {
    /// Reads `manifest.json` from a stage folder, if present.
    pub fn load(stage_dir: &Path) -> Result<Option<Manifest>> {
        let p = stage_dir.join("manifest.json");
        if !p.exists() {
            return Ok(None);
        }
        let bytes = fs_err::read(&p)?;
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|source| Error::Json { path: p, source })
    }
}

/// The code version recorded in manifests: the crate version, or `RISKPIPE_CODE_VERSION`.
pub fn code_version() -> String {
    std::env::var(crate::env::RISKPIPE_CODE_VERSION).unwrap_or_else(|_| env!("CARGO_PKG_VERSION").to_string())
}

/// Current UTC time as RFC 3339 (seconds), without a date library.
pub fn now_rfc3339() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0) as i64;
    let days = secs.div_euclid(86_400) as i32;
    let rem = secs.rem_euclid(86_400);
    format!(
        "{}T{:02}:{:02}:{:02}Z",
        crate::frame::format_date(days),
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_depends_on_what_matters() {
        let p = serde_json::json!({"a": 1});
        let i = vec![FileRecord {
            path: "x".into(),
            sha256: "00".into(),
            rows: None,
        }];
        let f = fingerprint("s", &p, &i, "1");
        assert_eq!(f, fingerprint("s", &p, &i, "1"));
        assert_ne!(f, fingerprint("s", &serde_json::json!({"a": 2}), &i, "1"));
        assert_ne!(f, fingerprint("s", &p, &i, "2"));
        let j = vec![FileRecord {
            path: "x".into(),
            sha256: "01".into(),
            rows: None,
        }];
        assert_ne!(f, fingerprint("s", &p, &j, "1"));
    }
}
