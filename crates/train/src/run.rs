//! The train stage: cross-validated grid search per model, refit on all training rows.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use riskpipe_core::io::{read_json, read_parquet, write_json, write_parquet};
use riskpipe_core::split::{Fold, Periods, folds, kfold, known_compromised, prequential};
use riskpipe_core::stage::{Input, StageInputs, StageReport};
use riskpipe_core::{Column, Error, Frame, Result, Rng};
use riskpipe_metrics::Metric;
use riskpipe_models::{Calibrator, Family, Model, ModelParams, feature_columns};
use riskpipe_scorecard::{Binnings, Scorecard};

use crate::config::{Calibration, TrainParams};
pub use crate::selection::Selection;

/// One grid point's cross-validation result.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GridPoint {
    /// The parameters.
    pub params: serde_json::Value,
    /// AUC on each held-out fold.
    pub fold_auc: Vec<f64>,
    /// Mean of `fold_auc`.
    pub mean_auc: f64,
}

/// `cv.json`: every model's grid and the chosen point.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ModelSearch {
    /// Grid points in order.
    pub grid: Vec<GridPoint>,
    /// Index of the best point.
    pub best: usize,
    /// Its mean CV AUC.
    pub cv_auc: f64,
    /// Out-of-fold predictions of the best point, per training row (for calibration).
    #[serde(skip)]
    pub oof: Vec<f64>,
}

/// `calibration.json`: the selected model's calibration map, fitted on its out-of-fold
/// predictions.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CalibrationFile {
    /// The calibrated model.
    pub model: String,
    /// The map.
    pub calibrator: Calibrator,
    /// Brier score of the out-of-fold predictions before and after calibration.
    pub oof_brier: (f64, f64),
}

/// The matrix columns each model reads, from `transform.json`.
#[derive(Debug, Deserialize)]
struct TransformColumns {
    target: Option<String>,
    raw_features: Vec<String>,
    woe_features: Vec<String>,
    /// Each feature's binning, for the scorecard.
    #[serde(flatten)]
    binnings: Binnings,
    /// The time-aware split's windows (`split: periods`): validation folds over time.
    #[serde(default)]
    periods: Option<Periods>,
}

/// The files the stage reads.
pub fn inputs(_params: &TrainParams) -> Vec<Input> {
    vec![
        Input::Artifact("features/train.parquet".into()),
        Input::Artifact("features/transform.json".into()),
        Input::Artifact("features/report.json".into()),
    ]
}

/// The part of the features stage's `report.json` that explains an empty feature list.
#[derive(Debug, Default, Deserialize)]
struct SelectionReport {
    #[serde(default)]
    selection: Vec<SelectionDecision>,
}

#[derive(Debug, Deserialize)]
struct SelectionDecision {
    feature: String,
    iv: f64,
    kept: bool,
    reason: String,
}

/// A user error for a model family that has no feature to fit, naming what removed them.
fn no_features(name: &str, woe: bool, report: &SelectionReport) -> Error {
    if !woe {
        return Error::pipeline_key(
            format!("train.models.{name}"),
            "there is no feature to fit; see `features.exclude` and `features.max_categories`",
        );
    }
    let best = report
        .selection
        .iter()
        .filter(|d| !d.kept)
        .max_by(|a, b| a.iv.total_cmp(&b.iv).then(b.feature.cmp(&a.feature)));
    let why = match best {
        Some(d) => format!(
            "the scorecard's feature selection removed all {} features (the best, `{}` with IV {:.4}, was dropped: {}); relax `features.selection` (for example a lower `min_iv`)",
            report.selection.len(),
            d.feature,
            d.iv,
            d.reason
        ),
        None => "the scorecard's feature selection kept no feature".to_string(),
    };
    Error::pipeline_key(
        format!("train.models.{name}"),
        format!("there is no WoE feature to fit: {why}, or leave `{name}` out of `train.models`"),
    )
}

/// Bin ids of a WoE column: each distinct WoE value marks one bin.
fn bin_ids(col: &[f64]) -> (Vec<u32>, usize) {
    let mut bins: Vec<f64> = col.to_vec();
    bins.sort_by(f64::total_cmp);
    bins.dedup();
    (
        col.iter().map(|v| bins.partition_point(|b| b < v) as u32).collect(),
        bins.len(),
    )
}

/// Re-estimates a WoE column on the rows `tr` (labels `yt`) from its bin ids: the bin's WoE is
/// recomputed from `tr` alone and applied to `tr` and `va`. A bin absent from `tr` gets WoE 0
/// (neutral), as an unseen value does at scoring time.
fn refit_woe(ids: &(Vec<u32>, usize), tr: &[usize], va: &[usize], yt: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let (ids, nbins) = (&ids.0, ids.1);
    let mut counts = vec![(0.0f64, 0.0f64); nbins];
    for (k, &i) in tr.iter().enumerate() {
        let c = &mut counts[ids[i] as usize];
        c.0 += 1.0;
        c.1 += yt[k];
    }
    let events: f64 = counts.iter().map(|c| c.1).sum();
    let non: f64 = counts.iter().map(|c| c.0 - c.1).sum();
    let nb = counts.iter().filter(|c| c.0 > 0.0).count() as f64;
    let woe: Vec<f64> = counts
        .iter()
        .map(|&(n, e)| {
            if n == 0.0 {
                return 0.0;
            }
            riskpipe_scorecard::woe(n - e, e, non, events, nb)
        })
        .collect();
    (
        tr.iter().map(|&i| woe[ids[i] as usize]).collect(),
        va.iter().map(|&i| woe[ids[i] as usize]).collect(),
    )
}

/// The training rows' targets and, with `train.weight`, their weights.
struct Rows<'a> {
    y: &'a [f64],
    weights: Option<&'a [f64]>,
    /// Each row's day and card, for `train.metric: card_precision`.
    events: Option<(&'a [i64], &'a [i64])>,
}

#[allow(clippy::too_many_arguments)]
fn search(
    kind: &str,
    woe: bool,
    grid: &[Point],
    names: &[String],
    train: &Frame,
    Rows { y, weights, events }: Rows<'_>,
    folds: &[Fold],
    metric: Metric,
) -> Result<ModelSearch> {
    let x = feature_columns(train, names)?;
    let ids: Vec<(Vec<u32>, usize)> = if woe {
        x.iter().map(|c| bin_ids(c)).collect()
    } else {
        Vec::new()
    };
    let mut points = Vec::new();
    let mut best_oof: (f64, Vec<f64>) = (metric.worst(), Vec::new());
    for (params, model_params) in grid {
        let mut fold_auc = Vec::with_capacity(folds.len());
        // Out-of-fold predictions; a row no fold scores (time-ordered folds) stays NaN.
        let mut oof = vec![f64::NAN; y.len()];
        for Fold { train: tr, valid: va } in folds {
            let yt: Vec<f64> = tr.iter().map(|&i| y[i]).collect();
            let (xt, xv): (Vec<Vec<f64>>, Vec<Vec<f64>>) = if woe {
                // WoE columns (of the logistic model, or of bagging over it) were estimated on
                // all training rows; re-estimate them on this fold's training rows so the
                // held-out fold stays unseen.
                ids.iter().map(|c| refit_woe(c, tr, va, &yt)).unzip()
            } else {
                (
                    x.iter().map(|c| tr.iter().map(|&i| c[i]).collect()).collect(),
                    x.iter().map(|c| va.iter().map(|&i| c[i]).collect()).collect(),
                )
            };
            let yv: Vec<f64> = va.iter().map(|&i| y[i]).collect();
            let xt_ref: Vec<&[f64]> = xt.iter().map(Vec::as_slice).collect();
            let xv_ref: Vec<&[f64]> = xv.iter().map(Vec::as_slice).collect();
            let wt: Option<Vec<f64>> = weights.map(|w| tr.iter().map(|&i| w[i]).collect());
            let m = model_params.fit_weighted(names, &xt_ref, &yt, wt.as_deref())?;
            let p = m.predict(&xv_ref);
            let ev: Option<(Vec<i64>, Vec<i64>)> =
                events.map(|(d, c)| (va.iter().map(|&i| d[i]).collect(), va.iter().map(|&i| c[i]).collect()));
            fold_auc.push(metric.score_events(&yv, &p, ev.as_ref().map(|(d, c)| (d.as_slice(), c.as_slice()))));
            for (&i, v) in va.iter().zip(&p) {
                oof[i] = *v;
            }
        }
        let mean_auc = fold_auc.iter().sum::<f64>() / folds.len() as f64;
        if metric.better(mean_auc, best_oof.0) {
            best_oof = (mean_auc, oof);
        }
        tracing::debug!(stage = "train", model = kind, %params, mean_auc, "Grid point scored.");
        points.push(GridPoint {
            params: params.clone(),
            fold_auc,
            mean_auc,
        });
    }
    let best = points.iter().enumerate().fold(0, |b, (i, p)| {
        if metric.better(p.mean_auc, points[b].mean_auc) {
            i
        } else {
            b
        }
    });
    Ok(ModelSearch {
        oof: best_oof.1,
        cv_auc: points[best].mean_auc,
        grid: points,
        best,
    })
}

/// `cv_results.parquet`: one row per model, setting and fold: model, point (index in its
/// search), params (JSON), fold, metric (`auc`, `average_precision` or `rmse`) and value; then
/// one `mean_<metric>` row per setting.
fn cv_results(cv: &BTreeMap<String, ModelSearch>, metric: Metric) -> Frame {
    let (mut model, mut params, mut metrics) = (Vec::new(), Vec::new(), Vec::new());
    let (mut point, mut fold, mut value) = (Vec::new(), Vec::new(), Vec::new());
    for (name, s) in cv {
        for (k, g) in s.grid.iter().enumerate() {
            let rows = g
                .fold_auc
                .iter()
                .enumerate()
                .map(|(f, v)| (f as f64, metric.name().to_string(), *v))
                .chain([(f64::NAN, format!("mean_{}", metric.name()), g.mean_auc)]);
            for (f, m, v) in rows {
                model.push(Some(name.clone()));
                params.push(Some(g.params.to_string()));
                metrics.push(Some(m));
                point.push(k as f64);
                fold.push(f);
                value.push(v);
            }
        }
    }
    let mut f = Frame::new();
    f.push("model", Column::Text(model));
    f.push("point", Column::Number(point));
    f.push("params", Column::Text(params));
    f.push("fold", Column::Number(fold));
    f.push("metric", Column::Text(metrics));
    f.push("value", Column::Number(value));
    f
}

/// Runs the stage into `out`: `<model>.json` per model, `cv.json`, `cv_results.parquet`,
/// `selection.json` (and `calibration.json` when asked for).
pub fn run(params: &TrainParams, inputs: &StageInputs, out: &Path) -> Result<StageReport> {
    if params.target == riskpipe_core::Target::None {
        return crate::detect::run(params, inputs, out);
    }
    let train = read_parquet(&inputs.artifact("features/train.parquet")?)?;
    let cols: TransformColumns = read_json(&inputs.artifact("features/transform.json")?)?;
    let target = cols
        .target
        .clone()
        .ok_or_else(|| Error::Internal("transform.json names no target".into()))?;
    let y = train
        .number(&target)
        .ok_or_else(|| Error::Internal(format!("train matrix has no target `{target}`")))?
        .to_vec();
    // `train.weight`: the features stage carried the column into the matrix.
    let weights: Option<Vec<f64>> = match &params.weight {
        Some(_) => Some(
            train
                .number(riskpipe_core::names::WEIGHT)
                .ok_or_else(|| Error::Internal("train matrix has no weight column".into()))?
                .to_vec(),
        ),
        None => None,
    };
    // The target decides how rows are folded and what the search optimises.
    let metric = params.metric();
    // `train.stratify`: the folds are stratified on the carried 0/1 column.
    let stratum = match &params.stratify {
        Some(_) => Some(
            train
                .number(riskpipe_core::names::STRATUM)
                .ok_or_else(|| Error::Internal("train matrix has no stratum column".into()))?,
        ),
        None => None,
    };
    let (folds, final_rows) = match &cols.periods {
        Some(p) => time_folds(&train, &y, p)?,
        None => {
            let mut fold_rng = Rng::derive(params.seed, "train.folds");
            let assignment = match stratum {
                Some(s) => riskpipe_core::split::stratified_folds(s, params.cv_folds, &mut fold_rng),
                None => folds(params.target, &y, params.cv_folds, &mut fold_rng),
            };
            (kfold(&assignment, params.cv_folds), None)
        }
    };
    // `train.metric: card_precision` ranks each validation day's cards: the rows' days and cards.
    let events = match metric {
        Metric::CardPrecision => {
            let col = |name: &str| -> Result<Vec<i64>> {
                Ok(train
                    .number(name)
                    .ok_or_else(|| {
                        Error::pipeline_key(
                            "train.metric",
                            "`card_precision` needs events split by `features.split: periods` with `features.periods.card`",
                        )
                    })?
                    .iter()
                    .map(|v| *v as i64)
                    .collect())
            };
            Some((col(riskpipe_core::names::DAY)?, col(riskpipe_core::names::CARD)?))
        }
        _ => None,
    };
    // Small data: leaf sizes above a tenth of a fold's training rows would forbid any split.
    let max_leaf = (folds.iter().map(|f| f.train.len()).min().unwrap_or(0) / 10).max(1);
    // The rows the chosen settings are refitted on: all, or under `split: periods` the
    // training window (its history served the validation folds only).
    let (fit_frame, fit_y, fit_w) = match &final_rows {
        Some(rows) => (
            std::borrow::Cow::Owned(train.take(rows)),
            rows.iter().map(|&i| y[i]).collect::<Vec<f64>>(),
            weights
                .as_ref()
                .map(|w| rows.iter().map(|&i| w[i]).collect::<Vec<f64>>()),
        ),
        None => (std::borrow::Cow::Borrowed(&train), y.clone(), weights.clone()),
    };
    let candidates: Vec<(Family, Vec<Point>)> = params
        .models
        .iter()
        .map(|(family, points)| Ok((family, grid(points, max_leaf)?)))
        .collect::<Result<_>>()?;
    // Each family reads the WoE columns or the encoded raw features, as its parameters say.
    let features_of = |g: &[Point]| -> (bool, &Vec<String>) {
        match g.first() {
            Some((_, p)) if p.reads_woe() => (true, &cols.woe_features),
            _ => (false, &cols.raw_features),
        }
    };
    // Features named in settings (boosting's monotone constraints) must be ones the model reads.
    for (family, grid) in &candidates {
        let (_, features) = features_of(grid);
        check_named_features(*family, grid, features)?;
    }
    for (family, grid) in &candidates {
        let (woe, features) = features_of(grid);
        if !grid.is_empty() && features.is_empty() {
            let report: SelectionReport = read_json(&inputs.artifact("features/report.json")?)?;
            return Err(no_features(family.name(), woe, &report));
        }
    }
    let mut searches = BTreeMap::new();
    let mut models = Vec::new();
    let mut timings = BTreeMap::new();
    for (family, grid) in &candidates {
        if grid.is_empty() {
            continue;
        }
        let name = family.name();
        let t0 = Instant::now();
        let (woe, features) = features_of(grid);
        let rows = Rows {
            y: &y,
            weights: weights.as_deref(),
            events: events.as_ref().map(|(d, c)| (d.as_slice(), c.as_slice())),
        };
        let s = search(name, woe, grid, features, &train, rows, &folds, metric)?;
        timings.insert(format!("{name}.cv_secs"), t0.elapsed().as_secs_f64());
        searches.insert(name.to_string(), (s, grid, features.clone()));
    }
    let mut cv = BTreeMap::new();
    let mut cv_auc = BTreeMap::new();
    let mut chosen = BTreeMap::new();
    for (name, (s, grid, names)) in searches {
        chosen.insert(name.clone(), (grid[s.best].0.clone(), names.clone()));
        let x = feature_columns(&fit_frame, &names)?;
        let t0 = Instant::now();
        let m = grid[s.best].1.fit_weighted(&names, &x, &fit_y, fit_w.as_deref())?;
        timings.insert(format!("{name}.fit_secs"), t0.elapsed().as_secs_f64());
        write_json(&out.join(format!("{name}.json")), &m)?;
        // The scorecard is built once, here; evaluate and deploy read `scorecard.json`.
        if let Some(lr) = m.logistic() {
            let card = Scorecard::build(&lr.features, &lr.coef, lr.intercept, &cols.binnings, &params.scorecard);
            write_json(&out.join("scorecard.json"), &card)?;
        }
        cv_auc.insert(name.clone(), s.cv_auc);
        models.push(name.clone());
        cv.insert(name, s);
    }
    let (selected, by) = if params.select == "best_cv" {
        let best = cv_auc.iter().fold(None::<(&String, f64)>, |b, (n, a)| match b {
            Some((_, ba)) if !metric.better(*a, ba) => b,
            _ => Some((n, *a)),
        });
        (best.map(|b| b.0.clone()).unwrap_or_default(), "best_cv")
    } else {
        (params.select.clone(), "configured")
    };
    if params.calibration != Calibration::None
        && let Some(s) = cv.get(&selected)
    {
        // The rows some fold scored (all of them under k-fold).
        let (oof, ys): (Vec<f64>, Vec<f64>) = s.oof.iter().zip(&y).filter(|(p, _)| !p.is_nan()).unzip();
        let calibrator = match params.calibration {
            Calibration::Platt => Calibrator::fit_platt(&oof, &ys)?,
            _ => Calibrator::fit_isotonic(&oof, &ys),
        };
        let brier = |p: &[f64]| p.iter().zip(&ys).map(|(a, b)| (a - b) * (a - b)).sum::<f64>() / ys.len() as f64;
        let calibrated: Vec<f64> = oof.iter().map(|p| calibrator.apply(*p)).collect();
        write_json(
            &out.join("calibration.json"),
            &CalibrationFile {
                model: selected.clone(),
                oof_brier: (brier(&oof), brier(&calibrated)),
                calibrator,
            },
        )?;
    }
    // Seed stability: the selected model refitted with other seeds, same settings and rows.
    if params.seed_stability > 0
        && let (Some((json, names)), Some(family)) = (chosen.get(&selected), Family::from_name(&selected))
    {
        let t0 = Instant::now();
        let x = feature_columns(&fit_frame, names)?;
        let mut seeds = Vec::new();
        let mut refits = Vec::new();
        let base_seed = json.get("seed").and_then(serde_json::Value::as_u64);
        if let Some(base) = base_seed {
            for k in 1..=params.seed_stability as u64 {
                let seed = base.wrapping_add(k);
                let mut v = json.clone();
                v["seed"] = serde_json::json!(seed);
                let p = ModelParams::from_json(family, &v)?;
                refits.push(p.fit_weighted(names, &x, &fit_y, fit_w.as_deref())?);
                seeds.push(seed);
            }
        }
        write_json(
            &out.join(SEED_MODELS),
            &SeedModels {
                model: selected.clone(),
                base_seed,
                seeds,
                models: refits,
            },
        )?;
        timings.insert("seed_stability_secs".into(), t0.elapsed().as_secs_f64());
    }
    write_json(&out.join("cv.json"), &cv)?;
    write_parquet(&out.join("cv_results.parquet"), &cv_results(&cv, metric))?;
    write_json(
        &out.join("selection.json"),
        &Selection {
            selected: selected.clone(),
            by: by.into(),
            cv_auc: cv_auc.clone(),
            metric: Some(metric.name().to_string()),
            detectors: Vec::new(),
        },
    )?;
    let summary = cv_auc
        .iter()
        .map(|(n, a)| format!("{n} cv_{}={a:.4}", metric.name()))
        .collect::<Vec<_>>()
        .join(", ");
    Ok(StageReport {
        rows_in: y.len() as u64,
        rows_out: y.len() as u64,
        summary: format!("{summary}; selected {selected}"),
        timings,
    })
}

/// `train/seed_models.json`: the selected model refitted with other seeds.
pub const SEED_MODELS: &str = "seed_models.json";

/// The selected model refitted with other seeds (`train.seed_stability`); no models when its
/// settings take no seed (a logistic regression or a single tree fit the same every time).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SeedModels {
    /// The selected model.
    pub model: String,
    /// The seed it was fitted with (none: its settings take none).
    pub base_seed: Option<u64>,
    /// The seeds, one per refit.
    pub seeds: Vec<u64>,
    /// The refits.
    pub models: Vec<Model>,
}

/// The prequential validation folds of `split: periods` over the matrix's day column, each
/// fold's scored rows without the cards already known compromised then; and the training
/// window's rows (day 0 on), which the chosen settings are refitted on.
fn time_folds(train: &Frame, y: &[f64], p: &Periods) -> Result<(Vec<Fold>, Option<Vec<usize>>)> {
    let column = |name: &str| {
        train
            .number(name)
            .ok_or_else(|| Error::Internal(format!("train matrix has no `{name}` column")))
    };
    let (day, card) = (column(riskpipe_core::names::DAY)?, column(riskpipe_core::names::CARD)?);
    let spec = p.validation();
    let mut folds = prequential(day, &spec, "features/train.parquet", riskpipe_core::names::DAY).map_err(|e| {
        Error::pipeline_key(
            "features.periods.validation_folds",
            format!("the data before the training window cannot hold the validation folds: {e}"),
        )
    })?;
    for (i, f) in folds.iter_mut().enumerate() {
        let start = spec.train_start - i as f64 * spec.valid_len;
        let known = known_compromised(day, card, y, start, spec.delay, &f.valid);
        let mut k = known.iter();
        f.valid.retain(|_| !k.next().copied().unwrap_or(false));
    }
    let rows: Vec<usize> = (0..day.len()).filter(|&i| day[i] >= 0.0).collect();
    Ok((folds, Some(rows)))
}

/// Features named in settings (boosting's monotone constraints) must be ones the model reads.
fn check_named_features(family: Family, grid: &[Point], features: &[String]) -> Result<()> {
    for (_, p) in grid {
        if let Some((key, f)) = p
            .named_features()
            .into_iter()
            .find(|(_, f)| !features.iter().any(|n| n == f))
        {
            return Err(Error::pipeline_key(
                format!("train.models.{family}.{key}"),
                format!(
                    "`{f}` is not a feature; the features are {}",
                    features
                        .iter()
                        .filter(|n| !n.ends_with(riskpipe_core::names::MISSING_SUFFIX))
                        .map(|n| format!("`{n}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
    }
    Ok(())
}

/// One grid point: its parameters as recorded (JSON) and as fitted.
type Point = (serde_json::Value, ModelParams);

/// A family's grid points, with leaf sizes (of the model, or of a forest's trees) capped at
/// `max_leaf`.
fn grid(points: &[ModelParams], max_leaf: usize) -> Result<Vec<Point>> {
    fn cap(v: &mut serde_json::Value, max_leaf: usize) {
        if let Some(n) = v.get("min_samples_leaf").and_then(serde_json::Value::as_u64) {
            v["min_samples_leaf"] = serde_json::json!(n.min(max_leaf as u64));
        }
    }
    points
        .iter()
        .map(|p| {
            let mut v = serde_json::to_value(p).map_err(|e| Error::Internal(e.to_string()))?;
            cap(&mut v, max_leaf);
            if let Some(t) = v.get_mut("tree") {
                cap(t, max_leaf);
            }
            let params = ModelParams::from_json(p.family(), &v)?;
            Ok((v, params))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cross_validation_of_bagged_logistic_models_re_estimates_woe_per_fold() {
        // A leaky WoE column: one bin per pair of rows, its WoE estimated on all rows, so it
        // carries the labels. Re-estimated per fold, a held-out pair's bin holds one training
        // row at most, and the leak is gone.
        let mut rng = Rng::new(3);
        let n = 400;
        let y: Vec<f64> = (0..n).map(|_| f64::from(u8::from(rng.bernoulli(0.5)))).collect();
        let woe: Vec<f64> = (0..n)
            .map(|i| {
                let pair = i / 2;
                let events = y[2 * pair] + y[2 * pair + 1];
                (events + 0.5) / (2.5 - events) + pair as f64 * 1e-6
            })
            .collect();
        let mut frame = Frame::new();
        frame.push("leak__woe", riskpipe_core::Column::Number(woe));
        let names = vec!["leak__woe".to_string()];
        let folds = kfold(&riskpipe_core::split::stratified_folds(&y, 5, &mut Rng::new(1)), 5);
        let grid = grid(
            &[ModelParams::from(riskpipe_models::BaggingParams {
                n_estimators: 3,
                max_samples: 1.0,
                base: riskpipe_models::BaseParams::Logistic(riskpipe_models::LogisticParams::default()),
                seed: 1,
                balance: None,
            })],
            usize::MAX,
        )
        .unwrap();
        let rows = || Rows {
            y: &y,
            weights: None,
            events: None,
        };
        let leaky = search("bagging", false, &grid, &names, &frame, rows(), &folds, Metric::Auc).unwrap();
        let fair = search("bagging", true, &grid, &names, &frame, rows(), &folds, Metric::Auc).unwrap();
        assert!(leaky.cv_auc > 0.8, "leaky {}", leaky.cv_auc);
        assert!(fair.cv_auc < 0.65, "per-fold WoE {}", fair.cv_auc);
    }

    #[test]
    fn refit_woe_uses_only_the_fold_rows() {
        // Two bins (WoE -1 and 1 on all rows); on the fold rows bin -1 has events 1 of 2.
        let col = [-1.0, -1.0, 1.0, 1.0, -1.0, 1.0];
        let y_all = [1.0, 0.0, 0.0, 0.0, 1.0, 1.0];
        let tr = [0, 1, 2, 3];
        let va = [4, 5];
        let yt: Vec<f64> = tr.iter().map(|&i| y_all[i]).collect();
        let (t, v) = refit_woe(&bin_ids(&col), &tr, &va, &yt);
        assert_eq!(t[0], t[1]);
        assert_eq!(t[2], t[3]);
        assert!(t[0] < 0.0 && t[2] > 0.0, "{t:?}");
        assert_eq!(v, vec![t[0], t[2]]);
    }
}
