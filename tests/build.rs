//! Decides, when the tests are built, which tests cannot run here, so that the test runner's
//! summary counts them as ignored with the reason (`cargo test` prints `ignored, <reason>`)
//! instead of letting them pass without checking anything. Under CI (any `CI` value but
//! `false` or `0`) nothing is ignored: a missing data set or tool then fails its test.

use std::path::{Path, PathBuf};

/// Whether `tool` is on `PATH`. Cargo re-runs this script when a watched path changes, so each
/// place the tool could appear is watched: installing it later un-ignores its tests.
fn on_path(tool: &str) -> bool {
    let dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    for d in &dirs {
        println!("cargo::rerun-if-changed={}", d.join(tool).display());
    }
    dirs.iter().any(|d| d.join(tool).is_file())
}

fn main() {
    for v in ["CI", "RISKPIPE_SHARED_DATA", "PATH"] {
        println!("cargo::rerun-if-env-changed={v}");
    }
    for cfg in ["no_shared_data", "no_chromium", "no_python3"] {
        println!("cargo::rustc-check-cfg=cfg({cfg})");
    }
    let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0");
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let data = std::env::var_os("RISKPIPE_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest.join("../../shared/data"));
    // Re-run when the data folder appears or disappears.
    println!("cargo::rerun-if-changed={}", data.display());
    if ci {
        return;
    }
    let missing = [
        ("no_shared_data", !Path::new(&data).is_dir()),
        (
            "no_chromium",
            !["chromium", "chromium-browser", "google-chrome"]
                .iter()
                .any(|t| on_path(t)),
        ),
        ("no_python3", !on_path("python3")),
    ];
    for (cfg, is_missing) in missing {
        if is_missing {
            println!("cargo::rustc-cfg={cfg}");
            println!(
                "cargo::warning=riskpipe tests: {cfg}: the tests that need it are ignored (reported as such by the test runner)"
            );
        }
    }
}
