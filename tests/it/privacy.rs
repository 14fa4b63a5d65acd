//! No raw value of a masked column reaches any file the run folder keeps.

use std::collections::BTreeSet;

use riskpipe_core::io::read_parquet;

use crate::util::{KEY, TestDir, hashes, small_pipeline};

/// Once the privacy stage has masked the raw table, the raw table leaves the run folder: no
/// file left anywhere in it holds a raw personal value.
#[test]
fn no_raw_personal_value_stays_in_the_run_folder() {
    let t = TestDir::new();
    t.write("p.yaml", &small_pipeline(2000, ""));
    // Ingest alone keeps the raw table (nothing has masked it yet): the values to look for.
    t.run(&["run", "p.yaml", "--run-dir", "raw", "--stage", "ingest"]).ok();
    t.run(&["run", "p.yaml", "--run-dir", "run"]).ok();
    assert!(!t.join("run/ingest/data.parquet").exists(), "the raw table stayed");
    assert!(t.join("run/ingest/data.parquet.removed.json").exists());
    let raw = read_parquet(&t.join("raw/ingest/data.parquet")).unwrap();
    let mut secrets = BTreeSet::new();
    for c in ["name", "email", "phone", "national_id", "postcode", "date_of_birth"] {
        let col = raw.get(c).unwrap();
        for i in 0..raw.rows() {
            if let Some(v) = col.display(i) {
                secrets.insert(v);
            }
        }
    }
    assert!(secrets.len() > 5000);
    let mut files = Vec::new();
    {
        let mut stack = vec![t.join("run")];
        while let Some(d) = stack.pop() {
            for e in fs_err::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() { stack.push(p) } else { files.push(p) }
            }
        }
    }
    assert!(files.len() > 15);
    // The report shows what each column held and what was done with it.
    let html = fs_err::read_to_string(t.join("run/evaluate/report.html")).unwrap();
    assert!(
        html.contains("Personal data found by content")
            && html.contains("<td>national_id</td><td>hash</td><td>national id</td>"),
        "no findings table"
    );
    for f in &files {
        if f.extension().is_some_and(|e| e == "parquet") {
            // Parquet pages are compressed: check the decoded cells.
            let frame = read_parquet(f).unwrap();
            for (name, col) in frame.iter() {
                for i in 0..frame.rows() {
                    if let Some(v) = col.display(i) {
                        assert!(
                            !secrets.contains(&v),
                            "{}: column `{name}` holds the raw value `{v}`",
                            f.display()
                        );
                    }
                }
            }
        } else {
            let text = String::from_utf8_lossy(&fs_err::read(f).unwrap()).into_owned();
            for s in secrets.iter().filter(|s| s.len() >= 6) {
                assert!(
                    !text.contains(s.as_str()),
                    "{} contains the raw value `{s}`",
                    f.display()
                );
            }
            assert!(!text.contains(KEY), "{} contains the masking key", f.display());
        }
    }
}

#[test]
fn masking_key_must_be_set_and_masked_columns_must_exist() {
    let t = TestDir::new();
    t.write("p.yaml", &small_pipeline(500, ""));
    t.run_env(&["run", "p.yaml", "--run-dir", "run"], &[("RISKPIPE_MASK_KEY", None)])
        .fails(2, &["RISKPIPE_MASK_KEY"]);
    assert!(!t.join("run").exists());
    t.write(
        "q.yaml",
        &small_pipeline(500, "").replace("name: { action: drop }", "nickname: { action: drop }"),
    );
    t.run(&["run", "q.yaml", "--run-dir", "run2"])
        .fails(2, &["`nickname`", "privacy.columns.nickname"]);
    assert!(!t.join("run2/privacy").exists());
    assert!(t.join("run2/ingest/manifest.json").exists());
}

/// Personal data is found by its values: a column that would pass unmasked stops the stage
/// (exit 2, the column and what it holds named, nothing written) until it is masked or allowed
/// by name; the report lists what every column holds.
#[test]
fn personal_data_found_by_content_cannot_pass_unmasked_by_accident() {
    let t = TestDir::new();
    // `email` left without an action.
    let yaml = small_pipeline(1500, "").replace("    email: { action: drop }\n", "");
    t.write("p.yaml", &yaml);
    t.run(&["run", "p.yaml", "--run-dir", "run", "--stage", "ingest"]).ok();
    t.run(&["run", "p.yaml", "--run-dir", "run", "--stage", "privacy"])
        .fails(
            2,
            &["`email` holds e-mail addresses", "privacy.allow_pii", "privacy.columns"],
        );
    assert!(!t.join("run/privacy/data.parquet").exists());
    t.write(
        "p.yaml",
        &yaml.replace("privacy:\n", "privacy:\n  allow_pii: [email]\n"),
    );
    t.run(&["run", "p.yaml", "--run-dir", "run", "--stage", "privacy"]).ok();
    let report: serde_json::Value =
        serde_json::from_str(&fs_err::read_to_string(t.join("run/privacy/report.json")).expect("report"))
            .expect("json");
    let kinds = |c: &str| -> Vec<String> {
        report["pii_findings"][c]
            .as_array()
            .unwrap_or(&Vec::new())
            .iter()
            .map(|f| f["kind"].as_str().expect("kind").to_string())
            .collect()
    };
    for (c, k) in [
        ("name", "person_name"),
        ("email", "email"),
        ("phone", "phone"),
        ("national_id", "national_id"),
        ("postcode", "postcode"),
        ("date_of_birth", "date_of_birth"),
    ] {
        assert_eq!(kinds(c), [k], "{c}: {}", report["pii_findings"]);
    }
    assert_eq!(report["pii_findings"].as_object().expect("findings").len(), 6);
}

/// Pseudonyms link only within a domain: by default the pipeline's name, so two pipelines
/// with the same key give one person two unrelated pseudonyms unless they name one domain.
#[test]
fn pseudonyms_link_across_pipelines_only_within_a_domain() {
    let t = TestDir::new();
    let ids = |name: &str, extra: &str, dir: &str| {
        let yaml = small_pipeline(300, "")
            .replace("name: small", &format!("name: {name}"))
            .replace("privacy:\n", &format!("privacy:\n{extra}"));
        t.write("p.yaml", &yaml);
        for stage in ["ingest", "privacy"] {
            t.run(&["run", "p.yaml", "--run-dir", dir, "--stage", stage]).ok();
        }
        read_parquet(&t.join(format!("{dir}/privacy/data.parquet")))
            .unwrap()
            .get("national_id")
            .unwrap()
            .clone()
    };
    let bank = ids("small", "", "a");
    assert_eq!(bank, ids("small", "", "a2"));
    assert_ne!(bank, ids("insurer", "", "b"));
    assert_eq!(bank, ids("insurer", "  domain: small\n", "c"));
}

/// The raw table leaves the run folder but not the run's record: reruns skip, a stage that
/// reads it (deploy's check) gets it re-executed from the source and checked by its recorded
/// hash, `verify` reproduces the run, and a changed source is refused by name.
#[test]
fn the_raw_table_comes_back_only_from_its_recorded_source() {
    let t = TestDir::new();
    t.run(&["synth", "loans", "--rows", "1500", "--seed", "5", "--out", "loans.csv"])
        .ok();
    let yaml = small_pipeline(0, "").replace("  synth: loans\n  rows: 0\n", "  path: loans.csv\n");
    t.write("p.yaml", &yaml);
    t.run(&["run", "p.yaml", "--run-dir", "run"]).ok();
    let raw = t.join("run/ingest/data.parquet");
    assert!(!raw.exists());
    let before = hashes(&t.join("run"));
    let again = t.run(&["run", "p.yaml", "--run-dir", "run"]).ok();
    assert!(again.stdout.contains("0 ran, 6 skipped"), "{}", again.stdout);
    // Deploy reads the raw test rows: ingest is re-executed for it, and the bundle and its
    // check come out the same.
    t.run(&["run", "p.yaml", "--run-dir", "run", "--stage", "deploy", "--force"])
        .ok();
    assert_eq!(hashes(&t.join("run")), before);
    assert!(!raw.exists());
    let left: Vec<String> = fs_err::read_dir(t.join("run"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".raw"))
        .collect();
    assert!(left.is_empty(), "scratch left behind: {left:?}");
    t.run(&["verify", "run"]).ok();
    // The source changes after the run: the raw table cannot come back, and deploy says why.
    let csv = fs_err::read_to_string(t.join("loans.csv")).unwrap();
    let mut lines: Vec<&str> = csv.lines().collect();
    lines.truncate(lines.len() - 1);
    t.write("loans.csv", &(lines.join("\n") + "\n"));
    t.run(&["run", "p.yaml", "--run-dir", "run", "--stage", "deploy", "--force"])
        .fails(2, &["ingest/data.parquet", "the source changed", "privacy.keep_raw"]);
    assert_eq!(hashes(&t.join("run/deploy")), {
        let mut d: Vec<(String, String)> = before
            .iter()
            .filter(|(p, _)| p.starts_with("deploy/"))
            .map(|(p, h)| (p.trim_start_matches("deploy/").to_string(), h.clone()))
            .collect();
        d.sort();
        d
    });
    // Kept on request.
    t.write("q.yaml", &yaml.replace("privacy:\n", "privacy:\n  keep_raw: true\n"));
    t.run(&["run", "q.yaml", "--run-dir", "kept"]).ok();
    assert!(t.join("kept/ingest/data.parquet").exists());
}

/// k-anonymity: the stage generalises the quasi-identifiers to the least-loss levels that
/// reach k, blanks the rows left in small classes, writes the levels into the plan the bundle
/// replays, and reports the risk before and after; bad settings are exit 2 naming the key.
#[test]
fn k_anonymity_is_reached_replayed_by_the_bundle_and_reported() {
    let t = TestDir::new();
    let yaml = small_pipeline(3000, "")
        .replace("    date_of_birth: { action: generalize, to: year }\n", "")
        .replace("    postcode: { action: truncate, chars: 2 }\n", "")
        .replace(
            "features:\n",
            "  k_anonymity:\n    k: 5\n    max_suppressed: 0.03\n    quasi_identifiers:\n      postcode: { prefix: [3, 2, 1] }\n      date_of_birth: { date: [month, year] }\n      income: { bucket: [1000, 5000, 25000] }\n      housing: {}\nfeatures:\n",
        );
    t.write("p.yaml", &yaml);
    t.run(&["run", "p.yaml", "--run-dir", "run"]).ok();
    let report: serde_json::Value =
        serde_json::from_str(&fs_err::read_to_string(t.join("run/privacy/report.json")).unwrap()).unwrap();
    let a = &report["anonymity"];
    assert_eq!(a["before"]["k"], 1, "{a}");
    assert!(a["after"]["k"].as_u64().unwrap() >= 5, "{a}");
    let suppressed = a["suppressed_rows"].as_u64().unwrap();
    assert!(suppressed <= 90, "{a}");
    // The released table, counted here by its values: every class of rows that carry a
    // quasi-identifier holds 5 or more.
    let data = read_parquet(&t.join("run/privacy/data.parquet")).unwrap();
    let qi: Vec<&str> = ["postcode", "date_of_birth", "income", "housing"]
        .into_iter()
        .filter(|c| data.get(c).is_some())
        .collect();
    let mut classes: std::collections::BTreeMap<Vec<Option<String>>, u64> = Default::default();
    let mut blank = 0;
    for r in 0..data.rows() {
        let key: Vec<Option<String>> = qi.iter().map(|c| data.get(c).unwrap().display(r)).collect();
        if key.iter().all(Option::is_none) {
            blank += 1;
        } else {
            *classes.entry(key).or_default() += 1;
        }
    }
    assert_eq!(blank, suppressed);
    assert!(classes.values().all(|n| *n >= 5), "a class below 5");
    // The plan holds the chosen levels as actions; the bundle generalises new rows with them
    // (deploy's check: bit-equal on every test row not suppressed).
    let plan: serde_json::Value =
        serde_json::from_str(&fs_err::read_to_string(t.join("run/deploy/bundle/plan.json")).unwrap()).unwrap();
    let generalised = a["levels"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, v)| *v != "as is")
        .count();
    assert!(generalised > 0);
    for (c, v) in a["levels"].as_object().unwrap() {
        assert_eq!(plan["columns"].get(c).is_some(), v != "as is", "{c}: {plan}");
    }
    let check: serde_json::Value =
        serde_json::from_str(&fs_err::read_to_string(t.join("run/deploy/check.json")).unwrap()).unwrap();
    assert_eq!(check["ok"], true, "{check}");
    let html = fs_err::read_to_string(t.join("run/evaluate/report.html")).unwrap();
    assert!(html.contains("<h3>k-anonymity</h3>") && html.contains("prosecutor risk"));
    // What it cost: the selected model's test AUC against the same pipeline run without the
    // generalisation (its own run folder, here), and the refit left nothing behind.
    let metrics = |run: &str| -> serde_json::Value {
        serde_json::from_str(&fs_err::read_to_string(t.join(run).join("evaluate/metrics.json")).unwrap()).unwrap()
    };
    let m = metrics("run");
    let cost = &m["anonymity_cost"];
    let model = m["selected_model"].as_str().unwrap();
    assert_eq!(cost["model"], model, "{cost}");
    assert_eq!(cost["auc_generalised"], m["models"][model]["test"]["auc"], "{cost}");
    let b = yaml.find("  k_anonymity:").unwrap();
    let e = yaml.find("features:\n").unwrap();
    let allow = "  allow_pii: [date_of_birth, postcode]\n";
    t.write("raw.yaml", &format!("{}{allow}{}", &yaml[..b], &yaml[e..]));
    t.run(&["run", "raw.yaml", "--run-dir", "raw"]).ok();
    let raw = metrics("raw");
    assert!(raw.get("anonymity_cost").is_none());
    assert_eq!(cost["auc_raw"], raw["models"][model]["test"]["auc"], "{cost}");
    let (g, r) = (
        cost["auc_generalised"].as_f64().unwrap(),
        cost["auc_raw"].as_f64().unwrap(),
    );
    assert_eq!(cost["cost"].as_f64().unwrap(), r - g);
    assert!(
        html.contains(&format!("a cost of {:.4}", r - g)),
        "the report states the cost"
    );
    assert!(
        hashes(&t.join("run"))
            .iter()
            .all(|(p, _)| !p.contains("anonymity-cost"))
    );
    // Asked for without a generalisation: a user error naming the key.
    t.write(
        "nocost.yaml",
        &format!("{}{allow}{}evaluate:\n  anonymity_cost: true\n", &yaml[..b], &yaml[e..]),
    );
    t.run(&["run", "nocost.yaml", "--run-dir", "nocost"])
        .fails(2, &["evaluate.anonymity_cost", "privacy.k_anonymity"]);
    t.write("off.yaml", &format!("{yaml}evaluate:\n  anonymity_cost: false\n"));
    t.run(&["run", "off.yaml", "--run-dir", "off"]).ok();
    assert!(metrics("off").get("anonymity_cost").is_none());
    // Bad settings.
    for (from, to, key) in [
        (
            "income: { bucket: [1000, 5000, 25000] }",
            "income: { bucket: [1000, 1500] }",
            "privacy.k_anonymity.quasi_identifiers.income",
        ),
        ("    k: 5\n", "    k: 1\n", "privacy.k_anonymity.k"),
        (
            "postcode: { prefix: [3, 2, 1] }",
            "postcode: { prefix: [1, 2] }",
            "privacy.k_anonymity.quasi_identifiers.postcode",
        ),
        (
            "    email: { action: drop }\n",
            "    email: { action: drop }\n    housing: { action: drop }\n",
            "privacy.k_anonymity.quasi_identifiers.housing",
        ),
        ("      housing: {}\n", "      housing: { decade: [1] }\n", "decade"),
    ] {
        assert!(yaml.contains(from), "{from}");
        t.write("bad.yaml", &yaml.replace(from, to));
        t.run(&["run", "bad.yaml", "--run-dir", "bad"]).fails(2, &[key]);
        assert!(!t.join("bad").exists());
    }
    // Out of reach: a k above the rows; a sensitive column that is not there.
    t.write("far.yaml", &yaml.replace("    k: 5\n", "    k: 4000\n"));
    t.run(&["run", "far.yaml", "--run-dir", "far"])
        .fails(2, &["privacy.k_anonymity", "no generalisation reaches k = 4000"]);
    assert!(!t.join("far/privacy").exists());
    t.write(
        "far.yaml",
        &yaml.replace("    k: 5\n", "    k: 5\n    l: 2\n    sensitive: nowhere\n"),
    );
    t.run(&["run", "far.yaml", "--run-dir", "far"])
        .fails(2, &["`nowhere`", "privacy.k_anonymity.l"]);
}

/// Format-preserving encryption through the whole pipeline: the national id keeps its
/// `999-99-9999` shape with other digits, the bundle replays it on raw rows (deploy's check),
/// and the PII check counts the column as masked.
#[test]
fn fpe_keeps_the_format_of_a_masked_column_end_to_end() {
    let t = TestDir::new();
    let yaml = small_pipeline(800, "").replace(
        "    national_id: { action: hash }\n",
        "    national_id: { action: fpe }\n",
    );
    assert!(yaml.contains("action: fpe"));
    t.write("p.yaml", &yaml);
    t.run(&["run", "p.yaml", "--run-dir", "raw", "--stage", "ingest"]).ok();
    t.run(&["run", "p.yaml", "--run-dir", "run"]).ok();
    let raw = read_parquet(&t.join("raw/ingest/data.parquet")).unwrap();
    let masked = read_parquet(&t.join("run/privacy/data.parquet")).unwrap();
    let (a, b) = (raw.get("national_id").unwrap(), masked.get("national_id").unwrap());
    let mut same = 0;
    for i in 0..raw.rows() {
        let (x, y) = (a.display(i).unwrap(), b.display(i).unwrap());
        let shape = |s: &str| {
            s.chars()
                .map(|c| if c.is_ascii_digit() { '9' } else { c })
                .collect::<String>()
        };
        assert_eq!(shape(&x), "999-99-9999");
        assert_eq!(shape(&y), "999-99-9999", "{x} -> {y}");
        same += usize::from(x == y);
    }
    assert_eq!(same, 0);
    let check: serde_json::Value =
        serde_json::from_str(&fs_err::read_to_string(t.join("run/deploy/check.json")).unwrap()).unwrap();
    assert_eq!(check["ok"], true);
    let report: serde_json::Value =
        serde_json::from_str(&fs_err::read_to_string(t.join("run/privacy/report.json")).unwrap()).unwrap();
    assert_eq!(report["actions"]["national_id"], "fpe");
}
