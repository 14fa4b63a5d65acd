//! No raw value of a masked column reaches any file written after the privacy stage.

use std::collections::BTreeSet;

use riskpipe_core::io::read_parquet;

use crate::util::{KEY, TestDir, small_pipeline};

#[test]
fn masked_values_never_leave_the_privacy_stage() {
    let t = TestDir::new();
    t.write("p.yaml", &small_pipeline(2000, ""));
    t.run(&["run", "p.yaml", "--run-dir", "run"]).ok();
    let raw = read_parquet(&t.join("run/ingest/data.parquet")).unwrap();
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
    for stage in ["privacy", "features", "train", "evaluate", "deploy"] {
        let mut stack = vec![t.join(format!("run/{stage}"))];
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
