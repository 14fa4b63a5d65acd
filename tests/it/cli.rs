//! The other commands: synth, score, validate, dag.

use crate::util::{TestDir, repo, small_pipeline};

#[test]
fn synth_accounts_writes_the_label_and_kinds_and_repeats_to_the_byte() {
    let t = TestDir::new();
    let make = |seed: &str, out: &str| {
        t.run(&[
            "synth",
            "accounts",
            "--rows",
            "3000",
            "--seed",
            seed,
            "--anomaly-rate",
            "0.05",
            "--out",
            out,
        ])
        .ok();
    };
    make("4", "a.parquet");
    make("4", "b.parquet");
    make("5", "c.parquet");
    let read = |n: &str| fs_err::read(t.join(n)).unwrap();
    assert_eq!(read("a.parquet"), read("b.parquet"));
    assert_eq!(read("a.truth.parquet"), read("b.truth.parquet"));
    assert_ne!(read("a.parquet"), read("c.parquet"));
    make("4", "a.csv");
    let data = fs_err::read_to_string(t.join("a.csv")).unwrap();
    let truth = fs_err::read_to_string(t.join("a.truth.csv")).unwrap();
    assert!(data.lines().next().unwrap().ends_with(",is_anomaly"));
    // Every planted row is labelled, and every kind is planted.
    let planted = data.lines().skip(1).filter(|l| l.ends_with(",1")).count();
    let kinds: Vec<&str> = truth.lines().skip(1).map(|l| l.rsplit(',').next().unwrap()).collect();
    assert_eq!(planted, kinds.iter().filter(|k| **k != "normal").count());
    for k in ["global", "cluster", "dependency", "duplicate"] {
        assert!(kinds.contains(&k), "no {k}");
    }
    t.run(&["synth", "accounts", "--anomaly-rate", "0.7", "--out", "d.csv"])
        .fails(2, &["--anomaly-rate", "between 0 and 0.5"]);
    assert!(!t.join("d.csv").exists());
}

#[test]
fn synth_loss_writes_exposures_recoveries_and_the_truth_and_repeats_to_the_byte() {
    let t = TestDir::new();
    let make = |seed: &str, out: &str| {
        t.run(&["synth", "loss", "--rows", "4000", "--seed", seed, "--out", out])
            .ok();
    };
    make("2", "a.parquet");
    make("2", "b.parquet");
    make("3", "c.parquet");
    let read = |n: &str| fs_err::read(t.join(n)).unwrap();
    assert_eq!(read("a.parquet"), read("b.parquet"));
    assert_eq!(read("a.truth.parquet"), read("b.truth.parquet"));
    assert_ne!(read("a.parquet"), read("c.parquet"));
    let data = riskpipe_core::io::read_parquet(&t.join("a.parquet")).unwrap();
    let truth = riskpipe_core::io::read_parquet(&t.join("a.truth.parquet")).unwrap();
    assert_eq!(
        truth.names(),
        ["loan_id", "true_pd", "true_lgd", "true_ead", "true_ccf", "cured"]
    );
    assert!(data.get("cured").is_none(), "a cure is an outcome: truth only");
    let flag = data.number("default_flag").unwrap();
    let ead = data.number("ead").unwrap();
    let limit = data.number("credit_limit").unwrap();
    let drawn = data.number("drawn").unwrap();
    let defaults = flag.iter().filter(|f| **f == 1.0).count();
    assert!(defaults > 100, "{defaults}");
    for i in 0..data.rows() {
        // EAD exists exactly for defaulted loans; a card's lies between drawn and limit.
        assert_eq!(ead[i].is_nan(), flag[i] == 0.0, "row {i}");
        if flag[i] == 1.0 && !limit[i].is_nan() {
            assert!(ead[i] >= drawn[i] - 0.01 && ead[i] <= limit[i] + 0.01, "row {i}");
        }
    }
    t.run(&["synth", "loss", "--rows", "0", "--out", "d.csv"])
        .fails(2, &["--rows"]);
    assert!(!t.join("d.csv").exists());
}

#[test]
fn synth_same_seed_same_bytes() {
    let t = TestDir::new();
    for ext in ["csv", "parquet"] {
        t.run(&[
            "synth",
            "loans",
            "--rows",
            "800",
            "--seed",
            "9",
            "--out",
            &format!("a.{ext}"),
        ])
        .ok();
        t.run(&[
            "synth",
            "loans",
            "--rows",
            "800",
            "--seed",
            "9",
            "--out",
            &format!("b.{ext}"),
        ])
        .ok();
        t.run(&[
            "synth",
            "loans",
            "--rows",
            "800",
            "--seed",
            "10",
            "--out",
            &format!("c.{ext}"),
        ])
        .ok();
        let read = |n: &str| fs_err::read(t.join(n)).unwrap();
        assert_eq!(read(&format!("a.{ext}")), read(&format!("b.{ext}")));
        assert_ne!(read(&format!("a.{ext}")), read(&format!("c.{ext}")));
        assert!(t.join(format!("a.truth.{ext}")).exists());
    }
    let csv = fs_err::read_to_string(t.join("a.csv")).unwrap();
    let header = csv.lines().next().unwrap();
    for c in [
        "id",
        "name",
        "national_id",
        "email",
        "phone",
        "date_of_birth",
        "postcode",
        "income",
        "default_flag",
    ] {
        assert!(header.split(',').any(|h| h == c), "no column {c}");
    }
    assert_eq!(csv.lines().count(), 801);
}

#[test]
fn score_streams_csv_and_parquet_with_the_same_results() {
    let t = TestDir::new();
    t.write("p.yaml", &small_pipeline(4000, ""));
    t.run(&["run", "p.yaml", "--run-dir", "run"]).ok();
    t.run(&["synth", "loans", "--rows", "2500", "--seed", "99", "--out", "new.csv"])
        .ok();
    t.run(&[
        "synth",
        "loans",
        "--rows",
        "2500",
        "--seed",
        "99",
        "--out",
        "new.parquet",
    ])
    .ok();
    t.run(&[
        "score",
        "--bundle",
        "run/deploy/bundle",
        "--input",
        "new.csv",
        "--output",
        "a.csv",
    ])
    .ok();
    t.run(&[
        "score",
        "--bundle",
        "run/deploy/bundle",
        "--input",
        "new.parquet",
        "--output",
        "b.parquet",
    ])
    .ok();
    // Small batches: the same output as one batch.
    t.run_env(
        &[
            "score",
            "--bundle",
            "run/deploy/bundle",
            "--input",
            "new.csv",
            "--output",
            "c.csv",
        ],
        &[("RISKPIPE_BATCH_ROWS", Some("300"))],
    )
    .ok();
    assert_eq!(
        fs_err::read(t.join("a.csv")).unwrap(),
        fs_err::read(t.join("c.csv")).unwrap()
    );
    let b = riskpipe_core::io::read_parquet(&t.join("b.parquet")).unwrap();
    assert_eq!(b.rows(), 2500);
    assert_eq!(b.names()[..4], ["id", "pd", "score", "reason_1"].map(String::from));
    let a = fs_err::read_to_string(t.join("a.csv")).unwrap();
    let lines: Vec<&str> = a.lines().collect();
    assert_eq!(lines.len(), 2501);
    assert!(lines[0].starts_with("id,pd,score,reason_1,reason_2,reason_3"));
    let pd_b = b.number("pd").unwrap();
    for (i, l) in lines[1..].iter().enumerate().step_by(97) {
        let pd: f64 = l.split(',').nth(1).unwrap().parse().unwrap();
        assert!((pd - pd_b[i]).abs() < 1e-12);
        assert!((0.0..=1.0).contains(&pd));
    }
    // Higher PD, lower score.
    let s = b.number("score").unwrap();
    let (lo, hi) = (0..2500).fold((0, 0), |acc, i| {
        if pd_b[i] < pd_b[acc.0] {
            (i, acc.1)
        } else if pd_b[i] > pd_b[acc.1] {
            (acc.0, i)
        } else {
            acc
        }
    });
    assert!(s[lo] > s[hi]);
    // Reason codes name a feature and its bin.
    assert!(lines[1].contains(" in [") || lines[1].contains(" = "), "{}", lines[1]);
}

#[test]
fn score_input_missing_a_column_is_a_user_error() {
    let t = TestDir::new();
    t.write("p.yaml", &small_pipeline(2000, ""));
    t.run(&["run", "p.yaml", "--run-dir", "run"]).ok();
    t.write("bad.csv", "id,age\nA1,40\n");
    t.run(&[
        "score",
        "--bundle",
        "run/deploy/bundle",
        "--input",
        "bad.csv",
        "--output",
        "o.csv",
    ])
    .fails(2, &["bad.csv", "has no column", "the bundle needs it"]);
    assert!(!t.join("o.csv").exists());
    t.run(&[
        "score", "--bundle", "nowhere", "--input", "bad.csv", "--output", "o.csv",
    ])
    .fails(2, &["bundle.json"]);
    // A bad value mid-file: named by row and column, and no output file.
    t.run(&["synth", "loans", "--rows", "50", "--seed", "1", "--out", "n.csv"])
        .ok();
    let text = fs_err::read_to_string(t.join("n.csv")).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let col = lines[0].split(',').position(|h| h == "age").unwrap();
    let mut f: Vec<String> = lines[10].split(',').map(String::from).collect();
    f[col] = "old".into();
    lines[10] = f.join(",");
    t.write("n.csv", &(lines.join("\n") + "\n"));
    t.run(&[
        "score",
        "--bundle",
        "run/deploy/bundle",
        "--input",
        "n.csv",
        "--output",
        "o.csv",
    ])
    .fails(2, &["row 10", "`age`", "`old`"]);
    assert!(!t.join("o.csv").exists());
}

#[test]
fn validate_every_pipeline_file() {
    let t = TestDir::new();
    let mut n = 0;
    for e in fs_err::read_dir(repo().join("pipelines")).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "yaml") {
            let r = t.run(&["validate", p.to_str().unwrap()]).ok();
            assert!(r.stdout.contains(": ok"));
            n += 1;
        }
    }
    assert!(n >= 1);
}

#[test]
fn airflow_dag_parses_and_has_one_task_per_stage_in_order() {
    let t = TestDir::new();
    t.write("p.yaml", &small_pipeline(100, ""));
    t.run(&[
        "dag",
        "p.yaml",
        "--airflow",
        "--out",
        "dag.py",
        "--run-dir",
        "/data/runs/x",
    ])
    .ok();
    let py = fs_err::read_to_string(t.join("dag.py")).unwrap();
    let check = r#"
import ast, sys
src = open(sys.argv[1]).read()
tree = ast.parse(src)
tasks = [kw.value.value for node in ast.walk(tree) if isinstance(node, ast.Call)
         for kw in node.keywords if kw.arg == "task_id"]
print(",".join(tasks))
"#;
    let out = std::process::Command::new("python3")
        .args(["-c", check, t.join("dag.py").to_str().unwrap()])
        .output()
        .expect("python3");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "ingest,privacy,features,train,evaluate,deploy"
    );
    assert!(py.contains("ingest >> privacy >> features >> train >> evaluate >> deploy"));
    assert!(py.contains("--stage deploy") && py.contains("/data/runs/x"));
}

#[test]
fn scorecard_sql_gives_the_same_points_in_sqlite() {
    use riskpipe_core::Column;
    let t = TestDir::new();
    // Missing incomes in the test rows exercise the missing-value path of the SQL; 0 declared
    // special (many rows have no delinquencies, utilisation 0, ...) exercises the special bins.
    t.write(
        "p.yaml",
        &small_pipeline(4000, "  select: logistic\n").replace(
            "  exclude: [application_date]\n",
            "  exclude: [application_date]\n  binning:\n    special_values: [0]\n",
        ),
    );
    t.run(&["run", "p.yaml", "--run-dir", "run"]).ok();
    // One policy at fit and at transform: every training row with the special value carries
    // its special bin's WoE, and every missing row the missing bin's.
    let transform: serde_json::Value =
        serde_json::from_slice(&fs_err::read(t.join("run/features/transform.json")).unwrap()).unwrap();
    let masked = riskpipe_core::io::read_parquet(&t.join("run/privacy/data.parquet")).unwrap();
    let train = riskpipe_core::io::read_parquet(&t.join("run/features/train.parquet")).unwrap();
    let ids = masked.get("id").unwrap();
    let row_of: std::collections::BTreeMap<String, usize> =
        (0..masked.rows()).map(|i| (ids.display(i).unwrap(), i)).collect();
    let train_rows: Vec<usize> = (0..train.rows())
        .map(|i| row_of[&train.get("row").unwrap().display(i).unwrap()])
        .collect();
    let mut special_rows = 0;
    for f in transform["features"].as_array().unwrap() {
        let name = f["name"].as_str().unwrap();
        let Some(sp) = f["binning"]["specials"].as_array() else {
            continue;
        };
        let Some(woe0) = sp[0]["bin"]["woe"].as_f64() else {
            continue;
        };
        let raw = masked.number(name).unwrap();
        let woe = train.number(&format!("woe_{name}")).unwrap();
        for (i, &r) in train_rows.iter().enumerate() {
            if raw[r] == 0.0 {
                assert_eq!(woe[i], woe0, "{name}: train row {i} is special");
                special_rows += 1;
            } else if raw[r].is_nan() {
                assert_eq!(Some(woe[i]), f["binning"]["missing"]["woe"].as_f64(), "{name}: row {i}");
            }
        }
    }
    assert!(special_rows > 100, "special rows: {special_rows}");
    let data = riskpipe_core::io::read_parquet(&t.join("run/privacy/data.parquet")).unwrap();
    let split = riskpipe_core::io::read_parquet(&t.join("run/features/split.parquet")).unwrap();
    let test_rows: Vec<usize> = (0..split.rows())
        .filter(|&i| split.get("split").unwrap().display(i).as_deref() == Some("test"))
        .collect();
    let data = data.take(&test_rows);
    let cols: Vec<serde_json::Value> = data
        .iter()
        .filter(|(_, c)| !matches!(c, Column::Date(_)))
        .map(|(n, c)| serde_json::json!({"name": n, "kind": if matches!(c, Column::Number(_)) { "REAL" } else { "TEXT" }}))
        .collect();
    let rows: Vec<Vec<serde_json::Value>> = (0..data.rows())
        .map(|i| {
            data.iter()
                .filter(|(_, c)| !matches!(c, Column::Date(_)))
                .map(|(_, c)| match c {
                    Column::Number(v) if v[i].is_nan() => serde_json::Value::Null,
                    Column::Number(v) => serde_json::json!(v[i]),
                    other => other
                        .display(i)
                        .map_or(serde_json::Value::Null, serde_json::Value::String),
                })
                .collect()
        })
        .collect();
    fs_err::write(
        t.join("rows.json"),
        serde_json::to_vec(&serde_json::json!({"columns": cols, "rows": rows})).unwrap(),
    )
    .unwrap();
    let script = r#"
import json, sqlite3, sys
d = json.load(open(sys.argv[1])); sql = open(sys.argv[2]).read()
db = sqlite3.connect(":memory:")
db.execute("CREATE TABLE applications (" + ", ".join('"%s" %s' % (c["name"], c["kind"]) for c in d["columns"]) + ")")
db.executemany("INSERT INTO applications VALUES (" + ", ".join("?" for _ in d["columns"]) + ")", d["rows"])
print(json.dumps([r[0] for r in db.execute("SELECT " + sql + " AS score FROM applications ORDER BY rowid")]))
"#;
    let out = std::process::Command::new("python3")
        .args([
            "-c",
            script,
            t.join("rows.json").to_str().unwrap(),
            t.join("run/deploy/bundle/scorecard.sql").to_str().unwrap(),
        ])
        .output()
        .expect("python3");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let sql_scores: Vec<f64> = serde_json::from_slice(&out.stdout).unwrap();
    let scored = riskpipe_core::io::read_parquet(&t.join("run/deploy/test_scores.parquet")).unwrap();
    let points = scored.number("score").unwrap();
    assert_eq!(sql_scores.len(), points.len());
    for (i, (a, b)) in sql_scores.iter().zip(points).enumerate() {
        assert_eq!(a, b, "row {i}: SQL gives {a}, riskpipe gives {b}");
    }
    // The test rows include missing and special values, so both paths were exercised.
    assert!(data.get("income").unwrap().missing() > 0);
    assert!(
        data.number("delinquencies")
            .unwrap()
            .iter()
            .filter(|v| **v == 0.0)
            .count()
            > 100
    );
    let sql = fs_err::read_to_string(t.join("run/deploy/bundle/scorecard.sql")).unwrap();
    assert!(sql.contains("\"delinquencies\" = 0.0 THEN"), "{sql}");
}

/// Bulk scoring reads, scores and writes on separate threads, a group of batches at a time:
/// small Parquet batches give the bits of one batch, `--no-reasons` the same PDs and scores as
/// with reasons, and a bad value in a late batch fails the run naming its row, leaving no file.
#[test]
fn parallel_batches_score_in_order_and_a_late_bad_row_leaves_nothing() {
    let t = TestDir::new();
    t.write("p.yaml", &small_pipeline(2000, ""));
    t.run(&["run", "p.yaml", "--run-dir", "run"]).ok();
    t.run(&[
        "synth",
        "loans",
        "--rows",
        "2500",
        "--seed",
        "5",
        "--out",
        "new.parquet",
    ])
    .ok();
    let score = |input: &str, output: &str, extra: &[&str], batch: &str| {
        let mut args = vec![
            "score",
            "--bundle",
            "run/deploy/bundle",
            "--input",
            input,
            "--output",
            output,
        ];
        args.extend_from_slice(extra);
        t.run_env(&args, &[("RISKPIPE_BATCH_ROWS", Some(batch))])
    };
    score("new.parquet", "one.parquet", &[], "100000").ok();
    score("new.parquet", "many.parquet", &[], "300").ok();
    score("new.parquet", "bare.parquet", &["--no-reasons"], "300").ok();
    let one = riskpipe_core::io::read_parquet(&t.join("one.parquet")).unwrap();
    let many = riskpipe_core::io::read_parquet(&t.join("many.parquet")).unwrap();
    let bare = riskpipe_core::io::read_parquet(&t.join("bare.parquet")).unwrap();
    assert_eq!(one, many);
    assert_eq!(bare.names(), ["id", "pd", "score"]);
    for name in ["id", "pd", "score"] {
        assert_eq!(bare.get(name), one.get(name), "{name}");
    }
    let mut raw = riskpipe_core::io::read_parquet(&t.join("new.parquet")).unwrap();
    let mut income = raw.number("income").unwrap().to_vec();
    income[1999] = f64::INFINITY;
    raw.replace("income", riskpipe_core::Column::Number(income));
    riskpipe_core::io::write_parquet(&t.join("bad.parquet"), &raw).unwrap();
    score("bad.parquet", "out.parquet", &[], "300").fails(2, &["bad.parquet", "row 2000", "income"]);
    assert!(!t.join("out.parquet").exists());
    let leftovers: Vec<_> = fs_err::read_dir(t.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains(".tmp-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}
