//! Evaluation of a task with a continuous target (loss prediction's LGD): RMSE, MAE, R2 and
//! the accuracy ratio per model on train and test, predicted against realised by decile, the
//! target's distribution, and, where the generator's truth is at hand, the same metrics of the
//! true model (the ceiling a fitted model can reach). Writes `metrics.json`,
//! `predictions.parquet` and `report.html`.

use std::collections::BTreeMap;
use std::path::Path;

use riskpipe_core::io::{read_parquet, write_atomic, write_json, write_parquet};
use riskpipe_core::names::{PREDICTION_PREFIX, ROW};
use riskpipe_core::stage::{StageInputs, StageReport};
use riskpipe_core::{Column, Error, Frame, Result, Task};
use riskpipe_metrics::{deciles, regression_metrics};

use crate::artifacts::{RegressionMetricsFile, RegressionModelMetrics, RegressionOracle};
use crate::config::EvaluateParams;

/// The truth column that a continuous target of `task` is checked against.
fn truth_column(task: Task, target: &str) -> Option<&'static str> {
    match task {
        Task::LossPrediction if target == riskpipe_core::names::REALISED_CCF => Some("true_ccf"),
        Task::LossPrediction => Some("true_lgd"),
        _ => None,
    }
}

/// The truth's value for each test row, keyed by the row (the id), when every row has one.
fn oracle_values(truth: &Frame, column: &str, test: &Frame) -> Option<Vec<f64>> {
    let (ids, v) = (truth.get(truth.names().first()?)?, truth.number(column)?);
    let map: BTreeMap<String, f64> = (0..truth.rows())
        .filter_map(|i| ids.display(i).map(|k| (k, v[i])))
        .collect();
    let rows = test.get(ROW)?;
    (0..test.rows())
        .map(|i| rows.display(i).and_then(|k| map.get(&k).copied()))
        .collect()
}

/// Shares of `y` in 20 equal bins over [0, 1] (values outside count in the end bins).
fn histogram(y: &[f64]) -> Vec<f64> {
    let mut h = [0.0; 20];
    for v in y {
        h[((v * 20.0).floor().clamp(0.0, 19.0)) as usize] += 1.0;
    }
    let n = y.len().max(1) as f64;
    h.iter().map(|c| c / n).collect()
}

/// Runs the stage for a continuous target.
pub fn run(params: &EvaluateParams, inputs: &StageInputs, out: &Path) -> Result<StageReport> {
    let crate::predict::Inputs {
        train,
        test,
        target,
        ytr,
        yte,
        selection,
        ..
    } = crate::predict::Inputs::load(inputs)?;
    let mut preds = crate::predict::Inputs::predictions_of(&test, &target, &yte);
    let mut models = BTreeMap::new();
    for name in selection.cv_auc.keys() {
        let (_, ptr, pte) = crate::predict::predict_parts(inputs, name, &train, &test, "an amount")?;
        models.insert(
            name.clone(),
            RegressionModelMetrics {
                train: regression_metrics(&ytr, &ptr),
                test: regression_metrics(&yte, &pte),
                cv_rmse: selection.cv_auc.get(name).copied(),
                deciles: deciles(&yte, &pte),
            },
        );
        preds.push(format!("{PREDICTION_PREFIX}{name}"), Column::Number(pte));
    }
    let oracle = match (
        truth_column(params.task, &target),
        inputs.optional("ingest/truth.parquet"),
    ) {
        (Some(column), Some(path)) => {
            let truth = read_parquet(&path)?;
            oracle_values(&truth, column, &test).map(|p| RegressionOracle {
                column: column.to_string(),
                test: regression_metrics(&yte, &p),
            })
        }
        _ => None,
    };
    let metrics = RegressionMetricsFile {
        task: params.task,
        target,
        selected_model: selection.selected.clone(),
        models,
        oracle,
        target_histogram: histogram(&yte),
    };
    let portfolio = match &params.book {
        Some(spec) => Some(crate::portfolio::run(
            spec,
            inputs,
            out,
            (&params.pipeline, &selection.selected, params.seed),
        )?),
        None => None,
    };
    write_json(&out.join("metrics.json"), &metrics)?;
    write_parquet(&out.join("predictions.parquet"), &preds)?;
    write_atomic(
        &out.join("report.html"),
        crate::regression_report::render(params, &metrics, portfolio.as_ref()).as_bytes(),
    )?;
    let sel = metrics
        .models
        .get(&selection.selected)
        .ok_or_else(|| Error::Internal(format!("no metrics for the selected `{}`", selection.selected)))?;
    Ok(StageReport {
        rows_in: (train.rows() + test.rows()) as u64,
        rows_out: test.rows() as u64,
        summary: format!(
            "selected {} test RMSE {:.4} R2 {:.4} AR {:.4}{}",
            selection.selected,
            sel.test.rmse,
            sel.test.r2,
            sel.test.accuracy_ratio,
            metrics
                .oracle
                .as_ref()
                .map(|o| format!(" (true model R2 {:.4})", o.test.r2))
                .unwrap_or_default()
        ) + &portfolio
            .map(|p| {
                format!(
                    "; book of {} loans: EL {:.0}, ECL {:.0}, RWA {:.0}",
                    p.total.loans, p.total.el, p.total.ecl, p.total.rwa
                )
            })
            .unwrap_or_default(),
        ..StageReport::default()
    })
}
