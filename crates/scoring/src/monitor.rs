//! `riskpipe monitor`: scores a file through a bundle in batches and compares the score and every
//! feature with the bundle's training reference, overall and per period of a date column.
//! Writes `drift.parquet` (period, variable, kind, rows, psi, js, flag) and `drift.html` (the
//! trend of each variable's PSI over the periods, flagged at 0.10 and 0.25).

use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::Path;

use riskpipe_core::io::{read_json, write_atomic, write_parquet};
use riskpipe_core::{Column, ColumnKind, Error, Frame, Result};

use crate::bundle::Scorer;
use crate::drift::{Counts, Drift, REFERENCE_FILE, Reference};
use crate::info::InputColumn;

/// How rows are grouped into periods.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    /// `YYYY-MM`.
    Month,
    /// `YYYY-Qn`.
    Quarter,
    /// `YYYY`.
    Year,
}

impl Period {
    /// Parses `month`, `quarter` or `year`.
    pub fn parse(s: &str) -> Option<Period> {
        match s {
            "month" => Some(Period::Month),
            "quarter" => Some(Period::Quarter),
            "year" => Some(Period::Year),
            _ => None,
        }
    }

    fn key(self, iso: &str) -> String {
        let (y, m) = (&iso[..4.min(iso.len())], iso.get(5..7).unwrap_or("01"));
        match self {
            Period::Month => format!("{y}-{m}"),
            Period::Quarter => format!("{y}-Q{}", (m.parse::<u32>().unwrap_or(1) - 1) / 3 + 1),
            Period::Year => y.to_string(),
        }
    }
}

/// Every period's drift (the whole input under `all`).
pub type PeriodDrift = BTreeMap<String, Vec<Drift>>;

/// Outcomes that arrived after scoring: each id's 0/1 label.
pub type Labels = BTreeMap<String, f64>;

/// One period's realised performance on its labelled rows.
#[derive(Debug, Clone, PartialEq)]
pub struct Performance {
    /// Scored rows with a label.
    pub labelled: u64,
    /// Share of them labelled 1.
    pub event_rate: f64,
    /// AUC of the score against the labels (NaN with one class only).
    pub auc: f64,
}

/// Reads `--labels FILE` (CSV or Parquet): the id column `id` and the 0/1 column `label`. A
/// missing column or a label other than 0/1 is a user error naming the file, row and column.
pub fn read_labels(path: &Path, id: &str, label: &str) -> Result<Labels> {
    riskpipe_core::io::check_is_file(path)?;
    let file = path.display().to_string();
    let is_parquet = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("parquet"));
    let (ids, values): (Vec<Option<String>>, Vec<String>) = if is_parquet {
        let f = riskpipe_core::io::read_parquet(path)?;
        let col = |n: &str| {
            f.get(n).ok_or_else(|| Error::ColumnNotFound {
                file: file.clone(),
                column: n.to_string(),
                hint: "; `--labels` needs the bundle's id and `--label-column`".into(),
            })
        };
        let (i, l) = (col(id)?, col(label)?);
        (
            (0..f.rows()).map(|r| i.display(r)).collect(),
            (0..f.rows()).map(|r| l.display(r).unwrap_or_default()).collect(),
        )
    } else {
        let mut rdr = csv::Reader::from_reader(fs_err::File::open(path)?);
        let headers = rdr
            .headers()
            .map_err(|e| Error::data(&file, None, None, e.to_string()))?
            .clone();
        let pos = |n: &str| {
            headers
                .iter()
                .position(|h| h == n)
                .ok_or_else(|| Error::ColumnNotFound {
                    file: file.clone(),
                    column: n.to_string(),
                    hint: "; `--labels` needs the bundle's id and `--label-column`".into(),
                })
        };
        let (pi, pl) = (pos(id)?, pos(label)?);
        let mut ids = Vec::new();
        let mut values = Vec::new();
        for (r, rec) in rdr.records().enumerate() {
            let rec = rec.map_err(|e| Error::data(&file, Some(r as u64 + 1), None, e.to_string()))?;
            ids.push(Some(rec[pi].to_string()));
            values.push(rec[pl].trim().to_string());
        }
        (ids, values)
    };
    let mut out = Labels::new();
    for (r, (i, v)) in ids.into_iter().zip(values).enumerate() {
        let y = match v.as_str() {
            "0" | "0.0" => 0.0,
            "1" | "1.0" => 1.0,
            _ => {
                return Err(Error::data(
                    &file,
                    Some(r as u64 + 1),
                    Some(label),
                    format!("`{v}` is not a 0/1 label"),
                ));
            }
        };
        if let Some(i) = i {
            out.insert(i, y);
        }
    }
    Ok(out)
}

/// Loads the bundle's reference: a bundle deployed before references existed has none.
pub fn reference(dir: &Path) -> Result<Reference> {
    let p = dir.join(REFERENCE_FILE);
    if !p.is_file() {
        return Err(Error::data(
            dir.display().to_string(),
            None,
            None,
            "has no reference.json (the training distributions): deploy the pipeline again to monitor it",
        ));
    }
    read_json(&p)
}

/// Scores `input` through `scorer` and compares it with `reference`, overall and by `by` (a
/// date column and the period); writes `drift.parquet` and `drift.html` into `out`.
pub fn monitor(
    scorer: &Scorer,
    reference: &Reference,
    input: &Path,
    by: Option<(&str, Period)>,
    labels: Option<&Labels>,
    out: &Path,
) -> Result<(PeriodDrift, BTreeMap<String, Performance>)> {
    if labels.is_some() && scorer.info.id.is_none() {
        return Err(Error::data(
            "--labels",
            None,
            None,
            "the bundle has no id column, so labels cannot be matched to scored rows",
        ));
    }
    // Per period, the scores and labels of the labelled rows.
    let mut outcomes: BTreeMap<String, (Vec<f64>, Vec<f64>)> = BTreeMap::new();
    let file = input.display().to_string();
    let extra: Vec<InputColumn> = by
        .iter()
        .map(|(c, _)| InputColumn {
            name: c.to_string(),
            kind: ColumnKind::Date,
        })
        .collect();
    let scorer = scorer.clone().without_reasons();
    let name = reference.score.name.clone();
    let mut counts: BTreeMap<String, Counts> = BTreeMap::new();
    let mut take = |raw: &Frame, scored: Frame, masked: Frame| -> Result<()> {
        let scores = scored
            .number(&name)
            .ok_or_else(|| Error::Internal(format!("the bundle no longer gives `{name}`")))?;
        let periods: Vec<String> = match by {
            Some((col, period)) => {
                let dates = raw.get(col).ok_or_else(|| Error::ColumnNotFound {
                    file: file.clone(),
                    column: col.to_string(),
                    hint: "; `--time-column` names a date column of the input".into(),
                })?;
                (0..raw.rows())
                    .map(|i| dates.display(i).map_or("unknown".into(), |d| period.key(&d)))
                    .collect()
            }
            None => Vec::new(),
        };
        if let (Some(labels), Some(ids)) = (labels, scorer.info.id.as_ref().and_then(|c| raw.get(c))) {
            for i in 0..raw.rows() {
                let Some(y) = ids.display(i).and_then(|k| labels.get(&k)) else {
                    continue;
                };
                for key in std::iter::once("all").chain(periods.get(i).map(String::as_str)) {
                    let e = outcomes.entry(key.to_string()).or_default();
                    e.0.push(scores[i]);
                    e.1.push(*y);
                }
            }
        }
        counts
            .entry("all".into())
            .or_insert_with(|| reference.counter())
            .add(reference, scores, &masked);
        if by.is_some() {
            let mut groups: BTreeMap<String, Vec<usize>> = BTreeMap::new();
            for (i, key) in periods.iter().enumerate() {
                groups.entry(key.clone()).or_default().push(i);
            }
            for (key, rows) in groups {
                let s: Vec<f64> = rows.iter().map(|&i| scores[i]).collect();
                counts
                    .entry(key)
                    .or_insert_with(|| reference.counter())
                    .add(reference, &s, &masked.take(&rows));
            }
        }
        Ok(())
    };
    match scorer.event_order() {
        // Window features need the rows in event order, each entity's history carried over.
        Some(spec) => {
            let mut order = crate::event_order::EventOrder::new(spec, &file);
            let mut step = |r: crate::event_order::Ready| -> Result<()> {
                let raw = r.raw.unwrap_or_default();
                let inputs = scorer.inputs_of(&r.masked);
                let scored = scorer.score_with_events(r.masked, r.first, &file, false)?;
                take(&raw, scored, inputs)
            };
            crate::stream::for_each_batch(&scorer, input, &extra, &mut |raw, _| {
                let masked = scorer.mask_owned(raw.clone(), &file)?;
                match order.push(masked, Some(raw), false)? {
                    Some(r) => step(r),
                    None => Ok(()),
                }
            })?;
            if let Some(r) = order.finish()? {
                step(r)?;
            }
        }
        None => {
            crate::stream::for_each_batch(&scorer, input, &extra, &mut |raw, done| {
                let scored = scorer.score_with(&raw, done, &file, false)?;
                let masked = scorer.masked_inputs(&raw, &file)?;
                take(&raw, scored, masked)
            })?;
        }
    }
    let drift: PeriodDrift = counts.iter().map(|(k, c)| (k.clone(), c.compare(reference))).collect();
    let performance: BTreeMap<String, Performance> = outcomes
        .into_iter()
        .map(|(k, (s, y))| {
            let events = y.iter().sum::<f64>();
            let one_class = events == 0.0 || events == y.len() as f64;
            let p = Performance {
                labelled: y.len() as u64,
                event_rate: events / y.len() as f64,
                auc: if one_class {
                    f64::NAN
                } else {
                    riskpipe_core::stats::auc(&y, &s)
                },
            };
            (k, p)
        })
        .collect();
    write_parquet(&out.join("drift.parquet"), &frame(&drift, &name))?;
    if labels.is_some() {
        let mut f = Frame::new();
        f.push(
            "period",
            Column::Text(performance.keys().map(|k| Some(k.clone())).collect()),
        );
        let num = |g: &dyn Fn(&Performance) -> f64| Column::Number(performance.values().map(g).collect());
        f.push("labelled_rows", num(&|p| p.labelled as f64));
        f.push("event_rate", num(&|p| p.event_rate));
        f.push("auc", num(&|p| p.auc));
        write_parquet(&out.join("performance.parquet"), &f)?;
    }
    write_atomic(
        &out.join("drift.html"),
        page(&drift, &name, reference, &scorer, &performance).as_bytes(),
    )?;
    Ok((drift, performance))
}

fn frame(drift: &PeriodDrift, score: &str) -> Frame {
    let (mut period, mut variable, mut kind, mut flag) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut rows, mut psi, mut js) = (Vec::new(), Vec::new(), Vec::new());
    for (p, ds) in drift {
        for (k, d) in ds.iter().enumerate() {
            period.push(Some(p.clone()));
            variable.push(Some(d.name.clone()));
            kind.push(Some(
                if k == 0 && d.name == score { "score" } else { "feature" }.to_string(),
            ));
            flag.push(Some(d.flag().to_string()));
            rows.push(d.rows as f64);
            psi.push(d.psi);
            js.push(d.js);
        }
    }
    let mut f = Frame::new();
    f.push("period", Column::Text(period));
    f.push("variable", Column::Text(variable));
    f.push("kind", Column::Text(kind));
    f.push("rows", Column::Number(rows));
    f.push("psi", Column::Number(psi));
    f.push("js", Column::Number(js));
    f.push("flag", Column::Text(flag));
    f
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// The page: one row per variable, one column per period, each cell the PSI (CSI) and JS
/// distance, coloured by flag.
fn page(
    drift: &PeriodDrift,
    score: &str,
    reference: &Reference,
    scorer: &Scorer,
    performance: &BTreeMap<String, Performance>,
) -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>riskpipe drift: {p}</title>
<style>body{{font-family:system-ui,sans-serif;margin:1.5em auto;max-width:1180px;padding:0 1em}}table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:3px 8px;text-align:right;font-size:14px}}td:first-child{{text-align:left}}.watch{{background:#fff3c4}}.drift{{background:#f8c9c4}}</style></head><body>
<h1>Drift: {p} ({m})</h1><p>PSI of the score <code>{score}</code> and CSI of every feature against the {n} training rows of the bundle, flagged at 0.10 (watch) and 0.25 (drift); the second number is the Jensen-Shannon distance.</p><table><tr><th>variable</th>"#,
        p = esc(&scorer.info.pipeline),
        m = esc(&scorer.info.model),
        score = esc(score),
        n = reference.rows
    );
    let periods: Vec<&String> = drift.keys().collect();
    for p in &periods {
        let rows = drift[*p].first().map_or(0, |d| d.rows);
        let _ = write!(s, "<th>{} ({rows} rows)</th>", esc(p));
    }
    s.push_str("</tr>");
    let vars = drift.values().next().map_or(0, Vec::len);
    for v in 0..vars {
        let name = &drift.values().next().expect("a period")[v].name;
        let _ = write!(s, "<tr><td>{}</td>", esc(name));
        for p in &periods {
            let d = &drift[*p][v];
            let _ = write!(s, "<td class=\"{}\">{:.4} / {:.4}</td>", d.flag(), d.psi, d.js);
        }
        s.push_str("</tr>");
    }
    s.push_str("</table>");
    if !performance.is_empty() {
        s.push_str("<h2>Realised performance (labelled rows)</h2><table><tr><th>period</th><th>labelled rows</th><th>event rate</th><th>AUC</th></tr>");
        for (k, p) in performance {
            let _ = write!(
                s,
                "<tr><td>{}</td><td>{}</td><td>{:.4}</td><td>{}</td></tr>",
                esc(k),
                p.labelled,
                p.event_rate,
                if p.auc.is_nan() {
                    "-".to_string()
                } else {
                    format!("{:.4}", p.auc)
                }
            );
        }
        s.push_str("</table>");
    }
    s.push_str("</body></html>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::Period;

    #[test]
    fn periods_key_iso_dates() {
        assert_eq!(Period::Month.key("2025-03-14"), "2025-03");
        assert_eq!(Period::Quarter.key("2025-03-14"), "2025-Q1");
        assert_eq!(Period::Quarter.key("2025-10-01"), "2025-Q4");
        assert_eq!(Period::Year.key("2025-10-01"), "2025");
        assert_eq!(Period::parse("week"), None);
    }
}
