//! The report's loss-book section: expected loss by segment, ECL by IFRS 9 stage, RWA by IRB
//! class, what the rules adjusted, and the simulated loss distribution with VaR and ES marked.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::artifacts::{BookGroup, PortfolioFile};
use crate::report::{COLORS, Plot, esc};

fn money(v: f64) -> String {
    let s = format!("{:.0}", v.abs());
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if v < 0.0 { format!("-{out}") } else { out }
}

fn pct(part: f64, whole: f64) -> String {
    if whole > 0.0 {
        format!("{:.2}%", 100.0 * part / whole)
    } else {
        "-".into()
    }
}

/// A table of groups with the columns `cols` (`ead`, `el`, `ecl`, `rwa`) and their rates.
fn table(s: &mut String, title: &str, groups: &BTreeMap<String, BookGroup>, total: &BookGroup, cols: &[&str]) {
    let _ = write!(
        s,
        "<h3>{}</h3><table><tr><th></th><th>loans</th><th>EAD</th>",
        esc(title)
    );
    for c in cols {
        let _ = match *c {
            "el" => write!(s, "<th>EL</th><th>EL / EAD</th>"),
            "ecl" => write!(s, "<th>ECL</th><th>coverage (ECL / EAD)</th>"),
            _ => write!(s, "<th>RWA</th><th>RWA density (RWA / EAD)</th>"),
        };
    }
    s.push_str("</tr>");
    let rows = groups.iter().map(|(k, g)| (k.as_str(), g)).chain([("total", total)]);
    for (name, g) in rows {
        let _ = write!(
            s,
            "<tr><td>{}</td><td>{}</td><td>{}</td>",
            esc(name),
            g.loans,
            money(g.ead)
        );
        for c in cols {
            let v = match *c {
                "el" => g.el,
                "ecl" => g.ecl,
                _ => g.rwa,
            };
            let _ = write!(s, "<td>{}</td><td>{}</td>", money(v), pct(v, g.ead));
        }
        s.push_str("</tr>");
    }
    s.push_str("</table>");
}

/// The section.
pub fn section(p: &PortfolioFile) -> String {
    let mut s = String::from(r#"<section id="book"><h2>Loss book: expected loss, IFRS 9, IRB capital</h2>"#);
    let _ = write!(
        s,
        "<p>Every loan of the data, its LGD from the selected model and its PD from the credit bundle of the <code>{}</code> pipeline.</p><ul>",
        esc(&p.pd_pipeline)
    );
    for line in &p.settings {
        let _ = write!(s, "<li>{}</li>", esc(line));
    }
    s.push_str("</ul>");
    if let Some(t) = p.true_el {
        let _ = write!(
            s,
            "<p>12-month EL {} against {} from the generator's true PD and LGD on the same EADs ({}).</p>",
            money(p.total.el),
            money(t),
            pct(p.total.el - t, t)
        );
    }
    table(
        &mut s,
        "Expected loss by segment",
        &p.by_segment,
        &p.total,
        &["el", "ecl", "rwa"],
    );
    table(&mut s, "ECL by IFRS 9 stage", &p.by_stage, &p.total, &["ecl"]);
    table(&mut s, "RWA by IRB exposure class", &p.by_class, &p.total, &["rwa"]);
    let a = &p.adjusted;
    let _ = write!(
        s,
        "<h3>Adjusted by the rules</h3><table><tr><th>PD raised to the floor</th><td>{}</td></tr><tr><th>corporate maturity capped to [1, 5] years</th><td>{}</td></tr><tr><th>in default (PD 1, IRB K 0)</th><td>{}</td></tr><tr><th>predicted LGD clipped to [0, 1]</th><td>{}</td></tr></table>",
        a.pd_floored, a.maturity_capped, a.defaulted, a.lgd_clipped
    );
    distribution(&mut s, p);
    s.push_str("</section>");
    s
}

/// The simulated loss distribution, VaR and ES marked.
fn distribution(s: &mut String, p: &PortfolioFile) {
    let d = &p.loss_distribution;
    let _ = write!(
        s,
        "<h3>Loss distribution (one-factor Vasicek, {} scenarios, IRB correlations)</h3><table><tr><th></th><th>loss</th><th>standard error</th><th>share of EAD</th></tr><tr><td>mean (analytic EL {})</td><td>{}</td><td>{}</td><td>{}</td></tr>",
        d.scenarios,
        money(p.total.el),
        money(d.mean),
        money(d.mean_std_error),
        pct(d.mean, p.total.ead)
    );
    for t in &d.tails {
        let level = format!("{}%", 100.0 * t.level);
        let _ = write!(
            s,
            "<tr><td>VaR {level}</td><td>{}</td><td>{}</td><td>{}</td></tr><tr><td>ES {level}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            money(t.var),
            money(t.var_std_error),
            pct(t.var, p.total.ead),
            money(t.es),
            money(t.es_std_error),
            pct(t.es, p.total.ead)
        );
    }
    s.push_str("</table>");
    let width = d.bin_edges.first().copied().unwrap_or(1.0);
    let x_max = d.bin_edges.last().copied().unwrap_or(1.0);
    let y_max = d.shares.iter().copied().fold(0.0f64, f64::max).max(1e-9);
    let mut series = vec![(
        "share of scenarios".to_string(),
        COLORS[0],
        d.bin_edges
            .iter()
            .zip(&d.shares)
            .map(|(e, v)| (e - width / 2.0, *v))
            .collect(),
    )];
    for (k, t) in d.tails.iter().enumerate() {
        let level = 100.0 * t.level;
        series.push((
            format!("VaR {level}%"),
            COLORS[1 + 2 * k],
            vec![(t.var, 0.0), (t.var, y_max)],
        ));
        series.push((
            format!("ES {level}%"),
            COLORS[2 + 2 * k],
            vec![(t.es, 0.0), (t.es, y_max)],
        ));
    }
    s.push_str(
        &Plot {
            title: "one-year portfolio loss",
            x_label: "loss",
            y_label: "share of scenarios",
            x_max,
            y_max,
            series,
            diagonal: false,
            hline: None,
        }
        .svg(),
    );
}

#[cfg(test)]
mod tests {
    use super::money;

    #[test]
    fn money_groups_thousands() {
        assert_eq!(money(1234567.4), "1,234,567");
        assert_eq!(money(999.0), "999");
        assert_eq!(money(-1000.0), "-1,000");
    }
}
