//! The report page of a task with a continuous target: the model comparison, predicted
//! against realised by decile, and the target's distribution. Self-contained HTML, as the
//! other reports.

use std::fmt::Write;

use crate::artifacts::{PortfolioFile, RegressionMetricsFile};
use crate::config::EvaluateParams;
use crate::report::{COLORS, Plot, esc};

/// The page.
pub fn render(params: &EvaluateParams, m: &RegressionMetricsFile, book: Option<&PortfolioFile>) -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>riskpipe report: {p}</title>
<style>body{{font-family:system-ui,sans-serif;margin:1.5em auto;max-width:1180px;padding:0 1em;color:#222}}table{{border-collapse:collapse;margin:.6em 0}}td,th{{border:1px solid #ccc;padding:3px 8px;text-align:right;font-size:14px}}th{{background:#f3f3f3}}td:first-child,th:first-child{{text-align:left}}.sel td{{font-weight:bold}}.grid{{display:flex;flex-wrap:wrap;gap:12px}}figure{{margin:0}}section{{margin-top:1.6em}}</style></head><body>
<h1>{what}: {p}</h1>"#,
        p = esc(&params.pipeline),
        what = if m.target == riskpipe_core::names::REALISED_CCF {
            "Credit conversion factor"
        } else {
            "Loss given default"
        }
    );
    let _ = write!(
        s,
        "<section id=\"run\"><h2>Run</h2><table><tr><th>task</th><td>{}</td></tr><tr><th>target</th><td>{}</td></tr><tr><th>selected model</th><td>{} (lowest cross-validated RMSE)</td></tr><tr><th>seed</th><td>{}</td></tr><tr><th>riskpipe version</th><td>{}</td></tr></table></section>",
        esc(m.task.name()),
        esc(&m.target),
        esc(&m.selected_model),
        params.seed,
        env!("CARGO_PKG_VERSION")
    );
    comparison(&mut s, m);
    deciles(&mut s, m);
    distribution(&mut s, m);
    if let Some(p) = book {
        s.push_str(&crate::portfolio_report::section(p));
    }
    s.push_str("</body></html>\n");
    s
}

/// Every model on train and test, and the true model's ceiling.
fn comparison(s: &mut String, m: &RegressionMetricsFile) {
    s.push_str(
        r#"<section id="comparison"><h2>Model comparison</h2><p>The accuracy ratio is the area between the model's cumulative accuracy profile (loans by prediction, highest first, against their share of the realised total) and the diagonal, over the perfect ranking's.</p><table><tr><th>model</th><th>CV RMSE</th><th>train RMSE</th><th>test RMSE</th><th>test MAE</th><th>test R2</th><th>test accuracy ratio</th><th>test mean predicted</th><th>test mean realised</th></tr>"#,
    );
    for (name, r) in &m.models {
        let _ = write!(
            s,
            "<tr{}><td>{}</td><td>{}</td><td>{:.4}</td><td>{:.4}</td><td>{:.4}</td><td>{:.4}</td><td>{:.4}</td><td>{:.4}</td><td>{:.4}</td></tr>",
            if *name == m.selected_model {
                " class=\"sel\""
            } else {
                ""
            },
            esc(name),
            r.cv_rmse.map(|v| format!("{v:.4}")).unwrap_or_else(|| "&ndash;".into()),
            r.train.rmse,
            r.test.rmse,
            r.test.mae,
            r.test.r2,
            r.test.accuracy_ratio,
            r.test.mean_predicted,
            r.test.mean_realised
        );
    }
    if let Some(o) = &m.oracle {
        let _ = write!(
            s,
            "<tr><td>true model ({})</td><td>&ndash;</td><td>&ndash;</td><td>{:.4}</td><td>{:.4}</td><td>{:.4}</td><td>{:.4}</td><td>{:.4}</td><td>{:.4}</td></tr>",
            esc(&o.column),
            o.test.rmse,
            o.test.mae,
            o.test.r2,
            o.test.accuracy_ratio,
            o.test.mean_predicted,
            o.test.mean_realised
        );
    }
    s.push_str("</table></section>");
}

/// The selected model's predicted and realised mean by decile of the prediction.
fn deciles(s: &mut String, m: &RegressionMetricsFile) {
    let Some(r) = m.models.get(&m.selected_model) else {
        return;
    };
    s.push_str(r#"<section id="deciles"><h2>Predicted against realised, by decile of the prediction (test rows)</h2><div class="grid">"#);
    let y_max = r
        .deciles
        .iter()
        .flat_map(|d| [d.predicted, d.realised])
        .fold(0.0f64, f64::max)
        .max(1e-9);
    let title = format!("{}: mean per decile", m.selected_model);
    s.push_str(
        &Plot {
            title: &title,
            x_label: "decile of the prediction",
            y_label: &m.target,
            x_max: 10.0,
            y_max,
            series: vec![
                (
                    "predicted".to_string(),
                    COLORS[0],
                    r.deciles.iter().map(|d| (f64::from(d.decile), d.predicted)).collect(),
                ),
                (
                    "realised".to_string(),
                    COLORS[1],
                    r.deciles.iter().map(|d| (f64::from(d.decile), d.realised)).collect(),
                ),
            ],
            diagonal: false,
            hline: None,
        }
        .svg(),
    );
    s.push_str("<table><tr><th>decile</th><th>rows</th><th>mean predicted</th><th>mean realised</th></tr>");
    for d in &r.deciles {
        let _ = write!(
            s,
            "<tr><td>{}</td><td>{}</td><td>{:.4}</td><td>{:.4}</td></tr>",
            d.decile, d.n, d.predicted, d.realised
        );
    }
    s.push_str("</table></div></section>");
}

/// The target's distribution over [0, 1].
fn distribution(s: &mut String, m: &RegressionMetricsFile) {
    s.push_str(r#"<section id="distribution"><h2>Distribution of the realised target (test rows)</h2>"#);
    let y_max = m.target_histogram.iter().copied().fold(0.0f64, f64::max).max(1e-9);
    let pts: Vec<(f64, f64)> = m
        .target_histogram
        .iter()
        .enumerate()
        .map(|(b, v)| ((b as f64 + 0.5) / 20.0, *v))
        .collect();
    s.push_str(
        &Plot {
            title: "share of loans in each twentieth of [0, 1]",
            x_label: &m.target,
            y_label: "share of loans",
            x_max: 1.0,
            y_max,
            series: vec![("realised".to_string(), COLORS[0], pts)],
            diagonal: false,
            hline: None,
        }
        .svg(),
    );
    s.push_str("</section>");
}
