//! Evaluation of a task without a target: every detector and the ensemble scored on train and
//! test rows, the flag threshold from `contamination` or the review budget (chosen on the
//! training rows), ranking metrics against the evaluation label when there is one, per planted
//! kind on generated data, score distributions and the top test rows with their reasons.
//! Writes `metrics.json`, `predictions.parquet`, `curves.parquet` and `report.html`.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use riskpipe_core::io::{read_json, read_parquet, write_atomic, write_json, write_parquet};
use riskpipe_core::names::{PREDICTION_PREFIX, ROW, detector_feature};
use riskpipe_core::stage::{StageInputs, StageReport};
use riskpipe_core::{Column, Error, Frame, Result};
use riskpipe_models::{Model, feature_columns};

use crate::artifacts::{AnomalyMetrics, DetectorMetrics, RankMetrics, Reason, Spread, TopRow};
use crate::config::EvaluateParams;

fn spread(v: &[f64]) -> Spread {
    let mut s: Vec<f64> = v.to_vec();
    s.sort_by(f64::total_cmp);
    let at = |q: f64| {
        s.get(((s.len().max(1) - 1) as f64 * q).round() as usize)
            .copied()
            .unwrap_or(f64::NAN)
    };
    Spread {
        min: at(0.0),
        p50: at(0.5),
        p90: at(0.9),
        p99: at(0.99),
        max: at(1.0),
    }
}

/// Ranking metrics on the rows whose label is known.
fn rank_metrics(label: &[f64], score: &[f64], share: f64) -> Option<RankMetrics> {
    let (y, s): (Vec<f64>, Vec<f64>) = label
        .iter()
        .zip(score)
        .filter(|(l, _)| !l.is_nan())
        .map(|(l, s)| (*l, *s))
        .unzip();
    let positives = y.iter().filter(|v| **v > 0.5).count();
    if positives == 0 || positives == y.len() {
        return None;
    }
    let k = ((share * y.len() as f64).ceil() as usize).clamp(1, y.len());
    let order = riskpipe_metrics::order_desc(&s);
    let hits = order[..k].iter().filter(|&&i| y[i] > 0.5).count();
    Some(RankMetrics {
        rows: y.len() as u64,
        positives: positives as u64,
        auc: riskpipe_metrics::auc(&y, &s),
        average_precision: riskpipe_metrics::pr_auc(&y, &s),
        budget_rows: k as u64,
        precision_at_budget: hits as f64 / k as f64,
        recall_at_budget: hits as f64 / positives as f64,
    })
}

/// The selection train wrote for a task without a target.
#[derive(Debug, Deserialize)]
struct DetectorSelection {
    selected: String,
    #[serde(default)]
    detectors: Vec<String>,
}

/// Runs the stage for a task without a target.
pub fn run(params: &EvaluateParams, inputs: &StageInputs, out: &Path) -> Result<StageReport> {
    let train = read_parquet(&inputs.artifact("features/train.parquet")?)?;
    let test = read_parquet(&inputs.artifact("features/test.parquet")?)?;
    let transform: riskpipe_features::Transform = read_json(&inputs.artifact("features/transform.json")?)?;
    let selection: DetectorSelection = read_json(&inputs.artifact("train/selection.json")?)?;
    let share = params
        .threshold
        .flag_share()
        .ok_or_else(|| Error::Internal("a detector's flag rule has no share".into()))?;
    let label = transform.label.clone();
    let y_test: Option<&[f64]> = label.as_deref().and_then(|l| test.number(l));
    let mut names = selection.detectors.clone();
    names.push(selection.selected.clone());
    let mut preds = Frame::new();
    preds.push(
        ROW,
        test.get(ROW)
            .cloned()
            .unwrap_or(Column::Number(vec![f64::NAN; test.rows()])),
    );
    if let (Some(l), Some(y)) = (&label, y_test) {
        preds.push(l.clone(), Column::Number(y.to_vec()));
    }
    let mut detectors = BTreeMap::new();
    let mut curves: Vec<(String, &'static str, Vec<(f64, f64)>)> = Vec::new();
    let mut scores: BTreeMap<String, (Vec<f64>, Vec<f64>)> = BTreeMap::new();
    let mut ensemble: Option<Model> = None;
    for name in &names {
        let model: Model = read_json(&inputs.artifact(&format!("train/{name}.json"))?)?;
        let str_ = model.predict_frame(&train)?;
        let ste = model.predict_frame(&test)?;
        let threshold = params.threshold.choose(&[], &str_);
        let flagged = ste.iter().filter(|s| **s >= threshold).count();
        let label_metrics = y_test.and_then(|y| rank_metrics(y, &ste, share));
        if let (Some(y), Some(_)) = (y_test, &label_metrics) {
            let (yy, ss): (Vec<f64>, Vec<f64>) = y
                .iter()
                .zip(&ste)
                .filter(|(l, _)| !l.is_nan())
                .map(|(l, s)| (*l, *s))
                .unzip();
            curves.push((
                name.clone(),
                "roc",
                riskpipe_metrics::roc_points(&yy, &ss, params.roc_points),
            ));
            curves.push((
                name.clone(),
                "pr",
                riskpipe_metrics::pr_points(&yy, &ss, params.roc_points),
            ));
        }
        detectors.insert(
            name.clone(),
            DetectorMetrics {
                threshold,
                flagged_share_test: flagged as f64 / ste.len().max(1) as f64,
                train: spread(&str_),
                test: spread(&ste),
                label: label_metrics,
            },
        );
        preds.push(format!("{PREDICTION_PREFIX}{name}"), Column::Number(ste.clone()));
        if *name == selection.selected {
            let t = threshold;
            preds.push(
                riskpipe_core::names::IS_FLAGGED,
                Column::Number(ste.iter().map(|s| f64::from(u8::from(*s >= t))).collect()),
            );
            ensemble = Some(model);
        }
        scores.insert(name.clone(), (str_, ste));
    }
    let ensemble = ensemble.ok_or_else(|| Error::Internal("no ensemble among the detectors".into()))?;
    let by_kind = match inputs.optional("ingest/truth.parquet") {
        Some(p) => by_kind(&read_parquet(&p)?, &test, &scores),
        None => BTreeMap::new(),
    };
    let top = top_rows(params, inputs, &test, &ensemble, &scores[&selection.selected].1, y_test)?;
    let metrics = AnomalyMetrics {
        task: params.task,
        label,
        selected_model: selection.selected.clone(),
        rule: params.threshold,
        flag_share: share,
        detectors,
        by_kind,
        top,
    };
    write_json(&out.join("metrics.json"), &metrics)?;
    write_parquet(&out.join("predictions.parquet"), &preds)?;
    write_parquet(&out.join("curves.parquet"), &curves_frame(&curves))?;
    let html = crate::anomaly_report::render(params, &metrics, &scores, y_test, &curves);
    write_atomic(&out.join("report.html"), html.as_bytes())?;
    let sel = &metrics.detectors[&selection.selected];
    Ok(StageReport {
        rows_in: (train.rows() + test.rows()) as u64,
        rows_out: test.rows() as u64,
        summary: match &sel.label {
            Some(l) => format!(
                "ensemble of {} detectors: test AUC {:.4}, average precision {:.4}, precision {:.3} at the budget of {} rows",
                selection.detectors.len(),
                l.auc,
                l.average_precision,
                l.precision_at_budget,
                l.budget_rows
            ),
            None => format!(
                "ensemble of {} detectors: {:.2}% of test rows flagged (no label to evaluate against)",
                selection.detectors.len(),
                100.0 * sel.flagged_share_test
            ),
        },
        ..StageReport::default()
    })
}

/// ROC AUC per planted kind and detector: the kind's test rows against the normal ones.
fn by_kind(
    truth: &Frame,
    test: &Frame,
    scores: &BTreeMap<String, (Vec<f64>, Vec<f64>)>,
) -> BTreeMap<String, BTreeMap<String, f64>> {
    let (Some(ids), Some(Column::Text(kinds)), Some(rows)) =
        (truth.get("account_id"), truth.get("anomaly_kind"), test.get(ROW))
    else {
        return BTreeMap::new();
    };
    let kind_of: BTreeMap<String, String> = (0..truth.rows())
        .filter_map(|i| Some((ids.display(i)?, kinds[i].clone()?)))
        .collect();
    let test_kind: Vec<Option<&String>> = (0..test.rows())
        .map(|i| rows.display(i).and_then(|k| kind_of.get(&k)))
        .collect();
    let mut all: Vec<&str> = kinds
        .iter()
        .flatten()
        .map(String::as_str)
        .filter(|k| *k != "normal")
        .collect();
    all.sort_unstable();
    all.dedup();
    let mut out = BTreeMap::new();
    for kind in all {
        let idx: Vec<usize> = (0..test.rows())
            .filter(|&i| test_kind[i].is_some_and(|k| k == "normal" || k == kind))
            .collect();
        let y: Vec<f64> = idx
            .iter()
            .map(|&i| f64::from(u8::from(test_kind[i].is_some_and(|k| k == kind))))
            .collect();
        if !y.iter().any(|v| *v > 0.5) || y.iter().all(|v| *v > 0.5) {
            continue;
        }
        let per: BTreeMap<String, f64> = scores
            .iter()
            .map(|(name, (_, s))| {
                let ss: Vec<f64> = idx.iter().map(|&i| s[i]).collect();
                (name.clone(), riskpipe_metrics::auc(&y, &ss))
            })
            .collect();
        out.insert(kind.to_string(), per);
    }
    out
}

/// The `params.top_anomalies` highest-scoring test rows, with the features that made each
/// unusual and their (masked) values.
fn top_rows(
    params: &EvaluateParams,
    inputs: &StageInputs,
    test: &Frame,
    ensemble: &Model,
    score: &[f64],
    label: Option<&[f64]>,
) -> Result<Vec<TopRow>> {
    let order = riskpipe_metrics::order_desc(score);
    let top: Vec<usize> = order.into_iter().take(params.top_anomalies).collect();
    let picked = test.take(&top);
    let cols = feature_columns(&picked, ensemble.features())?;
    let parts = ensemble.explain(&cols).unwrap_or_default();
    // The masked source values of the test rows, in test order.
    let raw = read_parquet(&inputs.artifact("privacy/data.parquet")?)?;
    let split = read_parquet(&inputs.artifact("features/split.parquet")?)?;
    let test_idx: Vec<usize> = match split.get(riskpipe_core::names::SPLIT) {
        Some(Column::Text(v)) => (0..v.len()).filter(|&i| v[i].as_deref() == Some("test")).collect(),
        _ => return Err(Error::Internal("split.parquet has no `split` column".into())),
    };
    let raw_top = raw.take(&top.iter().map(|&i| test_idx[i]).collect::<Vec<_>>());
    let rows = test.get(ROW);
    Ok(top
        .iter()
        .enumerate()
        .map(|(k, &i)| {
            let mut by: BTreeMap<&str, f64> = BTreeMap::new();
            for (c, v) in ensemble
                .features()
                .iter()
                .zip(parts.get(k).map(Vec::as_slice).unwrap_or(&[]))
            {
                *by.entry(detector_feature(c)).or_insert(0.0) += v.max(0.0);
            }
            let total: f64 = by.values().sum::<f64>().max(1e-300);
            let mut reasons: Vec<Reason> = by
                .into_iter()
                .map(|(f, v)| Reason {
                    feature: f.to_string(),
                    value: raw_top
                        .get(f)
                        .and_then(|c| c.display(k))
                        .unwrap_or_else(|| "missing".into()),
                    share: v / total,
                })
                .collect();
            reasons.sort_by(|a, b| b.share.total_cmp(&a.share).then(a.feature.cmp(&b.feature)));
            reasons.truncate(3);
            TopRow {
                row: rows.and_then(|r| r.display(i)).unwrap_or_default(),
                score: score[i],
                label: label.map(|l| l[i]).filter(|v| !v.is_nan()),
                reasons,
            }
        })
        .collect())
}

/// `curves.parquet`: model, curve (`roc` or `pr`), x and y.
fn curves_frame(curves: &[(String, &'static str, Vec<(f64, f64)>)]) -> Frame {
    let (mut model, mut curve, mut x, mut y) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (m, c, pts) in curves {
        for (a, b) in pts {
            model.push(Some(m.clone()));
            curve.push(Some(c.to_string()));
            x.push(*a);
            y.push(*b);
        }
    }
    let mut f = Frame::new();
    f.push("model", Column::Text(model));
    f.push("curve", Column::Text(curve));
    f.push("x", Column::Number(x));
    f.push("y", Column::Number(y));
    f
}
