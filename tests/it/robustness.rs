//! Stress scenarios: the fitted models re-score stressed test rows, nothing refitted.

use crate::util::{TestDir, small_pipeline};

fn json(p: &std::path::Path) -> serde_json::Value {
    serde_json::from_slice(&fs_err::read(p).expect("read")).expect("json")
}

const SCENARIOS: &str = "evaluate:
  robustness:
    permute_each: true
    scenarios:
      - { name: identity, column: income, scale: 1.0 }
      - { column: income, shift: -5000 }
      - { column: debt_to_income, missing: 0.2 }
      - { column: loan_amount, outliers: 0.01 }
      - { column: housing, missing: 0.5 }
";

/// Every model scores every scenario; a stress that changes nothing changes no score; taking
/// away the strongest feature costs AUC; columns come ranked by damage; the manifest times each
/// scenario; the report shows them; the same run gives the same figures.
#[test]
fn stress_scenarios_rescore_the_test_rows_with_the_fitted_models() {
    let t = TestDir::new();
    t.write("p.yaml", &small_pipeline(3000, SCENARIOS));
    t.run(&["run", "p.yaml", "--run-dir", "run"]).ok();
    let m = json(&t.join("run/evaluate/metrics.json"));
    let r = &m["robustness"];
    let scenarios = r["scenarios"].as_array().unwrap();
    // 5 declared and one permutation per feature the transform reads (income's is there too).
    assert!(scenarios.len() > 15, "{}", scenarios.len());
    let get = |name: &str| {
        scenarios
            .iter()
            .find(|s| s["name"] == name)
            .unwrap_or_else(|| panic!("{name}"))
    };
    for model in ["logistic", "tree"] {
        let base = m["models"][model]["test"]["auc"].as_f64().unwrap();
        let id = &get("identity")["models"][model];
        assert_eq!(
            id["auc"].as_f64().unwrap(),
            base,
            "{model}: identity must re-score exactly"
        );
        assert_eq!(id["psi"].as_f64().unwrap(), 0.0);
        assert_eq!(get("identity")["rows_changed"], 0);
        let rate = &get("interest_rate permute")["models"][model];
        assert!(rate["auc_change"].as_f64().unwrap() < -0.01, "{model}: {rate}");
    }
    assert_eq!(
        get("debt_to_income missing 0.2")["rows_changed"],
        180,
        "20 % of 900 test rows"
    );
    let ranking = r["ranking"].as_array().unwrap();
    let drops: Vec<f64> = ranking.iter().map(|d| d["auc_drop"].as_f64().unwrap()).collect();
    assert!(drops.windows(2).all(|w| w[0] >= w[1]), "{drops:?}");
    assert!(["interest_rate", "utilisation"].contains(&ranking[0]["column"].as_str().unwrap()));
    let manifest = json(&t.join("run/evaluate/manifest.json"));
    assert!(
        manifest["timings"]["robustness income shift -5000"].as_f64().is_some(),
        "{manifest}"
    );
    let html = fs_err::read_to_string(t.join("run/evaluate/report.html")).unwrap();
    assert!(html.contains("<h2>Robustness</h2>") && html.contains("interest_rate permute"));
    t.run(&["verify", "run"]).ok();
}

/// Bad scenarios are exit 2 naming the key, before any stage runs (or, for a column the data
/// lacks, when evaluate reads it), and nothing is half-written.
#[test]
fn bad_scenarios_name_their_key() {
    let t = TestDir::new();
    for (scenario, key) in [
        (
            "{ column: income, scale: 0.9, shift: 1 }",
            "evaluate.robustness.scenarios[0]",
        ),
        ("{ column: income, missing: 1.5 }", "evaluate.robustness.scenarios[0]"),
        ("{ scale: 0.9 }", "evaluate.robustness.scenarios[0].column"),
        ("{ column: income, jitter: 2 }", "jitter"),
    ] {
        let yaml = small_pipeline(
            600,
            &format!("evaluate:\n  robustness:\n    scenarios:\n      - {scenario}\n"),
        );
        t.write("bad.yaml", &yaml);
        t.run(&["run", "bad.yaml", "--run-dir", "bad"]).fails(2, &[key]);
        assert!(!t.join("bad").exists());
    }
    for (scenario, key) in [
        (
            "{ column: nowhere, permute: true }",
            "evaluate.robustness.scenarios[0].column",
        ),
        (
            "{ column: purpose, scale: 2 }",
            "evaluate.robustness.scenarios[0].column",
        ),
    ] {
        let yaml = small_pipeline(
            600,
            &format!("evaluate:\n  robustness:\n    scenarios:\n      - {scenario}\n"),
        );
        t.write("bad.yaml", &yaml);
        t.run(&["run", "bad.yaml", "--run-dir", "bad2"]).fails(2, &[key]);
        assert!(!t.join("bad2/evaluate").exists());
    }
}

/// Monotonicity: nudging a declared feature up never moves the score of constrained boosting
/// or of the scorecard (monotone WoE trend) the wrong way; an unconstrained tree or feature
/// does move, and the check says how often.
#[test]
fn monotone_features_move_the_constrained_models_one_way_only() {
    let t = TestDir::new();
    let yaml = small_pipeline(2000, "")
        .replace(
            "    tree: { max_depth: [4], min_samples_leaf: [40] }\n",
            "    tree: { max_depth: [6], min_samples_leaf: [20] }\n    boosting: { n_trees: [100], learning_rate: [0.1], monotone: { interest_rate: 1, utilisation: 1, debt_to_income: 1 } }\n",
        )
        + "evaluate:\n  robustness:\n    monotone: { interest_rate: 1, utilisation: 1, debt_to_income: 1, income: -1 }\n";
    assert!(yaml.contains("monotone: { interest_rate"));
    t.write("p.yaml", &yaml);
    t.run(&["run", "p.yaml", "--run-dir", "run"]).ok();
    let m = json(&t.join("run/evaluate/metrics.json"));
    let checks = m["robustness"]["monotone"].as_array().unwrap();
    let share = |f: &str, model: &str| -> f64 {
        checks.iter().find(|c| c["feature"] == f).unwrap()["wrong_way"][model]
            .as_f64()
            .unwrap()
    };
    let mut tree_moves = 0.0;
    for f in ["interest_rate", "utilisation", "debt_to_income"] {
        assert_eq!(share(f, "boosting"), 0.0, "{f}: constrained boosting");
        assert_eq!(share(f, "logistic"), 0.0, "{f}: scorecard with a monotone trend");
        tree_moves += share(f, "tree");
    }
    assert!(tree_moves > 0.0, "an unconstrained tree steps the wrong way somewhere");
    assert!(share("income", "boosting") > 0.0, "income is not constrained");
    let html = fs_err::read_to_string(t.join("run/evaluate/report.html")).unwrap();
    assert!(html.contains("Monotonicity"));
    for (from, to, key) in [
        ("income: -1 }", "income: 2 }", "evaluate.robustness.monotone.income"),
        ("income: -1 }", "purpose: 1 }", "evaluate.robustness.monotone.purpose"),
    ] {
        t.write("bad.yaml", &yaml.replace(from, to));
        t.run(&["run", "bad.yaml", "--run-dir", "bad"]).fails(2, &[key]);
    }
}

/// Out-of-time stability: with a split by date, the test rows by month, each with its rows,
/// positive rate, and per model AUC, KS and score PSI; the counts match a recount of the files.
#[test]
fn test_rows_by_period_match_a_recount() {
    let t = TestDir::new();
    let yaml = small_pipeline(
        2000,
        "evaluate:\n  robustness:\n    periods: { column: application_date }\n",
    )
    .replace(
        "features:\n",
        "features:\n  split: time\n  time_column: application_date\n  test_fraction: 0.4\n",
    );
    t.write("p.yaml", &yaml);
    t.run(&["run", "p.yaml", "--run-dir", "run"]).ok();
    let m = json(&t.join("run/evaluate/metrics.json"));
    let periods = m["robustness"]["periods"].as_array().unwrap();
    // Recount: the test rows' months and targets from the files evaluate read.
    let data = riskpipe_core::io::read_parquet(&t.join("run/privacy/data.parquet")).unwrap();
    let split = riskpipe_core::io::read_parquet(&t.join("run/features/split.parquet")).unwrap();
    let preds = riskpipe_core::io::read_parquet(&t.join("run/evaluate/predictions.parquet")).unwrap();
    let y = preds.number("default_flag").unwrap();
    let dates = data.get("application_date").unwrap();
    let sp = split.get("split").unwrap();
    let mut counts: std::collections::BTreeMap<String, (u64, f64)> = Default::default();
    let mut k = 0;
    for r in 0..data.rows() {
        if sp.display(r).as_deref() == Some("test") {
            let month = dates.display(r).unwrap()[..7].to_string();
            let e = counts.entry(month).or_default();
            e.0 += 1;
            e.1 += y[k];
            k += 1;
        }
    }
    assert_eq!(k, y.len());
    assert_eq!(periods.len(), counts.len());
    for (p, (month, (n, pos))) in periods.iter().zip(&counts) {
        assert_eq!(p["period"], month.as_str());
        assert_eq!(p["rows"], *n);
        assert!((p["positive_rate"].as_f64().unwrap() - pos / *n as f64).abs() < 1e-12);
        for model in ["logistic", "tree"] {
            assert!(p["models"][model]["psi"].as_f64().unwrap() >= 0.0);
        }
    }
    let html = fs_err::read_to_string(t.join("run/evaluate/report.html")).unwrap();
    assert!(html.contains("Out-of-time stability"));
    for (from, to, key) in [
        (
            "periods: { column: application_date }",
            "periods: { column: application_date, by: week }",
            "evaluate.robustness.periods.by",
        ),
        (
            "periods: { column: application_date }",
            "periods: { column: purpose }",
            "evaluate.robustness.periods.column",
        ),
    ] {
        t.write("bad.yaml", &yaml.replace(from, to));
        t.run(&["run", "bad.yaml", "--run-dir", "bad"]).fails(2, &[key]);
    }
}

/// Seed stability: the selected forest refitted with other seeds gives other AUCs (its own seed
/// first, matching its test AUC) and top features ranked by how many seeds agree; a logistic
/// regression takes no seed and says so.
#[test]
fn seed_stability_refits_the_selected_model_with_other_seeds() {
    let t = TestDir::new();
    let yaml = small_pipeline(2000, "")
        .replace(
            "  cv_folds: 3\n",
            "  cv_folds: 3\n  seed_stability: 4\n  select: forest\n",
        )
        .replace(
            "    tree: { max_depth: [4], min_samples_leaf: [40] }\n",
            "    forest: { n_trees: [30], max_depth: [6] }\n",
        );
    assert!(yaml.contains("forest: {"));
    t.write("p.yaml", &yaml);
    t.run(&["run", "p.yaml", "--run-dir", "run"]).ok();
    let m = json(&t.join("run/evaluate/metrics.json"));
    let s = &m["seed_stability"];
    assert_eq!(s["model"], "forest");
    let seeds: Vec<u64> = s["seeds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    assert_eq!(seeds.len(), 5);
    let auc: Vec<f64> = s["auc"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    assert_eq!(auc[0], m["models"]["forest"]["test"]["auc"].as_f64().unwrap());
    assert!(s["auc_range"].as_f64().unwrap() > 0.0, "{s}");
    let shares: Vec<f64> = s["top_features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f[1].as_f64().unwrap())
        .collect();
    assert!(shares.windows(2).all(|w| w[0] >= w[1]) && shares.iter().all(|x| *x > 0.0 && *x <= 1.0));
    let html = fs_err::read_to_string(t.join("run/evaluate/report.html")).unwrap();
    assert!(html.contains("<h2>Seed stability</h2>"));
    // A logistic regression takes no seed.
    t.write("q.yaml", &yaml.replace("select: forest", "select: logistic"));
    t.run(&["run", "q.yaml", "--run-dir", "q"]).ok();
    let m = json(&t.join("q/evaluate/metrics.json"));
    assert_eq!(m["seed_stability"]["seeds"].as_array().unwrap().len(), 0);
    t.write("bad.yaml", &yaml.replace("seed_stability: 4", "seed_stability: 1"));
    t.run(&["run", "bad.yaml", "--run-dir", "bad"])
        .fails(2, &["train.seed_stability"]);
}
