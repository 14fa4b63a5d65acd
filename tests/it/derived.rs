//! Derived feature columns in a task with a target: principal components in place of the
//! numeric features (`features.reduction`) and detector scores as features
//! (`features.anomaly_scores`), fitted on the training rows and replayed by the bundle.

use crate::util::{TestDir, small_pipeline};

fn json(p: &std::path::Path) -> serde_json::Value {
    serde_json::from_slice(&fs_err::read(p).expect("read")).expect("json")
}

/// The small credit pipeline with `features` lines added under its `features:` section.
fn with_features(rows: u64, lines: &str) -> String {
    small_pipeline(rows, "").replace(
        "features:\n  exclude: [application_date]\n",
        &format!("features:\n  exclude: [application_date]\n{lines}"),
    )
}

#[test]
fn components_and_anomaly_scores_are_features_the_bundle_replays() {
    let t = TestDir::new();
    // The tree alone, so that reasons come from TreeSHAP over the derived columns.
    t.write(
        "p.yaml",
        &with_features(
            3000,
            "  reduction: { method: pca, variance: 0.9 }\n  anomaly_scores: [iforest, hbos]\n",
        )
        .replace("    logistic: { l2: [0.001] }\n", ""),
    );
    t.run(&["run", "p.yaml", "--run-dir", "run"]).ok();
    let run = t.join("run");
    let tr = json(&run.join("features/transform.json"));
    let raw: Vec<String> = serde_json::from_value(tr["raw_features"].clone()).unwrap();
    // The numeric features are replaced by components; categories stay; scores are appended.
    assert!(raw.iter().any(|c| c == "pc_1"), "{raw:?}");
    assert!(!raw.iter().any(|c| c == "income"), "{raw:?}");
    assert!(
        raw.ends_with(&["anomaly_iforest".to_string(), "anomaly_hbos".to_string()]),
        "{raw:?}"
    );
    let kept = tr["derived"]["reduction"]["pca"]["kept"].as_u64().unwrap() as usize;
    assert_eq!(raw.iter().filter(|c| c.starts_with("pc_")).count(), kept);
    // The detectors read the scaled columns, never the target.
    let scaled = tr["scaled_features"].to_string();
    assert!(!scaled.contains("default_flag"), "{scaled}");
    // The tree was fitted on them, and the bundle re-scores the test rows to the bit.
    let tree = fs_err::read_to_string(run.join("train/tree.json")).unwrap();
    assert!(tree.contains("anomaly_iforest") && tree.contains("pc_1"));
    let check = json(&run.join("deploy/check.json"));
    assert_eq!(check["max_abs_diff"].as_f64(), Some(0.0), "{check}");
    // New rows through `riskpipe score` get the same derived columns.
    t.run(&["synth", "loans", "--rows", "200", "--seed", "11", "--out", "new.csv"])
        .ok();
    t.run(&[
        "score",
        "--bundle",
        "run/deploy/bundle",
        "--input",
        "new.csv",
        "--output",
        "scored.csv",
    ])
    .ok();
    let scored = fs_err::read_to_string(t.join("scored.csv")).unwrap();
    assert_eq!(scored.lines().count(), 201);
    // A derived column in a reason shows its value, not `missing`.
    assert!(scored.contains("pc_") || scored.contains("anomaly_"), "{scored}");
    for l in scored.lines().filter(|l| l.contains("pc_") || l.contains("anomaly_")) {
        assert!(
            !l.contains("pc_1 = missing") && !l.contains("anomaly_iforest = missing"),
            "{l}"
        );
    }
}

#[test]
fn bad_derived_settings_name_their_key() {
    let t = TestDir::new();
    for (i, (lines, needles)) in [
        (
            "  anomaly_scores: [iforest, frobnicate]\n",
            vec!["features.anomaly_scores", "frobnicate"],
        ),
        (
            "  anomaly_scores: [logistic]\n",
            vec!["features.anomaly_scores", "logistic"],
        ),
        ("  reduction: { method: ica }\n", vec!["features.reduction.method"]),
        (
            "  reduction: { components: 2, variance: 0.9 }\n",
            vec!["features.reduction", "not both"],
        ),
        (
            "  reduction: { components: 99 }\n",
            vec!["features.reduction.components", "99"],
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let f = format!("p{i}.yaml");
        t.write(&f, &with_features(400, lines));
        t.run(&["run", &f, "--run-dir", &format!("r{i}")]).fails(2, &needles);
        assert!(!t.join(format!("r{i}/features/transform.json")).exists());
    }
    // A task without a target lists its detectors under `train.models`.
    t.write(
        "a.yaml",
        "version: 1\nname: a\ntask: anomaly_detection\nseed: 1\ndata:\n  synth: accounts\n  rows: 500\nprivacy:\n  columns: { customer_name: { action: drop }, email: { action: drop }, date_of_birth: { action: drop } }\nfeatures:\n  anomaly_scores: [iforest]\n",
    );
    t.run(&["run", "a.yaml", "--run-dir", "ra"])
        .fails(2, &["features.anomaly_scores", "train.models"]);
}
