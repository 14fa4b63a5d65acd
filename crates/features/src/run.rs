//! The features stage: split, fit the transform on train, write matrices.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use riskpipe_core::io::{read_json, read_parquet, write_json, write_parquet};
use riskpipe_core::split::holdout;
use riskpipe_core::stage::{Input, StageInputs, StageReport};
use riskpipe_core::views::SchemaView;
use riskpipe_core::{Column, Error, Frame, Result, Rng, Target};

/// The target column of `f` (empty without a target).
fn y_of(f: &Frame, target: &Option<String>) -> Vec<f64> {
    target
        .as_deref()
        .and_then(|t| f.number(t))
        .map(<[f64]>::to_vec)
        .unwrap_or_default()
}

use crate::config::{BinningMethod, FeaturesParams, SplitKind};
use crate::events::{Part, PeriodSplit, event_features, split_periods, timestamps};
use crate::transform::{FitSpec, Transform, WOE_PREFIX};
use riskpipe_scorecard::{Binner, QuantileBinner};
use riskpipe_scorecard::{Decision, select};

/// Column of `split.parquet` and the matrices naming the source row (the id, or the row number).
pub use riskpipe_core::names::ROW;
/// Column of `split.parquet` holding `train` or `test`.
pub use riskpipe_core::names::SPLIT;

/// One feature's line in `report.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FeatureSummary {
    /// Column.
    pub name: String,
    /// `numeric` or `categorical`.
    pub kind: String,
    /// Information value on train (WoE-binned features only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iv: Option<f64>,
    /// Bins (plus missing), of WoE-binned features.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bins: Option<usize>,
    /// Missing share on train.
    pub missing_share: f64,
    /// Event-rate trend of the bins, when the binner enforces one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trend: Option<String>,
    /// Why the requested trend could not be followed without losing information, if so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trend_note: Option<String>,
}

/// `report.json` of the features stage.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FeaturesReport {
    /// Training rows.
    pub train_rows: u64,
    /// Test rows.
    pub test_rows: u64,
    /// Rows left out of the matrices for want of a target (a continuous target: loans that
    /// did not default have no LGD).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub without_target: u64,
    /// Under `split: periods`: the rows in neither part.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub periods: Option<PeriodsReport>,
    /// The columns `features.windows` added (flags and window aggregates).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub window_features: Vec<String>,
    /// Positive share on train and test.
    pub positive_rate: BTreeMap<String, f64>,
    /// Features sorted by IV, highest first.
    pub features: Vec<FeatureSummary>,
    /// Columns not used, with the reason.
    pub excluded: BTreeMap<String, String>,
    /// The scorecard's feature selection: every feature, kept or dropped and why (by IV).
    #[serde(default)]
    pub selection: Vec<Decision>,
}

/// Rows `split: periods` leaves out of both parts.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PeriodsReport {
    /// Rows in the label delay or outside the periods.
    pub delay_or_outside_rows: u64,
    /// Test rows of cards already known compromised (blocked before their day).
    pub known_card_rows: u64,
}

/// What the event sections made of the rows.
struct EventSplit {
    /// The added columns.
    names: Vec<String>,
    /// The time-aware split, under `split: periods`.
    split: Option<PeriodSplit>,
}

/// Under `features.windows` and `split: periods`: reads the timestamps, adds the flags and
/// window aggregates to `frame` (a name the data has already is an error), and splits by the
/// periods.
fn event_columns(
    frame: &mut Frame,
    params: &FeaturesParams,
    target: Option<&str>,
    y: &[f64],
    file: &str,
) -> Result<Option<EventSplit>> {
    if params.windows.is_none() && params.periods.is_none() {
        return Ok(None);
    }
    let time = params.time_column.as_deref().unwrap_or_default();
    let seconds = timestamps(frame, time, file, 0)?;
    let mut names = Vec::new();
    if let Some(w) = &params.windows {
        for (name, col) in event_features(frame, &seconds, w, target, file)? {
            if frame.get(&name).is_some() {
                return Err(Error::data(
                    file,
                    None,
                    Some(&name),
                    "`features.windows` adds a column of this name; rename the column in the data",
                ));
            }
            names.push(name.clone());
            frame.push(name, col);
        }
    }
    let split = match &params.periods {
        Some(p) => Some(split_periods(frame, &seconds, y, p, file)?),
        None => None,
    };
    Ok(Some(EventSplit { names, split }))
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// The files the stage reads.
pub fn inputs(_params: &FeaturesParams) -> Vec<Input> {
    vec![
        Input::Artifact("privacy/data.parquet".into()),
        Input::Artifact("ingest/schema.json".into()),
    ]
}

/// Runs the stage into `out`: `split.parquet`, `train.parquet`, `test.parquet`,
/// `transform.json`, `report.json`.
pub fn run(params: &FeaturesParams, inputs: &StageInputs, out: &Path) -> Result<StageReport> {
    let src = inputs.artifact("privacy/data.parquet")?;
    let mut frame = read_parquet(&src)?;
    let schema: SchemaView = read_json(&inputs.artifact("ingest/schema.json")?)?;
    let file = src.display().to_string();
    // The column carried beside the features: the target, or a label that only evaluates (it
    // decides nothing here: not the split, not a fitted value).
    let (outcome, target, y) = outcome_columns(&frame, &schema, &file)?;
    // Events in time: window aggregates join the columns, and the periods split the rows.
    let t_events = std::time::Instant::now();
    let events = event_columns(&mut frame, params, target.as_deref(), &y, &file)?;
    let events_secs = t_events.elapsed().as_secs_f64();
    // A continuous target (loss prediction's realised LGD) exists for some rows only, the
    // defaulted loans: the matrices hold those.
    let all_rows = frame.rows();
    let full = frame;
    let (frame, y, kept) = if params.target == Target::Continuous {
        let keep: Vec<usize> = (0..y.len()).filter(|&i| !y[i].is_nan()).collect();
        let y: Vec<f64> = keep.iter().map(|&i| y[i]).collect();
        (std::borrow::Cow::Owned(full.take(&keep)), y, Some(keep))
    } else {
        (std::borrow::Cow::Borrowed(&full), y, None)
    };
    let without_target = (all_rows - frame.rows()) as u64;

    // Which columns are features.
    let (columns, excluded) = choose_columns(&frame, &schema, params, &file)?;

    // Split before any fitting: a row is test (true), train (false), or in neither part (the
    // label delay, days outside the periods, cards already blocked).
    let is_test: Vec<Option<bool>> = match &events {
        Some(EventSplit { split: Some(s), .. }) => s
            .part
            .iter()
            .map(|p| match p {
                Part::Train => Some(false),
                Part::Test => Some(true),
                Part::None => None,
            })
            .collect(),
        _ => split_rows(&frame, &y, params, &file)?.into_iter().map(Some).collect(),
    };
    let train_idx: Vec<usize> = (0..frame.rows()).filter(|&i| is_test[i] == Some(false)).collect();
    let test_idx: Vec<usize> = (0..frame.rows()).filter(|&i| is_test[i] == Some(true)).collect();
    let train = frame.take(&train_idx);
    let test = frame.take(&test_idx);
    check_parts(
        &[("train", &train), ("test", &test)],
        target.as_deref(),
        params.target,
        &file,
    )?;

    let quantile = QuantileBinner {
        max_bins: params.max_bins,
        min_category_share: params.min_category_share,
        min_bin_share: params.min_bin_share,
        monotonic: params.monotonic,
    };
    let binner: &(dyn Binner + Sync) = match params.binning_method {
        BinningMethod::Optimal => &params.optimal,
        BinningMethod::Quantile => &quantile,
    };
    // WoE needs a 0/1 target; detectors need scaled columns.
    let spec = FitSpec {
        woe: match (&target, params.target) {
            (Some(t), Target::Binary) => Some((t.as_str(), binner)),
            _ => None,
        },
        scaling: (params.target == Target::None || !params.anomaly_scores.is_empty()).then_some(params.scaling),
        categories: params.category_encoding,
        cap: (params.cap_lower, params.cap_upper),
    };
    if params.target == Target::None && !params.anomaly_scores.is_empty() {
        return Err(Error::pipeline_key(
            "features.anomaly_scores",
            "a task without a target fits its detectors under `train.models`; anomaly scores as features are for tasks with a target",
        ));
    }
    let mut transform = Transform::fit(&train, &columns, &spec)?;
    transform.target = target.clone();
    transform.label = schema.label.clone();
    transform.fit_derived(
        &train,
        &file,
        params.reduction,
        &params.anomaly_scores,
        params.target == Target::None,
        params.seed,
    )?;

    // The `row` column: the id when declared, else the source row number.
    let row_col = |f: &Frame| -> Column {
        match schema.id.as_deref().and_then(|id| f.get(id)) {
            Some(c) => c.clone(),
            None => f
                .get(riskpipe_core::names::SOURCE_ROW)
                .cloned()
                .unwrap_or(Column::Number(vec![f64::NAN; f.rows()])),
        }
    };
    // One line per row of the data, in its order: `train`, `test`, or (without a target)
    // `none`.
    let mut split = Frame::new();
    let mut part: Vec<Option<String>> = is_test
        .iter()
        .map(|t| {
            Some(
                match t {
                    Some(true) => "test",
                    Some(false) => "train",
                    None => "none",
                }
                .to_string(),
            )
        })
        .collect();
    match &kept {
        Some(keep) => {
            let mut all = vec![Some("none".to_string()); all_rows];
            for (k, &i) in keep.iter().enumerate() {
                all[i] = part[k].take();
            }
            split.push(ROW, row_col(&full));
            split.push(SPLIT, Column::Text(all));
        }
        None => {
            split.push(ROW, row_col(&frame));
            split.push(SPLIT, Column::Text(part));
        }
    }
    write_parquet(&out.join("split.parquet"), &split)?;

    let mut rows_out = 0;
    let mut rates = BTreeMap::new();
    let mut decisions = Vec::new();
    for (part, f, idx) in [("train", &train, &train_idx), ("test", &test, &test_idx)] {
        let x = transform.apply(f, &file)?;
        if part == "train" && spec.woe.is_some() {
            // Selection for the scorecard, on the training WoE columns.
            let feats: Vec<(String, f64, &[f64])> = transform
                .features
                .iter()
                .filter_map(|t| {
                    let woe = x.number(&format!("{WOE_PREFIX}{}", t.name)).expect("woe column");
                    Some((t.name.clone(), t.binning.as_ref()?.iv, woe))
                })
                .collect();
            decisions = select(&feats, &y_of(f, &target), &params.selection);
            transform.woe_features = decisions
                .iter()
                .filter(|d| d.kept)
                .map(|d| format!("{WOE_PREFIX}{}", d.feature))
                .collect();
        }
        let mut m = Frame::new();
        m.push(ROW, row_col(f));
        if let Some(w) = &params.weight {
            m.push(riskpipe_core::names::WEIGHT, Column::Number(weights(f, w, &file)?));
        }
        if let Some(s) = &params.stratify {
            m.push(riskpipe_core::names::STRATUM, Column::Number(stratum(f, s, &file)?));
        }
        if let Some(EventSplit { split: Some(s), .. }) = &events {
            m.push(
                riskpipe_core::names::DAY,
                Column::Number(idx.iter().map(|&i| s.day[i]).collect()),
            );
            m.push(
                riskpipe_core::names::CARD,
                Column::Number(idx.iter().map(|&i| s.card[i]).collect()),
            );
        }
        if let Some(c) = &outcome {
            m.push(c.clone(), f.get(c).expect("outcome").clone());
            // A continuous target has no positive share (its mean goes in the report below).
            // A label's share among the rows that have one.
            let known: Vec<f64> = f
                .number(c)
                .expect("outcome")
                .iter()
                .copied()
                .filter(|v| !v.is_nan())
                .collect();
            if !known.is_empty() && params.target != Target::Continuous {
                rates.insert(part.to_string(), known.iter().sum::<f64>() / known.len() as f64);
            }
        }
        for (n, c) in x.iter() {
            m.push(n, c.clone());
        }
        rows_out += write_parquet(&out.join(format!("{part}.parquet")), &m)?;
    }
    transform.periods = params.periods.as_ref().map(|p| p.periods);
    transform.events = params.windows.as_ref().map(|w| crate::events::EventSpec {
        time_column: params.time_column.clone().unwrap_or_default(),
        label: target.clone(),
        windows: w.clone(),
    });
    write_json(&out.join("transform.json"), &transform)?;

    let feats = summaries(&transform, &train);
    let top = feats
        .first()
        .and_then(|f| Some(format!(", top IV {} = {:.3}", f.name, f.iv?)))
        .unwrap_or_default();
    let report = FeaturesReport {
        train_rows: train.rows() as u64,
        test_rows: test.rows() as u64,
        without_target,
        periods: events.as_ref().and_then(|e| e.split.as_ref()).map(|s| PeriodsReport {
            delay_or_outside_rows: s.part.iter().filter(|p| **p == Part::None).count() as u64 - s.known_card_rows,
            known_card_rows: s.known_card_rows,
        }),
        window_features: events.map(|e| e.names).unwrap_or_default(),
        positive_rate: rates,
        features: feats,
        excluded,
        selection: {
            let mut d = decisions;
            d.sort_by(|a, b| b.iv.total_cmp(&a.iv).then(a.feature.cmp(&b.feature)));
            d
        },
    };
    write_json(&out.join("report.json"), &report)?;
    Ok(StageReport {
        rows_in: all_rows as u64,
        rows_out,
        summary: format!(
            "{} features, {} train / {} test{top}{}",
            columns.len(),
            train.rows(),
            test.rows(),
            if without_target > 0 {
                format!(", {without_target} rows without a target left out")
            } else {
                String::new()
            }
        ),
        timings: if params.windows.is_some() || params.periods.is_some() {
            [("events_secs".to_string(), events_secs)].into_iter().collect()
        } else {
            BTreeMap::new()
        },
    })
}

/// The column carried beside the features (the target, or a label that only evaluates: it
/// decides nothing here, not the split, not a fitted value), the target, and the target's
/// values (zeros without one, for the plain split).
fn outcome_columns(
    frame: &Frame,
    schema: &SchemaView,
    file: &str,
) -> Result<(Option<String>, Option<String>, Vec<f64>)> {
    let outcome = schema.outcome().map(str::to_string);
    if let Some(c) = &outcome {
        if frame.number(c).is_none() {
            return Err(Error::ColumnNotFound {
                file: file.to_string(),
                column: c.clone(),
                hint: String::new(),
            });
        }
    }
    let target = schema.target.clone();
    let y = match &target {
        Some(t) => frame.number(t).expect("checked").to_vec(),
        None => vec![0.0; frame.rows()],
    };
    Ok((outcome, target, y))
}

/// The row weights of `f` from column `name` (`train.weight`): a missing column, a text column,
/// or a missing, negative or infinite value is a user error naming it (and the row).
fn weights(f: &Frame, name: &str, file: &str) -> Result<Vec<f64>> {
    let Some(w) = f.number(name) else {
        return Err(Error::pipeline_key(
            "train.weight",
            format!("`{name}` is not a numeric column of the data"),
        ));
    };
    if let Some(i) = w.iter().position(|v| !(v.is_finite() && *v >= 0.0)) {
        let row = f
            .number(riskpipe_core::names::SOURCE_ROW)
            .map_or(i as u64 + 1, |r| r[i] as u64);
        return Err(Error::data(
            file,
            Some(row),
            Some(name),
            format!(
                "row weight {} (`train.weight`): weights must be numbers of at least 0",
                w[i]
            ),
        ));
    }
    if !w.iter().any(|v| *v > 0.0) {
        return Err(Error::pipeline_key(
            "train.weight",
            format!("every row's `{name}` is 0: the rows would weigh nothing"),
        ));
    }
    Ok(w.to_vec())
}

/// The 0/1 values of `f`'s column `name` (`train.stratify`): a missing or text column, or a value
/// other than 0 or 1, is a user error naming it (and the row).
fn stratum(f: &Frame, name: &str, file: &str) -> Result<Vec<f64>> {
    let Some(v) = f.number(name) else {
        return Err(Error::pipeline_key(
            "train.stratify",
            format!("`{name}` is not a numeric 0/1 column of the data"),
        ));
    };
    if let Some(i) = v.iter().position(|x| *x != 0.0 && *x != 1.0) {
        return Err(Error::data(
            file,
            Some(i as u64 + 1),
            Some(name),
            format!("{} is not 0 or 1 (`train.stratify` names a 0/1 column)", v[i]),
        ));
    }
    Ok(v.to_vec())
}

/// Both parts of the split have rows, and with a 0/1 target both classes.
fn check_parts(parts: &[(&str, &Frame)], target: Option<&str>, kind: Target, file: &str) -> Result<()> {
    for (part, f) in parts {
        if f.rows() == 0 {
            return Err(Error::data(
                file,
                None,
                None,
                format!("the {part} set has no rows; use more rows or another `features.test_fraction`"),
            ));
        }
        let Some(t) = target else { continue };
        let yy = f.number(t).expect("target");
        let pos = yy.iter().sum::<f64>();
        if kind == Target::Binary && (pos == 0.0 || pos == yy.len() as f64) {
            return Err(Error::data(
                file,
                None,
                Some(t),
                format!("the {part} set has only one class; use more rows or another split"),
            ));
        }
    }
    Ok(())
}

/// The feature columns of `frame`, and every other column with the reason it is not one.
fn choose_columns(
    frame: &Frame,
    schema: &SchemaView,
    params: &FeaturesParams,
    file: &str,
) -> Result<(Vec<String>, BTreeMap<String, String>)> {
    let outcome = schema.outcome().unwrap_or_default();
    let outcome_role = if schema.target.is_some() {
        "target"
    } else {
        "evaluation label (data.label)"
    };
    let mut excluded = BTreeMap::new();
    let mut columns = Vec::new();
    for name in &params.exclude {
        if frame.get(name).is_none() {
            return Err(Error::ColumnNotFound {
                file: file.to_string(),
                column: name.clone(),
                hint: "; it is listed in `features.exclude`".into(),
            });
        }
    }
    for (name, col) in frame.iter() {
        let reason = if name == outcome {
            Some(outcome_role.to_string())
        } else if Some(name) == schema.id.as_deref() {
            Some("id column".to_string())
        } else if schema.target_sources.iter().any(|c| c == name) {
            Some("the target is derived from it (`loss:`): it describes the outcome".to_string())
        } else if name == riskpipe_core::names::SOURCE_ROW {
            Some("row number".to_string())
        } else if params.exclude.iter().any(|e| e == name) {
            Some("listed in features.exclude".to_string())
        } else if params.windows.is_some() && params.time_column.as_deref() == Some(name) {
            Some("time column of the window features".to_string())
        } else if params
            .windows
            .as_ref()
            .is_some_and(|w| w.entities.iter().any(|e| e.column == name))
            || params.periods.as_ref().is_some_and(|p| p.card == name)
        {
            Some("entity column of the window features or periods (an identifier)".to_string())
        } else {
            match col {
                Column::Date(_) => Some("date column (use it for `split: time`)".to_string()),
                Column::Text(v) => {
                    let mut distinct: Vec<&str> = v.iter().flatten().map(String::as_str).collect();
                    distinct.sort_unstable();
                    distinct.dedup();
                    (distinct.len() > params.max_categories).then(|| {
                        format!(
                            "{} distinct values (more than features.max_categories = {})",
                            distinct.len(),
                            params.max_categories
                        )
                    })
                }
                Column::Number(v) => v.iter().all(|x| x.is_nan()).then(|| "all values missing".to_string()),
            }
        };
        match reason {
            Some(r) => {
                excluded.insert(name.to_string(), r);
            }
            None => columns.push(name.to_string()),
        }
    }
    if columns.is_empty() {
        return Err(Error::data(
            file,
            None,
            None,
            "no usable feature columns (see `features.exclude` and `features.max_categories`)",
        ));
    }
    Ok((columns, excluded))
}

/// Which rows are test rows: a stratified hold-out, or the latest dates under `split: time`.
fn split_rows(frame: &Frame, y: &[f64], params: &FeaturesParams, file: &str) -> Result<Vec<bool>> {
    Ok(match params.split {
        SplitKind::Stratified => holdout(
            params.target,
            y,
            params.test_fraction,
            &mut Rng::derive(params.seed, "features.split"),
        ),
        SplitKind::Periods => return Err(Error::Internal("`split: periods` splits with its windows".into())),
        SplitKind::Time => {
            let tc = params.time_column.as_deref().unwrap_or_default();
            let Some(Column::Date(d)) = frame.get(tc) else {
                return Err(Error::data(
                    file,
                    None,
                    Some(tc),
                    "`features.time_column` must name a date column",
                ));
            };
            let mut known: Vec<i32> = d.iter().flatten().copied().collect();
            known.sort_unstable();
            if known.is_empty() {
                return Err(Error::data(file, None, Some(tc), "the time column has no dates"));
            }
            if let Some(i) = d.iter().position(Option::is_none) {
                let row = frame
                    .number(riskpipe_core::names::SOURCE_ROW)
                    .map_or(i as u64 + 1, |r| r[i] as u64 + 1);
                return Err(Error::data(
                    file,
                    Some(row),
                    Some(tc),
                    format!(
                        "{} rows have no date, and `split: time` cannot tell whether they belong to train or test; fill them in or use `split: stratified`",
                        d.len() - known.len()
                    ),
                ));
            }
            let cutoff = known[((1.0 - params.test_fraction) * known.len() as f64) as usize % known.len()];
            d.iter().map(|x| x.is_some_and(|x| x >= cutoff)).collect()
        }
    })
}

/// One summary per fitted feature, highest IV first (trend notes logged).
fn summaries(transform: &Transform, train: &Frame) -> Vec<FeatureSummary> {
    let mut feats: Vec<FeatureSummary> = transform
        .features
        .iter()
        .map(|f| FeatureSummary {
            name: f.name.clone(),
            kind: match f.encoding {
                crate::transform::Encoding::Numeric { .. } => "numeric".into(),
                crate::transform::Encoding::Categorical { .. } => "categorical".into(),
            },
            iv: f.binning.as_ref().map(|b| b.iv),
            bins: f.binning.as_ref().map(|b| {
                b.bins.len() + usize::from(b.missing.is_some()) + b.specials.iter().filter(|s| s.bin.is_some()).count()
            }),
            missing_share: train
                .get(&f.name)
                .map_or(0.0, |c| c.missing() as f64 / train.rows().max(1) as f64),
            trend: f.binning.as_ref().and_then(|b| b.trend.clone()),
            trend_note: f.binning.as_ref().and_then(|b| b.trend_note.clone()),
        })
        .collect();
    for f in &feats {
        if let Some(note) = &f.trend_note {
            tracing::warn!(feature = %f.name, "Binning of `{}` {note}.", f.name);
        }
    }
    let iv = |f: &FeatureSummary| f.iv.unwrap_or(f64::NEG_INFINITY);
    feats.sort_by(|a, b| iv(b).total_cmp(&iv(a)).then(a.name.cmp(&b.name)));
    feats
}
