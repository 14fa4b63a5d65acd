//! The audit log: one JSON line per decision, appended before the response leaves, each line
//! carrying the sha256 of the line before it (`prev`) and of itself without that field
//! (`sha256`), so that an edited, deleted, inserted or reordered line breaks the chain.
//!
//! A line: `{"time", "request_id", "model", "version", "bundle_sha256", "row", "input",
//! "output", "prev", "sha256"}`; `input` holds the row after the bundle's masking plan (never
//! raw personal data), `output` the scorer's outputs and reason codes.
//!
//! Appending is a group commit. A decision's fields are serialized by the request that made it,
//! outside any lock; under the chain's lock a line only gains its `prev` and `sha256` and joins
//! the lines waiting to be written. One request at a time writes everything waiting in one
//! `write`, outside the chain's lock, while the next lines are chained; every request returns only
//! once its own lines are in the file. A failed write closes the log: that decision and every
//! later one are withheld, since their lines could no longer join an unbroken chain. A thread of
//! the log's own syncs the file to disk every second; a failed sync closes the log too.

use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

use serde_json::{Map, Value};

use riskpipe_core::hash::sha256_bytes;
use riskpipe_core::{Error, Result};

/// `prev` of the first line.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// How often the syncer thread asks the disk to keep what was written (`fdatasync`).
pub const SYNC_EVERY: Duration = Duration::from_secs(1);

/// An open audit log, appending; shared by the requests that append to it. A thread of its own
/// syncs what was written to disk every [`SYNC_EVERY`], so lines reach the disk within about a
/// second and the file never holds much unsynced data (a burst of it made the kernel stall
/// small appends for milliseconds).
#[derive(Debug)]
pub struct AuditLog {
    shared: Arc<Shared>,
    syncer: Option<std::thread::JoinHandle<()>>,
}

#[derive(Debug)]
struct Shared {
    chain: Mutex<Chain>,
    /// Signalled whenever a write ends.
    written: Condvar,
    /// Only the one writer of the moment (see [`Chain::writing`]) takes it.
    file: Mutex<fs_err::File>,
    /// Lines known to be on disk.
    synced: AtomicU64,
    /// Set when the log is dropped: the syncer thread ends.
    stop: Mutex<bool>,
    stopped: Condvar,
}

/// What [`AuditLog::counts`] reads.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Lines in the file.
    pub lines: u64,
    /// Lines chained whose requests still wait for them to be written (the log's lag).
    pub waiting: u64,
    /// Lines known to be on disk.
    pub synced: u64,
}

/// The chain's end and the lines not yet in the file.
#[derive(Debug)]
struct Chain {
    /// `sha256` of the last line chained.
    last: String,
    /// Lines chained, counted from the file's first line.
    chained: u64,
    /// Lines in the file.
    written: u64,
    /// Chained lines waiting for the next write.
    waiting: Vec<u8>,
    /// A request is writing; the others wait for it or for their turn.
    writing: bool,
    /// Why the log is closed, after a failed write or sync.
    failed: Option<String>,
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
        AuditLog::continuing(file, lines, last)
    }

    /// A log appending to `file`, which holds `lines` lines, the last hashing to `last`.
    fn continuing(file: fs_err::File, lines: u64, last: String) -> Result<AuditLog> {
        let syncing = file.file().try_clone()?;
        let shared = Arc::new(Shared {
            chain: Mutex::new(Chain {
                last,
                chained: lines,
                written: lines,
                waiting: Vec::new(),
                writing: false,
                failed: None,
            }),
            written: Condvar::new(),
            file: Mutex::new(file),
            synced: AtomicU64::new(lines),
            stop: Mutex::new(false),
            stopped: Condvar::new(),
        });
        let for_thread = shared.clone();
        let syncer = std::thread::Builder::new()
            .name("audit-sync".into())
            .spawn(move || for_thread.sync_until_stopped(&syncing))?;
        Ok(AuditLog {
            shared,
            syncer: Some(syncer),
        })
    }

    /// Appends one decision (`fields` without `prev` and `sha256`); returns once it is written.
    pub fn append(&self, fields: Map<String, Value>) -> Result<()> {
        self.append_all(&[Entry::new(fields)])
    }

    /// Appends decisions, each an [`Entry`], as consecutive lines; returns once they are written
    /// to the file (handed to the operating system; the syncer thread syncs them).
    pub fn append_all(&self, entries: &[Entry]) -> Result<()> {
        let s = &self.shared;
        let mut chain = s.lock()?;
        if let Some(why) = &chain.failed {
            return Err(closed(why));
        }
        for e in entries {
            let (line, own) = link(e, &chain.last);
            chain.waiting.extend_from_slice(line.as_bytes());
            chain.waiting.push(b'\n');
            chain.last = own;
            chain.chained += 1;
        }
        let mine = chain.chained;
        loop {
            if chain.written >= mine {
                return Ok(());
            }
            if let Some(why) = &chain.failed {
                return Err(closed(why));
            }
            if chain.writing {
                chain = s.written.wait(chain).map_err(|_| poisoned())?;
                continue;
            }
            // This request writes every line waiting, its own among them.
            chain.writing = true;
            let batch = std::mem::take(&mut chain.waiting);
            let upto = chain.chained;
            drop(chain);
            let result = s.write(&batch);
            chain = s.lock()?;
            chain.writing = false;
            match result {
                Ok(()) => chain.written = upto,
                Err(e) => chain.failed = Some(e.to_string()),
            }
            s.written.notify_all();
        }
    }

    /// The log's line counts, read together.
    pub fn counts(&self) -> Counts {
        let (written, chained) = self.shared.lock().map(|c| (c.written, c.chained)).unwrap_or_default();
        Counts {
            lines: written,
            waiting: chained - written,
            synced: self.shared.synced.load(Ordering::Acquire),
        }
    }

    /// Waits for a write in progress, then syncs the file to disk.
    pub fn sync(&self) -> Result<()> {
        let s = &self.shared;
        let mut chain = s.lock()?;
        while chain.writing {
            chain = s.written.wait(chain).map_err(|_| poisoned())?;
        }
        let file = s.file.lock().map_err(|_| poisoned())?;
        file.sync_all()?;
        s.synced.fetch_max(chain.written, Ordering::AcqRel);
        Ok(())
    }
}

impl Drop for AuditLog {
    fn drop(&mut self) {
        if let Ok(mut stop) = self.shared.stop.lock() {
            *stop = true;
        }
        self.shared.stopped.notify_all();
        if let Some(t) = self.syncer.take() {
            let _ = t.join();
        }
    }
}

impl Shared {
    fn write(&self, bytes: &[u8]) -> Result<()> {
        let mut file = self.file.lock().map_err(|_| poisoned())?;
        file.write_all(bytes)?;
        Ok(())
    }

    fn lock(&self) -> Result<MutexGuard<'_, Chain>> {
        self.chain.lock().map_err(|_| poisoned())
    }

    /// The syncer thread: every [`SYNC_EVERY`], `fdatasync` when lines were written since the
    /// last. A failed sync closes the log like a failed write: the kernel may have dropped the
    /// lines it could not store, so the chain on disk can no longer be vouched for.
    fn sync_until_stopped(&self, file: &std::fs::File) {
        let Ok(mut stop) = self.stop.lock() else { return };
        loop {
            match self.stopped.wait_timeout(stop, SYNC_EVERY) {
                Ok((s, _)) => stop = s,
                Err(_) => return,
            }
            if *stop {
                return;
            }
            let Ok(written) = self.lock().map(|c| c.written) else {
                return;
            };
            if written <= self.synced.load(Ordering::Acquire) {
                continue;
            }
            match file.sync_data() {
                Ok(()) => {
                    self.synced.fetch_max(written, Ordering::AcqRel);
                }
                Err(e) => {
                    tracing::error!(error = %e, "The audit log could not be synced to disk; it is closed and decisions are withheld.");
                    if let Ok(mut c) = self.lock() {
                        c.failed = Some(format!("sync: {e}"));
                    }
                    return;
                }
            }
        }
    }
}

fn poisoned() -> Error {
    Error::Internal("audit log lock".into())
}

fn closed(why: &str) -> Error {
    Error::Internal(format!("the audit log is closed after a failed write ({why})"))
}

/// A decision's fields (without `prev` and `sha256`) serialized as the JSON object its line
/// starts from, by the request that made it.
#[derive(Debug, Clone)]
pub struct Entry(String);

impl Entry {
    /// The entry of `fields`.
    pub fn new(fields: Map<String, Value>) -> Entry {
        Entry(Value::Object(fields).to_string())
    }
}

/// The line of `entry` after `prev`, and its own `sha256`: `prev` joins the object as its last
/// field, the hash of that text is its `sha256`, which joins after it. The text is exactly what
/// serializing the object with those fields gives (keys keep their order), which [`verify`]
/// recomputes.
fn link(entry: &Entry, prev: &str) -> (String, String) {
    let open = entry.0.strip_suffix('}').unwrap_or(&entry.0);
    let comma = if open == "{" { "" } else { "," };
    let mut line = format!("{open}{comma}\"prev\":\"{prev}\"}}");
    let own = sha256_bytes(line.as_bytes());
    line.pop();
    line.push_str(",\"sha256\":\"");
    line.push_str(&own);
    line.push_str("\"}");
    (line, own)
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
        let log = AuditLog::open(&path).unwrap();
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
    fn a_linked_line_is_the_object_serialized_with_prev_and_sha256() {
        let mut nested = line(3);
        nested.insert(
            "input".into(),
            serde_json::json!({"name": "Zoë \"q\"\\n", "x": [1.5e300, -0.0, null]}),
        );
        for fields in [Map::new(), line(1), nested] {
            let (text, own) = link(&Entry::new(fields.clone()), GENESIS);
            let mut full = fields;
            full.insert("prev".into(), Value::from(GENESIS));
            assert_eq!(own, sha256_bytes(Value::Object(full.clone()).to_string().as_bytes()));
            full.insert("sha256".into(), Value::from(own));
            assert_eq!(text, Value::Object(full).to_string());
        }
    }

    #[test]
    fn requests_appending_at_once_leave_one_unbroken_chain_with_each_requests_lines_together() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        let log = AuditLog::open(&path).unwrap();
        std::thread::scope(|s| {
            for t in 0..6u64 {
                let log = &log;
                s.spawn(move || {
                    for i in 0..150u64 {
                        let rows = (i % 3 + 1) as usize;
                        let entries: Vec<Entry> = (0..rows).map(|_| Entry::new(line(t * 1000 + i))).collect();
                        log.append_all(&entries).unwrap();
                    }
                });
            }
        });
        let c = log.counts();
        assert_eq!((c.lines, c.waiting), (1800, 0));
        log.sync().unwrap();
        assert_eq!(verify(&path).unwrap().lines, 1800);
        // A request's rows are consecutive lines: each id appears in one run.
        let text = fs_err::read_to_string(&path).unwrap();
        let ids: Vec<String> = text
            .lines()
            .map(|l| {
                serde_json::from_str::<Value>(l).unwrap()["request_id"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect();
        let runs = ids.windows(2).filter(|w| w[0] != w[1]).count() + 1;
        assert_eq!(runs, 900);
    }

    #[test]
    fn the_syncer_thread_brings_written_lines_to_disk_within_seconds() {
        let (_d, path, _) = log_of(0);
        let log = AuditLog::open(&path).unwrap();
        for i in 0..5 {
            log.append(line(i)).unwrap();
        }
        let t0 = std::time::Instant::now();
        while log.counts().synced < 5 && t0.elapsed() < SYNC_EVERY * 10 {
            std::thread::sleep(Duration::from_millis(20));
        }
        let c = log.counts();
        assert_eq!((c.lines, c.synced), (5, 5));
        // Dropping the log stops its thread promptly, mid-wait.
        let t1 = std::time::Instant::now();
        drop(log);
        assert!(t1.elapsed() < SYNC_EVERY / 2, "{:?}", t1.elapsed());
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_failed_write_withholds_that_decision_and_every_later_one() {
        let full = fs_err::OpenOptions::new().append(true).open("/dev/full").unwrap();
        let log = AuditLog::continuing(full, 0, GENESIS.to_string()).unwrap();
        let first = log.append(line(1)).unwrap_err().to_string();
        let later = log.append(line(2)).unwrap_err().to_string();
        assert!(later.contains("closed after a failed write"), "{first} / {later}");
        assert_eq!(log.counts().lines, 0);
    }

    #[test]
    fn a_reopened_log_continues_its_chain() {
        let (_d, path, _) = log_of(3);
        let log = AuditLog::open(&path).unwrap();
        assert_eq!(log.counts().lines, 3);
        log.append(line(9)).unwrap();
        assert_eq!(verify(&path).unwrap().lines, 4);
    }
}
