//! `riskpipe explain`: counterfactuals the bundle itself approves, and the smallest ones.

use crate::util::{TestDir, small_pipeline};

/// Rows of a CSV file as maps from column to text.
fn rows(path: &std::path::Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::Reader::from_path(path).expect("csv");
    let head: Vec<String> = r.headers().expect("header").iter().map(String::from).collect();
    let rows = r
        .records()
        .map(|x| x.expect("row").iter().map(String::from).collect())
        .collect();
    (head, rows)
}

/// Writes `lines` (a header, then rows) to `NAME.csv`, scores it with the bundle of `run`
/// (`riskpipe score`, `extra` arguments after) and returns the rows it wrote.
fn score_lines(t: &TestDir, name: &str, lines: &[String], extra: &[&str]) -> (Vec<String>, Vec<Vec<String>>) {
    let (input, output) = (format!("{name}.csv"), format!("{name}_out.csv"));
    t.write(&input, &(lines.join("\n") + "\n"));
    let mut args = vec![
        "score",
        "--bundle",
        "run/deploy/bundle",
        "--input",
        &input,
        "--output",
        &output,
    ];
    args.extend(extra);
    t.run(&args).ok();
    rows(&t.join(&output))
}

fn col(head: &[String], name: &str) -> usize {
    head.iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no `{name}`"))
}

const ACTIONABLE: &str = "deploy:\n  actionable: [utilisation, debt_to_income, inquiries_6m]\n";

/// Every counterfactual, written back into its application and scored by `riskpipe score`,
/// gets the PD explain reported and is approved; halfway to it, the application is still
/// declined (the scorecard's change is the smallest); a target score works the same way.
#[test]
fn counterfactuals_cross_the_threshold_when_scored_and_are_the_smallest() {
    let t = TestDir::new();
    t.write("p.yaml", &small_pipeline(2000, ACTIONABLE));
    t.run(&["run", "p.yaml", "--run-dir", "run"]).ok();
    t.run(&["synth", "loans", "--rows", "400", "--seed", "99", "--out", "new.csv"])
        .ok();
    let bundle = t.join("run/deploy/bundle");
    let info: serde_json::Value =
        serde_json::from_str(&fs_err::read_to_string(bundle.join("bundle.json")).unwrap()).unwrap();
    let threshold = info["decision_threshold"].as_f64().unwrap();
    for target in [None, Some(540.0)] {
        let mut args = vec![
            "explain",
            "--bundle",
            "run/deploy/bundle",
            "--input",
            "new.csv",
            "--output",
            "ex.csv",
        ];
        let s = target.map(|s: f64| s.to_string()).unwrap_or_default();
        if target.is_some() {
            args.extend(["--target-score", s.as_str()]);
        }
        t.run(&args).ok();
        let (head, out) = rows(&t.join("ex.csv"));
        let (ihead, input) = rows(&t.join("new.csv"));
        let approved = |pd: f64, score: f64| match target {
            Some(s) => score >= s,
            None => pd < threshold,
        };
        // Applications with their counterfactual, and halfway there.
        let mut moved = vec![ihead.join(",")];
        let mut halfway = vec![ihead.join(",")];
        let mut expected = Vec::new();
        let mut declined = 0;
        for (o, i) in out.iter().zip(&input) {
            let (pd, score): (f64, f64) = (
                o[col(&head, "pd")].parse().unwrap(),
                o[col(&head, "score")].parse().unwrap(),
            );
            assert_eq!(o[col(&head, "decision")] == "approve", approved(pd, score));
            if o[col(&head, "decision")] == "approve" || o[col(&head, "cf_feature")].is_empty() {
                continue;
            }
            declined += 1;
            let f = &o[col(&head, "cf_feature")];
            let to: f64 = o[col(&head, "cf_to")].parse().unwrap();
            if f == "inquiries_6m" {
                assert_eq!(to.fract(), 0.0, "a count gets a whole value");
            }
            // A missing value is given one; halfway from nothing is not a value.
            let Ok(from) = o[col(&head, "cf_from")].parse::<f64>() else {
                continue;
            };
            let mut a = i.clone();
            a[col(&ihead, f)] = to.to_string();
            moved.push(a.join(","));
            let mut b = i.clone();
            b[col(&ihead, f)] = ((from + to) / 2.0).to_string();
            halfway.push(b.join(","));
            expected.push((
                o[col(&head, "cf_pd")].parse::<f64>().unwrap(),
                o[col(&head, "cf_score")].parse::<f64>().unwrap(),
            ));
        }
        assert!(declined > 10, "{declined} counterfactuals");
        let (mh, mo) = score_lines(&t, "moved", &moved, &[]);
        let (hh, ho) = score_lines(&t, "halfway", &halfway, &[]);
        for ((m, h), (pd, score)) in mo.iter().zip(&ho).zip(&expected) {
            let got: f64 = m[col(&mh, "pd")].parse().unwrap();
            assert_eq!(got, *pd, "explain's PD is the bundle's");
            assert!(approved(got, m[col(&mh, "score")].parse().unwrap()));
            assert_eq!(m[col(&mh, "score")].parse::<f64>().unwrap(), *score);
            let (hp, hs): (f64, f64) = (
                h[col(&hh, "pd")].parse().unwrap(),
                h[col(&hh, "score")].parse().unwrap(),
            );
            assert!(
                !approved(hp, hs),
                "halfway is approved already: not the smallest change"
            );
        }
    }
}

/// Only features an applicant can change: a protected attribute, a masked column, age or a
/// text column is exit 2 naming `deploy.actionable.COL`; a bundle with none is exit 2 too.
#[test]
fn actionable_features_exclude_what_an_applicant_cannot_change() {
    let t = TestDir::new();
    for (list, extra, key) in [
        ("[age]", "", "deploy.actionable.age"),
        (
            "[income]",
            "evaluate:\n  protected: [income]\n",
            "deploy.actionable.income",
        ),
        ("[postcode]", "", "deploy.actionable.postcode"),
    ] {
        t.write(
            "bad.yaml",
            &small_pipeline(500, &format!("{extra}deploy:\n  actionable: {list}\n")),
        );
        t.run(&["run", "bad.yaml", "--run-dir", "bad"]).fails(2, &[key]);
        assert!(!t.join("bad").exists());
    }
    t.write("text.yaml", &small_pipeline(800, "deploy:\n  actionable: [purpose]\n"));
    t.run(&["run", "text.yaml", "--run-dir", "text"])
        .fails(2, &["deploy.actionable.purpose", "numeric"]);
    t.write("none.yaml", &small_pipeline(800, ""));
    t.run(&["run", "none.yaml", "--run-dir", "none"]).ok();
    t.run(&["synth", "loans", "--rows", "50", "--seed", "3", "--out", "new.csv"])
        .ok();
    t.run(&[
        "explain",
        "--bundle",
        "none/deploy/bundle",
        "--input",
        "new.csv",
        "--output",
        "ex.csv",
    ])
    .fails(2, &["deploy.actionable"]);
    assert!(!t.join("ex.csv").exists());
}

/// A boosted model with monotone constraints: its counterfactuals move each constrained
/// feature the way that lowers the PD, and `riskpipe score` gives every one the PD explain
/// reported, approved; nine values on the way there are all declined (the change is the
/// smallest of that feature: the candidates are the trees' own thresholds), and a count gets
/// a whole value.
#[test]
fn boosting_counterfactuals_follow_the_monotone_constraints_and_rescore() {
    let t = TestDir::new();
    let yaml = small_pipeline(2000, "deploy:\n  actionable: [utilisation, debt_to_income, inquiries_6m]\n").replace(
        "    tree: { max_depth: [4], min_samples_leaf: [40] }\n",
        "    boosting: { n_trees: [100], learning_rate: [0.1], monotone: { utilisation: 1, debt_to_income: 1, inquiries_6m: 1 } }\n  select: boosting\n",
    );
    assert!(yaml.contains("select: boosting"));
    t.write("p.yaml", &yaml);
    t.run(&["run", "p.yaml", "--run-dir", "run"]).ok();
    t.run(&["synth", "loans", "--rows", "400", "--seed", "99", "--out", "new.csv"])
        .ok();
    t.run(&[
        "explain",
        "--bundle",
        "run/deploy/bundle",
        "--input",
        "new.csv",
        "--output",
        "ex.csv",
    ])
    .ok();
    let (head, out) = rows(&t.join("ex.csv"));
    let (ihead, input) = rows(&t.join("new.csv"));
    let mut moved = vec![ihead.join(",")];
    let mut on_the_way = vec![ihead.join(",")];
    let mut expected = Vec::new();
    for (o, i) in out.iter().zip(&input) {
        let f = &o[col(&head, "cf_feature")];
        if f.is_empty() {
            continue;
        }
        let to: f64 = o[col(&head, "cf_to")].parse().unwrap();
        if f == "inquiries_6m" {
            assert_eq!(to.fract(), 0.0, "a count gets a whole value");
        }
        if let Ok(from) = o[col(&head, "cf_from")].parse::<f64>() {
            assert!(
                to < from,
                "{f}: {from} -> {to} raises a feature whose rise raises the PD"
            );
            for k in 1..10 {
                let mut b = i.clone();
                b[col(&ihead, f)] = (from + (to - from) * f64::from(k) / 10.0).to_string();
                on_the_way.push(b.join(","));
            }
        }
        let mut a = i.clone();
        a[col(&ihead, f)] = to.to_string();
        moved.push(a.join(","));
        expected.push(o[col(&head, "cf_pd")].parse::<f64>().unwrap());
    }
    assert!(expected.len() > 5, "{} counterfactuals", expected.len());
    let (mh, mo) = score_lines(&t, "moved", &moved, &["--no-reasons"]);
    let info: serde_json::Value =
        serde_json::from_str(&fs_err::read_to_string(t.join("run/deploy/bundle/bundle.json")).unwrap()).unwrap();
    let threshold = info["decision_threshold"].as_f64().unwrap();
    for (m, pd) in mo.iter().zip(&expected) {
        let got: f64 = m[col(&mh, "pd")].parse().unwrap();
        assert_eq!(got, *pd);
        assert!(got < threshold);
    }
    assert!(on_the_way.len() > 45);
    let (wh, wo) = score_lines(&t, "way", &on_the_way, &["--no-reasons"]);
    for w in &wo {
        let pd: f64 = w[col(&wh, "pd")].parse().unwrap();
        assert!(pd >= threshold, "a smaller change is approved already (PD {pd})");
    }
}
