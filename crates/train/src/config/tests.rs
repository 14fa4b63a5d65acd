//! The `train:` section's checks and expansions.

use super::*;

#[test]
fn class_weight_reaches_the_model_parameters() {
    let yaml = "models:\n  logistic: { l2: [0.01], class_weight: balanced }\n  tree: { max_depth: [3], min_samples_leaf: [10] }\n";
    let cfg: TrainConfig = riskpipe_core::yaml::parse("p.yaml", yaml).unwrap();
    let p = cfg.resolve("p.yaml", 1).unwrap();
    assert!(p.logistic[0].balanced);
    assert!(!p.tree[0].balanced);
    let yaml = "models:\n  forest: { class_weight: balanced }\n  boosting: { class_weight: balanced }\n  mlp: { class_weight: balanced }\n";
    let cfg: TrainConfig = riskpipe_core::yaml::parse("p.yaml", yaml).unwrap();
    let p = cfg.resolve("p.yaml", 1).unwrap();
    assert!(p.forest[0].tree.balanced && p.boosting[0].balanced && p.mlp[0].balanced);
    let cfg: TrainConfig = riskpipe_core::yaml::parse("p.yaml", "models:\n  boosting: {}\n").unwrap();
    assert!(!cfg.resolve("p.yaml", 1).unwrap().boosting[0].balanced);
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
    assert_eq!(cfg.resolve("p.yaml", 1).unwrap().mlp[0].tol, 0.001);
    let cfg: TrainConfig = riskpipe_core::yaml::parse("p.yaml", "models:\n  mlp: { hidden: [[8]] }\n").unwrap();
    assert_eq!(cfg.resolve("p.yaml", 1).unwrap().mlp[0].tol, 1e-4);
    let bad: TrainConfig = riskpipe_core::yaml::parse("p.yaml", "models:\n  mlp: { tol: -1 }\n").unwrap();
    let errs = bad.resolve("p.yaml", 1).unwrap_err();
    assert!(
        errs.iter().any(|e| e.to_string().contains("train.models.mlp.tol")),
        "{errs:?}"
    );
}

#[test]
fn boosting_growth_and_depth_reach_the_model() {
    let yaml = "models:\n  boosting: { growth: depthwise, max_depth: [4, 6], max_leaves: [64] }\n";
    let cfg: TrainConfig = riskpipe_core::yaml::parse("p.yaml", yaml).unwrap();
    let b = cfg.resolve("p.yaml", 1).unwrap().boosting;
    assert_eq!(b.len(), 2);
    assert!(
        b.iter()
            .all(|p| p.growth == riskpipe_models::Growth::Depthwise && p.max_leaves == 64)
    );
    assert_eq!((b[0].max_depth, b[1].max_depth), (4, 6));
    let bad = "models:\n  boosting: { growth: sideways }\n";
    let err = riskpipe_core::yaml::parse::<TrainConfig>("p.yaml", bad)
        .unwrap_err()
        .to_string();
    assert!(err.contains("p.yaml:2:") && err.contains("sideways"), "{err}");
    let cfg: TrainConfig = riskpipe_core::yaml::parse("p.yaml", "models:\n  boosting: { max_depth: [0] }\n").unwrap();
    let errs = cfg.resolve("p.yaml", 1).unwrap_err();
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
        cfg.resolve("p.yaml", 7).unwrap()
    };
    let p = resolve();
    assert!(!p.tree.is_empty() && p.tree.len() <= 4);
    assert!(p.tree.iter().all(|t| (2..=9).contains(&t.max_depth)));
    assert!(p.forest.iter().all(|f| (3..=5).contains(&f.tree.max_depth)));
    assert!(
        p.boosting
            .iter()
            .all(|b| (8..=64).contains(&b.max_leaves) && b.max_depth == 6)
    );
    assert!(
        p.mlp
            .iter()
            .all(|m| (1e-4..=1e-2).contains(&m.learning_rate) && (0.0..=0.5).contains(&m.dropout))
    );
    // The draws differ from one another and repeat for the same seed.
    let leaves: Vec<usize> = p.boosting.iter().map(|b| b.max_leaves).collect();
    assert!(leaves.windows(2).any(|w| w[0] != w[1]), "{leaves:?}");
    assert_eq!(
        leaves,
        resolve().boosting.iter().map(|b| b.max_leaves).collect::<Vec<_>>()
    );
    // A range under grid search is an error naming the key.
    let cfg: TrainConfig =
        riskpipe_core::yaml::parse("p.yaml", "models:\n  tree: { max_depth: { min: 2, max: 4 } }\n").unwrap();
    let errs = cfg.resolve("p.yaml", 1).unwrap_err();
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
        let b = cfg.resolve("p.yaml", 5).unwrap().boosting;
        b.iter().map(|p| (p.learning_rate, p.max_leaves)).collect::<Vec<_>>()
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
