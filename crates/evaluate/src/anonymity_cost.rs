//! The AUC cost of k-anonymity: the selected model family refitted on the quasi-identifiers as
//! ingested (the privacy stage without its generalisation), scored on the same test rows.
//!
//! The refit runs the privacy, features and train stages of the same pipeline into a scratch
//! folder inside the evaluate stage's own temporary folder, and removes it before the stage
//! finishes: the un-generalised table never reaches the run folder.

use std::path::Path;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use riskpipe_core::stage::StageInputs;
use riskpipe_core::{Error, Result};
use riskpipe_models::Family;

/// The pipeline's privacy (without `k_anonymity`), features and train parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CostParams {
    /// The privacy stage with the same masking plan and no generalisation.
    pub privacy: riskpipe_privacy::PrivacyParams,
    /// The features stage, unchanged.
    pub features: riskpipe_features::FeaturesParams,
    /// The train stage, unchanged (only the selected family is refitted).
    pub train: riskpipe_train::TrainParams,
}

impl CostParams {
    /// The parameters of a pipeline whose privacy stage generalises quasi-identifiers; `None`
    /// when it does not.
    pub fn of(
        privacy: &riskpipe_privacy::PrivacyParams,
        features: &riskpipe_features::FeaturesParams,
        train: &riskpipe_train::TrainParams,
    ) -> Option<CostParams> {
        let k = privacy.k_anonymity.as_ref()?;
        // The quasi-identifiers pass as ingested here (a postcode, a date of birth): the
        // refit's tables stay in the scratch folder and go when it is done.
        let mut allow_pii = privacy.allow_pii.clone();
        allow_pii.extend(
            k.quasi_identifiers
                .keys()
                .filter(|c| !allow_pii.contains(c))
                .cloned()
                .collect::<Vec<_>>(),
        );
        Some(CostParams {
            privacy: riskpipe_privacy::PrivacyParams {
                k_anonymity: None,
                allow_pii,
                ..privacy.clone()
            },
            features: features.clone(),
            train: train.clone(),
        })
    }
}

/// The selected model's test AUC on generalised and on raw quasi-identifiers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnonymityCost {
    /// The model family refitted.
    pub model: String,
    /// Its test AUC as the pipeline released it (generalised quasi-identifiers).
    pub auc_generalised: f64,
    /// Its test AUC refitted on the quasi-identifiers as ingested.
    pub auc_raw: f64,
    /// `auc_raw - auc_generalised`: what k-anonymity cost the ranking.
    pub cost: f64,
    /// Test rows both AUCs are computed on.
    pub test_rows: usize,
}

/// The raw tables the refit's privacy stage reads.
const RAW: [&str; 2] = ["ingest/data.parquet", "ingest/schema.json"];

/// The files the refit reads besides the evaluate stage's own.
pub(crate) fn inputs() -> impl Iterator<Item = riskpipe_core::stage::Input> {
    RAW.into_iter().map(|p| riskpipe_core::stage::Input::Artifact(p.into()))
}

/// Refits `selected` without the generalisation, in `out/.anonymity-cost` (removed again, on
/// success and on failure), and compares its test AUC with `auc_generalised`. Returns the cost
/// and the seconds the refit took.
pub(crate) fn measure(
    params: &CostParams,
    selected: &str,
    auc_generalised: f64,
    inputs: &StageInputs,
    out: &Path,
) -> Result<(AnonymityCost, f64)> {
    let t0 = Instant::now();
    let scratch = out.join(".anonymity-cost");
    let result = refit(params, selected, inputs, &scratch);
    if scratch.exists() {
        fs_err::remove_dir_all(&scratch)?;
    }
    let (auc_raw, test_rows) = result?;
    let cost = AnonymityCost {
        model: selected.to_string(),
        auc_generalised,
        auc_raw,
        cost: auc_raw - auc_generalised,
        test_rows,
    };
    Ok((cost, t0.elapsed().as_secs_f64()))
}

fn refit(params: &CostParams, selected: &str, inputs: &StageInputs, scratch: &Path) -> Result<(f64, usize)> {
    let family = Family::from_name(selected)
        .ok_or_else(|| Error::Internal(format!("selection.json names the unknown model `{selected}`")))?;
    let mut si = StageInputs::at(scratch);
    for rel in RAW {
        si.elsewhere.insert(rel.to_string(), inputs.artifact(rel)?);
    }
    let train = riskpipe_train::TrainParams {
        models: params.train.models.only(family),
        seed_stability: 0,
        ..params.train.clone()
    };
    let dir = |stage: &str| -> Result<std::path::PathBuf> {
        let d = scratch.join(stage);
        fs_err::create_dir_all(&d)?;
        Ok(d)
    };
    riskpipe_privacy::run(&params.privacy, &si, &dir("privacy")?)?;
    riskpipe_features::run(&params.features, &si, &dir("features")?)?;
    riskpipe_train::run(&train, &si, &dir("train")?)?;
    let m = crate::predict::Inputs::load(&si)?;
    let (_, _, pte) = crate::predict::predict_parts(&si, selected, &m.train, &m.test, "a PD")?;
    Ok((riskpipe_metrics::binary_metrics(&m.yte, &pte).auc, m.test.rows()))
}
