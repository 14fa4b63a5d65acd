//! The HTML report: metric tables and ROC curves as inline SVG, no scripts, no downloads.

use std::fmt::Write;

use crate::run::MetricsFile;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

const COLORS: [&str; 6] = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"];

fn roc_svg(curves: &[(String, Vec<(f64, f64)>)]) -> String {
    let (w, h, m) = (420.0, 420.0, 40.0);
    let sx = |x: f64| m + x * (w - 2.0 * m);
    let sy = |y: f64| h - m - y * (h - 2.0 * m);
    let mut s = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img" aria-label="ROC curves">"#
    );
    let _ = write!(
        s,
        r##"<rect x="{m}" y="{m}" width="{}" height="{}" fill="none" stroke="#999"/>"##,
        w - 2.0 * m,
        h - 2.0 * m
    );
    let _ = write!(
        s,
        r##"<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#bbb" stroke-dasharray="4 4"/>"##,
        sx(0.0),
        sy(0.0),
        sx(1.0),
        sy(1.0)
    );
    for k in 0..=4 {
        let v = k as f64 / 4.0;
        let _ = write!(
            s,
            r#"<text x="{}" y="{}" font-size="11" text-anchor="middle">{v}</text>"#,
            sx(v),
            h - m + 16.0
        );
        let _ = write!(
            s,
            r#"<text x="{}" y="{}" font-size="11" text-anchor="end">{v}</text>"#,
            m - 6.0,
            sy(v) + 4.0
        );
    }
    let _ = write!(
        s,
        r#"<text x="{}" y="{}" font-size="12" text-anchor="middle">false positive rate</text>"#,
        w / 2.0,
        h - 6.0
    );
    let _ = write!(
        s,
        r#"<text x="12" y="{}" font-size="12" text-anchor="middle" transform="rotate(-90 12 {})">true positive rate</text>"#,
        h / 2.0,
        h / 2.0
    );
    for (i, (name, pts)) in curves.iter().enumerate() {
        let path: Vec<String> = pts
            .iter()
            .map(|(x, y)| format!("{:.1},{:.1}", sx(*x), sy(*y)))
            .collect();
        let c = COLORS[i % COLORS.len()];
        let _ = write!(
            s,
            r#"<polyline fill="none" stroke="{c}" stroke-width="2" points="{}"/>"#,
            path.join(" ")
        );
        let _ = write!(
            s,
            r#"<text x="{}" y="{}" font-size="12" fill="{c}">{}</text>"#,
            sx(0.55),
            sy(0.25) + 16.0 * i as f64,
            esc(name)
        );
    }
    s.push_str("</svg>");
    s
}

/// Renders `report.html`.
pub fn render_html(m: &MetricsFile, curves: &[(String, Vec<(f64, f64)>)]) -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>riskpipe report: {task}</title>
<style>body{{font-family:system-ui,sans-serif;margin:2em;color:#222}}table{{border-collapse:collapse;margin:1em 0}}td,th{{border:1px solid #ccc;padding:4px 10px;text-align:right}}th{{background:#f3f3f3}}td:first-child,th:first-child{{text-align:left}}.sel{{font-weight:bold}}</style></head><body>
<h1>Model evaluation: {task}</h1><p>Target <code>{target}</code>. Selected model: <b>{sel}</b> (by cross-validated AUC on training rows).</p>"#,
        task = esc(&m.task),
        target = esc(&m.target),
        sel = esc(&m.selected_model)
    );
    s.push_str("<h2>Metrics</h2><table><tr><th>model</th><th>set</th><th>AUC</th><th>KS</th><th>Gini</th><th>PR AUC</th><th>Brier</th><th>log loss</th><th>rows</th><th>CV AUC</th></tr>");
    for (name, mm) in &m.models {
        for (set, b) in [("train", &mm.train), ("test", &mm.test)] {
            let cls = if *name == m.selected_model {
                " class=\"sel\""
            } else {
                ""
            };
            let _ = write!(
                s,
                "<tr{cls}><td>{}</td><td>{set}</td><td>{:.4}</td><td>{:.4}</td><td>{:.4}</td><td>{:.4}</td><td>{:.4}</td><td>{:.4}</td><td>{}</td><td>{}</td></tr>",
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
            "<tr><td>oracle (true PD)</td><td>test</td><td>{:.4}</td><td>{:.4}</td><td>{:.4}</td><td></td><td></td><td></td><td></td><td></td></tr>",
            o.auc, o.ks, o.gini
        );
    }
    s.push_str("</table><h2>ROC curves (test)</h2>");
    s.push_str(&roc_svg(curves));
    s.push_str("<h2>Classification report (test, threshold chosen on train)</h2>");
    for (name, mm) in &m.models {
        let r = &mm.classification_report;
        let _ = write!(
            s,
            "<h3>{}</h3><p>threshold {:.4}, accuracy {:.4}</p><table><tr><th>class</th><th>precision</th><th>recall</th><th>F1</th><th>support</th></tr>",
            esc(name),
            r.threshold,
            r.accuracy
        );
        for (c, cr) in [("0 (good)", &r.class_0), ("1 (bad)", &r.class_1)] {
            let _ = write!(
                s,
                "<tr><td>{c}</td><td>{:.4}</td><td>{:.4}</td><td>{:.4}</td><td>{}</td></tr>",
                cr.precision, cr.recall, cr.f1, cr.support
            );
        }
        s.push_str("</table>");
    }
    s.push_str("<p>Written by riskpipe.</p></body></html>\n");
    s
}
