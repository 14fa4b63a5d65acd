//! The report as a person sees it: rendered in headless Chromium.

use std::process::Command;

use crate::util::{TestDir, small_pipeline};

/// Chromium from `PATH`, as the Makefile finds it.
fn chromium() -> std::path::PathBuf {
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find_map(|t| {
            std::env::var_os("PATH").and_then(|p| std::env::split_paths(&p).map(|d| d.join(t)).find(|p| p.is_file()))
        })
        .unwrap_or_else(|| crate::util::tool("chromium"))
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
#[cfg_attr(no_chromium, ignore = "chromium is not installed (make test-deps installs it)")]
fn report_renders_with_every_section_and_plot() {
    let chrome = chromium();
    let t = TestDir::new();
    t.write("p.yaml", &small_pipeline(4000, ""));
    t.run(&["run", "p.yaml", "--run-dir", "run"]).ok();
    let html = t.join("run/evaluate/report.html");
    let url = format!("file://{}", html.display());
    let profile = t.join("chrome-profile");
    let dom = Command::new(&chrome)
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
    assert!(!dom_text.contains("<script"), "the report runs a script");
    assert!(
        no_external_resource(&dom_text),
        "the report loads something from the network"
    );
    // The first screen, kept beside the run for a person to look at.
    let png = t.join("run/report.png");
    let shot = Command::new(&chrome)
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

#[test]
fn binning_tables_show_the_scorecard_points_of_the_bundle() {
    let t = TestDir::new();
    t.write(
        "p.yaml",
        &small_pipeline(3000, "scorecard: { base_score: 500, base_odds: 20, pdo: 40 }\n"),
    );
    t.run(&["run", "p.yaml", "--run-dir", "run"]).ok();
    let html = fs_err::read_to_string(t.join("run/evaluate/report.html")).unwrap();
    let card: serde_json::Value =
        serde_json::from_str(&fs_err::read_to_string(t.join("run/deploy/bundle/scorecard.json")).unwrap()).unwrap();
    assert_eq!(card["pdo"], 40.0);
    // The run date and each model's fit times are shown, inside volatile spans.
    assert!(html.contains("<th>date</th><td><span data-volatile>20"));
    assert!(html.contains("<th>run id</th><td><span data-volatile>"));
    for stage in ["ingest", "privacy", "features", "train"] {
        let m: serde_json::Value =
            serde_json::from_str(&fs_err::read_to_string(t.join(format!("run/{stage}/manifest.json"))).unwrap())
                .unwrap();
        let fp = &m["fingerprint"].as_str().unwrap()[..16];
        assert!(
            html.contains(&format!("{stage}/manifest.json: fingerprint {fp}")),
            "{stage}"
        );
    }
    let manifest: serde_json::Value =
        serde_json::from_str(&fs_err::read_to_string(t.join("run/train/manifest.json")).unwrap()).unwrap();
    for model in ["logistic", "tree"] {
        // The manifest's fit time (a wall-clock reading, so only its presence is certain) is
        // the one the report shows.
        let fit = manifest["timings"][format!("{model}.fit_secs")].as_f64().unwrap();
        let row = html
            .split(&format!("<tr class=\"sel\"><td>{model}</td><td>train</td>"))
            .nth(1);
        let row = row
            .or_else(|| html.split(&format!("<tr><td>{model}</td><td>train</td>")).nth(1))
            .unwrap();
        let row = row.split("</tr>").next().unwrap();
        assert!(
            row.ends_with(&format!("<span data-volatile>{fit:.2}</span></td>")),
            "{row}"
        );
    }
    assert!(html.contains(&format!(
        "scores run from {} to {}",
        card["min_score"], card["max_score"]
    )));
    // The whole-point scores rank the test rows like the model they come from.
    let metrics: serde_json::Value =
        serde_json::from_str(&fs_err::read_to_string(t.join("run/evaluate/metrics.json")).unwrap()).unwrap();
    let check = &metrics["scorecard"];
    assert!(check["spearman"].as_f64().unwrap() > 0.97, "{check}");
    let (ap, am) = (
        check["auc_points"].as_f64().unwrap(),
        check["auc_model"].as_f64().unwrap(),
    );
    assert!((ap - am).abs() < 0.01, "{check}");
    assert_eq!(check["score_range"][0], card["min_score"]);
    assert!(html.contains("whole-point scores rank like the model"));
    let features = card["features"].as_array().unwrap();
    assert!(!features.is_empty());
    for f in features {
        let name = f["feature"].as_str().unwrap();
        let start = html
            .find(&format!("<summary><b>{name}</b>"))
            .unwrap_or_else(|| panic!("no binning table for {name}"));
        let table = &html[start..start + html[start..].find("</table>").unwrap()];
        // The last cell of each bin row is its points: value bins, then missing, then "no bin".
        let shown: Vec<i64> = table
            .split("<tr><td>")
            .skip(1)
            .map(|row| {
                let cell = row.rsplit("<td>").next().unwrap();
                cell.split('<').next().unwrap().parse().unwrap()
            })
            .collect();
        let mut expected: Vec<i64> = f["bins"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b["points"].as_i64().unwrap())
            .collect();
        if let Some(m) = f["missing"].as_object() {
            expected.push(m["points"].as_i64().unwrap());
        }
        expected.push(f["neutral_points"].as_i64().unwrap());
        assert_eq!(shown, expected, "points of {name}");
    }
    // The same tables as Parquet, points included; shares of each feature sum to one.
    let b = riskpipe_core::io::read_parquet(&t.join("run/evaluate/binning.parquet")).unwrap();
    let (feat, share, points) = (
        b.get("feature").unwrap(),
        b.number("share").unwrap(),
        b.number("points").unwrap(),
    );
    for f in features {
        let name = f["feature"].as_str().unwrap();
        let rows: Vec<usize> = (0..b.rows())
            .filter(|&i| feat.display(i).as_deref() == Some(name))
            .collect();
        assert!(
            (rows.iter().map(|&i| share[i]).sum::<f64>() - 1.0).abs() < 1e-9,
            "{name}"
        );
        let first = f["bins"][0]["points"].as_f64().unwrap();
        assert_eq!(points[rows[0]], first, "{name}");
    }
}

#[test]
fn selection_drops_correlated_and_weak_features_and_says_why() {
    let t = TestDir::new();
    let yaml = small_pipeline(3000, "").replace(
        "  exclude: [application_date]\n",
        "  exclude: [application_date]\n  selection:\n    min_iv: 0.03\n    max_correlation: 0.7\n",
    );
    t.write("p.yaml", &yaml);
    t.run(&["run", "p.yaml", "--run-dir", "run"]).ok();
    let read = |p: &str| -> serde_json::Value { serde_json::from_slice(&fs_err::read(t.join(p)).unwrap()).unwrap() };
    let report = read("run/features/report.json");
    let dropped: Vec<(String, String)> = report["selection"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["kept"] == false)
        .map(|d| {
            (
                d["feature"].as_str().unwrap().to_string(),
                d["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(dropped.iter().any(|d| d.1.contains("correlates")), "{dropped:?}");
    assert!(dropped.iter().any(|d| d.1.contains("below min_iv 0.03")), "{dropped:?}");
    // The scorecard's inputs are exactly the kept features.
    let woe: Vec<String> = read("run/features/transform.json")["woe_features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    let model: Vec<String> = read("run/train/logistic.json")["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    assert_eq!(woe, model);
    for (f, _) in &dropped {
        assert!(!woe.contains(&format!("woe_{f}")), "{f} was dropped but is used");
    }
    let html = fs_err::read_to_string(t.join("run/evaluate/report.html")).unwrap();
    assert!(html.contains("Scorecard feature selection"));
    for (f, reason) in &dropped {
        assert!(html.contains(&format!("<td>{f}</td>")) && html.contains(reason.split('`').next().unwrap()));
    }
}

#[test]
fn fairness_tables_match_a_recount_of_the_test_rows() {
    use riskpipe_core::io::read_parquet;
    let t = TestDir::new();
    t.write(
        "p.yaml",
        &format!("{}evaluate:\n  protected: [housing, age]\n", small_pipeline(3000, "")),
    );
    t.run(&["run", "p.yaml", "--run-dir", "run"]).ok();
    let metrics: serde_json::Value =
        serde_json::from_str(&fs_err::read_to_string(t.join("run/evaluate/metrics.json")).unwrap()).unwrap();
    let sel = metrics["selected_model"].as_str().unwrap().to_string();
    let threshold = metrics["models"][&sel]["threshold"].as_f64().unwrap();
    // Test rows of the masked data, in the order of the predictions.
    let data = read_parquet(&t.join("run/privacy/data.parquet")).unwrap();
    let split = read_parquet(&t.join("run/features/split.parquet")).unwrap();
    let test_rows: Vec<usize> = (0..split.rows())
        .filter(|&i| split.get("split").unwrap().display(i).as_deref() == Some("test"))
        .collect();
    let preds = read_parquet(&t.join("run/evaluate/predictions.parquet")).unwrap();
    let p = preds.number(&format!("p_{sel}")).unwrap();
    let y = preds.number("default_flag").unwrap();
    assert_eq!(p.len(), test_rows.len());
    let html = fs_err::read_to_string(t.join("run/evaluate/report.html")).unwrap();
    let section = &html[html.find("<h3>housing</h3>").unwrap()..];
    let section = &section[..section.find("</table>").unwrap()];
    let housing = data.get("housing").unwrap();
    let mut groups: Vec<String> = test_rows.iter().filter_map(|&r| housing.display(r)).collect();
    groups.sort();
    groups.dedup();
    assert!(groups.len() >= 3);
    for g in &groups {
        let k: Vec<usize> = (0..test_rows.len())
            .filter(|&i| housing.display(test_rows[i]).as_deref() == Some(g.as_str()))
            .collect();
        let n = k.len() as f64;
        let approval = k.iter().filter(|&&i| p[i] < threshold).count() as f64 / n;
        let default = k.iter().filter(|&&i| y[i] > 0.5).count() as f64 / n;
        let gy: Vec<f64> = k.iter().map(|&i| y[i]).collect();
        let gp: Vec<f64> = k.iter().map(|&i| p[i]).collect();
        let auc = riskpipe_core::stats::auc(&gy, &gp);
        let row = format!(
            "<tr><td>{g}</td><td>{}</td><td>{:.1}%</td><td>{:.1}%</td><td>{auc:.4}</td>",
            k.len(),
            100.0 * approval,
            100.0 * default
        );
        assert!(section.contains(&row), "{row} not in\n{section}");
    }
    // A numeric attribute with many values: five equal-count bands covering every test row.
    let age = &html[html.find("<h3>age</h3>").unwrap()..];
    let age = &age[..age.find("</table>").unwrap()];
    let counts: Vec<usize> = age
        .split("<tr><td>")
        .skip(1)
        .map(|r| r.split("</td><td>").nth(1).unwrap().parse().unwrap())
        .collect();
    assert_eq!(counts.iter().sum::<usize>(), test_rows.len());
    assert!(counts.len() >= 4 && counts.len() <= 6, "{counts:?}");
}

/// No `http://` or `https://` address in the page but the SVG namespace name (which browsers
/// never fetch).
fn no_external_resource(html: &str) -> bool {
    let rest = html.replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
    !rest.contains("http://") && !rest.contains("https://")
}

#[test]
fn the_external_resource_check_can_fail() {
    let svg = "<svg xmlns=\"http://www.w3.org/2000/svg\"></svg>";
    assert!(no_external_resource(svg));
    assert!(!no_external_resource(&format!(
        "{svg}<img src=\"http://x.test/a.png\">"
    )));
    assert!(!no_external_resource(&format!(
        "{svg}<link href=\"https://x.test/a.css\">"
    )));
}
