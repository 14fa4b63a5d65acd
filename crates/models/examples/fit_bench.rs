//! Times one model fit on riskpipe's own matrices, for side-by-side runs with the Python peers
//! (`bench/models_peers.sh`).
//!
//! Usage: `fit_bench RUN_DIR MODEL [N_TREES DEPTH MIN_LEAF]` with MODEL `forest`, `boosting`, `tree`
//! or `logistic`; reads `features/{train,test}.parquet` and `features/transform.json` of a run.

use std::path::Path;
use std::time::Instant;

use riskpipe_models::{
    BoostingParams, DecisionTree, ForestParams, GradientBoosting, LogisticParams, LogisticRegression, RandomForest,
    TreeParams, feature_columns,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        return Err("usage: fit_bench RUN_DIR forest|boosting|tree|logistic|mlp [N_TREES DEPTH MIN_LEAF]".into());
    }
    let run = Path::new(&args[1]);
    let arg = |i: usize, d: usize| args.get(i).and_then(|v| v.parse().ok()).unwrap_or(d);
    let t: serde_json::Value = serde_json::from_slice(&fs_err::read(run.join("features/transform.json"))?)?;
    let target = t["target"].as_str().unwrap_or_default().to_string();
    let key = if args[2] == "logistic" {
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
    let (xtr, xte) = (feature_columns(&train, &names)?, feature_columns(&test, &names)?);
    let tree = TreeParams {
        max_depth: arg(4, 8),
        min_samples_leaf: arg(5, 1),
        ..Default::default()
    };
    let t0 = Instant::now();
    let p = match args[2].as_str() {
        "forest" => RandomForest::fit(
            &names,
            &xtr,
            ytr,
            &ForestParams {
                n_trees: arg(3, 20),
                tree,
                seed: 42,
            },
        )?
        .predict_proba(&xte),
        "boosting" => {
            let m = GradientBoosting::fit(
                &names,
                &xtr,
                ytr,
                &BoostingParams {
                    n_trees: arg(3, 300),
                    validation_fraction: 0.0,
                    early_stopping_rounds: 0,
                    ..Default::default()
                },
            )?;
            let fit_secs = t0.elapsed().as_secs_f64();
            // Prediction: the best of five passes over the test rows.
            let mut predict_secs = f64::INFINITY;
            let mut p = Vec::new();
            for _ in 0..5 {
                let tp = Instant::now();
                p = m.predict_proba(&xte);
                predict_secs = predict_secs.min(tp.elapsed().as_secs_f64());
            }
            let depth = |nodes: &[riskpipe_models::Node]| {
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
            };
            let mut steps = 0usize;
            // Steps a row takes through a tree on average (first 10,000 test rows).
            let walked = 10_000.min(xte[0].len());
            for r in 0..walked {
                for t in &m.trees {
                    let mut i = 0;
                    while let (Some(f), Some(th), Some(l), Some(rr)) =
                        (t[i].feature, t[i].threshold, t[i].left, t[i].right)
                    {
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
            let mean_path = steps as f64 / (walked * m.trees.len()) as f64;
            let mean_depth = m.trees.iter().map(|t| depth(t) as f64).sum::<f64>() / m.trees.len() as f64;
            let k = xte[0].len().min(2000);
            let sample: Vec<&[f64]> = xte.iter().map(|c| &c[..k]).collect();
            let ts = Instant::now();
            let _ = riskpipe_models::Model::Boosting(m.clone()).contributions(&sample);
            println!(
                "{{\"model\": \"boosting\", \"treeshap_rows_per_sec\": {:.0}}}",
                k as f64 / ts.elapsed().as_secs_f64()
            );
            println!(
                "{{\"model\": \"boosting\", \"fit_secs\": {:.3}, \"trees\": {}, \"mean_tree_depth\": {mean_depth:.2}, \"mean_path_steps\": {mean_path:.2}, \"predict_rows_per_sec\": {:.0}}}",
                fit_secs,
                m.trees.len(),
                yte.len() as f64 / predict_secs
            );
            p
        }
        "tree" => DecisionTree::fit(&names, &xtr, ytr, None, &tree)?.predict_proba(&xte),
        "mlp" => {
            let m = riskpipe_models::Mlp::fit(&names, &xtr, ytr, &riskpipe_models::MlpParams::default())?;
            println!("{{\"model\": \"mlp\", \"epochs\": {}}}", m.validation_log_loss.len());
            m.predict_proba(&xte)
        }
        _ => LogisticRegression::fit(&names, &xtr, ytr, None, &LogisticParams::default())?.predict_proba(&xte),
    };
    let secs = t0.elapsed().as_secs_f64();
    let auc = riskpipe_core::stats::auc(yte, &p);
    println!(
        "{{\"model\": \"{}\", \"train_rows\": {}, \"fit_predict_secs\": {secs:.3}, \"test_auc\": {auc:.4}}}",
        args[2],
        ytr.len()
    );
    Ok(())
}
