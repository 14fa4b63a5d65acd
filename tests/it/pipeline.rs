//! The whole pipeline: artifacts, manifests, skipping, reruns, verify, DAG steps.

use crate::util::{TestDir, hashes, small_pipeline};

fn json(p: &std::path::Path) -> serde_json::Value {
    serde_json::from_slice(&fs_err::read(p).expect("read")).expect("json")
}

#[test]
fn full_run_writes_every_artifact_and_a_summary() {
    let t = TestDir::new();
    t.write("p.yaml", &small_pipeline(6000, ""));
    let r = t.run(&["run", "p.yaml", "--run-dir", "run"]).ok();
    for s in [
        "run folder",
        "logistic",
        "tree",
        "oracle",
        "selected",
        "report",
        "bundle",
    ] {
        assert!(r.stdout.contains(s), "summary lacks `{s}`:\n{}", r.stdout);
    }
    let run = t.join("run");
    for f in [
        "ingest/data.parquet.removed.json",
        "ingest/schema.json",
        "ingest/quality.json",
        "ingest/truth.parquet",
        "privacy/data.parquet",
        "privacy/plan.json",
        "privacy/report.json",
        "features/split.parquet",
        "features/train.parquet",
        "features/test.parquet",
        "features/transform.json",
        "train/logistic.json",
        "train/tree.json",
        "train/cv.json",
        "train/selection.json",
        "evaluate/metrics.json",
        "evaluate/report.html",
        "evaluate/predictions.parquet",
        "deploy/bundle/bundle.json",
        "deploy/bundle/model.json",
        "deploy/bundle/scorecard.json",
        "deploy/bundle/scorecard.csv",
        "deploy/bundle/scorecard.sql",
        "deploy/check.json",
        "deploy/bundle/bundle_manifest.json",
        "train/scorecard.json",
    ] {
        assert!(run.join(f).exists(), "{f} is missing");
    }
    // The scorecard is built once, by train; the bundle ships that file.
    assert_eq!(
        fs_err::read(run.join("train/scorecard.json")).unwrap(),
        fs_err::read(run.join("deploy/bundle/scorecard.json")).unwrap()
    );
    // Manifests: every output listed with its hash; inputs sorted; fingerprint present.
    for stage in ["ingest", "privacy", "features", "train", "evaluate", "deploy"] {
        let m = json(&run.join(stage).join("manifest.json"));
        assert_eq!(m["stage"], stage);
        assert_eq!(m["seed"], 7);
        assert_eq!(m["fingerprint"].as_str().unwrap().len(), 64);
        for o in m["outputs"].as_array().unwrap() {
            let p = run.join(o["path"].as_str().unwrap());
            if o["path"] == "ingest/data.parquet" {
                // The raw table left after the privacy stage; its marker keeps the hash.
                assert!(!p.exists());
                let marker = json(&run.join("ingest/data.parquet.removed.json"));
                assert_eq!(marker["sha256"], o["sha256"]);
                continue;
            }
            assert_eq!(
                riskpipe_core::hash::artifact_sha256(&p).unwrap(),
                o["sha256"].as_str().unwrap()
            );
        }
        let inputs: Vec<&str> = m["inputs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["path"].as_str().unwrap())
            .collect();
        let mut sorted = inputs.clone();
        sorted.sort();
        assert_eq!(inputs, sorted);
    }
    // metrics.json has the documented shape and sane values.
    let m = json(&run.join("evaluate/metrics.json"));
    assert_eq!(m["task"], "credit_scoring");
    assert_eq!(m["target"], "default_flag");
    let sel = m["selected_model"].as_str().unwrap();
    assert!(m["models"][sel].is_object());
    for model in ["logistic", "tree"] {
        for set in ["train", "test"] {
            for k in ["auc", "ks", "gini", "pr_auc", "brier", "log_loss"] {
                let v = m["models"][model][set][k]
                    .as_f64()
                    .unwrap_or_else(|| panic!("{model}.{set}.{k}"));
                assert!(v.is_finite());
            }
        }
        let auc = m["models"][model]["test"]["auc"].as_f64().unwrap();
        assert!(auc > 0.65 && auc < 0.9, "{model} test AUC {auc}");
    }
    let oracle = m["oracle"]["auc"].as_f64().unwrap();
    assert!(oracle >= m["models"]["logistic"]["test"]["auc"].as_f64().unwrap() - 0.02);
    let html = fs_err::read_to_string(run.join("evaluate/report.html")).unwrap();
    assert!(html.contains("<svg") && html.contains("<path d=\"M") && html.contains("Classification at threshold"));
    assert!(run.join("evaluate/curves.parquet").exists());
    // split.parquet: row = the id, split = train/test, 30 % test.
    let split = riskpipe_core::io::read_parquet(&run.join("features/split.parquet")).unwrap();
    assert_eq!(split.names(), &["row".to_string(), "split".to_string()]);
    assert_eq!(split.rows(), 6000);
    let tests = (0..6000)
        .filter(|&i| split.get("split").unwrap().display(i).as_deref() == Some("test"))
        .count();
    assert_eq!(tests, 1800);
    assert_eq!(split.get("row").unwrap().display(0).as_deref(), Some("A00000001"));
    // The bundle re-scored the test rows exactly as evaluate did.
    let check = json(&run.join("deploy/check.json"));
    assert_eq!(check["ok"], true);
    assert_eq!(check["max_abs_diff"], 0.0, "bit for bit");
}

#[test]
fn rerun_skips_and_parameter_change_reruns_downstream_only() {
    let t = TestDir::new();
    t.write("p.yaml", &small_pipeline(3000, ""));
    t.run(&["run", "p.yaml", "--run-dir", "run"]).ok();
    let r = t.run(&["run", "p.yaml", "--run-dir", "run"]).ok();
    for s in ["ingest", "privacy", "features", "train", "evaluate", "deploy"] {
        assert!(
            r.stderr.contains(&format!("{s}  skipped (up to date)")),
            "{s} not skipped:\n{}",
            r.stderr
        );
    }
    // Change only the train grid: ingest, privacy, features skip; train and later rerun.
    t.write("p.yaml", &small_pipeline(3000, "").replace("l2: [0.001]", "l2: [0.01]"));
    let r = t.run(&["run", "p.yaml", "--run-dir", "run"]).ok();
    for s in ["ingest", "privacy", "features"] {
        assert!(
            r.stderr.contains(&format!("{s}  skipped")),
            "{s} should skip:\n{}",
            r.stderr
        );
    }
    for s in ["train", "evaluate", "deploy"] {
        assert!(
            !r.stderr.contains(&format!("{s}  skipped")),
            "{s} should rerun:\n{}",
            r.stderr
        );
    }
    // --force reruns everything.
    let r = t.run(&["run", "p.yaml", "--run-dir", "run", "--force"]).ok();
    assert!(!r.stderr.contains("skipped"));
}

#[test]
fn reruns_are_byte_identical_and_verify_catches_an_edited_output() {
    let t = TestDir::new();
    // Every model family, optimal binning with a special value, selection and calibration.
    let yaml = small_pipeline(
        3000,
        "    forest: { n_trees: [12] }\n    boosting: { n_trees: [40] }\n    adaboost: { n_estimators: [20] }\n    bagging: { n_estimators: [3] }\n    mlp: { hidden: [[8]], max_epochs: 5 }\n  calibration: isotonic\n",
    )
    .replace(
        "  exclude: [application_date]\n",
        "  exclude: [application_date]\n  binning:\n    special_values: [0]\n  selection:\n    max_correlation: 0.8\n",
    );
    t.write("p.yaml", &yaml);
    t.run(&["run", "p.yaml", "--run-dir", "a"]).ok();
    t.run(&["run", "p.yaml", "--run-dir", "b"]).ok();
    // One thread instead of two: the same bytes.
    t.run_env(
        &["run", "p.yaml", "--run-dir", "c"],
        &[("RAYON_NUM_THREADS", Some("1"))],
    )
    .ok();
    let (a, b, c) = (hashes(&t.join("a")), hashes(&t.join("b")), hashes(&t.join("c")));
    assert!(a.len() > 20);
    for m in ["boosting", "forest", "adaboost", "bagging", "mlp"] {
        assert!(a.iter().any(|(p, _)| p.ends_with(&format!("train/{m}.json"))), "{m}");
    }
    assert_eq!(a, b, "two runs of the same pipeline differ");
    assert_eq!(a, c, "one thread and two threads differ");

    let r = t.run(&["verify", "a"]).ok();
    assert!(r.stdout.contains("byte for byte"));
    // Edit one output: verify exits 1 and names it.
    let p = t.join("a/train/selection.json");
    let mut text = fs_err::read_to_string(&p).unwrap();
    text.push(' ');
    fs_err::write(&p, text).unwrap();
    t.run(&["verify", "a"]).fails(1, &["train/selection.json", "differ"]);
}

#[test]
fn stages_run_one_by_one_as_dag_steps() {
    let t = TestDir::new();
    t.write("p.yaml", &small_pipeline(3000, ""));
    // A stage before its inputs exist: exit 2, names what to run first, writes nothing.
    t.run(&["run", "p.yaml", "--run-dir", "run", "--stage", "train"])
        .fails(2, &["features/train.parquet", "--stage features"]);
    assert!(!t.join("run/train").exists());
    for s in ["ingest", "privacy", "features", "train", "evaluate", "deploy"] {
        t.run(&["run", "p.yaml", "--run-dir", "run", "--stage", s]).ok();
        assert!(t.join(format!("run/{s}/manifest.json")).exists());
    }
    // The same result as one whole run.
    t.run(&["run", "p.yaml", "--run-dir", "whole"]).ok();
    assert_eq!(hashes(&t.join("run")), hashes(&t.join("whole")));
    // No temporary folders left behind (the lock file stays: it names the last holder).
    let leftovers: Vec<_> = fs_err::read_dir(t.join("run"))
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with('.') && e.file_name() != ".lock")
        .collect();
    assert!(leftovers.is_empty());
}

#[test]
fn four_line_pipeline_stops_on_personal_data_and_runs_once_it_is_masked() {
    let t = TestDir::new();
    t.run(&["synth", "loans", "--rows", "2500", "--seed", "5", "--out", "loans.csv"])
        .ok();
    t.write(
        "p.yaml",
        "version: 1\nname: tiny\ntask: default_prediction\ndata: { path: loans.csv, target: default_flag, id: id }\n",
    );
    // The applicants' personal data would pass unmasked: the privacy stage names every column.
    t.run(&["run", "p.yaml"]).fails(
        2,
        &[
            "`name` holds person names",
            "`email` holds e-mail addresses",
            "`phone` holds phone numbers",
            "`national_id` holds national ids",
            "`postcode` holds postcodes",
            "`date_of_birth` holds dates of birth",
            "privacy.allow_pii",
        ],
    );
    assert!(!t.join("runs/tiny/default/privacy/data.parquet").exists());
    // Masked, the rest runs on the defaults.
    t.write(
        "p.yaml",
        "version: 1\nname: tiny\ntask: default_prediction\ndata: { path: loans.csv, target: default_flag, id: id }\nprivacy: { columns: { name: { action: drop }, email: { action: drop }, phone: { action: drop }, national_id: { action: drop }, postcode: { action: drop }, date_of_birth: { action: generalize, to: year } } }\n",
    );
    let r = t.run(&["run", "p.yaml"]).ok();
    assert!(
        t.join("runs/tiny/default/deploy/bundle/bundle.json").exists(),
        "{}",
        r.stdout
    );
}

#[test]
fn out_of_time_split_puts_the_latest_applications_in_test() {
    let t = TestDir::new();
    let yaml = small_pipeline(3000, "").replace(
        "features:\n  exclude: [application_date]\n",
        "features:\n  split: time\n  time_column: application_date\n  test_fraction: 0.25\n",
    );
    t.write("p.yaml", &yaml);
    t.run(&["run", "p.yaml", "--run-dir", "run"]).ok();
    let data = riskpipe_core::io::read_parquet(&t.join("run/privacy/data.parquet")).unwrap();
    let split = riskpipe_core::io::read_parquet(&t.join("run/features/split.parquet")).unwrap();
    let dates = match data.get("application_date").unwrap() {
        riskpipe_core::Column::Date(d) => d.clone(),
        _ => panic!("application_date is not a date"),
    };
    let is_test: Vec<bool> = (0..split.rows())
        .map(|i| split.get("split").unwrap().display(i).as_deref() == Some("test"))
        .collect();
    let latest_train = (0..dates.len())
        .filter(|&i| !is_test[i])
        .filter_map(|i| dates[i])
        .max()
        .unwrap();
    let earliest_test = (0..dates.len())
        .filter(|&i| is_test[i])
        .filter_map(|i| dates[i])
        .min()
        .unwrap();
    assert!(latest_train < earliest_test);
    let share = is_test.iter().filter(|t| **t).count() as f64 / is_test.len() as f64;
    assert!((share - 0.25).abs() < 0.02, "test share {share}");
    // The date column drives the split, not the model.
    let rep = json(&t.join("run/features/report.json"));
    assert!(rep["excluded"]["application_date"].is_string());
}

#[test]
fn json_logs_for_schedulers() {
    let t = TestDir::new();
    t.write("p.yaml", &small_pipeline(1500, ""));
    let r = t
        .run(&["--log-format", "json", "run", "p.yaml", "--run-dir", "run"])
        .ok();
    let mut finished = 0;
    for line in r.stderr.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        if v["fields"]["message"] == "Stage finished." {
            finished += 1;
            assert!(v["fields"]["rows_out"].is_number());
        }
    }
    assert_eq!(finished, 6, "{}", r.stderr);
}

#[test]
fn forest_can_be_selected_deployed_and_verified() {
    let t = TestDir::new();
    let yaml = small_pipeline(3000, "").replace(
        "    tree: { max_depth: [4], min_samples_leaf: [40] }\n",
        "    forest: { n_trees: [20], max_depth: [5], min_samples_leaf: [30] }\n  select: forest\n",
    );
    t.write("p.yaml", &yaml);
    t.run(&["run", "p.yaml", "--run-dir", "run"]).ok();
    let sel = json(&t.join("run/train/selection.json"));
    assert_eq!(sel["selected"], "forest");
    let forest = json(&t.join("run/train/forest.json"));
    assert_eq!(forest["type"], "forest");
    assert_eq!(forest["trees"].as_array().unwrap().len(), 20);
    assert!(forest["oob_auc"].as_f64().unwrap() > 0.6);
    let m = json(&t.join("run/evaluate/metrics.json"));
    assert!(m["models"]["forest"]["test"]["auc"].as_f64().unwrap() > 0.65);
    assert_eq!(json(&t.join("run/deploy/check.json"))["ok"], true);
    t.run(&["verify", "run"]).ok();
    t.run(&["synth", "loans", "--rows", "300", "--seed", "8", "--out", "new.csv"])
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
    assert_eq!(fs_err::read_to_string(t.join("s.csv")).unwrap().lines().count(), 301);
}

#[test]
fn boosting_can_be_selected_deployed_and_verified() {
    let t = TestDir::new();
    let yaml = small_pipeline(3000, "").replace(
        "    tree: { max_depth: [4], min_samples_leaf: [40] }\n",
        "    boosting: { n_trees: [60], learning_rate: [0.1], max_leaves: [8] }\n  select: boosting\n",
    );
    t.write("p.yaml", &yaml);
    t.run(&["run", "p.yaml", "--run-dir", "run"]).ok();
    assert_eq!(json(&t.join("run/train/selection.json"))["selected"], "boosting");
    let b = json(&t.join("run/train/boosting.json"));
    assert_eq!(b["type"], "boosting");
    let trees = b["trees"].as_array().unwrap().len();
    assert!((1..=60).contains(&trees));
    let m = json(&t.join("run/evaluate/metrics.json"));
    assert!(m["models"]["boosting"]["test"]["auc"].as_f64().unwrap() > 0.65);
    assert_eq!(json(&t.join("run/deploy/check.json"))["ok"], true);
    t.run(&["verify", "run"]).ok();
    // Reason codes of a boosted model come from exact contributions (TreeSHAP).
    t.run(&["synth", "loans", "--rows", "200", "--seed", "9", "--out", "new.csv"])
        .ok();
    let r = t
        .run(&[
            "score",
            "--bundle",
            "run/deploy/bundle",
            "--input",
            "new.csv",
            "--output",
            "scored.csv",
        ])
        .ok();
    assert!(r.stderr.contains("--no-reasons"), "{}", r.stderr);
    let scored = fs_err::read_to_string(t.join("scored.csv")).unwrap();
    let header = scored.lines().next().unwrap();
    assert!(header.contains("reason_1") && header.contains("reason_3"), "{header}");
    let with_reason = scored.lines().skip(1).filter(|l| l.contains("raises the risk")).count();
    assert!(with_reason > 150, "{with_reason} of 200 rows have a reason");
    // Bulk scoring without reasons: the same PDs, no reason columns.
    t.run(&[
        "score",
        "--bundle",
        "run/deploy/bundle",
        "--input",
        "new.csv",
        "--output",
        "bulk.csv",
        "--no-reasons",
    ])
    .ok();
    let bulk = fs_err::read_to_string(t.join("bulk.csv")).unwrap();
    assert_eq!(bulk.lines().next(), Some("id,pd,score"));
    let pds = |text: &str| -> Vec<String> {
        text.lines()
            .skip(1)
            .map(|l| l.split(',').nth(1).unwrap().to_string())
            .collect()
    };
    assert_eq!(pds(&bulk), pds(&scored));
    // The report shows the model's mean absolute contributions.
    let html = fs_err::read_to_string(t.join("run/evaluate/report.html")).unwrap();
    assert!(
        html.contains("Mean |contribution| (TreeSHAP"),
        "no TreeSHAP importance in the report"
    );
}

#[test]
fn calibration_is_fitted_out_of_fold_reported_and_shipped() {
    for (method, select) in [("isotonic", "tree"), ("platt", "logistic")] {
        let t = TestDir::new();
        // Balanced class weights push the PDs towards one half: miscalibrated on purpose, so
        // that calibration has something to repair on rows it never saw.
        let yaml = small_pipeline(4000, &format!("  select: {select}\n  calibration: {method}\n"))
            .replace(
                "min_samples_leaf: [40] }",
                "min_samples_leaf: [40], class_weight: balanced }",
            )
            .replace("l2: [0.001] }", "l2: [0.001], class_weight: balanced }");
        t.write("p.yaml", &yaml);
        t.run(&["run", "p.yaml", "--run-dir", "run"]).ok();
        let cal = json(&t.join("run/train/calibration.json"));
        assert_eq!(cal["model"], select);
        assert_eq!(cal["calibrator"]["method"], method);
        // Out of fold, calibration lowers the Brier score.
        let (before, after) = (
            cal["oof_brier"][0].as_f64().unwrap(),
            cal["oof_brier"][1].as_f64().unwrap(),
        );
        assert!(after.is_finite() && before.is_finite());
        // In sample, isotonic regression can only lower the Brier score (the identity map is
        // monotone too); the test rows, which the calibrator never saw, are the real check.
        let m = json(&t.join("run/evaluate/metrics.json"));
        let test_brier = &m["calibration"]["brier"];
        let (tb, ta) = (test_brier[0].as_f64().unwrap(), test_brier[1].as_f64().unwrap());
        eprintln!("{method}: out-of-fold Brier {before} -> {after}, test Brier {tb} -> {ta}");
        assert!(
            ta < tb,
            "{method}: calibration does not help on the test rows: {tb} -> {ta}"
        );
        let table = m["calibration"]["table"].as_array().unwrap();
        assert_eq!(table.len(), 10);
        let rows: u64 = table.iter().map(|r| r["rows"].as_u64().unwrap()).sum();
        assert_eq!(rows, m["models"][select]["test"]["rows"].as_u64().unwrap());
        // Calibrated PDs on test rows average close to the observed rate.
        let mean = |k: &str| {
            table
                .iter()
                .map(|r| r[k].as_f64().unwrap() * r["rows"].as_f64().unwrap())
                .sum::<f64>()
                / rows as f64
        };
        assert!(
            (mean("mean_calibrated_pd") - mean("default_rate")).abs() < 0.02,
            "{method}"
        );
        let html = fs_err::read_to_string(t.join("run/evaluate/report.html")).unwrap();
        assert!(html.contains(&format!("PD calibration: {method} scaling of {select}")));
        // The bundle carries the map: scoring gives the calibrated PDs, bit for bit.
        assert!(t.join("run/deploy/bundle/calibration.json").exists());
        let check = json(&t.join("run/deploy/check.json"));
        assert_eq!(check["max_abs_diff"], 0.0, "{method}");
        let preds = riskpipe_core::io::read_parquet(&t.join("run/evaluate/predictions.parquet")).unwrap();
        let raw = preds.number(&format!("p_{select}")).unwrap();
        let cal = preds.number("pd_calibrated").unwrap();
        assert!(
            raw.iter().zip(cal).any(|(a, b)| a != b),
            "{method}: calibration changed nothing"
        );
    }
}

#[test]
fn random_search_draws_settings_and_cv_results_list_every_fold() {
    let t = TestDir::new();
    let yaml = small_pipeline(3000, "    boosting: { n_trees: [20, 40], learning_rate: { min: 0.01, max: 0.3, log: true }, max_leaves: [4, 8, 16] }\n  search: random\n  draws: 4\n")
        .replace("    logistic: { l2: [0.001] }\n", "    logistic: { l2: { min: 0.00001, max: 0.1, log: true } }\n");
    t.write("p.yaml", &yaml);
    t.run(&["run", "p.yaml", "--run-dir", "run"]).ok();
    let cv = riskpipe_core::io::read_parquet(&t.join("run/train/cv_results.parquet")).unwrap();
    let (model, metric, fold) = (
        cv.get("model").unwrap(),
        cv.get("metric").unwrap(),
        cv.number("fold").unwrap(),
    );
    let points = |name: &str| -> std::collections::BTreeSet<String> {
        (0..cv.rows())
            .filter(|&i| model.display(i).as_deref() == Some(name))
            .map(|i| cv.get("params").unwrap().display(i).unwrap())
            .collect()
    };
    // Four draws each (the tree grid has one setting, so one).
    assert_eq!(points("logistic").len(), 4);
    assert_eq!(points("boosting").len(), 4);
    assert_eq!(points("tree").len(), 1);
    // Three folds per setting, plus its mean; learning rates come from the range.
    let folds = (0..cv.rows())
        .filter(|&i| metric.display(i).as_deref() == Some("auc"))
        .count();
    assert_eq!(folds, 3 * 9);
    assert!((0..cv.rows()).all(|i| metric.display(i).as_deref() != Some("auc") || (0.0..3.0).contains(&fold[i])));
    for p in points("boosting") {
        let v: serde_json::Value = serde_json::from_str(&p).unwrap();
        let lr = v["learning_rate"].as_f64().unwrap();
        assert!((0.01..=0.3).contains(&lr), "{lr}");
    }
    // Same seed, same draws.
    t.run(&["run", "p.yaml", "--run-dir", "again"]).ok();
    assert_eq!(
        riskpipe_core::hash::sha256_file(&t.join("run/train/cv_results.parquet")).unwrap(),
        riskpipe_core::hash::sha256_file(&t.join("again/train/cv_results.parquet")).unwrap()
    );
}

#[test]
fn monotone_constraints_reach_the_boosting_model_and_bad_names_are_user_errors() {
    let t = TestDir::new();
    let yaml = small_pipeline(3000, "").replace(
        "    tree: { max_depth: [4], min_samples_leaf: [40] }\n",
        "    boosting: { n_trees: [40], max_leaves: [8], monotone: { utilisation: 1, income: -1 } }\n  select: boosting\n",
    );
    t.write("p.yaml", &yaml);
    t.run(&["run", "p.yaml", "--run-dir", "run"]).ok();
    let b = json(&t.join("run/train/boosting.json"));
    assert_eq!(b["params"]["monotone"]["utilisation"], 1);
    assert_eq!(b["params"]["monotone"]["income"], -1);
    t.write("bad.yaml", &yaml.replace("utilisation: 1", "utilization: 1"));
    t.run(&["run", "bad.yaml", "--run-dir", "bad"]).fails(
        2,
        &[
            "error: bad.yaml",
            "train.models.boosting.monotone",
            "`utilization` is not a feature",
            "`utilisation`",
        ],
    );
}

#[test]
fn adaboost_bagging_and_mlp_can_be_selected_deployed_and_verified() {
    for (model, line) in [
        ("adaboost", "    adaboost: { n_estimators: [30], max_depth: [2] }\n"),
        ("bagging", "    bagging: { base: tree, n_estimators: [6] }\n"),
        ("bagging", "    bagging: { base: logistic, n_estimators: [4] }\n"),
        ("mlp", "    mlp: { hidden: [[16, 8]], max_epochs: 60 }\n"),
    ] {
        let t = TestDir::new();
        let yaml = small_pipeline(2500, &format!("{line}  select: {model}\n"));
        t.write("p.yaml", &yaml);
        t.run(&["run", "p.yaml", "--run-dir", "run"]).ok();
        assert_eq!(json(&t.join("run/train/selection.json"))["selected"], model);
        assert_eq!(json(&t.join(format!("run/train/{model}.json")))["type"], model);
        let m = json(&t.join("run/evaluate/metrics.json"));
        assert!(m["models"][model]["test"]["auc"].as_f64().unwrap() > 0.65, "{model}");
        assert_eq!(json(&t.join("run/deploy/check.json"))["max_abs_diff"], 0.0);
        t.run(&["verify", "run"]).ok();
    }
}
