//! The `train:` section's checks and expansions.

use super::*;
use serde_json::Value;

/// Family `f`'s grid points as JSON (tests read fields by name: only `models` knows the types).
fn grid(p: &TrainParams, f: Family) -> Vec<Value> {
    p.models
        .grid(f)
        .iter()
        .map(|m| serde_json::to_value(m).unwrap())
        .collect()
}

#[test]
fn class_weight_reaches_the_model_parameters() {
    let yaml = "models:\n  logistic: { l2: [0.01], class_weight: balanced }\n  tree: { max_depth: [3], min_samples_leaf: [10] }\n";
    let cfg: TrainConfig = riskpipe_core::yaml::parse("p.yaml", yaml).unwrap();
    let p = cfg.resolve("p.yaml", 1, Target::Binary).unwrap();
    assert_eq!(grid(&p, Family::Logistic)[0]["balanced"], true);
    assert_eq!(grid(&p, Family::Tree)[0].get("balanced"), None);
    let yaml = "models:\n  forest: { class_weight: balanced }\n  boosting: { class_weight: balanced }\n  mlp: { class_weight: balanced }\n";
    let cfg: TrainConfig = riskpipe_core::yaml::parse("p.yaml", yaml).unwrap();
    let p = cfg.resolve("p.yaml", 1, Target::Binary).unwrap();
    assert_eq!(grid(&p, Family::Forest)[0]["tree"]["balanced"], true);
    assert_eq!(grid(&p, Family::Boosting)[0]["balanced"], true);
    assert_eq!(grid(&p, Family::Mlp)[0]["balanced"], true);
    let cfg: TrainConfig = riskpipe_core::yaml::parse("p.yaml", "models:\n  boosting: {}\n").unwrap();
    let p = cfg.resolve("p.yaml", 1, Target::Binary).unwrap();
    assert_eq!(grid(&p, Family::Boosting)[0].get("balanced"), None);
    let bad = "models:\n  logistic: { class_weight: heavy }\n";
    let err = riskpipe_core::yaml::parse::<TrainConfig>("p.yaml", bad)
        .unwrap_err()
        .to_string();
    assert!(err.contains("p.yaml:2:") && err.contains("heavy"), "{err}");
}

#[test]
fn mlp_tol_reaches_the_model_and_is_checked() {
    let yaml = "models:\n  mlp: { hidden: [[8]], tol: 0.001 }\n";
    let cfg: TrainConfig = riskpipe_core::yaml::parse("p.yaml", yaml).unwrap();
    assert_eq!(
        grid(&cfg.resolve("p.yaml", 1, Target::Binary).unwrap(), Family::Mlp)[0]["tol"],
        0.001
    );
    let cfg: TrainConfig = riskpipe_core::yaml::parse("p.yaml", "models:\n  mlp: { hidden: [[8]] }\n").unwrap();
    assert_eq!(
        grid(&cfg.resolve("p.yaml", 1, Target::Binary).unwrap(), Family::Mlp)[0]["tol"],
        1e-4
    );
    let bad: TrainConfig = riskpipe_core::yaml::parse("p.yaml", "models:\n  mlp: { tol: -1 }\n").unwrap();
    let errs = bad.resolve("p.yaml", 1, Target::Binary).unwrap_err();
    assert!(
        errs.iter().any(|e| e.to_string().contains("train.models.mlp.tol")),
        "{errs:?}"
    );
}

#[test]
fn boosting_growth_and_depth_reach_the_model() {
    let yaml = "models:\n  boosting: { growth: depthwise, max_depth: [4, 6], max_leaves: [64] }\n";
    let cfg: TrainConfig = riskpipe_core::yaml::parse("p.yaml", yaml).unwrap();
    let b = grid(&cfg.resolve("p.yaml", 1, Target::Binary).unwrap(), Family::Boosting);
    assert_eq!(b.len(), 2);
    assert!(b.iter().all(|p| p["growth"] == "depthwise" && p["max_leaves"] == 64));
    assert_eq!(
        (&b[0]["max_depth"], &b[1]["max_depth"]),
        (&Value::from(4), &Value::from(6))
    );
    let bad = "models:\n  boosting: { growth: sideways }\n";
    let err = riskpipe_core::yaml::parse::<TrainConfig>("p.yaml", bad)
        .unwrap_err()
        .to_string();
    assert!(err.contains("p.yaml:2:") && err.contains("sideways"), "{err}");
    let cfg: TrainConfig = riskpipe_core::yaml::parse("p.yaml", "models:\n  boosting: { max_depth: [0] }\n").unwrap();
    let errs = cfg.resolve("p.yaml", 1, Target::Binary).unwrap_err();
    assert!(
        errs.iter()
            .any(|e| e.to_string().contains("train.models.boosting.max_depth"))
    );
}

#[test]
fn whole_number_and_mlp_ranges_are_drawn_under_random_search() {
    let yaml = "search: random\ndraws: 4\nmodels:\n  tree: { max_depth: { min: 2, max: 9 } }\n  forest: { max_depth: { min: 3, max: 5 } }\n  boosting: { max_leaves: { min: 8, max: 64 }, max_depth: [6] }\n  mlp: { learning_rate: { min: 0.0001, max: 0.01, log: true }, dropout: { min: 0.0, max: 0.5 } }\n";
    let resolve = || {
        let cfg: TrainConfig = riskpipe_core::yaml::parse("p.yaml", yaml).unwrap();
        cfg.resolve("p.yaml", 7, Target::Binary).unwrap()
    };
    let p = resolve();
    let num = |v: &Value| v.as_f64().unwrap();
    let tree = grid(&p, Family::Tree);
    assert!(!tree.is_empty() && tree.len() <= 4);
    assert!(tree.iter().all(|t| (2.0..=9.0).contains(&num(&t["max_depth"]))));
    assert!(
        grid(&p, Family::Forest)
            .iter()
            .all(|f| (3.0..=5.0).contains(&num(&f["tree"]["max_depth"])))
    );
    let boosting = grid(&p, Family::Boosting);
    assert!(
        boosting
            .iter()
            .all(|b| (8.0..=64.0).contains(&num(&b["max_leaves"])) && b["max_depth"] == 6)
    );
    assert!(
        grid(&p, Family::Mlp).iter().all(|m| {
            (1e-4..=1e-2).contains(&num(&m["learning_rate"])) && (0.0..=0.5).contains(&num(&m["dropout"]))
        })
    );
    // The draws differ from one another and repeat for the same seed.
    let leaves = |p: &TrainParams| -> Vec<Value> {
        grid(p, Family::Boosting)
            .iter()
            .map(|b| b["max_leaves"].clone())
            .collect()
    };
    let first = leaves(&p);
    assert!(first.windows(2).any(|w| w[0] != w[1]), "{first:?}");
    assert_eq!(first, leaves(&resolve()));
    // A range under grid search is an error naming the key.
    let cfg: TrainConfig =
        riskpipe_core::yaml::parse("p.yaml", "models:\n  tree: { max_depth: { min: 2, max: 4 } }\n").unwrap();
    let errs = cfg.resolve("p.yaml", 1, Target::Binary).unwrap_err();
    assert!(
        errs.iter()
            .any(|e| e.to_string().contains("train.models.tree.max_depth")),
        "{errs:?}"
    );
}

#[test]
fn ranges_reject_unknown_keys() {
    let bad = "search: random\nmodels:\n  logistic: { l2: { min: 0.001, max: 0.1, lgo: true } }\n";
    let err = riskpipe_core::yaml::parse::<TrainConfig>("p.yaml", bad)
        .unwrap_err()
        .to_string();
    assert!(err.contains("p.yaml:3:") && err.contains("range"), "{err}");
    let bad = "search: random\nmodels:\n  tree: { max_depth: { min: 2, max: 4, step: 1 } }\n";
    assert!(riskpipe_core::yaml::parse::<TrainConfig>("p.yaml", bad).is_err());
}

#[test]
fn each_key_draws_from_its_own_stream() {
    // Boosting's drawn rates and the sampled settings do not depend on which other families
    // are listed, nor on their order.
    let with = |others: &str| {
        let yaml = format!(
            "search: random\ndraws: 3\nmodels:\n{others}  boosting: {{ learning_rate: {{ min: 0.01, max: 0.3, log: true }}, max_leaves: [8, 16, 32] }}\n"
        );
        let cfg: TrainConfig = riskpipe_core::yaml::parse("p.yaml", &yaml).unwrap();
        let b = grid(&cfg.resolve("p.yaml", 5, Target::Binary).unwrap(), Family::Boosting);
        b.iter()
            .map(|p| (p["learning_rate"].clone(), p["max_leaves"].clone()))
            .collect::<Vec<_>>()
    };
    let alone = with("");
    assert_eq!(alone.len(), 3);
    assert_eq!(
        alone,
        with("  logistic: { l2: { min: 0.0001, max: 1.0, log: true } }\n")
    );
    assert_eq!(
        alone,
        with("  mlp: { learning_rate: { min: 0.0001, max: 0.01, log: true } }\n  tree: {}\n")
    );
}

#[test]
fn a_family_whose_output_does_not_answer_the_target_is_refused_by_name() {
    let cfg: TrainConfig =
        riskpipe_core::yaml::parse("p.yaml", "models:\n  logistic: {}\n  regression_tree: {}\n").unwrap();
    let errs = cfg.resolve("p.yaml", 1, Target::Binary).unwrap_err();
    let text = errs.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n");
    assert!(
        text.contains("train.models.regression_tree")
            && text.contains("predicts an amount")
            && !text.contains("logistic"),
        "{text}"
    );
    // For a continuous target it is a default, beside boosting on squared error, and the
    // classifiers are refused.
    let p = TrainConfig::default().resolve("p.yaml", 1, Target::Continuous).unwrap();
    assert_eq!(
        p.models.iter().map(|(f, g)| (f, g.len())).collect::<Vec<_>>(),
        [(Family::Boosting, 1), (Family::RegressionTree, 6)]
    );
    assert!(
        p.models
            .iter()
            .all(|(_, g)| g.iter().all(|m| m.output() == riskpipe_models::Output::Amount))
    );
    let cfg: TrainConfig = riskpipe_core::yaml::parse("p.yaml", "models:\n  tree: {}\n").unwrap();
    let errs = cfg.resolve("p.yaml", 1, Target::Continuous).unwrap_err();
    assert!(errs[0].to_string().contains("predicts a probability"), "{errs:?}");
}

#[test]
fn the_models_own_check_names_the_key_of_a_bad_setting() {
    let cfg: TrainConfig = riskpipe_core::yaml::parse(
        "p.yaml",
        "models:\n  regression_tree: { max_depth: [4, 40], max_bins: 1 }\n",
    )
    .unwrap();
    let errs = cfg.resolve("p.yaml", 1, Target::Continuous).unwrap_err();
    let text = errs.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n");
    assert!(text.contains("train.models.regression_tree.max_bins"), "{text}");
    // One error per key, not one per grid point, and no other.
    assert_eq!(errs.len(), 2, "{text}");
    assert!(text.contains("train.models.regression_tree.max_depth"), "{text}");
    let cfg: TrainConfig =
        riskpipe_core::yaml::parse("p.yaml", "models:\n  regression_tree: { max_depth: [40] }\n").unwrap();
    let errs = cfg.resolve("p.yaml", 1, Target::Continuous).unwrap_err();
    assert!(
        errs[0].to_string().contains("train.models.regression_tree.max_depth"),
        "{errs:?}"
    );
}

#[test]
fn an_empty_family_entry_means_its_default_grid_and_unknown_families_are_named() {
    let cfg: TrainConfig = riskpipe_core::yaml::parse("p.yaml", "models:\n  logistic:\n").unwrap();
    let p = cfg.resolve("p.yaml", 1, Target::Binary).unwrap();
    assert_eq!(p.models.grid(Family::Logistic).len(), 4);
    let err = riskpipe_core::yaml::parse::<TrainConfig>("p.yaml", "models:\n  logistc: {}\n")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("p.yaml:2:") && err.contains("logistc") && err.contains("regression_tree"),
        "{err}"
    );
}

#[test]
fn checked_parameters_keep_their_serialised_form_and_read_back() {
    let p = TrainConfig::default().resolve("p.yaml", 3, Target::Binary).unwrap();
    let json = serde_json::to_value(&p).unwrap();
    let keys: Vec<&str> = json.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "target",
            "cv_folds",
            "select",
            "logistic",
            "tree",
            "calibration",
            "scorecard",
            "seed"
        ]
    );
    let back: TrainParams = serde_json::from_value(json).unwrap();
    assert_eq!(back, p);
    // Manifests of earlier runs list every family, fitted or not.
    let mut old = serde_json::to_value(&p).unwrap();
    old["forest"] = serde_json::json!([]);
    assert_eq!(serde_json::from_value::<TrainParams>(old).unwrap(), p);
}

#[test]
fn the_search_metric_is_the_targets_unless_named_and_named_only_for_a_binary_target() {
    let p = TrainConfig::default().resolve("p.yaml", 1, Target::Binary).unwrap();
    assert_eq!(p.metric(), Metric::Auc);
    assert_eq!(
        TrainConfig::default()
            .resolve("p.yaml", 1, Target::Continuous)
            .unwrap()
            .metric(),
        Metric::Rmse
    );
    let cfg: TrainConfig = riskpipe_core::yaml::parse("p.yaml", "metric: average_precision\n").unwrap();
    let p = cfg.resolve("p.yaml", 1, Target::Binary).unwrap();
    assert_eq!(p.metric(), Metric::AveragePrecision);
    // It is kept in the stage's parameters (their hash decides whether the stage reruns).
    let back: TrainParams = serde_json::from_str(&serde_json::to_string(&p).unwrap()).unwrap();
    assert_eq!(back.metric(), Metric::AveragePrecision);
    let cfg: TrainConfig = riskpipe_core::yaml::parse("p.yaml", "metric: average_precision\n").unwrap();
    let errs = cfg.resolve("p.yaml", 1, Target::Continuous).unwrap_err();
    assert!(errs[0].to_string().contains("train.metric"), "{errs:?}");
    let err = riskpipe_core::yaml::parse::<TrainConfig>("p.yaml", "metric: precision\n")
        .unwrap_err()
        .to_string();
    assert!(err.contains("p.yaml:1:") && err.contains("precision"), "{err}");
}

#[test]
fn balanced_bagging_grids_over_its_ratios_and_is_checked() {
    let yaml = "models:\n  bagging: { sampling: balanced, balance_ratio: [0.1, 1.0], n_estimators: [5] }\n";
    let cfg: TrainConfig = riskpipe_core::yaml::parse("p.yaml", yaml).unwrap();
    let g = grid(&cfg.resolve("p.yaml", 1, Target::Binary).unwrap(), Family::Bagging);
    assert_eq!(g.len(), 2);
    assert_eq!(
        (g[0]["balance"].as_f64(), g[1]["balance"].as_f64()),
        (Some(0.1), Some(1.0))
    );
    let cfg: TrainConfig = riskpipe_core::yaml::parse("p.yaml", "models:\n  bagging: {}\n").unwrap();
    let g = grid(&cfg.resolve("p.yaml", 1, Target::Binary).unwrap(), Family::Bagging);
    assert_eq!(g[0].get("balance"), None);
    let yaml = "models:\n  bagging: { base: tree, max_depth: [4, 12], min_samples_leaf: [3] }\n";
    let cfg: TrainConfig = riskpipe_core::yaml::parse("p.yaml", yaml).unwrap();
    let g = grid(&cfg.resolve("p.yaml", 1, Target::Binary).unwrap(), Family::Bagging);
    assert_eq!(
        (g[0]["base"]["max_depth"].as_u64(), g[1]["base"]["max_depth"].as_u64()),
        (Some(4), Some(12))
    );
    assert_eq!(g[1]["base"]["min_samples_leaf"].as_u64(), Some(3));
    for (bad, key) in [
        ("{ sampling: smote }", "train.models.bagging.sampling"),
        ("{ balance_ratio: [0.5] }", "train.models.bagging.balance_ratio"),
        (
            "{ sampling: balanced, balance_ratio: [2.0] }",
            "train.models.bagging.balance_ratio",
        ),
        ("{ base: logistic, max_depth: [4] }", "train.models.bagging.max_depth"),
        ("{ max_depth: [0] }", "train.models.bagging.max_depth"),
        (
            "{ base: mlp, min_samples_leaf: [5] }",
            "train.models.bagging.min_samples_leaf",
        ),
    ] {
        let cfg: TrainConfig = riskpipe_core::yaml::parse("p.yaml", &format!("models:\n  bagging: {bad}\n")).unwrap();
        let errs = cfg.resolve("p.yaml", 1, Target::Binary).unwrap_err();
        assert!(errs.iter().any(|e| e.to_string().contains(key)), "{bad}: {errs:?}");
    }
}
