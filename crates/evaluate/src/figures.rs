//! Everything the report shows beyond `metrics.json`: curves, bands, stability, importance,
//! binning tables and the data reports. Computed once from sorted scores; plotted from at most a
//! few hundred points.

use std::collections::BTreeMap;

use rayon::prelude::*;

use riskpipe_core::frame::ColumnKind;
use riskpipe_core::io::{TextCodes, parquet_column_kinds, read_json, read_parquet_columns, read_parquet_text_codes};
use riskpipe_core::manifest::{Manifest, now_rfc3339};
use riskpipe_core::stage::StageInputs;
use riskpipe_core::{Column, Frame, Result};
use riskpipe_features::{Bin, Scorecard, Transform};
use riskpipe_metrics::{BandRow, band_table_in, ks_points_in, psi, psi_discrete};
use riskpipe_models::Model;

use crate::artifacts::MetricsFile;
use crate::config::EvaluateParams;

/// What [`build`] reads.
pub struct Inputs<'a> {
    /// Stage parameters.
    pub params: &'a EvaluateParams,
    /// Artifact paths.
    pub inputs: &'a StageInputs,
    /// Computed metrics.
    pub metrics: &'a MetricsFile,
    /// Train matrix.
    pub train: &'a Frame,
    /// Test matrix.
    pub test: &'a Frame,
    /// (train, test) predictions per model.
    pub scores: &'a BTreeMap<String, (Vec<f64>, Vec<f64>)>,
    /// The models.
    pub models: &'a BTreeMap<String, Model>,
    /// The fitted transform (binning tables).
    pub transform: Transform,
    /// The logistic model's scorecard, when one was trained.
    pub scorecard: Option<Scorecard>,
    /// ROC points per model (test).
    pub roc: Vec<(String, Vec<(f64, f64)>)>,
    /// PR points per model (test).
    pub pr: Vec<(String, Vec<(f64, f64)>)>,
}

/// One feature's binning table.
#[derive(Debug, Clone)]
pub struct BinningTable {
    /// Feature.
    pub feature: String,
    /// IV.
    pub iv: f64,
    /// Logistic coefficient of its WoE column, when the logistic model uses it.
    pub coef: Option<f64>,
    /// Bins, missing last, with their scorecard points when the feature is in the scorecard.
    pub bins: Vec<(Bin, Option<i64>)>,
    /// Scorecard points of a value with no bin (missing or unseen where training had none).
    pub neutral_points: Option<i64>,
}

/// Test rows whose exact contributions the report averages.
const SHAP_ROWS: usize = 256;

/// One feature's line in the selection table.
#[derive(Debug, Clone)]
pub struct SelectionRow {
    /// Feature.
    pub feature: String,
    /// Information value.
    pub iv: f64,
    /// Event-rate trend of its bins.
    pub trend: String,
    /// Kept for the scorecard.
    pub kept: bool,
    /// Why dropped, and any note on its trend.
    pub reason: String,
}

/// All figures of the report.
pub struct Figures {
    /// Pipeline, task, seed, version, source, rows and rates.
    pub header: Vec<(String, String)>,
    /// The selected model.
    pub selected: String,
    /// ROC per model.
    pub roc: Vec<(String, Vec<(f64, f64)>)>,
    /// PR per model.
    pub pr: Vec<(String, Vec<(f64, f64)>)>,
    /// Test positive rate (the PR baseline).
    pub base_rate: f64,
    /// KS curve of the selected model: (population share, bad share, good share).
    pub ks: Vec<(f64, f64, f64)>,
    /// Deciles of the selected model on test.
    pub deciles: Vec<BandRow>,
    /// Score distribution of the selected model on test: (bin centre, goods share, bads share).
    pub distribution: Vec<(f64, f64, f64)>,
    /// How the threshold was chosen.
    pub threshold_rule: String,
    /// PSI of each model's score, train vs test.
    pub score_psi: Vec<(String, f64)>,
    /// CSI of each feature (its WoE bins), train vs test, highest first.
    pub csi: Vec<(String, f64)>,
    /// Importance of the selected model's features, highest first.
    pub importance: Vec<(String, f64)>,
    /// Mean |exact contribution| (TreeSHAP) per feature of the selected tree model on a sample
    /// of test rows, highest first, and the sample's size.
    pub shap: (Vec<(String, f64)>, usize),
    /// Binning tables, by IV.
    pub binning: Vec<BinningTable>,
    /// The scorecard's range and scaling, when a logistic model on WoE was trained.
    pub scorecard: Option<(i64, i64, String)>,
    /// Top of the tree (text lines), when a tree was trained.
    pub tree: Vec<String>,
    /// Fairness per protected attribute.
    pub fairness: Vec<(String, Vec<GroupRow>)>,
    /// When the report was written, UTC (volatile).
    pub date: String,
    /// The run id (volatile).
    pub run_id: String,
    /// One line per earlier stage manifest.
    pub manifests: Vec<String>,
    /// Seconds per model from the train stage's manifest: (cross-validated search, final fit)
    /// (volatile).
    pub fit_secs: BTreeMap<String, (Option<f64>, Option<f64>)>,
    /// The scorecard's feature selection: (feature, IV, trend, kept, reason, trend note).
    pub selection: Vec<SelectionRow>,
    /// Ingest's quality report.
    pub quality: serde_json::Value,
    /// Privacy's masking report.
    pub privacy: serde_json::Value,
}

fn tree_lines(t: &riskpipe_models::DecisionTree, node: usize, depth: usize, max_depth: usize, out: &mut Vec<String>) {
    let n = &t.nodes[node];
    let pad = "    ".repeat(depth);
    match (n.feature, n.threshold, n.left, n.right) {
        (Some(f), Some(th), Some(l), Some(r)) if depth < max_depth => {
            out.push(format!(
                "{pad}{} <= {th:.4}  ({} rows, event rate {:.3})",
                t.features[f], n.rows, n.value
            ));
            tree_lines(t, l, depth + 1, max_depth, out);
            out.push(format!("{pad}{} > {th:.4}", t.features[f]));
            tree_lines(t, r, depth + 1, max_depth, out);
        }
        (Some(_), ..) => out.push(format!("{pad}... ({} rows, event rate {:.3})", n.rows, n.value)),
        _ => out.push(format!("{pad}leaf: {} rows, event rate {:.3}", n.rows, n.value)),
    }
}

/// Computes every figure.
pub fn build(i: Inputs<'_>) -> Result<Figures> {
    let m = i.metrics;
    let sel = &m.selected_model;
    let y = i.test.number(&m.target).unwrap_or_default();
    let (_, p) = &i.scores[sel];
    let sm = &m.models[sel];
    let (header, manifests, run_id, quality, privacy) = run_header(&i)?;
    let distribution = score_distribution(y, p);
    let score_psi = i
        .scores
        .par_iter()
        .map(|(n, (a, b))| (n.clone(), psi(a, b, 10)))
        .collect();
    let woe_names: Vec<&String> = i.train.names().iter().collect();
    let mut csi: Vec<(String, f64)> = woe_names
        .par_iter()
        .filter_map(|n| n.strip_prefix("woe_").map(|f| (n, f)))
        .filter_map(|(n, f)| Some((f.to_string(), psi_discrete(i.train.number(n)?, i.test.number(n)?))))
        .collect();
    csi.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut importance: Vec<(String, f64)> = i.models[sel].importance(i.train);
    importance.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    let shap = shap_sample(&i, sel)?;
    let scorecard = i.scorecard.clone();
    let binning = binning_tables(&i);
    let mut tree = Vec::new();
    if let Some(t) = i.models.get("tree").and_then(Model::tree) {
        tree_lines(t, 0, 0, 3, &mut tree);
    }
    let threshold_rule = i.params.threshold.describe();
    // The selected model's test rows sorted once (riskiest first, as metrics::order_desc) for
    // the KS curve, the deciles and every group's AUC.
    let mut order: Vec<usize> = (0..p.len()).collect();
    order.par_sort_unstable_by(|&a, &b| p[b].total_cmp(&p[a]).then(a.cmp(&b)));
    let (ks, deciles) = rayon::join(|| ks_points_in(y, p, &order, 200), || band_table_in(y, p, &order, 10));
    order.reverse();
    let fairness = fairness_tables(&i, y, p, &order)?;
    let selection = selection_rows(&i)?;
    let fit_secs = fit_seconds(&i)?;
    Ok(Figures {
        selected: sel.clone(),
        header,
        roc: i.roc,
        pr: i.pr,
        base_rate: sm.test.positive_rate,
        ks,
        deciles,
        distribution,
        threshold_rule,
        score_psi,
        csi,
        importance,
        shap,
        binning,
        scorecard: scorecard.map(|s| {
            (
                s.min_score,
                s.max_score,
                format!(
                    "{} points at good:bad odds {}:1, {} points to double the odds",
                    s.base_score, s.base_odds, s.pdo
                ),
            )
        }),
        tree,
        fairness,
        date: now_rfc3339().replace('T', " ").replace('Z', " UTC"),
        fit_secs,
        run_id,
        manifests,
        selection,
        quality,
        privacy,
    })
}

/// The run header (pipeline, task, data source, rows, rates, seed, version), the earlier
/// stages' manifests by fingerprint, the run id, and ingest's and privacy's reports.
#[allow(clippy::type_complexity)]
fn run_header(
    i: &Inputs<'_>,
) -> Result<(
    Vec<(String, String)>,
    Vec<String>,
    String,
    serde_json::Value,
    serde_json::Value,
)> {
    let sm = &i.metrics.models[&i.metrics.selected_model];
    let source: serde_json::Value = read_json(&i.inputs.artifact("ingest/source.json")?)?;
    let quality: serde_json::Value = read_json(&i.inputs.artifact("ingest/quality.json")?)?;
    let privacy: serde_json::Value = read_json(&i.inputs.artifact("privacy/report.json")?)?;
    let source_text = match (
        source.get("file").and_then(|v| v.as_str()),
        source.get("sha256").and_then(|v| v.as_str()),
    ) {
        (Some(f), Some(h)) => format!("{f} (sha256 {h})"),
        _ => format!(
            "generated: {} rows of `{}`, seed {}",
            source["rows"],
            source["generator"].as_str().unwrap_or("?"),
            source["seed"]
        ),
    };
    let header = vec![
        ("pipeline".into(), i.params.pipeline.clone()),
        ("task".into(), i.params.task.to_string()),
        ("data source".into(), source_text),
        (
            "rows".into(),
            format!(
                "{} train, {} test ({} read, {} rejected)",
                sm.train.rows,
                sm.test.rows,
                quality["rows_read"],
                quality["rows_read"]
                    .as_u64()
                    .unwrap_or(0)
                    .saturating_sub(quality["rows_written"].as_u64().unwrap_or(0))
            ),
        ),
        (
            "target rate".into(),
            format!(
                "{:.2}% train, {:.2}% test",
                100.0 * sm.train.positive_rate,
                100.0 * sm.test.positive_rate
            ),
        ),
        ("seed".into(), i.params.seed.to_string()),
        ("riskpipe version".into(), env!("CARGO_PKG_VERSION").to_string()),
    ];
    // The earlier stages' manifests, by fingerprint (deterministic: parameters, input hashes and
    // code version), and the run id (it names the run, so it is volatile).
    let mut manifests = Vec::new();
    let mut run_id = String::new();
    for stage in ["ingest", "privacy", "features", "train"] {
        if let Some(mf) = Manifest::load(&i.inputs.run_dir.join(stage))? {
            manifests.push(format!(
                "{stage}/manifest.json: fingerprint {}, {} outputs",
                &mf.fingerprint[..16.min(mf.fingerprint.len())],
                mf.outputs.len()
            ));
            run_id = mf.run_id;
        }
    }
    Ok((header, manifests, run_id, quality, privacy))
}

/// Score distribution of the selected model on test: 20 bins over [0, max score], the share of
/// goods and of bads in each.
fn score_distribution(y: &[f64], p: &[f64]) -> Vec<(f64, f64, f64)> {
    // Score distribution: 20 bins over [0, max score].
    let top = p.iter().copied().fold(0.0f64, f64::max).max(1e-9);
    let (mut goods, mut bads) = (vec![0.0; 20], vec![0.0; 20]);
    for (s, t) in p.iter().zip(y) {
        let b = ((s / top) * 20.0).floor().min(19.0) as usize;
        if *t > 0.5 { bads[b] += 1.0 } else { goods[b] += 1.0 }
    }
    let (ng, nb) = (goods.iter().sum::<f64>().max(1.0), bads.iter().sum::<f64>().max(1.0));
    (0..20)
        .map(|b| ((b as f64 + 0.5) / 20.0 * top, goods[b] / ng, bads[b] / nb))
        .collect()
}

/// Mean |exact contribution| per feature of the selected model on evenly spaced test rows.
fn shap_sample(i: &Inputs<'_>, sel: &str) -> Result<(Vec<(String, f64)>, usize)> {
    // Exact contributions of a tree model on evenly spaced test rows (TreeSHAP costs a
    // fraction of a millisecond per row for 300 trees, so a sample keeps the report fast).
    Ok({
        let model = &i.models[sel];
        let n = i.test.rows();
        let rows: Vec<usize> = (0..SHAP_ROWS.min(n)).map(|k| k * n / SHAP_ROWS.min(n).max(1)).collect();
        let cols = riskpipe_models::feature_columns(i.test, model.features())?;
        let sample: Vec<Vec<f64>> = cols.iter().map(|c| rows.iter().map(|&r| c[r]).collect()).collect();
        let sample: Vec<&[f64]> = sample.iter().map(Vec::as_slice).collect();
        match model.contributions(&sample) {
            Some((phi, _)) if !rows.is_empty() => {
                let mut mean: Vec<(String, f64)> = model
                    .features()
                    .iter()
                    .enumerate()
                    .map(|(j, f)| {
                        (
                            f.clone(),
                            phi.iter().map(|r| r[j].abs()).sum::<f64>() / rows.len() as f64,
                        )
                    })
                    .collect();
                mean.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
                (mean, rows.len())
            }
            _ => (Vec::new(), 0),
        }
    })
}

/// Every feature's binning table with the scorecard's points and the logistic coefficient,
/// highest IV first.
fn binning_tables(i: &Inputs<'_>) -> Vec<BinningTable> {
    let coefs: BTreeMap<String, f64> = match i.models.get("logistic").and_then(Model::logistic) {
        Some(l) => l
            .features
            .iter()
            .map(|f| f.trim_start_matches("woe_").to_string())
            .zip(l.coef.iter().copied())
            .collect(),
        None => BTreeMap::new(),
    };
    let scorecard = i.scorecard.as_ref();
    let mut binning: Vec<BinningTable> = i
        .transform
        .features
        .clone()
        .into_iter()
        .filter_map(|f| {
            let binning = f.binning?;
            let card = scorecard.and_then(|s| s.features.iter().find(|p| p.feature == f.name));
            let mut bins: Vec<(Bin, Option<i64>)> = binning
                .bins
                .into_iter()
                .enumerate()
                .map(|(k, b)| (b, card.and_then(|c| c.bins.get(k)).map(|p| p.points)))
                .collect();
            if let Some(m) = binning.missing {
                bins.push((m, card.and_then(|c| c.missing.as_ref()).map(|p| p.points)));
            }
            for (k, sp) in binning.specials.into_iter().enumerate() {
                if let Some(b) = sp.bin {
                    bins.push((b, card.and_then(|c| c.specials.get(k)).map(|p| p.1.points)));
                }
            }
            Some(BinningTable {
                coef: coefs.get(&f.name).copied(),
                feature: f.name,
                iv: binning.iv,
                bins,
                neutral_points: card.map(|c| c.neutral_points),
            })
        })
        .collect();
    binning.sort_by(|a, b| b.iv.total_cmp(&a.iv).then(a.feature.cmp(&b.feature)));
    binning
}

/// The scorecard's feature selection from the features stage's report, with each feature's
/// trend and trend note.
fn selection_rows(i: &Inputs<'_>) -> Result<Vec<SelectionRow>> {
    let freport: serde_json::Value = read_json(&i.inputs.artifact("features/report.json")?)?;
    let trends: BTreeMap<&str, (&str, &str)> = freport["features"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|f| {
                    Some((
                        f["name"].as_str()?,
                        (
                            f["trend"].as_str().unwrap_or("-"),
                            f["trend_note"].as_str().unwrap_or(""),
                        ),
                    ))
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(freport["selection"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|d| {
                    let feature = d["feature"].as_str()?.to_string();
                    let (trend, note) = trends.get(feature.as_str()).copied().unwrap_or(("-", ""));
                    let reason = d["reason"].as_str().unwrap_or("");
                    Some(SelectionRow {
                        iv: d["iv"].as_f64().unwrap_or(0.0),
                        trend: trend.to_string(),
                        kept: d["kept"].as_bool().unwrap_or(false),
                        reason: [reason, note]
                            .iter()
                            .filter(|s| !s.is_empty())
                            .copied()
                            .collect::<Vec<_>>()
                            .join("; "),
                        feature,
                    })
                })
                .collect()
        })
        .unwrap_or_default())
}

/// Seconds of each model's search and final fit, from the train manifest.
fn fit_seconds(i: &Inputs<'_>) -> Result<BTreeMap<String, (Option<f64>, Option<f64>)>> {
    // Timings are read from the train manifest, which is not a declared input: they change on
    // every run and must not change this stage's fingerprint.
    let timings = Manifest::load(&i.inputs.run_dir.join("train"))?
        .map(|m| m.timings)
        .unwrap_or_default();
    Ok(i.metrics
        .models
        .keys()
        .map(|n| {
            (
                n.clone(),
                (
                    timings.get(&format!("{n}.cv_secs")).copied(),
                    timings.get(&format!("{n}.fit_secs")).copied(),
                ),
            )
        })
        .collect())
}

impl Figures {
    /// `curves.parquet`: model, curve (`roc`, `pr`, `gains`), x, y.
    pub fn curves_frame(&self) -> Frame {
        let (mut model, mut curve, mut xs, mut ys) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for (kind, set) in [("roc", &self.roc), ("pr", &self.pr)] {
            for (name, pts) in set {
                for (x, y) in pts {
                    model.push(Some(name.clone()));
                    curve.push(Some(kind.to_string()));
                    xs.push(*x);
                    ys.push(*y);
                }
            }
        }
        let sel = self.selected.clone();
        for (x, bad, _) in &self.ks {
            model.push(Some(sel.clone()));
            curve.push(Some("gains".to_string()));
            xs.push(*x);
            ys.push(*bad);
        }
        let mut f = Frame::new();
        f.push("model", Column::Text(model));
        f.push("curve", Column::Text(curve));
        f.push("x", Column::Number(xs));
        f.push("y", Column::Number(ys));
        f
    }

    /// `binning.parquet`: one row per bin of every feature (features by IV, bins in order, then
    /// missing and special bins): feature, its IV, bin label, rows, share, events, event rate,
    /// WoE, the bin's IV and its scorecard points (missing when the feature is not in the
    /// scorecard).
    pub fn binning_frame(&self) -> Frame {
        let mut cols: (Vec<Option<String>>, Vec<f64>, Vec<Option<String>>) = (Vec::new(), Vec::new(), Vec::new());
        let mut nums: [Vec<f64>; 7] = Default::default();
        for t in &self.binning {
            let total = t.bins.iter().map(|(b, _)| b.count).sum::<u64>().max(1) as f64;
            for (b, points) in &t.bins {
                cols.0.push(Some(t.feature.clone()));
                cols.1.push(t.iv);
                cols.2.push(Some(b.label.clone()));
                for (k, v) in [
                    b.count as f64,
                    b.count as f64 / total,
                    b.events as f64,
                    b.event_rate,
                    b.woe,
                    b.iv,
                    points.map_or(f64::NAN, |p| p as f64),
                ]
                .into_iter()
                .enumerate()
                {
                    nums[k].push(v);
                }
            }
        }
        let mut f = Frame::new();
        f.push("feature", Column::Text(cols.0));
        f.push("feature_iv", Column::Number(cols.1));
        f.push("bin", Column::Text(cols.2));
        for (name, v) in ["rows", "share", "events", "event_rate", "woe", "iv", "points"]
            .into_iter()
            .zip(nums)
        {
            f.push(name, Column::Number(v));
        }
        f
    }
}

/// One group of a protected attribute.
#[derive(Debug, Clone)]
pub struct GroupRow {
    /// Group label.
    pub group: String,
    /// Test rows.
    pub rows: u64,
    /// Share approved (PD below the threshold).
    pub approval_rate: f64,
    /// Observed default rate.
    pub default_rate: f64,
    /// AUC within the group (`None` with one class only).
    pub auc: Option<f64>,
    /// Approval rate / the highest group's approval rate.
    pub adverse_impact_ratio: f64,
}

/// Per-group approval, default rate, AUC and adverse impact ratio on the test rows, for each
/// protected attribute (read from the masked data, so attributes need not be features).
/// `order`: test rows by ascending score of the selected model.
fn fairness_tables(i: &Inputs<'_>, y: &[f64], p: &[f64], order: &[usize]) -> Result<Vec<(String, Vec<GroupRow>)>> {
    if i.params.protected.is_empty() {
        return Ok(Vec::new());
    }
    // Text columns are read as codes (no string per row); the split column says which rows of
    // the masked data are test rows, in the order of the test matrix.
    let (data_path, split_path) = (
        i.inputs.artifact("privacy/data.parquet")?,
        i.inputs.artifact("features/split.parquet")?,
    );
    let kinds: BTreeMap<String, ColumnKind> = parquet_column_kinds(&data_path)?.into_iter().collect();
    let mut text_attrs = Vec::new();
    let mut other_attrs = Vec::new();
    for attr in &i.params.protected {
        match kinds.get(attr) {
            None => {
                return Err(riskpipe_core::Error::ColumnNotFound {
                    file: "privacy/data.parquet".into(),
                    column: attr.clone(),
                    hint: "; it is listed in `evaluate.protected` (masked or dropped columns cannot be used)".into(),
                });
            }
            Some(ColumnKind::Text) => text_attrs.push(attr.as_str()),
            Some(_) => other_attrs.push(attr.as_str()),
        }
    }
    let ((split, others), texts) = rayon::join(
        || {
            rayon::join(
                || read_parquet_text_codes(&split_path, "split"),
                || read_parquet_columns(&data_path, &other_attrs),
            )
        },
        || {
            text_attrs
                .par_iter()
                .map(|a| read_parquet_text_codes(&data_path, a))
                .collect::<Vec<_>>()
        },
    );
    let (split, others) = (split?, others?);
    let mut texts: BTreeMap<&str, TextCodes> = text_attrs
        .iter()
        .copied()
        .zip(texts.into_iter().collect::<Result<Vec<_>>>()?)
        .collect();
    let test_code = split.labels.iter().position(|l| l == "test").map(|c| c as u32);
    let test_rows: Vec<usize> = (0..split.codes.len())
        .filter(|&r| test_code.is_some() && split.codes[r] == test_code)
        .collect();
    let threshold = i.metrics.models[&i.metrics.selected_model].threshold;
    // Each attribute's group column, then the tables, attributes in parallel.
    let grouped: Vec<(&String, GroupColumn)> = i
        .params
        .protected
        .iter()
        .map(|attr| match texts.remove(attr.as_str()) {
            Some(t) => (attr, GroupColumn::Codes(t)),
            None => (
                attr,
                GroupColumn::Values(others.get(attr).expect("read above").take(&test_rows)),
            ),
        })
        .collect();
    grouped
        .into_par_iter()
        .map(|(attr, col)| {
            let (gid, names) = match col {
                GroupColumn::Codes(t) => {
                    let miss = t.labels.len();
                    let mut names = t.labels;
                    names.push("missing".into());
                    let gid = test_rows
                        .iter()
                        .map(|&r| t.codes[r].map_or(miss, |c| c as usize))
                        .collect();
                    (gid, names)
                }
                GroupColumn::Values(c) => group_column(&c),
            };
            Ok((attr.clone(), group_rows(&gid, &names, y, p, order, threshold)))
        })
        .collect()
}

/// A protected attribute's test rows: text as codes, other kinds as values.
enum GroupColumn {
    Codes(TextCodes),
    Values(Column),
}

/// One fairness table from each row's group.
fn group_rows(gid: &[usize], names: &[String], y: &[f64], p: &[f64], order: &[usize], threshold: f64) -> Vec<GroupRow> {
    let mut acc = vec![(0u64, 0u64, 0u64); names.len()]; // rows, approved, defaults
    for (r, g) in gid.iter().enumerate() {
        let a = &mut acc[*g];
        a.0 += 1;
        a.1 += u64::from(p[r] < threshold);
        a.2 += u64::from(y[r] > 0.5);
    }
    let aucs = riskpipe_core::stats::auc_by_group(y, p, order, gid, names.len());
    let mut rows: Vec<GroupRow> = names
        .iter()
        .enumerate()
        .filter(|(g, _)| acc[*g].0 > 0)
        .map(|(g, name)| {
            let (n, approved, pos) = acc[g];
            GroupRow {
                group: name.clone(),
                rows: n,
                approval_rate: approved as f64 / n as f64,
                default_rate: pos as f64 / n as f64,
                auc: aucs[g],
                adverse_impact_ratio: 0.0,
            }
        })
        .collect();
    let best = rows.iter().map(|r| r.approval_rate).fold(0.0f64, f64::max);
    for r in &mut rows {
        r.adverse_impact_ratio = if best > 0.0 { r.approval_rate / best } else { 1.0 };
    }
    rows
}

/// Group index per row of a numeric or date column, and the groups' labels (missing last):
/// each value its own group when there are at most 12, else five equal-count bands.
fn group_column(col: &Column) -> (Vec<usize>, Vec<String>) {
    match col {
        Column::Number(v) => {
            let mut s: Vec<f64> = v.iter().copied().filter(|x| !x.is_nan()).collect();
            // Up to 12 distinct values, found in one pass: each its own group.
            let mut d: Vec<f64> = Vec::new();
            for x in &s {
                if !d.contains(x) {
                    d.push(*x);
                    if d.len() > 12 {
                        break;
                    }
                }
            }
            d.sort_by(f64::total_cmp);
            if d.len() <= 12 {
                let mut names: Vec<String> = d
                    .iter()
                    .map(|x| Column::Number(vec![*x]).display(0).unwrap_or_default())
                    .collect();
                names.push("missing".into());
                (
                    v.iter()
                        .map(|x| {
                            if x.is_nan() {
                                d.len()
                            } else {
                                d.partition_point(|u| u < x)
                            }
                        })
                        .collect(),
                    names,
                )
            } else {
                // Five equal-count bands, cut by successive selection (no full sort).
                let n = s.len();
                let mut cuts: Vec<f64> = Vec::with_capacity(4);
                let mut lo = 0;
                for k in 1..5 {
                    let pos = k * n / 5;
                    let (_, c, _) = s[lo..].select_nth_unstable_by(pos - lo, f64::total_cmp);
                    cuts.push(*c);
                    lo = pos + 1;
                }
                cuts.dedup();
                let mut names: Vec<String> = (0..=cuts.len())
                    .map(|b| {
                        let lo = if b == 0 {
                            "-inf".to_string()
                        } else {
                            format!("{}", cuts[b - 1])
                        };
                        let hi = if b == cuts.len() {
                            "inf".to_string()
                        } else {
                            format!("{}", cuts[b])
                        };
                        format!("[{lo}, {hi})")
                    })
                    .collect();
                names.push("missing".into());
                let miss = cuts.len() + 1;
                (
                    v.iter()
                        .map(|x| {
                            if x.is_nan() {
                                miss
                            } else {
                                cuts.partition_point(|c| c <= x)
                            }
                        })
                        .collect(),
                    names,
                )
            }
        }
        Column::Text(v) => {
            // Groups ordered by label, missing last.
            let labels: std::collections::BTreeSet<&str> = v.iter().flatten().map(String::as_str).collect();
            let lookup: BTreeMap<&str, usize> = labels.iter().enumerate().map(|(k, l)| (*l, k)).collect();
            let miss = labels.len();
            let mut names: Vec<String> = labels.iter().map(|l| l.to_string()).collect();
            names.push("missing".into());
            (
                v.iter().map(|x| x.as_deref().map_or(miss, |x| lookup[x])).collect(),
                names,
            )
        }
        other => {
            // Dates: grouped by their display, in order.
            let vals: Vec<Option<String>> = (0..other.len()).map(|r| other.display(r)).collect();
            let labels: std::collections::BTreeSet<&str> = vals.iter().flatten().map(String::as_str).collect();
            let lookup: BTreeMap<&str, usize> = labels.iter().enumerate().map(|(k, l)| (*l, k)).collect();
            let miss = labels.len();
            let mut names: Vec<String> = labels.iter().map(|l| l.to_string()).collect();
            names.push("missing".into());
            (
                vals.iter().map(|x| x.as_deref().map_or(miss, |x| lookup[x])).collect(),
                names,
            )
        }
    }
}
