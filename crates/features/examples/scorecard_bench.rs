//! Times riskpipe's scorecard fit on a Parquet loan book: optimal binning of every feature,
//! WoE transform, selection and the logistic regression, on the first `TRAIN_SHARE` of the
//! rows; then scores the rest. Prints one JSON line (seconds, test AUC, IV per feature).
//! Used by `bench/binning_peers.sh` beside optbinning on the same file.
//!
//! Usage: scorecard_bench BOOK.parquet TARGET [TRAIN_SHARE]

use std::time::Instant;

use riskpipe_core::{Column, Frame};
use riskpipe_features::{FitSpec, OptimalBinner, SelectionParams, Transform, WOE_PREFIX, select};
use riskpipe_models::{LogisticParams, LogisticRegression};

/// Columns that are never features in the generated book.
const SKIP: [&str; 7] = [
    "id",
    "name",
    "national_id",
    "email",
    "phone",
    "postcode",
    "application_date",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        return Err("usage: scorecard_bench BOOK.parquet TARGET [TRAIN_SHARE]".into());
    }
    let share: f64 = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(0.8);
    let t_read = Instant::now();
    let path = std::path::Path::new(&args[1]);
    let target = &args[2];
    // Only the feature columns and the target (not the applicants' names and contacts).
    let wanted: Vec<String> = riskpipe_core::io::parquet_column_kinds(path)?
        .into_iter()
        .filter(|(name, kind)| !SKIP.contains(&name.as_str()) && *kind != riskpipe_core::ColumnKind::Date)
        .map(|(name, _)| name)
        .collect();
    let book = riskpipe_core::io::read_parquet_columns(path, &wanted.iter().map(String::as_str).collect::<Vec<_>>())?;
    let read_secs = t_read.elapsed().as_secs_f64();
    let n = book.rows();
    let cut = (n as f64 * share) as usize;
    let train = book.take(&(0..cut).collect::<Vec<_>>());
    let test = book.take(&(cut..n).collect::<Vec<_>>());
    let columns: Vec<String> = book
        .iter()
        .filter(|(name, c)| *name != target && !SKIP.contains(name) && !matches!(c, Column::Date(_)))
        .map(|(name, _)| name.to_string())
        .collect();
    let t0 = Instant::now();
    // `-999` is the bureau's "no record" code: a bin of its own.
    let binner = OptimalBinner {
        special_values: vec![-999.0],
        ..OptimalBinner::default()
    };
    let spec = FitSpec {
        woe: Some((target.as_str(), &binner)),
        scaling: None,
        categories: riskpipe_features::CategoryEncoding::Frequency,
        cap: (0.0, 1.0),
    };
    let transform = Transform::fit(&train, &columns, &spec)?;
    let t_bin = t0.elapsed().as_secs_f64();
    let woe_train = transform.apply(&train, "train")?;
    let t_woe = t0.elapsed().as_secs_f64();
    let feats: Vec<(String, f64, &[f64])> = transform
        .features
        .iter()
        .map(|f| {
            let col = woe_train.number(&format!("{WOE_PREFIX}{}", f.name)).expect("woe");
            (f.name.clone(), f.binning.as_ref().map_or(0.0, |b| b.iv), col)
        })
        .collect();
    let decisions = select(
        &feats,
        &[],
        &SelectionParams {
            max_correlation: Some(0.8),
            ..SelectionParams::default()
        },
    );
    let t_sel = t0.elapsed().as_secs_f64();
    let kept: Vec<String> = decisions
        .iter()
        .filter(|d| d.kept)
        .map(|d| format!("{WOE_PREFIX}{}", d.feature))
        .collect();
    let x: Vec<&[f64]> = kept.iter().map(|k| woe_train.number(k).expect("kept")).collect();
    let y = train.number(target).ok_or("no target")?;
    let lr = LogisticRegression::fit(&kept, &x, y, None, &LogisticParams::default())?;
    let fit_secs = t0.elapsed().as_secs_f64();
    let woe_test: Frame = transform.apply(&test, "test")?;
    let xt: Vec<&[f64]> = kept.iter().map(|k| woe_test.number(k).expect("kept")).collect();
    let p = lr.predict_proba(&xt);
    let auc = riskpipe_core::stats::auc(test.number(target).ok_or("no target")?, &p);
    // IV without smoothing, from the bins' counts (as optbinning reports it).
    let iv: serde_json::Map<String, serde_json::Value> = transform
        .features
        .iter()
        .filter_map(|f| Some((f, f.binning.as_ref()?)))
        .map(|(f, b)| {
            let all: Vec<(u64, u64)> = b
                .bins
                .iter()
                .chain(b.missing.iter())
                .chain(b.specials.iter().filter_map(|s| s.bin.as_ref()))
                .map(|x| (x.count, x.events))
                .collect();
            let te: u64 = all.iter().map(|a| a.1).sum();
            let tn: u64 = all.iter().map(|a| a.0 - a.1).sum();
            let v: f64 = all
                .iter()
                .filter(|(c, e)| *e > 0 && c > e)
                .map(|(c, e)| {
                    let (g, d) = ((c - e) as f64 / tn as f64, *e as f64 / te as f64);
                    (g - d) * (g / d).ln()
                })
                .sum();
            (f.name.clone(), serde_json::json!((v * 1e6).round() / 1e6))
        })
        .collect();
    println!(
        "{}",
        serde_json::json!({
            "tool": "riskpipe",
            "train_rows": cut,
            "features": columns.len(),
            "kept": kept.len(),
            "read_secs": (read_secs * 1000.0).round() / 1000.0,
            "binning_secs": (t_bin * 1000.0).round() / 1000.0,
            "woe_secs": ((t_woe - t_bin) * 1000.0).round() / 1000.0,
            "selection_secs": ((t_sel - t_woe) * 1000.0).round() / 1000.0,
            "logistic_secs": ((fit_secs - t_sel) * 1000.0).round() / 1000.0,
            "lr_iterations": lr.iterations,
            "fit_secs": (fit_secs * 1000.0).round() / 1000.0,
            "test_auc": (auc * 1e4).round() / 1e4,
            "iv": iv,
        })
    );
    Ok(())
}
