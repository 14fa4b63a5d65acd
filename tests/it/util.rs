//! Test helpers: a fresh folder per test and the real `riskpipe` binary.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("repo root")
        .to_path_buf()
}

/// The `riskpipe` binary built by `make test` (`cargo build --workspace --bins`).
pub fn bin() -> PathBuf {
    let mut p = std::env::current_exe().expect("test exe");
    p.pop(); // it-xxxx
    if p.ends_with("deps") {
        p.pop();
    }
    let b = p.join(format!("riskpipe{}", std::env::consts::EXE_SUFFIX));
    assert!(
        b.exists(),
        "{} is missing: run `make test` (it builds the binary first)",
        b.display()
    );
    b
}

/// Whether this is a CI run: any `CI` value but empty, `false` or `0`.
pub fn under_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// Where the shared real data lives. Tests that need it are ignored (and counted so in the
/// runner's summary) when it is absent outside CI (`tests/build.rs`); reaching here without it
/// is a failure.
pub fn shared_data() -> PathBuf {
    let p = std::env::var_os("RISKPIPE_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("../shared/data"));
    assert!(
        p.is_dir(),
        "shared data folder {} is missing{}",
        p.display(),
        if under_ci() {
            " under CI"
        } else {
            "; rebuild the tests to have them ignored"
        }
    );
    p
}

/// A tool on `PATH`. Tests that need one are ignored when it is absent outside CI
/// (`tests/build.rs`); reaching here without it is a failure.
pub fn tool(name: &str) -> PathBuf {
    std::env::var_os("PATH")
        .and_then(|p| std::env::split_paths(&p).map(|d| d.join(name)).find(|p| p.is_file()))
        .unwrap_or_else(|| panic!("`{name}` is not on PATH (make test installs what the tests need)"))
}

/// A fresh temporary folder and commands run inside it.
pub struct TestDir {
    dir: tempfile::TempDir,
}

/// A finished command.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn from(o: Output) -> Run {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }

    /// Asserts success and returns self.
    #[track_caller]
    pub fn ok(self) -> Run {
        assert_eq!(
            self.code, 0,
            "command failed\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    /// Asserts exit code `code` and that stderr contains every needle.
    #[track_caller]
    pub fn fails(self, code: i32, needles: &[&str]) -> Run {
        assert_eq!(
            self.code, code,
            "unexpected exit code\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        for n in needles {
            assert!(self.stderr.contains(n), "stderr lacks `{n}`:\n{}", self.stderr);
        }
        self
    }
}

pub const KEY: &str = "test-masking-key";

impl TestDir {
    pub fn new() -> TestDir {
        TestDir {
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn join(&self, p: impl AsRef<Path>) -> PathBuf {
        self.dir.path().join(p)
    }

    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.join(name);
        if let Some(parent) = p.parent() {
            fs_err::create_dir_all(parent).expect("mkdir");
        }
        fs_err::write(&p, text).expect("write");
        p
    }

    /// `riskpipe ARGS` in this folder, with the masking key set.
    pub fn cmd(&self) -> Command {
        let mut c = Command::new(bin());
        c.current_dir(self.path())
            .env("RISKPIPE_MASK_KEY", KEY)
            .env_remove("RUST_LOG");
        c
    }

    pub fn run(&self, args: &[&str]) -> Run {
        Run::from(self.cmd().args(args).output().expect("spawn riskpipe"))
    }

    pub fn run_env(&self, args: &[&str], env: &[(&str, Option<&str>)]) -> Run {
        let mut c = self.cmd();
        for (k, v) in env {
            match v {
                Some(v) => c.env(k, v),
                None => c.env_remove(k),
            };
        }
        Run::from(c.args(args).output().expect("spawn riskpipe"))
    }
}

/// A small credit pipeline on generated data, with the demo masking plan.
pub fn small_pipeline(rows: u64, extra: &str) -> String {
    format!(
        r#"version: 1
name: small
task: credit_scoring
seed: 7
data:
  synth: loans
  rows: {rows}
  target: default_flag
  id: id
privacy:
  columns:
    name: {{ action: drop }}
    email: {{ action: drop }}
    phone: {{ action: hash }}
    national_id: {{ action: hash }}
    date_of_birth: {{ action: generalize, to: year }}
    postcode: {{ action: truncate, chars: 2 }}
features:
  exclude: [application_date]
train:
  cv_folds: 3
  models:
    logistic: {{ l2: [0.001] }}
    tree: {{ max_depth: [4], min_samples_leaf: [40] }}
{extra}"#
    )
}

/// Every file under `dir` (relative path, sha256), sorted, manifests and the run folder's lock
/// file excluded.
pub fn hashes(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs_err::read_dir(&d).expect("read_dir") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                stack.push(p);
            } else if p.file_name().is_some_and(|n| n != "manifest.json" && n != ".lock") {
                let rel = p.strip_prefix(dir).expect("prefix").display().to_string();
                out.push((rel, riskpipe_core::hash::artifact_sha256(&p).expect("hash")));
            }
        }
    }
    out.sort();
    out
}
