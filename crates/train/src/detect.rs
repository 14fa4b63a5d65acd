//! The train stage for a task without a target: fit every listed detector on the scaled
//! columns of the training rows, then the ensemble of their rank-normalised scores. There is
//! no target to search settings by, so each detector has one setting and nothing is folded.
//! The evaluation label, when the matrix carries one, is never read here.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use serde::Deserialize;

use riskpipe_core::io::{read_json, read_parquet, write_json};
use riskpipe_core::stage::{StageInputs, StageReport};
use riskpipe_core::{Error, Result};
use riskpipe_models::{Model, feature_columns};

use crate::config::TrainParams;
use crate::selection::Selection;

/// The name of the ensemble's model file and of the selected model.
pub const ENSEMBLE: &str = "ensemble";

/// The matrix columns detectors read, from `transform.json`.
#[derive(Debug, Deserialize)]
struct ScaledColumns {
    #[serde(default)]
    scaled_features: Vec<String>,
}

/// Runs the stage for a task without a target: `<detector>.json` per detector,
/// `ensemble.json` and `selection.json`.
pub fn run(params: &TrainParams, inputs: &StageInputs, out: &Path) -> Result<StageReport> {
    let train = read_parquet(&inputs.artifact("features/train.parquet")?)?;
    let cols: ScaledColumns = read_json(&inputs.artifact("features/transform.json")?)?;
    let names = cols.scaled_features;
    if names.is_empty() {
        return Err(Error::pipeline_key(
            "train.models",
            "there is no numeric or encodable feature for the detectors; see `features.exclude` and `features.max_categories`",
        ));
    }
    let x = feature_columns(&train, &names)?;
    let rows = train.rows();
    let mut members = Vec::new();
    let mut timings = BTreeMap::new();
    for (family, grid) in params.models.iter() {
        let [p] = grid else {
            return Err(Error::pipeline_key(
                format!("train.models.{family}"),
                "a detector takes one setting per key: there is no target to choose between settings",
            ));
        };
        let t0 = Instant::now();
        // The detector's own limits (k above the rows, say) are the user's to fix.
        let m = p.fit(&names, &x, &[]).map_err(|e| match e {
            Error::Internal(m) => Error::pipeline_key(format!("train.models.{family}"), m),
            e => e,
        })?;
        timings.insert(format!("{family}.fit_secs"), t0.elapsed().as_secs_f64());
        write_json(&out.join(format!("{family}.json")), &m)?;
        members.push((family.name().to_string(), m));
    }
    let names_fitted: Vec<String> = members.iter().map(|m| m.0.clone()).collect();
    let t0 = Instant::now();
    let ensemble = Model::detector_ensemble(members, &x)?;
    timings.insert(format!("{ENSEMBLE}.build_secs"), t0.elapsed().as_secs_f64());
    write_json(&out.join(format!("{ENSEMBLE}.json")), &ensemble)?;
    write_json(
        &out.join("selection.json"),
        &Selection {
            selected: ENSEMBLE.to_string(),
            by: "ensemble".into(),
            cv_auc: BTreeMap::new(),
            metric: None,
            detectors: names_fitted.clone(),
        },
    )?;
    Ok(StageReport {
        rows_in: rows as u64,
        rows_out: rows as u64,
        summary: format!(
            "{} detectors on {} columns ({}), and their ensemble",
            names_fitted.len(),
            names.len(),
            names_fitted.join(", ")
        ),
        timings,
    })
}
