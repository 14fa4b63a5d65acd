//! The ingest stage: read, type, validate and write `data.parquet`, `schema.json`,
//! `quality.json` (and `truth.parquet` for generated data).

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use riskpipe_core::frame::{parse_date, parse_number};
use riskpipe_core::io::{read_parquet, write_json, write_parquet};
use riskpipe_core::stage::{Input, StageInputs, StageReport};
use riskpipe_core::{Column, ColumnKind, Error, Frame, Result, Target};

use crate::config::{IngestParams, Source};

/// Name of the column ingest adds: the 0-based row number in the source.
pub use riskpipe_core::names::SOURCE_ROW;

/// One column of `schema.json`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SchemaColumn {
    /// Column name.
    pub name: String,
    /// Its kind.
    pub kind: ColumnKind,
    /// Its role: `target`, `id`, `source_row` or `column`.
    pub role: String,
}

/// `schema.json`: the typed columns of the ingested data.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Schema {
    /// Columns in file order.
    pub columns: Vec<SchemaColumn>,
    /// Target column (none for a task without a target).
    pub target: Option<String>,
    /// The evaluation-only label, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Id column, if any.
    pub id: Option<String>,
    /// The value that meant 1 in the source, if the target was not 0/1.
    pub positive: Option<String>,
    /// Missing-value tokens used when reading.
    pub missing_values: Vec<String>,
    /// Columns the target was derived from that describe the outcome (loss prediction's default
    /// flag and recoveries): never features.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub target_sources: Vec<String>,
}

/// `quality.json`: what ingest saw.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct QualityReport {
    /// Data rows read.
    pub rows_read: u64,
    /// Rows written.
    pub rows_written: u64,
    /// Rows rejected, by reason.
    pub rejected: BTreeMap<String, u64>,
    /// The first rejected rows (1-based data rows) with their reason.
    pub rejected_examples: Vec<(u64, String)>,
    /// Missing values per column.
    pub missing: BTreeMap<String, u64>,
    /// Share of positives in the target (or among labelled rows); absent without either.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub positive_rate: Option<f64>,
    /// Columns read as text although some of their values are numbers (fewer than half), with
    /// the counts: the inference rule's decision, stated rather than silent.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub read_as_text: BTreeMap<String, String>,
    /// Loss prediction: how the realised LGD was derived.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lgd: Option<crate::LgdSummary>,
    /// A continuous target: rows with and without one, its mean, values clipped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_summary: Option<TargetSummary>,
}

/// A continuous target in `quality.json`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TargetSummary {
    /// Rows with a target (the model's rows).
    pub with_target: u64,
    /// Rows without (kept in the data, left out of the model).
    pub without_target: u64,
    /// Mean target over the rows with one.
    pub mean: f64,
    /// Values outside [0, 1] clipped (`loss.lgd_out_of_range: clip`).
    pub clipped: u64,
}

/// The files the stage reads.
pub fn inputs(params: &IngestParams) -> Vec<Input> {
    match &params.source {
        Source::Csv { path } | Source::Parquet { path } => vec![Input::External(path.into(), "data.path")],
        Source::SynthLoans { .. }
        | Source::SynthLoss { .. }
        | Source::SynthAccounts { .. }
        | Source::SynthTransactions { .. } => vec![],
    }
}

/// Runs the stage into `out`.
pub fn run(params: &IngestParams, _inputs: &StageInputs, out: &Path) -> Result<StageReport> {
    let mut read_as_text = BTreeMap::new();
    let (mut frame, file, truth) = match &params.source {
        Source::Csv { path } => (
            read_csv(Path::new(path), params, &mut read_as_text)?,
            path.clone(),
            None,
        ),
        Source::Parquet { path } => {
            let p = Path::new(path);
            check_source(p)?;
            let mut f = read_parquet(p)?;
            if f.names().is_empty() || f.rows() == 0 {
                return Err(Error::data(path.clone(), None, None, "the file has no data rows"));
            }
            check_names(f.names(), params, path)?;
            f.check_finite(path, 1)?;
            f.push(SOURCE_ROW, Column::Number((0..f.rows()).map(|i| i as f64).collect()));
            (f, path.clone(), None)
        }
        Source::SynthLoans { rows, seed } => {
            let book = riskpipe_synth::loans(*rows as usize, *seed);
            let mut f = book.data;
            f.push(SOURCE_ROW, Column::Number((0..f.rows()).map(|i| i as f64).collect()));
            (f, format!("synth:loans(rows={rows}, seed={seed})"), Some(book.truth))
        }
        Source::SynthLoss { rows, seed } => {
            let book = riskpipe_synth::loss(*rows as usize, *seed);
            let mut f = book.data;
            f.push(SOURCE_ROW, Column::Number((0..f.rows()).map(|i| i as f64).collect()));
            (f, format!("synth:loss(rows={rows}, seed={seed})"), Some(book.truth))
        }
        Source::SynthAccounts {
            rows,
            seed,
            anomaly_rate,
        } => {
            let book = riskpipe_synth::accounts(*rows as usize, *seed, *anomaly_rate);
            let mut f = book.data;
            f.push(SOURCE_ROW, Column::Number((0..f.rows()).map(|i| i as f64).collect()));
            (
                f,
                format!("synth:accounts(rows={rows}, seed={seed}, anomaly_rate={anomaly_rate})"),
                Some(book.truth),
            )
        }
        Source::SynthTransactions {
            customers,
            terminals,
            days,
            seed,
        } => {
            let params = riskpipe_synth::TransactionParams {
                customers: *customers as usize,
                terminals: *terminals as usize,
                days: *days,
                seed: *seed,
            };
            let (data, truth): (Vec<_>, Vec<_>) = riskpipe_synth::transactions(params).unzip();
            let mut f = riskpipe_core::io::concat(data);
            f.push(SOURCE_ROW, Column::Number((0..f.rows()).map(|i| i as f64).collect()));
            (
                f,
                format!("synth:transactions(customers={customers}, terminals={terminals}, days={days}, seed={seed})"),
                Some(riskpipe_core::io::concat(truth)),
            )
        }
    };
    let rows_read = frame.rows() as u64;
    let lgd = match &params.lgd {
        Some(spec) => {
            let column = spec.target.column();
            if frame.get(column).is_some() {
                return Err(Error::data(
                    &file,
                    None,
                    Some(column),
                    "loss prediction derives its target under this name; rename the column in the source, or name it with `data.target`",
                ));
            }
            let (v, summary) = spec.derive(&frame, &file)?;
            frame.push(column, Column::Number(v));
            Some(summary)
        }
        None => None,
    };
    let (keep, rejected, examples, clipped) = if params.target_kind == Target::Continuous {
        let (clipped, kept) = encode_lgd(&mut frame, params, &file)?;
        (
            (0..frame.rows()).collect(),
            BTreeMap::new(),
            Vec::new(),
            Some((clipped, kept)),
        )
    } else {
        let (k, r, e) = encode_target(&mut frame, params, &file)?;
        (k, r, e, None)
    };
    if keep.len() < frame.rows() {
        frame = frame.take(&keep);
    }
    let positive_rate = positive_rate(&frame, params, &file)?;
    if let Some(id) = &params.id {
        let Some(col) = frame.get(id) else {
            return Err(Error::ColumnNotFound {
                file: file.clone(),
                column: id.clone(),
                hint: "; it is named by `data.id`".into(),
            });
        };
        check_unique_ids(col, frame.number(SOURCE_ROW), id, &file)?;
    }
    let schema = Schema {
        columns: frame
            .iter()
            .map(|(n, c)| SchemaColumn {
                name: n.to_string(),
                kind: c.kind(),
                role: if Some(n) == params.target.as_deref() {
                    "target"
                } else if Some(n) == params.label.as_deref() {
                    "label"
                } else if Some(n) == params.id.as_deref() {
                    "id"
                } else if n == SOURCE_ROW {
                    "source_row"
                } else {
                    "column"
                }
                .into(),
            })
            .collect(),
        target: params.target.clone(),
        label: params.label.clone(),
        id: params.id.clone(),
        positive: params.positive.clone(),
        missing_values: params.missing_values.clone(),
        target_sources: params
            .lgd
            .as_ref()
            .map(|l| l.outcome_columns().into_iter().map(str::to_string).collect())
            .unwrap_or_default(),
    };
    let quality = QualityReport {
        rows_read,
        rows_written: frame.rows() as u64,
        rejected,
        rejected_examples: examples,
        missing: frame.iter().map(|(n, c)| (n.to_string(), c.missing() as u64)).collect(),
        positive_rate,
        read_as_text,
        lgd,
        target_summary: clipped.map(|(clipped, (with, mean))| TargetSummary {
            with_target: with,
            without_target: frame.rows() as u64 - with,
            mean,
            clipped,
        }),
    };
    let rows = write_parquet(&out.join("data.parquet"), &frame)?;
    write_json(&out.join("schema.json"), &schema)?;
    write_json(&out.join("quality.json"), &quality)?;
    let source = match &params.source {
        Source::Csv { path } | Source::Parquet { path } => serde_json::json!({
            "file": Path::new(path).file_name().map(|n| n.to_string_lossy().into_owned()),
            "sha256": riskpipe_core::hash::sha256_file(Path::new(path))?,
            "rows": rows_read,
        }),
        Source::SynthLoans { rows, seed } => serde_json::json!({
            "generator": "loans",
            "rows": rows,
            "seed": seed,
        }),
        Source::SynthLoss { rows, seed } => serde_json::json!({
            "generator": "loss",
            "rows": rows,
            "seed": seed,
        }),
        Source::SynthAccounts {
            rows,
            seed,
            anomaly_rate,
        } => serde_json::json!({
            "generator": "accounts",
            "rows": rows,
            "seed": seed,
            "anomaly_rate": anomaly_rate,
        }),
        Source::SynthTransactions {
            customers,
            terminals,
            days,
            seed,
        } => serde_json::json!({
            "generator": "transactions",
            "customers": customers,
            "terminals": terminals,
            "days": days,
            "seed": seed,
        }),
    };
    write_json(&out.join("source.json"), &source)?;
    if let Some(t) = truth {
        let t = if keep.len() < t.rows() { t.take(&keep) } else { t };
        write_parquet(&out.join("truth.parquet"), &t)?;
    }
    Ok(StageReport {
        rows_in: rows_read,
        rows_out: rows,
        summary: match (&quality.target_summary, quality.positive_rate) {
            (Some(t), _) => format!(
                "{} columns, {} rows with a target (mean {:.4}), {} without",
                frame.names().len(),
                t.with_target,
                t.mean,
                t.without_target
            ),
            (None, Some(r)) => format!("{} columns, {:.1}% positive", frame.names().len(), 100.0 * r),
            (None, None) => format!("{} columns, no target", frame.names().len()),
        },
        ..StageReport::default()
    })
}

/// The share of positives in the target (a target with one class is an error), or among the
/// labelled rows of an evaluation label; `None` without either.
fn positive_rate(frame: &Frame, params: &IngestParams, file: &str) -> Result<Option<f64>> {
    if params.target_kind == Target::Continuous {
        return Ok(None);
    }
    Ok(match (&params.target, params.outcome()) {
        (Some(t), _) => {
            let y = frame.number(t).expect("target encoded");
            let pos = y.iter().sum::<f64>();
            if pos == 0.0 || pos == y.len() as f64 {
                return Err(Error::data(
                    file,
                    None,
                    Some(t),
                    "the target has only one class; a model needs both 0 and 1",
                ));
            }
            Some(pos / y.len() as f64)
        }
        // A label's share among the rows that have one.
        (None, Some(l)) => {
            let y = frame.number(l).expect("label encoded");
            let known: Vec<f64> = y.iter().copied().filter(|v| !v.is_nan()).collect();
            (!known.is_empty()).then(|| known.iter().sum::<f64>() / known.len() as f64)
        }
        (None, None) => None,
    })
}

/// A user error unless the source is a file (a folder gets its own message).
fn check_source(path: &Path) -> Result<()> {
    riskpipe_core::io::check_is_file(path).map_err(|e| match e {
        Error::MissingInput { path, .. } => Error::MissingInput {
            path,
            hint: Some("check `data.path` in the pipeline file".into()),
        },
        e => e,
    })
}

/// Refuses a header that names a column twice, or a source column whose name riskpipe writes
/// beside it (see [`riskpipe_core::names`]). Checked before any data is read.
fn check_names(names: &[String], params: &IngestParams, file: &str) -> Result<()> {
    use riskpipe_core::names::{Role, reserved};
    for (j, name) in names.iter().enumerate() {
        if names[..j].contains(name) {
            return Err(Error::data(
                file,
                None,
                Some(name),
                "the header names this column twice",
            ));
        }
        let role = if Some(name.as_str()) == params.outcome() {
            Role::Target
        } else if Some(name) == params.id.as_ref() {
            Role::Id
        } else {
            Role::Column
        };
        if let Some(why) = reserved(name, role) {
            return Err(Error::data(
                file,
                None,
                Some(name),
                format!("this column name is reserved: {why}; rename the column in the source"),
            ));
        }
    }
    Ok(())
}

/// Every id must name one row: a repeated id would put one key in both train and test.
fn check_unique_ids(col: &Column, source_row: Option<&[f64]>, id: &str, file: &str) -> Result<()> {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut missing = None;
    for i in 0..col.len() {
        let data_row = |i: usize| source_row.map_or(i as u64 + 1, |r| r[i] as u64 + 1);
        let Some(v) = col.display(i) else {
            missing.get_or_insert(data_row(i));
            continue;
        };
        if let Some(first) = seen.insert(v.clone(), i) {
            return Err(Error::data(
                file,
                Some(data_row(i)),
                Some(id),
                format!(
                    "id `{v}` repeats the id of row {}; `data.id` must identify each row (drop `data.id` to key rows by their position)",
                    data_row(first)
                ),
            ));
        }
    }
    if let Some(r) = missing {
        return Err(Error::data(
            file,
            Some(r),
            Some(id),
            "the id is missing; `data.id` must identify each row",
        ));
    }
    Ok(())
}

/// Checks a continuous target, an LGD: numeric, and in [0, 1] or (with `loss.lgd_out_of_range:
/// clip`) clipped to it. Rows without a target stay (a loss task needs the whole book; the LGD
/// model leaves them out). Returns the clipped count, and the rows with a target and their mean.
fn encode_lgd(frame: &mut Frame, params: &IngestParams, file: &str) -> Result<(u64, (u64, f64))> {
    let t = params
        .target
        .as_deref()
        .ok_or_else(|| Error::Internal("a continuous target without a column name".into()))?;
    let key = if params.lgd.is_some() { "loss" } else { "data.target" };
    let mut y = match frame.get(t) {
        Some(Column::Number(v)) => v.clone(),
        Some(c) => {
            return Err(Error::data(
                file,
                None,
                Some(t),
                format!(
                    "the target must be numeric (an LGD or CCF in [0, 1]); it is {:?}",
                    c.kind()
                )
                .to_lowercase(),
            ));
        }
        None => {
            return Err(Error::ColumnNotFound {
                file: file.to_string(),
                column: t.to_string(),
                hint: format!("; it is named by `{key}`"),
            });
        }
    };
    let outside: Vec<usize> = (0..y.len())
        .filter(|&i| !y[i].is_nan() && !(0.0..=1.0).contains(&y[i]))
        .collect();
    if !outside.is_empty() {
        if params.lgd_out_of_range == crate::OutOfRange::Reject {
            let first: Vec<String> = outside
                .iter()
                .take(5)
                .map(|&i| format!("row {}: {:.4}", i + 1, y[i]))
                .collect();
            return Err(Error::data(
                file,
                None,
                Some(t),
                format!(
                    "{} rows have a target (LGD or CCF) outside [0, 1] ({}); check the data, or set `loss.lgd_out_of_range: clip` to clip them",
                    outside.len(),
                    first.join(", ")
                ),
            ));
        }
        for &i in &outside {
            y[i] = y[i].clamp(0.0, 1.0);
        }
    }
    let known: Vec<f64> = y.iter().copied().filter(|v| !v.is_nan()).collect();
    if known.len() < 2 {
        return Err(Error::data(
            file,
            None,
            Some(t),
            format!("{} rows have a target; a model needs more", known.len()),
        ));
    }
    let mean = known.iter().sum::<f64>() / known.len() as f64;
    frame.replace(t, Column::Number(y));
    Ok((outside.len() as u64, (known.len() as u64, mean)))
}

/// Turns the target (or the evaluation label) into 0/1 numbers; returns the rows to keep and
/// the rejection counts. A row without a target is rejected; a row without a label is kept
/// (the label only evaluates, and the rows a detector sees must not depend on it).
fn encode_target(
    frame: &mut Frame,
    params: &IngestParams,
    file: &str,
) -> Result<(Vec<usize>, BTreeMap<String, u64>, Vec<(u64, String)>)> {
    let Some(t) = params.outcome() else {
        return Ok(((0..frame.rows()).collect(), BTreeMap::new(), Vec::new()));
    };
    let (what, key) = if params.target.is_some() {
        ("target", "data.target")
    } else {
        ("label", "data.label")
    };
    let col = frame.get(t).ok_or_else(|| Error::ColumnNotFound {
        file: file.to_string(),
        column: t.to_string(),
        hint: format!("; it is named by `{key}`"),
    })?;
    let n = col.len();
    let mut y = vec![f64::NAN; n];
    let mut distinct: Vec<String> = Vec::new();
    for i in 0..n {
        let Some(v) = col.display(i) else { continue };
        match &params.positive {
            Some(p) => {
                if !distinct.contains(&v) {
                    distinct.push(v.clone());
                    if distinct.len() > 2 {
                        return Err(Error::data(
                            file,
                            Some(i as u64 + 1),
                            Some(t),
                            format!(
                                "the {what} has a third value `{v}` (seen: `{}`, `{}`); a 0/1 {what} has two",
                                distinct[0], distinct[1]
                            ),
                        ));
                    }
                }
                y[i] = if &v == p { 1.0 } else { 0.0 };
            }
            None => {
                y[i] = match v.as_str() {
                    "0" | "0.0" => 0.0,
                    "1" | "1.0" => 1.0,
                    _ => {
                        return Err(Error::data(
                            file,
                            Some(i as u64 + 1),
                            Some(t),
                            format!(
                                "the {what} must be 0 or 1, found `{v}`; set `data.positive` to the value that means the event"
                            ),
                        ));
                    }
                }
            }
        }
    }
    if let Some(p) = &params.positive {
        if !distinct.contains(p) {
            return Err(Error::data(
                file,
                None,
                Some(t),
                format!(
                    "`data.positive` is `{p}`, but the {what} never has that value (it has {})",
                    distinct.iter().map(|d| format!("`{d}`")).collect::<Vec<_>>().join(", ")
                ),
            ));
        }
    }
    let mut keep = Vec::with_capacity(n);
    let mut rejected = BTreeMap::new();
    let mut examples = Vec::new();
    for (i, v) in y.iter().enumerate() {
        if v.is_nan() && params.target.is_some() {
            *rejected.entry("target missing".to_string()).or_insert(0) += 1;
            if examples.len() < 20 {
                examples.push((i as u64 + 1, "target missing".to_string()));
            }
        } else {
            keep.push(i);
        }
    }
    frame.replace(t, Column::Number(y));
    Ok((keep, rejected, examples))
}

#[derive(Default)]
struct Infer {
    num_ok: u64,
    /// Values that are numbers but not finite (`inf`, `-Infinity`): they count as numbers when
    /// deciding the kind, and are then an error.
    num_infinite: u64,
    num_fail: u64,
    first_num_fails: Vec<(u64, String)>,
    date_ok: u64,
    date_fail: u64,
}

/// Values that are not numbers listed in an error, at most.
const BAD_EXAMPLES: usize = 5;

impl Infer {
    /// The kind of a column nobody declared. The rule: numbers when every value is a finite
    /// number, dates when every value is `YYYY-MM-DD`, an error when at least half the values
    /// are numbers but some are not (a number column with stray values is never demoted to text
    /// without a word), and text otherwise, recorded in `quality.json` when some values were
    /// numbers.
    fn kind(&self, name: &str, file: &str, read_as_text: &mut BTreeMap<String, String>) -> Result<ColumnKind> {
        let values = self.num_ok + self.num_fail;
        if self.num_fail == 0 {
            return Ok(ColumnKind::Number);
        }
        if self.date_fail == 0 {
            return Ok(ColumnKind::Date);
        }
        if self.num_ok + self.num_infinite >= self.num_fail - self.num_infinite {
            let (row, _) = self.first_num_fails[0];
            let shown: Vec<String> = self
                .first_num_fails
                .iter()
                .map(|(r, v)| format!("row {r}: `{}`", clip(v)))
                .collect();
            return Err(Error::data(
                file,
                Some(row),
                Some(name),
                format!(
                    "{} of {values} values are finite numbers but {} are not ({}{}); add such values to `data.missing_values`, fix them, or declare the column in `data.schema` (`text` to keep it as text)",
                    self.num_ok,
                    self.num_fail,
                    shown.join(", "),
                    if self.num_fail as usize > shown.len() {
                        ", ..."
                    } else {
                        ""
                    }
                ),
            ));
        }
        if self.num_ok > 0 {
            let note = format!(
                "{} of {values} values are numbers (fewer than half), so the column is text; declare it in `data.schema` to choose",
                self.num_ok
            );
            tracing::warn!(column = name, "Column `{name}` read as text: {note}.");
            read_as_text.insert(name.to_string(), note);
        }
        Ok(ColumnKind::Text)
    }
}

/// A cell value cut for an error message.
fn clip(v: &str) -> String {
    if v.chars().count() > 40 {
        format!("{}...", v.chars().take(40).collect::<String>())
    } else {
        v.to_string()
    }
}

fn csv_reader(path: &Path, params: &IngestParams) -> Result<csv::Reader<std::io::BufReader<fs_err::File>>> {
    check_source(path)?;
    let f = std::io::BufReader::with_capacity(1 << 20, fs_err::File::open(path)?);
    Ok(csv::ReaderBuilder::new()
        .delimiter(params.delimiter as u8)
        .flexible(false)
        .from_reader(f))
}

fn csv_error(path: &Path, e: csv::Error, expected_hint: usize) -> Error {
    let file = path.display().to_string();
    match e.kind() {
        csv::ErrorKind::UnequalLengths { pos, expected_len, len } => Error::data(
            file,
            pos.as_ref().map(|p| p.line().saturating_sub(1)),
            None,
            format!(
                "has {len} fields, the header has {expected_len} (line {}); fix the row or quote fields that contain the separator",
                pos.as_ref().map_or(0, |p| p.line())
            ),
        ),
        csv::ErrorKind::Utf8 { pos, .. } => Error::data(
            file,
            pos.as_ref().map(|p| p.line().saturating_sub(1)),
            None,
            "is not valid UTF-8",
        ),
        csv::ErrorKind::Io(_) => Error::Io(std::io::Error::other(format!("failed to read `{file}`: {e}"))),
        _ => Error::data(
            file,
            None,
            None,
            format!("cannot be read as CSV ({e}); {expected_hint} columns expected"),
        ),
    }
}

/// Reads a CSV file in two streaming passes: infer types, then parse.
fn read_csv(path: &Path, params: &IngestParams, read_as_text: &mut BTreeMap<String, String>) -> Result<Frame> {
    let file = path.display().to_string();
    let mut rdr = csv_reader(path, params)?;
    let headers: Vec<String> = rdr
        .headers()
        .map_err(|e| csv_error(path, e, 0))?
        .iter()
        .map(str::to_string)
        .collect();
    if headers.is_empty() || (headers.len() == 1 && headers[0].is_empty()) {
        return Err(Error::data(
            file,
            None,
            None,
            "the file is empty; a header line and data rows are expected",
        ));
    }
    // An empty header name is `unnamed_0`; names are checked before the data is read.
    let names: Vec<String> = headers
        .iter()
        .map(|h| {
            if h.is_empty() {
                "unnamed_0".to_string()
            } else {
                h.clone()
            }
        })
        .collect();
    check_names(&names, params, &file)?;
    for name in params.schema.keys() {
        if !headers.contains(name) {
            return Err(Error::ColumnNotFound {
                file,
                column: name.clone(),
                hint: "; it is declared in `data.schema`".into(),
            });
        }
    }
    let missing = |s: &str| params.missing_values.iter().any(|m| m == s.trim());
    let mut infer: Vec<Infer> = headers.iter().map(|_| Infer::default()).collect();
    let mut rows = 0u64;
    let mut rec = csv::StringRecord::new();
    while rdr
        .read_record(&mut rec)
        .map_err(|e| csv_error(path, e, headers.len()))?
    {
        rows += 1;
        for (j, v) in rec.iter().enumerate() {
            if missing(v) {
                continue;
            }
            let inf = &mut infer[j];
            if parse_number(v).is_some() {
                inf.num_ok += 1;
            } else {
                if v.trim().parse::<f64>().is_ok() {
                    inf.num_infinite += 1;
                }
                inf.num_fail += 1;
                if inf.first_num_fails.len() < BAD_EXAMPLES {
                    inf.first_num_fails.push((rows, v.to_string()));
                }
            }
            if parse_date(v.trim()).is_some() {
                inf.date_ok += 1;
            } else {
                inf.date_fail += 1;
            }
        }
    }
    if rows == 0 {
        return Err(Error::data(file, None, None, "the file has a header but no data rows"));
    }
    let mut kinds = Vec::with_capacity(headers.len());
    for (j, name) in headers.iter().enumerate() {
        kinds.push(match params.schema.get(name) {
            Some(k) => *k,
            None => infer[j].kind(name, &file, read_as_text)?,
        });
    }
    // Pass 2: parse into typed columns.
    let mut rdr = csv_reader(path, params)?;
    let mut cols: Vec<Column> = kinds.iter().map(|k| Column::with_capacity(*k, rows as usize)).collect();
    let mut r = 0u64;
    while rdr
        .read_record(&mut rec)
        .map_err(|e| csv_error(path, e, headers.len()))?
    {
        r += 1;
        for (j, v) in rec.iter().enumerate() {
            cols[j].push_parsed(v, missing(v)).map_err(|expected| {
                Error::data(
                    file.clone(),
                    Some(r),
                    Some(&headers[j]),
                    format!("expected {expected}, found `{v}`"),
                )
            })?;
        }
    }
    let mut frame = Frame::new();
    for (name, col) in names.into_iter().zip(cols) {
        frame.push(name, col);
    }
    frame.push(
        SOURCE_ROW,
        Column::Number((0..frame.rows()).map(|i| i as f64).collect()),
    );
    Ok(frame)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::IngestConfig;

    fn params(path: &Path, target: &str) -> IngestParams {
        IngestConfig {
            path: Some(path.to_string_lossy().into()),
            target: Some(target.into()),
            ..Default::default()
        }
        .resolve("p.yaml", Path::new(""), 1, riskpipe_core::Target::Binary, None)
        .unwrap()
    }

    fn run_on(text: &str) -> (tempfile::TempDir, Result<StageReport>) {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("d.csv");
        fs_err::write(&p, text).unwrap();
        let out = dir.path().join("out");
        let r = run(&params(&p, "y"), &StageInputs::at(dir.path()), &out);
        (dir, r)
    }

    #[test]
    fn types_are_inferred() {
        let (dir, r) = run_on("a,b,c,y\n1,x,2024-01-02,0\n2.5,,2024-02-03,1\nNA,z,,1\n");
        r.unwrap();
        let f = read_parquet(&dir.path().join("out/data.parquet")).unwrap();
        assert_eq!(f.get("a").unwrap().kind(), ColumnKind::Number);
        assert_eq!(f.get("b").unwrap().kind(), ColumnKind::Text);
        assert_eq!(f.get("c").unwrap().kind(), ColumnKind::Date);
        assert_eq!(f.get("a").unwrap().missing(), 1);
    }

    #[test]
    fn rows_without_target_are_rejected_and_reported() {
        let (dir, r) = run_on("a,y\n1,0\n2,\n3,1\n4,NA\n5,0\n");
        assert_eq!(r.unwrap().rows_out, 3);
        let q: QualityReport = riskpipe_core::io::read_json(&dir.path().join("out/quality.json")).unwrap();
        assert_eq!(q.rows_read, 5);
        assert_eq!(q.rejected.get("target missing"), Some(&2));
        assert_eq!(q.rejected_examples[0], (2, "target missing".to_string()));
    }

    #[test]
    fn bad_inputs_are_user_errors() {
        let cases = [
            ("", "empty"),
            ("a,y\n", "no data rows"),
            ("a,y\n1,0\n2\n", "row 2"),
            ("a,y\n1,0\n2,2\n", "third value"),
            ("a,z\n1,0\n2,1\n", "no column `y`"),
        ];
        for (text, want) in cases {
            let (_d, r) = run_on(text);
            let e = r.unwrap_err();
            assert_eq!(e.class(), riskpipe_core::ErrorClass::User, "{text:?}: {e}");
            let msg = e.to_string();
            assert!(
                msg.contains(want) || (want == "third value" && msg.contains("must be 0 or 1")),
                "{text:?}: {msg}"
            );
        }
        let mut text = String::from("income,y\n");
        for i in 0..100 {
            text.push_str(&format!(
                "{},{}\n",
                if i == 57 { "abc".to_string() } else { i.to_string() },
                i % 2
            ));
        }
        let (_d, r) = run_on(&text);
        let msg = r.unwrap_err().to_string();
        assert!(
            msg.contains("row 58") && msg.contains("`income`") && msg.contains("`abc`"),
            "{msg}"
        );
    }
}
