//! The bundle's seal: `bundle_manifest.json` lists every file of the bundle folder with its
//! sha256. The deploy stage writes it last; the scorer refuses a folder that does not match it.

use std::collections::BTreeSet;
use std::path::Path;

use serde::{Deserialize, Serialize};

use riskpipe_core::hash::sha256_file;
use riskpipe_core::io::{read_json, write_json};
use riskpipe_core::{Error, Result};

/// The seal's file name inside the bundle folder.
pub const SEAL_FILE: &str = "bundle_manifest.json";

/// One sealed file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SealedFile {
    /// Name inside the bundle folder.
    pub path: String,
    /// sha256 of its bytes.
    pub sha256: String,
}

/// `bundle_manifest.json`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Seal {
    /// Every other file of the folder, sorted by name.
    pub files: Vec<SealedFile>,
}

impl Seal {
    /// Whether the seal lists `name`.
    pub fn contains(&self, name: &str) -> bool {
        self.files.iter().any(|f| f.path == name)
    }
}

/// Names of the entries of `dir` other than the seal, sorted; a sub-folder is an error.
fn entries(dir: &Path) -> Result<BTreeSet<String>> {
    let mut names = BTreeSet::new();
    for e in fs_err::read_dir(dir)? {
        let e = e?;
        let name = e.file_name().to_string_lossy().into_owned();
        if name == SEAL_FILE {
            continue;
        }
        if e.path().is_dir() {
            return Err(Error::data(
                e.path().display().to_string(),
                None,
                None,
                "is a folder inside the bundle, which holds files only; remove it",
            ));
        }
        names.insert(name);
    }
    Ok(names)
}

/// Seals the bundle folder: hashes every file in it into `bundle_manifest.json`.
pub fn write(dir: &Path) -> Result<Seal> {
    let mut files = Vec::new();
    for name in entries(dir)? {
        files.push(SealedFile {
            sha256: sha256_file(&dir.join(&name))?,
            path: name,
        });
    }
    let seal = Seal { files };
    write_json(&dir.join(SEAL_FILE), &seal)?;
    Ok(seal)
}

/// Checks the bundle folder against its seal: every listed file present with its hash, no
/// other file. Returns the seal.
pub fn check(dir: &Path) -> Result<Seal> {
    let path = dir.join(SEAL_FILE);
    let err = |file: &Path, m: &str| Error::data(file.display().to_string(), None, None, m);
    if !path.is_file() {
        return Err(err(
            &path,
            "is missing, so the bundle cannot be checked; deploy again to write a sealed bundle",
        ));
    }
    let seal: Seal = read_json(&path)?;
    let present = entries(dir)?;
    for f in &seal.files {
        let p = dir.join(&f.path);
        if f.path.contains(['/', '\\']) || !present.contains(&f.path) {
            return Err(err(&p, "is listed in bundle_manifest.json but missing from the bundle"));
        }
        if sha256_file(&p)? != f.sha256 {
            return Err(err(
                &p,
                "has changed since the bundle was sealed (its sha256 differs from bundle_manifest.json); restore it or deploy again",
            ));
        }
    }
    if let Some(extra) = present.iter().find(|n| !seal.contains(n)) {
        return Err(err(
            &dir.join(extra),
            "is in the bundle folder but not in its bundle_manifest.json; remove it (a bundle is sealed when deployed)",
        ));
    }
    Ok(seal)
}
