//! The anomaly-detection task end to end: generated accounts, detectors, the ensemble, the
//! label used only to evaluate, the bundle's flags and reasons, and the user errors.

use crate::util::{Run, TestDir, hashes};

fn json(p: &std::path::Path) -> serde_json::Value {
    serde_json::from_slice(&fs_err::read(p).expect("read")).expect("json")
}

/// An anomaly pipeline on `data` (YAML lines under `data:`), with `extra` sections appended.
fn pipeline(data: &str, extra: &str) -> String {
    bare(
        data,
        &format!(
            "privacy:\n  columns:\n    customer_name: {{ action: drop }}\n    email: {{ action: drop }}\n    date_of_birth: {{ action: generalize, to: year }}\n{extra}"
        ),
    )
}

/// The same without a masking plan (for tables without personal data).
fn bare(data: &str, extra: &str) -> String {
    format!("version: 1\nname: accounts\ntask: anomaly_detection\nseed: 5\ndata:\n{data}\n{extra}")
}

const SYNTH: &str = "  synth: accounts\n  rows: 6000\n  anomaly_rate: 0.03";

/// Every detector family, each with its defaults.
const ALL_DETECTORS: &str = "train:\n  models:\n    iforest: {}\n    ecod: {}\n    hbos: {}\n    kmeans: {}\n    gmm: {}\n    knn: {}\n    lof: {}\n    pca: {}\n";

/// The detector families, by name.
const DETECTORS: [&str; 8] = ["iforest", "ecod", "hbos", "kmeans", "gmm", "knn", "lof", "pca"];

fn run(t: &TestDir, yaml: &str, dir: &str) -> Run {
    t.write(&format!("{dir}.yaml"), yaml);
    t.run(&["run", &format!("{dir}.yaml"), "--run-dir", dir])
}

#[test]
fn detectors_fit_evaluate_and_deploy_with_flags_and_reasons() {
    let t = TestDir::new();
    // The default detectors.
    let r = run(&t, &pipeline(SYNTH, "evaluate:\n  contamination: 0.03\n"), "run").ok();
    for s in ["iforest", "hbos", "gmm", "ensemble", "<- deployed", "report"] {
        assert!(r.stdout.contains(s), "summary lacks `{s}`:\n{}", r.stdout);
    }
    let run = t.join("run");
    for f in [
        "train/iforest.json",
        "train/hbos.json",
        "train/gmm.json",
        "train/ensemble.json",
        "evaluate/metrics.json",
        "evaluate/predictions.parquet",
        "evaluate/curves.parquet",
        "evaluate/report.html",
        "deploy/bundle/model.json",
        "deploy/check.json",
    ] {
        assert!(run.join(f).exists(), "{f} is missing");
    }
    let m = json(&run.join("evaluate/metrics.json"));
    let e = &m["detectors"]["ensemble"];
    // The planted anomalies are found well above chance, and the flag rate is the
    // contamination chosen on the training rows.
    assert!(e["label"]["auc"].as_f64().unwrap() > 0.75, "{e}");
    assert!(e["label"]["precision_at_budget"].as_f64().unwrap() > 0.2, "{e}");
    let flagged = e["flagged_share_test"].as_f64().unwrap();
    assert!((0.015..0.05).contains(&flagged), "{flagged}");
    // Which detector catches which planted kind.
    for kind in ["global", "cluster", "dependency", "duplicate"] {
        assert!(
            m["by_kind"][kind]["ensemble"].as_f64().is_some(),
            "{kind}: {}",
            m["by_kind"]
        );
    }
    assert!(m["by_kind"]["global"]["iforest"].as_f64().unwrap() > 0.9);
    for d in ["iforest", "gmm"] {
        let auc = m["detectors"][d]["label"]["auc"].as_f64().unwrap();
        assert!(auc > 0.8, "{d}: {auc}");
    }
    let top = m["top"].as_array().unwrap();
    assert_eq!(top.len(), 20);
    assert!(top[0]["reasons"].as_array().unwrap().len() == 3, "{}", top[0]);
    let html = fs_err::read_to_string(run.join("evaluate/report.html")).unwrap();
    for s in [
        "Detector comparison",
        "Score distributions",
        "precision-recall",
        "Top anomalies",
        "catches which kind",
    ] {
        assert!(html.contains(s), "report lacks `{s}`");
    }
    // The label is never a feature.
    let tr = json(&run.join("features/transform.json"));
    assert_eq!(tr["label"], "is_anomaly");
    assert!(
        !tr["scaled_features"].to_string().contains("is_anomaly"),
        "{}",
        tr["scaled_features"]
    );
    // The bundle scores raw rows: anomaly score, flag, reasons.
    t.run(&["synth", "accounts", "--rows", "300", "--seed", "9", "--out", "new.csv"])
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
    let mut lines = scored.lines();
    assert_eq!(
        lines.next().unwrap(),
        "account_id,anomaly_score,is_flagged,reason_1,reason_2,reason_3"
    );
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 300);
    assert!(rows.iter().any(|l| l.split(',').nth(2) == Some("1")), "nothing flagged");
    assert!(rows[0].contains("is unusual"), "{}", rows[0]);
}

#[test]
fn one_hot_categories_reach_the_detectors_and_reasons_name_the_feature() {
    let t = TestDir::new();
    let extra = "features:\n  category_encoding: one_hot\ntrain:\n  models:\n    kmeans: {}\n    pca: { score: component_distance }\ndeploy:\n  reason_codes: 8\n";
    let data = "  synth: accounts\n  rows: 3000\n  anomaly_rate: 0.03";
    run(&t, &pipeline(data, extra), "run").ok();
    let tr = json(&t.join("run/features/transform.json"));
    let scaled: Vec<&str> = tr["scaled_features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    // One 0/1 column per training channel, and no frequency column.
    let channels: Vec<&&str> = scaled.iter().filter(|c| c.starts_with("channel__scaled=")).collect();
    assert!(channels.len() >= 3, "{scaled:?}");
    assert!(!scaled.contains(&"channel__scaled"), "{scaled:?}");
    let train = riskpipe_core::io::read_parquet(&t.join("run/features/train.parquet")).unwrap();
    let hot: Vec<&[f64]> = channels.iter().map(|c| train.number(c).unwrap()).collect();
    for i in 0..train.rows() {
        let ones = hot.iter().filter(|c| c[i] == 1.0).count();
        assert!(ones <= 1 && hot.iter().all(|c| c[i] == 0.0 || c[i] == 1.0), "row {i}");
    }
    // Reasons name features, never the encoded columns, and the channel among them.
    t.run(&["synth", "accounts", "--rows", "200", "--seed", "4", "--out", "new.csv"])
        .ok();
    t.run(&[
        "score",
        "--bundle",
        "run/deploy/bundle",
        "--input",
        "new.csv",
        "--output",
        "s.csv",
    ])
    .ok();
    let scored = fs_err::read_to_string(t.join("s.csv")).unwrap();
    assert!(!scored.contains("__scaled"), "{scored}");
    assert!(scored.contains("channel = "), "no reason names the channel:\n{scored}");
}

#[test]
fn the_label_never_reaches_a_detector_and_scores_do_not_depend_on_threads() {
    let t = TestDir::new();
    t.run(&["synth", "accounts", "--rows", "3000", "--seed", "3", "--out", "acc.csv"])
        .ok();
    // The same table without its label column (the last one).
    let full = fs_err::read_to_string(t.join("acc.csv")).unwrap();
    let stripped: String = full
        .lines()
        .map(|l| format!("{}\n", &l[..l.rfind(',').unwrap()]))
        .collect();
    assert!(full.lines().next().unwrap().ends_with(",is_anomaly"));
    t.write("bare.csv", &stripped);
    let with = "  path: acc.csv\n  id: account_id\n  label: is_anomaly";
    let without = "  path: bare.csv\n  id: account_id";
    run(&t, &pipeline(with, ALL_DETECTORS), "a").ok();
    run(&t, &pipeline(without, ALL_DETECTORS), "b").ok();
    for f in DETECTORS.iter().chain(&["ensemble"]) {
        let a = fs_err::read(t.join(format!("a/train/{f}.json"))).unwrap();
        let b = fs_err::read(t.join(format!("b/train/{f}.json"))).unwrap();
        assert!(a == b, "{f} differs with the label present");
    }
    // Every detector finds the planted anomalies above chance.
    let m = json(&t.join("a/evaluate/metrics.json"));
    for d in DETECTORS {
        let auc = m["detectors"][d]["label"]["auc"].as_f64().unwrap();
        assert!(auc > 0.5, "{d}: {auc}");
    }
    // Without a label there is nothing to rank against, and the run still flags and deploys.
    let m = json(&t.join("b/evaluate/metrics.json"));
    assert!(m["detectors"]["ensemble"].get("label").is_none());
    assert!(t.join("b/deploy/bundle/bundle.json").exists());
    // One thread or two: the same bytes.
    t.write("one.yaml", &pipeline(with, ALL_DETECTORS));
    t.run_env(
        &["run", "one.yaml", "--run-dir", "one"],
        &[("RAYON_NUM_THREADS", Some("1"))],
    )
    .ok();
    let strip = |dir: &str| -> Vec<(String, String)> {
        hashes(&t.join(dir))
            .into_iter()
            .filter(|(p, _)| !p.ends_with(".log") && !p.contains("report.html"))
            .collect()
    };
    assert_eq!(strip("a"), strip("one"));
}

#[test]
fn bad_anomaly_input_is_a_user_error_naming_the_culprit() {
    let t = TestDir::new();
    // A label that is not 0/1.
    t.write("bad.csv", "account_id,balance,flag\na,1,0\nb,2,2\nc,3,0\n");
    run(&t, &bare("  path: bad.csv\n  id: account_id\n  label: flag", ""), "r1").fails(2, &["flag", "0 or 1"]);
    assert!(!t.join("r1/ingest/data.parquet").exists());
    // Detector settings out of range, and the flag share.
    run(
        &t,
        &pipeline(SYNTH, "train:\n  models:\n    iforest: { n_trees: 0 }\n"),
        "r2",
    )
    .fails(2, &["train.models.iforest.n_trees"]);
    run(&t, &pipeline(SYNTH, "evaluate:\n  contamination: 0.7\n"), "r3").fails(2, &["evaluate.contamination"]);
    // A target in a task without one; a label in a task with one; a detector for a 0/1 target.
    run(&t, &pipeline("  synth: accounts\n  target: is_anomaly", ""), "r4").fails(2, &["data.target", "data.label"]);
    let credit = crate::util::small_pipeline(500, "");
    t.write(
        "c.yaml",
        &credit.replace("  id: id\n", "  id: id\n  label: default_flag\n"),
    );
    t.run(&["run", "c.yaml"]).fails(2, &["data.label"]);
    t.write(
        "d.yaml",
        &credit.replace("    logistic:", "    iforest: {}\n    logistic:"),
    );
    t.run(&["run", "d.yaml"])
        .fails(2, &["train.models.iforest", "an anomaly score"]);
    // No numeric or encodable feature: every column excluded.
    t.write("ids.csv", "account_id,note\na,x1\nb,x2\nc,x3\nd,x4\n");
    run(
        &t,
        &bare("  path: ids.csv\n  id: account_id", "features:\n  exclude: [note]\n"),
        "r5",
    )
    .fails(2, &["no usable feature"]);
    // k above the training rows, and k of zero.
    t.write("few.csv", "account_id,balance\na,1\nb,2\nc,3\nd,4\ne,5\n");
    run(
        &t,
        &bare(
            "  path: few.csv\n  id: account_id",
            "train:\n  models:\n    kmeans: { k: 8 }\n",
        ),
        "r6",
    )
    .fails(2, &["train.models.kmeans", "`k` is 8"]);
    assert!(!t.join("r6/train").exists());
    run(&t, &pipeline(SYNTH, "train:\n  models:\n    kmeans: { k: 0 }\n"), "r7").fails(2, &["train.models.kmeans.k"]);
    // The other detectors' limits: neighbours and components above the rows, settings out of
    // range.
    for (models, culprit) in [
        ("knn: { k: 5 }", "`k` is 5 but the fit takes 3 rows"),
        ("gmm: { components: 6 }", "`components` is 6"),
    ] {
        run(
            &t,
            &bare(
                "  path: few.csv\n  id: account_id",
                &format!("train:\n  models:\n    {models}\n"),
            ),
            "r8",
        )
        .fails(2, &["train.models.", culprit]);
    }
    for (models, key) in [
        ("lof: { max_rows: 200000 }", "train.models.lof.max_rows"),
        ("pca: { variance: 1.5 }", "train.models.pca.variance"),
        ("gmm: { components: 0 }", "train.models.gmm.components"),
    ] {
        run(
            &t,
            &pipeline(SYNTH, &format!("train:\n  models:\n    {models}\n")),
            "r9",
        )
        .fails(2, &[key]);
    }
    // LOF above its row limit: 105,000 training rows, and the error names the limit and the fix.
    run(
        &t,
        &bare(
            "  synth: accounts\n  rows: 150000",
            "privacy:\n  columns:\n    customer_name: { action: drop }\n    email: { action: drop }\n    date_of_birth: { action: drop }\ntrain:\n  models:\n    lof: {}\n",
        ),
        "r10",
    )
    .fails(2, &["train.models.lof", "limit of 100000", "max_rows"]);
    assert!(!t.join("r10/train/lof.json").exists());
    // `score` input missing a column the bundle needs.
    run(&t, &pipeline(SYNTH, ""), "ok").ok();
    t.write("short.csv", "account_id,balance\nq,10\n");
    t.run(&[
        "score",
        "--bundle",
        "ok/deploy/bundle",
        "--input",
        "short.csv",
        "--output",
        "o.csv",
    ])
    .fails(2, &["short.csv"]);
    assert!(!t.join("o.csv").exists());
}
