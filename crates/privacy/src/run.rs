//! The privacy stage: apply the masking plan, report what was masked and what looks personal.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use riskpipe_core::io::{read_parquet, write_json, write_parquet};
use riskpipe_core::stage::{Input, StageInputs, StageReport};
use riskpipe_core::{Error, Result};

use crate::anonymity::{AnonymityReport, anonymise};
use crate::config::{Action, PrivacyParams, read_key};
use crate::key::key_id;
use crate::mask::{KAnonymity, apply, k_anonymity, looks_like_pii};
use crate::pii::{self, Finding};

/// `report.json` of the privacy stage.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PrivacyReport {
    /// Action applied per column (`keep` for unlisted columns).
    pub actions: BTreeMap<String, String>,
    /// Columns that look like personal data but have no action.
    pub warnings: Vec<String>,
    /// Columns before and after.
    pub columns_in: usize,
    /// Columns written.
    pub columns_out: usize,
    /// k-anonymity of the declared quasi-identifiers, after masking.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub k_anonymity: Option<KAnonymity>,
    /// Personal data found by content in the input, per column (masked or not; see
    /// [`crate::pii`]).
    #[serde(default)]
    pub pii_findings: BTreeMap<String, Vec<Finding>>,
    /// What the k-anonymity search chose and reached, when `privacy.k_anonymity` is declared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anonymity: Option<AnonymityReport>,
}

/// The rows (positions in the table) whose quasi-identifiers k-anonymity blanked, written
/// when `privacy.k_anonymity` is declared: deploy leaves them out of its check of the bundle.
pub const SUPPRESSED: &str = "privacy/suppressed.json";

/// `privacy/suppressed.json`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Suppressed {
    /// Row positions, ascending.
    pub rows: Vec<u64>,
}

/// The files the stage reads.
pub fn inputs(_params: &PrivacyParams) -> Vec<Input> {
    vec![
        Input::Artifact("ingest/data.parquet".into()),
        Input::Artifact("ingest/schema.json".into()),
    ]
}

/// Loads the key for a plan (when it hashes) and checks it is the key the plan was made with.
pub fn load_key(params: &PrivacyParams) -> Result<Option<Vec<u8>>> {
    if !params.columns.values().any(Action::needs_key) {
        return Ok(None);
    }
    let key = read_key(&params.key_env)?;
    if let Some(expected) = &params.key_id {
        if &key_id(&key) != expected {
            return Err(Error::BadEnv {
                name: params.key_env.clone(),
                message: format!(
                    "holds a different key from the one this plan was made with (key id `{expected}`); set it to that key"
                ),
            });
        }
    }
    Ok(Some(key))
}

/// Runs the stage into `out`: `data.parquet`, `plan.json` (no key), `report.json`.
pub fn run(params: &PrivacyParams, inputs: &StageInputs, out: &Path) -> Result<StageReport> {
    let src = inputs.artifact("ingest/data.parquet")?;
    let frame = read_parquet(&src)?;
    let schema: riskpipe_core::views::SchemaView =
        riskpipe_core::io::read_json(&inputs.artifact(riskpipe_core::views::SchemaView::PATH)?)?;
    let target = schema.outcome().unwrap_or_default().to_string();
    let what = if schema.target.is_some() { "target" } else { "label" };
    if let Some(a) = params.columns.get(&target) {
        if *a != Action::Keep {
            return Err(Error::pipeline_key(
                format!("privacy.columns.{target}"),
                format!("the {what} cannot be masked"),
            ));
        }
    }
    let key = load_key(params)?;
    let file = src.display().to_string();
    let mut masked = apply(params, &frame, key.as_deref(), &file)?;
    // The k-anonymity search: its levels join the plan as actions, so the bundle replays them.
    let mut plan = params.clone();
    let mut timings = BTreeMap::new();
    let mut suppressed = None;
    let anonymity = match &params.k_anonymity {
        Some(a) => {
            let t0 = std::time::Instant::now();
            let (report, chosen, rows) = anonymise(a, &mut masked, &target, &file)?;
            suppressed = Some(Suppressed { rows });
            timings.insert("k_anonymity_search".to_string(), t0.elapsed().as_secs_f64());
            plan.columns.extend(chosen);
            Some(report)
        }
        None => None,
    };
    let (findings, warnings) = check_personal_data(&plan, &frame, &target)?;
    let actions: BTreeMap<String, String> = frame
        .names()
        .iter()
        .map(|n| (n.clone(), plan.columns.get(n).map_or("keep", action_name).to_string()))
        .collect();
    let report = PrivacyReport {
        actions,
        warnings: warnings.clone(),
        columns_in: frame.names().len(),
        columns_out: masked.names().len(),
        pii_findings: findings,
        anonymity,
        k_anonymity: if params.quasi_identifiers.is_empty() {
            None
        } else {
            Some(k_anonymity(&masked, &params.quasi_identifiers, &file)?)
        },
    };
    let rows = write_parquet(&out.join("data.parquet"), &masked)?;
    write_json(&out.join("plan.json"), &plan)?;
    if let Some(s) = &suppressed {
        write_json(&out.join("suppressed.json"), s)?;
    }
    write_json(&out.join("report.json"), &report)?;
    Ok(StageReport {
        rows_in: frame.rows() as u64,
        rows_out: rows,
        summary: format!(
            "{} columns masked, {} dropped, {} warnings",
            params
                .columns
                .values()
                .filter(|a| !matches!(a, Action::Keep | Action::Drop))
                .count(),
            params.columns.values().filter(|a| matches!(a, Action::Drop)).count(),
            warnings.len()
        ),
        timings,
    })
}

/// The personal data found by content in each column of `frame`, and warnings for columns
/// without findings whose names look personal. A column that passes unmasked (no action, or
/// `keep`) with findings is an error naming it and what it holds, unless `privacy.allow_pii`
/// lists it; the target never counts.
fn check_personal_data(
    params: &PrivacyParams,
    frame: &riskpipe_core::Frame,
    target: &str,
) -> Result<(BTreeMap<String, Vec<Finding>>, Vec<String>)> {
    let mut findings = BTreeMap::new();
    let mut warnings = Vec::new();
    let mut refused = Vec::new();
    for (name, col) in frame.iter() {
        let found = pii::detect(col, &params.national_id_formats);
        let unmasked = matches!(params.columns.get(name), None | Some(Action::Keep));
        if unmasked && name != target {
            if !found.is_empty() && !params.allow_pii.iter().any(|a| a == name) {
                let what: Vec<String> = found.iter().map(Finding::describe).collect();
                refused.push(format!("`{name}` holds {}", what.join(" and ")));
            } else if found.is_empty() && !params.columns.contains_key(name) {
                if let Some(why) = looks_like_pii(name, col) {
                    tracing::warn!(stage = "privacy", column = name, reason = %why, "Column looks like personal data and has no masking action.");
                    warnings.push(format!(
                        "`{name}` looks like personal data ({why}) and has no masking action; add it under `privacy.columns`"
                    ));
                }
            }
        }
        if !found.is_empty() {
            findings.insert(name.to_string(), found);
        }
    }
    if !refused.is_empty() {
        return Err(Error::pipeline_key(
            "privacy.columns",
            format!(
                "personal data would pass unmasked: {}; mask each under `privacy.columns` (hash, drop, truncate or generalize) or, if it is meant to pass as it is, list it under `privacy.allow_pii`",
                refused.join("; ")
            ),
        ));
    }
    Ok((findings, warnings))
}

fn action_name(a: &Action) -> &'static str {
    match a {
        Action::Drop => "drop",
        Action::Hash { .. } => "hash",
        Action::Fpe { .. } => "fpe",
        Action::Year => "generalize:year",
        Action::Month => "generalize:month",
        Action::AgeBand { .. } => "generalize:age_band",
        Action::Bucket { .. } => "generalize:bucket",
        Action::Truncate { .. } => "truncate",
        Action::Keep => "keep",
    }
}
