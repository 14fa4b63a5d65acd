//! Times one model fit on riskpipe's own matrices, for side-by-side runs with the Python peers
//! (`bench/models_peers.sh`, whose `bench/models_peers.py` does the same for scikit-learn and
//! LightGBM).
//!
//! Usage: `fit_bench RUN_DIR MODEL [N_TREES DEPTH MIN_LEAF]` with MODEL `boosting`, `forest`,
//! `tree`, `logistic` (on the standardised raw features, missing values at the mean),
//! `logistic_woe` (on the WoE features), `mlp` (early stopping) or `mlp_10_epochs` (no early
//! stopping); reads `features/{train,test}.parquet` and
//! `features/transform.json` of a run. Prints one JSON line: fit seconds, prediction rows per
//! second (the best of five passes for boosting) and test AUC, plus, for boosting, the mean
//! tree depth, the mean path length and TreeSHAP rows per second.

use std::path::Path;
use std::time::Instant;

use riskpipe_models::{
    BoostingParams, DecisionTree, ForestParams, GradientBoosting, LogisticParams, LogisticRegression, Model,
    RandomForest, TreeParams, feature_columns,
};

/// Train-split mean and standard deviation of each column (missing values left out), applied to
/// both splits; missing values become 0, the mean.
fn standardise(train: &[Vec<f64>], test: &[Vec<f64>]) -> (Vec<Vec<f64>>, Vec<Vec<f64>>) {
    let mut a = Vec::new();
    let mut b = Vec::new();
    for (tr, te) in train.iter().zip(test) {
        let seen: Vec<f64> = tr.iter().copied().filter(|v| !v.is_nan()).collect();
        let mean = seen.iter().sum::<f64>() / seen.len().max(1) as f64;
        let var = seen.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / seen.len().max(1) as f64;
        let sd = if var > 0.0 { var.sqrt() } else { 1.0 };
        let z = |c: &Vec<f64>| -> Vec<f64> {
            c.iter()
                .map(|v| if v.is_nan() { 0.0 } else { (v - mean) / sd })
                .collect()
        };
        a.push(z(tr));
        b.push(z(te));
    }
    (a, b)
}

fn tree_depth(nodes: &[riskpipe_models::Node]) -> usize {
    let mut stack = vec![(0usize, 0usize)];
    let mut d = 0;
    while let Some((i, k)) = stack.pop() {
        d = d.max(k);
        if let (Some(l), Some(r)) = (nodes[i].left, nodes[i].right) {
            stack.push((l, k + 1));
            stack.push((r, k + 1));
        }
    }
    d
}

/// Fits `model` on the training columns; `arg(i, default)` reads the optional command-line
/// settings (trees, depth, leaf size).
fn fit(
    model: &str,
    names: &[String],
    xtr: &[&[f64]],
    ytr: &[f64],
    arg: &dyn Fn(usize, usize) -> usize,
) -> Result<Model, Box<dyn std::error::Error>> {
    let tree = TreeParams {
        max_depth: arg(4, 8),
        min_samples_leaf: arg(5, 1),
        ..Default::default()
    };
    Ok(match model {
        "forest" => Model::Forest(RandomForest::fit(
            names,
            xtr,
            ytr,
            &ForestParams {
                n_trees: arg(3, 100),
                tree,
                seed: 42,
            },
        )?),
        "boosting" => Model::Boosting(GradientBoosting::fit(
            names,
            xtr,
            ytr,
            &BoostingParams {
                n_trees: arg(3, 300),
                validation_fraction: 0.0,
                early_stopping_rounds: 0,
                ..Default::default()
            },
        )?),
        "tree" => Model::Tree(DecisionTree::fit(names, xtr, ytr, None, &tree)?),
        "mlp" => Model::Mlp(riskpipe_models::Mlp::fit(
            names,
            xtr,
            ytr,
            &riskpipe_models::MlpParams::default(),
        )?),
        // Ten epochs on every training row, no early stopping: the same work on both sides.
        "mlp_10_epochs" => Model::Mlp(riskpipe_models::Mlp::fit(
            names,
            xtr,
            ytr,
            &riskpipe_models::MlpParams {
                max_epochs: 10,
                validation_fraction: 0.0,
                early_stopping_rounds: 0,
                ..Default::default()
            },
        )?),
        "logistic" | "logistic_woe" => Model::Logistic(LogisticRegression::fit(
            names,
            xtr,
            ytr,
            None,
            &LogisticParams::default(),
        )?),
        other => return Err(format!("unknown model `{other}`").into()),
    })
}

/// For boosting: trees, mean depth, mean steps a row takes through a tree (first 10,000 test
/// rows) and TreeSHAP rows per second, as JSON fields.
fn boosting_extras(m: &GradientBoosting, fitted: &Model, xte: &[&[f64]]) -> String {
    // Steps a row takes through a tree on average (first 10,000 test rows).
    let walked = 10_000.min(xte[0].len());
    let mut steps = 0usize;
    for r in 0..walked {
        for t in &m.trees {
            let mut i = 0;
            while let (Some(f), Some(th), Some(l), Some(rr)) = (t[i].feature, t[i].threshold, t[i].left, t[i].right) {
                let v = xte[f][r];
                i = if v <= th || (v.is_nan() && t[i].missing_left) {
                    l
                } else {
                    rr
                };
                steps += 1;
            }
        }
    }
    let k = xte[0].len().min(2000);
    let sample: Vec<&[f64]> = xte.iter().map(|c| &c[..k]).collect();
    let ts = Instant::now();
    let _ = fitted.contributions(&sample);
    format!(
        ", \"trees\": {}, \"mean_tree_depth\": {:.2}, \"mean_path_steps\": {:.2}, \"treeshap_rows_per_sec\": {:.0}",
        m.trees.len(),
        m.trees.iter().map(|t| tree_depth(t) as f64).sum::<f64>() / m.trees.len() as f64,
        steps as f64 / (walked * m.trees.len()) as f64,
        k as f64 / ts.elapsed().as_secs_f64()
    )
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        return Err(
            "usage: fit_bench RUN_DIR boosting|forest|tree|logistic|logistic_woe|mlp|mlp_10_epochs [N_TREES DEPTH MIN_LEAF]".into(),
        );
    }
    let run = Path::new(&args[1]);
    let model = args[2].as_str();
    let arg = |i: usize, d: usize| args.get(i).and_then(|v| v.parse().ok()).unwrap_or(d);
    let t: serde_json::Value = serde_json::from_slice(&fs_err::read(run.join("features/transform.json"))?)?;
    let target = t["target"].as_str().unwrap_or_default().to_string();
    let key = if model == "logistic_woe" {
        "woe_features"
    } else {
        "raw_features"
    };
    let names: Vec<String> = t[key]
        .as_array()
        .ok_or("transform.json lacks feature lists")?
        .iter()
        .filter_map(|v| v.as_str().map(String::from))
        .collect();
    let train = riskpipe_core::io::read_parquet(&run.join("features/train.parquet"))?;
    let test = riskpipe_core::io::read_parquet(&run.join("features/test.parquet"))?;
    let (ytr, yte) = (
        train.number(&target).ok_or("no target")?,
        test.number(&target).ok_or("no target")?,
    );
    let (mut xtr_own, mut xte_own) = (Vec::new(), Vec::new());
    if model == "logistic" {
        let own = |f: &riskpipe_core::Frame| -> Result<Vec<Vec<f64>>, Box<dyn std::error::Error>> {
            Ok(feature_columns(f, &names)?.iter().map(|c| c.to_vec()).collect())
        };
        (xtr_own, xte_own) = standardise(&own(&train)?, &own(&test)?);
    }
    let (xtr, xte): (Vec<&[f64]>, Vec<&[f64]>) = if model == "logistic" {
        (
            xtr_own.iter().map(|c| c.as_slice()).collect(),
            xte_own.iter().map(|c| c.as_slice()).collect(),
        )
    } else {
        (feature_columns(&train, &names)?, feature_columns(&test, &names)?)
    };
    let t0 = Instant::now();
    let fitted = fit(model, &names, &xtr, ytr, &arg)?;
    let fit_secs = t0.elapsed().as_secs_f64();
    // Prediction: the best of five passes over the test rows for boosting, one pass otherwise.
    let mut predict_secs = f64::INFINITY;
    let mut p = Vec::new();
    for _ in 0..if model == "boosting" { 5 } else { 1 } {
        let tp = Instant::now();
        p = fitted.predict(&xte);
        predict_secs = predict_secs.min(tp.elapsed().as_secs_f64());
    }
    let auc = riskpipe_core::stats::auc(yte, &p);
    let mut line = format!(
        "{{\"tool\": \"riskpipe\", \"model\": \"{model}\", \"train_rows\": {}, \"features\": {}, \"fit_secs\": {fit_secs:.3}, \"predict_rows_per_sec\": {:.0}, \"test_auc\": {auc:.4}",
        ytr.len(),
        names.len(),
        yte.len() as f64 / predict_secs
    );
    if let Model::Boosting(m) = &fitted {
        line += &boosting_extras(m, &fitted, &xte);
    }
    if let Model::Mlp(m) = &fitted {
        // Without a validation split every epoch runs.
        let epochs = if m.params.validation_fraction > 0.0 {
            m.validation_log_loss.len()
        } else {
            m.params.max_epochs
        };
        line += &format!(", \"epochs\": {epochs}");
        if std::env::var_os("FIT_BENCH_VERBOSE").is_some() {
            eprintln!("validation log loss per epoch: {:?}", m.validation_log_loss);
        }
    }
    println!("{line}}}");
    Ok(())
}
