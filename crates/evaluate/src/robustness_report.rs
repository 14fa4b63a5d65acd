//! The report's robustness and seed-stability sections.

use std::fmt::Write;

use crate::robustness::{Robustness, SeedStability};

/// HTML-escaped text (the report module calls this one, so it cannot import the report's).
fn esc(t: &str) -> String {
    t.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// The report's seed-stability table.
pub fn seed_section(s: &mut String, x: &SeedStability) {
    if x.seeds.len() < 2 {
        let _ = write!(
            s,
            "<section id=\"seeds\"><h2>Seed stability</h2><p>The {} model takes no seed: it fits the same with any.</p></section>",
            esc(&x.model)
        );
        return;
    }
    let _ = write!(
        s,
        "<section id=\"seeds\"><h2>Seed stability</h2><p>The {} model refitted with {} seeds (same settings, same rows): test AUC from {:.4} to {:.4} (range {:.4}, standard deviation {:.4}).</p><table><tr><th>feature</th><th>share of seeds ranking it in the top five</th></tr>",
        esc(&x.model),
        x.seeds.len(),
        x.auc.iter().copied().fold(f64::MAX, f64::min),
        x.auc.iter().copied().fold(f64::MIN, f64::max),
        x.auc_range,
        x.auc_sd
    );
    for (f, share) in &x.top_features {
        let _ = write!(s, "<tr><td>{}</td><td>{:.0} %</td></tr>", esc(f), 100.0 * share);
    }
    s.push_str("</table></section>");
}

/// The report's section: per scenario, each model's AUC (and change), KS and score PSI; then
/// the columns by damage.
pub fn section(s: &mut String, r: &Robustness) {
    let models: Vec<&String> = r
        .scenarios
        .first()
        .map(|x| x.models.keys().collect())
        .unwrap_or_default();
    let _ = write!(
        s,
        "<section id=\"robustness\"><h2>Robustness</h2><p>{} test rows, each scenario changing one column; every fitted model re-scores them (nothing refitted). AUC (change), KS, and the PSI of the scores against the unstressed test scores (above 0.25: shifted).</p><table><tr><th>scenario</th><th>rows changed</th>",
        r.rows
    );
    for m in &models {
        let _ = write!(s, "<th>{} AUC</th><th>KS</th><th>PSI</th>", esc(m));
    }
    s.push_str("</tr>");
    for x in &r.scenarios {
        let _ = write!(s, "<tr><td>{}</td><td>{}</td>", esc(&x.name), x.rows_changed);
        for m in &models {
            let v = &x.models[*m];
            let class = if v.psi > 0.25 { " class=\"bad\"" } else { "" };
            let _ = write!(
                s,
                "<td>{:.4} ({:+.4})</td><td>{:.4}</td><td{class}>{:.3}</td>",
                v.auc, v.auc_change, v.ks, v.psi
            );
        }
        s.push_str("</tr>");
    }
    let _ = write!(
        s,
        "</table><p>Columns by the AUC their worst stress costs the selected model ({}):</p><table><tr><th>column</th><th>scenario</th><th>AUC lost</th><th>PSI</th></tr>",
        esc(&r.selected)
    );
    for d in &r.ranking {
        let _ = write!(
            s,
            "<tr><td>{}</td><td>{}</td><td>{:.4}</td><td>{:.3}</td></tr>",
            esc(&d.column),
            esc(&d.scenario),
            d.auc_drop,
            d.psi
        );
    }
    s.push_str("</table>");
    if !r.monotone.is_empty() {
        s.push_str("<p>Monotonicity: each declared feature nudged up on every test row with a value; the share of those rows whose score moved against the declared direction:</p><table><tr><th>feature</th><th>PD should</th><th>nudge</th><th>rows</th>");
        let names: Vec<&String> = r.monotone[0].wrong_way.keys().collect();
        for m in &names {
            let _ = write!(s, "<th>{}</th>", esc(m));
        }
        s.push_str("</tr>");
        for c in &r.monotone {
            let _ = write!(
                s,
                "<tr><td>{}</td><td>{}</td><td>{:.4}</td><td>{}</td>",
                esc(&c.feature),
                if c.direction > 0 { "rise" } else { "fall" },
                c.nudge,
                c.rows
            );
            for m in &names {
                let w = c.wrong_way[*m];
                let class = if w > 0.0 { " class=\"bad\"" } else { "" };
                let _ = write!(s, "<td{class}>{:.2} %</td>", 100.0 * w);
            }
            s.push_str("</tr>");
        }
        s.push_str("</table>");
    }
    if !r.periods.is_empty() {
        let names: Vec<&String> = r.periods[0].models.keys().collect();
        s.push_str("<p>Out-of-time stability: the test rows by period; AUC, KS and the PSI of the scores against the training scores.</p><table><tr><th>period</th><th>rows</th><th>positive rate</th>");
        for m in &names {
            let _ = write!(s, "<th>{} AUC</th><th>KS</th><th>PSI</th>", esc(m));
        }
        s.push_str("</tr>");
        let opt = |v: Option<f64>| v.map_or("n/a".to_string(), |x| format!("{x:.4}"));
        for p in &r.periods {
            let _ = write!(
                s,
                "<tr><td>{}</td><td>{}</td><td>{:.2} %</td>",
                esc(&p.period),
                p.rows,
                100.0 * p.positive_rate
            );
            for m in &names {
                let v = &p.models[*m];
                let class = if v.psi > 0.25 { " class=\"bad\"" } else { "" };
                let _ = write!(
                    s,
                    "<td>{}</td><td>{}</td><td{class}>{:.3}</td>",
                    opt(v.auc),
                    opt(v.ks),
                    v.psi
                );
            }
            s.push_str("</tr>");
        }
        s.push_str("</table>");
    }
    s.push_str("</section>");
}
