//! The audit log: one JSON line per decision, appended before the response leaves, each line
//! carrying the sha256 of the line before it (`prev`) and of itself without that field
//! (`sha256`), so that an edited, deleted, inserted or reordered line breaks the chain.
//!
//! A line: `{"time", "request_id", "model", "version", "bundle_sha256", "row", "input",
//! "output", "prev", "sha256"}`; `input` holds the row after the bundle's masking plan (never
//! raw personal data), `output` the scorer's outputs and reason codes.

use std::io::Write;
use std::path::Path;

use serde_json::{Map, Value};

use riskpipe_core::hash::sha256_bytes;
use riskpipe_core::{Error, Result};

/// `prev` of the first line.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// An open audit log, appending.
#[derive(Debug)]
pub struct AuditLog {
    file: std::io::BufWriter<fs_err::File>,
    last: String,
    lines: u64,
}

impl AuditLog {
    /// Opens `path` for appending; an existing log is verified first and continued from its last
    /// line, so the chain runs on across restarts.
    pub fn open(path: &Path) -> Result<AuditLog> {
        let (lines, last) = if path.exists() {
            let v = verify(path)?;
            (v.lines, v.last)
        } else {
            (0, GENESIS.to_string())
        };
        let file = fs_err::OpenOptions::new().create(true).append(true).open(path)?;
        Ok(AuditLog {
            file: std::io::BufWriter::new(file),
            last,
            lines,
        })
    }

    /// Appends one decision (`fields` without `prev` and `sha256`) and flushes it to the file.
    pub fn append(&mut self, mut fields: Map<String, Value>) -> Result<()> {
        fields.insert("prev".into(), Value::String(self.last.clone()));
        let body = Value::Object(fields.clone()).to_string();
        let own = sha256_bytes(body.as_bytes());
        fields.insert("sha256".into(), Value::String(own.clone()));
        let line = Value::Object(fields).to_string();
        self.file.write_all(line.as_bytes())?;
        self.file.write_all(b"\n")?;
        self.file.flush()?;
        self.last = own;
        self.lines += 1;
        Ok(())
    }

    /// Lines in the log.
    pub fn lines(&self) -> u64 {
        self.lines
    }

    /// Flushes and syncs the file to disk.
    pub fn sync(&mut self) -> Result<()> {
        self.file.flush()?;
        self.file.get_ref().sync_all()?;
        Ok(())
    }
}

/// What [`verify`] found in an intact log.
#[derive(Debug, Clone, PartialEq)]
pub struct Verified {
    /// Lines checked.
    pub lines: u64,
    /// `sha256` of the last line ([`GENESIS`] for an empty log).
    pub last: String,
}

/// Checks every line of the log at `path`: valid JSON, its own `sha256`, and `prev` equal to the
/// line before's. The first broken line is a user error naming it.
pub fn verify(path: &Path) -> Result<Verified> {
    let text = fs_err::read_to_string(path)?;
    let file = path.display().to_string();
    let mut last = GENESIS.to_string();
    let mut lines = 0u64;
    for (i, line) in text.lines().enumerate() {
        let at = |m: String| Error::data(&file, Some(i as u64 + 1), None, m);
        let Ok(Value::Object(mut fields)) = serde_json::from_str::<Value>(line) else {
            return Err(at("is not a JSON object: the log was edited or truncated".into()));
        };
        let Some(Value::String(own)) = fields.remove("sha256") else {
            return Err(at("has no `sha256`".into()));
        };
        let prev = fields
            .get("prev")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        if sha256_bytes(Value::Object(fields).to_string().as_bytes()) != own {
            return Err(at(
                "was changed after it was written (its sha256 does not match its content)".into(),
            ));
        }
        if prev != last {
            return Err(at(format!(
                "does not follow the line before it: its `prev` is {}, the line before hashes to {}; a line was deleted, inserted or moved here",
                short(&prev),
                short(&last)
            )));
        }
        last = own;
        lines += 1;
    }
    if !text.is_empty() && !text.ends_with('\n') {
        return Err(Error::data(
            &file,
            Some(lines),
            None,
            "is not terminated by a newline: the log was truncated",
        ));
    }
    Ok(Verified { lines, last })
}

/// The first 12 characters of `h` (a tampered `prev` need not be hex, nor ASCII).
fn short(h: &str) -> String {
    h.chars().take(12).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(i: u64) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("request_id".into(), Value::from(format!("r{i}")));
        m.insert("output".into(), serde_json::json!({ "pd": 0.01 * i as f64 }));
        m
    }

    fn log_of(n: u64) -> (tempfile::TempDir, std::path::PathBuf, Vec<String>) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        let mut log = AuditLog::open(&path).unwrap();
        for i in 0..n {
            log.append(line(i)).unwrap();
        }
        log.sync().unwrap();
        let lines = fs_err::read_to_string(&path)
            .unwrap()
            .lines()
            .map(String::from)
            .collect();
        (dir, path, lines)
    }

    fn broken_at(path: &Path, lines: &[String]) -> Option<u64> {
        fs_err::write(path, lines.join("\n") + "\n").unwrap();
        match verify(path) {
            Ok(_) => None,
            Err(Error::Data { row, .. }) => row,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn the_chain_catches_edits_deletions_insertions_and_reordering() {
        let (_d, path, lines) = log_of(6);
        assert_eq!(verify(&path).unwrap().lines, 6);
        let mut edited = lines.clone();
        edited[2] = edited[2].replace("0.02", "0.9");
        assert_eq!(broken_at(&path, &edited), Some(3));
        let mut last = lines.clone();
        last[5] = last[5].replace("r5", "r9");
        assert_eq!(broken_at(&path, &last), Some(6), "the last line too");
        let mut deleted = lines.clone();
        deleted.remove(3);
        assert_eq!(broken_at(&path, &deleted), Some(4));
        let mut inserted = lines.clone();
        inserted.insert(2, lines[4].clone());
        assert_eq!(broken_at(&path, &inserted), Some(3));
        let mut swapped = lines.clone();
        swapped.swap(1, 2);
        assert_eq!(broken_at(&path, &swapped), Some(2));
        assert_eq!(broken_at(&path, &lines), None);
        // A forged line (its own hash recomputed) with a multibyte `prev` is named, not a panic.
        let mut odd = lines.clone();
        let Ok(Value::Object(mut m)) = serde_json::from_str::<Value>(&odd[1]) else {
            panic!()
        };
        m.remove("sha256");
        m.insert("prev".into(), Value::from("aééééééééééé"));
        let own = sha256_bytes(Value::Object(m.clone()).to_string().as_bytes());
        m.insert("sha256".into(), Value::from(own));
        odd[1] = Value::Object(m).to_string();
        assert_eq!(broken_at(&path, &odd), Some(2));
    }

    #[test]
    fn a_reopened_log_continues_its_chain() {
        let (_d, path, _) = log_of(3);
        let mut log = AuditLog::open(&path).unwrap();
        assert_eq!(log.lines(), 3);
        log.append(line(9)).unwrap();
        assert_eq!(verify(&path).unwrap().lines, 4);
    }
}
