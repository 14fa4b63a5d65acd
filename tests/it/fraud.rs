//! The fraud-detection task end to end: the generated transactions, at the handbook's sizes.

use riskpipe_core::Column;

use crate::util::{TestDir, small_pipeline};

#[test]
fn generated_transactions_match_the_handbooks_volume_and_rate_and_repeat_to_the_byte() {
    let t = TestDir::new();
    let r = t.run(&["synth", "transactions", "--out", "tx.parquet"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("tx.truth.parquet"), "{}", r.stdout);
    let data = riskpipe_core::io::read_parquet(&t.join("tx.parquet")).expect("read");
    let truth = riskpipe_core::io::read_parquet(&t.join("tx.truth.parquet")).expect("read");
    // The handbook's data: 1,754,155 transactions, 0.837 % fraud (shared/data/fraud_sim_handbook).
    let n = data.rows();
    assert!((1_650_000..1_850_000).contains(&n), "{n} rows");
    assert_eq!(truth.rows(), n);
    let names: Vec<&str> = data.names().iter().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "TRANSACTION_ID",
            "TX_DATETIME",
            "CUSTOMER_ID",
            "TERMINAL_ID",
            "TX_AMOUNT",
            "TX_TIME_SECONDS",
            "TX_TIME_DAYS",
            "TX_FRAUD"
        ]
    );
    let fraud = data.number("TX_FRAUD").expect("label");
    let rate = fraud.iter().sum::<f64>() / n as f64;
    assert!((0.005..0.013).contains(&rate), "fraud rate {rate}");
    let days = data.number("TX_TIME_DAYS").expect("days");
    assert_eq!(days.last().copied(), Some(182.0));
    let scenario = truth.number("TX_FRAUD_SCENARIO").expect("scenario");
    for s in 1..=3 {
        let k = scenario.iter().filter(|&&v| v == f64::from(s)).count();
        assert!(k > 500, "scenario {s}: {k} transactions");
    }
    // The same seed gives the same bytes.
    let again = t.run(&["synth", "transactions", "--out", "again.parquet"]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(
        fs_err::read(t.join("tx.parquet")).expect("read"),
        fs_err::read(t.join("again.parquet")).expect("read")
    );
}

#[test]
fn bad_generator_arguments_are_user_errors_that_write_nothing() {
    let t = TestDir::new();
    for (args, culprit) in [
        (vec!["--days", "0", "--out", "a.parquet"], "--days"),
        (vec!["--customers", "0", "--out", "a.parquet"], "--customers"),
        (vec!["--terminals", "0", "--out", "a.parquet"], "--terminals"),
        (vec!["--days", "3", "--out", "a.txt"], "--out"),
    ] {
        let mut all = vec!["synth", "transactions"];
        all.extend(args);
        let r = t.run(&all);
        assert_eq!(r.code, 2, "{all:?}: {}", r.stderr);
        assert!(r.stderr.contains(culprit), "{all:?}: {}", r.stderr);
    }
    let left: Vec<_> = fs_err::read_dir(t.path()).expect("dir").collect();
    assert!(left.is_empty(), "{left:?}");
    // CSV works too, small.
    let r = t.run(&[
        "synth",
        "transactions",
        "--customers",
        "50",
        "--terminals",
        "100",
        "--days",
        "3",
        "--out",
        "s.csv",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(t.join("s.truth.csv").is_file());
}

/// A fraud pipeline on a small generated book (`data` and `periods` keys replaceable).
fn fraud_pipeline(data: &str, windows: &str, periods: &str) -> String {
    format!(
        r#"version: 1
name: fraud
task: fraud_detection
seed: 5
data:
{data}
  target: TX_FRAUD
  id: TRANSACTION_ID
features:
  time_column: TX_DATETIME
  exclude: [TX_TIME_SECONDS, TX_TIME_DAYS]
  cap_lower: 0
  cap_upper: 1
  windows:
    entities:
      - {{ column: CUSTOMER_ID, windows: {windows}, mean: TX_AMOUNT, ratio: true }}
      - {{ column: TERMINAL_ID, windows: [1d, 7d, 30d], risk_delay: 7d }}
  split: periods
  periods:
{periods}
    card: CUSTOMER_ID
train:
  metric: average_precision
  models:
    logistic: {{ l2: [0.001] }}
    boosting: {{ n_trees: [40], learning_rate: [0.1], max_leaves: [7] }}
evaluate:
  alert_cost: {{ review_cost: 5, amount: TX_AMOUNT }}
"#
    )
}

const SMALL_BOOK: &str = "  synth: transactions\n  customers: 300\n  terminals: 600\n  days: 80";
const PERIODS: &str =
    "    start: 2018-05-20\n    train_days: 7\n    delay_days: 7\n    test_days: 7\n    validation_folds: 4";

#[test]
fn the_fraud_pipeline_learns_from_windows_validates_over_time_and_deploys_a_scorer_of_raw_events() {
    let t = TestDir::new();
    t.write("p.yaml", &fraud_pipeline(SMALL_BOOK, "[1d, 7d, 30d]", PERIODS));
    t.run(&["run", "p.yaml", "--run-dir", "run"]).ok();
    let report: serde_json::Value =
        serde_json::from_str(&fs_err::read_to_string(t.join("run/features/report.json")).expect("report"))
            .expect("json");
    let windows = report["window_features"].as_array().expect("window features");
    assert_eq!(windows.len(), 2 + 9 + 6, "{windows:?}");
    assert!(windows.iter().any(|w| w == "TERMINAL_ID_RISK_7DAY_WINDOW"));
    assert!(windows.iter().any(|w| w == "CUSTOMER_ID_AMOUNT_RATIO_30DAY_WINDOW"));
    // Identifiers and the timestamp are never features.
    for c in ["CUSTOMER_ID", "TERMINAL_ID", "TX_DATETIME", "TRANSACTION_ID"] {
        assert!(report["excluded"][c].is_string(), "{c}: {}", report["excluded"]);
    }
    // The delay days and the blocked cards are in neither part.
    let split = riskpipe_core::io::read_parquet(&t.join("run/features/split.parquet")).expect("split");
    let Some(riskpipe_core::Column::Text(parts)) = split.get("split") else {
        panic!("no split column")
    };
    let count = |p: &str| parts.iter().filter(|v| v.as_deref() == Some(p)).count();
    assert!(count("none") > 0 && count("train") > 0 && count("test") > 0);
    assert!(
        report["periods"]["known_card_rows"].as_u64().expect("known") > 0,
        "{}",
        report["periods"]
    );
    // Training: the matrix spans 35 days of history and the 7-day window; 4 time folds.
    let train = riskpipe_core::io::read_parquet(&t.join("run/features/train.parquet")).expect("train");
    let day = train.number("__day").expect("day column");
    assert_eq!(day.iter().copied().fold(f64::MAX, f64::min), -35.0);
    assert_eq!(day.iter().copied().fold(f64::MIN, f64::max), 6.0);
    let test = riskpipe_core::io::read_parquet(&t.join("run/features/test.parquet")).expect("test");
    let tday = test.number("__day").expect("day column");
    assert!(tday.iter().all(|d| (14.0..21.0).contains(d)));
    let cv: serde_json::Value =
        serde_json::from_str(&fs_err::read_to_string(t.join("run/train/cv.json")).expect("cv")).expect("json");
    assert_eq!(
        cv["boosting"]["grid"][0]["fold_auc"].as_array().expect("folds").len(),
        4
    );
    // The settings and the model were chosen by average precision.
    let selection: serde_json::Value =
        serde_json::from_str(&fs_err::read_to_string(t.join("run/train/selection.json")).expect("selection"))
            .expect("json");
    assert_eq!(selection["metric"], "average_precision");
    // The fraud team's measures, per model and per test day, beside their ceiling.
    let metrics: serde_json::Value =
        serde_json::from_str(&fs_err::read_to_string(t.join("run/evaluate/metrics.json")).expect("metrics"))
            .expect("json");
    let f = &metrics["fraud"]["boosting"];
    assert_eq!(f["days"].as_array().expect("days").len(), 7, "{f}");
    let (cp, ceiling) = (
        f["card_precision"].as_f64().expect("cp"),
        f["ceiling"].as_f64().expect("ceiling"),
    );
    assert!(cp > 0.0 && cp <= ceiling && ceiling <= 1.0, "{cp} {ceiling}");
    assert!(f["average_precision"].as_f64().expect("ap") > 0.05, "{f}");
    // The least-cost threshold, chosen on the validation history, priced on each test day.
    let a = &f["alerts"];
    assert_eq!(
        (a["chosen_on"].as_str(), a["review_cost"].as_f64()),
        (Some("history"), Some(5.0)),
        "{a}"
    );
    let days = a["days"].as_array().expect("alert days");
    assert_eq!(days.len(), 7);
    let num = |d: &serde_json::Value, k: &str| d[k].as_f64().expect(k);
    let mut total = 0.0;
    for d in days {
        assert!(num(d, "caught") <= num(d, "frauds").min(num(d, "alerts")), "{d}");
        assert!(
            (num(d, "cost") - (5.0 * num(d, "alerts") + num(d, "missed_amount"))).abs() < 1e-6,
            "{d}"
        );
        total += num(d, "cost");
    }
    assert!((total - num(a, "cost")).abs() < 1e-6);
    assert!(num(a, "cost") < num(a, "cost_without_alerts"), "{a}");
    let html = fs_err::read_to_string(t.join("run/evaluate/report.html")).expect("report");
    assert!(html.contains("card precision@100") && html.contains("per test day"));
    assert!(html.contains("alerts at the least-cost threshold"));
    assert!(html.contains("highest mean cross-validated average precision"));
    // An amount column the matrices lack is named, and the stage's outputs stay as they were.
    let before = fs_err::read(t.join("run/evaluate/metrics.json")).expect("metrics");
    t.write(
        "bad_amount.yaml",
        &fraud_pipeline(SMALL_BOOK, "[1d, 7d, 30d]", PERIODS).replace("amount: TX_AMOUNT", "amount: TX_AMOUNTS"),
    );
    t.run(&["run", "bad_amount.yaml", "--run-dir", "run"])
        .fails(2, &["TX_AMOUNTS", "evaluate.alert_cost.amount"]);
    assert_eq!(
        fs_err::read(t.join("run/evaluate/metrics.json")).expect("metrics"),
        before
    );
    // The bundle computes the windows from raw events and matched evaluate on every test row.
    let check: serde_json::Value =
        serde_json::from_str(&fs_err::read_to_string(t.join("run/deploy/check.json")).expect("check")).expect("json");
    assert_eq!(check["ok"], true);
    let bundle: serde_json::Value =
        serde_json::from_str(&fs_err::read_to_string(t.join("run/deploy/bundle/bundle.json")).expect("bundle"))
            .expect("json");
    let inputs: Vec<&str> = bundle["inputs"]
        .as_array()
        .expect("inputs")
        .iter()
        .map(|c| c["name"].as_str().expect("name"))
        .collect();
    assert!(
        inputs.contains(&"TX_DATETIME") && inputs.contains(&"TX_FRAUD"),
        "{inputs:?}"
    );
    assert!(!inputs.iter().any(|c| c.contains("WINDOW")), "{inputs:?}");
    event_order_scoring_equals_the_batch_path(&t);
}

/// `riskpipe score` in small batches, keeping each card's and terminal's window state from
/// batch to batch, gives every row the bits the batch path (polars over the whole file) gives
/// it, and `riskpipe monitor` the same drift in small batches as in one; rows out of time order
/// are refused by row, with nothing written.
fn event_order_scoring_equals_the_batch_path(t: &TestDir) {
    t.run(&[
        "synth",
        "transactions",
        "--customers",
        "200",
        "--terminals",
        "400",
        "--days",
        "70",
        "--seed",
        "9",
        "--out",
        "tx.parquet",
    ])
    .ok();
    let bundle = t.join("run/deploy/bundle");
    let bundle = bundle.to_str().expect("utf-8");
    t.run_env(
        &[
            "score",
            "--bundle",
            bundle,
            "--input",
            "tx.parquet",
            "--output",
            "ev.parquet",
            "--no-reasons",
        ],
        &[("RISKPIPE_BATCH_ROWS", Some("997"))],
    )
    .ok();
    let scored = riskpipe_core::io::read_parquet(&t.join("ev.parquet")).expect("scores");
    let scorer = riskpipe_deploy::Scorer::load(&t.join("run/deploy/bundle")).expect("bundle");
    let raw = riskpipe_core::io::read_parquet(&t.join("tx.parquet")).expect("transactions");
    let batch = scorer.score_with(&raw, 0, "tx.parquet", false).expect("batch path");
    assert!(raw.rows() > 20_000, "{} rows", raw.rows());
    assert_eq!(scored.rows(), raw.rows());
    for name in ["TRANSACTION_ID", "pd", "score"] {
        let (a, b) = (scored.get(name).expect(name), batch.get(name).expect(name));
        let (Column::Number(a), Column::Number(b)) = (a, b) else {
            assert_eq!(a, b, "{name}");
            continue;
        };
        let differ = (0..a.len()).find(|&i| a[i].to_bits() != b[i].to_bits());
        assert_eq!(differ, None, "{name}: the first row that differs");
    }
    // Monitoring reads the events the same way: its drift figures do not depend on the batches.
    let drift = |batch: &str, out: &str| {
        t.run_env(
            &["monitor", "--bundle", bundle, "--input", "tx.parquet", "--out", out],
            &[("RISKPIPE_BATCH_ROWS", Some(batch))],
        )
        .ok();
        riskpipe_core::io::read_parquet(&t.join(out).join("drift.parquet")).expect("drift")
    };
    let (small, whole) = (drift("997", "m_small"), drift("10000000", "m_whole"));
    assert!(small.rows() > 10, "{} drift rows", small.rows());
    assert_eq!(small, whole);

    let mut order: Vec<usize> = (0..raw.rows()).collect();
    order.swap(5_000, 5_200);
    riskpipe_core::io::write_csv(&t.join("late.csv"), &raw.take(&order)).expect("csv");
    t.run_env(
        &[
            "score",
            "--bundle",
            bundle,
            "--input",
            "late.csv",
            "--output",
            "late.parquet",
        ],
        &[("RISKPIPE_BATCH_ROWS", Some("997"))],
    )
    .fails(2, &["late.csv", "row 5002", "TX_DATETIME", "time order"]);
    assert!(!t.join("late.parquet").exists());
}

/// `train.metric: card_precision`: every validation fold is judged by the mean over its days
/// of card precision@100 (a share of 100 cards, so a multiple of 0.01 per day), the settings
/// and the model are chosen by it; a pipeline without events split by periods is refused.
#[test]
fn models_can_be_chosen_by_validation_card_precision() {
    let t = TestDir::new();
    let yaml = fraud_pipeline(SMALL_BOOK, "[1d, 7d]", PERIODS)
        .replace("metric: average_precision", "metric: card_precision")
        .replace("max_leaves: [7] }", "max_leaves: [3, 7] }");
    assert!(yaml.contains("card_precision") && yaml.contains("[3, 7]"));
    t.write("p.yaml", &yaml);
    t.run(&["run", "p.yaml", "--run-dir", "run"]).ok();
    let json = |p: &str| -> serde_json::Value {
        serde_json::from_str(&fs_err::read_to_string(t.join("run").join(p)).expect(p)).expect("json")
    };
    assert_eq!(json("train/selection.json")["metric"], "card_precision");
    let cv = json("train/cv.json");
    let mut values = 0;
    for model in ["logistic", "boosting"] {
        let grid = cv[model]["grid"].as_array().expect("grid");
        for point in grid {
            let folds = point["fold_auc"].as_array().expect("folds");
            assert_eq!(folds.len(), 4);
            for v in folds {
                let v = v.as_f64().expect("a number");
                // A mean over a fold's 7 days of shares of 100 cards.
                assert!((0.0..=1.0).contains(&v), "{model}: {v}");
                assert!(((v * 700.0).round() - v * 700.0).abs() < 1e-6, "{model}: {v}");
                values += 1;
            }
        }
        let best = cv[model]["best"].as_u64().expect("best") as usize;
        let mean = |i: usize| grid[i]["mean_auc"].as_f64().expect("mean");
        assert!((0..grid.len()).all(|i| mean(i) <= mean(best)), "{model}");
    }
    assert_eq!(values, 4 * 3);
    assert_eq!(json("evaluate/metrics.json")["cv_metric"], "card_precision");
    // Without events split by periods there are no days and cards to rank.
    t.write(
        "plain.yaml",
        &small_pipeline(500, "").replace("train:\n", "train:\n  metric: card_precision\n"),
    );
    t.run(&["run", "plain.yaml", "--run-dir", "plain"])
        .fails(2, &["train.metric", "features.split: periods"]);
    assert!(!t.join("plain").exists());
}

#[test]
fn bad_fraud_settings_and_events_are_user_errors_naming_the_culprit() {
    let t = TestDir::new();
    let cases: [(&str, String, &[&str]); 5] = [
        (
            "window",
            fraud_pipeline(SMALL_BOOK, "[1d, 7x]", PERIODS),
            &["features.windows.entities[0].windows[1]", "`7x`"],
        ),
        (
            "delay",
            fraud_pipeline(SMALL_BOOK, "[1d]", &PERIODS.replace("delay_days: 7", "delay_days: 10")),
            &["features.periods.delay_days", "longer than the training period"],
        ),
        (
            "ratio",
            fraud_pipeline(SMALL_BOOK, "[1d]", PERIODS).replace("risk_delay: 7d", "risk_delay: 7d, ratio: true"),
            &["features.windows.entities[1].ratio", "applies to `mean` windows"],
        ),
        (
            "empty",
            fraud_pipeline(SMALL_BOOK, "[1d]", &PERIODS.replace("2018-05-20", "2018-06-10")),
            &["features.periods.start", "no transactions"],
        ),
        (
            "stress",
            fraud_pipeline(SMALL_BOOK, "[1d]", PERIODS)
                + "  robustness:\n    scenarios: [{ column: TX_AMOUNT, scale: 1.1 }]\n",
            &["evaluate.robustness", "features.windows", "cannot be stressed"],
        ),
    ];
    for (name, yaml, needles) in cases {
        t.write(&format!("{name}.yaml"), &yaml);
        t.run(&["run", &format!("{name}.yaml"), "--run-dir", name])
            .fails(2, needles);
        assert!(!t.join(format!("{name}/features/report.json")).exists(), "{name}");
    }
    // Events read from a file: an unreadable timestamp and a missing card name row and column.
    t.run(&[
        "synth",
        "transactions",
        "--customers",
        "200",
        "--terminals",
        "400",
        "--days",
        "60",
        "--out",
        "tx.csv",
    ])
    .ok();
    let csv = fs_err::read_to_string(t.join("tx.csv")).expect("csv");
    let mut lines: Vec<String> = csv.lines().map(str::to_string).collect();
    let head: Vec<&str> = lines[0].split(',').collect();
    let (ti, ci) = (
        head.iter().position(|c| *c == "TX_DATETIME").expect("time"),
        head.iter().position(|c| *c == "CUSTOMER_ID").expect("card"),
    );
    let edit = |lines: &[String], row: usize, col: usize, value: &str| -> String {
        let mut l = lines.to_vec();
        let mut f: Vec<String> = l[row].split(',').map(str::to_string).collect();
        f[col] = value.to_string();
        l[row] = f.join(",");
        l.join("\n") + "\n"
    };
    let from_file = "  path: events.csv";
    let periods = "    start: 2018-05-01\n    validation_folds: 1";
    for (value, col, needles) in [
        ("2018-04-31 10:00:00", ti, ["row 5", "TX_DATETIME", "not a timestamp"]),
        ("", ci, ["row 5", "CUSTOMER_ID", "missing"]),
    ] {
        t.write("events.csv", &edit(&lines, 5, col, value));
        t.write("f.yaml", &fraud_pipeline(from_file, "[1d, 7d]", periods));
        t.run(&["run", "f.yaml", "--run-dir", "f", "--force"])
            .fails(2, &needles);
        assert!(!t.join("f/features/report.json").exists());
    }
    // The events need not come in time order: each row gets the same window values and the
    // same part of the split.
    lines[1..].reverse();
    t.write("events.csv", &(lines.join("\n") + "\n"));
    t.run(&["run", "f.yaml", "--run-dir", "rev", "--stage", "ingest"]).ok();
    t.run(&["run", "f.yaml", "--run-dir", "rev", "--stage", "privacy"]).ok();
    t.run(&["run", "f.yaml", "--run-dir", "rev", "--stage", "features"])
        .ok();
    let straight = TestDir::new();
    straight.write("events.csv", &csv);
    straight.write("f.yaml", &fraud_pipeline(from_file, "[1d, 7d]", periods));
    for stage in ["ingest", "privacy", "features"] {
        straight
            .run(&["run", "f.yaml", "--run-dir", "run", "--stage", stage])
            .ok();
    }
    let by_row = |path: std::path::PathBuf| -> std::collections::BTreeMap<u64, Vec<u64>> {
        let m = riskpipe_core::io::read_parquet(&path).expect("matrix");
        let rows = m.number("row").expect("row");
        (0..m.rows())
            .map(|i| {
                let values = m
                    .iter()
                    .filter_map(|(_, c)| match c {
                        riskpipe_core::Column::Number(v) => Some(v[i].to_bits()),
                        _ => None,
                    })
                    .collect();
                (rows[i] as u64, values)
            })
            .collect()
    };
    for part in ["train", "test"] {
        let a = by_row(t.join(format!("rev/features/{part}.parquet")));
        let b = by_row(straight.join(format!("run/features/{part}.parquet")));
        assert_eq!(a.len(), b.len(), "{part}");
        assert!(a == b, "{part}: the reversed events gave other values");
    }
}
