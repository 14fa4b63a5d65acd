//! The report page of a task without a target: the detector comparison, score distributions,
//! ROC and precision-recall curves against the label, AUC per planted kind, and the top
//! anomalies with their reasons. Self-contained HTML, as the other report.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::artifacts::AnomalyMetrics;
use crate::config::EvaluateParams;
use crate::report::{COLORS, Plot, esc};

/// Shares of rows in 20 equal bins over `[lo, hi]`, as points at the bins' centres, with x
/// scaled to [0, 1].
fn histogram(v: &[f64], lo: f64, hi: f64) -> Vec<(f64, f64)> {
    const BINS: usize = 20;
    let mut counts = [0usize; BINS];
    let width = (hi - lo).max(1e-300);
    for x in v {
        let b = (((x - lo) / width) * BINS as f64).floor().clamp(0.0, (BINS - 1) as f64) as usize;
        counts[b] += 1;
    }
    let n = v.len().max(1) as f64;
    counts
        .iter()
        .enumerate()
        .map(|(b, c)| ((b as f64 + 0.5) / BINS as f64, *c as f64 / n))
        .collect()
}

fn f4(v: Option<f64>) -> String {
    v.map(|v| format!("{v:.4}")).unwrap_or_else(|| "&ndash;".into())
}

/// The page.
pub fn render(
    params: &EvaluateParams,
    m: &AnomalyMetrics,
    scores: &BTreeMap<String, (Vec<f64>, Vec<f64>)>,
    label: Option<&[f64]>,
    curves: &[(String, &'static str, Vec<(f64, f64)>)],
) -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>riskpipe report: {p}</title>
<style>body{{font-family:system-ui,sans-serif;margin:1.5em auto;max-width:1180px;padding:0 1em;color:#222}}table{{border-collapse:collapse;margin:.6em 0}}td,th{{border:1px solid #ccc;padding:3px 8px;text-align:right;font-size:14px}}th{{background:#f3f3f3}}td:first-child,th:first-child{{text-align:left}}.sel td{{font-weight:bold}}.grid{{display:flex;flex-wrap:wrap;gap:12px}}figure{{margin:0}}section{{margin-top:1.6em}}</style></head><body>
<h1>Anomaly detection: {p}</h1>"#,
        p = esc(&params.pipeline)
    );
    let _ = write!(
        s,
        "<section id=\"run\"><h2>Run</h2><table><tr><th>task</th><td>{}</td></tr><tr><th>evaluation label</th><td>{}</td></tr><tr><th>flag rule</th><td>{}</td></tr><tr><th>seed</th><td>{}</td></tr><tr><th>riskpipe version</th><td>{}</td></tr></table></section>",
        esc(m.task.name()),
        esc(m
            .label
            .as_deref()
            .unwrap_or("none: scores are not checked against labels")),
        esc(&m.rule.describe()),
        params.seed,
        env!("CARGO_PKG_VERSION")
    );
    comparison(&mut s, m);
    distributions(&mut s, m, scores, label);
    curve_plots(&mut s, curves);
    by_kind(&mut s, m);
    top(&mut s, m);
    s.push_str("</body></html>\n");
    s
}

/// Every detector and the ensemble: threshold, flagged share, and the label metrics.
fn comparison(s: &mut String, m: &AnomalyMetrics) {
    s.push_str(r#"<section id="anomaly"><h2>Detector comparison (test rows)</h2><table><tr><th>detector</th><th>ROC AUC</th><th>average precision</th><th>precision at budget</th><th>recall at budget</th><th>budget rows</th><th>threshold</th><th>flagged</th><th>median score</th><th>p99 score</th></tr>"#);
    for (name, d) in &m.detectors {
        let l = d.label.as_ref();
        let _ = write!(
            s,
            "<tr{}><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.4}</td><td>{:.2}%</td><td>{:.4}</td><td>{:.4}</td></tr>",
            if *name == m.selected_model {
                r#" class="sel""#
            } else {
                ""
            },
            esc(name),
            f4(l.map(|l| l.auc)),
            f4(l.map(|l| l.average_precision)),
            f4(l.map(|l| l.precision_at_budget)),
            f4(l.map(|l| l.recall_at_budget)),
            l.map(|l| l.budget_rows.to_string()).unwrap_or_else(|| "&ndash;".into()),
            d.threshold,
            100.0 * d.flagged_share_test,
            d.test.p50,
            d.test.p99
        );
    }
    s.push_str("</table><p>Thresholds are chosen on the training rows and applied to the test rows; the ensemble (in bold) is what the bundle scores.</p></section>");
}

/// Each detector's test score distribution, split by label when there is one.
fn distributions(
    s: &mut String,
    m: &AnomalyMetrics,
    scores: &BTreeMap<String, (Vec<f64>, Vec<f64>)>,
    label: Option<&[f64]>,
) {
    s.push_str(r#"<section id="distributions"><h2>Score distributions (test rows)</h2><div class="grid">"#);
    for (name, (_, te)) in scores {
        let d = &m.detectors[name];
        let (lo, hi) = (d.test.min, d.test.max);
        let mut series = Vec::new();
        match label {
            Some(y) => {
                for (k, (what, want)) in [("label 0", 0.0), ("label 1", 1.0)].into_iter().enumerate() {
                    let v: Vec<f64> = te.iter().zip(y).filter(|(_, l)| **l == want).map(|(s, _)| *s).collect();
                    series.push((what.to_string(), COLORS[k], histogram(&v, lo, hi)));
                }
            }
            None => series.push(("all rows".to_string(), COLORS[0], histogram(te, lo, hi))),
        }
        let y_max = series
            .iter()
            .flat_map(|x| x.2.iter().map(|p| p.1))
            .fold(0.0f64, f64::max)
            .max(1e-9);
        let title = format!("{name}: score from {lo:.3} to {hi:.3}");
        let threshold = ((d.threshold - lo) / (hi - lo).max(1e-300)).clamp(0.0, 1.0);
        let mut plot = Plot {
            title: &title,
            x_label: "score, scaled to its range",
            y_label: "share of rows",
            x_max: 1.0,
            y_max,
            series,
            diagonal: false,
            hline: None,
        }
        .svg();
        // The flag threshold as a vertical mark in the caption.
        let _ = write!(plot, "<p>flag threshold at {:.0}% of the range</p>", 100.0 * threshold);
        s.push_str(&plot);
    }
    s.push_str("</div></section>");
}

/// ROC and precision-recall curves against the label.
fn curve_plots(s: &mut String, curves: &[(String, &'static str, Vec<(f64, f64)>)]) {
    if curves.is_empty() {
        return;
    }
    s.push_str(r#"<section id="curves"><h2>ROC and precision-recall curves (test rows)</h2><div class="grid">"#);
    for (kind, title, x_label, y_label, diagonal) in [
        ("roc", "ROC", "false positive rate", "true positive rate", true),
        ("pr", "Precision-recall", "recall", "precision", false),
    ] {
        let series = curves
            .iter()
            .filter(|c| c.1 == kind)
            .enumerate()
            .map(|(i, c)| (c.0.clone(), COLORS[i % COLORS.len()], c.2.clone()))
            .collect();
        s.push_str(
            &Plot {
                title,
                x_label,
                y_label,
                x_max: 1.0,
                y_max: 1.0,
                series,
                diagonal,
                hline: None,
            }
            .svg(),
        );
    }
    s.push_str("</div></section>");
}

/// ROC AUC per planted kind and detector (generated data).
fn by_kind(s: &mut String, m: &AnomalyMetrics) {
    if m.by_kind.is_empty() {
        return;
    }
    s.push_str(r#"<section id="by-kind"><h2>Which detector catches which kind (ROC AUC, that kind against normal rows)</h2><table><tr><th>kind</th>"#);
    let names: Vec<&String> = m.detectors.keys().collect();
    for n in &names {
        let _ = write!(s, "<th>{}</th>", esc(n));
    }
    s.push_str("</tr>");
    for (kind, per) in &m.by_kind {
        let _ = write!(s, "<tr><td>{}</td>", esc(kind));
        for n in &names {
            let _ = write!(s, "<td>{}</td>", f4(per.get(*n).copied()));
        }
        s.push_str("</tr>");
    }
    s.push_str("</table></section>");
}

/// The most unusual test rows and their reasons.
fn top(s: &mut String, m: &AnomalyMetrics) {
    s.push_str(r#"<section id="top"><h2>Top anomalies (test rows, by the ensemble)</h2><table><tr><th>row</th><th>score</th><th>label</th><th>reasons (feature = value, share of the attribution)</th></tr>"#);
    for t in &m.top {
        let reasons: Vec<String> = t
            .reasons
            .iter()
            .map(|r| format!("{} = {} ({:.0}%)", esc(&r.feature), esc(&r.value), 100.0 * r.share))
            .collect();
        let _ = write!(
            s,
            "<tr><td>{}</td><td>{:.4}</td><td>{}</td><td style=\"text-align:left\">{}</td></tr>",
            esc(&t.row),
            t.score,
            t.label.map(|l| format!("{l}")).unwrap_or_else(|| "&ndash;".into()),
            reasons.join("; ")
        );
    }
    s.push_str("</table></section>");
}
