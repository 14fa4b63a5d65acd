//! The fraud-detection task end to end: the generated transactions, at the handbook's sizes.

use crate::util::TestDir;

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
