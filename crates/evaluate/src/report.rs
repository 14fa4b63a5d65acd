//! The HTML report: one self-contained file with inline CSS and SVG; no script, no font, no
//! link to the network. Written from [`Figures`] and [`MetricsFile`].

use std::fmt::Write;

use riskpipe_core::hash::volatile;

use crate::artifacts::MetricsFile;
use crate::figures::Figures;

pub(crate) fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

pub(crate) const COLORS: [&str; 6] = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"];

/// A line plot on fixed axes.
pub(crate) struct Plot<'a> {
    pub title: &'a str,
    pub x_label: &'a str,
    pub y_label: &'a str,
    pub x_max: f64,
    pub y_max: f64,
    pub series: Vec<(String, &'a str, Vec<(f64, f64)>)>,
    pub diagonal: bool,
    pub hline: Option<(f64, &'a str)>,
}

fn tick(v: f64) -> String {
    if v == 0.0 || v.abs() >= 1.0 {
        format!("{}", (v * 100.0).round() / 100.0)
    } else {
        format!("{:.2}", v)
    }
}

impl Plot<'_> {
    pub(crate) fn svg(&self) -> String {
        let (w, h, ml, mb, mt, mr) = (380.0, 300.0, 48.0, 40.0, 24.0, 12.0);
        let sx = |x: f64| ml + (x / self.x_max).clamp(0.0, 1.0) * (w - ml - mr);
        let sy = |y: f64| h - mb - (y / self.y_max).clamp(0.0, 1.0) * (h - mb - mt);
        let mut s = format!(
            r#"<figure><svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img" aria-label="{t}">"#,
            t = esc(self.title)
        );
        let _ = write!(
            s,
            r#"<text x="{}" y="14" font-size="13" font-weight="bold">{}</text>"#,
            ml,
            esc(self.title)
        );
        let _ = write!(
            s,
            r##"<rect x="{ml}" y="{mt}" width="{}" height="{}" fill="none" stroke="#999"/>"##,
            w - ml - mr,
            h - mb - mt
        );
        for k in 0..=4 {
            let (xv, yv) = (self.x_max * k as f64 / 4.0, self.y_max * k as f64 / 4.0);
            let _ = write!(
                s,
                r#"<text x="{:.1}" y="{:.1}" font-size="10" text-anchor="middle">{}</text>"#,
                sx(xv),
                h - mb + 13.0,
                tick(xv)
            );
            let _ = write!(
                s,
                r#"<text x="{:.1}" y="{:.1}" font-size="10" text-anchor="end">{}</text>"#,
                ml - 4.0,
                sy(yv) + 3.0,
                tick(yv)
            );
        }
        let _ = write!(
            s,
            r#"<text x="{:.1}" y="{:.1}" font-size="11" text-anchor="middle">{}</text>"#,
            (ml + w - mr) / 2.0,
            h - 6.0,
            esc(self.x_label)
        );
        let _ = write!(
            s,
            r#"<text x="12" y="{y:.1}" font-size="11" text-anchor="middle" transform="rotate(-90 12 {y:.1})">{}</text>"#,
            esc(self.y_label),
            y = (mt + h - mb) / 2.0
        );
        if self.diagonal {
            let _ = write!(
                s,
                r##"<path d="M{:.1},{:.1} L{:.1},{:.1}" stroke="#bbb" stroke-dasharray="4 4" fill="none"/>"##,
                sx(0.0),
                sy(0.0),
                sx(self.x_max),
                sy(self.y_max)
            );
        }
        if let Some((y, label)) = self.hline {
            let _ = write!(
                s,
                r##"<path d="M{:.1},{:.1} L{:.1},{:.1}" stroke="#bbb" stroke-dasharray="4 4" fill="none"/>"##,
                sx(0.0),
                sy(y),
                sx(self.x_max),
                sy(y)
            );
            let _ = write!(
                s,
                r##"<text x="{:.1}" y="{:.1}" font-size="10" fill="#777">{}</text>"##,
                sx(0.0) + 4.0,
                sy(y) - 4.0,
                esc(label)
            );
        }
        for (i, (name, color, pts)) in self.series.iter().enumerate() {
            let d: Vec<String> = pts
                .iter()
                .enumerate()
                .map(|(k, (x, y))| format!("{}{:.1},{:.1}", if k == 0 { "M" } else { "L" }, sx(*x), sy(*y)))
                .collect();
            let _ = write!(
                s,
                r#"<path d="{}" stroke="{color}" stroke-width="2" fill="none"/>"#,
                d.join(" ")
            );
            let _ = write!(
                s,
                r#"<text x="{:.1}" y="{:.1}" font-size="11" fill="{color}">{}</text>"#,
                w - mr - 110.0,
                h - mb - 10.0 - 14.0 * (self.series.len() - 1 - i) as f64,
                esc(name)
            );
        }
        s.push_str("</svg></figure>");
        s
    }
}

pub(crate) fn bars(title: &str, items: &[(String, f64)]) -> String {
    let n = items.len().min(15);
    let (w, row) = (380.0, 18.0);
    let h = 30.0 + row * n as f64;
    let max = items.iter().take(n).map(|i| i.1).fold(0.0f64, f64::max).max(1e-12);
    let mut s = format!(
        r#"<figure><svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img" aria-label="{t}">"#,
        t = esc(title)
    );
    let _ = write!(
        s,
        r#"<text x="0" y="14" font-size="13" font-weight="bold">{}</text>"#,
        esc(title)
    );
    for (k, (name, v)) in items.iter().take(n).enumerate() {
        let y = 24.0 + row * k as f64;
        let len = 180.0 * v / max;
        let _ = write!(
            s,
            r#"<text x="150" y="{:.1}" font-size="11" text-anchor="end">{}</text>"#,
            y + 12.0,
            esc(name)
        );
        let _ = write!(
            s,
            r##"<rect x="156" y="{y:.1}" width="{len:.1}" height="13" fill="#1f77b4"/>"##
        );
        let _ = write!(
            s,
            r#"<text x="{:.1}" y="{:.1}" font-size="10">{:.3}</text>"#,
            160.0 + len,
            y + 11.0,
            v
        );
    }
    s.push_str("</svg></figure>");
    s
}

fn flag(v: f64) -> &'static str {
    if v >= 0.25 {
        r#"<span class="bad">shift (&ge; 0.25)</span>"#
    } else if v >= 0.10 {
        r#"<span class="warn">watch (&ge; 0.10)</span>"#
    } else {
        "stable"
    }
}

/// One table row per entry of a JSON object of texts: key, value.
fn text_rows(s: &mut String, obj: &serde_json::Map<String, serde_json::Value>) {
    for (k, v) in obj {
        let _ = write!(
            s,
            "<tr><td>{}</td><td>{}</td></tr>",
            esc(k),
            esc(v.as_str().unwrap_or(""))
        );
    }
}

/// Renders `report.html`: the page head, then one function per section.
pub fn render_html(m: &MetricsFile, f: &Figures) -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>riskpipe report: {p}</title>
<style>body{{font-family:system-ui,sans-serif;margin:1.5em auto;max-width:1180px;padding:0 1em;color:#222}}table{{border-collapse:collapse;margin:.6em 0}}td,th{{border:1px solid #ccc;padding:3px 8px;text-align:right;font-size:14px}}th{{background:#f3f3f3}}td:first-child,th:first-child{{text-align:left}}.sel td{{font-weight:bold}}.grid{{display:flex;flex-wrap:wrap;gap:12px}}figure{{margin:0}}.warn{{color:#b36b00}}.bad{{color:#c00;font-weight:bold}}pre{{background:#f7f7f7;padding:8px;overflow-x:auto;font-size:12px}}section{{margin-top:1.6em}}details{{margin:.3em 0}}#run td{{text-align:left}}</style></head><body>
<h1>Model evaluation: {p}</h1>"#,
        p = esc(&f.header.first().map(|h| h.1.clone()).unwrap_or_default())
    );
    section_run_header(&mut s, m, f);
    section_comparison(&mut s, m, f);
    crate::fraud::section(&mut s, &m.fraud, &m.selected_model);
    section_curves(&mut s, m, f);
    section_deciles_and_threshold(&mut s, m, f);
    section_stability(&mut s, m, f);
    if let Some(r) = &m.robustness {
        crate::robustness_report::section(&mut s, r);
    }
    if let Some(x) = &m.seed_stability {
        crate::robustness_report::seed_section(&mut s, x);
    }
    section_interpretability(&mut s, m, f);
    section_fairness(&mut s, m, f);
    section_data(&mut s, m, f);
    s
}

/// The run: pipeline, data, code, date and the stage manifests.
fn section_run_header(s: &mut String, _m: &MetricsFile, f: &Figures) {
    // Run header.
    s.push_str(r#"<section id="run"><h2>Run</h2><table>"#);
    for (k, v) in &f.header {
        let _ = write!(s, "<tr><th>{}</th><td>{}</td></tr>", esc(k), esc(v));
    }
    let _ = write!(s, "<tr><th>run id</th><td>{}</td></tr>", volatile(&esc(&f.run_id)));
    let _ = write!(s, "<tr><th>date</th><td>{}</td></tr>", volatile(&esc(&f.date)));
    let _ = write!(
        s,
        "<tr><th>stage manifests</th><td>{}<br>evaluate/manifest.json (this stage)</td></tr>",
        f.manifests.iter().map(|m| esc(m)).collect::<Vec<_>>().join("<br>")
    );
    s.push_str("</table></section>");
}

/// Every model on train and test rows, the CV AUC and the fit times.
fn section_comparison(s: &mut String, m: &MetricsFile, f: &Figures) {
    // Model comparison.
    let cv = m.cv_metric_label();
    let _ = write!(
        s,
        r#"<section id="comparison"><h2>Model comparison</h2><p>Selected: <b>{}</b>. Rule: the candidate with the highest mean cross-validated {cv} on the training rows (WoE re-estimated inside each fold), unless the pipeline names one in <code>train.select</code>.</p>"#,
        esc(&m.selected_model)
    );
    let _ = write!(
        s,
        "<table><tr><th>model</th><th>set</th><th>AUC</th><th>KS</th><th>Gini</th><th>PR AUC</th><th>Brier</th><th>log loss</th><th>rows</th><th>CV {cv}</th><th>CV s</th><th>fit s</th></tr>"
    );
    for (name, mm) in &m.models {
        for (set, b) in [("train", &mm.train), ("test", &mm.test)] {
            let cls = if *name == m.selected_model {
                " class=\"sel\""
            } else {
                ""
            };
            // Wall seconds of the cross-validated grid search and of the final fit on all
            // training rows, on the train row.
            let (cv_s, fit_s) = f.fit_secs.get(name).copied().unwrap_or_default();
            let secs = |v: Option<f64>| {
                if set == "train" {
                    volatile(&v.map_or_else(|| "-".to_string(), |v| format!("{v:.2}")))
                } else {
                    String::new()
                }
            };
            let secs = format!("{}</td><td>{}", secs(cv_s), secs(fit_s));
            let _ = write!(
                s,
                "<tr{cls}><td>{}</td><td>{set}</td><td>{:.4}</td><td>{:.4}</td><td>{:.4}</td><td>{:.4}</td><td>{:.4}</td><td>{:.4}</td><td>{}</td><td>{}</td><td>{secs}</td></tr>",
                esc(name),
                b.auc,
                b.ks,
                b.gini,
                b.pr_auc,
                b.brier,
                b.log_loss,
                b.rows,
                mm.cv_auc.map(|v| format!("{v:.4}")).unwrap_or_default()
            );
        }
    }
    if let Some(o) = &m.oracle {
        let _ = write!(
            s,
            "<tr><td>oracle (true PD)</td><td>test</td><td>{:.4}</td><td>{:.4}</td><td>{:.4}</td><td></td><td></td><td></td><td></td><td></td><td></td><td></td></tr>",
            o.auc, o.ks, o.gini
        );
    }
    s.push_str("</table></section>");
}

/// The performance plots: ROC, precision-recall, KS, calibration and score distribution.
fn section_curves(s: &mut String, _m: &MetricsFile, f: &Figures) {
    // Curves.
    let color = |i: usize| COLORS[i % COLORS.len()];
    let roc = Plot {
        title: "ROC curve (test)",
        x_label: "false positive rate",
        y_label: "true positive rate",
        x_max: 1.0,
        y_max: 1.0,
        series: f
            .roc
            .iter()
            .enumerate()
            .map(|(i, (n, p))| (n.clone(), color(i), p.clone()))
            .collect(),
        diagonal: true,
        hline: None,
    };
    let pr = Plot {
        title: "Precision-recall curve (test)",
        x_label: "recall",
        y_label: "precision",
        x_max: 1.0,
        y_max: 1.0,
        series: f
            .pr
            .iter()
            .enumerate()
            .map(|(i, (n, p))| (n.clone(), color(i), p.clone()))
            .collect(),
        diagonal: false,
        hline: Some((f.base_rate, "base rate")),
    };
    let ks = Plot {
        title: &format!("KS plot: {} (test)", f.selected),
        x_label: "share of applicants, riskiest first",
        y_label: "cumulative share",
        x_max: 1.0,
        y_max: 1.0,
        series: vec![
            (
                "bads".into(),
                COLORS[1],
                f.ks.iter().map(|(x, b, _)| (*x, *b)).collect(),
            ),
            (
                "goods".into(),
                COLORS[0],
                f.ks.iter().map(|(x, _, g)| (*x, *g)).collect(),
            ),
        ],
        diagonal: false,
        hline: None,
    };
    let cal_max = f
        .deciles
        .iter()
        .map(|d| d.mean_score.max(d.event_rate))
        .fold(0.0f64, f64::max)
        .max(1e-6)
        * 1.05;
    let calibration = Plot {
        title: "Calibration by decile (test)",
        x_label: "mean predicted PD",
        y_label: "observed default rate",
        x_max: cal_max,
        y_max: cal_max,
        series: vec![(
            "observed".into(),
            COLORS[0],
            f.deciles.iter().rev().map(|d| (d.mean_score, d.event_rate)).collect(),
        )],
        diagonal: true,
        hline: None,
    };
    let dist_max = f
        .distribution
        .iter()
        .map(|d| d.1.max(d.2))
        .fold(0.0f64, f64::max)
        .max(1e-6)
        * 1.05;
    let x_top = f.distribution.last().map(|d| d.0 * 20.0 / 19.5).unwrap_or(1.0);
    let distribution = Plot {
        title: "Score distribution (test)",
        x_label: "predicted PD",
        y_label: "share of class",
        x_max: x_top,
        y_max: dist_max,
        series: vec![
            (
                "goods".into(),
                COLORS[0],
                f.distribution.iter().map(|d| (d.0, d.1)).collect(),
            ),
            (
                "bads".into(),
                COLORS[1],
                f.distribution.iter().map(|d| (d.0, d.2)).collect(),
            ),
        ],
        diagonal: false,
        hline: None,
    };
    let _ = write!(
        s,
        r#"<section id="performance"><h2>Performance of the selected model: {}</h2><div class="grid">"#,
        esc(&f.selected)
    );
    for p in [&roc, &pr, &ks, &calibration, &distribution] {
        s.push_str(&p.svg());
    }
}

/// Gains by decile, the calibration table, the threshold, the confusion matrix and the
/// classification report (the end of the performance section).
fn section_deciles_and_threshold(s: &mut String, m: &MetricsFile, f: &Figures) {
    s.push_str("</div><h3>Gains, lift and calibration by decile (test, riskiest first)</h3><table><tr><th>decile</th><th>rows</th><th>bads</th><th>mean PD</th><th>bad rate</th><th>cumulative capture</th><th>cumulative lift</th></tr>");
    for d in &f.deciles {
        let _ = write!(
            s,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{:.4}</td><td>{:.4}</td><td>{:.1}%</td><td>{:.2}</td></tr>",
            d.band,
            d.rows,
            d.events,
            d.mean_score,
            d.event_rate,
            100.0 * d.cum_capture,
            d.cum_lift
        );
    }
    s.push_str("</table>");
    if let Some(c) = &m.calibration {
        let _ = write!(
            s,
            "<h3 id=\"calibration\">PD calibration: {} scaling of {} (fitted on out-of-fold predictions)</h3><p>Test rows: Brier {:.5} before, {:.5} after; log loss {:.5} before, {:.5} after.</p><table><tr><th>score band</th><th>rows</th><th>mean PD</th><th>mean calibrated PD</th><th>default rate</th></tr>",
            esc(&c.method),
            esc(&c.model),
            c.brier.0,
            c.brier.1,
            c.log_loss.0,
            c.log_loss.1
        );
        for r in &c.table {
            let _ = write!(
                s,
                "<tr><td>{}</td><td>{}</td><td>{:.4}</td><td>{:.4}</td><td>{:.4}</td></tr>",
                r.band, r.rows, r.mean_pd, r.mean_calibrated_pd, r.default_rate
            );
        }
        s.push_str("</table>");
    }
    // Threshold, confusion matrix, classification report.
    if let Some(mm) = m.models.get(&f.selected) {
        let r = &mm.classification_report;
        let [[tn, fp], [fn_, tp]] = r.confusion;
        let _ = write!(
            s,
            "<h3>Classification at threshold {:.4}</h3><p>The threshold is {}; rows with PD at or above it are predicted bad.</p>\
<table><tr><th></th><th>predicted good</th><th>predicted bad</th></tr><tr><td>actual good</td><td>{tn}</td><td>{fp}</td></tr><tr><td>actual bad</td><td>{fn_}</td><td>{tp}</td></tr></table>\
<table><tr><th>class</th><th>precision</th><th>recall</th><th>F1</th><th>support</th></tr>",
            r.threshold,
            esc(&f.threshold_rule)
        );
        for (c, cr) in [("0 (good)", &r.class_0), ("1 (bad)", &r.class_1)] {
            let _ = write!(
                s,
                "<tr><td>{c}</td><td>{:.4}</td><td>{:.4}</td><td>{:.4}</td><td>{}</td></tr>",
                cr.precision, cr.recall, cr.f1, cr.support
            );
        }
        let _ = write!(s, "</table><p>Accuracy {:.4}.</p>", r.accuracy);
    }
    s.push_str("</section>");
}

/// PSI of the scores and CSI of the features.
fn section_stability(s: &mut String, _m: &MetricsFile, f: &Figures) {
    // Stability.
    s.push_str(r#"<section id="stability"><h2>Stability: train vs test</h2><p>Population stability index of each model's score (10 train deciles) and characteristic stability index of each feature (its WoE bins); flagged at 0.10 and 0.25.</p><table><tr><th>score of</th><th>PSI</th><th></th></tr>"#);
    for (n, v) in &f.score_psi {
        let _ = write!(s, "<tr><td>{}</td><td>{v:.4}</td><td>{}</td></tr>", esc(n), flag(*v));
    }
    s.push_str("</table><table><tr><th>feature</th><th>CSI</th><th></th></tr>");
    for (n, v) in &f.csi {
        let _ = write!(s, "<tr><td>{}</td><td>{v:.4}</td><td>{}</td></tr>", esc(n), flag(*v));
    }
    s.push_str("</table></section>");
}

/// Importance, TreeSHAP, binning tables with points, the top of the tree.
fn section_interpretability(s: &mut String, m: &MetricsFile, f: &Figures) {
    // Interpretability.
    let _ = write!(
        s,
        r#"<section id="interpretability"><h2>Interpretability</h2><div class="grid">{}{}</div><p>Logistic regression: |coefficient| x standard deviation of the WoE feature, normalised; tree and forest: share of the Gini decrease; boosting: share of the gain.{}</p>"#,
        bars(&format!("Feature importance: {}", f.selected), &f.importance),
        if f.shap.0.is_empty() {
            String::new()
        } else {
            bars(&format!("Mean |contribution| (TreeSHAP): {}", f.selected), &f.shap.0)
        },
        if f.shap.0.is_empty() {
            String::new()
        } else {
            format!(
                " TreeSHAP: each row's exact contributions (path-dependent), averaged in absolute value over {} evenly spaced test rows; they add up to the model's output (log-odds for boosting, probability for trees and forests).",
                f.shap.1
            )
        }
    );
    if !f.selection.is_empty() {
        s.push_str("<h3>Scorecard feature selection</h3><table><tr><th>feature</th><th>IV</th><th>trend</th><th>scorecard</th><th style=\"text-align:left\">reason</th></tr>");
        for r in &f.selection {
            let _ = write!(
                s,
                "<tr><td>{}</td><td>{:.4}</td><td>{}</td><td>{}</td><td style=\"text-align:left\">{}</td></tr>",
                esc(&r.feature),
                r.iv,
                esc(&r.trend),
                if r.kept {
                    "kept"
                } else {
                    "<span class=\"warn\">dropped</span>"
                },
                esc(&r.reason)
            );
        }
        s.push_str("</table>");
    }
    s.push_str("<h3>Binning tables (WoE, by information value)</h3>");
    if let Some((lo, hi, scale)) = &f.scorecard {
        let _ = write!(
            s,
            "<p>Scorecard points from the logistic model: {}; scores run from {lo} to {hi}.",
            esc(scale)
        );
        if let Some(c) = &m.scorecard {
            let _ = write!(
                s,
                " On the test rows the whole-point scores rank like the model: AUC {:.4} for the points against {:.4} for the model, Spearman rank correlation {:.4}.",
                c.auc_points, c.auc_model, c.spearman
            );
        }
        s.push_str("</p>");
    }
    for b in &f.binning {
        let _ = write!(
            s,
            "<details><summary><b>{}</b>: IV {:.4}{}</summary><table><tr><th>bin</th><th>rows</th><th>share</th><th>bads</th><th>bad rate</th><th>WoE</th><th>IV</th><th>points</th></tr>",
            esc(&b.feature),
            b.iv,
            b.coef
                .map(|c| format!(", logistic coefficient {c:.4}"))
                .unwrap_or_default()
        );
        let total = b.bins.iter().map(|(x, _)| x.count).sum::<u64>().max(1) as f64;
        let pts = |p: Option<i64>| p.map_or_else(|| "-".to_string(), |p| p.to_string());
        for (bin, points) in &b.bins {
            let _ = write!(
                s,
                "<tr><td>{}</td><td>{}</td><td>{:.1}%</td><td>{}</td><td>{:.4}</td><td>{:.4}</td><td>{:.4}</td><td>{}</td></tr>",
                esc(&bin.label),
                bin.count,
                100.0 * bin.count as f64 / total,
                bin.events,
                bin.event_rate,
                bin.woe,
                bin.iv,
                pts(*points)
            );
        }
        if let Some(p) = b.neutral_points {
            let _ = write!(
                s,
                "<tr><td>(no bin: unseen)</td><td>0</td><td>0.0%</td><td>0</td><td>-</td><td>0.0000</td><td>0.0000</td><td>{p}</td></tr>"
            );
        }
        s.push_str("</table></details>");
    }
    if !f.tree.is_empty() {
        let _ = write!(
            s,
            "<h3>Top of the decision tree</h3><pre>{}</pre>",
            esc(&f.tree.join("\n"))
        );
    }
    s.push_str("</section>");
}

/// Approval and default rates, AUC and adverse impact by protected group.
fn section_fairness(s: &mut String, _m: &MetricsFile, f: &Figures) {
    // Fairness.
    if !f.fairness.is_empty() {
        s.push_str(r#"<section id="fairness"><h2>Fairness (test rows, at the chosen threshold)</h2><p>Adverse impact ratio: a group's approval rate over the most favoured group's; flagged below 0.8.</p>"#);
        for (attr, rows) in &f.fairness {
            let _ = write!(
                s,
                "<h3>{}</h3><table><tr><th>group</th><th>rows</th><th>approval rate</th><th>default rate</th><th>AUC</th><th>adverse impact ratio</th><th></th></tr>",
                esc(attr)
            );
            for r in rows {
                let _ = write!(
                    s,
                    "<tr><td>{}</td><td>{}</td><td>{:.1}%</td><td>{:.1}%</td><td>{}</td><td>{:.3}</td><td>{}</td></tr>",
                    esc(&r.group),
                    r.rows,
                    100.0 * r.approval_rate,
                    100.0 * r.default_rate,
                    r.auc.map(|a| format!("{a:.4}")).unwrap_or_else(|| "n/a".into()),
                    r.adverse_impact_ratio,
                    if r.adverse_impact_ratio < 0.8 {
                        r#"<span class="bad">below 0.8</span>"#
                    } else {
                        ""
                    }
                );
            }
            s.push_str("</table>");
        }
        s.push_str("</section>");
    }
}

/// Ingest quality, columns read as text, masking, k-anonymity.
fn section_data(s: &mut String, m: &MetricsFile, f: &Figures) {
    // Data.
    s.push_str(r#"<section id="data"><h2>Data</h2><h3>Ingest quality</h3><table>"#);
    for k in ["rows_read", "rows_written"] {
        let _ = write!(s, "<tr><th>{k}</th><td>{}</td></tr>", esc(&f.quality[k].to_string()));
    }
    if let Some(rate) = f.quality["positive_rate"].as_f64() {
        let _ = write!(s, "<tr><th>positive_rate</th><td>{:.2}%</td></tr>", 100.0 * rate);
    }
    let rejected = match f.quality["rejected"].as_object() {
        Some(o) if o.is_empty() => "none".to_string(),
        _ => f.quality["rejected"].to_string(),
    };
    let _ = write!(s, "<tr><th>rejected</th><td>{}</td></tr></table>", esc(&rejected));
    s.push_str("<table><tr><th>column</th><th>missing values</th></tr>");
    if let Some(obj) = f.quality["missing"].as_object() {
        for (k, v) in obj.iter().filter(|(_, v)| v.as_u64().unwrap_or(0) > 0) {
            let _ = write!(s, "<tr><td>{}</td><td>{v}</td></tr>", esc(k));
        }
    }
    s.push_str("</table>");
    if let Some(obj) = f.quality["read_as_text"].as_object().filter(|o| !o.is_empty()) {
        s.push_str("<p class=\"warn\">Columns read as text by the type-inference rule:</p><table><tr><th>column</th><th>why</th></tr>");
        text_rows(s, obj);
        s.push_str("</table>");
    }
    s.push_str("<h3>Privacy masking</h3><table><tr><th>column</th><th>action</th></tr>");
    if let Some(obj) = f.privacy["actions"].as_object() {
        text_rows(s, obj);
    }
    s.push_str("</table>");
    if let Some(obj) = f.privacy["pii_findings"].as_object().filter(|o| !o.is_empty()) {
        s.push_str("<p>Personal data found by content (a sample of each column's values):</p><table><tr><th>column</th><th>action</th><th>holds</th><th>share of sampled values</th><th>sampled</th></tr>");
        for (col, found) in obj {
            for x in found.as_array().into_iter().flatten() {
                let _ = write!(
                    s,
                    "<tr><td>{}</td><td>{}</td><td>{}{}</td><td>{:.1} %</td><td>{}</td></tr>",
                    esc(col),
                    esc(f.privacy["actions"][col].as_str().unwrap_or("keep")),
                    esc(&x["kind"].as_str().unwrap_or("").replace('_', " ")),
                    if x["in_text"].as_bool() == Some(true) {
                        " (in free text)"
                    } else {
                        ""
                    },
                    100.0 * x["share"].as_f64().unwrap_or(0.0),
                    x["sampled"]
                );
            }
        }
        s.push_str("</table>");
    }
    if let Some(k) = f.privacy.get("k_anonymity").filter(|k| k.is_object()) {
        let _ = write!(
            s,
            "<p>k-anonymity of the quasi-identifiers {}: k = {}, {} groups, {} rows in groups smaller than 5.</p>",
            esc(&k["quasi_identifiers"].to_string()),
            k["k"],
            k["groups"],
            k["rows_in_groups_below_5"]
        );
    }
    if let Some(a) = f.privacy.get("anonymity").filter(|a| a.is_object()) {
        anonymity_section(s, a);
    }
    if let Some(c) = &m.anonymity_cost {
        let _ = write!(
            s,
            "<p>What it cost: the {} model's test AUC is {:.4} on the generalised quasi-identifiers and {:.4} refitted on them as ingested ({} test rows), <b>a cost of {:.4}</b>{}.</p>",
            esc(&c.model),
            c.auc_generalised,
            c.auc_raw,
            c.test_rows,
            c.cost,
            if c.cost < 0.0 {
                " (the generalised columns ranked these test rows better)"
            } else {
                ""
            }
        );
    }
    if let Some(w) = f.privacy["warnings"].as_array().filter(|w| !w.is_empty()) {
        s.push_str("<p class=\"warn\">Warnings:</p><ul>");
        for x in w {
            let _ = write!(s, "<li>{}</li>", esc(x.as_str().unwrap_or("")));
        }
        s.push_str("</ul>");
    }
    s.push_str("</section><p>Written by riskpipe. Figures are also in <code>metrics.json</code> and <code>curves.parquet</code>.</p></body></html>\n");
}

/// The k-anonymity search: levels chosen, risk before and after, class sizes.
fn anonymity_section(s: &mut String, a: &serde_json::Value) {
    let _ = write!(
        s,
        "<h3>k-anonymity</h3><p>Target k = {}{} ({} rows; at most {} suppressed). Levels chosen, for an information loss of {:.3}: ",
        a["k_target"],
        a["l_target"]
            .as_u64()
            .map(|l| format!(", l = {l} over `{}`", a["sensitive"].as_str().unwrap_or("")))
            .unwrap_or_default(),
        a["rows"],
        a["max_suppressed_rows"],
        a["information_loss"].as_f64().unwrap_or(0.0)
    );
    let levels: Vec<String> = a["levels"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(c, v)| format!("{} {}", esc(c), esc(v.as_str().unwrap_or(""))))
        .collect();
    let _ = write!(
        s,
        "{}; {} rows suppressed (their quasi-identifiers blanked). {} of {} lattice nodes evaluated.</p>",
        levels.join(", "),
        a["suppressed_rows"],
        a["evaluated_nodes"],
        a["lattice_nodes"]
    );
    s.push_str("<table><tr><th></th><th>k</th><th>l</th><th>classes</th><th>records at risk (class below k)</th><th>prosecutor risk, max</th><th>prosecutor risk, average</th></tr>");
    for (label, r) in [("raw", &a["before"]), ("released", &a["after"])] {
        let _ = write!(
            s,
            "<tr><th>{label}</th><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.3}</td><td>{:.3}</td></tr>",
            r["k"],
            r["l"],
            r["classes"],
            r["records_at_risk"],
            r["prosecutor_max"].as_f64().unwrap_or(0.0),
            r["prosecutor_avg"].as_f64().unwrap_or(0.0)
        );
    }
    s.push_str("</table><table><tr><th>class size</th><th>classes, raw</th><th>rows, raw</th><th>classes, released</th><th>rows, released</th></tr>");
    let bins = |r: &serde_json::Value| -> Vec<(String, u64, u64)> {
        r["histogram"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|b| {
                (
                    b["sizes"].as_str().unwrap_or("").to_string(),
                    b["classes"].as_u64().unwrap_or(0),
                    b["rows"].as_u64().unwrap_or(0),
                )
            })
            .collect()
    };
    let (before, after) = (bins(&a["before"]), bins(&a["after"]));
    const ORDER: [&str; 9] = ["1", "2", "3-4", "5-9", "10-19", "20-49", "50-99", "100-999", "1000+"];
    for label in ORDER {
        let find = |v: &[(String, u64, u64)]| v.iter().find(|b| b.0 == label).map_or((0, 0), |b| (b.1, b.2));
        let (b, a) = (find(&before), find(&after));
        if b.0 + a.0 > 0 {
            let _ = write!(
                s,
                "<tr><td>{label}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                b.0, b.1, a.0, a.1
            );
        }
    }
    s.push_str("</table>");
}
