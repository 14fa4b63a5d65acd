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
    out: &Path,
) -> Result<PeriodDrift> {
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
    crate::stream::for_each_batch(&scorer, input, &extra, &mut |raw, done| {
        let scored = scorer.score_with(raw, done, &file, false)?;
        let scores = scored
            .number(&name)
            .ok_or_else(|| Error::Internal(format!("the bundle no longer gives `{name}`")))?;
        let masked = scorer.masked_inputs(raw, &file)?;
        counts
            .entry("all".into())
            .or_insert_with(|| reference.counter())
            .add(reference, scores, &masked);
        if let Some((col, period)) = by {
            let dates = raw.get(col).ok_or_else(|| Error::ColumnNotFound {
                file: file.clone(),
                column: col.to_string(),
                hint: "; `--time-column` names a date column of the input".into(),
            })?;
            let mut groups: BTreeMap<String, Vec<usize>> = BTreeMap::new();
            for i in 0..raw.rows() {
                let key = dates.display(i).map_or("unknown".into(), |d| period.key(&d));
                groups.entry(key).or_default().push(i);
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
    })?;
    let drift: PeriodDrift = counts.iter().map(|(k, c)| (k.clone(), c.compare(reference))).collect();
    write_parquet(&out.join("drift.parquet"), &frame(&drift, &name))?;
    write_atomic(
        &out.join("drift.html"),
        page(&drift, &name, reference, &scorer).as_bytes(),
    )?;
    Ok(drift)
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
fn page(drift: &PeriodDrift, score: &str, reference: &Reference, scorer: &Scorer) -> String {
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
    s.push_str("</table></body></html>\n");
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
