//! Runs riskpipe's anomaly detectors under PyOD's benchmark protocol, for side-by-side runs
//! with PyOD (`bench/anomaly_peers.sh`, whose `bench/anomaly_peers.py` writes the splits and
//! runs PyOD on the same ones).
//!
//! Usage:
//! - `detect_bench odds TABLE.csv SPLITS.json`: TABLE has columns `x1..xN` and `y` (1 =
//!   outlier); SPLITS is a list of training-row index lists. For each split: standardise on the
//!   training rows, fit every detector on them (outliers included, label unseen), score the
//!   other rows (and the variants in `VARIANTS`); prints one JSON line per split and detector
//!   with the test ROC-AUC, and one
//!   per ensemble (mean of its members' rank-normalised scores: train's default members, and
//!   every detector).
//! - `detect_bench speed TABLE.parquet DETECTOR`: fit and score every row of a numeric table
//!   once; prints fit and score seconds (for `kmeans`, k = 8, the inertia goes to stderr).

use std::time::Instant;

use riskpipe_models::{
    Ecod, EcodParams, GaussianMixture, GmmParams, Hbos, HbosParams, IsolationForest, IsolationForestParams, KMeans,
    KMeansParams, Knn, Lof, NeighbourParams, PcaDetector, PcaParams, PcaScore,
};

type Error = Box<dyn std::error::Error>;

/// The detectors compared, by PyOD's names.
const DETECTORS: [&str; 7] = ["iforest", "ecod", "hbos", "gmm", "knn", "lof", "pca"];

/// Variants scored beside the detectors (not ensemble members): PCA with PyOD's scoring,
/// compared with PyOD's `pca`.
const VARIANTS: [&str; 1] = ["pca_distance"];

/// The ensembles reported (mean of their members' rank-normalised scores): train's default
/// members, and every detector.
const ENSEMBLES: [(&str, &[&str]); 2] = [("ensemble", &["iforest", "hbos", "gmm"]), ("ensemble_all", &DETECTORS)];

fn fit_score(name: &str, names: &[String], train: &[&[f64]], test: &[&[f64]]) -> Result<Vec<f64>, Error> {
    Ok(match name {
        "iforest" => IsolationForest::fit(names, train, &IsolationForestParams::default())?.score(test),
        "ecod" => Ecod::fit(names, train, &EcodParams::default())?.score(test),
        "hbos" => Hbos::fit(names, train, &HbosParams::default())?.score(test),
        "gmm" => GaussianMixture::fit(names, train, &GmmParams::default())?.score(test),
        "knn" => Knn::fit(names, train, &NeighbourParams::knn())?.score(test),
        "lof" => Lof::fit(names, train, &NeighbourParams::lof())?.score(test),
        "pca" => PcaDetector::fit(names, train, &PcaParams::default())?.score(test),
        "pca_distance" => {
            let params = PcaParams {
                score: PcaScore::ComponentDistance,
                ..PcaParams::default()
            };
            PcaDetector::fit(names, train, &params)?.score(test)
        }
        "kmeans" => {
            let m = KMeans::fit(names, train, &KMeansParams::default())?;
            // The objective, for a side-by-side check against scikit-learn's inertia.
            eprintln!("{{\"inertia\": {}, \"iterations\": {}}}", m.inertia, m.iterations);
            m.score(test)
        }
        other => return Err(format!("unknown detector `{other}`").into()),
    })
}

/// Reads a numeric CSV with a header: the feature columns and the `y` column.
fn read_table(path: &str) -> Result<(Vec<Vec<f64>>, Vec<f64>), Error> {
    let text = fs_err::read_to_string(path)?;
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().ok_or("empty table")?.split(',').collect();
    let yi = header.iter().position(|h| *h == "y").ok_or("no `y` column")?;
    let mut cols = vec![Vec::new(); header.len() - 1];
    let mut y = Vec::new();
    for (r, line) in lines.enumerate() {
        for (j, cell) in line.split(',').enumerate() {
            let v: f64 = cell.parse().map_err(|e| format!("row {}: `{cell}`: {e}", r + 1))?;
            match j.cmp(&yi) {
                std::cmp::Ordering::Equal => y.push(v),
                std::cmp::Ordering::Less => cols[j].push(v),
                std::cmp::Ordering::Greater => cols[j - 1].push(v),
            }
        }
    }
    Ok((cols, y))
}

/// Columns standardised with the training rows' mean and (population) standard deviation, as
/// scikit-learn's `StandardScaler` (a constant column is only centred).
fn standardise(cols: &[Vec<f64>], train: &[usize]) -> Vec<Vec<f64>> {
    cols.iter()
        .map(|c| {
            let n = train.len() as f64;
            let mean = train.iter().map(|&i| c[i]).sum::<f64>() / n;
            let var = train.iter().map(|&i| (c[i] - mean) * (c[i] - mean)).sum::<f64>() / n;
            let sd = if var > 0.0 { var.sqrt() } else { 1.0 };
            c.iter().map(|v| (v - mean) / sd).collect()
        })
        .collect()
}

/// Ranks scaled to [0, 1] (ties share their mean rank).
fn rank_normalise(s: &[f64]) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..s.len()).collect();
    idx.sort_by(|a, b| s[*a].total_cmp(&s[*b]));
    let mut r = vec![0.0; s.len()];
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && s[idx[j + 1]] == s[idx[i]] {
            j += 1;
        }
        for &k in &idx[i..=j] {
            r[k] = (i + j) as f64 / 2.0 / (s.len().max(2) - 1) as f64;
        }
        i = j + 1;
    }
    r
}

fn odds(table: &str, splits: &str) -> Result<(), Error> {
    let (cols, y) = read_table(table)?;
    let splits: Vec<Vec<usize>> = serde_json::from_str(&fs_err::read_to_string(splits)?)?;
    let names: Vec<String> = (1..=cols.len()).map(|i| format!("x{i}")).collect();
    let dataset = std::path::Path::new(table)
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("table");
    for (k, train) in splits.iter().enumerate() {
        let mut is_train = vec![false; y.len()];
        train.iter().for_each(|&i| is_train[i] = true);
        let test: Vec<usize> = (0..y.len()).filter(|&i| !is_train[i]).collect();
        let z = standardise(&cols, train);
        let pick =
            |rows: &[usize]| -> Vec<Vec<f64>> { z.iter().map(|c| rows.iter().map(|&i| c[i]).collect()).collect() };
        let (tr, te) = (pick(train), pick(&test));
        let tr_ref: Vec<&[f64]> = tr.iter().map(Vec::as_slice).collect();
        let te_ref: Vec<&[f64]> = te.iter().map(Vec::as_slice).collect();
        let yt: Vec<f64> = test.iter().map(|&i| y[i]).collect();
        let mut ranks = std::collections::BTreeMap::new();
        for d in DETECTORS.into_iter().chain(VARIANTS) {
            let t0 = Instant::now();
            let s = fit_score(d, &names, &tr_ref, &te_ref)?;
            let secs = t0.elapsed().as_secs_f64();
            let auc = riskpipe_core::stats::auc(&yt, &s);
            println!(
                "{{\"tool\": \"riskpipe\", \"dataset\": \"{dataset}\", \"split\": {k}, \"detector\": \"{d}\", \"auc\": {auc:.6}, \"secs\": {secs:.4}}}"
            );
            ranks.insert(d, rank_normalise(&s));
        }
        for (name, members) in ENSEMBLES {
            let mean: Vec<f64> = (0..test.len())
                .map(|i| members.iter().map(|m| ranks[m][i]).sum::<f64>() / members.len() as f64)
                .collect();
            let auc = riskpipe_core::stats::auc(&yt, &mean);
            println!(
                "{{\"tool\": \"riskpipe\", \"dataset\": \"{dataset}\", \"split\": {k}, \"detector\": \"{name}\", \"auc\": {auc:.6}, \"secs\": 0}}"
            );
        }
    }
    Ok(())
}

fn speed(table: &str, detector: &str) -> Result<(), Error> {
    let frame = riskpipe_core::io::read_parquet(std::path::Path::new(table))?;
    let names: Vec<String> = frame.names().to_vec();
    let x = riskpipe_models::feature_columns(&frame, &names)?;
    let t0 = Instant::now();
    let s = fit_score(detector, &names, &x, &x)?;
    let secs = t0.elapsed().as_secs_f64();
    println!(
        "{{\"tool\": \"riskpipe\", \"detector\": \"{detector}\", \"rows\": {}, \"features\": {}, \"fit_score_secs\": {secs:.3}, \"mean_score\": {:.6}}}",
        s.len(),
        names.len(),
        s.iter().sum::<f64>() / s.len() as f64
    );
    Ok(())
}

fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("odds") if args.len() == 4 => odds(&args[2], &args[3]),
        Some("speed") if args.len() == 4 => speed(&args[2], &args[3]),
        _ => Err("usage: detect_bench odds TABLE.csv SPLITS.json | detect_bench speed TABLE.parquet DETECTOR".into()),
    }
}
