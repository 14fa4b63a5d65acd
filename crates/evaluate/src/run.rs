//! The evaluate stage: metrics on train and test, threshold, report.

use std::collections::BTreeMap;
use std::path::Path;

use riskpipe_core::io::{read_json, read_parquet, write_atomic, write_json, write_parquet};
use riskpipe_core::stage::{Input, StageInputs, StageReport};
use riskpipe_core::{Column, Error, Frame, Result};
use riskpipe_metrics::{binary_metrics, classification_report};
use riskpipe_models::Model;

use crate::artifacts::{CalibrationMetrics, CalibrationRow, MetricsFile, ModelMetrics, Oracle, ScorecardCheck};
use crate::config::EvaluateParams;
use crate::report::render_html;

/// Mid-ranks of `v` (ties share their mean rank).
fn ranks(v: &[f64]) -> Vec<f64> {
    let order = riskpipe_metrics::order_desc(v);
    let mut r = vec![0.0; v.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && v[order[j + 1]] == v[order[i]] {
            j += 1;
        }
        let mid = (i + j) as f64 / 2.0;
        for &k in &order[i..=j] {
            r[k] = mid;
        }
        i = j + 1;
    }
    r
}

/// Pearson correlation of two equal-length columns.
fn pearson(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len().max(1) as f64;
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        sab += (x - ma) * (y - mb);
        saa += (x - ma) * (x - ma);
        sbb += (y - mb) * (y - mb);
    }
    if saa > 0.0 && sbb > 0.0 {
        sab / (saa * sbb).sqrt()
    } else {
        0.0
    }
}

/// Scores the test rows with the scorecard's integer points (looked up from their WoE values:
/// a bin's points are a function of its WoE, so equal WoE means equal points) and compares the
/// ranking with the logistic model's. A WoE value no bin has is a bug, never a neutral guess.
fn scorecard_check(
    sc: &riskpipe_features::Scorecard,
    test: &Frame,
    y: &[f64],
    p_model: &[f64],
) -> Result<ScorecardCheck> {
    let n = test.rows();
    let mut points = vec![0.0f64; n];
    for f in &sc.features {
        let col = format!("{}{}", riskpipe_features::WOE_PREFIX, f.feature);
        let woe = test
            .number(&col)
            .ok_or_else(|| Error::Internal(format!("the test matrix has no `{col}` for the scorecard")))?;
        let table: Vec<(u64, i64)> = f
            .bins
            .iter()
            .chain(f.missing.iter())
            .chain(f.specials.iter().map(|s| &s.1))
            .map(|b| (b.woe.to_bits(), b.points))
            .chain([(0.0f64.to_bits(), f.neutral_points)])
            .collect();
        for (i, (pt, w)) in points.iter_mut().zip(woe).enumerate() {
            let Some(t) = table.iter().find(|t| t.0 == w.to_bits()) else {
                return Err(Error::Internal(format!(
                    "test row {}: `{col}` = {w} is the WoE of no bin of the scorecard",
                    i + 1
                )));
            };
            *pt += t.1 as f64;
        }
    }
    let risk_points: Vec<f64> = points.iter().map(|p| -p).collect();
    let good_logit: Vec<f64> = p_model
        .iter()
        .map(|p| {
            let p = p.clamp(1e-12, 1.0 - 1e-12);
            ((1.0 - p) / p).ln()
        })
        .collect();
    Ok(ScorecardCheck {
        score_range: (sc.min_score, sc.max_score),
        auc_points: riskpipe_metrics::auc(y, &risk_points),
        auc_model: riskpipe_metrics::auc(y, p_model),
        spearman: pearson(&ranks(&points), &ranks(&good_logit)),
    })
}

/// The calibration table of probabilities `p`, calibrated `q` and labels `y`.
fn calibration_metrics(method: &str, model: &str, y: &[f64], p: &[f64], q: &[f64]) -> CalibrationMetrics {
    let order = riskpipe_metrics::order_desc(p);
    let n = order.len();
    let table = (0..10)
        .filter_map(|b| {
            let (lo, hi) = (b * n / 10, (b + 1) * n / 10);
            (hi > lo).then(|| {
                let rows = &order[lo..hi];
                let m = rows.len() as f64;
                CalibrationRow {
                    band: b + 1,
                    rows: rows.len() as u64,
                    mean_pd: rows.iter().map(|&i| p[i]).sum::<f64>() / m,
                    mean_calibrated_pd: rows.iter().map(|&i| q[i]).sum::<f64>() / m,
                    default_rate: rows.iter().map(|&i| y[i]).sum::<f64>() / m,
                }
            })
        })
        .collect();
    let (a, b) = (binary_metrics(y, p), binary_metrics(y, q));
    CalibrationMetrics {
        method: method.to_string(),
        model: model.to_string(),
        brier: (a.brier, b.brier),
        log_loss: (a.log_loss, b.log_loss),
        table,
    }
}

/// The files the stage reads.
pub fn inputs(params: &EvaluateParams) -> Vec<Input> {
    let mut v = vec![
        Input::Artifact("features/train.parquet".into()),
        Input::Artifact("features/test.parquet".into()),
        Input::Artifact("features/transform.json".into()),
        Input::Artifact("train/selection.json".into()),
        Input::OptionalArtifact("train/calibration.json".into()),
        Input::OptionalArtifact("train/scorecard.json".into()),
        Input::OptionalArtifact(format!("train/{}", riskpipe_train::SEED_MODELS)),
        Input::Artifact("features/report.json".into()),
        Input::OptionalArtifact("ingest/truth.parquet".into()),
        Input::Artifact("ingest/source.json".into()),
        Input::Artifact("ingest/quality.json".into()),
        Input::Artifact("privacy/report.json".into()),
    ];
    v.extend(riskpipe_models::Family::ALL.map(|m| Input::OptionalArtifact(format!("train/{}.json", m.name()))));
    if params.task.target() == riskpipe_core::Target::None {
        // The detectors' ensemble, and the masked source values the top anomalies show.
        v.push(Input::Artifact(format!("train/{}.json", riskpipe_train::ENSEMBLE)));
        v.push(Input::Artifact("privacy/data.parquet".into()));
        v.push(Input::Artifact("features/split.parquet".into()));
    } else if let Some(b) = &params.book {
        v.extend(crate::portfolio::INPUTS.map(|p| Input::Artifact(p.into())));
        // The seal lists every file of the PD bundle with its hash.
        v.push(Input::External(
            b.pd_bundle.join(riskpipe_scoring::SEAL_FILE),
            "loss.pd_bundle",
        ));
    }
    if params.anonymity_cost.is_some() {
        v.extend(crate::anonymity_cost::inputs());
    }
    if params.task.target() != riskpipe_core::Target::None
        && (!params.protected.is_empty() || params.robustness.is_some())
    {
        v.push(Input::Artifact("privacy/data.parquet".into()));
        v.push(Input::Artifact("features/split.parquet".into()));
    }
    v
}

/// Runs the stage into `out`: `metrics.json`, `predictions.parquet`, `report.html`.
pub fn run(params: &EvaluateParams, inputs: &StageInputs, out: &Path) -> Result<StageReport> {
    // A task without a target is evaluated as detection: ranking against the label, if any.
    if params.task.target() == riskpipe_core::Target::None {
        return crate::anomaly::run(params, inputs, out);
    }
    // A continuous target is evaluated as regression.
    if params.task.target() == riskpipe_core::Target::Continuous {
        return crate::regression::run(params, inputs, out);
    }
    let crate::predict::Inputs {
        train,
        test,
        transform,
        target,
        ytr,
        yte,
        selection,
    } = crate::predict::Inputs::load(inputs)?;
    let (ytr, yte) = (ytr.as_slice(), yte.as_slice());
    let mut models = BTreeMap::new();
    let mut preds = crate::predict::Inputs::predictions_of(&test, &target, yte);
    let mut curves = Vec::new();
    let mut pr_curves = Vec::new();
    let mut scores: BTreeMap<String, (Vec<f64>, Vec<f64>)> = BTreeMap::new();
    let mut loaded: BTreeMap<String, Model> = BTreeMap::new();
    let mut fraud = BTreeMap::new();
    for name in selection.cv_auc.keys() {
        let (model, ptr, pte) = crate::predict::predict_parts(inputs, name, &train, &test, "a PD")?;
        let threshold = params.threshold.choose(ytr, &ptr);
        curves.push((name.clone(), riskpipe_metrics::roc_points(yte, &pte, params.roc_points)));
        pr_curves.push((name.clone(), riskpipe_metrics::pr_points(yte, &pte, params.roc_points)));
        models.insert(
            name.clone(),
            ModelMetrics {
                train: binary_metrics(ytr, &ptr),
                test: binary_metrics(yte, &pte),
                cv_auc: selection.cv_auc.get(name).copied(),
                threshold,
                classification_report: classification_report(yte, &pte, threshold),
            },
        );
        preds.push(
            format!("{}{name}", riskpipe_core::names::PREDICTION_PREFIX),
            Column::Number(pte.clone()),
        );
        if let Some(mut f) = crate::fraud::fraud_metrics(&test, yte, &pte) {
            if let Some(cost) = &params.alert_cost {
                f.alerts = crate::fraud::alert_plan(cost, (&train, ytr, &ptr), (&test, yte, &pte))?;
            }
            fraud.insert(name.clone(), f);
        }
        scores.insert(name.clone(), (ptr, pte));
        loaded.insert(name.clone(), model);
    }

    let oracle = match inputs.optional("ingest/truth.parquet") {
        Some(p) => {
            let truth = read_parquet(&p)?;
            oracle_on(&truth, &test, yte)
        }
        None => None,
    };
    let calibration = match inputs.optional("train/calibration.json") {
        Some(path) => {
            let c: riskpipe_train::CalibrationFile = read_json(&path)?;
            let p = &scores
                .get(&c.model)
                .ok_or_else(|| Error::Internal(format!("calibration.json names the unknown model `{}`", c.model)))?
                .1;
            let q: Vec<f64> = p.iter().map(|v| c.calibrator.apply(*v)).collect();
            let m = calibration_metrics(c.calibrator.method(), &c.model, yte, p, &q);
            preds.push("pd_calibrated", Column::Number(q));
            Some(m)
        }
        None => None,
    };
    // The scorecard train built from the logistic model, when one was fitted.
    let card: Option<riskpipe_features::Scorecard> = match loaded.get("logistic").and_then(Model::logistic) {
        Some(_) => Some(read_json(&inputs.artifact("train/scorecard.json")?)?),
        None => None,
    };
    let scorecard = match &card {
        Some(sc) => Some(scorecard_check(sc, &test, yte, &scores["logistic"].1)?),
        None => None,
    };
    // Stress scenarios: the fitted models on stressed test rows.
    let mut timings = BTreeMap::new();
    let robustness = match &params.robustness {
        Some(r) => {
            let unstressed: BTreeMap<String, Vec<f64>> = scores.iter().map(|(k, v)| (k.clone(), v.1.clone())).collect();
            let train_scores: BTreeMap<String, Vec<f64>> =
                scores.iter().map(|(k, v)| (k.clone(), v.0.clone())).collect();
            let fitted = crate::robustness::Fitted {
                models: &loaded,
                selected: &selection.selected,
                yte,
                unstressed: &unstressed,
                train_scores: &train_scores,
            };
            let (result, secs) = crate::robustness::assess(r, inputs, &transform, &fitted, params.seed)?;
            timings.extend(secs);
            Some(result)
        }
        None => None,
    };
    let seed_stability = match inputs.optional(&format!("train/{}", riskpipe_train::SEED_MODELS)) {
        Some(p) => {
            let refits: riskpipe_train::SeedModels = read_json(&p)?;
            let model = loaded.get(&refits.model).ok_or_else(|| {
                Error::Internal(format!("seed_models.json names the unknown model `{}`", refits.model))
            })?;
            Some(crate::robustness::seed_stability(
                (&refits.model, model),
                &refits,
                &train,
                &test,
                yte,
            )?)
        }
        None => None,
    };
    let anonymity_cost = match &params.anonymity_cost {
        Some(c) => {
            let auc = models[&selection.selected].test.auc;
            let (cost, secs) = crate::anonymity_cost::measure(c, &selection.selected, auc, inputs, out)?;
            timings.insert("anonymity_cost.refit_secs".into(), secs);
            Some(cost)
        }
        None => None,
    };
    let metrics = MetricsFile {
        anonymity_cost,
        seed_stability,
        robustness,
        scorecard,
        calibration,
        task: params.task,
        target,
        selected_model: selection.selected.clone(),
        models,
        oracle,
        fraud,
        cv_metric: selection.metric.clone().filter(|m| m != "auc"),
    };
    write_json(&out.join("metrics.json"), &metrics)?;
    write_parquet(&out.join("predictions.parquet"), &preds)?;
    let t_report = std::time::Instant::now();
    let figures = crate::figures::build(crate::figures::Inputs {
        params,
        inputs,
        metrics: &metrics,
        train: &train,
        test: &test,
        scores: &scores,
        models: &loaded,
        transform,
        scorecard: card,
        roc: curves,
        pr: pr_curves,
    })?;
    write_parquet(&out.join("curves.parquet"), &figures.curves_frame())?;
    write_parquet(&out.join("binning.parquet"), &figures.binning_frame())?;
    write_atomic(&out.join("report.html"), render_html(&metrics, &figures).as_bytes())?;
    let report_secs = t_report.elapsed().as_secs_f64();
    let sel = &metrics.models[&selection.selected].test;
    Ok(StageReport {
        rows_in: (train.rows() + test.rows()) as u64,
        rows_out: test.rows() as u64,
        summary: format!(
            "selected {} test AUC {:.4} KS {:.4} Gini {:.4}; report figures {:.2} s",
            selection.selected, sel.auc, sel.ks, sel.gini, report_secs
        ),
        timings,
    })
}

/// AUC/KS/Gini of the true PD on the test rows (matched by the `row` id).
fn oracle_on(truth: &Frame, test: &Frame, y: &[f64]) -> Option<Oracle> {
    let ids = truth.get("id")?;
    let pd = truth.number("true_pd")?;
    let map: BTreeMap<String, f64> = (0..truth.rows())
        .filter_map(|i| ids.display(i).map(|k| (k, pd[i])))
        .collect();
    let rows = test.get("row")?;
    let p: Option<Vec<f64>> = (0..test.rows())
        .map(|i| rows.display(i).and_then(|k| map.get(&k).copied()))
        .collect();
    let p = p?;
    let auc = riskpipe_metrics::auc(y, &p);
    Some(Oracle {
        auc,
        ks: riskpipe_metrics::ks(y, &p),
        gini: 2.0 * auc - 1.0,
    })
}
