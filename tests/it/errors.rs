//! Bad input: exit 2, a message that names the culprit, and no half-written stage folder.

use crate::util::TestDir;

fn csv_pipeline(extra: &str) -> String {
    format!("version: 1\nname: bad\ntask: credit_scoring\ndata:\n  path: d.csv\n  target: y\n{extra}")
}

/// Runs the pipeline on `csv` and expects exit 2 with `needles`, and no ingest output.
fn expect_bad(csv: Option<&str>, yaml: &str, needles: &[&str]) {
    let t = TestDir::new();
    if let Some(c) = csv {
        t.write("d.csv", c);
    }
    t.write("p.yaml", yaml);
    t.run(&["run", "p.yaml", "--run-dir", "run"]).fails(2, needles);
    assert!(!t.join("run/ingest").exists(), "a stage folder was written");
    if t.join("run").exists() {
        let left: Vec<_> = fs_err::read_dir(t.join("run")).unwrap().collect();
        assert!(left.is_empty(), "leftovers in the run folder");
    }
}

fn numbers(n: usize) -> String {
    let mut s = String::from("x,y\n");
    for i in 0..n {
        s.push_str(&format!("{},{}\n", i, i % 2));
    }
    s
}

#[test]
fn missing_input_file() {
    expect_bad(None, &csv_pipeline(""), &["d.csv", "does not exist"]);
}

#[test]
fn missing_target_column() {
    expect_bad(
        Some(&numbers(50).replace("x,y", "x,z")),
        &csv_pipeline(""),
        &["no column `y`", "data.target"],
    );
}

#[test]
fn target_with_a_third_value() {
    let mut c = numbers(50);
    c.push_str("51,2\n");
    expect_bad(Some(&c), &csv_pipeline(""), &["row 51", "`y`", "`2`"]);
    // With `positive`, a third label is named too.
    let c = "x,y\n1,good\n2,bad\n3,ugly\n";
    expect_bad(
        Some(c),
        &csv_pipeline("  positive: bad\n"),
        &["third value `ugly`", "row 3"],
    );
}

#[test]
fn unknown_yaml_key_names_file_line_and_key() {
    let y = csv_pipeline("features:\n  test_fraction: 0.3\n  cv_fold: 3\n");
    expect_bad(Some(&numbers(50)), &y, &["p.yaml:9:", "cv_fold", "features"]);
}

#[test]
fn wrong_yaml_type() {
    let y = csv_pipeline("features:\n  test_fraction: lots\n");
    expect_bad(Some(&numbers(50)), &y, &["p.yaml:8:", "features.test_fraction"]);
}

#[test]
fn invalid_yaml_value_points_at_its_line() {
    let y = csv_pipeline("features:\n  test_fraction: 1.5\n");
    expect_bad(
        Some(&numbers(50)),
        &y,
        &["p.yaml:8:", "features.test_fraction", "between 0 and 1"],
    );
}

#[test]
fn csv_row_with_wrong_number_of_fields() {
    let mut c = numbers(10);
    c.push_str("1,2,3\n");
    expect_bad(
        Some(&c),
        &csv_pipeline(""),
        &["d.csv", "row 11", "3 fields", "header has 2"],
    );
}

#[test]
fn non_numeric_value_in_numeric_column() {
    let c = numbers(200).replace("\n57,1\n", "\nabc,1\n");
    expect_bad(Some(&c), &csv_pipeline(""), &["row 58", "column `x`", "`abc`"]);
    // A declared number column fails on the first bad value, whatever the share.
    let c = "x,y\n1,0\nlots,1\n";
    expect_bad(
        Some(c),
        &csv_pipeline("  schema: { x: number }\n"),
        &["row 2", "column `x`", "`lots`"],
    );
}

#[test]
fn empty_and_header_only_files() {
    expect_bad(Some(""), &csv_pipeline(""), &["d.csv", "empty"]);
    expect_bad(Some("x,y\n"), &csv_pipeline(""), &["d.csv", "no data rows"]);
}

#[test]
fn missing_pipeline_file_and_bad_version() {
    let t = TestDir::new();
    t.run(&["run", "nope.yaml"]).fails(2, &["nope.yaml", "does not exist"]);
    t.write(
        "v.yaml",
        "version: 2\nname: v\ntask: credit_scoring\ndata: { synth: loans }\n",
    );
    t.run(&["validate", "v.yaml"]).fails(2, &["v.yaml:1:", "version"]);
    t.write(
        "t.yaml",
        "version: 1\nname: v\ntask: astrology\ndata: { synth: loans }\n",
    );
    t.run(&["validate", "t.yaml"]).fails(2, &["t.yaml:3:", "astrology"]);
}

#[test]
fn bad_binning_and_selection_settings_name_their_keys() {
    let base = numbers(50);
    expect_bad(
        Some(&base),
        &csv_pipeline("features:\n  binning:\n    trend: sideways\n"),
        &["p.yaml:9", "features.binning.trend", "sideways"],
    );
    expect_bad(
        Some(&base),
        &csv_pipeline("features:\n  binning:\n    method: quantile\n    special_values: [-999]\n"),
        &["features.binning.special_values", "`method: optimal` only"],
    );
    expect_bad(
        Some(&base),
        &csv_pipeline("features:\n  selection:\n    max_correlation: 1.5\n    max_vif: 0.5\n"),
        &["features.selection.max_correlation", "features.selection.max_vif"],
    );
    expect_bad(
        Some(&base),
        &csv_pipeline("features:\n  selection:\n    stepwise: sideways\n"),
        &["features.selection.stepwise", "sideways", "forward"],
    );
}

#[test]
fn ranges_need_random_search() {
    expect_bad(
        Some(&numbers(50)),
        &csv_pipeline("train:\n  models:\n    logistic: { l2: { min: 0.001, max: 0.1 } }\n"),
        &["train.models.logistic.l2", "train.search: random"],
    );
    expect_bad(
        Some(&numbers(50)),
        &csv_pipeline("train:\n  draws: 5\n"),
        &["train.draws", "random"],
    );
}
