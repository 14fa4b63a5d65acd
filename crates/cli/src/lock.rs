//! One process at a time in a run folder: an advisory lock on `<run folder>/.lock`, which the
//! operating system releases when the holder exits or dies.

use std::fs::{File, TryLockError};
use std::io::{Seek, Write};
use std::path::{Path, PathBuf};

use riskpipe_core::{Error, Result};

/// The lock file's name inside a run folder.
pub const LOCK_FILE: &str = ".lock";

/// A held run-folder lock; released when dropped.
#[derive(Debug)]
pub struct RunLock {
    _file: Option<File>,
}

/// Whether to wait for a held lock or fail at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    /// Fail at once, naming the holder.
    No,
    /// Block until the holder is done.
    Yes,
}

fn open(dir: &Path) -> Result<(File, PathBuf)> {
    let path = dir.join(LOCK_FILE);
    let file = fs_err::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)?
        .into_parts()
        .0;
    Ok((file, path))
}

fn busy(dir: &Path, path: &Path, what: &str) -> Error {
    let holder = fs_err::read_to_string(path).unwrap_or_default();
    let holder = holder.trim();
    let who = if holder.is_empty() {
        "another riskpipe process".to_string()
    } else {
        format!("riskpipe process {holder}")
    };
    Error::Busy {
        message: format!(
            "run folder `{}` is in use by {who} ({}); wait for it to finish, or pass `--wait` to {what} after it",
            dir.display(),
            path.display()
        ),
    }
}

/// Takes the exclusive lock of a run folder (a run, or one stage of it) and records our pid.
pub fn exclusive(dir: &Path, wait: Wait) -> Result<RunLock> {
    let (mut file, path) = open(dir)?;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) if wait == Wait::Yes => {
            tracing::warn!("Waiting for the run folder lock {}.", path.display());
            file.lock()?;
        }
        Err(TryLockError::WouldBlock) => return Err(busy(dir, &path, "run")),
        Err(TryLockError::Error(e)) => return Err(Error::Io(e)),
    }
    file.set_len(0)?;
    file.rewind()?;
    write!(file, "{}", std::process::id())?;
    file.flush()?;
    Ok(RunLock { _file: Some(file) })
}

/// Takes a shared lock (readers such as `verify`): no run may write meanwhile. A run folder
/// nobody may write to (an archived run kept read-only for audits) needs no lock.
pub fn shared(dir: &Path, wait: Wait) -> Result<RunLock> {
    let (file, path) = match open(dir) {
        Ok(f) => f,
        Err(Error::Io(e))
            if matches!(
                e.kind(),
                std::io::ErrorKind::PermissionDenied | std::io::ErrorKind::ReadOnlyFilesystem
            ) =>
        {
            return Ok(RunLock { _file: None });
        }
        Err(e) => return Err(e),
    };
    match file.try_lock_shared() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) if wait == Wait::Yes => file.lock_shared()?,
        Err(TryLockError::WouldBlock) => return Err(busy(dir, &path, "verify")),
        Err(TryLockError::Error(e)) => return Err(Error::Io(e)),
    }
    Ok(RunLock { _file: Some(file) })
}
