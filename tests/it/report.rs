//! The report as a person sees it: rendered in headless Chromium.

use std::process::Command;

use crate::util::{TestDir, small_pipeline};

fn chromium() -> Option<&'static str> {
    for c in [
        "/usr/bin/chromium",
        "/usr/bin/chromium-browser",
        "/usr/bin/google-chrome",
    ] {
        if std::path::Path::new(c).exists() {
            return Some(c);
        }
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("chromium is missing under CI=true (make test installs Debian's `chromium`)");
    }
    eprintln!("skipping: chromium is not installed");
    None
}

const FLAGS: [&str; 9] = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--enable-logging=stderr",
];

#[test]
fn report_renders_with_every_section_and_plot() {
    let Some(chrome) = chromium() else { return };
    let t = TestDir::new();
    t.write("p.yaml", &small_pipeline(4000, ""));
    t.run(&["run", "p.yaml", "--run-dir", "run"]).ok();
    let html = t.join("run/evaluate/report.html");
    let url = format!("file://{}", html.display());
    let profile = t.join("chrome-profile");
    let dom = Command::new(chrome)
        .args(FLAGS)
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(["--dump-dom", &url])
        .output()
        .expect("run chromium");
    assert!(dom.status.success(), "{}", String::from_utf8_lossy(&dom.stderr));
    let dom_text = String::from_utf8_lossy(&dom.stdout);
    let log = String::from_utf8_lossy(&dom.stderr);
    assert!(
        !log.lines()
            .any(|l| l.contains("CONSOLE") && l.to_lowercase().contains("error")),
        "console errors:\n{log}"
    );
    for id in [
        "run",
        "comparison",
        "performance",
        "stability",
        "interpretability",
        "data",
    ] {
        assert!(dom_text.contains(&format!("id=\"{id}\"")), "section {id} missing");
    }
    for plot in [
        "ROC curve",
        "Precision-recall curve",
        "KS plot",
        "Calibration by decile",
        "Score distribution",
        "Feature importance",
    ] {
        assert!(
            dom_text.contains(&format!("aria-label=\"{plot}")),
            "plot {plot} missing"
        );
    }
    for table in [
        "Gains, lift and calibration by decile",
        "predicted bad",
        "CSI",
        "Binning tables",
        "Ingest quality",
        "Privacy masking",
    ] {
        assert!(dom_text.contains(table), "{table} missing");
    }
    // Every plotted path has points; no script, no external resource.
    let paths: Vec<&str> = dom_text
        .split("<path d=\"")
        .skip(1)
        .map(|p| p.split('"').next().unwrap_or(""))
        .collect();
    assert!(paths.len() >= 8);
    assert!(
        paths.iter().all(|d| d.starts_with('M') && d.contains('L')),
        "an empty path"
    );
    assert!(
        !dom_text.contains("<script") && !dom_text.contains("http://")
            || dom_text
                .matches("http://")
                .all(|_| dom_text.contains("xmlns=\"http://www.w3.org/2000/svg\""))
    );
    assert!(!dom_text.contains("https://"));
    // The first screen, kept beside the run for a person to look at.
    let png = t.join("run/report.png");
    let shot = Command::new(chrome)
        .args(FLAGS)
        .arg(format!("--user-data-dir={}", profile.display()))
        .args([
            "--virtual-time-budget=5000",
            "--window-size=1280,900",
            &format!("--screenshot={}", png.display()),
            &url,
        ])
        .output()
        .expect("run chromium");
    assert!(shot.status.success());
    let bytes = fs_err::read(&png).expect("screenshot written");
    assert!(bytes.len() > 10_000 && bytes.starts_with(b"\x89PNG"));
}
