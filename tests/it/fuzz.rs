//! Random CSV files, headers and cells through ingest -> privacy -> features and through
//! `score`: whatever the input, the result is success or a user error (exit 2), never a panic
//! or an internal error. The stages run in process (10,000 files each); a smaller sample goes
//! through the real binary to check exit codes and that the panic hook is never reached.

use std::path::Path;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

use riskpipe_core::stage::StageInputs;
use riskpipe_core::{ErrorClass, Result};

use crate::util::{TestDir, small_pipeline};

/// Column names that collide with every name riskpipe generates, and other awkward ones.
const NAMES: [&str; 24] = [
    "y",
    "x",
    "id",
    "source_row",
    "row",
    "split",
    "woe_x",
    "x__missing",
    "woe_",
    "__missing",
    "pd",
    "score",
    "reason_1",
    "p_logistic",
    "pd_calibrated",
    "",
    " ",
    "收入",
    "naïve",
    "a,b",
    "q\"uote",
    "unnamed_0",
    "Y",
    "x ",
];

/// Cells: numbers at the float limits, tokens of missing and infinite values, dates, text.
const CELLS: [&str; 28] = [
    "0",
    "1",
    "1",
    "0",
    "-1",
    "2.5",
    "1e308",
    "-1e308",
    "1.7976931348623157e308",
    "5e-324",
    "-0",
    "inf",
    "-inf",
    "NaN",
    "nan",
    "",
    "NA",
    "null",
    "2024-02-29",
    "2023-02-29",
    "1999-12-31",
    "abc",
    "ÿ€😀",
    "a,b",
    "\"quoted\"",
    " 7 ",
    "0x10",
    "1_000",
];

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => prop::sample::select(&NAMES[..]).prop_map(str::to_string),
        1 => "[a-z_]{1,8}",
        1 => "\\PC{0,12}",
        1 => Just("n".repeat(300)),
    ]
}

fn cell() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => prop::sample::select(&CELLS[..]).prop_map(str::to_string),
        4 => (-1e6f64..1e6).prop_map(|v| v.to_string()),
        1 => "\\PC{0,10}",
        1 => Just("z".repeat(500)),
    ]
}

/// A CSV text: a header of 1-6 names and 0-60 rows of cells (a few rows of another width).
fn csv_text() -> impl Strategy<Value = String> {
    (prop::collection::vec(name(), 1..6), 0usize..60, any::<u64>())
        .prop_flat_map(|(mut names, rows, seed)| {
            if seed % 4 != 0 {
                names.push("y".into()); // usually a target
            }
            let width = names.len();
            let cells = prop::collection::vec(
                prop::collection::vec(cell(), if seed % 13 == 0 { 1..width + 2 } else { width..width + 1 }),
                rows,
            );
            (Just(names), cells)
        })
        .prop_map(|(names, rows)| {
            let mut w = csv::WriterBuilder::new().flexible(true).from_writer(Vec::new());
            w.write_record(&names).expect("header");
            for r in rows {
                w.write_record(&r).expect("row");
            }
            String::from_utf8(w.into_inner().expect("flush")).expect("utf-8")
        })
}

/// A result must be success or a user error.
fn user_or_ok<T>(r: Result<T>, what: &str, text: &str) -> std::result::Result<(), TestCaseError> {
    match r {
        Ok(_) => Ok(()),
        Err(e) if e.class() == ErrorClass::User => Ok(()),
        Err(e) => Err(TestCaseError::fail(format!("{what}: internal error {e} on\n{text}"))),
    }
}

/// ingest -> privacy -> features on `text`, in process.
fn stages(dir: &Path, text: &str) -> std::result::Result<(), TestCaseError> {
    let data = dir.join("d.csv");
    fs_err::write(&data, text).expect("write");
    let run = dir.join("run");
    let _ = fs_err::remove_dir_all(&run);
    let ingest = riskpipe_ingest::IngestConfig {
        path: Some("d.csv".into()),
        target: Some("y".into()),
        id: text.starts_with("id,").then(|| "id".into()),
        ..Default::default()
    }
    .resolve("p.yaml", dir, 1, riskpipe_core::Target::Binary, None);
    let Ok(ingest) = ingest else {
        return Ok(()); // refused as configuration: a user error
    };
    let inputs = StageInputs::at(run.clone());
    let steps: [(&str, &dyn Fn(&Path) -> Result<riskpipe_core::stage::StageReport>); 3] = [
        ("ingest", &|o| riskpipe_ingest::run(&ingest, &inputs, o)),
        ("privacy", &|o| {
            let p = riskpipe_privacy::PrivacyConfig::default()
                .resolve("p.yaml", "fuzz")
                .map_err(|mut e| e.remove(0))?;
            riskpipe_privacy::run(&p, &inputs, o)
        }),
        ("features", &|o| {
            let p = riskpipe_features::FeaturesConfig::default()
                .resolve("p.yaml", 1)
                .map_err(|mut e| e.remove(0))?;
            riskpipe_features::run(&p, &inputs, o)
        }),
    ];
    for (stage, step) in steps {
        let out = run.join(stage);
        let r = step(&out);
        let failed = r.is_err();
        user_or_ok(r, stage, text)?;
        if failed {
            break;
        }
    }
    Ok(())
}

#[test]
fn random_csv_files_through_ingest_and_features_never_panic() {
    let t = TestDir::new();
    let mut runner = TestRunner::new(Config {
        cases: 10_000,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&csv_text(), |text| stages(t.path(), &text))
        .unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn random_applications_through_score_never_panic() {
    let t = TestDir::new();
    t.write("p.yaml", &small_pipeline(1500, ""));
    t.run(&["run", "p.yaml", "--run-dir", "run"]).ok();
    let scorer = riskpipe_deploy::Scorer::load(&t.join("run/deploy/bundle")).expect("bundle");
    let inputs: Vec<String> = scorer.info.inputs.iter().map(|c| c.name.clone()).collect();
    // Headers: the bundle's inputs (some left out or repeated) among random names; cells random.
    let header = (
        prop::collection::vec(name(), 0..4),
        prop::collection::vec(any::<bool>(), inputs.len()),
    )
        .prop_map(move |(extra, keep)| {
            let mut h: Vec<String> = inputs
                .iter()
                .zip(&keep)
                .filter(|(_, k)| **k || keep.iter().filter(|k| **k).count() > 1)
                .map(|(n, _)| n.clone())
                .collect();
            h.extend(extra);
            h
        });
    let case = (header, 0usize..40).prop_flat_map(|(h, rows)| {
        let w = h.len().max(1);
        (
            Just(h),
            prop::collection::vec(prop::collection::vec(cell(), w..w + 1), rows),
        )
    });
    let mut runner = TestRunner::new(Config {
        cases: 10_000,
        failure_persistence: None,
        ..Config::default()
    });
    let input = t.join("apps.csv");
    let output = t.join("scores.parquet");
    runner
        .run(&case, |(h, rows)| {
            let mut w = csv::WriterBuilder::new().flexible(true).from_writer(Vec::new());
            w.write_record(&h).expect("header");
            for r in &rows {
                w.write_record(r).expect("row");
            }
            let text = String::from_utf8(w.into_inner().expect("flush")).expect("utf-8");
            fs_err::write(&input, &text).expect("write");
            let r = riskpipe_deploy::score_file(&scorer, &input, &output);
            let ok = r.is_ok();
            user_or_ok(r, "score", &text)?;
            prop_assert_eq!(
                ok,
                output.exists(),
                "an output file after an error, or none after success"
            );
            let _ = fs_err::remove_file(&output);
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn random_csv_files_through_the_binary_exit_0_or_2() {
    let t = TestDir::new();
    t.write(
        "p.yaml",
        "version: 1\nname: fuzz\ntask: credit_scoring\ndata: { path: d.csv, target: y }\n",
    );
    let mut runner = TestRunner::new(Config {
        cases: 150,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&csv_text(), |text| {
            fs_err::write(t.join("d.csv"), &text).expect("write");
            let _ = fs_err::remove_dir_all(t.join("run"));
            for stage in ["ingest", "privacy", "features"] {
                let r = t.run(&["run", "p.yaml", "--run-dir", "run", "--stage", stage]);
                prop_assert!(
                    r.code == 0 || r.code == 2,
                    "stage {stage} exited {} on\n{text}\n{}",
                    r.code,
                    r.stderr
                );
                prop_assert!(!r.stderr.contains("internal error"), "{}", r.stderr);
                if r.code != 0 {
                    break;
                }
            }
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{e}"));
}
