//! Stress scenarios (`evaluate.robustness`): the test rows, as the privacy stage wrote them,
//! with one column changed (scaled, shifted, blanked in a share of rows, given outliers, or
//! permuted), re-transformed and re-scored by every fitted model (nothing is refitted). Per
//! scenario and model: AUC, KS and the PSI of the scores against the unstressed test scores;
//! then the columns ranked by the damage their stress does to the selected model.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use riskpipe_core::io::read_parquet;
use riskpipe_core::stage::StageInputs;
use riskpipe_core::{Column, Error, Frame, Result, Rng};
use riskpipe_features::Transform;
use riskpipe_models::Model;

/// `evaluate.robustness`, as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RobustnessConfig {
    /// The scenarios.
    pub scenarios: Option<Vec<ScenarioConfig>>,
    /// Also permute every feature the transform reads, one at a time.
    pub permute_each: Option<bool>,
    /// Features the score should move with: `1` the PD never falls as the feature rises, `-1`
    /// never rises.
    pub monotone: Option<BTreeMap<String, i8>>,
    /// The nudge of a monotone feature, as a share of its test standard deviation (default 0.1).
    pub nudge: Option<f64>,
    /// Out-of-time stability: the test rows by period of a date column.
    pub periods: Option<PeriodsConfig>,
}

/// `evaluate.robustness.periods`, as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeriodsConfig {
    /// The date column (after masking).
    pub column: Option<String>,
    /// `month` (default), `quarter` or `year`.
    pub by: Option<String>,
}

/// Checked `evaluate.robustness.periods`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Periods {
    /// The date column.
    pub column: String,
    /// `month`, `quarter` or `year`.
    pub by: String,
}

/// One scenario, as written: a column and exactly one stress.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioConfig {
    /// Name in the report (default `<column> <stress>`).
    pub name: Option<String>,
    /// The column stressed (a raw feature, after masking).
    pub column: Option<String>,
    /// Multiply the values.
    pub scale: Option<f64>,
    /// Add to the values.
    pub shift: Option<f64>,
    /// Blank this share of rows.
    pub missing: Option<f64>,
    /// Set this share of rows to ten times the 99th percentile of the column's magnitude.
    pub outliers: Option<f64>,
    /// Shuffle the column across rows.
    pub permute: Option<bool>,
}

/// A stress.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stress {
    /// x * factor.
    Scale(f64),
    /// x + delta.
    Shift(f64),
    /// A share of rows missing.
    Missing(f64),
    /// A share of rows set to 10 x the 99th percentile of |x|.
    Outliers(f64),
    /// Values shuffled across rows.
    Permute,
}

impl Stress {
    fn describe(&self) -> String {
        match self {
            Stress::Scale(f) => format!("scale {f}"),
            Stress::Shift(d) => format!("shift {d}"),
            Stress::Missing(s) => format!("missing {s}"),
            Stress::Outliers(s) => format!("outliers {s}"),
            Stress::Permute => "permute".into(),
        }
    }
}

/// A checked scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scenario {
    /// Name.
    pub name: String,
    /// Column.
    pub column: String,
    /// Stress.
    pub stress: Stress,
}

/// Checked `evaluate.robustness`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct RobustnessParams {
    /// Declared scenarios.
    pub scenarios: Vec<Scenario>,
    /// Permute every feature too.
    #[serde(default)]
    pub permute_each: bool,
    /// Declared directions.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub monotone: BTreeMap<String, i8>,
    /// Nudge, in test standard deviations.
    #[serde(default = "tenth")]
    pub nudge: f64,
    /// Out-of-time stability.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub periods: Option<Periods>,
}

fn tenth() -> f64 {
    0.1
}

impl RobustnessConfig {
    /// Checks the section; problems name `evaluate.robustness.scenarios[i]`.
    pub fn resolve(self, file: &str, errs: &mut Vec<Error>) -> RobustnessParams {
        let mut scenarios = Vec::new();
        for (i, s) in self.scenarios.unwrap_or_default().into_iter().enumerate() {
            let key = format!("evaluate.robustness.scenarios[{i}]");
            let Some(column) = s.column.clone().filter(|c| !c.is_empty()) else {
                errs.push(Error::config(
                    file,
                    format!("{key}.column"),
                    "each scenario names its `column`",
                ));
                continue;
            };
            let share_ok = |v: f64| v > 0.0 && v <= 1.0;
            let given: Vec<Stress> = [
                s.scale.map(Stress::Scale),
                s.shift.map(Stress::Shift),
                s.missing.map(Stress::Missing),
                s.outliers.map(Stress::Outliers),
                (s.permute == Some(true)).then_some(Stress::Permute),
            ]
            .into_iter()
            .flatten()
            .collect();
            let stress = match given.as_slice() {
                [one] => *one,
                _ => {
                    errs.push(Error::config(
                        file,
                        key,
                        "give exactly one of `scale`, `shift`, `missing`, `outliers`, `permute: true`",
                    ));
                    continue;
                }
            };
            let bad = match stress {
                Stress::Scale(f) | Stress::Shift(f) if !f.is_finite() => Some("must be a finite number"),
                Stress::Missing(v) | Stress::Outliers(v) if !share_ok(v) => Some("is a share of rows, in (0, 1]"),
                _ => None,
            };
            if let Some(why) = bad {
                errs.push(Error::config(file, key, format!("`{}` {why}", stress.describe())));
                continue;
            }
            let name = s.name.unwrap_or_else(|| format!("{column} {}", stress.describe()));
            if scenarios.iter().any(|x: &Scenario| x.name == name) {
                errs.push(Error::config(
                    file,
                    key,
                    format!("a second scenario named `{name}`; give it a `name`"),
                ));
                continue;
            }
            scenarios.push(Scenario { name, column, stress });
        }
        let monotone = self.monotone.unwrap_or_default();
        for (f, d) in &monotone {
            if ![-1, 1].contains(d) {
                errs.push(Error::config(
                    file,
                    format!("evaluate.robustness.monotone.{f}"),
                    format!("`{d}`: write 1 (the PD rises with the feature) or -1 (it falls)"),
                ));
            }
        }
        let nudge = self.nudge.unwrap_or(0.1);
        if !(nudge > 0.0 && nudge.is_finite()) {
            errs.push(Error::config(
                file,
                "evaluate.robustness.nudge",
                "a share of a standard deviation above 0",
            ));
        }
        let periods = self.periods.and_then(|p| {
            let by = p.by.unwrap_or_else(|| "month".into());
            if !["month", "quarter", "year"].contains(&by.as_str()) {
                errs.push(Error::config(
                    file,
                    "evaluate.robustness.periods.by",
                    format!("`{by}`: write `month`, `quarter` or `year`"),
                ));
            }
            match p.column.filter(|c| !c.is_empty()) {
                Some(column) => Some(Periods { column, by }),
                None => {
                    errs.push(Error::config(
                        file,
                        "evaluate.robustness.periods.column",
                        "name the date column",
                    ));
                    None
                }
            }
        });
        RobustnessParams {
            scenarios,
            permute_each: self.permute_each.unwrap_or(false),
            monotone,
            nudge,
            periods,
        }
    }
}

/// One model under one scenario.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StressedModel {
    /// Test AUC under stress.
    pub auc: f64,
    /// Stressed AUC less the unstressed.
    pub auc_change: f64,
    /// KS under stress.
    pub ks: f64,
    /// PSI of the stressed scores against the unstressed ones (10 bins).
    pub psi: f64,
}

/// One scenario's outcome.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScenarioResult {
    /// Name.
    pub name: String,
    /// Column.
    pub column: String,
    /// The stress, in words.
    pub stress: String,
    /// Rows whose value changed.
    pub rows_changed: u64,
    /// Per model.
    pub models: BTreeMap<String, StressedModel>,
}

/// A column's worst damage to the selected model.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Damage {
    /// Column.
    pub column: String,
    /// The scenario that did it.
    pub scenario: String,
    /// AUC lost (unstressed less stressed).
    pub auc_drop: f64,
    /// Its PSI.
    pub psi: f64,
}

/// `metrics.json`'s `robustness`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Robustness {
    /// Test rows stressed.
    pub rows: u64,
    /// The model the ranking is for.
    pub selected: String,
    /// Per scenario.
    pub scenarios: Vec<ScenarioResult>,
    /// Columns by the AUC their worst stress costs the selected model, worst first.
    pub ranking: Vec<Damage>,
    /// Monotonicity of each declared feature.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub monotone: Vec<MonotoneCheck>,
    /// Out-of-time stability: the test rows by period.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub periods: Vec<PeriodResult>,
}

/// The test rows of one period.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PeriodResult {
    /// `2024-03`, `2024-Q1` or `2024`.
    pub period: String,
    /// Rows.
    pub rows: u64,
    /// Share with target 1.
    pub positive_rate: f64,
    /// Per model.
    pub models: BTreeMap<String, PeriodModel>,
}

/// One model in one period.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PeriodModel {
    /// AUC (none when the period holds one class).
    pub auc: Option<f64>,
    /// KS (likewise).
    pub ks: Option<f64>,
    /// PSI of the period's scores against the training scores (10 training deciles).
    pub psi: f64,
}

/// One declared monotone feature, nudged up on every test row that has a value.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MonotoneCheck {
    /// Feature.
    pub feature: String,
    /// Declared direction of the PD: 1 rises with the feature, -1 falls.
    pub direction: i8,
    /// The nudge added.
    pub nudge: f64,
    /// Rows nudged (those with a value).
    pub rows: u64,
    /// Per model: the share of nudged rows whose score moved against the direction.
    pub wrong_way: BTreeMap<String, f64>,
}

/// The fitted models and what they gave on the unstressed test rows.
pub struct Fitted<'a> {
    /// The models, by name.
    pub models: &'a BTreeMap<String, Model>,
    /// The selected one.
    pub selected: &'a str,
    /// The test target.
    pub yte: &'a [f64],
    /// Each model's test scores.
    pub unstressed: &'a BTreeMap<String, Vec<f64>>,
    /// Each model's training scores (the reference of the period PSI).
    pub train_scores: &'a BTreeMap<String, Vec<f64>>,
}

/// The scenarios run on the test rows; also each scenario's seconds (the scoring of the
/// stressed rows by every model), for the manifest's timings.
pub fn assess(
    params: &RobustnessParams,
    inputs: &StageInputs,
    transform: &Transform,
    fitted: &Fitted<'_>,
    seed: u64,
) -> Result<(Robustness, Vec<(String, f64)>)> {
    let Fitted {
        models,
        selected,
        yte,
        unstressed,
        ..
    } = *fitted;
    if transform.events.is_some() {
        return Err(Error::pipeline_key(
            "evaluate.robustness",
            "stress scenarios re-score test rows one by one; window features are computed from the events before them, so a fraud pipeline with `features.windows` cannot be stressed this way",
        ));
    }
    let file = "privacy/data.parquet (test rows)";
    let test = test_rows(inputs)?;
    if test.rows() != yte.len() {
        return Err(Error::Internal(
            "the test rows of privacy/data.parquet do not match the test matrix".into(),
        ));
    }
    // The unstressed rows must score as evaluate scored them: the proof that a stressed score
    // differs because of the stress only.
    let matrix = transform.apply(&test, file)?;
    for (name, model) in models {
        let p = model.predict_frame(&matrix)?;
        if p.iter().zip(&unstressed[name]).any(|(a, b)| a.to_bits() != b.to_bits()) {
            return Err(Error::Internal(format!(
                "the {name} model scores the re-transformed test rows differently from the test matrix"
            )));
        }
    }
    let mut scenarios = params.scenarios.clone();
    if params.permute_each {
        for (col, _) in transform.required_columns() {
            let name = format!("{col} permute");
            if !scenarios.iter().any(|s| s.name == name) {
                scenarios.push(Scenario {
                    name,
                    column: col,
                    stress: Stress::Permute,
                });
            }
        }
    }
    let mut results = Vec::new();
    let mut timings = Vec::new();
    for (i, s) in scenarios.iter().enumerate() {
        let t0 = std::time::Instant::now();
        let mut rng = Rng::derive(seed, &format!("robustness/{}", s.name));
        let key = if i < params.scenarios.len() {
            format!("evaluate.robustness.scenarios[{i}].column")
        } else {
            "evaluate.robustness.permute_each".into()
        };
        let col = test.get(&s.column).ok_or_else(|| Error::ColumnNotFound {
            file: file.into(),
            column: s.column.clone(),
            hint: format!("; `{key}` names it (a raw feature after masking)"),
        })?;
        let (stressed, rows_changed) = stress(col, s.stress, &mut rng)
            .map_err(|m| Error::pipeline_key(key.clone(), format!("`{}`: {m}", s.column)))?;
        let mut frame = test.clone();
        frame.replace(&s.column, stressed);
        let matrix = transform.apply(&frame, file)?;
        let mut per_model = BTreeMap::new();
        for (name, model) in models {
            let p = model.predict_frame(&matrix)?;
            let base = &unstressed[name];
            let auc = riskpipe_metrics::auc(yte, &p);
            per_model.insert(
                name.clone(),
                StressedModel {
                    auc,
                    auc_change: auc - riskpipe_metrics::auc(yte, base),
                    ks: riskpipe_metrics::ks(yte, &p),
                    psi: riskpipe_metrics::psi(base, &p, 10),
                },
            );
        }
        timings.push((format!("robustness {}", s.name), t0.elapsed().as_secs_f64()));
        results.push(ScenarioResult {
            name: s.name.clone(),
            column: s.column.clone(),
            stress: s.stress.describe(),
            rows_changed,
            models: per_model,
        });
    }
    let monotone = monotone_checks(params, &test, transform, fitted)?;
    let mut worst: BTreeMap<String, Damage> = BTreeMap::new();
    for r in &results {
        let m = &r.models[selected];
        let d = Damage {
            column: r.column.clone(),
            scenario: r.name.clone(),
            auc_drop: -m.auc_change,
            psi: m.psi,
        };
        match worst.get(&r.column) {
            Some(w) if w.auc_drop >= d.auc_drop => {}
            _ => {
                worst.insert(r.column.clone(), d);
            }
        }
    }
    let mut ranking: Vec<Damage> = worst.into_values().collect();
    ranking.sort_by(|a, b| b.auc_drop.total_cmp(&a.auc_drop).then(a.column.cmp(&b.column)));
    Ok((
        Robustness {
            rows: test.rows() as u64,
            selected: selected.to_string(),
            scenarios: results,
            ranking,
            monotone,
            periods: match &params.periods {
                Some(p) => by_period(p, &test, fitted)?,
                None => Vec::new(),
            },
        },
        timings,
    ))
}

/// Each declared monotone feature nudged up on the test rows: the share of rows whose score
/// moves against the declared direction, per model.
fn monotone_checks(
    params: &RobustnessParams,
    test: &Frame,
    transform: &Transform,
    fitted: &Fitted<'_>,
) -> Result<Vec<MonotoneCheck>> {
    let file = "privacy/data.parquet (test rows)";
    let (models, unstressed) = (fitted.models, fitted.unstressed);
    let mut monotone = Vec::new();
    for (feature, &direction) in &params.monotone {
        let key = format!("evaluate.robustness.monotone.{feature}");
        let Some(Column::Number(v)) = test.get(feature) else {
            return Err(Error::pipeline_key(
                key,
                format!("`{feature}` is not a number column of the test rows (after masking)"),
            ));
        };
        let known: Vec<f64> = v.iter().copied().filter(|x| !x.is_nan()).collect();
        let mean = known.iter().sum::<f64>() / known.len().max(1) as f64;
        let sd = (known.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / known.len().max(1) as f64).sqrt();
        let nudge = params.nudge * if sd > 0.0 { sd } else { 1.0 };
        let mut frame = test.clone();
        frame.replace(feature, Column::Number(v.iter().map(|x| x + nudge).collect()));
        let matrix = transform.apply(&frame, file)?;
        let mut wrong_way = BTreeMap::new();
        for (name, model) in models {
            let p = model.predict_frame(&matrix)?;
            let wrong = v
                .iter()
                .zip(p.iter().zip(&unstressed[name]))
                .filter(|(x, (after, before))| !x.is_nan() && f64::from(direction) * (*after - *before) < -1e-12)
                .count();
            wrong_way.insert(name.clone(), wrong as f64 / known.len().max(1) as f64);
        }
        monotone.push(MonotoneCheck {
            feature: feature.clone(),
            direction,
            nudge,
            rows: known.len() as u64,
            wrong_way,
        });
    }
    Ok(monotone)
}

/// Metrics and score PSI of the test rows of each period of a date column.
fn by_period(p: &Periods, test: &Frame, fitted: &Fitted<'_>) -> Result<Vec<PeriodResult>> {
    let key = "evaluate.robustness.periods.column";
    let period_of = |r: usize| -> Option<String> {
        match test.get(&p.column)? {
            Column::Date(v) => v[r].map(|d| {
                let (y, m, _) = riskpipe_core::frame::civil_from_days(d);
                match p.by.as_str() {
                    "year" => format!("{y}"),
                    "quarter" => format!("{y}-Q{}", (m - 1) / 3 + 1),
                    _ => format!("{y}-{m:02}"),
                }
            }),
            Column::Number(v) if p.by == "year" => (!v[r].is_nan()).then(|| format!("{}", v[r])),
            _ => None,
        }
    };
    match test.get(&p.column) {
        Some(Column::Date(_)) => {}
        Some(Column::Number(_)) if p.by == "year" => {}
        Some(_) => {
            return Err(Error::pipeline_key(
                key,
                format!(
                    "`{}` is not a date column after masking (a year, as `generalize: year` leaves it, takes `by: year`)",
                    p.column
                ),
            ));
        }
        None => {
            return Err(Error::pipeline_key(
                key,
                format!("the test rows have no column `{}`", p.column),
            ));
        }
    }
    let mut rows_of: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for r in 0..test.rows() {
        rows_of
            .entry(period_of(r).unwrap_or_else(|| "missing".into()))
            .or_default()
            .push(r);
    }
    Ok(rows_of
        .into_iter()
        .map(|(period, rows)| {
            let y: Vec<f64> = rows.iter().map(|&r| fitted.yte[r]).collect();
            let positives = y.iter().filter(|v| **v == 1.0).count();
            let both = positives > 0 && positives < y.len();
            let models = fitted
                .unstressed
                .iter()
                .map(|(name, scores)| {
                    let s: Vec<f64> = rows.iter().map(|&r| scores[r]).collect();
                    (
                        name.clone(),
                        PeriodModel {
                            auc: both.then(|| riskpipe_metrics::auc(&y, &s)),
                            ks: both.then(|| riskpipe_metrics::ks(&y, &s)),
                            psi: riskpipe_metrics::psi(&fitted.train_scores[name], &s, 10),
                        },
                    )
                })
                .collect();
            PeriodResult {
                period,
                rows: rows.len() as u64,
                positive_rate: positives as f64 / y.len() as f64,
                models,
            }
        })
        .collect())
}

/// The test rows of the masked table, in the test matrix's order.
fn test_rows(inputs: &StageInputs) -> Result<Frame> {
    let masked = read_parquet(&inputs.artifact("privacy/data.parquet")?)?;
    let split = read_parquet(&inputs.artifact("features/split.parquet")?)?;
    let is_test: Vec<usize> = match split.get("split") {
        Some(Column::Text(v)) => (0..v.len()).filter(|&i| v[i].as_deref() == Some("test")).collect(),
        _ => return Err(Error::Internal("split.parquet has no `split` column".into())),
    };
    if split.rows() != masked.rows() {
        return Err(Error::Internal(
            "split.parquet does not match the privacy stage's data".into(),
        ));
    }
    Ok(masked.take(&is_test))
}

/// The rows a share picks: `round(share * n)` of them, at least one, chosen by `rng`.
fn pick(n: usize, share: f64, rng: &mut Rng) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..n).collect();
    rng.shuffle(&mut idx);
    idx.truncate(((share * n as f64).round() as usize).clamp(1, n.max(1)));
    idx.sort_unstable();
    idx
}

/// `col` under `stress`, and the rows whose value changed; the error says why it cannot apply.
fn stress(col: &Column, stress: Stress, rng: &mut Rng) -> std::result::Result<(Column, u64), String> {
    let n = col.len();
    let numbers = |what: &str| -> std::result::Result<&Vec<f64>, String> {
        match col {
            Column::Number(v) => Ok(v),
            _ => Err(format!("`{what}` applies to a number column")),
        }
    };
    let changed = |a: &Column, b: &Column| (0..n).filter(|&i| a.display(i) != b.display(i)).count() as u64;
    let out = match stress {
        Stress::Scale(f) => Column::Number(numbers("scale")?.iter().map(|x| x * f).collect()),
        Stress::Shift(d) => Column::Number(numbers("shift")?.iter().map(|x| x + d).collect()),
        Stress::Outliers(share) => {
            let v = numbers("outliers")?;
            let mut mags: Vec<f64> = v.iter().filter(|x| !x.is_nan()).map(|x| x.abs()).collect();
            if mags.is_empty() {
                return Err("every test value is missing".into());
            }
            mags.sort_by(f64::total_cmp);
            let p99 = mags[((mags.len() - 1) as f64 * 0.99).round() as usize];
            let value = 10.0 * if p99 > 0.0 { p99 } else { 1.0 };
            let mut w = v.clone();
            for i in pick(n, share, rng) {
                w[i] = value;
            }
            Column::Number(w)
        }
        Stress::Missing(share) => {
            let rows = pick(n, share, rng);
            match col {
                Column::Number(v) => {
                    let mut w = v.clone();
                    rows.iter().for_each(|&i| w[i] = f64::NAN);
                    Column::Number(w)
                }
                Column::Text(v) => {
                    let mut w = v.clone();
                    rows.iter().for_each(|&i| w[i] = None);
                    Column::Text(w)
                }
                Column::Date(v) => {
                    let mut w = v.clone();
                    rows.iter().for_each(|&i| w[i] = None);
                    Column::Date(w)
                }
            }
        }
        Stress::Permute => {
            let mut idx: Vec<usize> = (0..n).collect();
            rng.shuffle(&mut idx);
            col.take(&idx)
        }
    };
    let k = changed(col, &out);
    Ok((out, k))
}

/// The selected model refitted with other seeds (`train.seed_stability`), on the test rows.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SeedStability {
    /// The model.
    pub model: String,
    /// The selected model's seed first, then the refits' (empty: it takes no seed).
    pub seeds: Vec<u64>,
    /// Test AUC per seed.
    pub auc: Vec<f64>,
    /// Largest less smallest AUC.
    pub auc_range: f64,
    /// Standard deviation of the AUC.
    pub auc_sd: f64,
    /// Each feature in some seed's top five by importance, with the share of seeds that rank it
    /// there; most often first.
    pub top_features: Vec<(String, f64)>,
}

/// Test AUC and top features of the selected model and its refits (`refits` empty: the model
/// takes no seed, and the table says so by its single seed).
pub fn seed_stability(
    selected: (&str, &Model),
    refits: &riskpipe_train::SeedModels,
    train: &Frame,
    test: &Frame,
    yte: &[f64],
) -> Result<SeedStability> {
    let (name, model) = selected;
    let mut seeds: Vec<u64> = refits.base_seed.into_iter().collect();
    seeds.extend(&refits.seeds);
    let models: Vec<&Model> = std::iter::once(model).chain(&refits.models).collect();
    let mut auc = Vec::new();
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for m in &models {
        auc.push(riskpipe_metrics::auc(yte, &m.predict_frame(test)?));
        let mut imp = m.importance(train);
        imp.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        for (f, _) in imp.into_iter().take(5) {
            *counts.entry(f).or_default() += 1;
        }
    }
    let mean = auc.iter().sum::<f64>() / auc.len() as f64;
    let sd = (auc.iter().map(|a| (a - mean).powi(2)).sum::<f64>() / auc.len() as f64).sqrt();
    let range = auc.iter().copied().fold(f64::MIN, f64::max) - auc.iter().copied().fold(f64::MAX, f64::min);
    let mut top_features: Vec<(String, f64)> = counts
        .into_iter()
        .map(|(f, c)| (f, c as f64 / models.len() as f64))
        .collect();
    top_features.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    Ok(SeedStability {
        model: name.to_string(),
        seeds,
        auc,
        auc_range: range,
        auc_sd: sd,
        top_features,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_stress_changes_what_it_says() {
        let v: Vec<f64> = (0..200)
            .map(|i| if i % 50 == 0 { f64::NAN } else { i as f64 })
            .collect();
        let col = Column::Number(v.clone());
        let mut rng = Rng::new(3);
        let (s, n) = stress(&col, Stress::Scale(2.0), &mut rng).unwrap();
        let Column::Number(w) = &s else { panic!() };
        assert!(
            w.iter()
                .zip(&v)
                .all(|(a, b)| (a.is_nan() && b.is_nan()) || *a == 2.0 * b)
        );
        assert_eq!(n, 196, "the 4 missing values stay missing");
        let (s, n) = stress(&col, Stress::Missing(0.1), &mut rng).unwrap();
        assert_eq!(s.missing() - col.missing(), n as usize);
        assert!((16..=20).contains(&n), "20 rows picked, some already missing: {n}");
        let (s, n) = stress(&col, Stress::Outliers(0.05), &mut rng).unwrap();
        let Column::Number(w) = &s else { panic!() };
        assert_eq!(n, 10);
        assert_eq!(
            w.iter().filter(|x| **x == 1970.0).count(),
            10,
            "10 x the 99th percentile of |x| (197)"
        );
        let (s, _) = stress(&col, Stress::Permute, &mut rng).unwrap();
        let sorted = |c: &Column| {
            let mut x: Vec<String> = (0..c.len()).map(|i| format!("{:?}", c.display(i))).collect();
            x.sort();
            x
        };
        assert_eq!(sorted(&s), sorted(&col), "a permutation keeps the values");
        let text = Column::Text(vec![Some("a".into()); 5]);
        assert!(
            stress(&text, Stress::Shift(1.0), &mut rng)
                .unwrap_err()
                .contains("number column")
        );
    }
}
