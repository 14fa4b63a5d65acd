//! The deploy stage: write the bundle, then score the raw test rows through it and check the
//! result against the evaluate stage's predictions.

use std::path::Path;

use serde::{Deserialize, Serialize};

use riskpipe_core::io::{read_json, read_parquet, write_atomic, write_json, write_parquet};
use riskpipe_core::stage::{Input, StageInputs, StageReport};
use riskpipe_core::views::{SchemaView, SelectionView};
use riskpipe_core::{Error, Result};
use riskpipe_features::Transform;
use riskpipe_models::{Calibrator, Model};
use riskpipe_privacy::PrivacyParams;

use crate::config::DeployParams;
use riskpipe_features::Scorecard;
use riskpipe_scoring::{Book, BundleInfo, InputColumn, Scorer};

/// `check.json`: the bundle scored the test rows as evaluate did.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Check {
    /// Test rows scored through the bundle and compared.
    pub rows: u64,
    /// Largest |PD(bundle) - PD(evaluate)|.
    pub max_abs_diff: f64,
    /// Whether they agree bit for bit (JSON floats round-trip exactly, so the bundle replays the
    /// very same numbers).
    pub ok: bool,
    /// Test rows left out of the comparison: k-anonymity blanked their quasi-identifiers in the
    /// training data (local suppression), while the bundle scores them as any new application,
    /// generalised but not blanked.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub suppressed_rows_skipped: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// The first row where the bundle's PD is not bit for bit evaluate's, or is not finite on either
/// side (NaN never compares equal and never hides in a maximum); a length mismatch counts.
pub fn first_mismatch(got: &[f64], expected: &[f64]) -> Option<usize> {
    let differs = |(a, b): (&f64, &f64)| a.to_bits() != b.to_bits() || !a.is_finite() || !b.is_finite();
    got.iter()
        .zip(expected)
        .position(differs)
        .or_else(|| (got.len() != expected.len()).then(|| got.len().min(expected.len())))
}

/// The files the stage reads.
pub fn inputs(params: &DeployParams) -> Vec<Input> {
    let mut v = vec![
        Input::Artifact("ingest/data.parquet".into()),
        Input::Artifact("ingest/schema.json".into()),
        Input::Artifact("privacy/plan.json".into()),
        Input::OptionalArtifact(riskpipe_privacy::SUPPRESSED.into()),
        Input::Artifact("features/transform.json".into()),
        Input::Artifact("features/split.parquet".into()),
        Input::Artifact("train/selection.json".into()),
        Input::OptionalArtifact("train/calibration.json".into()),
        Input::OptionalArtifact("train/scorecard.json".into()),
        Input::Artifact("evaluate/predictions.parquet".into()),
        Input::Artifact("evaluate/metrics.json".into()),
        Input::OptionalArtifact(format!("train/{}.json", riskpipe_train::ENSEMBLE)),
    ];
    v.extend(riskpipe_models::Family::ALL.map(|m| Input::OptionalArtifact(format!("train/{}.json", m.name()))));
    if let Some(b) = &params.book {
        v.push(Input::Artifact(BOOK_PARQUET.into()));
        // The seal lists every file of the PD bundle with its hash.
        v.push(Input::External(
            b.pd_bundle.join(riskpipe_scoring::SEAL_FILE),
            "loss.pd_bundle",
        ));
    }
    v
}

/// The evaluate stage's measures of every loan of the book (loss prediction with `loss.book`).
const BOOK_PARQUET: &str = "evaluate/book.parquet";

/// Writes `reference.json` (the training rows' score and feature distributions) into the bundle
/// and seals it again.
fn write_reference(scorer: &Scorer, raw: &riskpipe_core::Frame, train: &[usize], bundle: &Path) -> Result<()> {
    use riskpipe_scoring::drift::{REFERENCE_FILE, Reference};
    let file = "ingest/data.parquet (training rows)";
    // Window features look back over earlier rows: events are scored with all their history.
    let (scored, masked) = if scorer.info.events.is_some() {
        (
            scorer.score_with(raw, 0, file, false)?.take(train),
            scorer.masked_inputs(raw, file)?.take(train),
        )
    } else {
        let rows = raw.take(train);
        (
            scorer.score_with(&rows, 0, file, false)?,
            scorer.masked_inputs(&rows, file)?,
        )
    };
    let name = scorer.output_names()[1].clone();
    let scores = scored
        .number(&name)
        .ok_or_else(|| Error::Internal(format!("the scorer wrote no `{name}`")))?;
    write_json(
        &bundle.join(REFERENCE_FILE),
        &Reference::fit(&name, scores, &masked, &scorer.transform),
    )?;
    riskpipe_scoring::write_seal(bundle)?;
    Ok(())
}

/// The bundle's book outputs on every raw row equal evaluate's `book.parquet`, bit for bit.
fn check_book(scorer: &Scorer, raw: &riskpipe_core::Frame, inputs: &StageInputs) -> Result<Check> {
    let (scored, _) = scorer.score_book(raw, 0, "ingest/data.parquet")?;
    let expected = read_parquet(&inputs.artifact(BOOK_PARQUET)?)?;
    let mut max_abs_diff: f64 = 0.0;
    for name in std::iter::once(riskpipe_core::names::LGD).chain(riskpipe_scoring::BOOK_OUTPUTS) {
        let (Some(got), Some(want)) = (scored.number(name), expected.number(name)) else {
            return Err(Error::Internal(format!(
                "`{name}` is missing from the bundle's or evaluate's book"
            )));
        };
        if let Some(i) = first_mismatch(got, want) {
            return Err(Error::Internal(format!(
                "the bundle's `{name}` of loan {} is {} where evaluate has {}; this is a bug",
                i + 1,
                got.get(i).copied().unwrap_or(f64::NAN),
                want.get(i).copied().unwrap_or(f64::NAN)
            )));
        }
        max_abs_diff = got
            .iter()
            .zip(want)
            .map(|(a, b)| (a - b).abs())
            .fold(max_abs_diff, f64::max);
    }
    Ok(Check {
        rows: raw.rows() as u64,
        max_abs_diff,
        ok: true,
        suppressed_rows_skipped: 0,
    })
}

/// The PD threshold evaluate chose for the selected model on the training rows (calibrated when
/// the bundle calibrates), if it wrote one.
fn pd_threshold(inputs: &StageInputs, selected: &str) -> Result<Option<f64>> {
    let m: serde_json::Value = read_json(&inputs.artifact("evaluate/metrics.json")?)?;
    let Some(t) = m["models"][selected]["threshold"].as_f64() else {
        return Ok(None);
    };
    Ok(Some(match inputs.optional("train/calibration.json") {
        Some(p) => {
            let c: riskpipe_train::CalibrationFile = read_json(&p)?;
            if c.model == selected { c.calibrator.apply(t) } else { t }
        }
        None => t,
    }))
}

/// The flag threshold evaluate chose for the selected detector.
fn flag_threshold(inputs: &StageInputs, selected: &str) -> Result<f64> {
    let m: riskpipe_core::views::DetectorMetricsView =
        read_json(&inputs.artifact(riskpipe_core::views::DetectorMetricsView::PATH)?)?;
    m.detectors
        .get(selected)
        .map(|d| d.threshold)
        .ok_or_else(|| Error::Internal(format!("evaluate/metrics.json has no threshold for `{selected}`")))
}

/// Runs the stage into `out`: `bundle/`, `test_scores.parquet`, `check.json`.
pub fn run(params: &DeployParams, inputs: &StageInputs, out: &Path, pipeline: &str) -> Result<StageReport> {
    let plan: PrivacyParams = read_json(&inputs.artifact("privacy/plan.json")?)?;
    let transform: Transform = read_json(&inputs.artifact("features/transform.json")?)?;
    let selection: SelectionView = read_json(&inputs.artifact(SelectionView::PATH)?)?;
    let model: Model = read_json(&inputs.artifact(&format!("train/{}.json", selection.selected))?)?;
    let schema: SchemaView = read_json(&inputs.artifact(SchemaView::PATH)?)?;
    let logistic: Option<Model> = match inputs.optional("train/logistic.json") {
        Some(p) => Some(read_json(&p)?),
        None => None,
    };
    // The scorecard train built from the logistic model, when one was fitted.
    let scorecard: Option<Scorecard> = match logistic.as_ref().and_then(Model::logistic) {
        Some(_) => Some(read_json(&inputs.artifact("train/scorecard.json")?)?),
        None => None,
    };
    // Window features are computed from raw events: the bundle reads those columns instead.
    let derived: Vec<String> = transform.events.iter().flat_map(|e| e.feature_names()).collect();
    let mut needed: Vec<String> = transform
        .features
        .iter()
        .map(|f| f.name.clone())
        .filter(|n| !derived.contains(n))
        .collect();
    for c in transform.events.iter().flat_map(|e| e.inputs()) {
        if !needed.contains(&c) {
            needed.push(c);
        }
    }
    if let Some(id) = &schema.id {
        if !needed.contains(id) {
            needed.insert(0, id.clone());
        }
    }
    let kind_of = |n: &str| schema.kind_of(n);
    let mut cols = Vec::new();
    for n in needed {
        let kind = kind_of(&n).ok_or_else(|| Error::Internal(format!("column `{n}` is not in ingest's schema")))?;
        cols.push(InputColumn { name: n, kind });
    }
    let book = match &params.book {
        Some(spec) => {
            let book = Book {
                params: spec.params.clone(),
                pd: Box::new(Book::pd_scorer(&spec.pd_bundle, "loss.pd_bundle")?),
            };
            for c in book.inputs(&kind_of)? {
                if !cols.iter().any(|x| x.name == c.name) {
                    cols.push(c);
                }
            }
            Some((book, &spec.pd_bundle))
        }
        None => None,
    };
    for a in &params.actionable {
        if !cols
            .iter()
            .any(|c| c.name == *a && c.kind == riskpipe_core::frame::ColumnKind::Number)
        {
            return Err(Error::pipeline_key(
                format!("deploy.actionable.{a}"),
                format!(
                    "`{a}` is not a numeric input of the selected model ({})",
                    selection.selected
                ),
            ));
        }
    }
    let info = BundleInfo {
        actionable: params.actionable.clone(),
        decision_threshold: match model.output() {
            riskpipe_models::Output::Probability => pd_threshold(inputs, &selection.selected)?,
            _ => None,
        },
        riskpipe_version: env!("CARGO_PKG_VERSION").to_string(),
        pipeline: pipeline.to_string(),
        model: selection.selected.clone(),
        id: schema.id.clone(),
        inputs: cols,
        missing_values: schema.missing_values.clone(),
        reason_codes: params.reason_codes,
        scaling: (model.output() == riskpipe_models::Output::Probability).then(|| params.scorecard.clone()),
        flag_threshold: match model.output() {
            riskpipe_models::Output::AnomalyScore => Some(flag_threshold(inputs, &selection.selected)?),
            _ => None,
        },
        events: transform.events.clone(),
    };
    // The selected model's PD calibration, when the train stage fitted one.
    let calibration: Option<Calibrator> = match inputs.optional("train/calibration.json") {
        Some(p) => {
            let c: riskpipe_train::CalibrationFile = read_json(&p)?;
            (c.model == selection.selected).then_some(c.calibrator)
        }
        None => None,
    };
    let bundle = out.join("bundle");
    write_json(&bundle.join("bundle.json"), &info)?;
    write_json(&bundle.join("plan.json"), &plan)?;
    write_json(&bundle.join("transform.json"), &transform)?;
    write_json(&bundle.join("model.json"), &model)?;
    if let Some(c) = &calibration {
        write_json(&bundle.join("calibration.json"), c)?;
    }
    if let Some(sc) = &scorecard {
        write_json(&bundle.join("scorecard.json"), sc)?;
        write_atomic(&bundle.join("scorecard.csv"), sc.to_csv().as_bytes())?;
        write_atomic(&bundle.join("scorecard.sql"), sc.to_sql(&transform).as_bytes())?;
    }
    if let Some((b, pd_dir)) = &book {
        b.write(pd_dir, &bundle)?;
    }
    riskpipe_scoring::write_seal(&bundle)?;

    // Score the raw test rows through the bundle, exactly as `riskpipe score` would.
    let scorer = Scorer::load(&bundle)?;
    let raw = read_parquet(&inputs.artifact("ingest/data.parquet")?)?;
    let split = read_parquet(&inputs.artifact("features/split.parquet")?)?;
    let is_test: Vec<usize> = match split.get("split") {
        Some(riskpipe_core::Column::Text(v)) => (0..v.len()).filter(|&i| v[i].as_deref() == Some("test")).collect(),
        _ => {
            return Err(Error::Internal("split.parquet has no `split` column".into()));
        }
    };
    if is_test.len() > raw.rows() || split.rows() != raw.rows() {
        return Err(Error::Internal("split.parquet does not match ingest's data".into()));
    }
    // The training distribution of the score and the features, for drift monitoring; the
    // bundle is sealed again with it.
    let is_train: Vec<usize> = match split.get("split") {
        Some(riskpipe_core::Column::Text(v)) => (0..v.len()).filter(|&i| v[i].as_deref() == Some("train")).collect(),
        _ => Vec::new(),
    };
    write_reference(&scorer, &raw, &is_train, &bundle)?;
    let scorer = Scorer::load(&bundle)?;
    // Window features look back over earlier rows: events are scored with all their history.
    let scored = if scorer.info.events.is_some() {
        scorer.score_with(&raw, 0, "ingest/data.parquet", false)?.take(&is_test)
    } else {
        scorer.score_with(&raw.take(&is_test), 0, "ingest/data.parquet (test rows)", false)?
    };
    let preds = read_parquet(&inputs.artifact("evaluate/predictions.parquet")?)?;
    let column = if calibration.is_some() {
        "pd_calibrated".to_string()
    } else {
        format!("p_{}", selection.selected)
    };
    let expected = preds
        .number(&column)
        .ok_or_else(|| Error::Internal(format!("predictions.parquet lacks `{column}`")))?;
    let got = scored
        .number(&scorer.output_names()[1])
        .ok_or_else(|| Error::Internal("the scorer wrote no PD or anomaly score".into()))?;
    // Rows blanked by k-anonymity's local suppression are compared no further.
    let suppressed: std::collections::BTreeSet<u64> = match inputs.optional(riskpipe_privacy::SUPPRESSED) {
        Some(p) => read_json::<riskpipe_privacy::Suppressed>(&p)?
            .rows
            .into_iter()
            .collect(),
        None => Default::default(),
    };
    let compared: Vec<usize> = (0..is_test.len().min(expected.len()))
        .filter(|&i| !suppressed.contains(&(is_test[i] as u64)))
        .collect();
    let suppressed_rows_skipped = (is_test.len() - compared.len()) as u64;
    let (got, expected): (Vec<f64>, Vec<f64>) = if suppressed_rows_skipped == 0 || got.len() != expected.len() {
        (got.to_vec(), expected.to_vec())
    } else {
        compared.iter().map(|&i| (got[i], expected[i])).unzip()
    };
    let (got, expected) = (&got[..], &expected[..]);
    let first_diff = first_mismatch(got, expected);
    let max_abs_diff = got
        .iter()
        .zip(expected)
        .map(|(a, b)| {
            if a.is_finite() && b.is_finite() {
                (a - b).abs()
            } else {
                f64::INFINITY
            }
        })
        .fold(0.0, f64::max);
    let check = Check {
        rows: got.len() as u64,
        max_abs_diff,
        ok: first_diff.is_none() && got.len() == expected.len(),
        suppressed_rows_skipped,
    };
    write_parquet(&out.join("test_scores.parquet"), &scored)?;
    write_json(&out.join("check.json"), &check)?;
    if check.ok && scorer.book.is_some() {
        write_json(&out.join("book_check.json"), &check_book(&scorer, &raw, inputs)?)?;
    }
    if !check.ok {
        let row = first_diff.map_or(String::new(), |i| {
            format!(" (first at test row {}: {} vs {})", i + 1, got[i], expected[i])
        });
        return Err(Error::Internal(format!(
            "the bundle scores the test rows of the {} model differently from evaluate{row}; this is a bug",
            selection.selected
        )));
    }
    Ok(StageReport {
        rows_in: raw.rows() as u64,
        rows_out: check.rows,
        summary: format!(
            "bundle with {} ({} inputs){}; test rows re-scored, max |diff| {:e}",
            selection.selected,
            info.inputs.len(),
            scorecard
                .map(|s| format!(", scorecard {}..{} points", s.min_score, s.max_score))
                .unwrap_or_default(),
            max_abs_diff
        ),
        ..StageReport::default()
    })
}

#[cfg(test)]
mod tests {
    use super::first_mismatch;

    #[test]
    fn nan_and_infinity_never_pass_the_check() {
        assert_eq!(first_mismatch(&[0.1, 0.2], &[0.1, 0.2]), None);
        assert_eq!(first_mismatch(&[0.1, f64::NAN], &[0.1, f64::NAN]), Some(1));
        assert_eq!(first_mismatch(&[f64::INFINITY], &[f64::INFINITY]), Some(0));
        assert_eq!(first_mismatch(&[0.1, 0.2], &[0.1, 0.2 + 1e-17 + f64::EPSILON]), Some(1));
        assert_eq!(first_mismatch(&[0.1], &[0.1, 0.2]), Some(1));
    }
}
