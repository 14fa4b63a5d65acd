//! Loss prediction end to end: the realised LGD derived from exposures and recoveries, the
//! regressors, the regression report, the bundle's `lgd`, and the user errors.

use crate::util::{TestDir, repo, shared_data};

fn json(p: &std::path::Path) -> serde_json::Value {
    serde_json::from_slice(&fs_err::read(p).expect("read")).expect("json")
}

/// `pipelines/loss_prediction.yaml` without its `loss.pd_bundle` and `loss.book` keys.
fn without_book(yaml: &str) -> String {
    let mut out = String::new();
    let mut in_book = false;
    for line in yaml.lines() {
        if line.starts_with("  pd_bundle:") {
            continue;
        }
        if line.starts_with("  book:") {
            in_book = true;
            continue;
        }
        if in_book && line.starts_with("    ") {
            continue;
        }
        in_book = false;
        out.push_str(line);
        out.push('\n');
    }
    out
}

#[test]
fn the_lgd_model_learns_from_defaulted_loans_and_the_bundle_scores_every_loan() {
    let t = TestDir::new();
    let yaml = without_book(&fs_err::read_to_string(repo().join("pipelines/loss_prediction.yaml")).unwrap())
        .replace("rows: 200000", "rows: 60000");
    t.write("loss.yaml", &yaml);
    let r = t.run(&["run", "loss.yaml", "--run-dir", "run"]).ok();
    let said = format!("{}{}", r.stdout, r.stderr);
    assert!(said.contains("rows without a target left out"), "{said}");
    let run = t.join("run");
    // Ingest: the target exists for the defaulted loans only; every loan stays.
    let q = json(&run.join("ingest/quality.json"));
    let with = q["target_summary"]["with_target"].as_u64().unwrap();
    assert!((1500..4000).contains(&with), "{q}");
    assert_eq!(q["rows_written"], 60000);
    // Features: the recoveries and the default flag describe the outcome: never features.
    let fr = json(&run.join("features/report.json"));
    for c in ["recovery_y1", "recovery_y2", "recovery_y3", "default_flag"] {
        assert!(
            fr["excluded"][c].as_str().unwrap().contains("derived"),
            "{c}: {}",
            fr["excluded"]
        );
    }
    assert_eq!(fr["without_target"].as_u64().unwrap(), 60000 - with);
    let split = riskpipe_core::io::read_parquet(&run.join("features/split.parquet")).unwrap();
    assert_eq!(split.rows(), 60000, "one split line per loan");
    // Evaluate: regression metrics, the true model's ceiling, deciles, the report.
    let m = json(&run.join("evaluate/metrics.json"));
    let sel = m["selected_model"].as_str().unwrap();
    let test = &m["models"][sel]["test"];
    let (r2, ceiling) = (
        test["r2"].as_f64().unwrap(),
        m["oracle"]["test"]["r2"].as_f64().unwrap(),
    );
    assert!(
        r2 > 0.2 && r2 > ceiling - 0.06,
        "R2 {r2} against the true model's {ceiling}"
    );
    assert!(test["accuracy_ratio"].as_f64().unwrap() > 0.3, "{test}");
    assert_eq!(m["models"][sel]["deciles"].as_array().unwrap().len(), 10);
    let html = fs_err::read_to_string(run.join("evaluate/report.html")).unwrap();
    for s in [
        "Model comparison",
        "by decile",
        "Distribution of the realised target",
        "true model",
    ] {
        assert!(html.contains(s), "report lacks `{s}`");
    }
    assert_eq!(json(&run.join("deploy/check.json"))["ok"], true);
    // The bundle scores any loan, defaulted or not: `lgd` and reasons.
    t.run(&["synth", "loss", "--rows", "200", "--seed", "5", "--out", "book.csv"])
        .ok();
    t.run(&[
        "score",
        "--bundle",
        "run/deploy/bundle",
        "--input",
        "book.csv",
        "--output",
        "lgd.csv",
    ])
    .ok();
    let scored = fs_err::read_to_string(t.join("lgd.csv")).unwrap();
    let mut lines = scored.lines();
    assert_eq!(lines.next().unwrap(), "loan_id,lgd,reason_1,reason_2,reason_3");
    assert_eq!(lines.clone().count(), 200);
    assert!(scored.contains("raises the LGD"), "{scored}");
    // Byte for byte on a rerun.
    t.run(&["verify", "run"]).ok();
}

/// A small book: `n` loans, every third defaulted, with an EAD and one recovery column.
fn book(n: usize, recovery: impl Fn(usize) -> f64) -> String {
    let mut s = String::from("loan_id,income,region,default_flag,ead,recovered\n");
    for i in 0..n {
        let defaulted = i % 3 == 0;
        let income = 20_000.0 + 137.0 * (i % 101) as f64;
        let region = ["n", "s", "e"][(i / 3) % 3];
        if defaulted {
            s.push_str(&format!("L{i},{income},{region},1,1000,{}\n", recovery(i)));
        } else {
            s.push_str(&format!("L{i},{income},{region},0,,\n"));
        }
    }
    s
}

fn pipeline(extra: &str) -> String {
    format!(
        "version: 1\nname: lgd\ntask: loss_prediction\nseed: 1\ndata:\n  path: book.csv\n  id: loan_id\nloss:\n  recovery_amount: recovered\n{extra}train:\n  models:\n    regression_tree: {{ max_depth: [3], min_samples_leaf: [20] }}\n"
    )
}

#[test]
fn bad_loss_input_is_a_user_error_naming_the_culprit() {
    let t = TestDir::new();
    // Recoveries above the exposure on ten loans (every 99th row is a defaulted one): an LGD
    // below 0.
    t.write(
        "book.csv",
        &book(900, |i| if i % 99 == 0 { 1200.0 } else { (i % 7) as f64 * 120.0 }),
    );
    t.write("p.yaml", &pipeline(""));
    t.run(&["run", "p.yaml", "--run-dir", "a"]).fails(
        2,
        &[
            "rows have a target (LGD or CCF) outside [0, 1]",
            "row 1: -0.2000",
            "loss.lgd_out_of_range: clip",
        ],
    );
    assert!(!t.join("a/ingest/data.parquet").exists(), "nothing half-written");
    // Clipped on request, and counted.
    t.write("clip.yaml", &pipeline("  lgd_out_of_range: clip\n"));
    t.run(&["run", "clip.yaml", "--run-dir", "b"]).ok();
    let q = json(&t.join("b/ingest/quality.json"));
    assert_eq!(q["target_summary"]["clipped"], 10, "{q}");
    // A negative exposure names the column and the row.
    let bad = book(90, |_| 100.0).replacen(",1,1000,100", ",1,-5,100", 1);
    t.write("book.csv", &bad);
    t.run(&["run", "p.yaml", "--run-dir", "c"])
        .fails(2, &["ead", "row 1", "negative exposure"]);
    // The loss section belongs to the loss task.
    t.write(
        "credit.yaml",
        "version: 1\nname: c\ntask: credit_scoring\ndata:\n  synth: loans\n  rows: 500\nloss:\n  discount_rate: 0.05\n",
    );
    t.run(&["run", "credit.yaml", "--run-dir", "d"])
        .fails(2, &["loss", "loss_prediction"]);
    // An LGD column and recoveries to derive one: one or the other.
    t.write(
        "both.yaml",
        &pipeline("").replace("  id: loan_id\n", "  id: loan_id\n  target: income\n"),
    );
    t.run(&["run", "both.yaml", "--run-dir", "e"])
        .fails(2, &["data.target", "keep one"]);
    // A CCF needs the drawn balance and the limit, and takes no recoveries.
    t.write("ccf.yaml", &pipeline("  target: ccf\n"));
    t.run(&["run", "ccf.yaml", "--run-dir", "g"])
        .fails(2, &["loss.target", "recoveries", "loss.drawn", "loss.limit"]);
    // A discount rate that is not a yearly rate.
    t.write("rate.yaml", &pipeline("  discount_rate: 5\n"));
    t.run(&["run", "rate.yaml", "--run-dir", "f"])
        .fails(2, &["loss.discount_rate", "outside [0, 1)"]);
}

#[test]
#[cfg_attr(no_shared_data, ignore = "shared data folder ../shared/data is missing")]
fn lending_club_charged_off_loans_through_the_lgd_model() {
    let t = TestDir::new();
    // The pipeline the benchmark runs too (`bench/loss_peers.sh`).
    let yaml = fs_err::read_to_string(repo().join("bench/lending_club_lgd.yaml")).unwrap();
    t.write(
        "lc.yaml",
        &yaml.replace("DATA/", &format!("{}/", shared_data().display())),
    );
    t.run(&["run", "lc.yaml", "--run-dir", "run"]).ok();
    let q = json(&t.join("run/ingest/quality.json"));
    // The data's README, computed independently: 816 charged-off loans, LGD = 1 - recoveries /
    // (funded_amnt - total_rec_prncp), mean 0.881, minimum -0.081 (three below 0 are clipped).
    let ts = &q["target_summary"];
    assert_eq!(ts["with_target"], 816, "{q}");
    assert!((ts["mean"].as_f64().unwrap() - 0.881).abs() < 0.0006, "{ts}");
    assert_eq!(ts["clipped"], 3, "{ts}");
    // The realised LGD piles up near 1, and the report shows it.
    let m = json(&t.join("run/evaluate/metrics.json"));
    let h: Vec<f64> = m["target_histogram"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    assert!(h[17..].iter().sum::<f64>() > 0.6, "{h:?}");
    let sel = m["selected_model"].as_str().unwrap();
    let r2 = m["models"][sel]["test"]["r2"].as_f64().unwrap();
    eprintln!("lending club LGD: {sel} test R2 {r2:.4}");
    assert!(r2 > -0.1, "{r2}");
    // The outcome columns never became features.
    let fr = json(&t.join("run/features/report.json"));
    for c in ["recoveries", "total_rec_prncp", "loan_status", "total_pymnt"] {
        assert!(fr["excluded"][c].is_string(), "{c} is a feature: {}", fr["excluded"]);
    }
    assert_eq!(json(&t.join("run/deploy/check.json"))["ok"], true);
}

#[test]
fn the_ccf_model_learns_from_defaulted_cards_and_the_bundle_returns_ccf() {
    let t = TestDir::new();
    let yaml = fs_err::read_to_string(repo().join("pipelines/ccf_prediction.yaml"))
        .unwrap()
        .replace("rows: 200000", "rows: 60000");
    t.write("ccf.yaml", &yaml);
    t.run(&["run", "ccf.yaml", "--run-dir", "run"]).ok();
    let run = t.join("run");
    let m = json(&run.join("evaluate/metrics.json"));
    assert_eq!(m["target"], "realised_ccf");
    assert_eq!(m["oracle"]["column"], "true_ccf");
    // Only defaulted cards have a CCF; the EAD (its outcome) is never a feature.
    let q = json(&run.join("ingest/quality.json"));
    assert!(
        q["lgd"]["no_undrawn"].as_u64().unwrap() > 0,
        "term loans have no CCF: {q}"
    );
    let fr = json(&run.join("features/report.json"));
    assert!(
        fr["excluded"]["ead"].as_str().unwrap().contains("derived"),
        "{}",
        fr["excluded"]
    );
    assert!(
        fr["excluded"]["credit_limit"].is_null(),
        "the limit is known before default"
    );
    let sel = m["selected_model"].as_str().unwrap();
    assert!(
        m["models"][sel]["test"]["r2"].as_f64().unwrap() > 0.05,
        "{}",
        m["models"][sel]
    );
    let html = fs_err::read_to_string(run.join("evaluate/report.html")).unwrap();
    assert!(html.contains("Credit conversion factor"));
    t.run(&["synth", "loss", "--rows", "100", "--seed", "3", "--out", "book.csv"])
        .ok();
    t.run(&[
        "score",
        "--bundle",
        "run/deploy/bundle",
        "--input",
        "book.csv",
        "--output",
        "c.csv",
    ])
    .ok();
    let scored = fs_err::read_to_string(t.join("c.csv")).unwrap();
    assert!(scored.starts_with("loan_id,ccf,reason_1"), "{scored}");
    assert!(scored.contains("raises the CCF"), "{scored}");
}

/// The loss book's pipelines on `rows` generated loans: the PD pipeline run into `pd/`, and the
/// loss pipeline's text reading its bundle, with `edit` applied.
fn book_pipelines(t: &TestDir, rows: usize) -> String {
    let pd = fs_err::read_to_string(repo().join("pipelines/loss_pd.yaml"))
        .unwrap()
        .replace("rows: 200000", &format!("rows: {rows}"));
    t.write("loss_pd.yaml", &pd);
    t.run(&["run", "loss_pd.yaml", "--run-dir", "pd"]).ok();
    fs_err::read_to_string(repo().join("pipelines/loss_prediction.yaml"))
        .unwrap()
        .replace("rows: 200000", &format!("rows: {rows}"))
        .replace("../runs/loss_pd/default/deploy/bundle", "pd/deploy/bundle")
        .replace("scenarios: 20000", "scenarios: 2000")
}

#[test]
fn the_loss_book_gives_every_loan_its_el_ecl_and_rwa_and_the_bundle_returns_them() {
    let t = TestDir::new();
    let yaml = book_pipelines(&t, 20_000);
    t.write("loss.yaml", &yaml);
    t.run(&["run", "loss.yaml", "--run-dir", "run"]).ok();
    let run = t.join("run");
    let p = json(&run.join("evaluate/portfolio.json"));
    assert_eq!(p["pd_pipeline"], "loss_pd");
    let total = &p["total"];
    assert_eq!(total["loans"], 20_000);
    let (el, ecl, ead) = (
        total["el"].as_f64().unwrap(),
        total["ecl"].as_f64().unwrap(),
        total["ead"].as_f64().unwrap(),
    );
    // The fitted PD and LGD give an EL near the generator's truth on the same exposures.
    let true_el = p["true_el"].as_f64().unwrap();
    assert!((el / true_el - 1.0).abs() < 0.15, "EL {el} against the true {true_el}");
    assert!(ecl > 0.0 && ead > ecl, "{total}");
    // Stage 3 is the loans in default; their ECL is LGD x EAD, their IRB capital 0.
    let stages = &p["by_stage"];
    let defaulted = p["adjusted"]["defaulted"].as_u64().unwrap();
    assert_eq!(stages["3"]["loans"].as_u64().unwrap(), defaulted);
    assert_eq!(stages["3"]["rwa"].as_f64().unwrap(), 0.0);
    assert!(stages["2"]["loans"].as_u64().unwrap() > 0, "{stages}");
    let classes = p["by_class"].as_object().unwrap();
    assert_eq!(classes.len(), 3, "{classes:?}");
    // The simulated mean loss agrees with the analytic EL within its sampling error.
    let d = &p["loss_distribution"];
    let (mean, se) = (d["mean"].as_f64().unwrap(), d["mean_std_error"].as_f64().unwrap());
    assert!((mean - el).abs() < 4.0 * se, "mean {mean} +- {se} against EL {el}");
    let tails = d["tails"].as_array().unwrap();
    assert!(tails[1]["var"].as_f64().unwrap() > tails[0]["var"].as_f64().unwrap());
    let html = fs_err::read_to_string(run.join("evaluate/report.html")).unwrap();
    for s in [
        "Loss book",
        "ECL by IFRS 9 stage",
        "RWA by IRB exposure class",
        "VaR 99.9%",
    ] {
        assert!(html.contains(s), "report lacks `{s}`");
    }
    // The bundle embeds the PD bundle and re-scores the whole book as evaluate did.
    assert_eq!(json(&run.join("deploy/book_check.json"))["ok"], true);
    assert!(run.join("deploy/bundle/pd_model.json").is_file());
    t.run(&["synth", "loss", "--rows", "300", "--seed", "8", "--out", "book.csv"])
        .ok();
    t.run(&[
        "score",
        "--bundle",
        "run/deploy/bundle",
        "--input",
        "book.csv",
        "--output",
        "out.csv",
    ])
    .ok();
    let scored = fs_err::read_to_string(t.join("out.csv")).unwrap();
    assert_eq!(
        scored.lines().next().unwrap(),
        "loan_id,lgd,pd,ead,el,stage,ecl,rwa,reason_1,reason_2,reason_3"
    );
    assert_eq!(scored.lines().count(), 301);
    // Byte for byte on a rerun.
    t.run(&["verify", "run"]).ok();

    // A transition matrix, corporate exposures past the maturity cap and a high PD floor: the
    // adjustments are counted.
    let variant = yaml
        .replace(
            "ifrs9: { sicr_ratio: 2.0, backstop_days: 30, default_days: 90 }",
            "ifrs9:\n      transition_matrix:\n        ratings: [A, B, C, D]\n        rows: [[0.97, 0.025, 0.004, 0.001], [0.03, 0.92, 0.04, 0.01], [0.01, 0.07, 0.80, 0.12], [0, 0, 0, 1]]",
        )
        .replace("personal: other_retail", "personal: corporate")
        .replace("pd_floor: 0.0003", "pd_floor: 0.01\n      maturity: 7");
    t.write("variant.yaml", &variant);
    t.run(&["run", "variant.yaml", "--run-dir", "variant"]).ok();
    let v = json(&t.join("variant/evaluate/portfolio.json"));
    let corporate = v["by_class"]["corporate"]["loans"].as_u64().unwrap();
    assert_eq!(v["adjusted"]["maturity_capped"].as_u64().unwrap(), corporate);
    assert!(v["adjusted"]["pd_floored"].as_u64().unwrap() > 0, "{}", v["adjusted"]);
    assert!(v["settings"].to_string().contains("4-rating transition matrix"));
    assert_ne!(v["total"]["ecl"], p["total"]["ecl"]);
}

#[test]
fn bad_loss_book_input_is_a_user_error_naming_the_key() {
    let t = TestDir::new();
    let yaml = book_pipelines(&t, 5_000);
    // A transition matrix whose row does not sum to 1, and a book without its PD bundle.
    let bad = yaml.replace(
        "ifrs9: { sicr_ratio: 2.0, backstop_days: 30, default_days: 90 }",
        "ifrs9: { transition_matrix: { ratings: [A, D], rows: [[0.9, 0.2], [0, 1]] } }",
    );
    t.write("bad.yaml", &bad);
    t.run(&["run", "bad.yaml", "--run-dir", "bad"])
        .fails(2, &["loss.book.ifrs9.transition_matrix", "row `A` sums to 1.1"]);
    assert!(!t.join("bad").exists(), "nothing is written for a bad pipeline file");
    t.write("nopd.yaml", &yaml.replace("  pd_bundle: pd/deploy/bundle", ""));
    t.run(&["validate", "nopd.yaml"])
        .fails(2, &["loss.pd_bundle", "needs the credit bundle"]);
    // The PD bundle must give a PD: an LGD bundle is refused, naming the key and its pipeline.
    t.write("ok.yaml", &yaml);
    t.run(&["run", "ok.yaml", "--run-dir", "lgd"]).ok();
    t.write(
        "lgd_as_pd.yaml",
        &yaml
            .replace("pd/deploy/bundle", "lgd/deploy/bundle")
            .replace("name: loss_prediction", "name: again"),
    );
    t.run(&["run", "lgd_as_pd.yaml", "--run-dir", "again"])
        .fails(2, &["loss.pd_bundle", "not a PD", "loss_prediction"]);
    assert!(!t.join("again/evaluate/portfolio.json").exists());
    // A PD bundle reading a column the data lacks.
    t.write("elsewhere.yaml", &yaml.replace("pd/deploy/bundle", "missing/bundle"));
    t.run(&["run", "elsewhere.yaml", "--run-dir", "elsewhere"])
        .fails(2, &["loss.pd_bundle", "missing/bundle"]);
}

#[test]
fn train_weight_weighs_the_lgd_fits_by_exposure_and_bad_weights_are_user_errors() {
    let t = TestDir::new();
    let yaml = without_book(&fs_err::read_to_string(repo().join("pipelines/loss_prediction.yaml")).unwrap())
        .replace("rows: 200000", "rows: 20000");
    let weighted = yaml.replace("train:\n  cv_folds: 5", "train:\n  cv_folds: 5\n  weight: ead");
    assert_ne!(weighted, yaml, "the pipeline's train section moved");
    t.write("plain.yaml", &yaml);
    t.write("weighted.yaml", &weighted);
    t.run(&["run", "plain.yaml", "--run-dir", "plain"]).ok();
    t.run(&["run", "weighted.yaml", "--run-dir", "weighted"]).ok();
    // The matrices carry the weights; every fit reads them, so the models differ.
    let m = riskpipe_core::io::read_parquet(&t.join("weighted/features/train.parquet")).unwrap();
    let w = m.number(riskpipe_core::names::WEIGHT).expect("weight column");
    assert!(w.iter().all(|v| *v > 0.0));
    let features = json(&t.join("weighted/features/transform.json"))["raw_features"].to_string();
    assert!(!features.contains("__weight"), "{features}");
    for family in ["linear", "boosting", "two_stage"] {
        let (a, b) = (
            fs_err::read(t.join(format!("plain/train/{family}.json"))).unwrap(),
            fs_err::read(t.join(format!("weighted/train/{family}.json"))).unwrap(),
        );
        assert_ne!(a, b, "{family} is the same fitted with weights");
    }
    t.run(&["verify", "weighted"]).ok();
    // A weight column that is not a number, and a family that takes no weights.
    t.write(
        "text.yaml",
        &yaml.replace("train:\n  cv_folds: 5", "train:\n  cv_folds: 5\n  weight: region"),
    );
    t.run(&["run", "text.yaml", "--run-dir", "text"])
        .fails(2, &["train.weight", "`region` is not a numeric column"]);
    t.write(
        "mlp.yaml",
        "version: 1\nname: m\ntask: credit_scoring\ndata:\n  synth: loans\n  rows: 500\n  target: default_flag\ntrain:\n  weight: income\n  models:\n    mlp: {}\n",
    );
    t.run(&["validate", "mlp.yaml"])
        .fails(2, &["train.models.mlp", "does not fit with row weights"]);
}

#[test]
fn train_stratify_stratifies_the_folds_on_a_flag_and_refuses_other_columns() {
    let t = TestDir::new();
    let mut csv = String::from("loan_id,income,region,secured,default_flag,ead,recovered\n");
    for i in 0..900 {
        let income = 20_000.0 + 137.0 * (i % 101) as f64;
        let secured = u8::from(i % 7 < 2);
        let recovered = if secured == 1 {
            700.0
        } else {
            100.0 + (i % 13) as f64 * 20.0
        };
        csv.push_str(&format!("L{i},{income},n,{secured},1,1000,{recovered}\n"));
    }
    t.write("book.csv", &csv);
    let plain = pipeline("");
    let stratified = plain.replace("train:\n  models:", "train:\n  stratify: secured\n  models:");
    assert_ne!(plain, stratified);
    t.write("plain.yaml", &plain);
    t.write("strat.yaml", &stratified);
    t.run(&["run", "plain.yaml", "--run-dir", "plain"]).ok();
    t.run(&["run", "strat.yaml", "--run-dir", "strat"]).ok();
    // Other folds, other fold scores.
    assert_ne!(
        json(&t.join("plain/train/cv.json")),
        json(&t.join("strat/train/cv.json"))
    );
    let m = riskpipe_core::io::read_parquet(&t.join("strat/features/train.parquet")).unwrap();
    assert!(m.number(riskpipe_core::names::STRATUM).is_some());
    t.write(
        "bad.yaml",
        &plain.replace("train:\n  models:", "train:\n  stratify: income\n  models:"),
    );
    t.run(&["run", "bad.yaml", "--run-dir", "bad"])
        .fails(2, &["income", "is not 0 or 1"]);
    t.write(
        "credit.yaml",
        "version: 1\nname: c\ntask: credit_scoring\ndata:\n  synth: loans\n  rows: 500\n  target: default_flag\ntrain:\n  stratify: default_flag\n",
    );
    t.run(&["validate", "credit.yaml"])
        .fails(2, &["train.stratify", "continuous target"]);
}
